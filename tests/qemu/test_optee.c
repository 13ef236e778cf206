// SPDX-License-Identifier: BSD-2-Clause
/*
 * Integration tests against a real OP-TEE (label "optee"): the hosted
 * platform with TG_TEE_QEMU behind the inline mediator, guests running
 * the GP client API. They run when TEEGATE_OPTEE_FIRMWARE=DIR names a
 * firmware directory (docs/real-optee.md) and exit 77 (skipped, one line
 * saying why) otherwise.
 *
 *   test_optee pta_answers         the client program's answers are right
 *   test_optee same_answers        ...and identical with the model's
 *   test_optee several_guests      2 guests' mixed workloads at once
 *   test_optee guest_destruction   a guest dies with sessions and buffers:
 *                                  nothing left, VM_DESTROYED done
 *   test_optee sequential_big_buffers  8 guests one after another, each
 *                                  with an 8 MiB buffer used in an invoke
 *   test_optee temp_memref_cookie  a temporary memref cannot stand in for
 *                                  a registered buffer afterwards
 *
 * The client program (pta_program()) drives the invoke-tests, stats and
 * device-enumeration pseudo-TAs (values, temporary, registered and
 * allocated memrefs, NULL memrefs, short buffers, bad parameters), the
 * RPCs (stats GET_TIME, the LOAD_TA path of a missing TA) and records
 * every answer: return code, origin, output values, output sizes and
 * bytes. Fields that are the TEE's run-time state (allocator counters,
 * clocks) are left out of the comparison; docs/real-optee.md lists them.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/optee_abi.h>
#include <teegate/optee_guest.h>
#include <teegate/tee_client_api.h>
#include <teegate/workload.h>

#include "fw_protocol.h"
#include "qemu.h"

#define SKIP 77
#define MAX_ANSWERS 64
#define DATA_MAX 192

static int failures;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, \
			       #cond);                                \
			printf(__VA_ARGS__);                          \
			printf("\n");                                 \
			failures++;                                   \
		}                                                     \
	} while (0)

/* ---- machines --------------------------------------------------------- */

struct env {
	struct tg_qemu *q;
	struct tg_machine *m;
	struct tg_mem_region regions[TG_HOST_MAX_RESERVED];
	char ram_path[64];
	bool qemu;
};

/*
 * The isolation oracle watches real OP-TEE in every test unless
 * TEEGATE_ORACLE=0 (to measure what it costs).
 */
static bool oracle_wanted(void)
{
	const char *v = getenv("TEEGATE_ORACLE");

	return !v || strcmp(v, "0") != 0;
}

static int env_start(struct env *e, bool qemu)
{
	struct tg_machine_config mc = { 0 };
	int rc;

	memset(e, 0, sizeof(*e));
	e->qemu = qemu;
	mc.mediation = TG_MEDIATION_INLINE;
	mc.seed = 42;
	if (qemu) {
		struct tg_qemu_config qc = {
			.firmware_dir = getenv("TEEGATE_OPTEE_FIRMWARE"),
			.cpus = 2,
			.timeout_ms = 120000,
			.oracle = oracle_wanted(),
		};
		char err[4096];

		rc = tg_qemu_start(&qc, &e->q, err, sizeof(err));
		if (rc) {
			printf("FAIL: %s\n", err);
			return -1;
		}
		printf("# OP-TEE in QEMU: relay ready after %.0f ms\n",
		       tg_qemu_boot_ms(e->q));
		if (tg_qemu_machine_memory(e->q, &mc, e->regions,
					   TG_HOST_MAX_RESERVED, e->ram_path,
					   sizeof(e->ram_path)))
			return -1;
		mc.tee = TG_TEE_QEMU;
		mc.qemu = e->q;
	} else {
		mc.tee = TG_TEE_MODEL;
		mc.ram_size = 1ull << 30;
		/* the QEMU build's: 2 threads (0 = default) */
	}
	rc = tg_machine_create(&mc, &e->m);
	if (rc) {
		printf("FAIL: machine: %s\n", tg_strerror(rc));
		tg_qemu_stop(e->q);
		return -1;
	}
	if (qemu) {
		char msg[512];
		int v = tg_qemu_check_probe(
			TG_OK, tg_mediator_tee_info(tg_machine_mediator(e->m)),
			msg, sizeof(msg));

		printf("# %s\n", msg);
		if (v != TG_QEMU_OK)
			return -1;
	}
	return 0;
}

static void env_stop(struct env *e)
{
	struct tg_qemu_oracle_stats os;
	struct tg_machine_pages ps;

	if (e->qemu && tg_qemu_oracle_stats(e->q, &os) == TG_OK) {
		printf("# oracle: %llu secure-world accesses to NS RAM checked, "
		       "%llu violations (%llu foreign, %llu unpinned, %llu "
		       "identity)\n",
		       (unsigned long long)os.checked,
		       (unsigned long long)os.violations,
		       (unsigned long long)os.foreign,
		       (unsigned long long)os.unpinned,
		       (unsigned long long)os.identity);
		CHECK(!os.broken, "oracle broken: %s", os.why);
		CHECK(os.checked > 0, "the oracle checked nothing");
		CHECK(os.violations == 0, "%llu oracle violations",
		      (unsigned long long)os.violations);
	}

	tg_machine_page_stats(e->m, &ps);
	CHECK(ps.pinned == 0 && ps.guest == 0 && ps.mediator == 0,
	      "%llu pinned, %llu guest, %llu mediator pages left",
	      (unsigned long long)ps.pinned, (unsigned long long)ps.guest,
	      (unsigned long long)ps.mediator);
	CHECK(tg_machine_destroy(e->m) == TG_OK, "machine teardown");
	tg_qemu_stop(e->q);
}

