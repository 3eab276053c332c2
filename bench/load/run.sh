#!/usr/bin/env bash
# Issue 7's load test: 10,000 simulated hosts posting 5,000-file scans (gzip) over 10 minutes
# of simulated time to a real `trustbase serve` from 100 concurrent clients; prints scans/s,
# records/s, latency p50/p95/p99/max, errors, the server's CPU per scan and the load
# average, checks that nothing was lost, and the targets (>= 500 scans/s, p99 < 200 ms) as
# ratios achieved/target (bench/load/load_bench.cpp).
#
# Usage: bench/load/run.sh [--build DIR] [--db SQLITE_PATH|postgresql://...] [--quick] [-- LOAD_BENCH_ARGS...]
#   --build DIR   a Release build dir with bench/load_bench and src/trustbase (default build/release)
#   --db DB       the server's store (default: a new SQLite file); given twice, both stores are
#                 measured one after the other (SQLite and PostgreSQL side by side). On
#                 PostgreSQL each run gets a new schema (dropped after it; psql needed), as
#                 SQLite gets a new file: a database reused run after run grows, and its
#                 per-scan costs with it
#   --quick       smoke run: 500 hosts, 20 clients
#   --upload M    document, chunks (as trustbase-scan sends by default) or both (default:
#                 both, side by side on each store: the ratio is the chunked protocol's gain)
#   --perf        also record the server with `perf record` (perf.data in the work dir, kept;
#                 call graphs by DWARF unwinding, TB_PERF_CALLGRAPH to change)
#   -- --rescans K  every host posts K more times (unchanged hosts rescanning)
#   -- --rate R     open loop at R scans/s: latency from when each scan was due
# Exit status: 0 when every scan was acknowledged and stored (whatever the timings), 1 on
# errors or loss, 2 on setup errors.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build/release"
dbs=()
extra=()
perf=0
uploads=(document chunks)
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --db) dbs+=("$2"); shift 2 ;;
    --quick) extra+=(--hosts 500 --clients 20); shift ;;
    --perf) perf=1; shift ;;
    --upload) if [ "$2" = both ]; then uploads=(document chunks); else uploads=("$2"); fi; shift 2 ;;
    --) shift; extra+=("$@"); break ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
for bin in bench/load_bench src/trustbase; do
  [ -x "$build/$bin" ] || { echo "run.sh: $build/$bin missing: cmake --build $build --target load_bench trustbase" >&2; exit 2; }
done
if grep -q 'CMAKE_BUILD_TYPE:STRING=Debug' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "run.sh: warning: $build is a Debug build; figures mean little" >&2
fi
[ ${#dbs[@]} -eq 0 ] && dbs=("")

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build:   $build"
status=0
for db in "${dbs[@]}"; do
for upload in "${uploads[@]}"; do
  work=$(mktemp -d "${TB_BENCH_DIR:-/var/tmp}/tb-load-run-XXXXXX")
  args=(--trustbase "$build/src/trustbase" --dir "$work" --upload "$upload" "${extra[@]}")
  schema=""
  case "$db" in
    postgres://*|postgresql://*)
      if command -v psql >/dev/null; then
        schema="tb_load_$$_$(basename "$work" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
        psql -q -v ON_ERROR_STOP=1 "$db" -c "CREATE SCHEMA $schema" || { echo "run.sh: cannot create schema $schema" >&2; exit 2; }
        case "$db" in *\?*) sep='&' ;; *) sep='?' ;; esac
        args+=(--db "$db${sep}options=-csearch_path%3D$schema")
      else
        echo "run.sh: warning: no psql; the run reuses the database's current schema" >&2
        args+=(--db "$db")
      fi ;;
    "") ;;
    *) args+=(--db "$db") ;;
  esac
  echo
  echo "== store: ${db:-new SQLite file}, uploads: $upload"
  if [ "$perf" = 1 ]; then
    "$build/bench/load_bench" "${args[@]}" --keep | tee "$work/out.txt" &
    bench=$!
    for _ in $(seq 120); do grep -q '^server: pid' "$work/out.txt" 2>/dev/null && break; sleep 1; done
    pid=$(sed -n 's/^server: pid \([0-9]*\).*/\1/p' "$work/out.txt")
    [ -n "$pid" ] && perf record ${TB_PERF_CALLGRAPH:---call-graph dwarf,16384} -F 499 -o "$work/perf.data" -p "$pid" >/dev/null 2>&1 &
    wait "$bench" || status=$?
    echo "perf data: $work/perf.data (perf report -i $work/perf.data)"
  else
    "$build/bench/load_bench" "${args[@]}" || status=$?
    rm -rf "$work"
  fi
  if [ -n "$schema" ]; then psql -q "$db" -c "SET client_min_messages = warning" -c "DROP SCHEMA $schema CASCADE"; fi
done
done
exit "$status"
