// SPDX-License-Identifier: BSD-2-Clause
/*
 * The domain table: client id -> domain, without a lock on the per-call
 * path.
 *
 * Slots live in one array allocated with the mediator and are never freed
 * before it, so a reader may always touch a slot's atomic fields. A reader
 * announces itself by incrementing @active and then re-checks the slot's
 * state and id; a destroyer moves the state away from LIVE first and then
 * waits for @active to drain. With sequentially consistent atomics on both
 * sides, at least one of them sees the other, so no reader uses a domain
 * whose memory is being freed.
 */
#include "internal.h"

/* Reference a slot whose state is one of @ok_mask (bit per state). */
static struct tg_domain *slot_ref(struct tg_mediator *med, uint32_t client_id,
				  uint32_t ok_mask)
{
	uint32_t mask = med->nslots - 1;
	uint32_t i = slot_hash(client_id, mask);
	uint32_t n, st;

	for (n = 0; n < med->nslots; n++, i = (i + 1) & mask) {
		struct tg_domain *d = &med->slots[i];

		st = atomic_load(&d->state);
		if (st == SLOT_EMPTY)
			return NULL;
		if (atomic_load_explicit(&d->client_id, memory_order_relaxed) !=
		    client_id)
			continue;
		if (!(ok_mask & (1u << st)))
			continue;
		atomic_fetch_add(&d->active, 1);
		st = atomic_load(&d->state);
		if ((ok_mask & (1u << st)) &&
		    atomic_load(&d->client_id) == client_id)
			return d;
		atomic_fetch_sub(&d->active, 1);
	}
	return NULL;
}

struct tg_domain *domain_get_slow(struct tg_mediator *med, uint32_t client_id)
{
	if (client_id == 0 || client_id > TG_MAX_CLIENT_ID)
		return NULL;
	return slot_ref(med, client_id, 1u << med->live);
}

/* Find any slot that holds @client_id (table lock held). */
static struct tg_domain *slot_find_locked(struct tg_mediator *med,
					  uint32_t client_id,
					  struct tg_domain **free_slot)
{
	uint32_t mask = med->nslots - 1;
	uint32_t i = slot_hash(client_id, mask);
	uint32_t n, st;

	if (free_slot)
		*free_slot = NULL;
	for (n = 0; n < med->nslots; n++, i = (i + 1) & mask) {
		struct tg_domain *d = &med->slots[i];

		st = atomic_load(&d->state);
		if (st == SLOT_EMPTY || st == SLOT_TOMB) {
			if (free_slot && !*free_slot)
				*free_slot = d;
			if (st == SLOT_EMPTY)
				return NULL;
			continue;
		}
		if (atomic_load(&d->client_id) == client_id)
			return d;
	}
	return NULL;
}

/*
 * Fair sharing of the TEE's threads: the reserve. Every thread a guest
 * holds is a call of it in flight: inside the SMC or suspended in an RPC,
 * which a hostile guest can leave unanswered, and a FOREIGN_INTR cannot
 * be answered for it, only run further. So with T >= 2 threads no domain
 * may hold more than T-1, even while it is alone: threads already held
 * are not given back when another domain comes, and the last one must
 * stay within the newcomer's reach whatever the order of arrival. Threads
 * sat on by several domains are taken back (the protocol's policy). The cap
 * costs a lone guest one thread of parallelism (docs/threat-model.md);
 * cfg.no_thread_reserve keeps it only while two domains or more exist.
 * Called with the table lock held whenever a domain is created or freed;
 * the call path only reads call_cap. A domain held back after a thread
 * was taken from it keeps call_cap 0 until fair.c lifts it.
 */
static void update_call_caps(struct tg_mediator *med)
{
	uint32_t threads = med->tee.thread_count, fair = threads, i, cap;

	if (threads >= 2 &&
	    (!med->cfg.no_thread_reserve || med->live_domains >= 2))
		fair = threads - 1;
	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *d = &med->slots[i];
		uint32_t st = atomic_load(&d->state);

		if (st != med->live && st != SLOT_DYING)
			continue;
		cap = d->limits.max_calls < fair ? d->limits.max_calls : fair;
		atomic_store(&d->fair_cap, cap);
		atomic_store(&d->call_cap, d->held_until ? 0 : cap);
	}
}

