/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal state of the OP-TEE model.
 *
 * Locks. With the SMC ABI, as in OP-TEE, the partitions of different
 * guests are served in parallel:
 * - a guest's SMC holds its partition's lock (struct guest.lock) for the
 *   whole SMC, and no other: it touches its partition and the threads it
 *   holds;
 * - the hypervisor's SMC (VM_CREATED, VM_DESTROYED, ...) holds the model
 *   lock (struct tg_model.lock), then the lock of the partition it
 *   changes. The model lock orders partition creation and destruction;
 * - the thread table is shared: a thread is taken by a compare-and-swap
 *   of its @state from THREAD_FREE, and given back by the store of
 *   THREAD_FREE, its last. In between only the holder's partition writes
 *   it; @state, @guest and @client_id are atomic, so that other
 *   partitions may look (ETHREAD_LIMIT, ERESUME, EBUSY);
 * - session ids and the pending interrupt are atomic.
 * Behind the SPMD (cfg.ffa) every SMC holds the model lock, and no
 * partition lock is taken: the FF-A model is serialised as before.
 * Nothing outside the model is called with a lock held except
 * tg_sw_mem.map(), which is short, safe from any thread, and never calls
 * back into the model.
 *
 * Every symbol the model's objects export besides the tg_model_* API
 * starts with tgm_, so that the model links with the mediator (which has
 * its own std_call() and friends) into one program.
 */
#ifndef TEEGATE_MODEL_INTERNAL_H
#define TEEGATE_MODEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>
#include <teegate/tee_model.h>

#define MODEL_PAGE_SIZE OPTEE_MSG_NONCONTIG_PAGE_SIZE
#define MODEL_PAGE_SHIFT OPTEE_MSG_PAGE_SHIFT
#define MODEL_PAGE_MASK ((uint64_t)OPTEE_MSG_PAGE_MASK)

#define MODEL_DEFAULT_THREADS 2u
#define MODEL_MAX_THREADS 64u
#define MODEL_DEFAULT_GUESTS 16u
#define MODEL_MAX_GUESTS 256u
/* TEE_NUM_PARAMS: what a TA sees. */
#define MODEL_TA_NUM_PARAMS 4u
/* Largest memref the model accepts (bigbuf needs >= 16 MiB). */
#define MODEL_MAX_MEMREF_SIZE (256ull << 20)
/* Registered buffers per guest. */
#define MODEL_MAX_REG_SHM 1024u
/* Largest async notification value (EXCHANGE_CAPABILITIES a2). */
#define MODEL_MAX_NOTIF_VALUE 0x42u
/* RPC argument: header + 4 parameters. */
#define MODEL_RPC_ARG_SIZE OPTEE_MSG_GET_ARG_SIZE(OPTEE_MSG_RPC_NUM_PARAMS)
/* OP-TEE version the model reports (GET_OS_REVISION). */
#define MODEL_OS_REVISION_MAJOR 4u
#define MODEL_OS_REVISION_MINOR 10u
#define MODEL_OS_BUILD_ID 0u

/* TA-level parameter types (GlobalPlatform TEE_PARAM_TYPE_*). */
enum ta_param_type {
	TA_PARAM_NONE = 0,
	TA_PARAM_VALUE_INPUT = 1,
	TA_PARAM_VALUE_OUTPUT = 2,
	TA_PARAM_VALUE_INOUT = 3,
	TA_PARAM_MEMREF_INPUT = 5,
	TA_PARAM_MEMREF_OUTPUT = 6,
	TA_PARAM_MEMREF_INOUT = 7,
};

/*
 * struct ns_span - a byte range of normal-world memory described by the
 * pages that back it: byte i of the range is at byte (offs + i) of the
 * virtual concatenation of the pages. Pages are checked to be 4 KiB aligned
 * when the span is built; every access still goes through tg_sw_mem.map(),
 * which may refuse (then the access fails).
 *
 * @pages:	page PAs, or NULL to use @inline_pages (small spans)
 * @owned:	@pages was allocated for this span and is freed with it
 */
struct ns_span {
	uint64_t *pages;
	uint64_t inline_pages[2];
	uint64_t npages;
	uint64_t offs;
	uint64_t size;
	bool owned;
};

