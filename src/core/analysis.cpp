#include "core/analysis.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/path.h"

namespace tb {

std::string_view to_string(SignatureState state) noexcept {
  switch (state) {
    case SignatureState::complete:
      return "complete";
    case SignatureState::partial:
      return "partial";
    case SignatureState::absent:
      return "absent";
    case SignatureState::superseded:
      return "superseded";
    case SignatureState::tampered:
      return "tampered";
    case SignatureState::unverified:
      return "unverified";
  }
  return "unknown";
}

std::string_view to_string(IssueKind kind) noexcept {
  switch (kind) {
    case IssueKind::missing:
      return "missing";
    case IssueKind::modified:
      return "modified";
    case IssueKind::not_applied:
      return "not_applied";
    case IssueKind::replaced:
      return "replaced";
    case IssueKind::config_changed:
      return "config_changed";
  }
  return "unknown";
}

namespace {

using Id = SignatureIndex::Id;
using PathId = SignatureIndex::PathId;
constexpr Id kNone = std::numeric_limits<Id>::max();

// Signature refs of entries (sorted by Id), each signature once, optionally only products.
std::vector<SignatureRef> refs_of(const SignatureIndex& index, std::span<const SignatureIndex::Entry> entries,
                                  bool products_only = false) {
  std::vector<SignatureRef> out;
  Id last = kNone;
  for (const SignatureIndex::Entry& e : entries) {
    if (e.signature == last) continue;
    last = e.signature;
    if (products_only && index.signature(e.signature).info.kind != SignatureKind::product) continue;
    out.push_back(index.ref(e.signature));
  }
  return out;
}

std::vector<SignatureRef> content_refs(const SignatureIndex& index, const FileRecord* actual) {
  if (actual == nullptr || !actual->has(Attr::sha256)) return {};
  // Entries come sorted by Id; refs_of drops the repeats of one signature.
  return refs_of(index, index.content_owners(actual->sha256));
}

std::vector<SignatureRef> refs_of(const SignatureIndex& index, std::vector<Id> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<SignatureRef> out;
  out.reserve(ids.size());
  for (const Id id : ids) out.push_back(index.ref(id));
  return out;
}

// The package manager a signature's package belongs to, told by the package it came from;
// nullopt for releases imported from directories, archives or SWID tags.
std::optional<PackageManager> manager_of(const SignatureInfo& info) {
  if (info.provenance.method == ProvenanceMethod::deb_release) return PackageManager::dpkg;
  if (info.provenance.method == ProvenanceMethod::rpm_gpg) return PackageManager::rpm;
  const std::string_view source = info.source;
  if (source.ends_with(".deb") || source.ends_with(".udeb")) return PackageManager::dpkg;
  if (source.ends_with(".rpm")) return PackageManager::rpm;
  return std::nullopt;
}

// What the inventory says of each signature: nullopt when it cannot say (no inventory,
// not a package, or a manager the inventory does not cover); else the state the inventory
// forces (absent, unverified), or `complete` meaning "installed at this version or later
// in its chain: judge the files".
std::vector<std::optional<SignatureState>> inventory_says(const SignatureIndex& index,
                                                          const PackageInventory* inventory) {
  std::vector<std::optional<SignatureState>> out(index.size());
  if (inventory == nullptr) return out;
  std::set<PackageManager> managers;
  std::map<std::pair<PackageManager, std::string_view>, std::vector<std::string_view>> listed;
  for (const InstalledPackage& p : inventory->packages) {
    managers.insert(p.manager);
    listed[{p.manager, p.name}].push_back(p.version);
  }
  for (SignatureIndex::Id id = 0; id < index.size(); ++id) {
    const SignatureInfo& info = index.signature(id).info;
    const auto manager = manager_of(info);
    if (!manager || !managers.contains(*manager)) continue;
    const auto it = listed.find({*manager, info.ref.name});
    if (it == listed.end()) {
      out[id] = SignatureState::absent;
      continue;
    }
    bool judge_files = false, another_stored = false;
    for (const std::string_view version : it->second) {
      if (version == info.ref.version) judge_files = true;
      const auto other = index.find(SignatureRef{info.ref.name, std::string(version)});
      if (!other) continue;
      another_stored = true;
      if (index.is_later(id, *other)) judge_files = true;  // upgraded along its chain
    }
    out[id] =
        judge_files ? SignatureState::complete : (another_stored ? SignatureState::absent : SignatureState::unverified);
  }
  return out;
}

// A signature file that does not match the scan, before it is turned into a FileIssue.
struct Finding {
  std::uint32_t record;  // position in the signature's manifest
  IssueKind kind;
  AttrSet changed;
  Id other = kNone;       // the signature whose record the scan matches
  bool by_later = false;  // `other` is later in the chain (else: earlier or other version)
};

struct Work {
  std::vector<Finding> findings;  // manifest order, so path order
  VerdictCounts counts;
  SignatureState state = SignatureState::partial;
  bool decided = false;
};

// One analysis run: the scan spread over the index's PathIds, then every signature
// classified, later signatures of a chain before earlier ones.
class Analyzer {
 public:
  // `path_ids`: each record's PathId when known already (empty: looked up here).
  Analyzer(std::span<const FileRecord* const> scan, std::span<const PathId> path_ids, const SignatureIndex& index,
           const AnalysisOptions& options)
      : index_(index),
        options_(options),
        policy_(options.policy.for_roots(options.roots)),
        compare_(options.compare | Attr::type),
        work_(index.size()) {
    place(scan, path_ids);
  }

