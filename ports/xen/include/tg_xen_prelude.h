/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forced in (-include) before each mediator-core file that Xen compiles,
 * after Xen's own xen/config.h, so that the core builds as it is.
 *
 * Xen's compiler.h defines macros named like GCC attributes
 * ("noinline", "always_inline", "gnu_inline", "noreturn": each expands
 * to a whole __attribute__), which breaks the core's
 * __attribute__((cold, noinline)) and __attribute__((always_inline)); and
 * it defines likely()/unlikely(), which the core defines for itself with
 * the same meaning but another spelling (GCC reports a redefinition).
 * Only the core's own files see these #undefs; Xen's files and the port
 * glue (tg_xen.c) keep Xen's macros.
 */
#undef likely
#undef unlikely
#undef noinline
#undef always_inline
#undef gnu_inline
#undef noreturn
