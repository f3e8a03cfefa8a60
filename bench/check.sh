#!/bin/sh
# `popbiff check` against its peer, on one Dovecot mailbox of 10,000
# messages (about 60 MiB), over implicit TLS on 127.0.0.1, in one run:
#
#   nothing new:         popbiff check (state up to date)  vs  mpop -s (its
#                        UIDL file up to date too), twice: like for like
#                        (SCRAM-SHA-256, the mechanism popbiff's "auto"
#                        picks here, and the password from the keyring),
#                        and as mpop's own defaults choose (PLAIN, the
#                        password from a command)
#   first check:         popbiff check with no state (10,000 new, headers of
#                        the newest fetched, one summary notification)
#   20 accounts vs 1:    popbiff check of 20 accounts on that mailbox at once
#                        vs one of them
#   state load + diff:   bench-state, 100,000 UIDLs (time and memory)
#
# Goals (issue 3): nothing new no slower than `mpop -s`; first check under
# 3 s; 20 accounts under 2x one; load + diff under 50 ms.
#
#   bench/check.sh [MESSAGES [AVERAGE_OCTETS]]           default 10000 6144
#   PB_BENCH_RUNS=N  hyperfine runs per command (default 10)
#   PB_BENCH_DOVECOT=default  Dovecot's default process shape instead of
#                    the high-performance one (bench/README.md)
#
# Runs under tests/tools/with-keyring.sh: a private session bus, an unlocked
# gnome-keyring and a temporary HOME hold the accounts and their passwords.
set -eu
. "$(dirname "$0")/lib.sh"

if [ -z "${PB_BENCH_IN_KEYRING:-}" ]; then
  bench_need dbus-run-session gnome-keyring-daemon
  PB_BENCH_IN_KEYRING=1 PB_BUILDDIR=$build exec "$top/tests/tools/with-keyring.sh" "$0" "$@"
fi

count=${1:-10000}
size=${2:-6144}

bench_need hyperfine mpop python3
bench_need_built src/popbiff bench/bench-state bench/minimal-pop3 tests/tools/pb-dovecot-env
bench_start_dovecot "$count" "$size"

popbiff=$build/src/popbiff
state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/popbiff
bench_mpoprc "$results/mpoprc" "$results/mpop-maildir" "$results/mpop-uidls"
# Like for like: the same mechanism as popbiff and the password from the
# same keyring (mpop looks it up by host, service and user).
sed -e '/^passwordeval/d' -e 's/^auth on$/auth scram-sha-256/' \
  "$results/mpoprc" > "$results/mpoprc-keyring"
chmod 600 "$results/mpoprc-keyring"
printf '%s' "$PB_PASSWORD" |
  secret-tool store --label=mpop host 127.0.0.1 service pop3 user "$PB_DOVECOT_USER"

add_account () {
  printf '%s\n' "$PB_PASSWORD" |
    "$popbiff" accounts add "$1" --host 127.0.0.1 --port "$PB_DOVECOT_TLS_PORT" \
      --security tls --user "$PB_DOVECOT_USER" --ca-file "$PB_DOVECOT_CA_FILE" \
      --password-stdin >/dev/null
}

add_account bench
many=""
for i in $(seq 1 20); do
  add_account "bench$i"
  many="$many bench$i"
done

