// SPDX-License-Identifier: BSD-2-Clause
/*
 * The FF-A mediator behind the core's protocol interface (struct
 * tg_proto, src/core/proto.h): the core keeps the domain table and the
 * life cycle, src/ffa everything FF-A.
 */
#include "internal.h"

#include "ffa_med.h"

static struct tgf_med *fm_of(struct tg_mediator *med)
{
	return med->pm;
}

static int ffa_probe(struct tg_mediator *med)
{
	struct tgf_med *fm;
	int rc;

	rc = tgf_probe(&med->port, &med->cfg.limits, &fm, &med->tee);
	if (rc)
		return rc;
	med->pm = fm;
	return TG_OK;
}

static void ffa_fini(struct tg_mediator *med)
{
	tgf_fini(fm_of(med));
	med->pm = NULL;
}

static bool ffa_is_call(uint32_t fid)
{
	return FFA_IS_FFA_FID(fid);
}

/* A VM the mediator does not serve: no FF-A for it. */
static void ffa_no_domain(uint64_t regs[8])
{
	tgf_error(regs, FFA_RET_NOT_SUPPORTED);
}

static int ffa_domain_init(struct tg_domain *d, const struct tg_limits *l)
{
	struct tgf_dom *fd;
	int rc;

	rc = tgf_domain_init(fm_of(d->med), dom_id(d), l, &fd);
	if (rc)
		return rc;
	/* tgf_handle_put() drops the core's reference itself. */
	fd->ref = &d->active;
	d->pd = fd;
	return TG_OK;
}

static int ffa_destroy_step(struct tg_domain *d)
{
	return tgf_domain_destroy_step(fm_of(d->med), d->pd);
}

static void ffa_domain_free(struct tg_domain *d)
{
	tgf_domain_free(fm_of(d->med), d->pd);
	d->pd = NULL;
}

static void ffa_stats(struct tg_domain *d, struct tg_domain_stats *out)
{
	tgf_domain_stats(d->pd, out);
}

/* The SPMC has notifications for @vm_id: mark it, interrupt it. */
static void raise_irq(void *arg, uint32_t vm_id)
{
	struct tg_mediator *med = arg;
	struct tg_domain *d = domain_get(med, vm_id);

	if (!d)
		return;
	tgf_domain_notif_pending(d->pd);
	domain_put(d);
	med->port.raise_notif_irq(med->port.ctx, vm_id);
}

static void ffa_notif_irq(struct tg_mediator *med)
{
	tgf_notif_irq(fm_of(med), raise_irq, med);
}

static void ffa_recover(struct tg_mediator *med,
			const struct tg_recover_ops *ops)
{
	tgf_recover(fm_of(med), &med->port, ops);
}

static int ffa_domain_recover(struct tg_domain *d,
			      const struct tg_recover_info *ri,
			      const struct tg_recover_ops *ops,
			      struct tg_recover_stats *out)
{
	return tgf_domain_recover(d->pd, ri, ops, out);
}

const struct tg_proto tg_ffa_proto = {
	.probe = ffa_probe,
	.fini = ffa_fini,
	.is_call = ffa_is_call,
	.no_domain = ffa_no_domain,
	.domain_init = ffa_domain_init,
	.domain_destroy_step = ffa_destroy_step,
	.domain_free = ffa_domain_free,
	/* it drops the core's reference: a tail call from the core */
	.handle_put = tgf_handle_put,
	.stats = ffa_stats,
	.notif_irq = ffa_notif_irq,
	.recover = ffa_recover,
	.domain_recover = ffa_domain_recover,
};
