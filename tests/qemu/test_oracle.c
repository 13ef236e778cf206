// SPDX-License-Identifier: BSD-2-Clause
/*
 * The oracle plugin without any firmware (label "qemu"; QEMU and the
 * aarch64 cross compiler are all it needs, as in CI).
 *
 *   test_oracle counts_exactly       a secure world of our own
 *                                    (oracle-image/secure.S) accesses NS
 *                                    RAM pages whose owners and pins this
 *                                    test put in the table: the plugin
 *                                    counts exactly the accesses to pages
 *                                    that are not the client's and pinned
 *                                    (or the mediator's), with their PA
 *                                    and instruction address; accesses to
 *                                    flash and secure RAM, and everything
 *                                    the normal world (ns.S) does to the
 *                                    same pages, never count. Its loop of
 *                                    2000 instructions is counted exactly
 *                                    by the code-range mode.
 *   test_oracle ignores_the_relay    the relay (normal world) serving
 *                                    SMCs with the oracle loaded: nothing
 *                                    is checked, nothing counted.
 *   test_oracle missing_plugin       a clear one-line error.
 *
 * Exit 77 (skipped) when QEMU is not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oracle-image/image.h"
#include "qemu.h"

#define SKIP 77
#define RAM_BASE 0x40000000ull
#define RAM_SIZE (1ull << 30)

#ifndef TG_ORACLE_IMAGE_DIR
#define TG_ORACLE_IMAGE_DIR "."
#endif

static int failures;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, \
			       #cond);                                \
			printf(__VA_ARGS__);                          \
			printf("\n");                                 \
			failures++;                                   \
		}                                                     \
	} while (0)

static bool have_qemu(void)
{
	return system("qemu-system-aarch64 --version >/dev/null 2>&1") == 0;
}

static void set_page(struct tg_oracle_table *t, uint64_t pa, uint32_t owner,
		     uint32_t pins)
{
	uint8_t *e = tg_oracle_entries(t) + ((pa - t->ram_base) >> 12) *
						   TG_ORACLE_ENTRY_SIZE;

	tg_oracle_table_set_owner(t, pa, 4096, owner);
	memcpy(e + TG_ORACLE_PINS_OFF, &pins, sizeof(pins));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Expected violations, in the order secure.S makes them. */
static const struct {
	uint64_t insn, pa;
	uint8_t kind, write;
} expected[] = {
	{ PROBE_BASE + 0x08, PAGE_D, TG_ORACLE_FOREIGN, 1 },
	{ PROBE_BASE + 0x10, PAGE_C, TG_ORACLE_UNPINNED, 0 },
	{ PROBE_BASE + 0x14, PAGE_C + 8, TG_ORACLE_UNPINNED, 0 },
	{ PROBE_BASE + 0x18, PAGE_C + 16, TG_ORACLE_UNPINNED, 0 },
	{ PROBE_BASE + 0x1c, PAGE_C + 4092, TG_ORACLE_UNPINNED, 0 },
	{ PROBE_BASE + 0x24, PAGE_F, TG_ORACLE_FOREIGN, 0 },
	{ PROBE_BASE + 0x28, PAGE_F + 4095, TG_ORACLE_FOREIGN, 0 },
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))
#define NCHECKED 17 /* secure.S: D 1, C 4, F 2, A 3, B 2, E 5 */

