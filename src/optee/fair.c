// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fair share of the TEE's threads: taking back the threads guests sit on.
 *
 * A guest holds an OP-TEE thread for each std call it has in flight, also
 * while the call waits for the guest in an RPC: ALLOC, FREE or CMD, which
 * only the guest answers, or FOREIGN_INTR, which only the guest resumes.
 * A hostile guest can leave them there for ever. Two rules keep a thread
 * within every domain's reach, whatever the order in which the guests
 * came (docs/threat-model.md, "Fair share of the TEE's threads"):
 *
 *  - the reserve (domain.c:update_call_caps()): with T >= 2 threads, no
 *    domain holds more than T-1, even alone;
 *  - taking back (here): when the TEE refuses a domain's std call for
 *    lack of a thread, a thread that another domain has sat on since an
 *    earlier refusal at least sit_ms ago is taken back. Its RPC is
 *    answered with an error (ALLOC: no buffer; CMD: COMMUNICATION; FREE:
 *    honoured), and the call is run to its end for the guest: FOREIGN_INTR
 *    resumed, every later RPC answered the same way. The domain then
 *    starts no new std call for HOLD_MS, so that the freed thread goes to
 *    the domain that waits. Cheap threads go first: one sat on in ALLOC,
 *    FREE or CMD ends after a few SMCs; one in FOREIGN_INTR only once its
 *    TA call has run to its end, which the TA bounds, not the mediator.
 *
 * The guest learns what became of its call when it resumes it with its
 * handle: while the call is being run for it, another FOREIGN_INTR with
 * the same handle ("resume again later"); once the call ended, the TEE's
 * answer, with the results in its message as if it had answered the RPCs
 * with errors itself; ERESUME once TG_ENDED_CALLS later endings pushed it
 * out. Only its own call's results ever reach it.
 *
 * "Sat on" needs no clock on the call path: a refused domain marks each
 * suspended call of the others with its resume handle and the time, and a
 * later refusal that finds the same handle at least sit_ms later knows
 * the guest did not resume it meanwhile (a resume ends the call or
 * suspends it again under a new handle). A guest that resumes its calls
 * is using its threads and keeps them.
 *
 * Nothing here runs on a call's fast path: the TEE's ETHREAD_LIMIT, a cap
 * refusal and a resume with a handle that does not match lead here.
 */
#include "optee.h"

#define DEFAULT_SIT_MS 20u
/* How long a domain whose thread was taken may start no new std call. */
#define HOLD_MS 200u
/* SMCs (each resuming up to TG_DRAIN_INTR_PER_SMC FOREIGN_INTR) spent on
 * one call taken back; a call not done by then goes on at the next
 * refusal. */
#define DRIVE_MAX_SMCS 256u

static uint64_t fair_now(struct tg_mediator *med)
{
	uint64_t t = med->port.now_ns(med->port.ctx);

	return t ? t : 1; /* 0 means "not marked" */
}

/* An RPC only the guest could end: FOREIGN_INTR (or one we do not know,
 * which the guest is shown as a FOREIGN_INTR). */
static bool resume_only(uint32_t rpc_func)
{
	return rpc_func != OPTEE_SMC_RPC_FUNC_ALLOC &&
	       rpc_func != OPTEE_SMC_RPC_FUNC_FREE &&
	       rpc_func != OPTEE_SMC_RPC_FUNC_CMD;
}

/*
 * Mark @d's suspended calls that a refusal sees for the first time (at
 * @t), and pick one sat on for at least @sit ns: in ALLOC, FREE or CMD
 * first, in FOREIGN_INTR only with @foreign_intr. *@handle gets its
 * resume handle, *@suspended whether any call is suspended at all.
 */
static struct optee_call *pick_sat_on(struct tg_domain *d, uint64_t t,
				      uint64_t sit, bool foreign_intr,
				      uint32_t *handle, bool *suspended)
{
	struct optee_call *best = NULL;
	bool best_cheap = false;
	uint32_t i, h;

	*suspended = false;
	dom_lock(d);
	for (i = 0; i < d->limits.max_calls; i++) {
		struct optee_call *c = &d->calls[i];
		struct call_side *side = &d->sides[i];
		bool cheap;

		if (atomic_load(&side->taken))
			*suspended = true; /* being run to its end */
		if (atomic_load(&c->state) != CALL_SUSPENDED)
			continue;
		*suspended = true;
		h = atomic_load(&c->resume_handle);
		if (side->sit_handle != h || !side->sit_since) {
			side->sit_handle = h;
			side->sit_since = t;
			continue;
		}
		if (t - side->sit_since < sit)
			continue;
		cheap = !resume_only(c->rpc_func);
		if ((!cheap && !foreign_intr) || (best && (best_cheap || !cheap)))
			continue;
		best = c;
		best_cheap = cheap;
		*handle = h;
	}
	dom_unlock(d);
	return best;
}

