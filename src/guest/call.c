// SPDX-License-Identifier: BSD-2-Clause
/*
 * Std calls: where the message argument lives for each call form, the
 * call/RPC loop, waiting for a free TEE thread (ETHREAD_LIMIT), and the
 * session messages built from struct tg_optee_param.
 *
 * The argument buffer is shared with the TEE (and, through the mediator,
 * is guest memory the guest could scribble on): the caller's message is
 * copied in before the call and the answer copied out after it, using the
 * driver's own parameter count, never the one in shared memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optee_private.h"

/* Where one call's argument (and RPC argument) lives. */
struct arg_buf {
	enum tg_optee_call_form form;
	struct optee_msg_arg *arg;    /* guest view */
	uint64_t ipa;		      /* ARG / RPC_ARG: IPA of the page */
	struct arg_cache_page *cpage; /* REGD_ARG */
	uint32_t slot;
	uint32_t offs;		       /* REGD_ARG: offset in the buffer */
	struct optee_msg_arg *rpc_arg; /* NULL for ARG */
	/* FF-A, not from the argument cache: pages shared for this call. */
	uint64_t ffa_handle;
	uint32_t ffa_pages;
	uint64_t seq; /* FF-A: tg_optee.call_seq when the call started */
};

static uint32_t rpc_arg_size(const struct tg_optee *drv)
{
	return OPTEE_MSG_GET_ARG_SIZE(drv->info.rpc_param_count);
}

static int page_get(struct tg_optee *drv, uint64_t *ipa, void **va)
{
	pthread_mutex_lock(&drv->lock);
	if (drv->page_pool_len) {
		*ipa = drv->page_pool[--drv->page_pool_len];
		pthread_mutex_unlock(&drv->lock);
		*va = tg_ipa_ptr(tgg_drv_vcpu(drv), *ipa);
		if (!*va)
			return TG_ENOMEM;
		memset(*va, 0, PAGE_SIZE);
		return TG_OK;
	}
	pthread_mutex_unlock(&drv->lock);
	return tgg_guest_pages_alloc(drv, 1, ipa, va);
}

static void page_put(struct tg_optee *drv, uint64_t ipa)
{
	pthread_mutex_lock(&drv->lock);
	if (drv->page_pool_len <
	    sizeof(drv->page_pool) / sizeof(drv->page_pool[0])) {
		drv->page_pool[drv->page_pool_len++] = ipa;
		ipa = 0;
	}
	pthread_mutex_unlock(&drv->lock);
	if (ipa)
		tgg_guest_pages_free(drv, ipa, 1);
}

/* Add one registered page of argument slots to the cache (lock not held). */
static int arg_cache_grow(struct tg_optee *drv)
{
	struct arg_cache_page *cp;
	struct tg_optee_shm *shm;
	uint32_t slot_size;

	slot_size = OPTEE_MSG_GET_ARG_SIZE(ARG_CACHE_MAX_PARAMS) +
		    rpc_arg_size(drv);
	slot_size = (slot_size + 63u) & ~63u;
	cp = calloc(1, sizeof(*cp));
	shm = tgg_shm_new_pages(drv, PAGE_SIZE, SHM_KIND_ARG_CACHE);
	if (!cp || !shm)
		goto fail;
	/* Registered with a plain call: the cache cannot lend itself a slot. */
	if (tgg_shm_register(drv, shm,
			     drv->info.rpc_param_count ? TG_OPTEE_FORM_RPC_ARG
						       : TG_OPTEE_FORM_ARG,
			     NULL))
		goto fail;
	cp->shm = shm;
	cp->slot_size = slot_size;
	cp->nslots = PAGE_SIZE / slot_size;
	if (cp->nslots > ARG_CACHE_MAX_SLOTS)
		cp->nslots = ARG_CACHE_MAX_SLOTS;
	pthread_mutex_lock(&drv->lock);
	cp->next = drv->argc;
	drv->argc = cp;
	pthread_mutex_unlock(&drv->lock);
	return TG_OK;
fail:
	if (shm)
		tgg_shm_release_pages(drv, shm);
	free(cp);
	return TG_ENOMEM;
}

