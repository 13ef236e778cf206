// SPDX-License-Identifier: BSD-2-Clause
/*
 * Std-call messages: argument location, parameter types, page lists,
 * registered memory, sessions, copy-back, and TOCTOU.
 */
#include "common.h"

static struct optee_msg_arg *invoke_msg(struct env *e, uint32_t client,
					uint32_t session, uint32_t n)
{
	struct optee_msg_arg *a = fake_msg(e->f, client, ARG_IPA,
					   OPTEE_MSG_CMD_INVOKE_COMMAND, n);

	a->session = session;
	return a;
}

static void expect_param_refused(struct env *e, uint32_t client,
				 enum tg_refusal why)
{
	struct optee_msg_arg *a = fake_guest_ptr(e->f, client, ARG_IPA);
	uint64_t before = stats(e, client).refused[why], smcs = e->f->smc_count;
	uint64_t r[8];

	assert_int_equal(call_arg(e, client, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_COMMS);
	assert_int_equal(stats(e, client).refused[why], before + 1);
	assert_int_equal(e->f->smc_count, smcs); /* never reached the TEE */
}

static void value_params_pass_through_and_outputs_come_back(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a = invoke_msg(e, G1, s, 4);
	uint64_t r[8];

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[0].u.value.a = 5;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	a->params[2].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[2].u.value.a = 40;
	a->params[2].u.value.b = 2;
	a->params[3].attr = OPTEE_MSG_ATTR_TYPE_NONE;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
	assert_int_equal(a->params[0].u.value.a, 5);
	assert_int_equal(a->params[1].u.value.a, 0x1111);
	assert_int_equal(a->params[1].u.value.c, 0x3333);
	assert_int_equal(a->params[2].u.value.a, 42);
	assert_int_equal(stats(e, G1).calls[TG_KIND_STD_CALL], 2);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
}

static void null_tmem_is_allowed(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t r[8];

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	a->params[0].u.tmem.size = 77;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.tmem.size, 77 / 2);
	assert_int_equal(a->params[0].u.tmem.buf_ptr, 0);
}

static void contiguous_tmem_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INPUT;
	a->params[0].u.tmem.buf_ptr = DATA_IPA;
	a->params[0].u.tmem.size = 16;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static uint32_t tmem_call(struct env *e, uint32_t npages, uint32_t offset,
			  uint64_t size)
{
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t r[8];

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, npages, offset);
	a->params[0].u.tmem.size = size;
	a->params[0].u.tmem.shm_ref = 0xabc;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

static void check_pages_marked(struct env *e, uint32_t npages)
{
	uint32_t k;

	for (k = 0; k < npages; k++) {
		uint8_t *p = fake_guest_ptr(e->f, G1, DATA_IPA + k * PAGE);

		assert_int_equal(p[0], 0xAB);
	}
}

