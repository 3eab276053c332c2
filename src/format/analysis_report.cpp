#include "format/analysis_report.h"

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

std::string text_report(const AnalysisContext& c, const Analysis& a) {
  std::string o;
  if (c.scan != nullptr)
    o += fmt::format("host {} (scan of {} at {})\n", printable(c.host), printable(c.scan->host.hostname),
                     format_timestamp(c.scan->started_ns));
  o += "signatures:\n";
  std::size_t shown = 0;
  for (const SignatureVerdict& v : a.verdicts) {
    if (!listed(v, c)) continue;
    ++shown;
    o += fmt::format("  {:<10} {:<8} {}  ({}/{} files match", to_string(v.state), to_string(v.kind),
                     printable(v.ref.id()), v.counts.matching, v.counts.expected);
    if (v.counts.config_changed != 0) o += fmt::format("; {} config changed", v.counts.config_changed);
    if (!v.patched_by.empty()) o += fmt::format("; patched by {}", refs(v.patched_by));
    if (!v.superseded_by.empty()) o += fmt::format("; superseded by {}", refs(v.superseded_by));
    if (!v.other_version.empty()) o += fmt::format("; found instead {}", refs(v.other_version));
    o += ")\n";
    for (const FileIssue& i : v.issues) {
      o += fmt::format("      {:<11} {}", to_string(i.kind), printable(i.path));
      if (!i.changed.empty()) o += fmt::format("  ({})", describe(i.changed));
      if (i.other) o += fmt::format("  [content of {}]", printable(i.other->id()));
      o += '\n';
    }
  }
  if (shown == 0) o += "  (no known product or patch installed)\n";
  o += "deviations:\n";
  for (const FileDeviation& d : a.deviations) {
    o += fmt::format("  {:<9} {}", to_string(d.change), printable(d.path));
    if (!d.changed.empty()) o += fmt::format("  ({})", describe(d.changed));
    o += d.owners.empty() ? std::string("  [unknown]") : fmt::format("  [{}]", printable(refs(d.owners)));
    if (!d.content_owners.empty()) o += fmt::format("  content of {}", printable(refs(d.content_owners)));
    o += '\n';
  }
  if (a.deviations.empty()) o += "  none\n";
  if (a.inventory) {
    const InventoryCheck& inv = *a.inventory;
    o += fmt::format("packages: {} listed, {} confirmed by their files, {} without signature", inv.listed,
                     inv.confirmed, inv.without_signature);
    if (inv.unknown_version != 0) o += fmt::format(", {} of a version without signature", inv.unknown_version);
    if (inv.not_covered != 0) o += fmt::format(", {} outside the scanned roots", inv.not_covered);
    if (inv.warnings != 0) o += fmt::format(", {} warnings reading the package database", inv.warnings);
    o += '\n';
    for (const InventoryIssue& i : inv.issues)
      o += fmt::format("  {:<20} {}\n", to_string(i.kind), printable(i.message));
  }
  o += analysis_is_clean(a) ? "result: clean\n" : "result: DEVIATIONS\n";
  return o;
}

void put_string(std::string& o, std::string_view s) { append_json_text(o, s); }
void put_path(std::string& o, std::string_view key, std::string_view bytes) { append_json_bytes_member(o, key, bytes); }

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
  o += analysis_is_clean(a) ? "true" : "false";
  o += ",\"signatures\":[";
  bool first = true;
  for (const SignatureVerdict& v : a.verdicts) {
    if (!listed(v, c)) continue;
    if (!first) o += ',';
    first = false;
    o += "\n{\"signature\":";
    put_string(o, v.ref.id());
    o += fmt::format(",\"kind\":\"{}\",\"state\":\"{}\"", to_string(v.kind), to_string(v.state));
    o += fmt::format(",\"counts\":{{\"expected\":{},\"matching\":{},\"missing\":{},\"modified\":{},\"not_applied\":{},"
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
    o += fmt::format(",\"inventory\":{{\"listed\":{},\"confirmed\":{},\"without_signature\":{},"
                     "\"unknown_version\":{},\"not_covered\":{},\"warnings\":{},\"issues\":[",
                     inv.listed, inv.confirmed, inv.without_signature, inv.unknown_version, inv.not_covered,
                     inv.warnings);
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

bool analysis_is_clean(const Analysis& analysis) {
  for (const SignatureVerdict& v : analysis.verdicts)
    if (v.state == SignatureState::partial || v.state == SignatureState::tampered) return false;
  if (analysis.inventory && !analysis.inventory->issues.empty()) return false;
  return analysis.deviations.empty();
}

Expected<void> write_analysis_report(ReportFormat format, const AnalysisContext& context, const Analysis& analysis,
                                     ByteSink& sink) {
  const std::string text = format == ReportFormat::json  ? json_report(context, analysis)
                           : format == ReportFormat::xml ? xml_analysis_report(context, analysis)
                                                         : text_report(context, analysis);
  if (auto st = sink.write(text); !st) return st;
  return sink.flush();
}

}  // namespace tb
