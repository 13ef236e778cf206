// SPDX-License-Identifier: BSD-2-Clause
/*
 * The adversarial suite over FF-A (issue 12): the model is OP-TEE as the
 * S-EL1 SPMC, src/ffa mediates, and every guest's driver speaks FF-A.
 *
 * One test per attack of the FF-A catalogue (src/guest/hostile_ffa.c),
 * each on a fresh machine with a bystander running the mixed workload;
 * then attacks that name what the bystander really has: one of its live
 * memory handles (reclaimed, named in a call as an FMEM parameter, named
 * in a FRAG_TX) and one of its pages (as a constituent, as the RX/TX).
 * fx_down() then checks the bystander's results, the oracle's count (0),
 * and that nothing leaked (fixture.h).
 *
 * Run one: test_adversarial_ffa <name>. CTest registers each name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "fixture.h"

#define PG 4096u
#define PTA_UUID PTA_INVOKE_TESTS_UUID

static const struct fx_opts ffa_opts = { .ffa = true, .by_seconds = 2 };

/* ---- the catalogue, one test per attack ----------------------------------- */

static void catalogue_main(struct tg_vcpu *v, void *arg)
{
	const char *name = arg;
	struct tg_attack_result res[64];
	const struct tg_attack *t;
	size_t n = tg_hostile_ffa_catalogue(&t), i;
	struct tg_hostile_opts o = { .rounds = 1, .only = name,
				     .results = res };

	if (n > 64)
		return;
	tg_workload_hostile(v, &o);
	for (i = 0; i < n; i++) {
		if (strcmp(t[i].name, name))
			continue;
		mb_report(v, 0, res[i].a0, res[i].ret, res[i].origin);
		mb_put(v, MB_EXTRA, res[i].refused);
		mb_put(v, MB_EXTRA + 1, res[i].passed);
		mb_put(v, MB_EXTRA + 2, res[i].skipped);
	}
}

/*
 * The catalogue's verdict must be "refused" once (its driver speaks
 * FF-A: the FF-A table ran), and the answer the one its table gives.
 */
static void catalogue_test(void **state)
{
	const char *name = *state;
	const struct tg_attack *t;
	size_t n = tg_hostile_ffa_catalogue(&t), i;
	struct fx f;

	for (i = 0; i < n && strcmp(t[i].name, name); i++)
		;
	assert_true(i < n);
	fx_up(&f, &ffa_opts);
	fx_attack(&f, catalogue_main, (void *)name, strlen(name) + 1, 3);
	assert_int_equal(fx_value(&f, MB_EXTRA + 2), 0); /* not skipped */
	assert_int_equal(fx_value(&f, MB_EXTRA + 1), 0); /* not passed */
	assert_int_equal(fx_value(&f, MB_EXTRA), 1);	  /* refused */
	if (t[i].expect.kind == TG_EXPECT_FFA_ERROR) {
		assert_int_equal(fx_a0(&f, 0), FFA_ERROR);
		assert_int_equal(fx_ret(&f, 0), t[i].expect.code);
	} else {
		assert_int_equal(t[i].expect.kind, TG_EXPECT_FFA_W3);
		assert_int_equal(fx_a0(&f, 0), FFA_MSG_SEND_DIRECT_RESP_32);
		assert_int_equal(fx_ret(&f, 0), t[i].expect.code);
	}
	fx_down(&f);
}

/* ---- attacks that name what the bystander has ------------------------------- */

/* What a test gives its attacker (copied into the process at fork). */
struct p {
	uint64_t handle; /* a live share of the bystander's */
	uint64_t pa;	 /* a page of the bystander's (its PA) */
	uint32_t other_id;
};

static void ffa(struct tg_vcpu *v, uint64_t r[8], uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, uint64_t a4)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
	r[4] = a4;
	tg_smc(v, r);
}

/* Report step @k: a0 and, for FFA_ERROR, the error (else w3). */
static void report(struct tg_vcpu *v, unsigned int k, const uint64_t r[8])
{
	mb_report(v, k, (uint32_t)r[0],
		  (uint32_t)(r[0] == FFA_ERROR ? r[2] : r[3]), 0);
}

static bool has_handle(struct fx *f, uint32_t id, uint64_t h)
{
	uint64_t hs[64];
	uint32_t n = tg_model_ffa_handles(tg_machine_model(f->m), id, hs, 64);

	for (uint32_t i = 0; i < n; i++)
		if (hs[i] == h)
			return true;
	return false;
}

/*
 * A handle of the bystander's that lives: seen in the SPMC for 200 ms
 * (its driver's argument cache, not a temporary share that may be gone
 * when the attacker runs). At most 10 s.
 */
static uint64_t bystander_handle(struct fx *f)
{
	uint32_t id = tg_guest_client_id(f->by);
	uint64_t h[8];

	for (int i = 0; i < 500; i++) {
		uint32_t n = tg_model_ffa_handles(tg_machine_model(f->m), id,
						  h, 8);

		for (uint32_t k = 0; k < n; k++) {
			int seen = 0;

			while (seen < 10 && has_handle(f, id, h[k])) {
				usleep(20000);
				seen++;
			}
			if (seen == 10)
				return h[k];
		}
		usleep(20000);
	}
	fail_msg("the bystander never kept a share with OP-TEE");
	return 0;
}

