/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * For tests that wait on another thread: whether @flag became non-zero
 * within @ms milliseconds (polled every millisecond).
 */
#ifndef TG_TESTS_FLAG_WITHIN_H
#define TG_TESTS_FLAG_WITHIN_H

#include <stdbool.h>
#include <unistd.h>

static inline bool flag_within(int *flag, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

#endif
