#!/bin/sh
# Installs what Popbiff needs, builds it and runs it. Arguments go to
# popbiff: `tools/run.sh --demo`, `tools/run.sh check --json`, ...
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
# The applet needs its GSettings schema; run from the build tree.
[ -d build/data ] && export GSETTINGS_SCHEMA_DIR="$PWD/build/data"
exec ./build/src/popbiff "$@"
