// `trustbase import`: signatures into the store, from
// - package files (.deb, .rpm, SWID tags) and directories holding them, any number, the
//   format told from the content; each package in its own transaction, failures listed
//   at the end without stopping the others; name, version and relations from the
//   package itself (a newer release of a stored package becomes a patch of it);
// - or one directory tree, scan document, tar or zip archive described by --name and
//   --version (the archive formats carry no metadata).
#pragma once

#include <string>

#include "cli/store_commands.h"
#include "core/signature.h"
#include "sources/package_verifier.h"

namespace tb {

// Exit status: 0 every source imported (or already stored); 1 some package failed (the
// summary lists each); 2 usage error, unusable store, or a --name/--version import failed.
int run_import(const StoreArgs& store, const ImportArgs& args);

// The signed-import options of `args` (--keyring, --apt-release..., --require-signed).
VerifyOptions verify_options(const ImportArgs& args);
// ", deb-release signed by FINGERPRINT (Origin Suite Codename)"; empty when not verified.
std::string describe_provenance(const SignatureProvenance& provenance);
// " (Origin Suite Codename)" of a deb-release provenance; empty when it names none.
std::string release_label(const SignatureProvenance& provenance);

}  // namespace tb
