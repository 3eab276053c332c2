// The inventory cross-check (check_inventory): what dpkg or rpm says is installed against
// what the analysis found on disk, with real analyses of hand-made packages (release 1.0,
// its upgrade 1.1 as a patch of it, as the package importers model upgrades).
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/analysis.h"
#include "test_records.h"

namespace tb {
namespace {

FileRecord pkg(std::string path, std::string_view content) {
  FileRecord r = test::file(std::move(path), content);
  r.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;
  return r;
}

Signature signature(std::string name, std::string version, std::vector<FileRecord> records,
                    std::optional<SignatureRef> patches = std::nullopt) {
  Signature s;
  s.info.ref = SignatureRef{std::move(name), std::move(version)};
  s.info.kind = patches ? SignatureKind::patch : SignatureKind::product;
  s.info.patches = std::move(patches);
  s.manifest = test::manifest(std::move(records));
  return s;
}

// app 1.0 and its upgrade 1.1 (a patch of 1.0 changing one file), lib 2.0, tool 1.0.
SignatureIndex index() {
  auto built = SignatureIndex::build({
      signature("app", "1.0", {pkg("/opt/app/bin", "app 1.0"), pkg("/opt/app/share", "data")}),
      signature("app", "1.1", {pkg("/opt/app/bin", "app 1.1"), pkg("/opt/app/share", "data")},
                SignatureRef{"app", "1.0"}),
      signature("lib", "2.0", {pkg("/usr/lib/libx.so", "lib 2.0"), pkg("/usr/lib/libx.conf", "conf")}),
      signature("tool", "1.0", {pkg("/usr/bin/tool", "tool")}),
  });
  if (!built) throw std::runtime_error(built.error().message);
  return std::move(*built);
}

// The files as a host holds them: `files` path -> content, every attribute a scan has.
ScanDocument scan(const std::map<std::string, std::string>& files, PackageInventory inventory,
                  std::vector<std::string> roots = {"/"}) {
  std::vector<FileRecord> records;
  for (const auto& [path, content] : files) records.push_back(test::file(path, content));
  ScanDocument doc;
  doc.header.roots = std::move(roots);
  doc.header.inventory = std::move(inventory);
  doc.manifest = test::manifest(std::move(records));
  return doc;
}

PackageInventory dpkg(std::vector<std::pair<std::string, std::string>> packages) {
  PackageInventory inv;
  for (auto& [name, version] : packages)
    inv.packages.push_back(InstalledPackage{std::move(name), std::move(version), "amd64", PackageManager::dpkg});
  return inv;
}

const std::map<std::string, std::string> kApp10 = {{"/opt/app/bin", "app 1.0"}, {"/opt/app/share", "data"}};
const std::map<std::string, std::string> kApp11 = {{"/opt/app/bin", "app 1.1"}, {"/opt/app/share", "data"}};

std::map<std::string, std::string> plus(std::map<std::string, std::string> a,
                                        const std::map<std::string, std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

TEST(InventoryCheck, ConfirmsWhatTheFilesShow) {
  const SignatureIndex ix = index();
  const auto files = plus(kApp11, {{"/usr/lib/libx.so", "lib 2.0"}, {"/usr/lib/libx.conf", "conf"}});
  const Analysis a = analyze(scan(files, dpkg({{"app", "1.1"}, {"lib", "2.0"}, {"bash", "5.2"}})), ix);
  ASSERT_TRUE(a.inventory);
  EXPECT_EQ(a.inventory->listed, 3u);
  EXPECT_EQ(a.inventory->confirmed, 2u);  // app 1.1 (1.0 is complete too, but patched by 1.1), lib
  EXPECT_EQ(a.inventory->without_signature, 1u);  // bash: counted, not an issue
  EXPECT_TRUE(a.inventory->issues.empty());
}

TEST(InventoryCheck, NewerVersionListedOlderFilesInstalled) {
  const SignatureIndex ix = index();
  const Analysis a = analyze(scan(kApp10, dpkg({{"app", "1.1"}})), ix);
  ASSERT_TRUE(a.inventory);
  ASSERT_EQ(a.inventory->issues.size(), 1u);
  const InventoryIssue& i = a.inventory->issues[0];
  EXPECT_EQ(i.kind, InventoryIssueKind::mismatch);
  EXPECT_EQ(i.found, (std::vector<SignatureRef>{{"app", "1.0"}}));
  EXPECT_EQ(i.state, SignatureState::absent);
  EXPECT_EQ(i.message, "dpkg says app 1.1 is installed, its files match 1.0");
  EXPECT_EQ(to_string(i.kind), "inventory_mismatch");
}

TEST(InventoryCheck, OlderVersionListedNewerFilesInstalled) {
  // 1.0 is complete (its product files are all there, patched by 1.1): the files are 1.1's.
  const Analysis a = analyze(scan(kApp11, dpkg({{"app", "1.0"}})), index());
  ASSERT_EQ(a.inventory->issues.size(), 1u);
  EXPECT_EQ(a.inventory->issues[0].found, (std::vector<SignatureRef>{{"app", "1.1"}}));
  EXPECT_EQ(a.inventory->issues[0].message, "dpkg says app 1.0 is installed, its files match 1.1 (1.0 is complete)");
}

TEST(InventoryCheck, ListedVersionAbsentOrPartial) {
  const SignatureIndex ix = index();
  {
    const Analysis a = analyze(scan({{"/etc/hostname", "h"}}, dpkg({{"lib", "2.0"}})), ix);
    ASSERT_EQ(a.inventory->issues.size(), 1u);
    EXPECT_EQ(a.inventory->issues[0].kind, InventoryIssueKind::incomplete);
    EXPECT_EQ(a.inventory->issues[0].state, SignatureState::absent);
    EXPECT_EQ(a.inventory->issues[0].message, "dpkg says lib 2.0 is installed, but none of its files are there");
  }
  {
    const Analysis a = analyze(scan({{"/usr/lib/libx.so", "lib 2.0"}}, dpkg({{"lib", "2.0"}})), ix);
    ASSERT_EQ(a.inventory->issues.size(), 1u);
    EXPECT_EQ(a.inventory->issues[0].state, SignatureState::partial);
    EXPECT_EQ(a.inventory->issues[0].message, "dpkg says lib 2.0 is installed, but its files are partly there (1 of 2 match)");
  }
  {
    const Analysis a =
        analyze(scan({{"/usr/lib/libx.so", "edited"}, {"/usr/lib/libx.conf", "conf"}}, dpkg({{"lib", "2.0"}})), ix);
    ASSERT_EQ(a.inventory->issues.size(), 1u);
    EXPECT_EQ(a.inventory->issues[0].state, SignatureState::tampered);
    EXPECT_EQ(a.inventory->issues[0].message, "dpkg says lib 2.0 is installed, but 1 of its files are modified");
  }
}

TEST(InventoryCheck, UnknownVersionsAreUnverifiedAndPackagesOutsideTheRootsCounted) {
  const SignatureIndex ix = index();
  // lib 3.0 has no signature, and no other version of lib is installed: a warning that
  // names what is stored, never a blocking issue.
  const Analysis a = analyze(scan({{"/usr/lib/libx.so", "lib 3.0"}}, dpkg({{"lib", "3.0"}})), ix);
  EXPECT_EQ(a.inventory->unknown_version, 1u);
  ASSERT_EQ(a.inventory->issues.size(), 1u);
  EXPECT_EQ(a.inventory->issues[0].kind, InventoryIssueKind::unverified);
  EXPECT_EQ(a.inventory->issues[0].message, "dpkg: lib 3.0 installed; no signature of that version; stored: 2.0");
  EXPECT_EQ(blocking_inventory_issues(*a.inventory), 0u);
  // A scan of /opt says nothing about lib's /usr files.
  const Analysis b = analyze(scan(kApp11, dpkg({{"app", "1.1"}, {"lib", "2.0"}}), {"/opt"}), ix);
  EXPECT_EQ(b.inventory->not_covered, 1u);
  EXPECT_EQ(b.inventory->confirmed, 1u);
  EXPECT_TRUE(b.inventory->issues.empty());
}

TEST(InventoryCheck, MultiArchAndRpmVersions) {
  const SignatureIndex ix = index();
  PackageInventory inv = dpkg({{"tool", "1.0"}});
  inv.packages.push_back(InstalledPackage{"tool", "1.0", "i386", PackageManager::dpkg});  // same name twice
  inv.packages.push_back(InstalledPackage{"app", "1.1", "x86_64", PackageManager::rpm});
  inv.warnings.push_back(InventoryWarning{PackageManager::dpkg, "status line 9: ..."});
  const Analysis a = analyze(scan(plus(kApp10, {{"/usr/bin/tool", "tool"}}), inv), ix);
  EXPECT_EQ(a.inventory->listed, 2u);  // tool once
  EXPECT_EQ(a.inventory->confirmed, 1u);
  EXPECT_EQ(a.inventory->warnings, 1u);
  ASSERT_EQ(a.inventory->issues.size(), 1u);
  EXPECT_EQ(a.inventory->issues[0].message, "rpm says app 1.1 is installed, its files match 1.0");
}

TEST(InventoryCheck, NoInventoryNoCheck) {
  ScanDocument doc = scan(kApp10, {});
  doc.header.inventory.reset();
  EXPECT_FALSE(analyze(doc, index()).inventory);
  // An empty inventory is checked: nothing listed.
  const Analysis a = analyze(scan(kApp10, {}), index());
  ASSERT_TRUE(a.inventory);
  EXPECT_EQ(a.inventory->listed, 0u);
}

}  // namespace
}  // namespace tb
