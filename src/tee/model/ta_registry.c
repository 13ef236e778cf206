// SPDX-License-Identifier: BSD-2-Clause
/*
 * The TAs built into the model and the accessors they use to reach their
 * memory references (normal-world memory, through the span helpers).
 */
#include <string.h>

#include "model_internal.h"

static const struct ta_desc *const builtin_tas[] = {
	&tgm_pta_invoke_tests, &tgm_pta_stats, &tgm_pta_device_enum,
	&tgm_ta_bigbuf,	       &tgm_ta_yield,  &tgm_ta_notify,
	&tgm_ta_bigbuf_sum,
};

const struct ta_desc *tgm_ta_find(const uint8_t uuid[16])
{
	for (size_t i = 0; i < sizeof(builtin_tas) / sizeof(builtin_tas[0]);
	     i++)
		if (!memcmp(builtin_tas[i]->uuid, uuid, 16))
			return builtin_tas[i];
	return NULL;
}

bool tgm_ta_mem_read(struct tg_model *m, struct model_thread *t,
		     const struct ta_param *p, uint64_t off, void *dst,
		     uint64_t len)
{
	if (p->mem_is_null)
		return !len && !off;
	return tgm_span_read(m, t->client_id, &p->mem, off, dst, len);
}

bool tgm_ta_mem_write(struct tg_model *m, struct model_thread *t,
		      const struct ta_param *p, uint64_t off, const void *src,
		      uint64_t len)
{
	if (p->mem_is_null)
		return !len && !off;
	return tgm_span_write(m, t->client_id, &p->mem, off, src, len);
}
