// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hostile catalogue: every attack on the mediator, what it sends, the
 * exact refusal the mediator's contract promises (include/teegate/
 * mediator.h, docs/security.md), and what counts as a breach with any
 * mediator or none. SMCs are built by hand at register level and messages
 * written straight into the guest's pages.
 *
 * One freestanding source (memset/memcpy only), compiled into the hosted
 * hostile guest (hostile.c: the env is a vCPU of the hosted platform and
 * the guest driver) and into the guest image a real hypervisor boots
 * (src/guest/image: the env is a bare domU).
 */
#include <string.h>

#include "hostile_table.h"
#include "model_tas.h" /* the model's yield TA, when the TEE has it */

#define PG TG_HOSTILE_PAGE
#define A0(code)                        \
	{                               \
		TG_EXPECT_A0, (code), 0 \
	}
#define MSG(code)                                        \
	{                                                \
		TG_EXPECT_MSG, (code), TEEC_ORIGIN_COMMS \
	}
#define CLEAN                         \
	{                             \
		TG_EXPECT_CLEAN, 0, 0 \
	}
#define NOT_BREACHED                         \
	{                                    \
		TG_EXPECT_NOT_BREACHED, 0, 0 \
	}
#define UNKNOWN A0(OPTEE_SMC_RETURN_UNKNOWN_FUNCTION)
#define BADPARAM MSG(TEEC_ERROR_BAD_PARAMETERS)

#define NEVER TG_BREACH_NEVER
#define ACCEPTED TG_BREACH_IF_ACCEPTED
#define UNCLEAN TG_BREACH_IF_UNCLEAN
#define DETECTED TG_BREACH_DETECTED
#define BARE 1

/* The catalogue's entries, in table order. */
enum attack_id {
	A_UNKNOWN_FAST_ID,
	A_UNKNOWN_STD_ID,
	A_UNKNOWN_OWNER_62,
	A_SMC64_CALL_WITH_ARG,
	A_SMC64_THREAD_COUNT,
	A_VM_CREATED,
	A_VM_DESTROYED,
	A_FORGED_A7_VM_DESTROYED,
	A_BOOT_SECONDARY,
	A_GET_SHM_CONFIG,
	A_L2CC_MUTEX,
	A_GET_PROTMEM_CONFIG,
	A_CAPS_UNKNOWN_BITS,
	A_ARG_OUTSIDE_RAM,
	A_ARG_UNALIGNED,
	A_NUM_PARAMS_128,
	A_RPC_ARG_PAST_PAGE,
	A_REGD_ARG_FORGED_COOKIE,
	A_UNKNOWN_MSG_CMD,
	A_PROTMEM_MSG_CMD,
	A_CONTIGUOUS_TMEM,
	A_RESERVED_ATTR_BITS,
	A_META_OUTSIDE_OPEN,
	A_FOREIGN_PAGE_IN_LIST,
	A_SIZE_OVERFLOW,
	A_LIST_TOO_LONG,
	A_PAGELIST_LOOP,
	A_RMEM_FORGED_COOKIE,
	A_UNREGISTER_FORGED_COOKIE,
	A_FOREIGN_SESSION,
	A_RESUME_NO_CALL,
	A_RESUME_OTHER_THREAD,
	A_EXHAUST_CALLS,
	A_EXHAUST_SHM_BUFS,
	A_EXHAUST_PINNED_PAGES,
	A_UNREGISTER_IN_USE,
	A_TOCTOU_ARG,
	A_TOCTOU_PAGELIST,
	A_VICTIM_PAGE_IN_LIST,
	A_VICTIM_PAGE_WRITTEN,
	A_VICTIM_PAGE_REGISTERED,
	A_ARG_IN_VICTIM_MEMORY,
	A_FORGED_A7_SESSION,
	A_VM_CREATED_DUPLICATE,
	NUM_ATTACKS
};

