#!/usr/bin/env bash
# The fleet issue's figures in one run (Release build), against its targets:
#   - fleet report for 10,000 hosts x 200 patches                       < 1 s
#       bench/fleet_store_bench: latest_results() + stages() (what the report reads)
#       bench/fleet_report_bench: build the matrix and render text/JSON
#   - cluster identity check, 2 members of 500,000 files each            < 1 s
#       bench/analysis_bench: compare_with_snapshot on a 1,000,000-file scan (twice the size)
#   - the store for 10,000 hosts of near-identical software              < 2 GiB
#       bench/fleet_store_bench: 10,000 scans of a 20,000-file manifest, 4 own files per host
# Usage: bench/fleet/run.sh [--build DIR]   (default build/release)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build/release"
[ "${1:-}" = "--build" ] && build=$2
for bin in fleet_store_bench fleet_report_bench analysis_bench; do
  [ -x "$build/bench/$bin" ] || { echo "run.sh: $build/bench/$bin missing: cmake --build $build" >&2; exit 2; }
done
echo "== store side of the fleet report, and the store size (bench/fleet_store_bench)"
"$build/bench/fleet_store_bench"
echo
echo "== matrix and rendering, 10,000 hosts x 200 patches (bench/fleet_report_bench)"
"$build/bench/fleet_report_bench" --benchmark_filter='End|Build'
echo
echo "== cluster identity check (bench/analysis_bench, 1,000,000 files: twice the target's 500,000)"
"$build/bench/analysis_bench" --benchmark_filter='CompareWithSnapshot|WithoutPatchFiles'
