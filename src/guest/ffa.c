// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest's FF-A layer: what Linux's drivers/firmware/arm_ffa does for
 * the OP-TEE driver above it.
 *
 * - FFA_VERSION (we speak 1.2 and accept 1.0..1.2), FFA_ID_GET;
 * - RX/TX buffers in guest RAM, FFA_RXTX_MAP_64 (and UNMAP at the end);
 * - partition discovery by OP-TEE's UUID (count first, then the list
 *   from RX, then FFA_RX_RELEASE);
 * - FFA_MSG_SEND_DIRECT_REQ_32, FFA_RUN while FFA_INTERRUPT;
 * - FFA_MEM_SHARE of guest pages with one receiver (OP-TEE, read-write),
 *   the descriptor built in TX in the negotiated version and sent in
 *   fragments (FFA_MEM_FRAG_TX) when the constituents do not fit;
 *   FFA_MEM_RECLAIM;
 * - notifications: a bitmap, BIND/UNBIND of one id, GET.
 *
 * Everything the other side answers (registers, RX contents) is checked
 * before use: nonsense gives an error, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "optee_private.h"

#define FFA_DRIVER_VERSION FFA_VERSION_1_2

/*
 * Set when an FF-A call of this thread was answered ABORTED: the
 * hypervisor's answer when the mediator died under it (or the mediator
 * could not finish it). A yielding call whose RPCs met one is reported
 * as a failed communication, whatever OP-TEE then answered.
 */
static __thread bool ffa_aborted;

static void ffa_call(struct tg_optee *drv, uint64_t regs[8])
{
	tgg_drv_smc(drv, regs);
	if (regs[0] == FFA_ERROR && (int32_t)regs[2] == FFA_RET_ABORTED)
		ffa_aborted = true;
}

/* Clear (@clear) and read this thread's flag. */
bool tgg_ffa_aborted(bool clear)
{
	bool was = ffa_aborted;

	if (clear)
		ffa_aborted = false;
	return was;
}

/* 0 for FFA_SUCCESS (32 or 64), the FF-A error otherwise. */
static int32_t ffa_status(const uint64_t r[8])
{
	if (r[0] == FFA_SUCCESS_32 || r[0] == FFA_SUCCESS_64)
		return FFA_RET_OK;
	if (r[0] == FFA_ERROR && (int32_t)r[2] < 0)
		return (int32_t)r[2];
	return FFA_RET_NOT_SUPPORTED;
}

static int32_t simple(struct tg_optee *drv, uint64_t a0, uint64_t a1,
		      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t r[8];

	ffa_set_regs(r, a0, a1, a2, a3, a4, a5);
	ffa_call(drv, r);
	return ffa_status(r);
}

static int32_t features(struct tg_optee *drv, uint32_t id, uint64_t *w2)
{
	uint64_t r[8];
	int32_t rc;

	ffa_set_regs(r, FFA_FEATURES, id, 0, 0, 0, 0);
	ffa_call(drv, r);
	rc = ffa_status(r);
	if (!rc && w2)
		*w2 = r[2];
	return rc;
}

/* ---- Discovery --------------------------------------------------------- */

static int version_negotiate(struct tgg_ffa *f, struct tg_optee *drv)
{
	uint32_t mine = drv->cfg.ffa_version ? drv->cfg.ffa_version
					     : FFA_DRIVER_VERSION;
	uint64_t r[8];
	uint32_t v;

	if (FFA_VERSION_MAJOR(mine) != 1 || mine > FFA_DRIVER_VERSION)
		return TG_EINVAL;
	ffa_set_regs(r, FFA_VERSION, mine, 0, 0, 0, 0);
	ffa_call(drv, r);
	v = (uint32_t)r[0];
	if (v & FFA_VERSION_MBZ_BIT) /* NOT_SUPPORTED, or no FF-A at all */
		return TG_ENOTEE;
	if (FFA_VERSION_MAJOR(v) != 1)
		return TG_ENOTSUP;
	/* Theirs if not newer than ours, else ours (the spec's rule). */
	f->version = v < mine ? v : mine;
	return TG_OK;
}

