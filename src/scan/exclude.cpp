#include "scan/exclude.h"

#include <fnmatch.h>

namespace tb {

ExcludeSet::ExcludeSet(std::vector<std::string> patterns) {
  for (std::string& p : patterns) {
    if (p.empty()) continue;
    // "dir/" means the directory itself; the trailing slash carries no meaning for
    // matching, as in rsync and fd.
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.find('/') != std::string::npos) path_patterns_.push_back(std::move(p));
    else name_patterns_.push_back(std::move(p));
  }
}

bool ExcludeSet::excludes(const std::string& path, const std::string& name) const {
  for (const std::string& p : name_patterns_)
    if (::fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;  // '*' matches a leading '.', as in find -name
  for (const std::string& p : path_patterns_)
    if (::fnmatch(p.c_str(), path.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace tb
