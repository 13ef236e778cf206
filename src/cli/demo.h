/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teegate demo: what its files share. One file, one part of the demo:
 *
 *   demo.c          the run: the machine, the guests started in turn, the
 *                   loop that watches them, the teardown
 *   demo_options.c  the command line and the manual
 *   demo_guests.c   what the guests run: the mixed workload, the attacks
 *   demo_world.c    the secure world: the OP-TEE model or OP-TEE in QEMU
 *   demo_table.c    the live table, and the platform's log held back
 *                   while it is redrawn
 *   demo_medlife.c  the mediator's life: --chaos kills it, --upgrade
 *                   replaces it
 *   demo_checks.c   the checks at the end: what is left must be nothing
 *   demo_json.c     the summary as JSON (--json)
 *
 * The guests' counters pages are written by the guests: every number read
 * from them is display material (and a hostile guest can lie about
 * itself). The checks that matter come from the hypervisor's own state:
 * pins, page owners, TEE threads held, oracle violations.
 */
#ifndef TG_CLI_DEMO_H
#define TG_CLI_DEMO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#ifdef TG_HAVE_WORKLOADS
#include <teegate/workload.h>
#else
#define TG_WL_VERBOSE 0u
#define TG_WL_CHAOS 0u
#define TG_WL_REGISTER_TMP 0u
#endif

#define DEMO_MAX_GUESTS 32u
#define DEMO_MAX_VCPUS 4u
#define DEMO_MAX_SECONDS 3600u
#define DEMO_GRACE_S 15u
#define MIXED_PAGES 8192u  /* 32 MiB: the 8 MiB big buffer and the rest */
#define HOSTILE_PAGES 4096u
#define MEDIATOR_SLACK_PAGES 32768u /* reserved regions, shadows, slack */
/* The guest driver keeps one vCPU for async notifications: every guest
 * gets one vCPU slot more than the vCPUs that run a workload. */
#define DRIVER_VCPUS 1u
#define HOSTILE_VCPUS 2u    /* the TOCTOU attacks scribble from a 2nd vCPU */
/*
 * OP-TEE threads, and the concurrent std calls the mediator allows each
 * guest: the TEE has more threads than all guests together are likely to
 * hold, so a guest probing its own limit (the hostile catalogue suspends
 * calls until refused) meets the mediator's per-guest limit, not a TEE
 * that other guests happen to keep busy.
 */
#define DEMO_TEE_THREADS 32u
#define DEMO_MAX_CALLS 8u
#define DEMO_QEMU_MAX_CPUS 4u /* TF-A's qemu platform */
#define HOSTILE_SKIPPED_MARK 0x5C000000u /* hostile's final phase */
#define DEMO_QEMU_MAX_RAM (2ull << 30)
#define DEMO_CHAOS_DEFAULT_S 3u
#define DEMO_CHAOS_MAX_S 60u
#define DEMO_RESTART_WAIT_MS 10000u /* the platform's own bound, too */

/* The command line (demo_options.c). */
struct demo_opts {
	uint32_t guests;
	uint32_t vcpus;
	uint32_t seconds;
	bool hostile;
	bool verbose;
	const char *json_path;
	/* secure world */
	bool qemu;              /* --backend qemu */
	const char *firmware;   /* --firmware DIR */
	const char *qemu_path;  /* --qemu PATH */
	const char *log_dir;    /* --log-dir DIR */
	uint32_t qemu_cpus;     /* --qemu-cpus N */
	uint32_t qemu_timeout;  /* test: --qemu-timeout SEC */
	bool no_secure;         /* test: QEMU without a secure world */
	bool no_oracle;         /* --no-oracle: without the oracle plugin */
	bool model_no_virt;     /* test: the model without virtualization */
	bool model_ffa;         /* test: the model speaks FF-A, whatever
				 * --protocol says (auto then finds it) */
	enum tg_isolation isolation; /* --isolation MODE */
	enum tg_placement placement; /* --placement P */
	bool per_guest;         /* --per-guest (sandboxed, service) */
	uint32_t chaos_s;       /* --chaos: kill interval; 0 = no chaos */
	const char *upgrade_path; /* --upgrade PATH */
	enum tg_protocol protocol; /* --protocol: 0 = auto */
	enum tg_protocol spoken;   /* what the mediator found (after create) */
};

