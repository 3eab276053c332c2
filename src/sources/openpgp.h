// OpenPGP for signed imports: the publisher keys given with `--keyring`, and the two
// verifiers that use them the way the package managers do: gpgv for Debian's
// (In)Release files (as apt does), librpm's keyring for RPM header signatures (as
// `rpmkeys --checksig` does, but over the header bytes the importer itself parsed).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tb {

// Bounds on what a keyring file may hold (a distribution's archive keyring is a few
// KiB per key; hostile files get a clear error, not a huge allocation).
inline constexpr std::size_t kMaxKeyringBytes = 16u << 20;
inline constexpr std::size_t kMaxKeyringKeys = 1024;

// One transferable public key (primary key, user ids, subkeys, their signatures).
struct OpenPgpKey {
  std::string packets;               // binary OpenPGP packets
  std::string fingerprint;           // the primary key's, upper-case hex
  std::vector<std::string> key_ids;  // 16 upper-case hex digits: the primary key's, then its subkeys'
};

// Public keys read from files: ASCII-armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----",
// any number of blocks) or binary (`gpg --export`, any number of keys). The parsing is
// librpm's (pgpParsePkts, pgpPubKeyCertLen), so rpm and gpgv see the same keys.
class OpenPgpKeyring {
 public:
  // Fails naming the file: unreadable, too large, no key, a key librpm cannot parse.
  static Expected<OpenPgpKeyring> load(const std::vector<std::string>& paths);

  const std::vector<OpenPgpKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  // Every key's packets, concatenated: a binary keyring as gpgv reads it.
  std::string binary() const;
  // The primary fingerprint of the key holding (sub)key `key_id` (16 hex digits, any
  // case); empty when no key of the keyring has that id.
  std::string fingerprint_of(std::string_view key_id) const;

 private:
  std::vector<OpenPgpKey> keys_;
};

// What a good signature says about its signer.
struct OpenPgpSigner {
  std::string fingerprint;  // primary key, upper-case hex
  std::string key_id;       // the signing (sub)key, 16 upper-case hex digits
};

// What gpgv made of a signature: its --status-fd lines (see DETAILS in GnuPG's doc).
// Trusted only with a GOODSIG and a VALIDSIG, no BADSIG, ERRSIG, NO_PUBKEY, EXPKEYSIG,
// REVKEYSIG or EXPSIG, exit status 0, and a hash algorithm other than MD5, SHA-1 or
// RIPEMD-160 (apt refuses those too). The error says which condition failed.
Expected<OpenPgpSigner> judge_gpgv_status(std::string_view status, int exit_code, const std::string& what);

// Verifies with gpgv (in a private temporary home, the keyring written there in binary):
// - a clear-signed file (InRelease): `signed_text` is the whole file; returns the text
//   gpgv verified (what was signed, dash-escaping undone) in `*plain`;
// - a detached signature: `signed_text` is the signed file, `detached` its signature.
// `what` names the file in errors. The caller reads the files (bounded) and passes their
// bytes, so what is verified is exactly what is parsed.
Expected<OpenPgpSigner> gpgv_verify(const OpenPgpKeyring& keyring, const std::string& signed_text,
                                    const std::string* detached, std::string* plain, const std::string& what);

// The keyring as librpm holds it, for RPM header signatures. Move-only.
class RpmKeyring {
 public:
  static Expected<RpmKeyring> from(const OpenPgpKeyring& keys);
  RpmKeyring(RpmKeyring&&) noexcept;
  RpmKeyring& operator=(RpmKeyring&&) noexcept;
  ~RpmKeyring();

  // Verifies an OpenPGP signature packet (RSAHEADER/DSAHEADER) over `signed_bytes`.
  // Fails: unreadable signature, weak hash, a key the keyring lacks (naming its id), a bad
  // signature. `what` names the package in errors.
  Expected<OpenPgpSigner> verify(std::string_view signature, std::string_view signed_bytes,
                                 const std::string& what) const;

 private:
  struct State;
  explicit RpmKeyring(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tb
