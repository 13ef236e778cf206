// SPDX-License-Identifier: BSD-2-Clause
/*
 * The protocols this library serves, for the core (src/core/proto.h),
 * which names none of them.
 */
#include "internal.h"

extern const struct tg_proto tg_optee_proto;
extern const struct tg_proto tg_ffa_proto;

/*
 * OP-TEE's SMC ABI is the built-in protocol (src/builtin_proto.h): its
 * entry is tg_handle_smc()'s fast path; FF-A is served through the ops.
 */
const struct tg_proto *const tg_protocols[TG_PROTOCOL_COUNT] = {
	[TG_PROTOCOL_OPTEE] = &tg_optee_proto, /* src/optee */
	[TG_PROTOCOL_FFA] = &tg_ffa_proto,     /* src/ffa */
};

const char *tg_protocol_name(enum tg_protocol p)
{
	switch (p) {
	case TG_PROTOCOL_AUTO:
		return "auto";
	case TG_PROTOCOL_OPTEE:
		return "optee";
	case TG_PROTOCOL_FFA:
		return "ffa";
	default:
		return "?";
	}
}
