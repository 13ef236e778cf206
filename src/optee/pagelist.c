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

/**
 * pagelist_shadow() - copy, validate, pin and translate a guest page list.
 * @guest_list_ipa: IPA of the first list page (guest-controlled).
 * @npages:         data pages, computed by the caller from a validated
 *                  size; the caller has reserved them with pin_reserve().
 * @guest_ipa_out:  optional, receives the data pages' IPAs.
 * @pl:             out: the shadow list.
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
		uint32_t n = entries_in(npages, lp);
		bool more = lp + 1 < list_pages;
		uint64_t bad = guest_ipa & TG_PAGE_MASK;
		uint32_t i;

		/* A middle list page is copied whole, next pointer included. */
		if (bad || port->copy_from_guest(port->ctx, id, page, guest_ipa,
						 more ? TG_PAGE_SIZE
						      : n * 8u) != TG_OK) {
			*why = TG_REFUSE_BAD_ADDR;
			goto err;
		}
		if (guest_ipa_out) {
			uint64_t *out = guest_ipa_out + lp * ENTRIES;

			for (i = 0; i < n; i++) {
				bad |= page[i];
				out[i] = page[i];
			}
		} else {
			for (i = 0; i < n; i++)
				bad |= page[i];
		}
		if (bad & TG_PAGE_MASK) {
			*why = TG_REFUSE_BAD_PARAM;
			goto err;
		}
		/* Translate in place: the copy's IPAs become pinned PAs. */
		if (port->pin_pages(port->ctx, id, page, page, n) != TG_OK) {
			*why = TG_REFUSE_BAD_ADDR;
			goto err;
		}
		if (more) {
			guest_ipa = page[ENTRIES];
			page[ENTRIES] =
				list_pa + (uint64_t)(lp + 1) * TG_PAGE_SIZE;
		} else {
			page[ENTRIES] = 0;
		}
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
