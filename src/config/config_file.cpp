#include "config/config_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

// toml++ as a header-only library without exceptions: the scanner carries no extra shared
// library, and parse errors come back as values.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <fmt/format.h>

namespace tb::config {

namespace {

struct Problem {
  toml::source_position where;
  std::string message;
};

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::string: return "a string";
    case Kind::string_list: return "an array of strings";
    case Kind::boolean: return "true or false";
    case Kind::integer: return "an integer";
    case Kind::real: return "a number";
  }
  return "a value";
}

const char* node_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string bounds_text(const Key& key) {
  const bool has_min = key.min > std::numeric_limits<double>::lowest();
  const bool has_max = key.max < std::numeric_limits<double>::max();
  if (has_min && has_max) return fmt::format("from {} to {}", key.min, key.max);
  if (has_min) return fmt::format("at least {}", key.min);
  return fmt::format("at most {}", key.max);
}

// Checks `node` against `key`: the value to apply, or a problem.
std::variant<Value, Problem> check(const Key& key, const toml::node& node) {
  auto wrong_type = [&] {
    return Problem{node.source().begin,
                   fmt::format("{}: expected {}, got {}", key.name, kind_name(key.kind), node_name(node))};
  };
  switch (key.kind) {
    case Kind::string: {
      const auto* s = node.as_string();
      if (s == nullptr) return wrong_type();
      const std::string& v = s->get();
      if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), v) == key.choices.end()) {
        std::string allowed;
        for (const auto& c : key.choices) allowed += (allowed.empty() ? "" : ", ") + ("\"" + c + "\"");
        return Problem{node.source().begin, fmt::format("{}: \"{}\" is not one of {}", key.name, v, allowed)};
      }
      if (v.find('\0') != std::string::npos)
        return Problem{node.source().begin, fmt::format("{}: contains a NUL character", key.name)};
      return Value{v};
    }
    case Kind::string_list: {
      const auto* a = node.as_array();
      if (a == nullptr) return wrong_type();
      std::vector<std::string> values;
      for (const toml::node& element : *a) {
        const auto* s = element.as_string();
        if (s == nullptr)
          return Problem{element.source().begin,
                         fmt::format("{}: expected an array of strings, found {} in it", key.name, node_name(element))};
        values.push_back(s->get());
      }
      return Value{std::move(values)};
    }
    case Kind::boolean: {
      const auto* b = node.as_boolean();
      if (b == nullptr) return wrong_type();
      return Value{b->get()};
    }
    case Kind::integer: {
      const auto* i = node.as_integer();
      if (i == nullptr) return wrong_type();
      const std::int64_t v = i->get();
      if (static_cast<double>(v) < key.min || static_cast<double>(v) > key.max)
        return Problem{node.source().begin, fmt::format("{}: {} is out of range ({})", key.name, v, bounds_text(key))};
      return Value{v};
    }
    case Kind::real: {
      double v = 0;
      if (const auto* i = node.as_integer()) v = static_cast<double>(i->get());
      else if (const auto* f = node.as_floating_point()) v = f->get();
      else return wrong_type();
      if (!(v >= key.min && v <= key.max))  // NaN fails too
        return Problem{node.source().begin, fmt::format("{}: {} is out of range ({})", key.name, v, bounds_text(key))};
      return Value{v};
    }
  }
  return wrong_type();
}

struct Checked {
  const Key* key;
  Value value;
};

