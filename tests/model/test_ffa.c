// SPDX-License-Identifier: BSD-2-Clause
/*
 * The model as OP-TEE's S-EL1 SPMC (cfg.ffa): every FF-A call a
 * hypervisor makes, as raw registers, with memory owned page by page so
 * that an access for the wrong VM is seen (a small isolation oracle).
 *
 * Layout of the fake RAM: pages [0, 64) belong to the hypervisor (id 0:
 * its RX/TX buffers live there), then 2048 pages for VM 1 and 2048 for
 * VM 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>
#include <teegate/tee_model.h>

#include "model_tas.h"

#define BASE 0x40000000ull
#define PG 4096ull
#define HYP_PAGES 64u
#define VM_PAGES 2048u
#define NPAGES (HYP_PAGES + 2 * VM_PAGES)
#define VM1 1u
#define VM2 2u
#define OPTEE 0x8001u
#define SPMC 0x8000u
#define TEE_BUSY 0xFFFF000Du

static struct {
	uint8_t *bytes;
	uint16_t owner[NPAGES];
	uint64_t violations;
	uint32_t irqs;
	uint32_t next[3]; /* bump allocator per owner */
} mem;

static struct tg_model *m;
static uint64_t tx_pa, rx_pa; /* the hypervisor's buffers */

static void *map(void *ctx, uint32_t client, uint64_t pa, uint32_t len,
		 bool write)
{
	uint64_t page = (pa - BASE) / PG;

	(void)ctx;
	(void)write;
	if (pa < BASE || page >= NPAGES || (pa % PG) + len > PG)
		return NULL;
	if (mem.owner[page] != client) {
		mem.violations++;
		return NULL;
	}
	return mem.bytes + (pa - BASE);
}

static void notif_irq(void *ctx)
{
	(void)ctx;
	mem.irqs++;
}

static uint64_t page_of(uint32_t owner)
{
	uint32_t first = owner ? HYP_PAGES + (owner - 1) * VM_PAGES : 0;
	uint32_t limit = owner ? VM_PAGES : HYP_PAGES;

	assert_true(mem.next[owner] < limit);
	return BASE + (uint64_t)(first + mem.next[owner]++) * PG;
}

static void *ptr(uint64_t pa)
{
	return mem.bytes + (pa - BASE);
}

struct r8 {
	uint64_t a[8];
};

static struct r8 call(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7)
{
	struct r8 r = { { a0, a1, a2, a3, a4, a5, a6, a7 } };

	tg_model_smc(m, r.a);
	return r;
}

static struct r8 direct(uint16_t from, uint16_t to, uint64_t w2, uint64_t w3,
			uint64_t w4, uint64_t w5, uint64_t w6, uint64_t w7)
{
	return call(FFA_MSG_SEND_DIRECT_REQ_32, FFA_PACK_IDS(from, to), w2, w3,
		    w4, w5, w6, w7);
}

static int32_t err_of(const struct r8 *r)
{
	return r->a[0] == FFA_ERROR ? (int32_t)r->a[2] : 0;
}

static uint32_t vm_msg(uint32_t msg, uint16_t vm)
{
	struct r8 r = direct(0, OPTEE, FFA_MSG_FLAG_FRAMEWORK | msg, 0, 0, vm,
			     0, 0);

	assert_int_equal(r.a[0], FFA_MSG_SEND_DIRECT_RESP_32);
	assert_int_equal(r.a[2], FFA_MSG_FLAG_FRAMEWORK | (msg + 1));
	return (uint32_t)r.a[3];
}

static void model_up(uint32_t threads)
{
	struct tg_model_config cfg = { .ffa = true, .threads = threads };
	struct tg_sw_mem sw = { .map = map, .notif_irq = notif_irq };
	struct r8 r;

	if (!mem.bytes)
		mem.bytes = calloc(NPAGES, PG);
	assert_non_null(mem.bytes);
	memset(mem.bytes, 0, (size_t)NPAGES * PG);
	for (uint32_t i = 0; i < NPAGES; i++)
		mem.owner[i] = i < HYP_PAGES ? 0
			       : i < HYP_PAGES + VM_PAGES ? VM1
							 : VM2;
	mem.violations = 0;
	mem.irqs = 0;
	memset(mem.next, 0, sizeof(mem.next));
	assert_int_equal(tg_model_create(&cfg, &sw, &m), 0);
	r = call(FFA_VERSION, FFA_VERSION_1_1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_VERSION_1_2);
	tx_pa = page_of(0);
	rx_pa = page_of(0);
	r = call(FFA_RXTX_MAP_64, tx_pa, rx_pa, 1, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_CREATED, VM1), 0);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_CREATED, VM2), 0);
}

