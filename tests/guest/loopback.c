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

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>
#ifdef TG_HAVE_MEDIATOR
#include <teegate/mediator.h>
#endif
#ifdef LB_QEMU
#include <stdio.h>

#include "qemu.h"

/* Where the loopback puts things in QEMU's RAM (clear of the reserved
 * regions: DTB, OP-TEE's static SHM, the relay at 0x60000000). */
#define LBQ_SHM_PA 0x44000000ull
#define LBQ_HYP_PA 0x45000000ull
#define LBQ_GUEST_PA 0x46000000ull
#define LBQ_GUEST_STRIDE (96ull << 20)
#endif

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
	uint8_t *page_used; /* one byte per page */
	uint32_t npages, pages_used;
	pthread_mutex_t lock; /* pages, pins and vCPUs */
	uint32_t *pins;	      /* mediated: pin count per page */
	struct tg_vcpu vcpus[LB_MAX_VCPUS];
	struct tg_guest_counters counters;
	/* TEE notification interrupt */
	pthread_mutex_t irq_lock;
	pthread_cond_t irq_cond;
	bool irq;
	/* FF-A: the guest's RX/TX (IPAs) and who owns its RX. */
	uint64_t ffa_tx, ffa_rx;
	uint32_t ffa_pages;
	bool ffa_rx_full;
	bool killed; /* lb_guest_kill_domain(): its domain is gone */
};

/* FF-A: the pass-through hypervisor's own RX/TX pair, at these PAs. */
#define LB_HYP_BASE_MODEL 0x30000000ull
#define LB_HYP_BASE (env.hyp_pa)
#define LB_HYP_PAGES 8u

/* Mediated mode: the mediator's shadow memory, at its own PAs. */
#define LB_SHM_BASE_MODEL 0x20000000ull
#define LB_SHM_BASE (env.shm_pa)
#define LB_SHM_PAGES 4096u

static struct {
	struct tg_model *model;
	pthread_mutex_t lock;
	struct lb_guest *guests[LB_MAX_GUESTS];
	uint64_t violations;
	bool ffa;
	uint64_t hyp_pa, shm_pa;  /* where env.hyp and env.shm are */
	/* LB_QEMU: real OP-TEE in QEMU; memory is QEMU's RAM */
	struct tg_qemu *qemu;
	uint8_t *qram;
	uint64_t qram_pa;
	uint8_t *hyp;		  /* FF-A: TX then RX, LB_HYP_PAGES each */
	pthread_mutex_t hyp_lock; /* the hypervisor's RX/TX in use */
#ifdef TG_HAVE_MEDIATOR
	struct tg_mediator *med;
	uint8_t *shm;
	uint8_t shm_used[LB_SHM_PAGES];
#endif
} env = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .hyp_lock = PTHREAD_MUTEX_INITIALIZER,
	    .hyp_pa = LB_HYP_BASE_MODEL,
	    .shm_pa = LB_SHM_BASE_MODEL };

/* The secure world: the model, or OP-TEE in QEMU (LB_QEMU). */
static void lb_tee_smc(uint64_t regs[8])
{
#ifdef LB_QEMU
	if (env.qemu) {
		tg_qemu_smc(env.qemu, TG_QEMU_CPU_ANY, regs);
		return;
	}
#endif
	tg_model_smc(env.model, regs);
}

/* Memory for @bytes at @pa: QEMU's RAM, or our own. */
static void *lb_mem_at(uint64_t pa, size_t bytes)
{
	if (env.qram)
		return env.qram + (pa - env.qram_pa);
	return aligned_alloc(LB_PAGE, bytes);
}

static void lb_mem_free(void *p)
{
	if (!env.qram)
		free(p);
}

static __thread struct tg_vcpu *self_vcpu;

/* Chaos: a TEE answering nonsense (see lb_set_chaos()). */
static struct {
	uint32_t pct;
	uint64_t rng;
	pthread_mutex_t lock;
	uint64_t injected;
} chaos = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t chaos_rand(void)
{
	chaos.rng ^= chaos.rng << 13;
	chaos.rng ^= chaos.rng >> 7;
	chaos.rng ^= chaos.rng << 17;
	return chaos.rng;
}

void lb_set_chaos(uint32_t pct, uint64_t seed)
{
	pthread_mutex_lock(&chaos.lock);
	chaos.pct = pct;
	chaos.rng = seed | 1;
	chaos.injected = 0;
	pthread_mutex_unlock(&chaos.lock);
}

uint64_t lb_chaos_injected(void)
{
	return chaos.injected;
}

/*
 * Replace a final std-call answer, or a fast-call answer, by nonsense: a
 * random RPC with random registers, or a random a0. The model's own state
 * stays consistent (the call it answered is over), so the driver's resume
 * gets ERESUME: the driver must survive all of it.
 */
