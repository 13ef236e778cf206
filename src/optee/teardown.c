// SPDX-License-Identifier: BSD-2-Clause
/*
 * Resumable teardown of a domain whose vCPUs are stopped.
 *
 * Each step does at most one SMC (whose FOREIGN_INTR answers are resumed
 * at once, by the port when it can: tee_smc_drain()) and unpins at most
 * destroy_step_pages pages, then returns TG_AGAIN. The order keeps the isolation invariant:
 * a page is unpinned only once the TEE no longer holds its address.
 *
 *   QUIESCE   wait until no vCPU is inside tg_handle_smc()
 *   CALLS     answer every suspended RPC with an error until the TEE
 *             completes the call and releases its thread
 *   SESSIONS  close each open session (needed without virtualization,
 *             and it frees TA state early with it)
 *   BUFS      unregister each buffer, then unpin it in slices
 *   RPC_BUFS  unpin RPC buffers the TEE gave back at call end
 *   VM        VM_DESTROYED, last SMC (virtualization only)
 *   ORPHANS   unpin buffers the TEE refused to unregister; the TEE
 *             forgot them with VM_DESTROYED
 */
#include "optee.h"

/* Give up on a session or buffer the TEE keeps refusing to release. */
#define TEARDOWN_MAX_RETRIES 1000u

/**
 * internal_call_issue() - issue a mediator-originated std call on the
 * guest's behalf: CLOSE_SESSION of @session, or UNREGISTER_SHM of @b (its
 * bookkeeping then follows the call) or of a bare @cookie. One SMC: the
 * call is back FREE, or SUSPENDED in an RPC for the caller to drive.
 * Return: the call, or NULL when no call slot is free.
 */
struct optee_call *internal_call_issue(struct tg_domain *d, uint32_t cmd,
				       uint32_t session, uint64_t cookie,
				       struct shm_buf *b)
{
	struct optee_call *c = call_alloc(d);
	struct optee_msg_arg *s;
	uint64_t tee[8], shadow_pa;

	if (!c)
		return NULL;
	if (!shadow_take(d, c, &shadow_pa)) {
		call_free(d, c);
		return NULL;
	}
	c->entry = ENTRY_INTERNAL;
	c->slow = CALL_SLOW;
	c->guest_arg_ipa = 0; /* no guest to copy results back to */
	c->supplied_rpc = d->med->tee.guest_caps & OPTEE_SMC_SEC_CAP_RPC_ARG;
	c->cmd = cmd;
	c->session = session;
	c->num_params = cmd == OPTEE_MSG_CMD_UNREGISTER_SHM ? 1 : 0;
	c->out_mask[0] = c->out_mask[1] = 0; /* and nothing to copy back */
	s = c->shadow;
	memset(s, 0, arg_size(c->num_params));
	s->cmd = cmd;
	s->session = session;
	s->num_params = c->num_params;
	if (c->num_params) {
		s->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		s->params[0].u.rmem.shm_ref = b ? b->cookie : cookie;
		c->new_buf = b;
	}
	tee[0] = c->supplied_rpc ? OPTEE_SMC_CALL_WITH_RPC_ARG
				 : OPTEE_SMC_CALL_WITH_ARG;
	reg_pair_split(shadow_pa, &tee[1], &tee[2]);
	tee[3] = OPTEE_SMC_SHM_CACHED;
	tee[4] = tee[5] = tee[6] = 0;
	tee[7] = dom_id(d);
	call_run(d, c, tee, NULL);
	return c;
}

/* A teardown step: at most one SMC, whatever happens. */
static int internal_call(struct tg_domain *d, uint32_t cmd, uint32_t session,
			 struct shm_buf *b)
{
	if (!internal_call_issue(d, cmd, session, 0, b) && b) {
		/* No call slot: try again (destroy_retries bounds it). */
		dom_lock(d);
		b->state = SHM_READY;
		dom_unlock(d);
	}
	return TG_AGAIN;
}

static int close_one_session(struct tg_domain *d)
{
	uint32_t session;

	dom_lock(d);
	if (!d->session_count) {
		dom_unlock(d);
		return TG_OK;
	}
	session = session_any(d);
	if (++d->destroy_retries > TEARDOWN_MAX_RETRIES) {
		/* The TEE keeps failing the close: VM_DESTROYED frees it. */
		tg_log(d->med, TG_LOG_WARN, dom_id(d),
		       "teardown: TEE would not close session", session);
		session_remove(d, session);
		d->destroy_retries = 0;
		dom_unlock(d);
		return TG_AGAIN;
	}
	dom_unlock(d);
	return internal_call(d, OPTEE_MSG_CMD_CLOSE_SESSION, session, NULL);
}

static struct shm_buf *first_buf(struct tg_domain *d, enum shm_state st)
{
	struct shm_buf *b;
	uint32_t i;

	for (i = 0; i < TG_SHM_HASH_BUCKETS; i++)
		for (b = d->shm[i]; b; b = b->next)
			if (b->state == st)
				return b;
	return NULL;
}

