/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's interface to a protocol mediator. The core owns the
 * mediator object, the domain table (client id -> domain, lock-free on
 * the call path), the domain life cycle (create, resumable destroy) and
 * the recovery of a dead process's state; a protocol owns what a domain
 * is in that protocol and every SMC.
 *
 * The core names no protocol: the library's table tg_protocols[] (built
 * outside src/core, src/protocols.c) maps enum tg_protocol to these ops;
 * tests/core/test_no_protocol_names.sh proves it.
 */
#ifndef TEEGATE_CORE_PROTO_H
#define TEEGATE_CORE_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include <teegate/mediator.h>

struct tg_domain;

/**
 * struct tg_proto - one protocol mediator.
 * @probe:        ask the TEE whether it speaks this protocol; fill
 *                med->tee and med->pm. TG_ENOTEE: it does not (nothing
 *                kept); any other error ends tg_mediator_create().
 * @fini:         undo @probe (every domain is gone).
 * @is_call:      @fid belongs to the TEE in this protocol (anything else
 *                is the hypervisor's: PSCI, its own calls); asked only
 *                for a client id without a domain.
 * @no_domain:    the answer to a TEE call of an unknown client id.
 * @domain_init:  a guest appears: its state in d->pd, the TEE told
 *                (VM_CREATED, notification bitmap). @limits: as given to
 *                tg_domain_create(), or the mediator's (zero fields:
 *                the protocol's defaults).
 * @domain_destroy_step: one bounded step (TG_AGAIN until done); the
 *                guest's vCPUs are stopped.
 * @domain_free:  free the domain's state (after destroy, a failed init,
 *                or one half built by a process that died: detach
 *                first, so that a second free frees nothing).
 * @handle_put:   one guest SMC of a live domain (@pd: its d->pd), @regs
 *                in and out; drops the caller's reference on the domain
 *                (its d->active, which @domain_init took the address of)
 *                when done, so that the core's dispatch is a tail call.
 *                Return: true (a TEE call), false (not one: @regs
 *                untouched).
 * @stats:        the domain's counters.
 * @notif_irq:    the TEE's notification interrupt.
 * @recover:      adopt the state a dead process left (no SMC): claim the
 *                shm pages its state references (the slots' state is
 *                LIVE, SLOT_LIVE_OPS, DYING or FREEING for the domains).
 * @domain_recover: make one domain consistent again (SMCs allowed).
 */
struct tg_proto {
	/*
	 * @fast: the built-in protocol: its live domains are SLOT_LIVE, its
	 * state inline in the core's structures (src/builtin_proto.h) and
	 * its entry tg_handle_smc()'s fast path, which defines it (the core
	 * only lends it domain_get() and the table). @handle_put, @is_call
	 * and @no_domain are then unused. Any other protocol's live domains
	 * are SLOT_LIVE_OPS, its calls reach @handle_put through the miss
	 * path (tg_proto_handle_miss()).
	 */
	bool fast;
	int (*probe)(struct tg_mediator *med);
	void (*fini)(struct tg_mediator *med);
	bool (*is_call)(uint32_t fid);
	void (*no_domain)(uint64_t regs[8]);
	int (*domain_init)(struct tg_domain *d, const struct tg_limits *limits);
	int (*domain_destroy_step)(struct tg_domain *d);
	void (*domain_free)(struct tg_domain *d);
	void (*idle)(struct tg_mediator *med); /* no domain left; optional */
	bool (*handle_put)(void *pd, uint64_t regs[8]);
	void (*stats)(struct tg_domain *d, struct tg_domain_stats *out);
	void (*notif_irq)(struct tg_mediator *med);
	void (*recover)(struct tg_mediator *med,
			const struct tg_recover_ops *ops);
	int (*domain_recover)(struct tg_domain *d,
			      const struct tg_recover_info *ri,
			      const struct tg_recover_ops *ops,
			      struct tg_recover_stats *out);
};

/* The protocols of this library, by enum tg_protocol (NULL: not built). */
extern const struct tg_proto *const tg_protocols[TG_PROTOCOL_COUNT];

/* src/core/proto.c: what the core does for a protocol behind the ops. */
bool tg_proto_handle_miss(struct tg_mediator *med, struct tg_domain *first,
			  uint32_t client_id, uint64_t regs[8]);

#endif /* TEEGATE_CORE_PROTO_H */
