// The access log: one line per request on stderr,
//   2026-11-26T07:30:41.123Z 127.0.0.1:53122 token=ci-web01 POST /api/v1/scans 201 5123B 12.4ms
// naming the token by its name (never the token itself; "-" when none was accepted).
#pragma once

#include <chrono>
#include <cstddef>
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

}  // namespace tb::server
