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

#include <teegate/optee_abi.h>

#include "ffa_env.h"

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
		fe_die("an FF-A id not handled", r[0]);
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
		uint8_t *tx = fe_guest_page(g, 0);

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

	fe_setup();
	run(&in);
	fe_teardown();
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
