// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hosted platform, one behaviour per test. Guest code never uses
 * cmocka (it may run in another process): it reports through its counters
 * page, which the test reads after the guest ended.
 *
 * Run one test: test_host <name>; all: test_host.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "log_capture.h"

#include <teegate/host.h>
#include <teegate/optee_abi.h>

/* The fork gate is the platform's own (src/host), tested as a unit. */
#include "../../src/host/fork_gate.h"
#include "../flag_within.h"

#define RAM_BASE 0x40000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A machine with the model and the inline mediator when they are built
 * (else the null TEE without mediator); traps on the vCPU's own thread, or
 * served by a pool of @pool threads; guests placed as @pl says. */
static struct tg_machine *machine_with(uint64_t ram_size, bool trap_on_vcpu,
				       uint32_t pool, enum tg_placement pl)
{
	struct tg_machine_config cfg = { 0 };
	struct tg_machine *m = NULL;

	cfg.ram_size = ram_size;
	cfg.seed = 42;
	cfg.trap_on_vcpu = trap_on_vcpu;
	cfg.trap_pool = pool;
	cfg.placement = pl;
#if defined(TG_HAVE_MEDIATOR) && defined(TG_HAVE_MODEL)
	cfg.tee = TG_TEE_MODEL;
	cfg.mediation = TG_MEDIATION_INLINE;
#elif defined(TG_HAVE_MODEL)
	cfg.tee = TG_TEE_MODEL;
	cfg.mediation = TG_MEDIATION_DIRECT;
#else
	cfg.tee = TG_TEE_NULL;
	cfg.mediation = TG_MEDIATION_DIRECT;
#endif
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	return m;
}

static struct tg_machine *machine_new(uint64_t ram_size)
{
	return machine_with(ram_size, false, 0, TG_PLACE_AUTO);
}

static struct tg_guest *guest_new(struct tg_machine *m, enum tg_guest_mode mode,
				  uint32_t pages, uint32_t vcpus,
				  void (*fn)(struct tg_vcpu *, void *),
				  void *arg, size_t arg_size)
{
	struct tg_guest_config gc = { 0 };
	struct tg_guest *g = NULL;

	gc.mode = mode;
	gc.ram_pages = pages;
	gc.vcpus = vcpus;
	gc.arg_size = arg_size; /* a process guest gets a copy */
	assert_int_equal(tg_guest_start(m, &gc, fn, arg, &g), TG_OK);
	return g;
}

static void idle_guest(struct tg_vcpu *v, void *arg)
{
	(void)arg;
	/* stay until killed (thread mode: at the next notif wait) */
	while (!tg_notif_wait(v, 1000))
		;
}

static void empty_guest(struct tg_vcpu *v, void *arg)
{
	(void)v;
	(void)arg;
}

static struct tg_guest_counters counters_of(struct tg_guest *g)
{
	struct tg_guest_stats st;

	assert_int_equal(tg_guest_stats(g, &st), TG_OK);
	return st.counters;
}

/* Wait (at most 10 s) until a guest has made @n calls. */
static void wait_for_calls(struct tg_guest *g, uint64_t n)
{
	uint64_t t0 = now_ns();

	while (counters_of(g).calls < n)
		assert_true(now_ns() - t0 < 10000000000ull);
}

/* ---- memory ------------------------------------------------------------ */

static void p2m_is_scattered(void **state)
{
	struct tg_machine *m = machine_new(256ull << 20);
	struct tg_guest *g =
		guest_new(m, TG_GUEST_THREAD, 4096, 1, empty_guest, NULL, 0);
	uint64_t prev = 0, i;

	(void)state;
	for (i = 0; i < 4096; i++) {
		uint64_t ipa = TG_HOST_GUEST_IPA_BASE + i * TG_PAGE_SIZE;
		uint64_t pa = tg_guest_ipa_to_pa(g, ipa);

		assert_true(pa != 0);
		assert_true(pa != ipa);
		assert_int_equal(tg_machine_owner(m, pa, NULL),
				 tg_guest_client_id(g));
		if (prev) {
			assert_true(pa != prev + TG_PAGE_SIZE);
			assert_true(pa + TG_PAGE_SIZE != prev);
		}
		prev = pa;
	}
	assert_int_equal(tg_guest_wait(g, NULL), TG_OK);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static bool in_default_reserved(uint64_t pa)
{
	return pa < RAM_BASE + TG_PAGE_SIZE ||
	       (pa >= 0x42000000ull && pa < 0x42200000ull);
}

static void reserved_regions_are_never_handed_out(void **state)
{
	/* 64 MiB: small enough to hand out every free page. */
	struct tg_machine *m = machine_new(64ull << 20);
	const struct tg_port *port = tg_machine_port(m);
	struct tg_machine_pages ps;
	struct tg_guest *g[8];
	uint64_t pa, i;
	int n;

	(void)state;
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.reserved, 1 + 512);
	/* take every page: guests of 2048 pages until the pool is dry */
	for (n = 0; n < 8; n++) {
		struct tg_guest_config gc = { .mode = TG_GUEST_THREAD,
					      .ram_pages = 2048, .vcpus = 1 };

		if (tg_guest_start(m, &gc, idle_guest, NULL, &g[n]) != TG_OK)
			break;
		for (i = 0; i < 2048; i++) {
			pa = tg_guest_ipa_to_pa(g[n], RAM_BASE + i * 4096);
			assert_false(in_default_reserved(pa));
		}
	}
	assert_true(n >= 6);
	/* the mediator's shm comes from the same pool */
	while (port->shm_alloc(port->ctx, 1, &pa))
		assert_false(in_default_reserved(pa));
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.free, 0);
	assert_int_equal(ps.reserved, 1 + 512);
	assert_int_equal(tg_machine_owner(m, RAM_BASE, NULL), TG_OWNER_RESERVED);
	assert_int_equal(tg_machine_owner(m, 0x42100000ull, NULL),
			 TG_OWNER_RESERVED);
	while (n--)
		tg_guest_kill(g[n]);
	tg_machine_destroy(m);
}

/* The guest waits for the test to pin its first page, then balloons it. */
static void balloon_first_page_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);

	(void)arg;
	if (!tg_notif_wait(v, 10000)) {
		c->errors++;
		return;
	}
	if (tg_balloon_out(v, RAM_BASE, 1) == 0 && !tg_ipa_ptr(v, RAM_BASE))
		c->verified++;
	else
		c->mismatches++;
}

