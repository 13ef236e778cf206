// SPDX-License-Identifier: BSD-2-Clause
/*
 * The trivial port behind the callgrind budgets (see fake_port.h).
 *
 * Built with -fno-builtin -fno-tree-loop-distribute-patterns: the copy
 * loop below must stay a loop of 64-byte moves. glibc's memcpy uses
 * "rep movsb" for large copies and callgrind counts every byte of that as
 * one instruction, which would charge the port, not the mediator, with
 * thousands of instructions per 4 KiB and make the figures incomparable
 * with the Xen shim (which copies 64 bytes per loop).
 */
#include "fake_port.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <teegate/optee_abi.h>

#define GUEST_BYTES ((uint64_t)FAKE_GUEST_PAGES << TG_PAGE_SHIFT)
#define MACHINE_BYTES ((uint64_t)FAKE_MACHINE_PAGES << TG_PAGE_SHIFT)

/* Machine memory: guest pages first (scattered by p2m), then the shm pool. */
static alignas(4096) uint8_t machine[MACHINE_BYTES];
static uint32_t p2m[FAKE_GUEST_PAGES];          /* guest pfn -> machine pfn */
static uint32_t pins[FAKE_MACHINE_PAGES];       /* pin count per machine pfn */
static uint64_t pinned_total;

/* shm_alloc(): power-of-two page classes over the pool, with free lists. */
#define SHM_CLASSES 16u
static void *shm_free_head[SHM_CLASSES];
static uint32_t shm_bump;                       /* next free pool page */
static uint64_t shm_in_use;

/* alloc(): power-of-two byte classes over an arena, with free lists. */
#define ARENA_BYTES (64ull << 20)
#define ALLOC_CLASSES 40u
static alignas(64) uint8_t arena[ARENA_BYTES];
static size_t arena_used;
static uint64_t alloc_bytes; /* requested by the mediator, live */
static void *alloc_free_head[ALLOC_CLASSES];

struct tg_lock {
	atomic_flag held;
};
#define MAX_LOCKS 1024u
static struct tg_lock locks[MAX_LOCKS];
static uint32_t locks_used;

/* Fake OP-TEE state. */
static enum fake_tee_script script;
static struct optee_msg_arg *suspended_arg; /* waiting in FOREIGN_INTR */
static uint32_t next_session = 1;
static struct fake_tee_stats tee_stats;

/* ---- copying: a plain loop of 64-byte moves, never libc ----------------- */

struct block64 {
	uint64_t w[8];
} __attribute__((packed, may_alias));

typedef uint64_t word_unaligned __attribute__((aligned(1), may_alias));

/* 64 bytes per loop, then 8-byte words, then bytes. */
static void copy_bytes(void *dst, const void *src, uint32_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (len >= 64) {
		*(struct block64 *)d = *(const struct block64 *)s;
		d += 64;
		s += 64;
		len -= 64;
	}
	while (len >= 8) {
		*(word_unaligned *)d = *(const word_unaligned *)s;
		d += 8;
		s += 8;
		len -= 8;
	}
	while (len--)
		*d++ = *s++;
}

/* ---- guest memory -------------------------------------------------------- */

static inline uint8_t *guest_page(uint64_t guest_ipa, int *ok)
{
	uint64_t off = guest_ipa - FAKE_GUEST_IPA_BASE;

	if (off >= GUEST_BYTES) {
		*ok = 0;
		return NULL;
	}
	*ok = 1;
	return machine + ((uint64_t)p2m[off >> TG_PAGE_SHIFT] << TG_PAGE_SHIFT);
}

void *fake_guest_ptr(uint64_t guest_ipa)
{
	int ok;
	uint8_t *page = guest_page(guest_ipa, &ok);

	return ok ? page + (guest_ipa & TG_PAGE_MASK) : NULL;
}

static void *pa_to_ptr(uint64_t pa, uint64_t len)
{
	uint64_t off = pa - FAKE_PA_BASE;

	if (off >= MACHINE_BYTES || len > MACHINE_BYTES - off)
		return NULL;
	return machine + off;
}

