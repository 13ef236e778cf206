/* SPDX-License-Identifier: BSD-2-Clause */
/* <string.h> for teegate inside Xen: the core uses only memcpy, memset
 * and memcmp (tools/freestanding-check.sh), which Xen provides. */
#ifndef TG_XEN_STRING_H
#define TG_XEN_STRING_H

#include <xen/string.h>

#endif /* TG_XEN_STRING_H */
