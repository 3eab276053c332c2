// The fleet routes of the HTTP API (JSON under /api/v1/), for the dashboard and scripts:
//   GET  /api/v1/whoami                   the token's name, role and bound host (any token)
//   GET  /api/v1/clusters                 every cluster: name, description, members, snapshot
//   GET  /api/v1/clusters/{c}             one cluster: its snapshots, the stage of each patch
//                                         (with who set it), and its members' drift from the
//                                         latest snapshot (format/cluster_report.h JSON)
//   GET  /api/v1/fleet[?offset=&limit=][&cluster=C][&patch=N@V][&state=S[,S...]][&products=1|0]
//                                         the hosts × patches matrix (format/fleet_report.h
//                                         JSON) of the hosts [offset, offset+limit), limit
//                                         1..1000 (default 100), with the totals of the whole
//                                         filtered fleet; `state` also takes "problems";
//                                         product columns where a host has a problem with
//                                         them, every one with products=1, none with 0
//                                         (fleet::MatrixRequest, as `report fleet`)
//   GET  /api/v1/hosts/{h}[?format=json|csv]   the latest scan: summary, the analysis
//                                         (format/analysis_report.h JSON, absent signatures
//                                         included) and the SHA-256 found and expected for
//                                         every deviating path; csv: one line per deviation
//   GET  /api/v1/hosts/{h}/history        every scan, with what changed since the one before
//   GET  /api/v1/audit[?limit=N]          admin: the newest audit entries (N 1..1000, 200)
//   POST /api/v1/clusters/{c}/promote?patch=N@V&stage=tested|inactive|active    admin
//   POST /api/v1/clusters/{c}/snapshot?host=H   admin: publishes H's latest scan (a member
//                                         of c) as c's next reference snapshot
// Reads want a reader or admin token (a host token: its own host's routes only). Writes
// are audit-logged by the store with the actor "token:<token name>". Routes that read
// cached analyses refresh the stale ones first, under the store lock (as verify does).
#pragma once

#include <functional>

#include "server/shared_store.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace tb::server {

// The token the API's authentication accepted for the request being served (nullptr:
// none; the route answers 401).
using CurrentToken = std::function<const TokenInfo*()>;

// Registers the routes above on `server`; `store` must outlive it.
void install_fleet_api(httplib::Server& server, SharedStore& store, CurrentToken current_token);

}  // namespace tb::server
