// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest-side helpers of the adversarial suite (see attacks.h).
 */
#include <string.h>

#include "attacks.h"
#include "model_tas.h"

static const uint8_t invoke_tests_uuid[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;

static int open_one(struct atk *a, const uint8_t uuid[16], uint32_t *s)
{
	struct tg_optee_result res;

	if (tg_optee_open_session(a->drv, uuid, 0, NULL, 0, NULL, 0, s, &res) ||
	    res.ret != TEEC_SUCCESS)
		return -1;
	return 0;
}

int atk_init(struct atk *a, struct tg_vcpu *v)
{
	struct tg_optee_config cfg = { .no_async_notif = true,
				       .no_shm_cache = true };

	memset(a, 0, sizeof(*a));
	a->v = v;
	if (tg_optee_probe(v, &cfg, &a->drv))
		goto fail;
	if (tg_alloc_pages(v, 1, &a->arg_ipa) ||
	    tg_alloc_pages(v, 1, &a->data_ipa) ||
	    tg_alloc_pages(v, ATK_LIST_PAGES, &a->list_ipa))
		goto fail;
	a->arg = tg_ipa_ptr(v, a->arg_ipa);
	a->data = tg_ipa_ptr(v, a->data_ipa);
	a->list = tg_ipa_ptr(v, a->list_ipa);
	if (open_one(a, invoke_tests_uuid, &a->s_tests) ||
	    open_one(a, stats_uuid, &a->s_stats) ||
	    open_one(a, yield_uuid, &a->s_yield))
		goto fail;
	return 0;
fail:
	tg_guest_counters(v)->errors++;
	return -1;
}

void atk_fini(struct atk *a)
{
	if (!a->drv)
		return;
	if (a->s_yield)
		tg_optee_close_session(a->drv, a->s_yield, NULL);
	if (a->s_stats)
		tg_optee_close_session(a->drv, a->s_stats, NULL);
	if (a->s_tests)
		tg_optee_close_session(a->drv, a->s_tests, NULL);
	tg_optee_remove(a->drv);
	a->drv = NULL;
}

struct optee_msg_arg *atk_msg(struct atk *a, uint32_t cmd, uint32_t n)
{
	memset(a->arg, 0, PG);
	a->arg->cmd = cmd;
	a->arg->num_params = n;
	if (cmd == OPTEE_MSG_CMD_INVOKE_COMMAND) {
		a->arg->session = a->s_tests;
		a->arg->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	}
	return a->arg;
}

void atk_finish(struct atk *a, uint64_t regs[8])
{
	uint32_t n = 0;

	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 100000) {
		if (OPTEE_SMC_RPC_FUNC(regs[0]) == OPTEE_SMC_RPC_FUNC_ALLOC)
			regs[1] = regs[2] = regs[4] = regs[5] = 0;
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		tg_smc(a->v, regs);
	}
}

void atk_smc(struct atk *a, uint64_t a0, uint64_t a1, uint64_t a2,
	     uint64_t a3, uint64_t a7, struct ans *o)
{
	memset(o, 0, sizeof(*o));
	o->regs[0] = a0;
	o->regs[1] = a1;
	o->regs[2] = a2;
	o->regs[3] = a3;
	o->regs[7] = a7;
	tg_smc(a->v, o->regs);
	atk_finish(a, o->regs);
	o->a0 = (uint32_t)o->regs[0];
}

void atk_call_at(struct atk *a, uint32_t fid, uint64_t ipa, struct ans *o)
{
	atk_smc(a, fid, ipa >> 32, (uint32_t)ipa, 0, 0, o);
}

void atk_send(struct atk *a, struct ans *o)
{
	atk_call_at(a, OPTEE_SMC_CALL_WITH_ARG, a->arg_ipa, o);
	if (o->a0 == OPTEE_SMC_RETURN_OK) {
		o->ret = a->arg->ret;
		o->origin = a->arg->ret_origin;
	}
}

