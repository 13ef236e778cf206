// SPDX-License-Identifier: BSD-2-Clause
/*
 * The model as OP-TEE 4.10 at S-EL1 being the SPMC (CFG_CORE_SEL1_SPMC=y,
 * TF-A SPD=spmd SPMD_SPM_AT_SEL2=0), seen from the normal world's EL2:
 *
 * - the SPMD answers FFA_ID_GET with 0 (the normal world's id) and
 *   passes everything else of FF-A to the SPMC; OP-TEE's own SMC ids
 *   reach no one (SMC unknown);
 * - two logical partitions: the SPMC itself (0x8000, framework messages
 *   only, no UUID) and OP-TEE (0x8001, UUID 486178e0-..., which
 *   subscribes to VM_CREATED / VM_DESTROYED);
 * - OP-TEE's protocol in direct requests: blocking calls (API and OS
 *   version, capabilities, UNREGISTER_SHM, ENABLE_ASYNC_NOTIF) and
 *   yielding calls with their RPCs, on the std-call engine of
 *   entry_std.c; the sender id of the request names the guest;
 * - one RX/TX pair for the whole normal world;
 * - notifications: a bitmap per VM, global notifications only; the
 *   schedule receiver interrupt is the model's notif_irq().
 *
 * What thread_spmc.c answers is what this file answers; README.md lists
 * the few choices the model makes on its own.
 */
#include <string.h>

#include "model_internal.h"

static void set_status(uint64_t regs[8], int32_t rc)
{
	if (rc)
		ffa_set_regs(regs, FFA_ERROR, 0, (uint32_t)rc, 0, 0, 0);
	else
		ffa_set_regs(regs, FFA_SUCCESS_32, 0, 0, 0, 0, 0);
}

static uint32_t swap_ids(uint64_t w1)
{
	return FFA_PACK_IDS(FFA_RECEIVER(w1), FFA_SENDER(w1));
}

static uint32_t resp_fid(uint32_t req_fid)
{
	return req_fid == FFA_MSG_SEND_DIRECT_REQ_64
		       ? FFA_MSG_SEND_DIRECT_RESP_64
		       : FFA_MSG_SEND_DIRECT_RESP_32;
}

/* ---- Version, features, ids ------------------------------------------- */

/*
 * spmc_exchange_version(): the caller uses its version if the major
 * matches and the minor is not above ours; ours is always the answer.
 */
static void ffa_version(struct tg_model *m, uint64_t regs[8])
{
	uint32_t v = (uint32_t)regs[1];

	if (v & FFA_VERSION_MBZ_BIT) {
		ffa_set_regs(regs, (uint32_t)FFA_RET_NOT_SUPPORTED, 0, 0, 0, 0,
			     0);
		return;
	}
	if (FFA_VERSION_MAJOR(v) == 1)
		m->ffa.version = FFA_VERSION_MINOR(v) > 2 ? FFA_VERSION_1_2 : v;
	ffa_set_regs(regs, FFA_VERSION_1_2, 0, 0, 0, 0, 0);
}

