// SPDX-License-Identifier: BSD-2-Clause
/*
 * Yielding (std) calls: the thread and RPC state machine.
 *
 * A std call takes a free thread for its whole life. The work it does is a
 * chain of steps (t->work, t->step); a step either finishes the call or
 * asks for an RPC, which suspends the thread until RETURN_FROM_RPC. The RPC
 * argument buffer comes from the call (CALL_WITH_RPC_ARG, REGD_ARG), from
 * the guest's cache (ENABLE_SHM_CACHE) or from RPC ALLOC; in the last case
 * it is given back with RPC FREE when the call ends, unless the cache is
 * enabled. tgm_std_return_from_rpc() lists every allowed transition; anything
 * else answers ERESUME.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---- Thread lifetime -------------------------------------------------- */

static struct model_thread *thread_alloc(struct tg_model *m, struct guest *g,
					 uint16_t client_id)
{
	/*
	 * Each partition starts its search at a thread of its own, so that
	 * guests on different cores do not take turns with one thread's
	 * cache lines (OP-TEE takes the first free one; a choice the normal
	 * world cannot see).
	 */
	uint32_t first = (uint32_t)(g - m->guests) % m->num_threads;

	for (uint32_t n = 0; n < m->num_threads; n++) {
		uint32_t i = first + n < m->num_threads
				     ? first + n
				     : first + n - m->num_threads;
		struct model_thread *t = &m->threads[i];
		enum thread_state free_state = THREAD_FREE;

		if (atomic_load_explicit(&t->state, memory_order_relaxed) !=
			    THREAD_FREE ||
		    !atomic_compare_exchange_strong(&t->state, &free_state,
						    THREAD_RUNNING))
			continue;
		t->guest = g;
		t->client_id = client_id;
		return t;
	}
	return NULL;
}

/* Drop everything the call holds, without any RPC. */
static void thread_release(struct model_thread *t)
{
	tgm_ta_params_release(NULL, t);
	tgm_span_release(&t->arg_span);
	tgm_span_release(&t->rpc_span);
	tgm_span_release(&t->work_span);
	if (t->arg_reg)
		t->arg_reg->users--;
	if (t->work_reg)
		t->work_reg->users--;
	t->work_reg = NULL;
	if (t->session && t->session->busy_in == t)
		t->session->busy_in = NULL;
	t->arg_reg = NULL;
	t->session = NULL;
	t->rpc_src = RPC_ARG_NONE;
	t->rpc_cookie = 0;
	t->work = NULL;
	t->step = 0;
	memset(t->scratch, 0, sizeof(t->scratch));
	t->ta_ran = false;
	t->rpc_injected = false;
	t->injected_here = false;
	t->ret = 0;
	t->ret_origin = 0;
	t->guest = NULL;
	t->client_id = 0;
	/* Last: from here another partition may take it (thread_alloc()). */
	atomic_store_explicit(&t->state, THREAD_FREE, memory_order_release);
}

/**
 * tgm_thread_abort() - forget a thread's call (its guest is being destroyed).
 * An allocated RPC argument is not freed: the guest is gone.
 */
void tgm_thread_abort(struct tg_model *m, struct model_thread *t)
{
	(void)m;
	thread_release(t);
}

/* ---- RPC returns to the normal world ---------------------------------- */

static void rpc_return(struct model_thread *t, uint64_t regs[8], uint32_t func,
		       uint64_t a1, uint64_t a2)
{
	regs[0] = OPTEE_SMC_RETURN_RPC_PREFIX | func;
	regs[1] = a1;
	regs[2] = a2;
	regs[3] = t->index;
	regs[4] = 0;
	regs[5] = 0;
	regs[6] = 0;
}

static void call_return(uint64_t regs[8], uint32_t a0)
{
	regs[0] = a0;
	regs[1] = 0;
	regs[2] = 0;
	regs[3] = 0;
}

void tgm_rpc_prepare(struct model_thread *t, uint32_t cmd, uint32_t n)
{
	memset(&t->rpc, 0, sizeof(t->rpc));
	t->rpc.cmd = cmd;
	t->rpc.num_params = n;
}

/* Write t->rpc into the RPC argument buffer. */
static bool rpc_write_arg(struct tg_model *m, struct model_thread *t)
{
	uint8_t buf[MODEL_RPC_ARG_SIZE];
	/* ret is GENERIC in case the normal world does not answer. */
	struct optee_msg_arg hdr = {
		.cmd = t->rpc.cmd,
		.ret = TEEC_ERROR_GENERIC,
		.num_params = t->rpc.num_params,
	};

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + OPTEE_MSG_ARG_HDR_SIZE, t->rpc.params,
	       sizeof(t->rpc.params));
	return tgm_span_write(m, t->client_id, &t->rpc_span, 0, buf,
			      OPTEE_MSG_GET_ARG_SIZE(t->rpc.num_params));
}

