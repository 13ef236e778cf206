// SPDX-License-Identifier: BSD-2-Clause
/*
 * The attack catalogue as tests: one test per attack, named after what it
 * attacks and what the guest must get. Each runs on a fresh machine with a
 * bystander guest running the mixed workload at the same time; fx_down()
 * then checks that the bystander's results were all right, that the oracle
 * counted nothing and that nothing leaked (see fixture.h).
 *
 * Run one: test_adversarial <name>. CTest registers each name.
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

#include <teegate/workload.h>

#include "attacks.h"
#include "fixture.h"
#include "model_tas.h"

#define UNKNOWN OPTEE_SMC_RETURN_UNKNOWN_FUNCTION
#define COMMS TEEC_ORIGIN_COMMS
#define RESERVED_SHM_PA 0x42000000ull /* QEMU virt OP-TEE reserved SHM */

/* What a test gives its attacker (copied into a process guest at fork). */
struct p {
	uint64_t pa;	   /* a machine address that is not the attacker's */
	uint32_t other_id; /* the bystander's client id */
	uint32_t handle;   /* a resume handle taken from another guest */
	uint64_t cookie;
	uint32_t n;
	/* thread-mode tests only: shared with the test */
	volatile int step, go;
	volatile uint64_t ipa;
};

/* ---- the hostile catalogue, one test per attack -------------------------- */

/* Which attack, and the victim the victim attacks name. */
struct cat_arg {
	char name[64]; /* the bytes: a process guest gets a copy */
	uint64_t victim_addr;
	uint32_t victim_client;
};

static void catalogue_main(struct tg_vcpu *v, void *arg)
{
	const struct cat_arg *ca = arg;
	const char *name = ca->name;
	struct tg_attack_result res[64];
	const struct tg_attack *t;
	size_t n = tg_hostile_catalogue(&t), i;
	struct tg_hostile_opts o = { .rounds = 1,
				     .only = name,
				     .results = res,
				     .victim_addr = ca->victim_addr,
				     .victim_client = ca->victim_client };

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

static uint64_t bystander_page(struct fx *f);

/*
 * The catalogue's own verdict must be "refused" once, and the answer the
 * exact one its table gives; attacks whose table entry only asks for a
 * clean answer are pinned down here.
 */
static void catalogue_test(void **state)
{
	const char *name = *state;
	struct cat_arg ca = { 0 };
	const struct tg_attack *t;
	size_t n = tg_hostile_catalogue(&t), i;
	struct fx f;

	for (i = 0; i < n && strcmp(t[i].name, name); i++)
		;
	assert_true(i < n);
	assert_true(strlen(name) < sizeof(ca.name));
	strcpy(ca.name, name);
	fx_up(&f, NULL);
	/* The victim attacks name the bystander: one of its pages (its PA,
	 * which is no IPA of the attacker's RAM) and its client id. */
	ca.victim_addr = bystander_page(&f);
	ca.victim_client = tg_guest_client_id(f.by);
	/* vCPU 1 is the driver's notification vCPU; the TOCTOU attacks
	 * scribble from vCPU 2 */
	fx_attack(&f, catalogue_main, &ca, sizeof(ca), 4);
	assert_int_equal(fx_value(&f, MB_EXTRA + 2), 0); /* not skipped */
	assert_int_equal(fx_value(&f, MB_EXTRA + 1), 0); /* not passed */
	assert_int_equal(fx_value(&f, MB_EXTRA), 1);	  /* refused */
	switch (t[i].expect.kind) {
	case TG_EXPECT_A0:
		fx_expect_a0(&f, 0, t[i].expect.code);
		break;
	case TG_EXPECT_MSG:
		fx_expect_msg(&f, 0, t[i].expect.code, t[i].expect.origin);
		break;
	case TG_EXPECT_NOT_BREACHED:
		/* The bystander's PA read as the attacker's IPA: no RAM. */
		if (!strcmp(name, "arg_in_victim_memory"))
			fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_EBADADDR);
		else if (!strcmp(name, "forged_a7_session"))
			/* a7 is the hypervisor's to write: the call runs as
			 * the attacker, on its own session */
			fx_expect_msg(&f, 0, TEEC_SUCCESS, 0);
		else
			fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS,
				      TEEC_ORIGIN_COMMS);
		break;
	default:
		if (!strcmp(name, "pagelist_loop"))
			/*
			 * The walk is bounded by the size: 1200 entries read
			 * from the one list page, each the guest's own data
			 * page (aliasing is allowed), so the call runs.
			 */
			fx_expect_msg(&f, 0, TEEC_SUCCESS, 0);
		else
			/* TOCTOU: the last of 200 calls answered normally */
			assert_true(fx_a0(&f, 0) <= OPTEE_SMC_RETURN_ENOTAVAIL);
		break;
	}
	fx_down(&f);
}

/* ---- addresses ----------------------------------------------------------- */

/* A page of the bystander whose address is no IPA of the attacker's RAM. */
static uint64_t bystander_page(struct fx *f)
{
	uint32_t id = tg_guest_client_id(f->by);
	uint64_t pa = fx_find_page(f, id, FX_ATT_PAGES);

	assert_true(pa != 0);
	return pa;
}

static void arg_at_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	atk_call_at(&a, OPTEE_SMC_CALL_WITH_ARG, p->pa, &o);
	mb_report(v, 0, o.a0, 0, 0);
	atk_call_at(&a, OPTEE_SMC_CALL_WITH_RPC_ARG, p->pa, &o);
	mb_report(v, 1, o.a0, 0, 0);
	atk_fini(&a);
}