static void chaos_apply(uint64_t fn, uint64_t regs[8])
{
	uint64_t r;
	int i;

	pthread_mutex_lock(&chaos.lock);
	if (!chaos.pct || OPTEE_SMC_RETURN_IS_RPC(regs[0]) ||
	    chaos_rand() % 100 >= chaos.pct) {
		pthread_mutex_unlock(&chaos.lock);
		return;
	}
	chaos.injected++;
	r = chaos_rand();
	if (OPTEE_SMC_IS_FAST(fn)) {
		for (i = 0; i < 4; i++)
			regs[i] = chaos_rand();
		if (r & 1)
			regs[0] = OPTEE_SMC_RETURN_OK;
	} else if (r % 4 == 0) {
		regs[0] = (uint32_t)chaos_rand();
	} else {
		regs[0] = OPTEE_SMC_RETURN_RPC_PREFIX |
			  (uint32_t)(chaos_rand() % 8);
		for (i = 1; i < 7; i++)
			regs[i] = (r & 2) ? chaos_rand() : chaos_rand() % 8192;
	}
	pthread_mutex_unlock(&chaos.lock);
}

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
	/* FF-A: the hypervisor's RX/TX, on its own behalf only. */
	if (env.ffa && pa >= LB_HYP_BASE &&
	    pa - LB_HYP_BASE < 2ull * LB_HYP_PAGES * LB_PAGE &&
	    len <= 2ull * LB_HYP_PAGES * LB_PAGE - (pa - LB_HYP_BASE)) {
		if (client_id != 0) {
			pthread_mutex_lock(&env.lock);
			env.violations++;
			pthread_mutex_unlock(&env.lock);
			return NULL;
		}
		return env.hyp + (pa - LB_HYP_BASE);
	}
#ifdef TG_HAVE_MEDIATOR
	if (env.shm && pa >= LB_SHM_BASE &&
	    pa - LB_SHM_BASE < (uint64_t)LB_SHM_PAGES * LB_PAGE &&
	    len <= (uint64_t)LB_SHM_PAGES * LB_PAGE - (pa - LB_SHM_BASE))
		return env.shm + (pa - LB_SHM_BASE);
#endif
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

static void raise_guest_irq(struct lb_guest *g)
{
	pthread_mutex_lock(&g->irq_lock);
	g->irq = true;
	pthread_cond_broadcast(&g->irq_cond);
	pthread_mutex_unlock(&g->irq_lock);
}

static void lb_notif_irq(void *ctx)
{
	uint32_t i;

	(void)ctx;
#ifdef TG_HAVE_MEDIATOR
	if (env.med) {
		tg_tee_notif_irq(env.med);
		return;
	}
#endif
	/* The interrupt has no client id: every guest's handler looks. */
	for (i = 0; i < LB_MAX_GUESTS; i++) {
		struct lb_guest *g = env.guests[i];

		if (g)
			raise_guest_irq(g);
	}
}

static const struct tg_sw_mem lb_mem = {
	.ctx = NULL,
	.map = lb_map,
	.notif_irq = lb_notif_irq,
};

static void hyp_ffa(uint64_t regs[8], uint64_t a0, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a4, uint64_t a5)
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = a0;
	regs[1] = a1;
	regs[2] = a2;
	regs[3] = a3;
	regs[4] = a4;
	regs[5] = a5;
	lb_tee_smc(regs);
}

/* FF-A: negotiate and map the hypervisor's RX/TX, once. */
static int hyp_ffa_init(void)
{
	uint64_t r[8];

	env.hyp = lb_mem_at(env.hyp_pa, 2ull * LB_HYP_PAGES * LB_PAGE);
	if (!env.hyp)
		return -1;
	memset(env.hyp, 0, 2ull * LB_HYP_PAGES * LB_PAGE);
	hyp_ffa(r, FFA_VERSION, FFA_VERSION_1_2, 0, 0, 0, 0);
	hyp_ffa(r, FFA_RXTX_MAP_64, LB_HYP_BASE,
		LB_HYP_BASE + (uint64_t)LB_HYP_PAGES * LB_PAGE, LB_HYP_PAGES,
		0, 0);
	return r[0] == FFA_SUCCESS_32 ? 0 : -1;
}

#ifdef LB_QEMU
/* OP-TEE in QEMU (TEEGATE_OPTEE_FIRMWARE) instead of the model. */
static int lb_qemu_start(void)
{
	struct tg_qemu_config qc = {
		.firmware_dir = getenv("TEEGATE_OPTEE_FIRMWARE"),
		.cpus = 2,
		.timeout_ms = 120000,
	};
	char err[4096];
	uint64_t size;
	void *ptr;

	if (!qc.firmware_dir)
		return -1;
	if (tg_qemu_start(&qc, &env.qemu, err, sizeof(err))) {
		fprintf(stderr, "loopback: %s\n", err);
		return -1;
	}
	tg_qemu_ram(env.qemu, &env.qram_pa, &size, &ptr);
	env.qram = ptr;
	env.shm_pa = LBQ_SHM_PA;
	env.hyp_pa = LBQ_HYP_PA;
	env.ffa = true;
	env.violations = 0;
	return 0;
}
#endif

