// SPDX-License-Identifier: BSD-2-Clause
/*
 * FF-A memory management of the model SPMC: FFA_MEM_SHARE / FFA_MEM_LEND
 * with fragments (FFA_MEM_FRAG_TX), FFA_MEM_RECLAIM, and OP-TEE's
 * OPTEE_FFA_UNREGISTER_SHM. What OP-TEE 4.10's thread_spmc.c and
 * mobj_ffa.c do as the S-EL1 SPMC, with the same answers:
 *
 * - the descriptor is read from the normal world's TX buffer (the one
 *   pair RXTX_MAP gave, the hypervisor's with virtualization), once,
 *   into private memory; the guest it is for is its sender id;
 * - OP-TEE's partition must be a receiver with exactly read-write access;
 *   a share must be normal write-back inner-shareable memory, a lend
 *   must leave the attributes unspecified;
 * - the handle is allocated here: index | bit 44 | guest id << 16, at
 *   most 64 per guest;
 * - a share OP-TEE has used by its handle stays registered until
 *   OPTEE_FFA_UNREGISTER_SHM; reclaim is DENIED until then, and while a
 *   call uses it.
 *
 * Every constituent page is checked with tg_sw_mem.map() on behalf of the
 * sender (the isolation oracle sees it). Where OP-TEE is lax the model is
 * strict, and says so: constituents must be 4 KiB aligned, a fragment
 * must hold whole constituents.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* A transaction whose constituents are still coming (FFA_MEM_FRAG_TX). */
struct ffa_frag {
	struct ffa_frag *next;
	struct guest *g;
	uint16_t sender;
	struct reg_shm *r;     /* not yet in the guest's list */
	uint32_t tot_len;      /* the whole descriptor */
	uint32_t received;     /* bytes of it received so far */
	uint32_t regions_left; /* constituents still to come */
	uint64_t pages_done;   /* pages filled in r->span */
};

static void set_error(uint64_t regs[8], int32_t err)
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = FFA_ERROR;
	regs[2] = (uint32_t)err;
}

static void set_success(uint64_t regs[8], uint64_t w2, uint64_t w3)
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = FFA_SUCCESS_32;
	regs[2] = w2;
	regs[3] = w3;
}

/* Copy @len bytes of the normal world's TX buffer (the hypervisor's). */
static bool read_nw_tx(struct tg_model *m, void *dst, uint32_t len)
{
	struct ns_span tx;
	bool ok;

	if (!m->ffa.rxtx_pages ||
	    len > m->ffa.rxtx_pages * (uint64_t)MODEL_PAGE_SIZE)
		return false;
	if (!tgm_span_contig(m->ffa.nw_tx_pa, len, &tx))
		return false;
	ok = tgm_span_read(m, FFA_HYP_ID, &tx, 0, dst, len);
	tgm_span_release(&tx);
	return ok;
}

struct reg_shm *tgm_ffa_share_find(struct guest *g, uint64_t cookie)
{
	for (struct reg_shm *r = g->shms; r; r = r->next)
		if (r->ffa && r->cookie == cookie)
			return r;
	return NULL;
}

/*
 * tgm_ffa_share_use() - a call starts using @r by its handle (OP-TEE's
 * mobj_ffa_get_by_cookie()): the internal offset must match while it is
 * in use; it stays registered until OPTEE_FFA_UNREGISTER_SHM.
 */
uint32_t tgm_ffa_share_use(struct reg_shm *r, uint32_t internal_offs)
{
	if (internal_offs >= MODEL_PAGE_SIZE)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (r->users && r->ffa_page_offset != internal_offs)
		return TEEC_ERROR_BAD_PARAMETERS;
	r->ffa_page_offset = (uint16_t)internal_offs;
	r->users++;
	r->ffa_registered = true;
	return TEEC_SUCCESS;
}

static void share_free(struct reg_shm *r)
{
	tgm_span_release(&r->span);
	free(r);
}

static void handle_index_put(struct tg_model *m, struct guest *g,
			     uint64_t handle)
{
	uint32_t idx = (uint32_t)(handle & 0xFFFFu);

	if (idx >= MODEL_FFA_MAX_SHARES)
		return;
	/* OP-TEE 4.10: assert(bit_test(shm_bits, i)) in the delete. */
	if (!(g->ffa_handle_bits & (1ull << idx)) &&
	    m->cfg.ffa_optee_4_10_bugs)
		m->panicked = true;
	g->ffa_handle_bits &= ~(1ull << idx);
}

