// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate bench --scaling: what more guests than cores do to throughput
 * and latency (docs/isolation.md, "More guests than cores").
 *
 * For each mode, machines with 1, 2, 4 and 8 guests (processes, one vCPU
 * each; with --trap-on-vcpu thread guests whose traps run on their vCPU
 * thread, 1, 2 and 4 of them) run the small operations whose cost is the
 * hand-over itself: a forwarded fast call (CALLS_UID), an INVOKE with four
 * values and an RPC round trip (stats GET_TIME). Every guest runs the
 * same operation at the same time: a guest that is ready for the next
 * operation says so in its counters page, and the bench starts them all
 * by writing a word into each guest's RAM. Each guest then calls for a
 * fixed time and keeps a latency histogram (1/32 of an octave, about 2%)
 * in its RAM, which the bench reads through the hypervisor's port.
 *
 * Throughput is all guests' calls divided by the longest guest's time;
 * "x1" is that throughput over the same mode's with 1 guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#ifdef TG_HAVE_WORKLOADS
#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>

#include "bench.h"

#define SC_NOPS 3
#define SC_MAX_GUESTS 8
#define SC_SUB 32u		     /* histogram buckets per octave */
#define SC_BUCKETS (SC_SUB * 28u) /* up to 2^32 ns */
#define SC_MAGIC 0x5CA1E000u
#define SC_READY(op) (0x5C00u + (uint32_t)(op)) /* counters.phase */
#define SC_FAILED 0x5CBAu
#define SC_GUEST_PAGES 2048u

static const char *const sc_names[SC_NOPS] = {
	"fast call", "invoke 4 values", "RPC GET_TIME",
};
static const char *const sc_keys[SC_NOPS] = {
	"fast_call", "invoke_values", "rpc_get_time",
};

struct sc_config {
	const char *name;
	enum tg_isolation isolation;
	bool per_guest, poll;
};

static const struct sc_config sc_configs[] = {
	{ "inline", TG_ISOLATION_INLINE, false, false },
	{ "sandboxed", TG_ISOLATION_SANDBOXED, false, false },
	{ "sandboxed-per-guest", TG_ISOLATION_SANDBOXED, true, false },
	{ "service", TG_ISOLATION_SERVICE, false, false },
	{ "service-poll", TG_ISOLATION_SERVICE, false, true },
	{ "service-per-guest", TG_ISOLATION_SERVICE, true, false },
};
#define SC_NCONFIGS (sizeof(sc_configs) / sizeof(sc_configs[0]))

/* In guest RAM: written by the guest, except @go (by the bench). */
struct sc_guest_res {
	uint32_t magic;
	volatile uint32_t go; /* op + 1: start it */
	uint64_t calls[SC_NOPS];
	uint64_t errors[SC_NOPS];
	uint64_t wall_ns[SC_NOPS];
	uint64_t cpu_ns[SC_NOPS]; /* the vCPU thread's CPU time in the run */
	uint32_t hist[SC_NOPS][SC_BUCKETS];
};

struct sc_arg {
	uint64_t run_ns; /* per operation */
	unsigned int repeat; /* runs per cell (medians) */
	enum tg_placement placement;
	bool thread_guest;
};

struct sc_result {
	bool ok;
	double p50_us[SC_NOPS], p99_us[SC_NOPS], ops_per_s[SC_NOPS];
	/* the guests' vCPU threads' CPU time per call, in us */
	double vcpu_us[SC_NOPS];
	uint64_t calls[SC_NOPS], errors[SC_NOPS];
	/* the placement in force with every guest running (what auto
	 * chose); of the first run with --repeat */
	enum tg_placement placed;
	/* with --repeat: every run's calls/s (the figures above are the
	 * medians of the runs; errors their sum) */
	unsigned int runs;
	double run_ops[TG_BENCH_MAX_REPEAT][SC_NOPS];
};

/* CPU time of the calling thread (a guest's vCPU): what it burnt,
 * spinning included, whoever else had the cores */
