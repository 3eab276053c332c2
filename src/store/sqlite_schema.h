// The SQLite store's schema, as numbered migrations recorded in `schema_migrations`.
#pragma once

#include <string>

#include "core/error.h"
#include "store/sqlite_db.h"

namespace tb::sqlite {

// The highest migration this build knows.
int latest_schema_version() noexcept;

// Applies every migration newer than the database's version, each in its own transaction
// (so a failed migration leaves the previous version intact). Refuses a database whose
// version is newer than latest_schema_version(). `path` only names the file in errors.
Expected<void> migrate(Db& db, const std::string& path);
// The same, stopping after migration `up_to_version`: for tests that build a store as an
// older release left it, to check that it upgrades.
Expected<void> migrate(Db& db, const std::string& path, int up_to_version);

}  // namespace tb::sqlite
