// Writes a synthetic fleet store for the dashboard measurement (bench/web/run.sh):
// 10,000 hosts in 500 clusters of 20, 200 patches staged in every cluster, each host's
// latest scan with a current cached result (so the server re-analyses nothing), as
// bench/fleet_store_bench builds it. Usage: fleet_web_store DB [HOSTS] [PATCHES]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "core/sha256.h"
#include "store/sqlite_store.h"

namespace {

using namespace tb;

template <class T>
T must(Expected<T> r) {
  if (!r) {
    std::fprintf(stderr, "fleet_web_store: %s\n", r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}
void must(Expected<void> r) {
  if (!r) {
    std::fprintf(stderr, "fleet_web_store: %s\n", r.error().message.c_str());
    std::exit(1);
  }
}

FileRecord record(std::string path, FileType type, std::string_view content) {
  FileRecord r;
  r.path = std::move(path);
  r.type = type;
  r.present = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
  if (type == FileType::file) r.present |= Attr::sha256, r.sha256 = Sha256::of(content);
  r.size = content.size();
  r.mode = type == FileType::file ? 0644 : 0755;
  r.mtime_ns = 1'704'067'200'000'000'000;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fleet_web_store DB [HOSTS] [PATCHES]\n");
    return 2;
  }
  const std::size_t hosts = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10'000;
  const std::size_t patches = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 200;
  const std::size_t clusters = (hosts + 19) / 20;
  SqliteStoreOptions options;
  options.durable_commits = false;
  auto store = must(open_sqlite_store(argv[1], options));
  const std::string actor = "bench";
  Signature product;
  product.info.ref = SignatureRef{"app", "1.0"};
  product.manifest = *Manifest::from_records({record("/opt/app/bin", FileType::file, "app")});
  const std::int64_t product_id = must(store->put_signature(product));
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < patches; ++i) {
    Signature s;
    s.info.ref = SignatureRef{"patch-" + std::to_string(i), "1"};
    s.info.kind = SignatureKind::patch;
    s.info.patches = SignatureRef{"app", "1.0"};
    s.manifest = *Manifest::from_records({record("/opt/app/patch" + std::to_string(i), FileType::file, "p")});
    ids.push_back(must(store->put_signature(s)));
  }
  const std::int64_t generation = must(store->signature_generation());
  ScanDocument scan;
  scan.header.roots = {"/opt"};
  scan.manifest = *Manifest::from_records({record("/opt", FileType::directory, ""), record("/opt/app", FileType::directory, ""),
                                           record("/opt/app/bin", FileType::file, "app")});
  for (std::size_t c = 0; c < clusters; ++c) {
    const std::string cluster = "cluster-" + std::to_string(1000 + c);
    must(store->add_cluster(cluster, "", actor));
    must(store->publish_snapshot(cluster, "", 0, scan.manifest, actor));
    for (std::size_t p = 0; p < patches; ++p)
      must(store->set_stage(cluster, SignatureRef{"patch-" + std::to_string(p), "1"}, static_cast<Stage>((c + p) % 3),
                            actor));
  }
  for (std::size_t h = 0; h < hosts; ++h) {
    const std::string host = "host-" + std::to_string(10000 + h);
    must(store->set_host(host, "cluster-" + std::to_string(1000 + h % clusters), h % 2 == 0 ? "active" : "inactive",
                         actor));
    scan.header.started_ns = static_cast<std::int64_t>(h + 1);
    const std::int64_t scan_id = must(store->put_scan(host, scan));
    ScanResult result;
    result.signature_generation = generation;
    result.snapshot_version = 1;
    result.states.push_back({product_id, SignatureState::complete});
    for (std::size_t p = 0; p < patches; ++p)
      result.states.push_back({ids[p], static_cast<SignatureState>((h + p) % 5)});
    result.deviations = {h % 3, 0, h % 7, 0};
    must(store->put_scan_result(scan_id, result));
  }
  std::printf("fleet_web_store: %zu hosts, %zu clusters, %zu patches in %s\n", hosts, clusters, patches, argv[1]);
  return 0;
}
