// SPDX-License-Identifier: BSD-2-Clause
/*
 * Traps: a vCPU's SMC/HVC goes through its slot (a page shared between the
 * guest process and the hypervisor) to that vCPU's handler thread, or,
 * with tg_machine_config.trap_on_vcpu (thread-mode guests), is handled on
 * the vCPU's own thread as on Arm.
 *
 * Each waiting side spins for an adaptive budget (at most the machine's
 * spin_ns, 20 us by default) with a pause instruction, the first 2 us
 * alone and then with sched_yield() between rounds, then sleeps on a
 * futex. Co-located with its peer (place.c), a side yields from the
 * start: its peer runs on the same CPU, and only once it yields. Split
 * (place.c), a vCPU never yields: its handler has a CPU of its own, and
 * a yield would only hand the vCPU's CPU to another guest while its
 * answer comes. The budget halves every time a
 * wait ends up sleeping and grows again when spinning pays, so that with
 * more runnable threads than cores the sides quickly stop burning the CPU
 * the other side needs.
 *
 * Sleeping uses the Dekker pattern: set "I sleep", re-check the word, then
 * FUTEX_WAIT on the value seen; the other side stores the word, then reads
 * the flag and wakes. Both orders use seq_cst atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pin.h"

#define SPIN_MIN_NS 10000u
#define SPIN_CHECK_EVERY 32u
#define SPIN_SOLO_NS 2000u /* pure spinning before yielding */
#define HANDLER_SLEEP_MS 200

uint64_t tg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tg_futex_wake(_Atomic uint32_t *word, int n)
{
	/* shared futex: the word may live in memory shared across processes */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

int tg_futex_wait(_Atomic uint32_t *word, uint32_t expected, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, tsp,
		    NULL, 0) < 0)
		return -errno;
	return 0;
}

/*
 * Spin until *word != old or the budget runs out. Return true when it
 * changed. Adapts *budget.
 */
static bool spin_until_changed(_Atomic uint32_t *word, uint32_t old,
			       uint32_t *budget, uint32_t max,
			       enum tg_wait how)
{
	uint64_t start = 0, elapsed;
	uint32_t n;

	if (*budget == 0)
		return atomic_load(word) != old;
	for (n = 1;; n++) {
		if (atomic_load_explicit(word, memory_order_acquire) != old) {
			if (*budget < max)
				*budget = *budget * 2 > max ? max
							    : *budget * 2;
			return true;
		}
		if (how == TG_WAIT_NEAR) {
			/* the peer is on this CPU: it runs once we yield */
			sched_yield();
		} else {
			tg_cpu_relax();
			if (n % SPIN_CHECK_EVERY)
				continue;
		}
		if (!start) {
			start = tg_now_ns();
			continue;
		}
		elapsed = tg_now_ns() - start;
		if (elapsed > *budget)
			break;
		/* The other side may need this core: let it run. */
		if (how == TG_WAIT_FAR && elapsed > SPIN_SOLO_NS)
			sched_yield();
	}
	*budget = *budget / 2 < SPIN_MIN_NS ? SPIN_MIN_NS : *budget / 2;
	return false;
}

/*
 * The hypervisor's half of a trap, as a handler thread runs it: on a
 * private copy of the registers, under the fork lock, counted.
 */
void tg_trap_dispatch(struct tg_guest *g, uint32_t vcpu, uint32_t conduit,
		      uint64_t regs[8])
{
	uint32_t stripe = tg_fork_stripe(g->client_id, vcpu);

	tg_fork_gate_enter(&g->m->fork_gate, stripe);
	tg_hyp_dispatch(g, vcpu, conduit, regs);
	tg_fork_gate_leave(&g->m->fork_gate, stripe);
	atomic_fetch_add_explicit(&g->traps, 1, memory_order_relaxed);
}

/* ---- the fork gate (fork_gate.h) ----------------------------------------- */

void tg_fork_gate_init(struct tg_fork_gate *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->forkers, NULL);
}

void tg_fork_gate_destroy(struct tg_fork_gate *f)
{
	pthread_mutex_destroy(&f->forkers);
}

void tg_fork_gate_close(struct tg_fork_gate *f)
{
	pthread_mutex_lock(&f->forkers);
	atomic_store(&f->closed, 1);
	for (uint32_t i = 0; i < TG_FORK_STRIPES; i++)
		while (atomic_load(&f->stripe[i].inside))
			sched_yield();
}

