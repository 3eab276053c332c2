// The JSON scan reader: streaming, like the XML reader. nlohmann's SAX parser feeds a
// small handler that builds a DOM only for one piece at a time (a header member, one
// entry, one error), validates it with the functions shared with the XML reader
// (reader_support.h) and hands it to the visitor. So memory stays flat, nesting is
// bounded as it is read, and duplicate members are caught (a DOM would silently keep
// the last one).
//
// Streaming needs an order: every header member comes before "entries", then
// "errors", then "summary" (the order the writer uses). Numbers are handed to the
// shared validation in their JSON spelling, so -1 or 1.5 for a size fails with the same
// message as in XML.
#include <algorithm>
#include <array>
#include <initializer_list>
#include <istream>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/byte_source.h"
#include "format/encoding.h"
#include "format/reader_support.h"
#include "format/scan_reader.h"

namespace tb {

namespace {

using json = nlohmann::json;

// Deepest nesting of a scan document: root object (1) -> entries (2) -> entry (3).
constexpr int kMaxDepth = 3;

constexpr std::array<std::string_view, 8> kHeaderMembers = {"format", "version", "scanner", "started",
                                                            "host",   "options", "roots",   "excludes"};
// Header members a document may leave out: the package inventory (warnings only with it).
constexpr std::array<std::string_view, 2> kOptionalHeaderMembers = {"packages", "package_warnings"};

tl::unexpected<Error> invalid(const std::string& where, std::string message) {
  return fail(ErrorCode::parse, where + ": " + std::move(message));
}

template <class T>
Expected<T> within(const std::string& where, Expected<T> result) {
  if (!result) return fail(result.error().code, where + ": " + result.error().message);
  return result;
}

const char* json_type(const json& v) { return v.type_name(); }

// ---- typed access to one captured piece ------------------------------------------------

// Checks that `value` is an object with no member outside `allowed`: version 1 has
// exactly these, and a typo must not silently drop data.
Expected<void> check_object(const json& value, std::initializer_list<std::string_view> allowed,
                            const std::string& where) {
  if (!value.is_object()) return invalid(where, std::string("expected an object, found ") + json_type(value));
  for (const auto& [key, member] : value.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return invalid(where, "unexpected member " + excerpt(key));
  return {};
}

Expected<const json*> required(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) return invalid(where, std::string("missing member '") + key + "'");
  return &*it;
}

// A string member's text; nullopt when absent.
Expected<Field> string_member(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) return Field{};
  if (!it->is_string()) return invalid(where, std::string("'") + key + "' must be a string, found " + json_type(*it));
  return Field{it->get_ref<const std::string&>()};
}

Expected<std::string_view> required_string(const json& obj, const char* key, const std::string& where) {
  auto field = string_member(obj, key, where);
  if (!field) return tl::unexpected(field.error());
  if (!*field) return invalid(where, std::string("missing member '") + key + "'");
  return **field;
}

// A number member in its JSON spelling (kept in `storage`); nullopt when absent.
Expected<Field> number_member(const json& obj, const char* key, std::string& storage, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) return Field{};
  if (!it->is_number()) return invalid(where, std::string("'") + key + "' must be a number, found " + json_type(*it));
  storage = it->dump();
  return Field{storage};
}

Expected<bool> bool_member(const json& obj, const char* key, const std::string& where) {
  auto v = required(obj, key, where);
  if (!v) return tl::unexpected(v.error());
  if (!(*v)->is_boolean()) return invalid(where, std::string("'") + key + "' must be true or false");
  return (*v)->get<bool>();
}

// ---- validation of the pieces ----------------------------------------------------------

// The header from the members collected before "entries" (`members` is an object).
class HeaderBuilder {
 public:
  explicit HeaderBuilder(const ReadLimits& limits) : limits_(limits) {}

