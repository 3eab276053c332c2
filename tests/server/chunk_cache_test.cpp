// The server's cache of decoded chunks (server/chunk_cache.h): hits and misses in the
// order asked, a first entry for a digest kept, the least recently used dropped beyond
// the byte bound, and many threads at once.
#include "server/chunk_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/test_records.h"

namespace tb::server {
namespace {

SharedChunk chunk(const std::string& dir, std::size_t files) {
  auto c = std::make_shared<DecodedChunk>();
  c->dir = dir;
  for (std::size_t i = 0; i < files; ++i)
    c->records.push_back(test::file(dir + "/a-file-with-a-long-enough-name-" + std::to_string(i), "x"));
  c->digest = Sha256::of(dir + "#" + std::to_string(files));
  return c;
}

std::vector<Sha256Digest> digests_of(const std::vector<SharedChunk>& chunks) {
  std::vector<Sha256Digest> out;
  for (const auto& c : chunks) out.push_back(c->digest);
  return out;
}

TEST(ChunkCache, FindsWhatWasAddedInTheOrderAsked) {
  ChunkCache cache(1 << 20);
  const std::vector<SharedChunk> chunks = {chunk("/a", 3), chunk("/b", 2)};
  cache.add(chunks);
  const Sha256Digest unknown = Sha256::of("unknown");
  const auto found = cache.find(std::vector<Sha256Digest>{chunks[1]->digest, unknown, chunks[0]->digest});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], chunks[1]);
  EXPECT_EQ(found[1], nullptr);
  EXPECT_EQ(found[2], chunks[0]);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.bytes, chunks[0]->memory_bytes() + chunks[1]->memory_bytes());

  // A second chunk for a known digest changes nothing: an entry is true forever.
  auto other = std::make_shared<DecodedChunk>(*chunk("/c", 1));
  other->digest = chunks[0]->digest;
  cache.add(std::vector<SharedChunk>{other, nullptr});
  EXPECT_EQ(cache.find(std::vector<Sha256Digest>{chunks[0]->digest})[0], chunks[0]);
  EXPECT_EQ(cache.stats().entries, 2u);
}

TEST(ChunkCache, DropsTheLeastRecentlyUsedBeyondItsBound) {
  std::vector<SharedChunk> chunks;
  for (int i = 0; i < 10; ++i) chunks.push_back(chunk("/d" + std::to_string(i), 10));
  const std::size_t each = chunks[0]->memory_bytes();
  ChunkCache cache(each * 4 + each / 2);  // room for four
  cache.add(std::vector<SharedChunk>(chunks.begin(), chunks.begin() + 4));
  cache.find(std::vector<Sha256Digest>{chunks[0]->digest});  // 0 is now the most recent: 1 goes first
  cache.add(std::vector<SharedChunk>{chunks[4]});
  const auto found = cache.find(digests_of(std::vector<SharedChunk>(chunks.begin(), chunks.begin() + 5)));
  EXPECT_NE(found[0], nullptr);
  EXPECT_EQ(found[1], nullptr) << "the least recently used was kept";
  EXPECT_NE(found[2], nullptr);
  EXPECT_NE(found[4], nullptr);
  EXPECT_LE(cache.stats().bytes, each * 4 + each / 2);
  EXPECT_EQ(cache.stats().entries, 4u);

  ChunkCache tiny(each / 2);  // a chunk larger than the whole bound is not kept
  tiny.add(std::vector<SharedChunk>{chunks[0]});
  EXPECT_EQ(tiny.stats().entries, 0u);
  ChunkCache none(0);
  none.add(chunks);
  EXPECT_EQ(none.find(digests_of(chunks))[0], nullptr);
}

TEST(ChunkCache, ManyThreadsAddAndFindAtOnce) {
  std::vector<SharedChunk> chunks;
  for (int i = 0; i < 64; ++i) chunks.push_back(chunk("/t" + std::to_string(i), 4));
  ChunkCache cache(chunks[0]->memory_bytes() * 32);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const std::size_t i = static_cast<std::size_t>((t * 7 + round) % 64);
        cache.add(std::vector<SharedChunk>{chunks[i]});
        for (const SharedChunk& c : cache.find(digests_of(chunks))) {
          if (c) {
            ASSERT_EQ(c->records.size(), 4u);
          }
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.stats().bytes, chunks[0]->memory_bytes() * 32);
  EXPECT_LE(cache.stats().entries, 32u);
}

}  // namespace
}  // namespace tb::server
