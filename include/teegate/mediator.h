/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teegate mediator: the entry points a hypervisor calls.
 *
 * Life cycle:
 *   tg_mediator_create()   once, probes the TEE over port->smc()
 *   tg_domain_create()     per guest, before its first SMC (VM_CREATED)
 *   tg_handle_smc()        on every guest SMC trap
 *   tg_domain_destroy()    after the guest's vCPUs stopped; call until it
 *                          stops returning TG_AGAIN (ends with VM_DESTROYED)
 *   tg_mediator_destroy()  when every domain is gone
 *
 * Client ids are OP-TEE's: 1..65535 (OP-TEE truncates a7 to 16 bits; 0 is
 * the hypervisor). Xen uses domain_id + 1. With FF-A a client id is the
 * guest's endpoint id, 1..0x7FFF (bit 15 marks secure partitions).
 */
#ifndef TEEGATE_MEDIATOR_H
#define TEEGATE_MEDIATOR_H

#include <stdbool.h>
#include <stdint.h>

#include <teegate/port.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tg_mediator;

/**
 * struct tg_limits - per-domain resource limits. A guest at a limit gets
 * the error OP-TEE itself would give; other guests are not affected.
 * A zero field means "use the default" (TG_DEFAULT_*).
 */
struct tg_limits {
	uint32_t max_calls;	    /* concurrent std calls (incl. suspended) */
	uint32_t max_shm_bufs;	    /* registered shared-memory buffers */
	uint32_t max_pages_per_buf; /* pages of one memref or buffer */
	uint32_t max_pinned_pages;  /* all pins of the domain together */
	uint32_t max_rpc_bufs;	    /* RPC buffers (RPC ALLOC and SHM_ALLOC) */
	uint32_t max_sessions;	    /* open sessions */
};

/* Defaults: 16 MiB buffers must fit (media pipelines), with slack. */
#define TG_DEFAULT_MAX_CALLS 0u /* 0 = the TEE's thread count */
#define TG_DEFAULT_MAX_SHM_BUFS 64u
#define TG_DEFAULT_MAX_PAGES_PER_BUF 16385u /* 64 MiB + 1 page */
#define TG_DEFAULT_MAX_PINNED_PAGES 65536u  /* 256 MiB */
#define TG_DEFAULT_MAX_RPC_BUFS 32u
#define TG_DEFAULT_MAX_SESSIONS 128u

/*
 * The protocol guests and the TEE speak. OP-TEE speaks its own SMC ABI
 * behind TF-A's OP-TEE dispatcher, FF-A when it is the S-EL1 SPMC (or a
 * partition of one). A mediator serves one protocol; the guest speaks
 * the same one.
 */
enum tg_protocol {
	TG_PROTOCOL_AUTO = 0, /* probe: OP-TEE's SMC ABI, then FF-A */
	TG_PROTOCOL_OPTEE,    /* OP-TEE's SMC ABI (src/optee) */
	TG_PROTOCOL_FFA,      /* Arm FF-A v1.1/v1.2 (src/ffa) */
	TG_PROTOCOL_COUNT
};

struct tg_config {
	uint32_t max_domains;	 /* 0 = 64 */
	struct tg_limits limits; /* defaults for tg_domain_create(.., NULL) */
	/* Pages unpinned per tg_domain_destroy() step; 0 = 1024. */
	uint32_t destroy_step_pages;
	/*
	 * Fair share (docs/threat-model.md): a TEE thread a guest has left
	 * suspended in an RPC (FOREIGN_INTR included) for this long while
	 * another domain is refused a thread is taken back; 0 = 20 ms.
	 */
	uint32_t sit_ms;
	/*
	 * The port refuses to act for one domain inside another domain's
	 * call (out-of-process mediators): then the mediator never takes a
	 * thread back by itself, and the hypervisor calls
	 * tg_domain_reclaim() for the other domains when a guest's std call
	 * was answered ETHREAD_LIMIT.
	 */
	bool hypervisor_reclaims;
	/*
	 * Let a domain hold every TEE thread while it is alone (the cap of
	 * T-1 then applies only while two or more domains exist). For a TEE
	 * with few threads and guests that need them all at once (a TA call
	 * waiting for another call of the same guest). It weakens the fair
	 * share: a newcomer then waits for the lone guest's threads to be
	 * taken back or to end (docs/threat-model.md).
	 */
	bool no_thread_reserve;
	enum tg_protocol protocol; /* 0: probe */
};

