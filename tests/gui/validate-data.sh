#!/bin/sh
# Runs one data validator (desktop-file-validate, appstreamcli,
# glib-compile-schemas) on the built files. A missing tool is a skip (77),
# except in CI (PB_TEST_REQUIRE_ALL), where it is a failure.
tool=$1
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "“$tool” is not installed (run tools/install-deps.sh)" >&2
  [ -n "${PB_TEST_REQUIRE_ALL:-}" ] && exit 1
  exit 77
fi
exec "$@"
