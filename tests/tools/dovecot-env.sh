#!/bin/sh
# A private Dovecot on free 127.0.0.1 ports, the same the tests use, for
# trying Popbiff by hand and for bench/. Needs a build (meson setup build).
#
#   eval "$(tests/tools/dovecot-env.sh start [--fill N] [--size OCTETS])"
#       starts one in a new temporary directory and prints PB_DOVECOT_*
#       variables: _DIR _HOST _PORT (plain, STLS offered) _TLS_PORT
#       (implicit TLS) _CA_FILE _USER _PASSWORD _MAILDIR _LOG _PID
#       --processes high-performance: Dovecot's documented shape for busy
#       servers instead of its defaults (bench/README.md says why)
#   tests/tools/dovecot-env.sh start --dir DIR ...    in DIR instead
#   tests/tools/dovecot-env.sh fill N [OCTETS]        N generated messages
#   tests/tools/dovecot-env.sh deliver FILE...        these messages
#   tests/tools/dovecot-env.sh add-user USER          password on stdin
#   tests/tools/dovecot-env.sh stop                   stop it, remove DIR
#
# Commands after start use $PB_DOVECOT_DIR. Example:
#   eval "$(tests/tools/dovecot-env.sh start --fill 20)"
#   printf '%s\n' "$PB_DOVECOT_PASSWORD" | build/popbiff probe "$PB_DOVECOT_HOST" \
#       --port "$PB_DOVECOT_TLS_PORT" --ca-file "$PB_DOVECOT_CA_FILE" \
#       --user "$PB_DOVECOT_USER" --password-stdin
#   tests/tools/dovecot-env.sh stop
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${PB_BUILDDIR:-$top/build}
tool=$builddir/tests/tools/pb-dovecot-env

if [ ! -x "$tool" ]; then
  echo "dovecot-env.sh: $tool is missing; build first: meson setup build && meson compile -C build" >&2
  exit 2
fi

command=${1:-}
[ $# -gt 0 ] && shift

case "$command" in
  start)
    dir=""
    if [ "${1:-}" = "--dir" ]; then
      dir=$2
      shift 2
    fi
    [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/pb-dovecot-env-XXXXXX")
    out=$("$tool" start "$dir" "$@") || { rm -rf "$dir"; exit 1; }
    printf '%s\n' "$out" | sed 's/^/export /'
    ;;
  stop)
    dir=${1:-${PB_DOVECOT_DIR:-}}
    [ -n "$dir" ] || { echo "dovecot-env.sh: no DIR and no \$PB_DOVECOT_DIR" >&2; exit 2; }
    "$tool" stop "$dir"
    # Only remove what a start made: it has our env.sh and config.
    if [ -f "$dir/env.sh" ] && grep -q '^# Written by tests/lib/pb-test-dovecot.c' "$dir/dovecot.conf" 2>/dev/null; then
      rm -rf "$dir"
    fi
    ;;
  fill|deliver|add-user)
    dir=${PB_DOVECOT_DIR:-}
    [ -n "$dir" ] || { echo "dovecot-env.sh: \$PB_DOVECOT_DIR is not set (eval the output of start)" >&2; exit 2; }
    exec "$tool" "$command" "$dir" "$@"
    ;;
  *)
    sed -n '2,24s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