/*
 * Add @count constituents from @c (private memory) to the share being
 * built. Each must be 4 KiB aligned, fit the total page count and be NS
 * RAM of the sender page by page.
 */
static int32_t add_constituents(struct tg_model *m, struct ffa_frag *f,
				const struct ffa_mem_constituent *c,
				uint32_t count)
{
	struct ns_span *s = &f->r->span;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t addr = c[i].address;
		uint32_t n = c[i].page_count;

		if ((addr & MODEL_PAGE_MASK) || !n ||
		    n > s->npages - f->pages_done)
			return FFA_RET_INVALID_PARAMETERS;
		for (uint32_t p = 0; p < n; p++) {
			uint64_t pa = addr + (uint64_t)p * MODEL_PAGE_SIZE;

			if (pa < addr || !tgm_pa_range_is_ns(m, f->sender, pa,
							    MODEL_PAGE_SIZE))
				return FFA_RET_INVALID_PARAMETERS;
			s->pages[f->pages_done++] = pa;
		}
	}
	return FFA_RET_OK;
}

static void frag_unlink(struct tg_model *m, struct ffa_frag *f)
{
	for (struct ffa_frag **pp = &m->ffa.frags; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			return;
		}
	}
}

/* Drop a transaction that failed: its handle is free again. */
static void frag_abort(struct tg_model *m, struct ffa_frag *f)
{
	frag_unlink(m, f);
	handle_index_put(m, f->g, f->r->cookie);
	share_free(f->r);
	free(f);
}

/*
 * Take the constituents of one fragment (@len bytes at @buf). Return
 * FFA_RET_OK when the descriptor is complete (the share is now in the
 * guest's list and @f freed), a positive count of bytes received so far
 * when more must come, or an error (the transaction is dropped).
 */
static int64_t frag_take(struct tg_model *m, struct ffa_frag *f,
			 const uint8_t *buf, uint32_t len)
{
	struct ffa_mem_constituent c[MODEL_PAGE_SIZE /
				     sizeof(struct ffa_mem_constituent)];
	uint32_t n = len / FFA_MEM_CONSTITUENT_SIZE;
	int32_t rc;

	/* A fragment holds whole constituents (OP-TEE drops a tail). */
	if (len % FFA_MEM_CONSTITUENT_SIZE || n > f->regions_left ||
	    len > f->tot_len - f->received) {
		frag_abort(m, f);
		return FFA_RET_INVALID_PARAMETERS;
	}
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done;

		if (k > sizeof(c) / sizeof(c[0]))
			k = sizeof(c) / sizeof(c[0]);
		memcpy(c, buf + (size_t)done * FFA_MEM_CONSTITUENT_SIZE,
		       (size_t)k * FFA_MEM_CONSTITUENT_SIZE);
		rc = add_constituents(m, f, c, k);
		if (rc) {
			frag_abort(m, f);
			return rc;
		}
		done += k;
	}
	f->regions_left -= n;
	f->received += len;
	if (f->regions_left)
		return f->received;
	if (f->pages_done != f->r->span.npages) {
		frag_abort(m, f);
		return FFA_RET_INVALID_PARAMETERS;
	}
	frag_unlink(m, f);
	f->r->next = f->g->shms;
	f->g->shms = f->r;
	free(f);
	return FFA_RET_OK;
}

/* The parts of a transaction descriptor the SPMC looks at. */
struct mem_trans {
	uint16_t sender;
	uint32_t mem_attr;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t access_size, access_count, access_offset;
};

/* spmc_read_mem_transaction(): the header, in the negotiated version. */
static int32_t read_trans(uint32_t version, const uint8_t *buf, uint32_t len,
			  struct mem_trans *t)
{
	uint64_t end;

