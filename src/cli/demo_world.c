// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate demo: the secure world, the OP-TEE model or a real OP-TEE in
 * QEMU (--backend qemu), and what the mediator found out about it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <teegate/mediator.h>
#ifdef TG_HAVE_QEMU
#include "qemu.h"
#endif

#include "cli.h"
#include "demo.h"

#ifdef TG_HAVE_QEMU
/* The QEMU whose oracle the table and the checks read, NULL when off. */
static struct tg_qemu *oracle_q;
#endif

/*
 * --backend qemu: start QEMU (TF-A, OP-TEE, our relay) and point machine
 * memory at its RAM. Every failure is one line on stderr; exit status 2.
 */
int demo_start_qemu(const struct demo_opts *o, struct tg_machine_config *mc,
		    struct secure_world *sw)
{
#ifdef TG_HAVE_QEMU
	struct tg_qemu_config qc = {
		.firmware_dir = o->firmware,
		.no_secure = o->no_secure,
		.qemu_path = o->qemu_path,
		.log_dir = o->log_dir,
		.cpus = o->qemu_cpus,
		.timeout_ms = o->qemu_timeout * 1000u,
		.oracle = !o->no_oracle,
	};
	char err[4096];
	int rc;

	/* QEMU's RAM: 1 GiB, more when the guests need it (at most 2). */
	qc.ram_size = TG_QEMU_DEFAULT_RAM_SIZE;
	while (qc.ram_size < mc->ram_size && qc.ram_size < DEMO_QEMU_MAX_RAM)
		qc.ram_size <<= 1;
	rc = tg_qemu_start(&qc, &sw->q, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "teegate: %s\n", err);
		return TG_EXIT_USAGE;
	}
	if (tg_qemu_machine_memory(sw->q, mc, sw->regions,
				   TG_HOST_MAX_RESERVED, sw->ram_path,
				   sizeof(sw->ram_path))) {
		fprintf(stderr, "teegate: QEMU's RAM cannot be machine memory: report this bug\n");
		return TG_EXIT_USAGE;
	}
	mc->tee = TG_TEE_QEMU;
	mc->qemu = sw->q;
	oracle_q = qc.oracle ? sw->q : NULL;
	if (o->verbose)
		printf("teegate demo: relay ready on %u CPUs after %.0f ms\n",
		       tg_qemu_cpus(sw->q), tg_qemu_boot_ms(sw->q));
	return 0;
#else
	(void)o;
	(void)mc;
	(void)sw;
	fprintf(stderr, "teegate: this teegate was built without the QEMU backend (src/tee/qemu): rebuild it\n");
	return TG_EXIT_USAGE;
#endif
}

void demo_stop_qemu(struct secure_world *sw)
{
#ifdef TG_HAVE_QEMU
	oracle_q = NULL;
	tg_qemu_stop(sw->q);
#endif
	sw->q = NULL;
}

bool demo_oracle_stats(struct demo_oracle *out)
{
#ifdef TG_HAVE_QEMU
	struct tg_qemu_oracle_stats st;

	memset(out, 0, sizeof(*out));
	if (!oracle_q || tg_qemu_oracle_stats(oracle_q, &st))
		return false;
	out->broken = st.broken || !st.running;
	snprintf(out->why, sizeof(out->why), "%s",
		 st.broken ? st.why : "the plugin is not running");
	out->checked = st.checked;
	out->violations = st.violations;
	out->foreign = st.foreign;
	out->unpinned = st.unpinned;
	out->identity = st.identity;
	return true;
#else
	memset(out, 0, sizeof(*out));
	return false;
#endif
}

/*
 * A real OP-TEE 4.10.0 or older leaks the object of every NONCONTIG
 * temporary memref into the guest's partition heap (fixed upstream by
 * 51d99cd24, docs/real-optee.md): after a few hundred, large registrations
 * fail. Linux guests never send such memrefs (libteec registers them);
 * the demo's guests then do the same, and say so.
 */
