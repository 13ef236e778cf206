/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mediator core internals: the mediator, the domain table and the
 * per-domain OP-TEE state. Freestanding: no libc but memcpy/memset/memcmp.
 */
#ifndef TEEGATE_CORE_INTERNAL_H
#define TEEGATE_CORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>
#include <teegate/port.h>

#include "proto.h"

#define TG_MAX_CLIENT_ID 0xFFFFu
#define TG_DEFAULT_MAX_DOMAINS 64u
#define TG_DEFAULT_DESTROY_STEP_PAGES 1024u
/* The RPC argument the mediator shadows has at most this many params. */
#define TG_MAX_RPC_PARAMS 8u
#define TG_SHM_HASH_BITS 4u /* 16 buckets for up to max_shm_bufs (64) */
#define TG_SHM_HASH_BUCKETS (1u << TG_SHM_HASH_BITS)
/* Call slots per domain: the slot index must fit a resume handle's byte. */
#define TG_MAX_CALLS_PER_DOMAIN 255u
/* Results of calls taken back that a domain has not collected yet. */
#define TG_ENDED_CALLS 8u

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- registered shared memory (REGISTER_SHM) ---------------------------- */

enum shm_state {
	SHM_REGISTERING,   /* REGISTER_SHM in flight: cookie reserved */
	SHM_READY,	   /* usable by RMEM params and REGD_ARG */
	SHM_UNREGISTERING, /* UNREGISTER_SHM in flight */
	SHM_ORPHANED, /* TEE refused to drop it: unpin after VM_DESTROYED */
};

/**
 * struct shm_buf - a guest buffer registered with the TEE.
 * @cookie:    chosen by the guest; unique within the domain.
 * @list:      the shadow page list given to the TEE; its entries are the
 *             pinned PAs (511 per list page). The TEE reads it only during
 *             the REGISTER_SHM; once that commits the PAs move to @pa and
 *             the list pages go back (shm_buf_compact()), unless there was
 *             no memory for @pa: then @list stays the record.
 * @pa:        the pinned PAs, npages entries: the record of what to unpin.
 * @guest_ipa: the guest's page IPAs, for CALL_WITH_REGD_ARG.
 * @in_use:    in-flight calls referring to it (RMEM or REGD_ARG).
 */
struct shm_buf {
	struct shm_buf *next;
	uint64_t cookie;
	enum shm_state state;
	uint32_t in_use;
	uint32_t npages;
	uint32_t page_offset; /* offset of byte 0 in the first page */
	uint64_t size;
	uint64_t *list; /* shadow page list (mediator shm) */
	uint64_t list_pa;
	uint32_t list_pages;
	uint32_t unpinned;   /* destroy progress */
	uint64_t *guest_ipa; /* npages entries (mediator-private) */
	uint64_t *pa;	     /* npages entries (private), or NULL */
};

/* ---- RPC buffers ------------------------------------------------------- */

struct optee_call;

enum rpc_buf_kind {
	RPC_BUF_ARG, /* RPC ALLOC: holds RPC arguments; the TEE sees a shadow */
	RPC_BUF_SHM, /* RPC CMD SHM_ALLOC: payload pages the TEE reads */
};

/**
 * struct rpc_buf - a buffer the guest handed the TEE in an RPC answer.
 * For RPC_BUF_ARG the guest page is pinned but the TEE only ever sees
 * @shadow, so that the guest cannot change an RPC argument under the TEE.
 */
struct rpc_buf {
	struct rpc_buf *next;
	enum rpc_buf_kind kind;
	/* ARG: the call whose TEE thread asked for it. OP-TEE's RPC
	 * arguments are per thread, and the guest chooses cookies, so a
	 * cookie alone must never name another call's buffer. */
	const struct optee_call *owner;
	uint64_t cookie;
	uint64_t size;
	uint32_t npages;
	uint32_t page_offset;
	uint64_t *list; /* SHM: shadow page list, entries = pinned PAs */
	uint64_t list_pa;
	uint32_t list_pages;
	uint64_t *guest_ipa; /* SHM: page IPAs (reverse translation) */
	uint64_t arg_ipa;    /* ARG: the guest page */
	uint64_t arg_pa;     /* ARG: its pinned PA */
	void *shadow;	     /* ARG: mediator page the TEE uses */
	uint64_t shadow_pa;
};

