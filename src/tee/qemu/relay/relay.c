// SPDX-License-Identifier: BSD-2-Clause
/*
 * The relay: NS-EL2 firmware that turns mailbox requests into SMCs.
 *
 * One instance runs on every QEMU CPU. CPU 0 initialises the mailbox and
 * starts the others with PSCI CPU_ON; each CPU then serves its own slot:
 * wait for a new request sequence number, load x0..x7, smc #0, store
 * x0..x7, publish the response sequence number.
 *
 * The MMU is off, so every access is to Device memory: the build uses
 * -mstrict-align -mgeneral-regs-only, every shared field is a naturally
 * aligned u64 accessed through volatile pointers, and dmb sy orders the
 * handoff (the host uses acquire/release atomics on its side).
 *
 * An idle CPU spins for SPIN_US, then sleeps in WFI with a timer armed
 * (idle.c), so that an idle QEMU does not keep every host core busy. The
 * slices grow from SLEEP_MIN_US to SLEEP_MAX_US while the CPU stays idle,
 * so a busy relay answers within microseconds and an idle one costs a few
 * percent of a host core; a request waits at most one slice.
 */
#include <stdint.h>

#include "../mailbox.h"
#include "gic.h"
#include "idle.h"

#define PSCI_CPU_ON_64 0xC4000003ull

#define UART0_BASE 0x09000000ul /* PL011, the normal-world console */
#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFF (1u << 5)

/*
 * Short: on a small host every spinning relay CPU takes a core from the
 * threads that post the requests (2 relay CPUs spinning 2 ms each cut the
 * parallel CALLS_UID rate on 2 host cores from ~3000/s to ~500/s).
 */
#define SPIN_US 200u
#define SLEEP_MIN_US 50u
#define SLEEP_MAX_US 1000u

extern uint64_t relay_mailbox_pa;
extern uint64_t relay_cpus;
extern char relay_secondary_entry[];

void relay_main(uint64_t cpu);

/* GIC version, set by CPU 0 before it starts the others (0: no sleep). */
static volatile uint64_t relay_gic_version;

static inline void dmb_sy(void)
{
	__asm__ volatile("dmb sy" ::: "memory");
}

static inline void mmio_w32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_r32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static uint64_t current_el(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return (v >> 2) & 3;
}

static uint64_t counter_freq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v ? v : 62500000u; /* QEMU's default */
}

/*
 * relay_smc() - smc #0 with x0..x7 from and back into @r. SMCCC allows the
 * callee to clobber x8..x17 (and older conventions more of the caller-saved
 * registers): they are all declared clobbered.
 */
static void relay_smc(uint64_t r[8])
{
	register uint64_t x0 __asm__("x0") = r[0];
	register uint64_t x1 __asm__("x1") = r[1];
	register uint64_t x2 __asm__("x2") = r[2];
	register uint64_t x3 __asm__("x3") = r[3];
	register uint64_t x4 __asm__("x4") = r[4];
	register uint64_t x5 __asm__("x5") = r[5];
	register uint64_t x6 __asm__("x6") = r[6];
	register uint64_t x7 __asm__("x7") = r[7];

	__asm__ volatile("smc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4),
			   "+r"(x5), "+r"(x6), "+r"(x7)
			 :
			 : "x8", "x9", "x10", "x11", "x12", "x13", "x14",
			   "x15", "x16", "x17", "memory");
	r[0] = x0;
	r[1] = x1;
	r[2] = x2;
	r[3] = x3;
	r[4] = x4;
	r[5] = x5;
	r[6] = x6;
	r[7] = x7;
}

/* ---- console: one line at start-up, for the logs ---------------------- */

static void uart_putc(char c)
{
	int n;

	/* Bounded: a console that never drains must not stop the relay. */
	for (n = 0; n < 100000; n++)
		if (!(mmio_r32(UART0_BASE + UART_FR) & UART_FR_TXFF))
			break;
	mmio_w32(UART0_BASE + UART_DR, (uint32_t)(unsigned char)c);
}

static void uart_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s++);
	}
}

static void uart_putn(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	uart_puts(&buf[i]);
}

