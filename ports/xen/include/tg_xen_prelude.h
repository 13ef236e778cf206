/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forced in (-include) before each mediator-core file that Xen compiles,
 * after Xen's own xen/config.h, so that the core builds as it is:
 *  - the core defines likely()/unlikely() for itself; Xen's compiler.h
 *    already did, with the same meaning but another spelling, which GCC
 *    reports as a redefinition;
 *  - the core writes __attribute__((cold, noinline)), and Xen's compiler.h
 *    makes "noinline" a macro that expands to a whole __attribute__.
 * Only the core's own files see these #undefs; Xen's files and the port
 * glue (tg_xen.c) keep Xen's macros.
 */
#undef likely
#undef unlikely
#undef noinline
