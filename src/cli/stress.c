// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate stress: N guest slots run random workloads (mixed, hostile,
 * balloon churn) against one TEE; guests are SIGKILLed at random moments,
 * destroyed and restarted. After each teardown and at the end the
 * hypervisor's own state is checked: nothing pinned, no domain (so no call
 * in flight) left, the model holds no thread for the client, the oracle
 * counted nothing.
 *
 * What the guests report about themselves (counters page) is only used
 * for "every completed call was verified": a mismatch or an unexpected
 * error in any guest fails the run.
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
#include <teegate/optee_guest.h>
#include <teegate/workload.h>
#endif

#include "cli.h"

#define STRESS_MAX_GUESTS 32u
#define STRESS_MAX_SECONDS 86400u
#define STRESS_GRACE_S 30u
#define STRESS_GUEST_PAGES 8192u /* 32 MiB: the mixed workload's big buffer */
#define STRESS_SLACK_PAGES 32768u
#define STRESS_TEE_THREADS 16u
#define STRESS_MAX_CALLS 6u
#define STRESS_TICK_US 20000u
/* a workload that failed sets this in its counters' phase */
#define STRESS_FAILED 0x10000u

enum wl_kind { WL_MIXED = 0, WL_HOSTILE, WL_BALLOON, WL_KINDS };

static const char *const wl_name[WL_KINDS] = { "mixed", "hostile",
					       "balloon" };

struct stress_opts {
	uint32_t guests;
	uint32_t seconds;
	uint64_t seed;
	const char *isolation;
	enum tg_isolation iso;
	bool per_guest;
	bool thread_guests;
	bool verbose;
	bool no_mediator_kills;
};

struct wl_arg {
	enum wl_kind kind;
	uint32_t seconds;
	uint64_t seed;
	uint32_t flags; /* TG_WL_VERBOSE */
};

struct slot {
	struct tg_guest *g;
	struct wl_arg arg;
	uint64_t kill_at; /* 0 = let it finish */
	uint64_t deadline;
};

struct totals {
	uint64_t starts[WL_KINDS];
	uint64_t kills, kills_mid_call, mediator_kills, overruns;
	uint64_t calls, verified, mismatches, errors, failed_workloads;
	uint64_t attacks_refused, attacks_passed;
	uint64_t balloon_ops;
	uint64_t traps;
	uint64_t refusals;
	uint64_t bad_exits;
	/* leaks found right after one guest's teardown */
	uint64_t teardown_pinned, teardown_domains, teardown_threads,
		teardown_busy;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
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

/* xorshift64*: the run is reproducible from --seed (timing aside). */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---- guests --------------------------------------------------------------- */

#ifdef TG_HAVE_WORKLOADS
static void mark_failed(struct tg_vcpu *v)
{
	__atomic_fetch_or(&tg_guest_counters(v)->phase, STRESS_FAILED,
			  __ATOMIC_RELAXED);
}

static void mixed_guest(struct tg_vcpu *v, const struct wl_arg *a)
{
	struct tg_workload_opts o = {
		.seconds = a->seconds,
		.seed = a->seed,
		.flags = TG_WL_NO_SPAWN | a->flags,
	};

	if (tg_workload_mixed(v, &o))
		mark_failed(v);
}

static void hostile_guest(struct tg_vcpu *v, const struct wl_arg *a)
{
	struct tg_attack_result res[64];
	struct tg_hostile_opts o = { .rounds = 1, .results = res };
	uint64_t end = now_ns() + (uint64_t)a->seconds * 1000000000ull;
	const struct tg_attack *table;
	size_t n = tg_hostile_catalogue(&table), i;

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
	} while (now_ns() < end);
}

/*
 * Balloon churn: a registered buffer (pinned by the mediator) is ballooned
 * out while registered, then unregistered; plain pages are ballooned too.
 * The hypervisor must keep a pinned page away from every other guest until
 * its last unpin (the oracle and the restarts that allocate pages check it).
 */