bool lb_real_tee(void)
{
	return env.qemu != NULL;
}

int lb_env_init(const struct tg_model_config *cfg)
{
	struct tg_model_config def;
	int rc;

#ifdef LB_MEDIATED
	/* Built for it: every test of this binary goes through a mediator. */
	if (!env.shm)
		return lb_env_init_mediated(cfg);
#endif

	memset(&def, 0, sizeof(def));
	if (cfg)
		def = *cfg;
#ifdef LB_FFA
	def.ffa = true;
#endif
	env.ffa = def.ffa;
	env.violations = 0;
#ifdef LB_QEMU
	rc = lb_qemu_start();
	if (!rc && hyp_ffa_init())
		rc = -1;
	return rc;
#endif
	rc = tg_model_create(&def, &lb_mem, &env.model);
	if (!rc && env.ffa && hyp_ffa_init()) {
		tg_model_destroy(env.model);
		env.model = NULL;
		return -1;
	}
	return rc;
}

void lb_env_fini(void)
{
#ifdef TG_HAVE_MEDIATOR
	if (env.med) {
		tg_mediator_destroy(env.med);
		env.med = NULL;
		lb_mem_free(env.shm);
		env.shm = NULL;
	}
#endif
	if (env.model)
		tg_model_destroy(env.model);
	env.model = NULL;
	if (env.hyp)
		lb_mem_free(env.hyp);
	env.hyp = NULL;
	env.ffa = false;
#ifdef LB_QEMU
	if (env.qemu)
		tg_qemu_stop(env.qemu);
	env.qemu = NULL;
	env.qram = NULL;
#endif
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
	lb_tee_smc(regs);
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
#ifdef LB_QEMU
	if (env.qram) {
		g->base = LBQ_GUEST_PA + slot * LBQ_GUEST_STRIDE;
		if (g->size > LBQ_GUEST_STRIDE)
			goto fail;
	}
#endif
	g->npages = (uint32_t)(g->size / LB_PAGE);
	g->ram = lb_mem_at(g->base, g->size);
	g->page_used = calloc(g->npages, 1);
	if (!g->ram || !g->page_used)
		goto fail;
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->irq_lock, NULL);
	pthread_cond_init(&g->irq_cond, NULL);
	g->vcpus[0].g = g;
	g->vcpus[0].used = true;
	g->pins = calloc(g->npages, sizeof(*g->pins));
	if (!g->pins)
		goto fail;
	/* Visible to the port before the mediator's first call for it. */
	pthread_mutex_lock(&env.lock);
	env.guests[slot] = g;
	pthread_mutex_unlock(&env.lock);
#ifdef TG_HAVE_MEDIATOR
	if (env.med) {
		if (tg_domain_create(env.med, client_id, NULL) != TG_OK)
			goto unlink;
		return g;
	}
#endif
	if (env.ffa) {
		/* VM_CREATED to OP-TEE, then the VM's bitmap. */
		hyp_ffa(regs, FFA_MSG_SEND_DIRECT_REQ_32,
			FFA_PACK_IDS(0, 0x8001), FFA_MSG_FLAG_FRAMEWORK |
			FFA_MSG_SEND_VM_CREATED, 0, 0, client_id);
		if (regs[0] != FFA_MSG_SEND_DIRECT_RESP_32 || regs[3])
			goto unlink;
		hyp_ffa(regs, FFA_NOTIFICATION_BITMAP_CREATE, client_id, 1, 0,
			0, 0);
		return g;
	}
	hyp_smc(OPTEE_SMC_VM_CREATED, client_id, regs);
	if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK &&
	    (uint32_t)regs[0] != OPTEE_SMC_RETURN_UNKNOWN_FUNCTION)
		goto unlink;
	return g;
unlink:
	pthread_mutex_lock(&env.lock);
	env.guests[slot] = NULL;
	pthread_mutex_unlock(&env.lock);
fail:
	if (g) {
		lb_mem_free(g->ram);
		free(g->page_used);
		free(g->pins);
		free(g);
	}
	return NULL;
}

#ifdef TG_HAVE_MEDIATOR
/* The hypervisor tears the guest's domain down, as at its death. */
void lb_guest_kill_domain(struct lb_guest *g)
{
	if (!env.med || g->killed)
		return;
	while (tg_domain_destroy(env.med, g->client_id) == TG_AGAIN)
		;
	g->killed = true;
}
#endif

