/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The function-id table: what the mediator does with each OP-TEE id.
 * Exported for the unit tests and tools that print docs/optee-ids.md.
 */
#ifndef TEEGATE_OPTEE_IDS_H
#define TEEGATE_OPTEE_IDS_H

#include <stdint.h>

enum optee_fn_class {
	FN_FORWARD,	     /* forwarded with the guest's client id in a7 */
	FN_EMULATE,	     /* answered by the mediator */
	FN_STD,		     /* std call: shadowed and translated */
	FN_REFUSE_HYP_ONLY,  /* hypervisor-only: UNKNOWN_FUNCTION */
	FN_REFUSE_WHOLE_TEE, /* acts on the whole TEE: UNKNOWN_FUNCTION */
};

struct optee_fn {
	uint32_t id;
	const char *name;
	enum optee_fn_class cls;
};

extern const struct optee_fn optee_fn_table[];
extern const unsigned int optee_fn_table_len;

#endif /* TEEGATE_OPTEE_IDS_H */
