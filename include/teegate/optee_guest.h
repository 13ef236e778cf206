/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest OP-TEE driver: what Linux's drivers/tee/optee SMC driver does, for
 * code running inside a teegate guest (see guest.h).
 *
 * One driver instance serves one guest and is shared by all of its vCPU
 * threads. Every SMC it issues goes out on the calling thread's vCPU
 * (tg_vcpu_self()), or on the probing vCPU when the caller is not a vCPU.
 *
 * Everything the driver hands to the TEE is an IPA of the guest's own RAM;
 * the mediator translates. Everything the TEE (or the mediator) answers is
 * checked before use: a nonsensical answer gives an error, never a crash.
 */
#ifndef TEEGATE_OPTEE_GUEST_H
#define TEEGATE_OPTEE_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/guest.h>
#include <teegate/optee_abi.h>
#include <teegate/port.h> /* enum tg_status */

#ifdef __cplusplus
extern "C" {
#endif

struct tg_optee;
struct tg_optee_shm;

/* How std calls reach the TEE (see optee-abi.md, "Function ids"). */
enum tg_optee_call_form {
	TG_OPTEE_FORM_DEFAULT =
		0,		/* like Linux: REGD_ARG if RPC_ARG, else ARG */
	TG_OPTEE_FORM_ARG,	/* CALL_WITH_ARG, arg alone in a page */
	TG_OPTEE_FORM_RPC_ARG,	/* CALL_WITH_RPC_ARG, RPC arg after arg */
	TG_OPTEE_FORM_REGD_ARG, /* CALL_WITH_REGD_ARG, via the arg cache */
};

/* How the driver reaches OP-TEE. */
enum tg_optee_transport {
	TG_OPTEE_TRANSPORT_AUTO = 0, /* the SMC ABI, else FF-A */
	TG_OPTEE_TRANSPORT_SMC,	     /* OP-TEE's SMC ABI (optee/smc_abi.c) */
	TG_OPTEE_TRANSPORT_FFA,	     /* FF-A (optee/ffa_abi.c + arm_ffa) */
};

/**
 * struct tg_optee_config - driver options; all-zero is Linux's behaviour.
 * @call_form:        std call form (falls back to ARG if the TEE lacks
 *                    RPC_ARG).
 * @uniprocessor:     announce NSEC_CAP_UNIPROCESSOR.
 * @no_async_notif:   do not enable async notifications even if offered.
 * @no_shm_cache:     do not ENABLE_SHM_CACHE.
 * @ta_dir:           directory of TA images `<uuid>.ta` for RPC LOAD_TA;
 *                    NULL = no TA loading (ITEM_NOT_FOUND).
 * @notif_poll_ms:    notification vCPU wait slice; 0 = 50 ms.
 */
struct tg_optee_config {
	enum tg_optee_call_form call_form;
	bool uniprocessor;
	bool no_async_notif;
	bool no_shm_cache;
	const char *ta_dir;
	uint32_t notif_poll_ms;
	/*
	 * FF-A: @transport; @ffa_rxtx_pages: RX/TX buffer size in pages
	 * (0 = 1, as Linux); @ffa_max_run_pages: the longest run of
	 * IPA-contiguous pages one constituent describes (0 = no limit, as
	 * Linux merges an sg table; 1 describes every page on its own, as
	 * for scattered memory, and makes big shares fragment).
	 */
	enum tg_optee_transport transport;
	uint32_t ffa_rxtx_pages;
	uint32_t ffa_max_run_pages;
	uint32_t ffa_version; /* FF-A version asked for; 0 = 1.2 */
};

/* What the probe learnt, and what the driver has done since. */
struct tg_optee_info {
	uint32_t rev_major, rev_minor;
	uint32_t sec_caps; /* as answered by EXCHANGE_CAPABILITIES */
	uint32_t max_notif_value;
	uint32_t rpc_param_count;	   /* 0 when the TEE lacks RPC_ARG */
	uint32_t thread_count;		   /* 0 when GET_THREAD_COUNT failed */
	enum tg_optee_call_form call_form; /* the form in use */
	bool async_notif;		   /* ENABLE_ASYNC_NOTIF succeeded */
	bool shm_cache;			   /* ENABLE_SHM_CACHE succeeded */
	/* FF-A only (sec_caps are then OPTEE_FFA_SEC_CAP_*). */
	bool ffa;
	uint32_t ffa_version;	 /* negotiated */
	uint16_t ffa_id;	 /* this VM's endpoint id (FFA_ID_GET) */
	uint16_t ffa_optee_id;	 /* OP-TEE's partition */
	uint32_t ffa_notif_id;	 /* bottom-half notification bit */
	uint64_t ffa_tx_ipa, ffa_rx_ipa; /* the RX/TX pair */
	uint32_t ffa_rxtx_pages;
};

/* Counters, for tests and the workloads (monotonic). */
struct tg_optee_stats {
	uint64_t std_calls;	     /* std calls issued (not retries) */
	uint64_t thread_limit_waits; /* ETHREAD_LIMIT answers waited for */
	uint64_t rpc[6]; /* by RPC func: ALLOC, -, FREE, -, FOREIGN_INTR, CMD */
	uint64_t rpc_cmd[32];	  /* by RPC CMD (cmd < 32) */
	uint64_t rpc_bad;	  /* malformed RPCs refused */
	uint64_t notif_async;	  /* async notification values received */
	uint64_t bottom_halves;	  /* DO_BOTTOM_HALF calls made */
	uint64_t shm_cache_freed; /* cookies freed at DISABLE_SHM_CACHE */
	/* FF-A */
	uint64_t ffa_shares;	  /* MEM_SHARE transactions completed */
	uint64_t ffa_fragments;	  /* FRAG_TX calls made */
	uint64_t ffa_reclaims;	  /* MEM_RECLAIM succeeded */
	uint64_t ffa_reclaim_failed;
	uint64_t ffa_interrupts;  /* yielding calls resumed after INTERRUPT */
};

/**
 * tg_optee_probe() - find OP-TEE and set the driver up.
 * @vcpu: the vCPU to probe on (and spawn the notification vCPU from).
 * @cfg:  NULL for defaults.
 *
 * CALLS_UID must be OP-TEE's and CALLS_REVISION 2.x; the TEE must offer
 * DYNAMIC_SHM. Enables the RPC shm cache and async notifications as Linux
 * does.
 *
 * Return: TG_OK; TG_ENOTEE (not OP-TEE); TG_ENOTSUP (no dynamic shm, or
 * capabilities refused); TG_ENOMEM.
 */
int tg_optee_probe(struct tg_vcpu *vcpu, const struct tg_optee_config *cfg,
		   struct tg_optee **out);

/**
 * tg_optee_remove() - tear down: stop notifications, DISABLE_SHM_CACHE
 * (freeing every returned cookie), unregister and free what is left.
 * No call may be in progress.
 */
void tg_optee_remove(struct tg_optee *drv);

const struct tg_optee_info *tg_optee_info(const struct tg_optee *drv);
void tg_optee_get_stats(struct tg_optee *drv, struct tg_optee_stats *out);
struct tg_vcpu *tg_optee_vcpu(const struct tg_optee *drv);

/* Driver of the calling vCPU's guest, or NULL (see tg_optee_get()). */
struct tg_optee *tg_optee_lookup(struct tg_vcpu *vcpu);
/* Driver of @vcpu's guest: the registered one, else a newly probed one.
 * Reference counted; tg_optee_put() removes it after the last put. */
int tg_optee_get(struct tg_vcpu *vcpu, struct tg_optee **out);
void tg_optee_put(struct tg_optee *drv);

/* ---- Shared memory ----------------------------------------------------- */

/**
 * struct tg_optee_shm - a buffer in guest RAM that the TEE may see.
 * @va:     the buffer in the guest's view.
 * @ipa:    IPA of @va (any alignment). Pages are IPA-contiguous.
 * @size:   size in bytes.
 * @cookie: REGISTER_SHM cookie, 0 when not registered.
 */
struct tg_optee_shm {
	void *va;
	uint64_t ipa;
	size_t size;
	uint64_t cookie;
	/* private to the driver */
	struct tg_optee *drv;
	uint32_t kind;
	uint32_t alloc_pages; /* pages owned by the shm, 0 if borrowed */
	uint64_t alloc_ipa;
	uint64_t list_ipa; /* page list kept for the TEE, or 0 */
	uint32_t list_pages;
	bool abandoned; /* freed while maybe still registered */
	struct tg_optee_shm *next; /* in the driver's cookie table */
};

/**
 * tg_optee_shm_alloc() - allocate @size bytes (rounded up to pages) of
 * guest RAM, zeroed; registered with the TEE when @reg (REGISTER_SHM).
 * Return: TG_OK, TG_ENOMEM, TG_EPROTO (the TEE refused to register;
 * *@tee_ret gets its TEEC code when @tee_ret is not NULL).
 */
int tg_optee_shm_alloc(struct tg_optee *drv, size_t size, bool reg,
		       struct tg_optee_shm **out, uint32_t *tee_ret);

/**
 * tg_optee_shm_register_buf() - register a caller buffer in place. It must
 * lie in guest RAM that the driver knows the IPA of (tg_optee_ipa_of()).
 * Return: TG_OK, TG_EFAULT (not known guest RAM), TG_ENOMEM, TG_EPROTO.
 */
int tg_optee_shm_register_buf(struct tg_optee *drv, void *buf, size_t size,
			      struct tg_optee_shm **out, uint32_t *tee_ret);

/*
 * Unregister if registered (UNREGISTER_SHM) and free. Return TG_OK; or
 * TG_EBUSY when a call uses it (the shm stays valid: free it again
 * later); or, when the buffer may otherwise still be registered (the TEE
 * refused, or the call failed on the way even when asked again), an error
 * (TG_EPROTO...): its pages are neither freed nor reused, and the driver
 * keeps it and tries again when it is removed; the caller must not use it
 * any more. BAD_PARAMETERS, OP-TEE's answer to a cookie it does not know,
 * counts as unregistered.
 */
int tg_optee_shm_free(struct tg_optee_shm *shm);

/**
 * tg_optee_ipa_of() - IPA of a guest pointer, for memory obtained through
 * this driver (tg_optee_shm_alloc(), tg_optee_mem_alloc()).
 * Return: true and *@ipa, or false.
 */
bool tg_optee_ipa_of(struct tg_optee *drv, const void *p, size_t len,
		     uint64_t *ipa);

/* Plain guest memory the driver knows the IPA of (for client buffers that
 * will be registered in place). Zeroed. NULL on failure. */
void *tg_optee_mem_alloc(struct tg_optee *drv, size_t size);
void tg_optee_mem_free(struct tg_optee *drv, void *p);

/* ---- Messages ---------------------------------------------------------- */

/* Parameter types of struct tg_optee_param (== OPTEE_MSG types, in/out). */
enum tg_optee_param_type {
	TG_OPTEE_PARAM_NONE = 0,
	TG_OPTEE_PARAM_VALUE_INPUT = 1,
	TG_OPTEE_PARAM_VALUE_OUTPUT = 2,
	TG_OPTEE_PARAM_VALUE_INOUT = 3,
	TG_OPTEE_PARAM_MEMREF_INPUT = 5,
	TG_OPTEE_PARAM_MEMREF_OUTPUT = 6,
	TG_OPTEE_PARAM_MEMREF_INOUT = 7,
};

/**
 * struct tg_optee_param - one parameter of a session call.
 * A memref with @shm registered goes out as RMEM; an unregistered @shm as
 * a NONCONTIG TMEM page list; @shm NULL with size 0 as a NULL memref.
 * After the call, outputs and memref sizes are written back.
 */
struct tg_optee_param {
	enum tg_optee_param_type type;
	union {
		struct {
			uint64_t a, b, c;
		} value;
		struct {
			struct tg_optee_shm *shm;
			size_t offs;
			size_t size;
		} memref;
	} u;
};

#define TG_OPTEE_MAX_PARAMS 4u

/* Result of a message: the TEEC code and origin (as libteec reports). */
struct tg_optee_result {
	uint32_t ret;
	uint32_t origin;
	uint32_t smc_ret; /* a0 of the final SMC (OK unless COMMS) */
};

int tg_optee_open_session(struct tg_optee *drv, const uint8_t uuid[16],
			  uint32_t login, const uint8_t client_uuid[16],
			  uint32_t cancel_id, struct tg_optee_param *params,
			  uint32_t num_params, uint32_t *session,
			  struct tg_optee_result *res);
int tg_optee_invoke(struct tg_optee *drv, uint32_t session, uint32_t func,
		    uint32_t cancel_id, struct tg_optee_param *params,
		    uint32_t num_params, struct tg_optee_result *res);
int tg_optee_close_session(struct tg_optee *drv, uint32_t session,
			   struct tg_optee_result *res);
int tg_optee_cancel(struct tg_optee *drv, uint32_t session, uint32_t cancel_id,
		    struct tg_optee_result *res);

/**
 * tg_optee_raw_call() - issue a prepared message with the configured call
 * form, handling RPCs and ETHREAD_LIMIT. @arg is copied into the call's
 * argument buffer (32 + 32 * num_params bytes, num_params <= 127) and the
 * answer copied back into it. For tests and hostile workloads.
 * Return: TG_OK (the SMC returned OK; see @arg->ret), TG_EPROTO (a0 in
 * *@smc_ret), TG_EINVAL, TG_ENOMEM.
 */
int tg_optee_raw_call(struct tg_optee *drv, struct optee_msg_arg *arg,
		      uint32_t *smc_ret);

/* Send one std call with an explicit form (test hook). */
int tg_optee_raw_call_form(struct tg_optee *drv, enum tg_optee_call_form form,
			   struct optee_msg_arg *arg, uint32_t *smc_ret);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_OPTEE_GUEST_H */
