#!/bin/sh
# Regenerates data/screenshots/*.png (README, metainfo) from the real app
# in demo mode: the welcome page, new mail, the account editor and the
# certificate dialog, on a private 1024x768 X display.
#   tools/screenshots.sh
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
mkdir -p data/screenshots
export POPBIFF="$PWD/build/src/popbiff"
export PB_SCREENSHOTS="$PWD/data/screenshots"
export PB_DOVECOT_ENV="$PWD/tests/tools/dovecot-env.sh"
export GSETTINGS_SCHEMA_DIR="$PWD/build/data"
export PB_XVFB_SCREEN=1024x768x24
# English screenshots, whatever the person's locale.
export LANGUAGE=en LANG=C.UTF-8 LC_ALL=C.UTF-8
exec tests/gui/run-under-xvfb.sh /usr/bin/python3 tools/screenshots.py
