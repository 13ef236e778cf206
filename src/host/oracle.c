// SPDX-License-Identifier: BSD-2-Clause
/*
 * The isolation oracle: the secure-world backend reaches NS memory only
 * through this map(), which checks every machine page it touches on behalf
 * of a client against the owner map. The invariant it checks is the
 * platform's: the TEE is only given pages of the calling client or of the
 * mediator. A ballooned page that is still pinned keeps its owner, so it
 * still counts as the client's until its last unpin.
 */
#define _GNU_SOURCE
#include "internal.h"

static void *oracle_map(void *ctx, uint32_t client_id, uint64_t pa,
			uint32_t len, bool write)
{
	struct tg_machine *m = ctx;
	uint32_t owner;

	if (!len || !tg_pa_is_ram(m, pa) ||
	    (pa & TG_PAGE_MASK) + len > TG_PAGE_SIZE)
		return NULL;
	owner = atomic_load_explicit(&m->pages[tg_pa_to_pfn(m, pa)].owner,
				     memory_order_acquire);
	if (owner != client_id || client_id == 0) {
		if (owner != TG_OWNER_MEDIATOR) {
			atomic_fetch_add(&m->violations, 1);
			tg_host_log(m, TG_LOG_ERROR,
				    "ORACLE: %s of pa %#llx on behalf of client %u, page owned by %#x",
				    write ? "write" : "read",
				    (unsigned long long)pa, client_id, owner);
			if (m->cfg.oracle_block)
				return NULL;
		}
	}
	return m->ram + (pa - m->ram_base);
}

static void oracle_notif_irq(void *ctx)
{
	struct tg_machine *m = ctx;
	uint32_t i;

	if (m->med) {
		tg_tee_notif_irq(m->med);
		return;
	}
	if (m->iso) {
		tg_iso_notif_irq(m);
		return;
	}
	/* Direct mode: every guest gets the interrupt. */
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] && m->guests[i]->state == TG_GUEST_RUNNING)
			tg_guest_raise_notif(m->guests[i]);
	pthread_mutex_unlock(&m->lock);
}

void tg_oracle_init(struct tg_machine *m)
{
	m->sw_mem.ctx = m;
	m->sw_mem.map = oracle_map;
	m->sw_mem.notif_irq = oracle_notif_irq;
}
