#include "scan/package_inventory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

namespace tb {

namespace {

// Keeps the first warnings; past the bound, one line says that more were left out.
void warn(PackageInventory& out, PackageManager manager, std::string message) {
  if (out.warnings.size() + 1 < kMaxInventoryWarnings) {
    out.warnings.push_back(InventoryWarning{manager, std::move(message)});
  } else if (out.warnings.size() + 1 == kMaxInventoryWarnings) {
    out.warnings.push_back(InventoryWarning{manager, "further warnings left out"});
  }
}

bool ascii_iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20) && ((x >= 'A' && x <= 'Z') || (x >= 'a' && x <= 'z') || x == y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Printable ASCII only, no spaces: what dpkg allows in names, versions and architectures.
bool plain_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// One stanza of the status file, as far as the inventory needs it.
struct Stanza {
  std::size_t line = 0;  // first line, 1-based
  std::string_view package, version, arch, status;
  std::string_view other;  // any other field (its value is not needed)
  unsigned seen = 0;       // bit per field of interest, to catch repeats
  bool any_field = false;
  bool malformed = false;
  std::string why;
};

void finish_stanza(const Stanza& s, PackageInventory& out, const InventoryLimits& limits, bool& full) {
  const auto where = "status line " + std::to_string(s.line) + ": ";
  if (s.malformed) return warn(out, PackageManager::dpkg, where + s.why + "; entry skipped");
  // "want flag status": install/hold, ok, installed. Anything else is not installed (or
  // is broken: reinstreq, half-installed, unpacked...) and is not what the files show.
  const std::string_view st = trim(s.status);
  std::string_view words[3];
  std::size_t n = 0, pos = 0;
  while (n < 3 && pos < st.size()) {
    const std::size_t end = std::min(st.find(' ', pos), st.size());
    words[n++] = st.substr(pos, end - pos);
    pos = st.find_first_not_of(' ', end);
    if (pos == std::string_view::npos) pos = st.size();
  }
  if (!s.any_field) return;  // comment lines only
  if ((s.seen & 1u) == 0) return warn(out, PackageManager::dpkg, where + "stanza without a Package field; skipped");
  if (n != 3 || pos != st.size())
    return warn(out, PackageManager::dpkg, where + "package " + std::string(s.package.substr(0, 64)) +
                                               ": unreadable Status field; skipped");
  if (!(words[0] == "install" || words[0] == "hold") || words[1] != "ok" || words[2] != "installed") return;
  const std::string_view name = trim(s.package), version = trim(s.version), arch = trim(s.arch);
  if (name.size() > limits.max_field_bytes || version.size() > limits.max_field_bytes ||
      arch.size() > limits.max_field_bytes)
    return warn(out, PackageManager::dpkg, where + "a field longer than " + std::to_string(limits.max_field_bytes) +
                                               " bytes; entry skipped");
  if (!plain_token(name) || !plain_token(version) || (!arch.empty() && !plain_token(arch)))
    return warn(out, PackageManager::dpkg, where + "installed package without a valid Package or Version; skipped");
  if (out.packages.size() >= limits.max_packages) {
    if (!full) warn(out, PackageManager::dpkg, "more than " + std::to_string(limits.max_packages) +
                                                   " installed packages; the rest left out");
    full = true;
    return;
  }
  out.packages.push_back(InstalledPackage{std::string(name), std::string(version), std::string(arch),
                                          PackageManager::dpkg});
}

// Reads a regular file of at most `max` bytes, not following a final symlink (in a
// sysroot it could point anywhere on the scanning host). nullopt: absent.
std::optional<std::string> read_small_file(const std::string& path, std::size_t max, PackageInventory& out,
                                           PackageManager manager) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::nullopt;
    warn(out, manager, "cannot open " + path + ": " + ::strerrordesc_np(err));
    return std::string();
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    warn(out, manager, path + " is not a regular file; not read");
    return std::string();
  }
  if (static_cast<std::uint64_t>(st.st_size) > max) {
    warn(out, manager, path + " is larger than " + std::to_string(max) + " bytes; not read");
    return std::string();
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      warn(out, manager, "cannot read " + path + ": " + ::strerrordesc_np(errno));
      return std::string();
    }
    if (n == 0) break;  // shrank while read: parse what is there
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

std::string under(const std::string& sysroot, std::string_view path) {
  std::string root = sysroot;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root + std::string(path);
}

}  // namespace

void parse_dpkg_status(std::string_view text, PackageInventory& out, const InventoryLimits& limits) {
  Stanza s;
  bool in_stanza = false, full = false;
  std::size_t line_no = 0, pos = 0;
  const std::string_view* last_field = nullptr;  // the field a continuation line would extend
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    const bool at_end = end == text.size();
    pos = end + 1;
    ++line_no;
    if (trim(line).empty()) {
      if (in_stanza) finish_stanza(s, out, limits, full);
      in_stanza = false;
      if (at_end) break;
      continue;
    }
    if (!in_stanza) {
      s = Stanza{};
      s.line = line_no;
      in_stanza = true;
      last_field = nullptr;
    }
    if (s.malformed) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      // Continuation of a multi-line field (Description, Conffiles): fine after a field.
      if (last_field == nullptr) {
        s.malformed = true;
        s.why = "continuation line before any field";
      }
      continue;
    }
    if (line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || trim(line.substr(0, colon)).size() != colon) {
      s.malformed = true;
      s.why = "line " + std::to_string(line_no) + " is not a 'Field: value' line";
      continue;
    }
    const std::string_view field = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    s.any_field = true;
    constexpr std::string_view kFields[] = {"Package", "Version", "Architecture", "Status"};
    std::string_view* const slots[] = {&s.package, &s.version, &s.arch, &s.status};
    last_field = nullptr;
    for (std::size_t i = 0; i < std::size(kFields); ++i) {
      if (!ascii_iequal(field, kFields[i])) continue;
      if ((s.seen & (1u << i)) != 0) {
        s.malformed = true;
        s.why = "field " + std::string(kFields[i]) + " repeated";
        break;
      }
      s.seen |= 1u << i;
      *slots[i] = trim(value);
      last_field = slots[i];
    }
    if (last_field == nullptr && !s.malformed) last_field = &s.other;
  }
}

bool read_dpkg_inventory(const std::string& sysroot, PackageInventory& out, const InventoryLimits& limits) {
  const std::string path = under(sysroot, "/var/lib/dpkg/status");
  const auto text = read_small_file(path, limits.max_status_bytes, out, PackageManager::dpkg);
  if (!text) return false;
  parse_dpkg_status(*text, out, limits);
  return true;
}

std::optional<PackageInventory> collect_package_inventory(const std::string& sysroot, const InventoryLimits& limits) {
  PackageInventory inv;
  const bool dpkg = read_dpkg_inventory(sysroot, inv, limits);
  const bool rpm = read_rpm_inventory(sysroot, inv, limits);
  if (!dpkg && !rpm) return std::nullopt;
  auto key = [](const InstalledPackage& p) { return std::tie(p.manager, p.name, p.arch, p.version); };
  std::sort(inv.packages.begin(), inv.packages.end(),
            [&](const InstalledPackage& a, const InstalledPackage& b) { return key(a) < key(b); });
  inv.packages.erase(std::unique(inv.packages.begin(), inv.packages.end()), inv.packages.end());
  return inv;
}

}  // namespace tb
