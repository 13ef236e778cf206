// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests of the real-OP-TEE backend without OP-TEE (label "qemu").
 *
 * QEMU's virt machine with secure=off runs our relay at EL2 (-kernel
 * relay.elf) and answers SMCs itself: PSCI_VERSION is 0x10001, anything
 * else is NOT_SUPPORTED. That exercises the relay, the mailbox and the
 * launcher end to end; the error tests drive each failure tg_qemu_start()
 * reports. Every test stops QEMU itself and checks nothing is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <teegate/host.h>
#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#include "fw_protocol.h"
#include "qemu.h"

#define PSCI_VERSION_0_1_1 0x10001u
#define SMCCC_NOT_SUPPORTED UINT64_MAX

/* Short timeouts: the relay is ready in well under a second under TCG. */
#define BOOT_TIMEOUT_MS 20000u

static bool have_qemu(void)
{
	return system("command -v qemu-system-aarch64 >/dev/null 2>&1") == 0;
}

#define REQUIRE_QEMU()                                                   \
	do {                                                             \
		if (!have_qemu()) {                                      \
			print_message("qemu-system-aarch64 not installed\n"); \
			skip();                                          \
		}                                                        \
	} while (0)

/*
 * Each test runs with TMPDIR set to a fresh directory, so that it can
 * check that the backend leaves nothing there (the work dir goes away as
 * soon as the relay is ready).
 */
static char test_tmpdir[4096];

static void private_tmpdir(void)
{
	snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/tg-qemu-test-XXXXXX");
	assert_non_null(mkdtemp(test_tmpdir));
	assert_int_equal(setenv("TMPDIR", test_tmpdir, 1), 0);
}

/* rmdir() fails unless the directory is empty. */
static void tmpdir_is_empty_and_removed(void)
{
	assert_int_equal(rmdir(test_tmpdir), 0);
	unsetenv("TMPDIR");
}

static bool dir_is_empty(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", dir);
	return system(cmd) == 0;
}

static struct tg_qemu *start_no_secure(uint32_t cpus)
{
	struct tg_qemu_config cfg = {
		.no_secure = true,
		.cpus = cpus,
		.timeout_ms = BOOT_TIMEOUT_MS,
	};
	struct tg_qemu *q = NULL;
	char err[2048];
	int rc;

	private_tmpdir();
	rc = tg_qemu_start(&cfg, &q, err, sizeof(err));
	if (rc)
		print_error("tg_qemu_start: %s\n", err);
	assert_int_equal(rc, TG_QEMU_OK);
	assert_non_null(q);
	assert_true(dir_is_empty(test_tmpdir)); /* no file while running */
	return q;
}

/* Gone, or a zombie waiting for a parent that is not us (no longer runs). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool zombie = false;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		zombie = p && p[1] == ' ' && p[2] == 'Z';
	}
	fclose(f);
	return zombie;
}

/* Nothing of a stopped backend is left: process, RAM memfd, files. */
static void stop_and_check(struct tg_qemu *q)
{
	pid_t pid = tg_qemu_pid(q);
	int fd = tg_qemu_ram_fd(q, NULL, 0);

	tg_qemu_stop(q);
	assert_true(process_gone(pid));
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* memfd closed */
	tmpdir_is_empty_and_removed();
}

static void smc(struct tg_qemu *q, uint32_t cpu, uint64_t r[8], uint32_t fid)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = fid;
	assert_int_equal(tg_qemu_smc(q, cpu, r), TG_OK);
}

/* ---- the relay --------------------------------------------------------- */

static void relay_answers_psci_version_on_every_cpu(void **state)
{
	struct tg_qemu *q;
	uint64_t r[8];
	uint32_t cpu;

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(2);
	assert_int_equal(tg_qemu_cpus(q), 2);
	for (cpu = 0; cpu < 2; cpu++) {
		smc(q, cpu, r, 0x84000000u);
		assert_int_equal(r[0], PSCI_VERSION_0_1_1);
	}
	print_message("boot %.0f ms\n", tg_qemu_boot_ms(q));
	stop_and_check(q);
}