static int test_counts_exactly(void)
{
	char plugin_arg[4200], ram_obj[128], bios[4200], loader[4200];
	struct tg_oracle_rec rec[TG_ORACLE_RECORDS];
	struct tg_qemu_oracle_stats st;
	struct tg_oracle_table *t;
	volatile uint32_t *done;
	int ram_fd, table_fd, status;
	uint32_t i, n;
	uint8_t *ram;
	double t0;
	pid_t pid;

	if (!have_qemu()) {
		printf("qemu-system-aarch64 not installed: skipped\n");
		return SKIP;
	}
	ram_fd = memfd_create("oracle-test-ram", MFD_CLOEXEC);
	if (ram_fd < 0 || ftruncate(ram_fd, (off_t)RAM_SIZE))
		return 1;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd,
		   0);
	if (ram == MAP_FAILED ||
	    tg_oracle_table_create(RAM_BASE, RAM_SIZE, 1,
				   TG_ORACLE_MODE_ACCESS | TG_ORACLE_MODE_RANGES,
				   &t, &table_fd))
		return 1;
	set_page(t, PAGE_A, 1, 1);
	set_page(t, PAGE_B, 1, 2);
	set_page(t, PAGE_C, 1, 0);
	set_page(t, PAGE_D, 2, 1);
	set_page(t, PAGE_E, TG_ORACLE_OWNER_MEDIATOR, 0);
	set_page(t, PAGE_F, TG_ORACLE_OWNER_FREE, 0);
	t->ranges[0].lo = LOOP_BASE;
	t->ranges[0].hi = LOOP_BASE + 8;
	t->nranges = 1;
	t->cpu[0].client = 1; /* the "SMC" runs for client 1 */
	t->armed = 1;
	done = (volatile uint32_t *)(ram + (PAGE_G - RAM_BASE));

	snprintf(plugin_arg, sizeof(plugin_arg), "%s,table=4,ram=3",
		 tg_qemu_oracle_plugin_path());
	snprintf(ram_obj, sizeof(ram_obj),
		 "memory-backend-file,id=ram,size=%llu,mem-path=/proc/self/fd/3,share=on",
		 RAM_SIZE);
	snprintf(bios, sizeof(bios), "%s/secure.bin", TG_ORACLE_IMAGE_DIR);
	snprintf(loader, sizeof(loader),
		 "loader,file=%s/ns.bin,addr=%#x,force-raw=on",
		 TG_ORACLE_IMAGE_DIR, NS_ENTRY);
	pid = fork();
	if (pid == 0) {
		char *argv[] = {
			"qemu-system-aarch64", "-machine",
			"virt,secure=on,virtualization=on,gic-version=2,memory-backend=ram",
			"-object", ram_obj, "-m", "1024M", "-cpu", "cortex-a57",
			"-smp", "1", "-display", "none", "-monitor", "none",
			"-nodefaults", "-bios", bios, "-device", loader,
			"-plugin", plugin_arg, NULL
		};
		/* high copies first, then fds 3 and 4 without FD_CLOEXEC */
		int rfd = fcntl(ram_fd, F_DUPFD, 10);
		int tfd = fcntl(table_fd, F_DUPFD, 10);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (rfd < 0 || tfd < 0 || dup2(rfd, 3) < 0 || dup2(tfd, 4) < 0)
			_exit(127);
		closefrom(5);
		execvp(argv[0], argv);
		_exit(127);
	}
	t0 = now_s();
	while (*done != DONE_MAGIC && now_s() - t0 < 60) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			printf("FAIL: QEMU exited (status %#x) before the "
			       "normal world was done\n",
			       status);
			return 1;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(*done == DONE_MAGIC, "the image ran to its end (%#x)", *done);

	tg_oracle_table_stats(t, &st);
	printf("# oracle: state %s; %llu checked, %llu foreign, %llu "
	       "unpinned; %llu accesses cross-checked with QEMU; loop range "
	       "%llu instructions\n",
	       st.running ? "running" : st.broken ? st.why : "none",
	       (unsigned long long)st.checked, (unsigned long long)st.foreign,
	       (unsigned long long)st.unpinned,
	       (unsigned long long)t->abi_checks,
	       (unsigned long long)t->ranges[0].count);
	CHECK(st.running && !st.broken, "the plugin runs (%s)", st.why);
	CHECK(st.checked == NCHECKED, "%llu accesses checked, want %d",
	      (unsigned long long)st.checked, NCHECKED);
	CHECK(st.foreign == 3 && st.unpinned == 4 && st.identity == 0,
	      "%llu foreign (want 3), %llu unpinned (want 4)",
	      (unsigned long long)st.foreign, (unsigned long long)st.unpinned);
	CHECK(t->abi_checks > 0, "the host addresses were cross-checked");
	CHECK(t->ranges[0].count == 2u * LOOP_ITERS,
	      "%llu instructions in the loop, want %d",
	      (unsigned long long)t->ranges[0].count, 2 * LOOP_ITERS);
	n = tg_oracle_table_records(t, rec, TG_ORACLE_RECORDS);
	CHECK(n == NEXPECTED, "%u records, want %zu", n, NEXPECTED);
	for (i = 0; i < n && i < NEXPECTED; i++) {
		printf("#   %s %s of pa %#llx by insn %#llx, client %u, owner "
		       "%#x, %u pins\n",
		       rec[i].kind == TG_ORACLE_FOREIGN ? "foreign" : "unpinned",
		       rec[i].write ? "write" : "read",
		       (unsigned long long)rec[i].pa,
		       (unsigned long long)rec[i].insn, rec[i].client,
		       rec[i].owner, rec[i].pins);
		CHECK(rec[i].pa == expected[i].pa &&
			      rec[i].insn == expected[i].insn &&
			      rec[i].kind == expected[i].kind &&
			      rec[i].write == expected[i].write &&
			      rec[i].client == 1 && rec[i].cpu == 0 &&
			      rec[i].time_ns > 0,
		      "record %u: pa %#llx insn %#llx kind %u, want pa %#llx "
		      "insn %#llx kind %u",
		      i, (unsigned long long)rec[i].pa,
		      (unsigned long long)rec[i].insn, rec[i].kind,
		      (unsigned long long)expected[i].pa,
		      (unsigned long long)expected[i].insn, expected[i].kind);
	}
	tg_oracle_table_destroy(t, table_fd);
	munmap(ram, RAM_SIZE);
	close(ram_fd);
	return failures ? 1 : 0;
}