static void ffa_features(uint64_t regs[8])
{
	uint32_t id = (uint32_t)regs[1];
	uint32_t w2 = 0;

	switch (id) {
	case FFA_FEATURE_SCHEDULE_RECV_INTR:
		w2 = MODEL_FFA_SRI_INTID;
		break;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		w2 = FFA_FEAT_RXTX_MIN_4K;
		break;
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
		w2 = FFA_FEAT_MEM_DYN_BUFFER;
		break;
	case FFA_ERROR:
	case FFA_VERSION:
	case FFA_SUCCESS_32:
	case FFA_SUCCESS_64:
	case FFA_FEATURES:
	case FFA_SPM_ID_GET:
	case FFA_MEM_FRAG_TX:
	case FFA_MEM_RECLAIM:
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_INTERRUPT:
	case FFA_PARTITION_INFO_GET:
	case FFA_RXTX_UNMAP:
	case FFA_RX_RELEASE:
	case FFA_FEATURE_MANAGED_EXIT_INTR:
	case FFA_NOTIFICATION_BITMAP_CREATE:
	case FFA_NOTIFICATION_BITMAP_DESTROY:
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
	case FFA_NOTIFICATION_SET:
	case FFA_NOTIFICATION_GET:
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		break;
	default:
		set_status(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	ffa_set_regs(regs, FFA_SUCCESS_32, 0, w2, 0, 0, 0);
}

/* ---- RX/TX ------------------------------------------------------------- */

/*
 * FFA_RXTX_MAP: w1 = the caller's TX, w2 = its RX, w3 = pages (5:0).
 * Mapped once; both must be NS memory the caller (the hypervisor: the
 * oracle checks on behalf of id 0) may give.
 */
static void rxtx_map(struct tg_model *m, uint64_t regs[8])
{
	uint64_t tx = regs[1], rx = regs[2], pages = regs[3];
	uint64_t size = pages * MODEL_PAGE_SIZE;

	if (!FFA_FN_IS_64((uint32_t)regs[0])) {
		tx &= 0xFFFFFFFFu;
		rx &= 0xFFFFFFFFu;
	}
	if ((pages & ~(uint64_t)FFA_RXTX_PAGE_COUNT_MASK) || !pages) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (m->ffa.rxtx_pages) {
		set_status(regs, FFA_RET_DENIED);
		return;
	}
	if ((tx & MODEL_PAGE_MASK) || (rx & MODEL_PAGE_MASK) ||
	    !tgm_pa_range_is_ns(m, FFA_HYP_ID, tx, size) ||
	    !tgm_pa_range_is_ns(m, FFA_HYP_ID, rx, size)) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	m->ffa.nw_tx_pa = tx;
	m->ffa.nw_rx_pa = rx;
	m->ffa.rxtx_pages = (uint32_t)pages;
	m->ffa.rx_nw_owned = false;
	set_status(regs, FFA_RET_OK);
}

static void rxtx_unmap(struct tg_model *m, uint64_t regs[8])
{
	if (!m->ffa.rxtx_pages) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	m->ffa.rxtx_pages = 0;
	m->ffa.nw_tx_pa = m->ffa.nw_rx_pa = 0;
	set_status(regs, FFA_RET_OK);
}

static void rx_release(struct tg_model *m, uint64_t regs[8])
{
	if (!m->ffa.rxtx_pages || !m->ffa.rx_nw_owned) {
		set_status(regs, FFA_RET_DENIED);
		return;
	}
	m->ffa.rx_nw_owned = false;
	set_status(regs, FFA_RET_OK);
}

/* ---- Partition discovery ----------------------------------------------- */

static const uint32_t optee_uuid[4] = { OPTEE_FFA_UUID_W0, OPTEE_FFA_UUID_W1,
					OPTEE_FFA_UUID_W2, OPTEE_FFA_UUID_W3 };

static uint32_t optee_properties(const struct tg_model *m)
{
	uint32_t p = FFA_PART_PROP_DIRECT_REQ_RECV |
		     FFA_PART_PROP_DIRECT_REQ_SEND |
		     FFA_PART_PROP_AARCH64_STATE | FFA_PART_PROP_IS_PE_ID;

	if (!m->cfg.no_virtualization)
		p |= FFA_PART_PROP_NOTIF_VM_CREATED |
		     FFA_PART_PROP_NOTIF_VM_DESTROYED;
	return p;
}

/*
 * FFA_PARTITION_INFO_GET: w1..w4 UUID (nil: all), w5 bit 0 count only.
 * Only OP-TEE has a UUID, so it is the only partition listed. The entry
 * goes to the normal world's RX, which it then owns until RX_RELEASE.
 */
static void partition_info_get(struct tg_model *m, uint64_t regs[8])
{
	uint32_t uuid[4] = { (uint32_t)regs[1], (uint32_t)regs[2],
			     (uint32_t)regs[3], (uint32_t)regs[4] };
	bool count_only = regs[5] & FFA_PARTITION_INFO_GET_COUNT_ONLY;
	bool nil = !uuid[0] && !uuid[1] && !uuid[2] && !uuid[3];
	uint32_t count = nil || !memcmp(uuid, optee_uuid, sizeof(uuid));
	uint32_t size = m->ffa.version >= FFA_VERSION_1_1
				? FFA_PARTITION_INFO_SIZE
				: FFA_PARTITION_INFO_SIZE_1_0;
	struct ffa_partition_info pi;
	struct ns_span rx;
	uint32_t props = optee_properties(m);

	if (count_only) {
		ffa_set_regs(regs, FFA_SUCCESS_32, 0, count, 0, 0, 0);
		return;
	}
	if (!m->ffa.rxtx_pages || m->ffa.rx_nw_owned) {
		set_status(regs, FFA_RET_BUSY);
		return;
	}
	if (m->ffa.version < FFA_VERSION_1_1)
		props &= FFA_PART_PROP_DIRECT_REQ_RECV |
			 FFA_PART_PROP_DIRECT_REQ_SEND |
			 FFA_PART_PROP_INDIRECT_MSGS;
	memset(&pi, 0, sizeof(pi));
	pi.id = MODEL_FFA_OPTEE_ID;
	pi.exec_ctx_count = MODEL_FFA_NB_CORE;
	pi.properties = props;
	memcpy(pi.uuid, optee_uuid, sizeof(pi.uuid));
	if (count && (!tgm_span_contig(m->ffa.nw_rx_pa, size, &rx) ||
		      !tgm_span_write(m, FFA_HYP_ID, &rx, 0, &pi, size))) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (count)
		tgm_span_release(&rx);
	m->ffa.rx_nw_owned = true;
	ffa_set_regs(regs, FFA_SUCCESS_32, 0, count,
		     m->ffa.version >= FFA_VERSION_1_1 ? size : 0, 0, 0);
}

/* ---- Direct requests: OP-TEE's protocol -------------------------------- */

/*
 * Turn the std-call engine's SMC-style answer into the direct response
 * of a yielding call: w3 = error (a TEE_Result), w4 = DONE / RPC_CMD /
 * INTERRUPT, w7 = the thread to resume.
 */
static void yielding_answer(uint64_t regs[8], uint32_t fid, uint32_t ids)
{
	uint32_t a0 = (uint32_t)regs[0];
	uint64_t thread = regs[3];
	uint32_t w3 = 0, w4 = OPTEE_FFA_YIELDING_CALL_RETURN_DONE;
	uint32_t w7 = 0;

	if (OPTEE_SMC_RETURN_IS_RPC(a0)) {
		switch (OPTEE_SMC_RPC_FUNC(a0)) {
		case OPTEE_SMC_RPC_FUNC_CMD:
			w4 = OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD;
			break;
		case OPTEE_SMC_RPC_FUNC_FOREIGN_INTR:
			w4 = OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT;
			break;
		default: /* ALLOC / FREE cannot happen over FF-A */
			w3 = TEEC_ERROR_GENERIC;
			break;
		}
		w7 = (uint32_t)thread;
	} else {
		switch (a0) {
		case OPTEE_SMC_RETURN_OK:
			break;
		case OPTEE_SMC_RETURN_ETHREAD_LIMIT:
			w3 = TEEC_ERROR_BUSY;
			break;
		case OPTEE_SMC_RETURN_EBADCMD:
			w3 = TEEC_ERROR_NOT_IMPLEMENTED;
			break;
		default: /* EBADADDR, ERESUME */
			w3 = TEEC_ERROR_BAD_PARAMETERS;
			break;
		}
	}
	ffa_set_regs(regs, resp_fid(fid), ids, 0, w3, w4, 0);
	regs[7] = w7;
}

static uint32_t exchange_caps(void)
{
	return OPTEE_FFA_SEC_CAP_ARG_OFFSET | OPTEE_FFA_SEC_CAP_ASYNC_NOTIF |
	       OPTEE_FFA_SEC_CAP_RPMB_PROBE;
}

/* spmc_enable_async_notif(): the bottom-half notification id. */
static uint32_t enable_async_notif(struct guest *g, uint64_t value)
{
	if (value >= OPTEE_FFA_MAX_ASYNC_NOTIF_VALUE)
		return TEEC_ERROR_BAD_PARAMETERS;
	g->nvb_bottom_half = (int32_t)value;
	g->async_notif_enabled = true;
	return TEEC_SUCCESS;
}

static void optee_direct_req(struct tg_model *m, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	uint32_t ids = swap_ids(regs[1]);
	uint16_t vm = FFA_SENDER(regs[1]);
	uint32_t cmd = (uint32_t)regs[3];
	struct guest *g;

	/* virt_set_guest(sender): no partition, no service. */
	g = tgm_find_guest(m, vm);
	if (!g || (!m->cfg.no_virtualization && !vm)) {
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     TEEC_ERROR_ITEM_NOT_FOUND, 0, 0);
		return;
	}
	if (m->cfg.no_virtualization)
		vm = 0;
	if (cmd & OPTEE_FFA_YIELDING_CALL_BIT) {
		if (cmd == OPTEE_FFA_YIELDING_CALL_RESUME) {
			uint64_t r[8] = { OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0,
					  regs[7] & 0xFFFFFFFFu, 0, 0, 0, vm };

			tgm_std_return_from_rpc(m, g, r);
			memcpy(regs, r, sizeof(r));
		} else if (cmd == OPTEE_FFA_YIELDING_CALL_WITH_ARG) {
			uint64_t cookie = FFA_HANDLE_PACK(regs[4], regs[5]);
			uint64_t offs = (uint32_t)regs[6];

			tgm_std_call_ffa(m, g, vm, cookie, offs, regs);
		} else {
			/* thread_std_smc_entry(): FFA_DENIED in w3. */
			ffa_set_regs(regs, resp_fid(fid), ids, 0,
				     (uint32_t)FFA_RET_DENIED, 0, 0);
			return;
		}
		yielding_answer(regs, fid, ids);
		return;
	}
	switch (cmd) {
	case OPTEE_FFA_GET_API_VERSION:
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     OPTEE_FFA_VERSION_MAJOR, OPTEE_FFA_VERSION_MINOR,
			     0);
		break;
	case OPTEE_FFA_GET_OS_VERSION:
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     MODEL_OS_REVISION_MAJOR, MODEL_OS_REVISION_MINOR,
			     MODEL_OS_BUILD_ID);
		break;
	case OPTEE_FFA_EXCHANGE_CAPABILITIES:
		ffa_set_regs(regs, resp_fid(fid), ids, 0, 0,
			     OPTEE_MSG_RPC_NUM_PARAMS, exchange_caps());
		/* w6: OP-TEE leaves it 0 (Linux then takes its default). */
		break;
	case OPTEE_FFA_UNREGISTER_SHM:
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     tgm_ffa_unregister(
				     m, g, FFA_HANDLE_PACK(regs[4], regs[5])),
			     0, 0);
		break;
	case OPTEE_FFA_ENABLE_ASYNC_NOTIF:
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     enable_async_notif(g, regs[4]), 0, 0);
		break;
	default:
		ffa_set_regs(regs, resp_fid(fid), ids, 0,
			     TEEC_ERROR_BAD_PARAMETERS, 0, 0);
		break;
	}
}

