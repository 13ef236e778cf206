// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest workloads against the OP-TEE model (loopback, no mediator).
 *
 * Without a mediator the hostile workload's expected refusals are not all
 * the model's answers: here it must only run to the end, leave the guest
 * and the TEE sane, and touch nothing outside the guest's RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "loopback.h"

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

static void test_mixed_workload_reports_no_mismatch(void **state)
{
	struct tg_workload_opts o = { .seconds = 0,
				      .seed = 42,
				      .bigbuf_mib = 8,
				      .max_rounds = 2,
				      .flags = TG_WL_VERBOSE };
	struct lb_guest *g = lb_guest_create(1, 160);
	struct tg_guest_counters *c;
	struct tg_vcpu *v;

	(void)state;
	assert_non_null(g);
	v = lb_guest_enter(g);
	c = tg_guest_counters(v);
	assert_int_equal(tg_workload_mixed(v, &o), 0);
	assert_int_equal(c->mismatches, 0);
	assert_int_equal(c->errors, 0);
	assert_true(c->verified >= 2 * 10);
	assert_true(c->calls > c->verified);
	assert_int_equal(c->sessions, 0);
	assert_true(c->notifications >= 1); /* async step ran */
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(g);
}

static void test_two_guests_run_mixed_workloads_side_by_side(void **state)
{
	struct tg_workload_opts o = { .seed = 7,
				      .max_rounds = 2,
				      .flags = TG_WL_NO_BIGBUF |
					       TG_WL_NO_SPAWN };
	struct lb_guest *g1 = lb_guest_create(1, 32);
	struct lb_guest *g2 = lb_guest_create(2, 32);

	(void)state;
	assert_non_null(g1);
	assert_non_null(g2);
	assert_int_equal(tg_workload_mixed(lb_guest_enter(g1), &o), 0);
	assert_int_equal(tg_workload_mixed(lb_guest_enter(g2), &o), 0);
	assert_int_equal(tg_guest_counters(lb_guest_vcpu0(g1))->mismatches, 0);
	assert_int_equal(tg_guest_counters(lb_guest_vcpu0(g2))->mismatches, 0);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(g1);
	lb_guest_destroy(g2);
}

static void test_hostile_catalogue_has_15_distinct_named_attacks(void **state)
{
	const struct tg_attack *t;
	size_t n = tg_hostile_catalogue(&t), i, j;

	(void)state;
	assert_true(n >= 15);
	for (i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_non_null(t[i].what);
		assert_true(strlen(t[i].name) > 0);
		{
			char buf[96];

			printf("  | %s | %s | %s |\n", t[i].name, t[i].what,
			       tg_attack_expect_str(&t[i].expect, buf,
						    sizeof(buf)));
			assert_null(strchr(buf, '?'));
		}
		for (j = 0; j < i; j++)
			assert_string_not_equal(t[i].name, t[j].name);
	}
}

static void
test_hostile_workload_runs_every_attack_against_the_model(void **state)
{
	struct tg_attack_result res[64];
	struct tg_hostile_opts o = { .results = res };
	struct lb_guest *g = lb_guest_create(1, 64);
	struct tg_guest_counters *c;
	const struct tg_attack *t;
	size_t n = tg_hostile_catalogue(&t), i;
	struct tg_optee *drv;
	struct tg_vcpu *v;
	int passed;

	(void)state;
	assert_true(n <= 64);
	assert_non_null(g);
	v = lb_guest_enter(g);
	c = tg_guest_counters(v);
	passed = tg_workload_hostile(v, &o);
	assert_true(passed >= 0);
	assert_int_equal(c->attacks_refused + c->attacks_passed, n);
	assert_int_equal(c->attacks_passed, (uint64_t)passed);
	for (i = 0; i < n; i++) {
		assert_int_equal(
			res[i].refused + res[i].passed + res[i].skipped, 1);
		assert_int_equal(res[i].skipped, 0);
		printf("  %-26s %s a0=0x%x ret=0x%x origin=%u\n", t[i].name,
		       res[i].refused ? "refused" : "not refused (model)",
		       res[i].a0, res[i].ret, res[i].origin);
	}
	/* The model itself answers these exactly like the mediator. */
	for (i = 0; i < n; i++) {
		if (!strcmp(t[i].name, "unknown_msg_cmd") ||
		    !strcmp(t[i].name, "arg_outside_ram") ||
		    !strcmp(t[i].name, "num_params_128") ||
		    !strcmp(t[i].name, "toctou_arg") ||
		    !strcmp(t[i].name, "toctou_pagelist") ||
		    !strcmp(t[i].name, "resume_no_call"))
			assert_int_equal(res[i].refused, 1);
	}
	assert_int_equal(lb_violations(), 0);
	/* The guest is still usable afterwards. */
	assert_int_equal(tg_optee_get(v, &drv), TG_OK);
	{
		struct tg_workload_opts wo = { .max_rounds = 1,
					       .flags = TG_WL_NO_BIGBUF |
							TG_WL_NO_SPAWN };

		assert_int_equal(tg_workload_mixed(v, &wo), 0);
	}
	tg_optee_put(drv);
	lb_guest_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_workload_reports_no_mismatch),
		cmocka_unit_test(
			test_two_guests_run_mixed_workloads_side_by_side),
		cmocka_unit_test(
			test_hostile_catalogue_has_15_distinct_named_attacks),
		cmocka_unit_test(
			test_hostile_workload_runs_every_attack_against_the_model),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
