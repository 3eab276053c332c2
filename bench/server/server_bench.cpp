// The server's ingest, end to end: a 1,000,000-file scan document (gzip) POSTed to a real
// `trustbase serve` process whose store holds a 500-signature index covering it, timed
// from the first byte sent to the 201, with the server's peak RSS (wait4's ru_maxrss,
// and VmHWM before the POST: the idle server with its index built).
//
//   server_bench --trustbase build/srv-rel/src/trustbase [--baseline OLD/trustbase]
//                [--records 1000000] [--signatures 500] [--dir DIR] [--keep]
//
// With --baseline the same upload goes first to a server built from an older tree (each
// server gets a fresh copy of the same store), so the two peaks compare like for like.
// Data is synthetic and deterministic: product_NNN/lib/module_NN/file_NNNN.so, one
// product signature per product, every file installed as signed.
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/manifest.h"
#include "core/sha256.h"
#include "format/scan_writer.h"
#include "store/sqlite_store.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kMtime = 1'704'067'200'000'000'000;
constexpr std::size_t kFilesPerModule = 100;

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "server_bench: {}\n", message);
  std::exit(2);
}

// Writes a gzip file through zlib's gzFile.
class GzSink final : public tb::ByteSink {
 public:
  explicit GzSink(const std::string& path) : gz_(gzopen(path.c_str(), "wb6")) {
    if (gz_ == nullptr) die("cannot create " + path);
  }
  ~GzSink() override { close(); }
  tb::Expected<void> write(std::string_view bytes) override {
    if (gzwrite(gz_, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
      return tb::fail(tb::ErrorCode::io, "gzwrite failed");
    raw_ += bytes.size();
    return {};
  }
  void close() {
    if (gz_ != nullptr && gzclose(gz_) != Z_OK) die("gzclose failed");
    gz_ = nullptr;
  }
  std::uint64_t raw_bytes() const { return raw_; }

 private:
  gzFile gz_;
  std::uint64_t raw_ = 0;
};

tb::FileRecord dir_record(std::string path) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::directory;
  r.present = tb::Attr::type | tb::Attr::mode | tb::Attr::uid | tb::Attr::gid | tb::Attr::mtime;
  r.mode = 0755;
  r.mtime_ns = kMtime;
  return r;
}

tb::FileRecord file_record(std::string path, std::size_t n) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::file;
  r.present = tb::Attr::type | tb::Attr::size | tb::Attr::mode | tb::Attr::uid | tb::Attr::gid | tb::Attr::mtime |
              tb::Attr::sha256;
  const std::string content = "content of file " + std::to_string(n);
  r.size = content.size();
  r.mode = 0644;
  r.mtime_ns = kMtime;
  r.sha256 = tb::Sha256::of(content);
  return r;
}

// What a signature keeps of a scanned record (as sources/directory_source.h does).
tb::FileRecord signature_record(tb::FileRecord r) {
  r.present = r.present & (tb::Attr::type | tb::Attr::size | tb::Attr::mode | tb::Attr::sha256);
  r.uid = r.gid = 0;
  r.mtime_ns = 0;
  return r;
}

struct Data {
  std::uint64_t records = 0, raw_bytes = 0, gz_bytes = 0;
};

// The scan document (every product installed) and the store with one signature per product.
Data generate(const fs::path& dir, std::size_t files, std::size_t products) {
  const std::size_t per_product = (files + products - 1) / products;
  auto opened = tb::open_sqlite_store((dir / "store.db").string(), tb::SqliteStoreOptions{5000, false, true});
  if (!opened) die(opened.error().message);
  tb::Store& store = **opened;

  GzSink sink((dir / "scan.xml.gz").string());
  auto writer = tb::make_scan_writer(tb::ScanFormat::xml, sink);
  tb::ScanHeader header;
  header.scanner = "server_bench";
  header.host = tb::HostFacts{"bench-host", "debian", "12", "Debian GNU/Linux 12", "6.1.0", "x86_64"};
  header.roots = {"/opt/vendor"};
  header.started_ns = kMtime;
  if (!writer->begin(header)) die("writer.begin failed");
  Data data;
  auto emit = [&](const tb::FileRecord& r) {
    if (auto ok = writer->record(r); !ok) die(ok.error().message);
    ++data.records;
  };
  emit(dir_record("/opt/vendor"));
  std::size_t n = 0;
  for (std::size_t p = 0; p < products && n < files; ++p) {
    const std::string root = fmt::format("/opt/vendor/product_{:03}", p);
    std::vector<tb::FileRecord> signed_records;
    auto add = [&](tb::FileRecord r) {
      emit(r);
      signed_records.push_back(signature_record(std::move(r)));
    };
    add(dir_record(root));
    add(dir_record(root + "/lib"));
    for (std::size_t f = 0; f < per_product && n < files; ++f, ++n) {
      const std::string module = fmt::format("{}/lib/module_{:02}", root, f / kFilesPerModule);
      if (f % kFilesPerModule == 0) add(dir_record(module));
      add(file_record(fmt::format("{}/file_{:04}.so", module, f), n));
    }
    tb::Signature sig;
    sig.info.ref = {fmt::format("product_{:03}", p), "1.0"};
    sig.info.vendor = "bench";
    sig.info.install_root = root;
    sig.info.source = "server_bench";
    auto manifest = tb::Manifest::from_sorted(std::move(signed_records));
    if (!manifest) die(manifest.error().message);
    sig.manifest = std::move(*manifest);
    if (auto id = store.put_signature(sig); !id) die(id.error().message);
  }
  tb::ScanSummary summary;
  summary.finished_ns = kMtime;
  summary.files = n;
  summary.directories = data.records - n;
  if (auto ok = writer->end({}, summary); !ok) die(ok.error().message);
  data.raw_bytes = sink.raw_bytes();
  sink.close();
  data.gz_bytes = fs::file_size(dir / "scan.xml.gz");
  return data;
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) die("cannot run " + cmd);
  char buf[4096];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, got);
  if (::pclose(f) != 0) die("failed: " + cmd);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// VmHWM of a process, in KiB (0 when unreadable).
