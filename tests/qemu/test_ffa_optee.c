// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest's FF-A transport and the FF-A mediator against a real OP-TEE
 * 4.10 S-EL1 SPMC in QEMU (TF-A SPD=spmd SPMD_SPM_AT_SEL2=0, OP-TEE
 * CFG_CORE_SEL1_SPMC=y CFG_NS_VIRTUALIZATION=y), through the relay.
 *
 * The loopback guest environment (tests/guest/loopback.c) built with
 * LB_QEMU puts guests and the mediator's memory in QEMU's RAM; with
 * LB_MEDIATED the FF-A mediator (src/ffa) is between them and the SPMC,
 * otherwise a pass-through FF-A hypervisor. Run with
 * TEEGATE_OPTEE_FIRMWARE=DIR (an FF-A firmware directory); skipped (77)
 * without it. The same client code as against the model, minus the
 * model's own TAs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>
#include <teegate/workload.h>

#include "fw_protocol.h"
#include "drv_fixture.h"

static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t absent[16] = { 0x7e, 0x57, 0xda, 0x7a, 0, 0, 0x40, 0,
				    0x80, 0, 1, 2, 3, 4, 5, 6 };

static int setup_cfg(void **state, const struct tg_optee_config *cfg)
{
	return fx_setup(state, 64, cfg);
}

static int setup(void **state)
{
	struct tg_optee_config cfg = { .transport = TG_OPTEE_TRANSPORT_FFA };

	return setup_cfg(state, &cfg);
}

static int setup_scattered(void **state)
{
	/*
	 * Every page its own constituent: 1024 of them go in 4 fragments
	 * of a 1-page TX. Through the mediator OP-TEE 4.10 gets them in one
	 * message (it refuses fragments); without it, they would fail.
	 */
	struct tg_optee_config cfg = { .transport = TG_OPTEE_TRANSPORT_FFA,
				       .ffa_max_run_pages = 1 };

	return setup_cfg(state, &cfg);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = 0;

	tg_optee_remove(f->drv);
	if (lb_guest_pages_used(f->g) != f->pages_before)
		rc = -1;
#ifdef LB_MEDIATED
	if (lb_guest_pins(f->g))
		rc = -1;
#endif
	lb_guest_destroy(f->g);
	free(f);
	return rc;
}

static uint32_t open_ta(struct fx *f, const uint8_t uuid[16], uint32_t *s,
			uint32_t *origin)
{
	struct tg_optee_result res;

	assert_int_equal(tg_optee_open_session(f->drv, uuid,
					       OPTEE_MSG_LOGIN_PUBLIC, NULL, 1,
					       NULL, 0, s, &res),
			 TG_OK);
	if (origin)
		*origin = res.origin;
	return res.ret;
}

static void test_probe_finds_optee_40_10_over_ffa(void **state)
{
	struct fx *f = *state;
	const struct tg_optee_info *i = tg_optee_info(f->drv);

	printf("# FF-A %u.%u, VM id %u, OP-TEE partition %#x, OP-TEE %u.%u, "
	       "caps %#x, %u RPC params, async notif %d\n",
	       FFA_VERSION_MAJOR(i->ffa_version),
	       FFA_VERSION_MINOR(i->ffa_version), i->ffa_id, i->ffa_optee_id,
	       i->rev_major, i->rev_minor, i->sec_caps, i->rpc_param_count,
	       i->async_notif);
	assert_true(i->ffa);
	assert_true(i->ffa_version >= FFA_VERSION_1_1);
	assert_int_equal(i->ffa_id, 1);
	assert_true(FFA_ID_IS_SECURE(i->ffa_optee_id));
	assert_int_equal(i->rev_major, 4);
	assert_true(i->rpc_param_count >= 2);
}

