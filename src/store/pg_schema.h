// The PostgreSQL store's schema: the SQLite store's migrations (store/sqlite_schema.cpp)
// table for table and column for column, with the same numbers, recorded in the same
// `schema_migrations` table, so that a store can be copied between the two generically
// (INTEGER -> bigint, BLOB -> bytea, TEXT -> text in byte order, INTEGER PRIMARY KEY ->
// bigint identity). Internal to the store.
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace tb::pg {

// The highest migration this build knows.
int latest_schema_version() noexcept;

// Applies every migration not yet recorded, each in its own transaction under an advisory
// lock (replicas opening a new database at once apply each migration once). Throws the
// store's internal Failure (invalid_argument) when the database's version is newer than
// this build knows, and not_found when `create` is false and the database holds no store.
// `where` only names the database in errors (a redacted URL).
void migrate(pqxx::connection& conn, const std::string& where, bool create);

}  // namespace tb::pg