  Analysis run() {
    said_ = inventory_says(index_, options_.inventory);
    own_match_.resize(index_.size());
    for (Id id = 0; id < index_.size(); ++id) own_match_[id] = !not_installed(id) && has_own_match(id);
    for (const Id id : chain_order()) {
      classify(id);
      decide(id);
    }
    Analysis out;
    out.verdicts.reserve(index_.size());
    for (Id id = 0; id < index_.size(); ++id) out.verdicts.push_back(verdict(id));
    out.deviations = deviations();
    out.policy = policy_.name;
    out.explained_by_policy = explained_by_policy_;
    return out;
  }

 private:
  bool same(const FileRecord& expected, const FileRecord& actual) const {
    return (changed_attributes(expected, actual) & compare_).empty();
  }
  // The inventory says this package is not installed at this version (absent, unverified).
  bool not_installed(Id id) const { return said_[id] && *said_[id] != SignatureState::complete; }
  bool good(Id id) const {
    const Work& w = work_[id];
    return w.decided && (w.state == SignatureState::complete || w.state == SignatureState::superseded);
  }

  void place(std::span<const FileRecord* const> scan, std::span<const PathId> path_ids) {
    covered_ = index_.coverage(options_.roots);
    actual_.assign(index_.path_count(), nullptr);
    const bool given = path_ids.size() == scan.size();
    for (std::size_t i = 0; i < scan.size(); ++i) {
      const FileRecord* r = scan[i];
      const PathId p = given ? path_ids[i] : index_.find_path(r->path).value_or(SignatureIndex::kNoPath);
      if (p != SignatureIndex::kNoPath) {
        actual_[p] = r;
        continue;
      }
      // A scan root, or a directory with entries below it (path order puts them right after
      // it), is no deviation of its own: what is below is judged entry by entry.
      const bool parent = i + 1 < scan.size() && path_is_under(scan[i + 1]->path, r->path);
      if (r->type == FileType::directory && (parent || is_root(r->path))) continue;
      if (policy_.explains(r->path)) {
        ++explained_by_policy_;
        continue;
      }
      unknown_.push_back(r);
    }
  }

  bool is_root(std::string_view path) const {
    return std::find(options_.roots.begin(), options_.roots.end(), path) != options_.roots.end();
  }

  // Every signature after all those later in its chain: later(T) is a strict subset of
  // later(S) when T is later than S, so ordering by the size of later() suffices.
  std::vector<Id> chain_order() const {
    std::vector<Id> order(index_.size());
    for (Id id = 0; id < order.size(); ++id) order[id] = id;
    std::stable_sort(order.begin(), order.end(),
                     [&](Id a, Id b) { return index_.later(a).size() < index_.later(b).size(); });
    return order;
  }

