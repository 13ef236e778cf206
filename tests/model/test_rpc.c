// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: RPCs — the exact sequences OP-TEE produces, the RPC
 * argument sources, the shm cache, notifications and random injection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "model_tas.h"

void nw_set_rpc_arg(uint64_t pa);

static struct tg_model *m;
static struct nw nw;
static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
static const uint8_t notify_uuid[16] = MODEL_TA_NOTIFY_UUID;
static const uint8_t missing_uuid[16] = { 1, 2,	 3,  4,	 5,  6,	 7,  8,
					  9, 10, 11, 12, 13, 14, 15, 16 };

#define CMD(c) (EV_CMD_BASE + (int)(c))

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
	if (m)
		model_free_all(m);
	m = NULL;
	return 0;
}

static struct optee_msg_arg *get_time_arg(uint32_t s, uint64_t *pa)
{
	struct optee_msg_arg *a = invoke_arg(s, PTA_STATS_CMD_GET_TIME, 2, pa);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	return a;
}

static void stats_get_time_does_alloc_cmd_free(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_GET_TIME), EV_FREE };

	(void)state;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_true(nw_saw_sequence(&nw, seq, 3));
	assert_int_equal(nw.last_alloc_size, 160);
	assert_int_equal(nw.last_cmd_num_params, 1);
	assert_int_equal(nw.last_cmd_params[0].attr,
			 OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT);
	assert_int_equal(nw.freed_cookies[0], nw.last_cmd_cookie);
	assert_int_equal(nw.allocs_outstanding, 0);
	assert_int_equal(a->params[0].u.value.a, 1234);
	assert_int_equal(a->params[0].u.value.b, 567);
}

static void rpc_arg_of_call_with_rpc_arg_is_used_without_alloc(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { CMD(OPTEE_RPC_CMD_GET_TIME) };
	struct regs r;

	(void)state;
	nw_set_rpc_arg(pa + OPTEE_MSG_GET_ARG_SIZE(2));
	r = smc(m, GUEST, OPTEE_SMC_CALL_WITH_RPC_ARG, 0, pa, 0);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_true(nw_saw_sequence(&nw, seq, 1));
	assert_int_equal(nw.last_cmd_cookie, 0);
	assert_int_equal(a->params[0].u.value.a, 1234);
}

static void rpc_arg_of_call_with_regd_arg_is_used_without_alloc(void **state)
{
	static struct ncbuf b;
	uint32_t s = open_ok(m, &nw, stats_uuid);
	const int seq[] = { CMD(OPTEE_RPC_CMD_GET_TIME) };
	struct optee_msg_arg *a;
	struct regs r;

	(void)state;
	ncbuf_new(&b, PAGE, 0);
	assert_int_equal(register_shm(m, &nw, &b, 0x99), TEEC_SUCCESS);
	nw_init(&nw, GUEST);
	a = (void *)ncbuf_byte(&b, 0x100);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->func = PTA_STATS_CMD_GET_TIME;
	a->session = s;
	a->num_params = 2;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	nw_set_rpc_arg(b.data_pages[0] + 0x100 + OPTEE_MSG_GET_ARG_SIZE(2));
	r = smc(m, GUEST, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x99, 0x100);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_true(nw_saw_sequence(&nw, seq, 1));
	assert_int_equal(nw.last_cmd_cookie, 0);
	assert_int_equal(a->params[0].u.value.a, 1234);
}

static void shm_cache_keeps_the_rpc_arg_across_calls(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_GET_TIME),
			    CMD(OPTEE_RPC_CMD_GET_TIME) };
	uint64_t cookie;
	struct regs r;

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	cookie = nw.last_cmd_cookie;
	a = get_time_arg(s, &pa);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_true(nw_saw_sequence(&nw, seq, 3));
	assert_int_equal(nw.last_cmd_cookie, cookie);

	r = fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0);
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal((r.a[1] << 32) | r.a[2], cookie);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
}

