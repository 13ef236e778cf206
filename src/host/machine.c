// SPDX-License-Identifier: BSD-2-Clause
/*
 * The machine: memory, page pool, secure-world backend, mediator, guests.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_SPIN_NS 20000u
#define RESERVED_SHM_BASE 0x42000000ull
#define RESERVED_SHM_SIZE 0x200000ull

#ifdef TG_HAVE_MODEL
static void model_smc(void *ctx, uint64_t regs[8])
{
	tg_model_smc(ctx, regs);
}
#endif

static int setup_reserved(struct tg_machine *m)
{
	const struct tg_machine_config *c = &m->cfg;
	uint32_t i;

	if (c->reserved) {
		if (c->nreserved > TG_HOST_MAX_RESERVED)
			return TG_EINVAL;
		for (i = 0; i < c->nreserved; i++)
			m->reserved[i] = c->reserved[i];
		m->nreserved = c->nreserved;
		return TG_OK;
	}
	m->reserved[0] = (struct tg_mem_region){ m->ram_base, TG_PAGE_SIZE,
						 "device tree" };
	m->nreserved = 1;
	if (RESERVED_SHM_BASE >= m->ram_base &&
	    RESERVED_SHM_BASE + RESERVED_SHM_SIZE <= m->ram_base + m->ram_size)
		m->reserved[m->nreserved++] = (struct tg_mem_region){
			RESERVED_SHM_BASE, RESERVED_SHM_SIZE,
			"OP-TEE reserved SHM"
		};
	return TG_OK;
}

static int setup_backend(struct tg_machine *m)
{
	if (m->cfg.tee == TG_TEE_NULL) {
		m->backend_smc = tg_null_tee_smc;
		m->backend_ctx = NULL;
		return TG_OK;
	}
	if (m->cfg.tee == TG_TEE_QEMU)
		return tg_qemu_backend_init(m);
	if (m->cfg.tee != TG_TEE_MODEL)
		return TG_EINVAL;
#ifdef TG_HAVE_MODEL
	{
		struct tg_model_config mc = m->cfg.model;
		int ret;

		if (!mc.reserved_shm_base && !mc.reserved_shm_size &&
		    RESERVED_SHM_BASE >= m->ram_base &&
		    RESERVED_SHM_BASE + RESERVED_SHM_SIZE <=
			    m->ram_base + m->ram_size) {
			mc.reserved_shm_base = RESERVED_SHM_BASE;
			mc.reserved_shm_size = RESERVED_SHM_SIZE;
		}
		ret = tg_model_create(&mc, &m->sw_mem, &m->model);
		if (ret)
			return ret < 0 ? ret : TG_ENOMEM;
		m->backend_smc = model_smc;
		m->backend_ctx = m->model;
		return TG_OK;
	}
#else
	return TG_ENOTSUP;
#endif
}

int tg_machine_create(const struct tg_machine_config *cfg,
		      struct tg_machine **out)
{
	struct tg_machine *m;
	size_t by_client_len = 0x10000u * sizeof(*m->by_client);
	int ret;

	if (!out)
		return TG_EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return TG_ENOMEM;
	if (cfg)
		m->cfg = *cfg;
	m->mem.fd = -1;
	m->ram_base = m->cfg.ram_base ? m->cfg.ram_base
				      : TG_HOST_DEFAULT_RAM_BASE;
	m->ram_size = m->cfg.ram_size ? m->cfg.ram_size
				      : TG_HOST_DEFAULT_RAM_SIZE;
	m->log_level = m->cfg.log_level ? m->cfg.log_level - 1 : TG_LOG_WARN;
	m->spin_ns = m->cfg.spin_ns ? m->cfg.spin_ns : DEFAULT_SPIN_NS;
	tg_place_init(m);
	m->rng = m->cfg.seed ? m->cfg.seed
			     : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	m->rng |= 1;
	pthread_mutex_init(&m->lock, NULL);
	tg_fork_gate_init(&m->fork_gate);
	if ((m->ram_base & TG_PAGE_MASK) || (m->ram_size & TG_PAGE_MASK) ||
	    m->ram_size < (1u << 20) || m->ram_size > (1ull << 42) ||
	    m->cfg.mediation > TG_MEDIATION_DIRECT) {
		free(m);
		return TG_EINVAL;
	}
	m->npages = m->ram_size >> TG_PAGE_SHIFT;
	ret = setup_reserved(m);
	if (ret)
		goto fail;
	m->by_client = mmap(NULL, by_client_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->by_client == MAP_FAILED) {
		m->by_client = NULL;
		ret = TG_ENOMEM;
		goto fail;
	}
	madvise((void *)m->by_client, by_client_len, MADV_WIPEONFORK);
	/* Not root: a guest would run as our uid; make sure it cannot
	 * ptrace us, the zygote, or open /proc/<us>/mem (root guests drop
	 * to nobody). */
	if (geteuid() != 0)
		prctl(PR_SET_DUMPABLE, 0);
	/* before any machine learns anything (the first time): what forked
	 * guests start from */
	ret = tg_zygote_start(m);
	if (ret)
		goto fail;
	ret = tg_mem_open(m);
	if (ret)
		goto fail;
	ret = tg_pages_init(m);
	if (ret)
		goto fail;

	tg_oracle_init(m);
	tg_port_init(m);
	ret = setup_backend(m);
	if (ret)
		goto fail;
	if (m->cfg.mediation == TG_MEDIATION_INLINE) {
#ifdef TG_HAVE_MEDIATOR
		/* sandboxed/service: the mediator process probes the TEE */
		ret = tg_iso_start(m);
		if (!ret && m->isolation == TG_ISOLATION_INLINE) {
			tg_port_shm_pool_init(m, TG_ISO_SHADOW_PAGES);
			/* hypercall.c asks for sat-on threads, in every mode */
			m->cfg.mediator.hypervisor_reclaims = true;
			ret = tg_mediator_create(&m->port, &m->cfg.mediator,
						 &m->med);
		}
		if (ret)
			goto fail;
#else
		ret = TG_ENOTSUP;
		goto fail;
#endif
	}
	if (!m->cfg.trap_on_vcpu) {
		uint32_t n = m->cfg.trap_pool ? m->cfg.trap_pool
					      : tg_trap_pool_from_env();

		if (n > TG_HOST_MAX_TRAP_POOL)
			n = TG_HOST_MAX_TRAP_POOL;
		m->cfg.trap_pool = n;
		ret = n ? tg_pool_create(m, n) : TG_OK;
		if (ret)
			goto fail;
	}
	*out = m;
	return TG_OK;