  void classify(Id id) {
    Work& w = work_[id];
    const auto records = index_.signature(id).manifest.records();
    const auto paths = index_.path_ids(id);
    for (std::uint32_t i = 0; i < records.size(); ++i) {
      if (!(*covered_)[paths[i]]) continue;  // outside what was scanned: neither there nor missing
      ++w.counts.expected;
      const FileRecord* actual = actual_[paths[i]];
      if (actual == nullptr) {
        w.findings.push_back(Finding{i, IssueKind::missing, {}});
        ++w.counts.missing;
        continue;
      }
      const AttrSet changed = changed_attributes(records[i], *actual) & compare_;
      if (changed.empty()) {
        ++w.counts.matching;
        continue;
      }
      Finding f = explain(id, paths[i], *actual);
      f.record = i;
      f.changed = changed;
      // A configuration file with content no signature explains was edited on the host:
      // expected of an admin, so it is listed but leaves the verdict alone.
      if (f.kind == IssueKind::modified && index_.signature(id).info.is_config(records[i].path))
        f.kind = IssueKind::config_changed;
      w.findings.push_back(f);
      switch (f.kind) {
        case IssueKind::missing:
          break;
        case IssueKind::modified:
          ++w.counts.modified;
          break;
        case IssueKind::not_applied:
          ++w.counts.not_applied;
          break;
        case IssueKind::replaced:
          ++w.counts.replaced;
          break;
        case IssueKind::config_changed:
          ++w.counts.config_changed;
          break;
      }
    }
  }

  // Which other signature declares exactly what the scan holds at this path: a later one
  // of the chain (preferably one already judged complete), else an earlier one, else
  // another version of the same name.
  Finding explain(Id id, PathId path, const FileRecord& actual) const {
    Id later = kNone, earlier = kNone, other = kNone;
    for (const SignatureIndex::Entry& e : index_.owners(path)) {
      if (e.signature == id || !same(*e.record, actual)) continue;
      if (index_.is_later(id, e.signature)) {
        if (later == kNone || (!good(later) && good(e.signature))) later = e.signature;
      } else if (index_.is_earlier(id, e.signature)) {
        if (earlier == kNone) earlier = e.signature;
      } else if (index_.is_other_version(id, e.signature)) {
        if (other == kNone) other = e.signature;
      }
    }
    if (later != kNone) return Finding{0, IssueKind::replaced, {}, later, true};
    if (earlier != kNone) return Finding{0, IssueKind::not_applied, {}, earlier};
    if (other != kNone) return Finding{0, IssueKind::replaced, {}, other};
    // Content nobody declares, at a path a later patch of the chain also lists and that
    // patch is installed: the file is that patch's now, and its verdict reports the edit
    // (counting it here too would blame one edit on every release of the chain).
    for (const SignatureIndex::Entry& e : index_.owners(path))
      if (e.signature != id && index_.is_later(id, e.signature) && own_match_[e.signature])
        return Finding{0, IssueKind::modified, {}, e.signature, true};
    return Finding{0, IssueKind::modified, {}};
  }

  // True when some file matches that no other signature also explains: evidence that
  // this very signature is installed, not just a directory or file it shares.
  bool has_own_match(Id id) const {
    const auto records = index_.signature(id).manifest.records();
    const auto paths = index_.path_ids(id);
    for (std::size_t i = 0; i < records.size(); ++i) {
      // Directories (and links) are shared by many packages: only a regular file proves one.
      if (records[i].type != FileType::file) continue;
      const FileRecord* actual = actual_[paths[i]];
      if (actual == nullptr || !same(records[i], *actual)) continue;
      const auto owners = index_.owners(paths[i]);
      const bool shared = std::any_of(owners.begin(), owners.end(), [&](const SignatureIndex::Entry& e) {
        return e.signature != id && same(*e.record, *actual);
      });
      if (!shared) return true;
    }
    return false;
  }

  // True when every modified file's path is also listed by a signature that has a match of
  // its own: the edit is that signature's, not evidence that this one is installed.
  bool modified_claimed_elsewhere(Id id) const {
    const auto paths = index_.path_ids(id);
    for (const Finding& f : work_[id].findings) {
      if (f.kind != IssueKind::modified) continue;
      const auto owners = index_.owners(paths[f.record]);
      const bool claimed = std::any_of(owners.begin(), owners.end(), [&](const SignatureIndex::Entry& e) {
        return e.signature != id && own_match_[e.signature];
      });
      if (!claimed) return false;
    }
    return true;
  }

  void decide(Id id) {
    Work& w = work_[id];
    w.state = state_of(id);
    // What the package manager says wins over what the files look like: another release's
    // files are never this one's tampering. Unverified only when something of it is there.
    if (not_installed(id)) {
      const bool something_there = w.state != SignatureState::absent;
      w.state = *said_[id] == SignatureState::unverified && something_there ? SignatureState::unverified
                                                                            : SignatureState::absent;
    }
    w.decided = true;
  }

