// SPDX-License-Identifier: BSD-2-Clause
/*
 * The OP-TEE function-id whitelist, the fast calls, and the probe.
 *
 * Every function id OP-TEE defines appears in optee_fn_table with what the
 * mediator does with it; docs/optee-ids.md is the same table in prose and
 * the unit tests walk this table. Anything not listed is answered
 * UNKNOWN_FUNCTION, so a TEE newer than the mediator cannot expose a new
 * call to guests by accident.
 */
#include "optee.h"
#include "optee_ids.h"

const struct optee_fn optee_fn_table[] = {
	{ OPTEE_SMC_CALLS_COUNT, "CALLS_COUNT", FN_EMULATE },
	{ OPTEE_SMC_CALLS_UID, "CALLS_UID", FN_FORWARD },
	{ OPTEE_SMC_CALLS_REVISION, "CALLS_REVISION", FN_FORWARD },
	{ OPTEE_SMC_GET_OS_UUID, "GET_OS_UUID", FN_FORWARD },
	{ OPTEE_SMC_GET_OS_REVISION, "GET_OS_REVISION", FN_FORWARD },
	{ OPTEE_SMC_CALL_RETURN_FROM_RPC, "RETURN_FROM_RPC", FN_STD },
	{ OPTEE_SMC_CALL_WITH_ARG, "CALL_WITH_ARG", FN_STD },
	{ OPTEE_SMC_GET_SHM_CONFIG, "GET_SHM_CONFIG", FN_REFUSE_WHOLE_TEE },
	{ OPTEE_SMC_L2CC_MUTEX, "L2CC_MUTEX", FN_REFUSE_WHOLE_TEE },
	{ OPTEE_SMC_EXCHANGE_CAPABILITIES, "EXCHANGE_CAPABILITIES",
	  FN_EMULATE },
	{ OPTEE_SMC_DISABLE_SHM_CACHE, "DISABLE_SHM_CACHE", FN_EMULATE },
	{ OPTEE_SMC_ENABLE_SHM_CACHE, "ENABLE_SHM_CACHE", FN_EMULATE },
	{ OPTEE_SMC_BOOT_SECONDARY, "BOOT_SECONDARY", FN_REFUSE_WHOLE_TEE },
	{ OPTEE_SMC_VM_CREATED, "VM_CREATED", FN_REFUSE_HYP_ONLY },
	{ OPTEE_SMC_VM_DESTROYED, "VM_DESTROYED", FN_REFUSE_HYP_ONLY },
	{ OPTEE_SMC_GET_THREAD_COUNT, "GET_THREAD_COUNT", FN_EMULATE },
	{ OPTEE_SMC_ENABLE_ASYNC_NOTIF, "ENABLE_ASYNC_NOTIF", FN_FORWARD },
	{ OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, "GET_ASYNC_NOTIF_VALUE",
	  FN_FORWARD },
	{ OPTEE_SMC_CALL_WITH_RPC_ARG, "CALL_WITH_RPC_ARG", FN_STD },
	{ OPTEE_SMC_CALL_WITH_REGD_ARG, "CALL_WITH_REGD_ARG", FN_STD },
	{ OPTEE_SMC_GET_PROTMEM_CONFIG, "GET_PROTMEM_CONFIG",
	  FN_REFUSE_WHOLE_TEE },
};
const unsigned int optee_fn_table_len =
	sizeof(optee_fn_table) / sizeof(optee_fn_table[0]);

/* CALLS_COUNT: the ids a guest may actually use through the mediator. */
uint32_t optee_calls_count(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < optee_fn_table_len; i++)
		if (optee_fn_table[i].cls == FN_FORWARD ||
		    optee_fn_table[i].cls == FN_EMULATE ||
		    optee_fn_table[i].cls == FN_STD)
			n++;
	return n;
}

static void answer(uint64_t regs[8], uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3)
{
	regs[0] = a0;
	regs[1] = a1;
	regs[2] = a2;
	regs[3] = a3;
	regs[4] = regs[5] = regs[6] = regs[7] = 0;
}

static void refuse(struct tg_domain *d, uint64_t regs[8], uint32_t a0,
		   enum tg_refusal why)
{
	ctr_refuse(d, why);
	answer(regs, a0, 0, 0, 0);
}

