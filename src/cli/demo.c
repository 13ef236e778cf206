// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: several guests share one TEE through the mediator while a
 * hostile guest runs the attack catalogue; a live table shows each guest;
 * at the end every guest is destroyed and the platform checks that
 * nothing leaked. This file is the run; demo.h says where the rest is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * While the mediator probes the TEE (out of process, or on QEMU), its log
 * goes to /dev/null unless --verbose: the demo says what it found in one
 * line of its own. Return the saved stderr for quiet_end(), or -1.
 */
static int quiet_begin(const struct demo_opts *o)
{
	int saved, null_fd;

	if (o->verbose || (!o->qemu && (o->isolation == TG_ISOLATION_DEFAULT ||
					o->isolation == TG_ISOLATION_INLINE)))
		return -1;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY);
	if (null_fd >= 0) {
		dup2(null_fd, STDERR_FILENO);
		close(null_fd);
	}
	return saved;
}

static void quiet_end(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* Start the guest of row @r; on success it runs from now on. */
static int start_row(struct tg_machine *m, struct tg_guest_config *gc,
		     struct demo_row *r, struct demo_guest_arg *a,
		     const struct tg_limits *limits)
{
	int ret;

	gc->name = r->last.name;
	gc->vcpus = a->vcpus + DRIVER_VCPUS;
	gc->limits = limits;
	gc->ram_pages = r->hostile ? HOSTILE_PAGES : MIXED_PAGES;
	gc->arg_size = sizeof(*a); /* a process guest gets a copy */
	ret = tg_guest_start(m, gc,
			     r->hostile ? demo_hostile_main : demo_mixed_main,
			     a, &r->g);
	if (ret)
		return ret;
	r->waiting = false;
	r->start_ns = demo_now_ns();
	tg_guest_stats(r->g, &r->last);
	return 0;
}

/* A waiting guest that will never run: it counts as not clean. */
static void abandon_row(struct demo_row *r)
{
	r->waiting = false;
	r->done = true;
	r->wstatus = -1;
}

int tg_cmd_demo(int argc, char **argv)
{
	struct secure_world sw = { 0 };
	struct tg_machine_config mc = { 0 };
	struct tg_guest_config gc = { 0 };
	struct tg_limits limits = { .max_calls = DEMO_MAX_CALLS };
	struct demo_guest_arg *args;
	struct demo_opts o;
	struct tg_machine *m = NULL;
	struct demo_row *rows;
	struct demo_checks k = { 0 };
	struct medlife ml = { 0 };
	struct log_capture lc = { 0 };
	FILE *json = NULL;
	unsigned int n, i, lines = 0, live;
	uint64_t t0, last_tick;
	uint64_t run_ns, grace_ns = (uint64_t)DEMO_GRACE_S * 1000000000ull;
	unsigned int slots = 0, waiting, refusals = 0;
	bool tty = isatty(STDOUT_FILENO);
	uint32_t tmp_flag;
	double elapsed;
	int ret;

	ret = demo_parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? TG_EXIT_OK : ret;
	if (o.json_path) {
		json = fopen(o.json_path, "w");
		if (!json)
			return tg_cli_usage_error("demo: --json: cannot write '%s': %s",
						  o.json_path, strerror(errno));
	}
	n = o.guests + (o.hostile ? 1 : 0);
	rows = calloc(n, sizeof(*rows));
	args = calloc(n, sizeof(*args));
	if (!rows || !args) {
		fprintf(stderr, "teegate: out of memory\n");
		return TG_EXIT_FAIL;
	}

	mc.tee = TG_TEE_MODEL;
	mc.mediation = TG_MEDIATION_INLINE;
	/* 1 GiB like QEMU virt, more when the guests need it (sparse). */
	{
		uint64_t need = ((uint64_t)o.guests * MIXED_PAGES +
				 HOSTILE_PAGES + MEDIATOR_SLACK_PAGES)
				<< 12;

		mc.ram_size = 1ull << 30;
		while (mc.ram_size < need)
			mc.ram_size <<= 1;
	}
	mc.log_level = o.verbose ? TG_LOG_WARN + 1 : TG_LOG_ERROR + 1;
	/* Enough OP-TEE threads for every vCPU: with the QEMU build's 2, the
	 * well-behaved guests' traffic would make the hostile guest's probes
	 * of its own limits fail with ETHREAD_LIMIT instead. */
	mc.model.threads = DEMO_TEE_THREADS;
	mc.model.max_guests = o.guests + 1; /* CFG_VIRT_GUEST_COUNT */
	mc.model.no_virtualization = o.model_no_virt;
	/* FF-A on the model: it plays OP-TEE as the S-EL1 SPMC. */
	mc.model.ffa = !o.qemu && (o.protocol == TG_PROTOCOL_FFA || o.model_ffa);
	mc.mediator.protocol = o.protocol;
	mc.isolation = o.isolation;
	mc.placement = o.placement;
	mc.per_guest = o.per_guest;
	if (o.qemu) {
		ret = demo_start_qemu(&o, &mc, &sw);
		if (ret)
			goto out_early;
	}
	{
		/* QEMU: a failed probe is said in one line below, not also
		 * in the mediator's log */
		int saved = quiet_begin(&o);

		ret = tg_machine_create(&mc, &m);
		quiet_end(saved);
	}
	if (ret && o.isolation != TG_ISOLATION_DEFAULT &&
	    o.isolation != TG_ISOLATION_INLINE && tg_isolation_last_error()) {
		fprintf(stderr, "teegate: --isolation %s: %s\n",
			tg_isolation_name(o.isolation),
			tg_isolation_last_error());
		ret = TG_EXIT_USAGE;
		goto out_early;
	}
	ret = demo_check_secure_world(&o, ret, m);
	if (ret) {
		if (m)
			tg_machine_destroy(m);
		m = NULL;
		goto out_early;
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	o.spoken = tg_machine_tee_info(m) ? tg_machine_tee_info(m)->protocol
					  : TG_PROTOCOL_OPTEE;
	{
		/* Pages the mediator keeps while it lives (FF-A: its RX/TX
		 * pair with the SPMC): not a guest's leftovers. */
		struct tg_machine_pages ps;

		tg_machine_page_stats(m, &ps);
		k.mediator_base = ps.mediator;
	}

	tmp_flag = demo_register_tmp(&o, m);
	for (i = 0; i < n; i++) {
		rows[i].hostile = o.hostile && i == n - 1;
		args[i].seconds = o.seconds;
		args[i].seed = 0x7e6a7e + i;
		args[i].flags = (o.verbose ? TG_WL_VERBOSE : 0) |
				(o.chaos_s ? TG_WL_CHAOS : 0) | tmp_flag;
		args[i].vcpus = rows[i].hostile ? HOSTILE_VCPUS : o.vcpus;
		if (rows[i].hostile)
			snprintf(rows[i].last.name, sizeof(rows[i].last.name),
				 "hostile");
		else
			snprintf(rows[i].last.name, sizeof(rows[i].last.name),
				 "mixed-%u", i + 1);
		rows[i].waiting = true;
	}
	for (i = 0; i < n; i++) {
		/* --per-guest: the first guest's mediator probes the TEE
		 * now; what it finds is said in one line below */
		int saved = i == 0 && o.per_guest ? quiet_begin(&o) : -1;

		ret = start_row(m, &gc, &rows[i], &args[i], &limits);
		quiet_end(saved);
		if (!ret && i == 0 && demo_per_guest_meets_ffa(&o, m)) {
			/* no other guest could start: stop at once */
			tg_guest_kill(rows[0].g);
			tg_guest_wait_timeout(rows[0].g, 10000, &rows[0].wstatus);
			tg_machine_destroy(m);
			m = NULL;
			ret = TG_EXIT_USAGE;
			goto out_early;
		}
		if (ret == TG_EPROTO && o.qemu && i == 0) {
			fprintf(stderr, "teegate: OP-TEE refused the first guest (VM_CREATED): run again with --log-dir DIR and read DIR/sw.log\n");
			tg_machine_destroy(m);
			m = NULL;
			ret = TG_EXIT_USAGE;
			goto out_early;
		}
		if (ret == TG_EPROTO && o.qemu) {
			/*
			 * VM_CREATED refused: OP-TEE's guest partitions
			 * (CFG_VIRT_GUEST_COUNT) are all in use. The others
			 * run in turns, each as long as asked, when a guest
			 * ends and its partition is free again.
			 */
			slots = i;
			printf("teegate demo: OP-TEE holds %u guests at once (CFG_VIRT_GUEST_COUNT): the other %u start when a guest ends\n",
			       slots, n - i);
			break;
		}
		if (ret) {
			fprintf(stderr, "teegate: cannot start guest %s: %s\n",
				rows[i].last.name, tg_strerror(ret));
			n = i;
			k.interrupted = true;
			break;
		}
	}

	t0 = last_tick = demo_now_ns();
	run_ns = (uint64_t)o.seconds * 1000000000ull;
	if (tty && demo_medlife_wanted(&o) && !o.verbose)
		demo_log_capture_start(&lc);
	if (demo_medlife_start(&ml, m, &o, t0)) {
		fprintf(stderr, "teegate: cannot start the thread of --chaos/--upgrade\n");
		interrupted = 1; /* the guests are stopped below */
	}
	for (;;) {
		uint64_t now = demo_now_ns();
		double dt = (double)(now - last_tick) / 1e9;
		bool tick = dt >= (tty ? 1.0 : 5.0);

		live = 0;
		waiting = 0;
		for (i = 0; i < n; i++) {
			struct demo_row *r = &rows[i];

			if (r->waiting)
				waiting++;
			if (r->done || r->waiting)
				continue;
			if (tg_guest_wait_timeout(r->g, 0, &r->wstatus) ==
			    TG_AGAIN) {
				live++;
				if (tick) {
					uint64_t calls;

					tg_guest_stats(r->g, &r->last);
					calls = r->last.counters.calls;
					r->rate = (double)(calls - r->prev_calls) / dt;
					r->prev_calls = calls;
				}
				continue;
			}
			r->done = true;
			r->end_ns = now;
			{
				struct tg_guest_stats fin;

				tg_guest_stats(r->g, &fin);
				r->final = fin.counters;
			}
			/* finished: the average over its run */
			r->rate = now > r->start_ns
					  ? (double)r->final.calls * 1e9 /
						    (double)(now - r->start_ns)
					  : 0;
		}
		/* OP-TEE's guest slots: start waiting guests in turn */
		for (i = 0; i < n && waiting && live < slots && !interrupted;
		     i++) {
			if (!rows[i].waiting)
				continue;
			ret = start_row(m, &gc, &rows[i], &args[i], &limits);
			if (!ret) {
				live++;
				waiting--;
				refusals = 0;
				continue;
			}
			/* refused: the partition may not be free yet; with
			 * no guest left to end, give up after 5 s */
			if (ret != TG_EPROTO || (!live && ++refusals > 100)) {
				fprintf(stderr, "teegate: cannot start guest %s: %s\n",
					rows[i].last.name, tg_strerror(ret));
				k.interrupted = true;
				for (i = 0; i < n; i++)
					if (rows[i].waiting)
						abandon_row(&rows[i]);
				waiting = 0;
			}
			break;
		}
		if (tick) {
			lines = demo_draw_table(m, rows, n, &o, &ml,
						(double)(now - t0) / 1e9, false,
						tty, lines);
			last_tick = now;
		}
		if (!live && !waiting)
			break;
		if (interrupted) {
			k.interrupted = true;
			for (i = 0; i < n; i++)
				if (rows[i].waiting)
					abandon_row(&rows[i]);
		}
		for (i = 0; i < n; i++)
			if (!rows[i].done && !rows[i].waiting &&
			    (interrupted ||
			     now > rows[i].start_ns + run_ns + grace_ns))
				tg_guest_kill(rows[i].g);
		usleep(50000);
	}
	demo_medlife_stop(&ml); /* its last kill waited for the restart */
	elapsed = (double)(demo_now_ns() - t0) / 1e9;
	lines = demo_draw_table(m, rows, n, &o, &ml, elapsed, true, tty, lines);
	demo_log_capture_end(&lc);

	demo_end_checks(&k, &o, m, rows, n, &ml, slots, elapsed);

	if (json) {
		ret = demo_write_json(json, &o, rows, n, elapsed, &k, &ml);
		if (fclose(json) || ret) {
			fprintf(stderr, "teegate: --json: write failed: %s\n",
				strerror(errno));
			k.ok = false;
		}
	}
	if (tg_machine_destroy(m) != TG_OK) {
		fprintf(stderr, "teegate: machine teardown reported a leak\n");
		k.ok = false;
	}
	demo_stop_qemu(&sw); /* after the machine: its guests' VM_DESTROYED */
	free(ml.restart_ns);
	free(rows);
	free(args);
	return k.ok ? TG_EXIT_OK : TG_EXIT_FAIL;

out_early:
	demo_stop_qemu(&sw);
	if (json)
		fclose(json);
	free(rows);
	free(args);
	return ret;
}
