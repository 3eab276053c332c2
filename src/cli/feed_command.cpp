#include "cli/feed_command.h"

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "format/drift_report.h"  // printable()
#include "cli/import_command.h"  // verify_options()
#include "store/sqlite_store.h"

namespace tb {

namespace {

constexpr int kOk = 0, kSomeFailed = 1, kError = 2;

int usage_error(const std::string& message) {
  fmt::print(stderr, "trustbase import: {}\n", message);
  return kError;
}

}  // namespace

std::vector<std::string> feed_poll_lines(const FeedPoll& poll) {
  std::vector<std::string> lines;
  for (const FeedImport& i : poll.imported) {
    if (i.already_stored) {
      lines.push_back(fmt::format("already stored: {} (signature {}) from {}", printable(i.ref.id()), i.id,
                                  printable(i.path)));
      continue;
    }
    lines.push_back(fmt::format("imported {} {}{} ({} records) as signature {} from {}", to_string(i.kind),
                                printable(i.ref.id()), i.patches ? " of " + printable(i.patches->id()) : "",
                                i.records, i.id, printable(i.path)));
    for (const SignatureRef& ref : i.relinked)
      lines.push_back(
          fmt::format("re-linked {} after {} (older) was stored", printable(ref.id()), printable(i.ref.id())));
  }
  for (const FeedFailure& f : poll.failed) lines.push_back(fmt::format("failed {}: {}", printable(f.path), printable(f.reason)));
  if (!poll.imported.empty() || !poll.failed.empty() || poll.duplicates != 0)
    lines.push_back(fmt::format("feed poll: imported {}, failed {}, already imported {}, waiting {}",
                                poll.imported.size(), poll.failed.size(), poll.duplicates, poll.waiting));
  return lines;
}

int run_import_watch(const StoreArgs& s, const ImportArgs& a) {
  if (a.sources.size() != 1) return usage_error("--watch takes one feed directory");
  if (!a.name.empty() || !a.version.empty() || !a.kind.empty() || !a.patches.empty() || !a.supersedes.empty() ||
      a.strip_components != 0)
    return usage_error("--watch imports packages as they name themselves: no --name, --version or relations");
  const std::string& dir = a.sources.front();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return usage_error(dir + ": not a directory");

  // SIGTERM and SIGINT end the loop between polls (a package is never left half imported:
  // each is one transaction anyway).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (!a.once) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto store = cli::open_store(s);
  if (!store) return usage_error(store.error().message);
  FeedOptions options;
  options.settle = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(a.settle_s * 1000)));
  options.install_root = a.install_root;
  auto verifier = PackageVerifier::open(verify_options(a));
  if (!verifier) return usage_error(verifier.error().message);
  options.verifier = std::move(*verifier);
  FeedWatcher watcher(**store, dir, options);

  bool any_failed = false;
  for (;;) {
    auto poll = watcher.poll_once();
    if (!poll) {
      fmt::print(stderr, "trustbase import: {}\n", poll.error().message);
      if (a.once) return kError;
    } else {
      for (const std::string& line : feed_poll_lines(*poll)) fmt::print("{}\n", line);
      std::fflush(stdout);
      any_failed = any_failed || !poll->failed.empty();
    }
    if (a.once) break;
    const auto interval_ns = static_cast<std::int64_t>(std::llround(a.interval_s * 1e9));
    struct timespec wait {};
    wait.tv_sec = static_cast<time_t>(interval_ns / 1'000'000'000);
    wait.tv_nsec = static_cast<long>(interval_ns % 1'000'000'000);
    if (sigtimedwait(&stop_signals, nullptr, &wait) > 0) break;
  }
  if (!a.once) fmt::print(stderr, "trustbase import: feed watch stopped\n");
  return any_failed && a.once ? kSomeFailed : kOk;
}

}  // namespace tb
