// Opens the store a specification names: what `--db`, $TRUSTBASE_DB and the configuration
// file's `db` key hold.
//   postgresql://user:password@host:port/database?options   (or postgres://) PostgreSQL
//   sqlite:PATH, or a plain PATH                                               SQLite file
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace tb {

struct StoreOptions {
  // Create the store when missing (SQLite: the file; PostgreSQL: the schema in an existing
  // database). false: a missing store is an error.
  bool create = true;
  // false: commits may be lost on a power cut (never corrupting the store), for bulk
  // imports that can be replayed (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off).
  bool durable_commits = true;
  // SQLite only: how long a writer waits for another connection's write lock.
  int busy_timeout_ms = 5000;
};

enum class StoreKind { sqlite, postgres };

struct StoreSpec {
  StoreKind kind = StoreKind::sqlite;
  std::string location;  // the SQLite file's path, or the PostgreSQL URL as given
};

// invalid_argument for an empty specification or an unknown URL scheme ("mysql://...").
Expected<StoreSpec> parse_store_spec(std::string_view spec);

// The specification as it may be shown or logged: a URL's password replaced by "***".
std::string display_store_spec(std::string_view spec);

Expected<std::unique_ptr<Store>> open_store(std::string_view spec, const StoreOptions& options = {});

}  // namespace tb
