#!/bin/sh
# Runs a command on a private X display (Xvfb) with a private D-Bus session
# bus, so GUI tests never touch the desktop they are started from and can
# run side by side. Xvfb picks a free display itself (-displayfd), so two
# runs never race for a number. A missing tool is a skip (77), a failure in
# CI (PB_TEST_REQUIRE_ALL).
set -eu

for tool in Xvfb dbus-run-session; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "“$tool” is not installed (run tools/install-deps.sh)" >&2
    [ -n "${PB_TEST_REQUIRE_ALL:-}" ] && exit 1
    exit 77
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/pb-xvfb.XXXXXX")
xpid=""
cleanup () {
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

mkfifo "$dir/displayfd"
Xvfb -displayfd 3 -screen 0 "${PB_XVFB_SCREEN:-1280x800x24}" -nolisten tcp \
  3>"$dir/displayfd" 2>"$dir/xvfb.log" &
xpid=$!
# Xvfb writes the display number once it accepts connections; the read
# blocks until then (or fails if Xvfb dies).
if ! read -r number <"$dir/displayfd"; then
  cat "$dir/xvfb.log" >&2
  exit 1
fi
export DISPLAY=":$number"
unset WAYLAND_DISPLAY
export GDK_BACKEND=x11

set +e
dbus-run-session -- "$@"
status=$?
set -e
exit $status
