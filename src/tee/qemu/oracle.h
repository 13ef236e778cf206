/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The isolation oracle for the real OP-TEE: the table shared between the
 * hypervisor (teegate, through libteegate_qemu) and the QEMU TCG plugin
 * (oracle-plugin/), which watches every memory access the secure world
 * makes to NS RAM.
 *
 * One memfd, mapped MAP_SHARED by both; QEMU inherits it as fd 4. It holds
 * a header (struct tg_oracle_table) and, from @header_size on, one entry
 * per NS RAM page. The entries ARE the hosted platform's page metadata
 * (struct tg_page_meta in src/host/internal.h, which asserts the layout):
 * the owner (a client id, TG_ORACLE_OWNER_*) and the pin count are the
 * hypervisor's own bookkeeping, so pinning and unpinning cost nothing
 * extra for the oracle.
 *
 *   hypervisor writes            plugin reads / writes
 *   ------------------           ----------------------
 *   entries (owner, pins)  ──►   checks each secure access to NS RAM
 *   cpu[i].client          ──►   on whose behalf relay CPU i is in the
 *                                secure world (set around each SMC)
 *   armed, mode, ranges    ──►
 *                          ◄──   state, counters, violation records
 *
 * An access by the secure world to NS RAM page P while relay CPU i runs
 * for client C is allowed when P is a mediator page (the mediator's
 * shadows), or when P belongs to C and is pinned. Otherwise it is a
 * violation: FOREIGN when P is not C's (another client's, free, the
 * hypervisor's, reserved), UNPINNED when P is C's but not pinned.
 *
 * Everything is naturally aligned; the plugin is built with the host's
 * compiler, so both sides agree on the layout.
 */
#ifndef TEEGATE_QEMU_ORACLE_H
#define TEEGATE_QEMU_ORACLE_H

#include <stdint.h>

#define TG_ORACLE_MAGIC 0x31656c6361726f47ull /* "Goracle1" */
#define TG_ORACLE_VERSION 1u

#define TG_ORACLE_MAX_CPUS 8u
#define TG_ORACLE_RECORDS 256u
#define TG_ORACLE_MAX_RANGES 16u
#define TG_ORACLE_WHY_LEN 160u

/* Page entries: struct tg_page_meta of the hosted platform. */
#define TG_ORACLE_ENTRY_SIZE 16u
#define TG_ORACLE_OWNER_OFF 0u
#define TG_ORACLE_PINS_OFF 4u
/* Owners besides client ids 1..0xFFFF (= TG_OWNER_* in teegate/host.h). */
#define TG_ORACLE_OWNER_FREE 0u
#define TG_ORACLE_OWNER_MEDIATOR 0x10000u
#define TG_ORACLE_OWNER_RESERVED 0x10001u

/* @mode: what the plugin instruments (fixed before QEMU starts). */
#define TG_ORACLE_MODE_ACCESS 1u /* check secure accesses to NS RAM */
#define TG_ORACLE_MODE_RANGES 2u /* count instructions run in @ranges */

/* @state, written by the plugin. */
#define TG_ORACLE_STATE_NONE 0u    /* no plugin has attached (yet) */
#define TG_ORACLE_STATE_RUNNING 1u /* attached, RAM found */
#define TG_ORACLE_STATE_BROKEN 2u  /* cannot check: @why says why */

/* Violation kinds. */
#define TG_ORACLE_FOREIGN 1u  /* page not the client's (nor a mediator's) */
#define TG_ORACLE_UNPINNED 2u /* the client's page, not pinned */

/**
 * struct tg_oracle_rec - one violation.
 * @pa:      physical address accessed.
 * @time_ns: CLOCK_MONOTONIC when the plugin saw it (the host's clock).
 * @insn:    virtual address of the accessing instruction (secure world).
 * @client:  on whose behalf the CPU was in the secure world (0: none).
 * @owner:   the page's owner then; @pins: its pin count then.
 * @cpu:     QEMU vCPU (= relay CPU) index.
 * @kind:    TG_ORACLE_FOREIGN or TG_ORACLE_UNPINNED.
 * @write:   1 for a store.
 * @valid:   set last (release): the record is complete.
 */
struct tg_oracle_rec {
	uint64_t pa;
	uint64_t time_ns;
	uint64_t insn;
	uint32_t client;
	uint32_t owner;
	uint32_t pins;
	uint16_t cpu;
	uint8_t kind;
	uint8_t write;
	uint32_t valid;
	uint32_t pad;
};

/**
 * struct tg_oracle_cpu - one relay CPU, on its own cache line.
 * @client:     host: the client whose SMC this relay CPU is serving, 0
 *              between SMCs.
 * @checked:    plugin: secure-world accesses to NS RAM checked (armed).
 * @violations: plugin: of which violations.
 * @ns_seen:    plugin: its accesses to NS RAM (paces the cross-check).
 */
struct tg_oracle_cpu {
	uint32_t client;
	uint32_t pad0;
	uint64_t checked;
	uint64_t violations;
	uint64_t ns_seen; /* plugin: NS RAM accesses seen, armed or not */
	uint64_t pad[4];
};

/**
 * struct tg_oracle_range - [@lo, @hi) virtual addresses of code whose
 * executed instructions the plugin counts in @count (TG_ORACLE_MODE_RANGES;
 * e.g. a hypervisor's mediator at EL2).
 */
struct tg_oracle_range {
	uint64_t lo;
	uint64_t hi;
	uint64_t count;
	uint64_t pad;
};

/**
 * struct tg_oracle_table - the shared header (page entries follow at
 * @header_size). Fields marked "host" are written by the hypervisor only,
 * "plugin" by the plugin only; counters are updated with atomic builtins.
 */
struct tg_oracle_table {
	uint64_t magic;       /* host, before QEMU starts */
	uint32_t version;     /* host */
	uint32_t header_size; /* host: page-aligned */
	uint64_t ram_base;    /* host: PA of page entry 0 */
	uint64_t npages;      /* host */
	uint32_t entry_size;  /* host: TG_ORACLE_ENTRY_SIZE */
	uint32_t owner_off;   /* host */
	uint32_t pins_off;    /* host */
	uint32_t ncpus;       /* host */
	uint32_t mode;        /* host, before QEMU starts */
	uint32_t armed;       /* host: count only while nonzero */
	uint32_t state;       /* plugin: TG_ORACLE_STATE_* */
	uint32_t nranges;     /* host, before QEMU starts */
	uint64_t foreign;     /* plugin */
	uint64_t unpinned;    /* plugin */
	uint64_t identity;    /* host: SMCs naming another client */
	uint64_t nrec;        /* plugin: violations recorded or not */
	uint64_t abi_checks;  /* plugin: accesses whose PA it cross-checked */
	uint64_t ram_host;    /* plugin: where QEMU maps NS RAM (diagnostics) */
	char why[TG_ORACLE_WHY_LEN]; /* plugin: when BROKEN */
	struct tg_oracle_range ranges[TG_ORACLE_MAX_RANGES];
	struct tg_oracle_cpu cpu[TG_ORACLE_MAX_CPUS];
	struct tg_oracle_rec rec[TG_ORACLE_RECORDS]; /* the first ones */
};

/* The page entries of @t. */
static inline uint8_t *tg_oracle_entries(struct tg_oracle_table *t)
{
	return (uint8_t *)t + t->header_size;
}

#endif /* TEEGATE_QEMU_ORACLE_H */
