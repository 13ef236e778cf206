// SPDX-License-Identifier: BSD-2-Clause
/*
 * FF-A memory sharing for guests: FFA_MEM_SHARE / FFA_MEM_LEND with their
 * fragments (FFA_MEM_FRAG_TX), and FFA_MEM_RECLAIM. FFA_MEM_DONATE is
 * refused in ffa.c.
 *
 * A guest's descriptor is copied once, fragment by fragment, from its TX
 * buffer into mediator memory (struct tgf_dom.txcopy), and only that copy
 * is read:
 *
 * - the header in the guest's FF-A version (v1.0: 32 bytes; v1.1/v1.2:
 *   48), the sender (the guest itself), the handle (0), the flags and the
 *   memory attributes (normal memory for a share; reserved bits clear);
 * - 1..8 receivers, each a secure partition the SPMC listed, no
 *   duplicates, read-only or read-write, never executable, all pointing
 *   at the same composite descriptor after the array;
 * - the composite: a total page count within the domain's limits and a
 *   constituent count that ends the descriptor exactly at the total
 *   length the guest announced;
 * - every constituent: 4 KiB aligned, at least one page, no overflow,
 *   pages adding up to the total, and no two constituents overlapping.
 *
 * Each constituent's pages are pinned (all or nothing, through the port)
 * and the descriptor is rewritten in the SPMC's version into the
 * mediator's own TX buffer, one constituent per page (machine addresses,
 * so runs of guest pages are not runs any more), and sent on in as many
 * fragments as that buffer needs. The SPMC allocates the handle; it is
 * recorded with the pinned pages, and a guest may reclaim only handles
 * of its own. A transaction a guest leaves unfinished is finished by the
 * mediator (the rest of the pages are its dummy page) and reclaimed.
 */
#include "ffa_med.h"

/* ---- the share table ---------------------------------------------------- */

static uint32_t bucket_of(uint64_t handle)
{
	uint64_t h = handle ^ (handle >> 16) ^ (handle >> 32);

	return (uint32_t)(h % TGF_SHARE_BUCKETS);
}

struct tgf_share *tgf_share_find(struct tgf_dom *d, uint64_t handle)
{
	struct tgf_share *s = d->shares[bucket_of(handle)];

	while (s && s->handle != handle)
		s = s->next;
	return s;
}

void tgf_share_link(struct tgf_dom *d, struct tgf_share *s)
{
	struct tgf_share **head = &d->shares[bucket_of(s->handle)];

	s->next = *head;
	*head = s;
	d->nshares++;
}

/* A share (or transaction) with OP-TEE is gone: one more may come. */
static void optee_slot_put(struct tgf_dom *d, bool to_optee)
{
	if (!to_optee)
		return;
	tgf_lock(d);
	d->nshares_optee--;
	tgf_unlock(d);
}

void tgf_share_unlink(struct tgf_dom *d, struct tgf_share *s)
{
	struct tgf_share **pp = &d->shares[bucket_of(s->handle)];

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = s->next;
		d->nshares--;
	}
	s->next = NULL;
}

/* Unpin what is still pinned and free the record (unlinked already). */
void tgf_share_free(struct tgf_dom *d, struct tgf_share *s)
{
	optee_slot_put(d, s->to_optee);
	tgf_unpin(d, s->pa + s->unpinned, s->npages - s->unpinned);
	tgf_free(d->fm, s->pa, (size_t)s->npages * sizeof(uint64_t));
	tgf_free(d->fm, s, sizeof(*s));
}

int32_t tgf_reclaim_smc(struct tgf_med *fm, uint64_t handle)
{
	uint64_t r[8];

	ffa_set_regs(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(handle),
		     FFA_HANDLE_HI(handle), 0, 0, 0);
	tgf_smc(fm, r);
	return tgf_status(r);
}

/* ---- descriptor parsing -------------------------------------------------- */

/* The parts of a guest's descriptor that are kept, after validation. */
struct guest_desc {
	uint16_t sender;
	uint32_t mem_attr;
	uint32_t flags;
	uint64_t tag;
	uint32_t naccess;
	struct ffa_mem_access_1_2 access[TGF_MAX_RECEIVERS];
	uint32_t total_pages;
	uint32_t nconst;
	uint32_t ranges_offs; /* where the constituents start */
};

