#!/usr/bin/env bash
# The systemd units pass `systemd-analyze verify` (with ExecStart pointed at the built
# binaries: verify wants them to exist), and keep the settings the packages rely on.
#   systemd_test.sh UNIT_DIR TRUSTBASE_BINARY SCAN_BINARY
set -euo pipefail
units=$1 trustbase=$2 scan=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

for f in trustbase.service trustbase-scan.service trustbase-scan.timer; do
  sed -e "s|/usr/bin/trustbase-scan|$scan|" -e "s|/usr/bin/trustbase |$trustbase |" "$units/$f" >"$tmp/$f"
done
grep -qx 'ExecStart=/usr/bin/trustbase serve --config /etc/trustbase/server.toml' "$units/trustbase.service" ||
  fail "trustbase.service: unexpected ExecStart"
for setting in User=trustbase StateDirectory= NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
  grep -q "^$setting" "$units/trustbase.service" || fail "trustbase.service lacks $setting"
done
for setting in Type=oneshot IOSchedulingClass=idle Nice=19 NoNewPrivileges=yes; do
  grep -q "^$setting" "$units/trustbase-scan.service" || fail "trustbase-scan.service lacks $setting"
done
grep -q '^RandomizedDelaySec=' "$units/trustbase-scan.timer" || fail "the timer has no RandomizedDelaySec"

if command -v systemd-analyze >/dev/null; then
  # --man=no: the Documentation= pages are not installed here.
  if ! out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
      trustbase.service trustbase-scan.service trustbase-scan.timer 2>&1); then
    fail "systemd-analyze verify: $out"
  elif [ -n "$out" ]; then
    # verify exits 0 on an unknown or misspelt setting (ignored at run time): any message fails.
    fail "systemd-analyze verify: $out"
  fi
else
  echo "systemd-analyze not installed: units checked by grep only"
fi
[ "$failures" -eq 0 ] && echo "systemd units OK"
[ "$failures" -eq 0 ]
