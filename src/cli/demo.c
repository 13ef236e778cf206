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
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#ifdef TG_HAVE_QEMU
#include "qemu.h"
#endif
#ifdef TG_HAVE_WORKLOADS
#include <teegate/workload.h>
#else
#define TG_WL_VERBOSE 0u
#define TG_WL_CHAOS 0u
#define TG_WL_REGISTER_TMP 0u
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
#define DEMO_QEMU_MAX_CPUS 4u
#define HOSTILE_SKIPPED_MARK 0x5C000000u /* hostile's final phase */ /* TF-A's qemu platform */
#define DEMO_QEMU_MAX_RAM (2ull << 30)
#define DEMO_CHAOS_DEFAULT_S 3u
#define DEMO_CHAOS_MAX_S 60u
#define DEMO_RESTART_WAIT_MS 10000u /* the platform's own bound, too */

struct demo_opts {
	uint32_t guests;
	uint32_t vcpus;
	uint32_t seconds;
	bool hostile;
	bool verbose;
	const char *json_path;
	/* secure world */
	bool qemu;              /* --backend qemu */
	const char *firmware;   /* --firmware DIR */
	const char *qemu_path;  /* --qemu PATH */
	const char *log_dir;    /* --log-dir DIR */
	uint32_t qemu_cpus;     /* --qemu-cpus N */
	uint32_t qemu_timeout;  /* test: --qemu-timeout SEC */
	bool no_secure;         /* test: QEMU without a secure world */
	bool model_no_virt;     /* test: the model without virtualization */
	enum tg_isolation isolation; /* --isolation MODE */
	bool per_guest;         /* --per-guest (sandboxed, service) */
	uint32_t chaos_s;       /* --chaos: kill interval; 0 = no chaos */
	const char *upgrade_path; /* --upgrade PATH */
};

/* What the summary says about the secure world. */
static const char *tee_name(const struct demo_opts *o)
{
	if (!o->qemu)
		return o->model_no_virt ? "OP-TEE model (no virtualization)"
					: "OP-TEE model";
	return o->no_secure ? "QEMU without a secure world" : "OP-TEE in QEMU";
}

struct guest_arg {
	uint32_t seconds;
	uint64_t seed;
	uint32_t vcpus;
	uint32_t flags; /* TG_WL_VERBOSE, TG_WL_CHAOS */
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
	uint64_t start_ns, end_ns;
	bool waiting; /* for an OP-TEE guest slot (CFG_VIRT_GUEST_COUNT) */
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
	struct tg_hostile_opts o = { .rounds = 1,
				     .results = res,
				     .flags = a->flags & TG_WL_CHAOS };
	uint32_t skipped = 0;

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
		for (i = 0; o.results && i < n; i++) {
			skipped += res[i].skipped;
			if (res[i].skipped && (a->flags & TG_WL_VERBOSE))
				fprintf(stderr, "hostile: attack %s skipped (could not be tried on this TEE)\n",
					table[i].name);
		}
	} while (now_ns() < deadline);
	/* The catalogue is done: phase now says how many tries were
	 * skipped (display material, like every counter). */
	__atomic_store_n(&tg_guest_counters(v)->phase,
			 HOSTILE_SKIPPED_MARK | (skipped & 0xFFFFFFu),
			 __ATOMIC_RELAXED);
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

/* ---- the mediator's life: --chaos, --upgrade ------------------------------ */

/*
 * A thread of the hypervisor SIGKILLs the out-of-process mediator (with
 * --per-guest, every daemon) at each multiple of the interval while the
 * workloads run (--chaos) and, halfway through, replaces it with another
 * program (--upgrade). It kills only a mediator that serves: after each
 * kill it waits until every death was followed by a restart, so each kill
 * hits a running mediator, and each restart time is one sample. Kills stop
 * when the workloads end: a per-guest daemon also dies, without a
 * restart, when its guest is destroyed.
 * Every number it shows comes from tg_machine_isolation_stats(), the
 * hypervisor's own count; only "kills" is counted here (SIGKILLs sent).
 */
enum upgrade_state { UPGRADE_NONE, UPGRADE_PENDING, UPGRADE_DONE,
		     UPGRADE_FAILED };

struct medlife {
	struct tg_machine *m;
	uint64_t t0, interval_ns; /* interval 0: no chaos */
	uint64_t end_ns;          /* after t0: the workloads' end */
	uint64_t upgrade_at_ns;   /* after t0 */
	const char *upgrade_path;
	pthread_t thread;
	bool started;
	uint32_t stop;        /* __atomic */
	uint64_t kills;       /* __atomic: SIGKILLs sent */
	uint64_t not_back;    /* kills not followed by a restart in time */
	uint64_t *restart_ns; /* death to serving, one per kill */
	uint32_t nrestart, cap;
	uint32_t upgrade;     /* __atomic: enum upgrade_state */
	int upgrade_rc;
	uint64_t upgrade_t_ns;    /* when, after t0 */
	uint64_t upgrade_ns;      /* stop to serving (the platform's count) */
	uint64_t upgrade_call_ns; /* tg_machine_upgrade_mediator() */
	uint64_t upgrade_calls_failed;
};

/*
 * Wait until a death after @deaths_before was seen and every death was
 * followed by a restart. @st gets the stats. False after
 * DEMO_RESTART_WAIT_MS.
 */
static bool wait_restarted(struct tg_machine *m, uint64_t deaths_before,
			   struct tg_isolation_stats *st)
{
	unsigned int waited;

	for (waited = 0; waited < DEMO_RESTART_WAIT_MS; waited++) {
		tg_machine_isolation_stats(m, st);
		if (st->deaths > deaths_before && st->restarts >= st->deaths)
			return true;
		usleep(1000);
	}
	return false;
}