static int32_t check_attr(uint32_t attr, bool lend)
{
	uint32_t type = attr & FFA_MEM_TYPE_MASK;
	uint32_t cache = attr & FFA_MEM_CACHE_MASK;
	uint32_t share = attr & FFA_MEM_SHARE_MASK;

	if (attr & ~(uint32_t)(FFA_MEM_TYPE_MASK | FFA_MEM_CACHE_MASK |
			       FFA_MEM_SHARE_MASK))
		return FFA_RET_INVALID_PARAMETERS;
	if (lend && !attr)
		return FFA_RET_OK; /* the borrower chooses */
	if (type != FFA_MEM_TYPE_NORMAL || !cache || cache == (2u << 2) ||
	    share == 1u)
		return FFA_RET_INVALID_PARAMETERS;
	return FFA_RET_OK;
}

static int32_t check_access(const struct tgf_dom *d,
			    const struct ffa_mem_access_1_2 *a, uint32_t i,
			    const struct guest_desc *g, bool lend)
{
	uint8_t perm = a->perm.perm;
	uint32_t data = perm & FFA_MEM_DATA_MASK;
	uint32_t instr = perm & FFA_MEM_INSTR_MASK;

	if (!FFA_ID_IS_SECURE(a->perm.endpoint_id) ||
	    !tgf_sp_find(d->fm, a->perm.endpoint_id))
		return FFA_RET_INVALID_PARAMETERS;
	for (uint32_t k = 0; k < i; k++)
		if (g->access[k].perm.endpoint_id == a->perm.endpoint_id)
			return FFA_RET_INVALID_PARAMETERS;
	if ((perm & FFA_MEM_PERM_RESERVED_MASK) ||
	    (data != FFA_MEM_DATA_RO && data != FFA_MEM_DATA_RW) ||
	    (instr != FFA_MEM_INSTR_NOT_SPECIFIED &&
	     instr != FFA_MEM_INSTR_NX))
		return FFA_RET_INVALID_PARAMETERS;
	if (a->perm.flags &
	    ~(lend ? (uint32_t)FFA_MEM_ACC_FLAG_NON_RETRIEVAL_BORROWER : 0u))
		return FFA_RET_INVALID_PARAMETERS;
	if (a->reserved)
		return FFA_RET_INVALID_PARAMETERS;
	if (i && a->composite_offset != g->access[0].composite_offset)
		return FFA_RET_INVALID_PARAMETERS;
	return FFA_RET_OK;
}

/*
 * Parse the first fragment (@len bytes at @buf, a private copy) of a
 * @total-byte descriptor written in version @v.
 */
static int32_t parse_first(const struct tgf_dom *d, uint32_t v, bool lend,
			   const uint8_t *buf, uint32_t len, uint32_t total,
			   struct guest_desc *g)
{
	uint32_t access_offset, access_size, count, composite;
	struct ffa_mem_composite comp;
	uint64_t end;
	int32_t rc;

