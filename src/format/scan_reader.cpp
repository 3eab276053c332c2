// Validation shared by the XML and JSON readers, and parse_scan().
#include "format/scan_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "core/path.h"
#include "format/encoding.h"
#include "format/reader_support.h"

namespace tb {

namespace {

tl::unexpected<Error> invalid(std::string message) { return fail(ErrorCode::parse, std::move(message)); }

tl::unexpected<Error> bad_value(std::string_view what, std::string_view value, std::string_view expected) {
  return invalid("bad " + std::string(what) + " " + excerpt(value) + ": expected " + std::string(expected));
}

tl::unexpected<Error> too_long(std::string_view what, std::size_t max) {
  return fail(ErrorCode::limit, std::string(what) + " longer than " + std::to_string(max) + " bytes");
}

constexpr std::string_view kUintSpelling = "a decimal integer without sign or leading zeros";

// Raw bytes given either as text or as base64 (exactly one of the two).
Expected<std::string> read_bytes(Field plain, Field b64, std::string_view what, std::size_t max_bytes) {
  if (plain && b64) return invalid(std::string(what) + " given both as text and as base64");
  if (!plain && !b64) return invalid("missing " + std::string(what));
  if (plain) {
    if (plain->size() > max_bytes) return too_long(what, max_bytes);
    return std::string(*plain);
  }
  if (b64->size() / 4 * 3 > max_bytes + 2) return too_long(what, max_bytes);
  auto bytes = base64_decode(*b64);
  if (!bytes) return bad_value(std::string(what) + " (base64)", *b64, "standard padded base64");
  if (bytes->size() > max_bytes) return too_long(what, max_bytes);
  return std::move(*bytes);
}

template <class T>
Expected<void> set_uint(Field text, std::string_view what, std::uint64_t max, T& field, FileRecord& r, Attr attr) {
  if (!text) return {};
  const auto value = parse_uint(*text, max);
  if (!value) {
    std::string expected(kUintSpelling);
    if (max != UINT64_MAX) expected += " <= " + std::to_string(max);
    return bad_value(what, *text, expected);
  }
  field = static_cast<T>(*value);
  r.present |= attr;
  return {};
}

Expected<void> set_mode(Field text, FileRecord& r) {
  if (!text) return {};
  const auto mode = parse_mode(*text);
  if (!mode) return bad_value("mode", *text, "four octal digits (0000..7777)");
  r.mode = *mode;
  r.present |= Attr::mode;
  return {};
}

Expected<void> set_mtime(Field text, FileRecord& r) {
  if (!text) return {};
  const auto ns = parse_mtime(*text);
  if (!ns) return bad_value("mtime", *text, "seconds.nanoseconds (nine digits) within the int64 nanosecond range");
  r.mtime_ns = *ns;
  r.present |= Attr::mtime;
  return {};
}

Expected<void> set_sha256(Field text, FileRecord& r) {
  if (!text) return {};
  if (r.type != FileType::file) return invalid("a content hash on a " + std::string(to_string(r.type)) + " entry");
  const auto digest = parse_sha256(*text);
  if (!digest) return bad_value("sha256", *text, "64 lower-case hex digits");
  r.sha256 = *digest;
  r.present |= Attr::sha256;
  return {};
}

Expected<void> set_target(Field plain, Field b64, const ReadLimits& limits, FileRecord& r) {
  if (!plain && !b64) return {};
  if (r.type != FileType::symlink) return invalid("a link target on a " + std::string(to_string(r.type)) + " entry");
  auto target = read_bytes(plain, b64, "link target", limits.paths.max_path_bytes);
  if (!target) return tl::unexpected(std::move(target.error()));
  if (target->find('\0') != std::string::npos) return invalid("link target contains a NUL byte");
  r.link_target = std::move(*target);
  r.present |= Attr::link_target;
  return {};
}

Expected<void> set_attributes(const RawRecord& raw, const ReadLimits& limits, FileRecord& r) {
  if (auto ok = set_uint(raw.size, "size", UINT64_MAX, r.size, r, Attr::size); !ok) return ok;
  if (auto ok = set_mode(raw.mode, r); !ok) return ok;
  if (auto ok = set_uint(raw.uid, "uid", UINT32_MAX, r.uid, r, Attr::uid); !ok) return ok;
  if (auto ok = set_uint(raw.gid, "gid", UINT32_MAX, r.gid, r, Attr::gid); !ok) return ok;
  if (auto ok = set_mtime(raw.mtime, r); !ok) return ok;
  if (auto ok = set_sha256(raw.sha256, r); !ok) return ok;
  return set_target(raw.target, raw.target_b64, limits, r);
}

Expected<std::uint64_t> read_count(std::string_view value, std::string_view what) {
  const auto n = parse_uint(value);
  if (!n) return bad_value(what, value, kUintSpelling);
  return *n;
}

}  // namespace

Expected<std::string> read_path(Field plain, Field b64, std::string_view what, const ReadLimits& limits) {
  auto bytes = read_bytes(plain, b64, what, limits.paths.max_path_bytes);
  if (!bytes || is_canonical_path(*bytes, limits.paths)) return bytes;  // the common case: no copy
  // Not canonical: normalize_path says why, or what it should have been.
  auto canonical = normalize_path(*bytes, limits.paths);
  if (!canonical) {
    // Keep `limit` for over-long names so a server can answer "too large" rather than "malformed".
    const ErrorCode code = canonical.error().code == ErrorCode::limit ? ErrorCode::limit : ErrorCode::parse;
    return fail(code, std::string(what) + " " + excerpt(*bytes) + ": " + canonical.error().message);
  }
  // Reject rather than repair: a document that spells "/a//b" was not written by us.
  if (*canonical != *bytes)
    return invalid(std::string(what) + " " + excerpt(*bytes) + " is not canonical (canonical form " +
                   excerpt(*canonical) + ")");
  return bytes;
}

Expected<std::string> read_glob(Field plain, Field b64, const ReadLimits& limits) {
  auto glob = read_bytes(plain, b64, "exclude pattern", limits.max_text_bytes);
  if (glob && glob->find('\0') != std::string::npos) return invalid("exclude pattern contains a NUL byte");
  return glob;
}

Expected<std::string> read_text(std::string_view value, std::string_view what, const ReadLimits& limits) {
  if (value.size() > limits.max_text_bytes) return too_long(what, limits.max_text_bytes);
  if (value.find('\0') != std::string_view::npos) return invalid(std::string(what) + " contains a NUL byte");
  return std::string(value);
}

Expected<std::int64_t> read_timestamp(std::string_view value, std::string_view what) {
  const auto ns = parse_timestamp(value);
  if (!ns) return bad_value(what, value, "an RFC 3339 UTC time like 2026-11-26T05:55:09.123456789Z");
  return *ns;
}

Expected<bool> read_bool(std::string_view value, std::string_view what) {
  if (value == "true") return true;
  if (value == "false") return false;
  return bad_value(what, value, "true or false");
}

Expected<void> check_version(std::string_view value) {
  if (value == "1") return {};
  return invalid("unsupported scan format version " + excerpt(value) + " (this reader supports version 1)");
}

Expected<InstalledPackage> make_package(const RawPackage& raw) {
  InstalledPackage p;
  const auto manager = package_manager_from_string(raw.source);
  if (!manager) return bad_value("package source", raw.source, "dpkg or rpm");
  p.manager = *manager;
  const std::pair<std::string_view, std::string_view> fields[] = {
      {"package name", raw.name}, {"package version", raw.version}, {"package arch", raw.arch}};
  for (const auto& [what, value] : fields) {
    if (value.size() > kMaxPackageField) return too_long(what, kMaxPackageField);
    if (!is_plain_text(value)) return invalid(std::string(what) + " is not plain text");
  }
  if (raw.name.empty()) return invalid("package without a name");
  if (raw.version.empty()) return invalid("package " + excerpt(raw.name) + " without a version");
  p.name = std::string(raw.name);
  p.version = std::string(raw.version);
  p.arch = std::string(raw.arch);
  return p;
}

Expected<InventoryWarning> make_inventory_warning(std::string_view source, std::string_view message,
                                                  const ReadLimits& limits) {
  const auto manager = package_manager_from_string(source);
  if (!manager) return bad_value("warning source", source, "dpkg or rpm");
  auto text = read_text(message, "inventory warning", limits);
  if (!text) return tl::unexpected(text.error());
  return InventoryWarning{*manager, std::move(*text)};
}

Expected<void> InventoryCount::count_package() {
  if (++packages_ > max_packages_)
    return fail(ErrorCode::limit, "more than " + std::to_string(max_packages_) + " packages");
  return {};
}

Expected<void> InventoryCount::count_warning() {
  if (++warnings_ > kMaxInventoryWarnings)
    return fail(ErrorCode::limit, "more than " + std::to_string(kMaxInventoryWarnings) + " inventory warnings");
  return {};
}

Expected<void> UniqueList::add(std::vector<std::string>& list, std::string item) {
  if (list.size() >= max_) return fail(ErrorCode::limit, "more than " + std::to_string(max_) + " " + plural_);
  if (!seen_.insert(item).second) return invalid(what_ + " " + excerpt(item) + " listed twice");
  list.push_back(std::move(item));
  return {};
}

Expected<FileRecord> make_record(const RawRecord& raw, const ReadLimits& limits) {
  FileRecord r;
  const auto type = file_type_from_string(raw.type);
  if (!type) return invalid("unknown entry type " + excerpt(raw.type));
  r.type = *type;
  auto path = read_path(raw.path, raw.path_b64, "path", limits);
  if (!path) return tl::unexpected(std::move(path.error()));
  r.path = std::move(*path);
  if (auto ok = set_attributes(raw, limits, r); !ok)
    return fail(ok.error().code, "entry " + excerpt(r.path) + ": " + ok.error().message);
  return r;
}

Expected<ScanError> make_scan_error(const RawError& raw, const ReadLimits& limits) {
  ScanError e;
  auto path = read_path(raw.path, raw.path_b64, "error path", limits);
  if (!path) return tl::unexpected(std::move(path.error()));
  e.path = std::move(*path);
  const auto kind = scan_error_kind_from_string(raw.kind);
  if (!kind) return bad_value("error kind", raw.kind, "open, read, stat, vanished, changed, loop, limit or other");
  e.kind = *kind;
  if (raw.sys_errno) {
    const auto n = parse_uint(*raw.sys_errno, INT_MAX);
    if (!n) return bad_value("errno", *raw.sys_errno, std::string(kUintSpelling) + " that fits an int");
    e.sys_errno = static_cast<int>(*n);
  }
  auto message = read_text(raw.message, "error message", limits);
  if (!message) return tl::unexpected(std::move(message.error()));
  e.message = std::move(*message);
  return e;
}

Expected<ScanSummary> make_summary(const RawSummary& raw) {
  ScanSummary s;
  const auto finished = read_timestamp(raw.finished, "finished time");
  if (!finished) return tl::unexpected(finished.error());
  s.finished_ns = *finished;
  const std::pair<std::string_view, std::uint64_t*> counts[] = {
      {raw.files, &s.files},         {raw.directories, &s.directories},   {raw.symlinks, &s.symlinks},
      {raw.others, &s.others},       {raw.bytes_hashed, &s.bytes_hashed}, {raw.errors, &s.errors},
      {raw.errors_dropped, &s.errors_dropped}};
  for (const auto& [text, field] : counts) {
    const auto n = read_count(text, "summary count");
    if (!n) return tl::unexpected(n.error());
    *field = *n;
  }
  return s;
}

Expected<void> RecordSequence::count_record() {
  if (records_ >= max_records_) return fail(ErrorCode::limit, "more than " + std::to_string(max_records_) + " records");
  ++records_;
  return {};
}

Expected<void> RecordSequence::check_order(std::string_view path) {
  if (have_last_) {
    const int c = path_compare(last_path_, path);
    if (c == 0) return invalid("duplicated path " + excerpt(path));
    if (c > 0) return invalid("path " + excerpt(path) + " out of order: it must sort after " + excerpt(last_path_));
  }
  last_path_.assign(path);
  have_last_ = true;
  return {};
}

Expected<void> RecordSequence::count_error() {
  if (errors_ >= max_errors_) return fail(ErrorCode::limit, "more than " + std::to_string(max_errors_) + " errors");
  ++errors_;
  return {};
}

Error at_line(long line, Error error) {
  error.message = "line " + std::to_string(line) + ": " + error.message;
  return error;
}

namespace {

enum class Syntax { xml, json, unknown };

// The first byte that is not whitespace (after an optional UTF-8 byte-order mark).
Syntax sniff(std::string_view doc) {
  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);
  const std::size_t i = doc.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return Syntax::unknown;
  if (doc[i] == '<') return Syntax::xml;
  if (doc[i] == '{') return Syntax::json;
  return Syntax::unknown;
}

// True while `s` holds nothing but whitespace, after (a beginning of) a byte-order mark.
bool only_blanks(std::string_view s) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const std::size_t bom = std::min(s.size(), kBom.size());
  if (s.substr(0, bom) == kBom.substr(0, bom)) s.remove_prefix(bom);
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// A source whose first bytes were read ahead (to sniff the syntax) and are served again.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, ByteSource& rest) : prefix_(std::move(prefix)), rest_(rest) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    if (offset_ < prefix_.size()) {
      const std::size_t n = std::min(size, prefix_.size() - offset_);
      std::memcpy(buffer, prefix_.data() + offset_, n);
      offset_ += n;
      return n;
    }
    return rest_.read(buffer, size);
  }

 private:
  std::string prefix_;
  std::size_t offset_ = 0;
  ByteSource& rest_;
};

