// Version orders of the package formats, to tell which of two releases of a package is
// the newer one (product/patch relations between imports).
#pragma once

#include <string>
#include <string_view>

#include "core/signature.h"  // VersionScheme

namespace tb {

// <0 when a is older than b, 0 when equal in the scheme's order, >0 when newer.
int compare_debian_versions(std::string_view a, std::string_view b);
int compare_rpm_versions(const std::string& a, const std::string& b);
int compare_versions(VersionScheme scheme, const std::string& a, const std::string& b);

}  // namespace tb
