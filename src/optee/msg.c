// SPDX-License-Identifier: BSD-2-Clause
/*
 * OP-TEE message translation.
 *
 * The message has already been copied once into the call's shadow page
 * (call.c). Here every parameter of that copy is validated and every guest
 * address in it is replaced by a machine address the mediator pinned or
 * owns. After the TEE completes, only the output fields are copied back to
 * the guest, chosen by the types validated on the way in.
 */
#include "optee.h"

#define TYPE(a) ((uint32_t)((a)&OPTEE_MSG_ATTR_TYPE_MASK))

static bool is_value(uint32_t t)
{
	return t >= OPTEE_MSG_ATTR_TYPE_VALUE_INPUT &&
	       t <= OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
}

static bool is_rmem(uint32_t t)
{
	return t >= OPTEE_MSG_ATTR_TYPE_RMEM_INPUT &&
	       t <= OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
}

static bool is_tmem(uint32_t t)
{
	return t >= OPTEE_MSG_ATTR_TYPE_TMEM_INPUT &&
	       t <= OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
}

static uint32_t refusal_to_teec(enum tg_refusal why)
{
	switch (why) {
	case TG_REFUSE_NO_MEMORY:
	case TG_REFUSE_LIMIT_PAGES:
	case TG_REFUSE_LIMIT_BUFS:
	case TG_REFUSE_LIMIT_SESSIONS:
		return TEEC_ERROR_OUT_OF_MEMORY;
	default:
		return TEEC_ERROR_BAD_PARAMETERS;
	}
}

static void res_link(struct optee_call *c, struct call_res *r)
{
	r->next = c->res;
	c->res = r;
}

/* Check the span of a NONCONTIG memref and reserve its pins. */
static int reserve_span(struct tg_domain *d, uint64_t buf_ptr, uint64_t size,
			uint64_t *npages, struct msg_err *e)
{
	uint64_t np = pages_spanned(buf_ptr & TG_PAGE_MASK, size);

	if (!np || !(buf_ptr & ~TG_PAGE_MASK))
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_PARAM);
	if (np > d->limits.max_pages_per_buf || !pin_reserve(d, np))
		return msg_fail_ret(e, TEEC_ERROR_OUT_OF_MEMORY,
				    TG_REFUSE_LIMIT_PAGES);
	*npages = np;
	return 0;
}

static int prepare_tmem_noncontig(struct tg_domain *d, struct optee_call *c,
				  struct optee_msg_param *p, struct msg_err *e)
{
	uint64_t buf_ptr = p->u.tmem.buf_ptr, np;
	enum tg_refusal why;
	struct pagelist pl;
	struct call_res *r;

	if (reserve_span(d, buf_ptr, p->u.tmem.size, &np, e))
		return -1;
	r = tg_zalloc(d->med, sizeof(*r));
	if (!r) {
		pin_unreserve(d, np);
		return msg_fail_ret(e, TEEC_ERROR_OUT_OF_MEMORY,
				    TG_REFUSE_NO_MEMORY);
	}
	if (pagelist_shadow(d, buf_ptr & ~TG_PAGE_MASK, (uint32_t)np, NULL, &pl,
			    &why)) {
		tg_free(d->med, r, sizeof(*r));
		pin_unreserve(d, np);
		return msg_fail_ret(e, refusal_to_teec(why), why);
	}
	r->kind = RES_TMEM;
	r->list = pl.list;
	r->list_pages = pl.list_pages;
	r->npages = pl.npages;
	res_link(c, r);
	p->u.tmem.buf_ptr = pl.list_pa | (buf_ptr & TG_PAGE_MASK);
	return 0;
}