/*
 * struct reg_shm - a buffer the normal world registered with REGISTER_SHM.
 * @users counts threads currently using it (RMEM parameters, REGD_ARG);
 * UNREGISTER_SHM refuses with BUSY while it is non-zero.
 * @leaked: what a NONCONTIG TMEM left behind (cfg.leak_noncontig_tmem):
 * found by its cookie like a registered buffer, never unregistered.
 */
struct reg_shm {
	struct reg_shm *next;
	uint64_t cookie;
	struct ns_span span;
	uint32_t users;
	bool leaked;
	/*
	 * FF-A (cfg.ffa): a share or lend received with FFA_MEM_SHARE/LEND;
	 * @cookie is its handle. @ffa_registered: OP-TEE used it by cookie,
	 * so reclaim is DENIED until OPTEE_FFA_UNREGISTER_SHM (or OP-TEE's
	 * own SHM_FREE) drops that. @ffa_page_offset: the internal offset
	 * of its current use (fixed while @users is not zero).
	 */
	bool ffa;
	bool ffa_registered;
	bool ffa_lend;
	uint16_t ffa_page_offset;
};

/* Heap that OP-TEE 4.10 loses per leaked NONCONTIG TMEM of @n pages
 * (struct mobj_reg_shm and its page array; 96 bytes measured for 1). */
#define MODEL_TMEM_LEAK_BYTES(n) (88u + 8u * (uint64_t)(n))

struct ta_desc;

struct session {
	struct session *next;
	uint32_t id;
	const struct ta_desc *ta;
	struct model_thread *busy_in; /* thread running a command */
	bool cancel_requested;
	uint32_t cancel_id;
};

/* A cached RPC argument buffer (ENABLE_SHM_CACHE). */
struct cached_rpc_arg {
	uint64_t pa;
	uint64_t cookie;
};

/*
 * struct guest - one client's partition: what OP-TEE keeps per guest with
 * CFG_NS_VIRTUALIZATION. Without virtualization there is exactly one.
 */
struct guest {
	/*
	 * id + 1 while live, else 0: read without a lock by every look-up
	 * (model.c), so it has a cache line that calls do not write. The
	 * partitions share no line.
	 */
	_Alignas(64) _Atomic uint32_t live_id;
	bool live;
	uint16_t id;
	_Alignas(64) pthread_mutex_t lock;
	struct session *sessions;
	struct reg_shm *shms;
	uint32_t num_shms;   /* registered, not counting leaked ones */
	uint64_t heap_leaked; /* bytes, see struct reg_shm */
	bool shm_cache_enabled;
	struct cached_rpc_arg *rpc_cache; /* MODEL_MAX_THREADS entries */
	uint32_t rpc_cache_len;
	bool async_notif_enabled;
	bool notif_pending[MODEL_MAX_NOTIF_VALUE + 1];
	uint64_t prng_state;
	/*
	 * FF-A: the notification bitmap of this VM (OP-TEE's struct
	 * notif_vm_bitmap) and the handle indexes in use (64, as OP-TEE's
	 * SPMC_CORE_SEL1_MAX_SHM_COUNT per guest).
	 */
	bool nvb_created;
	int32_t nvb_bottom_half; /* -1: ENABLE_ASYNC_NOTIF not done */
	uint64_t nvb_pending, nvb_bound;
	uint64_t ffa_handle_bits;
};

/* Where a thread's RPC argument comes from. */
enum rpc_arg_source {
	RPC_ARG_NONE,	   /* none yet: the first RPC CMD does RPC ALLOC */
	RPC_ARG_ALLOCATED, /* RPC ALLOC answered: freed with RPC FREE */
	RPC_ARG_FROM_CALL, /* CALL_WITH_RPC_ARG / CALL_WITH_REGD_ARG */
};

/*
 * enum thread_state - the RPC state machine of one OP-TEE thread. A thread
 * is either free or suspended waiting for RETURN_FROM_RPC after the RPC
 * named by its state; see thread_resume() for the allowed transitions.
 */
