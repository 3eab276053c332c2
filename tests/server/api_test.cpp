// The real `trustbase serve` over HTTP, for what issue 3's last pieces added: uploads
// spooled and parsed as a stream (bounds while streaming, gzip bombs, codings, the spool
// directory), XML reports, signature import over HTTP, and enrolment tokens.
#include <httplib.h>
#include <sys/socket.h>
#include <zlib.h>

#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>

#include "format/chunked_scan.h"
#include "format/scan_reader.h"
#include "format/scan_writer.h"
#include "server/server_process.h"

namespace {

using nlohmann::json;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;
using servertest::fs::path;
namespace fs = std::filesystem;

std::string deflate_to(const std::string& text, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
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

// A raw HTTP conversation: sends `head`, then `body` in 64 KiB pieces while the server
// has not answered yet (it may answer and close mid-body), then reads the answer until
// the server closes or 10 s pass. `sent` receives the body bytes written, `closed`
// whether the server closed the connection (rather than the wait running out).
// With `await_continue`, the interim "100 Continue" is read (and kept in the answer)
// before the body is sent.
std::string raw_exchange(int port, const std::string& head, const std::string& body, std::size_t* sent = nullptr,
                         bool* closed = nullptr, bool await_continue = false) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string interim;
  while (await_continue && interim.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    char c;
    if (::poll(&p, 1, 10'000) <= 0 || ::recv(fd, &c, 1, 0) != 1) break;
    interim += c;
  }
  std::size_t offset = 0;
  while (offset < body.size()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) break;  // the server answered already
    const ssize_t n = ::send(fd, body.data() + offset, std::min<std::size_t>(64 * 1024, body.size() - offset),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
      pollfd w{fd, POLLOUT | POLLIN, 0};
      ::poll(&w, 1, 1000);
      if ((w.revents & POLLIN) != 0) break;
      continue;
    }
    if (n <= 0) break;
    offset += static_cast<std::size_t>(n);
  }
  if (sent != nullptr) *sent = offset;
  std::string answer = interim;
  if (closed != nullptr) *closed = false;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;  // end of stream, or reset with the body unread
      break;
    }
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);  // a server closing mid-upload must fail a request, not the test
    char tmpl[] = "/tmp/tb-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    suite_ = fs::canonical(tmpl);
    write(suite_ / "tree/bin/app", "v1");
    write(suite_ / "tree/etc/app.conf", "port=1");
    write(suite_ / "extra/lib/libextra.so", "extra 1");
    write(suite_ / "extra/share/extra.txt", "docs");
    for (const char* name : {"tree", "extra"}) {
      const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + (suite_ / name).string() + " -o " +
                              (suite_ / (std::string(name) + ".xml")).string();
      ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
    scan_ = slurp(suite_ / "tree.xml");
    extra_ = slurp(suite_ / "extra.xml");
  }
  static void TearDownTestSuite() { fs::remove_all(suite_); }

  void SetUp() override {
    char tmpl[] = "/tmp/tb-api-case-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    log_ = dir_ / "server.log";
    int status = 0;
    run(tb() + " import --name app --version 1 --install-root " + (suite_ / "tree").string() + " " +
            (suite_ / "tree").string() + " >/dev/null",
        &status);
    ASSERT_EQ(status, 0);
    admin_ = token("adm", "admin");
    reader_ = token("dashboard", "reader");
    enrol_ = token("bootstrap", "enrol");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string tb() const { return std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string(); }
  std::string token(const std::string& name, const std::string& role, const std::string& host = "") {
    int status = 0;
    std::string t = run(tb() + " token add --name " + name + " --role " + role +
                            (host.empty() ? "" : " --host " + host) + " 2>/dev/null",
                        &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(t.size(), 67u) << t;
    return t;
  }
  void start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServerProcess>(db_, log_, extra);
    ASSERT_GT(server_->port(), 0) << slurp(log_);
  }
  httplib::Client client(const std::string& bearer = "") const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(20, 0);
    if (!bearer.empty()) c.set_bearer_token_auth(bearer.c_str());
    return c;
  }
  httplib::Result post(const std::string& bearer, const std::string& target, const std::string& body,
                       const httplib::Headers& headers = {}, const char* type = "application/xml") const {
    return client(bearer).Post(target.c_str(), headers, body, type);
  }
  // The report an answer to a posted scan points at (its report_url, read as admin): the
  // answer itself carries a verdict summary, never the report.
  json report_of(const httplib::Result& answer) const {
    if (!answer) return json();
    const json parsed = json::parse(answer->body);
    EXPECT_FALSE(parsed.contains("report")) << answer->body;
    if (!parsed.contains("report_url")) {
      ADD_FAILURE() << "no report_url in " << answer->body;
      return json();
    }
    auto got = client(admin_).Get(parsed["report_url"].get<std::string>().c_str());
    if (!got || got->status != 200) {
      ADD_FAILURE() << "GET " << parsed["report_url"] << ": " << (got ? got->body : "no answer");
      return json();
    }
    return json::parse(got->body);
  }
  std::size_t scan_count(const std::string& host) const {
    auto r = client(admin_).Get(("/api/v1/hosts/" + host + "/scans").c_str());
    if (!r || r->status != 200) return 0;
    return json::parse(r->body)["scans"].size();
  }
  // 0 when `xml` validates against schema/report-v1.xsd.
  int validate_report(const std::string& xml) const {
    write(dir_ / "report.xml", xml);
    const std::string cmd = std::string("xmllint --noout --schema ") + TB_SOURCE_DIR + "/schema/report-v1.xsd " +
                            (dir_ / "report.xml").string() + " 2>/dev/null";
    return std::system(cmd.c_str());
  }
  std::string head(const std::string& extra_headers) const {
    return "POST /api/v1/scans?host=web1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
           "\r\nContent-Type: application/xml\r\n" + extra_headers + "\r\n";
  }