static int setup(void **state)
{
	(void)state;
	model_up(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tg_model_destroy(m);
	m = NULL;
	return 0;
}

/* ---- Descriptors ------------------------------------------------------- */

struct share {
	uint16_t sender;
	uint16_t receiver;
	uint8_t perm;
	uint16_t attr;
	uint32_t flags;
	uint64_t handle;
	uint32_t n;		  /* constituents */
	uint64_t addr[64];	  /* each one ... */
	uint32_t count[64];	  /* ... of this many pages */
	int32_t total_delta;	  /* added to the total page count */
};

/* Write a v1.1 descriptor into the TX buffer; return its length. */
static uint32_t desc_write(const struct share *s, uint8_t *buf)
{
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_1 a = { 0 };
	struct ffa_mem_composite c = { 0 };
	uint32_t off = FFA_MEM_TRANS_SIZE, total = 0;

	t.sender_id = s->sender;
	t.mem_attr = s->attr;
	t.flags = s->flags;
	t.handle = s->handle;
	t.access_size = FFA_MEM_ACCESS_1_1_SIZE;
	t.access_count = 1;
	t.access_offset = off;
	a.perm.endpoint_id = s->receiver;
	a.perm.perm = s->perm;
	a.composite_offset = off + FFA_MEM_ACCESS_1_1_SIZE;
	for (uint32_t i = 0; i < s->n; i++)
		total += s->count[i];
	c.total_page_count = total + (uint32_t)s->total_delta;
	c.constituent_count = s->n;
	memcpy(buf, &t, sizeof(t));
	memcpy(buf + off, &a, sizeof(a));
	off += sizeof(a);
	memcpy(buf + off, &c, sizeof(c));
	off += sizeof(c);
	for (uint32_t i = 0; i < s->n; i++) {
		struct ffa_mem_constituent k = { s->addr[i], s->count[i], 0 };

		memcpy(buf + off, &k, sizeof(k));
		off += sizeof(k);
	}
	return off;
}

static void share_init(struct share *s, uint16_t vm, uint32_t pages)
{
	memset(s, 0, sizeof(*s));
	s->sender = vm;
	s->receiver = OPTEE;
	s->perm = FFA_MEM_DATA_RW;
	s->attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	/* Scattered: one page per constituent, every other page. */
	for (uint32_t i = 0; i < pages; i++) {
		s->addr[i] = page_of(vm);
		(void)page_of(vm);
		s->count[i] = 1;
	}
	s->n = pages;
}

static struct r8 share_send(const struct share *s)
{
	uint32_t len = desc_write(s, ptr(tx_pa));

	return call(FFA_MEM_SHARE_32, len, len, 0, 0, 0, 0, 0);
}

static uint64_t handle_of(const struct r8 *r)
{
	assert_int_equal(r->a[0], FFA_SUCCESS_32);
	return FFA_HANDLE_PACK(r->a[2], r->a[3]);
}

static int32_t reclaim(uint64_t h)
{
	struct r8 r = call(FFA_MEM_RECLAIM, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h),
			   0, 0, 0, 0, 0);

	return err_of(&r);
}

/* ---- Tests: discovery -------------------------------------------------- */

