// A manifest's digest (format/manifest_chunks.h manifest_digest): its chunk list's, the
// identity stores key manifests by and reports show as manifest_sha256.
#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/file_record.h"
#include "core/manifest.h"
#include "core/sha256.h"
#include "core/test_records.h"
#include "format/manifest_chunks.h"

namespace tb {
namespace {

using test::dir;
using test::file;
using test::full_record;
using test::kEveryAttr;
using test::manifest;
using test::symlink;

// Digests of fixed manifests, computed independently (Python hashlib over the chunk layout
// documented in format/manifest_chunks.h). Stored manifests are addressed by these: a change
// here breaks every store (schema migration 10 moved them from a digest over every record),
// so it must be deliberate.
constexpr std::string_view kEmptyManifestDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kOneFileManifestDigest = "4eb75fc1c71c1a20c80b7f98527e49a22eb3419c961f40bf42d2e45a73643cd7";
constexpr std::string_view kFileAndLinkManifestDigest = "72d7c904aa8136bc908d140d088cd08b908b8a42531c30bd48ee9bddf0a743b7";

TEST(ManifestDigest, KnownAnswers) {
  EXPECT_EQ(manifest_digest(Manifest()).hex(), kEmptyManifestDigest);

  FileRecord hosts;
  hosts.path = "/etc/hosts";
  hosts.type = FileType::file;
  hosts.present = test::kFileAttrs;
  hosts.size = 123;
  hosts.mode = 0644;
  hosts.mtime_ns = 1'700'000'000'123'456'789;
  hosts.sha256 = Sha256::of("abc");
  EXPECT_EQ(manifest_digest(manifest({hosts})).hex(), kOneFileManifestDigest);

  FileRecord link;
  link.path = "/usr/bin/python3";
  link.type = FileType::symlink;
  link.present = Attr::type | Attr::size | Attr::link_target;
  link.link_target = "/usr/bin/python3.11";
  link.size = link.link_target.size();
  link.mode = 0777;   // not present: not hashed
  link.mtime_ns = 5;  // not present: not hashed
  EXPECT_EQ(manifest_digest(manifest({link, hosts})).hex(), kFileAndLinkManifestDigest);
}

TEST(ManifestDigest, AnySingleFieldChangeChangesTheDigest) {
  std::mt19937_64 rng(2);
  const std::vector<FileRecord> base = {dir("/a"), full_record("/a/f"), symlink("/a/l", "f")};
  const Manifest m = manifest(base);
  const Sha256Digest d = manifest_digest(m);
  std::vector<Sha256Digest> seen{d};
  for (Attr a : kEveryAttr) {
    std::vector<FileRecord> changed = base;
    test::mutate(changed[1], a, rng);
    const Sha256Digest dc = manifest_digest(manifest(changed));
    EXPECT_NE(dc, d) << describe(a);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), dc), 0) << describe(a);
    seen.push_back(dc);
  }
  {  // path
    std::vector<FileRecord> changed = base;
    changed[1].path = "/a/g";
    EXPECT_NE(manifest_digest(manifest(changed)), d);
  }
  {  // one attribute less, same values
    std::vector<FileRecord> changed = base;
    changed[1].present = AttrSet::from_bits(changed[1].present.bits() & ~static_cast<std::uint16_t>(Attr::uid));
    EXPECT_NE(manifest_digest(manifest(changed)), d);
  }
  {  // one record less
    std::vector<FileRecord> changed = base;
    changed.pop_back();
    EXPECT_NE(manifest_digest(manifest(changed)), d);
  }
  {  // a value that is not present does not count (the records are equal)
    std::vector<FileRecord> changed = base;
    changed[0].sha256 = Sha256::of("dirs carry no content");
    changed[2].uid = 1234;
    changed[2].present = AttrSet::from_bits(changed[2].present.bits() & ~static_cast<std::uint16_t>(Attr::uid));
    std::vector<FileRecord> same = base;
    same[2].present = changed[2].present;
    EXPECT_EQ(manifest(changed), manifest(same));
    EXPECT_EQ(manifest_digest(manifest(changed)), manifest_digest(manifest(same)));
  }
}

TEST(ManifestDigest, FieldsAreDelimited) {
  // Moving bytes between the path and the link target must change the digest.
  FileRecord a = symlink("/ab", "c");
  FileRecord b = symlink("/a", "bc");
  b.size = a.size;  // same size, so only the split differs
  EXPECT_NE(manifest_digest(manifest({a})), manifest_digest(manifest({b})));
  // Moving bytes between two records' paths too.
  FileRecord x = dir("/a"), y = dir("/bc");
  FileRecord x2 = dir("/ab"), y2 = dir("/c");
  EXPECT_NE(manifest_digest(manifest({x, y})), manifest_digest(manifest({x2, y2})));
}

TEST(ManifestDigest, InsertionOrderIsIrrelevant) {
  std::mt19937_64 rng(3);
  std::vector<FileRecord> records;
  for (int i = 0; i < 200; ++i) {
    std::string p = "/opt/app/m" + std::to_string(rng() % 20) + "/f" + std::to_string(i);
    records.push_back(test::random_record(std::move(p), rng));
  }
  const Sha256Digest d = manifest_digest(manifest(records));
  for (int i = 0; i < 10; ++i) {
    std::shuffle(records.begin(), records.end(), rng);
    EXPECT_EQ(manifest_digest(manifest(records)), d);
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
    ASSERT_EQ(same, manifest_digest(ma) == manifest_digest(mb)) << "iteration " << iter;
    (same ? equal : different)++;
  }
  EXPECT_GT(equal, 100);
  EXPECT_GT(different, 100);
}

TEST(ManifestDigest, IsTheChunkListDigest) {
  // manifest_digest() = SHA-256 over the SHA-256 of each chunk's encoding, in split order:
  // what a chunked upload names its manifest by, without a pass over the records.
  const Manifest m = manifest({dir("/a"), file("/a/f"), symlink("/l", "a/f"), file("/a/b/g")});
  const std::vector<ChunkView> split = split_into_chunks(m);
  ASSERT_EQ(split.size(), 3u);  // "/" (/a, /l), "/a" (/a/f), "/a/b" (/a/b/g)
  Sha256 list;
  for (const ChunkView& chunk : split) {
    std::string encoded;
    encode_chunk(chunk, encoded);
    const Sha256Digest d = Sha256::of(encoded);
    list.update(std::string_view(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()));
  }
  EXPECT_EQ(list.finish(), manifest_digest(m));
  EXPECT_EQ(chunk_list_digest(chunk_digests(split)), manifest_digest(m));
}

}  // namespace
}  // namespace tb
