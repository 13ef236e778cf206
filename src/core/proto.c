// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the core does for a protocol behind struct tg_proto: the SMC entry
 * (the domain look-up, then the protocol), and the recovery of a dead
 * process's state (the domain table, then the protocol).
 */
#include "internal.h"

static __attribute__((cold, noinline)) bool
no_domain(const struct tg_proto *p, uint64_t regs[8])
{
	if (!p->is_call((uint32_t)regs[0]))
		return false;
	p->no_domain(regs);
	return true;
}

/*
 * The entry for a protocol behind the ops: tg_handle_smc()'s fast path
 * missed (its domains are SLOT_LIVE_OPS), with a reference on @first, the
 * client id's first slot. The protocol drops the reference: a tail call.
 */
static __attribute__((cold, noinline)) bool
proto_miss(struct tg_mediator *med, struct tg_domain *first,
	   uint32_t client_id, uint64_t regs[8])
{
	struct tg_domain *d;

	atomic_fetch_sub(&first->active, 1);
	d = domain_get_slow(med, client_id);
	if (!d)
		return no_domain(med->proto, regs);
	return med->handle_put(d->pd, regs);
}

bool tg_proto_handle_miss(struct tg_mediator *med, struct tg_domain *first,
			  uint32_t client_id, uint64_t regs[8])
{
	if (likely(atomic_load(&first->state) == SLOT_LIVE_OPS &&
		   atomic_load(&first->client_id) == client_id))
		return med->handle_put(first->pd, regs);
	return proto_miss(med, first, client_id, regs);
}

/* ---- recovery of a dead process's state ---------------------------------- */

int tg_mediator_recover(struct tg_mediator *med, const struct tg_port *port,
			const struct tg_recover_ops *ops)
{
	uint32_t i, live = 0;

	if (!med || !port || !med->slots || !med->nslots ||
	    (med->nslots & (med->nslots - 1)) ||
	    (uint32_t)med->protocol >= TG_PROTOCOL_COUNT ||
	    med->protocol == TG_PROTOCOL_AUTO ||
	    !tg_protocols[med->protocol])
		return TG_EINVAL;
	med->port = *port;
	/* The dead process's pointers into its program mean nothing here. */
	tg_mediator_bind_proto(med);
	for (i = 0; i < med->nslots; i++) {
		struct tg_domain *d = &med->slots[i];
		uint32_t st = atomic_load(&d->state);

		atomic_store(&d->active, 0);
		atomic_store(&d->destroy_busy, 0);
		if (st == SLOT_CREATING) {
			/*
			 * Its creator died with the process and the
			 * hypervisor saw the creation fail (it tells the
			 * TEE the guest is gone). Free what was built; the
			 * free is detach-first, so this is safe at any
			 * point of a half-done init.
			 */
			d->med = med;
			med->proto->domain_free(d);
			atomic_store(&d->state, SLOT_TOMB);
			continue;
		}
		if (st == med->live || st == SLOT_DYING || st == SLOT_FREEING)
			live++;
	}
	med->live_domains = live;
	med->proto->recover(med, ops);
	tg_log(med, TG_LOG_WARN, 0, "mediator state recovered", live);
	return TG_OK;
}

int tg_domain_recover(struct tg_mediator *med, uint32_t client_id,
		      const struct tg_recover_info *info,
		      const struct tg_recover_ops *ops,
		      struct tg_recover_stats *out)
{
	struct tg_domain *d = NULL;
	int rc;

	if (!med || !client_id || client_id > TG_MAX_CLIENT_ID)
		return TG_EINVAL;
	for (uint32_t i = 0; i < med->nslots; i++) {
		struct tg_domain *s = &med->slots[i];
		uint32_t ss = atomic_load(&s->state);

		if (atomic_load(&s->client_id) == client_id &&
		    (ss == med->live || ss == SLOT_DYING ||
		     ss == SLOT_FREEING)) {
			d = s;
			break;
		}
	}
	if (!d)
		return TG_ENOENT;
	if (atomic_load(&d->state) == SLOT_FREEING) {
		if (out)
			memset(out, 0, sizeof(*out));
		return TG_OK; /* only its final free is left */
	}
	rc = med->proto->domain_recover(d, info, ops, out);
	if (!rc)
		tg_log(med, TG_LOG_WARN, client_id,
		       "domain recovered, calls failed",
		       out ? out->calls_failed : 0);
	return rc;
}
