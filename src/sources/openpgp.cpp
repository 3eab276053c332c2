#include "sources/openpgp.h"

#include <rpm/rpmcrypto.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmpgp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "format/drift_report.h"  // printable()
#include "os/process.h"

namespace tb {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxStatusBytes = 1u << 20;  // gpgv's status lines (a few hundred bytes per signature)
constexpr std::size_t kMaxStderrBytes = 64u << 10;

std::string upper_hex(const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// librpm's crypto backend must be initialised once per process before digests are made.
void init_rpm_crypto() {
  static std::once_flag once;
  std::call_once(once, [] { rpmInitCrypto(); });
}

Expected<std::string> read_bounded(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return fail(ErrorCode::io, path + ": " + ec.message());
  if (size > max_bytes)
    return fail(ErrorCode::invalid_argument,
                path + ": " + std::to_string(size) + " bytes, more than a keyring may hold (" + std::to_string(max_bytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::io, path + ": cannot open");
  std::string data(static_cast<std::size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (static_cast<std::size_t>(in.gcount()) != data.size()) return fail(ErrorCode::io, path + ": short read");
  return data;
}

// Splits binary packets into transferable public keys, with their fingerprints and ids.
Expected<void> add_binary_keys(const std::uint8_t* pkts, std::size_t len, const std::string& path,
                               std::vector<OpenPgpKey>& out) {
  std::size_t at = 0;
  while (at < len) {
    std::size_t cert_len = 0;
    if (pgpPubKeyCertLen(pkts + at, len - at, &cert_len) != 0 || cert_len == 0 || cert_len > len - at)
      return fail(ErrorCode::parse, path + ": not an OpenPGP public key (at byte " + std::to_string(at) + ")");
    if (out.size() == kMaxKeyringKeys)
      return fail(ErrorCode::invalid_argument, path + ": more than " + std::to_string(kMaxKeyringKeys) + " keys");
    OpenPgpKey key;
    key.packets.assign(reinterpret_cast<const char*>(pkts + at), cert_len);
    std::uint8_t* fp = nullptr;
    std::size_t fp_len = 0;
    if (pgpPubkeyFingerprint(pkts + at, cert_len, &fp, &fp_len) != 0 || fp == nullptr)
      return fail(ErrorCode::parse, path + ": a public key whose fingerprint cannot be computed");
    key.fingerprint = upper_hex(fp, fp_len);
    std::free(fp);
    rpmPubkey primary = rpmPubkeyNew(pkts + at, cert_len);
    if (primary == nullptr)
      return fail(ErrorCode::parse, path + ": key " + key.fingerprint + " cannot be read (unsupported algorithm?)");
    if (const std::uint8_t* id = pgpDigParamsSignID(rpmPubkeyPgpDigParams(primary)); id != nullptr)
      key.key_ids.push_back(upper_hex(id, 8));
    int count = 0;
    rpmPubkey* subkeys = rpmGetSubkeys(primary, &count);
    for (int i = 0; i < count; ++i) {
      if (const std::uint8_t* id = pgpDigParamsSignID(rpmPubkeyPgpDigParams(subkeys[i])); id != nullptr)
        key.key_ids.push_back(upper_hex(id, 8));
      rpmPubkeyFree(subkeys[i]);
    }
    std::free(subkeys);
    rpmPubkeyFree(primary);
    out.push_back(std::move(key));
    at += cert_len;
  }
  return {};
}

constexpr std::string_view kArmorBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view kArmorEnd = "-----END PGP PUBLIC KEY BLOCK-----";

Expected<void> add_armored_keys(const std::string& text, const std::string& path, std::vector<OpenPgpKey>& out) {
  std::size_t at = text.find(kArmorBegin);
  if (at == std::string::npos) return fail(ErrorCode::parse, path + ": no OpenPGP public key block");
  while (at != std::string::npos) {
    const std::size_t end = text.find(kArmorEnd, at);
    if (end == std::string::npos) return fail(ErrorCode::parse, path + ": an armored key block without its END line");
    const std::string block = text.substr(at, end + kArmorEnd.size() - at) + "\n";
    std::uint8_t* pkts = nullptr;
    std::size_t len = 0;
    const pgpArmor kind = pgpParsePkts(block.c_str(), &pkts, &len);
    if (kind != PGPARMOR_PUBKEY || pkts == nullptr) {
      std::free(pkts);
      return fail(ErrorCode::parse, path + ": a corrupt armored public key block");
    }
    auto added = add_binary_keys(pkts, len, path, out);
    std::free(pkts);
    if (!added) return added;
    at = text.find(kArmorBegin, end);
  }
  return {};
}

// A private directory removed with everything in it.
class TempDir {
 public:
  static Expected<TempDir> make() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/trustbase-gpgv-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      return fail(ErrorCode::io, "cannot create a temporary directory: " + std::string(std::strerror(errno)));
    return TempDir(std::move(tmpl));
  }
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Expected<void> write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return fail(ErrorCode::io, path + ": cannot write");
  return {};
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t j = std::min(line.find(' ', i), line.size());
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
  });
}

// OpenPGP hash algorithm ids (RFC 4880 9.4) too weak to trust a signature made with.
bool weak_hash(int algo) { return algo == PGPHASHALGO_MD5 || algo == PGPHASHALGO_SHA1 || algo == PGPHASHALGO_RIPEMD160; }

}  // namespace

