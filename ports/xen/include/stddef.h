/* SPDX-License-Identifier: BSD-2-Clause */
/* <stddef.h> for teegate inside Xen: size_t and NULL from Xen's types,
 * offsetof from Xen's compiler.h (always included first by Xen). */
#ifndef TG_XEN_STDDEF_H
#define TG_XEN_STDDEF_H

#include <xen/types.h>

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

#endif /* TG_XEN_STDDEF_H */
