// SPDX-License-Identifier: BSD-2-Clause
/*
 * GlobalPlatform TEE Client API against the OP-TEE model (loopback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>

#include "loopback.h"
#include "model_tas.h"

static const TEEC_UUID invoke_tests = { 0xd96a5b40,
					0xc3e5,
					0x21e3,
					{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5,
					  0xc6, 0x1b } };
static const TEEC_UUID absent = {
	0x7e57da7a, 0x0000, 0x4000, { 0x80, 0, 1, 2, 3, 4, 5, 6 }
};
static const TEEC_UUID bigbuf = { 0x7467626d,
				  0x0001,
				  0x4000,
				  { 0x80, 0x00, 0x74, 0x65, 0x65, 0x67, 0x61,
				    0x74 } };
static const TEEC_UUID yield_ta = { 0x7467626d,
				    0x0002,
				    0x4000,
				    { 0x80, 0x00, 0x74, 0x65, 0x65, 0x67, 0x61,
				      0x74 } };

struct fx {
	struct lb_guest *g;
	struct tg_vcpu *vcpu;
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t pages_before;
};

static int group_setup(void **state)
{
	(void)state;
	return lb_env_init(NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	lb_env_fini();
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->g = lb_guest_create(1, 64);
	if (!f->g)
		return -1;
	f->vcpu = lb_guest_enter(f->g);
	f->pages_before = lb_guest_pages_used(f->g);
	if (TEEC_InitializeContext(NULL, &f->ctx) != TEEC_SUCCESS)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	uint32_t pages, before = f->pages_before;

	TEEC_FinalizeContext(&f->ctx);
	pages = lb_guest_pages_used(f->g);
	/* Over FF-A: nothing stays shared either. */
	if (tg_model_ffa_shares(lb_model(), UINT32_MAX))
		return -1;
	lb_guest_destroy(f->g);
	free(f);
	/* Context finalized: the driver gave every page back. */
	return pages == before && lb_violations() == 0 ? 0 : -1;
}

static void open_invoke_tests(struct fx *f)
{
	uint32_t origin = 0;

	assert_int_equal(TEEC_OpenSession(&f->ctx, &f->s, &invoke_tests,
					  TEEC_LOGIN_PUBLIC, NULL, NULL,
					  &origin),
			 TEEC_SUCCESS);
}

static void test_initialize_context_outside_a_vcpu_fails(void **state)
{
	TEEC_Context c;

	(void)state;
	lb_guest_enter(NULL);
	assert_int_not_equal(TEEC_InitializeContext(NULL, &c), TEEC_SUCCESS);
	lb_guest_enter(((struct fx *)*state)->g);
}

static void test_open_session_and_close(void **state)
{
	struct fx *f = *state;

	open_invoke_tests(f);
	TEEC_CloseSession(&f->s);
}

static void test_open_absent_ta_gives_item_not_found_from_tee(void **state)
{
	struct fx *f = *state;
	uint32_t origin = 0;

	assert_int_equal(TEEC_OpenSession(&f->ctx, &f->s, &absent,
					  TEEC_LOGIN_PUBLIC, NULL, NULL,
					  &origin),
			 TEEC_ERROR_ITEM_NOT_FOUND);
	assert_int_equal(origin, TEEC_ORIGIN_TEE);
}

