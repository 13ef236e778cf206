// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recovery of a mediator whose process died (tg_mediator_recover(),
 * tg_domain_recover()).
 *
 * A death is simulated by leaving the mediator with longjmp() from inside
 * a port call: right after an SMC the fake TEE handled (the hypervisor
 * finishes an SMC in flight), or after a pin or a copy. The mediator's
 * memory stays as the dead process left it, no lock is held (the core
 * never holds one across a port call), and the test then plays the
 * hypervisor: it tracks what the dead process may not have recorded (TEE
 * threads left in an RPC, resume handles the guest holds), rebuilds the
 * shm allocator from shm_claim() and drops the pins keep_pins() does not
 * report.
 */
#include "common.h"

#include <setjmp.h>

#include "optee.h" /* the shadow pool, for a death no port call marks */

static jmp_buf crash_env;
static int crash_at;	   /* die at this port event (1-based), 0 = never */
static int crash_kind;	   /* which events count */
static int events;
static long leak_allowed; /* bookkeeping blocks a death may cost */
static struct tg_port real; /* the fake's own port */

enum { EV_SMC = 1, EV_PIN = 2, EV_COPY = 4, EV_COPY_TO = 8, EV_MEM = 16 };

/* What the hypervisor saw (isolation.c keeps the same record). */
static struct {
	uint32_t thread[16], a0[16], a1[16], a2[16];
	uint32_t sa1[16], sa2[16]; /* the message its call started with */
	bool busy[16];
	uint32_t handles[64];
	uint32_t nhandles;
} hv;

/*
 * The last std call the TEE completed, as the hypervisor sees it (the
 * completing SMC, and the message the call started with), and the one
 * whose answer a death kept from the guest (lose_answer()).
 */
static struct {
	uint32_t a0, a1, a2;
} last_done, lost;
static bool lost_valid;

static void event(int kind)
{
	if ((crash_kind & kind) && ++events == crash_at)
		longjmp(crash_env, 1);
}

static void w_smc(void *ctx, uint64_t regs[8])
{
	bool start, resume;
	uint32_t i, sa1, sa2;
	uint64_t in[8];

	memcpy(in, regs, sizeof(in));
	real.smc(ctx, regs);
	start = (uint32_t)in[0] == OPTEE_SMC_CALL_WITH_ARG ||
		(uint32_t)in[0] == OPTEE_SMC_CALL_WITH_RPC_ARG;
	resume = (uint32_t)in[0] == OPTEE_SMC_CALL_RETURN_FROM_RPC;
	sa1 = start ? (uint32_t)in[1] : 0;
	sa2 = start ? (uint32_t)in[2] : 0;
	for (i = 0; i < 16; i++) {
		if (!hv.busy[i])
			continue;
		if (resume && hv.thread[i] == (uint32_t)in[3]) {
			sa1 = hv.sa1[i];
			sa2 = hv.sa2[i];
			hv.busy[i] = false;
		} else if (OPTEE_SMC_RETURN_IS_RPC(regs[0]) &&
			   hv.thread[i] == (uint32_t)regs[3]) {
			hv.busy[i] = false;
		}
	}
	if (OPTEE_SMC_RETURN_IS_RPC(regs[0]) && in[7]) {
		for (i = 0; i < 16 && hv.busy[i]; i++)
			;
		assert_true(i < 16);
		hv.busy[i] = true;
		hv.thread[i] = (uint32_t)regs[3];
		hv.a0[i] = (uint32_t)regs[0];
		hv.a1[i] = (uint32_t)regs[1];
		hv.a2[i] = (uint32_t)regs[2];
		hv.sa1[i] = sa1;
		hv.sa2[i] = sa2;
	} else if (in[7] && (start || resume)) {
		last_done.a0 = (uint32_t)in[0];
		last_done.a1 = sa1;
		last_done.a2 = sa2;
	}
	event(EV_SMC);
}

static int w_pin(void *ctx, uint32_t c, const uint64_t *ipa, uint64_t *pa,
		 uint32_t n)
{
	int ret = real.pin_pages(ctx, c, ipa, pa, n);

	event(EV_PIN);
	return ret;
}

static int w_copy_from(void *ctx, uint32_t c, void *dst, uint64_t ipa,
		       uint32_t len)
{
	int ret = real.copy_from_guest(ctx, c, dst, ipa, len);

	event(EV_COPY);
	return ret;
}

static int w_copy_to(void *ctx, uint32_t c, uint64_t ipa, const void *src,
		     uint32_t len)
{
	int ret = real.copy_to_guest(ctx, c, ipa, src, len);

	event(EV_COPY_TO);
	return ret;
}

