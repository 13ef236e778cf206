// SPDX-License-Identifier: BSD-2-Clause
/*
 * The clients of src/xen-clients (issue 14's big buffers, fairness and
 * victim) on the hosted side: the same files as the arm64 program, run in
 * loopback guests against the OP-TEE model's invoke-tests PTA, with the
 * teegate mediator in between. Their output lines are checked as the Xen
 * runner will read them.
 */
#include <pthread.h>
#include <setjmp.h>
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
#include <teegate/optee_guest.h>

#include "../../src/xen-clients/clients.h"
#include "loopback.h"

/* ---- the platform of clients.h, on a loopback guest --------------------- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static char out[1 << 16];
static size_t out_len;
static void *volatile last_alloc; /* the victim's canary, for the test */

void tgc_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pthread_mutex_lock(&out_lock);
	fputs(line, stdout);
	if (out_len + strlen(line) < sizeof(out)) {
		memcpy(out + out_len, line, strlen(line) + 1);
		out_len += strlen(line);
	}
	pthread_mutex_unlock(&out_lock);
}

struct start {
	void (*fn)(void *arg);
	void *arg;
};

static void vcpu_main(struct tg_vcpu *v, void *p)
{
	struct start *s = p;

	(void)v;
	s->fn(s->arg);
	free(s);
}

bool tgc_stop_requested(void)
{
	return false;
}

int tgc_spawn(void (*fn)(void *arg), void *arg)
{
	struct start *s = malloc(sizeof(*s));
	int h;

	if (!s)
		return -1;
	s->fn = fn;
	s->arg = arg;
	h = tg_vcpu_spawn(tg_vcpu_self(), vcpu_main, s);
	if (h < 0)
		free(s);
	return h;
}

void tgc_join(int handle)
{
	tg_vcpu_join(tg_vcpu_self(), handle);
}

uint64_t tgc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Guest memory the driver knows: registered in place, as in Linux. */
void *tgc_alloc(size_t size)
{
	struct tg_optee *drv;
	void *p = NULL;

	if (tg_optee_get(tg_vcpu_self(), &drv))
		return NULL;
	p = tg_optee_mem_alloc(drv, size);
	tg_optee_put(drv);
	last_alloc = p;
	return p;
}

void tgc_free(void *p, size_t size)
{
	struct tg_optee *drv;

	(void)size;
	if (p && !tg_optee_get(tg_vcpu_self(), &drv)) {
		tg_optee_mem_free(drv, p);
		tg_optee_put(drv);
	}
}

bool tgc_phys_of(const void *p, uint64_t *pa)
{
	struct tg_optee *drv;
	bool ok = false;

	if (!tg_optee_get(tg_vcpu_self(), &drv)) {
		ok = tg_optee_ipa_of(drv, p, 1, pa);
		tg_optee_put(drv);
	}
	return ok;
}

/* ---- running a client in a guest ----------------------------------------- */

struct run {
	struct lb_guest *g;
	int (*fn)(int argc, char **argv);
	const char *const *argv;
	int rc;
};

static void *run_main(void *p)
{
	struct run *r = p;
	struct tg_optee *drv = NULL;
	int argc = 0;

	while (r->argv[argc])
		argc++;
	lb_guest_enter(r->g);
	/* keep the driver (and the memory it handed out) for the whole run */
	assert_int_equal(tg_optee_get(lb_guest_vcpu0(r->g), &drv), 0);
	r->rc = r->fn(argc, (char **)r->argv);
	tg_optee_put(drv);
	lb_guest_enter(NULL);
	return NULL;
}

static void start(struct run *r, pthread_t *t)
{
	assert_int_equal(pthread_create(t, NULL, run_main, r), 0);
}

static size_t count(const char *needle)
{
	size_t n = 0;
	const char *p = out;

	while ((p = strstr(p, needle))) {
		n++;
		p++;
	}
	return n;
}

static int setup(void **state)
{
	(void)state;
	out_len = 0;
	out[0] = 0;
	return lb_env_init_mediated(NULL);
}

static int teardown(void **state)
{
	(void)state;
	lb_env_fini();
	return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void bigbuf_reports_every_size_and_mode_and_holds_20_buffers(void **s)
{
	static const char *const argv[] = {
		"bigbuf", "--sizes", "516K,520K,1M,4M", "--held", "20", NULL
	};
	struct run r = { .fn = tgc_bigbuf, .argv = argv };
	pthread_t t;

	(void)s;
	r.g = lb_guest_create(1, 96);
	assert_non_null(r.g);
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count("TG-BIGBUF mode="), 12);
	assert_int_equal(count("result=PASS"), 13);
	assert_int_equal(count("check=ok"), 12);
	assert_int_equal(count("mode=temp size=532480 kib=520 setup=0x00000000 "
			       "invoke=0x00000000"),
			 1);
	assert_int_equal(count("TG-BIGBUF-HELD count=20 registered=20 "
			       "invoked=20 first_failure=0"),
			 1);
	assert_int_equal(count("TG-BIGBUF-SUMMARY passed=13 failed=0"), 1);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(r.g);
}