	memset(g, 0, sizeof(*g));
	if (v >= FFA_VERSION_1_1) {
		static const uint8_t zero[12];
		struct ffa_mem_trans t;

		if (len < sizeof(t))
			return FFA_RET_INVALID_PARAMETERS;
		memcpy(&t, buf, sizeof(t));
		if (memcmp(t.reserved, zero, sizeof(zero)))
			return FFA_RET_INVALID_PARAMETERS;
		g->sender = t.sender_id;
		g->mem_attr = t.mem_attr;
		g->flags = t.flags;
		g->tag = t.tag;
		if (t.handle)
			return FFA_RET_INVALID_PARAMETERS;
		access_offset = t.access_offset;
		access_size = t.access_size;
		count = t.access_count;
		if (access_size != (v >= FFA_VERSION_1_2
					    ? FFA_MEM_ACCESS_1_2_SIZE
					    : FFA_MEM_ACCESS_1_1_SIZE) ||
		    access_offset < sizeof(t) || access_offset % 16)
			return FFA_RET_INVALID_PARAMETERS;
	} else {
		struct ffa_mem_trans_1_0 t;

		if (len < sizeof(t))
			return FFA_RET_INVALID_PARAMETERS;
		memcpy(&t, buf, sizeof(t));
		if (t.reserved0 || t.reserved1 || t.handle)
			return FFA_RET_INVALID_PARAMETERS;
		g->sender = t.sender_id;
		g->mem_attr = t.mem_attr;
		g->flags = t.flags;
		g->tag = t.tag;
		access_offset = FFA_MEM_TRANS_1_0_SIZE;
		access_size = FFA_MEM_ACCESS_1_1_SIZE;
		count = t.access_count;
	}
	/* A forged sender: the descriptor is this guest's or nobody's. */
	if (g->sender != d->id)
		return FFA_RET_INVALID_PARAMETERS;
	rc = check_attr(g->mem_attr, lend);
	if (rc)
		return rc;
	if (g->flags & ~(uint32_t)(FFA_MEM_FLAG_TIME_SLICE |
				   (lend ? FFA_MEM_FLAG_ZERO_MEMORY : 0u)))
		return FFA_RET_INVALID_PARAMETERS;
	if (!count || count > TGF_MAX_RECEIVERS)
		return FFA_RET_INVALID_PARAMETERS;
	end = (uint64_t)access_offset + (uint64_t)count * access_size;
	if (end > len)
		return FFA_RET_INVALID_PARAMETERS;
	for (uint32_t i = 0; i < count; i++) {
		struct ffa_mem_access_1_2 *a = &g->access[i];

		memset(a, 0, sizeof(*a));
		memcpy(a, buf + access_offset + (size_t)i * access_size,
		       access_size);
		rc = check_access(d, a, i, g, lend);
		if (rc)
			return rc;
	}
	g->naccess = count;
	composite = g->access[0].composite_offset;
	if (composite < end || composite % 8 ||
	    (uint64_t)composite + sizeof(comp) > len)
		return FFA_RET_INVALID_PARAMETERS;
	memcpy(&comp, buf + composite, sizeof(comp));
	if (comp.reserved || !comp.total_page_count || !comp.constituent_count)
		return FFA_RET_INVALID_PARAMETERS;
	g->total_pages = comp.total_page_count;
	g->nconst = comp.constituent_count;
	g->ranges_offs = composite + (uint32_t)sizeof(comp);
	/* Nothing may follow the constituents: the sizes must agree. */
	if ((uint64_t)g->ranges_offs +
		    (uint64_t)g->nconst * FFA_MEM_CONSTITUENT_SIZE !=
	    total)
		return FFA_RET_INVALID_PARAMETERS;
	if (g->nconst > g->total_pages)
		return FFA_RET_INVALID_PARAMETERS;
	return FFA_RET_OK;
}

/* The header the SPMC gets, in its version, composite last. */
static uint32_t write_head(const struct tgf_dom *d, const struct guest_desc *g,
			   uint8_t *out)
{
	uint32_t v = d->fm->spmc_version;
	uint32_t as = v >= FFA_VERSION_1_2 ? FFA_MEM_ACCESS_1_2_SIZE
					   : FFA_MEM_ACCESS_1_1_SIZE;
	uint32_t off = FFA_MEM_TRANS_SIZE;
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_trans t = { 0 };

	t.sender_id = g->sender;
	t.mem_attr = (uint16_t)g->mem_attr;
	t.flags = g->flags;
	t.tag = g->tag;
	t.access_size = as;
	t.access_count = g->naccess;
	t.access_offset = off;
	memcpy(out, &t, sizeof(t));
	for (uint32_t i = 0; i < g->naccess; i++) {
		struct ffa_mem_access_1_2 a = g->access[i];

		a.composite_offset = off + g->naccess * as;
		memcpy(out + off + (size_t)i * as, &a, as);
	}
	off += g->naccess * as;
	c.total_page_count = g->total_pages;
	c.constituent_count = g->total_pages; /* one per page */
	memcpy(out + off, &c, sizeof(c));
	return off + (uint32_t)sizeof(c);
}

/* ---- overlap check ------------------------------------------------------- */

static void sift_down(struct tgf_range *r, uint32_t i, uint32_t n)
{
	for (;;) {
		uint32_t c = 2 * i + 1, m = i;
		struct tgf_range t;

		if (c < n && r[c].ipa > r[m].ipa)
			m = c;
		if (c + 1 < n && r[c + 1].ipa > r[m].ipa)
			m = c + 1;
		if (m == i)
			return;
		t = r[i];
		r[i] = r[m];
		r[m] = t;
		i = m;
	}
}

/* Heapsort the ranges by IPA; then any overlap is between neighbours. */
static bool ranges_overlap(struct tgf_range *r, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		sift_down(r, i, n);
	for (uint32_t end = n; end-- > 1;) {
		struct tgf_range t = r[0];

		r[0] = r[end];
		r[end] = t;
		sift_down(r, 0, end);
	}
	for (uint32_t i = 1; i < n; i++)
		if (r[i - 1].ipa + r[i - 1].pages * TG_PAGE_SIZE > r[i].ipa)
			return true;
	return false;
}

/* ---- transactions --------------------------------------------------------- */

