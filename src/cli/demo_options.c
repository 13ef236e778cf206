// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the command line (getopt_long, through args.c) and the
 * manual.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

/* What the summary says about the secure world. */
const char *demo_tee_name(const struct demo_opts *o)
{
	if (!o->qemu) {
		if (o->protocol == TG_PROTOCOL_FFA || o->model_ffa)
			return "OP-TEE model as FF-A SPMC";
		return o->model_no_virt ? "OP-TEE model (no virtualization)"
					: "OP-TEE model";
	}
	return o->no_secure ? "QEMU without a secure world" : "OP-TEE in QEMU";
}

/* vCPUs that run a workload: one operation in flight each at most. */
uint32_t demo_wl_vcpus(const struct demo_opts *o)
{
	return o->guests * o->vcpus + (o->hostile ? HOSTILE_VCPUS : 0);
}

enum demo_opt {
	OPT_GUESTS = TG_CLI_OPT_FIRST,
	OPT_VCPUS,
	OPT_SECONDS,
	OPT_JSON,
	OPT_NO_HOSTILE,
	OPT_VERBOSE,
	OPT_BACKEND,
	OPT_FIRMWARE,
	OPT_QEMU,
	OPT_QEMU_CPUS,
	OPT_LOG_DIR,
	OPT_NO_ORACLE,
	OPT_ISOLATION,
	OPT_PER_GUEST,
	OPT_CHAOS,
	OPT_UPGRADE,
	OPT_PROTOCOL,
	/* test options */
	OPT_NO_SECURE,
	OPT_QEMU_TIMEOUT,
	OPT_MODEL_NO_VIRT,
	OPT_MODEL_FFA,
	OPT_PLACEMENT,
};

static const struct option demo_options[] = {
	{ "guests", required_argument, NULL, OPT_GUESTS },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "no-hostile", no_argument, NULL, OPT_NO_HOSTILE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "qemu", required_argument, NULL, OPT_QEMU },
	{ "qemu-cpus", required_argument, NULL, OPT_QEMU_CPUS },
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "no-oracle", no_argument, NULL, OPT_NO_ORACLE },
	{ "isolation", required_argument, NULL, OPT_ISOLATION },
	{ "per-guest", no_argument, NULL, OPT_PER_GUEST },
	{ "chaos", optional_argument, NULL, OPT_CHAOS },
	{ "upgrade", required_argument, NULL, OPT_UPGRADE },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "no-secure", no_argument, NULL, OPT_NO_SECURE },
	{ "qemu-timeout", required_argument, NULL, OPT_QEMU_TIMEOUT },
	{ "model-no-virt", no_argument, NULL, OPT_MODEL_NO_VIRT },
	{ "model-ffa", no_argument, NULL, OPT_MODEL_FFA },
	{ "placement", required_argument, NULL, OPT_PLACEMENT },
	TG_CLI_OPT_HELP,
	{ 0 },
};

/*
 * Read one option's value into @o; the checks between options follow in
 *demo_parse_opts(). Returns 0 or TG_EXIT_USAGE after one line.
 */