static void test_values_and_memrefs(void **state)
{
	struct fx *f = *state;
	struct tg_optee_param p[1];
	struct tg_optee_result res;
	struct tg_optee_shm *reg, *tmp;
	uint32_t session;
	uint8_t *b, want;

	assert_int_equal(open_ta(f, invoke_tests, &session, NULL),
			 TEEC_SUCCESS);
	memset(p, 0, sizeof(p));
	p[0].type = TG_OPTEE_PARAM_VALUE_INOUT;
	p[0].u.value.a = 40;
	p[0].u.value.b = 2;
	assert_int_equal(tg_optee_invoke(f->drv, session,
					 PTA_INVOKE_TESTS_CMD_PARAMS, 2, p, 1,
					 &res),
			 TG_OK);
	assert_int_equal(res.ret, TEEC_SUCCESS);
	assert_int_equal(p[0].u.value.a, 42);

	assert_int_equal(tg_optee_shm_alloc(f->drv, 3 * 4096, true, &reg,
					    NULL),
			 TG_OK);
	b = reg->va;
	for (int i = 0; i < 5000; i++)
		b[4096 + i] = (uint8_t)(i * 7);
	want = lb_sum8(b + 4096, 5000);
	memset(p, 0, sizeof(p));
	p[0].type = TG_OPTEE_PARAM_MEMREF_INOUT;
	p[0].u.memref.shm = reg;
	p[0].u.memref.offs = 4096;
	p[0].u.memref.size = 5000;
	assert_int_equal(tg_optee_invoke(f->drv, session,
					 PTA_INVOKE_TESTS_CMD_PARAMS, 3, p, 1,
					 &res),
			 TG_OK);
	assert_int_equal(res.ret, TEEC_SUCCESS);
	assert_int_equal(b[4096], want);

	assert_int_equal(tg_optee_shm_alloc(f->drv, 8192, false, &tmp, NULL),
			 TG_OK);
	b = tmp->va;
	for (int i = 0; i < 300; i++)
		b[100 + i] = (uint8_t)(i + 1);
	want = lb_sum8(b + 100, 300);
	p[0].u.memref.shm = tmp;
	p[0].u.memref.offs = 100;
	p[0].u.memref.size = 300;
	assert_int_equal(tg_optee_invoke(f->drv, session,
					 PTA_INVOKE_TESTS_CMD_PARAMS, 4, p, 1,
					 &res),
			 TG_OK);
	assert_int_equal(res.ret, TEEC_SUCCESS);
	assert_int_equal(b[100], want);
	assert_int_equal(tg_optee_close_session(f->drv, session, &res), TG_OK);
	assert_int_equal(tg_optee_shm_free(reg), TG_OK);
	assert_int_equal(tg_optee_shm_free(tmp), TG_OK);
}

static void test_a_scattered_4mib_buffer_in_fragments(void **state)
{
	struct fx *f = *state;
	const size_t size = 4u << 20;
	struct tg_optee_param p[1];
	struct tg_optee_result res;
	struct tg_optee_shm *shm;
	struct tg_optee_stats st;
	uint32_t session;
	uint8_t *b, want;

	assert_int_equal(open_ta(f, invoke_tests, &session, NULL),
			 TEEC_SUCCESS);
#ifndef LB_MEDIATED
	/* OP-TEE 4.10 alone refuses any fragmented share. */
	assert_int_equal(tg_optee_shm_alloc(f->drv, size, true, &shm, NULL),
			 TG_EPROTO);
	assert_int_equal(tg_optee_close_session(f->drv, session, &res),
			 TG_OK);
	(void)p;
	(void)st;
	(void)b;
	(void)want;
	printf("# a fragmented share: refused by OP-TEE 4.10 alone\n");
	return;
#endif
	assert_int_equal(tg_optee_shm_alloc(f->drv, size, true, &shm, NULL),
			 TG_OK);
	tg_optee_get_stats(f->drv, &st);
	assert_true(st.ffa_fragments >= 4);
	b = shm->va;
	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(i * 13 + (i >> 12));
	want = lb_sum8(b, size);
	memset(p, 0, sizeof(p));
	p[0].type = TG_OPTEE_PARAM_MEMREF_INOUT;
	p[0].u.memref.shm = shm;
	p[0].u.memref.size = size;
	assert_int_equal(tg_optee_invoke(f->drv, session,
					 PTA_INVOKE_TESTS_CMD_PARAMS, 5, p, 1,
					 &res),
			 TG_OK);
	assert_int_equal(res.ret, TEEC_SUCCESS);
	assert_int_equal(b[0], want);
	assert_int_equal(tg_optee_close_session(f->drv, session, &res), TG_OK);
	assert_int_equal(tg_optee_shm_free(shm), TG_OK);
}

static void test_absent_ta_goes_through_the_rpcs(void **state)
{
	struct fx *f = *state;
	struct tg_optee_stats st;
	uint32_t session, origin = 0;

	assert_int_equal(open_ta(f, absent, &session, &origin),
			 TEEC_ERROR_ITEM_NOT_FOUND);
	tg_optee_get_stats(f->drv, &st);
	printf("# absent TA: %llu SHM_ALLOC, %llu FS, %llu LOAD_TA, %llu SHM_FREE RPCs\n",
	       (unsigned long long)st.rpc_cmd[OPTEE_RPC_CMD_SHM_ALLOC],
	       (unsigned long long)st.rpc_cmd[OPTEE_RPC_CMD_FS],
	       (unsigned long long)st.rpc_cmd[OPTEE_RPC_CMD_LOAD_TA],
	       (unsigned long long)st.rpc_cmd[OPTEE_RPC_CMD_SHM_FREE]);
	assert_true(st.rpc_cmd[OPTEE_RPC_CMD_LOAD_TA] >= 1);
	assert_int_equal(st.rpc_cmd[OPTEE_RPC_CMD_SHM_ALLOC],
			 st.rpc_cmd[OPTEE_RPC_CMD_SHM_FREE]);
	assert_int_equal(st.rpc_bad, 0);
}

