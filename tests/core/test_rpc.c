// SPDX-License-Identifier: BSD-2-Clause
/*
 * The RPC state machine: ALLOC / FREE / FOREIGN_INTR / CMD, supplied RPC
 * arguments, SHM_ALLOC translation, hostile answers, thread-id attacks,
 * limits, and destruction with calls in flight.
 */
#include "common.h"

/* ---- scripted TEE behaviours -------------------------------------------- */

/* Like OP-TEE's stats GET_TIME on a thread without an RPC buffer. */
static bool tee_get_time_via_alloc(struct fake *f, struct fake_thread *t,
				   uint64_t regs[8])
{
	struct optee_msg_arg *rpc;

	switch (t->step) {
	case 0:
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_ALLOC, 160, 0);
		return false;
	case 1:
		rpc = fake_tee_ptr(f, t->client, t->alloc_pa);
		if (!rpc) {
			t->arg->ret = TEEC_ERROR_OUT_OF_MEMORY;
			fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FREE,
				 t->alloc_cookie >> 32,
				 t->alloc_cookie & 0xFFFFFFFF);
			t->step = 9; /* then done */
			return false;
		}
		t->scratch[0] = t->alloc_pa;
		t->scratch[1] = t->alloc_cookie;
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_GET_TIME;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		rpc->ret = TEEC_ERROR_GENERIC;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, t->scratch[1] >> 32,
			 t->scratch[1] & 0xFFFFFFFF);
		return false;
	case 2:
		rpc = fake_tee_ptr(f, t->client, t->scratch[0]);
		t->arg->params[0].u.value.a = rpc->params[0].u.value.a;
		t->arg->params[0].u.value.b = rpc->params[0].u.value.b;
		t->arg->ret = rpc->ret;
		t->arg->ret_origin = TEEC_ORIGIN_TEE;
		t->scratch[2] = rpc->cmd; /* must still be ours */
		t->arg->params[0].u.value.c = rpc->num_params;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FREE, t->scratch[1] >> 32,
			 t->scratch[1] & 0xFFFFFFFF);
		return false;
	default:
		regs[0] = OPTEE_SMC_RETURN_OK;
		return true;
	}
}

static bool tee_foreign_intr_once(struct fake *f, struct fake_thread *t,
				  uint64_t regs[8])
{
	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	return fake_step_ok(f, t, regs);
}

