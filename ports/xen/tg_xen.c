// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate as a Xen TEE mediator (xen/arch/arm/tee/teegate/, put there by
 * ports/xen/apply.sh).
 *
 * Two halves:
 *  - struct tg_port over Xen's own primitives: guest pages pinned by a
 *    page reference (get_page_from_gfn, RAM of the calling domain only),
 *    copies through the domain's p2m, shadow memory from the xenheap, Xen
 *    spinlocks, printk and the SMC;
 *  - struct tee_mediator_ops, registered as XEN_DOMCTL_CONFIG_TEE_OPTEE so
 *    that dom0 and xl's tee="optee" reach it exactly as they reach Xen's own
 *    optee.c (which the Kconfig entry excludes: the first mediator whose
 *    probe succeeds wins).
 *
 * Client id: domain_id + 1, as Xen's optee.c (0 is the hypervisor).
 *
 * Guest memory is only ever touched on behalf of the domain the mediator
 * is acting for on this CPU (the caller of the trapped SMC, the domain
 * being created or torn down): every port callback that names another
 * client id is refused. Xen runs hypervisor code to completion on a pCPU,
 * so a per-CPU "acting domain" is exact.
 *
 * Async notifications: raise_notif_irq is NULL, so the mediator masks the
 * ASYNC_NOTIF capability and guests poll nothing; libxl's /firmware/optee
 * node has no interrupt for one anyway (Linux fails the probe if the cap
 * is set without an IRQ), and OP-TEE's SPI stays routed to dom0 untouched.
 * tg_tee_notif_irq() is therefore never called.
 *
 * The console key 'E' (or `xl debug-keys E` from dom0) prints, per TEE
 * domain, the mediator's own counters and the pins this port holds: the
 * port counts every page reference it takes and drops, independently of
 * the mediator, so a leak shows as a port count that never returns to 0.
 */
#include <xen/types.h>
#include <xen/errno.h>
#include <xen/init.h>
#include <xen/inttypes.h>
#include <xen/keyhandler.h>
#include <xen/lib.h>
#include <xen/mm.h>
#include <xen/percpu.h>
#include <xen/rcupdate.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/xmalloc.h>
#include <xen/device_tree.h>

#include <asm/event.h>
#include <asm/guest_access.h>
#include <asm/p2m.h>
#include <asm/smccc.h>
#include <asm/tee/tee.h>

#include "tg_xen_config.h"

#include <teegate/mediator.h>

/* Client ids are domain_id + 1; the highest ordinary domid is below this. */
#define TG_XEN_MAX_CLIENT ((uint32_t)DOMID_FIRST_RESERVED)

/* Per-domain port state, in d->arch.tee (non-NULL = a TEE domain). */
struct tg_xen_domain {
	uint32_t client_id;
	bool destroying;
	uint64_t pins_at_destroy; /* mediator's count when teardown began */
};

/* A cache line each: the domains' locks are taken on every
 * CALL_WITH_REGD_ARG, and guests on different cores must not share one. */
struct tg_lock {
	spinlock_t lock;
} __cacheline_aligned;

static struct tg_mediator *tg_med;
static DEFINE_PER_CPU(struct domain *, tg_acting);

/*
 * The port's own accounting, kept apart from the mediator's: page
 * references held (total and per client id), shadow pages and private
 * bytes outstanding.
 */
static atomic_t tg_pins_total;
static atomic_t *tg_pins_by_client; /* TG_XEN_MAX_CLIENT + 1 entries */
static atomic_t tg_shm_pages;
static atomic_t tg_alloc_bytes;

static inline uint32_t tg_client_id(const struct domain *d)
{
	return (uint32_t)d->domain_id + 1;
}

/*
 * The domain the mediator acts for on this CPU, if it is @client_id;
 * NULL otherwise (the call is then refused).
 */
static struct domain *tg_acting_domain(uint32_t client_id)
{
	struct domain *d = this_cpu(tg_acting);

	if (!d || tg_client_id(d) != client_id)
		return NULL;
	return d;
}

static struct domain *tg_act_begin(struct domain *d)
{
	struct domain *prev = this_cpu(tg_acting);

	this_cpu(tg_acting) = d;
	return prev;
}

static void tg_act_end(struct domain *prev)
{
	this_cpu(tg_acting) = prev;
}

static void tg_pins_add(uint32_t client_id, int n)
{
	atomic_add(n, &tg_pins_total);
	if (client_id <= TG_XEN_MAX_CLIENT)
		atomic_add(n, &tg_pins_by_client[client_id]);
}

