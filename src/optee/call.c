// SPDX-License-Identifier: BSD-2-Clause
/*
 * Std calls and the RPC state machine.
 *
 * A guest std call takes a call slot, its argument is copied once into the
 * slot's shadow page (see msg.c), and the TEE is called with the shadow.
 * When the TEE answers with an RPC the slot is SUSPENDED and the guest
 * gets a resume handle for it; only the same domain's RETURN_FROM_RPC with
 * that handle can resume it, once. Everything the guest answers is copied
 * once and translated before the TEE sees it; the TEE never reads
 * guest-writable memory except pinned data pages of memrefs.
 */
#include "optee.h"

static inline void reply(uint64_t regs[8], uint32_t a0)
{
	regs[0] = a0;
	regs[1] = 0;
	regs[2] = 0;
	regs[3] = 0;
	regs[4] = 0;
	regs[5] = 0;
	regs[6] = 0;
	regs[7] = 0;
}

/*
 * Take a free call slot, if the domain may hold one more TEE thread
 * (call_cap). @calls_busy reserves one first, so a free slot exists while
 * we scan: a slot is marked FREE before its reservation is dropped.
 */
static inline bool call_try(struct tg_domain *d, struct optee_call *c)
{
	return likely(atomic_load_explicit(&c->state, memory_order_relaxed) ==
		      CALL_FREE) &&
	       likely(call_transition(d, c, CALL_FREE, CALL_RUNNING));
}

/* call_alloc() past its first slot. */
static __attribute__((noinline, returns_nonnull)) struct optee_call *
call_alloc_scan(struct tg_domain *d)
{
	struct optee_call *c = d->calls, *end = c + d->limits.max_calls;

	for (;;) {
		if (++c >= end)
			c = d->calls;
		if (call_try(d, c))
			return c;
	}
}

inline struct optee_call *call_alloc(struct tg_domain *d)
{
	struct optee_call *c;

	if (unlikely(atomic_fetch_add(&d->calls_busy, 1) >=
		     atomic_load_explicit(&d->call_cap,
					  memory_order_relaxed))) {
		atomic_fetch_sub(&d->calls_busy, 1);
		return NULL;
	}
	c = d->calls;
	if (!c)
		__builtin_unreachable(); /* from optee_domain_init() on */
	if (likely(call_try(d, c)))
		return c;
	return call_alloc_scan(d);
}

/*
 * One slot past the domain's cap, for a CANCEL (std_call_at_cap()): only
 * from exactly the cap, so one at a time, and only while the cap is in
 * force (not 0: a held-back domain waits) and a slot is left.
 */
struct optee_call *call_alloc_past_cap(struct tg_domain *d)
{
	uint32_t cap = atomic_load(&d->call_cap), busy = cap;

	if (!cap || cap >= d->limits.max_calls ||
	    !atomic_compare_exchange_strong(&d->calls_busy, &busy, cap + 1))
		return NULL;
	return call_alloc_scan(d);
}

/*
 * Return a slot whose resources were released (call_release_resources()
 * left res, regd_buf, new_buf and opening clear), and its shadow page to
 * the pool. Every other field is set afresh by whoever takes the slot next.
 */
inline void call_free(struct tg_domain *d, struct optee_call *c)
{
	if (c->shadow)
		shadow_give(d, c);
	call_transition(d, c, CALL_RUNNING, CALL_FREE);
	atomic_fetch_sub(&d->calls_busy, 1);
}

/* call_free() of a call known to hold its shadow page. */
static inline void call_free_shadowed(struct tg_domain *d, struct optee_call *c)
{
	shadow_give(d, c);
	call_transition(d, c, CALL_RUNNING, CALL_FREE);
	atomic_fetch_sub(&d->calls_busy, 1);
}

/*
 * Claim a call suspended in an RPC: the one whose resume handle the guest
 * gave back, or any with @any (teardown). The compare-and-swap makes the
 * claim exclusive, so a call is resumed at most once however many vCPUs
 * race. A handle from another domain, a stale generation or a call that
 * is not waiting does not match.
 */
static inline struct optee_call *call_claim_handle(struct tg_domain *d,
						   uint32_t resume_handle)
{
	uint32_t i = resume_handle & 0xFFu;
	struct optee_call *c;

	if (unlikely(i >= d->limits.max_calls))
		return NULL;
	c = &d->calls[i];
	if (unlikely(atomic_load(&c->resume_handle) != resume_handle) ||
	    unlikely(!call_transition(d, c, CALL_SUSPENDED, CALL_RUNNING)))
		return NULL;
	return c;
}

struct optee_call *call_claim_suspended(struct tg_domain *d, bool any,
					uint32_t resume_handle)
{
	struct optee_call *c;
	uint32_t i;

	if (!any)
		return call_claim_handle(d, resume_handle);
	for (i = 0; i < d->limits.max_calls; i++) {
		c = &d->calls[i];
		if (atomic_load(&c->state) == CALL_SUSPENDED &&
		    call_transition(d, c, CALL_SUSPENDED, CALL_RUNNING))
			return c;
	}
	return NULL;
}

/* The argument could not be read: nothing to copy an error back to. */
static int fetch_fail(struct optee_call *c, struct msg_err *e)
{
	c->guest_arg_ipa = 0;
	return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR, TG_REFUSE_BAD_ADDR);
}

/*
 * The second half of the argument's copy (std_call_prepare(),
 * fetch_arg_slow()): @c->shadow holds the first @have bytes of
 * the guest's message at @guest_ipa, with @room bytes usable there. Read
 * num_params once, copy the rest of exactly that many parameters.
 */