// ---- keyring ---------------------------------------------------------------------------

Expected<OpenPgpKeyring> OpenPgpKeyring::load(const std::vector<std::string>& paths) {
  OpenPgpKeyring ring;
  for (const std::string& path : paths) {
    auto data = read_bounded(path, kMaxKeyringBytes);
    if (!data) return tl::unexpected(data.error());
    if (data->empty()) return fail(ErrorCode::parse, path + ": empty keyring");
    const std::size_t before = ring.keys_.size();
    Expected<void> added = data->find(kArmorBegin) != std::string::npos
                               ? add_armored_keys(*data, path, ring.keys_)
                               : add_binary_keys(reinterpret_cast<const std::uint8_t*>(data->data()), data->size(),
                                                 path, ring.keys_);
    if (!added) return tl::unexpected(added.error());
    if (ring.keys_.size() == before) return fail(ErrorCode::parse, path + ": no OpenPGP public key");
  }
  return ring;
}

std::string OpenPgpKeyring::binary() const {
  std::string out;
  for (const OpenPgpKey& k : keys_) out += k.packets;
  return out;
}

std::string OpenPgpKeyring::fingerprint_of(std::string_view key_id) const {
  const std::string wanted = to_upper(key_id);
  for (const OpenPgpKey& k : keys_)
    if (std::find(k.key_ids.begin(), k.key_ids.end(), wanted) != k.key_ids.end()) return k.fingerprint;
  return {};
}

// ---- gpgv ------------------------------------------------------------------------------