/*
 * Read the normal world's answer. The normal world may have changed any
 * field; only ret and the parameter slots we sent are taken, once.
 */
static void rpc_read_answer(struct tg_model *m, struct model_thread *t)
{
	uint8_t buf[MODEL_RPC_ARG_SIZE];
	struct optee_msg_arg hdr;

	if (!tgm_span_read(m, t->client_id, &t->rpc_span, 0, buf,
			   OPTEE_MSG_GET_ARG_SIZE(t->rpc.num_params))) {
		t->rpc.ret = TEEC_ERROR_COMMUNICATION;
		t->rpc.answer_num_params = 0;
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	t->rpc.ret = hdr.ret;
	t->rpc.answer_num_params = hdr.num_params;
	memcpy(t->rpc.params, buf + OPTEE_MSG_ARG_HDR_SIZE,
	       t->rpc.num_params * OPTEE_MSG_PARAM_SIZE);
}

static bool rpc_arg_from_cache(struct model_thread *t)
{
	struct guest *g = t->guest;
	struct cached_rpc_arg c;

	if (!g->rpc_cache_len)
		return false;
	c = g->rpc_cache[--g->rpc_cache_len];
	t->rpc_src = RPC_ARG_ALLOCATED;
	t->rpc_cookie = c.cookie;
	return tgm_span_contig(c.pa, MODEL_RPC_ARG_SIZE, &t->rpc_span);
}

/*
 * Send t->rpc as RPC CMD. Return: true if the thread is now suspended,
 * false if the command failed at once (t->rpc.ret is set).
 */
static bool rpc_send_cmd(struct tg_model *m, struct model_thread *t,
			 uint64_t regs[8])
{
	uint64_t cookie;

	if (t->rpc_src == RPC_ARG_NONE && !rpc_arg_from_cache(t)) {
		t->state = THREAD_WAIT_ALLOC;
		rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_ALLOC,
			   MODEL_RPC_ARG_SIZE, 0);
		return true;
	}
	if (!rpc_write_arg(m, t)) {
		t->rpc.ret = TEEC_ERROR_COMMUNICATION;
		return false;
	}
	/* An RPC argument that came with the call is found without cookie. */
	cookie = t->rpc_src == RPC_ARG_ALLOCATED ? t->rpc_cookie : 0;
	t->state = THREAD_WAIT_CMD;
	rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_CMD, cookie >> 32,
		   cookie & 0xFFFFFFFFu);
	return true;
}

/* ---- Running and ending a call ---------------------------------------- */

/*
 * An injected RPC is invisible to the work: its answer (or failure) is
 * dropped and the work's own last RPC is put back.
 */
static bool rpc_end_injected(struct model_thread *t)
{
	if (!t->rpc_injected)
		return false;
	t->rpc = t->saved_rpc;
	t->rpc_injected = false;
	return true;
}

static bool inject(struct tg_model *m, struct model_thread *t, uint64_t regs[8])
{
	struct guest *g = t->guest;

	if (m->cfg.inject_foreign_intr_pct &&
	    tgm_prng_pct(g) < m->cfg.inject_foreign_intr_pct) {
		t->state = THREAD_WAIT_FOREIGN_INTR;
		rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return true;
	}
	if (m->cfg.inject_rpc_pct && tgm_prng_pct(g) < m->cfg.inject_rpc_pct) {
		t->saved_rpc = t->rpc;
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_GET_TIME, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		t->rpc_injected = true;
		if (rpc_send_cmd(m, t, regs))
			return true;
		rpc_end_injected(t);
		return false;
	}
	return false;
}

static void thread_exit(struct tg_model *m, struct model_thread *t,
			uint64_t regs[8]);

/*
 * thread_run() - run the call's work from an injection point (call entry
 * or any resume) until it suspends or ends. Each point may inject one
 * FOREIGN_INTR or GET_TIME RPC before the work goes on.
 */
static void thread_run(struct tg_model *m, struct model_thread *t,
		       uint64_t regs[8])
{
	for (;;) {
		enum step_result res;

		if (t->injected_here) {
			t->injected_here = false;
		} else if (inject(m, t, regs)) {
			t->injected_here = true;
			return;
		}

		res = t->work(m, t);
		switch (res) {
		case STEP_RPC_CMD:
			if (rpc_send_cmd(m, t, regs))
				return;
			/* Failed at once: the next step sees rpc.ret. */
			t->injected_here = true;
			break;
		case STEP_FOREIGN_INTR:
			t->state = THREAD_WAIT_FOREIGN_INTR;
			rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0,
				   0);
			return;
		case STEP_DONE:
		default:
			thread_exit(m, t, regs);
			return;
		}
	}
}

