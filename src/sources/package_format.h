// What a file to import is, told from its first bytes (never from its name alone: a
// mirror names files as it likes, and a renamed file must not be parsed as what it is not).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tb {

enum class PackageFormat : std::uint8_t {
  deb,            // ar archive whose first member is debian-binary
  rpm,            // RPM lead magic
  tar,            // ustar/GNU/v7 tar header, or a gzip/bzip2/xz/zstd stream (assumed a tar)
  zip,            // local file header or empty-archive magic
  swid,           // XML whose root is SoftwareIdentity
  scan_document,  // other XML, or JSON: a trustbase scan document
  unknown,
};
std::string_view to_string(PackageFormat format) noexcept;

// Reads the first 4 KiB of `path`. io errors only; an unrecognised file is `unknown`.
Expected<PackageFormat> detect_package_format(const std::string& path);
// The same on bytes already read (the start of a file).
PackageFormat detect_package_format_of(std::string_view head);

}  // namespace tb
