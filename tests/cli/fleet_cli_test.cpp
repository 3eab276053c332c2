// End to end with the real binaries: clusters, hosts, real scans ingested, snapshots
// published (whole: drift judges patch paths by release content), patches promoted, and the list/show output asserted
// exactly (times masked: they are the wall clock of the run).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;

namespace {

using clitest::slurp;
using clitest::write;

constexpr const char* kTime = "YYYY-MM-DDTHH:MM:SSZ";  // as wide as a real time in a table

class FleetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-fleet-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    root_ = dir_ / "hosts/a1/opt/app";
    // The product app@1.0 with its patch app-p1@1 applied, as deployed on a1.
    write(dir_ / "pkg/app-1.0/bin/app", "v1");
    write(dir_ / "pkg/app-1.0/lib/libx.so", "lib1");
    write(dir_ / "pkg/app-1.0/etc/app.conf", "port=1");
    write(dir_ / "pkg/app-p1/bin/app", "v1-p1");
    write(dir_ / "pkg/app-p1/lib/libnew.so", "new");
    fs::create_directories(root_);
    fs::copy(dir_ / "pkg/app-1.0", root_, fs::copy_options::recursive);
    fs::copy(dir_ / "pkg/app-p1", root_, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs trustbase as user "tester"; returns the exit status, output in *out (stdout and
  // stderr) with every time replaced by kTime.
  int tb(const std::string& args, std::string* out = nullptr) {
    const std::string cmd = "USER=tester " + std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " " + args +
                            " >" + (dir_ / "out").string() + " 2>&1";
    const int raw = std::system(cmd.c_str());
    if (out != nullptr) {
      static const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{9})?Z)");
      *out = std::regex_replace(slurp(dir_ / "out"), time, kTime);
    }
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  std::string ok(const std::string& args) {
    std::string out;
    EXPECT_EQ(tb(args, &out), 0) << args << "\n" << out;
    return out;
  }
  // Status 0 or 1 (a report with problems); the output.
  std::string ok_or_problems(const std::string& args) {
    std::string out;
    const int status = tb(args, &out);
    EXPECT_TRUE(status == 0 || status == 1) << args << "\n" << out;
    return out;
  }
  // Status 2 and `text` in the message.
  void refused(const std::string& args, const std::string& text) {
    std::string out;
    EXPECT_EQ(tb(args, &out), 2) << args << "\n" << out;
    EXPECT_NE(out.find(text), std::string::npos) << args << "\n" << out;
  }
  fs::path scan_a1() {
    const fs::path doc = dir_ / "a1.xml";
    const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + root_.string() + " -o " + doc.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return doc;
  }
  // Scans a1 and ingests it; returns the number of records.
  std::size_t scan_and_ingest_a1(int expected_scan_id) {
    const std::string out = ok("ingest --host a1 " + scan_a1().string());
    std::smatch m;
    const std::regex shape(R"(\((\d+) records\) as scan (\d+))");
    EXPECT_TRUE(std::regex_search(out, m, shape)) << out;
    EXPECT_EQ(std::stoi(m[2]), expected_scan_id);
    return std::stoul(m[1]);
  }
  void import_signatures() {
    ok("import --name app --version 1.0 --install-root " + root_.string() + " " + (dir_ / "pkg/app-1.0").string());
    ok("import --name app-p1 --version 1 --kind patch --patches app@1.0 --install-root " + root_.string() + " " +
       (dir_ / "pkg/app-p1").string());
  }

  fs::path dir_, db_, root_;
};

TEST_F(FleetCli, ClustersHostsSnapshotsAndStagesEndToEnd) {
  EXPECT_EQ(ok("cluster add prod-a --description 'Trading, site A'"), "added cluster prod-a\n");
  EXPECT_EQ(ok("cluster add prod-b"), "added cluster prod-b\n");
  EXPECT_EQ(ok("host add a1 --cluster prod-a --role active"), "host a1: cluster prod-a, role active\n");
  EXPECT_EQ(ok("host add a2 --cluster prod-b --role inactive"), "host a2: cluster prod-b, role inactive\n");
  EXPECT_EQ(ok("host add a2 --cluster prod-a --role inactive"), "host a2: cluster prod-a, role inactive\n");
  import_signatures();
  const std::size_t records = scan_and_ingest_a1(1);

  // The reference keeps every record, the patch's files too (drift judges them by content).
  EXPECT_EQ(ok("snapshot publish --cluster prod-a --from a1"),
            "published snapshot 1 of cluster prod-a from host a1 (scan 1): " + std::to_string(records) +
                " records\n");
  write(root_ / "etc/app.conf", "port=2");  // drift, then a second reference
  EXPECT_EQ(scan_and_ingest_a1(2), records);
  EXPECT_EQ(ok("snapshot publish --cluster prod-a --from a1"),
            "published snapshot 2 of cluster prod-a from host a1 (scan 2): " + std::to_string(records) +
                " records\n");

  EXPECT_EQ(ok("promote app-p1@1 --cluster prod-a --stage tested"), "app-p1@1 in cluster prod-a: tested (was unset)\n");
  EXPECT_EQ(ok("promote app-p1@1 --cluster prod-a --stage inactive"),
            "app-p1@1 in cluster prod-a: inactive (was tested)\n");

  EXPECT_EQ(ok("cluster list"),
            "CLUSTER  MEMBERS  SNAPSHOT  DESCRIPTION\n"
            "prod-a   2        2         Trading, site A\n"
            "prod-b   0        -\n");
  EXPECT_EQ(ok("cluster list --format json"),
            R"([{"name":"prod-a","description":"Trading, site A","members":2,"snapshot_version":2},)"
            R"({"name":"prod-b","description":"","members":0,"snapshot_version":0}])"
            "\n");
  const std::string n = std::to_string(records);
  EXPECT_EQ(ok("cluster show prod-a"),
            "cluster prod-a: Trading, site A\n"
            "snapshot: version 2, " + n + " records from a1, scan 2, published " + kTime + " by cli:tester\n"
            "HOST  ROLE      SCANS  LATEST SCAN\n"
            "a1    active    2      " + kTime + "\n"
            "a2    inactive  0      -\n"
            "PATCH     STAGE     SET                   BY\n"
            "app-p1@1  inactive  " + kTime + "  cli:tester\n");
  EXPECT_EQ(ok("cluster show prod-b"),
            "cluster prod-b\n"
            "snapshot: none\n"
            "members: none\n"
            "stages: none\n");
  const auto show = nlohmann::json::parse(ok("cluster show prod-a --format json"));
  EXPECT_EQ(show["snapshot"]["version"], 2);
  EXPECT_EQ(show["snapshot"]["source_scan"], 2);
  EXPECT_EQ(show["snapshot"]["actor"], "cli:tester");
  EXPECT_EQ(show["members"].size(), 2u);
  EXPECT_EQ(show["members"][1]["latest_scan"], nullptr);
  EXPECT_EQ(show["stages"][0]["patch"], "app-p1@1");
  EXPECT_EQ(show["stages"][0]["stage"], "inactive");

  EXPECT_EQ(ok("host list"),
            std::string("HOST  CLUSTER  ROLE      SCANS  LATEST SCAN\n") +
                "a1    prod-a   active    2      " + kTime + "\n"
                "a2    prod-a   inactive  0      -\n");
  EXPECT_EQ(ok("host list --cluster prod-b"), "HOST  CLUSTER  ROLE  SCANS  LATEST SCAN\n");
  const auto hosts = nlohmann::json::parse(ok("host list --format json --cluster prod-a"));
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0], nlohmann::json::parse(std::string(R"({"host":"a1","cluster":"prod-a","role":"active","scans":2,)") +
                                            R"("latest_scan":")" + kTime + R"("})"));

  EXPECT_EQ(ok("snapshot list --cluster prod-a"),
            "VERSION  RECORDS  SOURCE  SCAN  PUBLISHED             BY\n"
            "1        " + n + std::string(9 - n.size(), ' ') + "a1      1     " + kTime + "  cli:tester\n"
            "2        " + n + std::string(9 - n.size(), ' ') + "a1      2     " + kTime + "  cli:tester\n");
  const auto snapshots = nlohmann::json::parse(ok("snapshot list --cluster prod-a --format json"));
  ASSERT_EQ(snapshots.size(), 2u);
  EXPECT_EQ(snapshots[1]["version"], 2);
  EXPECT_EQ(snapshots[1]["records"], records);
  EXPECT_EQ(snapshots[0]["manifest_sha256"].get<std::string>().size(), 64u);
  EXPECT_NE(snapshots[0]["manifest_sha256"], snapshots[1]["manifest_sha256"]);  // app.conf changed
}