enum thread_state {
	THREAD_FREE = 0,
	THREAD_RUNNING,		  /* taken, running inside the current SMC */
	THREAD_WAIT_ALLOC,	  /* RPC ALLOC of the RPC argument */
	THREAD_WAIT_CMD,	  /* RPC CMD */
	THREAD_WAIT_FOREIGN_INTR, /* RPC FOREIGN_INTR */
	THREAD_WAIT_FREE_BAD_ARG, /* RPC FREE of an unusable RPC arg */
	THREAD_WAIT_FREE_AT_EXIT, /* RPC FREE of the RPC arg at exit */
};

/* What a work step asks for. */
enum step_result {
	STEP_DONE,	   /* finished: ret/ret_origin are set */
	STEP_RPC_CMD,	   /* send thread.rpc as an RPC CMD */
	STEP_FOREIGN_INTR, /* yield with RPC FOREIGN_INTR */
};

/* An RPC command: what the model sends and, after resume, the answer. */
struct rpc_cmd {
	uint32_t cmd;
	uint32_t ret;
	uint32_t num_params;
	uint32_t answer_num_params; /* num_params the normal world left */
	struct optee_msg_param params[OPTEE_MSG_RPC_NUM_PARAMS];
};

struct ta_param {
	enum ta_param_type type;
	struct optee_msg_param_value value;
	/* memref: @mem.size is the size the TA reports back */
	struct ns_span mem;
	bool mem_is_null;
	struct reg_shm *mem_reg; /* RMEM: holds a user reference */
	/* NONCONTIG TMEM: its shm_ref and size as the normal world gave */
	bool mem_noncontig;
	uint64_t mem_cookie, mem_size_in;
	uint32_t msg_index;	 /* index in the message */
};

struct model_thread;
typedef enum step_result (*work_step_fn)(struct tg_model *m,
					 struct model_thread *t);

/*
 * struct model_thread - one OP-TEE thread and the std call it carries.
 * @shadow is the private copy of the normal world's optee_msg_arg, read
 * once at entry and written back at exit.
 */
struct model_thread {
	_Alignas(64) uint32_t index;
	_Atomic(enum thread_state) state;
	_Atomic(uint16_t) client_id;
	_Atomic(struct guest *) guest;

	/* The call's argument and its location in NS memory. */
	struct optee_msg_arg *shadow; /* OPTEE_MSG_MAX_NUM_PARAMS params */
	uint32_t shadow_size;
	struct ns_span arg_span;
	uint32_t msg_first;	 /* first TA param in the message */
	bool ta_ran;		 /* outputs must be written back */
	struct reg_shm *arg_reg; /* CALL_WITH_REGD_ARG: held buffer */

	/* RPC argument buffer. */
	enum rpc_arg_source rpc_src;
	uint64_t rpc_cookie; /* RPC_ARG_ALLOCATED */
	struct ns_span rpc_span;
	bool rpc_arg_failed; /* RPC ALLOC failed for this CMD */

	/* The work in progress. */
	work_step_fn work;
	uint32_t step;
	uint64_t scratch[4];
	struct ns_span work_span; /* a buffer a work step obtained */
	struct reg_shm *work_reg; /* FF-A: the share behind work_span */
	struct session *session;
	uint32_t ta_cmd;
	struct ta_param params[MODEL_TA_NUM_PARAMS];
	uint32_t num_ta_params;
	uint32_t ret, ret_origin;
	struct rpc_cmd rpc;
	struct rpc_cmd saved_rpc; /* the work's RPC during an injection */
	bool rpc_injected;	  /* current CMD is an injected one */
	bool injected_here;	  /* one injection per step point */
};

struct ffa_frag;

/*
 * FF-A state of the SPMC (cfg.ffa): the normal world's RX/TX pair, which
 * OP-TEE maps once (with virtualization, the hypervisor's), and the
 * transactions whose fragments are still coming.
 * @rx_nw_owned: the normal world's RX holds a message it has not
 *               released (OP-TEE's !tx_is_mine).
 */
struct ffa_spmc {
	uint32_t version; /* negotiated with the normal world */
	uint64_t nw_tx_pa, nw_rx_pa;
	uint32_t rxtx_pages;
	bool rx_nw_owned;
	struct ffa_frag *frags;
	/* VM_DESTROYED of a VM that still had threads or shares. */
	uint32_t destroyed_busy;
	/* Handles of destroyed guests, still reclaimable (as OP-TEE). */
	uint64_t *orphans;
	uint32_t norphans, orphans_cap;
};