/* Run @fn(vcpu0, @arg) as a thread-mode guest to its end. */
static int run_guest(struct env *e, void (*fn)(struct tg_vcpu *, void *),
		     void *arg, enum tg_guest_mode mode)
{
	struct tg_guest_config gc = { 0 };
	struct tg_guest *g = NULL;
	int ws = 0, rc;

	gc.mode = mode;
	gc.vcpus = 2;
	gc.ram_pages = 8192;
	rc = tg_guest_start(e->m, &gc, fn, arg, &g);
	if (rc) {
		printf("FAIL: guest start: %s\n", tg_strerror(rc));
		return -1;
	}
	rc = tg_guest_wait_timeout(g, 240000, &ws);
	if (rc) {
		tg_guest_kill(g);
		tg_guest_wait(g, &ws);
		printf("FAIL: guest did not finish\n");
		return -1;
	}
	tg_guest_release(g);
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

/* ---- the client program ------------------------------------------------ */

struct answer {
	const char *what;
	uint32_t ret, origin;
	uint32_t val[8];  /* output values (a, b of params 0..3) */
	uint64_t size[4]; /* output memref sizes */
	uint32_t len;     /* bytes of @data compared */
	uint8_t data[DATA_MAX];
};

struct program {
	struct answer a[MAX_ANSWERS];
	uint32_t n;
	time_t time_before, time_after;
	uint32_t ree_time; /* stats GET_TIME param 0 value.a */
	bool done;
};

static const TEEC_UUID invoke_tests_uuid = {
	0xd96a5b40, 0xc3e5, 0x21e3,
	{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
};
static const TEEC_UUID stats_uuid = {
	0xd96a5b40, 0xe2c7, 0xb1af,
	{ 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b }
};
static const TEEC_UUID device_uuid = {
	0x7011a688, 0xddde, 0x4053,
	{ 0xa5, 0xa9, 0x7b, 0x3c, 0x4d, 0xdf, 0x13, 0xb8 }
};
static const TEEC_UUID absent_uuid = {
	0x7e57da7a, 0x0000, 0x4000,
	{ 0x80, 0x00, 0x74, 0x65, 0x65, 0x67, 0x61, 0x74 }
};

static struct answer *next(struct program *p, const char *what)
{
	struct answer *a = &p->a[p->n < MAX_ANSWERS - 1 ? p->n++ : p->n];

	memset(a, 0, sizeof(*a));
	a->what = what;
	return a;
}

/* Record the outputs of @op after an invoke. */
static void outputs(struct answer *a, const TEEC_Operation *op)
{
	uint32_t i;

	for (i = 0; i < 4; i++) {
		uint32_t t = TEEC_PARAM_TYPE_GET(op->paramTypes, i);

		switch (t) {
		case TEEC_VALUE_OUTPUT:
		case TEEC_VALUE_INOUT:
			a->val[2 * i] = op->params[i].value.a;
			a->val[2 * i + 1] = op->params[i].value.b;
			break;
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			a->size[i] = op->params[i].tmpref.size;
			break;
		case TEEC_MEMREF_WHOLE:
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			a->size[i] = op->params[i].memref.size;
			break;
		default:
			break;
		}
	}
}

static void keep(struct answer *a, const void *buf, size_t len)
{
	a->len = (uint32_t)(len < DATA_MAX ? len : DATA_MAX);
	memcpy(a->data, buf, a->len);
}

static void invoke(struct program *p, TEEC_Session *s, const char *what,
		   uint32_t cmd, TEEC_Operation *op)
{
	struct answer *a = next(p, what);

	a->ret = TEEC_InvokeCommand(s, cmd, op, &a->origin);
	outputs(a, op);
}

static void open_session(struct program *p, TEEC_Context *c, TEEC_Session *s,
			 const TEEC_UUID *u, const char *what)
{
	struct answer *a = next(p, what);

	a->ret = TEEC_OpenSession(c, s, u, TEEC_LOGIN_PUBLIC, NULL, NULL,
				  &a->origin);
}

static void invoke_tests(struct program *p, TEEC_Context *c)
{
	static const uint32_t test_cmds[] = { 2, 3, 4, 5, 6, 7, 8, 9, 11, 12 };
	static const char *const test_cmd_names[] = {
		"SELF_TESTS, no params", "COPY_NSEC_TO_SEC, no params",
		"READ_MODIFY_SEC, no params", "COPY_SEC_TO_NSEC, no params",
		"FS_HTREE, no params", "MUTEX, no params",
		"LOCKDEP, no params", "AES_PERF, no params",
		"DT_DRIVER_TESTS, no params", "TRANSFER_LIST_TESTS, no params"
	};
	static uint8_t buf[3 * 4096];
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	TEEC_Session s;
	struct answer *a;
	uint32_t i;

	open_session(p, c, &s, &invoke_tests_uuid, "invoke-tests open");
	if (p->a[p->n - 1].ret)
		return;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = 5;
	op.params[0].value.b = 7;
	invoke(p, &s, "PARAMS value inout 5+7", PTA_INVOKE_TESTS_CMD_PARAMS,
	       &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT,
					 TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT);
	for (i = 0; i < 3; i++) {
		op.params[i].value.a = 100 * (i + 1);
		op.params[i].value.b = i + 1;
	}
	invoke(p, &s, "PARAMS 3 inputs summed", PTA_INVOKE_TESTS_CMD_PARAMS,
	       &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	invoke(p, &s, "PARAMS value input only", PTA_INVOKE_TESTS_CMD_PARAMS,
	       &op);

	/* temporary memref, 2 pages + 100 bytes, not page aligned */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf + 100;
	op.params[0].tmpref.size = 2 * 4096 + 100;
	invoke(p, &s, "PARAMS temp memref sum", PTA_INVOKE_TESTS_CMD_PARAMS,
	       &op);
	keep(&p->a[p->n - 1], buf + 100, 8);

	/* registered memref */
	memset(&shm, 0, sizeof(shm));
	shm.buffer = buf;
	shm.size = sizeof(buf);
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	a = next(p, "register shm");
	a->ret = TEEC_RegisterSharedMemory(c, &shm);
	if (!a->ret) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i ^ 0x5a);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].memref.parent = &shm;
		invoke(p, &s, "PARAMS registered memref sum",
		       PTA_INVOKE_TESTS_CMD_PARAMS, &op);
		keep(&p->a[p->n - 1], buf, 8);
		TEEC_ReleaseSharedMemory(&shm);
	}

	/* allocated memref, partial */
	memset(&shm, 0, sizeof(shm));
	shm.size = 5000;
	shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	a = next(p, "allocate shm");
	a->ret = TEEC_AllocateSharedMemory(c, &shm);
	if (!a->ret) {
		for (i = 0; i < shm.size; i++)
			((uint8_t *)shm.buffer)[i] = (uint8_t)(i + 1);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT,
						 TEEC_NONE, TEEC_NONE,
						 TEEC_NONE);
		op.params[0].memref.parent = &shm;
		op.params[0].memref.offset = 10;
		op.params[0].memref.size = 4000;
		invoke(p, &s, "PARAMS allocated partial memref sum",
		       PTA_INVOKE_TESTS_CMD_PARAMS, &op);
		keep(&p->a[p->n - 1], (uint8_t *)shm.buffer + 10, 8);
		TEEC_ReleaseSharedMemory(&shm);
	}

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = NULL;
	op.params[0].tmpref.size = 0;
	invoke(p, &s, "MEMREF_NULL with a NULL memref",
	       PTA_INVOKE_TESTS_CMD_MEMREF_NULL, &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buf;
	op.params[0].tmpref.size = 16;
	invoke(p, &s, "MEMREF_NULL with a buffer",
	       PTA_INVOKE_TESTS_CMD_MEMREF_NULL, &op);

	memset(&op, 0, sizeof(op));
	invoke(p, &s, "TRACE", PTA_INVOKE_TESTS_CMD_TRACE, &op);

	memset(&op, 0, sizeof(op));
	invoke(p, &s, "unknown command 0x99", 0x99, &op);

	/* OP-TEE's core test commands, without parameters */
	for (i = 0; i < sizeof(test_cmds) / sizeof(test_cmds[0]); i++) {
		memset(&op, 0, sizeof(op));
		invoke(p, &s, test_cmd_names[i], test_cmds[i], &op);
	}

	TEEC_CloseSession(&s);
}