void lb_guest_destroy(struct lb_guest *g)
{
	uint64_t regs[8];
	uint32_t i;

	if (!g)
		return;
	for (i = 1; i < LB_MAX_VCPUS; i++)
		if (g->vcpus[i].used && g->vcpus[i].joinable)
			pthread_join(g->vcpus[i].thread, NULL);
#ifdef TG_HAVE_MEDIATOR
	if (env.med) {
		lb_guest_kill_domain(g);
	} else
#endif
	if (env.ffa) {
		hyp_ffa(regs, FFA_NOTIFICATION_BITMAP_DESTROY, g->client_id, 0,
			0, 0, 0);
		hyp_ffa(regs, FFA_MSG_SEND_DIRECT_REQ_32,
			FFA_PACK_IDS(0, 0x8001), FFA_MSG_FLAG_FRAMEWORK |
			FFA_MSG_SEND_VM_DESTROYED, 0, 0, g->client_id);
	} else {
		hyp_smc(OPTEE_SMC_VM_DESTROYED, g->client_id, regs);
	}
	pthread_mutex_lock(&env.lock);
	for (i = 0; i < LB_MAX_GUESTS; i++)
		if (env.guests[i] == g)
			env.guests[i] = NULL;
	pthread_mutex_unlock(&env.lock);
	if (self_vcpu && self_vcpu->g == g)
		self_vcpu = NULL;
	lb_mem_free(g->ram);
	free(g->page_used);
	free(g->pins);
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

/* ---- FF-A: a pass-through hypervisor --------------------------------------- */

/*
 * What any hypervisor between FF-A guests and one SPMC must do at least,
 * and no more (no checks: this is the loopback, IPA == PA): tell each
 * guest its id, keep each guest's RX/TX to itself and copy messages
 * through its own pair, stamp the guest's id on what it sends.
 */
static void ffa_set(uint64_t regs[8], uint64_t a0, uint64_t a2, uint64_t a3)
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = a0;
	regs[2] = a2;
	regs[3] = a3;
}

static void ffa_err(uint64_t regs[8], int32_t e)
{
	ffa_set(regs, FFA_ERROR, (uint32_t)e, 0);
}

static uint8_t *guest_buf(struct lb_guest *g, uint64_t ipa)
{
	return g->ram + (ipa - g->base);
}

