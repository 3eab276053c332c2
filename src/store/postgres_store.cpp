#include "store/postgres_store.h"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <openssl/rand.h>

#include "store/chunk_codec.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"

namespace tb {
namespace pg {

Sha256Digest digest(const pqxx::field& f) {
  const std::string raw = bytes(f);
  Sha256Digest d;
  if (raw.size() != d.bytes.size()) raise(ErrorCode::parse, "corrupt digest in the store");
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(d.bytes.data()));
  return d;
}

bool retryable(const std::string& sqlstate) noexcept {
  return sqlstate == "40001" || sqlstate == "40P01";  // serialization_failure, deadlock_detected
}

Error to_error(const std::exception& e, std::string_view context) {
  std::string message = e.what();
  // libpq's messages start with "ERROR:  " and end with a newline.
  if (message.rfind("ERROR:  ", 0) == 0) message.erase(0, 8);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  ErrorCode code = ErrorCode::internal;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state.rfind("23", 0) == 0 || state.rfind("22", 0) == 0) code = ErrorCode::invalid_argument;
    else if (state.rfind("42", 0) == 0) code = ErrorCode::internal;  // our SQL is wrong
    else code = ErrorCode::io;
  } else if (dynamic_cast<const pqxx::conversion_error*>(&e) != nullptr) {
    code = ErrorCode::parse;
  } else if (dynamic_cast<const pqxx::failure*>(&e) != nullptr) {
    code = ErrorCode::io;  // connection lost, commit in doubt, retries exhausted...
  }
  return Error{code, std::string(context) + ": " + message};
}

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string str(std::string_view s) { return std::string(s); }

// A new API token: 32 random bytes as "tb_" + 64 hex digits.
std::string new_token_secret() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) raise(ErrorCode::internal, "no random bytes (OpenSSL RAND_bytes)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = "tb_";
  for (unsigned char b : random) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  return token;
}

// Appends `bytes` in hex (lowercase: the text sorts as the bytes do).
void append_hex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
}

SignatureRef parse_ref(const std::string& id) {
  auto ref = SignatureRef::parse(id);
  if (!ref) raise(ErrorCode::parse, "corrupt signature reference in the store: " + id);
  return *ref;
}

template <class T>
T value(Expected<T> e) {
  if (!e) throw Failure{e.error()};
  return std::move(*e);
}

// Every signature's metadata, with the columns signature_info() reads.
const std::string kSignatureInfoColumns =
    "SELECT s.name, s.version, s.kind, s.vendor, s.patches, s.supersedes, s.install_root, s.source,"
    " s.source_sha256, s.manifest_id, s.architecture, s.config_paths, s.tag_id,"
    " p.method, p.signer_fingerprint, p.signer_key_id, p.origin, p.suite, p.codename, p.release_sha256,"
    " s.linked_by FROM signatures s LEFT JOIN signature_provenance p ON p.signature_id = s.id";
const std::string kSelectSignatureInfos = kSignatureInfoColumns + " ORDER BY s.id";
const std::string kSelectSignatureInfosNamed = kSignatureInfoColumns + " WHERE s.name = $1 ORDER BY s.id";

SignatureInfo signature_info(const pqxx::row& r) {
  SignatureInfo info;
  info.ref = SignatureRef{text(r[0]), text(r[1])};
  auto kind = signature_kind_from_string(text(r[2]));
  if (!kind) raise(ErrorCode::parse, "corrupt signature kind in the store");
  info.kind = *kind;
  info.vendor = text(r[3]);
  if (!r[4].is_null()) info.patches = parse_ref(text(r[4]));
  for (const std::string& s : value(store::decode_strings(bytes(r[5])))) info.supersedes.push_back(parse_ref(s));
  info.install_root = text(r[6]);
  info.source = text(r[7]);
  if (!r[8].is_null()) info.source_sha256 = digest(r[8]);
  info.architecture = text(r[10]);
  if (!r[11].is_null()) info.config_paths = value(store::decode_strings(bytes(r[11])));
  info.tag_id = text(r[12]);
  if (const std::string by = text(r[20]); !by.empty()) {  // relations follow the version order (migration 14)
    info.linked_by = version_scheme_from_string(by);
    if (!info.linked_by) raise(ErrorCode::parse, "corrupt signature version order in the store");
  }
  if (!r[13].is_null()) {  // verified on import (migration 8)
    SignatureProvenance& p = info.provenance;
    auto method = provenance_method_from_string(text(r[13]));
    if (!method || *method == ProvenanceMethod::none) raise(ErrorCode::parse, "corrupt provenance method in the store");
    p.method = *method;
    p.signer_fingerprint = text(r[14]);
    p.signer_key_id = text(r[15]);
    p.origin = text(r[16]);
    p.suite = text(r[17]);
    p.codename = text(r[18]);
    if (!r[19].is_null()) p.release_sha256 = digest(r[19]);
  }
  return info;
}

using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

// Arrays for one INSERT of new chunks (kStoreNewChunks): hex digests, records, sizes, hex
// data, as PostgreSQL array literals (nothing in them needs quoting).
struct NewChunkArrays {
  std::string digests = "{", records = "{", bytes = "{", data = "{";
  std::size_t count = 0;
  void add(const Sha256Digest& digest, std::size_t record_count, std::string_view content) {
    const char* sep = count++ == 0 ? "" : ",";
    digests += sep;
    append_hex(digests, digest_bytes(digest));
    records += sep + std::to_string(record_count);
    bytes += sep + std::to_string(content.size());
    data += sep;
    append_hex(data, content);
  }
  void close() {
    for (std::string* a : {&digests, &records, &bytes, &data}) *a += "}";
  }
};

