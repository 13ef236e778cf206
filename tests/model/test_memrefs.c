// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: memory references (TMEM page lists, NULL, reserved pool,
 * RMEM) and REGISTER_SHM / UNREGISTER_SHM / CALL_WITH_REGD_ARG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "model_tas.h"

static struct tg_model *m;
static struct nw nw;
static uint32_t session;
static struct ncbuf buf;
static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t yield_ta[16] = MODEL_TA_YIELD_UUID;

#define POOL_PAGES 16

static int setup(void **state)
{
	struct tg_model_config cfg = { 0 };

	(void)state;
	m = model_new(&cfg);
	/* A reserved pool right after the first page of RAM. */
	model_free_all(m);
	cfg.reserved_shm_base = RAM_BASE + PAGE;
	cfg.reserved_shm_size = POOL_PAGES * PAGE;
	m = model_new(&cfg);
	ram.next_page = RAM_BASE + (POOL_PAGES + 1) * PAGE;
	nw_init(&nw, GUEST);
	session = open_ok(m, &nw, invoke_tests);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_free_all(m);
	m = NULL;
	return 0;
}

/* PARAMS with one MEMREF_INOUT: byte 0 becomes the sum of all bytes. */
static struct optee_msg_arg *sum_arg(uint64_t *pa)
{
	struct optee_msg_arg *a =
		invoke_arg(session, PTA_INVOKE_TESTS_CMD_PARAMS, 1, pa);

	return a;
}

static uint32_t run(uint64_t pa, struct optee_msg_arg *a)
{
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

static void noncontig_tmem_is_read_across_scattered_pages(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint8_t expect = 0;

	(void)state;
	ncbuf_new(&buf, 3 * PAGE, 256);
	for (uint64_t i = 0; i < buf.size; i++) {
		*ncbuf_byte(&buf, i) = (uint8_t)(i * 7);
		expect = (uint8_t)(expect + (uint8_t)(i * 7));
	}
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&buf, 0), expect);
	assert_int_equal(ram.cross_page_maps, 0);
}

static void page_list_spanning_two_list_pages_is_followed(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint64_t size = 600 * PAGE;

	(void)state;
	ncbuf_new(&buf, size, 0);
	*ncbuf_byte(&buf, size - 1) = 5;
	*ncbuf_byte(&buf, 0) = 1;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = size;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&buf, 0), 6);
}

static void misaligned_page_entry_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint64_t *list;

	(void)state;
	ncbuf_new(&buf, 2 * PAGE, 0);
	list = pa_ptr(buf.buf_ptr & ~(PAGE - 1));
	list[1] += 16;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void page_outside_ns_ram_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint64_t *list;

	(void)state;
	ncbuf_new(&buf, 2 * PAGE, 0);
	list = pa_ptr(buf.buf_ptr & ~(PAGE - 1));
	list[1] = 0x80000000ull; /* secure or device memory */
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_true(ram.bad_maps > 0);
}

static void other_clients_page_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	ncbuf_new(&buf, 2 * PAGE, 0);
	ram.fenced_pa = buf.data_pages[1];
	ram.fenced_owner = 2;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void misaligned_next_list_pointer_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint64_t *list;

	(void)state;
	ncbuf_new(&buf, 600 * PAGE, 0);
	list = pa_ptr(buf.buf_ptr & ~(PAGE - 1));
	list[511] += 8;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void huge_noncontig_size_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = 1ull << 40;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void wrapping_noncontig_size_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr | 0xFFF;
	a->params[0].u.tmem.size = UINT64_MAX - 0x800;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void contiguous_tmem_in_ram_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	a->params[0].u.tmem.buf_ptr = page_alloc();
	a->params[0].u.tmem.size = 16;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void contiguous_tmem_in_reserved_pool_is_accepted(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);
	uint64_t data = RAM_BASE + PAGE + PAGE - 2; /* crosses a page */
	uint8_t *p = pa_ptr(data);

	(void)state;
	p[0] = 1;
	p[1] = 2;
	p[2] = 3;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	a->params[0].u.tmem.buf_ptr = data;
	a->params[0].u.tmem.size = 3;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(p[0], 6);
}

