/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * <stdint.h> for teegate inside Xen. Xen builds with -nostdinc, so the
 * mediator core's standard includes land here and map onto Xen's own
 * types: one definition of uint64_t & co. for the core and the port glue.
 */
#ifndef TG_XEN_STDINT_H
#define TG_XEN_STDINT_H

#include <xen/types.h>

#ifndef UINT8_MAX
#define UINT8_MAX (255)
#endif
#ifndef UINT16_MAX
#define UINT16_MAX (65535)
#endif
#ifndef UINT32_MAX
#define UINT32_MAX (4294967295U)
#endif
#ifndef UINT64_MAX
#define UINT64_MAX (18446744073709551615ULL)
#endif
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif

#endif /* TG_XEN_STDINT_H */
