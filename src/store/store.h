// The store: scans and signatures, kept content-addressed and deduplicated so that the
// history of a whole fleet fits one machine. This interface is what the server and the
// CLI use; SQLite implements it (store/sqlite_store.h), PostgreSQL can later.
//
// Contract shared by every implementation:
// - Every call returns tb::Expected; no exception crosses this interface.
// - Writes are atomic: a failed put_* leaves the store exactly as it was.
// - Absence is ErrorCode::not_found (get_scan), or an empty result (latest_scan, list_scans).
// - Byte strings (host names, paths, link targets) are stored verbatim, UTF-8 or not.
// - Thread-safety: a Store object is used by one thread at a time; open one per thread.
//   Several Store objects (threads or processes) may share one database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/error.h"
#include "core/manifest.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "core/signature.h"
#include "core/stage.h"
#include "format/manifest_chunks.h"

namespace tb {

// One line of a host's scan history.
struct ScanListing {
  std::int64_t id = 0;
  std::int64_t started_ns = 0;
  std::int64_t finished_ns = 0;
  Sha256Digest manifest_digest;
  std::uint64_t records = 0;  // file records in the scan's manifest
  std::uint64_t errors = 0;   // summary.errors: all errors met, listed or not
  bool operator==(const ScanListing&) const = default;
};

// One host as the store knows it: registered by its first scan.
struct HostListing {
  std::string name;
  std::string cluster;                // empty until the fleet commands set it
  std::string role;
  std::uint64_t scans = 0;
  std::int64_t latest_scan_id = 0;    // 0 when the host has no scan
  std::int64_t latest_started_ns = 0;
  bool operator==(const HostListing&) const = default;
};

// What the store holds, for capacity planning and for the dedup tests.
struct StoreStats {
  std::uint64_t hosts = 0;
  std::uint64_t scans = 0;
  std::uint64_t signatures = 0;
  std::uint64_t manifests = 0;       // distinct manifests (by content digest)
  std::uint64_t chunks = 0;          // distinct directory chunks (by content digest)
  std::uint64_t records_stored = 0;  // file records physically stored (in chunks)
  std::uint64_t chunk_bytes = 0;     // encoded size of all chunks
  std::uint64_t database_bytes = 0;  // size of the database, free pages included
};

// What an API token may do (the server enforces it, server/auth.h):
// admin everything; host posts scans (for its bound host, if any) and reads its own
// report; reader only reads; enrol posts the first scan of a host that has no host token
// yet and receives a new host token for it (Store::enrol_host).
enum class TokenRole : std::uint8_t { admin, host, reader, enrol };
std::string_view to_string(TokenRole role) noexcept;
std::optional<TokenRole> token_role_from_string(std::string_view text) noexcept;

// An API token as stored: never the token itself, only its SHA-256.
struct TokenInfo {
  std::int64_t id = 0;
  std::string name;                 // unique; what the request log shows
  TokenRole role = TokenRole::reader;
  std::optional<std::string> host;  // host tokens: the only host it may post for / read
  std::int64_t created_ns = 0;
  bool operator==(const TokenInfo&) const = default;
};

// What an enrolment created: the scan, and the host's new token (shown this once).
struct Enrolment {
  std::int64_t scan_id = 0;
  std::string token_name;
  std::string token;
};

// A stored signature's identity and content, for idempotent imports.
struct StoredSignature {
  std::int64_t id = 0;
  Sha256Digest manifest_digest;
};

// ---- Fleet: clusters, memberships, reference snapshots, promotion stages -----------
// Names (clusters, roles), descriptions and actors are plain text (core/path.h
// is_plain_text), at most kMaxFleetName bytes (descriptions kMaxFleetDescription).
inline constexpr std::size_t kMaxFleetName = 255;
inline constexpr std::size_t kMaxFleetDescription = 1024;

struct ClusterListing {
  std::string name;
  std::string description;
  std::uint64_t members = 0;
  std::int64_t snapshot_version = 0;  // latest reference snapshot, 0 when none
  bool operator==(const ClusterListing&) const = default;
};

// A reference snapshot without its manifest.
struct SnapshotListing {
  std::string cluster;
  std::int64_t version = 0;         // 1, 2, 3... per cluster
  std::string source_host;          // the member (or the document's host) it was taken from
  std::int64_t source_scan_id = 0;  // the stored scan it came from; 0 for a document not stored
  std::int64_t published_ns = 0;
  std::string actor;
  Sha256Digest manifest_digest;
  std::uint64_t records = 0;
  bool operator==(const SnapshotListing&) const = default;
};

struct Snapshot {
  SnapshotListing info;
  Manifest manifest;  // the source scan's, whole
};

// A patch's stage in a cluster: the current one (Store::stages) or one change of it
// (Store::stage_history).
struct StageRecord {
  std::string cluster;
  SignatureRef patch;
  Stage stage = Stage::tested;
  std::int64_t set_ns = 0;
  std::string actor;
  bool operator==(const StageRecord&) const = default;
};

// A stored signature without its manifest; `id` is what ScanResult states refer to.
struct SignatureListing {
  std::int64_t id = 0;
  SignatureRef ref;
  SignatureKind kind = SignatureKind::product;
  std::uint64_t records = 0;
  bool operator==(const SignatureListing&) const = default;
};

struct DeviationCounts {
  std::uint64_t added = 0, removed = 0, modified = 0;
  std::uint64_t config = 0;  // of `modified`: files a signature marks as configuration
  bool operator==(const DeviationCounts&) const = default;
};

struct SignatureStateEntry {
  std::int64_t signature_id = 0;  // SignatureListing::id
  SignatureState state = SignatureState::absent;
  bool operator==(const SignatureStateEntry&) const = default;
};

// The cached analysis of one scan, so that fleet reports never re-analyse manifests.
struct ScanResult {
  std::int64_t signature_generation = 0;    // Store::signature_generation() it was computed at
  std::vector<SignatureStateEntry> states;  // ascending signature ids, each once
  DeviationCounts deviations;               // the analysis' deviating files
  std::int64_t snapshot_version = 0;        // snapshot of the host's cluster compared with; 0 none
  DeviationCounts drift;                    // against that snapshot
  std::uint64_t inventory_mismatches = 0;   // the analysis' inventory issues (InventoryCheck::issues)
  bool operator==(const ScanResult&) const = default;
};

// One host's latest scan and its cached result: a row of the fleet report.
struct HostResult {
  std::string host;
  std::string cluster;                // empty when the host belongs to none
  std::string role;
  std::int64_t scan_id = 0;           // latest scan (latest_scan() order); 0 when none
  std::int64_t scan_started_ns = 0;
  std::optional<ScanResult> result;   // nullopt when not computed for that scan
  // The result was compared with the latest snapshot of the host's current cluster (or
  // with none, when that cluster has none or the host has no cluster).
  bool snapshot_current = false;
  // Whether `result` can be used as it is: computed, at `signature_generation`, against
  // the cluster's current snapshot. Otherwise the caller re-analyses and put_scan_result()s.
  bool is_current(std::int64_t signature_generation) const {
    return result && result->signature_generation == signature_generation && snapshot_current;
  }
  bool operator==(const HostResult&) const = default;
};

// One administrative write: who did what to which object, and when.
struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at_ns = 0;
  std::string actor;   // "cli:alice", "token:deploy-bot"...
  std::string action;  // cluster.add, host.set, snapshot.publish, stage.set, signature.relink
  std::string object;  // the cluster, host or "cluster:patch@version" concerned
  std::string detail;  // what changed, in words
  bool operator==(const AuditEntry&) const = default;
};

