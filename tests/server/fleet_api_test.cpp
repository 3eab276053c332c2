// The fleet routes (server/fleet_api.h) and the embedded dashboard files on the real
// `trustbase serve`: paging bounds and filters of the matrix, cluster and host details
// with hashes, CSV, history, supersession chains, roles (a reader never writes), and
// admin writes landing in the audit log with the token's name.
#include <httplib.h>
#include <zlib.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_process.h"

namespace {

using nlohmann::json;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;
namespace fs = std::filesystem;

std::string gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "inflateInit2 failed";
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "not a complete gzip stream";
}

class FleetApiTest : public ::testing::Test {
 protected:
  // One store for the suite, copied per test: product app@1, patches fix@1 and fix@2
  // (fix@2 supersedes fix@1), clusters c1 (h1 active, h2 inactive, h3 active) and c2
  // (h4 active). h1 and h3 run fix@2, h2 has a tampered binary and an extra file, h4 runs
  // the bare product.
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tb-fleet-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    suite_ = fs::canonical(tmpl);
    const fs::path app = suite_ / "app";
    write(app / "bin/app", "v1");
    write(app / "etc/app.conf", "port=1");
    write(suite_ / "fix1/bin/app", "v2");
    write(suite_ / "fix2/bin/app", "v3");
    const std::string db = (suite_ / "store.db").string();
    auto tb = [&](const std::string& args) {
      int status = 0;
      const std::string out = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db + " " + args + " 2>&1", &status);
      EXPECT_EQ(status, 0) << args << ": " << out;
      return out;
    };
    auto scan = [&](const std::string& name) {
      const std::string file = (suite_ / (name + ".xml")).string();
      ASSERT_EQ(std::system((std::string(TB_SCAN_BINARY) + " -q " + app.string() + " -o " + file).c_str()), 0);
      tb("ingest " + file + " --host " + name);
    };
    tb("import --name app --version 1 --install-root " + app.string() + " " + app.string());
    tb("import --name fix --version 1 --kind patch --patches app@1 --install-root " + app.string() + " " +
       (suite_ / "fix1").string());
    tb("import --name fix --version 2 --kind patch --patches app@1 --supersedes fix@1 --install-root " +
       app.string() + " " + (suite_ / "fix2").string());
    tb("cluster add c1 --description 'pricing pair'");
    tb("cluster add c2");
    tb("host add h1 --cluster c1 --role active");
    tb("host add h2 --cluster c1 --role inactive");
    tb("host add h3 --cluster c1 --role active");
    tb("host add h4 --cluster c2 --role active");
    scan("h4");
    write(app / "bin/app", "v3");
    scan("h1");
    scan("h3");
    scan("h2");  // first h2 scan: as h1; the second one below is tampered
    write(app / "bin/app", "v3 tampered");
    write(app / "bin/extra", "unknown");
    scan("h2");
    auto token = [&](const std::string& args) {
      const std::string t = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db + " token add " + args + " 2>/dev/null");
      EXPECT_EQ(t.size(), 67u) << t;
      return t;
    };
    admin_ = token("--name adm --role admin");
    reader_ = token("--name dash --role reader");
    host_token_ = token("--name h1-token --role host --host h1");
  }
  static void TearDownTestSuite() { fs::remove_all(suite_); }

  void SetUp() override {
    char tmpl[] = "/tmp/tb-fleet-api-case-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    fs::copy_file(suite_ / "store.db", dir_ / "store.db");
    server_ = std::make_unique<ServerProcess>(dir_ / "store.db", dir_ / "server.log");
    ASSERT_GT(server_->port(), 0) << slurp(dir_ / "server.log");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  httplib::Result get(const std::string& bearer, const std::string& target) const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(20, 0);
    if (!bearer.empty()) c.set_bearer_token_auth(bearer.c_str());
    return c.Get(target.c_str());
  }
  httplib::Result post(const std::string& bearer, const std::string& target) const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(20, 0);
    c.set_bearer_token_auth(bearer.c_str());
    return c.Post(target.c_str(), "", "text/plain");
  }
  json get_json(const std::string& target, int status = 200) const {
    auto r = get(admin_, target);
    EXPECT_TRUE(r) << target;
    if (!r) return json();
    EXPECT_EQ(r->status, status) << target << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  static std::size_t hosts_on_page(const json& page) {
    std::size_t n = 0;
    for (const json& c : page["fleet"]["clusters"]) n += c["hosts"].size();
    return n;
  }

  static inline fs::path suite_;
  static inline std::string admin_, reader_, host_token_;
  fs::path dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FleetApiTest, TheMatrixIsPagedWithinBounds) {
  json all = get_json("/api/v1/fleet");
  EXPECT_EQ(all["limit"], 100);
  EXPECT_EQ(all["offset"], 0);
  EXPECT_EQ(all["total_hosts"], 4);
  EXPECT_EQ(all["total_clusters"], 2);
  EXPECT_EQ(hosts_on_page(all), 4u);
  // The patches, and the product h2 has a problem with (its binary tampered): the rule of
  // `report fleet` (fleet::MatrixRequest); ?products=0 patches only, ?products=1 every product.
  ASSERT_EQ(all["fleet"]["columns"].size(), 3u);
  EXPECT_EQ(all["fleet"]["columns"][0], (json{{"signature", "app@1"}, {"kind", "product"}}));
  bool product_problem = false;
  for (const json& p : all["fleet"]["problems"]) product_problem = product_problem || p["signature"] == "app@1";
  EXPECT_TRUE(product_problem) << all["fleet"]["problems"].dump();
  EXPECT_EQ(get_json("/api/v1/fleet?products=0")["fleet"]["columns"].size(), 2u);
  EXPECT_EQ(get_json("/api/v1/fleet?products=1")["fleet"]["columns"].size(), 3u);
  EXPECT_EQ(get_json("/api/v1/fleet?products=1&cluster=c2")["fleet"]["columns"].size(), 3u);
  EXPECT_EQ(get_json("/api/v1/fleet?cluster=c2")["fleet"]["columns"].size(), 2u);  // h4's product is fine
  EXPECT_EQ(get(admin_, "/api/v1/fleet?products=yes")->status, 400);

  json first = get_json("/api/v1/fleet?limit=3");
  EXPECT_EQ(hosts_on_page(first), 3u);
  EXPECT_EQ(first["total_hosts"], 4);
  json second = get_json("/api/v1/fleet?offset=3&limit=3");
  ASSERT_EQ(hosts_on_page(second), 1u);
  EXPECT_EQ(second["fleet"]["clusters"][0]["name"], "c2");
  // A page keeps its clusters' whole-cluster facts.
  EXPECT_EQ(first["fleet"]["clusters"][0]["members"], 3);
  EXPECT_EQ(get_json("/api/v1/fleet?offset=99")["fleet"]["clusters"].size(), 0u);
  for (const char* bad : {"limit=0", "limit=1001", "limit=abc", "offset=-1", "limit=5x"})
    EXPECT_EQ(get(admin_, std::string("/api/v1/fleet?") + bad)->status, 400) << bad;
  EXPECT_EQ(get_json("/api/v1/fleet?limit=1000")["limit"], 1000);
}

