// Online backup and restore of the SQLite store (`trustbase backup`, `trustbase restore`),
// through SQLite's backup API: a consistent copy of a store that a running server keeps
// writing to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"

namespace tb {

struct BackupOptions {
  // Pages copied per step; the source is free for other connections between steps. After
  // a restart (another connection wrote to the store, so the copy begins again), the step
  // doubles, so a copy of a store under steady writes still finishes.
  int pages_per_step = 1024;
  // Pause between steps, letting writers in (a rollback-journal store is locked while a
  // step reads it; a WAL store, the default, never blocks writers).
  std::chrono::milliseconds pause{1};
  // Called after each step with the pages left and the total.
  std::function<void(std::uint64_t remaining, std::uint64_t total)> progress;
};

// A verified database file: what `PRAGMA integrity_check` and the schema table say.
struct StoreFileInfo {
  std::uint64_t bytes = 0;      // the file's size
  int schema_version = 0;       // max(version) of schema_migrations
};

struct BackupResult {
  StoreFileInfo file;
  int restarts = 0;  // copies begun again because the store changed mid-copy
};

// Copies the store at `store_path` (which must exist) into `to_path`: written as
// `to_path + ".partial"`, checked (integrity_check, schema version), fsynced and renamed
// into place, then the directory fsynced. The copy is a single self-contained file
// (rollback journal mode; the store switches it back to WAL when it opens it). On any
// failure nothing is left at either path and `to_path`, if it existed, is untouched.
// Errors: not_found (no store), parse (not a store, or the copy is corrupt), io (disk
// full, permissions: the message names the path).
Expected<BackupResult> backup_sqlite_store(const std::string& store_path, const std::string& to_path,
                                           const BackupOptions& options = {});

// Opens `path` read-only and checks it: an SQLite database (parse otherwise) holding a
// trustbase schema (parse), `PRAGMA integrity_check` "ok" (parse, with SQLite's first
// complaint).
Expected<StoreFileInfo> check_sqlite_store_file(const std::string& path);

struct RestoreOptions {
  bool force = false;  // replace a store that holds data
};

// Restores the backup `from_path` as the store at `store_path`. The backup is checked
// first (check_sqlite_store_file; a schema newer than this build knows is refused with
// invalid_argument). A store that exists and holds any host, scan, signature or token is
// replaced only with `force` (else invalid_argument), and never when it cannot be read as
// a store unless forced. A new store is written beside the target and renamed into place;
// an existing one is overwritten through the backup API in one transaction, which keeps
// its WAL consistent (stop the server first: its cached state would be stale).
Expected<StoreFileInfo> restore_sqlite_store(const std::string& from_path, const std::string& store_path,
                                             const RestoreOptions& options = {});

}  // namespace tb
