// The host's installed packages, read from its package databases for the scan document
// (ScanHeader::inventory): dpkg's status file and the rpm database, under a sysroot when
// scanning an image. Everything read is bounded (file size, entry count, field length);
// what is wrong with a database becomes an InventoryWarning, never a failed scan.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/scan_document.h"

namespace tb {

struct InventoryLimits {
  std::size_t max_status_bytes = std::size_t{64} << 20;  // dpkg status file (a big host: ~10 MB)
  std::size_t max_packages = kMaxInventoryPackages;      // over every package manager
  std::size_t max_field_bytes = kMaxPackageField;        // name, version, architecture
};

// Adds the packages of a dpkg status file (deb822 stanzas) to `out`: the stanzas whose
// Status is "<want> ok installed" with want install or hold (a held package is installed
// too); deinstalled, half-installed and config-files entries are left out. A stanza that
// is malformed (a line that is neither "Field: value" nor a continuation, no Package or
// Version, an over-long field) is skipped with a warning naming its line.
void parse_dpkg_status(std::string_view text, PackageInventory& out, const InventoryLimits& limits = {});

// Reads SYSROOT/var/lib/dpkg/status; false when there is none (not a dpkg system).
bool read_dpkg_inventory(const std::string& sysroot, PackageInventory& out, const InventoryLimits& limits = {});

// Reads the rpm database under SYSROOT (usr/lib/sysimage/rpm, else var/lib/rpm) with
// librpm, read-only; false when there is none. gpg-pubkey pseudo-packages are left out.
bool read_rpm_inventory(const std::string& sysroot, PackageInventory& out, const InventoryLimits& limits = {});

// Both of the above, packages sorted (manager, name, arch, version) and each listed once;
// nullopt when the system has neither database. `sysroot` empty means "/".
std::optional<PackageInventory> collect_package_inventory(const std::string& sysroot,
                                                          const InventoryLimits& limits = {});

}  // namespace tb
