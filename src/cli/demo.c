// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: several guests share one TEE through the mediator while a
 * hostile guest runs the attack catalogue; a live table shows each guest;
 * at the end every guest is destroyed and the platform checks that
 * nothing leaked.
 *
 * The guests' counters pages are written by the guests: every number read
 * from them is display material (and a hostile guest can lie about
 * itself). The checks that matter come from the hypervisor's own state:
 * pins, page owners, TEE threads held, oracle violations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#ifdef TG_HAVE_WORKLOADS
#include <teegate/workload.h>
#else
#define TG_WL_VERBOSE 0u
#endif

#include "cli.h"

#define DEMO_MAX_GUESTS 32u
#define DEMO_MAX_VCPUS 4u
#define DEMO_MAX_SECONDS 3600u
#define DEMO_GRACE_S 15u
#define MIXED_PAGES 8192u  /* 32 MiB: the 8 MiB big buffer and the rest */
#define HOSTILE_PAGES 4096u
#define MEDIATOR_SLACK_PAGES 32768u /* reserved regions, shadows, slack */
/* The guest driver keeps one vCPU for async notifications: every guest
 * gets one vCPU slot more than the vCPUs that run a workload. */
#define DRIVER_VCPUS 1u
#define HOSTILE_VCPUS 2u    /* the TOCTOU attacks scribble from a 2nd vCPU */
/*
 * OP-TEE threads, and the concurrent std calls the mediator allows each
 * guest: the TEE has more threads than all guests together are likely to
 * hold, so a guest probing its own limit (the hostile catalogue suspends
 * calls until refused) meets the mediator's per-guest limit, not a TEE
 * that other guests happen to keep busy.
 */
#define DEMO_TEE_THREADS 32u
#define DEMO_MAX_CALLS 8u

struct demo_opts {
	uint32_t guests;
	uint32_t vcpus;
	uint32_t seconds;
	bool hostile;
	bool verbose;
	const char *json_path;
};

struct guest_arg {
	uint32_t seconds;
	uint64_t seed;
	uint32_t vcpus;
	uint32_t flags; /* TG_WL_VERBOSE */
};

struct row {
	struct tg_guest *g;
	bool hostile;
	bool done;
	int wstatus;
	struct tg_guest_stats last;    /* last snapshot while it ran */
	struct tg_guest_counters final; /* counters after it ended */
	uint64_t prev_calls;
	double rate;
	uint64_t end_ns;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- guests --------------------------------------------------------------- */

#ifdef TG_HAVE_WORKLOADS
static void extra_vcpu(struct tg_vcpu *v, void *arg)
{
	const struct guest_arg *a = arg;
	struct tg_workload_opts o = {
		.seconds = a->seconds,
		.seed = a->seed * 31 + tg_vcpu_index(v),
		.flags = TG_WL_NO_SPAWN | TG_WL_NO_BIGBUF | TG_WL_NO_NOTIF |
			 a->flags,
	};

	if (tg_workload_mixed(v, &o))
		__atomic_fetch_add(&tg_guest_counters(v)->phase, 0x10000u,
				   __ATOMIC_RELAXED);
}

static void mixed_main(struct tg_vcpu *v, void *arg)
{
	const struct guest_arg *a = arg;
	struct tg_workload_opts o = {
		.seconds = a->seconds,
		.seed = a->seed,
		.flags = (a->vcpus < 2 ? TG_WL_NO_SPAWN : 0) | a->flags,
	};
	int extra[DEMO_MAX_VCPUS];
	uint32_t i, n = 0;
	int rc;

	for (i = 2; i < a->vcpus; i++)
		extra[n++] = tg_vcpu_spawn(v, extra_vcpu, (void *)a);
	rc = tg_workload_mixed(v, &o);
	for (i = 0; i < n; i++)
		if (extra[i] < 0 || tg_vcpu_join(v, extra[i]))
			rc = -1;
	_exit(rc ? 1 : 0);
}

static void hostile_main(struct tg_vcpu *v, void *arg)
{
	const struct guest_arg *a = arg;
	uint64_t deadline = now_ns() + (uint64_t)a->seconds * 1000000000ull;
	struct tg_attack_result res[64];
	const struct tg_attack *table;
	size_t n = tg_hostile_catalogue(&table), i;
	struct tg_hostile_opts o = { .rounds = 1, .results = res };

	if (n > 64)
		o.results = NULL;

	do {
		if (tg_workload_hostile(v, &o) && o.results &&
		    (a->flags & TG_WL_VERBOSE))
			for (i = 0; i < n; i++)
				if (res[i].passed)
					fprintf(stderr,
						"hostile: attack %s was not refused (a0=%#x ret=%#x origin=%u)\n",
						table[i].name, res[i].a0,
						res[i].ret, res[i].origin);
	} while (now_ns() < deadline);
	_exit(0);
}
#else
/* Placeholder until the guest workloads are built: CALLS_UID in a loop. */
static void mixed_main(struct tg_vcpu *v, void *arg)
{
	const struct guest_arg *a = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t deadline = now_ns() + (uint64_t)a->seconds * 1000000000ull;

	while (now_ns() < deadline) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };
		uint64_t t0 = now_ns();