/*
 * Memory: alloc(), free(), shm_alloc() and shm_free() are events. A death
 * may lose the blocks the process had not linked yet (docs/isolation.md):
 * the blocks are tracked, and teardown() frees those that outlived the
 * mediator, so that ASan sees no leak.
 */
static void *blocks[4096];
static size_t nblocks;

static void *w_alloc(void *ctx, size_t size)
{
	void *p = real.alloc(ctx, size);

	if (p && nblocks < sizeof(blocks) / sizeof(blocks[0]))
		blocks[nblocks++] = p;
	event(EV_MEM);
	return p;
}

static void w_free(void *ctx, void *p, size_t size)
{
	size_t i;

	for (i = 0; i < nblocks; i++)
		if (blocks[i] == p) {
			blocks[i] = blocks[--nblocks];
			break;
		}
	real.free(ctx, p, size);
	event(EV_MEM);
}

static void *w_shm_alloc(void *ctx, uint32_t n, uint64_t *pa)
{
	void *p = real.shm_alloc(ctx, n, pa);

	event(EV_MEM);
	return p;
}

static void w_shm_free(void *ctx, void *va, uint32_t n)
{
	real.shm_free(ctx, va, n);
	event(EV_MEM);
}

/* A guest SMC as the hypervisor passes it: handles are tracked. */
static bool guest_smc(struct env *e, uint32_t client, uint64_t r[8])
{
	uint32_t i;
	bool handled;

	if ((uint32_t)r[0] == OPTEE_SMC_CALL_RETURN_FROM_RPC)
		for (i = 0; i < hv.nhandles; i++)
			if (hv.handles[i] == (uint32_t)r[3])
				hv.handles[i] = hv.handles[--hv.nhandles];
	handled = tg_handle_smc(e->med, client, 0, r);
	if (handled && OPTEE_SMC_RETURN_IS_RPC(r[0]))
		hv.handles[hv.nhandles++] = (uint32_t)r[3];
	return handled;
}

/* Run @r as a guest call; true when the mediator "died" in it. */
static bool call_dies(struct env *e, uint32_t client, uint64_t r[8], int kind,
		      int at)
{
	events = 0;
	crash_kind = kind;
	crash_at = at;
	if (setjmp(crash_env)) {
		crash_at = 0;
		leak_allowed += 4;
		return true;
	}
	guest_smc(e, client, r);
	crash_at = 0;
	return false;
}

/*
 * The mediator died after the last call was complete in it, before the
 * answer reached the guest (it saw the call fail): the hypervisor tells
 * recovery which completion that was.
 */
static void lose_answer(void)
{
	lost = last_done;
	lost_valid = true;
}

/* ---- the hypervisor's side of a recovery ---------------------------------- */

static bool claimed[FAKE_MACHINE_PAGES];
static uint32_t keep[FAKE_MACHINE_PAGES];
static uint64_t keep_excess; /* kept pins the hypervisor did not hold */

static void o_claim(void *ctx, void *va, uint32_t n)
{
	struct fake *f = ctx;
	size_t first = (size_t)((uint8_t *)va - f->mem) / PAGE;
	uint32_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(f->owner[first + i], FAKE_OWNER_MEDIATOR);
		assert_false(claimed[first + i]); /* no page claimed twice */
		claimed[first + i] = true;
	}
}

static int o_keep(void *ctx, uint32_t client, const uint64_t *pa, uint32_t n)
{
	struct fake *f = ctx;
	uint32_t i;

	for (i = 0; i < n; i++)
		keep[(pa[i] - FAKE_PA_BASE) / PAGE]++;
	if (n)
		return TG_OK;
	for (i = 0; i < FAKE_MACHINE_PAGES; i++) {
		if (f->owner[i] != client) {
			continue;
		} else if (keep[i] > f->pins[i]) {
			keep_excess++;
		} else {
			f->pins[i] = keep[i]; /* drop what is not kept */
		}
		keep[i] = 0;
	}
	return TG_OK;
}

