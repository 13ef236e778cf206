/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What code running inside a guest of the hosted platform can use: its
 * vCPUs, its SMC instruction and its own memory. Implemented by src/host.
 *
 * A guest's RAM is addressed by IPA. Pages allocated with tg_alloc_pages()
 * are contiguous in IPA (and so in the guest's view, tg_ipa_ptr()), while
 * their machine pages are scattered by the p2m.
 */
#ifndef TEEGATE_GUEST_H
#define TEEGATE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tg_vcpu;

/* Trap to the hypervisor with an SMC: a0..a7 in and out. */
void tg_smc(struct tg_vcpu *vcpu, uint64_t regs[8]);

/* Pointer to the guest's own page at @ipa (any offset inside it), or NULL
 * when that page is not this guest's RAM. */
void *tg_ipa_ptr(struct tg_vcpu *vcpu, uint64_t ipa);

/* Allocate @count pages contiguous in IPA from the guest's free RAM; the
 * first IPA goes to @ipa. Return 0 or -1 (out of guest memory). */
int tg_alloc_pages(struct tg_vcpu *vcpu, uint32_t count, uint64_t *ipa);
void tg_free_pages(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count);

/* Give pages back to the hypervisor (balloon). They leave the guest at
 * once; a page still pinned by the mediator is not handed to anyone else
 * until it is unpinned. Return 0 or -1. */
int tg_balloon_out(struct tg_vcpu *vcpu, uint64_t ipa, uint32_t count);

/* Run @fn(vcpu, arg) on another vCPU of the same guest. Return the new
 * vCPU's index or -1. tg_vcpu_join() waits for it. */
int tg_vcpu_spawn(struct tg_vcpu *vcpu, void (*fn)(struct tg_vcpu *, void *),
		  void *arg);
int tg_vcpu_join(struct tg_vcpu *vcpu, int index);

/*
 * tg_vcpu_killed() - the guest is being killed. A thread-mode vCPU ends
 * at its next trap; one that loops without trapping must check this and
 * return. A process guest is killed by a signal: always false.
 */
bool tg_vcpu_killed(struct tg_vcpu *vcpu);

/* The vCPU the calling thread runs on (NULL outside a guest). */
struct tg_vcpu *tg_vcpu_self(void);
uint32_t tg_vcpu_index(const struct tg_vcpu *vcpu);

/* Wait for the TEE notification interrupt: 1 when it was raised (and is
 * now acknowledged), 0 on timeout. */
int tg_notif_wait(struct tg_vcpu *vcpu, uint32_t timeout_ms);

/*
 * Counters a guest publishes to the hypervisor (the demo's live table).
 * This page is ordinary shared memory between the guest process and the
 * hypervisor, not guest RAM: the TEE never sees it. The guest writes it,
 * the hypervisor only reads it (and treats every value as hostile).
 *
 * Latency histogram: bucket i counts calls whose latency in ns lies in
 * [2^(i/4), 2^((i+1)/4)), i.e. four buckets per octave, up to ~2^32 ns.
 */
#define TG_LAT_BUCKETS 128
struct tg_guest_counters {
	uint64_t calls;            /* TEE operations completed */
	uint64_t errors;           /* operations that failed unexpectedly */
	uint64_t verified;         /* results checked and correct */
	uint64_t mismatches;       /* results checked and WRONG */
	uint64_t attacks_refused;  /* hostile attempts refused as expected */
	uint64_t attacks_passed;   /* hostile attempts NOT refused (a bug) */
	uint64_t notifications;    /* async notifications received */
	uint64_t interrupted;      /* failed with COMMUNICATION while the
				    * mediator was killed (TG_WL_CHAOS): not
				    * an error, the step is retried */
	uint64_t lat_hist[TG_LAT_BUCKETS];
	uint32_t sessions;         /* sessions the guest believes are open */
	uint32_t phase;            /* free for the workload: what it is doing */
};

/* The calling guest's counters page (never NULL inside a guest). */
struct tg_guest_counters *tg_guest_counters(struct tg_vcpu *vcpu);

/*
 * tg_guest_instance() - a number that names this start of the guest:
 * never the same for two guests of one program, even when a thread-mode
 * guest's pages (or its client id) are reused after another's teardown.
 */
uint64_t tg_guest_instance(struct tg_vcpu *vcpu);

/* Bucket index for a latency in ns (see struct tg_guest_counters). */
static inline unsigned int tg_lat_bucket(uint64_t ns)
{
	unsigned int octave = 0, quarter;
	uint64_t v = ns ? ns : 1;

	while (v >> (octave + 1))
		octave++;
	/* two bits below the leading one give the quarter octave */
	quarter = octave >= 2 ? (unsigned int)((v >> (octave - 2)) & 3u)
			      : (unsigned int)((v << (2 - octave)) & 3u);
	octave = octave * 4 + quarter;
	return octave < TG_LAT_BUCKETS ? octave : TG_LAT_BUCKETS - 1;
}

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_GUEST_H */