TEST_F(FleetApiTest, ThePagesProblemListIsBoundedAndCounted) {
  json all = get_json("/api/v1/fleet");
  const json& problems = all["fleet"]["problems"];
  ASSERT_GE(problems.size(), 2u);  // h2: tampered fix@2 and more
  EXPECT_EQ(all["fleet"]["problems_total"], problems.size());

  json one = get_json("/api/v1/fleet?problems=1");
  ASSERT_EQ(one["fleet"]["problems"].size(), 1u);
  EXPECT_EQ(one["fleet"]["problems"][0], problems[0]);  // the first ones, in row order
  EXPECT_EQ(one["fleet"]["problems_total"], problems.size());
  EXPECT_EQ(one["fleet"]["clusters"], all["fleet"]["clusters"]);  // the matrix is whole

  json none = get_json("/api/v1/fleet?problems=0");
  EXPECT_EQ(none["fleet"]["problems"].size(), 0u);
  EXPECT_EQ(none["fleet"]["problems_total"], problems.size());
  for (const char* bad : {"problems=-1", "problems=x", "problems=1000001"})
    EXPECT_EQ(get(admin_, std::string("/api/v1/fleet?") + bad)->status, 400) << bad;
}

TEST_F(FleetApiTest, TheMatrixIsFilteredByClusterPatchAndState) {
  json c2 = get_json("/api/v1/fleet?cluster=c2");
  EXPECT_EQ(c2["total_hosts"], 1);
  EXPECT_EQ(c2["fleet"]["clusters"][0]["hosts"][0]["name"], "h4");
  json patch = get_json("/api/v1/fleet?patch=fix@2");
  ASSERT_EQ(patch["fleet"]["columns"].size(), 1u);
  EXPECT_EQ(patch["fleet"]["columns"][0]["signature"], "fix@2");
  json tampered = get_json("/api/v1/fleet?state=tampered");
  ASSERT_EQ(tampered["total_hosts"], 1) << tampered.dump();
  EXPECT_EQ(tampered["fleet"]["clusters"][0]["hosts"][0]["name"], "h2");
  EXPECT_EQ(get_json("/api/v1/fleet?state=problems")["total_hosts"], 1);
  EXPECT_EQ(get_json("/api/v1/fleet?state=complete,tampered&products=0")["total_hosts"], 3);
  EXPECT_EQ(get_json("/api/v1/fleet?state=complete,tampered")["total_hosts"], 4);  // h4: its product complete
  EXPECT_EQ(get(admin_, "/api/v1/fleet?state=broken")->status, 400);
  EXPECT_EQ(get(admin_, "/api/v1/fleet?patch=nope")->status, 400);
  EXPECT_EQ(get_json("/api/v1/fleet?cluster=nosuch")["total_hosts"], 0);
}

