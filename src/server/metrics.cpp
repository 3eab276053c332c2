#include "server/metrics.h"

#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "server/auth.h"

namespace tb::server {

void Metrics::scan_ingested(std::uint64_t records) {
  scans_.fetch_add(1, std::memory_order_relaxed);
  records_.fetch_add(records, std::memory_order_relaxed);
}

void Metrics::signatures_imported(std::uint64_t count) { imports_.fetch_add(count, std::memory_order_relaxed); }

void Metrics::observe_analysis(std::chrono::nanoseconds took) {
  const double seconds = static_cast<double>(took.count()) / 1e9;
  for (std::size_t i = 0; i < kAnalysisBuckets.size(); ++i) {
    if (seconds <= kAnalysisBuckets[i]) {
      analysis_buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  analysis_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count())),
                         std::memory_order_relaxed);
  analysis_count_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_request(std::string_view path, int status) {
  if (status >= 500) request_errors_.fetch_add(1, std::memory_order_relaxed);
  std::string route = route_label(path, status);
  std::lock_guard lock(requests_mutex_);
  auto it = requests_.find({route, status});
  if (it == requests_.end()) {
    std::size_t routes = 0;  // distinct routes so far (the map is sorted by route)
    const std::string* last = nullptr;
    bool known = false;
    for (const auto& [key, count] : requests_) {
      if (last == nullptr || *last != key.first) ++routes;
      last = &key.first;
      known = known || key.first == route;
    }
    if (!known && routes >= kMaxRoutes) route = "other";
    it = requests_.try_emplace({std::move(route), status}, 0).first;
  }
  ++it->second;
}

std::vector<std::pair<std::string, std::uint64_t>> Metrics::store_files() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  if (store_path_.empty()) return out;
  const std::array<std::pair<const char*, const char*>, 3> files{{{"db", ""}, {"wal", "-wal"}, {"shm", "-shm"}}};
  for (const auto& [label, suffix] : files) {
    struct stat st{};
    if (::stat((store_path_ + suffix).c_str(), &st) == 0) out.emplace_back(label, static_cast<std::uint64_t>(st.st_size));
  }
  return out;
}

namespace {

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// Prometheus floats: shortest round-trip text; "+Inf" for the last bucket's bound.
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string Metrics::exposition(const StoreGauges& gauges) const {
  std::string out;
  header(out, "trustbase_scans_ingested_total", "counter", "Scans stored through POST /api/v1/scans.");
  out += fmt::format("trustbase_scans_ingested_total {}\n", scans_.load(std::memory_order_relaxed));
  header(out, "trustbase_scan_records_ingested_total", "counter", "File records in the scans stored.");
  out += fmt::format("trustbase_scan_records_ingested_total {}\n", records_.load(std::memory_order_relaxed));
  header(out, "trustbase_imports_total", "counter", "Signatures imported (POST /api/v1/signatures, feed directory).");
  out += fmt::format("trustbase_imports_total {}\n", imports_.load(std::memory_order_relaxed));

  header(out, "trustbase_http_requests_total", "counter", "HTTP requests answered, by route and status.");
  {
    std::lock_guard lock(requests_mutex_);
    for (const auto& [key, count] : requests_)
      out += fmt::format("trustbase_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", label_value(key.first),
                         key.second, count);
  }
  header(out, "trustbase_http_request_errors_total", "counter", "HTTP requests answered with a 5xx status.");
  out += fmt::format("trustbase_http_request_errors_total {}\n", request_errors_.load(std::memory_order_relaxed));

  header(out, "trustbase_analysis_seconds", "histogram", "Time spent analysing a scan against the signatures.");
  // Observations over the last bound are in no bucket, only in the count. A scrape racing
  // an observation may read a bucket already bumped and the count not yet: the max keeps
  // +Inf at or above every finite bucket, as the format requires.
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kAnalysisBuckets.size(); ++i) {
    cumulative += analysis_buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("trustbase_analysis_seconds_bucket{{le=\"{}\"}} {}\n", number(kAnalysisBuckets[i]), cumulative);
  }
  const std::uint64_t count = std::max(cumulative, analysis_count_.load(std::memory_order_relaxed));
  out += fmt::format("trustbase_analysis_seconds_bucket{{le=\"+Inf\"}} {}\n", count);
  out += fmt::format("trustbase_analysis_seconds_sum {}\n",
                     number(static_cast<double>(analysis_ns_.load(std::memory_order_relaxed)) / 1e9));
  out += fmt::format("trustbase_analysis_seconds_count {}\n", count);