  // True when some regular file of the signature is on the host at its path (whatever its
  // content), or the signature has no regular file under the scanned roots at all.
  bool regular_file_present(Id id) const {
    const auto records = index_.signature(id).manifest.records();
    const auto paths = index_.path_ids(id);
    bool any_regular = false;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].type != FileType::file || !(*covered_)[paths[i]]) continue;
      any_regular = true;
      const FileRecord* actual = actual_[paths[i]];
      if (actual != nullptr && actual->type == FileType::file) return true;
    }
    return !any_regular;
  }

  SignatureState state_of(Id id) const {
    const Work& w = work_[id];
    // Edited configuration files do not count against the signature.
    const std::size_t findings = w.findings.size() - w.counts.config_changed;
    if (w.counts.expected == 0) return SignatureState::absent;  // nothing of it was scanned
    if (findings == 0) return SignatureState::complete;
    // Files taken over by later patches of the chain that are installed (complete, or
    // with problems of their own that their verdicts report) do not count against this one.
    std::size_t by_good_later = 0, by_other_later = 0, by_installed_later = 0;
    for (const Finding& f : w.findings) {
      if (!f.by_later || f.kind == IssueKind::config_changed) continue;
      (good(f.other) ? by_good_later : by_other_later)++;
      if (good(f.other) || own_match_[f.other]) ++by_installed_later;
    }
    if (by_installed_later == findings) {
      return index_.signature(id).info.kind == SignatureKind::patch ? SignatureState::superseded
                                                                    : SignatureState::complete;
    }
    const VerdictCounts& c = w.counts;
    // Without one of its regular files there, shared directories and links prove nothing.
    if (by_good_later + by_other_later == 0 && !regular_file_present(id)) return SignatureState::absent;
    if (by_good_later + by_other_later == 0 && !own_match_[id]) {
      // No file of its own is there. Absent, unless the modified files can only be its own
      // (nothing missing, or nobody else with evidence of being installed lists them).
      const bool all_there = c.missing + c.not_applied + c.replaced == 0;
      if (c.modified == 0 || (!all_there && modified_claimed_elsewhere(id))) return SignatureState::absent;
    }
    if (c.missing == 0 && c.not_applied == 0 && c.modified > 0) return SignatureState::tampered;
    return SignatureState::partial;
  }

  SignatureVerdict verdict(Id id) const {
    const Work& w = work_[id];
    const Signature& s = index_.signature(id);
    SignatureVerdict v;
    v.ref = s.info.ref;
    v.kind = s.info.kind;
    v.state = w.state;
    v.counts = w.counts;
    // Absent and unverified signatures' files are another release's or nobody's: listing
    // them as this one's issues would blame it (counts still say what matched).
    const bool installed = v.state != SignatureState::absent && v.state != SignatureState::unverified;
    if (installed || options_.list_absent_issues) {
      v.issues.reserve(w.findings.size());
      for (const Finding& f : w.findings) {
        FileIssue issue{s.manifest[f.record].path, f.kind, f.changed, std::nullopt};
        if (f.other != kNone) issue.other = index_.ref(f.other);
        v.issues.push_back(std::move(issue));
      }
    }
    if (v.state == SignatureState::superseded) v.superseded_by = explained_by(w, /*later=*/true);
    if (v.state == SignatureState::absent) v.other_version = explained_by(w, /*later=*/false);
    if (v.kind == SignatureKind::product && v.state != SignatureState::absent) {
      std::vector<Id> patches;
      for (const Id later : index_.later(id)) {
        if (good(later)) patches.push_back(later);
      }
      v.patched_by = refs_of(index_, std::move(patches));
    }
    return v;
  }

  // The signatures whose content replaced files: later ones of the chain, or other versions.
  std::vector<SignatureRef> explained_by(const Work& w, bool later) const {
    std::vector<Id> ids;
    for (const Finding& f : w.findings) {
      if (f.kind == IssueKind::replaced && f.by_later == later) ids.push_back(f.other);
    }
    return refs_of(index_, std::move(ids));
  }

  // A deviating signature file, before owners are attached.
  struct Raw {
    PathId path;
    Change change;
    AttrSet changed;
  };

  // Issues of the signatures that are meant to be there (not absent, not superseded):
  // missing files are removed, foreign content is modified. A file of another version
  // counts too: mixed versions are a deviation, while the later patches of a chain are not.
  std::vector<Raw> signature_deviations() const {
    std::vector<Raw> raw;
    for (Id id = 0; id < index_.size(); ++id) {
      const Work& w = work_[id];
      if (w.state == SignatureState::absent || w.state == SignatureState::superseded ||
          w.state == SignatureState::unverified)
        continue;
      const auto paths = index_.path_ids(id);
      for (const Finding& f : w.findings) {
        if (f.by_later || f.kind == IssueKind::config_changed) continue;
        if (policy_.explains(index_.signature(id).manifest[f.record].path)) continue;
        const Change change = f.kind == IssueKind::missing ? Change::removed : Change::modified;
        raw.push_back(Raw{paths[f.record], change, f.changed});
      }
    }
    // One entry per path, the changed sets of all its owners merged.
    std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) { return a.path < b.path; });
    std::vector<Raw> merged;
    for (const Raw& r : raw) {
      if (!merged.empty() && merged.back().path == r.path)
        merged.back().changed |= r.changed;
      else
        merged.push_back(r);
    }
    return merged;
  }

  std::vector<FileDeviation> deviations() const {
    std::vector<FileDeviation> known;
    for (const Raw& r : signature_deviations()) {
      const auto owners = index_.owners(r.path);
      FileDeviation d;
      d.path = owners.front().record->path;
      d.change = r.change;
      d.changed = r.changed;
      d.owners = refs_of(index_, owners);
      d.content_owners = content_refs(index_, actual_[r.path]);
      known.push_back(std::move(d));
    }
    std::sort(known.begin(), known.end(),
              [](const FileDeviation& a, const FileDeviation& b) { return path_less(a.path, b.path); });

    // Unknown scan entries are in path order already and never share a path with `known`
    // (no signature lists them): a merge keeps the whole list sorted.
    std::vector<FileDeviation> out;
    out.reserve(known.size() + unknown_.size());
    auto k = known.begin();
    for (const FileRecord* u : unknown_) {
      while (k != known.end() && path_less(k->path, u->path)) out.push_back(std::move(*k++));
      out.push_back(FileDeviation{u->path, Change::added, {}, {}, content_refs(index_, u)});
    }
    while (k != known.end()) out.push_back(std::move(*k++));
    return out;
  }

  const SignatureIndex& index_;
  const AnalysisOptions& options_;
  const PathPolicy policy_;  // options_.policy for the scan's roots
  const AttrSet compare_;
  std::vector<const FileRecord*> actual_;             // per PathId: the scan's record, or null
  std::shared_ptr<const std::vector<bool>> covered_;  // per PathId: inside the scanned roots
  std::vector<const FileRecord*> unknown_;            // scan records no signature lists, path order
  std::vector<Work> work_;                            // per signature Id
  std::vector<bool> own_match_;                       // per signature Id: see has_own_match()
  std::vector<std::optional<SignatureState>> said_;   // per signature Id: inventory_says()
  std::size_t explained_by_policy_ = 0;
};

}  // namespace