static void stats(struct program *p, TEEC_Context *c)
{
	static const char *const alloc_names[] = {
		"ALLOC all pools", "ALLOC pool 1", "ALLOC pool 2",
		"ALLOC pool 3", "ALLOC pool 4", "ALLOC pool 5"
	};
	static uint8_t out[64 * 16];
	TEEC_Operation op;
	TEEC_Session s;
	time_t before, after;
	uint32_t pool;

	open_session(p, c, &s, &stats_uuid, "stats open");
	if (p->a[p->n - 1].ret)
		return;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = 0;
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = 1;
	invoke(p, &s, "ALLOC all pools, 1-byte buffer", PTA_STATS_CMD_ALLOC,
	       &op);

	/* Each record: desc[32], u64 free2_sum, u32 allocated,
	 * max_allocated, size (offset 48)...: kept are the description and
	 * whether size is 0; the counters are the TEE's run-time state. */
	for (pool = 0; pool <= 5; pool++) {
		struct answer *a;
		uint32_t k, nrec;

		memset(out, 0, sizeof(out));
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT,
						 TEEC_MEMREF_TEMP_OUTPUT,
						 TEEC_NONE, TEEC_NONE);
		op.params[0].value.a = pool;
		op.params[1].tmpref.buffer = out;
		op.params[1].tmpref.size = sizeof(out);
		invoke(p, &s, alloc_names[pool], PTA_STATS_CMD_ALLOC, &op);
		a = &p->a[p->n - 1];
		nrec = (uint32_t)(a->size[1] / 64);
		for (k = 0; k < nrec && (k + 1) * 36 <= DATA_MAX; k++) {
			memcpy(a->data + k * 36, out + k * 64, 32);
			/* size at offset 48: whether the pool has memory
			 * (its size is a build option) */
			a->data[k * 36 + 32] = out[k * 64 + 48] ||
					       out[k * 64 + 49] ||
					       out[k * 64 + 50] ||
					       out[k * 64 + 51];
		}
		a->len = k * 36;
	}

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = 99;
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = sizeof(out);
	invoke(p, &s, "ALLOC pool 99", PTA_STATS_CMD_ALLOC, &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	invoke(p, &s, "ALLOC without a buffer", PTA_STATS_CMD_ALLOC, &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	invoke(p, &s, "PAGER_STATS", 0, &op);

	memset(&op, 0, sizeof(op));
	invoke(p, &s, "MEMLEAK_STATS", 2, &op);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = out;
	op.params[0].tmpref.size = sizeof(out);
	invoke(p, &s, "TA_STATS", 3, &op);
	p->a[p->n - 1].size[0] = 0; /* the TEE's run-time state */

	/* RPC GET_TIME: the REE time comes from our driver's answer */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	before = time(NULL);
	invoke(p, &s, "GET_TIME (RPC)", PTA_STATS_CMD_GET_TIME, &op);
	after = time(NULL);
	p->time_before = before;
	p->time_after = after;
	p->ree_time = p->a[p->n - 1].val[0];
	/* clocks: not compared */
	memset(p->a[p->n - 1].val, 0, sizeof(p->a[p->n - 1].val));

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	invoke(p, &s, "GET_TIME with wrong params", PTA_STATS_CMD_GET_TIME,
	       &op);

	memset(&op, 0, sizeof(op));
	invoke(p, &s, "PRINT_DRIVER_INFO, no params", 5, &op);

	memset(&op, 0, sizeof(op));
	invoke(p, &s, "stats unknown command 0x77", 0x77, &op);
	TEEC_CloseSession(&s);
}

static void devices(struct program *p, TEEC_Context *c)
{
	static uint8_t out[16 * 16];
	static const char *const names[] = { "GET_DEVICES", "GET_DEVICES_SUPP",
					     "GET_DEVICES_RPMB" };
	static const char *const short_names[] = {
		"GET_DEVICES, no buffer", "GET_DEVICES_SUPP, no buffer",
		"GET_DEVICES_RPMB, no buffer"
	};
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t cmd;

	open_session(p, c, &s, &device_uuid, "device enum open");
	if (p->a[p->n - 1].ret)
		return;
	for (cmd = 0; cmd < 3; cmd++) {
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
						 TEEC_NONE, TEEC_NONE,
						 TEEC_NONE);
		op.params[0].tmpref.buffer = NULL;
		op.params[0].tmpref.size = 0;
		invoke(p, &s, short_names[cmd], cmd, &op);

		memset(out, 0xEE, sizeof(out));
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
						 TEEC_NONE, TEEC_NONE,
						 TEEC_NONE);
		op.params[0].tmpref.buffer = out;
		op.params[0].tmpref.size = sizeof(out);
		invoke(p, &s, names[cmd], cmd, &op);
		keep(&p->a[p->n - 1], out,
		     op.params[0].tmpref.size < sizeof(out)
			     ? op.params[0].tmpref.size
			     : sizeof(out));
	}
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	invoke(p, &s, "GET_DEVICES with a value", 0, &op);
	memset(&op, 0, sizeof(op));
	invoke(p, &s, "device enum unknown command 9", 9, &op);
	TEEC_CloseSession(&s);
}

