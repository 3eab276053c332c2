// .rpm importer: packages built with rpmbuild (every payload compression, %config,
// %ghost, hard links, symlinks, owners, epochs), the header/payload cross-check, source
// packages, and corrupted or spliced packages refused with the file and the reason.
#include "sources/rpm_source.h"

#include <gtest/gtest.h>

#include "sources/source_test_support.h"

namespace tb {
namespace {

using namespace srctest;

RpmSpec app_spec() {
  RpmSpec spec;
  spec.install = R"(mkdir -p %{buildroot}/opt/app/bin %{buildroot}/opt/app/lib %{buildroot}/etc/app
printf 'v1\n' > %{buildroot}/opt/app/bin/app
chmod 755 %{buildroot}/opt/app/bin/app
ln -s app %{buildroot}/opt/app/bin/app-link
printf 'same\n' > %{buildroot}/opt/app/lib/h1
ln %{buildroot}/opt/app/lib/h1 %{buildroot}/opt/app/lib/h2
printf 'port=1\n' > %{buildroot}/etc/app/app.conf
printf 'top secret\n' > %{buildroot}/opt/app/secret
touch %{buildroot}/opt/app/ghost.log)";
  spec.files = R"(%dir /opt/app
/opt/app/bin
/opt/app/lib
%attr(0640, nobody, nogroup) /opt/app/secret
%config(noreplace) /etc/app/app.conf
%ghost /opt/app/ghost.log)";
  return spec;
}

Manifest app_records() {
  return *Manifest::from_records({
      pkg_file("/etc/app/app.conf", "port=1\n", 0644),
      pkg_dir("/opt/app"),
      pkg_dir("/opt/app/bin"),
      pkg_file("/opt/app/bin/app", "v1\n", 0755),
      pkg_symlink("/opt/app/bin/app-link", "app"),
      pkg_dir("/opt/app/lib"),
      pkg_file("/opt/app/lib/h1", "same\n", 0644),
      pkg_file("/opt/app/lib/h2", "same\n", 0644),
      pkg_file("/opt/app/secret", "top secret\n", 0640, /*owner=*/false),  // nobody's uid differs per host
  });
}

