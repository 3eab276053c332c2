// The real `trustbase serve` process over HTTP: authentication and roles, real scans from
// the real scanner (plain and gzip), hostile and oversize bodies, a client dying
// mid-upload, and a server killed right after acknowledging a scan.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tb-serve-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    suite_dir_ = fs::canonical(tmpl);
    // A small tree scanned by the real scanner, and a signature made of it.
    write(suite_dir_ / "tree/bin/app", "v1");
    write(suite_dir_ / "tree/etc/app.conf", "port=1");
    const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + (suite_dir_ / "tree").string() + " -o " +
                            (suite_dir_ / "scan.xml").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    scan_ = slurp(suite_dir_ / "scan.xml");
    ASSERT_FALSE(scan_.empty());
  }
  static void TearDownTestSuite() { fs::remove_all(suite_dir_); }

  void SetUp() override {
    char tmpl[] = "/tmp/tb-serve-case-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    log_ = dir_ / "server.log";
    int status = 0;
    run(tb() + " import --name app --version 1 --install-root " + (suite_dir_ / "tree").string() + " " +
            (suite_dir_ / "tree").string() + " >/dev/null",
        &status);
    ASSERT_EQ(status, 0);
    admin_ = token("adm", "admin");
    web1_ = token("web1-agent", "host", "web1");
    reader_ = token("dashboard", "reader");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string tb() const { return std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string(); }
  std::string token(const std::string& name, const std::string& role, const std::string& host = "") {
    int status = 0;
    std::string t = run(tb() + " token add --name " + name + " --role " + role + (host.empty() ? "" : " --host " + host) +
                            " 2>/dev/null",
                        &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(t.size(), 3u + 64u) << t;
    return t;
  }
  void start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServerProcess>(db_, log_, extra);
    ASSERT_GT(server_->port(), 0) << slurp(log_);
  }
  httplib::Client client(const std::string& bearer = "") const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    if (!bearer.empty()) c.set_bearer_token_auth(bearer.c_str());
    return c;
  }
  httplib::Result post_scan(const std::string& bearer, const std::string& body, const std::string& query = "",
                            bool gzip = false) const {
    auto c = client(bearer);
    c.set_compress(gzip);
    return c.Post(("/api/v1/scans" + query).c_str(), body, "application/xml");
  }
  std::size_t scan_count(const std::string& host) const {
    auto r = client(admin_).Get(("/api/v1/hosts/" + host + "/scans").c_str());
    if (!r || r->status != 200) return 0;
    return json::parse(r->body)["scans"].size();
  }

  static inline fs::path suite_dir_;
  static inline std::string scan_;
  fs::path dir_, db_, log_;
  std::string admin_, web1_, reader_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServeTest, HealthNeedsNoTokenEverythingElseDoes) {
  start();
  auto health = client().Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");

  auto none = client().Get("/api/v1/signatures");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_TRUE(json::parse(none->body).contains("error"));
  auto bad = client("tb_" + std::string(64, '0')).Get("/api/v1/signatures");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  auto post = post_scan("nonsense", scan_);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);

  auto sigs = client(reader_).Get("/api/v1/signatures");
  ASSERT_TRUE(sigs);
  ASSERT_EQ(sigs->status, 200) << sigs->body;
  const json list = json::parse(sigs->body)["signatures"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "app");
  EXPECT_EQ(list[0]["kind"], "product");
  EXPECT_GT(list[0]["records"].get<int>(), 0);
}

