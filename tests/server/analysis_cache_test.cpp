// The server's cache of analyses (server/analysis_cache.h): keyed by chunk list, roots
// and the very index an entry was made with; least recently used out beyond the bound.
#include "server/analysis_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tb::server {
namespace {

std::shared_ptr<const SignatureIndex> empty_index() {
  auto built = SignatureIndex::build({});
  EXPECT_TRUE(built);
  return std::make_shared<const SignatureIndex>(std::move(*built));
}

std::shared_ptr<const Analysis> analysis_with(std::size_t deviations) {
  auto a = std::make_shared<Analysis>();
  for (std::size_t i = 0; i < deviations; ++i) {
    FileDeviation d;
    d.path = "/f" + std::to_string(i);
    a->deviations.push_back(std::move(d));
  }
  return a;
}

TEST(AnalysisCache, HitsOnlyForTheSameChunkListRootsAndIndex) {
  AnalysisCache cache(1 << 20);
  const auto index = empty_index(), other_index = empty_index();
  const Sha256Digest list = Sha256::of("list"), other_list = Sha256::of("other");
  const std::vector<std::string> roots = {"/opt", "/etc"};
  const auto analysis = analysis_with(2);
  cache.add(list, roots, index, analysis);
  EXPECT_EQ(cache.find(list, roots, index), analysis);
  EXPECT_EQ(cache.find(other_list, roots, index), nullptr);
  EXPECT_EQ(cache.find(list, {"/opt"}, index), nullptr);
  EXPECT_EQ(cache.find(list, {"/opt/etc"}, index), nullptr) << "roots are kept apart, not concatenated";
  EXPECT_EQ(cache.find(list, roots, other_index), nullptr) << "an entry made with another index";
  // Made again with the new index: replaced.
  const auto again = analysis_with(3);
  cache.add(list, roots, other_index, again);
  EXPECT_EQ(cache.find(list, roots, other_index), again);
  EXPECT_EQ(cache.find(list, roots, index), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AnalysisCache, AnEntryOfAnIndexThatIsGoneMisses) {
  AnalysisCache cache(1 << 20);
  const Sha256Digest list = Sha256::of("list");
  auto index = empty_index();
  cache.add(list, {}, index, analysis_with(1));
  index.reset();  // the only owner: the index is freed; a new one may take its address
  const auto rebuilt = empty_index();
  EXPECT_EQ(cache.find(list, {}, rebuilt), nullptr);
}

TEST(AnalysisCache, KeepsTheMostRecentlyUsedWithinItsBound) {
  const auto index = empty_index();
  const Sha256Digest a = Sha256::of("a"), b = Sha256::of("b"), c = Sha256::of("c");
  AnalysisCache probe(1 << 20);
  probe.add(a, {}, index, analysis_with(40));
  const std::size_t each = probe.bytes();
  ASSERT_GT(each, AnalysisCache::memory_bytes(*analysis_with(40)));
  EXPECT_GT(AnalysisCache::memory_bytes(*analysis_with(40)), AnalysisCache::memory_bytes(*analysis_with(4)));

  AnalysisCache cache(2 * each + each / 2);  // room for two
  cache.add(a, {}, index, analysis_with(40));
  cache.add(b, {}, index, analysis_with(40));
  EXPECT_NE(cache.find(a, {}, index), nullptr);  // a is now the most recent: b goes first
  cache.add(c, {}, index, analysis_with(40));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_LE(cache.bytes(), 2 * each + each / 2);
  EXPECT_NE(cache.find(a, {}, index), nullptr);
  EXPECT_EQ(cache.find(b, {}, index), nullptr);
  EXPECT_NE(cache.find(c, {}, index), nullptr);
  AnalysisCache none(0);
  none.add(a, {}, index, analysis_with(1));
  EXPECT_EQ(none.find(a, {}, index), nullptr);
}

}  // namespace
}  // namespace tb::server
