// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hostile guest over FF-A: the attacks of tg_workload_hostile() when
 * the guest reaches OP-TEE through FF-A. Calls are built by hand at
 * register level and descriptors written straight into the guest's TX
 * buffer, where the driver would never put them. Each entry says the
 * refusal the FF-A mediator promises (src/ffa, docs/threat-model.md).
 */
#include <stdio.h>
#include <string.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "optee_private.h"

/*
 * The expected refusal, then what counts as a breach with any mediator
 * (or none): a call that must never go through went through; bare: not
 * classified against an SPMC without a mediator (docs/security.md's
 * bare-OP-TEE classes are for the SMC ABI).
 */
#define FERR(code)                                           \
	{ TG_EXPECT_FFA_ERROR, (uint32_t)(code), 0 },        \
		TG_BREACH_IF_ACCEPTED, 0
#define W3(code)                                             \
	{ TG_EXPECT_FFA_W3, (code), 0 }, TG_BREACH_IF_ACCEPTED, 0
#define INVAL FERR(FFA_RET_INVALID_PARAMETERS)
#define NOTSUP FERR(FFA_RET_NOT_SUPPORTED)

/* An IPA that is no guest RAM on any platform of ours (below 1 GiB). */
#define FOREIGN_IPA 0x1000ull
#define BUF_PAGES 4u

/* Keep in the order of enum ffa_attack below. */
static const struct tg_attack ffa_table[] = {
	{ "ffa_forged_sender",
	  "direct request with another VM's id as sender", INVAL },
	{ "ffa_direct_req_to_vm", "direct request to a VM id (not an SP)",
	  INVAL },
	{ "ffa_direct_req_unknown_sp",
	  "direct request to a secure id the SPMC never listed", INVAL },
	{ "ffa_vm_created", "framework VM_CREATED sent by a guest", INVAL },
	{ "ffa_vm_destroyed", "framework VM_DESTROYED of itself, by the guest",
	  INVAL },
	{ "ffa_resume_other_thread",
	  "OP-TEE RESUME of a thread this guest does not hold",
	  W3(TEEC_ERROR_BAD_PARAMETERS) },
	{ "ffa_run_vm", "FFA_RUN of another VM", INVAL },
	{ "ffa_share_forged_sender",
	  "MEM_SHARE descriptor with another VM as sender", INVAL },
	{ "ffa_share_foreign_page",
	  "MEM_SHARE whose constituent is a page outside guest RAM", INVAL },
	{ "ffa_share_overlap", "MEM_SHARE with overlapping constituents",
	  INVAL },
	{ "ffa_share_device_attr", "MEM_SHARE of device memory", INVAL },
	{ "ffa_share_total_mismatch",
	  "descriptor whose constituents do not end at its total length",
	  INVAL },
	{ "ffa_share_too_many_pages",
	  "MEM_SHARE of 16386 pages (> pages per share)",
	  FERR(FFA_RET_NO_MEMORY) },
	{ "ffa_share_own_buffer",
	  "MEM_SHARE with the descriptor in a buffer of its own", NOTSUP },
	{ "ffa_frag_bad_length",
	  "FRAG_TX of 8 bytes (half a constituent)", INVAL },
	{ "ffa_frag_foreign_handle",
	  "FRAG_TX naming a transaction that is not its own", INVAL },
	{ "ffa_reclaim_foreign_handle",
	  "MEM_RECLAIM of another guest's (predictable) handle", INVAL },
	{ "ffa_donate", "MEM_DONATE (the pages would leave the guest)",
	  NOTSUP },
	{ "ffa_retrieve", "MEM_RETRIEVE_REQ from a guest", NOTSUP },
	{ "ffa_exhaust_shares", "share one page again and again until refused",
	  FERR(FFA_RET_NO_MEMORY) },
	{ "ffa_rxtx_map_foreign", "RXTX_MAP of a page outside guest RAM",
	  INVAL },
	{ "ffa_notif_bind_other_vm",
	  "NOTIFICATION_BIND on another VM's bitmap", INVAL },
	{ "ffa_notif_get_other_vm", "NOTIFICATION_GET of another VM's bitmap",
	  INVAL },
	{ "ffa_bitmap_create", "NOTIFICATION_BITMAP_CREATE by a guest",
	  NOTSUP },
};