static int id_get(struct tgg_ffa *f, struct tg_optee *drv)
{
	uint64_t r[8];

	ffa_set_regs(r, FFA_ID_GET, 0, 0, 0, 0, 0);
	ffa_call(drv, r);
	if (ffa_status(r))
		return TG_ENOTSUP;
	f->id = (uint16_t)r[2];
	return TG_OK;
}

/*
 * FFA_RXTX_UNMAP of our pair, asked again while the answer is lost
 * (ABORTED: the mediator died under it). True when the pair is not
 * mapped any more (SUCCESS, or INVALID_PARAMETERS: nothing was mapped).
 */
static bool rxtx_unmap(struct tgg_ffa *f, struct tg_optee *drv)
{
	int32_t rc = FFA_RET_ABORTED;

	for (int tries = 0; rc == FFA_RET_ABORTED && tries < 4; tries++)
		rc = simple(drv, FFA_RXTX_UNMAP, FFA_PACK_IDS(f->id, 0), 0, 0,
			    0, 0);
	return rc == FFA_RET_OK || rc == FFA_RET_INVALID_PARAMETERS;
}

/*
 * FFA_RXTX_MAP of our pair. A lost answer (ABORTED) is asked again;
 * DENIED then, or at once, means a pair is mapped already: ours by the
 * call whose answer was lost, or the pair of an earlier driver whose
 * UNMAP was lost. That one is unmapped and ours mapped again: a pair
 * left mapped would have the hypervisor write our next answers into
 * pages we no longer own, and refuse every later MAP.
 */
static int32_t rxtx_map_call(struct tgg_ffa *f, struct tg_optee *drv,
			     uint32_t pages, bool *lost)
{
	int32_t rc = FFA_RET_ABORTED;
	bool unmapped = false;

	*lost = false;
	for (int tries = 0; tries < 8; tries++) {
		rc = simple(drv, FFA_RXTX_MAP_64, f->tx_ipa, f->rx_ipa, pages,
			    0, 0);
		if (rc == FFA_RET_ABORTED) {
			*lost = true;
			continue;
		}
		if (rc != FFA_RET_DENIED || unmapped)
			break;
		unmapped = true;
		if (!rxtx_unmap(f, drv))
			break;
	}
	return rc;
}

static int rxtx_map(struct tgg_ffa *f, struct tg_optee *drv, uint32_t pages)
{
	bool lost;
	void *va;

	if (!pages || pages > FFA_RXTX_MAX_PAGES)
		return TG_EINVAL;
	if (tgg_guest_pages_alloc(drv, pages, &f->tx_ipa, &va))
		return TG_ENOMEM;
	f->tx = va;
	if (tgg_guest_pages_alloc(drv, pages, &f->rx_ipa, &va)) {
		tgg_guest_pages_free(drv, f->tx_ipa, pages);
		f->tx = NULL;
		return TG_ENOMEM;
	}
	f->rx = va;
	f->rxtx_pages = pages;
	if (rxtx_map_call(f, drv, pages, &lost)) {
		/* A lost MAP may have mapped them: never reused then. */
		if (lost && !rxtx_unmap(f, drv)) {
			f->tx = f->rx = NULL;
			f->rxtx_pages = 0;
			return TG_ENOTSUP;
		}
		tgg_guest_pages_free(drv, f->tx_ipa, pages);
		tgg_guest_pages_free(drv, f->rx_ipa, pages);
		f->tx = f->rx = NULL;
		f->rxtx_pages = 0;
		return TG_ENOTSUP;
	}
	return TG_OK;
}

/*
 * Find OP-TEE by its UUID. v1.1+: the count first (no RX needed), then
 * the list in RX (entry size in w3), then RX_RELEASE.
 */
