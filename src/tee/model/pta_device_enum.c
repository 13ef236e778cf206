// SPDX-License-Identifier: BSD-2-Clause
/*
 * device-enumeration pseudo-TA (7011a688-ddde-4053-a5a9-7b3c4ddf13b8).
 * The model has no devices behind the TEE bus: every list is empty (a
 * valid answer; a QEMU build lists few or none).
 */
#include "model_internal.h"

#define DEVICE_UUID_SIZE 16u

/* Fill @out with @count UUIDs, or SHORT_BUFFER with the needed size. */
static uint32_t fill_uuid_list(struct tg_model *m, struct model_thread *t,
			       struct ta_param *out,
			       const uint8_t (*uuids)[DEVICE_UUID_SIZE],
			       uint32_t count)
{
	uint64_t needed = (uint64_t)count * DEVICE_UUID_SIZE;

	if (out->mem.size < needed) {
		out->mem.size = needed;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	for (uint32_t i = 0; i < count; i++)
		if (!ta_mem_write(m, t, out, (uint64_t)i * DEVICE_UUID_SIZE,
				  uuids[i], DEVICE_UUID_SIZE))
			return TEEC_ERROR_BAD_PARAMETERS;
	out->mem.size = needed;
	return TEEC_SUCCESS;
}

static enum step_result device_enum_invoke(struct tg_model *m,
					   struct model_thread *t)
{
	switch (t->ta_cmd) {
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES:
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES_SUPP:
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES_RPMB:
		break;
	default:
		return ta_done(t, TEEC_ERROR_NOT_IMPLEMENTED);
	}
	if (ta_param_types(t) !=
	    TA_PARAM_TYPES(TA_PARAM_MEMREF_OUTPUT, 0, 0, 0))
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	return ta_done(t, fill_uuid_list(m, t, &t->params[0], NULL, 0));
}

const struct ta_desc pta_device_enum = {
	.name = "device.pta",
	.uuid = PTA_DEVICE_ENUM_UUID,
	.invoke = device_enum_invoke,
};
