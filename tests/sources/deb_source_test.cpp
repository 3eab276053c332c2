// .deb importer: packages built with dpkg-deb in every compression, conffiles, control
// fields, the file-name cross-check, a real package from the apt cache, and corrupted or
// hand-assembled (ar) packages refused with the file and the reason.
#include "sources/deb_source.h"

#include <gtest/gtest.h>

#include "sources/source_test_support.h"
#include "format/manifest_chunks.h"

namespace tb {
namespace {

using namespace srctest;

DebSpec app_spec() {
  DebSpec spec;
  spec.files = {{"/usr/bin/app", "#!/bin/sh\necho app 1.0\n"},
                {"/usr/share/doc/app/copyright", "MIT\n"},
                {"/etc/app/app.conf", "port=8080\n"}};
  spec.executables = {"/usr/bin/app"};
  spec.symlinks = {{"/usr/bin/app-link", "app"}};
  spec.conffiles = {"/etc/app/app.conf"};
  spec.source = "app-src (1.0-1)";
  return spec;
}

Manifest app_records() {
  return *Manifest::from_records({
      pkg_dir("/etc"),
      pkg_dir("/etc/app"),
      pkg_file("/etc/app/app.conf", "port=8080\n", 0644),
      pkg_dir("/usr"),
      pkg_dir("/usr/bin"),
      pkg_file("/usr/bin/app", "#!/bin/sh\necho app 1.0\n", 0755),
      pkg_symlink("/usr/bin/app-link", "app"),
      pkg_dir("/usr/share"),
      pkg_dir("/usr/share/doc"),
      pkg_dir("/usr/share/doc/app"),
      pkg_file("/usr/share/doc/app/copyright", "MIT\n", 0644),
  });
}

class DebTest : public TempDirTest {};

TEST_F(DebTest, EveryCompressionGivesTheExactRecordsAndMetadata) {
  for (const std::string compression : {"gzip", "xz", "zstd", "none"}) {
    DebSpec spec = app_spec();
    spec.compression = compression;
    const fs::path deb = build_deb(dir_ / compression, spec);
    auto pkg = read_deb(deb.string());
    ASSERT_TRUE(pkg) << compression << ": " << pkg.error().message;
    const SignatureInfo& info = pkg->signature.info;
    EXPECT_EQ(info.ref, (SignatureRef{"app", "1.0-1"}));
    EXPECT_EQ(info.kind, SignatureKind::product);
    EXPECT_EQ(info.vendor, "ACME Packaging <pkg@acme.example>");
    EXPECT_EQ(info.architecture, "all");
    EXPECT_EQ(info.install_root, "/");
    EXPECT_EQ(info.source, "app_1.0-1_all.deb");
    EXPECT_EQ(info.source_sha256, file_sha256(deb));
    EXPECT_EQ(info.config_paths, std::vector<std::string>{"/etc/app/app.conf"});
    EXPECT_EQ(pkg->control.source, "app-src (1.0-1)");
    EXPECT_EQ(pkg->signature.manifest, app_records()) << compression << "\n" << dump(pkg->signature.manifest);
  }
}

TEST_F(DebTest, ReadingTwiceGivesTheSameSignature) {
  const fs::path deb = build_deb(dir_, app_spec());
  auto a = read_deb(deb.string());
  auto b = read_deb(deb.string());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->signature.info, b->signature.info);
  EXPECT_EQ(manifest_digest(a->signature.manifest), manifest_digest(b->signature.manifest));
}

TEST_F(DebTest, FileNameMustAgreeWithTheControlFile) {
  const fs::path deb = build_deb(dir_, app_spec());
  const auto copy_as = [&](const std::string& name) {
    fs::copy_file(deb, dir_ / name, fs::copy_options::overwrite_existing);
    return read_deb((dir_ / name).string());
  };
  auto renamed = copy_as("other_1.0-1_all.deb");
  ASSERT_FALSE(renamed);
  EXPECT_NE(renamed.error().message.find("the file name says other 1.0-1 (all) but its control file says app 1.0-1 (all)"),
            std::string::npos)
      << renamed.error().message;
  EXPECT_FALSE(copy_as("app_2.0-1_all.deb"));
  EXPECT_FALSE(copy_as("app_1.0-1_amd64.deb"));
  EXPECT_TRUE(copy_as("app-latest.deb"));  // not in the NAME_VERSION_ARCH form: nothing to contradict

  DebSpec epoch = app_spec();
  epoch.version = "2:1.0-1";
  const fs::path with_epoch = build_deb(dir_ / "epoch", epoch);
  EXPECT_EQ(with_epoch.filename(), "app_1.0-1_all.deb");
  auto pkg = read_deb(with_epoch.string());
  ASSERT_TRUE(pkg) << pkg.error().message;
  EXPECT_EQ(pkg->signature.info.ref.version, "2:1.0-1");
  fs::copy_file(with_epoch, dir_ / "epoch/app_2%3a1.0-1_all.deb");  // apt's cache spelling
  EXPECT_TRUE(read_deb((dir_ / "epoch/app_2%3a1.0-1_all.deb").string()));
}

TEST_F(DebTest, RealPackageFromTheAptCache) {
  fs::path found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/var/cache/apt/archives", ec)) {
    if (e.path().extension() == ".deb" && e.is_regular_file() && (found.empty() || e.path() < found)) found = e.path();
  }
  if (found.empty()) GTEST_SKIP() << "no .deb in /var/cache/apt/archives";
  auto pkg = read_deb(found.string());
  ASSERT_TRUE(pkg) << pkg.error().message;
  std::string field;
  ASSERT_EQ(run("dpkg-deb -f " + quote(found.string()) + " Package", &field), 0);
  EXPECT_EQ(pkg->signature.info.ref.name + "\n", field);
  ASSERT_EQ(run("dpkg-deb -f " + quote(found.string()) + " Version", &field), 0);
  EXPECT_EQ(pkg->signature.info.ref.version + "\n", field);
  EXPECT_EQ(pkg->signature.info.source_sha256, file_sha256(found));
  // Exactly the entries dpkg would install, "./" aside.
  std::string listing;
  ASSERT_EQ(run("dpkg-deb --fsys-tarfile " + quote(found.string()) + " | tar -t | grep -cv '^\\./$'", &listing), 0);
  EXPECT_EQ(std::to_string(pkg->signature.manifest.size()) + "\n", listing);
  std::size_t files = 0;
  for (const FileRecord& r : pkg->signature.manifest) {
    if (r.type != FileType::file) continue;
    ++files;
    EXPECT_TRUE(r.has(Attr::sha256)) << r.path;
  }
  EXPECT_GT(files, 0u);
}

