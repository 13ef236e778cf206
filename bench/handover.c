// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg_handover: what one hand-over between two processes costs on this
 * machine, the number behind placement (src/host/place.c,
 * docs/isolation.md "More guests than cores").
 *
 * Two processes pass a turn back and forth through a word in shared
 * memory, as a guest's vCPU and its handler do through a trap slot. Each
 * way of waiting is timed with both processes on one CPU and on two:
 *  - futex: sleep at once, wake the other (every hand-over a wake-up);
 *  - yield: sched_yield() until the turn comes;
 *  - spin:  a pause loop (two CPUs only: on one it would never end).
 *
 * Prints microseconds per round trip (two hand-overs), the median of
 * --runs runs of --iters round trips. No pass or fail: a measurement.
 *
 * Usage: tg_handover [--iters N] [--runs N]
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum how { FUTEX, YIELD, SPIN };

static const char *const how_name[] = { "futex", "yield", "spin" };

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) {
		perror("tg_handover: sched_setaffinity");
		exit(1);
	}
}

/* Wait until *w == want, the way @how says. */
static void wait_turn(_Atomic uint32_t *w, uint32_t want, enum how how)
{
	uint32_t cur;

	while ((cur = atomic_load(w)) != want) {
		if (how == FUTEX)
			syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, cur, NULL,
				NULL, 0);
		else if (how == YIELD)
			sched_yield();
		else
			__asm__ volatile("" ::: "memory");
	}
}

static void give_turn(_Atomic uint32_t *w, uint32_t v, enum how how)
{
	atomic_store(w, v);
	if (how == FUTEX)
		syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One run: microseconds per round trip. */
static double run(int cpu_a, int cpu_b, enum how how, uint32_t iters)
{
	_Atomic uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t t0, t1;
	uint32_t i;
	pid_t pid;

	if (w == MAP_FAILED) {
		perror("tg_handover: mmap");
		exit(1);
	}
	atomic_store(w, 0);
	pid = fork();
	if (pid < 0) {
		perror("tg_handover: fork");
		exit(1);
	}
	if (!pid) {
		pin(cpu_b);
		for (i = 1; i <= iters; i++) {
			wait_turn(w, 2 * i - 1, how);
			give_turn(w, 2 * i, how);
		}
		_exit(0);
	}
	pin(cpu_a);
	t0 = now_ns();
	for (i = 1; i <= iters; i++) {
		give_turn(w, 2 * i - 1, how);
		wait_turn(w, 2 * i, how);
	}
	t1 = now_ns();
	waitpid(pid, NULL, 0);
	munmap((void *)w, 4096);
	return (double)(t1 - t0) / 1e3 / iters;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint32_t iters = 20000, runs = 5, r;
	int cpus[2], n = 0, c, a;
	double t[64];
	cpu_set_t set;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--iters") && a + 1 < argc)
			iters = (uint32_t)strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--runs") && a + 1 < argc)
			runs = (uint32_t)strtoul(argv[++a], NULL, 10);
		else {
			fprintf(stderr,
				"usage: tg_handover [--iters N] [--runs N]\n");
			return 2;
		}
	}
	if (!iters || !runs || runs > 64) {
		fprintf(stderr, "tg_handover: --iters must be > 0 and --runs 1 to 64\n");
		return 2;
	}
	if (sched_getaffinity(0, sizeof(set), &set)) {
		perror("tg_handover: sched_getaffinity");
		return 1;
	}
	for (c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	printf("round trip between two processes (two hand-overs), us, median of %u runs of %u\n",
	       runs, iters);
	for (a = 0; a < 3; a++) {
		int two;

		for (two = 0; two < 2; two++) {
			if (two && n < 2)
				continue;
			if (!two && a == SPIN)
				continue; /* would never end on one CPU */
			for (r = 0; r < runs; r++)
				t[r] = run(cpus[0], cpus[two], (enum how)a, iters);
			qsort(t, runs, sizeof(t[0]), cmp_double);
			printf("%-6s %-9s %9.2f\n", how_name[a],
			       two ? "two CPUs" : "one CPU", t[runs / 2]);
		}
	}
	return 0;
}
