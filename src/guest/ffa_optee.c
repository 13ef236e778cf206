// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE over FF-A: what Linux's drivers/tee/optee/ffa_abi.c does.
 *
 * - probe: the FF-A layer (ffa.c), then OPTEE_FFA_GET_API_VERSION (1.x),
 *   GET_OS_VERSION, EXCHANGE_CAPABILITIES (RPC parameter count, caps,
 *   the largest notification value); async notifications: bind a free
 *   notification id to OP-TEE and give it with ENABLE_ASYNC_NOTIF;
 * - memory: a buffer is registered by FFA_MEM_SHARE, its global handle
 *   is the cookie; unregistering is OPTEE_FFA_UNREGISTER_SHM then
 *   FFA_MEM_RECLAIM. A memref goes out as FMEM (global id, internal
 *   offset, offset, size);
 * - yielding calls: OPTEE_FFA_YIELDING_CALL_WITH_ARG (handle, offset of
 *   the argument, the RPC argument after it), then RESUME after each RPC
 *   (w4 = RPC_CMD) or interrupt (w4 = INTERRUPT) with the resume info
 *   (w7) echoed; TEE_ERROR_BUSY in w3 means no free thread.
 *
 * The answer is turned into OP-TEE SMC terms (a0 codes) so that call.c,
 * the session messages and the RPC handlers are the same for both ABIs.
 */
#include <stdlib.h>
#include <string.h>

#include "optee_private.h"

/* Linux's OPTEE_DEFAULT_MAX_NOTIF_VALUE, when OP-TEE leaves w6 at 0. */
#define FFA_DEFAULT_MAX_NOTIF_VALUE 255u

/*
 * One of OP-TEE's blocking (fast) services. They are idempotent: one
 * whose answer was lost on the way (ABORTED: the mediator died under it)
 * is asked again, which waits for the mediator to serve.
 */
static int blocking(struct tg_optee *drv, uint32_t service, uint64_t w4,
		    uint64_t w5, uint64_t data[5])
{
	int32_t err = FFA_RET_OK;
	int rc;

	for (int tries = 0; tries < 4; tries++) {
		data[0] = service;
		data[1] = w4;
		data[2] = w5;
		data[3] = 0;
		data[4] = 0;
		rc = tgg_ffa_direct(drv, data, &err);
		if (!rc || err != FFA_RET_ABORTED)
			break;
	}
	return rc;
}

static int async_notif_setup(struct tg_optee *drv)
{
	uint64_t data[5];
	uint32_t id;

	for (id = 0; id < OPTEE_FFA_MAX_ASYNC_NOTIF_VALUE; id++) {
		int rc = tgg_ffa_notif_bind(drv, id, true);

		if (rc == TG_OK)
			break;
		if (rc != TG_EBUSY) /* taken: try the next one */
			return rc;
	}
	if (id == OPTEE_FFA_MAX_ASYNC_NOTIF_VALUE)
		return TG_EBUSY;
	drv->ffa->notif_bound = true;
	drv->ffa->notif_id = id;
	if (blocking(drv, OPTEE_FFA_ENABLE_ASYNC_NOTIF, id, 0, data) ||
	    data[0] != TEEC_SUCCESS || tgg_notif_start(drv) != TG_OK) {
		tgg_ffa_notif_bind(drv, id, false);
		drv->ffa->notif_bound = false;
		return TG_EPROTO;
	}
	drv->info.ffa_notif_id = id;
	return TG_OK;
}

/**
 * tgg_ffa_optee_probe() - find OP-TEE over FF-A (see the file comment).
 * Return: TG_OK, TG_ENOTEE (no FF-A or no OP-TEE partition), TG_ENOTSUP
 * (an OP-TEE this driver cannot use), TG_ENOMEM.
 */
