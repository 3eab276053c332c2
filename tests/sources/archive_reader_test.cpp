// The bounded libarchive walk: entry paths, tar (every compression), zip, hard links,
// sparse files, and hostile archives (escapes, absolute paths, duplicates, bombs,
// corruption) refused with an error naming the archive and the entry.
#include "sources/archive_reader.h"

#include <gtest/gtest.h>

#include "sources/archive_source.h"
#include "sources/source_test_support.h"

namespace tb {
namespace {

using namespace srctest;

// --- entry paths ------------------------------------------------------------------------

std::string entry_path(std::string_view raw, const std::string& root = "/", unsigned strip = 0) {
  auto p = archive_entry_path(raw, root, strip, 4096);
  if (!p) return "error: " + p.error().message;
  return *p ? **p : "(stripped)";
}

TEST(ArchiveEntryPath, NormalisesRelativeNamesUnderTheInstallRoot) {
  EXPECT_EQ(entry_path("./usr/bin/app"), "/usr/bin/app");
  EXPECT_EQ(entry_path("usr/bin/"), "/usr/bin");
  EXPECT_EQ(entry_path("usr//bin/./app"), "/usr/bin/app");
  EXPECT_EQ(entry_path("./"), "/");
  EXPECT_EQ(entry_path("."), "/");
  EXPECT_EQ(entry_path("bin/app", "/opt/app"), "/opt/app/bin/app");
  EXPECT_EQ(entry_path("./", "/opt/app"), "/opt/app");
  EXPECT_EQ(entry_path("app-1.0/bin/app", "/opt/app", 1), "/opt/app/bin/app");
  EXPECT_EQ(entry_path("app-1.0/", "/opt/app", 1), "(stripped)");
  EXPECT_EQ(entry_path("README", "/opt/app", 1), "(stripped)");
}

TEST(ArchiveEntryPath, RefusesEscapesAbsolutePathsAndOversizedNames) {
  EXPECT_NE(entry_path("../etc/passwd").find("escape the install root"), std::string::npos);
  EXPECT_NE(entry_path("usr/../../etc").find("escape"), std::string::npos);
  EXPECT_NE(entry_path("usr/..").find("escape"), std::string::npos);
  EXPECT_NE(entry_path("/etc/passwd").find("absolute path"), std::string::npos);
  EXPECT_NE(entry_path("").find("empty name"), std::string::npos);
  EXPECT_NE(entry_path(std::string_view("a\0b", 3)).find("NUL"), std::string::npos);
  EXPECT_NE(entry_path(std::string(5000, 'a')).find("longer than 4096"), std::string::npos);
  EXPECT_NE(entry_path(std::string(300, 'a')).find("error"), std::string::npos);  // one component over NAME_MAX
}

// --- real archives ------------------------------------------------------------------------

class ArchiveTest : public TempDirTest {
 protected:
  // A vendor's tree: executable, library with a hard link, a symlink, nested directories.
  fs::path make_tree(const std::string& name = "tree") {
    const fs::path t = dir_ / name;
    write(t / "bin/app", "#!/bin/sh\necho app\n", 0755);
    write(t / "lib/libapp.so.1", std::string(100000, 'L'), 0644);
    fs::create_hard_link(t / "lib/libapp.so.1", t / "lib/libapp-hard.so");
    fs::create_symlink("libapp.so.1", t / "lib/libapp.so");
    write(t / "share/doc/README", "read me", 0600);
    for (const char* d : {"", "bin", "lib", "share", "share/doc"}) ::chmod((t / d).c_str(), 0755);
    return t;
  }

