/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "mediator" of prog.S, in its own object (the plugin counts the
 * functions of this object): 2n + 5 instructions for x0 = n, plus the 3 of
 * helper, which lies outside it.
 */
	.text
	.globl	mediator
	.type	mediator, %function
mediator:
	mov	x1, x0
1:	subs	x1, x1, #1
	b.ne	1b
	stp	x29, x30, [sp, #-16]!
	bl	helper
	ldp	x29, x30, [sp], #16
	ret
	.size	mediator, . - mediator