// Where the payload starts: after the lead, the padded signature header and the header.
std::size_t payload_offset(const fs::path& rpm) {
  const std::string data = slurp(rpm);
  const auto be32 = [&](std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(data[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(data[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(data[at + 2])} << 8) | static_cast<unsigned char>(data[at + 3]);
  };
  std::size_t sig = 96 + 16 + 16 * be32(96 + 8) + be32(96 + 12);
  sig += (8 - sig % 8) % 8;
  return sig + 16 + 16 * be32(sig + 8) + be32(sig + 12);
}

class RpmTest : public TempDirTest {};

TEST_F(RpmTest, EveryPayloadCompressionGivesTheExactRecordsAndMetadata) {
  for (const std::string payload : {"w9.gzdio", "w6.xzdio", "w19.zstdio", "w9.bzdio"}) {
    RpmSpec spec = app_spec();
    spec.payload = payload;
    const fs::path rpm = build_rpm(dir_ / payload, spec);
    auto pkg = read_rpm(rpm.string());
    ASSERT_TRUE(pkg) << payload << ": " << pkg.error().message;
    const SignatureInfo& info = pkg->signature.info;
    EXPECT_EQ(info.ref, (SignatureRef{"app", "1.0-1"}));
    EXPECT_EQ(info.kind, SignatureKind::product);
    EXPECT_EQ(info.vendor, "ACME Corp");
    EXPECT_EQ(info.architecture, "noarch");
    EXPECT_EQ(info.install_root, "/");
    EXPECT_EQ(info.source, "app-1.0-1.noarch.rpm");
    EXPECT_EQ(info.source_sha256, file_sha256(rpm));
    EXPECT_EQ(info.config_paths, std::vector<std::string>{"/etc/app/app.conf"});
    EXPECT_EQ(pkg->source_rpm, "app-1.0-1.src.rpm");
    EXPECT_EQ(pkg->signature.manifest, app_records()) << payload << "\n" << dump(pkg->signature.manifest);
  }
}

TEST_F(RpmTest, EpochIsPartOfTheVersion) {
  RpmSpec spec = app_spec();
  spec.epoch = 3;
  spec.release = "7.el9";
  auto pkg = read_rpm(build_rpm(dir_, spec).string());
  ASSERT_TRUE(pkg) << pkg.error().message;
  EXPECT_EQ(pkg->signature.info.ref.version, "3:1.0-7.el9");
}

TEST_F(RpmTest, SourcePackagesAreRefused) {
  const fs::path top = dir_ / "srpm";
  write(top / "SPECS/s.spec",
        "Name: s\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n%description\ns\n%files\n");
  std::string log;
  ASSERT_EQ(run("rpmbuild --define " + quote("_topdir " + top.string()) + " -bs " + quote((top / "SPECS/s.spec").string()),
                &log),
            0)
      << log;
  fs::path srpm;
  for (const auto& e : fs::directory_iterator(top / "SRPMS")) srpm = e.path();
  auto pkg = read_rpm(srpm.string());
  ASSERT_FALSE(pkg);
  EXPECT_NE(pkg.error().message.find("a source package"), std::string::npos) << pkg.error().message;
}

TEST_F(RpmTest, PayloadOfAnotherPackageIsALie) {
  // Same layout, different content: the header of 1.0-1 glued to the payload of 1.0-2.
  const fs::path a = build_rpm(dir_ / "a", app_spec());
  RpmSpec other = app_spec();
  other.release = "2";
  other.install.replace(other.install.find("'v1\\n'"), 6, "'v2\\n'");
  const fs::path b = build_rpm(dir_ / "b", other);
  const std::string spliced = slurp(a).substr(0, payload_offset(a)) + slurp(b).substr(payload_offset(b));
  write(dir_ / "spliced.rpm", spliced);
  auto pkg = read_rpm((dir_ / "spliced.rpm").string());
  ASSERT_FALSE(pkg);
  EXPECT_NE(pkg.error().message.find("metadata lies: /opt/app/bin/app: its content does not match the header's SHA256"),
            std::string::npos)
      << pkg.error().message;
}

TEST_F(RpmTest, OlderFileDigestAlgorithmsAreCheckedInTheirOwnAlgorithm) {
  RpmSpec md5 = app_spec();
  md5.defines = "--define '_binary_filedigest_algorithm 1'";
  const fs::path a = build_rpm(dir_ / "a", md5);
  std::string algo;
  ASSERT_EQ(run("rpm -qp --qf '%{FILEDIGESTALGO}' " + quote(a.string()), &algo), 0);
  ASSERT_TRUE(algo == "1" || algo == "(none)") << algo;  // MD5 is rpm's default when the tag is absent
  auto pkg = read_rpm(a.string());
  ASSERT_TRUE(pkg) << pkg.error().message;
  EXPECT_EQ(pkg->signature.manifest, app_records()) << dump(pkg->signature.manifest);  // still SHA-256 records

  RpmSpec other = md5;
  other.release = "2";
  other.install.replace(other.install.find("'v1\\n'"), 6, "'v2\\n'");
  const fs::path b = build_rpm(dir_ / "b", other);
  write(dir_ / "spliced.rpm", slurp(a).substr(0, payload_offset(a)) + slurp(b).substr(payload_offset(b)));
  auto spliced = read_rpm((dir_ / "spliced.rpm").string());
  ASSERT_FALSE(spliced);
  EXPECT_NE(spliced.error().message.find("does not match the header's MD5 digest"), std::string::npos)
      << spliced.error().message;
}

TEST_F(RpmTest, PayloadWithMissingOrExtraFilesIsALie) {
  // The header of a package with one more file, glued to the smaller payload.
  RpmSpec small = app_spec();
  RpmSpec big = app_spec();
  big.install += "\nprintf 'x\\n' > %{buildroot}/opt/app/lib/extra";
  const fs::path a = build_rpm(dir_ / "small", small);
  const fs::path b = build_rpm(dir_ / "big", big);
  write(dir_ / "fewer.rpm", slurp(b).substr(0, payload_offset(b)) + slurp(a).substr(payload_offset(a)));
  auto fewer = read_rpm((dir_ / "fewer.rpm").string());
  ASSERT_FALSE(fewer);
  EXPECT_NE(fewer.error().message.find("/opt/app/lib/extra: listed by the header but not in the payload"),
            std::string::npos)
      << fewer.error().message;
  write(dir_ / "more.rpm", slurp(a).substr(0, payload_offset(a)) + slurp(b).substr(payload_offset(b)));
  auto more = read_rpm((dir_ / "more.rpm").string());
  ASSERT_FALSE(more);
  EXPECT_NE(more.error().message.find("/opt/app/lib/extra: in the payload but not listed by the header"),
            std::string::npos)
      << more.error().message;
}

TEST_F(RpmTest, TruncatedAndFlippedCopiesAreRefused) {
  RpmSpec spec = app_spec();
  spec.install += "\nhead -c 200000 /dev/urandom > %{buildroot}/opt/app/lib/blob";
  const fs::path rpm = build_rpm(dir_, spec);
  ASSERT_TRUE(read_rpm(rpm.string()));
  const std::size_t size = fs::file_size(rpm);
  const std::size_t payload = payload_offset(rpm);
  for (const std::size_t cut : {std::size_t{0}, std::size_t{50}, std::size_t{96}, std::size_t{120}, payload - 10,
                                payload, payload + 100, size / 2, size - 1}) {
    const fs::path bad = truncated_copy(rpm, dir_ / "cut.rpm", cut);
    auto pkg = read_rpm(bad.string());
    ASSERT_FALSE(pkg) << "cut at " << cut;
    EXPECT_NE(pkg.error().message.find(bad.string()), std::string::npos) << pkg.error().message;
  }
  // Lead magic, inside the header (its SHA-256 is in the signature header), inside the
  // payload, and its last bytes.
  for (const std::size_t at : {std::size_t{0}, payload - 40, payload - 200, payload + 50, (payload + size) / 2, size - 2}) {
    const fs::path bad = flipped_copy(rpm, dir_ / "flip.rpm", at);
    auto pkg = read_rpm(bad.string());
    EXPECT_FALSE(pkg) << "flipped at " << at;
  }
  write(dir_ / "garbage.rpm", std::string("\xED\xAB\xEE\xDB", 4) + std::string(200, 'x'));
  EXPECT_FALSE(read_rpm((dir_ / "garbage.rpm").string()));
}

}  // namespace
}  // namespace tb
