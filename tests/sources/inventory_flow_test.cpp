// The package inventory end to end with the real programs: app 1.0-1 and 1.1-1 built with
// dpkg-deb and imported (1.1-1 becomes a patch of 1.0-1); a host tree holding 1.0-1's
// files while its dpkg status says 1.1-1 is installed; trustbase-scan --sysroot lists the
// packages, the store keeps them with the scan, and `report host` and `verify` say the
// package manager and the files disagree. Then the status is corrected and the host is clean.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sources/source_test_support.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

using namespace srctest;

// A realistic status file: the package under test, one without signature, one removed
// with its configuration left, and a malformed stanza (a warning, not a failure).
std::string status_file(const std::string& app_version) {
  return "Package: bash\nEssential: yes\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\n"
         "Version: 5.2.15-2+b2\nDescription: GNU Bourne Again SHell\n Bash is an sh-compatible command language.\n\n"
         "Package: app\nStatus: install ok installed\nMaintainer: ACME Packaging <pkg@acme.example>\n"
         "Architecture: all\nVersion: " + app_version + "\nDescription: test package\n\n"
         "Package: oldtool\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 0.1\n\n"
         "Package: garbled\nStatus: install ok installed\nnot a field\nVersion: 1\n";
}

class InventoryFlow : public TempDirTest {
 protected:
  int tb(const std::string& args, std::string* out = nullptr) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + quote((dir_ / "store.db").string()) + " " + args, out);
  }
  int scan(std::string* out = nullptr) {
    return run(std::string(TB_SCAN_BINARY) + " -q --sysroot " + quote((dir_ / "host").string()) + " -o " +
                   quote((dir_ / "scan.xml").string()) + " /usr",
               out);
  }
  fs::path deb(const std::string& version, const std::string& binary) {
    DebSpec spec;
    spec.version = version;
    spec.files = {{"/usr/bin/app", binary}, {"/usr/share/app/data", "shared data\n"}};
    spec.executables = {"/usr/bin/app"};
    return build_deb(dir_ / ("build-" + version), spec);
  }
};