static void ballooned_pinned_page_is_not_reassigned_until_unpinned(void **st)
{
	struct tg_machine *m = machine_new(64ull << 20);
	const struct tg_port *port = tg_machine_port(m);
	struct tg_guest *a, *b;
	struct tg_guest_stats gs;
	struct tg_machine_pages ps;
	uint64_t ipa = RAM_BASE, pa = 0, i;
	uint32_t cid, pins;
	int ws;

	(void)st;
	a = guest_new(m, TG_GUEST_PROCESS, 64, 1, balloon_first_page_guest,
		      NULL, 0);
	cid = tg_guest_client_id(a);
	assert_int_equal(port->pin_pages(port->ctx, cid, &ipa, &pa, 1), TG_OK);
	assert_int_equal(pa, tg_guest_ipa_to_pa(a, ipa));
	port->raise_notif_irq(port->ctx, cid);
	assert_int_equal(tg_guest_wait_timeout(a, 10000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(a).verified, 1);

	/* gone from the p2m, still the client's and pinned */
	assert_int_equal(tg_guest_ipa_to_pa(a, ipa), 0);
	assert_int_equal(tg_machine_owner(m, pa, &pins), cid);
	assert_int_equal(pins, 1);
	assert_int_equal(tg_guest_stats(a, &gs), TG_OK);
	assert_int_equal(gs.pages_quarantined, 1);

	/* a guest that takes every free page does not get it */
	tg_machine_page_stats(m, &ps);
	b = guest_new(m, TG_GUEST_THREAD, (uint32_t)ps.free - 2, 1, idle_guest,
		      NULL, 0);
	for (i = 0; i < ps.free - 2; i++)
		assert_true(tg_guest_ipa_to_pa(b, RAM_BASE + i * 4096) != pa);

	/* last unpin: back to the pool */
	port->unpin_pages(port->ctx, cid, &pa, 1);
	assert_int_equal(tg_machine_owner(m, pa, &pins), TG_OWNER_FREE);
	assert_int_equal(pins, 0);
	tg_guest_kill(b);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- isolation --------------------------------------------------------- */

static void foreign_ipa_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	const uint64_t *foreign = arg;

	/* another guest's RAM (IPA past ours), its PA, and a PA-looking IPA */
	c->verified += tg_ipa_ptr(v, foreign[0]) == NULL;
	c->verified += tg_ipa_ptr(v, foreign[1]) == NULL;
	c->verified += tg_ipa_ptr(v, RAM_BASE + 64 * 4096) == NULL;
	/* our own page works */
	c->verified += tg_ipa_ptr(v, RAM_BASE + 63 * 4096 + 5) != NULL;
}

static void guest_cannot_reach_foreign_ipa(void **state)
{
	struct tg_machine *m = machine_new(256ull << 20);
	struct tg_guest *big, *small;
	uint64_t foreign[2];
	int ws;

	(void)state;
	big = guest_new(m, TG_GUEST_PROCESS, 4096, 1, idle_guest, NULL, 0);
	foreign[0] = RAM_BASE + 4000ull * 4096;
	foreign[1] = tg_guest_ipa_to_pa(big, foreign[0]);
	/* keep the PA outside the small guest's IPA window */
	if (foreign[1] < RAM_BASE + 64 * 4096)
		foreign[1] = tg_guest_ipa_to_pa(big, RAM_BASE + 3000ull * 4096);
	small = guest_new(m, TG_GUEST_PROCESS, 64, 1, foreign_ipa_guest,
			  foreign, sizeof(foreign));
	assert_int_equal(tg_guest_wait_timeout(small, 10000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(small).verified, 4);
	tg_guest_kill(big);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

struct touch_arg {
	volatile uint8_t *hyp_ptr; /* valid in the hypervisor only */
};

static void touch_foreign_guest(struct tg_vcpu *v, void *arg)
{
	struct touch_arg *t = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);

	c->phase = 1;
	/* another guest's page, through the hypervisor's own mapping */
	c->calls = t->hyp_ptr[0];
	c->phase = 2; /* never reached */
}

static void guest_touching_outside_its_memory_dies_by_sigsegv(void **state)
{
	struct tg_machine *m = machine_new(256ull << 20);
	const struct tg_sw_mem *mem = tg_machine_sw_mem(m);
	struct tg_guest *victim, *attacker;
	struct touch_arg t;
	uint64_t pa;
	int ws;

	(void)state;
	victim = guest_new(m, TG_GUEST_PROCESS, 64, 1, idle_guest, NULL, 0);
	pa = tg_guest_ipa_to_pa(victim, RAM_BASE);
	t.hyp_ptr = mem->map(mem->ctx, tg_guest_client_id(victim), pa, 1,
			     false);
	assert_non_null((void *)t.hyp_ptr);
	attacker = guest_new(m, TG_GUEST_PROCESS, 64, 1, touch_foreign_guest,
			     &t, sizeof(t));
	assert_int_equal(tg_guest_wait_timeout(attacker, 10000, &ws), TG_OK);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGSEGV);
	assert_int_equal(counters_of(attacker).phase, 1);
	assert_int_equal(tg_machine_violations(m), 0);
	tg_guest_kill(victim);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void oracle_counts_foreign_access(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	const struct tg_sw_mem *mem = tg_machine_sw_mem(m);
	const struct tg_port *port = tg_machine_port(m);
	struct tg_guest *a, *b;
	uint64_t pa_a, pa_b, shm_pa;
	uint32_t ca;

	(void)state;
	a = guest_new(m, TG_GUEST_THREAD, 16, 1, idle_guest, NULL, 0);
	b = guest_new(m, TG_GUEST_THREAD, 16, 1, idle_guest, NULL, 0);
	ca = tg_guest_client_id(a);
	pa_a = tg_guest_ipa_to_pa(a, RAM_BASE);
	pa_b = tg_guest_ipa_to_pa(b, RAM_BASE);
	assert_non_null(port->shm_alloc(port->ctx, 1, &shm_pa));

	/* own page, mediator page: fine */
	assert_non_null(mem->map(mem->ctx, ca, pa_a, 64, true));
	assert_non_null(mem->map(mem->ctx, ca, shm_pa, 64, false));
	assert_int_equal(tg_machine_violations(m), 0);
	/* not RAM: NULL, and not a violation */
	assert_null(mem->map(mem->ctx, ca, 0x1000, 8, false));
	assert_null(mem->map(mem->ctx, ca, RAM_BASE + (64ull << 20), 8, false));
	assert_int_equal(tg_machine_violations(m), 0);
	/* B's page on behalf of A: one violation */
	mem->map(mem->ctx, ca, pa_b, 8, false);
	assert_int_equal(tg_machine_violations(m), 1);
	/* a reserved page too */
	mem->map(mem->ctx, ca, 0x42000000ull, 8, true);
	assert_int_equal(tg_machine_violations(m), 2);
	tg_guest_kill(a);
	tg_guest_kill(b);
	tg_machine_destroy(m);
}

/* ---- traps -------------------------------------------------------------- */

struct uid_loop {
	uint32_t calls;
};

static void uid_calls(struct tg_vcpu *v, void *arg)
{
	const struct uid_loop *l = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint32_t i;

	for (i = 0; i < l->calls; i++) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID, 1, 2, 3, 4, 5, 6, 7 };
		uint64_t t0 = now_ns(), dt;

		tg_smc(v, regs);
		dt = now_ns() - t0;
		__atomic_fetch_add(&c->lat_hist[tg_lat_bucket(dt)], 1,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
		if (regs[0] == OPTEE_MSG_UID_0 && regs[1] == OPTEE_MSG_UID_1 &&
		    regs[2] == OPTEE_MSG_UID_2 && regs[3] == OPTEE_MSG_UID_3)
			__atomic_fetch_add(&c->verified, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&c->mismatches, 1,
					   __ATOMIC_RELAXED);
	}
}

static void uid_calls_2vcpus(struct tg_vcpu *v, void *arg)
{
	int other = tg_vcpu_spawn(v, uid_calls, arg);

	uid_calls(v, arg);
	if (other < 0 || tg_vcpu_join(v, other))
		tg_guest_counters(v)->errors++;
}

static void trap_round_trip_8_guests_2_vcpus(void **state)
{
	struct tg_machine *m = machine_new(256ull << 20);
	struct uid_loop l = { .calls = 2000 };
	struct tg_guest *g[8];
	uint64_t t0 = now_ns();
	int i, ws;

	(void)state;
	for (i = 0; i < 8; i++)
		g[i] = guest_new(m, TG_GUEST_PROCESS, 256, 2, uid_calls_2vcpus,
				 &l, sizeof(l));
	for (i = 0; i < 8; i++) {
		struct tg_guest_counters c;

		assert_int_equal(tg_guest_wait_timeout(g[i], 30000, &ws),
				 TG_OK);
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		c = counters_of(g[i]);
		assert_int_equal(c.calls, 2 * l.calls);
		assert_int_equal(c.verified, 2 * l.calls);
		assert_int_equal(c.mismatches, 0);
		assert_int_equal(c.errors, 0);
	}
	printf("# 8 guests x 2 vCPUs x %u CALLS_UID: %.1f ms\n", l.calls,
	       (double)(now_ns() - t0) / 1e6);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static uint64_t hist_percentile(const uint64_t *h, double q)
{
	uint64_t total = 0, acc = 0;
	unsigned int i;

	for (i = 0; i < TG_LAT_BUCKETS; i++)
		total += h[i];
	for (i = 0; i < TG_LAT_BUCKETS; i++) {
		acc += h[i];
		if ((double)acc >= q * (double)total)
			break;
	}
	/* lower edge of bucket i: 2^(i/4) */
	return (uint64_t)(1ull << (i / 4)) * (4 + i % 4) / 4;
}

static void trap_null_round_trip_is_measured(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct uid_loop l = { .calls = 20000 };
	struct tg_guest_counters c;
	struct tg_guest *g;
	uint64_t t0 = now_ns(), dt;
	int ws;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 64, 1, uid_calls, &l, sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 30000, &ws), TG_OK);
	dt = now_ns() - t0;
	c = counters_of(g);
	assert_int_equal(c.verified, l.calls);
	printf("# null trap round trip (CALLS_UID, process guest, %s): "
	       "p50 ~%llu ns, p99 ~%llu ns, mean %.0f ns (incl. start)\n",
	       tg_machine_mediator(m) ? "inline mediator" : "direct",
	       (unsigned long long)hist_percentile(c.lat_hist, 0.5),
	       (unsigned long long)hist_percentile(c.lat_hist, 0.99),
	       (double)dt / l.calls);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void thread_mode_guest_runs(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct uid_loop l = { .calls = 500 };
	struct tg_guest_counters c;
	struct tg_guest *g;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 64, 2, uid_calls_2vcpus, &l,
		      sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	c = counters_of(g);
	assert_int_equal(c.verified, 2 * l.calls);
	assert_int_equal(c.errors, 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void endless_calls(struct tg_vcpu *v, void *arg)
{
	struct uid_loop l = { .calls = 1u << 30 };
	int other = tg_vcpu_spawn(v, uid_calls, &l);

	(void)arg;
	(void)other;
	uid_calls(v, &l);
}

static void guest_killed_mid_call_leaves_nothing_pinned(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_machine_pages ps;
	struct tg_guest *g;
	int ws;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 64, 2, endless_calls, NULL, 0);
	/* let it get going, then kill it at a random point of a call */
	wait_for_calls(g, 1000);
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(ps.quarantined, 0);
#ifdef TG_HAVE_MODEL
	assert_int_equal(tg_model_threads_held(tg_machine_model(m), UINT32_MAX),
			 0);
#endif
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

#if defined(TG_HAVE_WORKLOADS) && defined(TG_HAVE_MEDIATOR) &&                \
	defined(TG_HAVE_MODEL)
#include <teegate/workload.h>

static void mixed_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_workload_opts o = { .seconds = 30, .seed = 7 };

	(void)arg;
	tg_workload_mixed(v, &o);
}

static void guest_killed_mid_workload_leaves_nothing_pinned(void **state)
{
	struct tg_machine *m = machine_new(256ull << 20);
	struct tg_machine_pages ps;
	struct tg_guest_stats gs;
	struct tg_guest *g;
	uint64_t t0 = now_ns();
	bool saw_pins = false;
	int ws;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 8192, 2, mixed_guest, NULL, 0);
	/* kill it while the mediator holds pins for it, if we catch that */
	while (now_ns() - t0 < 3000000000ull) {
		assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
		if (gs.counters.calls > 20 && gs.pages_pinned) {
			saw_pins = true;
			break;
		}
	}
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFSIGNALED(ws));
	printf("# killed after %llu calls, %s pins held\n",
	       (unsigned long long)gs.counters.calls,
	       saw_pins ? "with" : "without");
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(ps.quarantined, 0);
	assert_int_equal(ps.mediator, 0);
	assert_int_equal(tg_model_threads_held(tg_machine_model(m), UINT32_MAX),
			 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}
#else
static void guest_killed_mid_workload_leaves_nothing_pinned(void **state)
{
	(void)state;
	skip();
}
#endif

static void exec_mode_guest_runs(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest_config gc = { .ram_pages = 32, .vcpus = 1 };
	struct tg_guest_counters c;
	struct tg_guest *g;
	int ws;

	(void)state;
	assert_int_equal(tg_guest_start_exec(m, &gc, TG_EXEC_GUEST_PATH, NULL,
					     &g),
			 TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	c = counters_of(g);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.verified, 2);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- hardening and the rest of the contract ------------------------------ */

/* The guest calls the balloon hypercall without unmapping the page first. */
static void balloon_without_unmap_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t regs[8] = { TG_HVC_BALLOON_OUT, RAM_BASE, 1 };

	(void)arg;
	tg_hvc(v, regs);
	if (regs[0] != 0 && tg_ipa_ptr(v, RAM_BASE))
		c->attacks_refused++;
	else
		c->attacks_passed++;
}

static void balloon_of_a_still_mapped_page_is_refused(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest *g;
	uint64_t pa;
	int ws;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, balloon_without_unmap_guest,
		      NULL, 0);
	pa = tg_guest_ipa_to_pa(g, RAM_BASE);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_int_equal(counters_of(g).attacks_refused, 1);
	/* it stayed the guest's until the guest was destroyed */
	assert_int_equal(tg_machine_owner(m, pa, NULL), TG_OWNER_FREE);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Growing a page of the view would map the neighbouring machine page:
 * mremap is refused (an error, so that realloc() falls back to copying).
 * A child process would keep pages past a balloon: fork kills the guest.
 */
static void escape_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	void *p = tg_ipa_ptr(v, RAM_BASE);
	pid_t pid;

	(void)arg;
	if (mremap(p, 4096, 2 * 4096, MREMAP_MAYMOVE) == MAP_FAILED)
		c->attacks_refused++;
	else
		c->attacks_passed++;
	__atomic_store_n(&c->phase, 1, __ATOMIC_SEQ_CST);
	while (!tg_notif_wait(v, 1000))
		;
	pid = fork();
	if (pid == 0)
		_exit(0);
	c->attacks_passed++; /* not reached: the hypervisor killed us */
}