void atk_list(struct atk *a, uint32_t entries)
{
	uint32_t i, npages = (entries + 510) / 511;

	memset(a->list, 0, (size_t)ATK_LIST_PAGES * PG);
	for (i = 0; i < entries && i < ATK_LIST_PAGES * 511; i++)
		((uint64_t *)(void *)(a->list + (i / 511) * PG))[i % 511] =
			a->data_ipa;
	for (i = 0; i + 1 < npages && i + 1 < ATK_LIST_PAGES; i++)
		*(uint64_t *)(void *)(a->list + i * PG + 4088) =
			a->list_ipa + (i + 1) * PG;
}

void atk_tmem(struct optee_msg_param *p, uint64_t buf_ptr, uint64_t size)
{
	p->attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	p->u.tmem.buf_ptr = buf_ptr;
	p->u.tmem.size = size;
}

void atk_register(struct atk *a, uint64_t ipa, uint32_t pages,
		  uint64_t cookie, struct ans *o)
{
	struct optee_msg_arg *m = atk_msg(a, OPTEE_MSG_CMD_REGISTER_SHM, 1);
	uint32_t i;

	memset(a->list, 0, PG);
	for (i = 0; i < pages && i < 511; i++)
		((uint64_t *)(void *)a->list)[i] = ipa + (uint64_t)i * PG;
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	m->params[0].u.tmem.buf_ptr = a->list_ipa;
	m->params[0].u.tmem.size = (uint64_t)pages * PG;
	m->params[0].u.tmem.shm_ref = cookie;
	atk_send(a, o);
}

void atk_unregister(struct atk *a, uint64_t cookie, struct ans *o)
{
	struct optee_msg_arg *m = atk_msg(a, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);

	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	m->params[0].u.rmem.shm_ref = cookie;
	atk_send(a, o);
}

uint32_t atk_yield_start(struct atk *a, uint64_t ipa, uint32_t session,
			 uint32_t n, uint64_t regs[8])
{
	struct optee_msg_arg *m = tg_ipa_ptr(a->v, ipa);

	memset(m, 0, PG);
	m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	m->session = session;
	m->func = MODEL_TA_YIELD_CMD_YIELD;
	m->num_params = 1;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	m->params[0].u.value.a = n;
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = OPTEE_SMC_CALL_WITH_ARG;
	regs[1] = ipa >> 32;
	regs[2] = (uint32_t)ipa;
	tg_smc(a->v, regs);
	return (uint32_t)regs[0];
}

void atk_resume(struct atk *a, uint32_t handle, uint64_t regs[8])
{
	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	regs[3] = handle;
	tg_smc(a->v, regs);
}

/* ---- the scribbler ------------------------------------------------------ */

struct scribbler {
	volatile uint8_t *p;
	uint32_t len;
	uint64_t foreign;
	int stop;
};

static struct scribbler scr;

/*
 * The scribbler races with the calls on purpose: that race is the attack.
 * Keep race detectors out of this one function.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ADV_NO_TSAN __attribute__((no_sanitize("thread")))
#endif
#endif
#if !defined(ADV_NO_TSAN) && defined(__SANITIZE_THREAD__)
#define ADV_NO_TSAN __attribute__((no_sanitize_thread))
#endif
#ifndef ADV_NO_TSAN
#define ADV_NO_TSAN
#endif

ADV_NO_TSAN static void scribble_main(struct tg_vcpu *v, void *arg)
{
	struct scribbler *s = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	(void)v;
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		uint32_t off;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		off = (uint32_t)(rng % (s->len / 8)) * 8;
		if (rng & 0x100)
			*(volatile uint64_t *)(void *)(s->p + off) =
				s->foreign;
		else
			s->p[off + ((rng >> 9) & 7)] ^= (uint8_t)(rng >> 24);
	}
}

int atk_scribble_start(struct atk *a, void *p, uint32_t len,
		       uint64_t foreign)
{
	scr.p = p;
	scr.len = len;
	scr.foreign = foreign;
	scr.stop = 0;
	return tg_vcpu_spawn(a->v, scribble_main, &scr);
}

void atk_scribble_stop(struct atk *a, int idx)
{
	__atomic_store_n(&scr.stop, 1, __ATOMIC_RELAXED);
	if (idx >= 0)
		tg_vcpu_join(a->v, idx);
}