static uint64_t sc_thread_cpu(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t sc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int sc_bucket(uint64_t ns)
{
	unsigned int o = 0;

	if (ns < SC_SUB)
		return (unsigned int)ns;
	while (ns >> (o + 1))
		o++;
	/* o >= 5: the 5 bits below the leading one */
	ns = SC_SUB * (o - 4) + ((ns >> (o - 5)) & (SC_SUB - 1));
	return ns < SC_BUCKETS ? (unsigned int)ns : SC_BUCKETS - 1;
}

/* The middle of bucket @b, in ns. */
static double sc_bucket_ns(unsigned int b)
{
	unsigned int o;
	double lo, w;

	if (b < SC_SUB)
		return b;
	o = b / SC_SUB + 4;
	w = ldexp(1.0, (int)o - 5);
	lo = ldexp(1.0, (int)o) + w * (b % SC_SUB);
	return lo + w / 2;
}

/* ---- the guest ------------------------------------------------------- */

/* Scaling op @op (fast call, INVOKE, RPC) as bench.c's operation. */
static const int sc_bench_op[SC_NOPS] = { 0, 1, 4 };

static void sc_guest(struct tg_vcpu *v, void *varg)
{
	const struct sc_arg *a = varg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint32_t npages = (sizeof(struct sc_guest_res) + 4095) / 4096;
	struct sc_guest_res *res;
	TEEC_Context ctx;
	TEEC_Session inv, stats;
	uint64_t ipa;
	int op;

	if (tg_alloc_pages(v, npages, &ipa)) {
		c->phase = SC_FAILED;
		return;
	}
	res = tg_ipa_ptr(v, ipa);
	memset(res, 0, sizeof(*res));
	res->magic = SC_MAGIC;
	if (!tg_bench_open(&ctx, &inv, &stats)) {
		c->phase = SC_FAILED;
		return;
	}
	c->verified = ipa;
	for (op = 0; op < SC_NOPS; op++) {
		uint64_t w0, end, t0, t1, c0;

		c->phase = SC_READY(op);
		while (res->go != (uint32_t)op + 1) {
			if (tg_vcpu_killed(v))
				return;
			usleep(100);
		}
		c0 = sc_thread_cpu();
		w0 = sc_now();
		end = w0 + a->run_ns;
		t1 = w0;
		do {
			bool ok;

			t0 = t1;
			ok = tg_bench_op(v, sc_bench_op[op], &inv, &stats,
					 &ctx, NULL, NULL);
			t1 = sc_now();
			res->hist[op][sc_bucket(t1 - t0)]++;
			res->calls[op]++;
			if (!ok)
				res->errors[op]++;
		} while (t1 < end);
		res->wall_ns[op] = t1 - w0;
		res->cpu_ns[op] = sc_thread_cpu() - c0;
	}
	/* a thread guest gives its driver back (see bench.c) */
	if (a->thread_guest) {
		TEEC_CloseSession(&inv);
		TEEC_CloseSession(&stats);
		TEEC_FinalizeContext(&ctx);
	}
	c->phase = SC_READY(SC_NOPS);
	for (;;)
		if (!tg_notif_wait(v, 1000) && tg_vcpu_killed(v))
			return;
}

/* ---- the bench ------------------------------------------------------- */

/* Wait until every guest reached @phase: TG_OK, or an error. */
static int sc_wait_phase(struct tg_guest **g, uint32_t n, uint32_t phase,
			 uint64_t deadline)
{
	for (;;) {
		uint32_t i, ready = 0;

		for (i = 0; i < n; i++) {
			struct tg_guest_counters c;
			enum tg_guest_state state;

			/* Not tg_guest_stats(): its walk of the machine's
			 * pages would take a core from the guests. */
			if (tg_guest_poll(g[i], &state, &c) != TG_OK ||
			    state != TG_GUEST_RUNNING || c.phase == SC_FAILED)
				return TG_EPROTO;
			if (c.phase == phase)
				ready++;
		}
		if (ready == n)
			return TG_OK;
		if (sc_now() > deadline)
			return TG_EBUSY;
		usleep(2000);
	}
}

static void sc_summarise(const uint32_t *hist, uint64_t n, double *p50,
			 double *p99)
{
	uint64_t acc = 0, k50 = (n + 1) / 2, k99 = (n * 99 + 99) / 100;
	unsigned int b;

	*p50 = *p99 = 0;
	for (b = 0; b < SC_BUCKETS; b++) {
		uint64_t before = acc;

		acc += hist[b];
		if (before < k50 && acc >= k50)
			*p50 = sc_bucket_ns(b) / 1000.0;
		if (before < k99 && acc >= k99) {
			*p99 = sc_bucket_ns(b) / 1000.0;
			break;
		}
	}
}

static int sc_run(const struct sc_config *cf, uint32_t nguests,
		  const struct sc_arg *arg, struct sc_result *r)
{
	struct tg_machine_config mc;
	struct tg_guest_config gc;
	struct tg_machine *m = NULL;
	struct tg_guest *g[SC_MAX_GUESTS] = { 0 };
	uint64_t gipa[SC_MAX_GUESTS];
	static struct sc_guest_res res[SC_MAX_GUESTS];
	static uint32_t hist[SC_BUCKETS];
	const struct tg_port *port;
	uint32_t i;
	int op, ret;

	memset(r, 0, sizeof(*r));
	memset(&mc, 0, sizeof(mc));
	mc.ram_size = 1ull << 30;
	mc.tee = TG_TEE_MODEL;
	mc.mediation = TG_MEDIATION_INLINE;
	mc.isolation = cf->isolation;
	mc.per_guest = cf->per_guest;
	mc.service_poll = cf->poll;
	mc.log_level = getenv("TEEGATE_BENCH_VERBOSE") ? TG_LOG_INFO + 1
						      : TG_LOG_ERROR + 1;
	mc.model.threads = 2 * SC_MAX_GUESTS;
	mc.model.max_guests = SC_MAX_GUESTS + 1;
	mc.trap_on_vcpu = arg->thread_guest;
	mc.placement = arg->placement;
	ret = tg_machine_create(&mc, &m);
	if (ret)
		return ret;
	port = tg_machine_port(m);
	memset(&gc, 0, sizeof(gc));
	gc.vcpus = 1;
	gc.ram_pages = SC_GUEST_PAGES;
	gc.name = "scaling";
	gc.mode = arg->thread_guest ? TG_GUEST_THREAD : TG_GUEST_PROCESS;
	gc.arg_size = sizeof(*arg); /* a process guest gets a copy */
	for (i = 0; i < nguests; i++) {
		ret = tg_guest_start(m, &gc, sc_guest, (void *)arg, &g[i]);
		if (ret)
			goto out;
	}
	r->placed = tg_machine_placement(m);
	for (op = 0; op < SC_NOPS; op++) {
		uint32_t go = (uint32_t)op + 1;

		ret = sc_wait_phase(g, nguests, SC_READY(op),
				    sc_now() + 60ull * 1000000000ull);
		if (ret)
			goto out;
		for (i = 0; i < nguests; i++) {
			struct tg_guest_counters c;
			enum tg_guest_state state;

			if (!op) {
				tg_guest_poll(g[i], &state, &c);
				gipa[i] = c.verified;
			}
			ret = port->copy_to_guest(
				port->ctx, tg_guest_client_id(g[i]),
				gipa[i] + offsetof(struct sc_guest_res, go),
				&go, sizeof(go));
			if (ret)
				goto out;
		}
	}
	ret = sc_wait_phase(g, nguests, SC_READY(SC_NOPS),
			    sc_now() + 60ull * 1000000000ull);
	if (ret)
		goto out;
	for (i = 0; i < nguests; i++) {
		ret = port->copy_from_guest(port->ctx,
					    tg_guest_client_id(g[i]), &res[i],
					    gipa[i], sizeof(res[i]));
		if (ret || res[i].magic != SC_MAGIC) {
			ret = ret ? ret : TG_EPROTO;
			goto out;
		}
	}
	for (op = 0; op < SC_NOPS; op++) {
		uint64_t wall = 0, n = 0, cpu = 0;
		unsigned int b;

		memset(hist, 0, sizeof(hist));
		for (i = 0; i < nguests; i++) {
			for (b = 0; b < SC_BUCKETS; b++)
				hist[b] += res[i].hist[op][b];
			n += res[i].calls[op];
			r->errors[op] += res[i].errors[op];
			if (res[i].wall_ns[op] > wall)
				wall = res[i].wall_ns[op];
			cpu += res[i].cpu_ns[op];
		}
		r->calls[op] = n;
		sc_summarise(hist, n, &r->p50_us[op], &r->p99_us[op]);
		r->ops_per_s[op] = wall ? (double)n * 1e9 / (double)wall : 0;
		r->vcpu_us[op] = n ? (double)cpu / 1000.0 / (double)n : 0;
	}
	r->ok = true;
out:
	for (i = 0; i < nguests; i++) {
		if (!g[i])
			continue;
		tg_guest_kill(g[i]);
		tg_guest_wait(g[i], NULL);
	}
	if (tg_machine_destroy(m) && !ret)
		ret = TG_EBUSY;
	return ret;
}

static int sc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values (the mean of the middle two for even @n). */
static double sc_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), sc_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* @out: the medians of @n successful runs @run, errors summed. */
static void sc_fold(const struct sc_result *run, unsigned int n,
		    struct sc_result *out)
{
	double v[TG_BENCH_MAX_REPEAT];
	unsigned int i;
	int op;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	out->runs = n;
	out->placed = run[0].placed;
	for (op = 0; op < SC_NOPS; op++) {
		for (i = 0; i < n; i++)
			v[i] = run[i].p50_us[op];
		out->p50_us[op] = sc_median(v, n);
		for (i = 0; i < n; i++)
			v[i] = run[i].p99_us[op];
		out->p99_us[op] = sc_median(v, n);
		for (i = 0; i < n; i++)
			v[i] = (double)run[i].calls[op];
		out->calls[op] = (uint64_t)llround(sc_median(v, n));
		for (i = 0; i < n; i++) {
			v[i] = run[i].ops_per_s[op];
			out->run_ops[i][op] = run[i].ops_per_s[op];
			out->errors[op] += run[i].errors[op];
		}
		out->ops_per_s[op] = sc_median(v, n);
		for (i = 0; i < n; i++)
			v[i] = run[i].vcpu_us[op];
		out->vcpu_us[op] = sc_median(v, n);
	}
}