/* What a guest runs, given to its entry point. */
struct demo_guest_arg {
	uint32_t seconds;
	uint64_t seed;
	uint32_t vcpus;
	uint32_t flags; /* TG_WL_VERBOSE, TG_WL_CHAOS */
};

/* One guest: a row of the table, of the JSON and of the checks. */
struct demo_row {
	struct tg_guest *g;
	bool hostile;
	bool done;
	int wstatus;
	struct tg_guest_stats last;    /* last snapshot while it ran */
	struct tg_guest_counters final; /* counters after it ended */
	uint64_t prev_calls;
	double rate;
	uint64_t start_ns, end_ns;
	bool waiting; /* for an OP-TEE guest slot (CFG_VIRT_GUEST_COUNT) */
};

static inline uint64_t demo_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- options (demo_options.c) -------------------------------------------- */

/*
 * demo_parse_opts() - the demo's command line into @o.
 * Return: 0, -1 after the manual (-h), or TG_EXIT_USAGE after one line
 * on stderr.
 */
int demo_parse_opts(int argc, char **argv, struct demo_opts *o);
/* What the summary says about the secure world. */
const char *demo_tee_name(const struct demo_opts *o);
/* vCPUs that run a workload: one operation in flight each at most. */
uint32_t demo_wl_vcpus(const struct demo_opts *o);

/* ---- guests (demo_guests.c) ---------------------------------------------- */

/* Guest entry points; @arg is a struct demo_guest_arg. */
void demo_mixed_main(struct tg_vcpu *v, void *arg);
void demo_hostile_main(struct tg_vcpu *v, void *arg);

/* ---- the secure world (demo_world.c) ------------------------------------- */

struct secure_world {
	struct tg_qemu *q;
	struct tg_mem_region regions[TG_HOST_MAX_RESERVED];
	char ram_path[64];
};

int demo_start_qemu(const struct demo_opts *o, struct tg_machine_config *mc,
		    struct secure_world *sw);
void demo_stop_qemu(struct secure_world *sw);
/*
 * What the oracle plugin saw (--backend qemu): false when it is off. A
 * figure of a broken oracle is no figure: @broken says so.
 */
struct demo_oracle {
	bool broken;
	char why[160];
	uint64_t checked, violations, foreign, unpinned, identity;
};
bool demo_oracle_stats(struct demo_oracle *out);
uint32_t demo_register_tmp(const struct demo_opts *o, struct tg_machine *m);
int demo_check_secure_world(const struct demo_opts *o, int rc,
			    struct tg_machine *m);
/* --per-guest, and the first guest's mediator found FF-A: one line, true */
bool demo_per_guest_meets_ffa(const struct demo_opts *o, struct tg_machine *m);

/* ---- the mediator's life (demo_medlife.c) -------------------------------- */

/*
 * A thread of the hypervisor SIGKILLs the out-of-process mediator (with
 * --per-guest, every daemon) at each multiple of the interval while the
 * workloads run (--chaos) and, halfway through, replaces it with another
 * program (--upgrade). It kills only a mediator that serves: after each
 * kill it waits until every death was followed by a restart, so each kill
 * hits a running mediator, and each restart time is one sample. Kills stop
 * when the workloads end: a per-guest daemon also dies, without a
 * restart, when its guest is destroyed.
 * Every number it shows comes from tg_machine_isolation_stats(), the
 * hypervisor's own count; only "kills" is counted here (SIGKILLs sent).
 */
enum upgrade_state { UPGRADE_NONE, UPGRADE_PENDING, UPGRADE_DONE,
		     UPGRADE_FAILED };

struct medlife {
	struct tg_machine *m;
	uint64_t t0, interval_ns; /* interval 0: no chaos */
	uint64_t end_ns;          /* after t0: the workloads' end */
	uint64_t upgrade_at_ns;   /* after t0 */
	const char *upgrade_path;
	pthread_t thread;
	bool started;
	uint32_t stop;        /* __atomic */
	uint64_t kills;       /* __atomic: SIGKILLs sent */
	uint64_t not_back;    /* kills not followed by a restart in time */
	uint64_t *restart_ns; /* death to serving, one per kill */
	uint32_t nrestart, cap;
	uint32_t upgrade;     /* __atomic: enum upgrade_state */
	int upgrade_rc;
	uint64_t upgrade_t_ns;    /* when, after t0 */
	uint64_t upgrade_ns;      /* stop to serving (the platform's count) */
	uint64_t upgrade_call_ns; /* tg_machine_upgrade_mediator() */
	uint64_t upgrade_calls_failed;
};

