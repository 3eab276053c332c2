#include "server/request_log.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

std::optional<LogFormat> log_format_from_string(std::string_view text) noexcept {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  return std::nullopt;
}

std::optional<LogLevel> log_level_from_string(std::string_view text) noexcept {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn" || text == "warning") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

namespace {

using json = nlohmann::json;

// One JSON line; bytes that are not UTF-8 (paths and names come from the network) are
// replaced rather than thrown about.
std::string json_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

}  // namespace

std::string Logger::format_message(LogLevel level, std::string_view message,
                                   std::chrono::system_clock::time_point time) const {
  if (format_ == LogFormat::json)
    return json_line(json{{"time", iso_time(time)}, {"level", to_string(level)}, {"msg", message}});
  std::string line = "trustbase serve: ";
  if (level == LogLevel::warn || level == LogLevel::error) line += fmt::format("{}: ", to_string(level));
  line += message;
  if (line.empty() || line.back() != '\n') line += '\n';
  return line;
}

LogLevel Logger::request_level(const RequestLogEntry& e) {
  const bool routine = e.path == "/api/v1/health" || e.path == "/metrics";
  return routine && e.status >= 200 && e.status < 300 ? LogLevel::debug : LogLevel::info;
}

std::string Logger::format_request(const RequestLogEntry& e) const {
  if (format_ == LogFormat::text) return format_log_line(e);
  const bool v6 = e.remote_addr.find(':') != std::string_view::npos;
  json j{{"time", iso_time(e.time)},
         {"level", to_string(request_level(e))},
         {"msg", "request"},
         {"remote", v6 ? fmt::format("[{}]:{}", e.remote_addr, e.remote_port)
                       : fmt::format("{}:{}", e.remote_addr, e.remote_port)},
         {"method", e.method},
         {"path", e.path},
         {"status", e.status},
         {"bytes", e.bytes}};
  // Milliseconds with microsecond precision; null when the request never got routed.
  if (e.duration) j["duration_ms"] = std::round(static_cast<double>(e.duration->count()) / 1e3) / 1e3;
  else j["duration_ms"] = nullptr;
  if (e.token_name.empty()) j["token_name"] = nullptr;
  else j["token_name"] = e.token_name;
  return json_line(j);
}

void Logger::log(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  write_log_line(format_message(level, message, std::chrono::system_clock::now()));
}

void Logger::request(const RequestLogEntry& entry) const {
  if (!enabled(request_level(entry))) return;
  write_log_line(format_request(entry));
}

}  // namespace tb::server
