// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: fast calls and the virtualization rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct tg_model *m;

static int setup(void **state)
{
	(void)state;
	m = model_new_default();
	return 0;
}

static int setup_no_virt(void **state)
{
	struct tg_model_config cfg = { .no_virtualization = true };

	(void)state;
	m = model_new(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_free_all(m);
	m = NULL;
	return 0;
}

static void calls_count_is_14_with_virtualization(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_CALLS_COUNT, 0).a[0], 14);
}

static void calls_count_is_12_without_virtualization(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 5, OPTEE_SMC_CALLS_COUNT, 0).a[0], 12);
}

static void calls_uid_is_optee_api_uid(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_CALLS_UID, 0);

	(void)state;
	assert_int_equal(r.a[0], 0x384fb3e0);
	assert_int_equal(r.a[1], 0xe7f811e3);
	assert_int_equal(r.a[2], 0xaf630002);
	assert_int_equal(r.a[3], 0xa5d5c51b);
}

static void calls_revision_is_2_0(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_CALLS_REVISION, 0);

	(void)state;
	assert_int_equal(r.a[0], 2);
	assert_int_equal(r.a[1], 0);
}

static void os_uuid_is_optee_os_uuid(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_GET_OS_UUID, 0);

	(void)state;
	assert_int_equal(r.a[0], 0x486178e0);
	assert_int_equal(r.a[1], 0xe7f811e3);
	assert_int_equal(r.a[2], 0xbc5e0002);
	assert_int_equal(r.a[3], 0xa5d5c51b);
}

static void os_revision_is_4_10(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_GET_OS_REVISION, 0);

	(void)state;
	assert_int_equal(r.a[0], 4);
	assert_int_equal(r.a[1], 10);
}

static void only_low_32_bits_of_a0_count(void **state)
{
	struct regs r = fast(
		m, GUEST, 0xFFFFFFFF00000000ull | OPTEE_SMC_GET_OS_REVISION, 0);

	(void)state;
	assert_int_equal(r.a[0], 4);
}

static void client_id_is_truncated_to_16_bits(void **state)
{
	struct regs r = fast(m, 0x10000 | GUEST, OPTEE_SMC_GET_THREAD_COUNT, 0);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
}

static void exchange_capabilities_answers_qemu_build_values(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[1], 0xfd);
	assert_int_equal(r.a[2], 0x42);
	assert_int_equal(r.a[3], 4);
}

static void exchange_capabilities_accepts_uniprocessor(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_EXCHANGE_CAPABILITIES,
			      OPTEE_SMC_NSEC_CAP_UNIPROCESSOR)
				 .a[0],
			 OPTEE_SMC_RETURN_OK);
}

static void exchange_capabilities_refuses_other_nw_bits(void **state)
{
	(void)state;
	assert_int_equal(
		fast(m, GUEST, OPTEE_SMC_EXCHANGE_CAPABILITIES, 2).a[0],
		OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void capabilities_lack_virtualization_without_it(void **state)
{
	struct regs r = fast(m, 3, OPTEE_SMC_EXCHANGE_CAPABILITIES, 0);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[1] & OPTEE_SMC_SEC_CAP_VIRTUALIZATION, 0);
	assert_int_equal(r.a[1], 0xfd & ~OPTEE_SMC_SEC_CAP_VIRTUALIZATION);
}

static void thread_count_is_2_by_default(void **state)
{
	struct regs r = fast(m, GUEST, OPTEE_SMC_GET_THREAD_COUNT, 0);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[1], 2);
}

static void thread_count_follows_config(void **state)
{
	struct tg_model_config cfg = { .threads = 5 };

	(void)state;
	model_free_all(m);
	m = model_new(&cfg);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_GET_THREAD_COUNT, 0).a[1], 5);
}

static void shm_config_is_not_available_without_pool(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_GET_SHM_CONFIG, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void shm_config_reports_configured_pool(void **state)
{
	struct tg_model_config cfg = { .reserved_shm_base = RAM_BASE + PAGE,
				       .reserved_shm_size = 16 * PAGE };
	struct regs r;

	(void)state;
	model_free_all(m);
	m = model_new(&cfg);
	r = fast(m, GUEST, OPTEE_SMC_GET_SHM_CONFIG, 0);
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[1], RAM_BASE + PAGE);
	assert_int_equal(r.a[2], 16 * PAGE);
	assert_int_equal(r.a[3], OPTEE_SMC_SHM_CACHED);
}