static void test_smc_abi_is_unknown_behind_the_spmd(void **state)
{
	struct r8 r = call(OPTEE_SMC_CALLS_UID, 0, 0, 0, 0, 0, 0, VM1);

	(void)state;
	assert_int_equal(r.a[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

static void test_version_ids_and_features(void **state)
{
	struct r8 r;

	(void)state;
	r = call(FFA_VERSION, 0x80010001u, 0, 0, 0, 0, 0, 0);
	assert_int_equal((uint32_t)r.a[0], (uint32_t)FFA_RET_NOT_SUPPORTED);
	r = call(FFA_ID_GET, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2], 0);
	r = call(FFA_SPM_ID_GET, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[2], SPMC);
	r = call(FFA_FEATURES, FFA_FEATURE_SCHEDULE_RECV_INTR, 0, 0, 0, 0, 0,
		 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2], 8);
	r = call(FFA_FEATURES, FFA_MEM_SHARE_64, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	r = call(FFA_FEATURES, FFA_MSG_SEND2, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	r = call(FFA_FEATURES, FFA_MEM_DONATE_32, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	r = call(FFA_MSG_SEND2, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	r = call(FFA_MSG_SEND_DIRECT_REQ2, FFA_PACK_IDS(VM1, OPTEE), 0, 0, 0,
		 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	r = call(FFA_RUN, FFA_TARGET_INFO(OPTEE, 0), 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
}

static void test_rxtx_is_mapped_once_from_the_hypervisor_memory(void **state)
{
	struct r8 r;

	(void)state;
	r = call(FFA_RXTX_MAP_64, page_of(0), page_of(0), 1, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	r = call(FFA_RXTX_UNMAP, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	/* A VM's page is not the hypervisor's to give. */
	r = call(FFA_RXTX_MAP_64, page_of(VM1), page_of(0), 1, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	assert_true(mem.violations > 0);
	r = call(FFA_RXTX_MAP_64, tx_pa + 8, rx_pa, 1, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_RXTX_MAP_64, tx_pa, rx_pa, 0x41, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_RXTX_MAP_64, tx_pa, rx_pa, 1, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
}

static void test_partition_info_lists_optee_only(void **state)
{
	struct ffa_partition_info pi;
	struct r8 r;

	(void)state;
	r = call(FFA_PARTITION_INFO_GET, 0, 0, 0, 0,
		 FFA_PARTITION_INFO_GET_COUNT_ONLY, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2], 1);
	r = call(FFA_PARTITION_INFO_GET, OPTEE_FFA_UUID_W0, OPTEE_FFA_UUID_W1,
		 OPTEE_FFA_UUID_W2, OPTEE_FFA_UUID_W3, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2], 1);
	assert_int_equal(r.a[3], sizeof(pi));
	memcpy(&pi, ptr(rx_pa), sizeof(pi));
	assert_int_equal(pi.id, OPTEE);
	assert_true(pi.properties & FFA_PART_PROP_DIRECT_REQ_RECV);
	assert_true(pi.properties & FFA_PART_PROP_NOTIF_VM_CREATED);
	assert_true(pi.properties & FFA_PART_PROP_AARCH64_STATE);
	/* The RX buffer is the normal world's until it releases it. */
	r = call(FFA_PARTITION_INFO_GET, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_BUSY);
	r = call(FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	r = call(FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	r = call(FFA_PARTITION_INFO_GET, 1, 2, 3, 4, 0, 0, 0);
	assert_int_equal(r.a[2], 0);
	call(FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0);
}

static void test_optee_blocking_calls(void **state)
{
	struct r8 r;

	(void)state;
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_GET_API_VERSION, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_MSG_SEND_DIRECT_RESP_32);
	assert_int_equal(r.a[1], FFA_PACK_IDS(OPTEE, VM1));
	assert_int_equal(r.a[3], 1);
	assert_int_equal(r.a[4], 0);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_GET_OS_VERSION, 0, 0, 0, 0);
	assert_int_equal(r.a[3], 4);
	assert_int_equal(r.a[4], 10);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_EXCHANGE_CAPABILITIES, 0, 0, 0, 0);
	assert_int_equal(r.a[3], 0);
	assert_int_equal(r.a[4], OPTEE_MSG_RPC_NUM_PARAMS);
	assert_true(r.a[5] & OPTEE_FFA_SEC_CAP_ARG_OFFSET);
	assert_true(r.a[5] & OPTEE_FFA_SEC_CAP_ASYNC_NOTIF);
	/* A VM the SPMC never heard of gets no service. */
	r = direct(9, OPTEE, 0, OPTEE_FFA_GET_API_VERSION, 0, 0, 0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_ITEM_NOT_FOUND);
	r = direct(VM1, 0x8009, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	r = direct(VM1, SPMC, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = direct(VM1, OPTEE, 0, 0x77, 0, 0, 0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);
}

static void test_vm_availability_messages(void **state)
{
	struct r8 r;

	(void)state;
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_CREATED, 0),
			 (uint32_t)FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_CREATED, 7), 0);
	r = direct(7, OPTEE, 0, OPTEE_FFA_GET_API_VERSION, 0, 0, 0, 0);
	assert_int_equal(r.a[3], 1);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_DESTROYED, 7), 0);
	r = direct(7, OPTEE, 0, OPTEE_FFA_GET_API_VERSION, 0, 0, 0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_ITEM_NOT_FOUND);
}

/* ---- Tests: memory ----------------------------------------------------- */

static void test_share_and_reclaim(void **state)
{
	struct share s;
	uint64_t h;
	struct r8 r;

	(void)state;
	share_init(&s, VM1, 3);
	r = share_send(&s);
	h = handle_of(&r);
	assert_int_equal((h >> 16) & 0xFFFF, VM1);
	assert_true(h & (1ull << 44));
	assert_int_equal(tg_model_ffa_shares(m, VM1), 1);
	assert_int_equal(reclaim(h), 0);
	assert_int_equal(reclaim(h), FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(tg_model_ffa_shares(m, UINT32_MAX), 0);
	assert_int_equal(mem.violations, 0);
}

static void test_share_checks_what_optee_checks(void **state)
{
	struct share s;
	struct r8 r;

	(void)state;
	share_init(&s, VM1, 2);
	s.attr = 0;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	share_init(&s, VM1, 2);
	s.perm = FFA_MEM_DATA_RO;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	share_init(&s, VM1, 2);
	s.receiver = 0x8005;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	share_init(&s, VM1, 2);
	s.total_delta = 1;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	share_init(&s, VM1, 2);
	s.addr[1] += 8;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	share_init(&s, 9, 0);
	s.addr[0] = page_of(VM1);
	s.count[0] = 1;
	s.n = 1;
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	/* Lend: the attributes must be left unspecified. */
	share_init(&s, VM1, 1);
	{
		uint32_t len = desc_write(&s, ptr(tx_pa));

		r = call(FFA_MEM_LEND_32, len, len, 0, 0, 0, 0, 0);
		assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
		s.attr = 0;
		len = desc_write(&s, ptr(tx_pa));
		r = call(FFA_MEM_LEND_32, len, len, 0, 0, 0, 0, 0);
		assert_int_equal(reclaim(handle_of(&r)), 0);
	}
	/* A descriptor outside the TX buffer is not taken. */
	r = call(FFA_MEM_SHARE_64, 64, 64, page_of(0), 1, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NOT_SUPPORTED);
	assert_int_equal(tg_model_ffa_shares(m, UINT32_MAX), 0);
	assert_int_equal(mem.violations, 0);
}

static void test_share_of_a_foreign_page_is_refused_and_seen(void **state)
{
	struct share s;
	struct r8 r;

	(void)state;
	share_init(&s, VM1, 2);
	s.addr[1] = page_of(VM2);
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(mem.violations, 1);
	assert_int_equal(tg_model_ffa_shares(m, UINT32_MAX), 0);
}

static void test_fragments(void **state)
{
	struct share s;
	uint32_t len, first;
	uint64_t h;
	struct r8 r;

	(void)state;
	share_init(&s, VM1, 6);
	len = desc_write(&s, ptr(tx_pa));
	/* header + access + composite + 2 constituents first */
	first = len - 4 * FFA_MEM_CONSTITUENT_SIZE;
	r = call(FFA_MEM_SHARE_32, len, first, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_MEM_FRAG_RX);
	assert_int_equal(r.a[3], first);
	h = FFA_HANDLE_PACK(r.a[1], r.a[2]);
	/* Not usable, not reclaimable while incomplete. */
	assert_int_equal(reclaim(h), FFA_RET_INVALID_PARAMETERS);
	memmove(ptr(tx_pa), (uint8_t *)ptr(tx_pa) + first,
		4 * FFA_MEM_CONSTITUENT_SIZE);
	/* Another VM cannot continue it. */
	r = call(FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h),
		 2 * FFA_MEM_CONSTITUENT_SIZE, FFA_PACK_IDS(VM2, 0), 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h),
		 2 * FFA_MEM_CONSTITUENT_SIZE, FFA_PACK_IDS(VM1, 0), 0, 0, 0);
	assert_int_equal(r.a[0], FFA_MEM_FRAG_RX);
	assert_int_equal(r.a[3], first + 2 * FFA_MEM_CONSTITUENT_SIZE);
	memmove(ptr(tx_pa),
		(uint8_t *)ptr(tx_pa) + 2 * FFA_MEM_CONSTITUENT_SIZE,
		2 * FFA_MEM_CONSTITUENT_SIZE);
	r = call(FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h),
		 2 * FFA_MEM_CONSTITUENT_SIZE, FFA_PACK_IDS(VM1, 0), 0, 0, 0);
	assert_int_equal(handle_of(&r), h);
	assert_int_equal(reclaim(h), 0);

	/* A fragment that splits a constituent ends the transaction. */
	share_init(&s, VM1, 4);
	len = desc_write(&s, ptr(tx_pa));
	r = call(FFA_MEM_SHARE_32, len, len - 40, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_MEM_SHARE_32, len, len - 32, 0, 0, 0, 0, 0);
	h = FFA_HANDLE_PACK(r.a[1], r.a[2]);
	r = call(FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 24,
		 FFA_PACK_IDS(VM1, 0), 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 32,
		 FFA_PACK_IDS(VM1, 0), 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(tg_model_ffa_shares(m, UINT32_MAX), 0);
	assert_int_equal(mem.violations, 0);
}

static void test_64_shares_per_guest(void **state)
{
	uint64_t h[64];
	struct share s;
	struct r8 r;

	(void)state;
	for (int i = 0; i < 64; i++) {
		share_init(&s, VM2, 1);
		r = share_send(&s);
		h[i] = handle_of(&r);
	}
	share_init(&s, VM2, 1);
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_NO_MEMORY);
	/* Another guest has its own 64. */
	share_init(&s, VM1, 1);
	r = share_send(&s);
	assert_int_equal(reclaim(handle_of(&r)), 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(reclaim(h[i]), 0);
}

/* ---- Tests: OP-TEE's protocol ------------------------------------------ */

/* A share of @pages IPA-contiguous pages of @vm; *@pa its first page. */
static uint64_t share_buf(uint16_t vm, uint32_t pages, uint64_t *pa)
{
	struct share s;
	struct r8 r;

	memset(&s, 0, sizeof(s));
	s.sender = vm;
	s.receiver = OPTEE;
	s.perm = FFA_MEM_DATA_RW;
	s.attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	s.addr[0] = page_of(vm);
	for (uint32_t i = 1; i < pages; i++)
		(void)page_of(vm);
	s.count[0] = pages;
	s.n = 1;
	*pa = s.addr[0];
	memset(ptr(*pa), 0, pages * PG);
	r = share_send(&s);
	return handle_of(&r);
}

struct rpc_log {
	uint32_t cmds[16];
	uint32_t n;
	uint64_t alloc_handle;
	uint64_t alloc_pa;
};

/* Message helpers: the argument at offset 0 of a share at @pa. */
static struct optee_msg_arg *msg_at(uint64_t pa)
{
	return ptr(pa);
}

static struct optee_msg_arg *rpc_arg_of(uint64_t pa)
{
	struct optee_msg_arg *a = msg_at(pa);

	return (struct optee_msg_arg *)((uint8_t *)a +
					OPTEE_MSG_GET_ARG_SIZE(a->num_params));
}

static void open_msg(uint64_t pa, const uint8_t uuid[16])
{
	struct optee_msg_arg *a = msg_at(pa);

	memset(a, 0, PG);
	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->num_params = 2;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	a->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	memcpy(&a->params[0].u.value, uuid, 16);
	a->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
}

/* Serve the RPC CMD in the RPC argument after the message at @pa. */
static void serve_rpc(uint16_t vm, uint64_t pa, struct rpc_log *log)
{
	struct optee_msg_arg *rpc = rpc_arg_of(pa);

	if (log->n < 16)
		log->cmds[log->n++] = rpc->cmd;
	switch (rpc->cmd) {
	case OPTEE_RPC_CMD_SHM_ALLOC: {
		struct optee_msg_param_fmem f = { 0 };
		uint64_t spa;

		log->alloc_handle = share_buf(vm, 1, &spa);
		log->alloc_pa = spa;
		f.size = PG;
		f.global_id = log->alloc_handle;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT;
		memcpy(&rpc->params[0].u, &f, sizeof(f));
		rpc->ret = TEEC_SUCCESS;
		break;
	}
	case OPTEE_RPC_CMD_SHM_FREE:
		rpc->ret = rpc->params[0].u.value.b == log->alloc_handle
				   ? TEEC_SUCCESS
				   : TEEC_ERROR_BAD_PARAMETERS;
		break;
	case OPTEE_RPC_CMD_NOTIFICATION:
	case OPTEE_RPC_CMD_GET_TIME:
		rpc->ret = TEEC_SUCCESS;
		break;
	default:
		rpc->ret = TEEC_ERROR_ITEM_NOT_FOUND;
		break;
	}
}

static struct r8 run_call(uint16_t vm, uint64_t h, uint64_t pa,
			  struct rpc_log *log)
{
	struct r8 r = direct(vm, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
			     FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0, 0);

	while (r.a[0] == FFA_MSG_SEND_DIRECT_RESP_32 && r.a[3] == 0 &&
	       r.a[4] != OPTEE_FFA_YIELDING_CALL_RETURN_DONE) {
		if (r.a[4] == OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD)
			serve_rpc(vm, pa, log);
		r = direct(vm, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0,
			   0, r.a[7]);
	}
	return r;
}

static void test_yielding_calls_reach_the_ptas(void **state)
{
	static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
	struct rpc_log log = { 0 };
	struct optee_msg_arg *a;
	struct optee_msg_param_fmem f = { 0 };
	uint64_t pa, h, bpa, bh;
	uint32_t session;
	struct r8 r;
	uint8_t *b;

	(void)state;
	h = share_buf(VM1, 1, &pa);
	open_msg(pa, invoke_tests);
	r = run_call(VM1, h, pa, &log);
	assert_int_equal(r.a[3], 0);
	a = msg_at(pa);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	session = a->session;

	/* Invoke with an FMEM in another share, at an offset. */
	bh = share_buf(VM1, 2, &bpa);
	b = ptr(bpa);
	for (int i = 0; i < 100; i++)
		b[PG + 84 + i] = (uint8_t)i;
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->func = PTA_INVOKE_TESTS_CMD_PARAMS; /* byte sum into byte 0 */
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_FMEM_INOUT;
	f.offs_low = 100;
	f.internal_offs = (uint16_t)PG - 16; /* the buffer starts there */
	f.size = 100;
	f.global_id = bh;
	memcpy(&a->params[0].u, &f, sizeof(f));
	r = run_call(VM1, h, pa, &log);
	assert_int_equal(r.a[3], 0);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(b[PG + 84], 4950 % 256);
	assert_int_equal(b[PG + 85], 1);
	memset(&f, 0, sizeof(f));

	/* The share is registered now: reclaim waits for UNREGISTER. */
	assert_int_equal(reclaim(h), FFA_RET_DENIED);
	/* An FMEM window outside its share is SECURITY. */
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_FMEM_INPUT;
	f.offs_low = (uint32_t)PG;
	f.size = 2 * PG;
	f.global_id = bh;
	memcpy(&a->params[0].u, &f, sizeof(f));
	r = run_call(VM1, h, pa, &log);
	assert_int_equal(a->ret, TEEC_ERROR_SECURITY);
	/* Another VM's handle is unknown to this VM. */
	f.size = 16;
	memcpy(&a->params[0].u, &f, sizeof(f));
	r = direct(VM2, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
		   FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);

	r = direct(VM1, OPTEE, 0, OPTEE_FFA_UNREGISTER_SHM, FFA_HANDLE_LO(bh),
		   FFA_HANDLE_HI(bh), 0, 0);
	assert_int_equal(r.a[3], 0);
	assert_int_equal(reclaim(bh), 0);

	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	a->session = session;
	run_call(VM1, h, pa, &log);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(log.n, 0);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_UNREGISTER_SHM, FFA_HANDLE_LO(h),
		   FFA_HANDLE_HI(h), 0, 0);
	assert_int_equal(reclaim(h), 0);
	assert_int_equal(mem.violations, 0);
}

static void test_register_shm_is_not_implemented_over_ffa(void **state)
{
	struct optee_msg_arg *a;
	uint64_t pa, h;
	struct r8 r;

	(void)state;
	h = share_buf(VM1, 1, &pa);
	a = msg_at(pa);
	a->cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	a->num_params = 1;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	r = run_call(VM1, h, pa, NULL);
	assert_int_equal(r.a[3], TEEC_ERROR_NOT_IMPLEMENTED);
	/* A bad handle or offset: BAD_PARAMETERS in w3. */
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG, 0x1234, 0,
		   0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
		   FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), PG, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0, 0, 1);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);
}

