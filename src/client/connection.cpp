#include "client/connection.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstdio>

#include <httplib.h>

namespace tb {

namespace {

constexpr std::string_view kPinPrefix = "sha256//";

std::string pin_of_certificate(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (size <= 0) return {};
  std::string pin = public_key_pin(der, static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return pin;
}

// Replaces OpenSSL's chain verification when pins are given: the leaf's key must be one
// of them. Runs inside the handshake, so a wrong server never sees the request.
int verify_pinned(X509_STORE_CTX* ctx, void* arg) {
  const auto* pins = static_cast<const std::vector<std::string>*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(ctx);
  if (leaf == nullptr) return 0;
  const std::string pin = pin_of_certificate(leaf);
  if (std::find(pins->begin(), pins->end(), pin) != pins->end()) return 1;
  X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

std::string public_key_pin(const unsigned char* spki_der, std::size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(spki_der, size, digest, &digest_size, EVP_sha256(), nullptr);
  std::string b64(4 * ((digest_size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(digest_size));
  b64.resize(static_cast<std::size_t>(n));
  return std::string(kPinPrefix) + b64;
}

Expected<std::string> certificate_pin(const std::string& pem_file) {
  std::FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return fail(ErrorCode::io, "cannot open certificate " + pem_file);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return fail(ErrorCode::invalid_argument, pem_file + " holds no PEM certificate");
  std::string pin = pin_of_certificate(cert);
  X509_free(cert);
  if (pin.empty()) return fail(ErrorCode::invalid_argument, pem_file + ": cannot encode the certificate's public key");
  return pin;
}

Expected<ServerConnection> ServerConnection::open(const std::string& url, const TlsOptions& tls) {
  ServerConnection c;
  if (url.rfind("https://", 0) == 0) {
    c.tls_ = true;
  } else if (url.rfind("http://", 0) != 0) {
    return fail(ErrorCode::invalid_argument, "server URL must start with http:// or https:// (got '" + url + "')");
  }
  if (!c.tls_ && (!tls.ca_file.empty() || !tls.pins.empty()))
    return fail(ErrorCode::invalid_argument, "--ca-file and --pin need an https:// server URL");
  for (const std::string& pin : tls.pins)
    if (pin.rfind(kPinPrefix, 0) != 0 || pin.size() != kPinPrefix.size() + 44)
      return fail(ErrorCode::invalid_argument, "a pin is sha256// and 44 base64 characters (got '" + pin + "')");
  c.client_ = std::make_unique<httplib::Client>(url);
  if (!c.client_->is_valid()) return fail(ErrorCode::invalid_argument, "cannot use server URL '" + url + "'");
  if (!c.tls_) return c;

  if (!tls.ca_file.empty()) {
    if (std::FILE* f = std::fopen(tls.ca_file.c_str(), "r")) {
      std::fclose(f);
    } else {
      return fail(ErrorCode::io, "cannot read CA file " + tls.ca_file);
    }
  }
  if (tls.pins.empty()) {
    // The chain up to a trusted CA and the host name, checked by httplib.
    c.client_->enable_server_certificate_verification(true);
    if (!tls.ca_file.empty()) c.client_->set_ca_cert_path(tls.ca_file.c_str());
    return c;
  }
  // Pinned: httplib's own verification (chain + name) off, ours on, in the context every
  // connection of this client is made from.
  c.client_->enable_server_certificate_verification(false);
  c.pins_ = std::make_unique<std::vector<std::string>>(tls.pins);
  SSL_CTX* ctx = c.client_->ssl_context();
  if (ctx == nullptr) return fail(ErrorCode::internal, "no TLS context for " + url);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verify_pinned, c.pins_.get());
  return c;
}

ServerConnection::ServerConnection(ServerConnection&&) noexcept = default;
ServerConnection& ServerConnection::operator=(ServerConnection&&) noexcept = default;
ServerConnection::~ServerConnection() = default;

}  // namespace tb
