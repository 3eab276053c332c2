#include "sources/apt_repository.h"

#include <archive.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "format/drift_report.h"  // printable()

namespace tb {

namespace {

namespace fs = std::filesystem;

bool ascii_iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One deb822 field: its name, and its value's lines (the first line's text, then each
// continuation line trimmed; " ." lines are empty lines of the value).
struct Field {
  std::string_view name;
  std::vector<std::string_view> lines;
  std::size_t line_no = 0;
};

struct Paragraph {
  std::vector<Field> fields;
  std::size_t line_no = 0;  // of its first field

  const Field* find(std::string_view name) const {
    for (const Field& f : fields)
      if (ascii_iequal(f.name, name)) return &f;
    return nullptr;
  }
  std::string value(std::string_view name) const {
    const Field* f = find(name);
    return f != nullptr && !f->lines.empty() ? std::string(f->lines.front()) : std::string();
  }
};

bool valid_field_name(std::string_view name) {
  // deb822: US-ASCII printable characters except ':' and space; never starting with '#' or '-'.
  return !name.empty() && name.size() <= 256 && name.front() != '-' &&
         std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

// Splits deb822 text into paragraphs, calling `each` per paragraph (so a large Packages
// index is never held twice). `what` names the file in errors.
template <typename Each>
Expected<void> for_each_paragraph(std::string_view text, const std::string& what, Each each) {
  if (text.find('\0') != std::string_view::npos) return fail(ErrorCode::parse, what + ": NUL byte (not a text file)");
  Paragraph current;
  std::size_t pos = 0, line_no = 0;
  auto flush = [&]() -> Expected<void> {
    if (current.fields.empty()) return {};
    auto r = each(current);
    current = Paragraph{};
    return r;
  };
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string where = what + ": line " + std::to_string(line_no);
    if (line.size() > kMaxDeb822LineBytes) return fail(ErrorCode::parse, where + ": line too long");
    if (trim(line).empty()) {
      if (auto r = flush(); !r) return r;
      continue;
    }
    if (line.front() == '#') continue;  // comments (deb822 allows them outside values)
    if (line.front() == ' ' || line.front() == '\t') {
      if (current.fields.empty()) return fail(ErrorCode::parse, where + ": continuation line before any field");
      const std::string_view v = trim(line);
      current.fields.back().lines.push_back(v == "." ? std::string_view() : v);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(ErrorCode::parse, where + ": not a 'Field: value' line: '" + printable(line.substr(0, 80)) + "'");
    const std::string_view name = line.substr(0, colon);
    if (!valid_field_name(name))
      return fail(ErrorCode::parse, where + ": invalid field name '" + printable(name.substr(0, 80)) + "'");
    if (current.find(name) != nullptr)
      return fail(ErrorCode::parse, where + ": field " + std::string(name) + " given twice in one paragraph");
    if (current.fields.size() == kMaxDeb822Fields)
      return fail(ErrorCode::parse, where + ": more than " + std::to_string(kMaxDeb822Fields) + " fields in one paragraph");
    if (current.fields.empty()) current.line_no = line_no;
    current.fields.push_back(Field{name, {trim(line.substr(colon + 1))}, line_no});
  }
  return flush();
}

Expected<std::uint64_t> parse_size(std::string_view s, const std::string& where) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > (std::uint64_t{1} << 62))
    return fail(ErrorCode::parse, where + ": invalid size '" + printable(s.substr(0, 40)) + "'");
  return v;
}

Expected<Sha256Digest> parse_sha256(std::string_view s, const std::string& where) {
  auto d = Sha256Digest::from_hex(s);
  if (!d) return fail(ErrorCode::parse, where + ": invalid SHA256 '" + printable(s.substr(0, 80)) + "'");
  return *d;
}

// Plain text fields we record: printable, bounded.
Expected<std::string> text_field(const Paragraph& p, std::string_view name, const std::string& what) {
  std::string v = p.value(name);
  if (v.size() > 255 || !std::all_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; }))
    return fail(ErrorCode::parse, what + ": invalid " + std::string(name) + " field");
  return v;
}

