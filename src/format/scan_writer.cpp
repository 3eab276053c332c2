#include "format/scan_writer.h"

#include "core/path.h"
#include "format/encoding.h"
#include "format/writer_support.h"

namespace tb {

namespace {

tl::unexpected<Error> misuse(std::string message) { return fail(ErrorCode::internal, std::move(message)); }

tl::unexpected<Error> rejected(std::string message) { return fail(ErrorCode::invalid_argument, std::move(message)); }

}  // namespace

Expected<void> WriteSequence::begin(const ScanHeader& header) {
  if (phase_ != Phase::fresh) return misuse("scan writer: begin() called twice");
  if (header.format_version != kScanFormatVersion)
    return rejected("scan writer: cannot write format version " + std::to_string(header.format_version));
  if (header.roots.empty()) return rejected("scan writer: a scan needs at least one root");
  for (const std::string& root : header.roots)
    if (!is_canonical_path(root)) return rejected("scan writer: root is not a canonical path: " + excerpt(root));
  for (const std::string& glob : header.excludes)
    if (glob.find('\0') != std::string::npos) return rejected("scan writer: exclude pattern contains NUL");
  if (header.inventory) {
    const PackageInventory& inv = *header.inventory;
    if (inv.packages.size() > kMaxInventoryPackages) return rejected("scan writer: too many packages in the inventory");
    if (inv.warnings.size() > kMaxInventoryWarnings) return rejected("scan writer: too many inventory warnings");
    for (const InstalledPackage& p : inv.packages) {
      if (p.name.empty() || p.version.empty()) return rejected("scan writer: a package without a name or version");
      if (p.name.size() > kMaxPackageField || p.version.size() > kMaxPackageField || p.arch.size() > kMaxPackageField)
        return rejected("scan writer: package field longer than " + std::to_string(kMaxPackageField) + " bytes");
      if (!is_plain_text(p.name) || !is_plain_text(p.version) || !is_plain_text(p.arch))
        return rejected("scan writer: package field is not plain text: " + excerpt(p.name));
    }
  }
  phase_ = Phase::records;
  return {};
}

Expected<void> WriteSequence::record(const FileRecord& r) {
  if (phase_ != Phase::records) return misuse("scan writer: record() outside begin()..end()");
  if (!is_canonical_path(r.path)) return rejected("scan writer: record path is not canonical: " + excerpt(r.path));
  if (have_last_ && path_compare(last_path_, r.path) >= 0)
    return rejected("scan writer: records out of path order (or repeated) at " + excerpt(r.path));
  if (r.has(Attr::sha256) && r.type != FileType::file)
    return rejected("scan writer: content hash on a non-file record: " + excerpt(r.path));
  if (r.has(Attr::link_target) && r.type != FileType::symlink)
    return rejected("scan writer: link target on a non-symlink record: " + excerpt(r.path));
  if (r.has(Attr::link_target) && r.link_target.find('\0') != std::string::npos)
    return rejected("scan writer: link target contains NUL: " + excerpt(r.path));
  last_path_.assign(r.path);  // reuses the capacity: no allocation per record
  have_last_ = true;
  return {};
}

Expected<void> WriteSequence::end(std::span<const ScanError> errors) {
  if (phase_ != Phase::records) return misuse("scan writer: end() without begin(), or twice");
  for (const ScanError& e : errors) {
    // The reader bounds and normalises error paths like record paths; a scanner that
    // meets an over-long path must report a canonical prefix of it.
    if (!is_canonical_path(e.path)) return rejected("scan writer: error path is not canonical: " + excerpt(e.path));
    if (e.sys_errno < 0) return rejected("scan writer: negative errno for " + excerpt(e.path));
  }
  phase_ = Phase::ended;
  return {};
}

std::unique_ptr<ScanWriter> make_scan_writer(ScanFormat format, ByteSink& sink) {
  switch (format) {
    case ScanFormat::xml: return make_xml_scan_writer(sink);
    case ScanFormat::json: return make_json_scan_writer(sink);
  }
  return nullptr;
}

Expected<void> write_scan(ScanFormat format, const ScanDocument& doc, ByteSink& sink) {
  const auto writer = make_scan_writer(format, sink);
  if (!writer) return fail(ErrorCode::invalid_argument, "unknown scan format");
  if (auto ok = writer->begin(doc.header); !ok) return ok;
  for (const FileRecord& r : doc.manifest)
    if (auto ok = writer->record(r); !ok) return ok;
  return writer->end(doc.errors, doc.summary);
}

}  // namespace tb
