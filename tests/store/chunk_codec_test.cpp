// The chunk encoding on its own: splitting by directory, round trips, corrupt input.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "core/test_records.h"
#include "store/chunk_codec.h"

namespace tb::store {
namespace {

using test::dir;
using test::file;
using test::symlink;

TEST(ChunkCodec, SplitsByParentDirectoryWithDirectoriesInTheirParentsChunk) {
  const Manifest m = test::manifest({dir("/"), dir("/a"), file("/a/x"), dir("/a/b"), file("/a/b/y"), file("/a/z"), file("/c")});
  const auto chunks = split_into_chunks(m);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].dir, "");
  EXPECT_EQ(chunks[1].dir, "/");
  EXPECT_EQ(chunks[2].dir, "/a");
  EXPECT_EQ(chunks[3].dir, "/a/b");
  ASSERT_EQ(chunks[2].records.size(), 3u);  // /a/b (the directory), /a/x, /a/z
  EXPECT_EQ(chunks[2].records[0]->path, "/a/b");
  EXPECT_EQ(chunks[2].records[2]->path, "/a/z");
}

TEST(ChunkCodec, RandomManifestsRoundTripThroughTheirChunks) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<FileRecord> records;
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
      std::string p = test::random_canonical_path(rng, 5);
      if (seen.insert(p).second) records.push_back(test::random_record(p, rng));
    }
    records.back().mtime_ns = -5;  // before the epoch: deltas must be signed
    const Manifest m = test::manifest(records);
    std::vector<FileRecord> decoded;
    for (const ChunkView& c : split_into_chunks(m)) {
      std::string data;
      encode_chunk(c, data);
      ASSERT_TRUE(decode_chunk(data, decoded).has_value());
    }
    auto back = Manifest::from_records(std::move(decoded));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, m);
  }
}

TEST(ChunkCodec, EveryTruncationOrTrailingByteIsAParseErrorNotACrash) {
  const Manifest m = test::manifest({file("/d/one"), symlink("/d/two", "one"), dir("/d/three")});
  std::string data;
  encode_chunk(split_into_chunks(m)[0], data);
  for (std::size_t n = 0; n < data.size(); ++n) {
    std::vector<FileRecord> out;
    auto r = decode_chunk(std::string_view(data).substr(0, n), out);
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, ErrorCode::parse);
  }
  std::vector<FileRecord> out;
  EXPECT_FALSE(decode_chunk(data + "x", out).has_value());
}

TEST(ChunkCodec, ErrorsAndStringListsRoundTrip) {
  const std::vector<ScanError> errors = {{"/x\xff", ScanErrorKind::open, 13, "Permission denied"},
                                         {"/y", ScanErrorKind::changed, 0, ""},
                                         {"/z", ScanErrorKind::other, -1, "odd"}};
  auto e = decode_scan_errors(encode_scan_errors(errors));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, errors);
  const std::vector<std::string> strings = {"/", "", "*.log", std::string("a\0b", 3)};
  auto s = decode_strings(encode_strings(strings));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, strings);
  EXPECT_FALSE(decode_strings("\x05").has_value());  // count larger than the input
}

// manifests.chunk_ids: 8 bytes big-endian per id, as PostgreSQL's int8send writes them.
TEST(ChunkCodec, ChunkIdListsAreEightBytesBigEndianEach) {
  const std::vector<std::int64_t> ids = {1, 258, 0x0102030405060708, INT64_MAX};
  const std::string list = encode_chunk_ids(ids);
  ASSERT_EQ(list.size(), 32u);
  EXPECT_EQ(list.substr(8, 8), std::string("\0\0\0\0\0\0\x01\x02", 8));
  EXPECT_EQ(list.substr(16, 8), "\x01\x02\x03\x04\x05\x06\x07\x08");
  auto back = decode_chunk_ids(list);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, ids);
  auto none = decode_chunk_ids("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  for (std::size_t cut = 1; cut < 8; ++cut) {  // not a whole number of ids
    auto r = decode_chunk_ids(list.substr(0, list.size() - cut));
    ASSERT_FALSE(r.has_value()) << cut;
    EXPECT_EQ(r.error().code, ErrorCode::parse);
  }
  EXPECT_FALSE(decode_chunk_ids(std::string(8, '\0')).has_value());    // id 0: never a row's
  EXPECT_FALSE(decode_chunk_ids(std::string(8, '\xff')).has_value());  // negative
}

}  // namespace
}  // namespace tb::store