/* The new process: the same memory, a fresh look at it. */
static void recover_all(struct env *e, struct tg_recover_stats *st1)
{
	struct tg_recover_ops ops = { e->f, o_claim, o_keep };
	struct tg_recover_info *ri = calloc(1, sizeof(*ri));
	struct tg_recover_stats st;
	uint32_t i, c;

	memset(claimed, 0, sizeof(claimed));
	assert_int_equal(tg_mediator_recover(e->med, &e->f->port, &ops),
			 TG_OK);
	/* the allocator keeps only what the state references */
	for (i = 0; i < FAKE_MACHINE_PAGES; i++) {
		if (e->f->owner[i] == FAKE_OWNER_MEDIATOR && !claimed[i]) {
			e->f->owner[i] = FAKE_OWNER_FREE;
			e->f->shm_pages_live--;
		}
	}
	for (c = G1; c <= G2; c++) {
		memset(ri, 0, sizeof(*ri));
		for (i = 0; i < 16; i++) {
			if (!hv.busy[i] || e->f->thr[hv.thread[i]].client != c)
				continue;
			ri->threads[ri->nthreads].thread = hv.thread[i];
			ri->threads[ri->nthreads].a0 = hv.a0[i];
			ri->threads[ri->nthreads].a1 = hv.a1[i];
			ri->threads[ri->nthreads].a2 = hv.a2[i];
			ri->nthreads++;
		}
		for (i = 0; i < hv.nhandles; i++)
			ri->handles[ri->nhandles++] = hv.handles[i];
		if (c == G1 && lost_valid) {
			ri->done[0].a0 = lost.a0;
			ri->done[0].a1 = lost.a1;
			ri->done[0].a2 = lost.a2;
			ri->ndone = 1;
		}
		memset(&st, 0, sizeof(st));
		assert_int_equal(tg_domain_recover(e->med, c, ri, &ops, &st),
				 TG_OK);
		if (c == G1 && st1)
			*st1 = st;
	}
	free(ri);
	assert_int_equal(keep_excess, 0);
}

static int setup(void **state)
{
	struct env *e;

	memset(&hv, 0, sizeof(hv));
	lost_valid = false;
	keep_excess = 0;
	leak_allowed = 0;
	e = env_new(NULL, true);
	real = e->f->port;
	/* the wrappers live in the mediator's copy of the port */
	e->f->port.smc = w_smc;
	e->f->port.pin_pages = w_pin;
	e->f->port.copy_from_guest = w_copy_from;
	e->f->port.copy_to_guest = w_copy_to;
	e->f->port.alloc = w_alloc;
	e->f->port.free = w_free;
	e->f->port.shm_alloc = w_shm_alloc;
	e->f->port.shm_free = w_shm_free;
	assert_int_equal(tg_mediator_recover(e->med, &e->f->port, NULL),
			 TG_OK);
	*state = e;
	return 0;
}

/*
 * After a death the dead process may have lost a few bookkeeping blocks
 * it had taken but not linked yet (docs/isolation.md): allow them, and
 * check everything else as env_teardown() does.
 */
static int teardown(void **state)
{
	int rc = env_destroy_checked(*state, leak_allowed);

	/* what is left was lost by a death (counted in leak_allowed) */
	while (nblocks)
		free(blocks[--nblocks]);
	return rc;
}

/* ---- TEE behaviours ------------------------------------------------------- */

static bool tee_foreign_intr_once(struct fake *f, struct fake_thread *t,
				  uint64_t regs[8])
{
	if (t->step == 0) {
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, 0, 0);
		return false;
	}
	return fake_step_ok(f, t, regs);
}

/* An ALLOC, a CMD in the allocated buffer, its FREE, then done. */
static bool tee_alloc_cmd_free(struct fake *f, struct fake_thread *t,
			       uint64_t regs[8])
{
	struct optee_msg_arg *a;

	switch (t->step) {
	case 0:
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_ALLOC, PAGE, 0);
		return false;
	case 1:
		t->scratch[0] = t->alloc_pa;
		t->scratch[1] = t->alloc_cookie;
		if (!t->alloc_pa) { /* no buffer: the call fails */
			t->arg->ret = TEEC_ERROR_OUT_OF_MEMORY;
			regs[0] = OPTEE_SMC_RETURN_OK;
			return true;
		}
		a = fake_tee_ptr(f, t->client, t->alloc_pa);
		assert_non_null(a);
		memset(a, 0, OPTEE_MSG_GET_ARG_SIZE(1));
		a->cmd = OPTEE_RPC_CMD_GET_TIME;
		a->num_params = 1;
		a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		a->ret = TEEC_ERROR_GENERIC; /* as OP-TEE presets it */
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_CMD, t->alloc_cookie >> 32,
			 t->alloc_cookie & 0xFFFFFFFFu);
		return false;
	case 2:
		a = fake_tee_ptr(f, t->client, t->scratch[0]);
		t->scratch[2] = a ? a->ret : 0xdead;
		fake_rpc(regs, OPTEE_SMC_RPC_FUNC_FREE, t->scratch[1] >> 32,
			 t->scratch[1] & 0xFFFFFFFFu);
		return false;
	default:
		t->arg->ret = (uint32_t)t->scratch[2];
		regs[0] = OPTEE_SMC_RETURN_OK;
		return true;
	}
}