void tgf_xact_free(struct tgf_dom *d)
{
	struct tgf_xact *x = &d->xact;

	/* Still a transaction (not turned into a share): its slot goes. */
	if (x->pa)
		optee_slot_put(d, x->to_optee);
	tgf_free(d->fm, x->pa, (size_t)x->npages * sizeof(uint64_t));
	tgf_free(d->fm, x->ranges,
		 (size_t)x->ranges_cap * sizeof(struct tgf_range));
	memset(x, 0, sizeof(*x));
}

/*
 * Send the SPMC what it has not seen yet: the header (first time), then
 * one constituent per translated page, in fragments of the mediator's TX.
 * With @complete the remaining pages are sent too, the dummy page for
 * those the guest never gave. Return: 0 when the SPMC has it all
 * (SUCCESS), 1 when it waits for more (FRAG_RX as expected), an FF-A
 * error otherwise (the SPMC then dropped the transaction).
 */
static int32_t xact_flush(struct tgf_dom *d, bool complete)
{
	struct tgf_med *fm = d->fm;
	struct tgf_xact *x = &d->xact;
	uint32_t cap = fm->rxtx_pages * TG_PAGE_SIZE;
	uint32_t sent_pages = x->spmc_sent > x->head_len
				      ? (x->spmc_sent - x->head_len) /
						FFA_MEM_CONSTITUENT_SIZE
				      : 0;
	uint32_t upto = complete ? x->npages : x->pages_done;
	int32_t rc = 1;

	if (x->spmc_started && sent_pages >= upto)
		return 1; /* nothing new for the SPMC */
	fm->port.lock(fm->port.ctx, fm->txrx_lock);
	do {
		uint32_t len = 0;
		uint64_t r[8];

		if (!x->spmc_started) {
			memcpy(fm->tx, x->head, x->head_len);
			len = x->head_len;
		}
		{
			/*
			 * One constituent per page: two 64-bit stores each
			 * (address; page count 1 and reserved 0). TX is
			 * page aligned and len a multiple of 16.
			 */
			uint64_t *out = (uint64_t *)(void *)(fm->tx + len);
			uint32_t room = (cap - len) / FFA_MEM_CONSTITUENT_SIZE;
			uint32_t n = upto - sent_pages, real;
			const uint64_t *src = x->pa + sent_pages;
			uint64_t dummy = fm->dummy_pa;

			if (n > room)
				n = room;
			real = sent_pages < x->pages_done
				       ? x->pages_done - sent_pages
				       : 0;
			if (real > n)
				real = n;

			for (uint32_t i = 0; i < real; i++) {
				out[2 * i] = src[i];
				out[2 * i + 1] = 1;
			}
			for (uint32_t i = real; i < n; i++) {
				out[2 * i] = dummy;
				out[2 * i + 1] = 1;
			}
			sent_pages += n;
			len += n * FFA_MEM_CONSTITUENT_SIZE;
		}
		if (!x->spmc_started) {
			uint32_t fid;

			if (x->lend)
				fid = fm->feat[TGF_FEAT_MEM_SHARE_64]
					      ? FFA_MEM_LEND_64
					      : FFA_MEM_LEND_32;
			else
				fid = fm->feat[TGF_FEAT_MEM_SHARE_64]
					      ? FFA_MEM_SHARE_64
					      : FFA_MEM_SHARE_32;
			ffa_set_regs(r, fid, x->spmc_total, len, 0, 0, 0);
		} else {
			ffa_set_regs(r, FFA_MEM_FRAG_TX,
				     FFA_HANDLE_LO(x->handle),
				     FFA_HANDLE_HI(x->handle), len,
				     FFA_PACK_IDS(d->id, 0), 0);
		}
		tgf_smc(fm, r);
		x->spmc_sent += len;
		if (r[0] == FFA_MEM_FRAG_RX) {
			uint64_t h = FFA_HANDLE_PACK(r[1], r[2]);
			bool same = !x->have_handle || h == x->handle;

			x->handle = h;
			x->have_handle = x->spmc_started = true;
			/* The SPMC must have taken every byte, same handle. */
			if (!same || (uint32_t)r[3] != x->spmc_sent ||
			    x->spmc_sent >= x->spmc_total) {
				rc = FFA_RET_ABORTED;
				break;
			}
			rc = 1;
		} else if (r[0] == FFA_SUCCESS_32 || r[0] == FFA_SUCCESS_64) {
			uint64_t h = FFA_HANDLE_PACK(r[2], r[3]);

			rc = x->spmc_sent == x->spmc_total &&
					     (!x->have_handle || h == x->handle)
				     ? 0
				     : FFA_RET_ABORTED;
			x->handle = h;
			x->have_handle = x->spmc_started = true;
			break;
		} else {
			rc = tgf_status(r);
			if (!rc)
				rc = FFA_RET_ABORTED;
			x->spmc_started = false; /* the SPMC dropped it */
			break;
		}
	} while (sent_pages < upto);
	fm->port.unlock(fm->port.ctx, fm->txrx_lock);
	return rc;
}