// put_scan()'s (migration 13) parameters for a manifest stored from its chunks, in binary
// where they are long (PostgreSQL slices them): every chunk's digest in split order, and
// the chunks sent with their content, in digest order.
struct NewManifestArrays {
  std::string chunks;                                // 32 bytes per chunk
  std::string sent_digests;                          // 32 bytes per chunk sent
  std::string sent_records = "{", sent_bytes = "{";  // bigint[]
  std::string sent_data;                             // their contents, one after another
};

pqxx::connection& PostgresStore::conn() {
  if (!conn_) connect();
  return *conn_;
}

void PostgresStore::connect() {
  statements_.clear();
  conn_ = std::make_unique<pqxx::connection>(url_);
  if (!options_.durable_commits) conn_->set_variable("synchronous_commit", "off");
  migrate(*conn_, where_, options_.create);
}

const std::string& PostgresStore::statement(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  std::string name = "tb" + std::to_string(statements_.size());
  conn().prepare(name, sql);
  return statements_.emplace(sql, std::move(name)).first->second;
}

// ---- scans --------------------------------------------------------------------------

std::int64_t PostgresStore::host_id(pqxx::transaction_base& tx, const std::string& name) {
  // Look first: ON CONFLICT would use up an identity value on every scan of a known host.
  auto found = exec(tx, "SELECT id FROM hosts WHERE name = $1", name);
  if (!found.empty()) return found[0][0].as<std::int64_t>();
  auto inserted = exec(tx, "INSERT INTO hosts(name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", name);
  if (!inserted.empty()) return inserted[0][0].as<std::int64_t>();
  // Another replica created it meanwhile (and committed: ON CONFLICT waited for it).
  return exec(tx, "SELECT id FROM hosts WHERE name = $1", name)[0][0].as<std::int64_t>();
}

// Stores a manifest unless one with the same digest is there already (then nothing is
// written). The chunks with content go in by INSERT ... SELECT from arrays
// (kStoreNewChunks), in digest order so that two replicas storing overlapping chunks lock
// them in the same order (no deadlock), ON CONFLICT DO NOTHING for chunks another one
// stores; every chunk's id is read back in split order and the manifest's row goes in
// last, with that list (manifests.chunk_ids). With the chunks an upload delivered
// (`known`, in split order): found by its chunk list without a pass over its records,
// else stored without encoding a chunk again (one named but not stored is encoded from
// the manifest after all). Without them, each chunk is encoded and hashed for the
// manifest's digest, and encoded again only when it is new.
std::int64_t PostgresStore::put_manifest(pqxx::transaction_base& tx, const Manifest& manifest,
                                         std::span<const ManifestChunkRef> known) {
  std::vector<store::ChunkView> split;
  const bool from_records = known.empty();
  std::vector<Sha256Digest> digests;
  if (from_records) {
    split = store::split_into_chunks(manifest);
    digests = chunk_digests(split);
  } else {
    digests.reserve(known.size());
    for (const ManifestChunkRef& c : known) digests.push_back(c.digest);
  }
  const Sha256Digest whole = chunk_list_digest(digests);
  auto found = exec(tx, "SELECT id FROM manifests WHERE digest = $1", bin(whole));
  if (!found.empty()) return found[0][0].as<std::int64_t>();
  std::int64_t records = 0;
  if (from_records) records = static_cast<std::int64_t>(manifest.size());
  for (const ManifestChunkRef& c : known) records += static_cast<std::int64_t>(c.records);
  const std::size_t count = digests.size();
  std::vector<std::int64_t> chunk_ids;
  chunk_ids.reserve(count);
  if (count > 0) {
    tx.exec(kIndexLookUpsOnly);
    // The chunks with their content, in digest order (two replicas storing overlapping
    // chunks lock them in the same order: no deadlock), a statement per batch so that a
    // manifest of a million records stays in bounded statements.
    std::vector<std::size_t> with_data;
    for (std::size_t seq = 0; seq < count; ++seq)
      if (from_records || !known[seq].data.empty()) with_data.push_back(seq);
    std::sort(with_data.begin(), with_data.end(),
              [&](std::size_t a, std::size_t b) { return digests[a] < digests[b]; });
    NewChunkArrays batch;
    const auto flush = [&] {
      if (batch.count == 0) return;
      batch.close();
      exec(tx, kStoreNewChunks, batch.digests, batch.records, batch.bytes, batch.data);
      batch = NewChunkArrays{};
    };
    std::string buffer;
    for (const std::size_t seq : with_data) {
      if (from_records) {
        buffer.clear();
        store::encode_chunk(split[seq], buffer);
        batch.add(digests[seq], split[seq].records.size(), buffer);
      } else {
        batch.add(digests[seq], known[seq].records, known[seq].data);
      }
      if (batch.data.size() >= kMaxChunkBatchChars || batch.count >= kMaxChunkBatch) flush();
    }
    flush();
    // Every chunk's id, in split order.
    for (std::size_t begin = 0; begin < count; begin += kMaxChunkBatch) {
      const std::span<const Sha256Digest> some =
          std::span<const Sha256Digest>(digests).subspan(begin, std::min(kMaxChunkBatch, count - begin));
      const auto rows = chunks_among(tx, some, "c.id");
      if (rows.size() != some.size()) raise(ErrorCode::internal, "chunk look-up: a row per digest expected");
      for (std::size_t k = 0; k < some.size(); ++k) {
        const auto field = rows[static_cast<pqxx::result::size_type>(k)][0];
        if (!field.is_null()) {
          chunk_ids.push_back(field.as<std::int64_t>());
          continue;
        }
        // Named without its content and not stored: encoded from the manifest when there is one.
        const std::size_t seq = begin + k;
        if (from_records) raise(ErrorCode::internal, "put_manifest: a chunk sent with its content was not stored");
        if (manifest.empty())  // the caller gave the chunks alone (Store::put_scan)
          raise(ErrorCode::not_found, "put_scan: chunk " + known[seq].digest.hex() + " is named but not stored");
        if (split.empty()) split = store::split_into_chunks(manifest);
        std::string encoded;
        if (split.size() == known.size()) store::encode_chunk(split[seq], encoded);
        if (encoded.empty() || Sha256::of(encoded) != known[seq].digest)
          raise(ErrorCode::internal, "put_scan: the chunks given are not the manifest's split");
        exec(tx,
             "INSERT INTO chunks(digest, records, bytes, data) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
             bin(known[seq].digest), static_cast<std::int64_t>(split[seq].records.size()),
             static_cast<std::int64_t>(encoded.size()), bin(encoded));
        chunk_ids.push_back(
            exec(tx, "SELECT id FROM chunks WHERE digest = $1", bin(known[seq].digest))[0][0].as<std::int64_t>());
      }
    }
  }
  const std::string list = store::encode_chunk_ids(chunk_ids);
  auto inserted = exec(tx,
                       "INSERT INTO manifests(digest, records, chunk_ids) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                       " RETURNING id",
                       bin(whole), records, bin(list));
  if (inserted.empty())  // stored by another connection that committed meanwhile
    return exec(tx, "SELECT id FROM manifests WHERE digest = $1", bin(whole))[0][0].as<std::int64_t>();
  return inserted[0][0].as<std::int64_t>();
}

