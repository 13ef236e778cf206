// SPDX-License-Identifier: BSD-2-Clause
/*
 * The FF-A mediator: probe, the call whitelist and dispatch, the calls
 * answered without memory (version, ids, features), RX/TX buffers,
 * partition discovery, direct requests and FFA_RUN, indirect messages,
 * notifications, and domain creation. Memory sharing is ffa_mem.c,
 * OP-TEE's threads ffa_optee.c, destruction ffa_teardown.c.
 *
 * A guest's id is its client id (1..0x7FFF: FF-A gives the normal world
 * 15 bits). Every answer is FF-A's: FFA_ERROR with a status in w2.
 */
#include "ffa_med.h"

/* ---- helpers ------------------------------------------------------------ */

void tgf_error(uint64_t regs[8], int32_t err)
{
	ffa_set_regs(regs, FFA_ERROR, 0, (uint32_t)err, 0, 0, 0);
}

void tgf_success(uint64_t regs[8], uint64_t w2, uint64_t w3)
{
	ffa_set_regs(regs, FFA_SUCCESS_32, 0, w2, w3, 0, 0);
}

int32_t tgf_status(const uint64_t regs[8])
{
	if (regs[0] == FFA_SUCCESS_32 || regs[0] == FFA_SUCCESS_64)
		return FFA_RET_OK;
	if (regs[0] == FFA_ERROR && (int32_t)regs[2] < 0)
		return (int32_t)regs[2];
	return FFA_RET_NOT_SUPPORTED;
}

