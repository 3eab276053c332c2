// Version orders (dpkg's, checked against `dpkg --compare-versions`; rpm's), the
// product/patch relations inferred between releases, and format detection by content.
#include <gtest/gtest.h>

#include "sources/package_file.h"
#include "sources/package_format.h"
#include "sources/relations.h"
#include "sources/source_test_support.h"
#include "sources/version_order.h"

namespace tb {
namespace {

using namespace srctest;

int sign(int x) { return x < 0 ? -1 : x > 0 ? 1 : 0; }

// Pairs (a, b, expected sign of a - b), from Debian policy 5.6.12 and dpkg's own tests.
struct Case {
  const char* a;
  const char* b;
  int order;
};
constexpr Case kDebianCases[] = {
    {"1.0", "1.0", 0},          {"1.0", "1.1", -1},        {"1.10", "1.9", 1},       {"1.0~rc1", "1.0", -1},
    {"1.0~~", "1.0~", -1},      {"1.0~", "1.0", -1},       {"1.0", "1.0+b1", -1},    {"1.0a", "1.0", 1},
    {"1.0a", "1.0+", -1},       {"1:0.9", "2.0", 1},       {"0:1.0", "1.0", 0},      {"1.0-1", "1.0-2", -1},
    {"1.0-10", "1.0-9", 1},     {"1.0-1", "1.0", 1},       {"1.0-0", "1.0", 0},      {"2.0-1~bpo1", "2.0-1", -1},
    {"3.0.11-1~deb12u2", "3.0.11-1", -1},                  {"3.0.9-1", "3.0.11-1", -1},
    {"1.2.3-4+deb12u1", "1.2.3-4", 1},                     {"00001.0", "1.0", 0},    {"10:1", "9:2", 1},
    {"1.0.", "1.0", 1},         {"a", "b", -1},            {"1.0-a", "1.0-B", 1},
};

TEST(VersionOrder, DebianPolicyCases) {
  for (const Case& c : kDebianCases) {
    EXPECT_EQ(sign(compare_debian_versions(c.a, c.b)), c.order) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compare_debian_versions(c.b, c.a)), -c.order) << c.b << " vs " << c.a;
  }
}

TEST(VersionOrder, DebianAgreesWithDpkg) {
  if (run("command -v dpkg") != 0) GTEST_SKIP() << "no dpkg";
  for (const Case& c : kDebianCases) {
    const bool lt = run(std::string("dpkg --compare-versions '") + c.a + "' lt '" + c.b + "'") == 0;
    const bool eq = run(std::string("dpkg --compare-versions '") + c.a + "' eq '" + c.b + "'") == 0;
    EXPECT_EQ(c.order, lt ? -1 : eq ? 0 : 1) << c.a << " vs " << c.b;
  }
}

TEST(VersionOrder, Rpm) {
  EXPECT_LT(compare_rpm_versions("1.0-1", "1.0-2"), 0);
  EXPECT_GT(compare_rpm_versions("1.10-1", "1.9-1"), 0);
  EXPECT_GT(compare_rpm_versions("1:1.0-1", "2.0-1"), 0);
  EXPECT_LT(compare_rpm_versions("1.0~rc1-1", "1.0-1"), 0);
  EXPECT_EQ(compare_rpm_versions("0:1.0-1", "1.0-1"), 0);
  EXPECT_LT(compare_rpm_versions("3.0.7-2.el9", "3.0.7-10.el9"), 0);
}

// --- relations ------------------------------------------------------------------------------

SignatureInfo info(std::string name, std::string version, SignatureKind kind = SignatureKind::product,
                   std::string arch = "amd64") {
  SignatureInfo i;
  i.ref = SignatureRef{std::move(name), std::move(version)};
  i.kind = kind;
  i.architecture = std::move(arch);
  return i;
}