long vm_hwm_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

struct Result {
  double seconds = 0;
  long idle_hwm_kib = 0;  // after start-up and the index build, before the POST
  long peak_kib = 0;      // the whole run (ru_maxrss)
  int status = 0;
  std::string answer;
};

Result ingest(const std::string& trustbase, const fs::path& dir, const std::string& label) {
  const fs::path db = dir / (label + ".db");
  fs::remove(db);
  fs::remove(fs::path(db.string() + "-wal"));
  fs::remove(fs::path(db.string() + "-shm"));
  fs::copy_file(dir / "store.db", db);
  const std::string token =
      run_capture(trustbase + " --db " + db.string() + " token add --name bench --role admin 2>/dev/null");

  int out[2];
  if (::pipe(out) != 0) die("pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int log = ::open((dir / (label + ".log")).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, STDERR_FILENO);
    ::close(out[0]);
    const std::string dbs = db.string();
    ::execl(trustbase.c_str(), trustbase.c_str(), "--db", dbs.c_str(), "serve", "--listen", "127.0.0.1:0",
            "--max-body-mb", "4096", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, 30'000) > 0) {
    char buf[256];
    const ssize_t got = ::read(out[0], buf, sizeof buf);
    if (got <= 0) break;
    line.append(buf, static_cast<std::size_t>(got));
  }
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) die(label + " server did not start: " + line);
  const int port = std::atoi(line.c_str() + colon + 1);

  httplib::Client client("127.0.0.1", port);
  client.set_bearer_token_auth(token.c_str());
  client.set_read_timeout(600, 0);
  client.set_write_timeout(600, 0);
  auto warm = client.Get("/api/v1/signatures");  // builds the index: not part of the ingest
  if (!warm || warm->status != 200) die(label + ": GET /api/v1/signatures failed");

  Result r;
  r.idle_hwm_kib = vm_hwm_kib(pid);
  const int fd = ::open((dir / "scan.xml.gz").c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  ::fstat(fd, &st);
  auto provider = [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    char buf[64 * 1024];
    const ssize_t got = ::pread(fd, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
    if (got <= 0) return false;
    sink.write(buf, static_cast<std::size_t>(got));
    return true;
  };
  const auto start = Clock::now();
  auto res = client.Post("/api/v1/scans?host=bench-host", httplib::Headers{{"Content-Encoding", "gzip"}},
                         static_cast<std::size_t>(st.st_size), provider, "application/xml");
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  r.status = res ? res->status : -1;
  if (res) r.answer = res->body.substr(0, 300);

  ::kill(pid, SIGTERM);
  int raw = 0;
  rusage usage{};
  ::wait4(pid, &raw, 0, &usage);
  r.peak_kib = usage.ru_maxrss;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string trustbase, baseline, dir_arg;
  std::size_t files = 1'000'000, signatures = 500;
  bool keep = false;
  CLI::App app{"server_bench: a 1M-file scan POSTed to a real trustbase server (time, peak RSS)"};
  app.add_option("--trustbase", trustbase, "trustbase binary under test")->required();
  app.add_option("--baseline", baseline, "an older trustbase binary to measure first, for comparison");
  app.add_option("--records", files, "files in the scan (default 1,000,000)");
  app.add_option("--signatures", signatures, "product signatures covering them (default 500)");
  app.add_option("--dir", dir_arg, "work directory (default: a new one under $TB_BENCH_DIR or /var/tmp)");
  app.add_flag("--keep", keep, "keep the work directory");
  CLI11_PARSE(app, argc, argv);

  fs::path dir = dir_arg;
  if (dir.empty()) {
    const char* base = std::getenv("TB_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/var/tmp") + "/tb-server-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp failed");
    dir = tmpl;
  } else {
    fs::create_directories(dir);
  }

  const auto gen_start = Clock::now();
  const Data data = generate(dir, files, signatures);
  fmt::print("data: {} records ({} files), {} signatures; document {:.1f} MiB, {:.1f} MiB gzip ({:.1f} s to make)\n",
             data.records, files, signatures, static_cast<double>(data.raw_bytes) / (1 << 20),
             static_cast<double>(data.gz_bytes) / (1 << 20),
             std::chrono::duration<double>(Clock::now() - gen_start).count());

  int status = 0;
  auto report = [&](const std::string& label, const Result& r) {
    if (r.status != 201) {
      fmt::print("{:<9} POST failed: {} {}\n", label, r.status, r.answer);
      status = 1;
      return;
    }
    fmt::print(
        "{:<9} POST {:.2f} s = {:.0f} records/s end to end; server peak RSS {:.0f} MiB "
        "(idle with its index {:.0f} MiB, +{:.0f} MiB for the upload)\n",
        label, r.seconds, static_cast<double>(data.records) / r.seconds, static_cast<double>(r.peak_kib) / 1024,
        static_cast<double>(r.idle_hwm_kib) / 1024, static_cast<double>(r.peak_kib - r.idle_hwm_kib) / 1024);
  };
  if (!baseline.empty()) report("baseline", ingest(baseline, dir, "baseline"));
  report("current", ingest(trustbase, dir, "current"));
  if (!keep) fs::remove_all(dir);
  return status;
}
