// SPDX-License-Identifier: BSD-2-Clause
/*
 * The isolation oracle against a real OP-TEE, and the attacks that breach
 * a bare OP-TEE run through teegate (label "optee"; they need
 * TEEGATE_OPTEE_FIRMWARE=DIR and exit 77, skipped, without it).
 *
 *   test_breach early_unpin    the mediator's pins are dropped as soon as
 *                              taken (test-only port hook): the oracle
 *                              counts OP-TEE working on unpinned pages
 *   test_breach foreign_read   a guest that is not mediated names another
 *                              guest's page in a temporary memref: the
 *                              oracle counts OP-TEE reading it, at its PA
 *   test_breach table          every class of docs/security.md "Against a
 *                              bare OP-TEE" in three configurations: a guest
 *                              with raw SMC access (a7 as it sets it),
 *                              --no-mediator (the hypervisor sets a7 only)
 *                              and teegate; prints the table and checks
 *                              that each class breaches where it must and
 *                              that teegate refuses all with the oracle at
 *                              0. Needs CFG_VIRT_GUEST_COUNT >= 5.
 *
 * The guests are thread-mode agents: vCPU 0 runs a loop that performs the
 * SMCs the test thread posts, so that one sequential script drives the
 * victims and the attacker. Without a mediator a guest must name machine
 * addresses itself: the script gives each agent its own PAs
 * (tg_guest_ipa_to_pa()) and the attacker the victim's. Through teegate
 * the attacker sends the very same values; the mediator reads them as
 * IPAs of the attacker.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>

#include "fw_protocol.h"
#include "qemu.h"

#define SKIP 77
#define PAGE 4096u
#define AGENT_PAGES 16u

static int failures;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, \
			       #cond);                                \
			printf(__VA_ARGS__);                          \
			printf("\n");                                 \
			failures++;                                   \
		}                                                     \
	} while (0)

enum config { RAW = 0, NOMED, TEEGATE, NCONFIGS };
static const char *const config_names[NCONFIGS] = {
	"bare OP-TEE (a7 as the guest sets it)",
	"--no-mediator (the hypervisor sets a7)",
	"teegate",
};

/* ---- machines ----------------------------------------------------------- */

struct env {
	enum config cfg;
	struct tg_qemu *q;
	struct tg_machine *m;
	struct tg_mem_region regions[TG_HOST_MAX_RESERVED];
	char ram_path[64];
};

static int env_start(struct env *e, enum config cfg, bool unpin_early)
{
	struct tg_qemu_config qc = {
		.firmware_dir = getenv("TEEGATE_OPTEE_FIRMWARE"),
		.cpus = 2,
		.timeout_ms = 120000,
		.oracle = true,
	};
	struct tg_machine_config mc = { 0 };
	char err[4096];
	int rc;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	rc = tg_qemu_start(&qc, &e->q, err, sizeof(err));
	if (rc) {
		printf("FAIL: %s\n", err);
		return -1;
	}
	if (tg_qemu_machine_memory(e->q, &mc, e->regions, TG_HOST_MAX_RESERVED,
				   e->ram_path, sizeof(e->ram_path)))
		return -1;
	mc.tee = TG_TEE_QEMU;
	mc.qemu = e->q;
	mc.seed = 7;
	mc.isolation = TG_ISOLATION_INLINE;
	mc.mediation = cfg == TEEGATE ? TG_MEDIATION_INLINE : TG_MEDIATION_DIRECT;
	mc.direct_raw_a7 = cfg == RAW;
	mc.test_unpin_early = unpin_early;
	rc = tg_machine_create(&mc, &e->m);
	if (rc) {
		printf("FAIL: machine: %s\n", tg_strerror(rc));
		tg_qemu_stop(e->q);
		return -1;
	}
	return 0;
}

static void env_stop(struct env *e)
{
	tg_machine_destroy(e->m);
	tg_qemu_stop(e->q);
}

static void oracle_now(struct env *e, struct tg_qemu_oracle_stats *st)
{
	tg_qemu_oracle_stats(e->q, st);
}

/* ---- agents: thread-mode guests that run the script's SMCs ------------- */

enum { CMD_NONE = 0, CMD_SMC, CMD_EXIT };

