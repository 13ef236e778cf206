// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg_budget - drive tg_handle_smc() through one scenario, for callgrind.
 *
 *   tg_budget --list            scenarios, budgets and Xen's figures
 *   tg_budget SCENARIO N        set up, then run N iterations
 *   tg_budget --memory          mediator bytes per idle domain, per pinned
 *                               page and per open session (no valgrind)
 *
 * Every guest SMC goes through one of two wrappers: smc_measured() for the
 * call the scenario is about, smc_other() for set-up and for the other half
 * of a pair (e.g. the UNREGISTER after a measured REGISTER). tools/budget.sh
 * runs this under callgrind with --toggle-collect=tg_handle_smc and reads
 * the inclusive cost of the call arc smc_measured -> tg_handle_smc for two
 * iteration counts N1 < N2; (I(N2) - I(N1)) / (N2 - N1) is the exact
 * steady-state cost of one measured call, with warm-up, set-up and
 * first-call effects cancelled out.
 *
 * The guest side mimics Linux's OP-TEE driver: it writes a fresh
 * optee_msg_arg in its own page before every call and echoes a1..a3 of an
 * RPC return in RETURN_FROM_RPC. Every answer is checked (outside the
 * measured arc): a budget measured on an error path would be meaningless.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#include "fake_port.h"

#ifndef TG_BUDGET_BUILD_TYPE
#define TG_BUDGET_BUILD_TYPE "unknown"
#endif

/* Guest RAM layout, in guest page numbers. */
#define PG_ARG 0u            /* the message argument */
#define PG_LIST128 8u        /* page list of the 128-page buffer */
#define PG_LIST16 10u        /* page list of the 16-page TMEM */
#define PG_LIST4096 16u      /* 9 page-list pages of the 4096-page buffer */
#define PG_DATA4096 64u      /* 4096 data pages */
#define PG_DATA128 4200u     /* 128 data pages */
#define PG_DATA16 4400u      /* 16 data pages */
#define PG_LIST16384 4500u   /* 33 page-list pages of the 64 MiB buffer */
#define PG_LISTREGD 4600u    /* page list of the REGD_ARG buffer */
#define PG_REGD 4601u        /* the REGD_ARG buffer: one page */
#define PG_DATA16384 8192u   /* 16384 data pages (64 MiB) */

#define COOKIE_BUF 0x5eed0000c0ffee00ull
#define COOKIE_TMEM 0x7e77000000000001ull
#define COOKIE_REGD 0x4e6d000000000001ull

static inline uint64_t ipa_of(uint32_t guest_page)
{
	return FAKE_GUEST_IPA_BASE + ((uint64_t)guest_page << TG_PAGE_SHIFT);
}

static struct tg_mediator *med;
static uint32_t session_id;

/*
 * The two ways into the mediator. noinline and not a tail call, so that
 * callgrind records a distinct call arc for each; the vCPU numbers differ
 * so that identical-code folding cannot merge them either.
 */
static __attribute__((noinline)) bool smc_measured(uint64_t regs[8])
{
	bool handled = tg_handle_smc(med, FAKE_CLIENT_ID, 0, regs);

	__asm__ volatile("" ::: "memory");
	return handled;
}

static __attribute__((noinline)) bool smc_other(uint64_t regs[8])
{
	bool handled = tg_handle_smc(med, FAKE_CLIENT_ID, 1, regs);

	__asm__ volatile("" ::: "memory");
	return handled;
}

static __attribute__((noreturn)) void die(const char *what,
					  const uint64_t regs[8])
{
	const struct optee_msg_arg *arg = fake_guest_ptr(ipa_of(PG_ARG));

	fprintf(stderr,
		"tg_budget: %s\n  a0..a3 = %#" PRIx64 " %#" PRIx64 " %#" PRIx64
		" %#" PRIx64 "\n  arg: cmd %u ret %#x origin %u session %u\n"
		"  fake TEE: %" PRIu64 " smcs, %" PRIu64 " unexpected\n",
		what, regs[0], regs[1], regs[2], regs[3], arg->cmd, arg->ret,
		arg->ret_origin, arg->session, fake_tee_stats()->smcs,
		fake_tee_stats()->unexpected);
	exit(1);
}

