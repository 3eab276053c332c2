// Paths of file records: absolute, '/'-separated byte strings (Linux names are bytes,
// not text), with one total order shared by the scanner, manifests and the diff.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tb {

// Bounds applied to every path that enters trustbase from outside.
struct PathLimits {
  std::size_t max_path_bytes = 16 * 1024;  // whole path; Linux PATH_MAX is 4096 but deep
                                           // trees walked with openat() can go beyond it
  std::size_t max_name_bytes = 255;        // one component (NAME_MAX on every Linux fs)
};

// Returns the canonical form of an absolute path: single separators, no "." components,
// no trailing slash ("/" stays "/"). Rejects, never resolves: relative paths, "..",
// NUL bytes, empty input and anything over the limits. Pure: touches no file system.
Expected<std::string> normalize_path(std::string_view raw, const PathLimits& limits = {});

// True when `path` is already what normalize_path() would return (no allocation).
bool is_canonical_path(std::string_view path, const PathLimits& limits = {}) noexcept;

// The manifest order: component by component, each compared as unsigned bytes.
// Equivalent to a byte comparison where '/' sorts before every other byte, so a
// directory is immediately followed by its whole subtree ("/a", "/a/b", "/a-b").
// A depth-first walk that visits names in byte order produces exactly this order.
bool path_less(std::string_view a, std::string_view b) noexcept;
int path_compare(std::string_view a, std::string_view b) noexcept;

// True when `path` is strictly below directory `dir` (both canonical).
bool path_is_under(std::string_view path, std::string_view dir) noexcept;

// True when the bytes are well-formed UTF-8 (no overlongs, no surrogates) without C0
// control characters or DEL: such a path can be written as plain text in XML and JSON.
bool is_plain_text(std::string_view bytes) noexcept;

}  // namespace tb
