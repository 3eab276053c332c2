#include "core/path.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

namespace tb {

Expected<std::string> normalize_path(std::string_view raw, const PathLimits& limits) {
  if (raw.empty()) return fail(ErrorCode::invalid_argument, "empty path");
  if (raw.size() > limits.max_path_bytes)
    return fail(ErrorCode::limit, "path longer than " + std::to_string(limits.max_path_bytes) + " bytes");
  if (raw.front() != '/') return fail(ErrorCode::invalid_argument, "path is not absolute");
  if (raw.find('\0') != std::string_view::npos)
    return fail(ErrorCode::invalid_argument, "path contains a NUL byte");

  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    while (i < raw.size() && raw[i] == '/') ++i;
    std::size_t end = raw.find('/', i);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view name = raw.substr(i, end - i);
    i = end;
    if (name.empty() || name == ".") continue;
    if (name == "..") return fail(ErrorCode::invalid_argument, "path contains a '..' component");
    if (name.size() > limits.max_name_bytes)
      return fail(ErrorCode::limit,
                  "path component longer than " + std::to_string(limits.max_name_bytes) + " bytes");
    out += '/';
    out += name;
  }
  // push_back, not `out = "/"`: GCC 12 at -O2/-O3 reports a false -Wrestrict on the
  // assignment, which breaks the release preset (TB_WERROR=ON).
  if (out.empty()) out.push_back('/');
  return out;
}

bool is_canonical_path(std::string_view p, const PathLimits& limits) noexcept {
  if (p.empty() || p.front() != '/' || p.size() > limits.max_path_bytes) return false;
  if (p.size() == 1) return true;
  if (p.back() == '/') return false;
  std::size_t i = 1;
  while (i <= p.size()) {
    std::size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view name = p.substr(i, end - i);
    if (name.empty() || name == "." || name == ".." || name.size() > limits.max_name_bytes) return false;
    if (name.find('\0') != std::string_view::npos) return false;
    i = end + 1;
  }
  return true;
}

int path_compare(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  // Paths share long prefixes (a directory's entries): skip them eight bytes at a time, and
  // find the first differing byte from the lowest set bit of the XOR (little-endian load).
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little)
        i += static_cast<std::size_t>(std::countr_zero(x ^ y)) / 8;
      else
        i += static_cast<std::size_t>(std::countl_zero(x ^ y)) / 8;
      break;
    }
  }
  for (; i < n; ++i) {
    if (a[i] == b[i]) continue;
    // '/' ranks below every byte so that a parent's subtree is contiguous.
    const unsigned ca = a[i] == '/' ? 0u : static_cast<unsigned char>(a[i]) + 1u;
    const unsigned cb = b[i] == '/' ? 0u : static_cast<unsigned char>(b[i]) + 1u;
    return ca < cb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool path_less(std::string_view a, std::string_view b) noexcept { return path_compare(a, b) < 0; }

bool path_is_under(std::string_view path, std::string_view dir) noexcept {
  if (dir == "/") return path.size() > 1 && path.front() == '/';
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

bool is_plain_text(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t len;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned cc = p[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    // C1 controls and the XML non-characters U+FFFE/U+FFFF cannot be written as text.
    if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) return false;
    i += len;
  }
  return true;
}

}  // namespace tb
