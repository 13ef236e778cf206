/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's built-in protocol: the one whose entry is tg_handle_smc()'s
 * fast path and whose state lives inline in the core's structures
 * (src/core/internal.h). OP-TEE's SMC ABI, src/optee.
 */
#ifndef TEEGATE_BUILTIN_PROTO_H
#define TEEGATE_BUILTIN_PROTO_H

#include "optee/optee_state.h"

#endif
