// SPDX-License-Identifier: BSD-2-Clause
/*
 * Locking a guest process down before guest code runs:
 *  - every shared mapping except its own pages and trap pages is unmapped
 *    (after fork() the child inherited the hypervisor's mapping of all of
 *    machine memory and the other guests' trap pages), and every fd but
 *    stdout, stderr and the hand-over socket is closed by the caller;
 *  - root drops to uid/gid 65534 and so loses every capability;
 *  - no_new_privs and a seccomp ALLOW-list: only the system calls that
 *    guest code and the guest runtime need (threads, futexes, anonymous
 *    memory, time, exit, writing to stdout/stderr), several of them only
 *    with the arguments that keep them harmless. Any other call stops the
 *    calling thread in the kernel and notifies the hypervisor, which holds
 *    the filter's listener: it logs the call (number, ABI, arguments, as
 *    the kernel reports them) and kills the guest. The call never runs.
 *
 * Why notify rather than SECCOMP_RET_KILL_PROCESS: the kill would reach
 * the hypervisor only as "died of SIGSYS", which a guest can also fake by
 * raising SIGSYS itself; the notification is the kernel's own account of
 * which call was refused, so the log line is trusted information. If the
 * hypervisor dies first, the listener closes and every refused call fails
 * with ENOSYS (it still never runs), and the guest dies of its
 * parent-death signal.
 *
 * The listener is created in the guest by the seccomp() call that installs
 * the filter: the guest sends it over the hand-over socket (the one
 * sendmsg() the list allows, on that fd only) and closes both. A guest
 * that kept its listener could answer its own notifications with "go on";
 * no call on the list creates an fd, so the hand-over fd number stays
 * closed for good.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TG_SANITIZED 1
#endif
#endif
#ifndef TG_SANITIZED
#define TG_SANITIZED 0
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

/* ---- what a forked guest inherits of the hypervisor's private memory ---- */

/*
 * fork() gives a guest process a copy-on-write copy of the hypervisor's
 * private memory: the heap, and every thread's stack. The mediator (inline)
 * and the TEE model run on the handler threads, and their stacks keep what
 * they handled for other guests after the call (the model's bounce buffers
 * hold memref data). Those stacks read as zeros in a forked process, and
 * the forked child drops the dead part of its own thread's stack (the
 * frames the parent used below the fork, teardown's for instance). The
 * heap is not wiped: a forked guest's @arg lives there, and so does the
 * bookkeeping of the mediator and the model (cookies, session ids, machine
 * addresses of pinned pages; docs/threat-model.md, "Guests' reach").
 */

/**
 * tg_stack_wipe_on_fork() - on: the calling thread's stack, up to its
 * thread control block (which the C library's fork() reads in the child),
 * reads as zeros in any process forked later (MADV_WIPEONFORK); off: no
 * more, before the thread ends (the C library may reuse the stack for a
 * thread that forks a guest, which then needs its stack).
 */
void tg_stack_wipe_on_fork(bool on)
{
	uintptr_t lo, top = (uintptr_t)pthread_self() & ~(uintptr_t)TG_PAGE_MASK;
	pthread_attr_t attr;
	size_t size;
	void *addr;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		lo = (uintptr_t)addr;
		if (top > lo && top <= lo + size)
			madvise(addr, top - lo,
				on ? MADV_WIPEONFORK : MADV_KEEPONFORK);
	}
	pthread_attr_destroy(&attr);
}

#if defined(__SANITIZE_ADDRESS__)
#define TG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_ASAN 1
#endif
#endif
#ifdef TG_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

/**
 * tg_scrub_dead_stack() - in a freshly forked child, first thing: the
 * calling thread's stack below this frame (the parent's dead frames)
 * reads as zeros from now on. The frames above stay (the guest's @arg may
 * point into its starter's frames); so do this frame and the kilobyte
 * under it, where memset() and madvise() keep their return addresses.
 */
__attribute__((noinline)) void tg_scrub_dead_stack(void)
{
	volatile char here = 0;
	uintptr_t keep = (uintptr_t)&here - 1024, end, lo;
	pthread_attr_t attr;
	size_t size;
	void *addr;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		lo = (uintptr_t)addr;
		end = keep & ~(uintptr_t)TG_PAGE_MASK;
		if (end > lo && keep < lo + size) {
#ifdef TG_ASAN
			/* dead frames' redzones are still poisoned */
			__asan_unpoison_memory_region((void *)end, keep - end);
#endif
			memset((void *)end, 0, keep - end);
			madvise(addr, end - lo, MADV_DONTNEED);
		}
	}
	pthread_attr_destroy(&attr);
	(void)here;
}

/* ---- the allow-list ----------------------------------------------------- */

