/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Placement's one system call (place.c), for the hypervisor's threads,
 * a guest's vCPUs and the mediator's workers alike. Its includer
 * defines _GNU_SOURCE.
 */
#ifndef TG_HOST_PIN_H
#define TG_HOST_PIN_H

#include <sched.h>

/* Pin the calling thread to @cpu, or back to @home when @cpu < 0. */
static inline void tg_place_pin(int cpu, const cpu_set_t *home)
{
	cpu_set_t one;

	if (cpu < 0) {
		sched_setaffinity(0, sizeof(*home), home);
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

#endif /* TG_HOST_PIN_H */
