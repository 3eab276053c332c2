// Signed imports: the package's own signature, checked on import with the publisher keys
// given (`trustbase import --keyring ... [--apt-release ... --apt-packages ...]
// [--require-signed]`), recorded as the signature's provenance (core/signature.h).
//
// - .deb: through its repository's chain (sources/apt_repository.h): the signed Release,
//   the Packages index it lists, the .deb's SHA256 and Size in that index. A .deb carries
//   no signature of its own that anyone checks (dpkg-sig/debsig-verify are rare), so
//   without --apt-release a .deb is unverified.
// - .rpm: its OpenPGP header signature against the keyring (sources/openpgp.h). A bad
//   signature, or one by a key the keyring lacks, is an error; an unsigned rpm is
//   recorded as unverified.
// - SWID tags: unsigned (XML signatures are not checked).
// With require_signed, whatever is not verified is refused.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sources/apt_repository.h"
#include "sources/deb_source.h"
#include "sources/openpgp.h"
#include "sources/rpm_source.h"

namespace tb {

struct VerifyOptions {
  std::vector<std::string> keyrings;   // --keyring: OpenPGP public keys, armored or binary
  std::string apt_release;             // --apt-release: InRelease, or Release (with apt_release_signature)
  std::string apt_release_signature;   // --apt-release-gpg: Release.gpg
  std::vector<std::string> apt_packages;  // --apt-packages: Packages indexes the Release lists
  bool require_signed = false;         // --require-signed: refuse what is not verified

  bool any() const { return !keyrings.empty() || !apt_release.empty() || !apt_packages.empty() || require_signed; }
};

class PackageVerifier {
 public:
  // Loads the keys and verifies the apt chain once. invalid_argument for options that do
  // not go together (--require-signed or --apt-release without --keyring, ...), and every
  // error of the chain (bad Release signature, Packages not listed...).
  static Expected<PackageVerifier> open(const VerifyOptions& options);
  PackageVerifier() = default;  // verifies nothing, requires nothing

  // Set the package's provenance, or fail (one clear message naming `path`).
  Expected<void> deb(DebPackage& deb, const std::string& path) const;
  Expected<void> rpm(RpmPackage& rpm, const std::string& path) const;
  // Sources that carry no verifiable signature (SWID tags): refused under require_signed.
  Expected<void> unsigned_source(const std::string& path, std::string_view kind) const;

  bool require_signed() const { return require_signed_; }
  // The verified Release (deb_release provenance), when an apt chain was given.
  const SignatureProvenance* apt_release() const { return apt_ ? &apt_->release() : nullptr; }

 private:
  bool require_signed_ = false;
  std::shared_ptr<const RpmKeyring> rpm_keys_;  // shared: a verifier is copied into feeds
  std::shared_ptr<const AptChain> apt_;
};

}  // namespace tb
