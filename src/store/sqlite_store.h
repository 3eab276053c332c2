// The SQLite implementation of the store: one database file, WAL mode.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace tb {

struct SqliteStoreOptions {
  // How long a writer waits for another connection's write lock before failing with
  // ErrorCode::io ("database is locked"). Default 5 s: a put_scan of 100k records holds
  // the lock well under a second.
  int busy_timeout_ms = 5000;
  // true (default): synchronous=FULL, every committed put_* is on disk when it returns,
  // so the server can acknowledge a scan to the scanner. false: synchronous=NORMAL, which
  // in WAL mode never corrupts the database but may lose the last commits on power loss
  // (not on a process crash) until the next checkpoint; for bulk imports that can be
  // replayed. One fsync per put_scan is cheap next to the work of storing a scan.
  bool durable_commits = true;
  // Create the file (and the schema) when missing. false: a missing file is an error.
  bool create = true;
};

// Opens (or creates) the store at `path`, applying pending schema migrations. Fails with
// ErrorCode::parse when the file is not an SQLite database, and ErrorCode::invalid_argument
// when its schema is newer than this build knows.
Expected<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteStoreOptions& options = {});

// The schema version this build creates and understands.
int sqlite_store_schema_version() noexcept;

}  // namespace tb