/* VM_CREATED: OP-TEE's virt_guest_created(); no slot is DENIED. */
static int32_t vm_created(struct tg_model *m, uint16_t id)
{
	struct guest *g;

	if (m->cfg.no_virtualization)
		return FFA_RET_NOT_SUPPORTED;
	if (!id || FFA_ID_IS_SECURE(id))
		return FFA_RET_INVALID_PARAMETERS;
	g = tgm_find_guest(m, id);
	if (g)
		tgm_ffa_guest_gone(m, g);
	for (uint32_t i = 0; !g && i < m->max_guests; i++)
		if (!m->guests[i].live)
			g = &m->guests[i];
	if (!g)
		return FFA_RET_DENIED;
	tgm_guest_reset(m, g, id);
	return FFA_RET_OK;
}

static int32_t vm_destroyed(struct tg_model *m, uint16_t id)
{
	struct guest *g = id ? tgm_find_guest(m, id) : NULL;

	if (m->cfg.no_virtualization)
		return FFA_RET_NOT_SUPPORTED;
	if (g) {
		bool busy = g->shms != NULL;

		for (uint32_t i = 0; i < m->num_threads; i++)
			busy |= m->threads[i].state != THREAD_FREE &&
				m->threads[i].guest == g;
		m->ffa.destroyed_busy += busy;
		tgm_ffa_guest_gone(m, g);
		tgm_guest_kill(m, g);
	}
	return FFA_RET_OK;
}

