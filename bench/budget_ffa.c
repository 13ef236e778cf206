// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg_budget_ffa: instruction budgets of the FF-A mediator (src/ffa),
 * measured by tools/budget.sh exactly like tg_budget's: the inclusive
 * cost of the arc smc_measured -> tg_handle_smc, (I(N2) - I(N1)) /
 * (N2 - N1) per measured call.
 *
 * tg_handle_smc() is the library's: the core's entry, its domain
 * look-up and its dispatch to the FF-A mediator (struct tg_proto), over
 * bench/fake_port.c with a scripted fake SPMC instead of its fake OP-TEE:
 * the SPMC answers at once, so what is counted is the mediator's own work
 * and the cheapest port any hypervisor could have.
 *
 * Budgets (issue 12): a forwarded DIRECT_REQ at most 150 instructions;
 * MEM_SHARE at most 30 instructions per page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/ffa_abi.h>
#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#include "fake_port.h"
#include "ffa_med.h"

#define OPTEE_ID 0x8001u
#define SPMC_ID 0x8000u

static struct tg_mediator *med;
static void *(*port_shm_alloc)(void *ctx, uint32_t npages, uint64_t *pa);
static struct {
	uint64_t pa;
	void *va;
} shm_map[16];
static uint8_t *spmc_rx; /* the mediator's RX, as the SPMC sees it */
static uint64_t next_handle = 0x100000001000ull;
static uint32_t frag_total, frag_got;
static uint64_t unexpected;

static __attribute__((noinline, noipa)) bool smc_measured(uint64_t regs[8])
{
	return tg_handle_smc(med, FAKE_CLIENT_ID, 0, regs);
}

static __attribute__((noinline, noipa)) bool smc_other(uint64_t regs[8])
{
	return tg_handle_smc(med, FAKE_CLIENT_ID, 0, regs);
}

/* ---- a fake SPMC ----------------------------------------------------------- */

static void *shm_alloc_rec(void *ctx, uint32_t npages, uint64_t *pa)
{
	void *va = port_shm_alloc(ctx, npages, pa);

	for (size_t i = 0; va && i < 16; i++) {
		if (!shm_map[i].va) {
			shm_map[i].pa = *pa;
			shm_map[i].va = va;
			break;
		}
	}
	return va;
}

static void set(uint64_t r[8], uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
}

static void fake_spmc(void *ctx, uint64_t r[8])
{
	uint32_t fid = (uint32_t)r[0];

	(void)ctx;
	switch (fid) {
	case FFA_VERSION:
		set(r, FFA_VERSION_1_2, 0, 0, 0);
		break;
	case FFA_ID_GET:
		set(r, FFA_SUCCESS_32, 0, 0, 0);
		break;
	case FFA_SPM_ID_GET:
		set(r, FFA_SUCCESS_32, 0, SPMC_ID, 0);
		break;
	case FFA_FEATURES:
	case FFA_RX_RELEASE:
	case FFA_RXTX_UNMAP:
	case FFA_NOTIFICATION_BITMAP_CREATE:
	case FFA_NOTIFICATION_BITMAP_DESTROY:
	case FFA_NOTIFICATION_GET:
	case FFA_MEM_RECLAIM:
		set(r, FFA_SUCCESS_32, 0, 0, 0);
		break;
	case FFA_RXTX_MAP_64:
		for (size_t i = 0; i < 16; i++)
			if (shm_map[i].va && shm_map[i].pa == r[2])
				spmc_rx = shm_map[i].va;
		set(r, spmc_rx ? FFA_SUCCESS_32 : FFA_ERROR, 0, 0, 0);
		break;
	case FFA_PARTITION_INFO_GET: {
		struct ffa_partition_info pi = { 0 };

		pi.id = OPTEE_ID;
		pi.exec_ctx_count = 4;
		pi.properties = FFA_PART_PROP_DIRECT_REQ_RECV |
				FFA_PART_PROP_DIRECT_REQ_SEND |
				FFA_PART_PROP_NOTIF_VM_CREATED |
				FFA_PART_PROP_NOTIF_VM_DESTROYED;
		{
			uint32_t uuid[4] = { OPTEE_FFA_UUID_W0,
					     OPTEE_FFA_UUID_W1,
					     OPTEE_FFA_UUID_W2,
					     OPTEE_FFA_UUID_W3 };

			memcpy(pi.uuid, uuid, sizeof(uuid));
		}
		memcpy(spmc_rx, &pi, sizeof(pi));
		set(r, FFA_SUCCESS_32, 0, 1, sizeof(pi));
		break;
	}
	case FFA_MSG_SEND_DIRECT_REQ_32:
		if (r[2] & FFA_MSG_FLAG_FRAMEWORK) {
			set(r, FFA_MSG_SEND_DIRECT_RESP_32,
			    FFA_PACK_IDS(FFA_RECEIVER(r[1]), FFA_SENDER(r[1])),
			    FFA_MSG_FLAG_FRAMEWORK | ((r[2] & 0xFF) + 1), 0);
		} else {
			set(r, FFA_MSG_SEND_DIRECT_RESP_32,
			    FFA_PACK_IDS(FFA_RECEIVER(r[1]), FFA_SENDER(r[1])),
			    0, OPTEE_FFA_VERSION_MAJOR);
		}
		break;
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
		frag_total = (uint32_t)r[1];
		frag_got = (uint32_t)r[2];
		if (frag_got < frag_total)
			set(r, FFA_MEM_FRAG_RX, FFA_HANDLE_LO(next_handle),
			    FFA_HANDLE_HI(next_handle), frag_got);
		else
			set(r, FFA_SUCCESS_32, 0, FFA_HANDLE_LO(next_handle),
			    FFA_HANDLE_HI(next_handle));
		if (frag_got >= frag_total)
			next_handle++;
		break;
	case FFA_MEM_FRAG_TX:
		frag_got += (uint32_t)r[3];
		if (frag_got < frag_total) {
			set(r, FFA_MEM_FRAG_RX, FFA_HANDLE_LO(next_handle),
			    FFA_HANDLE_HI(next_handle), frag_got);
		} else {
			set(r, FFA_SUCCESS_32, 0, FFA_HANDLE_LO(next_handle),
			    FFA_HANDLE_HI(next_handle));
			next_handle++;
		}
		break;
	default:
		unexpected++;
		set(r, FFA_ERROR, 0, (uint32_t)FFA_RET_NOT_SUPPORTED, 0);
		break;
	}
}