/* Reclaim the bystander's live share, ours by guess. */
static void reclaim_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct tg_optee *drv;
	uint64_t r[8];

	if (tg_optee_get(v, &drv))
		return;
	ffa(v, r, FFA_MEM_RECLAIM, FFA_HANDLE_LO(p->handle),
	    FFA_HANDLE_HI(p->handle), 0, 0);
	report(v, 0, r);
	/* its next fragment, as if the transaction were ours */
	ffa(v, r, FFA_MEM_FRAG_TX, FFA_HANDLE_LO(p->handle),
	    FFA_HANDLE_HI(p->handle), FFA_MEM_CONSTITUENT_SIZE, 0);
	report(v, 1, r);
	tg_optee_put(drv);
	/* a second for the test to read our domain's counters */
	mb_report(v, 2, 1, 0, 0);
	usleep(1000000);
}

static void test_reclaim_of_another_guests_live_handle_is_refused(void **s)
{
	struct p p = { 0 };
	struct fx f;

	(void)s;
	fx_up(&f, &ffa_opts);
	p.handle = bystander_handle(&f);
	fx_start(&f, reclaim_main, &p, sizeof(p), 2, fx_mode());
	assert_true(fx_wait_step(&f, 2, 30000));
	{
		/* the mediator refused both, it did not ask the SPMC: the
		 * reclaim (not its handle), the fragment (no transaction) */
		struct tg_domain_stats ds;

		assert_int_equal(tg_domain_stats(tg_machine_mediator(f.m),
						 f.att_id, &ds),
				 TG_OK);
		assert_int_equal(ds.refused[TG_REFUSE_BAD_COOKIE], 1);
		assert_int_equal(ds.refused[TG_REFUSE_BAD_PARAM], 1);
	}
	/* and the bystander still has it */
	assert_true(has_handle(&f, tg_guest_client_id(f.by), p.handle));
	fx_end(&f, false);
	assert_int_equal(fx_a0(&f, 0), FFA_ERROR);
	assert_int_equal(fx_ret(&f, 0), (uint32_t)FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(fx_a0(&f, 1), FFA_ERROR);
	assert_int_equal(fx_ret(&f, 1), (uint32_t)FFA_RET_INVALID_PARAMETERS);
	fx_down(&f);
}

/* A yielding call whose FMEM parameter is the bystander's handle. */
static void fmem_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t pta[16] = PTA_UUID;
	const struct p *p = arg;
	struct tg_optee_result res;
	struct tg_optee *drv;
	uint32_t session;
	struct {
		struct optee_msg_arg hdr;
		struct optee_msg_param prm[1];
	} m;
	struct optee_msg_param_fmem fm = { 0 };
	uint32_t smc_ret = 0;

	if (tg_optee_get(v, &drv))
		return;
	if (tg_optee_open_session(drv, pta, OPTEE_MSG_LOGIN_PUBLIC, NULL, 0, NULL,
				  0, &session, &res) ||
	    res.ret != TEEC_SUCCESS) {
		tg_optee_put(drv);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.hdr.cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	m.hdr.func = PTA_INVOKE_TESTS_CMD_PARAMS;
	m.hdr.session = session;
	m.hdr.num_params = 1;
	m.prm[0].attr = OPTEE_MSG_ATTR_TYPE_FMEM_INOUT;
	fm.size = 64;
	fm.global_id = p->handle;
	memcpy(&m.prm[0].u, &fm, sizeof(fm));
	tg_optee_raw_call(drv, &m.hdr, &smc_ret);
	mb_report(v, 0, smc_ret, m.hdr.ret, m.hdr.ret_origin);
	tg_optee_close_session(drv, session, NULL);
	tg_optee_put(drv);
}

static void test_call_naming_another_guests_handle_is_bad_parameters(void **s)
{
	struct p p = { 0 };
	struct fx f;

	(void)s;
	fx_up(&f, &ffa_opts);
	p.handle = bystander_handle(&f);
	fx_attack(&f, fmem_main, &p, sizeof(p), 2);
	/* OP-TEE looks the handle up in the caller's partition only */
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_TEE);
	fx_down(&f);
}

/*
 * The bystander's page (its PA) as a constituent of a share, and as the
 * attacker's RX/TX: an address that is no RAM of the attacker's.
 */
