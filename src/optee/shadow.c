// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shadow-page pool: the page each call in flight holds its shadow
 * message in (struct shadow_pool, in the mediator).
 *
 * OP-TEE takes a std call's argument by the machine address of a whole
 * page, so every call in flight needs one page of mediator memory. They
 * used to be allocated per call slot, T pages for every domain from its
 * creation (T: the TEE's thread count), so that an idle guest cost 4 KiB
 * per TEE thread. Here they are shared by all domains: a call takes a page
 * when it starts and gives it back when it completes. The number of calls
 * in flight is bounded by the TEE's threads (each holds one, or is about
 * to be refused one), so the pool grows to 2T pages at most; a call that
 * finds the pool empty and full-grown gets a page from the port that goes
 * back to the port when it completes. Nothing waits and nothing is
 * refused because the pool is small.
 *
 * Taking and giving back are one compare-and-swap and one atomic OR on a
 * bitmap (optee.h): the free map of the domain's stripe, one of
 * TG_SHADOW_STRIPES by client id, a cache line each, so that guests on
 * different cores do not write one line on every call. A call whose
 * stripe is empty takes from the others before the pool grows, and gives
 * the page back to its own: pages drift to the domains that call most,
 * and stay with the core that used them last. The page keeps the
 * previous call's bytes: only the TEE reads it beyond what the new call
 * writes, and what a guest is ever shown from it (copy_back(), the RPC
 * argument) is what the TEE wrote for that guest's call.
 *
 * Crash recovery (docs/isolation.md): a page is referenced by the pool
 * (va[i], pa[i]) for the mediator's whole life, so recovery claims every pool
 * page, and recomputes @free from the calls that hold one, by the page's
 * address (shadow_pool_bit_of()): a call's shadow_bit and shadow are two
 * plain stores, which a death may split in either order. A call drops
 * its reference (@shadow = NULL) before its bit is set free, and takes the
 * bit before it records the page, so a death in between leaves a page
 * that no call references: free again after recovery.
 */
#include "optee.h"

static uint64_t cap_mask(const struct shadow_pool *p)
{
	return p->cap >= 64 ? ~0ull : (1ull << p->cap) - 1;
}

/* Every map empty. */
static void shadow_pool_init_maps(struct shadow_pool *p)
{
	for (uint32_t s = 0; s < TG_SHADOW_STRIPES; s++)
		atomic_store(&p->stripe[s].free, 0);
	atomic_store(&p->used, 0);
}

void shadow_pool_init(struct tg_mediator *med)
{
	uint32_t cap = 2 * med->tee.thread_count;

	med->shadow.cap = cap < TG_SHADOW_POOL_MAX ? cap : TG_SHADOW_POOL_MAX;
	if (!med->shadow.cap)
		med->shadow.cap = 1;
	shadow_pool_init_maps(&med->shadow);
}

/* Every free bit, whichever stripe holds it (for recovery and tests). */
uint64_t shadow_pool_free_bits(const struct shadow_pool *p)
{
	uint64_t f = 0;

	for (uint32_t s = 0; s < TG_SHADOW_STRIPES; s++)
		f |= atomic_load(&p->stripe[s].free);
	return f;
}

/*
 * Give @d its stripe, by client id: before its first call, and again at
 * recovery (a domain that died half-built may have none yet).
 */
void shadow_stripe_set(struct tg_domain *d)
{
	d->shadow_free = &d->med->shadow
				  .stripe[dom_id(d) & (TG_SHADOW_STRIPES - 1)]
				  .free;
}

/* Take a free page from any stripe but @own. */
static bool steal(struct shadow_pool *p, _Atomic uint64_t *own,
		  struct optee_call *c, uint64_t *shadow_pa)
{
	for (uint32_t s = 0; s < TG_SHADOW_STRIPES; s++)
		if (&p->stripe[s].free != own &&
		    shadow_take_from(p, &p->stripe[s].free, c, shadow_pa))
			return true;
	return false;
}

/*
 * @d's stripe had no free page: take one from another stripe, else grow
 * the pool, else give the call a page of its own.
 */
bool shadow_take_slow(struct tg_domain *d, struct optee_call *c,
		      uint64_t *shadow_pa)
{
	struct tg_mediator *med = d->med;
	struct shadow_pool *p = &med->shadow;
	struct tg_port *port = &med->port;
	uint64_t used = atomic_load(&p->used), pa;
	void *va;

	if (steal(p, shadow_free_of(d), c, shadow_pa))
		return true;
	for (;;) {
		uint64_t room = ~used & cap_mask(p);
		uint32_t i;

		if (!room)
			break;
		i = (uint32_t)__builtin_ctzll(room);
		if (!atomic_compare_exchange_weak(&p->used, &used,
						  used | 1ull << i))
			continue;
		va = port->shm_alloc(port->ctx, 1, &pa);
		if (!va) {
			atomic_fetch_and(&p->used, ~(1ull << i));
			return false;
		}
		/* @pa first: a page with a @va is complete (recovery). */
		p->pa[i] = pa;
		__atomic_store_n(&p->va[i], va, __ATOMIC_RELEASE);
		c->shadow_bit = 1ull << i;
		c->shadow = va;
		*shadow_pa = pa;
		return true;
	}
	va = port->shm_alloc(port->ctx, 1, &pa);
	if (!va)
		return false;
	c->shadow_bit = 0;
	c->shadow = va;
	*shadow_pa = pa;
	return true;
}

