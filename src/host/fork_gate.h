/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fork gate: the hypervisor forks (an exec guest's start) only while
 * no thread is inside a trap, so that the child inherits no lock a
 * handler held at that instant (libc's, the sanitizers' allocator's, the
 * mediator's).
 *
 * It replaces a process-wide read-write lock. Every trap took that lock
 * for reading, and a read lock is a write to one shared cache line: with
 * a guest on each core, every call moved that line from one core to the
 * other (teegate bench --scaling --trap-on-vcpu). Here a thread in a trap
 * counts itself in one of TG_FORK_STRIPES counters, chosen by its guest
 * and vCPU, each on a cache line of its own; the forker raises @closed
 * and waits for every counter to drain. Sequentially consistent on both
 * sides (a trap raises its counter, then reads @closed; the forker raises
 * @closed, then reads the counters), so at least one of the two sees the
 * other: no trap runs while the fork does.
 */
#ifndef TG_HOST_FORK_GATE_H
#define TG_HOST_FORK_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define TG_FORK_STRIPES 16u

struct tg_fork_gate {
	_Atomic uint32_t closed; /* a fork is waiting or running */
	pthread_mutex_t forkers; /* one fork at a time */
	/*
	 * 128 bytes apart, so that no two counters share a 64-byte line
	 * whatever the alignment of the structure (an allocation of the
	 * machine, aligned for any scalar only).
	 */
	struct {
		_Atomic uint32_t inside;
		uint8_t pad[124];
	} stripe[TG_FORK_STRIPES];
};

void tg_fork_gate_init(struct tg_fork_gate *f);
void tg_fork_gate_destroy(struct tg_fork_gate *f);
/* Forker: wait until no thread is inside; returns with the gate closed. */
void tg_fork_gate_close(struct tg_fork_gate *f);
void tg_fork_gate_open(struct tg_fork_gate *f);
/* Wait while the gate is closed (out of line: the rare case). */
void tg_fork_gate_wait(struct tg_fork_gate *f);

/* A stripe for a guest's vCPU: different guests, different lines. */
static inline uint32_t tg_fork_stripe(uint32_t client_id, uint32_t vcpu)
{
	return (client_id * 5u + vcpu) % TG_FORK_STRIPES;
}

/* Enter the gate on @stripe (waits while a fork runs). */
static inline void tg_fork_gate_enter(struct tg_fork_gate *f, uint32_t stripe)
{
	for (;;) {
		atomic_fetch_add(&f->stripe[stripe].inside, 1);
		if (__builtin_expect(!atomic_load(&f->closed), 1))
			return;
		atomic_fetch_sub(&f->stripe[stripe].inside, 1);
		tg_fork_gate_wait(f);
	}
}

static inline void tg_fork_gate_leave(struct tg_fork_gate *f, uint32_t stripe)
{
	atomic_fetch_sub_explicit(&f->stripe[stripe].inside, 1,
				  memory_order_release);
}

#endif /* TG_HOST_FORK_GATE_H */
