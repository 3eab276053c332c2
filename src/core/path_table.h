// A map from path to a 32-bit id, built once and read many times (the signature index's
// paths): open addressing with linear probing in one array of slots that keep each key's
// hash, so a look-up reads one slot and, when the hash matches, the key. The keys are
// views: their strings must outlive the table. std::unordered_map followed a bucket and a
// node per look-up, which was a tenth of a new host's analysis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace tb {

class PathTable {
 public:
  // Room for `n` keys without growing.
  void reserve(std::size_t n);
  // The value stored for `key`, inserting `value` when absent (true when it was).
  std::pair<std::uint32_t, bool> try_emplace(std::string_view key, std::uint32_t value);
  std::optional<std::uint32_t> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view key;
    std::uint32_t value = 0;
    bool used = false;
  };
  static std::uint64_t hash_of(std::string_view key);
  void rehash(std::size_t capacity);

  std::vector<Slot> slots_;  // a power of two in size, at most half full
  std::size_t size_ = 0;
};

}  // namespace tb
