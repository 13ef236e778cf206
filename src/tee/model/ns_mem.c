// SPDX-License-Identifier: BSD-2-Clause
/*
 * Normal-world memory as the model sees it: spans of pages and the
 * NONCONTIG page lists that describe them.
 *
 * Every byte goes through tg_sw_mem.map(), one page at a time, so that the
 * platform's isolation oracle sees each access with the client id it is
 * made for. Everything read here is normal-world data: it may change under
 * our feet, so each value is read once into private memory before use.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

uint64_t tgm_span_page(const struct ns_span *s, uint64_t i)
{
	return s->pages ? s->pages[i] : s->inline_pages[i];
}

void tgm_span_release(struct ns_span *s)
{
	if (s->owned)
		free(s->pages);
	memset(s, 0, sizeof(*s));
}

/* Map the piece of @s at @off that lies in one page, at most @len bytes. */
static void *span_map_piece(struct tg_model *m, uint16_t client,
			    const struct ns_span *s, uint64_t off, uint64_t len,
			    bool write, uint32_t *piece)
{
	uint64_t pos = s->offs + off;
	uint64_t page = pos >> MODEL_PAGE_SHIFT;
	uint64_t in_page = pos & MODEL_PAGE_MASK;
	uint64_t n = MODEL_PAGE_SIZE - in_page;

	if (page >= s->npages)
		return NULL;
	if (n > len)
		n = len;
	*piece = (uint32_t)n;
	return m->mem.map(m->mem.ctx, client, tgm_span_page(s, page) + in_page,
			  (uint32_t)n, write);
}

static bool span_range_ok(const struct ns_span *s, uint64_t off, uint64_t len)
{
	return off <= s->size && len <= s->size - off;
}

/**
 * tgm_span_read() - copy @len bytes at @off of the span into private memory.
 * Return: false if the range is outside the span or a page is refused.
 */
bool tgm_span_read(struct tg_model *m, uint16_t client, const struct ns_span *s,
		   uint64_t off, void *dst, uint64_t len)
{
	uint8_t *out = dst;

	if (!span_range_ok(s, off, len))
		return false;
	while (len) {
		uint32_t piece;
		const void *src =
			span_map_piece(m, client, s, off, len, false, &piece);

		if (!src)
			return false;
		memcpy(out, src, piece);
		out += piece;
		off += piece;
		len -= piece;
	}
	return true;
}

/**
 * tgm_span_write() - copy @len bytes of private memory to @off of the span.
 * Return: false if the range is outside the span or a page is refused.
 */
bool tgm_span_write(struct tg_model *m, uint16_t client,
		    const struct ns_span *s, uint64_t off, const void *src,
		    uint64_t len)
{
	const uint8_t *in = src;

	if (!span_range_ok(s, off, len))
		return false;
	while (len) {
		uint32_t piece;
		void *dst =
			span_map_piece(m, client, s, off, len, true, &piece);

		if (!dst)
			return false;
		memcpy(dst, in, piece);
		in += piece;
		off += piece;
		len -= piece;
	}
	return true;
}

/* tgm_span_sub() - @out = [off, off + size) of @s, sharing its pages. */
bool tgm_span_sub(const struct ns_span *s, uint64_t off, uint64_t size,
		  struct ns_span *out)
{
	if (!span_range_ok(s, off, size))
		return false;
	*out = *s;
	out->owned = false;
	out->offs = s->offs + off;
	out->size = size;
	return true;
}

/*
 * tgm_span_contig() - a span over physically contiguous memory (the reserved
 * pool, a single-page RPC buffer, an argument page).
 * Return: false if the page array cannot be allocated.
 */
bool tgm_span_contig(uint64_t pa, uint64_t size, struct ns_span *out)
{
	uint64_t base = pa & ~MODEL_PAGE_MASK;

	memset(out, 0, sizeof(*out));
	out->offs = pa & MODEL_PAGE_MASK;
	out->size = size;
	out->npages =
		size ? ((out->offs + size - 1) >> MODEL_PAGE_SHIFT) + 1 : 1;
	if (out->npages > 2) {
		out->pages = calloc(out->npages, sizeof(*out->pages));
		if (!out->pages)
			return false;
		out->owned = true;
		for (uint64_t i = 0; i < out->npages; i++)
			out->pages[i] = base + i * MODEL_PAGE_SIZE;
	} else {
		out->inline_pages[0] = base;
		out->inline_pages[1] = base + MODEL_PAGE_SIZE;
	}
	return true;
}

