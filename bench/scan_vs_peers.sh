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
if ! is_uint "$RUNS" || ((RUNS < 1)); then die "--runs must be a positive integer"; fi
is_uint "$SEED" || die "--seed must be a non-negative integer"
case $ONLY in all|big|small) ;; *) die "--only must be big or small" ;; esac
[[ -z $AIDE_WORKERS ]] || is_uint "$AIDE_WORKERS" || die "--aide-workers must be an integer"

if ((QUICK)); then
    : "${BIG_MIB:=16}" "${SMALL_FILES:=5000}" "${OSSL_SECONDS:=1}"
else
    : "${BIG_MIB:=512}" "${SMALL_FILES:=100000}" "${OSSL_SECONDS:=3}"
fi
if ! is_uint "$BIG_MIB" || ((BIG_MIB < 1)); then die "--big-mib must be a positive integer"; fi
if ! is_uint "$SMALL_FILES" || ((SMALL_FILES < 1)); then die "--small-files must be a positive integer"; fi

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
    "$SCANNER" --version 2>/dev/null | sed -n 1p || true
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
    # shellcheck disable=SC2016 # $1.. are expanded by the inner bash
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
            [[ -x $SCANNER && -f $SCANNER ]] || echo "binary not found: $SCANNER" ;;
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
minof() { printf '%s\n' "$@" | sort -g | sed -n 1p; }
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

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    if ((KEEP)); then
        [[ -n $BASE ]] && note "kept data and scratch files in $BASE"
        return "$rc"
    fi
    if [[ -n $BASE && $BASE != / ]]; then
        if ((BASE_CREATED)); then
            note "removing $BASE"
            rm -rf -- "$BASE"
        else
            local d
            ((${#GENERATED[@]} == 0)) || note "removing generated data in $BASE"
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
        case $ds in big) gen_big "$dir" ;; small) gen_small "$dir" ;; esac
        echo "$spec" >"$mark"
        note "$ds: generated in $(fmt "$(calc "$(now) - $t0")" %.1f) s"
    fi
    DS_DIR[$ds]=$dir
    DS_FILES[$ds]=$(find "$dir" -type f | wc -l)
    DS_BYTES[$ds]=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
    ref=$(find "$dir" -type f | sort | sed -n 1p)
    DS_REF_HEX[$ds]=$(sha256sum -- "$ref" | cut -c1-64)
    DS_REF_B64[$ds]=$(perl -e 'print pack("H*", $ARGV[0])' "${DS_REF_HEX[$ds]}" | base64 -w0)
    PAR_N[$ds]=$(par_batch "${DS_FILES[$ds]}")
}

# ----------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------
HAVE_GNU_TIME=0
declare -A STATUS WARN WALLS MED MINW MAXW RSS_KB
OSSL_MBS=""

write_aide_conf() { # DS
    local ds=$1 re
    # AIDE selection lines are regular expressions: escape the metacharacters.
    re=$(printf '%s' "${DS_DIR[$ds]}" | sed 's/[][\.*^$+?(){}|]/\\&/g')
    {
        echo "# minimal AIDE config generated by scan_vs_peers.sh"
        echo "database_out=file:$SCRATCH/aide.$ds.db"
        echo "gzip_dbout=no"
        echo "report_url=stdout"
        [[ -z $AIDE_WORKERS ]] || echo "num_workers=$AIDE_WORKERS"
        # permissions, owner, group, size, mtime + SHA-256 of the content
        echo "$re(/|\$) p+u+g+s+m+sha256"
    } >"$SCRATCH/aide.$ds.conf"
}

