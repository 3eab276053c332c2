#include "sources/package_verifier.h"

#include <utility>

namespace tb {

Expected<PackageVerifier> PackageVerifier::open(const VerifyOptions& o) {
  PackageVerifier v;
  v.require_signed_ = o.require_signed;
  if (o.keyrings.empty()) {
    if (o.require_signed)
      return fail(ErrorCode::invalid_argument, "--require-signed needs the publishers' keys (--keyring)");
    if (!o.apt_release.empty()) return fail(ErrorCode::invalid_argument, "--apt-release needs the archive's key (--keyring)");
  }
  if (o.apt_release.empty() && (!o.apt_packages.empty() || !o.apt_release_signature.empty()))
    return fail(ErrorCode::invalid_argument, "--apt-packages and --apt-release-gpg go with --apt-release");
  if (!o.apt_release.empty() && o.apt_packages.empty())
    return fail(ErrorCode::invalid_argument, "--apt-release needs the Packages index it lists (--apt-packages)");
  if (o.keyrings.empty()) return v;
  auto keys = OpenPgpKeyring::load(o.keyrings);
  if (!keys) return tl::unexpected(keys.error());
  auto rpm_keys = RpmKeyring::from(*keys);
  if (!rpm_keys) return tl::unexpected(rpm_keys.error());
  v.rpm_keys_ = std::make_shared<const RpmKeyring>(std::move(*rpm_keys));
  if (!o.apt_release.empty()) {
    auto chain = AptChain::open(AptChainSources{o.apt_release, o.apt_release_signature, o.apt_packages}, *keys);
    if (!chain) return tl::unexpected(chain.error());
    v.apt_ = std::make_shared<const AptChain>(std::move(*chain));
  }
  return v;
}

Expected<void> PackageVerifier::deb(DebPackage& deb, const std::string& path) const {
  if (!apt_) {
    if (require_signed_)
      return fail(ErrorCode::invalid_argument,
                  path + ": unsigned: a .deb is verified through its repository's signed Release (give --apt-release "
                         "and --apt-packages)");
    return {};
  }
  SignatureInfo& info = deb.signature.info;
  if (!info.source_sha256) return fail(ErrorCode::internal, path + ": no file hash to verify");
  auto p = apt_->verify(deb.control, *info.source_sha256, deb.file_size, path);
  if (!p) return tl::unexpected(p.error());
  info.provenance = std::move(*p);
  return {};
}

Expected<void> PackageVerifier::rpm(RpmPackage& rpm, const std::string& path) const {
  if (rpm.header_signature.empty()) {
    if (require_signed_) {
      if (rpm.legacy_signature_only)
        return fail(ErrorCode::invalid_argument,
                    path + ": only a legacy header+payload signature (rpm < 4.1), which is not verified");
      return fail(ErrorCode::invalid_argument, path + ": unsigned (no OpenPGP header signature)");
    }
    return {};
  }
  if (!rpm_keys_) return {};  // no keys given: recorded as not verified
  auto signer = rpm_keys_->verify(rpm.header_signature, rpm.header_bytes, path);
  if (!signer) return tl::unexpected(signer.error());
  SignatureProvenance& p = rpm.signature.info.provenance;
  p = SignatureProvenance{};
  p.method = ProvenanceMethod::rpm_gpg;
  p.signer_fingerprint = signer->fingerprint;
  p.signer_key_id = signer->key_id;
  return {};
}

Expected<void> PackageVerifier::unsigned_source(const std::string& path, std::string_view kind) const {
  if (require_signed_)
    return fail(ErrorCode::invalid_argument, path + ": unsigned: a " + std::string(kind) + " carries no signature that is verified");
  return {};
}

}  // namespace tb
