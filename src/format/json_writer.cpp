// The JSON scan writer: the same model as the XML document, streamed by hand into the
// shared 64 KiB buffer, one entry per line. JSON strings must be UTF-8, so raw bytes
// that are not plain text go out as "<key>_b64"; numbers that can exceed 2^53
// (sizes, counters) are JSON integers, while mode, mtime and timestamps keep the exact
// string spellings of the XML format so no reader ever goes through a double.
#include <string>
#include <string_view>

#include "core/path.h"
#include "format/encoding.h"
#include "format/writer_support.h"

namespace tb {

namespace {

// `"key":` preceded by a comma unless it is the first member.
void put_key(std::string& o, std::string_view key, bool first = false) {
  if (!first) o += ',';
  o += '"';
  o += key;  // keys are our own ASCII identifiers
  o += "\":";
}

void put_string(std::string& o, std::string_view key, std::string_view plain, bool first = false) {
  put_key(o, key, first);
  o += '"';
  append_json_escaped(o, plain);
  o += '"';
}

// Raw bytes: "key":"text" when plain text, else "key_b64":"base64".
void put_bytes(std::string& o, std::string_view key, std::string_view bytes, bool first = false) {
  if (!first) o += ',';
  append_json_bytes_member(o, key, bytes);
}

// Informational text (hostnames, messages): made plain text, lossy if it must be.
void put_text(std::string& o, std::string_view key, std::string_view text, bool first = false) {
  if (is_plain_text(text)) put_string(o, key, text, first);
  else put_string(o, key, sanitize_text(text), first);
}

void put_uint(std::string& o, std::string_view key, std::uint64_t value) {
  put_key(o, key);
  append_uint(o, value);
}

void put_timestamp(std::string& o, std::string_view key, std::int64_t ns) {
  put_key(o, key);
  o += '"';
  append_timestamp(o, ns);
  o += '"';
}

void put_record(std::string& o, const FileRecord& r, bool first) {
  o += first ? "\n{" : ",\n{";
  put_string(o, "type", to_string(r.type), true);
  put_bytes(o, "path", r.path);
  if (r.has(Attr::link_target)) put_bytes(o, "target", r.link_target);
  if (r.has(Attr::size)) put_uint(o, "size", r.size);
  if (r.has(Attr::mode)) {
    put_key(o, "mode");
    o += '"';
    append_mode(o, r.mode);
    o += '"';
  }
  if (r.has(Attr::uid)) put_uint(o, "uid", r.uid);
  if (r.has(Attr::gid)) put_uint(o, "gid", r.gid);
  if (r.has(Attr::mtime)) {
    put_key(o, "mtime");
    o += '"';
    append_mtime(o, r.mtime_ns);
    o += '"';
  }
  if (r.has(Attr::sha256)) {
    put_key(o, "sha256");
    o += '"';
    append_sha256(o, r.sha256);
    o += '"';
  }
  o += '}';
}

void put_error(std::string& o, const ScanError& e, bool first) {
  o += first ? "\n{" : ",\n{";
  put_bytes(o, "path", e.path, true);
  put_string(o, "kind", to_string(e.kind));
  if (e.sys_errno != 0) put_uint(o, "errno", static_cast<std::uint64_t>(e.sys_errno));
  put_text(o, "message", e.message);
  o += '}';
}

class JsonScanWriter final : public ScanWriter {
 public:
  explicit JsonScanWriter(ByteSink& sink) : out_(sink) {}

