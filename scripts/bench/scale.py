#!/usr/bin/env python3
"""How CPU per operation grows with the directory: two reports of
scripts/bench/run.sh (JSON, same modes, made back to back by scale.sh) ->
a Markdown section on stdout. The target (issue #13): ldapd's indexed
search at 1M entries costs at most 1.3x what it costs at 10k."""

import argparse
import json

# row -> the largest allowed growth of ldapd's CPU per op, or None
TARGETS = {"search-eq": 1.3}


def rows(report):
    return {r["row"]: r for r in report["rows"]}


def cpu(row, server):
    side = row.get(server) or {}
    return side.get("server_cpu_us")


def section(small, large, command):
    s, l = rows(small), rows(large)
    out = [
        "",
        f"## From {small['entries']:,} to {large['entries']:,} entries",
        "",
        f"Both sizes measured back to back by `{command}` (scripts/bench/scale.sh), so they met the",
        "same machine load; server CPU per operation, medians.",
        "",
        f"| operation | ldapd at {small['entries']:,} (us) | ldapd at {large['entries']:,} (us) | ldapd growth (target) "
        f"| slapd at {small['entries']:,} (us) | slapd at {large['entries']:,} (us) | slapd growth | target met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, lr in l.items():
        sr = s.get(name)
        if sr is None:
            continue
        a, b = cpu(sr, "ldapd"), cpu(lr, "ldapd")
        c, d = cpu(sr, "slapd"), cpu(lr, "slapd")
        g = b / a if a and b else None
        gs = d / c if c and d else None
        t = TARGETS.get(name)
        met = "-" if t is None or g is None else ("yes" if g <= t else "no")
        out.append(
            f"| {lr['label']} | {fmt(a)} | {fmt(b)} | {fmt(g, 2)}{f' (<= {t})' if t else ''} "
            f"| {fmt(c)} | {fmt(d)} | {fmt(gs, 2)} | {met} |"
        )
    return "\n".join(out) + "\n"


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", required=True)
    ap.add_argument("--large", required=True)
    ap.add_argument("--command", required=True)
    a = ap.parse_args()
    with open(a.small) as f:
        small = json.load(f)
    with open(a.large) as f:
        large = json.load(f)
    print(section(small, large, a.command), end="")


if __name__ == "__main__":
    main()
