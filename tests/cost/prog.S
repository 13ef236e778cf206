/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A tiny arm64 machine for testing the oracle plugin's per-call counting: QEMU (virt,
 * virtualization=on, no EL3) enters it at EL2. It runs the "mediator"
 * (med.S) once outside any call, then drops to EL1, which makes HVC
 * calls from two marked call sites (kinds A and B) and one unmarked one;
 * EL2 answers each by calling the mediator from one call site
 * (call_site, "bl mediator"). Every count is known from the code:
 *   mediator(n) = 2n + 5 instructions in med.S, + 3 in helper (total)
 * The numbers are in test_cost.py.
 */
#define CALLS_A 5
#define LOOPS_A 100
#define CALLS_B 3
#define LOOPS_B 1000
#define LOOPS_C 10
#define OUTSIDE_LOOPS 7

	.section .text.head, "ax"
	.globl	_start
_start:
	msr	daifset, #0xf
	ldr	x1, =stack_top
	mov	sp, x1
	ldr	x1, =el2_vectors
	msr	vbar_el2, x1
	/* the mediator outside any call: counted as "outside" */
	mov	x0, #OUTSIDE_LOOPS
	ldr	x2, =mediator
	blr	x2
	mov	x1, #(1 << 31)			/* HCR_EL2.RW: EL1 is AArch64 */
	msr	hcr_el2, x1
	ldr	x1, =0x30d00800			/* SCTLR_EL1: MMU off */
	msr	sctlr_el1, x1
	ldr	x1, =el1_main
	msr	elr_el2, x1
	mov	x1, #0x3c5			/* EL1h, interrupts masked */
	msr	spsr_el2, x1
	isb
	eret

el1_main:
	mov	x20, #CALLS_A
1:	mov	x0, #LOOPS_A
	.globl	site_a
site_a:
	hvc	#0
	subs	x20, x20, #1
	b.ne	1b
	mov	x20, #CALLS_B
2:	mov	x0, #LOOPS_B
	.globl	site_b
site_b:
	hvc	#0
	subs	x20, x20, #1
	b.ne	2b
	mov	x0, #LOOPS_C			/* a call with no mark */
	hvc	#0
	mov	x0, #-1				/* the end */
	hvc	#0
	b	.

	.globl	helper
	.type	helper, %function
helper:
	nop
	nop
	ret
	.size	helper, . - helper

	.globl	power_off
power_off:
	ldr	x0, =0x84000008			/* PSCI SYSTEM_OFF (QEMU) */
	smc	#0
	b	.

	.balign	0x800
el2_vectors:
	.skip	0x400
	/* 0x400: synchronous, from EL1 (AArch64): an HVC */
	cmn	x0, #1
	b.eq	power_off
	.globl	call_site
call_site:
	bl	mediator
	.globl	after_call
after_call:
	eret
	.skip	0x380

	.ltorg

	.bss
	.balign	16
	.space	4096
stack_top:
