#include "store/sqlite_schema.h"

#include <chrono>
#include <cstring>
#include <iterator>
#include <utility>
#include <vector>

#include "format/manifest_chunks.h"
#include "store/chunk_codec.h"

namespace tb::sqlite {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
  // A step SQL cannot express, run in the same transaction before `sql`.
  Expected<void> (*code)(Db&) = nullptr;
};

// Migration 10: a manifest's digest becomes its chunk list's (chunk_list_digest, the chunks
// linked in order), as format/manifest_chunks.h defines manifest_digest() now. Every stored
// manifest is the canonical split of its records, so its list names it.
Expected<void> digest_manifests_by_chunks(Db& db) {
  std::vector<std::pair<std::int64_t, Sha256Digest>> renamed;
  {
    auto rows = db.prepare(
        "SELECT m.id, c.digest FROM manifests m LEFT JOIN manifest_chunks mc ON mc.manifest_id = m.id"
        " LEFT JOIN chunks c ON c.id = mc.chunk_id ORDER BY m.id, mc.seq");
    if (!rows) return tl::unexpected(rows.error());
    std::int64_t current = 0;
    bool any = false;
    std::vector<Sha256Digest> list;
    const auto flush = [&] {
      if (any) renamed.emplace_back(current, chunk_list_digest(list));
      list.clear();
    };
    for (;;) {
      auto more = rows->step();
      if (!more) return tl::unexpected(more.error());
      if (!*more) break;
      const std::int64_t id = rows->column_int(0);
      if (!any || id != current) {
        flush();
        current = id;
        any = true;
      }
      const std::string_view d = rows->column_blob(1);
      if (d.empty()) continue;  // a manifest without chunks (no records)
      Sha256Digest digest;
      if (d.size() != digest.bytes.size()) return fail(ErrorCode::parse, "corrupt store: a chunk digest is not 32 bytes");
      std::memcpy(digest.bytes.data(), d.data(), d.size());
      list.push_back(digest);
    }
    flush();
  }
  auto update = db.prepare("UPDATE manifests SET digest = ? WHERE id = ?");
  if (!update) return tl::unexpected(update.error());
  for (const auto& [id, digest] : renamed) {
    update->reset();
    update->bind_blob(1, std::string_view(reinterpret_cast<const char*>(digest.bytes.data()), digest.bytes.size()))
        .bind(2, id);
    if (auto r = update->run(); !r) return r;
  }
  return {};
}

// Migration 12: each manifest's chunk list, from its manifest_chunks rows into its
// chunk_ids column (store/chunk_codec.h), before the table goes.
Expected<void> chunk_ids_from_links(Db& db) {
  std::vector<std::pair<std::int64_t, std::string>> lists;
  {
    auto rows = db.prepare("SELECT manifest_id, chunk_id FROM manifest_chunks ORDER BY manifest_id, seq");
    if (!rows) return tl::unexpected(rows.error());
    std::vector<std::int64_t> ids;
    std::int64_t current = 0;
    const auto flush = [&] {
      if (!ids.empty()) lists.emplace_back(current, store::encode_chunk_ids(ids));
      ids.clear();
    };
    for (;;) {
      auto more = rows->step();
      if (!more) return tl::unexpected(more.error());
      if (!*more) break;
      const std::int64_t manifest = rows->column_int(0);
      if (manifest != current) flush();
      current = manifest;
      ids.push_back(rows->column_int(1));
    }
    flush();
  }
  auto update = db.prepare("UPDATE manifests SET chunk_ids = ? WHERE id = ?");
  if (!update) return tl::unexpected(update.error());
  for (const auto& [id, list] : lists) {
    update->reset();
    update->bind_blob(1, list).bind(2, id);
    if (auto r = update->run(); !r) return r;
  }
  return {};
}

