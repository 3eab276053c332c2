// The rule of Store::put_release() (store/store.h), shared by every backend: which stored
// releases a new one re-links, the checks on what the linker did, and what the audit log
// says about it. The backends only read the releases of the name and write the result.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/signature.h"
#include "store/store.h"

namespace tb::store {

inline constexpr std::string_view kRelinkAction = "signature.relink";
// The audit log's actor of a relink: the store did it, following the version order.
inline constexpr std::string_view kRelinkActor = "store:version-order";

struct Relink {
  SignatureInfo before, after;  // a stored release as it is, and with its new relations
};

struct ReleaseLinks {
  SignatureInfo incoming;        // the release being stored, with the relations it gets
  std::vector<Relink> relinked;  // stored releases whose relations change, in store order
};

inline bool same_relations(const SignatureInfo& a, const SignatureInfo& b) {
  return a.kind == b.kind && a.patches == b.patches && a.supersedes == b.supersedes;
}

// `after` is `before` with other relations, and with the same ones unless they follow the
// version order; a patch names the release it patches, a product none.
inline bool relations_only(const SignatureInfo& before, const SignatureInfo& after) {
  SignatureInfo expected = before;
  expected.kind = after.kind;
  expected.patches = after.patches;
  expected.supersedes = after.supersedes;
  if (expected != after) return false;
  if (!before.linked_by && !same_relations(before, after)) return false;
  return (after.kind == SignatureKind::patch) == after.patches.has_value();
}

// Runs `link` over `stored` (every stored signature of incoming's name, in store order)
// and `incoming`, last. internal when the linker broke its contract (store/store.h).
inline Expected<ReleaseLinks> link_release(const SignatureInfo& incoming, std::vector<SignatureInfo> stored,
                                           const ReleaseLinker& link) {
  std::vector<SignatureInfo> releases = stored;
  releases.push_back(incoming);
  link(releases);
  ReleaseLinks out{releases.back(), {}};
  if (!relations_only(incoming, out.incoming))
    return fail(ErrorCode::internal, "linking " + incoming.ref.id() + " changed more than its relations");
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (!relations_only(stored[i], releases[i]))
      return fail(ErrorCode::internal,
                  "linking " + incoming.ref.id() + " changed more than the relations of " + stored[i].ref.id());
    if (!same_relations(stored[i], releases[i]))
      out.relinked.push_back(Relink{std::move(stored[i]), std::move(releases[i])});
  }
  return out;
}

// "product", "patch of app@1.0-1", "patch of app@1.0-1, superseding app@1.1-1, app@1.2-1".
inline std::string describe_relations(const SignatureInfo& info) {
  if (info.kind == SignatureKind::product || !info.patches) return std::string(to_string(info.kind));
  std::string out = "patch of " + info.patches->id();
  for (std::size_t i = 0; i < info.supersedes.size(); ++i)
    out += (i == 0 ? ", superseding " : ", ") + info.supersedes[i].id();
  return out;
}

// The audit entry's detail of a relinked release: what it is now, what it was, and why.
inline std::string relink_detail(const SignatureInfo& before, const SignatureInfo& after, const SignatureRef& cause) {
  return describe_relations(after) + " (was " + describe_relations(before) + "), in " +
         std::string(to_string(after.linked_by.value_or(VersionScheme::debian))) + " version order when " + cause.id() +
         " was stored";
}

}  // namespace tb::store