  std::vector<FileRecord> expected_tree(const std::string& root, bool with_root) {
    std::vector<FileRecord> r;
    if (with_root) r.push_back(pkg_dir(root, 0755, false));
    r.push_back(pkg_dir(root + "/bin", 0755, false));
    r.push_back(pkg_file(root + "/bin/app", "#!/bin/sh\necho app\n", 0755, false));
    r.push_back(pkg_dir(root + "/lib", 0755, false));
    r.push_back(pkg_file(root + "/lib/libapp-hard.so", std::string(100000, 'L'), 0644, false));
    r.push_back(pkg_symlink(root + "/lib/libapp.so", "libapp.so.1", false));
    r.push_back(pkg_file(root + "/lib/libapp.so.1", std::string(100000, 'L'), 0644, false));
    r.push_back(pkg_dir(root + "/share", 0755, false));
    r.push_back(pkg_dir(root + "/share/doc", 0755, false));
    r.push_back(pkg_file(root + "/share/doc/README", "read me", 0600, false));
    return r;
  }

  Expected<Signature> import(const fs::path& archive, const std::string& root = "/opt/app", unsigned strip = 0,
                             const ArchiveLimits& limits = {}) {
    SignatureInfo info;
    info.ref = SignatureRef{"app", "1.0"};
    info.install_root = root;
    return signature_from_archive(archive.string(), info, strip, limits);
  }
};

TEST_F(ArchiveTest, TarInEveryCompressionGivesTheExactRecords) {
  const fs::path tree = make_tree();
  const auto expected = *Manifest::from_records(expected_tree("/opt/app", true));
  for (const std::string flag : {"", "z", "j", "J", "--zstd "}) {
    const fs::path out = dir_ / ("app" + flag + ".tar");
    const std::string option = flag.size() == 1 ? "-c" + flag + "f" : flag + "-cf";
    ASSERT_EQ(run("tar -C " + quote(tree.string()) + " " + option + " " + quote(out.string()) + " ."), 0) << flag;
    auto sig = import(out);
    ASSERT_TRUE(sig) << flag << ": " << sig.error().message;
    EXPECT_EQ(sig->manifest, expected) << flag << "\n" << dump(sig->manifest);
    EXPECT_EQ(sig->info.source, out.filename().string());
    EXPECT_EQ(sig->info.source_sha256, file_sha256(out));
    EXPECT_EQ(sig->info.install_root, "/opt/app");
  }
}

TEST_F(ArchiveTest, ZipGivesTheSameRecordsWithoutTheRootEntry) {
  const fs::path tree = make_tree();
  const fs::path out = dir_ / "app.zip";
  ASSERT_EQ(run("cd " + quote(tree.string()) + " && zip -q -r -y " + quote(out.string()) + " ."), 0);
  auto sig = import(out);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->manifest, *Manifest::from_records(expected_tree("/opt/app", false))) << dump(sig->manifest);
}

TEST_F(ArchiveTest, StripComponentsDropsTheTopDirectory) {
  make_tree("app-1.0");
  const fs::path out = dir_ / "app-1.0.tar.gz";
  ASSERT_EQ(run("tar -C " + quote(dir_.string()) + " -czf " + quote(out.string()) + " app-1.0"), 0);
  auto sig = import(out, "/opt/app", 1);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->manifest, *Manifest::from_records(expected_tree("/opt/app", false))) << dump(sig->manifest);
  auto unstripped = import(out, "/opt");
  ASSERT_TRUE(unstripped);
  EXPECT_NE(unstripped->manifest.find("/opt/app-1.0/bin/app"), nullptr);
}

TEST_F(ArchiveTest, SparseFilesAreHashedWithTheirHoles) {
  const fs::path tree = dir_ / "sparse";
  fs::create_directories(tree);
  {
    std::ofstream f(tree / "disk.img", std::ios::binary);
    f << "head";
    f.seekp(3 * 1024 * 1024);
    f << "middle";
  }
  fs::resize_file(tree / "disk.img", 8 * 1024 * 1024);  // ends in a hole
  const std::string content = slurp(tree / "disk.img");
  const fs::path out = dir_ / "sparse.tar";
  ASSERT_EQ(run("tar -C " + quote(tree.string()) + " --sparse -cf " + quote(out.string()) + " disk.img"), 0);
  ASSERT_LT(fs::file_size(out), 1024u * 1024u) << "tar did not store the file as sparse";
  auto sig = import(out);
  ASSERT_TRUE(sig) << sig.error().message;
  const FileRecord* r = sig->manifest.find("/opt/app/disk.img");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size, content.size());
  EXPECT_EQ(r->sha256, Sha256::of(content));
}

