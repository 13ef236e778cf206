// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the hypervisor does with a trap: TEE calls go to the mediator (or,
 * in direct mode, straight to the backend with a7 = client id); a few
 * architectural calls get minimal answers; our own hypervisor calls (HVC
 * conduit, owner 6) serve the guest runtime; anything else is
 * SMCCC NOT_SUPPORTED.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

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

static bool is_std_call(uint32_t fid)
{
	return fid == OPTEE_SMC_CALL_WITH_ARG ||
	       fid == OPTEE_SMC_CALL_WITH_RPC_ARG ||
	       fid == OPTEE_SMC_CALL_WITH_REGD_ARG;
}

/* Ask every other domain's mediator for a thread its guest sits on. */
static int reclaim_pass(struct tg_machine *m, const uint32_t *cids,
			uint32_t n, bool foreign_intr)
{
	int best = TG_EBUSY, r;
	uint32_t i;

	for (i = 0; i < n; i++) {
		r = m->med ? tg_domain_reclaim(m->med, cids[i], foreign_intr)
			   : tg_iso_domain_reclaim(m, cids[i], foreign_intr);
		if (r == TG_OK)
			return TG_OK;
		if (r == TG_AGAIN)
			best = TG_AGAIN;
	}
	return best;
}

/*
 * @g's std call was refused a TEE thread by the TEE (every thread is
 * held). Threads other guests sit on are taken back (the mediator's fair
 * share: src/optee/fair.c, docs/threat-model.md): a thread counts as sat
 * on once a refusal saw it suspended, with the same resume handle, sit_ms
 * earlier. Ask every other domain, cheap threads (an RPC the guest must
 * answer) first, then those in FOREIGN_INTR. A guest that holds no thread
 * (TG_WANT_FIRST) may never retry on its own (Linux waits for one of its
 * own calls to end), so for it wait sit_ms here (at most 100 ms), as on
 * a busy TEE, and ask again. Return: true when a thread was freed (retry the call now).
 */
static bool thread_wanted(struct tg_machine *m, struct tg_guest *g,
			  enum tg_thread_want want)
{
	uint32_t cids[TG_HOST_MAX_GUESTS], n = 0, i;
	uint32_t sit = m->cfg.mediator.sit_ms ? m->cfg.mediator.sit_ms : 20;
	int r;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] && m->guests[i] != g &&
		    m->guests[i]->has_domain &&
		    m->guests[i]->state == TG_GUEST_RUNNING)
			cids[n++] = m->guests[i]->client_id;
	pthread_mutex_unlock(&m->lock);
	r = reclaim_pass(m, cids, n, false);
	if (r == TG_AGAIN)
		r = reclaim_pass(m, cids, n, true);
	if (r != TG_AGAIN || want != TG_WANT_FIRST)
		return r == TG_OK;
	/* a bounded wait: a longer sit_ms is for guests that retry */
	usleep((sit < 100 ? sit + 1 : 100) * 1000u);
	return reclaim_pass(m, cids, n, false) == TG_OK ||
	       reclaim_pass(m, cids, n, true) == TG_OK;
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
	if (m->med || m->iso) {
		enum tg_thread_want want = TG_WANT_NOTHING;
		uint64_t call[8];
		bool handled;
		int tries;

		memcpy(call, regs, sizeof(call));
		for (tries = 0; tries < 2; tries++) {
			if (m->med) {
				tg_host_serving = g->client_id;
				handled = tg_handle_smc(m->med, g->client_id,
							vcpu, regs);
				tg_host_serving = 0;
				if (handled &&
				    (uint32_t)regs[0] ==
					    OPTEE_SMC_RETURN_ETHREAD_LIMIT)
					want = tg_domain_thread_want(
						m->med, g->client_id);
			} else {
				handled = tg_iso_handle_smc(m, g->client_id,
							    vcpu, regs, &want);
			}
			if (!handled)
				break;
			/* once: the thread freed may be taken meanwhile */
			if (tries || want == TG_WANT_NOTHING ||
			    !is_std_call(fid) || !thread_wanted(m, g, want))
				return;
			memcpy(regs, call, sizeof(call));
		}
		if (handled)
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