static void shm_cache_is_per_guest(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	get_time_arg(s, &pa);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 2).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 2, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
}

static void shm_cache_calls_are_ebusy_while_a_thread_is_busy(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_uuid);
	struct regs r = start_yield(m, &nw, s, 1);

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_EBUSY);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_EBUSY);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
}

static void open_of_missing_ta_drives_the_load_sequence(void **state)
{
	const int seq[] = { EV_ALLOC,
			    CMD(OPTEE_RPC_CMD_SHM_ALLOC),
			    CMD(OPTEE_RPC_CMD_FS),
			    CMD(OPTEE_RPC_CMD_FS),
			    CMD(OPTEE_RPC_CMD_LOAD_TA),
			    CMD(OPTEE_RPC_CMD_SHM_FREE),
			    EV_FREE };
	uint32_t origin;

	(void)state;
	assert_int_equal(open_session(m, &nw, missing_uuid, NULL, &origin),
			 TEEC_ERROR_ITEM_NOT_FOUND);
	assert_int_equal(origin, TEEC_ORIGIN_TEE);
	assert_true(nw_saw_sequence(&nw, seq, 7));
	/* The last command was SHM_FREE of the buffer SHM_ALLOC gave. */
	assert_int_equal(nw.last_cmd_params[0].u.value.a,
			 OPTEE_RPC_SHM_TYPE_APPL);
	assert_int_equal(nw.last_cmd_params[0].u.value.b >> 56, 0x5A);
	assert_int_equal(nw.allocs_outstanding, 0);
}

static void load_ta_carries_the_uuid_and_a_null_image_memref(void **state)
{
	uint64_t a, b;

	(void)state;
	open_session(m, &nw, missing_uuid, NULL, NULL);
	memcpy(&a, missing_uuid, 8);
	memcpy(&b, missing_uuid + 8, 8);
	assert_int_equal(nw.load_ta_params[0].attr,
			 OPTEE_MSG_ATTR_TYPE_VALUE_INPUT);
	assert_int_equal(nw.load_ta_params[0].u.value.a, a);
	assert_int_equal(nw.load_ta_params[0].u.value.b, b);
	assert_int_equal(nw.load_ta_params[1].attr,
			 OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT);
	assert_int_equal(nw.load_ta_params[1].u.tmem.buf_ptr, 0);
	assert_int_equal(nw.load_ta_params[1].u.tmem.size, 0);
}

static void shm_alloc_asks_for_one_appl_page(void **state)
{
	(void)state;
	open_session(m, &nw, missing_uuid, NULL, NULL);
	assert_int_equal(nw.shm_alloc_params[0].attr,
			 OPTEE_MSG_ATTR_TYPE_VALUE_INPUT);
	assert_int_equal(nw.shm_alloc_params[0].u.value.a,
			 OPTEE_RPC_SHM_TYPE_APPL);
	assert_int_equal(nw.shm_alloc_params[0].u.value.b, 4096);
}

static void rpc_arg_is_handed_out_with_ret_generic(void **state)
{
	(void)state;
	open_session(m, &nw, missing_uuid, NULL, NULL);
	assert_int_equal(nw.last_cmd_initial_ret, TEEC_ERROR_GENERIC);
}

static void too_small_shm_alloc_answer_fails_without_shm_free(void **state)
{
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_SHM_ALLOC), EV_FREE };

	(void)state;
	nw.shm_alloc_too_small = true;
	assert_int_equal(open_session(m, &nw, missing_uuid, NULL, NULL),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 3));
}

static void unmappable_shm_alloc_answer_is_given_back(void **state)
{
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_SHM_ALLOC),
			    CMD(OPTEE_RPC_CMD_SHM_FREE), EV_FREE };

	(void)state;
	nw.shm_alloc_bad_list = true;
	assert_int_equal(open_session(m, &nw, missing_uuid, NULL, NULL),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 4));
}

