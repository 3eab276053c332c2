// Sorted-merge diff of manifests: hand-made cases with exact changed sets, and a seeded
// randomised check of diff/apply against an independent model of the changes.
#include "core/diff.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/path.h"
#include "core/test_records.h"

namespace tb {
namespace {

using test::dir;
using test::file;
using test::kEveryAttr;
using test::manifest;
using test::symlink;

// "added /x", "removed /y", "modified /z mode,content": one line per entry, for readable failures.
std::vector<std::string> lines(const std::vector<DiffEntry>& entries) {
  std::vector<std::string> out;
  for (const DiffEntry& e : entries) {
    std::string s = std::string(to_string(e.change)) + " " + std::string(e.path());
    if (e.change == Change::modified) s += " " + describe(e.changed);
    out.push_back(s);
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(Diff, ChangeNames) {
  EXPECT_EQ(to_string(Change::added), "added");
  EXPECT_EQ(to_string(Change::removed), "removed");
  EXPECT_EQ(to_string(Change::modified), "modified");
}

TEST(Diff, IdenticalManifestsHaveNoDifference) {
  const Manifest m = manifest({dir("/a"), file("/a/b"), symlink("/a/c", "b")});
  EXPECT_TRUE(diff(m, m).empty());
  EXPECT_TRUE(diff(Manifest(), Manifest()).empty());
  const Manifest copy = manifest({symlink("/a/c", "b"), file("/a/b"), dir("/a")});
  EXPECT_TRUE(diff(m, copy).empty());
}

TEST(Diff, AddedAndRemoved) {
  const Manifest before = manifest({dir("/etc"), file("/etc/a"), file("/etc/b"), file("/var")});
  const Manifest after = manifest({dir("/etc"), file("/etc/b"), file("/etc/c"), file("/etc-old"), file("/var")});
  const auto d = diff(before, after);
  EXPECT_EQ(lines(d), (Lines{"removed /etc/a", "added /etc/c", "added /etc-old"}));

  // Pointers lead into the manifests given.
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].before, before.find("/etc/a"));
  EXPECT_EQ(d[0].after, nullptr);
  EXPECT_EQ(d[1].before, nullptr);
  EXPECT_EQ(d[1].after, after.find("/etc/c"));
  EXPECT_TRUE(d[1].changed.empty());

  const DiffCounts c = count(d);
  EXPECT_EQ(c.added, 2u);
  EXPECT_EQ(c.removed, 1u);
  EXPECT_EQ(c.modified, 0u);
  EXPECT_EQ(c.total(), 3u);
}

TEST(Diff, FromAndToEmpty) {
  const Manifest m = manifest({dir("/a"), file("/a/b"), file("/c")});
  EXPECT_EQ(lines(diff(Manifest(), m)), (Lines{"added /a", "added /a/b", "added /c"}));
  EXPECT_EQ(lines(diff(m, Manifest())), (Lines{"removed /a", "removed /a/b", "removed /c"}));
}

TEST(Diff, ContentChange) {
  const Manifest before = manifest({file("/bin/ls", "v1")});
  FileRecord changed = file("/bin/ls", "v2");  // same size, other content
  const Manifest after = manifest({changed});
  const auto d = diff(before, after);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].change, Change::modified);
  EXPECT_EQ(d[0].changed, AttrSet(Attr::sha256));
  EXPECT_EQ(d[0].before, &before[0]);
  EXPECT_EQ(d[0].after, &after[0]);
  EXPECT_EQ(d[0].path(), "/bin/ls");

  const Manifest longer = manifest({file("/bin/ls", "longer")});
  const auto d2 = diff(before, longer);
  ASSERT_EQ(d2.size(), 1u);
  EXPECT_EQ(d2[0].changed, Attr::size | Attr::sha256);
}

TEST(Diff, ModeChange) {
  // (Entries point into the manifests: both must outlive `d`.)
  const Manifest before = manifest({file("/usr/bin/sudo", "x", 04755)});
  const Manifest after = manifest({file("/usr/bin/sudo", "x", 0755)});
  const auto d = diff(before, after);
  EXPECT_EQ(lines(d), (Lines{"modified /usr/bin/sudo mode"}));
}

