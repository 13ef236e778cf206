/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest OP-TEE driver internals, shared by driver.c (probe, fast calls),
 * call.c (std calls and their argument buffers), rpc.c (RPC handling),
 * shm.c (shared memory, page lists, cookies) and notif.c (notifications).
 */
#ifndef TG_GUEST_OPTEE_PRIVATE_H
#define TG_GUEST_OPTEE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_guest.h>

#define PAGE_SIZE 4096u
#define PAGE_MASK_LOW 0xFFFull

/* Kinds of struct tg_optee_shm. */
enum shm_kind {
	SHM_KIND_CLIENT = 1, /* allocated or registered by a client */
	SHM_KIND_RPC_ALLOC,  /* RPC ALLOC: an RPC argument buffer */
	SHM_KIND_RPC_SHM,    /* RPC CMD SHM_ALLOC */
	SHM_KIND_ARG_CACHE,  /* a page of the REGD_ARG argument cache */
};

/*
 * Slots of the argument cache: room for an argument of up to
 * ARG_CACHE_MAX_PARAMS parameters (4 + 2 meta, as Linux) plus the RPC
 * argument after it.
 */
#define ARG_CACHE_MAX_PARAMS 6u
#define ARG_CACHE_MAX_SLOTS 32u

struct arg_cache_page {
	struct tg_optee_shm *shm;
	uint32_t slot_size;
	uint32_t nslots;
	uint32_t used; /* bitmap of slots in use */
	/*
	 * FF-A: slots of calls lost on the way (the mediator died under
	 * them): still in @used, as OP-TEE may write them until the
	 * recovery has ended the call; given back when a call completes
	 * that started after the loss (@lost_seq: tg_optee.call_seq then),
	 * so was served after that recovery. A call that started before
	 * may have had its answer before the death, the recovery not done.
	 */
	uint32_t lost;
	uint64_t lost_seq[ARG_CACHE_MAX_SLOTS];
	struct arg_cache_page *next;
};

/* A region of guest RAM handed out by tg_optee_mem_alloc(). */
struct mem_region {
	void *va;
	uint64_t ipa;
	uint32_t npages;
	struct mem_region *next;
};

/* One key of the notification wait queue (RPC NOTIFICATION). */
struct notif_entry {
	uint32_t key;
	uint32_t pending; /* sends not yet consumed by a wait */
	uint32_t waiters;
	struct notif_entry *next;
};

/*
 * FF-A state of the driver (ffa.c): what Linux's arm_ffa driver keeps.
 * The RX/TX pair is guest RAM registered with FFA_RXTX_MAP; @rxtx_lock
 * serializes their use (a descriptor in TX, an answer in RX), and keeps
 * reclaims apart from shares (tgg_ffa_reclaim()).
 */
struct tgg_ffa {
	uint32_t version;
	uint16_t id;	    /* this VM */
	uint16_t optee_id;  /* OP-TEE's partition */
	uint64_t tx_ipa, rx_ipa;
	uint8_t *tx, *rx;
	uint32_t rxtx_pages;
	pthread_mutex_t rxtx_lock;
	bool mem_64;	     /* MEM_SHARE_64 offered */
	bool bitmap_created; /* NOTIFICATION_BITMAP_CREATE done */
	bool notif_bound;
	uint32_t notif_id;   /* the bottom-half notification */
	/* A bottom half whose call did not complete (notification vCPU). */
	bool bh_owed;
};

struct tg_optee {
	struct tg_vcpu *vcpu;	    /* probing vCPU */
	struct tg_optee_config cfg; /* cfg.ta_dir points to ta_dir */
	char *ta_dir;
	struct tg_optee_info info;

	/* Protects shms, regions, next_cookie, argc, page_pool. */
	pthread_mutex_t lock;
	struct tg_optee_shm *shms; /* every shm that has a cookie */
	struct mem_region *regions;
	uint64_t next_cookie;
	struct arg_cache_page *argc;
	uint64_t call_seq; /* std calls started so far (FF-A, @lock) */
	uint64_t page_pool[16]; /* free single pages for arguments */
	uint32_t page_pool_len;

	/* Call queue: waiters for a free TEE thread (ETHREAD_LIMIT). */
	pthread_mutex_t cq_lock;
	pthread_cond_t cq_cond;
	uint64_t cq_gen; /* std calls completed */
	uint32_t cq_waiters;

	/* Notifications (RPC NOTIFICATION and async notifications). */
	pthread_mutex_t notif_lock;
	pthread_cond_t notif_cond;
	struct notif_entry *notif;
	bool stopping;
	int notif_vcpu; /* spawned vCPU index, -1 if none */

	struct tg_optee_stats stats; /* updated with atomics */

	/* FF-A transport; NULL with the SMC ABI. */
	struct tgg_ffa *ffa;

	/* Registry of drivers by guest (tg_optee_get()). */
	const void *guest_key;
	uint64_t guest_instance; /* with guest_key: which guest start */
	uint32_t refs;
	bool registered;
	struct tg_optee *reg_next;
};

/* State of one std call, passed to the RPC handler. */
struct call_ctx {
	struct tg_optee *drv;
	struct tg_vcpu *vcpu;
	/* RPC argument supplied with the call (RPC_ARG / REGD_ARG), or NULL. */
	struct optee_msg_arg *rpc_arg;
	uint32_t rpc_arg_params; /* its capacity in parameters */
	bool lost; /* FF-A: a request of the call got no answer from OP-TEE */
};

