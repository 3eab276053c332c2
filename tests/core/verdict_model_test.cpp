// The verdict model (docs/design.md) on the shapes a real Debian host has: several stored
// releases of a package and dpkg naming the one installed, directories shared by many
// packages, a scan of /, volatile paths, a local file every cluster member holds.
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
  r.present = Attr::type | Attr::size | Attr::sha256;
  return r;
}

FileRecord pkg_dir(std::string path) {
  FileRecord r = test::dir(std::move(path));
  r.present = Attr::type;
  return r;
}

// A release imported from a .deb (what tells the analysis that dpkg is its manager).
Signature deb(std::string name, std::string version, std::vector<FileRecord> records,
              std::optional<SignatureRef> patches = std::nullopt) {
  Signature s;
  s.info.ref = SignatureRef{name, version};
  s.info.kind = patches ? SignatureKind::patch : SignatureKind::product;
  s.info.patches = std::move(patches);
  s.info.source = name + "_" + version + "_amd64.deb";
  s.info.architecture = "amd64";
  s.manifest = test::manifest(std::move(records));
  return s;
}

// curl u5 and u15 (a patch of u5, as the importer links upgrades), and gawk, which shares
// /usr/bin and /usr/share/doc with everyone.
SignatureIndex index() {
  auto built = SignatureIndex::build({
      deb("curl", "7.88.1-10+deb12u5",
          {pkg_dir("/usr/bin"), pkg("/usr/bin/curl", "curl u5"), pkg("/usr/share/doc/curl/copyright", "c")}),
      deb("curl", "7.88.1-10+deb12u15",
          {pkg_dir("/usr/bin"), pkg("/usr/bin/curl", "curl u15"), pkg("/usr/share/doc/curl/copyright", "c")},
          SignatureRef{"curl", "7.88.1-10+deb12u5"}),
      deb("gawk", "1:5.2.1-2", {pkg_dir("/usr/bin"), pkg_dir("/usr/share/doc"), pkg("/usr/bin/gawk", "gawk")}),
  });
  if (!built) throw std::runtime_error(built.error().message);
  return std::move(*built);
}