static void test_absent_ta_goes_through_the_rpcs(void **state)
{
	static const uint8_t absent[16] = { 1, 2, 3, 4 };
	struct rpc_log log = { 0 };
	uint64_t pa, h;
	struct r8 r;

	(void)state;
	h = share_buf(VM1, 1, &pa);
	open_msg(pa, absent);
	r = run_call(VM1, h, pa, &log);
	assert_int_equal(r.a[3], 0);
	assert_int_equal(msg_at(pa)->ret, TEEC_ERROR_ITEM_NOT_FOUND);
	assert_int_equal(log.n, 5);
	assert_int_equal(log.cmds[0], OPTEE_RPC_CMD_SHM_ALLOC);
	assert_int_equal(log.cmds[1], OPTEE_RPC_CMD_FS);
	assert_int_equal(log.cmds[3], OPTEE_RPC_CMD_LOAD_TA);
	assert_int_equal(log.cmds[4], OPTEE_RPC_CMD_SHM_FREE);
	/* The file name went into the SHM_ALLOC share. */
	assert_string_equal((char *)ptr(log.alloc_pa), "dirh.db");
	/* OP-TEE let go of it before SHM_FREE: it can be reclaimed. */
	assert_int_equal(reclaim(log.alloc_handle), 0);
	assert_int_equal(mem.violations, 0);
}

