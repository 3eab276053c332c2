// `trustbase migrate` end to end with the real binaries: a scanned host ingested into an
// SQLite store, migrated into a new SQLite store (PostgreSQL: tests/store/store_migration_test.cpp),
// reported identically; a second migration into it refused; no password ever printed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;

namespace {

class MigrateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-migrate-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Runs trustbase with `args`; stdout and stderr into *out / *err.
  int tb(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
    const std::string cmd = std::string(TB_TRUSTBASE_BINARY) + " " + args + " >" + (dir_ / "out").string() + " 2>" +
                            (dir_ / "err").string();
    const int raw = std::system(cmd.c_str());
    if (out != nullptr) *out = clitest::slurp(dir_ / "out");
    if (err != nullptr) *err = clitest::slurp(dir_ / "err");
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  fs::path dir_;
};

TEST_F(MigrateCli, CopiesAStoreVerifiesItAndRefusesToOverwrite) {
  clitest::write(dir_ / "host/etc/app.conf", "port=1");
  clitest::write(dir_ / "host/bin/app", "v1");
  const std::string scan = std::string(TB_SCAN_BINARY) + " -q " + (dir_ / "host").string() + " -o " +
                           (dir_ / "s.xml").string();
  ASSERT_EQ(std::system(scan.c_str()), 0);
  const std::string a = (dir_ / "a.db").string(), b = (dir_ / "b.db").string();
  std::string out, err;
  ASSERT_EQ(tb("--db " + a + " ingest --host web-01 " + (dir_ / "s.xml").string(), &out, &err), 0) << err;
  ASSERT_EQ(tb("migrate --from sqlite:" + a + " --to " + b, &out, &err), 0) << out << err;
  EXPECT_NE(out.find("verified: every table's row count and SHA-256 equal"), std::string::npos) << out;
  EXPECT_NE(err.find("scans"), std::string::npos) << "progress per table on stderr: " << err;
  std::string report_a, report_b;
  const int status_a = tb("--db " + a + " report host web-01 --format json", &report_a, &err);
  ASSERT_NE(status_a, 2) << err;
  EXPECT_EQ(tb("--db " + b + " report host web-01 --format json", &report_b, &err), status_a) << err;
  EXPECT_EQ(report_a, report_b);
  EXPECT_NE(report_b.find("web-01"), std::string::npos) << report_b;

  EXPECT_EQ(tb("migrate -q --from " + a + " --to " + b, &out, &err), 2);
  EXPECT_NE(err.find("holds data"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing committed"), std::string::npos) << err;

  EXPECT_EQ(tb("migrate -q --from " + a + " --to 'postgresql://u:pa55word@127.0.0.1:1/x?connect_timeout=2'", &out, &err), 2);
  EXPECT_EQ((out + err).find("pa55word"), std::string::npos) << err;
  EXPECT_NE(err.find("u:***@"), std::string::npos) << err;
}

}  // namespace
