// trustbase: the server-side command. Today: compare, import, ingest, report host, serve
// and token; verify and the fleet reports follow (docs/design.md).
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

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

namespace {

// Edits from a to b: insertions, deletions, substitutions and swaps of neighbours
// ("reprot" is one edit from "report").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// An option of `app` or of a command above it (CLI11 lets options fall through).
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent())
    if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
  return nullptr;
}

// When a word stands where a command takes a subcommand and names none of them:
// "unknown command 'reprot'; did you mean 'report'?" (the nearest, when it is near),
// else with the list of commands. Empty when every command word is known: the parse
// error is about something else.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path;  // the command words so far
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return {};
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg.find('=') != std::string::npos) continue;
      const CLI::Option* o = find_option(current, arg);
      if (o != nullptr && o->get_type_size_min() > 0) ++i;  // its value
      continue;
    }
    // Option groups are nameless subcommands in CLI11: not commands.
    const auto subcommands = current->get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); });
    const auto options = current->get_options([](const CLI::Option* o) { return o->get_positional(); });
    if (subcommands.empty() || !options.empty()) return {};  // a positional argument
    const auto next =
        std::find_if(subcommands.begin(), subcommands.end(), [&](const CLI::App* s) { return s->check_name(arg); });
    const std::string prefix = path.empty() ? "" : path + " ";
    if (next != subcommands.end()) {
      path = prefix + (*next)->get_name();
      current = *next;
      continue;
    }
    const CLI::App* nearest = nullptr;
    std::size_t best = 0;
    for (const CLI::App* s : subcommands) {
      const std::size_t d = edit_distance(arg, s->get_name());
      if (nearest == nullptr || d < best) {
        nearest = s;
        best = d;
      }
    }
    std::string message = "unknown command '" + prefix + arg + "'";
    if (nearest != nullptr && best <= std::max<std::size_t>(2, arg.size() / 3))
      return message + "; did you mean '" + prefix + nearest->get_name() + "'?";
    message += " (commands:";
    for (const CLI::App* s : subcommands) message += " " + s->get_name();
    return message + "; see 'trustbase " + prefix + "--help')";
  }
  return {};
}

}  // namespace

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
    if (e.get_exit_code() != 0) {
      if (const std::string unknown = unknown_command(app, argc, argv); !unknown.empty()) {
        std::fprintf(stderr, "trustbase: %s\n", unknown.c_str());
        return 2;
      }
    }
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
