/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Idle sleep of a relay CPU: WFI until a generic-timer interrupt, so that an
 * idle QEMU does not keep a host core busy per CPU.
 */
#ifndef TEEGATE_RELAY_IDLE_H
#define TEEGATE_RELAY_IDLE_H

#include <stdint.h>

/*
 * idle_cpu_init() - find a timer whose interrupt reaches the calling CPU.
 * Tries the EL2 physical timer, then the EL1 physical and the virtual
 * timer: which PPI is non-secure is the secure world's choice. Each try
 * arms the timer for 10 us and waits up to 20 ms for the GIC to signal
 * it, so a CPU never sleeps on an interrupt that cannot wake it.
 * Return: the PPI to sleep on, or 0 (the CPU spins when idle).
 */
uint32_t idle_cpu_init(int gic_version, uint64_t ticks_per_us);

/*
 * idle_sleep() - sleep on @ppi for at most @ticks, unless *@watch already
 * differs from @last (a request arrived while the timer was being armed).
 */
void idle_sleep(int gic_version, uint32_t ppi, uint64_t ticks,
		const volatile uint64_t *watch, uint64_t last);

uint64_t counter_now(void);

#endif /* TEEGATE_RELAY_IDLE_H */
