// SPDX-License-Identifier: BSD-2-Clause
/*
 * Placement: which CPUs the parties of a guest call run on
 * (enum tg_placement in host.h).
 *
 * On Arm the hypervisor runs on the core that trapped, and a sandboxed
 * mediator is entered on that core too: a guest call never waits for
 * another core. On the hosted platform a process guest's call passes
 * between its vCPU thread, a handler thread and (out of process) a
 * mediator worker. While each can have a CPU, they spin for each other
 * and a hand-over costs a cache-line transfer. With more of them than
 * CPUs, a waiting side sleeps, and the wake-up of a thread on another CPU
 * is an inter-processor interrupt: on a virtual machine such as this
 * project's CI, tens of microseconds (docs/isolation.md). Spinning for
 * a peer that has no CPU only delays it.
 *
 * Co-located, vCPU i of the process guests (counted in guest order)
 * runs on CPU i mod n, and so do the handler that serves it and the
 * mediator worker of its call; a waiting side yields the CPU, which is
 * where its peer runs. Calls of guests on different CPUs run in
 * parallel, and none waits for another CPU.
 *
 * Split, the hypervisor's handlers get CPUs of their own: vCPU i runs on
 * guest CPU i mod g (the first g = ceil(n/2) CPUs), its handler on
 * hypervisor CPU i mod (n - g). The vCPU spins for its answer without
 * yielding, the handlers spin with yields (several share a CPU). An
 * inline call then costs no context switch: the guests take turns on
 * their CPUs by the scheduler's time slices, and whichever runs finds
 * its handler spinning on the other side, as one guest alone does. Out
 * of process, a call would still switch between the handler and the
 * mediator worker on the hypervisor's CPUs, with the guests' CPUs
 * idle meanwhile, which is why AUTO co-locates there.
 *
 * Who moves whom: the hypervisor decides here, under the machine's lock,
 * when a process guest's handlers start or stop. It writes each vCPU's
 * CPU in the guest's private record and in the guest's ctl page, then
 * bumps the generations: a vCPU thread moves itself at its next trap
 * (it cannot be moved from outside without privileges), a handler or a
 * pool thread when it next wakes, a mediator worker with the next call
 * that names its CPU (isolation.c). A guest that ignores its ctl page
 * only slows itself.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const names[] = {
	[TG_PLACE_AUTO] = "auto",
	[TG_PLACE_SPREAD] = "spread",
	[TG_PLACE_COLOCATE] = "colocate",
	[TG_PLACE_SPLIT] = "split",
};

int tg_placement_parse(const char *s, enum tg_placement *out)
{
	uint32_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum tg_placement)i;
			return TG_OK;
		}
	return TG_EINVAL;
}

const char *tg_placement_name(enum tg_placement p)
{
	return (uint32_t)p < sizeof(names) / sizeof(names[0]) ? names[p]
							      : "?";
}

enum tg_placement tg_placement_from_env(void)
{
	enum tg_placement p = TG_PLACE_AUTO;

	if (tg_placement_parse(getenv("TEEGATE_PLACEMENT"), &p))
		return TG_PLACE_AUTO;
	return p;
}

void tg_place_init(struct tg_machine *m)
{
	int c;

	m->placement = m->cfg.placement ? m->cfg.placement
					: tg_placement_from_env();
	m->ncpus = 0;
	atomic_store(&m->in_force, (uint32_t)TG_PLACE_SPREAD);
	if (sched_getaffinity(0, sizeof(m->home), &m->home)) {
		/* nowhere known to move to: leave it to the scheduler */
		m->placement = TG_PLACE_SPREAD;
		return;
	}
	for (c = 0; c < CPU_SETSIZE && m->ncpus < 64; c++)
		if (CPU_ISSET(c, &m->home))
			m->cpus[m->ncpus++] = (int16_t)c;
}

/* The placement for @vcpus process vCPUs: SPREAD, COLOCATE or SPLIT. */
static enum tg_placement choose(const struct tg_machine *m, uint32_t vcpus)
{
	if (!m->ncpus || m->placement == TG_PLACE_SPREAD)
		return TG_PLACE_SPREAD;
	if (m->placement == TG_PLACE_SPLIT)
		return m->ncpus >= 2 ? TG_PLACE_SPLIT : TG_PLACE_COLOCATE;
	if (m->placement == TG_PLACE_COLOCATE)
		return TG_PLACE_COLOCATE;
	if (vcpus <= m->ncpus / 2)
		return TG_PLACE_SPREAD;
	/* in process (inline or direct), the handler alone serves a call */
	return !m->iso && !m->pool
		       ? TG_PLACE_SPLIT
		       : TG_PLACE_COLOCATE;
}

/* Re-place every process guest whose handlers run. Under m->lock. */
static void update_locked(struct tg_machine *m)
{
	uint32_t i, v, vcpus = 0, next = 0;
	uint32_t nguest = (m->ncpus + 1) / 2, nhyp = m->ncpus - nguest;
	enum tg_placement p;

	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] && m->guests[i]->placed)
			vcpus += m->guests[i]->nvcpus;
	p = choose(m, vcpus);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++) {
		struct tg_guest *g = m->guests[i];

		if (!g || !g->placed)
			continue;
		for (v = 0; v < g->nvcpus; v++, next++) {
			int32_t cpu = -1, hcpu = -1;

			if (p == TG_PLACE_COLOCATE) {
				cpu = m->cpus[next % m->ncpus];
				hcpu = cpu;
			} else if (p == TG_PLACE_SPLIT) {
				cpu = m->cpus[next % nguest];
				hcpu = m->cpus[nguest + next % nhyp];
			}
			atomic_store(&g->vcpu_cpu[v], cpu);
			atomic_store(&g->handler_cpu[v], hcpu);
			atomic_store(&g->ctl->vcpu_cpu[v], cpu);
		}
		atomic_store(&g->ctl->wait_alone, p == TG_PLACE_SPLIT);
		atomic_fetch_add(&g->ctl->place_gen, 1);
	}
	atomic_store(&m->in_force, (uint32_t)p);
	atomic_fetch_add(&m->place_gen, 1);
}

enum tg_placement tg_machine_placement(struct tg_machine *m)
{
	return (enum tg_placement)atomic_load(&m->in_force);
}

/*
 * A process guest's handlers started (@placed) or stopped: count it or
 * not, and re-place everyone. Called without the machine's lock.
 */
void tg_place_guest(struct tg_guest *g, bool placed)
{
	struct tg_machine *m = g->m;

	if (g->mode != TG_GUEST_PROCESS || g->placed == placed)
		return;
	pthread_mutex_lock(&m->lock);
	g->placed = placed;
	update_locked(m);
	pthread_mutex_unlock(&m->lock);
}
