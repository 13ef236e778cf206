// SPDX-License-Identifier: BSD-2-Clause
/*
 * Mediator object: creation (which probes the TEE), destruction, and the
 * small helpers every other file uses to reach the port.
 */
#include "internal.h"

void tg_log(struct tg_mediator *med, enum tg_log_level lvl, uint32_t client,
	    const char *msg, uint64_t value)
{
	if (med->port.log)
		med->port.log(med->port.ctx, lvl, client, msg, value);
}

void *tg_zalloc(struct tg_mediator *med, size_t size)
{
	void *p = med->port.alloc(med->port.ctx, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void tg_free(struct tg_mediator *med, void *p, size_t size)
{
	if (p)
		med->port.free(med->port.ctx, p, size);
}

static bool port_complete(const struct tg_port *p)
{
	return p && p->pin_pages && p->unpin_pages && p->copy_from_guest &&
	       p->copy_to_guest && p->alloc && p->free && p->shm_alloc &&
	       p->shm_free && p->smc && p->lock_create && p->lock_destroy &&
	       p->lock && p->unlock;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void fill_limit(uint32_t *field, uint32_t dflt)
{
	if (!*field)
		*field = dflt;
}

/* Fill zero limits with the documented defaults. */
void tg_limits_defaults(struct tg_limits *l, uint32_t tee_threads)
{
	fill_limit(&l->max_calls, tee_threads ? tee_threads : 1);
	fill_limit(&l->max_shm_bufs, TG_DEFAULT_MAX_SHM_BUFS);
	fill_limit(&l->max_pages_per_buf, TG_DEFAULT_MAX_PAGES_PER_BUF);
	fill_limit(&l->max_pinned_pages, TG_DEFAULT_MAX_PINNED_PAGES);
	fill_limit(&l->max_rpc_bufs, TG_DEFAULT_MAX_RPC_BUFS);
	fill_limit(&l->max_sessions, TG_DEFAULT_MAX_SESSIONS);
}

/*
 * Each protocol asked in turn (one asked for: only it): the first that
 * does not answer TG_ENOTEE is the mediator's.
 */
static int probe(struct tg_mediator *med, enum tg_protocol want)
{
	int rc = TG_ENOTEE;

	for (uint32_t p = TG_PROTOCOL_AUTO + 1; p < TG_PROTOCOL_COUNT; p++) {
		const struct tg_proto *ops = tg_protocols[p];

		if ((want != TG_PROTOCOL_AUTO && want != p) || !ops)
			continue;
		memset(&med->tee, 0, sizeof(med->tee));
		med->proto = ops;
		med->protocol = (enum tg_protocol)p;
		rc = ops->probe(med);
		med->tee.protocol = med->protocol;
		if (rc != TG_ENOTEE)
			break;
	}
	if (rc)
		med->proto = NULL;
	return rc;
}

/* The pointers into this process's program (again after a recovery). */
void tg_mediator_bind_proto(struct tg_mediator *med)
{
	/* one indirect call on the call path whether the port has it or not */
	if (!med->port.copy_to_guest_late)
		med->port.copy_to_guest_late = med->port.copy_to_guest;
	med->proto = tg_protocols[med->protocol];
	med->live = med->proto->fast ? SLOT_LIVE : SLOT_LIVE_OPS;
	med->handle_put = med->proto->fast ? NULL : med->proto->handle_put;
}

int tg_mediator_create(const struct tg_port *port, const struct tg_config *cfg,
		       struct tg_mediator **out)
{
	struct tg_mediator *med;
	uint32_t max_domains;
	int rc;

	if (!out)
		return TG_EINVAL;
	*out = NULL;
	if (!port_complete(port))
		return TG_EINVAL;
	max_domains = cfg && cfg->max_domains ? cfg->max_domains
					      : TG_DEFAULT_MAX_DOMAINS;
	if (max_domains > TG_MAX_CLIENT_ID ||
	    (cfg && (uint32_t)cfg->protocol >= TG_PROTOCOL_COUNT))
		return TG_EINVAL;

	med = port->alloc(port->ctx, sizeof(*med));
	if (!med)
		return TG_ENOMEM;
	memset(med, 0, sizeof(*med));
	med->port = *port;
	if (cfg)
		med->cfg = *cfg;
	med->cfg.max_domains = max_domains;
	if (!med->cfg.destroy_step_pages)
		med->cfg.destroy_step_pages = TG_DEFAULT_DESTROY_STEP_PAGES;

	/* The protocol applies its own limits' defaults. */
	rc = probe(med, cfg ? cfg->protocol : TG_PROTOCOL_AUTO);
	if (rc)
		goto err_free;
	tg_mediator_bind_proto(med);

	/* Open addressing at most half full keeps probe sequences short. */
	med->nslots = pow2_at_least(max_domains * 2);
	med->slot_mask = med->nslots - 1;
	med->slots = tg_zalloc(med, sizeof(*med->slots) * med->nslots);
	if (!med->slots) {
		rc = TG_ENOMEM;
		goto err_free;
	}
	med->table_lock = port->lock_create(port->ctx);
	if (!med->table_lock) {
		rc = TG_ENOMEM;
		goto err_slots;
	}
	*out = med;
	return TG_OK;

err_slots:
	tg_free(med, med->slots, sizeof(*med->slots) * med->nslots);
	med->proto->fini(med);
err_free:
	port->free(port->ctx, med, sizeof(*med));
	return rc;
}

int tg_mediator_destroy(struct tg_mediator *med)
{
	struct tg_port port;

	if (!med)
		return TG_EINVAL;
	if (med->live_domains)
		return TG_EBUSY;
	port = med->port;
	med->proto->fini(med);
	port.lock_destroy(port.ctx, med->table_lock);
	tg_free(med, med->slots, sizeof(*med->slots) * med->nslots);
	port.free(port.ctx, med, sizeof(*med));
	return TG_OK;
}

const struct tg_tee_info *tg_mediator_tee_info(const struct tg_mediator *med)
{
	return med ? &med->tee : NULL;
}

enum tg_protocol tg_mediator_protocol(const struct tg_mediator *med)
{
	return med ? med->protocol : TG_PROTOCOL_AUTO;
}

const char *tg_strerror(int status)
{
	switch (status) {
	case TG_OK:
		return "success";
	case TG_AGAIN:
		return "not finished, call again";
	case TG_EINVAL:
		return "invalid argument";
	case TG_ENOMEM:
		return "out of memory";
	case TG_EFAULT:
		return "address not owned by the guest";
	case TG_EEXIST:
		return "already exists";
	case TG_ENOENT:
		return "no such domain";
	case TG_ENOTSUP:
		return "the TEE lacks a required feature";
	case TG_EBUSY:
		return "resource busy";
	case TG_ENOTEE:
		return "no TEE answered (or not one this mediator speaks)";
	case TG_ELIMIT:
		return "limit reached";
	case TG_EPROTO:
		return "unexpected answer from the TEE";
	default:
		return "unknown error";
	}
}

const char *tg_refusal_name(enum tg_refusal r)
{
	static const char *const names[TG_REFUSE_COUNT] = {
		[TG_REFUSE_UNKNOWN_FUNCTION] = "unknown_function",
		[TG_REFUSE_HYP_ONLY] = "hypervisor_only",
		[TG_REFUSE_WHOLE_TEE] = "whole_tee",
		[TG_REFUSE_BAD_CAPS] = "bad_caps",
		[TG_REFUSE_BAD_ADDR] = "bad_addr",
		[TG_REFUSE_BAD_PARAM] = "bad_param",
		[TG_REFUSE_BAD_CMD] = "bad_cmd",
		[TG_REFUSE_BAD_COOKIE] = "bad_cookie",
		[TG_REFUSE_BAD_SESSION] = "bad_session",
		[TG_REFUSE_BAD_THREAD] = "bad_thread",
		[TG_REFUSE_BAD_RPC_ANSWER] = "bad_rpc_answer",
		[TG_REFUSE_BUF_BUSY] = "buf_busy",
		[TG_REFUSE_LIMIT_CALLS] = "limit_calls",
		[TG_REFUSE_LIMIT_BUFS] = "limit_bufs",
		[TG_REFUSE_LIMIT_PAGES] = "limit_pages",
		[TG_REFUSE_LIMIT_RPC_BUFS] = "limit_rpc_bufs",
		[TG_REFUSE_LIMIT_SESSIONS] = "limit_sessions",
		[TG_REFUSE_NO_MEMORY] = "no_memory",
		[TG_REFUSE_DYING] = "dying",
	};

	if ((unsigned int)r >= TG_REFUSE_COUNT)
		return "?";
	return names[r];
}

const char *tg_call_kind_name(enum tg_call_kind k)
{
	static const char *const names[TG_KIND_COUNT] = {
		[TG_KIND_FAST_FORWARDED] = "fast_forwarded",
		[TG_KIND_FAST_EMULATED] = "fast_emulated",
		[TG_KIND_STD_CALL] = "std_call",
		[TG_KIND_RPC_RETURN] = "rpc_return",
		[TG_KIND_RPC_TO_GUEST] = "rpc_to_guest",
		[TG_KIND_REFUSED] = "refused",
	};

	if ((unsigned int)k >= TG_KIND_COUNT)
		return "?";
	return names[k];
}
