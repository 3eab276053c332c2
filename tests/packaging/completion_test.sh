#!/usr/bin/env bash
# The bash completion and man page generated for a program list every option and subcommand
# its --help lists (walked through every subcommand), and the completion completes them.
#   completion_test.sh BINARY COMPLETION_SCRIPT MAN_PAGE
set -euo pipefail
binary=$1 completion=$2 manpage=$3
name=$(basename "$binary")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

[ -s "$completion" ] || { echo "FAIL: no completion script $completion" >&2; exit 1; }
[ -s "$manpage" ] || { echo "FAIL: no man page $manpage" >&2; exit 1; }
bash -n "$completion" || fail "the completion script is not valid bash"

# shellcheck disable=SC1090
source "$completion"
fn=$(complete -p "$name" | sed -E 's/.*-F ([^ ]+) .*/\1/')
completion_text=$(<"$completion")
man_text=$(<"$manpage")
offers() {  # offers WORD... EXPECTED: whether completing the last WORD offers EXPECTED
  local expected=${*: -1} c
  COMP_WORDS=("${@:1:$#-1}"); COMP_CWORD=$(($# - 2)); COMPREPLY=()
  "$fn" "$name" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null || true
  for c in "${COMPREPLY[@]}"; do [ "$c" = "$expected" ] && return 0; done
  return 1
}

checked=0
check_command() {  # the words of a command path
  local help opts subs o s
  help=$("$binary" "$@" --help)
  opts=$(printf '%s\n' "$help" | awk '/^Options:$/ {on=1; next} /^[A-Z][A-Za-z ]*:$/ {on=0}
    on && /^  -/ {split($1, n, ","); for (i in n) {sub(/\{.*/, "", n[i]); print n[i]}}')
  subs=$(printf '%s\n' "$help" | awk '/^Subcommands:$/ {on=1; next} /^[A-Z][A-Za-z ]*:$/ {on=0} on && /^  [a-z]/ {print $1}')
  for o in $opts; do
    checked=$((checked + 1))
    [[ $completion_text == *"$o"* ]] || fail "$name $*: $o is not in the completion script"
    offers "$name" "$@" "$o" "$o" || fail "$name $* $o<TAB> does not offer $o"
    # The man page lists it too (roff writes - as \-).
    [[ $man_text == *"${o//-/\\-}"* ]] || fail "$name $*: $o is not in the man page"
  done
  for s in $subs; do
    offers "$name" "$@" "${s:0:2}" "$s" || fail "$name $* ${s:0:2}<TAB> does not offer $s"
    check_command "$@" "$s"
  done
}
check_command
[ "$checked" -gt 5 ] || fail "only $checked options found in --help: the parser is broken"
echo "$name: $checked options checked in the completion and the man page"
[ "$failures" -eq 0 ]