/* ---- struct tg_port ---------------------------------------------------- */

/*
 * A page reference keeps the machine page allocated (to this domain) until
 * put_page(), whatever the guest does with its p2m meanwhile (balloon out,
 * remap). Only p2m_ram_rw: not MMIO, grants, foreign mappings or ROM.
 */
static int tg_xen_pin_pages(void *ctx, uint32_t client_id,
			    const uint64_t *guest_ipa, uint64_t *pa,
			    uint32_t count)
{
	struct domain *d = tg_acting_domain(client_id);
	uint32_t i;

	(void)ctx;
	if (!d)
		return TG_EFAULT;
	for (i = 0; i < count; i++) {
		struct page_info *pg = NULL;
		p2m_type_t t;

		if (!(guest_ipa[i] & TG_PAGE_MASK))
			pg = get_page_from_gfn(d, paddr_to_pfn(guest_ipa[i]),
					       &t, P2M_ALLOC);
		if (pg && t != p2m_ram_rw) {
			put_page(pg);
			pg = NULL;
		}
		if (!pg) {
			while (i--)
				put_page(maddr_to_page(pa[i]));
			return TG_EFAULT;
		}
		pa[i] = page_to_maddr(pg);
	}
	tg_pins_add(client_id, (int)count);
	return TG_OK;
}

static void tg_xen_unpin_pages(void *ctx, uint32_t client_id,
			       const uint64_t *pa, uint32_t count)
{
	uint32_t i;

	(void)ctx;
	for (i = 0; i < count; i++)
		put_page(maddr_to_page(pa[i]));
	tg_pins_add(client_id, -(int)count);
}

static int tg_xen_access(uint32_t client_id, uint64_t guest_ipa, void *buf,
			 uint32_t len, bool is_write)
{
	struct domain *d = tg_acting_domain(client_id);

	if (!d)
		return TG_EFAULT;
	if (!len)
		return TG_OK;
	/* Xen walks the p2m page by page and refuses anything not RAM. */
#ifdef TG_XEN_HAVE_ACCESS_BY_GPA
	return access_guest_memory_by_gpa(d, guest_ipa, buf, len, is_write) ?
		       TG_EFAULT : TG_OK;
#else
	return access_guest_memory_by_ipa(d, guest_ipa, buf, len, is_write) ?
		       TG_EFAULT : TG_OK;
#endif
}

static int tg_xen_copy_from_guest(void *ctx, uint32_t client_id, void *dst,
				  uint64_t guest_ipa, uint32_t len)
{
	(void)ctx;
	return tg_xen_access(client_id, guest_ipa, dst, len, false);
}

static int tg_xen_copy_to_guest(void *ctx, uint32_t client_id,
				uint64_t guest_ipa, const void *src,
				uint32_t len)
{
	(void)ctx;
	return tg_xen_access(client_id, guest_ipa, (void *)src, len, true);
}

static void *tg_xen_alloc(void *ctx, size_t size)
{
	void *p;

	(void)ctx;
	/* max_align_t is 16 bytes on arm64. */
	p = _xmalloc(size, 16);
	if (p)
		atomic_add((int)size, &tg_alloc_bytes);
	return p;
}

static void tg_xen_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	if (!ptr)
		return;
	xfree(ptr);
	atomic_sub((int)size, &tg_alloc_bytes);
}

/*
 * Shadow arguments and page lists: xenheap pages (normal-world, cacheable,
 * in Xen's direct map, never mapped into a guest), contiguous.
 */
static void *tg_xen_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	void *va;

	(void)ctx;
	if (!npages)
		return NULL;
	va = alloc_xenheap_pages(get_order_from_pages(npages), 0);
	if (!va)
		return NULL;
	memset(va, 0, (size_t)npages << PAGE_SHIFT);
	*pa = virt_to_maddr(va);
	atomic_add((int)npages, &tg_shm_pages);
	return va;
}

static void tg_xen_shm_free(void *ctx, void *va, uint32_t npages)
{
	(void)ctx;
	if (!va)
		return;
	free_xenheap_pages(va, get_order_from_pages(npages));
	atomic_sub((int)npages, &tg_shm_pages);
}

/*
 * One SMC with a0..a7 in and out. Xen 4.17's arm_smccc_smc() returns only
 * a0..a3, so 4.17 gets this helper: x8..x17 may be clobbered by an SMCCC
 * v1.0 implementation. 4.18+ has arm_smccc_1_2_smc().
 */
