#!/bin/sh
# The JSON shapes of "list --json" and "fetch --json" show in the rendered
# man page as DESIGN.md writes them (a quote that starts a groff argument
# is eaten unless written \(dq).
set -u
if ! command -v groff >/dev/null 2>&1; then
  echo "groff is not installed (run tools/install-deps.sh)" >&2
  [ -n "${PB_TEST_REQUIRE_ALL:-}" ] && exit 1
  exit 77
fi
text=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -P-cbou -rLL=200n "$1" 2>/dev/null | tr -s ' \n' '  ')
status=0
for shape in '{"uidl", "size", "from", "subject", "date"}' '{"uidl", "ok", "path", "error"}'; do
  case $text in
    *"$shape"*) ;;
    *) echo "the man page does not show $shape" >&2; status=1 ;;
  esac
done
exit $status
