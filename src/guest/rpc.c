// SPDX-License-Identifier: BSD-2-Clause
/*
 * RPC handling: what the normal world does when a std call returns with
 * a0 = 0xFFFF0000 | func. The answer goes back with RETURN_FROM_RPC,
 * echoing a3 (the TEE thread id); a1, a2, a4, a5 carry answer words.
 *
 * Everything here comes from the TEE (through the mediator): register
 * values, cookies and the RPC argument in shared memory. The RPC argument
 * is copied once into a local snapshot, checked, executed, and only the
 * output fields are written back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "optee_private.h"

/* The TEE may ask for RPC buffers up to this size (ALLOC / SHM_ALLOC). */
#define RPC_ALLOC_MAX (4u << 20)
#define RPC_SHM_ALLOC_MAX (64u << 20)
#define TEEC_ERROR_TIMEOUT_LOCAL 0xFFFF3001u

struct rpc_snapshot {
	struct optee_msg_arg hdr;
	struct optee_msg_param p[OPTEE_MSG_RPC_NUM_PARAMS];
};

static uint32_t param_type(const struct optee_msg_param *p)
{
	return (uint32_t)(p->attr & OPTEE_MSG_ATTR_TYPE_MASK);
}

static void rpc_alloc(struct call_ctx *ctx, uint64_t regs[8])
{
	struct tg_optee *drv = ctx->drv;
	uint64_t tee_size = (uint32_t)regs[1]; /* TEE-controlled */
	struct tg_optee_shm *shm = NULL;

	if (tee_size && tee_size <= RPC_ALLOC_MAX)
		shm = tgg_shm_new_pages(drv, (size_t)tee_size,
					SHM_KIND_RPC_ALLOC);
	if (!shm) {
		regs[1] = regs[2] = regs[4] = regs[5] = 0;
		return;
	}
	tgg_shm_link(drv, shm);
	reg_pair_from_64(&regs[1], &regs[2], shm->ipa);
	reg_pair_from_64(&regs[4], &regs[5], shm->cookie);
}

static void rpc_free(struct call_ctx *ctx, uint64_t regs[8])
{
	uint64_t tee_cookie = reg_pair_to_64(regs[1], regs[2]);
	struct tg_optee_shm *shm;

	shm = tgg_shm_unlink_cookie(ctx->drv, tee_cookie, SHM_KIND_RPC_ALLOC);
	if (shm)
		tgg_shm_release_pages(ctx->drv, shm);
	else
		STAT_INC(ctx->drv, rpc_bad);
}