static void list_entry_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	atk_list(&a, 3);
	((uint64_t *)(void *)a.list)[1] = p->pa;
	atk_tmem(&m->params[0], a.list_ipa, 3 * PG);
	atk_send(&a, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	/* and as a page of a buffer to register */
	m = atk_msg(&a, OPTEE_MSG_CMD_REGISTER_SHM, 1);
	atk_list(&a, 2);
	((uint64_t *)(void *)a.list)[0] = p->pa;
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	m->params[0].u.tmem.buf_ptr = a.list_ipa;
	m->params[0].u.tmem.size = 2 * PG;
	m->params[0].u.tmem.shm_ref = 0x4100;
	atk_send(&a, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void run_arg_at(uint64_t (*where)(struct fx *))
{
	struct fx f;
	struct p p = { 0 };

	fx_up(&f, NULL);
	p.pa = where(&f);
	fx_attack(&f, arg_at_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_EBADADDR);
	fx_expect_a0(&f, 1, OPTEE_SMC_RETURN_EBADADDR);
	fx_down(&f);
}

static void run_list_entry(uint64_t (*where)(struct fx *))
{
	struct fx f;
	struct p p = { 0 };

	fx_up(&f, NULL);
	p.pa = where(&f);
	fx_attack(&f, list_entry_main, &p, sizeof(p), 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_expect_msg(&f, 1, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_down(&f);
}

static uint64_t mediator_page(struct fx *f)
{
	uint64_t pa = fx_find_page(f, TG_OWNER_MEDIATOR, FX_ATT_PAGES);

	assert_true(pa != 0);
	return pa;
}

static uint64_t reserved_page(struct fx *f)
{
	(void)f;
	return RESERVED_SHM_PA;
}

static void addr_arg_in_another_guests_page_is_ebadaddr(void **state)
{
	(void)state;
	run_arg_at(bystander_page);
}

static void addr_arg_in_a_mediator_page_is_ebadaddr(void **state)
{
	(void)state;
	run_arg_at(mediator_page);
}

static void addr_arg_in_the_reserved_shm_region_is_ebadaddr(void **state)
{
	(void)state;
	run_arg_at(reserved_page);
}

static void addr_list_entry_in_another_guests_page_is_bad_parameters(
	void **state)
{
	(void)state;
	run_list_entry(bystander_page);
}

static void addr_list_entry_in_a_mediator_page_is_bad_parameters(void **state)
{
	(void)state;
	run_list_entry(mediator_page);
}

static void addr_list_entry_in_the_reserved_region_is_bad_parameters(
	void **state)
{
	(void)state;
	run_list_entry(reserved_page);
}

/* RMEM window whose offset + size wraps around 2^64. */
static void rmem_wrap_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	atk_register(&a, a.data_ipa, 1, 0x4200, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	m->params[0].u.rmem.offs = 0xFFFFFFFFFFFFF000ull;
	m->params[0].u.rmem.size = 0x2000;
	m->params[0].u.rmem.shm_ref = 0x4200;
	atk_send(&a, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_unregister(&a, 0x4200, &o);
	mb_report(v, 2, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void addr_rmem_offset_plus_size_wrapping_is_bad_parameters(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, rmem_wrap_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_SUCCESS, 0);
	fx_expect_msg(&f, 1, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_expect_msg(&f, 2, TEEC_SUCCESS, 0);
	fx_down(&f);
}

/* ---- page lists ----------------------------------------------------------- */

static void next_foreign_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	atk_list(&a, 600);
	*(uint64_t *)(void *)(a.list + 4088) = p->pa; /* next list page */
	atk_tmem(&m->params[0], a.list_ipa, 600ull * PG);
	atk_send(&a, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void list_next_pointer_into_another_guests_page_is_bad_parameters(
	void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, next_foreign_main, &p, sizeof(p), 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_down(&f);
}

static void disagree_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	/* offset 0x800 + 4096 bytes needs two pages; the list has one */
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	atk_list(&a, 1);
	atk_tmem(&m->params[0], a.list_ipa | 0x800, PG);
	atk_send(&a, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	/* the offset in buf_ptr beyond a page of the list: an entry of
	 * page-offset bits that is not a page address */
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	atk_list(&a, 2);
	((uint64_t *)(void *)a.list)[1] = a.data_ipa + 0x10;
	atk_tmem(&m->params[0], a.list_ipa, 2 * PG);
	atk_send(&a, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void list_size_and_offset_that_disagree_are_bad_parameters(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, disagree_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_expect_msg(&f, 1, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_down(&f);
}

/* ---- messages ------------------------------------------------------------- */

static void meta_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_OPEN_SESSION, 3);
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	m->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	m->params[2].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	atk_send(&a, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void msg_meta_on_a_third_open_session_param_is_bad_parameters(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, meta_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_down(&f);
}

/* ---- TOCTOU: a second vCPU rewrites while the call runs ----------------- */

#define TOCTOU_CALLS 300u

/* Count answers outside @ok (a0 values) into the report. */
static bool a0_in(uint32_t a0, const uint32_t *ok, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a0 == ok[i])
			return true;
	return false;
}

/* The argument: an INVOKE whose page list names the bystander's page. */
static void toctou_arg_main(struct tg_vcpu *v, void *arg)
{
	static const uint32_t ok[] = { OPTEE_SMC_RETURN_OK,
				       OPTEE_SMC_RETURN_EBADADDR,
				       OPTEE_SMC_RETURN_EBADCMD };
	const struct p *p = arg;
	uint32_t i, bad = 0, okays = 0;
	struct atk a;
	int s;

	if (atk_init(&a, v))
		return;
	s = atk_scribble_start(&a, a.arg, 96, p->pa);
	for (i = 0; s >= 0 && i < TOCTOU_CALLS; i++) {
		struct optee_msg_arg *m =
			atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 2);
		struct ans o;

		atk_list(&a, 1);
		atk_tmem(&m->params[0], a.list_ipa, 16);
		m->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		atk_send(&a, &o);
		if (!a0_in(o.a0, ok, 3))
			bad++;
		okays += o.a0 == OPTEE_SMC_RETURN_OK;
	}
	atk_scribble_stop(&a, s);
	mb_report(v, 0, s < 0 ? 1 : bad, okays, 0);
	atk_fini(&a);
}

static void toctou_argument_rewritten_during_calls_answers_cleanly(
	void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, toctou_arg_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, 0); /* no answer outside OK/EBADADDR/EBADCMD */
	fx_down(&f);
}

/* The page list: entries become the bystander's page at random. */
static void toctou_list_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	uint32_t i, bad = 0, good = 0;
	struct atk a;
	int s;

	if (atk_init(&a, v))
		return;
	atk_list(&a, 4);
	s = atk_scribble_start(&a, a.list, 32, p->pa);
	for (i = 0; s >= 0 && i < TOCTOU_CALLS; i++) {
		struct optee_msg_arg *m =
			atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
		struct ans o;

		atk_tmem(&m->params[0], a.list_ipa, 4 * PG);
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_INOUT |
				    OPTEE_MSG_ATTR_NONCONTIG;
		atk_send(&a, &o);
		/* either the TEE got the guest's pages or the call was
		 * refused: nothing else */
		if (o.a0 != 0 || (o.ret != TEEC_SUCCESS &&
				  o.ret != TEEC_ERROR_BAD_PARAMETERS))
			bad++;
		good += o.ret == TEEC_SUCCESS;
	}
	atk_scribble_stop(&a, s);
	mb_report(v, 0, s < 0 ? 1 : bad, good, 0);
	atk_fini(&a);
}

static void toctou_page_list_rewritten_during_calls_is_seen_once(
	void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, toctou_list_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, 0);
	fx_down(&f);
}

/*
 * The RPC argument: GET_TIME with CALL_WITH_RPC_ARG; while the call waits
 * in its RPC, and while the guest answers, the scribbler rewrites the RPC
 * argument (command, count, types, the bystander's address as a buffer).
 */
static void toctou_rpc_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	uint32_t i, bad = 0, rpcs = 0;
	struct atk a;
	int s;

	if (atk_init(&a, v))
		return;
	/* argument: 2 params (64 bytes + header), RPC argument right after */
	s = atk_scribble_start(&a, (uint8_t *)a.arg + 96, 160, p->pa);
	for (i = 0; s >= 0 && i < TOCTOU_CALLS; i++) {
		struct optee_msg_arg *m =
			atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 2);
		uint64_t regs[8] = { OPTEE_SMC_CALL_WITH_RPC_ARG,
				     a.arg_ipa >> 32, (uint32_t)a.arg_ipa };
		uint32_t n = 0;

		m->session = a.s_stats;
		m->func = PTA_STATS_CMD_GET_TIME;
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		m->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		tg_smc(v, regs);
		while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 1000) {
			rpcs++;
			regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
			tg_smc(v, regs);
		}
		if (regs[0] != OPTEE_SMC_RETURN_OK)
			bad++;
	}
	atk_scribble_stop(&a, s);
	mb_report(v, 0, s < 0 ? 1 : bad, rpcs, 0);
	atk_fini(&a);
}

static void toctou_rpc_argument_rewritten_during_rpc_changes_nothing(
	void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, toctou_rpc_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, 0);		 /* every call ended with OK */
	assert_true(fx_ret(&f, 0) > 0); /* and went through its RPC */
	fx_down(&f);
}

/* The registered page that CALL_WITH_REGD_ARG names. */
static void toctou_regd_main(struct tg_vcpu *v, void *arg)
{
	static const uint32_t ok[] = { OPTEE_SMC_RETURN_OK,
				       OPTEE_SMC_RETURN_EBADADDR,
				       OPTEE_SMC_RETURN_EBADCMD };
	const struct p *p = arg;
	uint32_t i, bad = 0, okays = 0;
	struct optee_msg_arg *m = NULL;
	struct atk a;
	struct ans o;
	uint64_t page;
	int s = -1;

	if (atk_init(&a, v))
		return;
	if (!tg_alloc_pages(v, 1, &page)) {
		m = tg_ipa_ptr(v, page);
		atk_register(&a, page, 1, 0x4300, &o);
		if (o.a0 || o.ret)
			m = NULL;
	}
	if (m)
		s = atk_scribble_start(&a, m, 128, p->pa);
	for (i = 0; s >= 0 && i < TOCTOU_CALLS; i++) {
		uint64_t regs[8] = { OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x4300,
				     0 };

		memset(m, 0, 128);
		m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
		m->session = a.s_tests;
		m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
		m->num_params = 1;
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		tg_smc(v, regs);
		atk_finish(&a, regs);
		if (!a0_in((uint32_t)regs[0], ok, 3))
			bad++;
		okays += regs[0] == OPTEE_SMC_RETURN_OK;
	}
	atk_scribble_stop(&a, s);
	mb_report(v, 0, s < 0 ? 1 : bad, okays, 0);
	atk_unregister(&a, 0x4300, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void toctou_registered_argument_of_regd_arg_rewritten_answers_cleanly(
	void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, toctou_regd_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, 0);
	fx_expect_msg(&f, 1, TEEC_SUCCESS, 0); /* no call holds it now */
	fx_down(&f);
}

/* ---- cookies -------------------------------------------------------------- */

#define VICTIM_COOKIE 0x5EC00001ull

/* Registers a page under VICTIM_COOKIE and keeps calling through it. */
static void cookie_victim_main(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	const struct p *p = arg;
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;
	uint64_t page;
	uint32_t i;

	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &page))
		return;
	atk_register(&a, page, 1, VICTIM_COOKIE, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	m = tg_ipa_ptr(v, page);
	for (i = 0; i < p->n; i++) {
		uint64_t regs[8] = { OPTEE_SMC_CALL_WITH_REGD_ARG,
				     VICTIM_COOKIE >> 32,
				     (uint32_t)VICTIM_COOKIE, 0 };

		memset(m, 0, 128);
		m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
		m->session = a.s_tests;
		m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
		m->num_params = 1;
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
		m->params[0].u.value.a = i;
		m->params[0].u.value.b = 7;
		tg_smc(v, regs);
		atk_finish(&a, regs);
		if (regs[0] == 0 && m->ret == 0 &&
		    m->params[0].u.value.a == i + 7)
			c->verified++;
		else
			c->mismatches++;
		usleep(1000);
	}
	atk_unregister(&a, VICTIM_COOKIE, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void cookie_thief_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	m->params[0].u.rmem.size = 16;
	m->params[0].u.rmem.shm_ref = VICTIM_COOKIE;
	atk_send(&a, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	atk_smc(&a, OPTEE_SMC_CALL_WITH_REGD_ARG, VICTIM_COOKIE >> 32,
		(uint32_t)VICTIM_COOKIE, 0, 0, &o);
	mb_report(v, 1, o.a0, 0, 0);
	atk_unregister(&a, VICTIM_COOKIE, &o);
	mb_report(v, 2, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void cookie_of_another_guest_is_bad_parameters(void **state)
{
	struct tg_guest_stats vs;
	struct tg_guest *victim;
	struct fx f;
	struct p p = { .n = 400 };

	(void)state;
	fx_up(&f, NULL);
	victim = fx_start_guest(&f, "victim", cookie_victim_main, &p, sizeof(p),
				2, FX_ATT_PAGES, fx_mode());
	/* the thief starts once the victim's cookie is registered */
	f.att = victim;
	assert_true(fx_wait_step(&f, 0, 20000));
	f.att = NULL;
	fx_attack(&f, cookie_thief_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_expect_a0(&f, 1, OPTEE_SMC_RETURN_EBADADDR);
	fx_expect_msg(&f, 2, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	/* the victim's buffer served every one of its calls */
	fx_end_guest(&f, victim, false, &vs);
	assert_int_equal(vs.counters.verified, p.n);
	assert_int_equal(vs.counters.lat_hist[4 * 1 + 1], TEEC_SUCCESS);
	assert_int_equal(vs.counters.lat_hist[4 * 1 + 3], 1);
	fx_down(&f);
}

static void reuse_main(struct tg_vcpu *v, void *arg)
{
	struct optee_msg_arg *m;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	atk_register(&a, a.data_ipa, 1, 0x4400, &o);
	mb_report(v, 0, o.a0, o.ret, o.origin);
	atk_unregister(&a, 0x4400, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
	m->params[0].u.rmem.size = 16;
	m->params[0].u.rmem.shm_ref = 0x4400;
	atk_send(&a, &o);
	mb_report(v, 2, o.a0, o.ret, o.origin);
	atk_smc(&a, OPTEE_SMC_CALL_WITH_REGD_ARG, 0, 0x4400, 0, 0, &o);
	mb_report(v, 3, o.a0, 0, 0);
	atk_unregister(&a, 0x4400, &o);
	mb_report(v, 4, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void cookie_reused_after_unregister_is_bad_parameters(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, reuse_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_SUCCESS, 0);
	fx_expect_msg(&f, 1, TEEC_SUCCESS, 0);
	fx_expect_msg(&f, 2, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_expect_a0(&f, 3, OPTEE_SMC_RETURN_EBADADDR);
	fx_expect_msg(&f, 4, TEEC_ERROR_BAD_PARAMETERS, COMMS);
	fx_down(&f);
}

/* ---- threads (resume handles) --------------------------------------------- */

/* Suspends a yield call, reports its handle, waits, then finishes it. */
static void resume_victim_main(struct tg_vcpu *v, void *arg)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	const struct p *p = arg;
	struct optee_msg_arg *m;
	uint64_t regs[8], page;
	struct atk a;
	uint32_t n = 0;

	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &page))
		return;
	atk_yield_start(&a, page, a.s_yield, 3, regs);
	mb_put(v, MB_EXTRA, regs[3]);
	mb_report(v, 0, (uint32_t)regs[0], 0, 0);
	usleep(p->n * 1000);
	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 100)
		atk_resume(&a, (uint32_t)regs[3], regs);
	m = tg_ipa_ptr(v, page);
	if (regs[0] == 0 && m->ret == 0 && m->params[0].u.value.b == 3)
		c->verified++;
	else
		c->mismatches++;
	mb_report(v, 1, (uint32_t)regs[0], m->ret, m->ret_origin);
	atk_fini(&a);
}

static void resume_thief_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	uint64_t regs[8] = { OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, p->handle };

	tg_smc(v, regs);
	mb_report(v, 0, (uint32_t)regs[0], 0, 0);
}

static void thread_return_from_rpc_with_another_guests_handle_is_eresume(
	void **state)
{
	struct tg_guest_stats vs;
	struct tg_guest *victim;
	struct fx f;
	struct p p = { .n = 1500 };

	(void)state;
	fx_up(&f, NULL);
	victim = fx_start_guest(&f, "victim", resume_victim_main, &p, sizeof(p),
				2, FX_ATT_PAGES, fx_mode());
	f.att = victim;
	assert_true(fx_wait_step(&f, 0, 20000));
	p.handle = (uint32_t)fx_live_value(&f, MB_EXTRA);
	f.att = NULL;
	fx_attack(&f, resume_thief_main, &p, sizeof(p), 1);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_ERESUME);
	fx_end_guest(&f, victim, false, &vs);
	/* the victim's call was still waiting for it, and completed */
	assert_int_equal(vs.counters.lat_hist[0],
			 OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	assert_int_equal(vs.counters.lat_hist[4], 0);
	assert_int_equal(vs.counters.verified, 1);
	fx_down(&f);
}

static void double_resume_main(struct tg_vcpu *v, void *arg)
{
	uint64_t regs[8], page;
	struct atk a;
	uint32_t h;

	(void)arg;
	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &page))
		return;
	atk_yield_start(&a, page, a.s_yield, 1, regs);
	mb_report(v, 0, (uint32_t)regs[0], 0, 0);
	h = (uint32_t)regs[3];
	atk_resume(&a, h, regs);
	mb_report(v, 1, (uint32_t)regs[0],
		  ((struct optee_msg_arg *)tg_ipa_ptr(v, page))->ret, 0);
	atk_resume(&a, h, regs); /* the same handle again */
	mb_report(v, 2, (uint32_t)regs[0], 0, 0);
	atk_fini(&a);
}

static void thread_double_resume_is_eresume(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, double_resume_main, NULL, 0, 2);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	fx_expect_msg(&f, 1, TEEC_SUCCESS, 0);
	fx_expect_a0(&f, 2, OPTEE_SMC_RETURN_ERESUME);
	fx_down(&f);
}

/* A handle of a call that completed: nothing is waiting behind it. */
static void stale_main(struct tg_vcpu *v, void *arg)
{
	uint64_t regs[8], page;
	struct atk a;
	uint32_t h, n = 0;

	(void)arg;
	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &page))
		return;
	atk_yield_start(&a, page, a.s_yield, 2, regs);
	h = (uint32_t)regs[3];
	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 10)
		atk_resume(&a, (uint32_t)regs[3], regs);
	mb_report(v, 0, (uint32_t)regs[0], 0, 0);
	atk_resume(&a, h, regs);
	mb_report(v, 1, (uint32_t)regs[0], 0, 0);
	/* and a handle with the generation bits changed */
	atk_resume(&a, h ^ 0x100u, regs);
	mb_report(v, 2, (uint32_t)regs[0], 0, 0);
	atk_fini(&a);
}