/*
 * The domain's transaction, complete at the SPMC as share @h, becomes the
 * share @s (NULL: nobody's, the pins then stay for good) and ends.
 */
static void xact_hand_over(struct tgf_dom *d, struct tgf_share *s, uint64_t h)
{
	struct tgf_xact *x = &d->xact;

	if (s) {
		s->handle = h;
		s->npages = x->npages;
		s->pa = x->pa;
		s->lend = x->lend;
		s->to_optee = x->to_optee;
		/*
		 * Linked before the transaction lets go of the pages: a
		 * process that dies in between leaves both naming them,
		 * never neither (tgf_domain_recover() knows the case).
		 */
		tgf_lock(d);
		tgf_share_link(d, s);
		tgf_unlock(d);
	}
	x->pa = NULL;
	x->npages = 0;
	x->pages_done = 0;
	tgf_xact_free(d);
}

/*
 * tgf_xact_keep() - the SPMC will not give back the complete share @h of
 * the domain's transaction: it becomes a share of the guest, pins kept
 * (teardown retries). Return: false when there is no memory for the
 * record (the pins then stay for good).
 */
bool tgf_xact_keep(struct tgf_dom *d, uint64_t h)
{
	struct tgf_share *s = tgf_zalloc(d->fm, sizeof(*s));

	if (!s)
		tgf_log(d, "FF-A share kept by the SPMC, pages stay pinned", h);
	xact_hand_over(d, s, h);
	return s != NULL;
}

/**
 * tgf_xact_abort() - end the domain's unfinished transaction: if the SPMC
 * has started it, finish it (dummy pages for the rest) and reclaim it;
 * unpin what was pinned. The guest never gets the handle.
 *
 * The reclaim is tried whatever the finishing said: after a death of the
 * mediator's process the record of what the SPMC has may be behind, and
 * the SPMC may have completed the share with fewer fragments than the
 * record expects. A handle the SPMC does not know is INVALID_PARAMETERS,
 * harmless; one it will not give back (OP-TEE took it: a guest can name
 * a handle it got with FRAG_RX) stays a share of the guest.
 */
void tgf_xact_abort(struct tgf_dom *d)
{
	struct tgf_xact *x = &d->xact;
	uint32_t n;

	if (!x->active)
		return;
	if (x->spmc_started) {
		xact_flush(d, true);
		if (x->have_handle) {
			if (x->to_optee && d->fm->optee_id)
				tgf_optee_unregister(d, x->handle);
			if (tgf_reclaim_smc(d->fm, x->handle) ==
			    FFA_RET_DENIED) {
				tgf_xact_keep(d, x->handle);
				return;
			}
		}
	}
	/* The record lets go of the pins before they go (recovery). */
	n = x->pages_done;
	x->pages_done = 0;
	tgf_unpin(d, x->pa, n);
	tgf_xact_free(d);
}

/*
 * Take one fragment of constituents (@len bytes of the private copy at
 * @buf): check, pin, and send on. Return: 0 complete (the share is in
 * the table), 1 more to come, an FF-A error (the transaction is gone).
 */
