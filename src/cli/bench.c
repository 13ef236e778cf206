// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate bench: the isolation modes side by side (docs/isolation.md).
 *
 * For each configuration (direct, inline, sandboxed, service, service with
 * polling, service per guest) with 1 and with 4 guests, a machine is built
 * and every guest (a process, one vCPU) runs the same operations back to
 * back, timing each one with CLOCK_MONOTONIC: a forwarded fast call
 * (CALLS_UID), an INVOKE with four values, an INVOKE with a 1 MiB
 * temporary memref, REGISTER_SHM of 64 MiB (the registration alone) and an
 * RPC round trip (stats GET_TIME). A guest leaves its samples in its own
 * RAM and says where in its counters page; the bench reads them through
 * the hypervisor's port, then ends the guest.
 *
 * --trap-on-vcpu runs one guest made of threads of this process whose
 * traps are handled on the vCPU's own thread (tg_machine_config
 * .trap_on_vcpu): Arm's trap on the same core, without the handler
 * thread that otherwise competes for a core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#ifndef TG_HAVE_WORKLOADS
/* Built without the guest driver: no guest can run the operations. */
int tg_cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tg_cli_usage_error("bench: this teegate was built without the guest driver (src/guest)");
}

void tg_help_bench(void)
{
	printf("teegate bench needs the guest driver, which this build lacks.\n");
}
#else
#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>

#define NOPS 5
#define NCONFIGS 6
#define MAX_GUESTS 4
#define DONE_PHASE 0xB0B0u
#define GUEST_PAGES 20000u /* 64 MiB buffer + the rest */

static const char *const op_names[NOPS] = {
	"fast call", "invoke 4 values", "invoke 1 MiB tmem",
	"reg+unreg 64 MiB", "RPC GET_TIME",
};
static const char *const op_keys[NOPS] = {
	"fast_call", "invoke_values", "invoke_tmem_1m", "register_shm_64m",
	"rpc_get_time",
};
static const uint32_t op_iters[NOPS] = { 4000, 2000, 100, 10, 500 };

struct config {
	const char *name;
	enum tg_mediation mediation;
	enum tg_isolation isolation;
	bool per_guest, poll;
};
static const struct config configs[NCONFIGS] = {
	{ "direct", TG_MEDIATION_DIRECT, TG_ISOLATION_INLINE, false, false },
	{ "inline", TG_MEDIATION_INLINE, TG_ISOLATION_INLINE, false, false },
	{ "sandboxed", TG_MEDIATION_INLINE, TG_ISOLATION_SANDBOXED, false,
	  false },
	{ "service", TG_MEDIATION_INLINE, TG_ISOLATION_SERVICE, false, false },
	{ "service-poll", TG_MEDIATION_INLINE, TG_ISOLATION_SERVICE, false,
	  true },
	{ "service-per-guest", TG_MEDIATION_INLINE, TG_ISOLATION_SERVICE, true,
	  false },
};

/* In guest RAM: what a guest measured. */
struct guest_results {
	uint32_t magic;
	uint32_t count[NOPS];
	uint32_t errors[NOPS];
	uint64_t wall_ns[NOPS];
	uint32_t ns[]; /* op_iters[0] samples of op 0, then op 1... */
};

struct guest_arg {
	uint32_t iters[NOPS];
};

/*
 * --trap-on-vcpu: the guest is threads of this process and its traps run
 * on its vCPU thread. A thread guest's contiguous view holds at most
 * TG_HOST_MAX_THREAD_VIEW_PAGES (64 MiB) machine-wide, too few for the
 * 64 MiB buffer next to the others: that operation is not run.
 */
static bool trap_on_vcpu;
static enum tg_placement placement; /* --placement */
#define OP_REGISTER_64M 3

