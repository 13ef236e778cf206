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
#include <stddef.h>

#include "internal.h"

#ifdef TG_HAVE_QEMU
#include "qemu.h"

/* The oracle table's page entries are struct tg_page_meta. */
_Static_assert(sizeof(struct tg_page_meta) == TG_ORACLE_ENTRY_SIZE,
	       "oracle page entry size");
_Static_assert(offsetof(struct tg_page_meta, owner) == TG_ORACLE_OWNER_OFF,
	       "oracle page entry owner");
_Static_assert(offsetof(struct tg_page_meta, pins) == TG_ORACLE_PINS_OFF,
	       "oracle page entry pins");
_Static_assert(TG_OWNER_MEDIATOR == TG_ORACLE_OWNER_MEDIATOR &&
		       TG_OWNER_RESERVED == TG_ORACLE_OWNER_RESERVED &&
		       TG_OWNER_FREE == TG_ORACLE_OWNER_FREE,
	       "oracle owners");

static void qemu_smc(void *ctx, uint64_t regs[8])
{
	/* A dead QEMU answers UNKNOWN_FUNCTION in regs[0]: callers fail. */
	(void)tg_qemu_smc(ctx, TG_QEMU_CPU_ANY, regs);
}

static void qemu_smc_as(void *ctx, uint32_t client, uint64_t regs[8])
{
	(void)tg_qemu_smc_as(ctx, TG_QEMU_CPU_ANY, client, regs);
}

/*
 * With the oracle, the machine's page metadata is the oracle table's
 * entries (shared with QEMU's plugin, MADV_DONTFORK): pins and owners
 * reach the oracle with no code on the pin path. NULL without it.
 */
struct tg_page_meta *tg_qemu_backend_pages(struct tg_machine *m)
{
	uint64_t npages = 0;
	uint32_t size = 0;
	void *p;

	if (m->cfg.tee != TG_TEE_QEMU || !m->cfg.qemu)
		return NULL;
	p = tg_qemu_oracle_pages(m->cfg.qemu, &npages, &size);
	if (!p || npages != m->npages || size != sizeof(struct tg_page_meta))
		return NULL;
	return p;
}

uint64_t tg_qemu_backend_violations(const struct tg_machine *m)
{
	struct tg_qemu_oracle_stats st;

	if (m->cfg.tee != TG_TEE_QEMU || !m->cfg.qemu ||
	    tg_qemu_oracle_stats(m->cfg.qemu, &st))
		return 0;
	return st.violations;
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
	m->backend_smc_as = qemu_smc_as;
	m->backend_ctx = q;
	return TG_OK;
}
#else
int tg_qemu_backend_init(struct tg_machine *m)
{
	(void)m;
	return TG_ENOTSUP;
}

struct tg_page_meta *tg_qemu_backend_pages(struct tg_machine *m)
{
	(void)m;
	return NULL;
}

uint64_t tg_qemu_backend_violations(const struct tg_machine *m)
{
	(void)m;
	return 0;
}
#endif