static void noncontig_tmem_of_1_page(void **state)
{
	struct env *e = *state;

	assert_int_equal(tmem_call(e, 1, 0, 100), TEEC_SUCCESS);
	check_pages_marked(e, 1);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

static uint64_t seen_shm_ref;

static bool tee_note_shm_ref(struct fake *f, struct fake_thread *t,
			     uint64_t regs[8])
{
	seen_shm_ref = t->arg->params[0].u.tmem.shm_ref;
	return fake_step_ok(f, t, regs);
}

/*
 * OP-TEE up to 4.10.0 keeps the object of a NONCONTIG temporary memref
 * under its shm_ref for ever; named by a cookie the guest chose, it could
 * shadow that guest's registered buffer. The TEE sees 0, a cookie no
 * REGISTER_SHM may use.
 */
static void tmem_cookie_never_reaches_the_tee(void **state)
{
	struct env *e = *state;

	seen_shm_ref = 1;
	e->f->std_fn = tee_note_shm_ref;
	assert_int_equal(tmem_call(e, 2, 0, 2 * PAGE), TEEC_SUCCESS);
	assert_int_equal(seen_shm_ref, 0);
	e->f->std_fn = NULL;
	assert_int_equal(register_shm(e, G1, 0, 0, 1, 0, PAGE),
			 TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).shm_bufs, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

static void noncontig_tmem_of_511_pages(void **state)
{
	struct env *e = *state;

	assert_int_equal(tmem_call(e, 511, 0, 511 * PAGE), TEEC_SUCCESS);
	check_pages_marked(e, 511);
}

static void noncontig_tmem_of_512_pages_spans_two_list_pages(void **state)
{
	struct env *e = *state;

	assert_int_equal(tmem_call(e, 512, 8, 511 * PAGE + 100), TEEC_SUCCESS);
	check_pages_marked(e, 512);
}

static void noncontig_tmem_of_4097_pages(void **state)
{
	struct env *e = *state;

	/* 16 MiB at an offset: 4097 pages, 9 list pages. */
	assert_int_equal(tmem_call(e, 4097, 100, 4096ull * PAGE), TEEC_SUCCESS);
	check_pages_marked(e, 4097);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void tmem_guest_never_sees_machine_addresses(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = fake_guest_ptr(e->f, G1, ARG_IPA);

	assert_int_equal(tmem_call(e, 3, 5, 3 * PAGE - 5), TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.tmem.buf_ptr, LIST_IPA | 5);
	assert_int_equal(a->params[0].u.tmem.shm_ref, 0xabc);
}

static void tmem_size_zero_is_refused(void **state)
{
	struct env *e = *state;

	assert_int_equal(tmem_call(e, 1, 0, 0), TEEC_ERROR_BAD_PARAMETERS);
}

static void tmem_size_that_wraps_is_refused(void **state)
{
	struct env *e = *state;

	assert_int_equal(tmem_call(e, 1, 0xfff, UINT64_MAX - 10),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void tmem_over_page_limit_is_out_of_memory(void **state)
{
	struct env *e = *state;

	assert_int_equal(
		tmem_call(e, 1, 0,
			  (uint64_t)TG_DEFAULT_MAX_PAGES_PER_BUF * PAGE + 1),
		TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_PAGES], 1);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void tmem_list_with_foreign_page_is_refused(void **state)
{
	struct env *e = *state;
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);
	uint32_t ret;

	fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 3, 0);
	(void)list;
	{
		struct optee_msg_arg *a =
			invoke_msg(e, G1, open_session(e, G1), 1);
		uint64_t r[8];

		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INPUT |
				    OPTEE_MSG_ATTR_NONCONTIG;
		a->params[0].u.tmem.buf_ptr =
			fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 3, 0);
		a->params[0].u.tmem.size = 3 * PAGE;
		/* page 2 is outside the guest's RAM */
		list[2] = FAKE_IPA_BASE + (uint64_t)(G1_PAGES + 5) * PAGE;
		assert_int_equal(call_arg(e, G1, ARG_IPA, r),
				 OPTEE_SMC_RETURN_OK);
		ret = a->ret;
	}
	assert_int_equal(ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(fake_pinned_total(e->f), 0);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void tmem_list_with_unaligned_entry_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 2, 0);
	a->params[0].u.tmem.size = 2 * PAGE;
	list[1] += 8;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void tmem_list_in_foreign_memory_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	/* list page far outside the guest */
	a->params[0].u.tmem.buf_ptr = FAKE_IPA_BASE + 0x40000000ull;
	a->params[0].u.tmem.size = PAGE;
	expect_param_refused(e, G1, TG_REFUSE_BAD_ADDR);
}

static void tmem_list_next_pointer_loop_is_bounded(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);
	uint64_t r[8];
	uint32_t k;

	/* One list page pointing at itself describes 2000 pages. */
	for (k = 0; k < 511; k++)
		list[k] = DATA_IPA + (uint64_t)k * PAGE;
	list[511] = LIST_IPA;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = LIST_IPA;
	a->params[0].u.tmem.size = 2000ull * PAGE;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	/* It is just a list that repeats pages: a clean answer either way,
	 * nothing left pinned, the walk stopped after 4 list pages. */
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

static void tmem_next_pointer_into_foreign_memory_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 600, 0);
	a->params[0].u.tmem.size = 600ull * PAGE;
	list[511] = FAKE_IPA_BASE + 0x7000000ull; /* not G1's */
	expect_param_refused(e, G1, TG_REFUSE_BAD_ADDR);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

static void other_guests_page_in_list_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 1, 0);
	a->params[0].u.tmem.size = PAGE;
	/* A machine address of G2 used as if it were an IPA. */
	list[0] = fake_ipa_to_pa(e->f, G2, ARG_IPA);
	expect_param_refused(e, G1, TG_REFUSE_BAD_ADDR);
}

