#!/bin/bash
# What an idle mail applet costs: Popbiff next to gnubiff and Mailnag, on
# this machine, in one run. Prints a table and exits 0 (1 when a program
# could not be measured, 2 when something this needs is missing).
#
#   bench/applet-idle.sh [--only popbiff,gnubiff,mailnag] [--messages N]
#                        [--settle SECONDS] [--window SECONDS] [--plain]
#                        [--timeout SECONDS] [--builddir DIR] [--keep]
#
# The setting, the same for all three programs:
# - a private Dovecot (tests/tools/dovecot-env.sh) on 127.0.0.1 with three
#   POP3 users holding N messages between them (default 10,000);
# - a private Xvfb with an XEmbed tray host (trayer);
# - per program its own HOME and XDG dirs, its own session bus (nothing
#   D-Bus-activated: no notification daemon for anyone) and an unlocked
#   gnome-keyring; three accounts, a 10-minute check interval;
# - implicit TLS (POP3S) verified against the test CA; with --plain, USER/PASS
#   in clear on the plain port instead (Mailnag always tries STLS there and
#   upgrades, so it stays on TLS).
# Each program runs twice: once until its first check is over (it learns the
# messages, as a person's applet would have), then again to be measured:
# - startup: process start to the first login and to the end of the first
#   check of all three accounts, read off Dovecot's log (a session's
#   "Login" and "Logged out"), the same yardstick for all three;
# - RSS and PSS from /proc/PID/smaps_rollup after that check and SETTLE s;
# - wakeups: voluntary and involuntary context switches of all its threads
#   over WINDOW s (from /proc/PID/task/*/status, read from outside, so the
#   reading wakes nothing), per minute. No check is due in the window, so the
#   goal is 0.
# Nothing but 127.0.0.1 is contacted. Mailnag's connectivity test would
# look up www.google.com when GIO does not report full connectivity, so it
# runs with GIO's base network monitor, which always does.
# The per-program functions are called by name ("setup_$name").
# shellcheck disable=SC2317
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
self="$here/$(basename "$0")"

say () { printf 'applet-idle: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Inside one program's session bus (the script runs itself as --inner NAME).
# ---------------------------------------------------------------------------

USERS="pbbench1 pbbench2 pbbench3"

# Microseconds, without a fork.
now_us () { local t=$EPOCHREALTIME; echo "${t/./}"; }

log_size () { stat -c %s "$PB_DOVECOT_LOG"; }

# How many of our users logged out (a finished session) in the Dovecot log
# after byte OFFSET.
logouts_since () {
  tail -c +"$(($1 + 1))" "$PB_DOVECOT_LOG" |
    grep -oE 'pop3\(pbbench[123]\)<[^>]*><[^>]*>: Info: Disconnected' |
    sort -u -t'<' -k1,1 | wc -l
}

logins_since () {
  tail -c +"$(($1 + 1))" "$PB_DOVECOT_LOG" | grep -cE 'Login: user=<pbbench[123]>' || true
}

auth_failures_since () {
  tail -c +"$(($1 + 1))" "$PB_DOVECOT_LOG" |
    grep -E 'user=<pbbench[123]>' | grep -ciE 'auth failed|internal failure|temporary' || true
}

# Programs that log their own finished checks (client_pattern, a grep -E
# pattern for their log) are also timed by that: three such lines.
client_pattern=

client_checks () {
  grep -cE "$client_pattern" "$logfile" 2>/dev/null || true
}

# Waits until all three accounts finished a session after OFFSET; prints
# when (microseconds) it first saw one of them logged in, when all three
# were done, and when the program itself had logged three finished checks
# ("-" if it logs none). Fails when the program exits, a login fails or
# TIMEOUT seconds pass.
wait_first_check () {
  local offset=$1 pid=$2 timeout=$3 deadline login='' server='' client=-
  [ -z "$client_pattern" ] || client=
  deadline=$(( $(now_us) + timeout * 1000000 ))
  while :; do
    if [ -z "$login" ] && [ "$(logins_since "$offset")" -gt 0 ]; then
      login=$(now_us)
    fi
    if [ -z "$server" ] && [ "$(logouts_since "$offset")" -ge 3 ]; then
      server=$(now_us)
    fi
    if [ -z "$client" ] && [ "$(client_checks)" -ge 3 ]; then
      client=$(now_us)
    fi
    if [ -n "$server" ] && [ -n "$client" ]; then
      echo "${login:-$server} $server $client"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited before its first check finished (see $logfile)"
      return 1
    fi
    if [ "$(auth_failures_since "$offset")" -gt 0 ]; then
      say "$name: the server rejected a login (see $PB_DOVECOT_LOG)"
      return 1
    fi
    if [ "$(now_us)" -gt "$deadline" ]; then
      say "$name: no finished check within $timeout s (see $logfile)"
      return 1
    fi
    sleep 0.02
  done
}

# Context switches of one thread (its status file).
thread_switches () {
  local key value sum=0
  while read -r key value _; do
    case $key in
      voluntary_ctxt_switches:|nonvoluntary_ctxt_switches:) sum=$((sum + value)) ;;
    esac
  done <"$1" 2>/dev/null || true
  echo "$sum"
}

