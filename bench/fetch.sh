#!/bin/sh
# Downloading a whole mailbox: `popbiff fetch --all` against `mpop`, each
# retrieving the same Dovecot mailbox (default 10,000 messages, about
# 60 MiB) over implicit TLS on 127.0.0.1 into an empty Maildir, in one run.
# Popbiff fsyncs every file, records it, and saves its state durably; it is
# timed with all of that. Then the peak RSS of popbiff for the whole
# mailbox and for one 50 MiB message.
#
# Goals (issue 4): popbiff takes at most half of mpop's wall time; peak RSS
# under 32 MiB, and a 50 MiB message does not add 50 MiB.
#
#   bench/fetch.sh [MESSAGES [AVERAGE_OCTETS]]     default 10000 6144
#   PB_BENCH_RUNS=N  hyperfine runs per command (default 10)
#   PB_AUTH=plain    popbiff's mechanism (default auto, the strongest;
#                    mpop uses PLAIN over TLS, so plain compares like with like)
set -eu

# popbiff takes the password from the keyring: run inside a private one.
if [ -z "${PB_TEST_KEYRING:-}" ]; then
  exec "$(cd "$(dirname "$0")" && pwd)/../tests/tools/with-keyring.sh" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

count=${1:-10000}
size=${2:-6144}

bench_need hyperfine mpop python3
bench_need_built src/popbiff tests/tools/pb-dovecot-env
bench_start_dovecot "$count" "$size"

popbiff=$build/src/popbiff
state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/popbiff
popbiff_md=$results/popbiff-maildir
bench_mpoprc "$results/mpoprc" "$results/mpop-maildir" "$results/mpop-uidls"

printenv PB_PASSWORD | "$popbiff" accounts add bench --host 127.0.0.1 \
  --port "$PB_DOVECOT_TLS_PORT" --user "$PB_USER" --ca-file "$PB_DOVECOT_CA_FILE" \
  --auth "${PB_AUTH:-auto}" --folder "$popbiff_md" --password-stdin >&2

# Each run starts from nothing: an empty Maildir, no state (so every
# message is new to popbiff), no UIDL list for mpop.
reset_popbiff="rm -rf '$popbiff_md' '$state_dir'/bench.state*"
reset_mpop="rm -rf '$results/mpop-maildir' '$results/mpop-uidls' && mkdir -p '$results/mpop-maildir/tmp' '$results/mpop-maildir/new' '$results/mpop-maildir/cur'"

# Dovecot indexes a new mailbox at the first login; pay for that here, and
# check both clients bring everything.
sh -c "$reset_popbiff" && "$popbiff" fetch bench --all >&2
sh -c "$reset_mpop" && mpop -C "$results/mpoprc" -q bench
got_popbiff=$(ls "$popbiff_md/new" | wc -l)
got_mpop=$(ls "$results/mpop-maildir/new" | wc -l)
echo "popbiff fetched $got_popbiff, mpop $got_mpop of $count" >&2
[ "$got_popbiff" -eq "$count" ] && [ "$got_mpop" -eq "$count" ]

echo "== everything into an empty Maildir ($runs runs)" >&2
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$results/fetch.json" \
  --prepare "$reset_popbiff" -n "popbiff fetch --all" "$popbiff fetch bench --all" \
  --prepare "$reset_mpop" -n "mpop" "mpop -C $results/mpoprc -q bench" >&2

echo "== peak RSS" >&2
sh -c "$reset_popbiff"
bench_rss "popbiff fetch --all" "$popbiff fetch bench --all"
sh -c "$reset_mpop"
bench_rss "mpop" "mpop -C $results/mpoprc -q bench"

# One 50 MiB message (base64 lines, as an attachment arrives) in a mailbox
# of its own.
python3 - "$results/big.eml" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\nTo: b@example.org\nSubject: 50 MiB\n"
            "Date: Tue, 1 Jul 2025 10:00:00 +0000\n\n")
    block = base64.encodebytes(os.urandom(57 * 1024)).decode()
    written = 0
    while written < 50 * 1024 * 1024:
        f.write(block)
        written += len(block)
PY
printenv PB_PASSWORD | "$top/tests/tools/dovecot-env.sh" add-user big >&2
"$top/tests/tools/dovecot-env.sh" deliver "$results/big.eml" --user big >&2
printenv PB_PASSWORD | "$popbiff" accounts add big --host 127.0.0.1 \
  --port "$PB_DOVECOT_TLS_PORT" --user big --ca-file "$PB_DOVECOT_CA_FILE" \
  --folder "$results/big-maildir" --password-stdin >&2
bench_rss "popbiff fetch, one 50 MiB message" "$popbiff fetch big"
cmp "$results/big.eml" "$results/big-maildir/new/"* >&2

octets=$(du -sb "$PB_DOVECOT_MAILDIR" | cut -f1)
python3 "$top/bench/summarize.py" \
  "Fetch: $count messages, $((octets / 1048576)) MiB in the Maildir, Dovecot ($dovecot_processes processes) on 127.0.0.1, implicit TLS, into an empty Maildir" \
  "$results/rss.tsv" "$results/fetch.json" -- \
  "fetch: popbiff / mpop=popbiff fetch --all/mpop<=0.5"
