// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the page-list and message parsers, driven
 * directly (src/optee/pagelist.c, src/optee/msg.c):
 *
 *   - pagelist_shadow() on fuzzer-written guest list pages: on success
 *     every shadow entry must be the machine address of exactly the IPA
 *     the guest listed, pinned for that guest, and the chain must link
 *     mediator pages; on failure nothing may stay pinned or allocated;
 *   - msg_prepare() on a fuzzer-written message in a call's shadow: every
 *     memref the TEE would see must point only at the guest's pinned
 *     pages or mediator pages, and releasing the call must undo every pin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "optee.h"

#define PAGE 4096u

static void die(const char *what, uint64_t v)
{
	fprintf(stderr, "fuzz invariant broken: %s (%#llx)\n", what,
		(unsigned long long)v);
	abort();
}

static uint64_t pins_total(struct fz_env *e)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < FZ_PAGES; i++)
		n += e->pins[i];
	return n;
}

static uint64_t ipa_pa(struct fz_env *e, uint32_t g, uint64_t ipa)
{
	uint8_t *p = fz_guest_ptr(e, g, ipa);

	return p ? FZ_PA_BASE + (uint64_t)(p - e->mem) : 0;
}

/* Is @pa a page the TEE may touch for guest @g? */
static bool tee_may_touch(struct fz_env *e, uint32_t g, uint64_t pa)
{
	uint32_t pg;

	if (pa < FZ_PA_BASE || pa >= FZ_PA_BASE + (uint64_t)FZ_PAGES * PAGE)
		return false;
	pg = (uint32_t)((pa - FZ_PA_BASE) / PAGE);
	return e->owner[pg] == FZ_OWNER_MEDIATOR ||
	       (e->owner[pg] == fz_client(g) && e->pins[pg]);
}

static void write_guest(struct fz_env *e, uint32_t g, struct fz_in *in)
{
	/* list pages live at guest pages 16..47, filled from the input */
	uint32_t n = fz_u8(in), i;

	for (i = 0; i < n && in->n; i++) {
		uint32_t page = 16 + fz_u8(in) % 32;
		uint64_t *list = fz_guest_ptr(e, g, FZ_IPA_BASE + page * PAGE);
		uint32_t slot = fz_u32(in) % 512;
		uint8_t kind = fz_u8(in);

		switch (kind % 4) {
		case 0: /* one of the guest's pages */
			list[slot] =
				FZ_IPA_BASE +
				(uint64_t)(fz_u32(in) % FZ_GUEST_PAGES) * PAGE;
			break;
		case 1: /* another list page (chains and loops) */
			list[slot] = FZ_IPA_BASE +
				     (uint64_t)(16 + fz_u8(in) % 32) * PAGE;
			break;
		default:
			list[slot] = fz_u64(in);
			break;
		}
	}
}

static void check_pagelist(struct fz_env *e, uint32_t g, struct fz_in *in,
			   struct tg_domain *d)
{
	uint32_t np = 1 + fz_u32(in) % 1100, k, lp;
	uint64_t first = FZ_IPA_BASE + (uint64_t)(16 + fz_u8(in) % 32) * PAGE;
	uint64_t before = pins_total(e), *ipas;
	enum tg_refusal why;
	struct pagelist pl;

	if (!pin_reserve(d, np))
		return;
	ipas = calloc(np, sizeof(*ipas));
	if (pagelist_shadow(d, first, np, ipas, &pl, &why)) {
		pin_unreserve(d, np);
		if (pins_total(e) != before)
			die("a refused page list left pages pinned", np);
		free(ipas);
		return;
	}
	for (k = 0; k < np; k++) {
		uint64_t pa = pl.list[(k / 511) * 512 + k % 511];

		if (pa != ipa_pa(e, g, ipas[k]))
			die("shadow entry is not the listed page's address", k);
		if (!tee_may_touch(e, g, pa))
			die("shadow entry the TEE must not touch", pa);
	}
	for (lp = 0; lp + 1 < pl.list_pages; lp++)
		if (pl.list[lp * 512 + 511] != pl.list_pa + (lp + 1) * PAGE)
			die("shadow chain does not link mediator pages", lp);
	pagelist_unpin(d, pl.list, pl.npages, 0, UINT32_MAX);
	pin_unreserve(d, np);
	pagelist_free_list(d, pl.list, pl.list_pages);
	if (pins_total(e) != before)
		die("unpinning a list did not undo its pins", np);
	free(ipas);
}