// Reads a manifest back, checking every chunk and the whole against their digests.
Manifest PostgresStore::get_manifest(pqxx::transaction_base& tx, std::int64_t id) {
  auto head = exec(tx, "SELECT digest, records, chunk_ids FROM manifests WHERE id = $1", id);
  if (head.empty()) raise(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + " is missing");
  const Sha256Digest expected = digest(head[0][0]);
  std::vector<FileRecord> records;
  records.reserve(uinteger(head[0][1]));
  auto chunk_ids = store::decode_chunk_ids(bytes(head[0][2]));
  if (!chunk_ids)
    raise(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + ": " + chunk_ids.error().message);
  std::string array = "{";
  for (const std::int64_t c : *chunk_ids) array += (array.size() > 1 ? "," : "") + std::to_string(c);
  array += "}";
  std::unordered_map<std::int64_t, pqxx::row> by_id;
  const auto found = exec(tx, "SELECT id, digest, data FROM chunks WHERE id = ANY($1::bigint[])", array);
  for (const auto& row : found) by_id.emplace(row[0].as<std::int64_t>(), row);
  std::vector<Sha256Digest> read_digests;
  for (const std::int64_t chunk_id : *chunk_ids) {
    const auto it = by_id.find(chunk_id);
    if (it == by_id.end())
      raise(ErrorCode::parse,
            "corrupt store: chunk " + std::to_string(chunk_id) + " of manifest " + std::to_string(id) + " is missing");
    const pqxx::row& row = it->second;
    const pqxx::binarystring data(row[2]);
    const std::string_view view(data.get(), data.size());
    read_digests.push_back(Sha256::of(view));
    if (digest_bytes(read_digests.back()) != bytes(row[1]))
      raise(ErrorCode::parse, "corrupt store: a chunk of manifest " + std::to_string(id) + " fails its digest");
    value(store::decode_chunk(view, records));
  }
  // The manifest's digest is that of its chunk list: checked without a pass over the records.
  if (chunk_list_digest(read_digests) != expected)
    raise(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + " fails its digest");
  auto manifest = Manifest::from_records(std::move(records));
  if (!manifest) raise(ErrorCode::parse, "corrupt store: manifest " + std::to_string(id) + ": " + manifest.error().message);
  return std::move(*manifest);
}