// Reads from `source` until the first byte that is not whitespace (or a byte-order mark)
// is known, or the end, or kMaxPrefix bytes. `ended` says whether the source ended.
constexpr std::size_t kMaxPrefix = 64 * 1024;
Expected<std::string> read_prefix(ByteSource& source, bool& ended) {
  std::string prefix;
  constexpr std::size_t kStep = 4096;
  ended = false;
  while (prefix.size() < kMaxPrefix) {
    const std::size_t old = prefix.size();
    prefix.resize(old + kStep);
    auto got = source.read(prefix.data() + old, kStep);
    if (!got) return tl::unexpected(got.error());
    prefix.resize(old + *got);
    if (*got == 0) {
      ended = true;
      break;
    }
    if (!only_blanks(prefix)) break;
  }
  return prefix;
}

// Collects what a reader delivers into a ScanDocument. Records are kept in blocks and
// moved into one vector at the end, block by block, each freed as it is emptied: a
// growing vector would hold its old and new buffers at once each time it doubles, twice
// the records' memory at the peak.
struct Collector {
  static constexpr std::size_t kBlock = 64 * 1024;
  ScanDocument doc;
  std::vector<std::vector<FileRecord>> blocks;
  std::size_t count = 0;
  ScanVisitor visitor() {
    ScanVisitor v;
    v.header = [this](const ScanHeader& h) -> Expected<void> {
      doc.header = h;
      return {};
    };
    v.record = [this](FileRecord&& r) -> Expected<void> {
      if (blocks.empty() || blocks.back().size() == kBlock) blocks.emplace_back().reserve(kBlock);
      blocks.back().push_back(std::move(r));
      ++count;
      return {};
    };
    v.error = [this](ScanError&& e) -> Expected<void> {
      doc.errors.push_back(std::move(e));
      return {};
    };
    v.summary = [this](const ScanSummary& s) -> Expected<void> {
      doc.summary = s;
      return {};
    };
    return v;
  }
  Expected<ScanDocument> finish() {
    std::vector<FileRecord> records;
    records.reserve(count);
    for (std::vector<FileRecord>& block : blocks) {
      std::move(block.begin(), block.end(), std::back_inserter(records));
      std::vector<FileRecord>().swap(block);
    }
    blocks.clear();
    // The readers already checked order and canonical form (against the limits); this
    // only re-checks against the default path limits that a Manifest enforces.
    auto manifest = Manifest::from_sorted(std::move(records));
    if (!manifest) return fail(ErrorCode::limit, manifest.error().message);
    doc.manifest = std::move(*manifest);
    return std::move(doc);
  }
};