static void invoke_values(struct env *e, uint32_t client, uint32_t session,
			  uint64_t r[8])
{
	struct optee_msg_arg *a = fake_msg(e->f, client, ARG_IPA,
					   OPTEE_MSG_CMD_INVOKE_COMMAND, 1);

	a->session = session;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = 40;
	a->params[0].u.value.b = 2;
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ARG_IPA >> 32,
		 ARG_IPA & 0xFFFFFFFFu, 0);
}

/* A guest REGISTER_SHM of @npages at DATA_IPA, ready in @r. */
static void register_regs(struct env *e, uint64_t cookie, uint32_t npages,
			  uint64_t r[8])
{
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_REGISTER_SHM, 1);

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr =
		fake_pagelist(e->f, G1, LIST_IPA, DATA_IPA, npages, 0);
	a->params[0].u.tmem.size = (uint64_t)npages * PAGE;
	a->params[0].u.tmem.shm_ref = cookie;
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ARG_IPA >> 32,
		 ARG_IPA & 0xFFFFFFFFu, 0);
}

/* A guest OPEN_SESSION whose message carries stale session and ret. */
static void open_regs(struct env *e, uint32_t stale_ret, uint64_t r[8])
{
	struct optee_msg_arg *a =
		fake_msg(e->f, G1, ARG_IPA, OPTEE_MSG_CMD_OPEN_SESSION, 2);

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->session = 12345; /* a guest's stale value means nothing */
	a->ret = stale_ret;
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ARG_IPA >> 32,
		 ARG_IPA & 0xFFFFFFFFu, 0);
}

static bool tee_threads_busy(struct fake *f)
{
	uint32_t i;

	for (i = 0; i < FAKE_MAX_THREADS; i++)
		if (f->thr[i].busy)
			return true;
	return false;
}

/* ---- tests ----------------------------------------------------------------- */

/*
 * An upgrade or a death between calls: sessions, buffers and a call
 * suspended in an RPC whose handle the guest holds all carry on.
 */
static void state_between_calls_is_kept(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	struct optee_msg_arg *a;
	uint64_t pinned, r[8];
	uint32_t session;

	session = open_session(e, G1);
	assert_int_equal(register_shm(e, G1, 0x77, 0, 20, 0, 20 * PAGE),
			 TEEC_SUCCESS);
	pinned = fake_pinned_total(e->f);
	e->f->std_fn = tee_foreign_intr_once;
	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);

	recover_all(e, &st);
	assert_int_equal(st.calls_kept, 1);
	assert_int_equal(st.calls_failed, 0);
	assert_int_equal(st.threads_ended, 0);
	assert_int_equal(st.sessions_kept, 1);
	assert_int_equal(st.bufs_kept, 1);
	assert_int_equal(st.pins_kept, 20);
	assert_int_equal(fake_pinned_total(e->f), pinned);
	assert_int_equal(stats(e, G1).calls_suspended, 1);

	/* the guest resumes the call with the handle it holds */
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	a = fake_guest_ptr(e->f, G1, ARG_IPA);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	assert_int_equal(a->params[0].u.value.a, 42);
	/* and the session and buffer work as before */
	e->f->std_fn = NULL;
	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(unregister_shm(e, G1, 0x77), TEEC_SUCCESS);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

/*
 * A kept call keeps its shadow page: recovery rebuilds the pool's free
 * bitmap from the calls that hold a page, so a call that starts while the
 * kept one waits (here another guest's) gets a page of its own, and
 * neither call's message or results reach the other.
 */
static void kept_call_keeps_its_shadow_page(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	struct optee_msg_arg *a1, *a2;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2);
	uint64_t r1[8], r2[8];

	e->f->std_fn = tee_foreign_intr_once;
	invoke_values(e, G1, s1, r1);
	assert_true(guest_smc(e, G1, r1));
	assert_int_equal(r1[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	recover_all(e, &st);
	assert_int_equal(st.calls_kept, 1);

	invoke_values(e, G2, s2, r2);
	a2 = fake_guest_ptr(e->f, G2, ARG_IPA);
	a2->params[0].u.value.a = 1000;
	assert_true(guest_smc(e, G2, r2));
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);

	set_regs(r1, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r1[3]);
	assert_true(guest_smc(e, G1, r1));
	assert_int_equal(r1[0], OPTEE_SMC_RETURN_OK);
	a1 = fake_guest_ptr(e->f, G1, ARG_IPA);
	assert_int_equal(a1->ret, TEEC_SUCCESS);
	assert_int_equal(a1->session, s1);
	assert_int_equal(a1->params[0].u.value.a, 42);

	set_regs(r2, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r2[3]);
	assert_true(guest_smc(e, G2, r2));
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a2->ret, TEEC_SUCCESS);
	assert_int_equal(a2->session, s2);
	assert_int_equal(a2->params[0].u.value.a, 1002);
}