static void l2cc_mutex_is_unknown_on_arm64(void **state)
{
	(void)state;
	assert_int_equal((uint32_t)fast(m, GUEST, OPTEE_SMC_L2CC_MUTEX, 0).a[0],
			 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

static void protmem_config_is_not_available(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_GET_PROTMEM_CONFIG, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void boot_secondary_only_from_hypervisor(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_BOOT_SECONDARY, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_BOOT_SECONDARY, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void unknown_fast_id_is_unknown_function(void **state)
{
	(void)state;
	assert_int_equal((uint32_t)fast(m, GUEST, OPTEE_SMC_FAST(0x55), 0).a[0],
			 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	assert_int_equal((uint32_t)fast(m, GUEST, 0x84000000u, 0).a[0],
			 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

static void smc64_variant_is_unknown_function(void **state)
{
	(void)state;
	assert_int_equal(
		(uint32_t)fast(m, GUEST,
			       OPTEE_SMC_GET_THREAD_COUNT | OPTEE_SMC_64, 0)
			.a[0],
		OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

static void shm_cache_enable_then_disable_with_nothing_cached(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void async_notif_value_is_invalid_when_nothing_pending(void **state)
{
	struct regs r;

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	r = fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[2], 0);
}

/* ---- Virtualization ---------------------------------------------------- */

static void vm_created_from_guest_is_not_available(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_VM_CREATED, 7).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(fast(m, 7, OPTEE_SMC_GET_THREAD_COUNT, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void vm_destroyed_from_guest_is_not_available(void **state)
{
	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_VM_DESTROYED, GUEST).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void unknown_client_fast_call_is_not_available(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 9, OPTEE_SMC_CALLS_UID, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void unknown_client_std_call_is_not_available(void **state)
{
	uint64_t pa;

	(void)state;
	arg_new(0, &pa);
	assert_int_equal(smc(m, 9, OPTEE_SMC_CALL_WITH_ARG, 0, pa, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void std_call_from_hypervisor_is_not_available(void **state)
{
	uint64_t pa;

	(void)state;
	arg_new(0, &pa);
	assert_int_equal(smc(m, 0, OPTEE_SMC_CALL_WITH_ARG, 0, pa, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void hypervisor_may_use_global_fast_calls(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_CALLS_UID, 0).a[0], 0x384fb3e0);
	assert_int_equal(fast(m, 0, OPTEE_SMC_GET_THREAD_COUNT, 0).a[1], 2);
}

static void vm_created_guest_can_call(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 42).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 42, OPTEE_SMC_GET_THREAD_COUNT, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
}

static void vm_destroyed_guest_can_no_longer_call(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_DESTROYED, GUEST).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_GET_THREAD_COUNT, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void vm_destroyed_of_unknown_id_is_ok(void **state)
{
	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_DESTROYED, 77).a[0],
			 OPTEE_SMC_RETURN_OK);
}

static void vm_created_twice_recreates_partition(void **state)
{
	struct nw nw;
	uint8_t uuid[16] = PTA_INVOKE_TESTS_UUID;
	uint32_t session;

	(void)state;
	nw_init(&nw, GUEST);
	assert_int_equal(open_session(m, &nw, uuid, &session, NULL),
			 TEEC_SUCCESS);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, GUEST).a[0],
			 OPTEE_SMC_RETURN_OK);
	/* The old partition's session is gone. */
	assert_int_equal(close_session(m, &nw, session),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void vm_created_beyond_max_guests_is_not_available(void **state)
{
	struct tg_model_config cfg = { .max_guests = 2 };

	(void)state;
	model_free_all(m);
	m = model_new(&cfg);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 3).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_DESTROYED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 3).a[0],
			 OPTEE_SMC_RETURN_OK);
}

static void vm_created_is_unknown_without_virtualization(void **state)
{
	(void)state;
	assert_int_equal((uint32_t)fast(m, 0, OPTEE_SMC_VM_CREATED, 1).a[0],
			 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	assert_int_equal((uint32_t)fast(m, 0, OPTEE_SMC_VM_DESTROYED, 1).a[0],
			 OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

static void any_client_id_is_accepted_without_virtualization(void **state)
{
	struct nw nw;
	uint8_t uuid[16] = PTA_INVOKE_TESTS_UUID;

	(void)state;
	nw_init(&nw, 1234);
	assert_int_equal(open_session(m, &nw, uuid, NULL, NULL), TEEC_SUCCESS);
	nw_init(&nw, 0);
	assert_int_equal(open_session(m, &nw, uuid, NULL, NULL), TEEC_SUCCESS);
}

static void model_create_rejects_bad_config(void **state)
{
	struct tg_model_config cfg = { .threads = 1000 };
	struct tg_sw_mem mem = { 0 };
	struct tg_model *other = NULL;

	(void)state;
	assert_int_not_equal(tg_model_create(&cfg, &mem, &other), 0);
	assert_null(other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TNV(f) cmocka_unit_test_setup_teardown(f, setup_no_virt, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(calls_count_is_14_with_virtualization),
		TNV(calls_count_is_12_without_virtualization),
		T(calls_uid_is_optee_api_uid),
		T(calls_revision_is_2_0),
		T(os_uuid_is_optee_os_uuid),
		T(os_revision_is_4_10),
		T(only_low_32_bits_of_a0_count),
		T(client_id_is_truncated_to_16_bits),
		T(exchange_capabilities_answers_qemu_build_values),
		T(exchange_capabilities_accepts_uniprocessor),
		T(exchange_capabilities_refuses_other_nw_bits),
		TNV(capabilities_lack_virtualization_without_it),
		T(thread_count_is_2_by_default),
		T(thread_count_follows_config),
		T(shm_config_is_not_available_without_pool),
		T(shm_config_reports_configured_pool),
		T(l2cc_mutex_is_unknown_on_arm64),
		T(protmem_config_is_not_available),
		T(boot_secondary_only_from_hypervisor),
		T(unknown_fast_id_is_unknown_function),
		T(smc64_variant_is_unknown_function),
		T(shm_cache_enable_then_disable_with_nothing_cached),
		T(async_notif_value_is_invalid_when_nothing_pending),
		T(vm_created_from_guest_is_not_available),
		T(vm_destroyed_from_guest_is_not_available),
		T(unknown_client_fast_call_is_not_available),
		T(unknown_client_std_call_is_not_available),
		T(std_call_from_hypervisor_is_not_available),
		T(hypervisor_may_use_global_fast_calls),
		T(vm_created_guest_can_call),
		T(vm_destroyed_guest_can_no_longer_call),
		T(vm_destroyed_of_unknown_id_is_ok),
		T(vm_created_twice_recreates_partition),
		T(vm_created_beyond_max_guests_is_not_available),
		TNV(vm_created_is_unknown_without_virtualization),
		TNV(any_client_id_is_accepted_without_virtualization),
		cmocka_unit_test(model_create_rejects_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