static int prepare_rmem(struct tg_domain *d, struct optee_call *c,
			const struct optee_msg_param *p, struct msg_err *e)
{
	uint64_t offs = p->u.rmem.offs, size = p->u.rmem.size;
	struct call_res *r;
	struct shm_buf *b;

	r = tg_zalloc(d->med, sizeof(*r));
	if (!r)
		return msg_fail_ret(e, TEEC_ERROR_OUT_OF_MEMORY,
				    TG_REFUSE_NO_MEMORY);
	dom_lock(d);
	b = shm_find(d, p->u.rmem.shm_ref);
	if (!b || b->state != SHM_READY) {
		dom_unlock(d);
		tg_free(d->med, r, sizeof(*r));
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_COOKIE);
	}
	if (offs > b->size || size > b->size - offs) {
		dom_unlock(d);
		tg_free(d->med, r, sizeof(*r));
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_PARAM);
	}
	b->in_use++;
	dom_unlock(d);
	r->kind = RES_RMEM;
	r->buf = b;
	res_link(c, r);
	return 0;
}

static int prepare_param(struct tg_domain *d, struct optee_call *c, uint32_t i,
			 struct msg_err *e)
{
	struct optee_msg_param *p = &c->shadow->params[i];
	uint64_t attr = p->attr;
	uint32_t type = TYPE(attr);
	bool noncontig = attr & OPTEE_MSG_ATTR_NONCONTIG;

	if (attr & ~OPTEE_MSG_ATTR_VALID_MASK)
		goto bad;
	if (c->cmd == OPTEE_MSG_CMD_OPEN_SESSION && i < 2) {
		/* The TA UUID and the login: exactly META | VALUE_INPUT. */
		if (attr !=
		    (OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT))
			goto bad;
		return 0;
	}
	if (attr & OPTEE_MSG_ATTR_META)
		goto bad;
	if (type == OPTEE_MSG_ATTR_TYPE_NONE || is_value(type))
		return noncontig ? msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
						TG_REFUSE_BAD_PARAM)
				 : 0;
	if (is_rmem(type)) {
		if (noncontig)
			goto bad;
		return prepare_rmem(d, c, p, e);
	}
	if (is_tmem(type)) {
		/*
		 * Never the guest's cookie: OP-TEE up to 4.10.0 leaks the
		 * object of a NONCONTIG temporary memref under it (fixed
		 * upstream by 51d99cd24), where it would shadow a buffer
		 * the guest registers with that cookie - over pages we no
		 * longer pin. 0 is a cookie no registration may use.
		 */
		p->u.tmem.shm_ref = 0;
		if (noncontig)
			return prepare_tmem_noncontig(d, c, p, e);
		/* Only a NULL memref: contiguous guest memory would be an
		 * IPA the TEE takes for a machine address. */
		if (p->u.tmem.buf_ptr)
			goto bad;
		return 0;
	}
bad:
	return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS, TG_REFUSE_BAD_PARAM);
}

static int prepare_register(struct tg_domain *d, struct optee_call *c,
			    struct msg_err *e)
{
	struct optee_msg_param *p = &c->shadow->params[0];
	uint64_t buf_ptr = p->u.tmem.buf_ptr, np;
	enum tg_refusal why = TG_REFUSE_BAD_COOKIE;
	struct pagelist pl;
	struct shm_buf *b;
	bool ok;

	if (c->num_params != 1 || p->attr != (OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
					      OPTEE_MSG_ATTR_NONCONTIG) ||
	    !p->u.tmem.shm_ref) /* 0: temporary memrefs' (see above) */
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_PARAM);
	if (reserve_span(d, buf_ptr, p->u.tmem.size, &np, e))
		return -1;
	b = tg_zalloc(d->med, sizeof(*b));
	if (b)
		b->guest_ipa = d->med->port.alloc(
			d->med->port.ctx, shm_buf_ipa_bytes((uint32_t)np));
	if (!b || !b->guest_ipa) {
		tg_free(d->med, b, sizeof(*b));
		pin_unreserve(d, np);
		return msg_fail_ret(e, TEEC_ERROR_OUT_OF_MEMORY,
				    TG_REFUSE_NO_MEMORY);
	}
	b->cookie = p->u.tmem.shm_ref;
	b->state = SHM_REGISTERING;
	b->npages = (uint32_t)np;
	b->page_offset = (uint32_t)(buf_ptr & TG_PAGE_MASK);
	b->size = p->u.tmem.size;

	/* Reserve the cookie first, so two vCPUs cannot both register it. */
	dom_lock(d);
	ok = d->shm_count < d->limits.max_shm_bufs;
	if (!ok)
		why = TG_REFUSE_LIMIT_BUFS;
	else if (shm_find(d, b->cookie))
		ok = false;
	if (ok)
		shm_insert(d, b);
	dom_unlock(d);
	if (!ok)
		goto err_free;

	if (pagelist_shadow(d, buf_ptr & ~TG_PAGE_MASK, b->npages, b->guest_ipa,
			    &pl, &why)) {
		dom_lock(d);
		shm_unlink(d, b);
		dom_unlock(d);
		goto err_free;
	}
	b->list = pl.list;
	b->list_pa = pl.list_pa;
	b->list_pages = pl.list_pages;
	c->new_buf = b;
	p->u.tmem.buf_ptr = pl.list_pa | b->page_offset;
	return 0;

