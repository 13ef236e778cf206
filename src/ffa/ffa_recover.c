// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recovery of an FF-A mediator whose process died at an arbitrary
 * instant (the isolation modes keep its state in memory that outlives the
 * process; src/optee/recover.c does the same for OP-TEE's SMC ABI).
 *
 * The rules that make it possible are kept everywhere in src/ffa: a
 * record lets go of a pin before the pin goes (a recovery reports only
 * the pins its records name, and the hypervisor drops every other), and
 * what the SPMC may still hold stays in a record until the SPMC gave it
 * back (a share being reclaimed stays in the table, marked; a share is
 * linked before its transaction lets go of the pages).
 *
 * What the dead process may have left half done, and what is done here:
 *
 *  - a vCPU inside a call (the guest's TX copy and transaction busy):
 *    the flag is cleared; the guest saw its call fail;
 *  - a share or lend whose transaction had not become a share:
 *    - the SPMC had all of it (its handle known, or the handle is one the
 *      hypervisor saw the SPMC return, @ri->mem): given back (OP-TEE told
 *      first, then FFA_MEM_RECLAIM) and unpinned; if the SPMC refuses, it
 *      becomes a share of the guest (pins kept; teardown retries);
 *    - the SPMC had part of it: finished with the dummy page and
 *      reclaimed, as a guest's abandoned transaction is;
 *    - the SPMC had none of it: unpinned;
 *    the guest's next FRAG_TX gets INVALID_PARAMETERS;
 *  - a share already linked while its transaction still named the pages:
 *    the transaction is dropped, the share keeps them;
 *  - a guest's FFA_MEM_RECLAIM in flight: reclaimed again; a handle the
 *    SPMC does not know any more was reclaimed;
 *  - two records of one handle (a reclaim went through at the SPMC, and
 *    another vCPU's share got the handle again before the death): the
 *    older one is dropped without an SMC: reclaiming it again would take
 *    the newer share from the SPMC behind its record's back;
 *  - a handle in @ri->mem (given in a conversation the death cut: the
 *    guest saw the call fail): given back, and its share dropped if the
 *    state had it already;
 *  - OP-TEE threads: one the guest holds (its resume information is in
 *    @ri->handles) and the state records is kept; any other that the
 *    state records or that the hypervisor saw suspended (@ri->threads) is
 *    resumed, as the guest, until OP-TEE ends it (an unanswered RPC
 *    fails: OP-TEE preset its result);
 *  - counters are recomputed from the records;
 *  - pins: every pin the records name is reported (@ops->keep_pins).
 *
 * Notification bits bound by the SPMC but not written down are found at
 * teardown: a bitmap the SPMC will not destroy gets every bit unbound.
 */
#include "ffa_med.h"

/* Bound on resumes to end one OP-TEE thread. */
#define RECOVER_MAX_RESUMES 100000u
#define KEEP_BATCH 256u

void tgf_recover(struct tgf_med *fm, const struct tg_port *port,
		 const struct tg_recover_ops *ops)
{
	fm->port = *port;
	if (!ops || !ops->shm_claim)
		return;
	ops->shm_claim(ops->ctx, fm->tx, fm->rxtx_pages);
	ops->shm_claim(ops->ctx, fm->rx, fm->rxtx_pages);
	ops->shm_claim(ops->ctx, fm->dummy, 1);
}

static bool is_resp(uint64_t fid)
{
	return fid == FFA_MSG_SEND_DIRECT_RESP_32 ||
	       fid == FFA_MSG_SEND_DIRECT_RESP_64;
}

static bool in_list(const uint32_t *list, uint32_t n, uint32_t max,
		    uint32_t v)
{
	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* Resume @thread as the guest until OP-TEE ends it. */
static bool end_thread(struct tgf_dom *d, uint32_t thread)
{
	for (uint32_t n = 0; n < RECOVER_MAX_RESUMES; n++) {
		uint64_t r[8];

		ffa_set_regs(r, FFA_MSG_SEND_DIRECT_REQ_32,
			     FFA_PACK_IDS(d->id, d->fm->optee_id), 0,
			     OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0);
		r[7] = thread;
		tgf_smc(d->fm, r);
		if (!is_resp(r[0]) || (uint32_t)r[3])
			return false; /* not a thread of it (any more) */
		if ((uint32_t)r[4] != OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD &&
		    (uint32_t)r[4] != OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT)
			return true;
		thread = (uint32_t)r[7];
	}
	return false;
}

static void recover_threads(struct tgf_dom *d, const struct tg_recover_info *ri,
			    struct tg_recover_stats *st)
{
	uint32_t end[TGF_MAX_THREADS + TG_RECOVER_MAX_THREADS];
	uint32_t nend = 0, kept = 0, nthreads;

	/* Kept: recorded and held by the guest. */
	for (uint32_t i = 0; i < d->nsuspended && i < TGF_MAX_THREADS; i++) {
		uint32_t t = d->suspended[i];

		if (in_list(ri->handles, ri->nhandles, TG_RECOVER_MAX_HANDLES,
			    t) &&
		    !in_list(d->suspended, kept, kept, t))
			d->suspended[kept++] = t;
		else if (!in_list(end, nend, nend, t))
			end[nend++] = t;
	}
	d->nsuspended = kept;
	/* Seen suspended by the hypervisor, not kept: the guest lost it. */
	nthreads = ri->nthreads < TG_RECOVER_MAX_THREADS
			   ? ri->nthreads
			   : TG_RECOVER_MAX_THREADS;
	for (uint32_t i = 0; i < nthreads; i++) {
		uint32_t t = ri->threads[i].thread;

		if (!in_list(d->suspended, kept, kept, t) &&
		    !in_list(end, nend, nend, t))
			end[nend++] = t;
	}
	st->calls_kept = kept;
	if (!d->fm->optee_id)
		return;
	for (uint32_t i = 0; i < nend; i++) {
		if (end_thread(d, end[i]))
			st->threads_ended++;
		st->calls_failed++;
	}
}

/* The SPMC may hold @h: OP-TEE lets go, then the SPMC. True when gone. */
static bool give_back(struct tgf_dom *d, uint64_t h, bool to_optee)
{
	int32_t rc;

	if (to_optee && d->fm->optee_id)
		tgf_optee_unregister(d, h);
	rc = tgf_reclaim_smc(d->fm, h);
	return rc == FFA_RET_OK || rc == FFA_RET_INVALID_PARAMETERS;
}

/*
 * A handle of @ri->mem that no share of @d holds, or 0. A share being
 * reclaimed does not count: it is an older share of the same handle (the
 * SPMC gave it out again, so it has that one back already).
 */
static uint64_t untracked(struct tgf_dom *d, const struct tg_recover_info *ri,
			  uint32_t *from)
{
	uint32_t n = ri->nmem < TG_RECOVER_MAX_MEM ? ri->nmem
						   : TG_RECOVER_MAX_MEM;

	for (; *from < n; (*from)++) {
		uint64_t h = ri->mem[*from];
		struct tgf_share *s = h ? tgf_share_find(d, h) : NULL;

		if (h && (!s || s->reclaiming) &&
		    !(d->xact.active && d->xact.have_handle &&
		      d->xact.handle == h)) {
			(*from)++;
			return h;
		}
	}
	return 0;
}

/* Return: the handle of @ri->mem it dealt with, else 0. */
static uint64_t recover_xact(struct tgf_dom *d,
			     const struct tg_recover_info *ri,
			     struct tg_recover_stats *st)
{
	struct tgf_xact *x = &d->xact;
	struct tgf_share *s;
	uint32_t from = 0, n;
	uint64_t h;

	if (!x->active)
		return 0;
	st->calls_failed++;
	s = x->have_handle ? tgf_share_find(d, x->handle) : NULL;
	if (s && s->pa == x->pa) {
		/* Linked: the share has the pages, the transaction goes. */
		x->pa = NULL;
		x->npages = 0;
		x->pages_done = 0;
		tgf_xact_free(d);
		return 0;
	}
	st->bufs_dropped++;
	if (x->spmc_started) {
		/* The SPMC has some or all of it, under a known handle. */
		h = x->handle;
		tgf_xact_abort(d);
		return h;
	}
	/*
	 * Its only message may have gone, the answer lost: the hypervisor
	 * saw the handle (or it is ours, for a held transaction).
	 */
	h = x->hold ? x->handle : untracked(d, ri, &from);
	if (h && x->pages_done == x->npages && !give_back(d, h, x->to_optee)) {
		tgf_xact_keep(d, h);
		return h;
	}
	n = x->pages_done;
	x->pages_done = 0;
	tgf_unpin(d, x->pa, n);
	tgf_xact_free(d);
	return h;
}

/*
 * Is @s an older record of a handle that a newer share holds (the table
 * links at the head of a bucket, and finds the newest first)? The SPMC
 * gives a handle out again only once it was given back, so @s's pages
 * are free of it: a guest's reclaim whose SMC went through, and in the
 * same process another vCPU's share got the same handle before the death.
 */
static bool shadowed(struct tgf_dom *d, const struct tgf_share *s)
{
	return tgf_share_find(d, s->handle) != s;
}

static void recover_shares(struct tgf_dom *d, const struct tg_recover_info *ri,
			   uint64_t skip, struct tg_recover_stats *st)
{
	uint32_t n;
	uint64_t h;

	for (uint32_t b = 0; b < TGF_SHARE_BUCKETS; b++) {
		struct tgf_share *s = d->shares[b], *next;

		for (; s; s = next) {
			int32_t rc;

			next = s->next;
			if (shadowed(d, s)) {
				/* Reclaiming it again would take the newer
				 * share from the SPMC, and leave its record
				 * naming a handle the SPMC does not know. */
				tgf_share_unlink(d, s);
				tgf_share_free(d, s);
				st->bufs_dropped++;
				continue;
			}
			if (!s->reclaiming)
				continue;
			/* A guest's reclaim the death cut short: again. */
			rc = tgf_reclaim_smc(d->fm, s->handle);
			s->reclaiming = false;
			if (rc == FFA_RET_OK ||
			    rc == FFA_RET_INVALID_PARAMETERS) {
				tgf_share_unlink(d, s);
				tgf_share_free(d, s);
				st->bufs_dropped++;
			}
		}
	}
	/*
	 * Handles the SPMC gave in a conversation the death cut short: the
	 * guest saw that call fail and will never name them. Recorded or
	 * not, they go back.
	 */
	n = ri->nmem < TG_RECOVER_MAX_MEM ? ri->nmem : TG_RECOVER_MAX_MEM;
	for (uint32_t i = 0; i < n; i++) {
		struct tgf_share *s;

		h = ri->mem[i];
		if (!h || h == skip)
			continue;
		s = tgf_share_find(d, h);
		if (s && (s->reclaiming || s->reclaimed))
			continue; /* done above, or teardown's */
		if (!give_back(d, h, s ? s->to_optee : true)) {
			tgf_log(d, "FF-A recovery: a share the guest never got is kept by the SPMC",
				h);
			continue;
		}
		if (s) {
			tgf_share_unlink(d, s);
			tgf_share_free(d, s);
		}
		st->bufs_dropped++;
	}
}

static void recount(struct tgf_dom *d, struct tg_recover_stats *st)
{
	uint64_t pinned = 2ull * d->rxtx_pages;
	uint32_t n = 0, optee = 0;

	for (uint32_t b = 0; b < TGF_SHARE_BUCKETS; b++) {
		for (struct tgf_share *s = d->shares[b]; s; s = s->next) {
			n++;
			optee += s->to_optee;
			pinned += s->npages - s->unpinned;
		}
	}
	if (d->xact.active) {
		pinned += d->xact.pages_done;
		optee += d->xact.to_optee && d->xact.pa;
	}
	d->nshares = n;
	d->nshares_optee = optee;
	atomic_store(&d->pinned_pages, pinned);
	st->bufs_kept = n;
	st->pins_kept = pinned;
}

static int keep(const struct tg_recover_ops *ops, uint32_t id,
		const uint64_t *pa, uint32_t n)
{
	while (n) {
		uint32_t k = n < KEEP_BATCH ? n : KEEP_BATCH;
		int rc = ops->keep_pins(ops->ctx, id, pa, k);

		if (rc)
			return rc;
		pa += k;
		n -= k;
	}
	return TG_OK;
}

static int report_pins(struct tgf_dom *d, const struct tg_recover_ops *ops)
{
	int rc;

	if (!ops || !ops->keep_pins)
		return TG_OK;
	rc = keep(ops, d->id, d->rxtx_pa, 2 * d->rxtx_pages);
	for (uint32_t b = 0; !rc && b < TGF_SHARE_BUCKETS; b++)
		for (struct tgf_share *s = d->shares[b]; !rc && s; s = s->next)
			rc = keep(ops, d->id, s->pa + s->unpinned,
				  s->npages - s->unpinned);
	if (!rc && d->xact.active && d->xact.pa)
		rc = keep(ops, d->id, d->xact.pa, d->xact.pages_done);
	if (!rc)
		rc = ops->keep_pins(ops->ctx, d->id, NULL, 0);
	return rc;
}

/**
 * tgf_domain_recover() - after tgf_recover(), make @d consistent again
 * (see the top of this file). May issue SMCs as the guest; nothing else
 * may run on @d. Locks were reset by the port.
 */
int tgf_domain_recover(struct tgf_dom *d, const struct tg_recover_info *ri,
		       const struct tg_recover_ops *ops,
		       struct tg_recover_stats *out)
{
	static const struct tg_recover_info none;
	struct tg_recover_stats st;
	uint64_t skip;

	memset(&st, 0, sizeof(st));
	if (!ri)
		ri = &none;
	d->busy = false;
	recover_threads(d, ri, &st);
	skip = recover_xact(d, ri, &st);
	recover_shares(d, ri, skip, &st);
	recount(d, &st);
	if (out)
		*out = st;
	return report_pins(d, ops);
}
