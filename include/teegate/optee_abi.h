/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OP-TEE normal-world ABI: SMC function ids, return codes, capabilities,
 * message layout and RPC commands.
 *
 * Written from the facts in docs/optee-abi.md (OP-TEE OS 4.x). This header
 * is shared by the mediator, the OP-TEE model and the guest driver: it only
 * defines numbers and fixed layouts, so it is safe in freestanding code.
 */
#ifndef TEEGATE_OPTEE_ABI_H
#define TEEGATE_OPTEE_ABI_H

#include <stdint.h>

/* ---- SMC calling convention ------------------------------------------ */

#define OPTEE_SMC_FAST_CALL 0x80000000u
#define OPTEE_SMC_64 0x40000000u
#define OPTEE_SMC_OWNER_SHIFT 24
#define OPTEE_SMC_OWNER_MASK 0x3Fu
#define OPTEE_SMC_FUNC_MASK 0xFFFFu
#define OPTEE_SMC_OWNER_TRUSTED_OS 50u
#define OPTEE_SMC_OWNER_TRUSTED_OS_END 63u

#define OPTEE_SMC_OWNER(id) \
	(((id) >> OPTEE_SMC_OWNER_SHIFT) & OPTEE_SMC_OWNER_MASK)
#define OPTEE_SMC_IS_FAST(id) (((id)&OPTEE_SMC_FAST_CALL) != 0)
#define OPTEE_SMC_IS_64(id) (((id)&OPTEE_SMC_64) != 0)

#define OPTEE_SMC_FAST(n) (0xB2000000u + (n))
#define OPTEE_SMC_STD(n) (0x32000000u + (n))
#define OPTEE_SMC_API(n) (0xBF00FF00u + (n))

/* Function ids (every id OP-TEE defines for the SMC ABI). */
#define OPTEE_SMC_CALLS_COUNT OPTEE_SMC_API(0x00)
#define OPTEE_SMC_CALLS_UID OPTEE_SMC_API(0x01)
#define OPTEE_SMC_CALLS_REVISION OPTEE_SMC_API(0x03)
#define OPTEE_SMC_GET_OS_UUID OPTEE_SMC_FAST(0)
#define OPTEE_SMC_GET_OS_REVISION OPTEE_SMC_FAST(1)
#define OPTEE_SMC_CALL_RETURN_FROM_RPC OPTEE_SMC_STD(3)
#define OPTEE_SMC_CALL_WITH_ARG OPTEE_SMC_STD(4)
#define OPTEE_SMC_GET_SHM_CONFIG OPTEE_SMC_FAST(7)
#define OPTEE_SMC_L2CC_MUTEX OPTEE_SMC_FAST(8)
#define OPTEE_SMC_EXCHANGE_CAPABILITIES OPTEE_SMC_FAST(9)
#define OPTEE_SMC_DISABLE_SHM_CACHE OPTEE_SMC_FAST(10)
#define OPTEE_SMC_ENABLE_SHM_CACHE OPTEE_SMC_FAST(11)
#define OPTEE_SMC_BOOT_SECONDARY OPTEE_SMC_FAST(12)
#define OPTEE_SMC_VM_CREATED OPTEE_SMC_FAST(13)
#define OPTEE_SMC_VM_DESTROYED OPTEE_SMC_FAST(14)
#define OPTEE_SMC_GET_THREAD_COUNT OPTEE_SMC_FAST(15)
#define OPTEE_SMC_ENABLE_ASYNC_NOTIF OPTEE_SMC_FAST(16)
#define OPTEE_SMC_GET_ASYNC_NOTIF_VALUE OPTEE_SMC_FAST(17)
#define OPTEE_SMC_CALL_WITH_RPC_ARG OPTEE_SMC_STD(0x12)
#define OPTEE_SMC_CALL_WITH_REGD_ARG OPTEE_SMC_STD(0x13)
#define OPTEE_SMC_GET_PROTMEM_CONFIG OPTEE_SMC_FAST(20)

