#!/bin/sh
# Fuzzes the POP3 response reader for SECONDS (default 60) and fails if the
# fuzzer finds a crash, a sanitizer report or a broken invariant.
#
#   tools/fuzz.sh [SECONDS]
#
# Builds fuzz/fuzz-pop3-reader with clang, libFuzzer, ASan and UBSan in
# build-fuzz/ (set up on first use), runs it over a copy of the seed corpus
# in a temporary directory (so the checked-in corpus never changes), and
# leaves any crashing input in build-fuzz/artifacts/ with the command to
# replay it.
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-60}
case $seconds in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

dir=build-fuzz
if [ ! -d "$dir" ]; then
  CC=clang meson setup "$dir" -Dfuzzing=true -Dgui=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
else
  # An existing dir may have been set up without the option.
  meson configure "$dir" -Dfuzzing=true >/dev/null
fi
# Only the fuzz target: nothing else needs to build with clang for this.
meson compile -C "$dir" fuzz/fuzz-pop3-reader >/dev/null

corpus=$(mktemp -d "${TMPDIR:-/tmp}/popbiff-fuzz.XXXXXX")
trap 'rm -rf "$corpus"' EXIT INT TERM
cp fuzz/corpus/pop3-reader/* "$corpus"/
mkdir -p "$dir/artifacts"

echo "fuzzing the POP3 reader for ${seconds}s" >&2
status=0
ASAN_OPTIONS=abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$dir/fuzz/fuzz-pop3-reader" \
    -max_total_time="$seconds" -timeout=10 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$corpus" >"$dir/fuzz.log" 2>&1 || status=$?

if [ "$status" -ne 0 ]; then
  tail -n 40 "$dir/fuzz.log" >&2
  echo "fuzzer failed (exit $status); inputs in $dir/artifacts/," \
       "replay with: $dir/fuzz/fuzz-pop3-reader FILE" >&2
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units)' "$dir/fuzz.log" >&2 || true
