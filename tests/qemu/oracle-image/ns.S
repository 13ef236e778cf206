/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The normal world of the oracle test image (see secure.S), loaded at
 * NS_ENTRY in NS RAM and entered at EL2 with the MMU off. It touches the
 * pages the secure world was not allowed to (C, D, F) and then writes
 * DONE_MAGIC to PAGE_G, which the test waits for. The oracle must count
 * none of this: the code's bytes are in NS RAM.
 */
#include "image.h"

	.section .text, "ax"
	.global ns_start
ns_start:
	ldr	x10, =PAGE_C
	ldr	w2, [x10]
	str	w2, [x10, #4]
	ldr	x10, =PAGE_D
	ldr	w2, [x10]
	str	w2, [x10, #4]
	ldr	x10, =PAGE_F
	ldr	w2, [x10]
	str	w2, [x10, #4]
	ldr	x10, =PAGE_G
	ldr	w1, =DONE_MAGIC
	str	w1, [x10]
	dsb	sy
1:	wfe
	b	1b

	.ltorg
