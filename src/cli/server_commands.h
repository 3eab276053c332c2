// The server commands of `trustbase`: `serve` (the HTTP API) and `token add|revoke`
// (API tokens). They use the store named by the global --db (cli/store_commands.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/store_commands.h"

namespace tb {

struct ServeArgs {
  std::string listen = "127.0.0.1:8750";  // port 0: any free port, printed on stdout
  std::size_t max_body_mb = 256;
  std::size_t max_records = 5'000'000;  // file records per posted scan (ReadLimits::max_records)
  std::string spool_dir;  // empty: $TMPDIR or /tmp
  std::string feed_dir;   // non-empty: a feed directory polled in the background (sources/feed.h)
  double feed_interval_s = 10;
  std::vector<std::string> feed_keyrings;  // --feed-keyring: rpm header signatures verified (sources/package_verifier.h)
  bool feed_require_signed = false;        // --feed-require-signed: refuse feed packages not verified
  std::string config_file;  // --config; empty: config/server_config.h's default path when it exists
  std::string log_format = "text";          // text | json (JSON lines), server/request_log.h
  std::string log_level = "info";           // debug | info | warn | error
  std::string metrics_token_role = "none";  // none (GET /metrics open) | reader | admin
  std::string tls_cert, tls_key;            // both: HTTPS only (PEM files)
  bool require_signed_scans = false;        // refuse unsigned scans (server/scan_signing.h)
  std::int64_t signature_window_s = 300;    // accepted clock difference of signed scans
  // The server's pool of store connections (server/shared_store.h): one per request thread
  // (cpp-httplib's pool, 8 here), so no request waits for one while others wait on the network.
  // PostgreSQL, 6,000 new hosts: 4 -> 8 connections, 508.9/563.8 -> 585.7/600.3 scans/s.
  unsigned store_connections = 8;
  std::size_t chunk_cache_mb = 256;         // decoded chunks kept between uploads (server/chunk_cache.h)
  std::size_t analysis_cache_mb = 256;      // analyses of stored manifests (server/analysis_cache.h)
};

struct TokenArgs {
  std::string name, role, host;
};

struct ServerCommands {
  ServeArgs serve;
  TokenArgs token;
  CLI::App* serve_cmd = nullptr;
  CLI::App* token_add_cmd = nullptr;
  CLI::App* token_revoke_cmd = nullptr;
};

// Registers serve and token on `app` (after add_store_commands, which owns --db).
void add_server_commands(CLI::App& app, ServerCommands& commands);

// Runs whichever of them was parsed, with the store of `store`; returns its exit status
// (0 ok, 2 error), or -1 if none was.
int run_server_commands(const ServerCommands& commands, const StoreArgs& store);

}  // namespace tb