/* Unpin a slice of @b; true when it is fully unpinned. */
static bool unpin_slice(struct tg_domain *d, struct shm_buf *b)
{
	uint32_t from = b->unpinned, n = b->npages - from;

	if (n > d->med->cfg.destroy_step_pages)
		n = d->med->cfg.destroy_step_pages;
	/* Progress first: after a crash here the pins are unreferenced,
	 * and recovery drops them; never unpinned twice. */
	b->unpinned = from + n;
	shm_buf_unpin(d, b, from, n);
	pin_unreserve(d, n);
	return b->unpinned >= b->npages;
}

static int unregister_bufs(struct tg_domain *d)
{
	struct shm_buf *b = d->dead_bufs;

	if (b) {
		if (unpin_slice(d, b)) {
			d->dead_bufs = b->next;
			shm_buf_free(d, b);
		}
		return TG_AGAIN;
	}
	dom_lock(d);
	b = first_buf(d, SHM_READY);
	if (b && ++d->destroy_retries > TEARDOWN_MAX_RETRIES) {
		tg_log(d->med, TG_LOG_WARN, dom_id(d),
		       "teardown: TEE would not unregister buffer", b->cookie);
		b->state = SHM_ORPHANED;
		d->destroy_retries = 0;
		dom_unlock(d);
		return TG_AGAIN;
	}
	if (b)
		b->state = SHM_UNREGISTERING;
	dom_unlock(d);
	if (!b)
		return TG_OK;
	return internal_call(d, OPTEE_MSG_CMD_UNREGISTER_SHM, 0, b);
}

static int release_rpc_bufs(struct tg_domain *d)
{
	struct rpc_buf *b;

	dom_lock(d);
	b = d->rpc_bufs;
	if (b)
		rpc_buf_unlink(d, b);
	dom_unlock(d);
	if (!b)
		return TG_OK;
	rpc_buf_release(d, b);
	return TG_AGAIN;
}

static int unpin_orphans(struct tg_domain *d)
{
	struct shm_buf *b = first_buf(d, SHM_ORPHANED);

	if (!b)
		return TG_OK;
	if (!d->med->tee.virtualization) {
		/* No VM_DESTROYED: the TEE may still hold these addresses,
		 * so the pages stay pinned for good rather than be reused. */
		tg_log(d->med, TG_LOG_ERROR, dom_id(d),
		       "teardown: leaving buffer pinned, TEE holds it",
		       b->cookie);
		shm_unlink(d, b);
		shm_buf_free(d, b); /* the shadow list, not the pins */
		return TG_AGAIN;
	}
	if (unpin_slice(d, b)) {
		shm_unlink(d, b);
		shm_buf_free(d, b);
	}
	return TG_AGAIN;
}

int optee_domain_destroy_step(struct tg_domain *d)
{
	struct optee_call *c;
	uint64_t tee[8];

	/* Teardown's own calls may be suspended in any phase. */
	c = call_claim_suspended(d, true, 0);
	if (c) {
		uint32_t a0;

		/* One SMC; its FOREIGN_INTR are resumed in the port. */
		rpc_answer_error(d, c, tee);
		if (call_drive(d, c, tee, 1, &a0))
			call_free(d, c);
		return TG_AGAIN;
	}
	switch (d->destroy_phase) {
	case DESTROY_QUIESCE:
		if (atomic_load(&d->active))
			return TG_AGAIN;
		d->destroy_phase = DESTROY_CALLS;
		/* fall through */
	case DESTROY_CALLS:
		/* No call is RUNNING once quiesced; suspended ones are
		 * driven above, one SMC per step. */
		d->destroy_phase = DESTROY_SESSIONS;
		d->destroy_retries = 0;
		/* fall through */
	case DESTROY_SESSIONS:
		if (close_one_session(d) == TG_AGAIN)
			return TG_AGAIN;
		d->destroy_phase = DESTROY_BUFS;
		d->destroy_retries = 0;
		/* fall through */
	case DESTROY_BUFS:
		if (unregister_bufs(d) == TG_AGAIN)
			return TG_AGAIN;
		d->destroy_phase = DESTROY_RPC_BUFS;
		/* fall through */
	case DESTROY_RPC_BUFS:
		if (release_rpc_bufs(d) == TG_AGAIN)
			return TG_AGAIN;
		d->destroy_phase = DESTROY_VM;
		/* fall through */
	case DESTROY_VM:
		d->destroy_phase = DESTROY_ORPHANS;
		if (d->med->tee.virtualization) {
			tg_domain_vm_destroyed(d);
			return TG_AGAIN;
		}
		/* fall through */
	case DESTROY_ORPHANS:
		if (unpin_orphans(d) == TG_AGAIN)
			return TG_AGAIN;
		d->destroy_phase = DESTROY_FREE;
		/* fall through */
	case DESTROY_FREE:
	default:
		return TG_OK;
	}
}
