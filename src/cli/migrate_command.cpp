#include "cli/migrate_command.h"

#include <fmt/format.h>

#include "cli/store_commands.h"
#include "store/open_store.h"
#include "store/store_migration.h"

namespace tb {

namespace {

std::string mib(std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

CLI::App* add_migrate_command(CLI::App& app, MigrateArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "migrate",
      "Copy a whole store into an empty one (SQLite <-> PostgreSQL), ids kept, verified before it commits");
  cmd->add_option("--from", a.from, "The store to copy: sqlite:PATH, PATH or postgresql://... (read in one snapshot; an older schema is upgraded first)")
      ->required()
      ->type_name("SPEC");
  cmd->add_option("--to", a.to,
                  "The destination: created when missing, refused when it holds data; one transaction")
      ->required()
      ->type_name("SPEC");
  cmd->add_flag("--quiet,-q", a.quiet, "No progress lines on stderr");
  return cmd;
}

int run_migrate(const MigrateArgs& a) {
  const std::string from = display_store_spec(a.from), to = display_store_spec(a.to);
  migration::MigrationOptions options;
  if (!a.quiet)
    options.progress = [](const migration::TableReport& t) {
      fmt::print(stderr, "  {:<22} {:>10} rows {:>10} {:>7.2f} s\n", t.name, t.rows, mib(t.bytes), t.seconds);
    };
  if (!a.quiet) fmt::print(stderr, "migrating {} to {}\n", from, to);
  auto done = migration::migrate_store(a.from, a.to, options);
  if (!done) return cli::error("migrate", done.error().message + " (nothing committed to " + to + ")");
  const double seconds = done->copy_seconds + done->verify_seconds;
  fmt::print("migrated {} to {}: {} tables, {} rows, {} in {:.2f} s ({:.0f} rows/s; copy {:.2f} s, verify {:.2f} s),"
             " schema version {}\n",
             from, to, done->tables.size(), done->rows, mib(done->bytes), seconds,
             seconds > 0 ? static_cast<double>(done->rows) / seconds : 0.0, done->copy_seconds, done->verify_seconds,
             done->schema_version);
  fmt::print("verified: every table's row count and SHA-256 equal on both sides; store digest {}\n",
             done->digest.hex());
  return 0;
}

}  // namespace tb