Expected<OpenPgpSigner> judge_gpgv_status(std::string_view status, int exit_code, const std::string& what) {
  std::optional<OpenPgpSigner> valid;
  bool good = false;
  std::size_t pos = 0;
  while (pos < status.size()) {
    std::size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 9) != "[GNUPG:] ") continue;
    line.remove_prefix(9);
    const auto words = split_words(line);
    if (words.empty()) continue;
    const std::string_view key = words[0];
    const std::string id = words.size() > 1 ? printable(words[1]) : std::string("?");
    if (key == "BADSIG") return fail(ErrorCode::invalid_argument, what + ": BAD signature (by key " + id + "): the file was altered");
    if (key == "NO_PUBKEY")
      return fail(ErrorCode::invalid_argument, what + ": signed by key " + id + ", which is not in the keyring");
    if (key == "ERRSIG") {  // ERRSIG keyid pkalgo hashalgo class time rc: rc 9 is "no public key"
      if (words.size() > 6 && words[6] == "9")
        return fail(ErrorCode::invalid_argument, what + ": signed by key " + id + ", which is not in the keyring");
      return fail(ErrorCode::invalid_argument, what + ": the signature by key " + id + " cannot be checked");
    }
    if (key == "EXPKEYSIG") return fail(ErrorCode::invalid_argument, what + ": signed by key " + id + ", which has expired");
    if (key == "REVKEYSIG") return fail(ErrorCode::invalid_argument, what + ": signed by key " + id + ", which was revoked");
    if (key == "EXPSIG") return fail(ErrorCode::invalid_argument, what + ": the signature has expired");
    if (key == "GOODSIG") good = true;
    if (key == "VALIDSIG" && !valid) {
      // VALIDSIG fpr date timestamp expire version reserved pkalgo hashalgo class [primary-fpr]
      if (words.size() < 10 || !is_hex(words[1]) || words[1].size() < 16)
        return fail(ErrorCode::parse, what + ": gpgv reported a malformed VALIDSIG line");
      const int hash_algo = std::atoi(std::string(words[8]).c_str());
      if (weak_hash(hash_algo))
        return fail(ErrorCode::invalid_argument,
                    what + ": signed with a weak hash algorithm (" + std::to_string(hash_algo) + "; MD5, SHA-1 and RIPEMD-160 are refused)");
      OpenPgpSigner s;
      const std::string_view signing = words[1];
      s.key_id = to_upper(signing.substr(signing.size() - 16));
      s.fingerprint = to_upper(words.size() > 10 && is_hex(words[10]) ? words[10] : signing);
      valid = std::move(s);
    }
  }
  if (!good || !valid) {
    if (exit_code == 0) return fail(ErrorCode::invalid_argument, what + ": gpgv found no good signature");
    return fail(ErrorCode::invalid_argument, what + ": not signed (gpgv found no signature)");
  }
  if (exit_code != 0)
    return fail(ErrorCode::invalid_argument, what + ": gpgv failed (exit status " + std::to_string(exit_code) + ")");
  return *valid;
}

Expected<OpenPgpSigner> gpgv_verify(const OpenPgpKeyring& keyring, const std::string& signed_text,
                                    const std::string* detached, std::string* plain, const std::string& what) {
  if (keyring.empty()) return fail(ErrorCode::invalid_argument, what + ": no key to verify it with (give --keyring)");
  auto dir = TempDir::make();
  if (!dir) return tl::unexpected(dir.error());
  const std::string home = dir->path() + "/home";
  if (::mkdir(home.c_str(), 0700) != 0) return fail(ErrorCode::io, home + ": " + std::strerror(errno));
  const std::string keyring_path = dir->path() + "/keyring.gpg";
  if (auto w = write_file(keyring_path, keyring.binary()); !w) return tl::unexpected(w.error());
  const std::string text_path = dir->path() + (detached != nullptr ? "/Release" : "/InRelease");
  if (auto w = write_file(text_path, signed_text); !w) return tl::unexpected(w.error());
  std::vector<std::string> argv{"gpgv", "--homedir", home, "--status-fd", "1", "--keyring", keyring_path};
  const std::string plain_path = dir->path() + "/plain";
  if (detached != nullptr) {
    const std::string sig_path = dir->path() + "/Release.gpg";
    if (auto w = write_file(sig_path, *detached); !w) return tl::unexpected(w.error());
    argv.insert(argv.end(), {sig_path, text_path});
  } else {
    argv.insert(argv.end(), {"--output", plain_path, text_path});
  }
  auto run = os::run_process(argv, os::OutputLimits{kMaxStatusBytes, kMaxStderrBytes});
  if (!run) return tl::unexpected(run.error());
  auto signer = judge_gpgv_status(run->out, run->exit_code, what);
  if (!signer) return signer;
  if (plain != nullptr) {
    std::ifstream in(plain_path, std::ios::binary);
    if (!in) return fail(ErrorCode::io, what + ": gpgv wrote no verified text");
    std::stringstream ss;
    ss << in.rdbuf();
    *plain = ss.str();
  }
  return signer;
}

// ---- rpm -------------------------------------------------------------------------------

