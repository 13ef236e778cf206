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
 *   fair.c      fair share of the TEE's threads: taking back sat-on ones
 *   recover.c   recovery after the mediator's process died
 */
#ifndef TEEGATE_OPTEE_H
#define TEEGATE_OPTEE_H

#include "../core/internal.h"

static inline void ctr_call(struct tg_domain *d, enum tg_call_kind k)
{
	atomic_fetch_add_explicit(&d->ctr.calls[k], 1, memory_order_relaxed);
}

static inline void ctr_refuse(struct tg_domain *d, enum tg_refusal r)
{
	atomic_fetch_add_explicit(&d->ctr.refused[r], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->ctr.calls[TG_KIND_REFUSED], 1,
				  memory_order_relaxed);
}

static inline uint64_t reg_pair(uint64_t hi, uint64_t lo)
{
	return ((hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
}

static inline void reg_pair_split(uint64_t v, uint64_t *hi, uint64_t *lo)
{
	*hi = v >> 32;
	*lo = v & 0xFFFFFFFFu;
}

/* smc.c, shadow.c */
int optee_probe(struct tg_mediator *med);
int optee_domain_init(struct tg_domain *d);
void optee_domain_free(struct tg_domain *d);
int optee_domain_destroy_step(struct tg_domain *d);
uint32_t optee_calls_count(void);
void optee_recover(struct tg_mediator *med, const struct tg_recover_ops *ops);
int optee_domain_recover(struct tg_domain *d, const struct tg_recover_info *info,
			 const struct tg_recover_ops *ops,
			 struct tg_recover_stats *out);
void shadow_pool_init(struct tg_mediator *med);
void shadow_pool_drain(struct tg_mediator *med);
void shadow_pool_free(struct tg_mediator *med);


/* @a0: an error the message cannot carry (EBADADDR, EBADCMD). */
static inline int msg_fail_a0(struct msg_err *e, uint16_t a0,
			      enum tg_refusal why)
{
	e->a0 = a0;
	e->ret = 0;
	e->why = (uint16_t)why;
	return -1;
}

static inline int msg_fail_ret(struct msg_err *e, uint32_t ret,
			       enum tg_refusal why)
{
	e->a0 = OPTEE_SMC_RETURN_OK;
	e->ret = ret;
	e->why = (uint16_t)why;
	return -1;
}

static inline uint32_t arg_size(uint32_t num_params)
{
	return OPTEE_MSG_GET_ARG_SIZE(num_params);
}

/* Parameters fetched with the header in the first copy
 * (std_call_prepare()). */
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

/* The size of shm_buf.guest_ipa. */
static inline size_t shm_buf_ipa_bytes(uint32_t npages)
{
	return sizeof(uint64_t) * (size_t)npages;
}

/* The guest IPA of data page @i of @b. */
static inline uint64_t shm_buf_ipa(const struct shm_buf *b, uint32_t i)
{
	return b->guest_ipa[i];
}
void shm_insert(struct tg_domain *d, struct shm_buf *b);
void shm_unlink(struct tg_domain *d, struct shm_buf *b);
void shm_buf_free(struct tg_domain *d, struct shm_buf *b);
void shm_buf_compact(struct tg_domain *d, struct shm_buf *b);
uint32_t shm_buf_unpin(struct tg_domain *d, struct shm_buf *b, uint32_t from,
		       uint32_t max);
struct rpc_buf *rpc_buf_find(struct tg_domain *d, uint64_t cookie);
bool rpc_cookie_taken(struct tg_domain *d, uint64_t cookie);
void rpc_buf_insert(struct tg_domain *d, struct rpc_buf *b);
void rpc_buf_unlink(struct tg_domain *d, struct rpc_buf *b);
void rpc_buf_release(struct tg_domain *d, struct rpc_buf *b);

/* Lock-free: OP-TEE still checks sessions; this check is defence in depth
 * and a race with a close only lets the TEE refuse the call itself. */
static inline bool session_known(struct tg_domain *d, uint32_t session)
{
	_Atomic uint32_t *p = d->sessions;
	_Atomic uint32_t *end = p + atomic_load(&d->session_hwm);

	if (!session)
		return false;
	for (; p != end; p++)
		if (atomic_load_explicit(p, memory_order_relaxed) == session)
			return true;
	return false;
}
void session_add(struct tg_domain *d, uint32_t session);
void session_remove(struct tg_domain *d, uint32_t session);
uint32_t session_any(struct tg_domain *d);

/* ---- msg.c --------------------------------------------------------------- */

int msg_prepare(struct tg_domain *d, struct optee_call *c, struct msg_err *e);
void msg_complete_slow(struct tg_domain *d, struct optee_call *c, uint32_t a0);
void msg_copy_back_rest(struct tg_domain *d, struct optee_call *c);
void msg_copy_back_ret(struct tg_domain *d, struct optee_call *c, uint32_t ret,
		       uint32_t origin);
void call_release_slow(struct tg_domain *d, struct optee_call *c);

static inline void call_release_resources(struct tg_domain *d,
					  struct optee_call *c)
{
	if (c->res || c->regd_buf || c->opening || c->new_buf)
		call_release_slow(d, c);
}

/* Record param @i as an output of @c if its validated @type is one. */
static inline void note_output(struct optee_call *c, uint32_t i, uint32_t type)
{
	uint64_t bit = 1ull << (i & 63);

	/* Every OUTPUT or INOUT type has bit 1 set; VALUE_* are 1..3. */
	if (!(type & 2u))
		return;
	c->out_mask[i >> 6] |= bit;
	if (type <= OPTEE_MSG_ATTR_TYPE_VALUE_INOUT)
		c->out_value[i >> 6] |= bit;
}

/**
 * msg_prepare_fast() - msg_prepare() of the commonest message, inline: an
 * INVOKE_COMMAND of a known session with up to ARG_PREFETCH_PARAMS params
 * (@n, which is @c->num_params), all NONE or VALUE_* without flags, which
 * need no translation, only their outputs noted. Return: false for
 * anything else (or a bad session), which msg_prepare() then checks in
 * full.
 */
static inline bool msg_prepare_fast(struct tg_domain *d, struct optee_call *c,
				    uint32_t n)
{
	const struct optee_msg_param *params = c->shadow->params;
	uint64_t any = 0;
	uint32_t i;

	if (unlikely(c->cmd != OPTEE_MSG_CMD_INVOKE_COMMAND) ||
	    unlikely(!session_known(d, c->session)))
		return false;
	/* Any attr but NONE and VALUE_* (a memref, a flag, an invalid type)
	 * is above VALUE_INOUT. */
	switch (n) {
	case 4:
		any |= params[3].attr;
		/* fall through */
	case 3:
		any |= params[2].attr;
		/* fall through */
	case 2:
		any |= params[1].attr;
		/* fall through */
	case 1:
		any |= params[0].attr;
		/* fall through */
	case 0:
		break;
	default:
		return false;
	}
	if (unlikely(any > OPTEE_MSG_ATTR_TYPE_VALUE_INOUT))
		return false;
	if (any & 2u) {
		c->out_mask[0] = c->out_mask[1] = 0;
		c->out_value[0] = c->out_value[1] = 0;
		for (i = 0; i < n; i++)
			note_output(c, i, (uint32_t)params[i].attr);
		/* never lower it: a REGD_ARG call stays CALL_SLOW */
		c->slow |= CALL_OUTPUTS;
	}
	return true;
}

/*
 * msg_copy_out() - copy a call's results to the guest. A guest that
 * unmapped its argument loses its own results: the failure is not
 * looked at, so the port may do it with the answer (copy_to_guest_late,
 * which tg_mediator_bind_proto() made copy_to_guest when the port has
 * none: no test on the call path).
 */
static inline void msg_copy_out(struct tg_domain *d, uint64_t guest_ipa,
				const void *src, uint32_t len)
{
	struct tg_port *port = &d->med->port;

	(void)port->copy_to_guest_late(port->ctx, dom_id(d), guest_ipa, src,
				       len);
}

/*
 * msg_complete_fast() - msg_complete() of a call msg_prepare_fast() took
 * (@c->slow at most CALL_OUTPUTS) that the TEE completed with OK: nothing
 * to commit or drop, copy back ret and ret_origin and the output values if
 * any. A guest that unmapped its argument loses its own results.
 */
static inline void msg_complete_fast(struct tg_domain *d, struct optee_call *c)
{
	msg_copy_out(d, c->guest_arg_ipa + 20, &c->shadow->ret, 8);
	if (unlikely(c->slow))
		msg_copy_back_rest(d, c);
}

/**
 * msg_complete() - the TEE completed the call with @a0: commit the
 * bookkeeping, copy results back and drop the call's references.
 */
static inline void msg_complete(struct tg_domain *d, struct optee_call *c,
				uint32_t a0)
{
	if (likely(c->slow <= CALL_OUTPUTS && a0 == OPTEE_SMC_RETURN_OK))
		msg_complete_fast(d, c);
	else
		msg_complete_slow(d, c, a0);
}

/* ---- shadow.c: the shadow-page pool ------------------------------------- */

void shadow_pool_recover(struct tg_mediator *med,
			 const struct tg_recover_ops *ops);
uint64_t shadow_pool_bit_of(const struct tg_mediator *med, const void *va);
bool shadow_take_slow(struct tg_domain *d, struct optee_call *c,
		      uint64_t *shadow_pa);
void shadow_give_unpooled(struct tg_mediator *med, void *va);
uint64_t shadow_pool_free_bits(const struct shadow_pool *p);
void shadow_stripe_set(struct tg_domain *d);

/* The free map @d takes from first and gives back to. */
static inline _Atomic uint64_t *shadow_free_of(struct tg_domain *d)
{
	return d->shadow_free;
}

/* Give @c the lowest free page of map @free of pool @p, if it has one. */
static inline bool shadow_take_from(struct shadow_pool *p,
				    _Atomic uint64_t *free,
				    struct optee_call *c, uint64_t *shadow_pa)
{
	uint64_t f = atomic_load_explicit(free, memory_order_acquire);

	while (likely(f)) {
		size_t i = (size_t)__builtin_ctzll(f);

		uint64_t rest = f & (f - 1); /* @f without its lowest bit, i */

		if (atomic_compare_exchange_weak_explicit(
			    free, &f, rest, memory_order_acquire,
			    memory_order_acquire)) {
			c->shadow_bit = f ^ rest;
			c->shadow = p->va[i];
			*shadow_pa = p->pa[i];
			return true;
		}
	}
	return false;
}

/*
 * Give @c a shadow page; its machine address in @shadow_pa (for the SMC,
 * the one place that needs it). Return: false when no memory is left.
 */
static inline bool shadow_take(struct tg_domain *d, struct optee_call *c,
			       uint64_t *shadow_pa)
{
	if (likely(shadow_take_from(&d->med->shadow, shadow_free_of(d), c,
				    shadow_pa)))
		return true;
	return shadow_take_slow(d, c, shadow_pa);
}

/*
 * Take back @c's shadow page, into @d's stripe wherever it came from: the
 * reference goes first (see shadow.c).
 */
static inline void shadow_give(struct tg_domain *d, struct optee_call *c)
{
	uint64_t bit = c->shadow_bit;
	void *va;

	if (likely(bit)) {
		c->shadow = NULL;
		atomic_fetch_or_explicit(shadow_free_of(d), bit,
					 memory_order_release);
	} else {
		va = c->shadow;
		c->shadow = NULL;
		shadow_give_unpooled(d->med, va);
	}
}

/* ---- call.c -------------------------------------------------------------- */

/* Calls are not tied to a vCPU: any may resume one, as in Linux. */
void std_call(struct tg_domain *d, uint64_t regs[8], enum call_entry entry);
/* CALL_WITH_ARG and RETURN_FROM_RPC, which drop the caller's domain
 * reference when done (so that tg_handle_smc() can tail-call them). */
bool std_call_arg_put(struct tg_domain *d, uint64_t regs[8])
	__attribute__((nonnull));
bool rpc_return_put(struct tg_domain *d, uint64_t regs[8])
	__attribute__((nonnull));
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

/* FOREIGN_INTR answers resumed within one SMC of a call no guest answers. */
#define TG_DRAIN_INTR_PER_SMC 65536u
void tee_smc_drain(struct tg_domain *d, uint64_t tee[8]);
bool call_drive(struct tg_domain *d, struct optee_call *c, uint64_t tee[8],
		uint32_t max_smcs, uint32_t *a0);

/* recover.c: what a call committed, for a recovery that must undo it */
void recover_note_commit(struct tg_domain *d, const struct optee_call *c,
			 uint64_t ref);

/* fair.c: fair share of the TEE's threads (off the call paths) */
void fair_thread_wanted(struct tg_domain *d, const struct optee_call *c);
struct optee_call *fair_call_alloc_held(struct tg_domain *d);
bool fair_cancel_may_pass(struct tg_domain *d);
bool fair_collect(struct tg_domain *d, uint64_t regs[8]);
/* call.c: a slot past the cap, for a CANCEL (fair_cancel_may_pass()) */
struct optee_call *call_alloc_past_cap(struct tg_domain *d);

/* teardown.c */
void tg_domain_vm_destroyed(struct tg_domain *d);
struct optee_call *internal_call_issue(struct tg_domain *d, uint32_t cmd,
				       uint32_t session, uint64_t cookie,
				       struct shm_buf *b);

#endif /* TEEGATE_OPTEE_H */
