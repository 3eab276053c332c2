// The server under load (issue 7, item 7): N simulated hosts (default 10,000) each POST one
// scan of F records (default 5,000) to a real `trustbase serve` from C concurrent clients
// (default 100); reports scans/s, records/s, latency p50/p95/p99/max and errors, then
// checks through the API that nothing was lost (exactly N hosts of this run, one scan
// each, N distinct scan ids acknowledged), and prints the targets as ratios.
//
//   load_bench --trustbase build/srv-rel/src/trustbase [--db PATH|postgresql://...]
//              [--hosts 10000] [--files 5000] [--clients 100]
//   load_bench --url http://HOST:PORT --token ADMIN_TOKEN ...     (a server already running)
//   [--rescans K]  K more passes over every host, each posting its scan again (a fleet's
//                  steady state: unchanged hosts rescanning)
//   [--rate R]     open loop: post j is due at start + j / R and its latency counts from
//                  then (no coordinated omission); default: closed loop, as fast as the
//                  clients go (the throughput is the server's capacity)
//
// Without --url the bench starts `trustbase --db DB serve` itself (DB: --db, default a new
// SQLite file in the work directory) and creates an admin and a host token with
// `trustbase --db DB token add`. Host names carry a run id, so runs can share a database.
//
// The fleet, as real fleets are: every host has the same base install under /opt/vendor
// (same paths and hashes; P products, each imported as a signature before timing), plus
// files of its own in /etc/app (mostly shared configs, some host-specific) and /var/log/app
// (host-specific); one host in --deviate-every has a modified, a missing and an added
// product file. Scans' started_ns are spread over --minutes of simulated time, posted in
// that order as fast as the clients go.
//
// Bodies are prepared before timing and memory stays small: a gzip member is a sequence
// of deflate blocks, so the shared base install is compressed once (a full-flushed raw
// deflate segment, no references outside itself) and each host's body is its own small
// head and tail segments around it, with the CRC-32 combined (what pigz does). The
// server sees an ordinary gzip body. Deviating hosts are compressed whole.
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "client/gzip_file.h"
#include "format/byte_sink.h"
#include "format/chunked_scan.h"
#include "format/manifest_chunks.h"
#include "format/scan_writer.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kEpoch = 1'767'225'600'000'000'000;  // 2026-01-01, the simulated start
constexpr std::int64_t kMtime = 1'735'689'600'000'000'000;
constexpr std::size_t kFilesPerModule = 100;
constexpr std::size_t kConfigs = 49, kLogs = 49;  // per host, besides their two directories
constexpr std::size_t kSharedConfigs = 40;        // of the configs: the same on every host

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "load_bench: {}\n", message);
  std::exit(2);
}

struct Options {
  std::string trustbase, db, url, token, dir;
  std::vector<std::string> server_args;
  std::size_t hosts = 10'000, files = 5'000, clients = 100, products = 5, deviate_every = 97;
  double minutes = 10;
  double rate = 0;          // > 0: scans offered at this rate (open loop), latency from when each was due
  std::size_t rescans = 0;  // passes over every host after the first, each posting the host's scan again
  double target_scans_per_s = 500, target_p99_ms = 200;
  bool keep = false;
  std::string latencies;  // file: one line per post, "answered_s latency_ms", in posting order
  bool chunked = false;  // --upload chunks: format/chunked_scan.h, as trustbase-scan sends by default
};

// ---- The fleet's documents ----------------------------------------------------------

tb::FileRecord dir_record(std::string path) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::directory;
  r.present = tb::Attr::type | tb::Attr::mode | tb::Attr::uid | tb::Attr::gid | tb::Attr::mtime;
  r.mode = 0755;
  r.mtime_ns = kMtime;
  return r;
}

tb::FileRecord file_record(std::string path, const std::string& content, std::uint32_t mode = 0644) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::file;
  r.present = tb::Attr::type | tb::Attr::size | tb::Attr::mode | tb::Attr::uid | tb::Attr::gid | tb::Attr::mtime |
              tb::Attr::sha256;
  r.size = content.size();
  r.mode = mode;
  r.mtime_ns = kMtime;
  r.sha256 = tb::Sha256::of(content);
  return r;
}

// The base install: /opt/vendor and `count` - 1 records below it, in path order, split
// over `products` product trees (product_NN/lib/module_NN/file_NNNN.so).
std::vector<tb::FileRecord> base_install(std::size_t count, std::size_t products) {
  std::vector<tb::FileRecord> out;
  out.reserve(count);
  out.push_back(dir_record("/opt/vendor"));
  for (std::size_t p = 0; p < products && out.size() < count; ++p) {
    const std::size_t quota = p + 1 == products ? count : out.size() + (count - 1) / products;
    const std::string root = fmt::format("/opt/vendor/product_{:02}", p);
    out.push_back(dir_record(root));
    if (out.size() < quota) out.push_back(dir_record(root + "/lib"));
    for (std::size_t f = 0; out.size() < quota; ++f) {
      const std::string module = fmt::format("{}/lib/module_{:02}", root, f / kFilesPerModule);
      if (f % kFilesPerModule == 0) {
        out.push_back(dir_record(module));
        if (out.size() == quota) break;
      }
      out.push_back(file_record(fmt::format("{}/file_{:04}.so", module, f), fmt::format("product {} file {}", p, f)));
    }
  }
  return out;
}

