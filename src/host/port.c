// SPDX-License-Identifier: BSD-2-Clause
/*
 * struct tg_port for the inline mediator: it runs in the hypervisor
 * process, so every callback is a direct function call.
 *
 * Guest addresses arrive from the mediator still guest-controlled
 * (guest_ipa): each one is checked against the client's p2m here, under
 * the guest's p2m lock so that a page cannot be ballooned away between the
 * check and the use.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/ffa_abi.h>

#include "internal.h"

/* A cache line each (port_lock_create()): the domains' locks are taken
 * on every CALL_WITH_REGD_ARG, and two of them in one line would make
 * guests on different cores wait for each other's cache misses. */
struct tg_lock {
	_Alignas(64) pthread_mutex_t mutex;
};

static const char *const level_names[] = { "error", "warn", "info",
					   "debug" };

void tg_host_log(struct tg_machine *m, enum tg_log_level level,
		 const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if ((int)level > m->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "teegate[%s]: %s\n",
		level_names[(unsigned int)level & 3u], buf);
}

struct tg_guest *tg_guest_by_client(struct tg_machine *m, uint32_t client_id)
{
	if (client_id == 0 || client_id > 0xFFFFu)
		return NULL;
	return atomic_load_explicit(&m->by_client[client_id],
				    memory_order_acquire);
}

/* Translate one guest page; caller holds g->p2m_lock. 0 = not its RAM. */
static uint64_t p2m_lookup(struct tg_guest *g, uint64_t guest_ipa)
{
	uint64_t idx;

	if (guest_ipa < TG_HOST_GUEST_IPA_BASE)
		return 0;
	idx = (guest_ipa - TG_HOST_GUEST_IPA_BASE) >> TG_PAGE_SHIFT;
	if (idx >= g->npages)
		return 0;
	return atomic_load_explicit(&g->p2m[idx], memory_order_relaxed);
}

static int port_pin_pages(void *ctx, uint32_t client_id,
			  const uint64_t *guest_ipa, uint64_t *pa,
			  uint32_t count)
{
	struct tg_machine *m = ctx;
	struct tg_guest *g = tg_guest_by_client(m, client_id);
	uint32_t i;
	int ret = TG_OK;

	if (!g)
		return TG_EFAULT;
	pthread_rwlock_rdlock(&g->p2m_lock);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < count; i++) {
		uint64_t ipa = guest_ipa[i]; /* read once */
		uint64_t page_pa;

		if (ipa & TG_PAGE_MASK) {
			ret = TG_EFAULT;
			break;
		}
		page_pa = p2m_lookup(g, ipa);
		if (!page_pa) {
			ret = TG_EFAULT;
			break;
		}
		m->pages[tg_pa_to_pfn(m, page_pa)].pins++;
		pa[i] = page_pa;
	}
	/* ret: undo; test_unpin_early (tests only): drop them already */
	if (ret || m->cfg.test_unpin_early) {
		while (i--)
			m->pages[tg_pa_to_pfn(m, pa[i])].pins--;
	}
	pthread_mutex_unlock(&m->lock);
	pthread_rwlock_unlock(&g->p2m_lock);
	return ret;
}

static void port_unpin_pages(void *ctx, uint32_t client_id, const uint64_t *pa,
			     uint32_t count)
{
	struct tg_machine *m = ctx;
	uint32_t i;

	if (m->cfg.test_unpin_early)
		return; /* dropped when taken */
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < count; i++) {
		uint64_t p = pa[i];
		struct tg_page_meta *meta;

		if (!tg_pa_is_ram(m, p)) {
			tg_host_log(m, TG_LOG_ERROR,
				    "unpin of non-RAM pa %#llx client %u",
				    (unsigned long long)p, client_id);
			continue;
		}
		meta = &m->pages[tg_pa_to_pfn(m, p)];
		if (atomic_load(&meta->owner) != client_id || !meta->pins) {
			tg_host_log(m, TG_LOG_ERROR,
				    "unpin of pa %#llx not pinned by client %u",
				    (unsigned long long)p, client_id);
			continue;
		}
		if (--meta->pins == 0 && (meta->flags & TG_PAGE_BALLOONED))
			tg_pages_release_locked(m, tg_pa_to_pfn(m, p));
	}
	pthread_mutex_unlock(&m->lock);
}

