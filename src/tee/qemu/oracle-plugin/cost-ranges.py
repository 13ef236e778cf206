#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""cost-ranges.py - the ranges file of the oracle plugin's per-call counting
(tg-oracle.so,ranges=FILE), from ELF files.

Reads symbols with binutils (aarch64-linux-gnu-nm and -objdump by default)
and writes the lines the plugin reads (see the header of calls.c):

  cost-ranges.py ELF [options] -o RANGES

  --count-object OBJ     count every function OBJ defines (a .o linked into
                         ELF: found in ELF by name and size). Repeatable.
  --count-symbols REGEX  count every function of ELF whose name matches.
  --total-section NAME   the whole section counts in the calls' "total"
                         (e.g. .text of xen-syms). Repeatable.
  --call FUNC            a call begins at every "bl FUNC" in ELF and ends
                         at the instruction after it (Xen: tee_handle_call,
                         whose mediator returns there).
  --begin SYM, --end SYM begin / end at a symbol's address instead.
  --snap SYM=LABEL       a snapshot of the totals whenever SYM runs (Xen:
                         handle_keypress, i.e. xl debug-keys). Repeatable.
  --mark-elf ELF2        the guest whose call sites name the kinds
  --mark SYM=KIND        executing SYM (in ELF2) names the next call's kind.
                         Repeatable.
  --mark-prefix PREFIX   every symbol PREFIXKIND of ELF2 is a mark of KIND
                         (the hostile image's call sites: tg_cost_site_)
  --tools PREFIX         binutils prefix (default aarch64-linux-gnu-)

Every address is checked against the bytes of its ELF by the plugin (the
"elf" lines): code of another exception level at the same virtual address
does not count.

Xen's own mediator and teegate's port, from one Xen build tree each:
  cost-ranges.py xen-syms --count-object xen/arch/arm/tee/optee.o \\
      --total-section .text --call tee_handle_call \\
      --snap handle_keypress=key --mark-elf tg-hostile.elf \\
      --mark-prefix tg_cost_site_ -o optee.ranges
  cost-ranges.py xen-syms --count-object .../tee/teegate/tg_xen.o \\
      --count-object .../teegate/core/*.o --count-object .../optee/*.o ...

Exit 0, or 2 with one line saying what is wrong.
"""
import argparse
import os
import re
import subprocess
import sys


def fail(msg):
    print(f"cost-ranges: {msg}", file=sys.stderr)
    sys.exit(2)


def run(tool, args):
    try:
        return subprocess.run([tool] + args, check=True,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE).stdout.decode()
    except FileNotFoundError:
        fail(f"{tool} not found: install binutils-aarch64-linux-gnu "
             "(or give --tools PREFIX)")
    except subprocess.CalledProcessError as e:
        fail(f"{tool} {' '.join(args)}: {e.stderr.decode().strip()}")


def symbols(tools, path):
    """[(addr, size, type, name)] of the defined symbols of @path."""
    out = []
    for line in run(tools + "nm", ["-S", "--defined-only", path]).splitlines():
        f = line.split()
        if len(f) == 4:
            out.append((int(f[0], 16), int(f[1], 16), f[2], f[3]))
        elif len(f) == 3:
            out.append((int(f[0], 16), 0, f[1], f[2]))
    return out


def section(tools, path, name):
    for line in run(tools + "readelf", ["-S", "-W", path]).splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+"
                     r"[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) == name:
            return int(m.group(2), 16), int(m.group(3), 16)
    fail(f"{path} has no section {name}")


def main(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("elf")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--count-object", action="append", default=[])
    p.add_argument("--count-symbols")
    p.add_argument("--total-section", action="append", default=[])
    p.add_argument("--call")
    p.add_argument("--begin")
    p.add_argument("--end")
    p.add_argument("--snap", action="append", default=[])
    p.add_argument("--mark-elf")
    p.add_argument("--mark", action="append", default=[])
    p.add_argument("--mark-prefix")
    p.add_argument("--tools", default="aarch64-linux-gnu-")
    a = p.parse_args(argv)
    for f in [a.elf] + a.count_object + ([a.mark_elf] if a.mark_elf else []):
        if not os.path.isfile(f):
            fail(f"{f} does not exist")
    if (a.mark or a.mark_prefix) and not a.mark_elf:
        fail("--mark needs --mark-elf (the guest image whose call sites "
             "name the kinds)")
    if bool(a.begin) != bool(a.end):
        fail("--begin and --end go together")
    if not (a.call or a.begin):
        fail("no call boundary: give --call FUNC or --begin SYM --end SYM")

    syms = symbols(a.tools, a.elf)
    by_name = {}
    for s in syms:
        by_name.setdefault(s[3], []).append(s)
    funcs = [s for s in syms if s[2] in "tT"]
    lines = [f"# cost-ranges.py {' '.join(argv)}",
             f"elf x {os.path.abspath(a.elf)}"]
    counted = []

    def addr_of(name, table=by_name, where=a.elf):
        c = table.get(name)
        if not c:
            fail(f"{where} has no symbol {name}")
        if len(c) > 1:
            fail(f"{where} has {len(c)} symbols named {name}")
        return c[0][0]

    for obj in a.count_object:
        for off, size, typ, name in symbols(a.tools, obj):
            if typ not in "tT" or not size:
                continue
            cand = [s for s in by_name.get(name, [])
                    if s[1] == size and s[2] in "tT"]
            if not cand:
                fail(f"{name} ({size} bytes) of {obj} is not in {a.elf}: "
                     "is this the build tree of that hypervisor?")
            if len(cand) > 1:
                lines.append(f"# {name}: {len(cand)} functions of that name "
                             "and size in the ELF, all counted")
            for s in cand:
                counted.append((s[0], s[0] + size, name))
    if a.count_symbols:
        rx = re.compile(a.count_symbols)
        for addr, size, typ, name in funcs:
            if rx.search(name) and size:
                counted.append((addr, addr + size, name))
    if not counted:
        fail("nothing to count: give --count-object or --count-symbols "
             "(that match a function with a size)")
    for start, end, name in sorted(set(counted)):
        lines.append(f"count x {start:#x} {end:#x} {name}")
    for sec in a.total_section:
        start, size = section(a.tools, a.elf, sec)
        lines.append(f"total x {start:#x} {start + size:#x} {sec}")
    if a.call:
        target = addr_of(a.call)
        sites = []
        rx = re.compile(r"^\s*([0-9a-f]+):\s+[0-9a-f]{8}\s+bl\s+"
                        + f"{target:x}" + r"\s")
        for line in run(a.tools + "objdump", ["-d", a.elf]).splitlines():
            m = rx.match(line)
            if m:
                sites.append(int(m.group(1), 16))
        if not sites:
            fail(f"no 'bl {a.call}' in {a.elf}: was it inlined?")
        for s in sites:
            lines.append(f"begin x {s:#x}")
            lines.append(f"end x {s + 4:#x}")
    if a.begin:
        lines.append(f"begin x {addr_of(a.begin):#x}")
        lines.append(f"end x {addr_of(a.end):#x}")
    for snap in a.snap:
        sym, _, label = snap.partition("=")
        if not label:
            fail(f"--snap {snap}: use SYMBOL=LABEL")
        lines.append(f"snap x {addr_of(sym):#x} {label}")
    if a.mark_elf:
        lines.append(f"elf g {os.path.abspath(a.mark_elf)}")
        gsyms = {}
        for s in symbols(a.tools, a.mark_elf):
            gsyms.setdefault(s[3], []).append(s)
        marks = []
        for mark in a.mark:
            sym, _, kind = mark.partition("=")
            if not kind:
                fail(f"--mark {mark}: use SYMBOL=KIND")
            marks.append((sym, kind))
        if a.mark_prefix:
            found = sorted(n for n in gsyms if n.startswith(a.mark_prefix)
                           and len(n) > len(a.mark_prefix))
            if not found:
                fail(f"{a.mark_elf} has no symbol {a.mark_prefix}*")
            marks += [(n, n[len(a.mark_prefix):]) for n in found]
        for sym, kind in marks:
            lines.append(f"mark g {addr_of(sym, gsyms, a.mark_elf):#x} "
                         f"{kind}")
    with open(a.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