static double sc_ratio(const struct sc_result *r, const struct sc_result *one,
		       int op)
{
	return one->ok && one->ops_per_s[op] > 0
		       ? r->ops_per_s[op] / one->ops_per_s[op]
		       : 0;
}

/* The results as JSON (--json): one entry per mode, guest count and
 * operation, with the table's numbers. */
/* What the machines use: --placement, else $TEEGATE_PLACEMENT (host.h). */
static enum tg_placement placement_of(const struct sc_arg *a)
{
	return a->placement ? a->placement : tg_placement_from_env();
}

static int sc_json(FILE *f, const char *machine, const struct sc_arg *a,
		   unsigned int repeat, const double *load,
		   const uint32_t *guests, uint32_t ng,
		   struct sc_result res[][4])
{
	json_t *root = json_object(), *results = json_array(), *runs;
	uint32_t c, gi;
	unsigned int i;
	int op;

	for (c = 0; c < SC_NCONFIGS; c++)
		for (gi = 0; gi < ng; gi++) {
			const struct sc_result *r = &res[c][gi];

			if (!r->ok)
				continue;
			for (op = 0; op < SC_NOPS; op++) {
				json_t *e = json_object();

				tg_json_set(&e, "config",
					    json_string(sc_configs[c].name));
				tg_json_set(&e, "guests",
					    tg_json_uint(guests[gi]));
				tg_json_set(&e, "placed",
					    json_string(tg_placement_name(
						    r->placed)));
				tg_json_set(&e, "op", json_string(sc_keys[op]));
				tg_json_set(&e, "calls",
					    tg_json_uint(r->calls[op]));
				tg_json_set(&e, "errors",
					    tg_json_uint(r->errors[op]));
				tg_json_set(&e, "p50_us",
					    tg_json_fixed(r->p50_us[op], 3));
				tg_json_set(&e, "p99_us",
					    tg_json_fixed(r->p99_us[op], 3));
				tg_json_set(&e, "ops_per_s",
					    tg_json_fixed(r->ops_per_s[op], 1));
				tg_json_set(&e, "x_one_guest",
					    tg_json_fixed(sc_ratio(r, &res[c][0],
								   op),
							  3));
				tg_json_set(&e, "vcpu_us_per_call",
					    tg_json_fixed(r->vcpu_us[op], 3));
				runs = json_array();
				for (i = 0; i < r->runs; i++)
					tg_json_append(
						&runs,
						tg_json_fixed(r->run_ops[i][op],
							      1));
				tg_json_set(&e, "runs_ops_per_s", runs);
				tg_json_append(&results, e);
			}
		}
	tg_json_set(&root, "machine", json_string(machine));
	tg_json_set(&root, "unit", json_string("us"));
	tg_json_set(&root, "run_s", tg_json_fixed((double)a->run_ns / 1e9, 3));
	tg_json_set(&root, "repeat", tg_json_uint(repeat));
	tg_json_set(&root, "load_before", tg_json_fixed(load[0], 2));
	tg_json_set(&root, "load_after", tg_json_fixed(load[1], 2));
	tg_json_set(&root, "guests",
		    json_string(a->thread_guest
					? "threads, traps on the vCPU's thread"
					: "processes, 1 vCPU each"));
	/* 0: one handler thread per vCPU */
	tg_json_set(&root, "trap_pool",
		    tg_json_uint(a->thread_guest ? 0 : tg_trap_pool_from_env()));
	tg_json_set(&root, "placement",
		    json_string(tg_placement_name(placement_of(a))));
	tg_json_set(&root, "results", results);
	return tg_json_write(root, f);
}

