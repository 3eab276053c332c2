// The scanner's package inventory: a realistic dpkg status file (installed, held,
// deinstalled, half-installed and malformed stanzas, multi-line fields), bounds on size,
// count and field length, a sysroot without databases, a symlinked status file; and a
// real rpm database made with `rpm --initdb` and `rpm -i --justdb` of an rpmbuild package.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "scan/package_inventory.h"

namespace fs = std::filesystem;

namespace tb {
namespace {

// Installed: base-files, libc6 (two architectures), openssl, held tzdata. Not installed:
// oldpkg (deinstalled, config files left), brokenpkg (half-installed), purged (not-installed).
// Malformed: a stanza with a line that is no field. Stanza 9 has no Package field.
constexpr std::string_view kStatus = R"(Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 2fa4d3b8e2d2b3b5a0c6d1c0e6f2a0e1
 /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version.

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u3
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u3
Description: GNU C Library: Shared libraries

Package: oldpkg
Status: deinstall ok config-files
Architecture: all
Version: 0.9-1
Conffiles:
 /etc/oldpkg.conf 0123456789abcdef0123456789abcdef

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - cryptographic utility

Package: brokenpkg
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.0

Package: garbled
Status: install ok installed
Architecture: amd64
this line is no field
Version: 1.0

Package: tzdata
Status: hold ok installed
Architecture: all
Version: 2024a-0+deb12u1

Status: install ok installed
Version: 1.0

Package: purged
Status: purge ok not-installed
Architecture: amd64
)";

bool has(const PackageInventory& inv, std::string_view name, std::string_view version, std::string_view arch = "") {
  for (const InstalledPackage& p : inv.packages)
    if (p.name == name && p.version == version && (arch.empty() || p.arch == arch)) return true;
  return false;
}

TEST(DpkgStatus, ListsInstalledPackagesOnlyAndWarnsAboutMalformedStanzas) {
  PackageInventory inv;
  parse_dpkg_status(kStatus, inv);
  EXPECT_EQ(inv.packages.size(), 5u);
  EXPECT_TRUE(has(inv, "base-files", "12.4+deb12u5", "amd64"));
  EXPECT_TRUE(has(inv, "libc6", "2.36-9+deb12u3", "amd64"));
  EXPECT_TRUE(has(inv, "libc6", "2.36-9+deb12u3", "i386"));
  EXPECT_TRUE(has(inv, "openssl", "3.0.11-1~deb12u2", "amd64"));
  EXPECT_TRUE(has(inv, "tzdata", "2024a-0+deb12u1", "all"));  // held: still installed
  EXPECT_FALSE(has(inv, "oldpkg", "0.9-1"));
  EXPECT_FALSE(has(inv, "brokenpkg", "1.0"));
  EXPECT_FALSE(has(inv, "garbled", "1.0"));
  for (const InstalledPackage& p : inv.packages) EXPECT_EQ(p.manager, PackageManager::dpkg);
  ASSERT_EQ(inv.warnings.size(), 2u);
  EXPECT_EQ(inv.warnings[0].message, "status line 58: line 61 is not a 'Field: value' line; entry skipped");
  EXPECT_EQ(inv.warnings[1].message, "status line 69: stanza without a Package field; skipped");
}

TEST(DpkgStatus, OddButValidSpellings) {
  PackageInventory inv;
  // Field names are case-insensitive, CRLF line ends and a missing final newline are fine,
  // several blank lines separate stanzas as one does, and comments are skipped.
  parse_dpkg_status("package: a\r\nstatus: install ok installed\r\nversion: 1:2.0-1\r\n\r\n\n\n"
                    "# a comment\nPackage: b\nStatus: install ok installed\nVersion: 3\n",
                    inv);
  ASSERT_EQ(inv.packages.size(), 2u);
  EXPECT_TRUE(has(inv, "a", "1:2.0-1"));
  EXPECT_TRUE(has(inv, "b", "3"));
  EXPECT_EQ(inv.packages[1].arch, "");
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(DpkgStatus, BoundsAndBadFields) {
  InventoryLimits limits;
  limits.max_packages = 2;
  limits.max_field_bytes = 16;
  PackageInventory inv;
  parse_dpkg_status("Package: a\nStatus: install ok installed\nVersion: 1\n\n"
                    "Package: " + std::string(17, 'x') + "\nStatus: install ok installed\nVersion: 1\n\n"
                    "Package: b\nStatus: install ok installed\nVersion: 1\nVersion: 2\n\n"
                    "Package: c\nStatus: install ok\nVersion: 1\n\n"
                    "Package: d\nStatus: install ok installed\n\n"
                    " continuation first\nPackage: e\n\n"
                    "Package: f\nStatus: install ok installed\nVersion: 1\n\n"
                    "Package: g\nStatus: install ok installed\nVersion: 1\n\n"
                    "Package: h\nStatus: install ok installed\nVersion: 1\n",
                    inv, limits);
  EXPECT_EQ(inv.packages.size(), 2u);  // a and f; g and h beyond the bound
  EXPECT_TRUE(has(inv, "a", "1"));
  EXPECT_TRUE(has(inv, "f", "1"));
  const std::vector<std::string> expected = {
      "status line 5: a field longer than 16 bytes; entry skipped",
      "status line 9: field Version repeated; entry skipped",
      "status line 14: package c: unreadable Status field; skipped",
      "status line 18: installed package without a valid Package or Version; skipped",
      "status line 21: continuation line before any field; entry skipped",
      "more than 2 installed packages; the rest left out",
  };
  ASSERT_EQ(inv.warnings.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(inv.warnings[i].message, expected[i]);
}

TEST(DpkgStatus, GarbageIsWarnedAboutNotACrash) {
  PackageInventory inv;
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage += static_cast<char>((i * 7919) % 256);
  parse_dpkg_status(garbage, inv);
  EXPECT_LE(inv.warnings.size(), kMaxInventoryWarnings);
  parse_dpkg_status(std::string(300, '\n') + std::string(300, ':'), inv);
  EXPECT_LE(inv.warnings.size(), kMaxInventoryWarnings);
  EXPECT_TRUE(inv.packages.empty());
}

class SysrootInventory : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-inventory-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  void write_status(std::string_view text) {
    fs::create_directories(root_ / "var/lib/dpkg");
    std::ofstream(root_ / "var/lib/dpkg/status", std::ios::binary) << text;
  }
  fs::path root_;
};

TEST_F(SysrootInventory, NoDatabaseNoInventory) {
  fs::create_directories(root_ / "var/lib/rpm");  // an empty rpm directory is no database (Debian ships one)
  EXPECT_FALSE(collect_package_inventory(root_.string()));
}

TEST_F(SysrootInventory, ReadsTheStatusFileSorted) {
  write_status(kStatus);
  const auto inv = collect_package_inventory(root_.string() + "/");
  ASSERT_TRUE(inv);
  ASSERT_EQ(inv->packages.size(), 5u);
  EXPECT_EQ(inv->packages.front().name, "base-files");
  EXPECT_EQ(inv->packages[1].arch, "amd64");  // libc6 amd64 before i386
  EXPECT_EQ(inv->packages.back().name, "tzdata");
  EXPECT_EQ(inv->warnings.size(), 2u);
}

TEST_F(SysrootInventory, AnOversizedOrSymlinkedStatusFileIsAWarning) {
  write_status(kStatus);
  InventoryLimits small;
  small.max_status_bytes = 100;
  auto inv = collect_package_inventory(root_.string(), small);
  ASSERT_TRUE(inv);
  EXPECT_TRUE(inv->packages.empty());
  ASSERT_EQ(inv->warnings.size(), 1u);
  EXPECT_NE(inv->warnings[0].message.find("is larger than 100 bytes; not read"), std::string::npos);

  // In an image, a symlink could point anywhere on the scanning host: not followed.
  fs::remove(root_ / "var/lib/dpkg/status");
  fs::create_symlink("/var/lib/dpkg/status", root_ / "var/lib/dpkg/status");
  inv = collect_package_inventory(root_.string());
  ASSERT_TRUE(inv);
  EXPECT_TRUE(inv->packages.empty());
  ASSERT_EQ(inv->warnings.size(), 1u);
  EXPECT_NE(inv->warnings[0].message.find("cannot open"), std::string::npos) << inv->warnings[0].message;
}

int shell(const std::string& command) {
  const int raw = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

TEST_F(SysrootInventory, ReadsARealRpmDatabase) {
  // A noarch package built by rpmbuild, recorded in a fresh database under the sysroot.
  const fs::path top = root_.parent_path() / (root_.filename().string() + "-rpmbuild");
  fs::create_directories(top / "SPECS");
  std::ofstream(top / "SPECS/pkg.spec") << "Name: rrd\nVersion: 2.1\nRelease: 3.el9\nEpoch: 1\nSummary: t\n"
                                           "License: MIT\nBuildArch: noarch\n%description\nt\n%install\n"
                                           "mkdir -p %{buildroot}/opt/rrd && echo x > %{buildroot}/opt/rrd/rrd\n"
                                           "%files\n/opt/rrd/rrd\n";
  const std::string q = "'" + top.string() + "'";
  ASSERT_EQ(shell("rpmbuild --define '_topdir " + top.string() + "' --define '__os_install_post %{nil}'"
                  " --define '_build_id_links none' -bb " + q + "/SPECS/pkg.spec"),
            0);
  const fs::path rpm = top / "RPMS/noarch/rrd-2.1-3.el9.noarch.rpm";
  ASSERT_TRUE(fs::exists(rpm));
  const std::string db = " --root '" + root_.string() + "' --dbpath /var/lib/rpm";
  ASSERT_EQ(shell("rpm" + db + " --initdb"), 0);
  ASSERT_EQ(shell("rpm" + db + " -i --nodeps --justdb --noscripts '" + rpm.string() + "'"), 0);
  write_status("Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n");

  const auto inv = collect_package_inventory(root_.string());
  fs::remove_all(top);
  ASSERT_TRUE(inv);
  EXPECT_TRUE(inv->warnings.empty()) << inv->warnings.front().message;
  ASSERT_EQ(inv->packages.size(), 2u);
  EXPECT_EQ(inv->packages[0], (InstalledPackage{"bash", "5.2.15-2+b2", "amd64", PackageManager::dpkg}));
  EXPECT_EQ(inv->packages[1], (InstalledPackage{"rrd", "1:2.1-3.el9", "noarch", PackageManager::rpm}));
}

}  // namespace
}  // namespace tb