		tg_smc(v, regs);
		c->lat_hist[tg_lat_bucket(now_ns() - t0)]++;
		c->calls++;
		if (regs[0] == OPTEE_MSG_UID_0)
			c->verified++;
		else
			c->mismatches++;
	}
	_exit(0);
}

static void hostile_main(struct tg_vcpu *v, void *arg)
{
	const struct guest_arg *a = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t deadline = now_ns() + (uint64_t)a->seconds * 1000000000ull;

	while (now_ns() < deadline) {
		uint64_t regs[8] = { OPTEE_SMC_VM_DESTROYED, 1 };

		tg_smc(v, regs);
		if (regs[0] == OPTEE_SMC_RETURN_UNKNOWN_FUNCTION ||
		    regs[0] == OPTEE_SMC_RETURN_ENOTAVAIL)
			c->attacks_refused++;
		else
			c->attacks_passed++;
		usleep(1000);
	}
	_exit(0);
}
#endif

/* ---- numbers -------------------------------------------------------------- */

/* Latency at quantile @q of a guest's histogram, in ns (bucket middle). */
static double hist_quantile(const uint64_t *h, double q)
{
	double total = 0, acc = 0;
	unsigned int i;

	for (i = 0; i < TG_LAT_BUCKETS; i++)
		total += (double)h[i];
	if (total <= 0)
		return 0;
	for (i = 0; i < TG_LAT_BUCKETS; i++) {
		acc += (double)h[i];
		if (acc >= q * total)
			break;
	}
	if (i >= TG_LAT_BUCKETS)
		i = TG_LAT_BUCKETS - 1;
	{
		double octave = (double)(1ull << (i / 4));

		return octave * (1.0 + ((double)(i % 4) + 0.5) / 4.0);
	}
}

static const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns <= 0)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%.2fms", ns / 1e6);
	return buf;
}

static uint64_t sum_refused(const struct tg_domain_stats *d)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < TG_REFUSE_COUNT; i++)
		n += d->refused[i];
	return n;
}

static const struct tg_guest_counters *row_counters(const struct row *r)
{
	return r->done ? &r->final : &r->last.counters;
}

/* ---- table ---------------------------------------------------------------- */

static void print_header(FILE *f)
{
	fprintf(f, "%-4s %-10s %9s %9s %9s %9s %7s %8s %7s %6s  %s\n", "id",
		"guest", "calls", "calls/s", "p50", "p99", "errors",
		"refused", "pinned", "sess", "state");
}

