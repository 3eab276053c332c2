#!/usr/bin/env bash
# Installs dependencies, builds the release binaries and runs the main job:
#  1. scans a directory tree (default /usr/share/doc, or the directory given) into an
#     XML scan document, validates it against the schema and summarises it;
#  2. the integrity flow on the embedded SQLite store: a product and a patch imported as
#     signatures, two simulated hosts (one correctly patched, one with a half-applied
#     patch and a hand-edited file) scanned, ingested and reported on.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-/usr/share/doc}"
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target trustbase-scan trustbase
bin=./build/release/src
work="$(mktemp -d)"

echo "== 1. trustbase-scan --root $root -o $work/scan.xml"
set +e
"$bin/trustbase-scan" --root "$root" -o "$work/scan.xml"
status=$?
set -e
echo "   exit status $status (0 = complete, 1 = complete with unreadable entries, 2 = failed)"
[ "$status" -le 1 ] || exit "$status"
xmllint --noout --schema schema/scan-v1.xsd "$work/scan.xml"
grep -m 4 -E '<(file|dir|symlink) ' "$work/scan.xml" | cut -c1-160
grep -m 1 '<summary' "$work/scan.xml"

echo
echo "== 2. signatures, two hosts, reports (store: $work/trustbase.db)"
tb() { "$bin/trustbase" --db "$work/trustbase.db" "$@"; }
mkdir -p "$work/pkg/app-1.0/bin" "$work/pkg/app-1.0/lib" "$work/pkg/app-1.0/etc" "$work/pkg/app-p1/bin" "$work/pkg/app-p1/lib"
echo "app 1.0" >"$work/pkg/app-1.0/bin/app"; echo "libcore 1.0" >"$work/pkg/app-1.0/lib/libcore.so"
echo "port=8080" >"$work/pkg/app-1.0/etc/app.conf"
echo "app 1.0 + fix 1" >"$work/pkg/app-p1/bin/app"; echo "libfix 1" >"$work/pkg/app-p1/lib/libfix.so"
# Every host installs the product at the same path; the simulated hosts take turns at
# $work/opt/app, and each is scanned right after its deployment, as in a pipeline.
app="$work/opt/app"
tb import --name app --version 1.0 --vendor ACME --install-root "$app" "$work/pkg/app-1.0"
tb import --name app-fix1 --version 1 --kind patch --patches app@1.0 --install-root "$app" "$work/pkg/app-p1"
# The server, on loopback, with a token for the deployment jobs.
tb token add --name deploy-jobs --role admin 2>/dev/null >"$work/token"
coproc SERVER { exec "$bin/trustbase" --db "$work/trustbase.db" serve --listen 127.0.0.1:0 2>"$work/server.log"; }
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
read -r line <&"${SERVER[0]}"
url="http://127.0.0.1:${line##*:}"
echo "trustbase serve: $line (log: $work/server.log)"
deploy() {
  rm -rf "$app" && mkdir -p "$work/opt" && cp -r "$work/pkg/app-1.0" "$app"
  case "$1" in
    alpha) cp -r "$work/pkg/app-p1/." "$app/" ;;                   # patched properly
    beta) cp "$work/pkg/app-p1/lib/libfix.so" "$app/lib/"           # patch half applied
          echo "port=9090" >"$app/etc/app.conf" ;;                  # ... and a hand edit
  esac
  echo
  echo "-- deployment on $1 done; its last step: trustbase-scan --server $url --host $1 $app"
  set +e
  "$bin/trustbase-scan" -q --server "$url" --token-file "$work/token" --host "$1" "$app"
  echo "   exit status $? (0 = as expected, 1 = deviations: the pipeline stops here)"
  set -e
}
deploy alpha
deploy beta
echo
echo "-- trustbase report host beta (the full report, from the store)"
set +e
tb report host beta
set -e
