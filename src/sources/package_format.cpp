#include "sources/package_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tb {

std::string_view to_string(PackageFormat format) noexcept {
  switch (format) {
    case PackageFormat::deb: return "deb";
    case PackageFormat::rpm: return "rpm";
    case PackageFormat::tar: return "tar";
    case PackageFormat::zip: return "zip";
    case PackageFormat::swid: return "swid";
    case PackageFormat::scan_document: return "scan document";
    case PackageFormat::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A tar header block: its checksum (octal at 148) is the sum of its 512 bytes with the
// checksum field read as spaces. Recognises v7 archives, which have no magic.
bool is_tar_header(std::string_view head) {
  if (head.size() < 512) return false;
  if (head.substr(257, 5) == "ustar") return true;
  std::uint32_t stored = 0;
  bool digits = false;
  for (std::size_t i = 148; i < 156; ++i) {
    const char c = head[i];
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<std::uint32_t>(c - '0');
      digits = true;
    } else if (c != ' ' && c != '\0') {
      return false;
    }
  }
  if (!digits || head[0] == '\0') return false;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(head[i]);
  return sum == stored;
}

}  // namespace

PackageFormat detect_package_format_of(std::string_view head) {
  if (starts_with(head, "!<arch>\n"))
    return head.substr(8, 13) == "debian-binary" ? PackageFormat::deb : PackageFormat::unknown;
  if (starts_with(head, "\xED\xAB\xEE\xDB")) return PackageFormat::rpm;
  if (starts_with(head, "PK\x03\x04") || starts_with(head, "PK\x05\x06")) return PackageFormat::zip;
  if (starts_with(head, "\x1F\x8B") || starts_with(head, "BZh") || starts_with(head, std::string_view("\xFD" "7zXZ\0", 6)) ||
      starts_with(head, "\x28\xB5\x2F\xFD"))
    return PackageFormat::tar;
  if (is_tar_header(head)) return PackageFormat::tar;
  std::string_view text = head;
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
    text.remove_prefix(1);
  if (starts_with(text, "{")) return PackageFormat::scan_document;
  if (starts_with(text, "<")) {
    // The root element's name: after the prolog, comments and processing instructions.
    std::size_t i = 0;
    while (i < text.size()) {
      const std::size_t lt = text.find('<', i);
      if (lt == std::string_view::npos || lt + 1 >= text.size()) break;
      const char c = text[lt + 1];
      if (c == '?' || c == '!') {
        i = lt + 2;
        continue;
      }
      std::size_t end = lt + 1;
      while (end < text.size() && text[end] != ' ' && text[end] != '>' && text[end] != '/' && text[end] != '\n' &&
             text[end] != '\t' && text[end] != '\r')
        ++end;
      std::string_view name = text.substr(lt + 1, end - lt - 1);
      if (const auto colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
      return name == "SoftwareIdentity" ? PackageFormat::swid : PackageFormat::scan_document;
    }
    return PackageFormat::scan_document;
  }
  return PackageFormat::unknown;
}

Expected<PackageFormat> detect_package_format(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::io, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::invalid_argument, path + ": not a regular file");
  }
  char buffer[4096];
  std::size_t have = 0;
  while (have < sizeof buffer) {
    const ssize_t n = ::read(fd, buffer + have, sizeof buffer - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string message = path + ": cannot read: " + std::strerror(errno);
      ::close(fd);
      return fail(ErrorCode::io, message);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return detect_package_format_of(std::string_view(buffer, have));
}

}  // namespace tb