std::string host_name(const std::string& run, std::size_t h) { return fmt::format("load-{}-{:05}", run, h); }

// Host h's own records: before the base install (/etc/app) and after it (/var/log/app).
void host_records(std::size_t h, std::vector<tb::FileRecord>& before, std::vector<tb::FileRecord>& after) {
  before.clear();
  after.clear();
  before.push_back(dir_record("/etc/app"));
  for (std::size_t i = 0; i < kConfigs; ++i)
    before.push_back(file_record(fmt::format("/etc/app/conf_{:02}.conf", i),
                                 i < kSharedConfigs ? fmt::format("setting {} = shared", i)
                                                    : fmt::format("setting {} = host {}", i, h),
                                 0640));
  after.push_back(dir_record("/var/log/app"));
  for (std::size_t i = 0; i < kLogs; ++i)
    after.push_back(file_record(fmt::format("/var/log/app/app_{:02}.log", i), fmt::format("log {} of host {}", i, h)));
}

// A deviating host's base install: one file modified, one missing, one added.
std::vector<tb::FileRecord> deviated(std::vector<tb::FileRecord> base, std::size_t h) {
  std::vector<std::size_t> files;
  for (std::size_t i = 0; i < base.size(); ++i)
    if (base[i].type == tb::FileType::file) files.push_back(i);
  if (files.size() < 3) return base;
  std::mt19937_64 rng(h);
  const std::size_t modified = files[rng() % (files.size() - 1)];
  base[modified].sha256 = tb::Sha256::of("tampered on host " + std::to_string(h));
  base[modified].size += 1;
  tb::FileRecord added = base[modified];
  added.path += ".bak";
  base.insert(base.begin() + static_cast<std::ptrdiff_t>(modified) + 1, added);
  base.erase(base.begin() + static_cast<std::ptrdiff_t>(files.back()) + 1);
  return base;
}

// The text of a document of these records, uncompressed; without them (entries false):
// the document that heads a chunked upload, with the same summary.
std::string document(const tb::ScanHeader& header, const std::vector<const std::vector<tb::FileRecord>*>& parts,
                     bool entries = true) {
  std::string text;
  tb::StringSink sink(text);
  auto writer = tb::make_scan_writer(tb::ScanFormat::xml, sink);
  if (auto ok = writer->begin(header); !ok) die(ok.error().message);
  tb::ScanSummary summary;
  for (const auto* part : parts)
    for (const tb::FileRecord& r : *part) {
      if (entries)
        if (auto ok = writer->record(r); !ok) die(ok.error().message);
      (r.type == tb::FileType::directory ? summary.directories : summary.files) += 1;
    }
  summary.finished_ns = header.started_ns + 30'000'000'000;
  if (auto ok = writer->end({}, summary); !ok) die(ok.error().message);
  return text;
}

// The directory chunks of these records (in path order, part after part).
std::vector<tb::EncodedChunk> chunks_of(const std::vector<const std::vector<tb::FileRecord>*>& parts) {
  tb::ChunkBuilder builder;
  for (const auto* part : parts)
    for (const tb::FileRecord& r : *part)
      if (auto ok = builder.add(r); !ok) die(ok.error().message);
  return builder.finish();
}

// The "scan_id" member of a 201 answer, read with nlohmann's SAX parser that stops at it:
// the report that follows is for the host to render (a 5,000-file scan's is ~12 KB).
std::optional<std::int64_t> scan_id_of(const std::string& body) {
  struct Reader : json::json_sax_t {
    int depth = 0;
    bool at_id = false;
    std::optional<std::int64_t> id;
    bool value() { return !std::exchange(at_id, false); }
    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(json::number_integer_t v) override {
      if (at_id) id = v;
      return value();
    }
    bool number_unsigned(json::number_unsigned_t v) override {
      if (at_id && v <= static_cast<json::number_unsigned_t>(INT64_MAX)) id = static_cast<std::int64_t>(v);
      return value();
    }
    bool number_float(json::number_float_t, const json::string_t&) override { return value(); }
    bool string(json::string_t&) override { return value(); }
    bool binary(json::binary_t&) override { return value(); }
    bool start_object(std::size_t) override { return value(), ++depth, true; }
    bool end_object() override { return --depth, true; }
    bool start_array(std::size_t) override { return value(); }
    bool end_array() override { return true; }
    bool key(json::string_t& k) override {
      at_id = depth == 1 && k == "scan_id";
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } reader;
  json::sax_parse(body, &reader);
  return reader.id;
}

struct ChunkedHost {
  std::string header;
  std::string first_round;  // gzip body naming every chunk by digest
  // The second round as a new host sends it when the server asks for the chunks this host
  // is the first to have, in posting order (not the base install's, stored once the first
  // hosts sent them, nor an earlier host's: hosts share some directories): compressed
  // before timing like the first, since a real host compresses on its own CPU.
  std::string asked_round;
  std::vector<tb::Sha256Digest> asked_digests;  // sorted
  // The second round with every chunk, as the first hosts send it (nothing of the base
  // install stored yet): prepared for the first hosts posted only (2 x clients), the
  // others compress what they are asked for, if anything else, while timed.
  std::string full_round;
  std::vector<tb::EncodedChunk> chunks;  // with the base install's when uses_base
  bool uses_base = true;
};

tb::ScanHeader scan_header(const std::string& host, std::int64_t started_ns, std::vector<std::string> roots) {
  tb::ScanHeader header;
  header.scanner = "load_bench";
  header.host = tb::HostFacts{host, "debian", "12", "Debian GNU/Linux 12", "6.1.0", "x86_64"};
  header.roots = std::move(roots);
  header.started_ns = started_ns;
  return header;
}

// ---- gzip in pieces -------------------------------------------------------------------

// A raw deflate segment of `text`: fresh dictionary, ends byte-aligned (Z_SYNC_FLUSH) or
// with the final block (Z_FINISH).
std::string deflate_segment(std::string_view text, bool last) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
  if ((last && rc != Z_STREAM_END) || (!last && rc != Z_OK) || z.avail_in != 0) die("deflate failed");
  out.resize(z.total_out);
  out.shrink_to_fit();  // 10,000 of these are kept: only their bytes
  deflateEnd(&z);
  return out;
}

