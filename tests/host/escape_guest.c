// SPDX-License-Identifier: BSD-2-Clause
/*
 * The escape catalogue in a program started with tg_guest_start_exec():
 *
 *   tg_escape_guest TECHNIQUE MAGIC RAM_PAGES HYP_PID VICTIM_PID
 *                   MEDIATOR_PID MEM_FD BACKING
 *
 * It boots (tg_guest_enter(): own pages, trap pages, lockdown), then runs
 * TECHNIQUE exactly as a forked attacker does, reporting through its
 * counters page.
 */
#include <stdlib.h>
#include <unistd.h>

#include <teegate/host.h>

#include "escape.h"

int main(int argc, char **argv)
{
	struct tg_vcpu *v = tg_guest_enter();
	const struct esc_technique *e;
	struct tg_guest_counters *c;
	struct esc_target t;

	if (!v)
		return 2;
	c = tg_guest_counters(v);
	c->phase = ESC_PHASE_START;
	if (argc != 2 + ESC_ARGC || !(e = esc_find(argv[1])) ||
	    esc_target_from_argv(&t, argv + 2)) {
		c->errors++;
		_exit(3);
	}
	e->fn(v, &t);
	/* _exit: LeakSanitizer's exit-time check needs ptrace. */
	_exit(0);
}