/* ---- scenarios ------------------------------------------------------------ */

static __attribute__((noreturn)) void die(const char *what, uint64_t a0)
{
	fprintf(stderr, "tg_budget_ffa: %s (a0 = %#" PRIx64 ")\n", what, a0);
	exit(1);
}

#define TX_IPA (FAKE_GUEST_IPA_BASE)
#define RX_IPA (FAKE_GUEST_IPA_BASE + 4096)
#define DATA_IPA (FAKE_GUEST_IPA_BASE + 16 * 4096)

static uint32_t share_pages;
static uint32_t share_len;

static void setup_guest(void)
{
	uint64_t r[8] = { FFA_VERSION, FFA_VERSION_1_2 };

	smc_other(r);
	set(r, FFA_RXTX_MAP_64, TX_IPA, RX_IPA, 1);
	smc_other(r);
	if (r[0] != FFA_SUCCESS_32)
		die("RXTX_MAP", r[0] == FFA_ERROR ? r[2] : r[0]);
}

/* The descriptor of a share of @pages pages at DATA_IPA, in TX. */
static void write_share(uint32_t pages)
{
	uint8_t *tx = fake_guest_ptr(TX_IPA);
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_constituent k = { DATA_IPA, pages, 0 };
	uint32_t off = FFA_MEM_TRANS_SIZE;

	t.sender_id = FAKE_CLIENT_ID;
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = FFA_MEM_ACCESS_1_2_SIZE;
	t.access_count = 1;
	t.access_offset = off;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = OPTEE_ID;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = off + FFA_MEM_ACCESS_1_2_SIZE;
	c.total_page_count = pages;
	c.constituent_count = 1;
	memcpy(tx, &t, sizeof(t));
	memcpy(tx + off, &a, sizeof(a));
	off += FFA_MEM_ACCESS_1_2_SIZE;
	memcpy(tx + off, &c, sizeof(c));
	off += sizeof(c);
	memcpy(tx + off, &k, sizeof(k));
	share_len = off + (uint32_t)sizeof(k);
	share_pages = pages;
}

static void setup_share(uint32_t pages)
{
	setup_guest();
	write_share(pages);
}

static void setup_none(void)
{
	setup_guest();
}

static void setup_share1(void)
{
	setup_share(1);
}

static void setup_share1024(void)
{
	setup_share(1024);
}

static void iter_direct_req(void)
{
	uint64_t r[8] = { FFA_MSG_SEND_DIRECT_REQ_32,
			  FFA_PACK_IDS(FAKE_CLIENT_ID, OPTEE_ID), 0,
			  OPTEE_FFA_GET_API_VERSION };

	smc_measured(r);
	if (r[0] != FFA_MSG_SEND_DIRECT_RESP_32)
		die("direct request", r[0]);
}