std::uint32_t crc_of(std::string_view text) {
  return static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

constexpr char kGzipHeader[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};

// A host's body: gzip header, its head segment, the shared segment (absent for a host
// compressed whole), its tail segment and the trailer.
struct HostBody {
  std::string head, tail;  // tail ends with the final block and the gzip trailer
  bool uses_shared = true;
};

struct SharedSegment {
  std::string deflated;
  std::uint32_t crc = 0;
  std::size_t raw_bytes = 0;
};

HostBody piecewise_body(std::string_view head, const SharedSegment& shared, std::string_view tail) {
  HostBody body;
  body.head.assign(kGzipHeader, sizeof kGzipHeader);
  body.head += deflate_segment(head, false);
  body.tail = deflate_segment(tail, true);
  uLong crc = crc_of(head);
  crc = crc32_combine(crc, shared.crc, static_cast<z_off_t>(shared.raw_bytes));
  crc = crc32_combine(crc, crc_of(tail), static_cast<z_off_t>(tail.size()));
  put_le32(body.tail, static_cast<std::uint32_t>(crc));
  put_le32(body.tail, static_cast<std::uint32_t>(head.size() + shared.raw_bytes + tail.size()));
  return body;
}

HostBody whole_body(std::string_view text) {
  HostBody body;
  body.uses_shared = false;
  body.head.assign(kGzipHeader, sizeof kGzipHeader);
  body.head += deflate_segment(text, true);
  put_le32(body.head, crc_of(text));
  put_le32(body.head, static_cast<std::uint32_t>(text.size()));
  return body;
}

// Where the base install's lines start and end in a document's text.
std::pair<std::size_t, std::size_t> base_span(const std::string& text) {
  const auto line_start = [&](const std::string& needle) {
    const auto at = text.find(needle);
    if (at == std::string::npos) die("generated document lacks " + needle);
    return text.rfind('\n', at) + 1;
  };
  return {line_start("<dir path=\"/opt/vendor\""), line_start("<dir path=\"/var/log/app\"")};
}

// ---- The server -----------------------------------------------------------------------

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

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Server {
  pid_t pid = -1;
  int port = 0;
};

Server start_server(const Options& o, const fs::path& dir) {
  int out[2];
  if (::pipe(out) != 0) die("pipe");
  Server s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int log = ::open((dir / "server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDERR_FILENO);
    ::close(out[0]);
    std::vector<std::string> args{o.trustbase, "--db", o.db, "serve", "--listen", "127.0.0.1:0"};
    // Quiet unless asked (--server-arg --log-level --server-arg info: every request's duration in server.log).
    if (std::find(o.server_args.begin(), o.server_args.end(), "--log-level") == o.server_args.end())
      args.insert(args.end(), {"--log-level", "warn"});
    args.insert(args.end(), o.server_args.begin(), o.server_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, 60'000) > 0) {
    char buf[256];
    const ssize_t got = ::read(out[0], buf, sizeof buf);
    if (got <= 0) break;
    line.append(buf, static_cast<std::size_t>(got));
  }
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos)
    die("the server did not start (see " + (dir / "server.log").string() + "): " + line);
  s.port = std::atoi(line.c_str() + colon + 1);
  return s;
}

// utime + stime of a process, in seconds (0 when unreadable).
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());
    if (i == 15) break;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU of every process named `comm` (a local PostgreSQL: its backends, WAL writer and
// checkpointer work for the server and share the machine with it). Processes that exit
// between two readings take their time with them; the server's connections live as long
// as it does.
double processes_cpu_seconds(std::string_view comm) {
  double total = 0;
  for (const auto& entry : fs::directory_iterator("/proc", fs::directory_options::skip_permission_denied)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "comm");
    std::string line;
    if (std::getline(stat, line) && line == comm) total += cpu_seconds(static_cast<pid_t>(std::stoi(name)));
  }
  return total;
}

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Endpoint {
  std::string host;
  int port = 0;
};

Endpoint parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) die("--url wants http://HOST:PORT (the bench speaks plain HTTP)");
  std::string rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, 80};
  return {rest.substr(0, colon), std::atoi(rest.c_str() + colon + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"load_bench: N hosts posting scans to a trustbase server from C clients"};
  app.add_option("--trustbase", o.trustbase, "trustbase binary (starts the server, creates tokens)");
  app.add_option("--db", o.db, "the server's store: an SQLite path or a postgresql:// URL (default: new SQLite file)");
  app.add_option("--url", o.url, "target a running server (http://HOST:PORT) instead of starting one");
  app.add_option("--token", o.token, "admin token for --url (used for the signatures, the posts and the checks)");
  app.add_option("--server-arg", o.server_args, "extra argument of `trustbase serve` (repeatable)");
  app.add_option("--hosts", o.hosts, "simulated hosts, one scan each (default 10,000)");
  app.add_option("--files", o.files, "records per scan (default 5,000; at least 400)");
  app.add_option("--clients", o.clients, "concurrent client threads (default 100)");
  app.add_option("--products", o.products, "product signatures the base install is split into (default 5)");
  app.add_option("--deviate-every", o.deviate_every, "every Nth host deviates from the base install (default 97; 0: none)");
  app.add_option("--minutes", o.minutes, "simulated minutes the scans' start times spread over (default 10)");
  app.add_option("--rate", o.rate,
                 "offer scans at this rate (scans/s, open loop) instead of as fast as the clients go; latency "
                 "counts from when each scan was due, so a server falling behind shows in it");
  app.add_option("--rescans", o.rescans,
                 "passes over every host after the first, each host posting its scan again (unchanged hosts "
                 "rescanning: chunked uploads then name every chunk by digest, one request)");
  app.add_option("--target-scans", o.target_scans_per_s, "target scans/s (default 500)");
  app.add_option("--target-p99-ms", o.target_p99_ms, "target p99 latency in ms (default 200)");
  app.add_option("--dir", o.dir, "work directory (default: a new one under $TB_BENCH_DIR or /var/tmp)");
  app.add_flag("--keep", o.keep, "keep the work directory (store, server log)");
  app.add_option("--latencies", o.latencies,
                 "write each post's answer time (s from the start) and latency (ms) to this file, in posting order, "
                 "after a line '# start S' (the start on CLOCK_MONOTONIC, to line up with perf or /proc samples)");
  std::string upload = "document";
  app.add_option("--upload", upload,
                 "document: each scan as one gzip XML document; chunks: as trustbase-scan sends by default, the "
                 "manifest's directory chunks by digest, then the content of those the server lacks")
      ->check(CLI::IsMember({"document", "chunks"}));
  CLI11_PARSE(app, argc, argv);
  o.chunked = upload == "chunks";
  if (o.url.empty() && o.trustbase.empty()) die("give --trustbase (to start a server) or --url and --token");
  if (!o.url.empty() && o.token.empty() && (o.trustbase.empty() || o.db.empty()))
    die("--url wants --token ADMIN (or --trustbase and --db to create one)");
  if (o.files < 400 || o.hosts == 0 || o.clients == 0 || o.products == 0) die("--files >= 400, --hosts, --clients, --products >= 1");

  fs::path dir = o.dir;
  if (dir.empty()) {
    const char* base = std::getenv("TB_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/var/tmp") + "/tb-load-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp failed");
    dir = tmpl;
  } else {
    fs::create_directories(dir);
  }
  if (o.db.empty() && o.url.empty()) o.db = (dir / "store.db").string();
  const std::string run = fmt::format("{:x}", static_cast<std::uint32_t>(std::chrono::system_clock::now().time_since_epoch().count() ^ ::getpid()));

  // Tokens: an admin one (signatures, checks) and an unbound host one (the posts).
  std::string admin = o.token, poster = o.token;
  if (admin.empty()) {
    const std::string cli = shell_quote(o.trustbase) + " --db " + shell_quote(o.db) + " token add --name ";
    admin = run_capture(cli + "load-admin-" + run + " --role admin 2>/dev/null");
    poster = run_capture(cli + "load-hosts-" + run + " --role host 2>/dev/null");
  }

  // ---- Data, before any timing.
  const auto gen_start = Clock::now();
  const std::size_t per_host = 2 + kConfigs + kLogs;
  const std::vector<tb::FileRecord> base = base_install(o.files - per_host, o.products);
  std::vector<tb::FileRecord> before, after;
  host_records(0, before, after);
  const std::string sample = document(scan_header("sample", kEpoch, {"/etc/app", "/opt/vendor", "/var/log/app"}),
                                      {&before, &base, &after});
  const auto [base_from, base_to] = base_span(sample);
  SharedSegment shared;
  const std::string_view base_text = std::string_view(sample).substr(base_from, base_to - base_from);
  shared.deflated = deflate_segment(base_text, false);
  shared.crc = crc_of(base_text);
  shared.raw_bytes = base_text.size();

  const std::int64_t spread_ns = static_cast<std::int64_t>(o.minutes * 60e9);
  std::vector<HostBody> bodies(o.chunked ? 0 : o.hosts);
  // Chunked: the base install's chunks once; each host keeps its header document and the
  // chunks of its own directories (a deviating host: all of its chunks).
  const std::vector<tb::EncodedChunk> base_chunks = o.chunked ? chunks_of({&base}) : std::vector<tb::EncodedChunk>{};
  std::vector<ChunkedHost> chunked_hosts(o.chunked ? o.hosts : 0);
  std::uint64_t raw_total = 0, gz_total = 0;
  {
    std::atomic<std::size_t> next{0};
    std::mutex totals;
    std::vector<std::thread> makers;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t)
      makers.emplace_back([&] {
        std::vector<tb::FileRecord> b, a;
        std::uint64_t raw = 0, gz = 0;
        for (std::size_t h; (h = next++) < o.hosts;) {
          host_records(h, b, a);
          const std::int64_t started = kEpoch + spread_ns * static_cast<std::int64_t>(h) / static_cast<std::int64_t>(o.hosts);
          const tb::ScanHeader header = scan_header(host_name(run, h), started, {"/etc/app", "/opt/vendor", "/var/log/app"});
          const bool deviates = o.deviate_every != 0 && h % o.deviate_every == o.deviate_every - 1;
          if (o.chunked) {
            ChunkedHost& host = chunked_hosts[h];
            host.header = document(header, {&b, &base, &a}, false);
            if (deviates) {
              const std::vector<tb::FileRecord> own = deviated(base, h);
              host.chunks = chunks_of({&b, &own, &a});
              host.uses_base = false;
            } else {
              host.chunks = chunks_of({&b, &a});
            }
            {
              const std::span<const tb::EncodedChunk> parts[] = {
                  host.chunks, host.uses_base ? std::span<const tb::EncodedChunk>(base_chunks)
                                              : std::span<const tb::EncodedChunk>()};
              auto first = tb::gzip_bytes(
                  tb::encode_chunked_scan(host.header, parts, [](const tb::Sha256Digest&) { return false; }));
              if (!first) die(first.error().message);
              host.first_round = std::move(*first);
              if (h < 2 * o.clients) {
                auto full = tb::gzip_bytes(
                    tb::encode_chunked_scan(host.header, parts, [](const tb::Sha256Digest&) { return true; }));
                if (!full) die(full.error().message);
                host.full_round = std::move(*full);
              }
            }
            for (const tb::EncodedChunk& c : host.chunks) gz += c.data.size() + 33;
            raw += host.header.size();
            continue;
          }
          if (deviates) {
            const std::vector<tb::FileRecord> own = deviated(base, h);
            const std::string text = document(header, {&b, &own, &a});
            bodies[h] = whole_body(text);
            raw += text.size();
          } else {
            const std::vector<tb::FileRecord> none;
            const std::string text = document(header, {&b, &none, &a});
            const auto split = text.find("<dir path=\"/var/log/app\"");
            if (split == std::string::npos) die("host document lacks /var/log/app");
            const std::size_t at = text.rfind('\n', split) + 1;
            bodies[h] = piecewise_body(std::string_view(text).substr(0, at), shared, std::string_view(text).substr(at));
            raw += text.size() + shared.raw_bytes;
          }
          gz += bodies[h].head.size() + bodies[h].tail.size() + (bodies[h].uses_shared ? shared.deflated.size() : 0);
        }
        std::lock_guard lock(totals);
        raw_total += raw;
        gz_total += gz;
      });
    for (auto& t : makers) t.join();
  }
  if (o.chunked) {
    // Which chunks each host is the first to have, in posting order.
    std::set<tb::Sha256Digest> seen;
    for (const tb::EncodedChunk& c : base_chunks) seen.insert(c.digest);
    for (ChunkedHost& host : chunked_hosts) {
      for (const tb::EncodedChunk& c : host.chunks)
        if (seen.insert(c.digest).second) host.asked_digests.push_back(c.digest);
      std::sort(host.asked_digests.begin(), host.asked_digests.end());
    }
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> makers;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t)
      makers.emplace_back([&] {
        for (std::size_t h; (h = next++) < o.hosts;) {
          ChunkedHost& host = chunked_hosts[h];
          const std::span<const tb::EncodedChunk> parts[] = {
              host.chunks,
              host.uses_base ? std::span<const tb::EncodedChunk>(base_chunks) : std::span<const tb::EncodedChunk>()};
          auto asked = tb::gzip_bytes(tb::encode_chunked_scan(host.header, parts, [&](const tb::Sha256Digest& d) {
            return std::binary_search(host.asked_digests.begin(), host.asked_digests.end(), d);
          }));
          if (!asked) die(asked.error().message);
          host.asked_round = std::move(*asked);
        }
      });
    for (auto& t : makers) t.join();
  }
  fmt::print("data ({}): {} hosts x {} records ({} base install in {} products, {} per host; 1 host in {} deviates); "
             "{:.0f} KiB XML, {:.0f} KiB gzip (chunks: own chunk bytes) per scan on average; prepared in {:.1f} s\n",
             o.chunked ? "chunked uploads" : "documents",
             o.hosts, o.files, base.size(), o.products, per_host, o.deviate_every,
             static_cast<double>(raw_total) / static_cast<double>(o.hosts) / 1024,
             static_cast<double>(gz_total) / static_cast<double>(o.hosts) / 1024,
             std::chrono::duration<double>(Clock::now() - gen_start).count());

  // ---- The server, its signatures and its index.
  std::optional<Server> server;
  Endpoint endpoint;
  if (o.url.empty()) {
    server = start_server(o, dir);
    endpoint = {"127.0.0.1", server->port};
    fmt::print("server: pid {}, port {}, store {}\n", server->pid, server->port, o.db);
  } else {
    endpoint = parse_url(o.url);
  }
  std::fflush(stdout);
  httplib::Client admin_client(endpoint.host, endpoint.port);
  admin_client.set_bearer_token_auth(admin.c_str());
  admin_client.set_read_timeout(600, 0);
  admin_client.set_write_timeout(600, 0);
  for (std::size_t p = 0; p < o.products; ++p) {
    const std::string root = fmt::format("/opt/vendor/product_{:02}", p);
    std::vector<tb::FileRecord> records;
    for (const tb::FileRecord& r : base)
      if (r.path == root || r.path.rfind(root + "/", 0) == 0) records.push_back(r);
    const std::string text = document(scan_header("vendor", kEpoch, {root}), {&records});
    const HostBody body = whole_body(text);
    auto res = admin_client.Post(
        fmt::format("/api/v1/signatures?name=product_{:02}&version=1.0&vendor=load&install_root={}", p, root).c_str(),
        httplib::Headers{{"Content-Encoding", "gzip"}}, body.head, "application/xml");
    if (!res || (res->status != 201 && res->status != 200))
      die(fmt::format("importing product_{:02}: {}", p, res ? std::to_string(res->status) + " " + res->body : "no answer"));
  }
  if (auto warm = admin_client.Get("/api/v1/signatures"); !warm || warm->status != 200)
    die("GET /api/v1/signatures failed");

  // ---- The load.
  const std::size_t posts = o.hosts * (1 + o.rescans);  // post j is host j % hosts's pass j / hosts
  std::vector<double> latency_ms(posts, -1), done_s(posts, 0);
  std::vector<std::int64_t> scan_ids(posts, 0);
  std::atomic<std::size_t> next{0}, errors{0}, retried{0}, compressed_timed{0};
  std::mutex problems_mutex;
  std::vector<std::string> problems;
  const std::string load_before = loadavg();
  const double server_cpu_before = server ? cpu_seconds(server->pid) : 0;
  const double self_cpu_before = self_cpu_seconds();
  const bool on_postgres = o.db.rfind("postgres", 0) == 0;
  const double postgres_cpu_before = on_postgres ? processes_cpu_seconds("postgres") : 0;
  const auto start = Clock::now();
  {
    std::vector<std::thread> clients;
    for (std::size_t c = 0; c < o.clients; ++c)
      clients.emplace_back([&] {
        httplib::Client client(endpoint.host, endpoint.port);
        client.set_bearer_token_auth(poster.c_str());
        client.set_connection_timeout(60, 0);
        client.set_read_timeout(600, 0);
        client.set_write_timeout(600, 0);
        std::string payload;
        const httplib::Headers headers{{"Content-Encoding", "gzip"}};
        // A request that got no HTTP answer at all (a kept-alive connection the server
        // closed as it was reused) is sent again on a new connection, at most twice, as
        // trustbase-scan does (client/upload.cpp); counted apart from errors.
        const auto post = [&](const std::string& path, const std::string& body, const char* type) {
          httplib::Result res = client.Post(path.c_str(), headers, body, type);
          for (int again = 0; again < 2 && !res; ++again) {
            ++retried;
            client.stop();
            res = client.Post(path.c_str(), headers, body, type);
          }
          return res;
        };
        for (std::size_t j; (j = next++) < posts;) {
          const std::size_t h = j % o.hosts;
          const std::string path = "/api/v1/scans?host=" + host_name(run, h);
          std::optional<httplib::Result> answer_of_last;
          auto sent = Clock::now();
          if (o.rate > 0) {  // open loop: post j is due at start + j / rate, sent or not
            sent = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(j) / o.rate));
            std::this_thread::sleep_until(sent);
          }
          if (o.chunked) {
            // What trustbase-scan does (client/upload.cpp): by digest, then what is missing.
            const ChunkedHost& host = chunked_hosts[h];
            const std::span<const tb::EncodedChunk> parts[] = {
                host.chunks, host.uses_base ? std::span<const tb::EncodedChunk>(base_chunks)
                                            : std::span<const tb::EncodedChunk>()};
            std::set<tb::Sha256Digest> send;
            for (int round = 0; round < 3; ++round) {
              // The first round (digests only) was compressed before timing.
              const bool as_prepared = round > 0 && std::equal(send.begin(), send.end(), host.asked_digests.begin(),
                                                               host.asked_digests.end());
              const bool all_asked = round > 0 && !host.full_round.empty() &&
                                     send.size() == host.chunks.size() + (host.uses_base ? base_chunks.size() : 0);
              auto body = round == 0    ? tb::Expected<std::string>(host.first_round)
                          : as_prepared ? tb::Expected<std::string>(host.asked_round)
                          : all_asked   ? tb::Expected<std::string>(host.full_round)
                                        : (++compressed_timed, tb::gzip_bytes(tb::encode_chunked_scan(
                                                                   host.header, parts, [&](const tb::Sha256Digest& d) {
                                                                   return send.count(d) > 0;
                                                                 })));
              if (!body) die(body.error().message);
              answer_of_last.emplace(post(path, *body, std::string(tb::kChunkedScanMediaType).c_str()));
              const httplib::Result& last = *answer_of_last;
              if (!last || last->status != 409) break;
              auto answer = json::parse(last->body, nullptr, false);
              if (answer.is_discarded() || !answer.contains("missing_chunks")) break;
              for (const auto& hex : answer["missing_chunks"])
                if (auto d = tb::Sha256Digest::from_hex(hex.get<std::string>())) send.insert(*d);
            }
          } else {
            const HostBody& body = bodies[h];
            payload = body.head;
            if (body.uses_shared) {
              payload += shared.deflated;
              payload += body.tail;
            }
            answer_of_last.emplace(post(path, payload, "application/xml"));
          }
          const auto done = Clock::now();
          latency_ms[j] = std::chrono::duration<double, std::milli>(done - sent).count();
          done_s[j] = std::chrono::duration<double>(done - start).count();
          const httplib::Result res = std::move(*answer_of_last);
          std::string problem;
          if (!res) {
            problem = "no answer: " + httplib::to_string(res.error());
          } else if (res->status != 201) {
            problem = std::to_string(res->status) + " " + res->body.substr(0, 200);
          } else {
            // The scan id alone: trustbase-scan renders the report, on the host's CPU.
            if (const auto id = scan_id_of(res->body))
              scan_ids[j] = *id;
            else
              problem = "201 without a scan_id";
          }
          if (!problem.empty()) {
            ++errors;
            std::lock_guard lock(problems_mutex);
            if (problems.size() < 5) problems.push_back(host_name(run, h) + ": " + problem);
          }
        }
      });
    for (auto& t : clients) t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = server ? cpu_seconds(server->pid) - server_cpu_before : 0;
  const double self_cpu = self_cpu_seconds() - self_cpu_before;
  const double postgres_cpu = on_postgres ? processes_cpu_seconds("postgres") - postgres_cpu_before : 0;
  const std::string load_after = loadavg();
  if (!o.latencies.empty()) {
    std::FILE* f = std::fopen(o.latencies.c_str(), "w");
    if (f == nullptr) die("cannot write " + o.latencies);
    // The start on CLOCK_MONOTONIC (steady_clock on Linux), to line the latencies up with a
    // sampler of /proc or perf's timestamps taken at the same time.
    fmt::print(f, "# start {:.6f}\n", std::chrono::duration<double>(start.time_since_epoch()).count());
    for (std::size_t j = 0; j < posts; ++j) fmt::print(f, "{:.4f} {:.2f}\n", done_s[j], latency_ms[j]);
    std::fclose(f);
  }

  std::vector<double> sorted = latency_ms;
  std::sort(sorted.begin(), sorted.end());
  const auto pct = [&](double q) {
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())))];
  };
  const double scans_per_s = static_cast<double>(posts) / seconds;
  fmt::print("load: {} scans ({} hosts x {} passes) from {} clients, {}, in {:.1f} s = {:.1f} scans/s, {:.0f} records/s; "
             "errors {}\n",
             posts, o.hosts, 1 + o.rescans, o.clients,
             o.rate > 0 ? fmt::format("offered at {:.0f} scans/s", o.rate) : std::string("as fast as they go"), seconds,
             scans_per_s, scans_per_s * static_cast<double>(o.files), errors.load());
  if (compressed_timed.load() > 0)
    fmt::print("compressed while timed: {} second rounds asked for other chunks than prepared\n",
               compressed_timed.load());
  if (retried.load() > 0)
    fmt::print("retried: {} requests that got no answer (connection closed), each sent again on a new connection\n",
               retried.load());
  fmt::print("latency: p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms\n", pct(0.50), pct(0.95), pct(0.99),
             sorted.back());
  if (o.rescans > 0)  // each pass on its own: from the previous pass's last answer to its own last
    for (std::size_t p = 0; p <= o.rescans; ++p) {
      const auto first = static_cast<std::ptrdiff_t>(p * o.hosts), last = first + static_cast<std::ptrdiff_t>(o.hosts);
      std::vector<double> pass(latency_ms.begin() + first, latency_ms.begin() + last);
      std::sort(pass.begin(), pass.end());
      const double end = *std::max_element(done_s.begin() + first, done_s.begin() + last);
      const double begin = p == 0 ? 0.0 : *std::max_element(done_s.begin() + first - static_cast<std::ptrdiff_t>(o.hosts), done_s.begin() + first);
      fmt::print("pass {}{}: {:.1f} scans/s, latency p50 {:.0f} ms, p99 {:.0f} ms\n", p + 1, p == 0 ? " (new hosts)" : " (rescans)",
                 static_cast<double>(o.hosts) / std::max(1e-9, end - begin), pass[pass.size() / 2],
                 pass[std::min(pass.size() - 1, pass.size() * 99 / 100)]);
    }
  if (server)
    fmt::print("cpu: server {:.1f} s ({:.1f} ms per scan), bench {:.1f} s; load average {} before, {} after ({} CPUs)\n",
               server_cpu, 1000 * server_cpu / static_cast<double>(posts), self_cpu, load_before, load_after,
               std::thread::hardware_concurrency());
  if (postgres_cpu > 0)
    fmt::print("cpu: postgresql (local processes) {:.1f} s ({:.1f} ms per scan); server + postgresql {:.1f} ms per scan\n",
               postgres_cpu, 1000 * postgres_cpu / static_cast<double>(posts),
               1000 * (server_cpu + postgres_cpu) / static_cast<double>(posts));
  for (const std::string& p : problems) fmt::print("error: {}\n", p);

  // ---- Nothing lost: this run's hosts, one scan each, and every acknowledged id distinct.
  std::size_t lost = 0;
  {
    auto res = admin_client.Get("/api/v1/hosts");
    if (!res || res->status != 200) die("GET /api/v1/hosts failed");
    auto hosts = json::parse(res->body, nullptr, false);
    if (hosts.is_discarded() || !hosts.contains("hosts")) die("GET /api/v1/hosts: not the expected JSON");
    const std::string prefix = "load-" + run + "-";
    std::size_t found = 0, scans = 0;
    for (const auto& h : hosts["hosts"])
      if (h.value("name", "").rfind(prefix, 0) == 0) {
        ++found;
        scans += h.value("scans", std::size_t{0});
      }
    std::set<std::int64_t> ids;
    for (std::int64_t id : scan_ids)
      if (id != 0) ids.insert(id);
    const std::size_t acknowledged = posts - errors.load();
    lost = (found == o.hosts && scans == posts && ids.size() == acknowledged) ? 0 : 1;
    fmt::print("store: {} hosts of this run with {} scans (expected {} and {}); {} distinct scan ids acknowledged\n",
               found, scans, o.hosts, posts, ids.size());
  }

  if (server) {
    ::kill(server->pid, SIGTERM);
    int raw = 0;
    ::waitpid(server->pid, &raw, 0);
  }
  const double throughput_ratio = scans_per_s / o.target_scans_per_s;
  const double p99_ratio = pct(0.99) / o.target_p99_ms;
  if (o.rate > 0) {
    // Open loop the rate is what was offered: the target holds when it was at least the
    // target and the server kept up with it (the last answers come a little after the
    // schedule ends, hence 0.99).
    const bool kept_up = scans_per_s >= 0.99 * o.rate && o.rate >= o.target_scans_per_s;
    fmt::print("target ingest >= {:.0f} scans/s of {} records: kept up with {:.0f} offered ({:.3f} of it)  {}\n",
               o.target_scans_per_s, o.files, o.rate, scans_per_s / o.rate, kept_up ? "PASS" : "FAIL");
  } else {
    fmt::print("target ingest >= {:.0f} scans/s of {} records: {:.3f} of it  {}\n", o.target_scans_per_s, o.files,
               throughput_ratio, throughput_ratio >= 1 ? "PASS" : "FAIL");
  }
  // Closed loop, latency is the queue by construction: every client is always waiting, so
  // the median is clients / throughput (Little's law) whatever the server does per scan;
  // open loop (--rate) measures latency at a given ingest rate, from when each scan was due.
  const std::string mode =
      o.rate > 0 ? fmt::format("offered at {:.0f} scans/s", o.rate)
                 : fmt::format("closed loop (clients / throughput = {:.0f} ms; at a given rate: --rate)",
                               1000.0 * static_cast<double>(o.clients) / scans_per_s);
  fmt::print("target p99 < {:.0f} ms at {} clients, {}: {:.2f} of it  {}\n", o.target_p99_ms, o.clients, mode,
             p99_ratio, p99_ratio < 1 ? "PASS" : "FAIL");
  const bool whole = errors.load() == 0 && lost == 0;
  fmt::print("no error, no loss: {}\n", whole ? "PASS" : "FAIL");
  if (!o.keep && o.dir.empty()) fs::remove_all(dir);
  return whole ? 0 : 1;
}
