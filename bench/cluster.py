#!/usr/bin/env python3
"""Failover time decomposed (issue 13): ocf:lvmkit:lvmvg against ocf:heartbeat:LVM-activate in
the real two-node cluster (tests/vm/cluster/run.sh: two UML guests, corosync + pacemaker,
stonith with host-watched fence devices, one shared PV image).

One cluster boot per agent and LV count runs `kill move freeze`: node 1 (running the VG) is
SIGKILLed, boots again and rejoins; the VG is moved back to it with crm_resource --move; then
node 1 is SIGSTOPped. So both failovers fence node 1, whose fence device has no delay (the one
that fences node 2 waits 15 s for the split-brain scenario). For each, from the logs:

    event → node lost        corosync/pacemaker detection (the survivor's pacemaker.log)
    lost → fenced            fencing (fence_dummy off, "Peer node1 was terminated")
    fenced → start invoked   Pacemaker's transition after the fencing
    start invoked → done     the agent's start (what the 0.5 s target judges)
    done → Started           until crm_mon (polled every 0.1 s in the guest) shows it

Guest log times are mapped to the host's clock (each guest writes its clock into a hostfs
file whose mtime is the host's). The target: failover = detection + fencing + at most 0.5 s
for the agent.

    sudo python3 bench/cluster.py [--lvs 1,100] [--agents lvmvg,lvm-activate]

Needs root, tests/vm/setup.sh done (the cluster packages included); builds the static release lvmkit
(bench/ocf.py's static_lvmkit, which is bench/activate.py's build).
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocf import REPO, static_lvmkit  # noqa: E402

SCENARIOS = ["kill", "move", "freeze"]


def run(lvmkit, agent, lvs):
    env = dict(os.environ, LVMKIT=lvmkit, CL_LVS=str(lvs))
    out = subprocess.run([os.path.join(REPO, "tests/vm/cluster/run.sh"), agent, *SCENARIOS],
                         capture_output=True, text=True, env=env)
    rows = {}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            rows[kv["scenario"]] = kv
    if out.returncode != 0 or set(rows) != set(SCENARIOS):
        sys.exit(f"cluster run {agent} ({lvs} LVs) failed:\n{out.stdout[-4000:]}\n{out.stderr[-2000:]}")
    return rows


def num(kv, k):
    v = kv.get(k, "-")
    return None if v in ("-", "") else float(v)


def diff(b, a):
    return None if a is None or b is None else b - a


def fmt(v, unit=""):
    return "—" if v is None else f"{v:.2f}{unit}"


def first_there(r):
    """Whether the start was the node's first there since it booted (its pacemaker ran no
    start of vg before), and for lvmvg whether the kit resource existed before it (`probe`:
    prepared by the probe or an earlier start; `start`: this start created it and read
    `crm_node -l`)."""
    first = {"0": "yes"}.get(r.get("starts_before", ""), "no" if r.get("starts_before") else "—")
    kit = {"yes": " (resource ready)", "no": " (start creates it)"}.get(r.get("recorded", "-"), "")
    return first + kit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lvs", default="1,100")
    ap.add_argument("--agents", default="lvmvg,lvm-activate")
    a = ap.parse_args()
    lvmkit = static_lvmkit()
    agents = a.agents.split(",")
    res = {}
    for lvs in [int(x) for x in a.lvs.split(",")]:
        for agent in agents:
            res[(lvs, agent)] = run(lvmkit, agent, lvs)

    print("### Failover (kill, freeze): seconds from the event, host clock")
    print()
    print("| LVs | agent | event | → lost | lost → fenced | (watcher's kill) | fenced → start invoked | start (agent) |"
          " done → `Started` | event → `Started` | beyond detection + fencing | start exec-time (ms) | first start there |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (lvs, agent), rows in res.items():
        for sc in ("kill", "freeze"):
            r = rows[sc]
            lost, fenced = num(r, "lost"), num(r, "fenced")
            inv, done, started = num(r, "start_invoked"), num(r, "start_done"), num(r, "to_started")
            print(f"| {lvs} | {agent} | {sc} | {fmt(lost)} | {fmt(diff(fenced, lost))} | {fmt(num(r, 'killed'))} |"
                  f" {fmt(diff(inv, fenced))} |"
                  f" {fmt(diff(done, inv))} | {fmt(diff(started, done))} | {fmt(started)} |"
                  f" {fmt(diff(started, fenced))} | {r.get('start_ms', '—')} | {first_there(r)} |")
    print()
    print("### Move (crm_resource --move): seconds from the command")
    print()
    print("| LVs | agent | stop invoked | stop (agent) | stop done → start invoked | start (agent) |"
          " event → `Started` | stop / start exec-time (ms) | first start there |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (lvs, agent), rows in res.items():
        r = rows["move"]
        si, sd = num(r, "stop_invoked"), num(r, "stop_done")
        ti, td = num(r, "start_invoked"), num(r, "start_done")
        print(f"| {lvs} | {agent} | {fmt(si)} | {fmt(diff(sd, si))} | {fmt(diff(ti, sd))} | {fmt(diff(td, ti))} |"
              f" {fmt(num(r, 'to_started'))} | {r.get('stop_ms', '—')} / {r.get('start_ms', '—')} | {first_there(r)} |")
    print()
    print("### Ratios and the target")
    print()
    for lvs in sorted({k[0] for k in res}):
        ours, theirs = res.get((lvs, "lvmvg")), res.get((lvs, "lvm-activate"))
        for sc in ("kill", "freeze", "move"):
            parts = []
            if ours:
                r = ours[sc]
                share = diff(num(r, "start_done"), num(r, "start_invoked"))
                if sc != "move":
                    met = share is not None and share <= 0.5
                    own = int(r["start_ms"]) / 1000 if r.get("start_ms") else None
                    parts.append(f"lvmvg's start in the failover (invoked → done) {fmt(share, ' s')} "
                                 f"({'meets' if met else 'misses'} ≤ 0.5 s), of which its own exec-time "
                                 f"{fmt(own, ' s')} ({'meets' if own is not None and own <= 0.5 else 'misses'} ≤ 0.5 s)")
            if ours and theirs:
                o, t = ours[sc], theirs[sc]
                if o.get("start_ms") and t.get("start_ms"):
                    parts.append(f"start exec-time LVM-activate ÷ lvmvg {int(t['start_ms']) / max(1, int(o['start_ms'])):.1f}×")
                ot, tt = num(o, "to_started"), num(t, "to_started")
                if ot and tt:
                    parts.append(f"event → Started LVM-activate ÷ lvmvg {tt / ot:.2f}×")
                if sc == "move" and o.get("stop_ms") and t.get("stop_ms"):
                    parts.append(f"stop LVM-activate ÷ lvmvg {int(t['stop_ms']) / max(1, int(o['stop_ms'])):.1f}×")
            print(f"- {lvs} LV(s), {sc}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
