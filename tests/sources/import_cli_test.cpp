// `trustbase import` end to end with the real binary: several packages and directories
// at once, formats told by content, relations between releases, SWID patch tags given
// before their product, failures listed in the summary with nothing of them stored,
// idempotent re-imports, explicit relations, and tar archives with --name/--version.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "sources/source_test_support.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

using namespace srctest;

class ImportCli : public TempDirTest {
 protected:
  int tb(const std::string& args, std::string* out) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + quote((dir_ / "store.db").string()) + " " + args, out);
  }
  std::vector<SignatureInfo> infos() {
    auto store = open_sqlite_store((dir_ / "store.db").string());
    if (!store) throw std::runtime_error(store.error().message);
    auto list = (*store)->signature_infos();
    if (!list) throw std::runtime_error(list.error().message);
    return *list;
  }
  StoreStats stats() {
    auto store = open_sqlite_store((dir_ / "store.db").string());
    if (!store) throw std::runtime_error(store.error().message);
    return *(*store)->stats();
  }
  const SignatureInfo& find(const std::vector<SignatureInfo>& list, const std::string& id) {
    for (const SignatureInfo& i : list)
      if (i.ref.id() == id) return i;
    throw std::runtime_error("not stored: " + id);
  }
  static fs::path deb(const fs::path& dir, const std::string& version, const std::string& content) {
    DebSpec spec;
    spec.version = version;
    spec.files = {{"/usr/bin/app", content}, {"/etc/app.conf", "conf " + version}};
    spec.conffiles = {"/etc/app.conf"};
    return build_deb(dir, spec);
  }
  static std::string swid(const std::string& tag_id, const std::string& version, const std::string& link,
                          const std::string& content) {
    return R"(<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
        xmlns:SHA256="http://www.w3.org/2001/04/xmlenc#sha256" name="rrd" tagId=")" +
           tag_id + R"(" version=")" + version + "\"" + (link.empty() ? "" : " patch=\"true\"") + ">" + link +
           R"(<Payload><File root="/opt/rrd" name="rrd" SHA256:hash=")" + Sha256::of(content).hex() +
           R"("/></Payload></SoftwareIdentity>)";
  }
};

TEST_F(ImportCli, ManyPackagesAtOnceWithRelationsAndASummary) {
  const fs::path repo = dir_ / "repo";
  fs::create_directories(repo / "pool/updates");
  fs::copy_file(deb(dir_ / "b1", "1.0-1", "v1"), repo / "pool/app_1.0-1_all.deb");
  fs::copy_file(deb(dir_ / "b2", "1.1-1", "v1.1"), repo / "pool/updates/app_1.1-1_all.deb");
  write(repo / "README", "not a package\n");
  RpmSpec r;
  r.name = "tool";
  r.install = "mkdir -p %{buildroot}/opt/tool\nprintf 't\\n' > %{buildroot}/opt/tool/t";
  r.files = "/opt/tool";
  const fs::path rpm = build_rpm(dir_, r);
  write(dir_ / "patch.swidtag", swid("rrd-p1", "1.0.1", R"(<Link rel="patches" href="swid:rrd-1"/>)", "rrd2"));
  write(dir_ / "product.swidtag", swid("rrd-1", "1.0", "", "rrd1"));
  const fs::path good = deb(dir_ / "other", "2.0-1", "v2");
  const fs::path broken = truncated_copy(good, dir_ / "broken_2.0-1_all.deb", fs::file_size(good) / 2);
  write(dir_ / "notes.txt", "hello\n");

  std::string out;
  EXPECT_EQ(tb("import " + quote(broken.string()) + " " + quote((dir_ / "patch.swidtag").string()) + " " +
                   quote(repo.string()) + " " + quote((dir_ / "product.swidtag").string()) + " " + quote(rpm.string()) +
                   " " + quote((dir_ / "notes.txt").string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("imported 5 packages, 2 failed:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  " + broken.string() + ": "), std::string::npos) << out;
  EXPECT_NE(out.find("  " + (dir_ / "notes.txt").string() + ": not a package (unknown format)"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped 1 file that is not a package"), std::string::npos) << out;
  EXPECT_NE(out.find("imported patch app@1.1-1 of app@1.0-1 ("), std::string::npos) << out;

  const auto list = infos();
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(find(list, "app@1.0-1").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "app@1.0-1").config_paths, std::vector<std::string>{"/etc/app.conf"});
  EXPECT_EQ(find(list, "app@1.1-1").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "app@1.1-1").patches, (SignatureRef{"app", "1.0-1"}));
  EXPECT_EQ(find(list, "tool@1.0-1").architecture, "noarch");
  EXPECT_EQ(find(list, "rrd@1.0").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "rrd@1.0.1").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "rrd@1.0.1").patches, (SignatureRef{"rrd", "1.0"}));
  EXPECT_EQ(find(list, "rrd@1.0.1").tag_id, "rrd-p1");

  // A newer release later: patch of the first, superseding 1.1-1.
  ASSERT_EQ(tb("import " + quote(good.string()), &out), 0) << out;
  EXPECT_NE(out.find("imported patch app@2.0-1 of app@1.0-1, superseding app@1.1-1 ("), std::string::npos) << out;
  EXPECT_NE(out.find("imported 1 package\n"), std::string::npos) << out;
}

