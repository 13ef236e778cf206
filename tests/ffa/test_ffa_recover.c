// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recovery of an FF-A mediator whose process died (tgf_recover(),
 * tgf_domain_recover()), at every instant of a scenario.
 *
 * A death is simulated as tests/core/test_recover.c does for the OP-TEE
 * mediator: longjmp() out of the mediator from inside a port call: before
 * an SMC reaches the SPMC (the model) or right after it handled it, after
 * a pin or an unpin, a copy from a guest, or with a lock just taken. The mediator's
 * memory stays as the dead process left it. The test then plays the
 * hypervisor: it tracked what the dead process may not have recorded
 * (OP-TEE threads left suspended, the resume information guests hold,
 * the handles the SPMC returned in the cut conversation), rebuilds the shm allocator from shm_claim() and drops
 * every pin keep_pins() does not report.
 *
 * Each scenario runs once per event index until it runs to the end
 * without dying. After every recovery:
 *   - no pin the recovery keeps is one the hypervisor does not hold, and
 *     the domain's pinned count is what the hypervisor holds for it;
 *   - every page of every share the SPMC holds is still pinned (the
 *     isolation invariant: nothing the SPMC may map is given back);
 * then the guests carry on (new shares, calls, a resumed call) and at the
 * end (ffa_env.c) every domain is destroyed and nothing is left: no pin,
 * no share in the SPMC, no shm page, no mediator memory but the few
 * bookkeeping blocks a death may lose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <teegate/optee_abi.h>

#include "ffa_env.h"
#include "model_tas.h"

enum {
	EV_SMC = 1,	    /* after the SPMC handled it */
	EV_PIN = 2,
	EV_COPY = 4,
	EV_LOCK = 8,
	EV_SMC_BEFORE = 16, /* before it reached the SPMC */
	EV_UNPIN = 32,
	EV_ALL = 63
};

static jmp_buf crash_env;
static int crash_at, crash_kind, events;
static bool armed;

/* What the hypervisor saw (src/host keeps the same record). */
static struct {
	uint32_t threads[GUESTS][64];
	uint32_t nthreads[GUESTS];
	uint64_t mem[16]; /* handles returned in the current conversation */
	uint32_t nmem;
	uint32_t conv_vm; /* the VM whose call is being served, 0: none */
} hv;

/* What each guest holds: resume information of its suspended calls,
 * and the shares it got a handle for (and did not reclaim). */
static struct {
	uint32_t held[64];
	uint32_t nheld;
	uint32_t shares;
	uint32_t reclaiming; /* a reclaim of one of them is in flight */
} guest[GUESTS];

static uint32_t kept[NPAGES];
static uint32_t recoveries;

static uint32_t pfn(uint64_t pa)
{
	return (uint32_t)((pa - PA_BASE) / PAGE);
}

static void del(uint32_t *list, uint32_t *n, uint32_t v)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (list[i] == v) {
			list[i] = list[--*n];
			return;
		}
	}
}

static void event(int kind)
{
	if (armed && (crash_kind & kind) && ++events == crash_at) {
		armed = false;
		longjmp(crash_env, 1);
	}
}

static bool is_resp(uint64_t fid)
{
	return fid == FFA_MSG_SEND_DIRECT_RESP_32 ||
	       fid == FFA_MSG_SEND_DIRECT_RESP_64;
}