#define STAT_INC(drv, field) \
	__atomic_fetch_add(&(drv)->stats.field, 1, __ATOMIC_RELAXED)

static inline uint64_t reg_pair_to_64(uint64_t hi, uint64_t lo)
{
	return ((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo;
}

static inline void reg_pair_from_64(uint64_t *hi, uint64_t *lo, uint64_t v)
{
	*hi = v >> 32;
	*lo = (uint32_t)v;
}

/* driver.c */
struct tg_vcpu *tgg_drv_vcpu(struct tg_optee *drv);
void tgg_drv_smc(struct tg_optee *drv, uint64_t regs[8]);

/* shm.c */
int tgg_guest_pages_alloc(struct tg_optee *drv, uint32_t count, uint64_t *ipa,
			  void **va);
void tgg_guest_pages_free(struct tg_optee *drv, uint64_t ipa, uint32_t count);
int tgg_pagelist_build(struct tg_optee *drv, uint64_t data_ipa, size_t size,
		       uint64_t *list_ipa, uint32_t *list_pages);
void tgg_pagelist_free(struct tg_optee *drv, uint64_t list_ipa,
		       uint32_t list_pages);
struct tg_optee_shm *tgg_shm_new_pages(struct tg_optee *drv, size_t size,
				       uint32_t kind);
void tgg_shm_link(struct tg_optee *drv, struct tg_optee_shm *shm);
struct tg_optee_shm *tgg_shm_unlink_cookie(struct tg_optee *drv,
					   uint64_t cookie, uint32_t kind);
struct tg_optee_shm *tgg_shm_find_cookie(struct tg_optee *drv, uint64_t cookie,
					 uint32_t kind);
void tgg_shm_release_pages(struct tg_optee *drv, struct tg_optee_shm *shm);
/* Not unregistered: kept, asked again at the driver's removal. */
void tgg_shm_abandon(struct tg_optee *drv, struct tg_optee_shm *shm);
int tgg_shm_register(struct tg_optee *drv, struct tg_optee_shm *shm,
		     enum tg_optee_call_form form, uint32_t *tee_ret);
void tgg_shm_free_all(struct tg_optee *drv);

/* call.c */
int tgg_std_call(struct tg_optee *drv, enum tg_optee_call_form form,
		 struct optee_msg_arg *msg, uint32_t *smc_ret);
void tgg_cq_completed(struct tg_optee *drv);
void tgg_arg_cache_free(struct tg_optee *drv);

/* rpc.c */
void tgg_rpc_handle(struct call_ctx *ctx, uint64_t regs[8]);

/* ffa.c: the FF-A layer (Linux's drivers/firmware/arm_ffa) */
int tgg_ffa_init(struct tg_optee *drv);
void tgg_ffa_fini(struct tg_optee *drv);
bool tgg_ffa_aborted(bool clear);
int tgg_ffa_direct(struct tg_optee *drv, uint64_t data[5], int32_t *ffa_err);
int tgg_ffa_share(struct tg_optee *drv, uint64_t ipa, uint64_t size,
		  uint64_t *handle);
int tgg_ffa_reclaim(struct tg_optee *drv, uint64_t handle);
int tgg_ffa_notif_bind(struct tg_optee *drv, uint32_t id, bool bind);
int tgg_ffa_notif_get(struct tg_optee *drv, uint64_t *bitmap);

/* ffa_optee.c: OP-TEE over FF-A (Linux's drivers/tee/optee/ffa_abi.c) */
int tgg_ffa_optee_probe(struct tg_optee *drv);
void tgg_ffa_optee_remove(struct tg_optee *drv);
uint32_t tgg_ffa_call(struct call_ctx *ctx, uint64_t handle, uint32_t offs);
int tgg_ffa_shm_register(struct tg_optee *drv, struct tg_optee_shm *shm,
			 uint32_t *tee_ret);
int tgg_ffa_shm_unregister(struct tg_optee *drv, struct tg_optee_shm *shm);
int tgg_ffa_temp_share(struct tg_optee *drv, uint64_t ipa, uint64_t size,
		       uint64_t *handle);
void tgg_ffa_temp_unshare(struct tg_optee *drv, uint64_t handle);
int tgg_ffa_temp_unshare_rc(struct tg_optee *drv, uint64_t handle);
void tgg_ffa_notif_drain(struct tg_optee *drv);

/* rpc.c */
void tgg_rpc_cmd(struct call_ctx *ctx);

/* hostile_ffa.c: the FF-A catalogue of tg_workload_hostile() */
struct tg_hostile_opts;
bool tgg_guest_uses_ffa(struct tg_vcpu *vcpu, uint32_t flags);
int tgg_hostile_ffa(struct tg_vcpu *vcpu, const struct tg_hostile_opts *opts);
const char *tgg_ffa_err_name(uint32_t code);

/* shm.c */
void tgg_shm_link_as(struct tg_optee *drv, struct tg_optee_shm *shm,
		     uint64_t cookie);

/* notif.c */
int tgg_notif_wait(struct tg_optee *drv, uint32_t key, uint32_t timeout_ms);
int tgg_notif_send(struct tg_optee *drv, uint32_t key);
int tgg_notif_start(struct tg_optee *drv);
void tgg_notif_stop(struct tg_optee *drv);

#endif /* TG_GUEST_OPTEE_PRIVATE_H */
