// SPDX-License-Identifier: BSD-2-Clause
/*
 * Concurrency: many vCPUs of several domains at once, racing resumes,
 * and lookups racing domain destruction. Run under TSan in CI.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "common.h"

#define ITERS 300

struct worker {
	struct env *e;
	uint32_t client;
	uint32_t vcpu;
	uint64_t arg_ipa;
	uint32_t session;
	uint32_t ok, limited;
};

/* Every call suspends once on FOREIGN_INTR before completing. */
static bool tee_yield_once(struct fake *f, struct fake_thread *t,
			   uint64_t regs[8])
{
	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	return fake_step_ok(f, t, regs);
}

static void *worker_run(void *p)
{
	struct worker *w = p;
	uint32_t i;

	for (i = 0; i < ITERS;) {
		struct optee_msg_arg *a;
		uint64_t r[8];

		pthread_mutex_lock(&w->e->f->big_lock);
		a = fake_msg(w->e->f, w->client, w->arg_ipa,
			     OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		a->session = w->session;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		a->params[0].u.value.a = i;
		a->params[0].u.value.b = w->vcpu;
		pthread_mutex_unlock(&w->e->f->big_lock);
		set_regs(r, OPTEE_SMC_CALL_WITH_ARG, w->arg_ipa >> 32,
			 w->arg_ipa & 0xFFFFFFFF, 0);
		tg_handle_smc(w->e->med, w->client, w->vcpu, r);
		while (OPTEE_SMC_RETURN_IS_RPC(r[0])) {
			uint64_t h = r[3];

			set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, h);
			tg_handle_smc(w->e->med, w->client, w->vcpu, r);
		}
		if (r[0] == OPTEE_SMC_RETURN_ETHREAD_LIMIT) {
			/* wait and retry, as Linux does */
			w->limited++;
			sched_yield();
			continue;
		}
		assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
		pthread_mutex_lock(&w->e->f->big_lock);
		assert_int_equal(a->ret, TEEC_SUCCESS);
		assert_int_equal(a->params[0].u.value.a, i + w->vcpu);
		pthread_mutex_unlock(&w->e->f->big_lock);
		w->ok++;
		i++;
	}
	return NULL;
}

static void many_vcpus_of_two_domains_call_at_once(void **state)
{
	struct env *e = *state;
	struct worker w[8];
	pthread_t th[8];
	uint32_t i, ok = 0;

	e->f->threads = 16;
	e->f->std_fn = tee_yield_once;
	w[0].session = 0;
	for (i = 0; i < 8; i++) {
		w[i] = (struct worker){ .e = e,
					.client = i % 2 ? G2 : G1,
					.vcpu = i,
					.arg_ipa =
						ARG_IPA + (uint64_t)i * PAGE };
	}
	e->f->std_fn = NULL;
	w[0].session = open_session(e, G1);
	w[1].session = open_session(e, G2);
	for (i = 2; i < 8; i++)
		w[i].session = w[i % 2].session;
	e->f->std_fn = tee_yield_once;
	for (i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	/* 4 vCPUs per domain share 3 threads each: all calls completed */
	assert_int_equal(ok, 8 * ITERS);
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	assert_int_equal(stats(e, G2).calls_suspended, 0);
	e->f->std_fn = NULL;
}

struct racer {
	struct env *e;
	uint64_t handle;
	_Atomic int *go;
	uint32_t won;
};

static void *resume_racer(void *p)
{
	struct racer *r = p;
	uint64_t regs[8];

	while (!atomic_load(r->go))
		;
	set_regs(regs, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r->handle);
	tg_handle_smc(r->e->med, G1, 1, regs);
	r->won = regs[0] == OPTEE_SMC_RETURN_OK;
	return NULL;
}

static void racing_resumes_of_one_call_resume_it_once(void **state)
{
	struct env *e = *state;
	struct optee_msg_arg *a;
	struct racer rc[4];
	pthread_t th[4];
	_Atomic int go;
	uint32_t round, i, won;
	uint64_t r[8];

	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
	a->session = open_session(e, G1);
	a = fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_INVOKE_COMMAND, 0);
	a->session = 1;
	e->f->std_fn = tee_yield_once;
	for (round = 0; round < 50; round++) {
		call_arg(e, G1, ARG_IPA, r);
		assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
		atomic_store(&go, 0);
		for (i = 0; i < 4; i++) {
			rc[i] = (struct racer){ .e = e,
						.handle = r[3],
						.go = &go };
			pthread_create(&th[i], NULL, resume_racer, &rc[i]);
		}
		atomic_store(&go, 1);
		for (won = 0, i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			won += rc[i].won;
		}
		assert_int_equal(won, 1);
	}
	e->f->std_fn = NULL;
}

struct prober {
	struct env *e;
	_Atomic int *stop;
	_Atomic uint32_t answers;
};

static void *probe_loop(void *p)
{
	struct prober *pr = p;
	uint64_t r[8];

	while (!atomic_load(pr->stop)) {
		set_regs(r, OPTEE_SMC_CALLS_UID, 0, 0, 0);
		tg_handle_smc(pr->e->med, 3, 0, r);
		assert_true(r[0] == OPTEE_MSG_UID_0 ||
			    r[0] == OPTEE_SMC_RETURN_ENOTAVAIL);
		pr->answers++;
	}
	return NULL;
}

static void lookups_race_create_and_destroy_safely(void **state)
{
	struct env *e = *state;
	struct prober pr = { .e = e };
	_Atomic int stop = 0;
	pthread_t th;
	uint32_t round;

	pr.stop = &stop;
	pthread_create(&th, NULL, probe_loop, &pr);
	/* until the prober has really raced a few hundred rounds */
	for (round = 0; round < 200 || atomic_load(&pr.answers) < 1000;
	     round++) {
		assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_OK);
		assert_true(fake_destroy_domain(e->med, 3) >= 0);
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	assert_true(atomic_load(&pr.answers) >= 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(many_vcpus_of_two_domains_call_at_once),
		T(racing_resumes_of_one_call_resume_it_once),
		T(lookups_race_create_and_destroy_safely),
#undef T
	};

	return cmocka_run_group_tests_name("core_concurrency", tests, NULL,
					   NULL);
}
