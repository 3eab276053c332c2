#include "server/server.h"

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <ctime>
#include <memory>
#include <thread>

#include "server/spool.h"

namespace tb::server {

namespace {
constexpr int kListenBacklog = 1024;
}  // namespace

Expected<std::pair<std::string, int>> parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return fail(ErrorCode::invalid_argument, "--listen wants HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = -1;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return fail(ErrorCode::invalid_argument, "--listen: bad port '" + port_text + "'");
  return std::make_pair(host, port);
}

Expected<void> serve(SharedStore& store, const ServeOptions& options, const std::function<void(int)>& on_listening) {
  // Small bodies stay in memory: an unusable spool directory would show only on the first
  // large upload, so it is checked now.
  const std::string spool = options.api.spool_dir.empty() ? default_spool_dir() : options.api.spool_dir;
  if (auto usable = check_spool_dir(spool); !usable)
    return fail(ErrorCode::io, "spool directory unusable (--spool-dir): " + usable.error().message);
  // Block the signals before httplib starts its thread pool, so only the watcher takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  std::unique_ptr<httplib::Server> owned;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return fail(ErrorCode::invalid_argument, "TLS needs both a certificate and its private key");
  }
  if (!options.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!tls->is_valid()) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      return fail(ErrorCode::invalid_argument, "cannot use TLS certificate " + options.tls_cert_file + " with key " +
                                                   options.tls_key_file + " (unreadable, not PEM, or not a pair)");
    }
    // TLS 1.2 is the oldest version without known protocol breaks.
    SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
    owned = std::move(tls);
  } else {
    owned = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *owned;
  // httplib's default sets SO_REUSEPORT, under which a second server on the same port
  // binds "successfully" and silently shares the traffic (with another store, maybe).
  // SO_REUSEADDR alone lets a restart rebind at once while refusing a live listener.
  int listener = -1;
  server.set_socket_options([&listener](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listener = sock;
  });
  install_api(server, store, options.api);
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) port = -1;
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return fail(ErrorCode::io, "cannot listen on " + options.host + ":" + std::to_string(options.port));
  }
  // httplib 0.11 (built into Debian's library) listens with a backlog of 5. A scan is one
  // request per connection (http_api.cpp), so a fleet's uploads arrive as a stream of new
  // connections: past 5 waiting, the kernel drops their SYNs and each such client waits
  // for its retransmission, one second, then three (seen as p99 > 1 s at 100 clients).
  // listen(2) again on the bound socket sets the backlog (bounded by net.core.somaxconn).
  if (listener >= 0) ::listen(listener, kListenBacklog);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  on_listening(port);
  const bool ok = server.listen_after_bind();
  done = true;
  watcher.join();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!ok) return fail(ErrorCode::io, "the server stopped on an error");
  return {};
}

}  // namespace tb::server