bool demo_medlife_wanted(const struct demo_opts *o);
int demo_medlife_start(struct medlife *ml, struct tg_machine *m,
		       const struct demo_opts *o, uint64_t t0);
void demo_medlife_stop(struct medlife *ml);
/* Median and maximum of the restart times, in ns (0 without samples). */
void demo_restart_times(const struct medlife *ml, double *median, double *max);

/* ---- the table (demo_table.c) -------------------------------------------- */

/* Latency at quantile @q of a guest's histogram, in ns (bucket middle). */
double demo_hist_quantile(const uint64_t *h, double q);
const char *demo_fmt_ns(char *buf, size_t len, double ns);
uint64_t demo_sum_refused(const struct tg_domain_stats *d);
const struct tg_guest_counters *demo_row_counters(const struct demo_row *r);
/* Operations the guests saw interrupted by a mediator death (their
 * counters: display material). */
uint64_t demo_sum_interrupted(const struct demo_row *rows, unsigned int n);
/* The table at time @t; @prev_lines: what to redraw on a terminal.
 * Returns the lines printed. */
unsigned int demo_draw_table(struct tg_machine *m, struct demo_row *rows,
			     unsigned int n, const struct demo_opts *o,
			     const struct medlife *ml, double t, bool done,
			     bool tty, unsigned int prev_lines);

/*
 * On a terminal the table is redrawn in place, and a line on stderr
 * breaks it; with --chaos the platform logs every death it sees. So,
 * there and without --verbose, stderr goes to a file while the guests
 * run (the mediator processes started meanwhile write there too), and is
 * shown after the table, less the deaths --chaos caused.
 */
struct log_capture {
	FILE *f;
	int saved; /* the real stderr */
};

void demo_log_capture_start(struct log_capture *lc);
void demo_log_capture_end(struct log_capture *lc);

/* ---- the checks at the end (demo_checks.c) ------------------------------- */

struct demo_checks {
	bool exited_clean;
	uint64_t mismatches, errors, attacks_refused, attacks_passed;
	uint64_t attacks_skipped;
	uint64_t pinned, guest_pages, quarantined, mediator_pages;
	/* the mediator's own pages for its whole life (FF-A: its RX/TX
	 * pair), counted before the first guest */
	uint64_t mediator_base;
	uint32_t threads_held;
	uint64_t violations;
	bool oracle_on;           /* --backend qemu: the plugin watched */
	struct demo_oracle oracle;
	bool interrupted;
	/* --chaos, --upgrade: the hypervisor's stats at the end */
	struct tg_isolation_stats iso;
	uint64_t stopped; /* per-guest daemons stopped with their guest */
	uint64_t died;    /* the other deaths: each must be restarted */
	uint64_t wl_interrupted; /* the guests' own count */
	uint64_t max_interrupted; /* deaths x workload vCPUs */
	double restart_median_ns, restart_max_ns;
	bool restarted_ok, accounted_ok, upgraded_ok;
	bool ok;
};


bool demo_check(const char *what, bool ok, const char *detail_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * demo_end_checks() - every guest has ended: gather what the hypervisor
 * says is left into @k, print the summary and its checks.
 * @slots: OP-TEE's guest slots when the guests ran in turns, else 0.
 * Return: k->ok.
 */
bool demo_end_checks(struct demo_checks *k, const struct demo_opts *o,
		     struct tg_machine *m, const struct demo_row *rows,
		     unsigned int n, const struct medlife *ml,
		     unsigned int slots, double elapsed);
/* What --chaos and --upgrade did, and their checks (demo_medlife.c). */
void demo_medlife_report(const struct demo_opts *o, const struct medlife *ml,
			 const struct demo_checks *k);
bool demo_medlife_checks(const struct demo_opts *o, const struct medlife *ml,
			 struct demo_checks *k);

/* ---- JSON (demo_json.c) -------------------------------------------------- */

/* The summary as JSON into @f: 0, or -1 if it could not all be written. */
int demo_write_json(FILE *f, const struct demo_opts *o, struct demo_row *rows,
		    unsigned int n, double elapsed, const struct demo_checks *k,
		    const struct medlife *ml);

#endif /* TG_CLI_DEMO_H */
