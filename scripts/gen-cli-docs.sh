#!/usr/bin/env bash
# Generates a program's man page (section 1) and bash completion from its own --help, so the
# help text, the man page and the completion share one source: the CLI11 definitions.
#
#   gen-cli-docs.sh BINARY INCLUDE.h2m OUT.1 OUT.bash
#
# BINARY is run by its base name (PATH set to its directory) so no build path leaks into the
# page. Every subcommand's --help is walked: its options go into the completion, its help
# text into a COMMANDS section of the man page. INCLUDE.h2m holds the hand-written sections
# (DESCRIPTION, EXAMPLES, EXIT STATUS, FILES...; help2man's include format).
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 BINARY INCLUDE.h2m OUT.1 OUT.bash" >&2; exit 2; }
binary=$1 include=$2 out_man=$3 out_completion=$4
name=$(basename "$binary")
export PATH="$(cd "$(dirname "$binary")" && pwd):$PATH"
export COLUMNS=100
# Sanitizer builds: the help output must not be mixed with reports, and leaks at exit do not matter here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Lines of one section ("Options:", "Subcommands:") of a --help text.
section() { awk -v head="$1" '$0 == head {on = 1; next} /^[A-Z][A-Za-z ]*:$/ {on = 0} on' ; }
# Option names (-x, --long) at the start of the entries of an Options section.
option_names() {
  section "Options:" | awk '/^  -/ {split($1, names, ","); for (i in names) {sub(/\{.*/, "", names[i]); print names[i]}}' |
    sort -u
}
subcommand_names() { section "Subcommands:" | awk '/^  [a-z]/ {print $1}'; }

# Depth-first walk of the subcommands: "path|options|subcommands" lines, path words joined by spaces.
walk() {
  local help
  help=$("$name" "$@" --help)
  local opts subs
  opts=$(printf '%s\n' "$help" | option_names | tr '\n' ' ')
  subs=$(printf '%s\n' "$help" | subcommand_names | tr '\n' ' ')
  printf '%s|%s|%s\n' "$*" "${opts% }" "${subs% }" >>"$tmp/tree"
  if [ $# -gt 0 ]; then
    {
      printf '.SS "%s %s"\n.nf\n' "$name" "$*"
      # roff: escape backslashes, keep lines from starting with a control character.
      printf '%s\n' "$help" | tail -n +2 | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\([.']\)/\\\\\&\1/"
      printf '.fi\n'
    } >>"$tmp/commands"
  fi
  local sub
  for sub in $subs; do walk "$@" "$sub"; done
}
: >"$tmp/tree"
: >"$tmp/commands"
walk

# The man page: help2man on the binary, the hand-written include, and the subcommands.
includes=(--include "$include")
if [ -s "$tmp/commands" ]; then
  { printf '[COMMANDS]\nEach command has its own options (\\fB%s\\fR \\fICOMMAND\\fR \\fB--help\\fR):\n' "$name"
    cat "$tmp/commands"; } >"$tmp/commands.h2m"
  includes+=(--include "$tmp/commands.h2m")
fi
help2man --no-info --no-discard-stderr --section 1 "${includes[@]}" --output "$out_man.tmp" "$name"
mv "$out_man.tmp" "$out_man"

# The completion: a table from command path to its options and subcommands.
fn="_$(printf '%s' "$name" | tr -c 'A-Za-z0-9_\n' '_')"
{
  printf '# bash completion for %s, generated from its --help by scripts/gen-cli-docs.sh\n' "$name"
  printf '%s() {\n' "$fn"
  printf '  local cur=${COMP_WORDS[COMP_CWORD]} path="" word i\n'
  printf '  local -A options subcommands\n'
  while IFS='|' read -r path opts subs; do
    printf '  options[%q]=%q\n' "${path:-.}" "$opts"
    printf '  subcommands[%q]=%q\n' "${path:-.}" "$subs"
  done <"$tmp/tree"
  cat <<'EOF'
  # The command path so far: words that name a subcommand of the path before them.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    local key=${path:-.}
    if [[ " ${subcommands[$key]} " == *" $word "* ]]; then path=${path:+$path }$word; fi
  done
  local key=${path:-.}
  local prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --config|--db|-o|--output|--token-file|--enrol-token-file|--spool-dir|--feed|--root|-r|--sysroot|--dir)
      COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${options[$key]}" -- "$cur"))
  elif [[ -n ${subcommands[$key]} ]]; then
    COMPREPLY=($(compgen -W "${subcommands[$key]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null
  fi
}
EOF
  printf 'complete -F %s %s\n' "$fn" "$name"
} >"$out_completion.tmp"
mv "$out_completion.tmp" "$out_completion"