  Expected<ScanHeader> build(const json& members) {
    const std::string where = "document";
    auto format = required_string(members, "format", where);
    if (!format) return tl::unexpected(format.error());
    if (*format != "trustbase-scan")
      return invalid(where, "not a trustbase scan document (format " + excerpt(*format) + ")");
    std::string storage;
    auto version = number_member(members, "version", storage, where);
    if (!version) return tl::unexpected(version.error());
    if (!*version) return invalid(where, "missing member 'version'");
    if (auto ok = within(where, check_version(**version)); !ok) return tl::unexpected(ok.error());

    header_.format_version = kScanFormatVersion;
    if (auto ok = text(members, "scanner", where, header_.scanner); !ok) return tl::unexpected(ok.error());
    auto started = required_string(members, "started", where);
    if (!started) return tl::unexpected(started.error());
    auto ns = within(where, read_timestamp(*started, "started time"));
    if (!ns) return tl::unexpected(ns.error());
    header_.started_ns = *ns;
    for (auto step : {&HeaderBuilder::read_host, &HeaderBuilder::read_options, &HeaderBuilder::read_roots,
                      &HeaderBuilder::read_excludes, &HeaderBuilder::read_inventory})
      if (auto ok = (this->*step)(members); !ok) return tl::unexpected(ok.error());
    return std::move(header_);
  }

 private:
  Expected<void> text(const json& obj, const char* key, const std::string& where, std::string& out) {
    auto value = required_string(obj, key, where);
    if (!value) return tl::unexpected(value.error());
    auto t = within(where, read_text(*value, key, limits_));
    if (!t) return tl::unexpected(t.error());
    out = std::move(*t);
    return {};
  }

  Expected<void> read_host(const json& members) {
    auto host = required(members, "host", "document");
    if (!host) return tl::unexpected(host.error());
    const std::string where = "host";
    if (auto ok = check_object(**host, {"name", "os_id", "os_version", "os_pretty", "kernel", "arch"}, where); !ok)
      return ok;
    HostFacts& h = header_.host;
    const std::pair<const char*, std::string*> fields[] = {{"name", &h.hostname},         {"os_id", &h.os_id},
                                                           {"os_version", &h.os_version}, {"os_pretty", &h.os_pretty},
                                                           {"kernel", &h.kernel},         {"arch", &h.arch}};
    for (const auto& [key, out] : fields)
      if (auto ok = text(**host, key, where, *out); !ok) return ok;
    return {};
  }

  Expected<void> read_options(const json& members) {
    auto options = required(members, "options", "document");
    if (!options) return tl::unexpected(options.error());
    const std::string where = "options";
    if (auto ok = check_object(**options, {"one_file_system", "skip_pseudo_fs"}, where); !ok) return ok;
    auto one_fs = bool_member(**options, "one_file_system", where);
    if (!one_fs) return tl::unexpected(one_fs.error());
    auto skip = bool_member(**options, "skip_pseudo_fs", where);
    if (!skip) return tl::unexpected(skip.error());
    header_.one_file_system = *one_fs;
    header_.skip_pseudo_fs = *skip;
    return {};
  }