static void balloon_guest(struct tg_vcpu *v, const struct wl_arg *a)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t end = now_ns() + (uint64_t)a->seconds * 1000000000ull;
	uint64_t seed = a->seed | 1;
	struct tg_optee *drv;

	if (tg_optee_get(v, &drv) != TG_OK) {
		c->errors++;
		mark_failed(v);
		return;
	}
	while (now_ns() < end) {
		struct tg_optee_shm *shm;
		uint32_t pages, i;
		uint64_t ipa;
		int rc;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		pages = 1 + (uint32_t)(seed % 8);
		c->calls++;
		rc = tg_optee_shm_alloc(drv, (size_t)pages << 12, true, &shm,
					NULL);
		if (rc != TG_OK) {
			c->errors++;
			break;
		}
		for (i = 0; i < pages; i++)
			((volatile uint8_t *)shm->va)[(size_t)i << 12] = 0xa5;
		/* out while pinned: the pages must stay quarantined */
		if (tg_balloon_out(v, shm->alloc_ipa, shm->alloc_pages) ||
		    tg_ipa_ptr(v, shm->alloc_ipa))
			c->mismatches++;
		else
			c->verified++;
		c->calls++;
		if (tg_optee_shm_free(shm) == TG_OK)
			c->verified++;
		else
			c->errors++;
		/* and a plain page, never shown to the TEE */
		if (!tg_alloc_pages(v, 1, &ipa)) {
			*(volatile uint8_t *)tg_ipa_ptr(v, ipa) = 1;
			if (tg_balloon_out(v, ipa, 1))
				c->errors++;
		}
	}
	tg_optee_put(drv);
	if (c->errors || c->mismatches)
		mark_failed(v);
}
#endif

static void guest_main(struct tg_vcpu *v, void *p)
{
	const struct wl_arg *a = p;

#ifdef TG_HAVE_WORKLOADS
	switch (a->kind) {
	case WL_HOSTILE:
		hostile_guest(v, a);
		break;
	case WL_BALLOON:
		balloon_guest(v, a);
		break;
	default:
		mixed_guest(v, a);
		break;
	}
#else
	/* Without the workloads: CALLS_UID in a loop, each answer checked. */
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t end = now_ns() + (uint64_t)a->seconds * 1000000000ull;

	while (now_ns() < end) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };

		tg_smc(v, regs);
		c->calls++;
		if (regs[0] == OPTEE_MSG_UID_0)
			c->verified++;
		else
			c->mismatches++;
	}
#endif
}

/* ---- checks --------------------------------------------------------------- */

static uint64_t sum_refused(const struct tg_domain_stats *d)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < TG_REFUSE_COUNT; i++)
		n += d->refused[i];
	return n;
}

/*
 * The guest has ended (or was killed): tear it down and check that the
 * platform forgot it entirely. Adds its counters to @t.
 */
static void reap(struct tg_machine *m, struct slot *s, bool killed,
		 struct totals *t, bool verbose)
{
	struct tg_mediator *med = tg_machine_mediator(m);
	struct tg_model *model = tg_machine_model(m);
	struct tg_domain_stats ds;
	struct tg_guest_stats gs, last;
	uint32_t id = tg_guest_client_id(s->g);
	int ws = 0, rc;