static int fake_pin_pages(void *ctx, uint32_t client_id,
			  const uint64_t *guest_ipa, uint64_t *pa,
			  uint32_t count)
{
	uint32_t i;

	(void)ctx;
	if (client_id != FAKE_CLIENT_ID)
		return TG_EFAULT;
	for (i = 0; i < count; i++) {
		uint64_t off = guest_ipa[i] - FAKE_GUEST_IPA_BASE;
		uint32_t pfn;

		if ((guest_ipa[i] & TG_PAGE_MASK) || off >= GUEST_BYTES)
			goto fail;
		pfn = p2m[off >> TG_PAGE_SHIFT];
		pins[pfn]++;
		pa[i] = FAKE_PA_BASE + ((uint64_t)pfn << TG_PAGE_SHIFT);
	}
	pinned_total += count;
	return TG_OK;
fail:
	while (i--)
		pins[(pa[i] - FAKE_PA_BASE) >> TG_PAGE_SHIFT]--;
	return TG_EFAULT;
}

static void fake_unpin_pages(void *ctx, uint32_t client_id, const uint64_t *pa,
			     uint32_t count)
{
	uint32_t i;

	(void)ctx;
	(void)client_id;
	for (i = 0; i < count; i++) {
		uint64_t pfn = (pa[i] - FAKE_PA_BASE) >> TG_PAGE_SHIFT;

		if (pfn >= FAKE_MACHINE_PAGES || !pins[pfn]) {
			tee_stats.unexpected++;
			continue;
		}
		pins[pfn]--;
		pinned_total--;
	}
}

/*
 * Whole range in the guest's RAM window, then page by page; a range
 * within one page (the common case: a header, a parameter array) takes
 * one translation.
 */
static inline uint8_t *guest_range(uint32_t client_id, uint64_t guest_ipa,
				   uint32_t len, uint32_t *in_page)
{
	uint64_t off = guest_ipa - FAKE_GUEST_IPA_BASE;

	if (client_id != FAKE_CLIENT_ID || off >= GUEST_BYTES ||
	    len > GUEST_BYTES - off)
		return NULL;
	*in_page = TG_PAGE_SIZE - (uint32_t)(off & TG_PAGE_MASK);
	return machine +
	       ((uint64_t)p2m[off >> TG_PAGE_SHIFT] << TG_PAGE_SHIFT) +
	       (off & TG_PAGE_MASK);
}

/* A range that crosses pages: one translation per page. */
static __attribute__((noinline)) int
copy_pages(uint32_t client_id, uint64_t guest_ipa, uint8_t *buf, uint32_t len,
	   bool to_guest)
{
	while (len) {
		uint32_t chunk;
		uint8_t *g = guest_range(client_id, guest_ipa, len, &chunk);

		if (!g)
			return TG_EFAULT;
		if (chunk > len)
			chunk = len;
		if (to_guest)
			copy_bytes(g, buf, chunk);
		else
			copy_bytes(buf, g, chunk);
		buf += chunk;
		guest_ipa += chunk;
		len -= chunk;
	}
	return TG_OK;
}

static int fake_copy_from_guest(void *ctx, uint32_t client_id, void *dst,
				uint64_t guest_ipa, uint32_t len)
{
	uint32_t chunk;
	uint8_t *src = guest_range(client_id, guest_ipa, len, &chunk);

	(void)ctx;
	if (!src)
		return TG_EFAULT;
	if (len > chunk)
		return copy_pages(client_id, guest_ipa, dst, len, false);
	copy_bytes(dst, src, len);
	return TG_OK;
}

static int fake_copy_to_guest(void *ctx, uint32_t client_id,
			      uint64_t guest_ipa, const void *src,
			      uint32_t len)
{
	uint32_t chunk;
	uint8_t *dst = guest_range(client_id, guest_ipa, len, &chunk);

	(void)ctx;
	if (!dst)
		return TG_EFAULT;
	if (len > chunk)
		return copy_pages(client_id, guest_ipa, (uint8_t *)src, len,
				  true);
	copy_bytes(dst, src, len);
	return TG_OK;
}

/* ---- allocation ---------------------------------------------------------- */

static inline uint32_t log2_ceil(uint64_t v)
{
	return v <= 1 ? 0 : 64u - (uint32_t)__builtin_clzll(v - 1);
}