/*
 * Forward a fast call that takes no guest argument: the TEE gets fresh
 * registers with the guest's client id in a7, never the guest's own a1..a7.
 * @client_id is the domain's (tg_handle_smc() checked it against the slot).
 */
static inline void fast_forward(struct tg_mediator *med, struct tg_domain *d,
				uint32_t client_id, uint32_t fid,
				uint64_t regs[8])
{
	regs[0] = fid;
	__builtin_memset(&regs[1], 0, 6 * sizeof(regs[0]));
	regs[7] = client_id;
	med->port.smc(med->port.ctx, regs);
	regs[4] = regs[5] = regs[6] = regs[7] = 0;
	ctr_call(d, TG_KIND_FAST_FORWARDED);
}

static void exchange_caps(struct tg_domain *d, uint64_t regs[8])
{
	const struct tg_tee_info *tee = &d->med->tee;
	uint64_t nsec_caps = regs[1] & 0xFFFFFFFFu;

	/* Like OP-TEE: any normal-world capability but UNIPROCESSOR is
	 * refused. The answer comes from the probe, so one guest's
	 * capabilities never change the TEE's state for another. */
	if (nsec_caps & ~(uint64_t)OPTEE_SMC_NSEC_CAP_UNIPROCESSOR) {
		refuse(d, regs, OPTEE_SMC_RETURN_ENOTAVAIL, TG_REFUSE_BAD_CAPS);
		return;
	}
	answer(regs, OPTEE_SMC_RETURN_OK, tee->guest_caps,
	       (tee->guest_caps & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF)
		       ? tee->max_notif_value
		       : 0,
	       tee->rpc_param_count);
	ctr_call(d, TG_KIND_FAST_EMULATED);
}

static void async_notif(struct tg_domain *d, uint32_t fid, uint64_t regs[8])
{
	if (!(d->med->tee.guest_caps & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF)) {
		refuse(d, regs, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION,
		       TG_REFUSE_UNKNOWN_FUNCTION);
		return;
	}
	fast_forward(d->med, d, dom_id(d), fid, regs);
	if (fid == OPTEE_SMC_ENABLE_ASYNC_NOTIF &&
	    (uint32_t)regs[0] == OPTEE_SMC_RETURN_OK)
		d->async_notif = true;
}

static void emulate(struct tg_domain *d, uint32_t fid, uint64_t regs[8])
{
	uint32_t threads = d->med->tee.thread_count;

	switch (fid) {
	case OPTEE_SMC_CALLS_COUNT:
		answer(regs, d->med->calls_count, 0, 0, 0);
		break;
	case OPTEE_SMC_GET_THREAD_COUNT:
		/* What this guest can use at once (fair share). */
		if (threads > atomic_load(&d->fair_cap))
			threads = atomic_load(&d->fair_cap);
		answer(regs, OPTEE_SMC_RETURN_OK, threads, 0, 0);
		break;
	case OPTEE_SMC_ENABLE_SHM_CACHE:
		/* The TEE's RPC-argument cache is global state shared by
		 * every guest; it stays off and each guest's request is
		 * granted without effect. */
		answer(regs, OPTEE_SMC_RETURN_OK, 0, 0, 0);
		break;
	case OPTEE_SMC_DISABLE_SHM_CACHE:
		/* Nothing is ever cached for a guest: "no more entries". */
		answer(regs, OPTEE_SMC_RETURN_ENOTAVAIL, 0, 0, 0);
		break;
	}
	ctr_call(d, TG_KIND_FAST_EMULATED);
}

/* Only the trusted-OS owner range (50..63) belongs to the TEE. */
static inline bool fid_is_tee(uint32_t fid)
{
	return (fid & (OPTEE_SMC_OWNER_MASK << OPTEE_SMC_OWNER_SHIFT)) >=
	       (OPTEE_SMC_OWNER_TRUSTED_OS << OPTEE_SMC_OWNER_SHIFT);
}

/*
 * Every id but the hot ones of optee_handle_smc(). Return: false when @fid
 * is not the TEE's (the caller then leaves it to the hypervisor).
 */