/*
 * Framework messages (w2 bit 31) to either partition: VM availability
 * (w5 = the VM id) and the version request. OP-TEE does not look at who
 * sends them: only a hypervisor must (a mediator's job).
 */
static void framework_req(struct tg_model *m, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	uint32_t ids = swap_ids(regs[1]);
	uint32_t type = (uint32_t)regs[2] & FFA_MSG_TYPE_MASK;
	int32_t rc;

	switch (type) {
	case FFA_MSG_SEND_VM_CREATED:
	case FFA_MSG_SEND_VM_DESTROYED:
		if (m->cfg.no_virtualization)
			break;
		rc = type == FFA_MSG_SEND_VM_CREATED
			     ? vm_created(m, (uint16_t)regs[5])
			     : vm_destroyed(m, (uint16_t)regs[5]);
		ffa_set_regs(regs, resp_fid(fid), ids,
			     FFA_MSG_FLAG_FRAMEWORK | (type + 1), (uint32_t)rc,
			     0, 0);
		return;
	case FFA_MSG_VERSION_REQ: {
		uint64_t v[8] = { FFA_VERSION, regs[3] };

		ffa_version(m, v);
		ffa_set_regs(regs, resp_fid(fid), ids,
			     FFA_MSG_FLAG_FRAMEWORK | FFA_MSG_VERSION_RESP,
			     v[0], 0, 0);
		return;
	}
	default:
		break;
	}
	set_status(regs, FFA_RET_NOT_SUPPORTED);
}

