/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TAs built into the OP-TEE model only (real OP-TEE does not have them).
 * A guest opens them like any TA (login public); they open without any
 * RPC, as OP-TEE's early TAs do.
 */
#ifndef TEEGATE_MODEL_TAS_H
#define TEEGATE_MODEL_TAS_H

/*
 * bigbuf 7467626d-0001-4000-8000-746565676174
 * cmd 0 XOR: param 0 MEMREF_INPUT (any size up to 256 MiB, NULL allowed
 * with size 0), param 1 MEMREF_OUTPUT of at least the same size, param 2
 * VALUE_OUTPUT, param 3 NONE. Output byte i = input byte i ^ 0x5A; the
 * output size is set to the input size (SHORT_BUFFER with the needed size
 * when too small); value.a = 32-bit sum of the input bytes, value.b = the
 * input size (low 32 bits).
 */
#define MODEL_TA_BIGBUF_UUID                                                \
	{                                                                   \
		0x74, 0x67, 0x62, 0x6d, 0x00, 0x01, 0x40, 0x00, 0x80, 0x00, \
			0x74, 0x65, 0x65, 0x67, 0x61, 0x74                  \
	}
#define MODEL_TA_BIGBUF_CMD_XOR 0u
#define MODEL_TA_BIGBUF_XOR_BYTE 0x5Au

/*
 * bigbuf-sum de0e5419-9606-43d7-9244-0df41a0b5633: the model's copy of
 * the project's user TA for real OP-TEE (src/xen-clients/ta/bigbuf_ta.h).
 * cmd 1 SUM: param 0 MEMREF_INOUT (not empty), the rest NONE; writes the
 * 8-bit sum of its bytes into byte 0.
 */
#define MODEL_TA_BIGBUF_SUM_UUID                                            \
	{                                                                   \
		0xde, 0x0e, 0x54, 0x19, 0x96, 0x06, 0x43, 0xd7, 0x92, 0x44, \
			0x0d, 0xf4, 0x1a, 0x0b, 0x56, 0x33                  \
	}
#define MODEL_TA_BIGBUF_SUM_CMD 1u

/*
 * yield 7467626d-0002-4000-8000-746565676174
 * cmd 0 YIELD: param 0 VALUE_INOUT with value.a = N (at most
 * MODEL_TA_YIELD_MAX), the rest NONE. Returns N times with RPC
 * FOREIGN_INTR, then sets value.b = N. A CANCEL of the session while it
 * yields ends it with TEEC_ERROR_CANCEL.
 */
#define MODEL_TA_YIELD_UUID                                                 \
	{                                                                   \
		0x74, 0x67, 0x62, 0x6d, 0x00, 0x02, 0x40, 0x00, 0x80, 0x00, \
			0x74, 0x65, 0x65, 0x67, 0x61, 0x74                  \
	}
#define MODEL_TA_YIELD_CMD_YIELD 0u
#define MODEL_TA_YIELD_MAX 1000000u

/*
 * notify 7467626d-0003-4000-8000-746565676174
 * param 0 VALUE_INPUT with value.a = a notification value (at most 0x42),
 * the rest NONE.
 * cmd 0 ASYNC: make the value pending for the calling guest and raise the
 *   notification interrupt (dropped if the guest did not enable async
 *   notifications, as OP-TEE does).
 * cmd 1 SEND: RPC CMD NOTIFICATION (value.a = SEND, value.b = value).
 * cmd 2 WAIT: RPC CMD NOTIFICATION (value.a = WAIT, value.b = value).
 * The RPC's ret is the command's result.
 */
#define MODEL_TA_NOTIFY_UUID                                                \
	{                                                                   \
		0x74, 0x67, 0x62, 0x6d, 0x00, 0x03, 0x40, 0x00, 0x80, 0x00, \
			0x74, 0x65, 0x65, 0x67, 0x61, 0x74                  \
	}
#define MODEL_TA_NOTIFY_CMD_ASYNC 0u
#define MODEL_TA_NOTIFY_CMD_SEND 1u
#define MODEL_TA_NOTIFY_CMD_WAIT 2u

#endif /* TEEGATE_MODEL_TAS_H */
