// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hypervisor's side of a guest's allow-list (lockdown.c): one thread
 * per locked-down guest process receives the filter's listener over the
 * hand-over socket, then waits for a notification. A notification means
 * a guest thread made a call the list refuses and is stopped in the
 * kernel before the call ran: the thread logs one line (the kernel's own
 * account: call, ABI, arguments), records it for tg_guest_stats() and
 * kills the guest through a pidfd (no pid reuse race with the reaper).
 *
 * Nothing here is on the trap path: the thread sleeps in poll() until a
 * notification, the end of the guest, or the teardown's eventfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define WATCH_STACK (64u * 1024u)

#ifndef AUDIT_ARCH_I386
#define AUDIT_ARCH_I386 0x40000003u
#endif
#define X32_SYSCALL_BIT 0x40000000

/**
 * tg_watch_prepare() - before fork: the hand-over socket and the stop
 * eventfd; @child_end gets the child's end of the socket (close-on-exec).
 * Return: TG_OK, TG_ENOTSUP (no user notification: said in the log),
 * TG_ENOMEM.
 */
int tg_watch_prepare(struct tg_guest *g, int *child_end)
{
	/* user notification with TSYNC: libseccomp API level 6 */
	static _Atomic int api;
	int sv[2];

	g->watch.sock = g->watch.listener = g->watch.stop = -1;
	g->watch.pidfd = -1;
	atomic_store(&g->watch.killed_nr, -1);
	if (!atomic_load(&api))
		atomic_store(&api, (int)seccomp_api_get());
	if (atomic_load(&api) < 6) {
		tg_host_log(g->m, TG_LOG_ERROR,
			    "guest start refused: the kernel lacks seccomp user notification with thread sync (needs Linux 5.7 or later, libseccomp 2.5 or later) to lock a guest process down");
		return TG_ENOTSUP;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return TG_ENOMEM;
	g->watch.stop = eventfd(0, EFD_CLOEXEC);
	if (g->watch.stop < 0) {
		close(sv[0]);
		close(sv[1]);
		return TG_ENOMEM;
	}
	g->watch.sock = sv[0];
	*child_end = sv[1];
	return TG_OK;
}

/* The one fd of a hand-over message, if it is a seccomp listener. */
static int receive_listener(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte, path[64], link[64];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) ||
	    (msg.msg_flags & MSG_CTRUNC))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	/* an exec'd guest wrote the message: check what the fd is */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0 || (link[n] = '\0', strcmp(link, "anon_inode:seccomp notify"))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The call's name and ABI as the log says them. */
static void describe_call(const struct seccomp_data *d, char *buf, size_t len)
{
	uint32_t arch = d->arch;
	int nr = d->nr;
	const char *abi = "";
	char *name = NULL;

	if (arch == AUDIT_ARCH_I386) {
		abi = ", i386 ABI (int 0x80)";
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86, nr);
	} else if (arch == AUDIT_ARCH_X86_64 && (nr & X32_SYSCALL_BIT)) {
		abi = ", x32 ABI";
		name = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_X32, nr & ~X32_SYSCALL_BIT);
	} else if (arch == seccomp_arch_native()) {
		name = seccomp_syscall_resolve_num_arch(arch, nr);
	} else {
		abi = ", another ABI";
	}
	snprintf(buf, len, "%s (%d%s)", name ? name : "?", nr, abi);
	free(name);
}

