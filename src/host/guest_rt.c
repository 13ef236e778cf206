// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest runtime: include/teegate/guest.h for code running inside a
 * guest, in all three modes (forked process, exec'd process, threads of
 * the hypervisor). Everything here runs on the guest's side of the trust
 * boundary: it is convenience for the guest, never protection for the
 * hypervisor (which re-checks everything a trap brings).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* Guard pages after the view: a walk off the end of RAM faults. */
#define TG_VIEW_GUARD_PAGES 256u

static __thread struct tg_vcpu *tls_vcpu;

/* vCPU state is read by other threads (join, thread-mode teardown). */
static enum tg_vcpu_state vcpu_state(const struct tg_vcpu *v)
{
	return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
}

static void vcpu_set_state(struct tg_vcpu *v, enum tg_vcpu_state st)
{
	__atomic_store_n(&v->state, st, __ATOMIC_RELEASE);
}

static size_t view_len(uint32_t npages)
{
	return ((size_t)npages + TG_VIEW_GUARD_PAGES) * TG_PAGE_SIZE;
}

int tg_rt_init(struct tg_guest_rt *rt, const struct tg_boot_info *boot,
	       void *shared)
{
	uint32_t v;

	memset(rt, 0, sizeof(*rt));
	rt->client_id = boot->client_id;
	rt->instance = boot->instance;
	rt->nvcpus = boot->nvcpus;
	rt->npages = boot->npages;
	rt->spin_ns = boot->spin_ns;
	if (sched_getaffinity(0, sizeof(rt->home), &rt->home))
		CPU_ZERO(&rt->home);
	rt->ipa_base = boot->ipa_base;
	rt->shared = shared;
	rt->counters = (struct tg_guest_counters *)((uint8_t *)shared +
		TG_SHARED_COUNTERS_PAGE * TG_PAGE_SIZE);
	rt->ctl = (struct tg_guest_ctl *)((uint8_t *)shared +
		TG_SHARED_CTL_PAGE * TG_PAGE_SIZE);
	rt->page_state = calloc(rt->npages, 1);
	if (!rt->page_state)
		return TG_ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	for (v = 0; v < rt->nvcpus; v++) {
		struct tg_vcpu *vc = &rt->vcpus[v];

		vc->rt = rt;
		vc->index = v;
		vc->slot = (struct tg_trap_slot *)((uint8_t *)shared +
			(size_t)TG_SHARED_SLOT_PAGE(v) * TG_PAGE_SIZE);
		vc->seq = atomic_load(&vc->slot->rsp);
		vc->spin_ns = rt->spin_ns;
	}
	return TG_OK;
}

/* Process mode: map every page at its IPA into one contiguous view. */
int tg_rt_map_view(struct tg_guest_rt *rt, const struct tg_boot_info *boot,
		   int mem_fd)
{
	uint32_t i;

	rt->view = mmap(NULL, view_len(rt->npages), PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rt->view == MAP_FAILED) {
		rt->view = NULL;
		return TG_ENOMEM;
	}
	for (i = 0; i < rt->npages; i++) {
		void *want = rt->view + (size_t)i * TG_PAGE_SIZE;
		void *got = mmap(want, TG_PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, mem_fd,
				 (off_t)(boot->pa[i] - boot->ram_base));

		if (got != want)
			return TG_ENOMEM;
	}
	return TG_OK;
}