static void relay_passes_unknown_ids_through(void **state)
{
	struct tg_qemu *q;
	uint64_t r[8];

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(1);
	smc(q, 0, r, OPTEE_SMC_CALLS_UID);
	assert_int_equal(r[0], SMCCC_NOT_SUPPORTED);
	assert_int_equal(tg_qemu_ping(q, 0), TG_OK);
	stop_and_check(q);
}

/* The host's mapping is QEMU's RAM: the device tree and the relay. */
static void host_mapping_is_qemu_ram(void **state)
{
	struct tg_mem_region reg[8];
	struct tg_qemu *q;
	uint64_t base, size, magic;
	uint8_t *ram;
	void *ptr;
	uint32_t n, i;

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(1);
	tg_qemu_ram(q, &base, &size, &ptr);
	ram = ptr;
	assert_int_equal(base, 0x40000000u);
	assert_int_equal(size, 1ull << 30);
	/* QEMU puts the DTB at the start of RAM for a bare-metal image. */
	assert_memory_equal(ram, "\xd0\x0d\xfe\xed", 4);
	memcpy(&magic, ram + 0x60000000 - base + 8, sizeof(magic));
	assert_int_equal(magic, 0x3159414c45524754ull); /* "TGRELAY1" */

	n = tg_qemu_reserved(q, reg, 8);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_true(reg[i].base >= base);
		assert_true(reg[i].base + reg[i].size <= base + size);
		assert_int_equal(reg[i].base % TG_PAGE_SIZE, 0);
		assert_int_equal(reg[i].size % TG_PAGE_SIZE, 0);
	}
	assert_int_equal(reg[1].base, 0x42000000u);
	assert_int_equal(reg[2].base, 0x60000000u);
	assert_int_equal(reg[3].base, 0x7ff00000u);
	stop_and_check(q);
}

/* With a log dir, the UART logs stay; the relay says hello on the NS one. */
static void logs_are_kept_in_log_dir(void **state)
{
	struct tg_qemu_config cfg = { .no_secure = true, .cpus = 2 };
	char logdir[4200], path[4300], tail[512], line[256];
	struct tg_qemu *q;
	char err[1024];
	FILE *f;

	(void)state;
	REQUIRE_QEMU();
	private_tmpdir();
	snprintf(logdir, sizeof(logdir), "%s/logs", test_tmpdir);
	cfg.log_dir = logdir;
	assert_int_equal(tg_qemu_start(&cfg, &q, err, sizeof(err)),
			 TG_QEMU_OK);
	tg_qemu_log_tail(q, "nw", 1, tail, sizeof(tail));
	assert_non_null(strstr(tail, "teegate relay: protocol 1, EL2, 2 CPUs"));
	assert_string_equal(tg_qemu_log_path(q, "sw") + strlen(logdir),
			    "/sw.log");
	tg_qemu_stop(q);

	snprintf(path, sizeof(path), "%s/nw.log", logdir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, "mailbox at 0x7ff00000"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/sw.log", logdir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/qemu.log", logdir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(logdir), 0);
	tmpdir_is_empty_and_removed();
}

/* utime + stime of @pid, in clock ticks. */
static unsigned long long cpu_ticks(pid_t pid)
{
	unsigned long long u = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;
	int k;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	for (k = 2; p && k < 14; k++) /* to field 14, utime */
		p = strchr(p + 1, ' ');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 1, "%llu %llu", &u, &st), 2);
	return u + st;
}

/*
 * Idle relay CPUs sleep (WFI with a timer) instead of spinning: two idle
 * CPUs must cost far less than two host cores, and a request after a long
 * idle spell is still answered at once.
 */
