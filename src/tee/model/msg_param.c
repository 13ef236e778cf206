// SPDX-License-Identifier: BSD-2-Clause
/*
 * Message parameters: translation of the normal world's optee_msg_param
 * (in the thread's shadow copy of the argument) into what a TA sees, the
 * way back for outputs, and the registered buffers that RMEM parameters
 * point into.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

struct reg_shm *tgm_reg_shm_find(struct guest *g, uint64_t cookie)
{
	for (struct reg_shm *r = g->shms; r; r = r->next)
		if (r->cookie == cookie)
			return r;
	return NULL;
}

void tgm_reg_shm_free_all(struct guest *g)
{
	while (g->shms) {
		struct reg_shm *r = g->shms;

		g->shms = r->next;
		tgm_span_release(&r->span);
		free(r);
	}
	g->num_shms = 0;
	g->heap_leaked = 0;
}

/* A temporary memref: NONCONTIG page list, NULL, or the reserved pool. */
static uint32_t tmem_to_span(struct tg_model *m, struct model_thread *t,
			     const struct optee_msg_param *mp,
			     struct ta_param *p)
{
	uint64_t buf_ptr = mp->u.tmem.buf_ptr;
	uint64_t size = mp->u.tmem.size;

	/* A NULL memref, whatever the flags: the TA sees size 0. */
	if (!buf_ptr) {
		p->mem_is_null = true;
		p->mem.size = 0;
		return TEEC_SUCCESS;
	}
	if (mp->attr & OPTEE_MSG_ATTR_NONCONTIG) {
		uint32_t res = tgm_span_from_pagelist(m, t->client_id, buf_ptr,
						      size, &p->mem);

		if (res == TEEC_SUCCESS) {
			p->mem_noncontig = true;
			p->mem_cookie = mp->u.tmem.shm_ref;
			p->mem_size_in = size;
		}
		return res;
	}
	if (!tgm_in_reserved_shm(m, buf_ptr, size))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (!tgm_span_contig(buf_ptr, size, &p->mem))
		return TEEC_ERROR_OUT_OF_MEMORY;
	return TEEC_SUCCESS;
}

/*
 * A registered memref: a window of a buffer of this guest. An unknown
 * cookie is BAD_PARAMETERS, a window outside the buffer SECURITY (as
 * OP-TEE answers).
 */
static uint32_t rmem_to_span(struct model_thread *t,
			     const struct optee_msg_param *mp,
			     struct ta_param *p)
{
	struct reg_shm *r = tgm_reg_shm_find(t->guest, mp->u.rmem.shm_ref);

	if (!r)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (!tgm_span_sub(&r->span, mp->u.rmem.offs, mp->u.rmem.size, &p->mem))
		return TEEC_ERROR_SECURITY;
	r->users++;
	p->mem_reg = r;
	return TEEC_SUCCESS;
}

/*
 * FF-A memory reference (OP-TEE's set_fmem_param()): a window of one of
 * this guest's shares, named by its global id; the internal offset is
 * where the buffer starts in the share's first page. The invalid id with
 * size 0 is a NULL memref. Unknown id BAD_PARAMETERS, window outside
 * SECURITY.
 */
static uint32_t fmem_to_span(struct model_thread *t,
			     const struct optee_msg_param *mp,
			     struct ta_param *p)
{
	struct optee_msg_param_fmem f;
	struct reg_shm *r;
	uint64_t offs;
	uint32_t res;

	memcpy(&f, &mp->u, sizeof(f));
	if (f.global_id == OPTEE_MSG_FMEM_INVALID_GLOBAL_ID && !f.size) {
		p->mem_is_null = true;
		p->mem.size = 0;
		return TEEC_SUCCESS;
	}
	r = tgm_ffa_share_find(t->guest, f.global_id);
	if (!r)
		return TEEC_ERROR_BAD_PARAMETERS;
	res = tgm_ffa_share_use(r, f.internal_offs);
	if (res != TEEC_SUCCESS)
		return res;
	p->mem_reg = r; /* holds the use */
	offs = ((uint64_t)f.offs_high << 32) | f.offs_low;
	if (offs > r->span.size - f.internal_offs ||
	    !tgm_span_sub(&r->span, f.internal_offs + offs, f.size, &p->mem))
		return TEEC_ERROR_SECURITY;
	return TEEC_SUCCESS;
}