// Never edit a migration that has shipped: add a new one. Each runs in one transaction.
//
// Content addressing: `chunks` holds each distinct directory listing once (keyed by the
// SHA-256 of its encoding, see store/chunk_codec.h); `manifests` each distinct manifest
// once (keyed by manifest_digest(), format/manifest_chunks.h) as an ordered list of chunks; scans and signatures
// point at a manifest. Counts are 64-bit unsigned in the model and stored as their int64
// bit pattern. Names are TEXT holding the raw bytes (SQLite does not validate UTF-8).
constexpr Migration kMigrations[] = {
    {1, "hosts, chunks, manifests, scans, signatures", R"sql(
CREATE TABLE hosts (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  cluster TEXT,
  role    TEXT
);
CREATE TABLE chunks (
  id      INTEGER PRIMARY KEY,
  digest  BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
  records INTEGER NOT NULL CHECK (records > 0),
  bytes   INTEGER NOT NULL,
  data    BLOB NOT NULL
);
CREATE TABLE manifests (
  id      INTEGER PRIMARY KEY,
  digest  BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
  records INTEGER NOT NULL CHECK (records >= 0)
);
-- WITHOUT ROWID: the rows are the primary key, stored once (this table grows by one row
-- per directory for every distinct manifest, so its size matters).
CREATE TABLE manifest_chunks (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id),
  seq         INTEGER NOT NULL CHECK (seq >= 0),
  chunk_id    INTEGER NOT NULL REFERENCES chunks(id),
  PRIMARY KEY (manifest_id, seq)
) WITHOUT ROWID;
CREATE TABLE scans (
  id              INTEGER PRIMARY KEY,
  host_id         INTEGER NOT NULL REFERENCES hosts(id),
  manifest_id     INTEGER NOT NULL REFERENCES manifests(id),
  format_version  INTEGER NOT NULL,
  scanner         TEXT NOT NULL,
  hostname        TEXT NOT NULL,
  os_id           TEXT NOT NULL,
  os_version      TEXT NOT NULL,
  os_pretty       TEXT NOT NULL,
  kernel          TEXT NOT NULL,
  arch            TEXT NOT NULL,
  roots           BLOB NOT NULL,
  excludes        BLOB NOT NULL,
  one_file_system INTEGER NOT NULL CHECK (one_file_system IN (0, 1)),
  skip_pseudo_fs  INTEGER NOT NULL CHECK (skip_pseudo_fs IN (0, 1)),
  started_ns      INTEGER NOT NULL,
  finished_ns     INTEGER NOT NULL,
  files           INTEGER NOT NULL,
  directories     INTEGER NOT NULL,
  symlinks        INTEGER NOT NULL,
  others          INTEGER NOT NULL,
  bytes_hashed    INTEGER NOT NULL,
  errors_total    INTEGER NOT NULL,
  errors_dropped  INTEGER NOT NULL,
  errors          BLOB NOT NULL,
  -- errors_total counts every error met, the dropped ones included.
  CONSTRAINT scan_error_counts CHECK (errors_dropped >= 0 AND errors_dropped <= errors_total)
);
CREATE INDEX scans_by_host ON scans(host_id, started_ns);
CREATE TABLE signatures (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL CHECK (length(name) > 0),
  version       TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('product', 'patch')),
  vendor        TEXT NOT NULL,
  patches       TEXT,            -- "name@version" of the release a patch applies to
  supersedes    BLOB NOT NULL,   -- list of "name@version" (store/chunk_codec.h strings)
  install_root  TEXT NOT NULL,
  source        TEXT NOT NULL,
  source_sha256 BLOB CHECK (source_sha256 IS NULL OR length(source_sha256) = 32),
  manifest_id   INTEGER NOT NULL REFERENCES manifests(id),
  UNIQUE (name, version)
);
)sql"},
    {2, "tokens", R"sql(
-- API tokens: only the SHA-256 of each token is kept (a stolen database yields none).
CREATE TABLE tokens (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  role         TEXT NOT NULL CHECK (role IN ('admin', 'host', 'reader')),
  host         TEXT CHECK (host IS NULL OR (role = 'host' AND length(host) > 0)),
  token_sha256 BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  created_ns   INTEGER NOT NULL,
  revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
)sql"},
    {3, "package signatures: architecture, configuration files, SWID tag id", R"sql(
ALTER TABLE signatures ADD COLUMN architecture TEXT NOT NULL DEFAULT '';
-- Paths of the signature that are configuration files (.deb conffiles, rpm %config),
-- as a store/chunk_codec.h list of strings; NULL when there is none.
ALTER TABLE signatures ADD COLUMN config_paths BLOB;
-- SWID tags: the tagId that patch tags link to (Link rel="patches" href="swid:TAGID").
ALTER TABLE signatures ADD COLUMN tag_id TEXT NOT NULL DEFAULT '';
CREATE INDEX signatures_by_tag ON signatures(tag_id) WHERE tag_id <> '';
)sql"},
    {4, "clusters, host membership, snapshots, stages, scan result cache, audit log", R"sql(
CREATE TABLE clusters (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  description TEXT NOT NULL,
  created_ns  INTEGER NOT NULL
);
-- Hosts point at their cluster by key instead of naming it. No command ever set the free
-- text column of migration 1; whatever a store holds there becomes a cluster.
INSERT INTO clusters(name, description, created_ns)
  SELECT DISTINCT cluster, '', 0 FROM hosts WHERE cluster IS NOT NULL AND length(cluster) > 0;
ALTER TABLE hosts ADD COLUMN cluster_id INTEGER REFERENCES clusters(id);
UPDATE hosts SET cluster_id = (SELECT c.id FROM clusters c WHERE c.name = hosts.cluster);
ALTER TABLE hosts DROP COLUMN cluster;
CREATE INDEX hosts_by_cluster ON hosts(cluster_id);
-- Reference snapshots, versioned per cluster (1, 2, ...); the manifest is content-addressed
-- like a scan's, so publishing a stored scan's manifest costs this row alone.
CREATE TABLE snapshots (
  id             INTEGER PRIMARY KEY,
  cluster_id     INTEGER NOT NULL REFERENCES clusters(id),
  version        INTEGER NOT NULL CHECK (version > 0),
  manifest_id    INTEGER NOT NULL REFERENCES manifests(id),
  source_host    TEXT NOT NULL,
  source_scan_id INTEGER REFERENCES scans(id),  -- NULL: from a document that was not stored
  published_ns   INTEGER NOT NULL,
  actor          TEXT NOT NULL,
  UNIQUE (cluster_id, version)
);
-- The current stage of each patch per cluster, and every change of it.
CREATE TABLE stages (
  cluster_id   INTEGER NOT NULL REFERENCES clusters(id),
  signature_id INTEGER NOT NULL REFERENCES signatures(id),
  stage        TEXT NOT NULL CHECK (stage IN ('tested', 'inactive', 'active')),
  set_ns       INTEGER NOT NULL,
  actor        TEXT NOT NULL,
  PRIMARY KEY (cluster_id, signature_id)
) WITHOUT ROWID;
CREATE TABLE stage_history (
  id           INTEGER PRIMARY KEY,
  cluster_id   INTEGER NOT NULL REFERENCES clusters(id),
  signature_id INTEGER NOT NULL REFERENCES signatures(id),
  stage        TEXT NOT NULL CHECK (stage IN ('tested', 'inactive', 'active')),
  set_ns       INTEGER NOT NULL,
  actor        TEXT NOT NULL
);
CREATE INDEX stage_history_by_patch ON stage_history(cluster_id, signature_id);
-- The analysis of a scan, cached for fleet reports (store/chunk_codec.h for `data`).
CREATE TABLE scan_results (
  scan_id              INTEGER PRIMARY KEY REFERENCES scans(id),
  signature_generation INTEGER NOT NULL CHECK (signature_generation >= 0),
  snapshot_id          INTEGER REFERENCES snapshots(id),
  computed_ns          INTEGER NOT NULL,
  data                 BLOB NOT NULL
);
-- Who changed the fleet's configuration, and when.
CREATE TABLE audit_log (
  id     INTEGER PRIMARY KEY,
  at_ns  INTEGER NOT NULL,
  actor  TEXT NOT NULL CHECK (length(actor) > 0),
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql"},
    {5, "enrol tokens", R"sql(
-- The role CHECK gains 'enrol'. SQLite cannot alter a CHECK: the table is rebuilt with
-- the same columns and every row (ids included) copied over.
CREATE TABLE tokens_v5 (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  role         TEXT NOT NULL CHECK (role IN ('admin', 'host', 'reader', 'enrol')),
  host         TEXT CHECK (host IS NULL OR (role = 'host' AND length(host) > 0)),
  token_sha256 BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  created_ns   INTEGER NOT NULL,
  revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
INSERT INTO tokens_v5(id, name, role, host, token_sha256, created_ns, revoked)
  SELECT id, name, role, host, token_sha256, created_ns, revoked FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v5 RENAME TO tokens;
)sql"},
    {6, "installed package inventories of scans", R"sql(
-- What the host's package managers listed (dpkg, rpm), stored once per distinct content:
-- data is store/sqlite_store.cpp encode_inventory(), digest its SHA-256.
CREATE TABLE package_inventories (
  id       INTEGER PRIMARY KEY,
  digest   BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
  packages INTEGER NOT NULL CHECK (packages >= 0),
  data     BLOB NOT NULL
);
-- A scan without a row here listed no inventory (the scanner did not look).
CREATE TABLE scan_inventories (
  scan_id      INTEGER PRIMARY KEY REFERENCES scans(id),
  inventory_id INTEGER NOT NULL REFERENCES package_inventories(id)
);
-- The analysis' inventory cross-check (packages whose files match another version, or
-- whose signature is not complete), cached with the rest of the result.
ALTER TABLE scan_results ADD COLUMN inventory_mismatches INTEGER NOT NULL DEFAULT 0 CHECK (inventory_mismatches >= 0);
)sql"},
    {7, "host keys and the nonces of signed scans", R"sql(
-- The Ed25519 public key each host signs its scans with (core/scan_signature.h).
CREATE TABLE host_keys (
  host_id    INTEGER PRIMARY KEY REFERENCES hosts(id),
  public_key BLOB NOT NULL CHECK (length(public_key) = 32),
  set_ns     INTEGER NOT NULL
);
-- Nonces of accepted signed uploads, kept for the server's time window: a replayed
-- upload repeats one and is refused, on every replica sharing the store.
CREATE TABLE scan_nonces (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  nonce   TEXT NOT NULL,
  time_s  INTEGER NOT NULL,
  PRIMARY KEY (host_id, nonce)
);
CREATE INDEX scan_nonces_time ON scan_nonces(time_s);
)sql"},
    {8, "provenance of signatures: the package signature verified on import", R"sql(
-- A signature whose package's own OpenPGP signature was verified on import
-- (core/signature.h SignatureProvenance); no row: not verified (unsigned, or no keys).
-- Written once with its signature, never updated (signatures are immutable).
CREATE TABLE signature_provenance (
  signature_id       INTEGER PRIMARY KEY REFERENCES signatures(id),
  method             TEXT NOT NULL CHECK (method IN ('deb-release', 'rpm-gpg')),
  signer_fingerprint TEXT NOT NULL,  -- primary key's OpenPGP fingerprint, upper-case hex; '' unknown
  signer_key_id      TEXT NOT NULL,  -- the signing (sub)key's 16-hex-digit id
  origin             TEXT NOT NULL,  -- deb-release: the Release file's Origin, Suite, Codename
  suite              TEXT NOT NULL,
  codename           TEXT NOT NULL,
  release_sha256     BLOB CHECK (release_sha256 IS NULL OR length(release_sha256) = 32)
);
)sql"},
    {9, "manifests named by their chunk list too", R"sql(
-- chunk_list_digest() of the manifest's chunks (format/manifest_chunks.h): a chunked
-- upload finds a stored manifest by it without a pass over its records. NULL for
-- manifests stored before; named when next met.
ALTER TABLE manifests ADD COLUMN chunks_digest BLOB CHECK (chunks_digest IS NULL OR length(chunks_digest) = 32);
CREATE UNIQUE INDEX manifests_chunks_digest ON manifests(chunks_digest);
)sql"},
    {10, "a manifest's digest is its chunk list's", R"sql(
-- manifests.digest was a SHA-256 over every record; it is the chunk list's digest now
-- (set by digest_manifests_by_chunks above), so chunks_digest says nothing more.
DROP INDEX manifests_chunks_digest;
ALTER TABLE manifests DROP COLUMN chunks_digest;
)sql",
     digest_manifests_by_chunks},
    {11, "a manifest's chunk list in one column", R"sql(
-- The ids of its chunks in split order, 8 bytes big-endian each (store/chunk_codec.h
-- encode_chunk_ids); '' for a manifest without records. One row per manifest instead of
-- one per directory: a new host's manifest was 66 rows of manifest_chunks in the load
-- bench, a real host's thousands, all written inside the store's one write transaction.
ALTER TABLE manifests ADD COLUMN chunk_ids BLOB NOT NULL DEFAULT x'' CHECK (length(chunk_ids) % 8 = 0);
)sql"},
    {12, "manifest_chunks folded into manifests.chunk_ids", R"sql(
DROP TABLE manifest_chunks;
)sql",
     chunk_ids_from_links},
    {13, "put_scan(): a scan stored in one statement", R"sql(
-- PostgreSQL's migration 13 adds a function (a round trip per scan instead of eleven); a
-- SQLite store has no round trips to save. Numbered all the same: the two schemas' versions
-- stay equal (trustbase migrate copies between equal versions only).
)sql"},
    {14, "relations of package releases follow their version order", R"sql(
-- The version order ('debian', 'rpm') a signature's kind, patches and supersedes follow
-- (core/signature.h SignatureInfo::linked_by): derived, they are re-linked in place when a
-- release of the same name is stored (Store::put_release), in that write's transaction.
-- '': the relations were given (command line, SWID tag links), never changed. Signatures
-- stored before keep theirs as given.
ALTER TABLE signatures ADD COLUMN linked_by TEXT NOT NULL DEFAULT '' CHECK (linked_by IN ('', 'debian', 'rpm'));
)sql"},
};

