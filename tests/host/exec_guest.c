// SPDX-License-Identifier: BSD-2-Clause
/*
 * A guest program for tg_guest_start_exec(): boots with tg_guest_enter(),
 * checks that the boot fds are gone, makes a TEE call and reports through
 * its counters page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <teegate/host.h>
#include <teegate/optee_abi.h>

int main(void)
{
	struct tg_vcpu *v = tg_guest_enter();
	struct tg_guest_counters *c;
	uint64_t regs[8] = { OPTEE_SMC_CALLS_UID };
	uint64_t ipa;
	uint32_t *p;
	int fd;

	if (!v)
		return 2;
	c = tg_guest_counters(v);
	/* stdin, the memory, boot and shared fds and the hand-over socket
	 * must be closed (close() is the one fd call the allow-list has) */
	for (fd = 0; fd < 7; fd++)
		if (fd != 1 && fd != 2 && (close(fd) == 0 || errno != EBADF))
			c->mismatches++;
	tg_smc(v, regs);
	c->calls++;
	if (regs[0] == OPTEE_MSG_UID_0 && regs[1] == OPTEE_MSG_UID_1)
		c->verified++;
	else
		c->mismatches++;
	if (tg_alloc_pages(v, 2, &ipa) || !(p = tg_ipa_ptr(v, ipa))) {
		c->errors++;
		return 3;
	}
	memset(p, 0x5a, 2 * TG_PAGE_SIZE);
	c->verified++;
	/* _exit: LeakSanitizer's exit-time check needs ptrace, which the
	 * locked-down guest may not use. */
	_exit(0);
}
