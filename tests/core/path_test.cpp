// Paths: normalisation, the canonical-form predicate, the manifest order, and plain-text checks.
#include "core/path.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace tb {
namespace {

using namespace std::string_literals;

std::string normalized(std::string_view raw, const PathLimits& limits = {}) {
  auto r = normalize_path(raw, limits);
  return r ? *r : "<error: " + r.error().message + ">";
}

ErrorCode error_of(std::string_view raw, const PathLimits& limits = {}) {
  auto r = normalize_path(raw, limits);
  EXPECT_FALSE(r.has_value()) << "accepted " << raw << " as " << *r;
  return r ? ErrorCode::internal : r.error().code;
}

// ---------------------------------------------------------------- normalize_path

TEST(NormalizePath, CanonicalPathsAreUnchanged) {
  for (const char* p : {"/", "/a", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/a/.b/..c/...", "/a b/\xff\xfe"})
    EXPECT_EQ(normalized(p), p);
}

TEST(NormalizePath, RootStaysRoot) {
  EXPECT_EQ(normalized("/"), "/");
  EXPECT_EQ(normalized("//"), "/");
  EXPECT_EQ(normalized("///"), "/");
  EXPECT_EQ(normalized("/."), "/");
  EXPECT_EQ(normalized("/./"), "/");
  EXPECT_EQ(normalized("/././/."), "/");
}

TEST(NormalizePath, CollapsesSeparators) {
  EXPECT_EQ(normalized("//a"), "/a");
  EXPECT_EQ(normalized("/a//b"), "/a/b");
  EXPECT_EQ(normalized("/a////b///c"), "/a/b/c");
}

TEST(NormalizePath, DropsDotComponentsAndTrailingSlash) {
  EXPECT_EQ(normalized("/a/./b"), "/a/b");
  EXPECT_EQ(normalized("/./a"), "/a");
  EXPECT_EQ(normalized("/a/."), "/a");
  EXPECT_EQ(normalized("/a/"), "/a");
  EXPECT_EQ(normalized("/a/b//"), "/a/b");
  EXPECT_EQ(normalized("/a/./././b/."), "/a/b");
}

TEST(NormalizePath, KeepsNamesThatOnlyStartWithDots) {
  EXPECT_EQ(normalized("/.hidden"), "/.hidden");
  EXPECT_EQ(normalized("/a/..b"), "/a/..b");
  EXPECT_EQ(normalized("/a/b.."), "/a/b..");
  EXPECT_EQ(normalized("/a/..."), "/a/...");
}

TEST(NormalizePath, RejectsDotDotInsteadOfResolvingIt) {
  EXPECT_EQ(error_of("/.."), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a/.."), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a/../b"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a/b/../"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a//..//b"), ErrorCode::invalid_argument);
}

TEST(NormalizePath, RejectsRelativeAndEmpty) {
  EXPECT_EQ(error_of(""), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("a"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("a/b"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("./a"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("."), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(" /a"), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("~/a"), ErrorCode::invalid_argument);
}

TEST(NormalizePath, RejectsNulAnywhere) {
  EXPECT_EQ(error_of("/a\0b"s), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/\0"s), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a/\0"s), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of("/a\0"s), ErrorCode::invalid_argument);
}

TEST(NormalizePath, PathLengthLimit) {
  const PathLimits def;
  ASSERT_EQ(def.max_path_bytes, 16u * 1024);
  // Components of 200 bytes, padded to exactly the limit.
  std::string p;
  while (p.size() + 201 <= def.max_path_bytes) p += "/" + std::string(200, 'n');
  p += "/" + std::string(def.max_path_bytes - p.size() - 1, 'm');
  ASSERT_EQ(p.size(), def.max_path_bytes);
  EXPECT_EQ(normalized(p), p);
  EXPECT_TRUE(is_canonical_path(p));
  const std::string over = p + "x";
  EXPECT_EQ(error_of(over), ErrorCode::limit);
  EXPECT_FALSE(is_canonical_path(over));

  const PathLimits small{.max_path_bytes = 8, .max_name_bytes = 255};
  EXPECT_EQ(normalized("/abc/def", small), "/abc/def");
  EXPECT_EQ(error_of("/abc/defg", small), ErrorCode::limit);
  EXPECT_TRUE(is_canonical_path("/abc/def", small));
  EXPECT_FALSE(is_canonical_path("/abc/defg", small));
}

TEST(NormalizePath, NameLengthLimit) {
  const PathLimits def;
  ASSERT_EQ(def.max_name_bytes, 255u);
  const std::string name255(255, 'n');
  const std::string name256(256, 'n');
  EXPECT_EQ(normalized("/a/" + name255 + "/b"), "/a/" + name255 + "/b");
  EXPECT_EQ(error_of("/a/" + name256 + "/b"), ErrorCode::limit);
  EXPECT_EQ(error_of("/" + name256), ErrorCode::limit);
  EXPECT_TRUE(is_canonical_path("/" + name255));
  EXPECT_FALSE(is_canonical_path("/" + name256));
  EXPECT_FALSE(is_canonical_path("/a/" + name256 + "/b"));

  const PathLimits small{.max_path_bytes = 100, .max_name_bytes = 3};
  EXPECT_EQ(normalized("/abc/./de", small), "/abc/de");
  EXPECT_EQ(error_of("/abcd", small), ErrorCode::limit);
  EXPECT_TRUE(is_canonical_path("/abc/de", small));
  EXPECT_FALSE(is_canonical_path("/abcd", small));
}

TEST(NormalizePath, OutputIsCanonicalAndIdempotent) {
  for (const char* raw : {"/", "//a//b/", "/./x/./y/.", "/a/...", "/\xff//\x80"}) {
    const std::string once = normalized(raw);
    EXPECT_TRUE(is_canonical_path(once)) << once;
    EXPECT_EQ(normalized(once), once);
  }
}

// ---------------------------------------------------------------- is_canonical_path

TEST(IsCanonicalPath, Examples) {
  EXPECT_TRUE(is_canonical_path("/"));
  EXPECT_TRUE(is_canonical_path("/a"));
  EXPECT_TRUE(is_canonical_path("/a/b.c/.d"));
  EXPECT_FALSE(is_canonical_path(""));
  EXPECT_FALSE(is_canonical_path("a"));
  EXPECT_FALSE(is_canonical_path("//"));
  EXPECT_FALSE(is_canonical_path("//a"));
  EXPECT_FALSE(is_canonical_path("/a/"));
  EXPECT_FALSE(is_canonical_path("/a//b"));
  EXPECT_FALSE(is_canonical_path("/."));
  EXPECT_FALSE(is_canonical_path("/a/."));
  EXPECT_FALSE(is_canonical_path("/a/./b"));
  EXPECT_FALSE(is_canonical_path("/.."));
  EXPECT_FALSE(is_canonical_path("/a/../b"));
  EXPECT_FALSE(is_canonical_path("/a\0b"s));
  EXPECT_FALSE(is_canonical_path("/\0"s));
}

// Random strings over a small alphabet, half of them built from path-like pieces so
// that a good share is canonical.
std::string random_raw_path(std::mt19937_64& rng) {
  static constexpr char kBytes[] = {'/', '/', '.', '.', 'a', 'b', '\0', '\xff'};
  std::string s;
  if (rng() % 2 == 0) {
    const std::size_t n = rng() % 14;
    for (std::size_t i = 0; i < n; ++i) s += kBytes[rng() % sizeof kBytes];
    return s;
  }
  static constexpr std::string_view kPieces[] = {"/", "//", "/.", "/..", "/a", "/b", "/ab", "/abc", "/abcd",
                                                 "/.a", "/a.", "/..a", "/a\xff", "/aa", "/b.b"};
  if (rng() % 10 == 0) s += "a";  // relative
  const std::size_t n = rng() % 5;
  for (std::size_t i = 0; i < n; ++i) s += kPieces[rng() % std::size(kPieces)];
  if (rng() % 8 == 0) s += "/";
  return s;
}

TEST(IsCanonicalPath, AgreesWithNormalizePathOnRandomInputs) {
  std::mt19937_64 rng(0x5eed);
  const PathLimits limits[] = {PathLimits{}, PathLimits{.max_path_bytes = 12, .max_name_bytes = 3}};
  for (const PathLimits& lim : limits) {
    int canonical = 0, normalizable = 0, rejected = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::string raw = random_raw_path(rng);
      const auto norm = normalize_path(raw, lim);
      const bool canon = is_canonical_path(raw, lim);
      ASSERT_EQ(canon, norm.has_value() && *norm == raw) << "raw '" << raw << "' (" << raw.size() << " bytes)";
      if (norm) {
        ++normalizable;
        ASSERT_TRUE(is_canonical_path(*norm, lim)) << *norm;
        ASSERT_LE(norm->size(), raw.size());
        auto again = normalize_path(*norm, lim);
        ASSERT_TRUE(again.has_value());
        ASSERT_EQ(*again, *norm);
      } else {
        ++rejected;
      }
      canonical += canon;
    }
    // The generator must exercise every branch, or the property proves nothing.
    EXPECT_GT(canonical, 1000);
    EXPECT_GT(normalizable - canonical, 1000);
    EXPECT_GT(rejected, 1000);
  }
}

// ---------------------------------------------------------------- path order

int sign(int v) { return (v > 0) - (v < 0); }

TEST(PathOrder, DirectoryIsFollowedByItsSubtree) {
  EXPECT_TRUE(path_less("/a", "/a/b"));
  EXPECT_TRUE(path_less("/a/b", "/a-b"));
  EXPECT_TRUE(path_less("/a", "/a-b"));
  EXPECT_TRUE(path_less("/a/b/c/d", "/a-b"));
  EXPECT_TRUE(path_less("/a/zzz", "/a.b"));
  EXPECT_TRUE(path_less("/a/b", "/a!"));  // '!' (0x21) is below '/' as a byte, not as a path
  EXPECT_TRUE(path_less("/a/b", "/a b"));
  EXPECT_TRUE(path_less("/a/b", "/a0"));
  EXPECT_TRUE(path_less("/", "/a"));
  EXPECT_TRUE(path_less("/", "/!"));
  EXPECT_FALSE(path_less("/a-b", "/a/b"));
  EXPECT_FALSE(path_less("/a/b", "/a"));
  // Plain byte order still applies within a component.
  EXPECT_TRUE(path_less("/a!", "/a-b"));
  EXPECT_TRUE(path_less("/A", "/a"));
  EXPECT_TRUE(path_less("/ab", "/b"));
  EXPECT_TRUE(path_less("/a/b", "/a/c"));
  EXPECT_TRUE(path_less("/lib/x", "/lib64"));
}

TEST(PathOrder, HighBytesCompareUnsigned) {
  EXPECT_TRUE(path_less("/z", "/\x80"));
  EXPECT_TRUE(path_less("/\x7f", "/\x80"));
  EXPECT_TRUE(path_less("/\x80", "/\xff"));
  EXPECT_TRUE(path_less("/a/\xff", "/a\x01"));  // separator still lowest
  EXPECT_FALSE(path_less("/caf\xc3\xa9", "/cafz"));
  EXPECT_TRUE(path_less("/cafz", "/caf\xc3\xa9"));
  EXPECT_LT(path_compare("/\x01", "/\xff"), 0);
  EXPECT_GT(path_compare("/\xff", "/\x01"), 0);
}

// The order by definition, one byte at a time: the reference for the word-at-a-time compare.
int reference_path_compare(std::string_view a, std::string_view b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) continue;
    const unsigned ca = a[i] == '/' ? 0u : static_cast<unsigned char>(a[i]) + 1u;
    const unsigned cb = b[i] == '/' ? 0u : static_cast<unsigned char>(b[i]) + 1u;
    return ca < cb ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

TEST(PathOrder, LongSharedPrefixesDifferAtEveryOffset) {
  // Differences at each position of several eight-byte words, with '/' and high bytes on
  // either side: the compare skips equal words and must find the very first difference.
  static constexpr char kBytes[] = {'/', 'a', 'b', '!', '\x01', '\x7f', '\x80', '\xff', '-', '.'};
  const std::string base = "/opt/product3/lib/module12/file0042.so.1";
  std::mt19937_64 rng(7);
  for (std::size_t at = 0; at < base.size(); ++at)
    for (char x : kBytes)
      for (char y : kBytes) {
        std::string a = base, b = base;
        a[at] = x;
        b[at] = y;
        // Later bytes that differ the other way must not count.
        if (at + 3 < base.size()) b[at + 3] = static_cast<char>(rng());
        for (const auto& [p, q] : {std::pair{a, b}, std::pair{a, b.substr(0, at + 1)}, std::pair{a.substr(0, at), b}}) {
          ASSERT_EQ(sign(path_compare(p, q)), reference_path_compare(p, q)) << p << " vs " << q;
          ASSERT_EQ(path_less(p, q), reference_path_compare(p, q) < 0);
        }
      }
}

TEST(PathOrder, CompareIsConsistentWithLess) {
  EXPECT_EQ(path_compare("/a", "/a"), 0);
  EXPECT_EQ(path_compare("/", "/"), 0);
  EXPECT_EQ(path_compare("", ""), 0);
  EXPECT_LT(path_compare("/a", "/a/b"), 0);
  EXPECT_GT(path_compare("/a-b", "/a/b"), 0);
  EXPECT_FALSE(path_less("/a", "/a"));

  std::mt19937_64 rng(99);
  static constexpr std::string_view kNames[] = {"a", "b", "a-b", "a!", "\x80", "\xff", "", "a/b"};
  for (int i = 0; i < 5000; ++i) {
    const std::string x = "/" + std::string(kNames[rng() % 8]) + "/" + std::string(kNames[rng() % 8]);
    const std::string y = "/" + std::string(kNames[rng() % 8]) + "/" + std::string(kNames[rng() % 8]);
    const int c = path_compare(x, y);
    ASSERT_EQ(sign(c), -sign(path_compare(y, x))) << x << " vs " << y;
    ASSERT_EQ(path_less(x, y), c < 0);
    ASSERT_EQ(c == 0, x == y);
  }
}

// The order spelled out the slow way: map each byte to its rank ('/' lowest, then the
// bytes 0x00..0xFF unsigned) and compare lexicographically, shorter prefix first.
int reference_compare(std::string_view a, std::string_view b) {
  auto rank = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (rank(a[i]) != rank(b[i])) return rank(a[i]) < rank(b[i]) ? -1 : 1;
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

TEST(PathOrder, MatchesReferenceAtEveryOffset) {
  // Long common prefixes with the first difference (or the end of one string) at every
  // offset 0..40, so that word-at-a-time comparison is checked across word boundaries.
  static constexpr char kBytes[] = {'/', 'a', 'b', '-', '.', '\0', '\x01', '\x7f', '\x80', '\xfe', '\xff'};
  std::mt19937_64 rng(31337);
  for (std::size_t prefix = 0; prefix <= 40; ++prefix) {
    for (int k = 0; k < 400; ++k) {
      std::string common;
      for (std::size_t i = 0; i < prefix; ++i) common += kBytes[rng() % sizeof kBytes];
      std::string x = common, y = common;
      const std::size_t tail_x = rng() % 12, tail_y = rng() % 12;
      for (std::size_t i = 0; i < tail_x; ++i) x += kBytes[rng() % sizeof kBytes];
      for (std::size_t i = 0; i < tail_y; ++i) y += kBytes[rng() % sizeof kBytes];
      ASSERT_EQ(sign(path_compare(x, y)), reference_compare(x, y))
          << "prefix " << prefix << " sizes " << x.size() << "," << y.size();
      ASSERT_EQ(sign(path_compare(y, x)), reference_compare(y, x));
    }
  }
  // Views into a larger buffer must not read past their end.
  const std::string buf = "/opt/app/lib/module_1/file_2.so";
  EXPECT_EQ(path_compare(std::string_view(buf).substr(0, 12), std::string_view(buf).substr(0, 12)), 0);
  EXPECT_LT(path_compare(std::string_view(buf).substr(0, 12), std::string_view(buf).substr(0, 13)), 0);
  EXPECT_LT(path_compare(std::string_view(buf).substr(0, 21), std::string_view(buf)), 0);
}

// A random directory tree whose names include bytes below '/' ('!', ' ', '-', '.'),
// digits, letters and bytes >= 0x80.
struct Node {
  std::string name;
  std::vector<Node> children;
};

bool byte_less(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  });
}

void grow(Node& node, int depth, std::mt19937_64& rng) {
  static constexpr char kBytes[] = {'a', 'b', '-', '.', '!', ' ', '0', '~', 'A', '\x01', '\x80', '\xc3', '\xff'};
  if (depth == 0) return;
  const std::size_t n = rng() % 5;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name;
    const std::size_t len = 1 + rng() % 3;
    for (std::size_t k = 0; k < len; ++k) name += kBytes[rng() % sizeof kBytes];
    if (name == "." || name == ".." || std::find(names.begin(), names.end(), name) != names.end()) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end(), byte_less);  // a walker reading a directory in byte order
  for (auto& name : names) {
    node.children.push_back(Node{name, {}});
    grow(node.children.back(), depth - 1, rng);
  }
}

void dfs(const Node& node, const std::string& path, std::vector<std::string>& out) {
  for (const Node& child : node.children) {
    const std::string p = path + "/" + child.name;
    out.push_back(p);
    dfs(child, p, out);
  }
}

TEST(PathOrder, SortingEqualsDepthFirstWalkInByteOrder) {
  std::mt19937_64 rng(4242);
  std::size_t longest = 0;
  for (int iter = 0; iter < 100; ++iter) {
    Node root{"", {}};
    grow(root, 5, rng);
    std::vector<std::string> walk{"/"};
    dfs(root, "", walk);
    longest = std::max(longest, walk.size());

    std::vector<std::string> shuffled = walk;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::sort(shuffled.begin(), shuffled.end(), [](const std::string& a, const std::string& b) {
      return path_less(a, b);
    });
    ASSERT_EQ(shuffled, walk) << "iteration " << iter;
    for (const std::string& p : walk) ASSERT_TRUE(is_canonical_path(p)) << p;
  }
  EXPECT_GT(longest, 50u);  // the trees are not trivially small
}

// ---------------------------------------------------------------- path_is_under

TEST(PathIsUnder, StrictlyBelowOnly) {
  EXPECT_TRUE(path_is_under("/a/b", "/a"));
  EXPECT_TRUE(path_is_under("/a/b/c", "/a"));
  EXPECT_TRUE(path_is_under("/a/b/c", "/a/b"));
  EXPECT_FALSE(path_is_under("/a", "/a"));
  EXPECT_FALSE(path_is_under("/ab", "/a"));
  EXPECT_FALSE(path_is_under("/a-b/c", "/a"));
  EXPECT_FALSE(path_is_under("/a", "/a/b"));
  EXPECT_FALSE(path_is_under("/b/a", "/a"));
}

TEST(PathIsUnder, Root) {
  EXPECT_TRUE(path_is_under("/a", "/"));
  EXPECT_TRUE(path_is_under("/a/b", "/"));
  EXPECT_FALSE(path_is_under("/", "/"));
}

TEST(PathIsUnder, SubtreeIsContiguousInPathOrder) {
  // Everything under a directory sorts between it and the first path not under it.
  std::vector<std::string> paths = {"/a", "/a/b", "/a/b/c", "/a/z", "/a!", "/a-b", "/a-b/c", "/a0", "/ab", "/b"};
  std::sort(paths.begin(), paths.end(), [](const auto& x, const auto& y) { return path_less(x, y); });
  for (const std::string& d : paths) {
    const auto first = std::find(paths.begin(), paths.end(), d) + 1;
    auto it = first;
    while (it != paths.end() && path_is_under(*it, d)) ++it;
    for (; it != paths.end(); ++it) EXPECT_FALSE(path_is_under(*it, d)) << *it << " under " << d;
  }
}

// ---------------------------------------------------------------- is_plain_text

TEST(IsPlainText, AsciiAndValidUtf8) {
  EXPECT_TRUE(is_plain_text(""));
  EXPECT_TRUE(is_plain_text("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(is_plain_text("a b ~!@#$%^&*()"));
  EXPECT_TRUE(is_plain_text("caf\xc3\xa9"));                // U+00E9
  EXPECT_TRUE(is_plain_text("\xc2\xa0"));                   // U+00A0, first after C1
  EXPECT_TRUE(is_plain_text("\xdf\xbf"));                   // U+07FF, last 2-byte
  EXPECT_TRUE(is_plain_text("\xe0\xa0\x80"));               // U+0800, first 3-byte
  EXPECT_TRUE(is_plain_text("\xe6\x97\xa5\xe6\x9c\xac"));   // 日本
  EXPECT_TRUE(is_plain_text("\xed\x9f\xbf"));               // U+D7FF, before surrogates
  EXPECT_TRUE(is_plain_text("\xee\x80\x80"));               // U+E000, after surrogates
  EXPECT_TRUE(is_plain_text("\xef\xbf\xbd"));               // U+FFFD
  EXPECT_TRUE(is_plain_text("\xf0\x90\x80\x80"));           // U+10000, first 4-byte
  EXPECT_TRUE(is_plain_text("\xf0\x9f\x98\x80"));           // U+1F600
  EXPECT_TRUE(is_plain_text("\xf4\x8f\xbf\xbf"));           // U+10FFFF, last code point
}

TEST(IsPlainText, RejectsControlCharacters) {
  EXPECT_FALSE(is_plain_text("\0"s));
  EXPECT_FALSE(is_plain_text("a\0b"s));
  for (int c = 1; c < 0x20; ++c) EXPECT_FALSE(is_plain_text(std::string(1, static_cast<char>(c)))) << c;
  EXPECT_FALSE(is_plain_text("\x7f"));
  EXPECT_FALSE(is_plain_text("a\tb"));
  EXPECT_FALSE(is_plain_text("a\nb"));
  EXPECT_TRUE(is_plain_text(" "));
  EXPECT_TRUE(is_plain_text("~"));
}

TEST(IsPlainText, RejectsC1AndNonCharacters) {
  EXPECT_FALSE(is_plain_text("\xc2\x80"));      // U+0080
  EXPECT_FALSE(is_plain_text("\xc2\x85"));      // NEL
  EXPECT_FALSE(is_plain_text("\xc2\x9f"));      // U+009F
  EXPECT_FALSE(is_plain_text("\xef\xbf\xbe"));  // U+FFFE
  EXPECT_FALSE(is_plain_text("\xef\xbf\xbf"));  // U+FFFF
}

TEST(IsPlainText, RejectsOverlongEncodings) {
  EXPECT_FALSE(is_plain_text("\xc0\xaf"));          // '/' in 2 bytes
  EXPECT_FALSE(is_plain_text("\xc0\x80"));          // NUL in 2 bytes (modified UTF-8)
  EXPECT_FALSE(is_plain_text("\xc1\xbf"));          // U+007F in 2 bytes
  EXPECT_FALSE(is_plain_text("\xe0\x80\xaf"));      // '/' in 3 bytes
  EXPECT_FALSE(is_plain_text("\xe0\x9f\xbf"));      // U+07FF in 3 bytes
  EXPECT_FALSE(is_plain_text("\xf0\x80\x80\xaf"));  // '/' in 4 bytes
  EXPECT_FALSE(is_plain_text("\xf0\x8f\xbf\xbf"));  // U+FFFF in 4 bytes
}

TEST(IsPlainText, RejectsSurrogatesAndOutOfRange) {
  EXPECT_FALSE(is_plain_text("\xed\xa0\x80"));                  // U+D800
  EXPECT_FALSE(is_plain_text("\xed\xbf\xbf"));                  // U+DFFF
  EXPECT_FALSE(is_plain_text("\xed\xa0\xbd\xed\xb8\x80"));      // CESU-8 pair
  EXPECT_FALSE(is_plain_text("\xf4\x90\x80\x80"));              // U+110000
  EXPECT_FALSE(is_plain_text("\xf7\xbf\xbf\xbf"));              // U+1FFFFF
}

TEST(IsPlainText, RejectsMalformedSequences) {
  EXPECT_FALSE(is_plain_text("\x80"));              // lone continuation
  EXPECT_FALSE(is_plain_text("a\xbf" "b"));
  EXPECT_FALSE(is_plain_text("\xc3"));              // truncated at the end
  EXPECT_FALSE(is_plain_text("\xe6\x97"));
  EXPECT_FALSE(is_plain_text("\xf0\x9f\x98"));
  EXPECT_FALSE(is_plain_text("\xc3" "a"));          // continuation missing
  EXPECT_FALSE(is_plain_text("\xe6\x97" "a"));
  EXPECT_FALSE(is_plain_text("\xe6" "a\x97"));
  EXPECT_FALSE(is_plain_text("\xf8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(is_plain_text("\xfc\x84\x80\x80\x80\x80"));
  EXPECT_FALSE(is_plain_text("\xfe"));
  EXPECT_FALSE(is_plain_text("\xff"));
  EXPECT_FALSE(is_plain_text("/ok/\xff/ok"));       // a bad byte in the middle
}

}  // namespace
}  // namespace tb