static int32_t xact_take(struct tgf_dom *d, const uint8_t *buf, uint32_t len,
			 uint64_t *handle)
{
	struct tgf_med *fm = d->fm;
	struct tgf_xact *x = &d->xact;
	uint32_t n = len / FFA_MEM_CONSTITUENT_SIZE;
	struct tgf_share *s;
	int32_t rc;

	/* Inconsistent fragment lengths end the transaction. */
	if (len % FFA_MEM_CONSTITUENT_SIZE || n > x->ranges_left ||
	    len > x->guest_total - x->guest_received) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_xact_abort(d);
		return FFA_RET_INVALID_PARAMETERS;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct ffa_mem_constituent c;
		uint64_t *pa = x->pa + x->pages_done;

		memcpy(&c, buf + (size_t)i * FFA_MEM_CONSTITUENT_SIZE,
		       sizeof(c));
		if ((c.address & TG_PAGE_MASK) || !c.page_count ||
		    c.reserved || c.page_count > x->npages - x->pages_done ||
		    c.address + (uint64_t)c.page_count * TG_PAGE_SIZE <
			    c.address) {
			tgf_refuse(d, TG_REFUSE_BAD_PARAM);
			tgf_xact_abort(d);
			return FFA_RET_INVALID_PARAMETERS;
		}
		if (atomic_load(&d->pinned_pages) + c.page_count >
		    d->limits.max_pinned_pages) {
			tgf_refuse(d, TG_REFUSE_LIMIT_PAGES);
			tgf_xact_abort(d);
			return FFA_RET_NO_MEMORY;
		}
		{
			uint64_t ipa = c.address;
			uint32_t cnt = c.page_count;

			for (uint32_t p = 0; p < cnt; p++, ipa += TG_PAGE_SIZE)
				pa[p] = ipa;
		}
		/* In place: the IPAs become the pinned PAs. */
		if (fm->port.pin_pages(fm->port.ctx, d->id, pa, pa,
				       c.page_count)) {
			tgf_refuse(d, TG_REFUSE_BAD_ADDR);
			tgf_xact_abort(d);
			return FFA_RET_INVALID_PARAMETERS;
		}
		atomic_fetch_add(&d->pinned_pages, c.page_count);
		x->pages_done += c.page_count;
		x->ranges[x->nranges].ipa = c.address;
		x->ranges[x->nranges].pages = c.page_count;
		x->nranges++;
	}
	x->ranges_left -= n;
	x->guest_received += len;
	if (x->ranges_left && x->hold)
		return 1; /* all of it first, then one message */
	if (x->ranges_left) {
		rc = xact_flush(d, false);
		if (rc < 0) {
			tgf_xact_abort(d);
			return rc;
		}
		return 1;
	}
	if (x->pages_done != x->npages ||
	    ranges_overlap(x->ranges, x->nranges)) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_xact_abort(d);
		return FFA_RET_INVALID_PARAMETERS;
	}
	/* An SPMC without fragments takes it in one message or not. */
	if (!fm->spmc_frags_ok && !x->spmc_started &&
	    x->spmc_total > fm->rxtx_pages * TG_PAGE_SIZE) {
		tgf_refuse(d, TG_REFUSE_LIMIT_PAGES);
		tgf_xact_abort(d);
		return FFA_RET_NO_MEMORY;
	}
	rc = xact_flush(d, false);
	if (rc) {
		tgf_xact_abort(d);
		return rc < 0 ? rc : FFA_RET_ABORTED;
	}
	s = tgf_zalloc(fm, sizeof(*s));
	if (!s) {
		int32_t back;

		/*
		 * The SPMC has it: take it back, then forget it (the record
		 * lets go of the pins before they go, as everywhere: a
		 * recovery must not report pins the hypervisor dropped, nor
		 * unpin them twice). If the SPMC keeps it, the pins stay for
		 * good: the transaction must end, or the guest could never
		 * share again (one transaction at a time).
		 */
		back = tgf_reclaim_smc(fm, x->handle);
		if (back == FFA_RET_OK || back == FFA_RET_INVALID_PARAMETERS) {
			uint32_t done = x->pages_done;

			x->pages_done = 0;
			tgf_unpin(d, x->pa, done);
			tgf_xact_free(d);
		} else {
			tgf_xact_keep(d, x->handle);
		}
		tgf_refuse(d, TG_REFUSE_NO_MEMORY);
		return FFA_RET_NO_MEMORY;
	}
	*handle = x->handle;
	xact_hand_over(d, s, x->handle);
	return FFA_RET_OK;
}

/* Take the domain's busy flag (its TX copy and transaction). */
static int32_t begin(struct tgf_dom *d, uint32_t frag_len, bool first)
{
	int32_t err = FFA_RET_OK;

	tgf_lock(d);
	if (!d->rxtx_pages)
		err = FFA_RET_DENIED;
	else if (d->busy)
		err = FFA_RET_BUSY;
	else if (first && d->xact.active)
		err = FFA_RET_BUSY; /* one transaction at a time */
	else if (!first && !d->xact.active)
		err = FFA_RET_INVALID_PARAMETERS;
	else if (!frag_len || frag_len > d->rxtx_pages * TG_PAGE_SIZE)
		err = FFA_RET_INVALID_PARAMETERS;
	else if (first && d->nshares >= d->limits.max_shm_bufs)
		err = FFA_RET_NO_MEMORY;
	else
		d->busy = true;
	tgf_unlock(d);
	return err;
}