/* No new std call from @d for HOLD_MS: the thread goes to the waiter. */
static void hold_back(struct tg_domain *d, uint64_t t)
{
	struct tg_mediator *med = d->med;

	med->port.lock(med->port.ctx, med->table_lock);
	atomic_store(&d->held_until, t + (uint64_t)HOLD_MS * 1000000u);
	atomic_store(&d->call_cap, 0);
	med->port.unlock(med->port.ctx, med->table_lock);
}

static void ended_push(struct tg_domain *d, uint32_t handle, uint32_t a0)
{
	uint32_t i;

	dom_lock(d);
	i = d->ended_next++ % TG_ENDED_CALLS;
	d->ended[i].handle = handle;
	d->ended[i].a0 = a0;
	d->ended[i].valid = true;
	dom_unlock(d);
}

/* Take back one thread @d sits on. Return: TG_OK when one was freed. */
static int take_back(struct tg_domain *d, bool foreign_intr)
{
	struct tg_mediator *med = d->med;
	uint64_t t = fair_now(med), sit;
	struct call_side *side;
	struct optee_call *c;
	uint32_t h = 0, a0;
	uint64_t tee[8];
	bool suspended;

	sit = (uint64_t)(med->cfg.sit_ms ? med->cfg.sit_ms : DEFAULT_SIT_MS) *
	      1000000u;
	c = pick_sat_on(d, t, sit, foreign_intr, &h, &suspended);
	if (!c)
		return suspended ? TG_AGAIN : TG_EBUSY;
	side = &d->sides[c->index];
	/* Announced before the claim: a resume that loses the race to us
	 * must see it (fair_collect()). */
	atomic_store(&side->taken, h);
	if (!call_claim_suspended(d, false, h)) {
		atomic_store(&side->taken, 0);
		return TG_AGAIN; /* the guest came back meanwhile */
	}
	atomic_fetch_add(&d->threads_taken, 1);
	tg_log(med, TG_LOG_WARN, dom_id(d),
	       "took back a TEE thread the guest sat on, in RPC", c->rpc_func);
	hold_back(d, t);
	rpc_answer_error(d, c, tee);
	if (!call_drive(d, c, tee, DRIVE_MAX_SMCS, &a0)) {
		/* Suspended again under handle h: the guest may resume it,
		 * or the next refusal goes on with it. */
		atomic_store(&side->taken, 0);
		return TG_AGAIN;
	}
	/* In this order: a resume that no longer sees the call taken finds
	 * its result. */
	ended_push(d, h, a0);
	atomic_store(&side->taken, 0);
	call_free(d, c);
	return TG_OK;
}

void fair_thread_wanted(struct tg_domain *d, const struct optee_call *c)
{
	struct tg_mediator *med = d->med;
	uint32_t pass, i, busy = atomic_load(&d->calls_busy); /* with @c */

	/* The mediator's own calls wait their turn, and a CANCEL let past
	 * the cap claims nothing (fair_cancel_may_pass()). */
	if (c->entry == ENTRY_INTERNAL || busy > atomic_load(&d->fair_cap))
		return;
	if (busy == 1) {
		/* It holds no thread: no CANCEL past a cap until it calls
		 * again (fair_cancel_may_pass()). */
		uint32_t at = med->port.now_ns
				      ? (uint32_t)(fair_now(med) >> 20)
				      : 1;

		atomic_store(&d->refused_calls,
			     (uint32_t)atomic_load_explicit(
				     &d->ctr.calls[TG_KIND_STD_CALL],
				     memory_order_relaxed));
		atomic_store(&d->refused_at, at ? at : 1);
	}
	/* Out of process, the hypervisor asks each domain itself
	 * (tg_domain_reclaim()). */
	if (med->cfg.hypervisor_reclaims || !med->port.now_ns)
		return;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < med->nslots; i++) {
			struct tg_domain *v = &med->slots[i];
			uint32_t id = atomic_load(&v->client_id);
			int rc;

			if (v == d || !id ||
			    atomic_load(&v->state) != SLOT_LIVE)
				continue;
			v = domain_get(med, id);
			if (!v)
				continue;
			rc = take_back(v, pass == 1);
			domain_put(v);
			if (rc == TG_OK)
				return;
		}
	}
}

