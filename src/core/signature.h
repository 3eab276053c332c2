// Software signatures: the expected manifest of a product release or a patch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"

namespace tb {

enum class SignatureKind : std::uint8_t { product, patch };
std::string_view to_string(SignatureKind kind) noexcept;
std::optional<SignatureKind> signature_kind_from_string(std::string_view name) noexcept;

// "name@version": how signatures refer to each other and how reports name them.
struct SignatureRef {
  std::string name;
  std::string version;

  std::string id() const { return name + "@" + version; }
  // Parses "name@version" (the last '@' splits: names may contain '@', versions not).
  static std::optional<SignatureRef> parse(std::string_view id);
  auto operator<=>(const SignatureRef&) const = default;
};

// How a signature's package was proven to come from its publisher, verified on import
// (sources/package_verifier.h). `none`: not verified (unsigned, or imported without keys).
enum class ProvenanceMethod : std::uint8_t {
  none,
  deb_release,  // Debian chain: OpenPGP-signed (In)Release -> Packages SHA256 -> .deb SHA256 + Size
  rpm_gpg,      // the RPM header's OpenPGP signature, by a key of the given keyring
};
std::string_view to_string(ProvenanceMethod method) noexcept;  // "none", "deb-release", "rpm-gpg"
std::optional<ProvenanceMethod> provenance_method_from_string(std::string_view name) noexcept;

// What was verified, and by whose key. Plain text fields (gpgv and rpm output, the
// Release file's own fields), bounded by the importers.
struct SignatureProvenance {
  ProvenanceMethod method = ProvenanceMethod::none;
  // The signer: the OpenPGP fingerprint of the primary key (upper-case hex, 40 digits for
  // v4 keys) when known, and the 16-hex-digit id of the key that made the signature
  // (a subkey's, possibly). rpm-gpg: the fingerprint is that of the keyring's key.
  std::string signer_fingerprint;
  std::string signer_key_id;
  // deb-release: the Release file's Origin, Suite and Codename, and its SHA-256 (of the
  // signed text, InRelease's or the detached-signature Release file).
  std::string origin, suite, codename;
  std::optional<Sha256Digest> release_sha256;

  bool verified() const { return method != ProvenanceMethod::none; }
  bool operator==(const SignatureProvenance&) const = default;
};

// The version order of a package format: how releases of one package sort
// (sources/version_order.h compares versions in it).
enum class VersionScheme : std::uint8_t {
  debian,  // dpkg: [epoch:]upstream[-revision], Debian policy 5.6.12 ('~' sorts before all)
  rpm,     // rpm: [epoch:]version-release compared with rpmvercmp
};
std::string_view to_string(VersionScheme scheme) noexcept;  // "debian", "rpm"
std::optional<VersionScheme> version_scheme_from_string(std::string_view name) noexcept;

struct SignatureInfo {
  SignatureRef ref;
  std::string vendor;
  SignatureKind kind = SignatureKind::product;
  std::optional<SignatureRef> patches;     // patch only: the release it applies to
  std::vector<SignatureRef> supersedes;    // earlier patches whose files this one replaces
  std::string install_root = "/";          // where the manifest's paths were rooted
  std::string source;                      // where it came from (package file name, directory...)
  std::optional<Sha256Digest> source_sha256;  // hash of the package file, when there is one
  std::string architecture;                // package architecture ("amd64", "noarch"...); empty if none
  // Paths of the manifest that are configuration (.deb conffiles, rpm %config): an admin
  // may edit them, so a changed one is `config_changed`, not tampering. Sorted, unique.
  std::vector<std::string> config_paths;   // byte order, unique
  std::string tag_id;                      // SWID tags: the tag's tagId (how patch tags link); else empty
  SignatureProvenance provenance;          // the package's own signature, when verified on import
  // Set when kind, patches and supersedes follow the version order of the stored releases
  // of this package (sources/relations.h link_releases): derived, they are re-linked each
  // time a release of the same name is stored (Store::put_release), so a release imported
  // after newer ones still takes its place. nullopt: the relations were given (command
  // line, SWID tag links) and nothing changes them. The manifest is immutable either way.
  std::optional<VersionScheme> linked_by;
  bool operator==(const SignatureInfo&) const = default;

  bool is_config(std::string_view path) const;
};

// A signature's manifest holds absolute paths (install root applied). Regular files
// carry sha256; attributes a package cannot know (mtime, often uid/gid) are absent.
struct Signature {
  SignatureInfo info;
  Manifest manifest;
};

}  // namespace tb
