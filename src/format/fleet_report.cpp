#include "format/fleet_report.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/path.h"
#include "format/encoding.h"
#include "format/writer_support.h"

namespace tb {

namespace {

// ---- shared ------------------------------------------------------------------------------

constexpr std::array<char, kFleetCellStateCount> kLetters = {'C', 'P', '-', 'S', 'T', 'U', 'M', '?', 'V'};

FleetCellState state_at(std::size_t i) {
  return static_cast<FleetCellState>(i);
}

// One entry of the problem list; `column` is set for the problems of one cell.
struct Problem {
  VerifyProblem kind;
  std::size_t row;
  std::optional<std::size_t> column;
};

std::optional<VerifyProblem> cell_problem(const FleetRow& row, const FleetCell& cell) {
  switch (cell.state) {
    case FleetCellState::partial:
      return VerifyProblem::partial;
    case FleetCellState::tampered:
      return VerifyProblem::tampered;
    case FleetCellState::unexpected:
      return VerifyProblem::unexpected;
    case FleetCellState::missing:
      return VerifyProblem::missing;
    case FleetCellState::unscanned:
      // Per cell only on a judged host: a host without a scan is one problem, not one per column.
      if (row.scan && !row.error && cell.expected() == true) return VerifyProblem::no_result;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// Problems in row order: a host's own problem, or its problem cells in column order.
template <class Fn>
void for_each_problem(const FleetMatrix& m, Fn&& fn) {
  for (std::size_t r = 0; r < m.rows.size(); ++r) {
    const FleetRow& row = m.rows[r];
    if (!row.scan) {
      fn(Problem{VerifyProblem::not_scanned, r, std::nullopt});
      continue;
    }
    if (row.error) {
      fn(Problem{VerifyProblem::scan_error, r, std::nullopt});
      continue;
    }
    const auto cells = m.row_cells(r);
    for (std::size_t c = 0; c < cells.size(); ++c)
      if (auto p = cell_problem(row, cells[c])) fn(Problem{*p, r, c});
  }
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string overview(const FleetMatrix& m) {
  std::size_t cells = 0, hosts = 0;
  for_each_problem(m, [&](const Problem& p) { ++(p.column ? cells : hosts); });
  return fmt::format("{} in {}, {}; {}, {} not scanned", plural(m.rows.size(), "host", "hosts"),
                     plural(m.clusters.size(), "cluster", "clusters"), plural(m.columns.size(), "column", "columns"),
                     plural(cells, "problem cell", "problem cells"), plural(hosts, "host", "hosts"));
}

// "a, b, c +N more": member names without flooding a header line.
std::string name_list(const std::vector<std::string>& names, std::size_t max_names = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max_names; ++i) {
    if (i != 0) out += ", ";
    out += printable(names[i]);
  }
  if (names.size() > max_names) out += fmt::format(" +{} more", names.size() - max_names);
  return out;
}

// "identical", "DRIFT: b-2", "UNVERIFIED: b-3", "no snapshot" or "not scanned".
std::string identity_mark(const FleetClusterSummary& s) {
  if (s.identical) return "identical";
  if (!s.snapshot_version) return "no snapshot";
  std::string out;
  if (!s.drifting.empty()) out = "DRIFT: " + name_list(s.drifting);
  if (!s.unverified.empty()) {
    if (!out.empty()) out += "; ";
    out += "UNVERIFIED: " + name_list(s.unverified);
  }
  if (out.empty()) out = "not scanned";
  return out;
}

std::string cluster_facts(const FleetClusterSummary& s) {
  std::string out = fmt::format("{}, {} scanned", plural(s.members, "member", "members"), s.scanned);
  if (s.snapshot_version) out += fmt::format(", snapshot v{}", *s.snapshot_version);
  return out;
}

std::string_view cluster_label(const std::string& name) {
  return name.empty() ? "(none)" : std::string_view(name);
}

// "partial", "no result": the verify vocabulary for people.
std::string problem_label(VerifyProblem p) {
  std::string s(to_string(p));
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

// What the stage asks of a signature on a member and what was found there:
// "stage inactive: should be complete; found partial". `should_be_complete`: the stage
// expects it on the member's role (else it should be absent); `found`: the analysed state,
// nullopt when there is no analysis result.
std::string stage_verdict(Stage stage, bool should_be_complete, std::optional<SignatureState> found) {
  return fmt::format("stage {}: should be {}; found {}", to_string(stage), should_be_complete ? "complete" : "absent",
                     found ? to_string(*found) : std::string_view("no analysis result"));
}

// A cell's stage verdict; empty when no stage is set.
std::string cell_stage_verdict(const FleetCell& cell) {
  if (!cell.stage()) return {};
  return stage_verdict(*cell.stage(), cell.expected() == true, cell.observed());
}

// What a problem cell adds to its name: " (stage tested: should be absent; found complete)".
std::string cell_detail(const FleetCell& cell) {
  return cell.stage() ? " (" + cell_stage_verdict(cell) + ")" : std::string();
}

std::string drift_text(const SnapshotDrift& d) {
  return fmt::format("snapshot v{}: {} added, {} removed, {} modified", d.snapshot_version, d.added, d.removed,
                     d.modified);
}

// Notes after a row's letters: why it is unscanned, how it differs.
std::string row_notes(const FleetRow& row) {
  if (!row.scan) return "not scanned";
  if (row.error) return "scan error: " + printable(*row.error);
  std::string out;
  if (row.drift && row.drift->total() != 0)
    out += fmt::format("drift +{} -{} ~{}", row.drift->added, row.drift->removed, row.drift->modified);
  if (row.deviations != 0) {
    if (!out.empty()) out += ", ";
    out += plural(row.deviations, "deviation", "deviations");
  }
  return out;
}

// ---- text ------------------------------------------------------------------------------

// Appends formatted text to `o` without a temporary string.
template <class... Args>
void put(std::string& o, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(o), format, std::forward<Args>(args)...);
}

std::size_t digits(std::size_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Column numbers written downwards, one line per decimal place (most significant first).
void column_numbers(std::string& o, std::size_t indent, std::size_t columns) {
  std::size_t place = 1;
  for (std::size_t d = 1; d < digits(columns); ++d) place *= 10;
  for (; place >= 1; place /= 10) {
    o.append(indent, ' ');
    for (std::size_t n = 1; n <= columns; ++n) o += n >= place ? static_cast<char>('0' + (n / place) % 10) : ' ';
    o += '\n';
  }
}

void text_report(const FleetReportContext& context, const FleetMatrix& m, OutputBuffer& out) {
  // Names made printable once, padded to their column's width.
  std::size_t name_width = 4, role_width = 4, id_width = 4;
  std::vector<std::string> names, roles, column_ids;
  names.reserve(m.rows.size());
  roles.reserve(m.rows.size());
  for (const FleetRow& row : m.rows) {
    names.push_back(printable(row.host));
    roles.push_back(printable(row.role));
    name_width = std::max(name_width, std::min<std::size_t>(names.back().size(), 40));
    role_width = std::max(role_width, std::min<std::size_t>(roles.back().size(), 12));
  }
  for (const FleetColumn& c : m.columns) {
    column_ids.push_back(printable(c.ref.id()));
    id_width = std::max(id_width, std::min<std::size_t>(column_ids.back().size(), 40));
  }
  for (std::string& n : names) n.resize(std::max(n.size(), name_width), ' ');
  for (std::string& r : roles) r.resize(std::max(r.size(), role_width), ' ');

  std::string& o = out.text();
  put(o, "{}: {}\n", printable(context.title), overview(m));
  if (context.generated_ns) put(o, "generated {}\n", format_timestamp(*context.generated_ns));
  o += "legend:";
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i) put(o, " {} {} ", kLetters[i], to_string(state_at(i)));
  o.back() = '\n';
  o += "columns:\n";
  const std::size_t number_width = digits(m.columns.size());
  for (std::size_t c = 0; c < m.columns.size(); ++c)
    put(o, "  {:>{}} {} ({})\n", c + 1, number_width, column_ids[c], to_string(m.columns[c].kind));
  if (m.columns.empty()) o += "  none\n";

  const std::size_t indent = 2 + name_width + 1 + role_width + 1;
  for (const FleetClusterSummary& s : m.clusters) {
    put(o, "cluster {}: {}: {}\n", printable(cluster_label(s.name)), cluster_facts(s), identity_mark(s));
    bool staged = false;
    for (std::size_t c = 0; c < s.stages.size(); ++c) {
      if (!s.stages[c]) continue;
      o += staged ? " " : "  stages: ";
      staged = true;
      put(o, "{}={}", c + 1, to_string(*s.stages[c]));
    }
    if (staged) o += '\n';
    if (!m.columns.empty()) column_numbers(o, indent, m.columns.size());
    for (std::size_t r = s.first_row; r < s.first_row + s.row_count; ++r) {
      o += "  ";
      o += names[r];
      o += ' ';
      o += roles[r];
      o += ' ';
      for (const FleetCell& cell : m.row_cells(r)) o += kLetters[static_cast<std::size_t>(cell.state)];
      const std::string notes = row_notes(m.rows[r]);
      if (!notes.empty()) {
        o += "  ";
        o += notes;
      }
      while (!o.empty() && o.back() == ' ') o.pop_back();  // no trailing blanks (zero columns, no notes)
      o += '\n';
      out.maybe_flush();
    }
  }

  bool any = false;
  for_each_problem(m, [&](const Problem& p) {
    if (!any) o += "problems:\n";
    any = true;
    const FleetRow& row = m.rows[p.row];
    o += "  ";
    o += names[p.row];
    o += ' ';
    if (!p.column) {
      o += problem_label(p.kind);
      if (p.kind == VerifyProblem::scan_error) put(o, ": {}", printable(*row.error));
    } else {
      put(o, "{:<{}} {}{}", column_ids[*p.column], id_width, problem_label(p.kind),
          cell_detail(m.cell(p.row, *p.column)));
    }
    o += '\n';
    out.maybe_flush();
  });
  if (!any) o += "problems: none\n";
}

// ---- JSON --------------------------------------------------------------------------------

void put_scan(std::string& o, const std::optional<ScanRef>& scan) {
  if (!scan) {
    o += "null";
    return;
  }
  put(o, "{{\"id\":{},\"started\":\"{}\"}}", scan->id, format_timestamp(scan->started_ns));
}

void put_drift(std::string& o, const SnapshotDrift& d) {
  put(o, "{{\"snapshot_version\":{},\"added\":{},\"removed\":{},\"modified\":{}}}", d.snapshot_version, d.added,
      d.removed, d.modified);
}

void put_counts(std::string& o, const FleetStateCounts& counts) {
  o += '{';
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    put(o, "{}\"{}\":{}", i == 0 ? "" : ",", to_string(state_at(i)), counts.by_state[i]);
  o += '}';
}

void put_names(std::string& o, const std::vector<std::string>& names) {
  o += '[';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) o += ',';
    append_json_text(o, names[i]);
  }
  o += ']';
}

void json_report(const FleetReportContext& context, const FleetMatrix& m, OutputBuffer& out) {
  // Each column's id and each state as a JSON string: built once.
  std::vector<std::string> quoted_ids;
  for (const FleetColumn& c : m.columns) {
    quoted_ids.emplace_back();
    append_json_text(quoted_ids.back(), c.ref.id());
  }
  std::array<std::string, kFleetCellStateCount> quoted_states;
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    quoted_states[i] = fmt::format("\"{}\"", to_string(state_at(i)));

  std::string& o = out.text();
  o += "{\"title\":";
  append_json_text(o, context.title);
  if (context.generated_ns) put(o, ",\"generated\":\"{}\"", format_timestamp(*context.generated_ns));
  o += ",\"columns\":[";
  for (std::size_t c = 0; c < m.columns.size(); ++c) {
    if (c != 0) o += ',';
    o += "{\"signature\":";
    o += quoted_ids[c];
    put(o, ",\"kind\":\"{}\"}}", to_string(m.columns[c].kind));
  }
  o += "],\"totals\":";
  put_counts(o, m.totals);
  o += ",\"clusters\":[";
  for (std::size_t k = 0; k < m.clusters.size(); ++k) {
    const FleetClusterSummary& s = m.clusters[k];
    if (k != 0) o += ',';
    o += "\n{\"name\":";
    append_json_text(o, s.name);
    put(o, ",\"members\":{},\"scanned\":{},\"snapshot_version\":", s.members, s.scanned);
    if (s.snapshot_version)
      put(o, "{}", *s.snapshot_version);
    else
      o += "null";
    o += s.identical ? ",\"identical\":true" : ",\"identical\":false";
    o += ",\"drifting\":";
    put_names(o, s.drifting);
    o += ",\"unverified\":";
    put_names(o, s.unverified);
    o += ",\"stages\":{";
    bool first = true;
    for (std::size_t c = 0; c < s.stages.size(); ++c) {
      if (!s.stages[c]) continue;
      if (!first) o += ',';
      first = false;
      o += quoted_ids[c];
      put(o, ":\"{}\"", to_string(*s.stages[c]));
    }
    o += "},\"cells\":";
    put_counts(o, s.cells);
    o += ",\"hosts\":[";
    for (std::size_t r = s.first_row; r < s.first_row + s.row_count; ++r) {
      const FleetRow& row = m.rows[r];
      if (r != s.first_row) o += ',';
      o += "\n{\"name\":";
      append_json_text(o, row.host);
      o += ",\"role\":";
      append_json_text(o, row.role);
      o += ",\"scan\":";
      put_scan(o, row.scan);
      o += ",\"drift\":";
      if (row.drift)
        put_drift(o, *row.drift);
      else
        o += "null";
      put(o, ",\"deviations\":{},\"error\":", row.deviations);
      if (row.error)
        append_json_text(o, *row.error);
      else
        o += "null";
      o += ",\"cells\":[";
      const auto cells = m.row_cells(r);
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (c != 0) o += ',';
        o += quoted_states[static_cast<std::size_t>(cells[c].state)];
      }
      o += "]}";
      out.maybe_flush();
    }
    o += "]}";
  }
  o += "],\"problems\":[";
  bool first = true;
  std::size_t problems = 0;
  for_each_problem(m, [&](const Problem& p) {
    if (context.max_problems && problems++ >= *context.max_problems) return;
    const FleetRow& row = m.rows[p.row];
    if (!first) o += ',';
    first = false;
    put(o, "\n{{\"problem\":\"{}\",\"host\":", to_string(p.kind));
    append_json_text(o, row.host);
    o += ",\"cluster\":";
    append_json_text(o, row.cluster);
    if (p.kind == VerifyProblem::scan_error) {
      o += ",\"detail\":";
      append_json_text(o, *row.error);
    }
    if (p.column) {
      const FleetCell& cell = m.cell(p.row, *p.column);
      o += ",\"signature\":";
      o += quoted_ids[*p.column];
      o += ",\"observed\":";
      if (cell.observed())
        put(o, "\"{}\"", to_string(*cell.observed()));
      else
        o += "null";
      o += ",\"stage\":";
      if (cell.stage())
        put(o, "\"{}\"", to_string(*cell.stage()));
      else
        o += "null";
      o += ",\"expected\":";
      o += cell.expected() ? (*cell.expected() ? "true" : "false") : "null";
    }
    o += '}';
    out.maybe_flush();
  });
  o += "\n]";
  if (context.max_problems) put(o, ",\"problems_total\":{}", problems);
  o += "}\n";
}

// ---- HTML --------------------------------------------------------------------------------

constexpr std::string_view kStyle = R"(body{font-family:system-ui,sans-serif;font-size:14px;margin:1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:1px 4px}
table.matrix td.s{text-align:center;font-family:monospace;min-width:1.1em;padding:1px 2px}
table.matrix th.col{vertical-align:bottom;padding:2px}
table.matrix th.col div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
tr.cluster th{text-align:left;background:#eceff1;padding:4px}
td.host{font-family:monospace;white-space:nowrap}
td.notes{color:#555;white-space:nowrap}
.mark{font-weight:bold;padding:0 4px}.mark.ok{color:#1b5e20}.mark.bad{color:#b71c1c}.mark.none{color:#777}
.legend span.s{display:inline-block;width:1.4em;text-align:center;font-family:monospace;margin-left:.8em}
td.x{font-weight:bold}
.s-complete{background:#c8e6c9}.s-partial{background:#ffcc80}.s-absent{background:#fafafa;color:#999}
.s-superseded{background:#dcedc8;color:#555}.s-tampered{background:#e57373}.s-unexpected{background:#ce93d8}
.s-missing{background:#ffcdd2}.s-unscanned{background:#fff9c4;color:#777}.s-unverified{background:#ffe0b2;color:#555}
)";

void html(std::string& o, std::string_view text) {
  append_html_escaped(o, text);
}

void html_report(const FleetReportContext& context, const FleetMatrix& m, OutputBuffer& out) {
  std::vector<std::string> ids;  // escaped once per column
  for (const FleetColumn& c : m.columns) {
    ids.emplace_back();
    html(ids.back(), c.ref.id());
  }
  std::string& o = out.text();
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>trustbase: ";
  html(o, context.title);
  o += "</title>\n<style>\n";
  o += kStyle;
  o += "</style>\n</head>\n<body>\n<h1>";
  html(o, context.title);
  o += "</h1>\n<p class=\"overview\">";
  html(o, overview(m));
  if (context.generated_ns) put(o, " (generated {})", format_timestamp(*context.generated_ns));
  o += "</p>\n<p class=\"legend\">";
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    put(o, "<span class=\"s s-{0}\">{1}</span> {0}", to_string(state_at(i)), kLetters[i]);
  o += "</p>\n<table class=\"matrix\">\n<thead><tr><th>host</th><th>role</th>";
  for (std::size_t c = 0; c < m.columns.size(); ++c)
    put(o, "<th class=\"col\" title=\"{0} ({1})\"><div>{0}</div></th>", ids[c], to_string(m.columns[c].kind));
  o += "<th>notes</th></tr></thead>\n";

  const std::size_t span = m.columns.size() + 3;
  for (const FleetClusterSummary& s : m.clusters) {
    put(o, "<tbody>\n<tr class=\"cluster\"><th colspan=\"{}\">cluster ", span);
    html(o, cluster_label(s.name));
    o += ": ";
    html(o, cluster_facts(s));
    const char* mark = s.identical ? "ok" : s.snapshot_version ? "bad" : "none";
    put(o, " <span class=\"mark {}\">", mark);
    html(o, identity_mark(s));
    o += "</span></th></tr>\n";
    for (std::size_t r = s.first_row; r < s.first_row + s.row_count; ++r) {
      const FleetRow& row = m.rows[r];
      o += "<tr><td class=\"host\">";
      html(o, row.host);
      o += "</td><td>";
      html(o, row.role);
      o += "</td>";
      const auto cells = m.row_cells(r);
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const FleetCell& cell = cells[c];
        const std::string_view state = to_string(cell.state);
        o += "<td class=\"s s-";
        o += state;
        if (cell.expected() == true) o += " x";
        o += '"';
        // A tooltip where the cell says more than its colour: a stage or a problem.
        if (cell.stage() || is_problem(cell.state)) {
          o += " title=\"";
          o += ids[c];
          o += ": ";
          o += state;
          if (cell.stage()) put(o, "; {}", cell_stage_verdict(cell));
          o += '"';
        }
        o += '>';
        o += kLetters[static_cast<std::size_t>(cell.state)];
        o += "</td>";
      }
      o += "<td class=\"notes\">";
      html(o, row_notes(row));
      o += "</td></tr>\n";
      out.maybe_flush();
    }
    o += "</tbody>\n";
  }
  o += "</table>\n<h2>Problems</h2>\n";

  bool any = false;
  for_each_problem(m, [&](const Problem& p) {
    if (!any)
      o += "<table class=\"problems\">\n<thead><tr><th>host</th><th>cluster</th><th>signature</th><th>problem</th>"
           "<th>detail</th></tr></thead>\n<tbody>\n";
    any = true;
    const FleetRow& row = m.rows[p.row];
    o += "<tr><td class=\"host\">";
    html(o, row.host);
    o += "</td><td>";
    html(o, cluster_label(row.cluster));
    o += "</td><td>";
    if (p.column) o += ids[*p.column];
    o += "</td><td>";
    html(o, problem_label(p.kind));
    o += "</td><td>";
    if (p.column)
      html(o, cell_stage_verdict(m.cell(p.row, *p.column)));
    else if (row.error)
      html(o, *row.error);
    o += "</td></tr>\n";
    out.maybe_flush();
  });
  o += any ? "</tbody>\n</table>\n" : "<p>none</p>\n";
  o += "</body>\n</html>\n";
}

// ---- verify ------------------------------------------------------------------------------

// "4 that no signature explains, 3 attributed to a@1, b@2": the parts of a deviation count.
std::string attribution_text(const DeviationAttribution& a) {
  constexpr std::size_t kNamed = 5;  // signatures named; the rest counted
  std::string o;
  if (a.unexplained != 0) o += fmt::format("{} that no signature explains", a.unexplained);
  if (a.attributed != 0) {
    if (!o.empty()) o += ", ";
    o += fmt::format("{} attributed to ", a.attributed);
    for (std::size_t i = 0; i < a.signatures.size() && i < kNamed; ++i)
      o += (i == 0 ? "" : ", ") + printable(a.signatures[i].id());
    if (a.signatures.size() > kNamed) o += fmt::format(" and {} more", a.signatures.size() - kNamed);
  }
  return o;
}

std::string reason_text(const VerifyReason& r) {
  std::string o = fmt::format("  {:<12} ", problem_label(r.problem));
  switch (r.problem) {
    case VerifyProblem::not_scanned:
      o += "the host has no scan";
      break;
    case VerifyProblem::scan_error:
      o += printable(r.detail);
      break;
    case VerifyProblem::deviations:
      o += plural(r.count, "deviating file", "deviating files");
      if (r.attribution) o += ": " + attribution_text(*r.attribution);
      break;
    case VerifyProblem::inventory:
      o += plural(r.count, "package", "packages") + " whose files are not the version the package manager lists";
      break;
    case VerifyProblem::no_snapshot:
      o += "not compared with a cluster snapshot";
      break;
    case VerifyProblem::drift:
      if (r.drift) o += drift_text(*r.drift);
      break;
    case VerifyProblem::unverified:
      o += plural(r.count, "package", "packages") + " installed at a version no stored signature checks";
      for (const std::string& d : r.details) o += "\n      " + printable(d);
      break;
    default: {
      if (r.ref) o += printable(r.ref->id());
      // A staged signature: what its stage asks (only `unexpected` means it should be
      // absent: every other problem of a staged one is expected there) and what was found.
      const std::string facts =
          r.stage ? stage_verdict(*r.stage, r.problem != VerifyProblem::unexpected, r.observed)
                  : (r.observed ? std::string(to_string(*r.observed)) : std::string("no analysis result"));
      o += "  (" + facts + ")";
    }
  }
  while (!o.empty() && o.back() == ' ') o.pop_back();
  return o + '\n';
}

}  // namespace

std::optional<FleetReportFormat> fleet_report_format_from_string(std::string_view name) noexcept {
  if (name == "text") return FleetReportFormat::text;
  if (name == "json") return FleetReportFormat::json;
  if (name == "html") return FleetReportFormat::html;
  return std::nullopt;
}

char fleet_cell_letter(FleetCellState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < kLetters.size() ? kLetters[i] : '?';
}

void append_html_escaped(std::string& out, std::string_view text) {
  if (is_plain_text(text))
    append_xml_escaped(out, text);
  else
    append_xml_escaped(out, sanitize_text(text));
}

namespace {

using Renderer = void (*)(const FleetReportContext&, const FleetMatrix&, OutputBuffer&);

Renderer renderer(FleetReportFormat format) {
  switch (format) {
    case FleetReportFormat::json:
      return json_report;
    case FleetReportFormat::html:
      return html_report;
    case FleetReportFormat::text:
      break;
  }
  return text_report;
}

std::string render(FleetReportFormat format, const FleetReportContext& context, const FleetMatrix& matrix) {
  std::string result;
  StringSink sink(result);
  OutputBuffer out(sink);
  renderer(format)(context, matrix, out);
  (void)out.finish();  // a StringSink does not fail
  return result;
}

}  // namespace

std::string fleet_report_text(const FleetReportContext& context, const FleetMatrix& matrix) {
  return render(FleetReportFormat::text, context, matrix);
}
std::string fleet_report_json(const FleetReportContext& context, const FleetMatrix& matrix) {
  return render(FleetReportFormat::json, context, matrix);
}
std::string fleet_report_html(const FleetReportContext& context, const FleetMatrix& matrix) {
  return render(FleetReportFormat::html, context, matrix);
}

Expected<void> write_fleet_report(FleetReportFormat format, const FleetReportContext& context,
                                  const FleetMatrix& matrix, ByteSink& sink) {
  OutputBuffer out(sink);
  renderer(format)(context, matrix, out);
  return out.finish();
}

std::string verify_report_text(const HostStatus& host, const HostVerdict& verdict) {
  std::string o = fmt::format("host {} (cluster {}, role {}", printable(host.name),
                              printable(cluster_label(host.cluster)), printable(host.role));
  if (host.scan) o += fmt::format(", scan {} of {}", host.scan->id, format_timestamp(host.scan->started_ns));
  o += verdict.ok ? "): OK\n" : "): FAILED\n";
  for (const VerifyReason& r : verdict.reasons) o += reason_text(r);
  // Warnings do not fail the gate: "warning: 1 package installed at a version no stored
  // signature checks (unverified; --require-signatures fails on it)", then the packages.
  for (const VerifyReason& r : verdict.warnings) {
    if (r.problem != VerifyProblem::unverified) continue;  // the only warning there is
    o += fmt::format(
        "warning: {} installed at a version no stored signature checks (unverified; "
        "--require-signatures fails on {})\n",
        plural(r.count, "package", "packages"), r.count == 1 ? "it" : "them");
    for (const std::string& d : r.details) o += "      " + printable(d) + '\n';
  }
  return o;
}

namespace {

// One reason or warning of a verify result as a JSON object.
void put_verify_reason(std::string& o, const VerifyReason& r) {
  o += fmt::format("\n{{\"problem\":\"{}\"", to_string(r.problem));
  if (r.ref) {
    o += ",\"signature\":";
    append_json_text(o, r.ref->id());
  }
  if (r.observed) o += fmt::format(",\"observed\":\"{}\"", to_string(*r.observed));
  if (r.stage) o += fmt::format(",\"stage\":\"{}\"", to_string(*r.stage));
  if (r.drift) {
    o += ",\"drift\":";
    put_drift(o, *r.drift);
  }
  if (r.problem == VerifyProblem::deviations || r.problem == VerifyProblem::inventory ||
      r.problem == VerifyProblem::unverified)
    o += fmt::format(",\"count\":{}", r.count);
  if (r.attribution) {
    o += fmt::format(",\"unexplained\":{},\"attributed\":{},\"attributed_to\":[", r.attribution->unexplained,
                     r.attribution->attributed);
    for (std::size_t k = 0; k < r.attribution->signatures.size(); ++k) {
      if (k != 0) o += ',';
      append_json_text(o, r.attribution->signatures[k].id());
    }
    o += ']';
  }
  if (r.problem == VerifyProblem::unverified) {
    o += ",\"packages\":[";
    for (std::size_t k = 0; k < r.details.size(); ++k) {
      if (k != 0) o += ',';
      append_json_text(o, r.details[k]);
    }
    o += ']';
  }
  if (r.problem == VerifyProblem::scan_error) {
    o += ",\"detail\":";
    append_json_text(o, r.detail);
  }
  o += '}';
}

}  // namespace

std::string verify_report_json(const HostStatus& host, const HostVerdict& verdict) {
  std::string o = "{\"host\":";
  append_json_text(o, host.name);
  o += ",\"cluster\":";
  append_json_text(o, host.cluster);
  o += ",\"role\":";
  append_json_text(o, host.role);
  o += ",\"scan\":";
  put_scan(o, host.scan);
  o += verdict.ok ? ",\"ok\":true" : ",\"ok\":false";
  o += ",\"reasons\":[";
  for (std::size_t i = 0; i < verdict.reasons.size(); ++i) {
    if (i != 0) o += ',';
    put_verify_reason(o, verdict.reasons[i]);
  }
  o += "\n],\"warnings\":[";
  for (std::size_t i = 0; i < verdict.warnings.size(); ++i) {
    if (i != 0) o += ',';
    put_verify_reason(o, verdict.warnings[i]);
  }
  o += "\n]}\n";
  return o;
}

Expected<void> write_verify_report(ReportFormat format, const HostStatus& host, const HostVerdict& verdict,
                                   ByteSink& sink) {
  if (format == ReportFormat::xml) return fail(ErrorCode::invalid_argument, "verify results come as text or json");
  const std::string out =
      format == ReportFormat::json ? verify_report_json(host, verdict) : verify_report_text(host, verdict);
  if (auto st = sink.write(out); !st) return st;
  return sink.flush();
}

}  // namespace tb