/* GET_TIME through the RPC argument supplied with CALL_WITH_RPC_ARG. */
static bool tee_get_time_supplied(struct fake *f, struct fake_thread *t,
				  uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;

	(void)f;
	if (t->step == 0) {
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_GET_TIME;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	}
	t->arg->params[0].u.value = rpc->params[0].u.value;
	t->arg->ret = rpc->ret;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/* SHM_ALLOC 3 pages, use them, SHM_FREE them. */
static bool tee_shm_alloc_cycle(struct fake *f, struct fake_thread *t,
				uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;
	struct optee_msg_param *p = &rpc->params[0];
	uint64_t *list;
	uint8_t *data;

	switch (t->step) {
	case 0:
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_SHM_ALLOC;
		rpc->num_params = 1;
		p->attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		p->u.value.a = OPTEE_RPC_SHM_TYPE_APPL;
		p->u.value.b = 3 * 4096 - 100;
		p->u.value.c = 8;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	case 1:
		t->arg->ret = rpc->ret;
		if (rpc->ret != TEEC_SUCCESS) {
			regs[0] = OPTEE_SMC_RETURN_OK;
			return true;
		}
		/* The TEE gets a NONCONTIG list of pinned machine pages. */
		list = fake_tee_ptr(f, t->client,
				    p->u.tmem.buf_ptr & ~0xFFFull);
		data = list ? fake_tee_ptr(f, t->client, list[2]) : NULL;
		if (!data) {
			t->arg->ret = TEEC_ERROR_SECURITY;
		} else {
			data[0] = 0xCD;
			t->arg->params[0].u.value.a = p->u.tmem.shm_ref;
			t->arg->params[0].u.value.b = fake_pinned_total(f);
		}
		t->scratch[0] = p->u.tmem.shm_ref;
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_SHM_FREE;
		rpc->num_params = 1;
		p->attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		p->u.value.a = OPTEE_RPC_SHM_TYPE_APPL;
		p->u.value.b = t->scratch[0];
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	default:
		regs[0] = OPTEE_SMC_RETURN_OK;
		return true;
	}
}

/* An RPC CMD naming a machine address: never shown to a guest. */
static bool tee_cmd_with_tmem_pa(struct fake *f, struct fake_thread *t,
				 uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;

	(void)f;
	if (t->step == 0) {
		memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		rpc->cmd = OPTEE_RPC_CMD_FS;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INPUT;
		rpc->params[0].u.tmem.buf_ptr = 0x40001000;
		rpc->params[0].u.tmem.size = 16;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
		return false;
	}
	t->arg->ret = rpc->ret;
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

/* ---- the guest side --------------------------------------------------------- */

struct gdrv {
	uint64_t alloc_ipa; /* answer to ALLOC (0 = fail) */
	uint64_t alloc_cookie;
	uint64_t rpc_ipa; /* supplied RPC arg, 0 = use the ALLOC page */
	uint32_t allocs, frees, foreign, cmds;
	uint32_t last_cmd;
	uint64_t last_free_cookie;
	void (*on_cmd)(struct env *e, struct gdrv *g,
		       struct optee_msg_arg *rpc);
	uint32_t client;
	uint64_t shm_list_ipa; /* SHM_ALLOC answer */
	uint32_t shm_attr_override;
	uint64_t shm_size_short; /* answer this much less than asked */
};

static void answer_cmd(struct env *e, struct gdrv *g, struct optee_msg_arg *rpc)
{
	(void)e;
	g->last_cmd = rpc->cmd;
	switch (rpc->cmd) {
	case OPTEE_RPC_CMD_GET_TIME:
		rpc->params[0].u.value.a = 1234;
		rpc->params[0].u.value.b = 5678;
		rpc->ret = TEEC_SUCCESS;
		/* Hostile extras the mediator must ignore. */
		rpc->cmd = OPTEE_RPC_CMD_SHM_ALLOC;
		rpc->num_params = 100;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT;
		break;
	case OPTEE_RPC_CMD_SHM_ALLOC: {
		uint64_t size = rpc->params[0].u.value.b;

		rpc->params[0].attr =
			g->shm_attr_override ? g->shm_attr_override
					     : OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
						       OPTEE_MSG_ATTR_NONCONTIG;
		rpc->params[0].u.tmem.buf_ptr =
			g->shm_list_ipa
				? g->shm_list_ipa
				: fake_pagelist(e->f, g->client, LIST_IPA,
						DATA_IPA, 3, 0);
		rpc->params[0].u.tmem.size = size - g->shm_size_short;
		rpc->params[0].u.tmem.shm_ref = 0x5555;
		rpc->ret = TEEC_SUCCESS;
		break;
	}
	default:
		rpc->ret = TEEC_SUCCESS;
		break;
	}
}

static uint32_t guest_loop(struct env *e, uint32_t client, uint64_t r[8],
			   struct gdrv *g, int max_rpcs)
{
	g->client = client;
	while (OPTEE_SMC_RETURN_IS_RPC(r[0]) && max_rpcs-- != 0) {
		uint32_t func = OPTEE_SMC_RPC_FUNC(r[0]);
		uint64_t tid = r[3], a1 = r[1], a2 = r[2], a4 = 0, a5 = 0;
		struct optee_msg_arg *rpc;

		assert_int_equal(r[7], 0);
		switch (func) {
		case OPTEE_SMC_RPC_FUNC_ALLOC:
			g->allocs++;
			assert_int_equal(r[1], 160);
			a1 = g->alloc_ipa >> 32;
			a2 = g->alloc_ipa & 0xFFFFFFFF;
			a4 = g->alloc_cookie >> 32;
			a5 = g->alloc_cookie & 0xFFFFFFFF;
			break;
		case OPTEE_SMC_RPC_FUNC_FREE:
			g->frees++;
			g->last_free_cookie = (r[1] << 32) | r[2];
			break;
		case OPTEE_SMC_RPC_FUNC_FOREIGN_INTR:
			g->foreign++;
			break;
		case OPTEE_SMC_RPC_FUNC_CMD:
			g->cmds++;
			rpc = fake_guest_ptr(e->f, client,
					     g->rpc_ipa ? g->rpc_ipa
							: g->alloc_ipa);
			(g->on_cmd ? g->on_cmd : answer_cmd)(e, g, rpc);
			break;
		default:
			fail();
		}
		set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, a1, a2, tid);
		r[4] = a4;
		r[5] = a5;
		assert_true(tg_handle_smc(e->med, client, 0, r));
	}
	return (uint32_t)r[0];
}

static struct optee_msg_arg *invoke_msg(struct env *e, uint32_t client,
					uint32_t n)
{
	uint32_t s = open_session(e, client);
	struct optee_msg_arg *a = fake_msg(e->f, client, ARG_IPA,
					   OPTEE_MSG_CMD_INVOKE_COMMAND, n);

	a->session = s;
	if (n)
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	return a;
}

static void rpc_call(struct env *e, uint32_t client, uint64_t fid,
		     uint64_t r[8])
{
	set_regs(r, fid, ARG_IPA >> 32, ARG_IPA & 0xFFFFFFFF, 0);
	assert_true(tg_handle_smc(e->med, client, 0, r));
}

/* ---- tests ------------------------------------------------------------------ */

static void alloc_cmd_free_sequence_is_translated_and_shadowed(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .alloc_ipa = RPC_IPA, .alloc_cookie = 0xC0FFEE };
	uint64_t r[8];

	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(g.allocs, 1);
	assert_int_equal(g.cmds, 1);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.last_cmd, OPTEE_RPC_CMD_GET_TIME);
	assert_int_equal(g.last_free_cookie, 0xC0FFEE);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 1234);
	assert_int_equal(a->params[0].u.value.b, 5678);
	/* The guest's rewrite of cmd/num_params never reached the TEE. */
	assert_int_equal(a->params[0].u.value.c, 1);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
	assert_int_equal(stats(e, G1).calls[TG_KIND_RPC_TO_GUEST], 3);
	assert_int_equal(stats(e, G1).calls[TG_KIND_RPC_RETURN], 3);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void alloc_answered_with_foreign_page_fails_cleanly(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .alloc_ipa =
				  fake_ipa_to_pa(e->f, G2, ARG_IPA) & ~0xFFFull,
			  .alloc_cookie = 9 };
	uint64_t r[8];

	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	/* The TEE saw "allocation failed" and freed the cookie. */
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.last_free_cookie, 9);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_BAD_RPC_ANSWER], 1);
}

