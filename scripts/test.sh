#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite.
#   scripts/test.sh          the dev build (Debug, -Werror, AddressSanitizer + UBSan)
#   scripts/test.sh debug    the same tests without sanitizers (for debuggers and valgrind)
#   scripts/test.sh release  the same tests on the optimised build
#   scripts/test.sh fuzz     the fuzz targets built with clang/libFuzzer, each fuzzed for 20 s
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
bash scripts/install-deps.sh
# The store tests run on PostgreSQL too: a local server (started, with a test role and
# database, when TB_TEST_POSTGRES_URL does not name one already).
if [ -z "${TB_TEST_POSTGRES_URL:-}" ]; then
  TB_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh)
  export TB_TEST_POSTGRES_URL
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
