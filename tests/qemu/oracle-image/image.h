/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The oracle test image's memory map, shared by secure.S, ns.S and
 * test_oracle.c. Pages A..G are in NS RAM (QEMU virt: 0x40000000 on).
 */
#ifndef TG_ORACLE_IMAGE_H
#define TG_ORACLE_IMAGE_H

#define PAGE_A 0x40200000 /* client 1's, pinned */
#define PAGE_B 0x40201000 /* client 1's, pinned twice */
#define PAGE_C 0x40202000 /* client 1's, not pinned */
#define PAGE_D 0x40203000 /* client 2's, pinned */
#define PAGE_E 0x40204000 /* the mediator's */
#define PAGE_F 0x40205000 /* free */
#define PAGE_G 0x40206000 /* the normal world's "done" flag */
#define NS_ENTRY 0x40100000
#define SECURE_RAM 0x0e001000
#define PROBE_BASE 0x1000 /* secure.S's probes section (image.ld) */
#define LOOP_BASE 0x2000  /* secure.S's loop (image.ld) */
#define LOOP_ITERS 1000
#define DONE_MAGIC 0x600dcafe

#define SCR_NS 0x1
#define SCR_RES1 0x30
#define SCR_HCE 0x100
#define SCR_RW 0x400
#define SPSR_EL2H_MASKED 0x3c9

#endif
