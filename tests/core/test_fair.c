// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fair share of the TEE's threads (src/optee/fair.c): a thread a guest
 * sits on is taken back when another domain is refused one, cheap ones
 * first; the guest collects its call's own result with its handle; a
 * guest that resumes its calls keeps its threads. The fake TEE has 2
 * threads, so each domain may hold 1 (the reserve), and the port's clock
 * is the test's.
 */
#include "common.h"

#define G3 3u
#define MS 1000000ull
#define SIT (20 * MS) /* the default sit_ms */
#define HOLD (200 * MS)

static struct env *fair_env(bool hypervisor_reclaims, bool clock)
{
	struct tg_config cfg = { .hypervisor_reclaims = hypervisor_reclaims };
	struct env *e = calloc(1, sizeof(*e));

	e->f = fake_create();
	e->f->threads = 2;
	e->f->now_ns = 1000 * MS;
	if (!clock)
		e->f->port.now_ns = NULL;
	fake_add_guest(e->f, G1, G2_PAGES);
	fake_add_guest(e->f, G2, G2_PAGES);
	fake_add_guest(e->f, G3, G2_PAGES);
	assert_int_equal(tg_mediator_create(&e->f->port, &cfg, &e->med),
			 TG_OK);
	assert_int_equal(tg_domain_create(e->med, G1, NULL), TG_OK);
	assert_int_equal(tg_domain_create(e->med, G2, NULL), TG_OK);
	assert_int_equal(tg_domain_create(e->med, G3, NULL), TG_OK);
	return e;
}

static int setup(void **state)
{
	*state = fair_env(false, true);
	return 0;
}

/* ---- the fake TEE's calls ------------------------------------------------ */

