// Shared by the importer tests: a temporary directory per test, running the real
// packaging tools (dpkg-deb, rpmbuild, tar, zip), and crafting hostile archives with
// libarchive's writer (names no honest tool would write: "../x", "/abs", duplicates).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/manifest.h"
#include "core/sha256.h"

namespace tb::srctest {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write(const fs::path& p, const std::string& content, std::optional<mode_t> mode = std::nullopt) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  if (mode) ::chmod(p.c_str(), *mode);
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its output goes to `output` (stdout and stderr), exit status returned.
inline int run(const std::string& command, std::string* output = nullptr) {
  char tmpl[] = "/tmp/tb-src-out-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp");
  ::close(fd);
  const int raw = std::system((command + " >" + tmpl + " 2>&1").c_str());
  if (output != nullptr) *output = slurp(tmpl);
  ::unlink(tmpl);
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

inline Sha256Digest file_sha256(const fs::path& p) { return Sha256::of(slurp(p)); }

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-sources-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// --- expected records -------------------------------------------------------------------

inline FileRecord pkg_file(std::string path, const std::string& content, std::uint32_t mode, bool owner = true) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;
  if (owner) r.present |= Attr::uid | Attr::gid;
  r.size = content.size();
  r.mode = mode;
  r.sha256 = Sha256::of(content);
  return r;
}

inline FileRecord pkg_dir(std::string path, std::uint32_t mode = 0755, bool owner = true) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::directory;
  r.present = Attr::type | Attr::mode;
  if (owner) r.present |= Attr::uid | Attr::gid;
  r.mode = mode;
  return r;
}

inline FileRecord pkg_symlink(std::string path, std::string target, bool owner = true) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::symlink;
  r.present = Attr::type | Attr::size | Attr::link_target;
  if (owner) r.present |= Attr::uid | Attr::gid;
  r.link_target = std::move(target);
  r.size = r.link_target.size();
  return r;
}

// Readable failures: one line per record.
inline std::string dump(const Manifest& m) {
  std::string out;
  for (const FileRecord& r : m) {
    out += r.path + " " + std::string(to_string(r.type)) + " present=" + describe(r.present);
    if (r.has(Attr::mode)) out += " mode=" + std::to_string(r.mode);
    if (r.has(Attr::size)) out += " size=" + std::to_string(r.size);
    if (r.has(Attr::uid)) out += " uid=" + std::to_string(r.uid) + " gid=" + std::to_string(r.gid);
    if (r.has(Attr::sha256)) out += " sha=" + r.sha256.hex().substr(0, 12);
    if (r.has(Attr::link_target)) out += " -> " + r.link_target;
    out += "\n";
  }
  return out;
}

// --- crafted archives ---------------------------------------------------------------------

struct CraftedEntry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;
  unsigned mode = 0644;
  std::string symlink;
  std::string hardlink;
};

inline CraftedEntry crafted_file(std::string path, std::string content) {
  CraftedEntry e;
  e.path = std::move(path);
  e.content = std::move(content);
  return e;
}

inline CraftedEntry crafted_hardlink(std::string path, std::string target) {
  CraftedEntry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}

