// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fair share of the TEE's threads, in every order (docs/threat-model.md,
 * "Fair share of TEE threads"). With the model's 2 threads:
 *
 *  - hog first: a guest alone on the machine leaves one call suspended in
 *    a FOREIGN_INTR and tries to leave another in an RPC CMD; a newcomer
 *    must be served within 100 ms;
 *  - hog second: a guest already running keeps being served, and so is a
 *    newcomer, while a hog that came after it sits;
 *  - several hogs: two hogs hold both threads, one in an RPC CMD and one in
 *    a FOREIGN_INTR, or both in FOREIGN_INTR; the newcomer is served and
 *    each hog, when it finally resumes, learns that its call ended: its
 *    own result or a clean error, never another guest's;
 *  - a dead hog's foreign interrupts are drained quickly in every mode.
 *
 * The same program runs in every isolation mode (TEEGATE_ISOLATION, see
 * tests/adversarial/CMakeLists.txt). Run one: test_fair <name>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "attacks.h"
#include "fixture.h"
#include "model_tas.h"

#define SERVED_MS 100u /* the bound a newcomer is served within */

static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t tests_uuid[16] = PTA_INVOKE_TESTS_UUID;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the hog ------------------------------------------------------------- */

/* What a hog does (copied into the guest at its start). */
struct hog_p {
	uint32_t sit_intr; /* calls to leave in a FOREIGN_INTR */
	uint32_t sit_cmd;  /* calls to leave in an RPC CMD */
	uint32_t yields;   /* FOREIGN_INTRs each yield call asks for */
	uint32_t hold_ms;  /* then resume each call once and report */
};

#define HOG_MAX 4u

/*
 * Mailbox steps of a hog:
 *   0..3   a0 of each call it tried to leave suspended (in order: the
 *          FOREIGN_INTR ones, then the CMD ones)
 *   4      sitting: ret = calls held
 *   5..8   after hold_ms, each held call resumed once: a0 of the answer,
 *          ret/origin of its message when a0 = OK; extra: value.b
 *   9      done
 */
#define HOG_SIT 4u
#define HOG_RESUMED 5u
#define HOG_DONE 9u
#define HOG_VALUE_B (MB_EXTRA + 0)

/* A GET_TIME of the stats PTA that stops at its RPC CMD (CALL_WITH_RPC_ARG:
 * the RPC argument follows the message in the same page). */
static uint32_t sit_in_cmd(struct atk *a, uint64_t ipa, uint32_t session,
			   uint64_t regs[8])
{
	struct optee_msg_arg *m = tg_ipa_ptr(a->v, ipa);

	memset(m, 0, PG);
	m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	m->session = session;
	m->func = PTA_STATS_CMD_GET_TIME;
	m->num_params = 2;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	m->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = OPTEE_SMC_CALL_WITH_RPC_ARG;
	regs[1] = ipa >> 32;
	regs[2] = (uint32_t)ipa;
	tg_smc(a->v, regs);
	return (uint32_t)regs[0];
}