static const struct tg_attack tg_hostile_table[] = {
	[A_UNKNOWN_FAST_ID] = { "unknown_fast_id",
				"fast call 0xB2000063 (no such function)",
				UNKNOWN, NEVER, 0 },
	[A_UNKNOWN_STD_ID] = { "unknown_std_id",
			       "std call 0x32000063 (no such function)",
			       UNKNOWN, NEVER, 0 },
	[A_UNKNOWN_OWNER_62] = { "unknown_owner_62",
				 "fast call of owner 62 (0xBE000001)", UNKNOWN,
				 NEVER, 0 },
	[A_SMC64_CALL_WITH_ARG] = { "smc64_call_with_arg",
				    "CALL_WITH_ARG with the SMC64 bit", UNKNOWN,
				    NEVER, 0 },
	[A_SMC64_THREAD_COUNT] = { "smc64_thread_count",
				   "GET_THREAD_COUNT with the SMC64 bit",
				   UNKNOWN, NEVER, 0 },
	[A_VM_CREATED] = { "vm_created",
			   "hypervisor-only VM_CREATED from a guest", UNKNOWN,
			   ACCEPTED, BARE },
	[A_VM_DESTROYED] = { "vm_destroyed",
			     "hypervisor-only VM_DESTROYED of itself", UNKNOWN,
			     ACCEPTED, BARE },
	[A_FORGED_A7_VM_DESTROYED] = { "forged_a7_vm_destroyed",
				       "VM_DESTROYED with a7 = 0 (the hypervisor's id)",
				       UNKNOWN, ACCEPTED, BARE },
	[A_BOOT_SECONDARY] = { "boot_secondary", "whole-TEE BOOT_SECONDARY",
			       UNKNOWN, ACCEPTED, 0 },
	[A_GET_SHM_CONFIG] = { "get_shm_config",
			       "static SHM config (whole TEE)", UNKNOWN,
			       ACCEPTED, BARE },
	[A_L2CC_MUTEX] = { "l2cc_mutex", "L2CC_MUTEX (whole TEE)", UNKNOWN,
			   ACCEPTED, 0 },
	[A_GET_PROTMEM_CONFIG] = { "get_protmem_config",
				   "protected-memory config", UNKNOWN, ACCEPTED,
				   0 },
	[A_CAPS_UNKNOWN_BITS] = { "caps_unknown_bits",
				  "EXCHANGE_CAPABILITIES with unknown normal-world bits",
				  A0(OPTEE_SMC_RETURN_ENOTAVAIL), NEVER, 0 },
	[A_ARG_OUTSIDE_RAM] = { "arg_outside_ram",
				"CALL_WITH_ARG at an IPA outside guest RAM",
				A0(OPTEE_SMC_RETURN_EBADADDR), ACCEPTED, 0 },
	[A_ARG_UNALIGNED] = { "arg_unaligned",
			      "CALL_WITH_ARG argument not 4 KiB aligned",
			      A0(OPTEE_SMC_RETURN_EBADADDR), NEVER, 0 },
	[A_NUM_PARAMS_128] = { "num_params_128",
			       "message with 128 parameters (> 127)",
			       A0(OPTEE_SMC_RETURN_EBADADDR), NEVER, 0 },
	[A_RPC_ARG_PAST_PAGE] = { "rpc_arg_past_page",
				  "CALL_WITH_RPC_ARG whose RPC argument leaves the page",
				  A0(OPTEE_SMC_RETURN_EBADADDR), ACCEPTED, 0 },
	[A_REGD_ARG_FORGED_COOKIE] = { "regd_arg_forged_cookie",
				       "CALL_WITH_REGD_ARG with a cookie never registered",
				       A0(OPTEE_SMC_RETURN_EBADADDR), ACCEPTED,
				       0 },
	[A_UNKNOWN_MSG_CMD] = { "unknown_msg_cmd", "message cmd 0x55",
				A0(OPTEE_SMC_RETURN_EBADCMD), NEVER, 0 },
	[A_PROTMEM_MSG_CMD] = { "protmem_msg_cmd",
				"protected-memory message cmd 8",
				A0(OPTEE_SMC_RETURN_EBADCMD), NEVER, 0 },
	[A_CONTIGUOUS_TMEM] = { "contiguous_tmem",
				"TMEM without NONCONTIG pointing into guest RAM",
				BADPARAM, ACCEPTED, 0 },
	[A_RESERVED_ATTR_BITS] = { "reserved_attr_bits",
				   "parameter attr with a reserved bit (12) set",
				   BADPARAM, NEVER, 0 },
	[A_META_OUTSIDE_OPEN] = { "meta_outside_open",
				  "META parameter in INVOKE_COMMAND", BADPARAM,
				  NEVER, 0 },
	[A_FOREIGN_PAGE_IN_LIST] = { "foreign_page_in_list",
				     "page list naming a page outside guest RAM",
				     BADPARAM, ACCEPTED, 0 },
	[A_SIZE_OVERFLOW] = { "size_overflow",
			      "NONCONTIG TMEM of size 2^64 - 4096 (offset + size wraps)",
			      BADPARAM, ACCEPTED, 0 },
	/* The mediator treats pages per buffer as a limit: OUT_OF_MEMORY. */
	[A_LIST_TOO_LONG] = { "list_too_long",
			      "one memref of 16386 pages (> pages per buffer)",
			      MSG(TEEC_ERROR_OUT_OF_MEMORY), NEVER, 0 },
	[A_PAGELIST_LOOP] = { "pagelist_loop",
			      "page list whose next pointer points to itself",
			      CLEAN, UNCLEAN, 0 },
	[A_RMEM_FORGED_COOKIE] = { "rmem_forged_cookie",
				   "RMEM with a cookie never registered",
				   BADPARAM, ACCEPTED, 0 },
	/* docs/optee-ids.md: unknown cookie in UNREGISTER_SHM: BAD_PARAMETERS,
	 * as OP-TEE 4.10 */
	[A_UNREGISTER_FORGED_COOKIE] = { "unregister_forged_cookie",
					 "UNREGISTER_SHM of a cookie never registered",
					 MSG(TEEC_ERROR_BAD_PARAMETERS),
					 ACCEPTED, 0 },
	[A_FOREIGN_SESSION] = { "foreign_session",
				"INVOKE_COMMAND on a session id not opened by us",
				BADPARAM, ACCEPTED, 0 },
	[A_RESUME_NO_CALL] = { "resume_no_call",
			       "RETURN_FROM_RPC with no call suspended (thread 0)",
			       A0(OPTEE_SMC_RETURN_ERESUME), ACCEPTED, 0 },
	[A_RESUME_OTHER_THREAD] = { "resume_other_thread",
				    "RETURN_FROM_RPC naming thread 1, not waiting for us",
				    A0(OPTEE_SMC_RETURN_ERESUME), ACCEPTED, 0 },
	[A_EXHAUST_CALLS] = { "exhaust_calls",
			      "suspend std calls in RPCs until refused",
			      A0(OPTEE_SMC_RETURN_ETHREAD_LIMIT), NEVER, 0 },
	[A_EXHAUST_SHM_BUFS] = { "exhaust_shm_bufs",
				 "register 1-page buffers until refused",
				 MSG(TEEC_ERROR_OUT_OF_MEMORY), NEVER, 0 },
	[A_EXHAUST_PINNED_PAGES] = { "exhaust_pinned_pages",
				     "register 16000-page buffers (one page aliased) until refused",
				     MSG(TEEC_ERROR_OUT_OF_MEMORY), NEVER, 0 },
	/* docs/optee-ids.md: "in use by a call in flight: BUSY" */
	[A_UNREGISTER_IN_USE] = { "unregister_in_use",
				  "UNREGISTER_SHM of the buffer holding a suspended REGD_ARG call",
				  MSG(TEEC_ERROR_BUSY), ACCEPTED, 0 },
	[A_TOCTOU_ARG] = { "toctou_arg",
			   "scribble on the argument from a second vCPU during calls",
			   CLEAN, UNCLEAN, 0 },
	[A_TOCTOU_PAGELIST] = { "toctou_pagelist",
				"scribble on page lists from a second vCPU during calls",
				CLEAN, UNCLEAN, 0 },
	/*
	 * Another guest's memory, named by address: without a mediator the
	 * TEE takes it as a PA; a mediator reads it as the attacker's IPA.
	 * The attacker reads through the invoke-tests PTA's byte sum (into
	 * its own page) and tells its own page from another.
	 */
	[A_VICTIM_PAGE_IN_LIST] = { "victim_page_in_list",
				    "temporary memref whose page list names another guest's page "
				    "(read through the PTA's byte sum)",
				    NOT_BREACHED, DETECTED, BARE },
	[A_VICTIM_PAGE_WRITTEN] = { "victim_page_written",
				    "temporary memref of another guest's page alone (the PTA writes "
				    "its byte 0)",
				    NOT_BREACHED, DETECTED, BARE },
	[A_VICTIM_PAGE_REGISTERED] = { "victim_page_registered",
				       "REGISTER_SHM over another guest's page, then a registered memref "
				       "reading it",
				       NOT_BREACHED, DETECTED, BARE },
	[A_ARG_IN_VICTIM_MEMORY] = { "arg_in_victim_memory",
				     "CALL_WITH_ARG whose argument is another guest's page",
				     NOT_BREACHED, DETECTED, BARE },
	[A_FORGED_A7_SESSION] = { "forged_a7_session",
				  "INVOKE on its own session with a7 = another guest's client id",
				  NOT_BREACHED, DETECTED, BARE },
	[A_VM_CREATED_DUPLICATE] = { "vm_created_duplicate",
				     "VM_CREATED again for another guest's live client id",
				     UNKNOWN, ACCEPTED, BARE },
};

