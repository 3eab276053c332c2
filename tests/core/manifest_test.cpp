// File records, attribute sets, manifests and their digest; names of the small enums.
#include "core/manifest.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_record.h"
#include "core/path.h"
#include "core/scan_document.h"
#include "core/test_records.h"

namespace tb {
namespace {

using test::dir;
using test::file;
using test::kEveryAttr;
using test::manifest;
using test::symlink;

// Digests of fixed manifests, computed independently (Python hashlib over the byte layout
// documented in manifest.cpp). Stored scans are addressed by these: a change here breaks
// every store, so it must be deliberate.
constexpr std::string_view kEmptyManifestDigest = "a7c5101f54469a84967dfd304147e40cc0a116cb8763bb72a21a9b396a56aae5";
constexpr std::string_view kOneFileManifestDigest = "07b4c3a433a43e5b57716478fedab616bbefb8ef4e94fd0b34e33d76b5768d71";
constexpr std::string_view kFileAndLinkManifestDigest = "6c690b6822df605f49f23c32843f436a28e498e9d9e72d1b7e331be3657c15e9";

std::vector<std::string> paths_of(const Manifest& m) {
  std::vector<std::string> out;
  for (const FileRecord& r : m) out.push_back(r.path);
  return out;
}

// A record that carries every attribute, so a change to any field is visible.
FileRecord full_record(std::string path) {
  FileRecord r = file(std::move(path), "content");
  r.present = AttrSet::from_bits(0xFF);
  r.link_target = "target";
  r.uid = 1000;
  r.gid = 100;
  return r;
}

// ---------------------------------------------------------------- AttrSet, names

TEST(AttrSet, SetOperations) {
  AttrSet s;
  EXPECT_TRUE(s.empty());
  s |= Attr::mode;
  EXPECT_TRUE(s.has(Attr::mode));
  EXPECT_FALSE(s.has(Attr::uid));
  const AttrSet t = Attr::mode | Attr::uid;
  EXPECT_EQ((s & t), AttrSet(Attr::mode));
  EXPECT_EQ((t & Attr::gid), AttrSet{});
  EXPECT_EQ(t.bits(), 0x0C);
  EXPECT_EQ(AttrSet::from_bits(t.bits()), t);
  EXPECT_NE(s, t);
}

TEST(AttrSet, DescribeListsInFixedOrder) {
  EXPECT_EQ(describe({}), "");
  EXPECT_EQ(describe(Attr::sha256), "content");
  EXPECT_EQ(describe(Attr::link_target | Attr::mode | Attr::sha256), "mode,content,target");
  EXPECT_EQ(describe(AttrSet::from_bits(0xFF)), "type,size,mode,uid,gid,mtime,content,target");
}

TEST(FileType, NamesRoundTrip) {
  std::vector<std::string_view> seen;
  for (int t = 0; t <= static_cast<int>(FileType::unknown); ++t) {
    const auto type = static_cast<FileType>(t);
    const std::string_view name = to_string(type);
    EXPECT_EQ(file_type_from_string(name), type) << name;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), name), 0) << "duplicate name " << name;
    seen.push_back(name);
  }
  EXPECT_EQ(to_string(FileType::directory), "dir");
  EXPECT_EQ(to_string(FileType::symlink), "symlink");
  EXPECT_EQ(file_type_from_string("directory"), std::nullopt);
  EXPECT_EQ(file_type_from_string("File"), std::nullopt);
  EXPECT_EQ(file_type_from_string(""), std::nullopt);
}

TEST(ScanErrorKind, NamesRoundTrip) {
  for (int k = 0; k <= static_cast<int>(ScanErrorKind::other); ++k) {
    const auto kind = static_cast<ScanErrorKind>(k);
    EXPECT_EQ(scan_error_kind_from_string(to_string(kind)), kind) << to_string(kind);
  }
  EXPECT_EQ(scan_error_kind_from_string("nope"), std::nullopt);
}

