// SPDX-License-Identifier: BSD-2-Clause
/*
 * The FF-A mediator's test machine: see ffa_env.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffa_env.h"

struct ffa_env env;

void fe_die(const char *what, uint64_t v)
{
	fprintf(stderr, "ffa_env: invariant broken: %s (%#llx)\n", what,
		(unsigned long long)v);
	abort();
}


static uint32_t pfn(uint64_t pa)
{
	return (uint32_t)((pa - PA_BASE) / PAGE);
}

static bool pa_ok(uint64_t pa)
{
	return pa >= PA_BASE && pa < PA_BASE + (uint64_t)NPAGES * PAGE;
}

/* ---- the secure world's view: the oracle ------------------------------- */

static void *sw_map(void *ctx, uint32_t client, uint64_t pa, uint32_t len,
		    bool write)
{
	uint16_t owner;

	(void)ctx;
	(void)write;
	if (!pa_ok(pa) || (pa % PAGE) + len > PAGE)
		return NULL;
	owner = env.owner[pfn(pa)];
	/* The mediator's pages (its RX/TX, its dummy page) are fine. */
	if (owner == OWNER_MEDIATOR)
		return env.mem + (pa - PA_BASE);
	if (owner != client || !client)
		fe_die("SPMC touched a page not of the VM it acts for", pa);
	if (!env.pins[pfn(pa)])
		fe_die("SPMC touched a page nobody pinned", pa);
	return env.mem + (pa - PA_BASE);
}

static void sw_irq(void *ctx)
{
	(void)ctx;
}

/* ---- the port ----------------------------------------------------------- */

struct tg_lock {
	int dummy;
};

static int p_pin(void *ctx, uint32_t client, const uint64_t *ipa, uint64_t *pa,
		 uint32_t n)
{
	uint32_t g = client - 1;

	(void)ctx;
	if (!client || g >= GUESTS)
		fe_die("pin for no guest", client);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t page = (ipa[i] - IPA_BASE) / PAGE;

		if ((ipa[i] % PAGE) || ipa[i] < IPA_BASE ||
		    page >= GUEST_PAGES)
			return TG_EFAULT;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t p = env.p2m[g][(ipa[i] - IPA_BASE) / PAGE];

		if (env.owner[pfn(p)] != client)
			fe_die("p2m gives another's page", p);
		env.pins[pfn(p)]++;
		pa[i] = p; /* may alias ipa[]: each read before written */
	}
	if (env.after_pin)
		env.after_pin();
	return TG_OK;
}

static void p_unpin(void *ctx, uint32_t client, const uint64_t *pa,
		    uint32_t n)
{
	(void)ctx;
	for (uint32_t i = 0; i < n; i++) {
		if (!pa_ok(pa[i]) || env.owner[pfn(pa[i])] != client ||
		    !env.pins[pfn(pa[i])])
			fe_die("unpin of a page not pinned for this guest", pa[i]);
		env.pins[pfn(pa[i])]--;
	}
	if (env.after_unpin)
		env.after_unpin();
}

static int guest_bytes(uint32_t client, uint64_t ipa, uint32_t len,
		       uint8_t **p)
{
	uint32_t g = client - 1;
	uint64_t page, off;

	if (!client || g >= GUESTS || ipa < IPA_BASE)
		return TG_EFAULT;
	page = (ipa - IPA_BASE) / PAGE;
	off = ipa % PAGE;
	/* The harness maps guest RAM contiguously in PA: one lookup. */
	if (page >= GUEST_PAGES || len > (GUEST_PAGES - page) * PAGE - off)
		return TG_EFAULT;
	*p = env.mem + (env.p2m[g][page] - PA_BASE) + off;
	return TG_OK;
}

static int p_from(void *ctx, uint32_t client, void *dst, uint64_t ipa,
		  uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (env.on_guest_read)
		env.on_guest_read(client, ipa, len);
	if (guest_bytes(client, ipa, len, &p))
		return TG_EFAULT;
	memcpy(dst, p, len);
	if (env.after_copy)
		env.after_copy();
	return TG_OK;
}

static int p_to(void *ctx, uint32_t client, uint64_t ipa, const void *src,
		uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (guest_bytes(client, ipa, len, &p))
		return TG_EFAULT;
	memcpy(p, src, len);
	return TG_OK;
}

/*
 * Blocks carry a header that links them, so that the blocks a simulated
 * death lost (env.allocs_slack) can be freed at the end.
 */
struct block {
	struct block *prev, *next;
};

static struct block blocks = { &blocks, &blocks };

static void *p_alloc(void *ctx, size_t size)
{
	struct block *b;

	(void)ctx;
	if (env.fail_alloc_size && size == env.fail_alloc_size)
		return NULL;
	b = malloc(sizeof(*b) + (size ? size : 1));
	if (!b)
		return NULL;
	env.allocs++;
	b->next = blocks.next;
	b->prev = &blocks;
	blocks.next->prev = b;
	blocks.next = b;
	return b + 1;
}

static void block_free(struct block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
	env.allocs--;
}