static void test_invoke_value_inout_adds(void **state)
{
	struct fx *f = *state;
	TEEC_Operation op;
	uint32_t origin;

	open_invoke_tests(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[1].value.a = 1000;
	op.params[1].value.b = 234;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	assert_int_equal(op.params[1].value.a, 1234);
	TEEC_CloseSession(&f->s);
}

static void test_invoke_three_values_sum_into_output(void **state)
{
	struct fx *f = *state;
	TEEC_Operation op;
	uint32_t origin;

	open_invoke_tests(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT,
					 TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT);
	op.params[0].value.a = 1;
	op.params[1].value.a = 2;
	op.params[2].value.a = 3;
	op.params[0].value.b = 10;
	op.params[1].value.b = 20;
	op.params[2].value.b = 30;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	assert_int_equal(op.params[3].value.a, 6);
	assert_int_equal(op.params[3].value.b, 60);
	TEEC_CloseSession(&f->s);
}

static void test_temp_memref_inout_is_copied_both_ways(void **state)
{
	struct fx *f = *state;
	uint8_t buf[9000];
	TEEC_Operation op;
	uint32_t origin;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	open_invoke_tests(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = sizeof(buf);
	{
		uint8_t want = lb_sum8(buf, sizeof(buf));

		assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
				 TEEC_SUCCESS);
		assert_int_equal(buf[0], want);
	}
	assert_int_equal(op.params[0].tmpref.size, sizeof(buf));
	TEEC_CloseSession(&f->s);
}

/*
 * register_tmp: REGISTER_SHM, the call with an RMEM, UNREGISTER_SHM; over
 * FF-A a share, the call with an FMEM, an UNREGISTER_SHM direct request
 * and a reclaim (one std call).
 */
static void test_temp_memref_registered_when_asked(void **state)
{
	struct fx *f = *state;
	struct tg_optee_stats before, after;
	uint8_t buf[5000];
	TEEC_Operation op;
	uint32_t origin;
	uint8_t want;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	want = lb_sum8(buf, sizeof(buf));
	open_invoke_tests(f);
	f->ctx.register_tmp = true;
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = sizeof(buf);
	tg_optee_get_stats(f->ctx.drv, &before);
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	tg_optee_get_stats(f->ctx.drv, &after);
	assert_int_equal(buf[0], want);
	if (tg_optee_info(f->ctx.drv)->ffa) {
		assert_int_equal(after.std_calls - before.std_calls, 1);
		assert_int_equal(after.ffa_shares - before.ffa_shares, 1);
		assert_int_equal(after.ffa_reclaims - before.ffa_reclaims, 1);
	} else {
		assert_int_equal(after.std_calls - before.std_calls, 3);
	}
	f->ctx.register_tmp = false;
	tg_optee_get_stats(f->ctx.drv, &before);
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	tg_optee_get_stats(f->ctx.drv, &after);
	assert_int_equal(after.std_calls - before.std_calls, 1);
	TEEC_CloseSession(&f->s);
}

static void test_temp_memref_null_is_accepted(void **state)
{
	struct fx *f = *state;
	TEEC_Operation op;
	uint32_t origin;

	open_invoke_tests(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	assert_int_equal(TEEC_InvokeCommand(&f->s, 10, &op, &origin),
			 TEEC_SUCCESS);
	TEEC_CloseSession(&f->s);
}

static void open_bigbuf(struct fx *f)
{
	uint32_t origin;

	assert_int_equal(TEEC_OpenSession(&f->ctx, &f->s, &bigbuf,
					  TEEC_LOGIN_PUBLIC, NULL, NULL,
					  &origin),
			 TEEC_SUCCESS);
}

static void test_temp_memref_output_size_is_written_back(void **state)
{
	struct fx *f = *state;
	uint8_t in[100], out[300];
	TEEC_Operation op;
	uint32_t origin;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	open_bigbuf(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].tmpref.buffer = in;
	op.params[0].tmpref.size = sizeof(in);
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = sizeof(out);
	assert_int_equal(TEEC_InvokeCommand(&f->s, MODEL_TA_BIGBUF_CMD_XOR, &op,
					    &origin),
			 TEEC_SUCCESS);
	assert_int_equal(op.params[1].tmpref.size, sizeof(in));
	for (i = 0; i < sizeof(in); i++)
		assert_int_equal(out[i], in[i] ^ MODEL_TA_BIGBUF_XOR_BYTE);
	assert_int_equal(op.params[2].value.b, sizeof(in));
	TEEC_CloseSession(&f->s);
}

static void test_temp_memref_short_buffer_reports_needed_size(void **state)
{
	struct fx *f = *state;
	uint8_t in[100] = { 0 }, out[10];
	TEEC_Operation op;
	uint32_t origin;

	open_bigbuf(f);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].tmpref.buffer = in;
	op.params[0].tmpref.size = sizeof(in);
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = sizeof(out);
	assert_int_equal(TEEC_InvokeCommand(&f->s, MODEL_TA_BIGBUF_CMD_XOR, &op,
					    &origin),
			 TEEC_ERROR_SHORT_BUFFER);
	assert_int_equal(op.params[1].tmpref.size, sizeof(in));
	TEEC_CloseSession(&f->s);
}

static void test_allocated_shm_whole_memref(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 20000,
				  .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
	TEEC_Operation op;
	uint32_t origin;
	uint8_t want;

	open_invoke_tests(f);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	assert_non_null(shm.buffer);
	memset(shm.buffer, 3, shm.size);
	want = lb_sum8(shm.buffer, shm.size);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	assert_int_equal(((uint8_t *)shm.buffer)[0], want);
	TEEC_ReleaseSharedMemory(&shm);
	assert_null(shm.buffer);
	TEEC_CloseSession(&f->s);
}

static void test_allocated_shm_partial_memref_with_offset(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 8192,
				  .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
	TEEC_Operation op;
	uint32_t origin;
	uint8_t *b, want;
	size_t i;

	open_invoke_tests(f);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	b = shm.buffer;
	for (i = 0; i < shm.size; i++)
		b[i] = (uint8_t)(i * 5);
	want = lb_sum8(b + 4000, 1000);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, TEEC_NONE,
					 TEEC_MEMREF_PARTIAL_INOUT, TEEC_NONE);
	op.params[2].memref.parent = &shm;
	op.params[2].memref.offset = 4000;
	op.params[2].memref.size = 1000;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	assert_int_equal(b[4000], want);
	assert_int_equal(b[0], 0); /* outside the partial range: untouched */
	TEEC_ReleaseSharedMemory(&shm);
	TEEC_CloseSession(&f->s);
}

