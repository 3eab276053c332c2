#include "cli/store_commands.h"

#include "cli/import_command.h"
#include "cli/feed_command.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/analysis.h"
#include "core/signature_index.h"
#include "format/analysis_report.h"
#include "format/scan_reader.h"
#include "sources/directory_source.h"
#include "store/sqlite_store.h"

namespace tb {

namespace cli {

int error(std::string_view command, const std::string& message) {
  fmt::print(stderr, "trustbase {}: {}\n", command, message);
  return 2;
}

Expected<std::unique_ptr<Store>> open_store(const StoreArgs& args) {
  auto store = open_sqlite_store(args.db);
  if (!store) return fail(store.error().code, args.db + ": " + store.error().message);
  return store;
}

}  // namespace cli

namespace {

constexpr int kOk = 0, kDeviations = 1;

using cli::error;

using cli::open_store;

Expected<ScanDocument> load_document(const std::string& path) { return parse_scan_file(path); }

int run_ingest(const StoreArgs& s, const IngestArgs& a) {
  auto store = open_store(s);
  if (!store) return error("ingest", store.error().message);
  int status = kOk;
  for (const std::string& file : a.files) {
    auto doc = load_document(file);
    if (!doc) {
      status = error("ingest", doc.error().message);
      continue;  // one bad file does not stop the others
    }
    const std::string host = a.host.empty() ? doc->header.host.hostname : a.host;
    if (host.empty()) {
      status = error("ingest", file + ": the document names no host; give --host");
      continue;
    }
    auto id = (*store)->put_scan(host, *doc);
    if (!id) {
      status = error("ingest", file + ": " + id.error().message);
      continue;
    }
    fmt::print("ingested {} for host {} ({} records) as scan {}\n", file, host, doc->manifest.size(), *id);
  }
  return status;
}

// Judges `scan` against every signature in the store and prints the report.
int print_analysis(std::string_view command, Store& store, const ScanDocument& scan, const std::string& host,
                   const ReportArgs& a) {
  auto signatures = store.signatures();
  if (!signatures) return error(command, signatures.error().message);
  auto index = SignatureIndex::build(std::move(*signatures));
  if (!index) return error(command, index.error().message);
  const Analysis analysis = analyze(scan, *index);
  FdSink out(STDOUT_FILENO);
  const AnalysisContext context{&scan.header, host, a.include_absent};
  if (auto st = write_analysis_report(report_format_from_string(a.format).value_or(ReportFormat::text), context,
                                      analysis, out);
      !st)
    return error(command, st.error().message);
  return analysis_is_clean(analysis) ? kOk : kDeviations;
}

int run_report(const StoreArgs& s, const ReportArgs& a) {
  auto store = open_store(s);
  if (!store) return error("report", store.error().message);
  auto latest = (*store)->latest_scan(a.host);
  if (!latest) return error("report", latest.error().message);
  if (!*latest) return error("report", "no scan of host '" + a.host + "' in " + s.db);
  auto scan = (*store)->get_scan(**latest);
  if (!scan) return error("report", scan.error().message);
  return print_analysis("report", **store, *scan, a.host, a);
}

int run_analyze(const StoreArgs& s, const AnalyzeArgs& a) {
  auto doc = load_document(a.file);
  if (!doc) return error("analyze", doc.error().message);
  auto store = open_store(s);
  if (!store) return error("analyze", store.error().message);
  return print_analysis("analyze", **store, *doc, doc->header.host.hostname, a.report);
}

}  // namespace

void add_store_commands(CLI::App& app, StoreCommands& c) {
  if (const char* env = std::getenv("TRUSTBASE_DB"); env != nullptr && *env != '\0') c.store.db = env;
  app.add_option("--db", c.store.db, "SQLite store file (default: $TRUSTBASE_DB or ./trustbase.db)")
      ->type_name("FILE");

  CLI::App* imp = c.import_cmd = app.add_subcommand(
      "import",
      "Import signatures: packages (.deb, .rpm, SWID tags) and directories of them; or, with --name and --version, "
      "one directory tree, tar/zip archive or scan document");
  imp->add_option("--name", c.import.name, "Product or patch name (directory trees, archives, scans)");
  imp->add_option("--version", c.import.version, "Version (directory trees, archives, scans)");
  imp->add_option("--kind", c.import.kind, "product or patch (packages: inferred from the stored releases)")
      ->check(CLI::IsMember({"product", "patch"}));
  imp->add_option("--vendor", c.import.vendor, "Vendor");
  imp->add_option("--patches", c.import.patches, "The release a patch applies to (NAME@VERSION)");
  imp->add_option("--supersedes", c.import.supersedes, "Earlier patch whose files this one replaces (NAME@VERSION)")
      ->allow_extra_args(false);
  imp->add_option("--install-root", c.import.install_root,
                  "Where a directory's or archive's contents are installed (default /); for a scan: keep records "
                  "under it; for SWID tags: the root of elements without one");
  imp->add_option("--strip-components", c.import.strip_components,
                  "tar/zip: drop this many leading path components (the archive's top directory)");
  imp->add_flag("-q,--quiet", c.import.quiet, "Only the summary: no line per package, no progress");
  imp->add_flag("--watch", c.import.watch,
                "Treat the one source as a feed directory: import each new package dropped there, once");
  imp->add_option("--interval", c.import.interval_s, "--watch: seconds between polls (default 10)")
      ->check(CLI::Range(0.05, 86400.0));
  imp->add_option("--settle", c.import.settle_s,
                  "--watch: a new file this many seconds old is complete (default 2; else unchanged for one poll)")
      ->check(CLI::Range(0.0, 86400.0));
  imp->add_flag("--once", c.import.once, "--watch: poll once, then exit (scripts, tests)");
  imp->add_option("sources", c.import.sources, "Package files and directories of packages; or one directory tree, "
                                              "tar/zip archive or scan document (with --name and --version)")
      ->required();

  CLI::App* ing = c.ingest_cmd = app.add_subcommand("ingest", "Store scan documents (hosts without network)");
  ing->add_option("--host", c.ingest.host, "Host name (default: the one in the document)");
  ing->add_option("files", c.ingest.files, "Scan documents")->required();

  CLI::App* rep = app.add_subcommand("report", "Reports: a host's latest scan, the fleet, a cluster, a patch");
  CLI::App* host = c.report_cmd = rep->add_subcommand("host", "Signatures and deviations of one host");
  host->add_option("name", c.report.host, "Host name")->required();
  rep->require_subcommand(1);

  CLI::App* ana = c.analyze_cmd =
      app.add_subcommand("analyze", "Judge a scan document against the stored signatures, without storing it");
  ana->add_option("file", c.analyze.file, "Scan document (XML or JSON)")->required();
  ana->add_option("--format", c.analyze.report.format, "Report format")->check(CLI::IsMember({"text", "json", "xml"}));
  ana->add_flag("--all", c.analyze.report.include_absent, "Also list signatures that are not installed");
  host->add_option("--format", c.report.format, "Report format")->check(CLI::IsMember({"text", "json", "xml"}));
  host->add_flag("--all", c.report.include_absent, "Also list signatures that are not installed");
}

int run_store_commands(const StoreCommands& c) {
  if (c.import_cmd->parsed() && c.import.watch) return run_import_watch(c.store, c.import);
  if (c.import_cmd->parsed()) return run_import(c.store, c.import);
  if (c.ingest_cmd->parsed()) return run_ingest(c.store, c.ingest);
  if (c.report_cmd->parsed()) return run_report(c.store, c.report);
  if (c.analyze_cmd->parsed()) return run_analyze(c.store, c.analyze);
  return -1;
}

}  // namespace tb
