/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The relay mailbox: the only interface between the hosted hypervisor and
 * the relay firmware that runs at NS-EL2 inside QEMU.
 *
 * Included by both sides: the relay (freestanding aarch64, MMU off, so
 * every access is to Device memory and must be naturally aligned) and the
 * host (which sees the same bytes through its mapping of QEMU's RAM file).
 * Every field is a naturally aligned u64; nothing else is shared.
 *
 * The relay image starts with a small header (struct tg_relay_image) whose
 * mailbox_pa field the launcher patches in its private copy of the image,
 * so that the mailbox can follow the RAM size.
 *
 * Handoff, per CPU slot (one relay CPU serves one slot):
 *
 *   host                                   relay (CPU n)
 *   write cmd, regs[0..7]
 *   store-release req_seq = s      ──►     sees req_seq != last; dmb sy
 *                                          load cmd, regs; smc #0
 *                                          store regs; dmb sy
 *   load-acquire resp_seq == s     ◄──     resp_seq = s; dmb sy
 *   read regs
 *
 * A slot has one request in flight at a time; the host serialises users of
 * a slot. The relay never trusts anything but cmd and regs, and the host
 * never trusts anything the relay writes beyond regs and the counters (the
 * relay is ours, but the RAM is shared with whatever runs in QEMU).
 */
#ifndef TEEGATE_QEMU_MAILBOX_H
#define TEEGATE_QEMU_MAILBOX_H

#ifdef __ASSEMBLER__
#define TG_RELAY_U32(x) x
#define TG_RELAY_U64(x) x
#else
#include <stdint.h>
#define TG_RELAY_U32(x) x##u
#define TG_RELAY_U64(x) x##ull
#endif

/* Bump on any layout or semantics change; the host refuses a mismatch. */
#define TG_RELAY_PROTO_VERSION TG_RELAY_U32(1)

#define TG_RELAY_LOAD_PA TG_RELAY_U64(0x60000000) /* where TF-A puts BL33 on QEMU */
#define TG_RELAY_MAX_CPUS TG_RELAY_U32(8)

/* "TGRELAY1" and "TGMBOX01", little-endian. */
#define TG_RELAY_IMAGE_MAGIC TG_RELAY_U64(0x3159414c45524754)
#define TG_RELAY_MAILBOX_MAGIC 0x3130584f424d4754ull

/* Default mailbox: 1 MiB below the end of 1 GiB of RAM at 0x40000000. */
#define TG_RELAY_DEFAULT_MAILBOX_PA TG_RELAY_U64(0x7ff00000)
#define TG_RELAY_MAILBOX_SIZE 0x1000ull /* one page, see the static assert */

/* Slot commands. */
#define TG_RELAY_CMD_SMC 1u  /* smc #0 with regs as given, a7 included */
#define TG_RELAY_CMD_PING 2u /* no SMC: measures the mailbox alone */

/* ready[] value of a CPU that serves its slot. */
#define TG_RELAY_READY 1u

#ifndef __ASSEMBLER__

/**
 * struct tg_relay_image - first 64 bytes of the relay image (start.S).
 * @branch:     the entry instruction (a branch over this header) + pad.
 * @magic:      TG_RELAY_IMAGE_MAGIC.
 * @mailbox_pa: where the relay puts its mailbox; the launcher patches it.
 * @image_size: bytes from the load address to the end of .bss (stacks
 *              included): what must be kept out of the page pool.
 * @version:    TG_RELAY_PROTO_VERSION the image speaks.
 * @cpus:       how many CPUs CPU 0 starts, itself included; the launcher
 *              patches it (TF-A's PSCI accepts CPU_ON for CPUs that QEMU
 *              does not have, so the relay cannot find out by trying).
 */
struct tg_relay_image {
	uint32_t branch;
	uint32_t pad0;
	uint64_t magic;
	uint64_t mailbox_pa;
	uint64_t image_size;
	uint64_t version;
	uint64_t cpus;
	uint64_t pad1[2];
};

#define TG_RELAY_IMAGE_MAILBOX_OFF 16u
#define TG_RELAY_IMAGE_CPUS_OFF 40u

/**
 * struct tg_relay_slot - one relay CPU's request/response slot.
 * @req_seq:  written by the host (release) after @cmd and @regs.
 * @cmd:      TG_RELAY_CMD_*; anything else is answered with regs[0] = ~0.
 * @regs:     x0..x7 in (host) and out (relay).
 * @resp_seq: written by the relay after @regs, equal to the @req_seq it
 *            answers.
 * @calls:    requests this CPU answered (diagnostic).
 * @idle_ppi: the timer interrupt this CPU sleeps on when idle, 0 when it
 *            spins (diagnostic).
 */
struct tg_relay_slot {
	uint64_t req_seq;
	uint64_t cmd;
	uint64_t regs[8];
	uint64_t resp_seq;
	uint64_t calls;
	uint64_t idle_ppi;
	uint64_t pad[3];
};

/**
 * struct tg_relay_mailbox - written by the relay, except the slots'
 * request halves.
 * @magic:      TG_RELAY_MAILBOX_MAGIC once CPU 0 has initialised it.
 * @version:    TG_RELAY_PROTO_VERSION of the running relay.
 * @boot_el:    exception level CPU 0 entered at (2 expected).
 * @cntfrq:     generic timer frequency (diagnostic).
 * @ncpus:      CPUs CPU 0 managed to start, itself included.
 * @ready:      per CPU, TG_RELAY_READY once it serves its slot.
 * @cpu_on_ret: per CPU, the PSCI CPU_ON return value (0 = success).
 * @slot:       per CPU slots.
 */
struct tg_relay_mailbox {
	uint64_t magic;
	uint64_t version;
	uint64_t boot_el;
	uint64_t cntfrq;
	uint64_t ncpus;
	uint64_t pad0[3];
	uint64_t ready[TG_RELAY_MAX_CPUS];
	uint64_t cpu_on_ret[TG_RELAY_MAX_CPUS];
	uint64_t pad1[8];
	struct tg_relay_slot slot[TG_RELAY_MAX_CPUS];
};

_Static_assert(sizeof(struct tg_relay_image) == 64, "relay image header");
_Static_assert(sizeof(struct tg_relay_slot) == 128, "relay slot");
_Static_assert(sizeof(struct tg_relay_mailbox) <= TG_RELAY_MAILBOX_SIZE,
	       "mailbox fits its page");

#endif /* __ASSEMBLER__ */

#endif /* TEEGATE_QEMU_MAILBOX_H */
