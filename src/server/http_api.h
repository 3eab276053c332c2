// The HTTP API (JSON under /api/v1/), on cpp-httplib:
//   GET  /api/v1/health                 no auth; {"status":"ok"}
//   POST /api/v1/scans[?host=NAME]      a scan document (XML or JSON, optionally
//                                       Content-Encoding: gzip) -> 201 {"scan_id", "host",
//                                       "clean", "report": <trustbase report --format json>}
//   GET  /api/v1/hosts/{name}/report[?all=1]   the analysis of the host's latest scan
//   GET  /api/v1/hosts/{name}/scans     the host's scan history
//   GET  /api/v1/signatures             the stored signatures
// Everything but health wants `Authorization: Bearer <token>` (401 without a live
// token); roles are checked per route (server/auth.h, 403). Errors are {"error": "..."}.
#pragma once

#include <cstddef>

#include "format/scan_reader.h"
#include "server/shared_store.h"

namespace httplib {
class Server;
}

namespace tb::server {

struct ApiOptions {
  // Bound on a posted scan, after decompression (413 beyond). Also caps the compressed
  // Content-Length. Every request thread may hold one such body while it parses it.
  std::size_t max_body_bytes = std::size_t{256} << 20;
  ReadLimits limits;  // max_document_bytes is lowered to max_body_bytes
};

// Registers the routes, authentication, error and exception handlers and the access log
// (server/request_log.h) on `server`. `store` must outlive it.
void install_api(httplib::Server& server, SharedStore& store, const ApiOptions& options);

}  // namespace tb::server