err_free:
	pin_unreserve(d, np);
	shm_buf_free(d, b);
	return msg_fail_ret(e, refusal_to_teec(why), why);
}

static int prepare_unregister(struct tg_domain *d, struct optee_call *c,
			      struct msg_err *e)
{
	struct optee_msg_param *p = &c->shadow->params[0];
	struct shm_buf *b;

	if (c->num_params != 1 || p->attr != OPTEE_MSG_ATTR_TYPE_RMEM_INPUT)
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_PARAM);
	dom_lock(d);
	b = shm_find(d, p->u.rmem.shm_ref);
	if (!b || b->state != SHM_READY) {
		dom_unlock(d);
		/*
		 * What OP-TEE 4.10 answers a cookie it does not know, or one
		 * being registered or released (mobj_reg_shm_release_by_cookie
		 * in core/mm/mobj_dyn_shm.c).
		 */
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_COOKIE);
	}
	if (b->in_use) {
		dom_unlock(d);
		return msg_fail_ret(e, TEEC_ERROR_BUSY, TG_REFUSE_BUF_BUSY);
	}
	b->state = SHM_UNREGISTERING;
	dom_unlock(d);
	c->new_buf = b;
	return 0;
}

static int check_session(struct tg_domain *d, struct optee_call *c,
			 bool zero_ok, struct msg_err *e)
{
	if (zero_ok && c->session == 0)
		return 0;
	if (!session_known(d, c->session))
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_SESSION);
	return 0;
}

static int reserve_session(struct tg_domain *d, struct optee_call *c,
			   struct msg_err *e)
{
	bool ok;

	if (c->num_params < 2)
		return msg_fail_ret(e, TEEC_ERROR_BAD_PARAMETERS,
				    TG_REFUSE_BAD_PARAM);
	/* The TEE writes both on success; until then recovery can tell
	 * that no session was opened (tg_domain_recover()). */
	c->shadow->session = 0;
	c->shadow->ret = TEEC_ERROR_COMMUNICATION;
	dom_lock(d);
	ok = d->session_count + d->sessions_reserved < d->limits.max_sessions;
	if (ok)
		d->sessions_reserved++;
	dom_unlock(d);
	if (!ok)
		return msg_fail_ret(e, TEEC_ERROR_OUT_OF_MEMORY,
				    TG_REFUSE_LIMIT_SESSIONS);
	c->opening = true;
	return 0;
}

/* The parameters from @first on, one by one (any type). */
static int msg_prepare_params(struct tg_domain *d, struct optee_call *c,
			      uint32_t first, struct msg_err *e)
{
	const struct optee_msg_param *params = c->shadow->params;
	uint32_t i, n = c->num_params;

	for (i = first; i < n; i++) {
		if (prepare_param(d, c, i, e))
			return -1;
		/* the type as validated: prepare_param() refused the rest */
		note_output(c, i, TYPE(params[i].attr));
	}
	return 0;
}

/*
 * msg_prepare_cmd() - msg_prepare() for every command but INVOKE_COMMAND:
 * the command's own checks, then the parameters it leaves.
 */
static int msg_prepare_cmd(struct tg_domain *d, struct optee_call *c,
			   struct msg_err *e)
{
	uint32_t first = 0;
	int rc;