static void *fake_alloc(void *ctx, size_t size)
{
	uint32_t c = log2_ceil(size < 16 ? 16 : size);
	void *p;

	(void)ctx;
	if (c >= ALLOC_CLASSES)
		return NULL;
	p = alloc_free_head[c];
	if (p) {
		alloc_free_head[c] = *(void **)p;
		alloc_bytes += size;
		return p;
	}
	/* Bump, aligned to the class size up to 64 bytes. */
	arena_used = (arena_used + 63) & ~(size_t)63;
	if ((1ull << c) > ARENA_BYTES - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += (size_t)1 << c;
	alloc_bytes += size;
	return p;
}

static void fake_free(void *ctx, void *ptr, size_t size)
{
	uint32_t c = log2_ceil(size < 16 ? 16 : size);

	(void)ctx;
	if (!ptr)
		return;
	alloc_bytes -= size;
	*(void **)ptr = alloc_free_head[c];
	alloc_free_head[c] = ptr;
}

static void *fake_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	uint32_t c = log2_ceil(npages);
	uint8_t *p;

	(void)ctx;
	if (!npages || c >= SHM_CLASSES)
		return NULL;
	p = shm_free_head[c];
	if (p) {
		shm_free_head[c] = *(void **)p;
	} else {
		if ((1u << c) > FAKE_SHM_PAGES - shm_bump)
			return NULL;
		p = machine + ((uint64_t)(FAKE_GUEST_PAGES + shm_bump)
			       << TG_PAGE_SHIFT);
		shm_bump += 1u << c;
	}
	shm_in_use += npages;
	*pa = FAKE_PA_BASE + (uint64_t)(p - machine);
	return p;
}

static void fake_shm_free(void *ctx, void *va, uint32_t npages)
{
	uint32_t c = log2_ceil(npages);

	(void)ctx;
	if (!va)
		return;
	shm_in_use -= npages;
	*(void **)va = shm_free_head[c];
	shm_free_head[c] = va;
}

/* ---- locks and the rest --------------------------------------------------- */

static struct tg_lock *fake_lock_create(void *ctx)
{
	(void)ctx;
	if (locks_used >= MAX_LOCKS)
		return NULL;
	atomic_flag_clear(&locks[locks_used].held);
	return &locks[locks_used++];
}

static void fake_lock_destroy(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	(void)lock;
}

static void fake_lock(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	while (atomic_flag_test_and_set_explicit(&lock->held,
						 memory_order_acquire))
		;
}

static void fake_unlock(void *ctx, struct tg_lock *lock)
{
	(void)ctx;
	atomic_flag_clear_explicit(&lock->held, memory_order_release);
}

static void fake_log(void *ctx, enum tg_log_level level, uint32_t client_id,
		     const char *msg, uint64_t value)
{
	(void)ctx;
	(void)level;
	(void)client_id;
	(void)msg;
	(void)value;
}

static void fake_raise_notif_irq(void *ctx, uint32_t client_id)
{
	(void)ctx;
	(void)client_id;
}

/* ---- the fake OP-TEE ------------------------------------------------------ */

/* Complete a message the way OP-TEE would for a well-formed request. */
static void tee_complete_msg(struct optee_msg_arg *arg)
{
	if (arg->cmd == OPTEE_MSG_CMD_OPEN_SESSION)
		arg->session = next_session++;
	arg->ret = TEEC_SUCCESS;
	arg->ret_origin = TEEC_ORIGIN_TEE;
}

static void tee_std_call(uint64_t regs[8])
{
	uint64_t pa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	struct optee_msg_arg *arg = pa_to_ptr(pa, OPTEE_MSG_ARG_HDR_SIZE);

	tee_stats.std_calls++;
	if (!arg || (pa & TG_PAGE_MASK) || suspended_arg) {
		tee_stats.unexpected++;
		regs[0] = OPTEE_SMC_RETURN_EBADADDR;
		return;
	}
	if (script == FAKE_TEE_FOREIGN_INTR) {
		suspended_arg = arg;
		regs[0] = OPTEE_SMC_RETURN_RPC_FOREIGN_INTR;
		regs[1] = 0;
		regs[2] = 0;
		regs[3] = FAKE_TEE_THREAD_ID;
		return;
	}
	tee_complete_msg(arg);
	regs[0] = OPTEE_SMC_RETURN_OK;
}