/* CALLS_UID answer: 384fb3e0-e7f8-11e3-af63-0002a5d5c51b. */
#define OPTEE_MSG_UID_0 0x384fb3e0u
#define OPTEE_MSG_UID_1 0xe7f811e3u
#define OPTEE_MSG_UID_2 0xaf630002u
#define OPTEE_MSG_UID_3 0xa5d5c51bu
/* GET_OS_UUID answer: 486178e0-e7f8-11e3-bc5e-0002a5d5c51b. */
#define OPTEE_MSG_OS_UUID_0 0x486178e0u
#define OPTEE_MSG_OS_UUID_1 0xe7f811e3u
#define OPTEE_MSG_OS_UUID_2 0xbc5e0002u
#define OPTEE_MSG_OS_UUID_3 0xa5d5c51bu
#define OPTEE_MSG_REVISION_MAJOR 2u
#define OPTEE_MSG_REVISION_MINOR 0u

/* Return codes in a0. */
#define OPTEE_SMC_RETURN_OK 0x0u
#define OPTEE_SMC_RETURN_ETHREAD_LIMIT 0x1u
#define OPTEE_SMC_RETURN_EBUSY 0x2u
#define OPTEE_SMC_RETURN_ERESUME 0x3u
#define OPTEE_SMC_RETURN_EBADADDR 0x4u
#define OPTEE_SMC_RETURN_EBADCMD 0x5u
#define OPTEE_SMC_RETURN_ENOMEM 0x6u
#define OPTEE_SMC_RETURN_ENOTAVAIL 0x7u
#define OPTEE_SMC_RETURN_UNKNOWN_FUNCTION 0xFFFFFFFFu

/* RPC returns: a0 = 0xFFFF0000 | func, a3 = OP-TEE thread id. */
#define OPTEE_SMC_RETURN_RPC_PREFIX 0xFFFF0000u
#define OPTEE_SMC_RETURN_RPC_PREFIX_MASK 0xFFFF0000u
#define OPTEE_SMC_RETURN_IS_RPC(a0)                               \
	((((uint32_t)(a0)) & OPTEE_SMC_RETURN_RPC_PREFIX_MASK) == \
		 OPTEE_SMC_RETURN_RPC_PREFIX &&                   \
	 ((uint32_t)(a0)) != OPTEE_SMC_RETURN_UNKNOWN_FUNCTION)
#define OPTEE_SMC_RPC_FUNC(a0) (((uint32_t)(a0)) & 0xFFFFu)
#define OPTEE_SMC_RPC_FUNC_ALLOC 0u
#define OPTEE_SMC_RPC_FUNC_FREE 2u
#define OPTEE_SMC_RPC_FUNC_FOREIGN_INTR 4u
#define OPTEE_SMC_RPC_FUNC_CMD 5u
#define OPTEE_SMC_RETURN_RPC_ALLOC (OPTEE_SMC_RETURN_RPC_PREFIX | 0u)
#define OPTEE_SMC_RETURN_RPC_FREE (OPTEE_SMC_RETURN_RPC_PREFIX | 2u)
#define OPTEE_SMC_RETURN_RPC_FOREIGN_INTR (OPTEE_SMC_RETURN_RPC_PREFIX | 4u)
#define OPTEE_SMC_RETURN_RPC_CMD (OPTEE_SMC_RETURN_RPC_PREFIX | 5u)

/* Cache attribute passed in a3 of CALL_WITH_ARG. */
#define OPTEE_SMC_SHM_CACHED 1u

/* Normal world -> secure world capabilities (EXCHANGE_CAPABILITIES a1). */
#define OPTEE_SMC_NSEC_CAP_UNIPROCESSOR (1u << 0)