static void p_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	if (ptr)
		block_free((struct block *)ptr - 1);
}

static void *p_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	uint32_t run = 0;

	(void)ctx;
	for (uint32_t i = 0; i < POOL_PAGES; i++) {
		run = env.pool_used[i] ? 0 : run + 1;
		if (run == npages) {
			uint32_t first = i + 1 - npages;

			for (uint32_t k = first; k <= i; k++)
				env.pool_used[k] = true;
			*pa = PA_BASE + (uint64_t)first * PAGE;
			return env.mem + (size_t)first * PAGE;
		}
	}
	return NULL;
}

static void p_shm_free(void *ctx, void *va, uint32_t npages)
{
	uint32_t first = (uint32_t)(((uint8_t *)va - env.mem) / PAGE);

	(void)ctx;
	for (uint32_t k = first; k < first + npages; k++)
		env.pool_used[k] = false;
}

static void p_smc(void *ctx, uint64_t regs[8])
{
	uint64_t in[8];

	(void)ctx;
	memcpy(in, regs, sizeof(in));
	if (env.before_smc)
		env.before_smc(in);
	if (!env.spmc || !env.spmc(regs))
		tg_model_smc(env.model, regs);
	if (env.after_smc)
		env.after_smc(in, regs);
}

static struct tg_lock the_lock;

static struct tg_lock *p_lock_create(void *ctx)
{
	(void)ctx;
	env.allocs++;
	return &the_lock;
}

static void p_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
	env.allocs--;
}

static void p_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
	if (env.after_lock)
		env.after_lock();
}

static void p_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
}

const struct tg_port fe_port = {
	.pin_pages = p_pin,
	.unpin_pages = p_unpin,
	.copy_from_guest = p_from,
	.copy_to_guest = p_to,
	.alloc = p_alloc,
	.free = p_free,
	.shm_alloc = p_shm_alloc,
	.shm_free = p_shm_free,
	.smc = p_smc,
	.lock_create = p_lock_create,
	.lock_destroy = p_lock_destroy,
	.lock = p_lock,
	.unlock = p_unlock,
};

/* ---- set up and tear down ------------------------------------------------ */

void fe_setup(void)
{
	static const struct fe_opts none;

	fe_setup_opts(&none);
}

void fe_setup_opts(const struct fe_opts *o)
{
	struct tg_model_config mc = { .ffa = true, .threads = 2 };
	struct tg_sw_mem sw = { .map = sw_map, .notif_irq = sw_irq };
	uint32_t next = POOL_PAGES;

	memset(&env, 0, sizeof(env));
	if (o->tee_threads)
		mc.threads = o->tee_threads;
	mc.ffa_optee_4_10_bugs = o->optee_4_10_bugs;
	env.mem = calloc(NPAGES, PAGE);
	if (!env.mem)
		abort();
	for (uint32_t i = 0; i < POOL_PAGES; i++)
		env.owner[i] = OWNER_MEDIATOR;
	for (uint32_t g = 0; g < GUESTS; g++) {
		for (uint32_t i = 0; i < GUEST_PAGES; i++) {
			env.owner[next] = (uint16_t)(g + 1);
			env.p2m[g][i] = PA_BASE + (uint64_t)next * PAGE;
			next++;
		}
	}
	mc.ffa = !o->smc_abi;
	env.spmc = o->spmc;
	if (tg_model_create(&mc, &sw, &env.model))
		abort();
	if (o->model_only)
		return;
	if (tgf_probe(&fe_port, NULL, &env.fm, NULL))
		fe_die("probe failed", 0);
	for (uint32_t g = 0; g < GUESTS; g++)
		if (tgf_domain_init(env.fm, g + 1, NULL, &env.dom[g]))
			fe_die("domain init failed", g);
}

void fe_teardown(void)
{
	for (uint32_t g = 0; env.fm && g < GUESTS; g++) {
		uint32_t steps = 0;

		while (tgf_domain_destroy_step(env.fm, env.dom[g]) == TG_AGAIN)
			if (++steps > 1000000)
				fe_die("destruction does not end", g);
		tgf_domain_free(env.fm, env.dom[g]);
	}
	if (tg_model_ffa_shares(env.model, UINT32_MAX))
		fe_die("SPMC still holds shares",
		    tg_model_ffa_shares(env.model, UINT32_MAX));
	for (uint32_t i = 0; i < NPAGES; i++)
		if (env.pins[i])
			fe_die("page left pinned", PA_BASE + (uint64_t)i * PAGE);
	if (env.fm)
		tgf_fini(env.fm);
	tg_model_destroy(env.model);
	for (uint32_t i = 0; i < POOL_PAGES; i++)
		if (env.pool_used[i])
			fe_die("shm page left", i);
	if (env.allocs > env.allocs_slack)
		fe_die("mediator memory left", (uint64_t)env.allocs);
	while (blocks.next != &blocks)
		block_free(blocks.next);
	free(env.mem);
}

uint8_t *fe_guest_page(uint32_t g, uint32_t page)
{
	return env.mem + (env.p2m[g][page] - PA_BASE);
}
