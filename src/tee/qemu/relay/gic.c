// SPDX-License-Identifier: BSD-2-Clause
/*
 * QEMU virt's GIC, from the non-secure side, for the relay's idle sleep.
 *
 * TF-A has already initialised the distributor and, on GICv3, woken every
 * redistributor. What is left for the normal world: a PPI's enable and
 * priority (banked per CPU) and the CPU interface (memory-mapped on GICv2,
 * system registers on GICv3). Which group a PPI is in is the secure
 * world's choice and cannot be changed from here, hence
 * gic_ppi_signalled().
 *
 * A level interrupt stays pending in the GIC until it is acknowledged, even
 * after the timer stopped asserting it, so the relay acknowledges after
 * every sleep or the next WFI would return at once.
 */
#include "gic.h"

#define GICD_BASE 0x08000000ul
#define GICD_CTLR 0x0000
#define GICD_ISENABLER0 0x0100
#define GICD_ICENABLER0 0x0180
#define GICD_IPRIORITYR 0x0400
#define GICD_PIDR2_V2 0x0FE8
#define GICD_PIDR2_V3 0xFFE8

#define GICC_BASE 0x08010000ul /* GICv2 CPU interface */
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00C
#define GICC_EOIR 0x010
#define GICC_HPPIR 0x018

#define GICR_BASE 0x080A0000ul /* GICv3 redistributors, one per CPU */
#define GICR_STRIDE 0x20000ul  /* RD frame + SGI frame */
#define GICR_TYPER 0x0008
#define GICR_TYPER_LAST (1u << 4)
#define GICR_SGI 0x10000ul /* ISENABLER0 etc. at the GICD offsets */
#define GICR_MAX 8

#define ICC_SRE_SRE (1u << 0)
#define ICC_SRE_ENABLE (1u << 3)

#define INTID_MASK 0xFFFFFFu
#define INTID_SPURIOUS 1020u

static inline void mmio_w32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_r32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline uint64_t mmio_r64(uintptr_t addr)
{
	return *(volatile uint64_t *)addr;
}

static inline void mmio_w8(uintptr_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

int gic_probe(void)
{
	if (((mmio_r32(GICD_BASE + GICD_PIDR2_V2) >> 4) & 0xFu) == 2u)
		return 2;
	if (((mmio_r32(GICD_BASE + GICD_PIDR2_V3) >> 4) & 0xFu) == 3u)
		return 3;
	return 0;
}

/* The GICv3 redistributor of the calling CPU, found by its affinity. */
static uintptr_t gicv3_rd(void)
{
	uint64_t mpidr, aff, typer;
	uintptr_t frame;
	int n;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	aff = (mpidr & 0xFFFFFFu) | ((mpidr >> 8) & 0xFF000000u);
	for (n = 0; n < GICR_MAX; n++) {
		frame = GICR_BASE + (uintptr_t)n * GICR_STRIDE;
		typer = mmio_r64(frame + GICR_TYPER);
		if ((typer >> 32) == aff)
			return frame;
		if (typer & GICR_TYPER_LAST)
			break;
	}
	return 0;
}

/* Where this CPU's PPI registers are (GICv2: banked in the distributor). */
static uintptr_t ppi_regs(int version)
{
	uintptr_t rd;

	if (version == 2)
		return GICD_BASE;
	rd = gicv3_rd();
	return rd ? rd + GICR_SGI : 0;
}

bool gic_cpu_init(int version)
{
	uint64_t sre;

	if (version == 2) {
		/* Group 1 (group 0 without security) on in the distributor */
		mmio_w32(GICD_BASE + GICD_CTLR,
			 mmio_r32(GICD_BASE + GICD_CTLR) | 1u);
		mmio_w32(GICC_BASE + GICC_PMR, 0xFFu);
		mmio_w32(GICC_BASE + GICC_CTLR,
			 mmio_r32(GICC_BASE + GICC_CTLR) | 1u);
		return true;
	}
	if (version != 3 || !gicv3_rd())
		return false;
	/* The system-register CPU interface at EL2 (TF-A allows it). */
	__asm__ volatile("mrs %0, S3_4_C12_C9_5" : "=r"(sre)); /* ICC_SRE_EL2 */
	sre |= ICC_SRE_SRE | ICC_SRE_ENABLE;
	__asm__ volatile("msr S3_4_C12_C9_5, %0; isb" ::"r"(sre));
	__asm__ volatile("mrs %0, S3_4_C12_C9_5" : "=r"(sre));
	if (!(sre & ICC_SRE_SRE))
		return false;
	__asm__ volatile("msr S3_0_C4_C6_0, %0\n"   /* ICC_PMR_EL1 */
			 "msr S3_0_C12_C12_7, %1\n" /* ICC_IGRPEN1_EL1 */
			 "isb" ::"r"(0xFFul), "r"(1ul));
	return true;
}

void gic_ppi_enable(int version, uint32_t ppi)
{
	uintptr_t regs = ppi_regs(version);

	if (!regs)
		return;
	mmio_w8(regs + GICD_IPRIORITYR + ppi, 0xA0);
	mmio_w32(regs + GICD_ISENABLER0, 1u << ppi);
}

void gic_ppi_disable(int version, uint32_t ppi)
{
	uintptr_t regs = ppi_regs(version);

	if (regs)
		mmio_w32(regs + GICD_ICENABLER0, 1u << ppi);
}

bool gic_ppi_signalled(int version, uint32_t ppi)
{
	uint64_t hppir;

	if (version == 2)
		hppir = mmio_r32(GICC_BASE + GICC_HPPIR) & 0x3FFu;
	else
		__asm__ volatile("mrs %0, S3_0_C12_C12_2" /* ICC_HPPIR1_EL1 */
				 : "=r"(hppir));
	return (hppir & INTID_MASK) == ppi;
}

void gic_ack_all(int version)
{
	uint64_t iar;
	int n;

	for (n = 0; n < 4; n++) {
		if (version == 2) {
			iar = mmio_r32(GICC_BASE + GICC_IAR);
			if ((iar & 0x3FFu) >= INTID_SPURIOUS)
				break;
			mmio_w32(GICC_BASE + GICC_EOIR, (uint32_t)iar);
		} else {
			/* ICC_IAR1_EL1, then ICC_EOIR1_EL1 */
			__asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(iar));
			if ((iar & INTID_MASK) >= INTID_SPURIOUS &&
			    (iar & INTID_MASK) < 8192u)
				break;
			__asm__ volatile("msr S3_0_C12_C12_1, %0; isb" ::"r"(iar));
		}
	}
}
