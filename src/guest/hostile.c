// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hostile demo guest (tg_workload_hostile()): a catalogue of attacks on
 * the mediator, each with the exact refusal the mediator's contract
 * (include/teegate/mediator.h, docs) promises. SMCs are built by hand at
 * register level, bypassing the driver, and messages are written straight
 * into guest pages.
 *
 * The expected outcomes live in one table, tg_hostile_table[], so they are
 * easy to adjust and to list in tests and docs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "model_tas.h" /* the model's yield TA, when the TEE has it */

#define PG 4096u
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
#define UNKNOWN A0(OPTEE_SMC_RETURN_UNKNOWN_FUNCTION)
#define BADPARAM MSG(TEEC_ERROR_BAD_PARAMETERS)

/* Keep in the order of enum attack_id below. */
static const struct tg_attack tg_hostile_table[] = {
	{ "unknown_fast_id", "fast call 0xB2000063 (no such function)",
	  UNKNOWN },
	{ "unknown_std_id", "std call 0x32000063 (no such function)", UNKNOWN },
	{ "unknown_owner_62", "fast call of owner 62 (0xBE000001)", UNKNOWN },
	{ "smc64_call_with_arg", "CALL_WITH_ARG with the SMC64 bit", UNKNOWN },
	{ "smc64_thread_count", "GET_THREAD_COUNT with the SMC64 bit",
	  UNKNOWN },
	{ "vm_created", "hypervisor-only VM_CREATED from a guest", UNKNOWN },
	{ "vm_destroyed", "hypervisor-only VM_DESTROYED of itself", UNKNOWN },
	{ "forged_a7_vm_destroyed",
	  "VM_DESTROYED with a7 = 0 (the hypervisor's id)", UNKNOWN },
	{ "boot_secondary", "whole-TEE BOOT_SECONDARY", UNKNOWN },
	{ "get_shm_config", "static SHM config (whole TEE)", UNKNOWN },
	{ "l2cc_mutex", "L2CC_MUTEX (whole TEE)", UNKNOWN },
	{ "get_protmem_config", "protected-memory config", UNKNOWN },
	{ "caps_unknown_bits",
	  "EXCHANGE_CAPABILITIES with unknown normal-world bits",
	  A0(OPTEE_SMC_RETURN_ENOTAVAIL) },
	{ "arg_outside_ram", "CALL_WITH_ARG at an IPA outside guest RAM",
	  A0(OPTEE_SMC_RETURN_EBADADDR) },
	{ "arg_unaligned", "CALL_WITH_ARG argument not 4 KiB aligned",
	  A0(OPTEE_SMC_RETURN_EBADADDR) },
	{ "num_params_128", "message with 128 parameters (> 127)",
	  A0(OPTEE_SMC_RETURN_EBADADDR) },
	{ "rpc_arg_past_page",
	  "CALL_WITH_RPC_ARG whose RPC argument leaves the page",
	  A0(OPTEE_SMC_RETURN_EBADADDR) },
	{ "regd_arg_forged_cookie",
	  "CALL_WITH_REGD_ARG with a cookie never registered",
	  A0(OPTEE_SMC_RETURN_EBADADDR) },
	{ "unknown_msg_cmd", "message cmd 0x55", A0(OPTEE_SMC_RETURN_EBADCMD) },
	{ "protmem_msg_cmd", "protected-memory message cmd 8",
	  A0(OPTEE_SMC_RETURN_EBADCMD) },
	{ "contiguous_tmem", "TMEM without NONCONTIG pointing into guest RAM",
	  BADPARAM },
	{ "reserved_attr_bits", "parameter attr with a reserved bit (12) set",
	  BADPARAM },
	{ "meta_outside_open", "META parameter in INVOKE_COMMAND", BADPARAM },
	{ "foreign_page_in_list", "page list naming a page outside guest RAM",
	  BADPARAM },
	{ "size_overflow",
	  "NONCONTIG TMEM of size 2^64 - 4096 (offset + size wraps)",
	  BADPARAM },
	/* The mediator treats pages per buffer as a limit: OUT_OF_MEMORY. */
	{ "list_too_long", "one memref of 16386 pages (> pages per buffer)",
	  MSG(TEEC_ERROR_OUT_OF_MEMORY) },
	{ "pagelist_loop", "page list whose next pointer points to itself",
	  CLEAN },
	{ "rmem_forged_cookie", "RMEM with a cookie never registered",
	  BADPARAM },
	/* docs/optee-ids.md: unknown cookie in UNREGISTER_SHM: ITEM_NOT_FOUND */
	{ "unregister_forged_cookie",
	  "UNREGISTER_SHM of a cookie never registered",
	  MSG(TEEC_ERROR_ITEM_NOT_FOUND) },
	{ "foreign_session", "INVOKE_COMMAND on a session id not opened by us",
	  BADPARAM },
	{ "resume_no_call", "RETURN_FROM_RPC with no call suspended (thread 0)",
	  A0(OPTEE_SMC_RETURN_ERESUME) },
	{ "resume_other_thread",
	  "RETURN_FROM_RPC naming thread 1, not waiting for us",
	  A0(OPTEE_SMC_RETURN_ERESUME) },
	{ "exhaust_calls", "suspend std calls in RPCs until refused",
	  A0(OPTEE_SMC_RETURN_ETHREAD_LIMIT) },
	{ "exhaust_shm_bufs", "register 1-page buffers until refused",
	  MSG(TEEC_ERROR_OUT_OF_MEMORY) },
	{ "exhaust_pinned_pages",
	  "register 16000-page buffers (one page aliased) until refused",
	  MSG(TEEC_ERROR_OUT_OF_MEMORY) },
	/* docs/optee-ids.md: "in use by a call in flight: BUSY" */
	{ "unregister_in_use",
	  "UNREGISTER_SHM of the buffer holding a suspended REGD_ARG call",
	  MSG(TEEC_ERROR_BUSY) },
	{ "toctou_arg",
	  "scribble on the argument from a second vCPU during calls", CLEAN },
	{ "toctou_pagelist",
	  "scribble on page lists from a second vCPU during calls", CLEAN },
};