void *tgf_zalloc(struct tgf_med *fm, size_t size)
{
	void *p = fm->port.alloc(fm->port.ctx, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void tgf_free(struct tgf_med *fm, void *p, size_t size)
{
	if (p)
		fm->port.free(fm->port.ctx, p, size);
}



void tgf_log(struct tgf_dom *d, const char *msg, uint64_t v)
{
	if (d->fm->port.log)
		d->fm->port.log(d->fm->port.ctx, TG_LOG_WARN, d->id, msg, v);
}

void tgf_refuse(struct tgf_dom *d, enum tg_refusal r)
{
	atomic_fetch_add_explicit(&d->refused[r], 1, memory_order_relaxed);
	tgf_count(d, TG_KIND_REFUSED);
}

void tgf_lock(struct tgf_dom *d)
{
	d->fm->port.lock(d->fm->port.ctx, d->lock);
}

void tgf_unlock(struct tgf_dom *d)
{
	d->fm->port.unlock(d->fm->port.ctx, d->lock);
}

void tgf_unpin(struct tgf_dom *d, const uint64_t *pa, uint32_t n)
{
	if (!n)
		return;
	d->fm->port.unpin_pages(d->fm->port.ctx, d->id, pa, n);
	atomic_fetch_sub_explicit(&d->pinned_pages, n, memory_order_relaxed);
}

const struct tgf_sp *tgf_sp_find(const struct tgf_med *fm, uint16_t id)
{
	if (id == fm->optee_id && fm->optee_sp)
		return fm->optee_sp; /* the common case first */
	for (uint32_t i = 0; i < fm->nsps; i++)
		if (fm->sps[i].id == id)
			return &fm->sps[i];
	return NULL;
}

static int32_t simple(struct tgf_med *fm, uint64_t a0, uint64_t a1,
		      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t r[8];

	ffa_set_regs(r, a0, a1, a2, a3, a4, a5);
	tgf_smc(fm, r);
	return tgf_status(r);
}

/* ---- probe -------------------------------------------------------------- */

static const uint32_t optee_uuid[4] = { OPTEE_FFA_UUID_W0, OPTEE_FFA_UUID_W1,
					OPTEE_FFA_UUID_W2, OPTEE_FFA_UUID_W3 };

static bool port_complete(const struct tg_port *p)
{
	return p->pin_pages && p->unpin_pages && p->copy_from_guest &&
	       p->copy_to_guest && p->alloc && p->free && p->shm_alloc &&
	       p->shm_free && p->smc && p->lock_create && p->lock_destroy &&
	       p->lock && p->unlock;
}

/* Read the secure partitions the SPMC lists (all, nil UUID). */
static int read_partitions(struct tgf_med *fm)
{
	uint64_t r[8];
	uint32_t count, size;

	ffa_set_regs(r, FFA_PARTITION_INFO_GET, 0, 0, 0, 0, 0);
	tgf_smc(fm, r);
	if (tgf_status(r))
		return TG_ENOTEE;
	count = (uint32_t)r[2];
	size = (uint32_t)r[3];
	if (size < FFA_PARTITION_INFO_SIZE ||
	    (uint64_t)count * size > (uint64_t)fm->rxtx_pages * TG_PAGE_SIZE) {
		simple(fm, FFA_RX_RELEASE, 0, 0, 0, 0, 0);
		return TG_EPROTO;
	}
	for (uint32_t i = 0; i < count && fm->nsps < TGF_MAX_SPS; i++) {
		struct ffa_partition_info pi;
		struct tgf_sp *sp = &fm->sps[fm->nsps];

		memcpy(&pi, fm->rx + (size_t)i * size, sizeof(pi));
		/* Guests see secure partitions only. */
		if (!FFA_ID_IS_SECURE(pi.id) || tgf_sp_find(fm, pi.id))
			continue;
		sp->id = pi.id;
		sp->exec_ctx = pi.exec_ctx_count;
		sp->props = pi.properties;
		memcpy(sp->uuid, pi.uuid, sizeof(sp->uuid));
		if (!memcmp(sp->uuid, optee_uuid, sizeof(optee_uuid))) {
			fm->optee_id = sp->id;
			fm->optee_sp = sp;
		}
		fm->nsps++;
	}
	simple(fm, FFA_RX_RELEASE, 0, 0, 0, 0, 0);
	return fm->nsps ? TG_OK : TG_ENOTEE;
}

static void read_features(struct tgf_med *fm)
{
	static const struct {
		enum tgf_feature f;
		uint32_t fid;
	} probe[] = {
		{ TGF_FEAT_MEM_SHARE_64, FFA_MEM_SHARE_64 },
		{ TGF_FEAT_MEM_LEND, FFA_MEM_LEND_32 },
		{ TGF_FEAT_DIRECT_REQ_64, FFA_MSG_SEND_DIRECT_REQ_64 },
		{ TGF_FEAT_DIRECT_REQ2, FFA_MSG_SEND_DIRECT_REQ2 },
		{ TGF_FEAT_MSG_SEND2, FFA_MSG_SEND2 },
		{ TGF_FEAT_NOTIF, FFA_NOTIFICATION_BIND },
		{ TGF_FEAT_RUN, FFA_RUN },
	};

	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		fm->feat[probe[i].f] =
			!simple(fm, FFA_FEATURES, probe[i].fid, 0, 0, 0, 0);
	/* OP-TEE answers FEATURES(LEND) NOT_SUPPORTED but takes lends. */
	fm->feat[TGF_FEAT_MEM_LEND] = true;
}

/*
 * Does the SPMC take a share in fragments? Ask with a descriptor of one
 * page (the dummy) in two fragments, sent for a VM no SPMC knows
 * (TGF_MAX_VM_ID): OP-TEE 4.10 refuses every fragmented share with
 * INVALID_PARAMETERS before it looks at the VM (frag_len and tot_len
 * swapped in its check); an SPMC without that bug turns the unknown VM
 * away (DENIED) or, should it take it, is given the rest and the share
 * reclaimed. Nothing stays in the SPMC either way.
 */
static bool probe_fragments(struct tgf_med *fm)
{
	uint32_t as = fm->spmc_version >= FFA_VERSION_1_2
			      ? FFA_MEM_ACCESS_1_2_SIZE
			      : FFA_MEM_ACCESS_1_1_SIZE;
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_constituent k = { fm->dummy_pa, 1, 0 };
	uint32_t head = FFA_MEM_TRANS_SIZE + as + FFA_MEM_COMPOSITE_SIZE;
	uint64_t r[8];
	bool ok;

	t.sender_id = TGF_MAX_VM_ID;
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = as;
	t.access_count = 1;
	t.access_offset = FFA_MEM_TRANS_SIZE;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = fm->optee_id ? fm->optee_id : fm->sps[0].id;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = FFA_MEM_TRANS_SIZE + as;
	c.total_page_count = 1;
	c.constituent_count = 1;
	fm->port.lock(fm->port.ctx, fm->txrx_lock);
	memcpy(fm->tx, &t, sizeof(t));
	memcpy(fm->tx + FFA_MEM_TRANS_SIZE, &a, as);
	memcpy(fm->tx + a.composite_offset, &c, sizeof(c));
	ffa_set_regs(r, FFA_MEM_SHARE_32, head + FFA_MEM_CONSTITUENT_SIZE, head,
		     0, 0, 0);
	tgf_smc(fm, r);
	ok = !(r[0] == FFA_ERROR &&
	       (int32_t)r[2] == FFA_RET_INVALID_PARAMETERS);
	if (r[0] == FFA_MEM_FRAG_RX) {
		uint64_t h = FFA_HANDLE_PACK(r[1], r[2]);

		memcpy(fm->tx, &k, sizeof(k));
		ffa_set_regs(r, FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h),
			     FFA_HANDLE_HI(h), sizeof(k),
			     FFA_PACK_IDS(TGF_MAX_VM_ID, 0), 0);
		tgf_smc(fm, r);
		if (!tgf_status(r))
			simple(fm, FFA_MEM_RECLAIM, r[2], r[3], 0, 0, 0);
	}
	fm->port.unlock(fm->port.ctx, fm->txrx_lock);
	return ok;
}

/**
 * tgf_probe() - find an FF-A SPMC (version 1.1 or later) and set the
 * mediator up: its own RX/TX pair, the secure partitions, the features.
 * Return: TG_OK, TG_ENOTEE (no FF-A, no partition), TG_ENOTSUP (an FF-A
 * too old), TG_EINVAL, TG_ENOMEM.
 */
int tgf_probe(const struct tg_port *port, const struct tg_limits *defaults,
	      struct tgf_med **out, struct tg_tee_info *info)
{
	struct tgf_med *fm;
	uint64_t r[8];
	uint32_t v;
	int rc;

	if (!port || !out || !port_complete(port))
		return TG_EINVAL;
	ffa_set_regs(r, FFA_VERSION, TGF_VERSION, 0, 0, 0, 0);
	port->smc(port->ctx, r);
	v = (uint32_t)r[0];
	if (v & FFA_VERSION_MBZ_BIT)
		return TG_ENOTEE;
	if (FFA_VERSION_MAJOR(v) != 1 || v < FFA_VERSION_1_1)
		return TG_ENOTSUP;
	fm = port->alloc(port->ctx, sizeof(*fm));
	if (!fm)
		return TG_ENOMEM;
	memset(fm, 0, sizeof(*fm));
	fm->port = *port;
	fm->spmc_version = v < TGF_VERSION ? v : TGF_VERSION;
	if (defaults)
		fm->defaults = *defaults;
	rc = TG_ENOTEE;
	ffa_set_regs(r, FFA_ID_GET, 0, 0, 0, 0, 0);
	tgf_smc(fm, r);
	if (tgf_status(r))
		goto fail;
	fm->own_id = (uint16_t)r[2];
	ffa_set_regs(r, FFA_SPM_ID_GET, 0, 0, 0, 0, 0);
	tgf_smc(fm, r);
	fm->spmc_id = tgf_status(r) ? 0 : (uint16_t)r[2];

	rc = TG_ENOMEM;
	fm->txrx_lock = port->lock_create(port->ctx);
	fm->rxtx_pages = TGF_RXTX_PAGES;
	fm->tx = port->shm_alloc(port->ctx, fm->rxtx_pages, &fm->tx_pa);
	fm->rx = port->shm_alloc(port->ctx, fm->rxtx_pages, &fm->rx_pa);
	fm->dummy = port->shm_alloc(port->ctx, 1, &fm->dummy_pa);
	if (!fm->txrx_lock || !fm->tx || !fm->rx || !fm->dummy)
		goto fail;
	rc = simple(fm, FFA_RXTX_MAP_64, fm->tx_pa, fm->rx_pa, fm->rxtx_pages,
		    0, 0);
	if (rc) {
		/*
		 * Not mapped: nothing to unmap at fini. DENIED: the SPMC has
		 * a pair for the hypervisor already (another mediator holds
		 * it): TG_EBUSY.
		 */
		rc = rc == FFA_RET_DENIED || rc == FFA_RET_BUSY ? TG_EBUSY
								: TG_ENOTEE;
		fm->rxtx_pages = TGF_RXTX_PAGES;
		goto fail_unmapped;
	}
	rc = TG_ENOTEE;
	rc = read_partitions(fm);
	if (rc)
		goto fail;
	read_features(fm);
	fm->spmc_frags_ok = probe_fragments(fm);
	fm->next_hyp_handle = 1;
	if (info) {
		uint32_t n = 0;

		memset(info, 0, sizeof(*info));
		info->api_rev_major = FFA_VERSION_MAJOR(v);
		info->api_rev_minor = FFA_VERSION_MINOR(v);
		info->virtualization = true;
		info->protocol = TG_PROTOCOL_FFA;
		info->ffa_hyp_id = fm->own_id;
		info->ffa_optee_id = fm->optee_id;
		for (uint32_t i = 0; i < fm->nsps; i++)
			if ((fm->sps[i].props & FFA_PART_PROP_NOTIF_VM_DESTROYED) &&
			    n + 1 < sizeof(info->ffa_vm_subscribers) /
						sizeof(info->ffa_vm_subscribers[0]))
				info->ffa_vm_subscribers[n++] = fm->sps[i].id;
	}
	*out = fm;
	return TG_OK;
fail:
	if (fm->tx && fm->rx)
		simple(fm, FFA_RXTX_UNMAP, FFA_PACK_IDS(fm->own_id, 0), 0, 0, 0,
		       0);
fail_unmapped:
	tgf_fini(fm);
	return rc;
}

void tgf_fini(struct tgf_med *fm)
{
	struct tg_port p;

	if (!fm)
		return;
	p = fm->port;
	if (fm->tx)
		p.shm_free(p.ctx, fm->tx, fm->rxtx_pages);
	if (fm->rx)
		p.shm_free(p.ctx, fm->rx, fm->rxtx_pages);
	if (fm->dummy)
		p.shm_free(p.ctx, fm->dummy, 1);
	if (fm->txrx_lock)
		p.lock_destroy(p.ctx, fm->txrx_lock);
	p.free(p.ctx, fm, sizeof(*fm));
}

/* ---- domains ------------------------------------------------------------ */

static uint32_t limit_or(uint32_t v, uint32_t d1, uint32_t d2)
{
	return v ? v : d1 ? d1 : d2;
}

/* Framework message from the hypervisor to @sp about VM @vm. */
static int32_t vm_message(struct tgf_med *fm, uint16_t sp, uint16_t vm,
			  uint32_t msg)
{
	uint64_t r[8];

	ffa_set_regs(r, FFA_MSG_SEND_DIRECT_REQ_32,
		     FFA_PACK_IDS(fm->own_id, sp), FFA_MSG_FLAG_FRAMEWORK | msg,
		     0, 0, vm);
	tgf_smc(fm, r);
	if (r[0] != FFA_MSG_SEND_DIRECT_RESP_32 ||
	    (uint32_t)r[2] != (FFA_MSG_FLAG_FRAMEWORK | (msg + 1)))
		return r[0] == FFA_ERROR ? tgf_status(r) : FFA_RET_ABORTED;
	return (int32_t)r[3];
}

/* VM_CREATED / VM_DESTROYED to every partition that subscribes. */
int32_t tgf_vm_announce(struct tgf_med *fm, uint16_t vm, bool created,
			uint32_t upto)
{
	uint32_t bit = created ? FFA_PART_PROP_NOTIF_VM_CREATED
			       : FFA_PART_PROP_NOTIF_VM_DESTROYED;
	int32_t rc, first_err = 0;

	for (uint32_t i = 0; i < fm->nsps && i < upto; i++) {
		if (!(fm->sps[i].props & bit))
			continue;
		rc = vm_message(fm, fm->sps[i].id, vm,
				created ? FFA_MSG_SEND_VM_CREATED
					: FFA_MSG_SEND_VM_DESTROYED);
		if (rc && created)
			return rc;
		if (rc && !first_err)
			first_err = rc;
	}
	return first_err;
}

/**
 * tgf_domain_init() - a guest is created: its notification bitmap, then
 * VM_CREATED to every partition that asked for it (undone if one refuses).
 * Return: TG_OK, TG_EINVAL (id 0 or not a normal-world id), TG_ENOMEM,
 * TG_EPROTO (the SPMC refused).
 */
int tgf_domain_init(struct tgf_med *fm, uint32_t client_id,
		    const struct tg_limits *limits, struct tgf_dom **out)
{
	struct tgf_dom *d;
	struct tg_limits l = { 0 };
	int32_t rc;

	if (!client_id || client_id > TGF_MAX_VM_ID ||
	    client_id == fm->own_id)
		return TG_EINVAL;
	d = tgf_zalloc(fm, sizeof(*d));
	if (!d)
		return TG_ENOMEM;
	d->fm = fm;
	d->id = (uint16_t)client_id;
	d->ref = &d->own_ref;
	if (limits)
		l = *limits;
	d->limits.max_shm_bufs = limit_or(l.max_shm_bufs,
					  fm->defaults.max_shm_bufs,
					  TGF_DEFAULT_MAX_SHARES);
	d->limits.max_pages_per_buf = limit_or(l.max_pages_per_buf,
					       fm->defaults.max_pages_per_buf,
					       TGF_DEFAULT_MAX_SHARE_PAGES);
	d->limits.max_pinned_pages = limit_or(l.max_pinned_pages,
					      fm->defaults.max_pinned_pages,
					      TGF_DEFAULT_MAX_PINNED);
	d->limits.max_calls = limit_or(l.max_calls, fm->defaults.max_calls,
				       TGF_MAX_THREADS);
	if (d->limits.max_calls > TGF_MAX_THREADS)
		d->limits.max_calls = TGF_MAX_THREADS;
	d->lock = fm->port.lock_create(fm->port.ctx);
	if (!d->lock) {
		tgf_domain_free(fm, d);
		return TG_ENOMEM;
	}
	if (fm->feat[TGF_FEAT_NOTIF])
		d->bitmap_created =
			!simple(fm, FFA_NOTIFICATION_BITMAP_CREATE, d->id, 1,
				0, 0, 0);
	rc = tgf_vm_announce(fm, d->id, true, TGF_MAX_SPS);
	if (rc) {
		/* Those told already are told it is gone. */
		tgf_vm_announce(fm, d->id, false, TGF_MAX_SPS);
		if (d->bitmap_created)
			simple(fm, FFA_NOTIFICATION_BITMAP_DESTROY, d->id, 0, 0,
			       0, 0);
		tgf_domain_free(fm, d);
		return TG_EPROTO;
	}
	*out = d;
	return TG_OK;
}

void tgf_domain_stats(struct tgf_dom *d, struct tg_domain_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < TG_KIND_COUNT; k++)
		out->calls[k] = atomic_load_explicit(&d->calls[k],
						     memory_order_relaxed);
	for (int r = 0; r < TG_REFUSE_COUNT; r++)
		out->refused[r] = atomic_load_explicit(&d->refused[r],
						       memory_order_relaxed);
	out->pinned_pages =
		atomic_load_explicit(&d->pinned_pages, memory_order_relaxed);
	tgf_lock(d);
	out->shm_bufs = d->nshares;
	out->calls_suspended = d->nsuspended;
	out->calls_in_flight = d->nsuspended;
	tgf_unlock(d);
}

