// SPDX-License-Identifier: BSD-2-Clause
/*
 * The trap pool (tg_machine_config.trap_pool = N): N hypervisor threads
 * serve the trap slots of every vCPU of every guest, instead of one
 * handler thread per vCPU (trap.c).
 *
 * Why: with one handler per vCPU, each guest call has its own pair of
 * spinning threads, and with more guests than cores the pairs take the
 * cores from each other (docs/isolation.md, "More guests than cores").
 * A pool thread that finds several slots posted serves them one after
 * the other on the core it has, the way the service daemon batches, and
 * the threads that want a core are the guests' vCPUs plus N.
 *
 * A slot is served by one pool thread at a time: a thread claims an
 * entry (busy 0 -> 1) before it reads the request. An entry leaves the
 * pool (tg_pool_remove) by turning STOPPING and waiting until no thread
 * holds it; the claim re-checks the state after taking busy (Dekker, both
 * seq_cst), so a call in progress finishes and no new one starts.
 *
 * A slot lives in the guest's shared pages, which go when the guest is
 * released, so a thread reads an entry's slot only inside a "scan"
 * (its in_scan flag set, seq_cst, before it reads the entry's state);
 * tg_pool_remove() turns the entry STOPPING and then waits until every
 * thread has left the scan it was in. A dispatch runs outside any scan.
 *
 * One idle thread at a time spins for an adaptive budget (as trap.c's
 * waiters); the others, and it after the budget, sleep on every active
 * slot's request word at once (futex_waitv, Linux
 * 5.16): each slot's hyp_sleeping flag is set first and the slots are
 * scanned again, so the guest's wake-up after posting (trap.c) reaches
 * them. Beyond FUTEX_WAITV_MAX words the sleep is a short timed one.
 *
 * Co-located (place.c), with at least one thread per CPU: thread i runs
 * on the machine's CPU i mod n and serves only the vCPUs placed there
 * (and any not placed yet); each yields for work instead of spinning,
 * since the guests it waits for run on its CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pin.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

#define POOL_SPIN_MIN_NS 10000u
#define POOL_SOLO_NS 2000u     /* pure spinning before yielding */
#define POOL_SLEEP_MS 200
#define POOL_OVERFLOW_SLEEP_US 200

enum { ENTRY_FREE = 0, ENTRY_ACTIVE, ENTRY_STOPPING };

struct tg_pool_entry {
	_Atomic uint32_t state;
	_Atomic uint32_t busy;  /* a pool thread serves it */
	struct tg_guest *g;
	uint32_t vcpu;
	struct tg_trap_slot *slot;
	_Atomic uint32_t last;  /* the last request answered */
};

struct pool_thread {
	struct tg_trap_pool *p;
	pthread_t thread;
	_Atomic uint32_t in_scan; /* reading entries' slots */
	_Atomic uint32_t gen;     /* scans begun */
	uint32_t place_gen;       /* the placement it runs by */
	int cpu;                  /* co-located: its CPU, else -1 */
	uint32_t index;
	uint8_t pad[64 - 5 * sizeof(uint32_t)];
};

struct tg_trap_pool {
	struct tg_machine *m;
	uint32_t nthreads;
	struct pool_thread *threads;
	atomic_bool stop;
	_Atomic uint32_t kick;  /* futex: membership changed, or stop */
	pthread_mutex_t lock;   /* adding and removing entries */
	_Atomic uint32_t hint;  /* entries [0, hint) may be in use */
	_Atomic uint32_t next;  /* where the next scan starts */
	_Atomic uint32_t spinner; /* an idle thread spins; the others sleep */
	_Atomic uint32_t sleepers; /* threads in sleep_for_work() */
	uint32_t max;
	struct tg_pool_entry *e;
};

static bool claim(struct tg_pool_entry *e)
{
	uint32_t idle = 0;

	if (atomic_load(&e->state) != ENTRY_ACTIVE ||
	    !atomic_compare_exchange_strong(&e->busy, &idle, 1))
		return false;
	if (atomic_load(&e->state) != ENTRY_ACTIVE) {
		atomic_store(&e->busy, 0);
		return false;
	}
	return true;
}

