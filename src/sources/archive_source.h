// Signatures from plain archives a vendor ships (.tar, .tar.gz/.bz2/.xz/.zst, .zip):
// they carry no metadata, so name, version and install root come from the caller.
#pragma once

#include <string>

#include "core/error.h"
#include "core/signature.h"
#include "sources/archive_reader.h"

namespace tb {

// Reads a tar (any supported compression, detected from the content) or zip archive
// into a signature: each entry under info.install_root (minus `strip_components`
// leading components, as tar --strip-components), no owners, no times; source = the
// file name and its SHA-256. Fails on an empty archive and on everything
// read_archive_tree() refuses.
Expected<Signature> signature_from_archive(const std::string& path, SignatureInfo info, unsigned strip_components = 0,
                                           const ArchiveLimits& limits = {});

}  // namespace tb
