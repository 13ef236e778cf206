// SPDX-License-Identifier: BSD-2-Clause
/*
 * The OP-TEE mediator behind the core's protocol interface (struct
 * tg_proto, src/core/proto.h). It is the core's built-in protocol: its
 * domains are SLOT_LIVE, its state inline in the core's structures, and
 * its entry is tg_handle_smc()'s fast path (smc.c).
 */
#include "optee.h"

static int op_probe(struct tg_mediator *med)
{
	int rc = optee_probe(med);

	if (rc)
		return rc;
	shadow_pool_init(med);
	tg_limits_defaults(&med->cfg.limits, med->tee.thread_count);
	med->calls_count = optee_calls_count();
	return TG_OK;
}

static void op_fini(struct tg_mediator *med)
{
	shadow_pool_free(med);
}

/* The limits, the domain's state, then VM_CREATED (the hypervisor's). */
static int op_domain_init(struct tg_domain *d, const struct tg_limits *l)
{
	struct tg_mediator *med = d->med;
	uint64_t regs[8] = { 0 };
	int rc;

	(void)l; /* d->limits holds them already */
	tg_limits_defaults(&d->limits, med->tee.thread_count);
	if (d->limits.max_calls > TG_MAX_CALLS_PER_DOMAIN)
		d->limits.max_calls = TG_MAX_CALLS_PER_DOMAIN;
	if (d->limits.max_pages_per_buf > d->limits.max_pinned_pages)
		d->limits.max_pages_per_buf = d->limits.max_pinned_pages;
	rc = optee_domain_init(d);
	if (rc || !med->tee.virtualization)
		return rc;
	regs[0] = OPTEE_SMC_VM_CREATED;
	regs[1] = dom_id(d);
	regs[7] = 0; /* only the hypervisor may announce a guest */
	med->port.smc(med->port.ctx, regs);
	if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK) {
		tg_log(med, TG_LOG_ERROR, dom_id(d), "TEE refused VM_CREATED",
		       regs[0]);
		optee_domain_free(d);
		return TG_EPROTO;
	}
	return TG_OK;
}

/* The OP-TEE teardown's last SMC. */
void tg_domain_vm_destroyed(struct tg_domain *d)
{
	uint64_t regs[8] = { OPTEE_SMC_VM_DESTROYED, dom_id(d) };

	if (d->med->tee.virtualization)
		d->med->port.smc(d->med->port.ctx, regs);
}

static void op_stats(struct tg_domain *d, struct tg_domain_stats *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < TG_KIND_COUNT; i++)
		out->calls[i] = atomic_load_explicit(&d->ctr.calls[i],
						     memory_order_relaxed);
	for (i = 0; i < TG_REFUSE_COUNT; i++)
		out->refused[i] = atomic_load_explicit(&d->ctr.refused[i],
						       memory_order_relaxed);
	out->pinned_pages = atomic_load(&d->pinned_pages);
	out->shadow_pages = atomic_load(&d->shadow_pages);
	out->calls_in_flight = atomic_load(&d->calls_busy);
	/*
	 * Counted here rather than on every call: the suspended calls, and
	 * the shadow page each call in flight holds (from the mediator's
	 * pool, so not in d->shadow_pages).
	 */
	for (i = 0; i < d->limits.max_calls; i++) {
		uint32_t st = atomic_load(&d->calls[i].state);

		out->calls_suspended += st == CALL_SUSPENDED;
		out->shadow_pages += st != CALL_FREE && d->calls[i].shadow;
	}
	dom_lock(d);
	out->shm_bufs = d->shm_count;
	out->rpc_bufs = d->rpc_count;
	out->sessions = d->session_count;
	dom_unlock(d);
}

/*
 * The TEE's notification interrupt: raise the guest interrupt of every
 * domain that enabled async notifications; each then asks the TEE for
 * its own values.
 */
static void op_notif_irq(struct tg_mediator *med)
{
	uint32_t i;

	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *d = &med->slots[i];
		uint32_t id = atomic_load(&d->client_id);

		/* A tombstone may still hold the id of a live domain. */
		if (!id || atomic_load(&d->state) != SLOT_LIVE)
			continue;
		d = domain_get(med, id);
		if (!d)
			continue;
		if (d->async_notif)
			med->port.raise_notif_irq(med->port.ctx, id);
		domain_put(d);
	}
}

const struct tg_proto tg_optee_proto = {
	.fast = true,
	.probe = op_probe,
	.fini = op_fini,
	.domain_init = op_domain_init,
	.domain_destroy_step = optee_domain_destroy_step,
	.domain_free = optee_domain_free,
	.idle = shadow_pool_drain,
	.stats = op_stats,
	.notif_irq = op_notif_irq,
	.recover = optee_recover,
	.domain_recover = optee_domain_recover,
};
