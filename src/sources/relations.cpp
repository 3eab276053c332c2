#include "sources/relations.h"

#include <algorithm>
#include <vector>

namespace tb {

namespace {

bool any_arch(const std::string& a) { return a.empty() || a == "all" || a == "noarch"; }

bool compatible(const std::string& a, const std::string& b) { return a == b || any_arch(a) || any_arch(b); }

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

}  // namespace tb