static void test_partial_input_and_output_memrefs(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory a = { .size = 1000, .flags = TEEC_MEM_INPUT };
	TEEC_SharedMemory b = { .size = 1000, .flags = TEEC_MEM_OUTPUT };
	TEEC_Operation op;
	uint32_t origin;
	uint8_t *pa, *pb;
	size_t i;

	open_bigbuf(f);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &a), TEEC_SUCCESS);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &b), TEEC_SUCCESS);
	pa = a.buffer;
	pb = b.buffer;
	for (i = 0; i < a.size; i++)
		pa[i] = (uint8_t)(i * 7);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT,
					 TEEC_MEMREF_PARTIAL_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &a;
	op.params[0].memref.offset = 100;
	op.params[0].memref.size = 200;
	op.params[1].memref.parent = &b;
	op.params[1].memref.offset = 50;
	op.params[1].memref.size = 300;
	assert_int_equal(TEEC_InvokeCommand(&f->s, MODEL_TA_BIGBUF_CMD_XOR, &op,
					    &origin),
			 TEEC_SUCCESS);
	assert_int_equal(op.params[1].memref.size, 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(pb[50 + i],
				 pa[100 + i] ^ MODEL_TA_BIGBUF_XOR_BYTE);
	assert_int_equal(pb[0], 0);
	TEEC_ReleaseSharedMemory(&b);
	TEEC_ReleaseSharedMemory(&a);
	TEEC_CloseSession(&f->s);
}

static void test_partial_memref_beyond_parent_is_bad_parameters(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 100, .flags = TEEC_MEM_INPUT };
	TEEC_Operation op;
	uint32_t origin = 0;

	open_invoke_tests(f);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.offset = 90;
	op.params[0].memref.size = 20;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(origin, TEEC_ORIGIN_API);
	TEEC_ReleaseSharedMemory(&shm);
	TEEC_CloseSession(&f->s);
}

static void
test_partial_output_on_input_only_shm_is_bad_parameters(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 100, .flags = TEEC_MEM_INPUT };
	TEEC_Operation op;
	uint32_t origin = 0;

	open_invoke_tests(f);
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm;
	op.params[0].memref.size = 10;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_ERROR_BAD_PARAMETERS);
	TEEC_ReleaseSharedMemory(&shm);
	TEEC_CloseSession(&f->s);
}

