/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loopback guest environment for the guest-side tests: a test-only
 * implementation of include/teegate/guest.h that talks to the OP-TEE model
 * directly, without hypervisor or mediator.
 *
 * Each guest's RAM is one malloc'd region, with IPA == PA (guest n at
 * 0x40000000 + n * 1 GiB); tg_smc() stamps a7 with the guest's client id
 * and calls tg_model_smc(). The model's memory accesses are checked against
 * the calling client's RAM (a small isolation oracle: lb_violations()).
 */
#ifndef TG_TESTS_GUEST_LOOPBACK_H
#define TG_TESTS_GUEST_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/guest.h>
#include <teegate/tee_model.h>

struct lb_guest;

/* Create the model (cfg NULL = defaults) and the environment. */
int lb_env_init(const struct tg_model_config *cfg);
void lb_env_fini(void);
struct tg_model *lb_model(void);
/* True when the TEE is a real OP-TEE in QEMU (built with LB_QEMU). */
bool lb_real_tee(void);
/* Model accesses outside the calling client's RAM so far. */
uint64_t lb_violations(void);

/*
 * The same, with the teegate mediator between the guests and the model
 * (only when the mediator library is built: TG_HAVE_MEDIATOR). The port
 * pins guest pages (IPA == PA) and serves shadow memory from its own pool.
 */
int lb_env_init_mediated(const struct tg_model_config *cfg);
struct tg_mediator *lb_mediator(void);
/* Mediated mode: tear the guest's domain down now (its death, as
 * the hypervisor sees it); the guest's calls then fail. */
void lb_guest_kill_domain(struct lb_guest *g);
/* Pins the mediator holds on the guest's pages (mediated mode). */
uint64_t lb_guest_pins(struct lb_guest *g);

/*
 * Chaos (direct mode only): @pct percent of final std-call answers and
 * fast-call answers are replaced by nonsense (random RPCs, random codes,
 * random registers). 0 turns it off.
 */
void lb_set_chaos(uint32_t pct, uint64_t seed);
uint64_t lb_chaos_injected(void);

/*
 * The next std call (CALL_WITH_ARG or _RPC_ARG) whose message command is
 * @msg_cmd does not reach the TEE: it is answered @a0 (and, for a0 = OK,
 * @ret in the message), as a TEE or a transport that refuses it would.
 */
void lb_refuse_next(uint32_t msg_cmd, uint32_t a0, uint32_t ret);

/*
 * FF-A: the next yielding call (a direct request, YIELDING_CALL_WITH_ARG)
 * of a vCPU the guest spawned (index > 0: the driver's notification vCPU)
 * does not reach the TEE: it is answered FFA_ERROR ABORTED, as when a
 * mediator dies before forwarding it.
 */
void lb_ffa_abort_next_spawned(void);

/*
 * FF-A, a death of the mediator as the guest sees it: the calling vCPU's
 * next call of function @fid (and, if @w3 is not 0, that w3) is answered
 * FFA_ERROR ABORTED. @forward false: it never reached the TEE; true: it
 * was served and the answer lost, and a thread of OP-TEE it left
 * suspended is resumed to its end (as a recovery does) before the next
 * call of any vCPU. @between, if set, runs after it was served and
 * before the answer is lost (what other vCPUs did in the dying process).
 */
void lb_ffa_lose_next(uint32_t fid, uint32_t w3, bool forward,
		      void (*between)(void *), void *arg);
/*
 * The calling vCPU's next answer of a yielding call that is DONE waits
 * (inside tg_smc()) until lb_ffa_release_held(); lb_ffa_wait_held()
 * waits until it is held (false after @timeout_ms).
 */
void lb_ffa_hold_next_answer(void);
bool lb_ffa_wait_held(uint32_t timeout_ms);
void lb_ffa_release_held(void);

/* The calling vCPU's next SMC first runs @fn(@arg) (any protocol). */
void lb_before_next_smc(void (*fn)(void *), void *arg);

/* A guest with @ram_mib MiB of RAM, announced with VM_CREATED. */
struct lb_guest *lb_guest_create(uint32_t client_id, uint32_t ram_mib);
void lb_guest_destroy(struct lb_guest *g);
/* Make the calling thread vCPU 0 of @g (NULL: leave any guest). */
struct tg_vcpu *lb_guest_enter(struct lb_guest *g);
struct tg_vcpu *lb_guest_vcpu0(struct lb_guest *g);
uint64_t lb_guest_ram_base(struct lb_guest *g);
uint64_t lb_guest_ram_size(struct lb_guest *g);
/* Pages currently allocated by the guest (leak checks). */
uint32_t lb_guest_pages_used(struct lb_guest *g);

/* The byte sum the invoke-tests PTA answers for a buffer (its checksum). */
static inline uint8_t lb_sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

#endif