TEST_F(ImportCli, SamePackageTwiceIsTheSameSignatureAndBrokenOnesStoreNothing) {
  const fs::path p = deb(dir_, "1.0-1", "v1");
  std::string out;
  ASSERT_EQ(tb("import " + quote(p.string()), &out), 0) << out;
  const StoreStats before = stats();
  ASSERT_EQ(tb("import " + quote(p.string()) + " " + quote(p.string()), &out), 0) << out;
  EXPECT_NE(out.find("already stored: app@1.0-1 (signature 1)"), std::string::npos) << out;
  EXPECT_EQ(infos().size(), 1u);

  // Every corrupted copy fails alone; the store does not change at all.
  const fs::path next = deb(dir_ / "next", "1.1-1", "v1.1");
  std::string corrupt_args;
  const std::size_t size = fs::file_size(next);
  for (const std::size_t cut : {std::size_t{10}, size / 3, size - 2}) {
    const fs::path bad = truncated_copy(next, dir_ / ("cut" + std::to_string(cut) + ".deb"), cut);
    corrupt_args += " " + quote(bad.string());
  }
  for (const std::size_t at : {std::size_t{0}, size / 2, size - 3}) {
    const fs::path bad = flipped_copy(next, dir_ / ("flip" + std::to_string(at) + ".deb"), at);
    corrupt_args += " " + quote(bad.string());
  }
  EXPECT_EQ(tb("import" + corrupt_args, &out), 1) << out;
  EXPECT_NE(out.find("imported 0 packages, 6 failed:"), std::string::npos) << out;
  const StoreStats after = stats();
  EXPECT_EQ(after.signatures, before.signatures);
  EXPECT_EQ(after.manifests, before.manifests);
  EXPECT_EQ(after.chunks, before.chunks);
}

TEST_F(ImportCli, ExplicitRelationsOverrideTheInferredOnes) {
  std::string out;
  ASSERT_EQ(tb("import " + quote(deb(dir_ / "a", "1.0-1", "v1").string()), &out), 0) << out;
  ASSERT_EQ(tb("import --kind product " + quote(deb(dir_ / "b", "3.0-1", "v3").string()), &out), 0) << out;
  ASSERT_EQ(tb("import --patches app@3.0-1 " + quote(deb(dir_ / "c", "3.1-1", "v3.1").string()), &out), 0) << out;
  const auto list = infos();
  EXPECT_EQ(find(list, "app@3.0-1").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "app@3.1-1").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "app@3.1-1").patches, (SignatureRef{"app", "3.0-1"}));
  EXPECT_TRUE(find(list, "app@3.1-1").supersedes.empty());
}

// Debian security updates: deb12u15 sorts before deb12u5 by file name, after it by version.
constexpr const char* kU5 = "1.0-10+deb12u5";
constexpr const char* kU15 = "1.0-10+deb12u15";

TEST_F(ImportCli, ReleasesInADirectoryAreLinkedInVersionOrderWhateverTheirFileNames) {
  const fs::path repo = dir_ / "repo";
  fs::create_directories(repo);
  const fs::path u15 = deb(dir_ / "b15", kU15, "u15");
  const fs::path u5 = deb(dir_ / "b5", kU5, "u5");
  fs::copy_file(u15, repo / u15.filename());
  fs::copy_file(u5, repo / u5.filename());
  ASSERT_LT(u15.filename(), u5.filename());  // what made u15 the product before

  std::string out;
  ASSERT_EQ(tb("import " + quote(repo.string()), &out), 0) << out;
  EXPECT_NE(out.find("imported patch app@1.0-10+deb12u15 of app@1.0-10+deb12u5 ("), std::string::npos) << out;
  EXPECT_EQ(out.find("re-linked"), std::string::npos) << out;  // stored in order: nothing to re-link
  const auto list = infos();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].ref.version, kU5);  // imported first
  EXPECT_EQ(find(list, "app@1.0-10+deb12u5").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "app@1.0-10+deb12u15").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "app@1.0-10+deb12u15").patches, (SignatureRef{"app", kU5}));
}

