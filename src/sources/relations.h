// Product/patch relations between imported packages. A package manager upgrades in
// place, so a newer release of a package replaces the files of the older ones: the
// oldest release (in version order, not import order) becomes the product, newer ones
// patches of it, each superseding the patch releases before it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/signature.h"
#include "sources/version_order.h"

namespace tb {

// Turns `info` (a product so far) into a patch when older releases of the same package
// are stored: `patches` = the oldest stored product release of that name, `supersedes` =
// the stored patch releases older than `info` (oldest first). A release older than every
// stored product stays a product. Only signatures of the same name and a compatible
// architecture (equal, or one of them empty, "all" or "noarch") count. `info` alone
// changes: link_releases() re-links the others.
void infer_package_relations(SignatureInfo& info, std::span<const SignatureInfo> stored, VersionScheme scheme);

// Re-links the releases of one package name as if they had been imported in version
// order, whatever the order they came in: each release whose `linked_by` is set gets the
// relations infer_package_relations() gives it among the releases older than it (their
// relations re-linked first); releases whose relations were given keep them. Only kind,
// patches and supersedes change. What Store::put_release() runs when a release is stored.
void link_releases(std::span<SignatureInfo> releases);

// Links `release` among `known` (every stored signature's metadata) as
// Store::put_release(release, link_releases) does, so that an importer's picture of the
// store stays true: sets the relations of `release` and of the known releases of its name,
// adds it to `known`, and returns the known ones whose relations changed.
std::vector<SignatureRef> link_into(SignatureInfo& release, std::vector<SignatureInfo>& known);

// The order to import package files in: the releases of each package (.deb, .rpm, read
// cheaply: their control file or header) by name, then in version order, whatever their
// file names or the order they came in; then every other file (SWID tags, files whose
// identity cannot be read: the import says why) in the order given. Returns indexes of
// `paths`.
std::vector<std::size_t> release_order(const std::vector<std::string>& paths);

}  // namespace tb
