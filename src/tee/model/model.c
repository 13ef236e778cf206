// SPDX-License-Identifier: BSD-2-Clause
/*
 * The OP-TEE model: SMC entry, fast calls and the guest (partition) table.
 *
 * Behaves like OP-TEE 4.x built with CFG_NS_VIRTUALIZATION=y: a7 is the
 * client id (16 bits), client 0 is the hypervisor, a guest exists between
 * VM_CREATED and VM_DESTROYED. With cfg.no_virtualization there is a
 * single partition and a7 is ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <teegate/port.h>

#include "model_internal.h"

/* OP-TEE's hypervisor client id. */
#define HYP_CLIENT_ID 0u
/* CALLS_COUNT answers. */
#define MODEL_CALLS_COUNT_VIRT 14u
#define MODEL_CALLS_COUNT_NO_VIRT 12u

/* ---- Deterministic per-guest PRNG (splitmix64) -------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/*
 * Each guest has its own stream, seeded from cfg.seed and its id, so that
 * the injections a guest sees depend only on its own sequence of calls.
 */
uint32_t tgm_prng_pct(struct guest *g)
{
	return (uint32_t)(splitmix64(&g->prng_state) % 100u);
}

void tgm_tee_time(uint64_t *seconds, uint64_t *millis)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	*seconds = (uint64_t)ts.tv_sec;
	*millis = (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- Guests ------------------------------------------------------------ */

/*
 * The partition of @client_id, by live_id: without a lock (a guest's
 * SMC checks again under the partition's lock, guest_lock()), or under
 * the model lock, which orders creation and destruction.
 */
struct guest *tgm_find_guest(struct tg_model *m, uint16_t client_id)
{
	if (m->cfg.no_virtualization)
		return &m->guests[0];
	for (uint32_t i = 0; i < m->max_guests; i++)
		if (atomic_load_explicit(&m->guests[i].live_id,
					 memory_order_acquire) ==
		    (uint32_t)client_id + 1u)
			return &m->guests[i];
	return NULL;
}

/* Forget everything a partition holds: threads, sessions, buffers. */
static void guest_clear(struct tg_model *m, struct guest *g)
{
	for (uint32_t i = 0; i < m->num_threads; i++)
		if (m->threads[i].guest == g)
			tgm_thread_abort(m, &m->threads[i]);
	tgm_session_free_all(g);
	tgm_reg_shm_free_all(g);
	g->rpc_cache_len = 0;
	g->shm_cache_enabled = false;
	g->async_notif_enabled = false;
	memset(g->notif_pending, 0, sizeof(g->notif_pending));
}

static void guest_init(struct tg_model *m, struct guest *g, uint16_t id)
{
	g->live = true;
	g->id = id;
	atomic_store_explicit(&g->live_id, (uint32_t)id + 1u,
			      memory_order_release);
	g->prng_state = m->cfg.seed ^ ((uint64_t)id * 0xD1B54A32D192ED03ull);
	g->nvb_bottom_half = -1;
}

/* (Re)create partition @id in slot @g (FF-A's VM_CREATED). */
void tgm_guest_reset(struct tg_model *m, struct guest *g, uint16_t id)
{
	if (g->live)
		guest_clear(m, g);
	guest_init(m, g, id);
}

/* Forget partition @g (FF-A's VM_DESTROYED). */
void tgm_guest_kill(struct tg_model *m, struct guest *g)
{
	guest_clear(m, g);
	g->live = false;
	atomic_store_explicit(&g->live_id, 0, memory_order_release);
}

/*
 * VM_CREATED: OP-TEE does not check for a duplicate id; it builds a new
 * partition. The model does the same by clearing the old one. No free slot
 * (CFG_VIRT_GUEST_COUNT reached): OP-TEE fails the partition allocation
 * and answers ENOTAVAIL.
 */
static uint32_t vm_created(struct tg_model *m, uint16_t id)
{
	struct guest *g = tgm_find_guest(m, id);

	if (id == HYP_CLIENT_ID)
		return OPTEE_SMC_RETURN_ENOTAVAIL;
	for (uint32_t i = 0; !g && i < m->max_guests; i++)
		if (!m->guests[i].live)
			g = &m->guests[i];
	if (!g)
		return OPTEE_SMC_RETURN_ENOTAVAIL;
	/* The model lock is held: the partition's comes second. */
	pthread_mutex_lock(&g->lock);
	if (g->live)
		guest_clear(m, g);
	guest_init(m, g, id);
	pthread_mutex_unlock(&g->lock);
	return OPTEE_SMC_RETURN_OK;
}

/* VM_DESTROYED: an unknown id is only logged by OP-TEE: OK. */
static uint32_t vm_destroyed(struct tg_model *m, uint16_t id)
{
	struct guest *g = tgm_find_guest(m, id);

	if (g && id != HYP_CLIENT_ID) {
		pthread_mutex_lock(&g->lock);
		guest_clear(m, g);
		g->live = false;
		atomic_store_explicit(&g->live_id, 0, memory_order_release);
		pthread_mutex_unlock(&g->lock);
	}
	return OPTEE_SMC_RETURN_OK;
}

/* ---- Async notifications ----------------------------------------------- */

/*
 * Make @value pending for @g and raise the notification interrupt (after
 * the model lock is dropped). Like OP-TEE, a value sent before the guest
 * enabled asynchronous notifications is dropped.
 */
void tgm_raise_async_notif(struct tg_model *m, struct guest *g, uint32_t value)
{
	if (!g->async_notif_enabled || value > MODEL_MAX_NOTIF_VALUE)
		return;
	g->notif_pending[value] = true;
	/*
	 * FF-A: OP-TEE's notifications carry the bottom-half bit only; the
	 * value itself follows from DO_BOTTOM_HALF (tgm_ffa_bottom_half()).
	 */
	if (m->cfg.ffa) {
		if (g->nvb_bottom_half < 0)
			return;
		g->nvb_pending |= 1ull << g->nvb_bottom_half;
	}
	m->notif_irq_pending = true;
}

static void get_async_notif_value(struct guest *g, uint64_t regs[8])
{
	uint32_t value = 0, flags = 0;

	for (uint32_t v = 0; v <= MODEL_MAX_NOTIF_VALUE; v++) {
		if (!g->notif_pending[v])
			continue;
		if (flags & OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID) {
			flags |= OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING;
			break;
		}
		g->notif_pending[v] = false;
		value = v;
		flags |= OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID;
	}
	regs[0] = OPTEE_SMC_RETURN_OK;
	regs[1] = value;
	regs[2] = flags;
	regs[3] = 0;
}

/* ---- Fast calls -------------------------------------------------------- */

static bool any_thread_busy(const struct tg_model *m)
{
	for (uint32_t i = 0; i < m->num_threads; i++)
		if (m->threads[i].state != THREAD_FREE)
			return true;
	return false;
}

/*
 * DISABLE_SHM_CACHE: one cached RPC argument cookie per call, then
 * ENOTAVAIL. The cache is kept per guest so that one guest's buffers are
 * never used for another guest's RPCs.
 */
static void disable_shm_cache(struct tg_model *m, struct guest *g,
			      uint64_t regs[8])
{
	struct cached_rpc_arg c;

	if (any_thread_busy(m)) {
		regs[0] = OPTEE_SMC_RETURN_EBUSY;
		return;
	}
	/* Like OP-TEE, the cache stays on until it has been drained. */
	if (!g->rpc_cache_len) {
		g->shm_cache_enabled = false;
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		return;
	}
	c = g->rpc_cache[--g->rpc_cache_len];
	regs[0] = OPTEE_SMC_RETURN_OK;
	regs[1] = c.cookie >> 32;
	regs[2] = c.cookie & 0xFFFFFFFFu;
}

static uint32_t sec_caps(const struct tg_model *m)
{
	/* What the QEMU build answers: everything but UNREGISTERED_SHM. */
	uint32_t caps =
		OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM |
		OPTEE_SMC_SEC_CAP_DYNAMIC_SHM |
		OPTEE_SMC_SEC_CAP_VIRTUALIZATION |
		OPTEE_SMC_SEC_CAP_MEMREF_NULL | OPTEE_SMC_SEC_CAP_ASYNC_NOTIF |
		OPTEE_SMC_SEC_CAP_RPC_ARG | OPTEE_SMC_SEC_CAP_RPMB_PROBE;

	if (m->cfg.no_virtualization)
		caps &= ~OPTEE_SMC_SEC_CAP_VIRTUALIZATION;
	return caps;
}

/*
 * fast_call() - @g is the caller's partition, NULL for the hypervisor
 * (client 0). Calls about a partition's own state need one.
 */
static void fast_call(struct tg_model *m, struct guest *g, uint16_t client,
		      uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	bool virt = !m->cfg.no_virtualization;

	switch (fid) {
	case OPTEE_SMC_CALLS_COUNT:
		regs[0] = virt ? MODEL_CALLS_COUNT_VIRT
			       : MODEL_CALLS_COUNT_NO_VIRT;
		break;
	case OPTEE_SMC_CALLS_UID:
		regs[0] = OPTEE_MSG_UID_0;
		regs[1] = OPTEE_MSG_UID_1;
		regs[2] = OPTEE_MSG_UID_2;
		regs[3] = OPTEE_MSG_UID_3;
		break;
	case OPTEE_SMC_CALLS_REVISION:
		regs[0] = OPTEE_MSG_REVISION_MAJOR;
		regs[1] = OPTEE_MSG_REVISION_MINOR;
		break;
	case OPTEE_SMC_GET_OS_UUID:
		regs[0] = OPTEE_MSG_OS_UUID_0;
		regs[1] = OPTEE_MSG_OS_UUID_1;
		regs[2] = OPTEE_MSG_OS_UUID_2;
		regs[3] = OPTEE_MSG_OS_UUID_3;
		break;
	case OPTEE_SMC_GET_OS_REVISION:
		regs[0] = MODEL_OS_REVISION_MAJOR;
		regs[1] = MODEL_OS_REVISION_MINOR;
		regs[2] = MODEL_OS_BUILD_ID;
		break;
	case OPTEE_SMC_GET_SHM_CONFIG:
		if (!m->cfg.reserved_shm_size) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
			break;
		}
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = m->cfg.reserved_shm_base;
		regs[2] = m->cfg.reserved_shm_size;
		regs[3] = OPTEE_SMC_SHM_CACHED;
		break;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		if ((uint32_t)regs[1] & ~OPTEE_SMC_NSEC_CAP_UNIPROCESSOR) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
			break;
		}
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = sec_caps(m);
		regs[2] = MODEL_MAX_NOTIF_VALUE;
		regs[3] = OPTEE_MSG_RPC_NUM_PARAMS;
		break;
	case OPTEE_SMC_DISABLE_SHM_CACHE:
		if (!g)
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		else
			disable_shm_cache(m, g, regs);
		break;
	case OPTEE_SMC_ENABLE_SHM_CACHE:
		if (!g) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		} else if (any_thread_busy(m)) {
			regs[0] = OPTEE_SMC_RETURN_EBUSY;
		} else {
			g->shm_cache_enabled = true;
			regs[0] = OPTEE_SMC_RETURN_OK;
		}
		break;
	case OPTEE_SMC_BOOT_SECONDARY:
		regs[0] = client == HYP_CLIENT_ID ? OPTEE_SMC_RETURN_OK
						  : OPTEE_SMC_RETURN_ENOTAVAIL;
		break;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
		if (!virt)
			regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		else if (client != HYP_CLIENT_ID)
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		else if (fid == OPTEE_SMC_VM_CREATED)
			regs[0] = vm_created(m, (uint16_t)regs[1]);
		else
			regs[0] = vm_destroyed(m, (uint16_t)regs[1]);
		break;
	case OPTEE_SMC_GET_THREAD_COUNT:
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = m->num_threads;
		break;
	case OPTEE_SMC_ENABLE_ASYNC_NOTIF:
		if (!g) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		} else {
			g->async_notif_enabled = true;
			regs[0] = OPTEE_SMC_RETURN_OK;
		}
		break;
	case OPTEE_SMC_GET_ASYNC_NOTIF_VALUE:
		if (!g)
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		else
			get_async_notif_value(g, regs);
		break;
	case OPTEE_SMC_GET_PROTMEM_CONFIG:
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		break;
	case OPTEE_SMC_L2CC_MUTEX: /* ARM32 only: not on this arm64 model */
	default:
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		break;
	}
}