static void alloc_answered_unaligned_or_zero_fails_cleanly(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .alloc_ipa = RPC_IPA + 8, .alloc_cookie = 1 };
	uint64_t r[8];

	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	g.alloc_ipa = 0;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
}

static void rpc_buffer_limit_fails_alloc_without_asking_guest(void **s)
{
	struct tg_limits lim = { .max_rpc_bufs = 1, .max_calls = 4 };
	struct env *e = *s;
	struct gdrv g = { .alloc_ipa = RPC_IPA, .alloc_cookie = 1 };
	uint64_t r[8], r2[8];

	assert_int_equal(fake_destroy_domain(e->med, G1) >= 0, 1);
	assert_int_equal(tg_domain_create(e->med, G1, &lim), TG_OK);
	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	/* answer the ALLOC only: the call now holds one RPC buffer */
	assert_int_equal(guest_loop(e, G1, r, &g, 1), OPTEE_SMC_RETURN_RPC_CMD);
	fake_msg(e->f, G1, ARG2_IPA, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	memcpy(fake_guest_ptr(e->f, G1, ARG2_IPA),
	       fake_guest_ptr(e->f, G1, ARG_IPA), 64);
	set_regs(r2, OPTEE_SMC_CALL_WITH_ARG, ARG2_IPA >> 32,
		 ARG2_IPA & 0xFFFFFFFF, 0);
	tg_handle_smc(e->med, G1, 0, r2);
	/* second call: ALLOC failed by the mediator, TEE FREEs, call ends */
	g.alloc_cookie = 2;
	assert_int_equal(guest_loop(e, G1, r2, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_RPC_BUFS], 1);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
}

static void foreign_intr_returns_to_guest_and_resumes(void **state)
{
	struct env *e = *state;
	struct gdrv g = { 0 };
	uint64_t r[8];

	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(stats(e, G1).calls_suspended, 1);
	assert_int_equal(stats(e, G1).calls_in_flight, 1);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(g.foreign, 1);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
}

/* FOREIGN_INTR, then (resumed from the guest's registers) a GET_TIME. */
static bool tee_foreign_intr_then_get_time(struct fake *f,
					   struct fake_thread *t,
					   uint64_t regs[8])
{
	bool done;

	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	t->step--; /* its own steps, one later */
	done = tee_get_time_supplied(f, t, regs);
	t->step++;
	return done;
}

/*
 * The RPC after a FOREIGN_INTR's resume is followed on a copy of the
 * registers (rpc_return() resumes from the guest's own): the CMD reaches
 * the guest and its answer the TEE.
 */
static void foreign_intr_then_cmd_reaches_the_guest(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1) };
	uint64_t r[8];

	e->f->std_fn = tee_foreign_intr_then_get_time;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(g.foreign, 1);
	assert_int_equal(g.last_cmd, OPTEE_RPC_CMD_GET_TIME);
	assert_int_equal(a->params[0].u.value.a, 1234);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
}

