#include "server/scan_signing.h"

namespace tb::server {

tl::expected<SignedUpload, Refusal> read_signing_headers(std::string_view signature_header,
                                                         std::string_view host_key_header) {
  SignedUpload upload;
  if (!signature_header.empty()) {
    auto parsed = parse_signature_header(signature_header);
    if (!parsed) return tl::unexpected(Refusal{400, parsed.error().message});
    upload.signature = std::move(*parsed);
  }
  if (!host_key_header.empty()) {
    auto key = decode_public_key(host_key_header);
    if (!key) return tl::unexpected(Refusal{400, std::string(kHostKeyHeader) + ": " + key.error().message});
    upload.offered_key = std::move(*key);
  }
  return upload;
}

std::optional<Refusal> check_signed_scan(const SigningPolicy& policy, const SignedUpload& upload,
                                         std::string_view host, const std::optional<std::string>& key,
                                         const Sha256Digest& body, std::int64_t now_s) {
  const std::string who = "host '" + std::string(host) + "'";
  if (!upload.signature) {
    if (key) return Refusal{403, "unsigned scan refused: " + who + " signs its scans (its key is registered)"};
    if (policy.require) return Refusal{403, "unsigned scan refused: this server accepts signed scans only"};
    return std::nullopt;
  }
  if (!key)
    return Refusal{403, "signed scan refused: no public key is registered for " + who +
                            " (trustbase host key --host NAME --public-key KEY)"};
  const ScanSignature& s = *upload.signature;
  if (s.time < now_s - policy.window_s || s.time > now_s + policy.window_s)
    return Refusal{403, "signed scan refused: signed at " + std::to_string(s.time) + ", more than " +
                            std::to_string(policy.window_s) + " s from the server's clock (" + std::to_string(now_s) +
                            "): a replay, or a clock to fix"};
  if (host.find('\n') != std::string_view::npos) return Refusal{400, "a host name may not contain a newline"};
  if (!verify_ed25519(*key, scan_signature_message(host, s.time, s.nonce, body), s.signature))
    return Refusal{403, "signed scan refused: the signature does not match " + who +
                            "'s key and this body (altered in transit, signed for another host, or the wrong key)"};
  return std::nullopt;
}

}  // namespace tb::server