static void tee_return_from_rpc(uint64_t regs[8])
{
	tee_stats.rpc_returns++;
	if (!suspended_arg || (uint32_t)regs[3] != FAKE_TEE_THREAD_ID) {
		tee_stats.unexpected++;
		regs[0] = OPTEE_SMC_RETURN_ERESUME;
		return;
	}
	tee_complete_msg(suspended_arg);
	suspended_arg = NULL;
	regs[0] = OPTEE_SMC_RETURN_OK;
}

static void fake_smc(void *ctx, uint64_t regs[8])
{
	(void)ctx;
	tee_stats.smcs++;
	switch ((uint32_t)regs[0]) {
	case OPTEE_SMC_CALLS_UID:
		regs[0] = OPTEE_MSG_UID_0;
		regs[1] = OPTEE_MSG_UID_1;
		regs[2] = OPTEE_MSG_UID_2;
		regs[3] = OPTEE_MSG_UID_3;
		break;
	case OPTEE_SMC_CALLS_REVISION:
		regs[0] = OPTEE_MSG_REVISION_MAJOR;
		regs[1] = OPTEE_MSG_REVISION_MINOR;
		break;
	case OPTEE_SMC_CALLS_COUNT:
		regs[0] = 14;
		break;
	case OPTEE_SMC_GET_OS_UUID:
		regs[0] = OPTEE_MSG_OS_UUID_0;
		regs[1] = OPTEE_MSG_OS_UUID_1;
		regs[2] = OPTEE_MSG_OS_UUID_2;
		regs[3] = OPTEE_MSG_OS_UUID_3;
		break;
	case OPTEE_SMC_GET_OS_REVISION:
		regs[0] = 4;
		regs[1] = 10;
		regs[2] = 0;
		break;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		/* What OP-TEE 4.10 with virtualization answers in QEMU. */
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = 0xfd;
		regs[2] = 0x42;
		regs[3] = 4;
		break;
	case OPTEE_SMC_GET_THREAD_COUNT:
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = FAKE_TEE_THREAD_COUNT;
		break;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
	case OPTEE_SMC_ENABLE_SHM_CACHE:
	case OPTEE_SMC_ENABLE_ASYNC_NOTIF:
		regs[0] = OPTEE_SMC_RETURN_OK;
		break;
	case OPTEE_SMC_DISABLE_SHM_CACHE:
	case OPTEE_SMC_GET_SHM_CONFIG:
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		break;
	case OPTEE_SMC_CALL_WITH_ARG:
	case OPTEE_SMC_CALL_WITH_RPC_ARG:
		tee_std_call(regs);
		break;
	case OPTEE_SMC_CALL_RETURN_FROM_RPC:
		tee_return_from_rpc(regs);
		break;
	default:
		tee_stats.unexpected++;
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		break;
	}
}

/* ---- set-up ---------------------------------------------------------------- */

void fake_tee_set_script(enum fake_tee_script s)
{
	script = s;
}

const struct fake_tee_stats *fake_tee_stats(void)
{
	return &tee_stats;
}

uint64_t fake_pinned_pages(void)
{
	return pinned_total;
}

uint64_t fake_shm_pages_in_use(void)
{
	return shm_in_use;
}

uint64_t fake_alloc_bytes(void)
{
	return alloc_bytes;
}

void fake_port_init(struct tg_port *port)
{
	uint32_t i;

	/*
	 * Scatter the guest: an odd multiplier is a permutation modulo a
	 * power of two, so no two guest pages share a machine page and no
	 * translation bug can hide behind an identity map.
	 */
	for (i = 0; i < FAKE_GUEST_PAGES; i++)
		p2m[i] = (i * 2053u + 77u) & (FAKE_GUEST_PAGES - 1);

	*port = (struct tg_port){
		.ctx = NULL,
		.pin_pages = fake_pin_pages,
		.unpin_pages = fake_unpin_pages,
		.copy_from_guest = fake_copy_from_guest,
		.copy_to_guest = fake_copy_to_guest,
		.alloc = fake_alloc,
		.free = fake_free,
		.shm_alloc = fake_shm_alloc,
		.shm_free = fake_shm_free,
		.smc = fake_smc,
		.lock_create = fake_lock_create,
		.lock_destroy = fake_lock_destroy,
		.lock = fake_lock,
		.unlock = fake_unlock,
		.log = fake_log,
		.raise_notif_irq = fake_raise_notif_irq,
	};
}
