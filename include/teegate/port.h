/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * struct tg_port - what a hypervisor implements so that the mediator can run
 * inside it.
 *
 * The mediator core is freestanding: it allocates, locks, logs, touches
 * guest memory and talks to the TEE only through these callbacks. The port
 * is deliberately small and coarse-grained (batched pinning, whole-range
 * copies), because in the sandboxed isolation mode every call below is a
 * round trip to another process.
 *
 * Every callback receives @ctx, the port's private pointer. Callbacks that
 * act on guest memory receive the client id of the domain on whose behalf
 * the mediator is acting; a port may (and in sandboxed mode must) refuse
 * requests for any domain other than the one whose call is being handled.
 *
 * Unless stated otherwise a callback may be called concurrently from
 * several threads (several vCPUs of several domains), and no mediator lock
 * is held across @smc.
 */
#ifndef TEEGATE_PORT_H
#define TEEGATE_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_PAGE_SIZE 4096u
#define TG_PAGE_SHIFT 12u
#define TG_PAGE_MASK ((uint64_t)TG_PAGE_SIZE - 1)

/* Status codes shared by the port and the mediator API. */
enum tg_status {
	TG_OK = 0,
	TG_AGAIN = 1,	 /* resumable operation: call again */
	TG_EINVAL = -1,	 /* bad argument from the caller */
	TG_ENOMEM = -2,	 /* allocation failed */
	TG_EFAULT = -3,	 /* address not owned by the domain, or not RAM */
	TG_EEXIST = -4,	 /* already exists (duplicate client id, cookie) */
	TG_ENOENT = -5,	 /* no such domain */
	TG_ENOTSUP = -6, /* TEE lacks a required feature */
	TG_EBUSY = -7,	 /* resource in use */
	TG_ENOTEE = -8,	 /* no TEE answered, or not OP-TEE */
	TG_ELIMIT = -9,	 /* a configured limit was reached */
	TG_EPROTO = -10, /* the TEE answered something unexpected */
};

enum tg_log_level {
	TG_LOG_ERROR = 0,
	TG_LOG_WARN = 1,
	TG_LOG_INFO = 2,
	TG_LOG_DEBUG = 3,
};

/* A lock object owned by the port; the mediator never looks inside. */
struct tg_lock;

struct tg_port {
	void *ctx;

	/**
	 * pin_pages() - translate and pin @count guest pages.
	 * @guest_ipa: page-aligned IPAs chosen by the guest (hostile values:
	 *             the port must check each one is RAM of @client_id).
	 * @pa:        out, the machine address of each page.
	 *
	 * All or nothing: on failure no page stays pinned. A pinned page must
	 * not be freed, ballooned away or given to anyone else until it is
	 * unpinned. The same page may be pinned several times (a count).
	 * Return: TG_OK, TG_EFAULT (a page is not the domain's RAM) or
	 * TG_ENOMEM.
	 */
	int (*pin_pages)(void *ctx, uint32_t client_id,
			 const uint64_t *guest_ipa, uint64_t *pa,
			 uint32_t count);

	/** unpin_pages() - drop one pin of each page in @pa. */
	void (*unpin_pages)(void *ctx, uint32_t client_id, const uint64_t *pa,
			    uint32_t count);

	/**
	 * copy_from_guest() / copy_to_guest() - copy bytes by guest IPA.
	 * The range may cross pages; each page is translated separately.
	 * Return: TG_OK or TG_EFAULT (some byte is not the domain's RAM; in
	 * that case nothing useful was copied and the caller must fail the
	 * call).
	 */
	int (*copy_from_guest)(void *ctx, uint32_t client_id, void *dst,
			       uint64_t guest_ipa, uint32_t len);
	int (*copy_to_guest)(void *ctx, uint32_t client_id, uint64_t guest_ipa,
			     const void *src, uint32_t len);

	/** alloc() / free() - mediator-private memory (bookkeeping). */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);

	/**
	 * shm_alloc() - @npages physically contiguous, page-aligned pages of
	 * mediator-owned memory that the TEE can read and write (shadow
	 * arguments, shadow page lists). Returns the mapping and its machine
	 * address in @pa, or NULL.
	 */
	void *(*shm_alloc)(void *ctx, uint32_t npages, uint64_t *pa);
	void (*shm_free)(void *ctx, void *va, uint32_t npages);

	/**
	 * smc() - issue an SMC to the secure world: @regs holds a0..a7 in and
	 * a0..a7 out. The mediator has already put the client id in a7.
	 */
	void (*smc)(void *ctx, uint64_t regs[8]);

	/* Locks: short critical sections only, never held across smc(). */
	struct tg_lock *(*lock_create)(void *ctx);
	void (*lock_destroy)(void *ctx, struct tg_lock *lock);
	void (*lock)(void *ctx, struct tg_lock *lock);
	void (*unlock)(void *ctx, struct tg_lock *lock);

	/** log() - a static message and one number; may be NULL. */
	void (*log)(void *ctx, enum tg_log_level level, uint32_t client_id,
		    const char *msg, uint64_t value);

	/**
	 * raise_notif_irq() - raise the TEE notification interrupt in a
	 * guest (async notifications). May be NULL if the hypervisor does not
	 * offer async notifications; the mediator then hides the capability.
	 */
	void (*raise_notif_irq)(void *ctx, uint32_t client_id);

	/*
	 * Optional callbacks (NULL: the mediator does without). They are
	 * used only off the guests' call paths: when a thread is taken back
	 * from a guest that sits on it, and in teardown and recovery.
	 */

	/**
	 * now_ns() - a monotonic clock in nanoseconds. Without it the
	 * mediator never takes back a TEE thread a guest sits on (fair
	 * sharing then rests on the per-domain cap alone; see
	 * docs/threat-model.md).
	 */
	uint64_t (*now_ns)(void *ctx);

	/**
	 * smc_resume_intr() - issue @regs like smc(); then, as long as the
	 * TEE answers RPC FOREIGN_INTR and at most @max times, resume that
	 * thread at once (RETURN_FROM_RPC with a3 = the thread the TEE named
	 * and a7 as in @regs), taking the hypervisor's own pending
	 * interrupts in between as it would between two SMCs. @regs gets
	 * the last answer. The mediator asks for it only for calls whose
	 * guest is not there to resume them (a dying guest's, one taken
	 * back), so that an out-of-process mediator does not pay a round
	 * trip per interrupt. A port may stop early (e.g. after a time
	 * slice): the mediator goes on where it stopped.
	 * Return: the number of FOREIGN_INTR it resumed.
	 */
	uint32_t (*smc_resume_intr)(void *ctx, uint64_t regs[8],
				    uint32_t max);

	/**
	 * copy_to_guest_late() - optional: copy_to_guest() of a call's
	 * results, which the port may do when the call's answer goes back
	 * to the guest (before the guest can see the answer) instead of
	 * now. The mediator uses it only where it ignores the result anyway
	 * (a guest that unmapped its message loses its own results), so a
	 * port that defers may return TG_OK. An out-of-process mediator
	 * carries these writes with its answer: one round trip fewer.
	 * NULL: the mediator uses copy_to_guest() there.
	 */
	int (*copy_to_guest_late)(void *ctx, uint32_t client_id,
				  uint64_t guest_ipa, const void *src,
				  uint32_t len);
};

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_PORT_H */
