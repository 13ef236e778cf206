// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hypervisor's side of the oracle table (oracle.h): create it, read
 * the plugin's figures. The launcher hands the table to QEMU as fd 4 and
 * the plugin (oracle-plugin/) fills in what it sees.
 *
 * The mapping is MADV_DONTFORK: it is hypervisor state, and a forked
 * guest process must not inherit it (its fd is closed there too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static size_t header_size(void)
{
	return (sizeof(struct tg_oracle_table) + 4095u) & ~(size_t)4095u;
}

static size_t table_len(uint64_t npages)
{
	return header_size() + (size_t)npages * TG_ORACLE_ENTRY_SIZE;
}

int tg_oracle_table_create(uint64_t ram_base, uint64_t ram_size,
			   uint32_t ncpus, uint32_t mode,
			   struct tg_oracle_table **out, int *out_fd)
{
	uint64_t npages = ram_size >> 12;
	struct tg_oracle_table *t;
	size_t len = table_len(npages);
	int fd;

	if (!out || !out_fd || !ram_size || (ram_size & 4095u) ||
	    ncpus > TG_ORACLE_MAX_CPUS)
		return TG_EINVAL;
	fd = memfd_create("teegate-oracle", MFD_CLOEXEC);
	if (fd < 0)
		return TG_ENOMEM;
	if (ftruncate(fd, (off_t)len)) {
		close(fd);
		return TG_ENOMEM;
	}
	t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return TG_ENOMEM;
	}
	madvise(t, len, MADV_DONTFORK);
	t->version = TG_ORACLE_VERSION;
	t->header_size = (uint32_t)header_size();
	t->ram_base = ram_base;
	t->npages = npages;
	t->entry_size = TG_ORACLE_ENTRY_SIZE;
	t->owner_off = TG_ORACLE_OWNER_OFF;
	t->pins_off = TG_ORACLE_PINS_OFF;
	t->ncpus = ncpus;
	t->mode = mode;
	__atomic_store_n(&t->magic, TG_ORACLE_MAGIC, __ATOMIC_RELEASE);
	*out = t;
	*out_fd = fd;
	return TG_OK;
}

void tg_oracle_table_destroy(struct tg_oracle_table *t, int fd)
{
	if (t)
		munmap(t, table_len(t->npages));
	if (fd >= 0)
		close(fd);
}

void tg_oracle_table_set_owner(struct tg_oracle_table *t, uint64_t pa,
			       uint64_t len, uint32_t owner)
{
	uint8_t *e = tg_oracle_entries(t);
	uint64_t pfn, end;

	if (pa < t->ram_base)
		return;
	pfn = (pa - t->ram_base) >> 12;
	end = (pa - t->ram_base + len + 4095u) >> 12;
	for (; pfn < end && pfn < t->npages; pfn++)
		__atomic_store_n((uint32_t *)(e + pfn * TG_ORACLE_ENTRY_SIZE +
					      TG_ORACLE_OWNER_OFF),
				 owner, __ATOMIC_RELAXED);
}

void tg_oracle_table_stats(const struct tg_oracle_table *t,
			   struct tg_qemu_oracle_stats *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	out->on = true;
	out->running = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) ==
		       TG_ORACLE_STATE_RUNNING;
	out->broken = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) ==
		      TG_ORACLE_STATE_BROKEN;
	if (out->broken)
		snprintf(out->why, sizeof(out->why), "%.*s",
			 (int)sizeof(t->why), t->why);
	for (i = 0; i < TG_ORACLE_MAX_CPUS; i++)
		out->checked +=
			__atomic_load_n(&t->cpu[i].checked, __ATOMIC_RELAXED);
	out->foreign = __atomic_load_n(&t->foreign, __ATOMIC_RELAXED);
	out->unpinned = __atomic_load_n(&t->unpinned, __ATOMIC_RELAXED);
	out->identity = __atomic_load_n(&t->identity, __ATOMIC_RELAXED);
	out->violations = out->foreign + out->unpinned + out->identity;
	out->records = __atomic_load_n(&t->nrec, __ATOMIC_RELAXED);
}

uint32_t tg_oracle_table_records(const struct tg_oracle_table *t,
				 struct tg_oracle_rec *out, uint32_t max)
{
	uint64_t n;
	uint32_t i, k = 0;

	if (!t)
		return 0;
	n = __atomic_load_n(&t->nrec, __ATOMIC_ACQUIRE);
	for (i = 0; i < n && i < TG_ORACLE_RECORDS && k < max; i++) {
		if (!__atomic_load_n(&t->rec[i].valid, __ATOMIC_ACQUIRE))
			continue;
		out[k++] = t->rec[i];
	}
	return k;
}

/* ---- the launcher's oracle ---------------------------------------------- */

int tg_qemu_oracle_stats(const struct tg_qemu *q,
			 struct tg_qemu_oracle_stats *out)
{
	if (!out)
		return TG_EINVAL;
	tg_oracle_table_stats(q ? q->oracle : NULL, out);
	return q && q->oracle ? TG_OK : TG_ENOTSUP;
}

uint32_t tg_qemu_oracle_records(const struct tg_qemu *q,
				struct tg_oracle_rec *out, uint32_t max)
{
	return q ? tg_oracle_table_records(q->oracle, out, max) : 0;
}

void tg_qemu_oracle_arm(struct tg_qemu *q, bool on)
{
	if (q && q->oracle)
		__atomic_store_n(&q->oracle->armed, on ? 1u : 0u,
				 __ATOMIC_RELEASE);
}

void *tg_qemu_oracle_pages(struct tg_qemu *q, uint64_t *npages,
			   uint32_t *entry_size)
{
	if (!q || !q->oracle)
		return NULL;
	if (npages)
		*npages = q->oracle->npages;
	if (entry_size)
		*entry_size = q->oracle->entry_size;
	return tg_oracle_entries(q->oracle);
}

uint64_t tg_qemu_oracle_range_count(const struct tg_qemu *q, uint32_t i)
{
	if (!q || !q->oracle || i >= q->oracle->nranges)
		return 0;
	return __atomic_load_n(&q->oracle->ranges[i].count, __ATOMIC_RELAXED);
}
