// The server's metrics and `GET /metrics` in the Prometheus text exposition format
// (version 0.0.4):
//   trustbase_scans_ingested_total               counter  scans stored through POST /api/v1/scans
//   trustbase_scan_records_ingested_total        counter  file records in those scans
//   trustbase_imports_total                      counter  signatures imported (HTTP, feed)
//   trustbase_http_requests_total{route,status}  counter  requests answered, by route template
//   trustbase_http_request_errors_total          counter  requests answered 5xx
//   trustbase_analysis_seconds                   histogram  analysing a scan (ingest, host report)
//   trustbase_store_bytes{file}                  gauge    the SQLite files' sizes (db, wal, shm)
//   trustbase_signatures, trustbase_hosts        gauge    what the store holds
//
// A Metrics object is owned by whoever runs the server (one per process, no global state)
// and shared by the request threads: every method is thread-safe (atomics; the request
// series map under a mutex).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/shared_store.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace tb::server {

class Metrics {
 public:
  // `store_path`: the SQLite database file, whose size (and its -wal, -shm) is reported;
  // empty: no trustbase_store_bytes.
  explicit Metrics(std::string store_path = {}) : store_path_(std::move(store_path)) {}
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void scan_ingested(std::uint64_t records);
  void signatures_imported(std::uint64_t count);
  void observe_analysis(std::chrono::nanoseconds took);
  void observe_request(std::string_view path, int status);

  // Read at scrape time, from the store.
  struct StoreGauges {
    std::uint64_t signatures = 0;
    std::uint64_t hosts = 0;
    std::uint64_t writes = 0;         // scan writes committed (SharedStore::write)
    std::uint64_t write_batches = 0;  // the transactions they were committed in (group commit)
    std::vector<std::pair<std::string, std::uint64_t>> files;  // label ("db", "wal", "shm"), bytes
  };
  // The sizes of the store's files that exist.
  std::vector<std::pair<std::string, std::uint64_t>> store_files() const;
  // The exposition text: HELP and TYPE lines, then the samples of each metric.
  std::string exposition(const StoreGauges& gauges) const;

  // Upper bounds (seconds) of the analysis histogram's buckets, +Inf implied.
  static constexpr std::array<double, 11> kAnalysisBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};
  // Distinct route labels kept; requests to further routes count under "other" (the
  // label's values must stay bounded whatever paths clients send).
  static constexpr std::size_t kMaxRoutes = 64;

 private:
  std::string store_path_;
  std::atomic<std::uint64_t> scans_{0};
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> imports_{0};
  std::atomic<std::uint64_t> request_errors_{0};
  std::array<std::atomic<std::uint64_t>, kAnalysisBuckets.size()> analysis_buckets_{};  // not cumulative
  std::atomic<std::uint64_t> analysis_count_{0};
  std::atomic<std::uint64_t> analysis_ns_{0};
  mutable std::mutex requests_mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // GUARDED_BY(requests_mutex_)
};

// The route a request path counts under: API paths with the name of a host, cluster,
// signature... replaced by {name} ("/api/v1/hosts/{name}/report"); a 404 on a path that
// names nothing is "unmatched".
std::string route_label(std::string_view path, int status);

// Registers GET /metrics on `server`. `required_role`: nullopt serves everyone (the
// default: metrics carry counts, no names); otherwise a bearer token of that role or admin
// is needed (401/403 as on the API).
void install_metrics_route(httplib::Server& server, SharedStore& store, Metrics& metrics,
                           std::optional<TokenRole> required_role);

}  // namespace tb::server