static bool suspended(const uint64_t r[8])
{
	return is_resp(r[0]) && !(uint32_t)r[3] &&
	       ((uint32_t)r[4] == OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD ||
		(uint32_t)r[4] == OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
}

static void after_smc(const uint64_t in[8], const uint64_t out[8])
{
	uint32_t fid = (uint32_t)in[0];

	if ((fid == FFA_MSG_SEND_DIRECT_REQ_32 ||
	     fid == FFA_MSG_SEND_DIRECT_REQ_64) &&
	    FFA_RECEIVER(in[1]) == env.fm->optee_id) {
		uint32_t vm = FFA_SENDER(in[1]);

		if (vm >= 1 && vm <= GUESTS) {
			if ((uint32_t)in[3] == OPTEE_FFA_YIELDING_CALL_RESUME)
				del(hv.threads[vm - 1], &hv.nthreads[vm - 1],
				    (uint32_t)in[7]);
			if (suspended(out))
				hv.threads[vm - 1][hv.nthreads[vm - 1]++] =
					(uint32_t)out[7];
		}
	}
	if (hv.conv_vm && hv.nmem < 16 &&
	    (fid == FFA_MEM_SHARE_32 || fid == FFA_MEM_SHARE_64 ||
	     fid == FFA_MEM_LEND_32 || fid == FFA_MEM_LEND_64 ||
	     fid == FFA_MEM_FRAG_TX)) {
		if (out[0] == FFA_SUCCESS_32 || out[0] == FFA_SUCCESS_64)
			hv.mem[hv.nmem++] = FFA_HANDLE_PACK(out[2], out[3]);
		else if (out[0] == FFA_MEM_FRAG_RX)
			hv.mem[hv.nmem++] = FFA_HANDLE_PACK(out[1], out[2]);
	}
	if (armed && getenv("TG_RECOVER_DEBUG"))
		fprintf(stderr, "  smc %#x w1 %#llx w3 %#llx -> %#x w2 %#llx\n",
			fid, (unsigned long long)in[1],
			(unsigned long long)in[3], (uint32_t)out[0],
			(unsigned long long)out[2]);
	event(EV_SMC);
}

static void after_pin(void)
{
	event(EV_PIN);
}

static void after_unpin(void)
{
	event(EV_UNPIN);
}

static void after_copy(void)
{
	event(EV_COPY);
}

static void before_smc(const uint64_t in[8])
{
	(void)in;
	event(EV_SMC_BEFORE);
}

/* A death with a lock taken: the port resets locks before a recovery. */
static void after_lock(void)
{
	event(EV_LOCK);
}

/* ---- the hypervisor's side of a recovery --------------------------------- */

static void shm_claim(void *ctx, void *va, uint32_t npages)
{
	uint32_t first = (uint32_t)(((uint8_t *)va - env.mem) / PAGE);

	(void)ctx;
	for (uint32_t k = first; k < first + npages; k++) {
		assert_true(k < POOL_PAGES);
		assert_false(env.pool_used[k]);
		env.pool_used[k] = true;
	}
}

static int keep_pins(void *ctx, uint32_t cid, const uint64_t *pa,
		     uint32_t count)
{
	(void)ctx;
	for (uint32_t i = 0; i < count; i++) {
		assert_int_equal(env.owner[pfn(pa[i])], cid);
		kept[pfn(pa[i])]++;
	}
	return TG_OK;
}

static void share_page_pinned(void *arg, uint32_t vm, uint64_t pa)
{
	(void)arg;
	if (env.owner[pfn(pa)] != vm || !env.pins[pfn(pa)])
		fail_msg("after recovery the SPMC holds a share of page %#llx "
			 "(VM %u) that is not pinned",
			 (unsigned long long)pa, vm);
}

static void recover(void)
{
	static const struct tg_recover_ops ops = { .shm_claim = shm_claim,
						   .keep_pins = keep_pins };
	struct tg_recover_info *ri = calloc(1, sizeof(*ri));

	assert_non_null(ri);
	recoveries++;
	/* The port empties its allocator: only what is claimed stays. */
	memset(env.pool_used, 0, sizeof(env.pool_used));
	tgf_recover(env.fm, &fe_port, &ops);
	for (uint32_t g = 0; g < GUESTS; g++) {
		struct tg_recover_stats st;
		uint64_t held = 0;

		memset(ri, 0, sizeof(*ri));
		for (uint32_t i = 0; i < hv.nthreads[g]; i++)
			ri->threads[ri->nthreads++].thread = hv.threads[g][i];
		for (uint32_t i = 0; i < guest[g].nheld; i++)
			ri->handles[ri->nhandles++] = guest[g].held[i];
		if (hv.conv_vm == g + 1)
			for (uint32_t i = 0; i < hv.nmem; i++)
				ri->mem[ri->nmem++] = hv.mem[i];
		memset(kept, 0, sizeof(kept));
		assert_int_equal(tgf_domain_recover(env.dom[g], ri, &ops, &st),
				 TG_OK);
		for (uint32_t p = 0; p < NPAGES; p++) {
			if (env.owner[p] != g + 1)
				continue;
			if (kept[p] > env.pins[p])
				fail_msg("recovery keeps a pin of page %u that "
					 "is gone (%u > %u)",
					 p, kept[p], env.pins[p]);
			/* The hypervisor drops every other pin. */
			env.pins[p] = kept[p];
			held += kept[p];
		}
		assert_int_equal(atomic_load(&env.dom[g]->pinned_pages), held);
		/* OP-TEE holds only the threads the guest can resume. */
		assert_int_equal(tg_model_threads_held(env.model, g + 1),
				 env.dom[g]->nsuspended);
		/* The mediator keeps only the shares the guest knows (one it
		 * never got the handle of went back), unless teardown is at
		 * them. */
		if (!env.dom[g]->destroy_phase &&
		    (env.dom[g]->nshares > guest[g].shares ||
		     env.dom[g]->nshares + guest[g].reclaiming <
			     guest[g].shares))
			fail_msg("guest %u: the mediator keeps %u shares, the "
				 "guest knows %u (%u being reclaimed)",
				 g, env.dom[g]->nshares, guest[g].shares,
				 guest[g].reclaiming);
	}
	hv.conv_vm = 0;
	hv.nmem = 0;
	free(ri);
	tg_model_ffa_share_pages(env.model, share_page_pinned, NULL);
	/* A death may lose a few bookkeeping blocks (a record not linked
	 * yet); ffa_env.c frees them at the end. */
	env.allocs_slack += 4;
}

/* ---- the guests ------------------------------------------------------------ */

/*
 * One guest FF-A call, as the hypervisor passes it. Return: true when
 * the mediator died in it (the guest saw the call fail).
 */
static bool gcall(uint32_t g, uint64_t r[8])
{
	if (is_resp(r[0]) || ((uint32_t)r[0] == FFA_MSG_SEND_DIRECT_REQ_32 &&
			      (uint32_t)r[3] == OPTEE_FFA_YIELDING_CALL_RESUME))
		del(guest[g].held, &guest[g].nheld, (uint32_t)r[7]);
	hv.conv_vm = g + 1;
	hv.nmem = 0;
	if (setjmp(crash_env)) {
		recover();
		return true;
	}
	tgf_handle(env.fm, env.dom[g], 0, r);
	hv.conv_vm = 0;
	hv.nmem = 0;
	if (suspended(r))
		guest[g].held[guest[g].nheld++] = (uint32_t)r[7];
	return false;
}

static void gset(uint64_t r[8], uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a7)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
	r[4] = a4;
	r[5] = a5;
	r[7] = a7;
}

