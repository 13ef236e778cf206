// SPDX-License-Identifier: BSD-2-Clause
/*
 * The zygote: where forked guests come from.
 *
 * A guest process made by fork() of the hypervisor would start with a
 * copy-on-write snapshot of the hypervisor's private memory: the heap of
 * the mediator and of the TEE model (cookies, session ids, the machine
 * addresses of other guests' pages), the stacks of every thread, the
 * calling program's data. No system call is needed to read that copy.
 *
 * So the process forks once, when it creates its first machine, before
 * that machine's backend, mediator or any guest exists: the zygote, a
 * single-threaded process that holds nothing any machine learnt, not even
 * an fd of machine memory. It serves every machine of the process: a
 * per-machine zygote would be forked from a process that may already have
 * run machines, whose freed heap still holds their guests' data (the
 * escape suite, run whole in one process, found an earlier machine's
 * registered pages' addresses that way).
 *
 * tg_guest_start() hands it a request over a socketpair: the entry
 * function, and as fds machine memory, a boot memfd (the guest's p2m,
 * then the bytes of its argument), the guest's trap pages, the
 * hypervisor's current stdout and stderr, and the lockdown's hand-over
 * socket. The zygote clones a child with CLONE_PARENT, so that the guest
 * is the hypervisor's child as before (waitpid, pidfds, /proc/PID/maps
 * for the balloon check, SIGCHLD), and answers its pid. The child maps
 * its own pages and trap pages, closes every fd (machine memory's among
 * them), locks itself down and runs the entry function on its copy of
 * the argument. The zygote closes what it received and never reads a
 * request's memfd: it keeps nothing of any guest.
 *
 * The zygote is as privileged as the hypervisor and never runs guest
 * code. It is forked by a thread of its own (the keeper), which lives as
 * long as the process with every signal blocked: a parent-death signal
 * follows the thread that forked, so the zygote and every forked guest
 * die with the hypervisor process, whatever becomes of the caller's
 * threads. The keeper's stack is a fresh mapping, not a recycled thread
 * stack; a guest's vCPU 0 runs on the zygote's copy of it. A child
 * process forked from the hypervisor forgets the zygote (pthread_atfork)
 * and gets its own with its first machine.
 *
 * The child of a raw clone() skips the C library's fork bookkeeping. In a
 * single-threaded process that holds no lock this leaves one thing stale:
 * the thread descriptor's cached tid (the zygote's), which only recursive
 * and error-checking mutexes of vCPU 0 use, as an owner id that is still
 * unique. Threads the guest creates are new and correct.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define ZYG_MAGIC 0x7a79676f74650001ull /* "zygote", version 1 */
#define ZYG_REPLY_MS 10000
/* vCPU 0 of every forked guest runs on (a copy of) this stack */
#define ZYG_STACK (8u << 20)

enum zyg_fd {
	ZYG_FD_BOOT = 0,
	ZYG_FD_MEM, /* machine memory: the guest maps its pages, closes it */
	ZYG_FD_SHARED,
	ZYG_FD_OUT,
	ZYG_FD_ERR,
	ZYG_FD_HANDOFF, /* only when the guest locks itself down */
	ZYG_NFDS,
};

struct zyg_req {
	uint64_t magic;
	uint64_t fn; /* void (*)(struct tg_vcpu *, void *) */
	int32_t hyp; /* the hypervisor: the guest's parent */
	uint32_t nfds;
};

struct zyg_rsp {
	int32_t pid; /* > 0, or 0 and @err */
	int32_t err; /* TG_* */
};

/* ---- the guest process ---------------------------------------------------- */

/* the hypervisor's thread name, which guests keep as before */
static char zyg_comm[16];

/*
 * The boot memfd: struct tg_boot_info, its npages machine addresses, then
 * arg_size bytes of the entry function's argument. Written by the
 * hypervisor; checked anyway, as an exec'd guest checks its own.
 */
