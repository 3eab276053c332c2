// The fleet commands of `trustbase`: clusters, host membership, reference snapshots and
// promotion stages, on the store named by the global --db (cli/store_commands.h).
//
//   trustbase cluster add NAME [--description D]     cluster list | show NAME [--format F]
//   trustbase host add NAME --cluster C --role R      host list [--cluster C] [--format F]
//   trustbase snapshot publish --cluster C --from HOST|SCAN_FILE
//   trustbase snapshot list --cluster C [--format F]
//   trustbase promote PATCH@VERSION --cluster C --stage tested|inactive|active
//
// Writes are recorded in the store's audit log as "cli:<user>" ($USER, else the login name).
// Exit status: 0 ok, 2 error.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/store_commands.h"

namespace tb {

struct ClusterArgs {
  std::string name, description;
  std::string format = "text";
};

struct HostArgs {
  std::string name, cluster, role;
  std::string public_key;  // host key: base64 of the Ed25519 public key
  std::string format = "text";
};

struct SnapshotArgs {
  std::string cluster;
  std::string from;  // a host with a stored scan (preferred), else a scan document
  std::string format = "text";
};

struct PromoteArgs {
  std::string patch;  // NAME@VERSION
  std::string cluster, stage;
};

struct FleetCommands {
  ClusterArgs cluster;
  HostArgs host;
  SnapshotArgs snapshot;
  PromoteArgs promote;
  CLI::App* cluster_add_cmd = nullptr;
  CLI::App* cluster_list_cmd = nullptr;
  CLI::App* cluster_show_cmd = nullptr;
  CLI::App* host_add_cmd = nullptr;
  CLI::App* host_list_cmd = nullptr;
  CLI::App* host_key_cmd = nullptr;
  CLI::App* snapshot_publish_cmd = nullptr;
  CLI::App* snapshot_list_cmd = nullptr;
  CLI::App* promote_cmd = nullptr;
};

// Registers cluster, host, snapshot and promote on `app` (after add_store_commands).
void add_fleet_commands(CLI::App& app, FleetCommands& commands);

// Runs whichever of them was parsed, with the store of `store`; returns its exit status,
// or -1 if none was.
int run_fleet_commands(const FleetCommands& commands, const StoreArgs& store);

}  // namespace tb