TEST_F(FleetApiTest, AReaderReadsButNeverWrites) {
  EXPECT_EQ(get(reader_, "/api/v1/fleet")->status, 200);
  EXPECT_EQ(get(reader_, "/api/v1/clusters/c1")->status, 200);
  EXPECT_EQ(get(reader_, "/api/v1/hosts/h2")->status, 200);
  EXPECT_EQ(get(reader_, "/api/v1/audit")->status, 403);
  EXPECT_EQ(post(reader_, "/api/v1/clusters/c1/promote?patch=fix@2&stage=active")->status, 403);
  EXPECT_EQ(post(reader_, "/api/v1/clusters/c1/snapshot?host=h1")->status, 403);
  // A host token sees its own host only.
  EXPECT_EQ(get(host_token_, "/api/v1/hosts/h1")->status, 200);
  EXPECT_EQ(get(host_token_, "/api/v1/hosts/h2")->status, 403);
  EXPECT_EQ(get(host_token_, "/api/v1/fleet")->status, 403);
  EXPECT_EQ(get("", "/api/v1/fleet")->status, 401);
  json who = json::parse(get(reader_, "/api/v1/whoami")->body);
  EXPECT_EQ(who["role"], "reader");
  EXPECT_EQ(who["name"], "dash");
  // Nothing was written.
  json audit = get_json("/api/v1/audit");
  for (const json& e : audit["audit"]) EXPECT_EQ(e["actor"].get<std::string>().rfind("token:", 0), std::string::npos);
}