static void medlife_kill(struct medlife *ml)
{
	struct tg_isolation_stats before, st;

	tg_machine_isolation_stats(ml->m, &before);
	if (tg_machine_kill_mediator(ml->m) != TG_OK)
		return; /* none serving: a restart of its own is under way */
	__atomic_fetch_add(&ml->kills, 1, __ATOMIC_RELAXED);
	if (!wait_restarted(ml->m, before.deaths, &st)) {
		ml->not_back++;
		return;
	}
	if (ml->nrestart < ml->cap)
		ml->restart_ns[ml->nrestart++] = st.last_restart_ns;
}

static void medlife_upgrade(struct medlife *ml)
{
	struct tg_isolation_stats before, st;
	uint64_t t = now_ns();
	unsigned int waited = 0;
	int rc;

	tg_machine_isolation_stats(ml->m, &before);
	/* TG_EBUSY: a restart (the watchdog's) is under way; wait it out */
	while ((rc = tg_machine_upgrade_mediator(ml->m, ml->upgrade_path)) ==
		       TG_EBUSY &&
	       waited++ < DEMO_RESTART_WAIT_MS)
		usleep(1000);
	ml->upgrade_call_ns = now_ns() - t;
	ml->upgrade_t_ns = t - ml->t0;
	ml->upgrade_rc = rc;
	tg_machine_isolation_stats(ml->m, &st);
	ml->upgrade_ns = st.last_upgrade_ns;
	ml->upgrade_calls_failed = st.calls_failed - before.calls_failed;
	__atomic_store_n(&ml->upgrade,
			 rc == TG_OK && st.upgrades > before.upgrades
				 ? UPGRADE_DONE
				 : UPGRADE_FAILED,
			 __ATOMIC_RELEASE);
}

static void *medlife_main(void *arg)
{
	struct medlife *ml = arg;
	uint64_t next_kill = ml->t0 + ml->interval_ns;

	while (!__atomic_load_n(&ml->stop, __ATOMIC_RELAXED)) {
		uint64_t now = now_ns();

		if (__atomic_load_n(&ml->upgrade, __ATOMIC_RELAXED) ==
			    UPGRADE_PENDING &&
		    now >= ml->t0 + ml->upgrade_at_ns) {
			medlife_upgrade(ml);
			continue;
		}
		if (ml->interval_ns && now >= next_kill &&
		    next_kill < ml->t0 + ml->end_ns) {
			medlife_kill(ml);
			/* a late restart shifts the schedule, never bunches
			 * kills up */
			next_kill += ml->interval_ns;
			if (next_kill < now_ns())
				next_kill = now_ns() + ml->interval_ns;
			continue;
		}
		usleep(10000);
	}
	return NULL;
}

/* vCPUs that run a workload: one operation in flight each at most. */
static uint32_t wl_vcpus(const struct demo_opts *o)
{
	return o->guests * o->vcpus + (o->hostile ? HOSTILE_VCPUS : 0);
}

static bool medlife_wanted(const struct demo_opts *o)
{
	return o->chaos_s || o->upgrade_path;
}

static int medlife_start(struct medlife *ml, struct tg_machine *m,
			 const struct demo_opts *o, uint64_t t0)
{
	memset(ml, 0, sizeof(*ml));
	if (!medlife_wanted(o))
		return 0;
	ml->m = m;
	ml->t0 = t0;
	ml->interval_ns = (uint64_t)o->chaos_s * 1000000000ull;
	ml->end_ns = (uint64_t)o->seconds * 1000000000ull;
	if (o->upgrade_path) {
		ml->upgrade_path = o->upgrade_path;
		ml->upgrade_at_ns = (uint64_t)o->seconds * 500000000ull;
		ml->upgrade = UPGRADE_PENDING;
	}
	if (o->chaos_s) {
		ml->cap = o->seconds / o->chaos_s + 2;
		ml->restart_ns = calloc(ml->cap, sizeof(*ml->restart_ns));
		if (!ml->restart_ns)
			return -1;
	}
	if (pthread_create(&ml->thread, NULL, medlife_main, ml)) {
		free(ml->restart_ns);
		ml->restart_ns = NULL;
		return -1;
	}
	ml->started = true;
	return 0;
}

