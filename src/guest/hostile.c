// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hostile demo guest (tg_workload_hostile()): runs the catalogue of
 * hostile_table.c (the attacks, what each sends and what counts as
 * refused) on a vCPU of the hosted platform, through the guest driver for
 * its sessions, and counts each outcome.
 */
#include <stdio.h>
#include <string.h>

#include <teegate/optee_guest.h>
#include <teegate/workload.h>

#include "hostile_table.h"
#include "model_tas.h" /* the model's yield TA, when the TEE has it */
#include "optee_private.h"

static const char *a0_name(uint32_t a0)
{
	switch (a0) {
	case OPTEE_SMC_RETURN_OK:
		return "OK";
	case OPTEE_SMC_RETURN_ETHREAD_LIMIT:
		return "ETHREAD_LIMIT";
	case OPTEE_SMC_RETURN_EBUSY:
		return "EBUSY";
	case OPTEE_SMC_RETURN_ERESUME:
		return "ERESUME";
	case OPTEE_SMC_RETURN_EBADADDR:
		return "EBADADDR";
	case OPTEE_SMC_RETURN_EBADCMD:
		return "EBADCMD";
	case OPTEE_SMC_RETURN_ENOMEM:
		return "ENOMEM";
	case OPTEE_SMC_RETURN_ENOTAVAIL:
		return "ENOTAVAIL";
	case OPTEE_SMC_RETURN_UNKNOWN_FUNCTION:
		return "UNKNOWN_FUNCTION";
	default:
		return "?";
	}
}

static const char *ret_name(uint32_t ret)
{
	switch (ret) {
	case TEEC_ERROR_BAD_PARAMETERS:
		return "BAD_PARAMETERS";
	case TEEC_ERROR_OUT_OF_MEMORY:
		return "OUT_OF_MEMORY";
	case TEEC_ERROR_ITEM_NOT_FOUND:
		return "ITEM_NOT_FOUND";
	case TEEC_ERROR_BUSY:
		return "BUSY";
	case TEEC_ERROR_ACCESS_DENIED:
		return "ACCESS_DENIED";
	default:
		return "?";
	}
}

const char *tg_attack_expect_str(const struct tg_attack_expect *e, char *buf,
				 size_t len)
{
	static const char *const origins[] = { "any", "API", "COMMS", "TEE",
					       "TRUSTED_APP" };

	if (!buf || !len)
		return buf;
	switch (e->kind) {
	case TG_EXPECT_A0:
		snprintf(buf, len, "a0 = %s", a0_name(e->code));
		break;
	case TG_EXPECT_MSG:
		snprintf(buf, len, "a0 = OK, ret = %s, origin %s",
			 ret_name(e->code),
			 e->origin < 5 ? origins[e->origin] : "?");
		break;
	case TG_EXPECT_NOT_BREACHED:
		snprintf(
			buf, len,
			"no breach (the TEE works on no page of another guest)");
		break;
	case TG_EXPECT_FFA_ERROR:
		snprintf(buf, len, "FFA_ERROR %s", tgg_ffa_err_name(e->code));
		break;
	case TG_EXPECT_FFA_W3:
		snprintf(buf, len, "direct response, w3 = %s",
			 ret_name(e->code));
		break;
	default:
		snprintf(buf, len, "a clean answer (no crash, known a0)");
		break;
	}
	return buf;
}

/* The second vCPU's job (the TOCTOU scribbler). */
struct spawned {
	void (*fn)(void *arg);
	void *arg;
	struct tg_vcpu *vcpu; /* set on that vCPU */
};

struct hctx {
	struct tg_vcpu *vcpu;
	struct spawned spawned;
	struct tg_optee *drv;
	struct tg_hostile_env env;
	uint32_t flags;
	bool setup_interrupted; /* a setup call got COMMUNICATION */
};

