// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loopback guest environment: guest.h implemented over the OP-TEE model
 * (see loopback.h). Test-only: simple, locked, and strict.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <teegate/optee_abi.h>

#include "loopback.h"

#define LB_PAGE 4096u
#define LB_MAX_GUESTS 4u
#define LB_MAX_VCPUS 16u
#define LB_RAM_BASE 0x40000000ull
#define LB_RAM_STRIDE 0x40000000ull

struct tg_vcpu {
	struct lb_guest *g;
	uint32_t index;
	pthread_t thread;
	bool used, joinable;
	void (*fn)(struct tg_vcpu *, void *);
	void *arg;
};

struct lb_guest {
	uint32_t client_id;
	uint64_t base, size;
	uint8_t *ram;
	uint8_t *page_used;          /* one byte per page */
	uint32_t npages, pages_used;
	pthread_mutex_t lock;        /* pages and vCPUs */
	struct tg_vcpu vcpus[LB_MAX_VCPUS];
	struct tg_guest_counters counters;
	/* TEE notification interrupt */
	pthread_mutex_t irq_lock;
	pthread_cond_t irq_cond;
	bool irq;
};

static struct {
	struct tg_model *model;
	pthread_mutex_t lock;
	struct lb_guest *guests[LB_MAX_GUESTS];
	uint64_t violations;
} env = { .lock = PTHREAD_MUTEX_INITIALIZER };

static __thread struct tg_vcpu *self_vcpu;

static struct lb_guest *guest_of_client(uint32_t client_id)
{
	uint32_t i;

	for (i = 0; i < LB_MAX_GUESTS; i++)
		if (env.guests[i] && env.guests[i]->client_id == client_id)
			return env.guests[i];
	return NULL;
}

/* The model's view of NS memory: only the calling client's own RAM. */
static void *lb_map(void *ctx, uint32_t client_id, uint64_t pa, uint32_t len,
		    bool write)
{
	struct lb_guest *g;

	(void)ctx;
	(void)write;
	pthread_mutex_lock(&env.lock);
	g = guest_of_client(client_id);
	pthread_mutex_unlock(&env.lock);
	if (!g || pa < g->base || pa - g->base >= g->size ||
	    len > g->size - (pa - g->base)) {
		/* Any NS RAM outside the client's own is a violation. */
		uint32_t i;

		pthread_mutex_lock(&env.lock);
		for (i = 0; i < LB_MAX_GUESTS; i++) {
			struct lb_guest *o = env.guests[i];

			if (o && pa >= o->base && pa - o->base < o->size)
				env.violations++;
		}
		pthread_mutex_unlock(&env.lock);
		return NULL;
	}
	return g->ram + (pa - g->base);
}

static void lb_notif_irq(void *ctx)
{
	uint32_t i;

	(void)ctx;
	/* The interrupt has no client id: every guest's handler looks. */
	for (i = 0; i < LB_MAX_GUESTS; i++) {
		struct lb_guest *g = env.guests[i];

		if (!g)
			continue;
		pthread_mutex_lock(&g->irq_lock);
		g->irq = true;
		pthread_cond_broadcast(&g->irq_cond);
		pthread_mutex_unlock(&g->irq_lock);
	}
}

static const struct tg_sw_mem lb_mem = {
	.ctx = NULL,
	.map = lb_map,
	.notif_irq = lb_notif_irq,
};

int lb_env_init(const struct tg_model_config *cfg)
{
	struct tg_model_config def;

	memset(&def, 0, sizeof(def));
	env.violations = 0;
	return tg_model_create(cfg ? cfg : &def, &lb_mem, &env.model);
}

void lb_env_fini(void)
{
	tg_model_destroy(env.model);
	env.model = NULL;
}

struct tg_model *lb_model(void)
{
	return env.model;
}

uint64_t lb_violations(void)
{
	return env.violations;
}

static void hyp_smc(uint64_t a0, uint64_t a1, uint64_t regs[8])
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = a0;
	regs[1] = a1;
	regs[7] = 0; /* the hypervisor */
	tg_model_smc(env.model, regs);
}

struct lb_guest *lb_guest_create(uint32_t client_id, uint32_t ram_mib)
{
	struct lb_guest *g = calloc(1, sizeof(*g));
	uint64_t regs[8];
	uint32_t i, slot = LB_MAX_GUESTS;

	if (!g)
		return NULL;
	pthread_mutex_lock(&env.lock);
	for (i = 0; i < LB_MAX_GUESTS; i++)
		if (!env.guests[i]) {
			slot = i;
			break;
		}
	pthread_mutex_unlock(&env.lock);
	if (slot == LB_MAX_GUESTS)
		goto fail;
	g->client_id = client_id;
	g->size = (uint64_t)ram_mib << 20;
	g->base = LB_RAM_BASE + slot * LB_RAM_STRIDE;
	g->npages = (uint32_t)(g->size / LB_PAGE);
	g->ram = aligned_alloc(LB_PAGE, g->size);
	g->page_used = calloc(g->npages, 1);
	if (!g->ram || !g->page_used)
		goto fail;
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->irq_lock, NULL);
	pthread_cond_init(&g->irq_cond, NULL);
	g->vcpus[0].g = g;
	g->vcpus[0].used = true;
	hyp_smc(OPTEE_SMC_VM_CREATED, client_id, regs);
	if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK &&
	    (uint32_t)regs[0] != OPTEE_SMC_RETURN_UNKNOWN_FUNCTION)
		goto fail;
	pthread_mutex_lock(&env.lock);
	env.guests[slot] = g;
	pthread_mutex_unlock(&env.lock);
	return g;
fail:
	if (g) {
		free(g->ram);
		free(g->page_used);
		free(g);
	}
	return NULL;
}