/* Is @e for a thread on @cpu (-1: any)? */
static bool mine(const struct tg_pool_entry *e, int cpu)
{
	int32_t at;

	if (cpu < 0)
		return true;
	at = atomic_load_explicit(&e->g->vcpu_cpu[e->vcpu],
				  memory_order_relaxed);
	return at < 0 || at == cpu;
}

static bool posted(const struct tg_pool_entry *e, int cpu)
{
	return atomic_load(&e->state) == ENTRY_ACTIVE && mine(e, cpu) &&
	       atomic_load_explicit(&e->slot->req, memory_order_acquire) !=
		       atomic_load_explicit(&e->last, memory_order_relaxed);
}

/* Serve @e's request, if it still has one. The entry is claimed. */
static bool serve(struct tg_pool_entry *e)
{
	struct tg_trap_slot *s = e->slot;
	uint32_t seq, conduit;
	uint64_t regs[8];

	/* Guest-written: snapshot once, then work on the copy. */
	seq = atomic_load_explicit(&s->req, memory_order_acquire);
	if (seq == atomic_load(&e->last))
		return false;
	atomic_store(&e->last, seq);
	conduit = *(volatile uint32_t *)&s->conduit;
	memcpy(regs, (const void *)s->regs, sizeof(regs));

	tg_trap_dispatch(e->g, e->vcpu, conduit, regs);

	memcpy(s->regs, regs, sizeof(regs));
	atomic_store(&s->rsp, seq);
	if (atomic_load(&s->guest_sleeping))
		tg_futex_wake(&s->rsp, 1);
	return true;
}

static void scan_begin(struct pool_thread *t)
{
	atomic_fetch_add(&t->gen, 1);
	atomic_store(&t->in_scan, 1);
}

static void scan_end(struct pool_thread *t)
{
	atomic_store(&t->in_scan, 0);
}

/* One pass over the entries, inside a scan; how many requests it served. */
static uint32_t serve_pending(struct pool_thread *t)
{
	struct tg_trap_pool *p = t->p;
	uint32_t n = atomic_load(&p->hint), start, i, served = 0;

	if (!n)
		return 0;
	start = atomic_fetch_add(&p->next, 1) % n;
	for (i = 0; i < n; i++) {
		struct tg_pool_entry *e = &p->e[(start + i) % n];

		if (!posted(e, t->cpu) || !claim(e))
			continue;
		/* claimed: the entry and its slot stay until busy is 0 */
		scan_end(t);
		served += serve(e);
		atomic_store(&e->busy, 0);
		scan_begin(t);
	}
	return served;
}

static bool any_posted(struct tg_trap_pool *p, int cpu)
{
	uint32_t n = atomic_load(&p->hint), i;

	for (i = 0; i < n; i++)
		if (posted(&p->e[i], cpu) && !atomic_load(&p->e[i].busy))
			return true;
	return false;
}

/* Spin until a request is posted or the budget runs out (adapted). */
static bool spin_for_work(struct tg_trap_pool *p, uint32_t *budget,
			  uint32_t max, int cpu)
{
	uint64_t start = tg_now_ns(), elapsed;
	uint32_t k;

	for (;;) {
		if (cpu >= 0)
			sched_yield(); /* the guests run on this CPU */
		else
			for (k = 0; k < 32; k++)
				tg_cpu_relax();
		if (any_posted(p, cpu) || atomic_load(&p->stop)) {
			*budget = *budget * 2 > max ? max : *budget * 2;
			return true;
		}
		elapsed = tg_now_ns() - start;
		if (elapsed > *budget)
			break;
		if (cpu < 0 && elapsed > POOL_SOLO_NS)
			sched_yield();
	}
	*budget = *budget / 2 < POOL_SPIN_MIN_NS ? POOL_SPIN_MIN_NS
						  : *budget / 2;
	return false;
}

static void set_sleeping(struct tg_trap_pool *p, uint32_t v)
{
	uint32_t n = atomic_load(&p->hint), i;

	for (i = 0; i < n; i++)
		if (atomic_load(&p->e[i].state) == ENTRY_ACTIVE)
			atomic_store(&p->e[i].slot->hyp_sleeping, v);
}

/* The last thread to leave its sleep stops the guests' wake-ups (a
 * syscall per call otherwise); while one sleeps they go on. */
static void wake_up(struct tg_trap_pool *p)
{
	if (atomic_fetch_sub(&p->sleepers, 1) == 1)
		set_sleeping(p, 0);
}