// The scan's row through put_scan() (migration 13), which finds or creates its host and,
// given `m.chunks`, stores its manifest; then its package inventory, if any. nullopt when
// `m` names no stored manifest (and gives no chunks): nothing written.
std::optional<std::int64_t> PostgresStore::put_scan_row(pqxx::transaction_base& tx, const std::string& host,
                                                        const ScanManifest& m, const ScanDocument& scan) {
  const ScanHeader& h = scan.header;
  const ScanSummary& s = scan.summary;
  auto u = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };  // stored as the int64 bit pattern
  const std::string id = m.id ? std::to_string(*m.id) : std::string();
  static const NewManifestArrays kNone;
  const NewManifestArrays& c = m.chunks != nullptr ? *m.chunks : kNone;
  const auto row = exec(
      tx,
      "SELECT put_scan($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,"
      "$25,$26,$27,$28,$29,$30,$31)",
      host, m.id ? id.c_str() : nullptr,  // NULL as a null pointer (libpqxx 6 has no optional parameters)
      bin(m.digest ? digest_bytes(*m.digest) : std::string_view()), m.records, bin(c.chunks), bin(c.sent_digests),
      m.chunks != nullptr ? c.sent_records.c_str() : nullptr, m.chunks != nullptr ? c.sent_bytes.c_str() : nullptr,
      bin(c.sent_data), std::int64_t{h.format_version}, h.scanner, h.host.hostname, h.host.os_id, h.host.os_version,
      h.host.os_pretty, h.host.kernel, h.host.arch, bin(store::encode_strings(h.roots)),
      bin(store::encode_strings(h.excludes)), std::int64_t{h.one_file_system ? 1 : 0},
      std::int64_t{h.skip_pseudo_fs ? 1 : 0}, h.started_ns, s.finished_ns, u(s.files), u(s.directories), u(s.symlinks),
      u(s.others), u(s.bytes_hashed), u(s.errors), u(s.errors_dropped), bin(store::encode_scan_errors(scan.errors)));
  if (row[0][0].is_null()) return std::nullopt;
  const std::int64_t scan_id = row[0][0].as<std::int64_t>();
  if (h.inventory) {
    const std::string data = store::encode_inventory(*h.inventory);
    const Sha256Digest digest = Sha256::of(data);
    auto found = exec(tx, "SELECT id FROM package_inventories WHERE digest = $1", bin(digest));
    if (found.empty())
      found = exec(tx,
                   "INSERT INTO package_inventories(digest, packages, data) VALUES ($1, $2, $3)"
                   " ON CONFLICT (digest) DO NOTHING RETURNING id",
                   bin(digest), static_cast<std::int64_t>(h.inventory->packages.size()), bin(data));
    if (found.empty()) found = exec(tx, "SELECT id FROM package_inventories WHERE digest = $1", bin(digest));
    exec(tx, "INSERT INTO scan_inventories(scan_id, inventory_id) VALUES ($1, $2)", scan_id,
         found[0][0].as<std::int64_t>());
  }
  return scan_id;
}

// A scan without a package inventory is one statement (put_scan_row): run outside a
// transaction block, it is its own transaction, without a round trip for BEGIN and COMMIT.
template <class Body>
auto PostgresStore::in_one_statement_unless(bool several, Body&& body) {
  if (several) {
    pqxx::work tx(conn());
    auto result = body(tx);
    tx.commit();
    return result;
  }
  pqxx::nontransaction tx(conn());
  return body(tx);
}

namespace {

// Whether put_scan() (migration 13) can store this chunked scan in one statement: its
// chunks within one batch's bounds (kMaxChunkBatch, kMaxChunkBatchChars). The arrays, if so.
std::optional<NewManifestArrays> one_statement_arrays(std::span<const ManifestChunkRef> chunks) {
  if (chunks.empty() || chunks.size() > kMaxChunkBatch) return std::nullopt;
  std::size_t sent_bytes = 0;
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < chunks.size(); ++i)
    if (!chunks[i].data.empty()) {
      sent.push_back(i);
      sent_bytes += chunks[i].data.size();
    }
  if (2 * sent_bytes > kMaxChunkBatchChars) return std::nullopt;  // the long way's bound (it sends hex)
  std::sort(sent.begin(), sent.end(),
            [&](std::size_t a, std::size_t b) { return chunks[a].digest < chunks[b].digest; });
  NewManifestArrays out;
  out.chunks.reserve(chunks.size() * 32);
  for (const ManifestChunkRef& c : chunks) out.chunks += digest_bytes(c.digest);
  for (const std::size_t i : sent) {
    const ManifestChunkRef& c = chunks[i];
    const char* sep = out.sent_digests.empty() ? "" : ",";
    out.sent_digests += digest_bytes(c.digest);
    out.sent_records += sep + std::to_string(c.records);
    out.sent_bytes += sep + std::to_string(c.data.size());
    out.sent_data += c.data;
  }
  out.sent_records += "}";
  out.sent_bytes += "}";
  return out;
}

}  // namespace

Expected<std::int64_t> PostgresStore::put_scan(std::string_view host_name, const ScanDocument& scan,
                                               std::span<const ManifestChunkRef> chunks) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "put_scan: empty host name");
  const std::string host = str(host_name);
  return guarded("cannot store the scan of " + host, [&] {
    if (const auto arrays = one_statement_arrays(chunks)) {
      ScanManifest m;
      std::vector<Sha256Digest> digests;
      digests.reserve(chunks.size());
      for (const ManifestChunkRef& c : chunks) {
        digests.push_back(c.digest);
        m.records += static_cast<std::int64_t>(c.records);
      }
      m.digest = chunk_list_digest(digests);
      m.chunks = &*arrays;
      try {
        return *in_one_statement_unless(scan.header.inventory.has_value(),
                                        [&](pqxx::transaction_base& tx) { return put_scan_row(tx, host, m, scan); });
      } catch (const pqxx::sql_error& e) {
        // A chunk named but neither stored nor sent (rolled back): the long way below.
        if (e.sqlstate() != kChunkNotStored) throw;
      }
    }
    pqxx::work tx(conn());
    ScanManifest m;
    m.id = put_manifest(tx, scan.manifest, chunks);
    const std::int64_t id = *put_scan_row(tx, host, m, scan);
    tx.commit();
    return id;
  });
}

