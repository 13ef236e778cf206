// SPDX-License-Identifier: BSD-2-Clause
/*
 * The null secure world: answers the identification calls like OP-TEE and
 * UNKNOWN_FUNCTION to everything else. It measures the trap path alone.
 */
#include <teegate/optee_abi.h>

#include "internal.h"

void tg_null_tee_smc(void *ctx, uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	(void)ctx;
	switch (fid) {
	case OPTEE_SMC_CALLS_UID:
		regs[0] = OPTEE_MSG_UID_0;
		regs[1] = OPTEE_MSG_UID_1;
		regs[2] = OPTEE_MSG_UID_2;
		regs[3] = OPTEE_MSG_UID_3;
		break;
	case OPTEE_SMC_CALLS_REVISION:
		regs[0] = OPTEE_MSG_REVISION_MAJOR;
		regs[1] = OPTEE_MSG_REVISION_MINOR;
		break;
	case OPTEE_SMC_GET_OS_UUID:
		regs[0] = OPTEE_MSG_OS_UUID_0;
		regs[1] = OPTEE_MSG_OS_UUID_1;
		regs[2] = OPTEE_MSG_OS_UUID_2;
		regs[3] = OPTEE_MSG_OS_UUID_3;
		break;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
		regs[0] = OPTEE_SMC_RETURN_OK;
		break;
	default:
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		break;
	}
}