static void idle_relay_sleeps_and_still_answers(void **state)
{
	struct timespec second = { 1, 0 }, t0, t1;
	unsigned long long before, used;
	struct tg_qemu *q;
	double ms;

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(2);
	nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	before = cpu_ticks(tg_qemu_pid(q));
	nanosleep(&second, NULL);
	used = cpu_ticks(tg_qemu_pid(q)) - before;
	print_message("idle: %.0f%% of one core\n",
		      100.0 * (double)used / (double)sysconf(_SC_CLK_TCK));
	assert_true(used < (unsigned long long)sysconf(_SC_CLK_TCK) * 6 / 10);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tg_qemu_ping(q, 1), TG_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("first answer after idle: %.2f ms\n", ms);
	assert_true(ms < 500); /* one sleep slice is 1 ms; slack for load */
	stop_and_check(q);
}

/*
 * The hosted platform can take QEMU's RAM as its machine memory: a machine
 * built on it (with the model as its secure world here) keeps the relay,
 * the mailbox and the rest out of its page pool.
 */
static void hosted_machine_runs_on_qemu_ram(void **state)
{
	struct tg_machine_config mc = { 0 };
	struct tg_mem_region reg[8];
	struct tg_machine_pages pages;
	struct tg_machine *m = NULL;
	struct tg_qemu *q;
	char path[64];
	uint32_t i;

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(1);
	assert_int_equal(tg_qemu_machine_memory(q, &mc, reg, 8, path,
						sizeof(path)),
			 TG_OK);
	assert_int_equal(mc.nreserved, 4);
	assert_int_equal(tg_machine_create(&mc, &m), TG_OK);
	for (i = 0; i < mc.nreserved; i++) {
		assert_int_equal(tg_machine_owner(m, reg[i].base, NULL),
				 TG_OWNER_RESERVED);
		assert_int_equal(tg_machine_owner(m, reg[i].base +
							     reg[i].size - 1,
						  NULL),
				 TG_OWNER_RESERVED);
	}
	tg_machine_page_stats(m, &pages);
	assert_int_equal(pages.total, (1ull << 30) / TG_PAGE_SIZE);
	assert_true(pages.reserved >= (0x100000 + 0x200000 + 0x9000 +
				       0x100000) / TG_PAGE_SIZE);
	assert_int_equal(tg_machine_destroy(m), TG_OK);
	stop_and_check(q);
}

struct hammer {
	struct tg_qemu *q;
	uint32_t cpu;
	int bad;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	uint64_t r[8];
	int i;

	for (i = 0; i < 300; i++) {
		memset(r, 0, sizeof(r));
		r[0] = 0x84000000u;
		r[7] = h->cpu; /* a7 goes through untouched */
		if (tg_qemu_smc(h->q, h->cpu, r) || r[0] != PSCI_VERSION_0_1_1)
			h->bad++;
	}
	return NULL;
}

/* Threads on the same and on different relay CPUs, all answered. */
static void concurrent_smcs_from_threads(void **state)
{
	struct hammer h[6];
	pthread_t t[6];
	struct tg_qemu *q;
	int i;

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(2);
	for (i = 0; i < 6; i++) {
		h[i] = (struct hammer){ q, i < 4 ? (uint32_t)i % 2
						 : TG_QEMU_CPU_ANY, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread,
						&h[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].bad, 0);
	}
	stop_and_check(q);
}

/* ---- the mediator over the relay ---------------------------------------- */

static void mediator_probe_reports_no_optee(void **state)
{
	struct tg_mediator *med = NULL;
	struct tg_port port;
	struct tg_qemu *q;
	char msg[512];

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(1);
	tg_qemu_port_init(&port, q, false);
	assert_int_equal(tg_mediator_create(&port, NULL, &med), TG_ENOTEE);
	assert_null(med);
	assert_int_equal(tg_qemu_check_probe(TG_ENOTEE, NULL, msg,
					     sizeof(msg)),
			 TG_QEMU_ENOTEE);
	assert_non_null(strstr(msg, "no OP-TEE answered (CALLS_UID is not "
				    "OP-TEE's)"));
	stop_and_check(q);
}

