// SPDX-License-Identifier: BSD-2-Clause
/*
 * The escape suite: a locked-down guest process tries, one technique per
 * test, to reach memory that is not its own or to act on another process.
 * Every test has the same witnesses:
 *  - a victim guest process with a canary page, which it checks itself
 *    when told to (and which must still be alive to do so);
 *  - a canary in a mediator-owned page of machine memory;
 *  - the owner map and pin counts, the isolation oracle.
 *
 * TEEGATE_ESCAPE_EXEC=1 starts the attacker with tg_guest_start_exec()
 * (tg_escape_guest) instead of tg_guest_start(); TEEGATE_ISOLATION picks
 * the mediator's isolation mode as for the other suites.
 *
 * Run one test: test_escape <name>; all: test_escape.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <teegate/host.h>

#include "escape.h"

#define RAM_SIZE (64ull << 20)
#define VICTIM_PAGES 16u
#define ATTACKER_PAGES 16u
#define WAIT_MS 20000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool exec_attacker(void)
{
	const char *e = getenv("TEEGATE_ESCAPE_EXEC");

	return e && *e && strcmp(e, "0");
}

struct esc_fx {
	struct tg_machine *m;
	struct tg_guest *victim;
	uint32_t victim_cid;
	uint64_t victim_pa;
	uint64_t *hyp_canary;
	uint64_t hyp_canary_pa;
	struct tg_machine_pages before;
	struct esc_target t;
};

/* The victim: a canary in its first page, checked when the test says. */
static void victim_main(struct tg_vcpu *v, void *arg)
{
	const struct esc_target *t = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t *p = tg_ipa_ptr(v, ESC_RAM_BASE);

	esc_canary_fill(p, t->magic, ESC_TAG_VICTIM);
	__atomic_store_n(&c->phase, ESC_PHASE_START, __ATOMIC_SEQ_CST);
	while (!tg_notif_wait(v, 1000))
		;
	if (esc_canary_intact(p, t->magic, ESC_TAG_VICTIM))
		c->verified++;
	else
		c->mismatches++;
	__atomic_store_n(&c->phase, ESC_PHASE_DONE, __ATOMIC_SEQ_CST);
}

static struct tg_guest_counters counters_of(struct tg_guest *g)
{
	struct tg_guest_stats st;

	assert_int_equal(tg_guest_stats(g, &st), TG_OK);
	return st.counters;
}

/* Our fd of machine memory (the machine's memfd). */
static int find_mem_fd(void)
{
	char link[256], path[300];
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int fd = -1;
	ssize_t n;

	assert_non_null(d);
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strncmp(link, "/memfd:teegate-ram", 18))
			fd = atoi(e->d_name);
	}
	closedir(d);
	return fd;
}

static void fx_up(struct esc_fx *f)
{
	struct tg_machine_config mc = { 0 };
	const struct tg_port *port;
	struct tg_isolation_stats is;
	struct tg_guest_config gc = { 0 };
	uint64_t t0;

	memset(f, 0, sizeof(*f));
	mc.ram_size = RAM_SIZE;
	mc.seed = 0xe5c;
	assert_int_equal(tg_machine_create(&mc, &f->m), TG_OK);
	port = tg_machine_port(f->m);

	f->t.magic = now_ns() * 0x9e3779b97f4a7c15ull | 1;
	f->t.ram_pages = RAM_SIZE / TG_PAGE_SIZE;
	f->t.hyp_pid = (int32_t)getpid();
	f->t.mem_fd = find_mem_fd();
	snprintf(f->t.backing, sizeof(f->t.backing),
		 "/memfd:teegate-ram (deleted)");
	if (tg_machine_isolation_stats(f->m, &is) == TG_OK)
		f->t.mediator_pid = is.pid;

	f->hyp_canary = port->shm_alloc(port->ctx, 1, &f->hyp_canary_pa);
	assert_non_null(f->hyp_canary);
	esc_canary_fill(f->hyp_canary, f->t.magic, ESC_TAG_HYPERVISOR);

	gc.name = "victim";
	gc.ram_pages = VICTIM_PAGES;
	gc.vcpus = 1;
	assert_int_equal(tg_guest_start(f->m, &gc, victim_main, &f->t,
					 &f->victim),
			 TG_OK);
	f->victim_cid = tg_guest_client_id(f->victim);
	f->victim_pa = tg_guest_ipa_to_pa(f->victim, ESC_RAM_BASE);
	f->t.victim_pid = (int32_t)tg_guest_pid(f->victim);
	t0 = now_ns();
	while (counters_of(f->victim).phase != ESC_PHASE_START)
		assert_true(now_ns() - t0 < 10000000000ull);
	tg_machine_page_stats(f->m, &f->before);
}

static struct tg_guest *start_attacker(struct esc_fx *f, const char *name)
{
	struct tg_guest_config gc = { 0 };
	const struct esc_technique *e = esc_find(name);
	struct tg_guest *g = NULL;

