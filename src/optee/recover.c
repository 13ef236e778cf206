// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recovery of a mediator whose process died at an arbitrary instant (the
 * isolation modes keep its state in memory that outlives the process).
 *
 * What the dead process may have left half done, and what is done here:
 *
 *  - a call SUSPENDED in an RPC whose resume handle the guest holds: kept,
 *    the guest resumes it as if nothing happened;
 *  - any other call in flight (RUNNING, or SUSPENDED with a handle the
 *    guest never received): ended. Its TEE thread, if the TEE is waiting
 *    on it, is driven to completion with error answers; then the call's
 *    references are dropped without unpinning (see below). A half-done
 *    REGISTER_SHM or UNREGISTER_SHM is undone with UNREGISTER_SHM, an
 *    OPEN_SESSION the TEE completed is closed: the guest saw each fail;
 *  - counters are recomputed from the structures they count;
 *  - pins: every reference to a pinned page is dropped before the page is
 *    unpinned, everywhere in the core, so the state never references a
 *    pin that is gone. Recovery reports the pins the state references
 *    (keep_pins) and the hypervisor drops every other pin it holds for
 *    the domain: those of the calls ended here and of anything the dead
 *    process had pinned but not linked yet;
 *  - shm pages: the port empties its allocator and tg_mediator_recover()
 *    claims the pages the state references, so pages taken but never
 *    linked are free again.
 *
 * Bookkeeping blocks (port->alloc) taken but not linked at the crash are
 * lost: a few hundred bytes per crash at most.
 */
#include "optee.h"

/* Bound on RPC round trips to end one TEE thread. */
#define RECOVER_MAX_RPCS 100000u
#define KEEP_BATCH 256u

/* ---- claiming shm pages ------------------------------------------------ */

static void claim(const struct tg_recover_ops *ops, void *va, uint32_t n)
{
	if (va && n && ops && ops->shm_claim)
		ops->shm_claim(ops->ctx, va, n);
}

static void claim_domain(struct tg_domain *d, const struct tg_recover_ops *ops)
{
	struct shm_buf *b;
	struct rpc_buf *rb;
	struct call_res *r;
	uint32_t i;

	if (!d->calls)
		return;
	for (i = 0; i < d->limits.max_calls; i++) {
		struct optee_call *c = &d->calls[i];

		if (atomic_load(&c->state) == CALL_FREE) {
			c->shadow = NULL; /* a FREE slot holds none */
			continue;
		}
		/* The bit from the page (a death may have split their two
		 * stores); a pool page is claimed with the pool (shadow.c). */
		c->shadow_bit = shadow_pool_bit_of(d->med, c->shadow);
		if (!c->shadow_bit)
			claim(ops, c->shadow, 1);
		for (r = c->res; r; r = r->next)
			if (r->kind == RES_TMEM)
				claim(ops, r->list, r->list_pages);
	}
	for (i = 0; i < TG_SHM_HASH_BUCKETS; i++)
		for (b = d->shm[i]; b; b = b->next)
			claim(ops, b->list, b->list_pages);
	for (b = d->dead_bufs; b; b = b->next)
		claim(ops, b->list, b->list_pages);
	for (rb = d->rpc_bufs; rb; rb = rb->next) {
		claim(ops, rb->shadow, 1);
		claim(ops, rb->list, rb->list_pages);
	}
}

/*
 * optee_recover() - struct tg_proto's recover: the slots are reset by the
 * core (src/core/proto.c); claim the shm pages the domains and the
 * shadow pool reference.
 */
void optee_recover(struct tg_mediator *med, const struct tg_recover_ops *ops)
{
	uint32_t i;

	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *d = &med->slots[i];
		uint32_t st = atomic_load(&d->state);

		if (st == SLOT_LIVE || st == SLOT_DYING || st == SLOT_FREEING)
			claim_domain(d, ops);
	}
	shadow_pool_recover(med, ops);
}

/* ---- ending what was in flight ----------------------------------------- */

static bool handle_held(const struct tg_recover_info *ri, uint32_t h)
{
	uint32_t i, n = ri->nhandles < TG_RECOVER_MAX_HANDLES
				? ri->nhandles
				: TG_RECOVER_MAX_HANDLES;

	for (i = 0; i < n; i++)
		if (ri->handles[i] == h)
			return true;
	return false;
}

