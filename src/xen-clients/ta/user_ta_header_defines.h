/* SPDX-License-Identifier: BSD-2-Clause */
/* The bigbuf TA's properties (OP-TEE's TA dev kit reads this file). */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include "bigbuf_ta.h"

#define TA_UUID TG_BIGBUF_TA_UUID
#define TA_FLAGS (TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION)
#define TA_STACK_SIZE (4 * 1024)
#define TA_DATA_SIZE (16 * 1024)

#endif