static void failed_rpc_alloc_with_cookie_is_freed(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { EV_ALLOC, EV_FREE };

	(void)state;
	nw.fail_alloc_with_cookie = true;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 2));
}

static void shm_cache_stays_on_until_drained(void **state)
{
	uint32_t s1 = open_ok(m, &nw, yield_uuid);
	uint32_t s2 = open_ok(m, &nw, stats_uuid);
	struct regs r1, r2;
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	/* A call runs while another thread is suspended in yield. */
	r1 = start_yield(m, &nw, s1, 1);
	a = get_time_arg(s2, &pa);
	r2 = smc(m, GUEST, OPTEE_SMC_CALL_WITH_ARG, 0, pa, 0);
	assert_int_equal(r2.a[0], OPTEE_SMC_RETURN_RPC_ALLOC);
	assert_int_equal(nw_finish(m, &nw, &r2), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(nw_finish(m, &nw, &r1), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_count(&nw, EV_FREE), 0);
	/* One cached arg: one cookie, then ENOTAVAIL. */
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_DISABLE_SHM_CACHE, 0).a[0],
			 OPTEE_SMC_RETURN_ENOTAVAIL);
	/* Now disabled: the next RPC arg is freed at the end. */
	a = get_time_arg(s2, &pa);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_count(&nw, EV_FREE), 1);
}

static void failed_shm_alloc_fails_open_with_out_of_memory(void **state)
{
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_SHM_ALLOC), EV_FREE };

	(void)state;
	nw.shm_alloc_ret = TEEC_ERROR_OUT_OF_MEMORY;
	assert_int_equal(open_session(m, &nw, missing_uuid, NULL, NULL),
			 TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 3));
}

static void offered_ta_image_is_refused_with_security(void **state)
{
	(void)state;
	nw.load_ta_ret = TEEC_SUCCESS;
	nw.load_ta_size = 8192;
	assert_int_equal(open_session(m, &nw, missing_uuid, NULL, NULL),
			 TEEC_ERROR_SECURITY);
}

static void failed_rpc_alloc_fails_the_command(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { EV_ALLOC };

	(void)state;
	nw.fail_alloc = true;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 1));
}

static void misaligned_rpc_alloc_is_given_back_with_free(void **state)
{
	uint32_t s = open_ok(m, &nw, stats_uuid);
	uint64_t pa;
	struct optee_msg_arg *a = get_time_arg(s, &pa);
	const int seq[] = { EV_ALLOC, EV_FREE };

	(void)state;
	nw.misaligned_alloc = true;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_ERROR_OUT_OF_MEMORY);
	assert_true(nw_saw_sequence(&nw, seq, 2));
}

static void yield_returns_foreign_intr_n_times(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_uuid);
	struct regs r = start_yield(m, &nw, s, 4);

	(void)state;
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_count(&nw, EV_FOREIGN_INTR), 4);
	assert_int_equal(nw.num_events, 4);
}

static void cancel_ends_a_yielding_command(void **state)
{
	uint32_t s = open_ok(m, &nw, yield_uuid);
	struct regs r = start_yield(m, &nw, s, 100);
	uint64_t pa;
	struct optee_msg_arg *c = arg_new(0, &pa);

	(void)state;
	assert_true(OPTEE_SMC_RETURN_IS_RPC(r.a[0]));
	c->cmd = OPTEE_MSG_CMD_CANCEL;
	c->session = s;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(c->ret, TEEC_SUCCESS);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(nw_count(&nw, EV_FOREIGN_INTR), 1);
}

/* ---- Notifications ----------------------------------------------------- */