TEST_F(FleetApiTest, AdminWritesAreAuditedWithTheTokenName) {
  auto promoted = post(admin_, "/api/v1/clusters/c1/promote?patch=fix@2&stage=active");
  ASSERT_EQ(promoted->status, 200) << promoted->body;
  json cluster = get_json("/api/v1/clusters/c1");
  ASSERT_EQ(cluster["stages"].size(), 1u);
  EXPECT_EQ(cluster["stages"][0]["patch"], "fix@2");
  EXPECT_EQ(cluster["stages"][0]["stage"], "active");
  EXPECT_EQ(cluster["stages"][0]["actor"], "token:adm");

  auto published = post(admin_, "/api/v1/clusters/c1/snapshot?host=h1");
  ASSERT_EQ(published->status, 201) << published->body;
  EXPECT_EQ(json::parse(published->body)["version"], 1);

  json audit = get_json("/api/v1/audit");
  ASSERT_GE(audit["audit"].size(), 2u);
  EXPECT_EQ(audit["audit"][0]["action"], "snapshot.publish");
  EXPECT_EQ(audit["audit"][0]["actor"], "token:adm");
  EXPECT_EQ(audit["audit"][0]["object"], "c1");
  EXPECT_EQ(audit["audit"][1]["action"], "stage.set");
  EXPECT_EQ(audit["audit"][1]["actor"], "token:adm");
  EXPECT_EQ(get_json("/api/v1/audit?limit=1")["audit"].size(), 1u);
  EXPECT_EQ(get(admin_, "/api/v1/audit?limit=0")->status, 400);

  // Refused writes: nothing audited.
  EXPECT_EQ(post(admin_, "/api/v1/clusters/c1/promote?patch=fix@2&stage=prod")->status, 400);
  EXPECT_EQ(post(admin_, "/api/v1/clusters/c1/promote?patch=app@1&stage=active")->status, 400);  // a product
  EXPECT_EQ(post(admin_, "/api/v1/clusters/nosuch/promote?patch=fix@2&stage=active")->status, 404);
  EXPECT_EQ(post(admin_, "/api/v1/clusters/c2/snapshot?host=h1")->status, 400);  // not a member
  EXPECT_EQ(post(admin_, "/api/v1/clusters/c1/snapshot")->status, 400);
  EXPECT_EQ(get_json("/api/v1/audit")["audit"].size(), audit["audit"].size());

  // With the snapshot, the cluster's drift names h2's differences by product.
  cluster = get_json("/api/v1/clusters/c1");
  EXPECT_EQ(cluster["snapshot_version"], 1);
  EXPECT_FALSE(cluster["drift"]["identical"]);
  bool extra_seen = false;
  for (const json& m : cluster["drift"]["members"]) {
    if (m["host"] != "h2") {
      EXPECT_TRUE(m["identical"]) << m.dump();
      continue;
    }
    for (const json& d : m["deviations"])
      if (d["path"].get<std::string>().ends_with("/bin/extra")) {
        extra_seen = true;
        EXPECT_EQ(d["change"], "added");
        EXPECT_TRUE(d["owners"].empty());
      }
  }
  EXPECT_TRUE(extra_seen) << cluster.dump();
  json fleet = get_json("/api/v1/fleet?cluster=c1");
  EXPECT_FALSE(fleet["fleet"]["clusters"][0]["identical"]);
  EXPECT_EQ(fleet["fleet"]["clusters"][0]["drifting"], json::array({"h2"}));
}