  // [{"<key>": text} or {"<key>_b64": base64}, ...] read by `read_one`.
  template <class ReadOne>
  Expected<void> read_list(const json& members, const char* name, const char* key, const char* key_b64,
                           std::vector<std::string>& out, UniqueList unique, ReadOne read_one) {
    auto list = required(members, name, "document");
    if (!list) return tl::unexpected(list.error());
    if (!(*list)->is_array()) return invalid("document", std::string("'") + name + "' must be an array");
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const std::string where = std::string(name) + "[" + std::to_string(i) + "]";
      const json& item = (**list)[i];
      if (auto ok = check_object(item, {key, key_b64}, where); !ok) return ok;
      auto plain = string_member(item, key, where);
      if (!plain) return tl::unexpected(plain.error());
      auto b64 = string_member(item, key_b64, where);
      if (!b64) return tl::unexpected(b64.error());
      auto value = within(where, read_one(*plain, *b64));
      if (!value) return tl::unexpected(value.error());
      if (auto ok = within(where, unique.add(out, std::move(*value))); !ok) return ok;
    }
    return {};
  }

  Expected<void> read_roots(const json& members) {
    auto ok =
        read_list(members, "roots", "path", "path_b64", header_.roots, UniqueList("root", "roots", limits_.max_roots),
                  [&](Field plain, Field b64) { return read_path(plain, b64, "root path", limits_); });
    if (ok && header_.roots.empty()) return invalid("document", "a scan needs at least one root");
    return ok;
  }

  Expected<void> read_excludes(const json& members) {
    return read_list(members, "excludes", "glob", "glob_b64", header_.excludes,
                     UniqueList("exclude pattern", "exclude patterns", limits_.max_excludes),
                     [&](Field plain, Field b64) { return read_glob(plain, b64, limits_); });
  }

  // "packages": [{"name","version","arch","source"}...], "package_warnings": [{"source","message"}...].
  // The SAX handler has already bounded the number of packages while capturing them.
  Expected<void> read_inventory(const json& members) {
    const auto packages = members.find("packages");
    const auto warnings = members.find("package_warnings");
    if (packages == members.end()) {
      if (warnings != members.end()) return invalid("document", "'package_warnings' without 'packages'");
      return {};
    }
    if (!packages->is_array()) return invalid("document", "'packages' must be an array");
    PackageInventory& inv = header_.inventory.emplace();
    InventoryCount count(limits_);
    for (std::size_t i = 0; i < packages->size(); ++i) {
      const std::string where = "packages[" + std::to_string(i) + "]";
      const json& item = (*packages)[i];
      if (auto ok = check_object(item, {"name", "version", "arch", "source"}, where); !ok) return ok;
      RawPackage raw;
      for (const auto& [key, out] : {std::pair{"name", &raw.name}, std::pair{"version", &raw.version},
                                     std::pair{"arch", &raw.arch}, std::pair{"source", &raw.source}}) {
        auto value = required_string(item, key, where);
        if (!value) return tl::unexpected(value.error());
        *out = *value;
      }
      if (auto ok = within(where, count.count_package()); !ok) return ok;
      auto package = within(where, make_package(raw));
      if (!package) return tl::unexpected(package.error());
      inv.packages.push_back(std::move(*package));
    }
    if (warnings == members.end()) return {};
    if (!warnings->is_array()) return invalid("document", "'package_warnings' must be an array");
    for (std::size_t i = 0; i < warnings->size(); ++i) {
      const std::string where = "package_warnings[" + std::to_string(i) + "]";
      const json& item = (*warnings)[i];
      if (auto ok = check_object(item, {"source", "message"}, where); !ok) return ok;
      auto source = required_string(item, "source", where);
      if (!source) return tl::unexpected(source.error());
      auto message = required_string(item, "message", where);
      if (!message) return tl::unexpected(message.error());
      if (auto ok = within(where, count.count_warning()); !ok) return ok;
      auto warning = within(where, make_inventory_warning(*source, *message, limits_));
      if (!warning) return tl::unexpected(warning.error());
      inv.warnings.push_back(std::move(*warning));
    }
    return {};
  }

  const ReadLimits& limits_;
  ScanHeader header_;
};

Expected<FileRecord> read_entry(const json& item, const std::string& where, const ReadLimits& limits) {
  if (auto ok = check_object(item, {"type", "path", "path_b64", "target", "target_b64", "size", "mode", "uid", "gid",
                                    "mtime", "sha256"},
                             where);
      !ok)
    return tl::unexpected(ok.error());
  RawRecord raw;
  auto type = required_string(item, "type", where);
  if (!type) return tl::unexpected(type.error());
  raw.type = *type;
  const std::pair<const char*, Field*> strings[] = {{"path", &raw.path},     {"path_b64", &raw.path_b64},
                                                    {"target", &raw.target}, {"target_b64", &raw.target_b64},
                                                    {"mode", &raw.mode},     {"mtime", &raw.mtime},
                                                    {"sha256", &raw.sha256}};
  for (const auto& [key, out] : strings) {
    auto field = string_member(item, key, where);
    if (!field) return tl::unexpected(field.error());
    *out = *field;
  }
  std::string size_text, uid_text, gid_text;
  const std::tuple<const char*, Field*, std::string*> numbers[] = {
      {"size", &raw.size, &size_text}, {"uid", &raw.uid, &uid_text}, {"gid", &raw.gid, &gid_text}};
  for (const auto& [key, out, storage] : numbers) {
    auto field = number_member(item, key, *storage, where);
    if (!field) return tl::unexpected(field.error());
    *out = *field;
  }
  return within(where, make_record(raw, limits));
}

