// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the live table, one row per guest, redrawn in place on a
 * terminal and printed every 5 seconds otherwise.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

/* Latency at quantile @q of a guest's histogram, in ns (bucket middle). */
double demo_hist_quantile(const uint64_t *h, double q)
{
	double total = 0, acc = 0;
	unsigned int i;

	for (i = 0; i < TG_LAT_BUCKETS; i++)
		total += (double)h[i];
	if (total <= 0)
		return 0;
	for (i = 0; i < TG_LAT_BUCKETS; i++) {
		acc += (double)h[i];
		if (acc >= q * total)
			break;
	}
	if (i >= TG_LAT_BUCKETS)
		i = TG_LAT_BUCKETS - 1;
	{
		double octave = (double)(1ull << (i / 4));

		return octave * (1.0 + ((double)(i % 4) + 0.5) / 4.0);
	}
}

const char *demo_fmt_ns(char *buf, size_t len, double ns)
{
	if (ns <= 0)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%.2fms", ns / 1e6);
	return buf;
}

uint64_t demo_sum_refused(const struct tg_domain_stats *d)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < TG_REFUSE_COUNT; i++)
		n += d->refused[i];
	return n;
}

const struct tg_guest_counters *demo_row_counters(const struct demo_row *r)
{
	return r->done ? &r->final : &r->last.counters;
}

void demo_log_capture_start(struct log_capture *lc)
{
	lc->saved = -1;
	lc->f = tmpfile();
	if (!lc->f)
		return;
	fflush(stderr);
	lc->saved = dup(STDERR_FILENO);
	if (lc->saved < 0 || dup2(fileno(lc->f), STDERR_FILENO) < 0) {
		if (lc->saved >= 0)
			close(lc->saved);
		lc->saved = -1;
		fclose(lc->f);
		lc->f = NULL;
	}
}

void demo_log_capture_end(struct log_capture *lc)
{
	unsigned int caused = 0, other = 0;
	char line[512];

	if (!lc->f)
		return;
	fflush(stderr);
	dup2(lc->saved, STDERR_FILENO);
	close(lc->saved);
	rewind(lc->f);
	while (fgets(line, sizeof(line), lc->f)) {
		if (strstr(line, "died (signal 9): restarting it")) {
			caused++;
			continue;
		}
		if (!other++)
			fprintf(stderr, "teegate demo: the platform's log while the guests ran:\n");
		fputs(line, stderr);
	}
	if (caused)
		fprintf(stderr, "teegate demo: %u log lines of a mediator killed by --chaos and restarted are not shown\n",
			caused);
	fclose(lc->f);
	lc->f = NULL;
}

/* ---- table --------------------------------------------------------------- */

static void print_header(FILE *f)
{
	fprintf(f, "%-4s %-10s %9s %9s %9s %9s %7s %8s %7s %6s  %s\n", "id",
		"guest", "calls", "calls/s", "p50", "p99", "errors",
		"refused", "pinned", "sess", "state");
}

static void print_row(FILE *f, const struct demo_row *r)
{
	const struct tg_guest_counters *c = demo_row_counters(r);
	char p50[16], p99[16], state[24];
	uint64_t refused = r->hostile ? c->attacks_refused
				      : demo_sum_refused(&r->last.domain);

	if (r->waiting)
		snprintf(state, sizeof(state), "waiting for a TEE slot");
	else if (!r->done)
		snprintf(state, sizeof(state), "running");
	else if (WIFEXITED(r->wstatus))
		snprintf(state, sizeof(state), "exited %d",
			 WEXITSTATUS(r->wstatus));
	else if (WIFSIGNALED(r->wstatus))
		snprintf(state, sizeof(state), "killed (%s)",
			 strsignal(WTERMSIG(r->wstatus)));
	else
		snprintf(state, sizeof(state), "?");
	fprintf(f, "%-4u %-10s %9llu %9.0f %9s %9s %7llu %8llu %7llu %6u  %s\n",
		r->last.client_id, r->last.name, (unsigned long long)c->calls,
		r->rate,
		demo_fmt_ns(p50, sizeof(p50),
			    demo_hist_quantile(c->lat_hist, 0.5)),
		demo_fmt_ns(p99, sizeof(p99),
			    demo_hist_quantile(c->lat_hist, 0.99)),
		(unsigned long long)c->errors, (unsigned long long)refused,
		r->done ? 0ull : (unsigned long long)r->last.pages_pinned,
		r->done ? 0u : r->last.domain.sessions, state);
}

/* Operations the guests saw interrupted by a mediator death (their
 * counters: display material). */