static void supplied_rpc_arg_is_shadowed(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1) };
	uint64_t r[8];

	e->f->std_fn = tee_get_time_supplied;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_CMD);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(g.last_cmd, OPTEE_RPC_CMD_GET_TIME);
	assert_int_equal(a->params[0].u.value.a, 1234);
}

static void shm_alloc_answer_is_pinned_and_freed(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1) };
	uint64_t r[8];

	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 0x5555);
	/* while the TEE used them, the three pages were pinned */
	assert_int_equal(a->params[0].u.value.b, 3);
	assert_int_equal(
		*(uint8_t *)fake_guest_ptr(e->f, G1, DATA_IPA + 2 * PAGE),
		0xCD);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
	assert_int_equal(g.last_cmd, OPTEE_RPC_CMD_SHM_FREE);
}

static void shm_alloc_answered_with_foreign_list_fails(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1) };
	uint64_t r[8];
	uint64_t *list;

	fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 3, 0);
	list = fake_guest_ptr(e->f, G1, LIST_IPA);
	list[1] = fake_ipa_to_pa(e->f, G2, ARG_IPA);
	g.shm_list_ipa = LIST_IPA;
	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void shm_alloc_answered_with_looping_list_stays_bounded(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1) };
	uint64_t *list = fake_guest_ptr(e->f, G1, LIST_IPA);
	uint64_t r[8];

	fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, 3, 0);
	list[511] = LIST_IPA; /* loops, but only 3 pages are described */
	g.shm_list_ipa = LIST_IPA;
	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
}

static void shm_alloc_answered_with_wrong_attr_fails(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1),
			  .shm_attr_override =
				  OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT };
	uint64_t r[8];

	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

/*
 * A contiguous SHM_ALLOC answer is one pinned page: the TEE takes its
 * machine address with the size the guest gave, so a size over a page
 * would reach the machine pages after it (another guest's). Here the TEE
 * asks for 3 pages - 100 bytes and the guest answers a contiguous buffer.
 */
static void shm_alloc_answered_contiguous_over_a_page_fails(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1),
			  .shm_list_ipa = DATA_IPA,
			  .shm_attr_override =
				  OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT };
	uint64_t r[8];

	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
}

/* An SHM_ALLOC answered with less than the TEE asked for: refused (the
 * TEE would use the size it asked for, past the pages pinned). */
static void shm_alloc_answered_short_fails(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv g = { .rpc_ipa = ARG_IPA + OPTEE_MSG_GET_ARG_SIZE(1),
			  .shm_size_short = 1 };
	uint64_t r[8];

	e->f->std_fn = tee_shm_alloc_cycle;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).pinned_pages, 0);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
}

static void rpc_cmd_with_machine_address_is_not_shown_to_guest(void **s)
{
	struct env *e = *s;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	uint64_t r[8];

	e->f->std_fn = tee_cmd_with_tmem_pa;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_RPC_ARG, r);
	/* answered by the mediator: the guest never saw an RPC */
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(stats(e, G1).calls[TG_KIND_RPC_TO_GUEST], 0);
}

static void return_from_rpc_with_other_guests_thread_is_eresume(void **s)
{
	struct env *e = *s;
	struct gdrv g = { 0 };
	uint64_t r[8], r2[8];

	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	set_regs(r2, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	tg_handle_smc(e->med, G2, 0, r2);
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_ERESUME);
	assert_int_equal(stats(e, G2).refused[TG_REFUSE_BAD_THREAD], 1);
	/* G1's call is unaffected */
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
}

static void return_from_rpc_for_thread_not_waiting_is_eresume(void **s)
{
	struct env *e = *s;
	uint64_t r[8];
	uint32_t tid;

	for (tid = 0; tid < 8; tid++) {
		set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, tid);
		tg_handle_smc(e->med, G1, 0, r);
		assert_int_equal(r[0], OPTEE_SMC_RETURN_ERESUME);
	}
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 0xFFFFFFFFFFull);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ERESUME);
}