struct agent {
	const char *name;
	uint32_t id;
	struct tg_guest *g;
	_Atomic uint32_t ready;
	_Atomic uint32_t cmd;     /* posted by the script */
	_Atomic uint32_t done;    /* sequence of completed commands */
	uint32_t seq;
	uint64_t regs[8];
	uint64_t ipa;             /* AGENT_PAGES pages */
	uint8_t *va;
	struct env *e;
};

static void agent_main(struct tg_vcpu *v, void *arg)
{
	struct agent *a = arg;
	struct timespec nap = { 0, 50000 };
	uint32_t seen = 0;

	if (tg_alloc_pages(v, AGENT_PAGES, &a->ipa))
		return;
	a->va = tg_ipa_ptr(v, a->ipa);
	memset(a->va, 0, AGENT_PAGES * PAGE);
	atomic_store(&a->ready, 1);
	for (;;) {
		uint32_t c = atomic_load(&a->cmd);

		if (c == CMD_EXIT)
			return;
		if (c != CMD_SMC || atomic_load(&a->done) != seen) {
			nanosleep(&nap, NULL);
			continue;
		}
		atomic_store(&a->cmd, CMD_NONE);
		tg_smc(v, a->regs);
		atomic_store(&a->done, ++seen);
	}
}

static int agent_start(struct env *e, struct agent *a, const char *name,
		       uint32_t id)
{
	struct tg_guest_config gc = { 0 };
	int rc, i;

	memset(a, 0, sizeof(*a));
	a->name = name;
	a->id = id;
	a->e = e;
	gc.mode = TG_GUEST_THREAD;
	gc.client_id = id;
	gc.vcpus = 1;
	gc.ram_pages = 256;
	gc.name = name;
	rc = tg_guest_start(e->m, &gc, agent_main, a, &a->g);
	if (rc) {
		printf("FAIL: guest %s (%u): %s\n", name, id, tg_strerror(rc));
		return -1;
	}
	for (i = 0; i < 10000 && !atomic_load(&a->ready); i++)
		usleep(1000);
	return atomic_load(&a->ready) ? 0 : -1;
}

static void agent_stop(struct agent *a)
{
	if (!a->g)
		return;
	atomic_store(&a->cmd, CMD_EXIT);
	tg_guest_wait(a->g, NULL);
	tg_guest_release(a->g);
	a->g = NULL;
}

/* One SMC from @a: x0..x7 in and out. */
static void agent_smc(struct agent *a, uint64_t regs[8])
{
	memcpy(a->regs, regs, sizeof(a->regs));
	a->seq++;
	atomic_store(&a->cmd, CMD_SMC);
	while (atomic_load(&a->done) != a->seq)
		usleep(50);
	memcpy(regs, a->regs, sizeof(a->regs));
}

/* Page @i of @a: the pointer, and the address @a names it by. */
static uint8_t *page(struct agent *a, uint32_t i)
{
	return a->va + (size_t)i * PAGE;
}

static uint64_t ipa(struct agent *a, uint32_t i)
{
	return a->ipa + (uint64_t)i * PAGE;
}

static uint64_t pa(struct agent *a, uint32_t i)
{
	return tg_guest_ipa_to_pa(a->g, ipa(a, i));
}

/* How @a names its own page @i: a PA without a mediator, else its IPA. */
static uint64_t own(struct agent *a, uint32_t i)
{
	return a->e->cfg == TEEGATE ? ipa(a, i) : pa(a, i);
}

/*
 * A std call with the argument at @arg_addr, a7 = @a7; RPCs (a foreign
 * interrupt) are answered until it completes. Returns a0.
 */
static uint32_t std_call(struct agent *a, uint64_t arg_addr, uint64_t a7)
{
	uint64_t r[8] = { OPTEE_SMC_CALL_WITH_ARG, arg_addr >> 32,
			  arg_addr & 0xffffffffu, 0, 0, 0, 0, a7 };
	int n;

	for (n = 0; n < 1000; n++) {
		agent_smc(a, r);
		if (!OPTEE_SMC_RETURN_IS_RPC(r[0]))
			return (uint32_t)r[0];
		if (OPTEE_SMC_RPC_FUNC(r[0]) == OPTEE_SMC_RPC_FUNC_ALLOC)
			r[1] = r[2] = r[4] = r[5] = 0;
		r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		r[7] = a7;
	}
	return (uint32_t)r[0];
}

