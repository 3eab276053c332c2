#include "sources/relations.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <vector>

#include "sources/deb_source.h"
#include "sources/package_format.h"
#include "sources/rpm_source.h"

namespace tb {

namespace {

bool any_arch(const std::string& a) { return a.empty() || a == "all" || a == "noarch"; }

bool compatible(const std::string& a, const std::string& b) { return a == b || any_arch(a) || any_arch(b); }

struct Release {
  std::string name, version;
  VersionScheme scheme = VersionScheme::debian;
  std::size_t index = 0;  // in the paths given
};

std::optional<Release> read_release(const std::string& path, std::size_t index) {
  auto format = detect_package_format(path);
  if (format && *format == PackageFormat::deb) {
    if (auto c = read_deb_control(path)) return Release{c->package, c->version, VersionScheme::debian, index};
  } else if (format && *format == PackageFormat::rpm) {
    if (auto r = read_rpm_identity(path)) return Release{r->name, r->version, VersionScheme::rpm, index};
  }
  return std::nullopt;
}

bool before(const Release& a, const Release& b) {
  if (std::tie(a.name, a.scheme) != std::tie(b.name, b.scheme))
    return std::tie(a.name, a.scheme) < std::tie(b.name, b.scheme);
  return compare_versions(a.scheme, a.version, b.version) < 0;
}

}  // namespace

void infer_package_relations(SignatureInfo& info, std::span<const SignatureInfo> stored, VersionScheme scheme) {
  std::vector<const SignatureInfo*> older;
  for (const SignatureInfo& s : stored) {
    if (s.ref.name != info.ref.name || !compatible(s.architecture, info.architecture)) continue;
    if (compare_versions(scheme, s.ref.version, info.ref.version) < 0) older.push_back(&s);
  }
  std::stable_sort(older.begin(), older.end(), [&](const SignatureInfo* a, const SignatureInfo* b) {
    return compare_versions(scheme, a->ref.version, b->ref.version) < 0;
  });
  const auto base = std::find_if(older.begin(), older.end(),
                                 [](const SignatureInfo* s) { return s->kind == SignatureKind::product; });
  if (base == older.end()) return;
  info.kind = SignatureKind::patch;
  info.patches = (*base)->ref;
  info.supersedes.clear();
  for (const SignatureInfo* s : older) {
    if (s->kind == SignatureKind::patch) info.supersedes.push_back(s->ref);
  }
}

void link_releases(std::span<SignatureInfo> releases) {
  if (releases.empty()) return;
  const auto linked =
      std::find_if(releases.begin(), releases.end(), [](const SignatureInfo& r) { return r.linked_by; });
  if (linked == releases.end()) return;
  const VersionScheme order = *linked->linked_by;  // a name's releases come from one package format
  std::vector<std::size_t> by_version(releases.size());
  for (std::size_t i = 0; i < by_version.size(); ++i) by_version[i] = i;
  std::stable_sort(by_version.begin(), by_version.end(), [&](std::size_t a, std::size_t b) {
    return compare_versions(order, releases[a].ref.version, releases[b].ref.version) < 0;
  });
  std::vector<SignatureInfo> older;  // re-linked already, in version order
  older.reserve(releases.size());
  for (const std::size_t i : by_version) {
    SignatureInfo& r = releases[i];
    if (r.linked_by) {
      r.kind = SignatureKind::product;
      r.patches.reset();
      r.supersedes.clear();
      infer_package_relations(r, older, *r.linked_by);
    }
    older.push_back(r);
  }
}

std::vector<SignatureRef> link_into(SignatureInfo& release, std::vector<SignatureInfo>& known) {
  std::vector<std::size_t> same_name;
  std::vector<SignatureInfo> releases;
  for (std::size_t i = 0; i < known.size(); ++i) {
    if (known[i].ref.name != release.ref.name) continue;
    same_name.push_back(i);
    releases.push_back(known[i]);
  }
  releases.push_back(release);
  link_releases(releases);
  std::vector<SignatureRef> changed;
  for (std::size_t k = 0; k < same_name.size(); ++k) {
    SignatureInfo& stored = known[same_name[k]];
    const SignatureInfo& linked = releases[k];
    if (stored.kind == linked.kind && stored.patches == linked.patches && stored.supersedes == linked.supersedes)
      continue;
    stored.kind = linked.kind;
    stored.patches = linked.patches;
    stored.supersedes = linked.supersedes;
    changed.push_back(stored.ref);
  }
  release = releases.back();
  known.push_back(release);
  return changed;
}

std::vector<std::size_t> release_order(const std::vector<std::string>& paths) {
  std::vector<Release> releases;
  std::vector<std::size_t> others;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (auto r = read_release(paths[i], i))
      releases.push_back(std::move(*r));
    else
      others.push_back(i);
  }
  std::stable_sort(releases.begin(), releases.end(), before);
  std::vector<std::size_t> order;
  order.reserve(paths.size());
  for (const Release& r : releases) order.push_back(r.index);
  order.insert(order.end(), others.begin(), others.end());
  return order;
}

}  // namespace tb
