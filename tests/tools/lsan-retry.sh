#!/bin/sh
# Runs a test under the sanitizer setup and reruns it (at most twice) when
# LeakSanitizer's own tracer crashed ("LeakSanitizer has encountered a fatal
# error", google/sanitizers#1353): that is a sanitizer runtime failure when
# it stops the world of a many-threaded process, not a finding about our
# code. Real leak reports and every other failure are passed through as is.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for attempt in 1 2 3; do
  "$@" >"$out" 2>&1
  status=$?
  if ! grep -q 'LeakSanitizer has encountered a fatal error' "$out"; then
    break
  fi
  echo "# LeakSanitizer's tracer crashed (attempt $attempt); rerunning" >&2
done
cat "$out"
exit $status
