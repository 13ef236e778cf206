/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Just enough of QEMU virt's GIC for an idle relay CPU to sleep in WFI until
 * a timer fires: enable a timer's PPI towards this CPU, see whether it
 * reaches the CPU interface, acknowledge it afterwards. The relay never
 * takes the interrupt (it runs with everything masked); a pending
 * interrupt only ends WFI.
 */
#ifndef TEEGATE_RELAY_GIC_H
#define TEEGATE_RELAY_GIC_H

#include <stdbool.h>
#include <stdint.h>

/* gic_probe() - 2 or 3 for QEMU virt's GICv2 / GICv3, 0 for unknown. */
int gic_probe(void);

/* gic_cpu_init() - enable this CPU's interface; false if it cannot. */
bool gic_cpu_init(int version);

/* gic_ppi_enable() / gic_ppi_disable() - for the calling CPU. */
void gic_ppi_enable(int version, uint32_t ppi);
void gic_ppi_disable(int version, uint32_t ppi);

/*
 * gic_ppi_signalled() - is @ppi the highest pending interrupt this
 * (non-secure) CPU interface would signal? False when the secure world
 * configured it as a secure (group 0 / secure group 1) interrupt.
 */
bool gic_ppi_signalled(int version, uint32_t ppi);

/* gic_ack_all() - acknowledge and complete whatever is pending. */
void gic_ack_all(int version);

#endif /* TEEGATE_RELAY_GIC_H */
