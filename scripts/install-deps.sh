#!/usr/bin/env bash
# Installs what building and testing trustbase needs, from Debian 12's packages only.
# Idempotent; quiet when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev libxml2-dev libxml2-utils libexpected-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libcpp-httplib-dev zlib1g-dev
  libpqxx-dev postgresql   # the PostgreSQL store, and the server its tests run against
  libarchive-dev librpm-dev rpm
  gpgv gpg gpg-agent gpgconf   # signed imports verify with gpgv; their tests make keys and sign with gpg/rpmsign
  zip xz-utils zstd   # the importer tests build real archives with them
  libtomlplusplus-dev   # configuration files (header-only use)
  help2man lintian dpkg-dev   # man pages from --help; package checks (dpkg-shlibdeps for CPack)
  openssl             # the TLS tests make certificates with it
  nodejs chromium     # the dashboard's browser test (tests/web: playwright-core drives chromium)
  python3-prometheus-client   # the /metrics test checks the output with its text-format parser
  clang libclang-rt-14-dev    # the libFuzzer run (preset fuzz): clang 14 and its fuzzer/sanitizer runtimes
)
# npm comes with nodejs from other sources (NodeSource): Debian's npm package would conflict.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 2; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