TEST(Diff, OwnerChange) {
  FileRecord a = file("/f"), b = file("/f");
  b.uid = 1000;
  b.gid = 1000;
  EXPECT_EQ(lines(diff(manifest({a}), manifest({b}))), (Lines{"modified /f uid,gid"}));
}

TEST(Diff, SymlinkTargetChange) {
  const Manifest before = manifest({symlink("/lib/libssl.so", "libssl.so.3")});
  const Manifest same_length = manifest({symlink("/lib/libssl.so", "libssl.so.1")});
  const Manifest longer = manifest({symlink("/lib/libssl.so", "libssl.so.1.1")});
  EXPECT_EQ(lines(diff(before, same_length)), (Lines{"modified /lib/libssl.so target"}));
  EXPECT_EQ(lines(diff(before, longer)), (Lines{"modified /lib/libssl.so size,target"}));
}

TEST(Diff, TypeChange) {
  // A file replaced by a directory with the same size, mode, owner and mtime: only the type
  // differs among the attributes both carry (a directory has no content hash).
  FileRecord f = file("/opt/x");
  FileRecord d = dir("/opt/x", f.mode);
  d.size = f.size;
  d.mtime_ns = f.mtime_ns;
  EXPECT_EQ(lines(diff(manifest({f}), manifest({d}))), (Lines{"modified /opt/x type"}));
  EXPECT_EQ(lines(diff(manifest({d}), manifest({f}))), (Lines{"modified /opt/x type"}));

  // A file replaced by a symlink: type and mode and size differ too.
  const FileRecord l = symlink("/opt/x", "elsewhere");
  EXPECT_EQ(lines(diff(manifest({f}), manifest({l}))), (Lines{"modified /opt/x type,size,mode"}));
}

TEST(Diff, AttributesNotCarriedByBothSidesAreNotCompared) {
  FileRecord scanned = file("/etc/app.conf", "v1");
  FileRecord declared = scanned;
  declared.present = Attr::type | Attr::size | Attr::sha256;  // a package knows no owner or mtime
  declared.uid = 99;
  declared.mtime_ns = 0;
  declared.mode = 0;
  EXPECT_TRUE(diff(manifest({declared}), manifest({scanned})).empty());
  declared.sha256 = Sha256::of("v0");
  EXPECT_EQ(lines(diff(manifest({declared}), manifest({scanned}))), (Lines{"modified /etc/app.conf content"}));
}

TEST(Diff, CompareMaskLeavesOutMtimeAndOwner) {
  const AttrSet no_time_no_owner = Attr::size | Attr::mode | Attr::sha256 | Attr::link_target;
  FileRecord a = file("/srv/app.jar", "same");
  FileRecord b = a;
  b.mtime_ns += 3'600'000'000'000;
  b.uid = 1001;
  b.gid = 1001;
  const Manifest ma = manifest({a}), mb = manifest({b});
  EXPECT_EQ(lines(diff(ma, mb)), (Lines{"modified /srv/app.jar uid,gid,mtime"}));
  EXPECT_TRUE(diff(ma, mb, no_time_no_owner).empty());

  b.mode = 0600;
  const Manifest mc = manifest({a, file("/srv/new")}), md = manifest({b});
  EXPECT_EQ(lines(diff(mc, md, no_time_no_owner)), (Lines{"modified /srv/app.jar mode", "removed /srv/new"}));
  // Added and removed records are reported whatever the mask.
  EXPECT_EQ(lines(diff(mc, md, AttrSet{})), (Lines{"removed /srv/new"}));
}

TEST(Diff, TypeIsComparedEvenWhenLeftOutOfTheMask) {
  FileRecord f = file("/x");
  FileRecord d = dir("/x", f.mode);
  EXPECT_EQ(lines(diff(manifest({f}), manifest({d}), Attr::mode)), (Lines{"modified /x type"}));
  EXPECT_EQ(lines(diff(manifest({f}), manifest({d}), AttrSet{})), (Lines{"modified /x type"}));
}