static void medlife_stop(struct medlife *ml)
{
	if (!ml->started)
		return;
	__atomic_store_n(&ml->stop, 1, __ATOMIC_RELAXED);
	pthread_join(ml->thread, NULL);
	ml->started = false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and maximum of the restart times, in ns (0 without samples). */
static void restart_times(const struct medlife *ml, double *median,
			  double *max)
{
	uint32_t n = ml->nrestart;
	uint64_t *v;

	*median = *max = 0;
	v = n ? malloc(n * sizeof(*v)) : NULL;
	if (!v)
		return;
	/* a copy: the JSON keeps them in the order of the kills */
	memcpy(v, ml->restart_ns, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u64);
	*median = n % 2 ? (double)v[n / 2]
			: ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
	*max = (double)v[n - 1];
	free(v);
}

/*
 * On a terminal the table is redrawn in place, and a line on stderr
 * breaks it; with --chaos the platform logs every death it sees. So,
 * there and without --verbose, stderr goes to a file while the guests
 * run (the mediator processes started meanwhile write there too), and is
 * shown after the table, less the deaths --chaos caused.
 */
struct log_capture {
	FILE *f;
	int saved; /* the real stderr */
};

static void log_capture_start(struct log_capture *lc)
{
	lc->saved = -1;
	lc->f = tmpfile();
	if (!lc->f)
		return;
	fflush(stderr);
	lc->saved = dup(STDERR_FILENO);
	if (lc->saved < 0 || dup2(fileno(lc->f), STDERR_FILENO) < 0) {
		if (lc->saved >= 0)
			close(lc->saved);
		lc->saved = -1;
		fclose(lc->f);
		lc->f = NULL;
	}
}

static void log_capture_end(struct log_capture *lc)
{
	unsigned int caused = 0, other = 0;
	char line[512];

	if (!lc->f)
		return;
	fflush(stderr);
	dup2(lc->saved, STDERR_FILENO);
	close(lc->saved);
	rewind(lc->f);
	while (fgets(line, sizeof(line), lc->f)) {
		if (strstr(line, "died (signal 9): restarting it")) {
			caused++;
			continue;
		}
		if (!other++)
			fprintf(stderr, "teegate demo: the platform's log while the guests ran:\n");
		fputs(line, stderr);
	}
	if (caused)
		fprintf(stderr, "teegate demo: %u log lines of a mediator killed by --chaos and restarted are not shown\n",
			caused);
	fclose(lc->f);
	lc->f = NULL;
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

	if (r->waiting)
		snprintf(state, sizeof(state), "waiting for a TEE slot");
	else if (!r->done)
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

/* Operations the guests saw interrupted by a mediator death (their
 * counters: display material). */
static uint64_t sum_interrupted(const struct row *rows, unsigned int n)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += row_counters(&rows[i])->interrupted;
	return sum;
}

/*
 * The --chaos/--upgrade lines of the table, from the hypervisor's stats;
 * @el ends each line's old text on a terminal. Returns the lines printed.
 */
static unsigned int print_medlife(FILE *f, const char *el,
				  struct tg_machine *m,
				  const struct medlife *ml,
				  const struct row *rows, unsigned int n)
{
	struct tg_isolation_stats st;
	char last[16];

	tg_machine_isolation_stats(m, &st);
	fprintf(f, "%smediator: ", el);
	if (ml->interval_ns)
		fprintf(f, "%llu killed, ",
			(unsigned long long)__atomic_load_n(&ml->kills,
							    __ATOMIC_RELAXED));
	fprintf(f, "%llu deaths, %llu restarts (%llu state recovered, %llu lost), last restart %s\n",
		(unsigned long long)st.deaths, (unsigned long long)st.restarts,
		(unsigned long long)st.recovered,
		(unsigned long long)st.state_lost,
		fmt_ns(last, sizeof(last), (double)st.last_restart_ns));
	fprintf(f, "%s          %llu calls failed in flight, guests saw %llu interrupted",
		el, (unsigned long long)st.calls_failed,
		(unsigned long long)sum_interrupted(rows, n));
	switch (__atomic_load_n(&ml->upgrade, __ATOMIC_ACQUIRE)) {
	case UPGRADE_PENDING:
		fprintf(f, "; upgrade at t = %.0f s",
			(double)ml->upgrade_at_ns / 1e9);
		break;
	case UPGRADE_DONE:
		fprintf(f, "; upgraded at t = %.1f s in %s",
			(double)ml->upgrade_t_ns / 1e9,
			fmt_ns(last, sizeof(last), (double)ml->upgrade_ns));
		break;
	case UPGRADE_FAILED:
		fprintf(f, "; upgrade FAILED: %s", tg_strerror(ml->upgrade_rc));
		break;
	default:
		break;
	}
	fprintf(f, "\n");
	return 2;
}

static unsigned int draw_table(struct tg_machine *m, struct row *rows,
			       unsigned int n, const struct demo_opts *o,
			       const struct medlife *ml, double t, bool done,
			       bool tty, unsigned int prev_lines)
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
	printf("%steegate demo: %u guests x %u vCPUs%s, %s, %s%s mediator  [%s]\n",
	       el, o->guests, o->vcpus, o->hostile ? " + 1 hostile" : "",
	       tee_name(o),
	       o->isolation == TG_ISOLATION_DEFAULT
		       ? "inline"
		       : tg_isolation_name(o->isolation),
	       o->per_guest ? " per-guest" : "", when);
	lines++;
	printf("%s", el);
	print_header(stdout);
	lines++;
	for (i = 0; i < n; i++) {
		printf("%s", el);
		print_row(stdout, &rows[i]);
		lines++;
	}
	printf("%smachine: %llu pages free, %llu guest, %llu mediator, %llu pinned, %llu quarantined; oracle violations ",
	       el, (unsigned long long)ps.free, (unsigned long long)ps.guest,
	       (unsigned long long)ps.mediator, (unsigned long long)ps.pinned,
	       (unsigned long long)ps.quarantined);
	if (o->qemu)
		printf("n/a (real OP-TEE)\n");
	else
		printf("%llu\n", (unsigned long long)tg_machine_violations(m));
	lines++;
	if (ml->m)
		lines += print_medlife(stdout, el, m, ml, rows, n);
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
	uint64_t attacks_skipped;
	uint64_t pinned, guest_pages, quarantined, mediator_pages;
	uint32_t threads_held;
	uint64_t violations;
	bool interrupted;
	/* --chaos, --upgrade: the hypervisor's stats at the end */
	struct tg_isolation_stats iso;
	uint64_t stopped; /* per-guest daemons stopped with their guest */
	uint64_t died;    /* the other deaths: each must be restarted */
	uint64_t wl_interrupted; /* the guests' own count */
	uint64_t max_interrupted; /* deaths x workload vCPUs */
	double restart_median_ns, restart_max_ns;
	bool restarted_ok, accounted_ok, upgraded_ok;
	bool ok;
};

