#include "core/path_policy.h"

#include <fnmatch.h>

#include <algorithm>

namespace tb {

namespace {

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?[\\") != std::string_view::npos;
}

// fnmatch(3) without FNM_PATHNAME, with the common shapes answered without it: a literal
// path, "literal/*" (a whole tree) and "*.suffix". A real host has 100k+ unknown files and
// the default policy a few dozen globs.
bool matches(const std::string& glob, std::string_view path) {
  const std::string_view g = glob;
  if (!has_wildcard(g)) return g == path;
  if (g.ends_with("/*") && !has_wildcard(g.substr(0, g.size() - 1)))
    return path.size() > g.size() - 1 && path.starts_with(g.substr(0, g.size() - 1));
  if (g.starts_with("*") && !has_wildcard(g.substr(1)) && g.find('/') == std::string_view::npos)
    return path.ends_with(g.substr(1));
  return ::fnmatch(glob.c_str(), std::string(path).c_str(), 0) == 0;
}

bool matches_any(const std::vector<std::string>& globs, std::string_view path) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return matches(g, path); });
}

std::vector<std::string> without_covering(const std::vector<std::string>& globs,
                                          const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  for (const std::string& g : globs)
    if (std::none_of(roots.begin(), roots.end(), [&](const std::string& r) { return r != "/" && matches(g, r); }))
      out.push_back(g);
  return out;
}

}  // namespace

PathTreatment PathPolicy::treatment(std::string_view path) const {
  if (matches_any(ignore, path)) return PathTreatment::ignored;
  if (matches_any(expect_differ, path)) return PathTreatment::expected_to_differ;
  return PathTreatment::judged;
}

PathPolicy PathPolicy::for_roots(const std::vector<std::string>& roots) const {
  PathPolicy p;
  p.name = name;
  p.ignore = without_covering(ignore, roots);
  p.expect_differ = without_covering(expect_differ, roots);
  return p;
}

PathPolicy default_path_policy() {
  PathPolicy p;
  p.name = "default";
  p.ignore = {
      "/var/log/*",
      "/var/cache/*",
      "/var/lib/apt/lists/*",
      "/var/lib/dpkg/*",
      "/var/lib/rpm/*",
      "/var/lib/systemd/*",
      "/var/spool/*",
      "/var/tmp/*",
      "/var/mail/*",
      "/var/backups/*",
      "/tmp/*",
      "/run/*",
      "/var/run/*",
      "/var/lock/*",
      "/home/*",
      "/root/*",
      "/proc/*",
      "/sys/*",
      "/dev/*",
      "*/__pycache__",
      "*/__pycache__/*",
      "*.pyc",
      "/lost+found",
      "/etc/ld.so.cache",
      "/usr/lib/*/gconv/gconv-modules.cache",
  };
  p.expect_differ = {
      "/etc/machine-id",     "/var/lib/dbus/machine-id",
      "/etc/hostname",       "/etc/hosts",
      "/etc/ssh/ssh_host_*", "/etc/adjtime",
      "/etc/resolv.conf",    "/etc/mtab",
      "/etc/fstab",          "/etc/network/interfaces",
      "/etc/shadow",         "/etc/shadow-",
      "/etc/gshadow",        "/etc/gshadow-",
      "/etc/passwd-",        "/etc/group-",
      "/etc/subuid-",        "/etc/subgid-",
      "/etc/.pwd.lock",      "/etc/ssl/certs/*",
      "/etc/alternatives/*", "/var/lib/*/random-seed",
  };
  return p;
}

PathPolicy extended_policy(const PathPolicy& base, std::string name, const std::vector<std::string>& ignore,
                           const std::vector<std::string>& expect_differ) {
  PathPolicy p = base;
  p.name = std::move(name);
  p.ignore.insert(p.ignore.end(), ignore.begin(), ignore.end());
  p.expect_differ.insert(p.expect_differ.end(), expect_differ.begin(), expect_differ.end());
  return p;
}

}  // namespace tb