#define NUM_ATTACKS (sizeof(tg_hostile_table) / sizeof(tg_hostile_table[0]))

size_t tg_hostile_catalogue(const struct tg_attack **table)
{
	if (table)
		*table = tg_hostile_table;
	return NUM_ATTACKS;
}

static const char *a0_name(uint32_t a0)
{
	switch (a0) {
	case OPTEE_SMC_RETURN_OK:
		return "OK";
	case OPTEE_SMC_RETURN_ETHREAD_LIMIT:
		return "ETHREAD_LIMIT";
	case OPTEE_SMC_RETURN_EBUSY:
		return "EBUSY";
	case OPTEE_SMC_RETURN_ERESUME:
		return "ERESUME";
	case OPTEE_SMC_RETURN_EBADADDR:
		return "EBADADDR";
	case OPTEE_SMC_RETURN_EBADCMD:
		return "EBADCMD";
	case OPTEE_SMC_RETURN_ENOMEM:
		return "ENOMEM";
	case OPTEE_SMC_RETURN_ENOTAVAIL:
		return "ENOTAVAIL";
	case OPTEE_SMC_RETURN_UNKNOWN_FUNCTION:
		return "UNKNOWN_FUNCTION";
	default:
		return "?";
	}
}

static const char *ret_name(uint32_t ret)
{
	switch (ret) {
	case TEEC_ERROR_BAD_PARAMETERS:
		return "BAD_PARAMETERS";
	case TEEC_ERROR_OUT_OF_MEMORY:
		return "OUT_OF_MEMORY";
	case TEEC_ERROR_ITEM_NOT_FOUND:
		return "ITEM_NOT_FOUND";
	case TEEC_ERROR_BUSY:
		return "BUSY";
	case TEEC_ERROR_ACCESS_DENIED:
		return "ACCESS_DENIED";
	default:
		return "?";
	}
}

const char *tg_attack_expect_str(const struct tg_attack_expect *e, char *buf,
				 size_t len)
{
	static const char *const origins[] = { "any", "API", "COMMS", "TEE",
					       "TRUSTED_APP" };

	if (!buf || !len)
		return buf;
	switch (e->kind) {
	case TG_EXPECT_A0:
		snprintf(buf, len, "a0 = %s", a0_name(e->code));
		break;
	case TG_EXPECT_MSG:
		snprintf(buf, len, "a0 = OK, ret = %s, origin %s",
			 ret_name(e->code),
			 e->origin < 5 ? origins[e->origin] : "?");
		break;
	default:
		snprintf(buf, len, "a clean answer (no crash, known a0)");
		break;
	}
	return buf;
}

