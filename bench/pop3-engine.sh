#!/bin/sh
# The POP3 engine against its peers, on one Dovecot mailbox of 10,000
# messages (about 60 MiB), over implicit TLS on 127.0.0.1:
#
#   check:  bench-engine stat-uidl   vs  mpop -s  vs  minimal-pop3 stat-uidl
#   RETR:   bench-engine retr-all-to-null  vs  minimal-pop3 retr-all
#           (and both over plaintext, to show the cost of TLS apart)
#
# Goals (issue 2): the check no slower than `mpop -s`; RETR of everything
# within 1.5x of the minimal pipelined client.
#
#   bench/pop3-engine.sh [MESSAGES [AVERAGE_OCTETS]]     default 10000 6144
#   PB_BENCH_RUNS=N  hyperfine runs per command (default 10)
#   PB_AUTH=plain    the engine's mechanism (default auto, the strongest)
set -eu
. "$(dirname "$0")/lib.sh"

count=${1:-10000}
size=${2:-6144}

bench_need hyperfine mpop python3
bench_need_built bench/bench-engine bench/minimal-pop3 tests/tools/pb-dovecot-env
bench_start_dovecot "$count" "$size"

engine=$build/bench/bench-engine
minimal=$build/bench/minimal-pop3
ca=$PB_DOVECOT_CA_FILE
tls=$PB_DOVECOT_TLS_PORT
plain=$PB_DOVECOT_PORT
bench_mpoprc "$results/mpoprc" "$results/mpop-maildir" "$results/mpop-uidls"

# Dovecot indexes a new mailbox at the first login; pay for that here, and
# show what each client sees.
"$minimal" "$tls" stat-uidl "$ca"
"$engine" "$tls" tls stat-uidl "$ca"
"$engine" "$tls" tls retr-all-to-null "$ca"
"$minimal" "$tls" retr-all "$ca"
mpop -C "$results/mpoprc" -s bench

echo "== check: STAT and UIDL ($runs runs)" >&2
bench_hyperfine "$results/check.json" \
  -n "engine stat+uidl" "$engine $tls tls stat-uidl $ca" \
  -n "mpop -s" "mpop -C $results/mpoprc -q -s bench" \
  -n "minimal stat+uidl" "$minimal $tls stat-uidl $ca"

echo "== RETR of every message to nowhere ($runs runs)" >&2
bench_hyperfine "$results/retr.json" \
  -n "engine retr-all" "$engine $tls tls retr-all-to-null $ca" \
  -n "minimal retr-all" "$minimal $tls retr-all $ca" \
  -n "engine retr-all (plain)" "$engine $plain none retr-all-to-null" \
  -n "minimal retr-all (plain)" "$minimal $plain retr-all"

echo "== peak RSS" >&2
bench_rss "engine stat+uidl" "$engine $tls tls stat-uidl $ca"
bench_rss "mpop -s" "mpop -C $results/mpoprc -q -s bench"
bench_rss "minimal stat+uidl" "$minimal $tls stat-uidl $ca"
bench_rss "engine retr-all" "$engine $tls tls retr-all-to-null $ca"
bench_rss "minimal retr-all" "$minimal $tls retr-all $ca"

octets=$(du -sb "$PB_DOVECOT_MAILDIR" | cut -f1)
python3 "$top/bench/summarize.py" \
  "POP3 engine: $count messages, $((octets / 1048576)) MiB in the Maildir, Dovecot ($dovecot_processes processes) on 127.0.0.1, implicit TLS unless marked (plain)" \
  "$results/rss.tsv" "$results/check.json" "$results/retr.json" -- \
  "check: engine / mpop -s=engine stat+uidl/mpop -s<=1.0" \
  "check: engine / minimal=engine stat+uidl/minimal stat+uidl" \
  "RETR all: engine / minimal=engine retr-all/minimal retr-all<=1.5" \
  "RETR all (plain): engine / minimal=engine retr-all (plain)/minimal retr-all (plain)"