	switch (c->cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		rc = reserve_session(d, c, e);
		/* params 0 and 1: the META pair, checked in full */
		for (first = 0; !rc && first < 2; first++)
			rc = prepare_param(d, c, first, e);
		break;
	case OPTEE_MSG_CMD_CLOSE_SESSION:
		rc = check_session(d, c, false, e);
		break;
	case OPTEE_MSG_CMD_CANCEL:
		rc = check_session(d, c, true, e);
		break;
	case OPTEE_MSG_CMD_REGISTER_SHM:
		return prepare_register(d, c, e);
	case OPTEE_MSG_CMD_UNREGISTER_SHM:
		return prepare_unregister(d, c, e);
	case OPTEE_MSG_CMD_DO_BOTTOM_HALF:
	case OPTEE_MSG_CMD_STOP_ASYNC_NOTIF:
		rc = 0;
		break;
	default:
		/* Unknown and protected-memory commands: what OP-TEE
		 * answers an unknown command. */
		return msg_fail_a0(e, OPTEE_SMC_RETURN_EBADCMD,
				   TG_REFUSE_BAD_CMD);
	}
	if (rc)
		return rc;
	return msg_prepare_params(d, c, first, e);
}

/**
 * msg_prepare() - validate and translate the shadow message of @c (any
 * message; msg_prepare_fast() takes the commonest inline first).
 * Return: 0, or -1 with @e saying how to answer the guest. Resources taken
 * so far stay linked to @c for call_release_resources().
 */
int msg_prepare(struct tg_domain *d, struct optee_call *c, struct msg_err *e)
{
	c->out_mask[0] = c->out_mask[1] = 0;
	c->out_value[0] = c->out_value[1] = 0;
	/* it may commit or hold anything; the masks are set from here on */
	c->slow = CALL_SLOW | CALL_OUTPUTS;
	if (c->cmd != OPTEE_MSG_CMD_INVOKE_COMMAND)
		return msg_prepare_cmd(d, c, e);
	if (check_session(d, c, false, e))
		return -1;
	return msg_prepare_params(d, c, 0, e);
}

void msg_copy_back_ret(struct tg_domain *d, struct optee_call *c, uint32_t ret,
		       uint32_t origin)
{
	uint32_t v[2] = { ret, origin };

	if (c->guest_arg_ipa)
		msg_copy_out(d, c->guest_arg_ipa + 20, v, sizeof(v));
}

/* Copy back the output fields of the params in word @word of the masks. */
static void copy_back_params(struct tg_domain *d, struct optee_call *c,
			     uint32_t word)
{
	const struct optee_msg_arg *s = c->shadow;
	uint64_t mask = c->out_mask[word], values = c->out_value[word];
	uint64_t base = c->guest_arg_ipa + 32;

	while (mask) {
		uint32_t i = (uint32_t)__builtin_ctzll(mask) + 64 * word;

		if (values & (mask & -mask))
			msg_copy_out(d, base + 32u * i + 8, &s->params[i].u.value,
				 24);
		else
			msg_copy_out(d, base + 32u * i + 16,
				 &s->params[i].u.tmem.size, 8);
		mask &= mask - 1;
	}
}

/*
 * The rest of copy_back() after ret and ret_origin: the session of an
 * OPEN_SESSION and the output params. REGISTER/UNREGISTER_SHM have none:
 * their param is an input as far as the guest is concerned.
 */
void msg_copy_back_rest(struct tg_domain *d, struct optee_call *c)
{
	if (c->cmd == OPTEE_MSG_CMD_OPEN_SESSION)
		msg_copy_out(d, c->guest_arg_ipa + 8, &c->shadow->session, 4);
	copy_back_params(d, c, 0);
	copy_back_params(d, c, 1);
}

static void unpin_buf(struct tg_domain *d, struct shm_buf *b)
{
	shm_buf_unpin(d, b, 0, UINT32_MAX);
	pin_unreserve(d, b->npages);
	shm_buf_free(d, b);
}