/* VERSION and RX/TX (TX at IPA page 0, RX at page 1). */
static void guest_up(uint32_t g)
{
	uint64_t r[8];

	gset(r, FFA_VERSION, FFA_VERSION_1_2, 0, 0, 0, 0, 0);
	assert_false(gcall(g, r));
	gset(r, FFA_RXTX_MAP_64, IPA_BASE, IPA_BASE + PAGE, 1, 0, 0, 0);
	assert_false(gcall(g, r));
	assert_int_equal(r[0], FFA_SUCCESS_32);
}

/* share() sends the first fragment only (a transaction left open). */
static bool first_fragment_only;

/*
 * Share @n pages from IPA page @first with OP-TEE, one constituent per
 * page, @per constituents per fragment (0: all in one). Return the
 * handle, 0 if refused; *@died when the mediator died in it.
 */
static uint64_t share(uint32_t g, uint32_t first, uint32_t n, uint32_t per,
		      bool *died)
{
	uint8_t desc[2048];
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	uint32_t off, total, sent, len;
	uint8_t *tx = fe_guest_page(g, 0);
	uint64_t r[8], h = 0;

	*died = false;
	t.sender_id = (uint16_t)(g + 1);
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = FFA_MEM_ACCESS_1_2_SIZE;
	t.access_count = 1;
	t.access_offset = FFA_MEM_TRANS_SIZE;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = env.fm->optee_id;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = FFA_MEM_TRANS_SIZE + FFA_MEM_ACCESS_1_2_SIZE;
	c.constituent_count = n;
	c.total_page_count = n;
	off = a.composite_offset + FFA_MEM_COMPOSITE_SIZE;
	memcpy(desc, &t, sizeof(t));
	memcpy(desc + FFA_MEM_TRANS_SIZE, &a, sizeof(a));
	memcpy(desc + a.composite_offset, &c, sizeof(c));
	for (uint32_t i = 0; i < n; i++) {
		struct ffa_mem_constituent k = { 0 };

		k.address = IPA_BASE + (uint64_t)(first + i) * PAGE;
		k.page_count = 1;
		memcpy(desc + off + i * FFA_MEM_CONSTITUENT_SIZE, &k,
		       sizeof(k));
	}
	total = off + n * FFA_MEM_CONSTITUENT_SIZE;
	len = per ? off + per * FFA_MEM_CONSTITUENT_SIZE : total;
	if (len > total)
		len = total;
	memcpy(tx, desc, len);
	gset(r, FFA_MEM_SHARE_32, total, len, 0, 0, 0, 0);
	if (gcall(g, r)) {
		*died = true;
		return 0;
	}
	sent = len;
	while (r[0] == FFA_MEM_FRAG_RX && !first_fragment_only) {
		h = FFA_HANDLE_PACK(r[1], r[2]);
		assert_int_equal((uint32_t)r[3], sent);
		len = per * FFA_MEM_CONSTITUENT_SIZE;
		if (len > total - sent)
			len = total - sent;
		memcpy(tx, desc + sent, len);
		gset(r, FFA_MEM_FRAG_TX, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h),
		     len, 0, 0, 0);
		if (gcall(g, r)) {
			*died = true;
			return 0;
		}
		sent += len;
	}
	if (r[0] != FFA_SUCCESS_32)
		return 0;
	guest[g].shares++;
	return FFA_HANDLE_PACK(r[2], r[3]);
}

