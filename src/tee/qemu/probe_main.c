// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg-qemu-probe - boot QEMU with the relay, probe the secure world through
 * the mediator, optionally measure the relay and try a guest's first calls.
 *
 *   tg-qemu-probe --firmware DIR [--vm] [--bench N]
 *   tg-qemu-probe --no-secure [--bench N]
 *
 * Exit status: 0 OP-TEE with virtualization found (or --no-secure and the
 * relay works), 2 any failure with a one-line reason on stderr, 1 usage.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#include "qemu.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and mean of @n round trips of @what ("ping" or an SMC id). */
static void bench(struct tg_qemu *q, const char *name, uint32_t fid,
		  unsigned int n)
{
	double *t = calloc(n, sizeof(*t));
	double sum = 0, t0;
	uint64_t r[8];
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < n; i++) {
		memset(r, 0, sizeof(r));
		r[0] = fid;
		t0 = now_us();
		if (fid)
			tg_qemu_smc(q, 0, r);
		else
			tg_qemu_ping(q, 0);
		t[i] = now_us() - t0;
		sum += t[i];
	}
	qsort(t, n, sizeof(*t), cmp_double);
	printf("bench: %-28s n=%u median %.1f us mean %.1f us min %.1f us\n",
	       name, n, t[n / 2], sum / n, t[0]);
	free(t);
}

/* CPU time QEMU used over @sec seconds of doing nothing, in % of a core. */
static void idle_cost(struct tg_qemu *q, unsigned int sec)
{
	unsigned long long t[2] = { 0, 0 };
	char path[64], buf[1024], *p;
	FILE *f;
	int i, k;

	snprintf(path, sizeof(path), "/proc/%d/stat", tg_qemu_pid(q));
	for (i = 0; i < 2; i++) {
		if (i)
			sleep(sec);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			return;
		}
		fclose(f);
		p = strrchr(buf, ')');
		/* utime and stime are fields 14 and 15; p is in field 2 */
		for (k = 2; p && k < 14; k++)
			p = strchr(p + 1, ' ');
		if (p) {
			unsigned long long u, s;

			if (sscanf(p + 1, "%llu %llu", &u, &s) == 2)
				t[i] = u + s;
		}
	}
	printf("idle: QEMU used %.0f%% of one core over %u s\n",
	       (double)(t[1] - t[0]) * 100.0 /
		       ((double)sysconf(_SC_CLK_TCK) * sec),
	       sec);
}

struct par_arg {
	struct tg_qemu *q;
	uint32_t cpu;
	unsigned int n, bad;
	uint64_t expect[4];
};

static void *par_thread(void *p)
{
	struct par_arg *a = p;
	uint64_t r[8];
	unsigned int i;

	for (i = 0; i < a->n; i++) {
		memset(r, 0, sizeof(r));
		r[0] = OPTEE_SMC_CALLS_UID;
		if (tg_qemu_smc(a->q, a->cpu, r) ||
		    memcmp(r, a->expect, sizeof(a->expect)))
			a->bad++;
	}
	return NULL;
}

/*
 * One thread per relay CPU, all in the secure world at once; every answer
 * must equal the one a single call got.
 */