/* --target ta: the project's user TA (the model's copy of it) reads the
 * buffers; its UUID and command must match the model's. */
static void bigbuf_target_ta_reads_every_buffer(void **s)
{
	static const char *const argv[] = { "bigbuf", "--sizes", "4K,1M",
					    "--held", "3", "--target", "ta",
					    NULL };
	struct run r = { .fn = tgc_bigbuf, .argv = argv };
	pthread_t t;

	(void)s;
	r.g = lb_guest_create(1, 32);
	assert_non_null(r.g);
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count("check=ok ms="), 6);
	assert_int_equal(count("target=ta result=PASS"), 6);
	assert_int_equal(count("TG-BIGBUF-HELD count=3 registered=3 "
			       "invoked=3 first_failure=0"),
			 1);
	assert_int_equal(count("TG-BIGBUF-SUMMARY passed=7 failed=0"), 1);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(r.g);
}

static void bigbuf_bad_option_is_a_usage_line(void **s)
{
	static const char *const argv[] = { "bigbuf", "--sizez", "1M", NULL };
	static const char *const argv2[] = { "bigbuf", "--sizes", "12Q",
					     "--held", "0",	  NULL };
	static const char *const argv3[] = { "bigbuf", "--target", "tz",
					     NULL };
	struct run r = { .fn = tgc_bigbuf, .argv = argv };
	pthread_t t;

	(void)s;
	r.g = lb_guest_create(1, 16);
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 2);
	assert_int_equal(count("TG-USAGE bigbuf: unknown option '--sizez'"), 1);
	r.argv = argv2;
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(count("TG-USAGE bigbuf: '12Q' is not a size"), 1);
	r.argv = argv3;
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 2);
	assert_int_equal(count("TG-USAGE bigbuf: --target is pta (OP-TEE's "
			       "invoke-tests PTA) or ta (the bigbuf TA), not "
			       "'tz'"),
			 1);
	assert_int_equal(count("TG-BIGBUF mode="), 0);
	lb_guest_destroy(r.g);
}

static void victim_runs_clean_and_sees_a_changed_canary_byte(void **s)
{
	static const char *const argv[] = { "victim",  "--seconds", "3",
					    "--pages", "2",	    NULL };
	struct run r = { .fn = tgc_victim, .argv = argv };
	uint8_t *canary;
	pthread_t t;

	(void)s;
	r.g = lb_guest_create(1, 16);
	last_alloc = NULL;
	start(&r, &t);
	while (!last_alloc)
		usleep(1000);
	canary = last_alloc;
	sleep(1);
	/* another party writes the victim's registered page */
	canary[100] ^= 0xFF;
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 1);
	assert_int_equal(count("TG-VICTIM-BUFFER va="), 1);
	assert_int_equal(count("pa=unknown"), 0);
	assert_int_equal(count("TG-VICTIM-CORRUPTED offset=100 "), 1);
	assert_int_equal(count("errors=0 corruptions=1 result=FAIL"), 1);
	lb_guest_destroy(r.g);

	out_len = 0;
	out[0] = 0;
	r.g = lb_guest_create(1, 16);
	start(&r, &t);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count("TG-VICTIM-CORRUPTED"), 0);
	assert_int_equal(count("errors=0 corruptions=0 result=PASS"), 1);
	lb_guest_destroy(r.g);
}

static void fair_hog_and_timer_run_side_by_side(void **s)
{
	static const char *const hog_argv[] = { "fair-hog", "--threads",
						"3",	    "--seconds",
						"2",	    "--kib",
						"256",	    NULL };
	static const char *const time_argv[] = { "fair-time", "--seconds",
						 "2",	      "--interval-ms",
						 "5",	      NULL };
	struct run hog = { .fn = tgc_fair_hog, .argv = hog_argv };
	struct run timer = { .fn = tgc_fair_time, .argv = time_argv };
	pthread_t t1, t2;

	(void)s;
	hog.g = lb_guest_create(1, 32);
	timer.g = lb_guest_create(2, 16);
	start(&hog, &t1);
	start(&timer, &t2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(hog.rc, 0);
	assert_int_equal(timer.rc, 0);
	assert_int_equal(count("TG-FAIR-HOG thread="), 3);
	assert_int_equal(count("TG-FAIR-HOG-SUMMARY threads=3 "), 1);
	assert_int_equal(count("TG-FAIR-TIME invokes="), 1);
	assert_int_equal(count(" errors=0 p50_us="), 1);
	assert_int_equal(lb_violations(), 0);
	lb_guest_destroy(hog.g);
	lb_guest_destroy(timer.g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			bigbuf_reports_every_size_and_mode_and_holds_20_buffers,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			bigbuf_target_ta_reads_every_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(
			bigbuf_bad_option_is_a_usage_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
			victim_runs_clean_and_sees_a_changed_canary_byte, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			fair_hog_and_timer_run_side_by_side, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