static void double_resume_is_refused(void **s)
{
	struct env *e = *s;
	uint64_t r[8], again[8];

	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	set_regs(again, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	tg_handle_smc(e->med, G1, 0, again);
	assert_int_equal(again[0], OPTEE_SMC_RETURN_ERESUME);
}

static bool tee_foreign_intr_twice(struct fake *f, struct fake_thread *t,
				   uint64_t regs[8])
{
	if (t->step < 2) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	return fake_step_ok(f, t, regs);
}

/*
 * A resume handle names one suspension: the handle of the call's first
 * RPC does not resume it in its second (same slot, older generation).
 */
static void stale_resume_handle_of_the_same_call_is_eresume(void **s)
{
	struct env *e = *s;
	uint64_t r[8], stale[8];
	uint32_t first;

	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_twice;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	first = (uint32_t)r[3];
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, first);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_not_equal((uint32_t)r[3], first);
	/* same slot, an older generation */
	assert_int_equal((uint32_t)r[3] & 0xFF, first & 0xFF);
	set_regs(stale, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, first);
	tg_handle_smc(e->med, G1, 0, stale);
	assert_int_equal(stale[0], OPTEE_SMC_RETURN_ERESUME);
	assert_int_equal(stats(e, G1).calls_suspended, 1);
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
}

static void unregister_while_call_uses_buffer_is_busy(void **s)
{
	struct env *e = *s;
	struct optee_msg_arg *a;
	struct gdrv g = { 0 };
	uint64_t r[8];

	assert_int_equal(register_shm(e, G1, 0x42, 0, 1, 0, PAGE),
			 TEEC_SUCCESS);
	a = invoke_msg(e, G1, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0x42;
	a->params[0].u.rmem.size = 8;
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	e->f->std_fn = NULL;
	{
		struct optee_msg_arg *u = fake_msg(
			e->f, G1, ARG2_IPA, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		uint64_t r2[8];

		u->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		u->params[0].u.rmem.shm_ref = 0x42;
		assert_int_equal(call_arg(e, G1, ARG2_IPA, r2),
				 OPTEE_SMC_RETURN_OK);
		assert_int_equal(u->ret, TEEC_ERROR_BUSY);
	}
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(unregister_shm(e, G1, 0x42), TEEC_SUCCESS);
}

static void call_limit_gives_ethread_limit_without_smc(void **s)
{
	struct tg_limits lim = { .max_calls = 1 };
	struct env *e = *s;
	struct gdrv g = { 0 };
	uint64_t r[8], r2[8], smcs;

	assert_int_equal(fake_destroy_domain(e->med, G1) >= 0, 1);
	assert_int_equal(tg_domain_create(e->med, G1, &lim), TG_OK);
	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	smcs = e->f->smc_count;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r2);
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(e->f->smc_count, smcs);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_LIMIT_CALLS], 1);
	/* G2 still gets through */
	e->f->std_fn = NULL;
	open_session(e, G2);
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
}

static void tee_thread_limit_passes_through_and_frees_the_slot(void **s)
{
	struct env *e = *s;
	uint64_t r[8];
	uint32_t i;

	invoke_msg(e, G1, 1);
	for (i = 0; i < e->f->threads; i++)
		e->f->thr[i].busy = true; /* other guests hold them all */
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	for (i = 0; i < e->f->threads; i++)
		e->f->thr[i].busy = false;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
}

/* ---- destruction with calls in flight ------------------------------------ */

static void destroy_drives_suspended_calls_and_ends_with_vm_destroyed(void **s)
{
	struct env *e = *s;
	struct gdrv g = { .alloc_ipa = RPC_IPA, .alloc_cookie = 0x77 };
	uint64_t r[8];
	int steps;
	uint32_t i;

	/* a registered buffer, two sessions, and calls stuck in RPCs */
	assert_int_equal(register_shm(e, G1, 0x42, 0, 700, 0, 700 * PAGE),
			 TEEC_SUCCESS);
	invoke_msg(e, G1, 1);
	open_session(e, G1);
	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	assert_int_equal(guest_loop(e, G1, r, &g, 1), OPTEE_SMC_RETURN_RPC_CMD);
	e->f->std_fn = tee_foreign_intr_once;
	fake_msg(e->f, G1, ARG2_IPA, OPTEE_MSG_CMD_CANCEL, 0);
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ARG2_IPA >> 32,
		 ARG2_IPA & 0xFFFFFFFF, 0);
	tg_handle_smc(e->med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	e->f->std_fn = NULL;
	assert_int_equal(stats(e, G1).calls_suspended, 2);
	assert_true(stats(e, G1).pinned_pages > 700);

	steps = fake_destroy_domain(e->med, G1);
	assert_true(steps > 5);
	for (i = 0; i < e->f->threads; i++)
		assert_false(e->f->thr[i].busy && e->f->thr[i].client == G1);
	assert_int_equal(e->f->vm_destroyed[G1], 1);
	assert_int_equal(e->f->smc_log[(e->f->smc_count - 1) % 64],
			 OPTEE_SMC_VM_DESTROYED);
	/* G2 still works */
	open_session(e, G2);
	/* and G1's pages are all unpinned */
	for (i = 0; i < G1_PAGES; i++)
		assert_int_equal(
			e->f->pins[(fake_ipa_to_pa(e->f, G1,
						   FAKE_IPA_BASE +
							   (uint64_t)i * PAGE) -
				    FAKE_PA_BASE) /
				   PAGE],
			0);
	assert_int_equal(tg_domain_destroy(e->med, G1), TG_ENOENT);
}

