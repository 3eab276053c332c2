// `trustbase backup --to FILE` and `trustbase restore --from FILE [--force]`: the store
// (global --db, or --store here) copied online through SQLite's backup API, and put back
// (store/sqlite_backup.h). Exit status: 0 done, 2 error (nothing changed).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/store_commands.h"

namespace tb {

struct BackupArgs {
  std::string store;  // --store: overrides --db for these two commands
  std::string file;   // backup: --to; restore: --from
  bool force = false; // restore: replace a store holding data
  int step_pages = 1024;  // backup: pages copied per step (store/sqlite_backup.h)
};

struct BackupCommands {
  BackupArgs backup, restore;
  CLI::App* backup_cmd = nullptr;
  CLI::App* restore_cmd = nullptr;
};

void add_backup_commands(CLI::App& app, BackupCommands& commands);

// Runs whichever was parsed; its exit status, or -1 if neither was.
int run_backup_commands(const BackupCommands& commands, const StoreArgs& store);

}  // namespace tb
