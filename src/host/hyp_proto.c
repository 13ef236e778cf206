// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the hypervisor itself must know of the protocol its mediator
 * speaks, when the mediator runs in a process of its own (isolation.c):
 *
 *  - which guest calls are the TEE's, and what a guest is answered when
 *    the mediator is gone;
 *  - which SMCs a mediator process may have issued while it serves one
 *    call (the client id it serves, the hypervisor-only messages only
 *    while it creates or destroys that domain);
 *  - what a recovery needs and the dead process may not have written
 *    down: OP-TEE threads left suspended, the resume information guests
 *    hold, and (FF-A) the memory handles the TEE gave;
 *  - how to tell the TEE a guest is gone when no mediator can.
 *
 * OP-TEE's SMC ABI: the client id is a7. FF-A: identities are in the
 * messages (the sender in w1, the VM in a framework message's w5, the
 * receiver of a notification bitmap), OP-TEE's protocol over direct
 * requests (optee_ffa.h) carries the thread in w7.
 */
#define _GNU_SOURCE
#include <string.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>

#include "channel.h"
#include "internal.h"

static void smc(struct tg_machine *m, uint64_t r[8]);

static void set(uint64_t r[8], uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3, uint64_t a4, uint64_t a5)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
	r[4] = a4;
	r[5] = a5;
}

/* ---- guest calls ---------------------------------------------------------- */

bool tg_hyp_is_tee_call(enum tg_protocol p, uint32_t fid)
{
	uint32_t owner = OPTEE_SMC_OWNER(fid);

	if (p == TG_PROTOCOL_FFA)
		return FFA_IS_FFA_FID(fid);
	return owner >= OPTEE_SMC_OWNER_TRUSTED_OS &&
	       owner <= OPTEE_SMC_OWNER_TRUSTED_OS_END;
}

void tg_hyp_tee_gone(enum tg_protocol p, uint64_t regs[8])
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	if (p == TG_PROTOCOL_FFA) {
		/* the guest's driver fails the call (COMMUNICATION) */
		regs[0] = FFA_ERROR;
		regs[2] = (uint32_t)FFA_RET_ABORTED;
		return;
	}
	regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
}

/*
 * What the mediator reads first when it serves @regs, so that the
 * hypervisor can send it with the call instead of answering a copy
 * request for it (one round trip fewer per call). OP-TEE's
 * CALL_WITH_ARG and CALL_WITH_RPC_ARG: the message at the page-aligned
 * IPA in a1:a2, its header and first parameters (optee/call.c reads
 * ARG_PREFETCH_PARAMS of them in one copy). Not CALL_WITH_REGD_ARG: its
 * message is in a buffer only the mediator knows. Return: the bytes at
 * *@ipa, 0 for none.
 */
uint32_t tg_hyp_prefetch(enum tg_protocol p, const uint64_t regs[8],
			 uint64_t *ipa)
{
	uint32_t fid = (uint32_t)regs[0];

	if (p != TG_PROTOCOL_OPTEE || (fid != OPTEE_SMC_CALL_WITH_ARG &&
				       fid != OPTEE_SMC_CALL_WITH_RPC_ARG))
		return 0;
	*ipa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	if (*ipa & TG_PAGE_MASK)
		return 0;
	return TG_CHAN_PREFETCH;
}

/* ---- the SMCs a mediator process may issue ---------------------------------- */

static bool optee_allowed(enum tg_hyp_op op, uint32_t cid, const uint64_t r[8])
{
	uint32_t fid = (uint32_t)r[0];
	bool vm_call = fid == OPTEE_SMC_VM_CREATED ||
		       fid == OPTEE_SMC_VM_DESTROYED;

	if (r[7] == 0) {
		if (op == TG_HYP_PROBE)
			return !vm_call && (fid & OPTEE_SMC_FAST_CALL);
		if (op == TG_HYP_DOMAIN_CREATE)
			return fid == OPTEE_SMC_VM_CREATED && r[1] == cid;
		if (op == TG_HYP_DOMAIN_DESTROY || op == TG_HYP_DOMAIN_RECOVER)
			return fid == OPTEE_SMC_VM_DESTROYED && r[1] == cid;
		return false;
	}
	return cid && r[7] == cid && !vm_call;
}

static bool is_direct_req(uint32_t fid)
{
	return fid == FFA_MSG_SEND_DIRECT_REQ_32 ||
	       fid == FFA_MSG_SEND_DIRECT_REQ_64 ||
	       fid == FFA_MSG_SEND_DIRECT_REQ2;
}

