#include "store/sqlite_store.h"

#include <chrono>
#include <string>
#include <utility>

#include <openssl/rand.h>

#include "store/chunk_codec.h"
#include "store/release_links.h"
#include "store/sqlite_db.h"
#include "store/sqlite_fleet.h"
#include "store/sqlite_schema.h"

namespace tb {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;
using sqlite::Use;

std::string_view digest_bytes(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()};
}

Expected<Sha256Digest> digest_from(std::string_view blob) {
  Sha256Digest d;
  if (blob.size() != d.bytes.size()) return fail(ErrorCode::parse, "corrupt digest in the store");
  std::copy(blob.begin(), blob.end(), reinterpret_cast<char*>(d.bytes.data()));
  return d;
}

// Statements run once or more per stored chunk: kept prepared (Db::cached).
constexpr const char* kFindChunk = "SELECT id FROM chunks WHERE digest = ?";
constexpr const char* kInsertChunk = "INSERT INTO chunks(digest, records, bytes, data) VALUES (?, ?, ?, ?)";
constexpr const char* kFindManifest = "SELECT id FROM manifests WHERE digest = ?";
constexpr const char* kInsertManifest = "INSERT INTO manifests(digest, records, chunk_ids) VALUES (?, ?, ?)";

// A new API token: 32 random bytes as "tb_" + 64 hex digits.
Expected<std::string> new_token_secret() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) return fail(ErrorCode::internal, "no random bytes (OpenSSL RAND_bytes)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = "tb_";
  for (unsigned char b : random) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  return token;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(Db db, std::string path)
      : db_(std::move(db)),
        path_(std::move(path)),
        fleet_(db_, {[this](const Manifest& m) { return put_manifest(m); },
                     [this](std::int64_t id) { return get_manifest(id); }}) {}
  SqliteStore(const SqliteStore&) = delete;  // fleet_ points at db_ and this
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Group commit: the batch is this connection's transaction, each write's own a
  // savepoint in it (sqlite::Transaction nests).
  bool groups_commits() const override { return true; }
  Expected<void> begin_batch() override {
    if (batch_) return fail(ErrorCode::internal, "begin_batch: a batch is open already");
    auto tx = Transaction::begin(db_);
    if (!tx) return tl::unexpected(tx.error());
    batch_.emplace(std::move(*tx));
    return {};
  }
  bool batch_open() const override { return batch_ && sqlite3_get_autocommit(db_.get()) == 0; }
  Expected<void> commit_batch() override {
    if (!batch_) return fail(ErrorCode::internal, "commit_batch: no batch is open");
    const bool open = batch_open();
    Transaction tx = std::move(*batch_);
    batch_.reset();
    if (!open) return fail(ErrorCode::io, "store writes lost: their batch's transaction was rolled back");
    return tx.commit();
  }
  void abort_batch() override { batch_.reset(); }

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
  Expected<std::uint64_t> signature_count() override;
  Expected<StoreStats> stats() override;
  Expected<std::string> add_token(std::string_view name, TokenRole role, std::optional<std::string_view> host) override;
  Expected<std::optional<TokenInfo>> find_token(std::string_view token) override;
  Expected<void> revoke_token(std::string_view name) override;

  // Fleet: clusters, memberships, snapshots, stages, result cache, audit (store/sqlite_fleet.h).
  Expected<void> add_cluster(std::string_view name, std::string_view description, std::string_view actor) override {
    return fleet_.add_cluster(name, description, actor);
  }
  Expected<std::vector<ClusterListing>> list_clusters() override { return fleet_.list_clusters(); }
  Expected<void> set_host(std::string_view name, std::string_view cluster, std::string_view role,
                          std::string_view actor) override {
    return fleet_.set_host(name, cluster, role, actor);
  }
  Expected<std::int64_t> publish_snapshot(std::string_view cluster, std::string_view source_host,
                                          std::int64_t source_scan_id, const Manifest& manifest,
                                          std::string_view actor) override {
    return fleet_.publish_snapshot(cluster, source_host, source_scan_id, manifest, actor);
  }
  Expected<Snapshot> get_snapshot(std::string_view cluster, std::optional<std::int64_t> version) override {
    return fleet_.get_snapshot(cluster, version);
  }
  Expected<std::vector<SnapshotListing>> list_snapshots(std::string_view cluster) override {
    return fleet_.list_snapshots(cluster);
  }
  Expected<void> set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage,
                           std::string_view actor) override {
    return fleet_.set_stage(cluster, patch, stage, actor);
  }
  Expected<std::vector<StageRecord>> stages(std::optional<std::string_view> cluster) override {
    return fleet_.stages(cluster);
  }
  Expected<std::vector<StageRecord>> stage_history(std::string_view cluster, const SignatureRef& patch) override {
    return fleet_.stage_history(cluster, patch);
  }
  Expected<std::vector<SignatureListing>> list_signatures() override { return fleet_.list_signatures(); }
  Expected<std::int64_t> signature_generation() override { return fleet_.signature_generation(); }
  Expected<void> put_scan_result(std::int64_t scan_id, const ScanResult& result) override {
    return fleet_.put_scan_result(scan_id, result);
  }
  Expected<std::optional<ScanResult>> get_scan_result(std::int64_t scan_id) override {
    return fleet_.get_scan_result(scan_id);
  }
  Expected<std::vector<HostResult>> latest_results() override { return fleet_.latest_results(); }
  Expected<std::vector<AuditEntry>> audit_log(std::size_t limit) override { return fleet_.audit_log(limit); }
  Expected<FleetVersion> fleet_version() override { return fleet_.fleet_version(); }
  Expected<void> set_host_key(std::string_view host, std::string_view key, std::string_view actor) override {
    return fleet_.set_host_key(host, key, actor);
  }
  Expected<std::optional<std::string>> host_key(std::string_view host) override { return fleet_.host_key(host); }
  Expected<bool> claim_nonce(std::string_view host, std::string_view nonce, std::int64_t time,
                             std::int64_t forget_before) override {
    return fleet_.claim_nonce(host, nonce, time, forget_before);
  }
  Expected<std::optional<StoredSignature>> find_signature(const SignatureRef& ref) override;
  Expected<std::optional<Enrolment>> enrol_host(std::string_view host_name, const ScanDocument& scan) override;

 private:
  // Runs `sql` with `bind` applied and returns the first column of the first row as an
  // id, or nullopt when there is no row.
  template <class Bind>
  Expected<std::optional<std::int64_t>> find_id(const char* sql, Bind bind);
  Expected<std::int64_t> insert(const char* sql, auto bind);
  Expected<std::int64_t> host_id(std::string_view name);
  Expected<std::int64_t> put_manifest(const Manifest& manifest, std::span<const ManifestChunkRef> known = {});
  Expected<std::int64_t> put_chunk(const Sha256Digest& digest, std::size_t records, std::string_view data);
  // Links chunk `seq` of a manifest to the stored chunk with `digest`; false (nothing
  // written) when the store has no such chunk.
  Expected<Manifest> get_manifest(std::int64_t id);
  Expected<std::int64_t> insert_scan(std::int64_t host, std::int64_t manifest, const ScanDocument& scan);
  // put_release()'s steps, inside its transaction.
  Expected<std::optional<std::int64_t>> stored_signature_id(const Signature& signature);
  Expected<std::vector<SignatureInfo>> signature_infos_named(const std::string& name);
  Expected<std::int64_t> insert_signature(const SignatureInfo& info, std::int64_t manifest);
  Expected<void> relink(const store::Relink& relink, const SignatureRef& cause);
  Expected<void> put_inventory(std::int64_t scan_id, const PackageInventory& inventory);

  Db db_;
  std::optional<Transaction> batch_;  // open between begin_batch() and commit_batch()/abort_batch()
  std::string path_;
  std::string buffer_;  // chunk encoding buffer, reused across chunks
  sqlite::FleetTables fleet_;  // after db_: it holds a reference to it
};