Analysis analyze(const Manifest& scan, const SignatureIndex& index, const AnalysisOptions& options) {
  std::vector<const FileRecord*> records;
  records.reserve(scan.size());
  for (const FileRecord& r : scan) records.push_back(&r);
  return analyze(records, index, options);
}

Analysis analyze(std::span<const FileRecord* const> scan, const SignatureIndex& index, const AnalysisOptions& options) {
  return Analyzer(scan, {}, index, options).run();
}

Analysis analyze(std::span<const FileRecord* const> scan, std::span<const SignatureIndex::PathId> path_ids,
                 const SignatureIndex& index, const AnalysisOptions& options) {
  if (path_ids.size() != scan.size()) return analyze(scan, index, options);
  return Analyzer(scan, path_ids, index, options).run();
}

namespace {

// Whether a member may hold `actual` (null: nothing) at a path patches list: the content of
// a release or patch listing the path, or, for nothing, some release of an owner's package
// that does not list the path.
bool legitimate_at_patch_path(const SignatureIndex& index, SignatureIndex::PathId path, const FileRecord* actual) {
  const auto owners = index.owners(path);
  if (actual != nullptr) {
    return std::any_of(owners.begin(), owners.end(), [&](const SignatureIndex::Entry& e) {
      return (changed_attributes(*e.record, *actual) & (kSignatureAttrs | Attr::type)).empty();
    });
  }
  auto lists_path = [&](Id id) {
    return std::any_of(owners.begin(), owners.end(), [&](const SignatureIndex::Entry& e) { return e.signature == id; });
  };
  for (const SignatureIndex::Entry& e : owners) {
    for (const auto related : {index.earlier(e.signature), index.later(e.signature)})
      for (const Id id : related)
        if (!lists_path(id)) return true;
  }
  return false;
}

}  // namespace