enum ffa_attack {
	A_FORGED_SENDER,
	A_REQ_TO_VM,
	A_REQ_UNKNOWN_SP,
	A_VM_CREATED,
	A_VM_DESTROYED,
	A_RESUME_OTHER,
	A_RUN_VM,
	A_SHARE_FORGED_SENDER,
	A_SHARE_FOREIGN_PAGE,
	A_SHARE_OVERLAP,
	A_SHARE_DEVICE,
	A_SHARE_TOTAL,
	A_SHARE_TOO_MANY,
	A_SHARE_OWN_BUFFER,
	A_FRAG_BAD_LEN,
	A_FRAG_FOREIGN,
	A_RECLAIM_FOREIGN,
	A_DONATE,
	A_RETRIEVE,
	A_EXHAUST_SHARES,
	A_RXTX_FOREIGN,
	A_NOTIF_BIND_OTHER,
	A_NOTIF_GET_OTHER,
	A_BITMAP_CREATE,
	NUM_FFA_ATTACKS
};

_Static_assert(sizeof(ffa_table) / sizeof(ffa_table[0]) == NUM_FFA_ATTACKS,
	       "one entry per attack");

size_t tg_hostile_ffa_catalogue(const struct tg_attack **table)
{
	if (table)
		*table = ffa_table;
	return NUM_FFA_ATTACKS;
}

const char *tgg_ffa_err_name(uint32_t code)
{
	switch ((int32_t)code) {
	case FFA_RET_NOT_SUPPORTED:
		return "NOT_SUPPORTED";
	case FFA_RET_INVALID_PARAMETERS:
		return "INVALID_PARAMETERS";
	case FFA_RET_NO_MEMORY:
		return "NO_MEMORY";
	case FFA_RET_BUSY:
		return "BUSY";
	case FFA_RET_DENIED:
		return "DENIED";
	case FFA_RET_ABORTED:
		return "ABORTED";
	default:
		return "?";
	}
}

bool tgg_guest_uses_ffa(struct tg_vcpu *vcpu, uint32_t flags)
{
	struct tg_optee *drv;
	uint32_t tries = 0;
	bool ffa;

	/* TG_WL_CHAOS: the probe may meet a mediator death: again. */
	while (tg_optee_get(vcpu, &drv))
		if (!(flags & TG_WL_CHAOS) || ++tries > 3)
			return false;
	ffa = tg_optee_info(drv)->ffa;
	tg_optee_put(drv);
	return ffa;
}

struct fctx {
	struct tg_vcpu *vcpu;
	struct tg_optee *drv;
	const struct tg_optee_info *info;
	uint16_t id, optee;
	uint8_t *tx;
	uint32_t tx_size;
	uint64_t buf_ipa; /* BUF_PAGES pages of our own */
	uint32_t flags;
};

struct fout {
	uint64_t r[8];
	bool skipped;
};

static void ffa(struct fctx *h, uint64_t r[8], uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	ffa_set_regs(r, a0, a1, a2, a3, a4, a5);
	tg_smc(h->vcpu, r);
}

/* ---- descriptors -------------------------------------------------------- */

struct desc {
	uint16_t sender;
	uint16_t attr;
	uint32_t n;
	uint64_t addr[4];
	uint32_t count[4];
	int32_t total_delta; /* added to the total length announced */
	uint32_t pages_override;
};