template <class Bind>
Expected<std::optional<std::int64_t>> SqliteStore::find_id(const char* sql, Bind bind) {
  auto stmt = db_.cached(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  bind(*q);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->column_int(0));
}

Expected<std::int64_t> SqliteStore::insert(const char* sql, auto bind) {
  auto stmt = db_.cached(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  bind(*q);
  if (auto r = q->run(); !r) return tl::unexpected(r.error());
  return db_.last_insert_rowid();
}

Expected<std::int64_t> SqliteStore::host_id(std::string_view name) {
  auto found = find_id("SELECT id FROM hosts WHERE name = ?", [&](Stmt& s) { s.bind_text(1, name); });
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  return insert("INSERT INTO hosts(name) VALUES (?)", [&](Stmt& s) { s.bind_text(1, name); });
}

Expected<std::int64_t> SqliteStore::put_chunk(const Sha256Digest& digest, std::size_t records, std::string_view data) {
  auto found = find_id(kFindChunk, [&](Stmt& s) { s.bind_blob(1, digest_bytes(digest)); });
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  return insert(kInsertChunk, [&](Stmt& s) {
    s.bind_blob(1, digest_bytes(digest))
        .bind(2, static_cast<std::uint64_t>(records))
        .bind(3, static_cast<std::uint64_t>(data.size()))
        .bind_blob_static(4, data);  // data outlives the step inside insert()
  });
}

// Stores a manifest unless one with the same digest is there already: then nothing at
// all is written, which is what makes an identical host cost one scans row. `known` are
// the chunks an upload delivered, in split order, by digest (stored already) or with their
// encoding: the manifest is then found by its chunk list without a pass over its records,
// and stored without encoding or hashing a chunk again. Without them, the manifest is split
// and each chunk encoded and hashed once for its digest, and again only when new. A chunk
// named but not in the store (it never deletes one, but a store is a disk) is encoded from
// the manifest after all.
Expected<std::int64_t> SqliteStore::put_manifest(const Manifest& manifest, std::span<const ManifestChunkRef> known) {
  std::vector<store::ChunkView> split;
  std::vector<ManifestChunkRef> computed;
  const bool from_records = known.empty();
  if (from_records) {
    split = store::split_into_chunks(manifest);
    const std::vector<Sha256Digest> digests = chunk_digests(split);
    computed.reserve(split.size());
    for (std::size_t i = 0; i < split.size(); ++i) computed.push_back(ManifestChunkRef{digests[i], split[i].records.size(), {}});
    known = computed;
  }
  std::vector<Sha256Digest> digests;
  digests.reserve(known.size());
  for (const ManifestChunkRef& c : known) digests.push_back(c.digest);
  const Sha256Digest digest = chunk_list_digest(digests);
  auto found = find_id(kFindManifest, [&](Stmt& s) { s.bind_blob(1, digest_bytes(digest)); });
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  std::uint64_t records = 0;
  std::vector<std::int64_t> chunk_ids;
  chunk_ids.reserve(known.size());
  for (std::size_t i = 0; i < known.size(); ++i) {
    const ManifestChunkRef& c = known[i];
    Expected<std::int64_t> chunk_id = std::int64_t{0};
    records += c.records;
    if (!c.data.empty()) {
      chunk_id = put_chunk(c.digest, c.records, c.data);
    } else {
      // Most chunks are stored already (a fleet shares them).
      auto stored = find_id(kFindChunk, [&](Stmt& s) { s.bind_blob(1, digest_bytes(c.digest)); });
      if (!stored) return tl::unexpected(stored.error());
      if (*stored) {
        chunk_ids.push_back(**stored);
        continue;
      }
      // Not stored: encoded from the manifest.
      if (manifest.empty())  // the caller gave the chunks alone (Store::put_scan)
        return fail(ErrorCode::not_found, "put_scan: chunk " + c.digest.hex() + " is named but not stored");
      if (split.empty()) split = store::split_into_chunks(manifest);
      if (split.size() != known.size())
        return fail(ErrorCode::internal, "put_scan: the chunks given are not the manifest's split");
      buffer_.clear();
      store::encode_chunk(split[i], buffer_);
      // Digests computed above from this very split need no second hash.
      if (!from_records && Sha256::of(buffer_) != c.digest)
        return fail(ErrorCode::internal, "put_scan: the chunks given are not the manifest's split");
      chunk_id = put_chunk(c.digest, split[i].records.size(), buffer_);
    }
    if (!chunk_id) return chunk_id;
    chunk_ids.push_back(*chunk_id);
  }
  const std::string list = store::encode_chunk_ids(chunk_ids);
  return insert(kInsertManifest, [&](Stmt& s) {
    s.bind_blob(1, digest_bytes(digest)).bind(2, records).bind_blob_static(3, list);  // list outlives the step
  });
}

// Reads a manifest back, checking every chunk and the whole against their digests: the
// store of an integrity tool verifies its own data rather than trusting the disk.
Expected<Manifest> SqliteStore::get_manifest(std::int64_t id) {
  auto head = db_.cached("SELECT digest, records, chunk_ids FROM manifests WHERE id = ?");
  if (!head) return tl::unexpected(head.error());
  Use h(**head);
  h->bind(1, id);
  auto row = h->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + " is missing");
  auto expected_digest = digest_from(h->column_blob(0));
  if (!expected_digest) return tl::unexpected(expected_digest.error());
  std::vector<FileRecord> records;
  records.reserve(h->column_uint(1));
  auto chunk_ids = store::decode_chunk_ids(h->column_blob(2));
  if (!chunk_ids)
    return fail(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + ": " + chunk_ids.error().message);

  auto chunks = db_.cached("SELECT digest, data FROM chunks WHERE id = ?");
  if (!chunks) return tl::unexpected(chunks.error());
  Use q(**chunks);
  std::vector<Sha256Digest> read_digests;
  for (const std::int64_t chunk_id : *chunk_ids) {
    q->reset();
    q->bind(1, chunk_id);
    auto found = q->step();
    if (!found) return tl::unexpected(found.error());
    if (!*found)
      return fail(ErrorCode::parse, "corrupt store: chunk " + std::to_string(chunk_id) + " of manifest " +
                                        std::to_string(id) + " is missing");
    const std::string_view data = q->column_blob(1);
    read_digests.push_back(Sha256::of(data));
    if (digest_bytes(read_digests.back()) != q->column_blob(0))
      return fail(ErrorCode::parse, "corrupt store: a chunk of manifest " + std::to_string(id) + " fails its digest");
    if (auto r = store::decode_chunk(data, records); !r) return tl::unexpected(r.error());
  }
  // The manifest's digest is that of its chunk list: checked without a pass over the records.
  if (chunk_list_digest(read_digests) != *expected_digest)
    return fail(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + " fails its digest");
  auto manifest = Manifest::from_records(std::move(records));  // chunks interleave in path order
  if (!manifest) return fail(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + ": " + manifest.error().message);
  return manifest;
}