static void locked_down_guest_cannot_mremap_or_fork(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	const struct tg_port *port = tg_machine_port(m);
	struct tg_guest_counters c;
	struct tg_guest_stats gs;
	struct tg_guest *g;
	char proc[64];
	struct stat st;
	uint64_t t0 = now_ns();
	int ws;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, escape_guest, NULL, 0);
	while (counters_of(g).phase != 1)
		assert_true(now_ns() - t0 < 10000000000ull);
	/* not root any more (or never was): seen from outside */
	snprintf(proc, sizeof(proc), "/proc/%d", (int)tg_guest_pid(g));
	assert_int_equal(stat(proc, &st), 0);
	assert_true(geteuid() != 0 || (st.st_uid == 65534 && st.st_gid == 65534));
	port->raise_notif_irq(port->ctx, tg_guest_client_id(g));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	c = counters_of(g);
	assert_int_equal(c.attacks_refused, 1);
	assert_int_equal(c.attacks_passed, 0);
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_int_equal(gs.killed_syscall, SYS_clone);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Phase 1, then idle until told (a notification), then leave. */
static void waiting_guest(struct tg_vcpu *v, void *arg)
{
	(void)arg;
	__atomic_store_n(&tg_guest_counters(v)->phase, 1, __ATOMIC_SEQ_CST);
	while (!tg_notif_wait(v, 1000))
		;
}

static void wait_for_phase_1(struct tg_guest *g)
{
	uint64_t t0 = now_ns();

	while (counters_of(g).phase != 1)
		assert_true(now_ns() - t0 < 10000000000ull);
}

/* Seen from outside: the hand-over socket, stdin and every inherited fd
 * are gone once guest code runs. */
static void locked_down_guest_holds_only_stdout_and_stderr(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	const struct tg_port *port = tg_machine_port(m);
	struct tg_guest *g;
	struct dirent *e;
	char path[64];
	int n = 0, ws;
	DIR *d;

	(void)state;
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, waiting_guest, NULL, 0);
	wait_for_phase_1(g);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)tg_guest_pid(g));
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		assert_true(!strcmp(e->d_name, "1") || !strcmp(e->d_name, "2"));
		n++;
	}
	closedir(d);
	assert_true(n <= 2);
	port->raise_notif_irq(port->ctx, tg_guest_client_id(g));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* A hypervisor started without stdin: the lockdown still works, for a
 * forked and an exec'd guest (the filter's listener must not be fd 0). */
