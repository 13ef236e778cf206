// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest side through the real mediator (loopback port, OP-TEE model):
 * the driver and the workloads behave, and every attack of the hostile
 * catalogue gets exactly the refusal its table entry expects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/mediator.h>
#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "loopback.h"

static int group_setup(void **state)
{
	/* a lone guest holds T-1 threads: the catalogue's unregister_in_use
	 * needs two calls at once */
	struct tg_model_config cfg = { .threads = 3 };

	(void)state;
	return lb_env_init_mediated(&cfg);
}

static int group_teardown(void **state)
{
	(void)state;
	lb_env_fini();
	return 0;
}

static void test_driver_probes_through_the_mediator(void **state)
{
	struct lb_guest *g = lb_guest_create(1, 32);
	const struct tg_optee_info *info;
	struct tg_optee *drv;

	(void)state;
	assert_non_null(g);
	assert_int_equal(tg_optee_probe(lb_guest_enter(g), NULL, &drv), TG_OK);
	info = tg_optee_info(drv);
	assert_true(info->sec_caps & OPTEE_SMC_SEC_CAP_DYNAMIC_SHM);
	assert_false(info->sec_caps & OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM);
	tg_optee_remove(drv);
	lb_guest_destroy(g);
}

static void mixed(enum tg_optee_call_form form)
{
	struct tg_workload_opts o = { .seed = 3,
				      .bigbuf_mib = 8,
				      .max_rounds = 2,
				      .flags = TG_WL_VERBOSE };
	struct tg_optee_config cfg = { .call_form = form };
	struct lb_guest *g = lb_guest_create(1, 160);
	struct tg_guest_counters *c;
	struct tg_optee *drv;
	struct tg_vcpu *v;

	assert_non_null(g);
	v = lb_guest_enter(g);
	c = tg_guest_counters(v);
	/* Probe first with the form under test; the workload shares it. */
	assert_int_equal(tg_optee_probe(v, &cfg, &drv), TG_OK);
	assert_int_equal(tg_workload_mixed(v, &o), 0);
	assert_int_equal(c->mismatches, 0);
	assert_int_equal(c->errors, 0);
	assert_true(c->verified > 20);
	tg_optee_remove(drv);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(g);
}

static void test_mixed_workload_through_mediator_call_with_arg(void **state)
{
	(void)state;
	mixed(TG_OPTEE_FORM_ARG);
}

static void test_mixed_workload_through_mediator_rpc_arg(void **state)
{
	(void)state;
	mixed(TG_OPTEE_FORM_RPC_ARG);
}

static void test_mixed_workload_through_mediator_regd_arg(void **state)
{
	(void)state;
	mixed(TG_OPTEE_FORM_REGD_ARG);
}

static void test_every_hostile_attack_is_refused_as_expected(void **state)
{
	struct tg_attack_result res[64];
	struct tg_hostile_opts o = { .results = res };
	struct lb_guest *g = lb_guest_create(1, 64);
	const struct tg_attack *t;
	size_t n = tg_hostile_catalogue(&t), i;
	struct tg_vcpu *v;
	int passed;

	(void)state;
	assert_non_null(g);
	v = lb_guest_enter(g);
	passed = tg_workload_hostile(v, &o);
	for (i = 0; i < n; i++)
		printf("  %-26s %-8s a0=0x%x ret=0x%x origin=%u\n", t[i].name,
		       res[i].passed ? "PASSED" : "refused", res[i].a0,
		       res[i].ret, res[i].origin);
	assert_int_equal(passed, 0);
	assert_int_equal(tg_guest_counters(v)->attacks_refused, n);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(g);
}

static void test_no_pin_outlives_a_destroyed_guest(void **state)
{
	struct tg_workload_opts o = {
		.max_rounds = 1, .flags = TG_WL_NO_BIGBUF | TG_WL_NO_SPAWN
	};
	struct lb_guest *g = lb_guest_create(1, 32);

	(void)state;
	assert_non_null(g);
	assert_int_equal(tg_workload_mixed(lb_guest_enter(g), &o), 0);
	/* The driver is still alive (shm cache, arg cache): pins held... */
	while (tg_domain_destroy(lb_mediator(), 1) == TG_AGAIN)
		;
	/* ...until the domain is destroyed. */
	assert_int_equal(lb_guest_pins(g), 0);
	assert_int_equal(tg_domain_create(lb_mediator(), 1, NULL), TG_OK);
	lb_guest_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_probes_through_the_mediator),
		cmocka_unit_test(
			test_mixed_workload_through_mediator_call_with_arg),
		cmocka_unit_test(test_mixed_workload_through_mediator_rpc_arg),
		cmocka_unit_test(test_mixed_workload_through_mediator_regd_arg),
		cmocka_unit_test(
			test_every_hostile_attack_is_refused_as_expected),
		cmocka_unit_test(test_no_pin_outlives_a_destroyed_guest),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