struct tg_model {
	pthread_mutex_t lock;
	struct tg_model_config cfg;
	struct tg_sw_mem mem;
	uint32_t num_threads;
	uint32_t max_guests;
	struct model_thread *threads;
	struct guest *guests; /* max_guests entries */
	uint32_t guest_locks; /* guests[i].lock initialised for i below */
	_Atomic uint32_t next_session_id;
	_Atomic bool notif_irq_pending; /* raise after dropping the lock */
	bool panicked;		/* cfg.ffa_optee_4_10_bugs: OP-TEE died */
	struct ffa_spmc ffa;
};

/* ---- model.c ----------------------------------------------------------- */
struct guest *tgm_find_guest(struct tg_model *m, uint16_t client_id);
void tgm_raise_async_notif(struct tg_model *m, struct guest *g, uint32_t value);
void tgm_guest_reset(struct tg_model *m, struct guest *g, uint16_t id);
void tgm_guest_kill(struct tg_model *m, struct guest *g);
uint32_t tgm_prng_pct(struct guest *g);

/* ---- ns_mem.c ---------------------------------------------------------- */
uint64_t tgm_span_page(const struct ns_span *s, uint64_t i);
void tgm_span_release(struct ns_span *s);
bool tgm_span_read(struct tg_model *m, uint16_t client, const struct ns_span *s,
		   uint64_t off, void *dst, uint64_t len);
bool tgm_span_write(struct tg_model *m, uint16_t client,
		    const struct ns_span *s, uint64_t off, const void *src,
		    uint64_t len);
bool tgm_span_sub(const struct ns_span *s, uint64_t off, uint64_t size,
		  struct ns_span *out);
bool tgm_span_contig(uint64_t pa, uint64_t size, struct ns_span *out);
uint32_t tgm_span_from_pagelist(struct tg_model *m, uint16_t client,
				uint64_t buf_ptr, uint64_t size,
				struct ns_span *out);
bool tgm_pa_range_is_ns(struct tg_model *m, uint16_t client, uint64_t pa,
			uint64_t size);
bool tgm_in_reserved_shm(const struct tg_model *m, uint64_t pa, uint64_t size);

/* ---- msg_param.c ------------------------------------------------------- */
uint32_t tgm_msg_params_to_ta(struct tg_model *m, struct model_thread *t,
			      uint32_t first, uint32_t count);
void tgm_msg_params_from_ta(struct model_thread *t, uint32_t first);
void tgm_ta_params_release(struct tg_model *m, struct model_thread *t);
struct reg_shm *tgm_reg_shm_find(struct guest *g, uint64_t cookie);
void tgm_reg_shm_free_all(struct guest *g);
uint32_t tgm_reg_shm_register(struct tg_model *m, struct model_thread *t);
uint32_t tgm_reg_shm_unregister(struct model_thread *t);

/* ---- entry_std.c ------------------------------------------------------- */
void tgm_std_call(struct tg_model *m, struct guest *g, uint64_t regs[8]);
void tgm_std_return_from_rpc(struct tg_model *m, struct guest *g,
			     uint64_t regs[8]);
void tgm_thread_abort(struct tg_model *m, struct model_thread *t);
void tgm_session_free_all(struct guest *g);

void tgm_std_call_ffa(struct tg_model *m, struct guest *g, uint16_t client,
		      uint64_t cookie, uint64_t offs, uint64_t regs[8]);

/* ---- ffa_spmc.c, ffa_mem.c (cfg.ffa) ----------------------------------- */

/* OP-TEE 4.10 as the S-EL1 SPMC on QEMU: ids it takes at boot. */
#define MODEL_FFA_SPMC_ID 0x8000u  /* the SPMC itself (no UUID) */
#define MODEL_FFA_OPTEE_ID 0x8001u /* OP-TEE's logical partition */
#define MODEL_FFA_NB_CORE 4u	   /* CFG_TEE_CORE_NB_CORE */
#define MODEL_FFA_SRI_INTID 8u	   /* schedule receiver interrupt */
#define MODEL_FFA_MAX_SHARES 64u   /* per guest, SPMC_CORE_SEL1_MAX_SHM_COUNT */
/* FF-A handle: index | bit 44 | guest id << 16 (OP-TEE's encoding). */
#define MODEL_FFA_HANDLE_NS_BIT (1ull << 44)
#define MODEL_FFA_HANDLE_GUEST_SHIFT 16u

