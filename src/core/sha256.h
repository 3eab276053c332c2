// SHA-256, the one digest algorithm of trustbase, behind a small streaming API.
// Wraps OpenSSL EVP so the SHA-NI / AVX2 code paths are used where the CPU has them.
#pragma once

#include <array>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace tb {

// A SHA-256 digest as raw bytes. Value type: compare, copy, hash freely.
struct Sha256Digest {
  std::array<std::uint8_t, 32> bytes{};

  auto operator<=>(const Sha256Digest&) const = default;

  // Lower-case hex, 64 characters.
  std::string hex() const;
  // Accepts exactly 64 hex digits (either case); nullopt otherwise.
  static std::optional<Sha256Digest> from_hex(std::string_view hex);
};

// For unordered containers keyed by digest.
struct Sha256DigestHash {
  std::size_t operator()(const Sha256Digest& d) const noexcept {
    // A SHA-256 is already uniformly distributed: its first bytes are a perfect hash.
    std::size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);
    return h;
  }
};

// Streaming hasher: update() any number of times, then finish() once.
// Not thread-safe; give each thread its own (construction is cheap).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  // Returns the digest and resets the hasher for reuse.
  Sha256Digest finish();
  // Discards any input given since the last finish().
  void reset();

  // One-shot convenience.
  static Sha256Digest of(std::string_view data);

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace tb