/* ---- version, features, ids --------------------------------------------- */

/*
 * FFA_VERSION: the guest may ask several times; negotiation ends at its
 * first other call (the FF-A rule). The answer is always our version.
 */
static void guest_version(struct tgf_dom *d, uint64_t regs[8])
{
	uint32_t v = (uint32_t)regs[1];

	if (v & FFA_VERSION_MBZ_BIT) {
		ffa_set_regs(regs, (uint32_t)FFA_RET_NOT_SUPPORTED, 0, 0, 0, 0,
			     0);
		return;
	}
	tgf_lock(d);
	if (!atomic_load(&d->version)) {
		if (FFA_VERSION_MAJOR(v) != 1 || v > TGF_VERSION)
			d->version_asked = TGF_VERSION;
		else
			d->version_asked = v;
	}
	tgf_unlock(d);
	ffa_set_regs(regs, TGF_VERSION, 0, 0, 0, 0, 0);
}

/* Before anything else, a version must have been asked. */
static bool version_fixed(struct tgf_dom *d)
{
	bool ok = true;

	if (atomic_load_explicit(&d->version, memory_order_acquire))
		return true;
	tgf_lock(d);
	if (!atomic_load(&d->version)) {
		if (d->version_asked)
			atomic_store(&d->version, d->version_asked);
		else
			ok = false;
	}
	tgf_unlock(d);
	return ok;
}

