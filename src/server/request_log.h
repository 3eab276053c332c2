// The access log: one line per request on stderr,
//   2026-11-26T07:30:41.123Z 127.0.0.1:53122 token=ci-web01 POST /api/v1/scans 201 5123B 12.4ms
// naming the token by its name (never the token itself; "-" when none was accepted).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tb::server {

struct RequestLogEntry {
  std::chrono::system_clock::time_point time;
  std::string_view remote_addr;
  int remote_port = 0;
  std::string_view token_name;  // empty: no token accepted
  std::string_view method;
  std::string_view path;
  int status = 0;
  std::size_t bytes = 0;                                  // response body
  std::optional<std::chrono::nanoseconds> duration;       // unknown for requests that never got routed
};

std::string format_log_line(const RequestLogEntry& entry);

// Writes one line to stderr with a single write(2), so lines of concurrent requests never
// interleave.
void write_log_line(std::string_view line);

// What the server logs and how. stderr is the sink (journald captures it under systemd).
enum class LogFormat : std::uint8_t {
  text,  // the access-log line above; messages as "trustbase serve: MESSAGE"
  json,  // one JSON object per line: {"time" (RFC 3339, UTC), "level", "msg", ...}; requests
         // add "remote", "method", "path", "status", "bytes", "duration_ms", "token_name"
};
enum class LogLevel : std::uint8_t { debug, info, warn, error };
std::optional<LogFormat> log_format_from_string(std::string_view text) noexcept;
std::optional<LogLevel> log_level_from_string(std::string_view text) noexcept;
std::string_view to_string(LogLevel level) noexcept;

// The server's logger: a value (format and threshold), copied freely, no state of its own,
// safe to use from every request thread (each line is one write(2)). Requests are logged
// at info, except successful health checks and metrics scrapes (debug: a scraper every
// 15 s would drown the log); failures of the server at error.
class Logger {
 public:
  Logger() = default;
  Logger(LogFormat format, LogLevel threshold) : format_(format), threshold_(threshold) {}

  bool enabled(LogLevel level) const { return level >= threshold_; }
  void log(LogLevel level, std::string_view message) const;
  void debug(std::string_view message) const { log(LogLevel::debug, message); }
  void info(std::string_view message) const { log(LogLevel::info, message); }
  void warn(std::string_view message) const { log(LogLevel::warn, message); }
  void error(std::string_view message) const { log(LogLevel::error, message); }
  void request(const RequestLogEntry& entry) const;

  // The line log() or request() writes, without writing it (for tests).
  std::string format_message(LogLevel level, std::string_view message,
                             std::chrono::system_clock::time_point time) const;
  std::string format_request(const RequestLogEntry& entry) const;
  static LogLevel request_level(const RequestLogEntry& entry);

 private:
  LogFormat format_ = LogFormat::text;
  LogLevel threshold_ = LogLevel::info;
};

}  // namespace tb::server