Expected<std::int64_t> SqliteStore::insert_scan(std::int64_t host, std::int64_t manifest, const ScanDocument& scan) {
  const ScanHeader& h = scan.header;
  const ScanSummary& s = scan.summary;
  const std::string roots = store::encode_strings(h.roots);
  const std::string excludes = store::encode_strings(h.excludes);
  const std::string errors = store::encode_scan_errors(scan.errors);
  auto id = insert(
      "INSERT INTO scans(host_id, manifest_id, format_version, scanner, hostname, os_id, os_version,"
      " os_pretty, kernel, arch, roots, excludes, one_file_system, skip_pseudo_fs, started_ns, finished_ns,"
      " files, directories, symlinks, others, bytes_hashed, errors_total, errors_dropped, errors)"
      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      [&](Stmt& q) {
        q.bind(1, host).bind(2, manifest).bind(3, std::int64_t{h.format_version}).bind_text(4, h.scanner);
        q.bind_text(5, h.host.hostname).bind_text(6, h.host.os_id).bind_text(7, h.host.os_version);
        q.bind_text(8, h.host.os_pretty).bind_text(9, h.host.kernel).bind_text(10, h.host.arch);
        q.bind_blob(11, roots).bind_blob(12, excludes).bind(13, h.one_file_system).bind(14, h.skip_pseudo_fs);
        q.bind(15, h.started_ns).bind(16, s.finished_ns).bind(17, s.files).bind(18, s.directories);
        q.bind(19, s.symlinks).bind(20, s.others).bind(21, s.bytes_hashed).bind(22, s.errors);
        q.bind(23, s.errors_dropped).bind_blob(24, errors);
      });
  if (!id || !h.inventory) return id;
  if (auto r = put_inventory(*id, *h.inventory); !r) return tl::unexpected(r.error());
  return id;
}

// Package inventories: store/chunk_codec.h encode_inventory, stored once per distinct content.