static void ffa_relay(struct lb_guest *g, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	uint32_t size = g->ffa_pages * LB_PAGE;
	uint8_t *hyp_tx = env.hyp;
	uint8_t *hyp_rx = env.hyp + (size_t)LB_HYP_PAGES * LB_PAGE;

	switch (fid) {
	case FFA_VERSION:
		ffa_set(regs, FFA_VERSION_1_2, 0, 0);
		regs[0] = FFA_VERSION_1_2;
		return;
	case FFA_ID_GET:
		ffa_set(regs, FFA_SUCCESS_32, g->client_id, 0);
		return;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		if (g->ffa_pages) {
			ffa_err(regs, FFA_RET_DENIED);
			return;
		}
		if (!regs[3] || regs[3] > LB_HYP_PAGES ||
		    !tg_ipa_ptr(&g->vcpus[0], regs[1]) ||
		    !tg_ipa_ptr(&g->vcpus[0], regs[2])) {
			ffa_err(regs, FFA_RET_INVALID_PARAMETERS);
			return;
		}
		g->ffa_tx = regs[1];
		g->ffa_rx = regs[2];
		g->ffa_pages = (uint32_t)regs[3];
		ffa_set(regs, FFA_SUCCESS_32, 0, 0);
		return;
	case FFA_RXTX_UNMAP:
		g->ffa_pages = 0;
		ffa_set(regs, FFA_SUCCESS_32, 0, 0);
		return;
	case FFA_RX_RELEASE:
		if (!g->ffa_rx_full) {
			ffa_err(regs, FFA_RET_DENIED);
			return;
		}
		g->ffa_rx_full = false;
		ffa_set(regs, FFA_SUCCESS_32, 0, 0);
		return;
	case FFA_NOTIFICATION_BITMAP_CREATE:
	case FFA_NOTIFICATION_BITMAP_DESTROY:
		ffa_err(regs, FFA_RET_NOT_SUPPORTED); /* the hypervisor's */
		return;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
		regs[1] = FFA_PACK_IDS(g->client_id, FFA_RECEIVER(regs[1]));
		lb_tee_smc(regs);
		return;
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
		regs[1] = FFA_PACK_IDS(FFA_SENDER(regs[1]), g->client_id);
		lb_tee_smc(regs);
		return;
	case FFA_NOTIFICATION_GET:
		regs[1] = FFA_PACK_IDS(FFA_SENDER(regs[1]), g->client_id);
		lb_tee_smc(regs);
		return;
	default:
		break;
	}
	if (fid != FFA_PARTITION_INFO_GET && fid != FFA_MEM_SHARE_32 &&
	    fid != FFA_MEM_SHARE_64 && fid != FFA_MEM_LEND_32 &&
	    fid != FFA_MEM_LEND_64 && fid != FFA_MEM_FRAG_TX) {
		lb_tee_smc(regs);
		return;
	}
	/* Calls that use the RX/TX pairs. */
	if (!g->ffa_pages) {
		ffa_err(regs, FFA_RET_DENIED);
		return;
	}
	pthread_mutex_lock(&env.hyp_lock);
	if (fid == FFA_PARTITION_INFO_GET) {
		bool count_only = regs[5] & FFA_PARTITION_INFO_GET_COUNT_ONLY;

		if (!count_only && g->ffa_rx_full) {
			pthread_mutex_unlock(&env.hyp_lock);
			ffa_err(regs, FFA_RET_BUSY);
			return;
		}
		lb_tee_smc(regs);
		if (!count_only && regs[0] == FFA_SUCCESS_32) {
			uint64_t n = regs[2] * (regs[3] ? regs[3] : 8);

			if (n > size)
				n = size;
			memcpy(guest_buf(g, g->ffa_rx), hyp_rx, n);
			g->ffa_rx_full = true;
			hyp_ffa((uint64_t[8]){ 0 }, FFA_RX_RELEASE, 0, 0, 0, 0,
				0);
		}
		pthread_mutex_unlock(&env.hyp_lock);
		return;
	}
	if ((fid == FFA_MEM_FRAG_TX ? regs[3] : regs[2]) > size) {
		pthread_mutex_unlock(&env.hyp_lock);
		ffa_err(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	memcpy(hyp_tx, guest_buf(g, g->ffa_tx),
	       fid == FFA_MEM_FRAG_TX ? regs[3] : regs[2]);
	if (fid == FFA_MEM_FRAG_TX)
		regs[4] = FFA_PACK_IDS(g->client_id, 0);
	lb_tee_smc(regs);
	pthread_mutex_unlock(&env.hyp_lock);
}

/* ---- guest.h ------------------------------------------------------------ */

/* A TEE that refuses one message (see lb_refuse_next()). */
static struct {
	uint32_t cmd, a0, ret;
	bool armed;
} refuse;

void lb_refuse_next(uint32_t msg_cmd, uint32_t a0, uint32_t ret)
{
	refuse.cmd = msg_cmd;
	refuse.a0 = a0;
	refuse.ret = ret;
	refuse.armed = true;
}

static bool ffa_abort_armed;

void lb_ffa_abort_next_spawned(void)
{
	__atomic_store_n(&ffa_abort_armed, true, __ATOMIC_SEQ_CST);
}

static bool refused_here(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	if (vcpu->index > 0 &&
	    (uint32_t)regs[0] == FFA_MSG_SEND_DIRECT_REQ_32 &&
	    (uint32_t)regs[3] == OPTEE_FFA_YIELDING_CALL_WITH_ARG &&
	    __atomic_exchange_n(&ffa_abort_armed, false, __ATOMIC_SEQ_CST)) {
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = FFA_ERROR;
		regs[2] = (uint32_t)FFA_RET_ABORTED;
		return true;
	}
	struct optee_msg_arg *m;
	uint64_t ipa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);

	if (!refuse.armed || ((uint32_t)regs[0] != OPTEE_SMC_CALL_WITH_ARG &&
			      (uint32_t)regs[0] != OPTEE_SMC_CALL_WITH_RPC_ARG))
		return false;
	m = tg_ipa_ptr(vcpu, ipa);
	if (!m || m->cmd != refuse.cmd)
		return false;
	refuse.armed = false;
	if (refuse.a0 == OPTEE_SMC_RETURN_OK) {
		m->ret = refuse.ret;
		m->ret_origin = TEEC_ORIGIN_TEE;
	}
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = refuse.a0;
	return true;
}

/* ---- FF-A: answers lost when a mediator dies (lb_ffa_lose_next()) -------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* lb_ffa_lose_next() */
	bool armed;
	struct tg_vcpu *vcpu;
	uint32_t fid, w3;
	bool forward;
	void (*between)(void *);
	void *between_arg;
	/* threads the lost calls left suspended; ended before the next
	 * call, as a recovery does before the mediator serves again */
	uint32_t threads[8];
	uint32_t nthreads;
	uint16_t thread_sp; /* the partition they run in */
	bool recovery_pending;
	/* lb_ffa_hold_next_answer() */
	struct tg_vcpu *hold_vcpu;
	bool held, released;
} lose = { .lock = PTHREAD_MUTEX_INITIALIZER,
	   .cond = PTHREAD_COND_INITIALIZER };