TEST(ErrorCode, NamesAreDistinct) {
  std::vector<std::string> seen;
  for (int c = 0; c <= static_cast<int>(ErrorCode::internal); ++c) {
    const std::string name = to_string(static_cast<ErrorCode>(c));
    EXPECT_NE(name, "unknown");
    EXPECT_EQ(std::count(seen.begin(), seen.end(), name), 0) << name;
    seen.push_back(name);
  }
  EXPECT_STREQ(to_string(ErrorCode::not_found), "not-found");
}

// ---------------------------------------------------------------- FileRecord

TEST(FileRecord, EachAttributeChangeIsReportedAlone) {
  std::mt19937_64 rng(1);
  const FileRecord base = full_record("/f");
  for (Attr a : kEveryAttr) {
    FileRecord other = base;
    test::mutate(other, a, rng);
    EXPECT_EQ(changed_attributes(base, other), AttrSet(a)) << describe(a);
    EXPECT_EQ(changed_attributes(other, base), AttrSet(a)) << describe(a);
    EXPECT_NE(base, other) << describe(a);
  }
  EXPECT_TRUE(changed_attributes(base, base).empty());
}

TEST(FileRecord, OnlyAttributesPresentOnBothSidesAreCompared) {
  FileRecord scanned = file("/f", "one");  // size, mode, uid, gid, mtime, content
  FileRecord declared = scanned;            // a package signature: no mtime, no owner
  declared.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;
  declared.mtime_ns = 0;
  declared.uid = 4242;
  declared.gid = 4242;
  EXPECT_TRUE(changed_attributes(scanned, declared).empty());
  EXPECT_TRUE(changed_attributes(declared, scanned).empty());

  declared.sha256 = Sha256::of("two");
  EXPECT_EQ(changed_attributes(scanned, declared), AttrSet(Attr::sha256));

  // Content present on one side only: not compared, whatever the values.
  FileRecord no_hash = scanned;
  no_hash.present = test::kDirAttrs;  // everything but content
  no_hash.sha256 = Sha256::of("different");
  no_hash.mode = 0600;
  EXPECT_EQ(changed_attributes(scanned, no_hash), AttrSet(Attr::mode));
}

TEST(FileRecord, TypeIsAlwaysCompared) {
  FileRecord a = file("/x");
  FileRecord b = a;
  b.type = FileType::fifo;
  a.present = {};
  b.present = {};
  EXPECT_EQ(changed_attributes(a, b), AttrSet(Attr::type));
}

TEST(FileRecord, EqualityIgnoresAbsentValuesButNotThePresentSet) {
  const FileRecord a = file("/f");
  FileRecord b = a;
  b.link_target = "not carried by a file";
  EXPECT_EQ(a, b);

  FileRecord c = a;
  c.present = AttrSet::from_bits(a.present.bits() & ~static_cast<std::uint16_t>(Attr::mtime));
  EXPECT_NE(a, c);  // same values, but one side says less

  FileRecord d = a;
  d.path = "/g";
  EXPECT_NE(a, d);
}

// ---------------------------------------------------------------- Manifest construction

TEST(Manifest, FromRecordsSortsInPathOrder) {
  auto m = Manifest::from_records({file("/a-b"), dir("/a"), file("/b"), file("/a/b"), dir("/"), file("/a!"),
                                   file("/\xff"), file("/a/b/c")});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(paths_of(*m), (std::vector<std::string>{"/", "/a", "/a/b", "/a/b/c", "/a!", "/a-b", "/b", "/\xff"}));
  EXPECT_EQ(m->size(), 8u);
  EXPECT_FALSE(m->empty());
  EXPECT_EQ((*m)[1].type, FileType::directory);
}

TEST(Manifest, EmptyManifest) {
  auto m = Manifest::from_records({});
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->empty());
  EXPECT_EQ(m->size(), 0u);
  EXPECT_EQ(m->find("/"), nullptr);
  EXPECT_EQ(*m, Manifest());
}