/* The call is over: write the argument back, then give back the RPC arg. */
static void thread_exit(struct tg_model *m, struct model_thread *t,
			uint64_t regs[8])
{
	struct guest *g = t->guest;

	t->shadow->ret = t->ret;
	t->shadow->ret_origin = t->ret_origin;
	if (t->ta_ran)
		tgm_msg_params_from_ta(t, t->msg_first);
	/* A failed write-back is invisible to OP-TEE's caller as well. */
	(void)tgm_span_write(m, t->client_id, &t->arg_span, 0, t->shadow,
			     t->shadow_size);
	tgm_ta_params_release(m, t);

	/* OP-TEE frees the RPC argument only when it has a cookie. */
	if (t->rpc_src == RPC_ARG_ALLOCATED && t->rpc_cookie) {
		if (g->shm_cache_enabled && g->rpc_cache_len < m->num_threads) {
			struct cached_rpc_arg *c =
				&g->rpc_cache[g->rpc_cache_len++];

			c->pa = tgm_span_page(&t->rpc_span, 0);
			c->cookie = t->rpc_cookie;
		} else {
			t->state = THREAD_WAIT_FREE_AT_EXIT;
			rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_FREE,
				   t->rpc_cookie >> 32,
				   t->rpc_cookie & 0xFFFFFFFFu);
			return;
		}
	}
	call_return(regs, OPTEE_SMC_RETURN_OK);
	thread_release(t);
}

/* ---- Message dispatch -------------------------------------------------- */

static enum step_result tee_done(struct model_thread *t, uint32_t ret)
{
	t->ret = ret;
	t->ret_origin = TEEC_ORIGIN_TEE;
	return STEP_DONE;
}