static void print_row(FILE *f, const struct row *r)
{
	const struct tg_guest_counters *c = row_counters(r);
	char p50[16], p99[16], state[24];
	uint64_t refused = r->hostile ? c->attacks_refused
				      : sum_refused(&r->last.domain);

	if (!r->done)
		snprintf(state, sizeof(state), "running");
	else if (WIFEXITED(r->wstatus))
		snprintf(state, sizeof(state), "exited %d",
			 WEXITSTATUS(r->wstatus));
	else if (WIFSIGNALED(r->wstatus))
		snprintf(state, sizeof(state), "killed (%s)",
			 strsignal(WTERMSIG(r->wstatus)));
	else
		snprintf(state, sizeof(state), "?");
	fprintf(f, "%-4u %-10s %9llu %9.0f %9s %9s %7llu %8llu %7llu %6u  %s\n",
		r->last.client_id, r->last.name, (unsigned long long)c->calls,
		r->rate, fmt_ns(p50, sizeof(p50), hist_quantile(c->lat_hist, 0.5)),
		fmt_ns(p99, sizeof(p99), hist_quantile(c->lat_hist, 0.99)),
		(unsigned long long)c->errors, (unsigned long long)refused,
		r->done ? 0ull : (unsigned long long)r->last.pages_pinned,
		r->done ? 0u : r->last.domain.sessions, state);
}

static unsigned int draw_table(struct tg_machine *m, struct row *rows,
			       unsigned int n, const struct demo_opts *o,
			       double t, bool done, bool tty,
			       unsigned int prev_lines)
{
	const char *el = tty ? "\033[K" : ""; /* clear to end of line */
	struct tg_machine_pages ps;
	unsigned int i, lines = 0;
	char when[40];

	tg_machine_page_stats(m, &ps);
	if (tty && prev_lines)
		printf("\033[%uA", prev_lines);
	if (done)
		snprintf(when, sizeof(when), "finished after %.1f s", t);
	else
		snprintf(when, sizeof(when), "t = %.0f s of %u", t,
			 o->seconds);
	printf("%steegate demo: %u guests x %u vCPUs%s, OP-TEE model, inline mediator  [%s]\n",
	       el, o->guests, o->vcpus, o->hostile ? " + 1 hostile" : "",
	       when);
	lines++;
	printf("%s", el);
	print_header(stdout);
	lines++;
	for (i = 0; i < n; i++) {
		printf("%s", el);
		print_row(stdout, &rows[i]);
		lines++;
	}
	printf("%smachine: %llu pages free, %llu guest, %llu mediator, %llu pinned, %llu quarantined; oracle violations %llu\n",
	       el, (unsigned long long)ps.free, (unsigned long long)ps.guest,
	       (unsigned long long)ps.mediator, (unsigned long long)ps.pinned,
	       (unsigned long long)ps.quarantined,
	       (unsigned long long)tg_machine_violations(m));
	lines++;
	if (!tty) {
		printf("\n");
		lines++;
	}
	fflush(stdout);
	return lines;
}

/* ---- JSON ----------------------------------------------------------------- */

struct checks {
	bool exited_clean;
	uint64_t mismatches, errors, attacks_refused, attacks_passed;
	uint64_t pinned, guest_pages, quarantined, mediator_pages;
	uint32_t threads_held;
	uint64_t violations;
	bool interrupted;
	bool ok;
};

