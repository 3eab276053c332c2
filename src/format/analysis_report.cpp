#include "format/analysis_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/path.h"
#include "format/encoding.h"
#include "format/report_xml.h"

namespace tb {

namespace {

std::string refs(const std::vector<SignatureRef>& list) {
  std::string out;
  for (const SignatureRef& r : list) {
    if (!out.empty()) out += ", ";
    out += r.id();
  }
  return out;
}

bool listed(const SignatureVerdict& v, const AnalysisContext& c) {
  return c.include_absent || v.state != SignatureState::absent;
}

// The text report reads on a real host (100k+ files, 1,000+ packages): a summary, the
// signatures with problems, deviations grouped by owning signature and, for files nothing
// owns, by directory, each list cut to its largest entries ("… N more (--all)"). `--all`
// lists everything; JSON and XML always do.
constexpr std::size_t kShownSignatures = 15;  // problem signatures listed
constexpr std::size_t kShownIssues = 3;       // file lines per signature or group
constexpr std::size_t kShownGroups = 12;      // deviation groups of each kind
constexpr std::size_t kShownInventory = 12;   // inventory issue lines
constexpr std::size_t kListAllBelow = 20;     // fewer signatures installed: list them all

bool problem(SignatureState s) {
  return s == SignatureState::partial || s == SignatureState::tampered || s == SignatureState::unverified;
}

std::string count_line(const std::map<std::string, std::size_t, std::less<>>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, name);
  return out.empty() ? "none" : out;
}

// The directory an unowned file is grouped under: its first three components at most
// ("/usr/local/lib/x/y.so" -> "/usr/local/lib"), so a few lines cover a whole tree.
std::string_view group_dir(std::string_view path) {
  std::size_t pos = 0;
  for (int depth = 0; depth < 3; ++depth) {
    const std::size_t next = path.find('/', pos + 1);
    if (next == std::string_view::npos) return depth == 0 ? std::string_view("/") : path.substr(0, pos);
    pos = next;
  }
  return path.substr(0, pos);
}

struct Group {
  std::string name;
  std::size_t added = 0, removed = 0, modified = 0;
  std::vector<const FileDeviation*> files;
  std::size_t total() const { return added + removed + modified; }
};

std::vector<Group> group_deviations(const Analysis& a, bool owned) {
  std::map<std::string, Group, std::less<>> groups;
  for (const FileDeviation& d : a.deviations) {
    if (d.owners.empty() == owned) continue;
    const std::string key = owned ? d.owners.front().id() : std::string(group_dir(d.path));
    Group& g = groups[key];
    g.name = key;
    ++(d.change == Change::added ? g.added : d.change == Change::removed ? g.removed : g.modified);
    g.files.push_back(&d);
  }
  std::vector<Group> out;
  for (auto& [k, g] : groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const Group& x, const Group& y) { return x.total() > y.total(); });
  return out;
}

void deviation_line(std::string& o, const FileDeviation& d, std::string_view indent) {
  o += fmt::format("{}{:<9} {}", indent, to_string(d.change), printable(d.path));
  if (!d.changed.empty()) o += fmt::format("  ({})", describe(d.changed));
  o += d.owners.empty() ? std::string("  [unknown]") : fmt::format("  [{}]", printable(refs(d.owners)));
  if (!d.content_owners.empty()) o += fmt::format("  content of {}", printable(refs(d.content_owners)));
  o += '\n';
}

void more_line(std::string& o, std::string_view indent, std::size_t more, std::string_view what) {
  if (more != 0) o += fmt::format("{}… {} more {} (--all)\n", indent, more, what);
}

void signature_lines(std::string& o, const SignatureVerdict& v, bool all, bool verbose) {
  o += fmt::format("  {:<10} {:<8} {}  ({}/{} files match", to_string(v.state), to_string(v.kind),
                   printable(v.ref.id()), v.counts.matching, v.counts.expected);
  if (v.counts.missing != 0) o += fmt::format("; {} missing", v.counts.missing);
  if (v.counts.modified != 0) o += fmt::format("; {} modified", v.counts.modified);
  if (v.counts.not_applied != 0) o += fmt::format("; {} not applied", v.counts.not_applied);
  if (v.counts.replaced != 0) o += fmt::format("; {} replaced", v.counts.replaced);
  if (v.counts.config_changed != 0) o += fmt::format("; {} config changed", v.counts.config_changed);
  if (!v.patched_by.empty()) o += fmt::format("; patched by {}", refs(v.patched_by));
  if (!v.superseded_by.empty()) o += fmt::format("; superseded by {}", refs(v.superseded_by));
  if (!v.other_version.empty()) o += fmt::format("; found instead {}", refs(v.other_version));
  o += ")\n";
  std::size_t shown = 0, hidden = 0;
  for (const FileIssue& i : v.issues) {
    if (i.kind == IssueKind::replaced && !verbose) continue;  // normal patching
    if (!all && shown == kShownIssues) {
      ++hidden;
      continue;
    }
    ++shown;
    o += fmt::format("      {:<11} {}", to_string(i.kind), printable(i.path));
    if (!i.changed.empty()) o += fmt::format("  ({})", describe(i.changed));
    if (i.other) o += fmt::format("  [content of {}]", printable(i.other->id()));
    o += '\n';
  }
  more_line(o, "      ", hidden, "files");
}

