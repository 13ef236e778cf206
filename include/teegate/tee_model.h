/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OP-TEE model: an embedded secure world that behaves, at the SMC ABI,
 * like OP-TEE built with CFG_NS_VIRTUALIZATION=y (see docs/optee-abi.md).
 *
 * The model reaches normal-world memory only through struct tg_sw_mem, so
 * that the platform can check every machine address it touches on behalf
 * of a client (the isolation oracle).
 */
#ifndef TEEGATE_TEE_MODEL_H
#define TEEGATE_TEE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tg_model;

/* How the secure world reaches normal-world (NS) memory. */
struct tg_sw_mem {
	void *ctx;
	/*
	 * map() - a pointer to [pa, pa + len) of NS memory, accessed on
	 * behalf of @client_id, or NULL when any byte is not NS RAM. The
	 * range never crosses a 4 KiB page (the model maps page by page).
	 * The platform checks ownership here (isolation oracle).
	 */
	void *(*map)(void *ctx, uint32_t client_id, uint64_t pa, uint32_t len,
		     bool write);
	/* notif_irq() - raise the TEE's async-notification interrupt. */
	void (*notif_irq)(void *ctx);
};

struct tg_model_config {
	uint32_t threads;          /* OP-TEE threads; 0 = 2 (QEMU build) */
	bool no_virtualization;    /* behave like OP-TEE without it */
	uint32_t max_guests;       /* CFG_VIRT_GUEST_COUNT; 0 = 16 */
	/* Random injection, in percent per eligible point (0 = off). */
	uint32_t inject_foreign_intr_pct;
	uint32_t inject_rpc_pct;   /* extra GET_TIME RPCs */
	uint64_t seed;
	/* Reserved SHM pool (contiguous TMEM allowed only inside it). */
	uint64_t reserved_shm_base, reserved_shm_size;
	/*
	 * Behave like OP-TEE 4.10.0, which never frees what a NONCONTIG
	 * TMEM parameter built (fixed upstream after it, 51d99cd24): the
	 * object stays, under the TMEM's shm_ref, in front of the guest's
	 * registered buffers, and its heap cost shows in stats ALLOC.
	 * See docs/real-optee.md, section 7.
	 */
	bool leak_noncontig_tmem;
	/*
	 * Speak FF-A instead of OP-TEE's SMC ABI: OP-TEE 4.10 as the S-EL1
	 * SPMC behind TF-A's SPMD (CFG_CORE_SEL1_SPMC=y, SPD=spmd), with
	 * CFG_NS_VIRTUALIZATION unless @no_virtualization. OP-TEE's own SMC
	 * function ids are then unknown (the SPMD routes FF-A only); see
	 * src/tee/model/README.md, "FF-A".
	 */
	bool ffa;
	/*
	 * FF-A: also behave like OP-TEE 4.10.0's S-EL1 SPMC where it is
	 * wrong (the same at upstream master, 2026-08; docs/real-optee.md):
	 * - thread_spmc.c passes frag_len and tot_len to
	 *   spmc_read_mem_transaction() swapped: every fragmented
	 *   FFA_MEM_SHARE/LEND is refused with INVALID_PARAMETERS;
	 * - when a guest has no handle left, mobj_ffa_sel1_spmc_new() frees
	 *   the new object with mobj_ffa_sel1_spmc_delete(), which clears
	 *   handle index 0 of that guest: index 0 is then handed out twice,
	 *   and reclaiming a share whose index is clear panics OP-TEE (an
	 *   assertion), for every guest;
	 * - a share sent for a VM the SPMC does not know answers SUCCESS
	 *   with handle 0 (handle_mem_op_rxbuf() loses its DENIED).
	 * After the panic every call answers FFA_ERROR ABORTED (real OP-TEE
	 * stops answering) and tg_model_panicked() is true.
	 */
	bool ffa_optee_4_10_bugs;
};

int tg_model_create(const struct tg_model_config *cfg,
		    const struct tg_sw_mem *mem, struct tg_model **out);
void tg_model_destroy(struct tg_model *m);

/* Issue one SMC: @regs is a0..a7 in and out. Thread-safe. */
void tg_model_smc(struct tg_model *m, uint64_t regs[8]);

/* Threads currently held (running or suspended in an RPC) by a client;
 * client_id == UINT32_MAX counts every client. */
uint32_t tg_model_threads_held(struct tg_model *m, uint32_t client_id);

/* FF-A: VM_DESTROYED messages for a VM that still had a thread in a
 * call or a share (what a careful hypervisor never sends). */
uint32_t tg_model_ffa_destroyed_busy(struct tg_model *m);

/* True once the model hit one of OP-TEE's panics (see above). */
bool tg_model_panicked(struct tg_model *m);

/* FF-A shares and lends the SPMC holds for a VM (complete, still
 * fragmented, or left by a destroyed VM and not reclaimed yet);
 * vm_id == UINT32_MAX counts every VM. */
uint32_t tg_model_ffa_shares(struct tg_model *m, uint32_t vm_id);
/*
 * FF-A: call @fn for every page of every complete share or lend the SPMC
 * holds (tests: each must still be pinned for its VM).
 */
/* FF-A: up to @max handles of VM @vm_id's complete shares; how many. */
uint32_t tg_model_ffa_handles(struct tg_model *m, uint32_t vm_id,
			      uint64_t *out, uint32_t max);
void tg_model_ffa_share_pages(struct tg_model *m,
			      void (*fn)(void *arg, uint32_t vm_id, uint64_t pa),
			      void *arg);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_TEE_MODEL_H */