struct result {
	double p50_us[NOPS], p99_us[NOPS], ops_per_s[NOPS];
	uint32_t samples[NOPS], errors[NOPS];
	bool ok;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the guest ------------------------------------------------------------ */

static size_t results_size(const uint32_t iters[NOPS])
{
	size_t n = 0;
	int i;

	for (i = 0; i < NOPS; i++)
		n += iters[i];
	return sizeof(struct guest_results) + n * sizeof(uint32_t);
}

bool tg_bench_op(struct tg_vcpu *v, int op, TEEC_Session *inv,
		 TEEC_Session *stats, TEEC_Context *ctx, void *tmem, void *big)
{
	TEEC_Operation o;
	TEEC_SharedMemory shm;
	uint32_t origin;
	uint64_t r[8] = { OPTEE_SMC_CALLS_UID };

	memset(&o, 0, sizeof(o));
	switch (op) {
	case 0:
		tg_smc(v, r);
		return r[0] == OPTEE_MSG_UID_0;
	case 1:
		o.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT,
						TEEC_VALUE_INPUT,
						TEEC_VALUE_INPUT,
						TEEC_VALUE_OUTPUT);
		o.params[0].value.a = 1;
		o.params[1].value.a = 2;
		o.params[2].value.a = 3;
		return TEEC_InvokeCommand(inv, PTA_INVOKE_TESTS_CMD_PARAMS, &o,
					  &origin) == TEEC_SUCCESS &&
		       o.params[3].value.a == 6;
	case 2:
		o.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT,
						TEEC_NONE, TEEC_NONE,
						TEEC_NONE);
		o.params[0].tmpref.buffer = tmem;
		o.params[0].tmpref.size = 1u << 20;
		return TEEC_InvokeCommand(inv, PTA_INVOKE_TESTS_CMD_PARAMS, &o,
					  &origin) == TEEC_SUCCESS;
	case 3: {
		/* the registration is timed, the release too (not
		 * separately): both are mediator work proportional to the
		 * 16,384 pages */
		bool ok;

		memset(&shm, 0, sizeof(shm));
		shm.buffer = big;
		shm.size = 64u << 20;
		shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
		ok = TEEC_RegisterSharedMemory(ctx, &shm) == TEEC_SUCCESS;
		if (ok)
			TEEC_ReleaseSharedMemory(&shm);
		return ok;
	}
	default:
		o.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT,
						TEEC_VALUE_OUTPUT, TEEC_NONE,
						TEEC_NONE);
		return TEEC_InvokeCommand(stats, 4, &o, &origin) ==
		       TEEC_SUCCESS;
	}
}

