// SPDX-License-Identifier: BSD-2-Clause
/*
 * GlobalPlatform TEE Client API over the guest OP-TEE driver.
 *
 * Temporary memrefs are copied into guest pages and sent as NONCONTIG TMEM
 * page lists, or registered and sent as RMEM with register_tmp (for
 * OP-TEE 4.10.0 and older, which leak NONCONTIG TMEM objects). Shared memory (allocated, or a registered caller buffer) is
 * registered with REGISTER_SHM and sent as RMEM; a caller buffer outside
 * the guest RAM the driver knows is shadowed by registered pages and copied
 * around each operation (as libteec does when it cannot register).
 */
#include <stdlib.h>
#include <string.h>

#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>

static int next_shm_id = 1;

static void uuid_to_octets(uint8_t out[16], const TEEC_UUID *u)
{
	out[0] = (uint8_t)(u->timeLow >> 24);
	out[1] = (uint8_t)(u->timeLow >> 16);
	out[2] = (uint8_t)(u->timeLow >> 8);
	out[3] = (uint8_t)u->timeLow;
	out[4] = (uint8_t)(u->timeMid >> 8);
	out[5] = (uint8_t)u->timeMid;
	out[6] = (uint8_t)(u->timeHiAndVersion >> 8);
	out[7] = (uint8_t)u->timeHiAndVersion;
	memcpy(out + 8, u->clockSeqAndNode, 8);
}

TEEC_Result TEEC_InitializeContext(const char *name, TEEC_Context *context)
{
	struct tg_vcpu *vcpu = tg_vcpu_self();
	struct tg_optee *drv;

	(void)name; /* one TEE per guest: any name selects it */
	if (!context)
		return TEEC_ERROR_BAD_PARAMETERS;
	memset(context, 0, sizeof(*context));
	if (!vcpu)
		return TEEC_ERROR_BAD_STATE;
	if (tg_optee_get(vcpu, &drv))
		return TEEC_ERROR_ITEM_NOT_FOUND;
	context->drv = drv;
	context->reg_mem = true;
	/* Over FF-A a NULL memref is always possible (Linux too). */
	context->memref_null = tg_optee_info(drv)->ffa ||
			       (tg_optee_info(drv)->sec_caps &
				OPTEE_SMC_SEC_CAP_MEMREF_NULL) != 0;
	return TEEC_SUCCESS;
}

void TEEC_FinalizeContext(TEEC_Context *context)
{
	if (!context || !context->drv)
		return;
	tg_optee_put(context->drv);
	context->drv = NULL;
}

/* One operation's translated parameters and their bounce buffers. */
struct op_state {
	struct tg_optee_param p[TEEC_CONFIG_PAYLOAD_REF_COUNT];
	struct tg_optee_shm *bounce[TEEC_CONFIG_PAYLOAD_REF_COUNT];
	uint32_t types[TEEC_CONFIG_PAYLOAD_REF_COUNT];
};

static enum tg_optee_param_type dir_type(bool in, bool out)
{
	if (in && out)
		return TG_OPTEE_PARAM_MEMREF_INOUT;
	return out ? TG_OPTEE_PARAM_MEMREF_OUTPUT : TG_OPTEE_PARAM_MEMREF_INPUT;
}

static void op_release(TEEC_Context *ctx, struct op_state *st)
{
	uint32_t i;

	(void)ctx;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		tg_optee_shm_free(st->bounce[i]);
		st->bounce[i] = NULL;
	}
}

static TEEC_Result shadow_in(TEEC_SharedMemory *shm)
{
	if (shm->shadow_buffer && (shm->flags & TEEC_MEM_INPUT) && shm->size)
		memcpy(shm->shadow_buffer, shm->buffer, shm->size);
	return TEEC_SUCCESS;
}

static TEEC_Result op_prepare(TEEC_Context *ctx, TEEC_Operation *op,
			      struct op_state *st)
{
	uint32_t i;

	memset(st, 0, sizeof(*st));
	if (!op)
		return TEEC_SUCCESS;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		uint32_t t = TEEC_PARAM_TYPE_GET(op->paramTypes, i);
		TEEC_Parameter *pp = &op->params[i];
		struct tg_optee_param *p = &st->p[i];
		TEEC_SharedMemory *parent;
		bool in, out;

