/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The channel between the hypervisor and an out-of-process mediator
 * (sandboxed and service isolation modes), shared by both sides.
 *
 * One memfd holds a header, TG_CHAN_SLOTS slots and the shadow allocator's
 * bitmap. A slot carries one conversation at a time, strictly alternating:
 *
 *   hypervisor                          mediator worker of the slot
 *   CALL (handle_smc, domain create..) ->
 *                                    <-  PORT request (pin, copy, smc...)
 *   PORT answer                       ->
 *                                    <-  ... DONE (status, registers)
 *
 * Every field of a slot is written by the mediator process, which the
 * hypervisor does not trust in sandboxed mode: the hypervisor snapshots a
 * request once, checks it against the call it is serving, and never
 * follows a pointer the mediator wrote.
 *
 * Only how a side waits for the other differs between the modes
 * (enum tg_chan_notify): a futex after a short spin (sandboxed), or an
 * eventfd per slot and direction (service, event-channel style), with an
 * optional polling phase.
 */
#ifndef TG_HOST_CHANNEL_H
#define TG_HOST_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TG_CHAN_MAGIC 0x74676368616e31ull /* "tgchan1" */
#define TG_CHAN_SLOTS 16u
#define TG_CHAN_DATA 65536u
#define TG_CHAN_MAX_SHADOW_PAGES 4096u
/* TG_CALL_HANDLE_SMC may carry the first bytes the mediator will read
 * (hyp_proto.c, tg_hyp_prefetch): a message header and 7 parameters */
#define TG_CHAN_PREFETCH 256u
/* ... and its DONE the guest's results (copy_to_guest_late), at most this
 * many bytes of struct tg_chan_late entries, each followed by its bytes
 * padded to 8 */
#define TG_CHAN_LATE 4096u

/* Conversation steps (struct tg_chan_msg.op). */
enum tg_chan_op {
	/* hypervisor -> mediator: calls */
	TG_CALL_NONE = 0,
	TG_CALL_MEDIATOR_CREATE, /* data: struct tg_config */
	TG_CALL_MEDIATOR_DESTROY,
	TG_CALL_DOMAIN_CREATE,	 /* cid; data: struct tg_limits; arg0: has */
	TG_CALL_DOMAIN_DESTROY,	 /* cid: one step */
	TG_CALL_DOMAIN_STATS,	 /* cid -> data: struct tg_domain_stats */
	TG_CALL_HANDLE_SMC,	 /* cid, vcpu, regs -> regs, arg0 = handled;
				  * len: bytes of guest memory at IPA arg1
				  * in data, read at the call (0: none);
				  * DONE: count late writes in data, len
				  * bytes of them */
	TG_CALL_NOTIF_IRQ,
	TG_CALL_EXIT,		 /* worker leaves (graceful stop) */
	TG_CALL_MEDIATOR_RECOVER, /* adopt the state in the arena -> tee info */
	TG_CALL_DOMAIN_RECOVER,	 /* cid; data: tg_recover_info -> stats */
	TG_CALL_RECLAIM,	 /* cid; arg0: FOREIGN_INTR too (reclaim) */
	TG_CALL_COUNT,
	/* mediator -> hypervisor */
	TG_PORT_DONE = 100,	 /* status; regs/data as the call says */
	TG_PORT_PIN,		 /* cid, count; data: ipas -> pas */
	TG_PORT_UNPIN,		 /* cid, count; data: pas */
	TG_PORT_COPY_FROM,	 /* cid, arg0 = ipa, len -> data */
	TG_PORT_COPY_TO,	 /* cid, arg0 = ipa, len, data */
	TG_PORT_SMC,		 /* regs -> regs; arg0: FOREIGN_INTR answers
				  * to resume at once (-> count) */
	TG_PORT_LOG,		 /* arg0 = level, arg1 = value, cid; data: msg */
	TG_PORT_NOTIF,		 /* cid */
	TG_PORT_KEEP,		 /* cid, count; data: pas (count 0: done) */
};

/*
 * The mediator's state arena: a memfd the hypervisor creates and keeps,
 * mapped by every mediator process at the same address, so the pointers
 * in it stay valid across a restart. The shadow carve-out is mapped at a
 * fixed address too (shm pointers live in the state). Both lie in the
 * part of the address space that the sanitizers leave to programs.
 */
#define TG_ARENA_VA 0x7e8000000000ull
#define TG_ARENA_SIZE (1ull << 30) /* sparse: pages exist once touched */
#define TG_SHADOW_VA 0x7ec000000000ull