static int guest_copy(struct tg_machine *m, uint32_t client_id,
		      uint64_t guest_ipa, void *buf, uint32_t len, bool to_guest)
{
	struct tg_guest *g = tg_guest_by_client(m, client_id);
	uint8_t *p = buf;
	int ret = TG_OK;

	if (!g)
		return TG_EFAULT;
	if (guest_ipa + len < guest_ipa)
		return TG_EFAULT;
	pthread_rwlock_rdlock(&g->p2m_lock);
	while (len) {
		uint64_t off = guest_ipa & TG_PAGE_MASK;
		uint32_t chunk = (uint32_t)(TG_PAGE_SIZE - off);
		uint64_t pa = p2m_lookup(g, guest_ipa & ~TG_PAGE_MASK);
		uint8_t *va;

		if (!pa) {
			ret = TG_EFAULT;
			break;
		}
		if (chunk > len)
			chunk = len;
		va = m->ram + (pa - m->ram_base) + off;
		if (to_guest)
			memcpy(va, p, chunk);
		else
			memcpy(p, va, chunk);
		p += chunk;
		guest_ipa += chunk;
		len -= chunk;
	}
	pthread_rwlock_unlock(&g->p2m_lock);
	return ret;
}

static int port_copy_from_guest(void *ctx, uint32_t client_id, void *dst,
				uint64_t guest_ipa, uint32_t len)
{
	return guest_copy(ctx, client_id, guest_ipa, dst, len, false);
}

static int port_copy_to_guest(void *ctx, uint32_t client_id,
			      uint64_t guest_ipa, const void *src, uint32_t len)
{
	return guest_copy(ctx, client_id, guest_ipa, (void *)src, len, true);
}

static void *port_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void port_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

/* ---- shm: the carve-out first, then any contiguous run -------------- */

void tg_port_shm_pool_init(struct tg_machine *m, uint32_t pages)
{
	pthread_mutex_init(&m->shm_lock, NULL);
	/* at most 1/16 of RAM; without a carve-out, runs from the pool */
	if (pages > m->npages / 16)
		pages = (uint32_t)(m->npages / 16);
	m->shm_pool_map = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!pages || !m->shm_pool_map ||
	    tg_pages_alloc_contig(m, TG_OWNER_MEDIATOR, pages,
				  &m->shm_pool_pa)) {
		free(m->shm_pool_map);
		m->shm_pool_map = NULL;
		return;
	}
	m->shm_pool_pages = pages;
}

void tg_port_shm_pool_fini(struct tg_machine *m)
{
	if (m->shm_pool_map)
		tg_pages_free_contig(m, m->shm_pool_pa, m->shm_pool_pages);
	free(m->shm_pool_map);
	m->shm_pool_map = NULL;
	m->shm_pool_pages = 0;
}

static bool pool_bit(struct tg_machine *m, uint32_t i)
{
	return m->shm_pool_map[i / 64] >> (i % 64) & 1;
}

static void pool_set(struct tg_machine *m, uint32_t first, uint32_t n, bool on)
{
	uint32_t i;

	for (i = first; i < first + n; i++) {
		if (on)
			m->shm_pool_map[i / 64] |= 1ull << (i % 64);
		else
			m->shm_pool_map[i / 64] &= ~(1ull << (i % 64));
	}
}

uint64_t tg_port_idle_shm_pages(struct tg_machine *m)
{
	uint64_t idle = 0;
	uint32_t i;

	if (!m->shm_pool_map)
		return 0;
	pthread_mutex_lock(&m->shm_lock);
	for (i = 0; i < m->shm_pool_pages; i++)
		idle += !pool_bit(m, i);
	pthread_mutex_unlock(&m->shm_lock);
	return idle;
}