/* Index of @thread among the suspended threads, or -1. */
static int thread_index(const struct tg_recover_info *ri, uint32_t thread)
{
	uint32_t i, n = ri->nthreads < TG_RECOVER_MAX_THREADS
				? ri->nthreads
				: TG_RECOVER_MAX_THREADS;

	for (i = 0; i < n; i++)
		if (ri->threads[i].thread == thread)
			return (int)i;
	return -1;
}

/*
 * End a SUSPENDED call the way teardown does: error answers until the TEE
 * completes it (normal bookkeeping, so FREE and SHM_FREE are honoured).
 */
static void end_suspended(struct tg_domain *d, struct optee_call *c)
{
	uint64_t tee[8];
	uint32_t a0;

	if (!call_transition(d, c, CALL_SUSPENDED, CALL_RUNNING))
		return;
	rpc_answer_error(d, c, tee);
	if (call_drive(d, c, tee, RECOVER_MAX_RPCS, &a0)) {
		call_free(d, c);
		return;
	}
	tg_log(d->med, TG_LOG_ERROR, dom_id(d),
	       "recovery: TEE thread would not complete", c->tee_thread);
}

/*
 * A TEE thread suspended in an RPC that no call records (the process died
 * between the SMC and writing it down): answer its RPCs with errors until
 * it completes. OP-TEE presets an RPC argument's ret to an error, so an
 * unanswered CMD fails; an ALLOC gets no buffer; FREE and SHM_FREE are
 * honoured for the buffers the domain holds.
 */
static void end_orphan_thread(struct tg_domain *d, uint32_t thread,
			      uint32_t a0, uint32_t a1, uint32_t a2)
{
	uint64_t r[8];
	uint32_t n;

	for (n = 0; n < RECOVER_MAX_RPCS; n++) {
		uint32_t func = OPTEE_SMC_RPC_FUNC(a0);
		uint64_t cookie = reg_pair(a1, a2);
		struct rpc_buf *b = NULL;

		memset(r, 0, sizeof(r));
		r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		r[1] = a1;
		r[2] = a2;
		r[3] = thread;
		r[7] = dom_id(d);
		if (func == OPTEE_SMC_RPC_FUNC_ALLOC) {
			r[1] = r[2] = 0;
		} else if (func == OPTEE_SMC_RPC_FUNC_FREE) {
			dom_lock(d);
			b = rpc_buf_find(d, cookie);
			if (b && b->kind == RPC_BUF_ARG)
				rpc_buf_unlink(d, b);
			else
				b = NULL;
			dom_unlock(d);
		} else if (func == OPTEE_SMC_RPC_FUNC_CMD) {
			dom_lock(d);
			b = rpc_buf_find(d, cookie);
			if (b && b->kind == RPC_BUF_ARG && b->shadow) {
				struct optee_msg_arg *s = b->shadow;

				s->ret = TEEC_ERROR_COMMUNICATION;
				s->ret_origin = TEEC_ORIGIN_COMMS;
			}
			dom_unlock(d);
			b = NULL;
		}
		if (b)
			rpc_buf_release(d, b);
		tee_smc_drain(d, r);
		if (!OPTEE_SMC_RETURN_IS_RPC(r[0]))
			return;
		a0 = (uint32_t)r[0];
		a1 = (uint32_t)r[1];
		a2 = (uint32_t)r[2];
		thread = (uint32_t)r[3];
	}
	tg_log(d->med, TG_LOG_ERROR, dom_id(d),
	       "recovery: orphan TEE thread would not complete", thread);
}

/* Run a mediator std call on the domain's behalf to completion. */
static void internal_std(struct tg_domain *d, uint32_t cmd, uint32_t session,
			 uint64_t cookie)
{
	struct optee_call *c = internal_call_issue(d, cmd, session, cookie,
						   NULL);

	if (!c) {
		tg_log(d->med, TG_LOG_ERROR, dom_id(d),
		       "recovery: no call slot to undo a call", cmd);
		return;
	}
	end_suspended(d, c);
}