# A check fetches at most 200 messages' headers (newest first), so the first
# checks of a big mailbox keep summarizing. "Nothing new" means a state that
# knows every message: check until a check leaves the state file unchanged
# (for 10,000 messages about 50 checks).
settle () {
  for _ in $(seq 1 100); do
    before=$(cat "$state_dir"/*.state 2>/dev/null | cksum)
    # shellcheck disable=SC2086
    "$popbiff" check "$@" >/dev/null
    after=$(cat "$state_dir"/*.state | cksum)
    [ "$before" = "$after" ] && return 0
  done
  echo "$0: the state still changes after 100 checks" >&2
}

# Dovecot indexes the new mailbox at its first login. "Nothing new" for
# mpop means a UIDL file that knows every message, as after it downloaded
# them (keep on: nothing is deleted); an empty one would spare it reading
# 10,000 UIDLs that popbiff's state has to read.
mpop -C "$results/mpoprc" -q bench
mpop -C "$results/mpoprc-keyring" -s bench
"$popbiff" check --json bench
echo "Checking until every account's state is complete…" >&2
settle bench
# The other 20 accounts read the same mailbox: they start from bench's
# complete state (a state file does not name its account) instead of 50
# rounds of their own, and are checked until nothing changes, which is one
# round when the copies are right.
for i in $(seq 1 20); do
  cp "$state_dir/bench.state" "$state_dir/bench$i.state"
done
# shellcheck disable=SC2086
settle bench $many

echo "== nothing new ($runs runs)" >&2
bench_hyperfine "$results/idle.json" \
  -n "popbiff check, nothing new" "$popbiff check bench" \
  -n "mpop -s, SCRAM + keyring" "mpop -C $results/mpoprc-keyring -q -s bench" \
  -n "mpop -s, PLAIN + command" "mpop -C $results/mpoprc -q -s bench"

echo "== first check, no state ($runs runs)" >&2
bench_hyperfine "$results/first.json" \
  --prepare "rm -f $state_dir/bench.state" \
  -n "popbiff check, first (no state)" "$popbiff check bench"

# The yardstick for 20-at-once: the same server work driven by the minimal
# client, so the table shows how much of the cost is Dovecot's on this box.
minimal="$build/bench/minimal-pop3 $PB_DOVECOT_TLS_PORT stat-uidl $PB_DOVECOT_CA_FILE"
cat > "$results/minimal-20.sh" <<SH
for i in \$(seq 1 20); do $minimal >/dev/null & done
wait
SH

echo "== 20 accounts at once vs one ($runs runs)" >&2
bench_hyperfine "$results/many.json" \
  -n "popbiff check, 1 account" "$popbiff check bench1" \
  -n "popbiff check, 20 accounts" "$popbiff check$many" \
  -n "minimal stat+uidl, 1" "$minimal" \
  -n "minimal stat+uidl, 20 at once" "sh $results/minimal-20.sh"

echo "== peak RSS" >&2
bench_rss "popbiff check, nothing new" "$popbiff check bench"
bench_rss "mpop -s, SCRAM + keyring" "mpop -C $results/mpoprc-keyring -q -s bench"
bench_rss "popbiff check, first (no state)" "rm -f $state_dir/bench.state; $popbiff check bench"
bench_rss "popbiff check, 20 accounts" "$popbiff check$many"

# Where the time of 20 at once goes: the CPU each side spends in one run
# (the client's from /usr/bin/time, Dovecot's from its processes). Divided
# by the processors, their sum is the least time the run can take here,
# however the sessions overlap.
: > "$results/cpu.tsv"
cpu_of () {
  before=$(python3 "$top/bench/dovecot-cpu.py" "$PB_DOVECOT_PID")
  /usr/bin/time -f '%U %S' -o "$results/cpu.one" sh -c "$2" >/dev/null
  sleep 0.5  # the last sessions' logouts
  after=$(python3 "$top/bench/dovecot-cpu.py" "$PB_DOVECOT_PID")
  client=$(awk 'END { printf "%d", ($1 + $2) * 1000 }' "$results/cpu.one")
  printf '%s\t%s\t%s\n' "$1" "$client" "$((after - before))" >> "$results/cpu.tsv"
}
echo "== CPU time, one run each" >&2
cpu_of "popbiff check, 1 account" "$popbiff check bench1"
cpu_of "popbiff check, 20 accounts" "$popbiff check$many"
cpu_of "minimal stat+uidl, 1" "$minimal"
cpu_of "minimal stat+uidl, 20 at once" "sh $results/minimal-20.sh"

octets=$(du -sb "$PB_DOVECOT_MAILDIR" | cut -f1)
python3 "$top/bench/summarize.py" \
  "popbiff check: $count messages, $((octets / 1048576)) MiB in the Maildir, Dovecot ($dovecot_processes processes) on 127.0.0.1, implicit TLS" \
  "$results/rss.tsv" "$results/idle.json" "$results/first.json" "$results/many.json" -- \
  "nothing new: popbiff / mpop -s like for like=popbiff check, nothing new/mpop -s, SCRAM + keyring<=1.0" \
  "nothing new: popbiff / mpop -s PLAIN + command=popbiff check, nothing new/mpop -s, PLAIN + command<=1.0" \
  "20 accounts / 1=popbiff check, 20 accounts/popbiff check, 1 account<=2.0" \
  "the server's share: minimal 20 / 1=minimal stat+uidl, 20 at once/minimal stat+uidl, 1"
echo
awk -F '\t' -v cpus="$(nproc)" '
  BEGIN { printf "%-32s %10s %10s %14s\n", "CPU time, one run", "client", "Dovecot", "(sum) / " cpus " CPUs" }
  { printf "%-32s %7d ms %7d ms %11d ms\n", $1, $2, $3, ($2 + $3) / cpus }' "$results/cpu.tsv"
python3 - "$results/first.json" <<'PY'
import json, sys
mean = json.load(open(sys.argv[1]))["results"][0]["mean"]
print(f"first check: {mean:.2f} s  goal < 3 s: {'met' if mean < 3 else 'MISSED'}")
PY
echo
"$build/bench/bench-state" 100000