/* Write @d into TX in the negotiated version; return the total length. */
static uint32_t desc_write(struct fctx *h, const struct desc *d)
{
	uint32_t v = h->info->ffa_version;
	uint32_t as = v >= FFA_VERSION_1_2 ? FFA_MEM_ACCESS_1_2_SIZE
					   : FFA_MEM_ACCESS_1_1_SIZE;
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	uint32_t off = FFA_MEM_TRANS_SIZE, total = 0;

	t.sender_id = d->sender;
	t.mem_attr = d->attr;
	t.access_size = as;
	t.access_count = 1;
	t.access_offset = off;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = h->optee;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = off + as;
	for (uint32_t i = 0; i < d->n; i++)
		total += d->count[i];
	c.total_page_count = d->pages_override ? d->pages_override : total;
	c.constituent_count = d->n;
	memset(h->tx, 0, FFA_MEM_TRANS_SIZE + as + sizeof(c));
	memcpy(h->tx, &t, sizeof(t));
	memcpy(h->tx + off, &a, as);
	off += as;
	memcpy(h->tx + off, &c, sizeof(c));
	off += sizeof(c);
	for (uint32_t i = 0; i < d->n; i++) {
		struct ffa_mem_constituent k = { d->addr[i], d->count[i], 0 };

		memcpy(h->tx + off, &k, sizeof(k));
		off += sizeof(k);
	}
	return off;
}

static void desc_init(struct fctx *h, struct desc *d)
{
	memset(d, 0, sizeof(*d));
	d->sender = h->id;
	d->attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	d->n = 1;
	d->addr[0] = h->buf_ipa;
	d->count[0] = 1;
}

/* If a share got through after all, take it back. */
static void undo_share(struct fctx *h, const uint64_t r[8])
{
	uint64_t x[8];

	if (r[0] == FFA_SUCCESS_32 || r[0] == FFA_SUCCESS_64)
		ffa(h, x, FFA_MEM_RECLAIM, r[2], r[3], 0, 0, 0);
}

static void share(struct fctx *h, const struct desc *d, struct fout *o)
{
	uint32_t len = desc_write(h, d);

	ffa(h, o->r, FFA_MEM_SHARE_32, len + (uint32_t)d->total_delta, len, 0,
	    0, 0);
	undo_share(h, o->r);
}

/* ---- the attacks ---------------------------------------------------------- */

static void exhaust_shares(struct fctx *h, struct fout *o)
{
	uint64_t handles[512];
	uint32_t n = 0;
	struct desc d;
	uint64_t x[8];

	desc_init(h, &d);
	while (n < 512) {
		uint32_t len = desc_write(h, &d);

		ffa(h, o->r, FFA_MEM_SHARE_32, len, len, 0, 0, 0);
		if (o->r[0] != FFA_SUCCESS_32 && o->r[0] != FFA_SUCCESS_64)
			break;
		handles[n++] = FFA_HANDLE_PACK(o->r[2], o->r[3]);
	}
	while (n--)
		ffa(h, x, FFA_MEM_RECLAIM, FFA_HANDLE_LO(handles[n]),
		    FFA_HANDLE_HI(handles[n]), 0, 0, 0);
}

static void frag_bad_len(struct fctx *h, struct fout *o)
{
	struct desc d;
	uint32_t len, first;
	uint64_t x[8];

	desc_init(h, &d);
	d.n = 2;
	d.addr[1] = h->buf_ipa + 2 * PAGE_SIZE;
	d.count[1] = 1;
	len = desc_write(h, &d);
	first = len - FFA_MEM_CONSTITUENT_SIZE;
	ffa(h, x, FFA_MEM_SHARE_32, len, first, 0, 0, 0);
	if (x[0] != FFA_MEM_FRAG_RX) {
		undo_share(h, x);
		memcpy(o->r, x, sizeof(x));
		return;
	}
	ffa(h, o->r, FFA_MEM_FRAG_TX, x[1], x[2], 8, 0, 0);
	if (o->r[0] != FFA_ERROR) {
		/* Not refused: finish and reclaim what we started. */
		uint64_t y[8];

		memmove(h->tx, h->tx + first, FFA_MEM_CONSTITUENT_SIZE);
		ffa(h, y, FFA_MEM_FRAG_TX, x[1], x[2],
		    FFA_MEM_CONSTITUENT_SIZE, 0, 0);
		undo_share(h, y);
	}
}