TEST(Relations, FirstReleaseIsAProductLaterOnesPatchIt) {
  std::vector<SignatureInfo> stored;
  SignatureInfo v9 = info("openssl", "3.0.9-1");
  infer_package_relations(v9, stored, VersionScheme::debian);
  EXPECT_EQ(v9.kind, SignatureKind::product);
  stored.push_back(v9);

  SignatureInfo v10 = info("openssl", "3.0.10-1");
  infer_package_relations(v10, stored, VersionScheme::debian);
  EXPECT_EQ(v10.kind, SignatureKind::patch);
  EXPECT_EQ(v10.patches, (SignatureRef{"openssl", "3.0.9-1"}));
  EXPECT_TRUE(v10.supersedes.empty());
  stored.push_back(v10);
  stored.push_back(info("libssl3", "3.0.11-1"));  // another package: no relation

  SignatureInfo v11 = info("openssl", "3.0.11-1~deb12u2");
  infer_package_relations(v11, stored, VersionScheme::debian);
  EXPECT_EQ(v11.patches, (SignatureRef{"openssl", "3.0.9-1"}));
  EXPECT_EQ(v11.supersedes, std::vector<SignatureRef>{(SignatureRef{"openssl", "3.0.10-1"})});
  stored.push_back(v11);

  SignatureInfo v12 = info("openssl", "3.0.11-1");  // newer than ~deb12u2
  infer_package_relations(v12, stored, VersionScheme::debian);
  EXPECT_EQ(v12.supersedes,
            (std::vector<SignatureRef>{{"openssl", "3.0.10-1"}, {"openssl", "3.0.11-1~deb12u2"}}));
}

TEST(Relations, OlderReleasesAndOtherArchitecturesStayApart) {
  const std::vector<SignatureInfo> stored = {info("app", "2.0-1"), info("tool", "1.0-1", SignatureKind::product, "arm64")};
  SignatureInfo older = info("app", "1.0-1");
  infer_package_relations(older, stored, VersionScheme::debian);
  EXPECT_EQ(older.kind, SignatureKind::product);
  EXPECT_FALSE(older.patches);

  SignatureInfo other_arch = info("tool", "2.0-1", SignatureKind::product, "amd64");
  infer_package_relations(other_arch, stored, VersionScheme::debian);
  EXPECT_EQ(other_arch.kind, SignatureKind::product);

  SignatureInfo arch_all = info("tool", "2.0-1", SignatureKind::product, "all");
  infer_package_relations(arch_all, stored, VersionScheme::debian);
  EXPECT_EQ(arch_all.patches, (SignatureRef{"tool", "1.0-1"}));
}

TEST(Relations, TheOldestProductIsTheBase) {
  const std::vector<SignatureInfo> stored = {info("app", "2.0-1", SignatureKind::product, "noarch"),
                                             info("app", "1.0-1", SignatureKind::product, "noarch")};
  SignatureInfo next = info("app", "3.0-1", SignatureKind::product, "noarch");
  infer_package_relations(next, stored, VersionScheme::rpm);
  EXPECT_EQ(next.patches, (SignatureRef{"app", "1.0-1"}));
  EXPECT_TRUE(next.supersedes.empty());
}