static void rmem_within_registered_buffer(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a;
	uint64_t r[8];

	assert_int_equal(register_shm(e, G1, 0x77, 0, 3, 256, 3 * PAGE - 256),
			 TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).shm_bufs, 1);
	assert_int_equal(stats(e, G1).pinned_pages, 3);
	a = invoke_msg(e, G1, s, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 0x77;
	a->params[0].u.rmem.offs = 10;
	a->params[0].u.rmem.size = 1000;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.rmem.size, 1001);
	assert_int_equal(a->params[0].u.rmem.offs, 10);
	assert_int_equal(unregister_shm(e, G1, 0x77), TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

static void rmem_outside_registered_buffer_is_refused(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a;

	register_shm(e, G1, 0x77, 0, 2, 0, 2 * PAGE);
	a = invoke_msg(e, G1, s, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0x77;
	a->params[0].u.rmem.offs = PAGE;
	a->params[0].u.rmem.size = PAGE + 1;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].u.rmem.offs = UINT64_MAX;
	a->params[0].u.rmem.size = 2;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void rmem_with_forged_cookie_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0xdead;
	a->params[0].u.rmem.size = 1;
	expect_param_refused(e, G1, TG_REFUSE_BAD_COOKIE);
}

static void rmem_with_other_guests_cookie_is_refused(void **state)
{
	struct env *e = *state;
	uint32_t s;
	struct optee_msg_arg *a;

	assert_int_equal(register_shm(e, G2, 0x55, 0, 1, 0, PAGE),
			 TEEC_SUCCESS);
	s = open_session(e, G1);
	a = invoke_msg(e, G1, s, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0x55;
	a->params[0].u.rmem.size = 1;
	expect_param_refused(e, G1, TG_REFUSE_BAD_COOKIE);
}

static void cookie_reused_after_unregister_is_refused(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a;

	register_shm(e, G1, 0x99, 0, 1, 0, PAGE);
	assert_int_equal(unregister_shm(e, G1, 0x99), TEEC_SUCCESS);
	a = invoke_msg(e, G1, s, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0x99;
	a->params[0].u.rmem.size = 1;
	expect_param_refused(e, G1, TG_REFUSE_BAD_COOKIE);
	/* OP-TEE 4.10's answer to a cookie it does not know */
	assert_int_equal(unregister_shm(e, G1, 0x99),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void duplicate_cookie_registration_is_refused(void **state)
{
	struct env *e = *state;

	assert_int_equal(register_shm(e, G1, 0x10, 0, 1, 0, PAGE),
			 TEEC_SUCCESS);
	assert_int_equal(register_shm(e, G1, 0x10, 4, 1, 0, PAGE),
			 TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).shm_bufs, 1);
	assert_int_equal(stats(e, G1).pinned_pages, 1);
}

static void register_with_wrong_attr_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_REGISTER_SHM, 1);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 1, 0);
	a->params[0].u.tmem.size = PAGE;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->num_params = 2;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void register_of_4096_pages_and_buffer_limit(void **state)
{
	struct env *e = *state;

	assert_int_equal(register_shm(e, G1, 1, 0, 4096, 0, 4096ull * PAGE),
			 TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).pinned_pages, 4096);
	assert_int_equal(unregister_shm(e, G1, 1), TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

/*
 * A registered buffer keeps only its PAs and IPAs: its list pages go back
 * once the TEE has taken it. Without memory for the PA array (here every
 * allocation fails from the TEE's answer on) the list stays its record,
 * and the buffer works and unregisters the same.
 */
static void fail_allocations(struct fake *f, uint64_t regs[8])
{
	(void)regs;
	f->fail_alloc = true;
}

static void registered_buffer_gives_its_list_pages_back(void **state)
{
	struct env *e = *state;
	uint64_t pages;

	open_session(e, G1); /* the pool has its page for a call */
	pages = e->f->shm_pages_live;
	assert_int_equal(register_shm(e, G1, 1, 0, 600, 0, 600ull * PAGE),
			 TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).shadow_pages, 0);
	assert_int_equal(e->f->shm_pages_live, pages);
	assert_int_equal(unregister_shm(e, G1, 1), TEEC_SUCCESS);
	assert_int_equal(fake_pinned_total(e->f), 0);

	e->f->during_smc = fail_allocations;
	assert_int_equal(register_shm(e, G1, 2, 0, 600, 0, 600ull * PAGE),
			 TEEC_SUCCESS);
	e->f->during_smc = NULL;
	e->f->fail_alloc = false;
	/* 600 pages: two list pages, kept */
	assert_int_equal(stats(e, G1).shadow_pages, 2);
	assert_int_equal(stats(e, G1).pinned_pages, 600);
	assert_int_equal(unregister_shm(e, G1, 2), TEEC_SUCCESS);
	assert_int_equal(fake_pinned_total(e->f), 0);
	assert_int_equal(stats(e, G1).shadow_pages, 0);
}

static void registered_buffer_limit_gives_out_of_memory(void **state)
{
	struct env *e = *state;
	uint32_t i;

	for (i = 0; i < TG_DEFAULT_MAX_SHM_BUFS; i++)
		assert_int_equal(register_shm(e, G1, 100 + i, i, 1, 0, PAGE),
				 TEEC_SUCCESS);
	assert_int_equal(register_shm(e, G1, 1, 70, 1, 0, PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_BUFS], 1);
	/* the other guest is not affected */
	assert_int_equal(register_shm(e, G2, 1, 0, 1, 0, PAGE), TEEC_SUCCESS);
}

static void unregister_with_wrong_attr_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a;

	register_shm(e, G1, 0x42, 0, 1, 0, PAGE);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT;
	a->params[0].u.rmem.shm_ref = 0x42;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void reserved_attr_bits_are_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | (1ull << 12);
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | (1ull << 63);
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].attr = 4; /* a type that does not exist */
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_RMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_NONE | OPTEE_MSG_ATTR_NONCONTIG;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void cache_attr_bits_are_allowed(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t r[8];

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | (7ull << 16);
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
}

static void meta_outside_open_session_is_refused(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
}

static void open_session_needs_two_meta_params(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_OPEN_SESSION, 2);

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->num_params = 1;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	a->num_params = 3;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[2].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	expect_param_refused(e, G1, TG_REFUSE_BAD_PARAM);
	assert_int_equal(stats(e, G1).sessions, 0);
}

