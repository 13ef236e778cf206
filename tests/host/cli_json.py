#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""cli_json.py FILE -- CMD... - run a teegate command that writes FILE with
--json, then read FILE back and check what it says.

FILE is removed first, so a file left by an earlier run cannot pass. The
command's output goes through unchanged (the test's own pass expression
still reads it); then one line, "json: ok: ..." or "json: FAIL: ...".
The exit status is the command's, or 1 if it exited 0 and the JSON is
wrong; tests that match the output set FAIL_REGULAR_EXPRESSION "json: FAIL"
as well, since a pass expression makes CTest ignore the exit status.

What is checked, beyond being JSON:
- demo: the run the command line asked for (guests, vCPUs, seconds,
  hostile, backend, --chaos, --upgrade); one entry per guest, named as
  the table names them; each guest's counts add up to the totals of
  "checks"; "ok" is exactly the conjunction of the checks it reports,
  and agrees with the "result:" line; what --chaos and --upgrade report
  is consistent (restart times, their median and maximum);
- bench: every configuration and operation the command ran, with the
  samples it asked for, and the same p50, p99 and calls/s as the table.
- bench --scaling: every mode, guest count (1, 2, 4, 8; thread guests 1,
  2, 4) and operation of the table, with its numbers; calls/s agrees with
  the calls made in the run's time, and "x1" is calls/s over the same
  mode's with 1 guest; with --repeat N, each entry lists N runs' calls/s
  and its calls/s is their median; the load averages are printed.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys

BENCH_CONFIGS = ["direct", "inline", "sandboxed", "service", "service-poll",
                 "service-per-guest"]
# op key, table name, iterations (bench.c: op_iters)
BENCH_OPS = [("fast_call", "fast call", 4000),
             ("invoke_values", "invoke 4 values", 2000),
             ("invoke_tmem_1m", "invoke 1 MiB tmem", 100),
             ("register_shm_64m", "reg+unreg 64 MiB", 10),
             ("rpc_get_time", "RPC GET_TIME", 500)]


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def opts(argv):
    """The command's --name VALUE / --name=VALUE options, as a dict."""
    out = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if not eq and i + 1 < len(argv) and \
                    not argv[i + 1].startswith("--"):
                val = argv[i + 1]
                i += 1
            out[name] = val if (eq or val) else True
        i += 1
    return out


