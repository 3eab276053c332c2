#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite.
#   scripts/test.sh          the dev build (Debug, -Werror)
#   scripts/test.sh asan     the same tests under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
