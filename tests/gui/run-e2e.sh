#!/bin/sh
# The end-to-end test's environment: a private X display and session bus
# (run-under-xvfb.sh), inside them a bus with an unlocked gnome-keyring
# (tests/tools/with-keyring.sh, which hides the display, so it is passed
# on by another name), the applet's schema, and /usr/bin/python3 (the
# system one: that is where dogtail and PyGObject are).
#   run-e2e.sh SRCDIR BUILDDIR
set -eu
src=$1
build=$2
for tool in /usr/bin/python3 trayer xwininfo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool is not installed"
    [ -n "${PB_TEST_REQUIRE_ALL:-}" ] && exit 1
    exit 0
  fi
done
if ! /usr/bin/python3 -c 'import dogtail' 2>/dev/null; then
  echo "1..0 # SKIP python3-dogtail is not installed"
  [ -n "${PB_TEST_REQUIRE_ALL:-}" ] && exit 1
  exit 0
fi
export PB_BUILDDIR="$build"
export PB_E2E_DOVECOT_ENV="$src/tests/tools/dovecot-env.sh"
unset GSETTINGS_BACKEND
exec "$src/tests/gui/run-under-xvfb.sh" sh -c '
  export PB_E2E_DISPLAY="$DISPLAY"
  state=$(mktemp -d "${TMPDIR:-/tmp}/pb-e2e-state.XXXXXX")
  trap "rm -rf \"$state\"" EXIT
  export XDG_STATE_HOME="$state"
  "$1/tests/tools/with-keyring.sh" /usr/bin/python3 "$1/tests/gui/test-e2e.py"
' sh "$src"
