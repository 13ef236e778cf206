#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The oracle plugin's per-call counting and the hostile image's cost
mode, without Xen.

The image (tg.mode=cost) makes each kind of OP-TEE call from its own call
site; the project's EL2 stub answers them (its fake OP-TEE, as a mediator
would). The plugin counts the stub's instructions between its call of
stub_sync and the return, per kind named by the image's call sites
(cost-ranges.py --mark-prefix tg_cost_site_). Checked: every kind the
image reports has exactly the number of calls it made; a deterministic
kind costs the same every time; a registration costs more with more pages.

usage: test_cost_image.py QEMU PLUGIN COST_RANGES_PY STUB_ELF IMAGE IMAGE_ELF WORKDIR
Exit 0 pass, 1 fail, 77 skipped (no QEMU).
"""
import os
import re
import shutil
import subprocess
import sys

REPS = 3
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def main(argv):
    if len(argv) < 8:
        print(__doc__)
        return 2
    qemu, plugin, ranges_py, stub, image, image_elf, work = argv[1:8]
    if not shutil.which(qemu):
        print(f"{qemu} not found: skipped (Debian: qemu-system-arm)")
        return 77
    ranges = os.path.join(work, "stub.ranges")
    out = os.path.join(work, "stub.cost")
    r = subprocess.run([sys.executable, ranges_py, stub, "--count-symbols",
                        ".", "--total-section", ".text", "--call",
                        "stub_sync", "--mark-elf", image_elf,
                        "--mark-prefix", "tg_cost_site_", "-o", ranges])
    if not check(r.returncode == 0, "cost-ranges.py wrote the ranges"):
        return 1
    cmd = [qemu, "-machine", "virt,virtualization=on,gic-version=2",
           "-cpu", "max,sme=off", "-smp", "2", "-m", "512M", "-nographic",
           "-nodefaults", "-serial", "stdio", "-monitor", "none",
           "-kernel", stub,
           "-device", f"loader,file={image},addr=0x40200000,force-raw=on",
           "-append", "stub.policy=mediated tg.ram=0x40000000,0x4000000 "
           f"tg.client=3 tg.mode=cost tg.reps={REPS}",
           "-plugin", f"{plugin},ranges={ranges},out={out}"]
    print("# " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=240)
    text = p.stdout.decode(errors="replace")
    print(text)
    check(p.returncode == 0, f"QEMU exited {p.returncode}")
    check("TG-COST-END hostile failed=0" in text, "the cost mode's calls "
          "all answered as expected")
    kinds = {}
    with open(out) as f:
        for line in f:
            print("  " + line.rstrip())
            w = line.split()
            if w and w[0] == "kind":
                kinds[w[1]] = {k: int(v) for k, v in
                               (x.split("=") for x in w[2:])}
    reported = dict(re.findall(r"^TG-COST hostile kind=(\S+) calls=(\d+)",
                               text, re.M))
    rpc = re.search(r"kind=rpc calls=\d+ ok=\d+ alloc=(\d+) cmd=(\d+) "
                    r"free=(\d+)", text)
    want = {"fast": REPS, "invoke4": REPS, "open": 2, "close": 2,
            "reg1": REPS, "reg16": REPS, "reg128": REPS, "reg512": REPS,
            "unregister": 3 * REPS, "rpc_call": REPS}
    if check(rpc is not None, "the rpc line"):
        want.update(rpc_alloc_ret=int(rpc.group(1)),
                    rpc_cmd_ret=int(rpc.group(2)),
                    rpc_free_ret=int(rpc.group(3)))
    check(all(int(reported.get(k, -1)) == REPS for k in
              ("fast", "invoke4", "reg1", "reg16", "reg128", "reg512")),
          f"the image reports {REPS} calls of each kind: {reported}")
    for k, n in want.items():
        got = kinds.get(k, {}).get("calls")
        check(got == n, f"plugin: kind {k}: {got} calls, the image made {n}")
        if got:
            check(kinds[k]["mediator"] > 0, f"{k}: some instructions")
    if "fast" in kinds:
        check(kinds["fast"]["min"] == kinds["fast"]["max"],
              f"fast: the same count every time: {kinds['fast']}")
    if all(k in kinds for k in ("reg1", "reg16", "reg128")):
        m1, m16, m128 = (kinds[k]["min"] for k in ("reg1", "reg16", "reg128"))
        check(m1 < m16 < m128, f"registration grows with pages: {m1} {m16} "
              f"{m128}")
        print(f"# per registered page (the stub's fake TEE): "
              f"{(m128 - m16) / 112:.1f} instructions")
    check("unmarked" in kinds, "the image's other HVCs (console, PSCI) "
          "count as unmarked")
    print(f"# {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