	tg_guest_stats(s->g, &last);
	/* a thread guest that never traps cannot be stopped */
	rc = tg_guest_wait_timeout(s->g, 60000, &ws);
	if (rc == TG_AGAIN) {
		fprintf(stderr, "stress: %s guest %u cannot be stopped, left behind\n",
			wl_name[s->arg.kind], id);
		t->teardown_busy++;
		s->g = NULL;
		return;
	}
	if (rc != TG_OK) {
		t->teardown_busy++;
		if (verbose)
			fprintf(stderr, "stress: guest %u: teardown: %s\n", id,
				tg_strerror(rc));
	}
	tg_guest_stats(s->g, &gs);
	if (gs.pages_pinned || gs.pins || gs.pages_quarantined)
		t->teardown_pinned++;
	if (gs.has_domain ||
	    (med && tg_domain_stats(med, id, &ds) != TG_ENOENT))
		t->teardown_domains++;
	if (model && tg_model_threads_held(model, id))
		t->teardown_threads++;
	if (!killed && gs.pid && (!WIFEXITED(ws) || WEXITSTATUS(ws))) {
		t->bad_exits++;
		if (verbose)
			fprintf(stderr, "stress: %s guest %u ended with status %#x\n",
				wl_name[s->arg.kind], id, ws);
	}
	t->calls += gs.counters.calls;
	t->verified += gs.counters.verified;
	t->mismatches += gs.counters.mismatches;
	t->attacks_refused += gs.counters.attacks_refused;
	t->attacks_passed += gs.counters.attacks_passed;
	t->traps += gs.traps;
	t->refusals += sum_refused(&last.domain);
	if (s->arg.kind == WL_BALLOON)
		t->balloon_ops += gs.counters.verified / 2;
	/*
	 * A killed guest may have been cut between a call and its count;
	 * what it did complete must still be right. Errors of a killed
	 * guest are not counted (its last call may have been cut).
	 */
	if (!killed) {
		t->errors += gs.counters.errors;
		if (gs.counters.phase & STRESS_FAILED)
			t->failed_workloads++;
	}
	if (verbose && (gs.counters.mismatches || gs.counters.attacks_passed ||
			(!killed && (gs.counters.errors ||
				     (gs.counters.phase & STRESS_FAILED)))))
		fprintf(stderr,
			"stress: %s guest %u: %llu mismatches, %llu errors, %llu attacks passed\n",
			wl_name[s->arg.kind], id,
			(unsigned long long)gs.counters.mismatches,
			(unsigned long long)gs.counters.errors,
			(unsigned long long)gs.counters.attacks_passed);
	tg_guest_release(s->g);
	s->g = NULL;
}

static int start(struct tg_machine *m, struct slot *s, uint32_t idx,
		 const struct stress_opts *o, struct totals *t)
{
	struct tg_limits limits = { .max_calls = STRESS_MAX_CALLS };
	struct tg_guest_config gc = { 0 };
	uint64_t now = now_ns();
	char name[32];
	uint32_t r = rnd_below(100);
	int rc;

	/* 60% mixed, 20% hostile, 20% balloon churn */
	s->arg.kind = r < 60 ? WL_MIXED : r < 80 ? WL_HOSTILE : WL_BALLOON;
	s->arg.seconds = 1 + rnd_below(4);
	s->arg.seed = rnd();
#ifdef TG_HAVE_WORKLOADS
	s->arg.flags = o->verbose ? TG_WL_VERBOSE : 0;
#endif
	snprintf(name, sizeof(name), "%s-%u", wl_name[s->arg.kind], idx);
	gc.name = name;
	/* vCPU 0 runs the workload, 1 is the driver's notification vCPU,
	 * the hostile TOCTOU attacks scribble from 2. */
	gc.vcpus = s->arg.kind == WL_HOSTILE ? 4 : 2;
	gc.ram_pages = STRESS_GUEST_PAGES;
	gc.limits = &limits;
	gc.mode = o->thread_guests ? TG_GUEST_THREAD : TG_GUEST_PROCESS;
	gc.arg_size = sizeof(s->arg); /* a process guest gets a copy */
	rc = tg_guest_start(m, &gc, guest_main, &s->arg, &s->g);
	if (rc) {
		s->g = NULL;
		return rc;
	}
	t->starts[s->arg.kind]++;
	s->deadline = now + (uint64_t)(s->arg.seconds + STRESS_GRACE_S) *
				    1000000000ull;
	/* one guest in two dies by SIGKILL somewhere in its run */
	s->kill_at = rnd_below(2) ? now + 1000000ull * (1 + rnd_below(
						s->arg.seconds * 1000 + 500))
				  : 0;
	return TG_OK;
}

/* ---- options -------------------------------------------------------------- */