static void contiguous_tmem_leaving_reserved_pool_is_bad(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
	a->params[0].u.tmem.buf_ptr = RAM_BASE + PAGE * POOL_PAGES;
	a->params[0].u.tmem.size = 2 * PAGE;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void arg_in_reserved_pool_need_not_be_aligned(void **state)
{
	uint64_t pa = RAM_BASE + PAGE + 0x100;
	struct optee_msg_arg *a = pa_ptr(pa);
	struct regs r;

	(void)state;
	memset(a, 0, 64);
	a->cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	r = smc(m, GUEST, OPTEE_SMC_CALL_WITH_ARG, 0, pa, 0);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
}

static void noncontig_on_value_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

/* ---- Registered buffers ------------------------------------------------ */

static void rmem_in_registered_buffer_works(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a;
	uint8_t expect = 0;

	(void)state;
	ncbuf_new(&buf, 3 * PAGE, 256);
	assert_int_equal(register_shm(m, &nw, &buf, 0xABC), TEEC_SUCCESS);
	for (uint64_t i = 10; i < 1010; i++) {
		*ncbuf_byte(&buf, i) = (uint8_t)i;
		expect = (uint8_t)(expect + (uint8_t)i);
	}
	a = sum_arg(&pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 0xABC;
	a->params[0].u.rmem.offs = 10;
	a->params[0].u.rmem.size = 1000;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&buf, 10), expect);
}

static void rmem_with_unknown_cookie_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 0xDEAD;
	a->params[0].u.rmem.size = 1;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void rmem_beyond_buffer_is_security_error(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 1), TEEC_SUCCESS);
	a = sum_arg(&pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 1;
	a->params[0].u.rmem.offs = 100;
	a->params[0].u.rmem.size = PAGE - 99;
	assert_int_equal(run(pa, a), TEEC_ERROR_SECURITY);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void rmem_offset_wrapping_around_is_security_error(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 1), TEEC_SUCCESS);
	a = sum_arg(&pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 1;
	a->params[0].u.rmem.offs = UINT64_MAX - 10;
	a->params[0].u.rmem.size = 20;
	assert_int_equal(run(pa, a), TEEC_ERROR_SECURITY);
}