static struct session *session_find(struct guest *g, uint32_t id)
{
	for (struct session *s = g->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void tgm_session_free_all(struct guest *g)
{
	while (g->sessions) {
		struct session *s = g->sessions;

		g->sessions = s->next;
		free(s);
	}
}

static enum step_result ta_invoke_step(struct tg_model *m,
				       struct model_thread *t)
{
	return t->session->ta->invoke(m, t);
}

/*
 * Opening a UUID that is no built-in TA: look for it the way OP-TEE does
 * (shared memory, secure storage, the supplicant) and fail with
 * ITEM_NOT_FOUND. scratch[0] = cookie of the SHM_ALLOC buffer, scratch[1]
 * = final result.
 */
enum load_step {
	LOAD_SHM_ALLOC,
	LOAD_SHM_ALLOC_ANSWER,
	LOAD_FS_DIRF,
	LOAD_FS_DIRH,
	LOAD_TA_QUERY,
	LOAD_TA_ANSWER,
	LOAD_SHM_FREE,
	LOAD_END,
};

/*
 * Check the answer to SHM_ALLOC the way OP-TEE does. Return: 0 usable
 * (t->work_span describes it), -1 refused without more ado, 1 refused
 * after OP-TEE would have tried to map it (it then sends SHM_FREE).
 */
/*
 * FF-A: the answer is an FMEM_OUTPUT naming a share of this guest by its
 * global id (OP-TEE's thread_rpc_alloc()); OP-TEE holds it until it sends
 * SHM_FREE. Anything unusable fails without SHM_FREE.
 */
static int load_take_ffa_shm(struct model_thread *t)
{
	const struct optee_msg_param *p = &t->rpc.params[0];
	struct optee_msg_param_fmem f;
	struct reg_shm *r;

	memcpy(&f, &p->u, sizeof(f));
	if (t->rpc.ret != TEEC_SUCCESS || t->rpc.answer_num_params != 1 ||
	    p->attr != OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT)
		return -1;
	r = tgm_ffa_share_find(t->guest, f.global_id);
	if (!r || tgm_ffa_share_use(r, f.internal_offs) != TEEC_SUCCESS)
		return -1;
	if (!tgm_span_sub(&r->span, f.internal_offs, MODEL_PAGE_SIZE,
			  &t->work_span)) {
		r->users--;
		return -1;
	}
	t->work_reg = r;
	t->scratch[2] = f.internal_offs;
	return 0;
}

static int load_take_shm(struct tg_model *m, struct model_thread *t)
{
	const struct optee_msg_param *p = &t->rpc.params[0];
	const uint64_t tmem_out = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT;
	uint64_t size = p->u.tmem.size;
	uint64_t pa = p->u.tmem.buf_ptr;

	if (t->rpc.ret != TEEC_SUCCESS || t->rpc.answer_num_params != 1 ||
	    (p->attr != tmem_out &&
	     p->attr != (tmem_out | OPTEE_MSG_ATTR_NONCONTIG)) ||
	    size < MODEL_PAGE_SIZE)
		return -1;
	if (p->attr & OPTEE_MSG_ATTR_NONCONTIG)
		return tgm_span_from_pagelist(m, t->client_id, pa, size,
					      &t->work_span) == TEEC_SUCCESS
			       ? 0
			       : 1;
	/* Contiguous: the reserved pool, or a single page. */
	if (tgm_in_reserved_shm(m, pa, size))
		return tgm_span_contig(pa, size, &t->work_span) ? 0 : 1;
	if (!pa || (pa & MODEL_PAGE_MASK) || size > MODEL_PAGE_SIZE ||
	    !tgm_pa_range_is_ns(m, t->client_id, pa, size))
		return 1;
	return tgm_span_contig(pa, size, &t->work_span) ? 0 : 1;
}

static void load_fs_open(struct tg_model *m, struct model_thread *t,
			 const char *name)
{
	uint64_t len = strlen(name) + 1;

	(void)tgm_span_write(m, t->client_id, &t->work_span, 0, name, len);
	tgm_rpc_prepare(t, OPTEE_RPC_CMD_FS, 3);
	t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	t->rpc.params[0].u.value.a = 0; /* OPTEE_RPC_FS_OPEN */
	t->rpc.params[1].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	/* FF-A: FMEM_INPUT (the same type), internal offset in 63:48. */
	t->rpc.params[1].u.rmem.offs = m->cfg.ffa ? t->scratch[2] << 48 : 0;
	t->rpc.params[1].u.rmem.size = len;
	t->rpc.params[1].u.rmem.shm_ref = t->scratch[0];
	t->rpc.params[2].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
}

static enum step_result ta_load_step(struct tg_model *m, struct model_thread *t)
{
	switch (t->step) {
	case LOAD_SHM_ALLOC:
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_SHM_ALLOC, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		t->rpc.params[0].u.value.a = OPTEE_RPC_SHM_TYPE_APPL;
		t->rpc.params[0].u.value.b = MODEL_PAGE_SIZE;
		t->rpc.params[0].u.value.c = 8; /* alignment */
		t->step = LOAD_SHM_ALLOC_ANSWER;
		return STEP_RPC_CMD;
	case LOAD_SHM_ALLOC_ANSWER:
		/* tmem.shm_ref and fmem.global_id share a place. */
		t->scratch[0] = t->rpc.params[0].u.tmem.shm_ref;
		switch (m->cfg.ffa ? load_take_ffa_shm(t)
				   : load_take_shm(m, t)) {
		case 0:
			t->step = LOAD_FS_DIRF;
			return ta_load_step(m, t);
		case 1:
			/* Give the unusable buffer back, then fail. */
			t->scratch[1] = TEEC_ERROR_OUT_OF_MEMORY;
			t->step = LOAD_SHM_FREE;
			return ta_load_step(m, t);
		default:
			return tee_done(t, TEEC_ERROR_OUT_OF_MEMORY);
		}
	case LOAD_FS_DIRF:
		load_fs_open(m, t, "dirf.db");
		t->step = LOAD_FS_DIRH;
		return STEP_RPC_CMD;
	case LOAD_FS_DIRH:
		load_fs_open(m, t, "dirh.db");
		t->step = LOAD_TA_QUERY;
		return STEP_RPC_CMD;
	case LOAD_TA_QUERY:
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_LOAD_TA, 2);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		/* The UUID octets, as OPEN_SESSION carried them. */
		t->rpc.params[0].u.value.a = t->shadow->params[0].u.value.a;
		t->rpc.params[0].u.value.b = t->shadow->params[0].u.value.b;
		/* NULL memref of size 0: ask for the image size. */
		t->rpc.params[1].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT;
		if (m->cfg.ffa) {
			t->rpc.params[1].attr = OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT;
			t->rpc.params[1].u.rmem.shm_ref =
				OPTEE_MSG_FMEM_INVALID_GLOBAL_ID;
		}
		t->step = LOAD_TA_ANSWER;
		return STEP_RPC_CMD;
	case LOAD_TA_ANSWER:
		/*
		 * An image on offer cannot be verified by the model (it has
		 * no signing key): OP-TEE would refuse it with SECURITY.
		 */
		if ((t->rpc.ret == TEEC_SUCCESS ||
		     t->rpc.ret == TEEC_ERROR_SHORT_BUFFER) &&
		    t->rpc.params[1].u.tmem.size)
			t->scratch[1] = TEEC_ERROR_SECURITY;
		else
			t->scratch[1] = TEEC_ERROR_ITEM_NOT_FOUND;
		t->step = LOAD_SHM_FREE;
		return ta_load_step(m, t);
	case LOAD_SHM_FREE:
		/*
		 * FF-A (OP-TEE's thread_rpc_free()): drop the reference and
		 * the registration first, so that the normal world can
		 * reclaim the share once it has the SHM_FREE.
		 */
		if (t->work_reg) {
			tgm_span_release(&t->work_span);
			t->work_reg->users--;
			t->work_reg->ffa_registered = false;
			t->work_reg = NULL;
		}
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_SHM_FREE, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		t->rpc.params[0].u.value.a = OPTEE_RPC_SHM_TYPE_APPL;
		t->rpc.params[0].u.value.b = t->scratch[0];
		t->step = LOAD_END;
		return STEP_RPC_CMD;
	case LOAD_END:
	default:
		tgm_span_release(&t->work_span);
		return tee_done(t, (uint32_t)t->scratch[1]);
	}
}

static bool login_known(uint64_t login)
{
	switch (login) {
	case OPTEE_MSG_LOGIN_PUBLIC:
	case OPTEE_MSG_LOGIN_USER:
	case OPTEE_MSG_LOGIN_GROUP:
	case OPTEE_MSG_LOGIN_APPLICATION:
	case OPTEE_MSG_LOGIN_APPLICATION_USER:
	case OPTEE_MSG_LOGIN_APPLICATION_GROUP:
	case OPTEE_MSG_LOGIN_REE_KERNEL:
		return true;
	default:
		return false;
	}
}

static enum step_result open_session(struct tg_model *m, struct model_thread *t)
{
	const uint64_t meta =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	struct optee_msg_arg *arg = t->shadow;
	const struct ta_desc *ta;
	struct session *s;
	uint8_t uuid[16];
	uint32_t res;

