#include "core/scan_document.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include "core/sha256.h"

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
    case PackageManager::dpkg:
      return "dpkg";
    case PackageManager::rpm:
      return "rpm";
  }
  return "dpkg";
}

std::optional<PackageManager> package_manager_from_string(std::string_view name) noexcept {
  if (name == "dpkg") return PackageManager::dpkg;
  if (name == "rpm") return PackageManager::rpm;
  return std::nullopt;
}

Sha256Digest inventory_digest(const PackageInventory& inventory) {
  std::vector<const InstalledPackage*> sorted;
  sorted.reserve(inventory.packages.size());
  for (const InstalledPackage& p : inventory.packages) sorted.push_back(&p);
  auto key = [](const InstalledPackage* p) { return std::tie(p->manager, p->name, p->version, p->arch); };
  std::sort(sorted.begin(), sorted.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
  Sha256 hash;
  for (const InstalledPackage* p : sorted) {
    // Each field with its length first: fields may hold any byte.
    hash.update(to_string(p->manager));
    for (const std::string* field : {&p->name, &p->version, &p->arch}) {
      hash.update(std::to_string(field->size()) + ":");
      hash.update(*field);
    }
  }
  return hash.finish();
}

std::optional<std::string> implausible_start(const ScanHeader& header, std::int64_t now_ns, std::int64_t tolerance_ns) {
  if (header.started_ns <= now_ns || header.started_ns - now_ns <= tolerance_ns) return std::nullopt;
  return "the scan says it started " + std::to_string((header.started_ns - now_ns) / 1'000'000'000) +
         " s in the future (more than the " + std::to_string(tolerance_ns / 1'000'000'000) +
         " s of clock skew allowed): check the host's clock";
}

}  // namespace tb
