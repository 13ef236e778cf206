// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the summary as JSON (--json FILE), written with jansson.
 * Which keys there are depends on the run: "interrupted" per guest and
 * "chaos" with --chaos, "upgrade" with --upgrade; with --backend qemu
 * "model_threads_held" is null (real OP-TEE does not show its threads to
 * the normal world), and "oracle_violations" is what the oracle plugin
 * counted, with "oracle_checked" beside it, or null with --no-oracle (or
 * a broken plugin).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cli.h"
#include "demo.h"

/* @ns in ms, to the µs. */
static json_t *ms(double ns)
{
	return tg_json_fixed(ns / 1e6, 3);
}

/* One guest: its counters (display material) and how it ended. */
static json_t *guest_json(const struct demo_opts *o, const struct demo_row *r,
			  double elapsed)
{
	const struct tg_guest_counters *c = demo_row_counters(r);
	double run_s = elapsed > 0 ? elapsed : 1;
	double p50 = demo_hist_quantile(c->lat_hist, 0.5);
	double p99 = demo_hist_quantile(c->lat_hist, 0.99);
	json_t *g = json_object();

	tg_json_set(&g, "client_id", tg_json_uint(r->last.client_id));
	tg_json_set(&g, "name", json_string(r->last.name));
	tg_json_set(&g, "workload",
		    json_string(r->hostile ? "hostile" : "mixed"));
	tg_json_set(&g, "calls", tg_json_uint(c->calls));
	tg_json_set(&g, "calls_per_s",
		    tg_json_fixed((double)c->calls / run_s, 1));
	/* a bucket's middle, in whole ns */
	tg_json_set(&g, "p50_ns", json_integer(llround(p50)));
	tg_json_set(&g, "p99_ns", json_integer(llround(p99)));
	tg_json_set(&g, "verified", tg_json_uint(c->verified));
	tg_json_set(&g, "mismatches", tg_json_uint(c->mismatches));
	tg_json_set(&g, "errors", tg_json_uint(c->errors));
	tg_json_set(&g, "attacks_refused", tg_json_uint(c->attacks_refused));
	tg_json_set(&g, "attacks_passed", tg_json_uint(c->attacks_passed));
	tg_json_set(&g, "mediator_refusals",
		    tg_json_uint(demo_sum_refused(&r->last.domain)));
	tg_json_set(&g, "traps", tg_json_uint(r->last.traps));
	if (o->chaos_s)
		tg_json_set(&g, "interrupted", tg_json_uint(c->interrupted));
	tg_json_set(&g, "exit_status",
		    json_integer(WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus)
						       : -1));
	tg_json_set(&g, "signal",
		    json_integer(WIFSIGNALED(r->wstatus) ? WTERMSIG(r->wstatus)
							 : 0));
	return g;
}

/* --chaos: the kills, and what the hypervisor saw of them. */
static json_t *chaos_json(const struct demo_opts *o, const struct medlife *ml,
			  const struct demo_checks *k)
{
	json_t *c = json_object(), *times = json_array();
	uint32_t i;

	/* in the order of the kills */
	for (i = 0; i < ml->nrestart; i++)
		tg_json_append(&times, ms(ml->restart_ns[i]));
	tg_json_set(&c, "interval_s", tg_json_uint(o->chaos_s));
	tg_json_set(&c, "kills", tg_json_uint(ml->kills));
	tg_json_set(&c, "deaths", tg_json_uint(k->iso.deaths));
	tg_json_set(&c, "daemons_stopped", tg_json_uint(k->stopped));
	tg_json_set(&c, "restarts", tg_json_uint(k->iso.restarts));
	tg_json_set(&c, "recovered", tg_json_uint(k->iso.recovered));
	tg_json_set(&c, "state_lost", tg_json_uint(k->iso.state_lost));
	tg_json_set(&c, "calls_failed", tg_json_uint(k->iso.calls_failed));
	tg_json_set(&c, "guests_interrupted", tg_json_uint(k->wl_interrupted));
	tg_json_set(&c, "restart_ms_median", ms(k->restart_median_ns));
	tg_json_set(&c, "restart_ms_max", ms(k->restart_max_ns));
	tg_json_set(&c, "restart_ms", times);
	return c;
}

