#!/usr/bin/python3
"""Prints one closing line over meson's JSON test logs given as arguments:
"tests: N passed, N failed, N skipped" (each test program counts once per
run: the plain suite and the sanitizer runs)."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as log:
        for line in log:
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