static int fetch_rest(struct tg_domain *d, struct optee_call *c,
		      uint64_t guest_ipa, uint64_t room, uint32_t have,
		      uint32_t extra, struct msg_err *e)
{
	struct tg_port *port = &d->med->port;
	uint32_t n = c->shadow->num_params;

	/* Read once; the guest may rewrite its copy from now on. */
	if (n > OPTEE_MSG_MAX_NUM_PARAMS || arg_size(n) + extra > room)
		return fetch_fail(c, e);
	if (arg_size(n) > have &&
	    port->copy_from_guest(port->ctx, dom_id(d),
				  (uint8_t *)c->shadow + have, guest_ipa + have,
				  arg_size(n) - have) != TG_OK)
		return fetch_fail(c, e);
	c->num_params = n;
	c->cmd = c->shadow->cmd;
	c->session = c->shadow->session;
	c->guest_arg_ipa = guest_ipa;
	c->supplied_rpc = extra != 0;
	return 0;
}

/*
 * Locate the guest argument of a CALL_WITH_RPC_ARG or CALL_WITH_REGD_ARG
 * and copy it, RPC argument room included, into the shadow page.
 */
static __attribute__((noinline)) int
fetch_arg_slow(struct tg_domain *d, struct optee_call *c,
	       const uint64_t regs[8], struct msg_err *e)
{
	struct tg_port *port = &d->med->port;
	uint32_t extra = rpc_arg_size(d->med);
	uint64_t guest_ipa, room = TG_PAGE_SIZE;
	uint32_t have;

	c->guest_arg_ipa = 0; /* nothing to copy back to until located */
	if (c->entry == ENTRY_REGD_ARG) {
		uint64_t cookie = reg_pair(regs[1], regs[2]);
		uint64_t offs = regs[3] & 0xFFFFFFFFu, pos;
		struct shm_buf *b;

		dom_lock(d);
		b = shm_find(d, cookie);
		if (!b || b->state != SHM_READY) {
			dom_unlock(d);
			return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR,
					   TG_REFUSE_BAD_COOKIE);
		}
		pos = b->page_offset + offs;
		/* OP-TEE wants the message itself 8-byte aligned. */
		if ((pos & 7) || b->size < OPTEE_MSG_ARG_HDR_SIZE ||
		    offs > b->size - OPTEE_MSG_ARG_HDR_SIZE) {
			dom_unlock(d);
			return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR,
					   TG_REFUSE_BAD_ADDR);
		}
		guest_ipa = shm_buf_ipa(b, (uint32_t)(pos >> TG_PAGE_SHIFT)) +
			    (pos & TG_PAGE_MASK);
		room = TG_PAGE_SIZE - (pos & TG_PAGE_MASK);
		if (room > b->size - offs)
			room = b->size - offs;
		b->in_use++;
		c->regd_buf = b;
		c->slow = CALL_SLOW; /* the reference goes at the completion */
		dom_unlock(d);
	} else {
		guest_ipa = reg_pair(regs[1], regs[2]);
		if (guest_ipa & TG_PAGE_MASK)
			return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR,
					   TG_REFUSE_BAD_ADDR);
	}

	/* The header and up to ARG_PREFETCH_PARAMS parameters in one copy,
	 * never past the page or buffer. */
	if (room < arg_size(0) + extra)
		return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR,
				   TG_REFUSE_BAD_ADDR);
	have = arg_size(ARG_PREFETCH_PARAMS);
	if (have > room)
		have = (uint32_t)room & ~(OPTEE_MSG_PARAM_SIZE - 1);
	if (port->copy_from_guest(port->ctx, dom_id(d), c->shadow, guest_ipa,
				  have) != TG_OK)
		return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADADDR,
				   TG_REFUSE_BAD_ADDR);
	return fetch_rest(d, c, guest_ipa, room, have, extra, e);
}

/* Answer a refused std call and free its slot. */
static __attribute__((cold, noinline)) void
std_call_refuse(struct tg_domain *d, struct optee_call *c, uint64_t regs[8])
{
	uint32_t a0 = c->err.a0;

	ctr_refuse(d, (enum tg_refusal)c->err.why);
	if (c->err.ret)
		msg_copy_back_ret(d, c, c->err.ret, TEEC_ORIGIN_COMMS);
	call_release_resources(d, c);
	call_free(d, c); /* @c may belong to another vCPU from here on */
	reply(regs, a0);
}

/*
 * Copy, validate and translate the guest's message into @c's shadow: the
 * header, then exactly num_params parameters as read the first time, each
 * byte read once. CALL_WITH_ARG of a message of up to ARG_PREFETCH_PARAMS
 * parameters is inline: a page-aligned IPA, one port round trip, and for
 * an INVOKE of values msg_prepare_fast(). Bytes beyond num_params are
 * never looked at again. On failure, answer the guest and free @c.
 * Return: true when ready.
 */