static void thread_return_from_rpc_for_a_completed_call_is_eresume(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, stale_main, NULL, 0, 2);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_OK);
	fx_expect_a0(&f, 1, OPTEE_SMC_RETURN_ERESUME);
	fx_expect_a0(&f, 2, OPTEE_SMC_RETURN_ERESUME);
	fx_down(&f);
}

/*
 * "The guest's vCPU was reset": the vCPU that got the RPC stops (its
 * thread ends with the call suspended); a new vCPU resumes with the old
 * handle. Calls may be resumed from any vCPU (as in Linux): the call
 * completes, once; the old handle then gets ERESUME.
 */
struct reset_ctx {
	struct atk *a;
	uint64_t page;
	uint64_t regs[8];
};

static void reset_first_vcpu(struct tg_vcpu *v, void *arg)
{
	struct reset_ctx *r = arg;
	struct atk tmp = *r->a;

	tmp.v = v;
	atk_yield_start(&tmp, r->page, r->a->s_yield, 1, r->regs);
}

static void reset_new_vcpu(struct tg_vcpu *v, void *arg)
{
	struct reset_ctx *r = arg;
	struct atk tmp = *r->a;

	tmp.v = v;
	atk_resume(&tmp, (uint32_t)r->regs[3], r->regs);
}

