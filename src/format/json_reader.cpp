// The JSON scan reader. nlohmann's parser builds a DOM (acceptable for JSON uploads for
// now; the XML reader is the streaming path), with a depth guard so hostile nesting
// stops at once. Every value then goes through the same validation as the XML reader
// (reader_support.h). Numbers are handed over in their JSON spelling, so "-1" or "1.5"
// for a size fails with the same message as in XML.
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "format/encoding.h"
#include "format/reader_support.h"
#include "format/scan_reader.h"

namespace tb {

namespace {

using json = nlohmann::json;

// Deepest container a scan document has: entries (1) -> entry object (2).
constexpr int kMaxContainerDepth = 2;

struct TooDeep {};  // thrown by the parser callback, caught below: never leaves this file

tl::unexpected<Error> invalid(const std::string& where, std::string message) {
  return fail(ErrorCode::parse, where + ": " + std::move(message));
}

template <class T>
Expected<T> within(const std::string& where, Expected<T> result) {
  if (!result) return fail(result.error().code, where + ": " + result.error().message);
  return result;
}

const char* json_type(const json& v) { return v.type_name(); }

// Checks that `value` is an object with no member outside `allowed`: version 1 has
// exactly these, and a typo must not silently drop data.
Expected<void> check_object(const json& value, std::initializer_list<std::string_view> allowed, const std::string& where) {
  if (!value.is_object()) return invalid(where, std::string("expected an object, found ") + json_type(value));
  for (const auto& [key, member] : value.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return invalid(where, "unexpected member " + excerpt(key));
  }
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

Expected<const json*> required_array(const json& obj, const char* key, const std::string& where) {
  auto v = required(obj, key, where);
  if (v && !(*v)->is_array()) return invalid(where, std::string("'") + key + "' must be an array");
  return v;
}

class JsonScanReader {
 public:
  JsonScanReader(const ScanVisitor& visitor, const ReadLimits& limits)
      : visitor_(visitor), limits_(limits), sequence_(limits) {}

  Expected<void> run(const json& root) {
    const std::string where = "document";
    if (auto ok = check_object(root, {"format", "version", "scanner", "started", "host", "options", "roots",
                                      "excludes", "entries", "errors", "summary"},
                               where);
        !ok)
      return ok;
    auto format = required_string(root, "format", where);
    if (!format) return tl::unexpected(format.error());
    if (*format != "trustbase-scan") return invalid(where, "not a trustbase scan document (format " + excerpt(*format) + ")");
    std::string storage;
    auto version = number_member(root, "version", storage, where);
    if (!version) return tl::unexpected(version.error());
    if (!*version) return invalid(where, "missing member 'version'");
    if (auto ok = within(where, check_version(**version)); !ok) return ok;

    if (auto ok = read_header(root); !ok) return ok;
    if (auto ok = notify(visitor_.header, header_); !ok) return ok;
    if (auto ok = read_entries(root); !ok) return ok;
    if (auto ok = read_errors(root); !ok) return ok;
    return read_summary(root);
  }

 private:
  Expected<void> read_header(const json& root) {
    const std::string where = "document";
    header_.format_version = kScanFormatVersion;
    if (auto ok = text(root, "scanner", where, header_.scanner); !ok) return ok;
    auto started = required_string(root, "started", where);
    if (!started) return tl::unexpected(started.error());
    auto ns = within(where, read_timestamp(*started, "started time"));
    if (!ns) return tl::unexpected(ns.error());
    header_.started_ns = *ns;
    if (auto ok = read_host(root); !ok) return ok;
    if (auto ok = read_options(root); !ok) return ok;
    return read_roots_and_excludes(root);
  }

  Expected<void> text(const json& obj, const char* key, const std::string& where, std::string& out) {
    auto value = required_string(obj, key, where);
    if (!value) return tl::unexpected(value.error());
    auto t = within(where, read_text(*value, key, limits_));
    if (!t) return tl::unexpected(t.error());
    out = std::move(*t);
    return {};
  }

  Expected<void> read_host(const json& root) {
    auto host = required(root, "host", "document");
    if (!host) return tl::unexpected(host.error());
    const std::string where = "host";
    if (auto ok = check_object(**host, {"name", "os_id", "os_version", "os_pretty", "kernel", "arch"}, where); !ok)
      return ok;
    HostFacts& h = header_.host;
    const std::pair<const char*, std::string*> fields[] = {{"name", &h.hostname},     {"os_id", &h.os_id},
                                                           {"os_version", &h.os_version}, {"os_pretty", &h.os_pretty},
                                                           {"kernel", &h.kernel},     {"arch", &h.arch}};
    for (const auto& [key, out] : fields)
      if (auto ok = text(**host, key, where, *out); !ok) return ok;
    return {};
  }

  Expected<void> read_options(const json& root) {
    auto options = required(root, "options", "document");
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

  Expected<void> read_roots_and_excludes(const json& root) {
    auto roots = required_array(root, "roots", "document");
    if (!roots) return tl::unexpected(roots.error());
    if ((*roots)->empty()) return invalid("document", "a scan needs at least one root");
    for (std::size_t i = 0; i < (*roots)->size(); ++i) {
      const std::string where = "roots[" + std::to_string(i) + "]";
      const json& item = (**roots)[i];
      if (auto ok = check_object(item, {"path", "path_b64"}, where); !ok) return ok;
      auto plain = string_member(item, "path", where);
      auto b64 = string_member(item, "path_b64", where);
      if (!plain || !b64) return tl::unexpected(!plain ? plain.error() : b64.error());
      auto path = within(where, read_path(*plain, *b64, "root path", limits_));
      if (!path) return tl::unexpected(path.error());
      header_.roots.push_back(std::move(*path));
    }
    auto excludes = required_array(root, "excludes", "document");
    if (!excludes) return tl::unexpected(excludes.error());
    for (std::size_t i = 0; i < (*excludes)->size(); ++i) {
      const std::string where = "excludes[" + std::to_string(i) + "]";
      const json& item = (**excludes)[i];
      if (auto ok = check_object(item, {"glob", "glob_b64"}, where); !ok) return ok;
      auto plain = string_member(item, "glob", where);
      auto b64 = string_member(item, "glob_b64", where);
      if (!plain || !b64) return tl::unexpected(!plain ? plain.error() : b64.error());
      auto glob = within(where, read_glob(*plain, *b64, limits_));
      if (!glob) return tl::unexpected(glob.error());
      header_.excludes.push_back(std::move(*glob));
    }
    return {};
  }

  Expected<void> read_entries(const json& root) {
    auto entries = required_array(root, "entries", "document");
    if (!entries) return tl::unexpected(entries.error());
    for (std::size_t i = 0; i < (*entries)->size(); ++i) {
      const std::string where = "entries[" + std::to_string(i) + "]";
      if (auto ok = within(where, sequence_.count_record()); !ok) return ok;
      auto record = read_entry((**entries)[i], where);
      if (!record) return tl::unexpected(record.error());
      if (auto ok = within(where, sequence_.check_order(record->path)); !ok) return ok;
      if (auto ok = notify(visitor_.record, std::move(*record)); !ok) return ok;
    }
    return {};
  }

  Expected<FileRecord> read_entry(const json& item, const std::string& where) {
    if (auto ok = check_object(item, {"type", "path", "path_b64", "target", "target_b64", "size", "mode", "uid",
                                      "gid", "mtime", "sha256"},
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
    return within(where, make_record(raw, limits_));
  }

  Expected<void> read_errors(const json& root) {
    auto errors = required_array(root, "errors", "document");
    if (!errors) return tl::unexpected(errors.error());
    for (std::size_t i = 0; i < (*errors)->size(); ++i) {
      const std::string where = "errors[" + std::to_string(i) + "]";
      if (auto ok = within(where, sequence_.count_error()); !ok) return ok;
      const json& item = (**errors)[i];
      if (auto ok = check_object(item, {"path", "path_b64", "kind", "errno", "message"}, where); !ok) return ok;
      auto plain = string_member(item, "path", where);
      auto b64 = string_member(item, "path_b64", where);
      auto kind = required_string(item, "kind", where);
      auto message = required_string(item, "message", where);
      std::string errno_text;
      auto err_no = number_member(item, "errno", errno_text, where);
      for (const auto* status : {&plain, &b64, &err_no})
        if (!*status) return tl::unexpected(status->error());
      if (!kind) return tl::unexpected(kind.error());
      if (!message) return tl::unexpected(message.error());
      auto error = within(where, make_scan_error(RawError{*plain, *b64, *kind, *err_no, *message}, limits_));
      if (!error) return tl::unexpected(error.error());
      if (auto ok = notify(visitor_.error, std::move(*error)); !ok) return ok;
    }
    return {};
  }

  Expected<void> read_summary(const json& root) {
    auto summary = required(root, "summary", "document");
    if (!summary) return tl::unexpected(summary.error());
    const std::string where = "summary";
    const json& s = **summary;
    if (auto ok = check_object(s, {"finished", "files", "directories", "symlinks", "others", "bytes_hashed",
                                   "errors", "errors_dropped"},
                               where);
        !ok)
      return ok;
    auto finished = required_string(s, "finished", where);
    if (!finished) return tl::unexpected(finished.error());
    constexpr const char* kCounts[] = {"files", "directories", "symlinks", "others", "bytes_hashed", "errors", "errors_dropped"};
    std::array<std::string, std::size(kCounts)> text;
    for (std::size_t i = 0; i < text.size(); ++i) {
      auto field = number_member(s, kCounts[i], text[i], where);
      if (!field) return tl::unexpected(field.error());
      if (!*field) return invalid(where, std::string("missing member '") + kCounts[i] + "'");
    }
    auto parsed = within(where, make_summary(RawSummary{*finished, text[0], text[1], text[2], text[3], text[4], text[5], text[6]}));
    if (!parsed) return tl::unexpected(parsed.error());
    return notify(visitor_.summary, *parsed);
  }

  const ScanVisitor& visitor_;
  const ReadLimits& limits_;
  RecordSequence sequence_;
  ScanHeader header_;
};

Expected<json> parse_json(std::string_view document) {
  // Stops hostile nesting during the parse, before any deep structure is built.
  const json::parser_callback_t depth_guard = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth > kMaxContainerDepth)
      throw TooDeep{};
    return true;
  };
  try {
    return json::parse(document.begin(), document.end(), depth_guard);
  } catch (const json::parse_error& e) {
    const std::string_view what = e.what();
    return fail(ErrorCode::parse, "JSON: " + sanitize_text(what.substr(0, 300)));
  } catch (const TooDeep&) {
    return fail(ErrorCode::parse, "JSON: nested deeper than a scan document can be");
  } catch (const json::exception& e) {
    return fail(ErrorCode::parse, "JSON: " + sanitize_text(std::string_view(e.what()).substr(0, 300)));
  }
}

}  // namespace

Expected<void> read_scan_json(std::string_view document, const ScanVisitor& visitor, const ReadLimits& limits) {
  if (document.size() > limits.max_document_bytes)
    return fail(ErrorCode::limit, "document larger than " + std::to_string(limits.max_document_bytes) + " bytes");
  const auto root = parse_json(document);
  if (!root) return tl::unexpected(root.error());
  JsonScanReader reader(visitor, limits);
  return reader.run(*root);
}

}  // namespace tb