// The server keeps the fleet state between requests: each kind of write must show at once.
TEST_F(FleetApiTest, TheCachedMatrixFollowsStagesSnapshotsScansAndSignatures) {
  json before = get_json("/api/v1/fleet?cluster=c1");
  ASSERT_EQ(before["fleet"]["clusters"].size(), 1u);
  EXPECT_TRUE(before["fleet"]["clusters"][0]["stages"].empty());
  EXPECT_TRUE(before["fleet"]["clusters"][0]["snapshot_version"].is_null());
  const std::size_t columns = get_json("/api/v1/fleet")["fleet"]["columns"].size();

  ASSERT_EQ(post(admin_, "/api/v1/clusters/c1/promote?patch=fix@2&stage=active")->status, 200);
  EXPECT_EQ(get_json("/api/v1/fleet?cluster=c1")["fleet"]["clusters"][0]["stages"]["fix@2"], "active");
  ASSERT_EQ(post(admin_, "/api/v1/clusters/c1/snapshot?host=h1")->status, 201);
  EXPECT_EQ(get_json("/api/v1/fleet?cluster=c1")["fleet"]["clusters"][0]["snapshot_version"], 1);

  const auto scan_id = [&] { return get_json("/api/v1/fleet?cluster=c2")["fleet"]["clusters"][0]["hosts"][0]["scan"]; };
  const json old_scan = scan_id();
  httplib::Client c("127.0.0.1", server_->port());
  c.set_bearer_token_auth(admin_.c_str());
  auto posted = c.Post("/api/v1/scans?host=h4", slurp(suite_ / "h4.xml"), "application/xml");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  EXPECT_NE(scan_id(), old_scan);

  auto imported = c.Post("/api/v1/signatures?name=fix&version=3&kind=patch&patches=app@1",
                         slurp(suite_ / "h4.xml"), "application/xml");
  ASSERT_TRUE(imported);
  ASSERT_EQ(imported->status, 201) << imported->body;
  EXPECT_EQ(get_json("/api/v1/fleet")["fleet"]["columns"].size(), columns + 1);
}

TEST_F(FleetApiTest, AHostShowsItsStatesDeviationsWithHashesAndHistory) {
  json host = get_json("/api/v1/hosts/h2");
  EXPECT_EQ(host["cluster"], "c1");
  EXPECT_EQ(host["role"], "inactive");
  EXPECT_EQ(host["scans"], 2);
  const json& report = host["report"];
  EXPECT_FALSE(report["clean"]);
  std::map<std::string, std::string> states;
  for (const json& s : report["signatures"]) states[s["signature"]] = s["state"];
  EXPECT_EQ(states["fix@2"], "tampered");
  ASSERT_EQ(report["deviations"].size(), host["deviation_hashes"].size());
  bool extra_seen = false;
  for (std::size_t i = 0; i < report["deviations"].size(); ++i)
    if (report["deviations"][i]["path"].get<std::string>().ends_with("/bin/extra")) {
      extra_seen = true;
      // SHA-256 of "unknown"; no signature expects the file.
      EXPECT_EQ(host["deviation_hashes"][i]["found"], "b23a6a8439c0dde5515893e7c90c1e3233b8616e634470f20dc4928bcf3609bc")
;
      EXPECT_TRUE(host["deviation_hashes"][i]["expected"].is_null());
    }
  EXPECT_TRUE(extra_seen) << host.dump();
  // The tampered binary: found and expected hashes differ, expected is fix@2's ("v3").
  const json& issues = host["issue_hashes"]["fix@2"];
  ASSERT_FALSE(issues.empty()) << host.dump();
  EXPECT_NE(issues[0]["found"], issues[0]["expected"]);

  auto csv = get(admin_, "/api/v1/hosts/h2?format=csv");
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv->body.rfind("path,change,changed,owners,content_owners,found_sha256,expected_sha256\r\n", 0), 0u);
  EXPECT_NE(csv->body.find("/bin/extra\",\"added\""), std::string::npos) << csv->body;
  EXPECT_EQ(get(admin_, "/api/v1/hosts/h2?format=xls")->status, 400);
  EXPECT_EQ(get(admin_, "/api/v1/hosts/nosuch")->status, 404);

  json history = get_json("/api/v1/hosts/h2/history");
  ASSERT_EQ(history["scans"].size(), 2u);
  EXPECT_TRUE(history["scans"][0]["changes"].is_null());
  EXPECT_EQ(history["scans"][1]["changes"]["added"], 1);
  EXPECT_EQ(history["scans"][1]["changes"]["modified"], 1);
}

