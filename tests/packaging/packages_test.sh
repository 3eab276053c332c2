#!/usr/bin/env bash
# The packages of this build directory: cpack builds them (into a temporary directory), then
#  - dpkg-deb --info/--contents: names, shlibs dependencies, conffiles, maintainer scripts, files;
#  - lintian: no errors (warnings are printed, see docs/NOTES.md for the ones tolerated);
#  - rpm -qpl: the scanner's RPM holds what the .deb holds;
#  - both .debs unpacked (dpkg -x) into a scratch root, the server started with the unit's own
#    ExecStart line (paths moved into the scratch root, the packaged server.toml pointed at a
#    temporary store and port 0), the packaged scanner run with the scan unit's ExecStart
#    against it, and the report checked.
#   packages_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/tb-packages-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# --- build -------------------------------------------------------------------------------------
(cd "$build" && cpack --config CPackConfig.cmake -B "$tmp/out" -D CPACK_OUTPUT_FILE_PREFIX="$tmp/out/packages" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
scan_deb=$(ls "$tmp"/out/packages/trustbase-scan_*.deb)
server_deb=$(ls "$tmp"/out/packages/trustbase-server_*.deb)
scan_rpm=$(ls "$tmp"/out/packages/trustbase-scan-*.rpm)
if ls "$tmp"/out/packages/trustbase-server-*.rpm >/dev/null 2>&1; then fail "a server RPM was built"; fi
echo "built: $(cd "$tmp/out/packages" && ls | tr '\n' ' ')"

# --- metadata and contents ---------------------------------------------------------------------
field() { dpkg-deb --field "$1" "$2"; }
[ "$(field "$scan_deb" Package)" = trustbase-scan ] || fail "scan package name"
[ "$(field "$server_deb" Package)" = trustbase-server ] || fail "server package name"
field "$scan_deb" Depends | grep 'libc6' >/dev/null || fail "scan Depends lacks the shlibs (libc6): $(field "$scan_deb" Depends)"
field "$scan_deb" Depends | grep 'libssl3\|libcrypto' >/dev/null || fail "scan Depends lacks OpenSSL"
field "$server_deb" Depends | grep 'adduser' >/dev/null || fail "server Depends lacks adduser"
field "$server_deb" Depends | grep 'libsqlite3' >/dev/null || fail "server Depends lacks SQLite"
dpkg-deb --info "$scan_deb" | grep ' conffiles' >/dev/null || fail "scan package has no conffiles"
[ "$(dpkg-deb --ctrl-tarfile "$scan_deb" | tar -xO ./conffiles)" = /etc/trustbase/scan.toml ] || fail "scan conffiles"
[ "$(dpkg-deb --ctrl-tarfile "$server_deb" | tar -xO ./conffiles)" = /etc/trustbase/server.toml ] || fail "server conffiles"
dpkg-deb --ctrl-tarfile "$server_deb" | tar -xO ./postinst | grep 'adduser --system' >/dev/null ||
  fail "server postinst does not create the system user"

contents() { dpkg-deb --contents "$1" | awk '{print $NF}' | sed 's|^\./|/|'; }
contents "$scan_deb" >"$tmp/scan.list"
contents "$server_deb" >"$tmp/server.list"
for f in /usr/bin/trustbase-scan /etc/trustbase/scan.toml /lib/systemd/system/trustbase-scan.service \
    /lib/systemd/system/trustbase-scan.timer /usr/share/man/man1/trustbase-scan.1.gz \
    /usr/share/man/man5/trustbase-scan.toml.5.gz /usr/share/bash-completion/completions/trustbase-scan \
    /usr/share/doc/trustbase-scan/copyright /usr/share/doc/trustbase-scan/changelog.gz; do
  grep -qx "$f" "$tmp/scan.list" || fail "trustbase-scan.deb lacks $f"
done
for f in /usr/bin/trustbase /etc/trustbase/server.toml /lib/systemd/system/trustbase.service \
    /usr/share/man/man1/trustbase.1.gz /usr/share/man/man5/trustbase.toml.5.gz \
    /usr/share/bash-completion/completions/trustbase /usr/share/doc/trustbase-server/copyright \
    /usr/share/doc/trustbase-server/config.md; do
  grep -qx "$f" "$tmp/server.list" || fail "trustbase-server.deb lacks $f"
done
grep -q '/usr/bin/trustbase$' "$tmp/scan.list" && fail "the scanner package carries the server"
grep -q 'trustbase-scan' "$tmp/server.list" && fail "the server package carries the scanner"

rpm -qpl "$scan_rpm" >"$tmp/rpm.list" 2>/dev/null || fail "rpm -qpl $scan_rpm"
for f in /usr/bin/trustbase-scan /etc/trustbase/scan.toml /lib/systemd/system/trustbase-scan.timer \
    /usr/share/man/man1/trustbase-scan.1.gz; do
  grep -qx "$f" "$tmp/rpm.list" || fail "the RPM lacks $f"
done
rpm -qp --configfiles "$scan_rpm" 2>/dev/null | grep -x /etc/trustbase/scan.toml >/dev/null || fail "scan.toml is no %config in the RPM"
rpm -qpR "$scan_rpm" 2>/dev/null | grep 'libc.so.6' >/dev/null || fail "the RPM has no library requirements"

# --- lintian -----------------------------------------------------------------------------------
if command -v lintian >/dev/null; then
  lintian --no-cfg "$scan_deb" "$server_deb" >"$tmp/lintian.log" 2>&1 || true
  if grep -q '^E: ' "$tmp/lintian.log"; then
    grep '^E: ' "$tmp/lintian.log" >&2
    fail "lintian reports errors"
  fi
  echo "lintian: $(grep -c '^E: ' "$tmp/lintian.log" || true) errors, $(grep -c '^W: ' "$tmp/lintian.log" || true) warnings"
  grep '^W: ' "$tmp/lintian.log" | sed 's/^/  /' || true
else
  echo "lintian not installed: skipped"
fi

# --- unpack and run ----------------------------------------------------------------------------
root=$tmp/root
dpkg -x "$scan_deb" "$root"
dpkg -x "$server_deb" "$root"
# The unit's ExecStart with the scratch root's paths (the binary, and a configuration file
# derived from the packaged one: a temporary store and spool, any free port).
exec_start() { sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/$1"; }
mkdir -p "$tmp/state/spool"
sed -e "s|^store = .*|store = \"$tmp/state/trustbase.db\"|" -e 's|^port = .*|port = 0|' \
  -e "s|^spool_dir = .*|spool_dir = \"$tmp/state/spool\"|" "$root/etc/trustbase/server.toml" >"$tmp/server.toml"
grep -q "^store = \"$tmp/state/trustbase.db\"" "$tmp/server.toml" || fail "server.toml has no store key to point elsewhere"
server_cmd=$(exec_start trustbase.service | sed -e "s|/usr/bin/|$root/usr/bin/|" -e "s|/etc/trustbase/server.toml|$tmp/server.toml|")
echo "server: $server_cmd"
# shellcheck disable=SC2086
env -u TRUSTBASE_DB $server_cmd >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/server.out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/server.err" >&2; echo "FAIL: the packaged server did not start" >&2; exit 1; }
tb="$root/usr/bin/trustbase --db $tmp/state/trustbase.db"
$tb token add --name pkgtest --role admin >"$tmp/token" 2>/dev/null
chmod 600 "$tmp/token"

mkdir -p "$tmp/tree/app"
echo 'echo hello' >"$tmp/tree/app/run.sh"
# The packaged scan.toml, sent to this server instead of written to a file.
sed -e "s|^roots = .*|roots = [\"$tmp/tree\"]|" -e '/^file = /d' "$root/etc/trustbase/scan.toml" >"$tmp/scan.toml"
printf '\n[server]\nurl = "http://127.0.0.1:%s"\ntoken_file = "%s"\nhost = "pkghost"\n' "$port" "$tmp/token" >>"$tmp/scan.toml"
scan_cmd=$(exec_start trustbase-scan.service | sed -e "s|/usr/bin/|$root/usr/bin/|" -e "s|/etc/trustbase/scan.toml|$tmp/scan.toml|")
echo "scanner: $scan_cmd"
status=0
# shellcheck disable=SC2086
$scan_cmd >"$tmp/scan.out" 2>"$tmp/scan.err" || status=$?
# No signatures stored: every file is unknown, so "deviations" (1) is the expected verdict.
[ "$status" -eq 1 ] || { cat "$tmp/scan.err" >&2; fail "packaged scanner exit status $status, expected 1"; }
grep -q 'stored for host pkghost' "$tmp/scan.out" || fail "the server did not store the scan: $(cat "$tmp/scan.out")"
# The scanner prints a short verdict (counts and the report's URL); the report lists the file.
grep -q "deviations: 1 added" "$tmp/scan.out" || fail "the verdict does not count the unknown file: $(cat "$tmp/scan.out")"
grep -q "report: http://127.0.0.1:$port/api/v1/hosts/pkghost/report" "$tmp/scan.out" || fail "the verdict gives no report URL"
$tb report host pkghost >"$tmp/report.txt" || true  # exit 1: deviations
grep -q "run.sh" "$tmp/report.txt" || fail "the host's report does not list the unknown file: $(cat "$tmp/report.txt")"
$tb report host pkghost >"$tmp/report.out" 2>&1 || true
grep -q "run.sh" "$tmp/report.out" || fail "the report of pkghost does not list run.sh: $(cat "$tmp/report.out")"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
[ "$failures" -eq 0 ] && echo "packages OK"
[ "$failures" -eq 0 ]