static void page_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	const struct tg_optee_info *in;
	struct ffa_mem_trans t = { 0 };
	struct ffa_mem_access_1_2 a;
	struct ffa_mem_composite c = { 0 };
	struct ffa_mem_constituent k = { 0 };
	struct tg_optee *drv;
	uint64_t r[8];
	uint8_t *tx;
	uint32_t off = FFA_MEM_TRANS_SIZE;

	if (tg_optee_get(v, &drv))
		return;
	in = tg_optee_info(drv);
	tx = tg_ipa_ptr(v, in->ffa_tx_ipa);
	t.sender_id = in->ffa_id;
	t.mem_attr = FFA_MEM_ATTR_NORMAL_WB_IS;
	t.access_size = FFA_MEM_ACCESS_1_2_SIZE;
	t.access_count = 1;
	t.access_offset = off;
	memset(&a, 0, sizeof(a));
	a.perm.endpoint_id = in->ffa_optee_id;
	a.perm.perm = FFA_MEM_DATA_RW;
	a.composite_offset = off + FFA_MEM_ACCESS_1_2_SIZE;
	c.total_page_count = 1;
	c.constituent_count = 1;
	k.address = p->pa;
	k.page_count = 1;
	memcpy(tx, &t, sizeof(t));
	memcpy(tx + off, &a, sizeof(a));
	off += FFA_MEM_ACCESS_1_2_SIZE;
	memcpy(tx + off, &c, sizeof(c));
	off += FFA_MEM_COMPOSITE_SIZE;
	memcpy(tx + off, &k, sizeof(k));
	off += FFA_MEM_CONSTITUENT_SIZE;
	ffa(v, r, FFA_MEM_SHARE_32, off, off, 0, 0);
	report(v, 0, r);
	/* the RX/TX: unmap ours, ask for the bystander's page, ours back */
	ffa(v, r, FFA_RXTX_UNMAP, FFA_PACK_IDS(in->ffa_id, 0), 0, 0, 0);
	ffa(v, r, FFA_RXTX_MAP_64, p->pa, in->ffa_rx_ipa, 1, 0);
	report(v, 1, r);
	ffa(v, r, FFA_RXTX_MAP_64, in->ffa_tx_ipa, in->ffa_rx_ipa,
	    in->ffa_rxtx_pages, 0);
	report(v, 2, r);
	tg_optee_put(drv);
}

static void test_another_guests_page_in_a_share_or_rxtx_is_refused(void **s)
{
	struct p p = { 0 };
	struct fx f;

	(void)s;
	fx_up(&f, &ffa_opts);
	p.pa = fx_find_page(&f, tg_guest_client_id(f.by), FX_ATT_PAGES);
	assert_true(p.pa != 0);
	fx_attack(&f, page_main, &p, sizeof(p), 2);
	assert_int_equal(fx_a0(&f, 0), FFA_ERROR);
	assert_int_equal(fx_ret(&f, 0), (uint32_t)FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(fx_a0(&f, 1), FFA_ERROR);
	assert_int_equal(fx_ret(&f, 1), (uint32_t)FFA_RET_INVALID_PARAMETERS);
	assert_int_equal(fx_a0(&f, 2), FFA_SUCCESS_32);
	fx_down(&f);
}

/* ---- the table ------------------------------------------------------------ */

#define T(fn) cmocka_unit_test(fn)
#define CAT(name)                                               \
	{                                                        \
		name, catalogue_test, NULL, NULL, (void *)(name) \
	}

static const struct CMUnitTest all_tests[] = {
	CAT("ffa_forged_sender"),
	CAT("ffa_direct_req_to_vm"),
	CAT("ffa_direct_req_unknown_sp"),
	CAT("ffa_vm_created"),
	CAT("ffa_vm_destroyed"),
	CAT("ffa_resume_other_thread"),
	CAT("ffa_run_vm"),
	CAT("ffa_share_forged_sender"),
	CAT("ffa_share_foreign_page"),
	CAT("ffa_share_overlap"),
	CAT("ffa_share_device_attr"),
	CAT("ffa_share_total_mismatch"),
	CAT("ffa_share_too_many_pages"),
	CAT("ffa_share_own_buffer"),
	CAT("ffa_frag_bad_length"),
	CAT("ffa_frag_foreign_handle"),
	CAT("ffa_reclaim_foreign_handle"),
	CAT("ffa_donate"),
	CAT("ffa_retrieve"),
	CAT("ffa_exhaust_shares"),
	CAT("ffa_rxtx_map_foreign"),
	CAT("ffa_notif_bind_other_vm"),
	CAT("ffa_notif_get_other_vm"),
	CAT("ffa_bitmap_create"),
	T(test_reclaim_of_another_guests_live_handle_is_refused),
	T(test_call_naming_another_guests_handle_is_bad_parameters),
	T(test_another_guests_page_in_a_share_or_rxtx_is_refused),
};

#define NTESTS (sizeof(all_tests) / sizeof(all_tests[0]))

int main(int argc, char **argv)
{
	const struct tg_attack *t;
	size_t i;

	/* Every attack of the catalogue has its test (in the same order). */
	if (tg_hostile_ffa_catalogue(&t) != 24) {
		fprintf(stderr, "the FF-A catalogue changed: add its tests\n");
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NTESTS; i++)
			printf("%s\n", all_tests[i].name);
		return 0;
	}
	if (argc == 2) {
		for (i = 0; i < NTESTS; i++)
			if (!strcmp(all_tests[i].name, argv[1]))
				return _cmocka_run_group_tests(
					"adversarial_ffa", &all_tests[i], 1,
					NULL, NULL);
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return _cmocka_run_group_tests("adversarial_ffa", all_tests, NTESTS,
				       NULL, NULL);
}
