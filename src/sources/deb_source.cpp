#include "sources/deb_source.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/path.h"
#include "format/drift_report.h"  // printable()

namespace tb {

namespace {

constexpr std::size_t kMaxControlBytes = 4 * 1024 * 1024;  // control, conffiles (real ones: a few KiB)

bool ascii_iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool valid_package_name(std::string_view n) {
  // Policy 5.6.1: lower-case letters, digits, + - . ; at least two; starts alphanumeric.
  if (n.size() < 2 || n.size() > 255) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front())) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return alnum(c) || c == '+' || c == '-' || c == '.'; });
}

bool valid_version(std::string_view v) {
  // Policy 5.6.12: [epoch:]upstream[-revision], alphanumerics and . + ~ - (and the ':').
  if (v.empty() || v.size() > 255) return false;
  const auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view epoch = v.substr(0, colon);
    if (epoch.empty() || !std::all_of(epoch.begin(), epoch.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    v.remove_prefix(colon + 1);
  }
  if (v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '+' ||
           c == '~' || c == '-' || c == ':';
  });
}

bool valid_architecture(std::string_view a) {
  return !a.empty() && a.size() <= 64 && std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The compression a member's name promises: "data.tar.xz" -> xz. nullopt: not allowed.
std::optional<Compression> member_compression(std::string_view name, std::string_view stem, bool data) {
  if (name == stem) return Compression::none;
  if (name.size() <= stem.size() + 1 || name.substr(0, stem.size()) != stem || name[stem.size()] != '.')
    return std::nullopt;
  const std::string_view ext = name.substr(stem.size() + 1);
  if (ext == "gz") return Compression::gzip;
  if (ext == "xz") return Compression::xz;
  if (ext == "zst") return Compression::zstd;
  if (data && ext == "bz2") return Compression::bzip2;
  if (data && ext == "lzma") return Compression::lzma;
  return std::nullopt;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "NAME_VERSION_ARCH.deb" (dpkg-name's and apt's form, ':' written as "%3a"): when a file
// is named so, it must agree with its control file, or its metadata lies.
Expected<void> check_file_name(const std::string& file_name, const DebControl& control, const std::string& path) {
  if (file_name.size() < 4 || file_name.substr(file_name.size() - 4) != ".deb") return {};
  const std::string stem = file_name.substr(0, file_name.size() - 4);
  if (std::count(stem.begin(), stem.end(), '_') != 2) return {};
  const auto a = stem.find('_');
  const auto b = stem.find('_', a + 1);
  const std::string name = stem.substr(0, a);
  std::string version = stem.substr(a + 1, b - a - 1);
  const std::string arch = stem.substr(b + 1);
  for (std::size_t k; (k = version.find("%3a")) != std::string::npos || (k = version.find("%3A")) != std::string::npos;)
    version.replace(k, 3, ":");
  const std::string& v = control.version;
  const auto colon = v.find(':');
  const bool version_ok = version == v || (colon != std::string::npos && version == v.substr(colon + 1));
  if (name != control.package || !version_ok || arch != control.architecture)
    return fail(ErrorCode::parse, path + ": the file name says " + printable(name) + " " + printable(version) + " (" +
                                      printable(arch) + ") but its control file says " + control.package + " " +
                                      control.version + " (" + control.architecture + ")");
  return {};
}

}  // namespace

Expected<DebControl> parse_deb_control(std::string_view text) {
  DebControl c;
  std::string* current = nullptr;  // the field continuation lines extend (only those we keep)
  bool any_field = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (trim(line).empty()) {
      if (any_field) break;  // end of the first paragraph
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!any_field) return fail(ErrorCode::parse, "control file: continuation line before any field");
      if (current != nullptr) {
        *current += ' ';
        *current += trim(line);
      }
      continue;
    }
    if (line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail(ErrorCode::parse, "control file: malformed line '" + printable(line.substr(0, 80)) + "'");
    const std::string_view field = line.substr(0, colon);
    const std::string value(trim(line.substr(colon + 1)));
    any_field = true;
    current = nullptr;
    if (ascii_iequal(field, "Package")) current = &c.package;
    else if (ascii_iequal(field, "Version")) current = &c.version;
    else if (ascii_iequal(field, "Architecture")) current = &c.architecture;
    else if (ascii_iequal(field, "Source")) current = &c.source;
    else if (ascii_iequal(field, "Maintainer")) current = &c.maintainer;
    if (current != nullptr) *current = value;
  }
  if (c.package.empty()) return fail(ErrorCode::parse, "control file: no Package field");
  if (!valid_package_name(c.package))
    return fail(ErrorCode::parse, "control file: invalid package name '" + printable(c.package) + "'");
  if (c.version.empty()) return fail(ErrorCode::parse, "control file: no Version field");
  if (!valid_version(c.version))
    return fail(ErrorCode::parse, "control file: invalid version '" + printable(c.version) + "'");
  if (c.architecture.empty()) return fail(ErrorCode::parse, "control file: no Architecture field");
  if (!valid_architecture(c.architecture))
    return fail(ErrorCode::parse, "control file: invalid architecture '" + printable(c.architecture) + "'");
  return c;
}

