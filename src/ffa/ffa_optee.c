// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the FF-A mediator knows of OP-TEE's protocol in direct requests
 * (optee_ffa.h), for OP-TEE's partition only (found by its UUID):
 *
 * - a yielding call that OP-TEE answers with RPC_CMD or INTERRUPT leaves
 *   one of its threads suspended, named by the resume info in w7. The
 *   mediator keeps, per guest, the threads it holds: a guest may resume
 *   only one of those (OP-TEE's thread ids are global, so a guessed one
 *   would otherwise be another guest's call);
 * - at teardown those threads are resumed, as the guest, until OP-TEE
 *   ends them (an RPC left unanswered fails: OP-TEE preset its result to
 *   TEE_ERROR_GENERIC), and every share is given back with
 *   OPTEE_FFA_UNREGISTER_SHM before FFA_MEM_RECLAIM.
 *
 * Everything else in the messages is OP-TEE's business: handles inside
 * them are looked up by OP-TEE in the sender's own partition.
 */
#include <teegate/optee_abi.h>

#include "ffa_med.h"

static bool is_resp(uint64_t fid)
{
	return fid == FFA_MSG_SEND_DIRECT_RESP_32 ||
	       fid == FFA_MSG_SEND_DIRECT_RESP_64;
}

static bool take_thread(struct tgf_dom *d, uint32_t thread)
{
	for (uint32_t i = 0; i < d->nsuspended; i++) {
		if (d->suspended[i] == thread) {
			d->suspended[i] = d->suspended[--d->nsuspended];
			return true;
		}
	}
	return false;
}

static void put_thread(struct tgf_dom *d, uint32_t thread)
{
	if (d->nsuspended < TGF_MAX_THREADS)
		d->suspended[d->nsuspended++] = thread;
}

/**
 * tgf_optee_before() - a guest's RESUME request to OP-TEE (w3; the caller
 * tests it, on the hot path), before it goes. It must name a thread this
 * guest holds; it is then running (a second RESUME of it is refused).
 * Return: true to forward; false when @regs holds the answer already.
 */
bool tgf_optee_before(struct tgf_dom *d, uint64_t regs[8])
{
	bool ok;

	tgf_lock(d);
	ok = take_thread(d, (uint32_t)regs[7]);
	tgf_unlock(d);
	if (ok)
		return true;
	tgf_refuse(d, TG_REFUSE_BAD_THREAD);
	/* What OP-TEE answers a bad resume: BAD_PARAMETERS in w3. */
	ffa_set_regs(regs,
		     regs[0] == FFA_MSG_SEND_DIRECT_REQ_64
			     ? FFA_MSG_SEND_DIRECT_RESP_64
			     : FFA_MSG_SEND_DIRECT_RESP_32,
		     FFA_PACK_IDS(d->fm->optee_id, d->id), 0,
		     TEEC_ERROR_BAD_PARAMETERS, 0, 0);
	return false;
}

/*
 * tgf_optee_after() - OP-TEE's answer to a yielding call (@w3 has
 * OPTEE_FFA_YIELDING_CALL_BIT; the caller tests it, on the hot path):
 * note a thread left suspended.
 */
void tgf_optee_after(struct tgf_dom *d, uint32_t w3, uint32_t req_w7,
		     const uint64_t resp[8])
{
	bool suspended;

	suspended = is_resp(resp[0]) && !(uint32_t)resp[3] &&
		    ((uint32_t)resp[4] ==
			     OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD ||
		     (uint32_t)resp[4] ==
			     OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
	tgf_lock(d);
	if (suspended)
		put_thread(d, (uint32_t)resp[7]);
	else if (w3 == OPTEE_FFA_YIELDING_CALL_RESUME && !is_resp(resp[0]))
		/* The request did not get there: still suspended. */
		put_thread(d, req_w7);
	tgf_unlock(d);
	if (suspended)
		tgf_count(d, TG_KIND_RPC_TO_GUEST);
}

/*
 * tgf_optee_end_thread() - teardown: one RESUME of a thread the dead guest
 * held. Return TG_AGAIN while threads remain, TG_OK when none.
 */
int tgf_optee_end_thread(struct tgf_dom *d)
{
	uint64_t req[8], r[8];

	if (!d->nsuspended)
		return TG_OK;
	ffa_set_regs(req, FFA_MSG_SEND_DIRECT_REQ_32,
		     FFA_PACK_IDS(d->id, d->fm->optee_id), 0,
		     OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0);
	req[7] = d->suspended[--d->nsuspended];
	memcpy(r, req, sizeof(r));
	tgf_smc(d->fm, r);
	/* A request that did not get through is not retried for ever. */
	if (is_resp(r[0]))
		tgf_optee_after(d, (uint32_t)req[3], (uint32_t)req[7], r);
	return TG_AGAIN;
}

/* tgf_optee_unregister() - OPTEE_FFA_UNREGISTER_SHM, as the guest. */
void tgf_optee_unregister(struct tgf_dom *d, uint64_t handle)
{
	uint64_t r[8];

	ffa_set_regs(r, FFA_MSG_SEND_DIRECT_REQ_32,
		     FFA_PACK_IDS(d->id, d->fm->optee_id), 0,
		     OPTEE_FFA_UNREGISTER_SHM, FFA_HANDLE_LO(handle),
		     FFA_HANDLE_HI(handle));
	tgf_smc(d->fm, r);
}
