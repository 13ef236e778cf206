/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small machine for the FF-A mediator alone (src/ffa): guest RAM with
 * an owner per page, a port over it, and the model as OP-TEE's S-EL1 SPMC
 * reaching guest memory only through an ownership oracle. Used by the
 * descriptor fuzzer (fuzz_ffa.c) and the recovery tests
 * (tests/ffa/test_ffa_recover.c).
 *
 * Every broken invariant is fe_die(): an abort.
 */
#ifndef TG_FFA_ENV_H
#define TG_FFA_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include <teegate/ffa_abi.h>
#include <teegate/tee_model.h>

#include "ffa_med.h"

#define PAGE 4096u
#define PA_BASE 0x40000000ull
#define IPA_BASE 0x40000000ull
#define NPAGES 1024u
#define POOL_PAGES 128u
#define GUESTS 2u
#define GUEST_PAGES 256u
#define OWNER_MEDIATOR 0xFFFFu

struct ffa_env {
	uint8_t *mem;
	uint16_t owner[NPAGES];
	uint32_t pins[NPAGES];
	uint64_t p2m[GUESTS][GUEST_PAGES]; /* IPA page -> PA */
	bool pool_used[POOL_PAGES];
	long allocs;
	struct tg_model *model;
	struct tgf_med *fm;
	struct tgf_dom *dom[GUESTS];
	/* Bookkeeping blocks a test lets a simulated death lose. */
	long allocs_slack;
	/* Allocations of exactly this size fail (0: none). */
	size_t fail_alloc_size;
	/* Called after each port event (tests inject deaths here). */
	void (*before_smc)(const uint64_t in[8]);
	void (*after_smc)(const uint64_t in[8], const uint64_t out[8]);
	void (*after_pin)(void);
	void (*after_unpin)(void);
	void (*after_copy)(void);
	void (*after_lock)(void);
	/* Each copy from a guest's memory, before it is made. */
	void (*on_guest_read)(uint32_t client, uint64_t ipa, uint32_t len);
	/* A fake SPMC in front of the model (fe_opts.spmc). */
	bool (*spmc)(uint64_t regs[8]);
};

extern struct ffa_env env;
extern const struct tg_port fe_port;

void fe_die(const char *what, uint64_t v);
struct fe_opts {
	uint32_t tee_threads;	 /* 0: 2 */
	bool optee_4_10_bugs;	 /* the SPMC refuses fragments (hold mode) */
	bool model_only;	 /* no mediator: the test makes its own */
	bool smc_abi;		 /* the model speaks OP-TEE's SMC ABI */
	/* In front of the model from the first call (the probe's): answers
	 * a call (true) or lets the model answer it (false). */
	bool (*spmc)(uint64_t regs[8]);
};

/* The model, the mediator, GUESTS domains (ids 1..GUESTS). */
void fe_setup(void);
void fe_setup_opts(const struct fe_opts *o);
/* Destroy every domain and check that nothing is left. */
void fe_teardown(void);
/* The host address of guest @g's IPA page @page. */
uint8_t *fe_guest_page(uint32_t g, uint32_t page);

#endif