/* ---- std calls ----------------------------------------------------------- */

/*
 * How a malformed call is answered: in a0 (SMC return code), or with
 * a0 = OK and the TEEC error in the message's ret.
 */
struct msg_err {
	uint32_t ret;  /* 0 when the error is in a0 */
	uint16_t a0;   /* OPTEE_SMC_RETURN_OK or a small error code */
	uint16_t why;  /* enum tg_refusal */
};

/*
 * The call state machine. A call slot moves only along these edges
 * (call_transition() refuses every other one):
 *
 *   FREE ──alloc──► RUNNING ──TEE returns an RPC──► SUSPENDED
 *                     ▲  │                              │
 *                     │  └──TEE completes──► FREE       │
 *                     └────────guest RETURN_FROM_RPC────┘
 *                          (or destroy's error answer)
 */
enum call_state {
	CALL_FREE = 0,
	CALL_RUNNING,
	CALL_SUSPENDED,
};

enum call_entry {
	ENTRY_ARG,	/* CALL_WITH_ARG */
	ENTRY_RPC_ARG,	/* CALL_WITH_RPC_ARG */
	ENTRY_REGD_ARG, /* CALL_WITH_REGD_ARG */
	ENTRY_INTERNAL, /* issued by the mediator itself (teardown) */
};

/* A resource a call holds until it completes. */
enum call_res_kind {
	RES_TMEM, /* pinned pages + shadow page list of a NONCONTIG TMEM */
	RES_RMEM, /* a reference on a registered buffer */
};

struct call_res {
	struct call_res *next;
	enum call_res_kind kind;
	uint32_t npages;
	uint64_t *list; /* RES_TMEM: shadow list, entries = pinned PAs */
	uint32_t list_pages;
	struct shm_buf *buf; /* RES_RMEM */
};

/**
 * struct optee_call - one std call of a guest, from its first SMC until
 * the TEE completes it. While in flight it holds a shadow page (from the
 * mediator's pool, see shadow.c) with the message (and the RPC argument
 * for the RPC_ARG forms) that the TEE actually reads; a FREE slot holds
 * none.
 */
struct optee_call {
	_Atomic uint32_t
		state; /* enum call_state, moved by call_transition() */
	/*
	 * What the guest sees in a3 while the call waits on an RPC: the slot
	 * index in bits 7:0 and a generation above, new at each suspension.
	 * OP-TEE's thread ids are global, so showing them would tell a guest
	 * which threads other guests use.
	 */
	_Atomic uint32_t resume_handle;
	uint8_t index;	      /* slot index, < TG_MAX_CALLS_PER_DOMAIN */
	uint8_t pad;
	uint16_t rpc_func;    /* the RPC the TEE is waiting on */
	/* Set for each new call: mode = 0, then entry unless ENTRY_ARG. */
	union {
		struct {
			uint8_t entry;	   /* enum call_entry */
			bool supplied_rpc; /* RPC arg follows the message */
			bool opening;	   /* holds a reserved session */
			/*
			 * How the completion goes (enum call_slowness,
			 * bits): CALL_SLOW is set by every path that may
			 * commit or hold something (any message but an
			 * INVOKE of NONE and VALUE_* params, a REGD_ARG
			 * buffer, the mediator's own calls) and sends it to
			 * msg_complete_slow(). CALL_OUTPUTS says that
			 * out_mask and out_value were set for this call;
			 * without it they are stale and never read.
			 */
			uint8_t slow;
		};
		uint32_t mode;
	};
	/*
	 * cmd, session and num_params are set together on the hot path:
	 * interleaved with fields set elsewhere, so that gcc does not pair
	 * their stores through SIMD registers (more instructions).
	 */
	uint32_t cmd;
	uint32_t tee_thread;  /* OP-TEE's thread id, never shown to guests */
	uint32_t session;
	uint32_t rpc_a1;      /* the TEE's a1, a2 of that RPC */
	uint32_t num_params;
	uint32_t rpc_a2;
	struct msg_err err;   /* how a refused call is answered */
	uint64_t guest_arg_ipa; /* where outputs are copied back */
	struct optee_msg_arg *shadow; /* mediator shm page, NULL when FREE */
	uint64_t shadow_bit; /* its bit in the pool, 0 if not the pool's */
	struct shm_buf *regd_buf;
	struct shm_buf *new_buf; /* REGISTER/UNREGISTER_SHM target */
	struct call_res *res;
	/*
	 * Output parameters, from the types validated on the way in (bit i:
	 * param i), and which of them are values: copy_back() copies only
	 * these fields, whatever the TEE left in the shadow.
	 */
	uint64_t out_mask[2];
	uint64_t out_value[2];
};