std::string text_report(const AnalysisContext& c, const Analysis& a) {
  const bool all = c.include_absent;
  std::string o;
  if (c.scan != nullptr)
    o += fmt::format("host {} (scan of {} at {})\n", printable(c.host), printable(c.scan->host.hostname),
                     format_timestamp(c.scan->started_ns));
  o += is_clean(a) ? "result: clean\n" : "result: DEVIATIONS\n";
  // Summary: counts per signature state and per kind of deviation.
  std::map<std::string, std::size_t, std::less<>> states, changes;
  for (const SignatureVerdict& v : a.verdicts) ++states[std::string(to_string(v.state))];
  for (const FileDeviation& d : a.deviations)
    ++changes[std::string(to_string(d.change)) + (d.owners.empty() ? " (no signature lists them)" : "")];
  o += fmt::format("signatures: {}\n", count_line(states));
  o += fmt::format("deviations: {}\n", count_line(changes));
  o += fmt::format("policy: {} ({} entries ignored or expected to differ)", printable(a.policy), a.explained_by_policy);
  if (a.explained_by_snapshot != 0)
    o += fmt::format("; {} files explained by the cluster snapshot", a.explained_by_snapshot);
  o += '\n';

  // Signatures: every one shown on a small host or with --all, else the problems.
  std::size_t installed = 0;
  for (const SignatureVerdict& v : a.verdicts) installed += v.state != SignatureState::absent;
  const bool every = all || installed < kListAllBelow;
  o += every ? "signatures:\n" : "signatures with problems:\n";
  std::size_t shown = 0, hidden = 0;
  for (const SignatureVerdict& v : a.verdicts) {
    const bool wanted = every ? (all || v.state != SignatureState::absent) : problem(v.state);
    if (!wanted) continue;
    if (!all && shown == kShownSignatures) {
      ++hidden;
      continue;
    }
    ++shown;
    signature_lines(o, v, all, c.verbose);
  }
  more_line(o, "  ", hidden, "signatures");
  if (shown == 0) o += every ? "  (no known product or patch installed)\n" : "  none\n";

  // Deviations: by owning signature, then files no signature lists, by directory.
  o += "deviations:\n";
  if (a.deviations.empty()) o += "  none\n";
  for (const bool owned : {true, false}) {
    const std::vector<Group> groups = group_deviations(a, owned);
    std::size_t g_shown = 0;
    for (const Group& g : groups) {
      if (!all && g_shown == kShownGroups) break;
      ++g_shown;
      o += fmt::format("  {} {}: {} added, {} removed, {} modified\n", owned ? "signature" : "directory",
                       printable(g.name), g.added, g.removed, g.modified);
      std::size_t f_shown = 0;
      for (const FileDeviation* d : g.files) {
        if (!all && f_shown == kShownIssues) break;
        ++f_shown;
        deviation_line(o, *d, "      ");
      }
      more_line(o, "      ", g.files.size() - f_shown, "files");
    }
    more_line(o, "  ", groups.size() - g_shown, owned ? "signatures" : "directories");
  }

  if (a.inventory) {
    const InventoryCheck& inv = *a.inventory;
    o += fmt::format("packages: {} listed, {} confirmed by their files, {} without signature", inv.listed,
                     inv.confirmed, inv.without_signature);
    if (inv.unknown_version != 0)
      o += fmt::format(", {} unverified (no signature of that version)", inv.unknown_version);
    if (inv.not_covered != 0) o += fmt::format(", {} outside the scanned roots", inv.not_covered);
    if (inv.warnings != 0) o += fmt::format(", {} warnings reading the package database", inv.warnings);
    o += '\n';
    std::size_t i_shown = 0;
    for (const InventoryIssue& i : inv.issues) {
      if (!all && i_shown == kShownInventory) break;
      ++i_shown;
      o += fmt::format("  {:<20} {}\n", to_string(i.kind), printable(i.message));
    }
    more_line(o, "  ", inv.issues.size() - i_shown, "package issues");
  }
  return o;
}

void put_string(std::string& o, std::string_view s) {
  append_json_text(o, s);
}
void put_path(std::string& o, std::string_view key, std::string_view bytes) {
  append_json_bytes_member(o, key, bytes);
}