/* What the probe learnt about the TEE. */
struct tg_tee_info {
	uint32_t api_uid[4];
	uint32_t api_rev_major, api_rev_minor;
	uint32_t os_uuid[4];
	uint32_t os_rev_major, os_rev_minor, os_build_id;
	uint32_t thread_count;
	uint32_t sec_caps;   /* as the TEE reported them */
	uint32_t guest_caps; /* what guests are shown */
	uint32_t max_notif_value;
	uint32_t rpc_param_count;
	bool virtualization;
	enum tg_protocol protocol; /* what the TEE speaks (never AUTO) */
	/*
	 * FF-A: the hypervisor's own endpoint id (FFA_ID_GET), and the
	 * partitions told of VMs' creation and destruction (0-terminated),
	 * for a hypervisor that must tell them itself when its mediator is
	 * gone.
	 */
	uint16_t ffa_hyp_id;
	uint16_t ffa_optee_id; /* OP-TEE's partition, 0 if none */
	uint16_t ffa_vm_subscribers[8];
};

/* Kinds of guest calls, for statistics. */
enum tg_call_kind {
	TG_KIND_FAST_FORWARDED = 0, /* fast call forwarded to the TEE */
	TG_KIND_FAST_EMULATED,	    /* answered by the mediator */
	TG_KIND_STD_CALL,	    /* CALL_WITH_ARG / _RPC_ARG / _REGD_ARG */
	TG_KIND_RPC_RETURN,	    /* RETURN_FROM_RPC */
	TG_KIND_RPC_TO_GUEST,	    /* RPCs handed to the guest */
	TG_KIND_REFUSED,	    /* refused, see refusals */
	TG_KIND_COUNT
};

/* Why a call was refused (one counter each). */
enum tg_refusal {
	TG_REFUSE_UNKNOWN_FUNCTION = 0, /* id not in the whitelist */
	TG_REFUSE_HYP_ONLY,		/* VM_CREATED / VM_DESTROYED */
	TG_REFUSE_WHOLE_TEE,		/* boot, static SHM, L2CC, protmem */
	TG_REFUSE_BAD_CAPS,		/* unknown normal-world capability */
	TG_REFUSE_BAD_ADDR,		/* argument address not usable */
	TG_REFUSE_BAD_PARAM,		/* malformed parameter */
	TG_REFUSE_BAD_CMD,		/* unknown or forbidden message cmd */
	TG_REFUSE_BAD_COOKIE,		/* shm cookie not this guest's */
	TG_REFUSE_BAD_SESSION,		/* session not this guest's */
	TG_REFUSE_BAD_THREAD,		/* resume of a thread not waiting */
	TG_REFUSE_BAD_RPC_ANSWER,	/* malformed RPC answer */
	TG_REFUSE_BUF_BUSY,		/* unregister of a buffer in use */
	TG_REFUSE_LIMIT_CALLS,
	TG_REFUSE_LIMIT_BUFS,
	TG_REFUSE_LIMIT_PAGES,
	TG_REFUSE_LIMIT_RPC_BUFS,
	TG_REFUSE_LIMIT_SESSIONS,
	TG_REFUSE_NO_MEMORY, /* the port could not allocate */
	TG_REFUSE_DYING,     /* domain is being destroyed */
	TG_REFUSE_COUNT
};

struct tg_domain_stats {
	uint64_t calls[TG_KIND_COUNT];
	uint64_t refused[TG_REFUSE_COUNT];
	uint32_t calls_in_flight; /* std calls not yet completed */
	uint32_t calls_suspended; /* of which waiting in an RPC */
	uint32_t shm_bufs;	  /* registered buffers */
	uint32_t rpc_bufs;	  /* RPC buffers held for the TEE */
	uint32_t sessions;	  /* open sessions */
	uint64_t pinned_pages;	  /* pins held for this domain */
	uint64_t shadow_pages;	  /* mediator shm pages held for it */
	uint64_t threads_taken;	  /* its TEE threads taken back (it sat) */
};

