#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The oracle plugin's per-call counting (tg-oracle.so,ranges=) on a machine
whose counts are known (prog.S, med.S).

usage: test_cost.py QEMU PLUGIN COST_RANGES_PY PROG_ELF MED_O WORKDIR [OTHER_ELF]

1. cost-ranges.py writes the ranges from prog.elf and med.o; QEMU runs
   prog.elf with the plugin; every count must be exact:
     mediator(n) = 2n + 5 instructions (med.S), total(n) = 2n + 8 (+ helper)
     kind A: 5 calls of n = 100, kind B: 3 of n = 1000, unmarked: 1 of n = 10
     outside any call: one mediator(7) = 19; a snapshot at power-off.
2. The same ranges checked against another ELF (OTHER_ELF, the hostile
   guest image): no address verifies, nothing is counted.
3. A bad plugin argument: QEMU refuses to start, with the plugin's message.
Exit 0 pass, 1 fail, 77 skipped (no QEMU).
"""
import os
import re
import shutil
import subprocess
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def qemu_run(qemu, plugin_arg, elf):
    cmd = [qemu, "-machine", "virt,virtualization=on,gic-version=2",
           "-cpu", "max,sme=off", "-m", "256M", "-nographic", "-nodefaults",
           "-monitor", "none", "-kernel", elf, "-plugin", plugin_arg]
    print("# " + " ".join(cmd))
    return subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)


def parse(path):
    kinds, snaps, summary, ranges = {}, [], None, {}
    with open(path) as f:
        for line in f:
            print("  " + line.rstrip())
            w = line.split()
            if not w:
                continue
            kv = dict(x.split("=", 1) for x in w[2:] if "=" in x)
            if w[0] == "kind":
                kinds[w[1]] = {k: int(v) for k, v in kv.items()}
            elif w[0] == "snap":
                snaps.append((w[1], {k: int(v) for k, v in kv.items()}))
            elif w[0] == "range":
                ranges[w[1]] = {k: int(v) for k, v in kv.items()}
            elif w[0] == "summary":
                summary = {k: int(v) for k, v in
                           (x.split("=") for x in w[1:])}
    return kinds, snaps, summary, ranges


def med(n):
    return 2 * n + 5


def tot(n):
    return 2 * n + 8


def main(argv):
    if len(argv) < 7:
        print(__doc__)
        return 2
    qemu, plugin, ranges_py, prog, med_o, work = argv[1:7]
    other = argv[7] if len(argv) > 7 else ""
    if not shutil.which(qemu):
        print(f"{qemu} not found: skipped (Debian: qemu-system-arm)")
        return 77
    ranges = os.path.join(work, "prog.ranges")
    out = os.path.join(work, "prog.cost")
    calls = os.path.join(work, "prog.calls")
    r = subprocess.run([sys.executable, ranges_py, prog, "--count-object",
                        med_o, "--total-section", ".text", "--call",
                        "mediator", "--snap", "power_off=end", "--mark-elf",
                        prog, "--mark", "site_a=A", "--mark", "site_b=B",
                        "-o", ranges])
    if not check(r.returncode == 0, "cost-ranges.py wrote the ranges"):
        return 1

    p = qemu_run(qemu, f"{plugin},ranges={ranges},out={out},log={calls}",
                 prog)
    check(p.returncode == 0, f"QEMU exited {p.returncode}: "
          f"{p.stdout.decode(errors='replace')[-300:]}")
    kinds, snaps, summary, rng = parse(out)
    want = {"A": (5, 100), "B": (3, 1000), "unmarked": (1, 10)}
    for k, (n, loops) in want.items():
        got = kinds.get(k)
        if not check(got is not None, f"kind {k} reported"):
            continue
        check(got["calls"] == n, f"{k}: {got['calls']} calls, want {n}")
        check(got["mediator"] == n * med(loops) and
              got["min"] == got["max"] == med(loops),
              f"{k}: mediator {got['mediator']} (min {got['min']}, max "
              f"{got['max']}), want {n} x {med(loops)}")
        check(got["total"] == n * tot(loops) and
              got["tmin"] == got["tmax"] == tot(loops),
              f"{k}: total {got['total']}, want {n} x {tot(loops)}")
    check(set(kinds) == set(want), f"kinds {sorted(kinds)}")
    all_med = sum(n * med(l) for n, l in want.values())
    all_tot = sum(n * tot(l) for n, l in want.values())
    check(summary is not None and summary["calls"] == 9 and
          summary["mediator"] == all_med and summary["total"] == all_tot and
          summary["outside"] == med(7) and summary["unverified"] == 0 and
          summary["open"] == 0, f"summary {summary}, want 9 calls, "
          f"mediator {all_med}, total {all_tot}, outside {med(7)}")
    check(rng.get("mediator") == {"in_calls": all_med, "outside": med(7)},
          f"range mediator {rng.get('mediator')}")
    check(len(snaps) == 1 and snaps[0][0] == "end" and
          snaps[0][1]["calls"] == 9 and snaps[0][1]["mediator"] == all_med,
          f"one snapshot at power-off with the totals: {snaps}")
    with open(calls) as f:
        per_call = [l.split() for l in f if l.startswith("call ")]
    check([c[3] for c in per_call] ==
          ["kind=A"] * 5 + ["kind=B"] * 3 + ["kind=unmarked"],
          "per-call log: the calls in order with their kinds")

    if other:
        bad = os.path.join(work, "prog-wrong.ranges")
        with open(ranges) as f, open(bad, "w") as g:
            for line in f:
                if line.startswith("elf "):
                    line = re.sub(r"^elf (\S+) .*$", rf"elf \1 {other}",
                                  line.rstrip()) + "\n"
                g.write(line)
        out2 = os.path.join(work, "prog-wrong.cost")
        p = qemu_run(qemu, f"{plugin},ranges={bad},out={out2}", prog)
        check(p.returncode == 0, f"QEMU exited {p.returncode}")
        kinds, snaps, summary, rng = parse(out2)
        check(summary is not None and summary["calls"] == 0 and
              summary["mediator"] == 0 and summary["outside"] == 0 and
              summary["unverified"] > 0 and not snaps,
              f"against another ELF nothing counts: {summary}")

    # A comment line longer than the plugin's line buffer (cost-ranges.py
    # writes its whole command line as the first comment: with twenty
    # objects under a long directory it passed 1,024 characters) is
    # skipped whole; a long data line is an error that says so.
    longc = os.path.join(work, "prog-longcomment.ranges")
    with open(ranges) as f, open(longc, "w") as g:
        g.write("# " + "x" * 3000 + "\n")
        g.write(f.read())
    out3 = os.path.join(work, "prog-longcomment.cost")
    p = qemu_run(qemu, f"{plugin},ranges={longc},out={out3}", prog)
    check(p.returncode == 0, f"a 3,000-character comment: QEMU exited "
          f"{p.returncode}: {p.stdout.decode(errors='replace')[-300:]}")
    kinds, snaps, summary, rng = parse(out3)
    check(summary is not None and summary["calls"] == 9 and
          summary["mediator"] == all_med,
          f"a 3,000-character comment: the same counts: {summary}")
    longd = os.path.join(work, "prog-longdata.ranges")
    with open(ranges) as f, open(longd, "w") as g:
        g.write(f.read())
        g.write("count x 0x0 0x4 " + "n" * 3000 + "\n")
    p = qemu_run(qemu, f"{plugin},ranges={longd},out={out3}", prog)
    text = p.stdout.decode(errors="replace")
    check(p.returncode != 0 and "is longer than" in text,
          f"a 3,000-character data line stops QEMU with the plugin's "
          f"message: {text[-300:]!r}")

    p = qemu_run(qemu, f"{plugin},ranges={ranges},out={out},bogus=1", prog)
    text = p.stdout.decode(errors="replace")
    check(p.returncode != 0 and
          "tg-oracle: unknown argument 'bogus=1' with ranges=" in text,
          f"a bad argument stops QEMU with the plugin's message: {text!r}")
    print(f"# {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
