// SPDX-License-Identifier: BSD-2-Clause
/*
 * A port for a hypervisor without guests, and the verdict on a probe.
 *
 * Enough for tg_mediator_create() (which probes the TEE over smc()),
 * tg_domain_create()/tg_domain_destroy() (VM_CREATED/VM_DESTROYED) and
 * fast calls through tg_handle_smc(). No page belongs to any guest, so
 * every guest memory operation is refused; mediator shared memory (shadow
 * pages) comes from the 255 pages above the mailbox. The hosted platform
 * (src/host) brings the real thing: its own port over the same RAM.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/optee_abi.h>

#include "internal.h"

static int no_pin(void *ctx, uint32_t client_id, const uint64_t *guest_ipa,
		  uint64_t *pa, uint32_t count)
{
	(void)ctx, (void)client_id, (void)guest_ipa, (void)pa, (void)count;
	return TG_EFAULT;
}

static void no_unpin(void *ctx, uint32_t client_id, const uint64_t *pa,
		     uint32_t count)
{
	(void)ctx, (void)client_id, (void)pa, (void)count;
}

static int no_copy_from(void *ctx, uint32_t client_id, void *dst,
			uint64_t guest_ipa, uint32_t len)
{
	(void)ctx, (void)client_id, (void)dst, (void)guest_ipa, (void)len;
	return TG_EFAULT;
}

static int no_copy_to(void *ctx, uint32_t client_id, uint64_t guest_ipa,
		      const void *src, uint32_t len)
{
	(void)ctx, (void)client_id, (void)guest_ipa, (void)src, (void)len;
	return TG_EFAULT;
}

static void *heap_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void heap_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx, (void)size;
	free(ptr);
}

/*
 * First fit over the pool pages above the mailbox: the mediator allocates
 * a few shadow pages per domain, rarely.
 */
static void *pool_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	struct tg_qemu *q = ctx;
	uint32_t first, n;
	void *va = NULL;

	*pa = 0;
	if (!npages || npages > TG_QEMU_POOL_PAGES)
		return NULL;
	pthread_mutex_lock(&q->pool_lock);
	for (first = 0; first + npages <= TG_QEMU_POOL_PAGES; first++) {
		for (n = 0; n < npages && !q->pool_used[first + n]; n++)
			;
		if (n < npages) {
			first += n;
			continue;
		}
		memset(q->pool_used + first, 1, npages);
		*pa = q->mailbox_pa + TG_RELAY_MAILBOX_SIZE +
		      (uint64_t)first * TG_PAGE_SIZE;
		va = q->ram + (*pa - TG_QEMU_RAM_BASE);
		memset(va, 0, (size_t)npages * TG_PAGE_SIZE);
		break;
	}
	pthread_mutex_unlock(&q->pool_lock);
	return va;
}

static void pool_shm_free(void *ctx, void *va, uint32_t npages)
{
	struct tg_qemu *q = ctx;
	uint64_t first;

	if (!va)
		return;
	first = ((uint64_t)((uint8_t *)va - q->ram) + TG_QEMU_RAM_BASE -
		 q->mailbox_pa - TG_RELAY_MAILBOX_SIZE) /
		TG_PAGE_SIZE;
	if (first + npages > TG_QEMU_POOL_PAGES)
		return;
	pthread_mutex_lock(&q->pool_lock);
	memset(q->pool_used + first, 0, npages);
	pthread_mutex_unlock(&q->pool_lock);
}

static void relay_smc(void *ctx, uint64_t regs[8])
{
	tg_qemu_smc(ctx, TG_QEMU_CPU_ANY, regs);
}

static struct tg_lock *mutex_create(void *ctx)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	(void)ctx;
	if (m)
		pthread_mutex_init(m, NULL);
	return (struct tg_lock *)m;
}

static void mutex_destroy(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	pthread_mutex_destroy((pthread_mutex_t *)lock);
	free(lock);
}

static void mutex_lock(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	pthread_mutex_lock((pthread_mutex_t *)lock);
}

static void mutex_unlock(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	pthread_mutex_unlock((pthread_mutex_t *)lock);
}

static void stderr_log(void *ctx, enum tg_log_level level, uint32_t client_id,
		       const char *msg, uint64_t value)
{
	struct tg_qemu *q = ctx;

	if (q->port_verbose || level == TG_LOG_ERROR)
		fprintf(stderr, "teegate[%u] client %u: %s 0x%llx\n", level,
			client_id, msg, (unsigned long long)value);
}

void tg_qemu_port_init(struct tg_port *port, struct tg_qemu *q, bool verbose)
{
	q->port_verbose = verbose;
	*port = (struct tg_port){
		.ctx = q,
		.pin_pages = no_pin,
		.unpin_pages = no_unpin,
		.copy_from_guest = no_copy_from,
		.copy_to_guest = no_copy_to,
		.alloc = heap_alloc,
		.free = heap_free,
		.shm_alloc = pool_shm_alloc,
		.shm_free = pool_shm_free,
		.smc = relay_smc,
		.lock_create = mutex_create,
		.lock_destroy = mutex_destroy,
		.lock = mutex_lock,
		.unlock = mutex_unlock,
		.log = stderr_log,
		.raise_notif_irq = NULL,
	};
}

int tg_qemu_check_probe(int rc, const struct tg_tee_info *info, char *msg,
			size_t msglen)
{
	if (rc == TG_ENOTEE || (rc == TG_OK && !info)) {
		snprintf(msg, msglen,
			 "no OP-TEE answered (CALLS_UID is not OP-TEE's): "
			 "check that the firmware has OP-TEE as BL32 "
			 "(TF-A SPD=opteed; for FF-A, SPD=spmd with OP-TEE "
			 "as the SPMC) and see sw.log");
		return TG_QEMU_ENOTEE;
	}
	if (rc != TG_OK) {
		snprintf(msg, msglen,
			 "OP-TEE answered but the probe failed (%s): it "
			 "needs dynamic shared memory (OP-TEE's default)",
			 tg_strerror(rc));
		return TG_QEMU_EPROTO;
	}
	if (!info->virtualization) {
		snprintf(msg, msglen,
			 "OP-TEE %u.%u answered without virtualization "
			 "support: exactly one guest can use it (rebuild "
			 "OP-TEE with CFG_NS_VIRTUALIZATION=y for more)",
			 info->os_rev_major, info->os_rev_minor);
		return TG_QEMU_ENOVIRT;
	}
	if (info->protocol == TG_PROTOCOL_FFA) {
		snprintf(msg, msglen,
			 "an FF-A %u.%u SPMC (OP-TEE's partition 0x%x), "
			 "virtualization assumed: VM_CREATED tells",
			 info->api_rev_major, info->api_rev_minor,
			 info->ffa_optee_id);
		return TG_QEMU_OK;
	}
	snprintf(msg, msglen,
		 "OP-TEE %u.%u (build 0x%x) with virtualization, %u threads, "
		 "capabilities 0x%x",
		 info->os_rev_major, info->os_rev_minor, info->os_build_id,
		 info->thread_count, info->sec_caps);
	return TG_QEMU_OK;
}
