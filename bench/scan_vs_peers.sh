#!/usr/bin/env bash
# scan_vs_peers.sh - reproducible peer benchmark for trustbase-scan.
#
# Generates two data sets (a few large random files, many small files), warms
# the page cache and times trustbase-scan side by side with the usual ways of
# hashing a tree: sha256sum (one process and xargs -P), hashdeep, aide --init
# and b3sum.  Prints a table per data set and the issue's targets as PASS/FAIL.
# See bench/README.md for what is measured and how.
#
# Usage: bench/scan_vs_peers.sh [options]   (--help for the list)

set -euo pipefail
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)

# ----------------------------------------------------------------------------
# Options
# ----------------------------------------------------------------------------
RUNS=3
ONLY=all
KEEP=0
QUICK=0
STRICT=0
INSTALL=1
BASE_ARG=""
OUT_FILE=""
SEED=42
AIDE_WORKERS=""
SCANNER="${TRUSTBASE_SCAN:-}"
SCANNER_ARGS=()
BIG_FILES=4
BIG_MIB=""
SMALL_FILES=""
OSSL_SECONDS=""

usage() {
    cat <<'EOF'
Usage: bench/scan_vs_peers.sh [options]

Data sets (generated under a temporary directory, removed at exit unless --keep):
  big    4 files x 512 MiB of pseudo-random data (AES-128-CTR keystream, different per file)
  small  100,000 files of 1-7 KiB (seeded sizes) in 1,000 directories at depth 2-3

Options:
  --scanner PATH     trustbase-scan binary (default: $TRUSTBASE_SCAN, else
                     <repo>/build/release/src/trustbase-scan)
  --scanner-arg ARG  extra argument for trustbase-scan (repeatable, e.g. --scanner-arg=--jobs=2)
  --only big|small   run one data set only
  --runs N           timed runs per tool, median reported (default 3)
  --quick            smoke-test sizes: 4 x 16 MiB and 5,000 small files, openssl speed 1 s
  --big-mib N        size of each big file in MiB (overrides --quick)
  --small-files N    number of small files (overrides --quick)
  --seed N           seed for data generation (default 42)
  --dir DIR          base directory for data (default: mktemp -d under $TB_BENCH_DIR
                     or /var/tmp); an existing data set with the same parameters
                     left there by --keep is reused
  --keep             keep the generated data (and scratch files)
  --out FILE         also write machine-readable results (FILE ending in .json:
                     JSON, otherwise TSV)
  --aide-workers N   set AIDE num_workers (default: unset = AIDE's default, 1)
  --no-install       never apt-get install missing peers
  --strict           exit 1 if any target FAILs
  -h, --help         this text
EOF
}

die() { echo "scan_vs_peers: error: $*" >&2; exit 2; }
note() { echo "scan_vs_peers: $*" >&2; }

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs an argument"; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --scanner) need_arg "$@"; SCANNER=$2; shift 2 ;;
        --scanner=*) SCANNER=${1#*=}; shift ;;
        --scanner-arg) need_arg "$@"; SCANNER_ARGS+=("$2"); shift 2 ;;
        --scanner-arg=*) SCANNER_ARGS+=("${1#*=}"); shift ;;
        --only) need_arg "$@"; ONLY=$2; shift 2 ;;
        --only=*) ONLY=${1#*=}; shift ;;
        --runs) need_arg "$@"; RUNS=$2; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --big-mib) need_arg "$@"; BIG_MIB=$2; shift 2 ;;
        --big-mib=*) BIG_MIB=${1#*=}; shift ;;
        --small-files) need_arg "$@"; SMALL_FILES=$2; shift 2 ;;
        --small-files=*) SMALL_FILES=${1#*=}; shift ;;
        --seed) need_arg "$@"; SEED=$2; shift 2 ;;
        --seed=*) SEED=${1#*=}; shift ;;
        --dir) need_arg "$@"; BASE_ARG=$2; shift 2 ;;
        --dir=*) BASE_ARG=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        --out) need_arg "$@"; OUT_FILE=$2; shift 2 ;;
        --out=*) OUT_FILE=${1#*=}; shift ;;
        --aide-workers) need_arg "$@"; AIDE_WORKERS=$2; shift 2 ;;
        --aide-workers=*) AIDE_WORKERS=${1#*=}; shift ;;
        --no-install) INSTALL=0; shift ;;
        --strict) STRICT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$RUNS" && ((RUNS >= 1)) || die "--runs must be a positive integer"