static bool is_framework(const uint64_t r[8])
{
	return (uint32_t)r[0] != FFA_MSG_SEND_DIRECT_REQ2 &&
	       ((uint32_t)r[2] & FFA_MSG_FLAG_FRAMEWORK);
}

static bool ffa_allowed(enum tg_hyp_op op, uint32_t cid, const uint64_t r[8])
{
	uint32_t fid = (uint32_t)r[0];
	uint16_t vm = (uint16_t)cid;
	bool domain_op = op == TG_HYP_DOMAIN_CREATE ||
			 op == TG_HYP_DOMAIN_DESTROY ||
			 op == TG_HYP_DOMAIN_RECOVER;
	bool as_guest = cid && (op == TG_HYP_GUEST_CALL ||
				op == TG_HYP_DOMAIN_DESTROY ||
				op == TG_HYP_DOMAIN_RECOVER);

	switch (fid) {
	case FFA_VERSION:
	case FFA_FEATURES:
	case FFA_ID_GET:
	case FFA_SPM_ID_GET:
		return true; /* questions about the SPMC */
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
	case FFA_RXTX_UNMAP:
	case FFA_PARTITION_INFO_GET:
		return op == TG_HYP_PROBE;
	case FFA_RX_RELEASE:
		return op == TG_HYP_PROBE;
	case FFA_NOTIFICATION_BITMAP_CREATE:
		return op == TG_HYP_DOMAIN_CREATE && FFA_RECEIVER(r[1]) == vm &&
		       !FFA_SENDER(r[1]);
	case FFA_NOTIFICATION_BITMAP_DESTROY:
		return domain_op && cid && FFA_RECEIVER(r[1]) == vm &&
		       !FFA_SENDER(r[1]);
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
	case FFA_NOTIFICATION_GET:
		return as_guest && FFA_RECEIVER(r[1]) == vm;
	case FFA_NOTIFICATION_SET:
		return as_guest && FFA_SENDER(r[1]) == vm;
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		return op == TG_HYP_NOTIF;
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
	case FFA_MEM_RECLAIM:
		/*
		 * The sender is in the descriptor, in the mediator's TX:
		 * not checked here (docs/isolation.md, what a hostile
		 * mediator can still do). The probe shares its own page.
		 */
		return as_guest || op == TG_HYP_PROBE;
	case FFA_MEM_FRAG_TX:
		return (as_guest && FFA_SENDER(r[4]) == vm) ||
		       op == TG_HYP_PROBE;
	case FFA_MSG_SEND2:
		return as_guest && FFA_SENDER(r[1]) == vm;
	case FFA_RUN:
		return as_guest;
	default:
		break;
	}
	if (!is_direct_req(fid))
		return false;
	if (is_framework(r))
		/* VM availability: the hypervisor's, for the domain asked */
		return domain_op && cid && r[5] == cid;
	return as_guest && FFA_SENDER(r[1]) == vm;
}

bool tg_hyp_smc_allowed(enum tg_protocol p, enum tg_hyp_op op, uint32_t cid,
			const uint64_t r[8])
{
	if (p == TG_PROTOCOL_FFA)
		return ffa_allowed(op, cid, r);
	if (p == TG_PROTOCOL_OPTEE)
		return optee_allowed(op, cid, r);
	/* probing: either protocol's questions */
	return op == TG_HYP_PROBE &&
	       (optee_allowed(op, cid, r) || ffa_allowed(op, cid, r));
}

void tg_hyp_smc_refused(enum tg_protocol p, uint64_t r[8])
{
	memset(r, 0, 8 * sizeof(r[0]));
	if (p == TG_PROTOCOL_FFA) {
		r[0] = FFA_ERROR;
		r[2] = (uint32_t)FFA_RET_DENIED;
		return;
	}
	r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
}

/* ---- what a recovery needs ----------------------------------------------- */