TEST_F(ServeTest, PostedScansAreStoredAndReported) {
  start();
  auto plain = post_scan(admin_, scan_, "?host=web1");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 201) << plain->body;
  const json first = json::parse(plain->body);
  EXPECT_EQ(first["host"], "web1");
  EXPECT_TRUE(first["scan_id"].is_number_integer());
  EXPECT_TRUE(first["clean"].get<bool>()) << plain->body;
  // A verdict summary and where the report is, not the report itself.
  EXPECT_FALSE(first.contains("report")) << plain->body;
  ASSERT_TRUE(first["summary"].is_object()) << plain->body;
  ASSERT_EQ(first["report_url"], "/api/v1/hosts/web1/report");

  // The report at report_url is `trustbase report host --format json`'s.
  auto report = client(reader_).Get(first["report_url"].get<std::string>().c_str());
  ASSERT_TRUE(report);
  ASSERT_EQ(report->status, 200);
  const json stored = json::parse(report->body);
  EXPECT_EQ(stored["clean"], first["clean"]);
  int status = -1;
  const std::string cli = run(tb() + " report host web1 --format json", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(json::parse(cli), stored);

  // gzip, filed by a host token under its own host whatever the document says.
  auto gz = post_scan(web1_, scan_, "", true);
  ASSERT_TRUE(gz);
  ASSERT_EQ(gz->status, 201) << gz->body;
  EXPECT_EQ(json::parse(gz->body)["host"], "web1");
  EXPECT_GT(json::parse(gz->body)["scan_id"].get<int>(), first["scan_id"].get<int>());
  EXPECT_EQ(scan_count("web1"), 2u);
  auto own = client(web1_).Get("/api/v1/hosts/web1/report");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);

  // The host list: readers see the fleet, a host token does not.
  auto hosts = client(reader_).Get("/api/v1/hosts");
  ASSERT_TRUE(hosts);
  ASSERT_EQ(hosts->status, 200) << hosts->body;
  const json list = json::parse(hosts->body)["hosts"];
  ASSERT_EQ(list.size(), 1u) << hosts->body;
  EXPECT_EQ(list[0]["name"], "web1");
  EXPECT_EQ(list[0]["scans"], 2);
  EXPECT_EQ(list[0]["latest_scan_id"], json::parse(gz->body)["scan_id"]);
  auto refused = client(web1_).Get("/api/v1/hosts");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
}

TEST_F(ServeTest, BadDocumentsAre400AndStoreNothing) {
  start();
  ASSERT_EQ(post_scan(admin_, scan_, "?host=web1")->status, 201);
  for (const std::string& body : {std::string("garbage"), scan_.substr(0, scan_.size() / 2), std::string()}) {
    auto r = post_scan(admin_, body, "?host=web1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_FALSE(json::parse(r->body)["error"].get<std::string>().empty());
  }
  auto r = post_scan(admin_, scan_.substr(0, scan_.size() / 2), "?host=web1", true);  // gzip too
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(scan_count("web1"), 1u);
  auto report = client(admin_).Get("/api/v1/hosts/web1/report");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, 200);
}

// A plain body announced too big is refused before it is sent, the connection closed
// under a client still writing: api_test.cpp checks that on a raw socket.
TEST_F(ServeTest, OversizeBodiesAre413EvenWhenCompressed) {
  start({"--max-body-mb", "1"});
  const std::string big(2u << 20, ' ');
  auto gz = post_scan(admin_, big, "?host=web1", true);  // a few KiB on the wire
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->status, 413) << gz->body;
  EXPECT_TRUE(json::parse(gz->body).contains("error"));
  EXPECT_EQ(post_scan(admin_, scan_, "?host=web1")->status, 201);  // and it still serves
}

TEST_F(ServeTest, ConcurrentPostsAndReadsAllSucceed) {
  start();
  constexpr int kThreads = 6;
  std::vector<int> statuses(kThreads * 2, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = post_scan(admin_, scan_, "?host=h" + std::to_string(i % 2), i % 3 == 0);
      statuses[static_cast<std::size_t>(i)] = r ? r->status : -1;
      auto g = client(reader_).Get("/api/v1/signatures");
      statuses[static_cast<std::size_t>(kThreads + i)] = g ? g->status : -1;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(statuses[static_cast<std::size_t>(i)], 201);
    EXPECT_EQ(statuses[static_cast<std::size_t>(kThreads + i)], 200);
  }
  EXPECT_EQ(scan_count("h0") + scan_count("h1"), static_cast<std::size_t>(kThreads));
}