static int parse_opt(struct demo_opts *o, int opt, const char *val)
{
	struct stat st;

	switch (opt) {
	case OPT_VERBOSE:
		o->verbose = true;
		break;
	case OPT_NO_HOSTILE:
		o->hostile = false;
		break;
	case OPT_NO_SECURE:
		o->no_secure = true;
		break;
	case OPT_NO_ORACLE:
		o->no_oracle = true;
		break;
	case OPT_MODEL_NO_VIRT:
		o->model_no_virt = true;
		break;
	case OPT_MODEL_FFA:
		o->model_ffa = true;
		break;
	case OPT_PER_GUEST:
		o->per_guest = true;
		break;
	case OPT_CHAOS:
		/* the interval is optional */
		o->chaos_s = DEMO_CHAOS_DEFAULT_S;
		if (val && !tg_cli_parse_u32("demo: --chaos", val, 1,
					     DEMO_CHAOS_MAX_S, &o->chaos_s))
			return TG_EXIT_USAGE;
		break;
	case OPT_ISOLATION:
		if (tg_isolation_parse(val, &o->isolation))
			return tg_cli_usage_error("demo: --isolation: expected inline, sandboxed or service, got '%s'",
						  val);
		break;
	case OPT_PLACEMENT:
		if (tg_placement_parse(val, &o->placement))
			return tg_cli_usage_error("demo: --placement: expected auto, spread, colocate or split, got '%s'",
						  val);
		break;
	case OPT_PROTOCOL:
		if (!strcmp(val, "auto"))
			o->protocol = TG_PROTOCOL_AUTO;
		else if (!strcmp(val, "optee"))
			o->protocol = TG_PROTOCOL_OPTEE;
		else if (!strcmp(val, "ffa"))
			o->protocol = TG_PROTOCOL_FFA;
		else
			return tg_cli_usage_error("demo: --protocol: expected auto, optee or ffa, got '%s'",
						  val);
		break;
	case OPT_GUESTS:
		if (!tg_cli_parse_u32("demo: --guests", val, 1,
				      DEMO_MAX_GUESTS, &o->guests))
			return TG_EXIT_USAGE;
		break;
	case OPT_VCPUS:
		if (!tg_cli_parse_u32("demo: --vcpus", val, 1, DEMO_MAX_VCPUS,
				      &o->vcpus))
			return TG_EXIT_USAGE;
		break;
	case OPT_SECONDS:
		if (!tg_cli_parse_u32("demo: --seconds", val, 1,
				      DEMO_MAX_SECONDS, &o->seconds))
			return TG_EXIT_USAGE;
		break;
	case OPT_BACKEND:
		if (!strcmp(val, "qemu"))
			o->qemu = true;
		else if (!strcmp(val, "model"))
			o->qemu = false;
		else
			return tg_cli_usage_error("demo: --backend: expected 'model' or 'qemu', got '%s'",
						  val);
		break;
	case OPT_FIRMWARE:
		if (!*val)
			return tg_cli_usage_error("demo: --firmware needs a directory");
		o->firmware = val;
		break;
	case OPT_QEMU:
		if (!*val)
			return tg_cli_usage_error("demo: --qemu needs a path");
		o->qemu_path = val;
		break;
	case OPT_UPGRADE:
		if (!*val)
			return tg_cli_usage_error("demo: --upgrade needs a path");
		errno = 0;
		if (access(val, X_OK) || stat(val, &st) || !S_ISREG(st.st_mode))
			return tg_cli_usage_error("demo: --upgrade: '%s' is not an executable program: %s",
						  val,
						  errno ? strerror(errno)
							: "not a file");
		o->upgrade_path = val;
		break;
	case OPT_LOG_DIR:
		if (!*val)
			return tg_cli_usage_error("demo: --log-dir needs a directory");
		o->log_dir = val;
		break;
	case OPT_QEMU_TIMEOUT:
		if (!tg_cli_parse_u32("demo: --qemu-timeout", val, 1, 600,
				      &o->qemu_timeout))
			return TG_EXIT_USAGE;
		break;
	case OPT_QEMU_CPUS:
		if (!tg_cli_parse_u32("demo: --qemu-cpus", val, 1,
				      DEMO_QEMU_MAX_CPUS, &o->qemu_cpus))
			return TG_EXIT_USAGE;
		break;
	case OPT_JSON:
		if (!*val)
			return tg_cli_usage_error("demo: --json needs a file name");
		o->json_path = val;
		break;
	default:
		return TG_EXIT_USAGE;
	}
	return 0;
}

/*
 * The demo's command line into @o: 0, -1 after the manual (-h), or
 * TG_EXIT_USAGE after one line on stderr.
 */
