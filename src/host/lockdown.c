// SPDX-License-Identifier: BSD-2-Clause
/*
 * Locking a guest process down before guest code runs:
 *  - every shared mapping except its own pages and trap pages is unmapped
 *    (after fork() the child inherited the hypervisor's mapping of all of
 *    machine memory and the other guests' trap pages);
 *  - root drops to uid/gid 65534 and so loses every capability: it can no
 *    longer ptrace the hypervisor, read /proc/<hyp>/mem or open
 *    /proc/self/map_files (which would give back an fd of machine memory);
 *  - no_new_privs and a seccomp filter that refuses: mremap (growing a
 *    shared file mapping reaches the neighbouring machine page), fork,
 *    vfork, clone without CLONE_THREAD and clone3 (a child process would
 *    keep a mapping past a balloon), ptrace, process_vm_readv/writev,
 *    process_madvise and pidfd_getfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#if defined(__x86_64__)
#define TG_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TG_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

static bool inside(uintptr_t s, uintptr_t e, const void *keep, size_t len)
{
	uintptr_t k = (uintptr_t)keep;

	return keep && s >= k && e <= k + len;
}

/**
 * tg_scrub_shared_mappings() - unmap every MAP_SHARED mapping of the
 * calling process except the two ranges given. Run in a freshly forked,
 * single-threaded child.
 */
int tg_scrub_shared_mappings(const void *keep1, size_t len1,
			     const void *keep2, size_t len2)
{
	size_t cap = 1 << 20, used = 0;
	char *buf = malloc(cap), *line, *next;
	ssize_t n;
	int fd;

	if (!buf)
		return -1;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	for (;;) {
		if (used + 4096 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				close(fd);
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	for (line = buf; line && *line; line = next) {
		uintptr_t s, e;
		char perms[8];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &s, &e,
			   perms) != 3)
			continue;
		if (perms[3] != 's')
			continue;
		if (inside(s, e, keep1, len1) || inside(s, e, keep2, len2))
			continue;
		munmap((void *)s, e - s);
	}
	free(buf);
	return 0;
}

#define DENY(nr, err)                                                          \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                       \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

static int install_filter(void)
{
#ifdef TG_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TG_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
		/* no x32 syscalls */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		DENY(__NR_fork, EPERM),
		DENY(__NR_vfork, EPERM),
#endif
		DENY(__NR_mremap, EPERM),
		DENY(__NR_ptrace, EPERM),
		DENY(__NR_process_vm_readv, EPERM),
		DENY(__NR_process_vm_writev, EPERM),
		DENY(__NR_process_madvise, EPERM),
		DENY(__NR_pidfd_getfd, EPERM),
		DENY(__NR_clone3, ENOSYS), /* glibc falls back to clone */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(f) / sizeof(f[0])),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
#endif
}

/**
 * tg_lockdown() - drop privileges and install the filter. Call single-
 * threaded, after every fd of machine memory is closed.
 * Return: 0 or -1 (the caller must not run guest code then).
 */
int tg_lockdown(void)
{
	pid_t parent = getppid();

	if (geteuid() == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return -1;
		/* a credential change clears the parent-death signal */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			return -1;
	}
	return install_filter();
}
