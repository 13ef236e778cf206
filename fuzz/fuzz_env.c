// SPDX-License-Identifier: BSD-2-Clause
/* The fuzz harnesses' machine, port and secure world (see fuzz_env.h). */
#include "fuzz_env.h"

#include <teegate/optee_abi.h>

#include "model_tas.h"

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
	struct fz_env *e = ctx;

	e->smcs++;
	tg_model_smc(e->model, regs);
}

/* As the hosted hypervisor does (isolation.c): resume FOREIGN_INTR here. */
static uint32_t smc_resume_intr(void *ctx, uint64_t regs[8], uint32_t max)
{
	uint64_t a7 = regs[7], thread;
	uint32_t n = 0;

	smc(ctx, regs);
	while (n < max &&
	       (uint32_t)regs[0] == OPTEE_SMC_RETURN_RPC_FOREIGN_INTR) {
		thread = regs[3];
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		regs[3] = thread;
		regs[7] = a7;
		smc(ctx, regs);
		n++;
	}
	return n;
}

/* A clock that runs with the TEE: 1 ms per SMC, the same for every run
 * of an input, so that sat-on threads are taken back (fair.c). */
static uint64_t now_ns(void *ctx)
{
	return ((struct fz_env *)ctx)->smcs * 1000000u;
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

/*
 * The most tg_domain_destroy() steps a domain can take, from the model's
 * and the mediator's limits. Each step does at most one SMC (whose
 * FOREIGN_INTR answers the port resumes, but the bound does not count on
 * it) or one slice of unpins:
 *  - every call in flight, the domain's (max_calls) and teardown's own (a
 *    CLOSE per session, an UNREGISTER per buffer), runs to its end. Its
 *    work makes at most MODEL_TA_YIELD_MAX RPCs (the yield TA's
 *    FOREIGN_INTRs; the other TAs a few: FZ_WORK_RPCS), and each
 *    injection point (the call's start and each resume of its work) adds
 *    at most one injected RPC: 2 steps per RPC of its work, plus one;
 *  - a session or buffer the TEE keeps refusing is retried at most
 *    TEARDOWN_MAX_RETRIES (1000) times;
 *  - unpins: max_pinned_pages / destroy_step_pages slices, plus one per
 *    buffer and its orphan pass; RPC buffers one step each; VM_DESTROYED
 *    and the final free.
 * A destroy that needs more has a loop the model's limits do not
 * explain: that is the invariant.
 */
#define FZ_WORK_RPCS 16u /* absent TA: ALLOC, SHM_ALLOC, 2 FS, LOAD_TA... */
#define FZ_TEARDOWN_RETRIES 1000u

static uint64_t destroy_bound(void)
{
	struct tg_limits l = { 0 };
	uint64_t call = 2ull * ((uint64_t)MODEL_TA_YIELD_MAX + FZ_WORK_RPCS) + 1;
	uint64_t small = 2ull * FZ_WORK_RPCS + 1;

	l.max_calls = FZ_TEE_THREADS; /* the mediator's defaults */
	l.max_sessions = TG_DEFAULT_MAX_SESSIONS;
	l.max_shm_bufs = TG_DEFAULT_MAX_SHM_BUFS;
	l.max_pinned_pages = TG_DEFAULT_MAX_PINNED_PAGES;
	l.max_rpc_bufs = TG_DEFAULT_MAX_RPC_BUFS;
	return l.max_calls * call +
	       (uint64_t)(l.max_sessions + l.max_shm_bufs) *
		       (small + FZ_TEARDOWN_RETRIES) +
	       l.max_pinned_pages / 1024u + 2ull * l.max_shm_bufs +
	       l.max_rpc_bufs + 4;
}

void fz_destroy_domain(struct fz_env *e, uint32_t g)
{
	static uint64_t bound;
	uint64_t steps = 0;
	uint32_t i;
	int rc;

	if (!bound)
		bound = destroy_bound();
	if (!e->live[g])
		return;
	while ((rc = tg_domain_destroy(e->med, fz_client(g))) == TG_AGAIN)
		if (++steps > bound)
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
	struct tg_model_config mc = { .threads = FZ_TEE_THREADS,
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
		.now_ns = now_ns,
		.smc_resume_intr = smc_resume_intr,
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