static void destroy_steps_are_bounded(void **s)
{
	struct tg_config cfg = { .destroy_step_pages = 100 };
	struct env *e = env_new(&cfg, true);
	uint64_t smcs;
	int rc, steps = 0;

	(void)s;
	assert_int_equal(register_shm(e, G1, 1, 0, 1000, 0, 1000 * PAGE),
			 TEEC_SUCCESS);
	do {
		uint64_t pinned = fake_pinned_total(e->f);

		smcs = e->f->smc_count;
		rc = tg_domain_destroy(e->med, G1);
		assert_true(e->f->smc_count - smcs <= 1);
		assert_true(pinned - fake_pinned_total(e->f) <= 100);
		steps++;
	} while (rc == TG_AGAIN);
	assert_int_equal(rc, TG_OK);
	assert_true(steps >= 10);
	env_teardown((void **)&e);
}

static void calls_of_a_dying_domain_are_refused(void **s)
{
	struct env *e = *s;
	uint64_t r[8];

	assert_int_equal(tg_domain_destroy(e->med, G1), TG_AGAIN);
	set_regs(r, OPTEE_SMC_CALLS_UID, 0, 0, 0);
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void destroy_without_virtualization_closes_and_unregisters(void **s)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;
	struct env e;
	uint64_t r[8];

	(void)s;
	f->caps &= ~OPTEE_SMC_SEC_CAP_VIRTUALIZATION;
	fake_add_guest(f, G1, G1_PAGES);
	fake_add_guest(f, G2, G2_PAGES);
	assert_int_equal(tg_mediator_create(&f->port, NULL, &med), TG_OK);
	assert_false(tg_mediator_tee_info(med)->virtualization);
	assert_int_equal(tg_domain_create(med, G1, NULL), TG_OK);
	assert_int_equal(tg_domain_create(med, G2, NULL), TG_ELIMIT);
	e.f = f;
	e.med = med;
	open_session(&e, G1);
	register_shm(&e, G1, 5, 0, 2, 0, 2 * PAGE);
	assert_true(fake_destroy_domain(med, G1) >= 0);
	assert_int_equal(f->vm_destroyed[G1], 0);
	assert_int_equal(fake_pinned_total(f), 0);
	/* the single slot is free again */
	assert_int_equal(tg_domain_create(med, G2, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_CALLS_UID, 0, 0, 0);
	tg_handle_smc(med, G2, 0, r);
	assert_int_equal(r[0], OPTEE_MSG_UID_0);
	assert_true(fake_destroy_domain(med, G2) >= 0);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	assert_int_equal(f->allocs_live, 0);
	fake_destroy(f);
}

/* A TEE that refuses UNREGISTER_SHM and runs an RPC inside CLOSE_SESSION. */
static bool tee_stubborn_teardown(struct fake *f, struct fake_thread *t,
				  uint64_t regs[8])
{
	struct optee_msg_arg *rpc = t->rpc_arg;

	if (t->arg->cmd == OPTEE_MSG_CMD_UNREGISTER_SHM) {
		t->arg->ret = TEEC_ERROR_BUSY;
		regs[0] = OPTEE_SMC_RETURN_OK;
		return true;
	}
	if (t->arg->cmd == OPTEE_MSG_CMD_CLOSE_SESSION && rpc) {
		switch (t->step) {
		case 0: /* an RPC the teardown has to answer with an error */
			memset(rpc, 0, OPTEE_MSG_GET_ARG_SIZE(1));
			rpc->cmd = OPTEE_RPC_CMD_FS;
			rpc->num_params = 1;
			rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
			fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, 0, 0);
			return false;
		case 1:
			t->scratch[0] = rpc->ret;
			fake_rpc(regs, OPTEE_SMC_RPC_FUNC_ALLOC, 160, 0);
			return false;
		case 2: /* the teardown failed the ALLOC */
			f->test_ctx =
				(void *)(uintptr_t)(t->alloc_pa == 0 &&
						    t->scratch[0] ==
							    TEEC_ERROR_COMMUNICATION);
			fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
			return false;
		default:
			break;
		}
	}
	return fake_step_ok(f, t, regs);
}