constexpr int kLatest = std::size(kMigrations) == 0 ? 0 : kMigrations[std::size(kMigrations) - 1].version;

Expected<int> current_version(Db& db) {
  auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  return static_cast<int>(stmt->column_int(0));
}

Expected<bool> recorded(Db& db, int version) {
  auto stmt = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, std::int64_t{version});
  return stmt->step();
}

Expected<void> record(Db& db, const Migration& m) {
  auto stmt = db.prepare("INSERT INTO schema_migrations(version, description, applied_ns) VALUES (?, ?, ?)");
  if (!stmt) return tl::unexpected(stmt.error());
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  stmt->bind(1, std::int64_t{m.version}).bind_text(2, m.description).bind(3, std::int64_t{now.count()});
  return stmt->run();
}

Error too_new(const std::string& path, int version) {
  return Error{ErrorCode::invalid_argument,
               path + ": the store's schema version " + std::to_string(version) +
                   " is newer than this trustbase supports (" + std::to_string(kLatest) +
                   "); use a newer trustbase"};
}

// Applies `m` unless another connection did so first: whether it is recorded is read again
// under the write lock, so two processes opening a new database at once do not collide.
// Each migration is applied when it is not recorded, not when it is above the highest
// recorded one: a migration numbered below one already applied (two branches developed
// side by side) still reaches existing stores.
Expected<void> apply(Db& db, const Migration& m, const std::string& path) {
  auto tx = Transaction::begin(db);
  if (!tx) return tl::unexpected(tx.error());
  auto version = current_version(db);
  if (!version) return tl::unexpected(version.error());
  if (*version > kLatest) return tl::unexpected(too_new(path, *version));
  auto done = recorded(db, m.version);
  if (!done) return tl::unexpected(done.error());
  if (*done) return {};
  if (m.code != nullptr)
    if (auto r = m.code(db); !r)
      return fail(r.error().code, path + ": schema migration " + std::to_string(m.version) + " failed: " + r.error().message);
  if (auto r = db.exec(m.sql); !r)
    return fail(r.error().code, path + ": schema migration " + std::to_string(m.version) + " failed: " + r.error().message);
  if (auto r = record(db, m); !r) return r;
  return tx->commit();
}

}  // namespace

int latest_schema_version() noexcept { return kLatest; }

Expected<void> migrate(Db& db, const std::string& path) { return migrate(db, path, kLatest); }

Expected<void> migrate(Db& db, const std::string& path, int up_to_version) {
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_ns INTEGER NOT NULL)");
      !r)
    return r;
  auto version = current_version(db);
  if (!version) return tl::unexpected(version.error());
  if (*version > kLatest) return tl::unexpected(too_new(path, *version));
  for (const Migration& m : kMigrations) {
    if (m.version > up_to_version) break;
    auto done = recorded(db, m.version);
    if (!done) return tl::unexpected(done.error());
    if (*done) continue;
    if (auto r = apply(db, m, path); !r) return r;
  }
  return {};
}

}  // namespace tb::sqlite
