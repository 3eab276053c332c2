// One place that turns the scanner's --server URL and TLS options into an HTTP client:
// http:// or https://, a CA file for the chain, and optional public-key pins.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace httplib {
class Client;
}

namespace tb {

struct TlsOptions {
  // PEM file of the CA(s) that signed the server's certificate; empty: the system's store.
  std::string ca_file;
  // "sha256//BASE64" pins of the server certificate's public key (SubjectPublicKeyInfo),
  // as curl's --pinnedpubkey writes them. When any is given, the server is trusted by its
  // key alone (no chain, no host name check): the way to trust a self-signed server
  // certificate without trusting every key a CA might sign for that name.
  std::vector<std::string> pins;
};

// "sha256//BASE64" of a DER-encoded SubjectPublicKeyInfo.
std::string public_key_pin(const unsigned char* spki_der, std::size_t size);

// The pin of the public key in a PEM certificate file (what the server prints when it
// starts with TLS, and what an operator passes to trustbase-scan --pin).
Expected<std::string> certificate_pin(const std::string& pem_file);

// An HTTP client for `url` ("http://HOST:PORT" or "https://HOST:PORT"), verifying the
// server as `tls` says. Owns what the verification callback needs.
class ServerConnection {
 public:
  static Expected<ServerConnection> open(const std::string& url, const TlsOptions& tls);
  ServerConnection(ServerConnection&&) noexcept;
  ServerConnection& operator=(ServerConnection&&) noexcept;
  ~ServerConnection();

  httplib::Client& client() { return *client_; }
  bool is_tls() const { return tls_; }

 private:
  ServerConnection() = default;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<std::vector<std::string>> pins_;  // stable address for the OpenSSL callback
  bool tls_ = false;
};

}  // namespace tb