static void direct_req(struct tg_model *m, uint64_t regs[8])
{
	uint16_t dst = FFA_RECEIVER(regs[1]);

	if (dst != MODEL_FFA_OPTEE_ID && dst != MODEL_FFA_SPMC_ID) {
		/* No such partition: spmc_sp_start_thread() without SPs. */
		set_status(regs, FFA_RET_NOT_SUPPORTED);
		return;
	}
	if (regs[2] & FFA_MSG_FLAG_FRAMEWORK) {
		framework_req(m, regs);
		return;
	}
	if (dst == MODEL_FFA_SPMC_ID) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	optee_direct_req(m, regs);
}

/* ---- Notifications ----------------------------------------------------- */

static struct guest *nvb_guest(struct tg_model *m, uint16_t vm)
{
	if (!m->cfg.no_virtualization && !vm)
		return NULL;
	if (m->cfg.no_virtualization && vm)
		return NULL;
	return tgm_find_guest(m, vm);
}

static void notif_bitmap(struct tg_model *m, uint64_t regs[8], bool create)
{
	struct guest *g;
	int32_t rc = FFA_RET_INVALID_PARAMETERS;

	if (FFA_SENDER(regs[1]) || regs[3] || regs[4] || regs[5] || regs[6] ||
	    regs[7])
		goto out;
	g = nvb_guest(m, FFA_RECEIVER(regs[1]));
	if (!g)
		goto out;
	if (create) {
		rc = g->nvb_created ? FFA_RET_DENIED : FFA_RET_OK;
		if (!rc) {
			g->nvb_created = true;
			g->nvb_bottom_half = -1;
		}
	} else {
		rc = (g->nvb_pending || g->nvb_bound) ? FFA_RET_DENIED
						      : FFA_RET_OK;
		if (!rc) {
			g->nvb_created = false;
			g->nvb_bottom_half = -1;
		}
	}
out:
	set_status(regs, rc);
}