int tgg_ffa_optee_probe(struct tg_optee *drv)
{
	uint64_t data[5];
	int rc = tgg_ffa_init(drv);

	if (rc)
		return rc;
	/* Major 1, any minor (Linux: minor >= OPTEE_FFA_VERSION_MINOR, 0). */
	if (blocking(drv, OPTEE_FFA_GET_API_VERSION, 0, 0, data) ||
	    data[0] != OPTEE_FFA_VERSION_MAJOR) {
		rc = TG_ENOTEE;
		goto fail;
	}
	if (blocking(drv, OPTEE_FFA_GET_OS_VERSION, 0, 0, data)) {
		rc = TG_ENOTEE;
		goto fail;
	}
	drv->info.rev_major = (uint32_t)data[0];
	drv->info.rev_minor = (uint32_t)data[1];
	if (blocking(drv, OPTEE_FFA_EXCHANGE_CAPABILITIES, 0, 0, data) ||
	    data[0]) {
		rc = TG_ENOTSUP;
		goto fail;
	}
	drv->info.rpc_param_count = (uint32_t)data[1] & 0xFFu;
	drv->info.sec_caps = (uint32_t)data[2];
	drv->info.max_notif_value =
		data[3] ? (uint32_t)data[3] : FFA_DEFAULT_MAX_NOTIF_VALUE;
	/* The RPC argument always follows the call's: it must be usable. */
	if (drv->info.rpc_param_count < 2 ||
	    drv->info.rpc_param_count > OPTEE_MSG_RPC_NUM_PARAMS * 8) {
		rc = TG_ENOTSUP;
		goto fail;
	}
	/* Arguments share registered pages when OP-TEE takes an offset. */
	drv->info.call_form = drv->info.sec_caps & OPTEE_FFA_SEC_CAP_ARG_OFFSET
				      ? TG_OPTEE_FORM_REGD_ARG
				      : TG_OPTEE_FORM_ARG;
	if ((drv->info.sec_caps & OPTEE_FFA_SEC_CAP_ASYNC_NOTIF) &&
	    !drv->cfg.no_async_notif && async_notif_setup(drv) == TG_OK)
		drv->info.async_notif = true;
	return TG_OK;
fail:
	tgg_ffa_fini(drv);
	return rc;
}

void tgg_ffa_optee_remove(struct tg_optee *drv)
{
	if (!drv->ffa)
		return;
	if (drv->ffa->notif_bound)
		tgg_ffa_notif_bind(drv, drv->ffa->notif_id, false);
	tgg_ffa_fini(drv);
}

/* ---- Shared memory ----------------------------------------------------- */

/**
 * tgg_ffa_shm_register() - share @shm's pages with OP-TEE; the handle
 * becomes its cookie. *@tee_ret: TEEC_SUCCESS, OUT_OF_MEMORY or
 * COMMUNICATION (refused).
 */
int tgg_ffa_shm_register(struct tg_optee *drv, struct tg_optee_shm *shm,
			 uint32_t *tee_ret)
{
	uint64_t handle = 0;
	int rc = tgg_ffa_share(drv, shm->ipa, shm->size, &handle);

	if (tee_ret)
		*tee_ret = rc == TG_OK	     ? TEEC_SUCCESS
			   : rc == TG_ENOMEM ? TEEC_ERROR_OUT_OF_MEMORY
					     : TEEC_ERROR_COMMUNICATION;
	if (rc)
		return rc == TG_ENOMEM ? TG_ENOMEM : TG_EPROTO;
	/* 0 is "not registered" for the driver: a handle never is. */
	if (!handle) {
		tgg_ffa_reclaim(drv, handle);
		return TG_EPROTO;
	}
	tgg_shm_link_as(drv, shm, handle);
	return TG_OK;
}

static int unregister_handle(struct tg_optee *drv, uint64_t handle)
{
	uint64_t data[5];

	if (blocking(drv, OPTEE_FFA_UNREGISTER_SHM, FFA_HANDLE_LO(handle),
		     FFA_HANDLE_HI(handle), data) == TG_OK &&
	    (uint32_t)data[0] == (uint32_t)FFA_RET_BUSY)
		return TG_EBUSY;
	return tgg_ffa_reclaim(drv, handle);
}

/**
 * tgg_ffa_shm_unregister() - OP-TEE forgets the handle, then the share is
 * reclaimed. TG_EBUSY while OP-TEE still uses it (the shm stays).
 */
int tgg_ffa_shm_unregister(struct tg_optee *drv, struct tg_optee_shm *shm)
{
	return unregister_handle(drv, shm->cookie);
}

/* A memref not registered: shared for the length of one call. */
int tgg_ffa_temp_share(struct tg_optee *drv, uint64_t ipa, uint64_t size,
		       uint64_t *handle)
{
	return tgg_ffa_share(drv, ipa, size, handle);
}

void tgg_ffa_temp_unshare(struct tg_optee *drv, uint64_t handle)
{
	(void)unregister_handle(drv, handle);
}

int tgg_ffa_temp_unshare_rc(struct tg_optee *drv, uint64_t handle)
{
	return unregister_handle(drv, handle);
}

/* ---- Yielding calls ---------------------------------------------------- */