  static inline path suite_;
  static inline std::string scan_, extra_;
  path dir_, db_, log_;
  std::string admin_, reader_, enrol_;
  std::unique_ptr<ServerProcess> server_;
};

// ---- streaming ingest ----------------------------------------------------------------

TEST_F(ApiTest, AnAnnouncedOversizeBodyIsRefusedBeforeItIsSent) {
  start({"--max-body-mb", "1"});
  bool closed = false;
  const std::string answer =
      raw_exchange(server_->port(), head("Content-Length: 10737418240\r\n"), "", nullptr, &closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_TRUE(closed);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_NE(answer.find("exceeds 1048576 bytes"), std::string::npos) << answer;
  // A client that asks first is told before it sends anything; a fitting body is welcome.
  const std::string asked =
      raw_exchange(server_->port(), head("Expect: 100-continue\r\nContent-Length: 10737418240\r\n"), "");
  EXPECT_EQ(asked.rfind("HTTP/1.1 413", 0), 0u) << asked;
  const std::string body = scan_;
  const std::string welcome = raw_exchange(
      server_->port(), head("Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"), body,
      nullptr, nullptr, true);
  EXPECT_EQ(welcome.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201", 0), 0u) << welcome;
  EXPECT_EQ(post(admin_, "/api/v1/scans?host=web1", scan_)->status, 201);  // and it still serves
}

// A refused upload's body is never read as the next request on its connection. httplib
// 0.11 parses the unread rest of a refused request's body as a further request when it
// arrives after the refusal, even with "Connection: close" in the answer (tried): only
// one request per connection (install_api) keeps a body from smuggling a request in,
// which a proxy in front would answer to someone else.
TEST_F(ApiTest, ARefusedBodyIsNeverTakenForTheNextRequest) {
  start();
  const std::string smuggled = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto exchange = [&](const std::string& request_head) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::string("connect failed");
    ::send(fd, request_head.data(), request_head.size(), MSG_NOSIGNAL);
    std::string answer;
    char buf[4096];
    // The refusal first, then the body: a request of its own if the server read on.
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) > 0) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) answer.append(buf, static_cast<std::size_t>(n));
    }
    ::send(fd, smuggled.data(), smuggled.size(), MSG_NOSIGNAL);
    for (;;) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 2'000) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
  };
  const auto answers = [](const std::string& text) {
    std::size_t count = 0;
    for (std::size_t at = text.find("HTTP/1.1 "); at != std::string::npos; at = text.find("HTTP/1.1 ", at + 1)) ++count;
    return count;
  };
  const std::string length = "Content-Length: " + std::to_string(smuggled.size()) + "\r\n";
  // Refused before routing (no token) and by the handler (a coding it does not take).
  const std::string no_token = exchange("POST /api/v1/scans?host=web1 HTTP/1.1\r\nHost: x\r\n" + length + "\r\n");
  EXPECT_EQ(no_token.rfind("HTTP/1.1 401", 0), 0u) << no_token;
  EXPECT_EQ(answers(no_token), 1u) << no_token;
  const std::string coding = exchange(head("Content-Encoding: br\r\n" + length));
  EXPECT_EQ(coding.rfind("HTTP/1.1 415", 0), 0u) << coding;
  EXPECT_EQ(answers(coding), 1u) << coding;
  // The same request on a connection of its own is served: what was refused was the smuggling.
  const std::string alone = raw_exchange(server_->port(), smuggled, "");
  EXPECT_EQ(alone.rfind("HTTP/1.1 200", 0), 0u) << alone;
}

