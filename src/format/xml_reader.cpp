// The XML scan reader: libxml2's streaming xmlTextReader over untrusted input.
//
// Safety: XML_PARSE_NONET, and none of XML_PARSE_NOENT / DTDLOAD / DTDATTR / DTDVALID /
// XINCLUDE, so no entity is substituted and nothing outside the document is ever
// fetched; a DOCTYPE is rejected outright as soon as the reader reports it. XML_PARSE_HUGE
// stays off, so libxml2's own bounds (text node and name sizes, nesting depth, entity
// amplification) apply on top of ReadLimits. Memory stays flat: the reader frees each
// node once passed, and the visitor receives records one by one.
//
// Structure is checked here (element names, namespace, order of sections, allowed
// attributes); values are checked by the shared functions of reader_support.h.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "format/byte_source.h"
#include "format/encoding.h"
#include "format/libxml_errors.h"
#include "format/reader_support.h"
#include "format/scan_reader.h"

namespace tb {

namespace {

constexpr std::string_view kNamespace = "urn:trustbase:scan:1";

std::string_view view(const xmlChar* s) {
  return s != nullptr ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

// ---- input ---------------------------------------------------------------------------

// Watches the bytes on their way to libxml2 and refuses, before libxml2 parses them, what
// would cost memory or CPU out of proportion to their size:
//  - libxml2's reader parses ahead until the next start tag, holding every comment,
//    processing instruction, CDATA section and text node it meets on the way: a few
//    hundred kilobytes of gzip make gigabytes of nodes. So comments, PIs and CDATA are
//    bounded in count and bytes over the document, text between two start tags in bytes;
//  - libxml2 checks an element's attributes for duplicates pairwise (and its tree builder
//    appends each to a list it walks), quadratic in their number: attributes are counted
//    as the start tag streams in, and refused before its '>' arrives;
//  - a DOCTYPE is refused at "<!", before libxml2 parses (and stores) an internal subset.
// The guard lexes bytes, so the document must be in an encoding where markup is ASCII:
// UTF-8 (or an ASCII subset of it) it is, by the declaration's word; a NUL byte (UTF-16,
// UCS-4) or EBCDIC is refused. Valid XML lexes the same here as in libxml2; where the
// two could differ, libxml2 has already found the document malformed.
class XmlGuard {
 public:
  explicit XmlGuard(const ReadLimits& limits) : limits_(limits), max_text_run_(limits.max_text_run_bytes) {}

  // Checks the next `n` bytes of the document; the error names the line.
  Expected<void> check(const char* data, std::size_t n) {
    if (n == 0) return {};
    if (const void* nul = std::memchr(data, '\0', n); nul != nullptr) {
      line_ += static_cast<long>(std::count(data, static_cast<const char*>(nul), '\n'));
      return refuse(ErrorCode::parse, "a NUL byte: a scan document is UTF-8 (UTF-16 and UCS-4 are not accepted)");
    }
    for (std::size_t i = 0; i < n && prologue_seen_ < 4; ++i, ++prologue_seen_)
      if (auto ok = prologue(data[i]); !ok) return ok;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = data[i];
      ++offset_;
      if (c == '\n') ++line_;
      switch (state_) {
        case State::text: {
          // The common case, skipped in bulk: text runs to the next '<'.
          const char* lt = static_cast<const char*>(std::memchr(data + i, '<', n - i));
          const std::size_t end = lt != nullptr ? static_cast<std::size_t>(lt - data) : n;
          if (end > i) {
            line_ += static_cast<long>(std::count(data + i + 1, data + end, '\n'));
            offset_ += end - i - 1;
            text_run_ += end - i;
            if (text_run_ > max_text_run_)
              return refuse(ErrorCode::limit,
                            "more than " + std::to_string(max_text_run_) + " bytes of text between two elements");
            i = end - 1;
            break;
          }
          state_ = State::lt;
          break;
        }
        case State::lt:
          if (c == '!') {
            state_ = State::bang;
          } else if (c == '?') {
            declaration_ = offset_ == bom_ + 2;  // "<?" at the very start
            if (!declaration_)
              if (auto ok = count_comment(); !ok) return ok;
            state_ = State::pi;
          } else if (c == '/') {
            state_ = State::end_tag;
          } else {
            text_run_ = 0;
            attributes_ = 0;
            state_ = State::start_tag;
          }
          break;
        case State::bang:  // "<!": a comment, a CDATA section, or a DOCTYPE (refused)
          if (c == '-') {
            state_ = State::bang_dash;
          } else if (c == '[') {
            matched_ = 1;
            state_ = State::bang_cdata;
          } else {
            return doctype();
          }
          break;
        case State::bang_dash:
          if (c != '-') return doctype();
          if (auto ok = count_comment(); !ok) return ok;
          tail_ = 0;
          state_ = State::comment;
          break;
        case State::bang_cdata: {
          constexpr std::string_view kCdata = "[CDATA[";
          if (c != kCdata[matched_]) return doctype();
          if (++matched_ == kCdata.size()) {
            if (auto ok = count_comment(); !ok) return ok;
            tail_ = 0;
            state_ = State::cdata;
          }
          break;
        }
        case State::comment:  // ends at "-->"
        case State::cdata:    // ends at "]]>"
        case State::pi: {     // ends at "?>"
          if (auto ok = count_comment_byte(); !ok) return ok;
          if (declaration_ && state_ == State::pi) {
            if (declaration_text_.size() >= kMaxDeclaration)
              return refuse(ErrorCode::parse,
                            "an XML declaration longer than " + std::to_string(kMaxDeclaration) + " bytes");
            declaration_text_.push_back(c);
          }
          const char closer = state_ == State::comment ? '-' : state_ == State::cdata ? ']' : '?';
          const bool closed = c == '>' && (state_ == State::pi ? tail_ >= 1 : tail_ >= 2);
          if (closed) {
            state_ = State::text;
            if (declaration_) {
              declaration_ = false;
              if (auto ok = check_declaration(); !ok) return ok;
            }
            break;
          }
          tail_ = c == closer ? tail_ + 1 : 0;
          break;
        }
        case State::start_tag:  // attributes counted by their '=' outside quoted values
          if (c == '"' || c == '\'') {
            quote_ = c;
            state_ = State::value;
          } else if (c == '=') {
            if (++attributes_ > limits_.max_attributes)
              return refuse(ErrorCode::limit,
                            "more than " + std::to_string(limits_.max_attributes) + " attributes on one element");
          } else if (c == '>') {
            state_ = State::text;
          }
          break;
        case State::value:
          if (c == quote_) state_ = State::start_tag;
          break;
        case State::end_tag:
          if (++text_run_ > max_text_run_)
            return refuse(ErrorCode::limit,
                          "more than " + std::to_string(max_text_run_) + " bytes of text between two elements");
          if (c == '>') state_ = State::text;
          break;
      }
    }
    return {};
  }

 private:
  enum class State : std::uint8_t {
    text,
    lt,
    bang,
    bang_dash,
    bang_cdata,
    comment,
    cdata,
    pi,
    start_tag,
    value,
    end_tag
  };
  static constexpr std::size_t kMaxDeclaration = 256;

  tl::unexpected<Error> refuse(ErrorCode code, std::string message) const {
    return tl::unexpected(at_line(line_, Error(code, std::move(message))));
  }

  tl::unexpected<Error> doctype() const {
    return refuse(ErrorCode::parse, "DOCTYPE declarations are not allowed in a scan document");
  }

  // The first bytes: a UTF-8 byte order mark is skipped; EBCDIC ("<?xm" in code page 37)
  // is refused (UTF-16 and UCS-4 are, by their NUL bytes).
  Expected<void> prologue(char c) {
    static constexpr unsigned char kBom[] = {0xEF, 0xBB, 0xBF};
    static constexpr unsigned char kEbcdic[] = {0x4C, 0x6F, 0xA7, 0x94};
    const auto u = static_cast<unsigned char>(c);
    const std::size_t at = prologue_seen_;
    if (at < 3 && bom_matched_ == at && u == kBom[at] && ++bom_matched_ == 3) bom_ = 3;
    if (ebcdic_matched_ == at && u == kEbcdic[at] && ++ebcdic_matched_ == 4)
      return refuse(ErrorCode::parse, "an EBCDIC document: a scan document is UTF-8");
    return {};
  }

  // The declaration may name UTF-8 or an ASCII-compatible single-byte encoding, no other.
  Expected<void> check_declaration() {
    const std::string_view d = declaration_text_;
    const std::size_t at = d.find("encoding");
    if (at == std::string_view::npos) return {};
    std::size_t i = at + 8;
    const auto blank = [&] {
      while (i < d.size() && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n')) ++i;
    };
    blank();
    if (i >= d.size() || d[i] != '=') return {};  // malformed: libxml2 says so
    ++i;
    blank();
    if (i >= d.size() || (d[i] != '"' && d[i] != '\'')) return {};
    const char quote = d[i++];
    const std::size_t end = d.find(quote, i);
    if (end == std::string_view::npos) return {};
    std::string name(d.substr(i, end - i));
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii" || name.rfind("iso-8859-", 0) == 0)
      return {};
    return refuse(ErrorCode::parse,
                  "encoding " + excerpt(d.substr(i, end - i)) + " is not accepted: a scan document is UTF-8");
  }

  Expected<void> count_comment() {
    if (++comments_ > limits_.max_comments)
      return refuse(ErrorCode::limit, "more than " + std::to_string(limits_.max_comments) +
                                          " comments, processing instructions and CDATA sections");
    return {};
  }

  Expected<void> count_comment_byte() {
    if (declaration_) return {};
    if (++comment_bytes_ > limits_.max_comment_bytes)
      return refuse(ErrorCode::limit, "more than " + std::to_string(limits_.max_comment_bytes) +
                                          " bytes of comments, processing instructions and CDATA sections");
    return {};
  }

  const ReadLimits& limits_;
  const std::size_t max_text_run_;  // text (and end tags) between two start tags
  State state_ = State::text;
  std::uint64_t offset_ = 0;  // bytes seen
  long line_ = 1;
  std::size_t prologue_seen_ = 0;  // of the first 4 bytes
  std::size_t bom_ = 0, bom_matched_ = 0, ebcdic_matched_ = 0;
  std::size_t text_run_ = 0;
  std::size_t attributes_ = 0;  // on the open start tag
  std::size_t comments_ = 0, comment_bytes_ = 0;
  std::size_t tail_ = 0;     // closing characters just seen ("--", "]]", "?")
  std::size_t matched_ = 0;  // of "[CDATA["
  char quote_ = '"';
  bool declaration_ = false;  // inside the XML declaration
  std::string declaration_text_;
};

// Feeds libxml2 from a ByteSource, counting bytes against the document limit and
// passing them through the guard. libxml2 only sees "I/O error" when this fails; `error`
// says why.
struct Input {
  ByteSource* source = nullptr;
  std::size_t total = 0;
  std::size_t max = 0;
  XmlGuard* guard = nullptr;
  std::optional<Error> error;
};

int read_input(void* context, char* buffer, int len) {
  auto& in = *static_cast<Input*>(context);
  if (len <= 0) return 0;
  auto got = in.source->read(buffer, static_cast<std::size_t>(len));
  if (!got) {
    in.error = std::move(got.error());
    return -1;
  }
  in.total += *got;
  if (in.total > in.max) {
    in.error = Error(ErrorCode::limit, "document larger than " + std::to_string(in.max) + " bytes");
    return -1;
  }
  if (in.guard != nullptr)
    if (auto ok = in.guard->check(buffer, *got); !ok) {
      in.error = std::move(ok.error());
      return -1;
    }
  return static_cast<int>(*got);
}

// ---- vocabulary ----------------------------------------------------------------------

// clang-format off
enum class Elem : std::uint8_t {
  scan, host, options, root, exclude, entries, errors, summary, file, dir, symlink, other, error,
  packages, package, warning,
};
// clang-format on
constexpr std::array<std::string_view, 16> kElemNames = {"scan",    "host",     "options", "root",    "exclude",
                                                         "entries", "errors",   "summary", "file",    "dir",
                                                         "symlink", "other",    "error",   "packages", "package",
                                                         "warning"};

std::string_view name_of(Elem e) { return kElemNames[static_cast<std::size_t>(e)]; }

std::optional<Elem> elem_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kElemNames.size(); ++i)
    if (kElemNames[i] == name) return static_cast<Elem>(i);
  return std::nullopt;
}

bool is_record(Elem e) { return e == Elem::file || e == Elem::dir || e == Elem::symlink || e == Elem::other; }

bool is_section(Elem e) {
  return e == Elem::host || e == Elem::options || e == Elem::root || e == Elem::exclude || e == Elem::packages ||
         e == Elem::entries || e == Elem::errors || e == Elem::summary;
}

bool allowed_child(Elem parent, Elem child) {
  switch (parent) {
    case Elem::scan: return is_section(child);
    case Elem::entries: return is_record(child);
    case Elem::errors: return child == Elem::error;
    case Elem::packages: return child == Elem::package || child == Elem::warning;
    default: return false;
  }
}

// The children of <scan> come in this order: host, options, root+, exclude*, packages?,
// entries, errors, summary. `prev` is the previous child (nullopt for the first).
bool may_follow(std::optional<Elem> prev, Elem next) {
  if (!prev) return next == Elem::host;
  switch (next) {
    case Elem::options: return *prev == Elem::host;
    case Elem::root: return *prev == Elem::options || *prev == Elem::root;
    case Elem::exclude: return *prev == Elem::root || *prev == Elem::exclude;
    case Elem::packages: return *prev == Elem::root || *prev == Elem::exclude;
    case Elem::entries: return *prev == Elem::root || *prev == Elem::exclude || *prev == Elem::packages;
    case Elem::errors: return *prev == Elem::entries;
    case Elem::summary: return *prev == Elem::errors;
    default: return false;
  }
}

// Every attribute name of the format, as an index into the per-element value table.
// clang-format off
enum class At : std::uint8_t {
  version, scanner, started,
  name, os_id, os_version, os_pretty, kernel, arch,
  one_file_system, skip_pseudo_fs,
  path, path_b64, glob, glob_b64, kind, target, target_b64,
  size, mode, uid, gid, mtime, sha256, err_no,
  finished, files, directories, symlinks, others, bytes_hashed, errors, errors_dropped,
  source,
  count_,
};
constexpr std::size_t kAtCount = static_cast<std::size_t>(At::count_);
constexpr std::array<std::string_view, kAtCount> kAtNames = {
    "version", "scanner", "started",
    "name", "os-id", "os-version", "os-pretty", "kernel", "arch",
    "one-file-system", "skip-pseudo-fs",
    "path", "path-b64", "glob", "glob-b64", "kind", "target", "target-b64",
    "size", "mode", "uid", "gid", "mtime", "sha256", "errno",
    "finished", "files", "directories", "symlinks", "others", "bytes-hashed", "errors", "errors-dropped",
    "source",
};
// clang-format on

using AtMask = std::uint64_t;
static_assert(kAtCount <= 64);

constexpr AtMask bit(At a) { return AtMask{1} << static_cast<unsigned>(a); }
template <class... A>
constexpr AtMask bits(A... a) { return (bit(a) | ...); }

constexpr AtMask kStatAttrs = bits(At::path, At::path_b64, At::size, At::mode, At::uid, At::gid, At::mtime);

AtMask allowed_attributes(Elem e) {
  switch (e) {
    case Elem::scan: return bits(At::version, At::scanner, At::started);
    case Elem::host: return bits(At::name, At::os_id, At::os_version, At::os_pretty, At::kernel, At::arch);
    case Elem::options: return bits(At::one_file_system, At::skip_pseudo_fs);
    case Elem::root: return bits(At::path, At::path_b64);
    case Elem::exclude: return bits(At::glob, At::glob_b64);
    case Elem::file: return kStatAttrs | bit(At::sha256);
    case Elem::dir: return kStatAttrs;
    case Elem::symlink: return kStatAttrs | bits(At::target, At::target_b64);
    case Elem::other: return kStatAttrs | bit(At::kind);
    case Elem::error: return bits(At::path, At::path_b64, At::kind, At::err_no);
    case Elem::summary:
      return bits(At::finished, At::files, At::directories, At::symlinks, At::others, At::bytes_hashed, At::errors,
                  At::errors_dropped);
    case Elem::package: return bits(At::name, At::version, At::arch, At::source);
    case Elem::warning: return bit(At::source);
    case Elem::packages:
    case Elem::entries:
    case Elem::errors: return 0;
  }
  return 0;
}

std::optional<At> attribute_from_name(std::string_view name, AtMask allowed) {
  for (std::size_t i = 0; i < kAtCount; ++i)
    if ((allowed & (AtMask{1} << i)) != 0 && kAtNames[i] == name) return static_cast<At>(i);
  return std::nullopt;
}

std::string tag(Elem e) { return "<" + std::string(name_of(e)) + ">"; }

// ---- the reader ----------------------------------------------------------------------

class XmlScanReader {
 public:
  XmlScanReader(xmlTextReaderPtr reader, Input& input, const ScanVisitor& visitor, const ReadLimits& limits)
      : r_(reader), input_(input), visitor_(visitor), limits_(limits), sequence_(limits) {}

