// SPDX-License-Identifier: BSD-2-Clause
/*
 * The well-behaved demo guest (tg_workload_mixed()): a loop of TEE client
 * operations through the GP TEE Client API, each one verified.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>
#include <teegate/workload.h>

#include "model_tas.h" /* UUIDs of the model's own TAs (optional TAs) */

static const TEEC_UUID invoke_tests_uuid = { 0xd96a5b40,
					     0xc3e5,
					     0x21e3,
					     { 0x87, 0x94, 0x10, 0x02, 0xa5,
					       0xd5, 0xc6, 0x1b } };
static const TEEC_UUID stats_uuid = { 0xd96a5b40,
				      0xe2c7,
				      0xb1af,
				      { 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5,
					0xc6, 0x1b } };
/* No TA has this UUID: opening it drives the LOAD_TA RPC path. */
static const TEEC_UUID absent_uuid = { 0x7e57da7a,
				       0x0000,
				       0x4000,
				       { 0x80, 0x00, 0x74, 0x65, 0x65, 0x67,
					 0x61, 0x74 } };

/* Per-vCPU state of the workload. */
struct wl {
	struct tg_vcpu *vcpu;
	struct tg_guest_counters *c;
	const struct tg_workload_opts *opts;
	uint64_t rng;
	TEEC_Context ctx;
	size_t big_size;     /* 0: no big-buffer step */
	int have_bigbuf;     /* bigbuf TA: -1 unknown, 0 no, 1 yes */
	int have_notify;     /* notify TA, same */
	uint32_t notif_base; /* notification values of this vCPU */
	int failed;
};

static const uint8_t bigbuf_octets[16] = MODEL_TA_BIGBUF_UUID;
static const uint8_t notify_octets[16] = MODEL_TA_NOTIFY_UUID;

static TEEC_UUID uuid_from_octets(const uint8_t o[16])
{
	TEEC_UUID u;

	u.timeLow = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 |
		    (uint32_t)o[2] << 8 | o[3];
	u.timeMid = (uint16_t)(o[4] << 8 | o[5]);
	u.timeHiAndVersion = (uint16_t)(o[6] << 8 | o[7]);
	memcpy(u.clockSeqAndNode, o + 8, 8);
	return u;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct wl *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1Dull;
}