static void unknown_and_protmem_cmds_get_ebadcmd(void **state)
{
	struct env *e = *state;
	uint64_t r[8];
	uint32_t cmd;

	for (cmd = OPTEE_MSG_CMD_FIRST_PROTMEM; cmd <= 20; cmd++) {
		fake_msg(e->f, G1, ARG_IPA, cmd, 0);
		assert_int_equal(call_arg(e, G1, ARG_IPA, r),
				 OPTEE_SMC_RETURN_EBADCMD);
	}
	fake_msg(e->f, G1, ARG_IPA, 0xFFFFFFFFu, 0);
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_EBADCMD);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_BAD_CMD], 14);
}

static void too_many_params_is_ebadaddr(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
	uint64_t r[8];

	a->num_params = 128;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r),
			 OPTEE_SMC_RETURN_EBADADDR);
	a->num_params = 0xFFFFFFFFu;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r),
			 OPTEE_SMC_RETURN_EBADADDR);
}

static void max_params_fits_one_page(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 127);
	uint64_t r[8];
	uint32_t i;

	for (i = 0; i < 127; i++) {
		a->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[i].u.value.a = i;
		a->params[i].u.value.b = 1;
	}
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	for (i = 0; i < 127; i++)
		assert_int_equal(a->params[i].u.value.a, i + 1);
}