// --- control and conffiles ---------------------------------------------------------------

TEST(DebControl, ParsesTheFirstParagraphWithContinuationLines) {
  auto c = parse_deb_control(
      "Package: libfoo1\nSource: foo (1.2-3)\nversion: 1:1.2-3+deb12u1\nArchitecture: amd64\n"
      "Maintainer: Foo Team\n <foo@example.org>\nDescription: foo\n long text\n\nPackage: second\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->package, "libfoo1");
  EXPECT_EQ(c->version, "1:1.2-3+deb12u1");
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->source, "foo (1.2-3)");
  EXPECT_EQ(c->maintainer, "Foo Team <foo@example.org>");
}

TEST(DebControl, RefusesMissingOrInvalidFields) {
  const auto why = [](std::string_view text) {
    auto c = parse_deb_control(text);
    return c ? std::string("accepted") : c.error().message;
  };
  EXPECT_NE(why("Version: 1\nArchitecture: all\n").find("no Package"), std::string::npos);
  EXPECT_NE(why("Package: a b\nVersion: 1\nArchitecture: all\n").find("invalid package name"), std::string::npos);
  EXPECT_NE(why("Package: ab\nArchitecture: all\n").find("no Version"), std::string::npos);
  EXPECT_NE(why("Package: ab\nVersion: 1 2\nArchitecture: all\n").find("invalid version"), std::string::npos);
  EXPECT_NE(why("Package: ab\nVersion: x:1\nArchitecture: all\n").find("invalid version"), std::string::npos);
  EXPECT_NE(why("Package: ab\nVersion: 1@2\nArchitecture: all\n").find("invalid version"), std::string::npos);
  EXPECT_NE(why("Package: ab\nVersion: 1\n").find("no Architecture"), std::string::npos);
  EXPECT_NE(why(" continuation\n").find("continuation"), std::string::npos);
  EXPECT_NE(why("garbage line\n").find("malformed"), std::string::npos);
}

