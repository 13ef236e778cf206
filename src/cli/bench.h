/* SPDX-License-Identifier: BSD-2-Clause */
/* teegate bench: what its parts share (bench.c, bench_scaling.c). */
#ifndef TG_CLI_BENCH_H
#define TG_CLI_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/tee_client_api.h>

struct tg_bench_scaling_opts {
	const char *only; /* one configuration, or NULL */
	const char *json, *png;
	bool quick;
	bool trap_on_vcpu;
	bool quiet_only; /* --only names no configuration here: run none */
	unsigned int repeat; /* runs per cell, medians reported (>= 1) */
	enum tg_placement placement; /* --placement; AUTO: the environment's */
};

#define TG_BENCH_MAX_REPEAT 50u

/* Open the invoke-tests and stats PTA sessions in a new context. */
bool tg_bench_open(TEEC_Context *ctx, TEEC_Session *inv, TEEC_Session *stats);
/* One timed operation of bench.c (0 fast call, 1 INVOKE with 4 values,
 * 2 INVOKE with a 1 MiB temporary memref, 3 REGISTER+UNREGISTER 64 MiB,
 * 4 RPC GET_TIME): true when it gave the expected answer. */
bool tg_bench_op(struct tg_vcpu *v, int op, TEEC_Session *inv,
		 TEEC_Session *stats, TEEC_Context *ctx, void *tmem, void *big);

/* teegate bench --scaling (bench_scaling.c): an exit status. */
int tg_bench_scaling(const struct tg_bench_scaling_opts *o);

/* "2 CPUs (model), Linux release, load 0.42" */
void tg_bench_machine_line(char *buf, size_t len);
/* A progress bar on a terminal, a line per step otherwise; @what NULL:
 * done. */
void tg_bench_progress(unsigned int done, unsigned int total,
		       const char *what);

#endif /* TG_CLI_BENCH_H */