// Sets the relations (kind, patches, supersedes) of the releases of one package name,
// given all of them; it changes no other field. Store::put_release() runs it.
using ReleaseLinker = std::function<void(std::span<SignatureInfo> releases)>;

class Store {
 public:
  virtual ~Store() = default;

  // Group commit (server/shared_store.h, SharedStore::write): the writes made between
  // begin_batch() and commit_batch() share one transaction, so one commit (one fdatasync)
  // serves them all, while each stays all-or-nothing on its own (a savepoint). A store
  // that commits each write alone (PostgreSQL: its writers do not queue on one lock)
  // answers false to groups_commits() and is never asked for a batch.
  virtual bool groups_commits() const { return false; }
  virtual Expected<void> begin_batch() { return {}; }
  // False once the batch's transaction has been rolled back under it (SQLite does that on
  // some disk errors): the writes made in it so far are gone, and none may follow.
  virtual bool batch_open() const { return false; }
  // Commits the batch; an error when it failed or had been rolled back (nothing of it stored).
  virtual Expected<void> commit_batch() { return {}; }
  // Rolls the batch back, when one is open.
  virtual void abort_batch() {}

  // Stores one scan of `host_name` (creating the host when new), all or nothing, and
  // returns the scan's id. Manifest and chunks already stored are shared, not copied.
  Expected<std::int64_t> put_scan(std::string_view host_name, const ScanDocument& scan) {
    return put_scan(host_name, scan, {});
  }
  // The same with the manifest's chunks as a chunked upload delivered them
  // (AssembledScan::chunks: the manifest's split, in its order, sent ones checked against
  // their digest): the manifest's digest is their list's (manifest_digest), so a stored
  // one is found and a new one stored without encoding or hashing its chunks again.
  // scan.manifest may then be empty (the chunks are the manifest, and no record is read):
  // a chunk named without its data that the store lacks is not_found, nothing written
  // (with the manifest, it would be encoded from it). Empty: the store splits the
  // manifest itself.
  virtual Expected<std::int64_t> put_scan(std::string_view host_name, const ScanDocument& scan,
                                          std::span<const ManifestChunkRef> chunks) = 0;
  // Stores a scan whose manifest the store holds already, named by its digest (that of
  // its chunk list, chunk_list_digest): the scan's row alone is written and scan.manifest is
  // not read. nullopt, with nothing written, when no stored manifest has that chunk list
  // (the caller then stores the whole scan).
  virtual Expected<std::optional<std::int64_t>> put_scan_of_manifest(std::string_view host_name,
                                                                     const ScanDocument& scan,
                                                                     const Sha256Digest& chunk_list) = 0;
  // The scan as stored: equal header, manifest, errors and summary. not_found when absent.
  virtual Expected<ScanDocument> get_scan(std::int64_t id) = 0;
  // The installed packages the scan listed (ScanHeader::inventory) without loading its
  // manifest; nullopt when it listed none (not_found when the scan is unknown).
  virtual Expected<std::optional<PackageInventory>> get_scan_inventory(std::int64_t scan_id) = 0;
  // The content of stored directory chunks (format/manifest_chunks.h) by digest, in the
  // order asked, each checked against its digest; nullopt for one the store does not
  // hold. What a chunked upload (format/chunked_scan.h) refers to.
  virtual Expected<std::vector<std::optional<std::string>>> find_chunks(std::span<const Sha256Digest> digests) = 0;
  // Which of these chunks the store holds, in the order asked (no content read).
  virtual Expected<std::vector<bool>> has_chunks(std::span<const Sha256Digest> digests) = 0;
  // The id of the host's scan that started last (ties: the later stored); nullopt when
  // the host is unknown or has no scan.
  virtual Expected<std::optional<std::int64_t>> latest_scan(std::string_view host_name) = 0;
  // The host's scans, oldest first (by start time, then by id); empty when unknown.
  virtual Expected<std::vector<ScanListing>> list_scans(std::string_view host_name) = 0;
  // Every host, by name, with its number of scans and its latest one.
  virtual Expected<std::vector<HostListing>> list_hosts() = 0;