TEST_F(ServeTest, UnknownContentEncodingIs415) {
  start();
  httplib::Headers headers{{"Content-Encoding", "zstd"}};
  auto r = client(admin_).Post("/api/v1/scans?host=web1", headers, scan_, "application/xml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415) << r->body;
  EXPECT_EQ(scan_count("web1"), 0u);
}

TEST_F(ServeTest, ASecondServerCannotTakeTheSamePort) {
  start();
  int status = 0;
  run("timeout 10 " + tb() + " serve --listen 127.0.0.1:" + std::to_string(server_->port()) + " 2>/dev/null", &status);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(client().Get("/api/v1/health")->status, 200);
}

TEST_F(ServeTest, RolesAreEnforced) {
  start();
  auto other = post_scan(web1_, scan_, "?host=web2");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  auto reader = post_scan(reader_, scan_, "?host=web1");
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->status, 403);
  ASSERT_EQ(post_scan(admin_, scan_, "?host=web2")->status, 201);
  EXPECT_EQ(client(web1_).Get("/api/v1/hosts/web2/report")->status, 403);
  EXPECT_EQ(client(web1_).Get("/api/v1/signatures")->status, 403);
  EXPECT_EQ(client(reader_).Get("/api/v1/hosts/web2/report")->status, 200);
  EXPECT_EQ(client(reader_).Get("/api/v1/hosts/nowhere/report")->status, 404);
  EXPECT_EQ(client(reader_).Get("/api/v1/hosts/nowhere/scans")->status, 404);
  EXPECT_EQ(client(reader_).Get("/api/v1/no/such/route")->status, 404);
  EXPECT_EQ(scan_count("web1"), 0u);
}

TEST_F(ServeTest, RequestLogNamesTheTokenNeverShowsIt) {
  start();
  ASSERT_EQ(post_scan(web1_, scan_)->status, 201);
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts/web1/report")->status, 200);
  EXPECT_EQ(server_->kill(SIGTERM), 0);  // clean shutdown
  const std::string log = slurp(log_);
  EXPECT_NE(log.find("token=web1-agent POST /api/v1/scans 201 "), std::string::npos) << log;
  EXPECT_NE(log.find("token=dashboard GET /api/v1/hosts/web1/report 200 "), std::string::npos) << log;
  EXPECT_EQ(log.find(web1_), std::string::npos);
  EXPECT_EQ(log.find(reader_), std::string::npos);
  EXPECT_EQ(log.find(web1_.substr(3)), std::string::npos);
}

TEST_F(ServeTest, ClientDyingMidUploadStoresNothing) {
  start();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "POST /api/v1/scans?host=web1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
                           "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(scan_.size()) +
                           "\r\n\r\n";
  const std::string half = head + scan_.substr(0, scan_.size() / 2);
  ASSERT_EQ(::send(fd, half.data(), half.size(), MSG_NOSIGNAL), static_cast<ssize_t>(half.size()));
  ::usleep(100'000);
  ::close(fd);
  ::usleep(100'000);
  auto health = client().Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(scan_count("web1"), 0u);
  EXPECT_EQ(post_scan(admin_, scan_, "?host=web1")->status, 201);
}

TEST_F(ServeTest, AcknowledgedScanSurvivesSigkill) {
  start();
  auto r = post_scan(web1_, scan_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201);
  const int id = json::parse(r->body)["scan_id"];
  EXPECT_EQ(server_->kill(SIGKILL), -SIGKILL);
  start();
  auto scans = client(admin_).Get("/api/v1/hosts/web1/scans");
  ASSERT_TRUE(scans);
  ASSERT_EQ(scans->status, 200);
  const json list = json::parse(scans->body)["scans"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
}

}  // namespace
