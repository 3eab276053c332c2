// Configuration files (TOML) for trustbase's programs: a schema of keys, each bound to
// the variable its command-line option fills, checked and applied with errors that name
// the file, the line and the key. Flags win: a key whose option was given on the command
// line is checked but not applied. Schemas of the two programs: config/scan_config.h and
// config/server_config.h; the file formats are documented in docs/config.md.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace tb::config {

// A value as read from the file, already checked against its key's kind and bounds.
using Value = std::variant<std::string, std::vector<std::string>, bool, std::int64_t, double>;

enum class Kind { string, string_list, boolean, integer, real };

// One key of a configuration file.
struct Key {
  std::string name;                 // dotted path from the top of the file: "server.url"
  Kind kind = Kind::string;
  std::vector<std::string> flags;   // command-line options that override it ("--server", "roots")
  double min = std::numeric_limits<double>::lowest();  // integer, real: inclusive bounds
  double max = std::numeric_limits<double>::max();
  std::vector<std::string> choices; // string: the allowed values (empty: any string)
  std::function<void(const Value&)> apply;  // stores the checked value
};

// Keys bound to plain variables (the variables must outlive the schema).
Key text(std::string name, std::string& target, std::vector<std::string> flags, std::vector<std::string> choices = {});
Key texts(std::string name, std::vector<std::string>& target, std::vector<std::string> flags);
Key boolean(std::string name, bool& target, std::vector<std::string> flags);
Key real(std::string name, double& target, double min, double max, std::vector<std::string> flags);

template <class Int>
Key integer(std::string name, Int& target, std::int64_t min, std::int64_t max, std::vector<std::string> flags) {
  Key k;
  k.name = std::move(name);
  k.kind = Kind::integer;
  k.flags = std::move(flags);
  k.min = static_cast<double>(min);
  k.max = static_cast<double>(max);
  k.apply = [&target](const Value& v) { target = static_cast<Int>(std::get<std::int64_t>(v)); };
  return k;
}

// Says whether a command-line option (as named in Key::flags) was given.
using GivenFlag = std::function<bool(std::string_view flag)>;

// Largest configuration file read (a bound on input, far above any real one).
inline constexpr std::size_t kMaxFileBytes = 1 << 20;

// Parses TOML `text` (named `source` in errors) and applies every key of `schema` it sets,
// except those whose flags `given` reports. Nothing is applied unless the whole file is
// valid. Errors read "SOURCE:LINE:COLUMN: KEY: reason" — a syntax error, an unknown key,
// a value of the wrong type, out of range or not one of the choices.
Expected<void> apply_toml(std::string_view text, const std::string& source, const std::vector<Key>& schema,
                          const GivenFlag& given);

// The same for the file at `path` (at most kMaxFileBytes).
Expected<void> apply_file(const std::string& path, const std::vector<Key>& schema, const GivenFlag& given);

// The configuration file a program reads: `explicit_path` when given (it must then
// exist), otherwise `default_path` when it exists, otherwise none.
std::optional<std::string> choose_file(const std::string& explicit_path, const std::string& default_path);

}  // namespace tb::config