bool tg_bench_open(TEEC_Context *ctx, TEEC_Session *inv, TEEC_Session *stats)
{
	static const TEEC_UUID inv_uuid = {
		0xd96a5b40, 0xc3e5, 0x21e3,
		{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
	};
	static const TEEC_UUID stats_uuid = {
		0xd96a5b40, 0xe2c7, 0xb1af,
		{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
	};
	uint32_t origin;

	return TEEC_InitializeContext(NULL, ctx) == TEEC_SUCCESS &&
	       TEEC_OpenSession(ctx, inv, &inv_uuid, TEEC_LOGIN_PUBLIC, NULL,
				NULL, &origin) == TEEC_SUCCESS &&
	       TEEC_OpenSession(ctx, stats, &stats_uuid, TEEC_LOGIN_PUBLIC,
				NULL, NULL, &origin) == TEEC_SUCCESS;
}

static void bench_guest(struct tg_vcpu *v, void *varg)
{
	const struct guest_arg *a = varg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	struct guest_results *res;
	TEEC_Context ctx;
	TEEC_Session inv, stats;
	size_t len = results_size(a->iters);
	uint32_t npages = (uint32_t)((len + 4095) / 4096), i, off = 0;
	uint64_t ipa;
	void *tmem, *big;
	int op;

	if (tg_alloc_pages(v, npages, &ipa)) {
		c->phase = 0xBAD1;
		return;
	}
	res = tg_ipa_ptr(v, ipa);
	memset(res, 0, len);
	if (!a->iters[1]) {
		/* direct: only the fast call (no memory in it) is meaningful:
		 * without a mediator, guest addresses reach the TEE as PAs */
		tmem = big = NULL;
		goto run;
	}
	if (!tg_bench_open(&ctx, &inv, &stats)) {
		c->phase = 0xBAD2;
		return;
	}
	tmem = tg_optee_mem_alloc(ctx.drv, 1u << 20);
	big = a->iters[OP_REGISTER_64M] ? tg_optee_mem_alloc(ctx.drv, 64u << 20)
					: tmem;
	if (!tmem || !big) {
		c->phase = 0xBAD3;
		return;
	}
	memset(tmem, 1, 1u << 20);
run:
	for (op = 0; op < NOPS; op++) {
		uint64_t w0 = now_ns();

		c->phase = (uint32_t)op;
		for (i = 0; i < a->iters[op]; i++) {
			uint64_t t0 = now_ns(), dt;
			bool ok;

			ok = tg_bench_op(v, op, &inv, &stats, &ctx, tmem, big);
			dt = now_ns() - t0;
			res->ns[off + i] = dt > UINT32_MAX ? UINT32_MAX
							   : (uint32_t)dt;
			if (!ok)
				res->errors[op]++;
			c->calls++;
		}
		res->count[op] = a->iters[op];
		res->wall_ns[op] = now_ns() - w0;
		off += a->iters[op];
	}
	/*
	 * A thread guest gives its driver back before it is killed: the
	 * guest driver's registry outlives it in this process and would
	 * hand the next thread guest this one's driver (docs/security.md).
	 * A process guest's driver dies with it.
	 */
	if (trap_on_vcpu && a->iters[1]) {
		TEEC_CloseSession(&inv);
		TEEC_CloseSession(&stats);
		TEEC_FinalizeContext(&ctx);
	}
	res->magic = DONE_PHASE;
	c->verified = ipa;
	c->phase = DONE_PHASE;
	/* until killed: a process by SIGKILL, a thread guest here */
	for (;;)
		tg_notif_wait(v, 1000);
}

/* ---- the hypervisor side ------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint32_t *sorted, uint32_t n, double q)
{
	uint32_t i;

	if (!n)
		return 0;
	i = (uint32_t)(q * (double)(n - 1) + 0.5);
	return (double)sorted[i] / 1000.0;
}

static bool tty_err;

static void progress(unsigned int done, unsigned int total, const char *what)
{
	unsigned int w = 30, k = total ? done * w / total : w, i;

	if (!tty_err) {
		if (what)
			fprintf(stderr, "bench: [%u/%u] %s\n", done + 1, total,
				what);
		return;
	}
	fprintf(stderr, "\r[");
	for (i = 0; i < w; i++)
		fputc(i < k ? '#' : '.', stderr);
	fprintf(stderr, "] %u/%u %-28s", done, total, what ? what : "done");
	if (!what)
		fputc('\n', stderr);
	fflush(stderr);
}

/*
 * One configuration with @nguests guests: TG_OK and @r filled, or an
 * error (the machine or a guest could not start, a guest did not finish).
 */
static int run_config(const struct config *c, uint32_t nguests,
		      const struct guest_arg *ga, struct result *r)
{
	struct tg_machine_config mc;
	struct tg_guest_config gc;
	struct tg_machine *m = NULL;
	struct tg_guest *g[MAX_GUESTS] = { 0 };
	struct guest_results *res[MAX_GUESTS] = { 0 };
	size_t len = results_size(ga->iters);
	uint64_t deadline;
	uint32_t i, done = 0, total = 0, off;
	uint32_t *all;
	int op, ret;

	memset(r, 0, sizeof(*r));
	memset(&mc, 0, sizeof(mc));
	mc.ram_size = 1ull << 30;
	mc.tee = TG_TEE_MODEL;
	mc.mediation = c->mediation;
	mc.isolation = c->isolation;
	mc.per_guest = c->per_guest;
	mc.service_poll = c->poll;
	mc.log_level = getenv("TEEGATE_BENCH_VERBOSE") ? TG_LOG_INFO + 1
						      : TG_LOG_ERROR + 1;
	mc.model.threads = 8;
	mc.model.max_guests = MAX_GUESTS + 1;
	mc.oracle_block = false;
	mc.trap_on_vcpu = trap_on_vcpu;
	mc.placement = placement;
	ret = tg_machine_create(&mc, &m);
	if (ret)
		return ret;
	memset(&gc, 0, sizeof(gc));
	gc.vcpus = 1;
	gc.ram_pages = GUEST_PAGES;
	gc.name = "bench";
	gc.mode = trap_on_vcpu ? TG_GUEST_THREAD : TG_GUEST_PROCESS;
	gc.arg_size = sizeof(*ga); /* a process guest gets a copy */
	for (i = 0; i < nguests; i++) {
		ret = tg_guest_start(m, &gc, bench_guest, (void *)ga, &g[i]);
		if (ret)
			goto out;
	}
	deadline = now_ns() + 120ull * 1000000000ull;
	while (done < nguests && now_ns() < deadline) {
		usleep(20000);
		for (i = 0, done = 0; i < nguests; i++) {
			struct tg_guest_counters gc_now;
			enum tg_guest_state state = TG_GUEST_EXITED;

			/* Not tg_guest_stats(): its walk of the machine's
			 * pages would take a core from the guests. */
			if (tg_guest_poll(g[i], &state, &gc_now) == TG_OK &&
			    gc_now.phase == DONE_PHASE &&
			    state == TG_GUEST_RUNNING) {
				if (!res[i]) {
					res[i] = calloc(1, len);
					if (!res[i] ||
					    tg_machine_port(m)->copy_from_guest(
						    tg_machine_port(m)->ctx,
						    tg_guest_client_id(g[i]),
						    res[i], gc_now.verified,
						    (uint32_t)len) ||
					    res[i]->magic != DONE_PHASE) {
						ret = TG_EPROTO;
						goto out;
					}
				}
				done++;
			} else if (state != TG_GUEST_RUNNING) {
				ret = TG_EPROTO; /* ended without results */
				goto out;
			}
		}
	}
	if (done < nguests) {
		ret = TG_EBUSY;
		goto out;
	}
	for (op = 0; op < NOPS; op++)
		total = total > ga->iters[op] ? total : ga->iters[op];
	all = malloc((size_t)total * nguests * sizeof(*all));
	if (!all) {
		ret = TG_ENOMEM;
		goto out;
	}
	for (op = 0, off = 0; op < NOPS; off += ga->iters[op], op++) {
		uint32_t n = 0;
		uint64_t wall = 0;

		if (!ga->iters[op])
			continue;
		for (i = 0; i < nguests; i++) {
			memcpy(all + n, res[i]->ns + off,
			       (size_t)ga->iters[op] * sizeof(*all));
			n += ga->iters[op];
			r->errors[op] += res[i]->errors[op];
			if (res[i]->wall_ns[op] > wall)
				wall = res[i]->wall_ns[op];
		}
		qsort(all, n, sizeof(*all), cmp_u32);
		r->samples[op] = n;
		r->p50_us[op] = pct(all, n, 0.50);
		r->p99_us[op] = pct(all, n, 0.99);
		r->ops_per_s[op] = wall ? (double)n * 1e9 / (double)wall : 0;
	}
	free(all);
	r->ok = true;
out:
	for (i = 0; i < nguests; i++) {
		if (!g[i])
			continue;
		tg_guest_kill(g[i]);
		tg_guest_wait(g[i], NULL);
		free(res[i]);
	}
	if (tg_machine_destroy(m) && !ret)
		ret = TG_EBUSY;
	return ret;
}

static void machine_line(char *buf, size_t len)
{
	char model[128] = "unknown CPU", line[256];
	struct utsname u;
	double load[1] = { 0 };
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	getloadavg(load, 1);
	snprintf(buf, len, "%ld CPUs (%s), Linux %s, load %.2f",
		 sysconf(_SC_NPROCESSORS_ONLN), model, u.release, load[0]);
}

/* The results as JSON (--json): one entry per configuration, guest
 * count and operation that ran. */
static int write_json(FILE *f, const char *machine, const uint32_t *guests,
		      int ng, struct result res[][2])
{
	json_t *root = json_object(), *results = json_array();
	int c, gi, op;

	for (c = 0; c < NCONFIGS; c++)
		for (gi = 0; gi < ng; gi++) {
			const struct result *r = &res[c][gi];

			if (!r->ok)
				continue;
			for (op = 0; op < NOPS; op++) {
				json_t *e;

				if (!r->samples[op])
					continue;
				e = json_object();
				tg_json_set(&e, "config",
					    json_string(configs[c].name));
				tg_json_set(&e, "guests",
					    tg_json_uint(guests[gi]));
				tg_json_set(&e, "op", json_string(op_keys[op]));
				tg_json_set(&e, "samples",
					    tg_json_uint(r->samples[op]));
				tg_json_set(&e, "errors",
					    tg_json_uint(r->errors[op]));
				tg_json_set(&e, "p50_us",
					    tg_json_fixed(r->p50_us[op], 3));
				tg_json_set(&e, "p99_us",
					    tg_json_fixed(r->p99_us[op], 3));
				tg_json_set(&e, "ops_per_s",
					    tg_json_fixed(r->ops_per_s[op], 1));
				tg_json_append(&results, e);
			}
		}
	tg_json_set(&root, "machine", json_string(machine));
	tg_json_set(&root, "unit", json_string("us"));
	if (trap_on_vcpu)
		tg_json_set(&root, "guests",
			    json_string("threads, traps on the vCPU's thread"));
	tg_json_set(&root, "results", results);
	return tg_json_write(root, f);
}

/* A clustered bar chart per operation, p50 of 1 guest, log scale. */
static int plot(const char *png, const char *machine, const uint32_t *guests,
		int ng, struct result res[][2])
{
	char dat[] = "/tmp/teegate-bench-XXXXXX";
	char gp[] = "/tmp/teegate-bench-gp-XXXXXX";
	FILE *d, *g;
	int fd, fd2, c, op, gi, st;
	pid_t pid;

	fd = mkstemp(dat);
	fd2 = mkstemp(gp);
	if (fd < 0 || fd2 < 0)
		return -1;
	d = fdopen(fd, "w");
	g = fdopen(fd2, "w");
	if (!d || !g)
		return -1;
	fprintf(d, "op");
	for (gi = 0; gi < ng; gi++)
		for (c = 0; c < NCONFIGS; c++)
			fprintf(d, " \"%s x%u\"", configs[c].name, guests[gi]);
	fprintf(d, "\n");
	for (op = 0; op < NOPS; op++) {
		fprintf(d, "\"%s\"", op_names[op]);
		for (gi = 0; gi < ng; gi++)
			for (c = 0; c < NCONFIGS; c++)
				fprintf(d, " %.3f",
					res[c][gi].ok ? res[c][gi].p50_us[op]
						      : 0.0);
		fprintf(d, "\n");
	}
	fclose(d);
	fprintf(g,
		"set terminal pngcairo size 1400,800 noenhanced font ',10'\n"
		"set output '%s'\n"
		"set title \"teegate bench: p50 latency per operation and isolation mode%s\\n%s\"\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set logscale y\n"
		"set ylabel 'p50 latency (us, log scale)'\n"
		"set grid ytics\n"
		"set key outside right top vertical\n"
		"set xtics nomirror\n"
		"plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
		png,
		trap_on_vcpu ? " (thread guest, traps on its vCPU thread)" : "",
		machine, 1 + NCONFIGS * ng, dat);
	fclose(g);
	pid = fork();
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		_exit(127);
	}
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	unlink(dat);
	unlink(gp);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

enum bench_opt {
	OPT_JSON = TG_CLI_OPT_FIRST,
	OPT_PLOT,
	OPT_QUICK,
	OPT_ONE_GUEST,
	OPT_ONLY,
	OPT_TRAP_ON_VCPU,
	OPT_SCALING,
	OPT_REPEAT,
	OPT_PLACEMENT,
};

static const struct option bench_options[] = {
	{ "json", required_argument, NULL, OPT_JSON },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "one-guest", no_argument, NULL, OPT_ONE_GUEST },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "trap-on-vcpu", no_argument, NULL, OPT_TRAP_ON_VCPU },
	{ "scaling", no_argument, NULL, OPT_SCALING },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "placement", required_argument, NULL, OPT_PLACEMENT },
	TG_CLI_OPT_HELP,
	{ 0 },
};