  // Stores a signature and returns its id. Signatures are immutable history: putting the
  // same name@version with the same manifest again returns the existing id (metadata of
  // the first import is kept); with a different manifest it is ErrorCode::invalid_argument.
  virtual Expected<std::int64_t> put_signature(const Signature& signature) = 0;
  // Stores a package release as put_signature() does and, in the same transaction, links
  // it among the stored releases of its name: `link` (sources/relations.h link_releases)
  // is given every stored signature of that name, the new one last, and sets the relations
  // of those whose `linked_by` is set. The new one is stored with the relations it gets;
  // each stored one whose relations change is updated (manifests and every other field
  // stay as stored) and recorded in the audit log as signature.relink. Nothing is linked
  // when name@version is stored already. `link` may run more than once (a retried
  // transaction); without one this is put_signature().
  virtual Expected<std::int64_t> put_release(const Signature& signature, const ReleaseLinker& link) = 0;
  // Every signature, in the order they were stored.
  virtual Expected<std::vector<Signature>> signatures() = 0;
  // The metadata of every signature (no manifest: cheap), in the order they were stored.
  virtual Expected<std::vector<SignatureInfo>> signature_infos() = 0;
  // The stored signature name@version, nullopt when there is none.
  virtual Expected<std::optional<StoredSignature>> find_signature(const SignatureRef& ref) = 0;

