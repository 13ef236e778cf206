// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest OP-TEE driver: probe, fast calls, the RPC shm cache, teardown, and
 * the registry that gives every vCPU of a guest the same driver.
 *
 * The probe follows Linux's OP-TEE SMC driver: CALLS_UID and revision,
 * EXCHANGE_CAPABILITIES (DYNAMIC_SHM required), GET_THREAD_COUNT, drain
 * then ENABLE_SHM_CACHE, and async notifications when offered.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optee_private.h"

/* Fast-call retries while the TEE answers EBUSY (shm cache). */
#define SHM_CACHE_BUSY_RETRIES 1000u

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Serializes tg_optee_get(): one driver per guest, never two. */
static pthread_mutex_t get_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tg_optee *registry;

struct tg_vcpu *tgg_drv_vcpu(struct tg_optee *drv)
{
	struct tg_vcpu *self = tg_vcpu_self();

	return self ? self : drv->vcpu;
}

void tgg_drv_smc(struct tg_optee *drv, uint64_t regs[8])
{
	tg_smc(tgg_drv_vcpu(drv), regs);
}

static void fast_call(struct tg_optee *drv, uint32_t fn, uint64_t a1,
		      uint64_t regs[8])
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = fn;
	regs[1] = a1;
	tgg_drv_smc(drv, regs);
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * DISABLE_SHM_CACHE: the TEE hands back, one per call, the RPC argument
 * buffers it kept; free each until ENOTAVAIL. EBUSY (a thread still uses
 * its buffer) is retried after a short sleep.
 */
static void shm_cache_disable(struct tg_optee *drv)
{
	uint32_t busy = 0, rounds = 0;
	struct tg_optee_shm *shm;
	uint64_t regs[8];

	while (rounds++ < 100000u) {
		fast_call(drv, OPTEE_SMC_DISABLE_SHM_CACHE, 0, regs);
		if ((uint32_t)regs[0] == OPTEE_SMC_RETURN_EBUSY) {
			if (++busy > SHM_CACHE_BUSY_RETRIES)
				break;
			sleep_ms(1);
			continue;
		}
		if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK)
			break; /* ENOTAVAIL: empty (or anything else: give up) */
		shm = tgg_shm_unlink_cookie(drv,
					    reg_pair_to_64(regs[1], regs[2]),
					    SHM_KIND_RPC_ALLOC);
		if (shm) {
			tgg_shm_release_pages(drv, shm);
			STAT_INC(drv, shm_cache_freed);
		}
	}
}

static bool shm_cache_enable(struct tg_optee *drv)
{
	uint64_t regs[8];
	uint32_t i;

	for (i = 0; i < SHM_CACHE_BUSY_RETRIES; i++) {
		fast_call(drv, OPTEE_SMC_ENABLE_SHM_CACHE, 0, regs);
		if ((uint32_t)regs[0] == OPTEE_SMC_RETURN_OK)
			return true;
		if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_EBUSY)
			return false;
		sleep_ms(1);
	}
	return false;
}

static int probe_tee(struct tg_optee *drv)
{
	uint64_t regs[8];
	uint32_t nsec_caps;

	fast_call(drv, OPTEE_SMC_CALLS_UID, 0, regs);
	if ((uint32_t)regs[0] != OPTEE_MSG_UID_0 ||
	    (uint32_t)regs[1] != OPTEE_MSG_UID_1 ||
	    (uint32_t)regs[2] != OPTEE_MSG_UID_2 ||
	    (uint32_t)regs[3] != OPTEE_MSG_UID_3)
		return TG_ENOTEE;

	fast_call(drv, OPTEE_SMC_CALLS_REVISION, 0, regs);
	if ((uint32_t)regs[0] != OPTEE_MSG_REVISION_MAJOR)
		return TG_ENOTEE;
	drv->info.rev_major = (uint32_t)regs[0];
	drv->info.rev_minor = (uint32_t)regs[1];

	nsec_caps = drv->cfg.uniprocessor ? OPTEE_SMC_NSEC_CAP_UNIPROCESSOR : 0;
	fast_call(drv, OPTEE_SMC_EXCHANGE_CAPABILITIES, nsec_caps, regs);
	if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK)
		return TG_ENOTSUP;
	drv->info.sec_caps = (uint32_t)regs[1];
	if (!(drv->info.sec_caps & OPTEE_SMC_SEC_CAP_DYNAMIC_SHM))
		return TG_ENOTSUP;
	if (drv->info.sec_caps & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF)
		drv->info.max_notif_value = (uint32_t)regs[2];
	if (drv->info.sec_caps & OPTEE_SMC_SEC_CAP_RPC_ARG) {
		drv->info.rpc_param_count = (uint32_t)regs[3] & 0xFFu;
		/* The driver's RPC handlers use at most 4 parameters; a
		 * count the TEE cannot mean makes us not use the RPC arg. */
		if (drv->info.rpc_param_count < 2 ||
		    drv->info.rpc_param_count > OPTEE_MSG_RPC_NUM_PARAMS * 8)
			drv->info.rpc_param_count = 0;
	}

	fast_call(drv, OPTEE_SMC_GET_THREAD_COUNT, 0, regs);
	if ((uint32_t)regs[0] == OPTEE_SMC_RETURN_OK && regs[1] < 65536)
		drv->info.thread_count = (uint32_t)regs[1];
	return TG_OK;
}