  Expected<void> run() {
    for (;;) {
      const int rc = xmlTextReaderRead(r_);
      if (rc == 0) break;
      if (rc < 0) return syntax_error();
      if (auto ok = on_node(); !ok) return ok;
    }
    if (!closed_) return fail(ErrorCode::parse, "document ended before </scan> (truncated?)");
    return {};
  }

  // libxml2's structured error callback: keeps the first error, with its line.
  static void on_libxml_error(void* self, xmlErrorPtr error) {
    auto& reader = *static_cast<XmlScanReader*>(self);
    if (error == nullptr || error->level < XML_ERR_ERROR || reader.libxml_error_) return;
    reader.libxml_error_ = at_line(error->line, Error(ErrorCode::parse, "XML: " + libxml_message(*error)));
  }

 private:
  Expected<void> syntax_error() const {
    if (input_.error) return tl::unexpected(*input_.error);  // the real cause behind libxml2's "I/O error"
    if (libxml_error_) return tl::unexpected(*libxml_error_);
    return here(ErrorCode::parse, "malformed XML");
  }

  // The line of the current node. Elements record it up to 65535 (a libxml2 field
  // limit); beyond that the parser's position is used, which can run a few lines ahead.
  long line() const {
    const xmlNodePtr node = xmlTextReaderCurrentNode(r_);
    const long n = node != nullptr ? xmlGetLineNo(node) : -1;
    if (n > 0 && n < 65535) return n;
    return xmlTextReaderGetParserLineNumber(r_);
  }

