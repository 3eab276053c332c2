// Operations (issue 8, items 5 and 6): the structured log (--log-format json,
// --log-level), GET /metrics in the Prometheus text format, and `trustbase backup` /
// `trustbase restore` of a store a real server keeps writing to.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "server/request_log.h"
#include "server_process.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

const std::regex kRfc3339Utc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)");

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// ---- Logger and metrics as values --------------------------------------------------------

tb::server::RequestLogEntry entry(std::string_view path, int status, std::string_view token_name) {
  tb::server::RequestLogEntry e;
  e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'790'000'000'123));
  e.remote_addr = "127.0.0.1";
  e.remote_port = 40000;
  e.token_name = token_name;
  e.method = "GET";
  e.path = path;
  e.status = status;
  e.bytes = 17;
  e.duration = std::chrono::microseconds(12'345);
  return e;
}

TEST(LoggerTest, JsonRequestLineHasEveryField) {
  const tb::server::Logger logger(tb::server::LogFormat::json, tb::server::LogLevel::info);
  const std::string line = logger.format_request(entry("/api/v1/hosts/w\x01\xff/report", 404, "dash\"board"));
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(line.find('\n'), line.size() - 1);  // one line, whatever the path holds
  const json j = json::parse(line);
  EXPECT_EQ(j["time"], "2026-09-21T14:13:20.123Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["remote"], "127.0.0.1:40000");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["bytes"], 17);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.345);
  EXPECT_EQ(j["token_name"], "dash\"board");
  EXPECT_EQ(j["path"].get<std::string>().substr(0, 16), "/api/v1/hosts/w\x01");

  const json anonymous = json::parse(logger.format_request(entry("/api/v1/health", 500, "")));
  EXPECT_TRUE(anonymous["token_name"].is_null());
}

TEST(LoggerTest, TextFormatKeepsTheAccessLogLine) {
  const tb::server::Logger logger;  // text, info
  const auto e = entry("/api/v1/signatures", 200, "dashboard");
  EXPECT_EQ(logger.format_request(e), tb::server::format_log_line(e));
  EXPECT_EQ(logger.format_message(tb::server::LogLevel::error, "disk full", e.time),
            "trustbase serve: error: disk full\n");
  EXPECT_EQ(logger.format_message(tb::server::LogLevel::info, "stopped", e.time), "trustbase serve: stopped\n");
}

TEST(LoggerTest, LevelsFilterAndRoutineRequestsAreDebug) {
  using tb::server::LogLevel;
  const tb::server::Logger warn(tb::server::LogFormat::json, LogLevel::warn);
  EXPECT_FALSE(warn.enabled(LogLevel::info));
  EXPECT_TRUE(warn.enabled(LogLevel::warn));
  EXPECT_TRUE(warn.enabled(LogLevel::error));
  EXPECT_EQ(tb::server::Logger::request_level(entry("/api/v1/health", 200, "")), LogLevel::debug);
  EXPECT_EQ(tb::server::Logger::request_level(entry("/metrics", 200, "")), LogLevel::debug);
  EXPECT_EQ(tb::server::Logger::request_level(entry("/metrics", 401, "")), LogLevel::info);
  EXPECT_EQ(tb::server::Logger::request_level(entry("/api/v1/hosts", 200, "x")), LogLevel::info);
  const json m = json::parse(warn.format_message(LogLevel::warn, "careful", std::chrono::system_clock::now()));
  EXPECT_EQ(m["level"], "warn");
  EXPECT_EQ(m["msg"], "careful");
  EXPECT_TRUE(std::regex_match(m["time"].get<std::string>(), kRfc3339Utc));
  EXPECT_EQ(tb::server::log_level_from_string("verbose"), std::nullopt);
  EXPECT_EQ(tb::server::log_format_from_string("yaml"), std::nullopt);
}

TEST(MetricsTest, RouteLabelsAreTemplatesAndBounded) {
  using tb::server::route_label;
  EXPECT_EQ(route_label("/api/v1/hosts/web01/report", 200), "/api/v1/hosts/{name}/report");
  EXPECT_EQ(route_label("/api/v1/hosts/nobody/report", 404), "/api/v1/hosts/{name}/report");
  EXPECT_EQ(route_label("/api/v1/hosts", 200), "/api/v1/hosts");
  EXPECT_EQ(route_label("/api/v1/scans", 201), "/api/v1/scans");
  EXPECT_EQ(route_label("/api/v1/clusters/prod-a", 200), "/api/v1/clusters/{name}");
  EXPECT_EQ(route_label("/api/v1/made/up", 404), "unmatched");
  EXPECT_EQ(route_label("/wp-login.php", 404), "unmatched");
  EXPECT_EQ(route_label("/metrics", 200), "/metrics");

  tb::server::Metrics metrics;
  for (int i = 0; i < 200; ++i) metrics.observe_request("/api/v1/junk" + std::to_string(i), 401);
  metrics.observe_request("/api/v1/scans", 503);
  const std::string text = metrics.exposition({});
  std::set<std::string> routes;
  const std::regex series(R"re(trustbase_http_requests_total\{route="([^"]*)",status="(\d+)"\} (\d+))re");
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, series)) routes.insert(m[1]);
  }
  EXPECT_LE(routes.size(), tb::server::Metrics::kMaxRoutes + 1);
  EXPECT_TRUE(routes.count("other"));
  EXPECT_NE(text.find("trustbase_http_request_errors_total 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  tb::server::Metrics metrics;
  metrics.observe_analysis(std::chrono::milliseconds(3));
  metrics.observe_analysis(std::chrono::milliseconds(300));
  metrics.observe_analysis(std::chrono::seconds(20));  // beyond every bound: only +Inf
  const std::string text = metrics.exposition({});
  EXPECT_NE(text.find("trustbase_analysis_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_bucket{le=\"0.25\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_bucket{le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trustbase_analysis_seconds_sum 20.303\n"), std::string::npos) << text;
}

// ---- The real server --------------------------------------------------------------------

class OpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tb-ops-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    suite_ = fs::canonical(tmpl);
    write(suite_ / "tree/bin/app", "v1");
    write(suite_ / "tree/etc/app.conf", "port=1");
    write(suite_ / "tree2/bin/app", "v1");
    write(suite_ / "tree2/etc/app.conf", "port=2");  // a tuned configuration file
    write(suite_ / "tree2/bin/tool", "unknown");
    for (const char* name : {"tree", "tree2"}) {
      const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + (suite_ / name).string() + " -o " +
                              (suite_ / (std::string(name) + ".xml")).string();
      ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
    scan_ = slurp(suite_ / "tree.xml");
    scan2_ = slurp(suite_ / "tree2.xml");
  }
  static void TearDownTestSuite() { fs::remove_all(suite_); }

  void SetUp() override {
    char tmpl[] = "/tmp/tb-ops-case-XXXXXX";
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
    web1_ = token("web1-agent", "host", "web1");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string tb(const fs::path& db = {}) const {
    return std::string(TB_TRUSTBASE_BINARY) + " --db " + (db.empty() ? db_ : db).string();
  }
  std::string token(const std::string& name, const std::string& role, const std::string& host = "") {
    int status = 0;
    std::string t = run(tb() + " token add --name " + name + " --role " + role + (host.empty() ? "" : " --host " + host) +
                            " 2>/dev/null",
                        &status);
    EXPECT_EQ(status, 0);
    return t;
  }
  void start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServerProcess>(db_, log_, extra);
    ASSERT_GT(server_->port(), 0) << slurp(log_);
  }
  static httplib::Client client(int port, const std::string& bearer = "") {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(20, 0);
    if (!bearer.empty()) c.set_bearer_token_auth(bearer.c_str());
    return c;
  }
  httplib::Client client(const std::string& bearer = "") const { return client(server_->port(), bearer); }
  int post_scan(int port, const std::string& host, const std::string& body) const {
    auto r = client(port, admin_).Post(("/api/v1/scans?host=" + host).c_str(), body, "application/xml");
    return r ? r->status : -1;
  }
  // The samples of a /metrics answer: "name{labels}" -> value.
  static std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    for (const std::string& line : lines_of(text)) {
      if (line[0] == '#') continue;
      const auto space = line.rfind(' ');
      out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
  }

  static inline fs::path suite_;
  static inline std::string scan_, scan2_;
  fs::path dir_, db_, log_;
  std::string admin_, reader_, web1_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(OpsTest, JsonLogLinesCarryTheRequestAndNeverTheToken) {
  start({"--log-format", "json"});
  auto c = client(web1_);
  ASSERT_EQ(c.Post("/api/v1/scans", scan_, "application/xml")->status, 201);
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts/web1/report")->status, 200);
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts/nobody/report")->status, 404);
  ASSERT_EQ(client("tb_" + std::string(64, '1')).Get("/api/v1/hosts")->status, 401);
  ASSERT_EQ(client().Get("/api/v1/health")->status, 200);  // debug: not logged at info
  EXPECT_EQ(server_->kill(SIGTERM), 0);

  const std::string log = slurp(log_);
  std::vector<json> requests;
  std::vector<std::string> messages;
  for (const std::string& line : lines_of(log)) {
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line;
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(std::regex_match(j.at("time").get<std::string>(), kRfc3339Utc)) << line;
    EXPECT_TRUE(j.at("level").is_string()) << line;
    EXPECT_NE(j.at("level"), "debug") << line;
    if (j.at("msg") == "request") requests.push_back(j);
    else messages.push_back(j.at("msg"));
  }
  ASSERT_EQ(requests.size(), 4u) << log;
  // A line is written once the answer is sent: the next request's may come first.
  std::sort(requests.begin(), requests.end(), [](const json& a, const json& b) {
    const auto rank = [](const json& j) { return j["method"] == "POST" ? 0 : j["status"] == 200 ? 1 : j["status"] == 404 ? 2 : 3; };
    return rank(a) < rank(b);
  });
  const json& post = requests[0];
  EXPECT_EQ(post["method"], "POST");
  EXPECT_EQ(post["path"], "/api/v1/scans");
  EXPECT_EQ(post["status"], 201);
  EXPECT_EQ(post["token_name"], "web1-agent");
  EXPECT_GT(post["bytes"].get<int>(), 0);
  EXPECT_GE(post["duration_ms"].get<double>(), 0.0);
  EXPECT_TRUE(post["remote"].get<std::string>().rfind("127.0.0.1:", 0) == 0) << post;
  EXPECT_EQ(requests[1]["token_name"], "dashboard");
  EXPECT_EQ(requests[2]["status"], 404);
  EXPECT_EQ(requests[3]["status"], 401);
  EXPECT_TRUE(requests[3]["token_name"].is_null());
  EXPECT_FALSE(messages.empty());  // "store ..., listening on", "stopped"
  EXPECT_EQ(messages.back(), "stopped");
  for (const std::string& secret : std::vector<std::string>{web1_, reader_, admin_}) {
    EXPECT_EQ(log.find(secret), std::string::npos);
    EXPECT_EQ(log.find(secret.substr(3)), std::string::npos);  // nor its hex digits alone
  }
  EXPECT_EQ(log.find(std::string(64, '1')), std::string::npos);
}

TEST_F(OpsTest, LogLevelThresholds) {
  start({"--log-format", "json", "--log-level", "debug"});
  ASSERT_EQ(client().Get("/api/v1/health")->status, 200);
  ASSERT_EQ(client().Get("/metrics")->status, 200);
  EXPECT_EQ(server_->kill(SIGTERM), 0);
  std::size_t debug = 0;
  for (const std::string& line : lines_of(slurp(log_))) debug += json::parse(line)["level"] == "debug";
  EXPECT_EQ(debug, 2u) << slurp(log_);

  fs::remove(log_);
  start({"--log-format", "json", "--log-level", "warn"});
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts")->status, 200);
  EXPECT_EQ(server_->kill(SIGTERM), 0);
  EXPECT_EQ(slurp(log_), "");  // requests and start/stop are info

  int status = 0;
  run(tb() + " serve --listen 127.0.0.1:0 --log-format yaml 2>&1", &status);
  EXPECT_EQ(status, 2);
}

TEST_F(OpsTest, MetricsMoveAndParseAsPrometheusText) {
  start();
  auto before = client().Get("/metrics");  // no token by default
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_EQ(before->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto s0 = samples(before->body);
  EXPECT_EQ(s0["trustbase_scans_ingested_total"], 0);
  EXPECT_EQ(s0["trustbase_signatures"], 1);
  EXPECT_EQ(s0["trustbase_hosts"], 0);
  EXPECT_GT(s0["trustbase_store_bytes{file=\"db\"}"], 0);

  ASSERT_EQ(post_scan(server_->port(), "web1", scan_), 201);
  ASSERT_EQ(post_scan(server_->port(), "web2", scan2_), 201);
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts/web1/report")->status, 200);
  ASSERT_EQ(client(reader_).Get("/api/v1/hosts/ghost/report")->status, 404);
  ASSERT_EQ(client(admin_).Post("/api/v1/signatures?name=app2&version=1", scan2_, "application/xml")->status, 201);
  auto after = client().Get("/metrics");
  ASSERT_EQ(after->status, 200);
  auto s1 = samples(after->body);
  EXPECT_EQ(s1["trustbase_scans_ingested_total"], 2);
  EXPECT_EQ(s1["trustbase_scan_records_ingested_total"],
            json::parse(client(reader_).Get("/api/v1/hosts/web1/scans")->body)["scans"][0]["records"].get<double>() +
                json::parse(client(reader_).Get("/api/v1/hosts/web2/scans")->body)["scans"][0]["records"].get<double>());
  EXPECT_EQ(s1["trustbase_imports_total"], 1);
  EXPECT_EQ(s1["trustbase_signatures"], 2);
  EXPECT_EQ(s1["trustbase_hosts"], 2);
  EXPECT_EQ(s1["trustbase_http_requests_total{route=\"/api/v1/scans\",status=\"201\"}"], 2);
  EXPECT_EQ(s1["trustbase_http_requests_total{route=\"/api/v1/hosts/{name}/report\",status=\"200\"}"], 1);
  EXPECT_EQ(s1["trustbase_http_requests_total{route=\"/api/v1/hosts/{name}/report\",status=\"404\"}"], 1);
  EXPECT_EQ(s1["trustbase_http_requests_total{route=\"/metrics\",status=\"200\"}"], 1);
  EXPECT_EQ(s1["trustbase_analysis_seconds_count"], 3);  // two ingests, one report
  EXPECT_EQ(s1["trustbase_analysis_seconds_bucket{le=\"+Inf\"}"], 3);
  EXPECT_EQ(s1["trustbase_http_request_errors_total"], 0);
  EXPECT_EQ(s1["trustbase_store_writes_total"], 2);  // one per scan; two posts in a row: a commit each
  EXPECT_EQ(s1["trustbase_store_write_batches_total"], 2);

  // Every line is a sample, a HELP or a TYPE line, and a real parser reads it all.
  const std::regex sample(R"re([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? -?[0-9.e+Inf]+)re");
  const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  for (const std::string& line : lines_of(after->body))
    EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, comment)) << line;
  write(dir_ / "metrics.txt", after->body);
  write(dir_ / "parse.py",
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
        "    print(f.name, f.type, len(f.samples))\n");
  int status = 0;
  const std::string parsed =
      run("/usr/bin/python3 " + (dir_ / "parse.py").string() + " " + (dir_ / "metrics.txt").string() + " 2>&1", &status);
  ASSERT_EQ(status, 0) << parsed << "\n(python3-prometheus-client: scripts/install-deps.sh)";
  for (const char* family :
       {"trustbase_scans_ingested counter 1", "trustbase_scan_records_ingested counter 1", "trustbase_imports counter 1",
        "trustbase_http_request_errors counter 1", "trustbase_analysis_seconds histogram 14",
        "trustbase_store_bytes gauge", "trustbase_signatures gauge 1", "trustbase_hosts gauge 1",
        "trustbase_http_requests counter", "trustbase_store_writes counter 1", "trustbase_store_write_batches counter 1"})
    EXPECT_NE(parsed.find(family), std::string::npos) << family << "\n" << parsed;
}