static const struct tg_cli_needs bench_needs[] = {
	{ OPT_JSON, "a file name" },
	{ OPT_PLOT, "a file name" },
	{ OPT_ONLY, "a configuration" },
	{ OPT_REPEAT, "a number of runs" },
	{ OPT_PLACEMENT, "auto, spread, colocate or split" },
	{ 0, NULL },
};

int tg_cmd_bench(int argc, char **argv)
{
	static struct result res[NCONFIGS][2];
	struct tg_cli cli;
	uint32_t guests[2] = { 1, 4 };
	struct guest_arg ga, ga_direct;
	const char *json = NULL, *png = NULL, *only = NULL;
	char machine[256];
	unsigned int step = 0, nsteps;
	uint32_t div = 1, gmax = 4, repeat = 0;
	int i, c, gi, op, ng = 2;
	bool failed = false, scaling = false;

	tg_cli_init(&cli, "bench", bench_options, argc, argv);
	cli.needs = bench_needs;
	while ((i = tg_cli_next(&cli)) != TG_CLI_END) {
		switch (i) {
		case TG_CLI_HELP:
			tg_help_bench();
			return TG_EXIT_OK;
		case OPT_QUICK:
			div = 20;
			break;
		case OPT_SCALING:
			scaling = true;
			break;
		case OPT_REPEAT:
			if (!tg_cli_parse_u32("bench: --repeat", cli.val, 1,
					      TG_BENCH_MAX_REPEAT, &repeat))
				return TG_EXIT_USAGE;
			break;
		case OPT_ONE_GUEST:
			gmax = 1;
			break;
		case OPT_TRAP_ON_VCPU:
			trap_on_vcpu = true;
			gmax = 1;
			break;
		case OPT_ONLY:
			only = cli.val;
			break;
		case OPT_PLACEMENT:
			if (tg_placement_parse(cli.val, &placement))
				return tg_cli_usage_error("bench: --placement: '%s' is not auto, spread, colocate or split",
							  cli.val);
			break;
		case OPT_JSON:
		case OPT_PLOT:
			if (!*cli.val)
				return tg_cli_usage_error("bench: --%s needs a file name",
							  i == OPT_JSON ? "json"
									: "plot");
			if (i == OPT_JSON)
				json = cli.val;
			else
				png = cli.val;
			break;
		default: /* TG_CLI_ERROR: said */
			return TG_EXIT_USAGE;
		}
	}
	if (json) {
		FILE *f = fopen(json, "a");

		if (!f)
			return tg_cli_usage_error("bench: --json: cannot write '%s': %s",
						  json, strerror(errno));
		fclose(f);
	}
	for (c = 0; only && !scaling && c < NCONFIGS; c++)
		if (!strcmp(only, configs[c].name))
			break;
	if (only && !scaling && c == NCONFIGS)
		return tg_cli_usage_error("bench: --only: no configuration '%s' (direct, inline, sandboxed, service, service-poll, service-per-guest)",
					  only);
	if (repeat && !scaling)
		return tg_cli_usage_error("bench: --repeat goes with --scaling: add --scaling or drop --repeat");
	if (scaling && gmax == 1 && !trap_on_vcpu)
		return tg_cli_usage_error("bench: --scaling runs 1, 2, 4 and 8 guests: drop --one-guest");
	if (scaling) {
		struct tg_bench_scaling_opts so = { only, json, png, div > 1,
						    trap_on_vcpu, false,
						    repeat ? repeat : 1,
						    placement };

		return tg_bench_scaling(&so);
	}

	if (gmax == 1)
		ng = 1;
	for (op = 0; op < NOPS; op++) {
		ga.iters[op] = op_iters[op] / div;
		if (!ga.iters[op])
			ga.iters[op] = 1;
	}
	if (trap_on_vcpu)
		ga.iters[OP_REGISTER_64M] = 0;
	ga_direct = ga;
	for (op = 1; op < NOPS; op++)
		ga_direct.iters[op] = 0;
	tty_err = isatty(STDERR_FILENO);
	machine_line(machine, sizeof(machine));
	nsteps = (unsigned int)((only ? 1 : NCONFIGS) * ng);
	for (gi = 0; gi < ng; gi++)
		for (c = 0; c < NCONFIGS; c++) {
			char what[64];
			int ret;

			if (only && strcmp(only, configs[c].name))
				continue;
			snprintf(what, sizeof(what), "%s, %u guest%s",
				 configs[c].name, guests[gi],
				 guests[gi] > 1 ? "s" : "");
			progress(step, nsteps, what);
			ret = run_config(&configs[c], guests[gi],
					 configs[c].mediation ==
							 TG_MEDIATION_DIRECT
						 ? &ga_direct
						 : &ga,
					 &res[c][gi]);
			if (ret) {
				fprintf(stderr,
					"%steegate: bench: %s: %s\n",
					tty_err ? "\n" : "", what,
					tg_strerror(ret));
				failed = true;
			}
			step++;
		}
	progress(step, nsteps, NULL);

	printf("teegate bench: %s\n", machine);
	if (trap_on_vcpu)
		printf("--trap-on-vcpu: 1 guest of threads with 1 vCPU whose traps run on the vCPU's own thread (as on Arm; no handler thread, no isolation); reg+unreg 64 MiB not run (a thread guest's view holds 64 MiB at most); latency in us (CLOCK_MONOTONIC around each call in the guest); throughput in calls/s\n\n");
	else
		printf("guests are processes with 1 vCPU; latency in us (CLOCK_MONOTONIC around each call in the guest); throughput in calls/s, all guests together\n\n");
	for (op = 0; op < NOPS; op++) {
		printf("%-18s %-18s %6s %10s %10s %12s %6s\n", op_names[op],
		       "config", "guests", "p50 us", "p99 us", "calls/s",
		       "errors");
		for (gi = 0; gi < ng; gi++)
			for (c = 0; c < NCONFIGS; c++) {
				const struct result *r = &res[c][gi];

				if (only && strcmp(only, configs[c].name))
					continue;
				if (!r->ok) {
					printf("%-18s %-18s %6u %10s\n", "",
					       configs[c].name, guests[gi],
					       "failed");
					continue;
				}
				if (!r->samples[op]) {
					printf("%-18s %-18s %6u %10s\n", "",
					       configs[c].name, guests[gi],
					       "n/a");
					continue;
				}
				printf("%-18s %-18s %6u %10.2f %10.2f %12.0f %6u\n",
				       "", configs[c].name, guests[gi],
				       r->p50_us[op], r->p99_us[op],
				       r->ops_per_s[op], r->errors[op]);
			}
		printf("\n");
	}
	if (json) {
		FILE *f = fopen(json, "w");

		if (!f)
			return tg_cli_usage_error("bench: --json: cannot write '%s': %s",
						  json, strerror(errno));
		if (write_json(f, machine, guests, ng, res) | fclose(f)) {
			fprintf(stderr, "teegate: bench: --json: write failed: %s\n",
				strerror(errno));
			return TG_EXIT_USAGE;
		}
		printf("wrote %s\n", json);
	}
	if (png) {
		if (plot(png, machine, guests, ng, res)) {
			fprintf(stderr, "teegate: bench: --plot: gnuplot failed to write '%s' (is gnuplot installed?)\n",
				png);
			return TG_EXIT_USAGE;
		}
		printf("wrote %s\n", png);
	}
	if (trap_on_vcpu) {
		/* and the mediator's own scaling: 1, 2 and 4 such guests */
		struct tg_bench_scaling_opts so = { only, NULL, NULL, div > 1,
						    true, true, 1, placement };

		printf("\n");
		fflush(stdout);
		if (tg_bench_scaling(&so) != TG_EXIT_OK)
			failed = true;
	}
	return failed ? TG_EXIT_FAIL : TG_EXIT_OK;
}