constexpr std::string_view kNotAScan = "not a scan document: expected XML ('<') or JSON ('{')";

}  // namespace

Expected<void> read_scan(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits) {
  bool ended = false;
  auto prefix = read_prefix(source, ended);
  if (!prefix) return tl::unexpected(prefix.error());
  Syntax syntax = sniff(*prefix);
  // Nothing but blanks so far and more to come: let the XML reader go on (it counts the
  // bytes against the limit, so a gigabyte of blanks is "too large", not held here).
  if (syntax == Syntax::unknown && !ended && only_blanks(*prefix)) syntax = Syntax::xml;
  PrefixedSource whole(std::move(*prefix), source);
  switch (syntax) {
    case Syntax::xml: return read_scan_xml(whole, visitor, limits);
    case Syntax::json: return read_scan_json(whole, visitor, limits);
    case Syntax::unknown: break;
  }
  return invalid(std::string(kNotAScan));
}

Expected<ScanDocument> parse_scan(std::string_view document, const ReadLimits& limits) {
  Collector collector;
  const ScanVisitor visitor = collector.visitor();
  Expected<void> ok;
  switch (sniff(document)) {
    case Syntax::xml: ok = read_scan_xml(document, visitor, limits); break;
    case Syntax::json: ok = read_scan_json(document, visitor, limits); break;
    case Syntax::unknown: return invalid(std::string(kNotAScan));
  }
  if (!ok) return tl::unexpected(std::move(ok.error()));
  return collector.finish();
}

Expected<ScanDocument> parse_scan(ByteSource& source, const ReadLimits& limits) {
  Collector collector;
  if (auto ok = read_scan(source, collector.visitor(), limits); !ok) return tl::unexpected(std::move(ok.error()));
  return collector.finish();
}

Expected<ScanDocument> parse_scan_file(const std::string& path, const ReadLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                "cannot open " + path + ": " + std::system_category().message(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  FdSource file(fd, 0, path);
  char magic[2];
  std::size_t have = 0;
  while (have < sizeof magic) {  // a short read is not the end of the file
    auto got = file.read(magic + have, sizeof magic - have);
    if (!got) return fail(got.error().code, path + ": " + got.error().message);
    if (*got == 0) break;
    have += *got;
  }
  FdSource from_start(fd, 0, path);
  Expected<ScanDocument> doc;
  if (looks_gzipped(std::string_view(magic, have))) {
    GunzipSource text(from_start);
    doc = parse_scan(text, limits);
  } else {
    doc = parse_scan(from_start, limits);
  }
  if (!doc) return fail(doc.error().code, path + ": " + doc.error().message);
  return doc;
}

}  // namespace tb