  tl::unexpected<Error> here(ErrorCode code, std::string message) const {
    return tl::unexpected(at_line(line(), Error(code, std::move(message))));
  }
  tl::unexpected<Error> here(Error error) const { return tl::unexpected(at_line(line(), std::move(error))); }

  Expected<void> on_node() {
    const int type = xmlTextReaderNodeType(r_);
    switch (type) {
      case XML_READER_TYPE_ELEMENT: return on_start();
      case XML_READER_TYPE_END_ELEMENT: return on_end();
      case XML_READER_TYPE_TEXT:
      case XML_READER_TYPE_CDATA:
      case XML_READER_TYPE_WHITESPACE:
      case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: return on_text(type);
      case XML_READER_TYPE_COMMENT:
      case XML_READER_TYPE_PROCESSING_INSTRUCTION: return {};  // carry no data
      case XML_READER_TYPE_DOCUMENT_TYPE:
        return here(ErrorCode::parse, "DOCTYPE declarations are not allowed in a scan document");
      case XML_READER_TYPE_ENTITY_REFERENCE:
      case XML_READER_TYPE_ENTITY: return here(ErrorCode::parse, "entity references are not allowed");
      default: return here(ErrorCode::parse, "unexpected XML node of type " + std::to_string(type));
    }
  }

