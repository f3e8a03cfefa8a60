#!/bin/sh
# The whole test suite, exactly as CI runs it (.ci/run calls this):
# dependencies, a normal build and its tests, an ASan+UBSan build and its
# tests, and the POP3 reader fuzzer for 60 seconds.
#
#   tools/test.sh            everything
#   tools/test.sh --quick    the normal build's tests only
set -eu
cd "$(dirname "$0")/.."

./tools/install-deps.sh

# In CI, a test that would skip for want of a package fails instead.
export PB_TEST_REQUIRE_ALL=1

setup () {
  dir=$1; shift
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

echo "== build"
setup build
meson compile -C build
echo "== tests"
meson test -C build --print-errorlogs --num-processes 2

if [ "${1:-}" = "--quick" ]; then
  /usr/bin/python3 tools/test-summary.py build/meson-logs/testlog.json
  exit 0
fi

echo "== tests under AddressSanitizer and UndefinedBehaviorSanitizer"
setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
# Leaks are checked where LeakSanitizer works (see the sanitize setups in
# meson.build); the other suites run under ASan and UBSan without it.
meson test -C build-asan --setup sanitize --suite unit --print-errorlogs --num-processes 2
meson test -C build-asan --setup sanitizenoleaks --no-suite unit --print-errorlogs --num-processes 2

if [ -x tools/fuzz.sh ]; then
  echo "== fuzzing"
  ./tools/fuzz.sh 60
fi

# One closing line over every test run above (the fuzzer has its own verdict).
/usr/bin/python3 tools/test-summary.py build/meson-logs/testlog.json \
  build-asan/meson-logs/testlog-sanitize.json \
  build-asan/meson-logs/testlog-sanitizenoleaks.json
