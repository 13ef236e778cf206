// SPDX-License-Identifier: BSD-2-Clause
/*
 * The core serving FF-A through its protocol interface (src/core/proto.h,
 * src/ffa/ffa_proto.c): the protocol probed or asked for, the public
 * entry points (tg_mediator_create, tg_domain_create, tg_handle_smc,
 * tg_domain_stats, tg_domain_destroy, recovery) on an FF-A mediator, with
 * the model as OP-TEE's S-EL1 SPMC (or as OP-TEE behind its SMC ABI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/optee_abi.h>

#include "ffa_env.h"

static struct tg_mediator *med;

static void up(bool smc_abi)
{
	struct fe_opts o = { .model_only = true, .smc_abi = smc_abi };

	fe_setup_opts(&o);
	med = NULL;
}

static void down(void)
{
	if (med)
		assert_int_equal(tg_mediator_destroy(med), TG_OK);
	med = NULL;
	fe_teardown();
}

static bool call(uint32_t client, uint64_t r[8])
{
	return tg_handle_smc(med, client, 0, r);
}

static void set(uint64_t r[8], uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
}

static void test_auto_finds_ffa(void **state)
{
	const struct tg_tee_info *t;

	(void)state;
	up(false);
	assert_int_equal(tg_mediator_create(&fe_port, NULL, &med), TG_OK);
	assert_int_equal(tg_mediator_protocol(med), TG_PROTOCOL_FFA);
	assert_string_equal(tg_protocol_name(tg_mediator_protocol(med)), "ffa");
	t = tg_mediator_tee_info(med);
	assert_int_equal(t->api_rev_major, 1);
	assert_true(t->api_rev_minor >= 1);
	down();
}

static void test_auto_finds_optee_smc_abi(void **state)
{
	(void)state;
	up(true);
	assert_int_equal(tg_mediator_create(&fe_port, NULL, &med), TG_OK);
	assert_int_equal(tg_mediator_protocol(med), TG_PROTOCOL_OPTEE);
	down();
}

static void test_the_protocol_asked_for_or_none(void **state)
{
	struct tg_config c = { .protocol = TG_PROTOCOL_OPTEE };

	(void)state;
	/* An SPMC does not speak OP-TEE's SMC ABI... */
	up(false);
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_ENOTEE);
	assert_null(med);
	down();
	/* ...and OP-TEE behind its dispatcher does not speak FF-A. */
	up(true);
	c.protocol = TG_PROTOCOL_FFA;
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_ENOTEE);
	assert_null(med);
	c.protocol = (enum tg_protocol)7;
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_EINVAL);
	c.protocol = TG_PROTOCOL_OPTEE;
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_OK);
	down();
	assert_string_equal(tg_protocol_name((enum tg_protocol)9), "?");
}