# run_once TOOL DS OUT -> R_WALL (s), R_RSS (KiB or n/a), R_RC
run_once() {
    local tool=$1 ds=$2 out=$3 tf="$SCRATCH/time.txt" errf="$SCRATCH/stderr.$2.$1" t0 t1
    tool_argv "$tool" "$ds" "${DS_DIR[$ds]}" "$out"
    [[ $tool != aide ]] || rm -f -- "$SCRATCH/aide.$ds.db"
    rm -f -- "$tf"
    R_RC=0
    if [[ -n ${EPOCHREALTIME:-} ]]; then t0=$EPOCHREALTIME; else t0=$(date +%s.%N); fi
    if ((HAVE_GNU_TIME)); then
        /usr/bin/time -f '%e %M %x' -o "$tf" -- "${ARGV[@]}" >"$STDOUT_TO" 2>"$errf" || R_RC=$?
    else
        "${ARGV[@]}" >"$STDOUT_TO" 2>"$errf" || R_RC=$?
    fi
    if [[ -n ${EPOCHREALTIME:-} ]]; then t1=$EPOCHREALTIME; else t1=$(date +%s.%N); fi
    R_WALL=$(calc "$t1 - $t0")
    R_RSS=n/a
    if ((HAVE_GNU_TIME)) && [[ -s $tf ]]; then
        R_RSS=$(tail -n 1 "$tf" | awk '{ print $2 }')
    fi
}

# verify_output TOOL DS OUT -> prints problems (empty = output looks right).
# Checks that the tool really hashed every file: digest count and the SHA-256 of
# a reference file.  Returns 1 if no digest at all was found.
verify_output() {
    local tool=$1 ds=$2 out=$3 n=${DS_FILES[$2]} hex=${DS_REF_HEX[$2]} b64=${DS_REF_B64[$2]} got
    case $tool in
        sha256sum|sha256sum_par|b3sum)
            got=$(wc -l <"$out")
            [[ $got -eq $n ]] || echo "$got digest lines, expected $n"
            if [[ $tool != b3sum ]]; then
                grep -q "^$hex " "$out" || echo "reference SHA-256 not in output"
            fi
            [[ $got -gt 0 ]] || return 1 ;;
        hashdeep)
            got=$(grep -cvE '^(%|#)' "$out" || true)
            [[ $got -eq $n ]] || echo "$got digest lines, expected $n"
            grep -qi "$hex" "$out" || echo "reference SHA-256 not in output"
            [[ $got -gt 0 ]] || return 1 ;;
        aide)
            local db="$SCRATCH/aide.$ds.db"
            [[ -s $db ]] || { echo "no database written"; return 1; }
            got=$(grep -cE ' [A-Za-z0-9+/]{43}=$' "$db" || true)
            [[ $got -eq $n ]] || echo "$got sha256 entries in the database, expected $n"
            grep -qF " $b64" "$db" || echo "reference SHA-256 not in database"
            [[ $got -gt 0 ]] || return 1 ;;
        trustbase)
            if grep -qiF "$hex" "$out"; then
                got=$(grep -oiE '[0-9a-f]{64}' "$out" | wc -l)
                ((got >= n)) || echo "only $got SHA-256 digests in the scan document, expected >= $n"
            elif grep -qF "$b64" "$out"; then
                : # base64 digests: the reference file is there, good enough
            else
                echo "reference SHA-256 not found in the scan document (output format changed?)"
            fi ;;
    esac
    return 0
}

stderr_tail() { # DS TOOL -> ": <last lines of the tool's stderr>" or nothing
    local t
    t=$(tail -n 3 "$SCRATCH/stderr.$1.$2" 2>/dev/null | tr '\n' ' ' | cut -c1-300)
    t=${t%"${t##*[![:space:]]}"}
    [[ -z $t ]] || printf ': %s' "$t"
}

warm_cache() { # DS
    find "${DS_DIR[$1]}" -type f -print0 | xargs -0 cat >/dev/null
}