static void unaligned_or_foreign_arg_is_ebadaddr(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_CANCEL, 0);
	assert_int_equal(call_arg(e, G1, ARG_IPA + 8, r),
			 OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(call_arg(e, G1, 0x1000, r), OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(call_arg(e, G1, fake_ipa_to_pa(e->f, G2, ARG_IPA), r),
			 OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(call_arg(e, G1, ~0ull & ~0xFFFull, r),
			 OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_BAD_ADDR], 4);
}

static void arg_at_end_of_guest_ram_with_params_beyond_is_ebadaddr(void **s)
{
	struct env *e = *s;
	uint64_t last = FAKE_IPA_BASE + (uint64_t)(G2_PAGES - 1) * PAGE;
	struct optee_msg_arg *a = fake_guest_ptr(e->f, G2, last);
	uint64_t r[8];

	memset(a, 0, 32);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->num_params = 127; /* fits the page exactly */
	/* But with RPC_ARG the RPC argument would cross the page. */
	set_regs(r, OPTEE_SMC_CALL_WITH_RPC_ARG, 0, last & 0xFFFFFFFF, 0);
	r[1] = last >> 32;
	tg_handle_smc(e->med, G2, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
}

static void session_of_another_guest_is_refused(void **state)
{
	struct env *e = *state;
	uint32_t s2 = open_session(e, G2);
	struct optee_msg_arg *a = invoke_msg(e, G1, s2, 0);
	uint64_t r[8];

	expect_param_refused(e, G1, TG_REFUSE_BAD_SESSION);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	a->session = s2;
	expect_param_refused(e, G1, TG_REFUSE_BAD_SESSION);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_CANCEL, 0);
	a->session = s2;
	expect_param_refused(e, G1, TG_REFUSE_BAD_SESSION);
	a->session = 0;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(stats(e, G2).sessions, 1);
}

static void close_session_forgets_it(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	struct optee_msg_arg *a;
	uint64_t r[8];

	assert_int_equal(stats(e, G1).sessions, 1);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	a->session = s;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).sessions, 0);
	a = invoke_msg(e, G1, s, 0);
	expect_param_refused(e, G1, TG_REFUSE_BAD_SESSION);
}

static void session_limit_gives_out_of_memory(void **state)
{
	struct tg_limits lim = { .max_sessions = 2 };
	struct env *e = *state;
	struct optee_msg_arg *a;
	uint64_t r[8];

	assert_int_equal(fake_destroy_domain(e->med, G1) >= 0, 1);
	assert_int_equal(tg_domain_create(e->med, G1, &lim), TG_OK);
	open_session(e, G1);
	open_session(e, G1);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_OPEN_SESSION, 2);
	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_SESSIONS], 1);
}

static void pinned_page_limit_gives_out_of_memory(void **state)
{
	struct tg_limits lim = { .max_pinned_pages = 10 };
	struct env *e = *state;

	assert_int_equal(fake_destroy_domain(e->med, G1) >= 0, 1);
	assert_int_equal(tg_domain_create(e->med, G1, &lim), TG_OK);
	assert_int_equal(register_shm(e, G1, 1, 0, 8, 0, 8 * PAGE),
			 TEEC_SUCCESS);
	assert_int_equal(register_shm(e, G1, 2, 8, 3, 0, 3 * PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(stats(e, G1).pinned_pages, 8);
	assert_int_equal(tmem_call(e, 3, 0, 3 * PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(tmem_call(e, 2, 0, 2 * PAGE), TEEC_SUCCESS);
}

/* TOCTOU: the guest rewrites its memory while the TEE runs. */
static void scribble(struct fake *f, uint64_t regs[8])
{
	struct optee_msg_arg *a = fake_guest_ptr(f, G1, ARG_IPA);
	uint64_t *list = fake_guest_ptr(f, G1, LIST_IPA);

	(void)regs;
	a->num_params = 127;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT; /* contiguous! */
	a->params[0].u.tmem.buf_ptr = fake_ipa_to_pa(f, G2, ARG_IPA);
	a->session = 0xdead;
	list[0] = fake_ipa_to_pa(f, G2, ARG_IPA);
}

static void guest_rewriting_arg_during_call_changes_nothing(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t r[8];

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 2, 0);
	a->params[0].u.tmem.size = 2 * PAGE;
	e->f->during_smc = scribble;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	e->f->during_smc = NULL;
	/* The TEE worked on the shadow: both real pages were written, no
	 * foreign page was touched (teardown checks violations). */
	check_pages_marked(e, 2);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	/* Only output fields came back: the scribbled attr stays. */
	assert_int_equal(a->params[0].attr, OPTEE_MSG_ATTR_TYPE_TMEM_INOUT);
	assert_int_equal(a->params[0].u.tmem.size, PAGE);
}

static void regd_arg_call_works_and_is_shadowed(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);
	/* the message lives in the registered buffer, page 1, offset 256 */
	struct optee_msg_arg *a;
	uint64_t r[8];

	assert_int_equal(register_shm(e, G1, 0x500, 0, 2, 0, 2 * PAGE),
			 TEEC_SUCCESS);
	a = fake_guest_ptr(e->f, G1, DATA_IPA + PAGE + 256);
	memset(a, 0, 64);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = s;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 1;
	a->params[0].u.value.b = 2;
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x500, PAGE + 256);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 3);
	/* the TEE got a CALL_WITH_RPC_ARG on a shadow, not the cookie */
	assert_int_equal(e->f->smc_log[(e->f->smc_count - 1) % 64],
			 OPTEE_SMC_CALL_WITH_RPC_ARG);
}

