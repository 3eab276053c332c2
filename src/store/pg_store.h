// The PostgreSQL store's class (store/postgres_store.h for its contract). Internal: the
// core tables are in postgres_store.cpp, the fleet tables in postgres_fleet.cpp.
//
// Every public method runs its body through `guarded`: the body opens its own transaction
// and throws (pg::Failure for trustbase errors, libpqxx's exceptions for the database's);
// `guarded` turns them into tb::Expected and runs the body again after a serialization
// failure or deadlock. Thread-safety: none (one thread at a time, as store.h says).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <pqxx/pqxx>

#include "store/pg_util.h"
#include "store/postgres_store.h"
#include "store/release_links.h"
#include "store/store.h"

namespace tb::pg {

// The statements that look chunks up by digest, run for every scan posted. Each must stay
// an index look-up whatever the table's statistics say: a plan made while `chunks` was
// small (a new store, or one analysed while small) is cached with the prepared statement
// until the next ANALYZE, which autovacuum runs a minute or more later, and a fleet being
// onboarded adds tens of thousands of chunks meanwhile: `digest IN (SELECT ...)` became a
// hash join over the whole table, a scalar subquery a sequential scan per digest. So they
// are scalar subqueries (never turned into joins), prepared only in put_manifest's
// transaction after kIndexLookUpsOnly; the functions put_scan() and stored_chunks()
// (migration 13) use the same look-ups with enable_seqscan off and plans made once per
// session. Tested with generic plans on a new store, on a small analysed one and on one
// grown since.
inline constexpr const char* kIndexLookUpsOnly = "SET LOCAL enable_seqscan = off";
// New chunks, from arrays: $1 hex digests (text[]), $2 records, $3 sizes (bigint[]), $4
// hex contents (text[]). Arrays, not a temporary table COPYed into and emptied per
// manifest: a temporary table is never vacuumed, and its dead rows made every statement
// reading it slower, manifest after manifest (minutes for 10,000 new hosts).
inline constexpr const char* kStoreNewChunks =
    "INSERT INTO chunks(digest, records, bytes, data)"
    " SELECT decode(t.d, 'hex'), t.r, t.b, decode(t.x, 'hex')"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS t(d, r, b, x)"
    " WHERE (SELECT c.id FROM chunks c WHERE c.digest = decode(t.d, 'hex')) IS NULL"
    " ORDER BY t.d ON CONFLICT (digest) DO NOTHING";
// Bounds of one statement of put_manifest(): chunks, and hex characters of content.
inline constexpr std::size_t kMaxChunkBatch = 4096;
inline constexpr std::size_t kMaxChunkBatchChars = 32u << 20;
// One row per digest of $1 (a text[] of hex), in its order: `column` of the stored chunk
// with that digest, NULL when there is none.
inline std::string chunks_by_digest_sql(std::string_view column) {
  return "SELECT (SELECT " + std::string(column) +
         " FROM chunks c WHERE c.digest = decode(h.hex, 'hex')) FROM unnest($1::text[]) WITH ORDINALITY AS h(hex, n)"
         " ORDER BY h.n";
}

// The SQLSTATE put_scan() (migration 13) raises when a chunk named is neither stored nor sent.
inline constexpr const char* kChunkNotStored = "TB001";

// Where put_scan_row() finds or puts a scan's manifest: the stored manifest `id`, else the
// one whose chunk list's digest is `digest`, stored from `chunks` (postgres_store.cpp)
// unless it is there already.
struct NewManifestArrays;
struct ScanManifest {
  std::optional<std::int64_t> id;
  std::optional<Sha256Digest> digest;
  std::int64_t records = 0;                   // with `chunks`
  const NewManifestArrays* chunks = nullptr;  // the manifest's and the sent chunks' arrays
};

// Advisory lock keys (pg_advisory_xact_lock): writes that read, check and then write hold
// one for their transaction, as SQLite's single writer serialised them.
inline constexpr std::int64_t kTokensLock = 0x7462000000000001;   // tokens, enrolment
inline constexpr std::int64_t kFleetLock = 0x7462000000000002;    // clusters, hosts, snapshots, stages
inline constexpr std::int64_t kSignatureLock = 0x7462000000000003;  // put_signature, put_release

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, std::string redacted, PostgresStoreOptions options)
      : url_(std::move(url)), where_(std::move(redacted)), options_(options) {}

  // Connects and migrates; throws like a method body.
  void connect();

  using Store::put_scan;
  Expected<std::optional<std::int64_t>> put_scan_of_manifest(std::string_view host_name, const ScanDocument& scan,
                                                             const Sha256Digest& chunk_list) override;
  Expected<std::int64_t> put_scan(std::string_view host_name, const ScanDocument& scan,
                                  std::span<const ManifestChunkRef> chunks) override;
  Expected<ScanDocument> get_scan(std::int64_t id) override;
  Expected<std::optional<PackageInventory>> get_scan_inventory(std::int64_t scan_id) override;
  Expected<std::vector<std::optional<std::string>>> find_chunks(std::span<const Sha256Digest> digests) override;
  Expected<std::vector<bool>> has_chunks(std::span<const Sha256Digest> digests) override;
  Expected<std::optional<std::int64_t>> latest_scan(std::string_view host_name) override;
  Expected<std::vector<ScanListing>> list_scans(std::string_view host_name) override;
  Expected<std::vector<HostListing>> list_hosts() override;
  Expected<std::int64_t> put_signature(const Signature& signature) override { return put_release(signature, {}); }
  Expected<std::int64_t> put_release(const Signature& signature, const ReleaseLinker& link) override;
  Expected<std::vector<Signature>> signatures() override;
  Expected<std::vector<SignatureInfo>> signature_infos() override;
  Expected<std::optional<StoredSignature>> find_signature(const SignatureRef& ref) override;
  Expected<std::uint64_t> signature_count() override;
  Expected<StoreStats> stats() override;
  Expected<std::string> add_token(std::string_view name, TokenRole role, std::optional<std::string_view> host) override;
  Expected<std::optional<TokenInfo>> find_token(std::string_view token) override;
  Expected<void> revoke_token(std::string_view name) override;
  Expected<std::optional<Enrolment>> enrol_host(std::string_view host_name, const ScanDocument& scan) override;

  Expected<void> add_cluster(std::string_view name, std::string_view description, std::string_view actor) override;
  Expected<std::vector<ClusterListing>> list_clusters() override;
  Expected<void> set_host(std::string_view name, std::string_view cluster, std::string_view role,
                          std::string_view actor) override;
  Expected<std::int64_t> publish_snapshot(std::string_view cluster, std::string_view source_host,
                                          std::int64_t source_scan_id, const Manifest& manifest,
                                          std::string_view actor) override;
  Expected<Snapshot> get_snapshot(std::string_view cluster, std::optional<std::int64_t> version) override;
  Expected<std::vector<SnapshotListing>> list_snapshots(std::string_view cluster) override;
  Expected<void> set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage,
                           std::string_view actor) override;
  Expected<std::vector<StageRecord>> stages(std::optional<std::string_view> cluster) override;
  Expected<std::vector<StageRecord>> stage_history(std::string_view cluster, const SignatureRef& patch) override;
  Expected<std::vector<SignatureListing>> list_signatures() override;
  Expected<std::int64_t> signature_generation() override;
  Expected<void> put_scan_result(std::int64_t scan_id, const ScanResult& result) override;
  Expected<std::optional<ScanResult>> get_scan_result(std::int64_t scan_id) override;
  Expected<std::vector<HostResult>> latest_results() override;
  Expected<std::vector<AuditEntry>> audit_log(std::size_t limit) override;
  Expected<FleetVersion> fleet_version() override;
  Expected<void> set_host_key(std::string_view host_name, std::string_view public_key, std::string_view actor) override;
  Expected<std::optional<std::string>> host_key(std::string_view host_name) override;
  Expected<ScanContext> scan_context(std::string_view host_name) override;
  Expected<bool> claim_nonce(std::string_view host_name, std::string_view nonce, std::int64_t time,
                             std::int64_t forget_before) override;

 private:
  // Runs `body` (which opens its own transaction on conn()), converting exceptions into
  // errors prefixed with `what`, and retrying serialization failures and deadlocks.
  template <class Body>
  auto guarded(std::string_view what, Body&& body) -> Expected<std::invoke_result_t<Body&>>;

  pqxx::connection& conn();  // connects again after the connection was lost
  // Runs a statement prepared once per connection (named after its SQL text).
  template <class... Args>
  pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
    return tx.exec_prepared(statement(sql), std::forward<Args>(args)...);
  }
  const std::string& statement(const std::string& sql);

  // Core tables (postgres_store.cpp), inside the caller's transaction.
  std::int64_t host_id(pqxx::transaction_base& tx, const std::string& name);  // creating it
  // put_release()'s steps, inside its transaction (holding kSignatureLock).
  std::int64_t insert_signature(pqxx::transaction_base& tx, const SignatureInfo& info, std::int64_t manifest);
  void relink(pqxx::transaction_base& tx, const store::Relink& relink, const SignatureRef& cause);
  std::int64_t put_manifest(pqxx::transaction_base& tx, const Manifest& manifest,
                            std::span<const ManifestChunkRef> known = {});
  Manifest get_manifest(pqxx::transaction_base& tx, std::int64_t id);
  pqxx::result chunks_among(pqxx::transaction_base& tx, std::span<const Sha256Digest> digests, const char* column);
  pqxx::result stored_chunks(std::span<const Sha256Digest> digests, bool with_data);
  std::optional<std::int64_t> put_scan_row(pqxx::transaction_base& tx, const std::string& host,
                                           const ScanManifest& manifest, const ScanDocument& scan);
  // Runs body(tx) in a transaction when it makes `several` statements, else in none.
  template <class Body>
  auto in_one_statement_unless(bool several, Body&& body);
  std::optional<PackageInventory> scan_inventory(pqxx::transaction_base& tx, std::int64_t scan_id);
  std::string new_token_row(pqxx::transaction_base& tx, const std::string& name, TokenRole role,
                            const std::optional<std::string>& host);
  // Fleet (postgres_fleet.cpp).
  void audit(pqxx::transaction_base& tx, std::string_view actor, std::string_view action, std::string_view object,
             std::string_view detail);
  std::int64_t cluster_id(pqxx::transaction_base& tx, std::string_view name);  // not_found when unknown

  std::string url_;
  std::string where_;  // url_ without its password, for messages
  PostgresStoreOptions options_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unordered_map<std::string, std::string> statements_;  // SQL -> prepared statement name
};

template <class Body>
auto PostgresStore::guarded(std::string_view what, Body&& body) -> Expected<std::invoke_result_t<Body&>> {
  using T = std::invoke_result_t<Body&>;
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= options_.max_attempts;
    try {
      if constexpr (std::is_void_v<T>) {
        body();
        return {};
      } else {
        return body();
      }
    } catch (const Failure& f) {
      return tl::unexpected(f.error);
    } catch (const pqxx::transaction_rollback& e) {
      // Serialization failure or deadlock with another connection: run it again.
      if (!last) continue;
      return tl::unexpected(to_error(e, what));
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();  // the next call connects again
      return tl::unexpected(to_error(e, what));
    } catch (const pqxx::in_doubt_error& e) {
      conn_.reset();
      return tl::unexpected(to_error(e, what));
    } catch (const pqxx::sql_error& e) {
      if (!last && retryable(e.sqlstate())) continue;
      return tl::unexpected(to_error(e, what));
    } catch (const std::exception& e) {
      return tl::unexpected(to_error(e, what));
    }
  }
}

}  // namespace tb::pg