_Static_assert(sizeof(tg_hostile_table) / sizeof(tg_hostile_table[0]) ==
		       NUM_ATTACKS,
	       "one table entry per attack id");

size_t tg_hostile_catalogue(const struct tg_attack **table)
{
	if (table)
		*table = tg_hostile_table;
	return NUM_ATTACKS;
}

/* ---- raw calls ------------------------------------------------------------ */

static bool known_a0(uint32_t a0)
{
	return a0 <= OPTEE_SMC_RETURN_ENOTAVAIL ||
	       a0 == OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
}

static void smc(struct tg_hostile_env *env, uint64_t regs[8])
{
	env->smc(env->ctx, regs);
}

/*
 * Finish a raw std call: decline every RPC (ALLOC answered with 0, others
 * resumed as they are) until the call returns. Bounded.
 */
static void raw_finish(struct tg_hostile_env *env, uint64_t regs[8])
{
	uint32_t n = 0;

	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 10000) {
		if (OPTEE_SMC_RPC_FUNC(regs[0]) == OPTEE_SMC_RPC_FUNC_ALLOC)
			regs[1] = regs[2] = regs[4] = regs[5] = 0;
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		regs[7] = env->a7;
		smc(env, regs);
	}
}

static void outcome_from_a0(struct tg_hostile_outcome *o, uint64_t a0)
{
	memset(o, 0, sizeof(*o));
	o->a0 = (uint32_t)a0;
	o->clean = known_a0(o->a0);
	o->accepted = o->a0 == OPTEE_SMC_RETURN_OK;
}

static void raw_smc_a7(struct tg_hostile_env *env, uint64_t a0, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a7,
		       struct tg_hostile_outcome *o)
{
	uint64_t regs[8] = { a0, a1, a2, a3, 0, 0, 0, a7 };

	smc(env, regs);
	raw_finish(env, regs);
	outcome_from_a0(o, regs[0]);
}

static void raw_smc(struct tg_hostile_env *env, uint64_t a0, uint64_t a1,
		    uint64_t a2, uint64_t a3, struct tg_hostile_outcome *o)
{
	raw_smc_a7(env, a0, a1, a2, a3, env->a7, o);
}

static void read_msg(const struct optee_msg_arg *arg,
		     struct tg_hostile_outcome *o)
{
	if (o->a0 == OPTEE_SMC_RETURN_OK) {
		o->msg = true;
		o->ret = arg->ret;
		o->origin = arg->ret_origin;
		o->accepted = o->ret == TEEC_SUCCESS;
	}
}

/* Send the message in env->arg (already written) with CALL_WITH_ARG. */
static void raw_msg_a7(struct tg_hostile_env *env, uint64_t a7,
		       struct tg_hostile_outcome *o)
{
	raw_smc_a7(env, OPTEE_SMC_CALL_WITH_ARG, env->arg_addr >> 32,
		   (uint32_t)env->arg_addr, 0, a7, o);
	read_msg(env->arg, o);
}

static void raw_msg(struct tg_hostile_env *env, struct tg_hostile_outcome *o)
{
	raw_msg_a7(env, env->a7, o);
}

static struct optee_msg_arg *msg_init(struct tg_hostile_env *env, uint32_t cmd,
				      uint32_t num_params)
{
	memset(env->arg, 0, PG);
	env->arg->cmd = cmd;
	env->arg->num_params = num_params;
	if (cmd == OPTEE_MSG_CMD_INVOKE_COMMAND) {
		env->arg->session = env->session;
		env->arg->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	}
	return env->arg;
}

static uint64_t *list_page(struct tg_hostile_env *env, uint64_t i)
{
	return (uint64_t *)(void *)(env->list + i * PG);
}

/* A NONCONTIG memref over @entries data pages, all the data page. */
static void list_aliased(struct tg_hostile_env *env, uint64_t entries)
{
	uint64_t i, npages = (entries + 510) / 511;

	memset(env->list, 0, (size_t)TG_HOSTILE_LIST_PAGES * PG);
	for (i = 0; i < entries; i++)
		list_page(env, i / 511)[i % 511] = env->data_addr;
	for (i = 0; i + 1 < npages; i++)
		list_page(env, i)[511] = env->list_addr + (i + 1) * PG;
}