	if (arg->num_params < 2 || arg->params[0].attr != meta ||
	    arg->params[1].attr != meta)
		return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
	if (!login_known(arg->params[1].u.value.c))
		return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
	memcpy(uuid, &arg->params[0].u.value.a, 8);
	memcpy(uuid + 8, &arg->params[0].u.value.b, 8);
	res = tgm_msg_params_to_ta(m, t, 2, arg->num_params - 2);
	if (res != TEEC_SUCCESS)
		return tee_done(t, res);

	ta = tgm_ta_find(uuid);
	if (!ta) {
		t->work = ta_load_step;
		t->step = LOAD_SHM_ALLOC;
		return ta_load_step(m, t);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return tee_done(t, TEEC_ERROR_OUT_OF_MEMORY);
	s->ta = ta;
	do {
		s->id = atomic_fetch_add(&m->next_session_id, 1);
	} while (!s->id);
	s->next = t->guest->sessions;
	t->guest->sessions = s;
	arg->session = s->id;
	/* The built-in TAs' open entry points accept any parameters. */
	t->ta_ran = true;
	t->msg_first = 2;
	return ta_done(t, TEEC_SUCCESS);
}

static enum step_result invoke_command(struct tg_model *m,
				       struct model_thread *t)
{
	uint32_t res = tgm_msg_params_to_ta(m, t, 0, t->shadow->num_params);
	struct session *s;

	/* Parameters are checked before the session, as in OP-TEE. */
	if (res != TEEC_SUCCESS)
		return tee_done(t, res);
	s = session_find(t->guest, t->shadow->session);
	if (!s)
		return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
	/* One command at a time per session (OP-TEE would wait). */
	if (s->busy_in)
		return tee_done(t, TEEC_ERROR_BUSY);
	s->busy_in = t;
	s->cancel_requested = false;
	t->session = s;
	t->ta_cmd = t->shadow->func;
	t->ta_ran = true;
	t->msg_first = 0;
	t->work = ta_invoke_step;
	t->step = 0;
	return ta_invoke_step(m, t);
}

static enum step_result close_session(struct model_thread *t)
{
	struct session **pp;