TEST(Relations, LinkingReleasesIsTheirVersionOrderWhateverTheOrderGiven) {
  auto linked = [](std::string version) {
    SignatureInfo i = info("curl", std::move(version));
    i.linked_by = VersionScheme::debian;
    return i;
  };
  // As stored: u15 first (a product then), u16 a patch of it, u5 last.
  std::vector<SignatureInfo> releases = {linked("7.88.1-10+deb12u15"), linked("7.88.1-10+deb12u16"),
                                         linked("7.88.1-10+deb12u5")};
  releases[1].kind = SignatureKind::patch;
  releases[1].patches = releases[0].ref;
  SignatureInfo given = info("curl", "8.0-1");  // relations given (command line): kept
  given.kind = SignatureKind::patch;
  given.patches = SignatureRef{"curl", "6.0-1"};
  releases.push_back(given);
  link_releases(releases);
  EXPECT_EQ(releases[2].kind, SignatureKind::product);
  EXPECT_FALSE(releases[2].patches);
  EXPECT_EQ(releases[0].kind, SignatureKind::patch);
  EXPECT_EQ(releases[0].patches, (SignatureRef{"curl", "7.88.1-10+deb12u5"}));
  EXPECT_TRUE(releases[0].supersedes.empty());
  EXPECT_EQ(releases[1].patches, (SignatureRef{"curl", "7.88.1-10+deb12u5"}));
  EXPECT_EQ(releases[1].supersedes, std::vector<SignatureRef>{(SignatureRef{"curl", "7.88.1-10+deb12u15"})});
  EXPECT_EQ(releases[3], given);

  std::vector<SignatureInfo> known = {linked("7.88.1-10+deb12u15")};
  SignatureInfo u5 = linked("7.88.1-10+deb12u5");
  EXPECT_EQ(link_into(u5, known), std::vector<SignatureRef>{known[0].ref});
  EXPECT_EQ(u5.kind, SignatureKind::product);
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known[0].patches, u5.ref);
}

// --- format detection ---------------------------------------------------------------------------

class FormatTest : public TempDirTest {};

TEST_F(FormatTest, DetectedFromTheContentNotTheName) {
  DebSpec d;
  d.files = {{"/usr/bin/x", "x"}};
  const fs::path deb = build_deb(dir_, d);
  fs::copy_file(deb, dir_ / "package.rpm");
  EXPECT_EQ(detect_package_format((dir_ / "package.rpm").string()), PackageFormat::deb);

  write(dir_ / "t/a", "a");
  for (const std::string flag : {"", "z", "j", "J"}) {
    const fs::path out = dir_ / ("archive" + flag + ".bin");
    ASSERT_EQ(run("tar -C " + quote((dir_ / "t").string()) + " -c" + flag + "f " + quote(out.string()) + " ."), 0);
    EXPECT_EQ(detect_package_format(out.string()), PackageFormat::tar) << flag;
  }
  ASSERT_EQ(run("tar -C " + quote((dir_ / "t").string()) + " --format=v7 -cf " + quote((dir_ / "v7.bin").string()) + " a"), 0);
  EXPECT_EQ(detect_package_format((dir_ / "v7.bin").string()), PackageFormat::tar);
  ASSERT_EQ(run("cd " + quote((dir_ / "t").string()) + " && zip -q ../z.deb a"), 0);
  EXPECT_EQ(detect_package_format((dir_ / "z.deb").string()), PackageFormat::zip);

  EXPECT_EQ(detect_package_format_of("\xED\xAB\xEE\xDB\x03\x00"), PackageFormat::rpm);
  EXPECT_EQ(detect_package_format_of("\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- c -->\n<swid:SoftwareIdentity xmlns:swid='x'>"),
            PackageFormat::swid);
  EXPECT_EQ(detect_package_format_of("<?xml version='1.0'?><scan version='1'>"), PackageFormat::scan_document);
  EXPECT_EQ(detect_package_format_of("  {\"format\": 1}"), PackageFormat::scan_document);
  EXPECT_EQ(detect_package_format_of("!<arch>\nlibfoo.o/       "), PackageFormat::unknown);  // ar, not a .deb
  EXPECT_EQ(detect_package_format_of(""), PackageFormat::unknown);
  EXPECT_EQ(detect_package_format_of("plain text"), PackageFormat::unknown);
  EXPECT_FALSE(detect_package_format((dir_ / "missing").string()));
}

TEST_F(FormatTest, FifosAndDevicesAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  auto format = detect_package_format((dir_ / "fifo").string());
  ASSERT_FALSE(format);
  EXPECT_NE(format.error().message.find("not a regular file"), std::string::npos) << format.error().message;
  EXPECT_FALSE(PackageFile::open((dir_ / "fifo").string()));
}

}  // namespace
}  // namespace tb
