// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the FF-A mediator (src/ffa), above all its
 * descriptor parser: fuzzer bytes become the guests' TX buffers and the
 * registers of their FF-A calls (MEM_SHARE/LEND, FRAG_TX, RECLAIM, direct
 * requests, notifications, RX/TX, anything in the FF-A range), with the
 * model as OP-TEE's S-EL1 SPMC behind the mediator.
 *
 * Invariants, each an abort (a crash for libFuzzer):
 *   - the SPMC only ever touches pages of the VM it acts for, or pages of
 *     the mediator (an ownership oracle in map());
 *   - a page is pinned only for the guest that owns it;
 *   - after every domain is destroyed: no pin, no share in the SPMC, no
 *     mediator memory or shm page left.
 *
 * Also built without libFuzzer as fuzz_ffa_replay (tests/CMakeLists.txt):
 * it runs the committed seeds and some random inputs, in `make test`.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>
#include <teegate/tee_model.h>

#include "ffa_med.h"

#define PAGE 4096u
#define PA_BASE 0x40000000ull
#define NPAGES 1024u
#define POOL_PAGES 128u
#define GUESTS 2u
#define GUEST_PAGES 256u
#define OWNER_MEDIATOR 0xFFFFu

static struct {
	uint8_t *mem;
	uint16_t owner[NPAGES];
	uint32_t pins[NPAGES];
	uint64_t p2m[GUESTS][GUEST_PAGES]; /* IPA page -> PA */
	bool pool_used[POOL_PAGES];
	long allocs;
	struct tg_model *model;
	struct tgf_med *fm;
	struct tgf_dom *dom[GUESTS];
} env;

static void die(const char *what, uint64_t v)
{
	fprintf(stderr, "fuzz_ffa invariant broken: %s (%#llx)\n", what,
		(unsigned long long)v);
	abort();
}

#define IPA_BASE 0x40000000ull

static uint32_t pfn(uint64_t pa)
{
	return (uint32_t)((pa - PA_BASE) / PAGE);
}

static bool pa_ok(uint64_t pa)
{
	return pa >= PA_BASE && pa < PA_BASE + (uint64_t)NPAGES * PAGE;
}

/* ---- the secure world's view: the oracle ------------------------------- */

static void *sw_map(void *ctx, uint32_t client, uint64_t pa, uint32_t len,
		    bool write)
{
	uint16_t owner;

	(void)ctx;
	(void)write;
	if (!pa_ok(pa) || (pa % PAGE) + len > PAGE)
		return NULL;
	owner = env.owner[pfn(pa)];
	/* The mediator's pages (its RX/TX, its dummy page) are fine. */
	if (owner == OWNER_MEDIATOR)
		return env.mem + (pa - PA_BASE);
	if (owner != client || !client)
		die("SPMC touched a page not of the VM it acts for", pa);
	if (!env.pins[pfn(pa)])
		die("SPMC touched a page nobody pinned", pa);
	return env.mem + (pa - PA_BASE);
}

static void sw_irq(void *ctx)
{
	(void)ctx;
}

/* ---- the port ----------------------------------------------------------- */

struct tg_lock {
	int dummy;
};

static int p_pin(void *ctx, uint32_t client, const uint64_t *ipa, uint64_t *pa,
		 uint32_t n)
{
	uint32_t g = client - 1;

	(void)ctx;
	if (!client || g >= GUESTS)
		die("pin for no guest", client);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t page = (ipa[i] - IPA_BASE) / PAGE;

		if ((ipa[i] % PAGE) || ipa[i] < IPA_BASE ||
		    page >= GUEST_PAGES)
			return TG_EFAULT;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t p = env.p2m[g][(ipa[i] - IPA_BASE) / PAGE];

		if (env.owner[pfn(p)] != client)
			die("p2m gives another's page", p);
		env.pins[pfn(p)]++;
		pa[i] = p; /* may alias ipa[]: each read before written */
	}
	return TG_OK;
}

