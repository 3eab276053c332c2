// The PostgreSQL implementation of the store (libpqxx): for several stateless server
// replicas sharing one database. Same tables, columns and migration numbers as the SQLite
// store (store/pg_schema.cpp), same semantics (store/store.h).
//
// Concurrency: any number of PostgresStore objects, in any number of processes, may share
// one database. Writes are transactions at READ COMMITTED; content-addressed rows (chunks,
// manifests, inventories, hosts) are inserted with ON CONFLICT DO NOTHING, so concurrent
// ingests of identical content neither fail nor duplicate; writes that check and then
// write (tokens, enrolment, fleet changes, signatures) hold a transaction-scoped advisory
// lock, as SQLite's single writer did; serialization failures and deadlocks are retried.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace tb {

struct PostgresStoreOptions {
  // Apply the schema (and pending migrations) when the database holds no store yet.
  // false: a database without one is ErrorCode::not_found.
  bool create = true;
  // true (default): each commit is flushed to the server's WAL on disk before it returns
  // (synchronous_commit = on), so an acknowledged scan survives a crash of the database
  // server. false: synchronous_commit = off, for bulk imports that can be replayed.
  bool durable_commits = true;
  // How often a transaction is run again after a serialization failure or a deadlock
  // with another replica before the call fails with ErrorCode::io.
  int max_attempts = 8;
};

// Connects to `url` (a libpq URI, postgresql://user:password@host:port/database?options)
// and applies pending schema migrations. Errors name the URL with its password redacted.
// invalid_argument when the schema is newer than this build knows.
Expected<std::unique_ptr<Store>> open_postgres_store(const std::string& url, const PostgresStoreOptions& options = {});

// The URL with any password replaced by "***", for messages and logs.
std::string redact_url(std::string_view url);

}  // namespace tb
