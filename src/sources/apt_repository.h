// The Debian archive's chain of trust, verified as apt verifies it: an OpenPGP-signed
// Release file (InRelease clear-signed, or Release with a detached Release.gpg) lists
// the SHA-256 and size of each Packages index; a Packages index lists the SHA-256 and
// size of each .deb by Package, Version and Architecture. A .deb proven by that chain
// gets a `deb-release` provenance naming the signer and the Release file.
//
// Every input is hostile until verified: sizes are bounded, the deb822 parsers refuse
// malformed text with the line it is on, and only the text gpgv verified is parsed.
// Not checked (unlike apt): Valid-Until and Date. An importer records what a publisher
// shipped, whenever it shipped it; freshness is apt's concern when choosing what to install.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"
#include "core/signature.h"
#include "sources/deb_source.h"
#include "sources/openpgp.h"

namespace tb {

inline constexpr std::size_t kMaxReleaseBytes = 16u << 20;           // Debian's main InRelease: ~150 KiB
inline constexpr std::uint64_t kMaxPackagesFileBytes = 512ull << 20;  // a Packages index as given (compressed or not)
inline constexpr std::uint64_t kMaxPackagesBytes = 1ull << 30;        // decompressed (Debian main amd64: ~50 MiB)
inline constexpr std::size_t kMaxDeb822LineBytes = 1u << 20;
inline constexpr std::size_t kMaxDeb822Fields = 1000;                 // fields of one paragraph

struct AptReleaseEntry {
  std::string path;  // relative to the Release file's directory ("main/binary-amd64/Packages.xz")
  std::uint64_t size = 0;
  Sha256Digest sha256;
};

struct AptRelease {
  std::string origin, label, suite, codename;
  std::vector<AptReleaseEntry> sha256;  // the SHA256 section (MD5Sum and SHA1 are not trusted)
};

// Parses a Release file's text (already verified, signature armor removed). Refuses
// NUL bytes, malformed lines, duplicate fields, more than one paragraph, and a missing
// or malformed SHA256 section.
Expected<AptRelease> parse_apt_release(std::string_view text);

struct AptPackageEntry {
  std::string package, version, architecture, filename;
  std::uint64_t size = 0;
  Sha256Digest sha256;
};

// Parses a Packages index (decompressed). Every paragraph needs Package, Version,
// Architecture, Filename, Size and SHA256; malformed text is refused with its line.
Expected<std::vector<AptPackageEntry>> parse_apt_packages(std::string_view text);

// InRelease's layout as apt demands it: the file starts with the BEGIN PGP SIGNED
// MESSAGE line, holds one signed message and one signature block, and nothing but
// blank lines follows the signature.
Expected<void> check_clear_signed_layout(std::string_view text, const std::string& what);

struct AptChainSources {
  std::string release;            // InRelease, or Release (with release_signature)
  std::string release_signature;  // Release.gpg; empty for InRelease
  std::vector<std::string> packages;  // Packages indexes (plain, .gz, .xz, .bz2, .zst)
};

// A verified chain: the Release's signer and fields, and every .deb its Packages list.
class AptChain {
 public:
  // Verifies the Release signature (gpgv_verify) against `keys`, then each Packages file
  // against the Release's SHA256 section (by hash and size: the name it has here does not
  // matter, only that the signed Release lists those bytes as a Packages index).
  static Expected<AptChain> open(const AptChainSources& sources, const OpenPgpKeyring& keys);

  // The provenance of a .deb with this control, file hash and size: the Packages entry
  // for Package/Version/Architecture must list exactly that SHA256 and Size. Fails
  // naming the package: not listed, or listed with another hash or size (tampered).
  Expected<SignatureProvenance> verify(const DebControl& control, const Sha256Digest& sha256, std::uint64_t size,
                                       const std::string& what) const;

  const SignatureProvenance& release() const { return release_; }
  std::size_t packages() const { return entries_.size(); }

 private:
  SignatureProvenance release_;  // deb_release, signer, Origin/Suite/Codename, Release SHA-256
  std::unordered_map<std::string, std::vector<AptPackageEntry>> entries_;  // by "name\0version\0arch"
};

}  // namespace tb
