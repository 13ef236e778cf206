// SPDX-License-Identifier: BSD-2-Clause
/*
 * The image's cost mode (tg.mode=cost): a known sequence of OP-TEE calls,
 * each kind made from its own call site (tg_img_cost_call), for the oracle
 * plugin's per-call counting (tg-oracle.so,ranges=) to count the mediator's instructions per kind of call:
 *
 *   fast        GET_OS_REVISION
 *   invoke4     INVOKE of the invoke-tests PTA with 4 values (3 in, 1 out)
 *   reg1..reg512  REGISTER_SHM of 1, 16, 128, 512 pages (then unregister)
 *   rpc_call    the stats PTA's GET_TIME, whose RPCs are answered as
 *               Linux does: ALLOC with a page of ours (rpc_alloc_ret), the
 *               GET_TIME command in it (rpc_cmd_ret), FREE (rpc_free_ret)
 *
 * Each kind runs tg.reps times (default 10). Every answer is checked.
 * Output: TG-COST NAME kind=K calls=N ok=N ..., TG-COST-END NAME failed=N.
 */
#include <string.h>

#include <teegate/optee_abi.h>

#include "image.h"

#define PG 4096u
#define MAX_REG 512u

static uint8_t cpages[8][PG]
	__attribute__((aligned(PG), section(".bss.pages")));
/* cpages[0]: messages; [1]: aliased data; [2..3]: page list (512 + next);
 * [4..7]: RPC buffers */
#define ARG ((struct optee_msg_arg *)(void *)cpages[0])
#define RPC_FIRST 4u
#define RPC_PAGES 4u

static const struct tg_cost_opts *O;
static uint64_t failed;
static uint8_t rpc_used[RPC_PAGES];
static uint64_t rpc_cookie[RPC_PAGES];
static uint64_t rpc_counts[4];

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void line(const char *kind, uint64_t calls, uint64_t ok)
{
	tg_puts("TG-COST ");
	tg_puts(O->name);
	tg_puts(" kind=");
	tg_puts(kind);
	tg_puts(" calls=");
	tg_put_dec(calls);
	tg_puts(" ok=");
	tg_put_dec(ok);
}

/* A std call from @site; RPCs answered from their own sites. Returns a0. */
static uint32_t std_call(unsigned int site, uint64_t arg)
{
	uint64_t r[8] = { OPTEE_SMC_CALL_WITH_ARG,
			  arg >> 32,
			  (uint32_t)arg,
			  0,
			  0,
			  0,
			  0,
			  O->client };
	uint32_t n = 0;

	tg_img_cost_call(r, site);
	while (OPTEE_SMC_RETURN_IS_RPC(r[0]) && n++ < 1000) {
		uint32_t func = OPTEE_SMC_RPC_FUNC(r[0]), i;
		uint64_t cookie = r[1] << 32 | (uint32_t)r[2];
		unsigned int ret_site = TG_SITE_RPC_OTHER_RET;

		if (func == OPTEE_SMC_RPC_FUNC_ALLOC) {
			r[1] = r[2] = r[4] = r[5] = 0;
			for (i = 0; i < RPC_PAGES && rpc_used[i]; i++)
				;
			if (i < RPC_PAGES && r[1] <= PG) {
				uint64_t a = addr(cpages[RPC_FIRST + i]);

				rpc_used[i] = 1;
				rpc_cookie[i] = 0xC057000ull + i;
				r[1] = a >> 32;
				r[2] = (uint32_t)a;
				r[4] = rpc_cookie[i] >> 32;
				r[5] = (uint32_t)rpc_cookie[i];
			}
			ret_site = TG_SITE_RPC_ALLOC_RET;
			rpc_counts[0]++;
		} else if (func == OPTEE_SMC_RPC_FUNC_FREE) {
			for (i = 0; i < RPC_PAGES; i++)
				if (rpc_used[i] && rpc_cookie[i] == cookie)
					rpc_used[i] = 0;
			ret_site = TG_SITE_RPC_FREE_RET;
			rpc_counts[2]++;
		} else if (func == OPTEE_SMC_RPC_FUNC_CMD) {
			struct optee_msg_arg *m = NULL;

			for (i = 0; i < RPC_PAGES; i++)
				if (rpc_used[i] && rpc_cookie[i] == cookie)
					m = (struct optee_msg_arg *)(void *)
						cpages[RPC_FIRST + i];
			if (m && m->cmd == OPTEE_RPC_CMD_GET_TIME &&
			    m->num_params >= 1) {
				m->params[0].u.value.a = 1700000000u + n;
				m->params[0].u.value.b = 0;
				m->ret = TEEC_SUCCESS;
			} else if (m) {
				m->ret = TEEC_ERROR_NOT_IMPLEMENTED;
			}
			ret_site = TG_SITE_RPC_CMD_RET;
			rpc_counts[1]++;
		} else {
			rpc_counts[3]++;
		}
		r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		r[7] = O->client;
		tg_img_cost_call(r, ret_site);
	}
	return (uint32_t)r[0];
}

static struct optee_msg_arg *msg(uint32_t cmd, uint32_t session, uint32_t func,
				 uint32_t nparams)
{
	memset(ARG, 0, PG);
	ARG->cmd = cmd;
	ARG->session = session;
	ARG->func = func;
	ARG->num_params = nparams;
	return ARG;
}

static uint32_t open_session(const uint8_t uuid[16])
{
	struct optee_msg_arg *m = msg(OPTEE_MSG_CMD_OPEN_SESSION, 0, 0, 2);

	m->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(m->params[0].u.octets, uuid, 16);
	m->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	if (std_call(TG_SITE_OPEN, addr(ARG)) || m->ret)
		return 0;
	return m->session;
}

