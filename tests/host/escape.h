/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The escape catalogue: every way a locked-down guest process might reach
 * memory that is not its own (another guest's, the hypervisor's, the
 * mediator's), or act on another process. Shared by test_escape (forked
 * guests run a technique as their entry function) and tg_escape_guest
 * (the same techniques in a program started with tg_guest_start_exec()).
 *
 * A technique reports through the attacker's counters page:
 *  - phase = ESC_PHASE_TRYING just before the decisive call, so that a
 *    process killed there is known to have got that far;
 *  - attacks_passed: it reached memory (or a process) not its own;
 *  - attacks_refused: the call failed with an error;
 *  - verified: the own-memory checks a technique makes first (e.g. the
 *    page it will remap is really its own) succeeded.
 */
#ifndef TG_TESTS_ESCAPE_H
#define TG_TESTS_ESCAPE_H

#include <stdint.h>
#include <sys/types.h>

#include <teegate/guest.h>

#define ESC_RAM_BASE 0x40000000ull

/* Canary words: the magic, then a tag saying whose page it is. */
#define ESC_TAG_VICTIM 0x76696374696d0001ull	 /* "victim" */
#define ESC_TAG_HYPERVISOR 0x6879702d6d656d01ull /* "hyp-mem" */
#define ESC_TAG_PROGRAM 0x70726f6772616d01ull	 /* "program" */
#define ESC_TAG_SELF 0x73656c662d6d6501ull	 /* "self-me": a control */

/* Pages of the buffer the victim keeps registered with the TEE. */
#define ESC_REGD_PAGES 4u

enum esc_phase {
	ESC_PHASE_START = 1,
	ESC_PHASE_TRYING = 2,
	ESC_PHASE_DONE = 3,
};

/**
 * struct esc_target - what the attacker is told (more than a real one
 * would know: every address and pid it could guess or scan for).
 * @magic:        first word of every canary page (random per test).
 * @ram_pages:    pages of machine memory (the bound of offset scans).
 * @hyp_pid:      the hypervisor process.
 * @victim_pid:   another guest process.
 * @mediator_pid: the out-of-process mediator, or 0 (inline).
 * @mem_fd:       the hypervisor's fd number of machine memory.
 * @backing:      machine memory as /proc/<hyp>/maps names it (a memfd's
 *                "/memfd:teegate-ram (deleted)", or a file's path).
 * @enc_k:        an odd multiplier: the values below are given multiplied
 *                by it, so that the attacker holds no copy of them and a
 *                scan of its own memory cannot find its own needles.
 * @enc_regd_pa:  the machine addresses of the pages of the buffer the
 *                victim keeps registered with the TEE (times @enc_k).
 * @enc_cookie:   that buffer's cookie (times @enc_k).
 */
struct esc_target {
	uint64_t magic;
	uint64_t ram_pages;
	int32_t hyp_pid;
	int32_t victim_pid;
	int32_t mediator_pid;
	int32_t mem_fd;
	char backing[64];
	uint64_t enc_k;
	uint64_t enc_regd_pa[ESC_REGD_PAGES];
	uint64_t enc_cookie;
};

typedef void (*esc_fn)(struct tg_vcpu *v, const struct esc_target *t);

struct esc_technique {
	const char *name;
	esc_fn fn;
};

/* The catalogue, NULL-terminated; esc_find() by name, NULL if unknown. */
extern const struct esc_technique esc_techniques[];
const struct esc_technique *esc_find(const char *name);

/* A canary page: @magic, @tag, then a pattern derived from both. */
void esc_canary_fill(uint64_t *page, uint64_t magic, uint64_t tag);
int esc_canary_intact(const uint64_t *page, uint64_t magic, uint64_t tag);

/* argv form of a target, for the exec'd attacker (ESC_ARGC strings). */
#define ESC_ARGC 8
void esc_target_to_argv(const struct esc_target *t, char buf[ESC_ARGC][160]);
int esc_target_from_argv(struct esc_target *t, char **argv);

#endif /* TG_TESTS_ESCAPE_H */