static void write_json(FILE *f, const struct demo_opts *o, struct row *rows,
		       unsigned int n, double elapsed, const struct checks *k)
{
	unsigned int i;

	fprintf(f, "{\n  \"tool\": \"teegate demo\",\n");
	fprintf(f, "  \"guests\": %u, \"vcpus\": %u, \"seconds\": %u, \"hostile\": %s,\n",
		o->guests, o->vcpus, o->seconds, o->hostile ? "true" : "false");
	fprintf(f, "  \"elapsed_s\": %.3f,\n  \"per_guest\": [\n", elapsed);
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct tg_guest_counters *c = row_counters(r);
		double run_s = elapsed > 0 ? elapsed : 1;

		fprintf(f,
			"    {\"client_id\": %u, \"name\": \"%s\", \"workload\": \"%s\", "
			"\"calls\": %llu, \"calls_per_s\": %.1f, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
			"\"verified\": %llu, \"mismatches\": %llu, \"errors\": %llu, "
			"\"attacks_refused\": %llu, \"attacks_passed\": %llu, "
			"\"mediator_refusals\": %llu, \"traps\": %llu, "
			"\"exit_status\": %d, \"signal\": %d}%s\n",
			r->last.client_id, r->last.name,
			r->hostile ? "hostile" : "mixed",
			(unsigned long long)c->calls, (double)c->calls / run_s,
			hist_quantile(c->lat_hist, 0.5),
			hist_quantile(c->lat_hist, 0.99),
			(unsigned long long)c->verified,
			(unsigned long long)c->mismatches,
			(unsigned long long)c->errors,
			(unsigned long long)c->attacks_refused,
			(unsigned long long)c->attacks_passed,
			(unsigned long long)sum_refused(&r->last.domain),
			(unsigned long long)r->last.traps,
			WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : -1,
			WIFSIGNALED(r->wstatus) ? WTERMSIG(r->wstatus) : 0,
			i + 1 < n ? "," : "");
	}
	fprintf(f, "  ],\n  \"checks\": {\n");
	fprintf(f, "    \"guests_exited_cleanly\": %s,\n",
		k->exited_clean ? "true" : "false");
	fprintf(f, "    \"mismatches\": %llu,\n    \"errors\": %llu,\n",
		(unsigned long long)k->mismatches,
		(unsigned long long)k->errors);
	fprintf(f, "    \"attacks_refused\": %llu,\n    \"attacks_passed\": %llu,\n",
		(unsigned long long)k->attacks_refused,
		(unsigned long long)k->attacks_passed);
	fprintf(f, "    \"pinned_pages\": %llu,\n    \"guest_pages_left\": %llu,\n",
		(unsigned long long)k->pinned,
		(unsigned long long)k->guest_pages);
	fprintf(f, "    \"quarantined_pages\": %llu,\n    \"mediator_pages\": %llu,\n",
		(unsigned long long)k->quarantined,
		(unsigned long long)k->mediator_pages);
	fprintf(f, "    \"model_threads_held\": %u,\n    \"oracle_violations\": %llu,\n",
		k->threads_held, (unsigned long long)k->violations);
	fprintf(f, "    \"interrupted\": %s\n  },\n",
		k->interrupted ? "true" : "false");
	fprintf(f, "  \"ok\": %s\n}\n", k->ok ? "true" : "false");
}

/* ---- the command ---------------------------------------------------------- */