/*
 * A completion copies back the outputs of this call only. Here G1's call
 * slot last noted six outputs, G2's call then left its own values in the
 * shadow page the pool hands out next, and G1 makes a REGD_ARG call of one
 * VALUE_INPUT: nothing past its message may change.
 */
static void completion_copies_back_only_this_calls_outputs(void **state)
{
	struct env *e = *state;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2), i;
	struct optee_msg_arg *a;
	uint8_t *buf;
	uint64_t r[8];

	assert_int_equal(register_shm(e, G1, 0x600, 0, 1, 0, PAGE),
			 TEEC_SUCCESS);
	a = invoke_msg(e, G1, s1, 6);
	for (i = 0; i < 6; i++)
		a->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(call_arg(e, G1, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	a = invoke_msg(e, G2, s2, 6);
	for (i = 0; i < 6; i++) {
		a->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[i].u.value.a = 0x5ec7e7;
		a->params[i].u.value.b = 0x5ec7e7;
		a->params[i].u.value.c = 0x5ec7e7;
	}
	assert_int_equal(call_arg(e, G2, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	buf = fake_guest_ptr(e->f, G1, DATA_IPA);
	memset(buf, 0xa5, PAGE);
	a = (struct optee_msg_arg *)buf;
	memset(a, 0, OPTEE_MSG_GET_ARG_SIZE(1));
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = s1;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x600, 0);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	for (i = OPTEE_MSG_GET_ARG_SIZE(1); i < PAGE; i++)
		assert_int_equal(buf[i], 0xa5);
	assert_int_equal(unregister_shm(e, G1, 0x600), TEEC_SUCCESS);
}

static void regd_arg_with_bad_cookie_or_offset_is_ebadaddr(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	register_shm(e, G1, 0x500, 0, 1, 0, PAGE);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x501, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x500, 4);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x500, PAGE);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	/* message + RPC argument would run past the buffer */
	memset(fake_guest_ptr(e->f, G1, DATA_IPA + PAGE - 64), 0, 32);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x500, PAGE - 64);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(unregister_shm(e, G1, 0x500), TEEC_SUCCESS);
}

/* An INVOKE of @n VALUE_INPUTs at @off in the registered buffer page. */
static void regd_msg_at(struct env *e, uint32_t session, uint32_t off,
			uint32_t n)
{
	struct optee_msg_arg *a = fake_guest_ptr(e->f, G1, DATA_IPA + off);
	uint32_t i;

	memset(a, 0, OPTEE_MSG_GET_ARG_SIZE(n));
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->num_params = n;
	for (i = 0; i < n; i++)
		a->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
}

/*
 * The bound of a CALL_WITH_REGD_ARG is the buffer, not its page: a buffer
 * of 256 bytes whose page is pinned whole. The message (and the RPC
 * argument after it, 160 bytes with the fake's 4 RPC params) must lie
 * within the 256 bytes; the rest of the page was never given to the TEE.
 */
static void regd_arg_past_the_buffers_end_is_ebadaddr(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1), smcs;
	uint64_t r[8];

	assert_int_equal(register_shm(e, G1, 0x510, 0, 1, 0, 256),
			 TEEC_SUCCESS);
	/* control: message and RPC argument within the 256 bytes */
	regd_msg_at(e, s, 0, 0);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x510, 0);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);

	smcs = e->f->smc_count;
	/* the message starts past the end of the buffer, in its page */
	regd_msg_at(e, s, 512, 0);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x510, 512);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	/* the message ends at the buffer's end, its RPC argument past it */
	regd_msg_at(e, s, 128, 3);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x510, 128);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(e->f->smc_count, smcs); /* the TEE saw neither */
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	assert_int_equal(unregister_shm(e, G1, 0x510), TEEC_SUCCESS);
}