static void other_guests_cookie_is_bad_parameters(void **state)
{
	struct nw other;
	uint64_t pa;
	struct optee_msg_arg *a;
	uint32_t other_session;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 5), TEEC_SUCCESS);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	nw_init(&other, 2);
	other_session = open_ok(m, &other, invoke_tests);
	a = invoke_arg(other_session, PTA_INVOKE_TESTS_CMD_PARAMS, 1, &pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 5;
	a->params[0].u.rmem.size = 16;
	assert_int_equal(call_arg(m, &other, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

static void register_needs_exactly_tmem_output_noncontig(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(1, &pa);

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	a->cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	a->params[0].u.tmem.shm_ref = 9;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void register_needs_exactly_one_param(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	a->cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[0].u.tmem.size = buf.size;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void register_with_duplicate_cookie_is_refused(void **state)
{
	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 3), TEEC_SUCCESS);
	assert_int_equal(register_shm(m, &nw, &buf, 3),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void register_with_bad_page_list_is_bad_parameters(void **state)
{
	uint64_t *list;

	(void)state;
	ncbuf_new(&buf, 2 * PAGE, 0);
	list = pa_ptr(buf.buf_ptr & ~(PAGE - 1));
	list[0] = 0x10;
	assert_int_equal(register_shm(m, &nw, &buf, 3),
			 TEEC_ERROR_BAD_PARAMETERS);
}

/* OP-TEE 4.10: mobj_reg_shm_release_by_cookie() finds nothing. */
static void unregister_of_unknown_cookie_is_bad_parameters(void **state)
{
	(void)state;
	assert_int_equal(unregister_shm(m, &nw, 0x999),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void unregistered_buffer_is_gone(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 3), TEEC_SUCCESS);
	assert_int_equal(unregister_shm(m, &nw, 3), TEEC_SUCCESS);
	a = sum_arg(&pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = 3;
	a->params[0].u.rmem.size = 1;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
}

static void unregister_needs_exactly_one_param(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 3), TEEC_SUCCESS);
	a->cmd = OPTEE_MSG_CMD_UNREGISTER_SHM;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = 3;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	/* OP-TEE does not look at the attr of the one parameter. */
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
}

static void arg_in_reserved_pool_must_be_8_byte_aligned(void **state)
{
	uint64_t pa = RAM_BASE + PAGE + 0x104;

	(void)state;
	assert_int_equal(smc(m, GUEST, OPTEE_SMC_CALL_WITH_ARG, 0, pa, 0).a[0],
			 OPTEE_SMC_RETURN_EBADADDR);
}

static void null_memref_with_noncontig_flag_is_null(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(session, PTA_INVOKE_TESTS_CMD_MEMREF_NULL, 1, &pa);

	(void)state;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.size = 100;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	/* The TA saw (and reports) size 0. */
	assert_int_equal(a->params[0].u.tmem.size, 0);
}

/* The arg of a suspended CALL_WITH_REGD_ARG lives in the buffer. */
static struct regs start_regd_yield(uint64_t cookie, uint64_t offs, uint32_t s)
{
	struct optee_msg_arg *a;

	if (offs > buf.size || buf.size - offs < 32 + 32 + 160)
		goto call;
	a = (void *)ncbuf_byte(&buf, offs);
	memset(a, 0, 32 + 32 + 160);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = s;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 2;
call:
	return smc(m, GUEST, OPTEE_SMC_CALL_WITH_REGD_ARG, cookie >> 32,
		   cookie & 0xFFFFFFFFu, offs);
}

static void regd_arg_runs_a_message_in_a_registered_buffer(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	struct optee_msg_arg *a;
	struct regs r;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 0x44), TEEC_SUCCESS);
	r = start_regd_yield(0x44, 512, s);
	a = (void *)ncbuf_byte(&buf, 512);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.b, 2);
}

static void regd_arg_with_unknown_cookie_is_ebadaddr(void **state)
{
	(void)state;
	assert_int_equal(
		smc(m, GUEST, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x4242, 0).a[0],
		OPTEE_SMC_RETURN_EBADADDR);
}

static void regd_arg_not_fitting_buffer_is_ebadaddr(void **state)
{
	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 0x44), TEEC_SUCCESS);
	/* 64-byte arg + 160-byte RPC arg do not fit in the last 200. */
	((struct optee_msg_arg *)(void *)ncbuf_byte(&buf, PAGE - 200))
		->num_params = 1;
	assert_int_equal(start_regd_yield(0x44, PAGE - 200, 1).a[0],
			 OPTEE_SMC_RETURN_EBADADDR);
	assert_int_equal(start_regd_yield(0x44, UINT64_MAX - 8, 1).a[0],
			 OPTEE_SMC_RETURN_EBADADDR);
}

static void unregister_of_buffer_in_use_is_busy(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	struct regs r;

	(void)state;
	ncbuf_new(&buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &buf, 0x44), TEEC_SUCCESS);
	r = start_regd_yield(0x44, 0, s);
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r.a[0]));
	assert_int_equal(unregister_shm(m, &nw, 0x44), TEEC_ERROR_BUSY);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(unregister_shm(m, &nw, 0x44), TEEC_SUCCESS);
}

static void memref_output_size_is_written_back(void **state)
{
	uint32_t s;
	uint64_t pa;
	struct optee_msg_arg *a;
	const uint8_t stats[16] = PTA_STATS_UUID;

	(void)state;
	s = open_ok(m, &nw, stats);
	ncbuf_new(&buf, PAGE, 0);
	a = invoke_arg(s, PTA_STATS_CMD_ALLOC, 2, &pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[0].u.value.a = 1;
	a->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[1].u.tmem.buf_ptr = buf.buf_ptr;
	a->params[1].u.tmem.size = PAGE;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	assert_int_equal(a->params[1].u.tmem.size, 64);
}

/* ---- OP-TEE 4.10's NONCONTIG TMEM leak (cfg.leak_noncontig_tmem) ------- */

static int setup_leaky(void **state)
{
	struct tg_model_config cfg = { .leak_noncontig_tmem = true };

	(void)state;
	m = model_new(&cfg);
	nw_init(&nw, GUEST);
	session = open_ok(m, &nw, invoke_tests);
	return 0;
}

/* Sum @b's first page (INOUT TMEM, 1 page) with shm_ref @cookie. */
static uint32_t sum_tmem(struct ncbuf *b, uint64_t cookie)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = b->buf_ptr;
	a->params[0].u.tmem.size = PAGE;
	a->params[0].u.tmem.shm_ref = cookie;
	return run(pa, a);
}

