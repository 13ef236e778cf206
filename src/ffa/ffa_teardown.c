// SPDX-License-Identifier: BSD-2-Clause
/*
 * Destruction of an FF-A domain, in bounded steps (at most one SMC and
 * TGF_DESTROY_STEP_PAGES unpins per call), in an order that keeps the
 * isolation invariant: a page is unpinned only when the SPMC gave it back.
 *
 *   THREADS  OP-TEE threads the guest left suspended are resumed, as the
 *            guest, until OP-TEE ends them (ffa_optee.c);
 *   XACT     a share the guest left half-sent is finished and reclaimed;
 *   SHARES   each share: OPTEE_FFA_UNREGISTER_SHM (OP-TEE lets go), then
 *            FFA_MEM_RECLAIM, then its pages unpinned in slices; one the
 *            SPMC refuses stays pinned as an orphan;
 *   NOTIF    pending notifications taken, every bound bit unbound, the
 *            bitmap destroyed;
 *   VM       VM_DESTROYED to each partition that subscribes, last;
 *   ORPHANS  the orphans reclaimed again (OP-TEE gives a destroyed
 *            guest's shares back); one still refused stays pinned for
 *            good, and the log says so;
 *   RXTX     the guest's RX/TX unpinned.
 */
#include "ffa_med.h"

#define TGF_DESTROY_STEP_PAGES 1024u

static struct tgf_share *first_share(struct tgf_dom *d, bool orphans)
{
	for (uint32_t b = 0; b < TGF_SHARE_BUCKETS; b++)
		for (struct tgf_share *s = d->shares[b]; s; s = s->next)
			if (s->orphan == orphans)
				return s;
	return NULL;
}

/* Unpin a reclaimed share in slices; TG_OK when it is gone. */
static int unpin_slice(struct tgf_dom *d, struct tgf_share *s)
{
	uint32_t n = s->npages - s->unpinned;

	if (n > TGF_DESTROY_STEP_PAGES)
		n = TGF_DESTROY_STEP_PAGES;
	/* The record lets go first: a recovery keeps only what it names. */
	s->unpinned += n;
	tgf_unpin(d, s->pa + s->unpinned - n, n);
	if (s->unpinned < s->npages)
		return TG_AGAIN;
	tgf_share_unlink(d, s);
	tgf_share_free(d, s);
	return TG_OK;
}

/* One step of SHARES (@orphans false) or ORPHANS (true). */
static int share_step(struct tgf_dom *d, bool orphans)
{
	struct tgf_share *s = first_share(d, orphans);

	if (!s)
		return TG_OK;
	if (s->reclaimed) {
		unpin_slice(d, s);
		return TG_AGAIN;
	}
	if (!orphans && !s->unregistered && d->fm->optee_id) {
		tgf_optee_unregister(d, s->handle);
		s->unregistered = true;
		return TG_AGAIN;
	}
	/* Marked while the SPMC has the request: a recovery asks again. */
	s->reclaiming = true;
	if (!tgf_reclaim_smc(d->fm, s->handle)) {
		s->reclaimed = true;
		s->reclaiming = false;
		return TG_AGAIN;
	}
	s->reclaiming = false;
	if (!orphans) {
		s->orphan = true; /* after VM_DESTROYED, once more */
		return TG_AGAIN;
	}
	/* The SPMC keeps it: the pages stay pinned, never reused. */
	tgf_log(d, "FF-A share not given back, pages stay pinned",
		s->handle);
	tgf_share_unlink(d, s);
	tgf_free(d->fm, s->pa, (size_t)s->npages * sizeof(uint64_t));
	tgf_free(d->fm, s, sizeof(*s));
	return TG_AGAIN;
}