static void pta_program(struct tg_vcpu *v, void *arg)
{
	struct program *p = arg;
	TEEC_Context c;
	TEEC_Session s;
	struct answer *a;

	(void)v;
	a = next(p, "initialize context");
	a->ret = TEEC_InitializeContext(NULL, &c);
	if (a->ret)
		return;
	invoke_tests(p, &c);
	stats(p, &c);
	devices(p, &c);
	/* LOAD_TA: OP-TEE asks the normal world for the TA; we have none */
	open_session(p, &c, &s, &absent_uuid, "open a missing TA (LOAD_TA)");
	if (!p->a[p->n - 1].ret)
		TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&c);
	p->done = true;
}

static void print_answer(const char *who, const struct answer *a)
{
	uint32_t i;

	printf("#   %-6s ret %#x origin %u val", who, a->ret, a->origin);
	for (i = 0; i < 8; i++)
		printf(" %u", a->val[i]);
	printf(" size %llu %llu %llu %llu data[%u]",
	       (unsigned long long)a->size[0], (unsigned long long)a->size[1],
	       (unsigned long long)a->size[2], (unsigned long long)a->size[3],
	       a->len);
	for (i = 0; i < a->len; i++)
		printf("%s%02x", i % 36 ? "" : " ", a->data[i]);
	printf("\n");
}

static int run_program(bool qemu, struct program *p)
{
	struct env e;
	int rc;

	memset(p, 0, sizeof(*p));
	if (env_start(&e, qemu))
		return -1;
	rc = run_guest(&e, pta_program, p, TG_GUEST_THREAD);
	env_stop(&e);
	CHECK(p->done, "the client program ran to its end (%u answers)",
	      p->n);
	return rc || !p->done ? -1 : 0;
}

