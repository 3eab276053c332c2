// The generic loader: values reach their variables, every kind of mistake is refused with
// the file, line, column and key, and keys whose flags were given are left alone.
#include "config/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace {

using namespace tb::config;

struct Settings {
  std::string url = "default-url";
  std::string format = "xml";
  std::vector<std::string> roots;
  bool nice = false;
  unsigned attempts = 6;
  double rate = 0;
};

std::vector<Key> keys(Settings& s) {
  return {text("server.url", s.url, {"--server"}),
          text("output.format", s.format, {"--format"}, {"xml", "json"}),
          texts("scan.roots", s.roots, {"--root", "roots"}),
          boolean("scan.nice", s.nice, {"--nice"}),
          integer("server.attempts", s.attempts, 1, 100, {"--attempts"}),
          real("scan.rate", s.rate, 0, 1e9, {"--max-rate"})};
}

GivenFlag none() {
  return [](std::string_view) { return false; };
}

tb::Expected<void> load(const std::string& text, Settings& s, GivenFlag given = none()) {
  return apply_toml(text, "scan.toml", keys(s), given);
}

TEST(ConfigFile, AppliesEveryKindOfValue) {
  Settings s;
  const auto r = load(R"(
[scan]
roots = ["/usr", "/opt"]
nice = true
rate = 12      # an integer is a number too

[server]
url = "http://tb:8750"
attempts = 3

[output]
format = "json"
)", s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.url, "http://tb:8750");
  EXPECT_EQ(s.format, "json");
  EXPECT_EQ(s.roots, (std::vector<std::string>{"/usr", "/opt"}));
  EXPECT_TRUE(s.nice);
  EXPECT_EQ(s.attempts, 3u);
  EXPECT_DOUBLE_EQ(s.rate, 12.0);
}

TEST(ConfigFile, DottedKeysAndInlineTablesAreTheSameKeys) {
  Settings s;
  ASSERT_TRUE(load("server.url = \"a\"\nscan = { nice = true }\n", s));
  EXPECT_EQ(s.url, "a");
  EXPECT_TRUE(s.nice);
}

TEST(ConfigFile, MissingKeysKeepTheirDefaults) {
  Settings s;
  ASSERT_TRUE(load("# nothing but a comment\n", s));
  EXPECT_EQ(s.url, "default-url");
  EXPECT_EQ(s.attempts, 6u);
}

TEST(ConfigFile, UnknownKeyIsNamedWithItsLine) {
  Settings s;
  const auto r = load("[server]\nurl = \"x\"\nurll = \"y\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:3:1: unknown key 'server.urll'");
  EXPECT_EQ(s.url, "default-url") << "nothing is applied from a file with a mistake";
}

TEST(ConfigFile, UnknownSectionIsNamed) {
  Settings s;
  const auto r = load("\n[sever]\nurl = \"x\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:2:2: unknown key 'sever'");
}

TEST(ConfigFile, WrongTypeIsNamedWithItsLine) {
  Settings s;
  auto r = load("[server]\n\nattempts = \"3\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:3:12: server.attempts: expected an integer, got a string");
  r = load("scan.nice = 1\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:1:13: scan.nice: expected true or false, got an integer");
  r = load("scan.roots = \"/usr\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:1:14: scan.roots: expected an array of strings, got a string");
  r = load("scan.roots = [\n  \"/usr\",\n  42,\n]\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:3:3: scan.roots: expected an array of strings, found an integer in it");
  r = load("server = 3\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:1:10: server: expected a table, got an integer");
}

TEST(ConfigFile, OutOfRangeIsNamedWithTheBounds) {
  Settings s;
  auto r = load("[server]\nattempts = 0\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:2:12: server.attempts: 0 is out of range (from 1 to 100)");
  r = load("[server]\nattempts = 101\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:2:12: server.attempts: 101 is out of range (from 1 to 100)");
  r = load("scan.rate = -0.5\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:1:13: scan.rate: -0.5 is out of range (from 0 to 1000000000)");
  r = load("scan.rate = nan\n", s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("scan.rate: nan is out of range"), std::string::npos) << r.error().message;
}

TEST(ConfigFile, ValueNotAmongTheChoices) {
  Settings s;
  const auto r = load("[output]\nformat = \"yaml\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "scan.toml:2:10: output.format: \"yaml\" is not one of \"xml\", \"json\"");
}

TEST(ConfigFile, SyntaxErrorHasTheLine) {
  Settings s;
  const auto r = load("[server]\nurl = \"unterminated\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("scan.toml:2:", 0), 0u) << r.error().message;
}

TEST(ConfigFile, EveryProblemIsListedInFileOrder) {
  Settings s;
  const auto r = load("[server]\nurl = 1\nattempts = 0\nzzz = 1\n[output]\nformat = \"csv\"\n", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "scan.toml:2:7: server.url: expected a string, got an integer\n"
            "scan.toml:3:12: server.attempts: 0 is out of range (from 1 to 100)\n"
            "scan.toml:4:1: unknown key 'server.zzz'\n"
            "scan.toml:6:10: output.format: \"csv\" is not one of \"xml\", \"json\"");
}

TEST(ConfigFile, FlagsGivenOnTheCommandLineWin) {
  Settings s;
  s.url = "from-command-line";
  s.roots = {"/cli"};
  const std::set<std::string> given{"--server", "roots"};
  const auto r = load("scan.roots = [\"/file\"]\nserver.url = \"from-file\"\nserver.attempts = 2\n", s,
                      [&](std::string_view flag) { return given.count(std::string(flag)) > 0; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.url, "from-command-line");
  EXPECT_EQ(s.roots, (std::vector<std::string>{"/cli"})) << "any one of a key's flags overrides it";
  EXPECT_EQ(s.attempts, 2u);
}

TEST(ConfigFile, OverriddenKeysAreStillChecked) {
  Settings s;
  const auto r = load("server.attempts = 0\n", s, [](std::string_view) { return true; });
  ASSERT_FALSE(r);
}

class ConfigFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ConfigFileOnDisk, ReadsAFileAndNamesItInErrors) {
  const auto path = (dir_ / "scan.toml").string();
  std::ofstream(path) << "[server]\nattempts = 500\n";
  Settings s;
  const auto r = apply_file(path, keys(s), none());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path + ":2:12: server.attempts: 500 is out of range (from 1 to 100)");
}

TEST_F(ConfigFileOnDisk, MissingOversizedAndDirectoryFilesAreRefused) {
  Settings s;
  auto r = apply_file((dir_ / "absent.toml").string(), keys(s), none());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("absent.toml: No such file or directory"), std::string::npos) << r.error().message;
  r = apply_file(dir_.string(), keys(s), none());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is a directory"), std::string::npos) << r.error().message;
  const auto big = (dir_ / "big.toml").string();
  std::ofstream(big) << std::string(kMaxFileBytes + 10, '#');
  r = apply_file(big, keys(s), none());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("larger than"), std::string::npos) << r.error().message;
}

TEST_F(ConfigFileOnDisk, DefaultFileOnlyWhenItExists) {
  const auto present = (dir_ / "present.toml").string();
  std::ofstream(present) << "\n";
  EXPECT_EQ(choose_file("", present), present);
  EXPECT_EQ(choose_file("", (dir_ / "absent.toml").string()), std::nullopt);
  EXPECT_EQ(choose_file("/explicit.toml", present), "/explicit.toml") << "an explicit file wins, even a missing one";
}

}  // namespace
