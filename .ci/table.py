#!/usr/bin/env python3
"""CI's closing table, from meson's test logs of the plain and the
sanitized build: one row per test with where it ran (host: this machine's
KVM, or none needed; lane: the full-KVM lane; host+lane: a split test,
docs/testing.md), its verdict and seconds in each build.  A test that ran
in the lane says so in its output (lib.bash, run.sh); the lane's own
multi-test run lists each test it ran as "--- NAME: VERDICT in Ns".
Exits 1 if any test in either log did not pass, or a test of
tests/integration/ or tests/fullkvm/ is missing from either.
With a third argument "host-kvm" (a machine with a usable /dev/kvm),
the sanitized build does not need tests/fullkvm/ (.ci/run leaves the
lane out of that run there).
usage: table.py PLAIN/testlog.json SANITIZED/testlog.json [host-kvm]"""
import json
import os
import re
import sys

INNER = re.compile(r"^--- (\S+): (PASS|SKIP|FAIL[^\n]*?) in ([0-9.]+)s$", re.M)


def rows(path):
    out = {}
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            # meson names a test "PROJECT:SUITE / NAME".
            m = re.match(r"^(?:[^:/ ]+:)?(\S+) / (.+)$", t["name"])
            suite, name = (m.group(1), m.group(2)) if m else ("", t["name"])
            text = t.get("stdout") or ""
            verdict = "PASS" if t["result"] == "OK" else t["result"]
            secs = t["duration"]
            inner = INNER.findall(text)
            if name == "fullkvm" and inner:
                for n, v, s in inner:
                    out[n] = ("lane", "PASS" if v == "PASS" else v, float(s))
                if verdict != "PASS":
                    out["fullkvm (the lane run)"] = ("lane", verdict, secs)
                continue
            if name == "fullkvm-canfail":
                out["fullkvm/canfail"] = ("lane", verdict, secs)
                continue
            key = f"{suite}/{name}" if suite == "integration" else f"{suite} {name}"
            if "running the rest of" in text:
                where = "host+lane"
            elif "in the full-KVM lane (docs/testing.md)" in text:
                where = "lane"
            elif suite == "integration":
                where = "host"
            else:
                where = "host"
            out[key] = (where, verdict, secs)
    return out


def main():
    plain, asan = rows(sys.argv[1]), rows(sys.argv[2])
    names = sorted(set(plain) | set(asan), key=lambda n: (not n.startswith(("integration/", "fullkvm/")), n))
    here = os.path.dirname(os.path.abspath(__file__))
    want = []
    for d in ("integration", "fullkvm"):
        for f in sorted(os.listdir(os.path.join(here, "..", "tests", d))):
            if f.endswith(".sh") and f != "run.sh":
                want.append(f"{d}/{f[:-3]}")
    bad = 0
    w = max(len(n) for n in names + want)
    print(f"{'test':<{w}}  {'where':<9}  {'plain':<6} {'s':>7}  {'sanitized':<9} {'s':>7}")
    for n in names:
        p, a = plain.get(n), asan.get(n)
        where = (p or a)[0]
        pv, ps = (p[1], f"{p[2]:.1f}") if p else ("-", "")
        av, as_ = (a[1], f"{a[2]:.1f}") if a else ("-", "")
        print(f"{n:<{w}}  {where:<9}  {pv:<6} {ps:>7}  {av:<9} {as_:>7}")
        for v in (pv, av):
            if v not in ("PASS", "-"):
                bad += 1
    for n in want:
        for label, r in (("plain", plain), ("sanitized", asan)):
            if label == "sanitized" and n.startswith("fullkvm/") and sys.argv[3:] == ["host-kvm"]:
                continue
            if n not in r:
                print(f"MISSING: {n} did not run ({label})")
                bad += 1
    total = len(names)
    print(f"{total} tests, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