static void guest_features(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint32_t id = (uint32_t)regs[1];
	uint32_t v = atomic_load(&d->version);
	uint64_t w2 = 0;
	bool ok;

	switch (id) {
	case FFA_ERROR:
	case FFA_SUCCESS_32:
	case FFA_SUCCESS_64:
	case FFA_INTERRUPT:
	case FFA_VERSION:
	case FFA_FEATURES:
	case FFA_ID_GET:
	case FFA_SPM_ID_GET:
	case FFA_RX_RELEASE:
	case FFA_RXTX_UNMAP:
	case FFA_PARTITION_INFO_GET:
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MEM_SHARE_32:
	case FFA_MEM_FRAG_TX:
	case FFA_MEM_RECLAIM:
		ok = true;
		break;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		ok = true;
		/* v1.2: the largest buffer we take, in pages, in 31:16. */
		if (v >= FFA_VERSION_1_2)
			w2 = (uint64_t)TGF_MAX_GUEST_RXTX_PAGES << 16;
		break;
	case FFA_MEM_SHARE_64:
		ok = fm->feat[TGF_FEAT_MEM_SHARE_64];
		break;
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
		ok = fm->feat[TGF_FEAT_MEM_LEND];
		break;
	case FFA_MSG_SEND_DIRECT_REQ_64:
		ok = fm->feat[TGF_FEAT_DIRECT_REQ_64];
		break;
	case FFA_MSG_SEND_DIRECT_REQ2:
		ok = v >= FFA_VERSION_1_2 && fm->feat[TGF_FEAT_DIRECT_REQ2];
		break;
	case FFA_PARTITION_INFO_GET_REGS:
		ok = v >= FFA_VERSION_1_2;
		break;
	case FFA_MSG_SEND2:
		ok = fm->feat[TGF_FEAT_MSG_SEND2];
		break;
	case FFA_RUN:
		ok = fm->feat[TGF_FEAT_RUN];
		break;
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
	case FFA_NOTIFICATION_GET:
	case FFA_NOTIFICATION_SET:
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		ok = fm->feat[TGF_FEAT_NOTIF];
		break;
	case FFA_FEATURE_SCHEDULE_RECV_INTR:
		ok = fm->feat[TGF_FEAT_NOTIF] && fm->port.raise_notif_irq;
		w2 = TGF_GUEST_SRI_INTID;
		break;
	default:
		/* DONATE, RETRIEVE, bitmaps, RX_ACQUIRE, anything newer:
		 * not for a guest. */
		ok = false;
		break;
	}
	if (ok)
		tgf_success(regs, w2, 0);
	else
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
}

/* ---- RX/TX ------------------------------------------------------------- */

/*
 * FFA_RXTX_MAP: w1 = the guest's TX, w2 its RX, w3 pages. Both pinned
 * (all or nothing) for as long as they are mapped; the mediator reads and
 * writes them by IPA.
 */