/* w3 of a yielding call's answer, in OP-TEE SMC terms. */
static uint32_t smc_code_of(uint32_t w3, bool resuming)
{
	switch (w3) {
	case TEEC_SUCCESS:
		return OPTEE_SMC_RETURN_OK;
	case TEEC_ERROR_BUSY:
		return resuming ? OPTEE_SMC_RETURN_ERESUME
				: OPTEE_SMC_RETURN_ETHREAD_LIMIT;
	case TEEC_ERROR_BAD_PARAMETERS:
		return resuming ? OPTEE_SMC_RETURN_ERESUME
				: OPTEE_SMC_RETURN_EBADADDR;
	case TEEC_ERROR_NOT_IMPLEMENTED:
		return OPTEE_SMC_RETURN_EBADCMD;
	default: /* ITEM_NOT_FOUND (no partition for us), anything else */
		return OPTEE_SMC_RETURN_ENOTAVAIL;
	}
}

/**
 * tgg_ffa_call() - one yielding call with the argument at @offs of the
 * share @handle, served until OP-TEE is done with it.
 * Return: an OPTEE_SMC_RETURN_* code: OK, ETHREAD_LIMIT (retry later),
 * EBADADDR / EBADCMD (refused), ERESUME, ENOTAVAIL (no answer, or FF-A
 * refused the request).
 */
uint32_t tgg_ffa_call(struct call_ctx *ctx, uint64_t handle, uint32_t offs)
{
	struct tg_optee *drv = ctx->drv;
	uint64_t data[5] = { OPTEE_FFA_YIELDING_CALL_WITH_ARG,
			     FFA_HANDLE_LO(handle), FFA_HANDLE_HI(handle), offs,
			     0 };
	bool resuming = false;
	int32_t err;

	tgg_ffa_aborted(true);
	for (;;) {
		if (tgg_ffa_direct(drv, data, &err)) {
			/* OP-TEE may have the call, or not: its buffers
			 * are not ours to reuse yet (see tgg_std_call()). */
			ctx->lost = true;
			return OPTEE_SMC_RETURN_ENOTAVAIL;
		}
		if (data[0] != TEEC_SUCCESS)
			return smc_code_of((uint32_t)data[0], resuming);
		switch (data[1]) {
		case OPTEE_FFA_YIELDING_CALL_RETURN_DONE:
			/* tgg_ffa_aborted() tells whether an RPC met an
			 * ABORTED FF-A call (see session_msg()). */
			return OPTEE_SMC_RETURN_OK;
		case OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD:
			STAT_INC(drv, rpc[OPTEE_SMC_RPC_FUNC_CMD]);
			tgg_rpc_cmd(ctx);
			break;
		case OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT:
			/* The interrupt was taken on the way back. */
			STAT_INC(drv, ffa_interrupts);
			break;
		default:
			STAT_INC(drv, rpc_bad);
			break;
		}
		data[0] = OPTEE_FFA_YIELDING_CALL_RESUME;
		data[1] = data[2] = data[3] = 0;
		/* data[4] (w7): the resume info, echoed */
		resuming = true;
	}
}

/* ---- Notifications ----------------------------------------------------- */

/*
 * After the schedule-receiver interrupt (or a poll): get our pending
 * notifications; the bottom-half bit makes a DO_BOTTOM_HALF call, any
 * other bit wakes the waiters of that value (Linux's notif_callback()).
 *
 * The GET took the bottom-half bit from the SPMC: a DO_BOTTOM_HALF that
 * does not complete (its answer lost when a mediator dies, no thread)
 * would leave OP-TEE's pending values undelivered for ever, their waiters
 * asleep. It is owed, and asked again at the next interrupt or poll (the
 * notification vCPU polls while a TEE thread waits).
 */
void tgg_ffa_notif_drain(struct tg_optee *drv)
{
	struct optee_msg_arg msg;
	uint64_t bitmap = 0;
	uint32_t smc_ret = 0;
	bool bh = drv->ffa->bh_owed;

	if (tgg_ffa_notif_get(drv, &bitmap))
		bitmap = 0;
	for (uint32_t id = 0; id < 64; id++) {
		if (!(bitmap & (1ull << id)))
			continue;
		STAT_INC(drv, notif_async);
		__atomic_fetch_add(&tg_guest_counters(tgg_drv_vcpu(drv))
					    ->notifications,
				   1, __ATOMIC_RELAXED);
		if (drv->ffa->notif_bound && id == drv->ffa->notif_id)
			bh = true;
		else
			tgg_notif_send(drv, id);
	}
	if (!bh)
		return;
	memset(&msg, 0, sizeof(msg));
	msg.cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	STAT_INC(drv, bottom_halves);
	drv->ffa->bh_owed = tgg_std_call(drv, TG_OPTEE_FORM_DEFAULT, &msg,
					 &smc_ret) != TG_OK ||
			    msg.ret != TEEC_SUCCESS;
}