static void on_refused_call(struct tg_guest *g, const struct seccomp_notif *n)
{
	struct tg_machine *m = g->m;
	const struct seccomp_data *d = &n->data;
	bool native = d->arch == seccomp_arch_native() &&
		      !(d->nr & X32_SYSCALL_BIT);
	char what[96];
	int32_t none = -1;

	/* one line per guest: other threads may be stopped too */
	if (!atomic_compare_exchange_strong(&g->watch.killed_nr, &none,
					    d->nr))
		return;
	atomic_store(&g->watch.killed_arch, d->arch);
	/* out of any fork(): the name lookup allocates */
	tg_fork_gate_enter(&m->fork_gate, tg_fork_stripe(g->client_id, 0));
	describe_call(d, what, sizeof(what));
	if (native && tg_lockdown_call_is_conditional(d->nr))
		tg_host_log(m, TG_LOG_ERROR,
			    "guest '%s' (client %u, pid %d) killed: system call %s with arguments its allow-list refuses (%#llx, %#llx, %#llx, %#llx)",
			    g->name, g->client_id, (int)g->pid, what,
			    (unsigned long long)d->args[0],
			    (unsigned long long)d->args[1],
			    (unsigned long long)d->args[2],
			    (unsigned long long)d->args[3]);
	else
		tg_host_log(m, TG_LOG_ERROR,
			    "guest '%s' (client %u, pid %d) killed: system call %s is not on its allow-list",
			    g->name, g->client_id, (int)g->pid, what);
	tg_fork_gate_leave(&m->fork_gate, tg_fork_stripe(g->client_id, 0));
	syscall(SYS_pidfd_send_signal, g->watch.pidfd, SIGKILL, NULL, 0);
}

static void *watch_main(void *arg)
{
	struct tg_guest *g = arg;

	atomic_store(&g->watch.running, true);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = g->watch.stop, .events = POLLIN },
			{ .fd = g->watch.listener >= 0 ? g->watch.listener
						       : g->watch.sock,
			  .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].fd == g->watch.sock && p[1].fd >= 0) {
			if (p[1].revents & POLLIN)
				g->watch.listener = receive_listener(p[1].fd);
			if (g->watch.listener < 0) {
				tg_fork_gate_enter(&g->m->fork_gate,
						   tg_fork_stripe(g->client_id, 0));
				tg_host_log(g->m, TG_LOG_INFO,
					    "guest '%s' (client %u): no seccomp listener handed over",
					    g->name, g->client_id);
				tg_fork_gate_leave(&g->m->fork_gate,
						   tg_fork_stripe(g->client_id, 0));
			}
			close(g->watch.sock);
			g->watch.sock = -1;
			continue;
		}
		if (p[1].revents & POLLIN) {
			struct seccomp_notif n;

			memset(&n, 0, sizeof(n));
			if (!ioctl(p[1].fd, SECCOMP_IOCTL_NOTIF_RECV, &n))
				on_refused_call(g, &n);
			continue;
		}
		/* the guest is gone (POLLHUP), or nothing left to watch:
		 * wait for the teardown */
		if (g->watch.listener >= 0) {
			close(g->watch.listener);
			g->watch.listener = -1;
		}
	}
	return NULL;
}

/**
 * tg_watch_start() - after fork: a pidfd of the child (not reaped yet, so
 * the pid is still ours) and the watching thread.
 */
int tg_watch_start(struct tg_guest *g)
{
	pthread_attr_t attr;
	int ret;

	g->watch.pidfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
	if (g->watch.pidfd < 0)
		return TG_ENOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WATCH_STACK);
	ret = pthread_create(&g->watch.thread, &attr, watch_main, g);
	pthread_attr_destroy(&attr);
	if (ret)
		return TG_ENOMEM;
	g->watch.started = true;
	/* as tg_handlers_start(): not while the new thread may still hold
	 * the thread library's start-up locks, the caller may fork() next */
	while (!atomic_load(&g->watch.running))
		sched_yield();
	return TG_OK;
}

/** tg_watch_stop() - end the thread and close everything it held. */
void tg_watch_stop(struct tg_guest *g)
{
	uint64_t one = 1;

	if (g->watch.started) {
		if (write(g->watch.stop, &one, sizeof(one)) < 0)
			tg_host_log(g->m, TG_LOG_ERROR,
				    "cannot stop a guest's watcher: %s",
				    strerror(errno));
		pthread_join(g->watch.thread, NULL);
		g->watch.started = false;
	}
	if (g->watch.listener >= 0)
		close(g->watch.listener);
	if (g->watch.sock >= 0)
		close(g->watch.sock);
	if (g->watch.stop >= 0)
		close(g->watch.stop);
	if (g->watch.pidfd >= 0)
		close(g->watch.pidfd);
	g->watch.listener = g->watch.sock = g->watch.stop = -1;
	g->watch.pidfd = -1;
}
