#!/usr/bin/env bash
# ctest entry of the browser test: run.sh TRUSTBASE_BINARY BUILD_DIR
# Skips (exit 77) only when node or chromium is missing; installs playwright-core from
# the lock file into BUILD_DIR/node_modules (npm ci, once per lock file change).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
trustbase="$1"
build="$2"
chromium="${TB_CHROMIUM:-/usr/bin/chromium}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIPPED: node/npm not installed (scripts/install-deps.sh installs nodejs npm chromium)"
  exit 77
fi
if [ ! -x "$chromium" ]; then
  echo "SKIPPED: $chromium not installed (scripts/install-deps.sh installs chromium)"
  exit 77
fi
mkdir -p "$build"
if ! cmp -s "$here/package-lock.json" "$build/package-lock.json" || [ ! -d "$build/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$build/"
  (cd "$build" && npm ci --no-audit --no-fund --loglevel=error)
fi
# A sanitized server reports leaks at exit; the demo's own children inherit this too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
exec node "$here/dashboard.test.mjs" "$trustbase" "$build/output" "$build/node_modules"