Expected<void> SqliteStore::put_inventory(std::int64_t scan_id, const PackageInventory& inventory) {
  const std::string data = store::encode_inventory(inventory);
  const Sha256Digest digest = Sha256::of(data);
  auto found = find_id("SELECT id FROM package_inventories WHERE digest = ?",
                       [&](Stmt& q) { q.bind_blob(1, digest_bytes(digest)); });
  if (!found) return tl::unexpected(found.error());
  std::int64_t inventory_id = found->value_or(0);
  if (!*found) {
    auto id = insert("INSERT INTO package_inventories(digest, packages, data) VALUES (?, ?, ?)", [&](Stmt& q) {
      q.bind_blob(1, digest_bytes(digest)).bind(2, static_cast<std::uint64_t>(inventory.packages.size()));
      q.bind_blob(3, data);
    });
    if (!id) return tl::unexpected(id.error());
    inventory_id = *id;
  }
  auto row = insert("INSERT INTO scan_inventories(scan_id, inventory_id) VALUES (?, ?)",
                    [&](Stmt& q) { q.bind(1, scan_id).bind(2, inventory_id); });
  if (!row) return tl::unexpected(row.error());
  return {};
}

Expected<std::vector<bool>> SqliteStore::has_chunks(std::span<const Sha256Digest> digests) {
  std::vector<bool> found;
  found.reserve(digests.size());
  for (const Sha256Digest& digest : digests) {
    auto id = find_id(kFindChunk, [&](Stmt& s) { s.bind_blob(1, digest_bytes(digest)); });
    if (!id) return tl::unexpected(id.error());
    found.push_back(id->has_value());
  }
  return found;
}

Expected<std::vector<std::optional<std::string>>> SqliteStore::find_chunks(std::span<const Sha256Digest> digests) {
  auto stmt = db_.cached("SELECT data FROM chunks WHERE digest = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  std::vector<std::optional<std::string>> found;
  found.reserve(digests.size());
  for (const Sha256Digest& digest : digests) {
    Use q(**stmt);
    q->bind_blob(1, digest_bytes(digest));
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) {
      found.emplace_back();
      continue;
    }
    std::string data(q->column_blob(0));
    if (Sha256::of(data) != digest) return fail(ErrorCode::parse, "corrupt store: chunk " + digest.hex() + " fails its digest");
    found.emplace_back(std::move(data));
  }
  return found;
}

Expected<std::optional<PackageInventory>> SqliteStore::get_scan_inventory(std::int64_t scan_id) {
  auto stmt = db_.cached(
      "SELECT i.digest, i.data FROM scan_inventories s JOIN package_inventories i ON i.id = s.inventory_id"
      " WHERE s.scan_id = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind(1, scan_id);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) {
    auto scan = find_id("SELECT id FROM scans WHERE id = ?", [&](Stmt& s) { s.bind(1, scan_id); });
    if (!scan) return tl::unexpected(scan.error());
    if (!*scan) return fail(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");
    return std::optional<PackageInventory>();
  }
  const std::string_view data = q->column_blob(1);
  if (digest_bytes(Sha256::of(data)) != q->column_blob(0))
    return fail(ErrorCode::parse, "corrupt store: the package inventory of scan " + std::to_string(scan_id) +
                                      " fails its digest");
  auto inv = store::decode_inventory(data);
  if (!inv) return tl::unexpected(inv.error());
  return std::optional<PackageInventory>(std::move(*inv));
}

Expected<std::int64_t> SqliteStore::put_scan(std::string_view host_name, const ScanDocument& scan,
                                             std::span<const ManifestChunkRef> chunks) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "put_scan: empty host name");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto host = host_id(host_name);
  if (!host) return host;
  auto manifest = put_manifest(scan.manifest, chunks);
  if (!manifest) return manifest;
  auto id = insert_scan(*host, *manifest, scan);
  if (!id) return fail(id.error().code, "cannot store the scan of " + std::string(host_name) + ": " + id.error().message);
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return id;
}

Expected<std::optional<std::int64_t>> SqliteStore::put_scan_of_manifest(std::string_view host_name,
                                                                      const ScanDocument& scan,
                                                                      const Sha256Digest& chunk_list) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "put_scan: empty host name");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto manifest = find_id(kFindManifest, [&](Stmt& s) { s.bind_blob(1, digest_bytes(chunk_list)); });
  if (!manifest) return tl::unexpected(manifest.error());
  if (!*manifest) return std::optional<std::int64_t>();  // the transaction rolls back: nothing written
  auto host = host_id(host_name);
  if (!host) return tl::unexpected(host.error());
  auto id = insert_scan(*host, **manifest, scan);
  if (!id) return fail(id.error().code, "cannot store the scan of " + std::string(host_name) + ": " + id.error().message);
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return std::optional<std::int64_t>(*id);
}

