#include "format/report_xml.h"

#include <string_view>

#include "core/path.h"
#include "format/encoding.h"

namespace tb {

namespace {

constexpr std::string_view kHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kNamespace = "urn:trustbase:report:1";

// ` name="text"`, made plain text first if it is not (lossy: informational strings only).
void put_text(std::string& o, std::string_view name, std::string_view text) {
  o += ' ';
  o += name;
  o += "=\"";
  if (is_plain_text(text))
    append_xml_escaped(o, text);
  else
    append_xml_escaped(o, sanitize_text(text));
  o += '"';
}

// Raw bytes (a path, a link target): ` name="text"` or ` name-b64="base64"`, exact either way.
void put_bytes(std::string& o, std::string_view name, std::string_view bytes) {
  o += ' ';
  o += name;
  if (is_plain_text(bytes)) {
    o += "=\"";
    append_xml_escaped(o, bytes);
  } else {
    o += "-b64=\"";
    append_base64(o, bytes);
  }
  o += '"';
}

void put_uint(std::string& o, std::string_view name, std::uint64_t value) {
  o += ' ';
  o += name;
  o += "=\"";
  append_uint(o, value);
  o += '"';
}

void put_timestamp(std::string& o, std::string_view name, std::int64_t ns) {
  o += ' ';
  o += name;
  o += "=\"";
  append_timestamp(o, ns);
  o += '"';
}

void put_changed(std::string& o, AttrSet changed) {
  if (!changed.empty()) put_text(o, "changed", describe(changed));
}

void put_root_open(std::string& o, std::string_view element) {
  o += kHead;
  o += '<';
  o += element;
  o += " xmlns=\"";
  o += kNamespace;
  o += "\" version=\"1\"";
}

// <element signature="name@version"/> for each reference.
void put_refs(std::string& o, std::string_view indent, std::string_view element,
              const std::vector<SignatureRef>& refs) {
  for (const SignatureRef& r : refs) {
    o += indent;
    o += '<';
    o += element;
    put_text(o, "signature", r.id());
    o += "/>\n";
  }
}

void put_verdict(std::string& o, const SignatureVerdict& v) {
  o += "    <signature";
  put_text(o, "id", v.ref.id());
  put_text(o, "name", v.ref.name);
  put_text(o, "version", v.ref.version);
  put_text(o, "kind", to_string(v.kind));
  put_text(o, "state", to_string(v.state));
  put_uint(o, "expected", v.counts.expected);
  put_uint(o, "matching", v.counts.matching);
  put_uint(o, "missing", v.counts.missing);
  put_uint(o, "modified", v.counts.modified);
  put_uint(o, "not-applied", v.counts.not_applied);
  put_uint(o, "replaced", v.counts.replaced);
  put_uint(o, "config-changed", v.counts.config_changed);
  if (v.patched_by.empty() && v.superseded_by.empty() && v.other_version.empty() && v.issues.empty()) {
    o += "/>\n";
    return;
  }
  o += ">\n";
  put_refs(o, "      ", "patched-by", v.patched_by);
  put_refs(o, "      ", "superseded-by", v.superseded_by);
  put_refs(o, "      ", "other-version", v.other_version);
  for (const FileIssue& i : v.issues) {
    o += "      <issue";
    put_bytes(o, "path", i.path);
    put_text(o, "kind", to_string(i.kind));
    put_changed(o, i.changed);
    if (i.other) put_text(o, "other", i.other->id());
    o += "/>\n";
  }
  o += "    </signature>\n";
}

void put_deviation(std::string& o, const FileDeviation& d) {
  o += "    <deviation";
  put_bytes(o, "path", d.path);
  put_text(o, "change", to_string(d.change));
  put_changed(o, d.changed);
  if (d.owners.empty() && d.content_owners.empty()) {
    o += "/>\n";
    return;
  }
  o += ">\n";
  put_refs(o, "      ", "owner", d.owners);
  put_refs(o, "      ", "content-owner", d.content_owners);
  o += "    </deviation>\n";
}

void put_inventory(std::string& o, const InventoryCheck& inv) {
  o += "  <inventory";
  put_uint(o, "listed", inv.listed);
  put_uint(o, "confirmed", inv.confirmed);
  put_uint(o, "without-signature", inv.without_signature);
  put_uint(o, "unknown-version", inv.unknown_version);
  put_uint(o, "not-covered", inv.not_covered);
  put_uint(o, "warnings", inv.warnings);
  if (inv.issues.empty()) {
    o += "/>\n";
    return;
  }
  o += ">\n";
  for (const InventoryIssue& i : inv.issues) {
    o += "    <inventory-issue";
    put_text(o, "kind", to_string(i.kind));
    put_text(o, "source", to_string(i.package.manager));
    put_text(o, "name", i.package.name);
    put_text(o, "version", i.package.version);
    put_text(o, "arch", i.package.arch);
    if (i.state) put_text(o, "state", to_string(*i.state));
    put_text(o, "message", i.message);
    if (i.found.empty()) {
      o += "/>\n";
      continue;
    }
    o += ">\n";
    put_refs(o, "      ", "found", i.found);
    o += "    </inventory-issue>\n";
  }
  o += "  </inventory>\n";
}

// The scan side of a drift report: <reference .../> or <examined .../>.
void put_side(std::string& o, std::string_view element, const ScanHeader* h) {
  if (h == nullptr) return;
  o += "  <";
  o += element;
  put_text(o, "host", h->host.hostname);
  put_timestamp(o, "started", h->started_ns);
  put_text(o, "scanner", h->scanner);
  o += "/>\n";
}

// One side of a difference: the record's attributes, as the JSON form gives them.
void put_record(std::string& o, std::string_view element, const FileRecord& r) {
  o += "      <";
  o += element;
  put_text(o, "type", to_string(r.type));
  if (r.has(Attr::size)) put_uint(o, "size", r.size);
  if (r.has(Attr::mode)) {
    o += " mode=\"";
    append_mode(o, r.mode);
    o += '"';
  }
  if (r.has(Attr::uid)) put_uint(o, "uid", r.uid);
  if (r.has(Attr::gid)) put_uint(o, "gid", r.gid);
  if (r.has(Attr::mtime)) put_timestamp(o, "mtime", r.mtime_ns);
  if (r.has(Attr::sha256)) {
    o += " sha256=\"";
    append_sha256(o, r.sha256);
    o += '"';
  }
  if (r.has(Attr::link_target)) put_bytes(o, "target", r.link_target);
  o += "/>\n";
}

}  // namespace

std::string xml_analysis_report(const AnalysisContext& c, const Analysis& a) {
  std::string o;
  put_root_open(o, "analysis");
  put_text(o, "host", c.host);
  if (c.scan != nullptr) {
    put_text(o, "scan-host", c.scan->host.hostname);
    put_timestamp(o, "scan-started", c.scan->started_ns);
  }
  put_text(o, "clean", is_clean(a) ? "true" : "false");
  o += ">\n  <signatures>\n";
  for (const SignatureVerdict& v : a.verdicts)
    if (c.include_absent || v.state != SignatureState::absent) put_verdict(o, v);
  o += "  </signatures>\n  <deviations>\n";
  for (const FileDeviation& d : a.deviations) put_deviation(o, d);
  o += "  </deviations>\n";
  if (a.inventory) put_inventory(o, *a.inventory);
  o += "</analysis>\n";
  return o;
}

std::string xml_drift_report(const DriftContext& c, std::span<const DiffEntry> differences) {
  std::string o;
  put_root_open(o, "drift");
  put_text(o, "compared", describe(c.compared));
  o += ">\n";
  put_side(o, "reference", c.before);
  put_side(o, "examined", c.after);
  o += "  <differences>\n";
  for (const DiffEntry& e : differences) {
    o += "    <difference";
    put_text(o, "change", to_string(e.change));
    put_bytes(o, "path", e.path());
    if (e.change == Change::modified) put_changed(o, e.changed);
    o += ">\n";
    if (e.before != nullptr) put_record(o, "reference", *e.before);
    if (e.after != nullptr) put_record(o, "examined", *e.after);
    o += "    </difference>\n";
  }
  const DiffCounts n = count(differences);
  o += "  </differences>\n  <counts";
  put_uint(o, "added", n.added);
  put_uint(o, "removed", n.removed);
  put_uint(o, "modified", n.modified);
  o += "/>\n</drift>\n";
  return o;
}

}  // namespace tb