/* Secure world -> normal world capabilities. */
#define OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM (1u << 0)
#define OPTEE_SMC_SEC_CAP_UNREGISTERED_SHM (1u << 1)
#define OPTEE_SMC_SEC_CAP_DYNAMIC_SHM (1u << 2)
#define OPTEE_SMC_SEC_CAP_VIRTUALIZATION (1u << 3)
#define OPTEE_SMC_SEC_CAP_MEMREF_NULL (1u << 4)
#define OPTEE_SMC_SEC_CAP_ASYNC_NOTIF (1u << 5)
#define OPTEE_SMC_SEC_CAP_RPC_ARG (1u << 6)
#define OPTEE_SMC_SEC_CAP_RPMB_PROBE (1u << 7)
#define OPTEE_SMC_SEC_CAP_PROTMEM (1u << 8)
#define OPTEE_SMC_SEC_CAP_DYNAMIC_PROTMEM (1u << 9)

/* GET_ASYNC_NOTIF_VALUE a2 flags. */
#define OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID (1u << 0)
#define OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING (1u << 1)
/* Notification value reserved for "do bottom half". */
#define OPTEE_SMC_ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF 0u

/* ---- Messages ---------------------------------------------------------- */

/*
 * struct optee_msg_param - one message parameter, 32 bytes.
 * The union member is selected by the type in attr bits 7:0.
 */
struct optee_msg_param_tmem {
	uint64_t buf_ptr;
	uint64_t size;
	uint64_t shm_ref;
};

struct optee_msg_param_rmem {
	uint64_t offs;
	uint64_t size;
	uint64_t shm_ref;
};

struct optee_msg_param_value {
	uint64_t a;
	uint64_t b;
	uint64_t c;
};

struct optee_msg_param {
	uint64_t attr;
	union {
		struct optee_msg_param_tmem tmem;
		struct optee_msg_param_rmem rmem;
		struct optee_msg_param_value value;
		uint8_t octets[24];
	} u;
};

/* struct optee_msg_arg - message header, 32 bytes, then num_params params. */
struct optee_msg_arg {
	uint32_t cmd;
	uint32_t func;
	uint32_t session;
	uint32_t cancel_id;
	uint32_t pad;
	uint32_t ret;
	uint32_t ret_origin;
	uint32_t num_params;
	struct optee_msg_param params[];
};

#define OPTEE_MSG_ARG_HDR_SIZE 32u
#define OPTEE_MSG_PARAM_SIZE 32u
#define OPTEE_MSG_GET_ARG_SIZE(n) \
	(OPTEE_MSG_ARG_HDR_SIZE + OPTEE_MSG_PARAM_SIZE * (uint32_t)(n))
/* At most 127 parameters: the argument must fit in one 4 KiB page. */
#define OPTEE_MSG_MAX_NUM_PARAMS 127u
/* OP-TEE's RPC argument has this many parameters (THREAD_RPC_MAX_NUM_PARAMS). */
#define OPTEE_MSG_RPC_NUM_PARAMS 4u

/* Parameter attribute: type in bits 7:0. */
#define OPTEE_MSG_ATTR_TYPE_NONE 0x0u
#define OPTEE_MSG_ATTR_TYPE_VALUE_INPUT 0x1u
#define OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT 0x2u
#define OPTEE_MSG_ATTR_TYPE_VALUE_INOUT 0x3u
#define OPTEE_MSG_ATTR_TYPE_RMEM_INPUT 0x5u
#define OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT 0x6u
#define OPTEE_MSG_ATTR_TYPE_RMEM_INOUT 0x7u
#define OPTEE_MSG_ATTR_TYPE_TMEM_INPUT 0x9u
#define OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT 0xAu
#define OPTEE_MSG_ATTR_TYPE_TMEM_INOUT 0xBu
#define OPTEE_MSG_ATTR_TYPE_MASK 0xFFu
#define OPTEE_MSG_ATTR_META (1u << 8)
#define OPTEE_MSG_ATTR_NONCONTIG (1u << 9)
#define OPTEE_MSG_ATTR_CACHE_SHIFT 16
#define OPTEE_MSG_ATTR_CACHE_MASK 0x7u
/* Every attr bit that may legally be set; anything else is an error. */
#define OPTEE_MSG_ATTR_VALID_MASK                         \
	(OPTEE_MSG_ATTR_TYPE_MASK | OPTEE_MSG_ATTR_META | \
	 OPTEE_MSG_ATTR_NONCONTIG |                       \
	 ((uint64_t)OPTEE_MSG_ATTR_CACHE_MASK << OPTEE_MSG_ATTR_CACHE_SHIFT))