/* value.a FOREIGN_INTRs, then value.b = how many (the model's yield TA). */
static bool tee_yield(struct fake *f, struct fake_thread *t, uint64_t regs[8])
{
	(void)f;
	if (t->step < t->arg->params[0].u.value.a) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	t->arg->params[0].u.value.b = t->step;
	t->arg->ret = TEEC_SUCCESS;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/* GET_TIME in the supplied RPC argument; the RPC's ret is the call's. */
static bool tee_get_time(struct fake *f, struct fake_thread *t,
			 uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;

	(void)f;
	if (t->step == 0) {
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_GET_TIME;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		rpc->ret = TEEC_ERROR_GENERIC;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	}
	t->arg->ret = rpc->ret;
	t->arg->ret_origin = TEEC_ORIGIN_TEE;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/* An RPC CMD on every resume, 1000 times: longer than a take-back. */
static bool tee_chatty(struct fake *f, struct fake_thread *t,
		       uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;

	(void)f;
	if (t->step < 1000) {
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_GET_TIME;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	}
	t->arg->ret = TEEC_SUCCESS;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/* ---- guest side ------------------------------------------------------------ */

#define MSG_IPA(c) (ARG_IPA + (uint64_t)(c) * PAGE)

/* INVOKE of the yield call (N interrupts) in message page @k. */
static uint32_t yield_call(struct env *e, uint32_t g, uint32_t session,
			   uint32_t k, uint64_t n, uint64_t r[8])
{
	struct optee_msg_arg *a = fake_msg(e->f, g, MSG_IPA(k),
					   OPTEE_MSG_CMD_INVOKE_COMMAND, 1);

	a->session = session;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = n;
	e->f->std_fn = tee_yield;
	return call_arg(e, g, MSG_IPA(k), r);
}

/* INVOKE with a supplied RPC argument: stops in an RPC CMD. */
static uint32_t cmd_call(struct env *e, uint32_t g, uint32_t session,
			 uint32_t k, fake_step_fn fn, uint64_t r[8])
{
	struct optee_msg_arg *a = fake_msg(e->f, g, MSG_IPA(k),
					   OPTEE_MSG_CMD_INVOKE_COMMAND, 1);

	a->session = session;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	e->f->std_fn = fn;
	set_regs(r, OPTEE_SMC_CALL_WITH_RPC_ARG, MSG_IPA(k) >> 32,
		 MSG_IPA(k) & 0xFFFFFFFFu, 0);
	assert_true(tg_handle_smc(e->med, g, 0, r));
	return (uint32_t)r[0];
}

/* The guest answers its CMD (time 7) and resumes with its handle. */
static uint32_t resume(struct env *e, uint32_t g, uint32_t k, uint32_t handle,
		       uint64_t r[8])
{
	struct optee_msg_arg *rpc =
		(void *)((uint8_t *)fake_guest_ptr(e->f, g, MSG_IPA(k)) +
			 OPTEE_MSG_GET_ARG_SIZE(1));

	rpc->ret = TEEC_SUCCESS;
	rpc->params[0].u.value.a = 7;
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, handle);
	assert_true(tg_handle_smc(e->med, g, 0, r));
	return (uint32_t)r[0];
}

static uint32_t finish(struct env *e, uint32_t g, uint32_t k, uint64_t r[8])
{
	uint32_t n = 0;

	while (OPTEE_SMC_RETURN_IS_RPC(r[0]) && n++ < 100000)
		resume(e, g, k, (uint32_t)r[3], r);
	return (uint32_t)r[0];
}

static struct optee_msg_arg *msg_of(struct env *e, uint32_t g, uint32_t k)
{
	return fake_guest_ptr(e->f, g, MSG_IPA(k));
}

/* A third guest's call while both threads are held: a0. */
static uint32_t newcomer(struct env *e)
{
	struct optee_msg_arg *a = fake_msg(e->f, G3, MSG_IPA(0),
					   OPTEE_MSG_CMD_OPEN_SESSION, 2);
	uint64_t r[8];

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	e->f->std_fn = NULL;
	return call_arg(e, G3, MSG_IPA(0), r);
}

/* G1 sits in a CMD (message page 1), G2 in a FOREIGN_INTR (page 1). */
static void two_sitters(struct env *e, uint64_t r1[8], uint64_t r2[8])
{
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2);

	assert_int_equal(cmd_call(e, G1, s1, 1, tee_get_time, r1),
			 OPTEE_SMC_RETURN_RPC_CMD);
	assert_int_equal(yield_call(e, G2, s2, 1, 5000, r2),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
}

/* ---- tests ------------------------------------------------------------------- */

/*
 * The newcomer is refused; a refusal sit_ms later takes back the thread
 * sat on in a CMD (cheaper than the FOREIGN_INTR one), and the newcomer's
 * next call gets it.
 */
static void cmd_sitter_is_taken_back_after_sit_ms(void **state)
{
	struct env *e = *state;
	uint64_t r1[8], r2[8];

	two_sitters(e, r1, r2);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	e->f->now_ns += SIT - 1;
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(stats(e, G1).threads_taken, 0);
	e->f->now_ns += 1;
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(stats(e, G1).threads_taken, 1);
	assert_int_equal(stats(e, G2).threads_taken, 0);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	assert_int_equal(msg_of(e, G3, 0)->ret, TEEC_SUCCESS);
	/* G2's call is still its own */
	assert_int_equal(finish(e, G2, 1, r2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(msg_of(e, G2, 1)->params[0].u.value.b, 5000);
}

/* G1 learns, with its handle, that its call ended: its own error. */
static void taken_guest_collects_its_own_result_once(void **state)
{
	struct env *e = *state;
	uint64_t r1[8], r2[8], r[8];
	uint32_t h = 0;

	two_sitters(e, r1, r2);
	h = (uint32_t)r1[3];
	newcomer(e);
	e->f->now_ns += SIT;
	newcomer(e);
	assert_int_equal(stats(e, G1).threads_taken, 1);
	/* the guest's answer comes too late: the TEE got COMMUNICATION */
	assert_int_equal(resume(e, G1, 1, h, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(msg_of(e, G1, 1)->ret, TEEC_ERROR_COMMUNICATION);
	/* once: a second resume with the handle is OP-TEE's ERESUME */
	assert_int_equal(resume(e, G1, 1, h, r), OPTEE_SMC_RETURN_ERESUME);
	/* a handle is the domain's own: the same number from another guest
	 * resumes that guest's own call, if it has one, never this result */
	if (h == (uint32_t)r2[3])
		assert_int_equal(resume(e, G2, 1, h, r2),
				 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	else
		assert_int_equal(resume(e, G2, 1, h, r),
				 OPTEE_SMC_RETURN_ERESUME);
	finish(e, G2, 1, r2);
}

/* Both sit in FOREIGN_INTR: one call is run to its end for its guest. */
static void foreign_intr_sitter_is_run_to_its_end(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2);
	uint64_t r1[8], r2[8], r[8];

	assert_int_equal(yield_call(e, G1, s1, 1, 200000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(yield_call(e, G2, s2, 1, 200000, r2),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	newcomer(e);
	e->f->now_ns += SIT;
	e->f->port_resumes = 0;
	newcomer(e);
	assert_int_equal(stats(e, G1).threads_taken +
				 stats(e, G2).threads_taken,
			 1);
	/* the port resumed the interrupts: not one round trip each */
	assert_true(e->f->port_resumes >= 199990);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	if (stats(e, G1).threads_taken) {
		assert_int_equal(resume(e, G1, 1, (uint32_t)r1[3], r),
				 OPTEE_SMC_RETURN_OK);
		assert_int_equal(msg_of(e, G1, 1)->ret, TEEC_SUCCESS);
		assert_int_equal(msg_of(e, G1, 1)->params[0].u.value.b,
				 200000);
		resume(e, G2, 1, (uint32_t)r2[3], r2); /* untouched */
		assert_int_equal(r2[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	} else {
		assert_int_equal(resume(e, G2, 1, (uint32_t)r2[3], r),
				 OPTEE_SMC_RETURN_OK);
		assert_int_equal(msg_of(e, G2, 1)->params[0].u.value.b,
				 200000);
	}
}

/* Resumed between two refusals: using its thread, never taken. */
static void diligent_guests_keep_their_threads(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2), i;
	uint64_t r1[8], r2[8];

	yield_call(e, G1, s1, 1, 50, r1);
	yield_call(e, G2, s2, 1, 50, r2);
	for (i = 0; i < 20; i++) {
		assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		e->f->now_ns += 10 * SIT;
		resume(e, G1, 1, (uint32_t)r1[3], r1);
		resume(e, G2, 1, (uint32_t)r2[3], r2);
	}
	assert_int_equal(stats(e, G1).threads_taken, 0);
	assert_int_equal(stats(e, G2).threads_taken, 0);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(finish(e, G2, 1, r2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(msg_of(e, G1, 1)->params[0].u.value.b, 50);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
}

/* The domain a thread was taken from starts no new call for a while. */
static void taken_domain_is_held_back(void **state)
{
	struct env *e = *state;
	uint64_t r1[8], r2[8], r[8];
	uint32_t s1;

	two_sitters(e, r1, r2);
	newcomer(e);
	e->f->now_ns += SIT;
	newcomer(e);
	s1 = msg_of(e, G1, 1)->session;
	/* G1 cannot take the freed thread back before the newcomer */
	assert_int_equal(yield_call(e, G1, s1, 2, 0, r),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(tg_domain_thread_want(e->med, G1), TG_WANT_NOTHING);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	e->f->now_ns += HOLD - 1;
	assert_int_equal(yield_call(e, G1, s1, 2, 0, r),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	/* GET_THREAD_COUNT still says what it may hold */
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[1], 1);
	e->f->now_ns += 1;
	assert_int_equal(yield_call(e, G1, s1, 2, 0, r), OPTEE_SMC_RETURN_OK);
	finish(e, G2, 1, r2);
}

/* A resume that races the take-back: "resume again later", same handle. */
static uint32_t race_handle;
static uint64_t race_answer[8];
static struct env *race_env;

static void resume_inside_drive(struct fake *f, uint64_t regs[8])
{
	uint64_t r[8];

	if (!race_handle || (uint32_t)regs[0] != OPTEE_SMC_CALL_RETURN_FROM_RPC ||
	    (regs[7] & 0xFFFF) != G1)
		return;
	f->during_smc = NULL;
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, race_handle);
	assert_true(tg_handle_smc(race_env->med, G1, 1, r));
	memcpy(race_answer, r, sizeof(r));
}

static void resume_during_take_back_is_told_to_resume_later(void **state)
{
	struct env *e = *state;
	uint64_t r1[8], r2[8], r[8];

	two_sitters(e, r1, r2);
	race_handle = (uint32_t)r1[3];
	race_env = e;
	newcomer(e);
	e->f->now_ns += SIT;
	e->f->during_smc = resume_inside_drive;
	newcomer(e);
	assert_int_equal(race_answer[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(race_answer[3], race_handle);
	/* resumed again later: the call's end */
	assert_int_equal(resume(e, G1, 1, race_handle, r),
			 OPTEE_SMC_RETURN_OK);
	race_handle = 0;
	finish(e, G2, 1, r2);
}

/* A TEE that keeps asking: the take-back stops; the guest may go on. */
static void call_longer_than_a_take_back_stays_its_guests(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2);
	uint64_t r1[8], r2[8];
	uint32_t h;

	assert_int_equal(cmd_call(e, G1, s1, 1, tee_chatty, r1),
			 OPTEE_SMC_RETURN_RPC_CMD);
	yield_call(e, G2, s2, 1, 10, r2);
	h = (uint32_t)r1[3];
	newcomer(e);
	e->f->now_ns += SIT;
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(stats(e, G1).threads_taken, 1);
	/* still suspended under the handle its guest holds */
	assert_int_equal(stats(e, G1).calls_suspended, 1);
	assert_int_equal(resume(e, G1, 1, h, r1), OPTEE_SMC_RETURN_RPC_CMD);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
	finish(e, G2, 1, r2);
}

/* Results wait for TG_ENDED_CALLS later endings, then ERESUME. */
static void oldest_uncollected_result_gives_way(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2), k;
	uint32_t handles[9];
	uint64_t r1[8], r2[8], r[8];

	yield_call(e, G2, s2, 1, 5000, r2);
	for (k = 0; k < 9; k++) {
		e->f->now_ns += HOLD;
		assert_int_equal(cmd_call(e, G1, s1, 1, tee_get_time, r1),
				 OPTEE_SMC_RETURN_RPC_CMD);
		handles[k] = (uint32_t)r1[3];
		/* G2 uses its thread: resumes it once a round */
		resume(e, G2, 1, (uint32_t)r2[3], r2);
		newcomer(e);
		e->f->now_ns += SIT;
		newcomer(e);
		assert_int_equal(stats(e, G1).threads_taken, k + 1);
		assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	}
	assert_int_equal(resume(e, G1, 1, handles[0], r),
			 OPTEE_SMC_RETURN_ERESUME);
	for (k = 1; k < 9; k++)
		assert_int_equal(resume(e, G1, 1, handles[k], r),
				 OPTEE_SMC_RETURN_OK);
	finish(e, G2, 1, r2);
}

/* Out of process: only tg_domain_reclaim(), called by the hypervisor. */
static void hypervisor_asks_each_domain(void **state)
{
	struct env *e = fair_env(true, true);
	uint64_t r1[8], r2[8], r[8];

	(void)state;
	two_sitters(e, r1, r2);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(tg_domain_thread_want(e->med, G3), TG_WANT_FIRST);
	assert_int_equal(tg_domain_thread_want(e->med, G1), TG_WANT_NOTHING);
	e->f->now_ns += 10 * SIT;
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(stats(e, G1).threads_taken, 0); /* not by itself */
	assert_int_equal(tg_domain_reclaim(e->med, G3, false), TG_EBUSY);
	assert_int_equal(tg_domain_reclaim(e->med, G1, false), TG_AGAIN);
	assert_int_equal(tg_domain_reclaim(e->med, G2, false), TG_AGAIN);
	e->f->now_ns += SIT;
	/* the FOREIGN_INTR one only when asked for it */
	assert_int_equal(tg_domain_reclaim(e->med, G2, false), TG_AGAIN);
	assert_int_equal(tg_domain_reclaim(e->med, G1, false), TG_OK);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	assert_int_equal(tg_domain_reclaim(e->med, G2, true), TG_OK);
	assert_int_equal(resume(e, G2, 1, (uint32_t)r2[3], r),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(msg_of(e, G2, 1)->params[0].u.value.b, 5000);
	assert_int_equal(tg_domain_reclaim(e->med, 7, true), TG_ENOENT);
	assert_int_equal(tg_domain_reclaim(NULL, G1, true), TG_EINVAL);
	assert_int_equal(tg_domain_thread_want(NULL, G1), TG_WANT_NOTHING);
	assert_int_equal(tg_domain_thread_want(e->med, 7), TG_WANT_NOTHING);
	env_destroy_checked(e, 0);
}

/* Without a clock in the port, nothing is ever taken back. */
static void no_clock_no_take_back(void **state)
{
	struct env *e = fair_env(false, false);
	uint64_t r1[8], r2[8];
	uint32_t i;

	(void)state;
	two_sitters(e, r1, r2);
	for (i = 0; i < 5; i++)
		assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(tg_domain_reclaim(e->med, G1, true), TG_AGAIN);
	assert_int_equal(stats(e, G1).threads_taken, 0);
	finish(e, G1, 1, r1);
	finish(e, G2, 1, r2);
	env_destroy_checked(e, 0);
}

/* A dying guest's call with 200,000 interrupts to go: a few steps. */
static void teardown_resumes_interrupts_in_the_port(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1);
	uint64_t r1[8];
	int steps;

	yield_call(e, G1, s1, 1, 200000, r1);
	steps = fake_destroy_domain(e->med, G1);
	assert_true(steps >= 0 && steps <= 10);
	assert_true(e->f->port_resumes >= 199990);
}

/* The same without the port's help: the mediator resumes them itself. */
static void teardown_resumes_interrupts_itself_without_the_port(void **s)
{
	struct env *e;
	uint32_t s1;
	uint64_t r1[8];
	int steps;

	(void)s;
	e = calloc(1, sizeof(*e));
	e->f = fake_create();
	e->f->port.smc_resume_intr = NULL;
	fake_add_guest(e->f, G1, G2_PAGES);
	assert_int_equal(tg_mediator_create(&e->f->port, NULL, &e->med),
			 TG_OK);
	assert_int_equal(tg_domain_create(e->med, G1, NULL), TG_OK);
	s1 = open_session(e, G1);
	yield_call(e, G1, s1, 1, 200000, r1);
	steps = fake_destroy_domain(e->med, G1);
	assert_true(steps >= 0 && steps <= 10);
	assert_int_equal(e->f->port_resumes, 0);
	assert_true(e->f->smc_count >= 200000);
	env_destroy_checked(e, 0);
}

/* Refused by its own cap, by the TEE holding others, or holding none. */
static void refusals_are_told_apart(void **state)
{
	struct env *e = env_new(NULL, true); /* 4 threads: caps of 3 */
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2), k;
	uint64_t r[4][8], r1[8];

	(void)state;
	for (k = 0; k < 3; k++)
		assert_int_equal(yield_call(e, G2, s2, k + 1, 10, r[k]),
				 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(yield_call(e, G2, s2, 4, 10, r1),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(tg_domain_thread_want(e->med, G2), TG_WANT_NOTHING);
	assert_int_equal(yield_call(e, G1, s1, 1, 10, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(yield_call(e, G1, s1, 2, 10, r[3]),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(tg_domain_thread_want(e->med, G1), TG_WANT_MORE);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
	for (k = 0; k < 3; k++)
		finish(e, G2, k + 1, r[k]);
	env_destroy_checked(e, 0);
}

/* ---- CANCEL at the cap ---------------------------------------------------- */

/* G@g's CANCEL of @session, message page @k: a0. */
static uint32_t cancel_call(struct env *e, uint32_t g, uint32_t session,
			    uint32_t k)
{
	struct optee_msg_arg *a = fake_msg(e->f, g, MSG_IPA(k),
					   OPTEE_MSG_CMD_CANCEL, 0);
	uint64_t r[8];

	a->session = session;
	a->cancel_id = 9;
	e->f->std_fn = NULL;
	return call_arg(e, g, MSG_IPA(k), r);
}

/* The fake TEE's CANCEL that stops in a FOREIGN_INTR first (OP-TEE's
 * never does, a TEE may). */
static bool tee_cancel_interrupted(struct fake *f, struct fake_thread *t,
				   uint64_t regs[8])
{
	(void)f;
	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	t->arg->ret = TEEC_SUCCESS;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/*
 * xtest 1009.3: a guest at its cap (here 1 of 2 threads) cancels the call
 * it has in flight. OP-TEE answers a CANCEL at once, without an RPC, so
 * the CANCEL goes past the cap, into the thread the reserve keeps free.
 */
static void cancel_at_the_cap_reaches_the_tee(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), smcs;
	uint64_t r1[8];

	assert_int_equal(yield_call(e, G1, s1, 1, 5000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	smcs = e->f->smc_count;
	assert_int_equal(cancel_call(e, G1, s1, 2), OPTEE_SMC_RETURN_OK);
	assert_true(e->f->smc_count > smcs); /* the TEE got it */
	assert_int_equal(msg_of(e, G1, 2)->ret, TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).calls_in_flight, 1);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_CALLS],
			 0);
	/* and again, one at a time */
	assert_int_equal(cancel_call(e, G1, s1, 2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
}

/* Every other message at the cap is refused before the TEE sees it. */
static void only_a_cancel_passes_the_cap(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), smcs;
	struct optee_msg_arg *a;
	uint64_t r1[8], r[8];

	assert_int_equal(yield_call(e, G1, s1, 1, 5000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	smcs = e->f->smc_count;
	assert_int_equal(yield_call(e, G1, s1, 2, 1, r),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	a = fake_msg(e->f, G1, MSG_IPA(2), OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	a->session = s1;
	assert_int_equal(call_arg(e, G1, MSG_IPA(2), r),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(e->f->smc_count, smcs);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_CALLS],
			 2);
	assert_int_equal(stats(e, G1).calls_in_flight, 1);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
}

/*
 * A message refused at the cap gives back what reading it took: a
 * REGD_ARG message holds its registered buffer while the call lives, and
 * that buffer must unregister once the call in flight ended.
 */
static void refused_regd_arg_message_keeps_no_buffer_busy(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1);
	struct optee_msg_arg *a;
	uint64_t r1[8], r[8];

	assert_int_equal(register_shm(e, G1, 0x700, 0, 1, 0, PAGE),
			 TEEC_SUCCESS);
	assert_int_equal(yield_call(e, G1, s1, 1, 5000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	a = fake_guest_ptr(e->f, G1, DATA_IPA);
	memset(a, 0, 64);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = s1;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x700, 0);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(unregister_shm(e, G1, 0x700), TEEC_SUCCESS);
}

/* One CANCEL past the cap at a time, even one the TEE suspends. */
static void one_cancel_past_the_cap_at_a_time(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1);
	struct optee_msg_arg *a;
	uint64_t r1[8], rc[8];

	assert_int_equal(yield_call(e, G1, s1, 1, 5000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	a = fake_msg(e->f, G1, MSG_IPA(2), OPTEE_MSG_CMD_CANCEL, 0);
	a->session = s1;
	e->f->std_fn = tee_cancel_interrupted;
	assert_int_equal(call_arg(e, G1, MSG_IPA(2), rc),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(stats(e, G1).calls_in_flight, 2);
	assert_int_equal(cancel_call(e, G1, s1, 3),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(finish(e, G1, 2, rc), OPTEE_SMC_RETURN_OK);
	assert_int_equal(cancel_call(e, G1, s1, 3), OPTEE_SMC_RETURN_OK);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
}

/*
 * G3 was refused while holding no thread: until it calls again (or, with
 * a clock, for the hold time) no CANCEL goes past a cap, so the thread
 * the reserve keeps is G3's when it comes back.
 */
static void cancel_gate(struct env *e, bool clock)
{
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2);
	uint64_t r1[8], r2[8];

	assert_int_equal(yield_call(e, G1, s1, 1, 5000, r1),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(yield_call(e, G2, s2, 1, 5, r2),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(finish(e, G2, 1, r2), OPTEE_SMC_RETURN_OK);
	/* a thread is free now, and it is G3's */
	assert_int_equal(cancel_call(e, G1, s1, 2),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	if (clock) {
		/* (the time is kept in units of 2^20 ns: about a ms) */
		e->f->now_ns += HOLD - 2 * MS;
		assert_int_equal(cancel_call(e, G1, s1, 2),
				 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		e->f->now_ns += 2 * MS;
		assert_int_equal(cancel_call(e, G1, s1, 2),
				 OPTEE_SMC_RETURN_OK);
	} else {
		assert_int_equal(cancel_call(e, G1, s1, 2),
				 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	}
	/* G3 comes back: served; the gate opens */
	assert_int_equal(newcomer(e), OPTEE_SMC_RETURN_OK);
	assert_int_equal(cancel_call(e, G1, s1, 2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(finish(e, G1, 1, r1), OPTEE_SMC_RETURN_OK);
}

static void cancel_waits_while_a_refused_domain_goes_without(void **state)
{
	cancel_gate(*state, true);
}

static void cancel_gate_without_a_clock(void **state)
{
	struct env *e = fair_env(false, false);

	(void)state;
	cancel_gate(e, false);
	env_destroy_checked(e, 0);
}

static int teardown(void **state)
{
	return env_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(cmd_sitter_is_taken_back_after_sit_ms),
		T(taken_guest_collects_its_own_result_once),
		T(foreign_intr_sitter_is_run_to_its_end),
		T(diligent_guests_keep_their_threads),
		T(taken_domain_is_held_back),
		T(resume_during_take_back_is_told_to_resume_later),
		T(call_longer_than_a_take_back_stays_its_guests),
		T(oldest_uncollected_result_gives_way),
		T(teardown_resumes_interrupts_in_the_port),
		T(cancel_at_the_cap_reaches_the_tee),
		T(only_a_cancel_passes_the_cap),
		T(one_cancel_past_the_cap_at_a_time),
		T(refused_regd_arg_message_keeps_no_buffer_busy),
		T(cancel_waits_while_a_refused_domain_goes_without),
#undef T
		cmocka_unit_test(hypervisor_asks_each_domain),
		cmocka_unit_test(no_clock_no_take_back),
		cmocka_unit_test(cancel_gate_without_a_clock),
		cmocka_unit_test(refusals_are_told_apart),
		cmocka_unit_test(teardown_resumes_interrupts_itself_without_the_port),
	};

	return cmocka_run_group_tests_name("core_fair", tests, NULL, NULL);
}
