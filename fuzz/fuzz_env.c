// SPDX-License-Identifier: BSD-2-Clause
/* The fuzz harnesses' machine, port and secure world (see fuzz_env.h). */
#include "fuzz_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

static void die(const char *what, uint64_t v)
{
	fprintf(stderr, "fuzz invariant broken: %s (%#llx)\n", what,
		(unsigned long long)v);
	abort();
}

static bool pa_ok(uint64_t pa)
{
	return pa >= FZ_PA_BASE && pa < FZ_PA_BASE + (uint64_t)FZ_PAGES * PAGE;
}

static uint32_t pg(uint64_t pa)
{
	return (uint32_t)((pa - FZ_PA_BASE) / PAGE);
}

static uint64_t ipa_to_pa(struct fz_env *e, uint32_t client, uint64_t ipa)
{
	uint64_t i;

	if (client < 1 || client > FZ_GUESTS || ipa < FZ_IPA_BASE)
		return 0;
	i = (ipa - FZ_IPA_BASE) / PAGE;
	if (i >= FZ_GUEST_PAGES)
		return 0;
	return e->p2m[client - 1][i] + (ipa & (PAGE - 1));
}

void *fz_guest_ptr(struct fz_env *e, uint32_t g, uint64_t ipa)
{
	uint64_t pa = ipa_to_pa(e, fz_client(g), ipa);

	return pa ? e->mem + (pa - FZ_PA_BASE) : NULL;
}

/* ---- the port ------------------------------------------------------------ */

static int pin(void *ctx, uint32_t client, const uint64_t *ipa, uint64_t *pa,
	       uint32_t n)
{
	struct fz_env *e = ctx;
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		uint64_t in = ipa[i];
		uint64_t p = (in & (PAGE - 1)) ? 0 : ipa_to_pa(e, client, in);

		if (!p) {
			for (j = 0; j < i; j++)
				e->pins[pg(pa[j])]--;
			return TG_EFAULT;
		}
		e->pins[pg(p)]++;
		pa[i] = p;
	}
	return TG_OK;
}

static void unpin(void *ctx, uint32_t client, const uint64_t *pa, uint32_t n)
{
	struct fz_env *e = ctx;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (!pa_ok(pa[i]) || e->owner[pg(pa[i])] != client ||
		    !e->pins[pg(pa[i])])
			die("unpin of a page not pinned for this client",
			    pa[i]);
		e->pins[pg(pa[i])]--;
	}
}

static int copy(struct fz_env *e, uint32_t client, uint64_t ipa, uint8_t *b,
		uint32_t len, bool to_guest)
{
	while (len) {
		uint32_t room = PAGE - (uint32_t)(ipa & (PAGE - 1));
		uint32_t n = len < room ? len : room;
		uint64_t pa = ipa_to_pa(e, client, ipa);

		if (!pa)
			return TG_EFAULT;
		if (to_guest)
			memcpy(e->mem + (pa - FZ_PA_BASE), b, n);
		else
			memcpy(b, e->mem + (pa - FZ_PA_BASE), n);
		b += n;
		ipa += n;
		len -= n;
	}
	return TG_OK;
}

static int copy_from(void *ctx, uint32_t client, void *dst, uint64_t ipa,
		     uint32_t len)
{
	return copy(ctx, client, ipa, dst, len, false);
}

static int copy_to(void *ctx, uint32_t client, uint64_t ipa, const void *src,
		   uint32_t len)
{
	return copy(ctx, client, ipa, (uint8_t *)src, len, true);
}

static void *alloc(void *ctx, size_t size)
{
	((struct fz_env *)ctx)->allocs++;
	return malloc(size ? size : 1);
}

static void release(void *ctx, void *p, size_t size)
{
	(void)size;
	((struct fz_env *)ctx)->allocs--;
	free(p);
}

static void *shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	struct fz_env *e = ctx;
	uint32_t start, n;

	for (start = 1; start + npages <= FZ_POOL_PAGES; start++) {
		for (n = 0; n < npages; n++)
			if (e->owner[start + n] != FZ_OWNER_FREE)
				break;
		if (n == npages) {
			for (n = 0; n < npages; n++)
				e->owner[start + n] = FZ_OWNER_MEDIATOR;
			*pa = FZ_PA_BASE + (uint64_t)start * PAGE;
			return e->mem + (uint64_t)start * PAGE;
		}
		start += n;
	}
	return NULL;
}

static void shm_free(void *ctx, void *va, uint32_t npages)
{
	struct fz_env *e = ctx;
	uint32_t start = (uint32_t)(((uint8_t *)va - e->mem) / PAGE), n;

	for (n = 0; n < npages; n++) {
		if (e->owner[start + n] != FZ_OWNER_MEDIATOR)
			die("shm_free of a page the mediator does not own",
			    start + n);
		e->owner[start + n] = FZ_OWNER_FREE;
	}
}

static void smc(void *ctx, uint64_t regs[8])
{
	tg_model_smc(((struct fz_env *)ctx)->model, regs);
}

/* Single-threaded harness: locks only count. */
static int lock_depth;

static struct tg_lock *lock_create(void *ctx)
{
	(void)ctx;
	return (struct tg_lock *)&lock_depth;
}

