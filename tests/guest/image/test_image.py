#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The hostile guest image without a hypervisor.

QEMU (virt, virtualization=on, 2 CPUs) runs the project's EL2 stub
(stub.elf), which drops the image (tg-hostile.Image) to EL1 and answers its
HVCs with a fake OP-TEE, either as a correct mediator would ("mediated") or
as a bare OP-TEE with no mediator ("bare"). Each run must report every
entry of the catalogue, in order, in the documented format, with a summary
that adds up; the mediated runs must find no breach and leave the victim's
pages intact; the bare run must breach exactly the entries marked bare=1
and the victim must see its pages changed.

usage: test_image.py QEMU STUB_ELF IMAGE [HOSTILE_TABLE_C]
(HOSTILE_TABLE_C: src/guest/hostile_table.c, whose entries the image must
report one by one)
Exit 0 pass, 1 fail, 77 skipped (no QEMU or no image).
"""
import re
import shutil
import subprocess
import sys

RAM = "tg.ram=0x40000000,0x4000000"
VICTIM = "tg.victim=0x4A000000 tg.victim_arg=0x4A001000 tg.client=3"
LINE = re.compile(
    r"^TG-HOSTILE (\S+) (\d+) ([a-z0-9_]+) (refused|allowed|BREACHED|skipped) "
    r"contract=(yes|no|-) bare=([01]) a0=(0x[0-9a-f]+) ret=(0x[0-9a-f]+) "
    r"origin=(\d+)(?: why=(.*))?$")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def run(qemu, stub, image, append, label):
    cmd = [qemu, "-machine", "virt,virtualization=on,gic-version=2",
           "-cpu", "max,sme=off", "-smp", "2", "-m", "512M",
           "-nographic", "-nodefaults", "-serial", "stdio",
           "-monitor", "none", "-kernel", stub,
           "-device", f"loader,file={image},addr=0x40200000,force-raw=on",
           "-append", append]
    print(f"# {label}: {' '.join(cmd)}")
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=240)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        print(out)
        check(False, f"{label}: QEMU did not power off within 240 s")
        return out.splitlines()
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 0, f"{label}: QEMU exited {p.returncode}")
    return out.splitlines()


def parse(lines, label, attacks):
    """The per-attack lines and the summary; checks the format."""
    rows, summary, breaches, done = [], None, None, None
    for l in lines:
        if l.startswith("TG-HOSTILE "):
            m = LINE.match(l)
            if check(m, f"{label}: malformed line: {l}"):
                rows.append(m)
        elif l.startswith("TG-HOSTILE-SUMMARY "):
            summary = dict(kv.split("=") for kv in l.split()[2:])
        elif l.startswith("TG-HOSTILE-BREACHES "):
            breaches = l.split()[2]
        elif l.startswith("TG-DONE "):
            done = l.split()[2]
        elif l.startswith(("TG-HOSTILE-FAULT", "TG-STUB-FAULT",
                           "TG-HOSTILE-FAILED")):
            check(False, f"{label}: {l}")
    begin = [l for l in lines if l.startswith("TG-HOSTILE-BEGIN ")]
    check(len(begin) == 1, f"{label}: one TG-HOSTILE-BEGIN line")
    n = int(re.search(r"attacks=(\d+)", begin[0]).group(1)) if begin else 0
    if attacks is not None:
        check(n == attacks, f"{label}: the image has {n} attacks, the "
              f"catalogue {attacks}")
    check(len(rows) == n, f"{label}: {len(rows)} attack lines for {n} "
          "attacks")
    check([int(m.group(2)) for m in rows] == list(range(len(rows))),
          f"{label}: every entry once, in table order")
    check(summary is not None, f"{label}: a summary line")
    count = {v: sum(1 for m in rows if m.group(4) == v)
             for v in ("refused", "allowed", "BREACHED", "skipped")}
    if summary:
        check(int(summary["ran"]) == len(rows), f"{label}: summary ran")
        for k, v in (("refused", "refused"), ("allowed", "allowed"),
                     ("breached", "BREACHED"), ("skipped", "skipped")):
            check(int(summary[k]) == count[v],
                  f"{label}: summary {k}={summary[k]}, lines say {count[v]}")
    listed = [] if breaches in (None, "none") else breaches.split(",")
    check(listed == [m.group(3) for m in rows if m.group(4) == "BREACHED"],
          f"{label}: the breach list names every BREACHED line")
    check(done == f"rc={count['BREACHED']}", f"{label}: TG-DONE {done}")
    return rows, count


def victim(lines):
    v = [l for l in lines if l.startswith("TG-STUB-VICTIM ")]
    return v[0].split(" ", 1)[1] if v else None


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    qemu, stub, image = argv[1:4]
    attacks = None
    if len(argv) > 4:
        with open(argv[4]) as f:
            attacks = len(re.findall(r"^\t\[A_[A-Z0-9_]+\] = \{", f.read(),
                                     re.M))
    if not shutil.which(qemu):
        print(f"{qemu} not found: skipped (Debian: qemu-system-arm)")
        return 77
    for f in (stub, image):
        try:
            open(f, "rb").close()
        except OSError:
            print(f"{f} missing: skipped (needs aarch64-linux-gnu-gcc)")
            return 77

    # 1. a correct mediator: nothing breached, every attack tried
    lines = run(qemu, stub, image,
                f"stub.policy=mediated {RAM} {VICTIM}", "mediated")
    rows, count = parse(lines, "mediated", attacks)
    check(count["BREACHED"] == 0, "mediated: no breach")
    check(count["skipped"] == 0, "mediated: nothing skipped (2 vCPUs)")
    check(victim(lines) == "intact", f"mediated: victim {victim(lines)}")
    bare_names = [m.group(3) for m in rows if m.group(6) == "1"]
    check(len(bare_names) >= 10, f"mediated: {len(bare_names)} entries "
          "marked bare=1")
    for name in ("victim_page_in_list", "victim_page_registered",
                 "forged_a7_session", "arg_in_victim_memory",
                 "get_shm_config", "vm_created", "vm_destroyed",
                 "vm_created_duplicate"):
        check(name in bare_names, f"{name} is in the table, marked bare=1")

    # 2. a bare OP-TEE: exactly the bare=1 entries breach, the victim sees it
    lines = run(qemu, stub, image, f"stub.policy=bare {RAM} {VICTIM}",
                "bare")
    rows, count = parse(lines, "bare", attacks)
    for m in rows:
        want = m.group(6) == "1"
        check((m.group(4) == "BREACHED") == want,
              f"bare: {m.group(3)} {m.group(4)}, expected "
              f"{'BREACHED' if want else 'not breached'}")
    why = {m.group(3): m.group(10) for m in rows}
    check(why.get("victim_page_in_list") == "read the victim's canary",
          f"bare: victim_page_in_list saw {why.get('victim_page_in_list')}")
    v = victim(lines) or ""
    check(v.startswith("corrupted"), f"bare: victim {v}")

    # 3. the named page is the attacker's own RAM: a mediator's answer
    # (its own page), not a breach; an unknown key is reported
    lines = run(qemu, stub, image,
                f"stub.policy=mediated {RAM} tg.victim=0x43000000 "
                "tg.client=3 tg.bogus=1", "own page")
    rows, count = parse(lines, "own page", attacks)
    check(count["BREACHED"] == 0, "own page: no breach")
    why = {m.group(3): m.group(10) for m in rows}
    for name in ("victim_page_in_list", "victim_page_written",
                 "victim_page_registered", "arg_in_victim_memory"):
        check(why.get(name) == "the address named the attacker's own page",
              f"own page: {name}: {why.get(name)}")
    check(any(l.startswith("TG-HOSTILE-ARG ignored 'tg.bogus=1'")
              for l in lines), "own page: the unknown key is reported")

    # 4. Xen's PV console (the stub serves the ring): every line through
    # it, none through console_io
    lines = run(qemu, stub, image,
                f"stub.policy=mediated {RAM} {VICTIM} tg.console=pv "
                "tg.only=victim_page_in_list", "pv console")
    check(any(l.startswith("TG-HOSTILE hostile 38 victim_page_in_list "
                           "refused") for l in lines),
          "pv console: the attack's line came through the ring")
    check(any(l.startswith("TG-DONE hostile rc=0") for l in lines),
          "pv console: TG-DONE")
    end = [l for l in lines if l.startswith("TG-STUB-END ")]
    m = re.search(r"hyp_bytes=(\d+) pv_bytes=(\d+)", end[0] if end else "")
    check(m and int(m.group(1)) == 0 and int(m.group(2)) > 300,
          f"pv console: all bytes through the ring: {end}")
    check(not any("not available" in l for l in lines),
          "pv console: no fallback")

    print(f"# {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
