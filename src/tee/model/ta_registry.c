// SPDX-License-Identifier: BSD-2-Clause
/*
 * The TAs built into the model and the accessors they use to reach their
 * memory references (normal-world memory, through the span helpers).
 */
#include <string.h>

#include "model_internal.h"

static const struct ta_desc *const builtin_tas[] = {
	&pta_invoke_tests, &pta_stats, &pta_device_enum,
	&ta_bigbuf,	   &ta_yield,  &ta_notify,
};

const struct ta_desc *ta_find(const uint8_t uuid[16])
{
	for (size_t i = 0; i < sizeof(builtin_tas) / sizeof(builtin_tas[0]);
	     i++)
		if (!memcmp(builtin_tas[i]->uuid, uuid, 16))
			return builtin_tas[i];
	return NULL;
}

bool ta_mem_read(struct tg_model *m, struct model_thread *t,
		 const struct ta_param *p, uint64_t off, void *dst,
		 uint64_t len)
{
	if (p->mem_is_null)
		return !len && !off;
	return span_read(m, t->client_id, &p->mem, off, dst, len);
}

bool ta_mem_write(struct tg_model *m, struct model_thread *t,
		  const struct ta_param *p, uint64_t off, const void *src,
		  uint64_t len)
{
	if (p->mem_is_null)
		return !len && !off;
	return span_write(m, t->client_id, &p->mem, off, src, len);
}