static void end(struct tgf_dom *d)
{
	tgf_lock(d);
	d->busy = false;
	tgf_unlock(d);
}

static void answer(struct tgf_dom *d, uint64_t regs[8], int32_t rc)
{
	struct tgf_xact *x = &d->xact;

	if (rc < 0) {
		tgf_error(regs, rc);
	} else if (rc == 1) {
		ffa_set_regs(regs, FFA_MEM_FRAG_RX, FFA_HANDLE_LO(x->handle),
			     FFA_HANDLE_HI(x->handle), x->guest_received, 0, 0);
	} else {
		tgf_success(regs, 0, 0);
	}
}

/**
 * tgf_mem_share() - FFA_MEM_SHARE / FFA_MEM_LEND from a guest: w1 total
 * length, w2 fragment length, w3/w4 a buffer of its own (not taken:
 * the descriptor must be in its TX), w5..w7 MBZ.
 */
void tgf_mem_share(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint32_t fid = (uint32_t)regs[0];
	uint32_t total = (uint32_t)regs[1], frag = (uint32_t)regs[2];
	bool lend = fid == FFA_MEM_LEND_32 || fid == FFA_MEM_LEND_64;
	struct tgf_xact *x = &d->xact;
	struct guest_desc *g = NULL;
	uint64_t handle = 0;
	int32_t rc;

	tgf_count(d, TG_KIND_STD_CALL);
	if ((lend && !fm->feat[TGF_FEAT_MEM_LEND]) ||
	    (FFA_FN_IS_64(fid) && !fm->feat[TGF_FEAT_MEM_SHARE_64]) ||
	    regs[3] || regs[4]) {
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (regs[5] || regs[6] || regs[7] || frag > total) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	rc = begin(d, frag, true);
	if (rc) {
		tgf_refuse(d, rc == FFA_RET_NO_MEMORY ? TG_REFUSE_LIMIT_BUFS
						      : TG_REFUSE_BAD_PARAM);
		tgf_error(regs, rc);
		return;
	}
	/* Once: the guest may rewrite its TX at any time. */
	if (fm->port.copy_from_guest(fm->port.ctx, d->id, d->txcopy,
				     d->tx_ipa, frag)) {
		rc = FFA_RET_ABORTED;
		goto out;
	}
	g = tgf_zalloc(fm, sizeof(*g));
	if (!g) {
		rc = FFA_RET_NO_MEMORY;
		goto out;
	}
	rc = parse_first(d, atomic_load(&d->version), lend, d->txcopy, frag,
			 total, g);
	if (rc) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		goto out;
	}
	if (g->total_pages > d->limits.max_pages_per_buf) {
		tgf_refuse(d, TG_REFUSE_LIMIT_PAGES);
		rc = FFA_RET_NO_MEMORY;
		goto out;
	}
	memset(x, 0, sizeof(*x));
	for (uint32_t i = 0; i < g->naccess; i++)
		if (fm->optee_id && g->access[i].perm.endpoint_id == fm->optee_id)
			x->to_optee = true;
	if (x->to_optee) {
		bool full;

		tgf_lock(d);
		full = d->nshares_optee >= TGF_OPTEE_MAX_SHARES;
		if (!full)
			d->nshares_optee++;
		tgf_unlock(d);
		if (full) {
			x->to_optee = false;
			tgf_refuse(d, TG_REFUSE_LIMIT_BUFS);
			rc = FFA_RET_NO_MEMORY;
			goto out;
		}
	}
	x->lend = lend;
	x->npages = g->total_pages;
	x->ranges_cap = g->nconst;
	x->pa = tgf_zalloc(fm, (size_t)x->npages * sizeof(uint64_t));
	x->ranges = tgf_zalloc(fm, (size_t)x->ranges_cap *
					   sizeof(struct tgf_range));
	if (!x->pa || !x->ranges) {
		if (!x->pa)
			optee_slot_put(d, x->to_optee);
		tgf_xact_free(d);
		tgf_refuse(d, TG_REFUSE_NO_MEMORY);
		rc = FFA_RET_NO_MEMORY;
		goto out;
	}
	x->head_len = write_head(d, g, x->head);
	x->spmc_total = x->head_len +
			x->npages * (uint32_t)FFA_MEM_CONSTITUENT_SIZE;
	x->guest_total = total;
	x->guest_received = g->ranges_offs;
	x->ranges_left = g->nconst;
	x->active = true;
	if (frag < total && !fm->spmc_frags_ok) {
		/*
		 * The guest fragments, the SPMC would refuse fragments: hold
		 * them all and name the share ourselves (a hypervisor handle,
		 * unique: bit 63, the VM, a counter), as FF-A allows.
		 */
		uint64_t n = atomic_fetch_add(&fm->next_hyp_handle, 1);

		x->hold = true;
		x->handle = FFA_HANDLE_HYPERVISOR_BIT |
			    ((uint64_t)d->id << 32) | (n & 0xFFFFFFFFu);
		x->have_handle = true;
		/* The handle field of the header the SPMC gets. */
		memcpy(x->head + offsetof(struct ffa_mem_trans, handle),
		       &x->handle, sizeof(x->handle));
	}
	rc = xact_take(d, d->txcopy + g->ranges_offs, frag - g->ranges_offs,
		       &handle);
out:
	tgf_free(fm, g, sizeof(*g));
	end(d);
	answer(d, regs, rc);
	if (rc == 0) {
		regs[2] = FFA_HANDLE_LO(handle);
		regs[3] = FFA_HANDLE_HI(handle);
	}
}

