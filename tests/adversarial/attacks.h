/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest-side helpers of the adversarial suite: an attacker with its own
 * pages for messages, page lists and data, a few sessions, and raw SMCs
 * built by hand (bypassing the driver's checks).
 */
#ifndef TG_ADV_ATTACKS_H
#define TG_ADV_ATTACKS_H

#include <stdbool.h>
#include <stdint.h>

#include <teegate/guest.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>

#define PG 4096u
#define ATK_LIST_PAGES 4u

struct atk {
	struct tg_vcpu *v;
	struct tg_optee *drv;
	uint64_t arg_ipa;
	struct optee_msg_arg *arg;
	uint64_t data_ipa;
	uint8_t *data;
	uint64_t list_ipa;
	uint8_t *list;
	uint32_t s_tests, s_stats, s_yield;
};

/* What one raw call got. */
struct ans {
	uint32_t a0, ret, origin;
	uint64_t regs[8];
};

/*
 * Probe a driver (no async notification vCPU, no RPC shm cache: vCPU 1 is
 * free for a scribbler and every RPC argument is an RPC ALLOC), allocate
 * the pages, open invoke-tests, stats and the model's yield TA.
 * Return 0, or -1 (counted as an error).
 */
int atk_init(struct atk *a, struct tg_vcpu *v);
void atk_fini(struct atk *a);

/* Clear the argument page and start a message. */
struct optee_msg_arg *atk_msg(struct atk *a, uint32_t cmd, uint32_t n);
/* A std call with @fid whose argument is at @ipa; RPCs declined. */
void atk_call_at(struct atk *a, uint32_t fid, uint64_t ipa, struct ans *o);
/* CALL_WITH_ARG of the argument page; ret/origin read back when a0 = OK. */
void atk_send(struct atk *a, struct ans *o);
/* Any SMC, RPCs declined. */
void atk_smc(struct atk *a, uint64_t a0, uint64_t a1, uint64_t a2,
	     uint64_t a3, uint64_t a7, struct ans *o);
/* Decline every RPC in @regs until the call returns. */
void atk_finish(struct atk *a, uint64_t regs[8]);
/* A NONCONTIG memref over @entries data pages (all the data page). */
void atk_list(struct atk *a, uint32_t entries);
void atk_tmem(struct optee_msg_param *p, uint64_t buf_ptr, uint64_t size);
/* REGISTER_SHM of @pages at @ipa under @cookie; UNREGISTER_SHM. */
void atk_register(struct atk *a, uint64_t ipa, uint32_t pages,
		  uint64_t cookie, struct ans *o);
void atk_unregister(struct atk *a, uint64_t cookie, struct ans *o);

/* Suspend a yield call (N FOREIGN_INTR) whose argument is at @ipa; a0 of
 * the first answer; regs keeps the RPC (a3 = resume handle). */
uint32_t atk_yield_start(struct atk *a, uint64_t ipa, uint32_t session,
			 uint32_t n, uint64_t regs[8]);
/* Resume with @handle; regs gets the answer. */
void atk_resume(struct atk *a, uint32_t handle, uint64_t regs[8]);

/* Start a scribbler on another vCPU over [@p, @p + @len): random bytes and
 * the 8-byte value @foreign, in a tight loop. Returns its vCPU or -1. */
int atk_scribble_start(struct atk *a, void *p, uint32_t len,
		       uint64_t foreign);
void atk_scribble_stop(struct atk *a, int idx);

#endif /* TG_ADV_ATTACKS_H */
