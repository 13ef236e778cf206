// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness: sequences of guest SMCs and guest memory contents,
 * for several domains at once, through the mediator into the OP-TEE
 * model. The input is a little program:
 *
 *   op 0  SMC: guest, function id (from a table or raw), registers
 *   op 1  answer the guest's pending RPC (or a forged handle)
 *   op 2  poke bytes into guest memory
 *   op 3  write a structured message (cmd, TA command, params)
 *   op 4  write a page list (valid, looping, foreign, unaligned)
 *   op 5  destroy a domain (mid-call or not) and create it again
 *
 * Every page the TEE touches is checked by the oracle in fuzz_env.c, and
 * the end of each input checks that nothing leaked; both abort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/optee_abi.h>

#include "fuzz_env.h"

#define PAGE 4096u

static const uint32_t fids[] = {
	OPTEE_SMC_CALLS_COUNT,	      OPTEE_SMC_CALLS_UID,
	OPTEE_SMC_CALLS_REVISION,     OPTEE_SMC_GET_OS_UUID,
	OPTEE_SMC_GET_OS_REVISION,    OPTEE_SMC_CALL_RETURN_FROM_RPC,
	OPTEE_SMC_CALL_WITH_ARG,      OPTEE_SMC_GET_SHM_CONFIG,
	OPTEE_SMC_L2CC_MUTEX,	      OPTEE_SMC_EXCHANGE_CAPABILITIES,
	OPTEE_SMC_DISABLE_SHM_CACHE,  OPTEE_SMC_ENABLE_SHM_CACHE,
	OPTEE_SMC_BOOT_SECONDARY,     OPTEE_SMC_VM_CREATED,
	OPTEE_SMC_VM_DESTROYED,	      OPTEE_SMC_GET_THREAD_COUNT,
	OPTEE_SMC_ENABLE_ASYNC_NOTIF, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE,
	OPTEE_SMC_CALL_WITH_RPC_ARG,  OPTEE_SMC_CALL_WITH_REGD_ARG,
	OPTEE_SMC_GET_PROTMEM_CONFIG, OPTEE_SMC_CALL_WITH_ARG,
	OPTEE_SMC_CALL_WITH_RPC_ARG,  OPTEE_SMC_CALL_WITH_ARG,
};
#define NFIDS (sizeof(fids) / sizeof(fids[0]))