static bool arg_cache_take(struct tg_optee *drv, struct arg_buf *ab)
{
	struct arg_cache_page *cp;
	uint32_t i;

	pthread_mutex_lock(&drv->lock);
	for (cp = drv->argc; cp; cp = cp->next) {
		for (i = 0; i < cp->nslots; i++) {
			if (!(cp->used & (1u << i))) {
				cp->used |= 1u << i;
				ab->cpage = cp;
				ab->slot = i;
				ab->offs = i * cp->slot_size;
				ab->arg = (void *)((uint8_t *)cp->shm->va +
						   ab->offs);
				pthread_mutex_unlock(&drv->lock);
				return true;
			}
		}
	}
	pthread_mutex_unlock(&drv->lock);
	return false;
}

/* Give the pages of the argument cache back (UNREGISTER_SHM each). */
void tgg_arg_cache_free(struct tg_optee *drv)
{
	struct arg_cache_page *cp;

	pthread_mutex_lock(&drv->lock);
	cp = drv->argc;
	drv->argc = NULL;
	pthread_mutex_unlock(&drv->lock);
	while (cp) {
		struct arg_cache_page *next = cp->next;

		/* BUSY (a call the driver lost when a mediator died still
		 * holds it): tgg_shm_free_all() asks once more. */
		if (tg_optee_shm_free(cp->shm) == TG_EBUSY)
			tgg_shm_abandon(drv, cp->shm);
		free(cp);
		cp = next;
	}
}

/*
 * FF-A without a slot of the argument cache: the argument and the RPC
 * argument after it in pages of their own, shared for this call.
 */
static int arg_buf_ffa_pages(struct tg_optee *drv, uint32_t size,
			     struct arg_buf *ab)
{
	uint32_t bytes = size + rpc_arg_size(drv);
	void *va;

	ab->form = TG_OPTEE_FORM_ARG;
	ab->ffa_pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	if (tgg_guest_pages_alloc(drv, ab->ffa_pages, &ab->ipa, &va))
		return TG_ENOMEM;
	if (tgg_ffa_temp_share(drv, ab->ipa, bytes, &ab->ffa_handle)) {
		tgg_guest_pages_free(drv, ab->ipa, ab->ffa_pages);
		return TG_ENOMEM;
	}
	ab->arg = va;
	ab->rpc_arg = (void *)((uint8_t *)va + size);
	return TG_OK;
}

static int arg_buf_get(struct tg_optee *drv, enum tg_optee_call_form form,
		       uint32_t num_params, struct arg_buf *ab)
{
	uint32_t size = OPTEE_MSG_GET_ARG_SIZE(num_params);
	void *va;
	int tries;

	memset(ab, 0, sizeof(*ab));
	if (drv->ffa) {
		/* Over FF-A the RPC argument always follows the call's. */
		if (drv->info.call_form == TG_OPTEE_FORM_REGD_ARG &&
		    num_params <= ARG_CACHE_MAX_PARAMS &&
		    form != TG_OPTEE_FORM_ARG) {
			ab->form = TG_OPTEE_FORM_REGD_ARG;
			for (tries = 0; tries < 3; tries++) {
				if (arg_cache_take(drv, ab)) {
					memset(ab->arg, 0,
					       ab->cpage->slot_size);
					ab->rpc_arg = (void *)((uint8_t *)ab->arg +
							       size);
					return TG_OK;
				}
				if (arg_cache_grow(drv))
					break;
			}
		}
		return arg_buf_ffa_pages(drv, size, ab);
	}
	if (form == TG_OPTEE_FORM_DEFAULT)
		form = drv->info.call_form;
	if (form != TG_OPTEE_FORM_ARG && !drv->info.rpc_param_count)
		form = TG_OPTEE_FORM_ARG;
	if (form == TG_OPTEE_FORM_REGD_ARG && num_params > ARG_CACHE_MAX_PARAMS)
		form = TG_OPTEE_FORM_RPC_ARG;
	if (form == TG_OPTEE_FORM_RPC_ARG &&
	    size + rpc_arg_size(drv) > PAGE_SIZE)
		form = TG_OPTEE_FORM_ARG;
	ab->form = form;

	if (form == TG_OPTEE_FORM_REGD_ARG) {
		for (tries = 0; tries < 3; tries++) {
			if (arg_cache_take(drv, ab)) {
				memset(ab->arg, 0, ab->cpage->slot_size);
				ab->rpc_arg =
					(void *)((uint8_t *)ab->arg + size);
				return TG_OK;
			}
			if (arg_cache_grow(drv))
				break;
		}
		/* No registered slot to be had: fall back like Linux would. */
		form = ab->form = TG_OPTEE_FORM_RPC_ARG;
	}
	if (page_get(drv, &ab->ipa, &va))
		return TG_ENOMEM;
	ab->arg = va;
	if (form == TG_OPTEE_FORM_RPC_ARG)
		ab->rpc_arg = (void *)((uint8_t *)va + size);
	return TG_OK;
}