static int32_t reclaim(uint32_t g, uint64_t h, bool *died)
{
	uint64_t r[8];

	gset(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0, 0, 0,
	     0);
	guest[g].reclaiming = 1;
	*died = gcall(g, r);
	if (*died) {
		/*
		 * As the guest driver does (ffa_optee.c): the answer was
		 * lost, ask again once the mediator serves; a handle it no
		 * longer knows was given back.
		 */
		gset(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0,
		     0, 0, 0);
		assert_false(gcall(g, r));
		assert_true(r[0] == FFA_SUCCESS_32 ||
			    (r[0] == FFA_ERROR &&
			     (int32_t)r[2] == FFA_RET_INVALID_PARAMETERS));
		r[0] = FFA_SUCCESS_32;
	}
	guest[g].reclaiming = 0;
	if (r[0] == FFA_SUCCESS_32)
		guest[g].shares--;
	return r[0] == FFA_SUCCESS_32 ? 0 : (int32_t)r[2];
}

static uint64_t direct_optee(uint32_t g, uint32_t w3, uint64_t w4,
			     uint64_t w5, uint64_t w7, uint64_t r[8])
{
	gset(r, FFA_MSG_SEND_DIRECT_REQ_32,
	     FFA_PACK_IDS(g + 1, env.fm->optee_id), 0, w3, w4, w5, w7);
	return gcall(g, r);
}

static struct optee_msg_arg *msg_of(uint32_t g, uint32_t page)
{
	return (struct optee_msg_arg *)(void *)fe_guest_page(g, page);
}

static void open_msg(struct optee_msg_arg *a, const uint8_t uuid[16])
{
	memset(a, 0, PAGE);
	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->num_params = 2;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	a->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	memcpy(&a->params[0].u.value, uuid, 16);
	a->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
}

