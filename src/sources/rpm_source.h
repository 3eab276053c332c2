// Signatures from RPM binary packages: the header (read with librpm; its own SHA-256 is
// checked here, its OpenPGP signature by sources/package_verifier.h when keys are given) gives the
// name, epoch:version-release, architecture, the file list with its %config flags and
// file digests; the cpio payload (read with libarchive) gives the files themselves,
// and the two must agree file by file, or the package's metadata lies.
#pragma once

#include <string>

#include "core/error.h"
#include "core/signature.h"
#include "sources/archive_reader.h"

namespace tb {

struct RpmPackage {
  Signature signature;  // product, install root "/", version "[E:]V-R"
  std::string source_rpm;  // the SOURCERPM tag ("openssl-3.0.7-2.src.rpm")
  // What an OpenPGP header signature covers: the main header as read (magic, index,
  // data), and that signature packet (the RSAHEADER or DSAHEADER tag of the signature
  // header; DSAHEADER also holds ECDSA and EdDSA ones); empty when the package has none.
  std::string header_bytes;
  std::string header_signature;
  // The package carries only a legacy header+payload signature (PGP/GPG tags, rpm < 4.1).
  bool legacy_signature_only = false;
};

// Reads a binary .rpm. Refuses, naming the file and the reason: a bad lead or header
// (truncated, oversized, corrupt, header digest mismatch), source packages, payloads
// that are not cpio or use an unknown compression, a payload whose digest, file list,
// types, modes, sizes, link targets or file digests contradict the header, and
// everything read_archive_tree() refuses. %ghost files are not shipped, so they are not
// part of the signature.
Expected<RpmPackage> read_rpm(const std::string& path, const ArchiveLimits& limits = {});

// The name, [E:]V-R and architecture of a binary .rpm, from its header alone (cheap), for
// ordering releases before importing them. Checks little: read_rpm() does.
struct RpmIdentity {
  std::string name, version, architecture;
};
Expected<RpmIdentity> read_rpm_identity(const std::string& path);

}  // namespace tb
