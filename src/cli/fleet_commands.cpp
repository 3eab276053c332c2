#include "cli/fleet_commands.h"

#include "core/scan_signature.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/analysis.h"
#include "core/path.h"
#include "core/signature_index.h"
#include "format/encoding.h"
#include "format/scan_reader.h"
#include "store/sqlite_store.h"

namespace tb {

namespace {

constexpr int kOk = 0;

using cli::error;

using cli::open_store;

// "cli:<user>" for the audit log: $USER, else the login name, else the passwd entry of
// the effective uid, else the uid itself.
std::string cli_actor() {
  std::string user;
  if (const char* env = std::getenv("USER"); env != nullptr) user = env;
  if (user.empty())
    if (const char* login = getlogin(); login != nullptr) user = login;
  if (user.empty())
    if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) user = pw->pw_name;
  if (user.empty() || user.size() > 64 || !is_plain_text(user)) user = "uid" + std::to_string(geteuid());
  return "cli:" + user;
}

// --- output ---------------------------------------------------------------------------

// A time to the second for tables ("2026-11-26T05:55:09Z"); "-" for none.
std::string short_time(std::int64_t ns) {
  if (ns == 0) return "-";
  const std::string full = format_timestamp(ns);  // "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ"
  return full.substr(0, 19) + "Z";
}

std::string dash_if_empty(std::string s) { return s.empty() ? "-" : s; }

// Columns two spaces apart, each as wide as its widest cell (in characters); no trailing
// blanks. Cells are plain text (sanitize_text for names that are bytes).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // UTF-8 lead bytes only
    }));
  };
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
}

// Minimal JSON building on format/encoding.h (which handles names that are not text).
struct Json {
  std::string out;
  bool first = true;
  void open(char c) {
    out.push_back(c);
    first = true;
  }
  void close(char c) {
    out.push_back(c);
    first = false;
  }
  void comma() {
    if (!first) out.push_back(',');
    first = false;
  }
  void key(std::string_view k) {
    comma();
    out.push_back('"');
    out.append(k);
    out += "\":";
    first = true;  // the value follows without a comma
  }
  void text(std::string_view k, std::string_view v) {
    key(k);
    append_json_text(out, v);
    first = false;
  }
  void number(std::string_view k, std::int64_t v) {
    key(k);
    append_int(out, v);
    first = false;
  }
  void time(std::string_view k, std::int64_t ns) {
    key(k);
    if (ns == 0) out += "null"; else out += "\"" + format_timestamp(ns) + "\"";
    first = false;
  }
  void null(std::string_view k) {
    key(k);
    out += "null";
    first = false;
  }
  void element() { comma(); first = true; }
  void print() { fmt::print("{}\n", out); }
};

// --- helpers on the store -----------------------------------------------------------------

Expected<std::optional<ClusterListing>> find_cluster(Store& store, std::string_view name) {
  auto clusters = store.list_clusters();
  if (!clusters) return tl::unexpected(clusters.error());
  for (ClusterListing& c : *clusters)
    if (c.name == name) return std::optional<ClusterListing>(std::move(c));
  return std::optional<ClusterListing>();
}

Expected<ClusterListing> existing_cluster(Store& store, std::string_view name) {
  auto found = find_cluster(store, name);
  if (!found) return tl::unexpected(found.error());
  if (!*found) return fail(ErrorCode::not_found, "no cluster named '" + std::string(name) + "' (trustbase cluster add)");
  return **found;
}

Expected<std::vector<HostListing>> hosts_of(Store& store, std::optional<std::string_view> cluster) {
  auto hosts = store.list_hosts();
  if (!hosts) return tl::unexpected(hosts.error());
  if (cluster)
    std::erase_if(*hosts, [&](const HostListing& h) { return h.cluster != *cluster; });
  return hosts;
}

// --- cluster --------------------------------------------------------------------------

int run_cluster_add(Store& store, const ClusterArgs& a) {
  if (auto r = store.add_cluster(a.name, a.description, cli_actor()); !r) return error("cluster add", r.error().message);
  fmt::print("added cluster {}\n", a.name);
  return kOk;
}