Expected<ScanError> read_error(const json& item, const std::string& where, const ReadLimits& limits) {
  if (auto ok = check_object(item, {"path", "path_b64", "kind", "errno", "message"}, where); !ok)
    return tl::unexpected(ok.error());
  auto plain = string_member(item, "path", where);
  if (!plain) return tl::unexpected(plain.error());
  auto b64 = string_member(item, "path_b64", where);
  if (!b64) return tl::unexpected(b64.error());
  auto kind = required_string(item, "kind", where);
  if (!kind) return tl::unexpected(kind.error());
  auto message = required_string(item, "message", where);
  if (!message) return tl::unexpected(message.error());
  std::string errno_text;
  auto err_no = number_member(item, "errno", errno_text, where);
  if (!err_no) return tl::unexpected(err_no.error());
  return within(where, make_scan_error(RawError{*plain, *b64, *kind, *err_no, *message}, limits));
}

Expected<ScanSummary> read_summary(const json& s) {
  const std::string where = "summary";
  if (auto ok = check_object(s, {"finished", "files", "directories", "symlinks", "others", "bytes_hashed", "errors",
                                 "errors_dropped"},
                             where);
      !ok)
    return tl::unexpected(ok.error());
  auto finished = required_string(s, "finished", where);
  if (!finished) return tl::unexpected(finished.error());
  constexpr const char* kCounts[] = {"files",        "directories", "symlinks",      "others",
                                     "bytes_hashed", "errors",      "errors_dropped"};
  std::array<std::string, std::size(kCounts)> text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto field = number_member(s, kCounts[i], text[i], where);
    if (!field) return tl::unexpected(field.error());
    if (!*field) return invalid(where, std::string("missing member '") + kCounts[i] + "'");
  }
  return within(where,
                make_summary(RawSummary{*finished, text[0], text[1], text[2], text[3], text[4], text[5], text[6]}));
}

// ---- the streaming handler -------------------------------------------------------------

// Receives nlohmann's SAX events. The root object and the "entries" / "errors" arrays
// are streamed; every other value (a header member, one array element, the summary) is
// captured into a small DOM and processed when it is complete. Returning false stops
// the parser; error_ says why.
class ScanSax final : public nlohmann::json_sax<json> {
 public:
  ScanSax(const ScanVisitor& visitor, const ReadLimits& limits)
      : visitor_(visitor), limits_(limits), sequence_(limits), header_members_(json::object()) {}

