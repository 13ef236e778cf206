// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: what the guests run. Each guest is a process of its own
 * that maps only its own memory; what it counts in its counters page is
 * display material.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

#include <teegate/optee_abi.h>

#include "cli.h"
#include "demo.h"

#ifdef TG_HAVE_WORKLOADS
static void extra_vcpu(struct tg_vcpu *v, void *arg)
{
	const struct demo_guest_arg *a = arg;
	struct tg_workload_opts o = {
		.seconds = a->seconds,
		.seed = a->seed * 31 + tg_vcpu_index(v),
		.flags = TG_WL_NO_SPAWN | TG_WL_NO_BIGBUF | TG_WL_NO_NOTIF |
			 a->flags,
	};

	if (tg_workload_mixed(v, &o))
		__atomic_fetch_add(&tg_guest_counters(v)->phase, 0x10000u,
				   __ATOMIC_RELAXED);
}

void demo_mixed_main(struct tg_vcpu *v, void *arg)
{
	const struct demo_guest_arg *a = arg;
	struct tg_workload_opts o = {
		.seconds = a->seconds,
		.seed = a->seed,
		.flags = (a->vcpus < 2 ? TG_WL_NO_SPAWN : 0) | a->flags,
	};
	int extra[DEMO_MAX_VCPUS];
	uint32_t i, n = 0;
	int rc;

	for (i = 2; i < a->vcpus; i++)
		extra[n++] = tg_vcpu_spawn(v, extra_vcpu, (void *)a);
	rc = tg_workload_mixed(v, &o);
	for (i = 0; i < n; i++)
		if (extra[i] < 0 || tg_vcpu_join(v, extra[i]))
			rc = -1;
	_exit(rc ? 1 : 0);
}

void demo_hostile_main(struct tg_vcpu *v, void *arg)
{
	const struct demo_guest_arg *a = arg;
	uint64_t deadline =
		demo_now_ns() + (uint64_t)a->seconds * 1000000000ull;
	struct tg_attack_result res[64];
	const struct tg_attack *table;
	size_t n = tg_hostile_catalogue(&table), i;
	struct tg_hostile_opts o = { .rounds = 1,
				     .results = res,
				     .flags = a->flags & TG_WL_CHAOS };
	uint32_t skipped = 0;

	if (n > 64)
		o.results = NULL;

	do {
		if (tg_workload_hostile(v, &o) && o.results &&
		    (a->flags & TG_WL_VERBOSE))
			for (i = 0; i < n; i++)
				if (res[i].passed)
					fprintf(stderr,
						"hostile: attack %s was not refused (a0=%#x ret=%#x origin=%u)\n",
						table[i].name, res[i].a0,
						res[i].ret, res[i].origin);
		for (i = 0; o.results && i < n; i++) {
			skipped += res[i].skipped;
			if (res[i].skipped && (a->flags & TG_WL_VERBOSE))
				fprintf(stderr, "hostile: attack %s skipped (could not be tried on this TEE)\n",
					table[i].name);
		}
	} while (demo_now_ns() < deadline);
	/* The catalogue is done: phase now says how many tries were
	 * skipped (display material, like every counter). */
	__atomic_store_n(&tg_guest_counters(v)->phase,
			 HOSTILE_SKIPPED_MARK | (skipped & 0xFFFFFFu),
			 __ATOMIC_RELAXED);
	_exit(0);
}
#else
/* Placeholder until the guest workloads are built: CALLS_UID in a loop. */
void demo_mixed_main(struct tg_vcpu *v, void *arg)
{
	const struct demo_guest_arg *a = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t deadline =
		demo_now_ns() + (uint64_t)a->seconds * 1000000000ull;

	while (demo_now_ns() < deadline) {
		uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };
		uint64_t t0 = demo_now_ns();

		tg_smc(v, regs);
		c->lat_hist[tg_lat_bucket(demo_now_ns() - t0)]++;
		c->calls++;
		if (regs[0] == OPTEE_MSG_UID_0)
			c->verified++;
		else
			c->mismatches++;
	}
	_exit(0);
}

void demo_hostile_main(struct tg_vcpu *v, void *arg)
{
	const struct demo_guest_arg *a = arg;
	struct tg_guest_counters *c = tg_guest_counters(v);
	uint64_t deadline =
		demo_now_ns() + (uint64_t)a->seconds * 1000000000ull;

	while (demo_now_ns() < deadline) {
		uint64_t regs[8] = { OPTEE_SMC_VM_DESTROYED, 1 };

		tg_smc(v, regs);
		if (regs[0] == OPTEE_SMC_RETURN_UNKNOWN_FUNCTION ||
		    regs[0] == OPTEE_SMC_RETURN_ENOTAVAIL)
			c->attacks_refused++;
		else
			c->attacks_passed++;
		usleep(1000);
	}
	_exit(0);
}
#endif