/**
 * tgm_msg_params_to_ta() - translate shadow params [first, first + count) into
 * t->params. The shadow is private, but every memory reference in it is a
 * normal-world address: page lists are read and checked here.
 *
 * Return: TEEC_SUCCESS or the error OP-TEE gives (origin TEE).
 */
uint32_t tgm_msg_params_to_ta(struct tg_model *m, struct model_thread *t,
			      uint32_t first, uint32_t count)
{
	uint32_t res = TEEC_SUCCESS;

	memset(t->params, 0, sizeof(t->params));
	t->num_ta_params = 0;
	if (count > MODEL_TA_NUM_PARAMS)
		return TEEC_ERROR_BAD_PARAMETERS;

	for (uint32_t i = 0; i < count && res == TEEC_SUCCESS; i++) {
		const struct optee_msg_param *mp =
			&t->shadow->params[first + i];
		struct ta_param *p = &t->params[i];
		uint64_t attr = mp->attr;
		uint32_t type = (uint32_t)(attr & OPTEE_MSG_ATTR_TYPE_MASK);

		p->msg_index = first + i;
		t->num_ta_params = i + 1;
		if ((attr & ~OPTEE_MSG_ATTR_VALID_MASK) ||
		    (attr & OPTEE_MSG_ATTR_META))
			return TEEC_ERROR_BAD_PARAMETERS;
		/* Only a temporary memref can carry a page list. */
		if ((attr & OPTEE_MSG_ATTR_NONCONTIG) &&
		    (type < OPTEE_MSG_ATTR_TYPE_TMEM_INPUT ||
		     type > OPTEE_MSG_ATTR_TYPE_TMEM_INOUT))
			return TEEC_ERROR_BAD_PARAMETERS;

		switch (type) {
		case OPTEE_MSG_ATTR_TYPE_NONE:
			p->type = TA_PARAM_NONE;
			break;
		case OPTEE_MSG_ATTR_TYPE_VALUE_INPUT:
		case OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_VALUE_INOUT:
			/* A TA's values are 32 bits wide; c is not passed. */
			p->type = (enum ta_param_type)type;
			p->value.a = (uint32_t)mp->u.value.a;
			p->value.b = (uint32_t)mp->u.value.b;
			break;
		case OPTEE_MSG_ATTR_TYPE_RMEM_INPUT:
		case OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_RMEM_INOUT:
			p->type = (enum ta_param_type)type;
			/* Over FF-A the same types are FMEM. */
			res = m->cfg.ffa ? fmem_to_span(t, mp, p)
					 : rmem_to_span(t, mp, p);
			break;
		case OPTEE_MSG_ATTR_TYPE_TMEM_INPUT:
		case OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_TMEM_INOUT:
			/* No physical addresses over FF-A (CFG_CORE_FFA). */
			if (m->cfg.ffa)
				return TEEC_ERROR_BAD_PARAMETERS;
			p->type = (enum ta_param_type)(type - 4);
			res = tmem_to_span(m, t, mp, p);
			break;
		default:
			return TEEC_ERROR_BAD_PARAMETERS;
		}
	}
	return res;
}

/* tgm_msg_params_from_ta() - write the TA's outputs into the shadow. */
void tgm_msg_params_from_ta(struct model_thread *t, uint32_t first)
{
	for (uint32_t i = 0; i < t->num_ta_params; i++) {
		struct optee_msg_param *mp = &t->shadow->params[first + i];
		const struct ta_param *p = &t->params[i];

		switch (p->type) {
		case TA_PARAM_VALUE_OUTPUT:
		case TA_PARAM_VALUE_INOUT:
			mp->u.value.a = (uint32_t)p->value.a;
			mp->u.value.b = (uint32_t)p->value.b;
			break;
		case TA_PARAM_MEMREF_OUTPUT:
		case TA_PARAM_MEMREF_INOUT:
			/* tmem.size and rmem.size share the same offset. */
			mp->u.tmem.size = p->mem.size;
			break;
		default:
			break;
		}
	}
}

/*
 * What OP-TEE 4.10's cleanup_shm_refs() does with a NONCONTIG TMEM: it
 * compares the attribute without OPTEE_MSG_ATTR_TYPE_MASK, so the
 * mobj_reg_shm stays, guarded, at the head of the guest's list under
 * the TMEM's shm_ref. Return: true when @p's span was kept that way.
 */