static struct tg_domain *domain_of(struct env *e, uint32_t client)
{
	uint32_t i;

	for (i = 0; i < e->med->nslots; i++)
		if (atomic_load(&e->med->slots[i].state) == SLOT_LIVE &&
		    atomic_load(&e->med->slots[i].client_id) == client)
			return &e->med->slots[i];
	fail();
	return NULL;
}

/*
 * A death between a call's two records of its shadow page: it took pool
 * page i (the bit is out of the free map) and wrote the page's address,
 * but its slot still shows the pool bit of the slot's previous call (the
 * two stores are not ordered for a SIGKILL: no port call between them).
 * Here that stale bit is the one of G1's page, whose call recovery keeps.
 * Recovery must go by the page, not by the bit: G1's page stays G1's.
 */
static void call_caught_between_pool_bit_and_page_is_recovered(void **state)
{
	struct env *e = *state;
	struct shadow_pool *p = &e->med->shadow;
	uint32_t s1 = open_session(e, G1), s2 = open_session(e, G2), i;
	struct optee_msg_arg *a1, *a2;
	struct tg_recover_stats st;
	struct optee_call *c = NULL;
	struct tg_domain *d2;
	uint64_t r1[8], r2[8], held, spare;

	e->f->std_fn = tee_foreign_intr_once;
	invoke_values(e, G1, s1, r1);
	assert_true(guest_smc(e, G1, r1));
	assert_int_equal(r1[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	/* a second pool page, free again */
	invoke_values(e, G2, s2, r2);
	assert_true(guest_smc(e, G2, r2));
	set_regs(r2, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r2[3]);
	assert_true(guest_smc(e, G2, r2));
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_OK);
	held = atomic_load(&p->used) & ~shadow_pool_free_bits(p);
	spare = shadow_pool_free_bits(p);
	assert_int_equal(__builtin_popcountll(held), 1); /* G1's call's */
	assert_true(spare != 0);
	spare &= -spare;

	/* G2's call, dead between the two stores */
	d2 = domain_of(e, G2);
	for (i = 0; i < d2->limits.max_calls; i++)
		if (atomic_load(&d2->calls[i].state) == CALL_FREE) {
			c = &d2->calls[i];
			break;
		}
	assert_non_null(c);
	atomic_store(&c->state, CALL_RUNNING);
	atomic_fetch_add(&d2->calls_busy, 1);
	for (i = 0; i < TG_SHADOW_STRIPES; i++)
		atomic_fetch_and(&p->stripe[i].free, ~spare);
	c->shadow = p->va[__builtin_ctzll(spare)];
	c->shadow_bit = held; /* stale: the slot's previous record */

	recover_all(e, &st);
	assert_int_equal(st.calls_kept, 1);
	assert_int_equal(stats(e, G2).calls_in_flight, 0);

	/* G2's next call must get a page of its own */
	invoke_values(e, G2, s2, r2);
	a2 = fake_guest_ptr(e->f, G2, ARG_IPA);
	a2->params[0].u.value.a = 1000;
	assert_true(guest_smc(e, G2, r2));
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	set_regs(r1, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r1[3]);
	assert_true(guest_smc(e, G1, r1));
	assert_int_equal(r1[0], OPTEE_SMC_RETURN_OK);
	a1 = fake_guest_ptr(e->f, G1, ARG_IPA);
	assert_int_equal(a1->session, s1);
	assert_int_equal(a1->params[0].u.value.a, 42);
	set_regs(r2, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r2[3]);
	assert_true(guest_smc(e, G2, r2));
	assert_int_equal(r2[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(a2->session, s2);
	assert_int_equal(a2->params[0].u.value.a, 1002);
}

/* A call suspended whose handle the guest never got (its conversation
 * died): the TEE thread is driven to the end, the guest sees nothing. */
static void suspended_call_the_guest_never_saw_is_ended(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];
	uint32_t session = open_session(e, G1);

	e->f->std_fn = tee_foreign_intr_once;
	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	hv.nhandles = 0; /* the answer never reached the guest */
	recover_all(e, &st);
	assert_int_equal(st.calls_kept, 0);
	assert_int_equal(st.calls_failed, 1);
	assert_int_equal(st.threads_ended, 1);
	assert_false(tee_threads_busy(e->f));
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	/* a late resume with the old handle is refused */
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_ERESUME);
}

/* Died right after the SMC that left a TEE thread in an RPC: nobody
 * recorded it; recovery answers its RPCs (ALLOC: none) until it ends. */
static void tee_thread_nobody_recorded_is_ended(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];
	uint32_t session = open_session(e, G1);

	e->f->std_fn = tee_alloc_cmd_free;
	invoke_values(e, G1, session, r);
	assert_true(call_dies(e, G1, r, EV_SMC, 1));
	assert_true(tee_threads_busy(e->f));
	recover_all(e, &st);
	assert_int_equal(st.calls_failed, 1);
	assert_int_equal(st.threads_ended, 1);
	assert_false(tee_threads_busy(e->f));
	assert_int_equal(stats(e, G1).calls_in_flight, 0);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
	assert_int_equal(stats(e, G1).sessions, 1);
}

