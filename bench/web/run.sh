#!/usr/bin/env bash
# The dashboard's figure for issue 6 (10,000 hosts render in < 1 s): a synthetic store of
# 10,000 hosts × 200 patches in 500 clusters (fleet_web_store), `trustbase serve` on it,
# then bench/web/measure.mjs times the fleet API and the page's first render in chromium.
# Usage: bench/web/run.sh [--build DIR]   (default build/release; needs tests/web's
# node_modules: ctest -R web_dashboard installs them into DIR/tests/web)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build/release"
[ "${1:-}" = "--build" ] && build=$2
modules="$build/tests/web/node_modules"
[ -d "$modules/playwright-core" ] || { mkdir -p "$build/tests/web"; cp "$here/tests/web/package.json" "$here/tests/web/package-lock.json" "$build/tests/web/"; (cd "$build/tests/web" && npm ci --no-audit --no-fund --loglevel=error); }
work=$(mktemp -d /tmp/tb-web-bench-XXXXXX)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
t0=$(date +%s.%N)
"$build/bench/fleet_web_store" "$work/fleet.db"
echo "store built in $(echo "$(date +%s.%N) - $t0" | bc) s"
token=$("$build/src/trustbase" --db "$work/fleet.db" token add --name bench --role reader)
"$build/src/trustbase" --db "$work/fleet.db" serve --listen 127.0.0.1:0 >"$work/port" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/port" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/port")
node "$here/bench/web/measure.mjs" "http://127.0.0.1:$port/" "$token" "$modules" "${RUNS:-5}"