/* Called inside a scan; leaves the scan for the syscall itself, whose
 * addresses the kernel checks (a slot gone meanwhile: EFAULT, or a
 * spurious wait that the remover's kick ends). */
static void sleep_for_work(struct pool_thread *t)
{
	struct tg_trap_pool *p = t->p;
	struct futex_waitv w[FUTEX_WAITV_MAX];
	uint32_t n = atomic_load(&p->hint), i, nw = 0;
	uint32_t kick = atomic_load(&p->kick);
	bool overflow = false;
	struct timespec to;

	atomic_fetch_add(&p->sleepers, 1);
	set_sleeping(p, 1);
	if (any_posted(p, t->cpu) || atomic_load(&p->stop)) {
		wake_up(p);
		return;
	}
	memset(w, 0, sizeof(w));
	w[nw].uaddr = (uintptr_t)&p->kick;
	w[nw].val = kick;
	w[nw++].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
	for (i = 0; i < n; i++) {
		struct tg_pool_entry *e = &p->e[i];

		if (atomic_load(&e->state) != ENTRY_ACTIVE ||
		    atomic_load(&e->busy) || !mine(e, t->cpu))
			continue;
		if (nw == FUTEX_WAITV_MAX) {
			overflow = true;
			break;
		}
		/* shared: the word is in the guest's pages */
		w[nw].uaddr = (uintptr_t)&e->slot->req;
		w[nw].val = atomic_load(&e->last);
		w[nw++].flags = FUTEX_32;
	}
	clock_gettime(CLOCK_MONOTONIC, &to);
	if (overflow) {
		to.tv_nsec += POOL_OVERFLOW_SLEEP_US * 1000L;
	} else {
		to.tv_sec += POOL_SLEEP_MS / 1000;
		to.tv_nsec += (long)(POOL_SLEEP_MS % 1000) * 1000000L;
	}
	if (to.tv_nsec >= 1000000000L) {
		to.tv_sec++;
		to.tv_nsec -= 1000000000L;
	}
	scan_end(t);
	syscall(SYS_futex_waitv, w, nw, 0, &to, CLOCK_MONOTONIC);
	scan_begin(t);
	wake_up(p);
}

/* Co-located with a thread per CPU: run on CPU index mod n, else anywhere. */
static void place(struct pool_thread *t, uint32_t gen)
{
	struct tg_machine *m = t->p->m;

	t->place_gen = gen;
	t->cpu = tg_machine_placement(m) == TG_PLACE_COLOCATE &&
			 t->p->nthreads >= m->ncpus
			 ? m->cpus[t->index % m->ncpus]
			 : -1;
	tg_place_pin(t->cpu, &m->home);
}

static void *pool_main(void *arg)
{
	struct pool_thread *t = arg;
	struct tg_trap_pool *p = t->p;
	uint32_t max = p->m->spin_ns, budget = max;

	/* the mediator and the TEE model work here: hidden from forks */
	tg_stack_wipe_on_fork(true);
	{
		char name[16];

		snprintf(name, sizeof(name), "tg-pool-%u", t->index);
		prctl(PR_SET_NAME, name);
	}
	while (!atomic_load(&p->stop)) {
		bool work;
		uint32_t idle = 0, gen;

		gen = atomic_load_explicit(&p->m->place_gen,
					   memory_order_acquire);
		if (gen != t->place_gen)
			place(t, gen);
		scan_begin(t);
		work = serve_pending(t);
		/* one idle thread spins at a time: more would only take
		 * the cores from the guests; co-located, one per CPU */
		if (!work && t->cpu >= 0) {
			work = spin_for_work(p, &budget, max, t->cpu);
		} else if (!work && atomic_compare_exchange_strong(
					    &p->spinner, &idle, 1)) {
			work = spin_for_work(p, &budget, max, -1);
			atomic_store(&p->spinner, 0);
		}
		if (!work)
			sleep_for_work(t);
		scan_end(t);
	}
	tg_stack_wipe_on_fork(false);
	return NULL;
}