static void hog_main(struct tg_vcpu *v, void *arg)
{
	const struct hog_p *p = arg;
	uint64_t regs[HOG_MAX][8], page[HOG_MAX];
	uint32_t n = p->sit_intr + p->sit_cmd, i, held = 0, a0;
	bool is_held[HOG_MAX] = { false };
	uint32_t s_stats = 0;
	struct tg_optee_result res;
	struct atk a;

	if (n > HOG_MAX || atk_init(&a, v))
		return;
	if (p->sit_cmd && (tg_optee_open_session(a.drv, stats_uuid, 0, NULL,
						 0, NULL, 0, &s_stats, &res) ||
			   res.ret))
		return;
	for (i = 0; i < n; i++) {
		if (tg_alloc_pages(v, 1, &page[i]))
			return;
		if (i < p->sit_intr)
			a0 = atk_yield_start(&a, page[i], a.s_yield, p->yields,
					     regs[i]);
		else
			a0 = sit_in_cmd(&a, page[i], s_stats, regs[i]);
		mb_report(v, i, a0, 0, 0);
		is_held[i] = OPTEE_SMC_RETURN_IS_RPC(a0);
		held += is_held[i];
	}
	mb_report(v, HOG_SIT, 0, held, 0);
	/* a fast call every 10 ms: a thread guest dies at its next trap */
	for (i = 0; i < p->hold_ms / 10u; i++) {
		uint64_t r[8] = { OPTEE_SMC_CALLS_UID };

		usleep(10000);
		tg_smc(v, r);
	}
	for (i = 0; i < n; i++) {
		struct optee_msg_arg *m = tg_ipa_ptr(v, page[i]);
		struct optee_msg_arg *r =
			(void *)((uint8_t *)m + OPTEE_MSG_GET_ARG_SIZE(2));

		if (!is_held[i])
			continue;
		/* a CMD is answered as a supplicant would: time 7 s */
		if (i >= p->sit_intr) {
			r->ret = TEEC_SUCCESS;
			r->params[0].u.value.a = 7;
		}
		atk_resume(&a, (uint32_t)regs[i][3], regs[i]);
		a0 = (uint32_t)regs[i][0];
		mb_report(v, HOG_RESUMED + i, a0,
			  a0 == OPTEE_SMC_RETURN_OK ? m->ret : 0,
			  a0 == OPTEE_SMC_RETURN_OK ? m->ret_origin : 0);
		if (i < p->sit_intr && a0 == OPTEE_SMC_RETURN_OK)
			mb_put(v, HOG_VALUE_B, m->params[0].u.value.b);
		/* A call still running is left to the teardown (it may have
		 * a million interrupts to go). */
	}
	mb_report(v, HOG_DONE, 0, 0, 0);
	/* wait to be torn down (a thread guest dies at its next trap) */
	for (;;) {
		uint64_t r[8] = { OPTEE_SMC_CALLS_UID };

		usleep(10000);
		tg_smc(v, r);
	}
}

/* ---- the newcomer -------------------------------------------------------- */

/* Mailbox: step 0 = a0/ret of its INVOKE, extra 0 = microseconds from
 * its first std call until its INVOKE completed, extra 1 = ETHREAD_LIMIT
 * answers it had to wait out. */
#define NEW_US (MB_EXTRA + 0)
#define NEW_WAITS (MB_EXTRA + 1)

static void newcomer_main(struct tg_vcpu *v, void *arg)
{
	struct tg_optee_config cfg = { .no_async_notif = true };
	struct tg_optee_param prm[4] = { 0 };
	struct tg_optee_result res = { 0 };
	struct tg_optee_stats st;
	struct tg_optee *drv;
	uint32_t session;
	uint64_t t0;

	(void)arg;
	if (tg_optee_probe(v, &cfg, &drv))
		return;
	t0 = mono_us();
	if (tg_optee_open_session(drv, tests_uuid, 0, NULL, 0, NULL, 0,
				  &session, &res) ||
	    res.ret) {
		mb_report(v, 0, res.smc_ret, res.ret, res.origin);
		return;
	}
	prm[0].type = TG_OPTEE_PARAM_VALUE_INOUT;
	prm[0].u.value.a = 40;
	prm[0].u.value.b = 2;
	tg_optee_invoke(drv, session, PTA_INVOKE_TESTS_CMD_PARAMS, 0, prm, 4,
			&res);
	mb_put(v, NEW_US, mono_us() - t0);
	tg_optee_get_stats(drv, &st);
	mb_put(v, NEW_WAITS, st.thread_limit_waits);
	mb_report(v, 0, res.smc_ret, res.ret,
		  prm[0].u.value.a == 42 ? 1u : 0u);
	tg_optee_close_session(drv, session, NULL);
	tg_optee_remove(drv);
}

static uint64_t guest_value(struct tg_guest *g, unsigned int i)
{
	struct tg_guest_stats gs;

	if (tg_guest_stats(g, &gs) || i >= TG_LAT_BUCKETS)
		return 0;
	return gs.counters.lat_hist[i];
}

static bool guest_step(struct tg_guest *g, unsigned int k, int ms)
{
	for (; ms > 0; ms -= 2) {
		if (guest_value(g, 4 * k + 3))
			return true;
		usleep(2000);
	}
	return guest_value(g, 4 * k + 3) != 0;
}