Expected<ScanDocument> SqliteStore::get_scan(std::int64_t id) {
  std::int64_t manifest_id = 0;
  ScanDocument doc;
  {
    auto stmt = db_.cached(
        "SELECT manifest_id, format_version, scanner, hostname, os_id, os_version, os_pretty, kernel, arch,"
        " roots, excludes, one_file_system, skip_pseudo_fs, started_ns, finished_ns, files, directories,"
        " symlinks, others, bytes_hashed, errors_total, errors_dropped, errors FROM scans WHERE id = ?");
    if (!stmt) return tl::unexpected(stmt.error());
    Use q(**stmt);
    q->bind(1, id);
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return fail(ErrorCode::not_found, "no scan " + std::to_string(id) + " in the store");
    manifest_id = q->column_int(0);
    ScanHeader& h = doc.header;
    h.format_version = static_cast<int>(q->column_int(1));
    h.scanner = q->column_text(2);
    h.host = HostFacts{q->column_text(3), q->column_text(4), q->column_text(5),
                       q->column_text(6), q->column_text(7), q->column_text(8)};
    auto roots = store::decode_strings(q->column_blob(9));
    auto excludes = store::decode_strings(q->column_blob(10));
    auto errors = store::decode_scan_errors(q->column_blob(22));
    if (!roots) return tl::unexpected(roots.error());
    if (!excludes) return tl::unexpected(excludes.error());
    if (!errors) return tl::unexpected(errors.error());
    h.roots = std::move(*roots);
    h.excludes = std::move(*excludes);
    doc.errors = std::move(*errors);
    h.one_file_system = q->column_int(11) != 0;
    h.skip_pseudo_fs = q->column_int(12) != 0;
    h.started_ns = q->column_int(13);
    ScanSummary& s = doc.summary;
    s.finished_ns = q->column_int(14);
    s.files = q->column_uint(15);
    s.directories = q->column_uint(16);
    s.symlinks = q->column_uint(17);
    s.others = q->column_uint(18);
    s.bytes_hashed = q->column_uint(19);
    s.errors = q->column_uint(20);
    s.errors_dropped = q->column_uint(21);
  }
  auto manifest = get_manifest(manifest_id);
  if (!manifest) return tl::unexpected(manifest.error());
  doc.manifest = std::move(*manifest);
  auto inventory = get_scan_inventory(id);
  if (!inventory) return tl::unexpected(inventory.error());
  doc.header.inventory = std::move(*inventory);
  return doc;
}

Expected<std::optional<std::int64_t>> SqliteStore::latest_scan(std::string_view host_name) {
  return find_id(
      "SELECT s.id FROM scans s JOIN hosts h ON h.id = s.host_id WHERE h.name = ?"
      " ORDER BY s.started_ns DESC, s.id DESC LIMIT 1",
      [&](Stmt& s) { s.bind_text(1, host_name); });
}

Expected<std::vector<ScanListing>> SqliteStore::list_scans(std::string_view host_name) {
  auto stmt = db_.cached(
      "SELECT s.id, s.started_ns, s.finished_ns, m.digest, m.records, s.errors_total"
      " FROM scans s JOIN hosts h ON h.id = s.host_id JOIN manifests m ON m.id = s.manifest_id"
      " WHERE h.name = ? ORDER BY s.started_ns, s.id");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, host_name);
  std::vector<ScanListing> out;
  for (;;) {
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    auto digest = digest_from(q->column_blob(3));
    if (!digest) return tl::unexpected(digest.error());
    out.push_back(ScanListing{q->column_int(0), q->column_int(1), q->column_int(2), *digest,
                              q->column_uint(4), q->column_uint(5)});
  }
}

Expected<std::vector<HostListing>> SqliteStore::list_hosts() {
  // The latest scan per host by the same order as latest_scan(): started_ns, then id.
  auto stmt = db_.cached(
      "SELECT h.name, COALESCE((SELECT c.name FROM clusters c WHERE c.id = h.cluster_id), ''), COALESCE(h.role, ''),"
      " (SELECT COUNT(*) FROM scans s WHERE s.host_id = h.id),"
      " COALESCE((SELECT s.id FROM scans s WHERE s.host_id = h.id ORDER BY s.started_ns DESC, s.id DESC LIMIT 1), 0),"
      " COALESCE((SELECT MAX(s.started_ns) FROM scans s WHERE s.host_id = h.id), 0)"
      " FROM hosts h ORDER BY h.name");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  std::vector<HostListing> out;
  for (;;) {
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out.push_back(HostListing{q->column_text(0), q->column_text(1), q->column_text(2), q->column_uint(3),
                              q->column_int(4), q->column_int(5)});
  }
}

Expected<SignatureRef> parse_ref(std::string_view id) {
  auto ref = SignatureRef::parse(id);
  if (!ref) return fail(ErrorCode::parse, "corrupt signature reference in the store: " + std::string(id));
  return *ref;
}

// Every signature's metadata, with the columns read_signature_info() expects.
const std::string kSignatureInfoColumns =
    "SELECT s.name, s.version, s.kind, s.vendor, s.patches, s.supersedes, s.install_root, s.source,"
    " s.source_sha256, s.manifest_id, s.architecture, s.config_paths, s.tag_id,"
    " p.method, p.signer_fingerprint, p.signer_key_id, p.origin, p.suite, p.codename, p.release_sha256,"
    " s.linked_by FROM signatures s LEFT JOIN signature_provenance p ON p.signature_id = s.id";
const std::string kSelectSignatureInfos = kSignatureInfoColumns + " ORDER BY s.id";
const std::string kSelectSignatureInfosNamed = kSignatureInfoColumns + " WHERE s.name = ? ORDER BY s.id";

