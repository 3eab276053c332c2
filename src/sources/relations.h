// Product/patch relations between imported packages. A package manager upgrades in
// place, so a newer release of a package replaces the files of the older ones: the
// first release becomes the product, later ones patches of it, each superseding the
// patch releases before it.
#pragma once

#include <span>

#include "core/signature.h"
#include "sources/version_order.h"

namespace tb {

// Turns `info` (a product so far) into a patch when older releases of the same package
// are stored: `patches` = the oldest stored product release of that name, `supersedes` =
// the stored patch releases older than `info` (oldest first). A release older than every
// stored product stays a product. Only signatures of the same name and a compatible
// architecture (equal, or one of them empty, "all" or "noarch") count. Releases stored
// later are never rewritten (signatures are immutable): importing in version order gives
// the complete chain.
void infer_package_relations(SignatureInfo& info, std::span<const SignatureInfo> stored, VersionScheme scheme);

}  // namespace tb
