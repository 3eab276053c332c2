// Sending a finished scan document to the trustbase server: gzip-compressed, streamed
// from the temporary file, retried with exponential backoff while the server is away.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "client/connection.h"
#include "client/gzip_file.h"
#include "core/error.h"
#include "core/scan_signature.h"
#include "format/manifest_chunks.h"
#include "format/scan_writer.h"

namespace tb {

struct UploadOptions {
  std::string server;        // "http://HOST:PORT" or "https://HOST:PORT"
  TlsOptions tls;            // https: how the server is authenticated
  // Signs each upload (core/scan_signature.h); with offer_key the public key is sent too
  // (enrolment). Not owned.
  const SigningKey* signing_key = nullptr;
  bool offer_key = false;
  std::string token;         // bearer token
  std::string host;          // host name to file the scan under; empty = the document's
  std::string cluster, role; // enrolment only: where the host belongs (empty: not sent)
  unsigned attempts = 6;     // total tries; the waits double: 1, 2, 4, 8, 16 s (+ jitter)
  std::chrono::milliseconds first_wait{1000};
  std::chrono::seconds timeout{300};  // per attempt, for reading the server's answer
};

struct UploadResponse {
  int status = 0;       // HTTP status of the final attempt
  std::string body;     // the server's JSON answer: to a scan, a verdict summary and the
                        // report's URL (a few hundred bytes), never the report itself
};

// Retries connection failures, 408, 429 and 5xx; any other answer is returned as is.
// `log` receives one line per failed attempt (for stderr).
Expected<UploadResponse> upload_scan(const UploadOptions& options, const GzipTempFile& file, ScanFormat format,
                                     const std::function<void(const std::string&)>& log);

// The same scan as a chunked upload (format/chunked_scan.h): `header_document` is the
// scan document without entries, `chunks` its manifest's chunks (ChunkBuilder). The
// chunks go by digest first and by content only when the server says it lacks them:
// two requests at most in the usual case. The answer is the server's last; a server
// that does not know chunked uploads answers 400 or 415 (send the document then).
Expected<UploadResponse> upload_chunked_scan(const UploadOptions& options, std::string_view header_document,
                                             std::span<const EncodedChunk> chunks,
                                             const std::function<void(const std::string&)>& log);

// What the deployment gate asks of the host (trustbase verify's options).
struct VerifyQuery {
  std::vector<std::string> expect_patches;  // NAME@VERSION that must be complete
  bool cluster_identical = false;
  bool allow_deviations = false;
};

// GET /api/v1/hosts/{host}/verify?format=json: the verdict on the host's latest scan.
// One attempt (it follows a successful upload). The body is the JSON verdict ("ok",
// "reasons"), for the caller to judge by its fields and print as it likes.
Expected<UploadResponse> fetch_verdict(const UploadOptions& options, const std::string& host, const VerifyQuery& query);

}  // namespace tb
