/* SPDX-License-Identifier: BSD-2-Clause */
/* <stdbool.h> for teegate inside Xen: Xen's own bool. */
#ifndef TG_XEN_STDBOOL_H
#define TG_XEN_STDBOOL_H

#include <xen/stdbool.h>

#endif /* TG_XEN_STDBOOL_H */
