// SPDX-License-Identifier: BSD-2-Clause
/*
 * stats pseudo-TA (d96a5b40-e2c7-b1af-8794-1002a5d5c61b): ALLOC and
 * GET_TIME, the latter fetching the normal world's time with RPC CMD
 * GET_TIME exactly as OP-TEE does.
 */
#include <string.h>

#include "model_internal.h"

/* Commands besides ALLOC and GET_TIME (pta_stats.h of OP-TEE). */
#define STATS_CMD_PAGER_STATS 0u
#define STATS_CMD_MEMLEAK_STATS 2u
#define STATS_CMD_TA_STATS 3u
/* Allocator pools the model reports; pool id 0 means all of them. */
#define STATS_POOL_ALL 0u
#define STATS_RECORD_SIZE 64u

struct stats_pool {
	const char *desc;
	uint32_t size;
};

/*
 * The pools of OP-TEE 4.x with virtualization, in pool-id order (1..5),
 * with the sizes OP-TEE 4.10's QEMU v8 build (CFG_VIRT_GUEST_COUNT=2)
 * reports to a guest (tests/qemu/test_optee.c compares them).
 */
static const struct stats_pool stats_pools[] = {
	{ "Heap", 0x30d40 },
	{ "Public DDR (deprecated)", 0 },
	{ "Physical TA memory", 0x633000 },
	{ "KHeap", 0x7c60 },
	{ "RPMB secure storage (no data)", 0 },
};

#define STATS_NUM_POOLS (sizeof(stats_pools) / sizeof(stats_pools[0]))

/*
 * One 64-byte record, OP-TEE's struct pta_stats_alloc: desc[32], u64
 * free2_sum (offset 32), then u32 allocated (40), max_allocated (44),
 * size (48), num_alloc_fail, biggest_alloc_fail, biggest_alloc_fail_used.
 * The model allocates nothing of its own: @allocated is what leaked
 * TMEMs hold (cfg.leak_noncontig_tmem), 0 otherwise.
 */
static void stats_record(const struct stats_pool *pool, uint32_t allocated,
			 uint8_t rec[STATS_RECORD_SIZE])
{
	uint32_t words[8] = { 0, 0, allocated, allocated, pool->size, 0, 0, 0 };

	memset(rec, 0, STATS_RECORD_SIZE);
	memcpy(rec, pool->desc, strnlen(pool->desc, 31));
	memcpy(rec + 32, words, sizeof(words));
}

static uint32_t cmd_alloc(struct tg_model *m, struct model_thread *t)
{
	struct ta_param *out = &t->params[1];
	uint64_t pool_id = t->params[0].value.a;
	uint32_t first, count;
	uint8_t rec[STATS_RECORD_SIZE];

	if (ta_param_types(t) !=
	    TA_PARAM_TYPES(TA_PARAM_VALUE_INPUT, TA_PARAM_MEMREF_OUTPUT, 0, 0))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (pool_id == STATS_POOL_ALL) {
		first = 0;
		count = STATS_NUM_POOLS;
	} else if (pool_id <= STATS_NUM_POOLS) {
		first = (uint32_t)pool_id - 1;
		count = 1;
	} else {
		return TEEC_ERROR_BAD_PARAMETERS;
	}
	if (out->mem.size < (uint64_t)count * STATS_RECORD_SIZE) {
		out->mem.size = (uint64_t)count * STATS_RECORD_SIZE;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t leaked = first + i == 0 ? t->guest->heap_leaked : 0;

		stats_record(&stats_pools[first + i],
			     leaked > UINT32_MAX ? UINT32_MAX : (uint32_t)leaked,
			     rec);
		if (!tgm_ta_mem_write(m, t, out,
				      (uint64_t)i * STATS_RECORD_SIZE, rec,
				      STATS_RECORD_SIZE))
			return TEEC_ERROR_BAD_PARAMETERS;
	}
	out->mem.size = (uint64_t)count * STATS_RECORD_SIZE;
	return TEEC_SUCCESS;
}

/*
 * GET_TIME, two steps: ask the normal world (RPC CMD GET_TIME: value.a =
 * seconds, value.b = nanoseconds), then report it in param 0 as seconds
 * and milliseconds and the TEE's own time in param 1.
 */
static enum step_result cmd_get_time(struct model_thread *t)
{
	uint64_t secs, millis;

	if (t->step == 0) {
		if (ta_param_types(t) != TA_PARAM_TYPES(TA_PARAM_VALUE_OUTPUT,
							TA_PARAM_VALUE_OUTPUT,
							0, 0))
			return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
		tgm_rpc_prepare(t, OPTEE_RPC_CMD_GET_TIME, 1);
		t->rpc.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		t->step = 1;
		return STEP_RPC_CMD;
	}
	if (t->rpc.ret != TEEC_SUCCESS)
		return ta_done(t, t->rpc.ret);
	t->params[0].value.a = (uint32_t)t->rpc.params[0].u.value.a;
	t->params[0].value.b =
		(uint32_t)(t->rpc.params[0].u.value.b / 1000000u);
	tgm_tee_time(&secs, &millis);
	t->params[1].value.a = (uint32_t)secs;
	t->params[1].value.b = (uint32_t)millis;
	return ta_done(t, TEEC_SUCCESS);
}

/* No pager in this build: all counters are zero. */
static uint32_t cmd_pager(struct model_thread *t)
{
	if (ta_param_types(t) != TA_PARAM_TYPES(TA_PARAM_VALUE_OUTPUT,
						TA_PARAM_VALUE_OUTPUT,
						TA_PARAM_VALUE_OUTPUT, 0))
		return TEEC_ERROR_BAD_PARAMETERS;
	for (uint32_t i = 0; i < 3; i++) {
		t->params[i].value.a = 0;
		t->params[i].value.b = 0;
	}
	return TEEC_SUCCESS;
}

static enum step_result stats_invoke(struct tg_model *m, struct model_thread *t)
{
	switch (t->ta_cmd) {
	case STATS_CMD_PAGER_STATS:
		return ta_done(t, cmd_pager(t));
	case STATS_CMD_MEMLEAK_STATS:
		return ta_done(t, ta_param_types(t) ? TEEC_ERROR_BAD_PARAMETERS
						    : TEEC_SUCCESS);
	case STATS_CMD_TA_STATS:
		/* Built without CFG_TA_STATS. */
		return ta_done(
			t, ta_param_types(t) == TA_PARAM_TYPES(
							TA_PARAM_MEMREF_OUTPUT,
							0, 0, 0)
				   ? TEEC_ERROR_NOT_SUPPORTED
				   : TEEC_ERROR_BAD_PARAMETERS);
	case PTA_STATS_CMD_ALLOC:
		return ta_done(t, cmd_alloc(m, t));
	case PTA_STATS_CMD_GET_TIME:
		return cmd_get_time(t);
	default:
		return ta_done(t, TEEC_ERROR_BAD_PARAMETERS);
	}
}

const struct ta_desc tgm_pta_stats = {
	.name = "stats.pta",
	.uuid = PTA_STATS_UUID,
	.invoke = stats_invoke,
};
