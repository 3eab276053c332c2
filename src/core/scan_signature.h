// Signed scans: a host proves a scan document is its own with an Ed25519 key (OpenSSL).
// What is signed binds the host name, the time, a one-off nonce and the SHA-256 of the
// body exactly as sent, so a signature cannot be moved to another host, another document
// or replayed later (the server keeps the nonces it has seen within its time window).
//
// On the wire: X-Trustbase-Signature: v1 t=<unix seconds> n=<32 hex> s=<base64 signature>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/sha256.h"

namespace tb {

inline constexpr std::string_view kScanSignatureHeader = "X-Trustbase-Signature";
// Sent with an enrolment: the host's new public key, base64 of the 32 raw bytes.
inline constexpr std::string_view kHostKeyHeader = "X-Trustbase-Host-Key";

struct ScanSignature {
  std::int64_t time = 0;   // seconds since the epoch, when the scanner signed
  std::string nonce;       // 32 lower-case hex digits, random per upload
  std::string signature;   // 64 raw bytes of Ed25519

  bool operator==(const ScanSignature&) const = default;
};

// The bytes signed: a versioned, line-based text no field can spill out of (host names
// carry no newline; the server checks).
std::string scan_signature_message(std::string_view host, std::int64_t time, std::string_view nonce,
                                   const Sha256Digest& body);

std::string format_signature_header(const ScanSignature& signature);
// Strict: exactly the three fields, in order; ErrorCode::parse naming what is wrong.
Expected<ScanSignature> parse_signature_header(std::string_view header);

// 32 raw bytes of an Ed25519 public key <-> base64 (44 characters).
std::string encode_public_key(std::string_view raw);
Expected<std::string> decode_public_key(std::string_view base64);

// True when `signature` is `public_key`'s Ed25519 signature of `message`.
bool verify_ed25519(std::string_view public_key, std::string_view message, std::string_view signature);

// An Ed25519 private key in memory (OpenSSL EVP_PKEY). Move-only.
class SigningKey {
 public:
  static Expected<SigningKey> generate();
  // PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes it.
  static Expected<SigningKey> from_pem(std::string_view pem);
  std::string to_pem() const;

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  std::string public_key() const;  // 32 raw bytes
  std::string sign(std::string_view message) const;  // 64 raw bytes

 private:
  explicit SigningKey(void* key) : key_(key) {}
  void* key_;  // EVP_PKEY*, kept opaque to keep OpenSSL's headers out of this one
};

}  // namespace tb
