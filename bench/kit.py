#!/usr/bin/env python3
"""Recovery-kit benchmark (issue 11, Performance): `lvmkit kit restore` (with the ownership
takeover write) / `remove` / `quickCheck` of a VG with 100 and 1000 linear LVs against
Pacemaker's ocf:heartbeat:LVM-activate (vg_access_mode=system_id, activation_mode=exclusive;
start / stop / monitor) and against lvm2's `vgchange --systemid` + `vgchange -ay` / `-an`, all in
one guest boot (tests/vm/run-uml.sh, or run-qemu.sh with --vm qemu) with two servers (nodeA,
nodeB: two lvm2 host identities and two kit directories) taking the VG from each other every
run. The in-guest half is tests/vm/scenarios/bench-kit.sh (what is timed and checked: see there).

Needs root (the guest reaches the images; tests/vm/setup.sh installs what is missing) and
Debian's resource-agents on the host (the guest runs the host's /):
    printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y --no-install-recommends resource-agents
Builds static release lvmkit itself (target/vm-build). VGs are made by lvm2 in the guest from
text metadata this script writes (the same generator as bench/activate.py), one PV each.

Usage: sudo python3 bench/kit.py [--runs 5] [--sizes 100,1000] [--vm uml|qemu] [--tools kit,activate,vgchange,engine,bare]
                                 [--no-build] [--raw FILE] [--keep] [--profile DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from activate import BARE, MIB, ROOT, Ids, build, run_guest, sparse, vg_text  # noqa: E402  (the same VG generator and builds)

LVMKIT = os.path.join(ROOT, "target", "vm-build", "x86_64-unknown-linux-gnu", "release", "lvmkit")
SCENARIO = os.path.join(ROOT, "tests", "vm", "scenarios", "bench-kit.sh")
RA = "/usr/lib/ocf/resource.d/heartbeat/LVM-activate"

OPS = [
    ("up", "kit restore (takeover + activate)", "LVM-activate start", "vgchange --systemid + -ay"),
    ("down", "kit remove", "LVM-activate stop", "vgchange -an"),
]
CHECKS = [("qc0", "kit quickCheck --level 0"), ("qc10", "--level 10"), ("qc20", "--level 20"),
          ("mon0", "LVM-activate monitor (OCF_CHECK_LEVEL=0)"), ("mon10", "monitor (OCF_CHECK_LEVEL=10)")]




def prepare(tmp, sizes):
    ids = Ids(11)
    images, manifest = [], []
    extent = 4 * MIB
    for n in sizes:
        vg, sectors = f"kvg{n}", MIB * 4 + (n + 2) * extent
        img = os.path.join(tmp, f"{vg}.img")
        sparse(img, sectors)
        images.append(img)
        pv_id = ids()
        # vg_text puts the data at 1 MiB; the PV here has a 2 MiB metadata area (1000 LVs'
        # text is ~300 KiB and lvm2 keeps two copies in the ring): data at 4 MiB.
        text = vg_text(vg, ids(), pv_id, sectors, extent, n, ids).replace(
            f"pe_start = {MIB}", f"pe_start = {4 * MIB}").replace(
            f"pe_count = {(sectors - MIB) // extent}", f"pe_count = {(sectors - 4 * MIB) // extent}")
        with open(os.path.join(tmp, f"{vg}.vg"), "w") as f:
            f.write(text)
        manifest.append(f"linear {vg} {len(images)} {pv_id} {vg}.vg")
    with open(os.path.join(tmp, "manifest"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    return images


def ms(us):
    return "–" if us is None else (f"{us / 1000:.0f}" if us >= 10000 else f"{us / 1000:.1f}")


def report(times, header):
    """times[vg][tool][op] = [µs of the timed runs]."""
    med = {vg: {t: {o: statistics.median(v) for o, v in ops.items()} for t, ops in tools.items()}
           for vg, tools in times.items()}
    get = lambda vg, t, o: med[vg].get(t, {}).get(o)  # noqa: E731
    print(f"\n{header}\n")
    print("medians in ms\n")
    print("| VG | kit restore | engine up | bare up | LVM-activate start | vgchange --systemid + -ay | kit remove "
          "| engine down | bare down | LVM-activate stop | vgchange -an | kit qC 0 | bare check | qC 10 | qC 20 "
          "| monitor 0 | monitor 10 |")
    print("|---|" + "---:|" * 16)
    for vg in med:
        cells = [get(vg, "kit", "up"), get(vg, "engine", "up"), get(vg, "bare", "up"), get(vg, "activate", "up"),
                 get(vg, "vgchange", "up"), get(vg, "kit", "down"), get(vg, "engine", "down"), get(vg, "bare", "down"),
                 get(vg, "activate", "down"), get(vg, "vgchange", "down"),
                 get(vg, "kit", "qc0"), get(vg, "bare", "qc0"), get(vg, "kit", "qc10"), get(vg, "kit", "qc20"),
                 get(vg, "activate", "mon0"), get(vg, "activate", "mon10")]
        print(f"| {vg} | " + " | ".join(ms(c) for c in cells) + " |")
    print("\nratios of medians (peer ÷ kit; targets: start ÷ restore ≥ 10, stop ÷ remove ≥ 5, "
          "monitor 0 ÷ quickCheck 0 ≥ 1; absolute: restore of 1000 LVs < 500 ms, quickCheck 0 of 1000 < 100 ms)\n")
    print("| VG | LVM-activate start ÷ restore | vgchange ÷ restore | LVM-activate stop ÷ remove "
          "| vgchange -an ÷ remove | monitor 0 ÷ quickCheck 0 | monitor 10 ÷ quickCheck 10 |")
    print("|---|" + "---:|" * 6)
    verdicts = []
    for vg in med:
        def r(a, b):
            return None if a is None or b is None else a / b
        row = [r(get(vg, "activate", "up"), get(vg, "kit", "up")), r(get(vg, "vgchange", "up"), get(vg, "kit", "up")),
               r(get(vg, "activate", "down"), get(vg, "kit", "down")),
               r(get(vg, "vgchange", "down"), get(vg, "kit", "down")),
               r(get(vg, "activate", "mon0"), get(vg, "kit", "qc0")),
               r(get(vg, "activate", "mon10"), get(vg, "kit", "qc10"))]
        print(f"| {vg} | " + " | ".join("–" if x is None else f"{x:.1f}×" for x in row) + " |")
        n = int(vg.removeprefix("kvg"))
        checks = [(f"{vg}: LVM-activate start ÷ kit restore ≥ 10", row[0], 10),
                  (f"{vg}: LVM-activate stop ÷ kit remove ≥ 5", row[2], 5),
                  (f"{vg}: monitor 0 ÷ quickCheck 0 ≥ 1", row[4], 1)]
        if n >= 1000 and get(vg, "kit", "up") is not None:
            checks += [(f"{vg}: kit restore < 500 ms", 500 / (get(vg, "kit", "up") / 1000), 1),
                       (f"{vg}: quickCheck 0 < 100 ms", 100 / (get(vg, "kit", "qc0") / 1000), 1)]
        verdicts += [(what, None if x is None else x >= want) for what, x, want in checks]
    if any(get(vg, "bare", "up") is not None for vg in med):
        print("\nthe kit against the floor (bare_loop: the same tables with nothing else; kit ÷ bare)\n")
        print("| VG | restore ÷ bare up | remove ÷ bare down | quickCheck 0 ÷ bare check |")
        print("|---|---:|---:|---:|")
        for vg in med:
            row = [(get(vg, "kit", a), get(vg, "bare", b)) for a, b in (("up", "up"), ("down", "down"), ("qc0", "qc0"))]
            print(f"| {vg} | " + " | ".join("–" if k is None or b is None else f"{k / b:.2f}" for k, b in row) + " |")
    print("\ntargets")
    for what, ok in verdicts:
        print(f"  {'not run' if ok is None else 'met    ' if ok else 'MISSED '} {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--vm", choices=["uml", "qemu"], default="uml")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--lvmkit", default=LVMKIT, help="the static lvmkit to run (default: the one built here)")
    ap.add_argument("--raw", metavar="FILE", help="write every timing (µs) as JSON")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--profile", metavar="DIR", help="after the timed runs, one more kit cycle per VG under "
                    "strace -f -r, its traces written to DIR")
    ap.add_argument("--tools", default="kit,activate,vgchange,engine,bare",
                    help="which of kit, activate, vgchange, engine (lvmkit vgchange --takeover + activate / "
                         "deactivate), bare (dm/examples/bare_loop up/check/down --links: the ioctl floor) to run")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",") if s]
    if os.geteuid() != 0:
        sys.exit("needs root (user-mode-linux with the images; tests/vm/setup.sh)")
    if not os.access(RA, os.X_OK):
        sys.exit(f"{RA} missing: apt-get install -y --no-install-recommends resource-agents "
                 "(with a policy-rc.d that exits 101)")
    r = subprocess.run([os.path.join(ROOT, "tests", "vm", "setup.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tests/vm/setup.sh failed: {r.stderr}")
    if not a.no_build:
        build()
    tmp = tempfile.mkdtemp(prefix="lvmkit-bench-kit-")
    try:
        images = prepare(tmp, sizes)
        tools = " ".join(a.tools.split(","))
        profile = os.path.abspath(a.profile) if a.profile else ""
        stdout, wall = run_guest(a.vm, tmp, f"BENCH_DIR='{tmp}' LVMKIT='{a.lvmkit}' BARE='{BARE}' RUNS={a.runs} "
                                 f"TOOLS='{tools}' PROFILE='{profile}'", SCENARIO, images, timeout=3600)
        times, raw, info = {}, {}, []
        for line in stdout.splitlines():
            f = line.split()
            if f[:1] == ["T"]:
                vg, tool, op, run, us = f[1], f[2], f[3], int(f[4]), int(f[5])
                raw.setdefault(vg, {}).setdefault(tool, {}).setdefault(op, {})[run] = us
                if run > 0:
                    times.setdefault(vg, {}).setdefault(tool, {}).setdefault(op, []).append(us)
            elif f[:1] == ["I"]:
                info.append(line[2:])
        load = open("/proc/loadavg").read().split()[:3]
        ra = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "resource-agents"], capture_output=True, text=True)
        info.append(f"resource-agents {ra.stdout.strip() or '?'} (the host's, run in the guest)")
        for l in info:
            print(l)
        report(times, f"guest: {a.vm}; {a.runs} timed runs per cell after one warm-up, each up a takeover "
                      f"from the other server; boot + benchmark {wall:.0f} s; host load average at the end "
                      f"{' '.join(load)}")
        if a.raw:
            with open(a.raw, "w") as f:
                json.dump({"runs": a.runs, "info": info, "times_us_by_run": raw}, f, indent=1)
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
