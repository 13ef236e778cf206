// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: the pseudo-TAs (invoke-tests, stats, device-enumeration)
 * and the model-only TAs (bigbuf, yield, notify).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "model_tas.h"

static struct tg_model *m;
static struct nw nw;
static struct ncbuf in_buf, out_buf;
static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t device_enum[16] = PTA_DEVICE_ENUM_UUID;
static const uint8_t bigbuf_uuid[16] = MODEL_TA_BIGBUF_UUID;
static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
static const uint8_t notify_uuid[16] = MODEL_TA_NOTIFY_UUID;

static int setup(void **state)
{
	(void)state;
	m = model_new_default();
	nw_init(&nw, GUEST);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_free_all(m);
	m = NULL;
	return 0;
}

static void set_value(struct optee_msg_param *p, uint64_t attr, uint64_t a,
		      uint64_t b)
{
	p->attr = attr;
	p->u.value.a = a;
	p->u.value.b = b;
}

static void set_tmem(struct optee_msg_param *p, uint64_t type, struct ncbuf *b,
		     uint64_t size)
{
	p->attr = type | OPTEE_MSG_ATTR_NONCONTIG;
	p->u.tmem.buf_ptr = b->buf_ptr;
	p->u.tmem.size = size;
}

static uint32_t run(uint64_t pa, struct optee_msg_arg *a)
{
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

static void builtin_tas_open_without_any_rpc(void **state)
{
	const uint8_t *uuids[] = { invoke_tests, stats_uuid, device_enum,
				   bigbuf_uuid,	 yield_uuid, notify_uuid };

	(void)state;
	for (size_t i = 0; i < sizeof(uuids) / sizeof(uuids[0]); i++)
		open_ok(m, &nw, uuids[i]);
	assert_int_equal(nw.num_events, 0);
}

/* ---- invoke-tests ------------------------------------------------------ */

static void trace_succeeds_whatever_the_params(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 2, &pa);

	(void)state;
	set_value(&a->params[1], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 1, 2);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
}

static void params_value_inout_gets_a_plus_b(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 4, &pa);

	(void)state;
	set_value(&a->params[2], OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 40, 2);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[2].u.value.a, 42);
	assert_int_equal(a->params[2].u.value.b, 2);
}

static void params_three_inputs_sum_into_the_output(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 4, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 1, 10);
	set_value(&a->params[1], OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT, 0, 0);
	set_value(&a->params[2], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 2, 20);
	set_value(&a->params[3], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 3, 30);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.value.a, 6);
	assert_int_equal(a->params[1].u.value.b, 60);
}

static void params_memref_inout_gets_byte_sum_in_byte_0(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 2, &pa);

	(void)state;
	ncbuf_new(&in_buf, 300, 4000);
	for (uint64_t i = 0; i < 300; i++)
		*ncbuf_byte(&in_buf, i) = 1;
	set_tmem(&a->params[1], OPTEE_MSG_ATTR_TYPE_TMEM_INOUT, &in_buf, 300);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&in_buf, 0), 300 & 0xFF);
}

static void params_other_combination_is_bad_parameters_from_ta(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 2, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 1, 1);
	set_value(&a->params[1], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 1, 1);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TRUSTED_APP);
}

static void memref_null_accepts_a_null_inout(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_MEMREF_NULL, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
}

static void memref_null_refuses_a_real_buffer(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_MEMREF_NULL, 1, &pa);

	(void)state;
	ncbuf_new(&in_buf, 16, 0);
	set_tmem(&a->params[0], OPTEE_MSG_ATTR_TYPE_TMEM_INOUT, &in_buf, 16);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void memref_null_needs_it_at_index_0(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_MEMREF_NULL, 2, &pa);

	(void)state;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void null_memref_is_seen_with_size_0(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_MEMREF_NULL, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	a->params[0].u.tmem.size = 8;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
}

static void aes_perf_transforms_input_into_output(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_AES_PERF, 4, &pa);

	(void)state;
	ncbuf_new(&in_buf, 5000, 0);
	ncbuf_new(&out_buf, 5000, 0);
	*ncbuf_byte(&in_buf, 4999) = 0x11;
	set_tmem(&a->params[2], OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, &in_buf, 5000);
	set_tmem(&a->params[3], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf,
		 5000);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&out_buf, 4999), 0x11 ^ 0xA5);
	assert_int_equal(*ncbuf_byte(&out_buf, 0), 0xA5);
}

