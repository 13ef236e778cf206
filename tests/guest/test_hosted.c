// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest side on the hosted platform: each guest a process with a
 * scattered p2m, the mediator inline, the OP-TEE model behind it and the
 * isolation oracle watching. The counters are read by the hypervisor side
 * from the guests' counters pages, as the demo's live table does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <teegate/host.h>
#include <teegate/workload.h>

static struct tg_machine *machine_new(void)
{
	struct tg_machine_config cfg;
	struct tg_machine *m = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 512ull << 20;
	cfg.seed = 1234;
	/* a lone guest holds T-1 threads: the catalogue's unregister_in_use
	 * needs two calls at once */
	cfg.model.threads = 3;
	cfg.tee = TG_TEE_MODEL;
	cfg.mediation = TG_MEDIATION_INLINE;
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	return m;
}

static struct tg_guest *guest_run(struct tg_machine *m,
				  void (*fn)(struct tg_vcpu *, void *),
				  uint32_t vcpus)
{
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;
	int ws = -1;

	memset(&gc, 0, sizeof(gc));
#ifdef __SANITIZE_ADDRESS__
	/*
	 * A process guest is fork()ed from the threaded hypervisor; under
	 * ASan the child can inherit ASan's allocator lock held by another
	 * thread and deadlock at its first thread start. Run the guest as
	 * threads of this process there (same platform, mediator, oracle).
	 */
	gc.mode = TG_GUEST_THREAD;
#endif
	gc.vcpus = vcpus;
	gc.ram_pages = 16384; /* 64 MiB */
	assert_int_equal(tg_guest_start(m, &gc, fn, NULL, &g), TG_OK);
	if (tg_guest_wait_timeout(g, 90000, &ws) != TG_OK) {
		struct tg_guest_stats gs;

		/* Say where it is stuck before failing. */
		tg_guest_stats(g, &gs);
		printf("# stuck: phase %u calls %llu sessions %u in flight %u "
		       "suspended %u\n",
		       gs.counters.phase, (unsigned long long)gs.counters.calls,
		       gs.counters.sessions, gs.domain.calls_in_flight,
		       gs.domain.calls_suspended);
		fflush(stdout);
		/* TG_TEST_STUCK_WAIT=N: leave it N s for a debugger. */
		if (getenv("TG_TEST_STUCK_WAIT")) {
			printf("# stuck guest pid %d\n", (int)tg_guest_pid(g));
			fflush(stdout);
			sleep((unsigned int)atoi(getenv("TG_TEST_STUCK_WAIT")));
		}
		tg_guest_kill(g);
		fail();
	}
	if (gc.mode == TG_GUEST_PROCESS)
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	return g;
}

static void mixed_main(struct tg_vcpu *v, void *arg)
{
	struct tg_workload_opts o = { .seconds = 2,
				      .seed = 99,
				      .bigbuf_mib = 8 };

	(void)arg;
	tg_workload_mixed(v, &o);
}

static void hostile_main(struct tg_vcpu *v, void *arg)
{
	(void)arg;
	tg_workload_hostile(v, NULL);
}

static void check_clean_exit(struct tg_machine *m, struct tg_guest *g)
{
	struct tg_machine_pages ps;

	tg_guest_release(g);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void test_mixed_workload_on_the_hosted_platform(void **state)
{
	struct tg_machine *m = machine_new();
	struct tg_guest_stats gs;
	struct tg_guest *g;

	(void)state;
	g = guest_run(m, mixed_main, 4);
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	printf("# calls %llu verified %llu errors %llu mismatches %llu\n",
	       (unsigned long long)gs.counters.calls,
	       (unsigned long long)gs.counters.verified,
	       (unsigned long long)gs.counters.errors,
	       (unsigned long long)gs.counters.mismatches);
	assert_int_equal(gs.counters.mismatches, 0);
	assert_int_equal(gs.counters.errors, 0);
	assert_true(gs.counters.verified > 20);
	check_clean_exit(m, g);
}

static void test_hostile_workload_on_the_hosted_platform(void **state)
{
	struct tg_machine *m = machine_new();
	struct tg_guest_stats gs;
	struct tg_guest *g;

	(void)state;
	g = guest_run(m, hostile_main, 4);
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	printf("# attacks refused %llu passed %llu\n",
	       (unsigned long long)gs.counters.attacks_refused,
	       (unsigned long long)gs.counters.attacks_passed);
	assert_int_equal(gs.counters.attacks_passed, 0);
	assert_int_equal(gs.counters.attacks_refused,
			 tg_hostile_catalogue(NULL));
	check_clean_exit(m, g);
}

static void test_hostile_with_two_vcpus_skips_toctou_not_fails(void **state)
{
	struct tg_machine *m = machine_new();
	struct tg_guest_stats gs;
	struct tg_guest *g;

	(void)state;
	/* vCPU 1 is the driver's notification vCPU: no scribbler vCPU. */
	g = guest_run(m, hostile_main, 2);
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_int_equal(gs.counters.attacks_passed, 0);
	assert_int_equal(gs.counters.attacks_refused,
			 tg_hostile_catalogue(NULL) - 2);
	check_clean_exit(m, g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_workload_on_the_hosted_platform),
		cmocka_unit_test(test_hostile_workload_on_the_hosted_platform),
		cmocka_unit_test(
			test_hostile_with_two_vcpus_skips_toctou_not_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
