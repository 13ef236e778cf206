/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FF-A mediator: guests speak FF-A to the hypervisor, the mediator
 * speaks FF-A to the SPMC on their behalf. Freestanding: no libc but
 * memcpy/memset/memcmp; everything else through struct tg_port.
 *
 * What the core calls (one object per mediator, one per domain):
 *
 *   tgf_probe()            FFA_VERSION, ids, features, the mediator's own
 *                          RX/TX pair (shm pages), the secure partitions
 *   tgf_domain_init()      NOTIFICATION_BITMAP_CREATE, VM_CREATED to the
 *                          partitions that subscribe
 *   tgf_handle()           one guest FF-A call
 *   tgf_domain_destroy_step()  resumable: ends the guest's OP-TEE threads,
 *                          reclaims every share, destroys the bitmap,
 *                          VM_DESTROYED last, unpins what is left
 *   tgf_notif_irq()        the SPMC's schedule-receiver interrupt
 *
 * Every guest value is hostile: registers are read once; a descriptor is
 * copied once from the guest's TX into mediator memory and only the copy
 * is validated, translated (IPA -> pinned PA) and rewritten into the
 * mediator's own TX for the SPMC. A guest names only its own partitions'
 * messages, its own handles, its own notification bitmap.
 */
#ifndef TEEGATE_FFA_MED_H
#define TEEGATE_FFA_MED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <teegate/ffa_abi.h>
#include <teegate/mediator.h>
#include <teegate/port.h>

/* Defaults: at least 4x Xen's (256 pages, 32 shares, a 1-page RX/TX). */
#define TGF_DEFAULT_MAX_SHARES 128u
#define TGF_DEFAULT_MAX_SHARE_PAGES 16385u /* 64 MiB at any offset */
#define TGF_DEFAULT_MAX_PINNED 65536u	   /* 256 MiB */
#define TGF_MAX_GUEST_RXTX_PAGES 16u	   /* a guest's RX/TX: 64 KiB */
#define TGF_RXTX_PAGES 16u		   /* the mediator's own pair */
#define TGF_MAX_SPS 64u			   /* secure partitions known */
#define TGF_MAX_RECEIVERS 8u		   /* receivers of one share */
#define TGF_MAX_THREADS 64u /* OP-TEE threads tracked per domain */
#define TGF_SHARE_BUCKETS 64u
/*
 * OP-TEE 4.10's S-EL1 SPMC keeps at most 64 shares per guest, and the
 * 65th corrupts its handle bitmap so that a later reclaim panics it (for
 * every guest; docs/real-optee.md). Shares with OP-TEE are capped here.
 */
#define TGF_OPTEE_MAX_SHARES 64u
#define TGF_MAX_VM_ID 0x7FFFu
/* The guest's schedule-receiver interrupt (FFA_FEATURES answer). */
#define TGF_GUEST_SRI_INTID 8u
/* The mediator speaks 1.2 to guests. */
#define TGF_VERSION FFA_VERSION_1_2

struct tgf_sp {
	uint16_t id;
	uint16_t exec_ctx;
	uint32_t props;
	uint32_t uuid[4];
};

/* What the SPMC offers, from FFA_FEATURES at probe. */
enum tgf_feature {
	TGF_FEAT_MEM_SHARE_64,
	TGF_FEAT_MEM_LEND,
	TGF_FEAT_DIRECT_REQ_64,
	TGF_FEAT_DIRECT_REQ2,
	TGF_FEAT_MSG_SEND2,
	TGF_FEAT_NOTIF,
	TGF_FEAT_RUN,
	TGF_FEAT_COUNT
};

/**
 * struct tgf_med - the FF-A mediator (one per hypervisor).
 * @tx, @rx: its own RX/TX pair (mediator shm, registered with the SPMC);
 *           @txrx_lock is the one lock held across an SMC: the fast,
 *           RPC-free memory-management and discovery calls that use them.
 */
struct tgf_med {
	struct tg_port port;
	uint32_t spmc_version;
	uint16_t own_id; /* FFA_ID_GET: the hypervisor's endpoint id */
	uint16_t spmc_id;
	uint8_t *tx, *rx;
	uint64_t tx_pa, rx_pa;
	uint32_t rxtx_pages;
	struct tg_lock *txrx_lock;
	uint8_t *dummy; /* a page to finish a transaction a guest left */
	uint64_t dummy_pa;
	bool feat[TGF_FEAT_COUNT];
	uint32_t nsps;
	struct tgf_sp sps[TGF_MAX_SPS];
	uint16_t optee_id; /* OP-TEE's partition, 0 if none */
	bool spmc_frags_ok; /* the SPMC takes fragmented shares */
	_Atomic uint64_t next_hyp_handle;
	const struct tgf_sp *optee_sp;
	struct tg_limits defaults;
};