void lb_ffa_lose_next(uint32_t fid, uint32_t w3, bool forward,
		      void (*between)(void *), void *arg)
{
	pthread_mutex_lock(&lose.lock);
	lose.vcpu = tg_vcpu_self();
	lose.fid = fid;
	lose.w3 = w3;
	lose.forward = forward;
	lose.between = between;
	lose.between_arg = arg;
	lose.armed = true;
	pthread_mutex_unlock(&lose.lock);
}

void lb_ffa_hold_next_answer(void)
{
	pthread_mutex_lock(&lose.lock);
	lose.hold_vcpu = tg_vcpu_self();
	lose.held = lose.released = false;
	pthread_mutex_unlock(&lose.lock);
}

bool lb_ffa_wait_held(uint32_t timeout_ms)
{
	struct timespec ts;
	bool held;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	pthread_mutex_lock(&lose.lock);
	while (!lose.held &&
	       pthread_cond_timedwait(&lose.cond, &lose.lock, &ts) == 0)
		;
	held = lose.held;
	pthread_mutex_unlock(&lose.lock);
	return held;
}

void lb_ffa_release_held(void)
{
	pthread_mutex_lock(&lose.lock);
	lose.released = true;
	pthread_cond_broadcast(&lose.cond);
	pthread_mutex_unlock(&lose.lock);
}

static void smc_pass(struct tg_vcpu *vcpu, uint64_t regs[8]);

static bool is_suspended(const uint64_t r[8])
{
	return (uint32_t)r[0] == FFA_MSG_SEND_DIRECT_RESP_32 &&
	       !(uint32_t)r[3] &&
	       ((uint32_t)r[4] == OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD ||
		(uint32_t)r[4] == OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
}

/* The recovery of the death: each lost call's thread resumed to its end. */
static void lose_recover(struct tg_vcpu *vcpu)
{
	uint32_t threads[8], n;
	uint16_t sp;

	pthread_mutex_lock(&lose.lock);
	if (!lose.recovery_pending) {
		pthread_mutex_unlock(&lose.lock);
		return;
	}
	lose.recovery_pending = false;
	n = lose.nthreads;
	memcpy(threads, lose.threads, sizeof(threads));
	lose.nthreads = 0;
	sp = lose.thread_sp;
	pthread_mutex_unlock(&lose.lock);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t r[8];

		for (uint32_t k = 0; k < 100000; k++) {
			memset(r, 0, sizeof(r));
			r[0] = FFA_MSG_SEND_DIRECT_REQ_32;
			r[1] = FFA_PACK_IDS(vcpu->g->client_id, sp);
			r[3] = OPTEE_FFA_YIELDING_CALL_RESUME;
			r[7] = threads[i];
			smc_pass(vcpu, r);
			if (!is_suspended(r))
				break;
			threads[i] = (uint32_t)r[7];
		}
	}
}

/* The call's answer is lost (lb_ffa_lose_next()): true when it was. */
static bool lose_here(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	void (*between)(void *) = NULL;
	void *arg = NULL;
	bool forward;

	pthread_mutex_lock(&lose.lock);
	if (!lose.armed || lose.vcpu != vcpu ||
	    (uint32_t)regs[0] != lose.fid ||
	    (lose.w3 && (uint32_t)regs[3] != lose.w3)) {
		pthread_mutex_unlock(&lose.lock);
		return false;
	}
	lose.armed = false;
	forward = lose.forward;
	between = lose.between;
	arg = lose.between_arg;
	pthread_mutex_unlock(&lose.lock);
	if (forward) {
		uint16_t sp = FFA_RECEIVER(regs[1]);

		smc_pass(vcpu, regs);
		pthread_mutex_lock(&lose.lock);
		if (is_suspended(regs) && lose.nthreads < 8) {
			lose.threads[lose.nthreads++] = (uint32_t)regs[7];
			lose.thread_sp = sp;
		}
		pthread_mutex_unlock(&lose.lock);
	}
	if (between)
		between(arg);
	/* The death: what follows waits for the recovery. */
	pthread_mutex_lock(&lose.lock);
	lose.recovery_pending = true;
	pthread_mutex_unlock(&lose.lock);
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = FFA_ERROR;
	regs[2] = (uint32_t)FFA_RET_ABORTED;
	return true;
}

/* lb_ffa_hold_next_answer(): this answer waits for the release. */
static void hold_here(struct tg_vcpu *vcpu, const uint64_t regs[8])
{
	pthread_mutex_lock(&lose.lock);
	if (lose.hold_vcpu == vcpu &&
	    (uint32_t)regs[0] == FFA_MSG_SEND_DIRECT_RESP_32 &&
	    (uint32_t)regs[4] == OPTEE_FFA_YIELDING_CALL_RETURN_DONE) {
		lose.hold_vcpu = NULL;
		lose.held = true;
		pthread_cond_broadcast(&lose.cond);
		while (!lose.released)
			pthread_cond_wait(&lose.cond, &lose.lock);
	}
	pthread_mutex_unlock(&lose.lock);
}

