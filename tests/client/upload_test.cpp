// The scanner's upload: gzip body in a temporary file, bearer token, retries with
// backoff against a real HTTP server on loopback that fails on purpose.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <string>
#include <thread>

#include <httplib.h>

#include "client/gzip_file.h"
#include "client/upload.h"

namespace tb {
namespace {

std::string gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  EXPECT_EQ(rc, Z_STREAM_END) << "not a complete gzip stream";
  return out;
}

// A loopback server whose /api/v1/scans answers 503 `failures` times, then 201.
class FlakyServer {
 public:
  explicit FlakyServer(int failures, int final_status = 201) : failures_(failures), final_status_(final_status) {
    server_.Post("/api/v1/scans", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      last_auth_ = req.get_header_value("Authorization");
      last_encoding_ = req.get_header_value("Content-Encoding");
      last_host_ = req.get_param_value("host");
      last_body_ = req.body;
      if (requests_ <= failures_) {
        res.status = 503;
        res.set_content("{\"error\":\"busy\"}", "application/json");
        return;
      }
      res.status = final_status_;
      res.set_content("{\"scan_id\":1}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FlakyServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  int failures_, final_status_;
  std::atomic<int> requests_{0};
  std::string last_auth_, last_encoding_, last_host_, last_body_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::unique_ptr<GzipTempFile> document(const std::string& text) {
  auto f = GzipTempFile::create();
  EXPECT_TRUE(f);
  // Many writes, as the scan writer does.
  for (std::size_t i = 0; i < text.size(); i += 1000) EXPECT_TRUE((*f)->write(std::string_view(text).substr(i, 1000)));
  EXPECT_TRUE((*f)->finish());
  return std::move(*f);
}

UploadOptions options(const FlakyServer& server) {
  UploadOptions o;
  o.server = server.url();
  o.token = "secret-token";
  o.host = "web 01";
  o.first_wait = std::chrono::milliseconds(5);
  return o;
}

TEST(GzipTempFile, HoldsTheWholeDocumentCompressed) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "<file path=\"/opt/app/f" + std::to_string(i) + "\"/>\n";
  auto file = document(text);
  EXPECT_EQ(file->raw_bytes(), text.size());
  EXPECT_LT(file->compressed_bytes(), text.size() / 4);
  std::string compressed(file->compressed_bytes(), '\0');
  ASSERT_EQ(::pread(file->fd(), compressed.data(), compressed.size(), 0), static_cast<ssize_t>(compressed.size()));
  EXPECT_EQ(gunzip(compressed), text);
}

TEST(Upload, SendsGzipWithTheBearerTokenAndHost) {
  FlakyServer server(0);
  const std::string text(300000, 'x');
  auto file = document(text);
  auto res = upload_scan(options(server), *file, ScanFormat::xml, [](const std::string&) {});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(server.requests_, 1);
  EXPECT_EQ(server.last_auth_, "Bearer secret-token");
  EXPECT_EQ(server.last_host_, "web 01");
  // httplib decompresses gzip request bodies on the server side.
  EXPECT_EQ(server.last_body_, text);
}

TEST(Upload, RetriesWhileTheServerIsBusyThenSucceeds) {
  FlakyServer server(3);
  auto file = document("<scan/>");
  std::vector<std::string> log;
  auto res = upload_scan(options(server), *file, ScanFormat::xml, [&](const std::string& l) { log.push_back(l); });
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(server.requests_, 4);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[0].find("503"), std::string::npos) << log[0];
  EXPECT_EQ(server.last_body_, "<scan/>") << "every attempt sends the whole body";
}

TEST(Upload, GivesUpAfterTheLastAttempt) {
  FlakyServer server(100);
  auto file = document("<scan/>");
  UploadOptions o = options(server);
  o.attempts = 3;
  auto res = upload_scan(o, *file, ScanFormat::xml, [](const std::string&) {});
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("gave up after 3 attempts"), std::string::npos) << res.error().message;
  EXPECT_EQ(server.requests_, 3);
}

TEST(Upload, ClientErrorsAreNotRetried) {
  FlakyServer server(0, 400);
  auto file = document("<scan/>");
  auto res = upload_scan(options(server), *file, ScanFormat::xml, [](const std::string&) {});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(server.requests_, 1);
}

TEST(Upload, UnreachableServerIsRetriedThenReported) {
  auto file = document("<scan/>");
  UploadOptions o;
  o.server = "http://127.0.0.1:9";  // discard port: nothing listens
  o.token = "t";
  o.attempts = 2;
  o.first_wait = std::chrono::milliseconds(5);
  int logged = 0;
  auto res = upload_scan(o, *file, ScanFormat::xml, [&](const std::string&) { ++logged; });
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("cannot reach"), std::string::npos) << res.error().message;
  EXPECT_EQ(logged, 1);
}

TEST(Upload, RefusesANonHttpUrl) {
  auto file = document("<scan/>");
  UploadOptions o;
  o.server = "ftp://x";
  auto res = upload_scan(o, *file, ScanFormat::xml, [](const std::string&) {});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace tb
