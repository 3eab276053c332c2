#include "core/signature.h"

#include <algorithm>

namespace tb {

std::string_view to_string(SignatureKind kind) noexcept { return kind == SignatureKind::patch ? "patch" : "product"; }

std::optional<SignatureKind> signature_kind_from_string(std::string_view name) noexcept {
  if (name == "product") return SignatureKind::product;
  if (name == "patch") return SignatureKind::patch;
  return std::nullopt;
}

std::string_view to_string(ProvenanceMethod method) noexcept {
  switch (method) {
    case ProvenanceMethod::deb_release: return "deb-release";
    case ProvenanceMethod::rpm_gpg: return "rpm-gpg";
    case ProvenanceMethod::none: break;
  }
  return "none";
}

std::optional<ProvenanceMethod> provenance_method_from_string(std::string_view name) noexcept {
  if (name == "none") return ProvenanceMethod::none;
  if (name == "deb-release") return ProvenanceMethod::deb_release;
  if (name == "rpm-gpg") return ProvenanceMethod::rpm_gpg;
  return std::nullopt;
}

std::string_view to_string(VersionScheme scheme) noexcept {
  return scheme == VersionScheme::rpm ? "rpm" : "debian";
}

std::optional<VersionScheme> version_scheme_from_string(std::string_view name) noexcept {
  if (name == "debian") return VersionScheme::debian;
  if (name == "rpm") return VersionScheme::rpm;
  return std::nullopt;
}

std::optional<SignatureRef> SignatureRef::parse(std::string_view id) {
  const std::size_t at = id.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return std::nullopt;
  return SignatureRef{std::string(id.substr(0, at)), std::string(id.substr(at + 1))};
}

bool SignatureInfo::is_config(std::string_view path) const {
  return std::binary_search(config_paths.begin(), config_paths.end(), path, std::less<>());
}

}  // namespace tb
