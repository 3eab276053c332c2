// The whole product end to end, as `trustbase demo` runs it: real .deb packages imported,
// clusters and stages set, a real server, the real scanner enrolling every simulated
// host, snapshots published, then the fleet report checked against the planted
// deviations (the demo exits 1 if one is missed or anything else is reported). On top,
// the deployment gate on the demo's store: `verify` passes a clean member and fails each
// kind of planted problem with the reason named.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;

namespace {

using clitest::slurp;

class DemoFlow : public ::testing::Test {
 protected:
  // One demo run for every test of the suite: it is the expensive part.
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tb-demo-flow-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = new fs::path(fs::canonical(tmpl));
    demo_status_ = run("demo --clusters 4 --quiet --dir " + (*dir_ / "demo").string(), &demo_out_);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static int run(const std::string& args, std::string* out) {
    const fs::path file = *dir_ / "out";
    const std::string cmd = std::string(TB_TRUSTBASE_BINARY) + " " + args + " >" + file.string() + " 2>&1";
    const int raw = std::system(cmd.c_str());
    *out = slurp(file);
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  static int tb(const std::string& args, std::string* out) {
    return run("--db " + (*dir_ / "demo/trustbase.db").string() + " " + args, out);
  }

  static fs::path* dir_;
  static int demo_status_;
  static std::string demo_out_;
};

fs::path* DemoFlow::dir_ = nullptr;
int DemoFlow::demo_status_ = -1;
std::string DemoFlow::demo_out_;

TEST_F(DemoFlow, EveryPlantedDeviationIsFoundAndNothingElse) {
  EXPECT_EQ(demo_status_, 0) << demo_out_;
  // The three patches, and the one product a host has a problem with: credit-04-b's risk
  // engine, its VaR library edited (tampered, and drift from its twin).
  EXPECT_NE(demo_out_.find("fleet: 8 hosts in 4 clusters, 4 columns; 5 problem cells, 0 hosts not scanned"),
            std::string::npos)
      << demo_out_;
  EXPECT_NE(demo_out_.find("  credit-04-b acme-risk@2.0.0   tampered\n"), std::string::npos) << demo_out_;
  EXPECT_NE(demo_out_.find("  rates-03-b  acme-trader@4.2.2 partial (stage inactive: should be complete; found "
                           "partial)\n"),
            std::string::npos)
      << demo_out_;
  // Every cluster of four has drift planted (fx-01-b's hand-edited patched library is drift
  // too: content no release of the trader has).
  EXPECT_NE(demo_out_.find("cluster fx-01: 2 members, 2 scanned, snapshot v1: DRIFT: fx-01-b"), std::string::npos)
      << demo_out_;
  EXPECT_NE(demo_out_.find("cluster eq-02: 2 members, 2 scanned, snapshot v1: DRIFT: eq-02-b"), std::string::npos)
      << demo_out_;
  EXPECT_TRUE(fs::exists(*dir_ / "demo/fleet.html"));
}

TEST_F(DemoFlow, VerifyPassesACleanMemberOfAnIdenticalCluster) {
  std::string out;
  // /usr/local/bin/market-hours.sh is on every host and in no package, and the cluster's
  // snapshot holds it with that content: explained, so the member is clean.
  EXPECT_EQ(tb("verify --host fx-01-a --cluster-identical", &out), 0) << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << out;
  // The host's own report says the same, and why.
  EXPECT_EQ(tb("report host fx-01-a", &out), 0) << out;
  EXPECT_NE(out.find("result: clean"), std::string::npos) << out;
  EXPECT_NE(out.find("1 files explained by the cluster snapshot"), std::string::npos) << out;
  // The member whose copy was edited is not explained by it.
  EXPECT_EQ(tb("report host rates-03-b", &out), 1) << out;
  EXPECT_NE(out.find("/usr/local/bin/market-hours.sh"), std::string::npos) << out;
  EXPECT_EQ(tb("verify --host fx-01-a --cluster-identical --allow-deviations --expect-patch acme-trader@4.2.2", &out),
            0)
      << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << out;
}

TEST_F(DemoFlow, VerifyFailsEachPlantedProblemWithItsReason) {
  struct Case {
    std::string args, reason;
  };
  for (const Case& c : {Case{"--host fx-01-b", "tampered"}, Case{"--host rates-03-b", "partial"},
                        Case{"--host credit-04-b", "missing"}, Case{"--host credit-04-a", "unexpected"},
                        Case{"--host eq-02-b --allow-deviations --cluster-identical", "drift"}}) {
    std::string out;
    EXPECT_EQ(tb("verify --allow-deviations " + c.args, &out), 1) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.reason), std::string::npos) << c.args << "\n" << out;
  }
  std::string out;
  ASSERT_EQ(tb("verify --host rates-03-b --allow-deviations --format json", &out), 1) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("host"), "rates-03-b");
  EXPECT_FALSE(j.at("ok").get<bool>());
  bool partial = false;
  for (const auto& r : j.at("reasons"))
    partial = partial || (r.at("problem") == "partial" && r.at("signature") == "acme-trader@4.2.2");
  EXPECT_TRUE(partial) << out;
  EXPECT_EQ(tb("verify --host nosuchhost", &out), 2) << out;
  EXPECT_NE(out.find("unknown host"), std::string::npos) << out;
}

