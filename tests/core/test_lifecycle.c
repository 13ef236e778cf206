// SPDX-License-Identifier: BSD-2-Clause
/*
 * Mediator creation (the TEE probe), domain creation rules, statistics
 * and destruction edge cases.
 */
#include "common.h"
#include "optee.h" /* the shadow pool's stripes */

static int create_with(struct fake *f, const struct tg_config *cfg,
		       struct tg_mediator **med)
{
	return tg_mediator_create(&f->port, cfg, med);
}

static void probe_reads_uid_revision_threads_and_caps(void **state)
{
	struct env *e = *state;
	const struct tg_tee_info *t = tg_mediator_tee_info(e->med);

	assert_int_equal(t->api_uid[0], OPTEE_MSG_UID_0);
	assert_int_equal(t->api_rev_major, 2);
	assert_int_equal(t->os_uuid[0], OPTEE_MSG_OS_UUID_0);
	assert_int_equal(t->os_rev_major, 4);
	assert_int_equal(t->os_rev_minor, 10);
	assert_int_equal(t->thread_count, 4);
	assert_true(t->virtualization);
	assert_int_equal(t->rpc_param_count, 4);
	assert_false(t->guest_caps & OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM);
	assert_null(tg_mediator_tee_info(NULL));
}

static void absent_tee_is_enotee(void **state)
{
	struct fake *f = fake_create();
	struct tg_mediator *med = (void *)1;

	(void)state;
	f->no_answer = true;
	assert_int_equal(create_with(f, NULL, &med), TG_ENOTEE);
	assert_null(med);
	assert_int_equal(f->allocs_live, 0);
	fake_destroy(f);
}

static void tee_that_is_not_optee_is_enotee(void **state)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;

	(void)state;
	f->not_optee = true;
	assert_int_equal(create_with(f, NULL, &med), TG_ENOTEE);
	f->not_optee = false;
	f->revision_major = 3;
	assert_int_equal(create_with(f, NULL, &med), TG_ENOTEE);
	assert_int_equal(f->allocs_live, 0);
	fake_destroy(f);
}

static void tee_without_dynamic_shm_is_enotsup(void **state)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;

	(void)state;
	f->caps &= ~OPTEE_SMC_SEC_CAP_DYNAMIC_SHM;
	assert_int_equal(create_with(f, NULL, &med), TG_ENOTSUP);
	assert_int_equal(f->allocs_live, 0);
	fake_destroy(f);
}

static void incomplete_port_or_config_is_einval(void **state)
{
	struct fake *f = fake_create();
	struct tg_config cfg = { .max_domains = 0x10000 };
	struct tg_mediator *med;
	struct tg_port p = f->port;

	(void)state;
	assert_int_equal(tg_mediator_create(NULL, NULL, &med), TG_EINVAL);
	assert_int_equal(tg_mediator_create(&f->port, NULL, NULL), TG_EINVAL);
	p.smc = NULL;
	assert_int_equal(tg_mediator_create(&p, NULL, &med), TG_EINVAL);
	assert_int_equal(create_with(f, &cfg, &med), TG_EINVAL);
	f->fail_alloc = true;
	assert_int_equal(create_with(f, NULL, &med), TG_ENOMEM);
	assert_int_equal(tg_mediator_destroy(NULL), TG_EINVAL);
	fake_destroy(f);
}

static void domain_id_zero_and_too_large_are_refused(void **state)
{
	struct env *e = *state;

	assert_int_equal(tg_domain_create(e->med, 0, NULL), TG_EINVAL);
	assert_int_equal(tg_domain_create(e->med, 0x10000, NULL), TG_EINVAL);
	assert_int_equal(tg_domain_create(NULL, 3, NULL), TG_EINVAL);
	assert_int_equal(tg_domain_destroy(e->med, 0), TG_EINVAL);
}

static void duplicate_domain_is_refused_without_a_second_vm_created(void **s)
{
	struct env *e = *s;

	assert_int_equal(e->f->vm_created[G1], 1);
	assert_int_equal(tg_domain_create(e->med, G1, NULL), TG_EEXIST);
	assert_int_equal(e->f->vm_created[G1], 1);
}

static void vm_created_comes_from_the_hypervisor(void **state)
{
	struct env *e = *state;

	/* the fake TEE refuses VM_CREATED unless a7 == 0 */
	assert_int_equal(e->f->vm_created[G1], 1);
	assert_int_equal(e->f->vm_created[G2], 1);
}

static void refused_vm_created_is_eproto_and_frees_the_slot(void **state)
{
	struct env *e = *state;

	e->f->vm_created_answer = OPTEE_SMC_RETURN_ENOTAVAIL;
	assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_EPROTO);
	e->f->vm_created_answer = 0;
	assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_OK);
	assert_true(fake_destroy_domain(e->med, 3) >= 0);
}

