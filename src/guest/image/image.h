/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hostile guest image (src/guest/image): constants shared by its
 * assembly and C, and what its C files share.
 */
#ifndef TG_IMAGE_H
#define TG_IMAGE_H

/* Loaded at guest RAM base (0x40000000) + this; image.ld links there. */
#define TG_IMAGE_TEXT_OFFSET 0x200000
#define TG_IMAGE_STACK_SIZE 0x8000
#define TG_IMAGE_STACK2_SIZE 0x2000

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* image.S */
void tg_img_call(uint64_t regs[8], int conduit);
long tg_img_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		      uint64_t a3);
void tg_img_secondary_entry(void);
void tg_img_halt(void) __attribute__((noreturn));
extern char __image_start[], __image_end[];

/* Call sites of the cost mode, in the order of image.S's cost_sites. */
enum tg_cost_site {
	TG_SITE_FAST,
	TG_SITE_INVOKE4,
	TG_SITE_OPEN,
	TG_SITE_CLOSE,
	TG_SITE_REG1,
	TG_SITE_REG16,
	TG_SITE_REG128,
	TG_SITE_REG512,
	TG_SITE_UNREGISTER,
	TG_SITE_RPC_CALL,
	TG_SITE_RPC_ALLOC_RET,
	TG_SITE_RPC_CMD_RET,
	TG_SITE_RPC_FREE_RET,
	TG_SITE_RPC_OTHER_RET,
};
void tg_img_cost_call(uint64_t regs[8], unsigned int site);

/* cost.c: the cost mode (tg.mode=cost); returns the failed checks. */
struct tg_cost_opts {
	const char *name;
	uint64_t reps;
	uint64_t client; /* a7 */
	uint8_t *bufs;	 /* 512 spare pages for the registered buffers, or
			  * NULL (one page, aliased) */
};
uint64_t tg_cost_run(const struct tg_cost_opts *o);

/* The C entry points image.S calls. */
void tg_image_main(const void *dtb);
void tg_image_secondary(uint64_t context);
void tg_image_fault(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far);

#define TG_CONDUIT_HVC 0
#define TG_CONDUIT_SMC 1

/* console.c: where the report goes (any of them at once). */
#define TG_CON_HYP (1u << 0)   /* Xen's console_io hypercall */
#define TG_CON_PV (1u << 1)    /* Xen's PV console ring (xenconsoled) */
#define TG_CON_PL011 (1u << 2) /* a PL011 / SBSA UART (Xen's vpl011) */
int tg_con_init(uint32_t which, uint64_t pl011_base);
void tg_puts(const char *s);
void tg_putc(char c);
void tg_put_hex(uint64_t v);
void tg_put_dec(uint64_t v);
/* "TG-HOSTILE-FAULT ..." is always worth one hypercall even with no
 * console set up. */
void tg_con_flush(void);

/* fdt.c: the few things read from the device tree. */
struct tg_dt_info {
	uint64_t dtb_size;
	const char *bootargs; /* NULL when absent */
	uint64_t mem_base[4], mem_size[4];
	uint32_t mem_count;
	bool xen;	    /* /hypervisor is "xen,xen" */
	int optee_method;   /* -1: no /firmware/optee; else TG_CONDUIT_* */
	int psci_method;    /* -1: no /psci */
	uint64_t sbsa_uart; /* an "arm,sbsa-uart" or "arm,pl011" base, or 0 */
};
int tg_dt_read(const void *dtb, struct tg_dt_info *info);

/* lib.c */
size_t strlen(const char *s);
int tg_strncmp(const char *a, const char *b, size_t n);
bool tg_parse_u64(const char *s, size_t len, uint64_t *out);

#endif /* __ASSEMBLER__ */
#endif /* TG_IMAGE_H */
