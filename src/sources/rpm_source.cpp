#include "sources/rpm_source.h"

#include <rpm/header.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "format/drift_report.h"  // printable()

namespace tb {

namespace {

// Layout (rpm's doc/manual/format.md): a 96-byte lead, the signature header, padding to
// 8 bytes, the main header, then the compressed cpio payload. A header is
//   8-byte magic | be32 index count | be32 data bytes | 16 bytes per index entry | data
constexpr std::size_t kLeadBytes = 96;
constexpr unsigned char kLeadMagic[] = {0xED, 0xAB, 0xEE, 0xDB};
constexpr unsigned char kHeaderMagic[] = {0x8E, 0xAD, 0xE8, 0x01, 0, 0, 0, 0};
// rpm's own bounds (lib/header_internal.h: hdrchkTags, hdrchkData).
constexpr std::uint32_t kMaxHeaderTags = 0xFFFF;
constexpr std::uint32_t kMaxHeaderData = 256u << 20;

struct HeaderDeleter {
  void operator()(headerToken_s* h) const { headerFree(h); }
};
using HeaderPtr = std::unique_ptr<headerToken_s, HeaderDeleter>;
struct FilesDeleter {
  void operator()(rpmfiles_s* f) const { rpmfilesFree(f); }
};
struct IterDeleter {
  void operator()(rpmfi_s* f) const { rpmfiFree(f); }
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(s[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) | std::uint32_t{static_cast<unsigned char>(s[at + 3])};
}

struct RawHeader {
  std::string magic_and_blob;  // what rpm digests: magic | il | dl | index | data
  HeaderPtr header;
};

// Reads one header at the file's position and imports it with librpm (which checks the
// index and its region tags).
Expected<RawHeader> read_header(PackageFile& file, const std::string& path, const char* what) {
  auto intro = file.read_exact(16, what);
  if (!intro) return tl::unexpected(intro.error());
  if (std::memcmp(intro->data(), kHeaderMagic, sizeof kHeaderMagic) != 0)
    return fail(ErrorCode::parse, path + ": bad " + what + " magic");
  const std::uint32_t tags = be32(*intro, 8);
  const std::uint32_t data = be32(*intro, 12);
  if (tags == 0 || tags > kMaxHeaderTags || data > kMaxHeaderData)
    return fail(ErrorCode::parse, path + ": " + what + " of " + std::to_string(tags) + " tags and " +
                                      std::to_string(data) + " bytes is out of bounds");
  auto rest = file.read_exact(std::size_t{tags} * 16 + data, what);
  if (!rest) return tl::unexpected(rest.error());
  RawHeader out;
  out.magic_and_blob = std::move(*intro);
  out.magic_and_blob += *rest;
  // headerImport takes the blob from the index count on; COPY leaves our buffer ours.
  out.header.reset(headerImport(out.magic_and_blob.data() + 8, static_cast<unsigned>(out.magic_and_blob.size() - 8),
                                HEADERIMPORT_COPY));
  if (!out.header) return fail(ErrorCode::parse, path + ": corrupt " + what);
  return out;
}

std::string string_tag(Header h, rpmTagVal tag) {
  const char* s = headerGetString(h, tag);
  return s != nullptr ? std::string(s) : std::string();
}

// The first string of a string-array tag.
std::string first_string(Header h, rpmTagVal tag) {
  rpmtd td = rpmtdNew();
  std::string out;
  if (headerGet(h, tag, td, HEADERGET_MINMEM) != 0) {
    if (const char* s = rpmtdNextString(td); s != nullptr) out = s;
  }
  rpmtdFreeData(td);
  rpmtdFree(td);
  return out;
}

// A binary tag's bytes; empty when absent.
std::string binary_tag(Header h, rpmTagVal tag) {
  rpmtd td = rpmtdNew();
  std::string out;
  if (headerGet(h, tag, td, HEADERGET_MINMEM) != 0 && rpmtdType(td) == RPM_BIN_TYPE && td->data != nullptr)
    out.assign(static_cast<const char*>(td->data), td->count);  // rpmtdCount() says 1 for binary tags
  rpmtdFreeData(td);
  rpmtdFree(td);
  return out;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

// OpenSSL's name of an RPM file digest algorithm; empty when OpenSSL has none.
std::string digest_name(int algo) {
  switch (algo) {
    case PGPHASHALGO_MD5: return "MD5";
    case PGPHASHALGO_SHA1: return "SHA1";
    case PGPHASHALGO_SHA256: return "SHA256";
    case PGPHASHALGO_SHA384: return "SHA384";
    case PGPHASHALGO_SHA512: return "SHA512";
    case PGPHASHALGO_SHA224: return "SHA224";
    default: return "";
  }
}

std::optional<Compression> payload_compression(const std::string& name) {
  if (name.empty() || name == "gzip") return Compression::gzip;  // rpm's default when the tag is absent
  if (name == "bzip2") return Compression::bzip2;
  if (name == "xz") return Compression::xz;
  if (name == "lzma") return Compression::lzma;
  if (name == "zstd") return Compression::zstd;
  return std::nullopt;
}

FileType type_of_mode(rpm_mode_t mode) {
  if (S_ISREG(mode)) return FileType::file;
  if (S_ISDIR(mode)) return FileType::directory;
  if (S_ISLNK(mode)) return FileType::symlink;
  if (S_ISFIFO(mode)) return FileType::fifo;
  if (S_ISSOCK(mode)) return FileType::socket;
  if (S_ISCHR(mode)) return FileType::char_device;
  if (S_ISBLK(mode)) return FileType::block_device;
  return FileType::unknown;
}

// One file as the header declares it.
struct HeaderFile {
  FileType type = FileType::file;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string digest;  // hex, in the header's algorithm; empty when none
  std::string link_target;
  bool config = false;
  bool root_owner = false, root_group = false;
};

}  // namespace

namespace {

// The lead, signature header and main header at the start of a package file.
struct RpmHeaders {
  std::string lead;
  RawHeader signature, main;
};

Expected<RpmHeaders> read_headers(PackageFile& file, const std::string& path) {
  RpmHeaders out;
  auto lead = file.read_exact(kLeadBytes, "lead");
  if (!lead) return tl::unexpected(lead.error());
  if (std::memcmp(lead->data(), kLeadMagic, sizeof kLeadMagic) != 0)
    return fail(ErrorCode::parse, path + ": not an RPM package (bad lead magic)");
  const int major = static_cast<unsigned char>((*lead)[4]);
  if (major != 3 && major != 4) return fail(ErrorCode::parse, path + ": unsupported RPM format " + std::to_string(major));
  out.lead = std::move(*lead);
  auto signature = read_header(file, path, "signature header");
  if (!signature) return tl::unexpected(signature.error());
  const std::size_t pad = (8 - signature->magic_and_blob.size() % 8) % 8;
  if (pad != 0) {
    auto padding = file.read_exact(pad, "signature header");
    if (!padding) return tl::unexpected(padding.error());
  }
  out.signature = std::move(*signature);
  auto main = read_header(file, path, "header");
  if (!main) return tl::unexpected(main.error());
  out.main = std::move(*main);
  return out;
}

// "[E:]V-R": how signatures name an rpm's version.
std::string evr_of(Header h) {
  std::string evr = string_tag(h, RPMTAG_VERSION) + "-" + string_tag(h, RPMTAG_RELEASE);
  if (headerIsEntry(h, RPMTAG_EPOCH) != 0) evr = std::to_string(headerGetNumber(h, RPMTAG_EPOCH)) + ":" + evr;
  return evr;
}

}  // namespace

Expected<RpmIdentity> read_rpm_identity(const std::string& path) {
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  auto headers = read_headers(*file, path);
  if (!headers) return tl::unexpected(headers.error());
  Header h = headers->main.header.get();
  RpmIdentity out{string_tag(h, RPMTAG_NAME), evr_of(h), string_tag(h, RPMTAG_ARCH)};
  if (out.name.empty()) return fail(ErrorCode::parse, path + ": the header lacks a name");
  return out;
}

Expected<RpmPackage> read_rpm(const std::string& path, const ArchiveLimits& limits) {
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  auto headers = read_headers(*file, path);
  if (!headers) return tl::unexpected(headers.error());
  const std::string* lead = &headers->lead;
  RawHeader* signature = &headers->signature;
  RawHeader* main = &headers->main;
  Header h = main->header.get();

  // The signature header carries the SHA-256 of the main header: a flipped byte there
  // is corruption, whatever librpm made of it.
  const std::string header_digest = string_tag(signature->header.get(), RPMSIGTAG_SHA256);
  if (!header_digest.empty() && header_digest != Sha256::of(main->magic_and_blob).hex())
    return fail(ErrorCode::parse, path + ": the header does not match its SHA-256 digest (corrupt package)");

  RpmPackage out;
  SignatureInfo& info = out.signature.info;
  const std::string name = string_tag(h, RPMTAG_NAME);
  const std::string version = string_tag(h, RPMTAG_VERSION);
  const std::string release = string_tag(h, RPMTAG_RELEASE);
  if (name.empty() || version.empty() || release.empty())
    return fail(ErrorCode::parse, path + ": the header lacks a name, version or release");
  out.source_rpm = string_tag(h, RPMTAG_SOURCERPM);
  if (out.source_rpm.empty() || static_cast<unsigned char>((*lead)[7]) == 1)
    return fail(ErrorCode::invalid_argument, path + ": a source package (nothing of it is installed)");
  info.ref = SignatureRef{name, evr_of(h)};
  info.architecture = string_tag(h, RPMTAG_ARCH);
  info.vendor = string_tag(h, RPMTAG_VENDOR);
  if (info.vendor.empty()) info.vendor = string_tag(h, RPMTAG_PACKAGER);
  info.kind = SignatureKind::product;
  info.install_root = "/";
  info.source = file->file_name();

  const std::string payload_format = string_tag(h, RPMTAG_PAYLOADFORMAT);
  if (!payload_format.empty() && payload_format != "cpio")
    return fail(ErrorCode::parse, path + ": unsupported payload format '" + printable(payload_format) + "'");
  const std::string compressor = string_tag(h, RPMTAG_PAYLOADCOMPRESSOR);
  const auto compression = payload_compression(compressor);
  if (!compression) return fail(ErrorCode::parse, path + ": unknown payload compression '" + printable(compressor) + "'");

  // The header's file list.
  std::unordered_map<std::string, HeaderFile> declared;
  int digest_algo = PGPHASHALGO_SHA256;
  {
    std::unique_ptr<rpmfiles_s, FilesDeleter> files(rpmfilesNew(nullptr, h, RPMTAG_BASENAMES, RPMFI_FLAGS_QUERY));
    if (files) {
      std::unique_ptr<rpmfi_s, IterDeleter> fi(rpmfilesIter(files.get(), RPMFI_ITER_FWD));
      while (fi && rpmfiNext(fi.get()) >= 0) {
        const char* fn = rpmfiFN(fi.get());
        if (fn == nullptr) return fail(ErrorCode::parse, path + ": a file of the header has no name");
        if ((rpmfiFFlags(fi.get()) & RPMFILE_GHOST) != 0) continue;  // not shipped
        HeaderFile f;
        const rpm_mode_t mode = rpmfiFMode(fi.get());
        f.type = type_of_mode(mode);
        f.mode = mode & 07777;
        f.size = rpmfiFSize(fi.get());
        int algo = 0;
        std::size_t length = 0;
        if (const unsigned char* d = rpmfiFDigest(fi.get(), &algo, &length); d != nullptr && length > 0) {
          f.digest = hex(d, length);
          digest_algo = algo;
        }
        if (const char* link = rpmfiFLink(fi.get()); link != nullptr) f.link_target = link;
        f.config = (rpmfiFFlags(fi.get()) & RPMFILE_CONFIG) != 0 && f.type == FileType::file;
        const char* user = rpmfiFUser(fi.get());
        const char* group = rpmfiFGroup(fi.get());
        f.root_owner = user != nullptr && std::strcmp(user, "root") == 0;
        f.root_group = group != nullptr && std::strcmp(group, "root") == 0;
        if (!declared.emplace(fn, std::move(f)).second)
          return fail(ErrorCode::parse, path + ": the header lists " + printable(fn) + " twice");
      }
    }
  }
  const std::string algo_name = digest_name(digest_algo);
  if (algo_name.empty())
    return fail(ErrorCode::parse, path + ": unknown file digest algorithm " + std::to_string(digest_algo));

  // The payload, hashed on the way for the header's payload digest.
  file->begin_section();
  auto payload = ArchiveReader::open(*file, kArchiveCpio, path + ": payload", limits);
  if (!payload) return tl::unexpected(payload.error());
  TreeOptions options;
  if (algo_name != "SHA256") options.extra_digest = algo_name;
  auto tree = read_archive_tree(*payload, options);
  if (!tree) return tl::unexpected(tree.error());
  if (payload->compression() != *compression)
    return fail(ErrorCode::parse, path + ": the payload is compressed with " +
                                      std::string(to_string(payload->compression())) + ", the header says " +
                                      (compressor.empty() ? "gzip" : compressor));
  // Read to the end of the compressed stream before judging the digest.
  while (true) {
    auto block = file->read_some();
    if (!block) return tl::unexpected(block.error());
    if (block->empty()) break;
  }
  const auto payload_digest = file->section_digest();

  // Header and payload must describe the same files (checked before the payload digest:
  // a payload from another package is better reported file by file).
  const auto lies = [&](const std::string& p, const std::string& what) {
    return fail(ErrorCode::parse, path + ": metadata lies: " + printable(p) + ": " + what);
  };
  std::vector<std::string> config;
  for (FileRecord& r : tree->records) {
    const auto it = declared.find(r.path);
    if (it == declared.end()) return lies(r.path, "in the payload but not listed by the header");
    const HeaderFile& f = it->second;
    if (f.type != r.type)
      return lies(r.path, std::string("the header says ") + std::string(to_string(f.type)) + ", the payload holds a " +
                              std::string(to_string(r.type)));
    if (r.has(Attr::mode) && f.mode != r.mode) return lies(r.path, "the header and the payload disagree on its mode");
    if (r.type == FileType::file) {
      if (f.size != r.size)
        return lies(r.path, "the header says " + std::to_string(f.size) + " bytes, the payload holds " +
                                std::to_string(r.size));
      if (!f.digest.empty()) {
        const std::string actual =
            options.extra_digest.empty() ? r.sha256.hex() : tree->extra_digests[r.path];
        if (actual != f.digest)
          return lies(r.path, "its content does not match the header's " + algo_name + " digest");
      }
      if (f.config) config.push_back(r.path);
    }
    if (r.type == FileType::symlink && f.link_target != r.link_target)
      return lies(r.path, "the header and the payload disagree on its link target");
    r.present |= Attr::mode;
    r.mode = f.mode;
    if (r.type == FileType::symlink) {
      r.present = r.present & AttrSet(Attr::type | Attr::size | Attr::link_target);  // a symlink's mode means nothing
      r.mode = 0;
    }
    // Owners are names in RPM; only root's number is the same on every host.
    if (f.root_owner) r.present |= Attr::uid, r.uid = 0;
    if (f.root_group) r.present |= Attr::gid, r.gid = 0;
    declared.erase(it);
  }
  if (!declared.empty()) {
    std::string missing = declared.begin()->first;
    for (const auto& [p, f] : declared) missing = std::min(missing, p);
    return lies(missing, "listed by the header but not in the payload");
  }
  if (headerIsEntry(h, RPMTAG_PAYLOADDIGESTALGO) == 0 ||
      headerGetNumber(h, RPMTAG_PAYLOADDIGESTALGO) == PGPHASHALGO_SHA256) {
    const std::string expected = first_string(h, RPMTAG_PAYLOADDIGEST);
    if (!expected.empty() && payload_digest && expected != payload_digest->hex())
      return fail(ErrorCode::parse, path + ": the payload does not match the header's payload digest (corrupt package)");
  }

  auto manifest = Manifest::from_sorted(std::move(tree->records));
  if (!manifest) return fail(manifest.error().code, path + ": " + manifest.error().message);
  auto digest = file->finish();
  if (!digest) return tl::unexpected(digest.error());
  std::sort(config.begin(), config.end());
  info.config_paths = std::move(config);
  info.source_sha256 = *digest;
  out.signature.manifest = std::move(*manifest);
  out.header_signature = binary_tag(signature->header.get(), RPMSIGTAG_RSA);
  if (out.header_signature.empty()) out.header_signature = binary_tag(signature->header.get(), RPMSIGTAG_DSA);
  out.legacy_signature_only = out.header_signature.empty() &&
                              (headerIsEntry(signature->header.get(), RPMSIGTAG_PGP) != 0 ||
                               headerIsEntry(signature->header.get(), RPMSIGTAG_GPG) != 0);
  out.header_bytes = std::move(main->magic_and_blob);
  return out;
}

}  // namespace tb
