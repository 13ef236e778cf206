// SPDX-License-Identifier: BSD-2-Clause
/*
 * The image's console, any of:
 * - Xen's console_io hypercall (CONSOLEIO_write): Xen's own console. A
 *   domU may use it only in a debug Xen (or a console domain); the test
 *   platform's EL2 stub always accepts it.
 * - Xen's PV console: the ring page and event channel from HVM params, as
 *   Linux's hvc0; xenconsoled writes it to the guest's console log.
 * - a PL011 / SBSA UART (Xen's vpl011 with vuart = "sbsa_uart", or
 *   QEMU's own).
 */
#include <string.h>

#include "image.h"

#define HYPERVISOR_console_io 18
#define HYPERVISOR_event_channel_op 32
#define HYPERVISOR_hvm_op 34
#define CONSOLEIO_write 0
#define EVTCHNOP_send 4
#define HVMOP_get_param 1
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define DOMID_SELF 0x7FF0u

/* xen/include/public/io/console.h */
struct xencons_interface {
	char in[1024];
	char out[2048];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};

struct xen_hvm_param {
	uint16_t domid;
	uint16_t pad;
	uint32_t index;
	uint64_t value;
};

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF (1u << 5)

static uint32_t con_which;
static volatile struct xencons_interface *ring;
static uint32_t ring_port;
static volatile uint32_t *uart;
static char line[256];
static size_t line_len;

static void barrier(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

static void pv_write(const char *s, size_t n)
{
	uint32_t spins = 0;

	while (n) {
		uint32_t cons = ring->out_cons, prod = ring->out_prod;

		barrier();
		if (prod - cons >= sizeof(ring->out)) {
			uint32_t port = ring_port;

			/* full: kick xenconsoled, give it time */
			tg_img_hypercall(HYPERVISOR_event_channel_op,
					 EVTCHNOP_send, (uint64_t)&port, 0, 0);
			if (++spins > 50000000u)
				return;
			continue;
		}
		ring->out[prod & (sizeof(ring->out) - 1)] = *s++;
		n--;
		barrier();
		ring->out_prod = prod + 1;
	}
	barrier();
	{
		uint32_t port = ring_port;

		tg_img_hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_send,
				 (uint64_t)&port, 0, 0);
	}
}

void tg_con_flush(void)
{
	size_t i;

	if (!line_len)
		return;
	if (con_which & TG_CON_HYP)
		tg_img_hypercall(HYPERVISOR_console_io, CONSOLEIO_write,
				 line_len, (uint64_t)line, 0);
	if ((con_which & TG_CON_PV) && ring)
		pv_write(line, line_len);
	if ((con_which & TG_CON_PL011) && uart) {
		for (i = 0; i < line_len; i++) {
			while (uart[PL011_FR / 4] & PL011_FR_TXFF)
				;
			uart[PL011_DR / 4] = (uint8_t)line[i];
		}
	}
	line_len = 0;
}

void tg_putc(char c)
{
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line))
		tg_con_flush();
}

void tg_puts(const char *s)
{
	while (*s)
		tg_putc(*s++);
}

void tg_put_hex(uint64_t v)
{
	char buf[19];
	int i = 18;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	tg_puts(buf + i);
}

void tg_put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tg_puts(buf + i);
}

int tg_con_init(uint32_t which, uint64_t pl011_base)
{
	int rc = 0;

	con_which = which & TG_CON_HYP;
	if (which & TG_CON_PV) {
		struct xen_hvm_param p = { .domid = DOMID_SELF,
					   .index = HVM_PARAM_CONSOLE_PFN };
		uint64_t pfn;

		if (tg_img_hypercall(HYPERVISOR_hvm_op, HVMOP_get_param,
				     (uint64_t)&p, 0, 0) == 0 &&
		    p.value) {
			pfn = p.value;
			p.index = HVM_PARAM_CONSOLE_EVTCHN;
			p.value = 0;
			if (tg_img_hypercall(HYPERVISOR_hvm_op, HVMOP_get_param,
					     (uint64_t)&p, 0, 0) == 0) {
				ring = (volatile struct xencons_interface
						*)(uintptr_t)(pfn << 12);
				ring_port = (uint32_t)p.value;
				con_which |= TG_CON_PV;
			}
		}
		if (!(con_which & TG_CON_PV))
			rc = -1;
	}
	if ((which & TG_CON_PL011) && pl011_base) {
		uart = (volatile uint32_t *)(uintptr_t)pl011_base;
		con_which |= TG_CON_PL011;
	} else if (which & TG_CON_PL011) {
		rc = -1;
	}
	return rc;
}