static __attribute__((cold, noinline)) bool other_call(struct tg_domain *d,
						       uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	if (!fid_is_tee(fid)) {
		domain_put(d);
		return false;
	}
	switch (fid) {
	case OPTEE_SMC_CALLS_COUNT:
	case OPTEE_SMC_GET_THREAD_COUNT:
	case OPTEE_SMC_ENABLE_SHM_CACHE:
	case OPTEE_SMC_DISABLE_SHM_CACHE:
		emulate(d, fid, regs);
		break;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		exchange_caps(d, regs);
		break;
	case OPTEE_SMC_ENABLE_ASYNC_NOTIF:
	case OPTEE_SMC_GET_ASYNC_NOTIF_VALUE:
		async_notif(d, fid, regs);
		break;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
		refuse(d, regs, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION,
		       TG_REFUSE_HYP_ONLY);
		break;
	case OPTEE_SMC_GET_SHM_CONFIG:
	case OPTEE_SMC_L2CC_MUTEX:
	case OPTEE_SMC_BOOT_SECONDARY:
	case OPTEE_SMC_GET_PROTMEM_CONFIG:
		refuse(d, regs, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION,
		       TG_REFUSE_WHOLE_TEE);
		break;
	case OPTEE_SMC_CALL_WITH_RPC_ARG:
	case OPTEE_SMC_CALL_WITH_REGD_ARG:
		if (d->med->tee.guest_caps & OPTEE_SMC_SEC_CAP_RPC_ARG) {
			std_call(d, regs,
				 fid == OPTEE_SMC_CALL_WITH_RPC_ARG
					 ? ENTRY_RPC_ARG
					 : ENTRY_REGD_ARG);
			break;
		}
		/* fall through */
	default:
		/* Includes every SMC64 id and other trusted-OS owners. */
		refuse(d, regs, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION,
		       TG_REFUSE_UNKNOWN_FUNCTION);
		break;
	}
	domain_put(d);
	return true;
}

/* fast_forward(), then drop the domain reference. */
static __attribute__((noinline)) bool fast_forward_put(struct tg_domain *d,
						       uint64_t regs[8])
{
	fast_forward(d->med, d, dom_id(d), (uint32_t)regs[0], regs);
	domain_put(d);
	return true;
}

/*
 * The dispatch, with the domain reference the caller took, which the
 * handler drops: the std calls and the forwarded fast calls here, the rest
 * (and the owner check, which the ids here pass) in other_call(). Every
 * case is a tail call, so that the dispatch saves no register.
 */
static inline bool optee_handle_smc_put(struct tg_domain *d, uint32_t fid,
					uint64_t regs[8])
{
	/* The two hottest first: a std call and the usual probe. */
	if (likely(fid == OPTEE_SMC_CALL_WITH_ARG))
		return std_call_arg_put(d, regs);
	if (fid == OPTEE_SMC_CALLS_UID)
		return fast_forward_put(d, regs);
	if (fid == OPTEE_SMC_CALL_RETURN_FROM_RPC)
		return rpc_return_put(d, regs);
	switch (fid) {
	case OPTEE_SMC_CALLS_REVISION:
	case OPTEE_SMC_GET_OS_UUID:
	case OPTEE_SMC_GET_OS_REVISION:
		return fast_forward_put(d, regs);
	default:
		return other_call(d, regs);
	}
}

/* The client id's slot was not the first probe, or no domain is live. */
static __attribute__((cold, noinline)) bool
optee_miss(struct tg_mediator *med, struct tg_domain *first,
	   uint32_t client_id, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	struct tg_domain *d;

	atomic_fetch_sub(&first->active, 1);
	if (!fid_is_tee(fid))
		return false;
	d = domain_get_slow(med, client_id);
	if (!d) {
		/* What OP-TEE answers a client id it does not know. */
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		return true;
	}
	return optee_handle_smc_put(d, fid, regs);
}

/*
 * The fast path missed. A protocol behind the core's ops has its live
 * domains in SLOT_LIVE_OPS, never SLOT_LIVE: its calls all come here
 * (src/core/proto.c) and the fast path costs OP-TEE nothing. Both are
 * tail calls: nothing is saved here.
 */
