// The members of one cluster against its reference snapshot, file by file: the drift
// part of `trustbase report cluster C` (the matrix part is format/fleet_report.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/analysis.h"
#include "core/error.h"
#include "format/byte_sink.h"
#include "format/drift_report.h"

namespace tb {

struct MemberDriftView {
  std::string host;
  std::string role;
  std::int64_t scan_id = 0;           // 0: never scanned
  std::int64_t snapshot_version = 0;  // 0: not compared (no snapshot, or no scan)
  const Drift* drift = nullptr;       // required when snapshot_version != 0
};

// Whether every scanned member was compared with a snapshot and none differs.
bool members_identical(std::span<const MemberDriftView> members);

// Text: "cluster C: snapshot vN, M members, identical|DRIFT" then per member its
// differences with the products they belong to. JSON: {"cluster","identical","members":
// [{"host","role","scan_id","snapshot_version","identical","counts":{added,removed,modified},
// "deviations":[{"path","change","changed","owners","content_owners"}]}]}. xml: invalid_argument.
Expected<void> write_cluster_drift_report(ReportFormat format, std::string_view cluster,
                                          std::span<const MemberDriftView> members, ByteSink& sink);

}  // namespace tb