static int find_optee(struct tgg_ffa *f, struct tg_optee *drv)
{
	struct ffa_partition_info pi;
	uint64_t r[8];
	uint32_t count, size;
	int rc = TG_ENOTEE;

	ffa_set_regs(r, FFA_PARTITION_INFO_GET, OPTEE_FFA_UUID_W0,
		     OPTEE_FFA_UUID_W1, OPTEE_FFA_UUID_W2, OPTEE_FFA_UUID_W3,
		     f->version > FFA_VERSION_1_0
			     ? FFA_PARTITION_INFO_GET_COUNT_ONLY
			     : 0);
	if (f->version > FFA_VERSION_1_0) {
		ffa_call(drv, r);
		if (ffa_status(r) || !r[2])
			return TG_ENOTEE;
		ffa_set_regs(r, FFA_PARTITION_INFO_GET, OPTEE_FFA_UUID_W0,
			     OPTEE_FFA_UUID_W1, OPTEE_FFA_UUID_W2,
			     OPTEE_FFA_UUID_W3, 0);
	}
	pthread_mutex_lock(&f->rxtx_lock);
	ffa_call(drv, r);
	if (ffa_status(r)) {
		pthread_mutex_unlock(&f->rxtx_lock);
		return TG_ENOTEE;
	}
	count = (uint32_t)r[2];
	size = f->version > FFA_VERSION_1_0 ? (uint32_t)r[3]
					    : FFA_PARTITION_INFO_SIZE_1_0;
	/* Sizes we cannot read are nonsense: give up, release RX. */
	if (count && size >= FFA_PARTITION_INFO_SIZE_1_0 &&
	    (uint64_t)count * size <= (uint64_t)f->rxtx_pages * PAGE_SIZE) {
		/* Several partitions may share a UUID: take the first. */
		memset(&pi, 0, sizeof(pi));
		memcpy(&pi, f->rx,
		       size < sizeof(pi) ? size : sizeof(pi));
		if (FFA_ID_IS_SECURE(pi.id) &&
		    (pi.properties & FFA_PART_PROP_DIRECT_REQ_RECV)) {
			f->optee_id = pi.id;
			rc = TG_OK;
		}
	}
	simple(drv, FFA_RX_RELEASE, 0, 0, 0, 0, 0);
	pthread_mutex_unlock(&f->rxtx_lock);
	return rc;
}

static void notif_setup(struct tgg_ffa *f, struct tg_optee *drv)
{
	if (features(drv, FFA_NOTIFICATION_BITMAP_CREATE, NULL))
		return;
	/* A hypervisor may create it itself and refuse: fine. */
	if (!simple(drv, FFA_NOTIFICATION_BITMAP_CREATE, f->id, 1, 0, 0, 0))
		f->bitmap_created = true;
}

/**
 * tgg_ffa_init() - set the FF-A layer up. Return TG_ENOTEE when nothing
 * answers FFA_VERSION or there is no OP-TEE partition.
 */
int tgg_ffa_init(struct tg_optee *drv)
{
	struct tgg_ffa *f = calloc(1, sizeof(*f));
	uint32_t pages = drv->cfg.ffa_rxtx_pages ? drv->cfg.ffa_rxtx_pages : 1;
	int rc;

	if (!f)
		return TG_ENOMEM;
	pthread_mutex_init(&f->rxtx_lock, NULL);
	drv->ffa = f;
	rc = version_negotiate(f, drv);
	if (!rc)
		rc = id_get(f, drv);
	if (!rc)
		rc = rxtx_map(f, drv, pages);
	if (!rc)
		rc = find_optee(f, drv);
	if (rc) {
		tgg_ffa_fini(drv);
		return rc;
	}
	f->mem_64 = !features(drv, FFA_MEM_SHARE_64, NULL);
	notif_setup(f, drv);
	drv->info.ffa = true;
	drv->info.ffa_version = f->version;
	drv->info.ffa_id = f->id;
	drv->info.ffa_optee_id = f->optee_id;
	drv->info.ffa_tx_ipa = f->tx_ipa;
	drv->info.ffa_rx_ipa = f->rx_ipa;
	drv->info.ffa_rxtx_pages = f->rxtx_pages;
	return TG_OK;
}