struct RpmKeyring::State {
  rpmKeyring ring = nullptr;
  OpenPgpKeyring keys;
  ~State() {
    if (ring != nullptr) rpmKeyringFree(ring);
  }
};

RpmKeyring::RpmKeyring(std::unique_ptr<State> state) : state_(std::move(state)) {}
RpmKeyring::RpmKeyring(RpmKeyring&&) noexcept = default;
RpmKeyring& RpmKeyring::operator=(RpmKeyring&&) noexcept = default;
RpmKeyring::~RpmKeyring() = default;

Expected<RpmKeyring> RpmKeyring::from(const OpenPgpKeyring& keys) {
  init_rpm_crypto();
  auto state = std::make_unique<State>();
  state->keys = keys;
  state->ring = rpmKeyringNew();
  for (const OpenPgpKey& k : keys.keys()) {
    const auto* pkt = reinterpret_cast<const std::uint8_t*>(k.packets.data());
    rpmPubkey primary = rpmPubkeyNew(pkt, k.packets.size());
    if (primary == nullptr) return fail(ErrorCode::parse, "key " + k.fingerprint + " cannot be read by librpm");
    rpmKeyringAddKey(state->ring, primary);  // 1 = already there: fine
    int count = 0;
    rpmPubkey* subkeys = rpmGetSubkeys(primary, &count);
    for (int i = 0; i < count; ++i) {
      rpmKeyringAddKey(state->ring, subkeys[i]);
      rpmPubkeyFree(subkeys[i]);
    }
    std::free(subkeys);
    rpmPubkeyFree(primary);
  }
  return RpmKeyring(std::move(state));
}

Expected<OpenPgpSigner> RpmKeyring::verify(std::string_view signature, std::string_view signed_bytes,
                                           const std::string& what) const {
  pgpDigParams sig = nullptr;
  if (pgpPrtParams(reinterpret_cast<const std::uint8_t*>(signature.data()), signature.size(), PGPTAG_SIGNATURE, &sig) !=
          0 ||
      sig == nullptr)
    return fail(ErrorCode::parse, what + ": the OpenPGP signature of the header cannot be read");
  struct Free {
    pgpDigParams p;
    ~Free() { pgpDigParamsFree(p); }
  } free_sig{sig};
  OpenPgpSigner signer;
  if (const std::uint8_t* id = pgpDigParamsSignID(sig); id != nullptr) signer.key_id = upper_hex(id, 8);
  const int hash_algo = static_cast<int>(pgpDigParamsAlgo(sig, PGPVAL_HASHALGO));
  if (weak_hash(hash_algo))
    return fail(ErrorCode::invalid_argument, what + ": signed with a weak hash algorithm (" + std::to_string(hash_algo) +
                                                 "; MD5, SHA-1 and RIPEMD-160 are refused)");
  DIGEST_CTX ctx = rpmDigestInit(hash_algo, RPMDIGEST_NONE);
  if (ctx == nullptr)
    return fail(ErrorCode::invalid_argument, what + ": unsupported signature hash algorithm " + std::to_string(hash_algo));
  rpmDigestUpdate(ctx, signed_bytes.data(), signed_bytes.size());
  const rpmRC rc = rpmKeyringVerifySig(state_->ring, sig, ctx);
  rpmDigestFinal(ctx, nullptr, nullptr, 0);
  switch (rc) {
    case RPMRC_OK: break;
    case RPMRC_NOKEY:
      return fail(ErrorCode::invalid_argument, what + ": signed by key " + signer.key_id + ", which is not in the keyring");
    case RPMRC_NOTTRUSTED:
      return fail(ErrorCode::invalid_argument, what + ": signed by key " + signer.key_id + ", which is not trusted (expired?)");
    default:
      return fail(ErrorCode::invalid_argument,
                  what + ": BAD header signature (by key " + signer.key_id + "): the package was altered");
  }
  signer.fingerprint = state_->keys.fingerprint_of(signer.key_id);
  return signer;
}

}  // namespace tb