static void iter_share(void)
{
	uint64_t r[8];

	set(r, FFA_MEM_SHARE_32, share_len, share_len, 0);
	smc_measured(r);
	if (r[0] != FFA_SUCCESS_32)
		die("MEM_SHARE", r[0]);
	set(r, FFA_MEM_RECLAIM, r[2], r[3], 0);
	smc_other(r);
	if (r[0] != FFA_SUCCESS_32)
		die("MEM_RECLAIM", r[0]);
}

static void iter_id_get(void)
{
	uint64_t r[8] = { FFA_ID_GET };

	smc_measured(r);
	if (r[0] != FFA_SUCCESS_32)
		die("ID_GET", r[0]);
}

struct scenario {
	const char *name;
	const char *title;
	uint32_t divisor;
	uint32_t budget;
	const char *xen;
	uint32_t n1, n2;
	void (*setup)(void);
	void (*iter)(void);
};

static const struct scenario scenarios[] = {
	{ "ffa_id_get", "FFA_ID_GET (emulated)", 1, 0, "n/a", 200, 1200,
	  setup_none, iter_id_get },
	{ "ffa_direct_req", "FF-A DIRECT_REQ_32 (forwarded)", 1, 150, "n/a",
	  200, 1200, setup_none, iter_direct_req },
	{ "ffa_share_1", "FF-A MEM_SHARE, 1 page", 1, 0, "n/a", 50, 300,
	  setup_share1, iter_share },
	{ "ffa_share_1024", "FF-A MEM_SHARE 1024 pages, per page", 1024, 30,
	  "n/a (max 256 pages)", 4, 24, setup_share1024, iter_share },
};

#define NUM_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void list(void)
{
	printf("# build type: %s\n", TG_BUDGET_BUILD_TYPE);
	printf("# name\tdivisor\tbudget\txen\tn1\tn2\ttitle\n");
	for (size_t i = 0; i < NUM_SCENARIOS; i++) {
		const struct scenario *s = &scenarios[i];

		printf("%s\t%u\t%u\t%s\t%u\t%u\t%s\n", s->name, s->divisor,
		       s->budget, s->xen, s->n1, s->n2, s->title);
	}
}

static int run(const struct scenario *s, unsigned long iterations)
{
	struct tg_port port;
	struct tg_config cfg = { .protocol = TG_PROTOCOL_FFA };
	int steps = 0;

	fake_port_init(&port);
	port_shm_alloc = port.shm_alloc;
	port.shm_alloc = shm_alloc_rec;
	port.smc = fake_spmc;
	if (tg_mediator_create(&port, &cfg, &med))
		die("tg_mediator_create", 0);
	if (tg_domain_create(med, FAKE_CLIENT_ID, NULL))
		die("tg_domain_create", 0);
	s->setup();
	for (unsigned long i = 0; i < iterations; i++)
		s->iter();
	while (tg_domain_destroy(med, FAKE_CLIENT_ID) == TG_AGAIN &&
	       ++steps < 1000000)
		;
	if (fake_pinned_pages())
		fprintf(stderr, "tg_budget_ffa: warning: %" PRIu64
			" pages still pinned after destroy\n",
			fake_pinned_pages());
	if (tg_mediator_destroy(med))
		die("tg_mediator_destroy", 0);
	if (unexpected) {
		fprintf(stderr, "tg_budget_ffa: the fake SPMC saw %" PRIu64
			" unexpected requests\n", unexpected);
		return 1;
	}
	return 0;
}

/* ---- memory ------------------------------------------------------------- */

#define MEM_DOMAINS 32u
#define MEM_MAX_DOMAINS 64u

static uint64_t mediator_bytes(void)
{
	return fake_alloc_bytes() + fake_shm_pages_in_use() * TG_PAGE_SIZE;
}

static int mem_row(const char *what, double bytes, const char *detail,
		   double goal)
{
	int over = goal > 0 && bytes > goal;
	char g[16] = "-";

	if (goal > 0)
		snprintf(g, sizeof(g), "%.0f", goal);
	printf("| %-44s | %9.2f | %-42s | %5s | %-6s |\n", what, bytes, detail,
	       g, goal > 0 ? (over ? "FAIL" : "PASS") : "report");
	return over;
}