/* ---- the guest's side -------------------------------------------------- */

static struct optee_msg_arg *guest_arg_at(uint32_t page, uint32_t cmd,
					  uint32_t num_params)
{
	struct optee_msg_arg *arg = fake_guest_ptr(ipa_of(page));

	memset(arg, 0, OPTEE_MSG_GET_ARG_SIZE(num_params));
	arg->cmd = cmd;
	arg->session = session_id;
	arg->num_params = num_params;
	return arg;
}

static struct optee_msg_arg *guest_arg(uint32_t cmd, uint32_t num_params)
{
	return guest_arg_at(PG_ARG, cmd, num_params);
}

static void std_call_regs(uint64_t regs[8])
{
	uint64_t ipa = ipa_of(PG_ARG);

	memset(regs, 0, 8 * sizeof(regs[0]));
	regs[0] = OPTEE_SMC_CALL_WITH_ARG;
	regs[1] = ipa >> 32;
	regs[2] = ipa & 0xFFFFFFFFu;
}

/* Issue the std call in the guest's arg page and check it succeeded. */
static void std_call_ok(bool (*smc)(uint64_t *), const char *what)
{
	const struct optee_msg_arg *arg = fake_guest_ptr(ipa_of(PG_ARG));
	uint64_t regs[8];

	std_call_regs(regs);
	if (!smc(regs))
		die("std call not handled", regs);
	if (regs[0] != OPTEE_SMC_RETURN_OK || arg->ret != TEEC_SUCCESS)
		die(what, regs);
}

/*
 * Write a NONCONTIG page list for @npages data pages at guest page @data
 * into the list pages from guest page @list: 511 entries per list page,
 * the next list page's address at byte 4088.
 */
static void guest_page_list(uint32_t list, uint32_t data, uint32_t npages)
{
	uint32_t i;

	for (i = 0; i < npages; i++) {
		uint32_t lp = list + i / OPTEE_MSG_PAGELIST_ENTRIES;
		uint64_t *entries = fake_guest_ptr(ipa_of(lp));

		entries[i % OPTEE_MSG_PAGELIST_ENTRIES] = ipa_of(data + i);
		if (i % OPTEE_MSG_PAGELIST_ENTRIES == 0)
			entries[OPTEE_MSG_PAGELIST_NEXT_OFFSET / 8] =
				ipa_of(lp + 1);
	}
}

static void open_session(void)
{
	static const uint8_t uuid[16] = PTA_INVOKE_TESTS_UUID;
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_OPEN_SESSION, 2);

	arg->session = 0;
	arg->params[0].attr = OPTEE_MSG_ATTR_META |
			      OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(&arg->params[0].u.value.a, uuid, 8);
	memcpy(&arg->params[0].u.value.b, uuid + 8, 8);
	arg->params[1].attr = OPTEE_MSG_ATTR_META |
			      OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	arg->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
	std_call_ok(smc_other, "OPEN_SESSION failed");
	session_id = arg->session;
}

static void invoke_values(bool (*smc)(uint64_t *))
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_INVOKE_COMMAND, 4);
	uint32_t i;

	arg->func = PTA_INVOKE_TESTS_CMD_TRACE;
	for (i = 0; i < 4; i++) {
		arg->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		arg->params[i].u.value.a = i;
		arg->params[i].u.value.b = 2 * i;
		arg->params[i].u.value.c = 3 * i;
	}
	std_call_ok(smc, "INVOKE (4 VALUE_INPUT) failed");
}

static void register_cookie(bool (*smc)(uint64_t *), uint32_t list,
			    uint32_t npages, uint64_t cookie)
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_REGISTER_SHM, 1);

	arg->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
			      OPTEE_MSG_ATTR_NONCONTIG;
	arg->params[0].u.tmem.buf_ptr = ipa_of(list);
	arg->params[0].u.tmem.size = (uint64_t)npages << TG_PAGE_SHIFT;
	arg->params[0].u.tmem.shm_ref = cookie;
	std_call_ok(smc, "REGISTER_SHM failed");
}

