// SPDX-License-Identifier: BSD-2-Clause
/*
 * Balloon: a guest gives pages back. The pages leave its p2m at once; a
 * page still pinned by the mediator stays quarantined (owner unchanged,
 * TG_PAGE_BALLOONED) until its last unpin, then returns to the pool.
 *
 * A process-mode guest still has its pages mapped: the guest runtime unmaps
 * them before it traps, but the guest is hostile, so the hypervisor checks
 * /proc/<pid>/maps and refuses the balloon while any of the pages is still
 * mapped. The check cannot go stale: the locked-down guest has no fd of
 * machine memory, and its allow-list (lockdown.c) has no call that maps
 * or re-points a file mapping (mmap only anonymous; no remap_file_pages,
 * mremap, fork or ptrace), so it cannot map a page again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static bool still_mapped(struct tg_guest *g, const uint8_t *want)
{
	struct tg_machine *m = g->m;
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)g->pid);
	f = fopen(path, "re");
	if (!f)
		return true; /* cannot prove it: refuse */
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t start, end, off, pfn, n;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64
				 " %*s %*s %n",
			   &start, &end, perms, &off, &pos) < 4 || !pos)
			continue;
		if (!strstr(line + pos, m->mem.path))
			continue;
		n = (end - start) >> TG_PAGE_SHIFT;
		for (pfn = off >> TG_PAGE_SHIFT;
		     n-- && pfn < m->npages; pfn++) {
			if (want[pfn / 8] & (1u << (pfn % 8))) {
				found = true;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

/**
 * tg_balloon() - take @guest_count pages from @guest_ipa out of @g.
 * Both values come from the guest: checked here. Pages already gone are
 * skipped.
 * Return: TG_OK, TG_EINVAL (bad range), TG_EBUSY (still mapped).
 */
int tg_balloon(struct tg_guest *g, uint64_t guest_ipa, uint64_t guest_count)
{
	struct tg_machine *m = g->m;
	uint64_t first, i;
	int ret = TG_OK;

	if ((guest_ipa & TG_PAGE_MASK) || guest_ipa < TG_HOST_GUEST_IPA_BASE ||
	    !guest_count || guest_count > g->npages)
		return TG_EINVAL;
	first = (guest_ipa - TG_HOST_GUEST_IPA_BASE) >> TG_PAGE_SHIFT;
	if (first >= g->npages || guest_count > g->npages - first)
		return TG_EINVAL;

	if (g->mode == TG_GUEST_PROCESS) {
		uint8_t *want = calloc((m->npages + 7) / 8, 1);

		if (!want)
			return TG_ENOMEM;
		for (i = 0; i < guest_count; i++) {
			uint64_t pa = atomic_load(&g->p2m[first + i]);

			if (pa) {
				uint64_t pfn = tg_pa_to_pfn(m, pa);

				want[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
			}
		}
		if (still_mapped(g, want))
			ret = TG_EBUSY;
		free(want);
		if (ret) {
			tg_host_log(m, TG_LOG_WARN,
				    "client %u: balloon refused, pages still mapped",
				    g->client_id);
			return ret;
		}
	}

	pthread_rwlock_wrlock(&g->p2m_lock);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < guest_count; i++) {
		uint64_t pa = atomic_exchange(&g->p2m[first + i], 0);

		if (pa)
			tg_pages_release_locked(m, tg_pa_to_pfn(m, pa));
	}
	pthread_mutex_unlock(&m->lock);
	pthread_rwlock_unlock(&g->p2m_lock);
	return TG_OK;
}