TEST(Diff, EntriesComeInPathOrder) {
  const Manifest before = manifest({dir("/a"), file("/a/x", "1"), file("/a-b"), file("/b", "1")});
  const Manifest after = manifest({dir("/a"), file("/a/b"), file("/a/x", "2"), file("/a!"), file("/b", "2")});
  EXPECT_EQ(lines(diff(before, after)),
            (Lines{"added /a/b", "modified /a/x content", "added /a!", "removed /a-b", "modified /b content"}));
}

TEST(Diff, ForEachDifferenceVisitsTheSameEntries) {
  const Manifest before = manifest({dir("/a"), file("/a/x", "1"), file("/c")});
  const Manifest after = manifest({file("/a/x", "2"), file("/b"), file("/c")});
  std::vector<DiffEntry> visited;
  for_each_difference(before, after, [&](const DiffEntry& e) { visited.push_back(e); });
  EXPECT_EQ(lines(visited), lines(diff(before, after)));
  EXPECT_EQ(lines(visited), (Lines{"removed /a", "modified /a/x content", "added /b"}));
}

// (apply_diff is named so that ADL cannot pick std::apply.)
TEST(Apply, RebuildsTheSecondManifest) {
  const Manifest before = manifest({dir("/a"), file("/a/x", "1"), file("/a-b"), file("/b", "1"), file("/z")});
  const Manifest after = manifest({dir("/", 0700), dir("/a"), file("/a/b"), file("/a/x", "2"), file("/a!"), file("/b", "2")});
  EXPECT_EQ(apply_diff(before, diff(before, after)), after);
  EXPECT_EQ(apply_diff(after, diff(after, before)), before);
  EXPECT_EQ(apply_diff(before, {}), before);
  EXPECT_EQ(apply_diff(Manifest(), diff(Manifest(), after)), after);
  EXPECT_EQ(apply_diff(before, diff(before, Manifest())), Manifest());
}

// ---------------------------------------------------------------- randomised property

struct Case {
  Manifest a, b;
  std::set<std::string> only_a, only_b;
  std::map<std::string, AttrSet> modified;  // expected changed attributes of each paired record
  std::map<std::string, AttrSet> paired;    // every paired path -> its expected changes (maybe empty)
};

// Random A and B over a shared pool of paths. Paired records carry the same attribute
// set; B's copy has 0..3 attributes changed, and the expected changed set is worked out
// from the mutations made, not from changed_attributes().
Case random_case(std::mt19937_64& rng) {
  Case c;
  std::set<std::string> pool;
  const std::size_t n = rng() % 80;
  while (pool.size() < n) pool.insert(test::random_canonical_path(rng, 5));
  std::vector<FileRecord> a, b;
  for (const std::string& p : pool) {
    const unsigned side = rng() % 10;
    FileRecord r = test::random_record(p, rng);
    if (side < 2) {
      c.only_a.insert(p);
      a.push_back(r);
    } else if (side < 4) {
      c.only_b.insert(p);
      b.push_back(r);
    } else {
      FileRecord r2 = r;
      AttrSet mutated;
      if (rng() % 2 == 0) {
        const std::size_t k = 1 + rng() % 3;
        for (std::size_t i = 0; i < k; ++i) {
          const Attr attr = kEveryAttr[rng() % 8];
          if (mutated.has(attr)) continue;  // a second mutation could undo the first
          test::mutate(r2, attr, rng);
          mutated |= attr;
        }
      }
      AttrSet expected = mutated & r.present;
      if (mutated.has(Attr::type)) expected |= Attr::type;
      c.paired[p] = expected;
      if (!expected.empty()) c.modified[p] = expected;
      a.push_back(r);
      b.push_back(r2);
    }
  }
  std::shuffle(a.begin(), a.end(), rng);
  std::shuffle(b.begin(), b.end(), rng);
  c.a = manifest(std::move(a));
  c.b = manifest(std::move(b));
  return c;
}

bool points_into(const FileRecord* p, const Manifest& m) {
  return p != nullptr && p >= m.records().data() && p < m.records().data() + m.size();
}