static void p_unpin(void *ctx, uint32_t client, const uint64_t *pa,
		    uint32_t n)
{
	(void)ctx;
	for (uint32_t i = 0; i < n; i++) {
		if (!pa_ok(pa[i]) || env.owner[pfn(pa[i])] != client ||
		    !env.pins[pfn(pa[i])])
			die("unpin of a page not pinned for this guest", pa[i]);
		env.pins[pfn(pa[i])]--;
	}
}

static int guest_bytes(uint32_t client, uint64_t ipa, uint32_t len,
		       uint8_t **p)
{
	uint32_t g = client - 1;
	uint64_t page, off;

	if (!client || g >= GUESTS || ipa < IPA_BASE)
		return TG_EFAULT;
	page = (ipa - IPA_BASE) / PAGE;
	off = ipa % PAGE;
	/* The harness maps guest RAM contiguously in PA: one lookup. */
	if (page >= GUEST_PAGES || len > (GUEST_PAGES - page) * PAGE - off)
		return TG_EFAULT;
	*p = env.mem + (env.p2m[g][page] - PA_BASE) + off;
	return TG_OK;
}

static int p_from(void *ctx, uint32_t client, void *dst, uint64_t ipa,
		  uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (guest_bytes(client, ipa, len, &p))
		return TG_EFAULT;
	memcpy(dst, p, len);
	return TG_OK;
}

static int p_to(void *ctx, uint32_t client, uint64_t ipa, const void *src,
		uint32_t len)
{
	uint8_t *p;

	(void)ctx;
	if (guest_bytes(client, ipa, len, &p))
		return TG_EFAULT;
	memcpy(p, src, len);
	return TG_OK;
}

static void *p_alloc(void *ctx, size_t size)
{
	(void)ctx;
	env.allocs++;
	return malloc(size ? size : 1);
}

static void p_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	if (ptr)
		env.allocs--;
	free(ptr);
}

static void *p_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	uint32_t run = 0;

	(void)ctx;
	for (uint32_t i = 0; i < POOL_PAGES; i++) {
		run = env.pool_used[i] ? 0 : run + 1;
		if (run == npages) {
			uint32_t first = i + 1 - npages;

			for (uint32_t k = first; k <= i; k++)
				env.pool_used[k] = true;
			*pa = PA_BASE + (uint64_t)first * PAGE;
			return env.mem + (size_t)first * PAGE;
		}
	}
	return NULL;
}

static void p_shm_free(void *ctx, void *va, uint32_t npages)
{
	uint32_t first = (uint32_t)(((uint8_t *)va - env.mem) / PAGE);

	(void)ctx;
	for (uint32_t k = first; k < first + npages; k++)
		env.pool_used[k] = false;
}

static void p_smc(void *ctx, uint64_t regs[8])
{
	(void)ctx;
	tg_model_smc(env.model, regs);
}

static struct tg_lock the_lock;

static struct tg_lock *p_lock_create(void *ctx)
{
	(void)ctx;
	env.allocs++;
	return &the_lock;
}

static void p_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
	env.allocs--;
}

static void p_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	(void)l;
}

static const struct tg_port port = {
	.pin_pages = p_pin,
	.unpin_pages = p_unpin,
	.copy_from_guest = p_from,
	.copy_to_guest = p_to,
	.alloc = p_alloc,
	.free = p_free,
	.shm_alloc = p_shm_alloc,
	.shm_free = p_shm_free,
	.smc = p_smc,
	.lock_create = p_lock_create,
	.lock_destroy = p_lock_destroy,
	.lock = p_lock,
	.unlock = p_lock,
};

/* ---- one run ------------------------------------------------------------ */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint64_t u64(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)u8(in) << (8 * i);
	return v;
}

static uint32_t u32(struct in *in)
{
	return (uint32_t)u64(in);
}