  Expected<void> on_start() {
    const std::string_view local = view(xmlTextReaderConstLocalName(r_));
    const std::string_view ns = view(xmlTextReaderConstNamespaceUri(r_));
    const bool empty = xmlTextReaderIsEmptyElement(r_) == 1;
    auto e = open_.empty() ? enter_root(local, ns) : enter_child(local, ns);
    if (!e) return tl::unexpected(std::move(e.error()));
    if (auto ok = load_attributes(*e); !ok) return ok;
    if (auto ok = on_open(*e); !ok) return ok;
    if (empty) return on_close(*e);  // <x/> has no end-element node
    open_.push_back(*e);
    return {};
  }

  Expected<void> on_end() {
    const Elem e = open_.back();  // libxml2 guarantees matching tags
    open_.pop_back();
    return on_close(e);
  }

  Expected<void> on_text(int type) {
    const std::string_view text = view(xmlTextReaderConstValue(r_));
    if (!open_.empty() && (open_.back() == Elem::error || open_.back() == Elem::warning)) {
      if (error_text_.size() + text.size() > limits_.max_text_bytes)
        return here(ErrorCode::limit, "error message longer than " + std::to_string(limits_.max_text_bytes) + " bytes");
      error_text_.append(text);
      return {};
    }
    const bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) && !blank)
      return here(ErrorCode::parse, "text is not allowed in " + (open_.empty() ? "the prolog" : tag(open_.back())));
    return {};
  }

  Expected<Elem> enter_root(std::string_view local, std::string_view ns) const {
    if (local != "scan") return here(ErrorCode::parse, "root element is <" + sanitize_text(local) + ">, not <scan>");
    if (ns.empty())
      return here(ErrorCode::parse, "<scan> has no namespace (expected xmlns=\"" + std::string(kNamespace) + "\")");
    if (ns != kNamespace)
      return here(ErrorCode::parse, "<scan> is in namespace " + excerpt(ns) + ", expected '" + std::string(kNamespace) +
                                        "' (a different format or version)");
    return Elem::scan;
  }

  Expected<Elem> enter_child(std::string_view local, std::string_view ns) {
    const Elem parent = open_.back();
    const auto e = elem_from_name(local);
    if (ns != kNamespace || !e || !allowed_child(parent, *e)) {
      const std::string qualified =
          ns == kNamespace ? sanitize_text(local) : "{" + sanitize_text(ns) + "}" + sanitize_text(local);
      return here(ErrorCode::parse, "unexpected element <" + qualified + "> in " + tag(parent));
    }
    if (parent == Elem::scan) {
      if (!may_follow(last_section_, *e))
        return here(ErrorCode::parse,
                    tag(*e) + " out of place" +
                        (last_section_ ? " after " + tag(*last_section_) : " as first child of <scan>"));
      last_section_ = *e;
    }
    return *e;
  }

  // Copies the attributes of the current element into values_ (the strings keep their
  // capacity, so steady-state reading does not allocate). Unknown attributes, and
  // attributes in any namespace, are errors: version 1 has exactly the ones listed.
  Expected<void> load_attributes(Elem e) {
    seen_ = 0;
    const AtMask allowed = allowed_attributes(e);
    int rc = xmlTextReaderMoveToFirstAttribute(r_);
    for (; rc == 1; rc = xmlTextReaderMoveToNextAttribute(r_)) {
      if (xmlTextReaderIsNamespaceDecl(r_) == 1) continue;
      const std::string_view name = view(xmlTextReaderConstLocalName(r_));
      const auto at = xmlTextReaderConstNamespaceUri(r_) == nullptr ? attribute_from_name(name, allowed) : std::nullopt;
      if (!at) {
        const std::string shown = excerpt(view(xmlTextReaderConstName(r_)));  // with its prefix, if any
        xmlTextReaderMoveToElement(r_);
        return here(ErrorCode::parse, "unexpected attribute " + shown + " on " + tag(e));
      }
      const std::string_view value = view(xmlTextReaderConstValue(r_));
      if (value.size() > limits_.max_text_bytes + limits_.max_text_bytes / 3 + 4) {  // base64 grows by 4/3
        xmlTextReaderMoveToElement(r_);
        return here(ErrorCode::limit, "attribute " + std::string(kAtNames[static_cast<std::size_t>(*at)]) +
                                          " longer than " + std::to_string(limits_.max_text_bytes) + " bytes");
      }
      values_[static_cast<std::size_t>(*at)].assign(value);
      seen_ |= bit(*at);
    }
    xmlTextReaderMoveToElement(r_);
    if (rc < 0) return syntax_error();
    return {};
  }

  Field attr(At a) const {
    if ((seen_ & bit(a)) == 0) return std::nullopt;
    return values_[static_cast<std::size_t>(a)];
  }

  Expected<std::string_view> required(Elem e, At a) const {
    if (auto value = attr(a)) return *value;
    return here(ErrorCode::parse,
                tag(e) + " lacks attribute '" + std::string(kAtNames[static_cast<std::size_t>(a)]) + "'");
  }

  // Adds the line number to an error from the shared validation functions.
  template <class T>
  Expected<T> located(Expected<T> result) const {
    if (!result) return here(std::move(result.error()));
    return result;
  }

  Expected<void> on_open(Elem e) {
    switch (e) {
      case Elem::scan: return read_scan();
      case Elem::host: return read_host();
      case Elem::options: return read_options();
      case Elem::root: return read_root();
      case Elem::exclude: return read_exclude();
      case Elem::entries:
        header_.format_version = kScanFormatVersion;
        return notify(visitor_.header, header_);
      case Elem::errors: return {};
      case Elem::summary: return read_summary();
      case Elem::error: error_text_.clear(); return {};
      case Elem::packages: header_.inventory.emplace(); return {};
      case Elem::package: return read_package();
      case Elem::warning: error_text_.clear(); return {};
      case Elem::file:
      case Elem::dir:
      case Elem::symlink:
      case Elem::other: return read_record(e);
    }
    return {};
  }

  Expected<void> on_close(Elem e) {
    if (e == Elem::error) return finish_error();
    if (e == Elem::warning) return finish_warning();
    if (e == Elem::scan) {
      if (last_section_ != Elem::summary)
        return here(ErrorCode::parse, "</scan> before " + (last_section_ ? "the sections after " + tag(*last_section_)
                                                                         : tag(Elem::host)));
      closed_ = true;
    }
    return {};
  }

  Expected<void> read_scan() {
    const auto version = required(Elem::scan, At::version);
    if (!version) return tl::unexpected(version.error());
    if (auto ok = located(check_version(*version)); !ok) return ok;
    if (auto ok = text_field(Elem::scan, At::scanner, "scanner", header_.scanner); !ok) return ok;
    const auto started = required(Elem::scan, At::started);
    if (!started) return tl::unexpected(started.error());
    const auto ns = located(read_timestamp(*started, "started time"));
    if (!ns) return tl::unexpected(ns.error());
    header_.started_ns = *ns;
    return {};
  }

  Expected<void> text_field(Elem e, At a, std::string_view what, std::string& out) {
    const auto value = required(e, a);
    if (!value) return tl::unexpected(value.error());
    auto text = located(read_text(*value, what, limits_));
    if (!text) return tl::unexpected(std::move(text.error()));
    out = std::move(*text);
    return {};
  }

  Expected<void> read_host() {
    HostFacts& h = header_.host;
    const std::pair<At, std::string*> fields[] = {{At::name, &h.hostname},   {At::os_id, &h.os_id},
                                                  {At::os_version, &h.os_version}, {At::os_pretty, &h.os_pretty},
                                                  {At::kernel, &h.kernel},   {At::arch, &h.arch}};
    for (const auto& [at, out] : fields)
      if (auto ok = text_field(Elem::host, at, kAtNames[static_cast<std::size_t>(at)], *out); !ok) return ok;
    return {};
  }

  Expected<void> read_options() {
    const std::pair<At, bool*> fields[] = {{At::one_file_system, &header_.one_file_system},
                                           {At::skip_pseudo_fs, &header_.skip_pseudo_fs}};
    for (const auto& [at, out] : fields) {
      const auto value = required(Elem::options, at);
      if (!value) return tl::unexpected(value.error());
      const auto b = located(read_bool(*value, kAtNames[static_cast<std::size_t>(at)]));
      if (!b) return tl::unexpected(b.error());
      *out = *b;
    }
    return {};
  }

  Expected<void> read_root() {
    auto path = located(read_path(attr(At::path), attr(At::path_b64), "root path", limits_));
    if (!path) return tl::unexpected(std::move(path.error()));
    return located(roots_.add(header_.roots, std::move(*path)));
  }

  Expected<void> read_exclude() {
    auto glob = located(read_glob(attr(At::glob), attr(At::glob_b64), limits_));
    if (!glob) return tl::unexpected(std::move(glob.error()));
    return located(excludes_.add(header_.excludes, std::move(*glob)));
  }

  Expected<void> read_record(Elem e) {
    if (auto ok = located(sequence_.count_record()); !ok) return ok;
    RawRecord raw;
    if (e == Elem::other) {
      const auto kind = required(e, At::kind);
      if (!kind) return tl::unexpected(kind.error());
      // file, dir and symlink have elements of their own: one spelling per record.
      if (*kind == "file" || *kind == "dir" || *kind == "symlink")
        return here(ErrorCode::parse,
                    "<other kind=\"" + std::string(*kind) + "\"> must be written <" + std::string(*kind) + ">");
      raw.type = *kind;
    } else {
      raw.type = name_of(e);
    }
    raw.path = attr(At::path);
    raw.path_b64 = attr(At::path_b64);
    raw.target = attr(At::target);
    raw.target_b64 = attr(At::target_b64);
    raw.size = attr(At::size);
    raw.mode = attr(At::mode);
    raw.uid = attr(At::uid);
    raw.gid = attr(At::gid);
    raw.mtime = attr(At::mtime);
    raw.sha256 = attr(At::sha256);
    auto record = located(make_record(raw, limits_));
    if (!record) return tl::unexpected(std::move(record.error()));
    if (auto ok = located(sequence_.check_order(record->path)); !ok) return ok;
    return notify(visitor_.record, std::move(*record));
  }

  // The attributes of <error> stay in values_ until its end tag: it has no child elements.
  Expected<void> finish_error() {
    if (auto ok = located(sequence_.count_error()); !ok) return ok;
    const auto kind = required(Elem::error, At::kind);
    if (!kind) return tl::unexpected(kind.error());
    const RawError raw{attr(At::path), attr(At::path_b64), *kind, attr(At::err_no), error_text_};
    auto error = located(make_scan_error(raw, limits_));
    if (!error) return tl::unexpected(std::move(error.error()));
    return notify(visitor_.error, std::move(*error));
  }

  // <package name version arch source/>: the packages come before the warnings.
  Expected<void> read_package() {
    if (!header_.inventory->warnings.empty()) return here(ErrorCode::parse, "<package> after a <warning>");
    if (auto ok = located(inventory_count_.count_package()); !ok) return ok;
    RawPackage raw;
    for (const auto& [at, out] : {std::pair{At::name, &raw.name}, std::pair{At::version, &raw.version},
                                  std::pair{At::arch, &raw.arch}, std::pair{At::source, &raw.source}}) {
      const auto value = required(Elem::package, at);
      if (!value) return tl::unexpected(value.error());
      *out = *value;
    }
    auto package = located(make_package(raw));
    if (!package) return tl::unexpected(std::move(package.error()));
    header_.inventory->packages.push_back(std::move(*package));
    return {};
  }

  Expected<void> finish_warning() {
    if (auto ok = located(inventory_count_.count_warning()); !ok) return ok;
    const auto source = required(Elem::warning, At::source);
    if (!source) return tl::unexpected(source.error());
    auto warning = located(make_inventory_warning(*source, error_text_, limits_));
    if (!warning) return tl::unexpected(std::move(warning.error()));
    header_.inventory->warnings.push_back(std::move(*warning));
    return {};
  }

  Expected<void> read_summary() {
    constexpr At kFields[] = {At::finished, At::files,        At::directories, At::symlinks,
                              At::others,   At::bytes_hashed, At::errors,      At::errors_dropped};
    std::array<std::string_view, std::size(kFields)> v;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto value = required(Elem::summary, kFields[i]);
      if (!value) return tl::unexpected(value.error());
      v[i] = *value;
    }
    const auto summary = located(make_summary(RawSummary{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}));
    if (!summary) return tl::unexpected(summary.error());
    return notify(visitor_.summary, *summary);
  }

  xmlTextReaderPtr r_;
  Input& input_;
  const ScanVisitor& visitor_;
  const ReadLimits& limits_;

  std::vector<Elem> open_;              // elements entered and not yet closed (depth <= 3)
  std::optional<Elem> last_section_;    // the latest child of <scan>
  bool closed_ = false;                 // </scan> seen
  AtMask seen_ = 0;                     // attributes of the current element
  std::array<std::string, kAtCount> values_;
  ScanHeader header_;
  RecordSequence sequence_;
  InventoryCount inventory_count_{limits_};
  UniqueList roots_{"root", "roots", limits_.max_roots};
  UniqueList excludes_{"exclude pattern", "exclude patterns", limits_.max_excludes};
  std::string error_text_;              // text of the open <error> or <warning>
  std::optional<Error> libxml_error_;
};

