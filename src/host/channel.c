// SPDX-License-Identifier: BSD-2-Clause
/*
 * Channel notification, both sides (see channel.h). The only code that
 * differs between the sandboxed and the service isolation modes.
 *
 * Futex: the waiting side spins for up to spin_ns (pure spinning for the
 * first 2 us, then yielding; only yielding when its peer runs on the same
 * CPU, tg_chan.near), then sets its "sleeping" flag, re-checks the
 * counter and sleeps on it (Dekker pattern, as in trap.c); the handing side
 * stores the counter, then wakes the sleeper if the flag is set.
 *
 * Eventfd: the same, but the sleeper blocks in read() of the slot's eventfd
 * for its direction and the handing side write()s 1 to it: an event
 * channel. With TG_CHAN_EVENTFD there is no spinning at all (every hand-over
 * is a notification, like Xen's event channels); TG_CHAN_EVENTFD_POLL spins
 * first, like a service domain polling on a dedicated core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

#define SOLO_NS 2000u
#define DEAD_CHECK_MS 50

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t tg_chan_mem_size(void)
{
	return (sizeof(struct tg_chan_mem) + 4095u) & ~(size_t)4095u;
}

static bool spin(_Atomic uint32_t *word, uint32_t seq, uint32_t budget,
		 bool near)
{
	uint64_t start = 0, el;
	uint32_t n;

	for (n = 1;; n++) {
		if (atomic_load_explicit(word, memory_order_acquire) == seq)
			return true;
		if (near) {
			/* the peer is on this CPU: it runs once we yield */
			sched_yield();
		} else {
			relax();
			if (n % 32u)
				continue;
		}
		if (!start) {
			start = now_ns();
			continue;
		}
		el = now_ns() - start;
		if (el > budget)
			return false;
		if (!near && el > SOLO_NS)
			sched_yield();
	}
}

static void kick(struct tg_chan *c, _Atomic uint32_t *word,
		 _Atomic uint32_t *sleeping, int efd, uint32_t seq)
{
	uint64_t one = 1;

	atomic_store(word, seq);
	if (!atomic_load(sleeping))
		return;
	if (c->notify == TG_CHAN_FUTEX)
		syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL,
			0);
	else if (write(efd, &one, sizeof(one)) < 0) {
		/* a full eventfd counter still wakes the reader */
	}
}

/*
 * Wait until *word == seq. @dead (may be NULL) ends the wait early.
 */
static bool wait_for(struct tg_chan *c, _Atomic uint32_t *word,
		     _Atomic uint32_t *sleeping, int efd, uint32_t seq,
		     int timeout_ms, bool near)
{
	uint32_t cur;
	int waited = 0;

	if (c->notify != TG_CHAN_EVENTFD && c->spin_ns &&
	    spin(word, seq, c->spin_ns, near))
		return true;
	for (;;) {
		atomic_store(sleeping, 1);
		cur = atomic_load(word);
		if (cur == seq)
			break;
		if (c->dead && atomic_load(c->dead)) {
			atomic_store(sleeping, 0);
			return false;
		}
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			atomic_store(sleeping, 0);
			return false;
		}
		if (c->notify == TG_CHAN_FUTEX) {
			struct timespec ts = { 0, DEAD_CHECK_MS * 1000000L };

			syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, cur,
				&ts, NULL, 0);
		} else {
			struct pollfd p = { .fd = efd, .events = POLLIN };
			uint64_t v;

			if (poll(&p, 1, DEAD_CHECK_MS) > 0 &&
			    read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
				atomic_store(sleeping, 0);
				return false;
			}
		}
		waited += DEAD_CHECK_MS;
	}
	atomic_store(sleeping, 0);
	atomic_thread_fence(memory_order_acquire);
	return true;
}

void tg_chan_to_med(struct tg_chan *c, uint32_t slot, uint32_t seq)
{
	struct tg_chan_slot *s = &c->mem->slots[slot];

	kick(c, &s->to_med, &s->med_sleeping, c->efd_med[slot], seq);
}

void tg_chan_to_hyp(struct tg_chan *c, uint32_t slot, uint32_t seq)
{
	struct tg_chan_slot *s = &c->mem->slots[slot];

	kick(c, &s->to_hyp, &s->hyp_sleeping, c->efd_hyp[slot], seq);
}

bool tg_chan_wait_hyp(struct tg_chan *c, uint32_t slot, uint32_t seq,
		      int timeout_ms)
{
	struct tg_chan_slot *s = &c->mem->slots[slot];

	return wait_for(c, &s->to_hyp, &s->hyp_sleeping, c->efd_hyp[slot], seq,
			timeout_ms, c->near[slot]);
}

bool tg_chan_wait_med(struct tg_chan *c, uint32_t slot, uint32_t seq,
		      int timeout_ms)
{
	struct tg_chan_slot *s = &c->mem->slots[slot];

	return wait_for(c, &s->to_med, &s->med_sleeping, c->efd_med[slot], seq,
			timeout_ms, c->near[slot]);
}

void tg_chan_wake_all_hyp(struct tg_chan *c)
{
	uint64_t one = 1;
	uint32_t i;

	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		struct tg_chan_slot *s = &c->mem->slots[i];

		if (c->notify == TG_CHAN_FUTEX)
			syscall(SYS_futex, (uint32_t *)&s->to_hyp, FUTEX_WAKE,
				1 << 30, NULL, NULL, 0);
		else if (write(c->efd_hyp[i], &one, sizeof(one)) < 0) {
			/* ignore */
		}
	}
}