static const struct tg_boot_info *boot_check(const void *p, size_t len)
{
	const struct tg_boot_info *b = p;

	if (len < sizeof(*b) || b->magic != TG_BOOT_MAGIC || !b->nvcpus ||
	    b->nvcpus > TG_HOST_MAX_VCPUS || !b->npages ||
	    b->npages > TG_HOST_MAX_PROCESS_PAGES ||
	    b->arg_size > TG_HOST_MAX_GUEST_ARG ||
	    len != sizeof(*b) + (size_t)b->npages * sizeof(uint64_t) +
			    b->arg_size)
		return NULL;
	return b;
}

/* The cloned child: build the guest from the request, shed the rest. */
static void __attribute__((noreturn))
guest_child(const struct zyg_req *req, const int fds[ZYG_NFDS])
{
	void (*fn)(struct tg_vcpu *, void *) =
		(void (*)(struct tg_vcpu *, void *))(uintptr_t)req->fn;
	const struct tg_boot_info *boot;
	struct tg_guest_rt *rt;
	struct stat st;
	size_t shared_len;
	void *map, *shared, *arg = NULL;
	bool lockdown;
	int handoff;

	/* below here: the zygote's frames of earlier requests */
	tg_scrub_dead_stack();
	prctl(PR_SET_NAME, zyg_comm);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != req->hyp)
		_exit(126);
	if (fstat(fds[ZYG_FD_BOOT], &st) || st.st_size <= 0)
		_exit(125);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		   fds[ZYG_FD_BOOT], 0);
	if (map == MAP_FAILED)
		_exit(125);
	boot = boot_check(map, (size_t)st.st_size);
	if (!boot)
		_exit(125);
	shared_len = (size_t)TG_SHARED_PAGES(boot->nvcpus) * TG_PAGE_SIZE;
	shared = mmap(NULL, shared_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fds[ZYG_FD_SHARED], 0);
	rt = malloc(sizeof(*rt));
	if (shared == MAP_FAILED || !rt || tg_rt_init(rt, boot, shared) ||
	    tg_rt_map_view(rt, boot, fds[ZYG_FD_MEM]))
		_exit(125);
	if (boot->arg_size) {
		arg = malloc(boot->arg_size);
		if (!arg)
			_exit(125);
		memcpy(arg,
		       (const uint8_t *)(boot + 1) +
			       (size_t)boot->npages * sizeof(uint64_t),
		       boot->arg_size);
	}
	lockdown = boot->lockdown;
	munmap(map, (size_t)st.st_size);
	if (tg_scrub_shared_mappings(rt->view,
				     ((size_t)rt->npages + 256u) * TG_PAGE_SIZE,
				     shared, shared_len))
		_exit(124);
	/* the hypervisor's stdout and stderr as they are now */
	if (dup2(fds[ZYG_FD_OUT], 1) != 1 || dup2(fds[ZYG_FD_ERR], 2) != 2)
		_exit(124);
	handoff = tg_guest_keep_output_fds(lockdown ? fds[ZYG_FD_HANDOFF] : -1);
	if (handoff == -2)
		_exit(124);
	if (lockdown && tg_lockdown(handoff))
		_exit(123);
	tg_rt_run_vcpu0(rt, fn, arg);
}

/* ---- the zygote ---------------------------------------------------------- */

/* Close every fd but 0-2 and @keep. */
static void close_all_but(int keep)
{
	if (keep > 3)
		syscall(SYS_close_range, 3u, (unsigned int)keep - 1, 0u);
	syscall(SYS_close_range, (unsigned int)keep + 1, ~0u, 0u);
}