static __attribute__((noinline)) bool
handle_smc_miss(struct tg_mediator *med, struct tg_domain *first,
		uint32_t client_id, uint64_t regs[8])
{
	if (med->handle_put)
		return tg_proto_handle_miss(med, first, client_id, regs);
	return optee_miss(med, first, client_id, regs);
}

/*
 * The entry point. Not the TEE's: false, nothing done but the look-up.
 * The look-up is domain_get() with its miss path out of line (domain.c
 * has the protocol), so that the hot path tests nothing twice.
 */
bool tg_handle_smc(struct tg_mediator *med, uint32_t client_id, uint32_t vcpu,
		   uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];
	struct tg_domain *d;

	(void)vcpu; /* calls are not tied to a vCPU (see std_call()) */
	d = &med->slots[slot_hash(client_id, med->slot_mask)];
	atomic_fetch_add(&d->active, 1);
	if (unlikely(atomic_load(&d->state) != SLOT_LIVE ||
		     atomic_load(&d->client_id) != client_id))
		return handle_smc_miss(med, d, client_id, regs);
	return optee_handle_smc_put(d, fid, regs);
}


/* ---- probe ------------------------------------------------------------- */

static void probe_call(struct tg_mediator *med, uint32_t fid, uint64_t a1,
		       uint64_t r[8])
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = fid;
	r[1] = a1;
	med->port.smc(med->port.ctx, r); /* a7 = 0: the hypervisor */
}

int optee_probe(struct tg_mediator *med)
{
	struct tg_tee_info *t = &med->tee;
	uint32_t keep;
	uint64_t r[8];

	probe_call(med, OPTEE_SMC_CALLS_UID, 0, r);
	t->api_uid[0] = (uint32_t)r[0];
	t->api_uid[1] = (uint32_t)r[1];
	t->api_uid[2] = (uint32_t)r[2];
	t->api_uid[3] = (uint32_t)r[3];
	if (t->api_uid[0] != OPTEE_MSG_UID_0 ||
	    t->api_uid[1] != OPTEE_MSG_UID_1 ||
	    t->api_uid[2] != OPTEE_MSG_UID_2 ||
	    t->api_uid[3] != OPTEE_MSG_UID_3) {
		tg_log(med, TG_LOG_ERROR, 0,
		       "no OP-TEE answered: CALLS_UID a0 is", r[0]);
		return TG_ENOTEE;
	}
	probe_call(med, OPTEE_SMC_CALLS_REVISION, 0, r);
	t->api_rev_major = (uint32_t)r[0];
	t->api_rev_minor = (uint32_t)r[1];
	if (t->api_rev_major != OPTEE_MSG_REVISION_MAJOR) {
		tg_log(med, TG_LOG_ERROR, 0, "unsupported OP-TEE API revision",
		       r[0]);
		return TG_ENOTEE;
	}
	probe_call(med, OPTEE_SMC_GET_OS_UUID, 0, r);
	t->os_uuid[0] = (uint32_t)r[0];
	t->os_uuid[1] = (uint32_t)r[1];
	t->os_uuid[2] = (uint32_t)r[2];
	t->os_uuid[3] = (uint32_t)r[3];
	probe_call(med, OPTEE_SMC_GET_OS_REVISION, 0, r);
	t->os_rev_major = (uint32_t)r[0];
	t->os_rev_minor = (uint32_t)r[1];
	t->os_build_id = (uint32_t)r[2];

	probe_call(med, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0, r);
	if ((uint32_t)r[0] != OPTEE_SMC_RETURN_OK) {
		tg_log(med, TG_LOG_ERROR, 0, "EXCHANGE_CAPABILITIES failed",
		       r[0]);
		return TG_EPROTO;
	}
	t->sec_caps = (uint32_t)r[1];
	t->max_notif_value = (uint32_t)r[2];
	t->rpc_param_count = (uint32_t)(r[3] & 0xFF);
	t->virtualization = t->sec_caps & OPTEE_SMC_SEC_CAP_VIRTUALIZATION;
	if (!(t->sec_caps & OPTEE_SMC_SEC_CAP_DYNAMIC_SHM)) {
		tg_log(med, TG_LOG_ERROR, 0,
		       "OP-TEE lacks dynamic shared memory", t->sec_caps);
		return TG_ENOTSUP;
	}

	probe_call(med, OPTEE_SMC_GET_THREAD_COUNT, 0, r);
	t->thread_count =
		(uint32_t)r[0] == OPTEE_SMC_RETURN_OK ? (uint32_t)r[1] : 1;
	if (!t->thread_count)
		t->thread_count = 1;

	/* What guests are shown: only what the mediator translates. */
	keep = OPTEE_SMC_SEC_CAP_DYNAMIC_SHM | OPTEE_SMC_SEC_CAP_MEMREF_NULL;
	if (t->rpc_param_count >= 1 && t->rpc_param_count <= TG_MAX_RPC_PARAMS)
		keep |= OPTEE_SMC_SEC_CAP_RPC_ARG;
	else
		t->rpc_param_count = OPTEE_MSG_RPC_NUM_PARAMS;
	if (med->port.raise_notif_irq)
		keep |= OPTEE_SMC_SEC_CAP_ASYNC_NOTIF;
	t->guest_caps = t->sec_caps & keep;
	tg_log(med, TG_LOG_INFO, 0, "OP-TEE found, threads", t->thread_count);
	return TG_OK;
}

