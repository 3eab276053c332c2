// Version orders of the package formats, to tell which of two releases of a package is
// the newer one (product/patch relations between imports).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tb {

enum class VersionScheme : std::uint8_t {
  debian,  // dpkg: [epoch:]upstream[-revision], Debian policy 5.6.12 ('~' sorts before all)
  rpm,     // rpm: [epoch:]version-release compared with rpmvercmp
};

// <0 when a is older than b, 0 when equal in the scheme's order, >0 when newer.
int compare_debian_versions(std::string_view a, std::string_view b);
int compare_rpm_versions(const std::string& a, const std::string& b);
int compare_versions(VersionScheme scheme, const std::string& a, const std::string& b);

}  // namespace tb
