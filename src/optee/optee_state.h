/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OP-TEE mediator's state: its types, and the fields it keeps inline
 * in the core's struct tg_domain and struct tg_mediator (it is the core's
 * built-in protocol: its fast path reaches them at constant offsets from
 * a slot, see src/core/internal.h). Included by the core through
 * src/builtin_proto.h, so it includes nothing of the core's.
 */
#ifndef TEEGATE_OPTEE_STATE_H
#define TEEGATE_OPTEE_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

/* The RPC argument the mediator shadows has at most this many params. */
#define TG_MAX_RPC_PARAMS 8u
#define TG_SHM_HASH_BITS 4u /* 16 buckets for up to max_shm_bufs (64) */
#define TG_SHM_HASH_BUCKETS (1u << TG_SHM_HASH_BITS)
/* Call slots per domain: the slot index must fit a resume handle's byte. */
#define TG_MAX_CALLS_PER_DOMAIN 255u
/* Results of calls taken back that a domain has not collected yet. */
#define TG_ENDED_CALLS 8u

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

/*
 * The shadow pages of calls in flight, shared by every domain: a domain
 * holds none while it has no call in flight. Bit i of @used: va[i], pa[i] is
 * allocated (or being allocated); of a stripe's @free: va[i], pa[i] is
 * allocated and no call holds it. A free bit is in one stripe at most.
 * Pages are added up to @cap and freed only with the mediator; beyond
 * @cap a call gets a page of its own (shadow.c).
 */
#define TG_SHADOW_POOL_MAX 64u
#define TG_SHADOW_STRIPES 4u /* a power of two */

struct shadow_pool {
	/*
	 * A std call writes its stripe's @free twice (take, give back), and
	 * the fields around the pool are read on every call (the domain
	 * table, the protocol, va[], pa[]). A domain takes from and gives
	 * back to the stripe of its client id, so guests on different cores
	 * write different lines, and a page goes back to the domain, and
	 * the core, that used it last. Each stripe is a line of its own:
	 * 56 bytes before the first and after each keep every @free alone
	 * on its line whatever the alignment of the mediator (the port's
	 * allocation; 8-byte aligned at least).
	 */
	uint64_t line_before_[7];
	struct {
		_Atomic uint64_t free;
		uint64_t line_after_[7];
	} stripe[TG_SHADOW_STRIPES];
	_Atomic uint64_t used; /* written when the pool grows only */
	uint32_t cap;
	void *va[TG_SHADOW_POOL_MAX]; /* NULL: not allocated (yet) */
	uint64_t pa[TG_SHADOW_POOL_MAX];
};

/* The OP-TEE mediator's fields of struct tg_domain. */
#define TG_BUILTIN_DOMAIN_FIELDS                                              \
	struct tg_counters ctr;                                               \
	_Atomic uint64_t pinned_pages;                                        \
	_Atomic uint64_t shadow_pages;                                        \
	bool async_notif;                                                     \
	/*                                                                    \
	 * The TEE refused this domain a thread while it held none: when, in \
	 * units of 2^20 ns (1 without a clock; 0: not waiting), and the low \
	 * bits of its std call count then. No CANCEL goes past a cap while  \
	 * it waits (fair.c).                                                 \
	 */                                                                   \
	_Atomic uint32_t refused_at;                                          \
	struct optee_call *calls; /* limits.max_calls slots */                \
	_Atomic uint32_t calls_busy;                                          \
	/* the shadow pool's stripe it takes from (shadow.c) */                \
	_Atomic uint64_t *shadow_free;                                        \
	struct call_side *sides; /* limits.max_calls entries */               \
	/* Calls taken back and completed: the result a guest collects with  \
	 * its resume handle (fair.c; under the lock, oldest overwritten). */ \
	struct {                                                              \
		uint32_t handle, a0;                                          \
		bool valid;                                                   \
	} ended[TG_ENDED_CALLS];                                              \
	uint32_t ended_next;                                                  \
	_Atomic uint32_t refused_calls;                                       \
	struct shm_buf *shm[TG_SHM_HASH_BUCKETS];                             \
	uint32_t shm_count;                                                   \
	struct shm_buf *dead_bufs; /* unregistered in teardown, to unpin */   \
	struct rpc_buf *rpc_bufs;                                             \
	uint32_t rpc_count;                                                   \
	/*                                                                    \
	 * Open sessions: written under the lock, read without it (0 marks a \
	 * free entry; OP-TEE never hands out session 0). Entries at and     \
	 * above session_hwm are all 0.                                       \
	 */                                                                   \
	_Atomic uint32_t *sessions;                                           \
	_Atomic uint32_t session_hwm;                                         \
	uint32_t session_count;                                               \
	uint32_t sessions_reserved; /* OPEN_SESSION in flight */              \
	enum destroy_phase destroy_phase;                                     \
	uint32_t destroy_retries;

/* The OP-TEE mediator's fields of struct tg_mediator. */
#define TG_BUILTIN_MEDIATOR_FIELDS                                            \
	uint32_t calls_count; /* what CALLS_COUNT answers */                  \
	struct shadow_pool shadow;

#endif /* TEEGATE_OPTEE_STATE_H */