int demo_parse_opts(int argc, char **argv, struct demo_opts *o)
{
	struct tg_cli cli;
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->guests = 4;
	o->vcpus = 2;
	o->seconds = 20;
	o->hostile = true;
	tg_cli_init(&cli, "demo", demo_options, argc, argv);
	while ((c = tg_cli_next(&cli)) != TG_CLI_END) {
		if (c == TG_CLI_HELP) {
			tg_help_demo();
			return -1;
		}
		if (c == TG_CLI_ERROR)
			return TG_EXIT_USAGE;
		ret = parse_opt(o, c, cli.val);
		if (ret)
			return ret;
	}
	if (!o->qemu && (o->firmware || o->qemu_path || o->log_dir ||
			 o->qemu_cpus || o->no_secure || o->qemu_timeout ||
			 o->no_oracle))
		return tg_cli_usage_error("demo: --firmware, --qemu, --qemu-cpus, --log-dir, --no-oracle, --qemu-timeout and --no-secure need --backend qemu");
	if (o->qemu && o->model_no_virt)
		return tg_cli_usage_error("demo: --model-no-virt is for --backend model");
	if (o->model_no_virt && o->protocol == TG_PROTOCOL_FFA)
		return tg_cli_usage_error("demo: --model-no-virt is for OP-TEE's SMC ABI: the FF-A model always knows its VMs");
	if (o->model_ffa && (o->qemu || o->model_no_virt ||
			     o->protocol == TG_PROTOCOL_OPTEE))
		return tg_cli_usage_error("demo: --model-ffa is for --backend model with --protocol auto or ffa (and without --model-no-virt)");
	if (o->per_guest && o->isolation != TG_ISOLATION_SERVICE &&
	    o->isolation != TG_ISOLATION_SANDBOXED)
		return tg_cli_usage_error("demo: --per-guest needs --isolation sandboxed or service");
	if (o->per_guest && o->protocol == TG_PROTOCOL_FFA)
		return tg_cli_usage_error("demo: --per-guest: FF-A gives the hypervisor one RX/TX pair with the SPMC, which one mediator process holds: drop --per-guest");
	/* the inline mediator is the hypervisor: nothing to kill or swap */
	if ((o->chaos_s || o->upgrade_path) &&
	    o->isolation != TG_ISOLATION_SANDBOXED &&
	    o->isolation != TG_ISOLATION_SERVICE)
		return tg_cli_usage_error("demo: %s needs --isolation sandboxed or service",
					  o->chaos_s ? "--chaos" : "--upgrade");
	if (o->chaos_s && o->chaos_s >= o->seconds)
		return tg_cli_usage_error("demo: --chaos %u kills nothing in a %u s run: choose an interval below --seconds",
					  o->chaos_s, o->seconds);
	if (o->qemu && !o->firmware && !o->no_secure)
		return tg_cli_usage_error("demo: --backend qemu needs --firmware DIR, the TF-A and OP-TEE images (see docs/real-optee.md)");
	if (o->qemu && o->firmware && o->no_secure)
		return tg_cli_usage_error("demo: --no-secure runs no firmware: drop --firmware");
	return 0;
}