static void rxtx_map(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint64_t tx = regs[1], rx = regs[2], pages = regs[3];
	uint64_t ipa[2 * TGF_MAX_GUEST_RXTX_PAGES];
	int32_t err = FFA_RET_OK;

	if (!FFA_FN_IS_64((uint32_t)regs[0])) {
		tx &= 0xFFFFFFFFu;
		rx &= 0xFFFFFFFFu;
	}
	if (!pages || (pages & ~(uint64_t)FFA_RXTX_PAGE_COUNT_MASK) ||
	    regs[4] || regs[5] || regs[6] || regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (pages > TGF_MAX_GUEST_RXTX_PAGES) {
		tgf_refuse(d, TG_REFUSE_LIMIT_PAGES);
		tgf_error(regs, FFA_RET_NO_MEMORY);
		return;
	}
	if ((tx | rx) & TG_PAGE_MASK ||
	    (tx < rx + pages * TG_PAGE_SIZE && rx < tx + pages * TG_PAGE_SIZE)) {
		tgf_refuse(d, TG_REFUSE_BAD_ADDR);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	tgf_lock(d);
	if (d->rxtx_pages || d->busy) {
		err = FFA_RET_DENIED;
		goto out;
	}
	for (uint32_t i = 0; i < pages; i++) {
		ipa[i] = tx + (uint64_t)i * TG_PAGE_SIZE;
		ipa[pages + i] = rx + (uint64_t)i * TG_PAGE_SIZE;
	}
	/* The private copy of its TX, as big as its TX (kept for reuse). */
	if (d->txcopy_pages != pages) {
		tgf_free(fm, d->txcopy, (size_t)d->txcopy_pages * TG_PAGE_SIZE);
		d->txcopy_pages = 0;
		d->txcopy = tgf_zalloc(fm, (size_t)pages * TG_PAGE_SIZE);
		if (!d->txcopy) {
			tgf_refuse(d, TG_REFUSE_NO_MEMORY);
			err = FFA_RET_NO_MEMORY;
			goto out;
		}
		d->txcopy_pages = (uint32_t)pages;
	}
	if (fm->port.pin_pages(fm->port.ctx, d->id, ipa, d->rxtx_pa,
			       (uint32_t)(2 * pages))) {
		tgf_refuse(d, TG_REFUSE_BAD_ADDR);
		err = FFA_RET_INVALID_PARAMETERS;
		goto out;
	}
	atomic_fetch_add(&d->pinned_pages, 2 * pages);
	d->tx_ipa = tx;
	d->rx_ipa = rx;
	d->rxtx_pages = (uint32_t)pages;
	d->rx_full = false;
out:
	tgf_unlock(d);
	if (err)
		tgf_error(regs, err);
	else
		tgf_success(regs, 0, 0);
}

static void rxtx_unmap(struct tgf_dom *d, uint64_t regs[8])
{
	int32_t err = FFA_RET_OK;

	/* w1: the id in 31:16, which for a VM is its own (or 0). */
	if (FFA_SENDER(regs[1]) && FFA_SENDER(regs[1]) != d->id) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	tgf_lock(d);
	if (!d->rxtx_pages) {
		err = FFA_RET_INVALID_PARAMETERS;
	} else if (d->busy || d->xact.active) {
		err = FFA_RET_BUSY;
	} else {
		uint32_t n = d->rxtx_pages;

		d->rxtx_pages = 0;
		d->rx_full = false;
		tgf_unpin(d, d->rxtx_pa, 2 * n);
	}
	tgf_unlock(d);
	if (err)
		tgf_error(regs, err);
	else
		tgf_success(regs, 0, 0);
}

static void rx_release(struct tgf_dom *d, uint64_t regs[8])
{
	int32_t err = FFA_RET_OK;

	tgf_lock(d);
	if (!d->rxtx_pages || !d->rx_full)
		err = FFA_RET_DENIED;
	else
		d->rx_full = false;
	tgf_unlock(d);
	if (err)
		tgf_error(regs, err);
	else
		tgf_success(regs, 0, 0);
}

/* ---- partition discovery ------------------------------------------------ */

static bool uuid_match(const struct tgf_sp *sp, const uint32_t uuid[4])
{
	return (!uuid[0] && !uuid[1] && !uuid[2] && !uuid[3]) ||
	       !memcmp(sp->uuid, uuid, sizeof(sp->uuid));
}

/*
 * FFA_PARTITION_INFO_GET: from the list read at probe (secure partitions
 * only), in the guest's version (v1.0: 8 bytes, no UUID); into the
 * guest's RX, which it then owns until FFA_RX_RELEASE.
 */
static void partition_info_get(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint32_t uuid[4] = { (uint32_t)regs[1], (uint32_t)regs[2],
			     (uint32_t)regs[3], (uint32_t)regs[4] };
	bool count_only = regs[5] & FFA_PARTITION_INFO_GET_COUNT_ONLY;
	uint32_t v = atomic_load(&d->version);
	uint32_t size = v >= FFA_VERSION_1_1 ? FFA_PARTITION_INFO_SIZE
					     : FFA_PARTITION_INFO_SIZE_1_0;
	uint32_t count = 0, written = 0;
	int32_t err = FFA_RET_OK;

	for (uint32_t i = 0; i < fm->nsps; i++)
		count += uuid_match(&fm->sps[i], uuid);
	if ((regs[5] & ~(uint64_t)FFA_PARTITION_INFO_GET_COUNT_ONLY) ||
	    (count_only && v < FFA_VERSION_1_1)) {
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (!count) {
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (count_only) {
		tgf_success(regs, count, 0);
		return;
	}
	tgf_lock(d);
	if (!d->rxtx_pages) {
		err = FFA_RET_DENIED;
	} else if (d->rx_full) {
		err = FFA_RET_BUSY;
	} else if ((uint64_t)count * size >
		   (uint64_t)d->rxtx_pages * TG_PAGE_SIZE) {
		err = FFA_RET_NO_MEMORY;
	} else {
		for (uint32_t i = 0; i < fm->nsps && !err; i++) {
			const struct tgf_sp *sp = &fm->sps[i];
			struct ffa_partition_info pi;

			if (!uuid_match(sp, uuid))
				continue;
			memset(&pi, 0, sizeof(pi));
			pi.id = sp->id;
			pi.exec_ctx_count = sp->exec_ctx;
			pi.properties = sp->props;
			if (v < FFA_VERSION_1_1)
				pi.properties &= FFA_PART_PROP_DIRECT_REQ_RECV |
						 FFA_PART_PROP_DIRECT_REQ_SEND |
						 FFA_PART_PROP_INDIRECT_MSGS;
			memcpy(pi.uuid, sp->uuid, sizeof(pi.uuid));
			if (fm->port.copy_to_guest(fm->port.ctx, d->id,
						   d->rx_ipa + written, &pi,
						   size))
				err = FFA_RET_ABORTED;
			written += size;
		}
		if (!err)
			d->rx_full = true;
	}
	tgf_unlock(d);
	if (err)
		tgf_error(regs, err);
	else
		tgf_success(regs, count, v >= FFA_VERSION_1_1 ? size : 0);
}

/*
 * FFA_PARTITION_INFO_GET_REGS (v1.2): the same list in registers, three
 * per partition from w3, starting at index w2[15:0]; tag 0 only.
 */
static void partition_info_get_regs(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint32_t uuid[4] = { (uint32_t)regs[1], (uint32_t)(regs[1] >> 32),
			     (uint32_t)regs[2], (uint32_t)(regs[2] >> 32) };
	uint32_t start = (uint32_t)regs[3] & 0xFFFFu;
	uint32_t tag = ((uint32_t)regs[3] >> 16) & 0xFFFFu;
	uint64_t out[8] = { 0 };
	uint32_t idx = 0, n = 0, last;

	if (atomic_load(&d->version) < FFA_VERSION_1_2) {
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	for (uint32_t i = 0; i < fm->nsps; i++)
		n += uuid_match(&fm->sps[i], uuid);
	if (tag || !n || start >= n) {
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	last = n - 1;
	/* With 8 registers, one partition per call: w3..w5. */
	for (uint32_t i = 0; i < fm->nsps; i++) {
		const struct tgf_sp *sp = &fm->sps[i];

		if (!uuid_match(sp, uuid))
			continue;
		if (idx++ != start)
			continue;
		out[3] = sp->id | (uint64_t)sp->exec_ctx << 16 |
			 (uint64_t)sp->props << 32;
		out[4] = sp->uuid[0] | (uint64_t)sp->uuid[1] << 32;
		out[5] = sp->uuid[2] | (uint64_t)sp->uuid[3] << 32;
		break;
	}
	out[0] = FFA_SUCCESS_64;
	out[2] = last | (uint64_t)start << 16 |
		 (uint64_t)FFA_PARTITION_INFO_SIZE << 48;
	memcpy(regs, out, sizeof(out));
}

/* ---- direct requests, FFA_RUN ------------------------------------------- */

/* What the SPMC may hand back to a guest after a request or a run. */
static bool resp_allowed(uint32_t fid)
{
	switch (fid) {
	case FFA_MSG_SEND_DIRECT_RESP_32:
	case FFA_MSG_SEND_DIRECT_RESP_64:
	case FFA_MSG_SEND_DIRECT_RESP2:
	case FFA_ERROR:
	case FFA_SUCCESS_32:
	case FFA_SUCCESS_64:
	case FFA_INTERRUPT:
	case FFA_YIELD:
	case FFA_MSG_WAIT:
		return true;
	default:
		return false;
	}
}

/*
 * Forward a request (or FFA_RUN) and check what comes back: a response
 * must come from the partition asked and be addressed to this guest;
 * anything else the SPMC might say is not given to the guest.
 */
static void forward_to_sp(struct tgf_dom *d, uint16_t sp, uint64_t regs[8])
{
	uint32_t fid;

	tgf_smc(d->fm, regs);
	fid = (uint32_t)regs[0];
	if (fid == FFA_MSG_SEND_DIRECT_RESP_32 ||
	    fid == FFA_MSG_SEND_DIRECT_RESP_64 ||
	    fid == FFA_MSG_SEND_DIRECT_RESP2) {
		if ((uint32_t)regs[1] != FFA_PACK_IDS(sp, d->id))
			tgf_error(regs, FFA_RET_ABORTED);
		return;
	}
	if (!resp_allowed(fid))
		tgf_error(regs, FFA_RET_ABORTED);
}

/*
 * FFA_MSG_SEND_DIRECT_REQ_32/64 and _REQ2: the sender is the guest (a
 * forged one is refused), the receiver a secure partition the SPMC
 * listed; framework messages (VM availability, PSCI, version) are the
 * hypervisor's and refused. The common case (32 bits, to OP-TEE, not a
 * resume) is tested first: it is the call on every hot path.
 */
static inline void direct_req(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	uint32_t fid = (uint32_t)regs[0];
	uint16_t dst = FFA_RECEIVER(regs[1]);
	uint32_t req_w3 = (uint32_t)regs[3], req_w7 = (uint32_t)regs[7];
	bool optee = false;

	if (likely((uint32_t)regs[1] == FFA_PACK_IDS(d->id, fm->optee_id) &&
		   fid != FFA_MSG_SEND_DIRECT_REQ2 && fm->optee_id)) {
		optee = true;
	} else {
		if (FFA_SENDER(regs[1]) != d->id || !FFA_ID_IS_SECURE(dst) ||
		    !tgf_sp_find(fm, dst)) {
			tgf_refuse(d, TG_REFUSE_BAD_PARAM);
			tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
			return;
		}
		if ((fid == FFA_MSG_SEND_DIRECT_REQ_64 &&
		     !fm->feat[TGF_FEAT_DIRECT_REQ_64]) ||
		    (fid == FFA_MSG_SEND_DIRECT_REQ2 &&
		     (!fm->feat[TGF_FEAT_DIRECT_REQ2] ||
		      atomic_load(&d->version) < FFA_VERSION_1_2))) {
			tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
			tgf_error(regs, FFA_RET_NOT_SUPPORTED);
			return;
		}
	}
	if (fid != FFA_MSG_SEND_DIRECT_REQ2) {
		if (unlikely(regs[2] & FFA_MSG_FLAG_FRAMEWORK)) {
			tgf_refuse(d, TG_REFUSE_HYP_ONLY);
			tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
			return;
		}
		regs[2] = 0; /* MBZ for a guest's message */
	}
	if (fid == FFA_MSG_SEND_DIRECT_REQ_64 && dst == fm->optee_id)
		optee = true;
	if (unlikely(optee && req_w3 == OPTEE_FFA_YIELDING_CALL_RESUME) &&
	    !tgf_optee_before(d, regs))
		return; /* answered */
	tgf_count(d, optee && (req_w3 & OPTEE_FFA_YIELDING_CALL_BIT)
			     ? (req_w3 == OPTEE_FFA_YIELDING_CALL_RESUME
					? TG_KIND_RPC_RETURN
					: TG_KIND_STD_CALL)
			     : TG_KIND_FAST_FORWARDED);
	forward_to_sp(d, dst, regs);
	if (optee && (req_w3 & OPTEE_FFA_YIELDING_CALL_BIT))
		tgf_optee_after(d, req_w3, req_w7, regs);
}

/* FFA_RUN: only a secure partition's execution context. */
static void run(struct tgf_dom *d, uint64_t regs[8])
{
	uint16_t target = FFA_SENDER(regs[1]);

	if (!d->fm->feat[TGF_FEAT_RUN] || !FFA_ID_IS_SECURE(target) ||
	    !tgf_sp_find(d->fm, target)) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	ffa_set_regs(regs, FFA_RUN, regs[1], 0, 0, 0, 0);
	tgf_count(d, TG_KIND_FAST_FORWARDED);
	forward_to_sp(d, target, regs);
}

/* ---- indirect messages -------------------------------------------------- */

struct msg_header {
	uint32_t flags;
	uint32_t reserved;
	uint32_t offset;
	uint32_t ids; /* sender 31:16, receiver 15:0 */
	uint32_t size;
};

/*
 * FFA_MSG_SEND2: the message in the guest's TX is copied once, checked
 * (sender is the guest, receiver a partition, payload inside the buffer,
 * flags and reserved fields zero) and put in the mediator's TX for the
 * SPMC, the sender in w1 and the guest's one defined flag in w2.
 */
static void msg_send2(struct tgf_dom *d, uint64_t regs[8])
{
	struct tgf_med *fm = d->fm;
	struct msg_header h;
	uint32_t size, bytes;
	/* w2: only the flags; w3..w7 are reserved and ignored */
	uint32_t flags = (uint32_t)regs[2]; /* SMC32: w2 */
	int32_t err = FFA_RET_OK;

	if (!fm->feat[TGF_FEAT_MSG_SEND2]) {
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (flags & ~FFA_MSG_SEND2_FLAG_DELAY_SRI) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	tgf_lock(d);
	if (!d->rxtx_pages || d->busy) {
		tgf_unlock(d);
		tgf_error(regs, d->rxtx_pages ? FFA_RET_BUSY : FFA_RET_DENIED);
		return;
	}
	d->busy = true;
	size = d->rxtx_pages * TG_PAGE_SIZE;
	tgf_unlock(d);
	if (fm->port.copy_from_guest(fm->port.ctx, d->id, &h, d->tx_ipa,
				     sizeof(h))) {
		err = FFA_RET_ABORTED;
		goto out;
	}
	if (FFA_SENDER(h.ids) != d->id ||
	    !tgf_sp_find(fm, FFA_RECEIVER(h.ids)) || h.offset < sizeof(h) ||
	    h.offset > size || h.size > size - h.offset || h.flags ||
	    h.reserved) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		err = FFA_RET_INVALID_PARAMETERS;
		goto out;
	}
	bytes = h.offset + h.size;
	/* The header as checked; from the guest only what follows it, so
	 * that no byte is read twice (h.offset >= sizeof(h) above). */
	memcpy(d->txcopy, &h, sizeof(h));
	if (bytes > fm->rxtx_pages * TG_PAGE_SIZE ||
	    (bytes > sizeof(h) &&
	     fm->port.copy_from_guest(fm->port.ctx, d->id,
				      d->txcopy + sizeof(h),
				      d->tx_ipa + sizeof(h),
				      (uint32_t)(bytes - sizeof(h))))) {
		err = FFA_RET_NO_MEMORY;
		goto out;
	}
	fm->port.lock(fm->port.ctx, fm->txrx_lock);
	memcpy(fm->tx, d->txcopy, bytes);
	ffa_set_regs(regs, FFA_MSG_SEND2, FFA_PACK_IDS(d->id, 0), flags, 0, 0,
		     0);
	tgf_smc(fm, regs);
	fm->port.unlock(fm->port.ctx, fm->txrx_lock);
	err = tgf_status(regs);
	tgf_count(d, TG_KIND_FAST_FORWARDED);
out:
	tgf_lock(d);
	d->busy = false;
	tgf_unlock(d);
	if (err)
		tgf_error(regs, err);
	else
		tgf_success(regs, 0, 0);
}

/* ---- notifications ------------------------------------------------------- */

/*
 * BIND / UNBIND: w1 = sender (a partition) | receiver (this guest),
 * w2 flags, w3/w4 the bitmap. Another VM's bitmap is not the guest's.
 */
static void notif_bind(struct tgf_dom *d, uint64_t regs[8], bool bind)
{
	uint16_t sender = FFA_SENDER(regs[1]), receiver = FFA_RECEIVER(regs[1]);
	uint64_t bitmap = FFA_HANDLE_PACK(regs[3], regs[4]);

	if (!d->fm->feat[TGF_FEAT_NOTIF]) {
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (receiver != d->id || !tgf_sp_find(d->fm, sender) ||
	    regs[5] || regs[6] || regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	ffa_set_regs(regs,
		     bind ? FFA_NOTIFICATION_BIND : FFA_NOTIFICATION_UNBIND,
		     FFA_PACK_IDS(sender, d->id), regs[2], regs[3], regs[4], 0);
	tgf_smc(d->fm, regs);
	tgf_count(d, TG_KIND_FAST_FORWARDED);
	if (!tgf_status(regs)) {
		tgf_lock(d);
		d->bound = bind ? d->bound | bitmap : d->bound & ~bitmap;
		for (uint32_t b = 0; bind && b < 64; b++)
			if (bitmap & (1ull << b))
				d->bound_by[b] = sender;
		tgf_unlock(d);
		tgf_success(regs, 0, 0);
	} else {
		tgf_error(regs, tgf_status(regs));
	}
}

/* GET: w1 = vCPU | receiver (this guest); the partitions' bitmap only. */
static void notif_get(struct tgf_dom *d, uint64_t regs[8])
{
	uint16_t receiver = FFA_RECEIVER(regs[1]);
	uint32_t flags = (uint32_t)regs[2]; /* SMC32: w2 */

	if (!d->fm->feat[TGF_FEAT_NOTIF]) {
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (receiver != d->id || regs[3] || regs[4] || regs[5] || regs[6] ||
	    regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	atomic_store(&d->notif_pending, false);
	/* No VM-to-VM, hypervisor or framework notifications here. */
	ffa_set_regs(regs, FFA_NOTIFICATION_GET,
		     FFA_PACK_IDS(FFA_SENDER(regs[1]), d->id),
		     flags & FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
	tgf_smc(d->fm, regs);
	tgf_count(d, TG_KIND_FAST_FORWARDED);
	if (tgf_status(regs)) {
		tgf_error(regs, tgf_status(regs));
		return;
	}
	ffa_set_regs(regs, FFA_SUCCESS_32, 0, (uint32_t)regs[2],
		     (uint32_t)regs[3], 0, 0);
}

/* SET (VM -> partition): the sender is the guest, the receiver an SP. */
static void notif_set(struct tgf_dom *d, uint64_t regs[8])
{
	uint16_t sender = FFA_SENDER(regs[1]), receiver = FFA_RECEIVER(regs[1]);

	if (!d->fm->feat[TGF_FEAT_NOTIF]) {
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (sender != d->id || !tgf_sp_find(d->fm, receiver) || regs[5] ||
	    regs[6] || regs[7]) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	tgf_smc(d->fm, regs);
	tgf_count(d, TG_KIND_FAST_FORWARDED);
	if (tgf_status(regs))
		tgf_error(regs, tgf_status(regs));
	else
		tgf_success(regs, 0, 0);
}

/*
 * INFO_GET from a guest: answered here, with the guest's own id when the
 * SPMC told us it has pending notifications (no other VM is shown).
 */
static void notif_info_get(struct tgf_dom *d, uint64_t regs[8])
{
	bool is64 = FFA_FN_IS_64((uint32_t)regs[0]);

	tgf_count(d, TG_KIND_FAST_EMULATED);
	if (!d->fm->feat[TGF_FEAT_NOTIF]) {
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (!atomic_load(&d->notif_pending)) {
		tgf_error(regs, FFA_RET_NO_DATA);
		return;
	}
	ffa_set_regs(regs, is64 ? FFA_SUCCESS_64 : FFA_SUCCESS_32, 0,
		     1u << FFA_NOTIF_INFO_LIST_COUNT_SHIFT, d->id, 0, 0);
}

void tgf_domain_notif_pending(struct tgf_dom *d)
{
	atomic_store(&d->notif_pending, true);
}

/**
 * tgf_notif_irq() - the SPMC raised the schedule-receiver interrupt: ask
 * it which VMs have pending notifications (INFO_GET, until no more) and
 * tell the caller each id (@pending), which marks the domain and raises
 * its interrupt.
 */
void tgf_notif_irq(struct tgf_med *fm,
		   void (*pending)(void *arg, uint32_t vm_id), void *arg)
{
	uint64_t r[8];

	for (uint32_t round = 0; round < 64; round++) {
		uint32_t lists, pos = 0;

		ffa_set_regs(r, FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0, 0);
		tgf_smc(fm, r);
		if (r[0] != FFA_SUCCESS_64 && r[0] != FFA_SUCCESS_32)
			return;
		lists = ((uint32_t)r[2] >> FFA_NOTIF_INFO_LIST_COUNT_SHIFT) &
			FFA_NOTIF_INFO_LIST_COUNT_MASK;
		for (uint32_t l = 0; l < lists; l++) {
			uint32_t ids = (uint32_t)(r[2] >>
						  (FFA_NOTIF_INFO_LIST_SHIFT +
						   2 * l)) & 3u;
			uint32_t reg = 3 + pos / 4, shift = (pos % 4) * 16;

			if (reg > 7)
				break;
			/* The list's first id is the VM; then its vCPUs. */
			pending(arg, (uint16_t)(r[reg] >> shift));
			pos += 1 + ids;
		}
		if (!(r[2] & FFA_NOTIF_INFO_MORE_PENDING))
			return;
	}
}

/* ---- dispatch ----------------------------------------------------------- */

static bool handle_slow(struct tgf_med *fm, struct tgf_dom *d,
			uint64_t regs[8]);

/**
 * tgf_handle() - one FF-A call of guest @d. Return: false when @regs[0]
 * is no FF-A function (then untouched), true when @regs holds the answer.
 */
bool tgf_handle(struct tgf_med *fm, struct tgf_dom *d, uint32_t vcpu,
		uint64_t regs[8])
{
	(void)fm;
	(void)vcpu;
	atomic_fetch_add(d->ref, 1);
	return tgf_handle_put(d, regs);
}

/**
 * tgf_handle_put() - tgf_handle() of the domain @pd, then drop the
 * caller's reference on it (*ref, decremented last, release order), so
 * that the core's dispatch can end in a tail call here (struct tg_proto's
 * handle_put).
 */
bool tgf_handle_put(void *pd, uint64_t regs[8])
{
	struct tgf_dom *d = pd;
	_Atomic uint32_t *ref = d->ref;
	bool ret = true;

	/* The hot path first: a direct request once a version is fixed. */
	if (likely((uint32_t)regs[0] == FFA_MSG_SEND_DIRECT_REQ_32 &&
		   atomic_load_explicit(&d->version, memory_order_acquire)))
		direct_req(d, regs);
	else
		ret = handle_slow(d->fm, d, regs);
	atomic_fetch_sub_explicit(ref, 1, memory_order_release);
	return ret;
}

static __attribute__((noinline)) bool handle_slow(struct tgf_med *fm,
						  struct tgf_dom *d,
						  uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	if (!FFA_IS_FFA_FID(fid))
		return false;
	if (fid == FFA_VERSION) {
		tgf_count(d, TG_KIND_FAST_EMULATED);
		guest_version(d, regs);
		return true;
	}
	if (!version_fixed(d)) {
		tgf_refuse(d, TG_REFUSE_BAD_PARAM);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		return true;
	}
	switch (fid) {
	case FFA_ID_GET:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		tgf_success(regs, d->id, 0);
		break;
	case FFA_SPM_ID_GET:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		tgf_success(regs, fm->spmc_id, 0);
		break;
	case FFA_FEATURES:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		guest_features(d, regs);
		break;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		rxtx_map(d, regs);
		break;
	case FFA_RXTX_UNMAP:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		rxtx_unmap(d, regs);
		break;
	case FFA_RX_RELEASE:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		rx_release(d, regs);
		break;
	case FFA_PARTITION_INFO_GET:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		partition_info_get(d, regs);
		break;
	case FFA_PARTITION_INFO_GET_REGS:
		tgf_count(d, TG_KIND_FAST_EMULATED);
		partition_info_get_regs(d, regs);
		break;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_REQ2:
		direct_req(d, regs);
		break;
	case FFA_RUN:
		run(d, regs);
		break;
	case FFA_MSG_SEND2:
		msg_send2(d, regs);
		break;
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
		tgf_mem_share(d, regs);
		break;
	case FFA_MEM_FRAG_TX:
		tgf_mem_frag_tx(d, regs);
		break;
	case FFA_MEM_RECLAIM:
		tgf_mem_reclaim(d, regs);
		break;
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
		notif_bind(d, regs, fid == FFA_NOTIFICATION_BIND);
		break;
	case FFA_NOTIFICATION_GET:
		notif_get(d, regs);
		break;
	case FFA_NOTIFICATION_SET:
		notif_set(d, regs);
		break;
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		notif_info_get(d, regs);
		break;
	case FFA_MEM_DONATE_32:
	case FFA_MEM_DONATE_64:
		/* The memory would leave the guest for good. */
		tgf_refuse(d, TG_REFUSE_WHOLE_TEE);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		break;
	case FFA_NOTIFICATION_BITMAP_CREATE:
	case FFA_NOTIFICATION_BITMAP_DESTROY:
	case FFA_RX_ACQUIRE:
	case FFA_SECONDARY_EP_REGISTER_64:
		/* The hypervisor's, not a guest's. */
		tgf_refuse(d, TG_REFUSE_HYP_ONLY);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		break;
	default:
		tgf_refuse(d, TG_REFUSE_UNKNOWN_FUNCTION);
		tgf_error(regs, FFA_RET_NOT_SUPPORTED);
		break;
	}
	return true;
}