Expected<std::optional<std::int64_t>> PostgresStore::put_scan_of_manifest(std::string_view host_name,
                                                                        const ScanDocument& scan,
                                                                        const Sha256Digest& chunk_list) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "put_scan: empty host name");
  const std::string host = str(host_name);
  return guarded("cannot store the scan of " + host, [&] {
    ScanManifest m;
    m.digest = chunk_list;  // not stored (committed): nothing written
    return in_one_statement_unless(scan.header.inventory.has_value(),
                                   [&](pqxx::transaction_base& tx) { return put_scan_row(tx, host, m, scan); });
  });
}

std::optional<PackageInventory> PostgresStore::scan_inventory(pqxx::transaction_base& tx, std::int64_t scan_id) {
  auto row = exec(tx,
                  "SELECT i.digest, i.data FROM scan_inventories s JOIN package_inventories i ON i.id = s.inventory_id"
                  " WHERE s.scan_id = $1",
                  scan_id);
  if (row.empty()) {
    if (exec(tx, "SELECT id FROM scans WHERE id = $1", scan_id).empty())
      raise(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");
    return std::nullopt;
  }
  const std::string data = bytes(row[0][1]);
  if (digest_bytes(Sha256::of(data)) != bytes(row[0][0]))
    raise(ErrorCode::parse,
          "corrupt store: the package inventory of scan " + std::to_string(scan_id) + " fails its digest");
  return value(store::decode_inventory(data));
}

// chunks_by_digest_sql() for `digests`, in one round trip (pg_store.h: why not `IN`), in a
// transaction that took kIndexLookUpsOnly (put_manifest).
pqxx::result PostgresStore::chunks_among(pqxx::transaction_base& tx, std::span<const Sha256Digest> digests,
                                         const char* column) {
  std::string list = "{";
  for (const Sha256Digest& d : digests) list += (list.size() > 1 ? "," : "") + d.hex();
  list += "}";
  return exec(tx, chunks_by_digest_sql(column), list);
}

// stored_chunks() (migration 13) for `digests`: a row each, in their order, alone (no
// transaction block: one round trip).
pqxx::result PostgresStore::stored_chunks(std::span<const Sha256Digest> digests, bool with_data) {
  std::string list;
  list.reserve(digests.size() * 32);
  for (const Sha256Digest& d : digests) list += digest_bytes(d);
  pqxx::nontransaction tx(conn());
  auto rows = exec(tx, "SELECT found FROM stored_chunks($1, $2) ORDER BY n", bin(list), with_data);
  if (rows.size() != digests.size()) raise(ErrorCode::internal, "chunk look-up: a row per digest expected");
  return rows;
}

Expected<std::vector<bool>> PostgresStore::has_chunks(std::span<const Sha256Digest> digests) {
  return guarded("cannot look up chunks", [&] {
    const auto rows = stored_chunks(digests, false);
    std::vector<bool> found;
    found.reserve(digests.size());
    for (const auto& row : rows) found.push_back(!row[0].is_null());
    return found;
  });
}

Expected<std::vector<std::optional<std::string>>> PostgresStore::find_chunks(std::span<const Sha256Digest> digests) {
  return guarded("cannot look up chunks", [&] {
    const auto rows = stored_chunks(digests, true);
    std::vector<std::optional<std::string>> found;
    found.reserve(digests.size());
    for (std::size_t i = 0; i < digests.size(); ++i) {
      if (rows[static_cast<pqxx::result::size_type>(i)][0].is_null()) {
        found.push_back(std::nullopt);
        continue;
      }
      std::string data = bytes(rows[static_cast<pqxx::result::size_type>(i)][0]);
      if (Sha256::of(data) != digests[i])
        raise(ErrorCode::parse, "corrupt store: chunk " + digests[i].hex() + " fails its digest");
      found.push_back(std::move(data));
    }
    return found;
  });
}

Expected<std::optional<PackageInventory>> PostgresStore::get_scan_inventory(std::int64_t scan_id) {
  return guarded("cannot read the inventory of scan " + std::to_string(scan_id), [&] {
    ReadTx tx(conn());
    return scan_inventory(tx, scan_id);
  });
}

Expected<ScanDocument> PostgresStore::get_scan(std::int64_t id) {
  return guarded("cannot read scan " + std::to_string(id), [&] {
    ReadTx tx(conn());  // one snapshot: the scan row, its manifest and inventory agree
    auto rows = exec(tx,
                     "SELECT manifest_id, format_version, scanner, hostname, os_id, os_version, os_pretty, kernel,"
                     " arch, roots, excludes, one_file_system, skip_pseudo_fs, started_ns, finished_ns, files,"
                     " directories, symlinks, others, bytes_hashed, errors_total, errors_dropped, errors"
                     " FROM scans WHERE id = $1",
                     id);
    if (rows.empty()) raise(ErrorCode::not_found, "no scan " + std::to_string(id) + " in the store");
    const pqxx::row q = rows[0];
    ScanDocument doc;
    ScanHeader& h = doc.header;
    h.format_version = static_cast<int>(integer(q[1]));
    h.scanner = text(q[2]);
    h.host = HostFacts{text(q[3]), text(q[4]), text(q[5]), text(q[6]), text(q[7]), text(q[8])};
    h.roots = value(store::decode_strings(bytes(q[9])));
    h.excludes = value(store::decode_strings(bytes(q[10])));
    h.one_file_system = integer(q[11]) != 0;
    h.skip_pseudo_fs = integer(q[12]) != 0;
    h.started_ns = integer(q[13]);
    ScanSummary& s = doc.summary;
    s.finished_ns = integer(q[14]);
    s.files = uinteger(q[15]);
    s.directories = uinteger(q[16]);
    s.symlinks = uinteger(q[17]);
    s.others = uinteger(q[18]);
    s.bytes_hashed = uinteger(q[19]);
    s.errors = uinteger(q[20]);
    s.errors_dropped = uinteger(q[21]);
    doc.errors = value(store::decode_scan_errors(bytes(q[22])));
    doc.manifest = get_manifest(tx, integer(q[0]));
    h.inventory = scan_inventory(tx, id);
    return doc;
  });
}

Expected<std::optional<std::int64_t>> PostgresStore::latest_scan(std::string_view host_name) {
  return guarded("cannot read the scans of " + str(host_name), [&] {
    pqxx::read_transaction tx(conn());
    auto r = exec(tx,
                  "SELECT s.id FROM scans s JOIN hosts h ON h.id = s.host_id WHERE h.name = $1"
                  " ORDER BY s.started_ns DESC, s.id DESC LIMIT 1",
                  str(host_name));
    return r.empty() ? std::optional<std::int64_t>() : std::optional<std::int64_t>(integer(r[0][0]));
  });
}

Expected<std::vector<ScanListing>> PostgresStore::list_scans(std::string_view host_name) {
  return guarded("cannot list the scans of " + str(host_name), [&] {
    pqxx::read_transaction tx(conn());
    std::vector<ScanListing> out;
    for (const auto& q : exec(tx,
                              "SELECT s.id, s.started_ns, s.finished_ns, m.digest, m.records, s.errors_total"
                              " FROM scans s JOIN hosts h ON h.id = s.host_id JOIN manifests m ON m.id = s.manifest_id"
                              " WHERE h.name = $1 ORDER BY s.started_ns, s.id",
                              str(host_name)))
      out.push_back(ScanListing{integer(q[0]), integer(q[1]), integer(q[2]), digest(q[3]), uinteger(q[4]),
                                uinteger(q[5])});
    return out;
  });
}

Expected<std::vector<HostListing>> PostgresStore::list_hosts() {
  return guarded("cannot list the hosts", [&] {
    pqxx::read_transaction tx(conn());
    std::vector<HostListing> out;
    for (const auto& q : exec(tx,
                              "SELECT h.name, COALESCE(c.name, ''), COALESCE(h.role, ''),"
                              " (SELECT count(*) FROM scans s WHERE s.host_id = h.id),"
                              " COALESCE((SELECT s.id FROM scans s WHERE s.host_id = h.id"
                              "           ORDER BY s.started_ns DESC, s.id DESC LIMIT 1), 0),"
                              " COALESCE((SELECT max(s.started_ns) FROM scans s WHERE s.host_id = h.id), 0)"
                              " FROM hosts h LEFT JOIN clusters c ON c.id = h.cluster_id ORDER BY h.name"))
      out.push_back(HostListing{text(q[0]), text(q[1]), text(q[2]), uinteger(q[3]), integer(q[4]), integer(q[5])});
    return out;
  });
}

// ---- signatures ---------------------------------------------------------------------

std::int64_t PostgresStore::insert_signature(pqxx::transaction_base& tx, const SignatureInfo& info,
                                             std::int64_t manifest) {
  std::vector<std::string> supersedes;
  for (const SignatureRef& ref : info.supersedes) supersedes.push_back(ref.id());
  const std::string no_digest;
  const std::int64_t id =
      exec(tx,
           "INSERT INTO signatures(name, version, kind, vendor, patches, supersedes, install_root, source,"
           " source_sha256, manifest_id, architecture, config_paths, tag_id, linked_by)"
           " VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, NULLIF($9, ''::bytea), $10, $11,"
           " NULLIF($12, ''::bytea), $13, $14) RETURNING id",
           info.ref.name, info.ref.version, str(to_string(info.kind)), info.vendor,
           info.patches ? info.patches->id() : std::string(), bin(store::encode_strings(supersedes)), info.install_root,
           info.source, info.source_sha256 ? bin(*info.source_sha256) : bin(no_digest), manifest, info.architecture,
           bin(info.config_paths.empty() ? std::string() : store::encode_strings(info.config_paths)), info.tag_id,
           info.linked_by ? str(to_string(*info.linked_by)) : std::string())[0][0]
          .as<std::int64_t>();
  if (const SignatureProvenance& p = info.provenance; p.verified())
    exec(tx,
         "INSERT INTO signature_provenance(signature_id, method, signer_fingerprint, signer_key_id, origin, suite,"
         " codename, release_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''::bytea))",
         id, str(to_string(p.method)), p.signer_fingerprint, p.signer_key_id, p.origin, p.suite, p.codename,
         p.release_sha256 ? bin(*p.release_sha256) : bin(no_digest));
  return id;
}

void PostgresStore::relink(pqxx::transaction_base& tx, const store::Relink& r, const SignatureRef& cause) {
  const SignatureInfo& info = r.after;
  std::vector<std::string> supersedes;
  for (const SignatureRef& ref : info.supersedes) supersedes.push_back(ref.id());
  exec(tx,
       "UPDATE signatures SET kind = $1, patches = NULLIF($2, ''), supersedes = $3 WHERE name = $4 AND version = $5",
       str(to_string(info.kind)), info.patches ? info.patches->id() : std::string(),
       bin(store::encode_strings(supersedes)), info.ref.name, info.ref.version);
  audit(tx, store::kRelinkActor, store::kRelinkAction, info.ref.id(), store::relink_detail(r.before, r.after, cause));
}

Expected<std::int64_t> PostgresStore::put_release(const Signature& sig, const ReleaseLinker& link) {
  const SignatureInfo& info = sig.info;
  return guarded("cannot store signature " + info.ref.id(), [&]() -> std::int64_t {
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kSignatureLock);
    auto existing = exec(tx,
                         "SELECT s.id, m.digest FROM signatures s JOIN manifests m ON m.id = s.manifest_id"
                         " WHERE s.name = $1 AND s.version = $2",
                         info.ref.name, info.ref.version);
    if (!existing.empty()) {
      if (digest(existing[0][1]) == manifest_digest(sig.manifest)) return integer(existing[0][0]);  // same: idempotent
      raise(ErrorCode::invalid_argument,
            "signature " + info.ref.id() +
                " is already stored with different files; signatures are immutable, store it under a new version");
    }
    store::ReleaseLinks links{info, {}};
    if (link) {
      std::vector<SignatureInfo> stored;
      for (const auto& row : exec(tx, kSelectSignatureInfosNamed, info.ref.name)) stored.push_back(signature_info(row));
      links = value(store::link_release(info, std::move(stored), link));
    }
    const std::int64_t id = insert_signature(tx, links.incoming, put_manifest(tx, sig.manifest));
    for (const store::Relink& r : links.relinked) relink(tx, r, info.ref);
    tx.commit();
    return id;
  });
}