/* One request: its fds in @fds (ZYG_NFDS, -1 where none). 0 on EOF. */
static ssize_t receive_request(int sock, struct zyg_req *req, int fds[ZYG_NFDS])
{
	union {
		char buf[CMSG_SPACE(ZYG_NFDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	size_t n = 0, i;
	ssize_t got;

	for (i = 0; i < ZYG_NFDS; i++)
		fds[i] = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do {
		got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (got < 0 && errno == EINTR);
	if (got <= 0)
		return got;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len >= CMSG_LEN(0)) {
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > ZYG_NFDS)
			n = ZYG_NFDS;
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	}
	if ((size_t)got != sizeof(*req) || req->magic != ZYG_MAGIC ||
	    (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || n != req->nfds ||
	    n < ZYG_FD_HANDOFF)
		req->magic = 0; /* refused below */
	return got;
}

static void __attribute__((noreturn)) zygote_main(int sock, pid_t hyp)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig;

	prctl(PR_GET_NAME, zyg_comm);
	prctl(PR_SET_NAME, "teegate-zygote");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != hyp)
		_exit(0);
	close_all_but(sock);
	/* 0-2 taken (the hypervisor may run without them), so that no fd
	 * a request brings lands there */
	for (;;) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (fd < 0)
			break;
		if (fd > 2) {
			close(fd);
			break;
		}
	}
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* free heap pages read as zeros in the guests */
	malloc_trim(0);
	for (;;) {
		struct zyg_rsp rsp = { 0, TG_OK };
		struct zyg_req req;
		int fds[ZYG_NFDS], i;
		Dl_info di;
		ssize_t got;
		pid_t pid = -1;

		got = receive_request(sock, &req, fds);
		if (got <= 0)
			_exit(0); /* the hypervisor is gone, or done with us */
		if (req.magic != ZYG_MAGIC)
			rsp.err = TG_EPROTO;
		/* code loaded after the machine was created is not here */
		else if (!dladdr((void *)(uintptr_t)req.fn, &di))
			rsp.err = TG_EINVAL;
		else
			pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD,
					     0, 0, 0, 0);
		if (pid == 0) {
			close(sock);
			guest_child(&req, fds);
		}
		if (!rsp.err && pid < 0)
			rsp.err = TG_ENOMEM;
		rsp.pid = pid > 0 ? pid : 0;
		for (i = 0; i < ZYG_NFDS; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		memset(&req, 0, sizeof(req));
		if (send(sock, &rsp, sizeof(rsp), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(rsp))
			_exit(0);
	}
}

/* ---- the hypervisor's side ------------------------------------------------ */

/*
 * One zygote per process, started by its first tg_machine_create(). All
 * of it under @lock; @owner is the process it serves (a child forked from
 * this process has none: pthread_atfork resets it there).
 */
static struct {
	pthread_mutex_t lock; /* start, and one request at a time */
	pid_t owner;	      /* getpid() of the process it serves; 0: none */
	pid_t pid;	      /* the zygote; 0 once it is gone */
	int sock;	      /* our end of the socketpair, -1: none */
	int child_sock;	      /* the zygote's end, until it has forked */
	int fork_errno;	      /* the keeper's fork() error */
	bool forked;	      /* the keeper has forked (or failed to) */
	pthread_cond_t cond;
} zyg = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.sock = -1,
	.child_sock = -1,
	.cond = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t zyg_once = PTHREAD_ONCE_INIT;

/* In a child forked from this process (a guest's exec, the zygote itself,
 * the caller's own fork): the zygote is not its child. */
static void zyg_atfork_child(void)
{
	pthread_mutex_t l = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;

	if (zyg.sock >= 0)
		close(zyg.sock);
	zyg.lock = l;
	zyg.cond = c;
	zyg.owner = 0;
	zyg.pid = 0;
	zyg.sock = -1;
	/* the zygote's own end, in the zygote: kept (zygote_main has it) */
	zyg.child_sock = -1;
	zyg.forked = false;
}

/*
 * At exit(): close our end, so that the zygote leaves, and reap it (at
 * most 1 s), rather than leave a zombie to whoever inherits it. A process
 * killed outright leaves that to the parent-death signal and to init.
 */
static void zyg_atexit(void)
{
	pid_t pid;
	int i;

	if (pthread_mutex_trylock(&zyg.lock))
		return; /* a thread is starting a guest: leave it be */
	pid = zyg.owner == getpid() ? zyg.pid : 0;
	if (pid && zyg.sock >= 0) {
		close(zyg.sock);
		zyg.sock = -1;
		for (i = 0; i < 1000 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			usleep(1000);
	}
	pthread_mutex_unlock(&zyg.lock);
}

static void zyg_register_atfork(void)
{
	pthread_atfork(NULL, NULL, zyg_atfork_child);
	atexit(zyg_atexit);
}

/*
 * The keeper: forks the zygote, then lives as long as the process, every
 * signal blocked, reaping the zygote if it ever dies. The zygote and the
 * guests (CLONE_PARENT) are children of this thread: their parent-death
 * signal fires when the process ends.
 */
static void *keeper_main(void *arg)
{
	int sock = (int)(intptr_t)arg;
	pid_t hyp = getpid(), pid;

	pid = fork();
	if (pid == 0)
		zygote_main(sock, hyp);
	pthread_mutex_lock(&zyg.lock);
	zyg.pid = pid > 0 ? pid : 0;
	zyg.fork_errno = pid > 0 ? 0 : errno;
	zyg.forked = true;
	pthread_cond_broadcast(&zyg.cond);
	pthread_mutex_unlock(&zyg.lock);
	if (pid < 0)
		return NULL;
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&zyg.lock);
	if (zyg.owner == hyp)
		zyg.pid = 0; /* gone: spawns fail from now on */
	pthread_mutex_unlock(&zyg.lock);
	for (;;)
		pause(); /* the guests' parent-death signal follows us */
	return NULL;
}

/* With @zyg.lock held: fork the zygote through a new keeper. */
static int zyg_start_locked(struct tg_machine *m)
{
	const size_t len = ZYG_STACK + TG_PAGE_SIZE;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t keeper;
	void *stack;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		tg_host_log(
			m, TG_LOG_ERROR,
			"cannot create the guest template process (zygote): socketpair: %s; raise the open-files limit (ulimit -n)",
			strerror(errno));
		return TG_ENOMEM;
	}
	/* a fresh stack (never a recycled thread's), a guard page below */
	stack = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		     -1, 0);
	if (stack == MAP_FAILED) {
		close(sv[0]);
		close(sv[1]);
		tg_host_log(
			m, TG_LOG_ERROR,
			"cannot create the guest template process (zygote): no memory for its stack");
		return TG_ENOMEM;
	}
	mprotect(stack, TG_PAGE_SIZE, PROT_NONE);
	zyg.sock = sv[0];
	zyg.child_sock = sv[1];
	zyg.forked = false;
	/* unwritten output would be written again by the zygote */
	fflush(NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, (uint8_t *)stack + TG_PAGE_SIZE,
			      ZYG_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&keeper, &attr, keeper_main,
			     (void *)(intptr_t)sv[1]);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		while (!zyg.forked)
			pthread_cond_wait(&zyg.cond, &zyg.lock);
	close(sv[1]);
	zyg.child_sock = -1;
	if (ret || !zyg.pid) {
		close(sv[0]);
		zyg.sock = -1;
		if (ret)
			munmap(stack, len);
		tg_host_log(
			m, TG_LOG_ERROR,
			"cannot create the guest template process (zygote): %s; raise the process limit (ulimit -u) or free memory",
			strerror(ret ? ret : zyg.fork_errno));
		return TG_ENOMEM;
	}
	zyg.owner = getpid();
	return TG_OK;
}