	if (version >= FFA_VERSION_1_1) {
		struct ffa_mem_trans d;

		if (len < sizeof(d))
			return FFA_RET_INVALID_PARAMETERS;
		memcpy(&d, buf, sizeof(d));
		t->sender = d.sender_id;
		t->mem_attr = d.mem_attr;
		t->flags = d.flags;
		t->handle = d.handle;
		t->tag = d.tag;
		t->access_size = d.access_size;
		t->access_count = d.access_count;
		t->access_offset = d.access_offset;
	} else {
		struct ffa_mem_trans_1_0 d;

		if (len < sizeof(d))
			return FFA_RET_INVALID_PARAMETERS;
		memcpy(&d, buf, sizeof(d));
		t->sender = d.sender_id;
		t->mem_attr = d.mem_attr;
		t->flags = d.flags;
		t->handle = d.handle;
		t->tag = d.tag;
		t->access_size = FFA_MEM_ACCESS_1_1_SIZE;
		t->access_count = d.access_count;
		t->access_offset = FFA_MEM_TRANS_1_0_SIZE;
	}
	if (t->mem_attr > 0xFFu || t->flags > 0xFFu ||
	    t->access_size > 0xFFu || t->access_count > 0xFFu ||
	    t->access_offset > 0xFFFFu || t->access_offset % 16 ||
	    t->access_size < sizeof(struct ffa_mem_access_1_1))
		return FFA_RET_INVALID_PARAMETERS;
	end = (uint64_t)t->access_size * t->access_count + t->access_offset;
	if (end > len)
		return FFA_RET_INVALID_PARAMETERS;
	return FFA_RET_OK;
}

/* Find OP-TEE's receiver entry: its permissions and composite offset. */
static int32_t optee_access(const uint8_t *buf, const struct mem_trans *t,
			    uint8_t *perm, uint32_t *composite)
{
	for (uint32_t i = 0; i < t->access_count; i++) {
		struct ffa_mem_access_1_1 a;

		memcpy(&a, buf + t->access_offset + (size_t)i * t->access_size,
		       sizeof(a));
		if (a.perm.endpoint_id == MODEL_FFA_OPTEE_ID) {
			*perm = a.perm.perm;
			*composite = a.composite_offset;
			return FFA_RET_OK;
		}
	}
	return FFA_RET_INVALID_PARAMETERS;
}

/* A free handle of @g, or 0. */
static uint64_t handle_alloc(struct tg_model *m, struct guest *g)
{
	for (uint32_t i = 0; i < MODEL_FFA_MAX_SHARES; i++) {
		if (!(g->ffa_handle_bits & (1ull << i))) {
			g->ffa_handle_bits |= 1ull << i;
			return i | MODEL_FFA_HANDLE_NS_BIT |
			       ((uint64_t)g->id << MODEL_FFA_HANDLE_GUEST_SHIFT);
		}
	}
	/* OP-TEE 4.10 deletes the new object as if it had index 0. */
	if (m->cfg.ffa_optee_4_10_bugs)
		g->ffa_handle_bits &= ~1ull;
	return 0;
}

/*
 * Start a share or lend from the first fragment (@buf, @frag_len bytes of
 * a @tot_len descriptor). On success *@out is the handle and the return
 * is FFA_RET_OK (complete) or the byte count received (more to come).
 */