void tgm_ffa_smc(struct tg_model *m, uint64_t regs[8]);
void tgm_ffa_mem_op(struct tg_model *m, uint64_t regs[8]);
void tgm_ffa_frag_tx(struct tg_model *m, uint64_t regs[8]);
void tgm_ffa_reclaim(struct tg_model *m, uint64_t regs[8]);
uint32_t tgm_ffa_unregister(struct tg_model *m, struct guest *g,
			    uint64_t cookie);
struct reg_shm *tgm_ffa_share_find(struct guest *g, uint64_t cookie);
uint32_t tgm_ffa_share_use(struct reg_shm *r, uint32_t internal_offs);
void tgm_ffa_guest_gone(struct tg_model *m, struct guest *g);
void tgm_ffa_free(struct tg_model *m);
enum step_result tgm_ffa_bottom_half(struct tg_model *m,
				     struct model_thread *t);

/* ---- TAs (pta_*.c, ta_*.c) --------------------------------------------- */

/*
 * struct ta_desc - a TA built into the model (pseudo-TA or model TA).
 * invoke() runs one step of command thread->ta_cmd on thread->params; it
 * may return STEP_RPC_CMD / STEP_FOREIGN_INTR and is called again, with
 * thread->step advanced by itself, after the normal world resumes.
 */
struct ta_desc {
	const char *name;
	uint8_t uuid[16];
	enum step_result (*invoke)(struct tg_model *m, struct model_thread *t);
};

extern const struct ta_desc tgm_pta_invoke_tests;
extern const struct ta_desc tgm_pta_stats;
extern const struct ta_desc tgm_pta_device_enum;
extern const struct ta_desc tgm_ta_bigbuf;
extern const struct ta_desc tgm_ta_yield;
extern const struct ta_desc tgm_ta_notify;
extern const struct ta_desc tgm_ta_bigbuf_sum;

const struct ta_desc *tgm_ta_find(const uint8_t uuid[16]);
uint32_t tgm_ta_memref_sum(struct tg_model *m, struct model_thread *t,
			   struct ta_param *p);

/* Helpers for TAs. */
static inline uint32_t ta_param_types(const struct model_thread *t)
{
	uint32_t types = 0;

	for (uint32_t i = 0; i < MODEL_TA_NUM_PARAMS; i++)
		types |= (uint32_t)t->params[i].type << (i * 4);
	return types;
}

#define TA_PARAM_TYPES(t0, t1, t2, t3)                                    \
	((uint32_t)(t0) | ((uint32_t)(t1) << 4) | ((uint32_t)(t2) << 8) | \
	 ((uint32_t)(t3) << 12))

static inline bool ta_param_is_memref(enum ta_param_type type)
{
	return type >= TA_PARAM_MEMREF_INPUT && type <= TA_PARAM_MEMREF_INOUT;
}

static inline enum step_result ta_done(struct model_thread *t, uint32_t ret)
{
	t->ret = ret;
	t->ret_origin = TEEC_ORIGIN_TRUSTED_APP;
	return STEP_DONE;
}

/* Prepare thread->rpc for a command with @n parameters, all NONE. */
void tgm_rpc_prepare(struct model_thread *t, uint32_t cmd, uint32_t n);
/* Copy a memref's content: the TAs' page-safe accessors. */
bool tgm_ta_mem_read(struct tg_model *m, struct model_thread *t,
		     const struct ta_param *p, uint64_t off, void *dst,
		     uint64_t len);
bool tgm_ta_mem_write(struct tg_model *m, struct model_thread *t,
		      const struct ta_param *p, uint64_t off, const void *src,
		      uint64_t len);
/* Current TEE time (monotonic). */
void tgm_tee_time(uint64_t *seconds, uint64_t *millis);

#endif /* TEEGATE_MODEL_INTERNAL_H */
