/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OP-TEE mediator: declarations shared by its files.
 *
 *   smc.c       function-id whitelist and the fast calls
 *   call.c      std calls and the RPC state machine
 *   msg.c       message validation, translation and copy-back
 *   pagelist.c  shadowing of NONCONTIG page lists
 *   shm.c       registered buffers, RPC buffers and sessions
 *   teardown.c  resumable domain destruction
 */
#ifndef TEEGATE_OPTEE_H
#define TEEGATE_OPTEE_H

#include "../core/internal.h"

static inline int msg_fail_a0(struct msg_err *e, uint32_t a0,
			      enum tg_refusal why)
{
	e->a0 = a0;
	e->ret = 0;
	e->why = why;
	return -1;
}

static inline int msg_fail_ret(struct msg_err *e, uint32_t ret,
			       enum tg_refusal why)
{
	e->a0 = OPTEE_SMC_RETURN_OK;
	e->ret = ret;
	e->why = why;
	return -1;
}

static inline uint32_t arg_size(uint32_t num_params)
{
	return OPTEE_MSG_GET_ARG_SIZE(num_params);
}

/* Parameters fetched with the header in the first copy (see fetch_arg). */
#define ARG_PREFETCH_PARAMS 4u

static inline uint32_t rpc_arg_size(const struct tg_mediator *med)
{
	return OPTEE_MSG_GET_ARG_SIZE(med->tee.rpc_param_count);
}

/*
 * Number of 4 KiB pages covered by [offset, offset + size), offset < 4096.
 * 0 for an empty or wrapping range.
 */
static inline uint64_t pages_spanned(uint64_t offset, uint64_t size)
{
	if (!size || size > UINT64_MAX - offset - TG_PAGE_MASK)
		return 0;
	return (offset + size + TG_PAGE_MASK) >> TG_PAGE_SHIFT;
}

/* ---- pagelist.c ---------------------------------------------------------- */

/**
 * struct pagelist - a shadow of a guest NONCONTIG page list. Entries of
 * @list are the pinned machine addresses, 511 per list page, chained by
 * the machine address of the next list page at entry 511.
 */
struct pagelist {
	uint64_t *list;
	uint64_t list_pa;
	uint32_t list_pages;
	uint32_t npages;
};

bool pin_reserve(struct tg_domain *d, uint64_t n);
void pin_unreserve(struct tg_domain *d, uint64_t n);
int pagelist_shadow(struct tg_domain *d, uint64_t guest_list_ipa,
		    uint32_t npages, uint64_t *guest_ipa_out,
		    struct pagelist *pl, enum tg_refusal *why);
uint32_t pagelist_unpin(struct tg_domain *d, uint64_t *list, uint32_t npages,
			uint32_t from, uint32_t max);
void pagelist_free_list(struct tg_domain *d, uint64_t *list,
			uint32_t list_pages);

/* ---- shm.c --------------------------------------------------------------- */

struct shm_buf *shm_find(struct tg_domain *d, uint64_t cookie);
void shm_insert(struct tg_domain *d, struct shm_buf *b);
void shm_unlink(struct tg_domain *d, struct shm_buf *b);
void shm_buf_free(struct tg_domain *d, struct shm_buf *b);
struct rpc_buf *rpc_buf_find(struct tg_domain *d, uint64_t cookie);
bool rpc_cookie_taken(struct tg_domain *d, uint64_t cookie);
void rpc_buf_insert(struct tg_domain *d, struct rpc_buf *b);
void rpc_buf_unlink(struct tg_domain *d, struct rpc_buf *b);
void rpc_buf_release(struct tg_domain *d, struct rpc_buf *b);

/* Lock-free: OP-TEE still checks sessions; this check is defence in depth
 * and a race with a close only lets the TEE refuse the call itself. */
static inline bool session_known(struct tg_domain *d, uint32_t session)
{
	uint32_t i, hwm = atomic_load(&d->session_hwm);

	if (!session)
		return false;
	for (i = 0; i < hwm; i++)
		if (atomic_load_explicit(&d->sessions[i],
					 memory_order_relaxed) == session)
			return true;
	return false;
}
void session_add(struct tg_domain *d, uint32_t session);
void session_remove(struct tg_domain *d, uint32_t session);
uint32_t session_any(struct tg_domain *d);

/* ---- msg.c --------------------------------------------------------------- */

int msg_prepare(struct tg_domain *d, struct optee_call *c, struct msg_err *e);
void msg_complete(struct tg_domain *d, struct optee_call *c, uint32_t a0);
void msg_copy_back_ret(struct tg_domain *d, struct optee_call *c, uint32_t ret,
		       uint32_t origin);
void call_release_slow(struct tg_domain *d, struct optee_call *c);

static inline void call_release_resources(struct tg_domain *d,
					  struct optee_call *c)
{
	if (c->res || c->regd_buf || c->opening || c->new_buf)
		call_release_slow(d, c);
}

/* ---- call.c -------------------------------------------------------------- */

void std_call(struct tg_domain *d, uint32_t vcpu, uint64_t regs[8],
	      enum call_entry entry);
void rpc_return(struct tg_domain *d, uint64_t regs[8]);
struct optee_call *call_alloc(struct tg_domain *d);
void call_free(struct tg_domain *d, struct optee_call *c);

/* The only legal edges of the call state machine (enum call_state). */
static inline bool call_edge_ok(uint32_t from, uint32_t to)
{
	return (from == CALL_FREE && to == CALL_RUNNING) ||
	       (from == CALL_RUNNING &&
		(to == CALL_SUSPENDED || to == CALL_FREE)) ||
	       (from == CALL_SUSPENDED && to == CALL_RUNNING);
}

/*
 * call_transition() - move @c from @from to @to, atomically. Fails when
 * the edge is not in the state machine or when @c is not in @from any
 * more (another vCPU won the race, e.g. a double resume). Fields written
 * before a successful transition are visible to whoever wins the next.
 */
static inline bool call_transition(struct tg_domain *d, struct optee_call *c,
				   uint32_t from, uint32_t to)
{
	uint32_t expected = from;

	(void)d;
	if (!call_edge_ok(from, to))
		return false;
	/*
	 * A RUNNING call belongs to the vCPU (or teardown step) running it:
	 * only its owner moves it on, and a release store publishes what it
	 * wrote. FREE and SUSPENDED calls are up for grabs: compare-and-swap.
	 */
	if (from == CALL_RUNNING) {
		atomic_store_explicit(&c->state, to, memory_order_release);
		return true;
	}
	return atomic_compare_exchange_strong(&c->state, &expected, to);
}

struct optee_call *call_claim_suspended(struct tg_domain *d, bool any,
					uint32_t resume_handle);
void call_run(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
	      uint64_t *guest);
void rpc_answer_error(struct tg_domain *d, struct optee_call *c,
		      uint64_t tee[8]);

/* teardown.c */
void tg_domain_vm_destroyed(struct tg_domain *d);
struct optee_call *internal_call_issue(struct tg_domain *d, uint32_t cmd,
				       uint32_t session, uint64_t cookie,
				       struct shm_buf *b);

#endif /* TEEGATE_OPTEE_H */