static uint32_t notify(uint32_t s, uint32_t cmd, uint32_t value)
{
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(s, cmd, 1, &pa);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[0].u.value.a = value;
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

static void async_notif_raises_irq_and_value_becomes_pending(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);
	struct regs r;

	(void)state;
	assert_int_equal(fast(m, GUEST, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(notify(s, MODEL_TA_NOTIFY_CMD_ASYNC, 5), TEEC_SUCCESS);
	assert_int_equal(ram.notif_irqs, 1);
	r = fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(r.a[1], 5);
	assert_int_equal(r.a[2], OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID);
	r = fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	assert_int_equal(r.a[2], 0);
}

static void two_pending_values_report_pending_flag(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);
	struct regs r;

	(void)state;
	fast(m, GUEST, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0);
	notify(s, MODEL_TA_NOTIFY_CMD_ASYNC, 7);
	notify(s, MODEL_TA_NOTIFY_CMD_ASYNC, 3);
	r = fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	assert_int_equal(r.a[1], 3);
	assert_int_equal(r.a[2], OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID |
					 OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING);
	r = fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	assert_int_equal(r.a[1], 7);
	assert_int_equal(r.a[2], OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID);
}

static void async_notif_is_per_guest(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);

	(void)state;
	fast(m, 0, OPTEE_SMC_VM_CREATED, 2);
	fast(m, 2, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0);
	fast(m, GUEST, OPTEE_SMC_ENABLE_ASYNC_NOTIF, 0);
	notify(s, MODEL_TA_NOTIFY_CMD_ASYNC, 9);
	assert_int_equal(fast(m, 2, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0).a[2],
			 0);
	assert_int_equal(
		fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0).a[1], 9);
}

static void async_notif_is_dropped_until_enabled(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);

	(void)state;
	assert_int_equal(notify(s, MODEL_TA_NOTIFY_CMD_ASYNC, 5), TEEC_SUCCESS);
	assert_int_equal(ram.notif_irqs, 0);
	assert_int_equal(
		fast(m, GUEST, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0).a[2], 0);
}

static void notification_send_is_an_rpc_cmd(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);
	const int seq[] = { EV_ALLOC, CMD(OPTEE_RPC_CMD_NOTIFICATION),
			    EV_FREE };

	(void)state;
	assert_int_equal(notify(s, MODEL_TA_NOTIFY_CMD_SEND, 6), TEEC_SUCCESS);
	assert_true(nw_saw_sequence(&nw, seq, 3));
	assert_int_equal(nw.last_cmd_params[0].u.value.a,
			 OPTEE_RPC_NOTIFICATION_SEND);
	assert_int_equal(nw.last_cmd_params[0].u.value.b, 6);
}

static void notification_wait_result_is_the_rpc_result(void **state)
{
	uint32_t s = open_ok(m, &nw, notify_uuid);

	(void)state;
	nw.notif_ret = TEEC_ERROR_BUSY;
	assert_int_equal(notify(s, MODEL_TA_NOTIFY_CMD_WAIT, 6),
			 TEEC_ERROR_BUSY);
	assert_int_equal(nw.last_cmd_params[0].u.value.a,
			 OPTEE_RPC_NOTIFICATION_WAIT);
}

/* ---- Injection --------------------------------------------------------- */

static void run_injected_workload(uint64_t seed, struct nw *out)
{
	struct tg_model_config cfg = { .inject_foreign_intr_pct = 30,
				       .inject_rpc_pct = 30,
				       .seed = seed };
	uint32_t s;

	if (m)
		model_free_all(m);
	m = model_new(&cfg);
	nw_init(out, GUEST);
	s = open_ok(m, out, stats_uuid);
	for (int i = 0; i < 20; i++) {
		uint64_t pa;
		struct optee_msg_arg *a = get_time_arg(s, &pa);

		assert_int_equal(call_arg(m, out, pa), OPTEE_SMC_RETURN_OK);
		assert_int_equal(a->ret, TEEC_SUCCESS);
		assert_int_equal(a->params[0].u.value.a, 1234);
	}
	assert_int_equal(out->allocs_outstanding, 0);
}