_Static_assert(OPTEE_MSG_MAX_NUM_PARAMS <= 128, "out_mask holds 128 bits");
/* A power of two keeps &calls[i] a shift (resume handles, call_alloc()). */
_Static_assert(sizeof(struct optee_call) == 128 || sizeof(void *) != 8,
	       "struct optee_call is 128 bytes on 64-bit");
_Static_assert(TG_MAX_CALLS_PER_DOMAIN <= 256, "a slot index fits a byte");

enum call_slowness {
	CALL_FAST = 0,	  /* nothing but ret to copy back */
	CALL_OUTPUTS = 1, /* out_mask/out_value are this call's: copy them */
	CALL_SLOW = 2,	  /* anything else: msg_complete_slow() */
};

/*
 * What a call slot keeps off the call path (struct tg_domain.sides; not in
 * struct optee_call, which the hot path keeps at 128 bytes):
 * - fair share (src/optee/fair.c): the resume handle a refused domain
 *   first saw the call suspended with, and when (both under the domain
 *   lock); the handle of a call being taken back from its guest, else 0;
 * - recovery (recover.c): the last session or buffer a call of the slot
 *   committed (OPEN_SESSION or REGISTER_SHM: cmd, the session id or
 *   cookie, and the shadow page the TEE answered in), so that a recovery
 *   can undo it when the answer never reached the guest.
 */
struct call_side {
	uint64_t sit_since;
	uint32_t sit_handle;
	_Atomic uint32_t taken;
	const void *commit_shadow;
	uint64_t commit_ref;
	uint32_t commit_cmd;
};

/* ---- domains ------------------------------------------------------------- */

enum slot_state {
	SLOT_EMPTY = 0, /* never used: ends a probe sequence */
	SLOT_CREATING,
	SLOT_LIVE,	/* served by the built-in protocol's fast path */
	SLOT_DYING,   /* being destroyed: no new calls */
	SLOT_FREEING, /* destroyed, waiting for readers to leave */
	SLOT_TOMB,    /* was used: probe sequences continue past it */
	/*
	 * Live, served through struct tg_proto: a state of its own, so that
	 * tg_handle_smc()'s fast path (state == SLOT_LIVE) misses and goes
	 * to the ops without a test on the built-in protocol's path.
	 */
	SLOT_LIVE_OPS,
};

enum destroy_phase {
	DESTROY_QUIESCE = 0,
	DESTROY_CALLS,
	DESTROY_SESSIONS,
	DESTROY_BUFS,
	DESTROY_RPC_BUFS,
	DESTROY_VM,
	DESTROY_ORPHANS,
	DESTROY_FREE,
};

struct tg_counters {
	_Atomic uint64_t calls[TG_KIND_COUNT];
	_Atomic uint64_t refused[TG_REFUSE_COUNT];
};