static void test_teec_client_code(void **state)
{
	struct fx *f = *state;
	TEEC_Context ctx;
	TEEC_Session s;
	TEEC_Operation op;
	TEEC_UUID uuid = { 0xd96a5b40, 0xc3e5, 0x21e3,
			   { 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6,
			     0x1b } };
	uint8_t buf[777];
	uint32_t origin;

	(void)f;
	assert_int_equal(TEEC_InitializeContext(NULL, &ctx), TEEC_SUCCESS);
	assert_int_equal(TEEC_OpenSession(&ctx, &s, &uuid, TEEC_LOGIN_PUBLIC,
					  NULL, NULL, &origin),
			 TEEC_SUCCESS);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = sizeof(buf);
	{
		uint8_t want = lb_sum8(buf, sizeof(buf));

		assert_int_equal(TEEC_InvokeCommand(&s, 1, &op, &origin),
				 TEEC_SUCCESS);
		assert_int_equal(buf[0], want);
	}
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
}

static void test_hostile_ffa_table(void **state)
{
	struct fx *f = *state;
	struct tg_attack_result res[64];
	struct tg_hostile_opts o = { .results = res };
	const struct tg_attack *t;
	size_t n = tg_hostile_ffa_catalogue(&t), i;
	int passed;

#ifndef LB_MEDIATED
	/*
	 * Without the mediator the table would let a guest give OP-TEE 4.10
	 * a 65th share and then a reclaim that panics it (see
	 * docs/real-optee.md): not tried on the real one.
	 */
	(void)f;
	(void)res;
	(void)o;
	(void)t;
	(void)n;
	(void)i;
	(void)passed;
	printf("# hostile table: only through the mediator on real OP-TEE\n");
	return;
#endif
	passed = tg_workload_hostile(f->vcpu, &o);
	for (i = 0; i < n; i++) {
		char buf[96];

		printf("  %-28s %-11s a0=0x%x code=0x%x (expect %s)\n",
		       t[i].name,
		       res[i].refused	? "refused"
		       : res[i].skipped ? "skipped"
					: "NOT refused",
		       res[i].a0, res[i].ret,
		       tg_attack_expect_str(&t[i].expect, buf, sizeof(buf)));
	}
	assert_int_equal(passed, 0);
}

static void test_two_guests(void **state)
{
	struct fx *f = *state;
	struct lb_guest *g2 = lb_guest_create(2, 32);
	struct tg_optee_config cfg = { .transport = TG_OPTEE_TRANSPORT_FFA };
	struct tg_optee *d2;
	struct tg_optee_param p[1];
	struct tg_optee_result res;
	uint32_t s2;

	assert_non_null(g2);
	assert_int_equal(tg_optee_probe(lb_guest_enter(g2), &cfg, &d2), TG_OK);
	assert_int_equal(tg_optee_info(d2)->ffa_id, 2);
	assert_int_equal(tg_optee_open_session(d2, invoke_tests,
					       OPTEE_MSG_LOGIN_PUBLIC, NULL, 1,
					       NULL, 0, &s2, &res),
			 TG_OK);
	assert_int_equal(res.ret, TEEC_SUCCESS);
	memset(p, 0, sizeof(p));
	p[0].type = TG_OPTEE_PARAM_VALUE_INOUT;
	p[0].u.value.a = 1;
	p[0].u.value.b = 2;
	assert_int_equal(tg_optee_invoke(d2, s2, PTA_INVOKE_TESTS_CMD_PARAMS,
					 1, p, 1, &res),
			 TG_OK);
	assert_int_equal(p[0].u.value.a, 3);
	/* Guest 2 goes away with its session open: the mediator cleans. */
	tg_optee_remove(d2);
#ifdef LB_MEDIATED
	assert_int_equal(lb_guest_pins(g2), 0);
#endif
	lb_guest_destroy(g2);
	lb_guest_enter(f->g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_probe_finds_optee_40_10_over_ffa),
		T(test_values_and_memrefs),
		cmocka_unit_test_setup_teardown(
			test_a_scattered_4mib_buffer_in_fragments,
			setup_scattered, teardown),
		T(test_absent_ta_goes_through_the_rpcs),
		T(test_teec_client_code),
		T(test_hostile_ffa_table),
		T(test_two_guests),
#undef T
	};

	if (!getenv("TEEGATE_OPTEE_FIRMWARE")) {
		printf("TEEGATE_OPTEE_FIRMWARE not set: skipped\n");
		return 77;
	}
	if (tgt_need_protocol(TG_PROTOCOL_FFA))
		return 77;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