static void add(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

static void done_call(struct wl *w, uint64_t t0)
{
	add(&w->c->calls);
	add(&w->c->lat_hist[tg_lat_bucket(now_ns() - t0)]);
}

/*
 * Under TG_WL_CHAOS the mediator is killed on purpose while we run: an
 * operation in flight at its death fails with TEEC_ERROR_COMMUNICATION.
 * That is counted as interrupted, not as an error, and the step is left
 * out of this round (the next round does it again). Without the flag,
 * COMMUNICATION is an error like any other.
 */
static bool interrupted(struct wl *w, const char *step, TEEC_Result r)
{
	if (!(w->opts->flags & TG_WL_CHAOS) || r != TEEC_ERROR_COMMUNICATION)
		return false;
	add(&w->c->interrupted);
	if (w->opts->flags & TG_WL_VERBOSE)
		fprintf(stderr, "workload: %s interrupted (mediator killed)\n",
			step);
	return true;
}

static void fail(struct wl *w, const char *step, TEEC_Result r, uint32_t origin)
{
	if (interrupted(w, step, r))
		return;
	add(&w->c->errors);
	w->failed = 1;
	if (w->opts->flags & TG_WL_VERBOSE)
		fprintf(stderr, "workload: %s failed: 0x%x origin %u\n", step,
			r, origin);
}

static void check(struct wl *w, const char *step, int ok)
{
	if (ok) {
		add(&w->c->verified);
		return;
	}
	add(&w->c->mismatches);
	w->failed = 1;
	if (w->opts->flags & TG_WL_VERBOSE)
		fprintf(stderr, "workload: %s: WRONG result\n", step);
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void fill(struct wl *w, uint8_t *p, size_t n)
{
	size_t i;
	uint64_t r = 0;

	for (i = 0; i < n; i++) {
		if (!(i & 7))
			r = rnd(w);
		p[i] = (uint8_t)(r >> ((i & 7) * 8));
	}
}

static int open_session(struct wl *w, TEEC_Session *s, const TEEC_UUID *uuid)
{
	uint32_t origin;
	uint64_t t0 = now_ns();
	TEEC_Result r;

	r = TEEC_OpenSession(&w->ctx, s, uuid, TEEC_LOGIN_PUBLIC, NULL, NULL,
			     &origin);
	done_call(w, t0);
	if (r != TEEC_SUCCESS) {
		fail(w, "open session", r, origin);
		return -1;
	}
	__atomic_fetch_add(&w->c->sessions, 1, __ATOMIC_RELAXED);
	return 0;
}

static void close_session(struct wl *w, TEEC_Session *s)
{
	uint64_t t0 = now_ns();

	TEEC_CloseSession(s);
	done_call(w, t0);
	__atomic_fetch_sub(&w->c->sessions, 1, __ATOMIC_RELAXED);
}

static TEEC_Result invoke(struct wl *w, TEEC_Session *s, uint32_t cmd,
			  TEEC_Operation *op, uint32_t *origin)
{
	uint64_t t0 = now_ns();
	TEEC_Result r = TEEC_InvokeCommand(s, cmd, op, origin);

	done_call(w, t0);
	return r;
}

/* invoke-tests PARAMS with one VALUE_INOUT: a = a + b. */
static void step_value_inout(struct wl *w, TEEC_Session *s)
{
	TEEC_Operation op;
	uint32_t a = (uint32_t)rnd(w) >> 1, b = (uint32_t)rnd(w) >> 1, origin;
	uint32_t idx = (uint32_t)(rnd(w) % 4);
	TEEC_Result r;

	memset(&op, 0, sizeof(op));
	op.paramTypes = (uint32_t)TEEC_VALUE_INOUT << (idx * 4);
	op.params[idx].value.a = a;
	op.params[idx].value.b = b;
	r = invoke(w, s, 1, &op, &origin);
	if (r != TEEC_SUCCESS) {
		fail(w, "value inout", r, origin);
		return;
	}
	check(w, "value inout", op.params[idx].value.a == a + b);
}

/* invoke-tests PARAMS with three VALUE_INPUT and one VALUE_OUTPUT. */
static void step_value_sum(struct wl *w, TEEC_Session *s)
{
	TEEC_Operation op;
	uint32_t sa = 0, sb = 0, origin, i;
	TEEC_Result r;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT,
					 TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT);
	for (i = 0; i < 3; i++) {
		op.params[i].value.a = (uint32_t)rnd(w) >> 4;
		op.params[i].value.b = (uint32_t)rnd(w) >> 4;
		sa += op.params[i].value.a;
		sb += op.params[i].value.b;
	}
	r = invoke(w, s, 1, &op, &origin);
	if (r != TEEC_SUCCESS) {
		fail(w, "value sum", r, origin);
		return;
	}
	check(w, "value sum",
	      op.params[3].value.a == sa && op.params[3].value.b == sb);
}

/*
 * One MEMREF_INOUT: byte 0 becomes the 8-bit sum of the buffer. Return
 * whether the call completed (and so was checked).
 */
static bool memref_sum(struct wl *w, TEEC_Session *s, const char *step,
		       TEEC_Operation *op, uint8_t *buf, size_t len)
{
	uint8_t want = byte_sum(buf, len);
	uint32_t origin;
	TEEC_Result r;

	r = invoke(w, s, 1, op, &origin);
	if (r != TEEC_SUCCESS) {
		fail(w, step, r, origin);
		return false;
	}
	check(w, step, buf[0] == want);
	return true;
}

static void step_alloc_shm(struct wl *w, TEEC_Session *s)
{
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	size_t len = 1 + (size_t)(rnd(w) % (64 * 1024));
	size_t offs = (size_t)(rnd(w) % 64);
	TEEC_Result r;

	memset(&shm, 0, sizeof(shm));
	shm.size = len + offs;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	r = TEEC_AllocateSharedMemory(&w->ctx, &shm);
	if (r != TEEC_SUCCESS) {
		fail(w, "allocate shm", r, TEEC_ORIGIN_API);
		return;
	}
	fill(w, shm.buffer, shm.size);
	memset(&op, 0, sizeof(op));
	if (rnd(w) & 1) {
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm;
		memref_sum(w, s, "shm whole", &op, shm.buffer, shm.size);
	} else {
		op.paramTypes =
			TEEC_PARAM_TYPES(TEEC_NONE, TEEC_MEMREF_PARTIAL_INOUT,
					 TEEC_NONE, TEEC_NONE);
		op.params[1].memref.parent = &shm;
		op.params[1].memref.offset = offs;
		op.params[1].memref.size = len;
		memref_sum(w, s, "shm partial", &op,
			   (uint8_t *)shm.buffer + offs, len);
	}
	TEEC_ReleaseSharedMemory(&shm);
}

/* A caller buffer registered in place (or shadowed if it cannot be). */
static void step_register_shm(struct wl *w, TEEC_Session *s, bool guest_ram)
{
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	size_t len = 1 + (size_t)(rnd(w) % (32 * 1024));
	uint8_t *buf;
	TEEC_Result r;

	buf = guest_ram ? tg_optee_mem_alloc(w->ctx.drv, len) : malloc(len);
	if (!buf) {
		fail(w, "register buffer", TEEC_ERROR_OUT_OF_MEMORY,
		     TEEC_ORIGIN_API);
		return;
	}
	fill(w, buf, len);
	memset(&shm, 0, sizeof(shm));
	shm.buffer = buf;
	shm.size = len;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	r = TEEC_RegisterSharedMemory(&w->ctx, &shm);
	if (r == TEEC_SUCCESS) {
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm;
		memref_sum(w, s,
			   guest_ram ? "registered in place"
				     : "registered shadowed",
			   &op, buf, len);
		TEEC_ReleaseSharedMemory(&shm);
	} else {
		fail(w, "register shm", r, TEEC_ORIGIN_API);
	}
	if (guest_ram)
		tg_optee_mem_free(w->ctx.drv, buf);
	else
		free(buf);
}

static void step_temp_memref(struct wl *w, TEEC_Session *s)
{
	TEEC_Operation op;
	size_t len = 1 + (size_t)(rnd(w) % (20 * 1024));
	uint8_t *buf = malloc(len);
	uint32_t idx = (uint32_t)(rnd(w) % 4);

	if (!buf) {
		fail(w, "temp memref", TEEC_ERROR_OUT_OF_MEMORY,
		     TEEC_ORIGIN_API);
		return;
	}
	fill(w, buf, len);
	memset(&op, 0, sizeof(op));
	op.paramTypes = (uint32_t)TEEC_MEMREF_TEMP_INOUT << (idx * 4);
	op.params[idx].tmpref.buffer = buf;
	op.params[idx].tmpref.size = len;
	if (memref_sum(w, s, "temp memref", &op, buf, len))
		check(w, "temp memref size",
		      op.params[idx].tmpref.size == len);
	free(buf);
}

/* The big buffer through invoke-tests PARAMS (registered, whole). */
static void step_bigbuf(struct wl *w, TEEC_Session *s)
{
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	TEEC_Result r;

	memset(&shm, 0, sizeof(shm));
	shm.size = w->big_size;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	r = TEEC_AllocateSharedMemory(&w->ctx, &shm);
	if (r != TEEC_SUCCESS) {
		fail(w, "bigbuf allocate", r, TEEC_ORIGIN_API);
		return;
	}
	fill(w, shm.buffer, shm.size);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm;
	memref_sum(w, s, "bigbuf", &op, shm.buffer, shm.size);
	TEEC_ReleaseSharedMemory(&shm);
}

/*
 * Optional TA: open it once to learn whether the TEE has it (the model
 * does, real OP-TEE does not). Return 1 and an open session, or 0.
 */
static int open_optional(struct wl *w, TEEC_Session *s, const uint8_t o[16],
			 int *have)
{
	TEEC_UUID u = uuid_from_octets(o);
	uint32_t origin;
	uint64_t t0;
	TEEC_Result r;

	if (*have == 0)
		return 0;
	t0 = now_ns();
	r = TEEC_OpenSession(&w->ctx, s, &u, TEEC_LOGIN_PUBLIC, NULL, NULL,
			     &origin);
	done_call(w, t0);
	if (r != TEEC_SUCCESS) {
		/* interrupted: whether the TEE has it is still unknown */
		if (interrupted(w, "open optional TA", r))
			return 0;
		if (*have == 1)
			fail(w, "open optional TA", r, origin);
		*have = 0;
		return 0;
	}
	*have = 1;
	__atomic_fetch_add(&w->c->sessions, 1, __ATOMIC_RELAXED);
	return 1;
}

/* bigbuf XOR over the big buffer: out[i] = in[i] ^ 0x5A, sum and size. */
static void step_bigbuf_xor(struct wl *w, TEEC_Session *s)
{
	TEEC_SharedMemory in, out;
	TEEC_Operation op;
	uint32_t origin, sum = 0;
	const uint8_t *pi, *po;
	TEEC_Result r;
	size_t i;
	int ok;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.size = out.size = w->big_size;
	in.flags = TEEC_MEM_INPUT;
	out.flags = TEEC_MEM_OUTPUT;
	r = TEEC_AllocateSharedMemory(&w->ctx, &in);
	if (r != TEEC_SUCCESS) {
		fail(w, "bigbuf allocate", r, TEEC_ORIGIN_API);
		return;
	}
	r = TEEC_AllocateSharedMemory(&w->ctx, &out);
	if (r != TEEC_SUCCESS) {
		fail(w, "bigbuf allocate", r, TEEC_ORIGIN_API);
		TEEC_ReleaseSharedMemory(&in);
		return;
	}
	fill(w, in.buffer, in.size);
	pi = in.buffer;
	for (i = 0; i < in.size; i++)
		sum += pi[i];
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &in;
	op.params[1].memref.parent = &out;
	r = invoke(w, s, MODEL_TA_BIGBUF_CMD_XOR, &op, &origin);
	if (r != TEEC_SUCCESS) {
		fail(w, "bigbuf xor", r, origin);
	} else {
		po = out.buffer;
		ok = op.params[1].memref.size == in.size &&
		     op.params[2].value.a == sum &&
		     op.params[2].value.b == (uint32_t)in.size;
		for (i = 0; ok && i < in.size; i++)
			ok = po[i] ==
			     (uint8_t)(pi[i] ^ MODEL_TA_BIGBUF_XOR_BYTE);
		check(w, "bigbuf xor", ok);
	}
	TEEC_ReleaseSharedMemory(&out);
	TEEC_ReleaseSharedMemory(&in);
}

static TEEC_Result notify_cmd(struct wl *w, TEEC_Session *s, uint32_t cmd,
			      uint32_t value)
{
	TEEC_Operation op;
	uint32_t origin;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = value;
	return invoke(w, s, cmd, &op, &origin);
}

/*
 * Notifications through the notify TA: SEND then WAIT (RPC NOTIFICATION
 * both ways), and, with async notifications on, ASYNC then WAIT (the
 * value comes back through the notification vCPU). Each vCPU of the
 * workload uses its own values, so that one never eats another's.
 */
static void step_notify(struct wl *w)
{
	uint32_t v = w->notif_base + (uint32_t)(rnd(w) % 0x20);
	TEEC_Session s;
	TEEC_Result r;

	if (!open_optional(w, &s, notify_octets, &w->have_notify))
		return;
	r = notify_cmd(w, &s, MODEL_TA_NOTIFY_CMD_SEND, v);
	if (r == TEEC_SUCCESS)
		r = notify_cmd(w, &s, MODEL_TA_NOTIFY_CMD_WAIT, v);
	if (interrupted(w, "notification send/wait", r))
		goto out;
	check(w, "notification send/wait", r == TEEC_SUCCESS);
	if (tg_optee_info(w->ctx.drv)->async_notif) {
		r = notify_cmd(w, &s, MODEL_TA_NOTIFY_CMD_ASYNC, v);
		if (r == TEEC_SUCCESS)
			r = notify_cmd(w, &s, MODEL_TA_NOTIFY_CMD_WAIT, v);
		if (!interrupted(w, "async notification", r))
			check(w, "async notification", r == TEEC_SUCCESS);
	}
out:
	close_session(w, &s);
}

/* stats GET_TIME: the REE time comes back from our RPC GET_TIME answer. */
static void step_get_time(struct wl *w)
{
	TEEC_Session s;
	TEEC_Operation op;
	uint32_t origin;
	TEEC_Result r;
	time_t before, after;

	if (open_session(w, &s, &stats_uuid))
		return;
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	before = time(NULL);
	r = invoke(w, &s, 4, &op, &origin);
	after = time(NULL);
	if (r != TEEC_SUCCESS)
		fail(w, "stats get time", r, origin);
	else
		check(w, "stats get time",
		      (time_t)op.params[0].value.a + 1 >= before &&
			      (time_t)op.params[0].value.a <= after + 1 &&
			      op.params[0].value.b < 1000);
	close_session(w, &s);
}

/* Opening a TA that does not exist: ITEM_NOT_FOUND from the TEE. */
static void step_absent_ta(struct wl *w)
{
	TEEC_Session s;
	uint32_t origin = 0;
	uint64_t t0 = now_ns();
	TEEC_Result r;

	r = TEEC_OpenSession(&w->ctx, &s, &absent_uuid, TEEC_LOGIN_PUBLIC, NULL,
			     NULL, &origin);
	done_call(w, t0);
	if (r == TEEC_SUCCESS) {
		check(w, "absent TA", 0);
		TEEC_CloseSession(&s);
		return;
	}
	if (interrupted(w, "absent TA", r))
		return;
	check(w, "absent TA",
	      r == TEEC_ERROR_ITEM_NOT_FOUND && origin == TEEC_ORIGIN_TEE);
}

static void one_round(struct wl *w)
{
	TEEC_Session s;

	if (open_session(w, &s, &invoke_tests_uuid))
		return;
	step_value_inout(w, &s);
	step_value_sum(w, &s);
	step_alloc_shm(w, &s);
	step_register_shm(w, &s, true);
	step_register_shm(w, &s, false);
	step_temp_memref(w, &s);
	if (w->big_size) {
		TEEC_Session bs;

		if (open_optional(w, &bs, bigbuf_octets, &w->have_bigbuf)) {
			step_bigbuf_xor(w, &bs);
			close_session(w, &bs);
		} else {
			step_bigbuf(w, &s);
		}
	}
	close_session(w, &s);
	if (!(w->opts->flags & TG_WL_NO_NOTIF))
		step_notify(w);
	if (!(w->opts->flags & TG_WL_NO_RPC)) {
		step_get_time(w);
		step_absent_ta(w);
	}
}

static int run(struct wl *w)
{
	const struct tg_workload_opts *o = w->opts;
	uint64_t deadline = now_ns() + (uint64_t)o->seconds * 1000000000ull;
	uint32_t rounds = 0, tries;
	TEEC_Result r;

	/*
	 * Under TG_WL_CHAOS a fast call of the driver's probe can meet a
	 * mediator death (ENOTAVAIL, and the context is ITEM_NOT_FOUND); the
	 * probe after the restart tells that from a TEE that is not there,
	 * as the hostile guest's set-up does.
	 */
	r = TEEC_InitializeContext(NULL, &w->ctx);
	for (tries = 0; r == TEEC_ERROR_ITEM_NOT_FOUND &&
			(o->flags & TG_WL_CHAOS) && tries < 3;
	     tries++)
		r = TEEC_InitializeContext(NULL, &w->ctx);
	if (r != TEEC_SUCCESS) {
		fail(w, "initialize context", r, TEEC_ORIGIN_API);
		return -1;
	}
	if (tries)
		add(&w->c->interrupted);
	w->ctx.register_tmp = (o->flags & TG_WL_REGISTER_TMP) != 0;
	do {
		__atomic_store_n(&w->c->phase, rounds, __ATOMIC_RELAXED);
		one_round(w);
		rounds++;
		if (o->max_rounds && rounds >= o->max_rounds)
			break;
	} while (now_ns() < deadline);
	TEEC_FinalizeContext(&w->ctx);
	return w->failed ? -1 : 0;
}

static void second_vcpu(struct tg_vcpu *vcpu, void *arg)
{
	struct wl *w = arg;

	w->vcpu = vcpu;
	run(w);
}

int tg_workload_mixed(struct tg_vcpu *vcpu, const struct tg_workload_opts *opts)
{
	struct tg_workload_opts def;
	struct wl w0, w1;
	uint32_t mib;
	int idx = -1, rc;

	if (!vcpu)
		return -1;
	if (!opts) {
		memset(&def, 0, sizeof(def));
		opts = &def;
	}
	mib = opts->bigbuf_mib < 8 ? 8 : opts->bigbuf_mib;
	memset(&w0, 0, sizeof(w0));
	w0.vcpu = vcpu;
	w0.c = tg_guest_counters(vcpu);
	w0.opts = opts;
	w0.rng = opts->seed * 2 + 1;
	w0.big_size = (opts->flags & TG_WL_NO_BIGBUF) ? 0 : (size_t)mib << 20;
	w0.have_bigbuf = w0.have_notify = -1;
	w0.notif_base = 1;
	w1 = w0;
	w1.notif_base = 0x21;
	w1.rng = opts->seed * 2 + 0x9E3779B97F4A7C15ull;
	w1.big_size = 0; /* one big buffer per guest is enough */
	if (!(opts->flags & TG_WL_NO_SPAWN))
		idx = tg_vcpu_spawn(vcpu, second_vcpu, &w1);
	rc = run(&w0);
	if (idx >= 0) {
		tg_vcpu_join(vcpu, idx);
		if (w1.failed)
			rc = -1;
	}
	return rc;
}
