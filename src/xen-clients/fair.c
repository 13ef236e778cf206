// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fair sharing of OP-TEE's threads between guests.
 *
 *   fair-hog --threads N --seconds S [--kib K]
 *     N threads, each with its own context and session, invoke the
 *     invoke-tests PTA on a registered K KiB buffer (default 1024) in a
 *     loop: each call holds a secure thread while the TEE sums the buffer.
 *     TG-FAIR-HOG thread=I invokes=N errors=E busy=B last_error=0xRES
 *     TG-FAIR-HOG-SUMMARY threads=N invokes=N errors=E busy=B seconds=S
 *   (busy: TEEC_ERROR_BUSY answers, the TEE or the mediator out of threads)
 *
 *   fair-time --seconds S [--interval-ms M]
 *     times a simple invoke (one value, a + b, checked) every M ms
 *     (default 10) on one thread:
 *     TG-FAIR-TIME invokes=N errors=E p50_us=.. p90_us=.. p99_us=..
 *       max_us=.. mean_us=..
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients.h"

#define MAX_THREADS 64
#define MAX_SAMPLES 200000

static const TEEC_UUID invoke_tests = TGC_INVOKE_TESTS_UUID;

struct hog {
	uint32_t index;
	uint64_t deadline, kib;
	uint64_t invokes, errors, busy;
	TEEC_Result last_error;
};

static void hog_main(void *arg)
{
	struct hog *h = arg;
	size_t size = (size_t)h->kib << 10;
	TEEC_SharedMemory shm;
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t origin;
	TEEC_Result r;

	r = TEEC_InitializeContext(NULL, &ctx);
	if (r != TEEC_SUCCESS) {
		h->errors++;
		h->last_error = r;
		return;
	}
	r = TEEC_OpenSession(&ctx, &s, &invoke_tests, TEEC_LOGIN_PUBLIC, NULL,
			     NULL, &origin);
	if (r != TEEC_SUCCESS) {
		h->errors++;
		h->last_error = r;
		TEEC_FinalizeContext(&ctx);
		return;
	}
	memset(&shm, 0, sizeof(shm));
	shm.size = size;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	r = TEEC_AllocateSharedMemory(&ctx, &shm);
	if (r == TEEC_SUCCESS) {
		memset(shm.buffer, 1, size);
		while (tgc_now_ns() < h->deadline) {
			TEEC_Operation op;

			memset(&op, 0, sizeof(op));
			op.paramTypes =
				TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
			op.params[0].memref.parent = &shm;
			r = TEEC_InvokeCommand(&s, TGC_CMD_PARAMS, &op,
					       &origin);
			h->invokes++;
			if (r != TEEC_SUCCESS) {
				h->errors++;
				h->last_error = r;
				if (r == TEEC_ERROR_BUSY)
					h->busy++;
			}
		}
		TEEC_ReleaseSharedMemory(&shm);
	} else {
		h->errors++;
		h->last_error = r;
	}
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
}