static void domain_table_limit_is_elimit(void **state)
{
	struct tg_config cfg = { .max_domains = 2 };
	struct env *e = env_new(&cfg, true);

	(void)state;
	assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_ELIMIT);
	assert_true(fake_destroy_domain(e->med, G2) >= 0);
	assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_OK);
	env_teardown((void **)&e);
}

static void slots_are_reused_after_destroy(void **state)
{
	struct tg_config cfg = { .max_domains = 2 };
	struct env *e = env_new(&cfg, false);
	uint32_t round;
	uint64_t r[8];

	(void)state;
	for (round = 0; round < 50; round++) {
		uint32_t id = 1 + round % 7;

		assert_int_equal(tg_domain_create(e->med, id, NULL), TG_OK);
		set_regs(r, OPTEE_SMC_CALLS_UID, 0, 0, 0);
		tg_handle_smc(e->med, id, 0, r);
		assert_int_equal(r[0], OPTEE_MSG_UID_0);
		assert_true(fake_destroy_domain(e->med, id) >= 0);
		tg_handle_smc(e->med, id, 0, r);
		assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
	}
	env_teardown((void **)&e);
}

static void mediator_destroy_with_live_domains_is_ebusy(void **state)
{
	struct env *e = *state;

	assert_int_equal(tg_mediator_destroy(e->med), TG_EBUSY);
}

static void stats_of_unknown_domain_is_enoent(void **state)
{
	struct env *e = *state;
	struct tg_domain_stats st;

	assert_int_equal(tg_domain_stats(e->med, 7, &st), TG_ENOENT);
	assert_int_equal(tg_domain_stats(e->med, G1, NULL), TG_EINVAL);
	assert_int_equal(tg_domain_destroy(e->med, 7), TG_ENOENT);
}