		st->types[i] = t;
		switch (t) {
		case TEEC_NONE:
			p->type = TG_OPTEE_PARAM_NONE;
			break;
		case TEEC_VALUE_INPUT:
		case TEEC_VALUE_OUTPUT:
		case TEEC_VALUE_INOUT:
			p->type = (enum tg_optee_param_type)t;
			p->u.value.a = pp->value.a;
			p->u.value.b = pp->value.b;
			break;
		case TEEC_MEMREF_TEMP_INPUT:
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			p->type = (enum tg_optee_param_type)t;
			if (!pp->tmpref.buffer) {
				if (pp->tmpref.size || !ctx->memref_null)
					return TEEC_ERROR_BAD_PARAMETERS;
				break; /* NULL memref */
			}
			if (pp->tmpref.size > TEEC_CONFIG_SHAREDMEM_MAX_SIZE)
				return TEEC_ERROR_OUT_OF_MEMORY;
			if (tg_optee_shm_alloc(ctx->drv, pp->tmpref.size,
					       ctx->register_tmp,
					       &st->bounce[i], NULL))
				return TEEC_ERROR_OUT_OF_MEMORY;
			if (t != TEEC_MEMREF_TEMP_OUTPUT && pp->tmpref.size)
				memcpy(st->bounce[i]->va, pp->tmpref.buffer,
				       pp->tmpref.size);
			p->u.memref.shm = st->bounce[i];
			p->u.memref.size = pp->tmpref.size;
			break;
		case TEEC_MEMREF_WHOLE:
			parent = pp->memref.parent;
			if (!parent || !parent->shm)
				return TEEC_ERROR_BAD_PARAMETERS;
			in = parent->flags & TEEC_MEM_INPUT;
			out = parent->flags & TEEC_MEM_OUTPUT;
			if (!in && !out)
				return TEEC_ERROR_BAD_PARAMETERS;
			p->type = dir_type(in, out);
			p->u.memref.shm = parent->shm;
			p->u.memref.size = parent->size;
			shadow_in(parent);
			break;
		case TEEC_MEMREF_PARTIAL_INPUT:
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			parent = pp->memref.parent;
			in = t != TEEC_MEMREF_PARTIAL_OUTPUT;
			out = t != TEEC_MEMREF_PARTIAL_INPUT;
			if (!parent || !parent->shm ||
			    (in && !(parent->flags & TEEC_MEM_INPUT)) ||
			    (out && !(parent->flags & TEEC_MEM_OUTPUT)) ||
			    pp->memref.offset > parent->size ||
			    pp->memref.size > parent->size - pp->memref.offset)
				return TEEC_ERROR_BAD_PARAMETERS;
			p->type = dir_type(in, out);
			p->u.memref.shm = parent->shm;
			p->u.memref.offs = pp->memref.offset;
			p->u.memref.size = pp->memref.size;
			shadow_in(parent);
			break;
		default:
			return TEEC_ERROR_BAD_PARAMETERS;
		}
	}
	return TEEC_SUCCESS;
}

/* Copy outputs back. Sizes come from the TEE: never copy past a buffer. */
static void op_finish(TEEC_Operation *op, struct op_state *st)
{
	uint32_t i;

	if (!op)
		return;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		TEEC_Parameter *pp = &op->params[i];
		struct tg_optee_param *p = &st->p[i];
		TEEC_SharedMemory *parent;
		size_t tee_size = p->u.memref.size;

		switch (st->types[i]) {
		case TEEC_VALUE_OUTPUT:
		case TEEC_VALUE_INOUT:
			pp->value.a = (uint32_t)p->u.value.a;
			pp->value.b = (uint32_t)p->u.value.b;
			break;
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			if (st->bounce[i] && tee_size <= pp->tmpref.size)
				memcpy(pp->tmpref.buffer, st->bounce[i]->va,
				       tee_size);
			pp->tmpref.size = tee_size;
			break;
		case TEEC_MEMREF_WHOLE:
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			parent = pp->memref.parent;
			if (p->type == TG_OPTEE_PARAM_MEMREF_INPUT)
				break;
			if (parent->shadow_buffer) {
				size_t offs = p->u.memref.offs;
				size_t len = p->u.memref.size;

				if (offs <= parent->size &&
				    len <= parent->size - offs)
					memcpy((uint8_t *)parent->buffer + offs,
					       (uint8_t *)parent
							       ->shadow_buffer +
						       offs,
					       len);
			}
			pp->memref.size = tee_size;
			break;
		default:
			break;
		}
	}
}