static void tg_xen_smc(void *ctx, uint64_t r[8])
{
#ifdef TG_XEN_HAVE_SMCCC_1_2
	struct arm_smccc_1_2_regs args = {
		.a0 = r[0], .a1 = r[1], .a2 = r[2], .a3 = r[3],
		.a4 = r[4], .a5 = r[5], .a6 = r[6], .a7 = r[7],
	};
	struct arm_smccc_1_2_regs res;

	(void)ctx;
	arm_smccc_1_2_smc(&args, &res);
	r[0] = res.a0;
	r[1] = res.a1;
	r[2] = res.a2;
	r[3] = res.a3;
	r[4] = res.a4;
	r[5] = res.a5;
	r[6] = res.a6;
	r[7] = res.a7;
#else
	register uint64_t x0 asm("x0") = r[0];
	register uint64_t x1 asm("x1") = r[1];
	register uint64_t x2 asm("x2") = r[2];
	register uint64_t x3 asm("x3") = r[3];
	register uint64_t x4 asm("x4") = r[4];
	register uint64_t x5 asm("x5") = r[5];
	register uint64_t x6 asm("x6") = r[6];
	register uint64_t x7 asm("x7") = r[7];

	(void)ctx;
	asm volatile("smc #0"
		     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4),
		       "+r"(x5), "+r"(x6), "+r"(x7)
		     :
		     : "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
		       "x16", "x17", "memory");
	r[0] = x0;
	r[1] = x1;
	r[2] = x2;
	r[3] = x3;
	r[4] = x4;
	r[5] = x5;
	r[6] = x6;
	r[7] = x7;
#endif
}

static struct tg_lock *tg_xen_lock_create(void *ctx)
{
	struct tg_lock *l = xzalloc(struct tg_lock);

	(void)ctx;
	if (l)
		spin_lock_init(&l->lock);
	return l;
}

static void tg_xen_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	xfree(l);
}

static void tg_xen_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	spin_lock(&l->lock);
}

static void tg_xen_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	spin_unlock(&l->lock);
}

/*
 * Messages are static strings of the mediator. Guests can provoke some
 * (refusals), so all but the probe's go through the guest log levels,
 * which Xen rate-limits and filters with guest_loglvl.
 */
static void tg_xen_log(void *ctx, enum tg_log_level level, uint32_t client_id,
		       const char *msg, uint64_t value)
{
	(void)ctx;
	switch (level) {
	case TG_LOG_ERROR:
		printk(XENLOG_G_ERR "teegate: client %u: %s (%#" PRIx64 ")\n",
		       client_id, msg, value);
		break;
	case TG_LOG_WARN:
		printk(XENLOG_G_WARNING "teegate: client %u: %s (%#" PRIx64
		       ")\n", client_id, msg, value);
		break;
	case TG_LOG_INFO:
		printk(XENLOG_G_INFO "teegate: client %u: %s (%#" PRIx64 ")\n",
		       client_id, msg, value);
		break;
	default:
		printk(XENLOG_G_DEBUG "teegate: client %u: %s (%#" PRIx64
		       ")\n", client_id, msg, value);
		break;
	}
}

static const struct tg_port tg_xen_port = {
	.pin_pages = tg_xen_pin_pages,
	.unpin_pages = tg_xen_unpin_pages,
	.copy_from_guest = tg_xen_copy_from_guest,
	.copy_to_guest = tg_xen_copy_to_guest,
	.alloc = tg_xen_alloc,
	.free = tg_xen_free,
	.shm_alloc = tg_xen_shm_alloc,
	.shm_free = tg_xen_shm_free,
	.smc = tg_xen_smc,
	.lock_create = tg_xen_lock_create,
	.lock_destroy = tg_xen_lock_destroy,
	.lock = tg_xen_lock,
	.unlock = tg_xen_unlock,
	.log = tg_xen_log,
	.raise_notif_irq = NULL, /* async notifications stay masked */
};

/* ---- console key: counters ---------------------------------------------- */

static void tg_xen_dump_domain(const struct domain *d)
{
	const struct tg_xen_domain *td = d->arch.tee;
	struct tg_domain_stats st;

	if (tg_domain_stats(tg_med, td->client_id, &st) != TG_OK) {
		printk("teegate: %pd client %u: not in the mediator; port pins %d\n",
		       d, td->client_id,
		       atomic_read(&tg_pins_by_client[td->client_id]));
		return;
	}
	printk("teegate: %pd client %u: port pins %d, mediator pins %" PRIu64
	       ", shadow pages %" PRIu64 ", bufs %u, rpc bufs %u, sessions %u, calls in flight %u (suspended %u), std calls %" PRIu64
	       ", refused %" PRIu64 "\n",
	       d, td->client_id,
	       atomic_read(&tg_pins_by_client[td->client_id]), st.pinned_pages,
	       st.shadow_pages, st.shm_bufs, st.rpc_bufs, st.sessions,
	       st.calls_in_flight, st.calls_suspended,
	       st.calls[TG_KIND_STD_CALL], st.calls[TG_KIND_REFUSED]);
}