/* What one attempt got. */
struct outcome {
	uint32_t a0;
	bool msg; /* a0 == OK and ret/origin were read */
	uint32_t ret, origin;
	bool clean;   /* for TG_EXPECT_CLEAN */
	bool skipped; /* the attack could not be tried */
	bool interrupted; /* TG_WL_CHAOS: a step met a mediator death */
};

struct hctx {
	struct tg_vcpu *vcpu;
	struct tg_optee *drv;
	uint32_t session;	/* invoke-tests session */
	uint32_t stats_session; /* stats PTA session */
	uint32_t yield_session; /* the model's yield TA, or 0 */
	uint64_t arg_ipa;	/* a page for messages */
	struct optee_msg_arg *arg;
	uint64_t data_ipa; /* a data page */
	uint64_t list_ipa; /* 40 pages for page lists */
	uint8_t *list;
	uint32_t flags;
	bool setup_interrupted; /* a setup call got COMMUNICATION */
};

static const uint8_t invoke_tests_uuid[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;

#define LIST_PAGES 40u
/* An IPA that is no guest RAM on any platform of ours (below 1 GiB). */
#define FOREIGN_IPA 0x1000ull

static bool known_a0(uint32_t a0)
{
	return a0 <= OPTEE_SMC_RETURN_ENOTAVAIL ||
	       a0 == OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
}

/*
 * Finish a raw std call: decline every RPC (ALLOC answered with 0, others
 * resumed as they are) until the call returns. Bounded.
 */
static void raw_finish(struct hctx *h, uint64_t regs[8])
{
	uint32_t n = 0;

	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 10000) {
		if (OPTEE_SMC_RPC_FUNC(regs[0]) == OPTEE_SMC_RPC_FUNC_ALLOC)
			regs[1] = regs[2] = regs[4] = regs[5] = 0;
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		tg_smc(h->vcpu, regs);
	}
}

static void raw_smc(struct hctx *h, uint64_t a0, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a7, struct outcome *o)
{
	uint64_t regs[8] = { a0, a1, a2, a3, 0, 0, 0, a7 };

	tg_smc(h->vcpu, regs);
	raw_finish(h, regs);
	memset(o, 0, sizeof(*o));
	o->a0 = (uint32_t)regs[0];
	o->clean = known_a0(o->a0);
}

/* Send the message in h->arg (already written) with CALL_WITH_ARG. */
static void raw_msg(struct hctx *h, struct outcome *o)
{
	raw_smc(h, OPTEE_SMC_CALL_WITH_ARG, h->arg_ipa >> 32,
		(uint32_t)h->arg_ipa, 0, 0, o);
	if (o->a0 == OPTEE_SMC_RETURN_OK) {
		o->msg = true;
		o->ret = h->arg->ret;
		o->origin = h->arg->ret_origin;
	}
}

static struct optee_msg_arg *msg_init(struct hctx *h, uint32_t cmd,
				      uint32_t num_params)
{
	memset(h->arg, 0, PG);
	h->arg->cmd = cmd;
	h->arg->num_params = num_params;
	if (cmd == OPTEE_MSG_CMD_INVOKE_COMMAND) {
		h->arg->session = h->session;
		h->arg->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	}
	return h->arg;
}

/* A NONCONTIG memref over @entries data pages, all the data page. */
static void list_aliased(struct hctx *h, uint64_t entries)
{
	uint64_t i, npages = (entries + 510) / 511;

	memset(h->list, 0, (size_t)LIST_PAGES * PG);
	for (i = 0; i < entries; i++)
		((uint64_t *)(void *)(h->list + (i / 511) * PG))[i % 511] =
			h->data_ipa;
	for (i = 0; i + 1 < npages; i++)
		*(uint64_t *)(void *)(h->list + i * PG + 4088) =
			h->list_ipa + (i + 1) * PG;
}

static void tmem_param(struct optee_msg_param *p, uint64_t buf_ptr,
		       uint64_t size)
{
	p->attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	p->u.tmem.buf_ptr = buf_ptr;
	p->u.tmem.size = size;
}

static void do_id(struct hctx *h, uint64_t id, uint64_t a1, uint64_t a7,
		  struct outcome *o)
{
	raw_smc(h, id, a1, 0, 0, a7, o);
}