static int64_t mem_op_start(struct tg_model *m, bool share, const uint8_t *buf,
			    uint32_t frag_len, uint32_t tot_len, uint64_t *out)
{
	struct ffa_mem_composite comp;
	struct mem_trans t;
	struct ffa_frag *f;
	struct reg_shm *r;
	struct guest *g;
	uint32_t composite = 0, ranges_offs;
	uint8_t perm = 0;
	uint64_t end;
	int32_t rc;

	rc = read_trans(m->ffa.version, buf, frag_len, &t);
	if (rc)
		return rc;
	/* virt_set_guest(sender): the sender names the partition. */
	g = tgm_find_guest(m, t.sender);
	if (!g || (!m->cfg.no_virtualization && !t.sender)) {
		/* OP-TEE 4.10 loses the DENIED: SUCCESS, handle 0. */
		if (m->cfg.ffa_optee_4_10_bugs) {
			*out = 0;
			return FFA_RET_OK;
		}
		return FFA_RET_DENIED;
	}
	if (t.mem_attr != (share ? FFA_MEM_ATTR_NORMAL_WB_IS : 0u))
		return FFA_RET_INVALID_PARAMETERS;
	if (optee_access(buf, &t, &perm, &composite) ||
	    perm != FFA_MEM_DATA_RW)
		return FFA_RET_INVALID_PARAMETERS;
	if ((uint64_t)composite + sizeof(comp) > frag_len || composite % 8)
		return FFA_RET_INVALID_PARAMETERS;
	memcpy(&comp, buf + composite, sizeof(comp));
	ranges_offs = composite + (uint32_t)sizeof(comp);
	if (!comp.total_page_count || !comp.constituent_count ||
	    comp.total_page_count >
		    MODEL_MAX_MEMREF_SIZE / MODEL_PAGE_SIZE)
		return FFA_RET_INVALID_PARAMETERS;
	end = (uint64_t)comp.constituent_count * FFA_MEM_CONSTITUENT_SIZE +
	      ranges_offs;
	if (end > tot_len)
		return FFA_RET_INVALID_PARAMETERS;
	/* A hypervisor-allocated handle is taken as is (OP-TEE too). */
	if (t.handle && !(t.handle & FFA_HANDLE_HYPERVISOR_BIT))
		return FFA_RET_NO_MEMORY;

	r = calloc(1, sizeof(*r));
	f = calloc(1, sizeof(*f));
	if (!r || !f) {
		free(r);
		free(f);
		return FFA_RET_NO_MEMORY;
	}
	r->span.pages = calloc(comp.total_page_count, sizeof(uint64_t));
	r->cookie = t.handle ? t.handle : handle_alloc(m, g);
	if (!r->span.pages || !r->cookie ||
	    (t.handle && tgm_ffa_share_find(g, t.handle))) {
		if (r->cookie && !t.handle)
			handle_index_put(m, g, r->cookie);
		free(r->span.pages);
		free(r);
		free(f);
		return FFA_RET_NO_MEMORY;
	}
	r->span.owned = true;
	r->span.npages = comp.total_page_count;
	r->span.size = (uint64_t)comp.total_page_count * MODEL_PAGE_SIZE;
	r->ffa = true;
	r->ffa_lend = !share;
	f->g = g;
	f->sender = t.sender;
	f->r = r;
	f->tot_len = tot_len;
	f->received = ranges_offs;
	f->regions_left = comp.constituent_count;
	f->next = m->ffa.frags;
	m->ffa.frags = f;
	*out = r->cookie;
	return frag_take(m, f, buf + ranges_offs, frag_len - ranges_offs);
}

static void answer(uint64_t regs[8], int64_t rc, uint64_t handle)
{
	if (rc < 0) {
		set_error(regs, (int32_t)rc);
	} else if (rc > 0) {
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = FFA_MEM_FRAG_RX;
		regs[1] = FFA_HANDLE_LO(handle);
		regs[2] = FFA_HANDLE_HI(handle);
		regs[3] = (uint64_t)rc;
	} else {
		set_success(regs, FFA_HANDLE_LO(handle), FFA_HANDLE_HI(handle));
	}
}

/**
 * tgm_ffa_mem_op() - FFA_MEM_SHARE / FFA_MEM_LEND: w1 total length, w2
 * fragment length, w3 buffer address (0: the TX buffer), w4 its pages,
 * w5..w7 MBZ. The model takes descriptors in the TX buffer only (the
 * hypervisor's); a buffer of the caller's is NOT_SUPPORTED.
 */
