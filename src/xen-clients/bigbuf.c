// SPDX-License-Identifier: BSD-2-Clause
/*
 * bigbuf: buffers of each size, registered (TEEC_RegisterSharedMemory over
 * the client's own pages), allocated (TEEC_AllocateSharedMemory) and
 * temporary (TEEC_MEMREF_TEMP_INOUT); the reader (--target) reads every
 * byte and writes their 8-bit sum into byte 0, which must match. Then
 * --held buffers registered at once (Xen's mediator tracks at most 16),
 * each used in an invoke while all are held.
 *
 *   bigbuf [--sizes 516K,520K,1M,4M,16M,64M] [--modes registered,allocated,temp]
 *          [--held 20] [--target pta|ta]
 *
 * --target pta (default): OP-TEE's invoke-tests pseudo TA, which maps the
 * buffer into OP-TEE's core (a 32 MiB window in OP-TEE 4.10); ta: the
 * project's bigbuf TA (ta/), a user TA that maps it into its own space
 * (tee-supplicant loads it).
 *
 *   TG-BIGBUF mode=M size=BYTES kib=K setup=0xRES invoke=0xRES origin=O
 *       check=ok|bad|- ms=T target=pta|ta result=PASS|FAIL
 *   TG-BIGBUF-HELD count=N registered=R invoked=I first_failure=K
 *       res=0xRES result=PASS|FAIL
 *   TG-BIGBUF-SUMMARY passed=P failed=F
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "ta/bigbuf_ta.h"

#define DEFAULT_SIZES "516K,520K,1M,4M,16M,64M"
#define DEFAULT_MODES "registered,allocated,temp"

static const TEEC_UUID invoke_tests = TGC_INVOKE_TESTS_UUID;
static const TEEC_UUID bigbuf_ta = TG_BIGBUF_TA_UUID;
static const char *target = "pta";

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131u + (i >> 12) * 7u + seed);
}

/* PARAMS on one memref parameter; 0 or the TEEC result. */
static TEEC_Result sum_invoke(TEEC_Session *s, TEEC_Operation *op,
			      uint32_t *origin)
{
	*origin = 0;
	return TEEC_InvokeCommand(s,
				  strcmp(target, "ta") ? TGC_CMD_PARAMS
						       : TG_BIGBUF_TA_CMD_SUM,
				  op, origin);
}

static bool one(TEEC_Context *ctx, TEEC_Session *s, const char *mode,
		uint64_t size, uint32_t seed)
{
	TEEC_Result setup = TEEC_SUCCESS, inv = TEEC_ERROR_GENERIC;
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	uint32_t origin = 0;
	uint8_t *buf = NULL, *data = NULL, want = 0;
	const char *check = "-";
	uint64_t t0 = tgc_now_ns();
	bool ok = false;

	memset(&shm, 0, sizeof(shm));
	memset(&op, 0, sizeof(op));
	if (!strcmp(mode, "allocated")) {
		shm.size = size;
		shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
		setup = TEEC_AllocateSharedMemory(ctx, &shm);
		data = setup == TEEC_SUCCESS ? shm.buffer : NULL;
	} else {
		buf = tgc_alloc(size);
		if (!buf)
			setup = TEEC_ERROR_OUT_OF_MEMORY; /* in the client */
		data = buf;
		if (buf && !strcmp(mode, "registered")) {
			shm.buffer = buf;
			shm.size = size;
			shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
			setup = TEEC_RegisterSharedMemory(ctx, &shm);
		}
	}
	if (setup == TEEC_SUCCESS && data) {
		fill(data, size, seed);
		want = tgc_sum8(data, size);
		if (!strcmp(mode, "temp")) {
			op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT,
							 TEEC_NONE, TEEC_NONE,
							 TEEC_NONE);
			op.params[0].tmpref.buffer = data;
			op.params[0].tmpref.size = size;
		} else {
			op.paramTypes =
				TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
			op.params[0].memref.parent = &shm;
		}
		inv = sum_invoke(s, &op, &origin);
		if (inv == TEEC_SUCCESS) {
			ok = data[0] == want;
			check = ok ? "ok" : "bad";
		}
	}
	if (setup == TEEC_SUCCESS && strcmp(mode, "temp"))
		TEEC_ReleaseSharedMemory(&shm);
	if (buf)
		tgc_free(buf, size);
	tgc_printf("TG-BIGBUF mode=%s size=%llu kib=%llu setup=0x%08x "
		   "invoke=0x%08x origin=%u check=%s ms=%llu target=%s "
		   "result=%s\n",
		   mode, (unsigned long long)size,
		   (unsigned long long)(size >> 10), setup,
		   setup == TEEC_SUCCESS ? inv : 0, origin, check,
		   (unsigned long long)((tgc_now_ns() - t0) / 1000000), target,
		   ok ? "PASS" : "FAIL");
	return ok;
}