Drift compare_with_snapshot(const Manifest& member, const Manifest& snapshot, const SignatureIndex& index,
                            const DriftOptions& options) {
  Drift drift;
  const PathPolicy policy = options.policy.for_roots(options.roots);
  for_each_difference(
      snapshot, member,
      [&](const DiffEntry& d) {
        if (policy.explains(d.path())) return;
        const auto path = index.find_path(d.path());
        if (path && index.listed_by_patch(*path) && legitimate_at_patch_path(index, *path, d.after)) return;
        const auto owners = path ? index.owners(*path) : std::span<const SignatureIndex::Entry>();
        drift.deviations.push_back(FileDeviation{std::string(d.path()), d.change, d.changed, refs_of(index, owners),
                                                 content_refs(index, d.after)});
        switch (d.change) {
          case Change::added:
            ++drift.counts.added;
            break;
          case Change::removed:
            ++drift.counts.removed;
            break;
          case Change::modified:
            ++drift.counts.modified;
            break;
        }
      },
      options.compare);
  // A directory only one side has is no drift of its own when entries below it are drift
  // (they are listed one by one); a changed mode or owner of a directory still is.
  std::vector<FileDeviation> kept;
  kept.reserve(drift.deviations.size());
  for (std::size_t i = 0; i < drift.deviations.size(); ++i) {
    FileDeviation& d = drift.deviations[i];
    const bool parent = d.change != Change::modified && i + 1 < drift.deviations.size() &&
                        path_is_under(drift.deviations[i + 1].path, d.path);
    if (!parent) {
      kept.push_back(std::move(d));
      continue;
    }
    --(d.change == Change::added ? drift.counts.added : drift.counts.removed);
  }
  drift.deviations = std::move(kept);
  return drift;
}

void explain_by_snapshot(Analysis& analysis, const Manifest& scan, const Manifest& snapshot) {
  const auto before = analysis.deviations.size();
  std::erase_if(analysis.deviations, [&](const FileDeviation& d) {
    if (d.change != Change::added || !d.owners.empty()) return false;
    const FileRecord* reference = snapshot.find(d.path);
    const FileRecord* actual = scan.find(d.path);
    return reference != nullptr && actual != nullptr &&
           (changed_attributes(*reference, *actual) & kSnapshotAttrs).empty();
  });
  analysis.explained_by_snapshot += before - analysis.deviations.size();
}

std::size_t blocking_inventory_issues(const InventoryCheck& inventory, bool require_signatures) {
  return static_cast<std::size_t>(std::count_if(
      inventory.issues.begin(), inventory.issues.end(),
      [&](const InventoryIssue& i) { return require_signatures || i.kind != InventoryIssueKind::unverified; }));
}

bool is_clean(const Analysis& analysis, bool require_signatures) {
  for (const SignatureVerdict& v : analysis.verdicts)
    if (v.state == SignatureState::partial || v.state == SignatureState::tampered) return false;
  if (analysis.inventory && blocking_inventory_issues(*analysis.inventory, require_signatures) != 0) return false;
  return analysis.deviations.empty();
}

Analysis analyze(const ScanDocument& scan, const SignatureIndex& index, AnalysisOptions options) {
  options.roots = scan.header.roots;
  if (scan.header.inventory) options.inventory = &*scan.header.inventory;
  Analysis out = analyze(scan.manifest, index, options);
  if (scan.header.inventory) out.inventory = check_inventory(*scan.header.inventory, out.verdicts);
  return out;
}

std::string_view to_string(InventoryIssueKind kind) noexcept {
  switch (kind) {
    case InventoryIssueKind::mismatch:
      return "inventory_mismatch";
    case InventoryIssueKind::incomplete:
      return "inventory_incomplete";
    case InventoryIssueKind::unverified:
      return "unverified";
  }
  return "unknown";
}