/* What to undo in the TEE once its threads are quiet. */
struct undo {
	uint64_t cookies[TG_MAX_CALLS_PER_DOMAIN];
	uint32_t sessions[TG_MAX_CALLS_PER_DOMAIN];
	uint32_t ncookies, nsessions;
};

static void undo_session(struct undo *u, uint32_t session)
{
	uint32_t i;

	for (i = 0; i < u->nsessions; i++)
		if (u->sessions[i] == session)
			return;
	if (u->nsessions < TG_MAX_CALLS_PER_DOMAIN)
		u->sessions[u->nsessions++] = session;
}

static bool buf_referenced(struct tg_domain *d, const struct shm_buf *b);

void recover_note_commit(struct tg_domain *d, const struct optee_call *c,
			 uint64_t ref)
{
	struct call_side *side = &d->sides[c->index];

	side->commit_cmd = c->cmd;
	side->commit_ref = ref;
	side->commit_shadow = c->shadow;
}

/*
 * A call the TEE completed in a conversation of this domain that died
 * before the answer reached the guest: the guest saw it fail, so what it
 * committed is undone. @shadow_pa is the page the call's message was in
 * (the hypervisor saw it in the SMC that started the call). Its bytes are
 * what the TEE answered if the page is still the call's (a RUNNING call
 * that died between the commit and its end), or if it went back to the
 * pool with this call as its last user: the slot's commit record (set by
 * msg_commit()) names the page and what it committed, and must agree with
 * the page. A page another call holds, or one the port got back, says
 * nothing.
 */
static void undo_lost_answer(struct tg_domain *d, uint64_t shadow_pa,
			     struct undo *u, struct tg_recover_stats *st)
{
	const struct shadow_pool *p = &d->med->shadow;
	const struct optee_msg_arg *s = NULL;
	uint64_t ref, busy = ~shadow_pool_free_bits(p);
	struct shm_buf *b;
	uint32_t i, k;

	for (i = 0; i < TG_SHADOW_POOL_MAX; i++)
		if (p->va[i] && p->pa[i] == shadow_pa)
			break;
	if (i == TG_SHADOW_POOL_MAX)
		return;
	for (k = 0; k < d->limits.max_calls; k++) {
		const struct optee_call *c = &d->calls[k];

		if (c->shadow != p->va[i])
			continue;
		if (atomic_load(&c->state) == CALL_RUNNING)
			s = p->va[i];
		break;
	}
	if (!s && !(busy & (1ull << i))) {
		const struct optee_msg_arg *page = p->va[i];

		ref = page->cmd == OPTEE_MSG_CMD_OPEN_SESSION
			      ? page->session
			      : page->params[0].u.tmem.shm_ref;
		for (k = 0; k < d->limits.max_calls; k++)
			if (atomic_load(&d->calls[k].state) == CALL_FREE &&
			    d->sides[k].commit_shadow == p->va[i] &&
			    d->sides[k].commit_cmd == page->cmd &&
			    d->sides[k].commit_ref == ref)
				s = page;
	}
	if (!s || s->ret != TEEC_SUCCESS)
		return;
	if (s->cmd == OPTEE_MSG_CMD_OPEN_SESSION) {
		if (s->session && session_known(d, s->session))
			undo_session(u, s->session);
		return;
	}
	if (s->cmd != OPTEE_MSG_CMD_REGISTER_SHM ||
	    u->ncookies >= TG_MAX_CALLS_PER_DOMAIN)
		return;
	b = shm_find(d, s->params[0].u.tmem.shm_ref);
	if (!b || b->state != SHM_READY || buf_referenced(d, b))
		return;
	u->cookies[u->ncookies++] = b->cookie;
	shm_unlink(d, b);
	shm_buf_free(d, b);
	st->bufs_dropped++;
}

/*
 * Drop a call that was in flight: its references go without unpinning
 * (the pins are not reported to keep_pins, so the hypervisor drops them),
 * its shm pages are freed, and what the TEE may hold because of it is
 * noted in @u.
 */
static void drop_call(struct tg_domain *d, struct optee_call *c,
		      struct undo *u, struct tg_recover_stats *st)
{
	struct call_res *r = c->res, *next;
	struct shm_buf *b = c->new_buf;