/* lb_before_next_smc() */
static struct {
	pthread_mutex_t lock;
	struct tg_vcpu *vcpu;
	void (*fn)(void *);
	void *arg;
} before = { .lock = PTHREAD_MUTEX_INITIALIZER };

void lb_before_next_smc(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&before.lock);
	before.vcpu = tg_vcpu_self();
	before.fn = fn;
	before.arg = arg;
	pthread_mutex_unlock(&before.lock);
}

static void before_here(struct tg_vcpu *vcpu)
{
	void (*fn)(void *) = NULL;
	void *arg = NULL;

	pthread_mutex_lock(&before.lock);
	if (before.fn && before.vcpu == vcpu) {
		fn = before.fn;
		arg = before.arg;
		before.fn = NULL;
	}
	pthread_mutex_unlock(&before.lock);
	if (fn)
		fn(arg);
}

void tg_smc(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	before_here(vcpu);
	if (refused_here(vcpu, regs))
		return;
	if (env.ffa) {
		lose_recover(vcpu);
		if (lose_here(vcpu, regs))
			return;
	}
	smc_pass(vcpu, regs);
	if (env.ffa)
		hold_here(vcpu, regs);
}

static void smc_pass(struct tg_vcpu *vcpu, uint64_t regs[8])
{
#ifdef TG_HAVE_MEDIATOR
	if (env.med) {
		/* The trap: a7 is whatever the guest left; the mediator
		 * stamps the client id itself. */
		if (!tg_handle_smc(env.med, vcpu->g->client_id, vcpu->index,
				   regs))
			regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
#endif
	if (env.ffa) {
		if (FFA_IS_FFA_FID(regs[0]))
			ffa_relay(vcpu->g, regs);
		else
			regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
	{
		uint64_t fn = regs[0];

		regs[7] = vcpu->g->client_id;
		lb_tee_smc(regs);
		chaos_apply(fn, regs);
	}
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

	if (index <= 0 || index >= (int)LB_MAX_VCPUS ||
	    !g->vcpus[index].joinable)
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

bool tg_vcpu_killed(struct tg_vcpu *vcpu)
{
	(void)vcpu;
	return false;
}

/* One loopback guest lives as long as its test. */
uint64_t tg_guest_instance(struct tg_vcpu *vcpu)
{
	(void)vcpu;
	return 1;
}

/* ---- mediated mode: a port over the loopback's memory -------------------- */

#ifdef TG_HAVE_MEDIATOR
struct tg_lock {
	pthread_mutex_t m;
};

static struct lb_guest *port_guest(uint32_t client_id)
{
	struct lb_guest *g;

	pthread_mutex_lock(&env.lock);
	g = guest_of_client(client_id);
	pthread_mutex_unlock(&env.lock);
	return g;
}

static int port_pin(void *ctx, uint32_t client_id, const uint64_t *guest_ipa,
		    uint64_t *pa, uint32_t count)
{
	struct lb_guest *g = port_guest(client_id);
	uint32_t i;

	(void)ctx;
	if (!g)
		return TG_EFAULT;
	for (i = 0; i < count; i++)
		if ((guest_ipa[i] & (LB_PAGE - 1)) || guest_ipa[i] < g->base ||
		    guest_ipa[i] - g->base >= g->size)
			return TG_EFAULT;
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < count; i++) {
		g->pins[(guest_ipa[i] - g->base) / LB_PAGE]++;
		pa[i] = guest_ipa[i]; /* IPA == PA in the loopback */
	}
	pthread_mutex_unlock(&g->lock);
	return TG_OK;
}

static void port_unpin(void *ctx, uint32_t client_id, const uint64_t *pa,
		       uint32_t count)
{
	struct lb_guest *g = port_guest(client_id);
	uint32_t i;

	(void)ctx;
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < count; i++) {
		uint64_t page = (pa[i] - g->base) / LB_PAGE;

		if (pa[i] < g->base || page >= g->npages || !g->pins[page])
			abort(); /* unpin of a page never pinned */
		g->pins[page]--;
	}
	pthread_mutex_unlock(&g->lock);
}

static int port_copy(uint32_t client_id, uint64_t ipa, uint32_t len,
		     uint8_t **p)
{
	struct lb_guest *g = port_guest(client_id);

	if (!g || ipa < g->base || ipa - g->base >= g->size ||
	    len > g->size - (ipa - g->base))
		return TG_EFAULT;
	*p = g->ram + (ipa - g->base);
	return TG_OK;
}

static int port_copy_from(void *ctx, uint32_t client_id, void *dst,
			  uint64_t guest_ipa, uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (port_copy(client_id, guest_ipa, len, &p))
		return TG_EFAULT;
	memcpy(dst, p, len);
	return TG_OK;
}

static int port_copy_to(void *ctx, uint32_t client_id, uint64_t guest_ipa,
			const void *src, uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (port_copy(client_id, guest_ipa, len, &p))
		return TG_EFAULT;
	memcpy(p, src, len);
	return TG_OK;
}

static void *port_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size);
}

