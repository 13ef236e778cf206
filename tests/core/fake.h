/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test doubles for the mediator core: a fake hypervisor (struct tg_port
 * over a flat fake machine with per-page owners and pin counts) and a
 * scripted fake TEE whose std calls are driven by per-test step functions.
 *
 * The fake TEE reaches memory only through fake_tee_ptr(), which checks
 * the isolation invariant: a page it touches for client C must belong to
 * C and be pinned, or belong to the mediator.
 */
#ifndef TEEGATE_TESTS_FAKE_H
#define TEEGATE_TESTS_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#define FAKE_PA_BASE 0x40000000ull
#define FAKE_IPA_BASE 0x80000000ull
#define FAKE_MACHINE_PAGES 24576u /* 96 MiB */
#define FAKE_OWNER_FREE 0u
#define FAKE_OWNER_MEDIATOR 0xFFFFFFFFu
#define FAKE_MAX_GUESTS 8u
#define FAKE_MAX_THREADS 16u

struct fake;
struct fake_thread;

/*
 * A std call step: called with the call's first SMC (step 0) and each
 * RETURN_FROM_RPC (step 1, 2...). Fill @regs with the answer (a0 OK or an
 * RPC) and return true when the call is complete.
 */
typedef bool (*fake_step_fn)(struct fake *f, struct fake_thread *t,
			     uint64_t regs[8]);

struct fake_thread {
	bool busy;
	uint32_t id;
	uint32_t client;
	uint32_t step;
	uint64_t arg_pa;
	bool with_rpc_arg;
	struct optee_msg_arg *arg;	 /* the message the TEE got */
	struct optee_msg_arg *rpc_arg;	 /* supplied RPC arg or NULL */
	uint64_t alloc_pa, alloc_cookie; /* last RPC ALLOC answer */
	fake_step_fn fn;
	uint64_t scratch[8];
};

struct fake_guest {
	uint32_t id;
	uint32_t npages;
	uint64_t *p2m; /* IPA page index -> PA */
};

struct fake {
	/* machine */
	uint8_t *mem;
	uint32_t owner[FAKE_MACHINE_PAGES];
	uint32_t pins[FAKE_MACHINE_PAGES];
	struct fake_guest guests[FAKE_MAX_GUESTS];
	uint32_t next_free_page;
	/* port bookkeeping */
	struct tg_port port;
	long allocs_live;
	uint64_t shm_pages_live;
	uint64_t unpin_underflow;
	uint64_t violations;
	uint64_t notif_irqs[FAKE_MAX_GUESTS + 1];
	bool fail_alloc;
	bool fail_shm_alloc;
	pthread_mutex_t big_lock;
	/* TEE */
	uint32_t caps;
	uint32_t threads;
	bool not_optee;
	bool no_answer;
	uint32_t revision_major;
	fake_step_fn std_fn; /* step function for new std calls */
	struct fake_thread thr[FAKE_MAX_THREADS];
	uint32_t vm_created[FAKE_MAX_GUESTS + 1];
	uint32_t vm_destroyed[FAKE_MAX_GUESTS + 1];
	uint32_t vm_created_answer;
	uint64_t smc_count;
	uint64_t last_fast[8];
	uint64_t smc_log[64]; /* a0 of the last 64 SMCs */
	uint32_t next_session;
	/* hook run inside the SMC, before the TEE handles it */
	void (*during_smc)(struct fake *f, uint64_t regs[8]);
	/* the port's clock (now_ns), moved by the tests */
	uint64_t now_ns;
	/* FOREIGN_INTR answers the port resumed itself (smc_resume_intr) */
	uint64_t port_resumes;
	void *test_ctx;
};

struct fake *fake_create(void);
void fake_destroy(struct fake *f);

/* Guest RAM: @npages pages at FAKE_IPA_BASE, scattered machine pages. */
void fake_add_guest(struct fake *f, uint32_t client, uint32_t npages);
uint64_t fake_ipa_to_pa(struct fake *f, uint32_t client, uint64_t ipa);
void *fake_guest_ptr(struct fake *f, uint32_t client, uint64_t ipa);
uint64_t fake_pinned_total(struct fake *f);

/* What the fake TEE uses: NULL + a violation when the page is not ok. */
void *fake_tee_ptr(struct fake *f, uint32_t client, uint64_t pa);

/* Helpers for building guest messages. */
struct optee_msg_arg *fake_msg(struct fake *f, uint32_t client, uint64_t ipa,
			       uint32_t cmd, uint32_t num_params);
/* Write a page list for [data_ipa, +npages) at list_ipa (consecutive
 * list pages); returns the buf_ptr value (list_ipa | offset). */
uint64_t fake_pagelist(struct fake *f, uint32_t client, uint64_t list_ipa,
		       uint64_t data_ipa, uint32_t npages, uint32_t offset);

/* Default TEE behaviours. */
bool fake_step_ok(struct fake *f, struct fake_thread *t, uint64_t regs[8]);
void fake_rpc(uint64_t regs[8], uint32_t func, uint64_t a1, uint64_t a2);

/* Drive a domain's destruction to the end; returns the number of steps. */
int fake_destroy_domain(struct tg_mediator *med, uint32_t client);

/* Issue a guest SMC. */
static inline bool fake_call(struct tg_mediator *med, uint32_t client,
			     uint64_t regs[8])
{
	return tg_handle_smc(med, client, 0, regs);
}

#endif /* TEEGATE_TESTS_FAKE_H */
