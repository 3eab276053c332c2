#include "sources/archive_source.h"

#include "core/path.h"

namespace tb {

Expected<Signature> signature_from_archive(const std::string& path, SignatureInfo info, unsigned strip_components,
                                           const ArchiveLimits& limits) {
  auto root = normalize_path(info.install_root);
  if (!root) return fail(ErrorCode::invalid_argument, "install root '" + info.install_root + "': " + root.error().message);
  info.install_root = *root;
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  auto reader = ArchiveReader::open(*file, kArchiveTar | kArchiveZip, path, limits);
  if (!reader) return tl::unexpected(reader.error());
  TreeOptions options;
  options.install_root = info.install_root;
  options.strip_components = strip_components;
  auto tree = read_archive_tree(*reader, options);
  if (!tree) return tl::unexpected(tree.error());
  if (tree->records.empty()) return fail(ErrorCode::parse, path + ": the archive holds no entry to install");
  auto manifest = Manifest::from_sorted(std::move(tree->records));
  if (!manifest) return fail(manifest.error().code, path + ": " + manifest.error().message);
  auto digest = file->finish();
  if (!digest) return tl::unexpected(digest.error());
  if (info.source.empty()) info.source = file->file_name();
  info.source_sha256 = *digest;
  return Signature{std::move(info), std::move(*manifest)};
}

}  // namespace tb
