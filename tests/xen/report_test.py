#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""report_test.py - tools/xen/run-xen's analysis of a run, without Xen,
QEMU or images: what it reads from a run directory's console.log and the
per-call counting plugin's cost.out (docs/xen.md 5.6), and from
gdb-multiarch's view of a frozen machine (docs/xen.md section 6).

1. Per xtest suite instruction totals (--cost): dom0 snapshots the
   plugin's running totals at every guest's TG-SUITE-BEGIN/END; a suite's
   figure is its last end snapshot minus its first begin snapshot, over
   every guest that ran it. Checked on a console.log and cost.out written
   here, read by run-xen's own Console and read_cost: two domUs in one
   suite, two suites one after the other, a suite whose window holds
   another suite's boundary (mixed), a guest that never ended its suite
   (destroyed), and a suite with no end.
2. A frozen machine: the per-CPU PC, exception level and Xen symbol from
   gdb-multiarch's output (a canned transcript in the format the commands
   of gdb_commands() print).
Exit 0 pass, 1 fail.
"""
import importlib.machinery
import importlib.util
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def load_run_xen():
    path = os.path.join(ROOT, "tools", "xen", "run-xen")
    loader = importlib.machinery.SourceFileLoader("run_xen", path)
    spec = importlib.util.spec_from_loader("run_xen", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def snap(label, calls, med, tot, out=0):
    return (label, calls, med, tot, out)


def write_run(d, snaps, t0=1000):
    """console.log with one TG-COUNTERS block per snapshot (as dom0.sh
    writes them, 10 s apart) and cost.out with the plugin's snap lines."""
    with open(os.path.join(d, "console.log"), "w") as f:
        f.write("(XEN) boot\n")
        for i, s in enumerate(snaps):
            f.write(f"TG-COUNTERS-BEGIN {s[0]} {t0 + 10 * i}\n"
                    "(XEN) teegate: port pins held 1\n"
                    f"TG-COUNTERS-END {s[0]}\n")
            f.write("[domU1] * regression_1001 ...\n")
    with open(os.path.join(d, "cost.out"), "w") as f:
        for i, s in enumerate(snaps):
            f.write(f"snap key seq={i + 1} calls={s[1]} mediator={s[2]} "
                    f"total={s[3]} outside={s[4]}\n")
        last = snaps[-1]
        f.write(f"kind unmarked calls={last[1]} mediator={last[2]} min=1 "
                f"max=9 total={last[3]} tmin=1 tmax=9\n")
        f.write(f"summary calls={last[1]} mediator={last[2]} "
                f"total={last[3]} outside={last[4]} unverified=0 open=0\n")


def suites_of(rx, snaps):
    with tempfile.TemporaryDirectory() as d:
        write_run(d, snaps)
        con = rx.Console(os.path.join(d, "console.log"), [])
        con.poll()
        cost = rx.read_cost(d, con.keys)
        times = {i + 1: t for i, t in enumerate(con.key_times)}
        return {r["suite"]: r for r in rx.suite_costs(cost["snaps"], times)}