Expected<std::vector<SignatureInfo>> PostgresStore::signature_infos() {
  return guarded("cannot read the signatures", [&] {
    pqxx::read_transaction tx(conn());
    std::vector<SignatureInfo> out;
    for (const auto& row : exec(tx, kSelectSignatureInfos)) out.push_back(signature_info(row));
    return out;
  });
}

Expected<std::vector<Signature>> PostgresStore::signatures() {
  return guarded("cannot read the signatures", [&] {
    ReadTx tx(conn());
    std::vector<Signature> out;
    for (const auto& row : exec(tx, kSelectSignatureInfos)) {
      Signature sig{signature_info(row), {}};
      sig.manifest = get_manifest(tx, integer(row[9]));
      out.push_back(std::move(sig));
    }
    return out;
  });
}

Expected<std::optional<StoredSignature>> PostgresStore::find_signature(const SignatureRef& ref) {
  return guarded("cannot look up signature " + ref.id(), [&] {
    pqxx::read_transaction tx(conn());
    auto r = exec(tx,
                  "SELECT s.id, m.digest FROM signatures s JOIN manifests m ON m.id = s.manifest_id"
                  " WHERE s.name = $1 AND s.version = $2",
                  ref.name, ref.version);
    if (r.empty()) return std::optional<StoredSignature>();
    return std::optional<StoredSignature>(StoredSignature{integer(r[0][0]), digest(r[0][1])});
  });
}

