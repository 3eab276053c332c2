#include "core/scan_document.h"

#include <array>
#include <utility>

namespace tb {

namespace {
constexpr std::array<std::pair<ScanErrorKind, std::string_view>, 8> kNames{{
    {ScanErrorKind::open, "open"},
    {ScanErrorKind::read, "read"},
    {ScanErrorKind::stat, "stat"},
    {ScanErrorKind::vanished, "vanished"},
    {ScanErrorKind::changed, "changed"},
    {ScanErrorKind::loop, "loop"},
    {ScanErrorKind::limit, "limit"},
    {ScanErrorKind::other, "other"},
}};
}  // namespace

std::string_view to_string(ScanErrorKind kind) noexcept {
  for (const auto& [k, n] : kNames)
    if (k == kind) return n;
  return "other";
}

std::optional<ScanErrorKind> scan_error_kind_from_string(std::string_view name) noexcept {
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view to_string(PackageManager manager) noexcept {
  switch (manager) {
    case PackageManager::dpkg: return "dpkg";
    case PackageManager::rpm: return "rpm";
  }
  return "dpkg";
}

std::optional<PackageManager> package_manager_from_string(std::string_view name) noexcept {
  if (name == "dpkg") return PackageManager::dpkg;
  if (name == "rpm") return PackageManager::rpm;
  return std::nullopt;
}

}  // namespace tb