struct tgf_share {
	struct tgf_share *next;
	uint64_t handle;
	uint32_t npages;
	uint32_t unpinned; /* teardown progress */
	uint64_t *pa;	   /* pinned pages (port memory) */
	bool lend;
	bool orphan;	     /* the SPMC refused to give it back */
	bool to_optee;	     /* OP-TEE is a receiver */
	bool unregistered;   /* teardown: OP-TEE was told to let go */
	bool reclaimed;	     /* teardown: back from the SPMC, unpinning */
	/*
	 * A guest's FFA_MEM_RECLAIM is with the SPMC: the share stays in
	 * the table (a recovery must find it: the SPMC may have it still)
	 * but no other call may use it.
	 */
	bool reclaiming;
};

/* One guest constituent range, for the overlap check. */
struct tgf_range {
	uint64_t ipa;
	uint64_t pages;
};

/*
 * A share or lend whose guest fragments are still coming. The SPMC side
 * runs in step: each guest fragment is translated and sent on before the
 * guest gets its FRAG_RX, with the SPMC's handle in it.
 */
struct tgf_xact {
	bool active;
	bool lend;
	bool to_optee;
	bool have_handle;   /* the guest was given @handle */
	bool spmc_started;  /* the SPMC has seen its first fragment */
	/*
	 * An SPMC that refuses fragments (OP-TEE 4.10): the guest's
	 * fragments are all taken first and the SPMC gets one message, with
	 * a handle the mediator allocated (bit 63).
	 */
	bool hold;
	uint64_t handle;
	uint32_t guest_total, guest_received;
	uint32_t ranges_left;
	uint32_t npages, pages_done;
	uint64_t *pa; /* npages, pinned so far */
	struct tgf_range *ranges;
	uint32_t nranges, ranges_cap;
	uint32_t spmc_total, spmc_sent;
	/* the header, rewritten: copied to the SPMC's TX first */
	uint8_t head[FFA_MEM_TRANS_SIZE +
		     TGF_MAX_RECEIVERS * FFA_MEM_ACCESS_1_2_SIZE +
		     FFA_MEM_COMPOSITE_SIZE];
	uint32_t head_len;
};

enum tgf_destroy_phase {
	TGF_DESTROY_QUIESCE = 0,
	TGF_DESTROY_THREADS,
	TGF_DESTROY_XACT,
	TGF_DESTROY_SHARES,
	TGF_DESTROY_NOTIF,
	TGF_DESTROY_VM,
	TGF_DESTROY_ORPHANS,
	TGF_DESTROY_RXTX,
	TGF_DESTROY_DONE,
};

/**
 * struct tgf_dom - one guest (VM) of the FF-A mediator.
 * @busy: one vCPU at a time uses the guest's TX copy and the transaction
 *        (a second one gets FFA_RET_BUSY); taken and dropped under @lock.
 */
struct tgf_dom {
	struct tgf_med *fm;
	/*
	 * The reference a caller of tgf_handle_put() holds on the domain,
	 * dropped when the call is done: the core's slot counter, or
	 * @own_ref when called through tgf_handle().
	 */
	_Atomic uint32_t *ref;
	_Atomic uint32_t own_ref;
	uint16_t id;
	struct tg_lock *lock;
	struct tg_limits limits;
	_Atomic uint32_t version; /* negotiated; 0: none yet */
	uint32_t version_asked;

	/* The guest's RX/TX (pinned) and the mediator's copy of its TX. */
	uint64_t tx_ipa, rx_ipa;
	uint64_t rxtx_pa[2 * TGF_MAX_GUEST_RXTX_PAGES];
	uint32_t rxtx_pages;
	bool rx_full; /* the guest owns a message in its RX */
	uint8_t *txcopy; /* txcopy_pages pages, allocated at RXTX_MAP */
	uint32_t txcopy_pages;
	bool busy;

	struct tgf_share *shares[TGF_SHARE_BUCKETS];
	uint32_t nshares;
	uint32_t nshares_optee; /* of which with OP-TEE (incl. in flight) */
	struct tgf_xact xact;

	/* Notifications: bits bound, and the partition each was bound to. */
	bool bitmap_created;
	uint64_t bound;
	uint16_t bound_by[64];
	_Atomic bool notif_pending;

	/* OP-TEE threads this guest holds suspended (resume info). */
	uint32_t suspended[TGF_MAX_THREADS];
	uint32_t nsuspended;