  // The outcome once sax_parse has returned.
  Expected<void> result(bool parsed) const {
    if (error_) return tl::unexpected(*error_);
    if (!parsed) return fail(ErrorCode::parse, "JSON: malformed document");
    if (!done_) return fail(ErrorCode::parse, "JSON: document ended early");
    return {};
  }

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool value) override { return scalar(json(value)); }
  bool number_integer(number_integer_t value) override { return scalar(json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return scalar(json(value)); }
  bool number_float(number_float_t value, const string_t&) override { return scalar(json(value)); }
  bool string(string_t& value) override { return scalar(json(std::move(value))); }
  bool binary(binary_t&) override { return stop(invalid("document", "binary values are not allowed")); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) {  // the root object: streamed
      depth_ = 1;
      return true;
    }
    return open_container(json::object());
  }

  bool start_array(std::size_t) override {
    if (depth_ == 1 && stack_.empty() && (member_ == "entries" || member_ == "errors")) {
      depth_ = 2;
      streaming_ = member_;
      index_ = 0;
      return true;
    }
    if (depth_ == 0) return stop(invalid("document", "a scan document is a JSON object, not an array"));
    return open_container(json::array());
  }

  bool key(string_t& name) override {
    if (!stack_.empty()) {
      json& object = *stack_.back();
      if (object.size() >= limits_.max_attributes)
        return stop(fail(ErrorCode::limit,
                         where() + ": more than " + std::to_string(limits_.max_attributes) + " members in one object"));
      if (object.contains(name)) return stop(invalid(where(), "duplicate member " + excerpt(name)));
      pending_ = &object[name];
      return true;
    }
    return root_key(name);
  }

  bool end_object() override {
    if (!stack_.empty()) return close_container();
    depth_ = 0;
    return finish_root();
  }

  bool end_array() override {
    if (!stack_.empty()) return close_container();
    depth_ = 1;  // end of "entries" or "errors"
    streaming_.clear();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const json::exception& ex) override {
    // nlohmann's message gives line, column and the last token (sanitized: it is input).
    return stop(fail(ErrorCode::parse, "JSON: " + sanitize_text(std::string_view(ex.what()).substr(0, 300))));
  }

 private:
  bool stop(tl::unexpected<Error> error) {
    if (!error_) error_ = std::move(error.value());
    return false;
  }
  bool check(const Expected<void>& ok) { return ok ? true : stop(tl::unexpected(ok.error())); }

  std::string where() const {
    if (!streaming_.empty()) return streaming_ + "[" + std::to_string(index_) + "]";
    return member_.empty() ? std::string("document") : member_;
  }

  // A member of the root object: known, not repeated, and in streaming order.
  bool root_key(const std::string& name) {
    const bool header = std::find(kHeaderMembers.begin(), kHeaderMembers.end(), name) != kHeaderMembers.end() ||
                        std::find(kOptionalHeaderMembers.begin(), kOptionalHeaderMembers.end(), name) !=
                            kOptionalHeaderMembers.end();
    if (!header && name != "entries" && name != "errors" && name != "summary")
      return stop(invalid("document", "unexpected member " + excerpt(name)));
    if (std::find(seen_.begin(), seen_.end(), name) != seen_.end())
      return stop(invalid("document", "duplicate member " + excerpt(name)));
    seen_.push_back(name);
    if (header && header_sent_) return stop(invalid("document", "'" + name + "' must come before 'entries'"));
    if (name == "entries") {
      for (std::string_view member : kHeaderMembers)
        if (!has(member)) return stop(invalid("document", "'" + std::string(member) + "' missing before 'entries'"));
      if (!send_header()) return false;
    }
    if (name == "errors" && !has("entries")) return stop(invalid("document", "'errors' must come after 'entries'"));
    if (name == "summary" && !has("errors")) return stop(invalid("document", "'summary' must come after 'errors'"));
    member_ = name;
    return true;
  }

  bool has(std::string_view name) const { return std::find(seen_.begin(), seen_.end(), name) != seen_.end(); }

  bool send_header() {
    auto header = HeaderBuilder(limits_).build(header_members_);
    if (!header) return stop(tl::unexpected(header.error()));
    header_sent_ = true;
    return check(notify(visitor_.header, *header));
  }

  bool open_container(json empty) {
    if (++depth_ > kMaxDepth) return stop(invalid(where(), "nested deeper than a scan document can be"));
    if (!room()) return false;
    if (stack_.empty()) {
      capture_ = std::move(empty);
      stack_.push_back(&capture_);
      return true;
    }
    stack_.push_back(place(std::move(empty)));
    return true;
  }

  bool close_container() {
    --depth_;
    stack_.pop_back();
    if (!stack_.empty()) return true;
    return complete(std::move(capture_));
  }

  // A piece is captured whole before it is checked: bound each array while it grows, the
  // header's lists by their own limits, any other by max_attributes (objects are bounded
  // by key()). Called before a value goes into the innermost open container.
  bool room() {
    if (stack_.empty() || !stack_.back()->is_array()) return true;
    std::size_t max = limits_.max_attributes;
    if (stack_.size() == 1 && streaming_.empty()) {
      if (member_ == "packages") max = limits_.max_packages;
      if (member_ == "package_warnings") max = kMaxInventoryWarnings;
      if (member_ == "roots") max = limits_.max_roots;
      if (member_ == "excludes") max = limits_.max_excludes;
    }
    if (stack_.back()->size() < max) return true;
    return stop(fail(ErrorCode::limit, where() + ": more than " + std::to_string(max) + " items"));
  }

  bool scalar(json value) {
    if (!room()) return false;
    if (!stack_.empty()) {
      place(std::move(value));
      return true;
    }
    if (depth_ == 0) return stop(invalid("document", "a scan document is a JSON object"));
    return complete(std::move(value));
  }

  // Stores a value inside the piece being captured; returns where it went.
  json* place(json value) {
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    *pending_ = std::move(value);
    return pending_;
  }

  // A whole value at depth 1 (a root member) or 2 (an element of entries / errors).
  bool complete(json value) {
    if (streaming_ == "entries") return entry(value);
    if (streaming_ == "errors") return error(value);
    if (member_ == "entries" || member_ == "errors")
      return stop(invalid("document", "'" + member_ + "' must be an array"));
    if (member_ == "summary") return summary(value);
    header_members_[member_] = std::move(value);
    return true;
  }

  bool entry(const json& item) {
    const std::string at = where();
    ++index_;
    if (!check(within(at, sequence_.count_record()))) return false;
    auto record = read_entry(item, at, limits_);
    if (!record) return stop(tl::unexpected(record.error()));
    if (!check(within(at, sequence_.check_order(record->path)))) return false;
    return check(notify(visitor_.record, std::move(*record)));
  }

  bool error(const json& item) {
    const std::string at = where();
    ++index_;
    if (!check(within(at, sequence_.count_error()))) return false;
    auto error = read_error(item, at, limits_);
    if (!error) return stop(tl::unexpected(error.error()));
    return check(notify(visitor_.error, std::move(*error)));
  }

  bool summary(const json& value) {
    auto s = read_summary(value);
    if (!s) return stop(tl::unexpected(s.error()));
    return check(notify(visitor_.summary, *s));
  }

  bool finish_root() {
    if (!header_sent_ && !send_header()) return false;  // reports a missing header member first
    for (const char* name : {"entries", "errors", "summary"})
      if (!has(name)) return stop(invalid("document", std::string("missing member '") + name + "'"));
    done_ = true;
    return true;
  }

  const ScanVisitor& visitor_;
  const ReadLimits& limits_;
  RecordSequence sequence_;

  int depth_ = 0;                  // open containers, the root object included
  std::string member_;             // the current member of the root object
  std::vector<std::string> seen_;  // root members seen so far (a dozen at most)
  std::string streaming_;          // "entries" or "errors" while inside that array
  std::size_t index_ = 0;          // position in the streamed array
  json header_members_;            // captured header members, until "entries"
  bool header_sent_ = false;
  bool done_ = false;

  json capture_;                   // the piece being captured
  std::vector<json*> stack_;       // its open containers (innermost last)
  json* pending_ = nullptr;        // the slot named by the latest key

  std::optional<Error> error_;
};