static void lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
}

static void lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
	if (lock_depth++)
		die("domain lock taken twice", 0);
}

static void unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
	if (--lock_depth)
		die("unbalanced unlock", (uint64_t)lock_depth);
}

static void notif(void *ctx, uint32_t client)
{
	(void)ctx;
	(void)client;
}

/* ---- the secure world's view: the isolation oracle --------------------------- */

static void *sw_map(void *ctx, uint32_t client, uint64_t pa, uint32_t len,
		    bool write)
{
	struct fz_env *e = ctx;
	uint32_t o;

	(void)write;
	if (!pa_ok(pa) || !pa_ok(pa + len - 1))
		return NULL;
	o = e->owner[pg(pa)];
	if (o == FZ_OWNER_MEDIATOR)
		return e->mem + (pa - FZ_PA_BASE);
	if (o == client && e->pins[pg(pa)])
		return e->mem + (pa - FZ_PA_BASE);
	die("the TEE touched a page that is neither the client's pinned page "
	    "nor the mediator's",
	    pa);
	return NULL;
}

static void sw_notif(void *ctx)
{
	(void)ctx;
}

/* ---- life cycle ------------------------------------------------------------ */

void fz_create_domain(struct fz_env *e, uint32_t g,
		      const struct tg_limits *limits)
{
	if (e->live[g])
		return;
	if (tg_domain_create(e->med, fz_client(g), limits) != TG_OK)
		die("domain create failed", g);
	e->live[g] = true;
}

void fz_destroy_domain(struct fz_env *e, uint32_t g)
{
	uint32_t i, steps = 0;
	int rc;

	if (!e->live[g])
		return;
	while ((rc = tg_domain_destroy(e->med, fz_client(g))) == TG_AGAIN)
		if (++steps > 1000000)
			die("domain destroy does not end", g);
	if (rc != TG_OK)
		die("domain destroy failed", (uint64_t)rc);
	e->live[g] = false;
	if (tg_model_threads_held(e->model, fz_client(g)))
		die("the TEE still holds a thread of a destroyed guest", g);
	for (i = 0; i < FZ_PAGES; i++)
		if (e->owner[i] == fz_client(g) && e->pins[i])
			die("page left pinned after destroy", i);
}

struct fz_env *fz_env_create(uint32_t inject, uint64_t seed,
			     const struct tg_limits *limits)
{
	struct tg_model_config mc = { .threads = 2,
				      .inject_foreign_intr_pct = inject,
				      .inject_rpc_pct = inject / 2,
				      .seed = seed };
	struct tg_sw_mem mem;
	static uint8_t machine[(size_t)FZ_PAGES * PAGE]
		__attribute__((aligned(4096)));
	struct fz_env *e = calloc(1, sizeof(*e));
	uint32_t g, i, next = FZ_POOL_PAGES;

	/* One machine for every input, cleared so that runs are repeatable. */
	memset(machine, 0, sizeof(machine));
	e->mem = machine;
	for (g = 0; g < FZ_GUESTS; g++) {
		for (i = 0; i < FZ_GUEST_PAGES; i++) {
			uint32_t p = next + (i * 167u + 11u) % FZ_GUEST_PAGES;

			e->p2m[g][i] = FZ_PA_BASE + (uint64_t)p * PAGE;
			e->owner[p] = fz_client(g);
		}
		next += FZ_GUEST_PAGES;
	}
	mem = (struct tg_sw_mem){ .ctx = e,
				  .map = sw_map,
				  .notif_irq = sw_notif };
	if (tg_model_create(&mc, &mem, &e->model) != TG_OK)
		die("model create failed", 0);
	e->port = (struct tg_port){
		.ctx = e,
		.pin_pages = pin,
		.unpin_pages = unpin,
		.copy_from_guest = copy_from,
		.copy_to_guest = copy_to,
		.alloc = alloc,
		.free = release,
		.shm_alloc = shm_alloc,
		.shm_free = shm_free,
		.smc = smc,
		.lock_create = lock_create,
		.lock_destroy = lock_destroy,
		.lock = lock,
		.unlock = unlock,
		.raise_notif_irq = notif,
	};
	if (tg_mediator_create(&e->port, NULL, &e->med) != TG_OK)
		die("mediator create failed", 0);
	for (g = 0; g < FZ_GUESTS; g++)
		fz_create_domain(e, g, limits);
	return e;
}

void fz_env_destroy(struct fz_env *e)
{
	uint32_t g, i;

	for (g = 0; g < FZ_GUESTS; g++)
		fz_destroy_domain(e, g);
	if (tg_model_threads_held(e->model, UINT32_MAX))
		die("the TEE holds threads after every guest is gone", 0);
	if (tg_mediator_destroy(e->med) != TG_OK)
		die("mediator destroy failed", 0);
	tg_model_destroy(e->model);
	for (i = 0; i < FZ_PAGES; i++) {
		if (e->pins[i])
			die("page left pinned", i);
		if (e->owner[i] == FZ_OWNER_MEDIATOR)
			die("mediator page leaked", i);
	}
	if (e->allocs)
		die("mediator allocations leaked", (uint64_t)e->allocs);
	free(e);
}
