// Issue 21, item 2 and 4, against the real `trustbase serve`: small uploads that expand to
// what a server would multiply (comments, attributes, roots, chunk digests, records) are
// refused with 413 or 400 and a message naming the bound, the server's resident memory
// stays bounded, and what was stored before is still there.
#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format/chunked_scan.h"
#include "server/server_process.h"

namespace {

using nlohmann::json;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
namespace fs = std::filesystem;

std::string gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A scan document: `roots` between <options> and <entries>, `entries` inside it.
std::string scan_xml(const std::string& roots, const std::string& entries) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<scan xmlns=\"urn:trustbase:scan:1\" version=\"1\" scanner=\"t\" "
         "started=\"2026-11-26T13:57:45.909043755Z\">\n"
         "<host name=\"web1\" os-id=\"debian\" os-version=\"12\" os-pretty=\"D\" kernel=\"6\" arch=\"x86_64\"/>\n"
         "<options one-file-system=\"false\" skip-pseudo-fs=\"true\"/>\n" +
         roots + "\n<entries>\n" + entries +
         "</entries>\n<errors/>\n"
         "<summary finished=\"2026-11-26T13:57:46.000000000Z\" files=\"0\" directories=\"1\" symlinks=\"0\" "
         "others=\"0\" bytes-hashed=\"0\" errors=\"0\" errors-dropped=\"0\"/>\n</scan>\n";
}

std::string dirs(int n) {
  std::string out = "<dir path=\"/\"/>\n";
  for (int i = 1; i < n; ++i) out += "<dir path=\"/d" + std::to_string(i) + "\"/>\n";
  return out;
}

// The server's peak resident memory so far (VmHWM), in bytes.
std::size_t peak_rss(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

class UploadBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/tb-bounds-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    int status = 0;
    admin_ = run(
        std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " token add --name adm --role admin 2>/dev/null",
        &status);
    ASSERT_EQ(status, 0);
    // Records per scan scaled down through the configuration, as an operator would.
    server_ = std::make_unique<ServerProcess>(db_, dir_ / "server.log", std::vector<std::string>{"--max-records", "3"});
    ASSERT_GT(server_->port(), 0) << slurp(dir_ / "server.log");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  httplib::Result post(const std::string& body, bool compressed, const char* type = "application/xml") const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    c.set_bearer_token_auth(admin_.c_str());
    httplib::Headers headers;
    if (compressed) headers.emplace("Content-Encoding", "gzip");
    return c.Post("/api/v1/scans?host=web1", headers, compressed ? gzip(body) : body, type);
  }
  std::size_t scan_count() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_bearer_token_auth(admin_.c_str());
    auto r = c.Get("/api/v1/hosts/web1/scans");
    if (!r || r->status != 200) return 0;
    return json::parse(r->body)["scans"].size();
  }
  // Posts `body` and expects `status` with `needle` in the error, the scans stored before
  // still there.
  void refused(const std::string& body, bool compressed, int status, const std::string& needle,
               const char* type = "application/xml") {
    const std::size_t before = scan_count();
    auto answer = post(body, compressed, type);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, status) << answer->body.substr(0, 300);
    EXPECT_NE(answer->body.find(needle), std::string::npos) << answer->body.substr(0, 300);
    EXPECT_LT(answer->body.size(), 1000u);
    EXPECT_EQ(scan_count(), before);
  }

  fs::path dir_, db_;
  std::string admin_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(UploadBoundsTest, EachBombIsRefusedWithItsBoundAndMemoryStaysFlat) {
  auto stored = post(scan_xml("<root path=\"/\"/>", dirs(2)), false);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->status, 201) << stored->body;
  const std::size_t baseline = peak_rss(server_->pid());
  ASSERT_GT(baseline, 0u);

  // 64 MiB of comments between two records, 64 KB of gzip (7.7 GB for 255 MiB before).
  std::string comments;
  comments.reserve(64u << 20);
  while (comments.size() < (64u << 20)) comments += "<!---->";
  refused(scan_xml("<root path=\"/\"/>", "<dir path=\"/\"/>\n" + comments + "<dir path=\"/a\"/>\n"), true, 413,
          "more than 10000 comments, processing instructions and CDATA sections");
  comments = std::string();

  // 60,000 attributes on one element (38 s of CPU before): refused at once.
  std::string attributes;
  for (int i = 0; i < 60'000; ++i) attributes += " a" + std::to_string(i) + "=\"1\"";
  const auto start = std::chrono::steady_clock::now();
  refused(scan_xml("<root path=\"/\"/>", "<dir path=\"/\"" + attributes + "/>\n"), true, 413,
          "more than 32 attributes on one element");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // 1M identical roots (stored before): refused at the second.
  std::string roots;
  for (int i = 0; i < 1'000'000; ++i) roots += "<root path=\"/\"/>";
  refused(scan_xml(roots, dirs(1)), true, 400, "root '/' listed twice");
  roots.clear();
  for (int i = 0; i < 5'000; ++i) roots += "<root path=\"/r" + std::to_string(i) + "\"/>";
  refused(scan_xml(roots, dirs(1)), true, 413, "more than 4096 roots");

  // One missing chunk named 1M times (a 536 MB 409 answer for 8M before): beyond the
  // chunk count (no more than max_records), or named twice, it is refused with a line.
  const auto chunked = [](std::size_t n) {
    std::string body = "TBCHUNKS1\n";
    const auto varint = [&body](std::size_t v) {
      for (; v > 0x7F; v >>= 7) body.push_back(static_cast<char>((v & 0x7F) | 0x80));
      body.push_back(static_cast<char>(v));
    };
    const std::string header = scan_xml("<root path=\"/\"/>", "");
    varint(header.size());
    body += header;
    varint(n);
    const tb::Sha256Digest missing = tb::Sha256::of("not stored");
    const std::string entry = std::string(reinterpret_cast<const char*>(missing.bytes.data()), 32) + '\0';
    for (std::size_t i = 0; i < n; ++i) body += entry;
    return body;
  };
  const std::string type(tb::kChunkedScanMediaType);
  refused(chunked(1'000'000), true, 413, "more than 3 chunks", type.c_str());
  refused(chunked(3), true, 400, "named twice", type.c_str());

  // Records per scan: the configured 3.
  refused(scan_xml("<root path=\"/\"/>", dirs(5)), false, 413, "more than 3 records");
  auto fits = post(scan_xml("<root path=\"/\"/>", dirs(3)), false);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 201) << fits->body;
  EXPECT_EQ(scan_count(), 2u);

  // All of it within 64 MiB of what the server held after its first scan (a Debug build).
  EXPECT_LT(peak_rss(server_->pid()), baseline + (64u << 20))
      << "baseline " << baseline << ", peak " << peak_rss(server_->pid());
}

}  // namespace