/* tgm_pa_range_is_ns() - whether every page of [pa, pa + size) maps. */
bool tgm_pa_range_is_ns(struct tg_model *m, uint16_t client, uint64_t pa,
			uint64_t size)
{
	uint64_t end;

	if (!size || __builtin_add_overflow(pa, size, &end))
		return false;
	while (pa < end) {
		uint64_t n = MODEL_PAGE_SIZE - (pa & MODEL_PAGE_MASK);

		if (n > end - pa)
			n = end - pa;
		if (!m->mem.map(m->mem.ctx, client, pa, (uint32_t)n, false))
			return false;
		pa += n;
	}
	return true;
}

bool tgm_in_reserved_shm(const struct tg_model *m, uint64_t pa, uint64_t size)
{
	uint64_t base = m->cfg.reserved_shm_base;
	uint64_t pool = m->cfg.reserved_shm_size;

	if (!pool || pa < base)
		return false;
	return size <= pool && pa - base <= pool - size;
}

/**
 * tgm_span_from_pagelist() - build a span from a NONCONTIG memory reference.
 * @buf_ptr:	normal-world value: PA of the first page-list page, with the
 *		offset of the data in the first data page in bits 11:0
 * @size:	normal-world value: size of the data
 *
 * Each page-list page holds OPTEE_MSG_PAGELIST_ENTRIES page addresses and
 * the PA of the next list page at OPTEE_MSG_PAGELIST_NEXT_OFFSET. Every
 * address must be 4 KiB aligned and every data page must be NS RAM of
 * @client (map() succeeds).
 *
 * Return: TEEC_SUCCESS, TEEC_ERROR_BAD_PARAMETERS or
 * TEEC_ERROR_OUT_OF_MEMORY.
 */
uint32_t tgm_span_from_pagelist(struct tg_model *m, uint16_t client,
				uint64_t buf_ptr, uint64_t size,
				struct ns_span *out)
{
	uint64_t offs = buf_ptr & MODEL_PAGE_MASK;
	uint64_t list_pa = buf_ptr & ~MODEL_PAGE_MASK;
	uint64_t npages, done = 0;
	uint64_t *pages;

	memset(out, 0, sizeof(*out));
	if (!size || size > MODEL_MAX_MEMREF_SIZE || !list_pa)
		return TEEC_ERROR_BAD_PARAMETERS;
	npages = ((size + offs - 1) >> MODEL_PAGE_SHIFT) + 1;
	pages = calloc(npages, sizeof(*pages));
	if (!pages)
		return TEEC_ERROR_OUT_OF_MEMORY;

	while (done < npages) {
		const uint64_t *list;
		uint64_t n = npages - done;
		uint64_t next;

		if (list_pa & MODEL_PAGE_MASK)
			goto bad;
		list = m->mem.map(m->mem.ctx, client, list_pa, MODEL_PAGE_SIZE,
				  false);
		if (!list)
			goto bad;
		if (n > OPTEE_MSG_PAGELIST_ENTRIES)
			n = OPTEE_MSG_PAGELIST_ENTRIES;
		memcpy(pages + done, list, n * sizeof(*pages));
		memcpy(&next,
		       (const uint8_t *)list + OPTEE_MSG_PAGELIST_NEXT_OFFSET,
		       sizeof(next));
		for (uint64_t i = done; i < done + n; i++) {
			if (pages[i] & MODEL_PAGE_MASK)
				goto bad;
			if (!m->mem.map(m->mem.ctx, client, pages[i],
					MODEL_PAGE_SIZE, false))
				goto bad;
		}
		done += n;
		list_pa = next;
	}

	out->pages = pages;
	out->npages = npages;
	out->offs = offs;
	out->size = size;
	out->owned = true;
	return TEEC_SUCCESS;
bad:
	free(pages);
	return TEEC_ERROR_BAD_PARAMETERS;
}