static void reset_main(struct tg_vcpu *v, void *arg)
{
	struct reset_ctx r;
	struct atk a;
	uint32_t h;
	int i;

	(void)arg;
	if (atk_init(&a, v) || tg_alloc_pages(v, 1, &r.page))
		return;
	r.a = &a;
	i = tg_vcpu_spawn(v, reset_first_vcpu, &r);
	if (i < 0 || tg_vcpu_join(v, i))
		return;
	mb_report(v, 0, (uint32_t)r.regs[0], 0, 0);
	h = (uint32_t)r.regs[3];
	i = tg_vcpu_spawn(v, reset_new_vcpu, &r);
	if (i < 0 || tg_vcpu_join(v, i))
		return;
	mb_report(v, 1, (uint32_t)r.regs[0],
		  ((struct optee_msg_arg *)tg_ipa_ptr(v, r.page))->ret, 0);
	atk_resume(&a, h, r.regs);
	mb_report(v, 2, (uint32_t)r.regs[0], 0, 0);
	atk_fini(&a);
}

static void thread_resume_after_the_vcpu_was_reset_completes_once(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, reset_main, NULL, 0, 3);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	fx_expect_msg(&f, 1, TEEC_SUCCESS, 0);
	fx_expect_a0(&f, 2, OPTEE_SMC_RETURN_ERESUME);
	fx_down(&f);
}

/* ---- RPC answers ---------------------------------------------------------- */

/*
 * GET_TIME with CALL_WITH_ARG and no RPC shm cache: the TEE asks for its
 * RPC argument with RPC ALLOC; the guest answers with @p->pa.
 */
static void alloc_answer_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct optee_msg_arg *m;
	uint64_t regs[8];
	uint32_t n = 0, allocs = 0, frees = 0;
	struct atk a;

	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 2);
	m->session = a.s_stats;
	m->func = PTA_STATS_CMD_GET_TIME;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	m->params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_CALL_WITH_ARG;
	regs[1] = a.arg_ipa >> 32;
	regs[2] = (uint32_t)a.arg_ipa;
	tg_smc(v, regs);
	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 100) {
		switch (OPTEE_SMC_RPC_FUNC(regs[0])) {
		case OPTEE_SMC_RPC_FUNC_ALLOC:
			allocs++;
			regs[1] = p->pa >> 32;
			regs[2] = (uint32_t)p->pa;
			regs[4] = p->cookie >> 32;
			regs[5] = (uint32_t)p->cookie;
			break;
		case OPTEE_SMC_RPC_FUNC_FREE:
			frees++;
			/* answer naming a cookie nobody knows */
			regs[1] = 0;
			regs[2] = 0xBADC0DE;
			break;
		default:
			break;
		}
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		tg_smc(v, regs);
	}
	mb_report(v, 0, (uint32_t)regs[0], m->ret, m->ret_origin);
	mb_put(v, MB_EXTRA, allocs);
	mb_put(v, MB_EXTRA + 1, frees);
	atk_fini(&a);
}

static void run_alloc_answer(uint64_t (*where)(struct fx *), uint64_t cookie)
{
	struct fx f;
	struct p p = { .cookie = cookie };

	fx_up(&f, NULL);
	p.pa = where(&f);
	fx_attack(&f, alloc_answer_main, &p, sizeof(p), 2);
	/* the TEE saw "allocation failed": the command fails */
	fx_expect_msg(&f, 0, TEEC_ERROR_OUT_OF_MEMORY,
		      TEEC_ORIGIN_TRUSTED_APP);
	assert_int_equal(fx_value(&f, MB_EXTRA), 1);
	fx_down(&f);
}

