#include "core/scan_signature.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <memory>

namespace tb {

namespace {

constexpr std::string_view kVersion = "v1";

EVP_PKEY* pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Strict base64 of exactly `size` bytes (no whitespace, canonical padding).
std::optional<std::string> unbase64(std::string_view text, std::size_t size) {
  if (text.size() != 4 * ((size + 2) / 3)) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(size);  // EVP_DecodeBlock counts the padding as zero bytes
  if (base64(out) != text) return std::nullopt;
  return out;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string scan_signature_message(std::string_view host, std::int64_t time, std::string_view nonce,
                                   const Sha256Digest& body) {
  std::string m = "trustbase scan signature v1\n";
  m.append("host ").append(host).append("\n");
  m.append("time ").append(std::to_string(time)).append("\n");
  m.append("nonce ").append(nonce).append("\n");
  m.append("body-sha256 ").append(body.hex()).append("\n");
  return m;
}

std::string format_signature_header(const ScanSignature& s) {
  return std::string(kVersion) + " t=" + std::to_string(s.time) + " n=" + s.nonce + " s=" + base64(s.signature);
}

Expected<ScanSignature> parse_signature_header(std::string_view header) {
  auto bad = [](std::string why) { return fail(ErrorCode::parse, "bad " + std::string(kScanSignatureHeader) + ": " + why); };
  if (header.size() > 256) return bad("too long");
  auto field = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (header.substr(0, prefix.size()) != prefix) return std::nullopt;
    header.remove_prefix(prefix.size());
    const auto space = header.find(' ');
    const std::string_view value = header.substr(0, space);
    header.remove_prefix(space == std::string_view::npos ? header.size() : space + 1);
    return value;
  };
  if (header.substr(0, kVersion.size() + 1) != std::string(kVersion) + " ") return bad("wants version v1 first");
  header.remove_prefix(kVersion.size() + 1);
  ScanSignature s;
  const auto t = field("t=");
  if (!t) return bad("no t=");
  const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), s.time);
  if (ec != std::errc() || end != t->data() + t->size() || s.time <= 0) return bad("t= is not a time");
  const auto n = field("n=");
  if (!n || n->size() != 32 || !is_lower_hex(*n)) return bad("n= wants 32 lower-case hex digits");
  s.nonce = std::string(*n);
  const auto sig = field("s=");
  if (!sig) return bad("no s=");
  auto raw = unbase64(*sig, 64);
  if (!raw) return bad("s= is not the base64 of a 64-byte Ed25519 signature");
  if (!header.empty()) return bad("unexpected text after s=");
  s.signature = std::move(*raw);
  return s;
}

std::string encode_public_key(std::string_view raw) { return base64(raw); }

Expected<std::string> decode_public_key(std::string_view text) {
  auto raw = unbase64(text, 32);
  if (!raw) return fail(ErrorCode::parse, "a host public key is the base64 of 32 bytes (44 characters)");
  return *raw;
}

bool verify_ed25519(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
                                  public_key.size()),
      EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

Expected<SigningKey> SigningKey::generate() {
  EVP_PKEY* key = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1)
    return fail(ErrorCode::internal, "cannot generate an Ed25519 key");
  return SigningKey(key);
}

Expected<SigningKey> SigningKey::from_pem(std::string_view pem) {
  if (pem.size() > 16 * 1024) return fail(ErrorCode::parse, "not an Ed25519 private key (too long)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return fail(ErrorCode::parse, "not a PEM private key");
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return fail(ErrorCode::parse, "the private key is not Ed25519");
  }
  return SigningKey(key);
}

std::string SigningKey::to_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey(key_), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

SigningKey::SigningKey(SigningKey&& other) noexcept : key_(other.key_) { other.key_ = nullptr; }
SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(pkey(key_));
    key_ = other.key_;
    other.key_ = nullptr;
  }
  return *this;
}
SigningKey::~SigningKey() { EVP_PKEY_free(pkey(key_)); }

std::string SigningKey::public_key() const {
  std::string raw(32, '\0');
  std::size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey(key_), reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 || size != 32)
    return {};
  return raw;
}

std::string SigningKey::sign(std::string_view message) const {
  std::string signature(64, '\0');
  std::size_t size = signature.size();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey(key_)) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      size != 64)
    return {};
  return signature;
}

}  // namespace tb