TEST(Manifest, FromRecordsRejectsDuplicates) {
  auto m = Manifest::from_records({file("/a"), file("/b"), dir("/a")});
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(m.error().message.find("/a"), std::string::npos) << m.error().message;

  // Identical records are duplicates too.
  EXPECT_FALSE(Manifest::from_records({file("/x"), file("/x")}).has_value());
}

TEST(Manifest, RejectsNonCanonicalPaths) {
  for (const std::string& bad : std::vector<std::string>{"", "a", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/a/.",
                          std::string("/a\0b", 4)}) {
    auto m = Manifest::from_records({file("/ok"), file(bad)});
    ASSERT_FALSE(m.has_value()) << "accepted '" << bad << "'";
    EXPECT_EQ(m.error().code, ErrorCode::invalid_argument);
    EXPECT_FALSE(Manifest::from_sorted({file(bad)}).has_value()) << bad;
  }
  EXPECT_FALSE(Manifest::from_records({file("/" + std::string(256, 'n'))}).has_value());
}

TEST(Manifest, FromSortedAcceptsPathOrder) {
  auto m = Manifest::from_sorted({dir("/"), dir("/a"), file("/a/b"), file("/a-b"), file("/b")});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->size(), 5u);
}

TEST(Manifest, FromSortedRejectsDisorder) {
  // Plain byte order ('-' < '/') is not path order.
  auto m = Manifest::from_sorted({dir("/a"), file("/a-b"), file("/a/b")});
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(Manifest::from_sorted({file("/b"), file("/a")}).has_value());
  EXPECT_FALSE(Manifest::from_sorted({file("/a"), file("/c"), file("/b")}).has_value());
  EXPECT_FALSE(Manifest::from_sorted({file("/a/b"), dir("/a")}).has_value());
  EXPECT_FALSE(Manifest::from_sorted({file("/\xff"), file("/a")}).has_value());
  EXPECT_FALSE(Manifest::from_sorted({file("/a"), file("/a")}).has_value());
}

TEST(Manifest, FromRecordsAndFromSortedAgree) {
  std::mt19937_64 rng(11);
  for (int iter = 0; iter < 50; ++iter) {
    std::vector<FileRecord> records;
    for (int i = 0; i < 40; ++i) records.push_back(test::random_record(test::random_canonical_path(rng), rng));
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return path_less(a.path, b.path); });
    records.erase(std::unique(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.path == b.path; }),
                  records.end());
    auto sorted = Manifest::from_sorted(records);
    ASSERT_TRUE(sorted.has_value()) << sorted.error().message;
    std::shuffle(records.begin(), records.end(), rng);
    auto unsorted = Manifest::from_records(records);
    ASSERT_TRUE(unsorted.has_value()) << unsorted.error().message;
    ASSERT_EQ(*sorted, *unsorted);
  }
}

// ---------------------------------------------------------------- find

TEST(Manifest, FindByPath) {
  const Manifest m = manifest({dir("/a"), file("/a/b", "B"), file("/a-b", "AB"), symlink("/c", "a"), file("/\xff")});
  ASSERT_NE(m.find("/a/b"), nullptr);
  EXPECT_EQ(m.find("/a/b")->sha256, Sha256::of("B"));
  EXPECT_EQ(m.find("/a-b")->sha256, Sha256::of("AB"));
  EXPECT_EQ(m.find("/c")->link_target, "a");
  EXPECT_EQ(m.find("/a")->type, FileType::directory);
  EXPECT_NE(m.find("/\xff"), nullptr);
  // The pointer is into the manifest.
  EXPECT_EQ(m.find("/c"), &m[3]);

  EXPECT_EQ(m.find("/"), nullptr);
  EXPECT_EQ(m.find("/b"), nullptr);
  EXPECT_EQ(m.find("/a/"), nullptr);
  EXPECT_EQ(m.find("/a/b/c"), nullptr);
  EXPECT_EQ(m.find("/a!"), nullptr);
  EXPECT_EQ(m.find("/z"), nullptr);
  EXPECT_EQ(m.find(""), nullptr);
}