struct tg_domain {
	_Atomic uint32_t state;
	_Atomic uint32_t client_id;
	_Atomic uint32_t active; /* vCPUs inside tg_handle_smc() */
	struct tg_mediator *med;
	struct tg_lock *lock; /* protects everything below */
	struct tg_limits limits;
	struct tg_counters ctr;
	_Atomic uint64_t pinned_pages;
	_Atomic uint64_t shadow_pages;
	bool async_notif;
	/*
	 * The TEE refused this domain a thread while it held none: when, in
	 * units of 2^20 ns (1 without a clock; 0: not waiting), and the low
	 * bits of its std call count then. No CANCEL goes past a cap while it
	 * waits (fair.c). Both in padding: the domain's size is on the path
	 * of every SMC (its slot's address).
	 */
	_Atomic uint32_t refused_at;

	struct optee_call *calls; /* limits.max_calls slots */
	_Atomic uint32_t calls_busy;
	/*
	 * TEE threads this domain may hold at once: its limit, and never all
	 * of the TEE's threads (fair sharing, see domain.c:update_call_caps()
	 * and src/optee/fair.c). @call_cap is what call_alloc() checks: 0
	 * while the domain is held back after a thread was taken from it
	 * (until @held_until, table lock), @fair_cap otherwise.
	 */
	_Atomic uint32_t call_cap;
	_Atomic uint32_t fair_cap;
	struct call_side *sides; /* limits.max_calls entries */
	_Atomic uint64_t held_until;
	_Atomic uint64_t threads_taken;
	/* Calls taken back and completed: the result a guest collects with
	 * its resume handle (fair.c; under the lock, oldest overwritten). */
	struct {
		uint32_t handle, a0;
		bool valid;
	} ended[TG_ENDED_CALLS];
	uint32_t ended_next;
	_Atomic uint32_t refused_calls;

	struct shm_buf *shm[TG_SHM_HASH_BUCKETS];
	uint32_t shm_count;
	struct shm_buf *dead_bufs; /* unregistered in teardown, to unpin */
	struct rpc_buf *rpc_bufs;
	uint32_t rpc_count;

	/*
	 * Open sessions: written under the lock, read without it (0 marks a
	 * free entry; OP-TEE never hands out session 0). Entries at and
	 * above session_hwm are all 0.
	 */
	_Atomic uint32_t *sessions;
	_Atomic uint32_t session_hwm;
	uint32_t session_count;
	uint32_t sessions_reserved; /* OPEN_SESSION in flight */

	enum destroy_phase destroy_phase;
	uint32_t destroy_retries;
	_Atomic uint32_t destroy_busy; /* one destroy step at a time */

	void *pd; /* the domain of a protocol behind struct tg_proto */
} __attribute__((aligned(512)));

/*
 * A slot's address is slots + hash * sizeof(struct tg_domain) on every
 * call: a power of two keeps that one shift (tg_handle_smc()'s budget).
 */
_Static_assert((sizeof(struct tg_domain) & (sizeof(struct tg_domain) - 1)) ==
		       0,
	       "struct tg_domain is a power of two");

/*
 * The shadow pages of calls in flight, shared by every domain: a domain
 * holds none while it has no call in flight. Bit i of @used: va[i], pa[i] is
 * allocated (or being allocated); of @free: va[i], pa[i] is allocated and no
 * call holds it. Pages are added up to @cap and freed only with the
 * mediator; beyond @cap a call gets a page of its own (shadow.c).
 */
#define TG_SHADOW_POOL_MAX 64u

struct shadow_pool {
	_Atomic uint64_t free;
	_Atomic uint64_t used;
	uint32_t cap;
	void *va[TG_SHADOW_POOL_MAX]; /* NULL: not allocated (yet) */
	uint64_t pa[TG_SHADOW_POOL_MAX];
};