// One row of kSelectSignatureInfos.
Expected<SignatureInfo> read_signature_info(Stmt& row) {
  Stmt* q = &row;
  SignatureInfo info;
  info.ref = SignatureRef{q->column_text(0), q->column_text(1)};
  auto kind = signature_kind_from_string(q->column_text(2));
  if (!kind) return fail(ErrorCode::parse, "corrupt signature kind in the store");
  info.kind = *kind;
  info.vendor = q->column_text(3);
  if (!q->column_is_null(4)) {
    auto ref = parse_ref(q->column_text(4));
    if (!ref) return tl::unexpected(ref.error());
    info.patches = *ref;
  }
  auto supersedes = store::decode_strings(q->column_blob(5));
  if (!supersedes) return tl::unexpected(supersedes.error());
  for (const std::string& s : *supersedes) {
    auto ref = parse_ref(s);
    if (!ref) return tl::unexpected(ref.error());
    info.supersedes.push_back(*ref);
  }
  info.install_root = q->column_text(6);
  info.source = q->column_text(7);
  if (!q->column_is_null(8)) {
    auto digest = digest_from(q->column_blob(8));
    if (!digest) return tl::unexpected(digest.error());
    info.source_sha256 = *digest;
  }
  info.architecture = q->column_text(10);
  if (!q->column_is_null(11)) {
    auto config = store::decode_strings(q->column_blob(11));
    if (!config) return tl::unexpected(config.error());
    info.config_paths = std::move(*config);
  }
  info.tag_id = q->column_text(12);
  if (const std::string by = q->column_text(20); !by.empty()) {  // relations follow the version order (migration 14)
    info.linked_by = version_scheme_from_string(by);
    if (!info.linked_by) return fail(ErrorCode::parse, "corrupt signature version order in the store");
  }
  if (!q->column_is_null(13)) {  // verified on import (migration 8)
    SignatureProvenance& p = info.provenance;
    auto method = provenance_method_from_string(q->column_text(13));
    if (!method || *method == ProvenanceMethod::none)
      return fail(ErrorCode::parse, "corrupt provenance method in the store");
    p.method = *method;
    p.signer_fingerprint = q->column_text(14);
    p.signer_key_id = q->column_text(15);
    p.origin = q->column_text(16);
    p.suite = q->column_text(17);
    p.codename = q->column_text(18);
    if (!q->column_is_null(19)) {
      auto digest = digest_from(q->column_blob(19));
      if (!digest) return tl::unexpected(digest.error());
      p.release_sha256 = *digest;
    }
  }
  return info;
}

Expected<std::vector<SignatureInfo>> SqliteStore::signature_infos() {
  auto stmt = db_.cached(kSelectSignatureInfos.c_str());
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  std::vector<SignatureInfo> out;
  for (;;) {
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    auto info = read_signature_info(*q);
    if (!info) return tl::unexpected(info.error());
    out.push_back(std::move(*info));
  }
}

Expected<std::vector<SignatureInfo>> SqliteStore::signature_infos_named(const std::string& name) {
  auto stmt = db_.cached(kSelectSignatureInfosNamed.c_str());
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, name);
  std::vector<SignatureInfo> out;
  for (;;) {
    auto row = q->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    auto info = read_signature_info(*q);
    if (!info) return tl::unexpected(info.error());
    out.push_back(std::move(*info));
  }
}