/*
 * Start a newcomer, wait for its INVOKE (at most @wait_ms) and return how
 * long it waited for service, in ms. Fails the test if it was not served,
 * got a wrong answer, or was ever told ETHREAD_LIMIT: the hypervisor takes
 * a thread back for it within its refused call, so a guest that does not
 * retry on its own (Linux) is served too.
 */
static uint64_t run_newcomer(struct fx *f, int wait_ms)
{
	struct tg_guest_stats gs;
	struct tg_guest *g;
	uint64_t us;

	g = fx_start_guest(f, "newcomer", newcomer_main, NULL, 0, 1, 256,
			   fx_mode());
	if (!guest_step(g, 0, wait_ms)) {
		tg_guest_kill(g);
		tg_guest_wait(g, NULL);
		tg_guest_release(g);
		fail_msg("the newcomer was not served within %d ms", wait_ms);
	}
	us = guest_value(g, NEW_US);
	assert_int_equal(guest_value(g, NEW_WAITS), 0);
	assert_int_equal(guest_value(g, 0), OPTEE_SMC_RETURN_OK);
	assert_int_equal(guest_value(g, 1), TEEC_SUCCESS);
	assert_int_equal(guest_value(g, 2), 1); /* 40 + 2 */
	fx_end_guest(f, g, false, &gs);
	printf("    newcomer served after %llu.%03llu ms\n",
	       (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
	return us / 1000;
}

static struct tg_guest *start_hog(struct fx *f, const char *name,
				  struct hog_p *p)
{
	struct tg_guest *g = fx_start_guest(f, name, hog_main, p, sizeof(*p), 2,
					    FX_ATT_PAGES, fx_mode());

	if (!guest_step(g, HOG_SIT, 20000))
		fail_msg("%s did not start sitting", name);
	return g;
}

static uint32_t hog_a0(struct tg_guest *g, unsigned int k)
{
	return (uint32_t)guest_value(g, 4 * k);
}

static uint32_t hog_ret(struct tg_guest *g, unsigned int k)
{
	return (uint32_t)guest_value(g, 4 * k + 1);
}

static void end_hog(struct fx *f, struct tg_guest *g)
{
	struct tg_guest_stats gs;


	fx_end_guest(f, g, true, &gs);
}

/*
 * Run a scenario (from fx_up to fx_down) until its newcomer is served
 * within @bound ms, at most TRIES times. The mechanism serves it in about
 * sit_ms + 2 ms (20-40 ms here); on a loaded machine one run in ten or so
 * is pushed past 100 ms by the scheduler alone (the guests are processes).
 * A policy that does not take threads back fails every run (it waits for
 * the hogs: 1.5 s and more), so retrying hides no regression of it.
 */
#define TRIES 3

static void served_within(uint64_t (*once)(void), uint64_t bound)
{
	uint64_t ms = 0;
	int i;

	for (i = 1; i <= TRIES; i++) {
		ms = once();
		if (ms <= bound)
			return;
		printf("    over %llu ms (run %d of %d)\n",
		       (unsigned long long)bound, i, TRIES);
	}
	fail_msg("the newcomer waited %llu ms, more than %llu, %d times",
		 (unsigned long long)ms, (unsigned long long)bound, TRIES);
}

#define RPC_INTR OPTEE_SMC_RETURN_RPC_FOREIGN_INTR
#define RPC_CMD OPTEE_SMC_RETURN_RPC_CMD

/* ---- hog first ----------------------------------------------------------- */

/*
 * The attack: alone on the machine, the hog leaves one call in a
 * FOREIGN_INTR and tries to leave a second in an RPC CMD. It must not get
 * the second thread (the reserve), and a guest that starts afterwards is
 * served within 100 ms.
 */
static uint64_t hog_first_once(void)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct hog_p hp = { .sit_intr = 1, .sit_cmd = 1, .yields = 1000,
			    .hold_ms = 100000 };
	struct tg_guest *hog;
	struct fx f;
	uint64_t ms;

	fx_up(&f, &o);
	hog = start_hog(&f, "hog", &hp);
	assert_int_equal(hog_a0(hog, 0), RPC_INTR);
	/* the lone guest holds T-1 threads: its second call waits */
	assert_int_equal(hog_a0(hog, 1), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(hog_ret(hog, HOG_SIT), 1);
	ms = run_newcomer(&f, 3000);
	end_hog(&f, hog);
	fx_down(&f);
	return ms;
}

static void hog_first_newcomer_is_served_within_100ms(void **state)
{
	(void)state;
	served_within(hog_first_once, SERVED_MS);
}

/* ---- hog second ---------------------------------------------------------- */

/* A guest already running calls: its slowest call while the hog sits. */
#define EARLY_CALLS 200u
#define EARLY_MAX_US (MB_EXTRA + 0)
#define EARLY_WAITS (MB_EXTRA + 1)
#define EARLY_STARTED 0u
#define EARLY_DONE 1u

static void early_main(struct tg_vcpu *v, void *arg)
{
	struct tg_optee_config cfg = { .no_async_notif = true };
	struct tg_optee_param prm[4] = { 0 };
	struct tg_optee_result res = { 0 };
	struct tg_optee_stats st;
	struct tg_optee *drv;
	uint32_t session, i, bad = 0;
	uint64_t worst = 0;

	(void)arg;
	if (tg_optee_probe(v, &cfg, &drv) ||
	    tg_optee_open_session(drv, tests_uuid, 0, NULL, 0, NULL, 0,
				  &session, &res))
		return;
	mb_report(v, EARLY_STARTED, 0, 0, 0);
	for (i = 0; i < EARLY_CALLS; i++) {
		uint64_t t0 = mono_us(), dt;

		prm[0].type = TG_OPTEE_PARAM_VALUE_INOUT;
		prm[0].u.value.a = i;
		prm[0].u.value.b = 1;
		if (tg_optee_invoke(drv, session, PTA_INVOKE_TESTS_CMD_PARAMS,
				    0, prm, 4, &res) ||
		    res.ret || prm[0].u.value.a != i + 1)
			bad++;
		dt = mono_us() - t0;
		if (dt > worst)
			worst = dt;
		mb_put(v, EARLY_MAX_US, worst);
		usleep(5000);
	}
	tg_optee_get_stats(drv, &st);
	mb_put(v, EARLY_WAITS, st.thread_limit_waits);
	mb_report(v, EARLY_DONE, 0, bad, 0);
	tg_optee_close_session(drv, session, NULL);
	tg_optee_remove(drv);
}

static uint64_t hog_second_once(void)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct hog_p hp = { .sit_intr = 1, .sit_cmd = 1, .yields = 1000,
			    .hold_ms = 100000 };
	struct tg_guest *early, *hog;
	struct tg_guest_stats gs;
	struct fx f;
	uint64_t ms;

	fx_up(&f, &o);
	early = fx_start_guest(&f, "early", early_main, NULL, 0, 1, 256,
			       fx_mode());
	assert_true(guest_step(early, EARLY_STARTED, 20000));
	hog = start_hog(&f, "hog", &hp);
	/* the hog got one thread, never both */
	assert_int_equal(hog_ret(hog, HOG_SIT), 1);
	/* the earlier guest's calls, mostly while the hog sits: each found
	 * a thread at once (its slowest call, printed, is the machine's
	 * scheduling, not a wait for a thread) */
	assert_true(guest_step(early, EARLY_DONE, 60000));
	assert_int_equal(guest_value(early, 4 * EARLY_DONE + 1), 0);
	printf("    the earlier guest's slowest call: %llu us\n",
	       (unsigned long long)guest_value(early, EARLY_MAX_US));
	assert_int_equal(guest_value(early, EARLY_WAITS), 0);
	fx_end_guest(&f, early, false, &gs);
	/* and one that comes after the hog */
	ms = run_newcomer(&f, 3000);
	end_hog(&f, hog);
	fx_down(&f);
	return ms;
}

static void hog_second_earlier_and_later_guests_are_served(void **state)
{
	(void)state;
	served_within(hog_second_once, SERVED_MS);
}

/* ---- several hogs -------------------------------------------------------- */

/*
 * Two hogs hold both threads: A in a FOREIGN_INTR (a million to go), B in
 * an RPC CMD. The newcomer is served within 100 ms: B's thread is taken
 * back (its RPC answered with an error for it). When the hogs resume, B
 * learns its call ended with an error of its own call; A's call goes on.
 */
static uint64_t several_hogs_once(void)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct hog_p pa = { .sit_intr = 1, .yields = MODEL_TA_YIELD_MAX,
			    .hold_ms = 1500 };
	struct hog_p pb = { .sit_cmd = 1, .hold_ms = 1500 };
	struct tg_guest *a, *b;
	struct fx f;
	uint64_t ms;

	fx_up(&f, &o);
	a = start_hog(&f, "hog-a", &pa);
	b = start_hog(&f, "hog-b", &pb);
	assert_int_equal(hog_a0(a, 0), RPC_INTR);
	assert_int_equal(hog_a0(b, 0), RPC_CMD);
	ms = run_newcomer(&f, 3000);
	assert_true(guest_step(a, HOG_DONE, 20000));
	assert_true(guest_step(b, HOG_DONE, 20000));
	/* A was left alone: its call is still its own, running */
	assert_int_equal(hog_a0(a, HOG_RESUMED), RPC_INTR);
	/* B's call ended, with an error from its own call */
	assert_int_equal(hog_a0(b, HOG_RESUMED), OPTEE_SMC_RETURN_OK);
	assert_int_not_equal(hog_ret(b, HOG_RESUMED), TEEC_SUCCESS);
	end_hog(&f, a);
	end_hog(&f, b);
	fx_down(&f);
	return ms;
}