static void register_shm(bool (*smc)(uint64_t *), uint32_t list,
			 uint32_t npages)
{
	register_cookie(smc, list, npages, COOKIE_BUF);
}

static void unregister_shm(bool (*smc)(uint64_t *))
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_UNREGISTER_SHM, 1);

	arg->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	arg->params[0].u.rmem.shm_ref = COOKIE_BUF;
	std_call_ok(smc, "UNREGISTER_SHM failed");
}

/* ---- scenarios ----------------------------------------------------------- */

static void setup_none(void)
{
}

static void setup_session(void)
{
	open_session();
}

static void setup_rpc(void)
{
	open_session();
	fake_tee_set_script(FAKE_TEE_FOREIGN_INTR);
}

static void setup_list4096(void)
{
	guest_page_list(PG_LIST4096, PG_DATA4096, 4096);
}

static void setup_list16384(void)
{
	guest_page_list(PG_LIST16384, PG_DATA16384, 16384);
}

static void setup_list128(void)
{
	guest_page_list(PG_LIST128, PG_DATA128, 128);
}

static void setup_tmem16(void)
{
	open_session();
	guest_page_list(PG_LIST16, PG_DATA16, 16);
}

static void iter_calls_uid(void)
{
	uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };

	if (!smc_measured(regs))
		die("CALLS_UID not handled", regs);
	if (regs[0] != OPTEE_MSG_UID_0 || regs[1] != OPTEE_MSG_UID_1 ||
	    regs[2] != OPTEE_MSG_UID_2 || regs[3] != OPTEE_MSG_UID_3)
		die("CALLS_UID: wrong UID", regs);
}

static void iter_invoke_values(void)
{
	invoke_values(smc_measured);
}

/* The same with VALUE_INOUT: four outputs copied back. */
static void iter_invoke_inout(void)
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_INVOKE_COMMAND, 4);
	uint32_t i;

	arg->func = PTA_INVOKE_TESTS_CMD_TRACE;
	for (i = 0; i < 4; i++) {
		arg->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		arg->params[i].u.value.a = i;
	}
	std_call_ok(smc_measured, "INVOKE (4 VALUE_INOUT) failed");
}

static void setup_regd(void)
{
	open_session();
	guest_page_list(PG_LISTREGD, PG_REGD, 1);
	register_cookie(smc_other, PG_LISTREGD, 1, COOKIE_REGD);
}

/*
 * INVOKE with 4 VALUE_INPUT as Linux issues it when the TEE offers
 * RPC_ARG: the message in a registered page, CALL_WITH_REGD_ARG.
 */
static void iter_invoke_regd(void)
{
	struct optee_msg_arg *arg =
		guest_arg_at(PG_REGD, OPTEE_MSG_CMD_INVOKE_COMMAND, 4);
	uint64_t regs[8] = { OPTEE_SMC_CALL_WITH_REGD_ARG,
			     COOKIE_REGD >> 32, COOKIE_REGD & 0xFFFFFFFFu, 0 };
	uint32_t i;

	arg->func = PTA_INVOKE_TESTS_CMD_TRACE;
	for (i = 0; i < 4; i++) {
		arg->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		arg->params[i].u.value.a = i;
	}
	if (!smc_measured(regs))
		die("CALL_WITH_REGD_ARG not handled", regs);
	if (regs[0] != OPTEE_SMC_RETURN_OK || arg->ret != TEEC_SUCCESS)
		die("INVOKE by CALL_WITH_REGD_ARG failed", regs);
}

static void iter_register4096(void)
{
	register_shm(smc_measured, PG_LIST4096, 4096);
	unregister_shm(smc_other);
}

static void iter_unregister4096(void)
{
	register_shm(smc_other, PG_LIST4096, 4096);
	unregister_shm(smc_measured);
}

static void iter_register16384(void)
{
	register_shm(smc_measured, PG_LIST16384, 16384);
	unregister_shm(smc_other);
}

static void iter_register128(void)
{
	register_shm(smc_measured, PG_LIST128, 128);
	unregister_shm(smc_other);
}