static void test_calls_go_through_the_core(void **state)
{
	struct tg_config c = { .protocol = TG_PROTOCOL_FFA };
	struct tg_domain_stats st;
	uint64_t r[8];

	(void)state;
	up(false);
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_OK);
	assert_int_equal(tg_domain_create(med, 1, NULL), TG_OK);
	assert_int_equal(tg_domain_create(med, 1, NULL), TG_EEXIST);
	/* Not a VM id (bit 15: secure partitions). */
	assert_int_equal(tg_domain_create(med, 0x8001, NULL), TG_EINVAL);

	set(r, FFA_VERSION, FFA_VERSION_1_2, 0, 0);
	assert_true(call(1, r));
	assert_int_equal((uint32_t)r[0], FFA_VERSION_1_2);
	set(r, FFA_ID_GET, 0, 0, 0);
	assert_true(call(1, r));
	assert_int_equal(r[0], FFA_SUCCESS_32);
	assert_int_equal(r[2], 1);
	set(r, FFA_MSG_SEND_DIRECT_REQ_32, FFA_PACK_IDS(1, 0x8001), 0,
	    OPTEE_FFA_GET_API_VERSION);
	assert_true(call(1, r));
	assert_int_equal(r[0], FFA_MSG_SEND_DIRECT_RESP_32);
	assert_int_equal(r[3], OPTEE_FFA_VERSION_MAJOR);
	/* A forged sender is refused and counted. */
	set(r, FFA_MSG_SEND_DIRECT_REQ_32, FFA_PACK_IDS(2, 0x8001), 0,
	    OPTEE_FFA_GET_API_VERSION);
	assert_true(call(1, r));
	assert_int_equal(r[0], FFA_ERROR);
	/* Not the TEE's (PSCI): the hypervisor's. */
	set(r, 0x84000000u, 0, 0, 0);
	assert_false(call(1, r));
	assert_int_equal(r[0], 0x84000000u);
	/* A client without a domain: no FF-A for it. */
	set(r, FFA_ID_GET, 0, 0, 0);
	assert_true(call(2, r));
	assert_int_equal(r[0], FFA_ERROR);
	assert_int_equal((uint32_t)r[2], (uint32_t)FFA_RET_NOT_SUPPORTED);
	set(r, 0x84000000u, 0, 0, 0);
	assert_false(call(2, r));

	assert_int_equal(tg_domain_stats(med, 1, &st), TG_OK);
	assert_int_equal(st.refused[TG_REFUSE_BAD_PARAM], 1);
	assert_int_equal(st.calls[TG_KIND_FAST_FORWARDED], 1);
	assert_int_equal(tg_domain_stats(med, 2, &st), TG_ENOENT);

	/* Not while a domain is live. */
	assert_int_equal(tg_mediator_destroy(med), TG_EBUSY);
	while (tg_domain_destroy(med, 1) == TG_AGAIN)
		;
	assert_int_equal(tg_domain_destroy(med, 1), TG_ENOENT);
	down();
}

static void claim(void *ctx, void *va, uint32_t npages)
{
	uint32_t first = (uint32_t)(((uint8_t *)va - env.mem) / PAGE);

	(void)ctx;
	for (uint32_t k = first; k < first + npages; k++)
		env.pool_used[k] = true;
}

static uint32_t kept;

static int keep(void *ctx, uint32_t cid, const uint64_t *pa, uint32_t n)
{
	(void)ctx;
	(void)pa;
	assert_int_equal(cid, 1);
	kept += n;
	return TG_OK;
}

static void test_recovery_goes_through_the_core(void **state)
{
	static const struct tg_recover_ops ops = { .shm_claim = claim,
						   .keep_pins = keep };
	struct tg_config c = { .protocol = TG_PROTOCOL_FFA };
	struct tg_recover_stats st;
	uint64_t r[8];

	(void)state;
	up(false);
	assert_int_equal(tg_mediator_create(&fe_port, &c, &med), TG_OK);
	assert_int_equal(tg_domain_create(med, 1, NULL), TG_OK);
	set(r, FFA_VERSION, FFA_VERSION_1_2, 0, 0);
	call(1, r);
	set(r, FFA_RXTX_MAP_64, IPA_BASE, IPA_BASE + PAGE, 1);
	assert_true(call(1, r));
	assert_int_equal(r[0], FFA_SUCCESS_32);
	/* The process "died" between calls: the state is adopted. */
	memset(env.pool_used, 0, sizeof(env.pool_used));
	assert_int_equal(tg_mediator_recover(med, &fe_port, &ops), TG_OK);
	kept = 0;
	assert_int_equal(tg_domain_recover(med, 1, NULL, &ops, &st), TG_OK);
	assert_int_equal(kept, 2); /* its RX/TX */
	assert_int_equal(st.pins_kept, 2);
	assert_int_equal(tg_domain_recover(med, 2, NULL, &ops, &st),
			 TG_ENOENT);
	set(r, FFA_ID_GET, 0, 0, 0);
	assert_true(call(1, r));
	assert_int_equal(r[2], 1);
	while (tg_domain_destroy(med, 1) == TG_AGAIN)
		;
	down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_finds_ffa),
		cmocka_unit_test(test_auto_finds_optee_smc_abi),
		cmocka_unit_test(test_the_protocol_asked_for_or_none),
		cmocka_unit_test(test_calls_go_through_the_core),
		cmocka_unit_test(test_recovery_goes_through_the_core),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
