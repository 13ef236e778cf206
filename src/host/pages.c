// SPDX-License-Identifier: BSD-2-Clause
/*
 * Machine page ownership: an owner and a pin count per page, and a free
 * pool from which guests get pages at random so that their p2m is
 * scattered (no IPA run maps to a PA run, no identity page).
 *
 * Invariant: a page is in the free pool iff owner == TG_OWNER_FREE; a page
 * with pins > 0 never returns to the pool; a ballooned-out or orphaned
 * page keeps its owner (the oracle still counts it as that client's) with
 * TG_PAGE_BALLOONED until its last unpin.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static uint64_t rng_next(struct tg_machine *m)
{
	/* xorshift64*: plenty for scattering, not for secrets */
	uint64_t x = m->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void pool_push(struct tg_machine *m, uint64_t pfn)
{
	m->pages[pfn].pool_idx = (uint32_t)m->nfree;
	m->free_pool[m->nfree++] = (uint32_t)pfn;
}

static void pool_remove(struct tg_machine *m, uint64_t pfn)
{
	uint32_t idx = m->pages[pfn].pool_idx;
	uint32_t last = m->free_pool[--m->nfree];

	m->free_pool[idx] = last;
	m->pages[last].pool_idx = idx;
}

static bool pfn_reserved(const struct tg_machine *m, uint64_t pfn)
{
	uint64_t pa = m->ram_base + (pfn << TG_PAGE_SHIFT);
	uint32_t i;

	for (i = 0; i < m->nreserved; i++) {
		const struct tg_mem_region *r = &m->reserved[i];

		if (pa + TG_PAGE_SIZE > r->base && pa < r->base + r->size)
			return true;
	}
	return false;
}