/* The thread's own end: RUNNING -> DONE, never over a joiner's claim. */
static void vcpu_done(struct tg_vcpu *vcpu)
{
	enum tg_vcpu_state running = TG_VCPU_RUNNING;

	__atomic_compare_exchange_n(&vcpu->state, &running, TG_VCPU_DONE,
				    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* A spawned vCPU's last act: its spawner may unwind now. */
static void vcpu_leave_parent(struct tg_vcpu *vcpu)
{
	struct tg_vcpu *p = vcpu->parent;

	if (!p)
		return;
	vcpu->parent = NULL;
	atomic_fetch_sub(&p->live_children, 1);
	tg_futex_wake(&p->live_children, 1 << 30);
}

/*
 * Thread mode: a killed vCPU leaves at its next trap. The vCPUs of a
 * guest see the kill one by one, so a vCPU first waits for those it
 * spawned: they may hold pointers into its stack (an argument passed by
 * address), which its unwinding ends. (In process mode the kill stops
 * every vCPU at once.)
 */
static void vcpu_exit_if_killed(struct tg_vcpu *vcpu)
{
	uint32_t n;

	if (!vcpu->rt->thread_mode || !atomic_load(&vcpu->rt->ctl->killed))
		return;
	while ((n = atomic_load(&vcpu->live_children)))
		tg_futex_wait(&vcpu->live_children, n, 100);
	vcpu_leave_parent(vcpu);
	vcpu_done(vcpu);
	pthread_exit(NULL);
}

void tg_smc(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	vcpu_exit_if_killed(vcpu);
	tg_trap_guest(vcpu, TG_CONDUIT_SMC, regs);
	vcpu_exit_if_killed(vcpu);
}

void tg_hvc(struct tg_vcpu *vcpu, uint64_t regs[8])
{
	vcpu_exit_if_killed(vcpu);
	tg_trap_guest(vcpu, TG_CONDUIT_HVC, regs);
	vcpu_exit_if_killed(vcpu);
}

static bool ipa_index(const struct tg_guest_rt *rt, uint64_t ipa, uint32_t *idx)
{
	uint64_t i;

	if (ipa < rt->ipa_base)
		return false;
	i = (ipa - rt->ipa_base) >> TG_PAGE_SHIFT;
	if (i >= rt->npages)
		return false;
	*idx = (uint32_t)i;
	return true;
}

void *tg_ipa_ptr(struct tg_vcpu *vcpu, uint64_t ipa)
{
	struct tg_guest_rt *rt = vcpu->rt;
	uint32_t idx;
	uint8_t st;

	if (!ipa_index(rt, ipa, &idx))
		return NULL;
	st = __atomic_load_n(&rt->page_state[idx], __ATOMIC_RELAXED);
	if (st == TG_RT_PAGE_GONE)
		return NULL;
	if (!rt->thread_mode || st == TG_RT_PAGE_USED_VIEW)
		return (rt->thread_mode ? rt->hyp->thread_view : rt->view) +
		       (ipa - rt->ipa_base);
	/* Thread mode, page not in the view: through the p2m. */
	{
		struct tg_machine *m = rt->hyp->m;
		uint64_t pa = atomic_load(&rt->hyp->p2m[idx]);

		if (!pa)
			return NULL;
		return m->ram + (pa - m->ram_base) + (ipa & TG_PAGE_MASK);
	}
}

/* Thread mode: map pages [idx, idx + count) into the contiguous view. */
static int thread_view_map(struct tg_guest_rt *rt, uint32_t idx,
			   uint32_t count)
{
	struct tg_guest *g = rt->hyp;
	struct tg_machine *m = g->m;
	uint32_t i, old;

	old = atomic_fetch_add(&m->thread_view_pages, count);
	if (old + count > TG_HOST_MAX_THREAD_VIEW_PAGES) {
		atomic_fetch_sub(&m->thread_view_pages, count);
		return -1;
	}
	for (i = 0; i < count; i++) {
		uint64_t pa = atomic_load(&g->p2m[idx + i]);
		void *want = g->thread_view + (size_t)(idx + i) * TG_PAGE_SIZE;

		if (!pa || mmap(want, TG_PAGE_SIZE, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, m->mem.fd,
				(off_t)(pa - m->ram_base)) != want) {
			while (i--)
				mmap(g->thread_view +
					     (size_t)(idx + i) * TG_PAGE_SIZE,
				     TG_PAGE_SIZE, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				     -1, 0);
			atomic_fetch_sub(&m->thread_view_pages, count);
			return -1;
		}
		rt->page_state[idx + i] = TG_RT_PAGE_USED_VIEW;
	}
	atomic_fetch_add(&g->thread_view_pages, count);
	return 0;
}

/* Drop pages from whatever view maps them; caller holds rt->lock. */
static void view_unmap(struct tg_guest_rt *rt, uint32_t idx, uint32_t count)
{
	uint8_t *base = rt->thread_mode ? rt->hyp->thread_view : rt->view;
	uint32_t i, n = 0;

	for (i = 0; i < count; i++)
		if (rt->page_state[idx + i] == TG_RT_PAGE_USED_VIEW)
			n++;
	if (!rt->thread_mode || n)
		mmap(base + (size_t)idx * TG_PAGE_SIZE,
		     (size_t)count * TG_PAGE_SIZE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
	if (rt->thread_mode && n) {
		atomic_fetch_sub(&rt->hyp->m->thread_view_pages, n);
		atomic_fetch_sub(&rt->hyp->thread_view_pages, n);
	}
}

int tg_alloc_pages(struct tg_vcpu *vcpu, uint32_t count, uint64_t *ipa)
{
	struct tg_guest_rt *rt = vcpu->rt;
	uint32_t i, run = 0, start;
	int ret = -1;

	if (!count || count > rt->npages || !ipa)
		return -1;
	pthread_mutex_lock(&rt->lock);
	for (i = 0; i < rt->npages; i++) {
		uint32_t k = (rt->alloc_hint + i) % rt->npages;

		if (k == 0)
			run = 0;
		if (rt->page_state[k] != TG_RT_PAGE_FREE) {
			run = 0;
			continue;
		}
		if (++run < count)
			continue;
		start = k + 1 - count;
		memset(rt->page_state + start, TG_RT_PAGE_USED, count);
		if (rt->thread_mode && count > 1 &&
		    thread_view_map(rt, start, count)) {
			memset(rt->page_state + start, TG_RT_PAGE_FREE, count);
			break;
		}
		rt->alloc_hint = (start + count) % rt->npages;
		*ipa = rt->ipa_base + ((uint64_t)start << TG_PAGE_SHIFT);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

static bool range_ok(const struct tg_guest_rt *rt, uint64_t ipa,
		     uint32_t count, uint32_t *idx)
{
	if ((ipa & TG_PAGE_MASK) || !count || !ipa_index(rt, ipa, idx))
		return false;
	return count <= rt->npages - *idx;
}

void tg_free_pages(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count)
{
	struct tg_guest_rt *rt = vcpu->rt;
	uint32_t idx, i;

	if (!range_ok(rt, ipa, count, &idx))
		return;
	pthread_mutex_lock(&rt->lock);
	if (rt->thread_mode)
		view_unmap(rt, idx, count);
	for (i = 0; i < count; i++)
		if (rt->page_state[idx + i] != TG_RT_PAGE_GONE)
			rt->page_state[idx + i] = TG_RT_PAGE_FREE;
	pthread_mutex_unlock(&rt->lock);
}

int tg_balloon_out(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count)
{
	struct tg_guest_rt *rt = vcpu->rt;
	uint64_t regs[8] = { TG_HVC_BALLOON_OUT, ipa, count };
	uint32_t idx;

	if (!range_ok(rt, ipa, count, &idx))
		return -1;
	/* Unmap first: the hypervisor refuses while a page is mapped. */
	pthread_mutex_lock(&rt->lock);
	view_unmap(rt, idx, count);
	memset(rt->page_state + idx, TG_RT_PAGE_GONE, count);
	pthread_mutex_unlock(&rt->lock);
	tg_hvc(vcpu, regs);
	return regs[0] == 0 ? 0 : -1;
}

static void *vcpu_thread(void *arg)
{
	struct tg_vcpu *vcpu = arg;

	tls_vcpu = vcpu;
	vcpu->fn(vcpu, vcpu->arg);
	vcpu_leave_parent(vcpu);
	vcpu_done(vcpu);
	return NULL;
}

int tg_vcpu_spawn(struct tg_vcpu *vcpu, void (*fn)(struct tg_vcpu *, void *),
		  void *arg)
{
	struct tg_guest_rt *rt = vcpu->rt;
	uint32_t v;
	int ret = -1;

	if (!fn)
		return -1;
	pthread_mutex_lock(&rt->lock);
	/*
	 * Thread mode: no new vCPU once teardown began. It would not be
	 * joined (tg_rt_thread_join_all() reads the vCPU table after setting
	 * @killed under this lock) and could run, or trap into the
	 * hypervisor (trap_on_vcpu), after the guest is gone.
	 */
	if (rt->thread_mode && atomic_load(&rt->ctl->killed)) {
		pthread_mutex_unlock(&rt->lock);
		return -1;
	}
	for (v = 1; v < rt->nvcpus; v++) {
		struct tg_vcpu *nv = &rt->vcpus[v];

		if (vcpu_state(nv) != TG_VCPU_FREE)
			continue;
		nv->fn = fn;
		nv->arg = arg;
		nv->parent = rt->thread_mode ? vcpu : NULL;
		if (nv->parent)
			atomic_fetch_add(&vcpu->live_children, 1);
		vcpu_set_state(nv, TG_VCPU_RUNNING);
		if (pthread_create(&nv->thread, NULL, vcpu_thread, nv)) {
			vcpu_leave_parent(nv);
			vcpu_set_state(nv, TG_VCPU_FREE);
			break;
		}
		ret = (int)v;
		break;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

/*
 * A thread is joined exactly once, by whoever claims it first (a vCPU
 * joining one it spawned, or the teardown joining them all). Returns the
 * state before the claim: FREE (nothing to join), JOINING (another joiner
 * had it; it is FREE now) or the state the caller now joins from.
 */
static enum tg_vcpu_state join_claim(struct tg_guest_rt *rt,
				     struct tg_vcpu *t)
{
	enum tg_vcpu_state st;

	pthread_mutex_lock(&rt->lock);
	st = vcpu_state(t);
	if (st == TG_VCPU_RUNNING || st == TG_VCPU_DONE)
		vcpu_set_state(t, TG_VCPU_JOINING);
	pthread_mutex_unlock(&rt->lock);
	if (st == TG_VCPU_JOINING)
		while (vcpu_state(t) != TG_VCPU_FREE)
			sched_yield();
	return st;
}

int tg_vcpu_join(struct tg_vcpu *vcpu, int index)
{
	struct tg_guest_rt *rt = vcpu->rt;
	struct tg_vcpu *t;

	if (index <= 0 || (uint32_t)index >= rt->nvcpus ||
	    (uint32_t)index == vcpu->index)
		return -1;
	t = &rt->vcpus[index];
	switch (join_claim(rt, t)) {
	case TG_VCPU_FREE:
		return -1;
	case TG_VCPU_JOINING:
		return 0; /* joined by the teardown */
	default:
		break;
	}
	if (pthread_join(t->thread, NULL))
		return -1;
	vcpu_set_state(t, TG_VCPU_FREE);
	return 0;
}

struct tg_vcpu *tg_vcpu_self(void)
{
	return tls_vcpu;
}

uint32_t tg_vcpu_index(const struct tg_vcpu *vcpu)
{
	return vcpu->index;
}

int tg_notif_wait(struct tg_vcpu *vcpu, uint32_t timeout_ms)
{
	struct tg_guest_ctl *ctl = vcpu->rt->ctl;
	uint64_t deadline = tg_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t now;
		int left_ms;

		if (atomic_exchange(&ctl->notif_pending, 0))
			return 1;
		vcpu_exit_if_killed(vcpu);
		now = tg_now_ns();
		if (now >= deadline)
			return 0;
		left_ms = (int)((deadline - now + 999999) / 1000000);
		if (left_ms > 100)
			left_ms = 100; /* thread mode: notice a kill */
		tg_futex_wait(&ctl->notif_pending, 0, left_ms);
	}
}

bool tg_vcpu_killed(struct tg_vcpu *vcpu)
{
	return vcpu->rt->thread_mode && atomic_load(&vcpu->rt->ctl->killed);
}

uint64_t tg_guest_instance(struct tg_vcpu *vcpu)
{
	return vcpu->rt->instance;
}

struct tg_guest_counters *tg_guest_counters(struct tg_vcpu *vcpu)
{
	return vcpu->rt->counters;
}

/* Run vCPU 0 on the calling thread of a guest process, then leave. */
void tg_rt_run_vcpu0(struct tg_guest_rt *rt,
		     void (*fn)(struct tg_vcpu *, void *), void *arg)
{
	struct tg_vcpu *v0 = &rt->vcpus[0];

	vcpu_set_state(v0, TG_VCPU_RUNNING);
	tls_vcpu = v0;
	fn(v0, arg);
	_exit(0);
}

/* Thread mode: vCPU 0 is a thread of the hypervisor process. */
int tg_rt_thread_start(struct tg_guest_rt *rt,
		       void (*fn)(struct tg_vcpu *, void *), void *arg)
{
	struct tg_vcpu *v0 = &rt->vcpus[0];

	v0->fn = fn;
	v0->arg = arg;
	vcpu_set_state(v0, TG_VCPU_RUNNING);
	if (pthread_create(&v0->thread, NULL, vcpu_thread, v0)) {
		vcpu_set_state(v0, TG_VCPU_FREE);
		return TG_ENOMEM;
	}
	return TG_OK;
}

/*
 * Thread mode: stop and join every vCPU thread (vCPU 0 included). A vCPU
 * handling its own trap (trap_on_vcpu) finishes it first: the guest's
 * domain and pages outlive every dispatch.
 */
void tg_rt_thread_join_all(struct tg_guest_rt *rt)
{
	uint32_t v;

	pthread_mutex_lock(&rt->lock);
	atomic_store(&rt->ctl->killed, 1);
	pthread_mutex_unlock(&rt->lock);
	tg_futex_wake(&rt->ctl->notif_pending, 1 << 30);
	/* Spawned vCPUs first: one may use its spawner's stack (an argument
	 * passed by address), which goes once the spawner is joined. */
	for (v = rt->nvcpus; v-- > 0;) {
		enum tg_vcpu_state st = join_claim(rt, &rt->vcpus[v]);

		if (st == TG_VCPU_FREE || st == TG_VCPU_JOINING)
			continue;
		tg_futex_wake(&rt->vcpus[v].slot->rsp, 1 << 30);
		pthread_join(rt->vcpus[v].thread, NULL);
		vcpu_set_state(&rt->vcpus[v], TG_VCPU_FREE);
	}
}

/* Thread mode: has vCPU 0 returned from the guest's entry function? */
bool tg_rt_vcpu0_done(struct tg_guest_rt *rt)
{
	return vcpu_state(&rt->vcpus[0]) != TG_VCPU_RUNNING;
}

/* ---- exec'd guests ----------------------------------------------------- */

static struct tg_vcpu *exec_vcpu0;

/* memory, boot page, shared pages, hand-over socket (-1: no lockdown) */
static int parse_fds(const char *s, int fds[4])
{
	return sscanf(s, "%d,%d,%d,%d", &fds[0], &fds[1], &fds[2],
		      &fds[3]) == 4
		       ? 0
		       : -1;
}

/* Keep stdout, stderr and the hand-over socket; close the rest (stdin:
 * tg_lockdown() does, see keep_only_output_fds() in guest.c). */
static void close_other_fds(int handoff)
{
	if (handoff < 3) {
		close(0);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		return;
	}
	if (handoff > 3)
		syscall(SYS_close_range, 3u, (unsigned int)handoff - 1, 0u);
	syscall(SYS_close_range, (unsigned int)handoff + 1, ~0u, 0u);
}

struct tg_vcpu *tg_guest_enter(void)
{
	const char *env = getenv("TEEGATE_GUEST_BOOT");
	struct tg_boot_info *boot;
	struct tg_guest_rt *rt;
	struct stat st_boot, st_mem;
	size_t shared_len;
	void *shared;
	int fds[4];
	uint32_t i, lockdown;

	if (exec_vcpu0) {
		tls_vcpu = exec_vcpu0;
		return exec_vcpu0;
	}
	if (!env || parse_fds(env, fds))
		return NULL;
	unsetenv("TEEGATE_GUEST_BOOT");
	if (fstat(fds[1], &st_boot) || fstat(fds[0], &st_mem) ||
	    (size_t)st_boot.st_size < sizeof(*boot))
		goto fail;
	boot = mmap(NULL, (size_t)st_boot.st_size, PROT_READ, MAP_SHARED,
		    fds[1], 0);
	if (boot == MAP_FAILED)
		goto fail;
	if (boot->magic != TG_BOOT_MAGIC || !boot->nvcpus ||
	    boot->nvcpus > TG_HOST_MAX_VCPUS || !boot->npages ||
	    boot->npages > TG_HOST_MAX_PROCESS_PAGES ||
	    (size_t)st_boot.st_size <
		    sizeof(*boot) + (size_t)boot->npages * sizeof(uint64_t))
		goto fail;
	for (i = 0; i < boot->npages; i++)
		if ((boot->pa[i] & TG_PAGE_MASK) || boot->pa[i] < boot->ram_base ||
		    boot->pa[i] - boot->ram_base >= (uint64_t)st_mem.st_size)
			goto fail;
	shared_len = (size_t)TG_SHARED_PAGES(boot->nvcpus) * TG_PAGE_SIZE;
	shared = mmap(NULL, shared_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fds[2], 0);
	rt = malloc(sizeof(*rt));
	if (shared == MAP_FAILED || !rt || tg_rt_init(rt, boot, shared) ||
	    tg_rt_map_view(rt, boot, fds[0]))
		goto fail;
	lockdown = boot->lockdown;
	munmap(boot, (size_t)st_boot.st_size);
	close_other_fds(lockdown ? fds[3] : -1);
	if (lockdown && (fds[3] < 3 || tg_lockdown(fds[3])))
		goto fail;
	exec_vcpu0 = &rt->vcpus[0];
	vcpu_set_state(exec_vcpu0, TG_VCPU_RUNNING);
	tls_vcpu = exec_vcpu0;
	return exec_vcpu0;

fail:
	/* Never run guest code with the fds still open. */
	fprintf(stderr, "teegate: guest boot failed\n");
	_exit(127);
}

__attribute__((constructor(101))) static void tg_guest_boot_early(void)
{
	if (getenv("TEEGATE_GUEST_BOOT"))
		tg_guest_enter();
}
