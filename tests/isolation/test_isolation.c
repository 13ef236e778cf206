// SPDX-License-Identifier: BSD-2-Clause
/*
 * Isolation modes (label "isolation"): what the sandboxed mediator can and
 * cannot do, that a mediator that cannot start is reported and never hangs,
 * and that guests keep working across mediator crashes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>
#include <teegate/tee_model.h>
#include <teegate/workload.h>

#include "model_tas.h"

#define EVIL_FID 0xC6EE0001u /* mediatord.c, TG_MEDIATORD_EVIL */
#define SECRET 0x5ec7e75ec7e7ull

static struct tg_machine *machine_new_threads(enum tg_isolation mode,
					      const char *path,
					      uint32_t tee_threads)
{
	struct tg_machine_config cfg;
	struct tg_machine *m = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 256ull << 20;
	cfg.seed = 42;
	cfg.tee = TG_TEE_MODEL;
	cfg.mediation = TG_MEDIATION_INLINE;
	cfg.isolation = mode;
	cfg.mediator_path = path;
	cfg.model.threads = tee_threads;
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	return m;
}

static struct tg_machine *machine_new(enum tg_isolation mode,
				      const char *path)
{
	return machine_new_threads(mode, path, 0);
}

static _Atomic int victim_stop;
static _Atomic int victim_ready;
static _Atomic int victim_intact;

/* The victim: a secret in its first page, alive until told to stop. */
static void victim_main(struct tg_vcpu *v, void *arg)
{
	uint64_t *p = tg_ipa_ptr(v, TG_HOST_GUEST_IPA_BASE);

	(void)arg;
	*p = SECRET;
	atomic_store(&victim_ready, 1);
	while (!atomic_load(&victim_stop))
		usleep(1000);
	atomic_store(&victim_intact, *p == SECRET);
}

struct attack {
	uint32_t victim;
	uint64_t regs[8];
};

/* The attacker's SMC makes the malicious mediator misbehave for it. */
static void attacker_main(struct tg_vcpu *v, void *arg)
{
	struct attack *a = arg;

	memset(a->regs, 0, sizeof(a->regs));
	a->regs[0] = EVIL_FID;
	a->regs[1] = a->victim;
	a->regs[2] = TG_HOST_GUEST_IPA_BASE;
	tg_smc(v, a->regs);
}

static struct tg_guest *thread_guest(struct tg_machine *m,
				     void (*fn)(struct tg_vcpu *, void *),
				     void *arg)
{
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;

	memset(&gc, 0, sizeof(gc));
	gc.mode = TG_GUEST_THREAD;
	gc.vcpus = 1;
	gc.ram_pages = 256;
	assert_int_equal(tg_guest_start(m, &gc, fn, arg, &g), TG_OK);
	return g;
}

