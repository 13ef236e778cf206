/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hostile catalogue's attacks, written once against a small
 * environment so that the same code runs in the hosted hostile guest
 * (hostile.c, tg_workload_hostile()) and in the freestanding arm64 guest
 * image that a real hypervisor boots (src/guest/image/).
 *
 * Freestanding: stdint/stddef/stdbool and memcpy/memset only.
 */
#ifndef TG_HOSTILE_TABLE_H
#define TG_HOSTILE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/optee_abi.h>
#include <teegate/workload.h>

#include "victim_canary.h"

#define TG_HOSTILE_PAGE 4096u
/* Pages for page lists: the longest list sent is 16386 entries. */
#define TG_HOSTILE_LIST_PAGES 40u
/* Sessions opened (and calls suspended) by exhaust_calls at most. */
#define TG_HOSTILE_EXHAUST_MAX 16u
/* An address that is no guest RAM on any platform of ours (below 1 GiB). */
#define TG_HOSTILE_FOREIGN_ADDR 0x1000ull
/*
 * Where the victim attacks look when no victim is named: a page of a
 * 1 GiB machine's RAM at 0x40000000 (QEMU virt) that lies above any guest
 * RAM of the hosted platform.
 */
#define TG_HOSTILE_DEFAULT_VICTIM 0x7fff0000ull
/* Bytes of the victim's page the read attacks sum. */
#define TG_VICTIM_READ_BYTES 64u

/* What one attempt got. */
struct tg_hostile_outcome {
	uint32_t a0;
	bool msg; /* a0 == OK and ret/origin were read */
	uint32_t ret, origin;
	bool clean;	  /* for TG_EXPECT_CLEAN */
	bool skipped;	  /* the attack could not be tried */
	bool interrupted; /* TG_WL_CHAOS: a step met a mediator death */
	bool accepted;	  /* for TG_BREACH_IF_ACCEPTED: the call went through */
	bool breached;	  /* for TG_BREACH_DETECTED: the attack saw it work */
	const char *why;  /* what the attack saw, for the report (or NULL) */
};

/*
 * struct tg_hostile_scribbler - the second vCPU of the TOCTOU attacks.
 * @stopped: tells the scribbler that its vCPU must stop (a thread-mode
 *           guest being killed); may be NULL.
 */
struct tg_hostile_scribbler {
	volatile uint8_t *target;
	size_t len;
	uint64_t foreign;
	int stop;
	uint64_t rng;
	bool (*stopped)(void *ctx);
	void *stopped_ctx;
};

/* The scribbler's loop, run on the second vCPU. */
void tg_hostile_scribble(struct tg_hostile_scribbler *s);

/**
 * struct tg_hostile_env - what the attacks need from the guest they run in.
 * Addresses are the ones the guest gives the TEE (IPAs in a VM).
 *
 * @ctx:           passed back to every callback.
 * @smc:           trap with a0..a7 in @regs, in and out.
 * @arg/@arg_addr: one page for messages.
 * @data/@data_addr: one data page.
 * @list/@list_addr: TG_HOSTILE_LIST_PAGES contiguous pages for page lists.
 * @page_alloc:    one more page (its address in *@addr), or NULL.
 * @page_free:     give it back.
 * @own_ptr:       the guest's own page at @addr (read only), or NULL when
 *                 @addr is not its RAM.
 * @spare_ptr:     the guest's own page at @addr if the attacks may write
 *                 it (not in use), or NULL; may be NULL itself.
 * @open_session:  open a session to @uuid (login public, no parameters);
 *                 0 and *@session, or -1; *@ret gets the message's ret.
 * @close_session: close it.
 * @spawn/@join:   run @fn on a second vCPU (the index, or -1) / wait for
 *                 it; @spawn may be NULL (the TOCTOU attacks are skipped).
 * @stopped:       for the scribbler (see struct tg_hostile_scribbler).
 * @session:       an open session to the invoke-tests PTA.
 * @stats_session: one to the stats PTA.
 * @yield_session: one to the model's yield TA, or 0.
 * @a7:            the client id the guest writes in a7 (a mediator
 *                 overwrites it; without one it names the caller).
 * @victim_addr:   another guest's page (a PA as the attacker guesses or
 *                 learnt it; through a mediator it is read as an IPA).
 * @victim_arg_addr: another guest's message page for arg_in_victim_memory
 *                 (0: @victim_addr).
 * @victim_client: another guest's client id (for a7 and VM_CREATED).
 * @flags:         TG_WL_CHAOS.
 */
struct tg_hostile_env {
	void *ctx;
	void (*smc)(void *ctx, uint64_t regs[8]);
	struct optee_msg_arg *arg;
	uint64_t arg_addr;
	uint8_t *data;
	uint64_t data_addr;
	uint8_t *list;
	uint64_t list_addr;
	void *(*page_alloc)(void *ctx, uint64_t *addr);
	void (*page_free)(void *ctx, void *va, uint64_t addr);
	const void *(*own_ptr)(void *ctx, uint64_t addr);
	void *(*spare_ptr)(void *ctx, uint64_t addr);
	int (*open_session)(void *ctx, const uint8_t uuid[16],
			    uint32_t *session, uint32_t *ret);
	void (*close_session)(void *ctx, uint32_t session);
	int (*spawn)(void *ctx, void (*fn)(void *arg), void *arg);
	void (*join)(void *ctx, int index);
	bool (*stopped)(void *ctx);
	uint32_t session;
	uint32_t stats_session;
	uint32_t yield_session;
	uint64_t a7;
	uint64_t victim_addr;
	uint64_t victim_arg_addr;
	uint32_t victim_client;
	uint32_t flags;
};

/* The verdict of one attempt, whatever the mediator (or none). */
enum tg_hostile_verdict {
	TG_VERDICT_REFUSED,  /* the mediator or the TEE said no */
	TG_VERDICT_ALLOWED,  /* it went through, and that harms no one */
	TG_VERDICT_BREACHED, /* it did what it set out to do */
	TG_VERDICT_SKIPPED,  /* it could not be tried */
};

/* Run attack @i of the catalogue. */
void tg_hostile_attack(struct tg_hostile_env *env, size_t i,
		       struct tg_hostile_outcome *o);

/* Did @o get the exact refusal of the mediator's contract (@e)? */
bool tg_hostile_as_contract(const struct tg_attack_expect *e,
			    const struct tg_hostile_outcome *o);

/* Refused, allowed or breached, by the entry's breach rule. */
enum tg_hostile_verdict tg_hostile_verdict(const struct tg_attack *t,
					   const struct tg_hostile_outcome *o);

/* "refused", "allowed", "BREACHED", "skipped". */
const char *tg_hostile_verdict_name(enum tg_hostile_verdict v);

/*
 * Open / close a session with raw messages in env->arg (RPCs declined):
 * for guests without a driver (the image). Same contract as
 * env->open_session.
 */
int tg_hostile_raw_open_session(struct tg_hostile_env *env,
				const uint8_t uuid[16], uint32_t *session,
				uint32_t *ret);
void tg_hostile_raw_close_session(struct tg_hostile_env *env, uint32_t session);

#endif /* TG_HOSTILE_TABLE_H */