// No substitution, no DTD loading, no network; huge-document protection left on.
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_COMPACT;

Expected<void> read_from(Input& input, const ScanVisitor& visitor, const ReadLimits& limits) {
  // xmlInitParser is not safe to race on first use; a function-local static runs it once.
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;

  std::optional<Error> setup_error;
  LibxmlErrorRoute route(&setup_error, &keep_first_libxml_error);  // errors with no context (libxml_errors.h)
  std::unique_ptr<xmlTextReader, decltype(&xmlFreeTextReader)> reader(
      xmlReaderForIO(read_input, nullptr, &input, nullptr, nullptr, kParseOptions), xmlFreeTextReader);
  if (!reader) {
    if (input.error) return tl::unexpected(*input.error);
    if (setup_error) return fail(ErrorCode::parse, "XML: " + setup_error->message);
    return fail(ErrorCode::parse, "could not start the XML reader (empty document?)");
  }
  XmlScanReader scan_reader(reader.get(), input, visitor, limits);
  if (setup_error) return fail(ErrorCode::parse, "XML: " + setup_error->message);
  xmlTextReaderSetStructuredErrorHandler(reader.get(), &XmlScanReader::on_libxml_error, &scan_reader);
  route.to(&scan_reader, &XmlScanReader::on_libxml_error);
  auto result = scan_reader.run();
  // scan_reader goes before the reader is freed: nothing may point at it by then.
  route.to(&setup_error, &keep_first_libxml_error);
  return result;
}

}  // namespace

Expected<void> read_scan_xml(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits) {
  XmlGuard guard(limits);
  Input input;
  input.source = &source;
  input.max = limits.max_document_bytes;
  input.guard = &guard;
  return read_from(input, visitor, limits);
}

Expected<void> read_scan_xml(std::string_view document, const ScanVisitor& visitor, const ReadLimits& limits) {
  if (document.size() > limits.max_document_bytes)
    return fail(ErrorCode::limit, "document larger than " + std::to_string(limits.max_document_bytes) + " bytes");
  MemorySource source(document);
  return read_scan_xml(source, visitor, limits);
}

Expected<void> read_scan_xml_file(const std::string& path, const ScanVisitor& visitor, const ReadLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                "cannot open " + excerpt(path, 256) + ": " + std::system_category().message(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  FdSource source(fd, 0, excerpt(path, 256));
  return read_scan_xml(source, visitor, limits);
}

}  // namespace tb