fail:
	tg_machine_destroy(m);
	return ret;
}

uint32_t tg_trap_pool_from_env(void)
{
	const char *env = getenv("TEEGATE_TRAP_POOL");

	return env && *env ? (uint32_t)strtoul(env, NULL, 10) : 0;
}

int tg_machine_destroy(struct tg_machine *m)
{
	struct tg_machine_pages pages;
	int ret = TG_OK;
	uint32_t i;

	if (!m)
		return TG_EINVAL;
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++) {
		struct tg_guest *g = m->guests[i];

		if (!g)
			continue;
		tg_guest_kill(g);
		if (tg_guest_wait(g, NULL))
			ret = TG_EBUSY;
		tg_guest_release(g);
	}
	/* no guest is left: nothing is in the pool */
	tg_pool_destroy(m);
#ifdef TG_HAVE_MEDIATOR
	if (m->med && tg_mediator_destroy(m->med))
		ret = TG_EBUSY;
#endif
	m->med = NULL;
	tg_port_shm_pool_fini(m);
	tg_iso_stop(m);
	if (m->pages) {
		tg_machine_page_stats(m, &pages);
		if (pages.pinned)
			ret = TG_EBUSY;
	}
#ifdef TG_HAVE_MODEL
	if (m->model)
		tg_model_destroy(m->model);
#endif
	m->model = NULL;
	tg_pages_fini(m);
	tg_mem_close(m);
	if (m->by_client)
		munmap((void *)m->by_client, 0x10000u * sizeof(*m->by_client));
	pthread_mutex_destroy(&m->lock);
	tg_fork_gate_destroy(&m->fork_gate);
	free(m);
	return ret;
}

uint64_t tg_machine_violations(const struct tg_machine *m)
{
	return atomic_load(&((struct tg_machine *)m)->violations) +
	       tg_qemu_backend_violations(m);
}

struct tg_mediator *tg_machine_mediator(struct tg_machine *m)
{
	return m->med;
}

const struct tg_tee_info *tg_machine_tee_info(struct tg_machine *m)
{
	if (m->med)
		return tg_mediator_tee_info(m->med);
	if (m->iso)
		return tg_iso_tee_info(m);
	return NULL;
}

struct tg_model *tg_machine_model(struct tg_machine *m)
{
	return m->model;
}

const struct tg_sw_mem *tg_machine_sw_mem(struct tg_machine *m)
{
	return &m->sw_mem;
}

const struct tg_port *tg_machine_port(struct tg_machine *m)
{
	return &m->port;
}

uint32_t tg_machine_owner(struct tg_machine *m, uint64_t pa, uint32_t *pins)
{
	uint32_t owner;

	if (!tg_pa_is_ram(m, pa)) {
		if (pins)
			*pins = 0;
		return TG_OWNER_RESERVED;
	}
	pthread_mutex_lock(&m->lock);
	owner = atomic_load(&m->pages[tg_pa_to_pfn(m, pa)].owner);
	if (pins)
		*pins = m->pages[tg_pa_to_pfn(m, pa)].pins;
	pthread_mutex_unlock(&m->lock);
	return owner;
}

void tg_machine_page_stats(struct tg_machine *m, struct tg_machine_pages *out)
{
	uint64_t pfn;

	memset(out, 0, sizeof(*out));
	out->total = m->npages;
	pthread_mutex_lock(&m->lock);
	for (pfn = 0; pfn < m->npages; pfn++) {
		const struct tg_page_meta *p = &m->pages[pfn];
		uint32_t owner = atomic_load_explicit(&p->owner,
						      memory_order_relaxed);

		if (p->pins)
			out->pinned++;
		if (owner == TG_OWNER_FREE)
			out->free++;
		else if (owner == TG_OWNER_RESERVED)
			out->reserved++;
		else if (owner == TG_OWNER_MEDIATOR)
			out->mediator++;
		else if (p->flags & TG_PAGE_BALLOONED)
			out->quarantined++;
		else
			out->guest++;
	}
	pthread_mutex_unlock(&m->lock);
	/* an out-of-process mediator's carve-out: count the pages in use */
	out->mediator -= tg_iso_idle_shadow_pages(m);
	out->mediator -= tg_port_idle_shm_pages(m);
}

const char *tg_host_strerror(int status)
{
	switch (status) {
	case TG_OK: return "ok";
	case TG_AGAIN: return "again";
	case TG_EINVAL: return "invalid argument";
	case TG_ENOMEM: return "out of memory";
	case TG_EFAULT: return "bad address";
	case TG_EEXIST: return "already exists";
	case TG_ENOENT: return "no such domain";
	case TG_ENOTSUP: return "not supported";
	case TG_EBUSY: return "busy";
	case TG_ENOTEE: return "no TEE";
	case TG_ELIMIT: return "limit reached";
	case TG_EPROTO: return "protocol error";
	default: return "unknown error";
	}
}