/*
 * @lost (FF-A): the call got no answer, OP-TEE may still write its
 * argument until a recovery of the mediator has ended it. A slot of the
 * cache is kept out of use until a later call completes (served after
 * that recovery); pages of its own are given back only if the SPMC gives
 * them back (the unshare waits for the mediator, so for the recovery).
 */
static void arg_buf_put(struct tg_optee *drv, struct arg_buf *ab, bool lost)
{
	if (ab->ffa_pages) {
		if (tgg_ffa_temp_unshare_rc(drv, ab->ffa_handle) && lost)
			return; /* OP-TEE keeps it: never reused */
		tgg_guest_pages_free(drv, ab->ipa, ab->ffa_pages);
		return;
	}
	if (ab->form == TG_OPTEE_FORM_REGD_ARG) {
		pthread_mutex_lock(&drv->lock);
		if (lost) {
			ab->cpage->lost |= 1u << ab->slot;
			ab->cpage->lost_seq[ab->slot] = drv->call_seq;
		} else {
			ab->cpage->used &= ~(1u << ab->slot);
		}
		pthread_mutex_unlock(&drv->lock);
	} else {
		page_put(drv, ab->ipa);
	}
}

/*
 * The call that started as number @seq completed: the slots of calls
 * lost before it started are safe to reuse now. Its SMCs came after the
 * loss, which the hypervisor answers only once a restarted mediator has
 * recovered (and so ended the lost call in OP-TEE). A call that started
 * earlier proves nothing: its answer may have come before the death.
 */
static void arg_cache_release_lost(struct tg_optee *drv, uint64_t seq)
{
	struct arg_cache_page *cp;

	pthread_mutex_lock(&drv->lock);
	for (cp = drv->argc; cp; cp = cp->next) {
		for (uint32_t i = 0; i < cp->nslots; i++) {
			uint32_t bit = 1u << i;

			if ((cp->lost & bit) && cp->lost_seq[i] < seq) {
				cp->used &= ~bit;
				cp->lost &= ~bit;
			}
		}
	}
	pthread_mutex_unlock(&drv->lock);
}

/* A std call finished: a TEE thread may be free, wake the call queue. */
void tgg_cq_completed(struct tg_optee *drv)
{
	pthread_mutex_lock(&drv->cq_lock);
	drv->cq_gen++;
	if (drv->cq_waiters)
		pthread_cond_broadcast(&drv->cq_cond);
	pthread_mutex_unlock(&drv->cq_lock);
}

/*
 * ETHREAD_LIMIT: wait until one of our calls completes, or a backoff
 * interval passes (the threads may be held by other guests, whose
 * completions we never see). Never spins hot.
 */