uint64_t demo_sum_interrupted(const struct demo_row *rows, unsigned int n)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += demo_row_counters(&rows[i])->interrupted;
	return sum;
}

/*
 * The --chaos/--upgrade lines of the table, from the hypervisor's stats;
 * @el ends each line's old text on a terminal. Returns the lines printed.
 */
static unsigned int print_medlife(FILE *f, const char *el,
				  struct tg_machine *m,
				  const struct medlife *ml,
				  const struct demo_row *rows, unsigned int n)
{
	struct tg_isolation_stats st;
	char last[16];

	tg_machine_isolation_stats(m, &st);
	fprintf(f, "%smediator: ", el);
	if (ml->interval_ns)
		fprintf(f, "%llu killed, ",
			(unsigned long long)__atomic_load_n(&ml->kills,
							    __ATOMIC_RELAXED));
	fprintf(f, "%llu deaths, %llu restarts (%llu state recovered, %llu lost), last restart %s\n",
		(unsigned long long)st.deaths, (unsigned long long)st.restarts,
		(unsigned long long)st.recovered,
		(unsigned long long)st.state_lost,
		demo_fmt_ns(last, sizeof(last), (double)st.last_restart_ns));
	fprintf(f, "%s          %llu calls failed in flight, guests saw %llu interrupted",
		el, (unsigned long long)st.calls_failed,
		(unsigned long long)demo_sum_interrupted(rows, n));
	switch (__atomic_load_n(&ml->upgrade, __ATOMIC_ACQUIRE)) {
	case UPGRADE_PENDING:
		fprintf(f, "; upgrade at t = %.0f s",
			(double)ml->upgrade_at_ns / 1e9);
		break;
	case UPGRADE_DONE:
		fprintf(f, "; upgraded at t = %.1f s in %s",
			(double)ml->upgrade_t_ns / 1e9,
			demo_fmt_ns(last, sizeof(last),
				    (double)ml->upgrade_ns));
		break;
	case UPGRADE_FAILED:
		fprintf(f, "; upgrade FAILED: %s", tg_strerror(ml->upgrade_rc));
		break;
	default:
		break;
	}
	fprintf(f, "\n");
	return 2;
}

unsigned int demo_draw_table(struct tg_machine *m, struct demo_row *rows,
			     unsigned int n, const struct demo_opts *o,
			     const struct medlife *ml, double t, bool done,
			     bool tty, unsigned int prev_lines)
{
	const char *el = tty ? "\033[K" : ""; /* clear to end of line */
	struct tg_machine_pages ps;
	unsigned int i, lines = 0;
	char when[40];

	tg_machine_page_stats(m, &ps);
	if (tty && prev_lines)
		printf("\033[%uA", prev_lines);
	if (done)
		snprintf(when, sizeof(when), "finished after %.1f s", t);
	else
		snprintf(when, sizeof(when), "t = %.0f s of %u", t,
			 o->seconds);
	printf("%steegate demo: %u guests x %u vCPUs%s, %s, %s%s mediator  [%s]\n",
	       el, o->guests, o->vcpus, o->hostile ? " + 1 hostile" : "",
	       demo_tee_name(o),
	       o->isolation == TG_ISOLATION_DEFAULT
		       ? "inline"
		       : tg_isolation_name(o->isolation),
	       o->per_guest ? " per-guest" : "", when);
	lines++;
	printf("%s", el);
	print_header(stdout);
	lines++;
	for (i = 0; i < n; i++) {
		printf("%s", el);
		print_row(stdout, &rows[i]);
		lines++;
	}
	printf("%smachine: %llu pages free, %llu guest, %llu mediator, %llu pinned, %llu quarantined; oracle violations ",
	       el, (unsigned long long)ps.free, (unsigned long long)ps.guest,
	       (unsigned long long)ps.mediator, (unsigned long long)ps.pinned,
	       (unsigned long long)ps.quarantined);
	if (o->qemu) {
		struct demo_oracle or;

		if (!demo_oracle_stats(&or))
			printf("n/a (--no-oracle)\n");
		else if (or.broken)
			printf("n/a (oracle broken: %s)\n", or.why);
		else
			printf("%llu (of %llu secure-world accesses)\n",
			       (unsigned long long)or.violations,
			       (unsigned long long)or.checked);
	} else {
		printf("%llu\n", (unsigned long long)tg_machine_violations(m));
	}
	lines++;
	if (ml->m)
		lines += print_medlife(stdout, el, m, ml, rows, n);
	if (!tty) {
		printf("\n");
		lines++;
	}
	fflush(stdout);
	return lines;
}