static void probe_verdicts_say_what_to_do(void **state)
{
	struct tg_tee_info info = { .os_rev_major = 4, .os_rev_minor = 10,
				    .thread_count = 2, .sec_caps = 0xfd,
				    .virtualization = true };
	char msg[512];

	(void)state;
	assert_int_equal(tg_qemu_check_probe(TG_OK, &info, msg, sizeof(msg)),
			 TG_QEMU_OK);
	info.virtualization = false;
	assert_int_equal(tg_qemu_check_probe(TG_OK, &info, msg, sizeof(msg)),
			 TG_QEMU_ENOVIRT);
	assert_non_null(strstr(msg, "exactly one guest"));
	assert_non_null(strstr(msg, "CFG_NS_VIRTUALIZATION=y"));
	assert_int_equal(tg_qemu_check_probe(TG_ENOTSUP, NULL, msg,
					     sizeof(msg)),
			 TG_QEMU_EPROTO);
}

/* ---- teardown ----------------------------------------------------------- */

static void smc_after_qemu_died_fails_cleanly(void **state)
{
	struct tg_qemu *q;
	uint64_t r[8] = { 0x84000000u };

	(void)state;
	REQUIRE_QEMU();
	q = start_no_secure(1);
	kill(tg_qemu_pid(q), SIGKILL);
	assert_int_equal(tg_qemu_smc(q, 0, r), TG_EPROTO);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	stop_and_check(q);
}

/*
 * The launcher dies without calling tg_qemu_stop(): QEMU must die with it
 * (PR_SET_PDEATHSIG) and no RAM file may remain (memfd).
 */