uint32_t demo_register_tmp(const struct demo_opts *o, struct tg_machine *m)
{
	const struct tg_tee_info *t = NULL;

	if (!o->qemu)
		return 0;
	t = tg_machine_tee_info(m);
	/* FF-A has no NONCONTIG temporary memrefs: nothing leaks there. */
	if ((t && t->protocol == TG_PROTOCOL_FFA) ||
	    o->protocol == TG_PROTOCOL_FFA)
		return 0;
	if (t && (t->os_rev_major > 4 ||
		  (t->os_rev_major == 4 && t->os_rev_minor > 10)))
		return 0;
	if (t)
		printf("OP-TEE %u.%u: temporary memrefs go as registered memory, as Linux sends them (4.10.0 and older leak NONCONTIG ones; docs/real-optee.md)\n",
		       t->os_rev_major, t->os_rev_minor);
	else
		printf("OP-TEE not probed yet (one mediator per guest): temporary memrefs go as registered memory, as Linux sends them (4.10.0 and older leak NONCONTIG ones; docs/real-optee.md)\n");
	return TG_WL_REGISTER_TMP;
}

/*
 * --per-guest with the protocol left to the probe: each guest's mediator
 * process probes the TEE as its guest starts, so FF-A shows only once
 * the first guest runs. FF-A gives the hypervisor one RX/TX pair with the
 * SPMC, which that first process now holds: no other guest could start
 * (its process's probe is refused). Say so in one line, as --protocol
 * ffa --per-guest does before anything runs; the caller stops there.
 */
bool demo_per_guest_meets_ffa(const struct demo_opts *o, struct tg_machine *m)
{
	const struct tg_tee_info *t;

	if (!o->per_guest)
		return false;
	t = tg_machine_tee_info(m);
	if (!t || t->protocol != TG_PROTOCOL_FFA)
		return false;
	fprintf(stderr, "teegate: demo --per-guest: the TEE speaks FF-A (found by the first guest's mediator process), which gives the hypervisor one RX/TX pair with the SPMC, held by one mediator process: drop --per-guest\n");
	return true;
}

/*
 * The mediator's verdict on the secure world, after tg_machine_create():
 * @rc its result. Returns 0 to go on, or an exit status after one line.
 */
int demo_check_secure_world(const struct demo_opts *o, int rc,
			    struct tg_machine *m)
{
	const struct tg_tee_info *t = NULL;
	unsigned int n = o->guests + (o->hostile ? 1 : 0);
	char msg[512];

	if (!rc)
		t = tg_machine_tee_info(m);
#ifdef TG_HAVE_QEMU
	/* one daemon per guest: each probes the TEE as its guest starts,
	 * and a guest whose daemon finds no OP-TEE fails to start, saying so */
	if (o->qemu && !(rc == TG_OK && !t && o->per_guest)) {
		int v = tg_qemu_check_probe(rc, t, msg, sizeof(msg));

		if (v == TG_QEMU_OK)
			return 0;
		if (v == TG_QEMU_ENOTEE && o->protocol == TG_PROTOCOL_FFA) {
			fprintf(stderr, "teegate: no FF-A SPMC answered (FFA_VERSION is unknown): --protocol ffa needs TF-A SPD=spmd with OP-TEE as the SPMC (docs/real-optee.md section 8); drop --protocol ffa for OP-TEE's SMC ABI, and see sw.log\n");
			return TG_EXIT_USAGE;
		}
		if (v != TG_QEMU_ENOVIRT) {
			fprintf(stderr, "teegate: %s\n", msg);
			return TG_EXIT_USAGE;
		}
	}
#endif
	if (rc) {
		fprintf(stderr, "teegate: cannot create the machine: %s\n",
			tg_strerror(rc));
		return TG_EXIT_FAIL;
	}
	if (!t || t->virtualization)
		return 0;
	if (n > 1) {
		fprintf(stderr, "teegate: the secure world (%s) lacks virtualization: only one guest can use it; run with --guests 1 --no-hostile%s\n",
			demo_tee_name(o),
			o->qemu ? ", or rebuild OP-TEE with CFG_NS_VIRTUALIZATION=y"
				: "");
		return TG_EXIT_USAGE;
	}
	printf("teegate demo: the secure world lacks virtualization: running the one guest asked for\n");
	return 0;
}