  // The number of stored signatures (cheap: the server checks it per request to know
  // when its cached SignatureIndex is stale).
  virtual Expected<std::uint64_t> signature_count() = 0;

  virtual Expected<StoreStats> stats() = 0;

  // Creates an API token and returns it, in plain text, this once: the store keeps only
  // its SHA-256. Tokens are 32 random bytes (OpenSSL RAND_bytes) as "tb_" + 64 hex digits.
  // invalid_argument when the name is taken or empty, or a host binding is given for a
  // role other than host.
  virtual Expected<std::string> add_token(std::string_view name, TokenRole role,
                                          std::optional<std::string_view> host) = 0;
  // The live (not revoked) token whose SHA-256 matches `token`, nullopt when none does.
  // The lookup is by hash, so no timing comparison of secrets happens here: an attacker
  // timing it learns about SHA-256 preimages at best, which is no help.
  virtual Expected<std::optional<TokenInfo>> find_token(std::string_view token) = 0;
  // Revokes a token by name; not_found when no such live token exists.
  virtual Expected<void> revoke_token(std::string_view name) = 0;
  // ---- Fleet. Every write below is one transaction and adds an audit_log entry,
  // except put_scan_result (derived data, recomputed at will). Unknown clusters, hosts,
  // scans and signatures are ErrorCode::not_found; bad names are invalid_argument.

  // Creates a cluster. invalid_argument when the name is empty, taken or not plain text.
  virtual Expected<void> add_cluster(std::string_view name, std::string_view description,
                                     std::string_view actor) = 0;
  // Every cluster, by name.
  virtual Expected<std::vector<ClusterListing>> list_clusters() = 0;
  // Puts host `name` in `cluster` with `role` (a non-empty label: active, inactive, or
  // any other), creating the host when new. not_found when the cluster does not exist.
  virtual Expected<void> set_host(std::string_view name, std::string_view cluster, std::string_view role,
                                  std::string_view actor) = 0;

  // Publishes `manifest` as the cluster's next reference snapshot and returns its version
  // (1 for the first). Older versions are kept. The manifest is stored content-addressed,
  // so publishing one equal to a stored scan costs one row. source_scan_id: the stored
  // scan it was taken from, 0 for none (a document read from a file).
  virtual Expected<std::int64_t> publish_snapshot(std::string_view cluster, std::string_view source_host,
                                                  std::int64_t source_scan_id, const Manifest& manifest,
                                                  std::string_view actor) = 0;
  // A snapshot with its manifest: `version`, or the latest when nullopt. not_found when
  // the cluster or the version does not exist (or the cluster has no snapshot).
  virtual Expected<Snapshot> get_snapshot(std::string_view cluster, std::optional<std::int64_t> version) = 0;
  // The cluster's snapshots, oldest first. not_found for an unknown cluster.
  virtual Expected<std::vector<SnapshotListing>> list_snapshots(std::string_view cluster) = 0;

