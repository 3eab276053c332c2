// The store-backed commands of `trustbase`: import signatures, ingest scans (offline
// hosts), report on a host's latest scan, analyze a scan document without storing it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "store/open_store.h"
#include "store/store.h"

namespace tb {

struct StoreArgs {
  // --db, or $TRUSTBASE_DB: a file (or sqlite:FILE) or a postgresql:// URL (store/open_store.h).
  std::string db = "trustbase.db";
};

struct ImportArgs {
  std::string name, version, vendor, patches, install_root = "/";
  std::string kind;                  // empty: product, or what the importer infers
  std::vector<std::string> supersedes;
  std::vector<std::string> sources;  // packages and directories of packages; with --name/--version,
                                     // one directory tree, tar/zip archive or scan document
  unsigned strip_components = 0;     // tar/zip: leading path components to drop
  bool quiet = false;                // no line per package, no progress
  // --watch: the one source is a feed directory polled for new packages (cli/feed_command.h).
  bool watch = false;
  double interval_s = 10;            // between polls
  double settle_s = 2;               // a new file older than this is complete (else: unchanged for one poll)
  bool once = false;                 // one poll, then exit
  // Signed imports (sources/package_verifier.h): publisher keys, a Debian chain, and
  // whether what is not verified is refused.
  std::vector<std::string> keyrings;      // --keyring
  std::string apt_release;                // --apt-release (InRelease, or Release with --apt-release-gpg)
  std::string apt_release_gpg;            // --apt-release-gpg
  std::vector<std::string> apt_packages;  // --apt-packages
  bool require_signed = false;            // --require-signed
};

struct IngestArgs {
  std::string host;                // default: the document's hostname
  std::vector<std::string> files;
};

struct ReportArgs {
  std::string host;
  std::string format = "text";
  bool include_absent = false;
};

struct AnalyzeArgs {
  std::string file;
  ReportArgs report;
};

// `trustbase signatures`: the stored signatures with their provenance.
struct SignaturesArgs {
  std::string format = "text";  // text | json
};

struct StoreCommands {
  StoreArgs store;
  ImportArgs import;
  SignaturesArgs signatures;
  CLI::App* signatures_cmd = nullptr;
  IngestArgs ingest;
  ReportArgs report;
  AnalyzeArgs analyze;
  CLI::App* import_cmd = nullptr;
  CLI::App* analyze_cmd = nullptr;
  CLI::App* ingest_cmd = nullptr;
  CLI::App* report_cmd = nullptr;
};

namespace cli {
// Shared by the trustbase subcommands: "trustbase COMMAND: message" on stderr; returns 2.
int error(std::string_view command, const std::string& message);
// The store named by --db / $TRUSTBASE_DB, errors prefixed with it (a URL's password hidden).
Expected<std::unique_ptr<Store>> open_store(const StoreArgs& args, const StoreOptions& options = {});
}  // namespace cli

// Registers import, ingest and report (and the global --db option) on `app`.
void add_store_commands(CLI::App& app, StoreCommands& commands);

// Runs whichever of them was parsed; returns its exit status, or -1 if none was.
// import: see cli/import_command.h. ingest: 0 ok, 2 error. report/analyze: 0 clean,
// 1 deviations, 2 error.
int run_store_commands(const StoreCommands& commands);

}  // namespace tb