TEST_F(OpsTest, MetricsCanWantAReaderToken) {
  start({"--metrics-token-role", "reader"});
  EXPECT_EQ(client().Get("/metrics")->status, 401);
  EXPECT_EQ(client("tb_" + std::string(64, '2')).Get("/metrics")->status, 401);
  EXPECT_EQ(client(web1_).Get("/metrics")->status, 403);
  EXPECT_EQ(client(reader_).Get("/metrics")->status, 200);
  EXPECT_EQ(client(admin_).Get("/metrics")->status, 200);
}

// ---- Backup and restore -----------------------------------------------------------------

class BackupTest : public OpsTest {
 protected:
  // A fleet: cluster prod with web1 (clean) and web2 (a tuned file, an unknown binary),
  // web1 published as the reference snapshot.
  void make_fleet() {
    int status = 0;
    for (const std::string cmd : {" cluster add prod", " host add web1 --cluster prod --role active",
                                   " host add web2 --cluster prod --role inactive"}) {
      run(tb() + cmd + " >/dev/null 2>&1", &status);
      ASSERT_EQ(status, 0) << cmd;
    }
    ASSERT_EQ(post_scan(server_->port(), "web1", scan_), 201);
    ASSERT_EQ(post_scan(server_->port(), "web2", scan2_), 201);
    run(tb() + " snapshot publish --cluster prod --from web1 >/dev/null 2>&1", &status);
    ASSERT_EQ(status, 0);
  }
  std::string report(int port, const std::string& host) const {
    auto r = client(port, reader_).Get(("/api/v1/hosts/" + host + "/report").c_str());
    return r && r->status == 200 ? r->body : "error";
  }
  std::string fleet_json(const fs::path& db, const std::string& filter = "") const {
    int status = 0;
    std::string out = run(tb(db) + " report fleet --format json" + filter + " 2>&1", &status);
    EXPECT_LE(status, 1) << out;
    // Everything but the time the report was made.
    return std::regex_replace(out, std::regex(R"("generated":"[^"]*")"), R"("generated":"")");
  }
};

TEST_F(BackupTest, OnlineBackupUnderLoadRestoresToIdenticalReports) {
  start();
  make_fleet();
  ASSERT_EQ(post_scan(server_->port(), "busy", scan2_), 201);
  // Four clients post scans of one host while the backup copies a page at a time.
  std::atomic<int> failures{0};
  std::atomic<int> posted{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  // They post until the backup is over (however slow the machine or the sanitizer makes
  // either side), bounded in case the backup hangs.
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 500 && !stop; ++i) {
        if (post_scan(server_->port(), "busy", scan2_) == 201) ++posted;
        else ++failures;
      }
    });
  while (posted.load() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int posted_before = posted.load();
  int status = 0;
  const std::string out =
      run(tb() + " backup --to " + (dir_ / "backup.db").string() + " --step-pages 2 2>&1", &status);
  const int posted_at_end = posted.load();
  stop = true;
  for (auto& c : clients) c.join();
  RecordProperty("backup", out);
  RecordProperty("posted_during", posted_at_end);
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(posted_at_end, posted_before) << "no scan landed while the backup ran: nothing tested";
  EXPECT_NE(out.find("schema version"), std::string::npos) << out;
  EXPECT_NE(out.find("integrity ok"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "backup.db.partial"));

  const fs::path fresh = dir_ / "fresh" / "store.db";
  fs::create_directories(fresh.parent_path());
  const std::string restored = run(tb() + " restore --from " + (dir_ / "backup.db").string() + " --store " +
                                       fresh.string() + " 2>&1",
                                   &status);
  ASSERT_EQ(status, 0) << restored;
  ServerProcess second(fresh, dir_ / "second.log");
  ASSERT_GT(second.port(), 0) << slurp(dir_ / "second.log");
  for (const char* host : {"web1", "web2", "busy"}) {
    const std::string a = report(server_->port(), host);
    EXPECT_NE(a, "error") << host;
    EXPECT_EQ(a, report(second.port(), host)) << host;
  }
  // The busy host gained scans after the copy began, so the fleet report is compared for
  // the cluster (scan ids of its members are the same rows in both stores).
  const std::string fleet = fleet_json(db_, " --cluster prod");
  EXPECT_NE(fleet.find("\"web2\""), std::string::npos) << fleet;
  EXPECT_EQ(fleet, fleet_json(fresh, " --cluster prod"));
  // The copy is a consistent point in time: some, not all, of the busy host's scans.
  const auto busy_scans = [&](int port) {
    return json::parse(client(port, reader_).Get("/api/v1/hosts/busy/scans")->body)["scans"].size();
  };
  EXPECT_GE(busy_scans(second.port()), 1u);
  EXPECT_LE(busy_scans(second.port()), busy_scans(server_->port()));

  // Quiet now: a second backup gives the whole fleet report byte for byte.
  ASSERT_EQ(run(tb() + " backup --to " + (dir_ / "quiet.db").string() + " >/dev/null 2>&1", &status), "");
  ASSERT_EQ(status, 0);
  const fs::path quiet = dir_ / "quiet" / "store.db";
  fs::create_directories(quiet.parent_path());
  run(tb(quiet) + " restore --from " + (dir_ / "quiet.db").string() + " >/dev/null 2>&1", &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(fleet_json(db_), fleet_json(quiet));
}

TEST_F(BackupTest, RestoreRefusesCorruptNewerOrOccupiedAndLeavesTheStore) {
  start();
  make_fleet();
  int status = 0;
  const fs::path backup = dir_ / "backup.db";
  run(tb() + " backup --to " + backup.string() + " >/dev/null 2>&1", &status);
  ASSERT_EQ(status, 0);
  server_->kill(SIGTERM);

  // Over a store that holds data: refused without --force, the store untouched.
  const std::string store_bytes = slurp(db_);
  std::string out = run(tb() + " restore --from " + backup.string() + " 2>&1", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(slurp(db_), store_bytes);

  // A corrupt backup (pages overwritten in the middle, or a truncated header).
  const std::string good = slurp(backup);
  ASSERT_GT(good.size(), 8u * 4096);
  std::string bad = good;
  for (std::size_t i = 2 * 4096; i < 6 * 4096; ++i) bad[i] = static_cast<char>(i * 7);
  write(dir_ / "corrupt.db", bad);
  write(dir_ / "truncated.db", good.substr(0, 50));
  write(dir_ / "text.db", "not a database at all, just text that is long enough to fill a header..........");
  for (const char* name : {"corrupt.db", "truncated.db", "text.db", "missing.db"}) {
    out = run(tb() + " restore --force --from " + (dir_ / name).string() + " 2>&1", &status);
    EXPECT_EQ(status, 2) << name;
    EXPECT_NE(out.find("not a usable backup"), std::string::npos) << name << ": " << out;
    EXPECT_EQ(slurp(db_), store_bytes) << name;
  }

  // A backup from a newer trustbase: its schema version is above what this one knows.
  fs::copy_file(backup, dir_ / "newer.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "newer.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, 'from the future', 0)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const fs::path fresh = dir_ / "fresh.db";
  out = run(tb(fresh) + " restore --from " + (dir_ / "newer.db").string() + " 2>&1", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("newer than this trustbase knows"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(fresh));

  // An empty store (schema, no data) is no loss: replaced without --force.
  const fs::path empty = dir_ / "empty.db";
  run(tb(empty) + " host list >/dev/null 2>&1", &status);
  ASSERT_TRUE(fs::exists(empty));
  out = run(tb(empty) + " restore --from " + backup.string() + " 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(run(tb(empty) + " host list 2>&1").find("web2"), std::string::npos);

  // --force replaces the store, and a server on it reports as before.
  out = run(tb() + " restore --force --from " + backup.string() + " 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  start();
  EXPECT_NE(report(server_->port(), "web2"), "error");
}

TEST_F(BackupTest, FailedBackupLeavesNoFile) {
  start();  // the store's -shm exists: the size limit below hits the copy, not the store
  int status = 0;
  // Disk full, as the file size limit makes it: writes fail with EFBIG.
  const fs::path target = dir_ / "out" / "backup.db";
  fs::create_directories(target.parent_path());
  std::string out = run("sh -c \"trap '' XFSZ; ulimit -f 8; exec " + tb() + " backup --to " + target.string() +
                            "\" 2>&1",
                        &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("trustbase backup: "), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(target.parent_path())) << out;

  // A directory that does not exist; a store that does not.
  out = run(tb() + " backup --to " + (dir_ / "no" / "such" / "dir.db").string() + " 2>&1", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("dir.db.partial"), std::string::npos) << out;
  out = run(tb() + " backup --to " + db_.string() + " 2>&1", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("is the store itself"), std::string::npos) << out;
  out = run(tb(dir_ / "nothing.db") + " backup --to " + target.string() + " 2>&1", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("no such store"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "nothing.db"));
  EXPECT_TRUE(fs::is_empty(target.parent_path()));

  // An existing backup is replaced only by a complete, checked one.
  run(tb() + " backup --to " + target.string() + " >/dev/null 2>&1", &status);
  ASSERT_EQ(status, 0);
  const std::string first = slurp(target);
  run("sh -c \"trap '' XFSZ; ulimit -f 8; exec " + tb() + " backup --to " + target.string() + "\" >/dev/null 2>&1",
      &status);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(slurp(target), first);
  EXPECT_FALSE(fs::exists(target.string() + ".partial"));
}

}  // namespace
