// SPDX-License-Identifier: BSD-2-Clause
/*
 * TAs that exist only in the model (see model_tas.h): bigbuf for large
 * buffers, bigbuf-sum (the model's copy of src/xen-clients/ta), yield for
 * preemption, notify for notifications.
 */
#include "model_internal.h"
#include "model_tas.h"

#define BOUNCE_SIZE 4096u

/* ---- bigbuf ------------------------------------------------------------ */

static uint32_t bigbuf_xor(struct tg_model *m, struct model_thread *t)
{
	struct ta_param *in = &t->params[0], *out = &t->params[1];
	uint64_t size = in->mem.size;
	uint8_t buf[BOUNCE_SIZE];
	uint32_t sum = 0;

	if (ta_param_types(t) != TA_PARAM_TYPES(TA_PARAM_MEMREF_INPUT,
						TA_PARAM_MEMREF_OUTPUT,
						TA_PARAM_VALUE_OUTPUT, 0))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (out->mem.size < size) {
		out->mem.size = size;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	for (uint64_t off = 0; off < size; off += BOUNCE_SIZE) {
		uint64_t n = size - off;

		if (n > BOUNCE_SIZE)
			n = BOUNCE_SIZE;
		if (!tgm_ta_mem_read(m, t, in, off, buf, n))
			return TEEC_ERROR_BAD_PARAMETERS;
		for (uint64_t i = 0; i < n; i++) {
			sum += buf[i];
			buf[i] ^= MODEL_TA_BIGBUF_XOR_BYTE;
		}
		if (!tgm_ta_mem_write(m, t, out, off, buf, n))
			return TEEC_ERROR_BAD_PARAMETERS;
	}
	out->mem.size = size;
	t->params[2].value.a = sum;
	t->params[2].value.b = (uint32_t)size;
	return TEEC_SUCCESS;
}

static enum step_result bigbuf_invoke(struct tg_model *m,
				      struct model_thread *t)
{
	if (t->ta_cmd != MODEL_TA_BIGBUF_CMD_XOR)
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	return ta_done(t, bigbuf_xor(m, t));
}

const struct ta_desc tgm_ta_bigbuf = {
	.name = "bigbuf",
	.uuid = MODEL_TA_BIGBUF_UUID,
	.invoke = bigbuf_invoke,
};

/* ---- bigbuf-sum -------------------------------------------------------- */

static enum step_result bigbuf_sum_invoke(struct tg_model *m,
					  struct model_thread *t)
{
	if (t->ta_cmd != MODEL_TA_BIGBUF_SUM_CMD)
		return ta_done(t, TEEC_ERROR_NOT_SUPPORTED);
	if (ta_param_types(t) !=
	    TA_PARAM_TYPES(TA_PARAM_MEMREF_INOUT, 0, 0, 0))
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	return ta_done(t, tgm_ta_memref_sum(m, t, &t->params[0]));
}

const struct ta_desc tgm_ta_bigbuf_sum = {
	.name = "bigbuf-sum",
	.uuid = MODEL_TA_BIGBUF_SUM_UUID,
	.invoke = bigbuf_sum_invoke,
};

/* ---- yield ------------------------------------------------------------- */

/* t->step counts the FOREIGN_INTR returns done so far. */
static enum step_result yield_invoke(struct tg_model *m, struct model_thread *t)
{
	struct ta_param *p = &t->params[0];

	(void)m;
	if (t->ta_cmd != MODEL_TA_YIELD_CMD_YIELD ||
	    ta_param_types(t) !=
		    TA_PARAM_TYPES(TA_PARAM_VALUE_INOUT, 0, 0, 0) ||
	    p->value.a > MODEL_TA_YIELD_MAX)
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	if (t->session->cancel_requested)
		return ta_done(t, TEEC_ERROR_CANCEL);
	if (t->step < p->value.a) {
		t->step++;
		return STEP_FOREIGN_INTR;
	}
	p->value.b = p->value.a;
	return ta_done(t, TEEC_SUCCESS);
}

const struct ta_desc tgm_ta_yield = {
	.name = "yield",
	.uuid = MODEL_TA_YIELD_UUID,
	.invoke = yield_invoke,
};

/* ---- notify ------------------------------------------------------------ */

static enum step_result notify_invoke(struct tg_model *m,
				      struct model_thread *t)
{
	uint64_t value = t->params[0].value.a;

	if (t->step == 1)
		return ta_done(t, t->rpc.ret);
	if (ta_param_types(t) !=
		    TA_PARAM_TYPES(TA_PARAM_VALUE_INPUT, 0, 0, 0) ||
	    value > MODEL_MAX_NOTIF_VALUE)
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);

	switch (t->ta_cmd) {
	case MODEL_TA_NOTIFY_CMD_ASYNC:
		tgm_raise_async_notif(m, t->guest, (uint32_t)value);
		return ta_done(t, TEEC_SUCCESS);
	case MODEL_TA_NOTIFY_CMD_SEND:
	case MODEL_TA_NOTIFY_CMD_WAIT:
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_NOTIFICATION, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
		t->rpc.params[0].u.value.a =
			t->ta_cmd == MODEL_TA_NOTIFY_CMD_SEND
				? OPTEE_RPC_NOTIFICATION_SEND
				: OPTEE_RPC_NOTIFICATION_WAIT;
		t->rpc.params[0].u.value.b = value;
		t->step = 1;
		return STEP_RPC_CMD;
	default:
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	}
}

const struct ta_desc tgm_ta_notify = {
	.name = "notify",
	.uuid = MODEL_TA_NOTIFY_UUID,
	.invoke = notify_invoke,
};