/* @s as a JSON string (quotes, backslashes and controls escaped). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The --chaos and --upgrade objects of the JSON summary. */
static void write_json_medlife(FILE *f, const struct demo_opts *o,
			       const struct medlife *ml,
			       const struct checks *k)
{
	uint32_t i;

	if (o->chaos_s) {
		fprintf(f, "  \"chaos\": {\"interval_s\": %u, \"kills\": %llu, \"deaths\": %llu, \"daemons_stopped\": %llu, \"restarts\": %llu, \"recovered\": %llu, \"state_lost\": %llu,\n",
			o->chaos_s, (unsigned long long)ml->kills,
			(unsigned long long)k->iso.deaths,
			(unsigned long long)k->stopped,
			(unsigned long long)k->iso.restarts,
			(unsigned long long)k->iso.recovered,
			(unsigned long long)k->iso.state_lost);
		fprintf(f, "    \"calls_failed\": %llu, \"guests_interrupted\": %llu, \"restart_ms_median\": %.3f, \"restart_ms_max\": %.3f, \"restart_ms\": [",
			(unsigned long long)k->iso.calls_failed,
			(unsigned long long)k->wl_interrupted,
			k->restart_median_ns / 1e6, k->restart_max_ns / 1e6);
		for (i = 0; i < ml->nrestart; i++)
			fprintf(f, "%s%.3f", i ? ", " : "",
				(double)ml->restart_ns[i] / 1e6);
		fprintf(f, "]},\n");
	}
	if (o->upgrade_path) {
		bool done = ml->upgrade == UPGRADE_DONE;

		fprintf(f, "  \"upgrade\": {\"path\": ");
		json_str(f, o->upgrade_path);
		fprintf(f, ", \"ok\": %s, ", done ? "true" : "false");
		if (ml->upgrade == UPGRADE_PENDING)
			fprintf(f, "\"at_s\": null, \"upgrade_ms\": null, \"call_ms\": null, \"calls_failed\": null},\n");
		else
			fprintf(f, "\"at_s\": %.3f, \"upgrade_ms\": %.3f, \"call_ms\": %.3f, \"calls_failed\": %llu},\n",
				(double)ml->upgrade_t_ns / 1e9,
				done ? (double)ml->upgrade_ns / 1e6 : 0.0,
				(double)ml->upgrade_call_ns / 1e6,
				(unsigned long long)ml->upgrade_calls_failed);
	}
}

static void write_json(FILE *f, const struct demo_opts *o, struct row *rows,
		       unsigned int n, double elapsed, const struct checks *k,
		       const struct medlife *ml)
{
	unsigned int i;

	fprintf(f, "{\n  \"tool\": \"teegate demo\",\n");
	fprintf(f, "  \"backend\": \"%s\",\n", o->qemu ? "qemu" : "model");
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
			"\"mediator_refusals\": %llu, \"traps\": %llu, ",
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
			(unsigned long long)r->last.traps);
		if (o->chaos_s)
			fprintf(f, "\"interrupted\": %llu, ",
				(unsigned long long)c->interrupted);
		fprintf(f, "\"exit_status\": %d, \"signal\": %d}%s\n",
			WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : -1,
			WIFSIGNALED(r->wstatus) ? WTERMSIG(r->wstatus) : 0,
			i + 1 < n ? "," : "");
	}
	fprintf(f, "  ],\n");
	write_json_medlife(f, o, ml, k);
	fprintf(f, "  \"checks\": {\n");
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
	fprintf(f, "    \"attacks_skipped\": %llu,\n",
		(unsigned long long)k->attacks_skipped);
	if (o->qemu) /* real OP-TEE: neither can be seen from here */
		fprintf(f, "    \"model_threads_held\": null,\n    \"oracle_violations\": null,\n");
	else
		fprintf(f, "    \"model_threads_held\": %u,\n    \"oracle_violations\": %llu,\n",
			k->threads_held, (unsigned long long)k->violations);
	if (o->chaos_s || o->upgrade_path)
		fprintf(f, "    \"mediator_restarted_with_state\": %s,\n",
			k->restarted_ok ? "true" : "false");
	if (o->chaos_s)
		fprintf(f, "    \"failed_calls_accounted\": %s,\n",
			k->accounted_ok ? "true" : "false");
	if (o->upgrade_path)
		fprintf(f, "    \"upgraded\": %s,\n",
			k->upgraded_ok ? "true" : "false");
	fprintf(f, "    \"interrupted\": %s\n  },\n",
		k->interrupted ? "true" : "false");
	fprintf(f, "  \"ok\": %s\n}\n", k->ok ? "true" : "false");
}

/* ---- the command ---------------------------------------------------------- */

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
	OPT_ISOLATION,
	OPT_PER_GUEST,
	OPT_CHAOS,
	OPT_UPGRADE,
	/* test options */
	OPT_NO_SECURE,
	OPT_QEMU_TIMEOUT,
	OPT_MODEL_NO_VIRT,
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
	{ "isolation", required_argument, NULL, OPT_ISOLATION },
	{ "per-guest", no_argument, NULL, OPT_PER_GUEST },
	{ "chaos", optional_argument, NULL, OPT_CHAOS },
	{ "upgrade", required_argument, NULL, OPT_UPGRADE },
	{ "no-secure", no_argument, NULL, OPT_NO_SECURE },
	{ "qemu-timeout", required_argument, NULL, OPT_QEMU_TIMEOUT },
	{ "model-no-virt", no_argument, NULL, OPT_MODEL_NO_VIRT },
	TG_CLI_OPT_HELP,
	{ 0 },
};

/*
 * Read one option's value into @o; the checks between options follow in
 * parse_opts(). Returns 0 or TG_EXIT_USAGE after one line.
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
	case OPT_MODEL_NO_VIRT:
		o->model_no_virt = true;
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
static int parse_opts(int argc, char **argv, struct demo_opts *o)
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
			 o->qemu_cpus || o->no_secure || o->qemu_timeout))
		return tg_cli_usage_error("demo: --firmware, --qemu, --qemu-cpus, --log-dir, --qemu-timeout and --no-secure need --backend qemu");
	if (o->qemu && o->model_no_virt)
		return tg_cli_usage_error("demo: --model-no-virt is for --backend model");
	if (o->per_guest && o->isolation != TG_ISOLATION_SERVICE &&
	    o->isolation != TG_ISOLATION_SANDBOXED)
		return tg_cli_usage_error("demo: --per-guest needs --isolation sandboxed or service");
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

/*
 * --backend qemu: start QEMU (TF-A, OP-TEE, our relay) and point machine
 * memory at its RAM. Every failure is one line on stderr; exit status 2.
 */