Expected<std::string> read_bounded(const std::string& path, std::uint64_t max_bytes, std::string_view kind) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return fail(ErrorCode::io, path + ": not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return fail(ErrorCode::io, path + ": " + ec.message());
  if (size > max_bytes)
    return fail(ErrorCode::invalid_argument, path + ": " + std::to_string(size) + " bytes, more than a " +
                                                 std::string(kind) + " may have (" + std::to_string(max_bytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::io, path + ": cannot open");
  std::string data(static_cast<std::size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (static_cast<std::size_t>(in.gcount()) != data.size() || in.peek() != std::char_traits<char>::eof())
    return fail(ErrorCode::io, path + ": changed while read");
  return data;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Decompresses a Packages index (gzip, xz, bzip2, zstd, lzma, detected from the bytes;
// anything else is taken as plain text), bounded.
Expected<std::string> decompress_index(const std::string& data, const std::string& what) {
  const auto magic = [&](std::string_view m) { return starts_with(data, m); };
  const bool compressed = magic("\x1f\x8b") || magic(std::string_view("\xfd" "7zXZ\0", 6)) || magic("BZh") ||
                          magic("\x28\xb5\x2f\xfd") || magic(std::string_view("\x5d\x00\x00", 3));
  if (!compressed) return data;
  struct Free {
    void operator()(archive* a) const { archive_read_free(a); }
  };
  std::unique_ptr<archive, Free> a(archive_read_new());
  if (!a) return fail(ErrorCode::internal, "libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_read_support_format_empty(a.get());  // an empty index, compressed
  archive_entry* entry = nullptr;
  int header = ARCHIVE_FATAL;
  if (archive_read_open_memory(a.get(), data.data(), data.size()) == ARCHIVE_OK)
    header = archive_read_next_header(a.get(), &entry);
  if (header == ARCHIVE_EOF) return std::string();
  if (header != ARCHIVE_OK)
    return fail(ErrorCode::parse, what + ": cannot decompress: " + std::string(archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  std::string out;
  char buf[65536];
  for (;;) {
    const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) return fail(ErrorCode::parse, what + ": corrupt compressed data: " + std::string(archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kMaxPackagesBytes)
      return fail(ErrorCode::invalid_argument, what + ": decompresses to more than " + std::to_string(kMaxPackagesBytes) + " bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string entry_key(std::string_view package, std::string_view version, std::string_view arch) {
  std::string k(package);
  k += '\0';
  k += version;
  k += '\0';
  k += arch;
  return k;
}

}  // namespace

Expected<AptRelease> parse_apt_release(std::string_view text) {
  const std::string what = "Release";
  AptRelease out;
  std::size_t paragraphs = 0;
  auto r = for_each_paragraph(text, what, [&](const Paragraph& p) -> Expected<void> {
    if (++paragraphs > 1)
      return fail(ErrorCode::parse, what + ": line " + std::to_string(p.line_no) + ": a second paragraph (a Release file has one)");
    for (auto [name, target] : {std::pair{"Origin", &out.origin}, std::pair{"Label", &out.label},
                                std::pair{"Suite", &out.suite}, std::pair{"Codename", &out.codename}}) {
      auto v = text_field(p, name, what);
      if (!v) return tl::unexpected(v.error());
      *target = std::move(*v);
    }
    const Field* sums = p.find("SHA256");
    if (sums == nullptr)
      return fail(ErrorCode::parse, what + ": no SHA256 section (MD5Sum and SHA1 alone are not trusted)");
    if (!sums->lines.front().empty())
      return fail(ErrorCode::parse, what + ": line " + std::to_string(sums->line_no) + ": SHA256 lists its files on the lines below");
    for (std::size_t i = 1; i < sums->lines.size(); ++i) {
      const std::string where = what + ": line " + std::to_string(sums->line_no + i);
      const std::string_view line = sums->lines[i];
      const auto a = line.find_first_of(" \t");
      const auto b = a == std::string_view::npos ? a : line.find_first_not_of(" \t", a);
      const auto c = b == std::string_view::npos ? b : line.find_first_of(" \t", b);
      const auto d = c == std::string_view::npos ? c : line.find_first_not_of(" \t", c);
      if (d == std::string_view::npos)
        return fail(ErrorCode::parse, where + ": a SHA256 line is 'HASH SIZE PATH', not '" + printable(line.substr(0, 80)) + "'");
      auto sha = parse_sha256(line.substr(0, a), where);
      if (!sha) return tl::unexpected(sha.error());
      auto size = parse_size(line.substr(b, c - b), where);
      if (!size) return tl::unexpected(size.error());
      const std::string_view path = line.substr(d);
      if (path.size() > 4096 || path.find_first_of(" \t") != std::string_view::npos)
        return fail(ErrorCode::parse, where + ": invalid path '" + printable(path.substr(0, 80)) + "'");
      out.sha256.push_back(AptReleaseEntry{std::string(path), *size, *sha});
    }
    if (out.sha256.empty()) return fail(ErrorCode::parse, what + ": the SHA256 section lists no file");
    return {};
  });
  if (!r) return tl::unexpected(r.error());
  if (paragraphs == 0) return fail(ErrorCode::parse, what + ": empty");
  return out;
}

Expected<std::vector<AptPackageEntry>> parse_apt_packages(std::string_view text) {
  const std::string what = "Packages";
  std::vector<AptPackageEntry> out;
  auto r = for_each_paragraph(text, what, [&](const Paragraph& p) -> Expected<void> {
    const std::string where = what + ": paragraph at line " + std::to_string(p.line_no);
    AptPackageEntry e;
    for (auto [name, target] : {std::pair{"Package", &e.package}, std::pair{"Version", &e.version},
                                std::pair{"Architecture", &e.architecture}, std::pair{"Filename", &e.filename}}) {
      auto v = text_field(p, name, where);
      if (!v) return tl::unexpected(v.error());
      if (v->empty()) return fail(ErrorCode::parse, where + ": no " + std::string(name) + " field");
      *target = std::move(*v);
    }
    const std::string named = where + " (" + printable(e.package) + ")";
    const std::string size = p.value("Size"), sha = p.value("SHA256");
    if (size.empty()) return fail(ErrorCode::parse, named + ": no Size field");
    if (sha.empty()) return fail(ErrorCode::parse, named + ": no SHA256 field (weaker hashes are not trusted)");
    auto parsed_size = parse_size(size, named);
    if (!parsed_size) return tl::unexpected(parsed_size.error());
    auto parsed_sha = parse_sha256(sha, named);
    if (!parsed_sha) return tl::unexpected(parsed_sha.error());
    e.size = *parsed_size;
    e.sha256 = *parsed_sha;
    out.push_back(std::move(e));
    return {};
  });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<void> check_clear_signed_layout(std::string_view text, const std::string& what) {
  constexpr std::string_view kBegin = "-----BEGIN PGP SIGNED MESSAGE-----";
  constexpr std::string_view kSigBegin = "-----BEGIN PGP SIGNATURE-----";
  constexpr std::string_view kSigEnd = "-----END PGP SIGNATURE-----";
  std::size_t pos = 0, line_no = 0, begins = 0, sig_begins = 0;
  bool after_end = false, first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (first) {
      if (line != kBegin)
        return fail(ErrorCode::invalid_argument,
                    what + ": not a clear-signed file (unsigned? give Release with --apt-release-gpg, or InRelease)");
      first = false;
    }
    if (after_end) {
      if (!line.empty())
        return fail(ErrorCode::invalid_argument, what + ": line " + std::to_string(line_no) + ": text after the signature");
      continue;
    }
    if (line == kBegin && ++begins > 1)
      return fail(ErrorCode::invalid_argument, what + ": line " + std::to_string(line_no) + ": a second signed message");
    if (line == kSigBegin && ++sig_begins > 1)
      return fail(ErrorCode::invalid_argument, what + ": line " + std::to_string(line_no) + ": a second signature block");
    if (line == kSigEnd) after_end = true;
  }
  if (first) return fail(ErrorCode::invalid_argument, what + ": empty");
  if (sig_begins == 0 || !after_end) return fail(ErrorCode::invalid_argument, what + ": the signature block is missing or cut short");
  return {};
}

Expected<AptChain> AptChain::open(const AptChainSources& sources, const OpenPgpKeyring& keys) {
  AptChain chain;
  auto release = read_bounded(sources.release, kMaxReleaseBytes, "Release file");
  if (!release) return tl::unexpected(release.error());
  std::string plain;
  Expected<OpenPgpSigner> signer = fail(ErrorCode::internal, "unreachable");
  if (sources.release_signature.empty()) {
    if (auto layout = check_clear_signed_layout(*release, sources.release); !layout) return tl::unexpected(layout.error());
    signer = gpgv_verify(keys, *release, nullptr, &plain, sources.release);
  } else {
    auto detached = read_bounded(sources.release_signature, 1u << 20, "detached signature");
    if (!detached) return tl::unexpected(detached.error());
    signer = gpgv_verify(keys, *release, &*detached, nullptr, sources.release);
    plain = *release;
  }
  if (!signer) return tl::unexpected(signer.error());
  auto parsed = parse_apt_release(plain);
  if (!parsed) return fail(parsed.error().code, sources.release + ": " + parsed.error().message);
  SignatureProvenance& p = chain.release_;
  p.method = ProvenanceMethod::deb_release;
  p.signer_fingerprint = signer->fingerprint;
  p.signer_key_id = signer->key_id;
  p.origin = parsed->origin;
  p.suite = parsed->suite;
  p.codename = parsed->codename;
  p.release_sha256 = Sha256::of(*release);

  if (sources.packages.empty()) return fail(ErrorCode::invalid_argument, "a Release file needs its Packages index (--apt-packages)");
  for (const std::string& path : sources.packages) {
    auto data = read_bounded(path, kMaxPackagesFileBytes, "Packages index");
    if (!data) return tl::unexpected(data.error());
    const Sha256Digest digest = Sha256::of(*data);
    const AptReleaseEntry* listed = nullptr;
    for (const AptReleaseEntry& e : parsed->sha256)
      if (e.sha256 == digest && e.size == data->size()) listed = &e;
    if (listed == nullptr)
      return fail(ErrorCode::invalid_argument,
                  path + ": not listed in the Release file's SHA256 section (SHA256 " + digest.hex() + ", " +
                      std::to_string(data->size()) + " bytes): altered, or the index of another Release");
    const std::string_view base = std::string_view(listed->path).substr(listed->path.rfind('/') + 1);
    if (!starts_with(base, "Packages"))
      return fail(ErrorCode::invalid_argument, path + ": the Release lists these bytes as " + printable(listed->path) +
                                                   ", not a Packages index");
    auto text = decompress_index(*data, path);
    if (!text) return tl::unexpected(text.error());
    auto entries = parse_apt_packages(*text);
    if (!entries) return fail(entries.error().code, path + ": " + entries.error().message);
    for (AptPackageEntry& e : *entries) {
      auto& list = chain.entries_[entry_key(e.package, e.version, e.architecture)];
      list.push_back(std::move(e));
    }
  }
  return chain;
}

Expected<SignatureProvenance> AptChain::verify(const DebControl& control, const Sha256Digest& sha256, std::uint64_t size,
                                               const std::string& what) const {
  const std::string name = control.package + " " + control.version + " (" + control.architecture + ")";
  const auto it = entries_.find(entry_key(control.package, control.version, control.architecture));
  if (it == entries_.end())
    return fail(ErrorCode::invalid_argument, what + ": " + name + " is not listed in the signed Packages index");
  for (const AptPackageEntry& e : it->second)
    if (e.sha256 == sha256 && e.size == size) return release_;
  const AptPackageEntry& e = it->second.front();
  return fail(ErrorCode::invalid_argument,
              what + ": does not match the signed Packages index: " + name + " is listed as " + printable(e.filename) +
                  " with SHA256 " + e.sha256.hex() + " and Size " + std::to_string(e.size) + ", this file has SHA256 " +
                  sha256.hex() + " and " + std::to_string(size) + " bytes (altered, or another build)");
}

}  // namespace tb