/**
 * tg_mediator_create() - probe the TEE and create a mediator.
 * @port: copied; must stay valid until tg_mediator_destroy().
 * @cfg:  NULL for defaults.
 *
 * The protocol is @cfg->protocol, or with TG_PROTOCOL_AUTO the first that
 * answers: OP-TEE's SMC ABI (CALLS_UID), then FF-A (FFA_VERSION).
 *
 * Return: TG_OK; TG_ENOTEE when no TEE answers or it is not OP-TEE (wrong
 * CALLS_UID or API revision; for FF-A: no answer to FFA_VERSION or
 * FFA_ID_GET); TG_ENOTSUP when OP-TEE lacks dynamic shared memory, or the
 * SPMC speaks FF-A older than v1.1; TG_EBUSY when the SPMC has an RX/TX
 * pair for the hypervisor already (another FF-A mediator holds it);
 * TG_EINVAL for a bad port or config; TG_ENOMEM.
 */
int tg_mediator_create(const struct tg_port *port, const struct tg_config *cfg,
		       struct tg_mediator **out);

/** tg_mediator_destroy() - free it; every domain must be destroyed. */
int tg_mediator_destroy(struct tg_mediator *med);

const struct tg_tee_info *tg_mediator_tee_info(const struct tg_mediator *med);

/* The protocol the mediator serves (never TG_PROTOCOL_AUTO). */
enum tg_protocol tg_mediator_protocol(const struct tg_mediator *med);

/* "auto", "optee", "ffa"; "?" for anything else. */
const char *tg_protocol_name(enum tg_protocol p);

/**
 * tg_domain_create() - announce a guest to the TEE (VM_CREATED).
 * @limits: NULL for the mediator's defaults; zero fields take defaults.
 *
 * Return: TG_OK; TG_EINVAL for id 0 or > 0xFFFF; TG_EEXIST for an id that
 * is already live (OP-TEE itself does not check this); TG_ELIMIT when the
 * domain table is full or, without TEE virtualization support, a domain
 * already exists; TG_EPROTO when the TEE refuses VM_CREATED; TG_ENOMEM.
 */
int tg_domain_create(struct tg_mediator *med, uint32_t client_id,
		     const struct tg_limits *limits);

/**
 * tg_handle_smc() - handle one guest SMC.
 * @regs: a0..a7 as the guest left them; on return, what the guest sees.
 *
 * Return: true when the id is a TEE call (owner 50..63) and @regs holds the
 * answer; false when it is not a TEE call (PSCI, hypervisor calls...) and
 * @regs is untouched. Calls from an unknown client id are answered with
 * ENOTAVAIL, as OP-TEE would.
 */
bool tg_handle_smc(struct tg_mediator *med, uint32_t client_id, uint32_t vcpu,
		   uint64_t regs[8]);

/**
 * tg_domain_reclaim() - another domain's std call was refused a TEE thread
 * (ETHREAD_LIMIT from the TEE): take back a thread @client_id sits on.
 *
 * The mediator does this by itself unless cfg.hypervisor_reclaims is set
 * (out-of-process mediators, where each call may act for one domain
 * only): the hypervisor then calls it, as a call of @client_id, for the
 * domains other than the refused one (with one mediator per guest, in
 * those guests' mediators). A thread counts as sat on when the guest has
 * left it suspended in an RPC, with the same resume handle, since a
 * refusal at least cfg.sit_ms earlier. Its RPC is answered with an error
 * (a FOREIGN_INTR is resumed) until the TEE completes the call; the guest
 * collects the result with its resume handle. The domain may start no new
 * std call for a short while afterwards, so that the freed thread goes to
 * the one that waits.
 * @foreign_intr: false: only threads sat on in an RPC the guest must
 *   answer (ALLOC, FREE, CMD), which end after a few SMCs; true: also
 *   those in a FOREIGN_INTR, which end only when their TA call has run to
 *   its end. Ask every other domain with false before asking with true.
 * Return: TG_OK when a thread was freed; TG_AGAIN when a call is suspended
 * but was not sat on long enough yet (ask again sit_ms later), or is
 * being run to its end; TG_EBUSY when the domain has no call suspended
 * (its threads are at work: nothing to take back); TG_ENOENT.
 */
int tg_domain_reclaim(struct tg_mediator *med, uint32_t client_id,
		      bool foreign_intr);