// Writes `entries` with libarchive: format e.g. ARCHIVE_FORMAT_TAR_PAX_RESTRICTED or
// ARCHIVE_FORMAT_ZIP, filter e.g. ARCHIVE_FILTER_GZIP (or ARCHIVE_FILTER_NONE).
inline void craft_archive(const fs::path& out, int format, int filter, const std::vector<CraftedEntry>& entries) {
  archive* a = archive_write_new();
  archive_write_set_format(a, format);
  if (filter != ARCHIVE_FILTER_NONE) archive_write_add_filter(a, filter);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK)
    throw std::runtime_error(std::string("craft: ") + archive_error_string(a));
  for (const CraftedEntry& c : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, c.path.c_str());
    archive_entry_set_filetype(e, c.type);
    archive_entry_set_perm(e, c.mode);
    if (!c.symlink.empty()) archive_entry_set_symlink(e, c.symlink.c_str());
    if (!c.hardlink.empty()) archive_entry_set_hardlink(e, c.hardlink.c_str());
    archive_entry_set_size(e, c.type == AE_IFREG && c.hardlink.empty() ? static_cast<la_int64_t>(c.content.size()) : 0);
    if (archive_write_header(a, e) != ARCHIVE_OK)
      throw std::runtime_error(std::string("craft header: ") + archive_error_string(a));
    if (c.type == AE_IFREG && c.hardlink.empty() && !c.content.empty())
      archive_write_data(a, c.content.data(), c.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// --- packages built with the real tools -----------------------------------------------------

struct DebSpec {
  std::string package = "app";
  std::string version = "1.0-1";
  std::string architecture = "all";
  std::string maintainer = "ACME Packaging <pkg@acme.example>";
  std::string source;  // Source: field, when not empty
  std::vector<std::pair<std::string, std::string>> files;  // path (absolute) -> content
  std::vector<std::string> executables;                    // paths among `files` with mode 0755
  std::vector<std::pair<std::string, std::string>> symlinks;  // path -> target
  std::vector<std::string> conffiles;
  std::string compression = "xz";  // dpkg-deb -Z: gzip, xz, zstd, none
};

// Builds NAME_VERSION_ARCH.deb in `dir` with dpkg-deb (owners root:root) and returns its path.
inline fs::path build_deb(const fs::path& dir, const DebSpec& spec) {
  const fs::path root = dir / ("deb-root-" + spec.package + "-" + spec.version);
  fs::remove_all(root);
  fs::create_directories(root / "DEBIAN");
  std::string control = "Package: " + spec.package + "\nVersion: " + spec.version +
                        "\nArchitecture: " + spec.architecture + "\nMaintainer: " + spec.maintainer + "\n";
  if (!spec.source.empty()) control += "Source: " + spec.source + "\n";
  control += "Description: test package\n built by the trustbase tests\n";
  write(root / "DEBIAN/control", control);
  if (!spec.conffiles.empty()) {
    std::string list;
    for (const std::string& c : spec.conffiles) list += c + "\n";
    write(root / "DEBIAN/conffiles", list);
  }
  for (const auto& [path, content] : spec.files) write(root / path.substr(1), content, 0644);
  for (const std::string& path : spec.executables) ::chmod((root / path.substr(1)).c_str(), 0755);
  for (const auto& [path, target] : spec.symlinks) {
    fs::create_directories((root / path.substr(1)).parent_path());
    fs::create_symlink(target, root / path.substr(1));
  }
  // Directories as dpkg-deb would get them from a build: 0755 whatever the umask.
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_directory() && !it->is_symlink()) ::chmod(it->path().c_str(), 0755);
  std::string version = spec.version;
  if (const auto colon = version.find(':'); colon != std::string::npos) version = version.substr(colon + 1);
  const fs::path out = dir / (spec.package + "_" + version + "_" + spec.architecture + ".deb");
  std::string log;
  const int rc = run("dpkg-deb --root-owner-group -Z" + spec.compression + " --build " + quote(root.string()) + " " +
                         quote(out.string()),
                     &log);
  if (rc != 0) throw std::runtime_error("dpkg-deb failed: " + log);
  return out;
}

struct RpmSpec {
  std::string name = "app";
  std::string version = "1.0";
  std::string release = "1";
  std::optional<unsigned> epoch;
  std::string payload = "w9.gzdio";  // %_binary_payload: w9.gzdio, w6.xzdio, w19.zstdio
  std::string install;               // the %install script (files under %{buildroot})
  std::string files;                 // the %files section
  std::string defines;               // more rpmbuild arguments ("--define '...'")
};

// Builds a noarch binary rpm with rpmbuild in a private _topdir and returns its path.
inline fs::path build_rpm(const fs::path& dir, const RpmSpec& spec) {
  const fs::path top = dir / ("rpm-top-" + spec.name + "-" + spec.version + "-" + spec.release);
  fs::create_directories(top / "SPECS");
  std::string text = "Name: " + spec.name + "\nVersion: " + spec.version + "\nRelease: " + spec.release +
                     "\nSummary: test\nLicense: MIT\nVendor: ACME Corp\nBuildArch: noarch\n";
  if (spec.epoch) text += "Epoch: " + std::to_string(*spec.epoch) + "\n";
  text += "%description\ntest package\n%install\n" + spec.install + "\n%files\n" + spec.files + "\n";
  write(top / "SPECS/pkg.spec", text);
  std::string log;
  const int rc = run("rpmbuild --define " + quote("_topdir " + top.string()) + " --define " +
                         quote("_binary_payload " + spec.payload) +
                         " --define '__os_install_post %{nil}' --define '_build_id_links none'"
                         " --define '_source_payload w9.gzdio' " + spec.defines + " -bb " +
                         quote((top / "SPECS/pkg.spec").string()),
                     &log);
  if (rc != 0) throw std::runtime_error("rpmbuild failed: " + log);
  for (const auto& e : fs::recursive_directory_iterator(top / "RPMS"))
    if (e.path().extension() == ".rpm") return e.path();
  throw std::runtime_error("rpmbuild produced no rpm: " + log);
}

// A copy of `src` cut after `bytes` bytes.
inline fs::path truncated_copy(const fs::path& src, const fs::path& out, std::size_t bytes) {
  const std::string data = slurp(src);
  write(out, data.substr(0, std::min(bytes, data.size())));
  return out;
}

// A copy of `src` with the byte at `offset` inverted.
inline fs::path flipped_copy(const fs::path& src, const fs::path& out, std::size_t offset) {
  std::string data = slurp(src);
  data[offset % data.size()] = static_cast<char>(~data[offset % data.size()]);
  write(out, data);
  return out;
}

}  // namespace tb::srctest