struct secure_world {
	struct tg_qemu *q;
	struct tg_mem_region regions[TG_HOST_MAX_RESERVED];
	char ram_path[64];
};

static int start_qemu(const struct demo_opts *o, struct tg_machine_config *mc,
		      struct secure_world *sw)
{
#ifdef TG_HAVE_QEMU
	struct tg_qemu_config qc = {
		.firmware_dir = o->firmware,
		.no_secure = o->no_secure,
		.qemu_path = o->qemu_path,
		.log_dir = o->log_dir,
		.cpus = o->qemu_cpus,
		.timeout_ms = o->qemu_timeout * 1000u,
	};
	char err[4096];
	int rc;

	/* QEMU's RAM: 1 GiB, more when the guests need it (at most 2). */
	qc.ram_size = TG_QEMU_DEFAULT_RAM_SIZE;
	while (qc.ram_size < mc->ram_size && qc.ram_size < DEMO_QEMU_MAX_RAM)
		qc.ram_size <<= 1;
	rc = tg_qemu_start(&qc, &sw->q, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "teegate: %s\n", err);
		return TG_EXIT_USAGE;
	}
	if (tg_qemu_machine_memory(sw->q, mc, sw->regions,
				   TG_HOST_MAX_RESERVED, sw->ram_path,
				   sizeof(sw->ram_path))) {
		fprintf(stderr, "teegate: QEMU's RAM cannot be machine memory: report this bug\n");
		return TG_EXIT_USAGE;
	}
	mc->tee = TG_TEE_QEMU;
	mc->qemu = sw->q;
	if (o->verbose)
		printf("teegate demo: relay ready on %u CPUs after %.0f ms\n",
		       tg_qemu_cpus(sw->q), tg_qemu_boot_ms(sw->q));
	return 0;
#else
	(void)o;
	(void)mc;
	(void)sw;
	fprintf(stderr, "teegate: this teegate was built without the QEMU backend (src/tee/qemu): rebuild it\n");
	return TG_EXIT_USAGE;
#endif
}

static void stop_qemu(struct secure_world *sw)
{
#ifdef TG_HAVE_QEMU
	tg_qemu_stop(sw->q);
#endif
	sw->q = NULL;
}

/*
 * A real OP-TEE 4.10.0 or older leaks the object of every NONCONTIG
 * temporary memref into the guest's partition heap (fixed upstream by
 * 51d99cd24, docs/real-optee.md): after a few hundred, large registrations
 * fail. Linux guests never send such memrefs (libteec registers them);
 * the demo's guests then do the same, and say so.
 */
static uint32_t register_tmp(const struct demo_opts *o, struct tg_machine *m)
{
	const struct tg_tee_info *t = NULL;

	if (!o->qemu)
		return 0;
	if (tg_machine_mediator(m))
		t = tg_mediator_tee_info(tg_machine_mediator(m));
	if (t && (t->os_rev_major > 4 ||
		  (t->os_rev_major == 4 && t->os_rev_minor > 10)))
		return 0;
	printf("OP-TEE %u.%u: temporary memrefs go as registered memory, as Linux sends them (4.10.0 and older leak NONCONTIG ones; docs/real-optee.md)\n",
	       t ? t->os_rev_major : 0, t ? t->os_rev_minor : 0);
	return TG_WL_REGISTER_TMP;
}

/*
 * The mediator's verdict on the secure world, after tg_machine_create():
 * @rc its result. Returns 0 to go on, or an exit status after one line.
 */
static int check_secure_world(const struct demo_opts *o, int rc,
			      struct tg_machine *m)
{
	const struct tg_tee_info *t = NULL;
	unsigned int n = o->guests + (o->hostile ? 1 : 0);
	char msg[512];

	if (!rc && tg_machine_mediator(m))
		t = tg_mediator_tee_info(tg_machine_mediator(m));
#ifdef TG_HAVE_QEMU
	if (o->qemu) {
		int v = tg_qemu_check_probe(rc, t, msg, sizeof(msg));

		if (v == TG_QEMU_OK)
			return 0;
		if (v != TG_QEMU_ENOVIRT) {
			fprintf(stderr, "teegate: %s\n", msg);
			return TG_EXIT_USAGE;
		}
	}
#endif
	if (rc) {
		fprintf(stderr, "teegate: cannot create the machine: %s\n",
			tg_strerror(rc));
		return TG_EXIT_FAIL;
	}
	if (!t || t->virtualization)
		return 0;
	if (n > 1) {
		fprintf(stderr, "teegate: the secure world (%s) lacks virtualization: only one guest can use it; run with --guests 1 --no-hostile%s\n",
			tee_name(o),
			o->qemu ? ", or rebuild OP-TEE with CFG_NS_VIRTUALIZATION=y"
				: "");
		return TG_EXIT_USAGE;
	}
	printf("teegate demo: the secure world lacks virtualization: running the one guest asked for\n");
	return 0;
}