void tgg_ffa_fini(struct tg_optee *drv)
{
	struct tgg_ffa *f = drv->ffa;

	if (!f)
		return;
	if (f->bitmap_created)
		simple(drv, FFA_NOTIFICATION_BITMAP_DESTROY, f->id, 0, 0, 0, 0);
	/* Pages the hypervisor may still write are never reused. */
	if (f->rxtx_pages && rxtx_unmap(f, drv)) {
		tgg_guest_pages_free(drv, f->tx_ipa, f->rxtx_pages);
		tgg_guest_pages_free(drv, f->rx_ipa, f->rxtx_pages);
	}
	pthread_mutex_destroy(&f->rxtx_lock);
	free(f);
	drv->ffa = NULL;
}

/* ---- Direct messages --------------------------------------------------- */

/**
 * tgg_ffa_direct() - a 32-bit direct request to OP-TEE with @data in
 * w3..w7, its response's w3..w7 back in @data. FFA_INTERRUPT is resumed
 * with FFA_RUN, as Linux does.
 * Return: TG_OK, or TG_EPROTO with the FF-A error in *@ffa_err (or
 * FFA_RET_NOT_SUPPORTED for an answer that is no response at all).
 */
int tgg_ffa_direct(struct tg_optee *drv, uint64_t data[5], int32_t *ffa_err)
{
	struct tgg_ffa *f = drv->ffa;
	uint64_t r[8];
	uint32_t rounds = 0;

	r[0] = FFA_MSG_SEND_DIRECT_REQ_32;
	r[1] = FFA_PACK_IDS(f->id, f->optee_id);
	r[2] = 0;
	for (int i = 0; i < 5; i++)
		r[3 + i] = (uint32_t)data[i];
	ffa_call(drv, r);
	while (r[0] == FFA_INTERRUPT && rounds++ < 1000000u) {
		uint64_t t = r[1];

		ffa_set_regs(r, FFA_RUN, t, 0, 0, 0, 0);
		ffa_call(drv, r);
	}
	if (r[0] != FFA_MSG_SEND_DIRECT_RESP_32 ||
	    FFA_SENDER(r[1]) != f->optee_id || FFA_RECEIVER(r[1]) != f->id) {
		if (ffa_err)
			*ffa_err = r[0] == FFA_ERROR ? ffa_status(r)
						     : FFA_RET_NOT_SUPPORTED;
		return TG_EPROTO;
	}
	for (int i = 0; i < 5; i++)
		data[i] = (uint32_t)r[3 + i];
	return TG_OK;
}

/* ---- Memory ------------------------------------------------------------ */

/* Sizes of the descriptor's parts in the negotiated version. */
static uint32_t header_size(const struct tgg_ffa *f)
{
	return f->version >= FFA_VERSION_1_1 ? FFA_MEM_TRANS_SIZE
					     : FFA_MEM_TRANS_1_0_SIZE;
}

static uint32_t access_size(const struct tgg_ffa *f)
{
	return f->version >= FFA_VERSION_1_2 ? FFA_MEM_ACCESS_1_2_SIZE
					     : FFA_MEM_ACCESS_1_1_SIZE;
}

/* Header, one receiver (OP-TEE, read-write) and the composite. */
static uint32_t write_head(const struct tgg_ffa *f, uint8_t *buf,
			   uint32_t total_pages, uint32_t nconst)
{
	uint32_t hs = header_size(f), as = access_size(f);
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_access_1_2 a;

	memset(buf, 0, hs + as);
	if (f->version >= FFA_VERSION_1_1) {
		struct ffa_mem_trans t = { 0 };

		t.sender_id = f->id;
		t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
		t.access_size = as;
		t.access_count = 1;
		t.access_offset = hs;
		memcpy(buf, &t, sizeof(t));
	} else {
		struct ffa_mem_trans_1_0 t = { 0 };

		t.sender_id = f->id;
		t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
		t.access_count = 1;
		memcpy(buf, &t, sizeof(t));
	}
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = f->optee_id;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = hs + as;
	memcpy(buf + hs, &a, as);
	c.total_page_count = total_pages;
	c.constituent_count = nconst;
	memcpy(buf + hs + as, &c, sizeof(c));
	return hs + as + (uint32_t)sizeof(c);
}

