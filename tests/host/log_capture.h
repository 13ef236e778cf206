/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hypervisor's log, captured: stderr (where tg_host_log() writes)
 * goes to a temporary file, and back. Include after <cmocka.h>.
 */
#ifndef TG_TESTS_LOG_CAPTURE_H
#define TG_TESTS_LOG_CAPTURE_H

#include <stdio.h>
#include <unistd.h>

static inline int log_capture_begin(int *saved)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	fflush(stderr);
	*saved = dup(2);
	assert_true(*saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	return fd;
}

/* Back to the real stderr; returns what was logged (shown there too). */
static inline char *log_capture_end(int fd, int saved)
{
	static char buf[16384];
	ssize_t n;

	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	fputs(buf, stderr);
	return buf;
}

#endif