/*
 * A yielding call with the argument at offset 0 of share @h (IPA page
 * @page), its RPCs served as Linux does (SHM_ALLOC with a fresh share of
 * page @alloc_page). Return: true when the mediator died in it.
 */
static bool run_call(uint32_t g, uint64_t h, uint32_t page,
		     uint32_t alloc_page, uint64_t *alloc_h)
{
	uint64_t r[8];

	if (direct_optee(g, OPTEE_FFA_YIELDING_CALL_WITH_ARG, FFA_HANDLE_LO(h),
			 FFA_HANDLE_HI(h), 0, r))
		return true;
	while (suspended(r)) {
		if ((uint32_t)r[4] == OPTEE_FFA_YIELDING_CALL_RETURN_RPC_CMD) {
			struct optee_msg_arg *a = msg_of(g, page);
			struct optee_msg_arg *rpc =
				(struct optee_msg_arg
					 *)((uint8_t *)a +
					    OPTEE_MSG_GET_ARG_SIZE(
						    a->num_params));
			bool died;

			if (rpc->cmd == OPTEE_RPC_CMD_SHM_ALLOC) {
				struct optee_msg_param_fmem f = { 0 };

				*alloc_h = share(g, alloc_page, 1, 0, &died);
				if (died)
					return true;
				f.size = PAGE;
				f.global_id = *alloc_h;
				rpc->params[0].attr =
					OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT;
				memcpy(&rpc->params[0].u, &f, sizeof(f));
				rpc->ret = TEEC_SUCCESS;
			} else if (rpc->cmd == OPTEE_RPC_CMD_SHM_FREE) {
				rpc->ret = TEEC_SUCCESS;
			} else {
				rpc->ret = TEEC_ERROR_ITEM_NOT_FOUND;
			}
		}
		if (direct_optee(g, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0,
				 (uint32_t)r[7], r))
			return true;
	}
	return false;
}

static void unregister(uint32_t g, uint64_t h)
{
	uint64_t r[8];

	assert_false(direct_optee(g, OPTEE_FFA_UNREGISTER_SHM,
				  FFA_HANDLE_LO(h), FFA_HANDLE_HI(h), 0, r));
}

/* After a death or not: the guest still works, whole. */
static void still_works(uint32_t g)
{
	static const uint8_t pta[16] = PTA_INVOKE_TESTS_UUID;
	uint64_t h, ah = 0;
	bool died;

	h = share(g, 40, 1, 0, &died);
	assert_false(died);
	assert_true(h != 0);
	open_msg(msg_of(g, 40), pta);
	assert_false(run_call(g, h, 40, 41, &ah));
	assert_int_equal(msg_of(g, 40)->ret, TEEC_SUCCESS);
	msg_of(g, 40)->cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	msg_of(g, 40)->num_params = 0;
	assert_false(run_call(g, h, 40, 41, &ah));
	assert_int_equal(msg_of(g, 40)->ret, TEEC_SUCCESS);
	unregister(g, h);
	assert_int_equal(reclaim(g, h, &died), 0);
	/* A fragmented share and its reclaim. */
	h = share(g, 50, 8, 3, &died);
	assert_true(h != 0);
	assert_int_equal(reclaim(g, h, &died), 0);
}

static void begin(const struct fe_opts *o)
{
	fe_setup_opts(o);
	env.after_smc = after_smc;
	env.after_pin = after_pin;
	env.after_copy = after_copy;
	env.after_lock = after_lock;
	env.before_smc = before_smc;
	env.after_unpin = after_unpin;
	memset(&hv, 0, sizeof(hv));
	memset(guest, 0, sizeof(guest));
	for (uint32_t g = 0; g < GUESTS; g++)
		guest_up(g);
}

static void arm(int at, int kinds)
{
	events = 0;
	crash_at = at;
	crash_kind = kinds;
	armed = true;
}

/* Set by a scenario that disarms before its end (1: no death). */
static int scenario_through = -1;