static void aes_perf_short_output_reports_needed_size(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_AES_PERF, 4, &pa);

	(void)state;
	ncbuf_new(&in_buf, 5000, 0);
	ncbuf_new(&out_buf, 100, 0);
	set_tmem(&a->params[2], OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, &in_buf, 5000);
	set_tmem(&a->params[3], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf, 100);
	assert_int_equal(run(pa, a), TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(a->params[3].u.tmem.size, 5000);
}

static void invoke_tests_unknown_cmd_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 77, 0, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

/*
 * OP-TEE's core test commands without parameters, as OP-TEE 4.10's QEMU
 * build answers them (found by comparing with it, tests/qemu).
 */
static void invoke_tests_core_test_commands_answer_like_optee(void **state)
{
	static const struct {
		uint32_t cmd, ret;
	} cases[] = {
		{ 2, TEEC_SUCCESS },		  /* SELF_TESTS */
		{ 6, TEEC_SUCCESS },		  /* FS_HTREE */
		{ 7, TEEC_ERROR_BAD_PARAMETERS }, /* MUTEX needs 2 values */
		{ 8, TEEC_ERROR_NOT_SUPPORTED },  /* LOCKDEP, not built */
		{ 11, TEEC_SUCCESS },		  /* DT_DRIVER_TESTS */
		{ 12, TEEC_ERROR_NOT_SUPPORTED }, /* TRANSFER_LIST_TESTS */
	};
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint32_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t pa;
		struct optee_msg_arg *a = invoke_arg(s, cases[i].cmd, 0, &pa);

		assert_int_equal(run(pa, a), cases[i].ret);
	}
}

/* ---- stats ------------------------------------------------------------- */

static struct optee_msg_arg *stats_alloc_arg(uint32_t s, uint64_t pool,
					     uint64_t size, uint64_t *pa)
{
	struct optee_msg_arg *a = invoke_arg(s, PTA_STATS_CMD_ALLOC, 2, pa);

	ncbuf_new(&out_buf, 1024, 0);
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, pool, 0);
	set_tmem(&a->params[1], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf,
		 size);
	return a;
}

static void stats_alloc_of_all_pools_fills_64_byte_records(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = stats_alloc_arg(s, 0, 1024, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.tmem.size, 5 * 64);
	assert_string_equal((char *)ncbuf_byte(&out_buf, 0), "Heap");
	assert_string_equal((char *)ncbuf_byte(&out_buf, 128),
			    "Physical TA memory");
	assert_string_equal((char *)ncbuf_byte(&out_buf, 192), "KHeap");
}

/*
 * OP-TEE's struct pta_stats_alloc has a u64 free2_sum after desc: size is
 * at offset 48 (found by comparing with OP-TEE 4.10, tests/qemu).
 */
static void stats_alloc_record_has_optee_layout(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = stats_alloc_arg(s, 0, 1024, &pa);
	uint32_t size;

	(void)state;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	memcpy(&size, ncbuf_byte(&out_buf, 48), 4);
	assert_int_equal(size, 0x30d40); /* Heap */
	memcpy(&size, ncbuf_byte(&out_buf, 128 + 48), 4);
	assert_int_equal(size, 0x633000); /* Physical TA memory */
	memcpy(&size, ncbuf_byte(&out_buf, 64 + 48), 4);
	assert_int_equal(size, 0); /* Public DDR */
	memcpy(&size, ncbuf_byte(&out_buf, 40), 4);
	assert_int_equal(size, 0); /* allocated */
}

static void stats_alloc_short_buffer_reports_needed_size(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = stats_alloc_arg(s, 0, 100, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(a->params[1].u.tmem.size, 320);
}

static void stats_alloc_of_one_pool_fills_one_record(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = stats_alloc_arg(s, 4, 64, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.tmem.size, 64);
	assert_string_equal((char *)ncbuf_byte(&out_buf, 0), "KHeap");
}

static void stats_pager_reports_zero_counters(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 0, 3, &pa);

	(void)state;
	for (int i = 0; i < 3; i++)
		set_value(&a->params[i], OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT, 9,
			  9);
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[2].u.value.b, 0);
}

