// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: many guests calling at once from many host threads (the
 * model's single lock; run under TSan with -DTEEGATE_TSAN=ON).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "model_tas.h"

#define WORKERS 4
#define ROUNDS 60

static struct tg_model *m;
static int failures;

static void fail_once(void)
{
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

/* A std call that retries while every OP-TEE thread is taken. */
static struct optee_msg_arg *run_retrying(struct nw *nw,
					  struct optee_msg_arg *a, uint64_t pa)
{
	for (;;) {
		struct regs r = smc(m, nw->client, OPTEE_SMC_CALL_WITH_ARG,
				    pa >> 32, pa & 0xFFFFFFFFu, 0);

		if (r.a[0] == OPTEE_SMC_RETURN_ETHREAD_LIMIT) {
			sched_yield();
			continue;
		}
		if (nw_finish(m, nw, &r) != OPTEE_SMC_RETURN_OK)
			fail_once();
		return a;
	}
}

static uint32_t open_retrying(struct nw *nw, const uint8_t *uuid)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);
	const uint64_t meta =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;

	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->params[0].attr = meta;
	a->params[1].attr = meta;
	memcpy(&a->params[0].u.value.a, uuid, 8);
	memcpy(&a->params[0].u.value.b, uuid + 8, 8);
	run_retrying(nw, a, pa);
	if (a->ret != TEEC_SUCCESS)
		fail_once();
	return a->session;
}

static void *worker(void *arg)
{
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
	struct nw nw;
	uint32_t ys, ss;

	nw_init(&nw, (uint32_t)(uintptr_t)arg);
	ys = open_retrying(&nw, yield_uuid);
	ss = open_retrying(&nw, stats_uuid);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t pa;
		struct optee_msg_arg *a = invoke_arg(ys, 0, 1, &pa);

		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[0].u.value.a = (uint64_t)(i % 3);
		run_retrying(&nw, a, pa);
		if (a->ret != TEEC_SUCCESS ||
		    a->params[0].u.value.b != (uint64_t)(i % 3))
			fail_once();

		a = invoke_arg(ss, PTA_STATS_CMD_GET_TIME, 2, &pa);
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		run_retrying(&nw, a, pa);
		if (a->ret != TEEC_SUCCESS || a->params[0].u.value.a != 1234)
			fail_once();
		/* Global and per-guest fast calls in between. */
		fast(m, nw.client, OPTEE_SMC_GET_THREAD_COUNT, 0);
		fast(m, nw.client, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	}
	if (nw.allocs_outstanding)
		fail_once();
	return NULL;
}

static void guests_calling_concurrently_all_complete(void **state)
{
	struct tg_model_config cfg = { .inject_foreign_intr_pct = 20,
				       .inject_rpc_pct = 10,
				       .seed = 3 };
	pthread_t threads[WORKERS];

	(void)state;
	m = model_new(&cfg);
	for (uint32_t i = 0; i < WORKERS; i++)
		assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 10 + i).a[0],
				 OPTEE_SMC_RETURN_OK);
	for (uintptr_t i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, worker,
						(void *)(10 + i)),
				 0);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(failures, 0);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
	assert_int_equal(ram.bad_maps, 0);
	model_free_all(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guests_calling_concurrently_all_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