static void injection_is_deterministic_for_a_seed(void **state)
{
	static struct nw first, second;

	(void)state;
	run_injected_workload(42, &first);
	run_injected_workload(42, &second);
	assert_int_equal(first.num_events, second.num_events);
	assert_memory_equal(first.events, second.events,
			    first.num_events * sizeof(int));
	assert_true(nw_count(&first, EV_FOREIGN_INTR) > 0);
	assert_true(nw_count(&first, CMD(OPTEE_RPC_CMD_GET_TIME)) > 20);
}

static void injection_differs_between_seeds(void **state)
{
	static struct nw first, second;

	(void)state;
	run_injected_workload(1, &first);
	run_injected_workload(2, &second);
	assert_true(first.num_events != second.num_events ||
		    memcmp(first.events, second.events,
			   first.num_events * sizeof(int)));
}

static void full_injection_still_completes_every_call(void **state)
{
	struct tg_model_config cfg = { .inject_foreign_intr_pct = 100,
				       .inject_rpc_pct = 100 };
	uint32_t s;
	struct regs r;

	(void)state;
	model_free_all(m);
	m = model_new(&cfg);
	s = open_ok(m, &nw, yield_uuid);
	r = start_yield(m, &nw, s, 3);
	assert_int_equal(nw_finish(m, &nw, &r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
	assert_true(nw_count(&nw, EV_FOREIGN_INTR) >= 3);
}

static void injected_rpc_does_not_disturb_the_work(void **state)
{
	struct tg_model_config cfg = { .inject_rpc_pct = 100 };
	uint32_t s;
	uint64_t pa;
	struct optee_msg_arg *a;

	(void)state;
	model_free_all(m);
	m = model_new(&cfg);
	s = open_ok(m, &nw, stats_uuid);
	nw_init(&nw, GUEST);
	nw.time_secs = 99;
	a = get_time_arg(s, &pa);
	assert_int_equal(call_arg(m, &nw, pa), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 99);
	assert_true(nw_count(&nw, CMD(OPTEE_RPC_CMD_GET_TIME)) >= 2);
	assert_int_equal(nw_count(&nw, EV_ALLOC), 1);
	assert_int_equal(nw_count(&nw, EV_FREE), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(stats_get_time_does_alloc_cmd_free),
		T(rpc_arg_of_call_with_rpc_arg_is_used_without_alloc),
		T(rpc_arg_of_call_with_regd_arg_is_used_without_alloc),
		T(shm_cache_keeps_the_rpc_arg_across_calls),
		T(shm_cache_is_per_guest),
		T(shm_cache_calls_are_ebusy_while_a_thread_is_busy),
		T(open_of_missing_ta_drives_the_load_sequence),
		T(load_ta_carries_the_uuid_and_a_null_image_memref),
		T(shm_alloc_asks_for_one_appl_page),
		T(rpc_arg_is_handed_out_with_ret_generic),
		T(too_small_shm_alloc_answer_fails_without_shm_free),
		T(unmappable_shm_alloc_answer_is_given_back),
		T(failed_rpc_alloc_with_cookie_is_freed),
		T(shm_cache_stays_on_until_drained),
		T(failed_shm_alloc_fails_open_with_out_of_memory),
		T(offered_ta_image_is_refused_with_security),
		T(failed_rpc_alloc_fails_the_command),
		T(misaligned_rpc_alloc_is_given_back_with_free),
		T(yield_returns_foreign_intr_n_times),
		T(cancel_ends_a_yielding_command),
		T(async_notif_raises_irq_and_value_becomes_pending),
		T(two_pending_values_report_pending_flag),
		T(async_notif_is_per_guest),
		T(async_notif_is_dropped_until_enabled),
		T(notification_send_is_an_rpc_cmd),
		T(notification_wait_result_is_the_rpc_result),
		T(injection_is_deterministic_for_a_seed),
		T(injection_differs_between_seeds),
		T(full_injection_still_completes_every_call),
		T(injected_rpc_does_not_disturb_the_work),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
