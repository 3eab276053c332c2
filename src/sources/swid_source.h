// Signatures from ISO/IEC 19770-2:2015 software identification (SWID) tags, as profiled by
// NIST IR 8060: a primary tag names a product release, a patch tag (patch="true") a
// patch linked to the tag it patches (<Link rel="patches" href="swid:TAGID"/>). The
// files come from <Payload> (what the vendor installs) and <Evidence> (what was found):
// nested <Directory>/<File> elements with root/location/name, size and the SHA-256 in
// the attribute {http://www.w3.org/2001/04/xmlenc#sha256}hash. NIST's n8060:mutable="true"
// marks a file that may change after installation: a configuration file.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/signature.h"

namespace tb {

struct SwidTag {
  // kind patch for patch tags, with `patches`/`supersedes` still unset: they name tags,
  // resolved by resolve_swid_links(). info.tag_id holds the tag's tagId.
  Signature signature;
  std::optional<std::string> patches_tag;   // tagId of the patched release (patch tags)
  std::vector<std::string> supersedes_tags; // tagIds of the patches this one supersedes
};

// Reads a tag file (bounded to 16 MiB; no DTD, no network). Paths: a File's or
// Directory's `root` (absolute) or its parent's path, else `install_root`, then
// `location` (an absolute location replaces the base), then `name`. Files without a
// SHA-256 are left out (a tag without hash cannot tell a file from a symlink, nor its
// content). Refuses, naming the file and the reason: not a 2015 SWID tag, corpus and
// supplemental tags, a patch tag without exactly one swid: patches link, relative or
// unusable paths, duplicates that disagree, malformed sizes and hashes, and a tag
// without any hashed file.
Expected<SwidTag> read_swid_tag(const std::string& path, const std::string& install_root = "/");

// Fills info.patches / info.supersedes from the tag ids, looked up among `known`
// signatures (info.tag_id). invalid_argument naming the tag when a linked tag is unknown.
Expected<void> resolve_swid_links(SwidTag& tag, std::span<const SignatureInfo> known);

}  // namespace tb
