#!/usr/bin/env bash
# Installs dependencies, builds the release binaries and runs the main job on the
# embedded SQLite store: `trustbase demo`, a trading firm's fleet in miniature —
# 35 active/inactive clusters, a trading application, a middleware and a risk engine as
# real .deb packages (releases and patches), promotion stages per cluster, a server,
# the real scanner enrolling and scanning every simulated host, reference snapshots,
# and the fleet report, checked against the deviations planted on purpose.
# Arguments are passed to `trustbase demo` (e.g. --clusters 8, --format html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target trustbase-scan trustbase
exec ./build/release/src/trustbase demo "$@"
