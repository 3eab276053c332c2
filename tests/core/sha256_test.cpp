// SHA-256: known answers (FIPS 180-2 / NIST CAVP vectors), streaming and hex.
#include "core/sha256.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace tb {
namespace {

// Known answers, written out so the tests do not depend on the code under test.
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kTwoBlockInput = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view kTwoBlockSha256 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr std::string_view kQuickFoxSha256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";
constexpr std::string_view kMillionASha256 = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
constexpr std::size_t kMillion = 1'000'000;

std::string random_bytes(std::size_t n, std::mt19937_64& rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(Sha256, KnownAnswerEmpty) { EXPECT_EQ(Sha256::of("").hex(), kEmptySha256); }

TEST(Sha256, KnownAnswerAbc) { EXPECT_EQ(Sha256::of("abc").hex(), kAbcSha256); }

TEST(Sha256, KnownAnswerTwoBlocks) { EXPECT_EQ(Sha256::of(kTwoBlockInput).hex(), kTwoBlockSha256); }

TEST(Sha256, KnownAnswerQuickFox) {
  EXPECT_EQ(Sha256::of("The quick brown fox jumps over the lazy dog").hex(), kQuickFoxSha256);
}

TEST(Sha256, KnownAnswerMillionA) {
  const std::string a(kMillion, 'a');
  EXPECT_EQ(Sha256::of(a).hex(), kMillionASha256);
}

TEST(Sha256, MillionAStreamedInOddChunksMatchesKnownAnswer) {
  const std::string a(kMillion, 'a');
  for (std::size_t chunk : {1u, 3u, 7u, 55u, 63u, 64u, 65u, 1000u, 4097u, 65537u}) {
    Sha256 h;
    for (std::size_t off = 0; off < a.size(); off += chunk)
      h.update(std::string_view(a).substr(off, chunk));
    EXPECT_EQ(h.finish().hex(), kMillionASha256) << "chunk " << chunk;
  }
}

TEST(Sha256, StreamingEqualsOneShotAroundBlockBoundaries) {
  std::mt19937_64 rng(20240601);
  // Lengths at the padding edges (55/56 bytes leave no room for the length) and beyond.
  for (std::size_t n : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 127u, 128u, 129u, 1000u, 4096u, 10007u}) {
    const std::string data = random_bytes(n, rng);
    const Sha256Digest one_shot = Sha256::of(data);
    for (int round = 0; round < 20; ++round) {
      Sha256 h;
      std::size_t off = 0;
      while (off < n) {
        const std::size_t len = std::min<std::size_t>(n - off, rng() % 130);  // includes empty updates
        h.update(std::string_view(data).substr(off, len));
        off += len;
      }
      ASSERT_EQ(h.finish(), one_shot) << "length " << n << " round " << round;
    }
  }
}

TEST(Sha256, ByteSpanAndStringViewOverloadsAgree) {
  const std::string s = "abc";
  std::vector<std::byte> bytes;
  for (char c : s) bytes.push_back(static_cast<std::byte>(c));
  Sha256 h;
  h.update(std::span<const std::byte>(bytes));
  EXPECT_EQ(h.finish().hex(), kAbcSha256);
}

TEST(Sha256, FinishResetsForReuse) {
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish().hex(), kAbcSha256);
  EXPECT_EQ(h.finish().hex(), kEmptySha256);  // nothing fed since the reset
  h.update("abc");
  EXPECT_EQ(h.finish().hex(), kAbcSha256);
}

TEST(Sha256, MoveKeepsTheState) {
  Sha256 a;
  a.update("ab");
  Sha256 b(std::move(a));
  b.update("c");
  EXPECT_EQ(b.finish().hex(), kAbcSha256);

  Sha256 c;
  c.update("garbage that is discarded by the assignment");
  Sha256 d;
  d.update("a");
  c = std::move(d);
  c.update("bc");
  EXPECT_EQ(c.finish().hex(), kAbcSha256);
}

TEST(Sha256, EmbeddedNulBytesAreHashed) {
  EXPECT_NE(Sha256::of(std::string_view("a\0b", 3)), Sha256::of("ab"));
  EXPECT_NE(Sha256::of(std::string_view("\0", 1)), Sha256::of(""));
}

TEST(Sha256Digest, DefaultIsAllZero) {
  EXPECT_EQ(Sha256Digest{}.hex(), std::string(64, '0'));
}

TEST(Sha256Digest, HexRoundTrip) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    Sha256Digest d;
    for (auto& b : d.bytes) b = static_cast<std::uint8_t>(rng());
    const std::string hex = d.hex();
    ASSERT_EQ(hex.size(), 64u);
    ASSERT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
    const auto back = Sha256Digest::from_hex(hex);
    ASSERT_TRUE(back.has_value()) << hex;
    ASSERT_EQ(*back, d);
  }
}

TEST(Sha256Digest, FromHexKnownBytes) {
  const auto d = Sha256Digest::from_hex(kAbcSha256);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->bytes[0], 0xba);
  EXPECT_EQ(d->bytes[1], 0x78);
  EXPECT_EQ(d->bytes[31], 0xad);
  EXPECT_EQ(*d, Sha256::of("abc"));
}

TEST(Sha256Digest, FromHexAcceptsUpperAndMixedCase) {
  std::string upper(kAbcSha256);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string mixed(kAbcSha256);
  for (std::size_t i = 0; i < mixed.size(); i += 2)
    mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
  EXPECT_EQ(Sha256Digest::from_hex(upper), Sha256::of("abc"));
  EXPECT_EQ(Sha256Digest::from_hex(mixed), Sha256::of("abc"));
  // hex() always writes lower case.
  EXPECT_EQ(Sha256Digest::from_hex(upper)->hex(), kAbcSha256);
}

TEST(Sha256Digest, FromHexRejectsBadInput) {
  const std::string good(kAbcSha256);
  ASSERT_TRUE(Sha256Digest::from_hex(good).has_value());  // the mutations below are what fails

  EXPECT_FALSE(Sha256Digest::from_hex(""));
  EXPECT_FALSE(Sha256Digest::from_hex(good.substr(0, 63)));         // too short
  EXPECT_FALSE(Sha256Digest::from_hex(good + "0"));                 // too long
  EXPECT_FALSE(Sha256Digest::from_hex(good + good));                // SHA-512 length
  EXPECT_FALSE(Sha256Digest::from_hex(" " + good.substr(1)));       // space
  EXPECT_FALSE(Sha256Digest::from_hex(good.substr(0, 63) + "\n"));  // trailing newline
  EXPECT_FALSE(Sha256Digest::from_hex("0x" + good.substr(2)));      // prefix
  EXPECT_FALSE(Sha256Digest::from_hex(good.substr(0, 62) + "-1"));  // sign

  // Every non-hex byte value, at the first, an odd and the last position.
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool is_hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    for (std::size_t pos : {0u, 33u, 63u}) {
      std::string s = good;
      s[pos] = ch;
      EXPECT_EQ(Sha256Digest::from_hex(s).has_value(), is_hex) << "byte " << c << " at " << pos;
    }
  }
}

TEST(Sha256Digest, OrderingIsBytewise) {
  Sha256Digest lo, hi;
  hi.bytes[0] = 1;
  lo.bytes[31] = 0xFF;
  EXPECT_LT(lo, hi);
  EXPECT_NE(lo, hi);
  EXPECT_EQ(lo, lo);
}

}  // namespace
}  // namespace tb