static void tmem_param(struct optee_msg_param *p, uint64_t buf_ptr,
		       uint64_t size)
{
	p->attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	p->u.tmem.buf_ptr = buf_ptr;
	p->u.tmem.size = size;
}

static void do_id(struct tg_hostile_env *env, uint64_t id, uint64_t a1,
		  uint64_t a7, struct tg_hostile_outcome *o)
{
	raw_smc_a7(env, id, a1, 0, 0, a7, o);
}

/* ---- sessions without a driver -------------------------------------------- */

int tg_hostile_raw_open_session(struct tg_hostile_env *env,
				const uint8_t uuid[16], uint32_t *session,
				uint32_t *ret)
{
	struct optee_msg_arg *a = msg_init(env, OPTEE_MSG_CMD_OPEN_SESSION, 2);
	struct tg_hostile_outcome o;

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(a->params[0].u.octets, uuid, 16);
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
	raw_msg(env, &o);
	*ret = o.msg ? o.ret : TEEC_ERROR_COMMUNICATION;
	if (!o.msg || o.ret != TEEC_SUCCESS)
		return -1;
	*session = env->arg->session;
	return 0;
}

void tg_hostile_raw_close_session(struct tg_hostile_env *env, uint32_t session)
{
	struct optee_msg_arg *a = msg_init(env, OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	struct tg_hostile_outcome o;

	a->session = session;
	raw_msg(env, &o);
}

/* ---- registration ----------------------------------------------------------- */

static void unregister_cookie(struct tg_hostile_env *env, uint64_t cookie);

/*
 * TG_WL_CHAOS: a REGISTER_SHM answered ENOTAVAIL died with the mediator,
 * which may have committed it first. Unregister the cookie, as the driver
 * does, so that the next attempt does not find it taken.
 */
static void register_died(struct tg_hostile_env *env, uint64_t cookie,
			  const struct tg_hostile_outcome *o)
{
	if ((env->flags & TG_WL_CHAOS) && o->a0 == OPTEE_SMC_RETURN_ENOTAVAIL)
		unregister_cookie(env, cookie);
}

/* REGISTER_SHM of the list in env->list (@size bytes from @offset). */
static void register_list(struct tg_hostile_env *env, uint64_t cookie,
			  uint64_t offset, uint64_t size,
			  struct tg_hostile_outcome *o)
{
	struct optee_msg_arg *a = msg_init(env, OPTEE_MSG_CMD_REGISTER_SHM, 1);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = env->list_addr | offset;
	a->params[0].u.tmem.size = size;
	a->params[0].u.tmem.shm_ref = cookie;
	raw_msg(env, o);
	register_died(env, cookie, o);
}

/* Register @pages data pages (aliased) with @cookie. */
static void register_aliased(struct tg_hostile_env *env, uint64_t cookie,
			     uint64_t pages, struct tg_hostile_outcome *o)
{
	list_aliased(env, pages);
	register_list(env, cookie, 0, pages * PG, o);
}

static void unregister_cookie(struct tg_hostile_env *env, uint64_t cookie)
{
	struct optee_msg_arg *a =
		msg_init(env, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
	struct tg_hostile_outcome o;
	uint32_t n;

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = cookie;
	raw_msg(env, &o);
	/* TG_WL_CHAOS: the mediator died under it; a buffer left behind
	 * would make the next attempt's registration of this cookie fail */
	for (n = 0; (env->flags & TG_WL_CHAOS) &&
		    o.a0 == OPTEE_SMC_RETURN_ENOTAVAIL && n < 3;
	     n++) {
		a = msg_init(env, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		a->params[0].u.rmem.shm_ref = cookie;
		raw_msg(env, &o);
	}
}

static void exhaust_bufs(struct tg_hostile_env *env, uint64_t pages,
			 uint32_t max, struct tg_hostile_outcome *o)
{
	uint64_t base = 0x4A110000ull + (pages << 20);
	uint32_t i, n;

	for (n = 0; n < max; n++) {
		register_aliased(env, base + n, pages, o);
		if (!o->msg || o->ret != TEEC_SUCCESS)
			break;
	}
	/*
	 * The TEE itself refused a buffer with its own answer before the
	 * mediator's limit was reached (real OP-TEE maps a registered buffer
	 * into a small VA space and refuses 16000 pages with BAD_PARAMETERS,
	 * and refuses more once its guest heap runs low): the limit was not
	 * reached, so this is not an attempt.
	 */
	if (o->msg && o->ret != TEEC_SUCCESS &&
	    o->ret != TEEC_ERROR_OUT_OF_MEMORY &&
	    o->origin != TEEC_ORIGIN_COMMS)
		o->skipped = true;
	for (i = 0; i < n; i++)
		unregister_cookie(env, base + i);
}

/* A call that suspends in an RPC at once: on the yield TA or stats. */
static void suspending_call(struct tg_hostile_env *env, struct optee_msg_arg *a,
			    uint32_t session)
{
	memset(a, 0, PG);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	if (env->yield_session) {
		/* Yields with FOREIGN_INTR at once: a sure suspension. */
		a->func = MODEL_TA_YIELD_CMD_YIELD;
		a->num_params = 1;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[0].u.value.a = 2;
	} else {
		a->func = PTA_STATS_CMD_GET_TIME;
		a->num_params = 2;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	}
}

/*
 * Register a page, put a call's argument in it, suspend that call
 * (CALL_WITH_REGD_ARG) and try to unregister the page meanwhile.
 */
static void unregister_in_use(struct tg_hostile_env *env,
			      struct tg_hostile_outcome *o)
{
	const uint64_t cookie = 0x4B000001ull;
	struct tg_hostile_outcome reg;
	struct optee_msg_arg *a;
	uint64_t page, regs[8];
	void *va;

	memset(o, 0, sizeof(*o));
	va = env->page_alloc(env->ctx, &page);
	if (!va)
		return;
	memset(env->list, 0, PG);
	list_page(env, 0)[0] = page;
	register_list(env, cookie, 0, PG, &reg);
	if (!reg.msg || reg.ret != TEEC_SUCCESS) {
		*o = reg;
		env->page_free(env->ctx, va, page);
		return;
	}
	a = va;
	suspending_call(env, a,
			env->yield_session ? env->yield_session
					   : env->stats_session);
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_CALL_WITH_REGD_ARG;
	regs[1] = cookie >> 32;
	regs[2] = (uint32_t)cookie;
	regs[3] = 0;
	regs[7] = env->a7;
	smc(env, regs);
	if (OPTEE_SMC_RETURN_IS_RPC(regs[0])) {
		struct optee_msg_arg *u =
			msg_init(env, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);

		u->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		u->params[0].u.rmem.shm_ref = cookie;
		raw_msg(env, o);
		/*
		 * A TEE with 2 threads (real OP-TEE) shared by 2 guests
		 * lets each hold one call: the suspended one. The
		 * UNREGISTER_SHM could not be sent: not an attempt.
		 */
		if (o->a0 == OPTEE_SMC_RETURN_ETHREAD_LIMIT)
			o->skipped = true;
		raw_finish(env, regs);
	} else {
		o->a0 = (uint32_t)regs[0]; /* could not suspend it */
	}
	unregister_cookie(env, cookie);
	env->page_free(env->ctx, va, page);
}

/*
 * Suspend std calls in RPCs until refused. Each call gets its own session
 * (a session runs one command at a time), opened beforehand: once the
 * threads are taken, the driver itself could not open one.
 */
static void exhaust_calls(struct tg_hostile_env *env,
			  struct tg_hostile_outcome *o)
{
	uint64_t saved[TG_HOSTILE_EXHAUST_MAX][8];
	uint64_t addr[TG_HOSTILE_EXHAUST_MAX];
	void *va[TG_HOSTILE_EXHAUST_MAX];
	uint32_t sess[TG_HOSTILE_EXHAUST_MAX], nsess = 0, n, i;
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
	const uint8_t *uuid = env->yield_session ? yield_uuid : stats_uuid;
	uint32_t ret = TEEC_SUCCESS;

	memset(o, 0, sizeof(*o));
	while (nsess < TG_HOSTILE_EXHAUST_MAX &&
	       !env->open_session(env->ctx, uuid, &sess[nsess], &ret) &&
	       ret == TEEC_SUCCESS)
		nsess++;
	/* fewer sessions because the mediator died: not a fair attempt */
	o->interrupted = nsess < TG_HOSTILE_EXHAUST_MAX &&
			 ret == TEEC_ERROR_COMMUNICATION;
	if (!nsess) {
		/* the TEE opens no session (out of memory): no attempt */
		o->skipped = true;
		return;
	}
	for (n = 0; n < nsess; n++) {
		struct optee_msg_arg *a;
		uint64_t *regs = saved[n];

		va[n] = env->page_alloc(env->ctx, &addr[n]);
		if (!va[n])
			break;
		a = va[n];
		suspending_call(env, a, sess[n]);
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_CALL_WITH_ARG;
		regs[1] = addr[n] >> 32;
		regs[2] = (uint32_t)addr[n];
		regs[7] = env->a7;
		smc(env, regs);
		o->a0 = (uint32_t)regs[0];
		o->accepted = OPTEE_SMC_RETURN_IS_RPC(regs[0]);
		if (!OPTEE_SMC_RETURN_IS_RPC(regs[0])) {
			if (o->a0 == OPTEE_SMC_RETURN_OK) {
				o->msg = true;
				o->ret = a->ret;
				o->origin = a->ret_origin;
			}
			env->page_free(env->ctx, va[n], addr[n]);
			break; /* refused (or finished without an RPC) */
		}
	}
	for (i = 0; i < n; i++) {
		raw_finish(env, saved[i]);
		env->page_free(env->ctx, va[i], addr[i]);
	}
	for (i = 0; i < nsess; i++)
		env->close_session(env->ctx, sess[i]);
}

/* ---- TOCTOU: a second vCPU scribbles while the first calls --------------- */

/*
 * The scribbler races with the calls on purpose: that race is the attack.
 * Keep race detectors (TSan) out of this one function so that they keep
 * watching everything else.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TG_NO_TSAN __attribute__((no_sanitize("thread")))
#endif
#endif
#if !defined(TG_NO_TSAN) && defined(__SANITIZE_THREAD__)
#define TG_NO_TSAN __attribute__((no_sanitize_thread))
#endif
#ifndef TG_NO_TSAN
#define TG_NO_TSAN
#endif

TG_NO_TSAN void tg_hostile_scribble(struct tg_hostile_scribbler *s)
{
	/* it never traps: a thread-mode kill must be seen here */
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
	       !(s->stopped && s->stopped(s->stopped_ctx))) {
		size_t off;

		s->rng ^= s->rng << 13;
		s->rng ^= s->rng >> 7;
		s->rng ^= s->rng << 17;
		off = (size_t)(s->rng % (s->len / 8)) * 8;
		if (s->rng & 0x100)
			*(volatile uint64_t *)(void *)(s->target + off) =
				s->foreign;
		else
			s->target[off] ^= (uint8_t)(s->rng >> 24);
	}
}

static void scribble_main(void *arg)
{
	tg_hostile_scribble(arg);
}

static void toctou(struct tg_hostile_env *env, bool pagelist,
		   struct tg_hostile_outcome *o)
{
	struct tg_hostile_scribbler s = { .foreign = TG_HOSTILE_FOREIGN_ADDR,
					  .rng = 0x1234567,
					  .stopped = env->stopped,
					  .stopped_ctx = env->ctx };
	uint32_t i;
	int idx;

	memset(o, 0, sizeof(*o));
	o->clean = true;
	s.target = pagelist ? env->list : (uint8_t *)env->arg;
	s.len = pagelist ? PG : 256;
	idx = env->spawn ? env->spawn(env->ctx, scribble_main, &s) : -1;
	if (idx < 0) {
		o->skipped = true; /* no spare vCPU: not a TOCTOU attempt */
		return;
	}
	for (i = 0; i < 200; i++) {
		struct optee_msg_arg *a =
			msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		struct tg_hostile_outcome one;

		if (pagelist) {
			list_aliased(env, 2);
			tmem_param(&a->params[0], env->list_addr, 2 * PG);
		} else {
			a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
			a->params[0].u.value.a = 1;
			a->params[0].u.value.b = 2;
		}
		raw_msg(env, &one);
		if (!one.clean)
			o->clean = false;
		o->a0 = one.a0;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	env->join(env->ctx, idx);
}

/* ---- another guest's memory -------------------------------------------------- */

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint64_t victim_page(const struct tg_hostile_env *env)
{
	return env->victim_addr & ~(uint64_t)(PG - 1);
}

/*
 * The PTA summed our page's last byte and the first TG_VICTIM_READ_BYTES
 * bytes of the named page into that last byte: judge what was read.
 */
static void judge_read(struct tg_hostile_env *env, uint8_t before,
		       struct tg_hostile_outcome *o)
{
	const uint8_t *own = env->own_ptr(env->ctx, victim_page(env));
	uint8_t got = (uint8_t)(env->data[PG - 1] - before);

	if (!o->msg || o->ret != TEEC_SUCCESS)
		return;
	if (own && got == sum8(own, TG_VICTIM_READ_BYTES)) {
		/* The mediator read the address as our IPA: our own page. */
		o->why = "the address named the attacker's own page";
		return;
	}
	o->breached = true;
	o->why = got == tg_victim_canary_sum(TG_VICTIM_READ_BYTES)
			 ? "read the victim's canary"
			 : "read a page that is not the attacker's";
}

/*
 * Page list [our data page, the victim's page], the buffer starting at the
 * last byte of ours: byte 0 of the buffer (ours) becomes the 8-bit sum of
 * that byte and the victim's first bytes. Nothing of the victim's is
 * written.
 */
static void victim_page_in_list(struct tg_hostile_env *env,
				struct tg_hostile_outcome *o)
{
	struct optee_msg_arg *a =
		msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	const uint8_t before = 0x11;

	env->data[PG - 1] = before;
	memset(env->list, 0, PG);
	list_page(env, 0)[0] = env->data_addr;
	list_page(env, 0)[1] = victim_page(env);
	tmem_param(&a->params[0], env->list_addr | (PG - 1),
		   1 + TG_VICTIM_READ_BYTES);
	raw_msg(env, o);
	judge_read(env, before, o);
}

/* Register [our data page, the victim's page], then read it the same way. */
static void victim_page_registered(struct tg_hostile_env *env,
				   struct tg_hostile_outcome *o)
{
	const uint64_t cookie = 0x4C000001ull;
	const uint8_t before = 0x22;
	struct tg_hostile_outcome reg;
	struct optee_msg_arg *a;

	env->data[PG - 1] = before;
	memset(env->list, 0, PG);
	list_page(env, 0)[0] = env->data_addr;
	list_page(env, 0)[1] = victim_page(env);
	register_list(env, cookie, 0, 2 * PG, &reg);
	if (!reg.msg || reg.ret != TEEC_SUCCESS) {
		*o = reg;
		o->accepted = false;
		return;
	}
	a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.offs = PG - 1;
	a->params[0].u.rmem.size = 1 + TG_VICTIM_READ_BYTES;
	a->params[0].u.rmem.shm_ref = cookie;
	raw_msg(env, o);
	judge_read(env, before, o);
	unregister_cookie(env, cookie);
}

/*
 * The victim's page alone: the PTA writes its byte 0 (the victim sees its
 * canary change). Named address in our own RAM: only if we may write that
 * page, filled with our own pattern to recognise it.
 */
static void victim_page_written(struct tg_hostile_env *env,
				struct tg_hostile_outcome *o)
{
	struct optee_msg_arg *a;
	uint64_t v = victim_page(env);
	uint8_t *spare = NULL;
	uint8_t want = 0;

	if (env->own_ptr(env->ctx, v)) {
		spare = env->spare_ptr ? env->spare_ptr(env->ctx, v) : NULL;
		if (!spare) {
			memset(o, 0, sizeof(*o));
			o->skipped = true; /* our own page, in use */
			o->why =
				"the address is the attacker's own page in use";
			return;
		}
		memset(spare, 0x5A, TG_VICTIM_READ_BYTES);
		want = sum8(spare, TG_VICTIM_READ_BYTES);
	}
	a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	memset(env->list, 0, PG);
	list_page(env, 0)[0] = v;
	tmem_param(&a->params[0], env->list_addr, TG_VICTIM_READ_BYTES);
	raw_msg(env, o);
	if (!o->msg || o->ret != TEEC_SUCCESS)
		return;
	if (spare && spare[0] == want) {
		o->why = "the address named the attacker's own page";
		return;
	}
	o->breached = true;
	o->why = "the TEE wrote a page that is not the attacker's";
}

/*
 * The message itself at the victim's address (a page of its messages,
 * env->victim_arg_addr, when the attacker has a better guess for one).
 * Any offset in the page is kept. In our own RAM only if we
 * may write that page: a real INVOKE of our own goes there, and an answer
 * in it means the mediator took the address as our IPA.
 */
static void arg_in_victim_memory(struct tg_hostile_env *env,
				 struct tg_hostile_outcome *o)
{
	uint64_t v =
		env->victim_arg_addr ? env->victim_arg_addr : env->victim_addr;
	struct optee_msg_arg *m = NULL;

	if (env->own_ptr(env->ctx, v)) {
		m = env->spare_ptr ? env->spare_ptr(env->ctx, v) : NULL;
		if (!m) {
			memset(o, 0, sizeof(*o));
			o->skipped = true;
			o->why =
				"the address is the attacker's own page in use";
			return;
		}
		memset(m, 0, PG);
		m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
		m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
		m->session = env->session;
		m->num_params = 1;
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		m->params[0].u.value.a = 5;
		m->params[0].u.value.b = 7;
	}
	raw_smc(env, OPTEE_SMC_CALL_WITH_ARG, v >> 32, (uint32_t)v, 0, o);
	if (m) {
		if (o->a0 != OPTEE_SMC_RETURN_OK)
			return;
		if (m->ret == TEEC_SUCCESS && m->params[0].u.value.a == 12) {
			o->why = "the address named the attacker's own page";
			return;
		}
	} else if (o->a0 != OPTEE_SMC_RETURN_OK &&
		   o->a0 != OPTEE_SMC_RETURN_EBADCMD) {
		return;
	}
	/*
	 * Not our page, and the TEE read it as a message: it answered it
	 * (OK), or found no command it knows in it (EBADCMD, what OP-TEE
	 * says to another guest's data). A mediator says EBADADDR.
	 */
	o->breached = true;
	o->why = "the TEE took a page that is not the attacker's as the "
		 "argument";
}

/*
 * Our own session, a7 = the victim's client id. A mediator sets a7 itself
 * and the call works; a TEE that believes a7 looks for the session in the
 * victim's partition (BAD_PARAMETERS / ITEM_NOT_FOUND from the TEE) or
 * does not know the client (ENOTAVAIL).
 */
static void forged_a7_session(struct tg_hostile_env *env,
			      struct tg_hostile_outcome *o)
{
	struct optee_msg_arg *a =
		msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 5;
	a->params[0].u.value.b = 7;
	raw_msg_a7(env, env->victim_client, o);
	if (o->a0 == OPTEE_SMC_RETURN_ENOTAVAIL) {
		o->breached = true;
		o->why = "the TEE took a7 as the caller (unknown client)";
	} else if (o->msg && o->origin == TEEC_ORIGIN_TEE &&
		   (o->ret == TEEC_ERROR_BAD_PARAMETERS ||
		    o->ret == TEEC_ERROR_ITEM_NOT_FOUND)) {
		o->breached = true;
		o->why = "the TEE looked for the session in the victim's "
			 "partition";
	} else if (o->msg && o->ret == TEEC_SUCCESS &&
		   env->arg->params[0].u.value.a == 12) {
		o->why = "the call ran as the attacker";
	}
}

/* ---- the catalogue ---------------------------------------------------------- */

static void run_attack(struct tg_hostile_env *env, size_t i,
		       struct tg_hostile_outcome *o)
{
	struct optee_msg_arg *a;

	switch (i) {
	case A_UNKNOWN_FAST_ID:
		do_id(env, 0xB2000063u, 0, env->a7, o);
		break;
	case A_UNKNOWN_STD_ID:
		do_id(env, 0x32000063u, 0, env->a7, o);
		break;
	case A_UNKNOWN_OWNER_62:
		do_id(env, 0xBE000001u, 0, env->a7, o);
		break;
	case A_SMC64_CALL_WITH_ARG:
		raw_smc(env, OPTEE_SMC_CALL_WITH_ARG | OPTEE_SMC_64,
			env->arg_addr >> 32, (uint32_t)env->arg_addr, 0, o);
		break;
	case A_SMC64_THREAD_COUNT:
		do_id(env, OPTEE_SMC_GET_THREAD_COUNT | OPTEE_SMC_64, 0,
		      env->a7, o);
		break;
	case A_VM_CREATED:
		do_id(env, OPTEE_SMC_VM_CREATED, 0x7777, 0, o);
		break;
	case A_VM_DESTROYED:
		do_id(env, OPTEE_SMC_VM_DESTROYED, 1, 0, o);
		break;
	case A_FORGED_A7_VM_DESTROYED: /* a7 = the hypervisor */
		do_id(env, OPTEE_SMC_VM_DESTROYED, 2, 0, o);
		break;
	case A_BOOT_SECONDARY:
		do_id(env, OPTEE_SMC_BOOT_SECONDARY, 1, 0, o);
		break;
	case A_GET_SHM_CONFIG:
		do_id(env, OPTEE_SMC_GET_SHM_CONFIG, 0, env->a7, o);
		break;
	case A_L2CC_MUTEX:
		do_id(env, OPTEE_SMC_L2CC_MUTEX, 0, env->a7, o);
		break;
	case A_GET_PROTMEM_CONFIG:
		do_id(env, OPTEE_SMC_GET_PROTMEM_CONFIG, 0, env->a7, o);
		break;
	case A_CAPS_UNKNOWN_BITS:
		do_id(env, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0xFEu, env->a7, o);
		break;
	case A_ARG_OUTSIDE_RAM:
		raw_smc(env, OPTEE_SMC_CALL_WITH_ARG, 0,
			TG_HOSTILE_FOREIGN_ADDR, 0, o);
		break;
	case A_ARG_UNALIGNED:
		msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
		raw_smc(env, OPTEE_SMC_CALL_WITH_ARG, env->arg_addr >> 32,
			(uint32_t)env->arg_addr + 0x10, 0, o);
		break;
	case A_NUM_PARAMS_128:
		msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 128);
		raw_msg(env, o);
		break;
	case A_RPC_ARG_PAST_PAGE:
		msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 127);
		raw_smc(env, OPTEE_SMC_CALL_WITH_RPC_ARG, env->arg_addr >> 32,
			(uint32_t)env->arg_addr, 0, o);
		break;
	case A_REGD_ARG_FORGED_COOKIE:
		raw_smc(env, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0xDEADBEEFu, 0,
			o);
		break;
	case A_UNKNOWN_MSG_CMD:
		msg_init(env, 0x55, 0);
		raw_msg(env, o);
		break;
	case A_PROTMEM_MSG_CMD:
		msg_init(env, OPTEE_MSG_CMD_FIRST_PROTMEM, 0);
		raw_msg(env, o);
		break;
	case A_CONTIGUOUS_TMEM:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
		a->params[0].u.tmem.buf_ptr = env->data_addr;
		a->params[0].u.tmem.size = 16;
		raw_msg(env, o);
		break;
	case A_RESERVED_ATTR_BITS:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr =
			OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | (1u << 12);
		raw_msg(env, o);
		break;
	case A_META_OUTSIDE_OPEN:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr =
			OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | OPTEE_MSG_ATTR_META;
		raw_msg(env, o);
		break;
	case A_FOREIGN_PAGE_IN_LIST:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(env, 3);
		list_page(env, 0)[1] = TG_HOSTILE_FOREIGN_ADDR;
		tmem_param(&a->params[0], env->list_addr, 3 * PG);
		raw_msg(env, o);
		break;
	case A_SIZE_OVERFLOW:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(env, 2);
		tmem_param(&a->params[0], env->list_addr | 0x800,
			   0xFFFFFFFFFFFFF000ull);
		raw_msg(env, o);
		break;
	case A_LIST_TOO_LONG:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(env, 16386);
		tmem_param(&a->params[0], env->list_addr, 16386ull * PG);
		raw_msg(env, o);
		break;
	case A_PAGELIST_LOOP:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(env, 511);
		list_page(env, 0)[511] = env->list_addr;
		tmem_param(&a->params[0], env->list_addr, 1200ull * PG);
		raw_msg(env, o);
		break;
	case A_RMEM_FORGED_COOKIE:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
		a->params[0].u.rmem.size = 16;
		a->params[0].u.rmem.shm_ref = 0xDEAD0001u;
		raw_msg(env, o);
		break;
	case A_UNREGISTER_FORGED_COOKIE:
		a = msg_init(env, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		a->params[0].u.rmem.shm_ref = 0xDEAD0002u;
		raw_msg(env, o);
		break;
	case A_FOREIGN_SESSION:
		a = msg_init(env, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->session = env->session + 0x10000u;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		raw_msg(env, o);
		break;
	case A_RESUME_NO_CALL:
		raw_smc(env, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 0, o);
		break;
	case A_RESUME_OTHER_THREAD:
		raw_smc(env, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 1, o);
		break;
	case A_EXHAUST_CALLS:
		exhaust_calls(env, o);
		break;
	case A_EXHAUST_SHM_BUFS:
		exhaust_bufs(env, 1, 2048, o);
		break;
	case A_EXHAUST_PINNED_PAGES:
		exhaust_bufs(env, 16000, 64, o);
		break;
	case A_UNREGISTER_IN_USE:
		unregister_in_use(env, o);
		break;
	case A_TOCTOU_ARG:
		toctou(env, false, o);
		break;
	case A_TOCTOU_PAGELIST:
		toctou(env, true, o);
		break;
	case A_VICTIM_PAGE_IN_LIST:
		victim_page_in_list(env, o);
		break;
	case A_VICTIM_PAGE_WRITTEN:
		victim_page_written(env, o);
		break;
	case A_VICTIM_PAGE_REGISTERED:
		victim_page_registered(env, o);
		break;
	case A_ARG_IN_VICTIM_MEMORY:
		arg_in_victim_memory(env, o);
		break;
	case A_FORGED_A7_SESSION:
		forged_a7_session(env, o);
		break;
	case A_VM_CREATED_DUPLICATE: /* a7 = the hypervisor */
		do_id(env, OPTEE_SMC_VM_CREATED, env->victim_client, 0, o);
		break;
	default:
		o->skipped = true;
		break;
	}
}

void tg_hostile_attack(struct tg_hostile_env *env, size_t i,
		       struct tg_hostile_outcome *o)
{
	memset(o, 0, sizeof(*o));
	run_attack(env, i, o);
}

bool tg_hostile_as_contract(const struct tg_attack_expect *e,
			    const struct tg_hostile_outcome *o)
{
	switch (e->kind) {
	case TG_EXPECT_A0:
		return o->a0 == e->code;
	case TG_EXPECT_MSG:
		return o->msg && o->ret == e->code &&
		       (!e->origin || o->origin == e->origin);
	case TG_EXPECT_NOT_BREACHED:
		return o->clean && !o->breached;
	case TG_EXPECT_CLEAN:
	default:
		return o->clean;
	}
}

enum tg_hostile_verdict tg_hostile_verdict(const struct tg_attack *t,
					   const struct tg_hostile_outcome *o)
{
	if (o->skipped)
		return TG_VERDICT_SKIPPED;
	switch (t->breach) {
	case TG_BREACH_IF_ACCEPTED:
		if (o->accepted)
			return TG_VERDICT_BREACHED;
		break;
	case TG_BREACH_IF_UNCLEAN:
		if (!o->clean)
			return TG_VERDICT_BREACHED;
		return TG_VERDICT_REFUSED;
	case TG_BREACH_DETECTED:
		if (o->breached)
			return TG_VERDICT_BREACHED;
		return TG_VERDICT_REFUSED;
	case TG_BREACH_NEVER:
	default:
		break;
	}
	return o->accepted ? TG_VERDICT_ALLOWED : TG_VERDICT_REFUSED;
}

const char *tg_hostile_verdict_name(enum tg_hostile_verdict v)
{
	switch (v) {
	case TG_VERDICT_REFUSED:
		return "refused";
	case TG_VERDICT_ALLOWED:
		return "allowed";
	case TG_VERDICT_BREACHED:
		return "BREACHED";
	default:
		return "skipped";
	}
}