/* Disarm; true when the run reached its end without a death. */
static bool disarm(void)
{
	bool ran_through = armed;

	armed = false;
	if (scenario_through >= 0)
		ran_through = scenario_through;
	scenario_through = -1;
	return ran_through;
}

/* ---- scenarios ----------------------------------------------------------- */

typedef void (*scenario_fn)(void);

/*
 * Run @fn with a death at event 1, 2, ... until it runs through; each
 * run on a fresh machine, ended by still_works() on both guests and a
 * full teardown.
 */
static void every_instant(const struct fe_opts *o, scenario_fn prelude,
			  scenario_fn fn, int kinds)
{
	uint32_t deaths = 0;

	for (int at = 1; at < 10000; at++) {
		bool through;

		if (getenv("TG_RECOVER_DEBUG"))
			fprintf(stderr, "death at event %d\n", at);
		begin(o);
		if (prelude)
			prelude();
		arm(at, kinds);
		fn();
		through = disarm();
		for (uint32_t g = 0; g < GUESTS; g++)
			still_works(g);
		fe_teardown();
		if (through) {
			print_message("%d instants, %u deaths recovered\n", at,
				      deaths);
			assert_true(deaths > 0);
			return;
		}
		deaths++;
	}
	fail_msg("the scenario never ran through");
}

static void sc_share(void)
{
	bool died;

	share(0, 10, 3, 0, &died);
}

static void sc_share_fragments(void)
{
	bool died;

	share(0, 10, 7, 2, &died);
}

static uint64_t pre_handle;

static void pre_share(void)
{
	bool died;

	pre_handle = share(0, 10, 4, 0, &died);
	assert_true(pre_handle != 0);
}

static void sc_reclaim(void)
{
	bool died;

	reclaim(0, pre_handle, &died);
}

static void sc_call_with_rpcs(void)
{
	static const uint8_t absent[16] = { 1, 2, 3, 4 };
	uint64_t ah = 0;
	bool died;
	uint64_t h = share(0, 20, 1, 0, &died);

	if (died)
		return;
	open_msg(msg_of(0, 20), absent);
	run_call(0, h, 20, 21, &ah);
}

/* A call of guest 0 left suspended (the guest holds it) at the death. */
static uint64_t yield_h;
static uint64_t yield_r[8];

static void pre_yield(void)
{
	static const uint8_t yield[16] = MODEL_TA_YIELD_UUID;
	struct optee_msg_arg *a = msg_of(0, 30);
	uint64_t ah = 0;
	uint32_t session;
	bool died;

	yield_h = share(0, 30, 1, 0, &died);
	open_msg(a, yield);
	assert_false(run_call(0, yield_h, 30, 31, &ah));
	assert_int_equal(a->ret, TEEC_SUCCESS);
	session = a->session;
	memset(a, 0, 512);
	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->func = MODEL_TA_YIELD_CMD_YIELD;
	a->num_params = 1;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 3;
	assert_false(direct_optee(0, OPTEE_FFA_YIELDING_CALL_WITH_ARG,
				  FFA_HANDLE_LO(yield_h),
				  FFA_HANDLE_HI(yield_h), 0, yield_r));
	assert_int_equal(yield_r[4], OPTEE_FFA_YIELDING_CALL_RETURN_INTERRUPT);
}

static void sc_share_while_suspended(void)
{
	struct optee_msg_arg *a = msg_of(0, 30);
	uint64_t r[8];
	bool died;

	share(0, 10, 5, 2, &died);
	/* A death in the share: the suspended call goes on to its end. */
	memcpy(r, yield_r, sizeof(r));
	while (suspended(r))
		if (direct_optee(0, OPTEE_FFA_YIELDING_CALL_RESUME, 0, 0,
				 (uint32_t)r[7], r)) {
			/* A death in the resume: the guest saw it fail. */
			assert_false(died);
			return;
		}
	assert_int_equal(r[3], 0);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.b, 3);
}

/* Guest 1 dies with shares (one registered with OP-TEE), a fragmented
 * transaction half sent and a suspended call; its destruction dies. */