static void teardown_answers_rpcs_and_orphans_refused_buffers(void **s)
{
	struct env *e = *s;
	uint32_t i;

	assert_int_equal(register_shm(e, G1, 0x42, 0, 3, 0, 3 * PAGE),
			 TEEC_SUCCESS);
	open_session(e, G1);
	e->f->std_fn = tee_stubborn_teardown;
	assert_true(fake_destroy_domain(e->med, G1) > 1000);
	e->f->std_fn = NULL;
	/* the RPCs inside CLOSE_SESSION got error answers */
	assert_int_equal((uintptr_t)e->f->test_ctx, 1);
	/* the buffer was unpinned only after VM_DESTROYED */
	assert_int_equal(e->f->vm_destroyed[G1], 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(
			e->f->pins[(fake_ipa_to_pa(e->f, G1,
						   DATA_IPA + i * PAGE) -
				    FAKE_PA_BASE) /
				   PAGE],
			0);
}

/* A TEE that never closes a session. */
static bool tee_never_closes(struct fake *f, struct fake_thread *t,
			     uint64_t regs[8])
{
	(void)f;
	(void)t;
	regs[0] = OPTEE_SMC_RETURN_EBUSY;
	return true;
}

static void teardown_gives_up_on_a_session_the_tee_keeps(void **s)
{
	struct env *e = *s;

	open_session(e, G1);
	e->f->std_fn = tee_never_closes;
	assert_true(fake_destroy_domain(e->med, G1) > 1000);
	e->f->std_fn = NULL;
	assert_int_equal(e->f->vm_destroyed[G1], 1);
}

static void
teardown_without_virtualization_keeps_refused_buffer_pinned(void **s)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;
	struct env e;

	(void)s;
	f->caps &= ~OPTEE_SMC_SEC_CAP_VIRTUALIZATION;
	fake_add_guest(f, G1, G1_PAGES);
	assert_int_equal(tg_mediator_create(&f->port, NULL, &med), TG_OK);
	assert_int_equal(tg_domain_create(med, G1, NULL), TG_OK);
	e.f = f;
	e.med = med;
	assert_int_equal(register_shm(&e, G1, 0x42, 0, 2, 0, 2 * PAGE),
			 TEEC_SUCCESS);
	f->std_fn = tee_stubborn_teardown;
	assert_true(fake_destroy_domain(med, G1) > 1000);
	/* No VM_DESTROYED to make the TEE forget them: safety first. */
	assert_int_equal(fake_pinned_total(f), 2);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	assert_int_equal(f->shm_pages_live, 0);
	assert_int_equal(f->allocs_live, 0);
	fake_destroy(f);
}