/* BIND / UNBIND: w1 = sender (OP-TEE) | receiver VM, w3/w4 bitmap. */
static void notif_bind(struct tg_model *m, uint64_t regs[8], bool bind)
{
	uint64_t bitmap = FFA_HANDLE_PACK(regs[3], regs[4]);
	struct guest *g;
	int32_t rc = FFA_RET_INVALID_PARAMETERS;

	if (regs[5] || regs[6] || regs[7] || (!bind && regs[2]))
		goto out;
	if (bind && regs[2]) {
		rc = FFA_RET_DENIED; /* only global notifications */
		goto out;
	}
	g = nvb_guest(m, FFA_RECEIVER(regs[1]));
	if (!g)
		goto out;
	if (bind) {
		rc = (bitmap & g->nvb_bound) ? FFA_RET_DENIED : FFA_RET_OK;
		if (!rc)
			g->nvb_bound |= bitmap;
	} else {
		rc = (bitmap & g->nvb_pending) ? FFA_RET_DENIED : FFA_RET_OK;
		if (!rc)
			g->nvb_bound &= ~bitmap;
	}
out:
	set_status(regs, rc);
}

/* GET: w1 = vCPU | receiver VM, w2 flags; SP bitmap in w2/w3. */
static void notif_get(struct tg_model *m, uint64_t regs[8])
{
	struct guest *g;
	uint64_t pending;

	if (regs[5] || regs[6] || regs[7]) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	if (!(regs[2] & FFA_NOTIF_GET_FLAG_SP)) {
		ffa_set_regs(regs, FFA_SUCCESS_32, 0, 0, 0, 0, 0);
		return;
	}
	g = nvb_guest(m, FFA_RECEIVER(regs[1]));
	if (!g) {
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		return;
	}
	pending = g->nvb_pending;
	g->nvb_pending = 0;
	ffa_set_regs(regs, FFA_SUCCESS_32, 0, FFA_HANDLE_LO(pending),
		     FFA_HANDLE_HI(pending), 0, 0);
}

/*
 * INFO_GET: the ids of the VMs with pending notifications, one list of
 * one id each (global notifications), in w3.. (2 ids per register in
 * SMC32, 4 in SMC64); bit 0 of w2 when more are pending.
 */
static void notif_info_get(struct tg_model *m, uint64_t regs[8])
{
	bool is64 = FFA_FN_IS_64((uint32_t)regs[0]);
	uint32_t per_reg = is64 ? 4 : 2, max_lists = is64 ? 31 : 15;
	uint32_t nids = 0, more = 0;
	uint64_t out[8] = { 0 };

	for (int i = 1; i < 8; i++) {
		if (regs[i]) {
			set_status(regs, FFA_RET_INVALID_PARAMETERS);
			return;
		}
	}
	for (uint32_t i = 0; i < m->max_guests; i++) {
		const struct guest *g = &m->guests[i];
		uint32_t reg, shift;

		if (!g->live || !g->nvb_pending)
			continue;
		reg = 3 + nids / per_reg;
		shift = (nids % per_reg) * 16;
		if (reg > 7 || nids >= max_lists) {
			more = FFA_NOTIF_INFO_MORE_PENDING;
			break;
		}
		out[reg] |= (uint64_t)g->id << shift;
		nids++;
	}
	if (!nids) {
		set_status(regs, FFA_RET_NO_DATA);
		return;
	}
	/* Each list has one id: its count field (count - 1) is 0. */
	out[0] = is64 ? FFA_SUCCESS_64 : FFA_SUCCESS_32;
	out[2] = ((uint64_t)nids << FFA_NOTIF_INFO_LIST_COUNT_SHIFT) | more;
	memcpy(regs, out, sizeof(out));
}

/*
 * tgm_ffa_bottom_half() - DO_BOTTOM_HALF over FF-A: every async value
 * other than the bottom half itself goes out as RPC NOTIFICATION SEND
 * (OP-TEE's FF-A notifications carry only the bottom-half bit; OP-TEE
 * itself raises no other async value over FF-A: this is the model's way
 * to deliver MODEL_TA_NOTIFY_CMD_ASYNC values there). A SEND the normal
 * world did not answer leaves its value pending.
 */
enum step_result tgm_ffa_bottom_half(struct tg_model *m,
				     struct model_thread *t)
{
	struct guest *g = t->guest;

