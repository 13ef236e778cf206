/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest workloads for the demo: run inside a guest on one of its vCPUs and
 * publish what they do in tg_guest_counters(vcpu) (calls, errors, verified
 * results, mismatches, interrupted calls, latency histogram, sessions,
 * attacks).
 */
#ifndef TEEGATE_WORKLOAD_H
#define TEEGATE_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <teegate/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tg_workload_opts.flags */
#define TG_WL_NO_SPAWN (1u << 0)  /* do not use a second vCPU */
#define TG_WL_NO_BIGBUF (1u << 1) /* skip the big-buffer step */
#define TG_WL_NO_RPC (1u << 2)	  /* skip GET_TIME and the LOAD_TA path */
#define TG_WL_NO_NOTIF (1u << 3)  /* skip the async-notification step */
#define TG_WL_VERBOSE (1u << 4)	  /* print failures to stderr */
/*
 * The mediator is killed while the workload runs (demo --chaos): an
 * operation that fails with TEEC_ERROR_COMMUNICATION counts in
 * counters.interrupted instead of counters.errors and its step is skipped;
 * everything that completes is verified as usual.
 */
#define TG_WL_CHAOS (1u << 5)
/*
 * Temporary memrefs as registered memory, as Linux's libteec sends them
 * (TEEC_Context.register_tmp): for OP-TEE 4.10.0 and older, which leak
 * every NONCONTIG temporary memref (docs/real-optee.md).
 */
#define TG_WL_REGISTER_TMP (1u << 6)

/**
 * struct tg_workload_opts - options of the workloads.
 * @seconds:    run until this deadline; 0 = one round of every step.
 * @seed:       PRNG seed (buffer sizes, contents, values).
 * @bigbuf_mib: size of the big buffer, at least 8 (0 = 8).
 * @flags:      TG_WL_*.
 * @max_rounds: stop after this many rounds (0 = no limit).
 */
struct tg_workload_opts {
	uint32_t seconds;
	uint64_t seed;
	uint32_t bigbuf_mib;
	uint32_t flags;
	uint32_t max_rounds;
};

/**
 * tg_workload_mixed() - a well-behaved guest: sessions to the invoke-tests
 * PTA, value parameters, registered and temporary memrefs, a big buffer,
 * RPC-heavy calls (stats GET_TIME, an open of a TA that does not exist),
 * async notifications when the TEE has a TA for them, from two vCPUs.
 * Every result is checked (counters.verified / counters.mismatches).
 *
 * Return: 0 when every check passed and nothing failed unexpectedly,
 * -1 otherwise (the counters say what).
 */
int tg_workload_mixed(struct tg_vcpu *vcpu,
		      const struct tg_workload_opts *opts);

/* What a hostile attempt must get for it to count as refused. */
enum tg_attack_expect_kind {
	TG_EXPECT_A0,	 /* a0 == code */
	TG_EXPECT_MSG,	 /* a0 == OK, msg ret == code, and origin ==
			      * origin unless origin is 0 (any) */
	TG_EXPECT_CLEAN, /* any well-formed answer; the guest survives */
	TG_EXPECT_NOT_BREACHED, /* a clean answer, and the attack saw no
				 * breach (the victim attacks, whose answer
				 * depends on where the named page lies) */
	/* FF-A */
	TG_EXPECT_FFA_ERROR, /* a0 == FFA_ERROR, w2 == (int32_t)code */
	TG_EXPECT_FFA_W3,    /* a direct response with w3 == code */
};

/*
 * When an attempt counts as a breach, whatever the mediator (or none):
 * the verdict the guest image reports from inside a real hypervisor.
 */
enum tg_attack_breach {
	TG_BREACH_NEVER,       /* going through harms no one: "allowed" */
	TG_BREACH_IF_ACCEPTED, /* a call that must never reach the TEE went
				* through (a0 = OK and ret = SUCCESS) */
	TG_BREACH_IF_UNCLEAN,  /* an answer that is no answer (a crash) */
	TG_BREACH_DETECTED,    /* the attack checks what the TEE did */
};

struct tg_attack_expect {
	enum tg_attack_expect_kind kind;
	uint32_t code;
	uint32_t origin;
};

/**
 * struct tg_attack - one entry of the hostile catalogue.
 * @name:    short name (also used in docs and tests).
 * @what:    what the attack does.
 * @expect:  the refusal expected from the mediator (include/teegate/
 *           mediator.h contract); edit tg_hostile_table[] to adjust.
 * @breach:  what counts as a breach with any mediator (or none).
 * @bare:    a bare OP-TEE 4.10 (CFG_NS_VIRTUALIZATION, no mediator, the
 *           guest's own a7) lets this one through: one of the classes of
 *           docs/security.md "Against a bare OP-TEE".
 */
struct tg_attack {
	const char *name;
	const char *what;
	struct tg_attack_expect expect;
	enum tg_attack_breach breach;
	int bare;
};

/* The catalogue; returns its length. */
size_t tg_hostile_catalogue(const struct tg_attack **table);
/* The FF-A catalogue, run instead when the guest's driver uses FF-A. */
size_t tg_hostile_ffa_catalogue(const struct tg_attack **table);

/*
 * Write @e as text ("a0 = UNKNOWN_FUNCTION", "ret = BAD_PARAMETERS, origin
 * COMMS", "clean answer") into @buf; returns @buf (for tables and docs).
 */
const char *tg_attack_expect_str(const struct tg_attack_expect *e, char *buf,
				 size_t len);

/* Outcome of one attack of the last tg_workload_hostile() run. */
struct tg_attack_result {
	uint32_t refused;     /* attempts that got the expected refusal */
	uint32_t passed;      /* attempts that did not */
	uint32_t skipped;     /* could not be tried (no spare vCPU...) */
	uint32_t a0;	      /* last a0 seen */
	uint32_t ret, origin; /* last msg ret / origin seen (if any) */
};

/**
 * struct tg_hostile_opts - options of the hostile workload.
 * @rounds:   times to run the whole catalogue (0 = 1).
 * @only:     run only the attack with this name (NULL = all).
 * @results:  if not NULL, gets one entry per catalogue entry.
 * @flags:    TG_WL_VERBOSE prints each attack's outcome. TG_WL_CHAOS: an
 *            attack answered ENOTAVAIL (the mediator died under it) when
 *            that is not its refusal, or a setup that got COMMUNICATION,
 *            counts in counters.interrupted, neither refused nor passed.
 * @victim_addr:   the page the victim attacks name (0: a default that is
 *                 no guest's RAM as an IPA).
 * @victim_client: the client id they forge (0: 1).
 */
struct tg_hostile_opts {
	uint32_t rounds;
	const char *only;
	struct tg_attack_result *results;
	uint32_t flags;
	uint64_t victim_addr;
	uint32_t victim_client;
};

/**
 * tg_workload_hostile() - try every attack of the catalogue (the FF-A one
 * when the guest reaches OP-TEE over FF-A), counting
 * counters.attacks_refused / attacks_passed. Register-level SMCs are built
 * by hand where the driver would not send them.
 *
 * Return: number of attacks that were not refused as expected.
 */
int tg_workload_hostile(struct tg_vcpu *vcpu,
			const struct tg_hostile_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_WORKLOAD_H */
