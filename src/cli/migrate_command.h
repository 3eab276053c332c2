// `trustbase migrate --from SPEC --to SPEC`: copies a whole store into an empty one,
// SQLite <-> PostgreSQL (store/store_migration.h): ids kept, one destination transaction,
// verified (row counts and a SHA-256 per table) before it commits. Progress per table on
// stderr, the summary on stdout. Exit status: 0 migrated and verified, 2 error (nothing
// committed to the destination).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace tb {

struct MigrateArgs {
  std::string from;  // store specification (store/open_store.h)
  std::string to;
  bool quiet = false;  // no progress lines
};

// Registers `migrate` on `app` and returns it.
CLI::App* add_migrate_command(CLI::App& app, MigrateArgs& args);

int run_migrate(const MigrateArgs& args);

}  // namespace tb