bench_dataset() {
    local ds=$1 tool key why problems r
    write_aide_conf "$ds"
    note "$ds: warming the page cache (reading all ${DS_FILES[$ds]} files)"
    warm_cache "$ds"
    for tool in "${TOOLS[@]}"; do
        key="$ds:$tool"
        WALLS[$key]=""
        RSS_KB[$key]=""
        why=$(tool_missing "$tool")
        if [[ -n $why ]]; then
            STATUS[$key]="skipped: $why"
            note "$ds: skipping $(tool_label "$tool" "$ds"): $why"
            continue
        fi
        note "$ds: $(tool_label "$tool" "$ds"): untimed warm-up + verification run"
        run_once "$tool" "$ds" "$SCRATCH/out.$ds.$tool"
        if ((R_RC != 0)); then
            STATUS[$key]="failed: exit $R_RC$(stderr_tail "$ds" "$tool")"
            note "$ds: $(tool_label "$tool" "$ds") ${STATUS[$key]}"
            continue
        fi
        if problems=$(verify_output "$tool" "$ds" "$SCRATCH/out.$ds.$tool"); then
            STATUS[$key]=ok
        else
            STATUS[$key]="failed: output has no digests${problems:+ ($problems)}"
            note "$ds: $(tool_label "$tool" "$ds") ${STATUS[$key]}"
            continue
        fi
        WARN[$key]=$(printf '%s' "$problems" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
        [[ -z ${WARN[$key]} ]] || note "$ds: WARNING $(tool_label "$tool" "$ds"): ${WARN[$key]}"
        rm -f -- "$SCRATCH/out.$ds.$tool"
    done
    # Timed runs, round-robin over the tools so that slow drift (thermal,
    # background load) spreads evenly instead of hitting one tool.
    for ((r = 1; r <= RUNS; r++)); do
        for tool in "${TOOLS[@]}"; do
            key="$ds:$tool"
            [[ ${STATUS[$key]} == ok ]] || continue
            run_once "$tool" "$ds" /dev/null
            if ((R_RC != 0)); then
                STATUS[$key]="failed: exit $R_RC in timed run $r$(stderr_tail "$ds" "$tool")"
                note "$ds: $(tool_label "$tool" "$ds") ${STATUS[$key]}"
                continue
            fi
            WALLS[$key]+="${WALLS[$key]:+ }$R_WALL"
            if [[ $R_RSS != n/a ]] && { [[ -z ${RSS_KB[$key]} ]] || ((R_RSS > RSS_KB[$key])); }; then
                RSS_KB[$key]=$R_RSS
            fi
            note "$ds: run $r/$RUNS $(tool_label "$tool" "$ds"): $(fmt "$R_WALL" %.3f) s"
        done
    done
    for tool in "${TOOLS[@]}"; do
        key="$ds:$tool"
        [[ ${STATUS[$key]} == ok ]] || continue
        # shellcheck disable=SC2086 # WALLS holds space-separated numbers
        MED[$key]=$(median ${WALLS[$key]})
        # shellcheck disable=SC2086
        MINW[$key]=$(minof ${WALLS[$key]})
        # shellcheck disable=SC2086
        MAXW[$key]=$(maxof ${WALLS[$key]})
    done
}

# Hardware ceiling: OpenSSL's own SHA-256 on 16 KiB blocks, one process per
# core.  Prints MB/s (10^6 bytes/s); openssl reports 1000s of bytes per second.
openssl_ceiling() {
    local out
    out=$(openssl speed -evp sha256 -multi "$NPROC" -bytes 16384 -seconds "$OSSL_SECONDS" 2>/dev/null) ||
        out=$(openssl speed -evp sha256 -multi "$NPROC" -seconds "$OSSL_SECONDS" 2>/dev/null) || return 0
    # Summary line: "sha256  <16B> ... <16384B>" (or just "<16384B>" with -bytes);
    # the last column is the 16384-byte one.
    printf '%s\n' "$out" | awk 'tolower($1) ~ /^(sha256|sha2-256)$/ && $NF ~ /k$/ { v = $NF }
        END { if (v != "") { sub(/k$/, "", v); printf "%.1f", v / 1000 } }'
}

# ----------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------
mbps() { calc "${DS_BYTES[$1]} / $2 / 1000000"; }
fps() { calc "${DS_FILES[$1]} / $2"; }
rss_mib() { [[ -n ${RSS_KB[$1]:-} ]] && calc "${RSS_KB[$1]} / 1024" || echo n/a; }
tb_ok() { [[ ${STATUS[$1:trustbase]:-} == ok ]]; }
ratio() { # DS TOOL -> peer time / trustbase time
    if tb_ok "$1" && [[ ${STATUS[$1:$2]:-} == ok ]]; then
        calc "${MED[$1:$2]} / ${MED[$1:trustbase]}"
    else
        echo n/a
    fi
}
is_pipeline() { [[ $1 == sha256sum || $1 == sha256sum_par || $1 == b3sum ]]; }

print_table() {
    local ds=$1 tool key label rss
    echo
    printf '== %s: %d files, %s MiB, hot cache, median of %d run%s ==\n' "$ds" "${DS_FILES[$ds]}" \
        "$(fmt "$(calc "${DS_BYTES[$ds]} / 1048576")" %.1f)" "$RUNS" "$( ((RUNS > 1)) && echo s)"
    printf '%-28s %9s %17s %9s %10s %9s %8s\n' "tool" "wall s" "min..max s" "MB/s" "files/s" "RSS MiB" "peer/tb"
    printf '%-28s %9s %17s %9s %10s %9s %8s\n' "----" "------" "----------" "----" "-------" "-------" "-------"
    for tool in "${TOOLS[@]}"; do
        key="$ds:$tool"
        label=$(tool_label "$tool" "$ds")
        if [[ ${STATUS[$key]} != ok ]]; then
            printf '%-28s %s\n' "$label" "${STATUS[$key]}"
            continue
        fi
        rss=$(fmt "$(rss_mib "$key")" %.1f)
        is_pipeline "$tool" && [[ $rss != n/a ]] && rss="$rss*"
        printf '%-28s %9s %17s %9s %10s %9s %8s\n' "$label" \
            "$(fmt "${MED[$key]}" %.3f)" \
            "$(fmt "${MINW[$key]}" %.3f)..$(fmt "${MAXW[$key]}" %.3f)" \
            "$(fmt "$(mbps "$ds" "${MED[$key]}")" %.1f)" \
            "$(fmt "$(fps "$ds" "${MED[$key]}")" %.0f)" \
            "$rss" \
            "$(fmt "$(ratio "$ds" "$tool")" %.2f)"
    done
    echo "(* pipeline: peak RSS of the largest single process in find | xargs | hasher;"
    echo "   with xargs -P up to $NPROC hashers run at once. peer/tb > 1: trustbase-scan is faster.)"
    for tool in "${TOOLS[@]}"; do
        key="$ds:$tool"
        [[ -z ${WARN[$key]:-} ]] || echo "WARNING $(tool_label "$tool" "$ds"): ${WARN[$key]}"
    done
    if [[ $ds == big && -n $OSSL_MBS ]]; then
        printf 'ceiling: openssl speed -evp sha256 -multi %d (16 KiB blocks): %s MB/s' "$NPROC" "$OSSL_MBS"
        if tb_ok big; then
            printf '; trustbase-scan reaches %s %%\n' "$(fmt "$(calc "$(mbps big "${MED[big:trustbase]}") * 100 / $OSSL_MBS")" %.1f)"
        else
            echo
        fi
    fi
    tb_ok "$ds" || echo "trustbase-scan: ${STATUS[$ds:trustbase]} -- no ratios"
}

T_DS=() T_NAME=() T_VAL=() T_THR=() T_RES=()
add_target() { # DS NAME MEASURED THRESHOLD RESULT
    T_DS+=("$1") T_NAME+=("$2") T_VAL+=("$3") T_THR+=("$4") T_RES+=("$5")
}

check_ratio_target() { # DS PEER THRESHOLD
    local ds=$1 peer=$2 thr=$3 name r
    name="trustbase >= ${thr}x $(tool_label "$peer" "$ds")"
    if ! tb_ok "$ds"; then add_target "$ds" "$name" n/a "$thr" "SKIP (trustbase-scan not run)"
    elif [[ ${STATUS[$ds:$peer]} != ok ]]; then add_target "$ds" "$name" n/a "$thr" "SKIP ($peer not run)"
    else
        r=$(ratio "$ds" "$peer")
        if ge "$r" "$thr"; then add_target "$ds" "$name" "$(fmt "$r" %.2f)" "$thr" PASS
        else add_target "$ds" "$name" "$(fmt "$r" %.2f)" "$thr" FAIL; fi
    fi
}

check_rss_target() { # DS
    local ds=$1 name="trustbase peak RSS < 64 MiB" m
    if ! tb_ok "$ds"; then add_target "$ds" "$name" n/a 64 "SKIP (trustbase-scan not run)"; return; fi
    m=$(rss_mib "$ds:trustbase")
    if [[ $m == n/a ]]; then add_target "$ds" "$name" n/a 64 "SKIP (no GNU time)"
    elif lt "$m" 64; then add_target "$ds" "$name" "$(fmt "$m" %.1f)" 64 PASS
    else add_target "$ds" "$name" "$(fmt "$m" %.1f)" 64 FAIL; fi
}

evaluate_targets() {
    local ds p
    for ds in "${DATASETS[@]}"; do
        if [[ $ds == big ]]; then
            local name="trustbase >= 90% of openssl speed -multi $NPROC"
            if ! tb_ok big; then add_target big "$name" n/a 90 "SKIP (trustbase-scan not run)"
            elif [[ -z $OSSL_MBS ]]; then add_target big "$name" n/a 90 "SKIP (openssl speed failed)"
            else
                p=$(calc "$(mbps big "${MED[big:trustbase]}") * 100 / $OSSL_MBS")
                if ge "$p" 90; then add_target big "$name" "$(fmt "$p" %.1f)" 90 PASS
                else add_target big "$name" "$(fmt "$p" %.1f)" 90 FAIL; fi
            fi
            check_ratio_target big sha256sum 8
            check_ratio_target big hashdeep 5
            check_ratio_target big aide 8
        else
            check_ratio_target small sha256sum_par 2.5
            check_ratio_target small hashdeep 5
            check_ratio_target small aide 7
        fi
        check_rss_target "$ds"
    done
}

print_targets() {
    local i unit
    echo
    echo "== targets =="
    for i in "${!T_DS[@]}"; do
        case ${T_NAME[$i]} in *RSS*) unit=" MiB" ;; *openssl*) unit=" %" ;; *) unit="x" ;; esac
        printf '%-4s  %-5s  %-52s measured %s\n' "${T_RES[$i]%% *}" "${T_DS[$i]}" "${T_NAME[$i]}" \
            "$([[ ${T_VAL[$i]} == n/a ]] && echo "n/a ${T_RES[$i]#SKIP }" || echo "${T_VAL[$i]}$unit")"
    done
}

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/ }
    s=${s//$'\n'/ }
    s=${s//$'\r'/ }
    printf '"%s"' "$s"
}
json_num() { [[ -z $1 || $1 == n/a ]] && printf 'null' || printf '%s' "$1"; }

write_json() {
    local f=$1 ds tool key first_ds=1 first_t i
    {
        printf '{\n  "meta": {'
        printf '"date": %s, ' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
        printf '"cpu": %s, "nproc": %d, ' "$(json_str "$CPU_MODEL")" "$NPROC"
        printf '"kernel": %s, "runs": %d, "quick": %s, "seed": %d, ' "$(json_str "$(uname -r)")" "$RUNS" \
            "$( ((QUICK)) && echo true || echo false)" "$SEED"
        printf '"scanner": %s, "scanner_version": %s, ' "$(json_str "$SCANNER")" "$(json_str "$TB_VERSION")"
        printf '"openssl_speed_sha256_multi_mb_s": %s},\n' "$(json_num "$OSSL_MBS")"
        printf '  "datasets": {'
        for ds in "${DATASETS[@]}"; do
            ((first_ds)) || printf ','
            first_ds=0
            printf '\n    %s: {"files": %d, "bytes": %d, "xargs_batch": %d, "tools": {' \
                "$(json_str "$ds")" "${DS_FILES[$ds]}" "${DS_BYTES[$ds]}" "${PAR_N[$ds]}"
            first_t=1
            for tool in "${TOOLS[@]}"; do
                key="$ds:$tool"
                ((first_t)) || printf ','
                first_t=0
                printf '\n      %s: {"label": %s, "status": %s' "$(json_str "$tool")" \
                    "$(json_str "$(tool_label "$tool" "$ds")")" "$(json_str "${STATUS[$key]}")"
                if [[ ${STATUS[$key]} == ok ]]; then
                    printf ', "walls_s": [%s]' "${WALLS[$key]// /, }"
                    printf ', "wall_median_s": %s, "mb_per_s": %s, "files_per_s": %s' "${MED[$key]}" \
                        "$(mbps "$ds" "${MED[$key]}")" "$(fps "$ds" "${MED[$key]}")"
                    printf ', "peak_rss_mib": %s, "rss_scope": %s' "$(json_num "$(rss_mib "$key")")" \
                        "$(json_str "$(is_pipeline "$tool" && echo "largest process in pipeline" || echo process)")"
                    printf ', "ratio_peer_over_trustbase": %s' "$(json_num "$(ratio "$ds" "$tool")")"
                    printf ', "warning": %s' "$(json_str "${WARN[$key]:-}")"
                fi
                printf '}'
            done
            printf '}}'
        done
        printf '\n  },\n  "targets": ['
        for i in "${!T_DS[@]}"; do
            ((i == 0)) || printf ','
            printf '\n    {"dataset": %s, "name": %s, "measured": %s, "threshold": %s, "result": %s}' \
                "$(json_str "${T_DS[$i]}")" "$(json_str "${T_NAME[$i]}")" "$(json_num "${T_VAL[$i]}")" \
                "${T_THR[$i]}" "$(json_str "${T_RES[$i]%% *}")"
        done
        printf '\n  ]\n}\n'
    } >"$f"
}

# TSV in long form: dataset, subject, metric, value (one fact per line).
write_tsv() {
    local f=$1 ds tool key i
    {
        printf 'dataset\tsubject\tmetric\tvalue\n'
        printf -- '-\t-\t%s\t%s\n' date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" cpu "$CPU_MODEL" nproc "$NPROC" \
            runs "$RUNS" quick "$QUICK" seed "$SEED" scanner "$SCANNER" scanner_version "${TB_VERSION:--}" \
            openssl_speed_sha256_multi_mb_s "${OSSL_MBS:-n/a}"
        for ds in "${DATASETS[@]}"; do
            printf '%s\t-\t%s\t%s\n' "$ds" files "${DS_FILES[$ds]}" "$ds" bytes "${DS_BYTES[$ds]}" \
                "$ds" xargs_batch "${PAR_N[$ds]}"
            for tool in "${TOOLS[@]}"; do
                key="$ds:$tool"
                printf '%s\t%s\t%s\t%s\n' "$ds" "$tool" status "${STATUS[$key]//$'\t'/ }"
                [[ ${STATUS[$key]} == ok ]] || continue
                printf '%s\t%s\t%s\t%s\n' "$ds" "$tool" walls_s "${WALLS[$key]}" \
                    "$ds" "$tool" wall_median_s "${MED[$key]}" \
                    "$ds" "$tool" mb_per_s "$(mbps "$ds" "${MED[$key]}")" \
                    "$ds" "$tool" files_per_s "$(fps "$ds" "${MED[$key]}")" \
                    "$ds" "$tool" peak_rss_mib "$(rss_mib "$key")" \
                    "$ds" "$tool" ratio_peer_over_trustbase "$(ratio "$ds" "$tool")"
            done
        done
        for i in "${!T_DS[@]}"; do
            printf '%s\ttarget: %s\t%s\t%s\n' "${T_DS[$i]}" "${T_NAME[$i]}" measured "${T_VAL[$i]}" \
                "${T_DS[$i]}" "${T_NAME[$i]}" threshold "${T_THR[$i]}" \
                "${T_DS[$i]}" "${T_NAME[$i]}" result "${T_RES[$i]}"
        done
    } >"$f"
}

# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------
ensure_peers
if [[ -x /usr/bin/time ]]; then HAVE_GNU_TIME=1; else note "GNU time (/usr/bin/time) missing: peak RSS will be n/a"; fi
setup_base

CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
: "${CPU_MODEL:=unknown}"
TB_VERSION=""
[[ -n $(tool_missing trustbase) ]] || TB_VERSION=$(trustbase_version)

echo "== scan_vs_peers: $(date -u +%Y-%m-%dT%H:%M:%SZ) =="
echo "host:     $CPU_MODEL, $NPROC CPUs$(grep -qw sha_ni /proc/cpuinfo 2>/dev/null && echo ', SHA-NI'), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "data dir: $BASE ($(df -PT -- "$BASE" | awk 'NR == 2 { print $2 }'))"
echo "scanner:  $SCANNER${TB_VERSION:+ ($TB_VERSION)}${SCANNER_ARGS[*]:+ extra args: ${SCANNER_ARGS[*]}}"
if [[ -n $(tool_missing trustbase) ]]; then
    echo "scanner:  NOT FOUND -- trustbase-scan is skipped, peers only, no ratios"
    echo "          (build it: cmake --preset release && cmake --build --preset release, or pass --scanner PATH)"
fi
echo "peers:    $(sha256sum --version 2>/dev/null | sed -n 1p || echo 'sha256sum n/a'); $(hashdeep -V 2>/dev/null | sed 's/^/hashdeep /' || echo 'hashdeep n/a'); $(aide --version 2>&1 | sed -n 1p || true); $(b3sum --version 2>/dev/null || echo 'b3sum n/a'); $(openssl version 2>/dev/null | cut -d' ' -f1-2)"
read -r load1 _ </proc/loadavg || load1=0
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a) (1/5/15 min)"
if ge "$load1" "$(calc "$NPROC / 4")"; then
    note "WARNING: the machine is not idle (load $load1 on $NPROC CPUs): timings will be noisy; rerun on an idle machine"
