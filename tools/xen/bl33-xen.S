/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BL33 for booting Xen on QEMU virt with TF-A: BL2 loads this at
 * 0x60000000 and BL31 enters it at EL2 with x0 = MPIDR (TF-A passes the
 * DTB only with ARM_LINUX_KERNEL_AS_BL33=1). Xen follows the arm64 Linux
 * Image protocol: x0 = the DTB, x1..x3 = 0. The DTB is at the start of
 * RAM, 0x40000000 (QEMU puts it there for -bios boots; BL2 and OP-TEE
 * edit it in place); QEMU's generic loader puts Xen at 0x60200000.
 */
	.text
	.global _start
_start:
	ldr	x0, dtb
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	ldr	x4, xen
	br	x4
	.balign	8
dtb:	.quad	0x40000000
xen:	.quad	0x60200000
