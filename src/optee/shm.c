// SPDX-License-Identifier: BSD-2-Clause
/*
 * Per-domain tables: registered shared memory (by cookie), RPC buffers and
 * open sessions. Every function here expects the domain lock held, except
 * the free and release functions, which act on an unlinked object.
 */
#include "optee.h"

static uint32_t cookie_bucket(uint64_t cookie)
{
	uint64_t h = cookie * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> (64 - TG_SHM_HASH_BITS));
}

struct shm_buf *shm_find(struct tg_domain *d, uint64_t cookie)
{
	struct shm_buf *b;

	for (b = d->shm[cookie_bucket(cookie)]; b; b = b->next)
		if (b->cookie == cookie)
			return b;
	return NULL;
}

void shm_insert(struct tg_domain *d, struct shm_buf *b)
{
	uint32_t i = cookie_bucket(b->cookie);

	b->next = d->shm[i];
	d->shm[i] = b;
	d->shm_count++;
}

void shm_unlink(struct tg_domain *d, struct shm_buf *b)
{
	struct shm_buf **pp = &d->shm[cookie_bucket(b->cookie)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			d->shm_count--;
			return;
		}
	}
}

/* Free the bookkeeping of an unlinked buffer whose pages are unpinned. */
void shm_buf_free(struct tg_domain *d, struct shm_buf *b)
{
	struct tg_mediator *med = d->med;

	pagelist_free_list(d, b->list, b->list_pages);
	tg_free(med, b->pa, sizeof(uint64_t) * b->npages);
	tg_free(med, b->guest_ipa, shm_buf_ipa_bytes(b->npages));
	tg_free(med, b, sizeof(*b));
}

/*
 * shm_buf_compact() - once the TEE has taken a registered buffer (it copies
 * the page list during REGISTER_SHM and never reads it again), keep its
 * pinned PAs in a private array of exactly npages entries and give the
 * list pages back: a registered page then costs 16 bytes (its PA and its
 * IPA) instead of a whole list page for a small buffer. Called before the
 * buffer is READY, so nothing else looks at it. @pa is recorded before
 * @list is dropped: a death in between leaves both, never neither.
 * Without memory for the array the list stays the record.
 */
void shm_buf_compact(struct tg_domain *d, struct shm_buf *b)
{
	struct tg_port *port = &d->med->port;
	uint32_t lp, n = b->npages, per = OPTEE_MSG_PAGELIST_ENTRIES;
	uint64_t *pa, *list = b->list;

	pa = port->alloc(port->ctx, sizeof(uint64_t) * n);
	if (!pa)
		return;
	for (lp = 0; lp < b->list_pages; lp++)
		memcpy(pa + lp * per, list + lp * (per + 1),
		       sizeof(uint64_t) * (n - lp * per < per ? n - lp * per
							      : per));
	b->pa = pa;
	b->list = NULL;
	pagelist_free_list(d, list, b->list_pages);
	b->list_pages = 0;
}

/* Unpin up to @max pages of @b from page @from. Return: how many. */
uint32_t shm_buf_unpin(struct tg_domain *d, struct shm_buf *b, uint32_t from,
		       uint32_t max)
{
	struct tg_port *port = &d->med->port;
	uint32_t n;

	if (!b->pa)
		return pagelist_unpin(d, b->list, b->npages, from, max);
	if (from >= b->npages)
		return 0;
	n = b->npages - from < max ? b->npages - from : max;
	port->unpin_pages(port->ctx, dom_id(d), b->pa + from, n);
	return n;
}

struct rpc_buf *rpc_buf_find(struct tg_domain *d, uint64_t cookie)
{
	struct rpc_buf *b;

	for (b = d->rpc_bufs; b; b = b->next)
		if (b->cookie == cookie)
			return b;
	return NULL;
}

bool rpc_cookie_taken(struct tg_domain *d, uint64_t cookie)
{
	return rpc_buf_find(d, cookie) != NULL;
}

void rpc_buf_insert(struct tg_domain *d, struct rpc_buf *b)
{
	b->next = d->rpc_bufs;
	d->rpc_bufs = b;
	d->rpc_count++;
}

void rpc_buf_unlink(struct tg_domain *d, struct rpc_buf *b)
{
	struct rpc_buf **pp;

	for (pp = &d->rpc_bufs; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			d->rpc_count--;
			return;
		}
	}
}

/* Unpin and free an unlinked RPC buffer. */
void rpc_buf_release(struct tg_domain *d, struct rpc_buf *b)
{
	struct tg_mediator *med = d->med;
	struct tg_port *port = &med->port;

	if (b->list) {
		pagelist_unpin(d, b->list, b->npages, 0, UINT32_MAX);
		pin_unreserve(d, b->npages);
		pagelist_free_list(d, b->list, b->list_pages);
	} else if (b->arg_pa) {
		port->unpin_pages(port->ctx, dom_id(d), &b->arg_pa, 1);
		pin_unreserve(d, 1);
	}
	if (b->shadow) {
		port->shm_free(port->ctx, b->shadow, 1);
		atomic_fetch_sub(&d->shadow_pages, 1);
	}
	tg_free(med, b, sizeof(*b));
}

/* Lock held. The caller reserved room (sessions_reserved) before the open. */
void session_add(struct tg_domain *d, uint32_t session)
{
	uint32_t i, hwm = atomic_load(&d->session_hwm);

	if (!session || session_known(d, session))
		return;
	for (i = 0; i < hwm; i++)
		if (!atomic_load(&d->sessions[i]))
			break;
	if (i == d->limits.max_sessions)
		return;
	atomic_store(&d->sessions[i], session);
	if (i == hwm)
		atomic_store(&d->session_hwm, hwm + 1);
	d->session_count++;
}

/* Lock held. */
void session_remove(struct tg_domain *d, uint32_t session)
{
	uint32_t i, hwm = atomic_load(&d->session_hwm);

	for (i = 0; i < hwm; i++) {
		if (atomic_load(&d->sessions[i]) == session) {
			atomic_store(&d->sessions[i], 0);
			d->session_count--;
			break;
		}
	}
	while (hwm && !atomic_load(&d->sessions[hwm - 1]))
		hwm--;
	atomic_store(&d->session_hwm, hwm);
}

/* Lock held: any open session, 0 if none. */
uint32_t session_any(struct tg_domain *d)
{
	uint32_t hwm = atomic_load(&d->session_hwm);

	return hwm ? atomic_load(&d->sessions[hwm - 1]) : 0;
}