/* What a domain whose std call was just answered ETHREAD_LIMIT needs. */
enum tg_thread_want {
	TG_WANT_NOTHING = 0, /* its own cap (or a hold) refused it */
	TG_WANT_MORE,	     /* the TEE refused it; it holds other threads,
				whose ends wake a guest that waits for them */
	TG_WANT_FIRST,	     /* the TEE refused it and it holds none: only
				a thread taken back will serve it */
};

/**
 * tg_domain_thread_want() - after an ETHREAD_LIMIT answer to @client_id's
 * std call, tell whether the TEE (every thread held) or the domain's own
 * cap refused it, and whether it holds any thread. The hypervisor then
 * asks the other domains for a thread they sit on (tg_domain_reclaim()),
 * for TG_WANT_FIRST waiting sit_ms and asking again before it retries the
 * call: a guest holding no thread may never retry on its own (Linux waits
 * for one of its own calls to end).
 */
enum tg_thread_want tg_domain_thread_want(struct tg_mediator *med,
					  uint32_t client_id);

/**
 * tg_domain_destroy() - tear a domain down in bounded steps.
 *
 * Call after the guest's vCPUs are stopped. Each call does a bounded amount
 * of work (at most one SMC, whose FOREIGN_INTR answers the port may resume
 * up to 65536 times with smc_resume_intr(), and destroy_step_pages
 * unpins) and returns TG_AGAIN until done. Calls suspended in an RPC are driven to completion
 * with error answers, sessions are closed, buffers unregistered and
 * unpinned, shadows freed, and VM_DESTROYED is issued last.
 * Return: TG_OK when gone, TG_AGAIN, or TG_ENOENT.
 */
int tg_domain_destroy(struct tg_mediator *med, uint32_t client_id);

/** tg_domain_stats() - a consistent-enough snapshot of a domain's stats. */
int tg_domain_stats(struct tg_mediator *med, uint32_t client_id,
		    struct tg_domain_stats *out);

/**
 * tg_tee_notif_irq() - the TEE raised its async-notification interrupt.
 * The mediator raises the guest notification interrupt in every domain
 * that enabled async notifications; each guest then asks the TEE for its
 * own pending values (the TEE answers per client id).
 */
void tg_tee_notif_irq(struct tg_mediator *med);

/*
 * ---- Recovery after the mediator's own process died -------------------
 *
 * An out-of-process mediator (isolation modes) can keep its state in
 * memory that survives it: every port->alloc() block, every lock and the
 * shm_alloc() pages at the same addresses in the next process. The new
 * process then calls tg_mediator_recover() once and tg_domain_recover()
 * for each domain, and the guests keep their sessions and buffers. The
 * core helps by never freeing what is still linked and by dropping a
 * reference before the pin or page behind it: a crash at any instant
 * leaves at worst pins or pages that nothing references, which recovery
 * gives back. See docs/isolation.md.
 */

/* Bumped whenever the layout of the mediator's state changes: a state
 * written by another layout version is not recovered. */
/* 2: the shadow pool, smaller calls and slots; 3: fair share (held back,
 * taken calls); 4: the protocols' ops; 5: struct rpc_buf without its
 * unused guest_ipa; 6: the sandboxed mediator's locks a cache line
 * apart, the shadow pool's bitmaps on a line of their own; 7: the shadow
 * pool's free map in stripes. */
#define TG_STATE_VERSION 7u

#define TG_RECOVER_MAX_THREADS 64u
#define TG_RECOVER_MAX_HANDLES 256u
#define TG_RECOVER_MAX_DONE 64u
#define TG_RECOVER_MAX_MEM 256u

/**
 * struct tg_recover_info - what the hypervisor saw of one domain, which
 * the dead process may not have recorded.
 * @threads: TEE threads of the domain suspended in an RPC: every SMC it
 *           issued for the mediator that returned an RPC and was not
 *           resumed since (thread id = a3, and the RPC's a0..a2).
 * @handles: resume handles (a3) that guests were given with an RPC and
 *           have not used yet. A suspended call whose handle the guest
 *           never received is ended: its guest saw the call fail.
 *           FF-A: a thread is OP-TEE's resume information (w7 of a
 *           direct response RPC_CMD or INTERRUPT, a0..a2 unused), and
 *           a handle is that w7 as the guest was given it.
 * @done:    calls the TEE completed in a conversation of the domain that
 *           died before its answer reached the guest: a0 = the SMC whose
 *           answer was the completion (CALL_WITH_ARG, CALL_WITH_RPC_ARG or
 *           RETURN_FROM_RPC), a1:a2 = the address of the message the call
 *           started with (a1:a2 of its CALL_WITH_*), a3 = 0. The guest saw
 *           the call fail, so a session it opened or a buffer it
 *           registered is undone. OP-TEE's SMC ABI only.
 */