/*
 * Give the driver its RX/TX back. An answer lost on the way (ABORTED:
 * the mediator died, TG_WL_CHAOS) is asked again; DENIED: mapped already
 * (by the call whose answer was lost).
 */
static void restore_rxtx(struct fctx *h)
{
	uint64_t x[8];

	for (int tries = 0; tries < 4; tries++) {
		ffa(h, x, FFA_RXTX_MAP_64, h->info->ffa_tx_ipa,
		    h->info->ffa_rx_ipa, h->info->ffa_rxtx_pages, 0, 0);
		if (x[0] == FFA_SUCCESS_32 ||
		    (x[0] == FFA_ERROR && (int32_t)x[2] == FFA_RET_DENIED))
			return;
		if (!(x[0] == FFA_ERROR && (int32_t)x[2] == FFA_RET_ABORTED))
			break;
	}
	__atomic_fetch_add(&tg_guest_counters(h->vcpu)->errors, 1,
			   __ATOMIC_RELAXED);
}

static void rxtx_foreign(struct fctx *h, struct fout *o)
{
	uint64_t x[8];

	ffa(h, x, FFA_RXTX_UNMAP, FFA_PACK_IDS(h->id, 0), 0, 0, 0, 0);
	if (x[0] != FFA_SUCCESS_32) {
		o->skipped = true;
		restore_rxtx(h); /* an UNMAP lost on the way may have done it */
		return;
	}
	ffa(h, o->r, FFA_RXTX_MAP_64, FOREIGN_IPA, h->info->ffa_rx_ipa,
	    h->info->ffa_rxtx_pages, 0, 0);
	if (o->r[0] == FFA_SUCCESS_32)
		ffa(h, x, FFA_RXTX_UNMAP, FFA_PACK_IDS(h->id, 0), 0, 0, 0, 0);
	restore_rxtx(h);
}