TEST_F(InventoryFlow, StatusSaysOneVersionFilesAnother) {
  const fs::path v10 = deb("1.0-1", "#!/bin/sh\necho 1.0\n");
  const fs::path v11 = deb("1.1-1", "#!/bin/sh\necho 1.1\n");
  std::string out;
  ASSERT_EQ(tb("import " + quote(v10.string()) + " " + quote(v11.string()), &out), 0) << out;

  const fs::path host = dir_ / "host";
  fs::create_directories(host / "var/lib/dpkg");
  ASSERT_EQ(run("dpkg-deb -x " + quote(v10.string()) + " " + quote(host.string())), 0);
  write(host / "var/lib/dpkg/status", status_file("1.1-1"));

  ASSERT_EQ(scan(&out), 0) << out;
  const std::string doc = slurp(dir_ / "scan.xml");
  EXPECT_NE(doc.find("<package name=\"app\" version=\"1.1-1\" arch=\"all\" source=\"dpkg\"/>"), std::string::npos) << doc;
  EXPECT_NE(doc.find("<warning source=\"dpkg\">status line 22: line 24 is not a 'Field: value' line; entry skipped"
                     "</warning>"),
            std::string::npos)
      << doc;
  EXPECT_EQ(doc.find("oldtool"), std::string::npos);

  ASSERT_EQ(tb("ingest --host web01 " + quote((dir_ / "scan.xml").string()), &out), 0) << out;
  {  // The store keeps the inventory with the scan.
    auto store = open_sqlite_store((dir_ / "store.db").string());
    ASSERT_TRUE(store);
    auto id = (*store)->latest_scan("web01");
    ASSERT_TRUE(id && *id);
    auto inv = (*store)->get_scan_inventory(**id);
    ASSERT_TRUE(inv && *inv) << (inv ? "none" : inv.error().message);
    EXPECT_EQ((*inv)->packages.size(), 2u);
    EXPECT_EQ((*inv)->warnings.size(), 1u);
  }

  EXPECT_EQ(tb("report host web01", &out), 1) << out;
  EXPECT_NE(out.find("inventory_mismatch   dpkg says app 1.1-1 is installed, its files match 1.0-1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("packages: 2 listed, 0 confirmed by their files, 1 without signature"), std::string::npos) << out;

  EXPECT_EQ(tb("report host web01 --format json", &out), 1) << out;
  const auto json = nlohmann::json::parse(out);
  ASSERT_EQ(json.at("inventory").at("issues").size(), 1u);
  EXPECT_EQ(json["inventory"]["issues"][0]["found"], nlohmann::json::array({"app@1.0-1"}));
  EXPECT_EQ(json["inventory"]["issues"][0]["state"], "absent");

  // The deployment gate fails on it, unless deviations are allowed.
  EXPECT_EQ(tb("verify --host web01", &out), 1) << out;
  EXPECT_NE(out.find("inventory"), std::string::npos) << out;
  EXPECT_NE(out.find("1 package whose files are not the version the package manager lists"), std::string::npos)
      << out;
  EXPECT_EQ(tb("verify --host web01 --allow-deviations", &out), 0) << out;

  // dpkg and the files agree again: clean.
  write(host / "var/lib/dpkg/status", status_file("1.0-1"));
  ASSERT_EQ(scan(&out), 0) << out;
  ASSERT_EQ(tb("ingest --host web01 " + quote((dir_ / "scan.xml").string()), &out), 0) << out;
  EXPECT_EQ(tb("report host web01", &out), 0) << out;
  EXPECT_NE(out.find("packages: 2 listed, 1 confirmed by their files, 1 without signature"), std::string::npos) << out;
  EXPECT_EQ(tb("verify --host web01", &out), 0) << out;

  // --no-inventory: no package list, no cross-check.
  ASSERT_EQ(run(std::string(TB_SCAN_BINARY) + " -q --no-inventory --sysroot " + quote(host.string()) + " -o " +
                    quote((dir_ / "scan.xml").string()) + " /usr"),
            0);
  EXPECT_EQ(slurp(dir_ / "scan.xml").find("<packages"), std::string::npos);
}

// dpkg lists app 1.2-1 and the store holds only 1.0-1: the package is unverified, never
// a mismatch; `verify` passes with a warning naming it, and fails with
// --require-signatures.
TEST_F(InventoryFlow, UnverifiedVersionWarnsUnlessSignaturesAreRequired) {
  const fs::path v10 = deb("1.0-1", "#!/bin/sh\necho 1.0\n");
  const fs::path v12 = deb("1.2-1", "#!/bin/sh\necho 1.2\n");
  std::string out;
  ASSERT_EQ(tb("import " + quote(v10.string()), &out), 0) << out;
  const fs::path host = dir_ / "host";
  fs::create_directories(host / "var/lib/dpkg");
  ASSERT_EQ(run("dpkg-deb -x " + quote(v12.string()) + " " + quote(host.string())), 0);
  write(host / "var/lib/dpkg/status", status_file("1.2-1"));
  ASSERT_EQ(scan(&out), 0) << out;
  ASSERT_EQ(tb("ingest --host web01 " + quote((dir_ / "scan.xml").string()), &out), 0) << out;

  const std::string warning =
      "warning: 1 package installed at a version no stored signature checks (unverified; --require-signatures "
      "fails on it)\n"
      "      dpkg: app 1.2-1 installed; no signature of that version; stored: 1.0-1\n";
  EXPECT_EQ(tb("verify --host web01 --allow-deviations", &out), 0) << out;
  EXPECT_NE(out.find("): OK\n" + warning), std::string::npos) << out;
  EXPECT_EQ(out.find("inventory"), std::string::npos) << out;  // not counted as a mismatch

  EXPECT_EQ(tb("verify --host web01 --allow-deviations --require-signatures", &out), 1) << out;
  EXPECT_NE(out.find("): FAILED\n  unverified   1 package installed at a version no stored signature checks\n"
                     "      dpkg: app 1.2-1 installed; no signature of that version; stored: 1.0-1\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(tb("verify --host web01 --allow-deviations --require-signatures --format json", &out), 1) << out;
  const auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j.at("reasons").size(), 1u) << out;
  EXPECT_EQ(j["reasons"][0]["problem"], "unverified");
  EXPECT_EQ(j["reasons"][0]["count"], 1);
}

}  // namespace
}  // namespace tb
