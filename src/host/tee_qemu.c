// SPDX-License-Identifier: BSD-2-Clause
/*
 * TG_TEE_QEMU: the secure world is a real OP-TEE in QEMU, reached through
 * the relay firmware (src/tee/qemu). Machine memory is QEMU's RAM, so the
 * pages the mediator hands to OP-TEE are the pages OP-TEE reads.
 *
 * port->smc() carries no vCPU: each host thread that issues SMCs (a
 * vCPU's handler thread, or the thread creating the machine for the
 * probe) has a home relay CPU, given round robin, and takes any idle
 * relay CPU when its home is busy (tg_qemu_smc() with TG_QEMU_CPU_ANY).
 * tg_qemu_smc() is thread-safe; OP-TEE resumes a thread suspended in an
 * RPC on whichever CPU the RETURN_FROM_RPC arrives.
 */
#include "internal.h"

#ifdef TG_HAVE_QEMU
#include "qemu.h"

static void qemu_smc(void *ctx, uint64_t regs[8])
{
	/* A dead QEMU answers UNKNOWN_FUNCTION in regs[0]: callers fail. */
	(void)tg_qemu_smc(ctx, TG_QEMU_CPU_ANY, regs);
}

int tg_qemu_backend_init(struct tg_machine *m)
{
	struct tg_qemu *q = m->cfg.qemu;
	uint64_t base = 0, size = 0;

	if (!q)
		return TG_EINVAL;
	/* Guests' pages must be QEMU's RAM, or OP-TEE reads other bytes. */
	tg_qemu_ram(q, &base, &size, NULL);
	if (m->cfg.backing != TG_BACKING_FILE || m->ram_base != base ||
	    m->ram_size != size) {
		tg_host_log(m, TG_LOG_ERROR,
			    "TG_TEE_QEMU needs QEMU's RAM as machine memory: use tg_qemu_machine_memory()");
		return TG_EINVAL;
	}
	m->backend_smc = qemu_smc;
	m->backend_ctx = q;
	return TG_OK;
}
#else
int tg_qemu_backend_init(struct tg_machine *m)
{
	(void)m;
	return TG_ENOTSUP;
}
#endif
