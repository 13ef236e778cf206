/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A secure world of our own for the oracle plugin's test (test_oracle.c),
 * run from -bios by QEMU's virt machine with secure=on: the CPU starts
 * here at EL3, MMU off, so every virtual address is the physical one.
 *
 * It makes a known set of accesses to NS RAM pages whose owners and pins
 * the test put in the oracle table, plus accesses to flash and secure RAM
 * that must not count, runs a loop in a known code range, then enters the
 * normal world (ns.S, loaded at NS_ENTRY) at EL2, which touches the same
 * pages again: the oracle must count none of those.
 *
 * The accesses the oracle must see are at fixed addresses (PROBE_BASE,
 * see image.ld) so that the test can check the instruction address of
 * each record. Keep image.h in step.
 */
#include "image.h"

	.section .text.boot, "ax"
	.global _start
_start:
	/* no stack, no data: registers only */
	b	probes

	.section .text.probes, "ax"
	/* PROBE_BASE + 0: the foreign write to D */
probes:
	ldr	x10, =PAGE_D
	mov	w1, #0x5a
	str	w1, [x10]			/* D, client 2's: foreign */
	/* PROBE_BASE + 12: the reads of C */
	ldr	x10, =PAGE_C
	ldr	w2, [x10]			/* C, client 1's, unpinned (x4) */
	ldr	w2, [x10, #8]
	ldr	w2, [x10, #16]
	ldr	w2, [x10, #4092]
	/* F, free: foreign (x2) */
	ldr	x10, =PAGE_F
	ldr	x2, [x10]
	ldrb	w2, [x10, #4095]
	/* A, client 1's and pinned (x3): allowed */
	ldr	x10, =PAGE_A
	ldr	x2, [x10]
	ldr	x2, [x10, #8]
	ldr	x2, [x10, #16]
	/* B, pinned twice (x2 writes): allowed */
	ldr	x10, =PAGE_B
	str	x2, [x10]
	strb	w2, [x10, #100]
	/* E, a mediator page (x5): allowed */
	ldr	x10, =PAGE_E
	ldr	w2, [x10]
	ldr	w2, [x10, #4]
	ldr	w2, [x10, #8]
	ldr	w2, [x10, #12]
	str	w2, [x10, #16]
	/* not NS RAM: secure RAM and flash (QEMU 7.2 reports both as NS
	 * RAM addresses through qemu_plugin_hwaddr_phys_addr()) */
	ldr	x10, =SECURE_RAM
	str	x2, [x10]
	ldr	x2, [x10]
	ldr	x10, =_start
	ldr	x2, [x10]
	ldr	x2, [x10, #8]

	ldr	x1, =LOOP_ITERS
	b	loop

	/* LOOP_BASE: exactly LOOP_ITERS * 2 instructions in
	 * [LOOP_BASE, LOOP_BASE + 8) */
	.section .text.loop, "ax"
loop:
	subs	x1, x1, #1
	b.ne	loop
	b	to_ns

	.section .text.probes, "ax"
to_ns:
	/* to the normal world: NS EL2, AArch64, at NS_ENTRY */
	mov	x0, #(SCR_NS | SCR_RES1 | SCR_HCE | SCR_RW)
	msr	scr_el3, x0
	mov	x0, #SPSR_EL2H_MASKED
	msr	spsr_el3, x0
	ldr	x0, =NS_ENTRY
	msr	elr_el3, x0
	isb
	eret

	.ltorg