void shadow_give_unpooled(struct tg_mediator *med, void *va)
{
	med->port.shm_free(med->port.ctx, va, 1);
}

/*
 * Give the port back every page no call holds (when the last domain is
 * gone, so that a mediator without domains holds no shadow page). Safe
 * against a concurrent take: it finds the bits gone and grows the pool.
 * The reference goes before the page (a death in between leaves the page
 * unreferenced, and recovery gives it back).
 */
void shadow_pool_drain(struct tg_mediator *med)
{
	struct shadow_pool *p = &med->shadow;
	uint64_t f = 0;

	for (uint32_t s = 0; s < TG_SHADOW_STRIPES; s++)
		f |= atomic_exchange(&p->stripe[s].free, 0);
	while (f) {
		uint32_t i = (uint32_t)__builtin_ctzll(f);
		void *va = p->va[i];

		f &= f - 1;
		p->va[i] = NULL;
		atomic_fetch_and(&p->used, ~(1ull << i));
		med->port.shm_free(med->port.ctx, va, 1);
	}
}

/* At mediator destruction: every call is FREE, so every page is free. */
void shadow_pool_free(struct tg_mediator *med)
{
	struct shadow_pool *p = &med->shadow;
	uint32_t i;

	for (i = 0; i < TG_SHADOW_POOL_MAX; i++) {
		void *va = p->va[i];

		if (!va)
			continue;
		p->va[i] = NULL;
		med->port.shm_free(med->port.ctx, va, 1);
	}
	shadow_pool_init_maps(p);
}

/**
 * shadow_pool_bit_of() - the pool bit of shadow page @va, 0 when @va is not
 * a pool page (a page of its own, or a pool page whose index the dead
 * process never recorded). Recovery goes by the page, never by a call's
 * shadow_bit: shadow_take() stores the bit and the page in two plain
 * stores that a death may split, in either order.
 */
uint64_t shadow_pool_bit_of(const struct tg_mediator *med, const void *va)
{
	uint32_t i;

	if (!va)
		return 0;
	for (i = 0; i < TG_SHADOW_POOL_MAX; i++)
		if (med->shadow.va[i] == va)
			return 1ull << i;
	return 0;
}

/* Pages held by the calls of @d's slots (recovery). */
static uint64_t held_by(struct tg_domain *d)
{
	uint64_t held = 0;
	uint32_t i;

	if (!d->calls)
		return 0;
	for (i = 0; i < d->limits.max_calls; i++) {
		struct optee_call *c = &d->calls[i];

		if (atomic_load(&c->state) != CALL_FREE && c->shadow)
			held |= c->shadow_bit;
	}
	return held;
}

/*
 * shadow_pool_recover() - after a death: claim every pool page, forget an
 * index whose page was never recorded, and mark free every page that no
 * call of a live domain references. Pages of a call that recovery then
 * ends come back through call_free() as usual.
 */
void shadow_pool_recover(struct tg_mediator *med,
			 const struct tg_recover_ops *ops)
{
	struct shadow_pool *p = &med->shadow;
	uint64_t used = 0, held = 0;
	uint32_t i;

	if (p->cap > TG_SHADOW_POOL_MAX)
		p->cap = TG_SHADOW_POOL_MAX;
	for (i = 0; i < TG_SHADOW_POOL_MAX; i++) {
		void *va = p->va[i];

		if (!va)
			continue;
		used |= 1ull << i;
		if (ops && ops->shm_claim)
			ops->shm_claim(ops->ctx, va, 1);
	}
	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *d = &med->slots[i];
		uint32_t st = atomic_load(&d->state);

		if (st == SLOT_LIVE || st == SLOT_DYING || st == SLOT_FREEING) {
			shadow_stripe_set(d);
			held |= held_by(d);
		}
	}
	/* free pages go back round robin: any stripe will do */
	shadow_pool_init_maps(p);
	atomic_store(&p->used, used);
	for (i = 0; i < TG_SHADOW_POOL_MAX; i++)
		if ((used & ~held) >> i & 1)
			atomic_fetch_or(&p->stripe[i % TG_SHADOW_STRIPES].free,
					1ull << i);
}
