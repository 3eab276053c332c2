#include "cli/fleet_report_commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/diff.h"
#include "core/fleet.h"
#include "fleet/fleet_view.h"
#include "format/byte_sink.h"
#include "format/cluster_report.h"
#include "format/drift_report.h"
#include "format/encoding.h"
#include "format/fleet_report.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

constexpr int kOk = 0, kProblems = 1;

using cli::error;

// The store, the signatures and every host's cached analysis brought up to date.
struct FleetContext {
  std::unique_ptr<Store> store;
  fleet::SignatureSet signatures;
};

Expected<FleetContext> open_fleet(const StoreArgs& args) {
  auto store = cli::open_store(args, StoreOptions{.create = false});
  if (!store) return tl::unexpected(store.error());
  auto signatures = fleet::load_signatures(**store);
  if (!signatures) return tl::unexpected(signatures.error());
  auto refreshed = fleet::refresh(**store, *signatures);
  if (!refreshed) return tl::unexpected(refreshed.error());
  for (const std::string& f : refreshed->failed) fmt::print(stderr, "trustbase: cannot analyse {}\n", f);
  return FleetContext{std::move(*store), std::move(*signatures)};
}

// Whether the store has a cluster named `name`.
Expected<bool> cluster_exists(Store& store, std::string_view name) {
  auto clusters = store.list_clusters();
  if (!clusters) return tl::unexpected(clusters.error());
  return std::any_of(clusters->begin(), clusters->end(), [&](const auto& c) { return c.name == name; });
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool has_problems(const FleetMatrix& m) {
  if (m.totals.problems() != 0) return true;
  for (const FleetRow& r : m.rows)
    if (!r.scan || r.error) return true;
  for (const FleetClusterSummary& c : m.clusters)
    if (!c.drifting.empty()) return true;
  return false;
}

Expected<int> print_matrix(const FleetReportArgs& a, const FleetMatrix& matrix, std::string title,
                           FleetReportFormat format) {
  FdSink out(STDOUT_FILENO);
  FleetReportContext context{std::move(title), now_ns(), std::nullopt};
  if (auto r = write_fleet_report(format, context, matrix, out); !r) return tl::unexpected(r.error());
  (void)a;
  return has_problems(matrix) ? kProblems : kOk;
}

int run_fleet(const StoreArgs& s, const FleetReportArgs& a, std::string_view command) {
  auto format = fleet_report_format_from_string(a.format);
  if (!format) return error(command, "unknown format '" + a.format + "'");
  auto ctx = open_fleet(s);
  if (!ctx) return error(command, ctx.error().message);
  fleet::MatrixRequest request;
  if (a.products) request.filter.products = ProductColumns::all;
  if (a.patches_only) request.filter.products = ProductColumns::none;
  std::string title = "fleet";
  if (!a.cluster.empty()) {
    auto known = cluster_exists(*ctx->store, a.cluster);
    if (!known) return error(command, known.error().message);
    if (!*known) return error(command, "unknown cluster '" + a.cluster + "'");
    request.filter.cluster = a.cluster;
    title = "cluster " + a.cluster;
  }
  if (!a.patch.empty()) {
    auto ref = SignatureRef::parse(a.patch);
    if (!ref) return error(command, "'" + a.patch + "' is not NAME@VERSION");
    if (!ctx->signatures.index.find(*ref)) return error(command, "no signature " + a.patch + " is stored");
    request.filter.patch = *ref;  // a product release can be asked for too
    title = "patch " + a.patch;
  }
  for (const std::string& st : a.states) {
    auto state = fleet_cell_state_from_string(st);
    if (!state) return error(command, "unknown cell state '" + st + "'");
    request.filter.states.add(*state);
  }
  auto matrix = fleet::fleet_matrix(*ctx->store, ctx->signatures, request);
  if (!matrix) return error(command, matrix.error().message);
  auto status = print_matrix(a, *matrix, title, *format);
  if (!status) return error(command, status.error().message);
  return *status;
}

int run_cluster(const StoreArgs& s, const FleetReportArgs& a) {
  auto format = fleet_report_format_from_string(a.format);
  if (!format) return error("report cluster", "unknown format '" + a.format + "'");
  auto ctx = open_fleet(s);
  if (!ctx) return error("report cluster", ctx.error().message);
  auto known = cluster_exists(*ctx->store, a.cluster);
  if (!known) return error("report cluster", known.error().message);
  if (!*known) return error("report cluster", "unknown cluster '" + a.cluster + "'");

  fleet::MatrixRequest request;
  request.filter.cluster = a.cluster;
  auto matrix = fleet::fleet_matrix(*ctx->store, ctx->signatures, request);
  if (!matrix) return error("report cluster", matrix.error().message);
  auto members = fleet::cluster_drift(*ctx->store, ctx->signatures, a.cluster);
  if (!members) return error("report cluster", members.error().message);
  std::vector<MemberDriftView> views;
  for (const fleet::MemberDrift& m : *members)
    views.push_back({m.host, m.role, m.scan_id, m.snapshot_version, &m.drift});

  FdSink out(STDOUT_FILENO);
  FleetReportContext context{"cluster " + a.cluster, now_ns(), std::nullopt};
  Expected<void> written;
  switch (*format) {
    case FleetReportFormat::text:
      written = write_fleet_report(*format, context, *matrix, out);
      if (written) written = out.write("\n");
      if (written) written = write_cluster_drift_report(ReportFormat::text, a.cluster, views, out);
      break;
    case FleetReportFormat::json: {
      // {"matrix": <report fleet json>, "drift": <cluster drift json>}
      std::string m, d;
      StringSink ms(m), ds(d);
      written = write_fleet_report(*format, context, *matrix, ms);
      if (written) written = write_cluster_drift_report(ReportFormat::json, a.cluster, views, ds);
      if (written) written = out.write("{\"matrix\":" + m + ",\"drift\":" + d + "}\n");
      break;
    }
    case FleetReportFormat::html: written = write_fleet_report(*format, context, *matrix, out); break;
  }
  if (!written) return error("report cluster", written.error().message);
  return has_problems(*matrix) || !members_identical(views) ? kProblems : kOk;
}

// A host's scans, oldest first, each with what changed since the one before (mtime left
// out: a redeployed identical file is not a change of software).
int run_history(const StoreArgs& s, const FleetReportArgs& a) {
  if (a.format != "text" && a.format != "json") return error("report history", "unknown format '" + a.format + "'");
  auto store = cli::open_store(s, StoreOptions{.create = false});
  if (!store) return error("report history", store.error().message);
  auto scans = (*store)->list_scans(a.host);
  if (!scans) return error("report history", scans.error().message);
  if (scans->empty()) return error("report history", "no scan of host '" + a.host + "'");
  nlohmann::json out = {{"host", a.host}, {"scans", nlohmann::json::array()}};
  std::string text = fmt::format("history of host {} ({} scans)\n", printable(a.host), scans->size());
  std::optional<Manifest> previous;
  Sha256Digest previous_digest{};
  for (const ScanListing& l : *scans) {
    nlohmann::json entry = {{"scan_id", l.id}, {"started", format_timestamp(l.started_ns)}, {"records", l.records},
                            {"errors", l.errors}};
    text += fmt::format("  scan {:<6} {}  {:>8} records", l.id, format_timestamp(l.started_ns), l.records);
    if (!previous) {
      text += "  first scan\n";
    } else if (l.manifest_digest == previous_digest) {
      entry["changes"] = {{"added", 0}, {"removed", 0}, {"modified", 0}};
      text += "  unchanged\n";
    }
    if (!previous || l.manifest_digest != previous_digest) {
      auto scan = (*store)->get_scan(l.id);
      if (!scan) return error("report history", scan.error().message);
      if (previous) {
        const auto changes = diff(*previous, scan->manifest, kSnapshotAttrs);
        const DiffCounts c = count(changes);
        entry["changes"] = {{"added", c.added}, {"removed", c.removed}, {"modified", c.modified}};
        text += fmt::format("  +{} -{} ~{}\n", c.added, c.removed, c.modified);
        if (a.files) {
          nlohmann::json paths = nlohmann::json::array();
          for (const DiffEntry& d : changes) {
            const std::string path(d.path());
            text += fmt::format("      {:<9} {}", to_string(d.change), printable(path));
            if (d.change == Change::modified) text += fmt::format("  ({})", describe(d.changed));
            text += '\n';
            paths.push_back({{"change", to_string(d.change)}, {"path", sanitize_text(path)},
                             {"changed", describe(d.changed)}});
          }
          entry["files"] = std::move(paths);
        }
      }
      previous = std::move(scan->manifest);
      previous_digest = l.manifest_digest;
    }
    out["scans"].push_back(std::move(entry));
  }
  const std::string body = a.format == "json" ? out.dump() + "\n" : text;
  FdSink sink(STDOUT_FILENO);
  if (auto r = sink.write(body); !r) return error("report history", r.error().message);
  return kOk;
}

int run_verify(const StoreArgs& s, const VerifyArgs& a) {
  auto format = report_format_from_string(a.format);
  if (!format || *format == ReportFormat::xml) return error("verify", "unknown format '" + a.format + "'");
  auto ctx = open_fleet(s);
  if (!ctx) return error("verify", ctx.error().message);
  VerifyRequest request;
  request.cluster_identical = a.cluster_identical;
  request.allow_deviations = a.allow_deviations;
  request.require_signatures = a.require_signatures;
  for (const std::string& p : a.expect_patches) {
    auto ref = SignatureRef::parse(p);
    if (!ref) return error("verify", "'" + p + "' is not NAME@VERSION");
    if (!ctx->signatures.index.find(*ref)) return error("verify", "no signature " + p + " is stored");
    request.expect_complete.push_back(*ref);
  }
  auto v = fleet::verify(*ctx->store, ctx->signatures, a.host, request);
  if (!v) return error("verify", v.error().message);
  FdSink out(STDOUT_FILENO);
  if (auto r = write_verify_report(*format, v->host, v->verdict, out); !r) return error("verify", r.error().message);
  return v->verdict.ok ? kOk : kProblems;
}

}  // namespace