TEST_F(FleetApiTest, SignaturesCarryTheirSupersessionChains) {
  json list = get_json("/api/v1/signatures");
  std::map<std::string, json> by_id;
  for (const json& s : list["signatures"]) by_id[s["name"].get<std::string>() + "@" + s["version"].get<std::string>()] = s;
  EXPECT_EQ(by_id["fix@2"]["supersedes"], json::array({"fix@1"}));
  EXPECT_EQ(by_id["fix@1"]["superseded_by"], json::array({"fix@2"}));
  EXPECT_EQ(by_id["fix@1"]["patches"], "app@1");
  EXPECT_EQ(by_id["app@1"]["patched_by"], json::array({"fix@1", "fix@2"}));
  json clusters = get_json("/api/v1/clusters");
  ASSERT_EQ(clusters["clusters"].size(), 2u);
  EXPECT_EQ(clusters["clusters"][0]["description"], "pricing pair");
  EXPECT_EQ(clusters["clusters"][0]["members"], 3);
  EXPECT_EQ(get(admin_, "/api/v1/clusters/nosuch")->status, 404);
}

TEST_F(FleetApiTest, TheDashboardIsServedWithoutAuthUnderAContentSecurityPolicy) {
  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/", "text/html; charset=utf-8"},
           {"/index.html", "text/html; charset=utf-8"},
           {"/app.js", "text/javascript; charset=utf-8"},
           {"/style.css", "text/css; charset=utf-8"}}) {
    auto r = get("", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy").rfind("default-src 'self'", 0), 0u) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->body, slurp(fs::path(TB_SOURCE_DIR) / "web" / (path == "/" ? "index.html" : path.substr(1))));
  }
  auto missing = get("", "/secret.txt");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(get("", "/../CMakeLists.txt")->status, 404);
}

// Answers are gzipped by the server itself, never brotli'd by httplib (whose quality-11
// brotli took 16 s for a 2 MiB fleet page): every browser sends "br".
TEST_F(FleetApiTest, AnswersAreGzippedForClientsThatAcceptItAndNeverBrotlid) {
  auto fetch = [&](const std::string& target, const std::string& accept) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(20, 0);
    c.set_decompress(false);
    c.set_bearer_token_auth(admin_.c_str());
    auto r = c.Get(target.c_str(), httplib::Headers{{"Accept-Encoding", accept}});
    EXPECT_TRUE(r) << target;
    return r;
  };
  for (const std::string target : {"/app.js", "/api/v1/hosts/h2"}) {
    auto plain = fetch(target, "identity");
    ASSERT_TRUE(plain);
    ASSERT_EQ(plain->status, 200) << target;
    ASSERT_GE(plain->body.size(), 1024u) << target << ": too small to be compressed";
    EXPECT_FALSE(plain->has_header("Content-Encoding")) << target;

    auto zipped = fetch(target, "gzip, deflate, br, zstd");
    ASSERT_TRUE(zipped);
    EXPECT_EQ(zipped->status, 200);
    EXPECT_EQ(zipped->get_header_value("Content-Encoding"), "gzip") << target;
    EXPECT_EQ(zipped->get_header_value_count("Content-Encoding"), 1u);
    EXPECT_EQ(zipped->get_header_value("Vary"), "Accept-Encoding");
    EXPECT_EQ(zipped->get_header_value("Content-Length"), std::to_string(zipped->body.size()));
    EXPECT_LT(zipped->body.size(), plain->body.size());
    EXPECT_EQ(gunzip(zipped->body), plain->body) << target;

    for (const std::string accept : {"br", "gzip;q=0, br", "deflate"}) {
      auto r = fetch(target, accept);
      ASSERT_TRUE(r);
      EXPECT_FALSE(r->has_header("Content-Encoding")) << target << " with " << accept;
      EXPECT_EQ(r->body, plain->body) << target << " with " << accept;
    }
  }
}

}  // namespace
