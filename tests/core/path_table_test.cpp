// PathTable: the signature index's path map, checked against std::unordered_map.
#include "core/path_table.h"

#include <deque>
#include <random>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

namespace tb {
namespace {

TEST(PathTable, EmptyFindsNothing) {
  const PathTable table;
  EXPECT_FALSE(table.find("/etc/hosts"));
  EXPECT_FALSE(table.contains(""));
  EXPECT_EQ(table.size(), 0u);
}

TEST(PathTable, FirstValueStaysAndTheInsertionIsReported) {
  PathTable table;
  EXPECT_EQ(table.try_emplace("/a", 7), std::make_pair(std::uint32_t{7}, true));
  EXPECT_EQ(table.try_emplace("/a", 9), std::make_pair(std::uint32_t{7}, false));
  EXPECT_EQ(table.try_emplace("", 3), std::make_pair(std::uint32_t{3}, true));  // the empty key is a key
  EXPECT_EQ(table.find("/a"), 7u);
  EXPECT_EQ(table.find(""), 3u);
  EXPECT_FALSE(table.find("/a/"));
  EXPECT_EQ(table.size(), 2u);
}

TEST(PathTable, AgreesWithUnorderedMapThroughGrowth) {
  // Growth from empty (no reserve) through many rehashes, paths sharing long prefixes, and
  // look-ups of absent keys that differ from present ones by a byte.
  std::mt19937_64 rng(11);
  std::deque<std::string> keys;  // stable storage: the table keeps views
  std::unordered_map<std::string, std::uint32_t> reference;
  PathTable table;
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    keys.push_back("/opt/product" + std::to_string(rng() % 7) + "/lib/module" + std::to_string(rng() % 300) + "/f" +
                   std::to_string(rng() % 50));
    const auto [value, inserted] = table.try_emplace(keys.back(), i);
    const auto [it, ref_inserted] = reference.try_emplace(keys.back(), i);
    ASSERT_EQ(inserted, ref_inserted) << keys.back();
    ASSERT_EQ(value, it->second) << keys.back();
  }
  EXPECT_EQ(table.size(), reference.size());
  for (const auto& [key, value] : reference) {
    ASSERT_EQ(table.find(key), value) << key;
    ASSERT_FALSE(table.find(key + "x")) << key;
    ASSERT_FALSE(table.find(key.substr(0, key.size() - 1) + "\xff")) << key;
  }
}

TEST(PathTable, ReserveKeepsWhatIsStored) {
  PathTable table;
  table.try_emplace("/x", 1);
  table.reserve(100'000);
  table.try_emplace("/y", 2);
  EXPECT_EQ(table.find("/x"), 1u);
  EXPECT_EQ(table.find("/y"), 2u);
  EXPECT_EQ(table.size(), 2u);
}

}  // namespace
}  // namespace tb
