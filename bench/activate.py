#!/usr/bin/env python3
"""Activation benchmark (issue 4): `lvmkit activate` / `deactivate` against lvm2's
`vgchange -ay` / `-an` and two floors, all in one user-mode-linux boot (tests/vm/run-uml.sh).

Cases: VGs of 10, 100 and 1000 linear LVs (one PV each; made by lvm2 in the guest from text
metadata this script writes: `pvcreate --uuid --restorefile` + `vgcfgrestore`), a thin pool
with 100 thin LVs (lvm2's own lvcreate, so the pool's metadata holds the thin devices), and the
100-LV VG again among 100 other VGs on the 100 partitions of one more disk. Per case and run,
each tool brings the VG's devices up and down; the guest checks the device, node and link
counts after every step and, once per tool, that tables, names and uuids equal lvm2's.

Tools: lvm2 `vgchange -ay/-an --devices PV` (and, for the thin pool, without thin_check;
among the other disks also without --devices and with lvm2's accept-all filter: a full scan);
`lvmkit activate/deactivate VG --devices PV` and without --devices (LVMKIT_HINTS=none: a full
scan; among the other disks also as shipped, with its hints file); the floors
`dmsetup create --concise` / `dmsetup remove_all` (one process, tables from `lvmkit plan`)
and dm/examples/bare_loop (create, load, resume / remove per device, nothing else), also with
`--nodes` (plus mknod/unlink of /dev/mapper/NAME). Wall clock in the guest, whole processes.

Needs root (UML reaches the images; tests/vm/setup.sh installs what is missing) and builds
static lvmkit and bare_loop itself (target/vm-build). Images live in a temporary folder that
is removed at exit (--keep leaves it).

Usage: sudo python3 bench/activate.py [--runs 5] [--sizes 10,100,1000] [--thin 100] [--others 100]
                                      [--vm uml|qemu] [--settle S] [--no-build] [--raw FILE] [--keep] [--uevent-helper]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMBUILD = os.path.join(ROOT, "target", "vm-build", "x86_64-unknown-linux-gnu", "release")
LVMKIT = os.path.join(VMBUILD, "lvmkit")
BARE = os.path.join(VMBUILD, "examples", "bare_loop")
SCENARIO = os.path.join(ROOT, "tests", "vm", "scenarios", "bench-activate.sh")
MIB = 2048  # sectors


def build():
    env = dict(os.environ, RUSTFLAGS="-C target-feature=+crt-static")
    common = ["--release", "--target", "x86_64-unknown-linux-gnu",
              "--target-dir", os.path.join(ROOT, "target", "vm-build")]
    for what in (["-p", "lvmkit"], ["-p", "lvmkit-dm", "--example", "bare_loop"]):
        r = subprocess.run(["cargo", "build", "-q", *what, *common], cwd=ROOT, env=env)
        if r.returncode != 0:
            sys.exit(f"static build of {' '.join(what)} failed")


def run_guest(vm, tmp, env_words, scenario, images, timeout):
    """Boots `vm` once with `scenario` (bash, `env_words` set) on `images`; keeps its output in
    tmp/guest-output.txt; exits naming the failure unless the guest printed `I done` and no
    `FAIL` line. Returns (stdout, wall seconds)."""
    wrapper = os.path.join(tmp, "scenario.sh")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\n{env_words} exec /bin/bash '{scenario}'\n")
    env = dict(os.environ, LVMKIT_VM_TIMEOUT=os.environ.get("LVMKIT_VM_TIMEOUT", str(timeout)))
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(ROOT, "tests", "vm", f"run-{vm}.sh"), wrapper, *images],
                       env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    with open(os.path.join(tmp, "guest-output.txt"), "w") as f:
        f.write(p.stdout)
    fails = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    if p.returncode != 0 or fails or "I done" not in p.stdout:
        sys.stdout.write(p.stdout[-6000:])
        sys.stderr.write(p.stderr[-3000:])
        sys.exit(f"guest run failed (status {p.returncode})")
    return p.stdout, wall


class Ids:
    """lvm2-style ids (32 alphanumerics, 6-4-4-4-4-4-6), reproducible from a seed."""

    CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def __call__(self):
        s = "".join(self.rng.choice(self.CHARS) for _ in range(32))
        return "-".join([s[0:6], s[6:10], s[10:14], s[14:18], s[18:22], s[22:26], s[26:32]])


LV = """\t\t{name} {{
\t\t\tid = "{id}"
\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]
\t\t\tflags = []
\t\t\tcreation_time = 1795300000
\t\t\tcreation_host = "bench"
\t\t\tsegment_count = 1

\t\t\tsegment1 {{
\t\t\t\tstart_extent = 0
\t\t\t\textent_count = 1
\t\t\t\ttype = "striped"
\t\t\t\tstripe_count = 1
\t\t\t\tstripes = [
\t\t\t\t\t"pv0", {pe}
\t\t\t\t]
\t\t\t}}
\t\t}}
"""

VG = """contents = "Text Format Volume Group"
version = 1
description = "bench/activate.py"
creation_host = "bench"
creation_time = 1795300000