TEST_F(ApiTest, AStreamedBodyIsCutOffAtTheBound) {
  start({"--max-body-mb", "1"});
  // Chunked: no length announced, 8 MiB on its way; the bound stops it after 1 MiB.
  std::string body;
  const std::string piece(32 * 1024, ' ');
  for (int i = 0; i < 256; ++i) body += "8000\r\n" + piece + "\r\n";
  body += "0\r\n\r\n";
  std::size_t sent = 0;
  bool closed = false;
  const std::string answer =
      raw_exchange(server_->port(), head("Transfer-Encoding: chunked\r\n"), body, &sent, &closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_TRUE(closed);
  EXPECT_LT(sent, body.size()) << "the server read the whole body";
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(scan_count("web1"), 0u);
}

TEST_F(ApiTest, GzipBombsAre413AndOtherCodingsAreHandled) {
  start({"--max-body-mb", "1"});
  // 64 MiB of blanks inside a document: about 64 KiB of gzip on the wire.
  std::string bomb = scan_;
  bomb.insert(bomb.find("<entries>"), std::string(64u << 20, ' '));
  const std::string packed = deflate_to(bomb, 15 + 16);
  ASSERT_LT(packed.size(), 1u << 20);
  auto r = post(admin_, "/api/v1/scans?host=web1", packed, {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("larger than 1048576"), std::string::npos) << r->body;

  // HTTP's deflate (zlib format) is read too; a corrupt stream is a bad request.
  auto deflated = post(admin_, "/api/v1/scans?host=web1", deflate_to(scan_, 15), {{"Content-Encoding", "deflate"}});
  ASSERT_TRUE(deflated);
  EXPECT_EQ(deflated->status, 201) << deflated->body;
  auto corrupt = post(admin_, "/api/v1/scans?host=web1", "\x1f\x8b garbage", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(corrupt);
  EXPECT_EQ(corrupt->status, 400) << corrupt->body;
  auto brotli = post(admin_, "/api/v1/scans?host=web1", scan_, {{"Content-Encoding", "br"}});
  ASSERT_TRUE(brotli);
  EXPECT_EQ(brotli->status, 415) << brotli->body;
  EXPECT_EQ(scan_count("web1"), 1u);
}

TEST_F(ApiTest, ChunkedUploadsWithoutALengthAreAccepted) {
  start();
  const std::string packed = deflate_to(scan_, 15 + 16);
  auto c = client(admin_);
  auto r = c.Post(
      "/api/v1/scans?host=web1", httplib::Headers{{"Content-Encoding", "gzip"}},
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= packed.size()) {
          sink.done();
          return true;
        }
        sink.write(packed.data() + offset, std::min<std::size_t>(100, packed.size() - offset));
        return true;
      },
      "application/xml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
}

TEST_F(ApiTest, UploadsAreSpooledInTheSpoolDirectoryAndLeaveNothing) {
  {  // an unusable spool directory stops the server at start, not at its first large upload
    ServerProcess refused(db_, log_, {"--spool-dir", (dir_ / "missing").string()});
    EXPECT_EQ(refused.port(), 0);
    EXPECT_NE(refused.kill(SIGTERM), 0);
    EXPECT_NE(slurp(log_).find("cannot create a spool file in " + (dir_ / "missing").string()), std::string::npos)
        << slurp(log_);
  }
  fs::create_directories(dir_ / "spool");
  start({"--spool-dir", (dir_ / "spool").string()});
  auto ok = post(admin_, "/api/v1/scans?host=web1", scan_);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  EXPECT_TRUE(fs::is_empty(dir_ / "spool"));

  // A body beyond what is held in memory goes to a file there: with the directory gone,
  // the upload is refused (503) and nothing is stored; a small one is still taken.
  fs::remove_all(dir_ / "spool");
  const std::string large = scan_ + "<!--" + std::string(3u << 20, 'x') + "-->";
  const std::string refused =
      raw_exchange(server_->port(), head("Content-Length: " + std::to_string(large.size()) + "\r\n"), large);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("cannot create a spool file"), std::string::npos) << refused;
  EXPECT_EQ(scan_count("web1"), 1u);
  auto small = post(admin_, "/api/v1/scans?host=web1", scan_);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 201) << small->body;
  fs::create_directories(dir_ / "spool");
  auto spilled = post(admin_, "/api/v1/scans?host=web1", large);
  ASSERT_TRUE(spilled);
  EXPECT_EQ(spilled->status, 201) << spilled->body;
  EXPECT_TRUE(fs::is_empty(dir_ / "spool"));
  EXPECT_EQ(scan_count("web1"), 3u);
}