static void check_memref(struct fz_env *e, uint32_t g,
			 const struct optee_msg_param *p)
{
	uint64_t offs = p->u.tmem.buf_ptr & (PAGE - 1);
	uint64_t np = pages_spanned(offs, p->u.tmem.size), k;
	const uint64_t *list;

	if (!p->u.tmem.buf_ptr)
		return;
	if (!tee_may_touch(e, g, p->u.tmem.buf_ptr))
		die("memref list the TEE must not touch", p->u.tmem.buf_ptr);
	list = (const uint64_t *)(e->mem + ((p->u.tmem.buf_ptr & ~0xFFFull) -
					    FZ_PA_BASE));
	for (k = 0; k < np; k++) {
		if (k && k % 511 == 0) {
			if (!tee_may_touch(e, g, list[511]))
				die("memref chain the TEE must not touch",
				    list[511]);
			list = (const uint64_t *)(e->mem +
						  (list[511] - FZ_PA_BASE));
		}
		if (!tee_may_touch(e, g, list[k % 511]))
			die("memref page the TEE must not touch",
			    list[k % 511]);
	}
}

static void check_message(struct fz_env *e, uint32_t g, struct fz_in *in,
			  struct tg_domain *d)
{
	struct optee_call *c = call_alloc(d);
	uint64_t before = pins_total(e), shadow_pa;
	struct msg_err err;
	uint32_t i, n;

	if (!c)
		return;
	if (!shadow_take(d, c, &shadow_pa)) {
		call_free(d, c);
		return;
	}
	n = fz_u8(in) % 9;
	memset(c->shadow, 0, OPTEE_MSG_GET_ARG_SIZE(n));
	c->shadow->cmd = fz_u8(in) % 9;
	c->shadow->session = fz_u8(in) % 3;
	c->shadow->num_params = n;
	for (i = 0; i < n; i++) {
		struct optee_msg_param *p = &c->shadow->params[i];

		p->attr = fz_u8(in) & 1
				  ? fz_u64(in)
				  : fz_u8(in) % 12 |
					    ((uint64_t)(fz_u8(in) % 4) << 8);
		p->u.tmem.buf_ptr =
			fz_u8(in) & 1
				? FZ_IPA_BASE +
					  (uint64_t)(16 + fz_u8(in) % 32) *
						  PAGE +
					  fz_u8(in) * 16u
				: fz_u64(in);
		p->u.tmem.size = fz_u8(in) & 1 ? fz_u32(in) : fz_u64(in);
		p->u.tmem.shm_ref = fz_u8(in) % 4;
	}
	c->entry = ENTRY_ARG;
	c->num_params = n;
	c->cmd = c->shadow->cmd;
	c->session = c->shadow->session;
	c->guest_arg_ipa = 0;
	c->supplied_rpc = false;
	if (!msg_prepare(d, c, &err)) {
		for (i = 0; i < n; i++) {
			uint32_t t = c->shadow->params[i].attr & 0xFF;

			if (t >= OPTEE_MSG_ATTR_TYPE_TMEM_INPUT &&
			    t <= OPTEE_MSG_ATTR_TYPE_TMEM_INOUT)
				check_memref(e, g, &c->shadow->params[i]);
		}
	}
	/* Also undoes a prepared REGISTER_SHM or a session reservation. */
	call_release_resources(d, c);
	call_free(d, c);
	if (pins_total(e) != before)
		die("releasing a call did not undo its pins", before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz_env *e = fz_env_create(0, 1, NULL);
	uint32_t g = fz_u8(&in) % FZ_GUESTS, steps = 0;
	struct tg_domain *d = domain_get(e->med, fz_client(g));

	if (!d)
		die("no domain", g);
	while (in.n && steps++ < 32) {
		switch (fz_u8(&in) % 3) {
		case 0:
			write_guest(e, g, &in);
			break;
		case 1:
			check_pagelist(e, g, &in, d);
			break;
		default:
			check_message(e, g, &in, d);
			break;
		}
	}
	domain_put(d);
	fz_env_destroy(e);
	return 0;
}
