/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * <stdatomic.h> for teegate inside Xen. Xen builds with -nostdinc, so
 * GCC's own header is out of reach; the core only uses the generic
 * functions below on _Atomic objects, which map one to one onto GCC's
 * __atomic builtins (the same code GCC's header expands to). Xen's arm64
 * build passes -mno-outline-atomics, so these inline as LDAXR/STLXR loops
 * (or LSE instructions) and never call libgcc.
 */
#ifndef TG_XEN_STDATOMIC_H
#define TG_XEN_STDATOMIC_H

typedef enum {
	memory_order_relaxed = __ATOMIC_RELAXED,
	memory_order_consume = __ATOMIC_CONSUME,
	memory_order_acquire = __ATOMIC_ACQUIRE,
	memory_order_release = __ATOMIC_RELEASE,
	memory_order_acq_rel = __ATOMIC_ACQ_REL,
	memory_order_seq_cst = __ATOMIC_SEQ_CST
} memory_order;

#define atomic_load_explicit(p, mo) __atomic_load_n((p), (mo))
#define atomic_store_explicit(p, v, mo) __atomic_store_n((p), (v), (mo))
#define atomic_exchange_explicit(p, v, mo) __atomic_exchange_n((p), (v), (mo))
#define atomic_fetch_add_explicit(p, v, mo) __atomic_fetch_add((p), (v), (mo))
#define atomic_fetch_sub_explicit(p, v, mo) __atomic_fetch_sub((p), (v), (mo))
#define atomic_fetch_or_explicit(p, v, mo) __atomic_fetch_or((p), (v), (mo))
#define atomic_fetch_and_explicit(p, v, mo) __atomic_fetch_and((p), (v), (mo))
#define atomic_compare_exchange_strong_explicit(p, e, v, ok, bad) \
	__atomic_compare_exchange_n((p), (e), (v), 0, (ok), (bad))
#define atomic_compare_exchange_weak_explicit(p, e, v, ok, bad) \
	__atomic_compare_exchange_n((p), (e), (v), 1, (ok), (bad))

#define atomic_load(p) atomic_load_explicit(p, __ATOMIC_SEQ_CST)
#define atomic_store(p, v) atomic_store_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_exchange(p, v) atomic_exchange_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_add(p, v) atomic_fetch_add_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_sub(p, v) atomic_fetch_sub_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_or(p, v) atomic_fetch_or_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_and(p, v) atomic_fetch_and_explicit(p, v, __ATOMIC_SEQ_CST)
#define atomic_compare_exchange_strong(p, e, v)                         \
	atomic_compare_exchange_strong_explicit(p, e, v, __ATOMIC_SEQ_CST, \
						__ATOMIC_SEQ_CST)
#define atomic_compare_exchange_weak(p, e, v)                         \
	atomic_compare_exchange_weak_explicit(p, e, v, __ATOMIC_SEQ_CST, \
					      __ATOMIC_SEQ_CST)
#define atomic_thread_fence(mo) __atomic_thread_fence(mo)

#endif /* TG_XEN_STDATOMIC_H */