static void port_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

static void *port_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	uint32_t i, run = 0;

	(void)ctx;
	pthread_mutex_lock(&env.lock);
	for (i = 0; i < LB_SHM_PAGES && npages; i++) {
		run = env.shm_used[i] ? 0 : run + 1;
		if (run == npages) {
			uint32_t first = i + 1 - npages;

			memset(env.shm_used + first, 1, npages);
			pthread_mutex_unlock(&env.lock);
			*pa = LB_SHM_BASE + (uint64_t)first * LB_PAGE;
			memset(env.shm + (size_t)first * LB_PAGE, 0,
			       (size_t)npages * LB_PAGE);
			return env.shm + (size_t)first * LB_PAGE;
		}
	}
	pthread_mutex_unlock(&env.lock);
	return NULL;
}

static void port_shm_free(void *ctx, void *va, uint32_t npages)
{
	size_t first = (size_t)((uint8_t *)va - env.shm) / LB_PAGE;

	(void)ctx;
	pthread_mutex_lock(&env.lock);
	memset(env.shm_used + first, 0, npages);
	pthread_mutex_unlock(&env.lock);
}

static void port_smc(void *ctx, uint64_t regs[8])
{
	(void)ctx;
	lb_tee_smc(regs);
}

static struct tg_lock *port_lock_create(void *ctx)
{
	struct tg_lock *l = calloc(1, sizeof(*l));

	(void)ctx;
	if (l)
		pthread_mutex_init(&l->m, NULL);
	return l;
}

static void port_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_destroy(&l->m);
	free(l);
}

static void port_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_lock(&l->m);
}

static void port_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_unlock(&l->m);
}

static void port_raise_notif(void *ctx, uint32_t client_id)
{
	struct lb_guest *g = port_guest(client_id);

	(void)ctx;
	if (g)
		raise_guest_irq(g);
}

static const struct tg_port lb_port = {
	.pin_pages = port_pin,
	.unpin_pages = port_unpin,
	.copy_from_guest = port_copy_from,
	.copy_to_guest = port_copy_to,
	.alloc = port_alloc,
	.free = port_free,
	.shm_alloc = port_shm_alloc,
	.shm_free = port_shm_free,
	.smc = port_smc,
	.lock_create = port_lock_create,
	.lock_destroy = port_lock_destroy,
	.lock = port_lock,
	.unlock = port_unlock,
	.raise_notif_irq = port_raise_notif,
};

int lb_env_init_mediated(const struct tg_model_config *cfg)
{
	int rc;

#ifdef LB_QEMU
	/* Everything lives in QEMU's RAM: start it first. */
	rc = lb_qemu_start();
	if (rc)
		return rc;
#endif
	env.shm = lb_mem_at(env.shm_pa, (size_t)LB_SHM_PAGES * LB_PAGE);
	if (!env.shm)
		return -1;
	memset(env.shm_used, 0, sizeof(env.shm_used));
#ifdef TG_HAVE_FFA_MEDIATOR
	{
		struct tg_model_config def;
		struct tg_config mc = { .protocol = TG_PROTOCOL_FFA };

		/* The FF-A mediator in front of the model SPMC. */
		memset(&def, 0, sizeof(def));
		if (cfg)
			def = *cfg;
		def.ffa = true;
#ifdef LB_OPTEE_410_BUGS
		def.ffa_optee_4_10_bugs = true;
#endif
		env.ffa = true;
		env.violations = 0;
#ifndef LB_QEMU
		rc = tg_model_create(&def, &lb_mem, &env.model);
		if (rc)
			return rc;
#endif
		rc = tg_mediator_create(&lb_port, &mc, &env.med);
		return rc == TG_OK ? 0 : -1;
	}
#endif
	rc = lb_env_init(cfg);
	if (rc)
		return rc;
	rc = tg_mediator_create(&lb_port, NULL, &env.med);
	return rc == TG_OK ? 0 : -1;
}

struct tg_mediator *lb_mediator(void)
{
	return env.med;
}

uint64_t lb_guest_pins(struct lb_guest *g)
{
	uint64_t n = 0;
	uint32_t i;

	pthread_mutex_lock(&g->lock);
	for (i = 0; i < g->npages; i++)
		n += g->pins[i];
	pthread_mutex_unlock(&g->lock);
	return n;
}
#endif