// ---- reports in XML --------------------------------------------------------------------

TEST_F(ApiTest, TheReportRouteSpeaksXmlWhenAsked) {
  start();
  ASSERT_EQ(post(admin_, "/api/v1/scans?host=web1", scan_)->status, 201);
  auto xml = client(reader_).Get("/api/v1/hosts/web1/report?format=xml");
  ASSERT_TRUE(xml);
  ASSERT_EQ(xml->status, 200) << xml->body;
  EXPECT_EQ(xml->get_header_value("Content-Type"), "application/xml");
  EXPECT_EQ(validate_report(xml->body), 0) << xml->body;
  EXPECT_NE(xml->body.find("<analysis xmlns=\"urn:trustbase:report:1\""), std::string::npos) << xml->body;
  EXPECT_NE(xml->body.find("id=\"app@1\""), std::string::npos) << xml->body;

  auto accepted = client(reader_).Get("/api/v1/hosts/web1/report", {{"Accept", "application/xml"}});
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->get_header_value("Content-Type"), "application/xml");
  EXPECT_EQ(accepted->body, xml->body);
  auto prefers_json =
      client(reader_).Get("/api/v1/hosts/web1/report", {{"Accept", "application/json, application/xml"}});
  ASSERT_TRUE(prefers_json);
  EXPECT_EQ(prefers_json->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(json::parse(prefers_json->body)["clean"].get<bool>());
  auto text = client(reader_).Get("/api/v1/hosts/web1/report?format=text");
  ASSERT_TRUE(text);
  EXPECT_NE(text->body.find("result: clean"), std::string::npos) << text->body;
  auto bad = client(reader_).Get("/api/v1/hosts/web1/report?format=yaml");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

// ---- chunked uploads (format/chunked_scan.h) --------------------------------------------

struct ChunkedBody {
  std::string header;
  std::vector<tb::EncodedChunk> chunks;
  std::string encode(const std::set<std::string>& send) const {
    return tb::encode_chunked_scan(header, chunks, [&](const tb::Sha256Digest& d) { return send.count(d.hex()) > 0; });
  }
  std::set<std::string> digests() const {
    std::set<std::string> out;
    for (const auto& c : chunks) out.insert(c.digest.hex());
    return out;
  }
};

ChunkedBody chunked(const std::string& document) {
  auto doc = tb::parse_scan(document);
  EXPECT_TRUE(doc) << doc.error().message;
  ChunkedBody body;
  tb::StringSink sink(body.header);
  auto writer = tb::make_scan_writer(tb::ScanFormat::xml, sink);
  EXPECT_TRUE(writer->begin(doc->header));
  EXPECT_TRUE(writer->end(doc->errors, doc->summary));
  tb::ChunkBuilder builder;
  for (const tb::FileRecord& r : doc->manifest) EXPECT_TRUE(builder.add(r));
  body.chunks = builder.finish();
  return body;
}

std::set<std::string> missing_of(const std::string& answer) {
  std::set<std::string> out;
  const json parsed = json::parse(answer);  // kept: a range-for over a temporary's member dangles
  for (const auto& d : parsed.at("missing_chunks")) out.insert(d.get<std::string>());
  return out;
}

TEST_F(ApiTest, AChunkedUploadSendsOnlyTheChunksTheServerLacks) {
  start();
  const std::string type(tb::kChunkedScanMediaType);
  const ChunkedBody tree = chunked(scan_);
  ASSERT_GE(tree.chunks.size(), 3u);
  // By digest alone: the store has none of them yet, so nothing is stored and all are named.
  auto first = post(admin_, "/api/v1/scans?host=web1", tree.encode({}), {}, type.c_str());
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 409) << first->body;
  EXPECT_EQ(missing_of(first->body), tree.digests()) << first->body;
  EXPECT_EQ(scan_count("web1"), 0u);
  // With their content: stored and judged like the document itself.
  auto second = post(admin_, "/api/v1/scans?host=web1", tree.encode(missing_of(first->body)), {}, type.c_str());
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 201) << second->body;
  EXPECT_TRUE(json::parse(second->body)["clean"].get<bool>()) << second->body;
  json chunked_report = report_of(second);
  auto as_document = post(admin_, "/api/v1/scans?host=web2", scan_);
  ASSERT_EQ(as_document->status, 201);
  json document_report = report_of(as_document);
  chunked_report.erase("host");
  document_report.erase("host");
  EXPECT_EQ(chunked_report, document_report);
  // Another host with the same files: every chunk is known, one request is enough.
  auto known = post(admin_, "/api/v1/scans?host=web3", tree.encode({}), {}, type.c_str());
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, 201) << known->body;
  EXPECT_EQ(scan_count("web3"), 1u);
  // ...and judged as web1 was (its manifest's analysis is reused, its own header reported).
  json known_report = report_of(known);
  EXPECT_EQ(known_report["host"], "web3");
  known_report.erase("host");
  EXPECT_EQ(known_report, chunked_report);
  // One file changed (bin/app, "v1" -> "v2"): only its directory's chunk is missing.
  std::string changed_document = scan_;
  const std::string v1 = tb::Sha256::of("v1").hex(), v2 = tb::Sha256::of("v2").hex();
  ASSERT_NE(changed_document.find(v1), std::string::npos);
  changed_document.replace(changed_document.find(v1), v1.size(), v2);
  const ChunkedBody changed = chunked(changed_document);
  auto partly = post(admin_, "/api/v1/scans?host=web3", changed.encode({}), {}, type.c_str());
  ASSERT_EQ(partly->status, 409);
  const std::set<std::string> lacking = missing_of(partly->body);
  ASSERT_EQ(lacking.size(), 1u);
  EXPECT_EQ(tree.digests().count(*lacking.begin()), 0u);
  auto sent = post(admin_, "/api/v1/scans?host=web3", changed.encode(lacking), {}, type.c_str());
  ASSERT_EQ(sent->status, 201) << sent->body;
  EXPECT_FALSE(json::parse(sent->body)["clean"].get<bool>()) << "bin/app differs from app@1";
  EXPECT_EQ(scan_count("web3"), 2u);
}