static void locked_down_guest_starts_without_stdin(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest_config gc = { .ram_pages = 32, .vcpus = 1 };
	struct uid_loop l = { .calls = 10 };
	int saved = dup(0), ws, ws_exec;
	struct tg_guest_counters c;
	struct tg_guest *g, *x;

	(void)state;
	assert_true(saved >= 0);
	close(0);
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, uid_calls, &l, sizeof(l));
	assert_int_equal(tg_guest_start_exec(m, &gc, TG_EXEC_GUEST_PATH, NULL,
					     &x),
			 TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(x, 10000, &ws_exec), TG_OK);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(g).verified, l.calls);
	assert_true(WIFEXITED(ws_exec) && WEXITSTATUS(ws_exec) == 0);
	c = counters_of(x);
	assert_int_equal(c.verified, 2);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void arch_calls(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t psci[8] = { TG_PSCI_VERSION };
	uint64_t other[8] = { 0x84000008u /* SYSTEM_OFF */ };
	uint64_t hvc[8] = { 0xC6000077u };

	(void)arg;
	tg_smc(v, psci);
	tg_smc(v, other);
	tg_hvc(v, hvc);
	c->verified += psci[0] == 0x10001;
	c->verified += other[0] == TG_SMCCC_NOT_SUPPORTED;
	c->verified += hvc[0] == TG_SMCCC_NOT_SUPPORTED;
}

static void non_tee_calls_get_psci_or_not_supported(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest *g;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 16, 1, arch_calls, NULL, 0);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_int_equal(counters_of(g).verified, 3);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void thread_mode_guest_is_killed_at_next_trap(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest *g;
	uint64_t t0;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 64, 2, endless_calls, NULL, 0);
	wait_for_calls(g, 1000);
	t0 = now_ns();
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_true(now_ns() - t0 < 5000000000ull);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * A thread-mode kill stops each vCPU at its next trap, one by one. A vCPU
 * that spawned another (and passed it an argument on its stack, as guest
 * code does) must not unwind before that one has stopped too.
 */
struct outlive {
	_Atomic int parent_left;  /* the spawner's stack is gone */
	_Atomic int child_saw;    /* what the child saw after the kill */
	_Atomic int child_ready;
};

static struct outlive outlive;

static void outlive_child(struct tg_vcpu *v, void *arg)
{
	const int *on_parent_stack = arg;
	uint64_t t0;

	atomic_store(&outlive.child_ready, *on_parent_stack);
	while (!tg_vcpu_killed(v))
		sched_yield();
	/* long enough for the parent to reach its next trap and leave */
	t0 = now_ns();
	while (now_ns() - t0 < 50000000ull)
		sched_yield();
	atomic_store(&outlive.child_saw, atomic_load(&outlive.parent_left));
	for (;;) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };

		tg_smc(v, regs); /* leaves here */
	}
}

static void outlive_parent_left(void *arg)
{
	(void)arg;
	atomic_store(&outlive.parent_left, 1);
}

static void outlive_parent(struct tg_vcpu *v, void *arg)
{
	int on_stack = 1;

	(void)arg;
	pthread_cleanup_push(outlive_parent_left, NULL);
	if (tg_vcpu_spawn(v, outlive_child, &on_stack) < 0)
		tg_guest_counters(v)->errors++;
	for (;;) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };

		tg_smc(v, regs);
		__atomic_fetch_add(&tg_guest_counters(v)->calls, 1,
				   __ATOMIC_RELAXED);
	}
	pthread_cleanup_pop(0);
}