static void several_hogs_newcomer_is_served_within_100ms(void **state)
{
	(void)state;
	served_within(several_hogs_once, SERVED_MS);
}

/*
 * Both hogs sit in FOREIGN_INTR, a million interrupts to go each. A
 * FOREIGN_INTR cannot be answered, only resumed: the newcomer waits until
 * one hog's TA call has been run to its end for it. That hog then gets
 * its own result when it resumes.
 */
#define DRIVE_BOUND_MS 2000u

static uint64_t hogs_in_intr_once(void)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct hog_p hp = { .sit_intr = 1, .yields = MODEL_TA_YIELD_MAX,
			    .hold_ms = 4000 };
	struct tg_guest *a, *b;
	uint32_t done = 0;
	struct fx f;
	uint64_t ms;

	fx_up(&f, &o);
	a = start_hog(&f, "hog-a", &hp);
	b = start_hog(&f, "hog-b", &hp);
	assert_int_equal(hog_a0(a, 0), RPC_INTR);
	assert_int_equal(hog_a0(b, 0), RPC_INTR);
	ms = run_newcomer(&f, 10000);
	assert_true(guest_step(a, HOG_DONE, 20000));
	assert_true(guest_step(b, HOG_DONE, 20000));
	/* one call was run to its end: its guest gets its own result */
	if (hog_a0(a, HOG_RESUMED) == OPTEE_SMC_RETURN_OK) {
		assert_int_equal(hog_ret(a, HOG_RESUMED), TEEC_SUCCESS);
		assert_int_equal(guest_value(a, HOG_VALUE_B),
				 MODEL_TA_YIELD_MAX);
		done++;
	}
	if (hog_a0(b, HOG_RESUMED) == OPTEE_SMC_RETURN_OK) {
		assert_int_equal(hog_ret(b, HOG_RESUMED), TEEC_SUCCESS);
		assert_int_equal(guest_value(b, HOG_VALUE_B),
				 MODEL_TA_YIELD_MAX);
		done++;
	}
	assert_int_equal(done, 1);
	end_hog(&f, a);
	end_hog(&f, b);
	fx_down(&f);
	return ms;
}