// The id of the stored signature name@version when its manifest is this one's; nullopt
// when there is none; invalid_argument when it is stored with other files.
Expected<std::optional<std::int64_t>> SqliteStore::stored_signature_id(const Signature& sig) {
  auto stmt = db_.cached(
      "SELECT s.id, m.digest FROM signatures s JOIN manifests m ON m.id = s.manifest_id"
      " WHERE s.name = ? AND s.version = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, sig.info.ref.name).bind_text(2, sig.info.ref.version);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::int64_t>();
  if (q->column_blob(1) == digest_bytes(manifest_digest(sig.manifest)))  // same: idempotent
    return std::optional<std::int64_t>(q->column_int(0));
  return fail(ErrorCode::invalid_argument,
              "signature " + sig.info.ref.id() +
                  " is already stored with different files; signatures are immutable, store it under a new version");
}

Expected<std::int64_t> SqliteStore::insert_signature(const SignatureInfo& info, std::int64_t manifest) {
  std::vector<std::string> supersedes;
  for (const SignatureRef& ref : info.supersedes) supersedes.push_back(ref.id());
  const std::string supersedes_blob = store::encode_strings(supersedes);
  const std::string config_blob = store::encode_strings(info.config_paths);
  auto id = insert(
      "INSERT INTO signatures(name, version, kind, vendor, patches, supersedes, install_root, source,"
      " source_sha256, manifest_id, architecture, config_paths, tag_id, linked_by)"
      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      [&](Stmt& q) {
        q.bind_text(1, info.ref.name).bind_text(2, info.ref.version).bind_text(3, to_string(info.kind));
        q.bind_text(4, info.vendor);
        if (info.patches)
          q.bind_text(5, info.patches->id());
        else
          q.bind_null(5);
        q.bind_blob(6, supersedes_blob).bind_text(7, info.install_root).bind_text(8, info.source);
        if (info.source_sha256)
          q.bind_blob(9, digest_bytes(*info.source_sha256));
        else
          q.bind_null(9);
        q.bind(10, manifest);
        q.bind_text(11, info.architecture);
        if (info.config_paths.empty())
          q.bind_null(12);
        else
          q.bind_blob(12, config_blob);
        q.bind_text(13, info.tag_id);
        q.bind_text(14, info.linked_by ? to_string(*info.linked_by) : "");
      });
  if (!id) return fail(id.error().code, "cannot store signature " + info.ref.id() + ": " + id.error().message);
  if (const SignatureProvenance& p = info.provenance; p.verified()) {
    auto row = insert(
        "INSERT INTO signature_provenance(signature_id, method, signer_fingerprint, signer_key_id, origin, suite,"
        " codename, release_sha256) VALUES (?,?,?,?,?,?,?,?)",
        [&](Stmt& q) {
          q.bind(1, *id).bind_text(2, to_string(p.method)).bind_text(3, p.signer_fingerprint);
          q.bind_text(4, p.signer_key_id).bind_text(5, p.origin).bind_text(6, p.suite).bind_text(7, p.codename);
          if (p.release_sha256)
            q.bind_blob(8, digest_bytes(*p.release_sha256));
          else
            q.bind_null(8);
        });
    if (!row)
      return fail(row.error().code,
                  "cannot store the provenance of signature " + info.ref.id() + ": " + row.error().message);
  }
  return id;
}

Expected<void> SqliteStore::relink(const store::Relink& r, const SignatureRef& cause) {
  const SignatureInfo& info = r.after;
  std::vector<std::string> supersedes;
  for (const SignatureRef& ref : info.supersedes) supersedes.push_back(ref.id());
  const std::string supersedes_blob = store::encode_strings(supersedes);
  auto stmt = db_.cached("UPDATE signatures SET kind = ?, patches = ?, supersedes = ? WHERE name = ? AND version = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, to_string(info.kind));
  if (info.patches)
    q->bind_text(2, info.patches->id());
  else
    q->bind_null(2);
  q->bind_blob(3, supersedes_blob).bind_text(4, info.ref.name).bind_text(5, info.ref.version);
  if (auto done = q->run(); !done)
    return fail(done.error().code, "cannot re-link signature " + info.ref.id() + ": " + done.error().message);
  return fleet_.audit(store::kRelinkActor, store::kRelinkAction, info.ref.id(),
                      store::relink_detail(r.before, r.after, cause));
}

Expected<std::int64_t> SqliteStore::put_release(const Signature& sig, const ReleaseLinker& link) {
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto existing = stored_signature_id(sig);
  if (!existing) return tl::unexpected(existing.error());
  if (*existing) return **existing;
  store::ReleaseLinks links{sig.info, {}};
  if (link) {
    auto stored = signature_infos_named(sig.info.ref.name);
    if (!stored) return tl::unexpected(stored.error());
    auto linked = store::link_release(sig.info, std::move(*stored), link);
    if (!linked) return tl::unexpected(linked.error());
    links = std::move(*linked);
  }
  auto manifest = put_manifest(sig.manifest);
  if (!manifest) return manifest;
  auto id = insert_signature(links.incoming, *manifest);
  if (!id) return id;
  for (const store::Relink& r : links.relinked)
    if (auto done = relink(r, sig.info.ref); !done) return tl::unexpected(done.error());
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return id;
}

Expected<std::vector<Signature>> SqliteStore::signatures() {
  std::vector<std::pair<Signature, std::int64_t>> rows;  // signature, manifest id
  {
    auto stmt = db_.cached(kSelectSignatureInfos.c_str());
    if (!stmt) return tl::unexpected(stmt.error());
    Use q(**stmt);
    for (;;) {
      auto row = q->step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) break;
      auto info = read_signature_info(*q);
      if (!info) return tl::unexpected(info.error());
      rows.emplace_back(Signature{std::move(*info), {}}, q->column_int(9));
    }
  }
  std::vector<Signature> out;
  out.reserve(rows.size());
  for (auto& [sig, manifest_id] : rows) {
    auto manifest = get_manifest(manifest_id);
    if (!manifest) return tl::unexpected(manifest.error());
    sig.manifest = std::move(*manifest);
    out.push_back(std::move(sig));
  }
  return out;
}

Expected<StoreStats> SqliteStore::stats() {
  auto stmt = db_.prepare(
      "SELECT (SELECT count(*) FROM hosts), (SELECT count(*) FROM scans), (SELECT count(*) FROM signatures),"
      " (SELECT count(*) FROM manifests), (SELECT count(*) FROM chunks),"
      " (SELECT coalesce(sum(records), 0) FROM chunks), (SELECT coalesce(sum(bytes), 0) FROM chunks),"
      " (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  StoreStats s;
  s.hosts = stmt->column_uint(0);
  s.scans = stmt->column_uint(1);
  s.signatures = stmt->column_uint(2);
  s.manifests = stmt->column_uint(3);
  s.chunks = stmt->column_uint(4);
  s.records_stored = stmt->column_uint(5);
  s.chunk_bytes = stmt->column_uint(6);
  s.database_bytes = stmt->column_uint(7);
  return s;
}

Expected<std::uint64_t> SqliteStore::signature_count() {
  auto stmt = db_.cached("SELECT count(*) FROM signatures");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  return q->column_uint(0);
}

Expected<std::string> SqliteStore::add_token(std::string_view name, TokenRole role,
                                             std::optional<std::string_view> host) {
  if (name.empty()) return fail(ErrorCode::invalid_argument, "a token needs a name");
  if (host && role != TokenRole::host)
    return fail(ErrorCode::invalid_argument, "only host tokens are bound to a host");
  if (host && host->empty()) return fail(ErrorCode::invalid_argument, "empty host name for the token");
  auto secret = new_token_secret();
  if (!secret) return tl::unexpected(secret.error());
  const std::string& token = *secret;
  const Sha256Digest digest = Sha256::of(token);
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto taken = find_id("SELECT id FROM tokens WHERE name = ?", [&](Stmt& q) { q.bind_text(1, name); });
  if (!taken) return tl::unexpected(taken.error());
  if (*taken) return fail(ErrorCode::invalid_argument, "a token named '" + std::string(name) + "' exists already");
  auto id = insert("INSERT INTO tokens(name, role, host, token_sha256, created_ns) VALUES (?, ?, ?, ?, ?)",
                   [&](Stmt& q) {
                     q.bind_text(1, name).bind_text(2, to_string(role));
                     if (host) q.bind_text(3, *host); else q.bind_null(3);
                     q.bind_blob(4, digest_bytes(digest)).bind(5, std::int64_t{now.count()});
                   });
  if (!id) return fail(id.error().code, "cannot store token '" + std::string(name) + "': " + id.error().message);
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return token;
}

Expected<std::optional<TokenInfo>> SqliteStore::find_token(std::string_view token) {
  const Sha256Digest digest = Sha256::of(token);
  auto stmt = db_.cached("SELECT id, name, role, host, created_ns FROM tokens WHERE token_sha256 = ? AND revoked = 0");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_blob(1, digest_bytes(digest));
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<TokenInfo>();
  TokenInfo info;
  info.id = q->column_int(0);
  info.name = q->column_text(1);
  auto role = token_role_from_string(q->column_text(2));
  if (!role) return fail(ErrorCode::parse, "corrupt token role in the store");
  info.role = *role;
  if (!q->column_is_null(3)) info.host = q->column_text(3);
  info.created_ns = q->column_int(4);
  return std::optional<TokenInfo>(std::move(info));
}

Expected<void> SqliteStore::revoke_token(std::string_view name) {
  auto stmt = db_.cached("UPDATE tokens SET revoked = 1 WHERE name = ? AND revoked = 0");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, name);
  if (auto r = q->run(); !r) return r;
  if (sqlite3_changes(db_.get()) == 0) return fail(ErrorCode::not_found, "no live token named '" + std::string(name) + "'");
  return {};
}

Expected<std::optional<StoredSignature>> SqliteStore::find_signature(const SignatureRef& ref) {
  auto stmt = db_.cached(
      "SELECT s.id, m.digest FROM signatures s JOIN manifests m ON m.id = s.manifest_id"
      " WHERE s.name = ? AND s.version = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  q->bind_text(1, ref.name).bind_text(2, ref.version);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<StoredSignature>();
  auto digest = digest_from(q->column_blob(1));
  if (!digest) return tl::unexpected(digest.error());
  return std::optional<StoredSignature>(StoredSignature{q->column_int(0), *digest});
}

Expected<std::optional<Enrolment>> SqliteStore::enrol_host(std::string_view host_name, const ScanDocument& scan) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "enrol_host: empty host name");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  // Under the write lock: two enrolments of one host cannot both pass this check.
  auto enrolled = find_id("SELECT id FROM tokens WHERE role = 'host' AND host = ? AND revoked = 0 LIMIT 1",
                          [&](Stmt& q) { q.bind_text(1, host_name); });
  if (!enrolled) return tl::unexpected(enrolled.error());
  if (*enrolled) return std::optional<Enrolment>();  // the transaction rolls back: nothing written

  auto host = host_id(host_name);
  if (!host) return tl::unexpected(host.error());
  auto manifest = put_manifest(scan.manifest);
  if (!manifest) return tl::unexpected(manifest.error());
  auto scan_id = insert_scan(*host, *manifest, scan);
  if (!scan_id)
    return fail(scan_id.error().code,
                "cannot store the scan of " + std::string(host_name) + ": " + scan_id.error().message);

  Enrolment out;
  out.scan_id = *scan_id;
  const std::string base = "enrolled:" + std::string(host_name);
  for (int n = 1;; ++n) {
    out.token_name = n == 1 ? base : base + "#" + std::to_string(n);
    auto taken = find_id("SELECT id FROM tokens WHERE name = ?", [&](Stmt& q) { q.bind_text(1, out.token_name); });
    if (!taken) return tl::unexpected(taken.error());
    if (!*taken) break;
    if (n >= 1000) return fail(ErrorCode::invalid_argument, "too many tokens named " + base);
  }
  auto secret = new_token_secret();
  if (!secret) return tl::unexpected(secret.error());
  out.token = std::move(*secret);
  const Sha256Digest digest = Sha256::of(out.token);
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  auto id = insert("INSERT INTO tokens(name, role, host, token_sha256, created_ns) VALUES (?, 'host', ?, ?, ?)",
                   [&](Stmt& q) {
                     q.bind_text(1, out.token_name).bind_text(2, host_name);
                     q.bind_blob(3, digest_bytes(digest)).bind(4, std::int64_t{now.count()});
                   });
  if (!id)
    return fail(id.error().code, "cannot store the token of host " + std::string(host_name) + ": " + id.error().message);
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return std::optional<Enrolment>(std::move(out));
}