/* The same TEE program, the death one RPC later: the ALLOC'd buffer is
 * known, the CMD in it is answered COMMUNICATION, the FREE honoured. */
static void orphan_thread_in_a_cmd_gets_communication(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];
	uint32_t session = open_session(e, G1), i;

	e->f->std_fn = tee_alloc_cmd_free;
	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_ALLOC);
	/* the guest gives a page; the mediator dies in the SMC after */
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, RPC_IPA >> 32,
		 RPC_IPA & 0xFFFFFFFFu, r[3]);
	r[4] = 0;
	r[5] = 0x5151;
	assert_true(call_dies(e, G1, r, EV_SMC, 1));
	assert_int_equal(stats(e, G1).rpc_bufs, 1);
	recover_all(e, &st);
	assert_int_equal(st.threads_ended, 1);
	assert_false(tee_threads_busy(e->f));
	for (i = 0; i < FAKE_MAX_THREADS; i++)
		if (e->f->thr[i].client == G1 && e->f->thr[i].scratch[2])
			assert_int_equal(e->f->thr[i].scratch[2],
					 TEEC_ERROR_COMMUNICATION);
	assert_int_equal(stats(e, G1).rpc_bufs, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

/* REGISTER_SHM the TEE completed, then the death: undone in the TEE
 * (the guest was told it failed), pins dropped. */
static void register_the_tee_saw_is_undone(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8], before;

	register_regs(e, 0x99, 600, r);
	before = e->f->smc_count;
	assert_true(call_dies(e, G1, r, EV_SMC, 1));
	assert_int_equal(fake_pinned_total(e->f), 600);
	recover_all(e, &st);
	assert_int_equal(st.bufs_dropped, 1);
	assert_int_equal(st.bufs_kept, 0);
	assert_int_equal(stats(e, G1).shm_bufs, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
	/* the register, and recovery's UNREGISTER of the same cookie */
	assert_int_equal(e->f->smc_count - before, 2);
	/* the cookie is free again */
	assert_int_equal(register_shm(e, G1, 0x99, 0, 4, 0, 4 * PAGE),
			 TEEC_SUCCESS);
}

/* REGISTER_SHM committed, then the death while the answer was being
 * copied back: the guest sees it fail, so it is undone too. */
static void register_committed_but_not_answered_is_undone(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	register_regs(e, 0x98, 16, r);
	assert_true(call_dies(e, G1, r, EV_COPY_TO, 1));
	assert_int_equal(stats(e, G1).shm_bufs, 1); /* committed */
	recover_all(e, &st);
	assert_int_equal(st.bufs_dropped, 1);
	assert_int_equal(stats(e, G1).shm_bufs, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
	assert_int_equal(register_shm(e, G1, 0x98, 0, 4, 0, 4 * PAGE),
			 TEEC_SUCCESS);
}

/* OPEN_SESSION the TEE completed, then the death: closed again. */
static void session_opened_by_a_dead_call_is_closed(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	open_regs(e, 0, r);
	assert_true(call_dies(e, G1, r, EV_SMC, 1));
	recover_all(e, &st);
	assert_int_equal(st.sessions_closed, 1);
	assert_int_equal(st.sessions_kept, 0);
	assert_int_equal(stats(e, G1).sessions, 0);
}

/*
 * OPEN_SESSION complete in the mediator (committed, results copied, slot
 * free), then the death before the answer reached the guest: the guest
 * saw it fail, so the session is closed.
 */
static void session_opened_but_never_answered_is_closed(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	open_regs(e, 0, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(stats(e, G1).sessions, 1);
	lose_answer();
	recover_all(e, &st);
	assert_int_equal(st.sessions_closed, 1);
	assert_int_equal(st.sessions_kept, 0);
	assert_int_equal(stats(e, G1).sessions, 0);
}

/* The same after an RPC: the completion was the guest's resume. */
static void resumed_open_never_answered_is_closed(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	e->f->std_fn = tee_foreign_intr_once;
	open_regs(e, 0, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_RPC_FOREIGN_INTR);
	set_regs(r, OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	e->f->std_fn = NULL;
	lose_answer();
	recover_all(e, &st);
	assert_int_equal(st.sessions_closed, 1);
	assert_int_equal(stats(e, G1).sessions, 0);
}

/* REGISTER_SHM complete in the mediator, answer lost: undone. */
static void register_never_answered_is_undone(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	register_regs(e, 0x97, 16, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(stats(e, G1).shm_bufs, 1);
	lose_answer();
	recover_all(e, &st);
	assert_int_equal(st.bufs_dropped, 1);
	assert_int_equal(stats(e, G1).shm_bufs, 0);
	assert_int_equal(fake_pinned_total(e->f), 0);
	assert_int_equal(register_shm(e, G1, 0x97, 0, 4, 0, 4 * PAGE),
			 TEEC_SUCCESS);
}

/* A session the guest was told about stays when a later call in the
 * same slot (same argument page) loses its answer. */
static void answered_session_stays_when_a_later_answer_is_lost(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint32_t session = open_session(e, G1);
	uint64_t r[8];

	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	lose_answer();
	recover_all(e, &st);
	assert_int_equal(st.sessions_closed, 0);
	assert_int_equal(st.sessions_kept, 1);
	invoke_values(e, G1, session, r);
	assert_true(guest_smc(e, G1, r));
	assert_int_equal(r[0], OPTEE_SMC_RETURN_OK);
	assert_int_equal(
		((struct optee_msg_arg *)fake_guest_ptr(e->f, G1, ARG_IPA))->ret,
		TEEC_SUCCESS);
}

/* Dead before the TEE saw the OPEN: nothing to close. */
static void open_that_never_reached_the_tee_closes_nothing(void **state)
{
	struct env *e = *state;
	struct tg_recover_stats st;
	uint64_t r[8];

	open_regs(e, TEEC_SUCCESS, r);
	assert_true(call_dies(e, G1, r, EV_COPY, 1));
	recover_all(e, &st);
	assert_int_equal(st.calls_failed, 1);
	assert_int_equal(st.sessions_closed, 0);
	assert_int_equal(stats(e, G1).sessions, 0);
}

/*
 * Death at every pin and every copy of a REGISTER_SHM of 1200 pages (3
 * list pages) and of an INVOKE with a NONCONTIG TMEM, and during
 * UNREGISTER: after recovery nothing the state does not reference stays
 * pinned or allocated, the buffer is either there and usable or gone,
 * and teardown is clean.
 */
static void death_at_every_pin_and_copy_leaves_nothing(void **state)
{
	struct env *e = *state;
	int kind, at;

	for (kind = EV_PIN; kind <= EV_COPY; kind *= 2) {
		for (at = 1; at <= 8; at++) {
			struct tg_recover_stats st;
			uint64_t r[8];
			bool died;

			register_regs(e, 0x1000u + (uint32_t)at, 1200, r);
			died = call_dies(e, G1, r, kind, at);
			recover_all(e, &st);
			if (!died) {
				assert_int_equal(stats(e, G1).shm_bufs, 1);
				assert_int_equal(unregister_shm(e, G1,
							0x1000u + (uint32_t)at),
						 TEEC_SUCCESS);
			}
			assert_int_equal(stats(e, G1).shm_bufs, 0);
			assert_int_equal(stats(e, G1).calls_in_flight, 0);
			assert_int_equal(fake_pinned_total(e->f), 0);
			assert_int_equal(stats(e, G1).pinned_pages, 0);
			/* no page is held for the idle domain */
			assert_int_equal(stats(e, G1).shadow_pages, 0);
		}
	}
}

/*
 * Death at every allocation and free of a REGISTER_SHM of 1200 pages:
 * the first call grows the shadow pool, the commit moves the buffer's PAs
 * from its list pages to a private array and gives the list back. After
 * recovery the buffer is there and usable or gone, nothing is pinned that
 * the state does not reference, and the pool hands out its pages again.
 */
static void death_at_every_allocation_leaves_nothing(void **state)
{
	struct env *e = *state;
	int at;

	for (at = 1; at <= 12; at++) {
		struct tg_recover_stats st;
		uint64_t r[8];
		bool died;

		register_regs(e, 0x2000u + (uint32_t)at, 1200, r);
		died = call_dies(e, G1, r, EV_MEM, at);
		recover_all(e, &st);
		if (!died) {
			assert_int_equal(stats(e, G1).shm_bufs, 1);
			assert_int_equal(unregister_shm(e, G1,
							0x2000u + (uint32_t)at),
					 TEEC_SUCCESS);
		}
		assert_int_equal(stats(e, G1).shm_bufs, 0);
		assert_int_equal(stats(e, G1).calls_in_flight, 0);
		assert_int_equal(fake_pinned_total(e->f), 0);
		assert_int_equal(stats(e, G1).pinned_pages, 0);
		assert_int_equal(stats(e, G1).shadow_pages, 0);
		/* the pool works after it: a session opens and closes */
		open_session(e, G1);
	}
}

/* Death in a teardown's SMC: recovery, then the teardown finishes. */
static void death_during_destroy_then_destroy_finishes(void **state)
{
	struct env *e = *state;
	int rc;
	volatile int n = 0;

	open_session(e, G1);
	assert_int_equal(register_shm(e, G1, 0x31, 0, 8, 0, 8 * PAGE),
			 TEEC_SUCCESS);
	events = 0;
	crash_kind = EV_SMC;
	crash_at = 2; /* CLOSE went, UNREGISTER dies */
	if (!setjmp(crash_env)) {
		do
			rc = tg_domain_destroy(e->med, G1);
		while (rc == TG_AGAIN && ++n < 100);
		fail_msg("the teardown never died");
	}
	crash_at = 0;
	leak_allowed += 4;
	recover_all(e, NULL);
	assert_int_equal(fake_destroy_domain(e->med, G1) > 0, 1);
	assert_int_equal(tg_domain_destroy(e->med, G1), TG_ENOENT);
	assert_int_equal(fake_pinned_total(e->f), 0);
}

/* Death in VM_CREATED: the half-made domain goes; it can be made again. */
static void death_during_create_frees_the_slot(void **state)
{
	struct env *e = *state;

	events = 0;
	crash_kind = EV_SMC;
	crash_at = 1;
	if (!setjmp(crash_env)) {
		tg_domain_create(e->med, 3, NULL);
		fail_msg("create never died");
	}
	crash_at = 0;
	leak_allowed += 4;
	recover_all(e, NULL);
	assert_int_equal(tg_domain_recover(e->med, 3, NULL, NULL, NULL),
			 TG_ENOENT);
	assert_int_equal(tg_domain_create(e->med, 3, NULL), TG_OK);
}

static void recover_refuses_what_is_not_a_mediator(void **state)
{
	struct env *e = *state;

	assert_int_equal(tg_mediator_recover(NULL, &e->f->port, NULL),
			 TG_EINVAL);
	assert_int_equal(tg_domain_recover(e->med, 0, NULL, NULL, NULL),
			 TG_EINVAL);
	assert_int_equal(tg_domain_recover(e->med, 7, NULL, NULL, NULL),
			 TG_ENOENT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(state_between_calls_is_kept),
		T(kept_call_keeps_its_shadow_page),
		T(call_caught_between_pool_bit_and_page_is_recovered),
		T(suspended_call_the_guest_never_saw_is_ended),
		T(tee_thread_nobody_recorded_is_ended),
		T(orphan_thread_in_a_cmd_gets_communication),
		T(register_the_tee_saw_is_undone),
		T(register_committed_but_not_answered_is_undone),
		T(session_opened_by_a_dead_call_is_closed),
		T(open_that_never_reached_the_tee_closes_nothing),
		T(session_opened_but_never_answered_is_closed),
		T(resumed_open_never_answered_is_closed),
		T(register_never_answered_is_undone),
		T(answered_session_stays_when_a_later_answer_is_lost),
		T(death_at_every_pin_and_copy_leaves_nothing),
		T(death_at_every_allocation_leaves_nothing),
		T(death_during_destroy_then_destroy_finishes),
		T(death_during_create_frees_the_slot),
		T(recover_refuses_what_is_not_a_mediator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