static void iter_unregister128(void)
{
	register_shm(smc_other, PG_LIST128, 128);
	unregister_shm(smc_measured);
}

static void iter_rpc_foreign_intr(void)
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_INVOKE_COMMAND, 4);
	uint64_t regs[8];
	uint32_t i;

	arg->func = PTA_INVOKE_TESTS_CMD_TRACE;
	for (i = 0; i < 4; i++) {
		arg->params[i].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		arg->params[i].u.value.a = i;
	}

	std_call_regs(regs);
	if (!smc_measured(regs))
		die("CALL_WITH_ARG not handled", regs);
	if (regs[0] != OPTEE_SMC_RETURN_RPC_FOREIGN_INTR)
		die("expected RPC FOREIGN_INTR", regs);

	/* As Linux does: echo a1..a3, a4..a7 as in the original call. */
	regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	for (i = 4; i < 8; i++)
		regs[i] = 0;
	if (!smc_measured(regs))
		die("RETURN_FROM_RPC not handled", regs);
	if (regs[0] != OPTEE_SMC_RETURN_OK || arg->ret != TEEC_SUCCESS)
		die("RETURN_FROM_RPC did not complete the call", regs);
}

static void iter_tmem16(void)
{
	struct optee_msg_arg *arg = guest_arg(OPTEE_MSG_CMD_INVOKE_COMMAND, 1);

	arg->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	arg->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT |
			      OPTEE_MSG_ATTR_NONCONTIG;
	arg->params[0].u.tmem.buf_ptr = ipa_of(PG_LIST16);
	arg->params[0].u.tmem.size = 16u << TG_PAGE_SHIFT;
	arg->params[0].u.tmem.shm_ref = COOKIE_TMEM;
	std_call_ok(smc_measured, "INVOKE (16-page TMEM) failed");
}

/*
 * struct scenario - one row of the budget table.
 * @divisor: the measured cost per call is divided by this (pages) to give
 *           the figure that is compared with the budget.
 * @budget:  instructions per @divisor unit; 0 = reported, not enforced.
 * @xen:     Xen's figure from anchors.md, as text.
 * @n1, @n2: iteration counts of the two callgrind runs.
 */
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
	{ "calls_uid", "CALLS_UID (forwarded fast call)", 1, 60, "105",
	  200, 1200, setup_none, iter_calls_uid },
	{ "invoke_values", "INVOKE, 4 VALUE_INPUT", 1, 400, "1,658",
	  100, 600, setup_session, iter_invoke_values },
	{ "register_4096", "REGISTER_SHM 4096 pages, per page", 4096, 20,
	  "~56 (max 129 pages)", 4, 24, setup_list4096, iter_register4096 },
	{ "register_64m", "REGISTER_SHM 64 MiB (16384 pages), per page",
	  16384, 20, "n/a (max 129 pages)", 2, 12, setup_list16384,
	  iter_register16384 },
	{ "unregister_4096", "UNREGISTER_SHM 4096 pages", 1, 0, "n/a",
	  4, 24, setup_list4096, iter_unregister4096 },
	{ "register_128", "REGISTER_SHM 128 pages", 1, 0, "9,055",
	  20, 120, setup_list128, iter_register128 },
	{ "unregister_128", "UNREGISTER_SHM 128 pages", 1, 0, "3,094",
	  20, 120, setup_list128, iter_unregister128 },
	{ "invoke_inout", "INVOKE, 4 VALUE_INOUT", 1, 0, "n/a", 100, 600,
	  setup_session, iter_invoke_inout },
	{ "invoke_regd", "INVOKE, 4 VALUE_INPUT by CALL_WITH_REGD_ARG", 1, 0,
	  "n/a", 100, 600, setup_regd, iter_invoke_regd },
	{ "rpc_foreign_intr", "CALL->FOREIGN_INTR + RETURN_FROM_RPC", 1, 500,
	  "1,889", 100, 600, setup_rpc, iter_rpc_foreign_intr },
	{ "invoke_tmem16", "INVOKE, 16-page TMEM NONCONTIG (INOUT)", 1, 0,
	  "3,295", 50, 300, setup_tmem16, iter_tmem16 },
};

