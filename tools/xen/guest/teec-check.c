// SPDX-License-Identifier: BSD-2-Clause
/*
 * teec-check - a GlobalPlatform TEE Client API program for a Linux guest,
 * built against Debian's libteec1 (optee-client 3.19): shows that the
 * packaged client stack works through the mediator.
 *
 * 1. a value round trip with OP-TEE's invoke-tests pseudo TA;
 * 2. a 12 KiB registered memref the TEE reads byte by byte (it returns the
 *    byte sum), and the same through a temporary memref;
 * 3. opening a TA that does not exist: the TEE asks tee-supplicant to load
 *    it over an RPC, and the answer must be TEEC_ERROR_ITEM_NOT_FOUND.
 * Prints one line per check and "teec-check: N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tee_client_api.h>

#define CMD_PARAMS 1 /* PTA_INVOKE_TESTS_CMD_PARAMS */

static const TEEC_UUID invoke_tests = {
	0xd96a5b40, 0xc3e5, 0x21e3,
	{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
};
static const TEEC_UUID missing_ta = {
	0x7e9e0b1a, 0x0000, 0x4000,
	{ 0x80, 0x00, 0x74, 0x65, 0x65, 0x67, 0x61, 0x74 }
};

static int passed, failed;

static void report(int ok, const char *what, TEEC_Result res, uint32_t origin)
{
	printf("teec-check: %s %s (res 0x%08x origin %u)\n", ok ? "ok  " : "FAIL",
	       what, res, origin);
	if (ok)
		passed++;
	else
		failed++;
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

int main(void)
{
	TEEC_Context ctx;
	TEEC_Session sess;
	TEEC_Operation op;
	TEEC_SharedMemory shm;
	TEEC_Result res;
	uint32_t origin = 0;
	size_t size = 12 * 1024, i;
	uint8_t *buf, want;

	res = TEEC_InitializeContext(NULL, &ctx);
	report(res == TEEC_SUCCESS, "initialize context (/dev/tee0)", res, 0);
	if (res != TEEC_SUCCESS)
		goto out;
	res = TEEC_OpenSession(&ctx, &sess, &invoke_tests, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, &origin);
	report(res == TEEC_SUCCESS, "open session with the invoke-tests PTA",
	       res, origin);
	if (res != TEEC_SUCCESS)
		goto ctx;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 40;
	op.params[0].value.b = 2;
	res = TEEC_InvokeCommand(&sess, CMD_PARAMS, &op, &origin);
	report(res == TEEC_SUCCESS && op.params[0].value.a == 42,
	       "value round trip (40 + 2 = 42)", res, origin);

	memset(&shm, 0, sizeof(shm));
	shm.size = size;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	res = TEEC_AllocateSharedMemory(&ctx, &shm);
	report(res == TEEC_SUCCESS, "allocate 12 KiB shared memory", res, 0);
	if (res == TEEC_SUCCESS) {
		for (i = 0; i < size; i++)
			((uint8_t *)shm.buffer)[i] = (uint8_t)(i * 7 + 3);
		want = byte_sum(shm.buffer, size);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm;
		res = TEEC_InvokeCommand(&sess, CMD_PARAMS, &op, &origin);
		report(res == TEEC_SUCCESS &&
			       ((uint8_t *)shm.buffer)[0] == want,
		       "TEE reads a 12 KiB registered buffer (byte sum)", res,
		       origin);
		TEEC_ReleaseSharedMemory(&shm);
	}

	buf = malloc(size);
	if (buf) {
		for (i = 0; i < size; i++)
			buf[i] = (uint8_t)(i * 13 + 1);
		want = byte_sum(buf, size);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT,
						 TEEC_NONE, TEEC_NONE,
						 TEEC_NONE);
		op.params[0].tmpref.buffer = buf;
		op.params[0].tmpref.size = size;
		res = TEEC_InvokeCommand(&sess, CMD_PARAMS, &op, &origin);
		report(res == TEEC_SUCCESS && buf[0] == want,
		       "TEE reads a 12 KiB temporary buffer (byte sum)", res,
		       origin);
		free(buf);
	}
	TEEC_CloseSession(&sess);

	res = TEEC_OpenSession(&ctx, &sess, &missing_ta, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, &origin);
	report(res == TEEC_ERROR_ITEM_NOT_FOUND,
	       "a missing TA is looked up by tee-supplicant (ITEM_NOT_FOUND)",
	       res, origin);
	if (res == TEEC_SUCCESS)
		TEEC_CloseSession(&sess);
ctx:
	TEEC_FinalizeContext(&ctx);
out:
	printf("teec-check: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
