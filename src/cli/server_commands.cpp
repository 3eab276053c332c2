#include "cli/server_commands.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/feed_command.h"
#include "client/connection.h"
#include "config/server_config.h"
#include "server/server.h"
#include "store/sqlite_store.h"

namespace tb {

namespace {

constexpr int kOk = 0, kError = 2;

using cli::error;

using cli::open_store;

// `serve --feed DIR`: a thread polling the feed with its own store connection (a Store is
// used by one thread at a time), dropping the server's signature index after imports.
// It stops when the returned thread is destroyed (request_stop, then join).
Expected<std::jthread> start_feed(const ServeArgs& a, const StoreArgs& s, server::SharedStore& shared,
                                  const server::Logger& logger, server::Metrics& metrics) {
  std::error_code ec;
  if (!std::filesystem::is_directory(a.feed_dir, ec)) return fail(ErrorCode::invalid_argument, a.feed_dir + ": not a directory");
  auto feed_store = open_store(s);
  if (!feed_store) return fail(feed_store.error().code, feed_store.error().message);
  // Signals are taken by serve()'s watcher thread: block them here before the feed thread
  // inherits the mask (serve() blocks them too, later).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const auto interval = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(a.feed_interval_s * 1000)));
  VerifyOptions verify;
  verify.keyrings = a.feed_keyrings;
  verify.require_signed = a.feed_require_signed;
  auto verifier = PackageVerifier::open(verify);
  if (!verifier) return fail(verifier.error().code, "--feed: " + verifier.error().message);
  FeedOptions options;
  options.verifier = std::move(*verifier);
  return std::jthread([store = std::shared_ptr<Store>(std::move(*feed_store)), dir = a.feed_dir, interval,
                       options = std::move(options), &shared, &logger, &metrics](std::stop_token stop) {
    FeedWatcher watcher(*store, dir, options);
    std::mutex mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      auto poll = watcher.poll_once();
      if (!poll) {
        logger.error("feed: " + poll.error().message);
      } else {
        if (!poll->imported.empty()) shared.invalidate_index();
        metrics.signatures_imported(poll->imported.size());
        for (const std::string& line : feed_poll_lines(*poll)) logger.info("feed: " + line);
      }
      std::unique_lock lock(mutex);
      wake.wait_for(lock, stop, interval, [] { return false; });
    }
  });
}

int run_serve(const ServeArgs& a, const StoreArgs& s) {
  auto address = server::parse_listen_address(a.listen);
  if (!address) return error("serve", address.error().message);
  // Each upload allocates and frees a few MiB (the parsed document, the manifest, the
  // report) on a pool thread; with glibc's defaults every request gave that memory back to
  // the kernel (madvise, munmap) and faulted it in again: 10-15 % of the server's CPU under
  // load (bench/load/run.sh). Keep freed heap up to 256 MiB, mmap only blocks over 32 MiB
  // (glibc's maximum threshold). Process-wide, hence here and not in the server library.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // A pool of connections: requests use the store at the same time (server/shared_store.h).
  std::vector<std::unique_ptr<Store>> connections;
  for (unsigned i = 0; i < std::max(1u, a.store_connections); ++i) {
    auto store = open_store(s);
    if (!store) return error("serve", store.error().message);
    connections.push_back(std::move(*store));
  }
  server::SharedStore shared(std::move(connections), {a.chunk_cache_mb << 20, a.analysis_cache_mb << 20});
  const auto log_format = server::log_format_from_string(a.log_format);
  const auto log_level = server::log_level_from_string(a.log_level);
  if (!log_format) return error("serve", "--log-format wants text or json");
  if (!log_level) return error("serve", "--log-level wants debug, info, warn or error");
  const server::Logger logger(*log_format, *log_level);
  std::optional<TokenRole> metrics_role;
  if (a.metrics_token_role != "none") {
    metrics_role = token_role_from_string(a.metrics_token_role);
    if (!metrics_role || (*metrics_role != TokenRole::reader && *metrics_role != TokenRole::admin))
      return error("serve", "--metrics-token-role wants none, reader or admin");
  }
  // Before the feed thread, which counts its imports in it. The file sizes it reports are
  // an SQLite store's; a PostgreSQL server reports its own.
  const auto spec = parse_store_spec(s.db);
  server::Metrics metrics(spec && spec->kind == StoreKind::sqlite ? spec->location : std::string());
  std::optional<std::jthread> feed;
  if (!a.feed_dir.empty()) {
    auto started = start_feed(a, s, shared, logger, metrics);
    if (!started) return error("serve", started.error().message);
    feed.emplace(std::move(*started));
  }
  server::ServeOptions options;
  options.host = address->first;
  options.port = address->second;
  options.tls_cert_file = a.tls_cert;
  options.api.signing.require = a.require_signed_scans;
  options.api.signing.window_s = a.signature_window_s;
  options.tls_key_file = a.tls_key;
  options.api.max_body_bytes = a.max_body_mb << 20;
  options.api.limits.max_records = a.max_records;
  options.api.spool_dir = a.spool_dir;
  options.api.logger = logger;
  options.api.metrics = &metrics;
  options.api.metrics_role = metrics_role;
  auto served = server::serve(shared, options, [&](int port) {
    // The first line of stdout, for scripts and tests that asked for port 0.
    fmt::print("listening on {}:{}\n", options.host, port);
    std::fflush(stdout);
    logger.info(fmt::format("store {}, listening on {}:{}", display_store_spec(s.db), options.host, port));
    // What scanners pass to --pin to trust this server by its key.
    if (!a.tls_cert.empty()) {
      if (auto pin = certificate_pin(a.tls_cert)) logger.info("TLS on; certificate key pin " + *pin);
    }
  });
  if (!served) {
    logger.error(served.error().message);
    return kError;
  }
  logger.info("stopped");
  return kOk;
}

// serve's settings: the configuration file's values under the options given on the command
// line (and $TRUSTBASE_DB, which stands for --db).
Expected<std::pair<ServeArgs, StoreArgs>> serve_settings(const ServerCommands& c, const StoreArgs& store) {
  std::pair<ServeArgs, StoreArgs> settings{c.serve, store};
  const auto file = config::choose_file(c.serve.config_file, config::kDefaultServerConfig);
  if (!file) return settings;
  const CLI::App* root = c.serve_cmd->get_parent();
  auto given = [&](std::string_view flag) {
    const char* env_db = std::getenv("TRUSTBASE_DB");
    if (flag == "--db" && env_db != nullptr && *env_db != '\0') return true;
    const CLI::Option* option = c.serve_cmd->get_option_no_throw(std::string(flag));
    if (option == nullptr && root != nullptr) option = root->get_option_no_throw(std::string(flag));
    return option != nullptr && option->count() > 0;
  };
  auto applied = config::apply_file(*file, config::server_keys(settings.first, settings.second), given);
  if (!applied) return tl::unexpected(applied.error());
  return settings;
}

int run_token_add(const TokenArgs& a, const StoreArgs& s) {
  const auto role = token_role_from_string(a.role);
  if (!role) return error("token add", "--role wants admin, host, reader or enrol");
  std::optional<std::string_view> host;
  if (!a.host.empty()) host = a.host;
  auto store = open_store(s);
  if (!store) return error("token add", store.error().message);
  auto token = (*store)->add_token(a.name, *role, host);
  if (!token) return error("token add", token.error().message);
  fmt::print("{}\n", *token);
  fmt::print(stderr, "trustbase token add: token '{}' ({}{}) created; it is shown only this once\n", a.name, a.role,
             a.host.empty() ? "" : ", host " + a.host);
  return kOk;
}

int run_token_revoke(const TokenArgs& a, const StoreArgs& s) {
  auto store = open_store(s);
  if (!store) return error("token revoke", store.error().message);
  if (auto r = (*store)->revoke_token(a.name); !r) return error("token revoke", r.error().message);
  fmt::print("revoked token '{}'\n", a.name);
  return kOk;
}

}  // namespace