	if (t->shadow->num_params)
		return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
	for (pp = &t->guest->sessions; *pp; pp = &(*pp)->next) {
		struct session *s = *pp;

		if (s->id != t->shadow->session)
			continue;
		if (s->busy_in)
			return tee_done(t, TEEC_ERROR_BUSY);
		*pp = s->next;
		free(s);
		return tee_done(t, TEEC_SUCCESS);
	}
	return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
}

static enum step_result cancel(struct model_thread *t)
{
	struct session *s = session_find(t->guest, t->shadow->session);

	if (t->shadow->num_params || !s)
		return tee_done(t, TEEC_ERROR_BAD_PARAMETERS);
	s->cancel_requested = true;
	s->cancel_id = t->shadow->cancel_id;
	return tee_done(t, TEEC_SUCCESS);
}

/* The first step of every message: what OP-TEE's entry_std does. */
static enum step_result msg_dispatch(struct tg_model *m, struct model_thread *t)
{
	switch (t->shadow->cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		return open_session(m, t);
	case OPTEE_MSG_CMD_INVOKE_COMMAND:
		return invoke_command(m, t);
	case OPTEE_MSG_CMD_CLOSE_SESSION:
		return close_session(t);
	case OPTEE_MSG_CMD_CANCEL:
		return cancel(t);
	case OPTEE_MSG_CMD_REGISTER_SHM:
		return tee_done(t, tgm_reg_shm_register(m, t));
	case OPTEE_MSG_CMD_UNREGISTER_SHM:
		return tee_done(t, tgm_reg_shm_unregister(t));
	case OPTEE_MSG_CMD_DO_BOTTOM_HALF:
		/* FF-A: async values other than the bottom half travel as
		 * RPC NOTIFICATION SENDs from here. */
		if (m->cfg.ffa) {
			t->work = tgm_ffa_bottom_half;
			t->step = 0;
			return tgm_ffa_bottom_half(m, t);
		}
		return tee_done(t, TEEC_SUCCESS);
	case OPTEE_MSG_CMD_STOP_ASYNC_NOTIF:
		t->guest->async_notif_enabled = false;
		return tee_done(t, TEEC_SUCCESS);
	default:
		/* Refused before the call starts: see msg_cmd_known(). */
		return tee_done(t, TEEC_ERROR_NOT_SUPPORTED);
	}
}

static bool msg_cmd_known(uint32_t cmd)
{
	return cmd <= OPTEE_MSG_CMD_STOP_ASYNC_NOTIF;
}

/* ---- Call entry -------------------------------------------------------- */

/* Read the argument header then the whole argument, once each. */
static uint32_t fetch_arg(struct tg_model *m, struct model_thread *t,
			  const struct ns_span *whole, bool with_rpc_arg)
{
	struct optee_msg_arg hdr;
	uint32_t num, size, total;

	if (!tgm_span_read(m, t->client_id, whole, 0, &hdr, sizeof(hdr)))
		return OPTEE_SMC_RETURN_EBADADDR;
	num = hdr.num_params;
	if (num > OPTEE_MSG_MAX_NUM_PARAMS)
		return OPTEE_SMC_RETURN_EBADADDR;
	size = OPTEE_MSG_GET_ARG_SIZE(num);
	total = size + (with_rpc_arg ? MODEL_RPC_ARG_SIZE : 0);
	if (total > whole->size)
		return OPTEE_SMC_RETURN_EBADADDR;
	if (!tgm_span_sub(whole, 0, size, &t->arg_span) ||
	    !tgm_span_read(m, t->client_id, &t->arg_span, 0, t->shadow, size))
		return OPTEE_SMC_RETURN_EBADADDR;
	t->shadow->num_params = num;
	t->shadow_size = size;
	if (with_rpc_arg) {
		if (!tgm_span_sub(whole, size, MODEL_RPC_ARG_SIZE,
				  &t->rpc_span))
			return OPTEE_SMC_RETURN_EBADADDR;
		t->rpc_src = RPC_ARG_FROM_CALL;
	}
	return OPTEE_SMC_RETURN_OK;
}

/*
 * CALL_WITH_ARG / CALL_WITH_RPC_ARG: a1:a2 is the PA of the argument. It
 * must be 4 KiB aligned and fit (with the RPC argument) in that page, or
 * lie inside the reserved SHM pool (8-byte aligned there).
 */
static uint32_t fetch_arg_by_pa(struct tg_model *m, struct model_thread *t,
				uint64_t regs[8], bool with_rpc_arg)
{
	uint64_t pa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	struct ns_span whole;
	uint64_t avail;
	uint32_t res;

	if (tgm_in_reserved_shm(m, pa, OPTEE_MSG_ARG_HDR_SIZE)) {
		if (pa & 7)
			return OPTEE_SMC_RETURN_EBADADDR;
		avail = m->cfg.reserved_shm_base + m->cfg.reserved_shm_size -
			pa;
		if (avail > MODEL_PAGE_SIZE)
			avail = MODEL_PAGE_SIZE;
	} else if (pa & MODEL_PAGE_MASK) {
		return OPTEE_SMC_RETURN_EBADADDR;
	} else {
		avail = MODEL_PAGE_SIZE;
	}
	if (!tgm_span_contig(pa, avail, &whole))
		return OPTEE_SMC_RETURN_ENOMEM;
	res = fetch_arg(m, t, &whole, with_rpc_arg);
	tgm_span_release(&whole);
	return res;
}

/*
 * CALL_WITH_REGD_ARG: a1:a2 = cookie of a buffer this guest registered,
 * a3 = offset of the argument in it; the RPC argument follows it.
 */
static uint32_t fetch_arg_regd(struct tg_model *m, struct model_thread *t,
			       uint64_t regs[8])
{
	uint64_t cookie =
		((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	uint64_t offs = regs[3];
	struct reg_shm *r = tgm_reg_shm_find(t->guest, cookie);
	struct ns_span whole;
	uint32_t res;

	if (!r || offs >= r->span.size)
		return OPTEE_SMC_RETURN_EBADADDR;
	if (!tgm_span_sub(&r->span, offs, r->span.size - offs, &whole))
		return OPTEE_SMC_RETURN_EBADADDR;
	res = fetch_arg(m, t, &whole, true);
	if (res == OPTEE_SMC_RETURN_OK) {
		r->users++;
		t->arg_reg = r;
	}
	return res;
}

/**
 * tgm_std_call() - a new yielding call from client regs[7] (guest @g).
 * @regs:	the normal world's registers: every value is untrusted.
 */
void tgm_std_call(struct tg_model *m, struct guest *g, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	struct model_thread *t = thread_alloc(m, g, (uint16_t)regs[7]);
	uint32_t res;

	if (!t) {
		call_return(regs, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		return;
	}
	switch (fid) {
	case OPTEE_SMC_CALL_WITH_ARG:
		res = fetch_arg_by_pa(m, t, regs, false);
		break;
	case OPTEE_SMC_CALL_WITH_RPC_ARG:
		res = fetch_arg_by_pa(m, t, regs, true);
		break;
	case OPTEE_SMC_CALL_WITH_REGD_ARG:
		res = fetch_arg_regd(m, t, regs);
		break;
	default:
		/* OP-TEE's std_smc_entry(): an id it does not route. */
		res = OPTEE_SMC_RETURN_EBADCMD;
		break;
	}
	if (res == OPTEE_SMC_RETURN_OK && !msg_cmd_known(t->shadow->cmd))
		res = OPTEE_SMC_RETURN_EBADCMD;
	if (res != OPTEE_SMC_RETURN_OK) {
		thread_release(t);
		call_return(regs, res);
		return;
	}
	t->work = msg_dispatch;
	t->step = 0;
	thread_run(m, t, regs);
}

/**
 * tgm_std_call_ffa() - OPTEE_FFA_YIELDING_CALL_WITH_ARG from VM @client
 * (guest @g): the argument at @offs of the guest's FF-A share @cookie,
 * the RPC argument right after it (OP-TEE's yielding_call_with_arg()).
 * A thread is taken first, so ETHREAD_LIMIT wins, as in OP-TEE. The
 * answer is in SMC terms in @regs (OK, an RPC, ETHREAD_LIMIT, EBADADDR,
 * EBADCMD); ffa_spmc.c turns it into a direct response.
 */
void tgm_std_call_ffa(struct tg_model *m, struct guest *g, uint16_t client,
		      uint64_t cookie, uint64_t offs, uint64_t regs[8])
{
	struct model_thread *t = thread_alloc(m, g, client);
	struct reg_shm *r;
	struct ns_span whole;
	uint32_t res = OPTEE_SMC_RETURN_EBADADDR;

	if (!t) {
		call_return(regs, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		return;
	}
	r = tgm_ffa_share_find(g, cookie);
	if (r && offs < r->span.size &&
	    tgm_ffa_share_use(r, 0) == TEEC_SUCCESS) {
		t->arg_reg = r; /* holds the use */
		if (tgm_span_sub(&r->span, offs, r->span.size - offs, &whole)) {
			res = fetch_arg(m, t, &whole, true);
			tgm_span_release(&whole);
		}
	}
	/* No REGISTER_SHM over FF-A: memory comes with FFA_MEM_SHARE. */
	if (res == OPTEE_SMC_RETURN_OK &&
	    (!msg_cmd_known(t->shadow->cmd) ||
	     t->shadow->cmd == OPTEE_MSG_CMD_REGISTER_SHM ||
	     t->shadow->cmd == OPTEE_MSG_CMD_UNREGISTER_SHM))
		res = OPTEE_SMC_RETURN_EBADCMD;
	if (res != OPTEE_SMC_RETURN_OK) {
		thread_release(t);
		call_return(regs, res);
		return;
	}
	t->work = msg_dispatch;
	t->step = 0;
	thread_run(m, t, regs);
}

/*
 * Whether an RPC ALLOC answer is usable as RPC argument: in the reserved
 * pool (8-byte aligned), or a whole page of dynamic shared memory.
 */
static bool rpc_alloc_usable(struct tg_model *m, struct model_thread *t,
			     uint64_t pa)
{
	if (!pa || (pa & 7))
		return false;
	if (tgm_in_reserved_shm(m, pa, MODEL_RPC_ARG_SIZE))
		return true;
	return !(pa & MODEL_PAGE_MASK) &&
	       tgm_pa_range_is_ns(m, t->client_id, pa, MODEL_RPC_ARG_SIZE);
}

/*
 * After RPC ALLOC: take the buffer, or refuse it with RPC FREE (only if
 * the normal world gave a cookie, like OP-TEE); the command that needed
 * the argument then fails with OUT_OF_MEMORY.
 */
static void resume_alloc(struct tg_model *m, struct model_thread *t,
			 uint64_t regs[8])
{
	uint64_t pa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	uint64_t cookie =
		((regs[4] & 0xFFFFFFFFu) << 32) | (regs[5] & 0xFFFFFFFFu);

	if (!rpc_alloc_usable(m, t, pa) ||
	    !tgm_span_contig(pa, MODEL_RPC_ARG_SIZE, &t->rpc_span)) {
		if (cookie) {
			t->state = THREAD_WAIT_FREE_BAD_ARG;
			rpc_return(t, regs, OPTEE_SMC_RPC_FUNC_FREE,
				   cookie >> 32, cookie & 0xFFFFFFFFu);
			return;
		}
		if (!rpc_end_injected(t))
			t->rpc.ret = TEEC_ERROR_OUT_OF_MEMORY;
		thread_run(m, t, regs);
		return;
	}
	t->rpc_src = RPC_ARG_ALLOCATED;
	t->rpc_cookie = cookie;
	if (rpc_send_cmd(m, t, regs))
		return;
	/* rpc_send_cmd() set rpc.ret */
	rpc_end_injected(t);
	thread_run(m, t, regs);
}

/**
 * tgm_std_return_from_rpc() - RETURN_FROM_RPC: a3 = thread id; the answer to
 * the RPC is in a1, a2, a4, a5. A thread that is not suspended, or that
 * another client holds, gets ERESUME (as OP-TEE answers).
 */
void tgm_std_return_from_rpc(struct tg_model *m, struct guest *g,
			     uint64_t regs[8])
{
	uint64_t tid = regs[3] & 0xFFFFFFFFu;
	struct model_thread *t;
	enum thread_state state;

	if (tid >= m->num_threads) {
		call_return(regs, OPTEE_SMC_RETURN_ERESUME);
		return;
	}
	t = &m->threads[tid];
	/*
	 * Without virtualization there is one guest and a7 is ignored. A
	 * thread this partition holds changes state only under its lock,
	 * which the caller holds: one read is the state.
	 */
	state = atomic_load(&t->state);
	if (state == THREAD_FREE || t->guest != g) {
		call_return(regs, OPTEE_SMC_RETURN_ERESUME);
		return;
	}

	switch (state) {
	case THREAD_WAIT_ALLOC:
		resume_alloc(m, t, regs);
		return;
	case THREAD_WAIT_CMD:
		rpc_read_answer(m, t);
		rpc_end_injected(t);
		thread_run(m, t, regs);
		return;
	case THREAD_WAIT_FOREIGN_INTR:
		thread_run(m, t, regs);
		return;
	case THREAD_WAIT_FREE_BAD_ARG:
		if (!rpc_end_injected(t))
			t->rpc.ret = TEEC_ERROR_OUT_OF_MEMORY;
		thread_run(m, t, regs);
		return;
	case THREAD_WAIT_FREE_AT_EXIT:
		call_return(regs, OPTEE_SMC_RETURN_OK);
		thread_release(t);
		return;
	case THREAD_FREE:
	default:
		call_return(regs, OPTEE_SMC_RETURN_ERESUME);
		return;
	}
}