static void setup(void)
{
	struct tg_model_config mc = { .ffa = true, .threads = 2 };
	struct tg_sw_mem sw = { .map = sw_map, .notif_irq = sw_irq };
	uint32_t next = POOL_PAGES;

	memset(&env, 0, sizeof(env));
	env.mem = calloc(NPAGES, PAGE);
	if (!env.mem)
		abort();
	for (uint32_t i = 0; i < POOL_PAGES; i++)
		env.owner[i] = OWNER_MEDIATOR;
	for (uint32_t g = 0; g < GUESTS; g++) {
		for (uint32_t i = 0; i < GUEST_PAGES; i++) {
			env.owner[next] = (uint16_t)(g + 1);
			env.p2m[g][i] = PA_BASE + (uint64_t)next * PAGE;
			next++;
		}
	}
	if (tg_model_create(&mc, &sw, &env.model))
		abort();
	if (tgf_probe(&port, NULL, &env.fm, NULL))
		die("probe failed", 0);
	for (uint32_t g = 0; g < GUESTS; g++)
		if (tgf_domain_init(env.fm, g + 1, NULL, &env.dom[g]))
			die("domain init failed", g);
}

static void teardown(void)
{
	for (uint32_t g = 0; g < GUESTS; g++) {
		uint32_t steps = 0;

		while (tgf_domain_destroy_step(env.fm, env.dom[g]) == TG_AGAIN)
			if (++steps > 1000000)
				die("destruction does not end", g);
		tgf_domain_free(env.fm, env.dom[g]);
	}
	if (tg_model_ffa_shares(env.model, UINT32_MAX))
		die("SPMC still holds shares",
		    tg_model_ffa_shares(env.model, UINT32_MAX));
	for (uint32_t i = 0; i < NPAGES; i++)
		if (env.pins[i])
			die("page left pinned", PA_BASE + (uint64_t)i * PAGE);
	tgf_fini(env.fm);
	tg_model_destroy(env.model);
	for (uint32_t i = 0; i < POOL_PAGES; i++)
		if (env.pool_used[i])
			die("shm page left", i);
	if (env.allocs)
		die("mediator memory left", (uint64_t)env.allocs);
	free(env.mem);
}

/* A plausible descriptor in TX, mutated by the fuzzer afterwards. */
static uint32_t seed_desc(uint8_t *tx, uint16_t sender, struct in *in)
{
	uint32_t n = (u8(in) % 6) + 1, off;
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };

	t.sender_id = sender;
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = FFA_MEM_ACCESS_1_2_SIZE;
	t.access_count = 1;
	t.access_offset = FFA_MEM_TRANS_SIZE;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = 0x8001;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = FFA_MEM_TRANS_SIZE + FFA_MEM_ACCESS_1_2_SIZE;
	c.constituent_count = n;
	off = a.composite_offset + FFA_MEM_COMPOSITE_SIZE;
	for (uint32_t i = 0; i < n; i++) {
		struct ffa_mem_constituent k = { 0 };

		k.address = IPA_BASE + (uint64_t)(8 + u8(in) % 200) * PAGE;
		k.page_count = 1 + u8(in) % 8;
		c.total_page_count += k.page_count;
		memcpy(tx + off + i * FFA_MEM_CONSTITUENT_SIZE, &k, sizeof(k));
	}
	memcpy(tx, &t, sizeof(t));
	memcpy(tx + FFA_MEM_TRANS_SIZE, &a, sizeof(a));
	memcpy(tx + a.composite_offset, &c, sizeof(c));
	return off + n * FFA_MEM_CONSTITUENT_SIZE;
}

static void call(uint32_t g, uint64_t r[8])
{
	if (!tgf_handle(env.fm, env.dom[g], 0, r) && FFA_IS_FFA_FID(r[0]))
		die("an FF-A id not handled", r[0]);
}

