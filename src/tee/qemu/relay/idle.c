// SPDX-License-Identifier: BSD-2-Clause
/*
 * Idle sleep of a relay CPU (see idle.h).
 *
 * Nothing can interrupt the relay when a request arrives (the host only
 * writes memory), so a sleeping CPU wakes on its timer and looks again: a
 * request waits at most one sleep slice. The timers are driven through
 * their TVAL (relative) registers, which works the same for the physical
 * and the virtual counter.
 */
#include <stdbool.h>

#include "gic.h"
#include "idle.h"

#define PPI_HYP_TIMER 26u  /* CNTHP, EL2 physical */
#define PPI_VIRT_TIMER 27u /* CNTV */
#define PPI_PHYS_TIMER 30u /* CNTP, EL1 physical */

#define PROBE_ARM_US 10u
#define PROBE_WAIT_US 20000u

uint64_t counter_now(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v)::"memory");
	return v;
}

static uint64_t current_el(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return (v >> 2) & 3;
}

static void timer_arm(uint32_t ppi, uint64_t ticks)
{
	switch (ppi) {
	case PPI_HYP_TIMER:
		__asm__ volatile("msr S3_4_C14_C2_0, %0\n" /* CNTHP_TVAL_EL2 */
				 "msr S3_4_C14_C2_1, %1\n" /* CNTHP_CTL_EL2 */
				 "isb" ::"r"(ticks), "r"(1ul) : "memory");
		break;
	case PPI_VIRT_TIMER:
		__asm__ volatile("msr cntv_tval_el0, %0\n"
				 "msr cntv_ctl_el0, %1\n"
				 "isb" ::"r"(ticks), "r"(1ul) : "memory");
		break;
	case PPI_PHYS_TIMER:
		__asm__ volatile("msr cntp_tval_el0, %0\n"
				 "msr cntp_ctl_el0, %1\n"
				 "isb" ::"r"(ticks), "r"(1ul) : "memory");
		break;
	}
}

static void timer_disarm(uint32_t ppi)
{
	switch (ppi) {
	case PPI_HYP_TIMER:
		__asm__ volatile("msr S3_4_C14_C2_1, xzr; isb" ::: "memory");
		break;
	case PPI_VIRT_TIMER:
		__asm__ volatile("msr cntv_ctl_el0, xzr; isb" ::: "memory");
		break;
	case PPI_PHYS_TIMER:
		__asm__ volatile("msr cntp_ctl_el0, xzr; isb" ::: "memory");
		break;
	}
}

static bool ppi_wakes_us(int gic, uint32_t ppi, uint64_t ticks_per_us)
{
	uint64_t start;
	bool seen = false;

	gic_ppi_enable(gic, ppi);
	timer_arm(ppi, PROBE_ARM_US * ticks_per_us);
	start = counter_now();
	while (!seen && counter_now() - start < PROBE_WAIT_US * ticks_per_us)
		seen = gic_ppi_signalled(gic, ppi);
	timer_disarm(ppi);
	gic_ack_all(gic);
	if (!seen)
		gic_ppi_disable(gic, ppi);
	return seen;
}

uint32_t idle_cpu_init(int gic, uint64_t ticks_per_us)
{
	static const uint32_t at_el2[] = { PPI_HYP_TIMER, PPI_PHYS_TIMER,
					   PPI_VIRT_TIMER };
	static const uint32_t at_el1[] = { PPI_PHYS_TIMER, PPI_VIRT_TIMER };
	const uint32_t *ppis = current_el() == 2 ? at_el2 : at_el1;
	unsigned int n = current_el() == 2 ? 3 : 2, i;

	if (!gic || !gic_cpu_init(gic))
		return 0;
	for (i = 0; i < n; i++)
		if (ppi_wakes_us(gic, ppis[i], ticks_per_us))
			return ppis[i];
	return 0;
}

void idle_sleep(int gic, uint32_t ppi, uint64_t ticks,
		const volatile uint64_t *watch, uint64_t last)
{
	timer_arm(ppi, ticks);
	if (*watch == last)
		__asm__ volatile("wfi" ::: "memory");
	timer_disarm(ppi);
	gic_ack_all(gic);
}
