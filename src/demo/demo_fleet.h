// The demo fleet: a trading firm's failover clusters in miniature. Real .deb packages
// of a trading application, a middleware and a risk engine (several releases, so later
// ones become patches), a plan of which member runs what at which promotion stage, and
// a few deviations planted on purpose — each recorded, so that a test (and the reader of
// the demo) can check that the report finds exactly these and nothing else.
//
// The plan is pure (plan_fleet); building packages and host trees is I/O (build_deb,
// materialize_host). Host trees are written as dpkg would leave them, under one
// directory per host, and scanned with `trustbase-scan --sysroot`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/stage.h"

namespace tb::demo {

struct PackageFile {
  std::string path;      // absolute, as installed
  std::string content;
  std::uint32_t mode = 0644;
  bool conffile = false;
};

struct PackageSpec {
  std::string name;
  std::string version;
  std::string description;
  std::vector<PackageFile> files;  // path order
  std::string id() const { return name + "@" + version; }
};

// Every release the demo ships, oldest first per name.
std::vector<PackageSpec> demo_catalogue();

struct HostPlan {
  std::string name;
  std::string cluster;
  std::string role;                       // "active" or "inactive"
  std::vector<std::string> installed;     // package ids (name@version), at most one per name
};

struct StagePlan {
  std::string cluster;
  std::string patch;  // name@version
  Stage stage = Stage::tested;
};

// A deviation put there on purpose, and what the report must say about it.
struct Planted {
  std::string host;
  std::string kind;       // "modified", "added", "partial", "missing", "unexpected", "config-changed"
  std::string path;       // the file concerned ("" for a whole-patch state)
  std::string signature;  // name@version it must be attributed to ("" for unknown files)
  std::string story;      // one line for humans
};

struct FleetPlan {
  std::vector<PackageSpec> catalogue;
  std::vector<std::string> clusters;
  std::vector<HostPlan> hosts;
  std::vector<StagePlan> stages;
  std::vector<Planted> planted;
};

// The plan for `clusters` active/inactive pairs (at least 4: each planted deviation
// needs a cluster in the right promotion group).
Expected<FleetPlan> plan_fleet(int clusters);

// Builds the package with dpkg-deb into `out_dir`; returns the .deb's path.
Expected<std::filesystem::path> build_deb(const PackageSpec& package, const std::filesystem::path& out_dir);

// Writes the host's installed files (plus a few unpackaged system files) under `root`
// and applies the deviations planted on it.
Expected<void> materialize_host(const FleetPlan& plan, const HostPlan& host, const std::filesystem::path& root);

}  // namespace tb::demo
