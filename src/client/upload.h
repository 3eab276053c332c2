// Sending a finished scan document to the trustbase server: gzip-compressed, streamed
// from the temporary file, retried with exponential backoff while the server is away.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "client/gzip_file.h"
#include "core/error.h"
#include "format/scan_writer.h"

namespace tb {

struct UploadOptions {
  std::string server;        // "http://host:port" (https once TLS lands)
  std::string token;         // bearer token
  std::string host;          // host name to file the scan under; empty = the document's
  std::string cluster, role; // enrolment only: where the host belongs (empty: not sent)
  unsigned attempts = 6;     // total tries; the waits double: 1, 2, 4, 8, 16 s (+ jitter)
  std::chrono::milliseconds first_wait{1000};
  std::chrono::seconds timeout{300};  // per attempt, for reading the server's answer
};

struct UploadResponse {
  int status = 0;       // HTTP status of the final attempt
  std::string body;     // the server's JSON answer
};

// Retries connection failures, 408, 429 and 5xx; any other answer is returned as is.
// `log` receives one line per failed attempt (for stderr).
Expected<UploadResponse> upload_scan(const UploadOptions& options, const GzipTempFile& file, ScanFormat format,
                                     const std::function<void(const std::string&)>& log);

}  // namespace tb