TEST_F(ImportCli, AnOlderReleaseImportedLaterBecomesTheProductOfTheNewerOne) {
  std::string out;
  ASSERT_EQ(tb("import " + quote(deb(dir_ / "b15", kU15, "u15").string()), &out), 0) << out;
  EXPECT_NE(out.find("imported product app@1.0-10+deb12u15 ("), std::string::npos) << out;
  ASSERT_EQ(tb("import " + quote(deb(dir_ / "b5", kU5, "u5").string()), &out), 0) << out;
  EXPECT_NE(out.find("imported product app@1.0-10+deb12u5 ("), std::string::npos) << out;
  EXPECT_NE(out.find("re-linked app@1.0-10+deb12u15: now patch of app@1.0-10+deb12u5\n"), std::string::npos) << out;

  const auto list = infos();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(find(list, "app@1.0-10+deb12u5").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "app@1.0-10+deb12u15").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "app@1.0-10+deb12u15").patches, (SignatureRef{"app", kU5}));
  auto store = open_sqlite_store((dir_ / "store.db").string());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto audit = (*store)->audit_log(10);
  ASSERT_TRUE(audit.has_value()) << audit.error().message;
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "signature.relink");
  EXPECT_EQ((*audit)[0].object, "app@1.0-10+deb12u15");

  // A third, newest release: patch of u5, superseding u15.
  ASSERT_EQ(tb("import " + quote(deb(dir_ / "b16", "1.0-10+deb12u16", "u16").string()), &out), 0) << out;
  EXPECT_NE(out.find("imported patch app@1.0-10+deb12u16 of app@1.0-10+deb12u5, superseding app@1.0-10+deb12u15 ("),
            std::string::npos)
      << out;
}

TEST_F(ImportCli, RpmReleasesAreLinkedInVersionOrderWhateverTheirFileNames) {
  const fs::path repo = dir_ / "repo";
  fs::create_directories(repo);
  std::vector<fs::path> rpms;
  for (const char* release : {"15", "5"}) {
    RpmSpec r;
    r.name = "tool";
    r.release = release;
    r.install = std::string("mkdir -p %{buildroot}/opt/tool\nprintf '") + release + "\\n' > %{buildroot}/opt/tool/t";
    r.files = "/opt/tool";
    const fs::path built = build_rpm(dir_ / ("b" + std::string(release)), r);
    fs::copy_file(built, repo / built.filename());
    rpms.push_back(repo / built.filename());
  }
  ASSERT_LT(rpms[0].filename(), rpms[1].filename());  // tool-1.0-15 before tool-1.0-5

  std::string out;
  ASSERT_EQ(tb("import " + quote(repo.string()), &out), 0) << out;
  const auto list = infos();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(find(list, "tool@1.0-5").kind, SignatureKind::product);
  EXPECT_EQ(find(list, "tool@1.0-15").kind, SignatureKind::patch);
  EXPECT_EQ(find(list, "tool@1.0-15").patches, (SignatureRef{"tool", "1.0-5"}));
}

TEST_F(ImportCli, ArchivesNeedANameAndVersion) {
  write(dir_ / "src/app-1.0/bin/app", "bin", 0755);
  write(dir_ / "src/app-1.0/etc/app.conf", "c");
  const fs::path tgz = dir_ / "app-1.0.tar.zst";
  ASSERT_EQ(run("tar -C " + quote((dir_ / "src").string()) + " --zstd -cf " + quote(tgz.string()) + " app-1.0"), 0);
  std::string out;
  EXPECT_EQ(tb("import " + quote(tgz.string()), &out), 1) << out;
  EXPECT_NE(out.find("carries no name or version: import it alone with --name and --version"), std::string::npos) << out;
  ASSERT_EQ(tb("import --name app --version 1.0 --install-root /opt/app --strip-components 1 " + quote(tgz.string()), &out),
            0)
      << out;
  EXPECT_NE(out.find("imported product app@1.0 (4 records)"), std::string::npos) << out;
  const auto list = infos();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].source, "app-1.0.tar.zst");
  EXPECT_EQ(list[0].install_root, "/opt/app");

  EXPECT_EQ(tb("import --name x --version 1 " + quote(deb(dir_, "1.0-1", "v").string()), &out), 2);
  EXPECT_NE(out.find("a deb names itself"), std::string::npos) << out;
  EXPECT_EQ(tb("import --strip-components 1 " + quote(tgz.string()), &out), 2);
  EXPECT_EQ(tb("import --name x " + quote(tgz.string()), &out), 2);
  EXPECT_NE(out.find("--name and --version go together"), std::string::npos) << out;
  EXPECT_EQ(tb("import --name x --version 1 " + quote(tgz.string()) + " " + quote(tgz.string()), &out), 2);
  EXPECT_EQ(tb("import " + quote((dir_ / "nothing-here").string()), &out), 1);
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
}

}  // namespace
}  // namespace tb