static int parse_opts(int argc, char **argv, struct demo_opts *o)
{
	int i;

	o->guests = 4;
	o->vcpus = 2;
	o->seconds = 20;
	o->hostile = true;
	o->verbose = false;
	o->json_path = NULL;
	for (i = 1; i < argc; i++) {
		char *arg = argv[i], *val = NULL, *eq;
		char name[32];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			tg_help_demo();
			return -1;
		}
		if (strncmp(arg, "--", 2))
			return tg_cli_usage_error("demo: unexpected argument '%s' (try 'teegate help demo')",
						  arg);
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s",
			 eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (!strcmp(name, "--verbose")) {
			if (eq)
				return tg_cli_usage_error("demo: --verbose takes no value");
			o->verbose = true;
			continue;
		}
		if (!strcmp(name, "--no-hostile")) {
			if (eq)
				return tg_cli_usage_error("demo: --no-hostile takes no value");
			o->hostile = false;
			continue;
		}
		if (!strcmp(name, "--isolation") || !strcmp(name, "--backend") ||
		    !strcmp(name, "--firmware"))
			return tg_cli_usage_error("demo: %s: not available yet",
						  name);
		if (strcmp(name, "--guests") && strcmp(name, "--vcpus") &&
		    strcmp(name, "--seconds") && strcmp(name, "--json"))
			return tg_cli_usage_error("demo: unknown option '%s' (try 'teegate help demo')",
						  name);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return tg_cli_usage_error("demo: %s needs a value", name);
		if (!strcmp(name, "--guests")) {
			if (!tg_cli_parse_u32("demo: --guests", val, 1,
					      DEMO_MAX_GUESTS, &o->guests))
				return TG_EXIT_USAGE;
		} else if (!strcmp(name, "--vcpus")) {
			if (!tg_cli_parse_u32("demo: --vcpus", val, 1,
					      DEMO_MAX_VCPUS, &o->vcpus))
				return TG_EXIT_USAGE;
		} else if (!strcmp(name, "--seconds")) {
			if (!tg_cli_parse_u32("demo: --seconds", val, 1,
					      DEMO_MAX_SECONDS, &o->seconds))
				return TG_EXIT_USAGE;
		} else {
			if (!*val)
				return tg_cli_usage_error("demo: --json needs a file name");
			o->json_path = val;
		}
	}
	return 0;
}