/**
 * tgf_mem_frag_tx() - the guest's next fragment: w1/w2 the handle of its
 * transaction, w3 the length, w4 MBZ (a VM does not name a sender).
 */
void tgf_mem_frag_tx(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint64_t handle = FFA_HANDLE_PACK(regs[1], regs[2]);
	uint32_t len = (uint32_t)regs[3];
	struct tgf_xact *x = &d->xact;
	int32_t rc;

	tgf_count(d, TG_KIND_STD_CALL);
	if (regs[4] || regs[5] || regs[6] || regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	rc = begin(d, len, false);
	if (rc) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, rc);
		return;
	}
	if (!x->have_handle || x->handle != handle) {
		/* Not its transaction: another guest's, or made up. */
		end(d);
		tgf_refuse(d, TG_REFUSE_BAD_COOKIE);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (fm->port.copy_from_guest(fm->port.ctx, d->id, d->txcopy,
				     d->tx_ipa, len)) {
		tgf_xact_abort(d);
		rc = FFA_RET_ABORTED;
	} else {
		rc = xact_take(d, d->txcopy, len, &handle);
	}
	end(d);
	answer(d, regs, rc);
	if (rc == 0) {
		regs[2] = FFA_HANDLE_LO(handle);
		regs[3] = FFA_HANDLE_HI(handle);
	}
}

/**
 * tgf_mem_reclaim() - FFA_MEM_RECLAIM from a guest: only a handle of its
 * own, complete. The share leaves the table while the SPMC is asked, so
 * that a second vCPU cannot reclaim it twice; DENIED puts it back.
 */
void tgf_mem_reclaim(struct tgf_dom *d, uint64_t regs[8])
{
	uint64_t handle = FFA_HANDLE_PACK(regs[1], regs[2]);
	uint32_t flags = (uint32_t)regs[3];
	struct tgf_share *s;
	uint64_t r[8];
	int32_t rc;
	bool busy;

	tgf_count(d, TG_KIND_STD_CALL);
	if (flags & ~(uint32_t)(FFA_RECLAIM_FLAG_ZERO |
				FFA_RECLAIM_FLAG_TIME_SLICE) ||
	    regs[4] || regs[5] || regs[6] || regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	tgf_lock(d);
	s = tgf_share_find(d, handle);
	busy = s && s->reclaiming;
	if (s)
		s->reclaiming = true;
	tgf_unlock(d);
	if (!s) {
		/* Another guest's handle, a guessed one, a stale one. */
		tgf_refuse(d, TG_REFUSE_BAD_COOKIE);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (busy) {
		/* Its other vCPU is reclaiming it right now. */
		tgf_refuse(d, TG_REFUSE_BUF_BUSY);
		tgf_error(regs, FFA_RET_BUSY);
		return;
	}
	ffa_set_regs(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(handle),
		     FFA_HANDLE_HI(handle), s->lend ? flags : 0, 0, 0);
	tgf_smc(d->fm, r);
	rc = tgf_status(r);
	tgf_lock(d);
	if (rc)
		s->reclaiming = false;
	else
		tgf_share_unlink(d, s);
	tgf_unlock(d);
	if (rc) {
		if (rc == FFA_RET_DENIED)
			tgf_refuse(d, TG_REFUSE_BUF_BUSY);
		tgf_error(regs, rc);
		return;
	}
	tgf_share_free(d, s);
	tgf_success(regs, 0, 0);
}
