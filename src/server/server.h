// `trustbase serve`: the HTTP API on one address until SIGTERM or SIGINT.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"
#include "server/http_api.h"
#include "server/shared_store.h"

namespace tb::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8750;  // 0: any free port (on_listening reports it)
  // PEM certificate (chain) and private key: serve HTTPS only. Both or neither.
  std::string tls_cert_file, tls_key_file;
  ApiOptions api;
};

// "HOST:PORT", "[IPV6]:PORT" or ":PORT" (all interfaces) into host and port.
Expected<std::pair<std::string, int>> parse_listen_address(const std::string& text);

// Binds, calls `on_listening(port)` once requests are accepted (the chosen port when
// options.port is 0), and serves until SIGTERM or SIGINT arrive; then stops accepting,
// lets the requests in flight finish and returns. SIGTERM and SIGINT are blocked in the
// calling thread (and so in the server's threads) and taken by a watcher thread.
Expected<void> serve(SharedStore& store, const ServeOptions& options, const std::function<void(int port)>& on_listening);

}  // namespace tb::server