static void several_hogs_in_foreign_intr_cost_one_drained_call(void **state)
{
	(void)state;
	served_within(hogs_in_intr_once, DRIVE_BOUND_MS);
}

/* ---- a dead hog's teardown ----------------------------------------------- */

/*
 * A hog killed while its yield call has a million foreign interrupts to
 * go: its teardown runs the call to its end. Prints the time (the table in
 * docs/isolation.md, "Draining a dead guest"), and bounds it.
 */
#define DRAIN_BOUND_MS 5000u

static void dead_hog_is_drained_quickly(void **state)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct hog_p hp = { .sit_intr = 1, .yields = MODEL_TA_YIELD_MAX,
			    .hold_ms = 100000 };
	struct tg_guest_stats gs;
	struct tg_guest *hog;
	uint64_t t0, ms;
	struct fx f;

	(void)state;
	fx_up(&f, &o);
	hog = start_hog(&f, "hog", &hp);
	assert_int_equal(hog_a0(hog, 0), RPC_INTR);
	t0 = mono_us();
	fx_end_guest(&f, hog, true, &gs);
	ms = (mono_us() - t0) / 1000;
	printf("    drain of %u foreign interrupts (%s): %llu ms\n",
	       MODEL_TA_YIELD_MAX - 1,
	       getenv("TEEGATE_ISOLATION") ? getenv("TEEGATE_ISOLATION")
					   : "inline",
	       (unsigned long long)ms);
	assert_true(ms <= DRAIN_BOUND_MS);
	fx_down(&f);
}