/* What --chaos and --upgrade did, from the hypervisor's stats. */
static void medlife_report(const struct demo_opts *o,
			   const struct medlife *ml, const struct checks *k)
{
	const struct tg_isolation_stats *st = &k->iso;
	char a[16], b[16];

	printf("\n");
	if (o->chaos_s) {
		printf("mediator killed every %u s (--chaos):\n", o->chaos_s);
		printf("  kills                   %llu%s, %llu deaths, %llu restarts: %llu with the state recovered, %llu with it lost\n",
		       (unsigned long long)ml->kills,
		       o->per_guest ? " rounds (every daemon SIGKILLed)"
				    : " SIGKILLs",
		       (unsigned long long)k->died,
		       (unsigned long long)st->restarts,
		       (unsigned long long)st->recovered,
		       (unsigned long long)st->state_lost);
		if (k->stopped)
			printf("                          (and %llu daemons stopped with their guest, not counted)\n",
			       (unsigned long long)k->stopped);
		printf("  restart time            median %s, max %s (the restarts after %u kills, death to serving%s)\n",
		       fmt_ns(a, sizeof(a), k->restart_median_ns),
		       fmt_ns(b, sizeof(b), k->restart_max_ns), ml->nrestart,
		       o->per_guest ? ", the last daemon of each kill" : "");
		printf("  calls failed in flight  %llu (hypervisor: calls a recovery ended, their guests got COMMUNICATION)\n",
		       (unsigned long long)st->calls_failed);
		printf("  guests interrupted      %llu (operations that got COMMUNICATION; skipped, done again next round)\n",
		       (unsigned long long)k->wl_interrupted);
		printf("  (of the same order, not equal: the hypervisor also counts calls whose\n"
		       "   failure the client API does not report, such as closing a session; a\n"
		       "   guest counts an operation or an attack once, whichever of its calls\n"
		       "   was hit, even one the mediator had not recorded yet; a death\n"
		       "   interrupts at most one operation per vCPU)\n");
	}
	if (o->upgrade_path) {
		printf("mediator upgrade (--upgrade %s):\n", o->upgrade_path);
		if (ml->upgrade == UPGRADE_PENDING)
			printf("  not done: the guests ended before t = %.0f s\n",
			       (double)ml->upgrade_at_ns / 1e9);
		else
			printf("  at t = %.1f s: %s from the old process stopping to the new one serving (the call took %s), %llu calls failed\n",
			       (double)ml->upgrade_t_ns / 1e9,
			       fmt_ns(a, sizeof(a),
				      ml->upgrade == UPGRADE_DONE
					      ? (double)ml->upgrade_ns
					      : 0),
			       fmt_ns(b, sizeof(b),
				      (double)ml->upgrade_call_ns),
			       (unsigned long long)ml->upgrade_calls_failed);
		if (ml->upgrade == UPGRADE_FAILED && tg_isolation_last_error())
			printf("  failed: %s\n", tg_isolation_last_error());
	}
}

/*
 * The checks of --chaos and --upgrade: every death was followed by a
 * restart that kept the state; each operation a guest saw fail was in
 * flight at a death; the upgrade took place and failed no call.
 */
static bool medlife_checks(const struct demo_opts *o,
			   const struct medlife *ml, struct checks *k)
{
	const struct tg_isolation_stats *st = &k->iso;
	bool ok = true;

	k->restarted_ok = k->died && st->restarts == k->died &&
			  st->recovered == st->restarts && !st->state_lost &&
			  !ml->not_back;
	ok &= check("every mediator death followed by a restart that kept the state",
		    k->restarted_ok,
		    "%llu deaths, %llu restarts, %llu recovered, %llu state lost%s",
		    (unsigned long long)k->died,
		    (unsigned long long)st->restarts,
		    (unsigned long long)st->recovered,
		    (unsigned long long)st->state_lost,
		    ml->not_back ? ", a restart took more than 10 s" : "");
	if (o->chaos_s) {
		k->accounted_ok = !k->errors &&
				  k->wl_interrupted <= k->max_interrupted;
		ok &= check("every failed operation was in flight at a death",
			    k->accounted_ok,
			    "%llu interrupted, at most %llu: %llu deaths x %u vCPUs; %llu errors",
			    (unsigned long long)k->wl_interrupted,
			    (unsigned long long)k->max_interrupted,
			    (unsigned long long)k->died, wl_vcpus(o),
			    (unsigned long long)k->errors);
	}
	if (o->upgrade_path) {
		k->upgraded_ok = ml->upgrade == UPGRADE_DONE &&
				 !ml->upgrade_calls_failed;
		ok &= check("the mediator was upgraded without failing a call",
			    k->upgraded_ok, "%s",
			    ml->upgrade == UPGRADE_PENDING
				    ? "not done"
			    : ml->upgrade == UPGRADE_FAILED
				    ? tg_strerror(ml->upgrade_rc)
				    : ml->upgrade_calls_failed
				    ? "calls failed"
				    : "0 calls failed");
	}
	return ok;
}

/* Start the guest of row @r; on success it runs from now on. */
static int start_row(struct tg_machine *m, struct tg_guest_config *gc,
		     struct row *r, struct guest_arg *a,
		     const struct tg_limits *limits)
{
	int ret;

	gc->name = r->last.name;
	gc->vcpus = a->vcpus + DRIVER_VCPUS;
	gc->limits = limits;
	gc->ram_pages = r->hostile ? HOSTILE_PAGES : MIXED_PAGES;
	ret = tg_guest_start(m, gc, r->hostile ? hostile_main : mixed_main, a,
			     &r->g);
	if (ret)
		return ret;
	r->waiting = false;
	r->start_ns = now_ns();
	tg_guest_stats(r->g, &r->last);
	return 0;
}

/* A waiting guest that will never run: it counts as not clean. */
static void abandon_row(struct row *r)
{
	r->waiting = false;
	r->done = true;
	r->wstatus = -1;
}