Expected<std::uint64_t> PostgresStore::signature_count() {
  return guarded("cannot count the signatures", [&] {
    pqxx::read_transaction tx(conn());
    return uinteger(exec(tx, "SELECT count(*) FROM signatures")[0][0]);
  });
}

Expected<StoreStats> PostgresStore::stats() {
  return guarded("cannot read the store's statistics", [&] {
    pqxx::read_transaction tx(conn());
    // database_bytes: the main fork of the store's tables, their TOAST tables and indexes
    // in the current schema (free-space and visibility maps left out: vacuum adds them).
    auto q = exec(tx,
                  "SELECT (SELECT count(*) FROM hosts), (SELECT count(*) FROM scans), (SELECT count(*) FROM signatures),"
                  " (SELECT count(*) FROM manifests), (SELECT count(*) FROM chunks),"
                  " (SELECT COALESCE(sum(records), 0) FROM chunks), (SELECT COALESCE(sum(bytes), 0) FROM chunks),"
                  " (SELECT COALESCE(sum(pg_relation_size(c.oid)"
                  "    + COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0)), 0)"
                  "    + (SELECT COALESCE(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i"
                  "       WHERE i.indrelid = c.oid)), 0)"
                  "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                  "  WHERE n.nspname = current_schema() AND c.relkind = 'r')")[0];
    StoreStats s;
    s.hosts = uinteger(q[0]);
    s.scans = uinteger(q[1]);
    s.signatures = uinteger(q[2]);
    s.manifests = uinteger(q[3]);
    s.chunks = uinteger(q[4]);
    s.records_stored = uinteger(q[5]);
    s.chunk_bytes = uinteger(q[6]);
    s.database_bytes = uinteger(q[7]);
    return s;
  });
}