int tg_domain_create(struct tg_mediator *med, uint32_t client_id,
		     const struct tg_limits *limits)
{
	struct tg_domain *d, *slot;
	int rc;

	if (!med || client_id == 0 || client_id > TG_MAX_CLIENT_ID)
		return TG_EINVAL;

	med->port.lock(med->port.ctx, med->table_lock);
	d = slot_find_locked(med, client_id, &slot);
	if (d) {
		rc = TG_EEXIST;
		goto out_unlock;
	}
	if (med->live_domains >= med->cfg.max_domains ||
	    (!med->tee.virtualization && med->live_domains >= 1) || !slot) {
		rc = TG_ELIMIT;
		goto out_unlock;
	}
	/*
	 * A reader still holding @active on a reused tombstone re-checks the
	 * state and id after its increment and leaves; destroy waits for it.
	 */
	d = slot;
	atomic_store(&d->client_id, client_id);
	atomic_store(&d->state, SLOT_CREATING);
	med->live_domains++;
	med->port.unlock(med->port.ctx, med->table_lock);

	d->med = med;
	/* The protocol applies its defaults and tells the TEE (VM_CREATED). */
	d->limits = limits ? *limits : med->cfg.limits;
	rc = med->proto->domain_init(d, &d->limits);
	if (rc)
		goto err_release;
	med->port.lock(med->port.ctx, med->table_lock);
	atomic_store(&d->state, med->live);
	update_call_caps(med);
	med->port.unlock(med->port.ctx, med->table_lock);
	tg_log(med, TG_LOG_INFO, client_id, "domain created", 0);
	return TG_OK;

err_release:
	med->port.lock(med->port.ctx, med->table_lock);
	atomic_store(&d->state, SLOT_TOMB);
	med->live_domains--;
	update_call_caps(med);
out_unlock:
	med->port.unlock(med->port.ctx, med->table_lock);
	return rc;
}

/*
 * One bounded step of teardown: the protocol's part does at most one SMC
 * and a bounded number of unpins per step.
 */
static int destroy_step(struct tg_mediator *med, struct tg_domain *d)
{
	uint32_t st = atomic_load(&d->state);
	bool last;
	int rc;

	if (st == med->live) {
		atomic_store(&d->state, SLOT_DYING);
		st = SLOT_DYING;
		/* Teardown's own calls need a slot: no hold (fair.c). */
		med->port.lock(med->port.ctx, med->table_lock);
		atomic_store(&d->held_until, 0);
		atomic_store(&d->call_cap, atomic_load(&d->fair_cap));
		med->port.unlock(med->port.ctx, med->table_lock);
	}
	if (st == SLOT_DYING) {
		rc = med->proto->domain_destroy_step(d);
		if (rc != TG_OK)
			return rc;
		atomic_store(&d->state, SLOT_FREEING);
	}
	/* Readers that raced with the state change must have left. */
	if (atomic_load(&d->active))
		return TG_AGAIN;
	med->proto->domain_free(d);
	med->port.lock(med->port.ctx, med->table_lock);
	atomic_store(&d->state, SLOT_TOMB);
	med->live_domains--;
	update_call_caps(med);
	last = !med->live_domains;
	med->port.unlock(med->port.ctx, med->table_lock);
	/* No domain: what the protocol keeps for calls can go. */
	if (last && med->proto->idle)
		med->proto->idle(med);
	tg_log(med, TG_LOG_INFO, dom_id(d), "domain destroyed", 0);
	return TG_OK;
}

int tg_domain_destroy(struct tg_mediator *med, uint32_t client_id)
{
	struct tg_domain *d;
	uint32_t st;
	int rc;

	if (!med || client_id == 0 || client_id > TG_MAX_CLIENT_ID)
		return TG_EINVAL;
	med->port.lock(med->port.ctx, med->table_lock);
	d = slot_find_locked(med, client_id, NULL);
	st = d ? atomic_load(&d->state) : SLOT_EMPTY;
	med->port.unlock(med->port.ctx, med->table_lock);
	if (!d || st == SLOT_CREATING)
		return TG_ENOENT;
	if (atomic_exchange(&d->destroy_busy, 1))
		return TG_AGAIN; /* another thread is stepping it */
	rc = destroy_step(med, d);
	atomic_store(&d->destroy_busy, 0);
	return rc;
}

int tg_domain_stats(struct tg_mediator *med, uint32_t client_id,
		    struct tg_domain_stats *out)
{
	struct tg_domain *d;

	if (!med || !out)
		return TG_EINVAL;
	d = slot_ref(med, client_id, (1u << med->live) | (1u << SLOT_DYING));
	if (!d)
		return TG_ENOENT;
	med->proto->stats(d, out);
	out->threads_taken = atomic_load(&d->threads_taken);
	domain_put(d);
	return TG_OK;
}

void tg_tee_notif_irq(struct tg_mediator *med)
{
	if (med && med->port.raise_notif_irq)
		med->proto->notif_irq(med);
}