TEST(Manifest, FindEveryRecordOfARandomManifest) {
  std::mt19937_64 rng(12);
  std::vector<FileRecord> records;
  std::vector<std::string> absent;
  for (int i = 0; i < 300; ++i) {
    std::string p = test::random_canonical_path(rng, 6);
    if (rng() % 3 == 0) absent.push_back(p);
    else records.push_back(test::random_record(p, rng));
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return path_less(a.path, b.path); });
  records.erase(std::unique(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.path == b.path; }),
                records.end());
  const Manifest m = manifest(records);
  for (const FileRecord& r : records) {
    const FileRecord* f = m.find(r.path);
    ASSERT_NE(f, nullptr) << r.path;
    EXPECT_EQ(*f, r);
  }
  for (const std::string& p : absent) {
    const bool in = std::any_of(records.begin(), records.end(), [&](const auto& r) { return r.path == p; });
    EXPECT_EQ(m.find(p) != nullptr, in) << p;
  }
}

// ---------------------------------------------------------------- digest

TEST(ManifestDigest, KnownAnswers) {
  EXPECT_EQ(Manifest().digest().hex(), kEmptyManifestDigest);

  FileRecord hosts;
  hosts.path = "/etc/hosts";
  hosts.type = FileType::file;
  hosts.present = test::kFileAttrs;
  hosts.size = 123;
  hosts.mode = 0644;
  hosts.mtime_ns = 1'700'000'000'123'456'789;
  hosts.sha256 = Sha256::of("abc");
  EXPECT_EQ(manifest({hosts}).digest().hex(), kOneFileManifestDigest);

  FileRecord link;
  link.path = "/usr/bin/python3";
  link.type = FileType::symlink;
  link.present = Attr::type | Attr::size | Attr::link_target;
  link.link_target = "/usr/bin/python3.11";
  link.size = link.link_target.size();
  link.mode = 0777;   // not present: not hashed
  link.mtime_ns = 5;  // not present: not hashed
  EXPECT_EQ(manifest({link, hosts}).digest().hex(), kFileAndLinkManifestDigest);
}

TEST(ManifestDigest, AnySingleFieldChangeChangesTheDigest) {
  std::mt19937_64 rng(2);
  const std::vector<FileRecord> base = {dir("/a"), full_record("/a/f"), symlink("/a/l", "f")};
  const Manifest m = manifest(base);
  const Sha256Digest d = m.digest();
  std::vector<Sha256Digest> seen{d};
  for (Attr a : kEveryAttr) {
    std::vector<FileRecord> changed = base;
    test::mutate(changed[1], a, rng);
    const Sha256Digest dc = manifest(changed).digest();
    EXPECT_NE(dc, d) << describe(a);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), dc), 0) << describe(a);
    seen.push_back(dc);
  }
  {  // path
    std::vector<FileRecord> changed = base;
    changed[1].path = "/a/g";
    EXPECT_NE(manifest(changed).digest(), d);
  }
  {  // one attribute less, same values
    std::vector<FileRecord> changed = base;
    changed[1].present = AttrSet::from_bits(changed[1].present.bits() & ~static_cast<std::uint16_t>(Attr::uid));
    EXPECT_NE(manifest(changed).digest(), d);
  }
  {  // one record less
    std::vector<FileRecord> changed = base;
    changed.pop_back();
    EXPECT_NE(manifest(changed).digest(), d);
  }
  {  // a value that is not present does not count (the records are equal)
    std::vector<FileRecord> changed = base;
    changed[0].sha256 = Sha256::of("dirs carry no content");
    changed[2].uid = 1234;
    changed[2].present = AttrSet::from_bits(changed[2].present.bits() & ~static_cast<std::uint16_t>(Attr::uid));
    std::vector<FileRecord> same = base;
    same[2].present = changed[2].present;
    EXPECT_EQ(manifest(changed), manifest(same));
    EXPECT_EQ(manifest(changed).digest(), manifest(same).digest());
  }
}