static void *port_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	struct tg_machine *m = ctx;
	uint32_t i, run = 0;
	uint8_t *va;

	if (m->shm_pool_map && npages) {
		pthread_mutex_lock(&m->shm_lock);
		for (i = 0; i < m->shm_pool_pages; i++) {
			run = pool_bit(m, i) ? 0 : run + 1;
			if (run == npages)
				break;
		}
		if (run == npages) {
			i = i + 1 - npages;
			pool_set(m, i, npages, true);
			pthread_mutex_unlock(&m->shm_lock);
			*pa = m->shm_pool_pa + (uint64_t)i * TG_PAGE_SIZE;
			va = m->ram + (*pa - m->ram_base);
			/* nothing of an earlier call shows through */
			memset(va, 0, (size_t)npages * TG_PAGE_SIZE);
			return va;
		}
		pthread_mutex_unlock(&m->shm_lock);
	}
	if (tg_pages_alloc_contig(m, TG_OWNER_MEDIATOR, npages, pa))
		return NULL;
	return m->ram + (*pa - m->ram_base);
}

static void port_shm_free(void *ctx, void *va, uint32_t npages)
{
	struct tg_machine *m = ctx;
	uint8_t *p = va;
	uint64_t pa;

	if (!va || p < m->ram || p >= m->ram + m->ram_size)
		return;
	pa = m->ram_base + (uint64_t)(p - m->ram);
	if (m->shm_pool_map && pa >= m->shm_pool_pa &&
	    pa < m->shm_pool_pa + (uint64_t)m->shm_pool_pages * TG_PAGE_SIZE) {
		pthread_mutex_lock(&m->shm_lock);
		pool_set(m, (uint32_t)((pa - m->shm_pool_pa) / TG_PAGE_SIZE),
			 npages, false);
		pthread_mutex_unlock(&m->shm_lock);
		return;
	}
	tg_pages_free_contig(m, pa, npages);
}

__thread uint32_t tg_host_serving;

/*
 * OP-TEE's SMC ABI names the client in a7; FF-A does not: its SMCs run on
 * behalf of the client this thread serves (the oracle of a real TEE
 * attributes what the secure world touches to it).
 */
static void port_smc(void *ctx, uint64_t regs[8])
{
	struct tg_machine *m = ctx;

	if (m->backend_smc_as && FFA_IS_FFA_FID((uint32_t)regs[0]))
		m->backend_smc_as(m->backend_ctx, tg_host_serving, regs);
	else
		m->backend_smc(m->backend_ctx, regs);
}

static struct tg_lock *port_lock_create(void *ctx)
{
	struct tg_lock *l = aligned_alloc(_Alignof(struct tg_lock), sizeof(*l));

	(void)ctx;
	if (l)
		pthread_mutex_init(&l->mutex, NULL);
	return l;
}

static void port_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	if (!l)
		return;
	pthread_mutex_destroy(&l->mutex);
	free(l);
}

static void port_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_lock(&l->mutex);
}

static void port_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_unlock(&l->mutex);
}

static void port_log(void *ctx, enum tg_log_level level, uint32_t client_id,
		     const char *msg, uint64_t value)
{
	tg_host_log(ctx, level, "mediator: client %u: %s (%#llx)", client_id,
		    msg, (unsigned long long)value);
}

void tg_guest_raise_notif(struct tg_guest *g)
{
	atomic_store(&g->ctl->notif_pending, 1);
	tg_futex_wake(&g->ctl->notif_pending, 1 << 30);
}

static void port_raise_notif_irq(void *ctx, uint32_t client_id)
{
	struct tg_guest *g = tg_guest_by_client(ctx, client_id);

	if (g)
		tg_guest_raise_notif(g);
}

static uint64_t port_now_ns(void *ctx)
{
	(void)ctx;
	return tg_now_ns();
}

void tg_port_init(struct tg_machine *m)
{
	struct tg_port *p = &m->port;

	memset(p, 0, sizeof(*p));
	p->ctx = m;
	p->pin_pages = port_pin_pages;
	p->unpin_pages = port_unpin_pages;
	p->copy_from_guest = port_copy_from_guest;
	p->copy_to_guest = port_copy_to_guest;
	p->alloc = port_alloc;
	p->free = port_free;
	p->shm_alloc = port_shm_alloc;
	p->shm_free = port_shm_free;
	p->smc = port_smc;
	p->lock_create = port_lock_create;
	p->lock_destroy = port_lock_destroy;
	p->lock = port_lock;
	p->unlock = port_unlock;
	p->log = port_log;
	p->raise_notif_irq = port_raise_notif_irq;
	p->now_ns = port_now_ns;
}