static void stats_count_calls_and_refusals(void **state)
{
	struct env *e = *state;
	struct tg_domain_stats st;
	uint64_t r[8];

	set_regs(r, OPTEE_SMC_CALLS_UID, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	set_regs(r, OPTEE_SMC_CALLS_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	set_regs(r, OPTEE_SMC_VM_CREATED, 5, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	open_session(e, G1);
	st = stats(e, G1);
	assert_int_equal(st.calls[TG_KIND_FAST_FORWARDED], 1);
	assert_int_equal(st.calls[TG_KIND_FAST_EMULATED], 1);
	assert_int_equal(st.calls[TG_KIND_STD_CALL], 1);
	assert_int_equal(st.calls[TG_KIND_REFUSED], 1);
	assert_int_equal(st.refused[TG_REFUSE_HYP_ONLY], 1);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.calls_in_flight, 0);
	/* none while idle: a call holds one of the pool's while in flight */
	assert_int_equal(st.shadow_pages, 0);
	/* G2 is untouched */
	assert_int_equal(stats(e, G2).calls[TG_KIND_FAST_FORWARDED], 0);
}

/* ---- the shadow-page pool ------------------------------------------------ */

/* A NONE-param INVOKE of the session in @client's message page 3. */
static uint32_t invoke_none(struct env *e, uint32_t client, uint32_t session)
{
	uint64_t ipa = FAKE_IPA_BASE + 3 * PAGE;
	struct optee_msg_arg *a =
		fake_msg(e->f, client, ipa, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	uint64_t r[8];

	a->session = session;
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ipa >> 32, ipa & 0xFFFFFFFFu, 0);
	assert_true(tg_handle_smc(e->med, client, 0, r));
	return (uint32_t)r[0];
}

static uint32_t nested_session[4];
static uint32_t nested_a0[4];
static uint64_t nested_pages_in_flight;

/* A mediator over a TEE of @threads, guests 1 to @guests with a session
 * each (nested_session[]). */
static struct env *pool_env(uint32_t threads, uint32_t guests)
{
	struct env *e = calloc(1, sizeof(*e));
	uint32_t id;

	assert_non_null(e);
	e->f = fake_create();
	e->f->threads = threads;
	for (id = 1; id <= guests; id++)
		fake_add_guest(e->f, id, 64);
	assert_int_equal(tg_mediator_create(&e->f->port, NULL, &e->med),
			 TG_OK);
	for (id = 1; id <= guests; id++) {
		assert_int_equal(tg_domain_create(e->med, id, NULL), TG_OK);
		nested_session[id] = open_session(e, id);
	}
	return e;
}

/* Inside G1's SMC, G2 calls; inside G2's, G3: three calls in flight. */
static void nest_next_call(struct fake *f, uint64_t regs[8])
{
	struct env *e = f->test_ctx;
	static uint32_t depth;

	(void)regs;
	if (depth >= 2) {
		nested_pages_in_flight = f->shm_pages_live;
		return;
	}
	depth++;
	nested_a0[depth + 1] = invoke_none(e, depth + 1,
					   nested_session[depth + 1]);
	depth--;
}

/*
 * The pool holds at most twice the TEE's threads (2 here); a call that
 * finds it empty and full-grown gets a page of its own, which goes back to
 * the port when the call completes. With no domain left the pool is empty.
 */
static void shadow_pool_lends_beyond_its_cap_and_empties(void **state)
{
	struct env *e = pool_env(1, 3);
	uint32_t id;

	(void)state;
	for (id = 1; id <= 3; id++)
		assert_int_equal(stats(e, id).shadow_pages, 0);
	/* one call at a time: one page, kept by the pool */
	assert_int_equal(e->f->shm_pages_live, 1);
	e->f->test_ctx = e;
	e->f->during_smc = nest_next_call;
	nested_a0[1] = invoke_none(e, 1, nested_session[1]);
	e->f->during_smc = NULL;
	for (id = 1; id <= 3; id++)
		assert_int_equal(nested_a0[id], OPTEE_SMC_RETURN_OK);
	/* three pages while three calls were in flight: 2 pooled, 1 lent */
	assert_int_equal(nested_pages_in_flight, 3);
	/* the lent page went back; the pool keeps its 2 */
	assert_int_equal(e->f->shm_pages_live, 2);
	for (id = 1; id <= 3; id++)
		assert_int_equal(stats(e, id).shadow_pages, 0);
	for (id = 1; id <= 3; id++)
		assert_true(fake_destroy_domain(e->med, id) >= 0);
	assert_int_equal(e->f->shm_pages_live, 0);
	env_destroy_checked(e, 0);
}

/* Inside G1's SMC, G2 makes one call: two calls in flight. */
static void nest_one_call(struct fake *f, uint64_t regs[8])
{
	struct env *e = f->test_ctx;

	(void)regs;
	f->during_smc = NULL;
	nested_a0[2] = invoke_none(e, 2, nested_session[2]);
}

static uint64_t stripe_free(struct env *e, uint32_t client)
{
	return atomic_load(
		&e->med->shadow.stripe[client % TG_SHADOW_STRIPES].free);
}

/*
 * A page goes back to the stripe of the domain that used it last, and a
 * domain takes from its own stripe first: two guests calling on two
 * cores write different lines, and reuse their own pages. A domain whose
 * stripe is empty takes another's free page before the pool grows.
 */
static void shadow_pool_stripes_keep_a_page_with_its_domain(void **state)
{
	struct env *e = pool_env(2, 2);
	uint64_t one, two;
	uint32_t id, i;

	(void)state;
	/* the pool is down to one page, which G2 used last */
	assert_int_equal(e->f->shm_pages_live, 1);
	assert_int_equal(stripe_free(e, 1), 0);
	assert_int_equal(__builtin_popcountll(stripe_free(e, 2)), 1);
	/* G1 takes it over: its stripe was empty and the pool can lend */
	assert_int_equal(invoke_none(e, 1, nested_session[1]),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(e->f->shm_pages_live, 1);
	assert_int_equal(stripe_free(e, 2), 0);
	assert_int_equal(__builtin_popcountll(stripe_free(e, 1)), 1);
	/* both in flight at once: a second page, each back to its domain */
	e->f->test_ctx = e;
	e->f->during_smc = nest_one_call;
	assert_int_equal(invoke_none(e, 1, nested_session[1]),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(nested_a0[2], OPTEE_SMC_RETURN_OK);
	assert_int_equal(e->f->shm_pages_live, 2);
	one = stripe_free(e, 1);
	two = stripe_free(e, 2);
	assert_int_equal(__builtin_popcountll(one), 1);
	assert_int_equal(__builtin_popcountll(two), 1);
	/* from now on each calls on its own page; the other's stays put */
	for (i = 0; i < 4; i++) {
		assert_int_equal(invoke_none(e, 1, nested_session[1]),
				 OPTEE_SMC_RETURN_OK);
		assert_int_equal(invoke_none(e, 2, nested_session[2]),
				 OPTEE_SMC_RETURN_OK);
		assert_int_equal(stripe_free(e, 1), one);
		assert_int_equal(stripe_free(e, 2), two);
	}
	assert_int_equal(e->f->shm_pages_live, 2);
	for (id = 1; id <= 2; id++)
		assert_true(fake_destroy_domain(e->med, id) >= 0);
	assert_int_equal(e->f->shm_pages_live, 0);
	env_destroy_checked(e, 0);
}

/* A call whose shadow page cannot be had: OP-TEE's ENOMEM, nothing kept. */
static void no_memory_for_a_shadow_page_is_enomem(void **state)
{
	struct env *e = *state;

	/* the pool is empty while no call was made: it grows from the port */
	assert_int_equal(e->f->shm_pages_live, 0);
	e->f->fail_shm_alloc = true;
	assert_int_equal(invoke_none(e, G1, 1), OPTEE_SMC_RETURN_ENOMEM);
	e->f->fail_shm_alloc = false;
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_NO_MEMORY], 1);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	assert_int_equal(e->f->shm_pages_live, 0);
	/* and the next call gets one */
	assert_int_equal(invoke_none(e, G1, open_session(e, G1)),
			 OPTEE_SMC_RETURN_OK);
}

/* A call suspended in an RPC holds its page; the domain none once done. */
static bool foreign_intr_once(struct fake *f, struct fake_thread *t,
			      uint64_t regs[8])
{
	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	return fake_step_ok(f, t, regs);
}

static void suspended_call_holds_one_shadow_page(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
	uint64_t r[8];

	a->session = s;
	e->f->std_fn = foreign_intr_once;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r),
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	e->f->std_fn = NULL;
	assert_int_equal(stats(e, G1).shadow_pages, 1);
	assert_int_equal(stats(e, G2).shadow_pages, 0);
	r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).shadow_pages, 0);
}

