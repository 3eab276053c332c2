#include "cli/server_commands.h"

#include <pthread.h>
#include <signal.h>

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

#include <fmt/format.h>

#include "cli/feed_command.h"
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
Expected<std::jthread> start_feed(const ServeArgs& a, const StoreArgs& s, server::SharedStore& shared) {
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
  return std::jthread([store = std::shared_ptr<Store>(std::move(*feed_store)), dir = a.feed_dir, interval,
                       &shared](std::stop_token stop) {
    FeedWatcher watcher(*store, dir);
    std::mutex mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      auto poll = watcher.poll_once();
      if (!poll) {
        fmt::print(stderr, "trustbase serve: feed: {}\n", poll.error().message);
      } else {
        if (!poll->imported.empty()) shared.invalidate_index();
        for (const std::string& line : feed_poll_lines(*poll)) fmt::print(stderr, "trustbase serve: feed: {}\n", line);
      }
      std::unique_lock lock(mutex);
      wake.wait_for(lock, stop, interval, [] { return false; });
    }
  });
}

int run_serve(const ServeArgs& a, const StoreArgs& s) {
  auto address = server::parse_listen_address(a.listen);
  if (!address) return error("serve", address.error().message);
  auto store = open_store(s);
  if (!store) return error("serve", store.error().message);
  server::SharedStore shared(std::move(*store));
  std::optional<std::jthread> feed;
  if (!a.feed_dir.empty()) {
    auto started = start_feed(a, s, shared);
    if (!started) return error("serve", started.error().message);
    feed.emplace(std::move(*started));
  }
  server::ServeOptions options;
  options.host = address->first;
  options.port = address->second;
  options.api.max_body_bytes = a.max_body_mb << 20;
  options.api.spool_dir = a.spool_dir;
  auto served = server::serve(shared, options, [&](int port) {
    // The first line of stdout, for scripts and tests that asked for port 0.
    fmt::print("listening on {}:{}\n", options.host, port);
    std::fflush(stdout);
    fmt::print(stderr, "trustbase serve: store {}, listening on {}:{}\n", s.db, options.host, port);
  });
  if (!served) return error("serve", served.error().message);
  fmt::print(stderr, "trustbase serve: stopped\n");
  return kOk;
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
  serve->add_option("--spool-dir", c.serve.spool_dir,
                    "Where uploads are spooled while they are parsed (default: $TMPDIR or /tmp)")
      ->type_name("DIR");
  serve->add_option("--feed", c.serve.feed_dir, "Feed directory: import each new package dropped there, once")
      ->type_name("DIR");
  serve->add_option("--feed-interval", c.serve.feed_interval_s, "Seconds between polls of the feed (default 10)")
      ->check(CLI::Range(0.05, 86400.0));

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
  if (c.serve_cmd->parsed()) return run_serve(c.serve, store);
  if (c.token_add_cmd->parsed()) return run_token_add(c.token, store);
  if (c.token_revoke_cmd->parsed()) return run_token_revoke(c.token, store);
  return -1;
}

}  // namespace tb