	assert_non_null(e);
	gc.name = "attacker";
	gc.ram_pages = ATTACKER_PAGES;
	gc.vcpus = 1;
	if (exec_attacker()) {
		char buf[ESC_ARGC][80];
		char *argv[3 + ESC_ARGC];
		int i;

		esc_target_to_argv(&f->t, buf);
		argv[0] = (char *)TG_ESCAPE_GUEST_PATH;
		argv[1] = (char *)name;
		for (i = 0; i < ESC_ARGC; i++)
			argv[2 + i] = buf[i];
		argv[2 + ESC_ARGC] = NULL;
		assert_int_equal(tg_guest_start_exec(f->m, &gc,
						     TG_ESCAPE_GUEST_PATH,
						     argv, &g),
				 TG_OK);
	} else {
		assert_int_equal(tg_guest_start(f->m, &gc,
						(void (*)(struct tg_vcpu *,
							  void *))e->fn,
						&f->t, &g),
				 TG_OK);
	}
	return g;
}

/*
 * The witnesses, after the attacker is gone: the victim is alive and its
 * canary intact, the mediator page's canary intact, the owner map and pins
 * as before the attack, no oracle violation.
 */
static void fx_check_and_down(struct esc_fx *f)
{
	const struct tg_port *port = tg_machine_port(f->m);
	struct tg_machine_pages after;
	struct tg_guest_counters vc;
	uint32_t pins = 99;
	int ws = 0;

	tg_machine_page_stats(f->m, &after);
	assert_int_equal(after.guest, f->before.guest);
	assert_int_equal(after.pinned, f->before.pinned);
	assert_int_equal(after.mediator, f->before.mediator);
	assert_int_equal(after.quarantined, f->before.quarantined);
	assert_int_equal(after.free, f->before.free);
	assert_int_equal(tg_machine_owner(f->m, f->victim_pa, &pins),
			 f->victim_cid);
	assert_int_equal(pins, 0);
	assert_int_equal(tg_machine_owner(f->m, f->hyp_canary_pa, NULL),
			 TG_OWNER_MEDIATOR);
	assert_true(esc_canary_intact(f->hyp_canary, f->t.magic,
				      ESC_TAG_HYPERVISOR));

	port->raise_notif_irq(port->ctx, f->victim_cid);
	assert_int_equal(tg_guest_wait_timeout(f->victim, WAIT_MS, &ws),
			 TG_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	vc = counters_of(f->victim);
	assert_int_equal(vc.phase, ESC_PHASE_DONE);
	assert_int_equal(vc.mismatches, 0);
	assert_int_equal(vc.verified, 1);
	assert_int_equal(tg_machine_violations(f->m), 0);
	port->shm_free(port->ctx, f->hyp_canary, 1);
	assert_int_equal(tg_machine_destroy(f->m), TG_OK);
}

/* Run technique @name; it must not reach anything. */
static void escape_fails(const char *name)
{
	const struct tg_sw_mem *mem;
	struct tg_guest_counters c;
	struct tg_guest *g;
	struct esc_fx f;
	const void *vp;
	int ws = 0;

	fx_up(&f);
	g = start_attacker(&f, name);
	assert_int_equal(tg_guest_wait_timeout(g, WAIT_MS, &ws), TG_OK);
	c = counters_of(g);
	/* the victim's page through the TEE's view, on its own behalf */
	mem = tg_machine_sw_mem(f.m);
	vp = mem->map(mem->ctx, f.victim_cid, f.victim_pa, TG_PAGE_SIZE,
		      false);
	assert_non_null(vp);
	printf("# %s: attacker %s %d; passed %llu, refused %llu; canaries: "
	       "victim's %s, mediator page's %s\n",
	       name, WIFSIGNALED(ws) ? "killed by signal" : "exited with",
	       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws),
	       (unsigned long long)c.attacks_passed,
	       (unsigned long long)c.attacks_refused,
	       esc_canary_intact(vp, f.t.magic, ESC_TAG_VICTIM) ? "intact"
								  : "CHANGED",
	       esc_canary_intact(f.hyp_canary, f.t.magic, ESC_TAG_HYPERVISOR)
		       ? "intact"
		       : "CHANGED");
	assert_int_equal(c.errors, 0);
	assert_true(c.phase >= ESC_PHASE_TRYING);
	assert_int_equal(c.attacks_passed, 0);
	tg_guest_release(g);
	fx_check_and_down(&f);
}

#define ESCAPE_TEST(name)                                                      \
	static void name(void **state)                                         \
	{                                                                      \
		(void)state;                                                   \
		escape_fails(#name);                                           \
	}

ESCAPE_TEST(remap_file_pages)
ESCAPE_TEST(kill_another_guest)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remap_file_pages),
		cmocka_unit_test(kill_another_guest),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
