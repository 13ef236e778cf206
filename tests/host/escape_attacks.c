// SPDX-License-Identifier: BSD-2-Clause
/*
 * The escape catalogue (escape.h): each technique as an attacker inside a
 * locked-down guest process would try it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

#define PAGE 4096u

void esc_canary_fill(uint64_t *page, uint64_t magic, uint64_t tag)
{
	size_t i;

	page[0] = magic;
	page[1] = tag;
	for (i = 2; i < PAGE / 8; i++)
		page[i] = magic ^ tag ^ (i * 0x9e3779b97f4a7c15ull);
}

int esc_canary_intact(const uint64_t *page, uint64_t magic, uint64_t tag)
{
	size_t i;

	if (page[0] != magic || page[1] != tag)
		return 0;
	for (i = 2; i < PAGE / 8; i++)
		if (page[i] != (magic ^ tag ^ (i * 0x9e3779b97f4a7c15ull)))
			return 0;
	return 1;
}

static struct tg_guest_counters *trying(struct tg_vcpu *v)
{
	struct tg_guest_counters *c = tg_guest_counters(v);

	__atomic_store_n(&c->phase, ESC_PHASE_TRYING, __ATOMIC_SEQ_CST);
	return c;
}

static void done(struct tg_guest_counters *c)
{
	__atomic_store_n(&c->phase, ESC_PHASE_DONE, __ATOMIC_SEQ_CST);
}

/* One own page for the technique to work on (its content checked). */
static volatile uint64_t *own_page(struct tg_vcpu *v)
{
	struct tg_guest_counters *c = tg_guest_counters(v);
	volatile uint64_t *p;
	uint64_t ipa;

	if (tg_alloc_pages(v, 1, &ipa) || !(p = tg_ipa_ptr(v, ipa))) {
		c->errors++;
		return NULL;
	}
	p[0] = 0x6f776e2d70616765ull; /* "own-page" */
	if (p[0] == 0x6f776e2d70616765ull)
		c->verified++;
	return p;
}

static int is_canary(const volatile uint64_t *p, const struct esc_target *t)
{
	return p[0] == t->magic &&
	       (p[1] == ESC_TAG_VICTIM || p[1] == ESC_TAG_HYPERVISOR);
}

/* Write into a foreign canary page found through @p: the breach. */
static void spoil(volatile uint64_t *p, struct tg_guest_counters *c)
{
	p[2] ^= 0xbadull;
	c->attacks_passed++;
}

/*
 * remap_file_pages() on an own page (a shared mapping of the machine
 * memory file) re-points it to any page offset of that file: walk every
 * offset, looking for a canary.
 */
static void esc_remap_file_pages(struct tg_vcpu *v, const struct esc_target *t)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;
	uint64_t off;

	if (!p)
		return;
	c = trying(v);
	for (off = 0; off < t->ram_pages; off++) {
		if (syscall(SYS_remap_file_pages, (void *)p, PAGE, 0,
			    (size_t)off, 0)) {
			c->attacks_refused++;
			break;
		}
		if (is_canary(p, t))
			spoil(p, c);
	}
	done(c);
}

/* SIGKILL another guest: as the same uid, the kernel alone allows it. */
static void esc_kill_another_guest(struct tg_vcpu *v,
				   const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	if (kill(t->victim_pid, SIGKILL))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

const struct esc_technique esc_techniques[] = {
	{ "remap_file_pages", esc_remap_file_pages },
	{ "kill_another_guest", esc_kill_another_guest },
	{ NULL, NULL },
};

const struct esc_technique *esc_find(const char *name)
{
	const struct esc_technique *e;

	for (e = esc_techniques; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

void esc_target_to_argv(const struct esc_target *t, char buf[ESC_ARGC][80])
{
	snprintf(buf[0], 80, "%llu", (unsigned long long)t->magic);
	snprintf(buf[1], 80, "%llu", (unsigned long long)t->ram_pages);
	snprintf(buf[2], 80, "%d", t->hyp_pid);
	snprintf(buf[3], 80, "%d", t->victim_pid);
	snprintf(buf[4], 80, "%d", t->mediator_pid);
	snprintf(buf[5], 80, "%d", t->mem_fd);
	snprintf(buf[6], 80, "%s", t->backing);
}

int esc_target_from_argv(struct esc_target *t, char **argv)
{
	int i;

	for (i = 0; i < ESC_ARGC; i++)
		if (!argv[i])
			return -1;
	memset(t, 0, sizeof(*t));
	t->magic = strtoull(argv[0], NULL, 0);
	t->ram_pages = strtoull(argv[1], NULL, 0);
	t->hyp_pid = atoi(argv[2]);
	t->victim_pid = atoi(argv[3]);
	t->mediator_pid = atoi(argv[4]);
	t->mem_fd = atoi(argv[5]);
	snprintf(t->backing, sizeof(t->backing), "%s", argv[6]);
	return 0;
}
