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

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "core/signature.h"

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
// report; reader only reads.
enum class TokenRole : std::uint8_t { admin, host, reader };
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

class Store {
 public:
  virtual ~Store() = default;

  // Stores one scan of `host_name` (creating the host when new), all or nothing, and
  // returns the scan's id. Manifest and chunks already stored are shared, not copied.
  virtual Expected<std::int64_t> put_scan(std::string_view host_name, const ScanDocument& scan) = 0;
  // The scan as stored: equal header, manifest, errors and summary. not_found when absent.
  virtual Expected<ScanDocument> get_scan(std::int64_t id) = 0;
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
  // Every signature, in the order they were stored.
  virtual Expected<std::vector<Signature>> signatures() = 0;

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
};

}  // namespace tb