static void rpc_alloc_answered_with_another_guests_page_fails_cleanly(
	void **state)
{
	(void)state;
	run_alloc_answer(bystander_page, 0);
}

static void rpc_alloc_answered_with_a_mediator_page_fails_cleanly(
	void **state)
{
	(void)state;
	run_alloc_answer(mediator_page, 0);
}

/* A cookie with the foreign page: the TEE refuses the buffer and asks to
 * free it; the guest answers that FREE naming an unknown cookie. */
static void rpc_free_answered_with_an_unknown_cookie_frees_nothing(
	void **state)
{
	(void)state;
	run_alloc_answer(bystander_page, 0x7777);
}

/*
 * Opening a TA that is not there walks FS and LOAD_TA RPCs; the TEE asks
 * for a buffer with SHM_ALLOC. The guest answers with a page list naming
 * @p->pa, or one whose next pointer loops (p->n = 1).
 */
static void shm_alloc_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t absent[16] = { 0xab, 0x5e, 0x47 };
	const struct p *p = arg;
	struct optee_msg_arg *m;
	uint64_t regs[8];
	uint32_t n = 0, shm_allocs = 0, other = 0;
	struct atk a;

	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_OPEN_SESSION, 2);
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	memcpy(&m->params[0].u.value, absent, 16);
	m->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	m->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_CALL_WITH_RPC_ARG;
	regs[1] = a.arg_ipa >> 32;
	regs[2] = (uint32_t)a.arg_ipa;
	tg_smc(v, regs);
	while (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && n++ < 100) {
		struct optee_msg_arg *r = (struct optee_msg_arg *)(void *)((
			uint8_t *)a.arg + OPTEE_MSG_GET_ARG_SIZE(2));

		if (OPTEE_SMC_RPC_FUNC(regs[0]) == OPTEE_SMC_RPC_FUNC_CMD) {
			if (r->cmd == OPTEE_RPC_CMD_SHM_ALLOC &&
			    r->num_params >= 1) {
				uint64_t size = r->params[0].u.value.b;

				shm_allocs++;
				atk_list(&a, p->n ? 511 : 2);
				if (p->n)
					*(uint64_t *)(void *)(a.list + 4088) =
						a.list_ipa;
				else
					((uint64_t *)(void *)a.list)[1] = p->pa;
				r->params[0].attr =
					OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
					OPTEE_MSG_ATTR_NONCONTIG;
				r->params[0].u.tmem.buf_ptr = a.list_ipa;
				r->params[0].u.tmem.size =
					p->n ? 2000ull * PG
					     : (size ? size : 2 * PG);
				r->params[0].u.tmem.shm_ref = 0x5A110C;
				r->ret = TEEC_SUCCESS;
			} else {
				other++;
				r->ret = TEEC_ERROR_ITEM_NOT_FOUND;
			}
		}
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		tg_smc(v, regs);
	}
	mb_report(v, 0, (uint32_t)regs[0], m->ret, m->ret_origin);
	mb_put(v, MB_EXTRA, shm_allocs);
	mb_put(v, MB_EXTRA + 1, other);
	atk_fini(&a);
}

static void run_shm_alloc(uint32_t loop)
{
	struct fx f;
	struct p p = { .n = loop };

	fx_up(&f, NULL);
	p.pa = bystander_page(&f);
	fx_attack(&f, shm_alloc_main, &p, sizeof(p), 2);
	assert_true(fx_value(&f, MB_EXTRA) >= 1); /* it was asked */
	fx_expect_msg(&f, 0, TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ORIGIN_TEE);
	fx_down(&f);
}

static void rpc_shm_alloc_answered_with_another_guests_page_fails_cleanly(
	void **state)
{
	(void)state;
	run_shm_alloc(0);
}

static void rpc_shm_alloc_answered_with_a_looping_list_fails_cleanly(
	void **state)
{
	(void)state;
	run_shm_alloc(1);
}

/* ---- function ids and a7 ---------------------------------------------------- */

static void ids_main(struct tg_vcpu *v, void *arg)
{
	static const uint32_t fns[] = { 0x0063, 0x00FE, 0x0F0F, 0x7FFF };
	uint32_t owner, i, k, wrong = 0, first = 0, tried = 0;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	/* trusted applications (48-49) and trusted OS (50-63) owners */
	for (owner = 48; owner <= 63; owner++)
		for (i = 0; i < 4; i++)
			for (k = 0; k < 2; k++) {
				uint32_t id = (k ? 0x80000000u : 0) |
					      (owner << 24) | fns[i];

				atk_smc(&a, id, 0, 0, 0, 0, &o);
				tried++;
				if (o.a0 != UNKNOWN && !wrong++)
					first = id;
			}
	mb_report(v, 0, wrong, tried, 0);
	mb_put(v, MB_EXTRA, first);
	atk_fini(&a);
}

static void id_unknown_functions_in_every_owner_range_are_unknown_function(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, ids_main, NULL, 0, 2);
	if (fx_a0(&f, 0))
		fail_msg("%u ids answered, first %#llx", fx_a0(&f, 0),
			 (unsigned long long)fx_value(&f, MB_EXTRA));
	fx_expect_a0(&f, 0, 0);
	assert_int_equal(fx_ret(&f, 0), 16 * 4 * 2);
	fx_down(&f);
}

static void smc64_main(struct tg_vcpu *v, void *arg)
{
	uint32_t fn, wrong = 0, first = 0, tried = 0;
	struct atk a;
	struct ans o;

	(void)arg;
	if (atk_init(&a, v))
		return;
	for (fn = 0; fn <= 0x14; fn++) {
		uint32_t ids[2] = { OPTEE_SMC_FAST(fn) | OPTEE_SMC_64,
				    OPTEE_SMC_STD(fn) | OPTEE_SMC_64 };
		unsigned int k;

		for (k = 0; k < 2; k++) {
			atk_smc(&a, ids[k], a.arg_ipa >> 32,
				(uint32_t)a.arg_ipa, 0, 0, &o);
			tried++;
			if (o.a0 != UNKNOWN && !wrong++)
				first = ids[k];
		}
	}
	for (fn = 0xFF00; fn <= 0xFF03; fn++) {
		atk_smc(&a, OPTEE_SMC_API(fn & 0xFF) | OPTEE_SMC_64, 0, 0, 0, 0,
			&o);
		tried++;
		if (o.a0 != UNKNOWN && !wrong++)
			first = OPTEE_SMC_API(fn & 0xFF) | OPTEE_SMC_64;
	}
	mb_report(v, 0, wrong, tried, 0);
	mb_put(v, MB_EXTRA, first);
	atk_fini(&a);
}

static void id_smc64_variant_of_every_optee_call_is_unknown_function(
	void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_attack(&f, smc64_main, NULL, 0, 2);
	if (fx_a0(&f, 0))
		fail_msg("%u SMC64 ids answered, first %#llx", fx_a0(&f, 0),
			 (unsigned long long)fx_value(&f, MB_EXTRA));
	assert_int_equal(fx_ret(&f, 0), 21 * 2 + 4);
	fx_down(&f);
}