struct tg_mediator {
	struct tg_port port;
	struct tg_config cfg;
	struct tg_tee_info tee;
	struct tg_lock *table_lock; /* domain create/destroy only */
	struct tg_domain *slots;
	uint32_t nslots; /* power of two */
	uint32_t slot_mask; /* nslots - 1 */
	uint32_t live_domains;
	uint32_t calls_count; /* what CALLS_COUNT answers */
	struct shadow_pool shadow;
	enum tg_protocol protocol;
	const struct tg_proto *proto; /* NULL: the built-in protocol */
	void *pm;		      /* the protocol's mediator */
	uint32_t live; /* SLOT_LIVE, or SLOT_LIVE_OPS behind the ops */
	bool (*handle_put)(void *pd, uint64_t regs[8]); /* proto's, cached */
};

/* ---- helpers used across files -------------------------------------------- */

static inline void ctr_call(struct tg_domain *d, enum tg_call_kind k)
{
	atomic_fetch_add_explicit(&d->ctr.calls[k], 1, memory_order_relaxed);
}

static inline void ctr_refuse(struct tg_domain *d, enum tg_refusal r)
{
	atomic_fetch_add_explicit(&d->ctr.refused[r], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->ctr.calls[TG_KIND_REFUSED], 1,
				  memory_order_relaxed);
}

static inline void dom_lock(struct tg_domain *d)
{
	d->med->port.lock(d->med->port.ctx, d->lock);
}

static inline void dom_unlock(struct tg_domain *d)
{
	d->med->port.unlock(d->med->port.ctx, d->lock);
}

static inline uint32_t dom_id(struct tg_domain *d)
{
	return atomic_load_explicit(&d->client_id, memory_order_relaxed);
}

static inline uint64_t reg_pair(uint64_t hi, uint64_t lo)
{
	return ((hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
}

static inline void reg_pair_split(uint64_t v, uint64_t *hi, uint64_t *lo)
{
	*hi = v >> 32;
	*lo = v & 0xFFFFFFFFu;
}

void tg_log(struct tg_mediator *med, enum tg_log_level lvl, uint32_t client,
	    const char *msg, uint64_t value);
void *tg_zalloc(struct tg_mediator *med, size_t size);
void tg_free(struct tg_mediator *med, void *p, size_t size);

/* src/optee: the OP-TEE mediator proper. */
int optee_probe(struct tg_mediator *med);
int optee_domain_init(struct tg_domain *d);
void optee_domain_free(struct tg_domain *d);
int optee_domain_destroy_step(struct tg_domain *d);
uint32_t optee_calls_count(void);
void shadow_pool_init(struct tg_mediator *med);
void shadow_pool_drain(struct tg_mediator *med);
void shadow_pool_free(struct tg_mediator *med);

/* src/core/domain.c */
struct tg_domain *domain_get_slow(struct tg_mediator *med, uint32_t client_id);

static inline uint32_t slot_hash(uint32_t client_id, uint32_t mask)
{
	return (client_id * 2654435761u >> 8) & mask;
}

/*
 * domain_get() - reference the LIVE domain of @client_id, or NULL.
 * The fast path is the first probe; see domain.c for the protocol.
 */
static inline struct tg_domain *domain_get(struct tg_mediator *med,
					   uint32_t client_id)
{
	struct tg_domain *d =
		&med->slots[slot_hash(client_id, med->slot_mask)];

	/*
	 * Announce first, then check: on a miss the count of a slot that is
	 * not ours rose for a moment, which only makes a destroyer of that
	 * slot wait a little longer.
	 */
	atomic_fetch_add(&d->active, 1);
	if (likely(atomic_load(&d->state) == med->live &&
		   atomic_load(&d->client_id) == client_id))
		return d;
	atomic_fetch_sub(&d->active, 1);
	return domain_get_slow(med, client_id);
}

static inline void domain_put(struct tg_domain *d)
{
	atomic_fetch_sub_explicit(&d->active, 1, memory_order_release);
}

#endif /* TEEGATE_CORE_INTERNAL_H */
