// The server's side of signed scans (core/scan_signature.h): which uploads must be signed,
// and whether a signature holds. Pure: the store lookups (host key, nonce) are the
// caller's, before and after.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/scan_signature.h"
#include "core/sha256.h"
#include "server/auth.h"

namespace tb::server {

struct SigningPolicy {
  // Refuse every unsigned scan. Without it, a host is held to signing once it has a key
  // (a key is never optional for the host that has one: no downgrade by dropping the header).
  bool require = false;
  // How far a signature's time may be from the server's clock, either way (seconds).
  std::int64_t window_s = 300;
};

// What the upload's headers say (already parsed; nullopt when absent).
struct SignedUpload {
  std::optional<ScanSignature> signature;
  std::optional<std::string> offered_key;  // enrolment: the host's new public key, raw
};

// Parses X-Trustbase-Signature and X-Trustbase-Host-Key (empty: absent); 400 when malformed.
tl::expected<SignedUpload, Refusal> read_signing_headers(std::string_view signature_header,
                                                         std::string_view host_key_header);

// Whether the upload may be stored under `host`: `key` is the host's registered key, or on
// enrolment the key the upload offers. nullopt: accepted (signed and valid, or unsigned and
// allowed). `body` is the SHA-256 of the body as sent (needed when signed).
std::optional<Refusal> check_signed_scan(const SigningPolicy& policy, const SignedUpload& upload,
                                         std::string_view host, const std::optional<std::string>& key,
                                         const Sha256Digest& body, std::int64_t now_s);

}  // namespace tb::server
