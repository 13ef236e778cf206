/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small EL2 of the project's own for testing the hostile guest image
 * without a hypervisor: QEMU (virt, virtualization=on, no EL3) enters it
 * at EL2 on CPU 0 (-kernel stub.elf); it drops the image to EL1 and
 * answers its HVCs and SMCs (stub.c): a few Xen hypercalls, PSCI, and a
 * fake OP-TEE. CPU 1 enters here again through QEMU's PSCI CPU_ON.
 */
#define STACK_SIZE 0x4000
#define MAX_CPUS 4

	.section .text.head, "ax"
	.globl	_start
_start:
	msr	daifset, #0xf
	mrs	x19, mpidr_el1
	and	x19, x19, #0xff
	cmp	x19, #MAX_CPUS
	b.hs	park
	ldr	x1, =stacks
	mov	x2, #STACK_SIZE
	madd	x1, x19, x2, x1
	add	sp, x1, x2
	ldr	x1, =stub_vectors
	msr	vbar_el2, x1
	/* EL1 is AArch64 (RW), SMC traps here (TSC), no stage 2 */
	mov	x1, #(1 << 31)
	orr	x1, x1, #(1 << 19)
	msr	hcr_el2, x1
	mov	x1, #0x33ff			/* CPTR_EL2: no FP/SIMD trap */
	msr	cptr_el2, x1
	mov	x1, #3				/* CNTHCTL_EL2: EL1 timer access */
	msr	cnthctl_el2, x1
	msr	cntvoff_el2, xzr
	ldr	x1, =0x30d00800			/* SCTLR_EL1: RES1 bits, MMU off */
	msr	sctlr_el1, x1
	isb
	mov	x0, x19
	bl	stub_cpu_start			/* C: entry for EL1 in x0, its x0 in x1 */
	msr	elr_el2, x0
	mov	x0, #0x3c5			/* EL1h, DAIF masked */
	msr	spsr_el2, x0
	mov	x0, x1
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	isb
	eret
park:
	wfi
	b	park

/* void stub_smc(uint64_t regs[8]): an SMC to QEMU's PSCI. */
	.globl	stub_smc
stub_smc:
	stp	x19, x30, [sp, #-16]!
	mov	x19, x0
	ldp	x0, x1, [x19, #0]
	ldp	x2, x3, [x19, #16]
	smc	#0
	stp	x0, x1, [x19, #0]
	stp	x2, x3, [x19, #16]
	ldp	x19, x30, [sp], #16
	ret

/*
 * Exceptions from EL1 (AArch64, synchronous) are the image's calls: the
 * 31 registers go to stub_sync(frame) and come back from the frame.
 */
	.macro	save_and_call handler
	sub	sp, sp, #(32 * 8)
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mov	x0, sp
	bl	\handler
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #(32 * 8)
	eret
	.endm

	.macro	unexpected kind
	.balign	0x80
	mov	x0, #\kind
	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
	b	stub_unexpected
	.endm

	.balign	0x800
stub_vectors:
	unexpected 0
	unexpected 1
	unexpected 2
	unexpected 3
	unexpected 4
	unexpected 5
	unexpected 6
	unexpected 7
	.balign	0x80			/* 0x400: lower EL, AArch64, synchronous */
	save_and_call stub_sync
	unexpected 9
	unexpected 10
	unexpected 11
	unexpected 12
	unexpected 13
	unexpected 14
	unexpected 15

	.ltorg

	.bss
	.balign	16
stacks:
	.space	STACK_SIZE * MAX_CPUS