static uint64_t fast_call(struct agent *a, uint32_t fid, uint64_t a1,
			  uint64_t a7, uint64_t out[8])
{
	uint64_t r[8] = { fid, a1, 0, 0, 0, 0, 0, a7 };

	agent_smc(a, r);
	if (out)
		memcpy(out, r, sizeof(r));
	return r[0];
}

static struct optee_msg_arg *msg_at(struct agent *a, uint32_t i,
				    uint32_t cmd, uint32_t nparams)
{
	struct optee_msg_arg *m = (struct optee_msg_arg *)page(a, i);

	memset(m, 0, PAGE);
	m->cmd = cmd;
	m->num_params = nparams;
	return m;
}

#define ARG_PAGE 0u  /* each agent's message page */
#define LIST_PAGE 1u /* a page list */
#define DATA_PAGE 2u /* a data page (the victims' secret) */

/* OPEN_SESSION of the invoke-tests PTA from @a; the session id or 0. */
static uint32_t open_pta(struct agent *a)
{
	static const uint8_t uuid[16] = {
		0xd9, 0x6a, 0x5b, 0x40, 0xc3, 0xe5, 0x21, 0xe3,
		0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b,
	};
	struct optee_msg_arg *m = msg_at(a, ARG_PAGE, OPTEE_MSG_CMD_OPEN_SESSION,
					 2);
	uint32_t a0;

	m->params[0].attr = OPTEE_MSG_ATTR_META |
			    OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(m->params[0].u.octets, uuid, 16);
	m->params[1].attr = OPTEE_MSG_ATTR_META |
			    OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a0 = std_call(a, own(a, ARG_PAGE), a->id);
	return a0 == 0 && m->ret == 0 ? m->session : 0;
}