/* ---- CANCEL at the cap -------------------------------------------------- */

/*
 * xtest 1009.3 ("TEE Wait 2s cancel"): a guest alone, at its cap of one
 * thread (T = 2, the reserve), cancels the call it has in flight. Steps:
 *   0  a0 of the yield call (a FOREIGN_INTR: it sits)
 *   1  a0/ret/origin of the CANCEL (OK, SUCCESS: it went past the cap)
 *   2  a0/ret of the yield call resumed (OK, TEEC_ERROR_CANCEL)
 *   3  done
 */
static void canceller_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m, *cm;
	uint64_t regs[8], page;
	struct ans o;
	struct atk a;

	(void)arg;
	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &page))
		return;
	mb_report(v, 0, atk_yield_start(&a, page, a.s_yield, 1000, regs), 0,
		  0);
	cm = atk_msg(&a, OPTEE_MSG_CMD_CANCEL, 0);
	cm->session = a.s_yield;
	atk_send(&a, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_resume(&a, (uint32_t)regs[3], regs);
	m = tg_ipa_ptr(v, page);
	mb_report(v, 2, (uint32_t)regs[0],
		  regs[0] == OPTEE_SMC_RETURN_OK ? m->ret : 0, 0);
	mb_report(v, 3, 0, 0, 0);
	atk_fini(&a);
}

static void cancel_at_the_cap_ends_the_call_in_flight(void **state)
{
	struct fx_opts o = { .tee_threads = 2, .no_bystander = true };
	struct tg_guest_stats gs;
	struct tg_guest *g;
	struct fx f;

	(void)state;
	fx_up(&f, &o);
	g = fx_start_guest(&f, "canceller", canceller_main, NULL, 0, 1,
			   FX_ATT_PAGES, fx_mode());
	assert_true(guest_step(g, 3, 20000));
	assert_int_equal(guest_value(g, 0), RPC_INTR);
	assert_int_equal(guest_value(g, 4 * 1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(guest_value(g, 4 * 1 + 1), TEEC_SUCCESS);
	assert_int_equal(guest_value(g, 4 * 2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(guest_value(g, 4 * 2 + 1), TEEC_ERROR_CANCEL);
	fx_end_guest(&f, g, false, &gs);
	fx_down(&f);
}

#define T(fn) cmocka_unit_test(fn)

static const struct CMUnitTest all_tests[] = {
	T(hog_first_newcomer_is_served_within_100ms),
	T(hog_second_earlier_and_later_guests_are_served),
	T(several_hogs_newcomer_is_served_within_100ms),
	T(several_hogs_in_foreign_intr_cost_one_drained_call),
	T(dead_hog_is_drained_quickly),
	T(cancel_at_the_cap_ends_the_call_in_flight),
};

#define NTESTS (sizeof(all_tests) / sizeof(all_tests[0]))

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NTESTS; i++)
			printf("%s\n", all_tests[i].name);
		return 0;
	}
	if (argc == 2) {
		for (i = 0; i < NTESTS; i++)
			if (!strcmp(all_tests[i].name, argv[1]))
				return _cmocka_run_group_tests(
					"fair", &all_tests[i], 1, NULL, NULL);
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return _cmocka_run_group_tests("fair", all_tests, NTESTS, NULL, NULL);
}
