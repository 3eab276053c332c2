// This machine as a real Debian host (issue 20): packages that dpkg lists, fetched with
// apt-get download at their installed version and at another one, imported as their
// importer links them; /usr scanned with the machine's own inventory. The verdicts must
// be the truth: the installed versions complete (or config_changed), other stored
// versions never tampered or partial, a version the store lacks `unverified`, packages
// dpkg does not list absent, and the default text report short.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run(const std::string& command, const fs::path& scratch) {
  const fs::path file = scratch / "out";
  const int raw = std::system((command + " >" + file.string() + " 2>&1").c_str());
  return Outcome{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, clitest::slurp(file)};
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// What the test plans for one package of the machine.
struct Plan {
  std::string name;
  std::optional<std::string> installed;  // dpkg's version, when installed
  std::vector<std::string> fetched;      // versions downloaded
};

class RealHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v dpkg-query >/dev/null && command -v apt-get >/dev/null") != 0)
      GTEST_SKIP() << "not a Debian machine";
    char tmpl[] = "/tmp/tb-real-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "debs");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::optional<std::string> installed_version(const std::string& name) {
    const Outcome r = run("dpkg-query -W -f='${Status}|${Version}' " + name, dir_);
    if (r.status != 0 || r.out.find("install ok installed|") != 0) return std::nullopt;
    return r.out.substr(r.out.find('|') + 1);
  }
  std::vector<std::string> available_versions(const std::string& name) {
    const Outcome r = run("apt-cache madison " + name + " | awk '{print $3}'", dir_);
    return r.status == 0 ? words(r.out) : std::vector<std::string>{};
  }
  bool download(const std::string& name, const std::string& version) {
    return run("cd " + (dir_ / "debs").string() + " && apt-get download -q " + name + "=" + version, dir_).status == 0;
  }
  Outcome tb(const std::string& args) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + (dir_ / "t.db").string() + " " + args, dir_);
  }

  fs::path dir_;
};

TEST_F(RealHost, VerdictsOnThisMachinesUsrAreTheTruth) {
  // Installed packages with a downloadable installed version and another one; an installed
  // package whose installed version cannot be fetched (another one can); a package this
  // machine does not have. Which is which depends on the machine and its mirror.
  std::vector<Plan> plans;
  for (const std::string name : {"libxml2", "curl", "libcurl4", "openssl", "libssl3", "tzdata", "gawk", "sudo",
                                 "nginx-core", "zstd", "xz-utils", "gpgv"}) {
    Plan p{name, installed_version(name), {}};
    const std::vector<std::string> available = available_versions(name);
    if (available.empty()) continue;
    if (p.installed) {
      const bool installed_available = std::find(available.begin(), available.end(), *p.installed) != available.end();
      if (installed_available) p.fetched.push_back(*p.installed);
      for (const std::string& v : available)
        if (v != *p.installed) {
          p.fetched.push_back(v);
          break;
        }
    } else {
      p.fetched.push_back(available.front());
    }
    std::erase_if(p.fetched, [&](const std::string& v) { return !download(p.name, v); });
    if (!p.fetched.empty()) plans.push_back(std::move(p));
  }
  if (plans.empty()) GTEST_SKIP() << "the package registry cannot be reached (apt-get download failed)";

  const Outcome imported = tb("import " + (dir_ / "debs").string());
  ASSERT_EQ(imported.status, 0) << imported.out;
  const fs::path doc = dir_ / "usr.xml";
  const Outcome scanned = run(std::string(TB_SCAN_BINARY) + " --root /usr -q -o " + doc.string(), dir_);
  ASSERT_LE(scanned.status, 1) << scanned.out;  // 1: some files unreadable, listed as errors
  const Outcome ingested = tb("ingest --host this " + doc.string());
  ASSERT_LE(ingested.status, 1) << ingested.out;
  const Outcome report = tb("report host this --format json --all");
  ASSERT_LE(report.status, 1) << report.out;
  const json r = json::parse(report.out);

  std::map<std::string, std::string> state;  // name@version -> state
  for (const json& v : r.at("signatures")) state[v.at("signature")] = v.at("state");
  std::set<std::string> judged;  // signatures whose files the report may blame
  std::size_t installed_checked = 0, unverified_checked = 0, absent_checked = 0;
  for (const Plan& p : plans) {
    for (const std::string& v : p.fetched) {
      const std::string id = p.name + "@" + v;
      ASSERT_TRUE(state.count(id)) << id << " was not imported\n" << imported.out;
      const std::string s = state[id];
      SCOPED_TRACE(id + ": " + s);
      EXPECT_NE(s, "tampered") << "another release, or a package dpkg lists as installed, is never tampering here";
      EXPECT_NE(s, "partial");
      if (!p.installed) {
        EXPECT_EQ(s, "absent") << "dpkg does not list " << p.name;
        ++absent_checked;
      } else if (v == *p.installed) {
        EXPECT_EQ(s, "complete");
        judged.insert(id);
        ++installed_checked;
      } else if (std::find(p.fetched.begin(), p.fetched.end(), *p.installed) == p.fetched.end()) {
        EXPECT_TRUE(s == "unverified" || s == "absent") << "the installed version has no signature";
        if (s == "unverified") ++unverified_checked;
      } else {
        // Stored beside the installed one: older and patched by it (complete), or newer (absent).
        EXPECT_TRUE(s == "complete" || s == "absent");
      }
    }
  }
  // Files are only ever blamed on the releases installed here.
  for (const json& d : r.at("deviations"))
    for (const json& owner : d.at("owners"))
      for (const Plan& p : plans) {
        if (owner.get<std::string>().rfind(p.name + "@", 0) == 0) {
          EXPECT_TRUE(judged.count(owner.get<std::string>())) << d.dump();
        }
      }
  std::cout << "[          ] checked " << installed_checked << " installed, " << unverified_checked << " unverified, "
            << absent_checked << " not installed\n";
  EXPECT_GT(installed_checked + unverified_checked + absent_checked, 0u);

  // The default text report of this host reads at a glance, whatever /usr holds.
  const Outcome text = tb("report host this");
  const auto lines = std::count(text.out.begin(), text.out.end(), '\n');
  EXPECT_LE(lines, 200) << text.out;
  EXPECT_NE(text.out.find("signatures: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("policy: default"), std::string::npos) << text.out;
}

}  // namespace