  if (!gauges.files.empty()) {
    header(out, "trustbase_store_bytes", "gauge", "Size of the store's SQLite files.");
    for (const auto& [file, bytes] : gauges.files)
      out += fmt::format("trustbase_store_bytes{{file=\"{}\"}} {}\n", label_value(file), bytes);
  }
  header(out, "trustbase_signatures", "gauge", "Signatures (product releases and patches) in the store.");
  out += fmt::format("trustbase_signatures {}\n", gauges.signatures);
  header(out, "trustbase_hosts", "gauge", "Hosts known to the store.");
  out += fmt::format("trustbase_hosts {}\n", gauges.hosts);
  header(out, "trustbase_store_writes_total", "counter",
         "Scan writes run on the store (a scan; a signed scan's nonce), failed ones included.");
  out += fmt::format("trustbase_store_writes_total {}\n", gauges.writes);
  header(out, "trustbase_store_write_batches_total", "counter",
         "Transactions those writes were committed in (group commit: several writes per commit on SQLite).");
  out += fmt::format("trustbase_store_write_batches_total {}\n", gauges.write_batches);
  return out;
}

std::string route_label(std::string_view path, int status) {
  constexpr std::string_view api = "/api/v1/";
  constexpr std::array<std::string_view, 8> collections{"hosts",     "clusters", "signatures", "patches",
                                                        "snapshots", "scans",    "tokens",     "stages"};
  if (path.size() > 200) path = path.substr(0, 200);
  if (path.rfind(api, 0) != 0) return status == 404 ? "unmatched" : std::string(path);
  std::string out(api);
  std::string_view rest = path.substr(api.size());
  bool named = false, after_collection = false;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (after_collection && !segment.empty()) {
      out += "{name}";
      named = true;
      after_collection = false;
    } else {
      out += segment;
      after_collection = std::find(collections.begin(), collections.end(), segment) != collections.end();
    }
    if (slash == std::string_view::npos) break;
    out += '/';
    rest.remove_prefix(slash + 1);
  }
  // A 404 on a path naming something is "no such host" on a real route; otherwise the
  // route does not exist, and what clients make up must not become a label.
  if (status == 404 && !named) return "unmatched";
  return out;
}

void install_metrics_route(httplib::Server& server, SharedStore& store, Metrics& metrics,
                           std::optional<TokenRole> required_role) {
  server.Get("/metrics", [&store, &metrics, required_role](const httplib::Request& req, httplib::Response& res) {
    const auto error = [&res](int status, const std::string& message) {
      res.status = status;
      res.set_content(fmt::format("{{\"error\":\"{}\"}}", message), "application/json");
    };
    if (required_role) {
      const std::string authorization = req.get_header_value("Authorization");  // the token views into it
      const auto token = bearer_token(authorization);
      if (!token) {
        res.set_header("WWW-Authenticate", "Bearer");
        return error(401, "missing bearer token (Authorization: Bearer <token>)");
      }
      auto found = store.with([&](Store& s) { return s.find_token(*token); });
      if (!found) return error(503, "the store cannot be read now");
      if (!*found) return error(401, "unknown or revoked token");
      if ((*found)->role != *required_role && (*found)->role != TokenRole::admin)
        return error(403, fmt::format("/metrics wants a {} or admin token", to_string(*required_role)));
    }
    Metrics::StoreGauges gauges;
    auto counted = store.with([&](Store& s) -> Expected<void> {
      auto signatures = s.signature_count();
      if (!signatures) return tl::unexpected(signatures.error());
      auto hosts = s.list_hosts();
      if (!hosts) return tl::unexpected(hosts.error());
      gauges.signatures = *signatures;
      gauges.hosts = hosts->size();
      return {};
    });
    if (!counted) return error(503, "the store cannot be read now");
    const SharedStore::BatchCounts batches = store.batch_counts();
    gauges.writes = batches.writes;
    gauges.write_batches = batches.batches;
    gauges.files = metrics.store_files();
    res.status = 200;
    res.set_content(metrics.exposition(gauges), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace tb::server