void add_fleet_report_commands(CLI::App& app, FleetReportCommands& c) {
  CLI::App* report = app.get_subcommand("report");
  const auto formats = CLI::IsMember({"text", "json", "html"});
  c.fleet_cmd = report->add_subcommand("fleet", "Hosts x patches matrix of the whole fleet, cluster identity");
  c.fleet_cmd->add_option("--cluster", c.report.cluster, "Only this cluster");
  c.fleet_cmd->add_option("--state", c.report.states,
                          "Only hosts and patches with cells in this state (complete, partial, absent, superseded, "
                          "tampered, unexpected, missing, unscanned, unverified); repeatable");
  // Products with a problem are columns by default (fleet::MatrixRequest).
  CLI::Option* products =
      c.fleet_cmd->add_flag("--products", c.report.products, "Every product release as a column too");
  c.fleet_cmd
      ->add_flag("--patches-only", c.report.patches_only,
                 "Patches only (default: patches, and product releases some host has a problem with)")
      ->excludes(products);
  c.fleet_cmd->add_option("--format", c.report.format, "text, json or html")->check(formats);

  c.cluster_cmd = report->add_subcommand("cluster", "One cluster: its matrix and each member against its snapshot");
  c.cluster_cmd->add_option("name", c.report.cluster, "Cluster")->required();
  c.cluster_cmd->add_option("--format", c.report.format, "text, json or html")->check(formats);

  c.patch_cmd = report->add_subcommand("patch", "One patch (or release) across the fleet");
  c.patch_cmd->add_option("patch", c.report.patch, "NAME@VERSION")->required();
  c.patch_cmd->add_option("--state", c.report.states, "Only hosts with the patch in this state; repeatable");
  c.patch_cmd->add_option("--format", c.report.format, "text, json or html")->check(formats);

  c.history_cmd = report->add_subcommand("history", "A host's scans, each with what changed since the one before");
  c.history_cmd->add_option("host", c.report.host, "Host")->required();
  c.history_cmd->add_flag("--files", c.report.files, "List every changed path");
  c.history_cmd->add_option("--format", c.report.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  c.verify_cmd = app.add_subcommand(
      "verify", "Deployment gate: exit 0 when the host is in its expected state, 1 with the deviations otherwise");
  c.verify_cmd->add_option("--host", c.verify.host, "Host")->required();
  c.verify_cmd->add_option("--expect-patch", c.verify.expect_patches,
                           "A patch (NAME@VERSION) that must be completely installed; repeatable");
  c.verify_cmd->add_flag("--cluster-identical", c.verify.cluster_identical,
                         "The host must match its cluster's reference snapshot");
  c.verify_cmd->add_flag("--allow-deviations", c.verify.allow_deviations,
                         "Do not fail on files outside every signature");
  c.verify_cmd->add_flag("--require-signatures", c.verify.require_signatures,
                         "Fail on packages installed at a version the store has no signature of (default: a "
                         "warning)");
  c.verify_cmd->add_option("--format", c.verify.format, "text or json")->check(CLI::IsMember({"text", "json"}));
}

int run_fleet_report_commands(const FleetReportCommands& c, const StoreArgs& store) {
  if (c.fleet_cmd->parsed()) return run_fleet(store, c.report, "report fleet");
  if (c.cluster_cmd->parsed()) return run_cluster(store, c.report);
  if (c.patch_cmd->parsed()) return run_fleet(store, c.report, "report patch");
  if (c.history_cmd->parsed()) return run_history(store, c.report);
  if (c.verify_cmd->parsed()) return run_verify(store, c.verify);
  return -1;
}

}  // namespace tb