	c->res = NULL;
	for (; r; r = next) {
		next = r->next;
		if (r->kind == RES_TMEM)
			pagelist_free_list(d, r->list, r->list_pages);
		tg_free(d->med, r, sizeof(*r));
	}
	if (b && (b->state == SHM_REGISTERING ||
		  b->state == SHM_UNREGISTERING ||
		  (b->state == SHM_READY &&
		   c->cmd == OPTEE_MSG_CMD_REGISTER_SHM))) {
		/* The TEE may hold it or not (or holds it, committed, but
		 * the guest saw the call fail): unregister it there. */
		u->cookies[u->ncookies++] = b->cookie;
		shm_unlink(d, b);
		shm_buf_free(d, b);
		st->bufs_dropped++;
	}
	if (c->opening && c->shadow && c->shadow->ret == TEEC_SUCCESS &&
	    c->shadow->session)
		undo_session(u, c->shadow->session);
	c->new_buf = NULL;
	c->regd_buf = NULL;
	c->opening = false;
	if (c->shadow)
		shadow_give(d, c);
	atomic_store(&c->state, CALL_FREE);
	st->calls_failed++;
}

static bool buf_referenced(struct tg_domain *d, const struct shm_buf *b)
{
	const struct call_res *r;
	uint32_t i;

	for (i = 0; i < d->limits.max_calls; i++) {
		const struct optee_call *c = &d->calls[i];

		if (atomic_load(&c->state) == CALL_FREE)
			continue;
		if (c->new_buf == b || c->regd_buf == b)
			return true;
		for (r = c->res; r; r = r->next)
			if (r->kind == RES_RMEM && r->buf == b)
				return true;
	}
	return false;
}

/* Registered buffers nothing in flight refers to any more. */
static void settle_bufs(struct tg_domain *d, struct tg_recover_stats *st)
{
	struct shm_buf *b, *next;
	uint32_t i;

	for (i = 0; i < TG_SHM_HASH_BUCKETS; i++) {
		for (b = d->shm[i]; b; b = next) {
			next = b->next;
			if (buf_referenced(d, b))
				continue;
			if (b->state == SHM_REGISTERING) {
				/* Its REGISTER never reached the TEE. */
				shm_unlink(d, b);
				shm_buf_free(d, b);
				st->bufs_dropped++;
			} else if (b->state == SHM_UNREGISTERING) {
				b->state = SHM_READY; /* nor its UNREGISTER */
			}
		}
	}
}

/* RPC argument buffers live only as long as their call. */
static void settle_rpc_bufs(struct tg_domain *d)
{
	struct rpc_buf *b, *next;

	for (b = d->rpc_bufs; b; b = next) {
		next = b->next;
		if (b->kind != RPC_BUF_ARG ||
		    (b->owner &&
		     atomic_load(&((struct optee_call *)b->owner)->state) ==
			     CALL_SUSPENDED))
			continue;
		rpc_buf_unlink(d, b);
		/* unpinned by the hypervisor (not kept): free the rest */
		b->arg_pa = 0;
		rpc_buf_release(d, b);
	}
}

/* ---- counters and pins --------------------------------------------------- */