void tg_fork_gate_open(struct tg_fork_gate *f)
{
	atomic_store(&f->closed, 0);
	tg_futex_wake(&f->closed, INT32_MAX);
	pthread_mutex_unlock(&f->forkers);
}

void tg_fork_gate_wait(struct tg_fork_gate *f)
{
	while (atomic_load(&f->closed))
		tg_futex_wait(&f->closed, 1, 10);
}

/*
 * trap_on_vcpu: the vCPU thread becomes the hypervisor for the length of
 * the trap, as a core does on Arm; there is no hand-over. Thread mode only
 * (checked at guest start), so the hypervisor's guest is rt->hyp. A guest
 * being torn down waits for this: tg_guest_wait() joins every vCPU thread
 * before it stops handlers and destroys the domain, and a killed vCPU
 * leaves at the check after its trap (tg_smc()), not in the middle.
 */
static void trap_on_own_thread(struct tg_vcpu *vcpu, uint32_t conduit,
			       uint64_t guest_regs[8])
{
	uint64_t regs[8];

	memcpy(regs, guest_regs, sizeof(regs));
	tg_trap_dispatch(vcpu->rt->hyp, vcpu->index, conduit, regs);
	memcpy(guest_regs, regs, sizeof(regs));
}

/* Guest side: run where the hypervisor placed this vCPU (place.c). */
static void vcpu_place(struct tg_vcpu *vcpu, uint32_t gen)
{
	int32_t cpu = atomic_load(&vcpu->rt->ctl->vcpu_cpu[vcpu->index]);

	vcpu->place_gen = gen;
	vcpu->wait = cpu < 0 ? TG_WAIT_FAR
		     : atomic_load(&vcpu->rt->ctl->wait_alone) ? TG_WAIT_ALONE
							       : TG_WAIT_NEAR;
	tg_place_pin(cpu, &vcpu->rt->home);
}

/**
 * tg_trap_guest() - guest side: post @regs on the vCPU's slot and wait for
 * the answer (or, trap_on_vcpu, handle the trap right here).
 */
void tg_trap_guest(struct tg_vcpu *vcpu, uint32_t conduit, uint64_t regs[8])
{
	struct tg_trap_slot *s = vcpu->slot;
	uint32_t seq;
	uint32_t max = vcpu->rt->spin_ns;
	uint32_t cur;

	if (vcpu->rt->thread_mode && vcpu->rt->hyp->m->cfg.trap_on_vcpu) {
		trap_on_own_thread(vcpu, conduit, regs);
		return;
	}
	cur = atomic_load_explicit(&vcpu->rt->ctl->place_gen,
				   memory_order_acquire);
	if (cur != vcpu->place_gen && !vcpu->rt->thread_mode)
		vcpu_place(vcpu, cur);
	seq = ++vcpu->seq;
	memcpy(s->regs, regs, sizeof(s->regs));
	s->conduit = conduit;
	atomic_store(&s->req, seq);
	if (atomic_load(&s->hyp_sleeping))
		tg_futex_wake(&s->req, 1);

	if (!spin_until_changed(&s->rsp, seq - 1, &vcpu->spin_ns, max,
				vcpu->wait)) {
		for (;;) {
			atomic_store(&s->guest_sleeping, 1);
			cur = atomic_load(&s->rsp);
			if (cur == seq)
				break;
			tg_futex_wait(&s->rsp, cur, 100);
			if (vcpu->rt->thread_mode &&
			    atomic_load(&vcpu->rt->ctl->killed))
				break;
		}
		atomic_store(&s->guest_sleeping, 0);
	}
	atomic_thread_fence(memory_order_acquire);
	memcpy(regs, s->regs, sizeof(s->regs));
}