/* Argument placeholders filled in at lockdown time. */
#define ARG_OWN_PID (~0ull - 1)
#define ARG_HANDOFF_FD (~0ull - 2)

/* clone(): a thread of this process and nothing else. */
#define CLONE_MUST                                                             \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM)
#define CLONE_LOOKED_AT                                                        \
	(CLONE_MUST | CLONE_PIDFD | CLONE_PTRACE | CLONE_VFORK |               \
	 CLONE_PARENT | CLONE_UNTRACED | CLONE_NEWNS | CLONE_NEWCGROUP |       \
	 CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |          \
	 CLONE_NEWNET | CLONE_IO)
/* futex(): the command without the PRIVATE and CLOCK_REALTIME flags */
#define FUTEX_CMD_BITS 0xfffffe7full

/**
 * struct allow_rule - one rule of the list: @nr is allowed (or answered
 * @errno_answer) when every comparison of @cmp holds; several rules for
 * one call are alternatives.
 */
struct allow_rule {
	int nr;
	int errno_answer; /* 0: allow */
	unsigned int ncmp;
	struct scmp_arg_cmp cmp[2];
};

#define ALLOW(name) { SCMP_SYS(name), 0, 0, { { 0 } } }
#define ALLOW_IF(name, a, cmp_op, x)                                           \
	{ SCMP_SYS(name), 0, 1,                                                \
	  { { .arg = (a), .op = (cmp_op), .datum_a = (x) } } }
#define ALLOW_IF_MASKED(name, a, mask, x)                                      \
	{ SCMP_SYS(name), 0, 1,                                                \
	  { { .arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask),         \
	      .datum_b = (x) } } }
#define ANSWER(name, err) { SCMP_SYS(name), (err), 0, { { 0 } } }

static const struct allow_rule allow_list[] = {
	/* threads: pthread_create, thread start and exit */
	ALLOW_IF_MASKED(clone, 0, CLONE_LOOKED_AT, CLONE_MUST),
	ALLOW(set_robust_list),
	ALLOW(rseq),
	ALLOW(exit),
	ALLOW(exit_group),
	/* waiting: traps (shared futexes on the slot page), locks, sleeps */
	ALLOW_IF_MASKED(futex, 1, FUTEX_CMD_BITS, FUTEX_WAIT),
	ALLOW_IF_MASKED(futex, 1, FUTEX_CMD_BITS, FUTEX_WAKE),
	ALLOW_IF_MASKED(futex, 1, FUTEX_CMD_BITS, FUTEX_WAIT_BITSET),
	ALLOW_IF_MASKED(futex, 1, FUTEX_CMD_BITS, FUTEX_WAKE_BITSET),
	ALLOW(sched_yield),
	ALLOW(nanosleep),
	ALLOW(clock_nanosleep),
	/* time, when the vDSO falls back to the kernel */
	ALLOW(clock_gettime),
	ALLOW(gettimeofday),
	ALLOW(time),
	/* memory: anonymous only, never executable; the view's pages are
	 * shared file mappings and no call here can re-point one */
	{ SCMP_SYS(mmap), 0, 2,
	  { { .arg = 3, .op = SCMP_CMP_MASKED_EQ, .datum_a = MAP_ANONYMOUS,
	      .datum_b = MAP_ANONYMOUS },
	    { .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = PROT_EXEC,
	      .datum_b = 0 } } },
	ALLOW_IF_MASKED(mprotect, 2, PROT_EXEC, 0),
	ALLOW(munmap),
	ALLOW(brk),
	ALLOW_IF(madvise, 2, SCMP_CMP_EQ, MADV_DONTNEED),
	/* malloc sizes its arenas by the CPUs this process may use;
	 * pthread_getattr_np() asks for a thread's (read-only either way) */
	ALLOW(sched_getaffinity),
	/* placement: a vCPU moves itself to the CPU its ctl page names
	 * (place.c); its own thread only */
	ALLOW_IF(sched_setaffinity, 0, SCMP_CMP_EQ, 0),
	/* signals within this process (raise, abort, pthread_kill) */
	ALLOW(rt_sigaction),
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigreturn),
	ALLOW(restart_syscall),
	ALLOW_IF(tgkill, 0, SCMP_CMP_EQ, ARG_OWN_PID),
	ALLOW(getpid),
	ALLOW(gettid),
	/* output: stdout and stderr only */
	ALLOW_IF(write, 0, SCMP_CMP_EQ, 1),
	ALLOW_IF(write, 0, SCMP_CMP_EQ, 2),
	ALLOW(close),
	/* the listener's hand-over, once (the fd is closed right after) */
	ALLOW_IF(sendmsg, 0, SCMP_CMP_EQ, ARG_HANDOFF_FD),
