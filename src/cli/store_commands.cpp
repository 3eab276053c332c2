#include "cli/store_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/feed_command.h"
#include "cli/import_command.h"
#include "core/analysis.h"
#include "core/signature_index.h"
#include "fleet/fleet_view.h"
#include "format/analysis_report.h"
#include "format/drift_report.h"  // printable()
#include "format/scan_reader.h"
#include "sources/directory_source.h"
#include "store/open_store.h"

namespace tb {

namespace cli {

int error(std::string_view command, const std::string& message) {
  fmt::print(stderr, "trustbase {}: {}\n", command, message);
  return 2;
}

Expected<std::unique_ptr<Store>> open_store(const StoreArgs& args, const StoreOptions& options) {
  auto store = tb::open_store(args.db, options);
  if (!store) {
    const std::string shown = display_store_spec(args.db);
    if (store.error().message.starts_with(shown)) return store;  // it names the store already
    return fail(store.error().code, shown + ": " + store.error().message);
  }
  return store;
}

}  // namespace cli

namespace {

constexpr int kOk = 0, kDeviations = 1;

using cli::error;

using cli::open_store;

Expected<ScanDocument> load_document(const std::string& path) {
  return parse_scan_file(path);
}

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
    const auto now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (auto why = implausible_start(doc->header, now_ns)) {
      status = error("ingest", file + ": " + *why);
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
  Analysis analysis = analyze(scan, *index);
  if (auto r = fleet::explain_by_cluster_snapshot(store, host, scan.manifest, analysis); !r)
    return error(command, r.error().message);
  FdSink out(STDOUT_FILENO);
  const AnalysisContext context{&scan.header, host, a.include_absent};
  if (auto st = write_analysis_report(report_format_from_string(a.format).value_or(ReportFormat::text), context,
                                      analysis, out);
      !st)
    return error(command, st.error().message);
  return is_clean(analysis) ? kOk : kDeviations;
}

int run_report(const StoreArgs& s, const ReportArgs& a) {
  auto store = open_store(s);
  if (!store) return error("report", store.error().message);
  auto latest = (*store)->latest_scan(a.host);
  if (!latest) return error("report", latest.error().message);
  if (!*latest) return error("report", "no scan of host '" + a.host + "' in " + display_store_spec(s.db));
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

nlohmann::json provenance_json(const SignatureProvenance& p) {
  if (!p.verified()) return nlohmann::json();
  return nlohmann::json{
      {"method", std::string(to_string(p.method))},
      {"signer_fingerprint", p.signer_fingerprint},
      {"signer_key_id", p.signer_key_id},
      {"origin", p.origin},
      {"suite", p.suite},
      {"codename", p.codename},
      {"release_sha256", p.release_sha256 ? nlohmann::json(p.release_sha256->hex()) : nlohmann::json()}};
}

// Every stored signature, oldest first, with what was verified of its package on import.
int run_signatures(const StoreArgs& s, const SignaturesArgs& a) {
  auto store = open_store(s);
  if (!store) return error("signatures", store.error().message);
  auto listing = (*store)->list_signatures();
  if (!listing) return error("signatures", listing.error().message);
  auto infos = (*store)->signature_infos();
  if (!infos) return error("signatures", infos.error().message);
  if (infos->size() != listing->size()) return error("signatures", "the store changed while it was read; try again");
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < infos->size(); ++i) {
      const SignatureInfo& info = (*infos)[i];
      nlohmann::json entry{
          {"id", (*listing)[i].id},
          {"name", info.ref.name},
          {"version", info.ref.version},
          {"kind", std::string(to_string(info.kind))},
          {"records", (*listing)[i].records},
          {"architecture", info.architecture},
          {"source", info.source},
          {"source_sha256", info.source_sha256 ? nlohmann::json(info.source_sha256->hex()) : nlohmann::json()},
          {"provenance", provenance_json(info.provenance)}};
      list.push_back(std::move(entry));
    }
    fmt::print("{}\n", nlohmann::json{{"signatures", std::move(list)}}.dump(2, ' ', false,
                                                                            nlohmann::json::error_handler_t::replace));
    return kOk;
  }
  fmt::print("{:>6}  {:<40}  {:<7}  {:>8}  {}\n", "ID", "SIGNATURE", "KIND", "RECORDS", "PROVENANCE");
  for (std::size_t i = 0; i < infos->size(); ++i) {
    const SignatureInfo& info = (*infos)[i];
    const SignatureProvenance& p = info.provenance;
    std::string provenance = "not verified";
    if (p.verified()) {
      provenance = std::string(to_string(p.method)) + " " +
                   (p.signer_fingerprint.empty() ? "key " + p.signer_key_id : p.signer_fingerprint);
      std::string release;
      for (const std::string* f : {&p.origin, &p.suite, &p.codename})
        if (!f->empty()) release += (release.empty() ? "" : " ") + *f;
      if (!release.empty()) provenance += " (" + release + ")";
    }
    fmt::print("{:>6}  {:<40}  {:<7}  {:>8}  {}\n", (*listing)[i].id, printable(info.ref.id()), to_string(info.kind),
               (*listing)[i].records, printable(provenance));
  }
  return kOk;
}

}  // namespace

void add_store_commands(CLI::App& app, StoreCommands& c) {
  if (const char* env = std::getenv("TRUSTBASE_DB"); env != nullptr && *env != '\0') c.store.db = env;
  app.add_option("--db", c.store.db,
                 "The store: an SQLite file (or sqlite:FILE) or postgresql://USER:PASSWORD@HOST/DB"
                 " (default: $TRUSTBASE_DB or ./trustbase.db)")
      ->type_name("FILE|URL");

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
  imp->add_option("--keyring", c.import.keyrings,
                  "OpenPGP public keys of the publishers (armored or binary, e.g. gpg --export); verifies rpm "
                  "header signatures and the --apt-release signature (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  imp->add_option("--apt-release", c.import.apt_release,
                  "Debian repository's InRelease (or Release, with --apt-release-gpg): .deb files are verified "
                  "through it and --apt-packages")
      ->type_name("FILE");
  imp->add_option("--apt-release-gpg", c.import.apt_release_gpg,
                  "The detached signature (Release.gpg) of --apt-release")
      ->type_name("FILE");
  imp->add_option("--apt-packages", c.import.apt_packages,
                  "Packages index (plain, .gz, .xz...) that --apt-release lists; each .deb must match its entry "
                  "(repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  imp->add_flag("--require-signed", c.import.require_signed,
                "Refuse packages whose signature is absent or not verified (needs --keyring)");
  imp->add_option("sources", c.import.sources,
                  "Package files and directories of packages; or one directory tree, "
                  "tar/zip archive or scan document (with --name and --version)")
      ->required();

  CLI::App* sigs = c.signatures_cmd =
      app.add_subcommand("signatures", "List the stored signatures, with the provenance verified on import");
  sigs->add_option("--format", c.signatures.format, "text or json")->check(CLI::IsMember({"text", "json"}));

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
  if (c.signatures_cmd->parsed()) return run_signatures(c.store, c.signatures);
  if (c.report_cmd->parsed()) return run_report(c.store, c.report);
  if (c.analyze_cmd->parsed()) return run_analyze(c.store, c.analyze);
  return -1;
}

}  // namespace tb