static void unregister_cookie(struct hctx *h, uint64_t cookie);

/*
 * TG_WL_CHAOS: a REGISTER_SHM answered ENOTAVAIL died with the mediator,
 * which may have committed it first. Unregister the cookie, as the driver
 * does, so that the next attempt does not find it taken.
 */
static void register_died(struct hctx *h, uint64_t cookie,
			  const struct outcome *o)
{
	if ((h->flags & TG_WL_CHAOS) && o->a0 == OPTEE_SMC_RETURN_ENOTAVAIL)
		unregister_cookie(h, cookie);
}

/* Register @pages data pages (aliased) with @cookie; 1 = refused. */
static void register_aliased(struct hctx *h, uint64_t cookie, uint64_t pages,
			     struct outcome *o)
{
	struct optee_msg_arg *a = msg_init(h, OPTEE_MSG_CMD_REGISTER_SHM, 1);

	list_aliased(h, pages);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = h->list_ipa;
	a->params[0].u.tmem.size = pages * PG;
	a->params[0].u.tmem.shm_ref = cookie;
	raw_msg(h, o);
	register_died(h, cookie, o);
}

static void unregister_cookie(struct hctx *h, uint64_t cookie)
{
	struct optee_msg_arg *a = msg_init(h, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
	struct outcome o;
	uint32_t n;

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = cookie;
	raw_msg(h, &o);
	/* TG_WL_CHAOS: the mediator died under it; a buffer left behind
	 * would make the next attempt's registration of this cookie fail */
	for (n = 0; (h->flags & TG_WL_CHAOS) &&
		    o.a0 == OPTEE_SMC_RETURN_ENOTAVAIL && n < 3;
	     n++) {
		a = msg_init(h, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		a->params[0].u.rmem.shm_ref = cookie;
		raw_msg(h, &o);
	}
}

static void exhaust_bufs(struct hctx *h, uint64_t pages, uint32_t max,
			 struct outcome *o)
{
	uint64_t base = 0x4A110000ull + (pages << 20);
	uint32_t i, n;

	for (n = 0; n < max; n++) {
		register_aliased(h, base + n, pages, o);
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
		unregister_cookie(h, base + i);
}

/*
 * Register a page, put a call's argument in it, suspend that call
 * (CALL_WITH_REGD_ARG) and try to unregister the page meanwhile.
 */
static void unregister_in_use(struct hctx *h, struct outcome *o)
{
	const uint64_t cookie = 0x4B000001ull;
	struct optee_msg_arg *a;
	uint64_t page, regs[8];
	struct outcome reg;

	memset(o, 0, sizeof(*o));
	if (tg_alloc_pages(h->vcpu, 1, &page))
		return;
	a = tg_ipa_ptr(h->vcpu, page);
	memset(h->list, 0, PG);
	((uint64_t *)(void *)h->list)[0] = page;
	a = msg_init(h, OPTEE_MSG_CMD_REGISTER_SHM, 1);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = h->list_ipa;
	a->params[0].u.tmem.size = PG;
	a->params[0].u.tmem.shm_ref = cookie;
	raw_msg(h, &reg);
	register_died(h, cookie, &reg);
	if (!reg.msg || reg.ret != TEEC_SUCCESS) {
		*o = reg;
		tg_free_pages(h->vcpu, page, 1);
		return;
	}
	a = tg_ipa_ptr(h->vcpu, page);
	memset(a, 0, PG);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	if (h->yield_session) {
		a->session = h->yield_session;
		a->func = MODEL_TA_YIELD_CMD_YIELD;
		a->num_params = 1;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[0].u.value.a = 2;
	} else {
		a->session = h->stats_session;
		a->func = PTA_STATS_CMD_GET_TIME;
		a->num_params = 2;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	}
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_CALL_WITH_REGD_ARG;
	regs[1] = cookie >> 32;
	regs[2] = (uint32_t)cookie;
	regs[3] = 0;
	tg_smc(h->vcpu, regs);
	if (OPTEE_SMC_RETURN_IS_RPC(regs[0])) {
		struct optee_msg_arg *u =
			msg_init(h, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);

		u->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		u->params[0].u.rmem.shm_ref = cookie;
		raw_msg(h, o);
		/*
		 * A TEE with 2 threads (real OP-TEE) shared by 2 guests
		 * lets each hold one call: the suspended one. The
		 * UNREGISTER_SHM could not be sent: not an attempt.
		 */
		if (o->a0 == OPTEE_SMC_RETURN_ETHREAD_LIMIT)
			o->skipped = true;
		raw_finish(h, regs);
	} else {
		o->a0 = (uint32_t)regs[0]; /* could not suspend it */
	}
	unregister_cookie(h, cookie);
	tg_free_pages(h->vcpu, page, 1);
}

/*
 * Suspend std calls in RPCs until refused. Each call gets its own session
 * (a session runs one command at a time), opened beforehand: once the
 * threads are taken, the driver itself could not open one.
 */
#define EXHAUST_MAX 16u

static void exhaust_calls(struct hctx *h, struct outcome *o)
{
	uint64_t saved[EXHAUST_MAX][8], ipa[EXHAUST_MAX];
	uint32_t sess[EXHAUST_MAX], nsess = 0, n, i;
	const uint8_t *uuid = h->yield_session ? yield_uuid : stats_uuid;
	struct tg_optee_result res;

	memset(o, 0, sizeof(*o));
	while (nsess < EXHAUST_MAX &&
	       !tg_optee_open_session(h->drv, uuid, 0, NULL, 0, NULL, 0,
				      &sess[nsess], &res) &&
	       res.ret == TEEC_SUCCESS)
		nsess++;
	/* fewer sessions because the mediator died: not a fair attempt */
	o->interrupted = nsess < EXHAUST_MAX &&
			 res.ret == TEEC_ERROR_COMMUNICATION;
	if (!nsess) {
		/* the TEE opens no session (out of memory): no attempt */
		o->skipped = true;
		return;
	}
	for (n = 0; n < nsess; n++) {
		struct optee_msg_arg *a;
		uint64_t *regs = saved[n];

		if (tg_alloc_pages(h->vcpu, 1, &ipa[n]))
			break;
		a = tg_ipa_ptr(h->vcpu, ipa[n]);
		memset(a, 0, PG);
		a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
		a->session = sess[n];
		if (h->yield_session) {
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
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_CALL_WITH_ARG;
		regs[1] = ipa[n] >> 32;
		regs[2] = (uint32_t)ipa[n];
		tg_smc(h->vcpu, regs);
		o->a0 = (uint32_t)regs[0];
		if (!OPTEE_SMC_RETURN_IS_RPC(regs[0])) {
			if (o->a0 == OPTEE_SMC_RETURN_OK) {
				o->msg = true;
				o->ret = a->ret;
				o->origin = a->ret_origin;
			}
			tg_free_pages(h->vcpu, ipa[n], 1);
			break; /* refused (or finished without an RPC) */
		}
	}
	for (i = 0; i < n; i++) {
		raw_finish(h, saved[i]);
		tg_free_pages(h->vcpu, ipa[i], 1);
	}
	for (i = 0; i < nsess; i++)
		tg_optee_close_session(h->drv, sess[i], NULL);
}

/* ---- TOCTOU: a second vCPU scribbles while the first calls ------------- */

struct scribbler {
	volatile uint8_t *target;
	size_t len;
	uint64_t foreign;
	int stop;
	uint64_t rng;
};

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

TG_NO_TSAN static void scribble_main(struct tg_vcpu *vcpu, void *arg)
{
	struct scribbler *s = arg;

	/* it never traps: a thread-mode kill must be seen here */
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
	       !tg_vcpu_killed(vcpu)) {
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

static void toctou(struct hctx *h, bool pagelist, struct outcome *o)
{
	struct scribbler s = { .foreign = FOREIGN_IPA, .rng = 0x1234567 };
	uint32_t i;
	int idx;

	memset(o, 0, sizeof(*o));
	o->clean = true;
	s.target = pagelist ? h->list : (uint8_t *)h->arg;
	s.len = pagelist ? PG : 256;
	idx = tg_vcpu_spawn(h->vcpu, scribble_main, &s);
	if (idx < 0) {
		o->skipped = true; /* no spare vCPU: not a TOCTOU attempt */
		return;
	}
	for (i = 0; i < 200; i++) {
		struct optee_msg_arg *a =
			msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		struct outcome one;

		if (pagelist) {
			list_aliased(h, 2);
			tmem_param(&a->params[0], h->list_ipa, 2 * PG);
		} else {
			a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
			a->params[0].u.value.a = 1;
			a->params[0].u.value.b = 2;
		}
		raw_msg(h, &one);
		if (!one.clean)
			o->clean = false;
		o->a0 = one.a0;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	tg_vcpu_join(h->vcpu, idx);
}

/* ---- the catalogue ----------------------------------------------------- */

static void run_attack(struct hctx *h, size_t i, struct outcome *o)
{
	const char *name = tg_hostile_table[i].name;
	struct optee_msg_arg *a;

	memset(o, 0, sizeof(*o));
	if (!strcmp(name, "unknown_fast_id"))
		do_id(h, 0xB2000063u, 0, 0, o);
	else if (!strcmp(name, "unknown_std_id"))
		do_id(h, 0x32000063u, 0, 0, o);
	else if (!strcmp(name, "unknown_owner_62"))
		do_id(h, 0xBE000001u, 0, 0, o);
	else if (!strcmp(name, "smc64_call_with_arg"))
		raw_smc(h, OPTEE_SMC_CALL_WITH_ARG | OPTEE_SMC_64,
			h->arg_ipa >> 32, (uint32_t)h->arg_ipa, 0, 0, o);
	else if (!strcmp(name, "smc64_thread_count"))
		do_id(h, OPTEE_SMC_GET_THREAD_COUNT | OPTEE_SMC_64, 0, 0, o);
	else if (!strcmp(name, "vm_created"))
		do_id(h, OPTEE_SMC_VM_CREATED, 0x7777, 0, o);
	else if (!strcmp(name, "vm_destroyed"))
		do_id(h, OPTEE_SMC_VM_DESTROYED, 1, 0, o);
	else if (!strcmp(name, "forged_a7_vm_destroyed"))
		do_id(h, OPTEE_SMC_VM_DESTROYED, 2, 0 /* a7 = hypervisor */, o);
	else if (!strcmp(name, "boot_secondary"))
		do_id(h, OPTEE_SMC_BOOT_SECONDARY, 1, 0, o);
	else if (!strcmp(name, "get_shm_config"))
		do_id(h, OPTEE_SMC_GET_SHM_CONFIG, 0, 0, o);
	else if (!strcmp(name, "l2cc_mutex"))
		do_id(h, OPTEE_SMC_L2CC_MUTEX, 0, 0, o);
	else if (!strcmp(name, "get_protmem_config"))
		do_id(h, OPTEE_SMC_GET_PROTMEM_CONFIG, 0, 0, o);
	else if (!strcmp(name, "caps_unknown_bits"))
		do_id(h, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0xFEu, 0, o);
	else if (!strcmp(name, "arg_outside_ram"))
		raw_smc(h, OPTEE_SMC_CALL_WITH_ARG, 0, FOREIGN_IPA, 0, 0, o);
	else if (!strcmp(name, "arg_unaligned")) {
		msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
		raw_smc(h, OPTEE_SMC_CALL_WITH_ARG, h->arg_ipa >> 32,
			(uint32_t)h->arg_ipa + 0x10, 0, 0, o);
	} else if (!strcmp(name, "num_params_128")) {
		msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 128);
		raw_msg(h, o);
	} else if (!strcmp(name, "rpc_arg_past_page")) {
		msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 127);
		raw_smc(h, OPTEE_SMC_CALL_WITH_RPC_ARG, h->arg_ipa >> 32,
			(uint32_t)h->arg_ipa, 0, 0, o);
	} else if (!strcmp(name, "regd_arg_forged_cookie"))
		raw_smc(h, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0xDEADBEEFu, 0, 0,
			o);
	else if (!strcmp(name, "unknown_msg_cmd")) {
		msg_init(h, 0x55, 0);
		raw_msg(h, o);
	} else if (!strcmp(name, "protmem_msg_cmd")) {
		msg_init(h, OPTEE_MSG_CMD_FIRST_PROTMEM, 0);
		raw_msg(h, o);
	} else if (!strcmp(name, "contiguous_tmem")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
		a->params[0].u.tmem.buf_ptr = h->data_ipa;
		a->params[0].u.tmem.size = 16;
		raw_msg(h, o);
	} else if (!strcmp(name, "reserved_attr_bits")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr =
			OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | (1u << 12);
		raw_msg(h, o);
	} else if (!strcmp(name, "meta_outside_open")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr =
			OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | OPTEE_MSG_ATTR_META;
		raw_msg(h, o);
	} else if (!strcmp(name, "foreign_page_in_list")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(h, 3);
		((uint64_t *)(void *)h->list)[1] = FOREIGN_IPA;
		tmem_param(&a->params[0], h->list_ipa, 3 * PG);
		raw_msg(h, o);
	} else if (!strcmp(name, "size_overflow")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(h, 2);
		tmem_param(&a->params[0], h->list_ipa | 0x800,
			   0xFFFFFFFFFFFFF000ull);
		raw_msg(h, o);
	} else if (!strcmp(name, "list_too_long")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(h, 16386);
		tmem_param(&a->params[0], h->list_ipa, 16386ull * PG);
		raw_msg(h, o);
	} else if (!strcmp(name, "pagelist_loop")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		list_aliased(h, 511);
		*(uint64_t *)(void *)(h->list + 4088) = h->list_ipa;
		tmem_param(&a->params[0], h->list_ipa, 1200ull * PG);
		raw_msg(h, o);
	} else if (!strcmp(name, "rmem_forged_cookie")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
		a->params[0].u.rmem.size = 16;
		a->params[0].u.rmem.shm_ref = 0xDEAD0001u;
		raw_msg(h, o);
	} else if (!strcmp(name, "unregister_forged_cookie")) {
		a = msg_init(h, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		a->params[0].u.rmem.shm_ref = 0xDEAD0002u;
		raw_msg(h, o);
	} else if (!strcmp(name, "foreign_session")) {
		a = msg_init(h, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->session = h->session + 0x10000u;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		raw_msg(h, o);
	} else if (!strcmp(name, "resume_no_call"))
		raw_smc(h, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 0, 0, o);
	else if (!strcmp(name, "resume_other_thread"))
		raw_smc(h, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 1, 0, o);
	else if (!strcmp(name, "exhaust_calls"))
		exhaust_calls(h, o);
	else if (!strcmp(name, "exhaust_shm_bufs"))
		exhaust_bufs(h, 1, 2048, o);
	else if (!strcmp(name, "exhaust_pinned_pages"))
		exhaust_bufs(h, 16000, 64, o);
	else if (!strcmp(name, "unregister_in_use"))
		unregister_in_use(h, o);
	else if (!strcmp(name, "toctou_arg"))
		toctou(h, false, o);
	else if (!strcmp(name, "toctou_pagelist"))
		toctou(h, true, o);
}

static bool refused(const struct tg_attack_expect *e, const struct outcome *o)
{
	switch (e->kind) {
	case TG_EXPECT_A0:
		return o->a0 == e->code;
	case TG_EXPECT_MSG:
		return o->msg && o->ret == e->code &&
		       (!e->origin || o->origin == e->origin);
	case TG_EXPECT_CLEAN:
	default:
		return o->clean;
	}
}

static int setup(struct hctx *h)
{
	struct tg_optee_result res;
	uint32_t tries = 0;
	void *va;

	/*
	 * TG_WL_CHAOS: a fast call of the driver's probe can meet a mediator
	 * death (ENOTAVAIL); the probe after the restart tells that from a
	 * TEE that is not there.
	 */
	while (tg_optee_get(h->vcpu, &h->drv)) {
		if (!(h->flags & TG_WL_CHAOS) || ++tries > 3)
			return -1;
	}
	if (tries)
		__atomic_fetch_add(&tg_guest_counters(h->vcpu)->interrupted, 1,
				   __ATOMIC_RELAXED);
	if (tg_alloc_pages(h->vcpu, 1, &h->arg_ipa) ||
	    !(va = tg_ipa_ptr(h->vcpu, h->arg_ipa)))
		return -1;
	h->arg = va;
	if (tg_alloc_pages(h->vcpu, 1, &h->data_ipa))
		return -1;
	if (tg_alloc_pages(h->vcpu, LIST_PAGES, &h->list_ipa) ||
	    !(h->list = tg_ipa_ptr(h->vcpu, h->list_ipa)))
		return -1;
	if (tg_optee_open_session(h->drv, invoke_tests_uuid, 0, NULL, 0, NULL,
				  0, &h->session, &res) ||
	    res.ret != TEEC_SUCCESS) {
		h->setup_interrupted = res.ret == TEEC_ERROR_COMMUNICATION;
		return -1;
	}
	if (tg_optee_open_session(h->drv, stats_uuid, 0, NULL, 0, NULL, 0,
				  &h->stats_session, &res) ||
	    res.ret != TEEC_SUCCESS) {
		h->setup_interrupted = res.ret == TEEC_ERROR_COMMUNICATION;
		return -1;
	}
	if (tg_optee_open_session(h->drv, yield_uuid, 0, NULL, 0, NULL, 0,
				  &h->yield_session, &res) ||
	    res.ret != TEEC_SUCCESS)
		h->yield_session = 0;
	return 0;
}

static void teardown(struct hctx *h)
{
	if (h->drv) {
		if (h->yield_session)
			tg_optee_close_session(h->drv, h->yield_session, NULL);
		if (h->stats_session)
			tg_optee_close_session(h->drv, h->stats_session, NULL);
		if (h->session)
			tg_optee_close_session(h->drv, h->session, NULL);
		tg_optee_put(h->drv);
	}
	if (h->list)
		tg_free_pages(h->vcpu, h->list_ipa, LIST_PAGES);
	if (h->data_ipa)
		tg_free_pages(h->vcpu, h->data_ipa, 1);
	if (h->arg)
		tg_free_pages(h->vcpu, h->arg_ipa, 1);
}

int tg_workload_hostile(struct tg_vcpu *vcpu,
			const struct tg_hostile_opts *opts)
{
	struct tg_guest_counters *c;
	struct hctx h;
	uint32_t rounds, r;
	int not_refused = 0;
	size_t i;

	if (!vcpu)
		return -1;
	c = tg_guest_counters(vcpu);
	memset(&h, 0, sizeof(h));
	h.vcpu = vcpu;
	h.flags = opts ? opts->flags : 0;
	if (opts && opts->results)
		memset(opts->results, 0,
		       NUM_ATTACKS * sizeof(opts->results[0]));
	if (setup(&h)) {
		/* TG_WL_CHAOS: the mediator died under the setup */
		__atomic_fetch_add((h.flags & TG_WL_CHAOS) &&
						   h.setup_interrupted
					   ? &c->interrupted
					   : &c->errors,
				   1, __ATOMIC_RELAXED);
		teardown(&h);
		return -1;
	}
	rounds = opts && opts->rounds ? opts->rounds : 1;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NUM_ATTACKS; i++) {
			const struct tg_attack *t = &tg_hostile_table[i];
			struct outcome o;
			bool ok;

			if (opts && opts->only && strcmp(opts->only, t->name))
				continue;
			__atomic_store_n(&c->phase, (uint32_t)i,
					 __ATOMIC_RELAXED);
			run_attack(&h, i, &o);
			if (o.skipped) {
				/* Neither refused nor passed: not counted. */
				if (opts && opts->results)
					opts->results[i].skipped++;
				continue;
			}
			ok = refused(&t->expect, &o);
			if (!ok && (h.flags & TG_WL_CHAOS) &&
			    (o.interrupted ||
			     o.a0 == OPTEE_SMC_RETURN_ENOTAVAIL)) {
				/* The mediator died under the attack (it
				 * was killed on purpose): not tried to its
				 * end; the next round tries it again. */
				__atomic_fetch_add(&c->interrupted, 1,
						   __ATOMIC_RELAXED);
				if (h.flags & TG_WL_VERBOSE)
					fprintf(stderr, "hostile: %-26s interrupted (mediator killed)\n",
						t->name);
				continue;
			}
			__atomic_fetch_add(ok ? &c->attacks_refused
					      : &c->attacks_passed,
					   1, __ATOMIC_RELAXED);
			if (!ok)
				not_refused++;
			if (opts && opts->results) {
				struct tg_attack_result *res =
					&opts->results[i];

				if (ok)
					res->refused++;
				else
					res->passed++;
				res->a0 = o.a0;
				res->ret = o.ret;
				res->origin = o.origin;
			}
			if (h.flags & TG_WL_VERBOSE)
				fprintf(stderr,
					"hostile: %-26s %-8s a0=0x%x ret=0x%x origin=%u\n",
					t->name, ok ? "refused" : "PASSED",
					o.a0, o.ret, o.origin);
		}
	}
	teardown(&h);
	return not_refused;
}
