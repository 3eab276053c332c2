#include "server/request_log.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

namespace tb::server {

namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// Request paths come from the network: keep the log one line of printable ASCII.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) out += fmt::format("%{:02X}", c);
    else out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace

std::string format_log_line(const RequestLogEntry& e) {
  const std::string duration =
      e.duration ? fmt::format("{:.1f}ms", static_cast<double>(e.duration->count()) / 1e6) : std::string("-");
  return fmt::format("{} {}:{} token={} {} {} {} {}B {}\n", iso_time(e.time), printable(e.remote_addr), e.remote_port,
                     e.token_name.empty() ? std::string("-") : printable(e.token_name), printable(e.method),
                     printable(e.path), e.status, e.bytes, duration);
}

void write_log_line(std::string_view line) {
  while (!line.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: the request itself is unaffected
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace tb::server