static inline __attribute__((always_inline)) bool
std_call_prepare(struct tg_domain *d, struct optee_call *c, uint64_t regs[8],
		 bool cancel_only)
{
	struct tg_port *port = &d->med->port;
	uint64_t guest_ipa = reg_pair(regs[1], regs[2]);
	uint32_t n;

	/* The error record lives in the slot: no local escapes. */
	if (unlikely(c->entry != ENTRY_ARG)) {
		if (fetch_arg_slow(d, c, regs, &c->err))
			goto refuse;
		goto general;
	}
	if (unlikely(guest_ipa & TG_PAGE_MASK) ||
	    unlikely(port->copy_from_guest(port->ctx, dom_id(d), c->shadow,
					   guest_ipa,
					   arg_size(ARG_PREFETCH_PARAMS)) !=
		     TG_OK)) {
		fetch_fail(c, &c->err);
		goto refuse;
	}
	/* Read once; the guest may rewrite its copy from now on. */
	n = c->shadow->num_params;
	if (unlikely(n > ARG_PREFETCH_PARAMS)) {
		if (fetch_rest(d, c, guest_ipa, TG_PAGE_SIZE,
			       arg_size(ARG_PREFETCH_PARAMS), 0, &c->err))
			goto refuse;
		goto general;
	}
	c->num_params = n;
	c->cmd = c->shadow->cmd;
	c->session = c->shadow->session;
	c->guest_arg_ipa = guest_ipa; /* supplied_rpc: clear (c->mode) */
	if (cancel_only && c->cmd != OPTEE_MSG_CMD_CANCEL)
		goto at_cap;
	if (likely(msg_prepare_fast(d, c, n)))
		return true;
	goto full;
general:
	if (cancel_only && c->cmd != OPTEE_MSG_CMD_CANCEL)
		goto at_cap;
	if (msg_prepare_fast(d, c, c->num_params))
		return true;
full:
	if (likely(!msg_prepare(d, c, &c->err)))
		return true;
refuse:
	std_call_refuse(d, c, regs);
	return false;
at_cap:
	/* Past the cap, only a CANCEL goes (std_call_at_cap()). What
	 * reading the message took (a REGD_ARG buffer) goes back. */
	call_release_resources(d, c);
	call_free(d, c);
	ctr_refuse(d, TG_REFUSE_LIMIT_CALLS);
	reply(regs, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	return false;
}

static inline __attribute__((always_inline)) void
call_run_inline(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
		uint64_t *guest);

/*
 * A std call from the guest: take a call slot and a shadow page, copy and
 * check the message, and run it. Inline so that CALL_WITH_ARG, the common
 * entry, gets its own copy with @entry a constant.
 */
/* A guest std call in slot @c: only a CANCEL with @cancel_only. */
static inline __attribute__((always_inline)) void
std_call_run(struct tg_domain *d, struct optee_call *c, uint64_t regs[8],
	     enum call_entry entry, bool cancel_only)
{
	uint64_t tee[8], shadow_pa;

	if (unlikely(!shadow_take(d, c, &shadow_pa))) {
		/* What OP-TEE answers when it cannot map an argument. */
		call_free(d, c);
		ctr_refuse(d, TG_REFUSE_NO_MEMORY);
		reply(regs, OPTEE_SMC_RETURN_ENOMEM);
		return;
	}
	/* The SMC that will carry it, while the address is at hand. */
	tee[0] = entry == ENTRY_ARG ? OPTEE_SMC_CALL_WITH_ARG
				    : OPTEE_SMC_CALL_WITH_RPC_ARG;
	reg_pair_split(shadow_pa, &tee[1], &tee[2]);
	tee[3] = OPTEE_SMC_SHM_CACHED;
	tee[4] = tee[5] = tee[6] = 0;
	tee[7] = dom_id(d);
	/* opening is clear in a FREE slot: call_release_resources() */
	c->mode = 0;
	c->entry = (uint8_t)entry;
	if (!std_call_prepare(d, c, regs, cancel_only))
		return;
	ctr_call(d, TG_KIND_STD_CALL);
	call_run_inline(d, c, tee, regs);
}

/*
 * The domain is at its cap, and not a held-back domain whose hold ran out
 * (fair_call_alloc_held()): a CANCEL may go past the cap
 * (fair_cancel_may_pass()); anything else is refused as OP-TEE refuses
 * when its threads are all busy.
 */
static __attribute__((cold, noinline)) void
std_call_at_cap(struct tg_domain *d, uint64_t regs[8], enum call_entry entry)
{
	struct optee_call *c;

	if (fair_cancel_may_pass(d) && (c = call_alloc_past_cap(d))) {
		std_call_run(d, c, regs, entry, true);
		return;
	}
	ctr_refuse(d, TG_REFUSE_LIMIT_CALLS);
	reply(regs, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
}

static inline __attribute__((always_inline)) void
std_call_inline(struct tg_domain *d, uint64_t regs[8], enum call_entry entry)
{
	struct optee_call *c = call_alloc(d);

	if (unlikely(!c) && !(c = fair_call_alloc_held(d))) {
		std_call_at_cap(d, regs, entry);
		return;
	}
	std_call_run(d, c, regs, entry, false);
}

void std_call(struct tg_domain *d, uint64_t regs[8], enum call_entry entry)
{
	std_call_inline(d, regs, entry);
}

bool std_call_arg_put(struct tg_domain *d, uint64_t regs[8])
{
	std_call_inline(d, regs, ENTRY_ARG);
	domain_put(d);
	return true;
}

/* ---- RPCs from the TEE ------------------------------------------------- */

/*
 * The TEE's RPC argument for the current CMD: the region after the
 * message in the shadow page for the RPC_ARG forms, otherwise the shadow
 * of the RPC buffer the TEE names by cookie. @guest_ipa gets the guest's
 * copy of it. NULL when the TEE names a buffer we do not know.
 */
static struct optee_msg_arg *
rpc_locate(struct tg_domain *d, struct optee_call *c, uint64_t *guest_ipa)
{
	struct optee_msg_arg *arg = NULL;
	struct rpc_buf *b;

	if (c->supplied_rpc) {
		/* 0 for the mediator's own calls, which have no guest */
		*guest_ipa = 0;
		if (c->guest_arg_ipa)
			*guest_ipa = c->guest_arg_ipa + arg_size(c->num_params);
		return (struct optee_msg_arg *)((uint8_t *)c->shadow +
						arg_size(c->num_params));
	}
	dom_lock(d);
	b = rpc_buf_find(d, reg_pair(c->rpc_a1, c->rpc_a2));
	if (b && b->kind == RPC_BUF_ARG && b->owner == c) {
		arg = b->shadow;
		*guest_ipa = b->arg_ipa;
	}
	dom_unlock(d);
	return arg;
}

static bool rpc_arg_sane(struct tg_domain *d, const struct optee_msg_arg *a)
{
	return a->num_params <= d->med->tee.rpc_param_count;
}

/* @owner: the call that must own an ARG buffer (NULL for SHM buffers). */
static void release_rpc_buf(struct tg_domain *d, uint64_t cookie,
			    enum rpc_buf_kind kind,
			    const struct optee_call *owner)
{
	struct rpc_buf *b;

	dom_lock(d);
	b = rpc_buf_find(d, cookie);
	if (b && b->kind == kind && b->owner == owner)
		rpc_buf_unlink(d, b);
	else
		b = NULL;
	dom_unlock(d);
	if (b)
		rpc_buf_release(d, b);
}

/* Bookkeeping for an RPC as it leaves the TEE, whoever answers it. */
static __attribute__((cold, noinline)) void rpc_tee_side(struct tg_domain *d,
							 struct optee_call *c)
{
	struct optee_msg_arg *s;
	uint64_t gipa;

	switch (c->rpc_func) {
	case OPTEE_SMC_RPC_FUNC_FREE:
		/* The TEE is done with this RPC argument buffer. */
		release_rpc_buf(d, reg_pair(c->rpc_a1, c->rpc_a2), RPC_BUF_ARG,
				c);
		break;
	case OPTEE_SMC_RPC_FUNC_CMD:
		s = rpc_locate(d, c, &gipa);
		if (s && s->cmd == OPTEE_RPC_CMD_SHM_FREE &&
		    s->num_params >= 1 && rpc_arg_sane(d, s))
			release_rpc_buf(d, s->params[0].u.value.b, RPC_BUF_SHM,
					NULL);
		break;
	default:
		break;
	}
}

static inline uint32_t resume_handle(struct optee_call *c)
{
	return atomic_load_explicit(&c->resume_handle, memory_order_relaxed);
}

static inline void resume_regs(struct tg_domain *d, struct optee_call *c,
			       uint64_t tee[8])
{
	tee[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	tee[1] = c->rpc_a1;
	tee[2] = c->rpc_a2;
	tee[3] = c->tee_thread;
	tee[4] = tee[5] = tee[6] = 0;
	tee[7] = dom_id(d);
}

/*
 * Hand a CMD to the guest: copy the TEE's RPC argument into the guest's
 * RPC buffer. Memrefs the TEE names are registered-memory cookies of
 * buffers the guest gave it (RPC SHM_ALLOC), which the guest knows; a
 * machine address (contiguous TMEM) is never shown to a guest.
 * Return: false when the mediator answered the TEE itself (@tee filled).
 */
static __attribute__((cold, noinline)) bool
rpc_cmd_to_guest(struct tg_domain *d, struct optee_call *c, uint64_t guest[8],
		 uint64_t tee[8])
{
	struct tg_port *port = &d->med->port;
	struct optee_msg_arg *s;
	uint64_t gipa = 0;
	uint32_t i, n, type;

	resume_regs(d, c, tee);
	s = rpc_locate(d, c, &gipa);
	if (!s) {
		tg_log(d->med, TG_LOG_ERROR, dom_id(d),
		       "RPC CMD names an unknown buffer", c->rpc_a2);
		return false;
	}
	if (!rpc_arg_sane(d, s))
		goto refuse;
	n = s->num_params;
	for (i = 0; i < n; i++) {
		type = s->params[i].attr & OPTEE_MSG_ATTR_TYPE_MASK;
		if (type >= OPTEE_MSG_ATTR_TYPE_TMEM_INPUT &&
		    type <= OPTEE_MSG_ATTR_TYPE_TMEM_INOUT &&
		    s->params[i].u.tmem.buf_ptr)
			goto refuse;
	}
	if (port->copy_to_guest(port->ctx, dom_id(d), gipa, s, arg_size(n)) !=
	    TG_OK)
		goto refuse;
	reply(guest, OPTEE_SMC_RETURN_RPC_CMD);
	guest[1] = c->rpc_a1;
	guest[2] = c->rpc_a2;
	guest[3] = resume_handle(c);
	return true;
refuse:
	s->ret = TEEC_ERROR_BAD_PARAMETERS;
	s->ret_origin = TEEC_ORIGIN_COMMS;
	return false;
}

/* Return: true when the RPC goes to the guest (@guest filled). */
static bool rpc_to_guest(struct tg_domain *d, struct optee_call *c,
			 uint64_t guest[8], uint64_t tee[8])
{
	switch (c->rpc_func) {
	case OPTEE_SMC_RPC_FUNC_ALLOC: {
		bool full;

		resume_regs(d, c, tee);
		tee[1] = tee[2] = 0; /* "allocation failed" */
		/* One page at most: a multi-page RPC buffer would need
		 * contiguous machine pages the guest cannot promise. */
		if (!c->rpc_a1 || c->rpc_a1 > TG_PAGE_SIZE)
			return false;
		dom_lock(d);
		full = d->rpc_count >= d->limits.max_rpc_bufs;
		dom_unlock(d);
		if (full) {
			ctr_refuse(d, TG_REFUSE_LIMIT_RPC_BUFS);
			return false;
		}
		reply(guest, OPTEE_SMC_RETURN_RPC_ALLOC);
		guest[1] = c->rpc_a1;
		guest[3] = resume_handle(c);
		return true;
	}
	case OPTEE_SMC_RPC_FUNC_FREE:
		reply(guest, OPTEE_SMC_RETURN_RPC_FREE);
		guest[1] = c->rpc_a1;
		guest[2] = c->rpc_a2;
		guest[3] = resume_handle(c);
		return true;
	case OPTEE_SMC_RPC_FUNC_FOREIGN_INTR:
		reply(guest, OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
		guest[3] = resume_handle(c);
		return true;
	case OPTEE_SMC_RPC_FUNC_CMD:
		return rpc_cmd_to_guest(d, c, guest, tee);
	default:
		/*
		 * Unknown to us: the guest sees a preemption and resumes, so
		 * a TEE repeating it can never keep us looping here.
		 */
		tg_log(d->med, TG_LOG_WARN, dom_id(d), "unknown RPC from TEE",
		       c->rpc_func);
		reply(guest, OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
		guest[3] = resume_handle(c);
		return true;
	}
}

static inline void call_complete(struct tg_domain *d, struct optee_call *c,
				 uint32_t a0, uint64_t *guest)
{
	msg_complete(d, c, a0);
	call_free(d, c);
	if (guest)
		reply(guest, a0);
}

/*
 * The TEE answered an RPC: record it and hand it to the guest, or answer
 * it here. Return: true when the call is now suspended, false when @tee
 * holds the mediator's own answer to resume with.
 */
/* Note the RPC the TEE returned in @tee; a new resume handle for it. */
static inline __attribute__((always_inline)) void
call_note_rpc(struct optee_call *c, const uint64_t tee[8])
{
	c->tee_thread = (uint32_t)tee[3];
	/* A new handle per suspension: old ones stop matching. Bits 7:0,
	 * the slot index, never change (set in optee_domain_init()). */
	atomic_store_explicit(
		&c->resume_handle,
		atomic_load_explicit(&c->resume_handle, memory_order_relaxed) +
			0x100u,
		memory_order_relaxed);
	c->rpc_func = (uint16_t)OPTEE_SMC_RPC_FUNC(tee[0]);
	c->rpc_a1 = (uint32_t)tee[1];
	c->rpc_a2 = (uint32_t)tee[2];
}

static inline bool call_rpc(struct tg_domain *d, struct optee_call *c,
			    uint64_t tee[8], uint64_t *guest)
{
	call_note_rpc(c, tee);
	if (c->rpc_func == OPTEE_SMC_RPC_FUNC_FREE ||
	    c->rpc_func == OPTEE_SMC_RPC_FUNC_CMD)
		rpc_tee_side(d, c);
	if (guest && !rpc_to_guest(d, c, guest, tee))
		return false;
	call_transition(d, c, CALL_RUNNING, CALL_SUSPENDED);
	if (guest)
		ctr_call(d, TG_KIND_RPC_TO_GUEST);
	return true;
}

/*
 * The SMC in @tee returned an RPC: follow the call until it completes or
 * needs the guest (or, for teardown, until it is suspended).
 */
static __attribute__((noinline)) void call_follow(struct tg_domain *d,
						  struct optee_call *c,
						  uint64_t tee[8],
						  uint64_t *guest)
{
	struct tg_port *port = &d->med->port;

	for (;;) {
		if (call_rpc(d, c, tee, guest))
			return;
		/* answered by the mediator: @tee holds the resume */
		port->smc(port->ctx, tee);
		if (!OPTEE_SMC_RETURN_IS_RPC(tee[0])) {
			call_complete(d, c, (uint32_t)tee[0], guest);
			return;
		}
	}
}

/*
 * The SMC in @tee returned neither OK for a fast call nor a guest's
 * FOREIGN_INTR: the general completion, or the RPC state machine. @tee
 * may be @guest (rpc_return() resumes from the guest's registers): then
 * the RPC state machine works on a copy.
 */
static __attribute__((noinline)) void call_run_rest(struct tg_domain *d,
						    struct optee_call *c,
						    uint64_t tee[8],
						    uint64_t *guest)
{
	uint64_t frame[8];

	if (!OPTEE_SMC_RETURN_IS_RPC(tee[0])) {
		call_complete(d, c, (uint32_t)tee[0], guest);
		return;
	}
	if (tee == guest) {
		memcpy(frame, tee, sizeof(frame));
		tee = frame;
	}
	call_follow(d, c, tee, guest);
}

/*
 * call_run(), inline: the first SMC and a completion are the hot path.
 * @tee may be @guest: every path reads what it needs of the TEE's answer
 * before it writes the guest's.
 */
static inline __attribute__((always_inline)) void
call_run_inline(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
		uint64_t *guest)
{
	struct tg_port *port = &d->med->port;
	uint32_t a0, handle;

	port->smc(port->ctx, tee);
	a0 = (uint32_t)tee[0];
	if (likely(guest && a0 == OPTEE_SMC_RETURN_OK &&
		   c->slow <= CALL_OUTPUTS)) {
		msg_complete_fast(d, c);
		call_free_shadowed(d, c);
		reply(guest, OPTEE_SMC_RETURN_OK);
	} else if (guest && a0 == OPTEE_SMC_RETURN_RPC_FOREIGN_INTR) {
		/*
		 * call_rpc() for the commonest RPC, inline: nothing to do
		 * on the TEE's side, and the guest only resumes.
		 */
		c->tee_thread = (uint32_t)tee[3];
		handle = resume_handle(c) + 0x100u; /* see call_note_rpc() */
		atomic_store_explicit(&c->resume_handle, handle,
				      memory_order_relaxed);
		c->rpc_func = OPTEE_SMC_RPC_FUNC_FOREIGN_INTR;
		c->rpc_a1 = (uint32_t)tee[1];
		c->rpc_a2 = (uint32_t)tee[2];
		reply(guest, OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
		guest[3] = handle;
		call_transition(d, c, CALL_RUNNING, CALL_SUSPENDED);
		ctr_call(d, TG_KIND_RPC_TO_GUEST);
	} else {
		call_run_rest(d, c, tee, guest);
	}
}

/**
 * call_run() - issue the prepared SMC in @tee and follow the call until it
 * completes or needs the guest. With @guest NULL (teardown) every RPC
 * suspends the call after one SMC, so each teardown step stays bounded.
 */
void call_run(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
	      uint64_t *guest)
{
	call_run_inline(d, c, tee, guest);
}

/* ---- calls whose guest is not there to answer ------------------------- */

/*
 * One SMC for a call no guest answers: the TEE's FOREIGN_INTR answers are
 * resumed at once, by the port when it can (smc_resume_intr(): no round
 * trip per interrupt for an out-of-process mediator), else here.
 */
void tee_smc_drain(struct tg_domain *d, uint64_t tee[8])
{
	struct tg_port *port = &d->med->port;
	uint64_t thread;
	uint32_t n;

	if (port->smc_resume_intr) {
		port->smc_resume_intr(port->ctx, tee, TG_DRAIN_INTR_PER_SMC);
		return;
	}
	port->smc(port->ctx, tee);
	for (n = 0; n < TG_DRAIN_INTR_PER_SMC &&
		    (uint32_t)tee[0] == OPTEE_SMC_RETURN_RPC_FOREIGN_INTR;
	     n++) {
		thread = tee[3];
		memset(tee, 0, 8 * sizeof(tee[0]));
		tee[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		tee[3] = thread;
		tee[7] = dom_id(d);
		port->smc(port->ctx, tee);
	}
}

/**
 * call_drive() - run @c, RUNNING and owned by the caller, whose guest is
 * not there to answer it (a dying guest, one whose thread is taken back,
 * a recovery): @tee holds the next SMC. Every RPC is answered with an
 * error, FOREIGN_INTR resumed (tee_smc_drain()), for at most @max_smcs
 * SMCs. The resume handle does not change meanwhile.
 * Return: true when the TEE completed the call: its bookkeeping is done
 * and its results are copied back (msg_complete()), @a0 is the TEE's
 * answer, and @c is still RUNNING for the caller to free. false when the
 * budget ran out: @c is SUSPENDED in the TEE's latest RPC, with the
 * resume handle it had, so that a guest may still resume it.
 */
bool call_drive(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
		uint32_t max_smcs, uint32_t *a0)
{
	uint32_t n;

	for (n = 0;; n++) {
		tee_smc_drain(d, tee);
		if (!OPTEE_SMC_RETURN_IS_RPC(tee[0])) {
			*a0 = (uint32_t)tee[0];
			msg_complete(d, c, *a0);
			return true;
		}
		c->tee_thread = (uint32_t)tee[3];
		c->rpc_func = (uint16_t)OPTEE_SMC_RPC_FUNC(tee[0]);
		c->rpc_a1 = (uint32_t)tee[1];
		c->rpc_a2 = (uint32_t)tee[2];
		if (c->rpc_func == OPTEE_SMC_RPC_FUNC_FREE ||
		    c->rpc_func == OPTEE_SMC_RPC_FUNC_CMD)
			rpc_tee_side(d, c);
		if (n + 1 >= max_smcs) {
			call_transition(d, c, CALL_RUNNING, CALL_SUSPENDED);
			return false;
		}
		rpc_answer_error(d, c, tee);
	}
}

/* ---- answers from the guest -------------------------------------------- */

/* The guest's RPC argument, copied whole: optee_msg_arg's layout with a
 * fixed parameter array. */
struct rpc_arg_copy {
	uint32_t cmd, func, session, cancel_id, pad, ret, ret_origin;
	uint32_t num_params;
	struct optee_msg_param params[TG_MAX_RPC_PARAMS];
};

_Static_assert(offsetof(struct rpc_arg_copy, ret) ==
		       offsetof(struct optee_msg_arg, ret),
	       "rpc_arg_copy must match optee_msg_arg");
_Static_assert(offsetof(struct rpc_arg_copy, params) ==
		       offsetof(struct optee_msg_arg, params),
	       "rpc_arg_copy must match optee_msg_arg");

static __attribute__((cold, noinline)) void
rpc_alloc_answer(struct tg_domain *d, struct optee_call *c, const uint64_t g[8],
		 uint64_t tee[8])
{
	struct tg_port *port = &d->med->port;
	uint64_t guest_ipa = reg_pair(g[1], g[2]);
	uint64_t cookie = reg_pair(g[4], g[5]);
	enum tg_refusal why = TG_REFUSE_BAD_RPC_ANSWER;
	struct rpc_buf *b;
	bool ok;

	/*
	 * "Allocation failed" unless all goes well. The guest's cookie goes
	 * back even then: OP-TEE answers a failed ALLOC with an RPC FREE of
	 * it, which lets the guest reclaim its page. A cookie that another
	 * call's buffer also carries frees nothing of that call: a FREE only
	 * resolves the buffers its own call owns (rpc_buf.owner).
	 */
	tee[1] = tee[2] = 0;
	reg_pair_split(cookie, &tee[4], &tee[5]);
	if (!guest_ipa)
		return; /* the guest could not allocate */
	if (guest_ipa & TG_PAGE_MASK)
		goto refuse;
	b = tg_zalloc(d->med, sizeof(*b));
	if (!b) {
		why = TG_REFUSE_NO_MEMORY;
		goto refuse;
	}
	b->kind = RPC_BUF_ARG;
	b->owner = c;
	b->cookie = cookie;
	b->size = c->rpc_a1;
	b->arg_ipa = guest_ipa;
	if (!pin_reserve(d, 1)) {
		why = TG_REFUSE_LIMIT_PAGES;
		goto err_free;
	}
	if (port->pin_pages(port->ctx, dom_id(d), &b->arg_ipa, &b->arg_pa, 1) !=
	    TG_OK) {
		pin_unreserve(d, 1);
		goto err_free;
	}
	b->shadow = port->shm_alloc(port->ctx, 1, &b->shadow_pa);
	if (!b->shadow) {
		why = TG_REFUSE_NO_MEMORY;
		goto err_release;
	}
	atomic_fetch_add(&d->shadow_pages, 1);
	dom_lock(d);
	ok = d->rpc_count < d->limits.max_rpc_bufs &&
	     !rpc_cookie_taken(d, cookie);
	if (ok)
		rpc_buf_insert(d, b);
	dom_unlock(d);
	if (!ok) {
		why = TG_REFUSE_BAD_COOKIE;
		goto err_release;
	}
	reg_pair_split(b->shadow_pa, &tee[1], &tee[2]);
	return;

err_release:
	rpc_buf_release(d, b); /* unpins, unreserves and frees */
	ctr_refuse(d, why);
	return;
err_free:
	tg_free(d->med, b, sizeof(*b));
refuse:
	ctr_refuse(d, why);
}

/* Translate the guest's answer to SHM_ALLOC into param 0 of @s. */
static void rpc_shm_alloc_answer(struct tg_domain *d, struct optee_msg_arg *s,
				 const struct optee_msg_param *g)
{
	struct tg_port *port = &d->med->port;
	uint64_t want = s->params[0].u.value.b;
	uint64_t attr = g->attr, size = g->u.tmem.size;
	uint64_t cookie = g->u.tmem.shm_ref;
	uint64_t offs = g->u.tmem.buf_ptr & TG_PAGE_MASK;
	uint64_t guest_ipa = g->u.tmem.buf_ptr & ~TG_PAGE_MASK;
	enum tg_refusal why = TG_REFUSE_BAD_RPC_ANSWER;
	struct pagelist pl;
	struct rpc_buf *b;
	uint64_t np;
	bool ok;

	if (s->ret != TEEC_SUCCESS)
		return; /* the guest failed it; the TEE sees its error */
	if (s->num_params != 1 || size < want || !guest_ipa)
		goto refuse;
	if (attr ==
	    (OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG))
		np = pages_spanned(offs, size);
	else if (attr == OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT && !offs &&
		 size <= TG_PAGE_SIZE)
		np = 1;
	else
		goto refuse;
	if (!np || np > d->limits.max_pages_per_buf) {
		why = np ? TG_REFUSE_LIMIT_PAGES : why;
		goto refuse;
	}
	b = tg_zalloc(d->med, sizeof(*b));
	if (!b) {
		why = TG_REFUSE_NO_MEMORY;
		goto refuse;
	}
	b->kind = RPC_BUF_SHM;
	b->cookie = cookie;
	b->size = size;
	b->npages = (uint32_t)np;
	b->page_offset = (uint32_t)offs;
	if (!pin_reserve(d, np)) {
		why = TG_REFUSE_LIMIT_PAGES;
		goto err_free;
	}
	if (attr & OPTEE_MSG_ATTR_NONCONTIG) {
		if (pagelist_shadow(d, guest_ipa, b->npages, NULL, &pl, &why)) {
			pin_unreserve(d, np);
			goto err_free;
		}
		b->list = pl.list;
		b->list_pa = pl.list_pa;
		b->list_pages = pl.list_pages;
	} else if (port->pin_pages(port->ctx, dom_id(d), &guest_ipa, &b->arg_pa,
				   1) != TG_OK) {
		pin_unreserve(d, np);
		why = TG_REFUSE_BAD_ADDR;
		goto err_free;
	}
	dom_lock(d);
	ok = d->rpc_count < d->limits.max_rpc_bufs &&
	     !rpc_cookie_taken(d, cookie);
	if (ok)
		rpc_buf_insert(d, b);
	dom_unlock(d);
	if (!ok) {
		rpc_buf_release(d, b);
		why = TG_REFUSE_LIMIT_RPC_BUFS;
		goto refuse;
	}
	s->params[0].attr = attr;
	s->params[0].u.tmem.buf_ptr = b->list ? b->list_pa | offs : b->arg_pa;
	s->params[0].u.tmem.size = size;
	s->params[0].u.tmem.shm_ref = cookie;
	return;

err_free:
	tg_free(d->med, b, sizeof(*b));
refuse:
	ctr_refuse(d, why);
	s->ret = why == TG_REFUSE_BAD_RPC_ANSWER || why == TG_REFUSE_BAD_ADDR ||
				 why == TG_REFUSE_BAD_PARAM
			 ? TEEC_ERROR_BAD_PARAMETERS
			 : TEEC_ERROR_OUT_OF_MEMORY;
	s->ret_origin = TEEC_ORIGIN_COMMS;
}

/*
 * Take the guest's answer to a CMD: copy its RPC argument once, then move
 * only output fields, chosen by the TEE's own parameter types, into the
 * TEE's copy.
 */
static __attribute__((cold, noinline)) void rpc_cmd_answer(struct tg_domain *d,
							   struct optee_call *c)
{
	struct tg_port *port = &d->med->port;
	struct rpc_arg_copy g;
	struct optee_msg_arg *s;
	uint64_t gipa = 0;
	uint32_t i, n, type;

	s = rpc_locate(d, c, &gipa);
	if (!s || !rpc_arg_sane(d, s))
		return;
	n = s->num_params;
	if (port->copy_from_guest(port->ctx, dom_id(d), &g, gipa,
				  arg_size(n)) != TG_OK) {
		ctr_refuse(d, TG_REFUSE_BAD_RPC_ANSWER);
		s->ret = TEEC_ERROR_COMMUNICATION;
		s->ret_origin = TEEC_ORIGIN_COMMS;
		return;
	}
	s->ret = g.ret;
	s->ret_origin = g.ret_origin;
	if (s->cmd == OPTEE_RPC_CMD_SHM_ALLOC) {
		rpc_shm_alloc_answer(d, s, &g.params[0]);
		return;
	}
	for (i = 0; i < n; i++) {
		type = s->params[i].attr & OPTEE_MSG_ATTR_TYPE_MASK;
		switch (type) {
		case OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_VALUE_INOUT:
			s->params[i].u.value = g.params[i].u.value;
			break;
		case OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_RMEM_INOUT:
		case OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT:
		case OPTEE_MSG_ATTR_TYPE_TMEM_INOUT:
			s->params[i].u.rmem.size = g.params[i].u.rmem.size;
			break;
		default:
			break;
		}
	}
}

/* Answer the RPC @c waits on with an error (teardown, bad answers). */
void rpc_answer_error(struct tg_domain *d, struct optee_call *c,
		      uint64_t tee[8])
{
	struct optee_msg_arg *s;
	uint64_t gipa;

	resume_regs(d, c, tee);
	if (c->rpc_func == OPTEE_SMC_RPC_FUNC_ALLOC) {
		tee[1] = tee[2] = 0;
	} else if (c->rpc_func == OPTEE_SMC_RPC_FUNC_CMD) {
		s = rpc_locate(d, c, &gipa);
		if (s) {
			s->ret = TEEC_ERROR_COMMUNICATION;
			s->ret_origin = TEEC_ORIGIN_COMMS;
		}
	}
}

/* The guest's answer to the RPC @c waits on, into @tee (cold: not for a
 * FOREIGN_INTR, which carries none). */
static __attribute__((noinline)) void rpc_answer(struct tg_domain *d,
						 struct optee_call *c,
						 const uint64_t regs[8],
						 uint64_t tee[8])
{
	if (c->rpc_func == OPTEE_SMC_RPC_FUNC_ALLOC)
		rpc_alloc_answer(d, c, regs, tee);
	else if (c->rpc_func == OPTEE_SMC_RPC_FUNC_CMD)
		rpc_cmd_answer(d, c);
}

/* RETURN_FROM_RPC from the guest: call_claim_handle(), inline. */
static inline __attribute__((always_inline)) void
rpc_return(struct tg_domain *d, uint64_t regs[8])
{
	uint32_t handle = (uint32_t)regs[3], i = handle & 0xFFu;
	struct optee_call *c;
	uint64_t tee[8];

	if (unlikely(i >= d->limits.max_calls))
		goto refuse;
	c = &d->calls[i];
	if (unlikely(atomic_load(&c->resume_handle) != handle) ||
	    unlikely(!call_transition(d, c, CALL_SUSPENDED, CALL_RUNNING)))
		goto refuse;
	ctr_call(d, TG_KIND_RPC_RETURN);
	if (likely(c->rpc_func == OPTEE_SMC_RPC_FUNC_FOREIGN_INTR)) {
		/* Nothing to read from the guest: resume from its registers
		 * (the answer overwrites every one, as for a fast call). */
		resume_regs(d, c, regs);
		call_run_inline(d, c, regs, regs);
		return;
	}
	resume_regs(d, c, tee);
	rpc_answer(d, c, regs, tee);
	call_run_inline(d, c, tee, regs);
	return;
refuse:
	/* A call taken back from this guest (fair.c): its result. */
	if (fair_collect(d, regs))
		return;
	/* Not ours, not waiting, or already resumed: OP-TEE's answer. */
	ctr_refuse(d, TG_REFUSE_BAD_THREAD);
	reply(regs, OPTEE_SMC_RETURN_ERESUME);
}

bool rpc_return_put(struct tg_domain *d, uint64_t regs[8])
{
	rpc_return(d, regs);
	domain_put(d);
	return true;
}
