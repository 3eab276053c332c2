// The fleet reports and the deployment gate of `trustbase`, on the store named by the
// global --db (cli/store_commands.h):
//
//   trustbase report fleet [--cluster C] [--state S]... [--products|--patches-only]
//                          [--format text|json|html]
//             columns: patches, and the product releases some host has a problem with
//             (every product with --products, none with --patches-only)
//   trustbase report cluster C [--format text|json|html]   matrix + each member's drift
//   trustbase report patch NAME@VERSION [--format ...]      one patch across the fleet
//   trustbase report history H [--files] [--format text|json]   what each scan changed
//   trustbase verify --host H [--expect-patch P]... [--cluster-identical]
//                    [--allow-deviations] [--require-signatures] [--format text|json]
//             packages installed at a version no signature checks (unverified) are a
//             warning, and fail with --require-signatures
//
// Every command first brings stale cached analyses up to date (fleet/fleet_view.h).
// Exit status: 0 nothing to report (verify: host in its expected state), 1 problems
// found, 2 error.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/store_commands.h"

namespace tb {

struct FleetReportArgs {
  std::string cluster;              // report cluster C, or report fleet --cluster C
  std::string patch;                // report patch P
  std::vector<std::string> states;  // --state
  bool products = false;            // --products: every product release as a column
  bool patches_only = false;        // --patches-only: no product column
  std::string format = "text";
  std::string host;    // report history H
  bool files = false;  // report history --files: every changed path, not only counts
};

struct VerifyArgs {
  std::string host;
  std::vector<std::string> expect_patches;
  bool cluster_identical = false;
  bool allow_deviations = false;
  bool require_signatures = false;
  std::string format = "text";
};

struct FleetReportCommands {
  FleetReportArgs report;
  VerifyArgs verify;
  CLI::App* fleet_cmd = nullptr;
  CLI::App* cluster_cmd = nullptr;
  CLI::App* patch_cmd = nullptr;
  CLI::App* history_cmd = nullptr;
  CLI::App* verify_cmd = nullptr;
};

// Registers report fleet|cluster|patch (under the `report` of add_store_commands, which
// must run first) and verify.
void add_fleet_report_commands(CLI::App& app, FleetReportCommands& commands);

// Runs whichever was parsed; returns its exit status, or -1 if none was.
int run_fleet_report_commands(const FleetReportCommands& commands, const StoreArgs& store);

}  // namespace tb
