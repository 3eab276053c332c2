#include "format/cluster_report.h"

#include <string>
#include <vector>

#include <fmt/core.h>

#include "format/encoding.h"

namespace tb {
namespace {

std::string refs_text(const std::vector<SignatureRef>& refs) {
  std::string out;
  for (const SignatureRef& r : refs) out += (out.empty() ? "" : ", ") + r.id();
  return out;
}

void append_refs_json(std::string& o, const std::vector<SignatureRef>& refs) {
  o += '[';
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (i != 0) o += ',';
    append_json_text(o, refs[i].id());
  }
  o += ']';
}

bool member_identical(const MemberDriftView& m) { return m.snapshot_version != 0 && m.drift->deviations.empty(); }

std::string text_report(std::string_view cluster, std::span<const MemberDriftView> members) {
  std::int64_t version = 0;
  std::size_t drifting = 0;
  for (const MemberDriftView& m : members) {
    version = std::max(version, m.snapshot_version);
    if (m.snapshot_version != 0 && !m.drift->deviations.empty()) ++drifting;
  }
  std::string o = fmt::format("cluster {}: ", printable(cluster));
  o += version != 0 ? fmt::format("snapshot v{}", version) : std::string("no snapshot");
  o += fmt::format(", {} members, ", members.size());
  o += members_identical(members) ? "identical\n"
       : drifting != 0            ? fmt::format("DRIFT ({} member{})\n", drifting, drifting == 1 ? "" : "s")
                                  : "not verified\n";
  for (const MemberDriftView& m : members) {
    o += fmt::format("  {:<24} {:<9} ", printable(m.host), printable(m.role));
    if (m.scan_id == 0) {
      o += "never scanned\n";
      continue;
    }
    if (m.snapshot_version == 0) {
      o += "not compared (no snapshot)\n";
      continue;
    }
    const DiffCounts& c = m.drift->counts;
    if (m.drift->deviations.empty()) {
      o += "identical\n";
      continue;
    }
    o += fmt::format("{} difference{} ({} added, {} removed, {} modified)\n", c.total(), c.total() == 1 ? "" : "s",
                     c.added, c.removed, c.modified);
    for (const FileDeviation& d : m.drift->deviations) {
      o += fmt::format("    {:<9} {}", to_string(d.change), printable(d.path));
      if (!d.changed.empty()) o += fmt::format("  ({})", describe(d.changed));
      o += d.owners.empty() ? std::string("  [unknown]") : fmt::format("  [{}]", printable(refs_text(d.owners)));
      if (!d.content_owners.empty()) o += fmt::format("  content of {}", printable(refs_text(d.content_owners)));
      o += '\n';
    }
  }
  return o;
}

std::string json_report(std::string_view cluster, std::span<const MemberDriftView> members) {
  std::string o = "{\"cluster\":";
  append_json_text(o, cluster);
  o += fmt::format(",\"identical\":{},\"members\":[", members_identical(members) ? "true" : "false");
  for (std::size_t i = 0; i < members.size(); ++i) {
    const MemberDriftView& m = members[i];
    if (i != 0) o += ',';
    o += "\n{\"host\":";
    append_json_text(o, m.host);
    o += ",\"role\":";
    append_json_text(o, m.role);
    o += fmt::format(",\"scan_id\":{},\"snapshot_version\":{},\"identical\":{}", m.scan_id, m.snapshot_version,
                     member_identical(m) ? "true" : "false");
    if (m.snapshot_version == 0) {
      o += ",\"counts\":null,\"deviations\":[]}";
      continue;
    }
    const DiffCounts& c = m.drift->counts;
    o += fmt::format(",\"counts\":{{\"added\":{},\"removed\":{},\"modified\":{}}},\"deviations\":[", c.added,
                     c.removed, c.modified);
    for (std::size_t j = 0; j < m.drift->deviations.size(); ++j) {
      const FileDeviation& d = m.drift->deviations[j];
      if (j != 0) o += ',';
      o += '{';
      append_json_bytes_member(o, "path", d.path);
      o += fmt::format(",\"change\":\"{}\",\"changed\":\"{}\",\"owners\":", to_string(d.change), describe(d.changed));
      append_refs_json(o, d.owners);
      o += ",\"content_owners\":";
      append_refs_json(o, d.content_owners);
      o += '}';
    }
    o += "]}";
  }
  o += "\n]}\n";
  return o;
}

}  // namespace

bool members_identical(std::span<const MemberDriftView> members) {
  bool any = false;
  for (const MemberDriftView& m : members) {
    if (m.scan_id == 0) continue;
    if (!member_identical(m)) return false;
    any = true;
  }
  return any;
}

Expected<void> write_cluster_drift_report(ReportFormat format, std::string_view cluster,
                                          std::span<const MemberDriftView> members, ByteSink& sink) {
  std::string text;
  switch (format) {
    case ReportFormat::text: text = text_report(cluster, members); break;
    case ReportFormat::json: text = json_report(cluster, members); break;
    default: return fail(ErrorCode::invalid_argument, "the cluster drift report has no XML form yet");
  }
  return sink.write(text);
}

}  // namespace tb