static void *handler_main(void *arg)
{
	struct tg_handler *h = arg;
	struct tg_guest *g = h->g;
	struct tg_trap_slot *s = (struct tg_trap_slot *)(
		(uint8_t *)g->shared +
		(size_t)TG_SHARED_SLOT_PAGE(h->vcpu) * TG_PAGE_SIZE);
	uint32_t max = g->m->spin_ns;
	/* The last request answered, not the last seen: the guest may post
	 * its first request before this thread runs. */
	uint32_t last = atomic_load(&s->rsp);
	uint64_t regs[8];

	h->spin_ns = max;
	{
		char name[16]; /* for top -H, and placement's tests */

		snprintf(name, sizeof(name), "tgh-%u.%u", g->client_id,
			 h->vcpu);
		prctl(PR_SET_NAME, name);
	}
	/* the mediator and the TEE model work here: hidden from forks */
	tg_stack_wipe_on_fork(true);
	atomic_store(&h->running, true);
	for (;;) {
		uint32_t guest_seq, conduit, gen;

		gen = atomic_load_explicit(&g->m->place_gen,
					   memory_order_acquire);
		if (gen != h->place_gen) {
			int32_t cpu = atomic_load(&g->handler_cpu[h->vcpu]);
			int32_t its_vcpu = atomic_load(&g->vcpu_cpu[h->vcpu]);

			h->place_gen = gen;
			/* split: the handlers share the hypervisor's CPUs,
			 * and spin for their vCPUs as when spread */
			h->wait = cpu >= 0 && cpu == its_vcpu ? TG_WAIT_NEAR
							      : TG_WAIT_FAR;
			tg_place_pin(cpu, &g->m->home);
		}
		if (!spin_until_changed(&s->req, last, &h->spin_ns, max,
					h->wait)) {
			while (!atomic_load(&g->stop)) {
				atomic_store(&s->hyp_sleeping, 1);
				if (atomic_load(&s->req) != last)
					break;
				tg_futex_wait(&s->req, last, HANDLER_SLEEP_MS);
				if (atomic_load(&s->req) != last)
					break;
			}
			atomic_store(&s->hyp_sleeping, 0);
		}
		if (atomic_load(&g->stop))
			break;
		/* Guest-written: snapshot once, then work on the copy. */
		guest_seq = atomic_load_explicit(&s->req, memory_order_acquire);
		if (guest_seq == last)
			continue;
		last = guest_seq;
		conduit = *(volatile uint32_t *)&s->conduit;
		memcpy(regs, (const void *)s->regs, sizeof(regs));

		tg_trap_dispatch(g, h->vcpu, conduit, regs);

		memcpy(s->regs, regs, sizeof(regs));
		atomic_store(&s->rsp, guest_seq);
		if (atomic_load(&s->guest_sleeping))
			tg_futex_wake(&s->rsp, 1);
	}
	tg_stack_wipe_on_fork(false);
	return NULL;
}

int tg_handlers_start(struct tg_guest *g)
{
	uint32_t v;

	atomic_store(&g->stop, false);
	if (g->m->pool) {
		int ret = tg_pool_add(g);

		if (!ret)
			tg_place_guest(g, true);
		return ret;
	}
	for (v = 0; v < g->nvcpus; v++) {
		struct tg_handler *h = &g->handlers[v];

		h->g = g;
		h->vcpu = v;
		if (pthread_create(&h->thread, NULL, handler_main, h)) {
			tg_handlers_stop(g);
			return TG_ENOMEM;
		}
		h->started = true;
	}
	/* Do not return while a new thread may still be inside the thread
	 * library's (or a sanitizer's) start-up code, holding its locks: the
	 * caller may fork() next. */
	for (v = 0; v < g->nvcpus; v++)
		while (!atomic_load(&g->handlers[v].running))
			sched_yield();
	tg_place_guest(g, true);
	return TG_OK;
}

/*
 * Stop every handler. A handler in the middle of a call finishes it (the
 * mediator never waits on the guest); one that sleeps is woken. Nothing
 * here depends on the guest process being alive.
 */
void tg_handlers_stop(struct tg_guest *g)
{
	uint32_t v;

	atomic_store(&g->stop, true);
	tg_place_guest(g, false);
	if (g->m->pool) {
		tg_pool_remove(g);
		return;
	}
	for (v = 0; v < g->nvcpus; v++) {
		struct tg_handler *h = &g->handlers[v];
		struct tg_trap_slot *s = (struct tg_trap_slot *)(
			(uint8_t *)g->shared +
			(size_t)TG_SHARED_SLOT_PAGE(v) * TG_PAGE_SIZE);

		if (!h->started)
			continue;
		tg_futex_wake(&s->req, 1 << 30);
	}
	for (v = 0; v < g->nvcpus; v++) {
		struct tg_handler *h = &g->handlers[v];

		if (!h->started)
			continue;
		pthread_join(h->thread, NULL);
		h->started = false;
	}
}