void tg_bench_machine_line(char *buf, size_t len)
{
	machine_line(buf, len);
}

void tg_bench_progress(unsigned int done, unsigned int total,
		       const char *what)
{
	tty_err = isatty(STDERR_FILENO);
	progress(done, total, what);
}

void tg_help_bench(void)
{
	printf("NAME\n"
"    teegate bench - the isolation modes side by side\n"
"\n"
"SYNOPSIS\n"
"    teegate bench [--json FILE] [--plot FILE.png] [--quick] [--one-guest]\n"
"                  [--only CONFIG] [--trap-on-vcpu] [--placement P]\n"
"    teegate bench --scaling [--repeat N] [--json FILE] [--plot FILE.png]\n"
"                  [--quick] [--only CONFIG] [--trap-on-vcpu]\n"
"                  [--placement P]\n"
"\n"
"DESCRIPTION\n"
"    Builds one machine per configuration - direct (no mediator, the\n"
"    floor), inline, sandboxed, service, service-poll (the daemon's ring\n"
"    polled before it blocks), service-per-guest - with 1 and then 4\n"
"    guests, and has every guest time, back to back: a forwarded fast\n"
"    call (CALLS_UID), an INVOKE with four values, an INVOKE with a 1 MiB\n"
"    temporary memref, REGISTER_SHM + UNREGISTER of 64 MiB and an RPC\n"
"    round trip (stats GET_TIME). Prints p50 and p99 latency and the\n"
"    throughput of all guests together; a progress bar on stderr.\n"
"    See docs/isolation.md for the numbers and how to read them.\n"
"\n"
"OPTIONS\n"
"    --json FILE       also write the results as JSON: the machine, and one\n"
"                      entry per configuration, guest count and operation\n"
"                      (samples, errors, p50_us, p99_us, ops_per_s)\n"
"    --plot FILE.png   draw p50 per operation and mode with gnuplot\n"
"    --quick           1/20 of the iterations (a smoke test)\n"
"    --one-guest       only the 1-guest runs\n"
"    --only CONFIG     only this configuration (direct, inline, sandboxed,\n"
"                      service, service-poll, service-per-guest; with\n"
"                      --scaling also sandboxed-per-guest, not direct)\n"
"    --trap-on-vcpu    the 1-guest runs only, with a guest made of threads\n"
"                      of this process whose traps are handled on the\n"
"                      vCPU's own thread, as on Arm where the hypervisor\n"
"                      runs on the core that trapped: no handler thread\n"
"                      competes for a core. No isolation; a measurement\n"
"                      mode. REGISTER_SHM of 64 MiB is not run (a thread\n"
"                      guest cannot map that much contiguously). Then the\n"
"                      --scaling table with 1, 2 and 4 such guests\n"
"    --scaling         more guests than cores: machines with 1, 2, 4 and\n"
"                      8 guests (one vCPU each) per mode (inline,\n"
"                      sandboxed, sandboxed-per-guest, service,\n"
"                      service-poll, service-per-guest) where every guest\n"
"                      calls at the same time for 0.4 s (0.04 s with\n"
"                      --quick): fast call, INVOKE with 4 values, RPC\n"
"                      round trip. Prints p50, p99, p99/p50, calls/s of\n"
"                      all guests and that throughput over 1 guest's\n"
"                      (x1); --plot draws x1 and p99/p50 against guests\n"
"    --repeat N        with --scaling: run every cell N times (1 to 50)\n"
"                      and print the medians of p50, p99 and calls/s,\n"
"                      and the load average before and after: a shared\n"
"                      machine is noisy\n"
"    --placement P     where a guest call's threads run: auto (the\n"
"                      default: spread while the guests have at most one\n"
"                      vCPU per two CPUs; beyond, split inline and\n"
"                      colocate out of process), spread (the scheduler\n"
"                      decides, waiting sides spin), colocate (each vCPU,\n"
"                      its handler and its mediator worker on one CPU) or\n"
"                      split (the vCPUs on half the CPUs, the handlers on\n"
"                      the others); $TEEGATE_PLACEMENT when not given;\n"
"                      the table's last column says what was in force\n"
"    -h, --help        show this manual\n"
"\n"
"EXIT STATUS\n"
"    0   every configuration ran; 1 one failed; 2 bad command line, or\n"
"        the --json file could not be written or the --plot drawn\n"
"\n"
"EXAMPLES\n"
"    teegate bench --json bench.json --plot bench.png\n"
"        Every configuration with 1 and 4 guests: the figures of\n"
"        docs/isolation.md.\n"
"    teegate bench --quick --only sandboxed\n"
"        A smoke test of one configuration.\n"
"    teegate bench --trap-on-vcpu --only inline\n"
"        The mediator's own cost, with no handler thread in the way.\n"
"    teegate bench --scaling --repeat 5 --json scaling.json --plot scaling.png\n"
"        1, 2, 4 and 8 guests per mode, medians of 5 runs: the table of\n"
"        docs/isolation.md, \"More guests than cores\".\n");
}
#endif /* TG_HAVE_WORKLOADS */