static void test_thread_limit_and_interrupts(void **state)
{
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	struct optee_msg_arg *a, *b;
	uint64_t pa, pb, ha, hb;
	uint32_t session;
	struct r8 r, s;

	(void)state;
	tg_model_destroy(m);
	model_up(1);
	ha = share_buf(VM1, 1, &pa);
	hb = share_buf(VM2, 1, &pb);
	open_msg(pa, yield_uuid);
	r = run_call(VM1, ha, pa, NULL);
	a = msg_at(pa);
	session = a->session;
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 2;
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
		   FFA_HANDLE_LO(ha), FFA_HANDLE_HI(ha), 0, 0);
	assert_int_equal(r.a[4], OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
	/* The only thread is taken: BUSY for anyone. */
	b = msg_at(pb);
	b->cmd = OPTEE_MSG_CMD_CANCEL;
	s = direct(VM2, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
		   FFA_HANDLE_LO(hb), FFA_HANDLE_HI(hb), 0, 0);
	assert_int_equal(s.a[3], TEE_BUSY);
	/* VM 2 cannot resume VM 1's thread. */
	s = direct(VM2, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0, 0,
		   r.a[7]);
	assert_int_equal(s.a[3], TEEC_ERROR_BAD_PARAMETERS);
	while (r.a[4] != OPTEE_FFA_YIELDING_CALL_RETURN_DONE)
		r = direct(VM1, OPTEE, 0, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0,
			   0, r.a[7]);
	assert_int_equal(r.a[3], 0);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.b, 2);
}