static void tg_xen_dump(unsigned char key)
{
	struct domain *d;

	(void)key;
	printk("teegate: port pins held %d, shadow pages %d, private bytes %d\n",
	       atomic_read(&tg_pins_total), atomic_read(&tg_shm_pages),
	       atomic_read(&tg_alloc_bytes));
	rcu_read_lock(&domlist_read_lock);
	for_each_domain (d)
		if (d->arch.tee)
			tg_xen_dump_domain(d);
	rcu_read_unlock(&domlist_read_lock);
}

/* ---- struct tee_mediator_ops ------------------------------------------- */

static bool tg_xen_probe(void)
{
	const struct tg_tee_info *info;
	int rc;

	/* Never SMC into a secure world that the firmware did not announce. */
	if (!dt_find_compatible_node(NULL, NULL, "linaro,optee-tz"))
		return false;

	tg_pins_by_client = xzalloc_array(atomic_t, TG_XEN_MAX_CLIENT + 1);
	if (!tg_pins_by_client)
		return false;

	rc = tg_mediator_create(&tg_xen_port, NULL, &tg_med);
	if (rc != TG_OK) {
		printk(XENLOG_ERR "teegate: no usable OP-TEE: %s\n",
		       tg_strerror(rc));
		goto fail;
	}
	info = tg_mediator_tee_info(tg_med);
	if (!info->virtualization) {
		/* Without it OP-TEE cannot tell guests apart (a7 ignored). */
		printk(XENLOG_ERR
		       "teegate: OP-TEE is not built with CFG_NS_VIRTUALIZATION=y\n");
		tg_mediator_destroy(tg_med);
		tg_med = NULL;
		goto fail;
	}
	printk(XENLOG_INFO
	       "teegate: OP-TEE %u.%u, %u threads, caps %#x (guests see %#x)\n",
	       info->os_rev_major, info->os_rev_minor, info->thread_count,
	       info->sec_caps, info->guest_caps);
	register_keyhandler('E', tg_xen_dump, "teegate: TEE mediator counters",
			    true);
	return true;

fail:
	xfree(tg_pins_by_client);
	tg_pins_by_client = NULL;
	return false;
}

/*
 * One teardown: bounded steps (at most one SMC and a bounded number of
 * unpins each) until the mediator says the domain is gone. With
 * @preemptible, returns -ERESTART between steps when Xen wants the CPU
 * back; Xen calls again. @d is NULL for a leftover whose domain is gone
 * (then no guest memory can be touched).
 */
static int tg_xen_destroy(struct domain *d, struct tg_xen_domain *td,
			  uint32_t client_id, bool preemptible)
{
	struct tg_domain_stats st;
	struct domain *prev;
	uint64_t pins_before = 0;
	int rc;

	if (tg_domain_stats(tg_med, client_id, &st) == TG_OK)
		pins_before = st.pinned_pages;
	if (td && !td->destroying) {
		td->destroying = true;
		td->pins_at_destroy = pins_before;
	} else if (td) {
		pins_before = td->pins_at_destroy;
	}
	prev = tg_act_begin(d);
	for (;;) {
		rc = tg_domain_destroy(tg_med, client_id);
		if (rc != TG_AGAIN)
			break;
		if (preemptible && hypercall_preempt_check()) {
			tg_act_end(prev);
			return -ERESTART;
		}
	}
	tg_act_end(prev);
	if (rc == TG_OK)
		printk(XENLOG_INFO
		       "teegate: client %u destroyed: %" PRIu64
		       " pinned pages released; port pins now %d for it, %d in all\n",
		       client_id, pins_before,
		       atomic_read(&tg_pins_by_client[client_id]),
		       atomic_read(&tg_pins_total));
	return 0;
}