static void pre_dying(void)
{
	bool died;

	pre_yield();
	pre_handle = share(0, 10, 4, 0, &died);
	assert_true(pre_handle != 0);
	share(0, 60, 2, 0, &died);
	/* A transaction left half sent: its first fragment only. */
	first_fragment_only = true;
	assert_true(share(0, 70, 3, 1, &died) == 0);
	first_fragment_only = false;
	assert_false(died);
}

static void sc_destroy(void)
{
	uint32_t steps = 0;

	/* The hypervisor tracks the destruction's SMCs as a conversation. */
	hv.conv_vm = 1;
	hv.nmem = 0;
	while (tgf_domain_destroy_step(env.fm, env.dom[0]) == TG_AGAIN)
		assert_true(++steps < 100000);
	hv.conv_vm = 0;
}

static void sc_destroy_dying(void)
{
	if (setjmp(crash_env)) {
		recover();
		/* the hypervisor carries on destroying it */
		sc_destroy();
	} else {
		sc_destroy();
	}
	/* The scenario ends here: no death in what follows. */
	scenario_through = armed;
	armed = false;
	/* A fresh domain of the same id, so that the end is as usual. */
	tgf_domain_free(env.fm, env.dom[0]);
	assert_int_equal(tgf_domain_init(env.fm, 1, NULL, &env.dom[0]), TG_OK);
	memset(&guest[0], 0, sizeof(guest[0]));
	hv.nthreads[0] = 0;
	guest_up(0);
}

static const struct fe_opts plain_opts = { 0 };

/*
 * A reclaim of guest 0 whose SMC went through, then, in the same dying
 * process, a share of its other vCPU that the SPMC gives the same handle
 * (OP-TEE hands out the guest's lowest free index), then the death. The
 * mediator has two records of one handle; the older one is gone from the
 * SPMC, the newer one is the guest's (its vCPU got the answer).
 */
static bool reuse_armed;
static uint64_t reuse_h;

static void share_in_between(const uint64_t in[8], const uint64_t out[8])
{
	uint8_t *tx = fe_guest_page(0, 0);
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_constituent k = { 0 };
	uint32_t off = FFA_MEM_TRANS_SIZE + FFA_MEM_ACCESS_1_2_SIZE;
	uint32_t saved = hv.nmem;
	uint64_t r[8];

	after_smc(in, out);
	if (!reuse_armed || (uint32_t)in[0] != FFA_MEM_RECLAIM ||
	    out[0] != FFA_SUCCESS_32)
		return;
	reuse_armed = false;
	/* vCPU 1 of guest 0: a one-page share of IPA page 90. */
	t.sender_id = 1;
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = FFA_MEM_ACCESS_1_2_SIZE;
	t.access_count = 1;
	t.access_offset = FFA_MEM_TRANS_SIZE;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = env.fm->optee_id;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = off;
	c.constituent_count = 1;
	c.total_page_count = 1;
	k.address = IPA_BASE + 90ull * PAGE;
	k.page_count = 1;
	memcpy(tx, &t, sizeof(t));
	memcpy(tx + FFA_MEM_TRANS_SIZE, &a, sizeof(a));
	memcpy(tx + off, &c, sizeof(c));
	memcpy(tx + off + FFA_MEM_COMPOSITE_SIZE, &k, sizeof(k));
	gset(r, FFA_MEM_SHARE_32,
	     off + FFA_MEM_COMPOSITE_SIZE + FFA_MEM_CONSTITUENT_SIZE,
	     off + FFA_MEM_COMPOSITE_SIZE + FFA_MEM_CONSTITUENT_SIZE, 0, 0,
	     0, 0);
	tgf_handle(env.fm, env.dom[0], 1, r);
	/* Its own conversation, answered: nothing the death cut. */
	hv.nmem = saved;
	assert_int_equal(r[0], FFA_SUCCESS_32);
	reuse_h = FFA_HANDLE_PACK(r[2], r[3]);
	guest[0].shares++;
	/* The same handle, given out again. */
	assert_true(reuse_h == FFA_HANDLE_PACK(in[1], in[2]));
	/* The process dies before the reclaim lets go of its record. */
	longjmp(crash_env, 1);
}

