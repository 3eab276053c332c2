// Reports of the fleet view (core/fleet.h): the hosts × patches matrix per cluster with
// each cluster's identity mark and the list of problem cells, as text for terminals,
// JSON for programs and one self-contained HTML page (inline CSS, no script); and the
// result of `trustbase verify` as text or JSON.
//
// Every name that came from a host or a package (host, cluster, role, signature, error
// text) is made safe for its medium: \xNN escapes on a terminal, sanitised UTF-8 in
// JSON, sanitised and entity-escaped in HTML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/fleet.h"
#include "format/byte_sink.h"
#include "format/drift_report.h"

namespace tb {

enum class FleetReportFormat : std::uint8_t { text, json, html };
std::optional<FleetReportFormat> fleet_report_format_from_string(std::string_view name) noexcept;

struct FleetReportContext {
  std::string title = "fleet";               // what was asked: "fleet", "cluster alpha", "patch fix@2"
  std::optional<std::int64_t> generated_ns;  // when the report was made; omitted when unset (tests)
  // JSON only: list at most this many problems (the dashboard pages them; a page of 100
  // hosts x 200 patches can hold 20,000). The JSON then also carries "problems_total".
  std::optional<std::size_t> max_problems;
};

// The matrix letter of a cell state: C complete, P partial, - absent, S superseded,
// T tampered, U unexpected, M missing, ? unscanned.
char fleet_cell_letter(FleetCellState state) noexcept;

// Text layout:
//   fleet: H hosts in K clusters, N columns; P problem cells, U hosts not scanned
//   legend: C complete  P partial  ...
//   columns:
//       1 fix@1 (patch)
//   cluster alpha: 2 members, 2 scanned, snapshot v3, identical
//     stages: 2=inactive
//                        12        (column numbers, one digit line per decimal place)
//     a-1      active    C-
//   problems:
//     a-2  fix@2  partial (stage inactive: should be complete; found partial)
//     a-1  fix@3  unexpected (stage tested: should be absent; found complete)
//   (or "problems: none")
std::string fleet_report_text(const FleetReportContext& context, const FleetMatrix& matrix);
// JSON: {"title", "generated"?, "columns":[{"signature","kind"}], "totals":{state:n},
//   "clusters":[{"name","members","scanned","snapshot_version"|null,"identical","drifting",
//   "unverified","stages":{signature:stage},"cells":{state:n},"hosts":[{"name","role",
//   "scan":{"id","started"}|null,"drift":{"snapshot_version","added","removed","modified"}|null,
//   "deviations","error"|null,"cells":[state per column]}]}],
//   "problems":[{"problem","host","cluster","signature"?,"observed"?,"stage"?,"expected"?,"detail"?}]}
// "problem" uses the verify vocabulary: partial, tampered, unexpected, missing, no_result,
// not_scanned, scan_error.
std::string fleet_report_json(const FleetReportContext& context, const FleetMatrix& matrix);
// One HTML5 page: a table per fleet with a header row per cluster, cells coloured by
// state (class "s-<state>"), a title tooltip on cells that have a stage or a problem.
std::string fleet_report_html(const FleetReportContext& context, const FleetMatrix& matrix);

Expected<void> write_fleet_report(FleetReportFormat format, const FleetReportContext& context,
                                  const FleetMatrix& matrix, ByteSink& sink);

// `trustbase verify`: "host H (cluster C, role R): OK" or "...: FAILED" then one line per
// reason ("  partial      fix@2  (stage inactive: should be complete; found partial)"),
// then the warnings ("warning: 1 package installed at a version no stored signature
// checks ...", each package's message below).
std::string verify_report_text(const HostStatus& host, const HostVerdict& verdict);
// {"host","cluster","role","scan":{"id","started"}|null,"ok","reasons":[{"problem",
//   "signature"?,"observed"?,"stage"?,"drift"?,"count"?,"detail"?,"packages"?}],
//   "warnings":[same shape]}; "packages": the messages of unverified packages.
std::string verify_report_json(const HostStatus& host, const HostVerdict& verdict);
// ReportFormat::xml is invalid_argument (no XML form yet).
Expected<void> write_verify_report(ReportFormat format, const HostStatus& host, const HostVerdict& verdict,
                                   ByteSink& sink);

// Appends `text` safe for HTML element content and double-quoted attribute values:
// sanitised to plain UTF-8 text, then & < > " as entity references.
void append_html_escaped(std::string& out, std::string_view text);

}  // namespace tb