struct tg_chan_msg {
	uint32_t op;
	int32_t status;
	uint32_t cid;
	uint32_t vcpu;
	uint32_t count;
	uint32_t len;
	uint64_t arg0, arg1;
	uint64_t regs[8];
};

/* A write the hypervisor does with a guest call's answer (TG_CHAN_LATE). */
struct tg_chan_late {
	uint64_t ipa;
	uint32_t len;
	uint32_t cid;
};

struct tg_chan_slot {
	_Atomic uint32_t to_med;       /* hypervisor's turn counter */
	_Atomic uint32_t med_sleeping;
	/* with a CALL: the CPU the hypervisor serves it on when guests are
	 * co-located (place.c), -1 when not: the worker moves there */
	_Atomic int32_t cpu;
	uint32_t pad0[13];
	_Atomic uint32_t to_hyp;       /* mediator's turn counter */
	_Atomic uint32_t hyp_sleeping;
	uint32_t pad1[14];
	struct tg_chan_msg msg;
	uint8_t data[TG_CHAN_DATA] __attribute__((aligned(64)));
};

/**
 * struct tg_chan_hdr - start of the channel memory.
 * @shadow_base_pa, @shadow_pages: the mediator's shadow carve-out.
 * @shadow_map:  one bit per carve-out page, 1 = in use: the shadow
 *               allocator's state lives here (hypervisor-owned memory), so
 *               that a restarted mediator finds it.
 * @shadow_lock: spinlock word of that allocator.
 * @ready:       set by the mediator process once its workers wait.
 * @generation:  bumped by the hypervisor on every (re)start.
 */
struct tg_chan_hdr {
	uint64_t magic;
	uint32_t nslots;
	uint32_t notify; /* enum tg_chan_notify */
	uint64_t shadow_base_pa;
	uint32_t shadow_pages;
	uint32_t spin_ns;
	_Atomic uint32_t ready;
	_Atomic uint32_t generation;
	_Atomic uint32_t shadow_lock;
	uint32_t pad;
	uint64_t shadow_map[TG_CHAN_MAX_SHADOW_PAGES / 64];
};

struct tg_chan_mem {
	struct tg_chan_hdr hdr;
	struct tg_chan_slot slots[TG_CHAN_SLOTS] __attribute__((aligned(4096)));
};

enum tg_chan_notify {
	TG_CHAN_FUTEX = 0,   /* spin, then futex (sandboxed) */
	TG_CHAN_EVENTFD = 1, /* eventfd per slot and direction (service) */
	TG_CHAN_EVENTFD_POLL = 2, /* the same, polling first */
};

/**
 * struct tg_chan - one side's view of a channel.
 * @mem:    the shared memory.
 * @efd_med, @efd_hyp: eventfds (TG_CHAN_EVENTFD*), -1 otherwise.
 * @dead:   hypervisor side: set when the mediator process died; waits
 *          return false. NULL on the mediator side.
 * @near:   per slot, this side's own note that the conversation's peer
 *          runs on this CPU (co-located): wait by yielding, not spinning.
 */
struct tg_chan {
	struct tg_chan_mem *mem;
	enum tg_chan_notify notify;
	uint32_t spin_ns;
	int efd_med[TG_CHAN_SLOTS];
	int efd_hyp[TG_CHAN_SLOTS];
	_Atomic uint32_t *dead;
	bool near[TG_CHAN_SLOTS];
};

/*
 * Hand the slot to the other side (after writing msg/data): store @seq in
 * our turn counter. Each side counts hand-overs privately: the
 * hypervisor's n-th hand-over stores n in to_med, the mediator answers it
 * by storing n in to_hyp.
 */
void tg_chan_to_med(struct tg_chan *c, uint32_t slot, uint32_t seq);
void tg_chan_to_hyp(struct tg_chan *c, uint32_t slot, uint32_t seq);

/*
 * Wait until the other side handed the slot back (its counter reaches
 * @seq). Return false when the peer died (hypervisor side) or after
 * @timeout_ms (<0: never) with nothing.
 */
bool tg_chan_wait_hyp(struct tg_chan *c, uint32_t slot, uint32_t seq,
		      int timeout_ms);
bool tg_chan_wait_med(struct tg_chan *c, uint32_t slot, uint32_t seq,
		      int timeout_ms);

/* Wake every waiter of the hypervisor side (the peer died). */
void tg_chan_wake_all_hyp(struct tg_chan *c);

size_t tg_chan_mem_size(void);

#endif /* TG_HOST_CHANNEL_H */