int tg_pool_create(struct tg_machine *m, uint32_t nthreads)
{
	struct tg_trap_pool *p = calloc(1, sizeof(*p));
	uint32_t i;

	if (!p)
		return TG_ENOMEM;
	p->m = m;
	p->max = TG_HOST_MAX_GUESTS * TG_HOST_MAX_VCPUS;
	p->e = calloc(p->max, sizeof(*p->e));
	p->threads = calloc(nthreads, sizeof(*p->threads));
	if (!p->e || !p->threads) {
		free(p->e);
		free(p->threads);
		free(p);
		return TG_ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	m->pool = p;
	for (i = 0; i < nthreads; i++) {
		p->threads[i].p = p;
		p->threads[i].index = i;
		p->threads[i].cpu = -1;
		if (pthread_create(&p->threads[i].thread, NULL, pool_main,
				   &p->threads[i])) {
			tg_pool_destroy(m);
			return TG_ENOMEM;
		}
		p->nthreads++;
	}
	return TG_OK;
}

void tg_pool_destroy(struct tg_machine *m)
{
	struct tg_trap_pool *p = m->pool;
	uint32_t i;

	if (!p)
		return;
	atomic_store(&p->stop, true);
	atomic_fetch_add(&p->kick, 1);
	tg_futex_wake(&p->kick, 1 << 30);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i].thread, NULL);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->e);
	free(p);
	m->pool = NULL;
}

static void kick(struct tg_trap_pool *p)
{
	atomic_fetch_add(&p->kick, 1);
	tg_futex_wake(&p->kick, 1 << 30);
}

static void wait_scans(struct tg_trap_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->nthreads; i++) {
		struct pool_thread *t = &p->threads[i];
		uint32_t gen = atomic_load(&t->gen);

		while (atomic_load(&t->in_scan) && atomic_load(&t->gen) == gen)
			sched_yield();
	}
}

/* Every vCPU slot of @g joins the pool. */
int tg_pool_add(struct tg_guest *g)
{
	struct tg_trap_pool *p = g->m->pool;
	uint32_t v, i = 0;

	pthread_mutex_lock(&p->lock);
	for (v = 0; v < g->nvcpus; v++) {
		struct tg_pool_entry *e;

		while (i < p->max && atomic_load(&p->e[i].state) != ENTRY_FREE)
			i++;
		if (i == p->max) {
			pthread_mutex_unlock(&p->lock);
			tg_pool_remove(g);
			return TG_ENOMEM;
		}
		e = &p->e[i];
		e->g = g;
		e->vcpu = v;
		e->slot = (struct tg_trap_slot *)(
			(uint8_t *)g->shared +
			(size_t)TG_SHARED_SLOT_PAGE(v) * TG_PAGE_SIZE);
		/* the guest may have posted its first request already */
		atomic_store(&e->last, atomic_load(&e->slot->rsp));
		atomic_store(&e->busy, 0);
		atomic_store(&e->state, ENTRY_ACTIVE);
		if (i + 1 > atomic_load(&p->hint))
			atomic_store(&p->hint, i + 1);
	}
	pthread_mutex_unlock(&p->lock);
	kick(p);
	return TG_OK;
}

/*
 * @g's slots leave the pool; a call in progress on one of them finishes
 * first. Nothing here depends on the guest process being alive.
 */
void tg_pool_remove(struct tg_guest *g)
{
	struct tg_trap_pool *p = g->m->pool;
	uint32_t n, i;

	pthread_mutex_lock(&p->lock);
	n = atomic_load(&p->hint);
	for (i = 0; i < n; i++) {
		struct tg_pool_entry *e = &p->e[i];

		if (atomic_load(&e->state) != ENTRY_ACTIVE || e->g != g)
			continue;
		atomic_store(&e->state, ENTRY_STOPPING);
		while (atomic_load(&e->busy)) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
	}
	/* no thread reads a STOPPING entry's slot in a scan begun after the
	 * stores above: wait for the scans that began before */
	wait_scans(p);
	for (i = 0; i < n; i++) {
		struct tg_pool_entry *e = &p->e[i];

		if (atomic_load(&e->state) != ENTRY_STOPPING)
			continue;
		e->g = NULL;
		e->slot = NULL;
		atomic_store(&e->state, ENTRY_FREE);
	}
	while (n && atomic_load(&p->e[n - 1].state) == ENTRY_FREE)
		n--;
	atomic_store(&p->hint, n);
	pthread_mutex_unlock(&p->lock);
	kick(p);
}