static int test_ignores_the_relay(void)
{
	struct tg_qemu_config c = { .no_secure = true, .oracle = true };
	struct tg_qemu_oracle_stats st;
	struct tg_qemu *q;
	char err[2048];
	uint64_t r[8];
	int i, rc;

	if (!have_qemu()) {
		printf("qemu-system-aarch64 not installed: skipped\n");
		return SKIP;
	}
	rc = tg_qemu_start(&c, &q, err, sizeof(err));
	if (rc) {
		printf("FAIL: %s\n", err);
		return 1;
	}
	for (i = 0; i < 200; i++) {
		memset(r, 0, sizeof(r));
		r[0] = i & 1 ? 0x84000000u : 0xbf00ff01u;
		r[7] = 1;
		tg_qemu_smc(q, TG_QEMU_CPU_ANY, r);
		tg_qemu_ping(q, TG_QEMU_CPU_ANY);
	}
	tg_qemu_oracle_stats(q, &st);
	printf("# relay only, 200 SMCs and 200 pings: plugin %s, %llu "
	       "checked, %llu violations\n",
	       st.running ? "running" : "not running",
	       (unsigned long long)st.checked,
	       (unsigned long long)st.violations);
	CHECK(st.on && st.running && !st.broken, "the plugin runs");
	CHECK(st.checked == 0 && st.violations == 0,
	      "the normal world is never checked");
	tg_qemu_stop(q);
	return failures ? 1 : 0;
}

static int test_missing_plugin(void)
{
	struct tg_qemu_config c = { .no_secure = true, .oracle = true,
				    .oracle_plugin = "/nonexistent/tg-oracle.so" };
	struct tg_qemu *q = NULL;
	char err[2048];
	int rc;

	if (!have_qemu()) {
		printf("qemu-system-aarch64 not installed: skipped\n");
		return SKIP;
	}
	rc = tg_qemu_start(&c, &q, err, sizeof(err));
	printf("# %s\n", err);
	CHECK(rc == TG_QEMU_ENOORACLE && !q, "rc %d", rc);
	CHECK(strstr(err, "/nonexistent/tg-oracle.so not found") &&
		      strstr(err, "without the oracle") && !strchr(err, '\n'),
	      "one line that says what to do: %s", err);
	tg_qemu_stop(q);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "counts_exactly"))
		return test_counts_exactly();
	if (argc == 2 && !strcmp(argv[1], "ignores_the_relay"))
		return test_ignores_the_relay();
	if (argc == 2 && !strcmp(argv[1], "missing_plugin"))
		return test_missing_plugin();
	fprintf(stderr,
		"usage: %s counts_exactly|ignores_the_relay|missing_plugin\n",
		argv[0]);
	return 2;
}
