/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A deliberately trivial struct tg_port for instruction-count budgets.
 *
 * Everything the port does costs as little as a real hypervisor could
 * possibly make it cost: a flat IPA->PA table for one guest, a pin count
 * per machine page, size-class free lists for allocations, an uncontended
 * spinlock, and a scripted fake OP-TEE behind smc(). What callgrind then
 * measures inside tg_handle_smc() is the mediator's own work plus the
 * smallest port overhead any hypervisor could have: the same shape as the
 * shim used for Xen's figures in anchors.md.
 */
#ifndef TG_BENCH_FAKE_PORT_H
#define TG_BENCH_FAKE_PORT_H

#include <stdint.h>

#include <teegate/port.h>

/* Machine memory: guest RAM then the pool for shm_alloc(). */
#define FAKE_PA_BASE 0x40000000ull
#define FAKE_GUEST_PAGES 32768u /* 128 MiB: room for a 64 MiB buffer */
#define FAKE_SHM_PAGES 1024u
#define FAKE_MACHINE_PAGES (FAKE_GUEST_PAGES + FAKE_SHM_PAGES)

/* The one guest: its RAM is FAKE_GUEST_PAGES pages from this IPA. */
#define FAKE_GUEST_IPA_BASE 0x80000000ull
#define FAKE_CLIENT_ID 1u

/* Thread id the fake OP-TEE reports in RPC returns. */
#define FAKE_TEE_THREAD_ID 3u
#define FAKE_TEE_THREAD_COUNT 4u

/* What the fake OP-TEE does with the next CALL_WITH_ARG. */
enum fake_tee_script {
	FAKE_TEE_ANSWER_OK = 0,     /* complete at once: a0 = OK, ret = 0 */
	FAKE_TEE_FOREIGN_INTR = 1,  /* RPC FOREIGN_INTR first, OK on resume */
};

struct fake_tee_stats {
	uint64_t smcs;
	uint64_t std_calls;
	uint64_t rpc_returns;
	uint64_t unexpected; /* ids or states the script did not expect */
};

/* Fill @port with the fake callbacks and reset all fake state. */
void fake_port_init(struct tg_port *port);

void fake_tee_set_script(enum fake_tee_script script);
const struct fake_tee_stats *fake_tee_stats(void);

/* Host pointer to guest memory at @guest_ipa (the guest's own view). */
void *fake_guest_ptr(uint64_t guest_ipa);

/* Number of pins still held on guest pages and shm pages in use. */
uint64_t fake_pinned_pages(void);
uint64_t fake_shm_pages_in_use(void);

/* Bytes the mediator holds from alloc() (as it asked: no class rounding). */
uint64_t fake_alloc_bytes(void);

#endif /* TG_BENCH_FAKE_PORT_H */