TEST_F(FleetCli, SnapshotFromAScanDocumentKeepsEveryRecord) {
  ok("cluster add prod-a");
  import_signatures();
  const fs::path doc = scan_a1();
  const std::string out = ok("snapshot publish --cluster prod-a --from " + doc.string());
  EXPECT_NE(out.find("published snapshot 1 of cluster prod-a from host "), std::string::npos) << out;
  EXPECT_NE(out.find("(" + doc.string() + "): "), std::string::npos) << out;
  EXPECT_NE(out.find(" records\n"), std::string::npos) << out;
  const auto list = nlohmann::json::parse(ok("snapshot list --cluster prod-a --format json"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["source_scan"], 0);  // not stored as a scan
  EXPECT_EQ(ok("host list"), "HOST  CLUSTER  ROLE  SCANS  LATEST SCAN\n");  // nor as a host
}

TEST_F(FleetCli, MistakesAreClearErrors) {
  ok("cluster add prod-a");
  ok("cluster add prod-b");
  refused("cluster add prod-a", "a cluster named 'prod-a' exists already");
  refused("cluster add ''", "cluster name is empty");
  refused("cluster show nowhere", "no cluster named 'nowhere'");
  refused("host add a1 --cluster nowhere --role active", "no cluster named 'nowhere'");
  refused("host add a1 --cluster prod-a", "--role is required");
  refused("host list --cluster nowhere", "no cluster named 'nowhere'");
  refused("snapshot list --cluster nowhere", "no cluster named 'nowhere'");
  refused("snapshot publish --cluster prod-a --from nobody", "no host nobody with a stored scan, and no scan document");
  refused("snapshot publish --cluster nowhere --from nobody", "no cluster named 'nowhere'");
  import_signatures();
  ok("ingest --host a1 " + scan_a1().string());
  refused("snapshot publish --cluster prod-a --from a1", "host a1 is not a member of cluster prod-a (it is in none)");
  ok("host add a1 --cluster prod-b --role active");
  refused("snapshot publish --cluster prod-a --from a1", "(it is in prod-b)");
  refused("promote app@1.0 --cluster prod-a --stage active", "app@1.0 is a product, not a patch");
  refused("promote app-p9@1 --cluster prod-a --stage active", "no signature app-p9@1 in the store (import the patch first");
  refused("promote app-p1 --cluster prod-a --stage active", "wants PATCH@VERSION, got 'app-p1'");
  refused("promote app-p1@1 --cluster nowhere --stage active", "no cluster named 'nowhere'");
  refused("promote app-p1@1 --cluster prod-a --stage live", "--stage");
  refused("cluster list --format xml", "--format");
  EXPECT_EQ(ok("cluster show prod-a"), "cluster prod-a\nsnapshot: none\nmembers: none\nstages: none\n");
}

// `report fleet` shows the products some host has a problem with (here app@1.0, a file
// of it edited) by default; --patches-only narrows it to patches as it was.
TEST_F(FleetCli, ReportFleetShowsProductProblemsUnlessPatchesOnly) {
  ok("cluster add prod-a");
  ok("host add a1 --cluster prod-a --role active");
  import_signatures();
  write(root_ / "lib/libx.so", "lib1 edited");
  scan_and_ingest_a1(1);

  std::string out;
  EXPECT_EQ(tb("report fleet", &out), 1) << out;
  EXPECT_NE(out.find("fleet: 1 host in 1 cluster, 2 columns; 1 problem cell, 0 hosts not scanned\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("  1 app@1.0 (product)\n  2 app-p1@1 (patch)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  a1   active TC"), std::string::npos) << out;
  EXPECT_NE(out.find("problems:\n  a1   app@1.0  tampered\n"), std::string::npos) << out;
  const auto j = nlohmann::json::parse(ok_or_problems("report fleet --format json"));
  ASSERT_EQ(j["problems"].size(), 1u) << j.dump();
  EXPECT_EQ(j["problems"][0]["signature"], "app@1.0");
  EXPECT_EQ(j["problems"][0]["problem"], "tampered");

  EXPECT_EQ(tb("report fleet --patches-only", &out), 0) << out;
  EXPECT_NE(out.find("fleet: 1 host in 1 cluster, 1 column; 0 problem cells"), std::string::npos) << out;
  EXPECT_EQ(out.find("app@1.0"), std::string::npos) << out;
  EXPECT_NE(out.find("problems: none\n"), std::string::npos) << out;
  EXPECT_EQ(tb("report fleet --products", &out), 1) << out;
  EXPECT_NE(out.find("  1 app@1.0 (product)\n"), std::string::npos) << out;
  refused("report fleet --products --patches-only", "excludes");

  // A product with no problem is no column by default.
  write(root_ / "lib/libx.so", "lib1");
  scan_and_ingest_a1(2);
  EXPECT_EQ(tb("report fleet", &out), 0) << out;
  EXPECT_NE(out.find("fleet: 1 host in 1 cluster, 1 column; 0 problem cells"), std::string::npos) << out;
  EXPECT_EQ(tb("report fleet --products", &out), 0) << out;
  EXPECT_NE(out.find("  1 app@1.0 (product)\n"), std::string::npos) << out;
}

// Names and commands that do not exist are errors that say so (issue 23).
TEST_F(FleetCli, UnknownClustersAndCommandsAreNamed) {
  ok("cluster add prod-a");
  import_signatures();
  refused("report fleet --cluster nope", "trustbase report fleet: unknown cluster 'nope'");
  refused("report cluster nope", "unknown cluster 'nope'");
  EXPECT_EQ(tb("report fleet --cluster prod-a"), 0);  // known, with no member: nothing to report
  refused("reprot fleet", "trustbase: unknown command 'reprot'; did you mean 'report'?");
  refused("report flet", "trustbase: unknown command 'report flet'; did you mean 'report fleet'?");
  refused("verfiy --host a1", "unknown command 'verfiy'; did you mean 'verify'?");  // after --db X
  refused("xyzzyplugh", "unknown command 'xyzzyplugh' (commands:");
  refused("report fleet --cluster", "--cluster");  // CLI11's own message when it is not a command
}

}  // namespace
