// Analysis: a scan judged against the imported signatures (which products and patches
// are installed, complete, tampered...) and against a cluster's reference snapshot.
// Pure: no I/O. Results are value types that own their strings, so they outlive both
// the scan and the index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diff.h"
#include "core/manifest.h"
#include "core/path_policy.h"
#include "core/scan_document.h"
#include "core/signature.h"
#include "core/signature_index.h"

namespace tb {

// Attributes compared between a signature's record and the scanned one by default.
// mode is left out because many packages do not fix it (umask, post-install scripts);
// uid/gid/mtime because packages cannot know them across hosts.
inline constexpr AttrSet kSignatureAttrs =
    AttrSet::from_bits(static_cast<std::uint16_t>(Attr::type) | static_cast<std::uint16_t>(Attr::size) |
                       static_cast<std::uint16_t>(Attr::sha256) | static_cast<std::uint16_t>(Attr::link_target));

struct AnalysisOptions {
  // Attributes compared for signature files; an attribute is compared only when both
  // records carry it, and type always is. Default kSignatureAttrs; add Attr::mode to
  // check permissions too.
  AttrSet compare = kSignatureAttrs;
  // List the file issues of `absent` signatures too (default false: "every file missing"
  // for each of hundreds of uninstalled signatures would swamp a report; counts still say it).
  bool list_absent_issues = false;
  // What the scan covered (its roots, canonical absolute paths). Signature records outside
  // every root are not expected: a scan of /opt says nothing about a package's /usr/bin
  // or about the /etc directory above a scanned /etc/app. Empty: the whole tree.
  std::vector<std::string> roots;
  // What the host's package managers list as installed (ScanHeader::inventory), or null.
  // With it, a package signature (imported from a .deb or .rpm) of a manager the
  // inventory covers is judged as what the manager says: not listed, or listed at
  // another stored version that is not later in its chain, is `absent` whatever its files
  // look like; listed at a version the store has no signature of is `unverified`. Its
  // files are then never blamed on it.
  const PackageInventory* inventory = nullptr;
  // Paths that are ignored or expected to differ: never deviations. Default: the default
  // policy (logs, caches, machine-id...); the server may configure another.
  PathPolicy policy = default_path_policy();
};

enum class SignatureState : std::uint8_t {
  complete,    // every file present and matching (or replaced by complete later patches)
  partial,     // some files match, others missing / not applied / modified
  absent,      // nothing of it is installed (or another version of it is)
  superseded,  // a patch whose changed files are all replaced by a complete later patch
  tampered,    // every file present, some modified
  unverified,  // the package manager lists a version of it the store has no signature of
};
inline constexpr SignatureState kLastSignatureState = SignatureState::unverified;  // stores check against it
std::string_view to_string(SignatureState state) noexcept;

enum class IssueKind : std::uint8_t {
  missing,         // no record at the path
  modified,        // content no known signature explains
  not_applied,     // still the content of an earlier signature of the chain (base, superseded patch)
  replaced,        // content of a later signature of the chain, or of another version
  config_changed,  // a configuration file (conffile, %config) the admin changed: expected, not tampering
};
std::string_view to_string(IssueKind kind) noexcept;

// One signature file that does not match the scan.
struct FileIssue {
  std::string path;
  IssueKind kind = IssueKind::missing;
  AttrSet changed;                    // compared attributes that differ (empty for missing)
  std::optional<SignatureRef> other;  // the signature whose record the scan matches, if any
  bool operator==(const FileIssue&) const = default;
};

struct VerdictCounts {
  std::size_t expected = 0;  // records of the signature
  std::size_t matching = 0, missing = 0, modified = 0, not_applied = 0, replaced = 0;
  std::size_t config_changed = 0;  // not counted as modified: leaves the state complete
  bool operator==(const VerdictCounts&) const = default;
};

struct SignatureVerdict {
  SignatureRef ref;
  SignatureKind kind = SignatureKind::product;
  SignatureState state = SignatureState::absent;
  VerdictCounts counts;
  std::vector<FileIssue> issues;            // path order (config_changed included); empty for
                                            // absent unless asked
  std::vector<SignatureRef> superseded_by;  // superseded patch: the later patches holding its files
  std::vector<SignatureRef> patched_by;     // product: later patches installed (complete or superseded)
  std::vector<SignatureRef> other_version;  // absent: the versions of the same name found instead
};

// One deviating path, attributed to the signatures it concerns.
struct FileDeviation {
  std::string path;
  Change change = Change::modified;          // added: no signature (or snapshot) lists it
  AttrSet changed;                           // modified: attributes that differ (union over owners)
  std::vector<SignatureRef> owners;          // signatures listing the path
  std::vector<SignatureRef> content_owners;  // signatures with a file of the content found on the
                                             // host (empty for removed or unhashed records)
  bool operator==(const FileDeviation&) const = default;
};

// The host's package managers against its files (ScanHeader::inventory): where what dpkg
// or rpm says is installed is not what the signatures found on disk.
enum class InventoryIssueKind : std::uint8_t {
  mismatch,    // "inventory_mismatch": the files match another version of the package
  incomplete,  // "inventory_incomplete": the listed version's signature is absent, partial
               // or tampered, and no other version's files are there either
  unverified,  // "unverified": the listed version has no signature, other versions do; a
               // warning (the files cannot be checked), not a deviation
};
std::string_view to_string(InventoryIssueKind kind) noexcept;

struct InventoryIssue {
  InventoryIssueKind kind = InventoryIssueKind::mismatch;
  InstalledPackage package;             // as the package manager lists it
  std::vector<SignatureRef> found;      // mismatch: the versions whose files are installed
  std::optional<SignatureState> state;  // the listed version's signature state, when there is one
  std::string message;                  // "dpkg says openssl 3.0.11 is installed, its files match 3.0.9"
  bool operator==(const InventoryIssue&) const = default;
};

struct InventoryCheck {
  std::size_t listed = 0;              // packages the inventory lists (name, version, manager once)
  std::size_t confirmed = 0;           // the listed version's signature is complete (or superseded)
  std::size_t without_signature = 0;   // no signature of that name: counted, not an issue
  std::size_t unknown_version = 0;     // signatures of the name, none of that version (each also an
                                       // `unverified` issue)
  std::size_t not_covered = 0;         // the listed version's files lie outside the scanned roots
  std::vector<InventoryIssue> issues;  // by manager, name, version
  std::size_t warnings = 0;            // the inventory's own warnings (it may be incomplete)
  bool operator==(const InventoryCheck&) const = default;
};

struct Analysis {
  std::vector<SignatureVerdict> verdicts;   // one per signature, in index (Id) order
  std::vector<FileDeviation> deviations;    // path order, each path once
  std::optional<InventoryCheck> inventory;  // nullopt when the scan listed no inventory
  std::string policy;                       // the path policy's name
  std::size_t explained_by_policy = 0;      // scan entries the policy explained
  std::size_t explained_by_snapshot = 0;    // unknown entries the cluster snapshot explained
};

// The one definition of a clean host: no signature partial or tampered, no inventory
// issue (`unverified` ones only with require_signatures), no deviating file.
bool is_clean(const Analysis& analysis, bool require_signatures = false);
// Inventory issues that make a host unclean (all but `unverified`, unless required).
std::size_t blocking_inventory_issues(const InventoryCheck& inventory, bool require_signatures = false);

// Files no signature lists that hold exactly what the cluster's reference snapshot holds
// at that path (kSnapshotAttrs) are explained by the snapshot: they leave `deviations`.
// Signature files are judged by their signatures alone, whatever the snapshot says.
void explain_by_snapshot(Analysis& analysis, const Manifest& scan, const Manifest& snapshot);

// Cross-checks an inventory with the verdicts of an analysis of the same scan. For each
// listed package whose name some signature has: the "installed" versions are the name's
// complete verdicts not patched by a later complete version of the same name. The listed
// version among them: confirmed. Others there instead: mismatch. None there: incomplete
// when the listed version has a signature (absent, partial or tampered; superseded counts
// as confirmed), else unknown_version. A listed version whose signature has nothing under
// the scanned roots is not_covered. O(verdicts + packages).
InventoryCheck check_inventory(const PackageInventory& inventory, std::span<const SignatureVerdict> verdicts);

// Judges `scan` against every signature of `index`. O(scan + signature records): one
// hash lookup per scanned record, one pass over every signature's records.
Analysis analyze(const Manifest& scan, const SignatureIndex& index, const AnalysisOptions& options = {});
// The same for records held elsewhere (a chunked upload's chunks, which need no copy into a
// Manifest): `scan` in strictly increasing path order, as a Manifest holds them.
Analysis analyze(std::span<const FileRecord* const> scan, const SignatureIndex& index,
                 const AnalysisOptions& options = {});
// The same with each record's PathId in `index` looked up before (find_path, or
// SignatureIndex::kNoPath): a chunk's records are looked up once per index and the result
// kept with the chunk (format/chunked_scan.h). path_ids.size() must equal scan.size().
Analysis analyze(std::span<const FileRecord* const> scan, std::span<const SignatureIndex::PathId> path_ids,
                 const SignatureIndex& index, const AnalysisOptions& options = {});
// A scan document judged within what it covered (its roots), its inventory (when it has
// one) cross-checked with check_inventory().
Analysis analyze(const ScanDocument& scan, const SignatureIndex& index, AnalysisOptions options = {});

// Attributes compared between cluster members: everything but mtime, which says when a
// file was deployed on that member, not what it holds.
inline constexpr AttrSet kSnapshotAttrs =
    AttrSet::from_bits(static_cast<std::uint16_t>(kAllAttrs.bits() & ~static_cast<std::uint16_t>(Attr::mtime)));

struct Drift {
  std::vector<FileDeviation> deviations;  // path order; added = on the member only
  DiffCounts counts;
};

struct DriftOptions {
  AttrSet compare = kSnapshotAttrs;
  PathPolicy policy = default_path_policy();  // paths it explains are never drift
  std::vector<std::string> roots;             // the member's scan roots (PathPolicy::for_roots)
};

// A cluster member against the cluster's reference snapshot. At a path some patch lists,
// the member may hold the snapshot's content or the content of any release or patch that
// lists the path (so a patch rolled out to this member is not drift, a hand-edited patched
// binary or a half-applied library is), and may lack the path when some release of the
// package lacks it. Whether a patch belongs on this member at all is its promotion
// stage's question, answered once, by the fleet matrix (unexpected / missing), not here.
// Differences are attributed: owners = signatures listing the path, content_owners by hash.
Drift compare_with_snapshot(const Manifest& member, const Manifest& snapshot, const SignatureIndex& index,
                            const DriftOptions& options = {});

}  // namespace tb