void add_server_commands(CLI::App& app, ServerCommands& c) {
  CLI::App* serve = c.serve_cmd = app.add_subcommand("serve", "Serve the HTTP API (scans in, reports out)");
  serve->add_option("--listen", c.serve.listen, "HOST:PORT to listen on (port 0: any, printed on stdout)")
      ->type_name("HOST:PORT");
  serve->add_option("--max-body-mb", c.serve.max_body_mb, "Largest scan accepted, in MiB after decompression")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  serve->add_option("--max-records", c.serve.max_records, "Most file records a posted scan may hold (413 beyond)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  serve->add_option("--spool-dir", c.serve.spool_dir,
                    "Where uploads are spooled while they are parsed (default: $TMPDIR or /tmp)")
      ->type_name("DIR");
  serve->add_option("--feed", c.serve.feed_dir, "Feed directory: import each new package dropped there, once")
      ->type_name("DIR");
  serve->add_option("--feed-interval", c.serve.feed_interval_s, "Seconds between polls of the feed (default 10)")
      ->check(CLI::Range(0.05, 86400.0));
  serve->add_option("--feed-keyring", c.serve.feed_keyrings,
                    "OpenPGP public keys the feed's rpm header signatures are verified with (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  serve->add_flag("--feed-require-signed", c.serve.feed_require_signed,
                  "Refuse feed packages whose signature is absent or not verified (needs --feed-keyring)");
  serve->add_option("--config", c.serve.config_file,
                    std::string("Configuration file (TOML, see trustbase.toml(5)); default: ") +
                        config::kDefaultServerConfig + " when it exists. Options given here override it")
      ->type_name("FILE");
  serve->add_option("--log-format", c.serve.log_format,
                    "text (one access-log line per request) or json (JSON lines: time, level, msg, request fields)")
      ->check(CLI::IsMember({"text", "json"}));
  serve->add_option("--log-level", c.serve.log_level,
                    "Least level logged on stderr: debug (adds health checks and /metrics scrapes), info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  serve->add_flag("--require-signed-scans", c.serve.require_signed_scans,
                  "Refuse scans not signed by their host's Ed25519 key (hosts with a key must sign anyway)");
  serve->add_option("--signature-window", c.serve.signature_window_s,
                    "Seconds a signed scan's time may differ from the server's clock (default 300)")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{86400}));
  serve->add_option("--store-connections", c.serve.store_connections,
                    "Connections to the store that requests share (default 8, one per request thread): reads run "
                    "side by side, writers queue in the store")
      ->check(CLI::Range(1u, 64u));
  serve->add_option("--chunk-cache-mb", c.serve.chunk_cache_mb,
                    "Memory for decoded directory chunks kept between chunked uploads (default 256; 0: none)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  serve->add_option("--analysis-cache-mb", c.serve.analysis_cache_mb,
                    "Memory for analyses of stored manifests, reused for scans that repeat one (default 256; 0: none)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  serve->add_option("--tls-cert", c.serve.tls_cert, "PEM certificate (chain): serve HTTPS only (with --tls-key)")
      ->type_name("FILE");
  serve->add_option("--tls-key", c.serve.tls_key, "PEM private key of --tls-cert")->type_name("FILE");
  serve->add_option("--metrics-token-role", c.serve.metrics_token_role,
                    "GET /metrics: none (open, the default), or a token of this role (reader or admin) is needed")
      ->check(CLI::IsMember({"none", "reader", "admin"}));

  CLI::App* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  CLI::App* add = c.token_add_cmd = token->add_subcommand("add", "Create a token and print it (shown once)");
  add->add_option("--name", c.token.name, "Unique name (appears in the request log)")->required();
  add->add_option("--role", c.token.role,
                  "admin, host, reader, or enrol (may post the first scan of a new host and get its host token)")
      ->required()
      ->check(CLI::IsMember({"admin", "host", "reader", "enrol"}));
  add->add_option("--host", c.token.host, "host tokens: the only host it may post scans for and read");
  CLI::App* revoke = c.token_revoke_cmd = token->add_subcommand("revoke", "Revoke a token by name");
  revoke->add_option("name", c.token.name, "Token name")->required();
}

int run_server_commands(const ServerCommands& c, const StoreArgs& store) {
  if (c.serve_cmd->parsed()) {
    auto settings = serve_settings(c, store);
    if (!settings) return error("serve", settings.error().message);
    return run_serve(settings->first, settings->second);
  }
  if (c.token_add_cmd->parsed()) return run_token_add(c.token, store);
  if (c.token_revoke_cmd->parsed()) return run_token_revoke(c.token, store);
  return -1;
}

}  // namespace tb