/* Sum the first page of the registered buffer @cookie (INOUT RMEM). */
static uint32_t sum_rmem(uint64_t cookie)
{
	uint64_t pa;
	struct optee_msg_arg *a = sum_arg(&pa);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[0].u.rmem.shm_ref = cookie;
	a->params[0].u.rmem.size = PAGE;
	return run(pa, a);
}

/* stats ALLOC, pool 1 (the heap): allocated bytes. */
static uint32_t heap_allocated(void)
{
	const uint8_t stats[16] = PTA_STATS_UUID;
	struct optee_msg_arg *a;
	uint32_t s, allocated;
	struct ncbuf out;
	uint64_t pa;

	s = open_ok(m, &nw, stats);
	ncbuf_new(&out, PAGE, 0);
	a = invoke_arg(s, PTA_STATS_CMD_ALLOC, 2, &pa);
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[0].u.value.a = 1;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT;
	assert_int_equal(register_shm(m, &nw, &out, 0x57A7), TEEC_SUCCESS);
	a->params[1].u.rmem.shm_ref = 0x57A7;
	a->params[1].u.rmem.size = 64;
	assert_int_equal(run(pa, a), TEEC_SUCCESS);
	memcpy(&allocated, ncbuf_byte(&out, 40), sizeof(allocated));
	assert_int_equal(unregister_shm(m, &nw, 0x57A7), TEEC_SUCCESS);
	assert_int_equal(close_session(m, &nw, s), TEEC_SUCCESS);
	return allocated;
}

/*
 * By default a TMEM is gone when its call ends, whatever its shm_ref:
 * the registered buffer with that cookie is the one an RMEM reaches.
 */
static void noncontig_tmem_leaves_nothing_behind(void **state)
{
	struct ncbuf a_buf, b_buf;

	(void)state;
	ncbuf_new(&a_buf, PAGE, 0);
	ncbuf_new(&b_buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &a_buf, 0xA), TEEC_SUCCESS);
	memset(ncbuf_byte(&b_buf, 0), 2, 8);
	assert_int_equal(sum_tmem(&b_buf, 0xA), TEEC_SUCCESS);
	*ncbuf_byte(&a_buf, 1) = 5;
	*ncbuf_byte(&b_buf, 1) = 7;
	assert_int_equal(sum_rmem(0xA), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&a_buf, 0), 5);
	assert_int_equal(*ncbuf_byte(&b_buf, 0), 16);
	assert_int_equal(unregister_shm(m, &nw, 0xA), TEEC_SUCCESS);
	assert_int_equal(heap_allocated(), 0);
}

/*
 * OP-TEE 4.10: the TMEM's object outlives the call under its shm_ref, in
 * front of the registered buffer: the RMEM reaches the TMEM's page, and
 * UNREGISTER_SHM meets the guarded object first.
 */
static void leaked_tmem_stands_in_for_a_registered_cookie(void **state)
{
	struct ncbuf a_buf, b_buf;

	(void)state;
	ncbuf_new(&a_buf, PAGE, 0);
	ncbuf_new(&b_buf, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &a_buf, 0xA), TEEC_SUCCESS);
	assert_int_equal(sum_tmem(&b_buf, 0xA), TEEC_SUCCESS);
	*ncbuf_byte(&a_buf, 1) = 5;
	*ncbuf_byte(&b_buf, 1) = 7;
	assert_int_equal(sum_rmem(0xA), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&a_buf, 0), 0);
	assert_int_equal(*ncbuf_byte(&b_buf, 0), 7);
	assert_int_equal(unregister_shm(m, &nw, 0xA),
			 TEEC_ERROR_BAD_PARAMETERS);
}

