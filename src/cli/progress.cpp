#include "cli/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace tb {

namespace {
std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}
}  // namespace

ProgressLine::ProgressLine(const ScanProgress& progress, bool enabled)
    : progress_(progress), start_(std::chrono::steady_clock::now()) {
  if (enabled) thread_ = std::thread([this] { run(); });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void ProgressLine::run() {
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) draw(false);
  draw(true);
}

void ProgressLine::draw(bool final_line) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto entries = progress_.entries.load(std::memory_order_relaxed);
  const auto bytes = progress_.bytes.load(std::memory_order_relaxed);
  const auto errors = progress_.errors.load(std::memory_order_relaxed);
  const std::string line =
      fmt::format("\r\033[K{} entries  {}  {}/s  {} errors  {:.1f} s", entries, human_bytes(static_cast<double>(bytes)),
                  human_bytes(secs > 0 ? static_cast<double>(bytes) / secs : 0), errors, secs);
  std::string out = line + (final_line ? "\n" : "");
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace tb
