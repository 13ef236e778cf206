// SPDX-License-Identifier: BSD-2-Clause
/*
 * Shadowing of OP-TEE NONCONTIG page lists.
 *
 * A guest describes a buffer by a chain of list pages in its own memory:
 * 511 page addresses, then at byte 4088 the address of the next list page.
 * Everything in that chain is guest-controlled and may change while we
 * read it, and the chain may loop. We therefore
 *   - compute the number of data pages from the (already validated) size,
 *     never from the chain, so a loop can only make us read a bounded
 *     number of list pages;
 *   - copy each list page exactly once into a mediator-owned shadow list,
 *     and validate and translate only the copy;
 *   - pin the data pages in place (IPA -> PA) in batches of one list page
 *     and chain the shadow list pages by their own machine addresses.
 * The TEE only ever sees the shadow list.
 */
#include "optee.h"

#define ENTRIES OPTEE_MSG_PAGELIST_ENTRIES
#define SLOTS (TG_PAGE_SIZE / sizeof(uint64_t)) /* 512 u64 per list page */

bool pin_reserve(struct tg_domain *d, uint64_t n)
{
	uint64_t old = atomic_fetch_add(&d->pinned_pages, n);

	if (old + n > d->limits.max_pinned_pages) {
		atomic_fetch_sub(&d->pinned_pages, n);
		return false;
	}
	return true;
}

void pin_unreserve(struct tg_domain *d, uint64_t n)
{
	atomic_fetch_sub(&d->pinned_pages, n);
}

static uint32_t entries_in(uint32_t npages, uint32_t list_page)
{
	uint32_t left = npages - list_page * ENTRIES;

	return left < ENTRIES ? left : ENTRIES;
}

void pagelist_free_list(struct tg_domain *d, uint64_t *list,
			uint32_t list_pages)
{
	struct tg_port *port = &d->med->port;

	if (!list)
		return;
	port->shm_free(port->ctx, list, list_pages);
	atomic_fetch_sub(&d->shadow_pages, list_pages);
}

/**
 * pagelist_unpin() - unpin up to @max data pages of a shadow list,
 * starting at data page @from. Does not touch the pin reservation.
 * Return: the number of pages unpinned.
 */
uint32_t pagelist_unpin(struct tg_domain *d, uint64_t *list, uint32_t npages,
			uint32_t from, uint32_t max)
{
	struct tg_port *port = &d->med->port;
	uint32_t done = 0;

	while (from < npages && done < max) {
		uint32_t lp = from / ENTRIES, idx = from % ENTRIES;
		uint32_t n = entries_in(npages, lp) - idx;

		if (n > max - done)
			n = max - done;
		port->unpin_pages(port->ctx, dom_id(d), list + lp * SLOTS + idx,
				  n);
		from += n;
		done += n;
	}
	return done;
}

/* The OR of @n entries: any offset bits of any entry show in bits 11:0. */
static inline uint64_t or_entries(const uint64_t *e, uint32_t n)
{
	const uint64_t *end8 = e + (n & ~7u), *end = e + n;
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (; e < end8; e += 8) {
		a |= e[0] | e[4];
		b |= e[1] | e[5];
		c |= e[2] | e[6];
		d |= e[3] | e[7];
	}
	for (; e < end; e++)
		a |= *e;
	return a | b | c | d;
}

/**
 * pagelist_shadow() - copy, validate, pin and translate a guest page list.
 * @guest_list_ipa: IPA of the first list page (guest-controlled).
 * @npages:         data pages, computed by the caller from a validated
 *                  size; the caller has reserved them with pin_reserve().
 * @guest_ipa_out:  optional, npages entries: receives the data pages' IPAs.
 * @pl:             out: the shadow list.
 *
 * Each guest list page is copied once: into @guest_ipa_out when given (a
 * middle page's next pointer lands on the first slot of the next page's
 * entries, which the next copy overwrites), else into the shadow list page
 * itself. Only that copy is checked and pinned; the
 * port writes the machine addresses into the shadow list.
 *
 * Return: 0, or -1 with @why set; then nothing stays pinned or allocated.
 */
int pagelist_shadow(struct tg_domain *d, uint64_t guest_list_ipa,
		    uint32_t npages, uint64_t *guest_ipa_out,
		    struct pagelist *pl, enum tg_refusal *why)
{
	struct tg_port *port = &d->med->port;
	uint32_t id = dom_id(d);
	uint32_t list_pages = (npages + ENTRIES - 1) / ENTRIES;
	uint64_t guest_ipa = guest_list_ipa;
	uint64_t list_pa, *list;
	uint32_t lp;

	list = port->shm_alloc(port->ctx, list_pages, &list_pa);
	if (!list) {
		*why = TG_REFUSE_NO_MEMORY;
		return -1;
	}
	atomic_fetch_add(&d->shadow_pages, list_pages);

	for (lp = 0; lp < list_pages; lp++) {
		uint64_t *page = list + lp * SLOTS;
		uint64_t *ipa = guest_ipa_out ? guest_ipa_out + lp * ENTRIES
					      : page;
		uint32_t n = entries_in(npages, lp);
		bool more = lp + 1 < list_pages;
		uint64_t next = 0;

		/* A middle list page is copied whole, next pointer included. */
		if ((guest_ipa & TG_PAGE_MASK) ||
		    port->copy_from_guest(port->ctx, id, ipa, guest_ipa,
					  more ? TG_PAGE_SIZE : n * 8u) !=
			    TG_OK) {
			*why = TG_REFUSE_BAD_ADDR;
			goto err;
		}
		if (more)
			next = ipa[ENTRIES];
		if (or_entries(ipa, n) & TG_PAGE_MASK) {
			*why = TG_REFUSE_BAD_PARAM;
			goto err;
		}
		/* Translate: the copy's IPAs become pinned PAs in @page. */
		if (port->pin_pages(port->ctx, id, ipa, page, n) != TG_OK) {
			*why = TG_REFUSE_BAD_ADDR;
			goto err;
		}
		page[ENTRIES] =
			more ? list_pa + (uint64_t)(lp + 1) * TG_PAGE_SIZE : 0;
		guest_ipa = next;
	}
	pl->list = list;
	pl->list_pa = list_pa;
	pl->list_pages = list_pages;
	pl->npages = npages;
	return 0;

err:
	/* List pages before @lp were pinned whole. */
	pagelist_unpin(d, list, lp * ENTRIES, 0, UINT32_MAX);
	pagelist_free_list(d, list, list_pages);
	return -1;
}