# Counts the context switches of all threads of PID over SECONDS, reading
# every 5 s so that threads which end in between still count up to their
# last reading. Prints the total; per-thread counts go to $details.
count_wakeups () {
  local pid=$1 seconds=$2 end tid f n total=0
  local -A first=() last=() comm=()
  local initial=1
  end=$(( $(now_us) + seconds * 1000000 ))
  while :; do
    for f in /proc/"$pid"/task/*/status; do
      tid=${f#/proc/"$pid"/task/}
      tid=${tid%/status}
      n=$(thread_switches "$f")
      [ "$n" -gt 0 ] || continue
      if [ -z "${first[$tid]+x}" ]; then
        # A thread born during the window counts from zero.
        if [ $initial = 1 ]; then first[$tid]=$n; else first[$tid]=0; fi
        comm[$tid]=$(cat /proc/"$pid"/task/"$tid"/comm 2>/dev/null || echo '?')
      fi
      last[$tid]=$n
    done
    initial=0
    [ "$(now_us)" -lt "$end" ] || break
    local left=$(( (end - $(now_us)) / 1000000 ))
    if [ "$left" -gt 5 ]; then sleep 5; else sleep "$((left > 0 ? left : 0)).5"; fi
    kill -0 "$pid" 2>/dev/null || break
  done
  for tid in "${!last[@]}"; do
    n=$(( last[$tid] - first[$tid] ))
    total=$((total + n))
    [ "$n" -eq 0 ] || printf '%s\t%s (%s)\t%s\n' "$name" "${comm[$tid]}" "$tid" "$n" >>"$details"
  done
  echo "$total"
}

# RSS and PSS in kB from smaps_rollup.
memory_kb () {
  awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {print r, p}' /proc/"$1"/smaps_rollup
}

password_of () { awk -v u="$1" '$1 == u {print $2}' "$BENCH_WORK/passwords"; }

server_port () {
  if [ "$BENCH_SECURITY" = tls ]; then echo "$PB_DOVECOT_TLS_PORT"; else echo "$PB_DOVECOT_PORT"; fi
}

# --- Popbiff -------------------------------------------------------------
setup_popbiff () {
  local u i=0 security=tls
  [ "$BENCH_SECURITY" = tls ] || security=none
  for u in $USERS; do
    i=$((i + 1))
    set -- accounts add "bench$i" --host 127.0.0.1 --port "$(server_port)" \
      --security "$security" --user "$u" --interval 10 --password-stdin
    [ "$security" = none ] || set -- "$@" --ca-file "$PB_DOVECOT_CA_FILE"
    password_of "$u" | "$BENCH_BUILDDIR/src/popbiff" "$@" >>"$setup_log" 2>&1 || {
      say "popbiff accounts add failed (see $setup_log)"
      return 1
    }
  done
}

# The scheduler logs each finished check at debug level.
popbiff_client_pattern='popbiff-core-DEBUG: [0-9:.]+: Check of account bench[123] finished'

launch_popbiff () {
  GSETTINGS_SCHEMA_DIR="$BENCH_BUILDDIR/data" G_MESSAGES_DEBUG=popbiff-core \
    exec "$BENCH_BUILDDIR/src/popbiff" --background
}

# --- gnubiff -------------------------------------------------------------
# gnubiff keeps passwords in ~/.gnubiffrc, AES-128 encrypted (ECB, zero
# padded) under a pass phrase built into the binary: Debian builds it with
# --with-password, so the phrase is the default "FEDCBA9876543210" twice.
# Passwords up to 15 characters fit one block, whose key is the phrase's
# first 16 characters.
gnubiff_password_aes () {
  local pw=$1
  [ "${#pw}" -le 15 ] || { say "gnubiff_password_aes: password too long"; return 1; }
  { printf '%s' "$pw"; head -c $((16 - ${#pw})) /dev/zero; } |
    openssl enc -aes-128-ecb -nopad -K 46454443424139383736353433323130 |
    od -An -tx1 | tr -d ' \n' | tr a-f A-F
}

setup_gnubiff () {
  local u i=0 auth=certificate cert="$PB_DOVECOT_CA_FILE" rc="$HOME/.gnubiffrc"
  [ "$BENCH_SECURITY" = tls ] || { auth=user_pass; cert=; }
  {
    echo '<?xml version="1.0"?>'
    echo '<configuration-file>'
    for u in $USERS; do
      i=$((i + 1))
      cat <<EOF
  <mailbox>
    <parameter name="name" value="bench$i"/>
    <parameter name="protocol" value="pop3"/>
    <parameter name="address" value="127.0.0.1"/>
    <parameter name="use_other_port" value="true"/>
    <parameter name="other_port" value="$(server_port)"/>
    <parameter name="authentication" value="$auth"/>
    <parameter name="certificate" value="$cert"/>
    <parameter name="username" value="$u"/>
    <parameter name="password_aes" value="$(gnubiff_password_aes "$(password_of "$u")")"/>
    <parameter name="delay" value="600"/>
  </mailbox>
EOF
    done
    # No sound (the default command plays coin.wav with sox's play): the
    # others make none either.
    cat <<EOF
  <general>
    <parameter name="use_newmail_command" value="false"/>
  </general>
  <information>
    <parameter name="version" value="$(gnubiff --version 2>/dev/null | awk '{print $3}')"/>
  </information>
</configuration-file>
EOF
  } >"$rc"
  chmod 600 "$rc"
}

launch_gnubiff () {
  exec gnubiff --noconfigure --systemtray
}

# --- Mailnag -------------------------------------------------------------
# Configured through Mailnag's own classes, as mailnag-config would: the
# accounts in ~/.config/mailnag/mailnag.cfg, the passwords in the keyring.
setup_mailnag () {
  local ssl=1 u i=0
  [ "$BENCH_SECURITY" = tls ] || ssl=0
  for u in $USERS; do
    i=$((i + 1))
    printf 'bench%s %s %s\n' "$i" "$u" "$(password_of "$u")"
  done | /usr/bin/python3 -c '
import sys
from Mailnag.common.config import read_cfg, write_cfg
from Mailnag.common.accounts import Account, AccountManager
port, ssl = sys.argv[1], sys.argv[2] == "1"
cfg = read_cfg()
cfg.set("core", "poll_interval", "10")
# No sound plugin: the others play none. Notifications stay on.
cfg.set("core", "enabled_plugins", "libnotifyplugin")
cfg.set("core", "autostart", "0")
manager = AccountManager()
if manager._secretstore is None:
    sys.exit("Mailnag found no keyring")
for line in sys.stdin:
    name, user, password = line.split()
    manager.add(Account(mailbox_type="pop3", enabled=True, name=name,
                        user=user, password=password, server="127.0.0.1",
                        port=port, ssl=ssl, imap=False, idle=False))
manager.save_to_cfg(cfg)
write_cfg(cfg)
' "$(server_port)" "$ssl" >>"$setup_log" 2>&1 || {
    say "configuring Mailnag failed (see $setup_log)"
    return 1
  }
}

launch_mailnag () {
  # The test CA for its TLS (Python reads SSL_CERT_FILE); GIO's base network
  # monitor so its connectivity test never looks up an outside host.
  SSL_CERT_FILE="$PB_DOVECOT_CA_FILE" GIO_USE_NETWORK_MONITOR=base \
    exec /usr/bin/mailnag
}

# --- one run ---------------------------------------------------------------
prog_pid=

start_program () {
  logfile="$BENCH_WORK/$name/$1.log"
  ( "launch_$name" ) >"$logfile" 2>&1 &
  prog_pid=$!
}

stop_program () {
  local i
  [ -n "$prog_pid" ] || return 0
  kill -TERM "$prog_pid" 2>/dev/null || true
  for i in $(seq 100); do
    kill -0 "$prog_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$prog_pid" 2>/dev/null || true
  wait "$prog_pid" 2>/dev/null || true
  prog_pid=
}

inner () {
  name=$1
  details="$BENCH_WORK/details.tsv"
  setup_log="$BENCH_WORK/$name/setup.log"
  logfile=$setup_log
  local keyring_pid offset t0 times login_ms done_ms client_ms=- rss pss wakeups mem
  local -a at

  trap 'stop_program; [ -z "${keyring_pid:-}" ] || kill "$keyring_pid" 2>/dev/null || true' EXIT
  trap 'exit 1' INT TERM

  printf %s "$BENCH_KEYRING_PASSWORD" |
    gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  keyring_pid=$!
  gdbus wait --session --timeout 60 org.freedesktop.secrets || {
    say "$name: gnome-keyring-daemon did not start"
    return 1
  }

  "setup_$name" || return 1
  case $name in popbiff) client_pattern=$popbiff_client_pattern ;; esac

  # First run: the program learns the messages.
  offset=$(log_size)
  start_program prime
  wait_first_check "$offset" "$prog_pid" "$BENCH_TIMEOUT" >/dev/null || return 1
  sleep 2
  stop_program

  # Second run: measured.
  offset=$(log_size)
  t0=$(now_us)
  start_program measure
  times=$(wait_first_check "$offset" "$prog_pid" "$BENCH_TIMEOUT") || return 1
  read -r -a at <<<"$times"
  login_ms=$(( (at[0] - t0) / 1000 ))
  done_ms=$(( (at[1] - t0) / 1000 ))
  [ "${at[2]}" = - ] || client_ms=$(( (at[2] - t0) / 1000 ))
  sleep "$BENCH_SETTLE"
  kill -0 "$prog_pid" 2>/dev/null || { say "$name exited while idle (see $logfile)"; return 1; }
  wakeups=$(count_wakeups "$prog_pid" "$BENCH_WINDOW")
  kill -0 "$prog_pid" 2>/dev/null || { say "$name exited while idle (see $logfile)"; return 1; }
  mem=$(memory_kb "$prog_pid")
  # Where the memory is, for reading with --keep.
  cp /proc/"$prog_pid"/smaps "$BENCH_WORK/$name/smaps" 2>/dev/null || true
  rss=${mem% *}
  pss=${mem#* }
  stop_program
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rss" "$pss" \
    "$(awk -v w="$wakeups" -v s="$BENCH_WINDOW" 'BEGIN {printf "%.1f", w * 60 / s}')" \
    "$login_ms" "$done_ms" "$client_ms" >>"$BENCH_WORK/results.tsv"
}

if [ "${1:-}" = "--inner" ]; then
  inner "$2"
  exit $?
fi

# ---------------------------------------------------------------------------
# Outside: the server, the display, one session per program, the table.
# ---------------------------------------------------------------------------

usage () {
  sed -n '2,8s/^# \{0,1\}//p' "$self" >&2
  exit 2
}

programs="popbiff gnubiff mailnag"
messages=10000
settle=10
window=60
security=tls
builddir=${PB_BUILDDIR:-$top/build}
keep=0
timeout=300
while [ $# -gt 0 ]; do
  case $1 in
    --only) programs=$(echo "$2" | tr ',' ' '); shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --plain) security=plain; shift ;;
    --builddir) builddir=$(cd "$2" && pwd); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done
case "$messages$settle$window$timeout" in *[!0-9]*) usage ;; esac
[ "$window" -ge 10 ] || { say "--window must be at least 10 seconds"; exit 2; }

missing=""
for tool in Xvfb trayer dbus-run-session gdbus gnome-keyring-daemon openssl awk; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
for p in $programs; do
  case $p in
    popbiff) [ -x "$builddir/src/popbiff" ] || missing="$missing $builddir/src/popbiff(meson compile)" ;;
    gnubiff) command -v gnubiff >/dev/null 2>&1 || missing="$missing gnubiff" ;;
    mailnag) [ -x /usr/bin/mailnag ] || missing="$missing mailnag" ;;
    *) say "unknown program: $p"; exit 2 ;;
  esac
done
[ -x "$builddir/tests/tools/pb-dovecot-env" ] || missing="$missing $builddir/tests/tools/pb-dovecot-env(meson compile)"
if [ -n "$missing" ]; then
  say "missing:$missing (run tools/install-deps.sh and build first)"
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pb-applet-idle-XXXXXX")
# Dovecot's unprivileged processes read the server's files below it.
chmod 755 "$work"
xvfb_pid=
tray_pid=
session_pid=
dovecot_started=0
cleanup () {
  local status=$?
  [ -z "$session_pid" ] || kill -TERM -- "-$session_pid" 2>/dev/null || true
  [ -z "$tray_pid" ] || kill "$tray_pid" 2>/dev/null || true
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  [ "$keep" = 0 ] || cp "$work/dovecot/dovecot.log" "$work/" 2>/dev/null || true
  [ "$dovecot_started" = 0 ] ||
    PB_BUILDDIR="$builddir" "$top/tests/tools/dovecot-env.sh" stop "$work/dovecot" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server: three users, the messages spread over them.
say "starting Dovecot with $messages messages"
eval "$(PB_BUILDDIR="$builddir" "$top/tests/tools/dovecot-env.sh" start --dir "$work/dovecot")"
dovecot_started=1
export PB_DOVECOT_DIR PB_DOVECOT_LOG PB_DOVECOT_PORT PB_DOVECOT_TLS_PORT PB_DOVECOT_CA_FILE
(umask 077 && : >"$work/passwords")
i=0
for u in $USERS; do
  i=$((i + 1))
  # 12 characters: gnubiff's encrypted form holds up to 15 in one block.
  pw=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s %s\n' "$u" "$pw" >>"$work/passwords"
  printf '%s\n' "$pw" | PB_BUILDDIR="$builddir" "$top/tests/tools/dovecot-env.sh" add-user "$u"
  n=$((messages / 3 + (i <= messages % 3 ? 1 : 0)))
  [ "$n" -eq 0 ] || PB_BUILDDIR="$builddir" "$top/tests/tools/dovecot-env.sh" fill "$n" 2048 --user "$u"
done

# The display and a tray host.
Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for i in $(seq 100); do
  [ -s "$work/display" ] && break
  sleep 0.1
done
[ -s "$work/display" ] || { say "Xvfb did not start (see $work/xvfb.log)"; exit 1; }
DISPLAY=":$(head -n1 "$work/display")"
export DISPLAY
trayer --edge top --align right --widthtype request --height 24 >"$work/trayer.log" 2>&1 &
tray_pid=$!

# A session bus that activates nothing.
session_bus_config () {
  cat <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=$1</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$1/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
}

: >"$work/results.tsv"
: >"$work/details.tsv"
failed=""
for p in $programs; do
  say "measuring $p (about $((settle + window + 30)) s)"
  d="$work/$p"
  mkdir -p "$d/home" "$d/data" "$d/config" "$d/cache" "$d/state" "$d/runtime" "$d/services"
  chmod 700 "$d/runtime"
  session_bus_config "$d" >"$d/session.conf"
  status=0
  HOME="$d/home" XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/config" \
    XDG_CACHE_HOME="$d/cache" XDG_STATE_HOME="$d/state" XDG_RUNTIME_DIR="$d/runtime" \
    BENCH_WORK="$work" BENCH_BUILDDIR="$builddir" BENCH_SECURITY="$security" \
    BENCH_SETTLE="$settle" BENCH_WINDOW="$window" BENCH_TIMEOUT="$timeout" BENCH_KEYRING_PASSWORD=bench \
    setsid dbus-run-session --config-file="$d/session.conf" -- bash "$self" --inner "$p" &
  session_pid=$!
  wait "$session_pid" || status=$?
  session_pid=
  if [ "$status" -ne 0 ] || ! grep -q "^$p	" "$work/results.tsv"; then
    failed="$failed $p"
    keep=1
  fi
done

# The table.
if [ "$security" = tls ]; then how="POP3S (implicit TLS, test CA)"; else how="plain POP3 (USER/PASS in clear)"; fi
printf '\nIdle applets: 3 POP3 accounts, %s messages, %s on 127.0.0.1\n' "$messages" "$how"
printf 'idle = %s s after the first check, counted over %s s; %s\n\n' "$settle" "$window" "$(nproc) cores, $(uname -r)"
row () { printf '%-9s %8s %8s %12s %12s %12s\n' "$@"; }
row program "RSS MiB" "PSS MiB" wakeups/min "1st login s" "1st check s"
client_notes=
for p in $programs; do
  line=$(grep "^$p	" "$work/results.tsv" || true)
  if [ -z "$line" ]; then
    row "$p" - - - - failed
    continue
  fi
  IFS='	' read -r _ rss pss wake login finished client <<<"$line"
  row "$p" \
    "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" \
    "$(awk -v k="$pss" 'BEGIN {printf "%.1f", k / 1024}')" "$wake" \
    "$(awk -v m="$login" 'BEGIN {printf "%.2f", m / 1000}')" \
    "$(awk -v m="$finished" 'BEGIN {printf "%.2f", m / 1000}')"
  [ "$client" = - ] ||
    client_notes="${client_notes}$p: its own log said all three checks finished at $(awk -v m="$client" 'BEGIN {printf "%.2f", m / 1000}') s.
"
done
if [ -s "$work/details.tsv" ]; then
  printf '\nthreads that woke in the window (program, thread, switches):\n'
  sort -t'	' -k1,1 -k3,3nr "$work/details.tsv" | sed 's/^/  /'
fi
printf '\n1st login = process start to the first of its logins in Dovecot'"'"'s log;\n'
printf '1st check = process start to Dovecot logging the end of all three sessions.\n'
printf '%s' "$client_notes"
printf 'gnubiff: its defaults but no sound; it reads at most 100 messages per mailbox (max_mail).\n'
printf 'Mailnag: notifications plugin only (no sound); GIO base network monitor.\n'
if [ -n "$failed" ]; then
  say "could not measure:$failed; logs kept in $work"
  exit 1
fi
exit 0
