// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the summary as JSON (--json FILE).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>

#include "cli.h"
#include "demo.h"

/* @s as a JSON string (quotes, backslashes and controls escaped). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The --chaos and --upgrade objects of the JSON summary. */
static void write_json_medlife(FILE *f, const struct demo_opts *o,
			       const struct medlife *ml,
			       const struct demo_checks *k)
{
	uint32_t i;

	if (o->chaos_s) {
		fprintf(f, "  \"chaos\": {\"interval_s\": %u, \"kills\": %llu, \"deaths\": %llu, \"daemons_stopped\": %llu, \"restarts\": %llu, \"recovered\": %llu, \"state_lost\": %llu,\n",
			o->chaos_s, (unsigned long long)ml->kills,
			(unsigned long long)k->iso.deaths,
			(unsigned long long)k->stopped,
			(unsigned long long)k->iso.restarts,
			(unsigned long long)k->iso.recovered,
			(unsigned long long)k->iso.state_lost);
		fprintf(f, "    \"calls_failed\": %llu, \"guests_interrupted\": %llu, \"restart_ms_median\": %.3f, \"restart_ms_max\": %.3f, \"restart_ms\": [",
			(unsigned long long)k->iso.calls_failed,
			(unsigned long long)k->wl_interrupted,
			k->restart_median_ns / 1e6, k->restart_max_ns / 1e6);
		for (i = 0; i < ml->nrestart; i++)
			fprintf(f, "%s%.3f", i ? ", " : "",
				(double)ml->restart_ns[i] / 1e6);
		fprintf(f, "]},\n");
	}
	if (o->upgrade_path) {
		bool done = ml->upgrade == UPGRADE_DONE;

		fprintf(f, "  \"upgrade\": {\"path\": ");
		json_str(f, o->upgrade_path);
		fprintf(f, ", \"ok\": %s, ", done ? "true" : "false");
		if (ml->upgrade == UPGRADE_PENDING)
			fprintf(f, "\"at_s\": null, \"upgrade_ms\": null, \"call_ms\": null, \"calls_failed\": null},\n");
		else
			fprintf(f, "\"at_s\": %.3f, \"upgrade_ms\": %.3f, \"call_ms\": %.3f, \"calls_failed\": %llu},\n",
				(double)ml->upgrade_t_ns / 1e9,
				done ? (double)ml->upgrade_ns / 1e6 : 0.0,
				(double)ml->upgrade_call_ns / 1e6,
				(unsigned long long)ml->upgrade_calls_failed);
	}
}

void demo_write_json(FILE *f, const struct demo_opts *o, struct demo_row *rows,
		     unsigned int n, double elapsed,
		     const struct demo_checks *k, const struct medlife *ml)
{
	unsigned int i;

	fprintf(f, "{\n  \"tool\": \"teegate demo\",\n");
	fprintf(f, "  \"backend\": \"%s\",\n", o->qemu ? "qemu" : "model");
	fprintf(f, "  \"guests\": %u, \"vcpus\": %u, \"seconds\": %u, \"hostile\": %s,\n",
		o->guests, o->vcpus, o->seconds, o->hostile ? "true" : "false");
	fprintf(f, "  \"elapsed_s\": %.3f,\n  \"per_guest\": [\n", elapsed);
	for (i = 0; i < n; i++) {
		const struct demo_row *r = &rows[i];
		const struct tg_guest_counters *c = demo_row_counters(r);
		double run_s = elapsed > 0 ? elapsed : 1;

		fprintf(f,
			"    {\"client_id\": %u, \"name\": \"%s\", \"workload\": \"%s\", "
			"\"calls\": %llu, \"calls_per_s\": %.1f, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
			"\"verified\": %llu, \"mismatches\": %llu, \"errors\": %llu, "
			"\"attacks_refused\": %llu, \"attacks_passed\": %llu, "
			"\"mediator_refusals\": %llu, \"traps\": %llu, ",
			r->last.client_id, r->last.name,
			r->hostile ? "hostile" : "mixed",
			(unsigned long long)c->calls, (double)c->calls / run_s,
			demo_hist_quantile(c->lat_hist, 0.5),
			demo_hist_quantile(c->lat_hist, 0.99),
			(unsigned long long)c->verified,
			(unsigned long long)c->mismatches,
			(unsigned long long)c->errors,
			(unsigned long long)c->attacks_refused,
			(unsigned long long)c->attacks_passed,
			(unsigned long long)demo_sum_refused(&r->last.domain),
			(unsigned long long)r->last.traps);
		if (o->chaos_s)
			fprintf(f, "\"interrupted\": %llu, ",
				(unsigned long long)c->interrupted);
		fprintf(f, "\"exit_status\": %d, \"signal\": %d}%s\n",
			WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : -1,
			WIFSIGNALED(r->wstatus) ? WTERMSIG(r->wstatus) : 0,
			i + 1 < n ? "," : "");
	}
	fprintf(f, "  ],\n");
	write_json_medlife(f, o, ml, k);
	fprintf(f, "  \"checks\": {\n");
	fprintf(f, "    \"guests_exited_cleanly\": %s,\n",
		k->exited_clean ? "true" : "false");
	fprintf(f, "    \"mismatches\": %llu,\n    \"errors\": %llu,\n",
		(unsigned long long)k->mismatches,
		(unsigned long long)k->errors);
	fprintf(f, "    \"attacks_refused\": %llu,\n    \"attacks_passed\": %llu,\n",
		(unsigned long long)k->attacks_refused,
		(unsigned long long)k->attacks_passed);
	fprintf(f, "    \"pinned_pages\": %llu,\n    \"guest_pages_left\": %llu,\n",
		(unsigned long long)k->pinned,
		(unsigned long long)k->guest_pages);
	fprintf(f, "    \"quarantined_pages\": %llu,\n    \"mediator_pages\": %llu,\n",
		(unsigned long long)k->quarantined,
		(unsigned long long)k->mediator_pages);
	fprintf(f, "    \"attacks_skipped\": %llu,\n",
		(unsigned long long)k->attacks_skipped);
	if (o->qemu) /* real OP-TEE: neither can be seen from here */
		fprintf(f, "    \"model_threads_held\": null,\n    \"oracle_violations\": null,\n");
	else
		fprintf(f, "    \"model_threads_held\": %u,\n    \"oracle_violations\": %llu,\n",
			k->threads_held, (unsigned long long)k->violations);
	if (o->chaos_s || o->upgrade_path)
		fprintf(f, "    \"mediator_restarted_with_state\": %s,\n",
			k->restarted_ok ? "true" : "false");
	if (o->chaos_s)
		fprintf(f, "    \"failed_calls_accounted\": %s,\n",
			k->accounted_ok ? "true" : "false");
	if (o->upgrade_path)
		fprintf(f, "    \"upgraded\": %s,\n",
			k->upgraded_ok ? "true" : "false");
	fprintf(f, "    \"interrupted\": %s\n  },\n",
		k->interrupted ? "true" : "false");
	fprintf(f, "  \"ok\": %s\n}\n", k->ok ? "true" : "false");
}