TEST_F(DemoFlow, ClusterReportListsTheDriftWithItsProduct) {
  std::string out;
  EXPECT_EQ(tb("report cluster credit-04", &out), 1) << out;
  EXPECT_NE(out.find("modified  /opt/acme/risk/lib/libvar.so  (size,content)  [acme-risk@2.0.0]"), std::string::npos)
      << out;
  EXPECT_EQ(tb("report cluster fx-01 --format json", &out), 1) << out;  // fx-01-b's tampered patch
  const auto j = nlohmann::json::parse(out);
  // The snapshot keeps the patched files: fx-01-b's hand edit is drift, owned by every
  // trader release that lists the library, while fx-01-a (its source) is identical.
  EXPECT_FALSE(j.at("drift").at("identical").get<bool>()) << out;
  bool edit = false;
  for (const auto& m : j.at("drift").at("members")) {
    if (m.at("host") == "fx-01-a") {
      EXPECT_TRUE(m.at("identical").get<bool>()) << out;
    }
    if (m.at("host") != "fx-01-b") continue;
    ASSERT_EQ(m.at("deviations").size(), 1u) << out;
    const auto& d = m.at("deviations")[0];
    edit = d.at("path") == "/opt/acme/trader/lib/libquote.so" && d.at("change") == "modified" &&
           d.at("owners").size() == 3u && d.at("content_owners").empty();
  }
  EXPECT_TRUE(edit) << out;
  EXPECT_EQ(tb("report patch acme-mq@9.1.1 --state missing", &out), 1) << out;
  EXPECT_NE(out.find("credit-04-b"), std::string::npos) << out;
  EXPECT_EQ(out.find("fx-01-a"), std::string::npos) << out;
}

TEST_F(DemoFlow, HistoryShowsWhatEachScanChanged) {
  const fs::path host = *dir_ / "demo/hosts/fx-01-a";
  const fs::path doc = *dir_ / "rescan.xml";
  auto rescan = [&] {
    const std::string cmd = std::string(TB_SCAN_BINARY) + " -q --sysroot " + host.string() +
                            " --root /opt --root /etc/acme --root /usr/local -o " + doc.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string out;
    ASSERT_EQ(tb("ingest --host fx-01-a " + doc.string(), &out), 0) << out;
  };
  rescan();  // nothing changed since the demo's scan
  {
    std::ofstream edit(host / "opt/acme/risk/lib/liblimits.so", std::ios::app);
    edit << "hand edit";
  }
  rescan();
  std::string out;
  ASSERT_EQ(tb("report history fx-01-a --files", &out), 0) << out;
  EXPECT_NE(out.find("history of host fx-01-a (3 scans)"), std::string::npos) << out;
  EXPECT_NE(out.find("first scan"), std::string::npos) << out;
  EXPECT_NE(out.find("unchanged"), std::string::npos) << out;
  EXPECT_NE(out.find("+0 -0 ~1"), std::string::npos) << out;
  EXPECT_NE(out.find("modified  /opt/acme/risk/lib/liblimits.so  (size,content)"), std::string::npos) << out;
  ASSERT_EQ(tb("report history fx-01-a --format json", &out), 0) << out;
  const auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j.at("scans").size(), 3u);
  EXPECT_EQ(j.at("scans")[2].at("changes").at("modified"), 1);
  EXPECT_EQ(tb("report history nosuchhost", &out), 2) << out;
}

}  // namespace