/* ---- SMC entry --------------------------------------------------------- */

/*
 * Fast calls whose answer is a constant: like OP-TEE, which serves them
 * without taking a lock, they need only know that the caller exists.
 * Without the model lock, guests on different cores do not serialise on
 * them (teegate bench --trap-on-vcpu with 2 guests).
 */
static bool constant_fast_call(struct tg_model *m, uint16_t client,
			       uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	/* Behind the SPMD the SMC ABI is unknown (and only that model can
	 * panic: m->panicked is read under the lock). */
	if (m->cfg.ffa)
		return false;
	switch (fid) {
	case OPTEE_SMC_CALLS_COUNT:
	case OPTEE_SMC_CALLS_UID:
	case OPTEE_SMC_CALLS_REVISION:
	case OPTEE_SMC_GET_OS_UUID:
	case OPTEE_SMC_GET_OS_REVISION:
		break;
	default:
		return false;
	}
	if (client != HYP_CLIENT_ID && !tgm_find_guest(m, client))
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
	else
		fast_call(m, NULL, client, regs);
	return true;
}

/*
 * An SMC of the SMC ABI from @client, whose partition is @g (NULL: the
 * hypervisor, or a client the model does not know). The caller holds
 * @g's lock, or the model lock for the hypervisor.
 */