static void test_malicious_mediator_is_refused(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED,
					   TG_EVIL_MEDIATOR_PATH);
	struct tg_isolation_stats st;
	struct tg_guest *victim, *attacker;
	struct attack a = { 0 };

	(void)state;
	atomic_store(&victim_stop, 0);
	atomic_store(&victim_ready, 0);
	victim = thread_guest(m, victim_main, NULL);
	while (!atomic_load(&victim_ready))
		usleep(1000);
	a.victim = tg_guest_client_id(victim);
	attacker = thread_guest(m, attacker_main, &a);
	assert_int_equal(tg_guest_wait(attacker, NULL), TG_OK);

	/* the copy was refused (TG_EFAULT), nothing of the secret came
	 * back, and the forged SMC never reached the TEE */
	assert_int_equal((int64_t)a.regs[1], TG_EFAULT);
	assert_int_equal(a.regs[2], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	assert_int_not_equal(a.regs[3], SECRET);
	assert_int_equal(a.regs[3], 0);
	assert_int_equal(tg_machine_isolation_stats(m, &st), TG_OK);
	assert_int_equal(st.mode, TG_ISOLATION_SANDBOXED);
	/* the read and the write that came with the answer */
	assert_true(st.refused_foreign >= 2);
	assert_true(st.refused_smc >= 1);
	print_message("# refused: %llu foreign-domain requests, %llu SMCs\n",
		      (unsigned long long)st.refused_foreign,
		      (unsigned long long)st.refused_smc);
	atomic_store(&victim_stop, 1);
	assert_int_equal(tg_guest_wait(victim, NULL), TG_OK);
	assert_true(atomic_load(&victim_intact));
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Three answers whose late writes do not fit what they claim. */
static void late_main(struct tg_vcpu *v, void *arg)
{
	uint64_t *answered = arg, i;

	for (i = 0; i < 3; i++) {
		uint64_t regs[8] = { 0xC6EE0003u, i }; /* TG_EVIL_LATE_FID */

		tg_smc(v, regs);
		*answered += regs[0] == 0xC6EE0003u;
	}
}

/*
 * A mediator's answer may carry writes into the served guest's memory:
 * more bytes than the channel holds, more entries than the bytes, an
 * entry past the end - each refused, and the guest still answered.
 */
static void test_malformed_late_writes_are_refused(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED,
					   TG_EVIL_MEDIATOR_PATH);
	struct tg_isolation_stats st;
	uint64_t answered = 0;
	struct tg_guest *g;

	(void)state;
	g = thread_guest(m, late_main, &answered);
	assert_int_equal(tg_guest_wait(g, NULL), TG_OK);
	assert_int_equal(answered, 3);
	assert_int_equal(tg_machine_isolation_stats(m, &st), TG_OK);
	assert_int_equal(st.refused_other, 3);
	assert_int_equal(st.refused_foreign, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void hang_main(struct tg_vcpu *v, void *arg)
{
	uint64_t *regs = arg;

	memset(regs, 0, 8 * sizeof(*regs));
	regs[0] = 0xC6EE0002u; /* mediatord.c: TG_EVIL_HANG_FID */
	tg_smc(v, regs);
}

static void uid_main(struct tg_vcpu *v, void *arg)
{
	uint64_t *regs = arg;

	memset(regs, 0, 8 * sizeof(*regs));
	regs[0] = OPTEE_SMC_CALLS_UID;
	tg_smc(v, regs);
}

/* A mediator that hangs in a call is killed by the watchdog, the call
 * fails, and the restarted mediator serves the next guest. */
static void test_hung_mediator_is_killed_and_restarted(void **state)
{
	struct tg_machine *m;
	struct tg_isolation_stats st;
	struct tg_guest *g;
	uint64_t regs[8];

	(void)state;
	setenv("TEEGATE_TEST_WATCHDOG_MS", "300", 1);
	m = machine_new(TG_ISOLATION_SANDBOXED, TG_EVIL_MEDIATOR_PATH);
	unsetenv("TEEGATE_TEST_WATCHDOG_MS");
	g = thread_guest(m, hang_main, regs);
	assert_int_equal(tg_guest_wait_timeout(g, 20000, NULL), TG_OK);
	/* not a TEE call id: the platform answers NOT_SUPPORTED */
	assert_int_equal(regs[0], TG_SMCCC_NOT_SUPPORTED);
	do {
		usleep(5000);
		tg_machine_isolation_stats(m, &st);
	} while (!st.restarts);
	assert_int_equal(st.watchdog_kills, 1);
	assert_int_equal(st.deaths, 1);
	/* serving again: OP-TEE's UID comes back */
	g = thread_guest(m, uid_main, regs);
	assert_int_equal(tg_guest_wait_timeout(g, 20000, NULL), TG_OK);
	assert_int_equal(regs[0], OPTEE_MSG_UID_0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Read /proc/<pid>/FILE into buf. */
static void read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_sandbox_maps_no_machine_memory(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	struct tg_isolation_stats st;
	static char buf[1 << 16];

	(void)state;
	assert_int_equal(tg_machine_isolation_stats(m, &st), TG_OK);
	assert_true(st.pid > 0);
	read_proc(st.pid, "maps", buf, sizeof(buf));
	assert_null(strstr(buf, "teegate-ram"));
	assert_non_null(strstr(buf, "teegate-shadow"));
	assert_non_null(strstr(buf, "teegate-channel"));
	read_proc(st.pid, "status", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Seccomp:\t2"));
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void test_service_daemon_maps_machine_memory(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SERVICE, NULL);
	struct tg_isolation_stats st;
	static char buf[1 << 16];

	(void)state;
	assert_int_equal(tg_machine_isolation_stats(m, &st), TG_OK);
	assert_int_equal(st.mode, TG_ISOLATION_SERVICE);
	assert_true(st.pid > 0);
	read_proc(st.pid, "maps", buf, sizeof(buf));
	assert_non_null(strstr(buf, "teegate-ram"));
	read_proc(st.pid, "status", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Seccomp:\t0"));
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_sandbox_without_seccomp_fails_fast(void **state)
{
	struct tg_machine_config cfg;
	struct tg_machine *m = NULL;
	uint64_t t0 = now_ms();

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 64ull << 20;
	cfg.isolation = TG_ISOLATION_SANDBOXED;
	cfg.log_level = TG_LOG_ERROR + 1;
	setenv("TEEGATE_TEST_NO_SECCOMP", "1", 1);
	assert_int_equal(tg_machine_create(&cfg, &m), TG_ENOTSUP);
	unsetenv("TEEGATE_TEST_NO_SECCOMP");
	assert_null(m);
	assert_true(now_ms() - t0 < 5000);
}

static void test_missing_mediator_program_fails_fast(void **state)
{
	struct tg_machine_config cfg;
	struct tg_machine *m = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 64ull << 20;
	cfg.isolation = TG_ISOLATION_SANDBOXED;
	cfg.mediator_path = "/nonexistent/teegate-mediator";
	assert_int_equal(tg_machine_create(&cfg, &m), TG_ENOTSUP);
}

static void test_unknown_mode_in_environment_is_refused(void **state)
{
	struct tg_machine_config cfg;
	struct tg_machine *m = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 64ull << 20;
	setenv("TEEGATE_ISOLATION", "bogus", 1);
	assert_int_equal(tg_machine_create(&cfg, &m), TG_EINVAL);
	unsetenv("TEEGATE_ISOLATION");
	cfg.isolation = TG_ISOLATION_INLINE;
	cfg.per_guest = true; /* per guest needs a process per mediator */
	assert_int_equal(tg_machine_create(&cfg, &m), TG_EINVAL);
}

static void short_main(struct tg_vcpu *v, void *arg)
{
	/* long enough to reach every kill point, also under ASan */
	struct tg_workload_opts o = { .seconds = 2, .seed = 11,
				      .bigbuf_mib = 8 };

	(void)arg;
	tg_workload_mixed(v, &o);
}

/*
 * One sandbox per guest: two guests, two mediator processes, each
 * serving one domain; both workloads verify every result and nothing is
 * refused (each sandbox only ever asks for its own guest's memory).
 */
static void test_sandbox_per_guest_serves_one_guest_each(void **state)
{
	struct tg_machine_config cfg;
	struct tg_isolation_stats st;
	struct tg_machine_pages ps;
	struct tg_guest_config gc;
	struct tg_guest_stats gs;
	struct tg_machine *m = NULL;
	struct tg_guest *g[2];
	int i, ws;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 256ull << 20;
	cfg.isolation = TG_ISOLATION_SANDBOXED;
	cfg.per_guest = true;
	assert_int_equal(tg_machine_create(&cfg, &m), TG_OK);
	memset(&gc, 0, sizeof(gc));
	gc.mode = TG_GUEST_THREAD;
	gc.vcpus = 1;
	gc.ram_pages = 8192; /* the 8 MiB big buffer, in and out */
	for (i = 0; i < 2; i++)
		assert_int_equal(tg_guest_start(m, &gc, short_main, NULL, &g[i]),
				 TG_OK);
	tg_machine_isolation_stats(m, &st);
	assert_int_equal(st.mode, TG_ISOLATION_SANDBOXED);
	assert_true(st.per_guest);
	assert_int_equal(st.processes, 2);
	for (i = 0; i < 2; i++) {
		ws = -1;
		assert_int_equal(tg_guest_wait_timeout(g[i], 60000, &ws), TG_OK);
		assert_int_equal(tg_guest_stats(g[i], &gs), TG_OK);
		assert_true(gs.counters.verified > 0);
		assert_int_equal(gs.counters.mismatches, 0);
		assert_int_equal(gs.counters.errors, 0);
	}
	tg_machine_isolation_stats(m, &st);
	assert_int_equal(st.refused_foreign + st.refused_smc, 0);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void mixed_main(struct tg_vcpu *v, void *arg)
{
	struct tg_workload_opts o = { .seconds = 4, .seed = 7,
				      .bigbuf_mib = 8 };

	(void)arg;
	tg_workload_mixed(v, &o);
}

/*
 * SIGKILL the mediator three times under a running workload: it is
 * restarted each time, the guest runs to its end (its in-flight calls and
 * sessions fail across a crash, see docs/isolation.md), and afterwards
 * nothing is pinned, no TEE thread is held, the oracle saw nothing.
 */
static void crash_under_load(enum tg_isolation mode)
{
	struct tg_machine *m = machine_new(mode, NULL);
	struct tg_isolation_stats st;
	struct tg_machine_pages ps;
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;
	int i, ws = -1;

	memset(&gc, 0, sizeof(gc));
#ifdef __SANITIZE_ADDRESS__
	gc.mode = TG_GUEST_THREAD; /* see tests/guest/test_hosted.c */
#endif
	gc.vcpus = 2;
	gc.ram_pages = 8192;
	assert_int_equal(tg_guest_start(m, &gc, mixed_main, NULL, &g), TG_OK);
	for (i = 0; i < 3; i++) {
		usleep(800 * 1000);
		assert_int_equal(tg_machine_kill_mediator(m), TG_OK);
		/* back in service before the next kill */
		do {
			usleep(5000);
			tg_machine_isolation_stats(m, &st);
		} while (st.restarts < (uint64_t)i + 1);
		print_message("# restart %d: %.2f ms from death to serving\n",
			      i + 1, (double)st.last_restart_ns / 1e6);
	}
	assert_int_equal(tg_guest_wait_timeout(g, 60000, &ws), TG_OK);
	tg_machine_isolation_stats(m, &st);
	print_message("# %llu calls in flight failed over 3 recoveries\n",
		      (unsigned long long)st.calls_failed);
	assert_int_equal(st.deaths, 3);
	assert_int_equal(st.restarts, 3);
	assert_int_equal(st.recovered, 3); /* state kept every time */
	assert_int_equal(st.state_lost, 0);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.mediator, 0);
	assert_int_equal(tg_model_threads_held(tg_machine_model(m), UINT32_MAX),
			 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void test_sandboxed_mediator_killed_under_load_restarts(void **state)
{
	(void)state;
	crash_under_load(TG_ISOLATION_SANDBOXED);
}

static void test_service_daemon_killed_under_load_restarts(void **state)
{
	(void)state;
	crash_under_load(TG_ISOLATION_SERVICE);
}

/*
 * Kill the first mediator process at a chosen point (mediatord.c,
 * TEEGATE_TEST_MEDIATOR_DIE): during the argument copy, page-list
 * translation (pins), an SMC (early: capability exchange; later: inside
 * std calls and RPCs), the result copy, REGISTER_SHM's pins, a domain
 * destroy. Each time: restarted, the guest runs to its end, nothing pinned,
 * no TEE thread held, no oracle violation, teardown clean.
 */
static void test_mediator_killed_at_each_point_leaves_nothing(void **state)
{
	static const char *const points[] = {
		"copy_from:3", "pin:1",	  "pin:6",     "smc:12",
		"smc:25",      "smc:60", "copy_to:6", "unpin:3",
		"destroy:1",
	};
	struct tg_machine_config cfg;
	struct tg_machine *bad = NULL;
	size_t i;

	(void)state;
	/* dead during the probe: the machine is not created, no hang */
	setenv("TEEGATE_TEST_MEDIATOR_DIE", "smc:2", 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 64ull << 20;
	cfg.isolation = TG_ISOLATION_SANDBOXED;
	cfg.log_level = TG_LOG_ERROR + 1;
	assert_int_equal(tg_machine_create(&cfg, &bad), TG_ENOTEE);
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		struct tg_machine *m;
		struct tg_isolation_stats st;
		struct tg_machine_pages ps;
		struct tg_guest_config gc;
		struct tg_guest *g = NULL;
		int ws = -1;

		setenv("TEEGATE_TEST_MEDIATOR_DIE", points[i], 1);
		m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
		memset(&gc, 0, sizeof(gc));
#ifdef __SANITIZE_ADDRESS__
		gc.mode = TG_GUEST_THREAD;
#endif
		gc.vcpus = 2;
		gc.ram_pages = 8192;
		assert_int_equal(tg_guest_start(m, &gc, short_main, NULL, &g),
				 TG_OK);
		assert_int_equal(tg_guest_wait_timeout(g, 60000, &ws), TG_OK);
		tg_machine_isolation_stats(m, &st);
		tg_machine_page_stats(m, &ps);
		print_message("# %-12s deaths %llu restarts %llu (%.2f ms)\n",
			      points[i], (unsigned long long)st.deaths,
			      (unsigned long long)st.restarts,
			      (double)st.last_restart_ns / 1e6);
		assert_int_equal(st.deaths, 1);
		assert_int_equal(st.restarts, 1);
		assert_int_equal(st.recovered, 1);
		assert_int_equal(st.state_lost, 0);
		assert_int_equal(ps.pinned, 0);
		assert_int_equal(ps.mediator, 0);
		assert_int_equal(tg_model_threads_held(tg_machine_model(m),
						       UINT32_MAX),
				 0);
		assert_int_equal(tg_machine_violations(m), 0);
		assert_int_equal(tg_machine_destroy(m), TG_OK);
	}
	unsetenv("TEEGATE_TEST_MEDIATOR_DIE");
}

/*
 * The mediator dies when it has completed a guest's OPEN_SESSION but
 * before the answer goes out (TEEGATE_TEST_MEDIATOR_DIE=std_done:1): the
 * guest sees the call fail and never learns the session, so recovery
 * closes it (the hypervisor tells it which completion was lost).
 */
static _Atomic int lost_open_step, lost_open_go, lost_open_rc, lost_open_ok;

/* A thread guest: the test and the guest share these. */
static void lost_open_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t uuid[16] = PTA_INVOKE_TESTS_UUID;
	struct tg_optee_config cfg = { .call_form = TG_OPTEE_FORM_ARG,
				       .no_async_notif = true,
				       .no_shm_cache = true };
	struct tg_optee_result res = { 0 };
	struct tg_optee *drv;
	uint32_t s = 0;

	(void)arg;
	if (tg_optee_probe(v, &cfg, &drv))
		return;
	atomic_store(&lost_open_rc, tg_optee_open_session(drv, uuid, 0, NULL,
							  0, NULL, 0, &s,
							  &res));
	atomic_store(&lost_open_step, 1);
	while (!atomic_load(&lost_open_go))
		usleep(2000); /* the test looks at the domain meanwhile */
	atomic_store(&lost_open_ok,
		     !tg_optee_open_session(drv, uuid, 0, NULL, 0, NULL, 0,
					    &s, &res) &&
			     res.ret == TEEC_SUCCESS);
	tg_optee_close_session(drv, s, NULL);
	tg_optee_remove(drv);
}

static void test_open_whose_answer_was_lost_is_closed(void **state)
{
	struct tg_isolation_stats st;
	struct tg_guest_config gc;
	struct tg_guest_stats gs;
	struct tg_guest *g = NULL;
	struct tg_machine *m;
	int i;

	(void)state;
	atomic_store(&lost_open_step, 0);
	atomic_store(&lost_open_go, 0);
	atomic_store(&lost_open_ok, 0);
	setenv("TEEGATE_TEST_MEDIATOR_DIE", "std_done:1", 1);
	m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	unsetenv("TEEGATE_TEST_MEDIATOR_DIE");
	memset(&gc, 0, sizeof(gc));
	gc.mode = TG_GUEST_THREAD; /* shares the flags above */
	gc.vcpus = 1;
	gc.ram_pages = 1024;
	assert_int_equal(tg_guest_start(m, &gc, lost_open_main, NULL, &g),
			 TG_OK);
	for (i = 0; i < 20000; i++) {
		tg_machine_isolation_stats(m, &st);
		if (atomic_load(&lost_open_step) && st.recovered)
			break;
		usleep(1000);
	}
	/* the guest saw its open fail: the mediator died with it */
	assert_int_equal(atomic_load(&lost_open_step), 1);
	assert_int_not_equal(atomic_load(&lost_open_rc), TG_OK);
	assert_int_equal(st.deaths, 1);
	assert_int_equal(st.recovered, 1);
	/* the domain holds no session its guest does not know of */
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_int_equal(gs.domain.sessions, 0);
	atomic_store(&lost_open_go, 1);
	assert_int_equal(tg_guest_wait_timeout(g, 30000, NULL), TG_OK);
	assert_int_equal(atomic_load(&lost_open_ok), 1);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* ---- state kept across a crash and an upgrade ---------------------- */

static const TEEC_UUID invoke_tests_uuid = {
	0xd96a5b40, 0xc3e5, 0x21e3,
	{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
};

/* A context and a session with the invoke-tests PTA. */
static bool open_invoke_tests(TEEC_Context *ctx, TEEC_Session *s)
{
	uint32_t origin;

	return TEEC_InitializeContext(NULL, ctx) == TEEC_SUCCESS &&
	       TEEC_OpenSession(ctx, s, &invoke_tests_uuid, TEEC_LOGIN_PUBLIC,
				NULL, NULL, &origin) == TEEC_SUCCESS;
}

static _Atomic int keeper_step;

struct keeper {
	int ok_before, ok_after; /* memref sums right, -1 = not run */
	TEEC_Result r_after;
};

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* invoke-tests command 1 writes the byte sum of the memref into byte 0 */
static TEEC_Result sum_in_tee(TEEC_Session *s, TEEC_SharedMemory *shm,
			      uint8_t *buf, size_t len, uint8_t seed, int *ok)
{
	TEEC_Operation op;
	uint32_t origin;
	TEEC_Result r;
	uint8_t want;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
	want = byte_sum(buf, len);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = shm;
	r = TEEC_InvokeCommand(s, 1, &op, &origin);
	*ok = r == TEEC_SUCCESS && buf[0] == want;
	return r;
}

/*
 * Open a session and register a buffer, use them, wait while the test
 * kills the mediator, then use the same session and buffer again.
 */
static void keeper_main(struct tg_vcpu *v, void *arg)
{
	struct keeper *k = arg;
	TEEC_SharedMemory shm;
	TEEC_Context ctx;
	TEEC_Session s;
	size_t len = 3 * 4096 + 100;
	uint8_t *buf;

	(void)v;
	if (!open_invoke_tests(&ctx, &s))
		goto out;
	buf = tg_optee_mem_alloc(ctx.drv, len);
	memset(&shm, 0, sizeof(shm));
	shm.buffer = buf;
	shm.size = len;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	if (!buf || TEEC_RegisterSharedMemory(&ctx, &shm) != TEEC_SUCCESS)
		goto out;
	sum_in_tee(&s, &shm, buf, len, 1, &k->ok_before);
	atomic_store(&keeper_step, 1);
	while (atomic_load(&keeper_step) != 2)
		usleep(1000);
	/* the same session and registered buffer, new contents */
	k->r_after = sum_in_tee(&s, &shm, buf, len, 99, &k->ok_after);
	TEEC_ReleaseSharedMemory(&shm);
	tg_optee_mem_free(ctx.drv, buf);
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
out:
	atomic_store(&keeper_step, 3);
}

static struct tg_guest *keeper_guest(struct tg_machine *m,
				     void (*fn)(struct tg_vcpu *, void *),
				     void *arg, uint32_t vcpus)
{
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;

	memset(&gc, 0, sizeof(gc));
	gc.mode = TG_GUEST_THREAD; /* the test and the guest share flags */
	gc.vcpus = vcpus;
	gc.ram_pages = 1024;
	assert_int_equal(tg_guest_start(m, &gc, fn, arg, &g), TG_OK);
	return g;
}

/* ---- what a call costs in round trips --------------------------------- */

#define COUNTED_INVOKES 100
static _Atomic int count_step;

/* An INVOKE of 3 input values and 1 output value in call form @form. */
static bool invoke_values(TEEC_Session *s, enum tg_optee_call_form form,
			  uint32_t i)
{
	uint64_t buf[OPTEE_MSG_GET_ARG_SIZE(4) / 8] = { 0 };
	struct optee_msg_arg *a = (struct optee_msg_arg *)buf;
	uint32_t smc_ret = 0, k;

	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	a->session = s->session_id;
	a->num_params = 4;
	for (k = 0; k < 3; k++) {
		a->params[k].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		a->params[k].u.value.a = k < 2 ? k + 1 : i;
	}
	a->params[3].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	return !tg_optee_raw_call_form(s->ctx->drv, form, a, &smc_ret) &&
	       a->ret == TEEC_SUCCESS && a->params[3].u.value.a == 3 + i;
}

struct invoker {
	enum tg_optee_call_form form;
	int ok;
};

/* One INVOKE to warm up, then COUNTED_INVOKES while the test counts. */
static void invoker_main(struct tg_vcpu *v, void *arg)
{
	struct invoker *iv = arg;
	TEEC_Context ctx;
	TEEC_Session s;
	int i;

	(void)v;
	iv->ok = 0;
	if (!open_invoke_tests(&ctx, &s))
		goto out;
	for (i = 0; i <= COUNTED_INVOKES; i++) {
		if (i == 1) {
			atomic_store(&count_step, 1);
			while (atomic_load(&count_step) != 2)
				usleep(1000);
		}
		if (!invoke_values(&s, iv->form, (uint32_t)i))
			goto out;
	}
	iv->ok = 1;
	atomic_store(&count_step, 3); /* counted up to here */
	while (atomic_load(&count_step) != 4)
		usleep(1000);
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
out:
	atomic_store(&count_step, 3);
}

/* Port requests of COUNTED_INVOKES INVOKEs of values in @form. */
static uint64_t port_requests_of_invokes(enum tg_optee_call_form form)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	struct invoker iv = { form, -1 };
	struct tg_isolation_stats a, b;
	struct tg_guest *g;

	atomic_store(&count_step, 0);
	g = keeper_guest(m, invoker_main, &iv, 1);
	while (atomic_load(&count_step) == 0)
		usleep(1000);
	assert_int_equal(atomic_load(&count_step), 1);
	assert_int_equal(tg_machine_isolation_stats(m, &a), TG_OK);
	atomic_store(&count_step, 2);
	while (atomic_load(&count_step) != 3)
		usleep(1000);
	assert_int_equal(tg_machine_isolation_stats(m, &b), TG_OK);
	atomic_store(&count_step, 4);
	assert_int_equal(iv.ok, 1);
	assert_int_equal(tg_guest_wait_timeout(g, 10000, NULL), TG_OK);
	tg_guest_release(g);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	print_message("# form %d: %llu port requests for %d INVOKEs\n",
		      (int)form,
		      (unsigned long long)(b.port_requests - a.port_requests),
		      COUNTED_INVOKES);
	return b.port_requests - a.port_requests;
}

/*
 * An INVOKE of values through a sandboxed mediator. Its results go with
 * the answer (copy_to_guest_late), and for CALL_WITH_ARG and
 * CALL_WITH_RPC_ARG its message comes with the call (the hypervisor
 * sends what the mediator reads first): the mediator asks the hypervisor
 * once, for the SMC. CALL_WITH_REGD_ARG's message is in a registered
 * buffer only the mediator knows: one request more. Before, each asked
 * four times: the message, the SMC, the return code, the output value.
 */
static void test_invoke_of_values_costs_one_port_request(void **state)
{
	(void)state;
	assert_int_equal(port_requests_of_invokes(TG_OPTEE_FORM_ARG),
			 COUNTED_INVOKES);
	assert_int_equal(port_requests_of_invokes(TG_OPTEE_FORM_RPC_ARG),
			 COUNTED_INVOKES);
	assert_int_equal(port_requests_of_invokes(TG_OPTEE_FORM_REGD_ARG),
			 2 * COUNTED_INVOKES);
}

static void wait_restarts(struct tg_machine *m, uint64_t n)
{
	struct tg_isolation_stats st;
	int i;

	for (i = 0; i < 10000; i++) {
		tg_machine_isolation_stats(m, &st);
		if (st.restarts >= n)
			return;
		usleep(1000);
	}
	fail_msg("the mediator did not come back");
}

static void crash_keeps_state(enum tg_isolation mode)
{
	struct tg_machine *m = machine_new(mode, NULL);
	struct keeper k = { -1, -1, 0 };
	struct tg_isolation_stats st;
	struct tg_guest_stats before, after;
	struct tg_machine_pages ps;
	struct tg_guest *g;
	pid_t old_pid;

	atomic_store(&keeper_step, 0);
	g = keeper_guest(m, keeper_main, &k, 1);
	while (atomic_load(&keeper_step) == 0)
		usleep(1000);
	assert_int_equal(atomic_load(&keeper_step), 1);
	assert_int_equal(k.ok_before, 1);
	assert_int_equal(tg_guest_stats(g, &before), TG_OK);
	assert_int_equal(before.domain.sessions, 1);
	/* ours, and what the driver registered for itself */
	assert_true(before.domain.shm_bufs >= 1);

	tg_machine_isolation_stats(m, &st);
	old_pid = st.pid;
	assert_int_equal(tg_machine_kill_mediator(m), TG_OK);
	wait_restarts(m, 1);
	tg_machine_isolation_stats(m, &st);
	print_message("# %s: %.2f ms from SIGKILL to serving, state recovered\n",
		      tg_isolation_name(mode),
		      (double)st.last_restart_ns / 1e6);
	assert_int_not_equal(st.pid, old_pid);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.state_lost, 0);
	assert_int_equal(st.calls_failed, 0); /* nothing was in flight */
	/* the new process knows the session and the buffer, with its pins */
	assert_int_equal(tg_guest_stats(g, &after), TG_OK);
	assert_int_equal(after.domain.sessions, 1);
	assert_int_equal(after.domain.shm_bufs, before.domain.shm_bufs);
	assert_int_equal(after.domain.pinned_pages,
			 before.domain.pinned_pages);

	atomic_store(&keeper_step, 2);
	assert_int_equal(tg_guest_wait_timeout(g, 30000, NULL), TG_OK);
	assert_int_equal(k.r_after, TEEC_SUCCESS);
	assert_int_equal(k.ok_after, 1);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_model_threads_held(tg_machine_model(m), UINT32_MAX),
			 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void test_sandboxed_crash_keeps_sessions_and_buffers(void **state)
{
	(void)state;
	crash_keeps_state(TG_ISOLATION_SANDBOXED);
}

static void test_service_crash_keeps_sessions_and_buffers(void **state)
{
	(void)state;
	crash_keeps_state(TG_ISOLATION_SERVICE);
}

static _Atomic int waiter_step;
static TEEC_Result waiter_result = (TEEC_Result)-1;

static const uint8_t notify_octets[16] = MODEL_TA_NOTIFY_UUID;

static TEEC_UUID notify_uuid(void)
{
	const uint8_t *o = notify_octets;
	TEEC_UUID u;

	u.timeLow = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 |
		    (uint32_t)o[2] << 8 | o[3];
	u.timeMid = (uint16_t)(o[4] << 8 | o[5]);
	u.timeHiAndVersion = (uint16_t)(o[6] << 8 | o[7]);
	memcpy(u.clockSeqAndNode, o + 8, 8);
	return u;
}

static TEEC_Result notify(TEEC_Session *s, uint32_t cmd, uint32_t value)
{
	TEEC_Operation op;
	uint32_t origin;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = value;
	return TEEC_InvokeCommand(s, cmd, &op, &origin);
}

/* vCPU 1: once told, SEND the value vCPU 0 waits for. */
static void sender_main(struct tg_vcpu *v, void *arg)
{
	TEEC_UUID u = notify_uuid();
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t origin;

	(void)v;
	(void)arg;
	while (atomic_load(&waiter_step) != 2)
		usleep(1000);
	if (TEEC_InitializeContext(NULL, &ctx) != TEEC_SUCCESS)
		return;
	if (TEEC_OpenSession(&ctx, &s, &u, TEEC_LOGIN_PUBLIC, NULL, NULL,
			     &origin) == TEEC_SUCCESS) {
		notify(&s, MODEL_TA_NOTIFY_CMD_SEND, 5);
		TEEC_CloseSession(&s);
	}
	TEEC_FinalizeContext(&ctx);
}

/* vCPU 0: WAIT for a value: the call stays suspended in an RPC (the
 * driver waits for the notification) across the upgrade. */
static void waiter_main(struct tg_vcpu *v, void *arg)
{
	TEEC_UUID u = notify_uuid();
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t origin;
	int idx;

	(void)arg;
	idx = tg_vcpu_spawn(v, sender_main, NULL);
	if (TEEC_InitializeContext(NULL, &ctx) == TEEC_SUCCESS) {
		if (TEEC_OpenSession(&ctx, &s, &u, TEEC_LOGIN_PUBLIC, NULL,
				     NULL, &origin) == TEEC_SUCCESS) {
			atomic_store(&waiter_step, 1);
			waiter_result = notify(&s, MODEL_TA_NOTIFY_CMD_WAIT, 5);
			TEEC_CloseSession(&s);
		}
		TEEC_FinalizeContext(&ctx);
	}
	atomic_store(&waiter_step, 2); /* release the sender in any case */
	if (idx >= 0)
		tg_vcpu_join(v, idx);
}

static void test_upgrade_keeps_sessions_and_suspended_calls(void **state)
{
	/* the WAIT and the SEND are two calls of one guest at once: with the
	 * reserve, a lone guest needs 3 TEE threads for that */
	struct tg_machine *m =
		machine_new_threads(TG_ISOLATION_SANDBOXED, NULL, 3);
	struct tg_isolation_stats st;
	struct tg_guest_stats gs;
	struct tg_machine_pages ps;
	char link[64], exe[4096];
	struct tg_guest *g;
	ssize_t n;
	int i;

	(void)state;
	atomic_store(&waiter_step, 0);
	waiter_result = (TEEC_Result)-1;
	g = keeper_guest(m, waiter_main, NULL, 2);
	/* the WAIT is suspended in its RPC: the guest waits for SEND */
	for (i = 0; i < 10000; i++) {
		assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
		if (atomic_load(&waiter_step) == 1 &&
		    gs.domain.calls_suspended == 1)
			break;
		usleep(1000);
	}
	assert_int_equal(gs.domain.calls_suspended, 1);
	assert_int_equal(gs.domain.sessions, 1);

	assert_int_equal(tg_machine_upgrade_mediator(m, TG_NEXT_MEDIATOR_PATH),
			 TG_OK);
	tg_machine_isolation_stats(m, &st);
	print_message("# upgrade: %.2f ms from stop to serving\n",
		      (double)st.last_upgrade_ns / 1e6);
	assert_int_equal(st.upgrades, 1);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.calls_failed, 0);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)st.pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_non_null(strstr(exe, "teegate-mediator-next"));
	/* the new build holds the suspended call and the session */
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_int_equal(gs.domain.calls_suspended, 1);
	assert_int_equal(gs.domain.sessions, 1);

	atomic_store(&waiter_step, 2); /* SEND: the WAIT completes */
	assert_int_equal(tg_guest_wait_timeout(g, 30000, NULL), TG_OK);
	assert_int_equal(waiter_result, TEEC_SUCCESS);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

/* Two upgrades under the mixed workload: no call fails, all verified. */
static void test_upgrade_under_load_fails_no_call(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	struct tg_isolation_stats st;
	struct tg_guest_stats gs;
	struct tg_machine_pages ps;
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;

	(void)state;
	memset(&gc, 0, sizeof(gc));
	gc.mode = TG_GUEST_THREAD;
	gc.vcpus = 2;
	gc.ram_pages = 8192;
	assert_int_equal(tg_guest_start(m, &gc, mixed_main, NULL, &g), TG_OK);
	usleep(1000 * 1000);
	assert_int_equal(tg_machine_upgrade_mediator(m, TG_NEXT_MEDIATOR_PATH),
			 TG_OK);
	usleep(1000 * 1000);
	assert_int_equal(tg_machine_upgrade_mediator(m, TG_MEDIATOR_PATH),
			 TG_OK);
	assert_int_equal(tg_guest_wait_timeout(g, 60000, NULL), TG_OK);
	tg_machine_isolation_stats(m, &st);
	print_message("# 2 upgrades under load, the last %.2f ms\n",
		      (double)st.last_upgrade_ns / 1e6);
	assert_int_equal(st.upgrades, 2);
	assert_int_equal(st.recovered, 2);
	assert_int_equal(st.calls_failed, 0);
	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_true(gs.counters.verified > 0);
	assert_int_equal(gs.counters.errors, 0);
	assert_int_equal(gs.counters.mismatches, 0);
	tg_machine_page_stats(m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static TEEC_Result async_result = (TEEC_Result)-1;

/* ASYNC(v) then WAIT(v): the value comes back through the driver's
 * notification vCPU, which asks GET_ASYNC_NOTIF_VALUE for it. */
static void async_main(struct tg_vcpu *v, void *arg)
{
	TEEC_UUID u = notify_uuid();
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t origin;

	(void)v;
	(void)arg;
	if (TEEC_InitializeContext(NULL, &ctx) != TEEC_SUCCESS)
		return;
	if (TEEC_OpenSession(&ctx, &s, &u, TEEC_LOGIN_PUBLIC, NULL, NULL,
			     &origin) == TEEC_SUCCESS) {
		int tries = 0;

		/* the death fails the calls in flight with it (ASYNC, or
		 * the WAIT: COMMUNICATION); the value ASYNC queued must not
		 * be lost for all that: a WAIT for it ends */
		notify(&s, MODEL_TA_NOTIFY_CMD_ASYNC, 9);
		do
			async_result = notify(&s, MODEL_TA_NOTIFY_CMD_WAIT, 9);
		while (async_result == TEEC_ERROR_COMMUNICATION && ++tries < 3);
		TEEC_CloseSession(&s);
	}
	TEEC_FinalizeContext(&ctx);
}

/*
 * The mediator dies right after the TEE answered GET_ASYNC_NOTIF_VALUE,
 * which popped the value: the hypervisor hands that answer to the guest
 * itself, so the WAIT for it still ends.
 */
static void test_death_in_get_async_notif_value_loses_no_value(void **state)
{
	struct tg_machine *m;
	struct tg_isolation_stats st;
	struct tg_guest *g;

	(void)state;
	setenv("TEEGATE_TEST_MEDIATOR_DIE", "async_value:1", 1);
	m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	async_result = (TEEC_Result)-1;
	g = keeper_guest(m, async_main, NULL, 2);
	assert_int_equal(tg_guest_wait_timeout(g, 20000, NULL), TG_OK);
	unsetenv("TEEGATE_TEST_MEDIATOR_DIE");
	tg_machine_isolation_stats(m, &st);
	assert_int_equal(st.deaths, 1);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(async_result, TEEC_SUCCESS);
	assert_int_equal(tg_machine_violations(m), 0);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

static void test_upgrade_to_a_missing_program_is_refused(void **state)
{
	struct tg_machine *m = machine_new(TG_ISOLATION_SANDBOXED, NULL);
	struct tg_isolation_stats st;

	(void)state;
	assert_int_equal(tg_machine_upgrade_mediator(m, "/nonexistent/x"),
			 TG_EINVAL);
	assert_non_null(strstr(tg_isolation_last_error(), "not an executable"));
	tg_machine_isolation_stats(m, &st);
	assert_int_equal(st.deaths, 0); /* the running one was not touched */
	assert_int_equal(tg_machine_destroy(m), TG_OK);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malicious_mediator_is_refused),
		cmocka_unit_test(test_invoke_of_values_costs_one_port_request),
		cmocka_unit_test(test_malformed_late_writes_are_refused),
		cmocka_unit_test(test_hung_mediator_is_killed_and_restarted),
		cmocka_unit_test(test_sandbox_maps_no_machine_memory),
		cmocka_unit_test(test_service_daemon_maps_machine_memory),
		cmocka_unit_test(test_sandbox_without_seccomp_fails_fast),
		cmocka_unit_test(test_missing_mediator_program_fails_fast),
		cmocka_unit_test(test_unknown_mode_in_environment_is_refused),
		cmocka_unit_test(test_sandbox_per_guest_serves_one_guest_each),
		cmocka_unit_test(
			test_sandboxed_mediator_killed_under_load_restarts),
		cmocka_unit_test(test_service_daemon_killed_under_load_restarts),
		cmocka_unit_test(
			test_mediator_killed_at_each_point_leaves_nothing),
		cmocka_unit_test(test_sandboxed_crash_keeps_sessions_and_buffers),
		cmocka_unit_test(test_service_crash_keeps_sessions_and_buffers),
		cmocka_unit_test(test_upgrade_keeps_sessions_and_suspended_calls),
		cmocka_unit_test(test_upgrade_under_load_fails_no_call),
		cmocka_unit_test(test_upgrade_to_a_missing_program_is_refused),
		cmocka_unit_test(
			test_death_in_get_async_notif_value_loses_no_value),
		cmocka_unit_test(test_open_whose_answer_was_lost_is_closed),
	};

	unsetenv("TEEGATE_ISOLATION");
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
