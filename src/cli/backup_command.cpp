#include "cli/backup_command.h"

#include <fmt/format.h>

#include "store/open_store.h"
#include "store/sqlite_backup.h"

namespace tb {

namespace {

std::string size_text(std::uint64_t bytes) {
  if (bytes < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

int run_backup(const BackupArgs& a, const std::string& store) {
  BackupOptions options;
  options.pages_per_step = a.step_pages;
  auto done = backup_sqlite_store(store, a.file, options);
  if (!done) return cli::error("backup", done.error().message);
  fmt::print("backed up {} to {}: {} ({} bytes), schema version {}, integrity ok", store, a.file,
             size_text(done->file.bytes), done->file.bytes, done->file.schema_version);
  if (done->restarts > 0)
    fmt::print(" (copy restarted {} {} by writes)", done->restarts, done->restarts == 1 ? "time" : "times");
  fmt::print("\n");
  return 0;
}

int run_restore(const BackupArgs& a, const std::string& store) {
  RestoreOptions options;
  options.force = a.force;
  auto done = restore_sqlite_store(a.file, store, options);
  if (!done) return cli::error("restore", done.error().message);
  fmt::print("restored {} into {}: {} ({} bytes), schema version {}, integrity ok\n", a.file, store,
             size_text(done->bytes), done->bytes, done->schema_version);
  return 0;
}

}  // namespace

void add_backup_commands(CLI::App& app, BackupCommands& c) {
  CLI::App* backup = c.backup_cmd =
      app.add_subcommand("backup", "Copy the store, online (a running server keeps serving), to a file");
  backup->add_option("--to", c.backup.file, "The backup file (written as FILE.partial, renamed when checked)")
      ->required()
      ->type_name("FILE");
  backup->add_option("--store", c.backup.store, "The store to back up (default: --db)")->type_name("FILE");
  backup->add_option("--step-pages", c.backup.step_pages,
                     "Pages (4 KiB) copied per step; writers get in between steps (default 1024)")
      ->check(CLI::Range(1, 1 << 30));
  CLI::App* restore = c.restore_cmd =
      app.add_subcommand("restore", "Put a backup in place as the store (stop the server first)");
  restore->add_option("--from", c.restore.file, "The backup file")->required()->type_name("FILE");
  restore->add_option("--store", c.restore.store, "The store to restore (default: --db)")->type_name("FILE");
  restore->add_flag("--force", c.restore.force, "Replace a store that holds data");
}

// backup and restore copy SQLite files; a PostgreSQL store has pg_dump and its server's
// own backups (and `trustbase migrate` to move between the two).
static Expected<std::string> sqlite_file(std::string_view command, const std::string& spec) {
  auto parsed = parse_store_spec(spec);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->kind != StoreKind::sqlite)
    return fail(ErrorCode::invalid_argument,
                std::string(command) + " works on SQLite stores only; back up a PostgreSQL store (" +
                    display_store_spec(spec) + ") with pg_dump");
  return parsed->location;
}

int run_backup_commands(const BackupCommands& c, const StoreArgs& store) {
  if (c.backup_cmd->parsed() || c.restore_cmd->parsed()) {
    const bool backup = c.backup_cmd->parsed();
    const std::string& given = backup ? c.backup.store : c.restore.store;
    auto file = sqlite_file(backup ? "backup" : "restore", given.empty() ? store.db : given);
    if (!file) return cli::error(backup ? "backup" : "restore", file.error().message);
    return backup ? run_backup(c.backup, *file) : run_restore(c.restore, *file);
  }
  return -1;
}

}  // namespace tb
