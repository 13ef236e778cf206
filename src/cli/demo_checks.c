// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the checks at the end. Every guest has ended; what the
 * hypervisor says is left must be nothing.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cli.h"
#include "demo.h"

bool demo_check(const char *what, bool ok, const char *detail_fmt, ...)
{
	va_list ap;

	printf("  [%s] %s", ok ? " ok " : "FAIL", what);
	if (detail_fmt) {
		printf(" (");
		va_start(ap, detail_fmt);
		vprintf(detail_fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	return ok;
}

/*
 * What is left once every guest has ended: the guests' own counts
 * (display material, but a mismatch or an error is still a failure) and
 * the hypervisor's own state.
 */
static void gather(struct demo_checks *k, const struct demo_opts *o,
		   struct tg_machine *m, const struct demo_row *rows,
		   unsigned int n, const struct medlife *ml)
{
	struct tg_machine_pages ps;
	unsigned int i;

	k->exited_clean = true;
	for (i = 0; i < n; i++) {
		const struct demo_row *r = &rows[i];
		const struct tg_guest_counters *c = &r->final;

		if (!WIFEXITED(r->wstatus) || WEXITSTATUS(r->wstatus))
			k->exited_clean = false;
		k->mismatches += c->mismatches;
		k->errors += c->errors;
		k->attacks_refused += c->attacks_refused;
		k->attacks_passed += c->attacks_passed;
		if (r->hostile &&
		    (c->phase & 0xFF000000u) == HOSTILE_SKIPPED_MARK)
			k->attacks_skipped += c->phase & 0xFFFFFFu;
	}
	tg_machine_page_stats(m, &ps);
	k->pinned = ps.pinned;
	k->guest_pages = ps.guest;
	k->quarantined = ps.quarantined;
	k->mediator_pages = ps.mediator;
	k->threads_held = tg_machine_model(m)
				 ? tg_model_threads_held(tg_machine_model(m),
							 UINT32_MAX)
				 : 0;
	k->violations = tg_machine_violations(m);
	k->oracle_on = o->qemu && demo_oracle_stats(&k->oracle);
	if (ml->m) {
		tg_machine_isolation_stats(m, &k->iso);
		k->wl_interrupted = demo_sum_interrupted(rows, n);
		/* each guest that ran had a daemon of its own */
		for (i = 0; o->per_guest && i < n; i++)
			k->stopped += rows[i].g ? 1 : 0;
		k->died = k->iso.deaths > k->stopped
				  ? k->iso.deaths - k->stopped
				  : 0;
		k->max_interrupted = k->died * demo_wl_vcpus(o);
		demo_restart_times(ml, &k->restart_median_ns,
				   &k->restart_max_ns);
	}

}

bool demo_end_checks(struct demo_checks *k, const struct demo_opts *o,
		     struct tg_machine *m, const struct demo_row *rows,
		     unsigned int n, const struct medlife *ml,
		     unsigned int slots, double elapsed)
{
	/* Every guest is torn down now: what is left must be nothing. */
	gather(k, o, m, rows, n, ml);
	if (ml->m)
		demo_medlife_report(o, ml, k);
	printf("\nsummary after %.1f s, every guest destroyed:\n", elapsed);
	k->ok = true;
	k->ok &= demo_check("every guest ran to its end and exited with 0",
			    k->exited_clean && !k->interrupted,
			    k->interrupted ? "interrupted: guests were killed" : NULL);
	if (slots)
		printf("  [note] OP-TEE holds %u guests at once (CFG_VIRT_GUEST_COUNT): the guests ran in turns\n",
		       slots);
	k->ok &= demo_check("no wrong result", k->mismatches == 0,
			    "%llu mismatches", (unsigned long long)k->mismatches);
	k->ok &= demo_check("no unexpected error", k->errors == 0, "%llu errors",
			    (unsigned long long)k->errors);
	if (o->hostile)
		k->ok &= demo_check("every attack refused", k->attacks_passed == 0,
				    "%llu refused, %llu passed, %llu skipped%s",
				    (unsigned long long)k->attacks_refused,
				    (unsigned long long)k->attacks_passed,
				    (unsigned long long)k->attacks_skipped,
				    k->attacks_skipped
					    ? ": could not be tried on this TEE, not counted as refused"
					    : "");
	k->ok &= demo_check("nothing pinned", k->pinned == 0, "%llu pages",
			    (unsigned long long)k->pinned);
	k->ok &= demo_check("every page back in the pool",
			    !k->guest_pages && !k->quarantined &&
				    k->mediator_pages == k->mediator_base,
			    "%llu guest, %llu quarantined, %llu mediator%s",
			    (unsigned long long)k->guest_pages,
			    (unsigned long long)k->quarantined,
			    (unsigned long long)(k->mediator_pages -
						 k->mediator_base),
			    k->mediator_base ? " beyond its own RX/TX" : "");
	if (o->qemu) {
		/* OP-TEE's threads cannot be seen from the normal world. */
		printf("  [n/a ] no TEE thread held (real OP-TEE: not visible from the normal world)\n");
		if (!k->oracle_on)
			printf("  [n/a ] no isolation violation (oracle): n/a (--no-oracle)\n");
		else if (k->oracle.broken)
			k->ok &= demo_check("no isolation violation (oracle)",
					    false, "the oracle plugin is broken: %s",
					    k->oracle.why);
		else
			k->ok &= demo_check(
				"no isolation violation (oracle)",
				k->oracle.violations == 0 && k->oracle.checked,
				"%llu of %llu secure-world accesses to NS RAM: %llu foreign, %llu unpinned, %llu identity",
				(unsigned long long)k->oracle.violations,
				(unsigned long long)k->oracle.checked,
				(unsigned long long)k->oracle.foreign,
				(unsigned long long)k->oracle.unpinned,
				(unsigned long long)k->oracle.identity);
	} else {
		k->ok &= demo_check("no TEE thread held", k->threads_held == 0, "%u",
				    k->threads_held);
		k->ok &= demo_check("no isolation violation (oracle)",
				    k->violations == 0, "%llu",
				    (unsigned long long)k->violations);
	}
	if (ml->m)
		k->ok &= demo_medlife_checks(o, ml, k);
	printf("result: %s\n", k->ok ? "PASS" : "FAIL");
	return k->ok;
}
