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
 * An idle CPU spins for a short while, then sleeps in WFI with its EL2
 * timer armed, so that an idle QEMU does not keep every host core busy
 * (nothing can interrupt the relay when a request arrives: the host only
 * writes memory). The slices grow from SLEEP_MIN_US to SLEEP_MAX_US while
 * the CPU stays idle, so a busy relay answers within tens of microseconds
 * and an idle one costs a few percent of a host core; a request waits at
 * most one slice.
 */
#include <stdint.h>

#include "../mailbox.h"

#define PSCI_CPU_ON_64 0xC4000003ull

/* QEMU virt, GICv2. */
#define GICD_BASE 0x08000000ul
#define GICC_BASE 0x08010000ul
#define GICD_CTLR 0x000
#define GICD_ISENABLER0 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_PIDR2 0xFE8
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00C
#define GICC_EOIR 0x010
#define UART0_BASE 0x09000000ul /* PL011, the normal-world console */
#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFF (1u << 5)
#define PPI_HYP_TIMER 26u
#define PPI_NS_PHYS_TIMER 30u

#define SPIN_US 2000u
#define SLEEP_MIN_US 50u
#define SLEEP_MAX_US 1000u

extern uint64_t relay_mailbox_pa;
extern uint64_t relay_cpus;
extern char relay_secondary_entry[];

void relay_main(uint64_t cpu);

/* Set by CPU 0 before it starts the others. */
static volatile uint64_t relay_can_sleep;

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

static inline void mmio_w8(uintptr_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

static uint64_t current_el(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return (v >> 2) & 3;
}

static uint64_t counter_now(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v) :: "memory");
	return v;
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

/* ---- idle sleep: EL2 (or EL1) physical timer + WFI ---------------------- */

static uint32_t timer_ppi(void)
{
	return current_el() == 2 ? PPI_HYP_TIMER : PPI_NS_PHYS_TIMER;
}

static void timer_arm(uint64_t deadline)
{
	if (current_el() == 2) {
		__asm__ volatile("msr S3_4_C14_C2_2, %0\n" /* CNTHP_CVAL_EL2 */
				 "msr S3_4_C14_C2_1, %1\n" /* CNTHP_CTL_EL2 */
				 "isb" ::"r"(deadline), "r"(1ul) : "memory");
	} else {
		__asm__ volatile("msr cntp_cval_el0, %0\n"
				 "msr cntp_ctl_el0, %1\n"
				 "isb" ::"r"(deadline), "r"(1ul) : "memory");
	}
}

static void timer_disarm(void)
{
	if (current_el() == 2)
		__asm__ volatile("msr S3_4_C14_C2_1, xzr; isb" ::: "memory");
	else
		__asm__ volatile("msr cntp_ctl_el0, xzr; isb" ::: "memory");
}

/*
 * The GIC keeps a level interrupt pending until it is acknowledged, even
 * after the timer stopped asserting it: acknowledge and complete it, or the
 * next WFI returns at once.
 */
static void gic_ack_all(void)
{
	uint32_t iar;
	int n;

	for (n = 0; n < 4; n++) {
		iar = mmio_r32(GICC_BASE + GICC_IAR);
		if ((iar & 0x3FFu) >= 1020u)
			break;
		mmio_w32(GICC_BASE + GICC_EOIR, iar);
	}
}

/*
 * Only QEMU's GICv2 is known here: with anything else the relay never
 * sleeps (it spins, which costs a host core per idle CPU but works).
 */
static int gic_is_v2(void)
{
	return ((mmio_r32(GICD_BASE + GICD_PIDR2) >> 4) & 0xFu) == 2u;
}

static void gic_dist_init(void)
{
	mmio_w32(GICD_BASE + GICD_CTLR, mmio_r32(GICD_BASE + GICD_CTLR) | 1u);
}

/* Banked per CPU: the timer PPI and the CPU interface. */
static void gic_cpu_init(void)
{
	uint32_t ppi = timer_ppi();

	mmio_w8(GICD_BASE + GICD_IPRIORITYR + ppi, 0xA0);
	mmio_w32(GICD_BASE + GICD_ISENABLER0, 1u << ppi);
	mmio_w32(GICC_BASE + GICC_PMR, 0xFFu);
	mmio_w32(GICC_BASE + GICC_CTLR, mmio_r32(GICC_BASE + GICC_CTLR) | 1u);
}

/* ---- the loop ------------------------------------------------------------ */

static uint64_t wait_request(volatile struct tg_relay_slot *slot,
			     uint64_t last, uint64_t ticks_per_us)
{
	uint64_t start = counter_now();
	uint64_t slice = SLEEP_MIN_US;
	uint64_t seq;

	for (;;) {
		seq = slot->req_seq;
		if (seq != last)
			return seq;
		if (!relay_can_sleep ||
		    counter_now() - start < SPIN_US * ticks_per_us) {
			__asm__ volatile("yield" ::: "memory");
			continue;
		}
		timer_arm(counter_now() + slice * ticks_per_us);
		if (slot->req_seq == last)
			__asm__ volatile("wfi" ::: "memory");
		timer_disarm();
		gic_ack_all();
		if (slice < SLEEP_MAX_US)
			slice *= 2;
	}
}

static void serve(volatile struct tg_relay_mailbox *mb, uint64_t cpu)
{
	volatile struct tg_relay_slot *slot = &mb->slot[cpu];
	uint64_t ticks_per_us = counter_freq() / 1000000u;
	uint64_t last = slot->req_seq;
	uint64_t seq, cmd, r[8];
	int i;

	if (relay_can_sleep)
		gic_cpu_init();
	slot->resp_seq = last;
	dmb_sy();
	mb->ready[cpu] = TG_RELAY_READY;
	dmb_sy();

	for (;;) {
		seq = wait_request(slot, last, ticks_per_us ? ticks_per_us : 1);
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
	uint32_t i;

	if (cpu == 0) {
		for (i = 0; i < TG_RELAY_MAX_CPUS; i++) {
			mb->ready[i] = 0;
			mb->cpu_on_ret[i] = 0;
		}
		mb->version = TG_RELAY_PROTO_VERSION;
		mb->boot_el = current_el();
		mb->cntfrq = counter_freq();
		mb->ncpus = 1;
		relay_can_sleep = gic_is_v2();
		if (relay_can_sleep)
			gic_dist_init();
		dmb_sy();
		mb->magic = TG_RELAY_MAILBOX_MAGIC;
		dmb_sy();
		start_secondaries(mb);
		uart_puts("teegate relay: protocol ");
		uart_putn(TG_RELAY_PROTO_VERSION);
		uart_puts(", EL");
		uart_putn(mb->boot_el);
		uart_puts(", ");
		uart_putn(mb->ncpus);
		uart_puts(" CPUs, mailbox at ");
		uart_puthex(relay_mailbox_pa);
		uart_puts("\n");
	}
	serve(mb, cpu);
}
