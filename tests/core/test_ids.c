// SPDX-License-Identifier: BSD-2-Clause
/*
 * The function-id table: every OP-TEE id, SMC64 variants, unknown ids in
 * every owner range, forged a7, capabilities, and the emulated calls.
 */
#include <stdio.h>

#include "common.h"
#include "optee_ids.h"

static uint64_t fast(struct env *e, uint32_t client, uint64_t fid, uint64_t a1,
		     uint64_t r[8])
{
	set_regs(r, fid, a1, 0, 0);
	assert_true(tg_handle_smc(e->med, client, 0, r));
	return r[0];
}

static void every_id_in_the_table_has_its_documented_effect(void **state)
{
	struct env *e = *state;
	unsigned int i;
	uint64_t r[8];

	for (i = 0; i < optee_fn_table_len; i++) {
		const struct optee_fn *fn = &optee_fn_table[i];
		struct tg_domain_stats before = stats(e, G1), after;
		uint64_t smcs = e->f->smc_count;

		if (fn->cls == FN_STD)
			continue; /* covered by the msg and rpc tests */
		fast(e, G1, fn->id, 0, r);
		after = stats(e, G1);
		switch (fn->cls) {
		case FN_FORWARD:
			assert_int_equal(after.calls[TG_KIND_FAST_FORWARDED],
					 before.calls[TG_KIND_FAST_FORWARDED] +
						 1);
			assert_int_equal(e->f->smc_count, smcs + 1);
			assert_int_equal(e->f->last_fast[7], G1);
			break;
		case FN_EMULATE:
			assert_int_equal(after.calls[TG_KIND_FAST_EMULATED],
					 before.calls[TG_KIND_FAST_EMULATED] +
						 1);
			assert_int_equal(e->f->smc_count, smcs);
			break;
		case FN_REFUSE_HYP_ONLY:
			assert_int_equal(r[0],
					 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
			assert_int_equal(after.refused[TG_REFUSE_HYP_ONLY],
					 before.refused[TG_REFUSE_HYP_ONLY] +
						 1);
			assert_int_equal(e->f->smc_count, smcs);
			break;
		case FN_REFUSE_WHOLE_TEE:
			assert_int_equal(r[0],
					 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
			assert_int_equal(after.refused[TG_REFUSE_WHOLE_TEE],
					 before.refused[TG_REFUSE_WHOLE_TEE] +
						 1);
			assert_int_equal(e->f->smc_count, smcs);
			break;
		default:
			fail();
		}
	}
}

static void table_lists_every_optee_id_exactly_once(void **state)
{
	static const uint32_t ids[] = {
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
		OPTEE_SMC_GET_PROTMEM_CONFIG,
	};
	unsigned int i, j, hits;

	(void)state;
	assert_int_equal(optee_fn_table_len, sizeof(ids) / sizeof(ids[0]));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (hits = 0, j = 0; j < optee_fn_table_len; j++)
			hits += optee_fn_table[j].id == ids[i];
		assert_int_equal(hits, 1);
	}
}

static void calls_uid_is_forwarded_with_guest_client_id(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	set_regs(r, OPTEE_SMC_CALLS_UID, 0x1111, 0x2222, 0x3333);
	r[7] = 0x77; /* forged a7: never reaches the TEE */
	assert_true(tg_handle_smc(e->med, G2, 0, r));
	assert_int_equal(r[0], OPTEE_MSG_UID_0);
	assert_int_equal(r[3], OPTEE_MSG_UID_3);
	assert_int_equal(e->f->last_fast[7], G2);
	assert_int_equal(e->f->last_fast[1], 0);
	assert_int_equal(r[7], 0);
}

static void forged_a7_on_std_call_is_replaced(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_CANCEL, 0);
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, 0, ARG_IPA, 0);
	r[7] = G2;
	assert_true(tg_handle_smc(e->med, G1, 0, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	/* the fake TEE would have refused a G2 thread touching G1 memory */
	assert_int_equal(e->f->violations, 0);
}

static void calls_count_is_the_mediators_own(void **state)
{
	struct env *e = *state;
	uint64_t r[8];
	unsigned int i, n = 0;

	for (i = 0; i < optee_fn_table_len; i++)
		n += optee_fn_table[i].cls <= FN_STD;
	assert_int_equal(fast(e, G1, OPTEE_SMC_CALLS_COUNT, 0, r), n);
	assert_int_equal(n, 15);
}

static void smc64_variants_are_unknown(void **state)
{
	struct env *e = *state;
	uint64_t r[8];
	unsigned int i;

	for (i = 0; i < optee_fn_table_len; i++) {
		uint64_t smcs = e->f->smc_count;

		fast(e, G1, optee_fn_table[i].id | OPTEE_SMC_64, 0, r);
		assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
		assert_int_equal(e->f->smc_count, smcs);
	}
}

static void unknown_ids_in_every_trusted_os_owner_are_refused(void **state)
{
	struct env *e = *state;
	uint64_t r[8];
	uint32_t owner, fn;

	for (owner = 50; owner <= 63; owner++) {
		for (fn = 0x21; fn < 0x10000; fn += 0x1111) {
			uint32_t fast_id = 0x80000000u | owner << 24 | fn;
			uint32_t std_id = owner << 24 | fn;

			if (owner == 63 && fn >= 0xFF00)
				continue;
			fast(e, G1, fast_id, 0, r);
			assert_int_equal(r[0],
					 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
			fast(e, G1, std_id, 0, r);
			assert_int_equal(r[0],
					 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
		}
	}
	assert_true(stats(e, G1).refused[TG_REFUSE_UNKNOWN_FUNCTION] > 100);
}

static void other_owners_are_not_tee_calls(void **state)
{
	struct env *e = *state;
	uint64_t r[8];
	uint32_t owner;

	for (owner = 0; owner < 50; owner++) {
		set_regs(r, 0x80000000u | owner << 24, 1, 2, 3);
		assert_false(tg_handle_smc(e->med, G1, 0, r));
		/* untouched for the hypervisor to handle */
		assert_int_equal(r[1], 1);
	}
}

static void only_low_32_bits_of_a0_count(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	fast(e, G1, 0xFFFFFFFF00000000ull | OPTEE_SMC_CALLS_UID, 0, r);
	assert_int_equal(r[0], OPTEE_MSG_UID_0);
}

static void unknown_client_gets_enotavail(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	fast(e, 5, OPTEE_SMC_CALLS_UID, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
	fast(e, 0, OPTEE_SMC_CALLS_UID, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
	fast(e, 0x10001, OPTEE_SMC_CALLS_UID, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void capabilities_are_masked(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	assert_int_equal(fast(e, G1, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0, r),
			 OPTEE_SMC_RETURN_OK);
	assert_false(r[1] & OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM);
	assert_false(r[1] & OPTEE_SMC_SEC_CAP_VIRTUALIZATION);
	assert_false(r[1] & OPTEE_SMC_SEC_CAP_RPMB_PROBE);
	assert_true(r[1] & OPTEE_SMC_SEC_CAP_DYNAMIC_SHM);
	assert_true(r[1] & OPTEE_SMC_SEC_CAP_RPC_ARG);
	assert_true(r[1] & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF);
	assert_true(r[1] & OPTEE_SMC_SEC_CAP_MEMREF_NULL);
	assert_int_equal(r[2], 0x42);
	assert_int_equal(r[3], 4);
	assert_int_equal(fast(e, G1, OPTEE_SMC_EXCHANGE_CAPABILITIES,
			      OPTEE_SMC_NSEC_CAP_UNIPROCESSOR, r),
			 OPTEE_SMC_RETURN_OK);
}

static void unknown_normal_world_caps_are_refused(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	assert_int_equal(fast(e, G1, OPTEE_SMC_EXCHANGE_CAPABILITIES, 2, r),
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(
		fast(e, G1, OPTEE_SMC_EXCHANGE_CAPABILITIES, 1ull << 40, r),
		OPTEE_SMC_RETURN_OK); /* SMC32: a1 is 32 bits */
	assert_int_equal(stats(e, G1).refused[TG_REFUSE_BAD_CAPS], 1);
}

static void thread_count_is_what_the_guest_may_use(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	assert_int_equal(fast(e, G1, OPTEE_SMC_GET_THREAD_COUNT, 0, r),
			 OPTEE_SMC_RETURN_OK);
	/* 4 TEE threads, 2 domains: the fair share is all but one */
	assert_int_equal(r[1], 3);
}

static void shm_cache_calls_are_emulated(void **state)
{
	struct env *e = *state;
	uint64_t r[8];

	assert_int_equal(fast(e, G1, OPTEE_SMC_ENABLE_SHM_CACHE, 0, r),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(e, G1, OPTEE_SMC_DISABLE_SHM_CACHE, 0, r),
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(r[1], 0);
	assert_int_equal(r[2], 0);
}

static void async_notif_is_forwarded_and_irq_reaches_enabled_guests(void **s)
{
	struct env *e = *s;
	uint64_t r[8];

	assert_int_equal(fast(e, G1, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0, r),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(e->f->last_fast[7], G1);
	assert_int_equal(fast(e, G1, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0, r),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(r[1], 7);
	tg_tee_notif_irq(e->med);
	assert_int_equal(e->f->notif_irqs[G1], 1);
	assert_int_equal(e->f->notif_irqs[G2], 0);
}

static void async_notif_hidden_without_irq_port(void **state)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;
	uint64_t r[8];

	(void)state;
	f->port.raise_notif_irq = NULL;
	fake_add_guest(f, G1, 16);
	assert_int_equal(tg_mediator_create(&f->port, NULL, &med), TG_OK);
	assert_int_equal(tg_domain_create(med, G1, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0, 0, 0);
	tg_handle_smc(med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	set_regs(r, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0, 0, 0);
	tg_handle_smc(med, G1, 0, r);
	assert_false(r[1] & OPTEE_SMC_SEC_CAP_ASYNC_NOTIF);
	tg_tee_notif_irq(med);
	assert_int_equal(fake_destroy_domain(med, G1) >= 0, 1);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	fake_destroy(f);
}

static void regd_and_rpc_arg_calls_need_the_rpc_arg_cap(void **state)
{
	struct fake *f = fake_create();
	struct tg_mediator *med;
	uint64_t r[8];

	(void)state;
	f->caps &= ~OPTEE_SMC_SEC_CAP_RPC_ARG;
	fake_add_guest(f, G1, 16);
	assert_int_equal(tg_mediator_create(&f->port, NULL, &med), TG_OK);
	assert_int_equal(tg_domain_create(med, G1, NULL), TG_OK);
	set_regs(r, OPTEE_SMC_CALL_WITH_RPC_ARG, 0, ARG_IPA, 0);
	tg_handle_smc(med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	set_regs(r, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 1, 0);
	tg_handle_smc(med, G1, 0, r);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	assert_int_equal(fake_destroy_domain(med, G1) >= 0, 1);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	fake_destroy(f);
}

static void names_are_defined(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < TG_REFUSE_COUNT; i++)
		assert_string_not_equal(tg_refusal_name(i), "?");
	for (i = 0; i < TG_KIND_COUNT; i++)
		assert_string_not_equal(tg_call_kind_name(i), "?");
	assert_string_equal(tg_refusal_name(TG_REFUSE_COUNT), "?");
	assert_string_equal(tg_call_kind_name(TG_KIND_COUNT), "?");
	for (i = 0; i <= 10; i++)
		assert_string_not_equal(tg_strerror(-(int)i), "unknown error");
	assert_string_not_equal(tg_strerror(1), "unknown error");
	assert_string_equal(tg_strerror(-99), "unknown error");
}

/* docs/optee-ids.md must say what the code does, row by row. */
static void every_row_of_docs_optee_ids_md_matches_the_code(void **state)
{
	static const char *const cls_name[] = {
		[FN_FORWARD] = "forward",
		[FN_EMULATE] = "emulate",
		[FN_STD] = "std",
		[FN_REFUSE_HYP_ONLY] = "refuse-hyp",
		[FN_REFUSE_WHOLE_TEE] = "refuse-tee",
	};
	FILE *doc = fopen(TG_SOURCE_DIR "/docs/optee-ids.md", "r");
	char line[1024], name[64], cls[32];
	unsigned int rows = 0, i, id;

	(void)state;
	assert_non_null(doc);
	while (fgets(line, sizeof(line), doc)) {
		if (sscanf(line, "| 0x%x | %63s | %31s |", &id, name, cls) != 3)
			continue;
		for (i = 0; i < optee_fn_table_len; i++)
			if (optee_fn_table[i].id == id)
				break;
		assert_true(i < optee_fn_table_len);
		assert_string_equal(optee_fn_table[i].name, name);
		assert_string_equal(cls_name[optee_fn_table[i].cls], cls);
		rows++;
	}
	fclose(doc);
	assert_int_equal(rows, optee_fn_table_len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(every_id_in_the_table_has_its_documented_effect),
		T(table_lists_every_optee_id_exactly_once),
		cmocka_unit_test(
			every_row_of_docs_optee_ids_md_matches_the_code),
		T(calls_uid_is_forwarded_with_guest_client_id),
		T(forged_a7_on_std_call_is_replaced),
		T(calls_count_is_the_mediators_own),
		T(smc64_variants_are_unknown),
		T(unknown_ids_in_every_trusted_os_owner_are_refused),
		T(other_owners_are_not_tee_calls),
		T(only_low_32_bits_of_a0_count),
		T(unknown_client_gets_enotavail),
		T(capabilities_are_masked),
		T(unknown_normal_world_caps_are_refused),
		T(thread_count_is_what_the_guest_may_use),
		T(shm_cache_calls_are_emulated),
		T(async_notif_is_forwarded_and_irq_reaches_enabled_guests),
		cmocka_unit_test(async_notif_hidden_without_irq_port),
		cmocka_unit_test(regd_and_rpc_arg_calls_need_the_rpc_arg_cap),
		cmocka_unit_test(names_are_defined),
#undef T
	};

	return cmocka_run_group_tests_name("core_ids", tests, NULL, NULL);
}