static void close_session(uint32_t s)
{
	msg(OPTEE_MSG_CMD_CLOSE_SESSION, s, 0, 0);
	std_call(TG_SITE_CLOSE, addr(ARG));
}

static void fast(void)
{
	uint64_t i, ok = 0;

	for (i = 0; i < O->reps; i++) {
		uint64_t r[8] = {
			OPTEE_SMC_GET_OS_REVISION, 0, 0, 0, 0, 0, 0, O->client
		};

		tg_img_cost_call(r, TG_SITE_FAST);
		ok += (uint32_t)r[0] == 4 && (uint32_t)r[1] == 10;
	}
	line("fast", O->reps, ok);
	tg_puts("\n");
	failed += O->reps - ok;
}

static void invoke4(uint32_t session)
{
	uint64_t i, ok = 0;

	for (i = 0; i < O->reps; i++) {
		struct optee_msg_arg *m =
			msg(OPTEE_MSG_CMD_INVOKE_COMMAND, session,
			    PTA_INVOKE_TESTS_CMD_PARAMS, 4);
		uint32_t k;

		for (k = 0; k < 3; k++) {
			m->params[k].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
			m->params[k].u.value.a = k + 1 + i;
			m->params[k].u.value.b = 10 * (k + 1);
		}
		m->params[3].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		ok += !std_call(TG_SITE_INVOKE4, addr(m)) && !m->ret &&
		      m->params[3].u.value.a == 6 + 3 * i &&
		      m->params[3].u.value.b == 60;
	}
	line("invoke4", O->reps, ok);
	tg_puts("\n");
	failed += O->reps - ok;
}

/* REGISTER_SHM of @pages pages, then UNREGISTER_SHM; 1 when both worked. */
static int reg_once(uint32_t pages, unsigned int site, uint64_t cookie)
{
	uint64_t *list = (uint64_t *)(void *)cpages[2];
	struct optee_msg_arg *m;
	uint32_t i, ok;

	memset(cpages[2], 0, 2 * PG);
	for (i = 0; i < pages; i++) {
		uint64_t page = O->bufs ? addr(O->bufs + (uint64_t)i * PG)
					: addr(cpages[1]);

		list[i < 511 ? i : i + 1] = page; /* slot 511: next pointer */
	}
	list[511] = addr(cpages[3]);
	m = msg(OPTEE_MSG_CMD_REGISTER_SHM, 0, 0, 1);
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	m->params[0].u.tmem.buf_ptr = addr(cpages[2]);
	m->params[0].u.tmem.size = (uint64_t)pages * PG;
	m->params[0].u.tmem.shm_ref = cookie;
	ok = !std_call(site, addr(m)) && !m->ret;
	if (!ok)
		return 0;
	m = msg(OPTEE_MSG_CMD_UNREGISTER_SHM, 0, 0, 1);
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	m->params[0].u.rmem.shm_ref = cookie;
	return !std_call(TG_SITE_UNREGISTER, addr(m)) && !m->ret;
}

static void reg(const char *kind, uint32_t pages, unsigned int site,
		bool counts)
{
	uint64_t i, ok = 0;

	for (i = 0; i < O->reps; i++)
		ok += (uint64_t)reg_once(pages, site, 0xC0570000ull + pages);
	line(kind, O->reps, ok);
	tg_puts(" pages=");
	tg_put_dec(pages);
	tg_puts("\n");
	if (counts)
		failed += O->reps - ok;
}

static void rpc(uint32_t session)
{
	uint64_t i, ok = 0;

	memset(rpc_counts, 0, sizeof(rpc_counts));
	for (i = 0; i < O->reps; i++) {
		struct optee_msg_arg *m =
			msg(OPTEE_MSG_CMD_INVOKE_COMMAND, session,
			    PTA_STATS_CMD_GET_TIME, 2);

		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		m->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		ok += !std_call(TG_SITE_RPC_CALL, addr(m)) && !m->ret &&
		      m->params[0].u.value.a >= 1700000000u;
	}
	line("rpc", O->reps, ok);
	tg_puts(" alloc=");
	tg_put_dec(rpc_counts[0]);
	tg_puts(" cmd=");
	tg_put_dec(rpc_counts[1]);
	tg_puts(" free=");
	tg_put_dec(rpc_counts[2]);
	tg_puts(" other=");
	tg_put_dec(rpc_counts[3]);
	tg_puts("\n");
	failed += O->reps - ok;
}

uint64_t tg_cost_run(const struct tg_cost_opts *o)
{
	static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
	static const uint8_t stats[16] = PTA_STATS_UUID;
	uint32_t s_inv, s_stats;

	O = o;
	failed = 0;
	tg_puts("TG-COST-BEGIN ");
	tg_puts(o->name);
	tg_puts(" reps=");
	tg_put_dec(o->reps);
	tg_puts(o->bufs ? " buffers=distinct\n" : " buffers=aliased\n");
	s_inv = open_session(invoke_tests);
	s_stats = open_session(stats);
	if (!s_inv || !s_stats) {
		tg_puts("TG-COST-FAILED ");
		tg_puts(o->name);
		tg_puts(" cannot open the invoke-tests and stats PTAs\n");
		return 1;
	}
	fast();
	invoke4(s_inv);
	reg("reg1", 1, TG_SITE_REG1, true);
	reg("reg16", 16, TG_SITE_REG16, true);
	reg("reg128", 128, TG_SITE_REG128, true);
	/* beyond Xen's 129 pages: reported, not a failure */
	reg("reg512", MAX_REG, TG_SITE_REG512, false);
	rpc(s_stats);
	close_session(s_inv);
	close_session(s_stats);
	tg_puts("TG-COST-END ");
	tg_puts(o->name);
	tg_puts(" failed=");
	tg_put_dec(failed);
	tg_puts("\n");
	return failed;
}