static void rpc_arg_call_works(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, open_session(e, G1), 1);
	uint64_t r[8];

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	set_regs(r, OPTEE_SMC_CALL_WITH_RPC_ARG, 0, ARG_IPA & 0xFFFFFFFF, 0);
	r[1] = ARG_IPA >> 32;
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->params[0].u.value.b, 0x2222);
}

static void port_allocation_failure_is_a_clean_error(void **state)
{
	struct env *e = *state;
	uint32_t s = open_session(e, G1);

	(void)s;
	e->f->fail_shm_alloc = true;
	assert_int_equal(tmem_call(e, 2, 0, 2 * PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(register_shm(e, G1, 3, 0, 1, 0, PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	e->f->fail_shm_alloc = false;
	e->f->fail_alloc = true;
	assert_int_equal(register_shm(e, G1, 3, 0, 1, 0, PAGE),
			 TEEC_ERROR_OUT_OF_MEMORY);
	e->f->fail_alloc = false;
	assert_int_equal(stats(e, G1).pinned_pages, 0);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_NO_MEMORY], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(value_params_pass_through_and_outputs_come_back),
		T(null_tmem_is_allowed),
		T(contiguous_tmem_is_refused),
		T(noncontig_tmem_of_1_page),
		T(tmem_cookie_never_reaches_the_tee),
		T(noncontig_tmem_of_511_pages),
		T(noncontig_tmem_of_512_pages_spans_two_list_pages),
		T(noncontig_tmem_of_4097_pages),
		T(tmem_guest_never_sees_machine_addresses),
		T(tmem_size_zero_is_refused),
		T(tmem_size_that_wraps_is_refused),
		T(tmem_over_page_limit_is_out_of_memory),
		T(tmem_list_with_foreign_page_is_refused),
		T(tmem_list_with_unaligned_entry_is_refused),
		T(tmem_list_in_foreign_memory_is_refused),
		T(tmem_list_next_pointer_loop_is_bounded),
		T(tmem_next_pointer_into_foreign_memory_is_refused),
		T(other_guests_page_in_list_is_refused),
		T(rmem_within_registered_buffer),
		T(rmem_outside_registered_buffer_is_refused),
		T(rmem_with_forged_cookie_is_refused),
		T(rmem_with_other_guests_cookie_is_refused),
		T(cookie_reused_after_unregister_is_refused),
		T(duplicate_cookie_registration_is_refused),
		T(register_with_wrong_attr_is_refused),
		T(register_of_4096_pages_and_buffer_limit),
		T(registered_buffer_gives_its_list_pages_back),
		T(registered_buffer_limit_gives_out_of_memory),
		T(unregister_with_wrong_attr_is_refused),
		T(reserved_attr_bits_are_refused),
		T(cache_attr_bits_are_allowed),
		T(meta_outside_open_session_is_refused),
		T(open_session_needs_two_meta_params),
		T(unknown_and_protmem_cmds_get_ebadcmd),
		T(too_many_params_is_ebadaddr),
		T(max_params_fits_one_page),
		T(unaligned_or_foreign_arg_is_ebadaddr),
		T(arg_at_end_of_guest_ram_with_params_beyond_is_ebadaddr),
		T(session_of_another_guest_is_refused),
		T(close_session_forgets_it),
		T(session_limit_gives_out_of_memory),
		T(pinned_page_limit_gives_out_of_memory),
		T(guest_rewriting_arg_during_call_changes_nothing),
		T(regd_arg_call_works_and_is_shadowed),
		T(regd_arg_with_bad_cookie_or_offset_is_ebadaddr),
		T(regd_arg_past_the_buffers_end_is_ebadaddr),
		T(completion_copies_back_only_this_calls_outputs),
		T(rpc_arg_call_works),
		T(port_allocation_failure_is_a_clean_error),
#undef T
	};

	return cmocka_run_group_tests_name("core_msg", tests, NULL, NULL);
}