static void register_and_sum(struct fx *f, uint8_t *buf, size_t len,
			     bool expect_shadow)
{
	TEEC_SharedMemory shm = { .buffer = buf,
				  .size = len,
				  .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
	TEEC_Operation op;
	uint32_t origin;
	uint8_t want;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 3 + 1);
	want = lb_sum8(buf, len);
	open_invoke_tests(f);
	assert_int_equal(TEEC_RegisterSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	assert_int_equal(shm.shadow_buffer != NULL, expect_shadow);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm;
	assert_int_equal(TEEC_InvokeCommand(&f->s, 1, &op, &origin),
			 TEEC_SUCCESS);
	assert_int_equal(buf[0], want);
	TEEC_ReleaseSharedMemory(&shm);
	assert_ptr_equal(shm.buffer, buf); /* a registered buffer stays */
	TEEC_CloseSession(&f->s);
}

static void test_register_guest_buffer_in_place(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = tg_optee_mem_alloc(f->ctx.drv, 12345);

	assert_non_null(buf);
	register_and_sum(f, buf + 7, 12000, false);
	tg_optee_mem_free(f->ctx.drv, buf);
}

static void test_register_foreign_buffer_is_shadowed(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(5000);

	assert_non_null(buf);
	register_and_sum(f, buf, 5000, true);
	free(buf);
}

static void test_release_shared_memory_returns_pages(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 50000, .flags = TEEC_MEM_OUTPUT };
	uint32_t before;

	/* The first call fills the driver's argument caches: warm up. */
	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	TEEC_ReleaseSharedMemory(&shm);
	shm.size = 50000;
	before = lb_guest_pages_used(f->g);

	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_SUCCESS);
	assert_true(lb_guest_pages_used(f->g) > before);
	TEEC_ReleaseSharedMemory(&shm);
	assert_int_equal(lb_guest_pages_used(f->g), before);
}

static void test_allocate_with_bad_flags_is_bad_parameters(void **state)
{
	struct fx *f = *state;
	TEEC_SharedMemory shm = { .size = 10, .flags = 0x80 };

	assert_int_equal(TEEC_AllocateSharedMemory(&f->ctx, &shm),
			 TEEC_ERROR_BAD_PARAMETERS);
}

struct canceller {
	TEEC_Operation *op;
	int done; /* the invoke returned */
};

/*
 * Cancel once the command is under way, and again every millisecond until
 * it returns: a single cancel after a fixed sleep raced the yield TA, which
 * on an idle machine can end before the sleep does.
 */
static void cancel_main(struct tg_vcpu *vcpu, void *arg)
{
	struct canceller *c = arg;
	int i;

	(void)vcpu;
	for (i = 0;
	     i < 2000 && !__atomic_load_n(&c->op->started, __ATOMIC_ACQUIRE);
	     i++)
		usleep(1000);
	for (i = 0; i < 10000 && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
	     i++) {
		TEEC_RequestCancellation(c->op);
		usleep(1000);
	}
}

static void test_request_cancellation_cancels_a_running_command(void **state)
{
	struct fx *f = *state;
	struct canceller c;
	TEEC_Operation op;
	uint32_t origin = 0;
	TEEC_Result r;
	int idx;

	assert_int_equal(TEEC_OpenSession(&f->ctx, &f->s, &yield_ta,
					  TEEC_LOGIN_PUBLIC, NULL, NULL,
					  &origin),
			 TEEC_SUCCESS);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = MODEL_TA_YIELD_MAX;
	c.op = &op;
	c.done = 0;
	idx = tg_vcpu_spawn(f->vcpu, cancel_main, &c);
	assert_true(idx > 0);
	r = TEEC_InvokeCommand(&f->s, MODEL_TA_YIELD_CMD_YIELD, &op, &origin);
	__atomic_store_n(&c.done, 1, __ATOMIC_RELEASE);
	tg_vcpu_join(f->vcpu, idx);
	assert_int_equal(r, TEEC_ERROR_CANCEL);
	TEEC_CloseSession(&f->s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_initialize_context_outside_a_vcpu_fails),
		T(test_open_session_and_close),
		T(test_open_absent_ta_gives_item_not_found_from_tee),
		T(test_invoke_value_inout_adds),
		T(test_invoke_three_values_sum_into_output),
		T(test_temp_memref_inout_is_copied_both_ways),
		T(test_temp_memref_registered_when_asked),
		T(test_temp_memref_null_is_accepted),
		T(test_temp_memref_output_size_is_written_back),
		T(test_temp_memref_short_buffer_reports_needed_size),
		T(test_allocated_shm_whole_memref),
		T(test_allocated_shm_partial_memref_with_offset),
		T(test_partial_input_and_output_memrefs),
		T(test_partial_memref_beyond_parent_is_bad_parameters),
		T(test_partial_output_on_input_only_shm_is_bad_parameters),
		T(test_register_guest_buffer_in_place),
		T(test_register_foreign_buffer_is_shadowed),
		T(test_release_shared_memory_returns_pages),
		T(test_allocate_with_bad_flags_is_bad_parameters),
		T(test_request_cancellation_cancels_a_running_command),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