Expected<std::vector<std::string>> parse_deb_conffiles(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    // Paths cannot hold spaces in conffiles; what follows the path are flags.
    const auto space = line.find_first_of(" \t");
    const std::string_view raw = line.substr(0, space);
    bool remove_on_upgrade = false;
    if (space != std::string_view::npos) {
      const std::string_view flag = trim(line.substr(space));
      if (flag != "remove-on-upgrade")
        return fail(ErrorCode::parse, "conffiles: unknown flag '" + printable(flag) + "' for " + printable(raw));
      remove_on_upgrade = true;
    }
    if (raw.front() != '/') return fail(ErrorCode::parse, "conffiles: not an absolute path: " + printable(raw));
    auto path = normalize_path(raw);
    if (!path) return fail(ErrorCode::parse, "conffiles: " + printable(raw) + ": " + path.error().message);
    if (!remove_on_upgrade) out.push_back(std::move(*path));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Expected<DebPackage> read_deb(const std::string& path, const ArchiveLimits& limits) {
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  // The container holds three members (and maybe some "_" ones dpkg ignores).
  ArchiveLimits outer_limits = limits;
  outer_limits.max_entries = std::min<std::uint64_t>(limits.max_entries, 64);
  auto ar = ArchiveReader::open(*file, kArchiveAr, path, outer_limits);
  if (!ar) return fail(ar.error().code, path + ": not a Debian package (" + ar.error().message + ")");
  if (ar->compression() != Compression::none)
    return fail(ErrorCode::parse, path + ": not a Debian package (the ar container is compressed)");

  std::optional<DebControl> control;
  std::vector<std::string> conffiles;
  std::optional<ArchiveTree> data;
  bool seen_binary = false;
  for (;;) {
    auto next = ar->next();
    if (!next) return tl::unexpected(next.error());
    const ArchiveEntry* member = *next;
    if (member == nullptr) break;
    const std::string& name = member->path;
    const std::string where = path + ": " + printable(name);
    if (!seen_binary) {
      if (name != "debian-binary") return fail(ErrorCode::parse, path + ": not a Debian package (first member is '" + printable(name) + "', not debian-binary)");
      auto text = ar->read_all(64);
      if (!text) return tl::unexpected(text.error());
      if (!starts_with(*text, "2."))
        return fail(ErrorCode::parse, path + ": unsupported package format version '" + printable(trim(*text)) + "'");
      seen_binary = true;
      continue;
    }
    if (starts_with(name, "_")) continue;
    const bool is_control = starts_with(name, "control.tar");
    const bool is_data = starts_with(name, "data.tar");
    if (!is_control && !is_data) return fail(ErrorCode::parse, where + ": unexpected member");
    if (is_control && control) return fail(ErrorCode::parse, where + ": second control member");
    if (is_data && data) return fail(ErrorCode::parse, where + ": second data member");
    if (is_data && !control) return fail(ErrorCode::parse, where + ": data member before the control member");
    const auto promised = member_compression(name, is_control ? "control.tar" : "data.tar", is_data);
    if (!promised) return fail(ErrorCode::parse, where + ": unknown compression");

    auto inner = ArchiveReader::open_entry(*ar, kArchiveTar, where, limits);
    if (!inner) return tl::unexpected(inner.error());
    if (is_control) {
      std::optional<std::string> control_text, conffiles_text;
      for (;;) {
        auto entry = inner->next();
        if (!entry) return tl::unexpected(entry.error());
        if (*entry == nullptr) break;
        if (inner->compression() != *promised)
          return fail(ErrorCode::parse, where + ": compressed with " + std::string(to_string(inner->compression())) +
                                            ", not as its name says");
        std::string_view n = (*entry)->path;
        while (starts_with(n, "./")) n.remove_prefix(2);
        std::optional<std::string>* target = n == "control" ? &control_text : n == "conffiles" ? &conffiles_text : nullptr;
        if (target == nullptr || (*entry)->type != FileType::file) continue;
        if (*target) return tl::unexpected(inner->entry_error(ErrorCode::parse, "duplicate entry"));
        auto text = inner->read_all(kMaxControlBytes);
        if (!text) return tl::unexpected(text.error());
        *target = std::move(*text);
      }
      if (!control_text) return fail(ErrorCode::parse, where + ": no control file");
      auto parsed = parse_deb_control(*control_text);
      if (!parsed) return fail(ErrorCode::parse, where + ": " + parsed.error().message);
      control = std::move(*parsed);
      if (conffiles_text) {
        auto parsed_conffiles = parse_deb_conffiles(*conffiles_text);
        if (!parsed_conffiles) return fail(ErrorCode::parse, where + ": " + parsed_conffiles.error().message);
        conffiles = std::move(*parsed_conffiles);
      }
    } else {
      TreeOptions options;
      options.keep_owner = true;
      auto tree = read_archive_tree(*inner, options);
      if (!tree) return tl::unexpected(tree.error());
      if (inner->compression() != *promised)
        return fail(ErrorCode::parse, where + ": compressed with " + std::string(to_string(inner->compression())) +
                                          ", not as its name says");
      data = std::move(*tree);
    }
  }
  if (!seen_binary) return fail(ErrorCode::parse, path + ": not a Debian package (empty ar archive)");
  if (!control) return fail(ErrorCode::parse, path + ": no control.tar member");
  if (!data) return fail(ErrorCode::parse, path + ": no data.tar member (truncated package?)");
  if (auto named = check_file_name(file->file_name(), *control, path); !named) return tl::unexpected(named.error());

  auto manifest = Manifest::from_sorted(std::move(data->records));
  if (!manifest) return fail(manifest.error().code, path + ": " + manifest.error().message);
  for (const std::string& conffile : conffiles) {
    const FileRecord* r = manifest->find(conffile);
    if (r == nullptr || r->type != FileType::file)
      return fail(ErrorCode::parse, path + ": conffile " + printable(conffile) + " is not a file of the package");
  }
  auto digest = file->finish();
  if (!digest) return tl::unexpected(digest.error());

  DebPackage out;
  SignatureInfo& info = out.signature.info;
  info.ref = SignatureRef{control->package, control->version};
  info.vendor = control->maintainer;
  info.kind = SignatureKind::product;
  info.install_root = "/";
  info.source = file->file_name();
  info.source_sha256 = *digest;
  info.architecture = control->architecture;
  info.config_paths = std::move(conffiles);
  out.signature.manifest = std::move(*manifest);
  out.control = std::move(*control);
  out.file_size = file->size();
  return out;
}

Expected<DebControl> read_deb_control(const std::string& path) {
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  ArchiveLimits limits;
  limits.max_entries = 64;
  auto ar = ArchiveReader::open(*file, kArchiveAr, path, limits);
  if (!ar) return fail(ar.error().code, path + ": not a Debian package (" + ar.error().message + ")");
  for (;;) {
    auto next = ar->next();
    if (!next) return tl::unexpected(next.error());
    if (*next == nullptr) return fail(ErrorCode::parse, path + ": no control.tar member");
    if (!starts_with((*next)->path, "control.tar")) continue;
    auto inner = ArchiveReader::open_entry(*ar, kArchiveTar, path, ArchiveLimits{});
    if (!inner) return tl::unexpected(inner.error());
    for (;;) {
      auto entry = inner->next();
      if (!entry) return tl::unexpected(entry.error());
      if (*entry == nullptr) return fail(ErrorCode::parse, path + ": no control file");
      std::string_view n = (*entry)->path;
      while (starts_with(n, "./")) n.remove_prefix(2);
      if (n != "control" || (*entry)->type != FileType::file) continue;
      auto text = inner->read_all(kMaxControlBytes);
      if (!text) return tl::unexpected(text.error());
      auto control = parse_deb_control(*text);
      if (!control) return fail(ErrorCode::parse, path + ": " + control.error().message);
      return control;
    }
  }
}

}  // namespace tb
