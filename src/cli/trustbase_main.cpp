// trustbase: the server-side command. Today: compare, import, ingest, report host;
// serve, verify and the fleet reports follow (docs/design.md).
#include <CLI/CLI.hpp>

#include "cli/compare_command.h"
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors share the fatal-error status
  }
  if (compare_cmd->parsed()) return tb::run_compare(compare);
  const int status = tb::run_store_commands(store_commands);
  return status >= 0 ? status : 2;
}