void lb_guest_destroy(struct lb_guest *g)
{
	uint64_t regs[8];
	uint32_t i;

	if (!g)
		return;
	for (i = 1; i < LB_MAX_VCPUS; i++)
		if (g->vcpus[i].used && g->vcpus[i].joinable)
			pthread_join(g->vcpus[i].thread, NULL);
	hyp_smc(OPTEE_SMC_VM_DESTROYED, g->client_id, regs);
	pthread_mutex_lock(&env.lock);
	for (i = 0; i < LB_MAX_GUESTS; i++)
		if (env.guests[i] == g)
			env.guests[i] = NULL;
	pthread_mutex_unlock(&env.lock);
	if (self_vcpu && self_vcpu->g == g)
		self_vcpu = NULL;
	free(g->ram);
	free(g->page_used);
	free(g);
}

struct tg_vcpu *lb_guest_enter(struct lb_guest *g)
{
	self_vcpu = g ? &g->vcpus[0] : NULL;
	return self_vcpu;
}

struct tg_vcpu *lb_guest_vcpu0(struct lb_guest *g)
{
	return &g->vcpus[0];
}

uint64_t lb_guest_ram_base(struct lb_guest *g)
{
	return g->base;
}

uint64_t lb_guest_ram_size(struct lb_guest *g)
{
	return g->size;
}

uint32_t lb_guest_pages_used(struct lb_guest *g)
{
	uint32_t n;

	pthread_mutex_lock(&g->lock);
	n = g->pages_used;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- guest.h ------------------------------------------------------------ */

void tg_smc(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	regs[7] = vcpu->g->client_id;
	tg_model_smc(env.model, regs);
}

void *tg_ipa_ptr(struct tg_vcpu *vcpu, uint64_t ipa)
{
	struct lb_guest *g = vcpu->g;

	if (ipa < g->base || ipa - g->base >= g->size)
		return NULL;
	return g->ram + (ipa - g->base);
}

int tg_alloc_pages(struct tg_vcpu *vcpu, uint32_t count, uint64_t *ipa)
{
	struct lb_guest *g = vcpu->g;
	uint32_t i, run = 0;

	if (!count || count > g->npages)
		return -1;
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < g->npages; i++) {
		run = g->page_used[i] ? 0 : run + 1;
		if (run == count) {
			uint32_t first = i + 1 - count;

			memset(g->page_used + first, 1, count);
			g->pages_used += count;
			pthread_mutex_unlock(&g->lock);
			*ipa = g->base + (uint64_t)first * LB_PAGE;
			return 0;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return -1;
}

void tg_free_pages(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count)
{
	struct lb_guest *g = vcpu->g;
	uint64_t first;
	uint32_t i;

	if (ipa < g->base || (ipa & (LB_PAGE - 1)))
		abort(); /* a driver bug: fail loudly in tests */
	first = (ipa - g->base) / LB_PAGE;
	if (first + count > g->npages)
		abort();
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < count; i++) {
		if (!g->page_used[first + i])
			abort(); /* double free */
		g->page_used[first + i] = 0;
	}
	g->pages_used -= count;
	pthread_mutex_unlock(&g->lock);
}

int tg_balloon_out(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count)
{
	tg_free_pages(vcpu, ipa, count);
	return 0;
}

static void *vcpu_thread(void *p)
{
	struct tg_vcpu *v = p;

	self_vcpu = v;
	v->fn(v, v->arg);
	return NULL;
}

int tg_vcpu_spawn(struct tg_vcpu *vcpu, void (*fn)(struct tg_vcpu *, void *),
		  void *arg)
{
	struct lb_guest *g = vcpu->g;
	uint32_t i;

	pthread_mutex_lock(&g->lock);
	for (i = 1; i < LB_MAX_VCPUS; i++)
		if (!g->vcpus[i].used)
			break;
	if (i == LB_MAX_VCPUS) {
		pthread_mutex_unlock(&g->lock);
		return -1;
	}
	g->vcpus[i].used = true;
	g->vcpus[i].g = g;
	g->vcpus[i].index = i;
	g->vcpus[i].fn = fn;
	g->vcpus[i].arg = arg;
	pthread_mutex_unlock(&g->lock);
	if (pthread_create(&g->vcpus[i].thread, NULL, vcpu_thread,
			   &g->vcpus[i])) {
		g->vcpus[i].used = false;
		return -1;
	}
	g->vcpus[i].joinable = true;
	return (int)i;
}

int tg_vcpu_join(struct tg_vcpu *vcpu, int index)
{
	struct lb_guest *g = vcpu->g;

	if (index <= 0 || index >= (int)LB_MAX_VCPUS || !g->vcpus[index].joinable)
		return -1;
	pthread_join(g->vcpus[index].thread, NULL);
	pthread_mutex_lock(&g->lock);
	g->vcpus[index].joinable = false;
	g->vcpus[index].used = false;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

struct tg_vcpu *tg_vcpu_self(void)
{
	return self_vcpu;
}

uint32_t tg_vcpu_index(const struct tg_vcpu *vcpu)
{
	return vcpu->index;
}

int tg_notif_wait(struct tg_vcpu *vcpu, uint32_t timeout_ms)
{
	struct lb_guest *g = vcpu->g;
	struct timespec ts;
	int raised;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	pthread_mutex_lock(&g->irq_lock);
	while (!g->irq)
		if (pthread_cond_timedwait(&g->irq_cond, &g->irq_lock, &ts))
			break;
	raised = g->irq;
	g->irq = false;
	pthread_mutex_unlock(&g->irq_lock);
	return raised;
}

struct tg_guest_counters *tg_guest_counters(struct tg_vcpu *vcpu)
{
	return &vcpu->g->counters;
}