static bool check(const char *what, bool ok, const char *detail_fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool check(const char *what, bool ok, const char *detail_fmt, ...)
{
	va_list ap;

	printf("  [%s] %s", ok ? " ok " : "FAIL", what);
	if (detail_fmt) {
		printf(" (");
		va_start(ap, detail_fmt);
		vprintf(detail_fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	return ok;
}

int tg_cmd_demo(int argc, char **argv)
{
	struct tg_machine_config mc = { 0 };
	struct tg_guest_config gc = { 0 };
	struct tg_limits limits = { .max_calls = DEMO_MAX_CALLS };
	struct guest_arg *args;
	struct demo_opts o;
	struct tg_machine *m = NULL;
	struct row *rows;
	struct checks k = { 0 };
	struct tg_machine_pages ps;
	FILE *json = NULL;
	unsigned int n, i, lines = 0, live;
	uint64_t t0, last_tick, end_ns, hard_end;
	bool tty = isatty(STDOUT_FILENO);
	double elapsed;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? TG_EXIT_OK : ret;
	if (o.json_path) {
		json = fopen(o.json_path, "w");
		if (!json)
			return tg_cli_usage_error("demo: --json: cannot write '%s': %s",
						  o.json_path, strerror(errno));
	}
	n = o.guests + (o.hostile ? 1 : 0);
	rows = calloc(n, sizeof(*rows));
	args = calloc(n, sizeof(*args));
	if (!rows || !args) {
		fprintf(stderr, "teegate: out of memory\n");
		return TG_EXIT_FAIL;
	}

	mc.tee = TG_TEE_MODEL;
	mc.mediation = TG_MEDIATION_INLINE;
	/* 1 GiB like QEMU virt, more when the guests need it (sparse). */
	{
		uint64_t need = ((uint64_t)o.guests * MIXED_PAGES +
				 HOSTILE_PAGES + MEDIATOR_SLACK_PAGES)
				<< 12;

		mc.ram_size = 1ull << 30;
		while (mc.ram_size < need)
			mc.ram_size <<= 1;
	}
	mc.log_level = o.verbose ? TG_LOG_WARN + 1 : TG_LOG_ERROR + 1;
	/* Enough OP-TEE threads for every vCPU: with the QEMU build's 2, the
	 * well-behaved guests' traffic would make the hostile guest's probes
	 * of its own limits fail with ETHREAD_LIMIT instead. */
	mc.model.threads = DEMO_TEE_THREADS;
	mc.model.max_guests = o.guests + 1; /* CFG_VIRT_GUEST_COUNT */
	ret = tg_machine_create(&mc, &m);
	if (ret) {
		fprintf(stderr, "teegate: cannot create the machine: %s\n",
			tg_strerror(ret));
		if (json)
			fclose(json);
		return TG_EXIT_FAIL;
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);

	for (i = 0; i < n; i++) {
		char name[32];

		rows[i].hostile = o.hostile && i == n - 1;
		args[i].seconds = o.seconds;
		args[i].seed = 0x7e6a7e + i;
		args[i].flags = o.verbose ? TG_WL_VERBOSE : 0;
		args[i].vcpus = rows[i].hostile ? HOSTILE_VCPUS : o.vcpus;
		if (rows[i].hostile)
			snprintf(name, sizeof(name), "hostile");
		else
			snprintf(name, sizeof(name), "mixed-%u", i + 1);
		gc.name = name;
		gc.vcpus = args[i].vcpus + DRIVER_VCPUS;
		gc.limits = &limits;
		gc.ram_pages = rows[i].hostile ? HOSTILE_PAGES : MIXED_PAGES;
		ret = tg_guest_start(m, &gc,
				     rows[i].hostile ? hostile_main : mixed_main,
				     &args[i], &rows[i].g);
		if (ret) {
			fprintf(stderr, "teegate: cannot start guest %s: %s\n",
				name, tg_strerror(ret));
			n = i;
			k.interrupted = true;
			break;
		}
		tg_guest_stats(rows[i].g, &rows[i].last);
	}

	t0 = last_tick = now_ns();
	end_ns = t0 + (uint64_t)o.seconds * 1000000000ull;
	hard_end = end_ns + (uint64_t)DEMO_GRACE_S * 1000000000ull;
	for (;;) {
		uint64_t now = now_ns();
		double dt = (double)(now - last_tick) / 1e9;
		bool tick = dt >= (tty ? 1.0 : 5.0);

		live = 0;
		for (i = 0; i < n; i++) {
			struct row *r = &rows[i];

			if (r->done)
				continue;
			if (tg_guest_wait_timeout(r->g, 0, &r->wstatus) ==
			    TG_AGAIN) {
				live++;
				if (tick) {
					uint64_t calls;

					tg_guest_stats(r->g, &r->last);
					calls = r->last.counters.calls;
					r->rate = (double)(calls - r->prev_calls) / dt;
					r->prev_calls = calls;
				}
				continue;
			}
			r->done = true;
			r->end_ns = now;
			{
				struct tg_guest_stats fin;

				tg_guest_stats(r->g, &fin);
				r->final = fin.counters;
			}
			/* finished: the average over its run */
			r->rate = now > t0 ? (double)r->final.calls * 1e9 /
						     (double)(now - t0)
					   : 0;
		}
		if (tick) {
			lines = draw_table(m, rows, n, &o,
					   (double)(now - t0) / 1e9, false, tty,
					   lines);
			last_tick = now;
		}
		if (!live)
			break;
		if (interrupted || now > hard_end) {
			k.interrupted = k.interrupted || interrupted;
			for (i = 0; i < n; i++)
				if (!rows[i].done)
					tg_guest_kill(rows[i].g);
		}
		usleep(50000);
	}
	elapsed = (double)(now_ns() - t0) / 1e9;
	lines = draw_table(m, rows, n, &o, elapsed, true, tty, lines);

	/* Every guest is torn down now: what is left must be nothing. */
	k.exited_clean = true;
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct tg_guest_counters *c = &r->final;

		if (!WIFEXITED(r->wstatus) || WEXITSTATUS(r->wstatus))
			k.exited_clean = false;
		k.mismatches += c->mismatches;
		k.errors += c->errors;
		k.attacks_refused += c->attacks_refused;
		k.attacks_passed += c->attacks_passed;
	}
	tg_machine_page_stats(m, &ps);
	k.pinned = ps.pinned;
	k.guest_pages = ps.guest;
	k.quarantined = ps.quarantined;
	k.mediator_pages = ps.mediator;
	k.threads_held = tg_machine_model(m)
				 ? tg_model_threads_held(tg_machine_model(m),
							 UINT32_MAX)
				 : 0;
	k.violations = tg_machine_violations(m);

	printf("\nsummary after %.1f s, every guest destroyed:\n", elapsed);
	k.ok = true;
	k.ok &= check("every guest ran to its end and exited with 0",
		      k.exited_clean && !k.interrupted,
		      k.interrupted ? "interrupted: guests were killed" : NULL);
	k.ok &= check("no wrong result", k.mismatches == 0,
		      "%llu mismatches", (unsigned long long)k.mismatches);
	k.ok &= check("no unexpected error", k.errors == 0, "%llu errors",
		      (unsigned long long)k.errors);
	if (o.hostile)
		k.ok &= check("every attack refused", k.attacks_passed == 0,
			      "%llu refused, %llu passed",
			      (unsigned long long)k.attacks_refused,
			      (unsigned long long)k.attacks_passed);
	k.ok &= check("nothing pinned", k.pinned == 0, "%llu pages",
		      (unsigned long long)k.pinned);
	k.ok &= check("every page back in the pool",
		      !k.guest_pages && !k.quarantined && !k.mediator_pages,
		      "%llu guest, %llu quarantined, %llu mediator",
		      (unsigned long long)k.guest_pages,
		      (unsigned long long)k.quarantined,
		      (unsigned long long)k.mediator_pages);
	k.ok &= check("no TEE thread held", k.threads_held == 0, "%u",
		      k.threads_held);
	k.ok &= check("no isolation violation (oracle)", k.violations == 0,
		      "%llu", (unsigned long long)k.violations);
	printf("result: %s\n", k.ok ? "PASS" : "FAIL");

	if (json) {
		write_json(json, &o, rows, n, elapsed, &k);
		if (fclose(json)) {
			fprintf(stderr, "teegate: --json: write failed: %s\n",
				strerror(errno));
			k.ok = false;
		}
	}
	if (tg_machine_destroy(m) != TG_OK) {
		fprintf(stderr, "teegate: machine teardown reported a leak\n");
		k.ok = false;
	}
	free(rows);
	free(args);
	return k.ok ? TG_EXIT_OK : TG_EXIT_FAIL;
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
"OPTIONS\n"
"    --guests N     well-behaved guests, 1 to %u (default 4)\n"
"    --vcpus N      vCPUs per well-behaved guest, 1 to %u (default 2)\n"
"    --seconds N    how long the workloads run, 1 to %u (default 20);\n"
"                   guests still running %u s later are killed\n"
"    --json FILE    also write the summary as JSON to FILE\n"
"    --no-hostile   do not start the hostile guest\n"
"    --verbose      guests print every failure and every attack that was\n"
"                   not refused on stderr; platform warnings too\n"
"    --isolation MODE, --backend NAME, --firmware DIR\n"
"                   recognised, not available yet (exit status 2)\n"
"    -h, --help     show this manual\n"
"\n"
"EXIT STATUS\n"
"    0   every check passed\n"
"    1   a check failed, a guest could not start, or the run was\n"
"        interrupted (SIGINT/SIGTERM)\n"
"    2   bad command line (unknown option, number out of range, JSON file\n"
"        not writable); nothing was run\n"
"\n"
"EXAMPLES\n"
"    teegate demo\n"
"        4 guests x 2 vCPUs and a hostile guest for 20 seconds.\n"
"    teegate demo --guests 8 --vcpus 1 --seconds 60 --json run.json\n"
"        A longer run with more, smaller guests; summary in run.json.\n"
"    teegate demo --seconds 3 --no-hostile | cat\n"
"        A short run without the hostile guest, plain periodic output.\n",
	       DEMO_MAX_GUESTS, DEMO_MAX_VCPUS, DEMO_MAX_SECONDS, DEMO_GRACE_S);
}