/* OPEN_SESSION with a7 = the bystander: the session is the attacker's. */
static void a7_std_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t tests_uuid[16] = PTA_INVOKE_TESTS_UUID;
	const struct p *p = arg;
	struct optee_msg_arg *m;
	uint32_t session;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	m = atk_msg(&a, OPTEE_MSG_CMD_OPEN_SESSION, 2);
	m->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	memcpy(&m->params[0].u.value, tests_uuid, 16);
	m->params[1].attr =
		OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	m->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
	atk_smc(&a, OPTEE_SMC_CALL_WITH_ARG, a.arg_ipa >> 32,
		(uint32_t)a.arg_ipa, 0, p->other_id, &o);
	mb_report(v, 0, o.a0, m->ret, m->ret_origin);
	session = m->session;
	/* the session answers the attacker without any forgery */
	m = atk_msg(&a, OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	m->session = session;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	m->params[0].u.value.a = 40;
	m->params[0].u.value.b = 2;
	atk_send(&a, &o);
	mb_report(v, 1, o.a0, o.ret, o.origin);
	mb_put(v, MB_EXTRA, m->params[0].u.value.a);
	m = atk_msg(&a, OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	m->session = session;
	atk_send(&a, &o);
	mb_report(v, 2, o.a0, o.ret, o.origin);
	atk_fini(&a);
}

static void id_forged_a7_on_a_std_call_acts_as_the_caller(void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.other_id = tg_guest_client_id(f.by);
	fx_attack(&f, a7_std_main, &p, sizeof(p), 2);
	fx_expect_msg(&f, 0, TEEC_SUCCESS, 0);
	fx_expect_msg(&f, 1, TEEC_SUCCESS, 0);
	assert_int_equal(fx_value(&f, MB_EXTRA), 42);
	fx_expect_msg(&f, 2, TEEC_SUCCESS, 0);
	fx_down(&f);
}

/* DISABLE_SHM_CACHE with a7 = the bystander, whose driver uses the cache:
 * the attacker's own (disabled, empty) cache answers. */
static void a7_fast_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	atk_smc(&a, OPTEE_SMC_DISABLE_SHM_CACHE, 0, 0, 0, p->other_id, &o);
	mb_report(v, 0, o.a0, 0, 0);
	atk_smc(&a, OPTEE_SMC_VM_DESTROYED, 0, 0, 0, p->other_id, &o);
	mb_report(v, 1, o.a0, 0, 0);
	atk_fini(&a);
}

static void id_forged_a7_on_a_fast_call_answers_for_the_caller(void **state)
{
	struct fx f;
	struct p p = { 0 };

	(void)state;
	fx_up(&f, NULL);
	p.other_id = tg_guest_client_id(f.by);
	fx_attack(&f, a7_fast_main, &p, sizeof(p), 2);
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_ENOTAVAIL);
	fx_expect_a0(&f, 1, UNKNOWN);
	fx_down(&f);
}

/* ---- resources ------------------------------------------------------------ */

#define HOG_THREADS 4u
#define HOG_MAX 8u
#define HOG_YIELDS 20000u /* FOREIGN_INTR each call returns before done */

static void hog_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	const struct p *p = arg;
	uint64_t regs[HOG_MAX][8], page[HOG_MAX];
	uint32_t sess[HOG_MAX], n, held = 0, i;
	struct tg_optee_result res;
	struct atk a;
	struct ans o;

	if (atk_init(&a, v))
		return;
	for (n = 0; n < HOG_MAX; n++)
		if (tg_optee_open_session(a.drv, yield_uuid, 0, NULL, 0, NULL,
					  0, &sess[n], &res) ||
		    res.ret || tg_alloc_pages(v, 1, &page[n]))
			break;
	for (i = 0; i < n; i++) {
		uint32_t a0, tries = 0;

		/*
		 * ETHREAD_LIMIT also comes from the TEE while the
		 * bystander's short calls hold its other threads (often,
		 * when its calls go out of process under a sanitizer):
		 * insist for 200 ms. The mediator's cap refuses every time.
		 */
		for (;;) {
			a0 = atk_yield_start(&a, page[i], sess[i], HOG_YIELDS,
					     regs[i]);
			if (a0 != OPTEE_SMC_RETURN_ETHREAD_LIMIT ||
			    ++tries >= 50)
				break;
			usleep(4000);
		}
		if (!OPTEE_SMC_RETURN_IS_RPC(a0)) {
			mb_report(v, 0, a0, held, 0);
			break;
		}
		held++;
	}
	atk_smc(&a, OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0, 0, &o);
	mb_report(v, 1, o.a0, (uint32_t)o.regs[1], 0);
	mb_report(v, 2, 0, 0, 0); /* holding */
	usleep(p->n * 1000);
	mb_report(v, 3, 0, 0, 0); /* releasing */
	/* finish them: the yield TA counts its interrupts down */
	for (i = 0; i < held; i++)
		atk_finish(&a, regs[i]);
	for (i = 0; i < n; i++)
		tg_optee_close_session(a.drv, sess[i], NULL);
	atk_fini(&a);
}

/*
 * The reserve alone (the bystander came first; tests/adversarial/
 * test_fair.c covers every order): a hog never holds the TEE's last
 * thread. Threads it sits on are not taken back here (sit_ms longer than
 * the test), so that it keeps exactly T-1.
 */
static void res_one_guest_hogging_tee_threads_leaves_one_to_the_others(
	void **state)
{
	struct fx_opts o = { .tee_threads = HOG_THREADS, .by_seconds = 3,
			     .sit_ms = 60000 };
	struct tg_guest_stats b1, b2;
	struct fx f;
	struct p p = { .n = 1500 };

	(void)state;
	fx_up(&f, &o);
	fx_start(&f, hog_main, &p, sizeof(p), 2, fx_mode());
	assert_true(fx_wait_step(&f, 2, 20000));
	/* it holds T-1 threads (the T-th call got ETHREAD_LIMIT) */
	assert_int_equal(fx_live_value(&f, 1), HOG_THREADS - 1);
	/* while the hog holds them, the bystander progresses */
	assert_int_equal(tg_guest_stats(f.by, &b1), TG_OK);
	usleep(600000);
	assert_int_equal(tg_guest_stats(f.by, &b2), TG_OK);
	assert_int_equal(fx_live_value(&f, 4 * 3 + 3), 0); /* still held */
	assert_true(b2.counters.calls > b1.counters.calls);
	fx_end(&f, false);
	/* it got T-1 threads, then ETHREAD_LIMIT; T-1 is what it is told */
	fx_expect_a0(&f, 0, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	assert_int_equal(fx_ret(&f, 0), HOG_THREADS - 1);
	fx_expect_a0(&f, 1, OPTEE_SMC_RETURN_OK);
	assert_int_equal(fx_ret(&f, 1), HOG_THREADS - 1);
	fx_down(&f);
}

static void sessions_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t tests_uuid[16] = PTA_INVOKE_TESTS_UUID;
	uint32_t sess[16], n;
	struct tg_optee_result res = { 0 };
	struct atk a;

	(void)arg;
	if (atk_init(&a, v))
		return;
	for (n = 0; n < 16; n++)
		if (tg_optee_open_session(a.drv, tests_uuid, 0, NULL, 0, NULL,
					  0, &sess[n], &res) ||
		    res.ret)
			break;
	mb_report(v, 0, res.smc_ret, res.ret, res.origin);
	mb_put(v, MB_EXTRA, n);
	while (n)
		tg_optee_close_session(a.drv, sess[--n], NULL);
	atk_fini(&a);
}