static const struct answer *find(const struct program *p, const char *what)
{
	uint32_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->a[i].what, what))
			return &p->a[i];
	printf("FAIL: no answer '%s'\n", what);
	failures++;
	return &p->a[MAX_ANSWERS - 1];
}

/* The answers real OP-TEE must give (OP-TEE 4.x, QEMU v8 platform). */
static void check_expected(const struct program *p)
{
	const struct answer *a;
	uint32_t i;
	uint8_t sum;

	for (i = 0; i < p->n; i++)
		if (strstr(p->a[i].what, " open") ||
		    !strcmp(p->a[i].what, "register shm") ||
		    !strcmp(p->a[i].what, "allocate shm") ||
		    !strcmp(p->a[i].what, "initialize context"))
			CHECK(p->a[i].ret == TEEC_SUCCESS, "%s: %#x",
			      p->a[i].what, p->a[i].ret);
	a = find(p, "PARAMS value inout 5+7");
	CHECK(a->ret == 0 && a->val[0] == 12, "ret %#x a %u", a->ret,
	      a->val[0]);
	a = find(p, "PARAMS 3 inputs summed");
	CHECK(a->ret == 0 && a->val[6] == 600 && a->val[7] == 6,
	      "ret %#x %u %u", a->ret, a->val[6], a->val[7]);
	a = find(p, "PARAMS value input only");
	CHECK(a->ret == TEEC_ERROR_BAD_PARAMETERS, "ret %#x", a->ret);
	sum = 0;
	for (i = 100; i < 100 + 2 * 4096 + 100; i++)
		sum = (uint8_t)(sum + (uint8_t)(i * 7 + 3));
	a = find(p, "PARAMS temp memref sum");
	CHECK(a->ret == 0 && a->data[0] == sum, "ret %#x sum %#x want %#x",
	      a->ret, a->data[0], sum);
	sum = 0;
	for (i = 0; i < 3 * 4096; i++)
		sum = (uint8_t)(sum + (uint8_t)(i ^ 0x5a));
	a = find(p, "PARAMS registered memref sum");
	CHECK(a->ret == 0 && a->data[0] == sum, "ret %#x sum %#x want %#x",
	      a->ret, a->data[0], sum);
	sum = 0;
	for (i = 10; i < 4010; i++)
		sum = (uint8_t)(sum + (uint8_t)(i + 1));
	a = find(p, "PARAMS allocated partial memref sum");
	CHECK(a->ret == 0 && a->data[0] == sum, "ret %#x sum %#x want %#x",
	      a->ret, a->data[0], sum);
	a = find(p, "MEMREF_NULL with a NULL memref");
	CHECK(a->ret == 0, "ret %#x", a->ret);
	a = find(p, "GET_TIME (RPC)");
	CHECK(a->ret == 0 && (time_t)p->ree_time + 1 >= p->time_before &&
		      (time_t)p->ree_time <= p->time_after + 1,
	      "ret %#x REE time %u, now %lld", a->ret, p->ree_time,
	      (long long)p->time_after);
	a = find(p, "GET_DEVICES");
	CHECK(a->ret == 0 && a->size[0] % 16 == 0, "ret %#x size %llu",
	      a->ret, (unsigned long long)a->size[0]);
	a = find(p, "open a missing TA (LOAD_TA)");
	CHECK(a->ret == TEEC_ERROR_ITEM_NOT_FOUND &&
		      a->origin == TEEC_ORIGIN_TEE,
	      "ret %#x origin %u", a->ret, a->origin);
}

static int test_pta_answers(void)
{
	static struct program p;
	uint32_t i;

	if (run_program(true, &p))
		return 1;
	for (i = 0; i < p.n; i++) {
		printf("# %s\n", p.a[i].what);
		print_answer("optee", &p.a[i]);
	}
	check_expected(&p);
	return failures ? 1 : 0;
}

/*
 * The same client program against the model and against real OP-TEE:
 * every answer must be the same, field by field.
 */
static int test_same_answers(void)
{
	static struct program model, real;
	uint32_t i, diffs = 0;

	if (run_program(false, &model) || run_program(true, &real))
		return 1;
	CHECK(model.n == real.n, "%u answers from the model, %u from OP-TEE",
	      model.n, real.n);
	for (i = 0; i < model.n && i < real.n; i++) {
		const struct answer *x = &model.a[i], *y = &real.a[i];
		bool same = x->ret == y->ret && x->origin == y->origin &&
			    !memcmp(x->val, y->val, sizeof(x->val)) &&
			    !memcmp(x->size, y->size, sizeof(x->size)) &&
			    x->len == y->len &&
			    !memcmp(x->data, y->data, x->len);

		printf("# %-40s %s\n", x->what, same ? "same" : "DIFFERENT");
		if (!same) {
			print_answer("model", x);
			print_answer("optee", y);
			diffs++;
		}
	}
	CHECK(diffs == 0, "%u answers differ: the model is wrong", diffs);
	return failures ? 1 : 0;
}

/* ---- several guests ------------------------------------------------------ */