static void choose_call_form(struct tg_optee *drv)
{
	enum tg_optee_call_form f = drv->cfg.call_form;

	if (f == TG_OPTEE_FORM_DEFAULT)
		f = drv->info.rpc_param_count ? TG_OPTEE_FORM_REGD_ARG
					      : TG_OPTEE_FORM_ARG;
	if (f != TG_OPTEE_FORM_ARG && !drv->info.rpc_param_count)
		f = TG_OPTEE_FORM_ARG;
	drv->info.call_form = f;
}

static void drv_free(struct tg_optee *drv)
{
	pthread_mutex_destroy(&drv->lock);
	pthread_mutex_destroy(&drv->cq_lock);
	pthread_cond_destroy(&drv->cq_cond);
	pthread_mutex_destroy(&drv->notif_lock);
	pthread_cond_destroy(&drv->notif_cond);
	free(drv->ta_dir);
	free(drv);
}

static void registry_add(struct tg_optee *drv)
{
	pthread_mutex_lock(&registry_lock);
	drv->reg_next = registry;
	registry = drv;
	drv->registered = true;
	pthread_mutex_unlock(&registry_lock);
}

static void registry_del(struct tg_optee *drv)
{
	struct tg_optee **pp;

	pthread_mutex_lock(&registry_lock);
	for (pp = &registry; *pp; pp = &(*pp)->reg_next) {
		if (*pp == drv) {
			*pp = drv->reg_next;
			break;
		}
	}
	drv->registered = false;
	pthread_mutex_unlock(&registry_lock);
}

int tg_optee_probe(struct tg_vcpu *vcpu, const struct tg_optee_config *cfg,
		   struct tg_optee **out)
{
	struct tg_optee *drv;
	uint64_t regs[8];
	int rc;

