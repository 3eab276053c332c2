// Internals shared by the XML and JSON readers (not part of the module's interface):
// the one place where the strings of an untrusted document become model values.
// Both readers hand their attribute / member strings to these functions, so the two
// formats accept exactly the same values and report them with the same messages.
//
// Error codes: ErrorCode::limit when a ReadLimits bound (or a PathLimits bound) is
// exceeded, ErrorCode::parse for every other invalid value. Messages name the field
// and quote a short sanitized excerpt of the offending value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/scan_document.h"
#include "format/scan_reader.h"

namespace tb {

// An optional field as the document spells it; nullopt when the document left it out.
using Field = std::optional<std::string_view>;

// One entry of the document, before validation.
struct RawRecord {
  std::string_view type;  // a FileType name: "file", "dir", "symlink", "chardev", ...
  Field path, path_b64;   // exactly one of the two
  Field target, target_b64;
  Field size, mode, uid, gid, mtime, sha256;
};
// Validates every field and sets `present` to exactly the fields given. The path must
// already be canonical (normalize_path would return it unchanged); a hash is allowed on
// files only, a target on symlinks only. Path order is RecordSequence's business.
Expected<FileRecord> make_record(const RawRecord& raw, const ReadLimits& limits);

struct RawError {
  Field path, path_b64;
  std::string_view kind;    // a ScanErrorKind name
  Field sys_errno;          // absent means 0
  std::string_view message;
};
Expected<ScanError> make_scan_error(const RawError& raw, const ReadLimits& limits);

struct RawSummary {
  std::string_view finished, files, directories, symlinks, others, bytes_hashed, errors, errors_dropped;
};
Expected<ScanSummary> make_summary(const RawSummary& raw);

// One installed package of the inventory (<package> / "packages" item).
struct RawPackage {
  std::string_view name, version, arch, source;  // source: "dpkg" | "rpm"
};
// Name and version non-empty, every field plain text of at most kMaxPackageField bytes.
Expected<InstalledPackage> make_package(const RawPackage& raw);
// A warning about a package database; the message bounded like other text.
Expected<InventoryWarning> make_inventory_warning(std::string_view source, std::string_view message,
                                                  const ReadLimits& limits);
// Counts inventory packages and warnings against ReadLimits::max_packages and kMaxInventoryWarnings.
class InventoryCount {
 public:
  explicit InventoryCount(const ReadLimits& limits) : max_packages_(limits.max_packages) {}
  Expected<void> count_package();
  Expected<void> count_warning();

 private:
  std::size_t max_packages_;
  std::size_t packages_ = 0, warnings_ = 0;
};

// A list of the header (roots, excludes): at most `max` items, each listed once.
class UniqueList {
 public:
  // `what` names one item in messages ("root", "exclude pattern"); `plural` several.
  UniqueList(std::string_view what, std::string_view plural, std::size_t max)
      : what_(what), plural_(plural), max_(max) {}
  // Appends `item` to `list` unless it is one too many (ErrorCode::limit) or already
  // there (ErrorCode::parse).
  Expected<void> add(std::vector<std::string>& list, std::string item);

 private:
  std::string what_, plural_;
  std::size_t max_;
  std::unordered_set<std::string> seen_;
};

// A canonical absolute path given either as text or as base64 of the raw bytes.
// `what` names the field in messages ("root path").
Expected<std::string> read_path(Field plain, Field b64, std::string_view what, const ReadLimits& limits);
// An exclude pattern: any bytes but NUL, given as text or base64, at most max_text_bytes.
Expected<std::string> read_glob(Field plain, Field b64, const ReadLimits& limits);
// Informational text: at most max_text_bytes, no NUL (the XML form cannot carry one, so
// neither may the JSON form).
Expected<std::string> read_text(std::string_view value, std::string_view what, const ReadLimits& limits);
Expected<std::int64_t> read_timestamp(std::string_view value, std::string_view what);
Expected<bool> read_bool(std::string_view value, std::string_view what);  // "true" | "false"
// The format version: exactly "1".
Expected<void> check_version(std::string_view value);

// Counts records and errors against the limits and checks that record paths come in
// strict path order (tb::path_compare), which also makes them unique.
class RecordSequence {
 public:
  explicit RecordSequence(const ReadLimits& limits)
      : max_records_(limits.max_records), max_errors_(limits.max_errors) {}
  // Call before validating a record, so an oversized document stops early.
  Expected<void> count_record();
  Expected<void> check_order(std::string_view path);
  Expected<void> count_error();

 private:
  std::size_t max_records_, max_errors_;
  std::size_t records_ = 0, errors_ = 0;
  bool have_last_ = false;
  std::string last_path_;
};

// Calls a visitor callback; an unset callback accepts everything.
template <class Arg>
Expected<void> notify(const std::function<Expected<void>(Arg)>& callback, std::type_identity_t<Arg> arg) {
  if (!callback) return {};
  return callback(std::forward<Arg>(arg));
}

// "line 12: " + the message of `error`, same code.
Error at_line(long line, Error error);

}  // namespace tb