enum stress_opt {
	OPT_GUESTS = TG_CLI_OPT_FIRST,
	OPT_SECONDS,
	OPT_ISOLATION,
	OPT_NO_MEDIATOR_KILLS,
	OPT_SEED,
	OPT_THREAD_GUESTS,
	OPT_VERBOSE,
};

static const struct option stress_options[] = {
	{ "guests", required_argument, NULL, OPT_GUESTS },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "isolation", required_argument, NULL, OPT_ISOLATION },
	{ "no-mediator-kills", no_argument, NULL, OPT_NO_MEDIATOR_KILLS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "thread-guests", no_argument, NULL, OPT_THREAD_GUESTS },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	TG_CLI_OPT_HELP,
	{ 0 },
};

/*
 * The command line into @o: 0, -1 after the manual (-h), or
 * TG_EXIT_USAGE after one line on stderr.
 */
static int parse_opts(int argc, char **argv, struct stress_opts *o)
{
	struct tg_cli cli;
	uint32_t seed;
	int c;

	memset(o, 0, sizeof(*o));
	o->guests = 4;
	o->seconds = 30;
	o->isolation = "inline";
	o->iso = TG_ISOLATION_INLINE;
	tg_cli_init(&cli, "stress", stress_options, argc, argv);
	while ((c = tg_cli_next(&cli)) != TG_CLI_END) {
		const char *val = cli.val;

		switch (c) {
		case TG_CLI_HELP:
			tg_help_stress();
			return -1;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_THREAD_GUESTS:
			o->thread_guests = true;
			break;
		case OPT_NO_MEDIATOR_KILLS:
			o->no_mediator_kills = true;
			break;
		case OPT_GUESTS:
			if (!tg_cli_parse_u32("stress: --guests", val, 1,
					      STRESS_MAX_GUESTS, &o->guests))
				return TG_EXIT_USAGE;
			break;
		case OPT_SECONDS:
			if (!tg_cli_parse_u32("stress: --seconds", val, 1,
					      STRESS_MAX_SECONDS, &o->seconds))
				return TG_EXIT_USAGE;
			break;
		case OPT_SEED:
			if (!tg_cli_parse_u32("stress: --seed", val, 1,
					      UINT32_MAX, &seed))
				return TG_EXIT_USAGE;
			o->seed = seed;
			break;
		case OPT_ISOLATION:
			/* out-of-process modes: the mediator is killed too */
			o->per_guest = !strcmp(val, "service-per-guest");
			if (o->per_guest)
				o->iso = TG_ISOLATION_SERVICE;
			else if (tg_isolation_parse(val, &o->iso))
				return tg_cli_usage_error("stress: --isolation: '%s' is not available on this platform (inline, sandboxed, service, service-per-guest)",
							  val);
			o->isolation = val;
			break;
		default: /* TG_CLI_ERROR: said */
			return TG_EXIT_USAGE;
		}
	}
	return 0;
}