/* NOTIF: GET, then one UNBIND per partition that holds bits, DESTROY. */
static int notif_step(struct tgf_dom *d)
{
	struct tgf_med *fm = d->fm;
	uint64_t r[8];

	if (!fm->feat[TGF_FEAT_NOTIF])
		return TG_OK;
	if (d->destroy_cursor == 0) {
		d->destroy_cursor = 1;
		ffa_set_regs(r, FFA_NOTIFICATION_GET, FFA_PACK_IDS(0, d->id),
			     FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
		tgf_smc(fm, r);
		return TG_AGAIN;
	}
	if (d->bound) {
		uint16_t sp = 0;
		uint64_t bits = 0;

		for (uint32_t b = 0; b < 64; b++) {
			if (!(d->bound & (1ull << b)))
				continue;
			if (!bits)
				sp = d->bound_by[b];
			if (d->bound_by[b] == sp)
				bits |= 1ull << b;
		}
		ffa_set_regs(r, FFA_NOTIFICATION_UNBIND,
			     FFA_PACK_IDS(sp, d->id), 0, FFA_HANDLE_LO(bits),
			     FFA_HANDLE_HI(bits), 0);
		tgf_smc(fm, r);
		d->bound &= ~bits;
		return TG_AGAIN;
	}
	if (!d->bitmap_created)
		return TG_OK;
	if (d->destroy_cursor == 2) {
		/* Pending bits block UNBIND: take them again first. */
		ffa_set_regs(r, FFA_NOTIFICATION_GET, FFA_PACK_IDS(0, d->id),
			     FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
		tgf_smc(fm, r);
		d->destroy_cursor++;
		return TG_AGAIN;
	}
	if (d->destroy_cursor >= 3 && d->destroy_cursor - 3 < fm->nsps) {
		/* Every bit, for each partition in turn (see below). */
		ffa_set_regs(
			r, FFA_NOTIFICATION_UNBIND,
			FFA_PACK_IDS(fm->sps[d->destroy_cursor - 3].id, d->id),
			0, 0xFFFFFFFFu, 0xFFFFFFFFu, 0);
		tgf_smc(fm, r);
		d->destroy_cursor++;
		return TG_AGAIN;
	}
	ffa_set_regs(r, FFA_NOTIFICATION_BITMAP_DESTROY, d->id, 0, 0, 0, 0);
	tgf_smc(fm, r);
	if (tgf_status(r) == FFA_RET_DENIED && d->destroy_cursor == 1) {
		/*
		 * Bits still bound that the record does not show: a mediator
		 * process died between the SPMC's BIND and writing it down.
		 * Unbind everything, then destroy once more.
		 */
		d->destroy_cursor = 2;
		return TG_AGAIN;
	}
	if (tgf_status(r))
		tgf_log(d, "FF-A notification bitmap not destroyed",
			(uint64_t)(uint32_t)tgf_status(r));
	d->bitmap_created = false;
	return TG_AGAIN;
}

/* VM: VM_DESTROYED to the next subscribing partition. */
static int vm_step(struct tgf_dom *d)
{
	struct tgf_med *fm = d->fm;

	while (d->destroy_cursor < fm->nsps) {
		const struct tgf_sp *sp = &fm->sps[d->destroy_cursor];
		uint64_t r[8];

		if (!(sp->props & FFA_PART_PROP_NOTIF_VM_DESTROYED)) {
			d->destroy_cursor++;
			continue;
		}
		ffa_set_regs(r, FFA_MSG_SEND_DIRECT_REQ_32,
			     FFA_PACK_IDS(fm->own_id, sp->id),
			     FFA_MSG_FLAG_FRAMEWORK | FFA_MSG_SEND_VM_DESTROYED,
			     0, 0, d->id);
		tgf_smc(fm, r);
		/* After the SMC: a recovery sends it again, not never. */
		d->destroy_cursor++;
		return TG_AGAIN;
	}
	return TG_OK;
}

/**
 * tgf_domain_destroy_step() - one bounded step; TG_AGAIN until the domain
 * is gone from the SPMC, TG_OK then (tgf_domain_free() next). The guest's
 * vCPUs must be stopped.
 */
int tgf_domain_destroy_step(struct tgf_med *fm, struct tgf_dom *d)
{
	(void)fm;
	for (;;) {
		int rc = TG_OK;

		switch (d->destroy_phase) {
		case TGF_DESTROY_QUIESCE:
			break;
		case TGF_DESTROY_THREADS:
			rc = fm->optee_id ? tgf_optee_end_thread(d) : TG_OK;
			break;
		case TGF_DESTROY_XACT:
			if (d->xact.active) {
				tgf_xact_abort(d);
				rc = TG_AGAIN;
			}
			break;
		case TGF_DESTROY_SHARES:
			rc = share_step(d, false);
			break;
		case TGF_DESTROY_NOTIF:
			rc = notif_step(d);
			break;
		case TGF_DESTROY_VM:
			rc = vm_step(d);
			break;
		case TGF_DESTROY_ORPHANS:
			rc = share_step(d, true);
			break;
		case TGF_DESTROY_RXTX: {
			uint32_t n = d->rxtx_pages;

			d->rxtx_pages = 0;
			tgf_unpin(d, d->rxtx_pa, 2 * n);
			break;
		}
		case TGF_DESTROY_DONE:
		default:
			return TG_OK;
		}
		if (rc == TG_AGAIN)
			return TG_AGAIN;
		d->destroy_phase++;
		d->destroy_cursor = 0;
	}
}

/* Free a destroyed (or never announced) domain. */
void tgf_domain_free(struct tgf_med *fm, struct tgf_dom *d)
{
	if (!d)
		return;
	tgf_free(fm, d->txcopy, (size_t)d->txcopy_pages * TG_PAGE_SIZE);
	if (d->lock)
		fm->port.lock_destroy(fm->port.ctx, d->lock);
	tgf_free(fm, d, sizeof(*d));
}