/*
 * Two rows of one panel per operation: throughput over 1 guest's (the
 * 0.8 goal dashed), and p99 / p50 (the 20 goal dashed), against guests.
 */
static int sc_plot(const char *png, const char *machine,
		   const struct sc_arg *a, const uint32_t *guests, uint32_t ng,
		   struct sc_result res[][4], const bool *want)
{
	char dat[] = "/tmp/teegate-scaling-XXXXXX";
	char gp[] = "/tmp/teegate-scaling-gp-XXXXXX";
	char note[64];
	FILE *d, *g;
	int fd, fd2, op, st, col;
	uint32_t c, gi;
	pid_t pid;

	if (a->repeat > 1)
		snprintf(note, sizeof(note), "medians of %u runs, goals dashed",
			 a->repeat);
	else
		snprintf(note, sizeof(note), "goals dashed");
	fd = mkstemp(dat);
	fd2 = mkstemp(gp);
	if (fd < 0 || fd2 < 0)
		return -1;
	d = fdopen(fd, "w");
	g = fdopen(fd2, "w");
	if (!d || !g)
		return -1;
	/* one line per guest count: guests, then per op and config the
	 * ratio and p99/p50 ("?" when missing) */
	for (gi = 0; gi < ng; gi++) {
		fprintf(d, "%u", guests[gi]);
		for (op = 0; op < SC_NOPS; op++)
			for (c = 0; c < SC_NCONFIGS; c++) {
				const struct sc_result *r = &res[c][gi];

				if (!want[c] || !r->ok || r->p50_us[op] <= 0)
					fprintf(d, " ? ?");
				else
					fprintf(d, " %.4f %.3f",
						sc_ratio(r, &res[c][0], op),
						r->p99_us[op] / r->p50_us[op]);
			}
		fprintf(d, "\n");
	}
	fclose(d);
	fprintf(g,
		"set terminal pngcairo size 1500,900 noenhanced font ',10'\n"
		"set output '%s'\n"
		"set datafile missing '?'\n"
		"set multiplot layout 2,%d title \"teegate bench --scaling: %s (%s)\\n%s\"\n"
		"set logscale x 2\n"
		"set xtics (",
		png, SC_NOPS,
		a->thread_guest ? "thread guests, traps on their vCPU thread"
				: "process guests, 1 vCPU each",
		note, machine);
	for (gi = 0; gi < ng; gi++)
		fprintf(g, "%s\"%u\" %u", gi ? ", " : "", guests[gi],
			guests[gi]);
	fprintf(g, ")\nset xrange [0.8:%u]\nset grid\nset key bottom left\n",
		guests[ng - 1] + guests[ng - 1] / 4);
	for (col = 0; col < 2; col++)
		for (op = 0; op < SC_NOPS; op++) {
			bool first = true;

			fprintf(g, "set title '%s'\n", sc_names[op]);
			fprintf(g, "set xlabel 'guests'\n");
			if (col == 0)
				fprintf(g,
					"unset logscale y\nset yrange [0:*]\nset ylabel 'throughput / 1 guest'\n");
			else
				fprintf(g,
					"set logscale y\nset yrange [1:*]\nset ylabel 'p99 / p50'\n");
			fprintf(g, "plot %s lc rgb 'gray' dt 2 lw 2 title 'goal'",
				col == 0 ? "0.8" : "20");
			for (c = 0; c < SC_NCONFIGS; c++) {
				if (!want[c])
					continue;
				fprintf(g,
					", '%s' using 1:%d with linespoints lw 2 title '%s'",
					dat,
					2 + 2 * (op * (int)SC_NCONFIGS +
						 (int)c) + col,
					sc_configs[c].name);
				first = false;
			}
			(void)first;
			fprintf(g, "\n");
		}
	fprintf(g, "unset multiplot\n");
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

int tg_bench_scaling(const struct tg_bench_scaling_opts *o)
{
	static struct sc_result res[SC_NCONFIGS][4], run[TG_BENCH_MAX_REPEAT];
	unsigned int repeat = o->repeat ? o->repeat : 1, k, nok;
	double load[2] = { 0, 0 };
	static const uint32_t proc_guests[4] = { 1, 2, 4, 8 };
	static const uint32_t thread_guests[3] = { 1, 2, 4 };
	const uint32_t *guests = o->trap_on_vcpu ? thread_guests : proc_guests;
	uint32_t ng = o->trap_on_vcpu ? 3 : 4, c, gi;
	struct sc_arg arg = { .run_ns = o->quick ? 40000000ull : 400000000ull,
			      .thread_guest = o->trap_on_vcpu,
			      .repeat = o->repeat ? o->repeat : 1,
			      .placement = o->placement };
	bool want[SC_NCONFIGS], failed = false, any = false;
	char machine[256];
	unsigned int step = 0, nsteps = 0;
	int op;

	for (c = 0; c < SC_NCONFIGS; c++) {
		want[c] = !o->only || !strcmp(o->only, sc_configs[c].name);
		/* a thread guest is no isolation: the out-of-process
		 * modes are measured, not their per-guest copies */
		if (o->trap_on_vcpu && sc_configs[c].per_guest && !o->only)
			want[c] = false;
		any |= want[c];
		nsteps += want[c] ? ng * repeat : 0;
	}
	if (!any && o->quiet_only)
		return TG_EXIT_OK;
	if (!any)
		return tg_cli_usage_error("bench: --only: no configuration '%s' for --scaling (inline, sandboxed, sandboxed-per-guest, service, service-poll, service-per-guest)",
					  o->only);
	tg_bench_machine_line(machine, sizeof(machine));
	getloadavg(&load[0], 1);
	for (c = 0; c < SC_NCONFIGS; c++)
		for (gi = 0; gi < ng && want[c]; gi++) {
			char what[80];
			int ret;

			/* a cell with a failed run is failed: a median of
			 * the runs that worked would hide it */
			for (k = nok = 0; k < repeat; k++) {
				snprintf(what, sizeof(what),
					 "%s, %u guest%s, run %u",
					 sc_configs[c].name, guests[gi],
					 guests[gi] > 1 ? "s" : "", k + 1);
				tg_bench_progress(step++, nsteps, what);
				ret = sc_run(&sc_configs[c], guests[gi], &arg,
					     &run[k]);
				if (ret) {
					fprintf(stderr,
						"teegate: bench: %s: %s\n",
						what, tg_strerror(ret));
					failed = true;
					continue;
				}
				nok++;
			}
			if (nok == repeat)
				sc_fold(run, repeat, &res[c][gi]);
			else
				memset(&res[c][gi], 0, sizeof(res[c][gi]));
		}
	tg_bench_progress(step, nsteps, NULL);
	getloadavg(&load[1], 1);
	printf("teegate bench --scaling: %s\n", machine);
	printf("%s; every guest calls for %.2f s at the same time; latency in us (CLOCK_MONOTONIC around each call, in the guest); calls/s of all guests together; x1 = over 1 guest's\n",
	       o->trap_on_vcpu
		       ? "guests are threads with 1 vCPU whose traps run on the vCPU's own thread"
		       : "guests are processes with 1 vCPU",
	       (double)arg.run_ns / 1e9);
	if (!o->trap_on_vcpu)
		printf("placement: %s (--placement)\n",
		       tg_placement_name(placement_of(&arg)));
	if (!o->trap_on_vcpu && tg_trap_pool_from_env())
		printf("traps served by a pool of %u hypervisor thread%s (TEEGATE_TRAP_POOL), not one handler thread per vCPU\n",
		       tg_trap_pool_from_env(),
		       tg_trap_pool_from_env() > 1 ? "s" : "");
	printf("vCPU us = CPU time of the guests' vCPU threads per call (their spinning included; with --trap-on-vcpu also the mediator's and the hypervisor's work): what a call costs whoever else has the cores\n");
	printf("%u run%s per cell%s; 1-minute load average %.2f before, %.2f after\n\n",
	       repeat, repeat > 1 ? "s" : "",
	       repeat > 1 ? ", medians of p50, p99 and calls/s" : "",
	       load[0], load[1]);
	for (op = 0; op < SC_NOPS; op++) {
		printf("%-16s %-20s %6s %9s %9s %8s %11s %6s %6s %9s  %s\n",
		       sc_names[op], "config", "guests", "p50 us", "p99 us",
		       "p99/p50", "calls/s", "x1", "errors", "vCPU us",
		       "placed");
		for (c = 0; c < SC_NCONFIGS; c++)
			for (gi = 0; gi < ng && want[c]; gi++) {
				const struct sc_result *r = &res[c][gi];

				if (!r->ok) {
					printf("%-16s %-20s %6u %9s\n", "",
					       sc_configs[c].name, guests[gi],
					       "failed");
					continue;
				}
				printf("%-16s %-20s %6u %9.2f %9.2f %8.1f %11.0f %6.2f %6llu %9.2f  %s\n",
				       "", sc_configs[c].name, guests[gi],
				       r->p50_us[op], r->p99_us[op],
				       r->p50_us[op] > 0
					       ? r->p99_us[op] / r->p50_us[op]
					       : 0,
				       r->ops_per_s[op],
				       sc_ratio(r, &res[c][0], op),
				       (unsigned long long)r->errors[op],
				       r->vcpu_us[op],
				       tg_placement_name(r->placed));
			}
		printf("\n");
	}
	if (o->json) {
		FILE *f = fopen(o->json, "w");

		if (!f)
			return tg_cli_usage_error("bench: --json: cannot write '%s': %s",
						  o->json, strerror(errno));
		if (sc_json(f, machine, &arg, repeat, load, guests, ng, res) |
		    fclose(f)) {
			fprintf(stderr, "teegate: bench: --json: write failed: %s\n",
				strerror(errno));
			return TG_EXIT_USAGE;
		}
		printf("wrote %s\n", o->json);
	}
	if (o->png) {
		if (sc_plot(o->png, machine, &arg, guests, ng, res, want)) {
			fprintf(stderr, "teegate: bench: --plot: gnuplot failed to write '%s' (is gnuplot installed?)\n",
				o->png);
			return TG_EXIT_USAGE;
		}
		printf("wrote %s\n", o->png);
	}
	return failed ? TG_EXIT_FAIL : TG_EXIT_OK;
}
#endif /* TG_HAVE_WORKLOADS */