static void recount(struct tg_domain *d)
{
	uint64_t pinned = 0, shadow = 0;
	uint32_t i, busy = 0, reserved = 0, n = 0, hwm = 0;
	struct shm_buf *b;
	struct rpc_buf *rb;
	struct call_res *r;

	for (i = 0; i < TG_SHM_HASH_BUCKETS; i++)
		for (b = d->shm[i]; b; b = b->next) {
			b->in_use = 0;
			n++;
			pinned += b->npages - b->unpinned;
			shadow += b->list_pages;
		}
	d->shm_count = n;
	for (b = d->dead_bufs; b; b = b->next) {
		pinned += b->npages - b->unpinned;
		shadow += b->list_pages;
	}
	n = 0;
	for (rb = d->rpc_bufs; rb; rb = rb->next) {
		n++;
		pinned += rb->list ? rb->npages : rb->arg_pa ? 1 : 0;
		shadow += rb->list_pages + (rb->shadow ? 1 : 0);
	}
	d->rpc_count = n;
	for (i = 0; i < d->limits.max_calls; i++) {
		struct optee_call *c = &d->calls[i];

		/* A call's own shadow page is counted by tg_domain_stats(). */
		if (atomic_load(&c->state) == CALL_FREE)
			continue;
		busy++;
		reserved += c->opening;
		if (c->regd_buf)
			c->regd_buf->in_use++;
		for (r = c->res; r; r = r->next) {
			if (r->kind == RES_TMEM) {
				pinned += r->npages;
				shadow += r->list_pages;
			} else {
				r->buf->in_use++;
			}
		}
	}
	atomic_store(&d->calls_busy, busy);
	d->sessions_reserved = reserved;
	n = 0;
	for (i = 0; i < d->limits.max_sessions; i++)
		if (atomic_load(&d->sessions[i])) {
			n++;
			hwm = i + 1;
		}
	d->session_count = n;
	atomic_store(&d->session_hwm, hwm);
	atomic_store(&d->pinned_pages, pinned);
	atomic_store(&d->shadow_pages, shadow);
}

struct keeper {
	const struct tg_recover_ops *ops;
	uint32_t cid;
	uint64_t batch[KEEP_BATCH];
	uint32_t n;
	uint64_t total;
};

static void keep(struct keeper *k, uint64_t pa)
{
	k->batch[k->n++] = pa;
	k->total++;
	if (k->n == KEEP_BATCH) {
		k->ops->keep_pins(k->ops->ctx, k->cid, k->batch, k->n);
		k->n = 0;
	}
}

/* Entries [from, npages) of a shadow page list. */
static void keep_list(struct keeper *k, const uint64_t *list, uint32_t npages,
		      uint32_t from)
{
	const uint32_t per = OPTEE_MSG_PAGELIST_ENTRIES;
	const uint32_t slots = TG_PAGE_SIZE / sizeof(uint64_t);
	uint32_t i;

	if (!list)
		return;
	for (i = from; i < npages; i++)
		keep(k, list[(i / per) * slots + i % per]);
}

/* A registered buffer's pins not unpinned yet (teardown's progress). */
static void keep_buf(struct keeper *k, const struct shm_buf *b)
{
	uint32_t i;

	if (!b->pa) {
		keep_list(k, b->list, b->npages, b->unpinned);
		return;
	}
	for (i = b->unpinned; i < b->npages; i++)
		keep(k, b->pa[i]);
}

static uint64_t keep_pins(struct tg_domain *d,
			  const struct tg_recover_ops *ops)
{
	struct keeper *k;
	struct shm_buf *b;
	struct rpc_buf *rb;
	struct call_res *r;
	uint64_t total;
	uint32_t i;

	if (!ops || !ops->keep_pins)
		return 0;
	k = tg_zalloc(d->med, sizeof(*k));
	if (!k) {
		/* Without the list the hypervisor cannot know what to drop:
		 * keep every pin (leaks until teardown, never unsafe). */
		tg_log(d->med, TG_LOG_ERROR, dom_id(d),
		       "recovery: no memory to report pins", 0);
		return 0;
	}
	k->ops = ops;
	k->cid = dom_id(d);
	/* an ORPHANED buffer is being unpinned in slices (teardown) */
	for (i = 0; i < TG_SHM_HASH_BUCKETS; i++)
		for (b = d->shm[i]; b; b = b->next)
			keep_buf(k, b);
	for (b = d->dead_bufs; b; b = b->next)
		keep_buf(k, b);
	for (rb = d->rpc_bufs; rb; rb = rb->next) {
		if (rb->list)
			keep_list(k, rb->list, rb->npages, 0);
		else if (rb->arg_pa)
			keep(k, rb->arg_pa);
	}
	for (i = 0; i < d->limits.max_calls; i++) {
		if (atomic_load(&d->calls[i].state) == CALL_FREE)
			continue;
		for (r = d->calls[i].res; r; r = r->next)
			if (r->kind == RES_TMEM)
				keep_list(k, r->list, r->npages, 0);
	}
	if (k->n)
		ops->keep_pins(ops->ctx, k->cid, k->batch, k->n);
	ops->keep_pins(ops->ctx, k->cid, NULL, 0);
	total = k->total;
	tg_free(d->med, k, sizeof(*k));
	return total;
}