static void test_notifications(void **state)
{
	static const uint8_t notify_uuid[16] = MODEL_TA_NOTIFY_UUID;
	struct rpc_log log = { 0 };
	struct optee_msg_arg *a;
	uint64_t pa, h;
	uint32_t session;
	struct r8 r;

	(void)state;
	r = call(FFA_NOTIFICATION_BITMAP_CREATE, VM1, 1, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	r = call(FFA_NOTIFICATION_BITMAP_CREATE, VM1, 1, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	r = call(FFA_NOTIFICATION_BITMAP_CREATE, 9, 1, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	r = call(FFA_NOTIFICATION_BIND, FFA_PACK_IDS(OPTEE, VM1), 0, 1u << 3,
		 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	r = call(FFA_NOTIFICATION_BIND, FFA_PACK_IDS(OPTEE, VM1), 0, 1u << 3,
		 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	r = call(FFA_NOTIFICATION_BIND, FFA_PACK_IDS(OPTEE, VM1), 1, 1u << 4,
		 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED); /* per vCPU */
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_ENABLE_ASYNC_NOTIF, 3, 0, 0, 0);
	assert_int_equal(r.a[3], 0);
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_ENABLE_ASYNC_NOTIF, 64, 0, 0, 0);
	assert_int_equal(r.a[3], TEEC_ERROR_BAD_PARAMETERS);
	r = call(FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_NO_DATA);

	h = share_buf(VM1, 1, &pa);
	open_msg(pa, notify_uuid);
	run_call(VM1, h, pa, &log);
	a = msg_at(pa);
	session = a->session;
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->func = MODEL_TA_NOTIFY_CMD_ASYNC;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[0].u.value.a = 5;
	run_call(VM1, h, pa, &log);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(mem.irqs, 1);

	r = call(FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_64);
	assert_int_equal((r.a[2] >> FFA_NOTIF_INFO_LIST_COUNT_SHIFT) & 0x1F, 1);
	assert_int_equal(r.a[3] & 0xFFFF, VM1);
	/* The bound bit cannot be unbound while pending. */
	r = call(FFA_NOTIFICATION_UNBIND, FFA_PACK_IDS(OPTEE, VM1), 0, 1u << 3,
		 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED);
	r = call(FFA_NOTIFICATION_GET, VM1, FFA_NOTIF_GET_FLAG_SP, 0, 0, 0, 0,
		 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2], 1u << 3);
	r = call(FFA_NOTIFICATION_GET, VM1, FFA_NOTIF_GET_FLAG_SP, 0, 0, 0, 0,
		 0);
	assert_int_equal(r.a[2], 0);

	/* The bottom half sends the value as RPC NOTIFICATION SEND. */
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	log.n = 0;
	run_call(VM1, h, pa, &log);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.cmds[0], OPTEE_RPC_CMD_NOTIFICATION);

	r = call(FFA_NOTIFICATION_BITMAP_DESTROY, VM1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_DENIED); /* still bound */
	r = call(FFA_NOTIFICATION_UNBIND, FFA_PACK_IDS(OPTEE, VM1), 0, 1u << 3,
		 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	r = call(FFA_NOTIFICATION_BITMAP_DESTROY, VM1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
}

static void test_shares_of_a_destroyed_vm_stay_reclaimable(void **state)
{
	uint64_t pa, h;

	(void)state;
	h = share_buf(VM2, 1, &pa);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_DESTROYED, VM2), 0);
	assert_int_equal(tg_model_ffa_shares(m, VM2), 1); /* an orphan */
	assert_int_equal(reclaim(h), 0);
	assert_int_equal(tg_model_ffa_shares(m, VM2), 0);
	assert_int_equal(reclaim(h), FFA_RET_INVALID_PARAMETERS);
}

/* OP-TEE 4.10's bugs, when the model is asked to have them. */
static void test_optee_4_10_bugs(void **state)
{
	struct tg_model_config cfg = { .ffa = true,
				       .ffa_optee_4_10_bugs = true };
	struct tg_sw_mem sw = { .map = map, .notif_irq = notif_irq };
	uint64_t h[64], pa;
	struct share s;
	uint32_t len;
	struct r8 r;

	(void)state;
	tg_model_destroy(m);
	assert_int_equal(tg_model_create(&cfg, &sw, &m), 0);
	call(FFA_VERSION, FFA_VERSION_1_1, 0, 0, 0, 0, 0, 0);
	r = call(FFA_RXTX_MAP_64, tx_pa, rx_pa, 1, 0, 0, 0, 0);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(vm_msg(FFA_MSG_SEND_VM_CREATED, VM1), 0);
	/* Fragments: refused, whatever they hold. */
	share_init(&s, VM1, 4);
	len = desc_write(&s, ptr(tx_pa));
	r = call(FFA_MEM_SHARE_32, len, len - 32, 0, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_INVALID_PARAMETERS);
	/* A VM it does not know: SUCCESS, handle 0. */
	share_init(&s, VM2, 1);
	r = share_send(&s);
	assert_int_equal(r.a[0], FFA_SUCCESS_32);
	assert_int_equal(r.a[2] | r.a[3], 0);
	/* The 65th share of a guest: refused, and index 0 lost... */
	for (int i = 0; i < 64; i++) {
		(void)share_buf(VM1, 1, &pa);
		h[i] = 0;
	}
	share_init(&s, VM1, 1);
	r = share_send(&s);
	assert_int_equal(err_of(&r), FFA_RET_NO_MEMORY);
	assert_false(tg_model_panicked(m));
	/* ...so reclaiming the share of index 0 panics OP-TEE. */
	h[0] = (1ull << 44) | ((uint64_t)VM1 << 16);
	(void)reclaim(h[0]); /* OP-TEE never answers this one */
	assert_true(tg_model_panicked(m));
	r = direct(VM1, OPTEE, 0, OPTEE_FFA_GET_API_VERSION, 0, 0, 0, 0);
	assert_int_equal(err_of(&r), FFA_RET_ABORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_smc_abi_is_unknown_behind_the_spmd),
		T(test_version_ids_and_features),
		T(test_rxtx_is_mapped_once_from_the_hypervisor_memory),
		T(test_partition_info_lists_optee_only),
		T(test_optee_blocking_calls),
		T(test_vm_availability_messages),
		T(test_share_and_reclaim),
		T(test_share_checks_what_optee_checks),
		T(test_share_of_a_foreign_page_is_refused_and_seen),
		T(test_fragments),
		T(test_64_shares_per_guest),
		T(test_yielding_calls_reach_the_ptas),
		T(test_register_shm_is_not_implemented_over_ffa),
		T(test_absent_ta_goes_through_the_rpcs),
		T(test_thread_limit_and_interrupts),
		T(test_notifications),
		T(test_shares_of_a_destroyed_vm_stay_reclaimable),
		T(test_optee_4_10_bugs),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
