/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GlobalPlatform TEE Client API (v1.0), for code running inside a teegate
 * guest. Names, types, macros and constants are those of the GP
 * specification (and of OP-TEE's libteec), so that client programs written
 * for libteec compile unchanged. Fields marked "implementation" are this
 * implementation's own; clients must not touch them (as with libteec).
 *
 * TEEC_InitializeContext() binds the context to the calling thread's vCPU
 * (tg_vcpu_self()) and the guest's OP-TEE driver (see optee_guest.h).
 */
#ifndef TEE_CLIENT_API_H
#define TEE_CLIENT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TEEC_SUCCESS, TEEC_ERROR_* and TEEC_ORIGIN_* come from the ABI header. */
#include <teegate/optee_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TEEC_CONFIG_PAYLOAD_REF_COUNT 4
#define TEEC_CONFIG_SHAREDMEM_MAX_SIZE ((size_t)64 << 20)

/* Parameter types (TEEC_Operation.paramTypes, 4 bits each). */
#define TEEC_NONE 0x00000000
#define TEEC_VALUE_INPUT 0x00000001
#define TEEC_VALUE_OUTPUT 0x00000002
#define TEEC_VALUE_INOUT 0x00000003
#define TEEC_MEMREF_TEMP_INPUT 0x00000005
#define TEEC_MEMREF_TEMP_OUTPUT 0x00000006
#define TEEC_MEMREF_TEMP_INOUT 0x00000007
#define TEEC_MEMREF_WHOLE 0x0000000C
#define TEEC_MEMREF_PARTIAL_INPUT 0x0000000D
#define TEEC_MEMREF_PARTIAL_OUTPUT 0x0000000E
#define TEEC_MEMREF_PARTIAL_INOUT 0x0000000F

/* TEEC_SharedMemory.flags */
#define TEEC_MEM_INPUT 0x00000001
#define TEEC_MEM_OUTPUT 0x00000002

/* Login methods (TEEC_OpenSession connectionMethod). */
#define TEEC_LOGIN_PUBLIC 0x00000000
#define TEEC_LOGIN_USER 0x00000001
#define TEEC_LOGIN_GROUP 0x00000002
#define TEEC_LOGIN_APPLICATION 0x00000004
#define TEEC_LOGIN_USER_APPLICATION 0x00000005
#define TEEC_LOGIN_GROUP_APPLICATION 0x00000006

/* Error codes the ABI header does not have. */
#ifndef TEEC_ERROR_EXCESS_DATA
#define TEEC_ERROR_EXCESS_DATA 0xFFFF0004u
#endif
#ifndef TEEC_ERROR_NO_DATA
#define TEEC_ERROR_NO_DATA 0xFFFF000Bu
#endif
#ifndef TEEC_ERROR_EXTERNAL_CANCEL
#define TEEC_ERROR_EXTERNAL_CANCEL 0xFFFF0011u
#endif
#ifndef TEEC_ERROR_TIMEOUT
#define TEEC_ERROR_TIMEOUT 0xFFFF3001u
#endif
#ifndef TEEC_ERROR_OVERFLOW
#define TEEC_ERROR_OVERFLOW 0xFFFF300Fu
#endif
#ifndef TEEC_ERROR_STORAGE_NO_SPACE
#define TEEC_ERROR_STORAGE_NO_SPACE 0xFFFF3041u
#endif

#define TEEC_PARAM_TYPES(p0, p1, p2, p3) \
	((p0) | ((p1) << 4) | ((p2) << 8) | ((p3) << 12))
#define TEEC_PARAM_TYPE_GET(p, i) (((p) >> ((i)*4)) & 0xF)

typedef uint32_t TEEC_Result;

struct tg_optee;
struct tg_optee_shm;

typedef struct {
	uint32_t timeLow;
	uint16_t timeMid;
	uint16_t timeHiAndVersion;
	uint8_t clockSeqAndNode[8];
} TEEC_UUID;

typedef struct {
	/* implementation */
	struct tg_optee *drv;
	bool reg_mem;
	bool memref_null;
	/*
	 * Send temporary memrefs as registered memory (REGISTER_SHM, RMEM,
	 * UNREGISTER_SHM), as Linux's libteec does, instead of NONCONTIG
	 * TMEM page lists. Off by default; set it after
	 * TEEC_InitializeContext() for OP-TEE 4.10.0 and older, which
	 * leak every NONCONTIG TMEM object (docs/real-optee.md).
	 */
	bool register_tmp;
	/* the next operation's cancel id, never 0: per context, so that
	 * guests sharing a process (thread guests) share no counter */
	uint32_t next_cancel_id;
} TEEC_Context;

typedef struct {
	void *buffer;
	size_t size;
	uint32_t flags;
	/* implementation */
	int id;
	size_t alloced_size;
	void *shadow_buffer; /* guest pages the TEE sees, or NULL */
	struct tg_optee_shm *shm;
	TEEC_Context *ctx;
	bool allocated;
} TEEC_SharedMemory;

typedef struct {
	void *buffer;
	size_t size;
} TEEC_TempMemoryReference;

typedef struct {
	TEEC_SharedMemory *parent;
	size_t size;
	size_t offset;
} TEEC_RegisteredMemoryReference;

typedef struct {
	uint32_t a;
	uint32_t b;
} TEEC_Value;

typedef union {
	TEEC_TempMemoryReference tmpref;
	TEEC_RegisteredMemoryReference memref;
	TEEC_Value value;
} TEEC_Parameter;

typedef struct {
	/* implementation */
	TEEC_Context *ctx;
	uint32_t session_id;
} TEEC_Session;

typedef struct {
	uint32_t started;
	uint32_t paramTypes;
	TEEC_Parameter params[TEEC_CONFIG_PAYLOAD_REF_COUNT];
	/* implementation */
	TEEC_Session *session;
	uint32_t cancel_id;
} TEEC_Operation;

TEEC_Result TEEC_InitializeContext(const char *name, TEEC_Context *context);
void TEEC_FinalizeContext(TEEC_Context *context);
TEEC_Result TEEC_OpenSession(TEEC_Context *context, TEEC_Session *session,
			     const TEEC_UUID *destination,
			     uint32_t connectionMethod,
			     const void *connectionData,
			     TEEC_Operation *operation, uint32_t *returnOrigin);
void TEEC_CloseSession(TEEC_Session *session);
TEEC_Result TEEC_InvokeCommand(TEEC_Session *session, uint32_t commandID,
			       TEEC_Operation *operation,
			       uint32_t *returnOrigin);
void TEEC_RequestCancellation(TEEC_Operation *operation);
TEEC_Result TEEC_RegisterSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem);
TEEC_Result TEEC_AllocateSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem);
void TEEC_ReleaseSharedMemory(TEEC_SharedMemory *sharedMemory);

#ifdef __cplusplus
}
#endif

#endif /* TEE_CLIENT_API_H */
