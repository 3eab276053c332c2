// Who may do what on the HTTP API. Authentication: `Authorization: Bearer <token>`,
// looked up in the store by the token's SHA-256 (store.h). Authorization is by role:
//   admin   everything
//   host    POST scans (only for its bound host when it has one), GET its own host's
//           report and scan list (a host token without a bound host has no "own" host)
//   reader  every GET
//   enrol   POST the first scan of a host named by ?host= that has no host token yet
//           (the server then creates one and returns it); nothing else
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace tb::server {

// The token of an `Authorization: Bearer <token>` header value; nullopt when the header
// is not of that form (the scheme is case-insensitive, as HTTP wants).
std::optional<std::string_view> bearer_token(std::string_view authorization);

// A refusal: the HTTP status (401 or 403) and a message for the client.
struct Refusal {
  int status = 403;
  std::string message;
};

// The host a scan is filed under, or why the token may not post it. `requested` is the
// `host` query parameter (empty: none), `document_host` the scan's own hostname.
tl::expected<std::string, Refusal> scan_host_for(const TokenInfo& token, std::string_view requested,
                                                 std::string_view document_host);
// Whether the token may post scans at all (checked before the body is read).
std::optional<Refusal> may_post_scans(const TokenInfo& token);
// Whether the token may read one host's report and history.
std::optional<Refusal> may_read_host(const TokenInfo& token, std::string_view host);
// Whether the token may read fleet-wide data (signatures, ...).
std::optional<Refusal> may_read_fleet(const TokenInfo& token);
// Whether the token may import signatures (admin only).
std::optional<Refusal> may_import_signatures(const TokenInfo& token);

}  // namespace tb::server