// ---- tokens -------------------------------------------------------------------------

// Inserts a token (the caller holds kTokensLock and checked the name) and returns it.
std::string PostgresStore::new_token_row(pqxx::transaction_base& tx, const std::string& name, TokenRole role,
                                         const std::optional<std::string>& host) {
  std::string token = new_token_secret();
  exec(tx,
       "INSERT INTO tokens(name, role, host, token_sha256, created_ns) VALUES ($1, $2, NULLIF($3, ''), $4, $5)",
       name, str(to_string(role)), host.value_or(std::string()), bin(Sha256::of(token)), now_ns());
  return token;
}

Expected<std::string> PostgresStore::add_token(std::string_view name, TokenRole role,
                                               std::optional<std::string_view> host) {
  if (name.empty()) return fail(ErrorCode::invalid_argument, "a token needs a name");
  if (host && role != TokenRole::host) return fail(ErrorCode::invalid_argument, "only host tokens are bound to a host");
  if (host && host->empty()) return fail(ErrorCode::invalid_argument, "empty host name for the token");
  return guarded("cannot store token '" + str(name) + "'", [&] {
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kTokensLock);
    if (!exec(tx, "SELECT id FROM tokens WHERE name = $1", str(name)).empty())
      raise(ErrorCode::invalid_argument, "a token named '" + str(name) + "' exists already");
    std::string token = new_token_row(tx, str(name), role, host ? std::optional<std::string>(str(*host)) : std::nullopt);
    tx.commit();
    return token;
  });
}

Expected<std::optional<TokenInfo>> PostgresStore::find_token(std::string_view token) {
  return guarded("cannot look up a token", [&] {
    // One statement, on every request: no transaction block (BEGIN and COMMIT were two
    // more round trips each time).
    pqxx::nontransaction tx(conn());
    auto r = exec(tx, "SELECT id, name, role, host, created_ns FROM tokens WHERE token_sha256 = $1 AND revoked = 0",
                  bin(Sha256::of(token)));
    if (r.empty()) return std::optional<TokenInfo>();
    TokenInfo info;
    info.id = integer(r[0][0]);
    info.name = text(r[0][1]);
    auto role = token_role_from_string(text(r[0][2]));
    if (!role) raise(ErrorCode::parse, "corrupt token role in the store");
    info.role = *role;
    if (!r[0][3].is_null()) info.host = text(r[0][3]);
    info.created_ns = integer(r[0][4]);
    return std::optional<TokenInfo>(std::move(info));
  });
}

Expected<void> PostgresStore::revoke_token(std::string_view name) {
  return guarded("cannot revoke token '" + str(name) + "'", [&] {
    pqxx::work tx(conn());
    auto r = exec(tx, "UPDATE tokens SET revoked = 1 WHERE name = $1 AND revoked = 0", str(name));
    if (r.affected_rows() == 0) raise(ErrorCode::not_found, "no live token named '" + str(name) + "'");
    tx.commit();
  });
}

Expected<std::optional<Enrolment>> PostgresStore::enrol_host(std::string_view host_name, const ScanDocument& scan) {
  if (host_name.empty()) return fail(ErrorCode::invalid_argument, "enrol_host: empty host name");
  return guarded("cannot enrol host " + str(host_name), [&] {
    pqxx::work tx(conn());
    // Under the lock: two enrolments of one host (on any replica) cannot both pass this check.
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kTokensLock);
    const std::string host = str(host_name);
    if (!exec(tx, "SELECT id FROM tokens WHERE role = 'host' AND host = $1 AND revoked = 0 LIMIT 1", host).empty())
      return std::optional<Enrolment>();  // rolled back: nothing written
    Enrolment out;
    ScanManifest m;
    m.id = put_manifest(tx, scan.manifest);
    out.scan_id = *put_scan_row(tx, host, m, scan);
    const std::string base = "enrolled:" + host;
    for (int n = 1;; ++n) {
      out.token_name = n == 1 ? base : base + "#" + std::to_string(n);
      if (exec(tx, "SELECT id FROM tokens WHERE name = $1", out.token_name).empty()) break;
      if (n >= 1000) raise(ErrorCode::invalid_argument, "too many tokens named " + base);
    }
    out.token = new_token_row(tx, out.token_name, TokenRole::host, host);
    tx.commit();
    return std::optional<Enrolment>(std::move(out));
  });
}

}  // namespace pg

std::string redact_url(std::string_view url) {
  // postgresql://user:password@host...: the password is between the first ':' after the
  // scheme and the last '@' of the authority. Query parameters (?password=...) too.
  std::string out(url);
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto authority_end = out.find_first_of("/?#", start);
    const auto at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at > start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (std::size_t pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&' && out[pos - 1] != ' ') continue;
    const auto value = pos + 9;
    const auto end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

Expected<std::unique_ptr<Store>> open_postgres_store(const std::string& url, const PostgresStoreOptions& options) {
  const std::string where = redact_url(url);
  auto store = std::make_unique<pg::PostgresStore>(url, where, options);
  try {
    store->connect();
  } catch (const pg::Failure& f) {
    return tl::unexpected(f.error);
  } catch (const std::exception& e) {
    // libpq's messages name host and port, never the password.
    return tl::unexpected(pg::to_error(e, where + ": cannot open the store"));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tb