static void cq_wait(struct tg_optee *drv, uint64_t gen_seen,
		    uint32_t *backoff_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)*backoff_ms * 1000000L;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	pthread_mutex_lock(&drv->cq_lock);
	drv->cq_waiters++;
	while (drv->cq_gen == gen_seen) {
		if (pthread_cond_timedwait(&drv->cq_cond, &drv->cq_lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	drv->cq_waiters--;
	pthread_mutex_unlock(&drv->cq_lock);
	if (*backoff_ms < 64)
		*backoff_ms *= 2;
}

static void set_call_regs(const struct arg_buf *ab, uint64_t regs[8])
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	switch (ab->form) {
	case TG_OPTEE_FORM_REGD_ARG:
		regs[0] = OPTEE_SMC_CALL_WITH_REGD_ARG;
		reg_pair_from_64(&regs[1], &regs[2], ab->cpage->shm->cookie);
		regs[3] = ab->offs;
		break;
	case TG_OPTEE_FORM_RPC_ARG:
		regs[0] = OPTEE_SMC_CALL_WITH_RPC_ARG;
		reg_pair_from_64(&regs[1], &regs[2], ab->ipa);
		break;
	default:
		regs[0] = OPTEE_SMC_CALL_WITH_ARG;
		reg_pair_from_64(&regs[1], &regs[2], ab->ipa);
		break;
	}
}

/**
 * tgg_std_call() - issue the message @msg (header + msg->num_params params, in
 * caller memory) as a std call, serve the RPCs, retry on ETHREAD_LIMIT.
 * On TG_OK the answer (header and parameters) is in @msg; *@smc_ret is a0
 * of the final SMC. A final a0 other than OK gives TG_EPROTO.
 */
int tgg_std_call(struct tg_optee *drv, enum tg_optee_call_form form,
		 struct optee_msg_arg *msg, uint32_t *smc_ret)
{
	uint32_t n = msg->num_params;
	uint32_t size = OPTEE_MSG_GET_ARG_SIZE(n);
	struct arg_buf ab;
	struct call_ctx ctx = { 0 };
	uint64_t regs[8], gen;
	uint32_t backoff_ms = 1, a0;

	if (n > OPTEE_MSG_MAX_NUM_PARAMS)
		return TG_EINVAL;
	if (arg_buf_get(drv, form, n, &ab))
		return TG_ENOMEM;
	if (drv->ffa) {
		pthread_mutex_lock(&drv->lock);
		ab.seq = ++drv->call_seq;
		pthread_mutex_unlock(&drv->lock);
	}
	memcpy(ab.arg, msg, size);
	if (ab.rpc_arg)
		ab.rpc_arg->num_params = drv->info.rpc_param_count;

	ctx.drv = drv;
	ctx.vcpu = tgg_drv_vcpu(drv);
	ctx.rpc_arg = ab.rpc_arg;
	ctx.rpc_arg_params = ab.rpc_arg ? drv->info.rpc_param_count : 0;
	STAT_INC(drv, std_calls);

	for (;;) {
		pthread_mutex_lock(&drv->cq_lock);
		gen = drv->cq_gen;
		pthread_mutex_unlock(&drv->cq_lock);
		if (drv->ffa) {
			a0 = tgg_ffa_call(&ctx,
					  ab.ffa_pages ? ab.ffa_handle
						       : ab.cpage->shm->cookie,
					  ab.ffa_pages ? 0 : ab.offs);
		} else {
			set_call_regs(&ab, regs);
			tg_smc(ctx.vcpu, regs);
			a0 = (uint32_t)regs[0];
			while (OPTEE_SMC_RETURN_IS_RPC(a0)) {
				tgg_rpc_handle(&ctx, regs);
				tg_smc(ctx.vcpu, regs);
				a0 = (uint32_t)regs[0];
			}
		}
		if (a0 != OPTEE_SMC_RETURN_ETHREAD_LIMIT)
			break;
		STAT_INC(drv, thread_limit_waits);
		cq_wait(drv, gen, &backoff_ms);
	}
	tgg_cq_completed(drv);

	if (smc_ret)
		*smc_ret = a0;
	if (a0 == OPTEE_SMC_RETURN_OK) {
		/* Copy the answer with our own count of parameters. */
		memcpy(msg, ab.arg, size);
		msg->num_params = n;
	}
	arg_buf_put(drv, &ab, ctx.lost);
	if (drv->ffa && a0 == OPTEE_SMC_RETURN_OK)
		arg_cache_release_lost(drv, ab.seq);
	return a0 == OPTEE_SMC_RETURN_OK ? TG_OK : TG_EPROTO;
}

int tg_optee_raw_call_form(struct tg_optee *drv, enum tg_optee_call_form form,
			   struct optee_msg_arg *arg, uint32_t *smc_ret)
{
	if (!drv || !arg)
		return TG_EINVAL;
	return tgg_std_call(drv, form, arg, smc_ret);
}

int tg_optee_raw_call(struct tg_optee *drv, struct optee_msg_arg *arg,
		      uint32_t *smc_ret)
{
	return tg_optee_raw_call_form(drv, TG_OPTEE_FORM_DEFAULT, arg, smc_ret);
}

/* ---- Session messages -------------------------------------------------- */

#define MSG_MAX_PARAMS (TG_OPTEE_MAX_PARAMS + 2)

struct msg_buf {
	struct optee_msg_arg hdr;
	struct optee_msg_param p[MSG_MAX_PARAMS];
};

/* Temporary page lists (or, over FF-A, shares) built for one message. */
struct tmp_lists {
	uint64_t ipa[MSG_MAX_PARAMS]; /* FF-A: the handle */
	uint32_t pages[MSG_MAX_PARAMS];
	uint32_t n;
};

static void tmp_lists_free(struct tg_optee *drv, struct tmp_lists *tl)
{
	uint32_t i;

	for (i = 0; i < tl->n; i++) {
		if (drv->ffa)
			tgg_ffa_temp_unshare(drv, tl->ipa[i]);
		else
			tgg_pagelist_free(drv, tl->ipa[i], tl->pages[i]);
	}
	tl->n = 0;
}

/*
 * FF-A memref: FMEM with the share's global id; the internal offset is
 * where the buffer starts in its first shared page. A buffer that is not
 * registered is shared for this message only. No shm and size 0: NULL.
 */
static int param_to_fmem(struct tg_optee *drv, const struct tg_optee_param *p,
			 uint32_t dir, struct optee_msg_param *mp,
			 struct tmp_lists *tl)
{
	const struct tg_optee_shm *shm = p->u.memref.shm;
	struct optee_msg_param_fmem f;
	uint64_t offs = p->u.memref.offs;

	memset(&f, 0, sizeof(f));
	mp->attr = OPTEE_MSG_ATTR_TYPE_FMEM_INPUT + dir;
	f.size = p->u.memref.size;
	if (!shm) {
		if (p->u.memref.size)
			return TG_EINVAL;
		f.global_id = OPTEE_MSG_FMEM_INVALID_GLOBAL_ID;
	} else if (shm->cookie) {
		f.global_id = shm->cookie;
		f.internal_offs = (uint16_t)(shm->ipa & PAGE_MASK_LOW);
	} else {
		uint64_t start = shm->ipa + offs;

		if (tl->n >= MSG_MAX_PARAMS || !p->u.memref.size)
			return TG_EINVAL;
		int rc = tgg_ffa_temp_share(drv, start, p->u.memref.size,
					    &tl->ipa[tl->n]);

		/* TG_ENOMEM (NO_MEMORY), or TG_EPROTO: refused, or the
		 * answer lost on the way (COMMUNICATION, session_msg()). */
		if (rc)
			return rc == TG_ENOMEM ? TG_ENOMEM : TG_EPROTO;
		f.global_id = tl->ipa[tl->n++];
		f.internal_offs = (uint16_t)(start & PAGE_MASK_LOW);
		offs = 0;
	}
	f.offs_low = (uint32_t)offs;
	f.offs_high = (uint16_t)(offs >> 32);
	if (((uint64_t)f.offs_high << 32 | f.offs_low) != offs)
		return TG_EINVAL;
	memcpy(&mp->u, &f, sizeof(f));
	return TG_OK;
}

static int param_to_msg(struct tg_optee *drv, const struct tg_optee_param *p,
			struct optee_msg_param *mp, struct tmp_lists *tl)
{
	const struct tg_optee_shm *shm;
	uint32_t dir;

	memset(mp, 0, sizeof(*mp));
	switch (p->type) {
	case TG_OPTEE_PARAM_NONE:
		return TG_OK;
	case TG_OPTEE_PARAM_VALUE_INPUT:
	case TG_OPTEE_PARAM_VALUE_OUTPUT:
	case TG_OPTEE_PARAM_VALUE_INOUT:
		mp->attr = (uint64_t)p->type;
		mp->u.value.a = p->u.value.a;
		mp->u.value.b = p->u.value.b;
		mp->u.value.c = p->u.value.c;
		return TG_OK;
	case TG_OPTEE_PARAM_MEMREF_INPUT:
	case TG_OPTEE_PARAM_MEMREF_OUTPUT:
	case TG_OPTEE_PARAM_MEMREF_INOUT:
		break;
	default:
		return TG_EINVAL;
	}
	dir = (uint32_t)p->type - TG_OPTEE_PARAM_MEMREF_INPUT; /* 0, 1, 2 */
	shm = p->u.memref.shm;
	if (shm && (p->u.memref.offs > shm->size ||
		    p->u.memref.size > shm->size - p->u.memref.offs))
		return TG_EINVAL;
	if (drv->ffa)
		return param_to_fmem(drv, p, dir, mp, tl);
	if (!shm) {
		/* NULL memref: only with size 0 and the TEE supporting it. */
		if (p->u.memref.size ||
		    !(drv->info.sec_caps & OPTEE_SMC_SEC_CAP_MEMREF_NULL))
			return TG_EINVAL;
		mp->attr = OPTEE_MSG_ATTR_TYPE_TMEM_INPUT + dir;
		return TG_OK;
	}
	if (p->u.memref.offs > shm->size ||
	    p->u.memref.size > shm->size - p->u.memref.offs)
		return TG_EINVAL;
	if (shm->cookie) {
		mp->attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT + dir;
		mp->u.rmem.offs = p->u.memref.offs;
		mp->u.rmem.size = p->u.memref.size;
		mp->u.rmem.shm_ref = shm->cookie;
		return TG_OK;
	}
	if (tl->n >= MSG_MAX_PARAMS)
		return TG_EINVAL;
	if (tgg_pagelist_build(drv, shm->ipa + p->u.memref.offs,
			       p->u.memref.size, &tl->ipa[tl->n],
			       &tl->pages[tl->n]))
		return TG_ENOMEM;
	mp->attr = (OPTEE_MSG_ATTR_TYPE_TMEM_INPUT + dir) |
		   OPTEE_MSG_ATTR_NONCONTIG;
	mp->u.tmem.buf_ptr = tl->ipa[tl->n] |
			     ((shm->ipa + p->u.memref.offs) & PAGE_MASK_LOW);
	mp->u.tmem.size = p->u.memref.size;
	tl->n++;
	return TG_OK;
}

/* Write the TEE's outputs back; memref sizes are TEE-controlled. */
static void param_from_msg(struct tg_optee_param *p,
			   const struct optee_msg_param *mp)
{
	switch (p->type) {
	case TG_OPTEE_PARAM_VALUE_OUTPUT:
	case TG_OPTEE_PARAM_VALUE_INOUT:
		p->u.value.a = mp->u.value.a;
		p->u.value.b = mp->u.value.b;
		p->u.value.c = mp->u.value.c;
		break;
	case TG_OPTEE_PARAM_MEMREF_OUTPUT:
	case TG_OPTEE_PARAM_MEMREF_INOUT:
		p->u.memref.size =
			(size_t)mp->u.tmem.size; /* same place in rmem */
		break;
	default:
		break;
	}
}

static int session_msg(struct tg_optee *drv, struct msg_buf *m, uint32_t meta,
		       struct tg_optee_param *params, uint32_t num_params,
		       struct tg_optee_result *res)
{
	struct tmp_lists tl = { .n = 0 };
	uint32_t i, smc_ret = OPTEE_SMC_RETURN_OK;
	int rc;

	for (i = 0; i < num_params; i++) {
		rc = param_to_msg(drv, &params[i], &m->p[meta + i], &tl);
		if (rc) {
			tmp_lists_free(drv, &tl);
			res->ret = rc == TG_ENOMEM ? TEEC_ERROR_OUT_OF_MEMORY
				   : rc == TG_EPROTO
					   ? TEEC_ERROR_COMMUNICATION
					   : TEEC_ERROR_BAD_PARAMETERS;
			res->origin = TEEC_ORIGIN_COMMS;
			res->smc_ret = OPTEE_SMC_RETURN_OK;
			return rc;
		}
	}
	m->hdr.num_params = meta + num_params;
	rc = tgg_std_call(drv, TG_OPTEE_FORM_DEFAULT, &m->hdr, &smc_ret);
	tmp_lists_free(drv, &tl);
	res->smc_ret = smc_ret;
	if (rc) {
		res->ret = rc == TG_ENOMEM ? TEEC_ERROR_OUT_OF_MEMORY
					   : TEEC_ERROR_COMMUNICATION;
		res->origin = TEEC_ORIGIN_COMMS;
		return rc;
	}
	res->ret = m->hdr.ret;
	res->origin = m->hdr.ret_origin;
	/*
	 * FF-A: an RPC of the call could not be served (its MEM_SHARE met a
	 * mediator death, the hypervisor answered ABORTED): OP-TEE's error
	 * is one the communication caused.
	 */
	if (drv->ffa && tgg_ffa_aborted(true) && res->ret != TEEC_SUCCESS) {
		res->ret = TEEC_ERROR_COMMUNICATION;
		res->origin = TEEC_ORIGIN_COMMS;
	}
	for (i = 0; i < num_params; i++)
		param_from_msg(&params[i], &m->p[meta + i]);
	return TG_OK;
}

int tg_optee_open_session(struct tg_optee *drv, const uint8_t uuid[16],
			  uint32_t login, const uint8_t client_uuid[16],
			  uint32_t cancel_id, struct tg_optee_param *params,
			  uint32_t num_params, uint32_t *session,
			  struct tg_optee_result *res)
{
	struct tg_optee_result local;
	struct msg_buf m;
	int rc;

	if (!res)
		res = &local;
	if (!drv || !uuid || !session || num_params > TG_OPTEE_MAX_PARAMS ||
	    (num_params && !params))
		return TG_EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	m.hdr.cancel_id = cancel_id;
	m.p[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	m.p[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	memcpy(&m.p[0].u.value, uuid, 16);
	if (client_uuid)
		memcpy(&m.p[1].u.value, client_uuid, 16);
	m.p[1].u.value.c = login;
	rc = session_msg(drv, &m, 2, params, num_params, res);
	if (rc)
		return rc;
	*session = m.hdr.session;
	return TG_OK;
}

int tg_optee_invoke(struct tg_optee *drv, uint32_t session, uint32_t func,
		    uint32_t cancel_id, struct tg_optee_param *params,
		    uint32_t num_params, struct tg_optee_result *res)
{
	struct tg_optee_result local;
	struct msg_buf m;

	if (!res)
		res = &local;
	if (!drv || num_params > TG_OPTEE_MAX_PARAMS || (num_params && !params))
		return TG_EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	m.hdr.func = func;
	m.hdr.session = session;
	m.hdr.cancel_id = cancel_id;
	return session_msg(drv, &m, 0, params, num_params, res);
}

int tg_optee_close_session(struct tg_optee *drv, uint32_t session,
			   struct tg_optee_result *res)
{
	struct tg_optee_result local;
	struct msg_buf m;

	if (!res)
		res = &local;
	if (!drv)
		return TG_EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	m.hdr.session = session;
	return session_msg(drv, &m, 0, NULL, 0, res);
}

int tg_optee_cancel(struct tg_optee *drv, uint32_t session, uint32_t cancel_id,
		    struct tg_optee_result *res)
{
	struct tg_optee_result local;
	struct msg_buf m;

	if (!res)
		res = &local;
	if (!drv)
		return TG_EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_CANCEL;
	m.hdr.session = session;
	m.hdr.cancel_id = cancel_id;
	return session_msg(drv, &m, 0, NULL, 0, res);
}
