/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The adversarial suite's fixture: a machine (OP-TEE model, inline
 * mediator, isolation oracle), a bystander guest running the mixed
 * workload, and an attacker guest that runs one attack and reports what it
 * saw through its counters page (the only channel a process guest has).
 *
 * Every test ends with fx_down(), which asserts for the attacker and the
 * bystander alike: the guest's domain is gone, none of its pages is pinned
 * or quarantined, the model holds no thread for it; for the bystander: its
 * results were all verified (0 mismatches, 0 errors, some verified calls,
 * no mediator refusal); for the machine: 0 oracle violations, no page
 * pinned, every page back in the pool, the model holds no thread, and the
 * machine tears down without a leak.
 */
#ifndef TG_ADV_FIXTURE_H
#define TG_ADV_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <teegate/host.h>

/* Where the attacker's reports live in its counters page. */
#define MB_STEPS 24u		   /* lat_hist[4k..4k+3], k < MB_STEPS */
#define MB_EXTRA (MB_STEPS * 4u)   /* lat_hist[96..127]: free values */

/* Guest side: report step @k (a0, ret, origin) of the attack. */
void mb_report(struct tg_vcpu *v, unsigned int k, uint32_t a0, uint32_t ret,
	       uint32_t origin);
void mb_put(struct tg_vcpu *v, unsigned int i, uint64_t value);

struct fx {
	struct tg_machine *m;
	struct tg_guest *by;	 /* the bystander */
	struct tg_guest *att;	 /* the attacker, while it runs */
	uint32_t att_id;
	struct tg_machine_pages base;
	struct tg_guest_stats att_end; /* attacker after its teardown */
	bool att_killed;
	const struct tg_limits *att_limits;
};

struct fx_opts {
	uint32_t tee_threads;	       /* 0 = 8 */
	const struct tg_limits *att_limits;
	uint32_t by_seconds;	       /* 0 = 1 */
	bool no_bystander;
	uint32_t sit_ms;	       /* the mediator's sit_ms; 0 = default */
	bool ffa; /* the model as OP-TEE's S-EL1 SPMC, src/ffa mediates */
};

/* Mode of guests: process, or thread under ASan (see the README). */
enum tg_guest_mode fx_mode(void);

void fx_up(struct fx *f, const struct fx_opts *o);
/* Start a guest of the test (attacker limits apply). A process guest gets
 * a copy of the @arg_size bytes at @arg (tg_guest_config.arg_size). */
struct tg_guest *fx_start_guest(struct fx *f, const char *name,
				void (*fn)(struct tg_vcpu *, void *), void *arg,
				size_t arg_size, uint32_t vcpus, uint32_t pages,
				enum tg_guest_mode mode);
/* Start the attacker (no wait). */
void fx_start(struct fx *f, void (*fn)(struct tg_vcpu *, void *), void *arg,
	      size_t arg_size, uint32_t vcpus, enum tg_guest_mode mode);
/* Wait for the attacker to end (or kill it first), tear it down and check
 * that it left nothing. */
void fx_end(struct fx *f, bool kill);
/* The same for another guest of the test (a victim, a grabber). */
void fx_end_guest(struct fx *f, struct tg_guest *g, bool kill,
		  struct tg_guest_stats *out);
/* fx_start + fx_end. */
void fx_attack(struct fx *f, void (*fn)(struct tg_vcpu *, void *), void *arg,
	       size_t arg_size, uint32_t vcpus);
/* Wait until the running attacker reported step @k (or lat_hist[@i] != 0
 * for fx_wait_value), at most @ms. */
bool fx_wait_step(struct fx *f, unsigned int k, int ms);
uint64_t fx_live_value(struct fx *f, unsigned int i);
void fx_down(struct fx *f);

/* After fx_end(): what the attacker reported. */
uint32_t fx_a0(const struct fx *f, unsigned int k);
uint32_t fx_ret(const struct fx *f, unsigned int k);
uint32_t fx_origin(const struct fx *f, unsigned int k);
bool fx_reported(const struct fx *f, unsigned int k);
uint64_t fx_value(const struct fx *f, unsigned int i);

/* Assert step @k was reported with exactly this answer. */
void fx_expect_a0(const struct fx *f, unsigned int k, uint32_t a0);
void fx_expect_msg(const struct fx *f, unsigned int k, uint32_t ret,
		   uint32_t origin);

/* A machine page owned by @owner (TG_OWNER_* or a client id) whose address
 * is not also an IPA of a guest's RAM of @ipa_pages; 0 if none. */
uint64_t fx_find_page(struct fx *f, uint32_t owner, uint32_t ipa_pages);

#define FX_ATT_PAGES 2048u /* attacker RAM: IPA 0x40000000-0x407fffff */

#endif /* TG_ADV_FIXTURE_H */
