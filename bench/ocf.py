#!/usr/bin/env python3
"""The OCF agent against LVM-activate (issue 13), in user-mode-linux guests.

Agent level (one UML boot per LV count, tests/vm/scenarios/bench-ocf.sh): the same VG,
each round a takeover from another system ID, then start, monitor (level 0), stop —
ocf:lvmkit:lvmvg and ocf:heartbeat:LVM-activate (vg_access_mode=system_id) alternately.
The cluster level (failover decomposed: detection, fencing, Pacemaker, the agent's start) is
bench/cluster.py.

    sudo python3 bench/ocf.py [--runs 5] [--lvs 1,100]

Needs root and tests/vm/setup.sh done; builds the static release lvmkit (bench/activate.py's).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def static_lvmkit():
    """The static release lvmkit every benchmark runs (bench/activate.py builds it). Until
    session 6 this built the debug profile: the agent and failover figures of sessions 4–5
    were of an unoptimised lvmkit."""
    from activate import LVMKIT, build
    build()
    return LVMKIT


def agent_level(lvmkit, lvs, runs):
    for d in ("/var/lib/lvmkit", "/usr/lib/ocf/resource.d/lvmkit"):
        os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "pv.img")
        with open(img, "wb") as f:
            f.truncate(max(64, lvs * 4 + 16) << 20)
        scen = os.path.join(tmp, "bench.sh")
        with open(scen, "w") as f:
            f.write(f"#!/bin/sh\nLVMKIT='{lvmkit}' BENCH_LVS={lvs} BENCH_RUNS={runs} "
                    f"exec /bin/sh '{REPO}/tests/vm/scenarios/bench-ocf.sh'\n")
        os.chmod(scen, 0o755)
        out = subprocess.run([os.path.join(REPO, "tests/vm/run-uml.sh"), scen, img],
                             capture_output=True, text=True, env=dict(os.environ, LVMKIT_VM_TIMEOUT="1800"))
    if out.returncode != 0:
        sys.exit(f"bench-ocf.sh failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    times = {}
    for line in out.stdout.splitlines():
        m = re.match(r"TIME (\S+) (\S+) (\d+)$", line)
        if m:
            times.setdefault((m[1], m[2]), []).append(int(m[3]))
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lvs", default="1,100")
    a = ap.parse_args()
    lvmkit = static_lvmkit()
    counts = [int(x) for x in a.lvs.split(",")]
    print("| LVs | action | LVM-activate (ms) | lvmvg (ms) | ratio |")
    print("|---:|---|---:|---:|---:|")
    for lvs in counts:
        t = agent_level(lvmkit, lvs, a.runs)
        for action in ("start", "monitor", "stop"):
            theirs = statistics.median(t[("LVM-activate", action)])
            ours = statistics.median(t[("lvmvg", action)])
            print(f"| {lvs} | {action} | {theirs:.0f} | {ours:.0f} | {theirs / ours:.1f}× |")


if __name__ == "__main__":
    main()
