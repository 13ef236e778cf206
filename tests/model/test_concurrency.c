// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE model: many guests calling at once from many host threads, and
 * partitions served in parallel (the model's locks; run under TSan with
 * -DTEEGATE_TSAN=ON).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <cmocka.h>

#include "../flag_within.h"
#include "harness.h"
#include "model_tas.h"

#define WORKERS 4
#define ROUNDS 60

static struct tg_model *m;
static int failures, workers_done;

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

static const uint8_t stats_uuid[16] = PTA_STATS_UUID;

/* The stats PTA's GET_TIME: a call that goes out to the normal world
 * (an RPC) and comes back with the time it was given. */
static void get_time_checked(struct nw *nw, uint32_t session)
{
	uint64_t pa;
	struct optee_msg_arg *a =
		invoke_arg(session, PTA_STATS_CMD_GET_TIME, 2, &pa);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	a->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	run_retrying(nw, a, pa);
	if (a->ret != TEEC_SUCCESS || a->params[0].u.value.a != 1234)
		fail_once();
}

static void *worker(void *arg)
{
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
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

		get_time_checked(&nw, ss);
		/* Global and per-guest fast calls in between. */
		fast(m, nw.client, OPTEE_SMC_GET_THREAD_COUNT, 0);
		fast(m, nw.client, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0);
	}
	if (nw.allocs_outstanding)
		fail_once();
	__atomic_fetch_add(&workers_done, 1, __ATOMIC_RELEASE);
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
	/* Meanwhile the hypervisor makes and ends another partition, and
	 * looks at the thread table, as a guest's teardown does. */
	while (__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) < WORKERS) {
		assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, 99).a[0],
				 OPTEE_SMC_RETURN_OK);
		assert_true(tg_model_threads_held(m, UINT32_MAX) <= WORKERS);
		assert_int_equal(tg_model_threads_held(m, 99), 0);
		assert_int_equal(fast(m, 0, OPTEE_SMC_VM_DESTROYED, 99).a[0],
				 OPTEE_SMC_RETURN_OK);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(failures, 0);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
	assert_int_equal(ram.bad_maps, 0);
	model_free_all(m);
}

/* ---- partitions in parallel -------------------------------------------- */

#define STALLED 20u /* its SMC waits inside the model */
#define OTHER 21u
#define THIRD 22u

static int other_done, hyp_done;

static void *stalled_guest(void *arg)
{
	struct nw nw;

	(void)arg;
	nw_init(&nw, STALLED);
	open_retrying(&nw, stats_uuid); /* stalls in its first map() */
	return NULL;
}

/* A session, and a call that goes out to the normal world (an RPC). */
static void *other_guest(void *arg)
{
	struct nw nw;

	(void)arg;
	nw_init(&nw, OTHER);
	get_time_checked(&nw, open_retrying(&nw, stats_uuid));
	__atomic_store_n(&other_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *hypervisor(void *arg)
{
	(void)arg;
	if (fast(m, 0, OPTEE_SMC_VM_DESTROYED, THIRD).a[0] !=
	    OPTEE_SMC_RETURN_OK)
		fail_once();
	__atomic_store_n(&hyp_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * While one guest's SMC is inside the model, another guest's calls and
 * the hypervisor's VM_DESTROYED of a third partition complete: as in
 * OP-TEE, partitions are served in parallel. Under one model lock for
 * every SMC, both would wait for the stalled call.
 */
static void partitions_do_not_wait_for_each_other(void **state)
{
	struct tg_model_config cfg = { 0 };
	pthread_t a, b, h;
	bool other_ran, hyp_ran;

	(void)state;
	failures = 0;
	m = model_new(&cfg);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, STALLED).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, OTHER).a[0],
			 OPTEE_SMC_RETURN_OK);
	assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, THIRD).a[0],
			 OPTEE_SMC_RETURN_OK);
	ram.stall_client = STALLED;
	__atomic_store_n(&ram.stall_armed, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&a, NULL, stalled_guest, NULL), 0);
	assert_true(flag_within(&ram.stalled, 5000));

	assert_int_equal(pthread_create(&b, NULL, other_guest, NULL), 0);
	assert_int_equal(pthread_create(&h, NULL, hypervisor, NULL), 0);
	other_ran = flag_within(&other_done, 5000);
	hyp_ran = flag_within(&hyp_done, 5000);
	__atomic_store_n(&ram.stall_release, 1, __ATOMIC_RELEASE);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(h, NULL);

	assert_true(other_ran);
	assert_true(hyp_ran);
	assert_int_equal(failures, 0);
	assert_int_equal(tg_model_threads_held(m, UINT32_MAX), 0);
	model_free_all(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guests_calling_concurrently_all_complete),
		cmocka_unit_test(partitions_do_not_wait_for_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