/* Send what is in TX: the first fragment, or a next one. */
static int32_t send_frag(struct tg_optee *drv, bool first, uint32_t total,
			 uint32_t frag, uint64_t *handle, uint32_t *received)
{
	struct tgg_ffa *f = drv->ffa;
	uint64_t r[8];

	if (first)
		ffa_set_regs(r, f->mem_64 ? FFA_MEM_SHARE_64 : FFA_MEM_SHARE_32,
			     total, frag, 0, 0, 0);
	else
		ffa_set_regs(r, FFA_MEM_FRAG_TX, FFA_HANDLE_LO(*handle),
			     FFA_HANDLE_HI(*handle), frag, 0, 0);
	ffa_call(drv, r);
	if (r[0] == FFA_MEM_FRAG_RX) {
		uint64_t h = FFA_HANDLE_PACK(r[1], r[2]);

		if (!first && h != *handle)
			return FFA_RET_INVALID_PARAMETERS;
		*handle = h;
		*received = (uint32_t)r[3];
		return 1;
	}
	if (r[0] == FFA_SUCCESS_32 || r[0] == FFA_SUCCESS_64) {
		*handle = FFA_HANDLE_PACK(r[2], r[3]);
		return FFA_RET_OK;
	}
	return r[0] == FFA_ERROR ? ffa_status(r) : FFA_RET_NOT_SUPPORTED;
}

/**
 * tgg_ffa_share() - FFA_MEM_SHARE the pages covering [@ipa, @ipa + @size)
 * with OP-TEE. Runs of contiguous pages become one constituent each, cut
 * at cfg.ffa_max_run_pages. When the constituents overflow TX they go in
 * fragments: each FRAG_RX must acknowledge exactly what was sent.
 * Return: TG_OK and the handle, TG_ENOMEM, TG_EPROTO (refused).
 */
int tgg_ffa_share(struct tg_optee *drv, uint64_t ipa, uint64_t size,
		  uint64_t *handle)
{
	struct tgg_ffa *f = drv->ffa;
	uint64_t first_page = ipa & ~(uint64_t)PAGE_MASK_LOW;
	uint64_t npages = ((ipa & PAGE_MASK_LOW) + size + PAGE_SIZE - 1) /
			  PAGE_SIZE;
	uint32_t run = drv->cfg.ffa_max_run_pages;
	uint64_t nconst, total, done = 0, sent = 0;
	uint32_t cap = f->rxtx_pages * PAGE_SIZE, len, head, received = 0;
	bool first = true, have_handle = false;
	int32_t rc;

	if (!size || npages > UINT32_MAX)
		return TG_EINVAL;
	if (!run || run > npages)
		run = (uint32_t)npages;
	nconst = (npages + run - 1) / run;
	if (nconst > UINT32_MAX / FFA_MEM_CONSTITUENT_SIZE)
		return TG_EINVAL;
	pthread_mutex_lock(&f->rxtx_lock);
	head = write_head(f, f->tx, (uint32_t)npages, (uint32_t)nconst);
	total = head + nconst * FFA_MEM_CONSTITUENT_SIZE;
	if (total > UINT32_MAX) {
		pthread_mutex_unlock(&f->rxtx_lock);
		return TG_EINVAL;
	}
	len = head;
	for (;;) {
		while (done < npages && len + FFA_MEM_CONSTITUENT_SIZE <= cap) {
			struct ffa_mem_constituent c = { 0 };
			uint64_t n = npages - done < run ? npages - done : run;

			c.address = first_page + done * PAGE_SIZE;
			c.page_count = (uint32_t)n;
			memcpy(f->tx + len, &c, sizeof(c));
			len += sizeof(c);
			done += n;
		}
		rc = send_frag(drv, first, (uint32_t)total, len, handle,
			       &received);
		if (!first)
			STAT_INC(drv, ffa_fragments);
		have_handle |= rc == 1;
		sent += len;
		if (rc <= 0 || done == npages)
			break;
		/* The relayer must have taken every byte so far. */
		if (received != sent) {
			rc = FFA_RET_INVALID_PARAMETERS;
			break;
		}
		first = false;
		len = 0;
	}
	pthread_mutex_unlock(&f->rxtx_lock);
	if (rc == 1) /* more wanted than we had: nonsense */
		rc = FFA_RET_INVALID_PARAMETERS;
	if (rc) {
		/* A transaction left half-sent is reclaimed, if it can be. */
		if (have_handle)
			tgg_ffa_reclaim(drv, *handle);
		return rc == FFA_RET_NO_MEMORY ? TG_ENOMEM : TG_EPROTO;
	}
	STAT_INC(drv, ffa_shares);
	return TG_OK;
}

