// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg-xen-client: the clients (clients.h) as one program for an arm64 Linux
 * guest, linked against Debian's libteec (optee-client 3.19):
 *
 *   tg-xen-client bigbuf|fair-hog|fair-time|victim [options]
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"

#define MAX_HANDLES 128

static pthread_t threads[MAX_HANDLES];
static int nthreads;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void tgc_printf(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

struct start {
	void (*fn)(void *arg);
	void *arg;
};

static void *thread_main(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

int tgc_spawn(void (*fn)(void *arg), void *arg)
{
	struct start *s = malloc(sizeof(*s));

	if (!s || nthreads == MAX_HANDLES) {
		free(s);
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	if (pthread_create(&threads[nthreads], NULL, thread_main, s)) {
		free(s);
		return -1;
	}
	return nthreads++;
}

void tgc_join(int handle)
{
	if (handle >= 0 && handle < nthreads)
		pthread_join(threads[handle], NULL);
}

uint64_t tgc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void *tgc_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void tgc_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

bool tgc_stop_requested(void)
{
	return stop;
}

/* /proc/self/pagemap: bits 0-54 the frame, bit 63 present (root only). */
bool tgc_phys_of(const void *p, uint64_t *pa)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0, va = (uint64_t)(uintptr_t)p;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, &entry, sizeof(entry),
		   (off_t)(va / (uint64_t)page * sizeof(entry))) ==
		     (ssize_t)sizeof(entry) &&
	     (entry >> 63) && (entry & ((1ull << 55) - 1));
	close(fd);
	if (ok)
		*pa = (entry & ((1ull << 55) - 1)) * (uint64_t)page +
		      va % (uint64_t)page;
	return ok;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "bigbuf", tgc_bigbuf },
		{ "fair-hog", tgc_fair_hog },
		{ "fair-time", tgc_fair_time },
		{ "victim", tgc_victim },
	};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc >= 2)
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[1], cmds[i].name))
				return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
		"usage: %s bigbuf|fair-hog|fair-time|victim [options]\n"
		"  bigbuf    [--sizes 516K,520K,1M,4M,16M,64M] [--modes "
		"registered,allocated,temp] [--held 20]\n"
		"  fair-hog  --threads N --seconds S [--kib 1024]\n"
		"  fair-time --seconds S [--interval-ms 10]\n"
		"  victim    --seconds S [--pages 4]\n",
		argv[0]);
	return 2;
}
