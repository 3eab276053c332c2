// Path policy: which paths of a host are not judged at all (ignored: logs, caches, spool)
// and which are expected to differ between hosts and from their packages (machine-id,
// ssh host keys). Either way nothing there is a deviation: the policy explains it.
// Globs are fnmatch(3) patterns on the absolute path without FNM_PATHNAME, so `*` also
// matches '/': "/var/log/*" covers the whole tree below /var/log. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

enum class PathTreatment : std::uint8_t { judged, ignored, expected_to_differ };

struct PathPolicy {
  std::string name;                        // named in every report ("default", "server.toml"...)
  std::vector<std::string> ignore;         // never judged
  std::vector<std::string> expect_differ;  // judged nowhere either, listed as such

  PathTreatment treatment(std::string_view path) const;
  bool explains(std::string_view path) const { return treatment(path) != PathTreatment::judged; }
  // This policy without the globs that cover one of `roots`: a root scanned on purpose
  // (a tree under /tmp, a chroot under /var/lib) is judged, whatever the default says.
  PathPolicy for_roots(const std::vector<std::string>& roots) const;
  bool operator==(const PathPolicy&) const = default;
};

// In the spirit of Debian's AIDE configuration (/etc/aide/aide.conf.d): volatile trees
// (logs, caches, spool, package lists, temporary and runtime directories, homes) are
// ignored; per-host identity (machine-id, ssh host keys, hostname...) is expected to
// differ.
PathPolicy default_path_policy();

// A policy with `extra` globs added to `base`'s (an override adds, it never silently
// drops the default); `name` says where the additions came from.
PathPolicy extended_policy(const PathPolicy& base, std::string name, const std::vector<std::string>& ignore,
                           const std::vector<std::string>& expect_differ);

}  // namespace tb