static void one_guest_cannot_hold_every_tee_thread(void **s)
{
	struct env *e = *s;
	struct gdrv g = { 0 };
	uint64_t r[8], r2[8], r3[8];

	/* 4 TEE threads, 2 domains: each may hold 3 */
	invoke_msg(e, G1, 1);
	e->f->std_fn = tee_foreign_intr_once;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r2);
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r3);
	assert_int_equal(r3[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	/* the hog never answers; its fourth call is held back */
	{
		uint64_t r4[8];

		rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r4);
		assert_int_equal(r4[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	}
	/* ... so the other guest still gets the last TEE thread */
	e->f->std_fn = NULL;
	open_session(e, G2);
	set_regs(r2, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r2);
	assert_int_equal(r2[1], 3);
	/* alone too (the reserve): a thread held is never given back by
	 * itself when another domain comes, so one must stay free */
	assert_true(fake_destroy_domain(e->med, G2) >= 0);
	set_regs(r2, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0);
	tg_handle_smc(e->med, G1, 0, r2);
	assert_int_equal(r2[1], 3);
	e->f->std_fn = tee_foreign_intr_once;
	{
		uint64_t r4[8];

		rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r4);
		assert_int_equal(r4[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		assert_int_equal(guest_loop(e, G1, r3, &g, -1),
				 OPTEE_SMC_RETURN_OK);
		rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r4);
		assert_int_equal(r4[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
		assert_int_equal(guest_loop(e, G1, r4, &g, -1),
				 OPTEE_SMC_RETURN_OK);
	}
	assert_int_equal(guest_loop(e, G1, r, &g, -1), OPTEE_SMC_RETURN_OK);
	e->f->std_fn = NULL;
}

/*
 * Found by fuzz_smc: a guest answers a second call's RPC ALLOC with the
 * cookie of a buffer another call still uses. The TEE then frees that
 * cookie; the mediator must not free the other call's buffer.
 */
static void alloc_answered_with_a_cookie_in_use_frees_nothing_else(void **s)
{
	struct env *e = *s;
	struct optee_msg_arg *a = invoke_msg(e, G1, 1);
	struct gdrv ga = { .alloc_ipa = RPC_IPA, .alloc_cookie = 7 };
	struct gdrv gb = { .alloc_ipa = RPC_IPA + PAGE, .alloc_cookie = 7 };
	uint64_t r[8], r2[8];

	e->f->std_fn = tee_get_time_via_alloc;
	rpc_call(e, G1, OPTEE_SMC_CALL_WITH_ARG, r);
	/* call A: its ALLOC answered, now waiting in the CMD */
	assert_int_equal(guest_loop(e, G1, r, &ga, 1),
			 OPTEE_SMC_RETURN_RPC_CMD);
	memcpy(fake_guest_ptr(e->f, G1, ARG2_IPA),
	       fake_guest_ptr(e->f, G1, ARG_IPA), 64);
	set_regs(r2, OPTEE_SMC_CALL_WITH_ARG, ARG2_IPA >> 32,
		 ARG2_IPA & 0xFFFFFFFF, 0);
	tg_handle_smc(e->med, G1, 0, r2);
	/* call B: same cookie, refused; its TEE thread frees the cookie */
	assert_int_equal(guest_loop(e, G1, r2, &gb, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(((struct optee_msg_arg *)fake_guest_ptr(e->f, G1,
								 ARG2_IPA))
				 ->ret,
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_BAD_COOKIE], 1);
	assert_int_equal(stats(e, G1).rpc_bufs, 1);
	/* call A still completes with its RPC buffer intact */
	assert_int_equal(guest_loop(e, G1, r, &ga, -1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 1234);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(alloc_cmd_free_sequence_is_translated_and_shadowed),
		T(alloc_answered_with_foreign_page_fails_cleanly),
		T(alloc_answered_unaligned_or_zero_fails_cleanly),
		T(rpc_buffer_limit_fails_alloc_without_asking_guest),
		T(alloc_answered_with_a_cookie_in_use_frees_nothing_else),
		T(foreign_intr_returns_to_guest_and_resumes),
		T(foreign_intr_then_cmd_reaches_the_guest),
		T(supplied_rpc_arg_is_shadowed),
		T(shm_alloc_answer_is_pinned_and_freed),
		T(shm_alloc_answered_with_foreign_list_fails),
		T(shm_alloc_answered_with_looping_list_stays_bounded),
		T(shm_alloc_answered_with_wrong_attr_fails),
		T(shm_alloc_answered_contiguous_over_a_page_fails),
		T(shm_alloc_answered_short_fails),
		T(rpc_cmd_with_machine_address_is_not_shown_to_guest),
		T(return_from_rpc_with_other_guests_thread_is_eresume),
		T(return_from_rpc_for_thread_not_waiting_is_eresume),
		T(double_resume_is_refused),
		T(stale_resume_handle_of_the_same_call_is_eresume),
		T(unregister_while_call_uses_buffer_is_busy),
		T(call_limit_gives_ethread_limit_without_smc),
		T(tee_thread_limit_passes_through_and_frees_the_slot),
		T(one_guest_cannot_hold_every_tee_thread),
		T(destroy_drives_suspended_calls_and_ends_with_vm_destroyed),
		cmocka_unit_test(destroy_steps_are_bounded),
		T(calls_of_a_dying_domain_are_refused),
		cmocka_unit_test(
			destroy_without_virtualization_closes_and_unregisters),
		T(teardown_answers_rpcs_and_orphans_refused_buffers),
		T(teardown_gives_up_on_a_session_the_tee_keeps),
		cmocka_unit_test(
			teardown_without_virtualization_keeps_refused_buffer_pinned),
#undef T
	};

	return cmocka_run_group_tests_name("core_rpc", tests, NULL, NULL);
}
