// SPDX-License-Identifier: BSD-2-Clause
/*
 * victim: a guest that keeps working while another attacks, and checks
 * that nothing of its own was touched.
 *
 *   victim --seconds S [--pages P]
 *
 * It registers P pages (default 4) of its own holding tg_victim_canary()
 * and keeps them registered (shared with the TEE: the pages an attacker
 * would name), then loops: a value call (a + b, checked), a temporary
 * memref the TEE sums (checked), and a check of every canary byte. A
 * changed byte is reported once and put back. It stops after S seconds,
 * or earlier when asked (SIGTERM), and reports.
 *
 *   TG-VICTIM-BUFFER va=0x.. pa=0x..|unknown pages=P
 *   TG-VICTIM-CORRUPTED offset=N was=0x.. now=0x..
 *   TG-VICTIM-PROGRESS secs=S calls=N verified=N errors=E corruptions=C
 *   TG-VICTIM-SUMMARY calls=N verified=N errors=E corruptions=C
 *       result=PASS|FAIL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/victim_canary.h"
#include "clients.h"

static const TEEC_UUID invoke_tests = TGC_INVOKE_TESTS_UUID;

int tgc_victim(int argc, char **argv)
{
	static const char *const keys[] = { "--seconds", "--pages", NULL };
	uint64_t seconds = 30, pages = 4, pa, calls = 0, verified = 0,
		 errors = 0, corruptions = 0, t_next, t0, deadline;
	TEEC_SharedMemory shm;
	TEEC_Context ctx;
	TEEC_Session s;
	uint8_t *canary, work[8192];
	uint32_t origin, k = 0, i;
	size_t size;
	TEEC_Result r;

	if (!tgc_check_opts(argc, argv, keys, "victim --seconds S [--pages P]"))
		return 2;
	if ((tgc_opt(argc, argv, "--seconds") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--seconds"), &seconds)) ||
	    (tgc_opt(argc, argv, "--pages") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--pages"), &pages)) ||
	    !pages || pages > 1024) {
		tgc_printf("TG-USAGE victim: --seconds is a number, --pages "
			   "1..1024\n");
		return 2;
	}
	size = (size_t)pages * 4096;
	canary = tgc_alloc(size);
	if (!canary)
		return 1;
	for (i = 0; i < size; i++)
		canary[i] = tg_victim_canary(i);
	r = TEEC_InitializeContext(NULL, &ctx);
	if (r == TEEC_SUCCESS)
		r = TEEC_OpenSession(&ctx, &s, &invoke_tests, TEEC_LOGIN_PUBLIC,
				     NULL, NULL, &origin);
	if (r != TEEC_SUCCESS) {
		tgc_printf("TG-VICTIM-FAILED open the invoke-tests PTA: "
			   "0x%08x\n",
			   r);
		return 1;
	}
	memset(&shm, 0, sizeof(shm));
	shm.buffer = canary;
	shm.size = size;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	r = TEEC_RegisterSharedMemory(&ctx, &shm);
	if (r != TEEC_SUCCESS)
		tgc_printf("TG-VICTIM-WARNING the canary buffer is not "
			   "registered: 0x%08x\n",
			   r);
	if (tgc_phys_of(canary, &pa))
		tgc_printf("TG-VICTIM-BUFFER va=%p pa=0x%llx pages=%llu\n",
			   (void *)canary, (unsigned long long)pa,
			   (unsigned long long)pages);
	else
		tgc_printf("TG-VICTIM-BUFFER va=%p pa=unknown pages=%llu\n",
			   (void *)canary, (unsigned long long)pages);
	t0 = tgc_now_ns();
	deadline = t0 + seconds * 1000000000ull;
	t_next = t0 + 5000000000ull;
	while (tgc_now_ns() < deadline && !tgc_stop_requested()) {
		TEEC_Operation op;
		uint8_t want;

		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].value.a = 7 * k + 3;
		op.params[0].value.b = k;
		calls++;
		if (TEEC_InvokeCommand(&s, TGC_CMD_PARAMS, &op, &origin) ==
			    TEEC_SUCCESS &&
		    op.params[0].value.a == 8 * k + 3)
			verified++;
		else
			errors++;
		for (i = 0; i < sizeof(work); i++)
			work[i] = (uint8_t)(i * 17 + k);
		want = tgc_sum8(work, sizeof(work));
		memset(&op, 0, sizeof(op));
		op.paramTypes =
			TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
		op.params[0].tmpref.buffer = work;
		op.params[0].tmpref.size = sizeof(work);
		calls++;
		if (TEEC_InvokeCommand(&s, TGC_CMD_PARAMS, &op, &origin) ==
			    TEEC_SUCCESS &&
		    work[0] == want)
			verified++;
		else
			errors++;
		for (i = 0; i < size; i++)
			if (canary[i] != tg_victim_canary(i)) {
				tgc_printf("TG-VICTIM-CORRUPTED offset=%u "
					   "was=0x%02x now=0x%02x\n",
					   i, tg_victim_canary(i), canary[i]);
				canary[i] = tg_victim_canary(i);
				corruptions++;
			}
		k++;
		if (tgc_now_ns() >= t_next) {
			t_next += 5000000000ull;
			tgc_printf(
				"TG-VICTIM-PROGRESS secs=%llu calls=%llu "
				"verified=%llu errors=%llu corruptions=%llu\n",
				(unsigned long long)((tgc_now_ns() - t0) /
						     1000000000ull),
				(unsigned long long)calls,
				(unsigned long long)verified,
				(unsigned long long)errors,
				(unsigned long long)corruptions);
		}
	}
	if (r == TEEC_SUCCESS)
		TEEC_ReleaseSharedMemory(&shm);
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
	tgc_free(canary, size);
	tgc_printf("TG-VICTIM-SUMMARY calls=%llu verified=%llu errors=%llu "
		   "corruptions=%llu result=%s\n",
		   (unsigned long long)calls, (unsigned long long)verified,
		   (unsigned long long)errors, (unsigned long long)corruptions,
		   !errors && !corruptions && verified ? "PASS" : "FAIL");
	return errors || corruptions || !verified ? 1 : 0;
}