is_uint "$SEED" || die "--seed must be a non-negative integer"
case $ONLY in all|big|small) ;; *) die "--only must be big or small" ;; esac
[[ -z $AIDE_WORKERS ]] || is_uint "$AIDE_WORKERS" || die "--aide-workers must be an integer"

if ((QUICK)); then
    : "${BIG_MIB:=16}" "${SMALL_FILES:=5000}" "${OSSL_SECONDS:=1}"
else
    : "${BIG_MIB:=512}" "${SMALL_FILES:=100000}" "${OSSL_SECONDS:=3}"
fi
is_uint "$BIG_MIB" && ((BIG_MIB >= 1)) || die "--big-mib must be a positive integer"
is_uint "$SMALL_FILES" && ((SMALL_FILES >= 1)) || die "--small-files must be a positive integer"

[[ -n $SCANNER ]] || SCANNER="$REPO_ROOT/build/release/src/trustbase-scan"
[[ $SCANNER == /* ]] || SCANNER="$PWD/$SCANNER"

NPROC=$(nproc)
DATASETS=()
[[ $ONLY == small ]] || DATASETS+=(big)
[[ $ONLY == big ]] || DATASETS+=(small)

# ----------------------------------------------------------------------------
# trustbase-scan CLI: the only place that knows how the scanner is invoked.
# ----------------------------------------------------------------------------
# trustbase_argv DIR OUT  -> sets ARGV to the command that scans DIR into OUT.
trustbase_argv() {
    ARGV=("$SCANNER" --root "$1" -o "$2" --quiet ${SCANNER_ARGS[@]+"${SCANNER_ARGS[@]}"})
}
trustbase_version() {
    "$SCANNER" --version 2>/dev/null | head -n 1 || true
}

# ----------------------------------------------------------------------------
# Tools
# ----------------------------------------------------------------------------
TOOLS=(trustbase sha256sum sha256sum_par hashdeep aide b3sum)

# xargs -P batch size: ceil(files / (4 * nproc)), clamped to [1, 1000]. At least
# 4 batches per worker so the last batch does not leave cores idle (with 4 big
# files this gives 1 file per process), and at most 1000 files per exec so the
# ~1 ms fork/exec cost is amortised.
par_batch() {
    local files=$1 n
    n=$(((files + 4 * NPROC - 1) / (4 * NPROC)))
    ((n < 1)) && n=1
    ((n > 1000)) && n=1000
    echo "$n"
}

tool_label() {
    local ds=${2:-}
    case $1 in
        trustbase) echo "trustbase-scan" ;;
        sha256sum) echo "sha256sum (1 process)" ;;
        sha256sum_par)
            if [[ -n $ds ]]; then echo "sha256sum xargs -P$NPROC -n${PAR_N[$ds]}"
            else echo "sha256sum xargs -P$NPROC"; fi ;;
        hashdeep) echo "hashdeep -c sha256" ;;
        aide)
            if [[ -n $AIDE_WORKERS ]]; then echo "aide --init (${AIDE_WORKERS} workers)"
            else echo "aide --init"; fi ;;
        b3sum) echo "b3sum (BLAKE3)" ;;
    esac
}

# tool_argv TOOL DATASET DIR OUT -> sets ARGV and STDOUT_TO.
# Tools that print digests write them to OUT (via stdout); aide writes its
# database to a fixed per-data-set file named in its config.
tool_argv() {
    local tool=$1 ds=$2 dir=$3 out=$4
    STDOUT_TO=$out
    case $tool in
        trustbase) trustbase_argv "$dir" "$out"; STDOUT_TO=/dev/null ;;
        sha256sum)
            ARGV=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 sha256sum' bench "$dir") ;;
        sha256sum_par)
            ARGV=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 -P "$2" -n "$3" sha256sum' \
                bench "$dir" "$NPROC" "${PAR_N[$ds]}") ;;
        hashdeep) ARGV=(hashdeep -c sha256 -r "$dir") ;;
        aide) ARGV=(aide "--config=$SCRATCH/aide.$ds.conf" --init); STDOUT_TO=/dev/null ;;
        b3sum)
            ARGV=(bash -c 'set -o pipefail; find "$1" -type f -print0 | xargs -0 b3sum' bench "$dir") ;;
    esac
}

have() { command -v "$1" >/dev/null 2>&1; }

# tool_missing TOOL -> prints why TOOL cannot run, nothing if it can.
tool_missing() {
    case $1 in
        trustbase)
            [[ -x $SCANNER && -f $SCANNER ]] || echo "binary not found: $SCANNER (build it: cmake --preset release && cmake --build --preset release; or pass --scanner PATH)" ;;
        sha256sum|sha256sum_par)
            have sha256sum && have find && have xargs || echo "sha256sum/find/xargs not installed" ;;
        hashdeep) have hashdeep || echo "hashdeep not installed" ;;
        aide)
            if ! have aide; then echo "aide not installed"
            elif [[ $BASE =~ [[:space:]] ]]; then echo "base path contains whitespace (AIDE config cannot express it)"
            fi ;;
        b3sum) have b3sum || echo "b3sum not installed" ;;
    esac
}

apt_install() {
    local pkgs=("$@")
    ((${#pkgs[@]})) || return 0
    if ((!INSTALL)); then note "not installing (--no-install): ${pkgs[*]}"; return 0; fi
    if [[ $EUID -ne 0 ]] || ! have apt-get; then
        note "missing ${pkgs[*]}; not root or no apt-get, those peers will be skipped"
        return 0
    fi
    note "installing ${pkgs[*]} with apt-get"
    local p updated=0
    for p in "${pkgs[@]}"; do
        if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$p" >/dev/null 2>&1; then
            continue
        fi
        if ((!updated)); then
            apt-get update -q >/dev/null 2>&1 || true
            updated=1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$p" >/dev/null 2>&1 && continue
        fi
        note "could not install $p"
    done
}

ensure_peers() {
    local missing=()
    have hashdeep || missing+=(hashdeep)
    have aide || missing+=(aide)
    have b3sum || missing+=(b3sum)
    [[ -x /usr/bin/time ]] || missing+=(time)
    have openssl || missing+=(openssl)
    apt_install ${missing[@]+"${missing[@]}"}
    have perl || die "perl is needed to generate the small data set"
    have openssl || die "openssl is needed to generate the data sets"
}

# ----------------------------------------------------------------------------
# Small helpers (floating point via awk)
# ----------------------------------------------------------------------------
now() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then echo "$EPOCHREALTIME"; else date +%s.%N; fi
}
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.6f", v[(NR + 1) / 2]; else printf "%.6f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minof() { printf '%s\n' "$@" | sort -g | head -n 1; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "" || v == "n/a") print "n/a"; else printf f, v }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# ----------------------------------------------------------------------------
# Work directory and cleanup
# ----------------------------------------------------------------------------
BASE=""
BASE_CREATED=0
GENERATED=()
SCRATCH=""

cleanup() {
    local rc=$?
    if ((KEEP)); then
        [[ -n $BASE ]] && note "kept data and scratch files in $BASE"
        return "$rc"
    fi
    if [[ -n $BASE && $BASE != / ]]; then
        if ((BASE_CREATED)); then
            rm -rf -- "$BASE"
        else
            local d
            for d in ${GENERATED[@]+"${GENERATED[@]}"}; do rm -rf -- "${BASE:?}/$d"; done
            [[ -n $SCRATCH ]] && rm -rf -- "$SCRATCH"
        fi
    fi
    return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_base() {
    if [[ -n $BASE_ARG ]]; then
        mkdir -p -- "$BASE_ARG"
        BASE=$(cd -- "$BASE_ARG" && pwd)
    else
        local parent=${TB_BENCH_DIR:-/var/tmp}
        mkdir -p -- "$parent"
        BASE=$(mktemp -d "$parent/tb-bench.XXXXXX")
        BASE_CREATED=1
    fi
    SCRATCH="$BASE/scratch.$$"
    mkdir -p -- "$SCRATCH"
}

# ----------------------------------------------------------------------------
# Data generation
# ----------------------------------------------------------------------------
# Deterministic pseudo-random stream: AES-128-CTR keystream (zeros encrypted)
# with a 128-bit key derived from the seed and a label.  Fast (AES-NI) and
# reproducible; different labels give unrelated content.
keystream() { # BYTES LABEL
    local key
    key=$(printf 'trustbase-bench:%s:%s' "$SEED" "$2" | sha256sum | cut -c1-32)
    head -c "$1" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000
}

dataset_spec() {
    case $1 in
        big) echo "big v1 files=$BIG_FILES mib=$BIG_MIB seed=$SEED" ;;
        small) echo "small v1 files=$SMALL_FILES dirs=1000 sizes=1024..7168 seed=$SEED" ;;
    esac
}

check_space() { # NAME BYTES_NEEDED
    local avail
    avail=$(df -P -B1 -- "$BASE" | awk 'NR == 2 { print $4 }')
    if [[ -n $avail ]] && ((avail < $2 + $2 / 10)); then
        die "not enough space in $BASE for the $1 data set: need ~$(($2 / 1048576)) MiB, have $((avail / 1048576)) MiB (use --dir or TB_BENCH_DIR)"
    fi
}

gen_big() {
    local dir=$1 i
    check_space big $((BIG_FILES * BIG_MIB * 1048576))
    mkdir -p -- "$dir"
    for ((i = 0; i < BIG_FILES; i++)); do
        keystream $((BIG_MIB * 1048576)) "big-$i" >"$dir/big-$i.bin"
    done
}

gen_small() {
    local dir=$1
    check_space small $((SMALL_FILES * 8192 + 1010 * 4096))
    mkdir -p -- "$dir"
    # 8 MiB pool of random bytes; each file is a slice of it at a seeded offset.
    keystream $((8 * 1048576)) small-pool >"$SCRATCH/pool.bin"
    # Layout: 10 top dirs t0..t9, each with 10 dirs m0..m9 (100 dirs at depth 2),
    # each of those with 9 dirs l0..l8 (900 at depth 3): 1,000 file-holding dirs.
    # File i goes to dir (i mod 1000); size uniform in 1024..7168 bytes.
    # PRNG: 32-bit LCG (Numerical Recipes constants), high bits used.
    perl -e '
        use strict; use warnings;
        my ($root, $nfiles, $seed, $poolf) = @ARGV;
        open(my $ph, "<:raw", $poolf) or die "pool: $!";
        local $/; my $pool = <$ph>; close $ph;
        my $plen = length $pool;
        my @dirs;
        for my $t (0 .. 9) {
            for my $m (0 .. 9) {
                push @dirs, "t$t/m$m";
                push @dirs, "t$t/m$m/l$_" for 0 .. 8;
            }
        }
        mkdir "$root/t$_" or die "mkdir: $!" for 0 .. 9;
        for my $d (@dirs) { mkdir "$root/$d" or die "mkdir $d: $!"; }
        my $x = ($seed * 2654435761 + 1) & 0xFFFFFFFF;
        my $rnd = sub { $x = (1664525 * $x + 1013904223) & 0xFFFFFFFF; return $x >> 8; };   # 24-bit
        my $rnd48 = sub { return $rnd->() * 16777216 + $rnd->(); };
        for my $i (0 .. $nfiles - 1) {
            my $size = 1024 + $rnd->() % (7168 - 1024 + 1);
            my $off = $rnd48->() % ($plen - $size);
            my $p = sprintf("%s/%s/f%06d", $root, $dirs[$i % @dirs], $i);
            open(my $fh, ">:raw", $p) or die "$p: $!";
            print $fh substr($pool, $off, $size) or die "$p: $!";
            close $fh or die "$p: $!";
        }
    ' "$dir" "$SMALL_FILES" "$SEED" "$SCRATCH/pool.bin"
    rm -f -- "$SCRATCH/pool.bin"
}

declare -A DS_DIR DS_FILES DS_BYTES DS_REF_HEX DS_REF_B64 PAR_N

prepare_dataset() {
    local ds=$1 dir="$BASE/$1" mark="$BASE/$1.complete" spec t0 ref
    spec=$(dataset_spec "$ds")
    if [[ -d $dir && -f $mark ]] && [[ $(cat -- "$mark") == "$spec" ]]; then
        note "$ds: reusing existing data set in $dir"
    else
        rm -rf -- "$dir" "$mark"
        GENERATED+=("$ds" "$ds.complete")
        note "$ds: generating data set in $dir ($spec)"
        t0=$(now)
        "gen_$ds" "$dir"
        echo "$spec" >"$mark"
        note "$ds: generated in $(fmt "$(calc "$(now) - $t0")" %.1f) s"
    fi
    DS_DIR[$ds]=$dir
    DS_FILES[$ds]=$(find "$dir" -type f | wc -l)
    DS_BYTES[$ds]=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
    ref=$(find "$dir" -type f | sort | head -n 1)
    DS_REF_HEX[$ds]=$(sha256sum -- "$ref" | cut -c1-64)
    DS_REF_B64[$ds]=$(perl -e 'print pack("H*", $ARGV[0])' "${DS_REF_HEX[$ds]}" | base64 -w0)
    PAR_N[$ds]=$(par_batch "${DS_FILES[$ds]}")
}
