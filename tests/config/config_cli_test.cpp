// The programs reading their configuration files: trustbase-scan and trustbase serve take
// their settings from --config FILE, command-line options override it, and a bad file stops
// them (status 2) with the file, line and key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "server/server_process.h"

namespace {

namespace fs = std::filesystem;
using servertest::run;
using servertest::slurp;
using servertest::write;

class ConfigCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-config-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    write(dir_ / "a" / "file-a", "a\n");
    write(dir_ / "b" / "file-b", "b\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Runs `binary args`, stderr into the returned status line's companion file.
  std::string scan(const std::string& args, int* status) {
    return run(std::string(TB_SCAN_BINARY) + " " + args + " 2>" + (dir_ / "err").string(), status);
  }
  std::string err() { return slurp(dir_ / "err"); }
  fs::path dir_;
};

TEST_F(ConfigCli, ScannerTakesItsSettingsFromTheFile) {
  write(dir_ / "scan.toml", "[scan]\nroots = [\"" + (dir_ / "a").string() + "\"]\njobs = 2\n"
                            "[output]\nformat = \"json\"\nquiet = true\nfile = \"" + (dir_ / "out.json").string() + "\"\n");
  int status = -1;
  scan("--config " + (dir_ / "scan.toml").string(), &status);
  ASSERT_EQ(status, 0) << err();
  const std::string doc = slurp(dir_ / "out.json");
  EXPECT_EQ(doc.front(), '{') << "output.format = json";
  EXPECT_NE(doc.find("file-a"), std::string::npos);
  EXPECT_TRUE(err().empty()) << "output.quiet = true: " << err();
}

TEST_F(ConfigCli, ScannerOptionsOverrideTheFile) {
  write(dir_ / "scan.toml", "[scan]\nroots = [\"" + (dir_ / "a").string() + "\"]\n"
                            "[output]\nformat = \"json\"\nfile = \"" + (dir_ / "out.json").string() + "\"\n");
  int status = -1;
  const std::string out = scan("--config " + (dir_ / "scan.toml").string() + " --format xml -q -o - " +
                                   (dir_ / "b").string(), &status);
  ASSERT_EQ(status, 0) << err();
  EXPECT_EQ(out.rfind("<?xml", 0), 0u) << "--format xml beats output.format";
  EXPECT_NE(out.find("file-b"), std::string::npos) << "a positional root replaces scan.roots";
  EXPECT_EQ(out.find("file-a"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "out.json")) << "-o beats output.file";
}

TEST_F(ConfigCli, OutputOnTheCommandLineCancelsTheFilesServer) {
  write(dir_ / "scan.toml", "[scan]\nroots = [\"" + (dir_ / "a").string() + "\"]\n"
                            "[server]\nurl = \"http://127.0.0.1:9\"\ntoken_file = \"/nonexistent\"\n");
  int status = -1;
  scan("--config " + (dir_ / "scan.toml").string() + " -q -o " + (dir_ / "now.xml").string(), &status);
  EXPECT_EQ(status, 0) << err();
  EXPECT_TRUE(fs::exists(dir_ / "now.xml"));
}

TEST_F(ConfigCli, ScannerRefusesABadFileWithTheLine) {
  write(dir_ / "scan.toml", "[scan]\nroots = [\"/usr\"]\njobs = 5000\n\n[server]\nurl = 8750\n");
  int status = -1;
  const std::string out = scan("--config " + (dir_ / "scan.toml").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_TRUE(out.empty()) << "no document from a bad configuration";
  const std::string path = (dir_ / "scan.toml").string();
  EXPECT_EQ(err(), "trustbase-scan: " + path + ":3:8: scan.jobs: 5000 is out of range (from 0 to 1024)\n" + path +
                       ":6:7: server.url: expected a string, got an integer\n");
}

TEST_F(ConfigCli, ScannerUploadModeIsAKeyWithItsTwoValues) {
  write(dir_ / "scan.toml", "[scan]\nroots = [\"" + (dir_ / "a").string() + "\"]\n[server]\nupload = \"parcels\"\n");
  int status = -1;
  scan("--config " + (dir_ / "scan.toml").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(err().find("server.upload"), std::string::npos) << err();
  write(dir_ / "scan.toml", "[scan]\nroots = [\"" + (dir_ / "a").string() + "\"]\n[server]\nupload = \"document\"\n");
  const std::string out = scan("--config " + (dir_ / "scan.toml").string() + " -q", &status);
  EXPECT_EQ(status, 0) << err();
  EXPECT_NE(out.find("file-a"), std::string::npos);
}

TEST_F(ConfigCli, ScannerRefusesAMissingExplicitFile) {
  int status = -1;
  scan("--config " + (dir_ / "absent.toml").string() + " " + (dir_ / "a").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(err().find("absent.toml: No such file or directory"), std::string::npos) << err();
}

TEST_F(ConfigCli, ServerRefusesABadFileWithTheLine) {
  write(dir_ / "server.toml", "store = \"" + (dir_ / "t.db").string() + "\"\n[listen]\nport = 70000\n");
  int status = -1;
  run(std::string(TB_TRUSTBASE_BINARY) + " serve --config " + (dir_ / "server.toml").string() + " 2>" +
          (dir_ / "err").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(err().find((dir_ / "server.toml").string() + ":3:8: listen.port: 70000 is out of range (from 0 to 65535)"),
            std::string::npos) << err();
  write(dir_ / "server.toml", "[upload]\nmax_body_mb = \"big\"\n[logs]\nlevel = \"info\"\n");
  run(std::string(TB_TRUSTBASE_BINARY) + " serve --config " + (dir_ / "server.toml").string() + " 2>" +
          (dir_ / "err").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(err().find(":2:15: upload.max_body_mb: expected an integer, got a string"), std::string::npos) << err();
  EXPECT_NE(err().find(":3:2: unknown key 'logs'"), std::string::npos) << err();
}

TEST_F(ConfigCli, ServerUsesTheFilesStore) {
  // The store is a file in a directory that does not exist: the error names it, so the
  // server took it from the configuration.
  const fs::path store = dir_ / "no-such-dir" / "t.db";
  write(dir_ / "server.toml", "store = \"" + store.string() + "\"\n[listen]\nport = 0\n");
  int status = -1;
  run("env -u TRUSTBASE_DB " + std::string(TB_TRUSTBASE_BINARY) + " serve --config " + (dir_ / "server.toml").string() +
          " 2>" + (dir_ / "err").string(), &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(err().find(store.string()), std::string::npos) << err();
}

TEST_F(ConfigCli, ServerOptionsOverrideTheFile) {
  // The file names an unusable store and a port nobody may bind; --db and --listen win.
  write(dir_ / "server.toml", "store = \"/nonexistent/t.db\"\n[listen]\naddress = \"192.0.2.1\"\nport = 1\n"
                              "[upload]\nmax_body_mb = 1\n");
  servertest::ServerProcess server(dir_ / "t.db", dir_ / "server.log", {"--config", (dir_ / "server.toml").string()});
  ASSERT_GT(server.port(), 0) << slurp(dir_ / "server.log");
  EXPECT_TRUE(fs::exists(dir_ / "t.db"));
}

}  // namespace