static const uint8_t uuids[][16] = {
	PTA_INVOKE_TESTS_UUID,
	PTA_STATS_UUID,
	PTA_DEVICE_ENUM_UUID,
	{ 0x74, 0x67, 0x62, 0x6d, 0x00, 0x01, 0x40, 0x00, 0x80, 0x00, 0x74,
	  0x65, 0x65, 0x67, 0x61, 0x74 }, /* model bigbuf */
	{ 0x74, 0x67, 0x62, 0x6d, 0x00, 0x02, 0x40, 0x00, 0x80, 0x00, 0x74,
	  0x65, 0x65, 0x67, 0x61, 0x74 }, /* model yield */
	{ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, /* absent */
};

static const uint64_t attrs[] = {
	OPTEE_MSG_ATTR_TYPE_NONE,
	OPTEE_MSG_ATTR_TYPE_VALUE_INPUT,
	OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT,
	OPTEE_MSG_ATTR_TYPE_VALUE_INOUT,
	OPTEE_MSG_ATTR_TYPE_RMEM_INPUT,
	OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT,
	OPTEE_MSG_ATTR_TYPE_RMEM_INOUT,
	OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG,
	OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG,
	OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG,
	OPTEE_MSG_ATTR_TYPE_TMEM_INOUT,
	OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT,
	OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG,
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

struct guest_state {
	uint64_t last[8]; /* what the guest saw last */
};

/* FZ_TRACE=1 prints every SMC and its answer (to read a seed or crash). */
static void trace(uint32_t g, const uint64_t in[8], const uint64_t out[8])
{
	static int on = -1;

	if (on < 0)
		on = getenv("FZ_TRACE") != NULL;
	if (on)
		fprintf(stderr,
			"guest %u: a0=%#llx a1=%#llx a2=%#llx a3=%#llx -> "
			"a0=%#llx a1=%#llx a2=%#llx a3=%#llx\n",
			g, (unsigned long long)in[0], (unsigned long long)in[1],
			(unsigned long long)in[2], (unsigned long long)in[3],
			(unsigned long long)out[0], (unsigned long long)out[1],
			(unsigned long long)out[2], (unsigned long long)out[3]);
}

static uint64_t page_ipa(uint32_t page)
{
	return FZ_IPA_BASE + (uint64_t)(page % FZ_GUEST_PAGES) * PAGE;
}

/* An address: mostly the guest's own pages, sometimes anything. */
static uint64_t some_ipa(struct fz_in *in)
{
	uint8_t how = fz_u8(in);

	switch (how % 8) {
	case 0:
		return fz_u64(in); /* raw */
	case 1:
		return page_ipa(fz_u8(in)) + fz_u8(in); /* unaligned */
	case 2:
		return FZ_PA_BASE + (uint64_t)fz_u32(in) * PAGE; /* a "PA" */
	default:
		return page_ipa(fz_u8(in) % 32);
	}
}

static void op_smc(struct fz_env *e, struct guest_state *gs, struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;
	uint8_t sel = fz_u8(in);
	uint64_t r[8], in_regs[8], ipa;
	uint32_t fid;
	unsigned int i;

	if (sel < 200)
		fid = fids[sel % NFIDS];
	else if (sel < 220)
		fid = fids[sel % NFIDS] | OPTEE_SMC_64;
	else
		fid = fz_u32(in);
	memset(r, 0, sizeof(r));
	r[0] = fid | ((uint64_t)(sel == 255) << 40);
	if (fid == OPTEE_SMC_CALL_WITH_ARG ||
	    fid == OPTEE_SMC_CALL_WITH_RPC_ARG) {
		ipa = some_ipa(in);
		r[1] = ipa >> 32;
		r[2] = ipa & 0xFFFFFFFFu;
	} else if (fid == OPTEE_SMC_CALL_WITH_REGD_ARG) {
		r[2] = fz_u8(in) % 8; /* cookie */
		r[3] = fz_u8(in) * 8u;
	} else {
		for (i = 1; i < 7; i++)
			r[i] = (fz_u8(in) & 1) ? fz_u64(in) : 0;
	}
	r[7] = fz_u8(in); /* forged a7: must not matter */
	if (!e->live[g])
		return;
	memcpy(in_regs, r, sizeof(r));
	tg_handle_smc(e->med, fz_client(g), g, r);
	trace(g, in_regs, r);
	memcpy(gs[g].last, r, sizeof(r));
}

static void op_answer(struct fz_env *e, struct guest_state *gs,
		      struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;
	uint8_t how = fz_u8(in);
	uint64_t r[8] = { OPTEE_SMC_CALL_RETURN_FROM_RPC }, in_regs[8];
	uint64_t ipa = page_ipa(32 + fz_u8(in) % 64) + (how & 0x80 ? 8 : 0);
	uint8_t cookie = fz_u8(in) % 4;

	/* Fields are read whatever the state, so programs stay in step. */
	r[3] = how & 1 ? fz_u32(in) : gs[g].last[3];
	if (OPTEE_SMC_RPC_FUNC(gs[g].last[0]) == OPTEE_SMC_RPC_FUNC_ALLOC &&
	    !(how & 2)) {
		r[1] = ipa >> 32;
		r[2] = ipa & 0xFFFFFFFFu;
		r[5] = cookie;
	} else {
		r[1] = gs[g].last[1];
		r[2] = gs[g].last[2];
	}
	if (!e->live[g])
		return;
	memcpy(in_regs, r, sizeof(r));
	tg_handle_smc(e->med, fz_client(g), g, r);
	trace(g, in_regs, r);
	memcpy(gs[g].last, r, sizeof(r));
}

static void op_poke(struct fz_env *e, struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;
	uint64_t ipa = page_ipa(fz_u8(in)) + (fz_u32(in) % PAGE);
	uint32_t len = fz_u8(in) % 64, i;
	uint8_t *p;

	for (i = 0; i < len; i++) {
		p = fz_guest_ptr(e, g, ipa + i);
		if (p)
			*p = fz_u8(in);
	}
}

static void op_msg(struct fz_env *e, struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;
	struct optee_msg_arg *a = fz_guest_ptr(e, g, page_ipa(fz_u8(in) % 16));
	uint32_t n = fz_u8(in) % 8, i;

	memset(a, 0, OPTEE_MSG_GET_ARG_SIZE(n));
	a->cmd = fz_u8(in) % 10;
	a->func = fz_u8(in) % 16; /* the TA command */
	a->num_params = n;
	a->session = fz_u8(in) % 8;
	for (i = 0; i < n; i++) {
		struct optee_msg_param *p = &a->params[i];
		uint8_t sel = fz_u8(in);

		p->attr = sel < 250 ? attrs[sel % NATTRS] : fz_u64(in);
		if (a->cmd == OPTEE_MSG_CMD_OPEN_SESSION && i < 2)
			p->attr = OPTEE_MSG_ATTR_META |
				  OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		if (a->cmd == OPTEE_MSG_CMD_OPEN_SESSION && i == 0) {
			memcpy(&p->u.value, uuids[fz_u8(in) % 6], 16);
			continue;
		}
		switch (fz_u8(in) % 4) {
		case 0: /* a memref into a list page with an offset */
			p->u.tmem.buf_ptr = page_ipa(16 + fz_u8(in) % 16) |
					    (fz_u8(in) * 16u % PAGE);
			p->u.tmem.size = (uint64_t)fz_u8(in) * 4096 + fz_u8(in);
			break;
		case 1: /* a registered-memory window */
			p->u.rmem.offs = fz_u8(in);
			p->u.rmem.size = (uint64_t)fz_u8(in) * 64;
			break;
		case 2:
			p->u.value.a = fz_u64(in);
			p->u.value.b = fz_u64(in);
			break;
		default:
			break;
		}
		p->u.tmem.shm_ref = fz_u8(in) % 8;
	}
}

static void op_list(struct fz_env *e, struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;
	uint32_t first = 16 + fz_u8(in) % 16;
	uint32_t npages = fz_u8(in) * 8u + fz_u8(in) % 8;
	uint32_t data = 64 + fz_u8(in) % 128;
	uint8_t mode = fz_u8(in);
	uint32_t k;

	for (k = 0; k < npages && k < 1100; k++) {
		uint64_t lp = page_ipa(first + k / 511);
		uint64_t *list = fz_guest_ptr(e, g, lp);

		list[k % 511] = page_ipa(data + k);
		if (k % 511 == 0) {
			switch (mode % 6) {
			case 0:
				list[511] = lp; /* loops */
				break;
			case 1:
				list[511] = FZ_PA_BASE + PAGE; /* foreign */
				break;
			case 2:
				list[511] = lp + PAGE + 8; /* unaligned */
				break;
			default:
				list[511] = lp + PAGE;
				break;
			}
		}
		if (mode == 7 && k == npages / 2)
			list[k % 511] = FZ_PA_BASE + (uint64_t)k * PAGE;
	}
}

static void op_restart(struct fz_env *e, struct guest_state *gs,
		       struct fz_in *in)
{
	uint32_t g = fz_u8(in) % FZ_GUESTS;

	fz_destroy_domain(e, g);
	memset(&gs[g], 0, sizeof(gs[g]));
	if (fz_u8(in) & 1)
		fz_create_domain(e, g, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct guest_state gs[FZ_GUESTS];
	struct fz_env *e;
	uint32_t steps = 0;

	memset(gs, 0, sizeof(gs));
	e = fz_env_create(fz_u8(&in) % 50, fz_u64(&in), NULL);
	while (in.n && steps++ < 256) {
		switch (fz_u8(&in) % 6) {
		case 0:
			op_smc(e, gs, &in);
			break;
		case 1:
			op_answer(e, gs, &in);
			break;
		case 2:
			op_poke(e, &in);
			break;
		case 3:
			op_msg(e, &in);
			break;
		case 4:
			op_list(e, &in);
			break;
		default:
			op_restart(e, gs, &in);
			break;
		}
	}
	fz_env_destroy(e);
	return 0;
}
