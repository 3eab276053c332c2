#include "sources/directory_source.h"

#include <fstream>
#include <sstream>

#include "core/path.h"
#include "format/scan_reader.h"
#include "scan/scanner.h"

namespace tb {

FileRecord signature_record(FileRecord record) {
  record.present = record.present & kSignatureKeeps;
  if (!record.has(Attr::mode)) record.mode = 0;
  record.uid = record.gid = 0;
  record.mtime_ns = 0;
  return record;
}

namespace {

Expected<std::string> canonical_install_root(const std::string& root) {
  auto canonical = normalize_path(root);
  if (!canonical) return fail(ErrorCode::invalid_argument, "install root '" + root + "': " + canonical.error().message);
  return *canonical;
}

// `relative` starts with '/' (or is empty for the tree's own root).
std::string reroot(const std::string& install_root, std::string_view relative) {
  if (install_root == "/") return std::string(relative);
  return install_root + std::string(relative);
}

}  // namespace

Expected<Signature> signature_from_directory(const std::string& dir, SignatureInfo info) {
  auto install_root = canonical_install_root(info.install_root);
  if (!install_root) return tl::unexpected(install_root.error());
  info.install_root = *install_root;

  ScanOptions options;
  options.roots = {dir};
  auto scanned = scan_to_manifest(options);
  if (!scanned) return tl::unexpected(scanned.error());
  if (!scanned->outcome.errors.empty()) {
    const ScanError& e = scanned->outcome.errors.front();
    return fail(ErrorCode::io, "cannot read " + e.path + " (" + e.message + "), and " +
                                   std::to_string(scanned->outcome.errors.size() - 1) + " more errors");
  }
  const std::string& base = scanned->outcome.roots.front();
  std::vector<FileRecord> records;
  records.reserve(scanned->manifest.size());
  for (const FileRecord& r : scanned->manifest) {
    // The tree's own directory is the install root: the product owns it, unless that is
    // "/", which every product would claim.
    if (r.path == base && info.install_root == "/") continue;
    FileRecord s = signature_record(r);
    s.path = r.path == base ? info.install_root
                            : reroot(info.install_root, std::string_view(r.path).substr(base == "/" ? 0 : base.size()));
    records.push_back(std::move(s));
  }
  // Re-rooting keeps the relative order, so the records stay in path order.
  auto manifest = Manifest::from_sorted(std::move(records));
  if (!manifest) return tl::unexpected(manifest.error());
  if (info.source.empty()) info.source = base;
  return Signature{std::move(info), std::move(*manifest)};
}

Expected<Signature> signature_from_scan_document(const std::string& path, SignatureInfo info) {
  auto install_root = canonical_install_root(info.install_root);  // before reading a big file for nothing
  if (!install_root) return tl::unexpected(install_root.error());
  auto doc = parse_scan_file(path);
  if (!doc) return tl::unexpected(doc.error());
  return signature_from_scan(*doc, std::move(info), path);
}

Expected<Signature> signature_from_scan(const ScanDocument& scan, SignatureInfo info, const std::string& source) {
  auto install_root = canonical_install_root(info.install_root);
  if (!install_root) return tl::unexpected(install_root.error());
  info.install_root = *install_root;
  std::vector<FileRecord> records;
  for (const FileRecord& r : scan.manifest) {
    if (info.install_root != "/" && !path_is_under(r.path, info.install_root)) continue;
    records.push_back(signature_record(r));
  }
  if (records.empty()) return fail(ErrorCode::invalid_argument, source + ": no record under " + info.install_root);
  auto manifest = Manifest::from_sorted(std::move(records));
  if (!manifest) return tl::unexpected(manifest.error());
  if (info.source.empty()) info.source = source;
  return Signature{std::move(info), std::move(*manifest)};
}

}  // namespace tb