  // Sets the stage of a stored patch signature in a cluster, keeping the history.
  // invalid_argument when `patch` is a product.
  virtual Expected<void> set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage,
                                   std::string_view actor) = 0;
  // Current stages, by cluster name, then patch in signature order; of one cluster when
  // given (not_found if unknown).
  virtual Expected<std::vector<StageRecord>> stages(std::optional<std::string_view> cluster) = 0;
  // Every stage a patch was set to in a cluster, oldest first (empty when never set).
  virtual Expected<std::vector<StageRecord>> stage_history(std::string_view cluster,
                                                               const SignatureRef& patch) = 0;

  // Every signature's id, ref and kind without its manifest, in the order of signatures().
  virtual Expected<std::vector<SignatureListing>> list_signatures() = 0;
  // Grows whenever a signature is stored (the highest signature id; 0 for none): a
  // cached ScanResult computed at another generation is stale.
  virtual Expected<std::int64_t> signature_generation() = 0;
  // Caches the analysis of a stored scan, replacing any earlier one. invalid_argument
  // when the states are not in ascending id order, name an unknown signature, or the
  // generation is ahead of the store; snapshot_version must name a snapshot of the
  // scan's host's current cluster.
  virtual Expected<void> put_scan_result(std::int64_t scan_id, const ScanResult& result) = 0;
  // The cached result of a scan; nullopt when none (not_found when the scan is unknown).
  virtual Expected<std::optional<ScanResult>> get_scan_result(std::int64_t scan_id) = 0;
  // Every host, by name, with its latest scan and that scan's cached result: one query.
  virtual Expected<std::vector<HostResult>> latest_results() = 0;

  // The newest `limit` audit entries, newest first.
  virtual Expected<std::vector<AuditEntry>> audit_log(std::size_t limit) = 0;

  // Enrols a host with its first scan, all or nothing: stores `scan` as put_scan does
  // and creates a host token bound to `host_name` (named "enrolled:<host>", with "#2",
  // "#3"... when taken). nullopt, and nothing written, when the host already has a live
  // host token: an enrolment token must not hand out a second key to an enrolled host
  // (revoke its token to enrol it again). Its cluster and role are set_host's business.
  virtual Expected<std::optional<Enrolment>> enrol_host(std::string_view host_name, const ScanDocument& scan) = 0;

  // What the fleet view depends on, as three ever-growing ids: a cache of it (the server's
  // fleet matrix) is valid while they are unchanged. Every fleet write is audited, every
  // scan and signature gets a new id, and none is ever deleted.
  struct FleetVersion {
    std::int64_t signatures = 0, scans = 0, audit = 0;
    bool operator==(const FleetVersion&) const = default;
  };
  virtual Expected<FleetVersion> fleet_version() = 0;

  // ---- Host keys of signed scans (core/scan_signature.h).
  // Sets (or replaces) the host's Ed25519 public key, 32 raw bytes; creates the host when
  // new; audited as host.key with the key's base64.
  virtual Expected<void> set_host_key(std::string_view host_name, std::string_view public_key,
                                      std::string_view actor) = 0;
  virtual Expected<std::optional<std::string>> host_key(std::string_view host_name) = 0;
  // What a posted scan needs besides itself, read together: one round trip on a store
  // across the network, on every scan posted.
  struct ScanContext {
    std::optional<std::string> host_key;    // host_key(host_name)
    std::int64_t signature_generation = 0;  // signature_generation()
  };
  virtual Expected<ScanContext> scan_context(std::string_view host_name) {
    auto key = host_key(host_name);
    if (!key) return tl::unexpected(key.error());
    auto generation = signature_generation();
    if (!generation) return tl::unexpected(generation.error());
    return ScanContext{std::move(*key), *generation};
  }
  // Records the nonce of a signed upload; false when the host already used it (a replay).
  // Drops the nonces signed before `forget_before` (unix seconds) on the way: older
  // uploads are refused by their time alone.
  virtual Expected<bool> claim_nonce(std::string_view host_name, std::string_view nonce, std::int64_t time,
                                     std::int64_t forget_before) = 0;
};

}  // namespace tb