static void bench_parallel(struct tg_qemu *q, unsigned int n)
{
	struct par_arg a[TG_QEMU_MAX_CPUS];
	pthread_t t[TG_QEMU_MAX_CPUS];
	uint32_t i, ncpus = tg_qemu_cpus(q);
	unsigned int bad = 0;
	uint64_t ref[8] = { OPTEE_SMC_CALLS_UID };
	double t0, dt;

	tg_qemu_smc(q, 0, ref);
	t0 = now_us();
	for (i = 0; i < ncpus; i++) {
		a[i] = (struct par_arg){ .q = q, .cpu = i, .n = n };
		memcpy(a[i].expect, ref, sizeof(a[i].expect));
		pthread_create(&t[i], NULL, par_thread, &a[i]);
	}
	for (i = 0; i < ncpus; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	dt = now_us() - t0;
	printf("bench: CALLS_UID on %u CPUs at once  n=%u each, %.0f calls/s "
	       "in total, %u answers differ\n",
	       ncpus, n, ncpus * n / (dt / 1e6), bad);
}

static void show(const char *what, const uint64_t r[8])
{
	printf("%-44s a0=0x%llx a1=0x%llx a2=0x%llx a3=0x%llx\n", what,
	       (unsigned long long)r[0], (unsigned long long)r[1],
	       (unsigned long long)r[2], (unsigned long long)r[3]);
}

static void raw(struct tg_qemu *q, const char *what, uint32_t fid,
		uint64_t a1, uint64_t a7)
{
	uint64_t r[8] = { fid, a1, 0, 0, 0, 0, 0, a7 };

	tg_qemu_smc(q, TG_QEMU_CPU_ANY, r);
	show(what, r);
}

static void guest(struct tg_mediator *med, const char *what, uint32_t fid,
		  uint32_t client)
{
	uint64_t r[8] = { fid };

	tg_handle_smc(med, client, 0, r);
	show(what, r);
}

/*
 * One std call from client @client with the argument in @arg (at @pa),
 * issued directly (the probe port has no guest memory for the mediator to
 * translate). RPCs are answered the simple way: ALLOC fails, FOREIGN_INTR
 * resumes; anything else would need a normal-world RPC buffer.
 */
static uint32_t raw_std_call(struct tg_qemu *q, uint64_t pa, uint32_t client,
			     double *us)
{
	uint64_t r[8] = { OPTEE_SMC_CALL_WITH_ARG, pa >> 32, pa & 0xFFFFFFFFu,
			  0, 0, 0, 0, client };
	double t0 = now_us();
	int rpcs = 0;

	for (;;) {
		tg_qemu_smc(q, TG_QEMU_CPU_ANY, r);
		if (!OPTEE_SMC_RETURN_IS_RPC(r[0]) || ++rpcs > 100)
			break;
		if (OPTEE_SMC_RPC_FUNC(r[0]) == 0) { /* ALLOC: none */
			r[1] = r[2] = r[4] = r[5] = 0;
		}
		r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		r[7] = client;
	}
	*us = now_us() - t0;
	return (uint32_t)r[0];
}

/* Open the invoke-tests PTA, add two values in it, close: from a7 = 1. */
static void try_std_calls(struct tg_qemu *q, struct tg_port *port)
{
	static const uint8_t invoke_tests_uuid[16] = {
		0xd9, 0x6a, 0x5b, 0x40, 0xc3, 0xe5, 0x21, 0xe3,
		0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b,
	};
	struct optee_msg_arg *arg;
	uint32_t a0, session;
	uint64_t pa;
	double us;

	arg = port->shm_alloc(port->ctx, 1, &pa);
	if (!arg)
		return;
	memset(arg, 0, TG_PAGE_SIZE);
	arg->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	arg->num_params = 2;
	arg->params[0].attr = OPTEE_MSG_ATTR_META |
			      OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	memcpy(arg->params[0].u.octets, invoke_tests_uuid, 16);
	arg->params[1].attr = OPTEE_MSG_ATTR_META |
			      OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
	arg->params[1].u.value.c = 0; /* public login */
	a0 = raw_std_call(q, pa, 1, &us);
	session = arg->session;
	printf("guest 1 (a7=1) OPEN_SESSION invoke-tests PTA:  a0=0x%x "
	       "ret=0x%x origin=%u session=%u (%.0f us)\n",
	       a0, arg->ret, arg->ret_origin, session, us);
	if (a0 || arg->ret)
		goto out;

	memset(arg, 0, TG_PAGE_SIZE);
	arg->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	arg->func = 1; /* PARAMS: one VALUE_INOUT -> a = a + b */
	arg->session = session;
	arg->num_params = 1;
	arg->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	arg->params[0].u.value.a = 5;
	arg->params[0].u.value.b = 7;
	a0 = raw_std_call(q, pa, 1, &us);
	printf("guest 1 (a7=1) INVOKE PARAMS 5 + 7:           a0=0x%x "
	       "ret=0x%x value.a=%llu (%.0f us)\n",
	       a0, arg->ret, (unsigned long long)arg->params[0].u.value.a,
	       us);

	memset(arg, 0, TG_PAGE_SIZE);
	arg->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	arg->func = 1;
	arg->session = session;
	arg->num_params = 1;
	arg->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a0 = raw_std_call(q, pa, 2, &us);
	printf("client 2 (a7=2, never created) same invoke:   a0=0x%x "
	       "(%.0f us)\n", a0, us);

	memset(arg, 0, TG_PAGE_SIZE);
	arg->cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	arg->session = session;
	a0 = raw_std_call(q, pa, 1, &us);
	printf("guest 1 (a7=1) CLOSE_SESSION:                 a0=0x%x "
	       "ret=0x%x (%.0f us)\n", a0, arg->ret, us);
out:
	port->shm_free(port->ctx, arg, 1);
}

/* VM_CREATED(1) from a7 = 0, then a guest's fast calls from a7 = 1. */
static int try_guest(struct tg_qemu *q, struct tg_mediator *med,
		     struct tg_port *port, bool std)
{
	int rc;

	raw(q, "raw GET_OS_REVISION a7=5 (unknown client):",
	    OPTEE_SMC_GET_OS_REVISION, 0, 5);
	rc = tg_domain_create(med, 1, NULL);
	printf("tg_domain_create(1) (VM_CREATED a7=0 a1=1): %s\n",
	       tg_strerror(rc));
	if (rc)
		return rc;
	if (!tg_mediator_tee_info(med)->virtualization) {
		/* One client only: the mediator must refuse a second guest. */
		int rc2 = tg_domain_create(med, 2, NULL);

		printf("tg_domain_create(2) without virtualization: %s\n",
		       tg_strerror(rc2));
		if (rc2 == TG_OK)
			while (tg_domain_destroy(med, 2) == TG_AGAIN)
				;
	}
	guest(med, "guest 1 (a7=1) GET_OS_REVISION:",
	      OPTEE_SMC_GET_OS_REVISION, 1);
	guest(med, "guest 1 (a7=1) EXCHANGE_CAPABILITIES:",
	      OPTEE_SMC_EXCHANGE_CAPABILITIES, 1);
	guest(med, "guest 1 (a7=1) GET_THREAD_COUNT:",
	      OPTEE_SMC_GET_THREAD_COUNT, 1);
	guest(med, "guest 1 (a7=1) VM_CREATED (refused):",
	      OPTEE_SMC_VM_CREATED, 1);
	raw(q, "raw GET_OS_REVISION a7=1:", OPTEE_SMC_GET_OS_REVISION, 0, 1);
	if (std)
		try_std_calls(q, port);
	do
		rc = tg_domain_destroy(med, 1);
	while (rc == TG_AGAIN);
	printf("tg_domain_destroy(1) (VM_DESTROYED): %s\n", tg_strerror(rc));
	raw(q, "raw GET_OS_REVISION a7=1 after destroy:",
	    OPTEE_SMC_GET_OS_REVISION, 0, 1);
	return rc;
}

static void print_oracle(const struct tg_qemu *q)
{
	struct tg_qemu_oracle_stats st;
	struct tg_oracle_rec rec[8];
	uint32_t i, n;

	tg_qemu_oracle_stats(q, &st);
	if (st.broken) {
		printf("oracle: broken: %s\n", st.why);
		return;
	}
	printf("oracle: %llu secure-world accesses to NS RAM checked, %llu "
	       "violations (%llu foreign, %llu unpinned, %llu identity)\n",
	       (unsigned long long)st.checked,
	       (unsigned long long)st.violations,
	       (unsigned long long)st.foreign,
	       (unsigned long long)st.unpinned,
	       (unsigned long long)st.identity);
	n = tg_qemu_oracle_records(q, rec, 8);
	for (i = 0; i < n; i++)
		printf("oracle: %s %s of pa %#llx by insn %#llx for client %u "
		       "(page owner %#x, %u pins)\n",
		       rec[i].kind == TG_ORACLE_FOREIGN ? "foreign" : "unpinned",
		       rec[i].write ? "write" : "read",
		       (unsigned long long)rec[i].pa,
		       (unsigned long long)rec[i].insn, rec[i].client,
		       rec[i].owner, rec[i].pins);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tg-qemu-probe (--firmware DIR | --no-secure) [options]\n"
		"  --firmware DIR   TF-A + OP-TEE images (docs/real-optee.md)\n"
		"  --no-secure      no secure world: QEMU answers PSCI only\n"
		"  --cpus N         QEMU CPUs / relay CPUs (default 2)\n"
		"  --ram MIB        RAM size in MiB (default 1024)\n"
		"  --timeout SEC    boot timeout (default 60)\n"
		"  --log-dir DIR    keep nw.log, sw.log, qemu.log there\n"
		"  --qemu PATH      QEMU binary\n"
		"  --relay-dir DIR  relay.elf / relay.bin\n"
		"  --gic 2|3        GIC version (3 needs a TF-A built for it)\n"
		"  --bench N        time N pings, PSCI_VERSION and CALLS_UID\n"
		"                   round trips, then N CALLS_UID per CPU at once\n"
		"  --idle SEC       measure QEMU's CPU use while idle\n"
		"  --vm             VM_CREATED(1), guest 1's fast calls, "
		"VM_DESTROYED\n"
		"  --std            with --vm: guest 1 opens the invoke-tests "
		"PTA,\n"
		"                   invokes it and closes (raw std calls)\n"
		"  --oracle         load the isolation oracle (QEMU plugin) and\n"
		"                   print what it saw\n"
		"  -v, --verbose    mediator log\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "firmware", required_argument, NULL, 'f' },
		{ "no-secure", no_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "ram", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "relay-dir", required_argument, NULL, 'R' },
		{ "gic", required_argument, NULL, 'G' },
		{ "bench", required_argument, NULL, 'b' },
		{ "vm", no_argument, NULL, 'V' },
		{ "std", no_argument, NULL, 'S' },
		{ "idle", required_argument, NULL, 'I' },
		{ "oracle", no_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct tg_qemu_config cfg = { 0 };
	struct tg_mediator *med = NULL;
	struct tg_qemu *q;
	struct tg_port port;
	unsigned int nbench = 0, idle = 0;
	bool vm = false, std = false, verbose = false;
	char err[2048];
	uint64_t r[8];
	int c, rc, verdict;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': cfg.firmware_dir = optarg; break;
		case 'n': cfg.no_secure = true; break;
		case 'c': cfg.cpus = (uint32_t)atoi(optarg); break;
		case 'r': cfg.ram_size = strtoull(optarg, NULL, 0) << 20; break;
		case 't': cfg.timeout_ms = (uint32_t)atoi(optarg) * 1000; break;
		case 'l': cfg.log_dir = optarg; break;
		case 'q': cfg.qemu_path = optarg; break;
		case 'R': cfg.relay_dir = optarg; break;
		case 'G': cfg.gic_version = (uint32_t)atoi(optarg); break;
		case 'b': nbench = (unsigned int)atoi(optarg); break;
		case 'V': vm = true; break;
		case 'S': std = vm = true; break;
		case 'I': idle = (unsigned int)atoi(optarg); break;
		case 'O': cfg.oracle = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc || (!cfg.firmware_dir && !cfg.no_secure)) {
		usage(stderr);
		return 1;
	}

	rc = tg_qemu_start(&cfg, &q, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tg-qemu-probe: %s\n", err);
		return 2;
	}
	printf("boot: relay ready on %u CPUs after %.0f ms\n", tg_qemu_cpus(q),
	       tg_qemu_boot_ms(q));
	memset(r, 0, sizeof(r));
	r[0] = TG_PSCI_VERSION;
	tg_qemu_smc(q, 0, r);
	printf("PSCI_VERSION: 0x%llx\n", (unsigned long long)r[0]);

	tg_qemu_port_init(&port, q, verbose);
	rc = tg_mediator_create(&port, NULL, &med);
	verdict = tg_qemu_check_probe(rc, med ? tg_mediator_tee_info(med)
					      : NULL,
				      err, sizeof(err));
	printf("probe: %s\n", err);
	if (med) {
		const struct tg_tee_info *t = tg_mediator_tee_info(med);

		printf("probe: CALLS_UID %08x %08x %08x %08x, API %u.%u, "
		       "caps 0x%x (guests see 0x%x), threads %u, "
		       "virtualization %s\n",
		       t->api_uid[0], t->api_uid[1], t->api_uid[2],
		       t->api_uid[3], t->api_rev_major, t->api_rev_minor,
		       t->sec_caps, t->guest_caps, t->thread_count,
		       t->virtualization ? "yes" : "no");
	}
	if (idle)
		idle_cost(q, idle);
	if (nbench) {
		bench(q, "ping (mailbox only)", 0, nbench);
		bench(q, "PSCI_VERSION", TG_PSCI_VERSION, nbench);
		bench(q, "CALLS_UID", OPTEE_SMC_CALLS_UID, nbench);
		bench_parallel(q, nbench);
	}
	if (vm && med && try_guest(q, med, &port, std))
		verdict = TG_QEMU_EPROTO;
	if (med)
		tg_mediator_destroy(med);
	if (cfg.oracle)
		print_oracle(q);
	tg_qemu_stop(q);
	if (cfg.no_secure)
		return verdict == TG_QEMU_ENOTEE ? 0 : 2;
	if (verdict != TG_QEMU_OK)
		fprintf(stderr, "tg-qemu-probe: %s\n", err);
	return verdict == TG_QEMU_OK ? 0 : 2;
}
