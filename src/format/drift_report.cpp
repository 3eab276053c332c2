#include "format/drift_report.h"

#include <fmt/format.h>

#include "core/path.h"
#include "format/encoding.h"
#include "format/report_xml.h"

namespace tb {

namespace {

std::string host_line(const ScanHeader* h) {
  if (h == nullptr) return "(unknown)";
  return fmt::format("host {} scanned {} by {}", printable(h->host.hostname), format_timestamp(h->started_ns),
                     printable(h->scanner));
}

// Short description of the compared values that differ, e.g. "size 10 -> 12".
std::string value_change(const DiffEntry& e) {
  const FileRecord& a = *e.before;
  const FileRecord& b = *e.after;
  std::string out;
  auto add = [&out](const std::string& s) {
    if (!out.empty()) out += ", ";
    out += s;
  };
  if (e.changed.has(Attr::type)) add(fmt::format("type {} -> {}", to_string(a.type), to_string(b.type)));
  if (e.changed.has(Attr::size)) add(fmt::format("size {} -> {}", a.size, b.size));
  if (e.changed.has(Attr::mode)) add(fmt::format("mode {:04o} -> {:04o}", a.mode, b.mode));
  if (e.changed.has(Attr::uid)) add(fmt::format("uid {} -> {}", a.uid, b.uid));
  if (e.changed.has(Attr::gid)) add(fmt::format("gid {} -> {}", a.gid, b.gid));
  if (e.changed.has(Attr::mtime)) add(fmt::format("mtime {} -> {}", format_timestamp(a.mtime_ns), format_timestamp(b.mtime_ns)));
  if (e.changed.has(Attr::sha256)) add(fmt::format("sha256 {}.. -> {}..", a.sha256.hex().substr(0, 12), b.sha256.hex().substr(0, 12)));
  if (e.changed.has(Attr::link_target))
    add(fmt::format("target {} -> {}", printable(a.link_target), printable(b.link_target)));
  return out;
}

std::string text_report(const DriftContext& c, std::span<const DiffEntry> diffs) {
  std::string o;
  o += fmt::format("reference: {}\n", host_line(c.before));
  o += fmt::format("examined:  {}\n", host_line(c.after));
  o += fmt::format("compared:  {}\n", describe(c.compared));
  for (const DiffEntry& e : diffs) {
    o += fmt::format("{:<9} {}", to_string(e.change), printable(e.path()));
    if (e.change == Change::modified) o += fmt::format("  ({})", value_change(e));
    else o += fmt::format("  ({})", to_string((e.after != nullptr ? e.after : e.before)->type));
    o += '\n';
  }
  const DiffCounts n = count(diffs);
  if (n.total() == 0) o += "identical\n";
  else o += fmt::format("{} differences: {} added, {} removed, {} modified\n", n.total(), n.added, n.removed, n.modified);
  return o;
}

void put_json_string(std::string& o, std::string_view s) { append_json_text(o, s); }
void put_json_bytes(std::string& o, std::string_view key, std::string_view bytes) { append_json_bytes_member(o, key, bytes); }

void put_json_record(std::string& o, const FileRecord& r) {
  o += "{\"type\":";
  put_json_string(o, to_string(r.type));
  if (r.has(Attr::size)) o += fmt::format(",\"size\":{}", r.size);
  if (r.has(Attr::mode)) o += fmt::format(",\"mode\":\"{:04o}\"", r.mode);
  if (r.has(Attr::uid)) o += fmt::format(",\"uid\":{}", r.uid);
  if (r.has(Attr::gid)) o += fmt::format(",\"gid\":{}", r.gid);
  if (r.has(Attr::mtime)) o += fmt::format(",\"mtime\":\"{}\"", format_timestamp(r.mtime_ns));
  if (r.has(Attr::sha256)) o += fmt::format(",\"sha256\":\"{}\"", r.sha256.hex());
  if (r.has(Attr::link_target)) {
    o += ',';
    put_json_bytes(o, "target", r.link_target);
  }
  o += '}';
}

void put_json_side(std::string& o, const ScanHeader* h) {
  if (h == nullptr) {
    o += "null";
    return;
  }
  o += "{\"host\":";
  put_json_string(o, h->host.hostname);
  o += fmt::format(",\"started\":\"{}\",\"scanner\":", format_timestamp(h->started_ns));
  put_json_string(o, h->scanner);
  o += '}';
}

std::string json_report(const DriftContext& c, std::span<const DiffEntry> diffs) {
  std::string o = "{\"reference\":";
  put_json_side(o, c.before);
  o += ",\"examined\":";
  put_json_side(o, c.after);
  o += ",\"compared\":";
  put_json_string(o, describe(c.compared));
  o += ",\"differences\":[";
  bool first = true;
  for (const DiffEntry& e : diffs) {
    if (!first) o += ',';
    first = false;
    o += "\n{\"change\":";
    put_json_string(o, to_string(e.change));
    o += ',';
    put_json_bytes(o, "path", e.path());
    if (e.change == Change::modified) {
      o += ",\"changed\":";
      put_json_string(o, describe(e.changed));
    }
    if (e.before != nullptr) {
      o += ",\"reference\":";
      put_json_record(o, *e.before);
    }
    if (e.after != nullptr) {
      o += ",\"examined\":";
      put_json_record(o, *e.after);
    }
    o += '}';
  }
  const DiffCounts n = count(diffs);
  o += fmt::format("\n],\"counts\":{{\"added\":{},\"removed\":{},\"modified\":{}}}}}\n", n.added, n.removed, n.modified);
  return o;
}

}  // namespace

std::string printable(std::string_view bytes) {
  if (is_plain_text(bytes) && bytes.find('\\') == std::string_view::npos) return std::string(bytes);
  std::string out;
  // Keep well-formed UTF-8 runs; escape everything else byte by byte.
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len != 0 && i + len <= bytes.size() && is_plain_text(bytes.substr(i, len))) {
      if (c == '\\') out += "\\\\";
      else out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

std::optional<ReportFormat> report_format_from_string(std::string_view name) noexcept {
  if (name == "text") return ReportFormat::text;
  if (name == "json") return ReportFormat::json;
  if (name == "xml") return ReportFormat::xml;
  return std::nullopt;
}

Expected<void> write_drift_report(ReportFormat format, const DriftContext& context,
                                  std::span<const DiffEntry> differences, ByteSink& sink) {
  const std::string text = format == ReportFormat::json  ? json_report(context, differences)
                           : format == ReportFormat::xml ? xml_drift_report(context, differences)
                                                         : text_report(context, differences);
  if (auto st = sink.write(text); !st) return st;
  return sink.flush();
}

}  // namespace tb
