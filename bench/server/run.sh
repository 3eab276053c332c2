#!/usr/bin/env bash
# The server issue's figures in one run, against its targets:
#   - compare a 1,000,000-file scan with a snapshot plus a 500-signature index  < 1 s
#       (bench/analysis_bench: index build + snapshot comparison, and the analysis alone)
#   - ingest into SQLite                                           >= 200,000 records/s
#       (bench/store_bench: put_scan of 100,000 records, durable commits)
#   - storage per extra host whose files equal the others'      <= 5 % of the first host's
#       (bench/store_bench: identical hosts after the first)
#   - the server's ingest end to end: a 1,000,000-file scan (gzip) POSTed to a real
#     `trustbase serve`, records/s and the server's peak RSS (bench/server/server_bench.cpp)
#
# Usage: bench/server/run.sh [--build DIR] [--baseline OLD_TRUSTBASE] [--records N] [--quick]
#   --build DIR     a Release build dir with the benchmarks (default build/release)
#   --baseline BIN  also run the POST against an older trustbase binary (peak RSS before/after)
#   --records N     files in the POSTed scan (default 1000000)
#   --quick         smoke run: fewer records, one repetition
# Exit status 0 whatever the figures (they are printed as PASS/FAIL); 2 on errors.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build/release"
baseline=""
records=1000000
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    --quick) quick=1; records=100000; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
for bin in bench/analysis_bench bench/store_bench bench/server_bench src/trustbase; do
  [ -x "$build/$bin" ] || { echo "run.sh: $build/$bin missing: cmake --build $build" >&2; exit 2; }
done
if grep -q 'CMAKE_BUILD_TYPE:STRING=Debug' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "run.sh: warning: $build is a Debug build; figures mean little" >&2
fi

scratch=$(mktemp -d "${TB_BENCH_DIR:-/var/tmp}/tb-server-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
reps=3
[ "$quick" = 1 ] && reps=1

# field NAME KEY FILE: KEY of the benchmark whose name starts with NAME (its median when
# repeated) in a Google Benchmark JSON file.
field() {
  awk -v want="$1" -v key="\"$2\":" '
    /"name":/ { name = $2; gsub(/[",]/, "", name) }
    index($0, key) && index(name, want) == 1 && name !~ /_(mean|stddev|cv)$/ { v = $2; gsub(/,/, "", v); found = v }
    END { print found }' "$3"
}
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<" ? v < t : v >= t); print (ok ? "PASS" : "FAIL") }'; }

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build:   $build"
echo

"$build/bench/analysis_bench" --benchmark_filter='^BM_(Analyze|CompareWithSnapshot|IndexPlusCompare)$' \
  --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true --benchmark_format=json \
  >"$scratch/analysis.json" 2>/dev/null
compare_ms=$(field BM_IndexPlusCompare real_time "$scratch/analysis.json")
analyze_ms=$(field BM_Analyze real_time "$scratch/analysis.json")
snapshot_ms=$(field BM_CompareWithSnapshot real_time "$scratch/analysis.json")
printf 'compare 1M-file scan with snapshot + 500-signature index: %7.0f ms  (index build + comparison; comparison alone %.0f ms)  target < 1000 ms  %s\n' \
  "$compare_ms" "$snapshot_ms" "$(verdict "$compare_ms" 1000 '<')"
printf 'analysis of the 1M-file scan against the index:            %7.0f ms\n' "$analyze_ms"

"$build/bench/store_bench" --benchmark_filter='^BM_PutScan(Fresh/1|IdenticalHost)/' \
  --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true --benchmark_format=json \
  >"$scratch/store.json" 2>/dev/null
ingest=$(field BM_PutScanFresh/1/ 'records/s' "$scratch/store.json")
extra=$(field BM_PutScanIdenticalHost/ 'extra_host_%' "$scratch/store.json")
extra_bytes=$(field BM_PutScanIdenticalHost/ 'bytes/extra_host' "$scratch/store.json")
printf 'SQLite ingest (put_scan, 100k records, durable):        %9.0f records/s   target >= 200000  %s\n' \
  "$ingest" "$(verdict "$ingest" 200000 '>=')"
printf 'storage per extra identical host:                        %9.3f %% of the first   target <= 5 %%     %s  (%.0f bytes)\n' \
  "$extra" "$(verdict 5 "$extra" '>=')" "$extra_bytes"
echo

args=(--trustbase "$build/src/trustbase" --records "$records" --dir "$scratch/server")
[ -n "$baseline" ] && args+=(--baseline "$baseline")
"$build/bench/server_bench" "${args[@]}"