TEST_F(ApiTest, AChunkedUploadThatLiesIsRefusedAndStoresNothing) {
  start();
  const std::string type(tb::kChunkedScanMediaType);
  ChunkedBody tree = chunked(scan_);
  // Content that does not hash to the digest it is sent under.
  ChunkedBody lying = tree;
  lying.chunks[0].data.back() ^= 1;
  auto answer = post(admin_, "/api/v1/scans?host=web1", lying.encode(lying.digests()), {}, type.c_str());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400) << answer->body;
  EXPECT_NE(answer->body.find("does not match its digest"), std::string::npos) << answer->body;
  // A document where a chunked body is announced, and garbage.
  EXPECT_EQ(post(admin_, "/api/v1/scans?host=web1", scan_, {}, type.c_str())->status, 400);
  EXPECT_EQ(post(admin_, "/api/v1/scans?host=web1", std::string("TBCHUNKS1\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), {},
                 type.c_str())->status, 400);
  EXPECT_EQ(scan_count("web1"), 0u);
  // A header document that is none: a first round only learns what is missing (its header
  // is read once the chunks are all there), the round with them is refused.
  ChunkedBody headless = tree;
  headless.header = "<scan";
  auto asked = post(admin_, "/api/v1/scans?host=web1", headless.encode({}), {}, type.c_str());
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->status, 409) << asked->body;
  auto refused = post(admin_, "/api/v1/scans?host=web1", headless.encode(headless.digests()), {}, type.c_str());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("header document"), std::string::npos) << refused->body;
  EXPECT_EQ(scan_count("web1"), 0u);
  // A reader token may not even ask which chunks are missing.
  EXPECT_EQ(post(reader_, "/api/v1/scans?host=web1", tree.encode({}), {}, type.c_str())->status, 403);
}

// ---- the answer to a posted scan -------------------------------------------------------

// The summary of an answer, counted again from the whole report at its report_url
// (?all=1: absent signatures too).
json summary_of_report(const json& report) {
  json states = json::object();
  for (const auto& s : report["signatures"]) {
    const std::string state = s["state"];
    states[state] = states.value(state, 0) + 1;
  }
  json changes = {{"added", 0}, {"removed", 0}, {"modified", 0}};
  for (const auto& d : report["deviations"]) {
    const std::string change = d["change"];
    changes[change] = changes[change].get<int>() + 1;
  }
  return {{"signatures", states}, {"deviations", changes}, {"inventory_issues", 0}, {"unverified", 0}};
}