/* Registering the cookie again puts the new buffer in front of it. */
static void leaked_tmem_cookie_can_be_registered_again(void **state)
{
	struct ncbuf a_buf, b_buf;

	(void)state;
	ncbuf_new(&a_buf, PAGE, 0);
	ncbuf_new(&b_buf, PAGE, 0);
	assert_int_equal(sum_tmem(&b_buf, 0xB), TEEC_SUCCESS);
	assert_int_equal(register_shm(m, &nw, &a_buf, 0xB), TEEC_SUCCESS);
	*ncbuf_byte(&a_buf, 1) = 5;
	assert_int_equal(sum_rmem(0xB), TEEC_SUCCESS);
	assert_int_equal(*ncbuf_byte(&a_buf, 0), 5);
	assert_int_equal(unregister_shm(m, &nw, 0xB), TEEC_SUCCESS);
}

/* 96 bytes of heap per leaked 1-page TMEM, as stats ALLOC shows them,
 * even when the call fails after the TMEM was built. */
static void leaked_tmem_heap_shows_in_stats_alloc(void **state)
{
	struct ncbuf b_buf;
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	ncbuf_new(&b_buf, PAGE, 0);
	assert_int_equal(heap_allocated(), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sum_tmem(&b_buf, 0), TEEC_SUCCESS);
	assert_int_equal(heap_allocated(), 3 * 96);
	a = invoke_arg(session, PTA_INVOKE_TESTS_CMD_PARAMS, 2, &pa);
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = b_buf.buf_ptr;
	a->params[0].u.tmem.size = PAGE;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	a->params[1].u.rmem.shm_ref = 0xDEAD;
	assert_int_equal(run(pa, a), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(heap_allocated(), 4 * 96);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T_LEAKY(f) cmocka_unit_test_setup_teardown(f, setup_leaky, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(noncontig_tmem_is_read_across_scattered_pages),
		T(page_list_spanning_two_list_pages_is_followed),
		T(misaligned_page_entry_is_bad_parameters),
		T(page_outside_ns_ram_is_bad_parameters),
		T(other_clients_page_is_bad_parameters),
		T(misaligned_next_list_pointer_is_bad_parameters),
		T(huge_noncontig_size_is_bad_parameters),
		T(wrapping_noncontig_size_is_bad_parameters),
		T(contiguous_tmem_in_ram_is_bad_parameters),
		T(contiguous_tmem_in_reserved_pool_is_accepted),
		T(contiguous_tmem_leaving_reserved_pool_is_bad),
		T(arg_in_reserved_pool_need_not_be_aligned),
		T(noncontig_on_value_is_bad_parameters),
		T(rmem_in_registered_buffer_works),
		T(rmem_with_unknown_cookie_is_bad_parameters),
		T(rmem_beyond_buffer_is_security_error),
		T(rmem_offset_wrapping_around_is_security_error),
		T(other_guests_cookie_is_bad_parameters),
		T(register_needs_exactly_tmem_output_noncontig),
		T(register_needs_exactly_one_param),
		T(register_with_duplicate_cookie_is_refused),
		T(register_with_bad_page_list_is_bad_parameters),
		T(unregister_of_unknown_cookie_is_bad_parameters),
		T(unregistered_buffer_is_gone),
		T(unregister_needs_exactly_one_param),
		T(arg_in_reserved_pool_must_be_8_byte_aligned),
		T(null_memref_with_noncontig_flag_is_null),
		T(regd_arg_runs_a_message_in_a_registered_buffer),
		T(regd_arg_with_unknown_cookie_is_ebadaddr),
		T(regd_arg_not_fitting_buffer_is_ebadaddr),
		T(unregister_of_buffer_in_use_is_busy),
		T(memref_output_size_is_written_back),
		T(noncontig_tmem_leaves_nothing_behind),
		T_LEAKY(leaked_tmem_stands_in_for_a_registered_cookie),
		T_LEAKY(leaked_tmem_cookie_can_be_registered_again),
		T_LEAKY(leaked_tmem_heap_shows_in_stats_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