/**
 * tg_zygote_start() - from tg_machine_create(), before the machine has
 * anything: the process's zygote, forked the first time only.
 * Return: TG_OK; TG_ENOMEM (logged).
 */
int tg_zygote_start(struct tg_machine *m)
{
	int ret = TG_OK;

	pthread_once(&zyg_once, zyg_register_atfork);
	pthread_mutex_lock(&zyg.lock);
	if (zyg.owner != getpid())
		ret = zyg_start_locked(m);
	pthread_mutex_unlock(&zyg.lock);
	return ret;
}

/** tg_zygote_pid() - the process's zygote, or 0 (none, or gone). */
pid_t tg_zygote_pid(void)
{
	pid_t pid;

	pthread_mutex_lock(&zyg.lock);
	pid = zyg.owner == getpid() ? zyg.pid : 0;
	pthread_mutex_unlock(&zyg.lock);
	return pid;
}

/* Our fd @fd, or /dev/null when the hypervisor runs without it. */
static int output_fd(int fd, int *opened)
{
	if (fcntl(fd, F_GETFD) >= 0)
		return fd;
	*opened = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return *opened;
}

static int send_request(int sock, const struct zyg_req *req, const int *fds,
			size_t nfds)
{
	union {
		char buf[CMSG_SPACE(ZYG_NFDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = sizeof(*req) };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*req) ? 0 : -1;
}

static int receive_reply(int sock, struct zyg_rsp *rsp)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, ZYG_REPLY_MS);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	do {
		n = recv(sock, rsp, sizeof(*rsp), MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*rsp) ? 0 : -1;
}