/* ---- per-domain state ---------------------------------------------------- */

int optee_domain_init(struct tg_domain *d)
{
	struct tg_mediator *med = d->med;
	struct tg_port *port = &med->port;
	uint32_t i;

	shadow_stripe_set(d); /* first: optee_domain_free() may give pages */
	d->lock = port->lock_create(port->ctx);
	d->calls = tg_zalloc(med, sizeof(*d->calls) * d->limits.max_calls);
	d->sessions =
		tg_zalloc(med, sizeof(*d->sessions) * d->limits.max_sessions);
	d->sides = tg_zalloc(med, sizeof(*d->sides) * d->limits.max_calls);
	if (!d->lock || !d->calls || !d->sessions || !d->sides)
		goto err;
	/* Shadow pages come from the mediator's pool, per call (shadow.c). */
	for (i = 0; i < d->limits.max_calls; i++) {
		d->calls[i].index = (uint8_t)i;
		atomic_store(&d->calls[i].resume_handle, i);
	}
	return TG_OK;
err:
	optee_domain_free(d);
	return TG_ENOMEM;
}

void optee_domain_free(struct tg_domain *d)
{
	struct tg_mediator *med = d->med;
	struct tg_port *port = &med->port;
	struct optee_call *calls = d->calls;
	_Atomic uint32_t *sessions = d->sessions;
	struct call_side *sides = d->sides;
	struct tg_lock *lock = d->lock;
	uint32_t i;

	/* Detach first: a crash below leaks, never frees twice. */
	d->calls = NULL;
	d->sessions = NULL;
	d->sides = NULL;
	d->lock = NULL;
	if (calls) {
		/* Only a half-built domain's (recovery) call may hold one,
		 * and a domain that died in its init may have no stripe. */
		shadow_stripe_set(d);
		for (i = 0; i < d->limits.max_calls; i++)
			if (calls[i].shadow)
				shadow_give(d, &calls[i]);
		tg_free(med, calls, sizeof(*calls) * d->limits.max_calls);
	}
	tg_free(med, sessions, sizeof(*sessions) * d->limits.max_sessions);
	tg_free(med, sides, sizeof(*sides) * d->limits.max_calls);
	if (lock)
		port->lock_destroy(port->ctx, lock);
	atomic_store(&d->calls_busy, 0);
	d->session_count = d->sessions_reserved = 0;
	atomic_store(&d->session_hwm, 0);
	d->dead_bufs = NULL;
	d->shm_count = d->rpc_count = 0;
	d->rpc_bufs = NULL;
	memset(d->shm, 0, sizeof(d->shm));
	memset(&d->ctr, 0, sizeof(d->ctr));
	d->async_notif = false;
	atomic_store(&d->held_until, 0);
	atomic_store(&d->threads_taken, 0);
	memset(d->ended, 0, sizeof(d->ended));
	d->ended_next = 0;
	atomic_store(&d->refused_at, 0);
	atomic_store(&d->refused_calls, 0);
	d->destroy_phase = DESTROY_QUIESCE;
	d->destroy_retries = 0;
	atomic_store(&d->pinned_pages, 0);
	atomic_store(&d->shadow_pages, 0);
}