/*
 * A domain refused a TEE thread while it held none, and that has not
 * called since (with a clock: for at most HOLD_MS).
 */
static bool goes_without(struct tg_domain *v, uint64_t now)
{
	uint32_t at = atomic_load(&v->refused_at);

	if (!at)
		return false;
	if ((uint32_t)atomic_load_explicit(&v->ctr.calls[TG_KIND_STD_CALL],
					   memory_order_relaxed) !=
		    atomic_load(&v->refused_calls) ||
	    (now && (uint32_t)((uint32_t)(now >> 20) - at) >=
			    (uint32_t)(((uint64_t)HOLD_MS * 1000000u) >> 20))) {
		atomic_compare_exchange_strong(&v->refused_at, &at, 0);
		return false;
	}
	return true;
}

/*
 * May @d, at its cap, send a CANCEL past it? OP-TEE answers a CANCEL at
 * once, without an RPC, so it holds a thread only for its own SMC; the
 * thread it takes is the one the reserve keeps free, and a guest that
 * cancels a call it has in flight (Linux does, from a second thread) has
 * no other. Not while another domain goes without a thread: the reserve
 * is that domain's first. One at a time per domain
 * (call_alloc_past_cap()).
 */
bool fair_cancel_may_pass(struct tg_domain *d)
{
	struct tg_mediator *med = d->med;
	uint64_t now = med->port.now_ns ? fair_now(med) : 0;
	uint32_t i;

	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *v = &med->slots[i];
		uint32_t id = atomic_load(&v->client_id);
		bool waits;

		if (v == d || !id || atomic_load(&v->state) != SLOT_LIVE)
			continue;
		v = domain_get(med, id);
		if (!v)
			continue;
		waits = goes_without(v, now);
		domain_put(v);
		if (waits)
			return false;
	}
	return true;
}

int tg_domain_reclaim(struct tg_mediator *med, uint32_t client_id,
		      bool foreign_intr)
{
	struct tg_domain *d;
	int rc;

	if (!med)
		return TG_EINVAL;
	d = domain_get(med, client_id);
	if (!d)
		return TG_ENOENT;
	rc = med->port.now_ns ? take_back(d, foreign_intr) : TG_AGAIN;
	domain_put(d);
	return rc;
}

enum tg_thread_want tg_domain_thread_want(struct tg_mediator *med,
					  uint32_t client_id)
{
	enum tg_thread_want want = TG_WANT_NOTHING;
	struct tg_domain *d;
	uint32_t busy;

	if (!med)
		return TG_WANT_NOTHING;
	d = domain_get(med, client_id);
	if (!d)
		return TG_WANT_NOTHING;
	busy = atomic_load(&d->calls_busy);
	if (busy < atomic_load(&d->call_cap))
		want = busy ? TG_WANT_MORE : TG_WANT_FIRST;
	domain_put(d);
	return want;
}

struct optee_call *fair_call_alloc_held(struct tg_domain *d)
{
	struct tg_mediator *med = d->med;
	uint64_t until = atomic_load(&d->held_until);

	if (!until || fair_now(med) < until)
		return NULL;
	med->port.lock(med->port.ctx, med->table_lock);
	if (atomic_load(&d->held_until) == until) {
		atomic_store(&d->held_until, 0);
		atomic_store(&d->call_cap, atomic_load(&d->fair_cap));
	}
	med->port.unlock(med->port.ctx, med->table_lock);
	return call_alloc(d);
}

bool fair_collect(struct tg_domain *d, uint64_t regs[8])
{
	uint32_t h = (uint32_t)regs[3], i, a0 = 0;
	bool found = false;

	if (!h)
		return false;
	i = h & 0xFFu;
	if (i < d->limits.max_calls && atomic_load(&d->sides[i].taken) == h) {
		/* Being run for it right now: resume again later. */
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_RETURN_RPC_FOREIGN_INTR;
		regs[3] = h;
		return true;
	}
	dom_lock(d);
	for (i = 0; i < TG_ENDED_CALLS; i++) {
		if (d->ended[i].valid && d->ended[i].handle == h) {
			d->ended[i].valid = false;
			a0 = d->ended[i].a0;
			found = true;
			break;
		}
	}
	dom_unlock(d);
	if (!found)
		return false;
	ctr_call(d, TG_KIND_RPC_RETURN);
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = a0;
	return true;
}