static void mixed_main(struct tg_vcpu *v, void *arg)
{
	struct tg_workload_opts o = { .seconds = 4, .seed = 7 };

	(void)arg;
	_exit(tg_workload_mixed(v, &o) ? 1 : 0);
}

static int test_several_guests(void)
{
	struct tg_guest_config gc = { 0 };
	struct tg_guest *g[2] = { NULL, NULL };
	struct env e;
	uint32_t i;

	if (env_start(&e, true))
		return 1;
	gc.vcpus = 3;
	gc.ram_pages = 8192;
	for (i = 0; i < 2; i++)
		CHECK(tg_guest_start(e.m, &gc, mixed_main, NULL, &g[i]) ==
			      TG_OK,
		      "guest %u start", i + 1);
	for (i = 0; i < 2; i++) {
		struct tg_guest_stats st;
		int ws = -1;

		if (!g[i])
			continue;
		CHECK(tg_guest_wait_timeout(g[i], 120000, &ws) == TG_OK,
		      "guest %u ends", i + 1);
		tg_guest_stats(g[i], &st);
		printf("# guest %u: %llu calls, %llu verified, %llu errors, %llu mismatches\n",
		       st.client_id, (unsigned long long)st.counters.calls,
		       (unsigned long long)st.counters.verified,
		       (unsigned long long)st.counters.errors,
		       (unsigned long long)st.counters.mismatches);
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		      "guest %u exit status %#x", i + 1, ws);
		CHECK(st.counters.calls > 0 && st.counters.verified > 0 &&
			      !st.counters.errors && !st.counters.mismatches,
		      "guest %u results", i + 1);
		tg_guest_release(g[i]);
	}
	env_stop(&e);
	return failures ? 1 : 0;
}

/* ---- guest destruction --------------------------------------------------- */

struct leaver {
	volatile int ready;
	uint32_t open_ret, reg_ret;
};