// --- hostile archives ---------------------------------------------------------------------

class HostileArchiveTest : public ArchiveTest {
 protected:
  std::string refusal(const std::vector<CraftedEntry>& entries, const ArchiveLimits& limits = {},
                      int format = ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, int filter = ARCHIVE_FILTER_GZIP) {
    const fs::path out = dir_ / "hostile.tar.gz";
    craft_archive(out, format, filter, entries);
    auto sig = import(out, "/opt/app", 0, limits);
    if (sig) return "accepted:\n" + dump(sig->manifest);
    EXPECT_NE(sig.error().message.find(out.string()), std::string::npos) << "the error names the archive: "
                                                                          << sig.error().message;
    return sig.error().message;
  }
};

TEST_F(HostileArchiveTest, DotDotEntriesAreRefused) {
  const std::string why = refusal({crafted_file("bin/app", "x"), crafted_file("../../etc/cron.d/evil", "* * * * * root sh")});
  EXPECT_NE(why.find("entry '../../etc/cron.d/evil'"), std::string::npos) << why;
  EXPECT_NE(why.find("escape"), std::string::npos) << why;
}

TEST_F(HostileArchiveTest, AbsolutePathsAreRefused) {
  const std::string why = refusal({crafted_file("/etc/passwd", "root::0:0::/:/bin/sh")});
  EXPECT_NE(why.find("entry '/etc/passwd'"), std::string::npos) << why;
  EXPECT_NE(why.find("absolute"), std::string::npos) << why;
}

TEST_F(HostileArchiveTest, DuplicateEntriesAreRefusedEvenWhenSpelledDifferently) {
  EXPECT_NE(refusal({crafted_file("bin/app", "a"), crafted_file("bin/app", "b")}).find("duplicate entry for /opt/app/bin/app"),
            std::string::npos);
  EXPECT_NE(refusal({crafted_file("bin/app", "a"), crafted_file("./bin//app", "b")}).find("duplicate"), std::string::npos);
}

TEST_F(HostileArchiveTest, HardLinksMustPointAtEarlierFilesInsideTheRoot) {
  EXPECT_NE(refusal({crafted_hardlink("bin/app", "bin/missing")}).find("no earlier regular file"),
            std::string::npos);
  EXPECT_NE(refusal({crafted_hardlink("bin/app", "../../etc/shadow")}).find("hard link"), std::string::npos);
}

TEST_F(HostileArchiveTest, EntryCountLimit) {
  std::vector<CraftedEntry> many;
  for (int i = 0; i < 500; ++i) many.push_back(crafted_file("f" + std::to_string(i), "x"));
  ArchiveLimits limits;
  limits.max_entries = 100;
  const std::string why = refusal(many, limits);
  EXPECT_NE(why.find("more than 100 entries"), std::string::npos) << why;
  EXPECT_TRUE(import(dir_ / "hostile.tar.gz"));  // the default limits take it
}

TEST_F(HostileArchiveTest, SizeLimitsStopTarBombs) {
  const std::string mib(1 << 20, '\0');
  ArchiveLimits per_entry;
  per_entry.max_entry_bytes = 1 << 20;
  EXPECT_NE(refusal({crafted_file("big", mib + "x")}, per_entry).find("over the limit of 1048576"), std::string::npos);

  ArchiveLimits total;
  total.max_total_bytes = (3 << 20) / 2;
  EXPECT_NE(refusal({crafted_file("a", mib), crafted_file("b", mib)}, total).find("archive bomb"), std::string::npos);

  // 32 MiB of zeros compress to ~32 KiB: a thousandfold expansion is a bomb, whatever
  // the absolute limits say.
  ArchiveLimits ratio;
  ratio.expansion_floor = 1 << 20;
  ratio.max_expansion = 100;
  EXPECT_NE(refusal({crafted_file("zeros", std::string(32 << 20, '\0'))}, ratio).find("archive bomb"), std::string::npos);
}