/* Page lists for NONCONTIG memrefs. */
#define OPTEE_MSG_NONCONTIG_PAGE_SIZE 4096u
#define OPTEE_MSG_PAGE_SHIFT 12u
#define OPTEE_MSG_PAGE_MASK 0xFFFu
/* 511 page addresses per list page, then the next list page at 4088. */
#define OPTEE_MSG_PAGELIST_ENTRIES 511u
#define OPTEE_MSG_PAGELIST_NEXT_OFFSET 4088u

/* Message commands. */
#define OPTEE_MSG_CMD_OPEN_SESSION 0u
#define OPTEE_MSG_CMD_INVOKE_COMMAND 1u
#define OPTEE_MSG_CMD_CLOSE_SESSION 2u
#define OPTEE_MSG_CMD_CANCEL 3u
#define OPTEE_MSG_CMD_REGISTER_SHM 4u
#define OPTEE_MSG_CMD_UNREGISTER_SHM 5u
#define OPTEE_MSG_CMD_DO_BOTTOM_HALF 6u
#define OPTEE_MSG_CMD_STOP_ASYNC_NOTIF 7u
/* 8..11: protected-memory commands (not offered to guests). */
#define OPTEE_MSG_CMD_FIRST_PROTMEM 8u
#define OPTEE_MSG_CMD_LAST_PROTMEM 11u

/* Login methods (OPEN_SESSION param 1 value.c). */
#define OPTEE_MSG_LOGIN_PUBLIC 0x0u
#define OPTEE_MSG_LOGIN_USER 0x1u
#define OPTEE_MSG_LOGIN_GROUP 0x2u
#define OPTEE_MSG_LOGIN_APPLICATION 0x4u
#define OPTEE_MSG_LOGIN_APPLICATION_USER 0x5u
#define OPTEE_MSG_LOGIN_APPLICATION_GROUP 0x6u
#define OPTEE_MSG_LOGIN_REE_KERNEL 0x80000000u

/* ---- RPC commands (in the RPC argument's cmd) -------------------------- */

#define OPTEE_RPC_CMD_LOAD_TA 0u
#define OPTEE_RPC_CMD_RPMB 1u
#define OPTEE_RPC_CMD_FS 2u
#define OPTEE_RPC_CMD_GET_TIME 3u
#define OPTEE_RPC_CMD_NOTIFICATION 4u
#define OPTEE_RPC_CMD_SUSPEND 5u
#define OPTEE_RPC_CMD_SHM_ALLOC 6u
#define OPTEE_RPC_CMD_SHM_FREE 7u
#define OPTEE_RPC_CMD_GPROF 9u
#define OPTEE_RPC_CMD_SOCKET 10u
#define OPTEE_RPC_CMD_FTRACE 11u
#define OPTEE_RPC_CMD_SUPP_PLUGIN 12u
#define OPTEE_RPC_CMD_BENCH_REG 20u
#define OPTEE_RPC_CMD_I2C_TRANSFER 21u
#define OPTEE_RPC_CMD_RPMB_PROBE_RESET 22u
#define OPTEE_RPC_CMD_RPMB_PROBE_NEXT 23u
#define OPTEE_RPC_CMD_RPMB_FRAMES 24u

#define OPTEE_RPC_NOTIFICATION_WAIT 0u
#define OPTEE_RPC_NOTIFICATION_SEND 1u