// Walks a table of the file: every entry must be a key of the schema or a table holding some.
void walk(const toml::table& table, const std::string& prefix, const std::vector<Key>& schema,
          std::vector<Checked>& checked, std::vector<Problem>& problems) {
  for (const auto& [name, node] : table) {
    const std::string full = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    const auto key = std::find_if(schema.begin(), schema.end(), [&](const Key& k) { return k.name == full; });
    if (key != schema.end()) {
      auto result = check(*key, node);
      if (auto* problem = std::get_if<Problem>(&result)) problems.push_back(std::move(*problem));
      else checked.push_back({&*key, std::move(std::get<Value>(result))});
      continue;
    }
    const bool is_section = std::any_of(schema.begin(), schema.end(),
                                        [&](const Key& k) { return k.name.rfind(full + ".", 0) == 0; });
    if (is_section && node.is_table()) {
      walk(*node.as_table(), full, schema, checked, problems);
    } else if (is_section) {
      problems.push_back({node.source().begin, fmt::format("{}: expected a table, got {}", full, node_name(node))});
    } else {
      problems.push_back({name.source().begin, fmt::format("unknown key '{}'", full)});
    }
  }
}

std::string located(const std::string& source, toml::source_position where, const std::string& message) {
  return fmt::format("{}:{}:{}: {}", source, where.line, where.column, message);
}

}  // namespace

Key text(std::string name, std::string& target, std::vector<std::string> flags, std::vector<std::string> choices) {
  Key k;
  k.name = std::move(name);
  k.kind = Kind::string;
  k.flags = std::move(flags);
  k.choices = std::move(choices);
  k.apply = [&target](const Value& v) { target = std::get<std::string>(v); };
  return k;
}

Key texts(std::string name, std::vector<std::string>& target, std::vector<std::string> flags) {
  Key k;
  k.name = std::move(name);
  k.kind = Kind::string_list;
  k.flags = std::move(flags);
  k.apply = [&target](const Value& v) { target = std::get<std::vector<std::string>>(v); };
  return k;
}

Key boolean(std::string name, bool& target, std::vector<std::string> flags) {
  Key k;
  k.name = std::move(name);
  k.kind = Kind::boolean;
  k.flags = std::move(flags);
  k.apply = [&target](const Value& v) { target = std::get<bool>(v); };
  return k;
}

Key real(std::string name, double& target, double min, double max, std::vector<std::string> flags) {
  Key k;
  k.name = std::move(name);
  k.kind = Kind::real;
  k.flags = std::move(flags);
  k.min = min;
  k.max = max;
  k.apply = [&target](const Value& v) { target = std::get<double>(v); };
  return k;
}

Expected<void> apply_toml(std::string_view text, const std::string& source, const std::vector<Key>& schema,
                          const GivenFlag& given) {
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const auto& error = parsed.error();
    return fail(ErrorCode::parse, located(source, error.source().begin, std::string(error.description())));
  }
  std::vector<Checked> checked;
  std::vector<Problem> problems;
  walk(parsed.table(), "", schema, checked, problems);
  if (!problems.empty()) {
    // Every problem at once, in the order of the file, so one edit fixes them all.
    std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    std::string message;
    for (const Problem& p : problems) message += (message.empty() ? "" : "\n") + located(source, p.where, p.message);
    return fail(ErrorCode::invalid_argument, message);
  }
  for (const Checked& c : checked) {
    const bool overridden = std::any_of(c.key->flags.begin(), c.key->flags.end(),
                                        [&](const std::string& flag) { return given && given(flag); });
    if (!overridden) c.key->apply(c.value);
  }
  return {};
}

Expected<void> apply_file(const std::string& path, const std::vector<Key>& schema, const GivenFlag& given) {
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (!in || ::stat(path.c_str(), &st) != 0)
    return fail(ErrorCode::io, fmt::format("cannot read {}: {}", path, ::strerrordesc_np(errno)));
  if (S_ISDIR(st.st_mode)) return fail(ErrorCode::io, fmt::format("cannot read {}: is a directory", path));
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes)
    return fail(ErrorCode::limit, fmt::format("{}: larger than {} bytes, not a configuration file", path, kMaxFileBytes));
  return apply_toml(text, path, schema, given);
}

std::optional<std::string> choose_file(const std::string& explicit_path, const std::string& default_path) {
  if (!explicit_path.empty()) return explicit_path;
  struct stat st {};
  if (!default_path.empty() && ::stat(default_path.c_str(), &st) == 0) return default_path;
  return std::nullopt;
}

}  // namespace tb::config