#if TG_SANITIZED
	/* the sanitizer runtimes (ASan builds, tests only): an alternate
	 * signal stack per thread, and advice on their shadow memory */
	ALLOW(sigaltstack),
	ALLOW_IF(madvise, 2, SCMP_CMP_EQ, MADV_NOHUGEPAGE),
	ALLOW_IF(madvise, 2, SCMP_CMP_EQ, MADV_DONTDUMP),
#endif
	/*
	 * Refused with an error, not killed: the C library makes these calls
	 * on its own and copes with the error. pthread_create() tries clone3
	 * (whose flags seccomp cannot see) and falls back to clone; realloc()
	 * of a large block tries mremap and copies instead; malloc and stdio
	 * open /proc and /sys files or fstat an fd to tune themselves.
	 */
	ANSWER(clone3, ENOSYS),
	ANSWER(mremap, ENOMEM),
	ANSWER(open, EACCES),
	ANSWER(openat, EACCES),
	ANSWER(newfstatat, EACCES),
	ANSWER(fstat, EACCES),
};

static uint64_t resolve(uint64_t datum, pid_t own_pid, int handoff_fd)
{
	if (datum == ARG_OWN_PID)
		return (uint64_t)own_pid;
	if (datum == ARG_HANDOFF_FD)
		return (uint64_t)handoff_fd;
	return datum;
}

/* Is @nr (native ABI) on the list only with argument conditions? */
bool tg_lockdown_call_is_conditional(int nr)
{
	size_t i;

	for (i = 0; i < sizeof(allow_list) / sizeof(allow_list[0]); i++)
		if (allow_list[i].nr == nr && allow_list[i].ncmp)
			return true;
	return false;
}

static int send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int install_filter(int handoff_fd)
{
	pid_t own_pid = getpid();
	scmp_filter_ctx ctx;
	int ret = 0, listener;
	size_t i;

	ctx = seccomp_init(SCMP_ACT_NOTIFY);
	if (!ctx)
		return -1;
	/* other ABIs (x86_64: int 0x80, x32) get no rule: notify too */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* a binary tree over the call numbers, the trap path's futex
	 * first: a few comparisons per call instead of a walk of the list */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (!ret)
		ret = seccomp_syscall_priority(ctx, SCMP_SYS(futex), 255);
	for (i = 0; !ret && i < sizeof(allow_list) / sizeof(allow_list[0]);
	     i++) {
		const struct allow_rule *r = &allow_list[i];
		struct scmp_arg_cmp cmp[2];
		unsigned int k;

		if (r->nr < 0)
			continue; /* not a system call on this architecture */
		for (k = 0; k < r->ncmp; k++) {
			cmp[k] = r->cmp[k];
			cmp[k].datum_a = resolve(cmp[k].datum_a, own_pid,
						 handoff_fd);
		}
		ret = seccomp_rule_add_array(ctx,
					     r->errno_answer
						     ? SCMP_ACT_ERRNO(
							       (uint32_t)r->errno_answer)
						     : SCMP_ACT_ALLOW,
					     r->nr, r->ncmp, cmp);
	}
	if (!ret)
		ret = seccomp_load(ctx); /* sets no_new_privs first */
	listener = ret ? -1 : seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	if (ret || listener < 0)
		return -1;
	ret = send_fd(handoff_fd, listener);
	close(listener);
	close(handoff_fd);
	close(0); /* stdin: not the guest's (kept so far: see the caller) */
	return ret;
}

/**
 * tg_lockdown() - drop privileges and install the allow-list; hand its
 * listener to the hypervisor over @handoff_fd (closed on return). Call
 * single-threaded, after every fd of machine memory is closed.
 * Return: 0 or -1 (the caller must not run guest code then).
 */
int tg_lockdown(int handoff_fd)
{
	pid_t parent = getppid();

	/* fd 0 taken (the hypervisor may run without stdin): the listener
	 * must not be fd 0, which libseccomp takes for "no listener" */
	if (fcntl(0, F_GETFD) < 0 &&
	    open("/dev/null", O_RDONLY | O_CLOEXEC) != 0)
		return -1;

	if (geteuid() == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return -1;
		/* a credential change clears the parent-death signal */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			return -1;
	} else if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
		/*
		 * Not root: we share the hypervisor's uid and inherited its
		 * non-dumpable flag, which would keep it from reading our
		 * /proc/<pid>/maps (the balloon check). Other processes of
		 * this uid that could now read us are the user's own; other
		 * guests and sandboxed mediators open nothing (their lists).
		 */
		return -1;
	}
	return install_filter(handoff_fd);
}