static void run(struct in *in)
{
	uint64_t r[8];
	uint64_t handles[16] = { 0 };
	uint32_t nh = 0;

	/* Both guests: version, RX/TX at IPA pages 0 (TX) and 1 (RX). */
	for (uint32_t g = 0; g < GUESTS; g++) {
		uint64_t v[8] = { FFA_VERSION, FFA_VERSION_1_2 };
		uint64_t m[8] = { FFA_RXTX_MAP_64, IPA_BASE, IPA_BASE + PAGE,
				  1 };

		call(g, v);
		call(g, m);
	}
	for (uint32_t step = 0; step < 64 && in->n; step++) {
		uint32_t g = u8(in) % GUESTS;
		uint8_t op = u8(in);
		uint8_t *tx = env.mem + (env.p2m[g][0] - PA_BASE);

		memset(r, 0, sizeof(r));
		switch (op % 8) {
		case 0: /* a descriptor, then a few bytes flipped */
		case 1: {
			uint32_t len = seed_desc(tx, (uint16_t)(g + 1), in);
			uint32_t flips = u8(in) % 4;

			for (uint32_t i = 0; i < flips; i++)
				tx[u8(in) % (len + 8)] ^= u8(in);
			r[0] = op % 8 ? FFA_MEM_LEND_32 : FFA_MEM_SHARE_64;
			r[1] = (u8(in) & 1) ? len : u32(in);
			r[2] = (u8(in) & 3) ? len : u32(in) % (len + 1);
			call(g, r);
			if ((r[0] == FFA_SUCCESS_32 || r[0] == FFA_SUCCESS_64) &&
			    nh < 16)
				handles[nh++] = FFA_HANDLE_PACK(r[2], r[3]);
			break;
		}
		case 2: /* raw bytes in TX, raw registers */
			for (uint32_t i = 0; i < 512 && in->n; i++)
				tx[i] = u8(in);
			r[0] = FFA_MEM_SHARE_32;
			r[1] = u32(in) % 1024;
			r[2] = u32(in) % 1024;
			call(g, r);
			break;
		case 3: /* the next fragment */
			for (uint32_t i = 0; i < 64 && in->n; i++)
				tx[i] = u8(in);
			r[0] = FFA_MEM_FRAG_TX;
			r[1] = u32(in);
			r[2] = u32(in);
			r[3] = u32(in) % 256;
			call(g, r);
			break;
		case 4: /* reclaim: one of ours, or anything */
			r[0] = FFA_MEM_RECLAIM;
			if (nh && (u8(in) & 1)) {
				uint64_t h = handles[u8(in) % nh];

				r[1] = FFA_HANDLE_LO(h);
				r[2] = FFA_HANDLE_HI(h);
			} else {
				r[1] = u32(in);
				r[2] = u32(in);
			}
			call(g, r);
			break;
		case 5: /* a direct request with any registers */
			r[0] = (u8(in) & 1) ? FFA_MSG_SEND_DIRECT_REQ_32
					    : FFA_MSG_SEND_DIRECT_REQ_64;
			for (int i = 1; i < 8; i++)
				r[i] = (u8(in) & 1) ? u64(in) : u8(in);
			if (u8(in) & 1)
				r[1] = FFA_PACK_IDS(g + 1, 0x8001);
			call(g, r);
			break;
		default: /* any FF-A function, any registers */
			r[0] = FFA_FN_32(0x60 + u8(in) % 0x40) |
			       ((u8(in) & 1) ? 0x40000000u : 0);
			for (int i = 1; i < 8; i++)
				r[i] = (u8(in) & 1) ? u64(in) : u8(in);
			call(g, r);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	setup();
	run(&in);
	teardown();
	return 0;
}

#ifdef FUZZ_REPLAY
/*
 * Without libFuzzer: each file given, then @argv[1]-seeded random inputs
 * ("random N SEED"), so that `make test` exercises the harness.
 */
int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "random")) {
		unsigned long n = strtoul(argv[2], NULL, 0);
		uint64_t s = strtoull(argv[3], NULL, 0) | 1;
		uint8_t buf[2048];

		for (unsigned long k = 0; k < n; k++) {
			size_t len = 16 + (s % (sizeof(buf) - 16));

			for (size_t i = 0; i < sizeof(buf); i++) {
				s ^= s << 13;
				s ^= s >> 7;
				s ^= s << 17;
				buf[i] = (uint8_t)s;
			}
			LLVMFuzzerTestOneInput(buf, len);
		}
		printf("fuzz_ffa: %lu random inputs, no invariant broken\n", n);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t buf[65536];
		size_t len;

		if (!f) {
			fprintf(stderr, "fuzz_ffa: cannot open %s\n", argv[i]);
			return 2;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_ffa: %d inputs, no invariant broken\n", argc - 1);
	return 0;
}
#endif
