// The XML scan writer: hand-written output into a 64 KiB buffer (no DOM, no libxml2),
// because it runs inside the scanner once per file and must cost well under 1 us per
// record. The document shape is described by schema/scan-v1.xsd.
#include <string>
#include <string_view>

#include "core/path.h"
#include "format/encoding.h"
#include "format/writer_support.h"

namespace tb {

namespace {

constexpr std::string_view kNamespace = "urn:trustbase:scan:1";

// ` name="value"` for a value known to be plain text.
void put_attr(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml_escaped(out, value);
  out += '"';
}

// Raw bytes (a path, a link target, a glob): ` name="text"` when they are plain text,
// else ` name-b64="base64"`, so that any Linux name survives exactly.
void put_bytes_attr(std::string& out, std::string_view name, std::string_view bytes) {
  out += ' ';
  out += name;
  if (is_plain_text(bytes)) {
    out += "=\"";
    append_xml_escaped(out, bytes);
  } else {
    out += "-b64=\"";
    append_base64(out, bytes);
  }
  out += '"';
}

// Informational text (hostnames, scanner name): made plain text, lossy if it must be.
void put_text_attr(std::string& out, std::string_view name, std::string_view text) {
  if (is_plain_text(text)) put_attr(out, name, text);
  else put_attr(out, name, sanitize_text(text));
}

void put_uint_attr(std::string& out, std::string_view name, std::uint64_t value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_uint(out, value);
  out += '"';
}

void put_timestamp_attr(std::string& out, std::string_view name, std::int64_t ns) {
  out += ' ';
  out += name;
  out += "=\"";
  append_timestamp(out, ns);
  out += '"';
}

std::string_view bool_text(bool b) { return b ? "true" : "false"; }

// file, dir and symlink have elements of their own; the rare kinds share <other kind=...>.
std::string_view element_name(FileType type) {
  switch (type) {
    case FileType::file: return "file";
    case FileType::directory: return "dir";
    case FileType::symlink: return "symlink";
    default: return "other";
  }
}

void put_record(std::string& o, const FileRecord& r) {
  const std::string_view element = element_name(r.type);
  o += "    <";
  o += element;
  put_bytes_attr(o, "path", r.path);
  if (element == "other") put_attr(o, "kind", to_string(r.type));
  if (r.has(Attr::link_target)) put_bytes_attr(o, "target", r.link_target);
  if (r.has(Attr::size)) put_uint_attr(o, "size", r.size);
  if (r.has(Attr::mode)) {
    o += " mode=\"";
    append_mode(o, r.mode);  // the 07777 bits; anything above is not a permission
    o += '"';
  }
  if (r.has(Attr::uid)) put_uint_attr(o, "uid", r.uid);
  if (r.has(Attr::gid)) put_uint_attr(o, "gid", r.gid);
  if (r.has(Attr::mtime)) {
    o += " mtime=\"";
    append_mtime(o, r.mtime_ns);
    o += '"';
  }
  if (r.has(Attr::sha256)) {
    o += " sha256=\"";
    append_sha256(o, r.sha256);
    o += '"';
  }
  o += "/>\n";
}

void put_error(std::string& o, const ScanError& e) {
  o += "    <error";
  put_bytes_attr(o, "path", e.path);
  put_attr(o, "kind", to_string(e.kind));
  if (e.sys_errno != 0) put_uint_attr(o, "errno", static_cast<std::uint64_t>(e.sys_errno));
  o += '>';
  append_xml_escaped(o, is_plain_text(e.message) ? e.message : sanitize_text(e.message));
  o += "</error>\n";
}

class XmlScanWriter final : public ScanWriter {
 public:
  explicit XmlScanWriter(ByteSink& sink) : out_(sink) {}