static void uart_puthex(uint64_t v)
{
	int shift;

	uart_puts("0x");
	for (shift = 60; shift > 0 && !(v >> shift); shift -= 4)
		;
	for (; shift >= 0; shift -= 4)
		uart_putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

/* ---- the loop ------------------------------------------------------------ */

static uint64_t wait_request(volatile struct tg_relay_slot *slot,
			     uint64_t last, uint64_t ticks_per_us,
			     uint32_t idle_ppi)
{
	uint64_t start = counter_now();
	uint64_t slice = SLEEP_MIN_US;
	uint64_t seq;

	for (;;) {
		seq = slot->req_seq;
		if (seq != last)
			return seq;
		if (!idle_ppi ||
		    counter_now() - start < SPIN_US * ticks_per_us) {
			__asm__ volatile("yield" ::: "memory");
			continue;
		}
		idle_sleep((int)relay_gic_version, idle_ppi,
			   slice * ticks_per_us, &slot->req_seq, last);
		if (slice < SLEEP_MAX_US)
			slice *= 2;
	}
}

static void serve(volatile struct tg_relay_mailbox *mb, uint64_t cpu,
		  uint64_t ticks_per_us, uint32_t idle_ppi)
{
	volatile struct tg_relay_slot *slot = &mb->slot[cpu];
	uint64_t last = slot->req_seq;
	uint64_t seq, cmd, r[8];
	int i;

	slot->idle_ppi = idle_ppi;
	slot->resp_seq = last;
	dmb_sy();
	mb->ready[cpu] = TG_RELAY_READY;
	dmb_sy();

	for (;;) {
		seq = wait_request(slot, last, ticks_per_us, idle_ppi);
		dmb_sy(); /* read the request only after seeing its seq */
		cmd = slot->cmd;
		for (i = 0; i < 8; i++)
			r[i] = slot->regs[i];
		if (cmd == TG_RELAY_CMD_SMC)
			relay_smc(r);
		else if (cmd != TG_RELAY_CMD_PING)
			r[0] = ~0ull;
		for (i = 0; i < 8; i++)
			slot->regs[i] = r[i];
		slot->calls = slot->calls + 1;
		dmb_sy(); /* the answer before its seq */
		slot->resp_seq = seq;
		dmb_sy();
		last = seq;
	}
}

static void start_secondaries(volatile struct tg_relay_mailbox *mb)
{
	uint64_t want = relay_cpus;
	uint64_t n, r[8];
	int i;

	if (want < 1 || want > TG_RELAY_MAX_CPUS)
		want = 1;
	for (n = 1; n < want; n++) {
		r[0] = PSCI_CPU_ON_64;
		r[1] = n; /* MPIDR: Aff0 = n on QEMU virt up to 8 CPUs */
		r[2] = (uint64_t)(uintptr_t)relay_secondary_entry;
		r[3] = n; /* context id: arrives in x0 */
		for (i = 4; i < 8; i++)
			r[i] = 0;
		relay_smc(r);
		mb->cpu_on_ret[n] = r[0];
		if (r[0] != 0)
			break;
	}
	mb->ncpus = n;
}

void relay_main(uint64_t cpu)
{
	volatile struct tg_relay_mailbox *mb =
		(volatile struct tg_relay_mailbox *)(uintptr_t)relay_mailbox_pa;
	uint64_t ticks_per_us = counter_freq() / 1000000u;
	uint32_t i, idle_ppi;

	if (!ticks_per_us)
		ticks_per_us = 1;
	if (cpu == 0) {
		for (i = 0; i < TG_RELAY_MAX_CPUS; i++) {
			mb->ready[i] = 0;
			mb->cpu_on_ret[i] = 0;
		}
		mb->version = TG_RELAY_PROTO_VERSION;
		mb->boot_el = current_el();
		mb->cntfrq = counter_freq();
		mb->ncpus = 1;
		relay_gic_version = (uint64_t)gic_probe();
		dmb_sy();
		mb->magic = TG_RELAY_MAILBOX_MAGIC;
		dmb_sy();
		idle_ppi = idle_cpu_init((int)relay_gic_version,
					 ticks_per_us);
		start_secondaries(mb);
		uart_puts("teegate relay: protocol ");
		uart_putn(TG_RELAY_PROTO_VERSION);
		uart_puts(", EL");
		uart_putn(mb->boot_el);
		uart_puts(", ");
		uart_putn(mb->ncpus);
		uart_puts(" CPUs, mailbox at ");
		uart_puthex(relay_mailbox_pa);
		uart_puts(", GICv");
		uart_putn(relay_gic_version);
		if (idle_ppi) {
			uart_puts(", idle sleep on PPI ");
			uart_putn(idle_ppi);
		} else {
			uart_puts(", no idle sleep (spins)");
		}
		uart_puts("\n");
	} else {
		idle_ppi = idle_cpu_init((int)relay_gic_version,
					 ticks_per_us);
	}
	serve(mb, cpu, ticks_per_us, idle_ppi);
}