static void run_attack(struct fctx *h, enum ffa_attack a, struct fout *o)
{
	uint16_t other = (uint16_t)(h->id + 1);
	struct desc d;

	memset(o, 0, sizeof(*o));
	desc_init(h, &d);
	switch (a) {
	case A_FORGED_SENDER:
		ffa(h, o->r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(other, h->optee), 0,
		    OPTEE_FFA_GET_API_VERSION, 0, 0);
		break;
	case A_REQ_TO_VM:
		ffa(h, o->r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(h->id, other), 0, 0, 0, 0);
		break;
	case A_REQ_UNKNOWN_SP:
		ffa(h, o->r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(h->id, 0x8123), 0, 0, 0, 0);
		break;
	case A_VM_CREATED:
		ffa(h, o->r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(h->id, h->optee),
		    FFA_MSG_FLAG_FRAMEWORK | FFA_MSG_SEND_VM_CREATED, 0, 0,
		    (uint16_t)(h->id + 5));
		break;
	case A_VM_DESTROYED:
		ffa(h, o->r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(h->id, h->optee),
		    FFA_MSG_FLAG_FRAMEWORK | FFA_MSG_SEND_VM_DESTROYED, 0, 0,
		    h->id);
		break;
	case A_RESUME_OTHER:
		o->r[7] = 1; /* a thread id; ours are none */
		o->r[0] = FFA_MSG_SEND_DIRECT_REQ_32;
		o->r[1] = FFA_PACK_IDS(h->id, h->optee);
		o->r[2] = 0;
		o->r[3] = OPTEE_FFA_YIELDING_CALL_RESUME;
		o->r[4] = o->r[5] = o->r[6] = 0;
		tg_smc(h->vcpu, o->r);
		break;
	case A_RUN_VM:
		ffa(h, o->r, FFA_RUN, FFA_TARGET_INFO(other, 0), 0, 0, 0, 0);
		break;
	case A_SHARE_FORGED_SENDER:
		d.sender = other;
		share(h, &d, o);
		break;
	case A_SHARE_FOREIGN_PAGE:
		d.n = 2;
		d.addr[1] = FOREIGN_IPA;
		d.count[1] = 1;
		share(h, &d, o);
		break;
	case A_SHARE_OVERLAP:
		d.n = 2;
		d.count[0] = 2;
		d.addr[1] = h->buf_ipa + PAGE_SIZE;
		d.count[1] = 1;
		share(h, &d, o);
		break;
	case A_SHARE_DEVICE:
		d.attr = FFA_MEM_TYPE_DEVICE;
		share(h, &d, o);
		break;
	case A_SHARE_TOTAL:
		d.total_delta = FFA_MEM_CONSTITUENT_SIZE;
		share(h, &d, o);
		break;
	case A_SHARE_TOO_MANY:
		d.count[0] = 16386;
		share(h, &d, o);
		break;
	case A_SHARE_OWN_BUFFER:
		ffa(h, o->r, FFA_MEM_SHARE_32, 128, 128, h->buf_ipa, 1, 0);
		undo_share(h, o->r);
		break;
	case A_FRAG_BAD_LEN:
		frag_bad_len(h, o);
		break;
	case A_FRAG_FOREIGN:
		ffa(h, o->r, FFA_MEM_FRAG_TX, 0x1234, 0x1000 | other, 16, 0,
		    0);
		break;
	case A_RECLAIM_FOREIGN: {
		/* OP-TEE's encoding: index | bit 44 | guest id << 16. */
		uint64_t hd = (1ull << 44) | ((uint64_t)other << 16);

		ffa(h, o->r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(hd),
		    FFA_HANDLE_HI(hd), 0, 0, 0);
		break;
	}
	case A_DONATE:
		ffa(h, o->r, FFA_MEM_DONATE_32, 64, 64, 0, 0, 0);
		break;
	case A_RETRIEVE:
		ffa(h, o->r, FFA_MEM_RETRIEVE_REQ_32, 64, 64, 0, 0, 0);
		break;
	case A_EXHAUST_SHARES:
		exhaust_shares(h, o);
		break;
	case A_RXTX_FOREIGN:
		rxtx_foreign(h, o);
		break;
	case A_NOTIF_BIND_OTHER:
		ffa(h, o->r, FFA_NOTIFICATION_BIND,
		    FFA_PACK_IDS(h->optee, other), 0, 1u << 20, 0, 0);
		break;
	case A_NOTIF_GET_OTHER:
		ffa(h, o->r, FFA_NOTIFICATION_GET, FFA_PACK_IDS(0, other),
		    FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
		break;
	case A_BITMAP_CREATE:
		ffa(h, o->r, FFA_NOTIFICATION_BITMAP_CREATE, other, 1, 0, 0, 0);
		break;
	default:
		o->skipped = true;
		break;
	}
}

static bool refused(const struct tg_attack_expect *e, const struct fout *o)
{
	switch (e->kind) {
	case TG_EXPECT_FFA_ERROR:
		return o->r[0] == FFA_ERROR && (uint32_t)o->r[2] == e->code;
	case TG_EXPECT_FFA_W3:
		return (o->r[0] == FFA_MSG_SEND_DIRECT_RESP_32 ||
			o->r[0] == FFA_MSG_SEND_DIRECT_RESP_64) &&
		       (uint32_t)o->r[3] == e->code;
	default:
		return false;
	}
}

/**
 * tgg_hostile_ffa() - tg_workload_hostile() over FF-A: every attack of
 * ffa_table[], counted in attacks_refused / attacks_passed.
 */
int tgg_hostile_ffa(struct tg_vcpu *vcpu, const struct tg_hostile_opts *opts)
{
	struct tg_guest_counters *c = tg_guest_counters(vcpu);
	uint32_t rounds = opts && opts->rounds ? opts->rounds : 1;
	struct fctx h;
	int not_refused = 0;
	void *va;

	memset(&h, 0, sizeof(h));
	h.vcpu = vcpu;
	h.flags = opts ? opts->flags : 0;
	if (opts && opts->results)
		memset(opts->results, 0,
		       NUM_FFA_ATTACKS * sizeof(opts->results[0]));
	if (tg_optee_get(vcpu, &h.drv))
		return -1;
	h.info = tg_optee_info(h.drv);
	h.id = h.info->ffa_id;
	h.optee = h.info->ffa_optee_id;
	h.tx = tg_ipa_ptr(vcpu, h.info->ffa_tx_ipa);
	h.tx_size = h.info->ffa_rxtx_pages * PAGE_SIZE;
	if (!h.tx || tg_alloc_pages(vcpu, BUF_PAGES, &h.buf_ipa)) {
		__atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
		tg_optee_put(h.drv);
		return -1;
	}
	va = tg_ipa_ptr(vcpu, h.buf_ipa);
	if (va)
		memset(va, 0, BUF_PAGES * PAGE_SIZE);
	/* The driver's TX is ours while we attack: hold its lock. */
	pthread_mutex_lock(&h.drv->ffa->rxtx_lock);
	for (uint32_t r = 0; r < rounds; r++) {
		for (uint32_t i = 0; i < NUM_FFA_ATTACKS; i++) {
			const struct tg_attack *t = &ffa_table[i];
			struct fout o;
			bool ok;

			if (opts && opts->only && strcmp(opts->only, t->name))
				continue;
			__atomic_store_n(&c->phase, i, __ATOMIC_RELAXED);
			run_attack(&h, (enum ffa_attack)i, &o);
			if (o.skipped) {
				if (opts && opts->results)
					opts->results[i].skipped++;
				continue;
			}
			ok = refused(&t->expect, &o);
			if (!ok && (h.flags & TG_WL_CHAOS) &&
			    o.r[0] == FFA_ERROR &&
			    (int32_t)o.r[2] == FFA_RET_ABORTED) {
				/* The mediator died under the attack (the
				 * hypervisor's answer): not tried to its end,
				 * the next round tries it again. */
				__atomic_fetch_add(&c->interrupted, 1,
						   __ATOMIC_RELAXED);
				if (h.flags & TG_WL_VERBOSE)
					fprintf(stderr, "hostile: %-28s interrupted (mediator killed)\n",
						t->name);
				continue;
			}
			__atomic_fetch_add(ok ? &c->attacks_refused
					      : &c->attacks_passed,
					   1, __ATOMIC_RELAXED);
			if (!ok)
				not_refused++;
			if (opts && opts->results) {
				struct tg_attack_result *res =
					&opts->results[i];

				if (ok)
					res->refused++;
				else
					res->passed++;
				res->a0 = (uint32_t)o.r[0];
				res->ret = (uint32_t)(o.r[0] == FFA_ERROR
							      ? o.r[2]
							      : o.r[3]);
			}
			if (h.flags & TG_WL_VERBOSE)
				fprintf(stderr,
					"hostile: %-28s %-8s a0=0x%x w2=0x%x w3=0x%x\n",
					t->name, ok ? "refused" : "PASSED",
					(uint32_t)o.r[0], (uint32_t)o.r[2],
					(uint32_t)o.r[3]);
		}
	}
	pthread_mutex_unlock(&h.drv->ffa->rxtx_lock);
	tg_free_pages(vcpu, h.buf_ipa, BUF_PAGES);
	tg_optee_put(h.drv);
	return not_refused;
}