static void test_death_after_a_reclaim_whose_handle_came_back(void **state)
{
	uint64_t r[8];
	bool died;

	(void)state;
	begin(&plain_opts);
	pre_share();
	env.after_smc = share_in_between;
	reuse_armed = true;
	gset(r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(pre_handle),
	     FFA_HANDLE_HI(pre_handle), 0, 0, 0, 0);
	guest[0].reclaiming = 1;
	died = gcall(0, r); /* recover() checks the state */
	assert_true(died);
	assert_false(reuse_armed);
	/*
	 * The guest does not ask again (its driver keeps reclaims and
	 * shares apart, ffa.c): the first share is gone, the second one
	 * the guest's, whole, in the SPMC as in the mediator.
	 */
	guest[0].reclaiming = 0;
	guest[0].shares--;
	env.after_smc = after_smc;
	assert_int_equal(env.dom[0]->nshares, 1);
	assert_int_equal(tg_model_ffa_shares(env.model, 1), 1);
	assert_int_equal(reclaim(0, reuse_h, &died), 0);
	assert_false(died);
	assert_int_equal(env.dom[0]->nshares, 0);
	for (uint32_t g = 0; g < GUESTS; g++)
		still_works(g);
	fe_teardown(); /* nothing left pinned, nothing in the SPMC */
}

/*
 * A complete share whose record cannot be allocated: the SPMC gives it
 * back, the pages are unpinned and the transaction ends. A death in
 * between must find neither a record naming pins already gone (the
 * recovery would report them kept, and unpin them again) nor the
 * transaction stuck (the guest could never share again).
 */
static void sc_share_without_a_record(void)
{
	bool died;

	env.fail_alloc_size = sizeof(struct tgf_share);
	assert_true(share(0, 10, 3, 0, &died) == 0);
	env.fail_alloc_size = 0;
}

static void test_death_in_a_share_refused_for_its_record(void **state)
{
	(void)state;
	every_instant(&plain_opts, NULL, sc_share_without_a_record, EV_ALL);
}

static const struct fe_opts plain = { 0 };
static const struct fe_opts hold = { .optee_4_10_bugs = true };

static void test_death_in_a_share(void **state)
{
	(void)state;
	every_instant(&plain, NULL, sc_share, EV_ALL);
}

static void test_death_in_a_fragmented_share(void **state)
{
	(void)state;
	every_instant(&plain, NULL, sc_share_fragments, EV_ALL);
}

static void test_death_in_a_held_fragmented_share(void **state)
{
	(void)state;
	every_instant(&hold, NULL, sc_share_fragments, EV_ALL);
}

static void test_death_in_a_reclaim(void **state)
{
	(void)state;
	every_instant(&plain, pre_share, sc_reclaim, EV_ALL);
}

static void test_death_in_a_call_with_rpcs(void **state)
{
	(void)state;
	every_instant(&plain, NULL, sc_call_with_rpcs, EV_ALL);
}

static void test_a_suspended_call_survives_a_death(void **state)
{
	(void)state;
	every_instant(&plain, pre_yield, sc_share_while_suspended, EV_ALL);
}

static void test_death_in_a_destruction(void **state)
{
	(void)state;
	every_instant(&plain, pre_dying, sc_destroy_dying,
		      EV_SMC | EV_SMC_BEFORE | EV_UNPIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_death_in_a_share),
		cmocka_unit_test(test_death_in_a_fragmented_share),
		cmocka_unit_test(test_death_in_a_held_fragmented_share),
		cmocka_unit_test(test_death_in_a_reclaim),
		cmocka_unit_test(test_death_in_a_call_with_rpcs),
		cmocka_unit_test(test_a_suspended_call_survives_a_death),
		cmocka_unit_test(test_death_in_a_destruction),
		cmocka_unit_test(
			test_death_after_a_reclaim_whose_handle_came_back),
		cmocka_unit_test(test_death_in_a_share_refused_for_its_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