  Expected<void> begin(const ScanHeader& h) override {
    if (auto ok = seq_.begin(h); !ok) return ok;
    std::string& o = out_.text();
    o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scan xmlns=\"";
    o += kNamespace;
    o += "\" version=\"";
    append_uint(o, static_cast<std::uint64_t>(kScanFormatVersion));
    o += '"';
    put_text_attr(o, "scanner", h.scanner);
    put_timestamp_attr(o, "started", h.started_ns);
    o += ">\n  <host";
    put_text_attr(o, "name", h.host.hostname);
    put_text_attr(o, "os-id", h.host.os_id);
    put_text_attr(o, "os-version", h.host.os_version);
    put_text_attr(o, "os-pretty", h.host.os_pretty);
    put_text_attr(o, "kernel", h.host.kernel);
    put_text_attr(o, "arch", h.host.arch);
    o += "/>\n  <options";
    put_attr(o, "one-file-system", bool_text(h.one_file_system));
    put_attr(o, "skip-pseudo-fs", bool_text(h.skip_pseudo_fs));
    o += "/>\n";
    for (const std::string& root : h.roots) {
      o += "  <root";
      put_bytes_attr(o, "path", root);
      o += "/>\n";
    }
    for (const std::string& glob : h.excludes) {
      o += "  <exclude";
      put_bytes_attr(o, "glob", glob);
      o += "/>\n";
    }
    if (h.inventory) put_inventory(*h.inventory);
    o += "  <entries>\n";
    out_.maybe_flush();
    return out_.status();
  }

  Expected<void> record(const FileRecord& r) override {
    if (auto ok = seq_.record(r); !ok) return ok;
    put_record(out_.text(), r);
    out_.maybe_flush();
    return out_.status();
  }

  Expected<void> end(std::span<const ScanError> errors, const ScanSummary& s) override {
    if (auto ok = seq_.end(errors); !ok) return ok;
    std::string& o = out_.text();
    o += "  </entries>\n";
    if (errors.empty()) {
      o += "  <errors/>\n";
    } else {
      o += "  <errors>\n";
      for (const ScanError& e : errors) {
        put_error(o, e);
        out_.maybe_flush();
      }
      o += "  </errors>\n";
    }
    o += "  <summary";
    put_timestamp_attr(o, "finished", s.finished_ns);
    put_uint_attr(o, "files", s.files);
    put_uint_attr(o, "directories", s.directories);
    put_uint_attr(o, "symlinks", s.symlinks);
    put_uint_attr(o, "others", s.others);
    put_uint_attr(o, "bytes-hashed", s.bytes_hashed);
    put_uint_attr(o, "errors", s.errors);
    put_uint_attr(o, "errors-dropped", s.errors_dropped);
    o += "/>\n</scan>\n";
    return out_.finish();
  }

 private:
  // <packages>: the installed packages, then the warnings met reading their databases.
  void put_inventory(const PackageInventory& inv) {
    std::string& o = out_.text();
    if (inv.packages.empty() && inv.warnings.empty()) {
      o += "  <packages/>\n";
      return;
    }
    o += "  <packages>\n";
    for (const InstalledPackage& p : inv.packages) {
      o += "    <package";
      put_text_attr(o, "name", p.name);
      put_text_attr(o, "version", p.version);
      put_text_attr(o, "arch", p.arch);
      put_attr(o, "source", to_string(p.manager));
      o += "/>\n";
      out_.maybe_flush();
    }
    for (const InventoryWarning& w : inv.warnings) {
      o += "    <warning";
      put_attr(o, "source", to_string(w.manager));
      o += '>';
      append_xml_escaped(o, is_plain_text(w.message) ? w.message : sanitize_text(w.message));
      o += "</warning>\n";
    }
    o += "  </packages>\n";
  }

  OutputBuffer out_;
  WriteSequence seq_;
};

}  // namespace

std::unique_ptr<ScanWriter> make_xml_scan_writer(ByteSink& sink) { return std::make_unique<XmlScanWriter>(sink); }

}  // namespace tb
