#include "server/fleet_api.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "core/diff.h"
#include "core/path.h"
#include "fleet/fleet_view.h"
#include "format/analysis_report.h"
#include "format/byte_sink.h"
#include "format/cluster_report.h"
#include "format/encoding.h"
#include "format/fleet_report.h"
#include "server/auth.h"
#include "server/json_reply.h"
#include "server/request_log.h"

namespace tb::server {
namespace {

using json = nlohmann::json;

constexpr std::size_t kDefaultPage = 100;
constexpr std::size_t kMaxPage = 1000;
// Problems listed per matrix page (?problems=): the rest are counted in problems_total.
constexpr std::size_t kDefaultProblems = 200;
constexpr std::size_t kMaxProblems = 1'000'000;
constexpr std::size_t kDefaultAudit = 200;
constexpr std::size_t kMaxAudit = 1000;

void reply_store_error(httplib::Response& res, const Error& e) {
  if (status_for(e) >= 500) write_log_line(fmt::format("trustbase serve: {}\n", e.message));
  reply_error(res, status_for(e), e.message);
}

std::optional<Refusal> may_administer(const TokenInfo& token) {
  if (token.role == TokenRole::admin) return std::nullopt;
  return Refusal{403, "this needs an admin token"};
}

// A bounded count parameter: `fallback` when absent, nullopt when not a number in [min, max].
std::optional<std::size_t> count_param(const httplib::Request& req, const char* name, std::size_t fallback,
                                       std::size_t min, std::size_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

// A name from the query: plain text, at most kMaxFleetName bytes; nullopt when unusable.
std::optional<std::string> name_param(const httplib::Request& req, const char* name) {
  std::string value = req.get_param_value(name);
  if (value.size() > kMaxFleetName || !is_plain_text(value)) return std::nullopt;
  return value;
}

json counts_json(const FleetStateCounts& counts) {
  json out = json::object();
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    out[std::string(to_string(static_cast<FleetCellState>(i)))] = counts.by_state[i];
  return out;
}

// The rows [offset, offset+limit) of `m`, with the summaries of the clusters they belong
// to (whole-cluster facts kept) and the totals of the cells on the page.
FleetMatrix page_of(const FleetMatrix& m, std::size_t offset, std::size_t limit) {
  FleetMatrix page;
  page.columns = m.columns;
  const std::size_t begin = std::min(offset, m.rows.size());
  const std::size_t end = std::min(m.rows.size(), begin + limit);
  const std::size_t width = m.columns.size();
  page.rows.assign(m.rows.begin() + static_cast<std::ptrdiff_t>(begin),
                   m.rows.begin() + static_cast<std::ptrdiff_t>(end));
  page.cells.assign(m.cells.begin() + static_cast<std::ptrdiff_t>(begin * width),
                    m.cells.begin() + static_cast<std::ptrdiff_t>(end * width));
  for (const FleetClusterSummary& s : m.clusters) {
    const std::size_t first = std::max(s.first_row, begin);
    const std::size_t last = std::min(s.first_row + s.row_count, end);
    if (first >= last) continue;
    FleetClusterSummary copy = s;
    copy.first_row = first - begin;
    copy.row_count = last - first;
    for (std::size_t r = copy.first_row; r < copy.first_row + copy.row_count; ++r)
      page.rows[r].cluster_index = page.clusters.size();
    page.clusters.push_back(std::move(copy));
  }
  for (const FleetCell& c : page.cells) ++page.totals[c.state];
  return page;
}

// Quotes a CSV field (RFC 4180), and defuses spreadsheet formulas: a field starting with
// = + - @ (or a tab/CR) is prefixed with an apostrophe.
std::string csv_field(std::string_view raw) {
  std::string text = sanitize_text(raw);
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) text.insert(0, "'");
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string refs_text(const std::vector<SignatureRef>& refs) {
  std::string out;
  for (const SignatureRef& r : refs) out += (out.empty() ? "" : " ") + r.id();
  return out;
}

std::optional<std::string> file_hash(const Manifest& manifest, std::string_view path) {
  const FileRecord* r = manifest.find(path);
  if (r == nullptr || r->type != FileType::file || !r->has(Attr::sha256)) return std::nullopt;
  return r->sha256.hex();
}

// What a host route needs, read under the lock.
struct HostFacts {
  HostListing host;
  ScanListing latest;
  ScanDocument scan;
};

class FleetApi {
 public:
  FleetApi(SharedStore& store, CurrentToken current_token) : store_(store), current_token_(std::move(current_token)) {}

  // The request's token when it may do what `check` allows; otherwise replies and returns nullptr.
  template <class Check>
  const TokenInfo* allowed(httplib::Response& res, Check&& check) {
    const TokenInfo* token = current_token_();
    if (token == nullptr) {
      reply_error(res, 401, "authentication required");
      return nullptr;
    }
    if (auto refused = check(*token)) {
      reply_refusal(res, *refused);
      return nullptr;
    }
    return token;
  }

  void whoami(const httplib::Request& req, httplib::Response& res);
  void clusters(const httplib::Request& req, httplib::Response& res);
  void cluster(const httplib::Request& req, httplib::Response& res);
  void fleet(const httplib::Request& req, httplib::Response& res);
  void host(const httplib::Request& req, httplib::Response& res);
  void history(const httplib::Request& req, httplib::Response& res);
  void audit(const httplib::Request& req, httplib::Response& res);
  void promote(const httplib::Request& req, httplib::Response& res);
  void snapshot(const httplib::Request& req, httplib::Response& res);

 private:
  // The fleet state for the store's current version: reused while no scan, signature or
  // audited write (stage, snapshot, host) arrived, so a page costs a version query and a
  // matrix build from memory, not a refresh of 10,000 hosts' results.
  Expected<std::shared_ptr<const fleet::FleetState>> fleet_state();
  std::mutex fleet_state_mutex_;
  std::shared_ptr<const fleet::FleetState> fleet_state_;

  // The matrix of `request` over `state`, from the last few built for that state: paging
  // through a (filtered) fleet of 10,000 hosts builds its matrix once, not once per page.
  std::shared_ptr<const FleetMatrix> matrix(const std::shared_ptr<const fleet::FleetState>& state,
                                            const fleet::MatrixRequest& request);
  struct CachedMatrix {
    std::shared_ptr<const fleet::FleetState> state;
    std::string request;  // matrix_key()
    std::shared_ptr<const FleetMatrix> matrix;
  };
  static constexpr std::size_t kCachedMatrices = 8;
  std::mutex matrices_mutex_;
  std::deque<CachedMatrix> matrices_;  // most recently used first

  Expected<HostFacts> host_facts(const std::string& name);

  SharedStore& store_;
  CurrentToken current_token_;
};

// Who the token is, so that a client shows only what it may do.
void FleetApi::whoami(const httplib::Request&, httplib::Response& res) {
  const TokenInfo* token = allowed(res, [](const TokenInfo&) { return std::optional<Refusal>(); });
  if (token == nullptr) return;
  reply(res, 200,
        dump(json{{"name", token->name},
                  {"role", std::string(to_string(token->role))},
                  {"host", token->host ? json(*token->host) : json(nullptr)}}));
}

void FleetApi::clusters(const httplib::Request&, httplib::Response& res) {
  if (allowed(res, may_read_fleet) == nullptr) return;
  auto list = store_.with([](Store& s) { return s.list_clusters(); });
  if (!list) return reply_store_error(res, list.error());
  json out = json::array();
  for (const ClusterListing& c : *list)
    out.push_back({{"name", c.name},
                   {"description", c.description},
                   {"members", c.members},
                   {"snapshot_version", c.snapshot_version}});
  reply(res, 200, dump(json{{"clusters", std::move(out)}}));
}

void FleetApi::cluster(const httplib::Request& req, httplib::Response& res) {
  const std::string name = req.matches[1];
  if (allowed(res, may_read_fleet) == nullptr) return;
  struct Facts {
    ClusterListing listing;
    std::vector<SnapshotListing> snapshots;
    std::vector<StageRecord> stages;
    std::vector<fleet::MemberDrift> members;
  };
  auto facts = store_.with([&](Store& s) -> Expected<Facts> {
    auto clusters = s.list_clusters();
    if (!clusters) return tl::unexpected(clusters.error());
    auto it = std::find_if(clusters->begin(), clusters->end(), [&](const ClusterListing& c) { return c.name == name; });
    if (it == clusters->end()) return fail(ErrorCode::not_found, "no cluster named '" + sanitize_text(name) + "'");
    Facts f;
    f.listing = std::move(*it);
    auto snapshots = s.list_snapshots(name);
    if (!snapshots) return tl::unexpected(snapshots.error());
    f.snapshots = std::move(*snapshots);
    auto stages = s.stages(name);
    if (!stages) return tl::unexpected(stages.error());
    f.stages = std::move(*stages);
    auto set = fleet::load_signatures(s);
    if (!set) return tl::unexpected(set.error());
    auto members = fleet::cluster_drift(s, *set, name);
    if (!members) return tl::unexpected(members.error());
    f.members = std::move(*members);
    return f;
  });
  if (!facts) return reply_store_error(res, facts.error());
  std::vector<MemberDriftView> views;
  for (const fleet::MemberDrift& m : facts->members)
    views.push_back({m.host, m.role, m.scan_id, m.snapshot_version, &m.drift});
  std::string drift;
  StringSink sink(drift);
  if (auto r = write_cluster_drift_report(ReportFormat::json, name, views, sink); !r)
    return reply_store_error(res, r.error());
  json snapshots = json::array();
  for (const SnapshotListing& s : facts->snapshots)
    snapshots.push_back({{"version", s.version},
                         {"source_host", s.source_host},
                         {"source_scan_id", s.source_scan_id},
                         {"published", format_timestamp(s.published_ns)},
                         {"actor", s.actor},
                         {"records", s.records},
                         {"manifest_sha256", s.manifest_digest.hex()}});
  json stages = json::array();
  for (const StageRecord& s : facts->stages)
    stages.push_back({{"patch", s.patch.id()},
                      {"stage", std::string(to_string(s.stage))},
                      {"set", format_timestamp(s.set_ns)},
                      {"actor", s.actor}});
  json head = {{"name", facts->listing.name},       {"description", facts->listing.description},
               {"members", facts->listing.members}, {"snapshot_version", facts->listing.snapshot_version},
               {"snapshots", std::move(snapshots)}, {"stages", std::move(stages)}};
  // The drift is the cluster report's own JSON, spliced in as it is.
  std::string out = dump(head);
  out.pop_back();
  while (!drift.empty() && (drift.back() == '\n' || drift.back() == ' ')) drift.pop_back();
  out += ",\"drift\":" + drift + "}";
  reply(res, 200, std::move(out));
}

Expected<std::shared_ptr<const fleet::FleetState>> FleetApi::fleet_state() {
  std::lock_guard rebuild(fleet_state_mutex_);  // one rebuild at a time; others wait for it
  return store_.with([&](Store& s) -> Expected<std::shared_ptr<const fleet::FleetState>> {
    auto version = s.fleet_version();
    if (!version) return tl::unexpected(version.error());
    if (fleet_state_ && fleet_state_->version == *version) return fleet_state_;
    auto set = fleet::load_signatures(s);
    if (!set) return tl::unexpected(set.error());
    auto state = fleet::load_fleet_state(s, *set, *version);
    if (!state) return tl::unexpected(state.error());
    fleet_state_ = std::make_shared<const fleet::FleetState>(std::move(*state));
    return fleet_state_;
  });
}

// What a MatrixRequest asks for, as a cache key: presence-marked fields, unit-separated.
std::string matrix_key(const fleet::MatrixRequest& request) {
  std::string key = "p" + std::to_string(static_cast<int>(request.filter.products));
  key += '\x1f';
  if (request.filter.cluster) key += "c" + *request.filter.cluster;
  key += '\x1f';
  if (request.filter.patch) key += "s" + request.filter.patch->id();
  key += '\x1f';
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    key += request.filter.states.has(static_cast<FleetCellState>(i)) ? '1' : '0';
  return key;
}

std::shared_ptr<const FleetMatrix> FleetApi::matrix(const std::shared_ptr<const fleet::FleetState>& state,
                                                    const fleet::MatrixRequest& request) {
  const std::string key = matrix_key(request);
  std::lock_guard lock(matrices_mutex_);
  std::erase_if(matrices_, [&](const CachedMatrix& m) { return m.state != state; });  // an older version's
  const auto hit =
      std::find_if(matrices_.begin(), matrices_.end(), [&](const CachedMatrix& m) { return m.request == key; });
  if (hit != matrices_.end()) {
    CachedMatrix found = std::move(*hit);
    matrices_.erase(hit);
    matrices_.push_front(std::move(found));
    return matrices_.front().matrix;
  }
  auto built = std::make_shared<const FleetMatrix>(fleet::fleet_matrix(*state, request));
  matrices_.push_front(CachedMatrix{state, key, built});
  if (matrices_.size() > kCachedMatrices) matrices_.pop_back();
  return built;
}

void FleetApi::fleet(const httplib::Request& req, httplib::Response& res) {
  if (allowed(res, may_read_fleet) == nullptr) return;
  const auto offset = count_param(req, "offset", 0, 0, std::size_t{1} << 40);
  const auto limit = count_param(req, "limit", kDefaultPage, 1, kMaxPage);
  if (!offset) return reply_error(res, 400, "?offset= wants a number");
  if (!limit) return reply_error(res, 400, fmt::format("?limit= wants a number from 1 to {}", kMaxPage));
  // The page's problem list is bounded too: the matrix already shows every problem cell.
  const auto max_problems = count_param(req, "problems", kDefaultProblems, 0, kMaxProblems);
  if (!max_problems) return reply_error(res, 400, fmt::format("?problems= wants a number from 0 to {}", kMaxProblems));
  fleet::MatrixRequest request;
  // Products: those with a problem by default; ?products=1 every one, ?products=0 none.
  if (req.has_param("products")) {
    const std::string products = req.get_param_value("products");
    if (products == "1")
      request.filter.products = ProductColumns::all;
    else if (products == "0")
      request.filter.products = ProductColumns::none;
    else if (!products.empty())
      return reply_error(res, 400, "?products= wants 1 (every product) or 0 (patches only)");
  }
  if (req.has_param("cluster")) {
    auto cluster = name_param(req, "cluster");
    if (!cluster) return reply_error(res, 400, "?cluster= must be plain text of at most 255 bytes");
    request.filter.cluster = std::move(*cluster);
  }
  if (req.has_param("patch") && !req.get_param_value("patch").empty()) {
    request.filter.patch = SignatureRef::parse(req.get_param_value("patch"));
    if (!request.filter.patch) return reply_error(res, 400, "?patch= wants NAME@VERSION");
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(req.get_param_value_count("state"), 16); ++i) {
    const std::string value = req.get_param_value("state", i);
    std::string_view list = value;
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view item = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (item.empty()) continue;
      if (item == "problems") {
        for (FleetCellState s :
             {FleetCellState::partial, FleetCellState::tampered, FleetCellState::unexpected, FleetCellState::missing})
          request.filter.states.add(s);
        continue;
      }
      const auto state = fleet_cell_state_from_string(item);
      if (!state)
        return reply_error(res, 400,
                           "?state= wants cell states (complete, partial, absent, superseded, tampered, "
                           "unexpected, missing, unscanned) or problems");
      request.filter.states.add(*state);
    }
  }
  auto state = fleet_state();
  if (!state) return reply_store_error(res, state.error());
  const std::shared_ptr<const FleetMatrix> whole = matrix(*state, request);
  const FleetMatrix page = page_of(*whole, *offset, *limit);
  json head = {{"offset", *offset},
               {"limit", *limit},
               {"total_hosts", whole->rows.size()},
               {"total_clusters", whole->clusters.size()},
               {"totals", counts_json(whole->totals)}};
  std::string out = dump(head);
  out.pop_back();
  std::string report = fleet_report_json(FleetReportContext{"fleet", std::nullopt, *max_problems}, page);
  while (!report.empty() && (report.back() == '\n' || report.back() == ' ')) report.pop_back();
  out += ",\"fleet\":" + report + "}";
  reply(res, 200, std::move(out));
}

Expected<HostFacts> FleetApi::host_facts(const std::string& name) {
  return store_.with([&](Store& s) -> Expected<HostFacts> {
    auto hosts = s.list_hosts();
    if (!hosts) return tl::unexpected(hosts.error());
    auto it = std::find_if(hosts->begin(), hosts->end(), [&](const HostListing& h) { return h.name == name; });
    if (it == hosts->end() || it->latest_scan_id == 0)
      return fail(ErrorCode::not_found, "no scan of host '" + sanitize_text(name) + "'");
    auto scans = s.list_scans(name);
    if (!scans) return tl::unexpected(scans.error());
    auto latest =
        std::find_if(scans->begin(), scans->end(), [&](const ScanListing& l) { return l.id == it->latest_scan_id; });
    if (latest == scans->end()) return fail(ErrorCode::internal, "the host's latest scan is not listed; try again");
    auto scan = s.get_scan(it->latest_scan_id);
    if (!scan) return tl::unexpected(scan.error());
    return HostFacts{std::move(*it), *latest, std::move(*scan)};
  });
}

void FleetApi::host(const httplib::Request& req, httplib::Response& res) {
  const std::string name = req.matches[1];
  if (allowed(res, [&](const TokenInfo& t) { return may_read_host(t, name); }) == nullptr) return;
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") return reply_error(res, 400, "?format= wants json or csv");
  auto facts = host_facts(name);
  if (!facts) return reply_store_error(res, facts.error());
  auto index = store_.index();
  if (!index) return reply_store_error(res, index.error());
  const SignatureIndex& signatures = **index;
  Analysis analysis = analyze(facts->scan, signatures);
  if (auto r = store_.with(
          [&](Store& s) { return fleet::explain_by_cluster_snapshot(s, name, facts->scan.manifest, analysis); });
      !r)
    return reply_store_error(res, r.error());
  // The SHA-256 a signature expects at a path (the first owner's that has one).
  auto expected_hash = [&](const std::vector<SignatureRef>& owners,
                           std::string_view path) -> std::optional<std::string> {
    for (const SignatureRef& owner : owners)
      if (auto id = signatures.find(owner))
        if (auto h = file_hash(signatures.signature(*id).manifest, path)) return h;
    return std::nullopt;
  };

  if (format == "csv") {
    std::string out = "path,change,changed,owners,content_owners,found_sha256,expected_sha256\r\n";
    for (const FileDeviation& d : analysis.deviations) {
      out += csv_field(d.path) + ',' + csv_field(to_string(d.change)) + ',' + csv_field(describe(d.changed)) + ',' +
             csv_field(refs_text(d.owners)) + ',' + csv_field(refs_text(d.content_owners)) + ',' +
             csv_field(file_hash(facts->scan.manifest, d.path).value_or("")) + ',' +
             csv_field(expected_hash(d.owners, d.path).value_or("")) + "\r\n";
    }
    res.status = 200;
    res.set_header("Content-Disposition", "attachment; filename=\"deviations.csv\"");
    res.set_content(std::move(out), "text/csv; charset=utf-8");
    return;
  }

  std::string report;
  StringSink sink(report);
  const AnalysisContext context{&facts->scan.header, name, true};
  if (auto r = write_analysis_report(ReportFormat::json, context, analysis, sink); !r)
    return reply_store_error(res, r.error());
  while (!report.empty() && (report.back() == '\n' || report.back() == ' ')) report.pop_back();
  // Hashes in the order of the report's deviations, then of each signature's issues.
  json deviation_hashes = json::array();
  for (const FileDeviation& d : analysis.deviations) {
    const auto found = file_hash(facts->scan.manifest, d.path);
    const auto expected = expected_hash(d.owners, d.path);
    deviation_hashes.push_back(
        {{"found", found ? json(*found) : json(nullptr)}, {"expected", expected ? json(*expected) : json(nullptr)}});
  }
  json issue_hashes = json::object();
  for (std::size_t i = 0; i < analysis.verdicts.size(); ++i) {
    const SignatureVerdict& v = analysis.verdicts[i];
    if (v.issues.empty()) continue;
    json list = json::array();
    for (const FileIssue& is : v.issues) {
      const auto found = file_hash(facts->scan.manifest, is.path);
      const auto expected = file_hash(signatures.signature(static_cast<SignatureIndex::Id>(i)).manifest, is.path);
      list.push_back(
          {{"found", found ? json(*found) : json(nullptr)}, {"expected", expected ? json(*expected) : json(nullptr)}});
    }
    issue_hashes[v.ref.id()] = std::move(list);
  }
  const ScanListing& l = facts->latest;
  json head = {{"host", name},
               {"cluster", facts->host.cluster},
               {"role", facts->host.role},
               {"scans", facts->host.scans},
               {"scan",
                {{"id", l.id},
                 {"started", format_timestamp(l.started_ns)},
                 {"finished", format_timestamp(l.finished_ns)},
                 {"records", l.records},
                 {"errors", l.errors},
                 {"manifest_sha256", l.manifest_digest.hex()},
                 {"scanner", facts->scan.header.scanner},
                 {"roots", facts->scan.header.roots}}},
               {"deviation_hashes", std::move(deviation_hashes)},
               {"issue_hashes", std::move(issue_hashes)}};
  std::string out = dump(head);
  out.pop_back();
  out += ",\"report\":" + report + "}";
  reply(res, 200, std::move(out));
}

// Each scan with what changed since the one before (mtime left out, as in `trustbase
// report history`): counts only, a manifest diffed only when its digest moved.
void FleetApi::history(const httplib::Request& req, httplib::Response& res) {
  const std::string name = req.matches[1];
  if (allowed(res, [&](const TokenInfo& t) { return may_read_host(t, name); }) == nullptr) return;
  auto scans = store_.with([&](Store& s) { return s.list_scans(name); });
  if (!scans) return reply_store_error(res, scans.error());
  if (scans->empty()) return reply_error(res, 404, "no scan of host '" + sanitize_text(name) + "'");
  json list = json::array();
  std::optional<Manifest> previous;
  Sha256Digest previous_digest{};
  for (const ScanListing& l : *scans) {
    json entry = {{"id", l.id},         {"started", format_timestamp(l.started_ns)},  {"records", l.records},
                  {"errors", l.errors}, {"manifest_sha256", l.manifest_digest.hex()}, {"changes", nullptr}};
    if (previous && l.manifest_digest == previous_digest) {
      entry["changes"] = {{"added", 0}, {"removed", 0}, {"modified", 0}};
    } else {
      auto scan = store_.with([&](Store& s) { return s.get_scan(l.id); });
      if (!scan) return reply_store_error(res, scan.error());
      if (previous) {
        const DiffCounts c = count(diff(*previous, scan->manifest, kSnapshotAttrs));
        entry["changes"] = {{"added", c.added}, {"removed", c.removed}, {"modified", c.modified}};
      }
      previous = std::move(scan->manifest);
      previous_digest = l.manifest_digest;
    }
    list.push_back(std::move(entry));
  }
  reply(res, 200, dump(json{{"host", name}, {"scans", std::move(list)}}));
}

void FleetApi::audit(const httplib::Request& req, httplib::Response& res) {
  if (allowed(res, may_administer) == nullptr) return;
  const auto limit = count_param(req, "limit", kDefaultAudit, 1, kMaxAudit);
  if (!limit) return reply_error(res, 400, fmt::format("?limit= wants a number from 1 to {}", kMaxAudit));
  auto entries = store_.with([&](Store& s) { return s.audit_log(*limit); });
  if (!entries) return reply_store_error(res, entries.error());
  json list = json::array();
  for (const AuditEntry& e : *entries)
    list.push_back({{"id", e.id},
                    {"at", format_timestamp(e.at_ns)},
                    {"actor", e.actor},
                    {"action", e.action},
                    {"object", e.object},
                    {"detail", e.detail}});
  reply(res, 200, dump(json{{"audit", std::move(list)}}));
}

void FleetApi::promote(const httplib::Request& req, httplib::Response& res) {
  const std::string cluster = req.matches[1];
  const TokenInfo* token = allowed(res, may_administer);
  if (token == nullptr) return;
  const auto patch = SignatureRef::parse(req.get_param_value("patch"));
  if (!patch) return reply_error(res, 400, "?patch= wants NAME@VERSION");
  const auto stage = stage_from_string(req.get_param_value("stage"));
  if (!stage) return reply_error(res, 400, "?stage= wants tested, inactive or active");
  const std::string actor = "token:" + token->name;
  auto set = store_.with([&](Store& s) { return s.set_stage(cluster, *patch, *stage, actor); });
  if (!set) return reply_store_error(res, set.error());
  reply(
      res, 200,
      dump(json{
          {"cluster", cluster}, {"patch", patch->id()}, {"stage", std::string(to_string(*stage))}, {"actor", actor}}));
}

void FleetApi::snapshot(const httplib::Request& req, httplib::Response& res) {
  const std::string cluster = req.matches[1];
  const TokenInfo* token = allowed(res, may_administer);
  if (token == nullptr) return;
  const std::string host = req.get_param_value("host");
  if (host.empty()) return reply_error(res, 400, "give the member to take the snapshot from: ?host=NAME");
  auto facts = host_facts(host);
  if (!facts) return reply_store_error(res, facts.error());
  if (facts->host.cluster != cluster)
    return reply_error(
        res, 400, "host '" + sanitize_text(host) + "' is not a member of cluster '" + sanitize_text(cluster) + "'");
  // The whole scan: at the paths patches list, drift accepts any release's content
  // (compare_with_snapshot), so upgrades that are patches leave the snapshot whole.
  const Manifest& manifest = facts->scan.manifest;
  const std::string actor = "token:" + token->name;
  auto version =
      store_.with([&](Store& s) { return s.publish_snapshot(cluster, host, facts->latest.id, manifest, actor); });
  if (!version) return reply_store_error(res, version.error());
  reply(res, 201,
        dump(json{{"cluster", cluster},
                  {"version", *version},
                  {"host", host},
                  {"scan_id", facts->latest.id},
                  {"records", manifest.size()},
                  {"actor", actor}}));
}

}  // namespace

void install_fleet_api(httplib::Server& server, SharedStore& store, CurrentToken current_token) {
  auto api = std::make_shared<FleetApi>(store, std::move(current_token));
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get("/api/v1/whoami", [api](Req req, Res res) { api->whoami(req, res); });
  server.Get("/api/v1/clusters", [api](Req req, Res res) { api->clusters(req, res); });
  server.Get(R"(/api/v1/clusters/([^/]+))", [api](Req req, Res res) { api->cluster(req, res); });
  server.Post(R"(/api/v1/clusters/([^/]+)/promote)", [api](Req req, Res res) { api->promote(req, res); });
  server.Post(R"(/api/v1/clusters/([^/]+)/snapshot)", [api](Req req, Res res) { api->snapshot(req, res); });
  server.Get("/api/v1/fleet", [api](Req req, Res res) { api->fleet(req, res); });
  server.Get(R"(/api/v1/hosts/([^/]+)/history)", [api](Req req, Res res) { api->history(req, res); });
  server.Get(R"(/api/v1/hosts/([^/]+))", [api](Req req, Res res) { api->host(req, res); });
  server.Get("/api/v1/audit", [api](Req req, Res res) { api->audit(req, res); });
}

}  // namespace tb::server