/* Commit sessions and registered buffers after a successful SMC. */
static void msg_commit(struct tg_domain *d, struct optee_call *c)
{
	const struct optee_msg_arg *s = c->shadow;
	struct shm_buf *b = c->new_buf;
	bool ok = s->ret == TEEC_SUCCESS;

	/* The TEE has the list now: compact it while the buffer is ours. */
	if (c->cmd == OPTEE_MSG_CMD_REGISTER_SHM && ok && b &&
	    b->state == SHM_REGISTERING)
		shm_buf_compact(d, b);
	dom_lock(d);
	switch (c->cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		if (ok) {
			session_add(d, s->session);
			recover_note_commit(d, c, s->session);
		}
		break;
	case OPTEE_MSG_CMD_CLOSE_SESSION:
		/* Closed for the client whatever the TEE says. */
		session_remove(d, c->session);
		break;
	case OPTEE_MSG_CMD_REGISTER_SHM:
		/* Still the call's until it is released: a death before
		 * the guest hears of it lets recovery undo it. */
		if (ok && b) {
			b->state = SHM_READY;
			recover_note_commit(d, c, s->params[0].u.tmem.shm_ref);
		}
		break;
	case OPTEE_MSG_CMD_UNREGISTER_SHM:
		if (ok && b) {
			shm_unlink(d, b);
			c->new_buf = NULL;
		} else {
			b = NULL;
		}
		break;
	default:
		break;
	}
	dom_unlock(d);
	if (c->cmd == OPTEE_MSG_CMD_UNREGISTER_SHM && b) {
		if (c->entry == ENTRY_INTERNAL) {
			/* teardown unpins it in bounded steps */
			b->next = d->dead_bufs;
			d->dead_bufs = b;
		} else {
			unpin_buf(d, b);
		}
	}
}

/*
 * msg_complete_slow() - msg_complete() for every call but a successful
 * INVOKE with value params only.
 */
void msg_complete_slow(struct tg_domain *d, struct optee_call *c, uint32_t a0)
{
	if (a0 == OPTEE_SMC_RETURN_OK) {
		if (c->cmd != OPTEE_MSG_CMD_INVOKE_COMMAND &&
		    c->cmd != OPTEE_MSG_CMD_CANCEL)
			msg_commit(d, c);
		/* every guest call located its argument before the SMC */
		if (c->entry != ENTRY_INTERNAL) {
			msg_copy_out(d, c->guest_arg_ipa + 20, &c->shadow->ret, 8);
			/* the masks are this call's only with CALL_OUTPUTS */
			if (c->slow & CALL_OUTPUTS)
				msg_copy_back_rest(d, c);
		}
	}
	call_release_resources(d, c);
	/* No TEE thread was free: take back one a guest sits on. */
	if (a0 == OPTEE_SMC_RETURN_ETHREAD_LIMIT)
		fair_thread_wanted(d, c);
}

/* Drop everything a finished (or refused) call holds. */
void call_release_slow(struct tg_domain *d, struct optee_call *c)
{
	struct call_res *r = c->res, *next;
	struct shm_buf *b = c->new_buf;
	bool drop_new = false;

	/* Detach before freeing: a crash in between leaks, never frees
	 * twice (tg_domain_recover() gives leaked pins and pages back). */
	c->res = NULL;
	for (; r; r = next) {
		next = r->next;
		if (r->kind == RES_TMEM) {
			pagelist_unpin(d, r->list, r->npages, 0, UINT32_MAX);
			pin_unreserve(d, r->npages);
			pagelist_free_list(d, r->list, r->list_pages);
		} else {
			dom_lock(d);
			r->buf->in_use--;
			dom_unlock(d);
		}
		tg_free(d->med, r, sizeof(*r));
	}
	if (!c->regd_buf && !c->opening && !b)
		return;

	dom_lock(d);
	if (c->regd_buf)
		c->regd_buf->in_use--;
	if (c->opening)
		d->sessions_reserved--;
	if (b && b->state == SHM_REGISTERING) {
		shm_unlink(d, b);
		c->new_buf = NULL;
		drop_new = true;
	} else if (b && b->state == SHM_UNREGISTERING) {
		b->state = SHM_READY;
	}
	dom_unlock(d);
	if (drop_new)
		unpin_buf(d, b);
	c->regd_buf = NULL;
	c->opening = false;
	c->new_buf = NULL;
}