/* Open sessions and register memory, then die without closing them. */
static void leaver_main(struct tg_vcpu *v, void *arg)
{
	struct leaver *l = arg;
	static uint8_t buf[2 * 4096];
	TEEC_SharedMemory shm;
	TEEC_Context c;
	TEEC_Session s1, s2;
	uint32_t origin;

	if (TEEC_InitializeContext(NULL, &c))
		goto out;
	l->open_ret = TEEC_OpenSession(&c, &s1, &invoke_tests_uuid,
				       TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
	l->open_ret |= TEEC_OpenSession(&c, &s2, &stats_uuid,
					TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
	memset(&shm, 0, sizeof(shm));
	shm.buffer = buf;
	shm.size = sizeof(buf);
	shm.flags = TEEC_MEM_INPUT;
	l->reg_ret = TEEC_RegisterSharedMemory(&c, &shm);
out:
	l->ready = 1;
	for (;;)
		tg_notif_wait(v, 100); /* killed here */
}

static int test_guest_destruction(void)
{
	struct tg_guest_config gc = { 0 };
	struct tg_guest_stats st;
	struct tg_machine_pages ps;
	struct leaver l = { 0 };
	struct tg_guest *g = NULL;
	uint64_t regs[8];
	uint32_t client;
	struct env e;
	int i;

	if (env_start(&e, true))
		return 1;
	gc.mode = TG_GUEST_THREAD;
	gc.vcpus = 2;
	gc.ram_pages = 4096;
	if (tg_guest_start(e.m, &gc, leaver_main, &l, &g)) {
		printf("FAIL: guest start\n");
		return 1;
	}
	client = tg_guest_client_id(g);
	for (i = 0; i < 1200 && !l.ready; i++)
		usleep(100000);
	CHECK(l.ready && !l.open_ret && !l.reg_ret,
	      "guest opened 2 sessions and registered a buffer (%#x %#x)",
	      l.open_ret, l.reg_ret);

	/* Before destroy: the mediator holds what the guest left. */
	CHECK(tg_guest_stats(g, &st) == TG_OK && st.has_domain, "stats");
	printf("# before destroy: domain %u: sessions %u, shm bufs %u, rpc bufs %u, calls in flight %u, pinned %llu, shadow %llu\n",
	       client, st.domain.sessions, st.domain.shm_bufs,
	       st.domain.rpc_bufs, st.domain.calls_in_flight,
	       (unsigned long long)st.domain.pinned_pages,
	       (unsigned long long)st.domain.shadow_pages);
	CHECK(st.domain.sessions == 2, "sessions %u", st.domain.sessions);
	CHECK(st.domain.shm_bufs >= 1, "shm bufs %u", st.domain.shm_bufs);
	CHECK(st.domain.calls_in_flight == 0, "calls in flight %u",
	      st.domain.calls_in_flight);
	CHECK(st.domain.pinned_pages >= 2, "pinned %llu",
	      (unsigned long long)st.domain.pinned_pages);

	/* OP-TEE knows the client... */
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_GET_OS_REVISION;
	regs[7] = client;
	tg_qemu_smc(e.q, TG_QEMU_CPU_ANY, regs);
	CHECK(regs[0] != OPTEE_SMC_RETURN_ENOTAVAIL,
	      "OP-TEE knows client %u before destroy", client);

	/* ...kill it: the platform destroys the domain (VM_DESTROYED). */
	tg_guest_kill(g);
	CHECK(tg_guest_wait_timeout(g, 60000, NULL) == TG_OK, "teardown");
	tg_guest_stats(g, &st);
	CHECK(!st.has_domain && st.pages_pinned == 0 && st.pages_owned == 0,
	      "nothing left: domain %d, %llu pinned, %llu owned",
	      st.has_domain, (unsigned long long)st.pages_pinned,
	      (unsigned long long)st.pages_owned);
	tg_machine_page_stats(e.m, &ps);
	CHECK(ps.pinned == 0 && ps.mediator == 0 && ps.guest == 0,
	      "machine: %llu pinned, %llu mediator, %llu guest",
	      (unsigned long long)ps.pinned,
	      (unsigned long long)ps.mediator, (unsigned long long)ps.guest);
	memset(regs, 0, sizeof(regs));
	regs[0] = OPTEE_SMC_GET_OS_REVISION;
	regs[7] = client;
	tg_qemu_smc(e.q, TG_QEMU_CPU_ANY, regs);
	printf("# after destroy: GET_OS_REVISION with a7 = %u: a0 = %#llx\n",
	       client, (unsigned long long)regs[0]);
	CHECK(regs[0] == OPTEE_SMC_RETURN_ENOTAVAIL,
	      "VM_DESTROYED: OP-TEE no longer knows client %u", client);
	tg_guest_release(g);
	env_stop(&e);
	return failures ? 1 : 0;
}

/* ---- guests one after another, each with an 8 MiB buffer ---------------- */

struct bigbuf_run {
	uint32_t rounds_ok, rounds;
	uint32_t first_ret;
};

static void bigbuf_main(struct tg_vcpu *v, void *arg)
{
	struct bigbuf_run *b = arg;
	TEEC_SharedMemory shm;
	TEEC_Context c;
	uint32_t i;

	(void)v;
	if (TEEC_InitializeContext(NULL, &c))
		return;
	for (i = 0; i < 3; i++) {
		TEEC_Result r;

		memset(&shm, 0, sizeof(shm));
		shm.size = 8u << 20;
		shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
		r = TEEC_AllocateSharedMemory(&c, &shm);
		b->rounds++;
		if (r == TEEC_SUCCESS) {
			TEEC_Session s;
			TEEC_Operation op;
			uint32_t origin;

			memset(shm.buffer, 1, shm.size);
			r = TEEC_OpenSession(&c, &s, &invoke_tests_uuid,
					     TEEC_LOGIN_PUBLIC, NULL, NULL,
					     &origin);
			if (r == TEEC_SUCCESS) {
				memset(&op, 0, sizeof(op));
				op.paramTypes = TEEC_PARAM_TYPES(
					TEEC_MEMREF_WHOLE, TEEC_NONE,
					TEEC_NONE, TEEC_NONE);
				op.params[0].memref.parent = &shm;
				r = TEEC_InvokeCommand(
					&s, PTA_INVOKE_TESTS_CMD_PARAMS, &op,
					&origin);
				TEEC_CloseSession(&s);
			}
			if (r == TEEC_SUCCESS)
				b->rounds_ok++;
			else if (!b->first_ret)
				b->first_ret = r;
			TEEC_ReleaseSharedMemory(&shm);
		} else if (!b->first_ret) {
			b->first_ret = r;
		}
	}
	TEEC_FinalizeContext(&c);
}

/*
 * Guests one after another, each registering an 8 MiB buffer: each new
 * OP-TEE partition must get its own SHM virtual space (32 MiB,
 * core_virt_shm_pool, which with CFG_NS_VIRTUALIZATION lives in the
 * partition's .bss) and heap, whatever the guests before it did.
 */
static int test_sequential_big_buffers(void)
{
	struct env e;
	uint32_t i;

	if (env_start(&e, true))
		return 1;
	for (i = 0; i < 8; i++) {
		struct bigbuf_run b = { 0 };

		if (run_guest(&e, bigbuf_main, &b, TG_GUEST_THREAD))
			failures++;
		printf("# guest %u: %u of %u 8 MiB registrations ok (first error %#x)\n",
		       i + 1, b.rounds_ok, b.rounds, b.first_ret);
		CHECK(b.rounds && b.rounds_ok == b.rounds, "guest %u", i + 1);
	}
	env_stop(&e);
	return failures ? 1 : 0;
}

/* ---- a temporary memref's cookie --------------------------------------- */

struct cookie_run {
	uint32_t temp_ret, rmem_ret, unreg_ret;
	uint8_t a0, b0;
	bool done;
};

/*
 * A temporary memref over page B whose shm_ref is the cookie of the
 * guest's registered buffer A, then an RMEM of A: the TEE must work on
 * A. OP-TEE 4.10 files the TMEM's leaked object under that cookie, in
 * front of A, so it would write into B, a page the mediator unpinned
 * when the first call ended.
 */
static void cookie_main(struct tg_vcpu *v, void *arg)
{
	union {
		struct optee_msg_arg m;
		uint8_t raw[OPTEE_MSG_ARG_HDR_SIZE + OPTEE_MSG_PARAM_SIZE];
	} msg;
	struct cookie_run *cr = arg;
	struct tg_optee_shm *a = NULL, *b = NULL;
	struct tg_optee_result res;
	struct tg_optee_param p;
	uint64_t *list, list_ipa;
	struct tg_optee *drv;
	uint32_t origin, smc;
	TEEC_Session s;
	TEEC_Context c;

	(void)v;
	if (TEEC_InitializeContext(NULL, &c))
		return;
	drv = c.drv;
	if (TEEC_OpenSession(&c, &s, &invoke_tests_uuid, TEEC_LOGIN_PUBLIC,
			     NULL, NULL, &origin) ||
	    tg_optee_shm_alloc(drv, 4096, true, &a, NULL) ||
	    tg_optee_shm_alloc(drv, 4096, false, &b, NULL))
		return;
	list = tg_optee_mem_alloc(drv, 4096);
	if (!list || !tg_optee_ipa_of(drv, list, 4096, &list_ipa))
		return;
	list[0] = b->ipa;
	memset(b->va, 2, 4096);
	memset(&msg, 0, sizeof(msg));
	msg.m.cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	msg.m.func = PTA_INVOKE_TESTS_CMD_PARAMS;
	msg.m.session = s.session_id;
	msg.m.num_params = 1;
	msg.m.params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | OPTEE_MSG_ATTR_NONCONTIG;
	msg.m.params[0].u.tmem.buf_ptr = list_ipa;
	msg.m.params[0].u.tmem.size = 4096;
	msg.m.params[0].u.tmem.shm_ref = a->cookie;
	if (tg_optee_raw_call(drv, &msg.m, &smc))
		return;
	cr->temp_ret = msg.m.ret;

	/* byte sums of the page: 4096 * 1 and 4096 * 3 are 0 mod 256 */
	memset(a->va, 1, 4096);
	memset(b->va, 3, 4096);
	memset(&p, 0, sizeof(p));
	p.type = TG_OPTEE_PARAM_MEMREF_INOUT;
	p.u.memref.shm = a;
	p.u.memref.size = 4096;
	if (tg_optee_invoke(drv, s.session_id, PTA_INVOKE_TESTS_CMD_PARAMS, 0,
			    &p, 1, &res))
		return;
	cr->rmem_ret = res.ret;
	cr->a0 = ((uint8_t *)a->va)[0];
	cr->b0 = ((uint8_t *)b->va)[0];

	/* OP-TEE 4.10 would find the leaked object first and refuse. */
	memset(&msg, 0, sizeof(msg));
	msg.m.cmd = OPTEE_MSG_CMD_UNREGISTER_SHM;
	msg.m.num_params = 1;
	msg.m.params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	msg.m.params[0].u.rmem.shm_ref = a->cookie;
	if (tg_optee_raw_call(drv, &msg.m, &smc))
		return;
	cr->unreg_ret = msg.m.ret;
	cr->done = true;
	tg_optee_shm_free(a);
	tg_optee_shm_free(b);
	tg_optee_mem_free(drv, list);
	TEEC_CloseSession(&s);
	TEEC_FinalizeContext(&c);
}

static int test_temp_memref_cookie(void)
{
	struct cookie_run cr = { 0 };
	struct env e;

	if (env_start(&e, true))
		return 1;
	if (run_guest(&e, cookie_main, &cr, TG_GUEST_THREAD))
		failures++;
	printf("# temporary memref: %#x; RMEM of the registered buffer: %#x, its byte 0 %u (0: the sum was written there), the other page's %u (3: untouched); UNREGISTER_SHM of it: %#x\n",
	       cr.temp_ret, cr.rmem_ret, cr.a0, cr.b0, cr.unreg_ret);
	CHECK(cr.done, "the guest ran to its end");
	CHECK(cr.temp_ret == TEEC_SUCCESS && cr.rmem_ret == TEEC_SUCCESS,
	      "both invokes succeed");
	CHECK(cr.a0 == 0 && cr.b0 == 3,
	      "the TEE worked on the registered buffer, not on the temporary memref's page");
	CHECK(cr.unreg_ret == TEEC_SUCCESS, "the registered buffer unregisters");
	env_stop(&e);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "pta_answers", test_pta_answers },
		{ "same_answers", test_same_answers },
		{ "several_guests", test_several_guests },
		{ "guest_destruction", test_guest_destruction },
		{ "sequential_big_buffers", test_sequential_big_buffers },
		{ "temp_memref_cookie", test_temp_memref_cookie },
	};
	size_t i;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test_optee TEST\n");
		return 2;
	}
	if (!getenv("TEEGATE_OPTEE_FIRMWARE")) {
		printf("TEEGATE_OPTEE_FIRMWARE not set: skipped (set it to a firmware directory, docs/real-optee.md)\n");
		return SKIP;
	}
	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1")) {
		printf("qemu-system-aarch64 not installed: skipped\n");
		return SKIP;
	}
	/* OP-TEE's SMC ABI: an FF-A firmware has optee.ffa_* and demo_ffa */
	if (tgt_need_protocol(TG_PROTOCOL_OPTEE))
		return SKIP;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(argv[1], tests[i].name))
			continue;
		rc = tests[i].fn();
		printf("%s: %s\n", tests[i].name, rc ? "FAILED" : "passed");
		return rc;
	}
	fprintf(stderr, "test_optee: no test '%s'\n", argv[1]);
	return 2;
}