static void res_exhausting_sessions_is_out_of_memory(void **state)
{
	const struct tg_limits lim = { .max_sessions = 6 };
	struct fx_opts o = { .att_limits = &lim };
	struct fx f;

	(void)state;
	fx_up(&f, &o);
	fx_attack(&f, sessions_main, NULL, 0, 2);
	fx_expect_msg(&f, 0, TEEC_ERROR_OUT_OF_MEMORY, COMMS);
	/* atk_init() holds 3 of the 6 */
	assert_int_equal(fx_value(&f, MB_EXTRA), 3);
	fx_down(&f);
}

/* ---- life cycle ----------------------------------------------------------- */

#define BUSY_YIELDS 20000u

struct busy {
	struct atk a;
	uint32_t yields;
};

/* Yield calls resumed at once, forever: always a call in the TEE. */
static void busy_vcpu(struct tg_vcpu *v, void *arg)
{
	struct busy *a0 = arg;
	struct atk a = a0->a;
	uint64_t regs[8], page;
	uint32_t sess;
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	struct tg_optee_result res;

	a.v = v;
	if (tg_alloc_pages(v, 1, &page) ||
	    tg_optee_open_session(a.drv, yield_uuid, 0, NULL, 0, NULL, 0,
				  &sess, &res))
		return;
	for (;;) {
		/* long enough to be in flight, short enough for teardown to
		 * drive to its end (see docs/security.md, known limits) */
		atk_yield_start(&a, page, sess, a0->yields, regs);
		mb_report(v, 0, (uint32_t)regs[0], 0, 0);
		while (OPTEE_SMC_RETURN_IS_RPC(regs[0]))
			atk_resume(&a, (uint32_t)regs[3], regs);
	}
}

static void busy_main(struct tg_vcpu *v, void *arg)
{
	const struct p *p = arg;
	static struct busy a;
	uint32_t i;

	a.yields = (uint32_t)p->cookie;
	if (atk_init(&a.a, v))
		return;
	for (i = 1; i < p->n; i++)
		tg_vcpu_spawn(v, busy_vcpu, &a);
	busy_vcpu(v, &a);
}

static void run_kill_busy(uint32_t vcpus, uint32_t in_flight, uint32_t yields)
{
	struct tg_guest_stats gs;
	struct fx f;
	struct p p = { .n = vcpus, .cookie = yields };
	int ms;

	fx_up(&f, NULL);
	fx_start(&f, busy_main, &p, sizeof(p), vcpus + 1, fx_mode());
	assert_true(fx_wait_step(&f, 0, 20000));
	for (ms = 0; ms < 10000; ms++) {
		assert_int_equal(tg_guest_stats(f.att, &gs), TG_OK);
		if (gs.domain.calls_in_flight >= in_flight)
			break;
		usleep(1000);
	}
	assert_true(gs.domain.calls_in_flight >= in_flight);
	fx_end(&f, true);
	fx_down(&f);
}

static void life_guest_killed_mid_call_leaves_nothing(void **state)
{
	(void)state;
	run_kill_busy(1, 1, BUSY_YIELDS);
}

/*
 * A guest killed while its calls run a TA for up to 10^6 FOREIGN_INTR
 * rounds each (the model's yield TA maximum). The platform's teardown used
 * to give up after 10^6 destroy steps and leave the domain, its pins and
 * TEE threads behind; it now steps until done, or until the caller's
 * timeout and then resumes on the next tg_guest_wait_timeout().
 */
static void life_guest_killed_in_a_call_longer_than_the_teardown_bound(
	void **state)
{
	(void)state;
	run_kill_busy(3, 2, MODEL_TA_YIELD_MAX);
}

static void life_guest_destroyed_with_calls_in_flight_leaves_nothing(
	void **state)
{
	(void)state;
	run_kill_busy(3, 2, BUSY_YIELDS);
}

/* Suspends calls in RPCs, registers a buffer, then waits to be killed. */
static void mid_rpc_main(struct tg_vcpu *v, void *arg)
{
	static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;
	uint64_t regs[3][8], page[3];
	uint32_t sess[3], i;
	struct tg_optee_result res;
	struct tg_optee_shm *shm;
	struct atk a;

	(void)arg;
	if (atk_init(&a, v))
		return;
	for (i = 0; i < 3; i++) {
		if (tg_optee_open_session(a.drv, yield_uuid, 0, NULL, 0, NULL,
					  0, &sess[i], &res) ||
		    tg_alloc_pages(v, 1, &page[i]))
			return;
		atk_yield_start(&a, page[i], sess[i], 10, regs[i]);
	}
	if (tg_optee_shm_alloc(a.drv, 8 * PG, true, &shm, NULL))
		return;
	mb_report(v, 0, (uint32_t)regs[2][0], 0, 0);
	/* wait to be killed; a thread guest dies at its next trap */
	for (;;) {
		uint64_t r[8] = { OPTEE_SMC_CALLS_UID };

		usleep(10000);
		tg_smc(v, r);
	}
}

static void life_guest_killed_mid_rpc_leaves_nothing(void **state)
{
	struct tg_guest_stats gs;
	struct fx f;

	(void)state;
	fx_up(&f, NULL);
	fx_start(&f, mid_rpc_main, NULL, 0, 2, fx_mode());
	assert_true(fx_wait_step(&f, 0, 20000));
	assert_int_equal(tg_guest_stats(f.att, &gs), TG_OK);
	assert_int_equal(gs.domain.calls_suspended, 3);
	assert_true(gs.domain.shm_bufs >= 1);
	assert_true(gs.pages_pinned >= 8);
	fx_end(&f, true);
	fx_down(&f);
}

/*
 * Balloon a registered (pinned) buffer, then let another guest take every
 * page it can: the ballooned pages must stay out of its reach until the
 * buffer is unregistered. Thread guests: the test and the guest share the
 * handshake flags.
 */
#define BALLOON_PAGES 16u

static void balloon_main(struct tg_vcpu *v, void *arg)
{
	struct p *p = arg;
	struct tg_optee_shm *shm;
	struct atk a;

	if (atk_init(&a, v) ||
	    tg_optee_shm_alloc(a.drv, BALLOON_PAGES * PG, true, &shm, NULL))
		return;
	p->ipa = shm->alloc_ipa;
	__atomic_store_n(&p->step, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->go, __ATOMIC_ACQUIRE) < 1)
		usleep(1000);
	mb_report(v, 0, (uint32_t)tg_balloon_out(v, shm->alloc_ipa,
						 shm->alloc_pages),
		  0, 0);
	__atomic_store_n(&p->step, 2, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->go, __ATOMIC_ACQUIRE) < 2)
		usleep(1000);
	/* UNREGISTER: the last unpin sends the pages back to the pool */
	mb_report(v, 1, (uint32_t)tg_optee_shm_free(shm), 0, 0);
	atk_fini(&a);
}

static void grabber_main(struct tg_vcpu *v, void *arg)
{
	uint64_t ipa = TG_HOST_GUEST_IPA_BASE;
	const struct p *p = arg;
	uint32_t i;

	for (i = 0; i < p->n; i++, ipa += PG) {
		volatile uint8_t *b = tg_ipa_ptr(v, ipa);

		if (b)
			b[0] = 0x6b;
	}
}

static void wait_flag(volatile int *f, int value)
{
	int ms;

	for (ms = 0; ms < 20000 && __atomic_load_n(f, __ATOMIC_ACQUIRE) <
					   value;
	     ms++)
		usleep(1000);
	assert_true(*f >= value);
}