fi
echo "runs:     $RUNS per tool (median), hot cache$( ((QUICK)) && echo ', QUICK sizes (smoke test)')"

for ds in "${DATASETS[@]}"; do
    prepare_dataset "$ds"
done

mem_avail_kb=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo 2>/dev/null || echo 0)
total_bytes=0
for ds in "${DATASETS[@]}"; do total_bytes=$((total_bytes + DS_BYTES[$ds])); done
if ((mem_avail_kb > 0 && total_bytes / 1024 > mem_avail_kb * 7 / 10)); then
    note "WARNING: data ($((total_bytes / 1048576)) MiB) may not stay in the page cache (MemAvailable $((mem_avail_kb / 1024)) MiB): results would not be hot-cache"
fi

for ds in "${DATASETS[@]}"; do
    if [[ $ds == big ]]; then
        note "big: openssl speed -evp sha256 -multi $NPROC -bytes 16384 -seconds $OSSL_SECONDS (hardware ceiling)"
        OSSL_MBS=$(openssl_ceiling)
        [[ -n $OSSL_MBS ]] || note "openssl speed failed: no ceiling"
    fi
    bench_dataset "$ds"
done

for ds in "${DATASETS[@]}"; do
    print_table "$ds"
done
evaluate_targets
print_targets
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a) at the end (1/5/15 min)"

if [[ -n $OUT_FILE ]]; then
    case $OUT_FILE in
        *.json) write_json "$OUT_FILE" ;;
        *) write_tsv "$OUT_FILE" ;;
    esac
    note "results written to $OUT_FILE"
fi

if ((STRICT)); then
    for r in "${T_RES[@]}"; do
        [[ $r != FAIL ]] || exit 1
    done
fi
exit 0