/* --upgrade: when, how long, how many calls failed; null if not done. */
static json_t *upgrade_json(const struct demo_opts *o, const struct medlife *ml)
{
	bool pending = ml->upgrade == UPGRADE_PENDING;
	bool done = ml->upgrade == UPGRADE_DONE;
	json_t *u = json_object();

	tg_json_set(&u, "path", json_string(o->upgrade_path));
	tg_json_set(&u, "ok", json_boolean(done));
	tg_json_set(&u, "at_s",
		    pending ? json_null()
			    : tg_json_fixed((double)ml->upgrade_t_ns / 1e9, 3));
	tg_json_set(&u, "upgrade_ms",
		    pending ? json_null() : ms(done ? ml->upgrade_ns : 0));
	tg_json_set(&u, "call_ms",
		    pending ? json_null() : ms(ml->upgrade_call_ns));
	tg_json_set(&u, "calls_failed",
		    pending ? json_null()
			    : tg_json_uint(ml->upgrade_calls_failed));
	return u;
}

/* What was left at the end (the hypervisor's own state), the verdicts. */
static json_t *checks_json(const struct demo_opts *o,
			   const struct demo_checks *k)
{
	json_t *c = json_object();

	tg_json_set(&c, "guests_exited_cleanly", json_boolean(k->exited_clean));
	tg_json_set(&c, "mismatches", tg_json_uint(k->mismatches));
	tg_json_set(&c, "errors", tg_json_uint(k->errors));
	tg_json_set(&c, "attacks_refused", tg_json_uint(k->attacks_refused));
	tg_json_set(&c, "attacks_passed", tg_json_uint(k->attacks_passed));
	tg_json_set(&c, "pinned_pages", tg_json_uint(k->pinned));
	tg_json_set(&c, "guest_pages_left", tg_json_uint(k->guest_pages));
	tg_json_set(&c, "quarantined_pages", tg_json_uint(k->quarantined));
	/* left over: beyond what the mediator keeps for its life */
	tg_json_set(&c, "mediator_pages",
		    tg_json_uint(k->mediator_pages - k->mediator_base));
	tg_json_set(&c, "mediator_own_pages", tg_json_uint(k->mediator_base));
	tg_json_set(&c, "attacks_skipped", tg_json_uint(k->attacks_skipped));
	/* real OP-TEE's threads cannot be seen from the normal world */
	tg_json_set(&c, "model_threads_held",
		    o->qemu ? json_null() : tg_json_uint(k->threads_held));
	if (!o->qemu) {
		tg_json_set(&c, "oracle_violations",
			    tg_json_uint(k->violations));
	} else if (k->oracle_on && !k->oracle.broken) {
		/* the oracle plugin watched real OP-TEE */
		tg_json_set(&c, "oracle_violations",
			    tg_json_uint(k->oracle.violations));
		tg_json_set(&c, "oracle_checked",
			    tg_json_uint(k->oracle.checked));
	} else {
		tg_json_set(&c, "oracle_violations", json_null());
	}
	if (o->chaos_s || o->upgrade_path)
		tg_json_set(&c, "mediator_restarted_with_state",
			    json_boolean(k->restarted_ok));
	if (o->chaos_s)
		tg_json_set(&c, "failed_calls_accounted",
			    json_boolean(k->accounted_ok));
	if (o->upgrade_path)
		tg_json_set(&c, "upgraded", json_boolean(k->upgraded_ok));
	tg_json_set(&c, "interrupted", json_boolean(k->interrupted));
	return c;
}

int demo_write_json(FILE *f, const struct demo_opts *o, struct demo_row *rows,
		    unsigned int n, double elapsed, const struct demo_checks *k,
		    const struct medlife *ml)
{
	json_t *root = json_object(), *guests = json_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		tg_json_append(&guests, guest_json(o, &rows[i], elapsed));
	tg_json_set(&root, "tool", json_string("teegate demo"));
	tg_json_set(&root, "backend", json_string(o->qemu ? "qemu" : "model"));
	tg_json_set(&root, "protocol",
		    json_string(tg_protocol_name(o->spoken)));
	tg_json_set(&root, "guests", tg_json_uint(o->guests));
	tg_json_set(&root, "vcpus", tg_json_uint(o->vcpus));
	tg_json_set(&root, "seconds", tg_json_uint(o->seconds));
	tg_json_set(&root, "hostile", json_boolean(o->hostile));
	tg_json_set(&root, "elapsed_s", tg_json_fixed(elapsed, 3));
	tg_json_set(&root, "per_guest", guests);
	if (o->chaos_s)
		tg_json_set(&root, "chaos", chaos_json(o, ml, k));
	if (o->upgrade_path)
		tg_json_set(&root, "upgrade", upgrade_json(o, ml));
	tg_json_set(&root, "checks", checks_json(o, k));
	tg_json_set(&root, "ok", json_boolean(k->ok));
	return tg_json_write(root, f);
}