/**
 * tg_zygote_spawn() - have the zygote start a guest process.
 * @fn:       its entry function (code of the program as it was when the
 *            process created its first machine).
 * @boot_fd:  the boot memfd (boot information, p2m, argument bytes).
 * @shared_fd: the guest's trap pages.
 * @handoff:  the lockdown's hand-over socket, or -1 (no lockdown).
 * @pid:      out: the guest process, a child of this process.
 * Return: TG_OK; TG_EINVAL (@fn is not in the zygote's program; logged);
 * TG_ENOMEM (no process); TG_EPROTO (the zygote is gone; logged).
 */
int tg_zygote_spawn(struct tg_machine *m, void (*fn)(struct tg_vcpu *, void *),
		    int boot_fd, int shared_fd, int handoff, pid_t *pid)
{
	struct zyg_req req = {
		.magic = ZYG_MAGIC,
		.fn = (uint64_t)(uintptr_t)fn,
		.hyp = (int32_t)getpid(),
	};
	struct zyg_rsp rsp = { 0, TG_EPROTO };
	int fds[ZYG_NFDS], out_opened = -1, err_opened = -1, ret = TG_OK;
	pid_t zpid;

	fds[ZYG_FD_BOOT] = boot_fd;
	fds[ZYG_FD_MEM] = m->mem.fd;
	fds[ZYG_FD_SHARED] = shared_fd;
	fds[ZYG_FD_OUT] = output_fd(1, &out_opened);
	fds[ZYG_FD_ERR] = output_fd(2, &err_opened);
	fds[ZYG_FD_HANDOFF] = handoff;
	req.nfds = handoff >= 0 ? ZYG_NFDS : ZYG_FD_HANDOFF;
	if (fds[ZYG_FD_OUT] < 0 || fds[ZYG_FD_ERR] < 0) {
		ret = TG_ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&zyg.lock);
	zpid = zyg.pid;
	if (zyg.owner != getpid() || !zyg.pid || zyg.sock < 0 ||
	    send_request(zyg.sock, &req, fds, req.nfds) ||
	    receive_reply(zyg.sock, &rsp)) {
		/* a late answer must not be taken for the next request's */
		if (zyg.owner == getpid() && zyg.sock >= 0) {
			close(zyg.sock);
			zyg.sock = -1;
		}
		pthread_mutex_unlock(&zyg.lock);
		tg_host_log(
			m, TG_LOG_ERROR,
			"guest start refused: the guest template process (zygote, pid %d) is gone or does not answer; no process guest can start in this process any more: restart the program",
			(int)zpid);
		ret = TG_EPROTO;
		goto out;
	}
	pthread_mutex_unlock(&zyg.lock);
	if (rsp.pid > 0) {
		*pid = rsp.pid;
	} else {
		ret = rsp.err ? rsp.err : TG_EPROTO;
		if (ret == TG_EINVAL)
			tg_host_log(
				m, TG_LOG_ERROR,
				"guest start refused: its entry function %p is not in the program as it was when the first machine was created (a library loaded later?): load it before tg_machine_create(), or use tg_guest_start_exec()",
				(void *)(uintptr_t)fn);
	}
out:
	if (out_opened >= 0)
		close(out_opened);
	if (err_opened >= 0)
		close(err_opened);
	return ret;
}