	if (!vcpu || !out)
		return TG_EINVAL;
	drv = calloc(1, sizeof(*drv));
	if (!drv)
		return TG_ENOMEM;
	if (cfg)
		drv->cfg = *cfg;
	if (drv->cfg.ta_dir) {
		drv->ta_dir = strdup(drv->cfg.ta_dir);
		if (!drv->ta_dir) {
			free(drv);
			return TG_ENOMEM;
		}
	}
	drv->cfg.ta_dir = drv->ta_dir;
	drv->vcpu = vcpu;
	drv->notif_vcpu = -1;
	drv->guest_key = tg_guest_counters(vcpu);
	drv->guest_instance = tg_guest_instance(vcpu);
	drv->refs = 1;
	{
		struct timespec ts;

		/* Cookies of a previous driver of this guest may still be
		 * registered with the TEE: start somewhere else. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		drv->next_cookie = ((uint64_t)(ts.tv_nsec & 0xFFFF) << 32) |
				   ((uint64_t)(ts.tv_sec & 0xFF) << 48);
	}
	pthread_mutex_init(&drv->lock, NULL);
	pthread_mutex_init(&drv->cq_lock, NULL);
	pthread_cond_init(&drv->cq_cond, NULL);
	pthread_mutex_init(&drv->notif_lock, NULL);
	pthread_cond_init(&drv->notif_cond, NULL);

	/* The SMC ABI first (an FF-A-only TEE answers it UNKNOWN), as a
	 * kernel with both drivers ends up with the one that probes. */
	rc = TG_ENOTEE;
	if (drv->cfg.transport != TG_OPTEE_TRANSPORT_FFA)
		rc = probe_tee(drv);
	if (rc == TG_ENOTEE &&
	    drv->cfg.transport != TG_OPTEE_TRANSPORT_SMC) {
		rc = tgg_ffa_optee_probe(drv);
		if (rc == TG_OK) {
			registry_add(drv);
			*out = drv;
			return TG_OK;
		}
	}
	if (rc) {
		drv_free(drv);
		return rc;
	}
	choose_call_form(drv);

	/* Like Linux: drain a cache left by a previous driver, then enable. */
	if (!drv->cfg.no_shm_cache) {
		shm_cache_disable(drv);
		drv->info.shm_cache = shm_cache_enable(drv);
	}

	if ((drv->info.sec_caps & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF) &&
	    !drv->cfg.no_async_notif) {
		fast_call(drv, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0, regs);
		if ((uint32_t)regs[0] == OPTEE_SMC_RETURN_OK &&
		    tgg_notif_start(drv) == TG_OK)
			drv->info.async_notif = true;
	}
	registry_add(drv);
	*out = drv;
	return TG_OK;
}

void tg_optee_remove(struct tg_optee *drv)
{
	struct tg_optee_shm *s;

	if (!drv)
		return;
	registry_del(drv);
	if (drv->info.async_notif) {
		struct optee_msg_arg msg;
		uint32_t smc_ret;

		memset(&msg, 0, sizeof(msg));
		msg.cmd = OPTEE_MSG_CMD_STOP_ASYNC_NOTIF;
		tgg_std_call(drv, TG_OPTEE_FORM_DEFAULT, &msg, &smc_ret);
	}
	tgg_notif_stop(drv);
	if (drv->info.shm_cache)
		shm_cache_disable(drv);
	tgg_arg_cache_free(drv);
	tgg_shm_free_all(drv);
	while (drv->page_pool_len)
		tgg_guest_pages_free(drv, drv->page_pool[--drv->page_pool_len],
				     1);
	tgg_ffa_optee_remove(drv);
	/* Client shms still alive are the clients' leak; detach them. */
	while ((s = drv->shms)) {
		drv->shms = s->next;
		s->next = NULL;
	}
	drv_free(drv);
}

const struct tg_optee_info *tg_optee_info(const struct tg_optee *drv)
{
	return drv ? &drv->info : NULL;
}

void tg_optee_get_stats(struct tg_optee *drv, struct tg_optee_stats *out)
{
	const uint64_t *src = (const uint64_t *)&drv->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

struct tg_vcpu *tg_optee_vcpu(const struct tg_optee *drv)
{
	return drv ? drv->vcpu : NULL;
}

/* A guest is known by its counters page: the same for all its vCPUs. */
struct tg_optee *tg_optee_lookup(struct tg_vcpu *vcpu)
{
	const void *key;
	struct tg_optee *d;

	if (!vcpu)
		return NULL;
	key = tg_guest_counters(vcpu);
	pthread_mutex_lock(&registry_lock);
	for (d = registry; d; d = d->reg_next)
		if (d->guest_key == key &&
		    d->guest_instance == tg_guest_instance(vcpu))
			break;
	pthread_mutex_unlock(&registry_lock);
	return d;
}

static void unlock_get_lock(void *arg)
{
	(void)arg;
	pthread_mutex_unlock(&get_lock);
}

int tg_optee_get(struct tg_vcpu *vcpu, struct tg_optee **out)
{
	const void *key;
	struct tg_optee *d;
	volatile int rc = TG_OK; /* across pthread_cleanup_push() */

	if (!vcpu || !out)
		return TG_EINVAL;
	key = tg_guest_counters(vcpu);
	pthread_mutex_lock(&get_lock);
	pthread_mutex_lock(&registry_lock);
	for (d = registry; d; d = d->reg_next) {
		if (d->guest_key == key &&
		    d->guest_instance == tg_guest_instance(vcpu)) {
			d->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	/*
	 * Two drivers in one guest would both take the async notifications
	 * and choose colliding cookies: probe under get_lock. The probe
	 * traps, and a killed thread-mode guest's vCPU ends in its trap
	 * (pthread_exit): let it drop the lock then, or every other guest
	 * of the program waits for it for ever.
	 */
	pthread_cleanup_push(unlock_get_lock, NULL);
	if (!d)
		rc = tg_optee_probe(vcpu, NULL, &d);
	pthread_cleanup_pop(1);
	if (!rc)
		*out = d;
	return rc;
}

void tg_optee_put(struct tg_optee *drv)
{
	struct tg_optee **pp;
	volatile bool last; /* across pthread_cleanup_push() */

	if (!drv)
		return;
	/*
	 * Under get_lock, as a probe: the last reference's removal ends
	 * before the guest's next driver is probed. Overlapping, the old
	 * driver's STOP_ASYNC_NOTIF would turn the new one's notifications
	 * off, or its notification vCPU, not stopped yet, would take the
	 * new one's values: a TEE thread of the new driver then waits for
	 * a notification for ever (guest_workload hung about one run in
	 * 25 under load, its second vCPU's driver going as the first one's
	 * came). A killed vCPU's trap lets go of the lock (see
	 * tg_optee_get()).
	 */
	pthread_mutex_lock(&get_lock);
	pthread_cleanup_push(unlock_get_lock, NULL);
	pthread_mutex_lock(&registry_lock);
	last = --drv->refs == 0;
	if (last) {
		/* Out of the registry before anyone can take a new ref. */
		for (pp = &registry; *pp; pp = &(*pp)->reg_next) {
			if (*pp == drv) {
				*pp = drv->reg_next;
				break;
			}
		}
		drv->registered = false;
	}
	pthread_mutex_unlock(&registry_lock);
	if (last)
		tg_optee_remove(drv);
	pthread_cleanup_pop(1);
}