static int tg_xen_domain_init(struct domain *d)
{
	uint32_t client_id = tg_client_id(d);
	struct tg_xen_domain *td;
	struct domain *prev;
	int rc;

	if (client_id > TG_XEN_MAX_CLIENT)
		return -EINVAL;
	td = xzalloc(struct tg_xen_domain);
	if (!td)
		return -ENOMEM;
	td->client_id = client_id;

	prev = tg_act_begin(d);
	rc = tg_domain_create(tg_med, client_id, NULL);
	tg_act_end(prev);
	if (rc == TG_EEXIST) {
		/*
		 * A domid is only reused after its old domain was freed, so a
		 * live entry is the leftover of a domain whose creation failed
		 * after domain_init: Xen 4.17 tears such a domain down without
		 * calling the mediator. Finish it (no guest memory is touched:
		 * nothing is acting), then create afresh.
		 */
		printk(XENLOG_WARNING
		       "teegate: %pd: client %u left over by a failed creation, tearing it down\n",
		       d, client_id);
		tg_xen_destroy(NULL, NULL, client_id, false);
		prev = tg_act_begin(d);
		rc = tg_domain_create(tg_med, client_id, NULL);
		tg_act_end(prev);
	}
	if (rc != TG_OK) {
		printk(XENLOG_WARNING "teegate: %pd: VM_CREATED failed: %s\n", d,
		       tg_strerror(rc));
		xfree(td);
		return rc == TG_ENOMEM ? -ENOMEM : -ENODEV;
	}
	d->arch.tee = td;
	return 0;
}

/* vCPUs are stopped here, as VM_DESTROYED requires. */
static int tg_xen_relinquish_resources(struct domain *d)
{
	struct tg_xen_domain *td = d->arch.tee;
	int rc;

	if (!td)
		return 0;
	rc = tg_xen_destroy(d, td, td->client_id, true);
	if (rc)
		return rc;
	XFREE(d->arch.tee);
	return 0;
}

#ifdef TG_XEN_HAVE_DOMAIN_TEARDOWN
/*
 * 4.18+: called from domain_kill() (vCPUs paused) and from a failed
 * domain_create(), before relinquish_resources; may be restarted.
 */
static int tg_xen_domain_teardown(struct domain *d)
{
	return tg_xen_relinquish_resources(d);
}
#endif

#ifdef TG_XEN_HAVE_FREE_DOMAIN_CTX
/* 4.19+: last chance; normally teardown already freed it. */
static void tg_xen_free_domain_ctx(struct domain *d)
{
	struct tg_xen_domain *td = d->arch.tee;

	if (!td)
		return;
	tg_xen_destroy(d, td, td->client_id, false);
	XFREE(d->arch.tee);
}
#endif

static bool tg_xen_handle_call(struct cpu_user_regs *regs)
{
	struct domain *d = current->domain;
	const struct tg_xen_domain *td = d->arch.tee;
	struct domain *prev;
	uint64_t r[8];
	bool handled;

	/* Not a TEE domain: the call is not ours (unknown function). */
	if (!td)
		return false;
	/*
	 * a0..a7 straight from the trap frame (arm64 only, see the Kconfig
	 * lines of apply.sh): on arm64 get_user_reg(regs, n) is regs->xn for
	 * n < 31, and 16 calls to it cost more than the whole fast path.
	 */
	r[0] = regs->x0;
	r[1] = regs->x1;
	r[2] = regs->x2;
	r[3] = regs->x3;
	r[4] = regs->x4;
	r[5] = regs->x5;
	r[6] = regs->x6;
	r[7] = regs->x7;
	prev = tg_act_begin(d);
	handled = tg_handle_smc(tg_med, td->client_id, current->vcpu_id, r);
	tg_act_end(prev);
	if (!handled)
		return false;
	regs->x0 = r[0];
	regs->x1 = r[1];
	regs->x2 = r[2];
	regs->x3 = r[3];
	regs->x4 = r[4];
	regs->x5 = r[5];
	regs->x6 = r[6];
	regs->x7 = r[7];
	return true;
}

static const struct tee_mediator_ops tg_xen_ops = {
	.probe = tg_xen_probe,
	.domain_init = tg_xen_domain_init,
	.relinquish_resources = tg_xen_relinquish_resources,
	.handle_call = tg_xen_handle_call,
#ifdef TG_XEN_HAVE_DOMAIN_TEARDOWN
	.domain_teardown = tg_xen_domain_teardown,
#endif
#ifdef TG_XEN_HAVE_FREE_DOMAIN_CTX
	.free_domain_ctx = tg_xen_free_domain_ctx,
#endif
};

REGISTER_TEE_MEDIATOR(teegate, "OP-TEE (teegate)", XEN_DOMCTL_CONFIG_TEE_OPTEE,
		      &tg_xen_ops);
