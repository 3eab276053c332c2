// --exclude patterns. A pattern containing '/' is matched (fnmatch, '*' crossing '/')
// against the whole absolute path: "/var/log/*", "/home/*/.cache". A pattern without '/'
// is matched against the entry's name alone, at any depth: "*.log", "lost+found".
// Wildcards match a leading '.' too (as find -name, rsync and fd do): "*.log" excludes
// ".old.log" and "*" excludes every name.
// An excluded directory is not descended into.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tb {

class ExcludeSet {
 public:
  ExcludeSet() = default;
  explicit ExcludeSet(std::vector<std::string> patterns);

  bool empty() const { return path_patterns_.empty() && name_patterns_.empty(); }
  // `path` is the absolute path, `name` its last component.
  bool excludes(const std::string& path, const std::string& name) const;

 private:
  std::vector<std::string> path_patterns_;
  std::vector<std::string> name_patterns_;
};

}  // namespace tb