// A real host's report runs to tens of megabytes: the answer is the verdict in counts and
// the URL the report is read from, whatever ?all= says.
TEST_F(ApiTest, TheAnswerToAScanIsAVerdictSummaryWithTheReportsUrl) {
  start();
  const auto check = [&](const std::string& host, const std::string& document, const json& expected, bool clean) {
    SCOPED_TRACE(host);
    auto answer = post(admin_, "/api/v1/scans?all=1&host=" + httplib::detail::encode_query_param(host), document);
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->status, 201) << answer->body;
    EXPECT_LT(answer->body.size(), 1024u) << answer->body;
    const json a = json::parse(answer->body);
    EXPECT_FALSE(a.contains("report")) << answer->body;
    EXPECT_EQ(a["host"], host);
    EXPECT_TRUE(a["scan_id"].is_number_integer());
    EXPECT_EQ(a["clean"], clean) << answer->body;
    EXPECT_EQ(a["summary"], expected) << answer->body;
    // The URL names the host path-encoded, and GETs the report the summary counts.
    std::string encoded;
    for (const char c : host) encoded += c == ' ' ? std::string("%20") : std::string(1, c);
    EXPECT_EQ(a["report_url"], "/api/v1/hosts/" + encoded + "/report");
    auto report = client(reader_).Get((a["report_url"].get<std::string>() + "?all=1").c_str());
    ASSERT_TRUE(report);
    ASSERT_EQ(report->status, 200) << report->body;
    const json whole = json::parse(report->body);
    EXPECT_EQ(whole["host"], host);
    EXPECT_EQ(whole["clean"], clean);
    EXPECT_EQ(summary_of_report(whole), a["summary"]) << report->body;
  };
  const auto summary = [](json states, int added, int removed, int modified) {
    return json{{"signatures", std::move(states)},
                {"deviations", {{"added", added}, {"removed", removed}, {"modified", modified}}},
                {"inventory_issues", 0},
                {"unverified", 0}};
  };
  // The tree app@1 was made from: complete, nothing deviates.
  check("web1", scan_, summary({{"complete", 1}}, 0, 0, 0), true);
  // Files no signature knows, app@1 nowhere: two added.
  check("rack 7 db", extra_, summary({{"absent", 1}}, 2, 0, 0), false);
  // app@1 with bin/app changed ("v1" -> "v2").
  std::string changed = scan_;
  const std::string v1 = tb::Sha256::of("v1").hex(), v2 = tb::Sha256::of("v2").hex();
  ASSERT_NE(changed.find(v1), std::string::npos);
  changed.replace(changed.find(v1), v1.size(), v2);
  auto modified = post(admin_, "/api/v1/scans?host=web2", changed);
  ASSERT_TRUE(modified);
  ASSERT_EQ(modified->status, 201) << modified->body;
  const json answer = json::parse(modified->body);
  EXPECT_FALSE(answer["clean"].get<bool>());
  EXPECT_EQ(answer["summary"]["deviations"]["modified"], 1) << modified->body;
  EXPECT_FALSE(answer["summary"]["signatures"].contains("complete")) << modified->body;
}

// ---- signature import ------------------------------------------------------------------