static void smc_abi(struct tg_model *m, struct guest *g, uint16_t client,
		    uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	bool virt = !m->cfg.no_virtualization;

	if (OPTEE_SMC_IS_FAST(fid)) {
		if (virt && client != HYP_CLIENT_ID && !g)
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		else
			fast_call(m, g, client, regs);
	} else if (OPTEE_SMC_OWNER(fid) != OPTEE_SMC_OWNER_TRUSTED_OS ||
		   OPTEE_SMC_IS_64(fid)) {
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
	} else if (!g) {
		/* Unknown client, or the hypervisor itself. */
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
	} else if (fid == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
		tgm_std_return_from_rpc(m, g, regs);
	} else {
		tgm_std_call(m, g, regs);
	}
}

/*
 * The partition of guest @client, locked; NULL (nothing locked) if it
 * has none. The check under the partition's lock is the one that counts
 * (VM_DESTROYED clears live_id under it): a partition destroyed between
 * the look-up and the lock is no partition, as if the call came after.
 */
static struct guest *guest_lock(struct tg_model *m, uint16_t client)
{
	struct guest *g = tgm_find_guest(m, client);

	if (!g)
		return NULL;
	pthread_mutex_lock(&g->lock);
	if (m->cfg.no_virtualization ||
	    atomic_load_explicit(&g->live_id, memory_order_relaxed) ==
		    (uint32_t)client + 1u)
		return g;
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/**
 * tg_model_smc() - one SMC from the normal world. Every register is
 * untrusted; a7 is taken as the client id (the hypervisor vouches for it).
 */
void tg_model_smc(struct tg_model *m, uint64_t regs[8])
{
	uint16_t client = (uint16_t)regs[7];
	struct guest *g;

	if (constant_fast_call(m, client, regs))
		return;
	if (m->cfg.ffa) {
		pthread_mutex_lock(&m->lock);
		if (m->panicked) {
			regs[0] = FFA_ERROR;
			regs[2] = (uint32_t)FFA_RET_ABORTED;
		} else {
			tgm_ffa_smc(m, regs);
		}
		pthread_mutex_unlock(&m->lock);
	} else if (!m->cfg.no_virtualization && client == HYP_CLIENT_ID) {
		pthread_mutex_lock(&m->lock);
		smc_abi(m, NULL, client, regs);
		pthread_mutex_unlock(&m->lock);
	} else {
		g = guest_lock(m, client);
		smc_abi(m, g, client, regs);
		if (g)
			pthread_mutex_unlock(&g->lock);
	}
	if (atomic_load_explicit(&m->notif_irq_pending, memory_order_relaxed) &&
	    atomic_exchange(&m->notif_irq_pending, false) && m->mem.notif_irq)
		m->mem.notif_irq(m->mem.ctx);
}

bool tg_model_panicked(struct tg_model *m)
{
	bool p;

	pthread_mutex_lock(&m->lock);
	p = m->panicked;
	pthread_mutex_unlock(&m->lock);
	return p;
}

uint32_t tg_model_threads_held(struct tg_model *m, uint32_t client_id)
{
	uint32_t n = 0;

	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < m->num_threads; i++) {
		const struct model_thread *t = &m->threads[i];

		if (t->state == THREAD_FREE)
			continue;
		if (client_id == UINT32_MAX || t->client_id == client_id)
			n++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* ---- Life cycle -------------------------------------------------------- */

/* Short sections taken by every SMC: spin before sleeping (a futex
 * wake-up across cores costs tens of us). */
static int lock_init(pthread_mutex_t *lock)
{
	pthread_mutexattr_t a;
	int ret;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	ret = pthread_mutex_init(lock, &a);
	pthread_mutexattr_destroy(&a);
	return ret;
}

/* @n zeroed entries of @size, a multiple of the 64-byte cache line,
 * aligned to it: the partitions and threads share no line. */
static void *calloc_lines(size_t n, size_t size)
{
	void *p = aligned_alloc(64, n * size);

	if (p)
		memset(p, 0, n * size);
	return p;
}

static void model_free(struct tg_model *m)
{
	/* Threads first: they hold references into the guests' buffers. */
	for (uint32_t i = 0; m->threads && i < m->num_threads; i++)
		tgm_thread_abort(m, &m->threads[i]);
	for (uint32_t i = 0; m->guests && i < m->max_guests; i++) {
		if (m->threads)
			guest_clear(m, &m->guests[i]);
		free(m->guests[i].rpc_cache);
		if (i < m->guest_locks)
			pthread_mutex_destroy(&m->guests[i].lock);
	}
	tgm_ffa_free(m);
	for (uint32_t i = 0; m->threads && i < m->num_threads; i++)
		free(m->threads[i].shadow);
	free(m->threads);
	free(m->guests);
	free(m);
}

/**
 * tg_model_create() - a new model with @cfg, reaching NS memory via @mem.
 * Return: TG_OK, TG_EINVAL for a bad configuration, TG_ENOMEM.
 */
int tg_model_create(const struct tg_model_config *cfg,
		    const struct tg_sw_mem *mem, struct tg_model **out)
{
	struct tg_model *m;

	if (!cfg || !mem || !mem->map || !out)
		return TG_EINVAL;
	if (cfg->threads > MODEL_MAX_THREADS ||
	    cfg->max_guests > MODEL_MAX_GUESTS ||
	    cfg->inject_foreign_intr_pct > 100 || cfg->inject_rpc_pct > 100)
		return TG_EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return TG_ENOMEM;
	m->cfg = *cfg;
	m->mem = *mem;
	m->num_threads = cfg->threads ? cfg->threads : MODEL_DEFAULT_THREADS;
	m->max_guests = cfg->no_virtualization ? 1
			: cfg->max_guests      ? cfg->max_guests
					       : MODEL_DEFAULT_GUESTS;
	m->next_session_id = 1;
	/* OP-TEE's SPMC starts at 1.0 until the normal world negotiates. */
	m->ffa.version = FFA_VERSION_1_0;

	m->threads = calloc_lines(m->num_threads, sizeof(*m->threads));
	m->guests = calloc_lines(m->max_guests, sizeof(*m->guests));
	if (!m->threads || !m->guests)
		goto nomem;
	for (; m->guest_locks < m->max_guests; m->guest_locks++)
		if (lock_init(&m->guests[m->guest_locks].lock))
			goto nomem;
	for (uint32_t i = 0; i < m->num_threads; i++) {
		m->threads[i].index = i;
		m->threads[i].shadow = calloc(1, MODEL_PAGE_SIZE);
		if (!m->threads[i].shadow)
			goto nomem;
	}
	for (uint32_t i = 0; i < m->max_guests; i++) {
		m->guests[i].rpc_cache =
			calloc(m->num_threads, sizeof(struct cached_rpc_arg));
		if (!m->guests[i].rpc_cache)
			goto nomem;
	}
	if (cfg->no_virtualization)
		guest_init(m, &m->guests[0], 0);
	if (lock_init(&m->lock))
		goto nomem;
	*out = m;
	return TG_OK;
nomem:
	model_free(m);
	return TG_ENOMEM;
}

void tg_model_destroy(struct tg_model *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	model_free(m);
}