static void qemu_dies_with_its_launcher(void **state)
{
	int pipefd[2], status;
	pid_t child, qemu_pid = 0;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int i;

	(void)state;
	REQUIRE_QEMU();
	private_tmpdir();
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct tg_qemu_config cfg = { .no_secure = true, .cpus = 1 };
		struct tg_qemu *q;
		char err[1024];
		int pid;

		close(pipefd[0]);
		if (tg_qemu_start(&cfg, &q, err, sizeof(err)))
			_exit(3);
		pid = tg_qemu_pid(q);
		if (write(pipefd[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(4);
		raise(SIGKILL); /* a crash: no cleanup at all */
		_exit(5);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &qemu_pid, sizeof(qemu_pid)),
			 sizeof(qemu_pid));
	close(pipefd[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	/* QEMU is the launcher's child, reparented and killed: wait a bit. */
	for (i = 0; i < 250 && !process_gone(qemu_pid); i++)
		nanosleep(&nap, NULL);
	assert_true(process_gone(qemu_pid));
	tmpdir_is_empty_and_removed();
}

static void *start_in_thread(void *arg)
{
	struct tg_qemu **q = arg;

	*q = start_no_secure(1);
	return NULL;
}

/*
 * PR_SET_PDEATHSIG follows the thread that forked: QEMU must survive the
 * end of the thread that called tg_qemu_start() (the backend forks from a
 * thread of its own).
 */
static void qemu_survives_the_thread_that_started_it(void **state)
{
	struct timespec nap = { 0, 200 * 1000 * 1000 };
	struct tg_qemu *q = NULL;
	uint64_t r[8];
	pthread_t t;

	(void)state;
	REQUIRE_QEMU();
	assert_int_equal(pthread_create(&t, NULL, start_in_thread, &q), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_non_null(q);
	nanosleep(&nap, NULL);
	assert_false(process_gone(tg_qemu_pid(q)));
	smc(q, 0, r, 0x84000000u);
	assert_int_equal(r[0], PSCI_VERSION_0_1_1);
	stop_and_check(q);
}

/* ---- real OP-TEE (only with TEEGATE_OPTEE_FIRMWARE=DIR) ----------------- */

/* With the oracle plugin unless TEEGATE_ORACLE=0 (as the optee tests). */
static struct tg_qemu *start_real_optee(void)
{
	const char *oracle = getenv("TEEGATE_ORACLE");
	struct tg_qemu_config cfg = {
		.firmware_dir = getenv("TEEGATE_OPTEE_FIRMWARE"),
		.cpus = 2,
		.timeout_ms = 120000,
		.oracle = !oracle || strcmp(oracle, "0") != 0,
	};
	struct tg_qemu *q = NULL;
	char err[2048];
	int rc;

	private_tmpdir();
	rc = tg_qemu_start(&cfg, &q, err, sizeof(err));
	if (rc)
		print_error("tg_qemu_start: %s\n", err);
	assert_int_equal(rc, TG_QEMU_OK);
	print_message("boot %.0f ms\n", tg_qemu_boot_ms(q));
	return q;
}

/* The mediator's probe over the relay; the verdict is printed either way. */
static struct tg_mediator *probe_real_optee(struct tg_qemu *q,
					    struct tg_port *port)
{
	struct tg_mediator *med = NULL;
	char msg[512];
	int rc, verdict;

	tg_qemu_port_init(port, q, false);
	rc = tg_mediator_create(port, NULL, &med);
	verdict = tg_qemu_check_probe(rc, med ? tg_mediator_tee_info(med)
					      : NULL,
				      msg, sizeof(msg));
	print_message("%s\n", msg);
	assert_int_equal(verdict, TG_QEMU_OK);
	return med;
}

/* Whatever the oracle saw of OP-TEE: no violation. */
static void oracle_saw_nothing_wrong(const struct tg_qemu *q)
{
	struct tg_qemu_oracle_stats st;

	if (tg_qemu_oracle_stats(q, &st))
		return; /* TEEGATE_ORACLE=0 */
	print_message("oracle: %llu checked, %llu violations\n",
		      (unsigned long long)st.checked,
		      (unsigned long long)st.violations);
	assert_false(st.broken);
	assert_true(st.running);
	assert_int_equal(st.violations, 0);
}

static void real_optee_probe_finds_virtualization(void **state)
{
	const struct tg_tee_info *t;
	struct tg_mediator *med;
	struct tg_port port;
	struct tg_qemu *q;

	(void)state;
	q = start_real_optee();
	med = probe_real_optee(q, &port);
	t = tg_mediator_tee_info(med);
	assert_int_equal(t->api_uid[0], OPTEE_MSG_UID_0);
	assert_int_equal(t->api_uid[3], OPTEE_MSG_UID_3);
	assert_true(t->virtualization);
	assert_true(t->thread_count >= 1);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	oracle_saw_nothing_wrong(q);
	stop_and_check(q);
}

static void guest_call(struct tg_mediator *med, uint32_t client, uint64_t r[8],
		       uint32_t fid)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = fid;
	assert_true(tg_handle_smc(med, client, 0, r));
}

/* VM_CREATED(1) from a7 = 0; guest 1's fast calls; VM_DESTROYED. */
static void real_optee_guest_life_cycle(void **state)
{
	struct tg_mediator *med;
	struct tg_port port;
	struct tg_qemu *q;
	uint64_t r[8];
	uint32_t t;
	int rc;

	(void)state;
	q = start_real_optee();
	med = probe_real_optee(q, &port);

	/* Straight to OP-TEE: a client it was never told about. */
	memset(r, 0, sizeof(r));
	r[0] = OPTEE_SMC_GET_OS_REVISION;
	r[7] = 1;
	assert_int_equal(tg_qemu_smc(q, 0, r), TG_OK);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);

	assert_int_equal(tg_domain_create(med, 1, NULL), TG_OK);
	guest_call(med, 1, r, OPTEE_SMC_GET_OS_REVISION);
	assert_int_equal(r[0], tg_mediator_tee_info(med)->os_rev_major);
	guest_call(med, 1, r, OPTEE_SMC_GET_THREAD_COUNT);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	/* the guest's cap: all threads but the reserve (docs/threat-model.md,
	 * "Fair share of the TEE's threads"), also while it is alone */
	t = tg_mediator_tee_info(med)->thread_count;
	assert_int_equal(r[1], t > 1 ? t - 1 : t);
	guest_call(med, 1, r, OPTEE_SMC_VM_CREATED); /* hypervisor only */
	assert_int_equal(r[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);

	do
		rc = tg_domain_destroy(med, 1);
	while (rc == TG_AGAIN);
	assert_int_equal(rc, TG_OK);
	memset(r, 0, sizeof(r));
	r[0] = OPTEE_SMC_GET_OS_REVISION;
	r[7] = 1;
	assert_int_equal(tg_qemu_smc(q, 1, r), TG_OK);
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ENOTAVAIL);
	assert_int_equal(tg_mediator_destroy(med), TG_OK);
	oracle_saw_nothing_wrong(q);
	stop_and_check(q);
}

/* ---- errors ------------------------------------------------------------- */

static int start_expect(const struct tg_qemu_config *cfg, char *err,
			size_t errlen)
{
	struct tg_qemu *q = (struct tg_qemu *)1;
	int rc;

	rc = tg_qemu_start(cfg, &q, err, errlen);
	assert_null(q);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n')); /* one line */
	print_message("%s: %s\n", tg_qemu_strerror(rc), err);
	return rc;
}

static void missing_qemu_binary_is_reported(void **state)
{
	struct tg_qemu_config cfg = {
		.no_secure = true,
		.qemu_path = "/nonexistent/qemu-system-aarch64",
	};
	char err[1024];

	(void)state;
	assert_int_equal(start_expect(&cfg, err, sizeof(err)),
			 TG_QEMU_ENOQEMU);
	assert_non_null(strstr(err, "qemu-system-arm"));
}

static void missing_firmware_dir_is_reported(void **state)
{
	struct tg_qemu_config cfg = {
		.firmware_dir = "/nonexistent/optee-firmware",
	};
	char err[1024];

	(void)state;
	REQUIRE_QEMU();
	assert_int_equal(start_expect(&cfg, err, sizeof(err)),
			 TG_QEMU_ENOFIRMWARE);
	assert_non_null(strstr(err, "/nonexistent/optee-firmware"));
	assert_non_null(strstr(err, "bl32_extra1.bin"));
}

/* A scratch firmware dir with the named files (content: @fill). */
static void make_fw_dir(char *dir, size_t len, const char *const *files,
			off_t size)
{
	char path[4200];
	int i, fd;

	snprintf(dir, len, "%s/tg-qemu-fw-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	for (i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, size), 0);
		close(fd);
	}
}

static void remove_fw_dir(const char *dir, const char *const *files)
{
	char path[4200];
	int i;

	for (i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0); /* nothing else was put there */
}

static void incomplete_firmware_dir_lists_missing_files(void **state)
{
	static const char *const files[] = { "bl1.bin", "bl2.bin", NULL };
	struct tg_qemu_config cfg = { 0 };
	char dir[4096], err[1024];

	(void)state;
	REQUIRE_QEMU();
	make_fw_dir(dir, sizeof(dir), files, 4096);
	cfg.firmware_dir = dir;
	assert_int_equal(start_expect(&cfg, err, sizeof(err)),
			 TG_QEMU_ENOFIRMWARE);
	assert_non_null(strstr(err, "missing: bl31.bin bl32.bin "
				    "bl32_extra1.bin bl32_extra2.bin"));
	remove_fw_dir(dir, files);
}

/* A flash image QEMU cannot load (over 64 MiB): QEMU exits at once. */
static void qemu_dying_during_boot_is_reported_with_logs(void **state)
{
	static const char *const files[] = { "flash.bin", NULL };
	struct tg_qemu_config cfg = { .timeout_ms = BOOT_TIMEOUT_MS };
	char dir[4096], err[2048];

	(void)state;
	REQUIRE_QEMU();
	make_fw_dir(dir, sizeof(dir), files, 65 << 20); /* sparse */
	cfg.firmware_dir = dir;
	assert_int_equal(start_expect(&cfg, err, sizeof(err)), TG_QEMU_EDIED);
	assert_non_null(strstr(err, "QEMU exited during boot"));
	assert_non_null(strstr(err, "Could not load ROM image"));
	assert_non_null(strstr(err, "nw.log"));
	assert_non_null(strstr(err, "sw.log"));
	remove_fw_dir(dir, files);
}

/* Firmware that never reaches BL33 (a BL1 of zeros): a timeout. */
static void relay_timeout_is_reported_and_qemu_killed(void **state)
{
	static const char *const files[] = { "flash.bin", NULL };
	struct tg_qemu_config cfg = { .timeout_ms = 1500 };
	char dir[4096], err[2048];
	struct timespec t0, t1;

	(void)state;
	REQUIRE_QEMU();
	make_fw_dir(dir, sizeof(dir), files, 4096);
	cfg.firmware_dir = dir;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(start_expect(&cfg, err, sizeof(err)),
			 TG_QEMU_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	assert_non_null(strstr(err, "relay not ready within 1500 ms"));
	/* QEMU was our child: reaped, so no zombie either. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	remove_fw_dir(dir, files);
}

static void missing_relay_is_reported(void **state)
{
	struct tg_qemu_config cfg = {
		.no_secure = true,
		.relay_dir = "/nonexistent/relay",
	};
	char err[1024];

	(void)state;
	REQUIRE_QEMU();
	assert_int_equal(start_expect(&cfg, err, sizeof(err)),
			 TG_QEMU_ENORELAY);
	assert_non_null(strstr(err, "/nonexistent/relay/relay.elf"));
}

static void bad_config_is_refused(void **state)
{
	struct tg_qemu_config cfg = { .no_secure = true, .cpus = 9 };
	char err[1024];

	(void)state;
	assert_int_equal(start_expect(&cfg, err, sizeof(err)), TG_QEMU_EINVAL);
	cfg.cpus = 1;
	cfg.ram_size = 512ull << 20;
	assert_int_equal(start_expect(&cfg, err, sizeof(err)), TG_QEMU_EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relay_answers_psci_version_on_every_cpu),
		cmocka_unit_test(relay_passes_unknown_ids_through),
		cmocka_unit_test(host_mapping_is_qemu_ram),
		cmocka_unit_test(concurrent_smcs_from_threads),
		cmocka_unit_test(hosted_machine_runs_on_qemu_ram),
		cmocka_unit_test(logs_are_kept_in_log_dir),
		cmocka_unit_test(idle_relay_sleeps_and_still_answers),
		cmocka_unit_test(mediator_probe_reports_no_optee),
		cmocka_unit_test(probe_verdicts_say_what_to_do),
		cmocka_unit_test(smc_after_qemu_died_fails_cleanly),
		cmocka_unit_test(qemu_dies_with_its_launcher),
		cmocka_unit_test(qemu_survives_the_thread_that_started_it),
		cmocka_unit_test(missing_qemu_binary_is_reported),
		cmocka_unit_test(missing_firmware_dir_is_reported),
		cmocka_unit_test(incomplete_firmware_dir_lists_missing_files),
		cmocka_unit_test(qemu_dying_during_boot_is_reported_with_logs),
		cmocka_unit_test(relay_timeout_is_reported_and_qemu_killed),
		cmocka_unit_test(missing_relay_is_reported),
		cmocka_unit_test(bad_config_is_refused),
	};

	const struct CMUnitTest real_optee[] = {
		cmocka_unit_test(real_optee_probe_finds_virtualization),
		cmocka_unit_test(real_optee_guest_life_cycle),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	if (argc > 1 && !strncmp(argv[1], "real_optee", 10)) {
		/* 77: CTest's SKIP_RETURN_CODE, see tests/qemu/CMakeLists.txt */
		if (!getenv("TEEGATE_OPTEE_FIRMWARE") || !have_qemu()) {
			printf("TEEGATE_OPTEE_FIRMWARE not set (or no QEMU): "
			       "skipped\n");
			return 77;
		}
		if (tgt_need_protocol(TG_PROTOCOL_OPTEE))
			return 77;
		return cmocka_run_group_tests(real_optee, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
