// SPDX-License-Identifier: BSD-2-Clause
/*
 * Machine memory backing: one shared file holds all NS RAM; byte 0 of the
 * file is physical address ram_base. The default is a sparse memfd; the
 * file backing maps an existing file such as QEMU's RAM file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TG_MEMFD_NAME "teegate-ram"

int tg_mem_open(struct tg_machine *m)
{
	struct tg_mem_backing *mem = &m->mem;
	struct stat st;

	if (m->cfg.backing == TG_BACKING_MEMFD) {
		mem->fd = memfd_create(TG_MEMFD_NAME, MFD_CLOEXEC);
		if (mem->fd < 0)
			return TG_ENOMEM;
		if (ftruncate(mem->fd, (off_t)m->ram_size) < 0)
			goto fail;
		mem->punch_holes = true;
		snprintf(mem->path, sizeof(mem->path), "/memfd:%s",
			 TG_MEMFD_NAME);
	} else if (m->cfg.backing == TG_BACKING_FILE) {
		if (!m->cfg.backing_path)
			return TG_EINVAL;
		mem->fd = open(m->cfg.backing_path, O_RDWR | O_CLOEXEC);
		if (mem->fd < 0)
			return TG_EINVAL;
		if (fstat(mem->fd, &st) < 0 ||
		    (uint64_t)st.st_size < m->ram_size)
			goto fail_inval;
		/* QEMU's RAM: never punch holes under a running machine's
		 * firmware; freed pages are zeroed instead. */
		mem->punch_holes = false;
		snprintf(mem->path, sizeof(mem->path), "%s",
			 m->cfg.backing_path);
	} else {
		return TG_EINVAL;
	}
	mem->size = m->ram_size;
	m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      mem->fd, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		goto fail;
	}
	return TG_OK;

fail_inval:
	close(mem->fd);
	mem->fd = -1;
	return TG_EINVAL;
fail:
	close(mem->fd);
	mem->fd = -1;
	return TG_ENOMEM;
}

void tg_mem_close(struct tg_machine *m)
{
	if (m->ram)
		munmap(m->ram, m->ram_size);
	m->ram = NULL;
	if (m->mem.fd >= 0)
		close(m->mem.fd);
	m->mem.fd = -1;
}

/*
 * tg_mem_discard() - a page leaves its owner: make sure the next owner
 * cannot read what the previous one left (and give the memory back to the
 * kernel when the backing allows it).
 */
void tg_mem_discard(struct tg_machine *m, uint64_t pfn, uint64_t count)
{
	off_t off = (off_t)(pfn << TG_PAGE_SHIFT);
	off_t len = (off_t)(count << TG_PAGE_SHIFT);

	if (m->mem.punch_holes &&
	    fallocate(m->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len) == 0)
		return;
	memset(m->ram + off, 0, (size_t)len);
}