static void cmd_get_time(struct rpc_snapshot *s)
{
	struct timespec ts;

	if (s->hdr.num_params != 1 ||
	    param_type(&s->p[0]) != OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	s->p[0].u.value.a = (uint64_t)ts.tv_sec;
	s->p[0].u.value.b = (uint64_t)ts.tv_nsec;
	s->hdr.ret = TEEC_SUCCESS;
}

static void cmd_shm_alloc(struct call_ctx *ctx, struct rpc_snapshot *s)
{
	struct tg_optee *drv = ctx->drv;
	struct tg_optee_shm *shm;
	uint64_t tee_size;

	if (s->hdr.num_params != 1 ||
	    param_type(&s->p[0]) != OPTEE_MSG_ATTR_TYPE_VALUE_INPUT) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	tee_size = s->p[0].u.value.b;
	switch (s->p[0].u.value.a) {
	case OPTEE_RPC_SHM_TYPE_APPL:
	case OPTEE_RPC_SHM_TYPE_KERNEL:
	case OPTEE_RPC_SHM_TYPE_GLOBAL:
		break;
	default:
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	if (!tee_size || tee_size > RPC_SHM_ALLOC_MAX) {
		s->hdr.ret = TEEC_ERROR_OUT_OF_MEMORY;
		return;
	}
	shm = tgg_shm_new_pages(drv, (size_t)tee_size, SHM_KIND_RPC_SHM);
	if (!shm) {
		s->hdr.ret = TEEC_ERROR_OUT_OF_MEMORY;
		return;
	}
	if (drv->ffa) {
		/* FF-A: shared until SHM_FREE; FMEM with its global id. */
		struct optee_msg_param_fmem f = { 0 };

		if (tgg_ffa_shm_register(drv, shm, NULL)) {
			tgg_shm_release_pages(drv, shm);
			s->hdr.ret = TEEC_ERROR_OUT_OF_MEMORY;
			return;
		}
		memset(&s->p[0], 0, sizeof(s->p[0]));
		s->p[0].attr = OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT;
		f.size = shm->size;
		f.global_id = shm->cookie;
		memcpy(&s->p[0].u, &f, sizeof(f));
		s->hdr.ret = TEEC_SUCCESS;
		return;
	}
	/* The list stays until SHM_FREE: the TEE may map it at any time. */
	if (tgg_pagelist_build(drv, shm->ipa, shm->size, &shm->list_ipa,
			       &shm->list_pages)) {
		tgg_shm_release_pages(drv, shm);
		s->hdr.ret = TEEC_ERROR_OUT_OF_MEMORY;
		return;
	}
	tgg_shm_link(drv, shm);
	memset(&s->p[0], 0, sizeof(s->p[0]));
	s->p[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	s->p[0].u.tmem.buf_ptr = shm->list_ipa | (shm->ipa & PAGE_MASK_LOW);
	s->p[0].u.tmem.size = shm->size;
	s->p[0].u.tmem.shm_ref = shm->cookie;
	s->hdr.ret = TEEC_SUCCESS;
}

static void cmd_shm_free(struct call_ctx *ctx, struct rpc_snapshot *s)
{
	struct tg_optee_shm *shm;

	if (s->hdr.num_params != 1 ||
	    param_type(&s->p[0]) != OPTEE_MSG_ATTR_TYPE_VALUE_INPUT) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	shm = tgg_shm_unlink_cookie(ctx->drv, s->p[0].u.value.b,
				    SHM_KIND_RPC_SHM);
	if (!shm) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	/*
	 * FF-A: OP-TEE retired the handle before this RPC; reclaim (no
	 * UNREGISTER_SHM, as Linux's optee_ffa_shm_unregister_supp()).
	 * Pages still shared are kept out of reuse.
	 */
	if (ctx->drv->ffa && tgg_ffa_reclaim(ctx->drv, shm->cookie)) {
		tgg_shm_link_as(ctx->drv, shm, shm->cookie);
		s->hdr.ret = TEEC_ERROR_BAD_STATE;
		return;
	}
	tgg_shm_release_pages(ctx->drv, shm);
	s->hdr.ret = TEEC_SUCCESS;
}

static void cmd_notification(struct call_ctx *ctx, struct rpc_snapshot *s)
{
	struct tg_optee *drv = ctx->drv;
	uint64_t key;
	int rc;

	if (s->hdr.num_params != 1 ||
	    param_type(&s->p[0]) != OPTEE_MSG_ATTR_TYPE_VALUE_INPUT) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	key = s->p[0].u.value.b;
	if (key > drv->info.max_notif_value) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	switch (s->p[0].u.value.a) {
	case OPTEE_RPC_NOTIFICATION_WAIT:
		rc = tgg_notif_wait(drv, (uint32_t)key,
				    (uint32_t)(s->p[0].u.value.c > UINT32_MAX
						       ? UINT32_MAX
						       : s->p[0].u.value.c));
		s->hdr.ret = rc == TG_OK      ? TEEC_SUCCESS
			     : rc == TG_AGAIN ? TEEC_ERROR_TIMEOUT_LOCAL
					      : TEEC_ERROR_BAD_STATE;
		break;
	case OPTEE_RPC_NOTIFICATION_SEND:
		rc = tgg_notif_send(drv, (uint32_t)key);
		s->hdr.ret = rc ? TEEC_ERROR_BAD_PARAMETERS : TEEC_SUCCESS;
		break;
	default:
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		break;
	}
}

/* TA image path `<dir>/<uuid>.ta` from the 16 RFC 4122 octets. */
static void ta_path(char *buf, size_t len, const char *dir, const uint8_t u[16])
{
	snprintf(
		buf, len,
		"%s/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x.ta",
		dir, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * Locate the TMEM output of an RPC in our memory: the cookie names an
 * RPC_SHM buffer of ours; buf_ptr is an address inside it (an IPA, or
 * whatever the mediator left there: anything else means offset 0).
 */
static uint8_t *rpc_tmem_ptr(struct call_ctx *ctx,
			     const struct optee_msg_param *p, uint64_t len)
{
	struct tg_optee_shm *shm;
	uint64_t offs = 0;

	/* tmem.shm_ref and fmem.global_id share a place. */
	shm = tgg_shm_find_cookie(ctx->drv, p->u.tmem.shm_ref,
				  SHM_KIND_RPC_SHM);
	if (!shm)
		return NULL;
	if (ctx->drv->ffa) {
		struct optee_msg_param_fmem f;

		memcpy(&f, &p->u, sizeof(f));
		offs = ((uint64_t)f.offs_high << 32) | f.offs_low;
	} else if (p->u.tmem.buf_ptr >= shm->ipa &&
		   p->u.tmem.buf_ptr - shm->ipa < shm->size) {
		offs = p->u.tmem.buf_ptr - shm->ipa;
	}
	if (len > shm->size || offs > shm->size - len)
		return NULL;
	return (uint8_t *)shm->va + offs;
}

/*
 * LOAD_TA: param 0 VALUE_INPUT with the UUID, param 1 TMEM_OUTPUT for
 * the image. A NULL buffer asks for the size (SUCCESS with the size, as
 * OP-TEE expects); a buffer too small gets SHORT_BUFFER and the size.
 */
static void cmd_load_ta(struct call_ctx *ctx, struct rpc_snapshot *s)
{
	const char *dir = ctx->drv->ta_dir;
	uint8_t uuid[16], *dst;
	char path[4096];
	struct stat st;
	uint64_t want;
	ssize_t got;
	size_t done;
	bool is_null;
	int fd;

	if (s->hdr.num_params != 2 ||
	    param_type(&s->p[0]) != OPTEE_MSG_ATTR_TYPE_VALUE_INPUT ||
	    param_type(&s->p[1]) != (ctx->drv->ffa
					     ? OPTEE_MSG_ATTR_TYPE_FMEM_OUTPUT
					     : OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT)) {
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	if (!dir) {
		s->hdr.ret = TEEC_ERROR_ITEM_NOT_FOUND;
		return;
	}
	memcpy(uuid, &s->p[0].u.value, 16);
	ta_path(path, sizeof(path), dir, uuid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		s->hdr.ret = TEEC_ERROR_ITEM_NOT_FOUND;
		return;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > RPC_SHM_ALLOC_MAX) {
		close(fd);
		s->hdr.ret = TEEC_ERROR_ITEM_NOT_FOUND;
		return;
	}
	want = s->p[1].u.tmem.size;
	/* NULL: buf_ptr 0, or over FF-A the invalid global id. */
	is_null = ctx->drv->ffa ? s->p[1].u.rmem.shm_ref ==
					  OPTEE_MSG_FMEM_INVALID_GLOBAL_ID
				: !s->p[1].u.tmem.buf_ptr;
	if (is_null || want < (uint64_t)st.st_size) {
		s->hdr.ret = !is_null ? TEEC_ERROR_SHORT_BUFFER : TEEC_SUCCESS;
		s->p[1].u.tmem.size = (uint64_t)st.st_size;
		close(fd);
		return;
	}
	dst = rpc_tmem_ptr(ctx, &s->p[1], (uint64_t)st.st_size);
	if (!dst) {
		close(fd);
		s->hdr.ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	for (done = 0; done < (size_t)st.st_size; done += (size_t)got) {
		got = read(fd, dst + done, (size_t)st.st_size - done);
		if (got <= 0)
			break;
	}
	close(fd);
	if (done != (size_t)st.st_size) {
		s->hdr.ret = TEEC_ERROR_GENERIC;
		return;
	}
	s->p[1].u.tmem.size = (uint64_t)st.st_size;
	s->hdr.ret = TEEC_SUCCESS;
}

/* Find the RPC argument of a CMD: supplied with the call, or by cookie. */
static struct optee_msg_arg *rpc_cmd_arg(struct call_ctx *ctx, uint64_t regs[8],
					 uint32_t *capacity)
{
	struct tg_optee_shm *shm;

	if (ctx->rpc_arg) {
		*capacity = ctx->rpc_arg_params;
		return ctx->rpc_arg;
	}
	shm = tgg_shm_find_cookie(ctx->drv, reg_pair_to_64(regs[1], regs[2]),
				  SHM_KIND_RPC_ALLOC);
	if (!shm || shm->size < OPTEE_MSG_ARG_HDR_SIZE)
		return NULL;
	*capacity = (uint32_t)((shm->size - OPTEE_MSG_ARG_HDR_SIZE) /
			       OPTEE_MSG_PARAM_SIZE);
	return shm->va;
}

static void rpc_cmd(struct call_ctx *ctx, uint64_t regs[8])
{
	struct tg_optee *drv = ctx->drv;
	struct rpc_snapshot s;
	struct optee_msg_arg *shared;
	uint32_t capacity = 0, n;

	shared = rpc_cmd_arg(ctx, regs, &capacity);
	if (!shared) {
		STAT_INC(drv, rpc_bad);
		return;
	}
	memcpy(&s.hdr, shared, sizeof(s.hdr));
	n = s.hdr.num_params;
	if (capacity > OPTEE_MSG_RPC_NUM_PARAMS)
		capacity = OPTEE_MSG_RPC_NUM_PARAMS;
	if (n > capacity) {
		STAT_INC(drv, rpc_bad);
		shared->ret = TEEC_ERROR_BAD_PARAMETERS;
		return;
	}
	memcpy(s.p, shared->params, (size_t)n * OPTEE_MSG_PARAM_SIZE);
	s.hdr.num_params = n;
	s.hdr.ret_origin = TEEC_ORIGIN_COMMS;
	if (s.hdr.cmd < 32)
		STAT_INC(drv, rpc_cmd[s.hdr.cmd]);

	switch (s.hdr.cmd) {
	case OPTEE_RPC_CMD_GET_TIME:
		cmd_get_time(&s);
		break;
	case OPTEE_RPC_CMD_SHM_ALLOC:
		cmd_shm_alloc(ctx, &s);
		break;
	case OPTEE_RPC_CMD_SHM_FREE:
		cmd_shm_free(ctx, &s);
		break;
	case OPTEE_RPC_CMD_NOTIFICATION:
		cmd_notification(ctx, &s);
		break;
	case OPTEE_RPC_CMD_LOAD_TA:
		cmd_load_ta(ctx, &s);
		break;
	case OPTEE_RPC_CMD_FS:
		/* No REE file system behind this guest: nothing is stored. */
		s.hdr.ret = TEEC_ERROR_ITEM_NOT_FOUND;
		break;
	default:
		s.hdr.ret = TEEC_ERROR_NOT_SUPPORTED;
		break;
	}
	/* Output fields only: ret, ret_origin and the parameters. */
	shared->ret = s.hdr.ret;
	shared->ret_origin = s.hdr.ret_origin;
	memcpy(shared->params, s.p, (size_t)n * OPTEE_MSG_PARAM_SIZE);
}

/* tgg_rpc_cmd() - serve the RPC CMD in the call's RPC argument (FF-A). */
void tgg_rpc_cmd(struct call_ctx *ctx)
{
	uint64_t regs[8] = { 0 };

	if (ctx->drv->ffa && ctx->rpc_arg)
		rpc_cmd(ctx, regs);
	else
		STAT_INC(ctx->drv, rpc_bad);
}

/**
 * tgg_rpc_handle() - serve one RPC in @regs (an RPC return of a std call) and
 * turn @regs into the RETURN_FROM_RPC that resumes it. a3 (the TEE thread
 * id) and the other resume words are echoed unchanged.
 */
void tgg_rpc_handle(struct call_ctx *ctx, uint64_t regs[8])
{
	uint32_t func = OPTEE_SMC_RPC_FUNC(regs[0]);

	if (func < 6)
		STAT_INC(ctx->drv, rpc[func]);
	switch (func) {
	case OPTEE_SMC_RPC_FUNC_ALLOC:
		rpc_alloc(ctx, regs);
		break;
	case OPTEE_SMC_RPC_FUNC_FREE:
		rpc_free(ctx, regs);
		break;
	case OPTEE_SMC_RPC_FUNC_FOREIGN_INTR:
		/* The "interrupt" was taken when the SMC returned. */
		break;
	case OPTEE_SMC_RPC_FUNC_CMD:
		rpc_cmd(ctx, regs);
		break;
	default:
		STAT_INC(ctx->drv, rpc_bad);
		break;
	}
	regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	regs[7] = 0;
}
