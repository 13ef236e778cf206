// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the mediator's life. --chaos SIGKILLs the out-of-process
 * mediator while the guests run, --upgrade replaces it halfway; what they
 * did and its checks, from the hypervisor's own stats.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

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
	uint64_t t = demo_now_ns();
	unsigned int waited = 0;
	int rc;

	tg_machine_isolation_stats(ml->m, &before);
	/* TG_EBUSY: a restart (the watchdog's) is under way; wait it out */
	while ((rc = tg_machine_upgrade_mediator(ml->m, ml->upgrade_path)) ==
		       TG_EBUSY &&
	       waited++ < DEMO_RESTART_WAIT_MS)
		usleep(1000);
	ml->upgrade_call_ns = demo_now_ns() - t;
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
		uint64_t now = demo_now_ns();

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
			if (next_kill < demo_now_ns())
				next_kill = demo_now_ns() + ml->interval_ns;
			continue;
		}
		usleep(10000);
	}
	return NULL;
}

bool demo_medlife_wanted(const struct demo_opts *o)
{
	return o->chaos_s || o->upgrade_path;
}

int demo_medlife_start(struct medlife *ml, struct tg_machine *m,
		       const struct demo_opts *o, uint64_t t0)
{
	memset(ml, 0, sizeof(*ml));
	if (!demo_medlife_wanted(o))
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

void demo_medlife_stop(struct medlife *ml)
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
void demo_restart_times(const struct medlife *ml, double *median, double *max)
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

/* What --chaos and --upgrade did, from the hypervisor's stats. */
void demo_medlife_report(const struct demo_opts *o, const struct medlife *ml,
			 const struct demo_checks *k)
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
		       demo_fmt_ns(a, sizeof(a), k->restart_median_ns),
		       demo_fmt_ns(b, sizeof(b), k->restart_max_ns),
		       ml->nrestart,
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
			       demo_fmt_ns(a, sizeof(a),
					   ml->upgrade == UPGRADE_DONE
						   ? (double)ml->upgrade_ns
						   : 0),
			       demo_fmt_ns(b, sizeof(b),
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
bool demo_medlife_checks(const struct demo_opts *o, const struct medlife *ml,
			 struct demo_checks *k)
{
	const struct tg_isolation_stats *st = &k->iso;
	bool ok = true;

	k->restarted_ok = k->died && st->restarts == k->died &&
			  st->recovered == st->restarts && !st->state_lost &&
			  !ml->not_back;
	ok &= demo_check("every mediator death followed by a restart that kept the state",
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
		ok &= demo_check("every failed operation was in flight at a death",
				 k->accounted_ok,
				 "%llu interrupted, at most %llu: %llu deaths x %u vCPUs; %llu errors",
				 (unsigned long long)k->wl_interrupted,
				 (unsigned long long)k->max_interrupted,
				 (unsigned long long)k->died, demo_wl_vcpus(o),
				 (unsigned long long)k->errors);
	}
	if (o->upgrade_path) {
		k->upgraded_ok = ml->upgrade == UPGRADE_DONE &&
				 !ml->upgrade_calls_failed;
		ok &= demo_check("the mediator was upgraded without failing a call",
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