static bool check(const char *what, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool check(const char *what, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  [%s] %s (", ok ? " ok " : "FAIL", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(")\n");
	return ok;
}

/* ---- the command ---------------------------------------------------------- */

int tg_cmd_stress(int argc, char **argv)
{
	struct tg_machine_config mc = { 0 };
	struct stress_opts o;
	struct tg_machine *m = NULL;
	struct tg_machine_pages ps;
	struct totals t = { 0 };
	struct slot *slots;
	uint64_t t0, end, last_report, violations, start_failures = 0;
	uint64_t next_mediator_kill;
	uint32_t threads_held = 0, i, live;
	double elapsed;
	bool ok = true, iso_ok = true;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? TG_EXIT_OK : ret;
	if (!o.seed)
		o.seed = (uint32_t)(now_ns() ^ (uint64_t)getpid());
	rnd_state = o.seed * 0x9E3779B97F4A7C15ull | 1;
	slots = calloc(o.guests, sizeof(*slots));
	if (!slots) {
		fprintf(stderr, "teegate: out of memory\n");
		return TG_EXIT_FAIL;
	}

	mc.tee = TG_TEE_MODEL;
	mc.mediation = TG_MEDIATION_INLINE;
	mc.ram_size = 1ull << 30;
	while (mc.ram_size < ((uint64_t)o.guests * STRESS_GUEST_PAGES +
			      STRESS_SLACK_PAGES) << 12)
		mc.ram_size <<= 1;
	mc.log_level = o.verbose ? TG_LOG_WARN + 1 : TG_LOG_ERROR + 1;
	mc.model.threads = STRESS_TEE_THREADS;
	mc.isolation = o.iso;
	mc.per_guest = o.per_guest;
	/* a killed guest's VM slot is free again only after VM_DESTROYED */
	mc.model.max_guests = o.guests + 1;
	ret = tg_machine_create(&mc, &m);
	if (ret) {
		fprintf(stderr, "teegate: cannot create the machine: %s\n",
			tg_strerror(ret));
		free(slots);
		return TG_EXIT_FAIL;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines reach a log */
	printf("teegate stress: %u guests, %u s, isolation %s, %s guests, seed %llu\n",
	       o.guests, o.seconds, o.isolation,
	       o.thread_guests ? "thread" : "process",
	       (unsigned long long)o.seed);
	fflush(stdout);
	t0 = last_report = now_ns();
	end = t0 + (uint64_t)o.seconds * 1000000000ull;
	next_mediator_kill = t0 + 1000000ull * (1000 + rnd_below(8000));
	for (;;) {
		uint64_t now = now_ns();
		bool stopping = now >= end || interrupted;

		live = 0;
		for (i = 0; i < o.guests; i++) {
			struct slot *s = &slots[i];

			if (!s->g) {
				if (stopping)
					continue;
				if (start(m, s, i, &o, &t)) {
					start_failures++;
					continue;
				}
			}
			if (tg_guest_wait_timeout(s->g, 0, NULL) != TG_AGAIN) {
				/* ended by itself (reap tears it down) */
				reap(m, s, false, &t, o.verbose);
				continue;
			}
			if ((s->kill_at && now >= s->kill_at) ||
			    now >= s->deadline) {
				struct tg_guest_stats gs;

				tg_guest_stats(s->g, &gs);
				if (gs.domain.calls_in_flight)
					t.kills_mid_call++;
				if (now >= s->deadline) {
					/* stuck, or starved of CPU: say where */
					t.overruns++;
					fprintf(stderr,
						"stress: %s guest %u ran %u s past its %u s, killed: phase %#x, %llu calls, %u in flight, %u suspended, %u sessions\n",
						wl_name[s->arg.kind],
						tg_guest_client_id(s->g),
						STRESS_GRACE_S, s->arg.seconds,
						gs.counters.phase,
						(unsigned long long)gs.counters.calls,
						gs.domain.calls_in_flight,
						gs.domain.calls_suspended,
						gs.domain.sessions);
				}
				tg_guest_kill(s->g);
				t.kills++;
				reap(m, s, true, &t, o.verbose);
				continue;
			}
			live++;
		}
		if (stopping && !live)
			break;
		/* an out-of-process mediator dies every 1-9 s */
		if (o.iso != TG_ISOLATION_INLINE && !o.no_mediator_kills &&
		    !stopping && now >= next_mediator_kill) {
			if (tg_machine_kill_mediator(m) == TG_OK)
				t.mediator_kills++;
			next_mediator_kill = now + 1000000ull *
				(1000 + rnd_below(8000));
		}
		if (now - last_report >= 10000000000ull) {
			printf("  t = %4.0f s: %llu guests started, %llu killed, %llu calls, oracle violations %llu\n",
			       (double)(now - t0) / 1e9,
			       (unsigned long long)(t.starts[0] + t.starts[1] +
						    t.starts[2]),
			       (unsigned long long)t.kills,
			       (unsigned long long)t.calls,
			       (unsigned long long)tg_machine_violations(m));
			fflush(stdout);
			last_report = now;
		}
		usleep(STRESS_TICK_US);
	}
	elapsed = (double)(now_ns() - t0) / 1e9;

	tg_machine_page_stats(m, &ps);
	if (tg_machine_model(m))
		threads_held = tg_model_threads_held(tg_machine_model(m),
						     UINT32_MAX);
	violations = tg_machine_violations(m);

	printf("\nteegate stress: finished after %.1f s%s\n", elapsed,
	       interrupted ? " (interrupted)" : "");
	printf("operations:\n");
	printf("  guests started      %llu (mixed %llu, hostile %llu, balloon %llu)\n",
	       (unsigned long long)(t.starts[0] + t.starts[1] + t.starts[2]),
	       (unsigned long long)t.starts[WL_MIXED],
	       (unsigned long long)t.starts[WL_HOSTILE],
	       (unsigned long long)t.starts[WL_BALLOON]);
	printf("  TEE operations      %llu completed, %llu verified, %llu traps\n",
	       (unsigned long long)t.calls, (unsigned long long)t.verified,
	       (unsigned long long)t.traps);
	printf("faults injected:\n");
	printf("  guest kills         %llu (SIGKILL; %llu with calls in flight)\n",
	       (unsigned long long)t.kills,
	       (unsigned long long)t.kills_mid_call);
	printf("  balloon churn       %llu pinned buffers ballooned out\n",
	       (unsigned long long)t.balloon_ops);
	printf("  attacks             %llu refused, %llu passed; mediator refusals %llu\n",
	       (unsigned long long)t.attacks_refused,
	       (unsigned long long)t.attacks_passed,
	       (unsigned long long)t.refusals);
	if (o.iso == TG_ISOLATION_INLINE) {
		printf("  mediator kills      0 (isolation inline: the mediator is the hypervisor)\n");
	} else {
		struct tg_isolation_stats is = { 0 };

		tg_machine_isolation_stats(m, &is);
		printf("  mediator kills      %llu (SIGKILL; %llu deaths, %llu restarts; refused requests: %llu foreign, %llu SMC, %llu other)\n",
		       (unsigned long long)t.mediator_kills,
		       (unsigned long long)is.deaths,
		       (unsigned long long)is.restarts,
		       (unsigned long long)is.refused_foreign,
		       (unsigned long long)is.refused_smc,
		       (unsigned long long)is.refused_other);
		iso_ok = is.deaths == is.restarts;
	}
	printf("checks:\n");
	ok &= check("no isolation violation (oracle)", violations == 0, "%llu",
		    (unsigned long long)violations);
	ok &= check("every completed call verified",
		    !t.mismatches && !t.errors && !t.failed_workloads &&
			    !t.bad_exits,
		    "%llu mismatches, %llu errors, %llu failed workloads, %llu bad exits",
		    (unsigned long long)t.mismatches,
		    (unsigned long long)t.errors,
		    (unsigned long long)t.failed_workloads,
		    (unsigned long long)t.bad_exits);
	ok &= check("every attack refused", t.attacks_passed == 0,
		    "%llu passed", (unsigned long long)t.attacks_passed);
	ok &= check("each teardown left nothing",
		    !t.teardown_pinned && !t.teardown_domains &&
			    !t.teardown_threads && !t.teardown_busy,
		    "pins %llu, domains %llu, TEE threads %llu, incomplete %llu",
		    (unsigned long long)t.teardown_pinned,
		    (unsigned long long)t.teardown_domains,
		    (unsigned long long)t.teardown_threads,
		    (unsigned long long)t.teardown_busy);
	ok &= check("nothing pinned, no call in flight", ps.pinned == 0,
		    "%llu pages pinned", (unsigned long long)ps.pinned);
	ok &= check("every page back in the pool",
		    !ps.guest && !ps.quarantined && !ps.mediator,
		    "%llu guest, %llu quarantined, %llu mediator",
		    (unsigned long long)ps.guest,
		    (unsigned long long)ps.quarantined,
		    (unsigned long long)ps.mediator);
	ok &= check("the model holds no thread", threads_held == 0, "%u",
		    threads_held);
	ok &= check("every guest ended in time", t.overruns == 0,
		    "%llu killed %u s past their time", (unsigned long long)t.overruns,
		    STRESS_GRACE_S);
	ok &= check("every guest could start", start_failures == 0,
		    "%llu start failures", (unsigned long long)start_failures);
	if (o.iso != TG_ISOLATION_INLINE)
		ok &= check("every mediator death was followed by a restart",
			    iso_ok, "%llu kills", (unsigned long long)t.mediator_kills);
	if (interrupted)
		ok = check("ran to the end", false, "interrupted");
	if (tg_machine_destroy(m) != TG_OK)
		ok = check("machine teardown", false, "reported a leak");
	printf("result: %s\n", ok ? "PASS" : "FAIL");
	free(slots);
	return ok ? TG_EXIT_OK : TG_EXIT_FAIL;
}

void tg_help_stress(void)
{
	printf(
"NAME\n"
"    teegate stress - random workloads, guest kills and balloon churn\n"
"\n"
"SYNOPSIS\n"
"    teegate stress [--guests N] [--seconds S] [--isolation MODE]\n"
"                   [--no-mediator-kills] [--seed N] [--thread-guests]\n"
"                   [--verbose]\n"
"\n"
"DESCRIPTION\n"
"    Builds the hosted platform (OP-TEE model, %u TEE threads, the teegate\n"
"    mediator) and keeps N guest slots busy until S seconds have passed.\n"
"    Each slot starts a guest with a random workload for 1 to 4 seconds:\n"
"    the mixed workload (60%%), the hostile attack catalogue (20%%) or\n"
"    balloon churn (20%%: a registered, pinned buffer is ballooned out, then\n"
"    unregistered). One guest in two is SIGKILLed at a random moment of its\n"
"    run; a guest that ends or is killed is destroyed and the slot starts a\n"
"    new one.\n"
"\n"
"    After each teardown the guest's client must be forgotten: no page of\n"
"    it pinned or quarantined, no mediator domain (so no call in flight),\n"
"    no TEE thread held for it. At the end: nothing pinned, every page back\n"
"    in the pool, the model holds no thread, the isolation oracle counted\n"
"    no access to a page that was not the calling guest's or the\n"
"    mediator's, no completed call gave a wrong result or an unexpected\n"
"    error, and every attack was refused. A one-screen report follows:\n"
"    operations, faults injected, checks.\n"
"\n"
"OPTIONS\n"
"    --guests N        guest slots, 1 to %u (default 4)\n"
"    --seconds S       how long to start new guests, 1 to %u (default 30);\n"
"                      the last guests run to their end after that\n"
"    --isolation MODE  where the mediator runs: inline (in the hypervisor,\n"
"                      the default), sandboxed, service or service-per-guest\n"
"                      (docs/isolation.md). Out of process, the mediator is\n"
"                      also SIGKILLed at random (every 1 to 9 s; the shared\n"
"                      one only) and must be restarted each time.\n"
"    --no-mediator-kills\n"
"                      out of process: leave the mediator alive\n"
"    --seed N          seed of the random choices (default: the clock)\n"
"    --thread-guests   run guests as threads of this process (no memory\n"
"                      isolation; debugging). A killed thread guest leaves\n"
"                      its driver registered: a later guest may find it\n"
"                      (see docs/security.md, known gaps)\n"
"    --verbose         say which guest failed how; platform warnings\n"
"    -h, --help        show this manual\n"
"\n"
"EXIT STATUS\n"
"    0   every check passed\n"
"    1   a check failed, the machine could not be built, or the run was\n"
"        interrupted (SIGINT/SIGTERM)\n"
"    2   bad command line; nothing was run\n"
"\n"
"EXAMPLES\n"
"    teegate stress --guests 8 --seconds 60\n"
"        What CI runs.\n"
"    nice -n 19 teegate stress --guests 8 --seconds 1800 --seed 7 > run.txt\n"
"        A half-hour soak in the background.\n",
	       STRESS_TEE_THREADS, STRESS_MAX_GUESTS, STRESS_MAX_SECONDS);
}