static void life_ballooned_pinned_page_is_not_given_to_another_guest(
	void **state)
{
	struct tg_machine_pages ps;
	struct tg_guest_stats gs;
	uint64_t pa[BALLOON_PAGES];
	struct tg_guest *grabber;
	struct fx f;
	struct p p = { 0 }, gp = { 0 };
	uint32_t i, gid, pins;

	(void)state;
	fx_up(&f, NULL);
	fx_start(&f, balloon_main, &p, sizeof(p), 2, TG_GUEST_THREAD);
	wait_flag(&p.step, 1);
	for (i = 0; i < BALLOON_PAGES; i++) {
		pa[i] = tg_guest_ipa_to_pa(f.att, p.ipa + (uint64_t)i * PG);
		assert_true(pa[i] != 0);
	}
	__atomic_store_n(&p.go, 1, __ATOMIC_RELEASE);
	wait_flag(&p.step, 2);
	assert_int_equal(fx_live_value(&f, 0), 0); /* balloon accepted */
	assert_int_equal(tg_guest_stats(f.att, &gs), TG_OK);
	assert_int_equal(gs.pages_quarantined, BALLOON_PAGES);
	/* another guest takes nearly every free page */
	tg_machine_page_stats(f.m, &ps);
	gp.n = (uint32_t)ps.free - 4096; /* leave the bystander its shadows */
	grabber = fx_start_guest(&f, "grabber", grabber_main, &gp, sizeof(gp),
				 1, gp.n, fx_mode());
	gid = tg_guest_client_id(grabber);
	for (i = 0; i < BALLOON_PAGES; i++) {
		assert_int_equal(tg_machine_owner(f.m, pa[i], &pins), f.att_id);
		assert_true(pins > 0);
		assert_true(tg_machine_owner(f.m, pa[i], NULL) != gid);
	}
	{
		struct tg_guest_stats grs;

		fx_end_guest(&f, grabber, false, &grs);
	}
	__atomic_store_n(&p.go, 2, __ATOMIC_RELEASE);
	fx_end(&f, false);
	fx_expect_a0(&f, 1, TG_OK);
	for (i = 0; i < BALLOON_PAGES; i++)
		assert_int_equal(tg_machine_owner(f.m, pa[i], &pins),
				 TG_OWNER_FREE);
	fx_down(&f);
}

/* ---- the table ------------------------------------------------------------ */

#define T(fn) cmocka_unit_test(fn)
#define CAT(name)                                                         \
	{                                                                  \
		"hostile_" name, catalogue_test, NULL, NULL, (void *)(name) \
	}

static const struct CMUnitTest all_tests[] = {
	/* the hostile catalogue (src/guest/hostile.c), one test each */
	CAT("unknown_fast_id"),
	CAT("unknown_std_id"),
	CAT("unknown_owner_62"),
	CAT("smc64_call_with_arg"),
	CAT("smc64_thread_count"),
	CAT("vm_created"),
	CAT("vm_destroyed"),
	CAT("forged_a7_vm_destroyed"),
	CAT("boot_secondary"),
	CAT("get_shm_config"),
	CAT("l2cc_mutex"),
	CAT("get_protmem_config"),
	CAT("caps_unknown_bits"),
	CAT("arg_outside_ram"),
	CAT("arg_unaligned"),
	CAT("num_params_128"),
	CAT("rpc_arg_past_page"),
	CAT("regd_arg_forged_cookie"),
	CAT("unknown_msg_cmd"),
	CAT("protmem_msg_cmd"),
	CAT("contiguous_tmem"),
	CAT("reserved_attr_bits"),
	CAT("meta_outside_open"),
	CAT("foreign_page_in_list"),
	CAT("size_overflow"),
	CAT("list_too_long"),
	CAT("pagelist_loop"),
	CAT("rmem_forged_cookie"),
	CAT("unregister_forged_cookie"),
	CAT("foreign_session"),
	CAT("resume_no_call"),
	CAT("resume_other_thread"),
	CAT("exhaust_calls"),
	CAT("exhaust_shm_bufs"),
	CAT("exhaust_pinned_pages"),
	CAT("unregister_in_use"),
	CAT("toctou_arg"),
	CAT("toctou_pagelist"),
	CAT("victim_page_in_list"),
	CAT("victim_page_written"),
	CAT("victim_page_registered"),
	CAT("arg_in_victim_memory"),
	CAT("forged_a7_session"),
	CAT("vm_created_duplicate"),
	/* what the catalogue lacks */
	T(addr_arg_in_another_guests_page_is_ebadaddr),
	T(addr_arg_in_a_mediator_page_is_ebadaddr),
	T(addr_arg_in_the_reserved_shm_region_is_ebadaddr),
	T(addr_list_entry_in_another_guests_page_is_bad_parameters),
	T(addr_list_entry_in_a_mediator_page_is_bad_parameters),
	T(addr_list_entry_in_the_reserved_region_is_bad_parameters),
	T(addr_rmem_offset_plus_size_wrapping_is_bad_parameters),
	T(list_next_pointer_into_another_guests_page_is_bad_parameters),
	T(list_size_and_offset_that_disagree_are_bad_parameters),
	T(msg_meta_on_a_third_open_session_param_is_bad_parameters),
	T(toctou_argument_rewritten_during_calls_answers_cleanly),
	T(toctou_page_list_rewritten_during_calls_is_seen_once),
	T(toctou_rpc_argument_rewritten_during_rpc_changes_nothing),
	T(toctou_registered_argument_of_regd_arg_rewritten_answers_cleanly),
	T(cookie_of_another_guest_is_bad_parameters),
	T(cookie_reused_after_unregister_is_bad_parameters),
	T(thread_return_from_rpc_with_another_guests_handle_is_eresume),
	T(thread_double_resume_is_eresume),
	T(thread_return_from_rpc_for_a_completed_call_is_eresume),
	T(thread_resume_after_the_vcpu_was_reset_completes_once),
	T(rpc_alloc_answered_with_another_guests_page_fails_cleanly),
	T(rpc_alloc_answered_with_a_mediator_page_fails_cleanly),
	T(rpc_free_answered_with_an_unknown_cookie_frees_nothing),
	T(rpc_shm_alloc_answered_with_another_guests_page_fails_cleanly),
	T(rpc_shm_alloc_answered_with_a_looping_list_fails_cleanly),
	T(id_unknown_functions_in_every_owner_range_are_unknown_function),
	T(id_smc64_variant_of_every_optee_call_is_unknown_function),
	T(id_forged_a7_on_a_std_call_acts_as_the_caller),
	T(id_forged_a7_on_a_fast_call_answers_for_the_caller),
	T(res_one_guest_hogging_tee_threads_leaves_one_to_the_others),
	T(res_exhausting_sessions_is_out_of_memory),
	T(life_guest_killed_mid_call_leaves_nothing),
	T(life_guest_killed_mid_rpc_leaves_nothing),
	T(life_guest_destroyed_with_calls_in_flight_leaves_nothing),
	T(life_ballooned_pinned_page_is_not_given_to_another_guest),
	T(life_guest_killed_in_a_call_longer_than_the_teardown_bound),
};

#define NTESTS (sizeof(all_tests) / sizeof(all_tests[0]))

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NTESTS; i++)
			printf("%s\n", all_tests[i].name);
		return 0;
	}
	if (argc == 2) {
		for (i = 0; i < NTESTS; i++)
			if (!strcmp(all_tests[i].name, argv[1]))
				return _cmocka_run_group_tests(
					"adversarial", &all_tests[i], 1, NULL,
					NULL);
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return _cmocka_run_group_tests("adversarial", all_tests, NTESTS, NULL,
				       NULL);
}