	/* Statistics (as struct tg_domain_stats). */
	_Atomic uint64_t calls[TG_KIND_COUNT];
	_Atomic uint64_t refused[TG_REFUSE_COUNT];
	_Atomic uint64_t pinned_pages;

	enum tgf_destroy_phase destroy_phase;
	uint32_t destroy_cursor;
	uint32_t destroy_retries;
};

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline void tgf_count(struct tgf_dom *d, enum tg_call_kind k)
{
	atomic_fetch_add_explicit(&d->calls[k], 1, memory_order_relaxed);
}

/* ---- ffa.c ------------------------------------------------------------- */
int tgf_probe(const struct tg_port *port, const struct tg_limits *defaults,
	      struct tgf_med **out, struct tg_tee_info *info);
void tgf_fini(struct tgf_med *fm);
int tgf_domain_init(struct tgf_med *fm, uint32_t client_id,
		    const struct tg_limits *limits, struct tgf_dom **out);
bool tgf_handle(struct tgf_med *fm, struct tgf_dom *d, uint32_t vcpu,
		uint64_t regs[8]);
bool tgf_handle_put(void *pd, uint64_t regs[8]);
void tgf_domain_stats(struct tgf_dom *d, struct tg_domain_stats *out);
void tgf_notif_irq(struct tgf_med *fm,
		   void (*pending)(void *arg, uint32_t vm_id), void *arg);
void tgf_domain_notif_pending(struct tgf_dom *d);

int32_t tgf_vm_announce(struct tgf_med *fm, uint16_t vm, bool created,
			uint32_t upto);

/* helpers shared by the files of src/ffa */
static inline void tgf_smc(struct tgf_med *fm, uint64_t regs[8])
{
	fm->port.smc(fm->port.ctx, regs);
}

void tgf_error(uint64_t regs[8], int32_t err);
void tgf_success(uint64_t regs[8], uint64_t w2, uint64_t w3);
int32_t tgf_status(const uint64_t regs[8]);
const struct tgf_sp *tgf_sp_find(const struct tgf_med *fm, uint16_t id);
void *tgf_zalloc(struct tgf_med *fm, size_t size);
void tgf_free(struct tgf_med *fm, void *p, size_t size);
void tgf_refuse(struct tgf_dom *d, enum tg_refusal r);
void tgf_log(struct tgf_dom *d, const char *msg, uint64_t v);
void tgf_lock(struct tgf_dom *d);
void tgf_unlock(struct tgf_dom *d);
void tgf_unpin(struct tgf_dom *d, const uint64_t *pa, uint32_t n);

/* ---- ffa_mem.c ---------------------------------------------------------- */
void tgf_mem_share(struct tgf_dom *d, uint64_t regs[8]);
void tgf_mem_frag_tx(struct tgf_dom *d, uint64_t regs[8]);
void tgf_mem_reclaim(struct tgf_dom *d, uint64_t regs[8]);
struct tgf_share *tgf_share_find(struct tgf_dom *d, uint64_t handle);
void tgf_share_link(struct tgf_dom *d, struct tgf_share *s);
void tgf_share_unlink(struct tgf_dom *d, struct tgf_share *s);
void tgf_share_free(struct tgf_dom *d, struct tgf_share *s);
int32_t tgf_reclaim_smc(struct tgf_med *fm, uint64_t handle);
void tgf_xact_abort(struct tgf_dom *d);
void tgf_xact_free(struct tgf_dom *d);
bool tgf_xact_keep(struct tgf_dom *d, uint64_t h);

/* ---- ffa_optee.c -------------------------------------------------------- */
bool tgf_optee_before(struct tgf_dom *d, uint64_t regs[8]);
void tgf_optee_after(struct tgf_dom *d, uint32_t req_w3, uint32_t req_w7,
		     const uint64_t resp[8]);
int tgf_optee_end_thread(struct tgf_dom *d);
void tgf_optee_unregister(struct tgf_dom *d, uint64_t handle);

/* ---- ffa_recover.c ------------------------------------------------------ */
void tgf_recover(struct tgf_med *fm, const struct tg_port *port,
		 const struct tg_recover_ops *ops);
int tgf_domain_recover(struct tgf_dom *d, const struct tg_recover_info *ri,
		       const struct tg_recover_ops *ops,
		       struct tg_recover_stats *out);

/* ---- ffa_teardown.c ----------------------------------------------------- */
int tgf_domain_destroy_step(struct tgf_med *fm, struct tgf_dom *d);
void tgf_domain_free(struct tgf_med *fm, struct tgf_dom *d);

#endif /* TEEGATE_FFA_MED_H */