def is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_demo(d, o, stdout):
    n = 0
    need(d.get("tool") == "teegate demo", "tool is not 'teegate demo'")
    need(d.get("backend") == o.get("backend", "model"), "backend")
    asked = o.get("protocol", "auto")
    need(d.get("protocol") in ("optee", "ffa") and
         (asked == "auto" or d.get("protocol") == asked),
         "protocol %r, asked %r" % (d.get("protocol"), asked))
    guests = int(o.get("guests", 4))
    hostile = "no-hostile" not in o
    need(d.get("guests") == guests, "guests: %r, asked %d"
         % (d.get("guests"), guests))
    need(d.get("vcpus") == int(o.get("vcpus", 2)), "vcpus")
    need(d.get("seconds") == int(o.get("seconds", 20)), "seconds")
    need(d.get("hostile") is hostile, "hostile")
    el = d.get("elapsed_s")
    need(isinstance(el, float) and el >= d["seconds"] - 0.5,
         "elapsed_s %r shorter than the run" % el)
    n += 7

    rows = d.get("per_guest")
    names = ["mixed-%d" % (i + 1) for i in range(guests)] + \
        (["hostile"] if hostile else [])
    need(isinstance(rows, list) and [r.get("name") for r in rows] == names,
         "per_guest names %r, expected %r"
         % ([r.get("name") for r in rows or []], names))
    chaos = "chaos" in o
    counts = ["client_id", "calls", "p50_ns", "p99_ns", "verified",
              "mismatches", "errors", "attacks_refused", "attacks_passed",
              "mediator_refusals", "traps"] + (["interrupted"] if chaos
                                                 else [])
    for r in rows:
        for k in counts:
            need(is_count(r.get(k)), "%s: %s is %r" % (r["name"], k,
                                                     r.get(k)))
        need(("interrupted" in r) == chaos, "%s: interrupted key without "
             "--chaos or missing with it" % r["name"])
        need(r["workload"] == ("hostile" if r["name"] == "hostile"
                               else "mixed"), "%s: workload" % r["name"])
        need(r["p50_ns"] <= r["p99_ns"], "%s: p50 above p99" % r["name"])
        # both rounded: elapsed_s to 1 ms, calls_per_s to 0.1
        need(r["calls"] / (el + 0.0005) - 0.0501 <= r["calls_per_s"] <=
             r["calls"] / (el - 0.0005) + 0.0501,
             "%s: calls_per_s %r is not calls / elapsed_s"
             % (r["name"], r["calls_per_s"]))
        n += len(counts) + 4
    ids = [r["client_id"] for r in rows]
    need(len(set(ids)) == len(ids), "client ids not distinct")

    c = d.get("checks")
    need(isinstance(c, dict), "no checks object")
    for k in ["mismatches", "errors", "attacks_refused", "attacks_passed"]:
        need(c.get(k) == sum(r[k] for r in rows),
             "checks.%s %r is not the guests' sum" % (k, c.get(k)))
        n += 1
    qemu = d["backend"] == "qemu"
    need(c.get("model_threads_held", 0) is None if qemu
         else is_count(c.get("model_threads_held")),
         "checks.model_threads_held %r (null only with real OP-TEE)"
         % c.get("model_threads_held"))
    # real OP-TEE: the oracle plugin's count, or null without it
    oracle = not qemu or "no-oracle" not in o
    need(is_count(c.get("oracle_violations")) if oracle
         else c.get("oracle_violations", 0) is None,
         "checks.oracle_violations %r (null only with --no-oracle)"
         % c.get("oracle_violations"))
    need(("oracle_checked" in c) == (qemu and oracle),
         "checks.oracle_checked only with the oracle plugin")
    clean = c.get("guests_exited_cleanly")
    if clean:
        need(all(r["exit_status"] == 0 and r["signal"] == 0 for r in rows),
             "guests_exited_cleanly but a guest did not exit 0")
    medlife = chaos or "upgrade" in o
    need(("mediator_restarted_with_state" in c) == medlife,
         "mediator_restarted_with_state without --chaos/--upgrade or "
         "missing with them")
    need(("failed_calls_accounted" in c) == chaos, "failed_calls_accounted")
    need(("upgraded" in c) == ("upgrade" in o), "upgraded")
    verdict = (clean is True and c.get("interrupted") is False and
               c["mismatches"] == 0 and c["errors"] == 0 and
               (not hostile or c["attacks_passed"] == 0) and
               c.get("pinned_pages") == 0 and
               c.get("guest_pages_left") == 0 and
               c.get("quarantined_pages") == 0 and
               c.get("mediator_pages") == 0 and
               (qemu or c["model_threads_held"] == 0) and
               (not oracle or c["oracle_violations"] == 0) and
               (not qemu or not oracle or c["oracle_checked"] > 0) and
               c.get("mediator_restarted_with_state", True) is True and
               c.get("failed_calls_accounted", True) is True and
               c.get("upgraded", True) is True)
    need(d.get("ok") is verdict, "ok is %r, its checks say %r"
         % (d.get("ok"), verdict))
    m = re.findall(r"^result: (PASS|FAIL)$", stdout, re.M)
    need(m and (m[-1] == "PASS") == d["ok"],
         "ok %r but the run printed 'result: %s'"
         % (d["ok"], m[-1] if m else "?"))
    n += 10

    if chaos:
        ch = d.get("chaos")
        need(isinstance(ch, dict), "--chaos but no chaos object")
        interval = 3 if o["chaos"] is True else int(o["chaos"])
        need(ch.get("interval_s") == interval, "chaos.interval_s")
        t = ch.get("restart_ms")
        need(isinstance(t, list) and all(isinstance(x, float) and x > 0
                                         for x in t), "chaos.restart_ms")
        need(len(t) <= ch["kills"], "more restart times than kills")
        need(ch["kills"] >= 1, "--chaos killed nothing")
        if t:
            s = sorted(t)
            med = (s[len(s) // 2] if len(s) % 2 else
                   (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2)
            need(ch["restart_ms_max"] == s[-1], "restart_ms_max")
            need(abs(ch["restart_ms_median"] - med) <= 0.0011,
                 "restart_ms_median %r, the times say %r"
                 % (ch["restart_ms_median"], med))
        need(ch["guests_interrupted"] ==
             sum(r["interrupted"] for r in rows), "chaos.guests_interrupted")
        n += 8
    else:
        need("chaos" not in d, "chaos object without --chaos")
    if "upgrade" in o:
        u = d.get("upgrade")
        need(isinstance(u, dict) and u.get("path") == o["upgrade"],
             "upgrade.path %r, asked %r" % (u and u.get("path"),
                                            o["upgrade"]))
        if u["at_s"] is not None:
            need(0 < u["at_s"] < el, "upgrade.at_s %r outside the run"
                 % u["at_s"])
            need(is_count(u["calls_failed"]), "upgrade.calls_failed")
        else:
            need(u["ok"] is False, "upgrade.ok without a time")
        need(not c["upgraded"] or u["ok"] is True,
             "checks.upgraded but upgrade.ok is not true")
        n += 4
    else:
        need("upgrade" not in d, "upgrade object without --upgrade")
    return n


def bench_table(stdout):
    """{(op key, config, guests): (p50, p99, calls/s, errors)} of the table."""
    rows = {}
    op = None
    names = {name: key for key, name, _ in BENCH_OPS}
    for line in stdout.splitlines():
        for name in names:
            if line.startswith(name + " ") and "config" in line:
                op = names[name]
        m = re.match(r"^\s+(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)"
                     r"\s+(\d+)$", line)
        if op and m:
            rows[(op, m.group(1), int(m.group(2)))] = (
                float(m.group(3)), float(m.group(4)), float(m.group(5)),
                int(m.group(6)))
    return rows


def check_bench(d, o, stdout):
    n = 0
    need(isinstance(d.get("machine"), str) and "CPUs" in d["machine"],
         "machine")
    need(d.get("unit") == "us", "unit")
    trap = "trap-on-vcpu" in o
    need(("guests" in d) == trap, "top-level guests only with "
         "--trap-on-vcpu")
    res = d.get("results")
    need(isinstance(res, list) and res, "no results")
    div = 20 if "quick" in o else 1
    gmax = 1 if ("one-guest" in o or trap) else 4
    configs = [o["only"]] if "only" in o else BENCH_CONFIGS
    table = bench_table(stdout)
    seen = set()
    for e in res:
        key = (e.get("op"), e.get("config"), e.get("guests"))
        need(e.get("config") in configs, "config %r" % e.get("config"))
        need(e.get("guests") in ([1] if gmax == 1 else [1, 4]), "guests")
        iters = {k: it for k, _, it in BENCH_OPS}.get(e.get("op"))
        need(iters is not None, "op %r" % e.get("op"))
        need(e["samples"] == max(iters // div, 1) * e["guests"],
             "%s %s x%d: %r samples" % (e["op"], e["config"], e["guests"],
                                        e["samples"]))
        need(is_count(e["errors"]), "errors")
        need(0 < e["p50_us"] <= e["p99_us"], "%s: p50 %r, p99 %r"
             % (key, e["p50_us"], e["p99_us"]))
        need(key not in seen, "%s twice" % (key,))
        seen.add(key)
        t = table.get(key)
        need(t is not None, "%s is not in the table" % (key,))
        # the table rounds the exact values to 0.01 us and 1 call/s, the
        # JSON to 0.001 us and 0.1 call/s
        need(abs(e["p50_us"] - t[0]) <= 0.0051 and
             abs(e["p99_us"] - t[1]) <= 0.0051 and
             abs(e["ops_per_s"] - t[2]) <= 0.51 and e["errors"] == t[3],
             "%s: JSON %r, table %r" % (key, e, t))
        n += 8
    if trap:
        need("register_shm_64m" not in {e["op"] for e in res},
             "--trap-on-vcpu ran REGISTER_SHM of 64 MiB")
    need(len(seen) == len(table), "the table has %d rows, the JSON %d"
         % (len(table), len(seen)))
    return n + 4


SCALING_CONFIGS = ["inline", "sandboxed", "sandboxed-per-guest", "service",
                   "service-poll", "service-per-guest"]
SCALING_OPS = [("fast_call", "fast call"), ("invoke_values", "invoke 4 values"),
               ("rpc_get_time", "RPC GET_TIME")]


def scaling_table(stdout):
    """{(op, config, guests): (p50, p99, calls/s, x1, errors, vCPU us,
    placed)}."""
    rows = {}
    op = None
    names = {name: key for key, name in SCALING_OPS}
    for line in stdout.splitlines():
        for name in names:
            if line.startswith(name + " ") and "config" in line:
                op = names[name]
        m = re.match(r"^\s+(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+"
                     r"\s+(\d+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+(\S+)$",
                     line)
        if op and m:
            rows[(op, m.group(1), int(m.group(2)))] = (
                float(m.group(3)), float(m.group(4)), float(m.group(5)),
                float(m.group(6)), int(m.group(7)), float(m.group(8)),
                m.group(9))
    return rows


def check_scaling(d, o, stdout):
    n = 0
    need(isinstance(d.get("machine"), str) and "CPUs" in d["machine"],
         "machine")
    need(d.get("unit") == "us", "unit")
    trap = "trap-on-vcpu" in o
    run_s = d.get("run_s")
    need(run_s == (0.04 if "quick" in o else 0.4), "run_s %r" % run_s)
    need(d.get("guests") == ("threads, traps on the vCPU's thread" if trap
                             else "processes, 1 vCPU each"), "guests")
    repeat = int(o.get("repeat", 1))
    need(d.get("repeat") == repeat, "repeat %r" % d.get("repeat"))
    for k in ("load_before", "load_after"):
        need(isinstance(d.get(k), (int, float)) and d[k] >= 0, k)
    need("%d run%s per cell" % (repeat, "s" if repeat > 1 else "") in stdout
         and "load average %.2f before, %.2f after"
         % (d["load_before"], d["load_after"]) in stdout,
         "the table does not say its runs and load averages")
    res = d.get("results")
    need(isinstance(res, list) and res, "no results")
    configs = [o["only"]] if "only" in o else SCALING_CONFIGS
    counts = [1, 2, 4] if trap else [1, 2, 4, 8]
    table = scaling_table(stdout)
    by_key = {}
    for e in res:
        key = (e.get("op"), e.get("config"), e.get("guests"))
        need(e.get("config") in configs, "config %r" % e.get("config"))
        need(e.get("guests") in counts, "guests %r" % e.get("guests"))
        need(e.get("op") in [k for k, _ in SCALING_OPS], "op %r"
             % e.get("op"))
        need(is_count(e.get("calls")) and e["calls"] > 0, "calls")
        need(is_count(e.get("errors")), "errors")
        need(0 < e["p50_us"] <= e["p99_us"], "%s: p50 %r, p99 %r"
             % (key, e["p50_us"], e["p99_us"]))
        # a vCPU thread burns at most its wall time: calls / calls/s
        # (exact for one run; medians of several runs get a margin)
        need(0 < e["vcpu_us_per_call"] * e["ops_per_s"] <=
             e["guests"] * 1e6 * (1.001 if repeat == 1 else 2),
             "%s: vCPU %r us per call at %r calls/s of %d guests" % (
                 key, e["vcpu_us_per_call"], e["ops_per_s"], e["guests"]))
        # every guest called for run_s at least, the last call a little
        # longer: the rate is at most calls / run_s
        need(0 < e["ops_per_s"] <= e["calls"] / run_s + 0.1,
             "%s: %r calls/s from %r calls in %r s" % (key, e["ops_per_s"],
                                                      e["calls"], run_s))
        runs = e.get("runs_ops_per_s")
        need(isinstance(runs, list) and len(runs) == repeat and
             all(isinstance(x, (int, float)) and x > 0 for x in runs),
             "%s: runs_ops_per_s %r for %d runs" % (key, runs, repeat))
        need(abs(statistics.median(runs) - e["ops_per_s"]) <= 0.11,
             "%s: calls/s %r is not the median of the runs %r"
             % (key, e["ops_per_s"], runs))
        need(key not in by_key, "%s twice" % (key,))
        by_key[key] = e
        t = table.get(key)
        need(t is not None, "%s is not in the table" % (key,))
        need(abs(e["p50_us"] - t[0]) <= 0.0051 and
             abs(e["p99_us"] - t[1]) <= 0.0051 and
             abs(e["ops_per_s"] - t[2]) <= 0.51 and
             abs(e["x_one_guest"] - t[3]) <= 0.0051 and e["errors"] == t[4]
             and abs(e["vcpu_us_per_call"] - t[5]) <= 0.0051
             and e.get("placed") == t[6],
             "%s: JSON %r, table %r" % (key, e, t))
        # what was in force, never "auto"; thread guests are not placed
        need(e["placed"] in (["spread"] if trap
                             else ["spread", "colocate", "split"]),
             "%s: placed %r" % (key, e["placed"]))
        # auto splits only where the handler alone serves a call (inline,
        # no trap pool), and co-locates only where it does not
        if d.get("placement") == "auto" and not trap:
            alone = e["config"] == "inline" and d.get("trap_pool") == 0
            need(e["placed"] != ("colocate" if alone else "split"),
                 "%s: auto chose %r" % (key, e["placed"]))
        n += 11
    for (op, cfg, g), e in by_key.items():
        one = by_key.get((op, cfg, 1))
        need(one is not None, "%s %s: no 1-guest run" % (op, cfg))
        # both calls/s are rounded to 0.1, x1 to 0.001
        x = e["ops_per_s"] / one["ops_per_s"]
        need(abs(e["x_one_guest"] - x) <=
             0.0006 + x * (0.051 / e["ops_per_s"] + 0.051 / one["ops_per_s"]),
             "%s %s x%d: x1 %r, calls/s %r over %r" % (
                 op, cfg, g, e["x_one_guest"], e["ops_per_s"],
                 one["ops_per_s"]))
        n += 1
    need(len(by_key) == len(table), "the table has %d rows, the JSON %d"
         % (len(table), len(by_key)))
    need(len(by_key) == len(configs) * len(counts) * len(SCALING_OPS),
         "%d results for %d modes" % (len(by_key), len(configs)))
    return n + 7


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[3:]
    if os.path.exists(path):
        os.remove(path)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(p.stdout)
    sys.stdout.flush()
    try:
        need(os.path.exists(path), "%s was not written" % path)
        with open(path) as f:
            try:
                d = json.load(f)
            except ValueError as e:
                raise Bad("%s is not JSON: %s" % (path, e))
        need(isinstance(d, dict), "not an object")
        o = opts(cmd[2:])
        if cmd[1] == "demo":
            n = check_demo(d, o, p.stdout)
        elif cmd[1] == "bench" and "scaling" in o:
            n = check_scaling(d, o, p.stdout)
        elif cmd[1] == "bench":
            n = check_bench(d, o, p.stdout)
        else:
            raise Bad("no checks for '%s'" % cmd[1])
    except (Bad, KeyError, TypeError) as e:
        print("json: FAIL: %s: %s" % (path, e))
        return p.returncode or 1
    print("json: ok: %s (%d checks)" % (path, n))
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