/* Bytes held while a share of @pages pages is live (guest FAKE_CLIENT_ID). */
static uint64_t shared_bytes(uint32_t pages)
{
	uint64_t before, during, r[8];

	write_share(pages);
	before = mediator_bytes();
	set(r, FFA_MEM_SHARE_32, share_len, share_len, 0);
	smc_other(r);
	if (r[0] != FFA_SUCCESS_32)
		die("MEM_SHARE", r[0]);
	during = mediator_bytes();
	set(r, FFA_MEM_RECLAIM, r[2], r[3], 0);
	smc_other(r);
	if (r[0] != FFA_SUCCESS_32 || mediator_bytes() != before)
		die("MEM_RECLAIM left memory", mediator_bytes() - before);
	return during - before;
}

/*
 * What the FF-A mediator holds (alloc() as asked, an shm page as 4096),
 * as tg_budget --memory measures the OP-TEE one: per idle domain, per
 * guest RX/TX, per page shared.
 */
static int memory(void)
{
	struct tg_config cfg = { .max_domains = MEM_MAX_DOMAINS,
				 .protocol = TG_PROTOCOL_FFA };
	uint64_t table, d0, m1, rx0, rx1, b1, b16k;
	struct tg_port port;
	double per_domain, share, per_page;
	char detail[64];
	uint64_t r[8];
	int over = 0;

	fake_port_init(&port);
	port_shm_alloc = port.shm_alloc;
	port.shm_alloc = shm_alloc_rec;
	port.smc = fake_spmc;
	if (tg_mediator_create(&port, &cfg, &med))
		die("tg_mediator_create", 0);
	table = mediator_bytes();
	if (tg_domain_create(med, FAKE_CLIENT_ID, NULL))
		die("tg_domain_create", 0);
	d0 = mediator_bytes();
	for (uint32_t i = 0; i < MEM_DOMAINS; i++)
		if (tg_domain_create(med, FAKE_CLIENT_ID + 1 + i, NULL))
			die("tg_domain_create", i);
	m1 = mediator_bytes();
	per_domain = (double)(m1 - d0) / MEM_DOMAINS;
	share = (double)(table - 33u * TG_PAGE_SIZE) / MEM_MAX_DOMAINS;
	rx0 = mediator_bytes();
	setup_guest();
	rx1 = mediator_bytes();
	b1 = shared_bytes(1);
	b16k = shared_bytes(16384);
	per_page = (double)(b16k - b1) / (16384 - 1);

	printf("# build type: %s\n", TG_BUDGET_BUILD_TYPE);
	printf("FF-A mediator memory: bytes the fake port allocated for it "
	       "(alloc() as asked, an\nshm page as 4096), as differences "
	       "over N; default limits.\n\n");
	printf("| %-44s | %9s | %-42s | %5s | %-6s |\n", "what", "bytes",
	       "how measured", "goal", "result");
	printf("|----------------------------------------------|-----------|"
	       "--------------------------------------------|-------|"
	       "--------|\n");
	snprintf(detail, sizeof(detail), "%.0f created + %.0f table share",
		 per_domain, share);
	over |= mem_row("per idle domain", per_domain + share, detail, 4096);
	over |= mem_row("per guest RX/TX (1 page each)", (double)(rx1 - rx0),
			"RXTX_MAP: the copy of its TX", 0);
	over |= mem_row("per page shared", per_page,
			"(64 MiB share - 1-page share) / 16383", 16);
	over |= mem_row("per share, besides its pages", (double)b1 - per_page,
			"1-page share - per page", 0);
	over |= mem_row("mediator, no domain (max_domains 64)", (double)table,
			"tg_mediator_create(): 33 shm pages RX/TX", 0);
	for (uint32_t i = 0; i <= MEM_DOMAINS; i++)
		while (tg_domain_destroy(med, FAKE_CLIENT_ID + i) == TG_AGAIN)
			;
	if (tg_mediator_destroy(med))
		die("tg_mediator_destroy", 0);
	(void)r;
	return over;
}

int main(int argc, char **argv)
{
	unsigned long iterations;
	char *end;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		list();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--memory"))
		return memory();
	if (argc != 3) {
		fprintf(stderr,
			"usage: tg_budget_ffa --list | --memory | SCENARIO N\n");
		return 2;
	}
	iterations = strtoul(argv[2], &end, 10);
	if (*end || end == argv[2])
		return 2;
	for (size_t i = 0; i < NUM_SCENARIOS; i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return run(&scenarios[i], iterations);
	fprintf(stderr, "tg_budget_ffa: unknown scenario '%s'\n", argv[1]);
	return 2;
}