void tg_help_demo(void)
{
	printf(
"NAME\n"
"    teegate demo - several guests share one OP-TEE through the mediator\n"
"\n"
"SYNOPSIS\n"
"    teegate demo [--guests N] [--vcpus N] [--seconds N] [--json FILE]\n"
"                 [--no-hostile] [--verbose]\n"
"                 [--backend model|qemu] [--firmware DIR] [--qemu PATH]\n"
"                 [--qemu-cpus N] [--log-dir DIR]\n"
"                 [--isolation inline|sandboxed|service [--per-guest]]\n"
"                 [--chaos [SECONDS]] [--upgrade PATH]\n"
"                 [--protocol auto|optee|ffa]\n"
"                 [--placement auto|spread|colocate|split]\n"
"\n"
"DESCRIPTION\n"
"    Starts the hosted platform with the OP-TEE model as secure world and the\n"
"    teegate mediator inline in the hypervisor, then N guests, each a\n"
"    separate process that maps only its own memory, running the mixed\n"
"    workload (sessions to pseudo-TAs, value and memory parameters,\n"
"    registered and temporary shared memory, an 8 MiB buffer, RPCs, async\n"
"    notifications) on every vCPU, plus one hostile guest that runs the\n"
"    attack catalogue (forged cookies, foreign addresses, hypervisor-only\n"
"    calls, resource exhaustion...) until the time is up.\n"
"\n"
"    While it runs, a table shows per guest: calls completed, calls per\n"
"    second, median and 99th-percentile latency of a TEE operation (from\n"
"    the guest's latency histogram), unexpected errors, refusals (attacks\n"
"    refused for the hostile guest, calls the mediator refused for the\n"
"    others), pages the mediator holds pinned and open sessions. On a\n"
"    terminal the table refreshes in place every second; otherwise it is\n"
"    printed every 5 seconds.\n"
"\n"
"    When every guest has finished, each one is destroyed (the mediator\n"
"    tears its domain down) and the demo checks: every guest exited\n"
"    normally; no result mismatch and no unexpected error; no attack got\n"
"    through; no page is pinned; every page is back in the pool; the TEE\n"
"    holds no thread; the isolation oracle saw no access by the TEE to a\n"
"    page that was not the calling guest's or the mediator's.\n"
"\n"
"    Numbers a guest reports about itself come from its counters page and\n"
"    are display material; the leak checks use the hypervisor's own state.\n"
"\n"
"    With --backend qemu the secure world is a real OP-TEE (TF-A and OP-TEE\n"
"    images from --firmware DIR, see docs/real-optee.md) in QEMU's virt\n"
"    machine, reached through teegate's relay firmware; machine memory is\n"
"    QEMU's RAM. Real OP-TEE has no model-only TAs (the workload uses the\n"
"    invoke-tests PTA for its big buffer) and usually 2 threads: attacks\n"
"    whose refusal cannot be provoked there are counted as skipped, not as\n"
"    refused. The isolation oracle is then a QEMU plugin that checks every\n"
"    access of the secure world to NS RAM: to a page of the client it runs\n"
"    for that the mediator pinned, or to a mediator page; anything else is\n"
"    counted (--no-oracle runs without it, to measure what it costs). The\n"
"    TEE's threads are not visible from the normal world: that check says\n"
"    n/a. OP-TEE holds CFG_VIRT_GUEST_COUNT guests at once (2 by default),\n"
"    the hostile guest included: the others wait for a free slot and run\n"
"    when a guest ends, each for --seconds. QEMU is stopped when the demo\n"
"    ends, however it ends.\n"
"\n"
"    With --chaos (an out-of-process mediator only), a thread of the\n"
"    hypervisor SIGKILLs the mediator process (with --per-guest, every\n"
"    daemon) at each multiple of SECONDS while the workloads run, and waits\n"
"    each time until it serves again. A restarted mediator recovers its\n"
"    state: guests keep their sessions, buffers and calls suspended in an\n"
"    RPC. A call in flight at the death fails with TEEC_ERROR_COMMUNICATION;\n"
"    the guests count such an operation (or attack) as interrupted, not as\n"
"    an error, and do it again in the next round; everything that completes\n"
"    is verified as always. Two lines under the table show kills, deaths,\n"
"    restarts (state recovered or lost), the last restart time, the calls\n"
"    the recoveries failed and the guests' interrupted operations. The\n"
"    summary adds the median and maximum restart time (death to serving)\n"
"    and checks that every death was followed by a restart that kept the\n"
"    state, and that the interrupted operations are no more than the deaths\n"
"    can explain (one per vCPU and death). The hypervisor's count of failed\n"
"    calls and the guests' count of interrupted operations are of the same\n"
"    order, not equal: the first also counts calls whose failure the client\n"
"    API does not report (closing a session), the second counts an\n"
"    operation once whichever of its calls was hit.\n"
"\n"
"    With --protocol ffa the guests reach OP-TEE through Arm's FF-A, as on\n"
"    platforms where OP-TEE is the S-EL1 SPMC: on the model, the model plays\n"
"    that SPMC; against QEMU, the firmware must be such a build (see\n"
"    docs/real-optee.md). The guests' driver finds the protocol itself (the\n"
"    SMC ABI first, then FF-A, as Linux), the mediator is src/ffa, and the\n"
"    hostile guest runs the FF-A attack catalogue. With --protocol auto (the\n"
"    default) the mediator takes whatever the secure world speaks: OP-TEE's\n"
"    SMC ABI on the model.\n"
"\n"
"    With --upgrade PATH, halfway through the run the mediator is replaced\n"
"    by the program at PATH while the guests run\n"
"    (tg_machine_upgrade_mediator(): new calls wait, the running ones\n"
"    finish, suspended ones are kept). The summary says how long it took\n"
"    and checks that no call failed.\n"
"\n"
"    Every number of --chaos and --upgrade comes from the hypervisor's\n"
"    isolation stats, except the kills (SIGKILLs sent) and the interrupted\n"
"    operations (the guests' counters). On a terminal, the platform's log\n"
"    is held back while the table is redrawn and shown after it, less the\n"
"    deaths --chaos caused.\n"
"\n"
"OPTIONS\n"
"    --guests N     well-behaved guests, 1 to %u (default 4)\n"
"    --vcpus N      vCPUs per well-behaved guest, 1 to %u (default 2)\n"
"    --seconds N    how long the workloads run, 1 to %u (default 20);\n"
"                   guests still running %u s later are killed\n"
"    --json FILE    also write the summary as JSON to FILE: the run asked\n"
"                   for, one entry per guest, --chaos and --upgrade, the\n"
"                   checks and \"ok\"\n"
"    --no-hostile   do not start the hostile guest\n"
"    --verbose      guests print every failure and every attack that was\n"
"                   not refused on stderr; platform warnings too\n"
"    --backend model|qemu\n"
"                   the secure world: the OP-TEE model (default) or a real\n"
"                   OP-TEE in QEMU\n"
"    --firmware DIR TF-A + OP-TEE images for --backend qemu: flash.bin, or\n"
"                   bl1.bin + fip.bin, or bl1.bin bl2.bin bl31.bin bl32.bin\n"
"                   bl32_extra1.bin bl32_extra2.bin\n"
"    --qemu PATH    QEMU binary (default qemu-system-aarch64 from PATH)\n"
"    --qemu-cpus N  QEMU CPUs, one relay each, 1 to %u (default 2)\n"
"    --log-dir DIR  keep nw.log (TF-A, relay), sw.log (OP-TEE) and\n"
"                   qemu.log in DIR\n"
"    --no-oracle    with --backend qemu: do not load the isolation oracle\n"
"                   (the QEMU plugin tg-oracle.so); the oracle check then\n"
"                   says n/a\n"
"    --isolation inline|sandboxed|service\n"
"                   where the mediator runs (docs/isolation.md): in the\n"
"                   hypervisor (default); in a process of its own under a\n"
"                   seccomp allow-list that maps no guest memory; or in a\n"
"                   daemon that maps machine memory, reached through a ring\n"
"                   and eventfds\n"
"    --placement auto|spread|colocate|split\n"
"                   which CPUs a guest call's threads run on: spread (the\n"
"                   scheduler decides, waiting sides spin), colocate\n"
"                   (each vCPU, its handler and its mediator worker share\n"
"                   one CPU, guests round robin), split (the vCPUs on half\n"
"                   the CPUs, the hypervisor's handlers on the others) or\n"
"                   auto (the default: spread while the guests have at\n"
"                   most one vCPU per two CPUs; beyond, split inline and\n"
"                   colocate out of process); $TEEGATE_PLACEMENT when not\n"
"                   given\n"
"    --per-guest    with --isolation sandboxed or service: one mediator\n"
"                   process per guest (not over FF-A: the hypervisor has\n"
"                   one RX/TX pair with the SPMC)\n"
"    --chaos [SECONDS]\n"
"                   with --isolation sandboxed or service: kill the mediator\n"
"                   every SECONDS, 1 to %u (default %u), less than --seconds\n"
"    --upgrade PATH with --isolation sandboxed or service: replace the\n"
"                   mediator with the program PATH halfway through the run\n"
"    --protocol auto|optee|ffa\n"
"                   what guests, mediator and TEE speak: probed (default),\n"
"                   OP-TEE's SMC ABI, or FF-A; on the model, ffa makes it\n"
"                   OP-TEE's S-EL1 SPMC\n"
"    -h, --help     show this manual\n"
"\n"
"TEST OPTIONS\n"
"    --no-secure    with --backend qemu and no --firmware: QEMU without a\n"
"                   secure world (no OP-TEE answers; exit status 2)\n"
"    --qemu-timeout SEC\n"
"                   how long QEMU may take until the relay is ready\n"
"                   (default 60)\n"
"    --model-no-virt\n"
"                   the model behaves like an OP-TEE built without\n"
"                   virtualization: only one guest may use it\n"
"    --model-ffa    the model is OP-TEE's S-EL1 SPMC (FF-A) while\n"
"                   --protocol stays auto: the protocol is found at run\n"
"                   time, as on real firmware\n"
"\n"
"EXIT STATUS\n"
"    0   every check passed\n"
"    1   a check failed, a guest could not start, or the run was\n"
"        interrupted (SIGINT/SIGTERM)\n"
"    2   bad command line (unknown option, number out of range, JSON file\n"
"        not writable), or the secure world cannot serve the run: QEMU not\n"
"        installed, firmware directory missing or incomplete, QEMU died\n"
"        during boot, relay not ready in time, no OP-TEE answered, OP-TEE\n"
"        without virtualization for more than one guest, OP-TEE refusing\n"
"        the first guest, or the out-of-process mediator cannot start\n"
"        (program missing, seccomp unavailable), or --chaos/--upgrade\n"
"        without an out-of-process mediator, or --upgrade PATH not an\n"
"        executable program; one line on stderr says what to do\n"
"\n"
"EXAMPLES\n"
"    teegate demo\n"
"        4 guests x 2 vCPUs and a hostile guest for 20 seconds.\n"
"    teegate demo --guests 8 --vcpus 1 --seconds 60 --json run.json\n"
"        A longer run with more, smaller guests; summary in run.json.\n"
"    teegate demo --seconds 3 --no-hostile | cat\n"
"        A short run without the hostile guest, plain periodic output.\n"
"    teegate demo --isolation sandboxed\n"
"        The same run with the mediator deprivileged in its own process.\n"
"    teegate demo --isolation sandboxed --chaos\n"
"        The same, and the mediator process is SIGKILLed every 3 seconds.\n"
"    teegate demo --isolation service --upgrade ./teegate-mediator-new\n"
"        The mediator daemon is replaced by another build at t = 10 s.\n"
"    teegate demo --backend qemu --firmware ~/optee-fw --guests 1\n"
"        One guest and the hostile guest against a real OP-TEE in QEMU.\n"
"    teegate demo --protocol ffa\n"
"        The guests reach the model through FF-A, OP-TEE as the SPMC.\n",
	       DEMO_MAX_GUESTS, DEMO_MAX_VCPUS, DEMO_MAX_SECONDS, DEMO_GRACE_S,
	       DEMO_QEMU_MAX_CPUS, DEMO_CHAOS_MAX_S, DEMO_CHAOS_DEFAULT_S);
}