static uint32_t new_cancel_id(TEEC_Context *ctx)
{
	uint32_t id = __atomic_add_fetch(&ctx->next_cancel_id, 1,
					 __ATOMIC_RELAXED);

	return id ? id
		  : __atomic_add_fetch(&ctx->next_cancel_id, 1,
				       __ATOMIC_RELAXED);
}

TEEC_Result TEEC_OpenSession(TEEC_Context *context, TEEC_Session *session,
			     const TEEC_UUID *destination,
			     uint32_t connectionMethod,
			     const void *connectionData,
			     TEEC_Operation *operation, uint32_t *returnOrigin)
{
	struct tg_optee_result res = { TEEC_SUCCESS, TEEC_ORIGIN_API, 0 };
	uint8_t uuid[16];
	struct op_state st;
	uint32_t sid = 0, cancel_id = 0;
	TEEC_Result r;

	if (returnOrigin)
		*returnOrigin = TEEC_ORIGIN_API;
	if (!context || !context->drv || !session || !destination)
		return TEEC_ERROR_BAD_PARAMETERS;
	switch (connectionMethod) {
	case TEEC_LOGIN_PUBLIC:
	case TEEC_LOGIN_USER:
	case TEEC_LOGIN_APPLICATION:
	case TEEC_LOGIN_USER_APPLICATION:
		if (connectionData)
			return TEEC_ERROR_BAD_PARAMETERS;
		break;
	case TEEC_LOGIN_GROUP:
	case TEEC_LOGIN_GROUP_APPLICATION:
		if (!connectionData)
			return TEEC_ERROR_BAD_PARAMETERS;
		break;
	default:
		return TEEC_ERROR_NOT_SUPPORTED;
	}
	uuid_to_octets(uuid, destination);
	r = op_prepare(context, operation, &st);
	if (r) {
		op_release(context, &st);
		return r;
	}
	if (operation) {
		cancel_id = operation->cancel_id = new_cancel_id(context);
		operation->session = session;
		/* A cancel during the open names session 0. */
		session->ctx = context;
		session->session_id = 0;
		__atomic_store_n(&operation->started, 1, __ATOMIC_RELEASE);
	}
	tg_optee_open_session(
		context->drv, uuid, connectionMethod, NULL, cancel_id, st.p,
		operation ? TEEC_CONFIG_PAYLOAD_REF_COUNT : 0, &sid, &res);
	op_finish(operation, &st);
	op_release(context, &st);
	if (returnOrigin)
		*returnOrigin = res.origin;
	if (res.ret == TEEC_SUCCESS) {
		session->ctx = context;
		session->session_id = sid;
	}
	return res.ret;
}

void TEEC_CloseSession(TEEC_Session *session)
{
	struct tg_optee_result res;

	if (!session || !session->ctx || !session->ctx->drv)
		return;
	tg_optee_close_session(session->ctx->drv, session->session_id, &res);
	session->ctx = NULL;
}

TEEC_Result TEEC_InvokeCommand(TEEC_Session *session, uint32_t commandID,
			       TEEC_Operation *operation,
			       uint32_t *returnOrigin)
{
	struct tg_optee_result res = { TEEC_SUCCESS, TEEC_ORIGIN_API, 0 };
	uint32_t cancel_id = 0;
	struct op_state st;
	TEEC_Context *ctx;
	TEEC_Result r;

	if (returnOrigin)
		*returnOrigin = TEEC_ORIGIN_API;
	if (!session || !session->ctx || !session->ctx->drv)
		return TEEC_ERROR_BAD_PARAMETERS;
	ctx = session->ctx;
	r = op_prepare(ctx, operation, &st);
	if (r) {
		op_release(ctx, &st);
		return r;
	}
	if (operation) {
		cancel_id = operation->cancel_id = new_cancel_id(ctx);
		operation->session = session;
		__atomic_store_n(&operation->started, 1, __ATOMIC_RELEASE);
	}
	tg_optee_invoke(ctx->drv, session->session_id, commandID, cancel_id,
			st.p, operation ? TEEC_CONFIG_PAYLOAD_REF_COUNT : 0,
			&res);
	op_finish(operation, &st);
	op_release(ctx, &st);
	if (returnOrigin)
		*returnOrigin = res.origin;
	return res.ret;
}

