#!/bin/sh
# Runs a command on a private D-Bus session bus with a fresh, unlocked
# gnome-keyring (password "pass") whose files live in a temporary HOME.
#
#   with-keyring.sh COMMAND [ARGS...]               keyring running
#   with-keyring.sh --no-keyring COMMAND [ARGS...]  a bus with no Secret Service
#
# The bus is configured with only an empty service directory, so nothing is
# D-Bus-activated behind the test's back: no second keyring daemon in the
# --no-keyring case, and no graphical unlock prompter (gcr-prompter) when a
# test locks the keyring. The daemon and the bus go away with the command.
# Exit status: the command's. When a tool is missing it prints a TAP skip
# ("1..0 # SKIP ...") and exits 0, or fails when PB_TEST_REQUIRE_ALL is set
# (CI: nothing may be skipped for want of a package).
set -eu

missing () {
  if [ -n "${PB_TEST_REQUIRE_ALL:-}" ]; then
    echo "with-keyring.sh: $1 is not installed (run tools/install-deps.sh)" >&2
    exit 1
  fi
  echo "1..0 # SKIP $1 is not installed (run tools/install-deps.sh)"
  exit 0
}

mode=keyring
if [ "${1:-}" = "--no-keyring" ]; then
  mode=none
  shift
fi

for tool in dbus-daemon dbus-run-session gdbus; do
  command -v "$tool" >/dev/null 2>&1 || missing "$tool"
done
if [ "$mode" = keyring ]; then
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing gnome-keyring-daemon
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/popbiff-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -m 700 "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/runtime" "$tmp/services"

cat >"$tmp/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$tmp/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
       XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/runtime"
export PB_TEST_KEYRING="$mode" PB_TEST_KEYRING_PASSWORD=pass
# No display: an unlock prompt must fail, never wait for a person.
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL

# Inside the bus: start the daemon in the foreground (so it is our child and
# we can stop it), wait until it owns org.freedesktop.secrets, run the
# command, stop the daemon.
inner='
set -u
daemon=
if [ "$PB_TEST_KEYRING" = keyring ]; then
  printf %s "$PB_TEST_KEYRING_PASSWORD" |
    gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  daemon=$!
  if ! gdbus wait --session --timeout 60 org.freedesktop.secrets; then
    echo "with-keyring.sh: gnome-keyring-daemon did not start within 60 s" >&2
    kill $daemon 2>/dev/null
    exit 1
  fi
fi
status=0
"$@" || status=$?
if [ -n "$daemon" ]; then
  kill $daemon 2>/dev/null || true
  wait $daemon 2>/dev/null || true
fi
exit $status
'
status=0
dbus-run-session --config-file="$tmp/session.conf" -- sh -c "$inner" sh "$@" || status=$?
exit $status
