# bench/lib.sh: what the benchmark scripts share. Sourced, not run.
#
# Every benchmark runs against a private Dovecot on 127.0.0.1 (the one the
# tests use, tests/tools/dovecot-env.sh), times commands with hyperfine,
# measures peak RSS with /usr/bin/time, and prints a table with ratios
# (bench/summarize.py). Passwords travel in the environment, never argv.

top=$(cd "$(dirname "$0")/.." && pwd)
build=${PB_BUILDDIR:-$top/build}
runs=${PB_BENCH_RUNS:-10}

bench_need () {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$0: “$tool” is not installed (run tools/install-deps.sh)" >&2
      exit 2
    fi
  done
  if [ ! -x /usr/bin/time ]; then
    echo "$0: /usr/bin/time is not installed (package “time”)" >&2
    exit 2
  fi
}

bench_need_built () {
  for file in "$@"; do
    if [ ! -x "$build/$file" ]; then
      echo "$0: $build/$file is missing; build first: meson setup build && meson compile -C build" >&2
      exit 2
    fi
  done
}

# Dovecot's process shape for every benchmark: "high-performance" (what a
# provider runs, bench/README.md says why) or "default" (Dovecot's defaults,
# as in the integration tests). The same server for every program compared.
dovecot_processes=${PB_BENCH_DOVECOT:-high-performance}

# bench_start_dovecot N OCTETS: a Dovecot whose mailbox holds N generated
# messages of about OCTETS each; stopped when the script exits. Sets the
# PB_DOVECOT_* variables and $results (a directory for this run's files).
bench_start_dovecot () {
  eval "$("$top/tests/tools/dovecot-env.sh" start --fill "$1" --size "$2" \
          --processes "$dovecot_processes")"
  trap '"$top/tests/tools/dovecot-env.sh" stop "$PB_DOVECOT_DIR"' EXIT INT TERM
  export PB_PASSWORD="$PB_DOVECOT_PASSWORD" PB_USER="$PB_DOVECOT_USER"
  results=$PB_DOVECOT_DIR/bench
  mkdir -p "$results"
  : > "$results/rss.tsv"
}

# bench_mpoprc FILE MAILDIR UIDLS_FILE: an mpop configuration for the test
# Dovecot over implicit TLS, trusting the test CA, never deleting.
bench_mpoprc () {
  mkdir -p "$2/tmp" "$2/new" "$2/cur"
  cat > "$1" <<MPOPRC
defaults
tls on
tls_starttls off
tls_trust_file $PB_DOVECOT_CA_FILE
keep on
only_new off

account bench
host 127.0.0.1
port $PB_DOVECOT_TLS_PORT
user $PB_DOVECOT_USER
auth on
passwordeval printenv PB_PASSWORD
delivery maildir $2
uidls_file $3
MPOPRC
  chmod 600 "$1"  # mpop refuses a configuration others can read
}

# bench_rss NAME COMMAND: runs COMMAND (a shell string) once and records
# its peak resident set size in KiB.
bench_rss () {
  /usr/bin/time -f %M -o "$results/rss.one" sh -c "$2" >/dev/null
  printf '%s\t%s\n' "$1" "$(tail -n 1 "$results/rss.one")" >> "$results/rss.tsv"
}

# bench_hyperfine JSON [hyperfine arguments]: times commands.
bench_hyperfine () {
  json=$1
  shift
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$json" "$@" >&2
}