static void limits_take_defaults_and_are_clamped(void **state)
{
	struct tg_limits lim = { .max_calls = 1000,
				 .max_pinned_pages = 8,
				 .max_pages_per_buf = 100 };
	struct env *e = *state;
	uint64_t r[8];

	assert_int_equal(tg_domain_create(e->med, 3, &lim), TG_OK);
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, 3, 0, r);
	/* the TEE's threads less the one kept for others, not 1000 */
	assert_int_equal(r[1], 3);
	assert_true(fake_destroy_domain(e->med, 3) >= 0);
}

/*
 * The reserve holds whatever the order: a domain alone on the machine
 * may hold all but one of the TEE's threads too (one it held before
 * another domain came is never given back by itself).
 */
static void a_lone_domain_holds_all_but_one_thread(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	assert_true(fake_destroy_domain(e->med, G2) >= 0);
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[1], e->f->threads - 1);
	assert_int_equal(tg_domain_create(e->med, G2, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[1], e->f->threads - 1);
}

/* Without the reserve: alone, every thread; with another, all but one. */
static void without_the_reserve_a_lone_domain_may_hold_every_thread(void **s)
{
	struct tg_config cfg = { .no_thread_reserve = true };
	struct env *e = env_new(&cfg, false);
	uint64_t r[8];

	(void)s;
	assert_int_equal(tg_domain_create(e->med, G1, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[1], e->f->threads);
	assert_int_equal(tg_domain_create(e->med, G2, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[1], e->f->threads - 1);
	env_destroy_checked(e, 0);
}

static void destroy_of_unknown_or_repeated_domain(void **state)
{
	struct env *e = *state;

	assert_true(fake_destroy_domain(e->med, G1) >= 0);
	assert_int_equal(e->f->vm_destroyed[G1], 1);
	assert_int_equal(tg_domain_destroy(e->med, G1), TG_ENOENT);
	assert_int_equal(e->f->vm_destroyed[G1], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(probe_reads_uid_revision_threads_and_caps),
		cmocka_unit_test(absent_tee_is_enotee),
		cmocka_unit_test(tee_that_is_not_optee_is_enotee),
		cmocka_unit_test(tee_without_dynamic_shm_is_enotsup),
		cmocka_unit_test(incomplete_port_or_config_is_einval),
		T(domain_id_zero_and_too_large_are_refused),
		T(duplicate_domain_is_refused_without_a_second_vm_created),
		T(vm_created_comes_from_the_hypervisor),
		T(refused_vm_created_is_eproto_and_frees_the_slot),
		cmocka_unit_test(domain_table_limit_is_elimit),
		cmocka_unit_test(slots_are_reused_after_destroy),
		T(mediator_destroy_with_live_domains_is_ebusy),
		T(stats_of_unknown_domain_is_enoent),
		T(stats_count_calls_and_refusals),
		cmocka_unit_test(shadow_pool_lends_beyond_its_cap_and_empties),
		cmocka_unit_test(shadow_pool_stripes_keep_a_page_with_its_domain),
		T(no_memory_for_a_shadow_page_is_enomem),
		T(suspended_call_holds_one_shadow_page),
		T(limits_take_defaults_and_are_clamped),
		T(destroy_of_unknown_or_repeated_domain),
		T(a_lone_domain_holds_all_but_one_thread),
		cmocka_unit_test(
			without_the_reserve_a_lone_domain_may_hold_every_thread),
#undef T
	};

	return cmocka_run_group_tests_name("core_lifecycle", tests, NULL, NULL);
}