/* @n registered 64 KiB buffers held at once, each then used. */
static bool held(TEEC_Context *ctx, TEEC_Session *s, uint32_t n)
{
	const size_t size = 64 << 10;
	TEEC_SharedMemory *shm = calloc(n, sizeof(*shm));
	uint8_t **buf = calloc(n, sizeof(*buf));
	uint32_t i, reg = 0, inv = 0, first = 0, origin;
	TEEC_Result res = TEEC_SUCCESS, r;
	bool ok;

	if (!shm || !buf) {
		free(shm);
		free(buf);
		return false;
	}
	for (i = 0; i < n; i++) {
		buf[i] = tgc_alloc(size);
		if (!buf[i]) {
			res = TEEC_ERROR_OUT_OF_MEMORY;
			break;
		}
		fill(buf[i], size, i);
		shm[i].buffer = buf[i];
		shm[i].size = size;
		shm[i].flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
		r = TEEC_RegisterSharedMemory(ctx, &shm[i]);
		if (r != TEEC_SUCCESS) {
			res = r;
			first = i + 1;
			tgc_free(buf[i], size);
			buf[i] = NULL;
			break;
		}
		reg++;
	}
	/* all of them are held now: use each */
	for (i = 0; i < reg; i++) {
		TEEC_Operation op;
		uint8_t want = tgc_sum8(buf[i], size);

		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm[i];
		r = sum_invoke(s, &op, &origin);
		if (r == TEEC_SUCCESS && buf[i][0] == want)
			inv++;
		else if (res == TEEC_SUCCESS)
			res = r ? r : TEEC_ERROR_GENERIC;
	}
	for (i = 0; i < reg; i++) {
		TEEC_ReleaseSharedMemory(&shm[i]);
		tgc_free(buf[i], size);
	}
	ok = reg == n && inv == n;
	tgc_printf("TG-BIGBUF-HELD count=%u registered=%u invoked=%u "
		   "first_failure=%u res=0x%08x result=%s\n",
		   n, reg, inv, first, res, ok ? "PASS" : "FAIL");
	free(shm);
	free(buf);
	return ok;
}

int tgc_bigbuf(int argc, char **argv)
{
	static const char *const keys[] = { "--sizes", "--modes", "--held",
					    "--target", NULL };
	const char *sizes = tgc_opt(argc, argv, "--sizes");
	const char *modes = tgc_opt(argc, argv, "--modes");
	const char *held_s = tgc_opt(argc, argv, "--held");
	const char *target_s = tgc_opt(argc, argv, "--target");
	char list[256], mlist[128], *sz, *sp1, *m, *sp2;
	uint32_t passed = 0, failed = 0, seed = 1, origin = 0;
	uint64_t nheld = 20;
	TEEC_Context ctx;
	TEEC_Session s;
	TEEC_Result r;

	if (!tgc_check_opts(argc, argv, keys,
			    "bigbuf [--sizes 516K,1M,...] [--modes "
			    "registered,allocated,temp] [--held N] "
			    "[--target pta|ta]"))
		return 2;
	if (target_s && strcmp(target_s, "pta") && strcmp(target_s, "ta")) {
		tgc_printf("TG-USAGE bigbuf: --target is pta (OP-TEE's "
			   "invoke-tests PTA) or ta (the bigbuf TA), not '%s'\n",
			   target_s);
		return 2;
	}
	target = target_s ? target_s : "pta";
	if (held_s && !tgc_parse_size(held_s, &nheld)) {
		tgc_printf("TG-USAGE bigbuf: --held takes a number, not '%s'\n",
			   held_s);
		return 2;
	}
	snprintf(list, sizeof(list), "%s", sizes ? sizes : DEFAULT_SIZES);
	snprintf(mlist, sizeof(mlist), "%s", modes ? modes : DEFAULT_MODES);
	r = TEEC_InitializeContext(NULL, &ctx);
	if (r != TEEC_SUCCESS) {
		tgc_printf("TG-BIGBUF-FAILED initialize context: 0x%08x\n", r);
		return 1;
	}
	r = TEEC_OpenSession(&ctx, &s,
			     strcmp(target, "ta") ? &invoke_tests : &bigbuf_ta,
			     TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
	if (r != TEEC_SUCCESS) {
		tgc_printf("TG-BIGBUF-FAILED open the %s: 0x%08x origin %u%s\n",
			   strcmp(target, "ta") ? "invoke-tests PTA"
						: "bigbuf TA",
			   r, origin,
			   strcmp(target, "ta") ? ""
						: " (is tee-supplicant running, "
						  "with the TA in "
						  "/lib/optee_armtz?)");
		TEEC_FinalizeContext(&ctx);
		return 1;
	}
	for (sz = strtok_r(list, ",", &sp1); sz;
	     sz = strtok_r(NULL, ",", &sp1)) {
		uint64_t size;
		char mcopy[128];

		if (!tgc_parse_size(sz, &size) || !size) {
			tgc_printf("TG-USAGE bigbuf: '%s' is not a size (e.g. "
				   "516K, 4M)\n",
				   sz);
			failed++;
			continue;
		}
		snprintf(mcopy, sizeof(mcopy), "%s", mlist);
		for (m = strtok_r(mcopy, ",", &sp2); m;
		     m = strtok_r(NULL, ",", &sp2)) {
			if (strcmp(m, "registered") && strcmp(m, "allocated") &&
			    strcmp(m, "temp")) {
				tgc_printf("TG-USAGE bigbuf: unknown mode '%s' "
					   "(registered, allocated, temp)\n",
					   m);
				failed++;
				continue;
			}
			if (one(&ctx, &s, m, size, seed++))
				passed++;
			else
				failed++;
		}
	}
	if (nheld) {
		if (held(&ctx, &s, (uint32_t)nheld))
			passed++;
		else
			failed++;
	}
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
	tgc_printf("TG-BIGBUF-SUMMARY passed=%u failed=%u\n", passed, failed);
	return failed ? 1 : 0;
}