void put_refs(std::string& o, const std::vector<SignatureRef>& list) {
  o += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) o += ',';
    put_string(o, list[i].id());
  }
  o += ']';
}

std::string json_report(const AnalysisContext& c, const Analysis& a) {
  std::string o = "{\"host\":";
  put_string(o, c.host);
  if (c.scan != nullptr) o += fmt::format(",\"scan_started\":\"{}\"", format_timestamp(c.scan->started_ns));
  o += ",\"clean\":";
  o += is_clean(a) ? "true" : "false";
  o += ",\"policy\":";
  put_string(o, a.policy);
  o += fmt::format(",\"explained_by_policy\":{},\"explained_by_snapshot\":{}", a.explained_by_policy,
                   a.explained_by_snapshot);
  o += ",\"signatures\":[";
  bool first = true;
  for (const SignatureVerdict& v : a.verdicts) {
    if (!listed(v, c)) continue;
    if (!first) o += ',';
    first = false;
    o += "\n{\"signature\":";
    put_string(o, v.ref.id());
    o += fmt::format(",\"kind\":\"{}\",\"state\":\"{}\"", to_string(v.kind), to_string(v.state));
    o += fmt::format(
        ",\"counts\":{{\"expected\":{},\"matching\":{},\"missing\":{},\"modified\":{},\"not_applied\":{},"
        "\"replaced\":{},\"config_changed\":{}}}",
        v.counts.expected, v.counts.matching, v.counts.missing, v.counts.modified, v.counts.not_applied,
        v.counts.replaced, v.counts.config_changed);
    o += ",\"patched_by\":";
    put_refs(o, v.patched_by);
    o += ",\"superseded_by\":";
    put_refs(o, v.superseded_by);
    o += ",\"other_version\":";
    put_refs(o, v.other_version);
    o += ",\"issues\":[";
    for (std::size_t i = 0; i < v.issues.size(); ++i) {
      const FileIssue& is = v.issues[i];
      if (i != 0) o += ',';
      o += "{";
      put_path(o, "path", is.path);
      o += fmt::format(",\"kind\":\"{}\",\"changed\":\"{}\"", to_string(is.kind), describe(is.changed));
      if (is.other) {
        o += ",\"other\":";
        put_string(o, is.other->id());
      }
      o += '}';
    }
    o += "]}";
  }
  o += "],\"deviations\":[";
  for (std::size_t i = 0; i < a.deviations.size(); ++i) {
    const FileDeviation& d = a.deviations[i];
    if (i != 0) o += ',';
    o += "\n{";
    put_path(o, "path", d.path);
    o += fmt::format(",\"change\":\"{}\",\"changed\":\"{}\",\"owners\":", to_string(d.change), describe(d.changed));
    put_refs(o, d.owners);
    o += ",\"content_owners\":";
    put_refs(o, d.content_owners);
    o += '}';
  }
  o += "\n]";
  if (a.inventory) {
    const InventoryCheck& inv = *a.inventory;
    o += fmt::format(
        ",\"inventory\":{{\"listed\":{},\"confirmed\":{},\"without_signature\":{},"
        "\"unknown_version\":{},\"not_covered\":{},\"warnings\":{},\"issues\":[",
        inv.listed, inv.confirmed, inv.without_signature, inv.unknown_version, inv.not_covered, inv.warnings);
    for (std::size_t i = 0; i < inv.issues.size(); ++i) {
      const InventoryIssue& is = inv.issues[i];
      o += i == 0 ? "\n{\"kind\":" : ",\n{\"kind\":";
      put_string(o, to_string(is.kind));
      o += ",\"source\":";
      put_string(o, to_string(is.package.manager));
      o += ",\"name\":";
      put_string(o, is.package.name);
      o += ",\"version\":";
      put_string(o, is.package.version);
      o += ",\"arch\":";
      put_string(o, is.package.arch);
      if (is.state) o += fmt::format(",\"state\":\"{}\"", to_string(*is.state));
      o += ",\"found\":";
      put_refs(o, is.found);
      o += ",\"message\":";
      put_string(o, is.message);
      o += '}';
    }
    o += "]}";
  }
  o += "}\n";
  return o;
}

}  // namespace

Expected<void> write_analysis_report(ReportFormat format, const AnalysisContext& context, const Analysis& analysis,
                                     ByteSink& sink) {
  const std::string text = format == ReportFormat::json  ? json_report(context, analysis)
                           : format == ReportFormat::xml ? xml_analysis_report(context, analysis)
                                                         : text_report(context, analysis);
  if (auto st = sink.write(text); !st) return st;
  return sink.flush();
}

}  // namespace tb