/* INVOKE PARAMS on @session with one VALUE_INOUT 5 + 7; ret (0: answered). */
static uint32_t invoke_value(struct agent *a, uint32_t session, uint64_t a7)
{
	struct optee_msg_arg *m = msg_at(a, ARG_PAGE,
					 OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	uint32_t a0;

	m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	m->session = session;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	m->params[0].u.value.a = 5;
	m->params[0].u.value.b = 7;
	a0 = std_call(a, own(a, ARG_PAGE), a7);
	if (a0)
		return 0x80000000u | a0;
	return m->ret == 0 && m->params[0].u.value.a == 12 ? 0 : m->ret;
}

/*
 * INVOKE PARAMS on @session with one MEMREF_INOUT of 4096 bytes described
 * by @attr / @buf / @shm_ref: the PTA sums the bytes and writes the sum
 * into the first one. Returns a0 (high bit) or the message's ret.
 */
static uint32_t invoke_memref(struct agent *a, uint32_t session,
			      uint32_t attr, uint64_t buf, uint64_t shm_ref)
{
	struct optee_msg_arg *m = msg_at(a, ARG_PAGE,
					 OPTEE_MSG_CMD_INVOKE_COMMAND, 1);
	uint32_t a0;

	m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	m->session = session;
	m->params[0].attr = attr;
	if ((attr & OPTEE_MSG_ATTR_TYPE_MASK) == OPTEE_MSG_ATTR_TYPE_RMEM_INOUT) {
		m->params[0].u.rmem.offs = 0;
		m->params[0].u.rmem.size = PAGE;
		m->params[0].u.rmem.shm_ref = shm_ref;
	} else {
		m->params[0].u.tmem.buf_ptr = buf;
		m->params[0].u.tmem.size = PAGE;
		m->params[0].u.tmem.shm_ref = shm_ref;
	}
	a0 = std_call(a, own(a, ARG_PAGE), a->id);
	return a0 ? 0x80000000u | a0 : m->ret;
}

/* The victim's data page: 3 in its first five bytes, so the PTA's byte
 * sum (15) lands in byte 0 if the TEE is made to work on it. */
static void secret(struct agent *v)
{
	memset(page(v, DATA_PAGE), 0, PAGE);
	memset(page(v, DATA_PAGE), 3, 5);
}

static bool secret_touched(struct agent *v)
{
	return page(v, DATA_PAGE)[0] != 3;
}

/* ---- the classes -------------------------------------------------------- */

struct outcome {
	bool breached;
	char what[160];
	struct tg_qemu_oracle_stats d; /* the oracle's counts during it */
};

__attribute__((format(printf, 3, 4))) static void
said(struct outcome *o, bool breached, const char *fmt, ...)
{
	va_list ap;

	o->breached = breached;
	va_start(ap, fmt);
	vsnprintf(o->what, sizeof(o->what), fmt, ap);
	va_end(ap);
}

struct world {
	struct env e;
	struct agent v1, v2, at; /* victims 1 and 3, attacker 2 */
	uint32_t v1_session, at_session;
};

static void tmem_foreign(struct world *w, struct outcome *o)
{
	uint64_t *list = (uint64_t *)page(&w->at, LIST_PAGE);
	uint32_t ret;

	secret(&w->v1);
	memset(list, 0, PAGE);
	list[0] = pa(&w->v1, DATA_PAGE);
	ret = invoke_memref(&w->at, w->at_session,
			    OPTEE_MSG_ATTR_TYPE_TMEM_INOUT |
				    OPTEE_MSG_ATTR_NONCONTIG,
			    own(&w->at, LIST_PAGE), 0);
	said(o, ret == 0 && secret_touched(&w->v1),
	     "invoke %#x; victim's byte 0 %u (3: untouched)", ret,
	     page(&w->v1, DATA_PAGE)[0]);
}

static void register_foreign(struct world *w, struct outcome *o)
{
	uint64_t *list = (uint64_t *)page(&w->at, LIST_PAGE);
	struct optee_msg_arg *m;
	uint32_t a0, reg, ret;

	secret(&w->v1);
	memset(list, 0, PAGE);
	list[0] = pa(&w->v1, DATA_PAGE);
	m = msg_at(&w->at, ARG_PAGE, OPTEE_MSG_CMD_REGISTER_SHM, 1);
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
			    OPTEE_MSG_ATTR_NONCONTIG;
	m->params[0].u.tmem.buf_ptr = own(&w->at, LIST_PAGE);
	m->params[0].u.tmem.size = PAGE;
	m->params[0].u.tmem.shm_ref = 0x5eed;
	a0 = std_call(&w->at, own(&w->at, ARG_PAGE), w->at.id);
	reg = a0 ? 0x80000000u | a0 : m->ret;
	ret = invoke_memref(&w->at, w->at_session,
			    OPTEE_MSG_ATTR_TYPE_RMEM_INOUT, 0, 0x5eed);
	if (reg == 0) {
		m = msg_at(&w->at, ARG_PAGE, OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
		m->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
		m->params[0].u.rmem.shm_ref = 0x5eed;
		std_call(&w->at, own(&w->at, ARG_PAGE), w->at.id);
	}
	said(o, reg == 0 && ret == 0 && secret_touched(&w->v1),
	     "register %#x, invoke %#x; victim's byte 0 %u (3: untouched)",
	     reg, ret, page(&w->v1, DATA_PAGE)[0]);
}

static void forged_a7(struct world *w, struct outcome *o)
{
	struct optee_msg_arg *m;
	uint32_t a0, closed, after;

	/* Close the victim's session, claiming to be the victim. */
	m = msg_at(&w->at, ARG_PAGE, OPTEE_MSG_CMD_CLOSE_SESSION, 0);
	m->session = w->v1_session;
	a0 = std_call(&w->at, own(&w->at, ARG_PAGE), w->v1.id);
	closed = a0 ? 0x80000000u | a0 : m->ret;
	after = invoke_value(&w->v1, w->v1_session, w->v1.id);
	said(o, after != 0,
	     "CLOSE_SESSION with a7=%u: %#x; the victim's own invoke then %#x",
	     w->v1.id, closed, after);
	if (after != 0)
		w->v1_session = open_pta(&w->v1);
	/* the same session id may have been the attacker's own */
	if (invoke_value(&w->at, w->at_session, w->at.id))
		w->at_session = open_pta(&w->at);
}

/*
 * The victim's message page holds its last INVOKE (on its own session);
 * the attacker makes OP-TEE take that page as its own message. OP-TEE
 * reads it and writes its answer into it.
 */
static void arg_foreign(struct world *w, struct outcome *o)
{
	struct optee_msg_arg *vm;
	uint32_t a0, before;

	before = invoke_value(&w->v1, w->v1_session, w->v1.id);
	vm = (struct optee_msg_arg *)page(&w->v1, ARG_PAGE);
	vm->ret = 0x33333333u;
	a0 = std_call(&w->at, pa(&w->v1, ARG_PAGE), w->at.id);
	said(o, vm->ret != 0x33333333u,
	     "victim's INVOKE %#x; attacker's call a0 %#x; the victim's "
	     "message now says ret %#x (0x33333333: untouched)",
	     before, a0, vm->ret);
}

static void shm_config(struct world *w, struct outcome *o)
{
	uint64_t r[8];
	uint32_t ret = 0xffffffffu;
	uint64_t a0;

	a0 = fast_call(&w->at, OPTEE_SMC_GET_SHM_CONFIG, 0, w->at.id, r);
	/* Then a contiguous temporary memref in it: memory every guest
	 * (and OP-TEE) shares. */
	if (a0 == 0)
		ret = invoke_memref(&w->at, w->at_session,
				    OPTEE_MSG_ATTR_TYPE_TMEM_INOUT, r[1], 0);
	else
		ret = invoke_memref(&w->at, w->at_session,
				    OPTEE_MSG_ATTR_TYPE_TMEM_INOUT,
				    0x42000000ull, 0);
	said(o, a0 == 0 && ret == 0,
	     "GET_SHM_CONFIG a0 %#llx (base %#llx size %#llx); invoke on it %#x",
	     (unsigned long long)a0, (unsigned long long)r[1],
	     (unsigned long long)r[2], ret);
}

static void vm_created_by_guest(struct world *w, struct outcome *o)
{
	uint64_t a0 = fast_call(&w->at, OPTEE_SMC_VM_CREATED, 0x77, 0, NULL);

	said(o, a0 == 0, "VM_CREATED(0x77) with a7=0: a0 %#llx",
	     (unsigned long long)a0);
}

static void vm_destroyed_by_guest(struct world *w, struct outcome *o)
{
	uint64_t a0 = fast_call(&w->at, OPTEE_SMC_VM_DESTROYED, w->v2.id, 0,
				NULL);
	uint64_t after = fast_call(&w->v2, OPTEE_SMC_GET_OS_REVISION, 0,
				   w->v2.id, NULL);

	said(o, after == OPTEE_SMC_RETURN_ENOTAVAIL,
	     "VM_DESTROYED(%u) with a7=0: a0 %#llx; the victim's next call "
	     "a0 %#llx (7: its partition is gone)",
	     w->v2.id, (unsigned long long)a0, (unsigned long long)after);
}

static void vm_created_again(struct world *w, struct outcome *o)
{
	uint64_t a0 = fast_call(&w->at, OPTEE_SMC_VM_CREATED, w->v1.id, 0,
				NULL);
	uint32_t after = invoke_value(&w->v1, w->v1_session, w->v1.id);
	int rc = TG_OK;

	/* The hypervisor's own path refuses a duplicate before OP-TEE. */
	if (w->e.cfg == TEEGATE)
		rc = tg_domain_create(tg_machine_mediator(w->e.m), w->v1.id,
				      NULL);
	said(o, a0 == 0,
	     "VM_CREATED(%u) again with a7=0: a0 %#llx; the victim's invoke "
	     "then %#x%s%s",
	     w->v1.id, (unsigned long long)a0, after,
	     w->e.cfg == TEEGATE ? "; tg_domain_create() of it: " : "",
	     w->e.cfg == TEEGATE ? tg_strerror(rc) : "");
}

struct klass {
	const char *name;
	void (*run)(struct world *, struct outcome *);
	/* where it must breach: bit per config */
	unsigned int breaches;
};

#define IN(c) (1u << (c))
static const struct klass classes[] = {
	{ "temporary memref page list naming another guest's page",
	  tmem_foreign, IN(RAW) | IN(NOMED) },
	{ "REGISTER_SHM over another guest's page", register_foreign,
	  IN(RAW) | IN(NOMED) },
	{ "forged client id in a7 (close the victim's session)", forged_a7,
	  IN(RAW) },
	{ "message argument in another guest's memory", arg_foreign,
	  IN(RAW) | IN(NOMED) },
	{ "GET_SHM_CONFIG, then OP-TEE's reserved SHM", shm_config,
	  IN(RAW) | IN(NOMED) },
	{ "VM_CREATED issued by a guest", vm_created_by_guest, IN(RAW) },
	{ "VM_DESTROYED issued by a guest", vm_destroyed_by_guest, IN(RAW) },
	{ "duplicate VM_CREATED re-creating a partition", vm_created_again,
	  IN(RAW) },
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

static void delta(const struct tg_qemu_oracle_stats *a,
		  const struct tg_qemu_oracle_stats *b,
		  struct tg_qemu_oracle_stats *d)
{
	*d = *b;
	d->checked = b->checked - a->checked;
	d->foreign = b->foreign - a->foreign;
	d->unpinned = b->unpinned - a->unpinned;
	d->identity = b->identity - a->identity;
	d->violations = b->violations - a->violations;
}

static int world_start(struct world *w, enum config cfg)
{
	if (env_start(&w->e, cfg, false))
		return -1;
	if (agent_start(&w->e, &w->v1, "victim", 1) ||
	    agent_start(&w->e, &w->at, "attacker", 2) ||
	    agent_start(&w->e, &w->v2, "victim-2", 3))
		return -1;
	w->v1_session = open_pta(&w->v1);
	w->at_session = open_pta(&w->at);
	if (!w->v1_session || !w->at_session) {
		printf("FAIL: %s: sessions %u %u\n", config_names[cfg],
		       w->v1_session, w->at_session);
		return -1;
	}
	return 0;
}

static void world_stop(struct world *w)
{
	agent_stop(&w->v1);
	agent_stop(&w->at);
	agent_stop(&w->v2);
	env_stop(&w->e);
}

static struct outcome results[NCONFIGS][NCLASSES];
static struct tg_qemu_oracle_stats totals[NCONFIGS];

static int run_config(enum config cfg)
{
	struct tg_qemu_oracle_stats before, after;
	struct world w;
	size_t i;

	memset(&w, 0, sizeof(w));
	if (world_start(&w, cfg)) {
		world_stop(&w);
		return -1;
	}
	for (i = 0; i < NCLASSES; i++) {
		oracle_now(&w.e, &before);
		classes[i].run(&w, &results[cfg][i]);
		oracle_now(&w.e, &after);
		delta(&before, &after, &results[cfg][i].d);
		printf("# %-8s %-55s %s: %s [oracle: %llu foreign, %llu "
		       "unpinned, %llu identity]\n",
		       cfg == RAW ? "bare" : cfg == NOMED ? "no-med" : "teegate",
		       classes[i].name,
		       results[cfg][i].breached ? "BREACHED" : "refused",
		       results[cfg][i].what,
		       (unsigned long long)results[cfg][i].d.foreign,
		       (unsigned long long)results[cfg][i].d.unpinned,
		       (unsigned long long)results[cfg][i].d.identity);
	}
	oracle_now(&w.e, &totals[cfg]);
	world_stop(&w);
	return 0;
}

static void cell(const struct outcome *o, char *buf, size_t len)
{
	if (!o->breached) {
		snprintf(buf, len, "refused; oracle %llu",
			 (unsigned long long)(o->d.foreign + o->d.identity));
		return;
	}
	snprintf(buf, len, "**breached**; oracle %llu%s",
		 (unsigned long long)(o->d.foreign + o->d.identity),
		 o->d.identity && !o->d.foreign ? " (identity)"
		 : o->d.foreign && !o->d.identity ? " (foreign)"
						   : "");
}

static int test_table(void)
{
	struct tg_qemu_oracle_stats *t;
	char c[NCONFIGS][64];
	size_t i;
	int k;

	for (k = 0; k < NCONFIGS; k++)
		if (run_config((enum config)k))
			return 1;
	printf("\n| class | %s | %s | %s |\n|---|---|---|---|\n",
	       config_names[RAW], config_names[NOMED], config_names[TEEGATE]);
	for (i = 0; i < NCLASSES; i++) {
		for (k = 0; k < NCONFIGS; k++)
			cell(&results[k][i], c[k], sizeof(c[k]));
		printf("| %s | %s | %s | %s |\n", classes[i].name, c[RAW],
		       c[NOMED], c[TEEGATE]);
	}
	for (k = 0; k < NCONFIGS; k++) {
		t = &totals[k];
		printf("# %s, whole run: %llu secure-world accesses to NS RAM "
		       "checked; %llu foreign, %llu unpinned, %llu identity\n",
		       config_names[k], (unsigned long long)t->checked,
		       (unsigned long long)t->foreign,
		       (unsigned long long)t->unpinned,
		       (unsigned long long)t->identity);
		CHECK(!t->broken, "oracle broken: %s", t->why);
	}
	for (i = 0; i < NCLASSES; i++) {
		for (k = 0; k < NCONFIGS; k++) {
			const struct outcome *o = &results[k][i];
			bool must = classes[i].breaches & IN(k);

			CHECK(o->breached == must, "%s, %s: %s (%s)",
			      config_names[k], classes[i].name,
			      o->breached ? "breached" : "refused", o->what);
			/* a breach must show in the oracle */
			if (o->breached)
				CHECK(o->d.foreign + o->d.identity > 0,
				      "%s, %s: breached and the oracle saw "
				      "nothing",
				      config_names[k], classes[i].name);
		}
	}
	CHECK(totals[TEEGATE].violations == 0 && totals[TEEGATE].checked > 0,
	      "teegate: %llu oracle violations, %llu checked",
	      (unsigned long long)totals[TEEGATE].violations,
	      (unsigned long long)totals[TEEGATE].checked);
	return failures ? 1 : 0;
}

/* ---- the oracle's mutation tests ---------------------------------------- */

static const TEEC_UUID invoke_tests_uuid = {
	0xd96a5b40, 0xc3e5, 0x21e3,
	{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
};

struct unpin_run {
	uint32_t ret_temp, ret_reg;
	bool done;
};

/* A registered and a temporary memref, each read by the PTA. */
static void unpin_main(struct tg_vcpu *v, void *arg)
{
	struct unpin_run *r = arg;
	TEEC_SharedMemory shm = { .size = PAGE, .flags = TEEC_MEM_INPUT |
							  TEEC_MEM_OUTPUT };
	TEEC_Operation op;
	TEEC_Session s;
	TEEC_Context c;
	uint32_t origin;
	uint8_t buf[PAGE];

	(void)v;
	if (TEEC_InitializeContext(NULL, &c))
		return;
	if (TEEC_OpenSession(&c, &s, &invoke_tests_uuid, TEEC_LOGIN_PUBLIC,
			     NULL, NULL, &origin))
		return;
	memset(buf, 1, sizeof(buf));
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = sizeof(buf);
	r->ret_temp = TEEC_InvokeCommand(&s, PTA_INVOKE_TESTS_CMD_PARAMS, &op,
					 &origin);
	if (TEEC_AllocateSharedMemory(&c, &shm) == TEEC_SUCCESS) {
		memset(shm.buffer, 1, PAGE);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm;
		r->ret_reg = TEEC_InvokeCommand(
			&s, PTA_INVOKE_TESTS_CMD_PARAMS, &op, &origin);
		TEEC_ReleaseSharedMemory(&shm);
	}
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&c);
	r->done = true;
}

static void print_records(struct env *e, uint32_t max)
{
	struct tg_oracle_rec rec[16];
	uint32_t i, n = tg_qemu_oracle_records(e->q, rec, max < 16 ? max : 16);

	for (i = 0; i < n; i++)
		printf("#   %s %s of pa %#llx by insn %#llx at t=%llu ns, for "
		       "client %u, page owner %#x with %u pins\n",
		       rec[i].kind == TG_ORACLE_FOREIGN ? "foreign" : "unpinned",
		       rec[i].write ? "write" : "read",
		       (unsigned long long)rec[i].pa,
		       (unsigned long long)rec[i].insn,
		       (unsigned long long)rec[i].time_ns, rec[i].client,
		       rec[i].owner, rec[i].pins);
}

static int test_early_unpin(void)
{
	struct tg_guest_config gc = { .mode = TG_GUEST_THREAD, .vcpus = 2 };
	struct tg_qemu_oracle_stats st;
	struct tg_oracle_rec rec[TG_ORACLE_RECORDS];
	struct unpin_run r = { 0 };
	struct tg_guest *g;
	struct env e;
	uint32_t i, n, cid;

	if (env_start(&e, TEEGATE, true))
		return 1;
	if (tg_guest_start(e.m, &gc, unpin_main, &r, &g)) {
		env_stop(&e);
		return 1;
	}
	cid = tg_guest_client_id(g);
	tg_guest_wait(g, NULL);
	tg_qemu_oracle_stats(e.q, &st);
	printf("# with the pins dropped early: invokes %#x (temporary) %#x "
	       "(registered); oracle: %llu checked, %llu unpinned, %llu "
	       "foreign, %llu identity\n",
	       r.ret_temp, r.ret_reg, (unsigned long long)st.checked,
	       (unsigned long long)st.unpinned, (unsigned long long)st.foreign,
	       (unsigned long long)st.identity);
	print_records(&e, 4);
	CHECK(r.done && r.ret_temp == 0 && r.ret_reg == 0,
	      "the guest's calls worked (the TEE did not notice)");
	CHECK(st.unpinned > 0, "the oracle counted the unpinned accesses");
	CHECK(st.foreign == 0 && st.identity == 0,
	      "nothing but the guest's own pages");
	n = tg_qemu_oracle_records(e.q, rec, TG_ORACLE_RECORDS);
	for (i = 0; i < n; i++)
		CHECK(rec[i].kind == TG_ORACLE_UNPINNED &&
			      rec[i].client == cid && rec[i].owner == cid &&
			      rec[i].pins == 0,
		      "record %u: kind %u client %u owner %#x pins %u", i,
		      rec[i].kind, rec[i].client, rec[i].owner, rec[i].pins);
	tg_guest_release(g);
	env_stop(&e);
	return failures ? 1 : 0;
}

static int test_foreign_read(void)
{
	struct tg_oracle_rec rec[TG_ORACLE_RECORDS];
	struct tg_qemu_oracle_stats st;
	struct world w;
	struct outcome o;
	uint32_t i, n, hits = 0;
	uint64_t victim;

	memset(&w, 0, sizeof(w));
	if (world_start(&w, NOMED)) {
		world_stop(&w);
		return 1;
	}
	victim = pa(&w.v1, DATA_PAGE);
	tmem_foreign(&w, &o);
	tg_qemu_oracle_stats(w.e.q, &st);
	printf("# unmediated guest %u names guest %u's page %#llx: %s; "
	       "oracle: %llu foreign\n",
	       w.at.id, w.v1.id, (unsigned long long)victim, o.what,
	       (unsigned long long)st.foreign);
	n = tg_qemu_oracle_records(w.e.q, rec, TG_ORACLE_RECORDS);
	print_records(&w.e, 3);
	for (i = 0; i < n; i++) {
		if (rec[i].kind != TG_ORACLE_FOREIGN)
			continue;
		if ((rec[i].pa & ~0xfffull) == victim &&
		    rec[i].client == w.at.id && rec[i].owner == w.v1.id)
			hits++;
	}
	printf("#   (%u of the %u records kept are of the victim's page)\n",
	       hits, n);
	CHECK(o.breached, "OP-TEE worked on the victim's page: %s", o.what);
	CHECK(st.foreign > 0 && hits > 0,
	      "the oracle counted OP-TEE reading the victim's page for the "
	      "attacker (%llu foreign, %u records of that page)",
	      (unsigned long long)st.foreign, hits);
	world_stop(&w);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *fw = getenv("TEEGATE_OPTEE_FIRMWARE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s early_unpin|foreign_read|table\n",
			argv[0]);
		return 2;
	}
	if (!fw || !*fw) {
		printf("TEEGATE_OPTEE_FIRMWARE not set: skipped (needs a real "
		       "OP-TEE, docs/real-optee.md)\n");
		return SKIP;
	}
	/* the breaches are OP-TEE SMC ABI calls (FF-A: optee.ffa_*) */
	if (tgt_need_protocol(TG_PROTOCOL_OPTEE))
		return SKIP;
	if (!strcmp(argv[1], "early_unpin"))
		return test_early_unpin();
	if (!strcmp(argv[1], "foreign_read"))
		return test_foreign_read();
	if (!strcmp(argv[1], "table"))
		return test_table();
	fprintf(stderr, "unknown test %s\n", argv[1]);
	return 2;
}