int tgc_fair_hog(int argc, char **argv)
{
	static const char *const keys[] = { "--threads", "--seconds", "--kib",
					    NULL };
	uint64_t threads = 4, seconds = 10, kib = 1024, inv = 0, err = 0,
		 busy = 0;
	struct hog *h;
	int handle[MAX_THREADS];
	uint32_t i;

	if (!tgc_check_opts(argc, argv, keys,
			    "fair-hog --threads N --seconds S [--kib K]"))
		return 2;
	if ((tgc_opt(argc, argv, "--threads") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--threads"), &threads)) ||
	    (tgc_opt(argc, argv, "--seconds") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--seconds"), &seconds)) ||
	    (tgc_opt(argc, argv, "--kib") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--kib"), &kib)) ||
	    !threads || threads > MAX_THREADS || !kib) {
		tgc_printf("TG-USAGE fair-hog: --threads 1..%u, --seconds and "
			   "--kib are numbers\n",
			   MAX_THREADS);
		return 2;
	}
	h = calloc(threads, sizeof(*h));
	if (!h)
		return 1;
	for (i = 0; i < threads; i++) {
		h[i].index = i;
		h[i].kib = kib;
		h[i].deadline = tgc_now_ns() + seconds * 1000000000ull;
		handle[i] = tgc_spawn(hog_main, &h[i]);
		if (handle[i] < 0) {
			tgc_printf(
				"TG-FAIR-HOG-FAILED cannot start thread %u\n",
				i);
			threads = i;
			break;
		}
	}
	for (i = 0; i < threads; i++) {
		tgc_join(handle[i]);
		tgc_printf("TG-FAIR-HOG thread=%u invokes=%llu errors=%llu "
			   "busy=%llu last_error=0x%08x\n",
			   i, (unsigned long long)h[i].invokes,
			   (unsigned long long)h[i].errors,
			   (unsigned long long)h[i].busy, h[i].last_error);
		inv += h[i].invokes;
		err += h[i].errors;
		busy += h[i].busy;
	}
	tgc_printf("TG-FAIR-HOG-SUMMARY threads=%llu invokes=%llu errors=%llu "
		   "busy=%llu seconds=%llu\n",
		   (unsigned long long)threads, (unsigned long long)inv,
		   (unsigned long long)err, (unsigned long long)busy,
		   (unsigned long long)seconds);
	free(h);
	return err ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, unsigned int p)
{
	size_t i;

	if (!n)
		return 0;
	i = (n * p + 99) / 100;
	return v[i ? i - 1 : 0];
}

int tgc_fair_time(int argc, char **argv)
{
	static const char *const keys[] = { "--seconds", "--interval-ms",
					    NULL };
	uint64_t seconds = 10, interval = 10, deadline, sum = 0, errors = 0;
	uint64_t *lat;
	size_t n = 0;
	TEEC_Context ctx;
	TEEC_Session s;
	uint32_t origin, k = 0;
	TEEC_Result r;

	if (!tgc_check_opts(argc, argv, keys,
			    "fair-time --seconds S [--interval-ms M]"))
		return 2;
	if ((tgc_opt(argc, argv, "--seconds") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--seconds"), &seconds)) ||
	    (tgc_opt(argc, argv, "--interval-ms") &&
	     !tgc_parse_size(tgc_opt(argc, argv, "--interval-ms"),
			     &interval))) {
		tgc_printf("TG-USAGE fair-time: --seconds and --interval-ms "
			   "are numbers\n");
		return 2;
	}
	lat = calloc(MAX_SAMPLES, sizeof(*lat));
	if (!lat)
		return 1;
	r = TEEC_InitializeContext(NULL, &ctx);
	if (r == TEEC_SUCCESS)
		r = TEEC_OpenSession(&ctx, &s, &invoke_tests, TEEC_LOGIN_PUBLIC,
				     NULL, NULL, &origin);
	if (r != TEEC_SUCCESS) {
		tgc_printf("TG-FAIR-TIME-FAILED open the invoke-tests PTA: "
			   "0x%08x\n",
			   r);
		free(lat);
		return 1;
	}
	deadline = tgc_now_ns() + seconds * 1000000000ull;
	while (tgc_now_ns() < deadline && n < MAX_SAMPLES) {
		TEEC_Operation op;
		uint64_t t0, dt;
		struct timespec nap = { (time_t)(interval / 1000),
					(long)(interval % 1000) * 1000000 };

		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].value.a = 1000 + k;
		op.params[0].value.b = k++;
		t0 = tgc_now_ns();
		r = TEEC_InvokeCommand(&s, TGC_CMD_PARAMS, &op, &origin);
		dt = tgc_now_ns() - t0;
		if (r != TEEC_SUCCESS ||
		    op.params[0].value.a != 1000 + 2 * (k - 1))
			errors++;
		else {
			lat[n++] = dt / 1000;
			sum += dt / 1000;
		}
		if (interval)
			nanosleep(&nap, NULL);
	}
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&ctx);
	qsort(lat, n, sizeof(*lat), cmp_u64);
	tgc_printf("TG-FAIR-TIME invokes=%llu errors=%llu p50_us=%llu "
		   "p90_us=%llu p99_us=%llu max_us=%llu mean_us=%llu\n",
		   (unsigned long long)(n + errors), (unsigned long long)errors,
		   (unsigned long long)pct(lat, n, 50),
		   (unsigned long long)pct(lat, n, 90),
		   (unsigned long long)pct(lat, n, 99),
		   (unsigned long long)(n ? lat[n - 1] : 0),
		   (unsigned long long)(n ? sum / n : 0));
	free(lat);
	return errors || !n ? 1 : 0;
}
