/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared fixture of the core unit tests (cmocka). */
#ifndef TEEGATE_TESTS_COMMON_H
#define TEEGATE_TESTS_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

#define G1 1u
#define G2 2u
#define PAGE 4096u
/* Guest IPA layout used by the tests. */
#define ARG_IPA (FAKE_IPA_BASE)
#define ARG2_IPA (FAKE_IPA_BASE + 1 * PAGE)
#define RPC_IPA (FAKE_IPA_BASE + 2 * PAGE)
#define LIST_IPA (FAKE_IPA_BASE + 16 * PAGE)
#define DATA_IPA (FAKE_IPA_BASE + 64 * PAGE)
#define G1_PAGES 6000u
#define G2_PAGES 1024u

struct env {
	struct fake *f;
	struct tg_mediator *med;
};

static inline struct env *env_new(const struct tg_config *cfg, bool domains)
{
	struct env *e = calloc(1, sizeof(*e));

	e->f = fake_create();
	fake_add_guest(e->f, G1, G1_PAGES);
	fake_add_guest(e->f, G2, G2_PAGES);
	assert_int_equal(tg_mediator_create(&e->f->port, cfg, &e->med), TG_OK);
	if (domains) {
		assert_int_equal(tg_domain_create(e->med, G1, NULL), TG_OK);
		assert_int_equal(tg_domain_create(e->med, G2, NULL), TG_OK);
	}
	return e;
}

static inline int env_setup(void **state)
{
	*state = env_new(NULL, true);
	return 0;
}

/*
 * Tear everything down and check that nothing leaked or escaped; up to
 * @leaks_allowed bookkeeping blocks may stay allocated (a simulated
 * mediator death loses the few it had not linked yet), none freed twice.
 */
static inline int env_destroy_checked(struct env *e, long leaks_allowed)
{
	uint32_t id;
	int rc, steps;

	for (id = 1; id <= FAKE_MAX_GUESTS; id++) {
		steps = 0;
		do
			rc = tg_domain_destroy(e->med, id);
		while (rc == TG_AGAIN && ++steps < 1000000);
		assert_true(rc == TG_OK || rc == TG_ENOENT);
	}
	assert_int_equal(tg_mediator_destroy(e->med), TG_OK);
	assert_int_equal(fake_pinned_total(e->f), 0);
	assert_int_equal(e->f->shm_pages_live, 0);
	assert_true(e->f->allocs_live >= 0);
	assert_true(e->f->allocs_live <= leaks_allowed);
	assert_int_equal(e->f->unpin_underflow, 0);
	assert_int_equal(e->f->violations, 0);
	fake_destroy(e->f);
	free(e);
	return 0;
}

static inline int env_teardown(void **state)
{
	return env_destroy_checked(*state, 0);
}

static inline void set_regs(uint64_t r[8], uint64_t a0, uint64_t a1,
			    uint64_t a2, uint64_t a3)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
}

/* CALL_WITH_ARG of the message at @ipa; returns a0. */
static inline uint32_t call_arg(struct env *e, uint32_t client, uint64_t ipa,
				uint64_t r[8])
{
	set_regs(r, OPTEE_SMC_CALL_WITH_ARG, ipa >> 32, ipa & 0xFFFFFFFFu, 0);
	assert_true(tg_handle_smc(e->med, client, 0, r));
	return (uint32_t)r[0];
}

static inline struct tg_domain_stats stats(struct env *e, uint32_t client)
{
	struct tg_domain_stats s;

	assert_int_equal(tg_domain_stats(e->med, client, &s), TG_OK);
	return s;
}

/* Open a session through the mediator; returns the session id. */
static inline uint32_t open_session(struct env *e, uint32_t client)
{
	struct optee_msg_arg *a =
		fake_msg(e->f, client, ARG_IPA, OPTEE_MSG_CMD_OPEN_SESSION, 2);
	uint64_t r[8];

	a->params[0].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	a->params[1].attr =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	assert_int_equal(call_arg(e, client, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	assert_int_equal(a->ret, TEEC_SUCCESS);
	return a->session;
}

/* Register [DATA_IPA + first_page, +npages) with @cookie; returns ret. */
static inline uint32_t register_shm(struct env *e, uint32_t client,
				    uint64_t cookie, uint32_t first_page,
				    uint32_t npages, uint32_t offset,
				    uint64_t size)
{
	struct optee_msg_arg *a =
		fake_msg(e->f, client, ARG_IPA, OPTEE_MSG_CMD_REGISTER_SHM, 1);
	uint64_t r[8];

	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = fake_pagelist(
		e->f, client, LIST_IPA, DATA_IPA + (uint64_t)first_page * PAGE,
		npages, offset);
	a->params[0].u.tmem.size = size;
	a->params[0].u.tmem.shm_ref = cookie;
	assert_int_equal(call_arg(e, client, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

static inline uint32_t unregister_shm(struct env *e, uint32_t client,
				      uint64_t cookie)
{
	struct optee_msg_arg *a = fake_msg(e->f, client, ARG_IPA,
					   OPTEE_MSG_CMD_UNREGISTER_SHM, 1);
	uint64_t r[8];

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = cookie;
	assert_int_equal(call_arg(e, client, ARG_IPA, r), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

#endif /* TEEGATE_TESTS_COMMON_H */