static bool ffa_optee_suspended(const uint64_t out[8])
{
	return ((uint32_t)out[0] == FFA_MSG_SEND_DIRECT_RESP_32 ||
		(uint32_t)out[0] == FFA_MSG_SEND_DIRECT_RESP_64) &&
	       !(uint32_t)out[3] &&
	       ((uint32_t)out[4] == OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD ||
		(uint32_t)out[4] == OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
}

static bool ffa_optee_resume(const uint64_t in[8])
{
	return ((uint32_t)in[0] == FFA_MSG_SEND_DIRECT_REQ_32 ||
		(uint32_t)in[0] == FFA_MSG_SEND_DIRECT_REQ_64) &&
	       (uint32_t)in[3] == OPTEE_FFA_YIELDING_CALL_RESUME;
}

/*
 * One SMC the hypervisor issued for a mediator process, @in before and
 * @out after, for client @cid: what it tells about TEE threads and
 * memory handles.
 */
void tg_hyp_smc_seen(enum tg_protocol p, uint32_t cid, const uint64_t in[8],
		     const uint64_t out[8], struct tg_hyp_smc_event *ev)
{
	uint32_t fid = (uint32_t)in[0];

	memset(ev, 0, sizeof(*ev));
	if (p != TG_PROTOCOL_FFA) {
		if (!in[7])
			return;
		if (fid == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
			ev->resumed = true;
			ev->resumed_thread = (uint32_t)in[3];
		}
		if (OPTEE_SMC_RETURN_IS_RPC(out[0])) {
			ev->suspended = true;
			ev->thread = (uint32_t)out[3];
			ev->a0 = (uint32_t)out[0];
			ev->a1 = (uint32_t)out[1];
			ev->a2 = (uint32_t)out[2];
		}
		return;
	}
	if (!cid)
		return;
	if (ffa_optee_resume(in) && FFA_SENDER(in[1]) == cid) {
		ev->resumed = true;
		ev->resumed_thread = (uint32_t)in[7];
	}
	if (is_direct_req(fid) && FFA_SENDER(in[1]) == cid &&
	    ffa_optee_suspended(out)) {
		ev->suspended = true;
		ev->thread = (uint32_t)out[7];
	}
	switch (fid) {
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
	case FFA_MEM_FRAG_TX:
		if ((uint32_t)out[0] == FFA_SUCCESS_32 ||
		    (uint32_t)out[0] == FFA_SUCCESS_64) {
			ev->mem_given = true;
			ev->mem = FFA_HANDLE_PACK(out[2], out[3]);
		} else if ((uint32_t)out[0] == FFA_MEM_FRAG_RX) {
			ev->mem_given = true;
			ev->mem = FFA_HANDLE_PACK(out[1], out[2]);
		}
		break;
	case FFA_MEM_RECLAIM:
		if ((uint32_t)out[0] == FFA_SUCCESS_32) {
			ev->mem_back = true;
			ev->mem = FFA_HANDLE_PACK(in[1], in[2]);
		}
		break;
	default:
		break;
	}
}

/* The guest gives back resume information @*h with this call. */
bool tg_hyp_guest_resumes(enum tg_protocol p, const uint64_t regs[8],
			  uint32_t *h)
{
	if (p == TG_PROTOCOL_FFA) {
		if (!ffa_optee_resume(regs))
			return false;
		*h = (uint32_t)regs[7];
		return true;
	}
	if ((uint32_t)regs[0] != OPTEE_SMC_CALL_RETURN_FROM_RPC)
		return false;
	*h = (uint32_t)regs[3];
	return true;
}

/* The guest is given resume information @*h with this answer. */
bool tg_hyp_guest_suspended(enum tg_protocol p, const uint64_t regs[8],
			    uint32_t *h)
{
	if (p == TG_PROTOCOL_FFA) {
		if (!ffa_optee_suspended(regs))
			return false;
		*h = (uint32_t)regs[7];
		return true;
	}
	if (!OPTEE_SMC_RETURN_IS_RPC(regs[0]))
		return false;
	*h = (uint32_t)regs[3];
	return true;
}

/*
 * tg_hyp_answer_of_smc() - the guest's call @regs was a destructive read
 * of its pending notifications and the mediator's only SMC for it, @in,
 * was that read, answered @out: put in @regs what the mediator would have
 * answered. False for anything else.
 */
bool tg_hyp_answer_of_smc(enum tg_protocol p, uint32_t cid, uint64_t regs[8],
			  const uint64_t in[8], const uint64_t out[8])
{
	if (p == TG_PROTOCOL_FFA) {
		/* src/ffa: only the partitions' bitmap goes to the guest */
		if ((uint32_t)regs[0] != FFA_NOTIFICATION_GET ||
		    (uint32_t)in[0] != FFA_NOTIFICATION_GET ||
		    FFA_RECEIVER(in[1]) != cid ||
		    (uint32_t)out[0] != FFA_SUCCESS_32)
			return false;
		set(regs, FFA_SUCCESS_32, 0, (uint32_t)out[2],
		    (uint32_t)out[3], 0, 0);
		return true;
	}
	if ((uint32_t)regs[0] != OPTEE_SMC_GET_ASYNC_NOTIF_VALUE ||
	    (uint32_t)in[0] != OPTEE_SMC_GET_ASYNC_NOTIF_VALUE ||
	    in[7] != cid)
		return false;
	memset(regs, 0, 8 * sizeof(regs[0]));
	memcpy(regs, out, 4 * sizeof(out[0]));
	return true;
}

/* ---- telling the TEE a guest is gone ---------------------------------------- */

static void smc(struct tg_machine *m, uint64_t r[8])
{
	m->port.smc(m->port.ctx, r);
}

/* The SPMC has @h no more (given back now, or before). */
static bool reclaim(struct tg_machine *m, uint64_t h)
{
	uint64_t r[8];

	set(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0, 0, 0);
	smc(m, r);
	return (uint32_t)r[0] == FFA_SUCCESS_32 ||
	       ((uint32_t)r[0] == FFA_ERROR &&
		(int32_t)r[2] == FFA_RET_INVALID_PARAMETERS);
}

/*
 * tg_hyp_vm_gone() - no mediator can tear @cid down: tell the TEE the
 * guest is gone. FF-A: the memory it shared (@handles, those the
 * hypervisor saw given and not given back) is first taken back from OP-TEE
 * and the SPMC, as the guest; then VM_DESTROYED to the partitions that
 * subscribe, and the notification bitmap. Return: false when a share
 * could not be taken back: the guest's pins must then stay.
 */
bool tg_hyp_vm_gone(struct tg_machine *m, enum tg_protocol p,
		    const struct tg_tee_info *t, uint32_t cid,
		    const uint64_t *handles, uint32_t nhandles)
{
	bool back[TG_RECOVER_MAX_MEM] = { false };
	uint64_t r[8];
	bool all = true;
	uint32_t i;

	if (p != TG_PROTOCOL_FFA) {
		set(r, OPTEE_SMC_VM_DESTROYED, cid, 0, 0, 0, 0);
		smc(m, r);
		return true;
	}
	if (nhandles > TG_RECOVER_MAX_MEM)
		nhandles = TG_RECOVER_MAX_MEM;
	for (i = 0; i < nhandles; i++) {
		if (t && t->ffa_optee_id) {
			set(r, FFA_MSG_SEND_DIRECT_REQ_32,
			    FFA_PACK_IDS(cid, t->ffa_optee_id), 0,
			    OPTEE_FFA_UNREGISTER_SHM,
			    FFA_HANDLE_LO(handles[i]),
			    FFA_HANDLE_HI(handles[i]));
			smc(m, r);
		}
		back[i] = reclaim(m, handles[i]);
	}
	for (uint32_t k = 0; t && k < 8 && t->ffa_vm_subscribers[k]; k++) {
		set(r, FFA_MSG_SEND_DIRECT_REQ_32,
		    FFA_PACK_IDS(t->ffa_hyp_id, t->ffa_vm_subscribers[k]),
		    FFA_MSG_FLAG_FRAMEWORK | FFA_MSG_SEND_VM_DESTROYED, 0, 0,
		    cid);
		smc(m, r);
	}
	/* After VM_DESTROYED OP-TEE lets go of what it held: once more. */
	for (i = 0; i < nhandles; i++) {
		if (!back[i])
			back[i] = reclaim(m, handles[i]);
		all &= back[i];
	}
	set(r, FFA_NOTIFICATION_GET, FFA_PACK_IDS(0, cid),
	    FFA_NOTIF_GET_FLAG_SP, 0, 0, 0);
	smc(m, r);
	for (uint32_t k = 0; t && k < 8 && t->ffa_vm_subscribers[k]; k++) {
		set(r, FFA_NOTIFICATION_UNBIND,
		    FFA_PACK_IDS(t->ffa_vm_subscribers[k], cid), 0,
		    0xFFFFFFFFu, 0xFFFFFFFFu, 0);
		smc(m, r);
	}
	set(r, FFA_NOTIFICATION_BITMAP_DESTROY, cid, 0, 0, 0, 0);
	smc(m, r);
	return all;
}