/* SHM_ALLOC / SHM_FREE: value.a = type, value.b = size or cookie. */
#define OPTEE_RPC_SHM_TYPE_APPL 0u
#define OPTEE_RPC_SHM_TYPE_KERNEL 1u
#define OPTEE_RPC_SHM_TYPE_GLOBAL 2u

/* ---- GlobalPlatform error codes used in optee_msg_arg.ret -------------- */

#define TEEC_SUCCESS 0x00000000u
#define TEEC_ERROR_GENERIC 0xFFFF0000u
#define TEEC_ERROR_ACCESS_DENIED 0xFFFF0001u
#define TEEC_ERROR_CANCEL 0xFFFF0002u
#define TEEC_ERROR_BAD_FORMAT 0xFFFF0005u
#define TEEC_ERROR_BAD_PARAMETERS 0xFFFF0006u
#define TEEC_ERROR_BAD_STATE 0xFFFF0007u
#define TEEC_ERROR_ITEM_NOT_FOUND 0xFFFF0008u
#define TEEC_ERROR_NOT_IMPLEMENTED 0xFFFF0009u
#define TEEC_ERROR_NOT_SUPPORTED 0xFFFF000Au
#define TEEC_ERROR_OUT_OF_MEMORY 0xFFFF000Cu
#define TEEC_ERROR_BUSY 0xFFFF000Du
#define TEEC_ERROR_COMMUNICATION 0xFFFF000Eu
#define TEEC_ERROR_SECURITY 0xFFFF000Fu
#define TEEC_ERROR_SHORT_BUFFER 0xFFFF0010u
#define TEEC_ERROR_TARGET_DEAD 0xFFFF3024u

#define TEEC_ORIGIN_API 1u
#define TEEC_ORIGIN_COMMS 2u
#define TEEC_ORIGIN_TEE 3u
#define TEEC_ORIGIN_TRUSTED_APP 4u

/* ---- Pseudo-TAs present in OP-TEE's QEMU build ------------------------- */

/* invoke-tests PTA d96a5b40-c3e5-21e3-8794-1002a5d5c61b */
#define PTA_INVOKE_TESTS_UUID                                               \
	{                                                                   \
		0xd9, 0x6a, 0x5b, 0x40, 0xc3, 0xe5, 0x21, 0xe3, 0x87, 0x94, \
			0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b                  \
	}
#define PTA_INVOKE_TESTS_CMD_TRACE 0u
#define PTA_INVOKE_TESTS_CMD_PARAMS 1u
#define PTA_INVOKE_TESTS_CMD_AES_PERF 9u
#define PTA_INVOKE_TESTS_CMD_MEMREF_NULL 10u

/* stats PTA d96a5b40-e2c7-b1af-8794-1002a5d5c61b */
#define PTA_STATS_UUID                                                      \
	{                                                                   \
		0xd9, 0x6a, 0x5b, 0x40, 0xe2, 0xc7, 0xb1, 0xaf, 0x87, 0x94, \
			0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b                  \
	}
#define PTA_STATS_CMD_ALLOC 1u
#define PTA_STATS_CMD_GET_TIME 4u

/* device-enumeration PTA 7011a688-ddde-4053-a5a9-7b3c4ddf13b8 */
#define PTA_DEVICE_ENUM_UUID                                                \
	{                                                                   \
		0x70, 0x11, 0xa6, 0x88, 0xdd, 0xde, 0x40, 0x53, 0xa5, 0xa9, \
			0x7b, 0x3c, 0x4d, 0xdf, 0x13, 0xb8                  \
	}
#define PTA_DEVICE_ENUM_CMD_GET_DEVICES 0u
#define PTA_DEVICE_ENUM_CMD_GET_DEVICES_SUPP 1u
#define PTA_DEVICE_ENUM_CMD_GET_DEVICES_RPMB 2u

#endif /* TEEGATE_OPTEE_ABI_H */