#define NUM_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: tg_budget --list\n"
		"       tg_budget SCENARIO ITERATIONS\n"
		"Runs one budget scenario against the mediator over a trivial\n"
		"fake port; meant to run under callgrind (see tools/budget.sh).\n"
		"Scenarios:\n");
	for (i = 0; i < NUM_SCENARIOS; i++)
		fprintf(out, "  %-18s %s\n", scenarios[i].name,
			scenarios[i].title);
}

static void list(void)
{
	size_t i;

	printf("# build type: %s\n", TG_BUDGET_BUILD_TYPE);
	printf("# name\tdivisor\tbudget\txen\tn1\tn2\ttitle\n");
	for (i = 0; i < NUM_SCENARIOS; i++) {
		const struct scenario *s = &scenarios[i];

		printf("%s\t%u\t%u\t%s\t%u\t%u\t%s\n", s->name, s->divisor,
		       s->budget, s->xen, s->n1, s->n2, s->title);
	}
}

static int run(const struct scenario *s, unsigned long iterations)
{
	struct tg_port port;
	unsigned long i;
	int rc, steps = 0;

	fake_port_init(&port);
	rc = tg_mediator_create(&port, NULL, &med);
	if (rc != TG_OK) {
		fprintf(stderr, "tg_budget: tg_mediator_create: %s\n",
			tg_strerror(rc));
		return 1;
	}
	rc = tg_domain_create(med, FAKE_CLIENT_ID, NULL);
	if (rc != TG_OK) {
		fprintf(stderr, "tg_budget: tg_domain_create: %s\n",
			tg_strerror(rc));
		return 1;
	}

	s->setup();
	for (i = 0; i < iterations; i++)
		s->iter();

	do {
		rc = tg_domain_destroy(med, FAKE_CLIENT_ID);
	} while (rc == TG_AGAIN && ++steps < 1000000);
	if (rc != TG_OK)
		fprintf(stderr, "tg_budget: warning: tg_domain_destroy: %s\n",
			tg_strerror(rc));
	if (fake_pinned_pages())
		fprintf(stderr, "tg_budget: warning: %" PRIu64
			" pages still pinned after destroy\n",
			fake_pinned_pages());
	rc = tg_mediator_destroy(med);
	if (rc != TG_OK)
		fprintf(stderr, "tg_budget: warning: tg_mediator_destroy: %s\n",
			tg_strerror(rc));
	if (fake_tee_stats()->unexpected) {
		fprintf(stderr,
			"tg_budget: the fake TEE saw %" PRIu64
			" unexpected requests\n",
			fake_tee_stats()->unexpected);
		return 1;
	}
	return 0;
}

/* ---- memory ------------------------------------------------------------- */

#define MEM_DOMAINS 32u
#define MEM_MAX_DOMAINS 64u /* the default of tg_config.max_domains */
#define MEM_SESSIONS 100u

/* Everything the port holds for the mediator: alloc() and shm pages. */
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

/* Bytes held for a registered buffer of @npages (while registered). */
static uint64_t registered_bytes(uint32_t list, uint32_t data,
				 uint32_t npages)
{
	uint64_t before = mediator_bytes(), during;

	guest_page_list(list, data, npages);
	register_shm(smc_other, list, npages);
	during = mediator_bytes();
	unregister_shm(smc_other);
	if (mediator_bytes() != before) {
		fprintf(stderr, "tg_budget: UNREGISTER left %" PRIu64
			" bytes\n", mediator_bytes() - before);
		exit(1);
	}
	return during - before;
}

/*
 * Bytes the fake port allocated for the mediator (what it asked for, no
 * allocator rounding; an shm page counts 4096) for N idle domains, for
 * registered buffers of different sizes and for N open sessions, each a
 * difference over N. The fake port's locks are a static array: a port's
 * lock object is its own cost and is not in these figures.
 */
