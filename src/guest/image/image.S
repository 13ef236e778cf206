/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Entry of the hostile guest image. A hypervisor's toolstack (xl) or QEMU
 * loads it like an arm64 Linux kernel: at RAM base + text_offset, entered
 * at its first byte at EL1 with the MMU off and x0 = the device tree. A
 * second vCPU enters at tg_img_secondary_entry through PSCI CPU_ON.
 *
 * The image is linked at TG_IMAGE_LOAD (RAM base 0x40000000, the guest RAM
 * base of Xen on Arm and of QEMU's virt machine, + text_offset); started
 * anywhere else it says so on the hypervisor console and powers off.
 */
#include "image.h"

	.section .text.head, "ax"
	.globl	_head
_head:
	b	primary_entry			/* code0 */
	.long	0				/* code1 */
	.quad	TG_IMAGE_TEXT_OFFSET		/* text_offset */
	.quad	__image_size			/* image_size (bss and stacks too) */
	.quad	2				/* flags: LE, 4 KiB pages, 2 MiB aligned base */
	.quad	0, 0, 0				/* res2..res4 */
	.ascii	"ARM\x64"			/* magic */
	.long	0				/* res5 */

	.text
primary_entry:
	msr	daifset, #0xf
	mov	x19, x0				/* the device tree */
	adr	x1, _head
	ldr	x2, =_head
	cmp	x1, x2
	b.ne	wrong_place
	ldr	x1, =tg_img_vectors
	msr	vbar_el1, x1
	isb
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	ldr	x1, =tg_img_stack_top
	mov	sp, x1
	mov	x0, x19
	bl	tg_image_main
	b	tg_img_halt

/* Loaded at the wrong address: one line on the hypervisor console. */
wrong_place:
	mov	x16, #18			/* __HYPERVISOR_console_io */
	mov	x0, #0				/* CONSOLEIO_write */
	mov	x1, #(wrong_msg_end - wrong_msg)
	adr	x2, wrong_msg
	hvc	#0xEA1
	ldr	x0, =0x84000008			/* PSCI SYSTEM_OFF */
	hvc	#0
	b	tg_img_halt
wrong_msg:
	.ascii	"TG-HOSTILE-FAULT loaded at the wrong address: the image must run at RAM base + text_offset\n"
wrong_msg_end:
	.balign	4

	.globl	tg_img_secondary_entry
tg_img_secondary_entry:
	msr	daifset, #0xf
	ldr	x1, =tg_img_vectors
	msr	vbar_el1, x1
	isb
	ldr	x1, =tg_img_stack2_top
	mov	sp, x1
	bl	tg_image_secondary
	/* fall through */
	.globl	tg_img_halt
tg_img_halt:
	wfi
	b	tg_img_halt

/*
 * void tg_img_call(uint64_t regs[8], int conduit): a0..a7 in and out
 * through HVC #0 (conduit 0) or SMC #0 (conduit 1). SMCCC lets the callee
 * change x0..x17: the pointer lives in x19.
 */
	.globl	tg_img_call
tg_img_call:
	stp	x19, x30, [sp, #-16]!
	mov	x19, x0
	mov	x9, x1
	ldp	x0, x1, [x19, #0]
	ldp	x2, x3, [x19, #16]
	ldp	x4, x5, [x19, #32]
	ldp	x6, x7, [x19, #48]
	cbnz	x9, 1f
	hvc	#0
	b	2f
1:	smc	#0
2:	stp	x0, x1, [x19, #0]
	stp	x2, x3, [x19, #16]
	stp	x4, x5, [x19, #32]
	stp	x6, x7, [x19, #48]
	ldp	x19, x30, [sp], #16
	ret

/*
 * void tg_img_cost_call(uint64_t regs[8], unsigned int site): an HVC like
 * tg_img_call's, made from call site number @site. Each site is its own
 * HVC instruction with a symbol, tg_cost_site_<kind>, so that the oracle
 * plugin's per-call counting (src/tee/qemu/oracle-plugin/calls.c) knows
 * the kind of the hypervisor call that follows from the address it traps
 * from. Keep the order of enum tg_cost_site (image.h).
 */
	.globl	tg_img_cost_call
tg_img_cost_call:
	stp	x19, x30, [sp, #-16]!
	mov	x19, x0
	adr	x10, cost_sites
	add	x10, x10, x1, lsl #3
	ldp	x0, x1, [x19, #0]
	ldp	x2, x3, [x19, #16]
	ldp	x4, x5, [x19, #32]
	ldp	x6, x7, [x19, #48]
	br	x10
cost_sites:
	.irp	kind, fast, invoke4, open, close, reg1, reg16, reg128, reg512, unregister, rpc_call, rpc_alloc_ret, rpc_cmd_ret, rpc_free_ret, rpc_other_ret
	.globl	tg_cost_site_\kind
tg_cost_site_\kind:
	hvc	#0
	b	1f
	.endr
1:	stp	x0, x1, [x19, #0]
	stp	x2, x3, [x19, #16]
	stp	x4, x5, [x19, #32]
	stp	x6, x7, [x19, #48]
	ldp	x19, x30, [sp], #16
	ret

/*
 * long tg_img_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
 *                       uint64_t a3): a Xen hypercall (HVC #0xEA1, the
 * number in x16, the result in x0).
 */
	.globl	tg_img_hypercall
tg_img_hypercall:
	mov	x16, x0
	mov	x0, x1
	mov	x1, x2
	mov	x2, x3
	mov	x3, x4
	hvc	#0xEA1
	ret

/*
 * Exceptions: none is expected. Report and power off (tg_image_fault).
 */
	.macro	vec kind
	.balign	0x80
	mov	x0, #\kind
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	b	tg_image_fault
	.endm

	.balign	0x800
	.globl	tg_img_vectors
tg_img_vectors:
	vec 0
	vec 1
	vec 2
	vec 3
	vec 4
	vec 5
	vec 6
	vec 7
	vec 8
	vec 9
	vec 10
	vec 11
	vec 12
	vec 13
	vec 14
	vec 15

	.ltorg

	.section .bss.stacks, "aw", %nobits
	.balign	16
	.space	TG_IMAGE_STACK_SIZE
	.globl	tg_img_stack_top
tg_img_stack_top:
	.space	TG_IMAGE_STACK2_SIZE
	.globl	tg_img_stack2_top
tg_img_stack2_top:
