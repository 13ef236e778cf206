// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: std calls — argument location, message checks, sessions,
 * threads and RETURN_FROM_RPC.
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
static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t yield_ta[16] = MODEL_TA_YIELD_UUID;

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

static uint32_t call_pa(uint64_t fid, uint64_t pa)
{
	struct regs r = smc(m, GUEST, fid, pa >> 32, pa & 0xFFFFFFFFu, 0);

	return nw_finish(m, &nw, &r);
}

static void call_with_arg_runs_a_message(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 0, &pa);

	(void)state;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(nw.num_events, 0);
}

static void misaligned_arg_is_ebadaddr(void **state)
{
	uint64_t pa;

	(void)state;
	arg_new(0, &pa);
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, pa + 64),
			 OPTEE_SMC_RETURN_EBADADDR);
}

static void arg_outside_ns_ram_is_ebadaddr(void **state)
{
	(void)state;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, 0x1000),
			 OPTEE_SMC_RETURN_EBADADDR);
	assert_true(ram.bad_maps > 0);
}

static void arg_with_128_params_is_ebadaddr(void **state)
{
	uint64_t pa;

	(void)state;
	arg_new(128, &pa);
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, pa),
			 OPTEE_SMC_RETURN_EBADADDR);
}

static void arg_with_127_params_fits_a_page(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(127, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = 12345;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, pa),
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

static void rpc_arg_must_fit_in_the_same_page(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(123, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_RPC_ARG, pa),
			 OPTEE_SMC_RETURN_EBADADDR);
	a->num_params = 122;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_RPC_ARG, pa),
			 OPTEE_SMC_RETURN_OK);
}

static void unknown_msg_cmd_is_ebadcmd(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(0, &pa);

	(void)state;
	a->cmd = 99;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, pa),
			 OPTEE_SMC_RETURN_EBADCMD);
	a->cmd = OPTEE_MSG_CMD_FIRST_PROTMEM;
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, pa),
			 OPTEE_SMC_RETURN_EBADCMD);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
}

static void unknown_std_id_is_ebadcmd(void **state)
{
	uint64_t pa;

	(void)state;
	arg_new(0, &pa);
	assert_int_equal(call_pa(OPTEE_SMC_STD(0x55), pa),
			 OPTEE_SMC_RETURN_EBADCMD);
}

static void invalid_attr_bits_are_bad_parameters_from_tee(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | (1ull << 20);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void meta_outside_open_session_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_PARAMS, 1, &pa);

	(void)state;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INOUT | OPTEE_MSG_ATTR_META;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

static void unknown_param_type_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 1, &pa);

	(void)state;
	a->params[0].attr = 4;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

static void more_than_four_ta_params_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 5, &pa);

	(void)state;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
}

static void open_session_needs_exact_meta_attrs(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(&a->params[0].u.value.a, invoke_tests, 16);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void open_session_with_unknown_login_is_bad_parameters(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);
	const uint64_t meta =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;

	(void)state;
	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->params[0].attr = meta;
	a->params[1].attr = meta;
	memcpy(&a->params[0].u.value.a, invoke_tests, 16);
	a->params[1].u.value.c = 3;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->session, 0);
}

static void close_session_with_params_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(1, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	a->session = s;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(close_session(m, &nw, s), TEEC_SUCCESS);
}

static void open_session_returns_a_session_id(void **state)
{
	uint32_t s1 = open_ok(m, &nw, invoke_tests);
	uint32_t s2 = open_ok(m, &nw, invoke_tests);

	(void)state;
	assert_int_not_equal(s1, s2);
}

static void close_session_of_unknown_id_is_bad_parameters(void **state)
{
	(void)state;
	assert_int_equal(close_session(m, &nw, 999), TEEC_ERROR_BAD_PARAMETERS);
}

static void closed_session_cannot_be_invoked(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	assert_int_equal(close_session(m, &nw, s), TEEC_SUCCESS);
	a = invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 0, &pa);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
}

static void other_guests_session_is_bad_parameters(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	struct nw other;
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	nw_init(&other, 2);
	a = invoke_arg(s, PTA_INVOKE_TESTS_CMD_TRACE, 0, &pa);
	assert_int_equal(call_arg(m, &other, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TEE);
	assert_int_equal(close_session(m, &other, s),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void cancel_of_known_session_succeeds(void **state)
{
	uint32_t s = open_ok(m, &nw, invoke_tests);
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(0, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_CANCEL;
	a->session = s;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
}

static void do_bottom_half_and_stop_async_notif_succeed(void **state)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(0, &pa);

	(void)state;
	a->cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	a->cmd = OPTEE_MSG_CMD_STOP_ASYNC_NOTIF;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
}

/* ---- Threads ----------------------------------------------------------- */

static void suspended_call_holds_its_thread(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	struct regs r = start_yield(m, &nw, s, 1);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(tg_model_threads_held(m, GUEST), 1);
	assert_int_equal(tg_model_threads_held(m, 2), 0);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 1);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
}

static void no_free_thread_is_ethread_limit(void **state)
{
	uint32_t s1 = open_ok(m, &nw, yield_ta);
	uint32_t s2 = open_ok(m, &nw, yield_ta);
	uint32_t s3 = open_ok(m, &nw, yield_ta);
	struct regs r1 = start_yield(m, &nw, s1, 1);
	struct regs r2 = start_yield(m, &nw, s2, 1);
	struct regs r3 = start_yield(m, &nw, s3, 1);

	(void)state;
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r1.a[0]));
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r2.a[0]));
	assert_int_not_equal(r1.a[3], r2.a[3]);
	assert_int_equal(r3.a[0], OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(nw_finish(m, &nw, &r1), OPTEE_SMC_RETURN_OK);
	r3 = start_yield(m, &nw, s3, 1);
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r3.a[0]));
	assert_int_equal(nw_finish(m, &nw, &r2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_finish(m, &nw, &r3), OPTEE_SMC_RETURN_OK);
}