struct tg_recover_info {
	uint32_t nthreads;
	uint32_t nhandles;
	struct {
		uint32_t thread, a0, a1, a2;
	} threads[TG_RECOVER_MAX_THREADS];
	uint32_t handles[TG_RECOVER_MAX_HANDLES];
	uint32_t ndone;
	struct {
		uint32_t a0, a1, a2, a3;
	} done[TG_RECOVER_MAX_DONE];
	/*
	 * @mem: names of the domain's memory the TEE gave (FF-A: handles of
	 * FFA_MEM_SHARE/LEND/FRAG_TX answers) in the conversations the death
	 * cut short, not given back since: the guest saw those calls fail.
	 * Recovery gives each one back, whether its state recorded it or
	 * not. OP-TEE's SMC ABI has none (the guest names its buffers).
	 */
	uint32_t nmem;
	uint64_t mem[TG_RECOVER_MAX_MEM];
};

/**
 * struct tg_recover_ops - the port's side of a recovery.
 * @shm_claim: mark @npages shm pages at @va in use. tg_mediator_recover()
 *             calls it for every shm page the state references, after the
 *             port emptied its shm allocator: pages the dead process had
 *             taken but not linked anywhere are free again.
 * @keep_pins: the pins the domain's state references, in batches, then
 *             once with @count 0: every other pin the hypervisor holds
 *             for the domain must be dropped then.
 */
struct tg_recover_ops {
	void *ctx;
	void (*shm_claim)(void *ctx, void *va, uint32_t npages);
	int (*keep_pins)(void *ctx, uint32_t client_id, const uint64_t *pa,
			 uint32_t count);
};

/* What a domain's recovery did (for logs and tests). */
struct tg_recover_stats {
	uint32_t calls_kept;	  /* suspended calls the guest resumes */
	uint32_t calls_failed;	  /* in flight: the guest saw them fail */
	uint32_t threads_ended;	  /* TEE threads driven to completion */
	uint32_t bufs_kept;	  /* registered buffers kept */
	uint32_t bufs_dropped;	  /* half-done REGISTER/UNREGISTER_SHM */
	uint32_t sessions_kept;
	uint32_t sessions_closed; /* opened by a call that failed */
	uint64_t pins_kept;
};

/**
 * tg_mediator_recover() - adopt a mediator a dead process left.
 * @med:  the mediator as that process left it (its memory intact).
 * @port: this process's port (function pointers change with the process).
 *
 * All locks must be reset by the port first; nothing else may run. Resets
 * the domain table, ends domains that were being created, and claims the
 * shm pages still referenced (@ops->shm_claim). No SMC.
 * Return: TG_OK, TG_EINVAL (not a mediator state of this version).
 */
int tg_mediator_recover(struct tg_mediator *med, const struct tg_port *port,
			const struct tg_recover_ops *ops);

/**
 * tg_domain_recover() - after tg_mediator_recover(), make one domain
 * consistent again: suspended calls the guest can resume are kept, every
 * other call that was in flight is ended (its TEE thread driven to
 * completion with error answers; a half-done REGISTER_SHM, UNREGISTER_SHM
 * or OPEN_SESSION undone in the TEE), counters are recomputed, and the
 * pins the domain still needs are reported (@ops->keep_pins). May issue
 * SMCs for @client_id.
 * Return: TG_OK, TG_ENOENT.
 */
int tg_domain_recover(struct tg_mediator *med, uint32_t client_id,
		      const struct tg_recover_info *info,
		      const struct tg_recover_ops *ops,
		      struct tg_recover_stats *out);

const char *tg_strerror(int status);
const char *tg_refusal_name(enum tg_refusal r);
const char *tg_call_kind_name(enum tg_call_kind k);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_MEDIATOR_H */