namespace {

std::string versions_of(const std::vector<SignatureRef>& refs) {
  std::string out;
  for (const SignatureRef& r : refs) {
    if (!out.empty()) out += ", ";
    out += r.version;
  }
  return out;
}

std::string incomplete_message(const InstalledPackage& p, const SignatureVerdict& v) {
  std::string m = std::string(to_string(p.manager)) + " says " + p.name + " " + p.version + " is installed, ";
  switch (v.state) {
    case SignatureState::absent:
      return m + "but none of its files are there";
    case SignatureState::partial:
      return m + "but its files are partly there (" + std::to_string(v.counts.matching) + " of " +
             std::to_string(v.counts.expected) + " match)";
    case SignatureState::tampered:
      return m + "but " + std::to_string(v.counts.modified) + " of its files are modified";
    default:
      return m + "but its signature is " + std::string(to_string(v.state));
  }
}

}  // namespace

InventoryCheck check_inventory(const PackageInventory& inventory, std::span<const SignatureVerdict> verdicts) {
  InventoryCheck out;
  out.warnings = inventory.warnings.size();
  // The verdicts of each name, in index order.
  std::unordered_map<std::string_view, std::vector<const SignatureVerdict*>> by_name;
  for (const SignatureVerdict& v : verdicts) by_name[v.ref.name].push_back(&v);

  // Each (manager, name, version) once: multi-arch packages list a name per architecture.
  std::vector<const InstalledPackage*> packages;
  packages.reserve(inventory.packages.size());
  for (const InstalledPackage& p : inventory.packages) packages.push_back(&p);
  auto key = [](const InstalledPackage* p) { return std::tie(p->manager, p->name, p->version); };
  std::stable_sort(packages.begin(), packages.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
  packages.erase(std::unique(packages.begin(), packages.end(), [&](auto* a, auto* b) { return key(a) == key(b); }),
                 packages.end());

  for (const InstalledPackage* p : packages) {
    ++out.listed;
    const auto it = by_name.find(p->name);
    if (it == by_name.end()) {
      ++out.without_signature;
      continue;
    }
    const SignatureVerdict* listed = nullptr;
    std::vector<SignatureRef> installed;  // complete, and not patched by a complete later version of the name
    for (const SignatureVerdict* v : it->second) {
      if (v->ref.version == p->version) listed = v;
      if (v->state != SignatureState::complete || v->counts.expected == 0) continue;
      const bool newer_there = std::any_of(v->patched_by.begin(), v->patched_by.end(),
                                           [&](const SignatureRef& r) { return r.name == p->name; });
      if (!newer_there) installed.push_back(v->ref);
    }
    if (listed != nullptr && listed->counts.expected == 0) {
      ++out.not_covered;  // nothing of it under the scanned roots: the files cannot tell
      continue;
    }
    const bool listed_installed =
        std::any_of(installed.begin(), installed.end(), [&](const SignatureRef& r) { return r.version == p->version; });
    if (listed_installed) {
      ++out.confirmed;
      continue;
    }
    InventoryIssue issue;
    issue.package = *p;
    if (listed != nullptr) issue.state = listed->state;
    if (!installed.empty()) {
      issue.kind = InventoryIssueKind::mismatch;
      issue.found = std::move(installed);
      issue.message = std::string(to_string(p->manager)) + " says " + p->name + " " + p->version +
                      " is installed, its files match " + versions_of(issue.found);
      if (listed != nullptr && listed->state != SignatureState::absent)
        issue.message += " (" + p->version + " is " + std::string(to_string(listed->state)) + ")";
      out.issues.push_back(std::move(issue));
    } else if (listed == nullptr) {
      ++out.unknown_version;
      issue.kind = InventoryIssueKind::unverified;
      std::vector<SignatureRef> stored;
      for (const SignatureVerdict* v : it->second) stored.push_back(v->ref);
      issue.message = std::string(to_string(p->manager)) + ": " + p->name + " " + p->version +
                      " installed; no signature of that version; stored: " + versions_of(stored);
      out.issues.push_back(std::move(issue));
    } else if (listed->state == SignatureState::superseded) {
      ++out.confirmed;  // its files were taken over by a later patch (of another name)
    } else {
      issue.kind = InventoryIssueKind::incomplete;
      issue.message = incomplete_message(*p, *listed);
      out.issues.push_back(std::move(issue));
    }
  }
  return out;
}

}  // namespace tb
