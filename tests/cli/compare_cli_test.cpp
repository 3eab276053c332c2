// `trustbase compare`: two real scans of a tree before and after planted changes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

#include "format/drift_report.h"

namespace fs = std::filesystem;

namespace {

using clitest::slurp;
using clitest::write;

class CompareCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-compare-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    tree_ = fs::canonical(dir_) / "app";
    fs::create_directories(tree_ / "bin");
    fs::create_directories(tree_ / "etc");
    write(tree_ / "bin" / "app", "v1");
    write(tree_ / "etc" / "app.conf", "port=1");
    write(tree_ / "etc" / "old.conf", "legacy");
    fs::create_symlink("bin/app", tree_ / "current");
    scan(dir_ / "reference.xml");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void scan(const fs::path& out, const std::string& extra = "") {
    const std::string cmd = std::string(TB_SCAN_BINARY) + " -q " + extra + " " + tree_.string() + " -o " + out.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  int compare(const std::string& args, std::string& out) {
    const std::string cmd = std::string(TB_TRUSTBASE_BINARY) + " compare " + args + " >" + (dir_ / "out").string() +
                            " 2>" + (dir_ / "err").string();
    const int raw = std::system(cmd.c_str());
    out = slurp(dir_ / "out") + slurp(dir_ / "err");
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  void plant_changes() {
    write(tree_ / "bin" / "app", "v2-tampered");  // content and size
    fs::remove(tree_ / "etc" / "old.conf");
    write(tree_ / "etc" / "extra.conf", "x");
    fs::permissions(tree_ / "etc" / "app.conf", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    fs::remove(tree_ / "current");
    fs::create_symlink("bin/other", tree_ / "current");
  }
  fs::path dir_, tree_;
};

TEST_F(CompareCli, IdenticalScansExitZero) {
  scan(dir_ / "again.xml");
  std::string out;
  // mtimes of the root may differ between the two scans' trees: ignored by default.
  EXPECT_EQ(compare((dir_ / "reference.xml").string() + " " + (dir_ / "again.xml").string(), out), 0) << out;
  EXPECT_NE(out.find("identical"), std::string::npos) << out;
}

TEST_F(CompareCli, EveryPlantedDeviationIsReportedAndNothingElse) {
  plant_changes();
  scan(dir_ / "examined.xml");
  std::string out;
  ASSERT_EQ(compare((dir_ / "reference.xml").string() + " " + (dir_ / "examined.xml").string(), out), 1) << out;
  const std::string root = tree_.string();
  EXPECT_NE(out.find("modified  " + root + "/bin/app  (size 2 -> 11, sha256 "), std::string::npos) << out;
  EXPECT_NE(out.find("removed   " + root + "/etc/old.conf  (file)"), std::string::npos) << out;
  EXPECT_NE(out.find("added     " + root + "/etc/extra.conf  (file)"), std::string::npos) << out;
  EXPECT_NE(out.find("modified  " + root + "/etc/app.conf  (mode 0644 -> 0600)"), std::string::npos) << out;
  EXPECT_NE(out.find("modified  " + root + "/current  (size 7 -> 9, target bin/app -> bin/other)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("5 differences: 1 added, 1 removed, 3 modified"), std::string::npos) << out;
}

TEST_F(CompareCli, JsonReportCarriesBothSidesOfEachDifference) {
  plant_changes();
  scan(dir_ / "examined.json", "--format json");
  std::string out;
  ASSERT_EQ(compare("--format json " + (dir_ / "reference.xml").string() + " " + (dir_ / "examined.json").string(), out),
            1);
  const auto report = nlohmann::json::parse(out);
  EXPECT_EQ(report["counts"]["added"], 1);
  EXPECT_EQ(report["counts"]["removed"], 1);
  EXPECT_EQ(report["counts"]["modified"], 3);
  const auto& diffs = report["differences"];
  ASSERT_EQ(diffs.size(), 5u);
  const auto app = std::find_if(diffs.begin(), diffs.end(), [&](const auto& d) { return d["path"] == (tree_ / "bin" / "app").string(); });
  ASSERT_NE(app, diffs.end());
  EXPECT_EQ((*app)["changed"], "size,content");
  EXPECT_EQ((*app)["reference"]["size"], 2);
  EXPECT_EQ((*app)["examined"]["size"], 11);
  EXPECT_EQ((*app)["reference"]["sha256"].get<std::string>().size(), 64u);
}

TEST_F(CompareCli, XmlReportValidatesAgainstTheReportSchema) {
  plant_changes();
  scan(dir_ / "examined.xml");
  std::string out;
  ASSERT_EQ(compare("--format xml " + (dir_ / "reference.xml").string() + " " + (dir_ / "examined.xml").string(), out),
            1);
  write(dir_ / "drift.xml", out);
  const std::string cmd = "xmllint --noout --schema " + std::string(TB_SOURCE_DIR) + "/schema/report-v1.xsd " +
                          (dir_ / "drift.xml").string() + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << out;
  EXPECT_NE(out.find("<counts added=\"1\" removed=\"1\" modified=\"3\"/>"), std::string::npos) << out;
  EXPECT_NE(out.find("<difference change=\"modified\" path=\"" + (tree_ / "current").string() +
                     "\" changed=\"size,target\">"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("target=\"bin/other\""), std::string::npos) << out;
}

TEST_F(CompareCli, IgnoreListLeavesAttributesOut) {
  fs::permissions(tree_ / "etc" / "app.conf", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  scan(dir_ / "examined.xml");
  std::string out;
  const std::string files = (dir_ / "reference.xml").string() + " " + (dir_ / "examined.xml").string();
  EXPECT_EQ(compare(files, out), 1) << out;
  EXPECT_EQ(compare("--ignore mtime,mode " + files, out), 0) << out;
  EXPECT_EQ(compare("--ignore colour " + files, out), 2);
  EXPECT_NE(out.find("unknown attribute"), std::string::npos) << out;
}

TEST_F(CompareCli, BadInputExitsTwoWithTheReason) {
  std::string out;
  write(dir_ / "truncated.xml", slurp(dir_ / "reference.xml").substr(0, 300));
  EXPECT_EQ(compare((dir_ / "reference.xml").string() + " " + (dir_ / "truncated.xml").string(), out), 2);
  EXPECT_NE(out.find("truncated.xml"), std::string::npos) << out;
  EXPECT_EQ(compare((dir_ / "reference.xml").string() + " " + (dir_ / "missing.xml").string(), out), 2);
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
  EXPECT_EQ(compare((dir_ / "reference.xml").string(), out), 2) << "one document is a usage error";
}

TEST(Printable, EscapesWhatATerminalWouldInterpret) {
  EXPECT_EQ(tb::printable("/usr/bin/ls"), "/usr/bin/ls");
  EXPECT_EQ(tb::printable("/tmp/\x1b[2Jx"), "/tmp/\\x1b[2Jx");
  EXPECT_EQ(tb::printable("/tmp/caf\xc3\xa9"), "/tmp/caf\xc3\xa9");
  EXPECT_EQ(tb::printable("/tmp/\xff\xfe"), "/tmp/\\xff\\xfe");
  EXPECT_EQ(tb::printable("/tmp/a\\x01\n"), "/tmp/a\\\\x01\\x0a");
}

}  // namespace