int tgg_ffa_reclaim(struct tg_optee *drv, uint64_t handle)
{
	struct tgg_ffa *f = drv->ffa;
	int32_t rc;

	/*
	 * Under the lock our shares take (tgg_ffa_share()): while a reclaim
	 * is asked, and asked again, no share of ours can get a handle. The
	 * SPMC hands a handle it got back out again (OP-TEE: the lowest free
	 * index of the guest), so a lost reclaim asked again after a share
	 * of another vCPU got the same handle would take that share away
	 * from under its buffer: its calls then fail, or reach whatever
	 * buffer is shared next under that handle.
	 */
	pthread_mutex_lock(&f->rxtx_lock);
	rc = simple(drv, FFA_MEM_RECLAIM, FFA_HANDLE_LO(handle),
		    FFA_HANDLE_HI(handle), 0, 0, 0);
	/*
	 * ABORTED: the answer was lost on the way (the mediator died under
	 * it, the hypervisor said so): ask again, which waits for the
	 * mediator to serve; a handle the SPMC no longer knows was given
	 * back by the lost call.
	 */
	for (int tries = 0; rc == FFA_RET_ABORTED && tries < 3; tries++) {
		rc = simple(drv, FFA_MEM_RECLAIM, FFA_HANDLE_LO(handle),
			    FFA_HANDLE_HI(handle), 0, 0, 0);
		if (rc == FFA_RET_INVALID_PARAMETERS)
			rc = FFA_RET_OK;
	}
	pthread_mutex_unlock(&f->rxtx_lock);

	if (rc) {
		STAT_INC(drv, ffa_reclaim_failed);
		return rc == FFA_RET_DENIED ? TG_EBUSY : TG_EPROTO;
	}
	STAT_INC(drv, ffa_reclaims);
	return TG_OK;
}

/* ---- Notifications ----------------------------------------------------- */

/* BIND / UNBIND notification @id from OP-TEE to us (global). */
int tgg_ffa_notif_bind(struct tg_optee *drv, uint32_t id, bool bind)
{
	struct tgg_ffa *f = drv->ffa;
	uint64_t bitmap = 1ull << id;
	int32_t rc;

	if (id >= 64)
		return TG_EINVAL;
	rc = simple(drv, bind ? FFA_NOTIFICATION_BIND : FFA_NOTIFICATION_UNBIND,
		    FFA_PACK_IDS(f->optee_id, f->id), 0, FFA_HANDLE_LO(bitmap),
		    FFA_HANDLE_HI(bitmap), 0);
	if (rc == FFA_RET_DENIED)
		return TG_EBUSY;
	return rc ? TG_EPROTO : TG_OK;
}

/* NOTIFICATION_GET of the partitions' bitmap for this VM. */
int tgg_ffa_notif_get(struct tg_optee *drv, uint64_t *bitmap)
{
	struct tgg_ffa *f = drv->ffa;
	uint64_t r[8];

	ffa_set_regs(r, FFA_NOTIFICATION_GET, FFA_PACK_IDS(0, f->id),
		     FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
	ffa_call(drv, r);
	if (ffa_status(r))
		return TG_EPROTO;
	*bitmap = FFA_HANDLE_PACK(r[2], r[3]);
	return TG_OK;
}