int tg_pages_init(struct tg_machine *m)
{
	size_t meta = m->npages * sizeof(*m->pages);
	size_t pool = m->npages * sizeof(*m->free_pool);
	uint64_t pfn;

	/* Hypervisor state: wiped in forked guest processes. With real
	 * OP-TEE's oracle, the table shared with QEMU's plugin, which is
	 * not mapped in forked guests at all (MADV_DONTFORK). */
	m->pages = tg_qemu_backend_pages(m);
	m->pages_shared = m->pages != NULL;
	if (m->pages_shared)
		memset(m->pages, 0, meta);
	else
		m->pages = mmap(NULL, meta, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m->free_pool = mmap(NULL, pool, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->pages == MAP_FAILED || m->free_pool == MAP_FAILED)
		return TG_ENOMEM;
	if (!m->pages_shared)
		madvise(m->pages, meta, MADV_WIPEONFORK);
	madvise(m->free_pool, pool, MADV_WIPEONFORK);

	/* Shuffle nothing here: allocation picks at random. */
	for (pfn = 0; pfn < m->npages; pfn++) {
		if (pfn_reserved(m, pfn)) {
			atomic_store(&m->pages[pfn].owner, TG_OWNER_RESERVED);
			continue;
		}
		atomic_store(&m->pages[pfn].owner, TG_OWNER_FREE);
		pool_push(m, pfn);
	}
	return TG_OK;
}

void tg_pages_fini(struct tg_machine *m)
{
	if (m->pages && m->pages != MAP_FAILED && !m->pages_shared)
		munmap(m->pages, m->npages * sizeof(*m->pages));
	if (m->free_pool && m->free_pool != MAP_FAILED)
		munmap(m->free_pool, m->npages * sizeof(*m->free_pool));
	m->pages = NULL;
	m->free_pool = NULL;
}

/* A PA that would continue the run of the previous page, in either
 * direction, or equal its IPA, is not scattered enough. */
static bool pa_ok(uint64_t pa, uint64_t prev_pa, uint64_t ipa)
{
	if (pa == ipa)
		return false;
	if (prev_pa && (pa == prev_pa + TG_PAGE_SIZE ||
			pa + TG_PAGE_SIZE == prev_pa))
		return false;
	return true;
}

/**
 * tg_pages_alloc_scattered() - take @count pages from the pool for @owner,
 * for IPAs @ipa_base + i * 4 KiB, each chosen at random and never adjacent
 * to the page of the previous IPA.
 * Return: TG_OK or TG_ENOMEM (nothing taken).
 */
int tg_pages_alloc_scattered(struct tg_machine *m, uint32_t owner,
			     uint32_t count, uint64_t ipa_base,
			     _Atomic uint64_t *pa_out)
{
	uint64_t prev = 0, pfn = 0, pa = 0;
	uint32_t i, try;

	pthread_mutex_lock(&m->lock);
	if (m->nfree < count + 2u) {
		pthread_mutex_unlock(&m->lock);
		return TG_ENOMEM;
	}
	for (i = 0; i < count; i++) {
		uint64_t ipa = ipa_base + ((uint64_t)i << TG_PAGE_SHIFT);
		bool found = false;

		for (try = 0; try < 16 && !found; try++) {
			pfn = m->free_pool[rng_next(m) % m->nfree];
			pa = m->ram_base + (pfn << TG_PAGE_SHIFT);
			found = pa_ok(pa, prev, ipa);
		}
		for (uint64_t k = 0; k < m->nfree && !found; k++) {
			pfn = m->free_pool[k];
			pa = m->ram_base + (pfn << TG_PAGE_SHIFT);
			found = pa_ok(pa, prev, ipa);
		}
		if (!found)
			break;
		pool_remove(m, pfn);
		atomic_store(&m->pages[pfn].owner, owner);
		m->pages[pfn].flags = 0;
		atomic_store(&pa_out[i], pa);
		prev = pa;
	}
	if (i < count) {
		while (i--) {
			pfn = tg_pa_to_pfn(m, atomic_load(&pa_out[i]));
			atomic_store(&m->pages[pfn].owner, TG_OWNER_FREE);
			pool_push(m, pfn);
			atomic_store(&pa_out[i], 0);
		}
		pthread_mutex_unlock(&m->lock);
		return TG_ENOMEM;
	}
	pthread_mutex_unlock(&m->lock);
	return TG_OK;
}

/**
 * tg_pages_release_locked() - the owner lets go of a page (guest death,
 * balloon, shm free): back to the pool now if unpinned, else quarantined
 * until the last unpin. Caller holds m->lock.
 */
void tg_pages_release_locked(struct tg_machine *m, uint64_t pfn)
{
	struct tg_page_meta *p = &m->pages[pfn];

	if (p->pins) {
		p->flags |= TG_PAGE_BALLOONED;
		return;
	}
	tg_mem_discard(m, pfn, 1);
	p->flags = 0;
	atomic_store(&p->owner, TG_OWNER_FREE);
	pool_push(m, pfn);
}

/**
 * tg_pages_alloc_contig() - @count physically contiguous free pages for
 * @owner (mediator shm). Single pages come from the pool at random; runs
 * are searched for from a random start.
 */
int tg_pages_alloc_contig(struct tg_machine *m, uint32_t owner,
			  uint32_t count, uint64_t *pa)
{
	uint64_t start, pfn, run = 0, k;

	if (!count || count > m->npages)
		return TG_EINVAL;
	pthread_mutex_lock(&m->lock);
	if (m->nfree < count) {
		pthread_mutex_unlock(&m->lock);
		return TG_ENOMEM;
	}
	if (count == 1) {
		pfn = m->free_pool[rng_next(m) % m->nfree];
		goto take;
	}
	start = rng_next(m) % m->npages;
	for (k = 0; k < m->npages; k++) {
		pfn = (start + k) % m->npages;
		if (pfn == 0)
			run = 0;
		if (atomic_load(&m->pages[pfn].owner) != TG_OWNER_FREE) {
			run = 0;
			continue;
		}
		if (++run == count) {
			pfn = pfn + 1 - count;
			goto take;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return TG_ENOMEM;

take:
	for (k = 0; k < count; k++) {
		pool_remove(m, pfn + k);
		atomic_store(&m->pages[pfn + k].owner, owner);
		m->pages[pfn + k].flags = 0;
	}
	pthread_mutex_unlock(&m->lock);
	*pa = m->ram_base + (pfn << TG_PAGE_SHIFT);
	return TG_OK;
}

void tg_pages_free_contig(struct tg_machine *m, uint64_t pa, uint32_t count)
{
	uint64_t pfn = tg_pa_to_pfn(m, pa), k;

	pthread_mutex_lock(&m->lock);
	for (k = 0; k < count; k++)
		tg_pages_release_locked(m, pfn + k);
	pthread_mutex_unlock(&m->lock);
}

/* Does any page still carry @client_id as owner (quarantined pins)? */
bool tg_pages_client_has_leftovers(struct tg_machine *m, uint32_t client_id)
{
	uint64_t pfn;

	for (pfn = 0; pfn < m->npages; pfn++)
		if (atomic_load_explicit(&m->pages[pfn].owner,
					 memory_order_relaxed) == client_id)
			return true;
	return false;
}