TEST(DebConffiles, ParsesPathsAndFlags) {
  auto c = parse_deb_conffiles("/etc/b.conf\n/etc//a.conf\n\n/etc/old.conf remove-on-upgrade\n/etc/b.conf\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, (std::vector<std::string>{"/etc/a.conf", "/etc/b.conf"}));
  EXPECT_FALSE(parse_deb_conffiles("etc/relative.conf\n"));
  EXPECT_FALSE(parse_deb_conffiles("/etc/../x\n"));
  EXPECT_FALSE(parse_deb_conffiles("/etc/x.conf bogus-flag\n"));
}

// --- bad packages -----------------------------------------------------------------------

class BadDebTest : public DebTest {
 protected:
  // A .deb assembled by hand: debian-binary, a control member and a data member, each
  // given as (name, archive file), put into an ar container with binutils' ar.
  fs::path assemble(const std::string& name, const std::vector<std::pair<std::string, fs::path>>& members,
                    const std::string& binary = "2.0\n") {
    const fs::path work = dir_ / ("ar-" + name);
    fs::create_directories(work);
    write(work / "debian-binary", binary);
    std::string list = "debian-binary";
    for (const auto& [member, file] : members) {
      fs::copy_file(file, work / member, fs::copy_options::overwrite_existing);
      list += " " + member;
    }
    const fs::path out = dir_ / name;
    std::string log;
    if (run("cd " + quote(work.string()) + " && ar rcD " + quote(out.string()) + " " + list, &log) != 0)
      throw std::runtime_error("ar: " + log);
    return out;
  }
  fs::path control_tar(const std::string& conffiles, int filter = ARCHIVE_FILTER_GZIP) {
    const fs::path out = dir_ / ("control-" + std::to_string(++n_) + ".tar");
    std::vector<CraftedEntry> entries = {
        crafted_file("./control", "Package: app\nVersion: 1.0-1\nArchitecture: all\nMaintainer: m\n")};
    if (!conffiles.empty()) entries.push_back(crafted_file("./conffiles", conffiles));
    craft_archive(out, ARCHIVE_FORMAT_TAR_USTAR, filter, entries);
    return out;
  }
  fs::path data_tar(const std::vector<CraftedEntry>& entries, int filter = ARCHIVE_FILTER_GZIP) {
    const fs::path out = dir_ / ("data-" + std::to_string(++n_) + ".tar");
    craft_archive(out, ARCHIVE_FORMAT_TAR_USTAR, filter, entries);
    return out;
  }
  std::string refusal(const fs::path& deb) {
    auto pkg = read_deb(deb.string());
    if (pkg) return "accepted:\n" + dump(pkg->signature.manifest);
    EXPECT_NE(pkg.error().message.find(deb.string()), std::string::npos) << pkg.error().message;
    return pkg.error().message;
  }
  int n_ = 0;
};

TEST_F(BadDebTest, HandAssembledPackageIsReadLikeDpkgDebsOwn) {
  const fs::path deb = assemble("ok.deb", {{"control.tar.gz", control_tar("/etc/app.conf\n")},
                                           {"data.tar.gz", data_tar({crafted_file("./etc/app.conf", "x=1\n")})}});
  auto pkg = read_deb(deb.string());
  ASSERT_TRUE(pkg) << pkg.error().message;
  EXPECT_EQ(pkg->signature.info.config_paths, std::vector<std::string>{"/etc/app.conf"});
  EXPECT_EQ(pkg->signature.manifest.size(), 1u);
}

TEST_F(BadDebTest, ConffileMissingFromTheDataIsALie) {
  const fs::path deb = assemble("lie.deb", {{"control.tar.gz", control_tar("/etc/missing.conf\n")},
                                            {"data.tar.gz", data_tar({crafted_file("./etc/app.conf", "x")})}});
  EXPECT_NE(refusal(deb).find("conffile /etc/missing.conf is not a file of the package"), std::string::npos);
}

TEST_F(BadDebTest, UnknownOrMismatchedCompressionIsRefused) {
  const fs::path data = data_tar({crafted_file("./x", "x")});
  EXPECT_NE(refusal(assemble("lz4.deb", {{"control.tar.gz", control_tar("")}, {"data.tar.lz4", data}}))
                .find("data.tar.lz4: unknown compression"),
            std::string::npos);
  EXPECT_NE(refusal(assemble("xz.deb", {{"control.tar.gz", control_tar("")}, {"data.tar.xz", data}}))
                .find("compressed with gzip, not as its name says"),
            std::string::npos);
}

TEST_F(BadDebTest, MissingMisplacedOrUnexpectedMembersAreRefused) {
  const fs::path control = control_tar("");
  const fs::path data = data_tar({crafted_file("./x", "x")});
  EXPECT_NE(refusal(assemble("nodata.deb", {{"control.tar.gz", control}})).find("no data.tar member"), std::string::npos);
  EXPECT_NE(refusal(assemble("order.deb", {{"data.tar.gz", data}, {"control.tar.gz", control}}))
                .find("data member before the control member"),
            std::string::npos);
  EXPECT_NE(refusal(assemble("extra.deb", {{"control.tar.gz", control}, {"evil.sh", data}})).find("unexpected member"),
            std::string::npos);
  EXPECT_NE(refusal(assemble("v3.deb", {{"control.tar.gz", control}, {"data.tar.gz", data}}, "3.0\n"))
                .find("unsupported package format version"),
            std::string::npos);
  EXPECT_TRUE(read_deb(assemble("ignored.deb", {{"control.tar.gz", control}, {"_gpgorigin", data}, {"data.tar.gz", data}})
                           .string()));
}

TEST_F(BadDebTest, HostileDataEntriesAreRefused) {
  const fs::path control = control_tar("");
  EXPECT_NE(refusal(assemble("dotdot.deb", {{"control.tar.gz", control},
                                            {"data.tar.gz", data_tar({crafted_file("./../../root/.ssh/authorized_keys", "k")})}}))
                .find("escape"),
            std::string::npos);
  EXPECT_NE(refusal(assemble("abs.deb", {{"control.tar.gz", control}, {"data.tar.gz", data_tar({crafted_file("/etc/shadow", "s")})}}))
                .find("absolute"),
            std::string::npos);
  EXPECT_NE(refusal(assemble("dup.deb", {{"control.tar.gz", control},
                                         {"data.tar.gz", data_tar({crafted_file("./a", "1"), crafted_file("a", "2")})}}))
                .find("duplicate entry for /a"),
            std::string::npos);
}

TEST_F(BadDebTest, NotADebianPackage) {
  write(dir_ / "text.deb", "hello\n");
  EXPECT_NE(refusal(dir_ / "text.deb").find("not a Debian package"), std::string::npos);
  write(dir_ / "empty.deb", "");
  EXPECT_NE(refusal(dir_ / "empty.deb").find("not a Debian package"), std::string::npos);
  const fs::path plain = dir_ / "plain.a";
  write(dir_ / "member.o", "obj");
  ASSERT_EQ(run("cd " + quote(dir_.string()) + " && ar rcD plain.a member.o"), 0);
  EXPECT_NE(refusal(plain).find("not debian-binary"), std::string::npos);
}

TEST_F(BadDebTest, TruncatedAndFlippedCopiesAreRefused) {
  DebSpec spec = app_spec();
  spec.files.push_back({"/usr/lib/app/blob", std::string(300000, 'b') + "end"});
  const fs::path deb = build_deb(dir_, spec);
  const std::size_t size = fs::file_size(deb);
  for (const std::size_t cut : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{60}, std::size_t{70},
                                std::size_t{200}, size / 2, size - 4, size - 1}) {
    const fs::path bad = truncated_copy(deb, dir_ / "app_1.0-1_all.cut.deb", cut);
    EXPECT_NE(refusal(bad), "") << "cut at " << cut;
    EXPECT_FALSE(read_deb(bad.string())) << "cut at " << cut;
  }
  // The ar magic, the debian-binary member, inside both compressed members, the xz footer.
  for (const std::size_t at : {std::size_t{0}, std::size_t{68}, std::size_t{200}, size / 2, size - 3}) {
    const fs::path bad = flipped_copy(deb, dir_ / "app_1.0-1_all.flip.deb", at);
    EXPECT_FALSE(read_deb(bad.string())) << "flipped at " << at;
  }
}

}  // namespace
}  // namespace tb
