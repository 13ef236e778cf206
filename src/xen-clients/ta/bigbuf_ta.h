/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bigbuf TA (src/xen-clients/ta): a user TA that reads every byte of
 * one in/out memref and writes their 8-bit sum into byte 0, the same
 * contract as the invoke-tests PTA's command 1 (TGC_CMD_PARAMS). A user TA
 * maps the buffer into its own address space; the PTA maps it into
 * OP-TEE's core, whose 32 MiB window for shared memory caps what a PTA
 * can read whole (docs/xen.md 5.2).
 */
#ifndef TG_BIGBUF_TA_H
#define TG_BIGBUF_TA_H

#define TG_BIGBUF_TA_UUID                                              \
	{                                                              \
		0xde0e5419, 0x9606, 0x43d7,                            \
		{                                                      \
			0x92, 0x44, 0x0d, 0xf4, 0x1a, 0x0b, 0x56, 0x33 \
		}                                                      \
	}
#define TG_BIGBUF_TA_CMD_SUM 1

#endif
