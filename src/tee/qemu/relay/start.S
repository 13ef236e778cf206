/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Relay entry. TF-A (as BL33) or QEMU (-kernel relay.elf) enters the first
 * byte of the image on CPU 0, at EL2, MMU and caches off. Secondary CPUs
 * enter at relay_secondary_entry through PSCI CPU_ON with their index in
 * x0 (the context id). The image header below must stay first: the linker
 * script puts .text.head at the load address.
 */
#include "../mailbox.h"

#define RELAY_STACK_SIZE 4096

	.section .text.head, "ax"
	.globl	_start
_start:
	b	relay_primary_entry		/* struct tg_relay_image */
	.word	0
	.quad	TG_RELAY_IMAGE_MAGIC
	.globl	relay_mailbox_pa
relay_mailbox_pa:
	.quad	TG_RELAY_DEFAULT_MAILBOX_PA	/* patched by the launcher */
	.quad	__relay_end - TG_RELAY_LOAD_PA
	.quad	TG_RELAY_PROTO_VERSION
	.globl	relay_cpus
relay_cpus:
	.quad	1				/* patched by the launcher */
	.quad	0, 0

	.text
relay_primary_entry:
	mov	x19, #0
	b	relay_common

	.globl	relay_secondary_entry
relay_secondary_entry:
	mov	x19, x0

relay_common:
	msr	daifset, #0xf
	/* Stay within the stacks we have: a bogus index parks the CPU. */
	cmp	x19, #TG_RELAY_MAX_CPUS
	b.hs	relay_park
	ldr	x1, =relay_stacks
	mov	x2, #RELAY_STACK_SIZE
	madd	x1, x19, x2, x1
	add	sp, x1, x2
	mov	x0, x19
	bl	relay_main
relay_park:
	wfi
	b	relay_park

	.bss
	.balign	16
relay_stacks:
	.space	RELAY_STACK_SIZE * TG_RELAY_MAX_CPUS