int run_cluster_list(Store& store, const ClusterArgs& a) {
  auto clusters = store.list_clusters();
  if (!clusters) return error("cluster list", clusters.error().message);
  if (a.format == "json") {
    Json j;
    j.open('[');
    for (const ClusterListing& c : *clusters) {
      j.element();
      j.open('{');
      j.text("name", c.name);
      j.text("description", c.description);
      j.number("members", static_cast<std::int64_t>(c.members));
      j.number("snapshot_version", c.snapshot_version);
      j.close('}');
    }
    j.close(']');
    j.print();
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {{"CLUSTER", "MEMBERS", "SNAPSHOT", "DESCRIPTION"}};
  for (const ClusterListing& c : *clusters)
    rows.push_back({c.name, std::to_string(c.members), c.snapshot_version == 0 ? "-" : std::to_string(c.snapshot_version),
                    c.description});
  print_table(rows);
  return kOk;
}

int run_cluster_show(Store& store, const ClusterArgs& a) {
  auto cluster = existing_cluster(store, a.name);
  if (!cluster) return error("cluster show", cluster.error().message);
  auto members = hosts_of(store, a.name);
  if (!members) return error("cluster show", members.error().message);
  auto stages = store.stages(std::string_view(a.name));
  if (!stages) return error("cluster show", stages.error().message);
  std::optional<SnapshotListing> snapshot;
  if (cluster->snapshot_version != 0) {
    auto list = store.list_snapshots(a.name);
    if (!list) return error("cluster show", list.error().message);
    if (!list->empty()) snapshot = list->back();
  }

  if (a.format == "json") {
    Json j;
    j.open('{');
    j.text("name", cluster->name);
    j.text("description", cluster->description);
    if (snapshot) {
      j.key("snapshot");
      j.open('{');
      j.number("version", snapshot->version);
      j.number("records", static_cast<std::int64_t>(snapshot->records));
      j.text("source_host", sanitize_text(snapshot->source_host));
      j.number("source_scan", snapshot->source_scan_id);
      j.time("published", snapshot->published_ns);
      j.text("actor", snapshot->actor);
      j.close('}');
    } else {
      j.null("snapshot");
    }
    j.key("members");
    j.open('[');
    for (const HostListing& h : *members) {
      j.element();
      j.open('{');
      j.text("host", sanitize_text(h.name));
      j.text("role", h.role);
      j.number("scans", static_cast<std::int64_t>(h.scans));
      j.time("latest_scan", h.latest_started_ns);
      j.close('}');
    }
    j.close(']');
    j.key("stages");
    j.open('[');
    for (const StageRecord& s : *stages) {
      j.element();
      j.open('{');
      j.text("patch", s.patch.id());
      j.text("stage", to_string(s.stage));
      j.time("set", s.set_ns);
      j.text("actor", s.actor);
      j.close('}');
    }
    j.close(']');
    j.close('}');
    j.print();
    return kOk;
  }

  fmt::print("cluster {}{}\n", cluster->name, cluster->description.empty() ? "" : ": " + cluster->description);
  if (snapshot) {
    std::string from = sanitize_text(snapshot->source_host);
    if (snapshot->source_scan_id != 0) from += ", scan " + std::to_string(snapshot->source_scan_id);
    fmt::print("snapshot: version {}, {} records from {}, published {} by {}\n", snapshot->version, snapshot->records,
               from, short_time(snapshot->published_ns), snapshot->actor);
  } else {
    fmt::print("snapshot: none\n");
  }
  if (members->empty()) {
    fmt::print("members: none\n");
  } else {
    std::vector<std::vector<std::string>> rows = {{"HOST", "ROLE", "SCANS", "LATEST SCAN"}};
    for (const HostListing& h : *members)
      rows.push_back({sanitize_text(h.name), dash_if_empty(h.role), std::to_string(h.scans),
                      short_time(h.latest_started_ns)});
    print_table(rows);
  }
  if (stages->empty()) {
    fmt::print("stages: none\n");
  } else {
    std::vector<std::vector<std::string>> rows = {{"PATCH", "STAGE", "SET", "BY"}};
    for (const StageRecord& s : *stages)
      rows.push_back({s.patch.id(), std::string(to_string(s.stage)), short_time(s.set_ns), s.actor});
    print_table(rows);
  }
  return kOk;
}

// --- host -----------------------------------------------------------------------------

int run_host_add(Store& store, const HostArgs& a) {
  if (auto r = store.set_host(a.name, a.cluster, a.role, cli_actor()); !r) return error("host add", r.error().message);
  fmt::print("host {}: cluster {}, role {}\n", sanitize_text(a.name), a.cluster, a.role);
  return kOk;
}

// Registers (or rotates) the key the host signs its scans with; audited.
int run_host_key(Store& store, const HostArgs& a) {
  auto key = decode_public_key(a.public_key);
  if (!key) return error("host key", key.error().message + " (trustbase-scan --signing-key F --print-public-key)");
  if (auto r = store.set_host_key(a.name, *key, cli_actor()); !r) return error("host key", r.error().message);
  fmt::print("host {}: scans must now be signed by key {}\n", sanitize_text(a.name), a.public_key);
  return kOk;
}

int run_host_list(Store& store, const HostArgs& a) {
  std::optional<std::string_view> cluster;
  if (!a.cluster.empty()) {
    if (auto c = existing_cluster(store, a.cluster); !c) return error("host list", c.error().message);
    cluster = a.cluster;
  }
  auto hosts = hosts_of(store, cluster);
  if (!hosts) return error("host list", hosts.error().message);
  if (a.format == "json") {
    Json j;
    j.open('[');
    for (const HostListing& h : *hosts) {
      j.element();
      j.open('{');
      j.text("host", sanitize_text(h.name));
      j.text("cluster", h.cluster);
      j.text("role", h.role);
      j.number("scans", static_cast<std::int64_t>(h.scans));
      j.time("latest_scan", h.latest_started_ns);
      j.close('}');
    }
    j.close(']');
    j.print();
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {{"HOST", "CLUSTER", "ROLE", "SCANS", "LATEST SCAN"}};
  for (const HostListing& h : *hosts)
    rows.push_back({sanitize_text(h.name), dash_if_empty(h.cluster), dash_if_empty(h.role), std::to_string(h.scans),
                    short_time(h.latest_started_ns)});
  print_table(rows);
  return kOk;
}

// --- snapshot -------------------------------------------------------------------------

// The scan a snapshot is published from.
struct SnapshotSource {
  ScanDocument scan;
  std::string host;
  std::int64_t scan_id = 0;  // 0: read from a file, not stored
};

// --from names a host with a stored scan (its latest), else a scan document. The host
// wins when both exist: the store is what the fleet is judged by.
Expected<SnapshotSource> snapshot_source(Store& store, const SnapshotArgs& a) {
  auto latest = store.latest_scan(a.from);
  if (!latest) return tl::unexpected(latest.error());
  if (*latest) {
    auto hosts = store.list_hosts();
    if (!hosts) return tl::unexpected(hosts.error());
    auto host = std::find_if(hosts->begin(), hosts->end(), [&](const HostListing& h) { return h.name == a.from; });
    if (host == hosts->end() || host->cluster != a.cluster)
      return fail(ErrorCode::invalid_argument,
                  "host " + sanitize_text(a.from) + " is not a member of cluster " + a.cluster +
                      (host == hosts->end() || host->cluster.empty() ? std::string(" (it is in none)")
                                                                     : " (it is in " + host->cluster + ")") +
                      "; add it with: trustbase host add " + sanitize_text(a.from) + " --cluster " + a.cluster +
                      " --role ROLE");
    auto scan = store.get_scan(**latest);
    if (!scan) return tl::unexpected(scan.error());
    return SnapshotSource{std::move(*scan), a.from, **latest};
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(a.from, ec))
    return fail(ErrorCode::not_found, "no host " + sanitize_text(a.from) + " with a stored scan, and no scan document of that name");
  auto doc = parse_scan_file(a.from);
  if (!doc) return tl::unexpected(doc.error());
  std::string host = doc->header.host.hostname.empty() ? a.from : doc->header.host.hostname;
  return SnapshotSource{std::move(*doc), std::move(host), 0};
}

int run_snapshot_publish(Store& store, const SnapshotArgs& a) {
  constexpr std::string_view cmd = "snapshot publish";
  if (auto c = existing_cluster(store, a.cluster); !c) return error(cmd, c.error().message);
  auto source = snapshot_source(store, a);
  if (!source) return error(cmd, source.error().message);
  // The whole scan: at the paths patches list, drift accepts any release's content
  // (compare_with_snapshot), so upgrades that are patches leave the snapshot whole.
  const Manifest& manifest = source->scan.manifest;
  auto version = store.publish_snapshot(a.cluster, source->host, source->scan_id, manifest, cli_actor());
  if (!version) return error(cmd, version.error().message);
  std::string from = "host " + sanitize_text(source->host);
  if (source->scan_id != 0) from += " (scan " + std::to_string(source->scan_id) + ")";
  else from += " (" + a.from + ")";
  fmt::print("published snapshot {} of cluster {} from {}: {} records\n", *version, a.cluster, from,
             manifest.size());
  return kOk;
}

int run_snapshot_list(Store& store, const SnapshotArgs& a) {
  auto list = store.list_snapshots(a.cluster);
  if (!list) return error("snapshot list", list.error().message);
  if (a.format == "json") {
    Json j;
    j.open('[');
    for (const SnapshotListing& s : *list) {
      j.element();
      j.open('{');
      j.number("version", s.version);
      j.number("records", static_cast<std::int64_t>(s.records));
      j.text("source_host", sanitize_text(s.source_host));
      j.number("source_scan", s.source_scan_id);
      j.time("published", s.published_ns);
      j.text("actor", s.actor);
      std::string digest;
      append_sha256(digest, s.manifest_digest);
      j.text("manifest_sha256", digest);
      j.close('}');
    }
    j.close(']');
    j.print();
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {{"VERSION", "RECORDS", "SOURCE", "SCAN", "PUBLISHED", "BY"}};
  for (const SnapshotListing& s : *list)
    rows.push_back({std::to_string(s.version), std::to_string(s.records), sanitize_text(s.source_host),
                    s.source_scan_id == 0 ? "-" : std::to_string(s.source_scan_id), short_time(s.published_ns),
                    s.actor});
  print_table(rows);
  return kOk;
}

// --- promote --------------------------------------------------------------------------

int run_promote(Store& store, const PromoteArgs& a) {
  auto ref = SignatureRef::parse(a.patch);
  if (!ref) return error("promote", "wants PATCH@VERSION, got '" + a.patch + "'");
  const Stage stage = *stage_from_string(a.stage);  // validated by CLI11
  auto before = store.stages(std::string_view(a.cluster));
  if (!before) return error("promote", before.error().message);
  auto previous = std::find_if(before->begin(), before->end(), [&](const StageRecord& s) { return s.patch == *ref; });
  if (auto r = store.set_stage(a.cluster, *ref, stage, cli_actor()); !r) {
    if (r.error().code == ErrorCode::not_found)
      return error("promote", r.error().message + " (import the patch first: trustbase import --kind patch ...)");
    return error("promote", r.error().message);
  }
  fmt::print("{} in cluster {}: {} (was {})\n", ref->id(), a.cluster, to_string(stage),
             previous == before->end() ? std::string_view("unset") : to_string(previous->stage));
  return kOk;
}

void add_format(CLI::App* cmd, std::string& format) {
  cmd->add_option("--format", format, "Output format")->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

void add_fleet_commands(CLI::App& app, FleetCommands& c) {
  CLI::App* cluster = app.add_subcommand("cluster", "Clusters: add, list, show");
  cluster->require_subcommand(1);
  c.cluster_add_cmd = cluster->add_subcommand("add", "Create a cluster");
  c.cluster_add_cmd->add_option("name", c.cluster.name, "Cluster name")->required();
  c.cluster_add_cmd->add_option("--description", c.cluster.description, "What the cluster is for");
  c.cluster_list_cmd = cluster->add_subcommand("list", "Every cluster with its member count and snapshot");
  add_format(c.cluster_list_cmd, c.cluster.format);
  c.cluster_show_cmd = cluster->add_subcommand("show", "A cluster's members, snapshot and patch stages");
  c.cluster_show_cmd->add_option("name", c.cluster.name, "Cluster name")->required();
  add_format(c.cluster_show_cmd, c.cluster.format);

  CLI::App* host = app.add_subcommand("host", "Hosts: add (or move), list, key");
  host->require_subcommand(1);
  c.host_add_cmd = host->add_subcommand("add", "Put a host in a cluster with a role (creates or updates it)");
  c.host_add_cmd->add_option("name", c.host.name, "Host name")->required();
  c.host_add_cmd->add_option("--cluster", c.host.cluster, "Cluster")->required();
  c.host_add_cmd->add_option("--role", c.host.role, "Role: active, inactive, or another label")->required();
  c.host_key_cmd = host->add_subcommand("key", "Register (or replace) the Ed25519 key a host signs its scans with");
  c.host_key_cmd->add_option("name", c.host.name, "Host name")->required();
  c.host_key_cmd->add_option("--public-key", c.host.public_key,
                             "Base64 public key, as trustbase-scan --print-public-key prints it")->required();
  c.host_list_cmd = host->add_subcommand("list", "Hosts with cluster, role and latest scan");
  c.host_list_cmd->add_option("--cluster", c.host.cluster, "Only the members of this cluster");
  add_format(c.host_list_cmd, c.host.format);

  CLI::App* snapshot = app.add_subcommand("snapshot", "Reference snapshots of clusters: publish, list");
  snapshot->require_subcommand(1);
  c.snapshot_publish_cmd =
      snapshot->add_subcommand("publish", "Make a member's latest scan (or a scan document) the cluster's reference");
  c.snapshot_publish_cmd->add_option("--cluster", c.snapshot.cluster, "Cluster")->required();
  c.snapshot_publish_cmd->add_option("--from", c.snapshot.from, "HOST (its latest stored scan) or SCAN_FILE")
      ->required();
  c.snapshot_list_cmd = snapshot->add_subcommand("list", "A cluster's snapshots, oldest first");
  c.snapshot_list_cmd->add_option("--cluster", c.snapshot.cluster, "Cluster")->required();
  add_format(c.snapshot_list_cmd, c.snapshot.format);

  c.promote_cmd = app.add_subcommand("promote", "Set the stage of a patch in a cluster");
  c.promote_cmd->add_option("patch", c.promote.patch, "Patch signature (NAME@VERSION)")->required();
  c.promote_cmd->add_option("--cluster", c.promote.cluster, "Cluster")->required();
  c.promote_cmd->add_option("--stage", c.promote.stage, "tested, inactive or active")
      ->required()
      ->check(CLI::IsMember({"tested", "inactive", "active"}));
}

int run_fleet_commands(const FleetCommands& c, const StoreArgs& s) {
  using Run = int (*)(Store&, const FleetCommands&);
  struct Entry {
    CLI::App* cmd;
    std::string_view name;
    Run run;
  };
  const Entry entries[] = {
      {c.cluster_add_cmd, "cluster add", [](Store& st, const FleetCommands& f) { return run_cluster_add(st, f.cluster); }},
      {c.cluster_list_cmd, "cluster list", [](Store& st, const FleetCommands& f) { return run_cluster_list(st, f.cluster); }},
      {c.cluster_show_cmd, "cluster show", [](Store& st, const FleetCommands& f) { return run_cluster_show(st, f.cluster); }},
      {c.host_add_cmd, "host add", [](Store& st, const FleetCommands& f) { return run_host_add(st, f.host); }},
      {c.host_list_cmd, "host list", [](Store& st, const FleetCommands& f) { return run_host_list(st, f.host); }},
      {c.host_key_cmd, "host key", [](Store& st, const FleetCommands& f) { return run_host_key(st, f.host); }},
      {c.snapshot_publish_cmd, "snapshot publish",
       [](Store& st, const FleetCommands& f) { return run_snapshot_publish(st, f.snapshot); }},
      {c.snapshot_list_cmd, "snapshot list",
       [](Store& st, const FleetCommands& f) { return run_snapshot_list(st, f.snapshot); }},
      {c.promote_cmd, "promote", [](Store& st, const FleetCommands& f) { return run_promote(st, f.promote); }},
  };
  for (const Entry& e : entries) {
    if (e.cmd == nullptr || !e.cmd->parsed()) continue;
    auto store = open_store(s);
    if (!store) return error(e.name, store.error().message);
    return e.run(**store, c);
  }
  return -1;
}

}  // namespace tb