	if (t->step > 0 && t->rpc.ret != TEEC_SUCCESS) {
		/*
		 * The SEND was not delivered (not answered: its preset GENERIC
		 * came back, e.g. a mediator ended the call after the guest
		 * lost it): the value stays pending and the bottom half is
		 * asked for again, rather than lost.
		 */
		uint32_t v = (uint32_t)t->scratch[0];

		if (v && v <= MODEL_MAX_NOTIF_VALUE) {
			g->notif_pending[v] = true;
			if (g->nvb_bottom_half >= 0) {
				g->nvb_pending |= 1ull << g->nvb_bottom_half;
				m->notif_irq_pending = true;
			}
		}
		t->ret = TEEC_SUCCESS;
		t->ret_origin = TEEC_ORIGIN_TEE;
		return STEP_DONE;
	}
	for (uint32_t v = 1; v <= MODEL_MAX_NOTIF_VALUE; v++) {
		if (!g->notif_pending[v])
			continue;
		g->notif_pending[v] = false;
		t->scratch[0] = v;
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_NOTIFICATION, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		t->rpc.params[0].u.value.a = OPTEE_RPC_NOTIFICATION_SEND;
		t->rpc.params[0].u.value.b = v;
		t->step++;
		return STEP_RPC_CMD;
	}
	t->ret = TEEC_SUCCESS;
	t->ret_origin = TEEC_ORIGIN_TEE;
	return STEP_DONE;
}

uint32_t tg_model_ffa_destroyed_busy(struct tg_model *m)
{
	uint32_t n;

	pthread_mutex_lock(&m->lock);
	n = m->ffa.destroyed_busy;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* ---- Entry ------------------------------------------------------------- */

/**
 * tgm_ffa_smc() - one FF-A call from the normal world's EL2 (or from a
 * kernel without hypervisor). Called with the model lock held. a7 is not
 * a client id in FF-A: identities are in the messages.
 */
void tgm_ffa_smc(struct tg_model *m, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	if (!FFA_IS_FFA_FID(fid)) {
		/* OP-TEE's SMC ABI is not routed by the SPMD. */
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
	switch (fid) {
	case FFA_VERSION:
		ffa_version(m, regs);
		break;
	case FFA_FEATURES:
		ffa_features(regs);
		break;
	case FFA_ID_GET:
		/* The SPMD: the normal world is endpoint 0. */
		ffa_set_regs(regs, FFA_SUCCESS_32, 0, FFA_HYP_ID, 0, 0, 0);
		break;
	case FFA_SPM_ID_GET:
		ffa_set_regs(regs, FFA_SUCCESS_32, 0, MODEL_FFA_SPMC_ID, 0, 0,
			     0);
		break;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		rxtx_map(m, regs);
		break;
	case FFA_RXTX_UNMAP:
		rxtx_unmap(m, regs);
		break;
	case FFA_RX_RELEASE:
		rx_release(m, regs);
		break;
	case FFA_PARTITION_INFO_GET:
		partition_info_get(m, regs);
		break;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
		direct_req(m, regs);
		break;
	case FFA_RUN:
		/* OP-TEE's threads resume by direct request only. */
		set_status(regs, FFA_RET_INVALID_PARAMETERS);
		break;
	case FFA_INTERRUPT:
		ffa_set_regs(regs, FFA_NORMAL_WORLD_RESUME, 0, 0, 0, 0, 0);
		break;
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
		tgm_ffa_mem_op(m, regs);
		break;
	case FFA_MEM_FRAG_TX:
		tgm_ffa_frag_tx(m, regs);
		break;
	case FFA_MEM_RECLAIM:
		tgm_ffa_reclaim(m, regs);
		break;
	case FFA_NOTIFICATION_BITMAP_CREATE:
	case FFA_NOTIFICATION_BITMAP_DESTROY:
		notif_bitmap(m, regs, fid == FFA_NOTIFICATION_BITMAP_CREATE);
		break;
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
		notif_bind(m, regs, fid == FFA_NOTIFICATION_BIND);
		break;
	case FFA_NOTIFICATION_GET:
		notif_get(m, regs);
		break;
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		notif_info_get(m, regs);
		break;
	case FFA_ERROR:
	default:
		set_status(regs, FFA_RET_NOT_SUPPORTED);
		break;
	}
}