ScanDocument host(const std::map<std::string, std::string>& files, std::optional<PackageInventory> inventory,
                  std::vector<std::string> dirs = {"/", "/usr", "/usr/bin", "/usr/share", "/usr/share/doc",
                                                   "/usr/share/doc/curl"}) {
  std::vector<FileRecord> records;
  for (const auto& [path, content] : files) records.push_back(test::file(path, content));
  for (const std::string& d : dirs) records.push_back(test::dir(d));
  ScanDocument doc;
  doc.header.roots = {"/"};
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

SignatureState state(const Analysis& a, const std::string& id) {
  for (const SignatureVerdict& v : a.verdicts)
    if (v.ref.id() == id) return v.state;
  throw std::runtime_error("no verdict for " + id);
}

std::vector<std::string> paths(const Analysis& a) {
  std::vector<std::string> out;
  for (const FileDeviation& d : a.deviations) out.push_back(std::string(to_string(d.change)) + " " + d.path);
  return out;
}

const std::map<std::string, std::string> kCurlU14 = {{"/usr/bin/curl", "curl u14"},
                                                     {"/usr/share/doc/curl/copyright", "c"}};

TEST(VerdictModel, AnotherReleaseIsUnverifiedNeverTampered) {
  const SignatureIndex ix = index();
  const Analysis a = analyze(host(kCurlU14, dpkg({{"curl", "7.88.1-10+deb12u14"}})), ix);
  EXPECT_EQ(state(a, "curl@7.88.1-10+deb12u5"), SignatureState::unverified);
  EXPECT_EQ(state(a, "curl@7.88.1-10+deb12u15"), SignatureState::unverified);
  EXPECT_TRUE(a.deviations.empty()) << "its files are not blamed on the stored releases";
  ASSERT_TRUE(a.inventory);
  ASSERT_EQ(a.inventory->issues.size(), 1u);
  EXPECT_EQ(a.inventory->issues[0].kind, InventoryIssueKind::unverified);
  EXPECT_EQ(a.inventory->issues[0].message,
            "dpkg: curl 7.88.1-10+deb12u14 installed; no signature of that version; stored: 7.88.1-10+deb12u5, "
            "7.88.1-10+deb12u15");
  EXPECT_TRUE(is_clean(a)) << "a warning, not a deviation";
  EXPECT_FALSE(is_clean(a, /*require_signatures=*/true));
  // Without the inventory the same files are what they look like: tampered.
  const Analysis blind = analyze(host(kCurlU14, std::nullopt), ix);
  EXPECT_NE(state(blind, "curl@7.88.1-10+deb12u15"), SignatureState::unverified);
  EXPECT_FALSE(is_clean(blind));
}

TEST(VerdictModel, TheInstalledStoredVersionIsStillTampered) {
  const SignatureIndex ix = index();
  const std::map<std::string, std::string> edited = {{"/usr/bin/curl", "curl u15 edited"},
                                                     {"/usr/share/doc/curl/copyright", "c"}};
  const Analysis a = analyze(host(edited, dpkg({{"curl", "7.88.1-10+deb12u15"}})), ix);
  EXPECT_EQ(state(a, "curl@7.88.1-10+deb12u15"), SignatureState::tampered);
  EXPECT_EQ(paths(a), (std::vector<std::string>{"modified /usr/bin/curl"}));
  EXPECT_FALSE(is_clean(a));
}

TEST(VerdictModel, AnUpgradeAlongTheChainKeepsTheProductComplete) {
  const SignatureIndex ix = index();
  const std::map<std::string, std::string> u15 = {{"/usr/bin/curl", "curl u15"},
                                                  {"/usr/share/doc/curl/copyright", "c"}};
  const Analysis a = analyze(host(u15, dpkg({{"curl", "7.88.1-10+deb12u15"}})), ix);
  EXPECT_EQ(state(a, "curl@7.88.1-10+deb12u15"), SignatureState::complete);
  EXPECT_EQ(state(a, "curl@7.88.1-10+deb12u5"), SignatureState::complete) << "patched by u15";
  EXPECT_EQ(state(a, "gawk@1:5.2.1-2"), SignatureState::absent);
  EXPECT_TRUE(is_clean(a));
  // dpkg lists u5: the newer stored u15 is not installed, whatever its files share.
  const std::map<std::string, std::string> u5 = {{"/usr/bin/curl", "curl u5"}, {"/usr/share/doc/curl/copyright", "c"}};
  const Analysis old = analyze(host(u5, dpkg({{"curl", "7.88.1-10+deb12u5"}})), ix);
  EXPECT_EQ(state(old, "curl@7.88.1-10+deb12u5"), SignatureState::complete);
  EXPECT_EQ(state(old, "curl@7.88.1-10+deb12u15"), SignatureState::absent);
  EXPECT_TRUE(is_clean(old));
}

TEST(VerdictModel, APackageTheInventoryDoesNotListIsAbsentWhateverDirectoriesExist) {
  const SignatureIndex ix = index();
  // gawk's binary is gone but its directories are everyone's: not installed, not partial.
  const Analysis listed_elsewhere = analyze(host(kCurlU14, dpkg({{"curl", "7.88.1-10+deb12u14"}})), ix);
  EXPECT_EQ(state(listed_elsewhere, "gawk@1:5.2.1-2"), SignatureState::absent);
  // Without an inventory, directories are no evidence either: one regular file must be there.
  const Analysis blind = analyze(host({}, std::nullopt), ix);
  EXPECT_EQ(state(blind, "gawk@1:5.2.1-2"), SignatureState::absent);
  EXPECT_EQ(state(blind, "curl@7.88.1-10+deb12u5"), SignatureState::absent);
  // A binary dpkg does not list, with the package's files there: still absent by dpkg's word,
  // and the file is not reported against gawk (it is nobody's then).
  const Analysis unlisted = analyze(host({{"/usr/bin/gawk", "gawk"}}, dpkg({{"curl", "7.88.1-10+deb12u14"}})), ix);
  EXPECT_EQ(state(unlisted, "gawk@1:5.2.1-2"), SignatureState::absent);
}

TEST(VerdictModel, RootsAndParentDirectoriesAreNoDeviations) {
  const SignatureIndex ix = index();
  const std::map<std::string, std::string> files = {{"/usr/local/bin/tool", "local"}};
  const Analysis a =
      analyze(host(files, std::nullopt, {"/", "/usr", "/usr/local", "/usr/local/bin", "/srv/empty"}), ix);
  // /, /usr, /usr/local and /usr/local/bin are parents or roots; an empty new directory is its own.
  EXPECT_EQ(paths(a), (std::vector<std::string>{"added /srv/empty", "added /usr/local/bin/tool"}));
}

TEST(VerdictModel, ThePathPolicyExplainsVolatileAndPerHostPaths) {
  const SignatureIndex ix = index();
  const std::map<std::string, std::string> files = {{"/var/log/syslog", "log"},
                                                    {"/etc/machine-id", "id"},
                                                    {"/etc/ssh/ssh_host_ed25519_key", "key"},
                                                    {"/tmp/x", "t"},
                                                    {"/etc/app.conf", "mine"}};
  const Analysis a = analyze(host(files, std::nullopt, {"/", "/var", "/var/log", "/etc", "/etc/ssh", "/tmp"}), ix);
  EXPECT_EQ(paths(a), (std::vector<std::string>{"added /etc/app.conf"}));
  EXPECT_EQ(a.policy, "default");
  EXPECT_EQ(a.explained_by_policy, 4u);
  // An empty policy judges everything.
  AnalysisOptions none;
  none.policy = PathPolicy{"none", {}, {}};
  const Analysis all =
      analyze(host(files, std::nullopt, {"/", "/var", "/var/log", "/etc", "/etc/ssh", "/tmp"}), ix, none);
  EXPECT_EQ(all.deviations.size(), 5u);
}

TEST(VerdictModel, TheClusterSnapshotExplainsFilesNoSignatureLists) {
  const SignatureIndex ix = index();
  const std::vector<std::string> dirs = {"/", "/usr", "/usr/local", "/usr/local/bin"};
  const ScanDocument member =
      host({{"/usr/local/bin/market-hours.sh", "v1"}, {"/usr/local/bin/other", "x"}}, std::nullopt, dirs);
  const ScanDocument reference = host({{"/usr/local/bin/market-hours.sh", "v1"}}, std::nullopt, dirs);
  Analysis a = analyze(member, ix);
  ASSERT_EQ(a.deviations.size(), 2u);
  explain_by_snapshot(a, member.manifest, reference.manifest);
  EXPECT_EQ(paths(a), (std::vector<std::string>{"added /usr/local/bin/other"}));
  EXPECT_EQ(a.explained_by_snapshot, 1u);
  // Edited on this member: the snapshot does not explain it.
  const ScanDocument edited = host({{"/usr/local/bin/market-hours.sh", "v2"}}, std::nullopt, dirs);
  Analysis b = analyze(edited, ix);
  explain_by_snapshot(b, edited.manifest, reference.manifest);
  EXPECT_EQ(paths(b), (std::vector<std::string>{"added /usr/local/bin/market-hours.sh"}));
}

}  // namespace
}  // namespace tb
