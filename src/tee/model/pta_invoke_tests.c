// SPDX-License-Identifier: BSD-2-Clause
/*
 * invoke-tests pseudo-TA (d96a5b40-c3e5-21e3-8794-1002a5d5c61b), with the
 * commands and results of OP-TEE's (docs/optee-abi.md).
 */
#include "model_internal.h"

/*
 * OP-TEE's core test commands, answered as OP-TEE 4.10's QEMU v8 build
 * answers them (compared by tests/qemu/test_optee.c): the self tests and
 * the DT driver tests pass, the hash-tree test passes when called without
 * parameters, lockdep and transfer-list tests are not built in.
 */
#define CMD_SELF_TESTS 2u
#define CMD_FS_HTREE 6u
#define CMD_LOCKDEP 8u
#define CMD_DT_DRIVER_TESTS 11u
#define CMD_TRANSFER_LIST_TESTS 12u

/* AES_PERF stand-in: the model has no AES; this keyed XOR is documented. */
#define AES_PERF_STANDIN_KEY 0xA5u
#define BOUNCE_SIZE 4096u

/* Index of the only parameter of @type when all others are NONE, or -1. */
static int only_param_of_type(const struct model_thread *t,
			      enum ta_param_type type)
{
	int found = -1;

	for (uint32_t i = 0; i < MODEL_TA_NUM_PARAMS; i++) {
		if (t->params[i].type == TA_PARAM_NONE)
			continue;
		if (t->params[i].type != type || found >= 0)
			return -1;
		found = (int)i;
	}
	return found;
}

/* The 8-bit sum of a memref's bytes, written into its byte 0. */
uint32_t tgm_ta_memref_sum(struct tg_model *m, struct model_thread *t,
			   struct ta_param *p)
{
	uint8_t buf[BOUNCE_SIZE];
	uint8_t sum = 0;

	if (p->mem_is_null || !p->mem.size)
		return TEEC_ERROR_BAD_PARAMETERS;
	for (uint64_t off = 0; off < p->mem.size; off += BOUNCE_SIZE) {
		uint64_t n = p->mem.size - off;

		if (n > BOUNCE_SIZE)
			n = BOUNCE_SIZE;
		if (!tgm_ta_mem_read(m, t, p, off, buf, n))
			return TEEC_ERROR_BAD_PARAMETERS;
		for (uint64_t i = 0; i < n; i++)
			sum = (uint8_t)(sum + buf[i]);
	}
	if (!tgm_ta_mem_write(m, t, p, 0, &sum, 1))
		return TEEC_ERROR_BAD_PARAMETERS;
	return TEEC_SUCCESS;
}

static uint32_t cmd_params(struct tg_model *m, struct model_thread *t)
{
	uint32_t n_in = 0, n_out = 0;
	struct ta_param *out = NULL;
	int i;

	i = only_param_of_type(t, TA_PARAM_VALUE_INOUT);
	if (i >= 0) {
		struct ta_param *p = &t->params[i];

		p->value.a = (uint32_t)(p->value.a + p->value.b);
		return TEEC_SUCCESS;
	}
	i = only_param_of_type(t, TA_PARAM_MEMREF_INOUT);
	if (i >= 0)
		return tgm_ta_memref_sum(m, t, &t->params[i]);

	for (uint32_t k = 0; k < MODEL_TA_NUM_PARAMS; k++) {
		if (t->params[k].type == TA_PARAM_VALUE_INPUT) {
			n_in++;
		} else if (t->params[k].type == TA_PARAM_VALUE_OUTPUT) {
			n_out++;
			out = &t->params[k];
		}
	}
	if (n_in != 3 || n_out != 1)
		return TEEC_ERROR_BAD_PARAMETERS;
	out->value.a = 0;
	out->value.b = 0;
	for (uint32_t k = 0; k < MODEL_TA_NUM_PARAMS; k++) {
		if (t->params[k].type != TA_PARAM_VALUE_INPUT)
			continue;
		out->value.a = (uint32_t)(out->value.a + t->params[k].value.a);
		out->value.b = (uint32_t)(out->value.b + t->params[k].value.b);
	}
	return TEEC_SUCCESS;
}

static uint32_t cmd_memref_null(struct model_thread *t)
{
	const struct ta_param *p = &t->params[0];

	if (ta_param_types(t) != TA_PARAM_TYPES(TA_PARAM_MEMREF_INOUT, 0, 0, 0))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (!p->mem_is_null || p->mem.size)
		return TEEC_ERROR_BAD_PARAMETERS;
	return TEEC_SUCCESS;
}

/*
 * AES_PERF: params 0 and 1 NONE or VALUE_INPUT (ignored), param 2 memref
 * input, param 3 memref output (OUTPUT or INOUT) at least as big.
 */
static uint32_t cmd_aes_perf(struct tg_model *m, struct model_thread *t)
{
	struct ta_param *in = &t->params[2], *out = &t->params[3];
	uint8_t buf[BOUNCE_SIZE];
	uint64_t size = in->mem.size;

	for (uint32_t i = 0; i < 2; i++)
		if (t->params[i].type != TA_PARAM_NONE &&
		    t->params[i].type != TA_PARAM_VALUE_INPUT)
			return TEEC_ERROR_BAD_PARAMETERS;
	if ((in->type != TA_PARAM_MEMREF_INPUT &&
	     in->type != TA_PARAM_MEMREF_INOUT) ||
	    (out->type != TA_PARAM_MEMREF_OUTPUT &&
	     out->type != TA_PARAM_MEMREF_INOUT))
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
		for (uint64_t i = 0; i < n; i++)
			buf[i] ^= AES_PERF_STANDIN_KEY;
		if (!tgm_ta_mem_write(m, t, out, off, buf, n))
			return TEEC_ERROR_BAD_PARAMETERS;
	}
	out->mem.size = size;
	return TEEC_SUCCESS;
}

static enum step_result invoke_tests_invoke(struct tg_model *m,
					    struct model_thread *t)
{
	switch (t->ta_cmd) {
	case PTA_INVOKE_TESTS_CMD_TRACE:
		return ta_done(t, TEEC_SUCCESS);
	case PTA_INVOKE_TESTS_CMD_PARAMS:
		return ta_done(t, cmd_params(m, t));
	case PTA_INVOKE_TESTS_CMD_MEMREF_NULL:
		return ta_done(t, cmd_memref_null(t));
	case PTA_INVOKE_TESTS_CMD_AES_PERF:
		return ta_done(t, cmd_aes_perf(m, t));
	case CMD_SELF_TESTS:
	case CMD_DT_DRIVER_TESTS:
		return ta_done(t, TEEC_SUCCESS);
	case CMD_FS_HTREE:
		return ta_done(t, ta_param_types(t) ? TEEC_ERROR_BAD_PARAMETERS
						    : TEEC_SUCCESS);
	case CMD_LOCKDEP:
	case CMD_TRANSFER_LIST_TESTS:
		return ta_done(t, TEEC_ERROR_NOT_SUPPORTED);
	default:
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	}
}

const struct ta_desc tgm_pta_invoke_tests = {
	.name = "invoke_tests.pta",
	.uuid = PTA_INVOKE_TESTS_UUID,
	.invoke = invoke_tests_invoke,
};