TEST_F(HostileArchiveTest, ZipEntriesAreCheckedTheSameWay) {
  const fs::path out = dir_ / "hostile.zip";
  craft_archive(out, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, {crafted_file("ok", "x"), crafted_file("../evil", "y")});
  auto sig = import(out);
  ASSERT_FALSE(sig);
  EXPECT_NE(sig.error().message.find("'../evil'"), std::string::npos) << sig.error().message;
}

TEST_F(HostileArchiveTest, EmptyArchivesAndNonArchivesAreRefused) {
  EXPECT_NE(refusal({}).find("no entry"), std::string::npos);
  write(dir_ / "notes.txt", "just text, not an archive\n");
  auto sig = import(dir_ / "notes.txt");
  ASSERT_FALSE(sig);
  EXPECT_NE(sig.error().message.find("not a readable archive"), std::string::npos) << sig.error().message;
}

// Every truncation of a compressed tar and of a zip is an error, never a crash or a
// silently shorter signature; so is a flipped byte in the compressed data.
TEST_F(HostileArchiveTest, CorruptedCopiesAreRefused) {
  const fs::path tree = make_tree();
  write(tree / "noise.bin", [] {
    std::string s;
    std::uint32_t x = 12345;
    for (int i = 0; i < 200000; ++i) s += static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
    return s;
  }());
  const fs::path tgz = dir_ / "app.tar.xz";
  const fs::path zip = dir_ / "app.zip";
  ASSERT_EQ(run("tar -C " + quote(tree.string()) + " -cJf " + quote(tgz.string()) + " ."), 0);
  ASSERT_EQ(run("cd " + quote(tree.string()) + " && zip -q -r -y " + quote(zip.string()) + " ."), 0);
  for (const fs::path& good : {tgz, zip}) {
    ASSERT_TRUE(import(good)) << good;
    const std::size_t size = fs::file_size(good);
    for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{100}, size / 3, size / 2, size - 1}) {
      const fs::path bad = truncated_copy(good, dir_ / ("cut-" + good.filename().string()), cut);
      auto sig = import(bad);
      EXPECT_FALSE(sig) << good << " cut at " << cut;
      if (!sig) {
        EXPECT_NE(sig.error().message.find(bad.string()), std::string::npos) << sig.error().message;
      }
    }
    for (const std::size_t at : {size / 3, size / 2, size * 2 / 3}) {
      const fs::path bad = flipped_copy(good, dir_ / ("flip-" + good.filename().string()), at);
      EXPECT_FALSE(import(bad)) << good << " flipped at " << at;
    }
  }
}

TEST_F(ArchiveTest, NestedReaderCountsAgainstTheSameLimits) {
  // A tar inside a tar (the .deb layout, with ar outside): the inner archive is read
  // straight from the outer entry's data.
  const fs::path tree = make_tree();
  const fs::path inner = dir_ / "inner.tar.gz";
  ASSERT_EQ(run("tar -C " + quote(tree.string()) + " -czf " + quote(inner.string()) + " ."), 0);
  const fs::path outer = dir_ / "outer.tar";
  craft_archive(outer, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, {crafted_file("inner.tar.gz", slurp(inner))});
  auto file = PackageFile::open(outer.string());
  ASSERT_TRUE(file);
  auto reader = ArchiveReader::open(*file, kArchiveTar, outer.string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto entry = reader->next();
  ASSERT_TRUE(entry && *entry);
  auto nested = ArchiveReader::open_entry(*reader, kArchiveTar, outer.string() + ": inner.tar.gz");
  ASSERT_TRUE(nested) << nested.error().message;
  TreeOptions options;
  options.install_root = "/opt/app";
  auto tree_records = read_archive_tree(*nested, options);
  ASSERT_TRUE(tree_records) << tree_records.error().message;
  EXPECT_EQ(nested->compression(), Compression::gzip);
  EXPECT_EQ(*Manifest::from_sorted(tree_records->records), *Manifest::from_records(expected_tree("/opt/app", true)));
  auto end = reader->next();
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, nullptr);
  auto digest = file->finish();
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, file_sha256(outer));
}

}  // namespace
}  // namespace tb
