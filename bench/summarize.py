#!/usr/bin/env python3
"""Prints a benchmark's figures side by side from hyperfine's JSON and the
peak-RSS table bench/lib.sh writes, with the ratios the goals are about.

  summarize.py TITLE RSS_TSV JSON... -- RATIO...

A RATIO is "label=NAME_A/NAME_B<=GOAL" (GOAL optional): the mean time of the
command named NAME_A divided by that of NAME_B.
"""
import json
import sys


def main(argv):
    title, rss_path = argv[1], argv[2]
    rest = argv[3:]
    split = rest.index("--") if "--" in rest else len(rest)
    json_paths, ratios = rest[:split], rest[split + 1:]

    times = {}
    order = []
    for path in json_paths:
        with open(path) as f:
            for r in json.load(f)["results"]:
                times[r["command"]] = (r["mean"], r["stddev"] or 0.0, r["min"], r["max"])
                order.append(r["command"])

    rss = {}
    with open(rss_path) as f:
        for line in f:
            if "\t" in line:
                name, kib = line.rstrip("\n").split("\t")
                rss[name] = int(kib)

    width = max([len(n) for n in order + list(rss)] + [10])
    print(title)
    print(f"{'':{width}}  {'mean':>9}  {'± σ':>8}  {'min':>8}  {'max':>8}  {'peak RSS':>10}")
    for name in order + [n for n in rss if n not in times]:
        row = f"{name:{width}}"
        if name in times:
            mean, sd, lo, hi = times[name]
            row += f"  {mean:8.3f}s  {sd:7.3f}s  {lo:7.3f}s  {hi:7.3f}s"
        else:
            row += f"  {'':9}  {'':8}  {'':8}  {'':8}"
        if name in rss:
            row += f"  {rss[name] / 1024:7.1f} MiB"
        print(row)

    failed = False
    for spec in ratios:
        label, expr = spec.split("=", 1)
        goal = None
        if "<=" in expr:
            expr, goal = expr.split("<=")
            goal = float(goal)
        a, b = expr.split("/")
        if a not in times or b not in times:
            print(f"{label}: missing figures")
            continue
        ratio = times[a][0] / times[b][0]
        verdict = ""
        if goal is not None:
            ok = ratio <= goal
            failed |= not ok
            verdict = f"  goal ≤ {goal:g}: {'met' if ok else 'MISSED'}"
        print(f"{label}: {ratio:.2f}x{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