// A std::streambuf over a ByteSource, for nlohmann's stream input: one buffer refilled
// from the source, the byte count checked against the document limit. A source error
// ends the stream (the parser then sees a truncated document); error() says why.
class SourceStreamBuf final : public std::streambuf {
 public:
  SourceStreamBuf(ByteSource& source, std::size_t max) : source_(source), max_(max), buffer_(64 * 1024, '\0') {}
  const std::optional<Error>& error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (error_) return traits_type::eof();
    auto got = source_.read(buffer_.data(), buffer_.size());
    if (!got) {
      error_ = std::move(got.error());
      return traits_type::eof();
    }
    total_ += *got;
    if (total_ > max_) {
      error_ = Error(ErrorCode::limit, "document larger than " + std::to_string(max_) + " bytes");
      return traits_type::eof();
    }
    if (*got == 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + *got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  ByteSource& source_;
  std::size_t max_;
  std::size_t total_ = 0;
  std::string buffer_;
  std::optional<Error> error_;
};

}  // namespace

Expected<void> read_scan_json(std::string_view document, const ScanVisitor& visitor, const ReadLimits& limits) {
  if (document.size() > limits.max_document_bytes)
    return fail(ErrorCode::limit, "document larger than " + std::to_string(limits.max_document_bytes) + " bytes");
  ScanSax handler(visitor, limits);
  const bool parsed = json::sax_parse(document.begin(), document.end(), &handler);
  return handler.result(parsed);
}

Expected<void> read_scan_json(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits) {
  SourceStreamBuf buffer(source, limits.max_document_bytes);
  std::istream stream(&buffer);
  ScanSax handler(visitor, limits);
  const bool parsed = json::sax_parse(stream, &handler);
  // The source's own failure is the real cause behind the parser's "unexpected end".
  if (buffer.error()) return tl::unexpected(*buffer.error());
  return handler.result(parsed);
}

}  // namespace tb