  Expected<void> begin(const ScanHeader& h) override {
    if (auto ok = seq_.begin(h); !ok) return ok;
    std::string& o = out_.text();
    o += '{';
    put_string(o, "format", "trustbase-scan", true);
    put_uint(o, "version", static_cast<std::uint64_t>(kScanFormatVersion));
    put_text(o, "scanner", h.scanner);
    put_timestamp(o, "started", h.started_ns);
    o += ",\n\"host\":{";
    put_text(o, "name", h.host.hostname, true);
    put_text(o, "os_id", h.host.os_id);
    put_text(o, "os_version", h.host.os_version);
    put_text(o, "os_pretty", h.host.os_pretty);
    put_text(o, "kernel", h.host.kernel);
    put_text(o, "arch", h.host.arch);
    o += "},\n\"options\":{";
    put_key(o, "one_file_system", true);
    o += h.one_file_system ? "true" : "false";
    put_key(o, "skip_pseudo_fs");
    o += h.skip_pseudo_fs ? "true" : "false";
    o += "},\n\"roots\":[";
    put_list(o, h.roots, "path");
    o += "],\n\"excludes\":[";
    put_list(o, h.excludes, "glob");
    o += ']';
    if (h.inventory) put_inventory(*h.inventory);
    o += ",\n\"entries\":[";
    out_.maybe_flush();
    return out_.status();
  }

  Expected<void> record(const FileRecord& r) override {
    if (auto ok = seq_.record(r); !ok) return ok;
    put_record(out_.text(), r, records_ == 0);
    ++records_;
    out_.maybe_flush();
    return out_.status();
  }

  Expected<void> end(std::span<const ScanError> errors, const ScanSummary& s) override {
    if (auto ok = seq_.end(errors); !ok) return ok;
    std::string& o = out_.text();
    o += records_ == 0 ? "],\n\"errors\":[" : "\n],\n\"errors\":[";
    for (std::size_t i = 0; i < errors.size(); ++i) {
      put_error(o, errors[i], i == 0);
      out_.maybe_flush();
    }
    o += errors.empty() ? "],\n\"summary\":{" : "\n],\n\"summary\":{";
    put_key(o, "finished", true);
    o += '"';
    append_timestamp(o, s.finished_ns);
    o += '"';
    put_uint(o, "files", s.files);
    put_uint(o, "directories", s.directories);
    put_uint(o, "symlinks", s.symlinks);
    put_uint(o, "others", s.others);
    put_uint(o, "bytes_hashed", s.bytes_hashed);
    put_uint(o, "errors", s.errors);
    put_uint(o, "errors_dropped", s.errors_dropped);
    o += "}}\n";
    return out_.finish();
  }

 private:
  // "packages":[{"name","version","arch","source"}...] and, when there are any,
  // "package_warnings":[{"source","message"}...]: two flat members, one level each.
  void put_inventory(const PackageInventory& inv) {
    std::string& o = out_.text();
    o += ",\n\"packages\":[";
    for (std::size_t i = 0; i < inv.packages.size(); ++i) {
      const InstalledPackage& p = inv.packages[i];
      o += i == 0 ? "\n{" : ",\n{";
      put_text(o, "name", p.name, true);
      put_text(o, "version", p.version);
      put_text(o, "arch", p.arch);
      put_string(o, "source", to_string(p.manager));
      o += '}';
      out_.maybe_flush();
    }
    o += inv.packages.empty() ? "]" : "\n]";
    if (inv.warnings.empty()) return;
    o += ",\n\"package_warnings\":[";
    for (std::size_t i = 0; i < inv.warnings.size(); ++i) {
      o += i == 0 ? "\n{" : ",\n{";
      put_string(o, "source", to_string(inv.warnings[i].manager), true);
      put_text(o, "message", inv.warnings[i].message);
      o += '}';
    }
    o += "\n]";
  }

  // [{"path":...},{"path_b64":...}] for roots and excludes.
  static void put_list(std::string& o, const std::vector<std::string>& items, std::string_view key) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) o += ',';
      o += '{';
      put_bytes(o, key, items[i], true);
      o += '}';
    }
  }

  OutputBuffer out_;
  WriteSequence seq_;
  std::size_t records_ = 0;
};

}  // namespace

std::unique_ptr<ScanWriter> make_json_scan_writer(ByteSink& sink) { return std::make_unique<JsonScanWriter>(sink); }

}  // namespace tb