static void thread_mode_killed_vcpu_outlives_the_vcpus_it_spawned(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest *g;
	uint64_t t0 = now_ns();

	(void)state;
	memset(&outlive, 0, sizeof(outlive));
	atomic_store(&outlive.child_saw, -1);
	g = guest_new(m, TG_GUEST_THREAD, 64, 2, outlive_parent, NULL, 0);
	while (!atomic_load(&outlive.child_ready))
		assert_true(now_ns() - t0 < 10000000000ull);
	wait_for_calls(g, 100);
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_int_equal(counters_of(g).errors, 0);
	assert_int_equal(atomic_load(&outlive.child_saw), 0);
	assert_int_equal(atomic_load(&outlive.parent_left), 1);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- trap_on_vcpu: the trap handled on the vCPU's own thread ---------- */

static struct tg_machine *machine_trap_on_vcpu(uint64_t ram_size)
{
	return machine_with(ram_size, true, 0, TG_PLACE_AUTO);
}

static uint64_t traps_of(struct tg_guest *g)
{
	struct tg_guest_stats st;

	assert_int_equal(tg_guest_stats(g, &st), TG_OK);
	return st.traps;
}

static void trap_on_vcpu_answers_calls_and_counts_traps(void **state)
{
	struct tg_machine *m = machine_trap_on_vcpu(64ull << 20);
	struct uid_loop l = { .calls = 500 };
	struct tg_guest_counters c;
	struct tg_guest *g;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 64, 2, uid_calls_2vcpus, &l,
		      sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	c = counters_of(g);
	assert_int_equal(c.verified, 2 * l.calls);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(c.errors, 0);
	assert_int_equal(traps_of(g), 2 * l.calls);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void trap_on_vcpu_serves_hypervisor_calls(void **state)
{
	struct tg_machine *m = machine_trap_on_vcpu(64ull << 20);
	struct tg_guest *g;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 16, 1, arch_calls, NULL, 0);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_int_equal(counters_of(g).verified, 3);
	assert_int_equal(traps_of(g), 3);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static int threads_of_this_process(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Threads a 2-vCPU idle guest adds to this process while it runs. */
static int threads_added_by_a_guest(struct tg_machine *m)
{
	struct tg_guest *g;
	int before = threads_of_this_process(), added;

	g = guest_new(m, TG_GUEST_THREAD, 16, 2, idle_guest, NULL, 0);
	added = threads_of_this_process() - before;
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	return added;
}

static void trap_on_vcpu_starts_no_handler_thread(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	int with_handlers, without;

	(void)state;
	with_handlers = threads_added_by_a_guest(m);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	m = machine_trap_on_vcpu(64ull << 20);
	without = threads_added_by_a_guest(m);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	/* one handler thread per vCPU slot fewer; vCPU 0 runs in both */
	assert_int_equal(with_handlers - without, 2);
	assert_true(without >= 1);
}

static void trap_on_vcpu_refuses_process_guests(void **state)
{
	struct tg_machine *m = machine_trap_on_vcpu(64ull << 20);
	struct tg_guest_config gc = { .mode = TG_GUEST_PROCESS,
				      .ram_pages = 16,
				      .vcpus = 1 };
	struct uid_loop l = { .calls = 10 };
	struct tg_machine_pages ps;
	struct tg_guest *g = NULL;

	(void)state;
	assert_int_equal(tg_guest_start(m, &gc, empty_guest, NULL, &g),
			 TG_EINVAL);
	assert_null(g);
	assert_int_equal(
		tg_guest_start_exec(m, &gc, TG_EXEC_GUEST_PATH, NULL, &g),
		TG_EINVAL);
	assert_null(g);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.guest, 0);
	/* the refusal left the machine usable */
	g = guest_new(m, TG_GUEST_THREAD, 16, 1, uid_calls, &l, sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_int_equal(counters_of(g).verified, l.calls);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * A killed vCPU finishes the trap it is handling, then leaves; the guest
 * is torn down only after that, so each vCPU adds at most one trap after
 * the kill and nothing is left pinned.
 */
static void
trap_on_vcpu_guest_killed_mid_call_is_torn_down_after_it(void **state)
{
	struct tg_machine *m = machine_trap_on_vcpu(64ull << 20);
	struct tg_machine_pages ps;
	struct tg_guest *g;
	uint64_t at_kill;

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 64, 2, endless_calls, NULL, 0);
	wait_for_calls(g, 1000);
	assert_int_equal(tg_guest_kill(g), TG_OK);
	at_kill = traps_of(g);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_true(traps_of(g) <= at_kill + 2);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

#if defined(TG_HAVE_WORKLOADS) && defined(TG_HAVE_MEDIATOR) && \
	defined(TG_HAVE_MODEL)
/* The same with real TEE traffic: a kill while the vCPUs register, pin
 * and take RPCs on their own threads. */
static void
trap_on_vcpu_guest_killed_mid_workload_leaves_nothing_pinned(void **state)
{
	struct tg_machine *m = machine_trap_on_vcpu(256ull << 20);
	struct tg_machine_pages ps;
	struct tg_guest_stats gs;
	struct tg_guest *g;
	uint64_t t0 = now_ns();

	(void)state;
	g = guest_new(m, TG_GUEST_THREAD, 8192, 2, mixed_guest, NULL, 0);
	while (now_ns() - t0 < 3000000000ull) {
		assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
		if (gs.counters.calls > 20 && gs.pages_pinned)
			break;
	}
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(ps.quarantined, 0);
	assert_int_equal(ps.mediator, 0);
	assert_int_equal(tg_model_threads_held(tg_machine_model(m), UINT32_MAX),
			 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}
#else
static void
trap_on_vcpu_guest_killed_mid_workload_leaves_nothing_pinned(void **state)
{
	(void)state;
	skip();
}
#endif

/* ---- the trap pool: N threads serve every guest's slots ---------------- */

static struct tg_machine *machine_pool(uint64_t ram_size, uint32_t threads)
{
	return machine_with(ram_size, false, threads, TG_PLACE_AUTO);
}

/* Two pool threads answer 8 guests of 2 vCPUs; a guest adds no thread of
 * the hypervisor's besides its own vCPUs. */
static void trap_pool_serves_every_guest_with_its_threads(void **state)
{
	struct uid_loop l = { .calls = 2000 };
	struct tg_machine *m;
	struct tg_guest *g[8];
	int i, ws, before, added;

	(void)state;
	before = threads_of_this_process();
	m = machine_pool(256ull << 20, 2);
	/* the two pool threads (and whatever the machine starts anyway) */
	assert_true(threads_of_this_process() - before >= 2);
	before = threads_of_this_process();
	g[0] = guest_new(m, TG_GUEST_THREAD, 16, 2, idle_guest, NULL, 0);
	added = threads_of_this_process() - before;
	assert_int_equal(tg_guest_kill(g[0]), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g[0], 10000, NULL), TG_OK);
	/* vCPU 0 only: idle_guest spawns none, and no handler threads */
	assert_int_equal(added, 1);
	for (i = 0; i < 8; i++)
		g[i] = guest_new(m, TG_GUEST_PROCESS, 256, 2, uid_calls_2vcpus,
				 &l, sizeof(l));
	for (i = 0; i < 8; i++) {
		struct tg_guest_counters c;

		assert_int_equal(tg_guest_wait_timeout(g[i], 30000, &ws),
				 TG_OK);
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		c = counters_of(g[i]);
		assert_int_equal(c.verified, 2 * l.calls);
		assert_int_equal(c.mismatches, 0);
		assert_int_equal(c.errors, 0);
		assert_int_equal(traps_of(g[i]), 2 * l.calls);
	}
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * Guests come and go while the pool serves others: each killed in the
 * middle of its calls, its slots leave the pool and are reused by the
 * next guest. The others' calls keep their answers; nothing stays
 * pinned.
 */
static void trap_pool_guests_killed_and_replaced_mid_call(void **state)
{
	struct tg_machine *m = machine_pool(256ull << 20, 2);
	struct uid_loop l = { .calls = 3000 };
	struct tg_machine_pages ps;
	struct tg_guest *steady, *g;
	int round, ws;

	(void)state;
	steady = guest_new(m, TG_GUEST_PROCESS, 64, 2, uid_calls_2vcpus, &l,
			   sizeof(l));
	for (round = 0; round < 12; round++) {
		g = guest_new(m, round % 2 ? TG_GUEST_THREAD : TG_GUEST_PROCESS,
			      64, 2, endless_calls, NULL, 0);
		wait_for_calls(g, 200);
		assert_int_equal(tg_guest_kill(g), TG_OK);
		assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
		assert_int_equal(counters_of(g).mismatches, 0);
		tg_guest_release(g);
	}
	assert_int_equal(tg_guest_wait_timeout(steady, 30000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(steady).verified, 2 * l.calls);
	assert_int_equal(counters_of(steady).mismatches, 0);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void file_backing_maps_an_existing_ram_file(void **state)
{
	struct tg_machine_config cfg = { 0 };
	struct tg_machine *m = NULL;
	struct uid_loop l = { .calls = 10 };
	char path[] = "/dev/shm/teegate-test-ram-XXXXXX";
	struct tg_guest *g;
	int fd, ws;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	cfg.ram_size = 64ull << 20;
	cfg.backing = TG_BACKING_FILE;
	cfg.backing_path = path;
	cfg.tee = TG_TEE_NULL;
	cfg.mediation = TG_MEDIATION_DIRECT;
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, uid_calls, &l, sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(g).verified, 10);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	unlink(path);
}

static void process_guest_page_limit_is_enforced(void **state)
{
	struct tg_machine *m = machine_new(512ull << 20);
	struct tg_guest_config gc = { .ram_pages = TG_HOST_MAX_PROCESS_PAGES + 1,
				      .vcpus = 1 };
	struct tg_machine_pages ps;
	struct tg_guest *g = NULL;

	(void)state;
	/* one VMA per page: past the limit the guest would hit max_map_count */
	assert_int_equal(tg_guest_start(m, &gc, empty_guest, NULL, &g),
			 TG_ELIMIT);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Direct mode: no mediator, a7 = client id, the backend answers. */
static void direct_mode_reaches_the_backend(void **state)
{
	struct tg_machine_config cfg = { .ram_size = 64ull << 20,
					 .mediation = TG_MEDIATION_DIRECT };
	struct uid_loop l = { .calls = 100 };
	struct tg_machine *m = NULL;
	struct tg_guest *g;

	(void)state;
#ifndef TG_HAVE_MODEL
	cfg.tee = TG_TEE_NULL;
#endif
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	assert_null(tg_machine_mediator(m));
	g = guest_new(m, TG_GUEST_PROCESS, 16, 1, uid_calls, &l, sizeof(l));
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	assert_int_equal(counters_of(g).verified, l.calls);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * Handler threads' stacks read as zeros in forked processes (they hold what
 * the mediator and the TEE model did for other guests) until the thread
 * ends. The C library then caches such a stack and gives it to the next
 * thread of that size: a guest started from that thread must run (its
 * fork() child runs on that stack).
 */
struct starter {
	struct tg_machine *m;
	int ret, ws;
};

static void *start_guest_from_thread(void *arg)
{
	struct starter *st = arg;
	struct tg_guest_config gc = { 0 };
	struct tg_guest *g = NULL;

	gc.ram_pages = 64;
	gc.vcpus = 1;
	st->ret = tg_guest_start(st->m, &gc, empty_guest, NULL, &g);
	if (!st->ret)
		st->ret = tg_guest_wait_timeout(g, 10000, &st->ws);
	tg_guest_release(g);
	return NULL;
}

static void guest_started_on_a_former_handler_stack_runs(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct starter st = { m, -1, -1 };
	struct tg_guest *g;
	pthread_t t;
	int ws = -1, i;

	(void)state;
	for (i = 0; i < 3; i++) {
		/* two handler threads come and go: their stacks are cached */
		g = guest_new(m, TG_GUEST_PROCESS, 64, 2, empty_guest, NULL, 0);
		assert_int_equal(tg_guest_wait(g, &ws), TG_OK);
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		tg_guest_release(g);
		st.ret = st.ws = -1;
		assert_int_equal(pthread_create(&t, NULL,
						start_guest_from_thread, &st),
				 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(st.ret, TG_OK);
		assert_true(WIFEXITED(st.ws) && WEXITSTATUS(st.ws) == 0);
	}
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- process guests come from the zygote -------------------------------- */

static uint8_t arg_byte(size_t i)
{
	return (uint8_t)(i * 7u + (i >> 12));
}

/* Checks every byte of its argument: verified 1, or mismatches. */
static void arg_checking_guest(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	const uint8_t *a = arg;
	size_t i;

	for (i = 0; i < TG_HOST_MAX_GUEST_ARG; i++)
		if (a[i] != arg_byte(i)) {
			c->mismatches++;
			return;
		}
	c->verified = 1;
}

/*
 * A process guest gets a copy of tg_guest_config.arg_size bytes of its
 * argument, never a pointer into the caller's memory: an argument without
 * its size (or a size without an argument, or one over the limit) is
 * refused with a log line that says what to do; the largest argument
 * arrives whole, and the caller may reuse its buffer at once.
 */
static void process_guest_argument_is_a_copy_of_arg_size_bytes(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	struct tg_guest_config gc = { 0 };
	struct tg_guest *g = NULL;
	uint8_t *buf = malloc(TG_HOST_MAX_GUEST_ARG + 1);
	int saved, fd, ws = -1;
	char *log;
	size_t i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i <= TG_HOST_MAX_GUEST_ARG; i++)
		buf[i] = arg_byte(i);
	gc.ram_pages = 64;
	gc.vcpus = 1;
	fd = log_capture_begin(&saved);
	gc.arg_size = 0; /* a pointer, no size */
	assert_int_equal(tg_guest_start(m, &gc, arg_checking_guest, buf, &g),
			 TG_EINVAL);
	gc.arg_size = 16; /* a size, no pointer */
	assert_int_equal(tg_guest_start(m, &gc, arg_checking_guest, NULL, &g),
			 TG_EINVAL);
	gc.arg_size = TG_HOST_MAX_GUEST_ARG + 1;
	assert_int_equal(tg_guest_start(m, &gc, arg_checking_guest, buf, &g),
			 TG_EINVAL);
	log = log_capture_end(fd, saved);
	assert_non_null(
		strstr(log, "arg is set but tg_guest_config.arg_size is 0"));
	assert_non_null(
		strstr(log, "arg is NULL but tg_guest_config.arg_size is 16"));
	assert_non_null(
		strstr(log, "tg_guest_config.arg_size is 1048577, over"));
	assert_null(g);

	gc.arg_size = TG_HOST_MAX_GUEST_ARG;
	assert_int_equal(tg_guest_start(m, &gc, arg_checking_guest, buf, &g),
			 TG_OK);
	memset(buf, 0, TG_HOST_MAX_GUEST_ARG); /* the guest has its copy */
	assert_int_equal(tg_guest_wait_timeout(g, 20000, &ws), TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(counters_of(g).mismatches, 0);
	assert_int_equal(counters_of(g).verified, 1);
	tg_guest_release(g);
	free(buf);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Field 4 (ppid) and field 3 (state) of /proc/@pid/stat; 0: no such pid. */
static int proc_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], line[512], *p;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	p = ok ? strrchr(line, ')') : NULL;
	if (!p || sscanf(p + 2, "%c %d", state, ppid) != 2)
		return 0;
	return 1;
}

/* Our child named teegate-zygote, or 0. */
static pid_t find_zygote(void)
{
	char path[64], comm[32];
	struct dirent *d;
	pid_t found = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		pid_t pid = (pid_t)atoi(d->d_name), ppid;
		char st;
		FILE *f;

		if (pid <= 0 || !proc_stat(pid, &ppid, &st) || ppid != getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) &&
		    !strcmp(comm, "teegate-zygote\n"))
			found = pid;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return found;
}

/* The zygote names itself just after its fork, which the machine does
 * not wait for: give it the time to. */
static pid_t wait_for_zygote(void)
{
	uint64_t t0 = now_ns();
	pid_t pid;

	while (!(pid = find_zygote()) && now_ns() - t0 < 5000000000ull) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	return pid;
}

/* Gone, or a zombie (dead, not reaped by whoever inherited it). */
static bool dead(pid_t pid)
{
	pid_t ppid;
	char st;

	return !proc_stat(pid, &ppid, &st) || st == 'Z' || st == 'X';
}

/*
 * The zygote and the process guests it clones die with the hypervisor
 * process (SIGKILL, nothing run at exit): no orphan is left. A guest is
 * the hypervisor's child, as a fork()ed one was (waitpid, pidfds), not
 * the zygote's. The hypervisor here is a child of the test, forked after
 * the test's own machines: it gets a zygote of its own.
 */
static void zygote_and_guests_die_with_the_hypervisor(void **state)
{
	struct tg_machine *m = machine_new(64ull << 20);
	pid_t pids[4] = { 0 }, hyp, ppid;
	int p[2], ws, i;
	char st;

	(void)state;
	/* this process's own zygote exists (its first machine made it) */
	assert_true(wait_for_zygote() > 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	assert_int_equal(pipe(p), 0);
	hyp = fork();
	assert_true(hyp >= 0);
	if (hyp == 0) {
		struct tg_machine_config mc = { .ram_size = 64ull << 20 };
		struct tg_guest_config gc = { .ram_pages = 64, .vcpus = 1 };
		struct tg_machine *cm;
		struct tg_guest *g, *g2;

		close(p[0]);
		if (find_zygote() || tg_machine_create(&mc, &cm) ||
		    tg_guest_start(cm, &gc, idle_guest, NULL, &g))
			_exit(1);
		/* and one without the lockdown (which sets the signal again) */
		gc.no_lockdown = true;
		if (tg_guest_start(cm, &gc, idle_guest, NULL, &g2))
			_exit(1);
		pids[0] = wait_for_zygote();
		pids[1] = tg_guest_pid(g);
		pids[2] = tg_guest_pid(g2);
		/* the guest is this process's child, not the zygote's */
		if (!proc_stat(pids[1], &ppid, &st) || ppid != getpid())
			_exit(2);
		pids[3] = ppid;
		if (write(p[1], pids, sizeof(pids)) != (ssize_t)sizeof(pids))
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], pids, sizeof(pids)), (ssize_t)sizeof(pids));
	close(p[0]);
	assert_true(pids[0] > 0 && pids[1] > 0 && pids[2] > 0);
	assert_true(pids[0] != pids[1] && pids[0] != pids[2]);
	assert_int_equal(pids[3], hyp);
	assert_false(dead(pids[0]));
	assert_false(dead(pids[1]));
	assert_false(dead(pids[2]));
	assert_int_equal(kill(hyp, SIGKILL), 0);
	assert_int_equal(waitpid(hyp, &ws, 0), hyp);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	for (i = 0; i < 500 && !(dead(pids[0]) && dead(pids[1]) &&
				 dead(pids[2]));
	     i++)
		usleep(10000);
	assert_true(dead(pids[0])); /* the zygote */
	assert_true(dead(pids[1])); /* the guests */
	assert_true(dead(pids[2]));
}

/* ---- placement: which CPUs a call's parties run on (place.c) ------------ */

/* The CPUs thread @tid of process @pid may run on, as a mask (CPUs < 64). */
static uint64_t cpus_allowed(pid_t pid, pid_t tid)
{
	char path[64], line[256];
	uint64_t mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strlen("Cpus_allowed_list:");

		if (strncmp(line, "Cpus_allowed_list:", 18))
			continue;
		while (*p) {
			long a = strtol(p, &p, 10), b = a;

			if (*p == '-')
				b = strtol(p + 1, &p, 10);
			for (; a <= b && a < 64; a++)
				mask |= 1ull << a;
			while (*p && *p != ',' && (*p < '0' || *p > '9'))
				p++;
			if (*p == ',')
				p++;
		}
	}
	fclose(f);
	return mask;
}

/* This process's thread named @name, or 0. */
static pid_t thread_named(const char *name)
{
	char path[300], comm[32];
	struct dirent *e;
	pid_t found = 0;
	DIR *d = opendir("/proc/self/task");
	FILE *f;

	assert_non_null(d);
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, name))
				found = (pid_t)atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Out of process: does a worker of mediator @pid run on @cpu alone? */
static bool mediator_worker_on(pid_t pid, int cpu)
{
	char path[300], comm[32];
	uint64_t t0 = now_ns();

	while (now_ns() - t0 < 5000000000ull) {
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		d = opendir(path);
		assert_non_null(d);
		while ((e = readdir(d))) {
			FILE *f;
			bool worker = false;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/comm",
				 (int)pid, e->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(comm, sizeof(comm), f))
				worker = !strncmp(comm, "tg-med-", 7);
			fclose(f);
			if (worker && cpus_allowed(pid, (pid_t)atoi(e->d_name)) ==
					      1ull << cpu) {
				closedir(d);
				return true;
			}
		}
		closedir(d);
		usleep(2000);
	}
	return false;
}

static uint64_t home_cpus(void)
{
	return cpus_allowed(getpid(), getpid());
}

static int one_cpu(uint64_t mask)
{
	return mask && !(mask & (mask - 1)) ? __builtin_ctzll(mask) : -1;
}

/* Where vCPU 0 of @g and its handler may run: *vcpu, *handler. */
static void where(struct tg_guest *g, uint64_t *vcpu, uint64_t *handler)
{
	char name[16];

	snprintf(name, sizeof(name), "tgh-%u.0", tg_guest_client_id(g));
	*vcpu = cpus_allowed(tg_guest_pid(g), tg_guest_pid(g));
	*handler = cpus_allowed(getpid(), thread_named(name));
}

/*
 * Poll for 5 s (placement moves a vCPU at its next trap) until where @g's
 * vCPU 0 and its handler may run (*v, *h) satisfies @ok(v, h, @arg).
 */
static bool poll_where(struct tg_guest *g,
		       bool (*ok)(uint64_t v, uint64_t h, uint64_t arg),
		       uint64_t arg, uint64_t *v, uint64_t *h)
{
	uint64_t t0 = now_ns();

	while (now_ns() - t0 < 5000000000ull) {
		where(g, v, h);
		if (ok(*v, *h, arg))
			return true;
		usleep(2000);
	}
	print_message("vCPU on %#llx, handler on %#llx (%#llx)\n",
		      (unsigned long long)*v, (unsigned long long)*h,
		      (unsigned long long)arg);
	return false;
}

static bool both_on(uint64_t v, uint64_t h, uint64_t want)
{
	return v == want && h == want;
}

/* Both on CPU @cpu, or both on every CPU of this process when @cpu < 0. */
static bool placed_at(struct tg_guest *g, int cpu)
{
	uint64_t v, h;

	return poll_where(g, both_on, cpu < 0 ? home_cpus() : 1ull << cpu,
			  &v, &h);
}

static bool on_one_cpu_together(uint64_t v, uint64_t h, uint64_t unused)
{
	(void)unused;
	return one_cpu(v) >= 0 && v == h;
}

/* Co-located: vCPU 0 and its handler on one CPU, whichever; it in *cpus. */
static bool colocated(struct tg_guest *g, uint64_t *cpus)
{
	uint64_t h;

	return poll_where(g, on_one_cpu_together, 0, cpus, &h);
}

static void calls_forever(struct tg_vcpu *v, void *arg)
{
	struct uid_loop l = { .calls = 1u << 30 };

	(void)arg;
	uid_calls(v, &l);
}

static struct tg_machine *machine_placed(enum tg_placement pl)
{
	return machine_with(64ull << 20, false, 0, pl);
}

static void stop_guest(struct tg_guest *g)
{
	struct tg_guest_counters c = counters_of(g);

	assert_int_equal(c.mismatches, 0);
	assert_int_equal(c.errors, 0);
	assert_int_equal(tg_guest_kill(g), TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
}

/*
 * Co-located: each 1-vCPU guest's vCPU thread (in its locked-down
 * process, which moves itself) and its handler thread run on one CPU,
 * guests round robin over the CPUs; the calls keep their answers.
 */
static void placement_colocates_each_vcpu_with_its_handler(void **state)
{
	struct tg_machine *m = machine_placed(TG_PLACE_COLOCATE);
	int ncpus = __builtin_popcountll(home_cpus()), i;
	uint64_t home = home_cpus(), seen = 0;
	struct tg_isolation_stats st;
	struct tg_guest *g[2];

	(void)state;
	for (i = 0; i < 2; i++) {
		g[i] = guest_new(m, TG_GUEST_PROCESS, 64, 1, calls_forever,
				 NULL, 0);
		wait_for_calls(g[i], 100);
	}
	for (i = 0; i < 2; i++) {
		uint64_t v;

		/* whichever CPU it got, its handler shares it */
		assert_true(colocated(g[i], &v));
		assert_true(v & home);
		seen |= v;
	}
	/* two CPUs or more: the two guests got different ones */
	assert_int_equal(__builtin_popcountll(seen), ncpus >= 2 ? 2 : 1);
	/* out of process (TEEGATE_ISOLATION), one mediator: a worker
	 * serves each guest's calls on that guest's CPU */
	if (tg_machine_isolation_stats(m, &st) == TG_OK && st.pid > 0 &&
	    !st.per_guest)
		for (i = 0; i < 2; i++) {
			uint64_t v, h;

			where(g[i], &v, &h);
			assert_true(mediator_worker_on(st.pid, one_cpu(v)));
		}
	for (i = 0; i < 2; i++)
		stop_guest(g[i]);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Spread: nothing is pinned, however many guests. */
static void placement_spread_pins_nothing(void **state)
{
	struct tg_machine *m = machine_placed(TG_PLACE_SPREAD);
	struct tg_guest *g[3];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		g[i] = guest_new(m, TG_GUEST_PROCESS, 64, 1, calls_forever,
				 NULL, 0);
		wait_for_calls(g[i], 100);
	}
	for (i = 0; i < 3; i++)
		assert_true(placed_at(g[i], -1));
	for (i = 0; i < 3; i++)
		stop_guest(g[i]);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * Split, vCPU 0 of @g on one of the first ceil(n/2) CPUs of this
 * process and its handler on one of the others (poll: a vCPU moves at
 * its next trap). With one CPU, split is co-located: both on it.
 */
static bool split_at(uint64_t v, uint64_t h, uint64_t guest_half)
{
	return one_cpu(v) >= 0 && one_cpu(h) >= 0 && (v & guest_half) &&
	       (h & home_cpus() & ~guest_half);
}

static bool split_placed(struct tg_guest *g)
{
	uint64_t home = home_cpus(), guest_half = 0, v, h, m;
	int ncpus = __builtin_popcountll(home), c;

	if (ncpus < 2)
		return colocated(g, &v);
	for (m = home, c = 0; c < (ncpus + 1) / 2; c++, m &= m - 1)
		guest_half |= m & -m; /* the lowest CPUs, in order */
	return poll_where(g, split_at, guest_half, &v, &h);
}

/*
 * Split: the hypervisor's handlers get CPUs of their own, the vCPUs run
 * on the others, and the calls keep their answers. In every isolation
 * mode (tests/isolation): out of process it is allowed, not chosen.
 */
static void placement_split_gives_handlers_cpus_of_their_own(void **state)
{
	struct tg_machine *m = machine_placed(TG_PLACE_SPLIT);
	int ncpus = __builtin_popcountll(home_cpus()), i;
	struct tg_guest *g[3];

	(void)state;
	for (i = 0; i < 3; i++) {
		g[i] = guest_new(m, TG_GUEST_PROCESS, 64, 1, calls_forever,
				 NULL, 0);
		wait_for_calls(g[i], 100);
	}
	assert_int_equal(tg_machine_placement(m),
			 ncpus >= 2 ? TG_PLACE_SPLIT : TG_PLACE_COLOCATE);
	for (i = 0; i < 3; i++) {
		uint64_t before = counters_of(g[i]).calls;

		assert_true(split_placed(g[i]));
		wait_for_calls(g[i], before + 100);
	}
	for (i = 0; i < 3; i++)
		stop_guest(g[i]);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/*
 * Auto: spread while the guests have at most one vCPU per two CPUs;
 * beyond, split when the mediator runs in the hypervisor process (the
 * handler alone serves a call) and co-located when it runs out of
 * process. A running guest moves when another starts or ends, and its
 * calls go on meanwhile.
 */
static void placement_auto_follows_the_guests(void **state)
{
	struct tg_machine *m;
	int ncpus = __builtin_popcountll(home_cpus()), i, n;
	struct tg_guest *g[9];
	struct tg_isolation_stats st;
	uint64_t v, before;
	bool out_of_process;

	(void)state;
	if (ncpus > 8)
		skip(); /* it would take more than 9 guests */
	m = machine_placed(TG_PLACE_AUTO);
	assert_int_equal(tg_machine_isolation_stats(m, &st), TG_OK);
	out_of_process = st.mode == TG_ISOLATION_SANDBOXED ||
			 st.mode == TG_ISOLATION_SERVICE;
	/* as many 1-vCPU guests as spread allows: nothing pinned */
	n = ncpus / 2;
	for (i = 0; i < n; i++)
		g[i] = guest_new(m, TG_GUEST_PROCESS, 64, 1, calls_forever,
				 NULL, 0);
	for (i = 0; i < n; i++) {
		wait_for_calls(g[i], 100);
		assert_true(placed_at(g[i], -1));
	}
	assert_int_equal(tg_machine_placement(m), TG_PLACE_SPREAD);
	/* one more: out of process every guest on one CPU with its
	 * handler, inline the handlers on CPUs of their own */
	g[n] = guest_new(m, TG_GUEST_PROCESS, 64, 1, calls_forever, NULL, 0);
	wait_for_calls(g[n], 100);
	assert_int_equal(tg_machine_placement(m),
			 out_of_process || ncpus < 2 ? TG_PLACE_COLOCATE
						     : TG_PLACE_SPLIT);
	for (i = 0; i <= n; i++)
		assert_true(out_of_process ? colocated(g[i], &v)
					   : split_placed(g[i]));
	/* it goes: spread again, and the others' calls go on */
	stop_guest(g[n]);
	assert_int_equal(tg_machine_placement(m), TG_PLACE_SPREAD);
	for (i = 0; i < n; i++) {
		before = counters_of(g[i]).calls;
		assert_true(placed_at(g[i], -1));
		wait_for_calls(g[i], before + 100);
	}
	for (i = 0; i < n; i++)
		stop_guest(g[i]);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- the fork gate (src/host/fork_gate.h) ------------------------------ */

struct gate_test {
	struct tg_fork_gate gate;
	int closed, may_open, entered;
};

static void *gate_forker(void *arg)
{
	struct gate_test *t = arg;

	tg_fork_gate_close(&t->gate);
	__atomic_store_n(&t->closed, 1, __ATOMIC_RELEASE);
	flag_within(&t->may_open, 10000);
	tg_fork_gate_open(&t->gate);
	return NULL;
}

static void *gate_trap(void *arg)
{
	struct gate_test *t = arg;

	tg_fork_gate_enter(&t->gate, 7);
	__atomic_store_n(&t->entered, 1, __ATOMIC_RELEASE);
	tg_fork_gate_leave(&t->gate, 7);
	return NULL;
}

/*
 * A fork waits for the thread inside a trap, and a trap that comes while
 * the fork runs waits for it: what kept a child from inheriting a lock a
 * handler held, with a read-write lock, before the gate.
 */
static void fork_gate_keeps_forks_and_traps_apart(void **state)
{
	static struct gate_test t;
	pthread_t forker, trap;

	(void)state;
	memset(&t, 0, sizeof(t));
	tg_fork_gate_init(&t.gate);
	tg_fork_gate_enter(&t.gate, 3); /* this thread is in a trap */
	assert_int_equal(pthread_create(&forker, NULL, gate_forker, &t), 0);
	assert_false(flag_within(&t.closed, 50));
	tg_fork_gate_leave(&t.gate, 3);
	assert_true(flag_within(&t.closed, 5000));

	assert_int_equal(pthread_create(&trap, NULL, gate_trap, &t), 0);
	assert_false(flag_within(&t.entered, 50));
	__atomic_store_n(&t.may_open, 1, __ATOMIC_RELEASE);
	assert_true(flag_within(&t.entered, 5000));
	pthread_join(forker, NULL);
	pthread_join(trap, NULL);
	tg_fork_gate_destroy(&t.gate);
}

static void placement_names_parse(void **state)
{
	enum tg_placement p = TG_PLACE_SPREAD;

	(void)state;
	assert_int_equal(tg_placement_parse("auto", &p), TG_OK);
	assert_int_equal(p, TG_PLACE_AUTO);
	assert_int_equal(tg_placement_parse("colocate", &p), TG_OK);
	assert_int_equal(p, TG_PLACE_COLOCATE);
	assert_string_equal(tg_placement_name(p), "colocate");
	assert_int_equal(tg_placement_parse("split", &p), TG_OK);
	assert_int_equal(p, TG_PLACE_SPLIT);
	assert_string_equal(tg_placement_name(p), "split");
	assert_int_equal(tg_placement_parse("spread", &p), TG_OK);
	assert_int_equal(p, TG_PLACE_SPREAD);
	assert_int_equal(tg_placement_parse("pinned", &p), TG_EINVAL);
	assert_int_equal(tg_placement_parse(NULL, &p), TG_EINVAL);
	assert_int_equal(p, TG_PLACE_SPREAD); /* untouched on error */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(p2m_is_scattered),
		cmocka_unit_test(placement_colocates_each_vcpu_with_its_handler),
		cmocka_unit_test(placement_spread_pins_nothing),
		cmocka_unit_test(placement_split_gives_handlers_cpus_of_their_own),
		cmocka_unit_test(placement_auto_follows_the_guests),
		cmocka_unit_test(placement_names_parse),
		cmocka_unit_test(fork_gate_keeps_forks_and_traps_apart),
		cmocka_unit_test(reserved_regions_are_never_handed_out),
		cmocka_unit_test(
			ballooned_pinned_page_is_not_reassigned_until_unpinned),
		cmocka_unit_test(guest_cannot_reach_foreign_ipa),
		cmocka_unit_test(
			guest_touching_outside_its_memory_dies_by_sigsegv),
		cmocka_unit_test(oracle_counts_foreign_access),
		cmocka_unit_test(trap_round_trip_8_guests_2_vcpus),
		cmocka_unit_test(trap_null_round_trip_is_measured),
		cmocka_unit_test(thread_mode_guest_runs),
		cmocka_unit_test(guest_killed_mid_call_leaves_nothing_pinned),
		cmocka_unit_test(
			guest_killed_mid_workload_leaves_nothing_pinned),
		cmocka_unit_test(exec_mode_guest_runs),
		cmocka_unit_test(balloon_of_a_still_mapped_page_is_refused),
		cmocka_unit_test(locked_down_guest_cannot_mremap_or_fork),
		cmocka_unit_test(
			locked_down_guest_holds_only_stdout_and_stderr),
		cmocka_unit_test(locked_down_guest_starts_without_stdin),
		cmocka_unit_test(non_tee_calls_get_psci_or_not_supported),
		cmocka_unit_test(thread_mode_guest_is_killed_at_next_trap),
		cmocka_unit_test(
			thread_mode_killed_vcpu_outlives_the_vcpus_it_spawned),
		cmocka_unit_test(trap_pool_serves_every_guest_with_its_threads),
		cmocka_unit_test(trap_pool_guests_killed_and_replaced_mid_call),
		cmocka_unit_test(trap_on_vcpu_answers_calls_and_counts_traps),
		cmocka_unit_test(trap_on_vcpu_serves_hypervisor_calls),
		cmocka_unit_test(trap_on_vcpu_starts_no_handler_thread),
		cmocka_unit_test(trap_on_vcpu_refuses_process_guests),
		cmocka_unit_test(
			trap_on_vcpu_guest_killed_mid_call_is_torn_down_after_it),
		cmocka_unit_test(
			trap_on_vcpu_guest_killed_mid_workload_leaves_nothing_pinned),
		cmocka_unit_test(file_backing_maps_an_existing_ram_file),
		cmocka_unit_test(process_guest_page_limit_is_enforced),
		cmocka_unit_test(direct_mode_reaches_the_backend),
		cmocka_unit_test(guest_started_on_a_former_handler_stack_runs),
		cmocka_unit_test(
			process_guest_argument_is_a_copy_of_arg_size_bytes),
		cmocka_unit_test(zygote_and_guests_die_with_the_hypervisor),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
