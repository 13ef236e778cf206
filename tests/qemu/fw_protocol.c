// SPDX-License-Identifier: BSD-2-Clause
/*
 * fw_protocol.c - which protocol TEEGATE_OPTEE_FIRMWARE speaks (see
 * fw_protocol.h). Built with FW_PROTOCOL_MAIN it is the program
 * tg-test-fw-protocol, for the tests that are shell lines:
 *
 *   tg-test-fw-protocol optee|ffa   exit 0 when TEEGATE_OPTEE_FIRMWARE
 *                                   speaks it, 77 after one line if not
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teegate/ffa_abi.h>

#include "fw_protocol.h"
#include "qemu.h"

int tgt_need_protocol(enum tg_protocol want)
{
	struct tg_qemu_config qc = {
		.firmware_dir = getenv("TEEGATE_OPTEE_FIRMWARE"),
		.cpus = 1,
		.timeout_ms = 120000,
	};
	struct tg_qemu *q = NULL;
	enum tg_protocol have;
	uint64_t r[8] = { FFA_VERSION, FFA_VERSION_1_1 };
	char err[4096];

	if (!qc.firmware_dir)
		return 0;
	if (tg_qemu_start(&qc, &q, err, sizeof(err)))
		return 0;
	/*
	 * An FF-A SPMC answers a version (bit 31 clear); behind TF-A's
	 * OP-TEE dispatcher the call is unknown to OP-TEE (-1).
	 */
	if (tg_qemu_smc(q, 0, r)) {
		tg_qemu_stop(q);
		return 0;
	}
	tg_qemu_stop(q);
	have = (uint32_t)r[0] >> 31 ? TG_PROTOCOL_OPTEE : TG_PROTOCOL_FFA;
	if (have == want)
		return 0;
	printf("TEEGATE_OPTEE_FIRMWARE=%s speaks %s (FFA_VERSION: 0x%llx), "
	       "this test is for %s: skipped\n",
	       qc.firmware_dir,
	       have == TG_PROTOCOL_FFA ? "FF-A" : "OP-TEE's SMC ABI",
	       (unsigned long long)(uint32_t)r[0],
	       want == TG_PROTOCOL_FFA ? "FF-A" : "OP-TEE's SMC ABI");
	return 77;
}

#ifdef FW_PROTOCOL_MAIN
int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "optee") && strcmp(argv[1], "ffa"))) {
		fprintf(stderr, "usage: %s optee|ffa\n", argv[0]);
		return 2;
	}
	return tgt_need_protocol(strcmp(argv[1], "ffa") ? TG_PROTOCOL_OPTEE
							: TG_PROTOCOL_FFA);
}
#endif
