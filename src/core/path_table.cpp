#include "core/path_table.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace tb {

std::uint64_t PathTable::hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

void PathTable::reserve(std::size_t n) {
  const std::size_t wanted = std::bit_ceil(std::max<std::size_t>(16, 2 * n));
  if (wanted > slots_.size()) rehash(wanted);
}

void PathTable::rehash(std::size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  const std::size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (!s.used) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::pair<std::uint32_t, bool> PathTable::try_emplace(std::string_view key, std::uint32_t value) {
  if (2 * (size_ + 1) > slots_.size()) rehash(std::max<std::size_t>(16, 2 * slots_.size()));
  const std::uint64_t hash = hash_of(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (!s.used) {
      s = Slot{hash, key, value, true};
      ++size_;
      return {value, true};
    }
    if (s.hash == hash && s.key == key) return {s.value, false};
  }
}

std::optional<std::uint32_t> PathTable::find(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const std::uint64_t hash = hash_of(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.used) return std::nullopt;  // at most half full: an empty slot always ends the probe
    if (s.hash == hash && s.key == key) return s.value;
  }
}

}  // namespace tb