static void stats_unknown_cmd_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 99, 0, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TRUSTED_APP);
}

static void stats_alloc_of_unknown_pool_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = stats_alloc_arg(s, 9, 1024, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void stats_get_time_needs_two_value_outputs(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, PTA_STATS_CMD_GET_TIME, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(nw.num_events, 0);
}

static void stats_get_time_reports_nw_and_tee_time(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, PTA_STATS_CMD_GET_TIME, 2, &pa);

	(void)state;
	nw.time_secs = 7;
	nw.time_nsecs = 250000000;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 7);
	assert_int_equal(a->params[0].u.value.b, 250);
	assert_true(a->params[1].u.value.b < 1000);
}

/* ---- device enumeration ------------------------------------------------- */

static struct optee_msg_arg *device_arg(uint32_t cmd, uint64_t size,
					uint64_t *pa)
{
	uint32_t s = open_ok(m, &nw, device_enum);
	struct optee_msg_arg *a = invoke_arg(s, cmd, 1, pa);

	ncbuf_new(&out_buf, 64, 0);
	memset(ncbuf_byte(&out_buf, 0), 0xEE, 64);
	set_tmem(&a->params[0], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf,
		 size);
	return a;
}

static void get_devices_lists_the_invoke_tests_pta(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = device_arg(0, 64, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.tmem.size, 16);
	assert_memory_equal(ncbuf_byte(&out_buf, 0), invoke_tests, 16);
}

static void get_devices_short_buffer_reports_needed_size(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = device_arg(0, 8, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(a->params[0].u.tmem.size, 16);
	assert_int_equal(*ncbuf_byte(&out_buf, 0), 0xEE);
}

static void get_devices_into_null_buffer_is_short_buffer(void **state)
{
	uint32_t s = open_ok(m, &nw, device_enum);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 0, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(a->params[0].u.tmem.size, 16);
}

static void supplicant_and_rpmb_device_lists_are_empty(void **state)
{
	for (uint32_t cmd = 1; cmd <= 2; cmd++) {
		uint64_t pa;
		struct optee_msg_arg *a = device_arg(cmd, 64, &pa);

		(void)state;
		assert_int_equal(run(pa, a), TEEC_SUCCESS);
		assert_int_equal(a->params[0].u.tmem.size, 0);
	}
}

static void device_enum_unknown_cmd_is_not_implemented(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = device_arg(3, 64, &pa);

	(void)state;
	assert_int_equal(run(pa, a), TEEC_ERROR_NOT_IMPLEMENTED);
}

static void device_enum_needs_one_memref_output(void **state)
{
	uint32_t s = open_ok(m, &nw, device_enum);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 0, 1, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT, 0, 0);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

/* ---- bigbuf ------------------------------------------------------------ */

static void bigbuf_xors_16_mib_and_sums_input(void **state)
{
	const uint64_t size = 16ull << 20;
	uint32_t s = open_ok(m, &nw, bigbuf_uuid);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, MODEL_TA_BIGBUF_CMD_XOR, 3, &pa);
	uint32_t sum = 0;

	(void)state;
	ncbuf_new(&in_buf, size, 0);
	ncbuf_new(&out_buf, size, 0);
	for (uint64_t i = 0; i < size; i += 4093) {
		*ncbuf_byte(&in_buf, i) = (uint8_t)(i >> 3);
		sum += (uint8_t)(i >> 3);
	}
	set_tmem(&a->params[0], OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, &in_buf, size);
	set_tmem(&a->params[1], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf,
		 size);
	a->params[2].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.tmem.size, size);
	assert_int_equal(a->params[2].u.value.a, sum);
	assert_int_equal(a->params[2].u.value.b, (uint32_t)size);
	assert_int_equal(*ncbuf_byte(&out_buf, 1), 0x5A);
	assert_int_equal(*ncbuf_byte(&out_buf, 4093),
			 (uint8_t)(4093 >> 3) ^ 0x5A);
	assert_int_equal(*ncbuf_byte(&out_buf, size - 1),
			 *ncbuf_byte(&in_buf, size - 1) ^ 0x5A);
}

