// SPDX-License-Identifier: BSD-2-Clause
/*
 * The protocols this library serves, for the core (src/core/proto.h),
 * which names none of them.
 */
#include "internal.h"

extern const struct tg_proto tg_ffa_proto;

const struct tg_proto *const tg_protocols[TG_PROTOCOL_COUNT] = {
	[TG_PROTOCOL_OPTEE] = &tg_proto_builtin, /* src/optee */
	[TG_PROTOCOL_FFA] = &tg_ffa_proto,	 /* src/ffa */
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