{vg} {{
\tid = "{vg_id}"
\tseqno = 1
\tformat = "lvm2"
\tstatus = ["RESIZEABLE", "READ", "WRITE"]
\tflags = []
\textent_size = {extent}
\tmax_lv = 0
\tmax_pv = 0
\tmetadata_copies = 0

\tphysical_volumes {{
\t\tpv0 {{
\t\t\tid = "{pv_id}"
\t\t\tdevice = "/dev/null"
\t\t\tstatus = ["ALLOCATABLE"]
\t\t\tflags = []
\t\t\tdev_size = {dev_size}
\t\t\tpe_start = {pe_start}
\t\t\tpe_count = {pe_count}
\t\t}}
\t}}

\tlogical_volumes {{
{lvs}\t}}
}}
"""


def vg_text(vg, vg_id, pv_id, dev_sectors, extent, n_lvs, lv_id):
    """A vgcfgbackup-style file: one PV (data at 1 MiB), n_lvs linear LVs of one extent each."""
    pe_count = (dev_sectors - MIB) // extent
    assert pe_count >= n_lvs, (vg, pe_count, n_lvs)
    lvs = "".join(LV.format(name=f"lv{i:04d}", id=lv_id(), pe=i) for i in range(n_lvs))
    return VG.format(vg=vg, vg_id=vg_id, extent=extent, pv_id=pv_id, dev_size=dev_sectors, pe_start=MIB,
                     pe_count=pe_count, lvs=lvs)


def sparse(path, sectors):
    with open(path, "wb") as f:
        f.truncate(sectors * 512)


def prepare(tmp, a):
    """Images, metadata files and the manifest the guest reads; returns the image list."""
    ids = Ids(4)
    images, manifest = [], []
    extent = 4 * MIB
    for n in a.sizes:
        vg, sectors = f"bvg{n}", MIB + (n + 2) * extent
        img = os.path.join(tmp, f"{vg}.img")
        sparse(img, sectors)
        images.append(img)
        pv_id = ids()
        with open(os.path.join(tmp, f"{vg}.vg"), "w") as f:
            f.write(vg_text(vg, ids(), pv_id, sectors, extent, n, ids))
        manifest.append(f"linear {vg} {len(images)} {pv_id} {vg}.vg")
    if a.thin:
        img = os.path.join(tmp, "bthin.img")
        sparse(img, 512 * MIB)
        images.append(img)
        manifest.append(f"thin bthin {len(images)} {a.thin} 256")
    if a.others and a.sizes:
        part = 8  # MiB; GPT: first partition at 1 MiB, backup table at the end
        img = os.path.join(tmp, "others.img")
        sparse(img, (a.others * part + 4) * MIB)
        images.append(img)
        manifest.append(f"others {len(images)} {a.others} {part}")
        for i in range(1, a.others + 1):
            vg, pv_id = f"oth{i:03d}", ids()
            with open(os.path.join(tmp, f"{vg}.vg"), "w") as f:
                f.write(vg_text(vg, ids(), pv_id, part * MIB, MIB, 5, ids))
            manifest.append(f"other {vg} {i} {pv_id} {vg}.vg")
        among = 100 if 100 in a.sizes else a.sizes[len(a.sizes) // 2]
        manifest.append(f"among bvg{among}")
    with open(os.path.join(tmp, "manifest"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    return images


TOOLS = [
    ("vgchange", "lvm vgchange -ay/-an --devices PV"),
    ("vgchange-nothincheck", "… with thin_check_executable=\"\""),
    ("vgchange-scan", "lvm vgchange -ay/-an (accept-all filter: scans every disk)"),
    ("lvmkit", "lvmkit activate/deactivate VG --devices PV"),
    ("lvmkit-serial", "lvmkit activate/deactivate VG --devices PV --jobs 1 (guests with > 1 CPU only)"),
    ("lvmkit-scan", "lvmkit activate/deactivate VG, LVMKIT_HINTS=none (scans /proc/partitions)"),
    ("lvmkit-hints", "lvmkit activate/deactivate VG (as shipped: hints file, full scan when stale)"),
    ("dmsetup", "dmsetup create --concise / remove_all (no nodes)"),
    ("bare", "bare_loop up/down: create+load+resume / remove (no nodes)"),
    ("bare-nodes", "bare_loop up/down --nodes (+ mknod/unlink /dev/mapper/NAME)"),
    ("bare-links", "bare_loop up/down --links (+ symlink/unlink /dev/VG/LV: all lvmkit does for nodes)"),
    ("plan", "lvmkit plan VG --devices PV: start-up, scan, parse, plan, print; no ioctl (up only)"),
]


def ms(x):
    if x is None:
        return "–"
    return f"{x / 1000:.0f}" if x >= 10000 else f"{x / 1000:.1f}"


RATIOS = [
    ("vgchange ÷ lvmkit", "vgchange", "lvmkit"),
    ("lvmkit ÷ bare", "lvmkit", "bare"),
    ("lvmkit ÷ bare --nodes", "lvmkit", "bare-nodes"),
    ("lvmkit ÷ bare --links", "lvmkit", "bare-links"),
    ("lvmkit ÷ dmsetup", "lvmkit", "dmsetup"),
    ("lvmkit --jobs 1 ÷ lvmkit", "lvmkit-serial", "lvmkit"),
    ("lvmkit --jobs 1 ÷ dmsetup", "lvmkit-serial", "dmsetup"),
    ("vgchange (full scan) ÷ lvmkit --devices", "vgchange-scan", "lvmkit"),
    ("vgchange ÷ lvmkit, both full scan", "vgchange-scan", "lvmkit-scan"),
    ("vgchange (full scan) ÷ lvmkit (hints)", "vgchange-scan", "lvmkit-hints"),
]


def tables(times, stat, label):
    """Prints the per-tool table and the ratio table for one statistic (median, min)."""
    m = {c: {t: {o: stat(v) for o, v in ops.items()} for t, ops in tools.items()}
         for c, tools in times.items()}
    cols = [k for k, _ in TOOLS if any(k in tools for tools in m.values())]
    print(f"\n{label} in ms (up / down)\n")
    print("| case | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for c, x in m.items():
        cells = [f"{ms(x[k]['up'])} / {ms(x[k].get('down'))}" if k in x else "" for k in cols]
        print(f"| {c} | " + " | ".join(cells) + " |")
    ratios = [r for r in RATIOS if any(r[1] in x and r[2] in x for x in m.values())]
    print(f"\nratios of {label}s (up / down)\n")
    print("| case | " + " | ".join(r[0] for r in ratios) + " |")
    print("|---|" + "---:|" * len(ratios))
    for c, x in m.items():
        cells = [f"{x[a]['up'] / x[b]['up']:.2f} / {x[a]['down'] / x[b]['down']:.2f}"
                 if a in x and b in x else "" for _, a, b in ratios]
        print(f"| {c} | " + " | ".join(cells) + " |")


def report(times, header):
    """times[case][tool][op] = {run: µs}; run 0 (the warm-up) is left out."""
    timed = {c: {t: {o: [us for run, us in v.items() if run > 0] for o, v in ops.items()}
                 for t, ops in tools.items()}
             for c, tools in times.items()}
    runs = len(next(iter(next(iter(timed.values())).values()))["up"])
    print(f"\n{header}\n{runs} timed runs per cell after one warm-up; targets: vgchange ÷ lvmkit ≥ 8× "
          "at 100 LVs and ≥ 6× at 1000, lvmkit ÷ bare ≤ 1.2\n")
    for key, what in TOOLS:
        print(f"  {key:<21} {what}")
    tables(timed, statistics.median, "median")
    tables(timed, min, "minimum")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="10,100,1000", help="linear LVs per VG, comma-separated")
    ap.add_argument("--thin", type=int, default=100, help="thin LVs in the thin-pool VG (0: no thin case)")
    ap.add_argument("--others", type=int, default=100,
                    help="other VGs (one per partition of one more disk) around the 100-LV VG (0: none)")
    ap.add_argument("--vm", choices=["uml", "qemu"], default="uml",
                    help="guest: tests/vm/run-uml.sh (default) or tests/vm/run-qemu.sh (same contract)")
    ap.add_argument("--no-build", action="store_true", help="use the static binaries already built")
    ap.add_argument("--raw", metavar="FILE", help="write every timing (µs) as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (images, guest output)")
    ap.add_argument("--settle", type=float, default=None,
                    help="seconds of untimed pause after each down (default: 0 under uml, 2 under qemu, "
                         "where a removal's kernel clean-up outlived the ioctl and slowed the next tool)")
    ap.add_argument("--uevent-helper", action="store_true",
                    help="leave the UML kernel's /sbin/hotplug uevent helper on (slows every device op)")
    a = ap.parse_args()
    a.sizes = [int(s) for s in a.sizes.split(",") if s]
    if a.settle is None:
        a.settle = 2 if a.vm == "qemu" else 0
    if os.geteuid() != 0:
        sys.exit("needs root (user-mode-linux with the images; tests/vm/setup.sh)")
    r = subprocess.run([os.path.join(ROOT, "tests", "vm", "setup.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tests/vm/setup.sh failed: {r.stderr}")
    if not a.no_build:
        build()
    for exe in (LVMKIT, BARE):
        if not os.path.exists(exe):
            sys.exit(f"{exe} missing (run without --no-build)")
    tmp = tempfile.mkdtemp(prefix="lvmkit-bench-activate-")
    try:
        images = prepare(tmp, a)
        if len(images) > 15:
            sys.exit("at most 15 images in one boot")
        stdout, wall = run_guest(a.vm, tmp, f"BENCH_DIR='{tmp}' LVMKIT='{LVMKIT}' BARE='{BARE}' RUNS={a.runs} "
                                 f"UEVENT_HELPER={'keep' if a.uevent_helper else 'off'} SETTLE={a.settle}",
                                 SCENARIO, images, timeout=1800)
        times, info = {}, []
        for line in stdout.splitlines():
            f = line.split()
            if f[:1] == ["T"]:
                times.setdefault(f[1], {}).setdefault(f[2], {}).setdefault(f[3], {})[int(f[4])] = int(f[5])
            elif f[:1] == ["I"]:
                info.append(line[2:])
        load = open("/proc/loadavg").read().split()[:3]
        host = (f"guest: {a.vm} {info[0]}; boot + build + benchmark {wall:.0f} s; "
                f"host load average at the end {' '.join(load)}")
        for l in info[1:]:
            print(l)
        report(times, host)
        if a.raw:
            with open(a.raw, "w") as f:
                json.dump({"runs": a.runs, "info": info, "times_us_by_run": times}, f, indent=1)
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