void TEEC_RequestCancellation(TEEC_Operation *operation)
{
	struct tg_optee_result res;
	TEEC_Session *s;

	if (!operation ||
	    !__atomic_load_n(&operation->started, __ATOMIC_ACQUIRE))
		return;
	s = operation->session;
	if (!s || !s->ctx || !s->ctx->drv)
		return;
	tg_optee_cancel(s->ctx->drv, s->session_id, operation->cancel_id, &res);
}

TEEC_Result TEEC_RegisterSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem)
{
	struct tg_optee_shm *shm;
	uint32_t tee_ret = TEEC_SUCCESS;
	int rc;

	if (!context || !context->drv || !sharedMem)
		return TEEC_ERROR_BAD_PARAMETERS;
	if ((!sharedMem->buffer && sharedMem->size) ||
	    !(sharedMem->flags & (TEEC_MEM_INPUT | TEEC_MEM_OUTPUT)) ||
	    (sharedMem->flags & ~(uint32_t)(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT)))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (sharedMem->size > TEEC_CONFIG_SHAREDMEM_MAX_SIZE)
		return TEEC_ERROR_OUT_OF_MEMORY;
	sharedMem->shadow_buffer = NULL;
	sharedMem->allocated = false;
	rc = TG_EFAULT;
	if (sharedMem->size)
		rc = tg_optee_shm_register_buf(context->drv, sharedMem->buffer,
					       sharedMem->size, &shm, &tee_ret);
	if (rc == TG_EFAULT) {
		/* Not RAM the driver can describe: shadow it. */
		rc = tg_optee_shm_alloc(context->drv, sharedMem->size, true,
					&shm, &tee_ret);
		if (!rc)
			sharedMem->shadow_buffer = shm->va;
	}
	if (rc)
		return rc == TG_ENOMEM		 ? TEEC_ERROR_OUT_OF_MEMORY
		       : tee_ret != TEEC_SUCCESS ? tee_ret
						 : TEEC_ERROR_GENERIC;
	sharedMem->shm = shm;
	sharedMem->ctx = context;
	sharedMem->alloced_size = sharedMem->size;
	sharedMem->id = __atomic_fetch_add(&next_shm_id, 1, __ATOMIC_RELAXED);
	return TEEC_SUCCESS;
}

TEEC_Result TEEC_AllocateSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem)
{
	struct tg_optee_shm *shm;
	uint32_t tee_ret = TEEC_SUCCESS;
	int rc;

	if (!context || !context->drv || !sharedMem)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (!(sharedMem->flags & (TEEC_MEM_INPUT | TEEC_MEM_OUTPUT)) ||
	    (sharedMem->flags & ~(uint32_t)(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT)))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (sharedMem->size > TEEC_CONFIG_SHAREDMEM_MAX_SIZE)
		return TEEC_ERROR_OUT_OF_MEMORY;
	rc = tg_optee_shm_alloc(context->drv, sharedMem->size, true, &shm,
				&tee_ret);
	if (rc)
		return rc == TG_ENOMEM		 ? TEEC_ERROR_OUT_OF_MEMORY
		       : tee_ret != TEEC_SUCCESS ? tee_ret
						 : TEEC_ERROR_GENERIC;
	sharedMem->buffer = shm->va;
	sharedMem->shadow_buffer = NULL;
	sharedMem->shm = shm;
	sharedMem->ctx = context;
	sharedMem->allocated = true;
	sharedMem->alloced_size = shm->size;
	sharedMem->id = __atomic_fetch_add(&next_shm_id, 1, __ATOMIC_RELAXED);
	return TEEC_SUCCESS;
}

void TEEC_ReleaseSharedMemory(TEEC_SharedMemory *sharedMemory)
{
	if (!sharedMemory || !sharedMemory->shm)
		return;
	tg_optee_shm_free(sharedMemory->shm);
	sharedMemory->shm = NULL;
	sharedMemory->shadow_buffer = NULL;
	if (sharedMemory->allocated) {
		sharedMemory->buffer = NULL;
		sharedMemory->size = 0;
	}
	sharedMemory->allocated = false;
	sharedMemory->ctx = NULL;
	sharedMemory->id = -1;
}
