// trustbase: the server-side command. Today: compare, import, ingest, report host, serve
// and token; verify and the fleet reports follow (docs/design.md).
#include <CLI/CLI.hpp>

#include "cli/backup_command.h"
#include "cli/compare_command.h"
#include "cli/demo_command.h"
#include "cli/fleet_commands.h"
#include "cli/fleet_report_commands.h"
#include "cli/migrate_command.h"
#include "cli/server_commands.h"
#include "cli/store_commands.h"

#ifndef TB_VERSION
#define TB_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"trustbase: software-integrity analysis of scans"};
  app.set_version_flag("--version", "trustbase " TB_VERSION);
  app.require_subcommand(1);
  tb::CompareArgs compare;
  CLI::App* compare_cmd = tb::add_compare_command(app, compare);
  tb::StoreCommands store_commands;
  tb::add_store_commands(app, store_commands);
  tb::ServerCommands server_commands;
  tb::add_server_commands(app, server_commands);
  tb::FleetCommands fleet_commands;
  tb::add_fleet_commands(app, fleet_commands);
  tb::FleetReportCommands fleet_reports;
  tb::add_fleet_report_commands(app, fleet_reports);
  tb::BackupCommands backup_commands;
  tb::add_backup_commands(app, backup_commands);
  tb::MigrateArgs migrate;
  CLI::App* migrate_cmd = tb::add_migrate_command(app, migrate);
  tb::cli::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "Simulate a fleet of failover clusters end to end and report on it");
  demo_cmd->add_option("--dir", demo.dir, "Work directory (must be empty; default: a new one under /tmp)");
  demo_cmd->add_option("--clusters", demo.clusters, "Active/inactive pairs (default 35)")->check(CLI::Range(4, 999));
  demo_cmd->add_option("--format", demo.format, "Fleet report format")->check(CLI::IsMember({"text", "json", "html"}));
  demo_cmd->add_flag("--quiet,-q", demo.quiet, "No step timings");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors share the fatal-error status
  }
  if (compare_cmd->parsed()) return tb::run_compare(compare);
  if (demo_cmd->parsed()) return tb::cli::run_demo(demo);
  if (migrate_cmd->parsed()) return tb::run_migrate(migrate);
  int status = tb::run_store_commands(store_commands);
  if (status < 0) status = tb::run_server_commands(server_commands, store_commands.store);
  if (status < 0) status = tb::run_fleet_commands(fleet_commands, store_commands.store);
  if (status < 0) status = tb::run_fleet_report_commands(fleet_reports, store_commands.store);
  if (status < 0) status = tb::run_backup_commands(backup_commands, store_commands.store);
  return status >= 0 ? status : 2;
}
