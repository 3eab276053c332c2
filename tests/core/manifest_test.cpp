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
using test::full_record;
using test::kEveryAttr;
using test::manifest;
using test::symlink;

std::vector<std::string> paths_of(const Manifest& m) {
  std::vector<std::string> out;
  for (const FileRecord& r : m) out.push_back(r.path);
  return out;
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
