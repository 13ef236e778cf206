// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the hypervisor does with a trap: TEE calls go to the mediator (or,
 * in direct mode, straight to the backend with a7 = client id); a few
 * architectural calls get minimal answers; our own hypervisor calls (HVC
 * conduit, owner 6) serve the guest runtime; anything else is
 * SMCCC NOT_SUPPORTED.
 */
#define _GNU_SOURCE
#include <teegate/optee_abi.h>

#include "internal.h"

static bool is_tee_call(uint32_t fid)
{
	uint32_t owner = OPTEE_SMC_OWNER(fid);

	return owner >= OPTEE_SMC_OWNER_TRUSTED_OS &&
	       owner <= OPTEE_SMC_OWNER_TRUSTED_OS_END;
}

static void arch_call(uint64_t regs[8])
{
	switch ((uint32_t)regs[0]) {
	case TG_PSCI_VERSION:
		regs[0] = 0x10001; /* PSCI 1.1, like QEMU */
		break;
	case TG_SMCCC_VERSION:
		regs[0] = 0x10001; /* SMCCC 1.1 */
		break;
	default:
		regs[0] = TG_SMCCC_NOT_SUPPORTED;
		break;
	}
}

static void hyp_call(struct tg_guest *g, uint64_t regs[8])
{
	switch ((uint32_t)regs[0]) {
	case TG_HVC_BALLOON_OUT:
		regs[0] = tg_balloon(g, regs[1], regs[2]) == TG_OK
				  ? 0
				  : TG_SMCCC_NOT_SUPPORTED;
		break;
	case TG_HVC_GET_INFO:
		regs[0] = 0;
		regs[1] = g->client_id;
		regs[2] = g->nvcpus;
		regs[3] = g->npages;
		break;
	default:
		regs[0] = TG_SMCCC_NOT_SUPPORTED;
		break;
	}
}

/**
 * tg_hyp_dispatch() - handle one trap of @g's vCPU @vcpu.
 * @conduit: guest-written (TG_CONDUIT_*); anything else is treated as SMC.
 * @regs:    the hypervisor's private copy of the guest's registers.
 */
void tg_hyp_dispatch(struct tg_guest *g, uint32_t vcpu, uint32_t conduit,
		     uint64_t regs[8])
{
	struct tg_machine *m = g->m;
	uint32_t fid = (uint32_t)regs[0];

	if (conduit == TG_CONDUIT_HVC) {
		hyp_call(g, regs);
		return;
	}
	if (m->med) {
		if (tg_handle_smc(m->med, g->client_id, vcpu, regs))
			return;
	} else if (m->iso) {
		if (tg_iso_handle_smc(m, g->client_id, vcpu, regs))
			return;
	} else if (is_tee_call(fid)) {
		/* direct: a7 is all the hypervisor sets (raw: not even it) */
		if (!m->cfg.direct_raw_a7)
			regs[7] = g->client_id;
		if (m->backend_smc_as)
			m->backend_smc_as(m->backend_ctx, g->client_id, regs);
		else
			m->backend_smc(m->backend_ctx, regs);
		return;
	}
	arch_call(regs);
}