static void ethread_limit_comes_before_ebadaddr(void **state)
{
	uint32_t s1 = open_ok(m, &nw, yield_ta);
	struct regs r1 = start_yield(m, &nw, s1, 1);
	struct regs r2 = start_yield(m, &nw, s1, 1);

	(void)state;
	/* Same session: the second command is refused BUSY at once. */
	assert_int_equal(r2.a[0], OPTEE_SMC_RETURN_OK);
	r2 = start_yield(m, &nw, open_ok(m, &nw, yield_ta), 1);
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r2.a[0]));
	assert_int_equal(call_pa(OPTEE_SMC_CALL_WITH_ARG, 0x1000),
			 OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(nw_finish(m, &nw, &r1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_finish(m, &nw, &r2), OPTEE_SMC_RETURN_OK);
}

static void resume_of_free_thread_is_eresume(void **state)
{
	(void)state;
	assert_int_equal(
		smc(m, GUEST, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 0).a[0],
		OPTEE_SMC_RETURN_ERESUME);
	assert_int_equal(
		smc(m, GUEST, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 1000).a[0],
		OPTEE_SMC_RETURN_ERESUME);
}

static void resume_of_other_guests_thread_is_eresume(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	struct regs r = start_yield(m, &nw, s, 1);

	(void)state;
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(
		smc(m, 2, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r.a[3]).a[0],
		OPTEE_SMC_RETURN_ERESUME);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
}

static void vm_destroyed_frees_threads_sessions_and_buffers(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	static struct ncbuf b;
	struct regs r;

	(void)state;
	ncbuf_new(&b, 3 * PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &b, 0x77), TEEC_SUCCESS);
	r = start_yield(m, &nw, s, 5);
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r.a[0]));
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_DESTROYED, GUEST).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, GUEST).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(
		smc(m, GUEST, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r.a[3])
			.a[0],
		OPTEE_SMC_RETURN_ERESUME);
	assert_int_equal(close_session(m, &nw, s), TEEC_ERROR_BAD_PARAMETERS);
	assert_int_equal(unregister_shm(m, &nw, 0x77),
			 TEEC_ERROR_BAD_PARAMETERS);
}

static void value_outputs_are_written_back(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_ta);
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, 0, 1, &pa);

	(void)state;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 3;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->ret_origin, TEEC_ORIGIN_TRUSTED_APP);
	assert_int_equal(a->params[0].u.value.b, 3);
	assert_int_equal(nw_count(&nw, EV_FOREIGN_INTR), 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(call_with_arg_runs_a_message),
		T(misaligned_arg_is_ebadaddr),
		T(arg_outside_ns_ram_is_ebadaddr),
		T(arg_with_128_params_is_ebadaddr),
		T(arg_with_127_params_fits_a_page),
		T(rpc_arg_must_fit_in_the_same_page),
		T(unknown_msg_cmd_is_ebadcmd),
		T(unknown_std_id_is_ebadcmd),
		T(invalid_attr_bits_are_bad_parameters_from_tee),
		T(meta_outside_open_session_is_bad_parameters),
		T(unknown_param_type_is_bad_parameters),
		T(more_than_four_ta_params_is_bad_parameters),
		T(open_session_needs_exact_meta_attrs),
		T(open_session_with_unknown_login_is_bad_parameters),
		T(close_session_with_params_is_bad_parameters),
		T(open_session_returns_a_session_id),
		T(close_session_of_unknown_id_is_bad_parameters),
		T(closed_session_cannot_be_invoked),
		T(other_guests_session_is_bad_parameters),
		T(cancel_of_known_session_succeeds),
		T(do_bottom_half_and_stop_async_notif_succeed),
		T(suspended_call_holds_its_thread),
		T(no_free_thread_is_ethread_limit),
		T(ethread_limit_comes_before_ebadaddr),
		T(resume_of_free_thread_is_eresume),
		T(resume_of_other_guests_thread_is_eresume),
		T(vm_destroyed_frees_threads_sessions_and_buffers),
		T(value_outputs_are_written_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