void tgm_ffa_mem_op(struct tg_model *m, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	uint32_t tot_len = (uint32_t)regs[1], frag_len = (uint32_t)regs[2];
	uint64_t addr = regs[3];
	bool share = fid == FFA_MEM_SHARE_32 || fid == FFA_MEM_SHARE_64;
	uint64_t handle = 0;
	uint8_t *buf;
	int64_t rc;

	if (!FFA_FN_IS_64(fid))
		addr &= 0xFFFFFFFFu;
	if (regs[5] || regs[6] || regs[7] || frag_len > tot_len) {
		set_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (addr || regs[4]) {
		set_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	/* OP-TEE 4.10: frag_len and tot_len swapped in the check. */
	if (m->cfg.ffa_optee_4_10_bugs && frag_len != tot_len) {
		set_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (!m->ffa.rxtx_pages ||
	    frag_len > m->ffa.rxtx_pages * (uint64_t)MODEL_PAGE_SIZE) {
		set_error(regs, FFA_RET_DENIED);
		return;
	}
	buf = malloc(frag_len ? frag_len : 1);
	if (!buf) {
		set_error(regs, FFA_RET_NO_MEMORY);
		return;
	}
	if (!read_nw_tx(m, buf, frag_len))
		rc = FFA_RET_INVALID_PARAMETERS;
	else
		rc = mem_op_start(m, share, buf, frag_len, tot_len, &handle);
	free(buf);
	answer(regs, rc, handle);
}

/**
 * tgm_ffa_frag_tx() - FFA_MEM_FRAG_TX: w1/w2 handle, w3 fragment length,
 * w4 sender VM id in 31:16 (from a hypervisor). The fragment is the next
 * @w3 bytes of constituents in the TX buffer.
 */
void tgm_ffa_frag_tx(struct tg_model *m, uint64_t regs[8])
{
	uint64_t handle = FFA_HANDLE_PACK(regs[1], regs[2]);
	uint32_t len = (uint32_t)regs[3];
	uint16_t sender = FFA_SENDER(regs[4]);
	struct ffa_frag *f;
	uint8_t *buf;
	int64_t rc;

	for (f = m->ffa.frags; f; f = f->next)
		if (f->r->cookie == handle)
			break;
	if (!f || (!m->cfg.no_virtualization && f->sender != sender) ||
	    !len || len > m->ffa.rxtx_pages * (uint64_t)MODEL_PAGE_SIZE) {
		set_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	buf = malloc(len);
	if (!buf || !read_nw_tx(m, buf, len)) {
		free(buf);
		frag_abort(m, f);
		set_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	rc = frag_take(m, f, buf, len);
	free(buf);
	answer(regs, rc, handle);
}

/* A handle of a destroyed guest: forget it (OK), else false. */
static bool orphan_take(struct tg_model *m, uint64_t handle)
{
	for (uint32_t i = 0; i < m->ffa.norphans; i++) {
		if (m->ffa.orphans[i] == handle) {
			m->ffa.orphans[i] = m->ffa.orphans[--m->ffa.norphans];
			return true;
		}
	}
	return false;
}

/**
 * tgm_ffa_reclaim() - FFA_MEM_RECLAIM: w1/w2 handle, w3 flags, w4..w7 MBZ
 * (OP-TEE refuses any flag). The guest is found from the handle.
 */
void tgm_ffa_reclaim(struct tg_model *m, uint64_t regs[8])
{
	uint64_t handle = FFA_HANDLE_PACK(regs[1], regs[2]);
	struct reg_shm **pp, *r;
	struct guest *g;
	int32_t rc = FFA_RET_INVALID_PARAMETERS;

	if (regs[3] || regs[4] || regs[5] || regs[6] || regs[7])
		goto out;
	g = tgm_find_guest(m, (uint16_t)(handle >>
					 MODEL_FFA_HANDLE_GUEST_SHIFT));
	if (handle & FFA_HANDLE_HYPERVISOR_BIT) {
		g = NULL;
		for (uint32_t i = 0; i < m->max_guests && !g; i++)
			if (m->guests[i].live &&
			    tgm_ffa_share_find(&m->guests[i], handle))
				g = &m->guests[i];
	}
	if (!g) {
		if (orphan_take(m, handle))
			rc = FFA_RET_OK;
		goto out;
	}
	for (pp = &g->shms; *pp; pp = &(*pp)->next) {
		r = *pp;
		if (!r->ffa || r->cookie != handle)
			continue;
		if (r->users || r->ffa_registered) {
			rc = FFA_RET_DENIED;
			goto out;
		}
		*pp = r->next;
		if (!(handle & FFA_HANDLE_HYPERVISOR_BIT))
			handle_index_put(m, g, handle);
		share_free(r);
		rc = FFA_RET_OK;
		goto out;
	}
out:
	if (rc)
		set_error(regs, rc);
	else
		set_success(regs, 0, 0);
}

/**
 * tgm_ffa_unregister() - OPTEE_FFA_UNREGISTER_SHM (a blocking direct
 * request): forget OP-TEE's registration of @cookie. 0 also when it is
 * unknown or was never used (as OP-TEE); FFA_RET_BUSY while in use.
 */
uint32_t tgm_ffa_unregister(struct tg_model *m, struct guest *g,
			    uint64_t cookie)
{
	struct reg_shm *r = tgm_ffa_share_find(g, cookie);

	(void)m;
	if (!r)
		return 0;
	if (r->users)
		return (uint32_t)FFA_RET_BUSY;
	r->ffa_registered = false;
	return 0;
}

/*
 * tgm_ffa_guest_gone() - VM_DESTROYED (or a duplicate VM_CREATED): drop
 * the guest's transactions in progress; the handles of its complete
 * shares stay reclaimable by the hypervisor, as OP-TEE keeps them.
 */
void tgm_ffa_guest_gone(struct tg_model *m, struct guest *g)
{
	struct ffa_frag **pp = &m->ffa.frags;

	while (*pp) {
		struct ffa_frag *f = *pp;

		if (f->g != g) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		share_free(f->r);
		free(f);
	}
	for (struct reg_shm *r = g->shms; r; r = r->next) {
		if (!r->ffa)
			continue;
		if (m->ffa.norphans == m->ffa.orphans_cap) {
			uint32_t cap = m->ffa.orphans_cap
					       ? 2 * m->ffa.orphans_cap
					       : 64;
			uint64_t *n = realloc(m->ffa.orphans,
					      cap * sizeof(*n));

			if (!n)
				break; /* forgotten: reclaim then fails */
			m->ffa.orphans = n;
			m->ffa.orphans_cap = cap;
		}
		m->ffa.orphans[m->ffa.norphans++] = r->cookie;
	}
	g->ffa_handle_bits = 0;
	g->nvb_created = false;
	g->nvb_bottom_half = -1;
	g->nvb_pending = 0;
	g->nvb_bound = 0;
}

void tgm_ffa_free(struct tg_model *m)
{
	while (m->ffa.frags) {
		struct ffa_frag *f = m->ffa.frags;

		m->ffa.frags = f->next;
		share_free(f->r);
		free(f);
	}
	free(m->ffa.orphans);
	m->ffa.orphans = NULL;
	m->ffa.norphans = m->ffa.orphans_cap = 0;
}

uint32_t tg_model_ffa_shares(struct tg_model *m, uint32_t vm_id)
{
	uint32_t n = 0;

	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < m->max_guests; i++) {
		const struct guest *g = &m->guests[i];

		if (!g->live || (vm_id != UINT32_MAX && g->id != vm_id))
			continue;
		for (const struct reg_shm *r = g->shms; r; r = r->next)
			n += r->ffa;
	}
	for (const struct ffa_frag *f = m->ffa.frags; f; f = f->next)
		if (vm_id == UINT32_MAX || f->sender == vm_id)
			n++;
	/* Handles of destroyed guests not reclaimed yet count too. */
	for (uint32_t i = 0; i < m->ffa.norphans; i++)
		if (vm_id == UINT32_MAX ||
		    ((m->ffa.orphans[i] >> MODEL_FFA_HANDLE_GUEST_SHIFT) &
		     0xFFFFu) == vm_id)
			n++;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void tg_model_ffa_share_pages(struct tg_model *m,
			      void (*fn)(void *arg, uint32_t vm_id, uint64_t pa),
			      void *arg)
{
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < m->max_guests; i++) {
		const struct guest *g = &m->guests[i];

		if (!g->live)
			continue;
		for (const struct reg_shm *r = g->shms; r; r = r->next) {
			if (!r->ffa)
				continue;
			for (uint64_t k = 0; k < r->span.npages; k++)
				fn(arg, g->id, tgm_span_page(&r->span, k));
		}
	}
	pthread_mutex_unlock(&m->lock);
}

uint32_t tg_model_ffa_handles(struct tg_model *m, uint32_t vm_id,
			      uint64_t *out, uint32_t max)
{
	uint32_t n = 0;

	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < m->max_guests; i++) {
		const struct guest *g = &m->guests[i];

		if (!g->live || g->id != vm_id)
			continue;
		for (const struct reg_shm *r = g->shms; r && n < max;
		     r = r->next)
			if (r->ffa)
				out[n++] = r->cookie;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}