static void bigbuf_accepts_registered_memory(void **state)
{
	uint32_t s = open_ok(m, &nw, bigbuf_uuid);
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	ncbuf_new(&in_buf, 3 * PAGE, 100);
	assert_int_equal(register_shm(m, &nw, &in_buf, 0x11), TEEC_SUCCESS);
	*ncbuf_byte(&in_buf, 5) = 0xF0;
	a = invoke_arg(s, MODEL_TA_BIGBUF_CMD_XOR, 3, &pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 0x11;
	a->params[0].u.rmem.size = PAGE;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT;
	a->params[1].u.rmem.shm_ref = 0x11;
	a->params[1].u.rmem.offs = PAGE;
	a->params[1].u.rmem.size = 2 * PAGE;
	a->params[2].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.rmem.size, PAGE);
	assert_int_equal(*ncbuf_byte(&in_buf, PAGE + 5), 0xF0 ^ 0x5A);
	assert_int_equal(a->params[2].u.value.a, 0xF0);
}

static void bigbuf_short_output_reports_needed_size(void **state)
{
	uint32_t s = open_ok(m, &nw, bigbuf_uuid);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, MODEL_TA_BIGBUF_CMD_XOR, 3, &pa);

	(void)state;
	ncbuf_new(&in_buf, 2 * PAGE, 0);
	ncbuf_new(&out_buf, PAGE, 0);
	set_tmem(&a->params[0], OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, &in_buf,
		 2 * PAGE);
	set_tmem(&a->params[1], OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, &out_buf,
		 PAGE);
	a->params[2].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(a->params[1].u.tmem.size, 2 * PAGE);
}

static void bigbuf_wrong_param_types_are_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, bigbuf_uuid);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, MODEL_TA_BIGBUF_CMD_XOR, 1, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 0, 0);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

/* ---- yield / notify ---------------------------------------------------- */

static void yield_over_limit_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 0, 1, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INOUT,
		  MODEL_TA_YIELD_MAX + 1, 0);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(nw.num_events, 0);
}

static void notify_value_above_max_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, MODEL_TA_NOTIFY_CMD_ASYNC, 1, &pa);

	(void)state;
	set_value(&a->params[0], OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 0x43, 0);
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(builtin_tas_open_without_any_rpc),
		T(trace_succeeds_whatever_the_params),
		T(params_value_inout_gets_a_plus_b),
		T(params_three_inputs_sum_into_the_output),
		T(params_memref_inout_gets_byte_sum_in_byte_0),
		T(params_other_combination_is_bad_parameters_from_ta),
		T(memref_null_accepts_a_null_inout),
		T(memref_null_refuses_a_real_buffer),
		T(memref_null_needs_it_at_index_0),
		T(null_memref_is_seen_with_size_0),
		T(aes_perf_transforms_input_into_output),
		T(aes_perf_short_output_reports_needed_size),
		T(invoke_tests_unknown_cmd_is_bad_parameters),
		T(invoke_tests_core_test_commands_answer_like_optee),
		T(stats_alloc_of_all_pools_fills_64_byte_records),
		T(stats_alloc_record_has_optee_layout),
		T(stats_alloc_short_buffer_reports_needed_size),
		T(stats_alloc_of_one_pool_fills_one_record),
		T(stats_pager_reports_zero_counters),
		T(stats_unknown_cmd_is_bad_parameters),
		T(stats_alloc_of_unknown_pool_is_bad_parameters),
		T(stats_get_time_needs_two_value_outputs),
		T(stats_get_time_reports_nw_and_tee_time),
		T(get_devices_lists_the_invoke_tests_pta),
		T(get_devices_short_buffer_reports_needed_size),
		T(get_devices_into_null_buffer_is_short_buffer),
		T(supplicant_and_rpmb_device_lists_are_empty),
		T(device_enum_unknown_cmd_is_not_implemented),
		T(device_enum_needs_one_memref_output),
		T(bigbuf_xors_16_mib_and_sums_input),
		T(bigbuf_accepts_registered_memory),
		T(bigbuf_short_output_reports_needed_size),
		T(bigbuf_wrong_param_types_are_bad_parameters),
		T(yield_over_limit_is_bad_parameters),
		T(notify_value_above_max_is_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