/*
 * optee_domain_recover() - struct tg_proto's domain_recover, for a slot
 * the core found LIVE or DYING (see tg_domain_recover()).
 */
int optee_domain_recover(struct tg_domain *d, const struct tg_recover_info *info,
			 const struct tg_recover_ops *ops,
			 struct tg_recover_stats *out)
{
	static const struct tg_recover_info none;
	struct tg_mediator *med = d->med;
	struct tg_recover_stats st = { 0 };
	struct undo *u;
	bool owned[TG_RECOVER_MAX_THREADS] = { false };
	uint32_t i, state, nthreads;
	int t;

	if (!info)
		info = &none;
	state = atomic_load(&d->state);
	if (!d->calls) {
		if (out)
			*out = st;
		return TG_OK; /* only its final free is left */
	}
	u = tg_zalloc(med, sizeof(*u));
	if (!u)
		return TG_ENOMEM;
	nthreads = info->nthreads < TG_RECOVER_MAX_THREADS
			   ? info->nthreads
			   : TG_RECOVER_MAX_THREADS;

	/* Suspended calls: keep those the guest can resume; end the rest
	 * (the guest saw their conversation fail). A call the dead process
	 * was taking back from its guest is RUNNING: dropped below. */
	for (i = 0; i < d->limits.max_calls; i++) {
		struct optee_call *c = &d->calls[i];

		atomic_store(&d->sides[i].taken, 0);
		if (atomic_load(&c->state) != CALL_SUSPENDED)
			continue;
		t = thread_index(info, c->tee_thread);
		if (t >= 0)
			owned[t] = true;
		if (t >= 0 && state == SLOT_LIVE && c->entry != ENTRY_INTERNAL &&
		    handle_held(info, atomic_load(&c->resume_handle))) {
			st.calls_kept++;
			continue;
		}
		if (t < 0) {
			/* The TEE is not waiting on it: nothing to resume. */
			atomic_store(&c->state, CALL_RUNNING);
			continue; /* dropped below */
		}
		end_suspended(d, c);
		st.threads_ended++;
		if (c->entry != ENTRY_INTERNAL)
			st.calls_failed++;
	}
	/* TEE threads in an RPC that no call recorded. */
	for (i = 0; i < nthreads; i++) {
		if (owned[i])
			continue;
		end_orphan_thread(d, info->threads[i].thread,
				  info->threads[i].a0, info->threads[i].a1,
				  info->threads[i].a2);
		st.threads_ended++;
	}
	/* Calls the TEE completed whose answer the guest never got. */
	for (i = 0; i < info->ndone && i < TG_RECOVER_MAX_DONE; i++)
		undo_lost_answer(d, reg_pair(info->done[i].a1, info->done[i].a2),
				 u, &st);
	/* The TEE runs nothing of this domain's now but the kept calls. */
	for (i = 0; i < d->limits.max_calls; i++)
		if (atomic_load(&d->calls[i].state) == CALL_RUNNING)
			drop_call(d, &d->calls[i], u, &st);

	settle_bufs(d, &st);
	settle_rpc_bufs(d);
	recount(d);

	for (i = 0; i < u->ncookies; i++)
		internal_std(d, OPTEE_MSG_CMD_UNREGISTER_SHM, 0, u->cookies[i]);
	for (i = 0; i < u->nsessions; i++) {
		internal_std(d, OPTEE_MSG_CMD_CLOSE_SESSION, u->sessions[i], 0);
		st.sessions_closed++;
	}
	tg_free(med, u, sizeof(*u));
	/* A teardown past VM_DESTROYED may have died before issuing it. */
	if (state == SLOT_DYING && d->destroy_phase >= DESTROY_ORPHANS)
		tg_domain_vm_destroyed(d);
	recount(d);
	st.bufs_kept = d->shm_count;
	st.sessions_kept = d->session_count;
	st.pins_kept = keep_pins(d, ops);
	if (out)
		*out = st;
	return TG_OK;
}