static bool tmem_leak(struct model_thread *t, struct ta_param *p)
{
	struct reg_shm *r = calloc(1, sizeof(*r));

	if (!r)
		return false;
	r->cookie = p->mem_cookie;
	r->span = p->mem;
	r->span.size = p->mem_size_in; /* not what the TA reported */
	r->leaked = true;
	r->next = t->guest->shms;
	t->guest->shms = r;
	t->guest->heap_leaked += MODEL_TMEM_LEAK_BYTES(r->span.npages);
	return true;
}

/* @m: the call ended (NULL: the guest is going away, nothing leaks). */
void tgm_ta_params_release(struct tg_model *m, struct model_thread *t)
{
	for (uint32_t i = 0; i < MODEL_TA_NUM_PARAMS; i++) {
		struct ta_param *p = &t->params[i];

		if (p->mem_reg)
			p->mem_reg->users--;
		if (!(m && m->cfg.leak_noncontig_tmem && p->mem_noncontig &&
		      t->guest && tmem_leak(t, p)))
			tgm_span_release(&p->mem);
		memset(p, 0, sizeof(*p));
	}
	t->num_ta_params = 0;
}

/* A registered buffer with @cookie, leaked TMEMs left out. */
static struct reg_shm *reg_shm_find_registered(struct guest *g,
					       uint64_t cookie)
{
	for (struct reg_shm *r = g->shms; r; r = r->next)
		if (r->cookie == cookie && !r->leaked)
			return r;
	return NULL;
}

/**
 * tgm_reg_shm_register() - OPTEE_MSG_CMD_REGISTER_SHM: exactly one parameter
 * with attr TMEM_OUTPUT|NONCONTIG (what OP-TEE checks), shm_ref = the
 * cookie the normal world chose. Duplicate cookies are refused (OP-TEE
 * does not check; the model does, so lookups stay unambiguous), except
 * against a leaked TMEM, which OP-TEE's list keeps behind the new buffer.
 */
uint32_t tgm_reg_shm_register(struct tg_model *m, struct model_thread *t)
{
	const struct optee_msg_param *mp = &t->shadow->params[0];
	struct reg_shm *r;
	uint32_t res;

	if (t->shadow->num_params != 1 ||
	    mp->attr != (OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
			 OPTEE_MSG_ATTR_NONCONTIG))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (reg_shm_find_registered(t->guest, mp->u.tmem.shm_ref))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (t->guest->num_shms >= MODEL_MAX_REG_SHM)
		return TEEC_ERROR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return TEEC_ERROR_OUT_OF_MEMORY;
	res = tgm_span_from_pagelist(m, t->client_id, mp->u.tmem.buf_ptr,
				     mp->u.tmem.size, &r->span);
	if (res != TEEC_SUCCESS) {
		free(r);
		return res;
	}
	r->cookie = mp->u.tmem.shm_ref;
	r->next = t->guest->shms;
	t->guest->shms = r;
	t->guest->num_shms++;
	return TEEC_SUCCESS;
}

/**
 * tgm_reg_shm_unregister() - OPTEE_MSG_CMD_UNREGISTER_SHM: one parameter whose
 * rmem.shm_ref is the cookie (OP-TEE does not look at its attr; Linux sends
 * RMEM_INPUT). BAD_PARAMETERS for an unknown cookie, as OP-TEE 4.10
 * (mobj_reg_shm_release_by_cookie()); BUSY while a call uses the buffer
 * (OP-TEE would block the thread until the call ends). The first object
 * with the cookie is the one: a leaked TMEM is guarded, and OP-TEE
 * answers BAD_PARAMETERS.
 */
uint32_t tgm_reg_shm_unregister(struct model_thread *t)
{
	const struct optee_msg_param *mp = &t->shadow->params[0];
	struct reg_shm **pp;

	if (t->shadow->num_params != 1)
		return TEEC_ERROR_BAD_PARAMETERS;
	for (pp = &t->guest->shms; *pp; pp = &(*pp)->next) {
		struct reg_shm *r = *pp;

		if (r->cookie != mp->u.rmem.shm_ref)
			continue;
		if (r->leaked)
			return TEEC_ERROR_BAD_PARAMETERS;
		if (r->users)
			return TEEC_ERROR_BUSY;
		*pp = r->next;
		tgm_span_release(&r->span);
		free(r);
		t->guest->num_shms--;
		return TEEC_SUCCESS;
	}
	return TEEC_ERROR_BAD_PARAMETERS;
}