static const uint8_t invoke_tests_uuid[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t stats_uuid[16] = PTA_STATS_UUID;
static const uint8_t yield_uuid[16] = MODEL_TA_YIELD_UUID;

/* ---- the environment of hostile_table.c: a vCPU of the hosted platform -- */

static void env_smc(void *ctx, uint64_t regs[8])
{
	struct hctx *h = ctx;

	tg_smc(h->vcpu, regs);
}

static void *env_page_alloc(void *ctx, uint64_t *addr)
{
	struct hctx *h = ctx;

	if (tg_alloc_pages(h->vcpu, 1, addr))
		return NULL;
	return tg_ipa_ptr(h->vcpu, *addr);
}

static void env_page_free(void *ctx, void *va, uint64_t addr)
{
	struct hctx *h = ctx;

	(void)va;
	tg_free_pages(h->vcpu, addr, 1);
}

static const void *env_own_ptr(void *ctx, uint64_t addr)
{
	struct hctx *h = ctx;

	return tg_ipa_ptr(h->vcpu, addr);
}

static int env_open_session(void *ctx, const uint8_t uuid[16],
			    uint32_t *session, uint32_t *ret)
{
	struct hctx *h = ctx;
	struct tg_optee_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = tg_optee_open_session(h->drv, uuid, 0, NULL, 0, NULL, 0, session,
				   &res);
	*ret = res.ret;
	return !rc && res.ret == TEEC_SUCCESS ? 0 : -1;
}

static void env_close_session(void *ctx, uint32_t session)
{
	struct hctx *h = ctx;

	tg_optee_close_session(h->drv, session, NULL);
}

static void spawn_main(struct tg_vcpu *vcpu, void *arg)
{
	struct spawned *s = arg;

	s->vcpu = vcpu;
	s->fn(s->arg);
}

/* At most one at a time (the TOCTOU attacks). */
static int env_spawn(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct hctx *h = ctx;

	h->spawned.fn = fn;
	h->spawned.arg = arg;
	h->spawned.vcpu = NULL;
	return tg_vcpu_spawn(h->vcpu, spawn_main, &h->spawned);
}

static void env_join(void *ctx, int index)
{
	struct hctx *h = ctx;

	tg_vcpu_join(h->vcpu, index);
}

/* Asked on the second vCPU: it is being killed (it never traps). */
static bool env_stopped(void *ctx)
{
	struct hctx *h = ctx;

	return h->spawned.vcpu && tg_vcpu_killed(h->spawned.vcpu);
}

static int setup(struct hctx *h)
{
	struct tg_hostile_env *env = &h->env;
	struct tg_optee_result res;
	uint32_t tries = 0;

	/*
	 * TG_WL_CHAOS: a fast call of the driver's probe can meet a mediator
	 * death (ENOTAVAIL); the probe after the restart tells that from a
	 * TEE that is not there.
	 */
	while (tg_optee_get(h->vcpu, &h->drv)) {
		if (!(h->flags & TG_WL_CHAOS) || ++tries > 3)
			return -1;
	}
	if (tries)
		__atomic_fetch_add(&tg_guest_counters(h->vcpu)->interrupted, 1,
				   __ATOMIC_RELAXED);
	if (tg_alloc_pages(h->vcpu, 1, &env->arg_addr) ||
	    !(env->arg = tg_ipa_ptr(h->vcpu, env->arg_addr)))
		return -1;
	if (tg_alloc_pages(h->vcpu, 1, &env->data_addr) ||
	    !(env->data = tg_ipa_ptr(h->vcpu, env->data_addr)))
		return -1;
	if (tg_alloc_pages(h->vcpu, TG_HOSTILE_LIST_PAGES, &env->list_addr) ||
	    !(env->list = tg_ipa_ptr(h->vcpu, env->list_addr)))
		return -1;
	if (tg_optee_open_session(h->drv, invoke_tests_uuid, 0, NULL, 0, NULL,
				  0, &env->session, &res) ||
	    res.ret != TEEC_SUCCESS) {
		h->setup_interrupted = res.ret == TEEC_ERROR_COMMUNICATION;
		return -1;
	}
	if (tg_optee_open_session(h->drv, stats_uuid, 0, NULL, 0, NULL, 0,
				  &env->stats_session, &res) ||
	    res.ret != TEEC_SUCCESS) {
		h->setup_interrupted = res.ret == TEEC_ERROR_COMMUNICATION;
		return -1;
	}
	if (tg_optee_open_session(h->drv, yield_uuid, 0, NULL, 0, NULL, 0,
				  &env->yield_session, &res) ||
	    res.ret != TEEC_SUCCESS)
		env->yield_session = 0;
	return 0;
}

static void teardown(struct hctx *h)
{
	struct tg_hostile_env *env = &h->env;

	if (h->drv) {
		if (env->yield_session)
			tg_optee_close_session(h->drv, env->yield_session,
					       NULL);
		if (env->stats_session)
			tg_optee_close_session(h->drv, env->stats_session,
					       NULL);
		if (env->session)
			tg_optee_close_session(h->drv, env->session, NULL);
		tg_optee_put(h->drv);
	}
	if (env->list)
		tg_free_pages(h->vcpu, env->list_addr, TG_HOSTILE_LIST_PAGES);
	if (env->data)
		tg_free_pages(h->vcpu, env->data_addr, 1);
	if (env->arg)
		tg_free_pages(h->vcpu, env->arg_addr, 1);
}

static void env_init(struct hctx *h, const struct tg_hostile_opts *opts)
{
	struct tg_hostile_env *env = &h->env;

	env->ctx = h;
	env->smc = env_smc;
	env->page_alloc = env_page_alloc;
	env->page_free = env_page_free;
	env->own_ptr = env_own_ptr;
	env->spare_ptr = NULL; /* the driver may use any page of ours */
	env->open_session = env_open_session;
	env->close_session = env_close_session;
	env->spawn = env_spawn;
	env->join = env_join;
	env->stopped = env_stopped;
	env->a7 = 0; /* the hypervisor writes the client id */
	env->victim_addr = opts && opts->victim_addr
				   ? opts->victim_addr
				   : TG_HOSTILE_DEFAULT_VICTIM;
	env->victim_client =
		opts && opts->victim_client ? opts->victim_client : 1;
	env->flags = h->flags;
}

int tg_workload_hostile(struct tg_vcpu *vcpu,
			const struct tg_hostile_opts *opts)
{
	const struct tg_attack *table;
	struct tg_guest_counters *c;
	struct hctx h;
	uint32_t rounds, r;
	int not_refused = 0;
	size_t i, n = tg_hostile_catalogue(&table);

	if (!vcpu)
		return -1;
	if (tgg_guest_uses_ffa(vcpu, opts ? opts->flags : 0))
		return tgg_hostile_ffa(vcpu, opts);
	c = tg_guest_counters(vcpu);
	memset(&h, 0, sizeof(h));
	h.vcpu = vcpu;
	h.flags = opts ? opts->flags : 0;
	env_init(&h, opts);
	if (opts && opts->results)
		memset(opts->results, 0, n * sizeof(opts->results[0]));
	if (setup(&h)) {
		/* TG_WL_CHAOS: the mediator died under the setup */
		__atomic_fetch_add((h.flags & TG_WL_CHAOS) &&
						   h.setup_interrupted
					   ? &c->interrupted
					   : &c->errors,
				   1, __ATOMIC_RELAXED);
		teardown(&h);
		return -1;
	}
	rounds = opts && opts->rounds ? opts->rounds : 1;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			const struct tg_attack *t = &table[i];
			struct tg_hostile_outcome o;
			bool ok;

			if (opts && opts->only && strcmp(opts->only, t->name))
				continue;
			__atomic_store_n(&c->phase, (uint32_t)i,
					 __ATOMIC_RELAXED);
			tg_hostile_attack(&h.env, i, &o);
			if (o.skipped) {
				/* Neither refused nor passed: not counted. */
				if (opts && opts->results)
					opts->results[i].skipped++;
				continue;
			}
			ok = tg_hostile_as_contract(&t->expect, &o);
			if (!ok && (h.flags & TG_WL_CHAOS) &&
			    (o.interrupted ||
			     o.a0 == OPTEE_SMC_RETURN_ENOTAVAIL)) {
				/* The mediator died under the attack (it
				 * was killed on purpose): not tried to its
				 * end; the next round tries it again. */
				__atomic_fetch_add(&c->interrupted, 1,
						   __ATOMIC_RELAXED);
				if (h.flags & TG_WL_VERBOSE)
					fprintf(stderr,
						"hostile: %-26s interrupted (mediator killed)\n",
						t->name);
				continue;
			}
			__atomic_fetch_add(ok ? &c->attacks_refused
					      : &c->attacks_passed,
					   1, __ATOMIC_RELAXED);
			if (!ok)
				not_refused++;
			if (opts && opts->results) {
				struct tg_attack_result *res =
					&opts->results[i];

				if (ok)
					res->refused++;
				else
					res->passed++;
				res->a0 = o.a0;
				res->ret = o.ret;
				res->origin = o.origin;
			}
			if (h.flags & TG_WL_VERBOSE)
				fprintf(stderr,
					"hostile: %-26s %-8s a0=0x%x ret=0x%x origin=%u%s%s\n",
					t->name, ok ? "refused" : "PASSED",
					o.a0, o.ret, o.origin,
					o.why ? ": " : "", o.why ? o.why : "");
		}
	}
	teardown(&h);
	return not_refused;
}
