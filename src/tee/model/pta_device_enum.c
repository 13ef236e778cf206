// SPDX-License-Identifier: BSD-2-Clause
/*
 * device-enumeration pseudo-TA (7011a688-ddde-4053-a5a9-7b3c4ddf13b8).
 * GET_DEVICES lists the pseudo-TAs flagged as TEE-bus devices: in the QEMU
 * build that is the invoke-tests PTA. No TA asks for the supplicant
 * (GET_DEVICES_SUPP) or for RPMB (GET_DEVICES_RPMB): those lists are empty.
 */
#include "model_internal.h"

#define DEVICE_UUID_SIZE 16u

static const uint8_t bus_devices[][DEVICE_UUID_SIZE] = {
	PTA_INVOKE_TESTS_UUID,
};

/*
 * Fill @out with @count UUIDs (RFC 4122 octets). When it is too small the
 * UUIDs that fit are written and SHORT_BUFFER gives the needed size.
 */
static uint32_t fill_uuid_list(struct tg_model *m, struct model_thread *t,
			       struct ta_param *out,
			       const uint8_t (*uuids)[DEVICE_UUID_SIZE],
			       uint32_t count)
{
	uint64_t room = out->mem.size;
	uint64_t needed = (uint64_t)count * DEVICE_UUID_SIZE;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t pos = (uint64_t)i * DEVICE_UUID_SIZE;

		if (pos + DEVICE_UUID_SIZE > room)
			break;
		if (!tgm_ta_mem_write(m, t, out, pos, uuids[i],
				      DEVICE_UUID_SIZE))
			return TEEC_ERROR_BAD_PARAMETERS;
	}
	out->mem.size = needed;
	return needed > room ? TEEC_ERROR_SHORT_BUFFER : TEEC_SUCCESS;
}

static enum step_result device_enum_invoke(struct tg_model *m,
					   struct model_thread *t)
{
	uint32_t count;

	switch (t->ta_cmd) {
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES:
		count = sizeof(bus_devices) / sizeof(bus_devices[0]);
		break;
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES_SUPP:
	case PTA_DEVICE_ENUM_CMD_GET_DEVICES_RPMB:
		count = 0;
		break;
	default:
		return ta_done(t, TEEC_ERROR_NOT_IMPLEMENTED);
	}
	if (ta_param_types(t) !=
	    TA_PARAM_TYPES(TA_PARAM_MEMREF_OUTPUT, 0, 0, 0))
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	return ta_done(t,
		       fill_uuid_list(m, t, &t->params[0], bus_devices, count));
}

const struct ta_desc tgm_pta_device_enum = {
	.name = "device.pta",
	.uuid = PTA_DEVICE_ENUM_UUID,
	.invoke = device_enum_invoke,
};
