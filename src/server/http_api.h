// The HTTP API (JSON under /api/v1/), on cpp-httplib:
//   GET  /api/v1/health                 no auth; {"status":"ok"}
//   POST /api/v1/scans[?host=NAME]      a scan document (XML or JSON, optionally
//                                       Content-Encoding: gzip or deflate) -> 201 {"scan_id",
//                                       "host", "clean", "summary": {"signatures": {state: n...},
//                                       "deviations": {"added", "removed", "modified"},
//                                       "inventory_issues", "unverified"}, "report_url":
//                                       "/api/v1/hosts/{name}/report"}: the verdict in counts;
//                                       the whole analysis is GET from report_url
//        Content-Type application/vnd.trustbase.chunked-scan: the scan as directory chunks
//                                       (format/chunked_scan.h): 409 {"missing_chunks": [hex...]}
//                                       while the store lacks chunks named by digest alone
//        ?host=NAME[&cluster=C][&role=R] with an enrol token: the host's first scan; the
//                                       201 also carries "host_token" (shown once); 409 when
//                                       the host already has a live host token
//   GET  /api/v1/hosts/{name}/report[?all=1][&format=json|xml|text]   the analysis of the
//                                       host's latest scan (Accept: application/xml: XML)
//   GET  /api/v1/hosts/{name}/scans     the host's scan history
//   GET  /api/v1/hosts/{name}/verify[?expect_patch=N@V...][&cluster_identical=1]
//        [&allow_deviations=1][&format=json|text]   the deployment gate (trustbase verify):
//                                       200 with {"ok", "reasons"...}
//   GET  /api/v1/signatures             the stored signatures, with what each patches and
//                                       supersedes and what patches or supersedes it, and
//                                       "provenance" (what was verified on import, or null)
//   POST /api/v1/signatures?name=N&version=V[&kind=product|patch][&patches=N@V]
//        [&supersedes=N@V]...[&vendor=V][&install_root=DIR]   admin: a signature from a
//                                       scan document body (as `trustbase import FILE`) ->
//                                       201 {"id", "signature", "kind", "records", "created"},
//                                       200 when name@version is stored with the same files,
//                                       409 with other files; other Content-Types: 415
//                                       (package uploads will be told apart by Content-Type)
//
// The fleet routes (clusters, matrix, host details, audit, promote, snapshot) are in
// server/fleet_api.h, the dashboard's static files at / in server/web_ui.h.
//
// Uploads are spooled as sent (in memory up to 1 MiB, beyond in an unlinked file in
// spool_dir, server/spool.h) and parsed from there through a streaming gunzip: a request
// holds the parsed document, never the text of a large one.
// Everything but health wants `Authorization: Bearer <token>` (401 without a live
// token); roles are checked per route (server/auth.h, 403). Errors are {"error": "..."}.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "format/scan_reader.h"
#include "server/metrics.h"
#include "server/request_log.h"
#include "server/scan_signing.h"
#include "server/shared_store.h"

namespace httplib {
class Server;
}

namespace tb::server {

struct ApiOptions {
  // Bound on a posted document, after decompression (413 beyond), and on the body as
  // sent (413 as soon as more arrives, or when Content-Length announces more).
  std::size_t max_body_bytes = std::size_t{256} << 20;
  ReadLimits limits;  // max_document_bytes is lowered to max_body_bytes
  // Where request bodies are spooled (unlinked temporary files); empty: $TMPDIR or /tmp.
  std::string spool_dir;
  // Request lines and errors (stderr; text or JSON lines, with a level threshold).
  Logger logger;
  // Counters the API moves, served on GET /metrics (server/metrics.h); null: no /metrics.
  // Not owned: it must outlive the server.
  Metrics* metrics = nullptr;
  // nullopt: /metrics is open to all; else it wants a token of this role (or admin).
  std::optional<TokenRole> metrics_role;
  // Which scans must be signed by their host's Ed25519 key (server/scan_signing.h).
  SigningPolicy signing;
};

// Registers the routes, authentication, error and exception handlers and the access log
// (server/request_log.h) on `server`. `store` must outlive it.
void install_api(httplib::Server& server, SharedStore& store, const ApiOptions& options);

}  // namespace tb::server
