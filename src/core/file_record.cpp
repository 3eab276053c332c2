#include "core/file_record.h"

#include <array>
#include <utility>

namespace tb {

namespace {
constexpr std::array<std::pair<FileType, std::string_view>, 8> kTypeNames{{
    {FileType::file, "file"},
    {FileType::directory, "dir"},
    {FileType::symlink, "symlink"},
    {FileType::fifo, "fifo"},
    {FileType::socket, "socket"},
    {FileType::char_device, "chardev"},
    {FileType::block_device, "blockdev"},
    {FileType::unknown, "unknown"},
}};

constexpr std::array<std::pair<Attr, std::string_view>, 8> kAttrNames{{
    {Attr::type, "type"},
    {Attr::size, "size"},
    {Attr::mode, "mode"},
    {Attr::uid, "uid"},
    {Attr::gid, "gid"},
    {Attr::mtime, "mtime"},
    {Attr::sha256, "content"},
    {Attr::link_target, "target"},
}};
}  // namespace

std::string_view to_string(FileType type) noexcept {
  for (const auto& [t, name] : kTypeNames)
    if (t == type) return name;
  return "unknown";
}

std::optional<FileType> file_type_from_string(std::string_view name) noexcept {
  for (const auto& [t, n] : kTypeNames)
    if (n == name) return t;
  return std::nullopt;
}

std::string describe(AttrSet attrs) {
  std::string out;
  for (const auto& [a, name] : kAttrNames) {
    if (!attrs.has(a)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::optional<AttrSet> parse_attr_list(std::string_view names) {
  AttrSet out;
  while (!names.empty()) {
    const std::size_t comma = names.find(',');
    const std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
    if (name.empty()) continue;
    bool known = false;
    for (const auto& [a, n] : kAttrNames) {
      if (n != name) continue;
      out |= a;
      known = true;
    }
    if (!known) return std::nullopt;
  }
  return out;
}

AttrSet changed_attributes(const FileRecord& a, const FileRecord& b) {
  const AttrSet both = a.present & b.present;
  AttrSet changed;
  if (a.type != b.type) changed |= Attr::type;  // type is always present
  if (both.has(Attr::size) && a.size != b.size) changed |= Attr::size;
  if (both.has(Attr::mode) && a.mode != b.mode) changed |= Attr::mode;
  if (both.has(Attr::uid) && a.uid != b.uid) changed |= Attr::uid;
  if (both.has(Attr::gid) && a.gid != b.gid) changed |= Attr::gid;
  if (both.has(Attr::mtime) && a.mtime_ns != b.mtime_ns) changed |= Attr::mtime;
  if (both.has(Attr::sha256) && a.sha256 != b.sha256) changed |= Attr::sha256;
  if (both.has(Attr::link_target) && a.link_target != b.link_target) changed |= Attr::link_target;
  return changed;
}

bool operator==(const FileRecord& a, const FileRecord& b) {
  return a.path == b.path && a.present == b.present && changed_attributes(a, b).empty();
}

}  // namespace tb
