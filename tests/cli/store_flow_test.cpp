// End to end on the SQLite store with the real binaries: signatures imported from
// directory trees, real scans of simulated hosts with planted deviations, ingested, and
// the host reports asserted exactly.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;

namespace {

using clitest::slurp;
using clitest::write;

class StoreFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-flow-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    // The product app@1.0 and its patch app-p1@1 as a vendor ships them.
    write(dir_ / "pkg/app-1.0/bin/app", "v1");
    write(dir_ / "pkg/app-1.0/lib/libx.so", "lib1");
    write(dir_ / "pkg/app-1.0/etc/app.conf", "port=1");
    write(dir_ / "pkg/app-p1/bin/app", "v1-p1");
    write(dir_ / "pkg/app-p1/lib/libnew.so", "new");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Installs the product (and optionally the patch) the way a deployment would.
  fs::path make_host(const std::string& name, bool patch) {
    const fs::path root = dir_ / "hosts" / name / "opt/app";
    fs::create_directories(root);
    fs::copy(dir_ / "pkg/app-1.0", root, fs::copy_options::recursive);
    if (patch) fs::copy(dir_ / "pkg/app-p1", root, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return root;
  }
  int tb(const std::string& args, std::string* out = nullptr) {
    const std::string cmd = std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " " + args + " >" +
                            (dir_ / "out").string() + " 2>&1";
    const int raw = std::system(cmd.c_str());
    if (out != nullptr) *out = slurp(dir_ / "out");
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  void import_signatures(const std::string& install_root) {
    std::string out;
    ASSERT_EQ(tb("import --name app --version 1.0 --install-root " + install_root + " " + (dir_ / "pkg/app-1.0").string(),
                 &out), 0) << out;
    ASSERT_EQ(tb("import --name app-p1 --version 1 --kind patch --patches app@1.0 --install-root " + install_root + " " +
                     (dir_ / "pkg/app-p1").string(), &out), 0) << out;
  }
  // Scans a host's tree as the host itself would, then ingests it under `name`.
  void scan_and_ingest(const std::string& name, const fs::path& root) {
    const fs::path doc = dir_ / (name + ".xml");
    const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + root.string() + " -o " + doc.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string out;
    ASSERT_EQ(tb("ingest --host " + name + " " + doc.string(), &out), 0) << out;
  }
  nlohmann::json report(const std::string& host, int expected_status) {
    std::string out;
    EXPECT_EQ(tb("report host " + host + " --format json", &out), expected_status) << out;
    return nlohmann::json::parse(out);
  }
  static const nlohmann::json& signature(const nlohmann::json& r, const std::string& id) {
    for (const auto& s : r["signatures"])
      if (s["signature"] == id) return s;
    static const nlohmann::json none;
    ADD_FAILURE() << "no verdict for " << id << " in " << r.dump();
    return none;
  }
  fs::path dir_, db_;
};

// All hosts install under the same absolute path in real life; here each host is a
// directory, so each test imports signatures for the one host tree it examines.

TEST_F(StoreFlow, FullyPatchedHostIsCleanExitZero) {
  const fs::path root = make_host("clean", true);
  import_signatures(root.string());
  scan_and_ingest("clean", root);
  const auto r = report("clean", 0);
  EXPECT_EQ(r["clean"], true);
  EXPECT_EQ(signature(r, "app@1.0")["state"], "complete");
  EXPECT_EQ(signature(r, "app@1.0")["patched_by"], nlohmann::json::array({"app-p1@1"}));
  EXPECT_EQ(signature(r, "app-p1@1")["state"], "complete");
  EXPECT_TRUE(r["deviations"].empty()) << r.dump(2);
}

TEST_F(StoreFlow, HalfAppliedPatchIsPartialWithTheFileNotApplied) {
  const fs::path root = make_host("half", false);
  write(root / "lib/libnew.so", "new");  // one file of the patch copied, bin/app still the old one
  import_signatures(root.string());
  scan_and_ingest("half", root);
  const auto r = report("half", 1);
  const auto& patch = signature(r, "app-p1@1");
  EXPECT_EQ(patch["state"], "partial");
  ASSERT_EQ(patch["issues"].size(), 1u) << patch.dump(2);
  EXPECT_EQ(patch["issues"][0]["path"], (root / "bin/app").string());
  EXPECT_EQ(patch["issues"][0]["kind"], "not_applied");
  EXPECT_EQ(patch["issues"][0]["other"], "app@1.0");
}

TEST_F(StoreFlow, EditedFileIsTamperingAttributedToItsProductAndUnknownFilesAreListed) {
  const fs::path root = make_host("edited", false);
  write(root / "etc/app.conf", "port=2");
  write(root / "notes.txt", "hand-made");
  import_signatures(root.string());
  scan_and_ingest("edited", root);
  const auto r = report("edited", 1);
  EXPECT_EQ(r["clean"], false);
  EXPECT_EQ(signature(r, "app@1.0")["state"], "tampered");
  // The patch is not installed at all: left out of the report unless --all.
  for (const auto& s : r["signatures"]) EXPECT_NE(s["signature"], "app-p1@1");
  const auto& devs = r["deviations"];
  ASSERT_EQ(devs.size(), 2u) << devs.dump(2);
  EXPECT_EQ(devs[0]["path"], (root / "etc/app.conf").string());
  EXPECT_EQ(devs[0]["change"], "modified");
  EXPECT_EQ(devs[0]["owners"], nlohmann::json::array({"app@1.0"}));
  EXPECT_EQ(devs[1]["path"], (root / "notes.txt").string());
  EXPECT_EQ(devs[1]["change"], "added");
  EXPECT_TRUE(devs[1]["owners"].empty());
}

// verify counts exactly what it names: of 5 deviating files, the 3 a signature explains
// (an edited and a removed file of app@1.0, a copy of its binary) are not called
// files that no signature explains (it once said "5 files no known signature explains").
TEST_F(StoreFlow, VerifyCountsAttributedAndUnexplainedDeviationsApart) {
  const fs::path root = make_host("mixed", false);
  write(root / "etc/app.conf", "port=2");  // modified: app@1.0 lists the path
  fs::remove(root / "lib/libx.so");        // removed: app@1.0 lists the path
  write(root / "bin/app-copy", "v1");      // added, with the content of app@1.0's bin/app
  write(root / "notes.txt", "hand-made");  // added, nothing explains it
  write(root / "etc/local.conf", "x=1");   // added, nothing explains it
  import_signatures(root.string());
  scan_and_ingest("mixed", root);

  std::string out;
  ASSERT_EQ(tb("verify --host mixed", &out), 1) << out;
  EXPECT_NE(out.find("\n  deviations   5 deviating files: 2 that no signature explains, 3 attributed to app@1.0\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("no known signature"), std::string::npos) << out;

  ASSERT_EQ(tb("verify --host mixed --format json", &out), 1) << out;
  const auto verdict = nlohmann::json::parse(out);
  const nlohmann::json* deviations = nullptr;
  for (const auto& r : verdict["reasons"])
    if (r["problem"] == "deviations") deviations = &r;
  ASSERT_NE(deviations, nullptr) << out;
  EXPECT_EQ((*deviations)["count"], 5);
  EXPECT_EQ((*deviations)["unexplained"], 2);
  EXPECT_EQ((*deviations)["attributed"], 3);
  EXPECT_EQ((*deviations)["attributed_to"], nlohmann::json::array({"app@1.0"}));
}

TEST_F(StoreFlow, RemovedFileMakesTheProductPartial) {
  const fs::path root = make_host("removed", false);
  fs::remove(root / "lib/libx.so");
  import_signatures(root.string());
  scan_and_ingest("removed", root);
  std::string text;
  EXPECT_EQ(tb("report host removed", &text), 1);
  EXPECT_NE(text.find("partial"), std::string::npos) << text;
  EXPECT_NE(text.find("missing     " + (root / "lib/libx.so").string()), std::string::npos) << text;
  EXPECT_NE(text.find("removed   " + (root / "lib/libx.so").string() + "  [app@1.0]"), std::string::npos) << text;
  EXPECT_NE(text.find("result: DEVIATIONS"), std::string::npos) << text;
}

TEST_F(StoreFlow, ImportIsIdempotentAndSignaturesAreImmutable) {
  const fs::path root = make_host("idem", false);
  import_signatures(root.string());
  std::string out;
  EXPECT_EQ(tb("import --name app --version 1.0 --install-root " + root.string() + " " + (dir_ / "pkg/app-1.0").string(),
               &out), 0) << out;
  write(dir_ / "pkg/app-1.0/bin/app", "rebuilt");
  EXPECT_EQ(tb("import --name app --version 1.0 --install-root " + root.string() + " " + (dir_ / "pkg/app-1.0").string(),
               &out), 2);
  EXPECT_NE(out.find("app@1.0"), std::string::npos) << out;
}

TEST_F(StoreFlow, AnalyzeJudgesADocumentWithoutStoringIt) {
  const fs::path root = make_host("analyzed", true);
  import_signatures(root.string());
  const fs::path doc = dir_ / "analyzed.xml";
  ASSERT_EQ(std::system((std::string(TB_SCAN_BINARY) + " -q " + root.string() + " -o " + doc.string()).c_str()), 0);
  std::string out;
  EXPECT_EQ(tb("analyze " + doc.string(), &out), 0) << out;
  EXPECT_NE(out.find("complete   patch    app-p1@1"), std::string::npos) << out;
  write(root / "bin/app", "edited");
  ASSERT_EQ(std::system((std::string(TB_SCAN_BINARY) + " -q " + root.string() + " -o " + doc.string()).c_str()), 0);
  EXPECT_EQ(tb("analyze " + doc.string(), &out), 1) << out;
  EXPECT_NE(out.find("tampered"), std::string::npos) << out;
  EXPECT_EQ(tb("report host analyzed", &out), 2) << "analyze must not store the scan: " << out;
}

// --format xml: the same verdicts, valid against schema/report-v1.xsd, for report and analyze.
TEST_F(StoreFlow, XmlReportsValidateAgainstTheReportSchema) {
  const fs::path root = make_host("xml", false);
  write(root / "etc/app.conf", "port=2");
  import_signatures(root.string());
  scan_and_ingest("xml", root);
  std::string out;
  ASSERT_EQ(tb("report host xml --format xml", &out), 1) << out;
  write(dir_ / "report.xml", out);
  const std::string validate = "xmllint --noout --schema " + std::string(TB_SOURCE_DIR) + "/schema/report-v1.xsd ";
  EXPECT_EQ(std::system((validate + (dir_ / "report.xml").string() + " 2>/dev/null").c_str()), 0) << out;
  EXPECT_NE(out.find("<analysis xmlns=\"urn:trustbase:report:1\" version=\"1\" host=\"xml\""), std::string::npos) << out;
  EXPECT_NE(out.find("state=\"tampered\""), std::string::npos) << out;
  EXPECT_NE(out.find("<deviation path=\"" + (root / "etc/app.conf").string() + "\" change=\"modified\""),
            std::string::npos)
      << out;

  const fs::path doc = dir_ / "xml.xml";
  ASSERT_EQ(tb("analyze --format xml --all " + doc.string(), &out), 1) << out;
  write(dir_ / "analyzed.xml", out);
  EXPECT_EQ(std::system((validate + (dir_ / "analyzed.xml").string() + " 2>/dev/null").c_str()), 0) << out;
  EXPECT_NE(out.find("id=\"app-p1@1\""), std::string::npos) << "--all lists the absent patch: " << out;
}

TEST_F(StoreFlow, BadInputIsAClearError) {
  std::string out;
  EXPECT_EQ(tb("report host nobody", &out), 2);
  EXPECT_NE(out.find("no scan of host 'nobody'"), std::string::npos) << out;
  write(dir_ / "bad.xml", "<scan");
  EXPECT_EQ(tb("ingest --host h " + (dir_ / "bad.xml").string(), &out), 2);
  EXPECT_NE(out.find("bad.xml"), std::string::npos) << out;
  EXPECT_EQ(tb("import --name p --version 1 --kind patch " + (dir_ / "pkg/app-p1").string(), &out), 2);
  EXPECT_NE(out.find("--patches"), std::string::npos) << out;
}

}  // namespace
