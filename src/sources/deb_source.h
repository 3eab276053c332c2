// Signatures from Debian binary packages (.deb): the ar container's control.tar.* gives
// the name, version, architecture and configuration files (conffiles), data.tar.* the
// files as dpkg installs them, rooted at "/".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/signature.h"
#include "sources/archive_reader.h"

namespace tb {

// The fields of a binary package's control file that signatures use.
struct DebControl {
  std::string package;
  std::string version;
  std::string architecture;
  std::string source;      // the source package ("openssl", or "openssl (3.0.11-1)"); may be empty
  std::string maintainer;
};

// Parses the first paragraph of a control file (RFC 822 style, continuation lines
// folded). Requires Package, Version and Architecture, with the characters policy allows.
Expected<DebControl> parse_deb_control(std::string_view text);

// Parses a `conffiles` file: one absolute path per line, optionally followed by flags;
// entries flagged remove-on-upgrade are left out (the package no longer ships them).
// Returns canonical paths, sorted and unique.
Expected<std::vector<std::string>> parse_deb_conffiles(std::string_view text);

struct DebPackage {
  Signature signature;  // product, install root "/", source = file name + its SHA-256
  DebControl control;
  std::uint64_t file_size = 0;  // bytes of the .deb (what a Packages index's Size gives)
};

// Reads a .deb. Every failure names the file and the reason: not an ar archive, missing
// or misplaced members, unknown compression (or one that does not match the member's
// name), a control file without the required fields, a conffile the data does not hold,
// a file name (NAME_VERSION_ARCH.deb) that contradicts the control file, and everything
// read_archive_tree() refuses.
Expected<DebPackage> read_deb(const std::string& path, const ArchiveLimits& limits = {});

// Reads only the control file of a .deb (the first members of the container: cheap), for
// ordering releases before importing them. Checks nothing else: read_deb() does.
Expected<DebControl> read_deb_control(const std::string& path);

}  // namespace tb