// A scan of files another host sent reuses that host's analysis, but only while the
// signatures are the same: an import in between judges it anew.
TEST_F(ApiTest, AReusedAnalysisFollowsNewSignatures) {
  start();
  const std::string type(tb::kChunkedScanMediaType);
  const ChunkedBody tree = chunked(extra_);
  auto first = post(admin_, "/api/v1/scans?host=h1", tree.encode(tree.digests()), {}, type.c_str());
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  const json before = report_of(first)["deviations"];
  EXPECT_FALSE(before.empty()) << "no signature knows the extra tree yet";
  auto same = post(admin_, "/api/v1/scans?host=h2", tree.encode({}), {}, type.c_str());
  ASSERT_TRUE(same);
  ASSERT_EQ(same->status, 201) << same->body;
  EXPECT_EQ(report_of(same)["deviations"], before);

  const std::string extra_root = (suite_ / "extra").string();
  auto created = post(admin_,
                      "/api/v1/signatures?name=extra&version=1&vendor=ACME&install_root=" +
                          httplib::detail::encode_query_param(extra_root),
                      deflate_to(extra_, 15 + 16), {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto after = post(admin_, "/api/v1/scans?host=h3", tree.encode({}), {}, type.c_str());
  ASSERT_TRUE(after);
  ASSERT_EQ(after->status, 201) << after->body;
  const json report = report_of(after);
  ASSERT_EQ(report["signatures"].size(), 1u) << report.dump();
  EXPECT_EQ(report["signatures"][0]["signature"], "extra@1");
  EXPECT_EQ(report["signatures"][0]["state"], "complete");
  // The install root's own directory, which the signature does not list, is the scan's
  // root: no deviation of its own.
  EXPECT_TRUE(report["deviations"].empty()) << report.dump();
  EXPECT_EQ(scan_count("h3"), 1u);
}

TEST_F(ApiTest, SignaturesImportOverHttpLikeTheCli) {
  start();
  const std::string extra_root = (suite_ / "extra").string();
  // Deviating paths of a report, relative to the extra tree ("." for its root).
  auto deviations = [&](const json& report) {
    std::vector<std::string> out;
    for (const auto& d : report["deviations"])
      out.push_back(fs::path(d["path"].get<std::string>()).lexically_relative(extra_root).string());
    return out;
  };
  // A host carrying files no signature knows yet.
  auto before = post(admin_, "/api/v1/scans?host=h2", extra_);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 201) << before->body;
  EXPECT_EQ(deviations(report_of(before)), (std::vector<std::string>{"lib/libextra.so", "share/extra.txt"}))
      << "the root and mere parent directories are no deviations of their own";

  const std::string target = "/api/v1/signatures?name=extra&version=1&vendor=ACME&install_root=" +
                             httplib::detail::encode_query_param(extra_root);
  auto created = post(admin_, target, deflate_to(extra_, 15 + 16), {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const json answer = json::parse(created->body);
  EXPECT_EQ(answer["signature"], "extra@1");
  EXPECT_EQ(answer["kind"], "product");
  EXPECT_TRUE(answer["created"].get<bool>());
  EXPECT_GT(answer["records"].get<int>(), 2);

  // The running server judges with the new signature at once (its index was invalidated).
  auto report = client(reader_).Get("/api/v1/hosts/h2/report");
  ASSERT_TRUE(report);
  const json after = json::parse(report->body);
  // Nothing is left: the signature lists what is under the install root, and the root
  // itself (the scan's root) is no deviation.
  EXPECT_TRUE(deviations(after).empty()) << report->body;
  bool listed = false;
  for (const auto& s : after["signatures"]) listed |= s["signature"] == "extra@1" && s["state"] == "complete";
  EXPECT_TRUE(listed) << report->body;

  // Idempotent with the same files, immutable with others; the CLI sees the same store.
  auto again = post(admin_, target, extra_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(json::parse(again->body)["id"], answer["id"]);
  EXPECT_FALSE(json::parse(again->body)["created"].get<bool>());
  auto conflict = post(admin_,
                       "/api/v1/signatures?name=extra&version=1&install_root=" +
                           httplib::detail::encode_query_param((suite_ / "tree").string()),
                       scan_);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409) << conflict->body;
  EXPECT_NE(json::parse(conflict->body)["error"].get<std::string>().find("immutable"), std::string::npos);
  auto list = client(reader_).Get("/api/v1/signatures");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body)["signatures"].size(), 2u);

  // A patch names what it patches.
  auto patch = post(admin_,
                    "/api/v1/signatures?name=extra-fix&version=1&kind=patch&patches=extra@1&install_root=" +
                        httplib::detail::encode_query_param(extra_root),
                    extra_);
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->status, 201) << patch->body;
  EXPECT_EQ(json::parse(patch->body)["kind"], "patch");
}