def main():
    rx = load_run_xen()

    # Two domUs in pkcs11 at once: from domU1's begin to domU2's end.
    s = suites_of(rx, [
        snap("start", 10, 1000, 5000),
        snap("domU1-pkcs11-begin", 20, 2000, 9000),
        snap("domU2-pkcs11-begin", 25, 2600, 9900, 7),
        snap("domU1-pkcs11-end", 900, 400000, 2000000, 7),
        snap("domU2-pkcs11-end", 1500, 700000, 3100000, 9),
        snap("end", 1510, 701000, 3105000, 9)])
    p = s.get("pkcs11", {})
    check(p.get("calls") == 1480 and p.get("mediator") == 698000 and
          p.get("total") == 3091000 and p.get("outside") == 9,
          f"two domUs, one suite: the window is domU1's begin to domU2's "
          f"end ({p.get('calls')} calls, {p.get('mediator')} / "
          f"{p.get('total')})")
    check(p.get("guests") == ["domU1", "domU2"] and p.get("complete") and
          not p.get("overlaps") and p.get("secs") == 30,
          f"both guests, complete, nothing mixed, 30 s ({p})")

    # Two suites one after the other in both guests: separate windows.
    s = suites_of(rx, [
        snap("start", 0, 0, 0),
        snap("domU1-regression-begin", 1, 10, 100),
        snap("domU2-regression-begin", 2, 20, 200),
        snap("domU1-regression-end", 50, 500, 5000),
        snap("domU2-regression-end", 60, 600, 6000),
        snap("domU1-pkcs11-begin", 61, 610, 6100),
        snap("domU2-pkcs11-begin", 62, 620, 6200),
        snap("domU2-pkcs11-end", 80, 800, 8000),
        snap("domU1-pkcs11-end", 90, 900, 9000)])
    r, p = s.get("regression", {}), s.get("pkcs11", {})
    check((r.get("calls"), r.get("mediator"), r.get("total")) ==
          (59, 590, 5900) and not r.get("overlaps"),
          f"regression then pkcs11: regression's own window ({r})")
    check((p.get("calls"), p.get("mediator"), p.get("total")) ==
          (29, 290, 2900) and not p.get("overlaps"),
          f"regression then pkcs11: pkcs11's own window ({p})")

    # domU1 moves on to pkcs11 while domU2 is still in regression: both
    # windows hold the other's boundary, and say so.
    s = suites_of(rx, [
        snap("domU1-regression-begin", 0, 0, 0),
        snap("domU2-regression-begin", 1, 1, 1),
        snap("domU1-regression-end", 5, 5, 5),
        snap("domU1-pkcs11-begin", 6, 6, 6),
        snap("domU2-regression-end", 9, 9, 9),
        snap("domU2-pkcs11-begin", 10, 10, 10),
        snap("domU1-pkcs11-end", 12, 12, 12),
        snap("domU2-pkcs11-end", 15, 15, 15)])
    check(s["regression"]["overlaps"] == ["pkcs11"] and
          s["pkcs11"]["overlaps"] == ["regression"],
          "overlapping suites are marked mixed "
          f"({s['regression']['overlaps']}, {s['pkcs11']['overlaps']})")

    # domU2 destroyed in its regression: counted up to domU1's end,
    # marked incomplete; dom0's own snapshots count like a guest's.
    s = suites_of(rx, [
        snap("dom0-regression-begin", 0, 0, 0),
        snap("domU1-regression-begin", 3, 30, 300),
        snap("domU2-regression-begin", 4, 40, 400),
        snap("before-destroy", 7, 70, 700),
        snap("after-destroy", 8, 80, 800),
        snap("domU1-regression-end", 20, 200, 2000),
        snap("dom0-regression-end", 25, 250, 2500)])
    r = s["regression"]
    check(r["calls"] == 25 and r["incomplete"] == ["domU2"] and
          not r["complete"] and r["guests"] == ["dom0", "domU1", "domU2"],
          f"a destroyed guest: counted to the last end, incomplete ({r})")

    # A suite that began and never ended anywhere: no figure.
    s = suites_of(rx, [
        snap("start", 0, 0, 0),
        snap("domU1-benchmark-begin", 1, 1, 1),
        snap("end", 9, 9, 9)])
    b = s["benchmark"]
    check("calls" not in b and not b["complete"],
          f"a suite with no end gets no figure ({b})")

    # Snapshots numbered by the order of TG-COUNTERS-BEGIN lines: a label
    # read from the wrong block would move the window.
    with tempfile.TemporaryDirectory() as d:
        write_run(d, [snap("start", 0, 0, 0),
                      snap("domU1-pkcs11-begin", 5, 50, 500),
                      snap("domU1-pkcs11-end", 8, 80, 800)])
        con = rx.Console(os.path.join(d, "console.log"), [])
        con.poll()
        check(con.keys == ["start", "domU1-pkcs11-begin", "domU1-pkcs11-end"]
              and con.key_times == [1000, 1010, 1020],
              f"console snapshot labels and times ({con.keys}, "
              f"{con.key_times})")

    # gdb-multiarch's transcript of a frozen 2-CPU machine: CPU 1 in Xen's
    # idle loop (EL2h), CPU 2 in a guest kernel (EL1h).
    text = """  Id   Target Id                    Frame
* 1    Thread 1.1 (CPU#0 [halted ]) 0x2a1b40 in idle_loop ()
  2    Thread 1.2 (CPU#1 [running]) 0xffff80000801a2c4 in ?? ()
TG-CPU 1
PC=$1 = 0x2a1b40
CPSR=$2 = 0x3c9
SYM=idle_loop + 64 in section .text
=> 0x2a1b40 <idle_loop+64>:\twfi
ELR_EL2=$3 = 0xffff800008010f00
ESR_EL2=$4 = 0x5a000000
Invalid register `SCR_EL3'
TG-CPU 2
PC=$5 = 0xffff80000801a2c4
CPSR=$6 = 0x3c5
SYM=No symbol matches $pc.
VTTBR_EL2=$7 = 0x1000041a3c000
"""
    cpus = rx.parse_gdb_cpus(text)
    check(len(cpus) == 2, f"two CPUs read ({cpus})")
    if len(cpus) == 2:
        c0, c1 = cpus
        check(c0["pc"] == 0x2a1b40 and c0["el"] == 2 and
              c0["mode"] == "EL2h" and c0["symbol"] == "idle_loop + 64" and
              c0["state"] == "halted" and
              c0["esr_el2"] == 0x5a000000 and "scr_el3" not in c0,
              f"CPU 1: halted, EL2h in Xen's idle_loop ({c0})")
        check(c1["el"] == 1 and c1["mode"] == "EL1h" and
              c1["state"] == "running" and
              "symbol" not in c1 and c1["vttbr_el2"] == 0x1000041a3c000,
              f"CPU 2: running, EL1h, no Xen symbol for a guest address ({c1})")
    cmds = rx.gdb_commands(rx.parse_args(
        ["--images", "/nonexistent", "--gdb", "4321", "--smp", "2"]))
    check("target remote 127.0.0.1:4321" in cmds and
          sum(c.startswith("thread ") for c in cmds) == 2,
          "gdb's commands: the stub's port, one block per CPU")

    print(f"report_test: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
