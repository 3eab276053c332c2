#include "config/server_config.h"

#include <string>

namespace tb::config {

namespace {

// listen.address and listen.port each replace their half of ServeArgs::listen ("HOST:PORT").
Key listen_part(std::string name, Kind kind, std::string& listen) {
  Key k;
  k.name = std::move(name);
  k.kind = kind;
  k.flags = {"--listen"};
  if (kind == Kind::integer) {
    k.min = 0;
    k.max = 65535;
  }
  k.apply = [&listen, kind](const Value& v) {
    const auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
    std::string port = colon == std::string::npos ? "8750" : listen.substr(colon + 1);
    if (kind == Kind::integer) {
      port = std::to_string(std::get<std::int64_t>(v));
    } else {
      host = std::get<std::string>(v);
      if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";  // IPv6
    }
    listen = host + ":" + port;
  };
  return k;
}

}  // namespace

std::vector<Key> server_keys(ServeArgs& serve, StoreArgs& store) {
  return {
      text("store", store.db, {"--db"}),
      integer("store_connections", serve.store_connections, 1, 64, {"--store-connections"}),
      integer("chunk_cache_mb", serve.chunk_cache_mb, 0, std::int64_t{1} << 20, {"--chunk-cache-mb"}),
      integer("analysis_cache_mb", serve.analysis_cache_mb, 0, std::int64_t{1} << 20, {"--analysis-cache-mb"}),
      listen_part("listen.address", Kind::string, serve.listen),
      listen_part("listen.port", Kind::integer, serve.listen),
      integer("upload.max_body_mb", serve.max_body_mb, 1, std::int64_t{1} << 20, {"--max-body-mb"}),
      integer("upload.max_records", serve.max_records, 1, 100'000'000, {"--max-records"}),
      text("upload.spool_dir", serve.spool_dir, {"--spool-dir"}),
      text("feed.dir", serve.feed_dir, {"--feed"}),
      real("feed.interval_s", serve.feed_interval_s, 0.05, 86400, {"--feed-interval"}),
      texts("feed.keyrings", serve.feed_keyrings, {"--feed-keyring"}),
      boolean("feed.require_signed", serve.feed_require_signed, {"--feed-require-signed"}),
      text("log.format", serve.log_format, {"--log-format"}, {"text", "json"}),
      text("log.level", serve.log_level, {"--log-level"}, {"debug", "info", "warn", "error"}),
      text("metrics.token_role", serve.metrics_token_role, {"--metrics-token-role"}, {"none", "reader", "admin"}),
      text("tls.cert", serve.tls_cert, {"--tls-cert"}),
      text("tls.key", serve.tls_key, {"--tls-key"}),
      boolean("signing.require", serve.require_signed_scans, {"--require-signed-scans"}),
      integer("signing.window_s", serve.signature_window_s, 10, 86400, {"--signature-window"}),
  };
}

}  // namespace tb::config
