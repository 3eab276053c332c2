// Writing and reading scan documents. The scanner's budget (100,000 files in 0.6 s on
// two cores) leaves formatting well under 1 us per record; this tracks it.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "format/byte_sink.h"
#include "format/scan_reader.h"
#include "format/scan_writer.h"

namespace tb {
namespace {

class DiscardSink final : public ByteSink {
 public:
  Expected<void> write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return {};
  }
  std::size_t bytes_ = 0;
};

ScanHeader header() {
  ScanHeader h;
  h.scanner = "trustbase-scan bench";
  h.host.hostname = "bench";
  h.roots = {"/opt"};
  h.started_ns = 1'700'000'000'000'000'000;
  return h;
}

std::vector<FileRecord> records(std::size_t n) {
  std::vector<FileRecord> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    FileRecord r;
    char path[96];
    std::snprintf(path, sizeof path, "/opt/app/lib/module_%04zu/file_%04zu.so", i / 100, i % 100);
    r.path = path;
    r.type = FileType::file;
    r.present = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime | Attr::sha256;
    r.size = 4096 + i;
    r.mode = 0644;
    r.mtime_ns = 1'700'000'000'123'456'789 + static_cast<std::int64_t>(i);
    r.sha256 = Sha256::of(r.path);
    out.push_back(std::move(r));
  }
  return out;
}

void write_bench(benchmark::State& state, ScanFormat format) {
  const auto recs = records(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    DiscardSink sink;
    auto writer = make_scan_writer(format, sink);
    (void)writer->begin(header());
    for (const FileRecord& r : recs) (void)writer->record(r);
    (void)writer->end({}, ScanSummary{});
    benchmark::DoNotOptimize(sink.bytes_);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void read_bench(benchmark::State& state, ScanFormat format) {
  ScanDocument doc;
  doc.header = header();
  doc.manifest = *Manifest::from_sorted(records(static_cast<std::size_t>(state.range(0))));
  std::string text;
  StringSink sink(text);
  (void)write_scan(format, doc, sink);
  for (auto _ : state) {
    auto parsed = parse_scan(text);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

BENCHMARK_CAPTURE(write_bench, xml, ScanFormat::xml)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(write_bench, json, ScanFormat::json)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(read_bench, xml, ScanFormat::xml)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(read_bench, json, ScanFormat::json)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