TEST(ManifestDigest, FieldsAreDelimited) {
  // Moving bytes between the path and the link target must change the digest.
  FileRecord a = symlink("/ab", "c");
  FileRecord b = symlink("/a", "bc");
  b.size = a.size;  // same size, so only the split differs
  EXPECT_NE(manifest({a}).digest(), manifest({b}).digest());
  // Moving bytes between two records' paths too.
  FileRecord x = dir("/a"), y = dir("/bc");
  FileRecord x2 = dir("/ab"), y2 = dir("/c");
  EXPECT_NE(manifest({x, y}).digest(), manifest({x2, y2}).digest());
}

TEST(ManifestDigest, InsertionOrderIsIrrelevant) {
  std::mt19937_64 rng(3);
  std::vector<FileRecord> records;
  for (int i = 0; i < 200; ++i) {
    std::string p = "/opt/app/m" + std::to_string(rng() % 20) + "/f" + std::to_string(i);
    records.push_back(test::random_record(std::move(p), rng));
  }
  const Sha256Digest d = manifest(records).digest();
  for (int i = 0; i < 10; ++i) {
    std::shuffle(records.begin(), records.end(), rng);
    EXPECT_EQ(manifest(records).digest(), d);
  }
}

TEST(ManifestDigest, EqualExactlyWhenRecordsAreEqual) {
  std::mt19937_64 rng(4);
  int equal = 0, different = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::vector<FileRecord> a;
    for (int i = 0; i < 6; ++i) a.push_back(test::random_record("/d/" + std::to_string(i), rng));
    std::vector<FileRecord> b = a;
    switch (rng() % 4) {
      case 0: break;  // identical
      case 1: {       // a value change, maybe of an attribute that is not present
        FileRecord& r = b[rng() % b.size()];
        test::mutate(r, kEveryAttr[rng() % 8], rng);
        break;
      }
      case 2: b.erase(b.begin() + static_cast<long>(rng() % b.size())); break;
      case 3: b[rng() % b.size()].path += "x"; break;
    }
    const Manifest ma = manifest(a), mb = manifest(b);
    const bool same = ma == mb;
    ASSERT_EQ(same, ma.digest() == mb.digest()) << "iteration " << iter;
    (same ? equal : different)++;
  }
  EXPECT_GT(equal, 100);
  EXPECT_GT(different, 100);
}

TEST(ManifestDigest, HashRecordMatchesDigestLayout) {
  // digest() = SHA-256("trustbase-manifest-v1" || u64le count || hash_record(each)).
  const Manifest m = manifest({dir("/a"), file("/a/f"), symlink("/l", "a/f")});
  Sha256 h;
  h.update("trustbase-manifest-v1");
  const unsigned char count[8] = {3, 0, 0, 0, 0, 0, 0, 0};
  h.update(std::string_view(reinterpret_cast<const char*>(count), 8));
  for (const FileRecord& r : m) hash_record(h, r);
  EXPECT_EQ(h.finish(), m.digest());
}

}  // namespace
}  // namespace tb

namespace {
TEST(AttrList, ParsesWhatDescribeWrites) {
  using tb::Attr;
  const tb::AttrSet all = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime |
                          Attr::sha256 | Attr::link_target;
  EXPECT_EQ(tb::parse_attr_list(tb::describe(all)), all);
  EXPECT_EQ(tb::parse_attr_list("mtime,uid"), Attr::mtime | Attr::uid);
  EXPECT_EQ(tb::parse_attr_list(""), tb::AttrSet());
  EXPECT_EQ(tb::parse_attr_list("content,,target"), Attr::sha256 | Attr::link_target);
  EXPECT_EQ(tb::parse_attr_list("mtime,colour"), std::nullopt);
  EXPECT_EQ(tb::parse_attr_list("sha256"), std::nullopt) << "the report name is 'content'";
}
}  // namespace