int tg_cmd_demo(int argc, char **argv)
{
	struct secure_world sw = { 0 };
	struct tg_machine_config mc = { 0 };
	struct tg_guest_config gc = { 0 };
	struct tg_limits limits = { .max_calls = DEMO_MAX_CALLS };
	struct guest_arg *args;
	struct demo_opts o;
	struct tg_machine *m = NULL;
	struct row *rows;
	struct checks k = { 0 };
	struct medlife ml = { 0 };
	struct log_capture lc = { 0 };
	struct tg_machine_pages ps;
	FILE *json = NULL;
	unsigned int n, i, lines = 0, live;
	uint64_t t0, last_tick;
	uint64_t run_ns, grace_ns = (uint64_t)DEMO_GRACE_S * 1000000000ull;
	unsigned int slots = 0, waiting, refusals = 0;
	bool tty = isatty(STDOUT_FILENO);
	uint32_t tmp_flag;
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
	mc.model.no_virtualization = o.model_no_virt;
	mc.isolation = o.isolation;
	mc.per_guest = o.per_guest;
	if (o.qemu) {
		ret = start_qemu(&o, &mc, &sw);
		if (ret)
			goto out_early;
	}
	{
		/* QEMU: a failed probe is said in one line below, not also
		 * in the mediator's log */
		int saved = -1, null_fd;

		if ((o.qemu || (o.isolation != TG_ISOLATION_DEFAULT &&
				o.isolation != TG_ISOLATION_INLINE)) &&
		    !o.verbose) {
			fflush(stderr);
			saved = dup(STDERR_FILENO);
			null_fd = open("/dev/null", O_WRONLY);
			if (null_fd >= 0) {
				dup2(null_fd, STDERR_FILENO);
				close(null_fd);
			}
		}
		ret = tg_machine_create(&mc, &m);
		if (saved >= 0) {
			dup2(saved, STDERR_FILENO);
			close(saved);
		}
	}
	if (ret && o.isolation != TG_ISOLATION_DEFAULT &&
	    o.isolation != TG_ISOLATION_INLINE && tg_isolation_last_error()) {
		fprintf(stderr, "teegate: --isolation %s: %s\n",
			tg_isolation_name(o.isolation),
			tg_isolation_last_error());
		ret = TG_EXIT_USAGE;
		goto out_early;
	}
	ret = check_secure_world(&o, ret, m);
	if (ret) {
		if (m)
			tg_machine_destroy(m);
		m = NULL;
		goto out_early;
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);

	tmp_flag = register_tmp(&o, m);
	for (i = 0; i < n; i++) {
		rows[i].hostile = o.hostile && i == n - 1;
		args[i].seconds = o.seconds;
		args[i].seed = 0x7e6a7e + i;
		args[i].flags = (o.verbose ? TG_WL_VERBOSE : 0) |
				(o.chaos_s ? TG_WL_CHAOS : 0) | tmp_flag;
		args[i].vcpus = rows[i].hostile ? HOSTILE_VCPUS : o.vcpus;
		if (rows[i].hostile)
			snprintf(rows[i].last.name, sizeof(rows[i].last.name),
				 "hostile");
		else
			snprintf(rows[i].last.name, sizeof(rows[i].last.name),
				 "mixed-%u", i + 1);
		rows[i].waiting = true;
	}
	for (i = 0; i < n; i++) {
		ret = start_row(m, &gc, &rows[i], &args[i], &limits);
		if (ret == TG_EPROTO && o.qemu && i == 0) {
			fprintf(stderr, "teegate: OP-TEE refused the first guest (VM_CREATED): run again with --log-dir DIR and read DIR/sw.log\n");
			tg_machine_destroy(m);
			m = NULL;
			ret = TG_EXIT_USAGE;
			goto out_early;
		}
		if (ret == TG_EPROTO && o.qemu) {
			/*
			 * VM_CREATED refused: OP-TEE's guest partitions
			 * (CFG_VIRT_GUEST_COUNT) are all in use. The others
			 * run in turns, each as long as asked, when a guest
			 * ends and its partition is free again.
			 */
			slots = i;
			printf("teegate demo: OP-TEE holds %u guests at once (CFG_VIRT_GUEST_COUNT): the other %u start when a guest ends\n",
			       slots, n - i);
			break;
		}
		if (ret) {
			fprintf(stderr, "teegate: cannot start guest %s: %s\n",
				rows[i].last.name, tg_strerror(ret));
			n = i;
			k.interrupted = true;
			break;
		}
	}

	t0 = last_tick = now_ns();
	run_ns = (uint64_t)o.seconds * 1000000000ull;
	if (tty && medlife_wanted(&o) && !o.verbose)
		log_capture_start(&lc);
	if (medlife_start(&ml, m, &o, t0)) {
		fprintf(stderr, "teegate: cannot start the thread of --chaos/--upgrade\n");
		interrupted = 1; /* the guests are stopped below */
	}
	for (;;) {
		uint64_t now = now_ns();
		double dt = (double)(now - last_tick) / 1e9;
		bool tick = dt >= (tty ? 1.0 : 5.0);

		live = 0;
		waiting = 0;
		for (i = 0; i < n; i++) {
			struct row *r = &rows[i];

			if (r->waiting)
				waiting++;
			if (r->done || r->waiting)
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
			r->rate = now > r->start_ns
					  ? (double)r->final.calls * 1e9 /
						    (double)(now - r->start_ns)
					  : 0;
		}
		/* OP-TEE's guest slots: start waiting guests in turn */
		for (i = 0; i < n && waiting && live < slots && !interrupted;
		     i++) {
			if (!rows[i].waiting)
				continue;
			ret = start_row(m, &gc, &rows[i], &args[i], &limits);
			if (!ret) {
				live++;
				waiting--;
				refusals = 0;
				continue;
			}
			/* refused: the partition may not be free yet; with
			 * no guest left to end, give up after 5 s */
			if (ret != TG_EPROTO || (!live && ++refusals > 100)) {
				fprintf(stderr, "teegate: cannot start guest %s: %s\n",
					rows[i].last.name, tg_strerror(ret));
				k.interrupted = true;
				for (i = 0; i < n; i++)
					if (rows[i].waiting)
						abandon_row(&rows[i]);
				waiting = 0;
			}
			break;
		}
		if (tick) {
			lines = draw_table(m, rows, n, &o, &ml,
					   (double)(now - t0) / 1e9, false, tty,
					   lines);
			last_tick = now;
		}
		if (!live && !waiting)
			break;
		if (interrupted) {
			k.interrupted = true;
			for (i = 0; i < n; i++)
				if (rows[i].waiting)
					abandon_row(&rows[i]);
		}
		for (i = 0; i < n; i++)
			if (!rows[i].done && !rows[i].waiting &&
			    (interrupted ||
			     now > rows[i].start_ns + run_ns + grace_ns))
				tg_guest_kill(rows[i].g);
		usleep(50000);
	}
	medlife_stop(&ml); /* its last kill waited for the restart */
	elapsed = (double)(now_ns() - t0) / 1e9;
	lines = draw_table(m, rows, n, &o, &ml, elapsed, true, tty, lines);
	log_capture_end(&lc);

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
		if (r->hostile &&
		    (c->phase & 0xFF000000u) == HOSTILE_SKIPPED_MARK)
			k.attacks_skipped += c->phase & 0xFFFFFFu;
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
	if (ml.m) {
		tg_machine_isolation_stats(m, &k.iso);
		k.wl_interrupted = sum_interrupted(rows, n);
		/* each guest that ran had a daemon of its own */
		for (i = 0; o.per_guest && i < n; i++)
			k.stopped += rows[i].g ? 1 : 0;
		k.died = k.iso.deaths > k.stopped ? k.iso.deaths - k.stopped
						  : 0;
		k.max_interrupted = k.died * wl_vcpus(&o);
		restart_times(&ml, &k.restart_median_ns, &k.restart_max_ns);
	}

	if (ml.m)
		medlife_report(&o, &ml, &k);
	printf("\nsummary after %.1f s, every guest destroyed:\n", elapsed);
	k.ok = true;
	k.ok &= check("every guest ran to its end and exited with 0",
		      k.exited_clean && !k.interrupted,
		      k.interrupted ? "interrupted: guests were killed" : NULL);
	if (slots)
		printf("  [note] OP-TEE holds %u guests at once (CFG_VIRT_GUEST_COUNT): the guests ran in turns\n",
		       slots);
	k.ok &= check("no wrong result", k.mismatches == 0,
		      "%llu mismatches", (unsigned long long)k.mismatches);
	k.ok &= check("no unexpected error", k.errors == 0, "%llu errors",
		      (unsigned long long)k.errors);
	if (o.hostile)
		k.ok &= check("every attack refused", k.attacks_passed == 0,
			      "%llu refused, %llu passed, %llu skipped%s",
			      (unsigned long long)k.attacks_refused,
			      (unsigned long long)k.attacks_passed,
			      (unsigned long long)k.attacks_skipped,
			      k.attacks_skipped
				      ? ": could not be tried on this TEE, not counted as refused"
				      : "");
	k.ok &= check("nothing pinned", k.pinned == 0, "%llu pages",
		      (unsigned long long)k.pinned);
	k.ok &= check("every page back in the pool",
		      !k.guest_pages && !k.quarantined && !k.mediator_pages,
		      "%llu guest, %llu quarantined, %llu mediator",
		      (unsigned long long)k.guest_pages,
		      (unsigned long long)k.quarantined,
		      (unsigned long long)k.mediator_pages);
	if (o.qemu) {
		/* Real OP-TEE reads memory without asking: nothing to see. */
		printf("  [n/a ] no TEE thread held (real OP-TEE: not visible from the normal world)\n");
		printf("  [n/a ] no isolation violation (oracle): n/a (real OP-TEE)\n");
	} else {
		k.ok &= check("no TEE thread held", k.threads_held == 0, "%u",
			      k.threads_held);
		k.ok &= check("no isolation violation (oracle)",
			      k.violations == 0, "%llu",
			      (unsigned long long)k.violations);
	}
	if (ml.m)
		k.ok &= medlife_checks(&o, &ml, &k);
	printf("result: %s\n", k.ok ? "PASS" : "FAIL");

	if (json) {
		write_json(json, &o, rows, n, elapsed, &k, &ml);
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
	stop_qemu(&sw); /* after the machine: its guests' VM_DESTROYED */
	free(ml.restart_ns);
	free(rows);
	free(args);
	return k.ok ? TG_EXIT_OK : TG_EXIT_FAIL;

out_early:
	stop_qemu(&sw);
	if (json)
		fclose(json);
	free(rows);
	free(args);
	return ret;
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
"    refused. The isolation oracle cannot see real OP-TEE's memory\n"
"    accesses and the TEE's threads are not visible: those two checks say\n"
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
"    --json FILE    also write the summary as JSON to FILE\n"
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
"    --isolation inline|sandboxed|service\n"
"                   where the mediator runs (docs/isolation.md): in the\n"
"                   hypervisor (default); in a process of its own under a\n"
"                   seccomp allow-list that maps no guest memory; or in a\n"
"                   daemon that maps machine memory, reached through a ring\n"
"                   and eventfds\n"
"    --per-guest    with --isolation sandboxed or service: one mediator\n"
"                   process per guest\n"
"    --chaos [SECONDS]\n"
"                   with --isolation sandboxed or service: kill the mediator\n"
"                   every SECONDS, 1 to %u (default %u), less than --seconds\n"
"    --upgrade PATH with --isolation sandboxed or service: replace the\n"
"                   mediator with the program PATH halfway through the run\n"
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
"        One guest and the hostile guest against a real OP-TEE in QEMU.\n",
	       DEMO_MAX_GUESTS, DEMO_MAX_VCPUS, DEMO_MAX_SECONDS, DEMO_GRACE_S,
	       DEMO_QEMU_MAX_CPUS, DEMO_CHAOS_MAX_S, DEMO_CHAOS_DEFAULT_S);
}
