/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mediator core internals: the mediator, the domain table, the slots'
 * life cycle. The core names no protocol (src/core/proto.h); each keeps
 * its own state. Freestanding: no libc but memcpy/memset/memcmp.
 */
#ifndef TEEGATE_CORE_INTERNAL_H
#define TEEGATE_CORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <teegate/mediator.h>
#include <teegate/port.h>

#include "proto.h"
/*
 * The built-in protocol, the one whose fast path is tg_handle_smc()'s,
 * keeps its per-domain and mediator-wide state inline in the core's
 * structures (constant offsets from a slot): src/builtin_proto.h, outside
 * src/core, names its header, which defines TG_BUILTIN_DOMAIN_FIELDS and
 * TG_BUILTIN_MEDIATOR_FIELDS. The core never reads those fields.
 */
#include "../builtin_proto.h"

#define TG_MAX_CLIENT_ID 0xFFFFu
#define TG_DEFAULT_MAX_DOMAINS 64u
#define TG_DEFAULT_DESTROY_STEP_PAGES 1024u
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

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

/*
 * A slot's address is slots + hash * sizeof(struct tg_domain) on every
 * call: a power of two keeps that one shift (tg_handle_smc()'s budget).
 * The size comes from padding, not from an alignment attribute: the table
 * is the port's allocation, aligned for any scalar only.
 */
#define TG_DOMAIN_SIZE 1024u

struct tg_domain {
	union {
		struct {
			_Atomic uint32_t state;
			_Atomic uint32_t client_id;
			_Atomic uint32_t active; /* vCPUs inside tg_handle_smc() */
			struct tg_mediator *med;
			struct tg_lock *lock; /* the protocol's: protects its state */
			struct tg_limits limits;
			/*
			 * TEE threads this domain may hold at once: its limit, and never all
			 * of the TEE's threads (fair sharing, see domain.c:update_call_caps()
			 * and the protocol's policy). @call_cap is what the protocol checks: 0
			 * while the domain is held back after a thread was taken from it
			 * (until @held_until, table lock), @fair_cap otherwise.
			 */
			_Atomic uint32_t call_cap;
			_Atomic uint32_t fair_cap;
			_Atomic uint64_t held_until;
			_Atomic uint64_t threads_taken;
			_Atomic uint32_t destroy_busy; /* one destroy step at a time */
			void *pd; /* the domain of a protocol behind the ops */

			/* The built-in protocol's per-domain state (the core never reads). */
			TG_BUILTIN_DOMAIN_FIELDS
		};
		unsigned char size_[TG_DOMAIN_SIZE];
	};
};

_Static_assert(sizeof(struct tg_domain) == TG_DOMAIN_SIZE,
	       "struct tg_domain is TG_DOMAIN_SIZE, a power of two");

struct tg_mediator {
	struct tg_port port;
	struct tg_config cfg;
	struct tg_tee_info tee;
	struct tg_lock *table_lock; /* domain create/destroy only */
	struct tg_domain *slots;
	uint32_t nslots; /* power of two */
	uint32_t slot_mask; /* nslots - 1 */
	uint32_t live_domains;
	enum tg_protocol protocol;
	/*
	 * The protocol's ops (tg_protocols[protocol]) and the cached
	 * handle_put of a protocol behind the ops (NULL for the built-in
	 * one): pointers into this process's program, set again by
	 * tg_mediator_recover() in the next one.
	 */
	const struct tg_proto *proto;
	bool (*handle_put)(void *pd, uint64_t regs[8]);
	uint32_t live;	/* SLOT_LIVE, or SLOT_LIVE_OPS behind the ops */
	void *pm;	/* the mediator of a protocol behind the ops */

	/* The built-in protocol's mediator-wide state. */
	TG_BUILTIN_MEDIATOR_FIELDS
};

/* ---- helpers used across files -------------------------------------------- */

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

void tg_log(struct tg_mediator *med, enum tg_log_level lvl, uint32_t client,
	    const char *msg, uint64_t value);
void *tg_zalloc(struct tg_mediator *med, size_t size);
void tg_free(struct tg_mediator *med, void *p, size_t size);

/* src/core/mediator.c */
void tg_mediator_bind_proto(struct tg_mediator *med);
void tg_limits_defaults(struct tg_limits *l, uint32_t tee_threads);

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