Expected<void> configure(Db& db, const SqliteStoreOptions& options) {
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  if (auto r = db.exec("PRAGMA journal_mode = WAL"); !r) return r;
  if (auto r = db.exec("PRAGMA foreign_keys = ON"); !r) return r;
  return db.exec(options.durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

}  // namespace

std::string_view to_string(TokenRole role) noexcept {
  switch (role) {
    case TokenRole::admin: return "admin";
    case TokenRole::host: return "host";
    case TokenRole::reader: return "reader";
    case TokenRole::enrol: return "enrol";
  }
  return "reader";
}

std::optional<TokenRole> token_role_from_string(std::string_view text) noexcept {
  if (text == "admin") return TokenRole::admin;
  if (text == "host") return TokenRole::host;
  if (text == "reader") return TokenRole::reader;
  if (text == "enrol") return TokenRole::enrol;
  return std::nullopt;
}

int sqlite_store_schema_version() noexcept { return sqlite::latest_schema_version(); }

Expected<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteStoreOptions& options) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  auto db = Db::open(path, flags);
  if (!db) return tl::unexpected(db.error());
  auto named = [&](const Error& e) { return fail(e.code, path + ": cannot open the store: " + e.message); };
  if (auto r = configure(*db, options); !r) return named(r.error());
  if (auto r = sqlite::migrate(*db, path); !r) return tl::unexpected(r.error());
  return std::make_unique<SqliteStore>(std::move(*db), path);
}

}  // namespace tb