TEST_F(ApiTest, SignatureImportRefusesWhatItCannotTake) {
  const std::string host_token = token("web1-agent", "host", "web1");
  start();
  const std::string ok = "/api/v1/signatures?name=x&version=1";
  for (const std::string& bearer : {reader_, host_token, enrol_}) {
    auto r = post(bearer, ok, scan_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << r->body;
  }
  auto package = post(admin_, ok, "!<arch>\n", {}, "application/vnd.debian.binary-package");
  ASSERT_TRUE(package);
  EXPECT_EQ(package->status, 415) << package->body;
  for (const std::string& target :
       {std::string("/api/v1/signatures?version=1"), std::string("/api/v1/signatures?name=x&version=1&kind=patch"),
        std::string("/api/v1/signatures?name=x&version=1&kind=other"),
        std::string("/api/v1/signatures?name=x&version=a@b"), std::string("/api/v1/signatures?name=x%01y&version=1"),
        std::string("/api/v1/signatures?name=x&version=1&install_root=relative")}) {
    auto r = post(admin_, target, scan_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << target << ": " << r->body;
  }
  auto broken = post(admin_, ok, scan_.substr(0, scan_.size() / 2));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400);
  auto list = client(reader_).Get("/api/v1/signatures");
  EXPECT_EQ(json::parse(list->body)["signatures"].size(), 1u);  // app@1 only
}

// ---- enrolment -------------------------------------------------------------------------

TEST_F(ApiTest, AnEnrolmentTokenEnrolsANewHostOnce) {
  int added = 0;
  run(tb() + " cluster add payments >/dev/null 2>&1", &added);
  ASSERT_EQ(added, 0);
  start();
  auto first = post(enrol_, "/api/v1/scans?host=new1&cluster=payments&role=active", scan_);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  const json answer = json::parse(first->body);
  EXPECT_EQ(answer["host"], "new1");
  EXPECT_EQ(answer["host_token_name"], "enrolled:new1");
  const std::string host_token = answer["host_token"];
  EXPECT_EQ(host_token.size(), 67u);
  EXPECT_FALSE(answer.contains("report")) << first->body;
  EXPECT_TRUE(answer["summary"].is_object()) << first->body;
  EXPECT_EQ(answer["report_url"], "/api/v1/hosts/new1/report");

  // The host token is the host's: its scans, its report, nothing else.
  auto own = post(host_token, "/api/v1/scans", scan_);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 201) << own->body;
  EXPECT_EQ(json::parse(own->body)["host"], "new1");
  EXPECT_FALSE(json::parse(own->body).contains("host_token"));
  EXPECT_EQ(post(host_token, "/api/v1/scans?host=other", scan_)->status, 403);
  EXPECT_EQ(client(host_token).Get("/api/v1/hosts/new1/report")->status, 200);
  EXPECT_EQ(scan_count("new1"), 2u);
  auto hosts = client(reader_).Get("/api/v1/hosts");
  const json list = json::parse(hosts->body)["hosts"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["cluster"], "payments");
  EXPECT_EQ(list[0]["role"], "active");

  // Enrolling new1 again would hand out a second key to it: refused, nothing stored.
  auto second = post(enrol_, "/api/v1/scans?host=new1&cluster=payments&role=inactive", scan_);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 409) << second->body;
  EXPECT_FALSE(json::parse(second->body).contains("host_token"));
  EXPECT_EQ(scan_count("new1"), 2u);
  EXPECT_EQ(json::parse(client(reader_).Get("/api/v1/hosts")->body)["hosts"][0]["role"], "active");

  // Revoked, the host can be enrolled again (a reinstalled machine).
  int status = 0;
  run(tb() + " token revoke enrolled:new1 >/dev/null", &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(post(host_token, "/api/v1/scans", scan_)->status, 401);
  auto re = post(enrol_, "/api/v1/scans?host=new1", scan_);
  ASSERT_TRUE(re);
  ASSERT_EQ(re->status, 201) << re->body;
  EXPECT_EQ(json::parse(re->body)["host_token_name"], "enrolled:new1#2");

  // The log names tokens, never shows one.
  const std::string log = slurp(log_);
  EXPECT_NE(log.find("token=bootstrap POST /api/v1/scans 201"), std::string::npos) << log;
  EXPECT_EQ(log.find(host_token), std::string::npos);
  EXPECT_EQ(log.find(enrol_), std::string::npos);
}

TEST_F(ApiTest, AnEnrolmentTokenDoesNothingElse) {
  const std::string admin_made = token("db1-agent", "host", "db1");
  start();
  auto unnamed = post(enrol_, "/api/v1/scans", scan_);
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->status, 400) << unnamed->body;
  auto taken = post(enrol_, "/api/v1/scans?host=db1", scan_);  // db1 has a host token already
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->status, 409) << taken->body;
  // Placement: an existing cluster (enrolment never creates one), with a role; plain text.
  for (const std::string query : {"&cluster=a%0Ab&role=active", "&cluster=nowhere&role=active", "&role=active"}) {
    auto r = post(enrol_, "/api/v1/scans?host=new2" + query, scan_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << query << ": " << r->body;
  }
  ASSERT_EQ(post(admin_, "/api/v1/scans?host=web1", scan_)->status, 201);
  EXPECT_EQ(client(enrol_).Get("/api/v1/hosts/web1/report")->status, 403);
  EXPECT_EQ(client(enrol_).Get("/api/v1/hosts")->status, 403);
  EXPECT_EQ(client(enrol_).Get("/api/v1/signatures")->status, 403);
  EXPECT_EQ(scan_count("db1") + scan_count("new2"), 0u);
}

}  // namespace