static int memory(void)
{
	struct tg_config cfg = { .max_domains = MEM_MAX_DOMAINS };
	uint64_t m0, m1, d0, table, b1, b128, b4096, b64m;
	struct tg_port port;
	double per_domain, share, per_page;
	char detail[64];
	uint32_t i;
	int over = 0, rc;

	fake_port_init(&port);
	rc = tg_mediator_create(&port, &cfg, &med);
	if (rc != TG_OK) {
		fprintf(stderr, "tg_budget: tg_mediator_create: %s\n",
			tg_strerror(rc));
		return 1;
	}
	table = mediator_bytes();
	if (tg_domain_create(med, FAKE_CLIENT_ID, NULL) != TG_OK)
		return 1;
	d0 = mediator_bytes();
	for (i = 0; i < MEM_DOMAINS; i++)
		if (tg_domain_create(med, FAKE_CLIENT_ID + 1 + i, NULL) !=
		    TG_OK) {
			fprintf(stderr, "tg_budget: tg_domain_create failed\n");
			return 1;
		}
	m1 = mediator_bytes();
	per_domain = (double)(m1 - d0) / MEM_DOMAINS;
	/* The mediator and its domain table are allocated for max_domains:
	 * their share per possible domain is part of an idle domain. */
	share = (double)table / MEM_MAX_DOMAINS;

	printf("# build type: %s\n", TG_BUDGET_BUILD_TYPE);
	printf("Mediator memory: bytes the fake port allocated for it "
	       "(alloc() as asked, an shm\npage as 4096), as differences "
	       "over N; %u-thread TEE, default limits.\n\n",
	       FAKE_TEE_THREAD_COUNT);
	printf("| %-44s | %9s | %-42s | %5s | %-6s |\n", "what", "bytes",
	       "how measured", "goal", "result");
	printf("|----------------------------------------------|-----------|"
	       "--------------------------------------------|-------|"
	       "--------|\n");
	snprintf(detail, sizeof(detail), "%.0f created + %.0f table share",
		 per_domain, share);
	over |= mem_row("per idle domain", per_domain + share, detail, 4096);

	open_session();
	m0 = mediator_bytes();
	for (i = 1; i < MEM_SESSIONS; i++)
		open_session();
	m1 = mediator_bytes();
	snprintf(detail, sizeof(detail),
		 "%u more; its 4-byte entry is in the domain",
		 MEM_SESSIONS - 1);
	over |= mem_row("per open session",
			(double)(m1 - m0) / (MEM_SESSIONS - 1), detail, 64);

	b1 = registered_bytes(PG_LISTREGD, PG_REGD, 1);
	b128 = registered_bytes(PG_LIST128, PG_DATA128, 128);
	b4096 = registered_bytes(PG_LIST4096, PG_DATA4096, 4096);
	b64m = registered_bytes(PG_LIST16384, PG_DATA16384, 16384);
	per_page = (double)(b64m - b1) / (16384 - 1);
	over |= mem_row("per pinned page (registered buffer)", per_page,
			"(64 MiB buffer - 1-page buffer) / 16383", 16);
	over |= mem_row("per registered buffer, besides its pages",
			(double)b1 - per_page, "1-page buffer - per page", 0);
	over |= mem_row("per pinned page, 1-page buffer", (double)b1,
			"REGISTER_SHM, while registered", 0);
	over |= mem_row("per pinned page, 128-page buffer", (double)b128 / 128,
			"REGISTER_SHM, while registered", 0);
	over |= mem_row("per pinned page, 4096-page buffer",
			(double)b4096 / 4096, "REGISTER_SHM, while registered",
			0);
	over |= mem_row("per pinned page, 64 MiB buffer",
			(double)b64m / 16384, "REGISTER_SHM, while registered",
			0);
	over |= mem_row("per call in flight", TG_PAGE_SIZE,
			"structure: a page of the shadow pool", 0);
	over |= mem_row("mediator, no domain (max_domains 64)",
			(double)table, "tg_mediator_create()", 0);
	return over;
}

int main(int argc, char **argv)
{
	unsigned long iterations;
	char *end;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		list();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--memory"))
		return memory();
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	iterations = strtoul(argv[2], &end, 10);
	if (*end || end == argv[2]) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < NUM_SCENARIOS; i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return run(&scenarios[i], iterations);
	fprintf(stderr, "tg_budget: unknown scenario '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