TEST(DiffProperty, RandomManifests) {
  std::mt19937_64 rng(0xd1ff);
  std::size_t total_added = 0, total_removed = 0, total_modified = 0, masked_out = 0;
  for (int iter = 0; iter < 400; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    const Case c = random_case(rng);
    const auto d = diff(c.a, c.b);

    // Entries in strict path order, each consistent with the model.
    for (std::size_t i = 0; i < d.size(); ++i) {
      const DiffEntry& e = d[i];
      if (i > 0) {
        ASSERT_TRUE(path_less(d[i - 1].path(), e.path())) << e.path();
      }
      const std::string p(e.path());
      switch (e.change) {
        case Change::added:
          ASSERT_TRUE(c.only_b.count(p)) << p;
          ASSERT_EQ(e.before, nullptr);
          ASSERT_TRUE(points_into(e.after, c.b));
          break;
        case Change::removed:
          ASSERT_TRUE(c.only_a.count(p)) << p;
          ASSERT_EQ(e.after, nullptr);
          ASSERT_TRUE(points_into(e.before, c.a));
          break;
        case Change::modified:
          ASSERT_TRUE(c.modified.count(p)) << p;
          ASSERT_EQ(e.changed, c.modified.at(p)) << p << ": " << describe(e.changed) << " vs "
                                                 << describe(c.modified.at(p));
          ASSERT_TRUE(points_into(e.before, c.a));
          ASSERT_TRUE(points_into(e.after, c.b));
          ASSERT_EQ(e.before->path, e.after->path);
          break;
      }
    }
    const DiffCounts counts = count(d);
    ASSERT_EQ(counts.added, c.only_b.size());
    ASSERT_EQ(counts.removed, c.only_a.size());
    ASSERT_EQ(counts.modified, c.modified.size());
    total_added += counts.added;
    total_removed += counts.removed;
    total_modified += counts.modified;

    // Rebuilding B, and A from the reverse diff.
    const Manifest rebuilt = apply_diff(c.a, d);
    ASSERT_EQ(rebuilt, c.b);
    const auto back = diff(c.b, c.a);
    ASSERT_EQ(count(back).added, counts.removed);
    ASSERT_EQ(count(back).removed, counts.added);
    ASSERT_EQ(count(back).modified, counts.modified);
    ASSERT_EQ(apply_diff(c.b, back), c.a);

    ASSERT_TRUE(diff(c.a, c.a).empty());
    ASSERT_TRUE(diff(c.b, c.b).empty());
    ASSERT_EQ(c.a == c.b, d.empty());

    // With a random compare mask: changes outside the mask (type excepted) are not seen,
    // and applying such a diff keeps A's version of those records.
    const AttrSet mask = AttrSet::from_bits(static_cast<std::uint16_t>(rng() & 0xFF));
    const auto dm = diff(c.a, c.b, mask);
    std::vector<FileRecord> expected;
    for (const FileRecord& r : c.b)
      if (c.only_b.count(r.path)) expected.push_back(r);
    for (const auto& [p, changes] : c.paired) {
      const bool seen = !(changes & (mask | Attr::type)).empty();
      expected.push_back(seen ? *c.b.find(p) : *c.a.find(p));
      if (!seen && !changes.empty()) ++masked_out;
    }
    std::size_t modified_under_mask = 0;
    for (const DiffEntry& e : dm) {
      if (e.change != Change::modified) continue;
      ++modified_under_mask;
      ASSERT_EQ(e.changed, c.modified.at(std::string(e.path())) & (mask | Attr::type)) << e.path();
    }
    ASSERT_EQ(count(dm).added, counts.added);
    ASSERT_EQ(count(dm).removed, counts.removed);
    ASSERT_EQ(apply_diff(c.a, dm), manifest(std::move(expected)));
    ASSERT_LE(modified_under_mask, counts.modified);
  }
  // The generator exercised every kind of difference, many times.
  EXPECT_GT(total_added, 1000u);
  EXPECT_GT(total_removed, 1000u);
  EXPECT_GT(total_modified, 1000u);
  EXPECT_GT(masked_out, 100u);
}

}  // namespace
}  // namespace tb
