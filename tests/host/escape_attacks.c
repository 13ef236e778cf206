// SPDX-License-Identifier: BSD-2-Clause
/*
 * The escape catalogue (escape.h): each technique as an attacker inside a
 * locked-down guest process would try it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>

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

/* The technique's call succeeded where it must be refused (no breach by
 * itself, but the door is open). */
static void opened(struct tg_guest_counters *c)
{
	c->calls++;
}

/* Record a call's outcome: refused (an error) or opened. */
static void outcome(struct tg_guest_counters *c, long ret)
{
	if (ret < 0)
		c->attacks_refused++;
	else
		opened(c);
}

/* Walk every page offset of @fd, mapped shared, looking for a canary. */
static void scan_fd(int fd, const struct esc_target *t,
		    struct tg_guest_counters *c)
{
	uint64_t off;

	for (off = 0; off < t->ram_pages; off++) {
		volatile uint64_t *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					    MAP_SHARED, fd,
					    (off_t)(off * PAGE));

		if (q == MAP_FAILED)
			return;
		if (is_canary(q, t))
			spoil(q, c);
		munmap((void *)q, PAGE);
	}
}

/* open() @path and, when it opens, try to map it and scan it. */
static void open_and_scan(const char *path, int flags,
			  const struct esc_target *t,
			  struct tg_guest_counters *c)
{
	int fd = open(path, flags);

	if (fd < 0) {
		c->attacks_refused++;
		return;
	}
	opened(c);
	scan_fd(fd, t, c);
	close(fd);
}

/* mremap() growing an own page: the next page of the file comes along. */
static void esc_mremap(struct tg_vcpu *v, const struct esc_target *t)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;
	volatile uint64_t *q;

	if (!p)
		return;
	c = trying(v);
	q = mremap((void *)p, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		c->attacks_refused++;
	} else {
		opened(c);
		if (is_canary(q + PAGE / 8, t))
			spoil(q + PAGE / 8, c);
	}
	done(c);
}

/* mmap() of every fd number: one of them might be machine memory. */
static void esc_mmap_of_every_fd(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		void *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);

		if (q == MAP_FAILED) {
			c->attacks_refused++;
			continue;
		}
		opened(c);
		munmap(q, PAGE);
		scan_fd(fd, t, c);
	}
	done(c);
}

/* /proc/self/map_files/<own page>: an fd of the machine memory file. */
static void esc_proc_self_map_files(struct tg_vcpu *v,
				    const struct esc_target *t)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;
	char path[96];

	if (!p)
		return;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)p, (unsigned long)p + PAGE);
	c = trying(v);
	open_and_scan(path, O_RDWR, t, c);
	done(c);
}

static void esc_proc_self_mem(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int fd = open("/proc/self/mem", O_RDWR);

	(void)t;
	outcome(c, fd);
	if (fd >= 0)
		close(fd);
	done(c);
}

static void proc_open(struct tg_vcpu *v, const struct esc_target *t,
		      int pid, const char *what)
{
	struct tg_guest_counters *c = trying(v);
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		c->attacks_refused++;
	} else {
		c->attacks_passed++; /* another process's memory or fds */
		scan_fd(fd, t, c);
		close(fd);
	}
	done(c);
}

static void esc_proc_hypervisor_mem(struct tg_vcpu *v,
				    const struct esc_target *t)
{
	proc_open(v, t, t->hyp_pid, "mem");
}

static void esc_proc_victim_mem(struct tg_vcpu *v, const struct esc_target *t)
{
	proc_open(v, t, t->victim_pid, "mem");
}

/* /proc/<hypervisor>/fd/<machine memory>: reopen the memfd itself. */
static void esc_proc_hypervisor_fd(struct tg_vcpu *v,
				   const struct esc_target *t)
{
	char what[32];

	snprintf(what, sizeof(what), "fd/%d", t->mem_fd);
	proc_open(v, t, t->hyp_pid, what);
}

/* A file in /dev/shm: a channel to another guest, or the RAM file. */
static void esc_dev_shm(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/teegate-escape-%d", t->hyp_pid);
	fd = open(path, O_RDWR | O_CREAT, 0666);
	if (fd < 0) {
		c->attacks_refused++;
	} else {
		opened(c);
		close(fd);
		unlink(path);
	}
	done(c);
}

/* The machine memory's backing file by its path (a file-backed machine). */
static void esc_backing_file(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	open_and_scan(t->backing, O_RDWR, t, c);
	done(c);
}

static void own_madvise(struct tg_vcpu *v, int advice)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;

	if (!p)
		return;
	c = trying(v);
	outcome(c, madvise((void *)p, PAGE, advice));
	done(c);
}

/* MADV_REMOVE punches the page out of the machine memory file. */
static void esc_madvise_remove(struct tg_vcpu *v, const struct esc_target *t)
{
	(void)t;
	own_madvise(v, MADV_REMOVE);
}

static void esc_madvise_hwpoison(struct tg_vcpu *v, const struct esc_target *t)
{
	(void)t;
	own_madvise(v, MADV_HWPOISON);
}

static void esc_process_madvise(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_process_madvise, 1, NULL, 0, MADV_COLD, 0));
	done(c);
}

static void esc_userfaultfd(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
	done(c);
}

/* io_uring: its operations (openat, read...) are not seen by seccomp. */
static void esc_io_uring(struct tg_vcpu *v, const struct esc_target *t)
{
	struct io_uring_params prm;
	struct tg_guest_counters *c = trying(v);

	(void)t;
	memset(&prm, 0, sizeof(prm));
	outcome(c, syscall(SYS_io_uring_setup, 8, &prm));
	done(c);
}

static void do_ptrace(struct tg_vcpu *v, int pid)
{
	struct tg_guest_counters *c = trying(v);

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_ptrace_hypervisor(struct tg_vcpu *v, const struct esc_target *t)
{
	do_ptrace(v, t->hyp_pid);
}

static void esc_ptrace_victim(struct tg_vcpu *v, const struct esc_target *t)
{
	do_ptrace(v, t->victim_pid);
}

/* The victim's view is likely at the address of ours (same parent). */
static void vm_rw(struct tg_vcpu *v, const struct esc_target *t, bool write)
{
	uint64_t buf[PAGE / 8];
	struct iovec local = { buf, PAGE }, remote;
	struct tg_guest_counters *c = trying(v);
	ssize_t n;

	remote.iov_base = tg_ipa_ptr(v, ESC_RAM_BASE);
	remote.iov_len = PAGE;
	memset(buf, 0, sizeof(buf));
	n = write ? syscall(SYS_process_vm_writev, t->victim_pid, &local, 1,
			    &remote, 1, 0)
		  : syscall(SYS_process_vm_readv, t->victim_pid, &local, 1,
			    &remote, 1, 0);
	if (n < 0)
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_process_vm_readv(struct tg_vcpu *v, const struct esc_target *t)
{
	vm_rw(v, t, false);
}

static void esc_process_vm_writev(struct tg_vcpu *v,
				  const struct esc_target *t)
{
	vm_rw(v, t, true);
}

static void esc_pidfd_open(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	outcome(c, syscall(SYS_pidfd_open, t->hyp_pid, 0));
	done(c);
}

/* pidfd_getfd() of the hypervisor's machine memory fd (pidfd guessed). */
static void esc_pidfd_getfd(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	long fd = syscall(SYS_pidfd_getfd, 3, t->mem_fd, 0);

	if (fd < 0) {
		c->attacks_refused++;
	} else {
		c->attacks_passed++;
		scan_fd((int)fd, t, c);
	}
	done(c);
}

static void esc_kcmp(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	outcome(c, syscall(SYS_kcmp, getpid(), t->hyp_pid, KCMP_FILE, 1,
			   t->mem_fd));
	done(c);
}

/* SysV shared memory: a segment another guest can attach too. */
static void esc_sysv_shm(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int id = shmget((key_t)(0x74650000 + (t->hyp_pid & 0xffff)), PAGE,
			IPC_CREAT | 0666);

	if (id < 0) {
		c->attacks_refused++;
	} else {
		void *p = shmat(id, NULL, 0);

		opened(c);
		if (p != (void *)-1)
			shmdt(p);
		shmctl(id, IPC_RMID, NULL);
	}
	done(c);
}

static void esc_sysv_msg_queue(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int id = msgget((key_t)(0x74660000 + (t->hyp_pid & 0xffff)),
			IPC_CREAT | 0666);

	outcome(c, id);
	if (id >= 0)
		msgctl(id, IPC_RMID, NULL);
	done(c);
}

/* A child process would keep every page it maps past a balloon. */
static void child_outcome(struct tg_guest_counters *c, long pid)
{
	if (pid == 0)
		_exit(0);
	outcome(c, pid);
}

static void esc_clone_without_clone_thread(struct tg_vcpu *v,
					   const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	child_outcome(c, syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL));
	done(c);
}

static void esc_fork(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	child_outcome(c, fork());
	done(c);
}

static void esc_vfork(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	pid_t pid;

	(void)t;
	pid = vfork();
	if (pid == 0)
		_exit(0);
	outcome(c, pid);
	done(c);
}

struct esc_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls;
};

static void esc_clone3(struct tg_vcpu *v, const struct esc_target *t)
{
	struct esc_clone_args ca = { .exit_signal = SIGCHLD };
	struct tg_guest_counters *c = trying(v);

	(void)t;
	child_outcome(c, syscall(SYS_clone3, &ca, sizeof(ca)));
	done(c);
}

/* A thread of this process, but in new namespaces (the kernel refuses
 * the combination too; the filter looks at the flags first). */
static void esc_clone_thread_with_namespace_flags(struct tg_vcpu *v,
						  const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	child_outcome(c, syscall(SYS_clone,
				 CLONE_VM | CLONE_FS | CLONE_FILES |
					 CLONE_SIGHAND | CLONE_THREAD |
					 CLONE_SYSVSEM | CLONE_NEWUSER,
				 NULL, NULL, NULL, NULL));
	done(c);
}

/* ---- signals ---------------------------------------------------------- */

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

/* Signal 0: permission probe only (the test runs next to others). */
static void probe_kill(struct tg_vcpu *v, int pid)
{
	struct tg_guest_counters *c = trying(v);

	outcome(c, kill(pid, 0));
	done(c);
}

static void esc_kill_hypervisor(struct tg_vcpu *v, const struct esc_target *t)
{
	probe_kill(v, t->hyp_pid);
}

static void esc_kill_mediator(struct tg_vcpu *v, const struct esc_target *t)
{
	probe_kill(v, t->mediator_pid ? t->mediator_pid : t->hyp_pid);
}

static void esc_kill_every_process(struct tg_vcpu *v,
				   const struct esc_target *t)
{
	(void)t;
	probe_kill(v, -1);
}

static void esc_tgkill_another_guest(struct tg_vcpu *v,
				     const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	if (syscall(SYS_tgkill, t->victim_pid, t->victim_pid, SIGKILL))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_rt_sigqueueinfo_another_guest(struct tg_vcpu *v,
					      const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_code = SI_QUEUE;
	if (syscall(SYS_rt_sigqueueinfo, t->victim_pid, SIGKILL, &si))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_rt_tgsigqueueinfo_another_guest(struct tg_vcpu *v,
						const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_code = SI_QUEUE;
	if (syscall(SYS_rt_tgsigqueueinfo, t->victim_pid, t->victim_pid,
		    SIGKILL, &si))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_pidfd_send_signal(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_pidfd_send_signal, 1, 0, NULL, 0));
	done(c);
}

/* ---- acting on another process without touching its memory ------------ */

static void esc_prlimit_another_guest(struct tg_vcpu *v,
				      const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	struct rlimit old;

	/* read only: a success shows the door is open */
	if (syscall(SYS_prlimit64, t->victim_pid, RLIMIT_AS, NULL, &old))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_sched_setaffinity_another_guest(struct tg_vcpu *v,
						const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) ||
	    sched_setaffinity(t->victim_pid, sizeof(set), &set))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_setpriority_another_guest(struct tg_vcpu *v,
					  const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	if (setpriority(PRIO_PROCESS, (id_t)t->victim_pid, 0))
		c->attacks_refused++;
	else
		c->attacks_passed++;
	done(c);
}

static void esc_move_pages_of_another_guest(struct tg_vcpu *v,
					    const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	void *pages[1] = { tg_ipa_ptr(v, ESC_RAM_BASE) };
	int status[1];

	if (syscall(SYS_move_pages, t->victim_pid, 1, pages, NULL, status, 0))
		c->attacks_refused++;
	else
		c->attacks_passed++; /* read only, but it saw them */
	done(c);
}

/* ---- files, fds, sockets ---------------------------------------------- */

static void esc_open_any_file(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int fd;

	(void)t;
	fd = open("/etc/passwd", O_RDONLY);
	outcome(c, fd);
	if (fd >= 0)
		close(fd);
	fd = openat(AT_FDCWD, "/proc/self/status", O_RDONLY);
	outcome(c, fd);
	if (fd >= 0)
		close(fd);
	done(c);
}

static void esc_openat2(struct tg_vcpu *v, const struct esc_target *t)
{
	struct { uint64_t flags, mode, resolve; } how = { O_RDONLY, 0, 0 };
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how,
			   sizeof(how)));
	done(c);
}

static void esc_name_to_handle_at(struct tg_vcpu *v,
				  const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char buf[sizeof(struct file_handle) + 128];
	struct file_handle *fh = (struct file_handle *)buf;
	int mount_id;

	(void)t;
	fh->handle_bytes = 128;
	outcome(c, name_to_handle_at(AT_FDCWD, "/dev/shm", fh, &mount_id, 0));
	done(c);
}

static void esc_open_by_handle_at(struct tg_vcpu *v,
				  const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char buf[sizeof(struct file_handle) + 8];
	struct file_handle *fh = (struct file_handle *)buf;

	(void)t;
	memset(buf, 0, sizeof(buf));
	fh->handle_bytes = 8;
	outcome(c, open_by_handle_at(1, fh, O_RDONLY));
	done(c);
}

static void esc_memfd_create(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, memfd_create("escape", 0));
	done(c);
}

/* A unix socket: the mediators' channels, abstract sockets. */
static void esc_socket(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)t;
	if (fd < 0) {
		c->attacks_refused++;
	} else {
		opened(c);
		memcpy(sa.sun_path, "\0teegate", 8);
		connect(fd, (struct sockaddr *)&sa,
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 8));
		close(fd);
	}
	done(c);
}

static void esc_socketpair(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	int sv[2];

	(void)t;
	outcome(c, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	done(c);
}

/* SCM_RIGHTS: first on the hand-over socket's fd (3, closed by then),
 * then on stdout. */
static void esc_sendmsg_scm_rights(struct tg_vcpu *v,
				   const struct esc_target *t)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct tg_guest_counters *c = trying(v);
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int fd = 2;

	(void)t;
	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	outcome(c, sendmsg(3, &msg, MSG_NOSIGNAL));
	outcome(c, sendmsg(1, &msg, MSG_NOSIGNAL));
	done(c);
}

static void esc_write_to_another_fd(struct tg_vcpu *v,
				    const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, write(0, "x", 1));
	done(c);
}

static void esc_dup(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, dup(2));
	done(c);
}

/* TIOCSTI: type into the hypervisor's terminal. */
static void esc_ioctl_tiocsti(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char ch = 'x';

	(void)t;
	outcome(c, ioctl(2, TIOCSTI, &ch));
	done(c);
}

static void esc_splice(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, splice(1, NULL, 2, NULL, 1, 0));
	done(c);
}

static void esc_vmsplice(struct tg_vcpu *v, const struct esc_target *t)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;
	struct iovec iov;

	(void)t;
	if (!p)
		return;
	iov.iov_base = (void *)p;
	iov.iov_len = PAGE;
	c = trying(v);
	outcome(c, vmsplice(1, &iov, 1, SPLICE_F_GIFT));
	done(c);
}

static void esc_tee(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, tee(1, 2, 1, 0));
	done(c);
}

/* ---- the process's own powers ----------------------------------------- */

static void esc_execve(struct tg_vcpu *v, const struct esc_target *t)
{
	char *const argv[] = { (char *)"/bin/true", NULL };
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, execve("/bin/true", argv, NULL));
	done(c);
}

static void esc_execveat(struct tg_vcpu *v, const struct esc_target *t)
{
	char *const argv[] = { (char *)"/bin/true", NULL };
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, NULL, 0));
	done(c);
}

static void esc_unshare(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, unshare(CLONE_NEWUSER));
	done(c);
}

static void esc_setns(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, setns(1, 0));
	done(c);
}

static void esc_mount(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, mount("none", "/tmp", "tmpfs", 0, NULL));
	done(c);
}

/* Dumpable again: other same-uid processes could then read us. */
static void esc_prctl(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	done(c);
}

static void esc_personality(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, personality(READ_IMPLIES_EXEC));
	done(c);
}

static void esc_modify_ldt(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char buf[16];

	(void)t;
	outcome(c, syscall(SYS_modify_ldt, 0, buf, sizeof(buf)));
	done(c);
}

static void esc_arch_prctl(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	unsigned long fs;

	(void)t;
	outcome(c, syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs));
	done(c);
}

static void esc_bpf(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	char attr[128];

	(void)t;
	memset(attr, 0, sizeof(attr));
	outcome(c, syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr,
			   sizeof(attr)));
	done(c);
}

static void esc_perf_event_open(struct tg_vcpu *v, const struct esc_target *t)
{
	struct perf_event_attr pe;
	struct tg_guest_counters *c = trying(v);

	(void)t;
	memset(&pe, 0, sizeof(pe));
	pe.size = sizeof(pe);
	pe.type = PERF_TYPE_SOFTWARE;
	pe.config = PERF_COUNT_SW_CPU_CLOCK;
	pe.exclude_kernel = 1;
	outcome(c, syscall(SYS_perf_event_open, &pe, t->hyp_pid, -1, -1, 0));
	done(c);
}

static void esc_keyctl(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */,
			   -3 /* session */, 0));
	done(c);
}

/* A second filter with a listener of its own could answer "go on". */
static void esc_seccomp(struct tg_vcpu *v, const struct esc_target *t)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K,
					    SECCOMP_RET_USER_NOTIF);
	struct sock_fprog prog = { 1, &allow };
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			   SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
	done(c);
}

static void own_protect(struct tg_vcpu *v, bool map)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;

	if (!p)
		return;
	c = trying(v);
	if (map) {
		void *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		outcome(c, q == MAP_FAILED ? -1 : 0);
	} else {
		outcome(c, mprotect((void *)p, PAGE,
				    PROT_READ | PROT_WRITE | PROT_EXEC));
	}
	done(c);
}

/*
 * A forked guest used to start as a copy of the hypervisor process: its
 * private memory (heap, other threads' stacks) a copy-on-write snapshot
 * of the hypervisor's, and what the hypervisor, the mediator or the TEE
 * model handled for other guests could still be in it. Scan ALL of the
 * attacker's readable memory, every mapping it has, for what the
 * hypervisor handled before this guest started:
 *  - the victim's canary, which the victim gave the TEE as a memref;
 *  - the machine addresses of the pages of the buffer the victim keeps
 *    registered (four words in a row, as the mediator's and the TEE
 *    model's records keep them), and that buffer's cookie;
 *  - a marker the test program wrote to its own heap after it created
 *    the machine.
 * Finding any of them is the breach. Two controls prove the scan sees
 * what is there: a canary and a row of words this guest puts in its own
 * heap must both be found.
 *
 * The mappings are found without /proc (open is refused): an anonymous
 * PROT_NONE mmap with MAP_FIXED_NOREPLACE over a range fails with EEXIST
 * when anything is mapped in it, so halving the ranges that are not free
 * finds every mapping. Each page found is read with faults caught.
 */
static sigjmp_buf probe_env;

static void probe_fault(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/* Reads memory the sanitizer never gave this program: not instrumented. */
#define ESC_RAW_READS __attribute__((no_sanitize_address))

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#if defined(__SANITIZE_ADDRESS__)
#define ESC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ESC_ASAN 1
#endif
#endif

struct scan {
	const struct esc_target *t;
	uint64_t k;
	uint64_t own_enc[ESC_REGD_PAGES]; /* the control row, times k */
	/* found */
	uint64_t victim, program, regd_pa, cookie, own_canary, own_row;
	/* covered */
	uint64_t pages, unreadable, probes, skipped_bytes;
};

/* A canary tagged @tag at @w, as far as this page goes (@n words). */
static ESC_RAW_READS int tagged_canary_at(const volatile uint64_t *w,
					  size_t n, uint64_t magic,
					  uint64_t tag)
{
	size_t i;

	if (n < 2 || w[0] != magic || w[1] != tag)
		return 0;
	for (i = 2; i < n && i < 64; i++)
		if (w[i] != (magic ^ tag ^ (i * 0x9e3779b97f4a7c15ull)))
			return 0;
	return 1;
}

/* ESC_REGD_PAGES words at @w, times k, equal to @enc (within the page). */
static ESC_RAW_READS int row_at(const volatile uint64_t *w, size_t n,
				uint64_t k, const uint64_t *enc)
{
	size_t i;

	if (n < ESC_REGD_PAGES)
		return 0;
	for (i = 0; i < ESC_REGD_PAGES; i++)
		if (w[i] * k != enc[i])
			return 0;
	return 1;
}

static ESC_RAW_READS void scan_page(struct scan *s, uintptr_t p)
{
	const volatile uint64_t *w = (const volatile uint64_t *)p;
	const struct esc_target *t = s->t;
	size_t i, n = PAGE / 8;

	if (sigsetjmp(probe_env, 1)) {
		s->unreadable++;
		return;
	}
	(void)w[0];
	s->pages++;
	for (i = 0; i < n; i++) {
		uint64_t v = w[i], vk = v * s->k;

		if (v == t->magic) {
			s->victim += tagged_canary_at(w + i, n - i, t->magic,
						      ESC_TAG_VICTIM);
			s->program += tagged_canary_at(w + i, n - i, t->magic,
						       ESC_TAG_PROGRAM);
			s->own_canary += tagged_canary_at(w + i, n - i,
							  t->magic,
							  ESC_TAG_SELF);
		}
		if (vk == t->enc_cookie)
			s->cookie++;
		if (vk == t->enc_regd_pa[0])
			s->regd_pa += row_at(w + i, n - i, s->k,
					     t->enc_regd_pa);
		if (vk == s->own_enc[0])
			s->own_row += row_at(w + i, n - i, s->k, s->own_enc);
	}
}

/* Is nothing at all mapped in [lo, hi)? */
static int range_free(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	void *p = mmap((void *)lo, hi - lo, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			       MAP_FIXED_NOREPLACE,
		       -1, 0);

	s->probes++;
	if (p == MAP_FAILED)
		return 0; /* EEXIST: something is there (or cannot say) */
	munmap(p, hi - lo);
	return p == (void *)lo;
}

#if defined(ESC_ASAN) && defined(__x86_64__)
/*
 * ASan's primary allocator (the heap, the hypervisor's included in a
 * forked guest) is a reservation of 4 TiB, PROT_NONE but where memory is
 * in use: one region per size class (64 GiB on x86_64), each used from
 * its start upwards. It is "not free" everywhere, so halving would probe
 * it all: read from every GiB boundary on, while pages read.
 */
static ESC_RAW_READS void scan_sparse(struct scan *s, uintptr_t lo,
				      uintptr_t hi)
{
	const uintptr_t step = 1ull << 30;
	uintptr_t p, q, end;

	/* the halving's ranges start anywhere: from the boundaries in it */
	p = (lo + step - 1) & ~(step - 1);
	s->skipped_bytes += (p < hi ? p : hi) - lo;
	for (; p < hi; p += step) {
		end = p + step < hi ? p + step : hi;
		for (q = p; q < end; q += PAGE) {
			uint64_t faults = s->unreadable;

			scan_page(s, q);
			if (s->unreadable != faults)
				break;
		}
		s->skipped_bytes += end - q;
	}
}
#endif

/* Sanitizer regions: the shadow (skipped) and the allocator (sparse). */
static int skipped_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
#if defined(ESC_ASAN) && defined(__x86_64__)
	static const uintptr_t shadow[2] = { 0x00007fff8000ull,
					     0x10007fff8000ull };
	static const uintptr_t allocator[2] = { 0x600000000000ull,
						0x640000000000ull };

	if (lo >= shadow[0] && hi <= shadow[1]) {
		s->skipped_bytes += hi - lo;
		return 1;
	}
	if (lo >= allocator[0] && hi <= allocator[1]) {
		scan_sparse(s, lo, hi);
		return 1;
	}
#else
	(void)s;
	(void)lo;
	(void)hi;
#endif
	return 0;
}

static void scan_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	uintptr_t mid, p;

	if (skipped_range(s, lo, hi) || range_free(s, lo, hi))
		return;
	if (hi - lo <= 16 * PAGE) {
		for (p = lo; p < hi; p += PAGE)
			scan_page(s, p);
		return;
	}
	mid = lo + (((hi - lo) / 2) & ~(uintptr_t)(PAGE - 1));
	scan_range(s, lo, mid);
	scan_range(s, mid, hi);
}

static void esc_inherited_memory(struct tg_vcpu *v, const struct esc_target *t)
{
	struct sigaction sa = { .sa_handler = probe_fault };
	struct tg_guest_counters *c = trying(v);
	uint64_t *own = malloc(2 * PAGE), found;
	struct scan s;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.k = t->enc_k;
	if (!own || !(s.k & 1)) {
		c->errors++;
		done(c);
		return;
	}
	/* the controls: a canary and a row of words in this guest's heap */
	esc_canary_fill(own, t->magic, ESC_TAG_SELF);
	for (i = 0; i < ESC_REGD_PAGES; i++) {
		own[PAGE / 8 + i] = (uint64_t)(uintptr_t)own * (i + 3) + i;
		s.own_enc[i] = own[PAGE / 8 + i] * s.k;
	}
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	scan_range(&s, 1ul << 16, (1ul << 47) - PAGE);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	printf("# inherited_memory: scanned %llu pages (%llu MiB) in %llu "
	       "probes, %llu unreadable, %llu MiB not read (sanitizer); found: "
	       "victim's memref canary %llu, program's heap marker %llu, "
	       "victim's registered pages' addresses %llu, its cookie %llu; "
	       "controls: own canary %llu, own row %llu\n",
	       (unsigned long long)s.pages,
	       (unsigned long long)(s.pages * PAGE >> 20),
	       (unsigned long long)s.probes, (unsigned long long)s.unreadable,
	       (unsigned long long)(s.skipped_bytes >> 20),
	       (unsigned long long)s.victim, (unsigned long long)s.program,
	       (unsigned long long)s.regd_pa, (unsigned long long)s.cookie,
	       (unsigned long long)s.own_canary, (unsigned long long)s.own_row);
	fflush(stdout);
	/* the scan must see this guest's own heap, or it proves nothing */
	if (!s.own_canary || !s.own_row)
		c->errors++;
	free(own);
	found = s.victim + s.program + s.regd_pa + s.cookie;
	if (found)
		c->attacks_passed += found;
	else
		c->attacks_refused++;
	done(c);
}

static void esc_mprotect_exec(struct tg_vcpu *v, const struct esc_target *t)
{
	(void)t;
	own_protect(v, false);
}

static void esc_mmap_exec(struct tg_vcpu *v, const struct esc_target *t)
{
	(void)t;
	own_protect(v, true);
}

/* FUTEX_CMP_REQUEUE_PI: not one of the four operations on the list. */
static void esc_futex_requeue_pi(struct tg_vcpu *v, const struct esc_target *t)
{
	static uint32_t a, b;
	struct tg_guest_counters *c = trying(v);

	(void)t;
	outcome(c, syscall(SYS_futex, &a, 12 /* FUTEX_CMP_REQUEUE_PI */, 1,
			   NULL, &b, 0));
	done(c);
}

/* ---- other ABIs ------------------------------------------------------- */

#if defined(__x86_64__)
/* remap_file_pages with the x32 bit set in the number */
static void esc_x32_abi(struct tg_vcpu *v, const struct esc_target *t)
{
	volatile uint64_t *p = own_page(v);
	struct tg_guest_counters *c;

	if (!p)
		return;
	c = trying(v);
	if (syscall(SYS_remap_file_pages | 0x40000000, (void *)p, PAGE, 0,
		    (size_t)(t->ram_pages / 2), 0))
		c->attacks_refused++;
	else
		opened(c);
	done(c);
}

/* The i386 system call entry: getpid (20) with int 0x80. */
static void esc_int80_i386(struct tg_vcpu *v, const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	long eax = 20;

	(void)t;
	__asm__ volatile("int $0x80" : "+a"(eax) : : "memory");
	outcome(c, eax);
	done(c);
}
#endif

/* A SIGSYS handler changes nothing: the refused call is not trapped in
 * the guest, the hypervisor is told. */
static void esc_sigsys_handler(struct tg_vcpu *v, const struct esc_target *t)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGSYS, &sa, NULL);
	esc_remap_file_pages(v, t);
}

/* ---- what a guest may still do ---------------------------------------- */

struct rt_check {
	volatile int ran;
};

static void second_vcpu(struct tg_vcpu *v, void *arg)
{
	struct rt_check *k = arg;
	struct timespec ts = { 0, 1000000 };

	(void)v;
	nanosleep(&ts, NULL);
	k->ran = 1;
}

/*
 * The runtime and the C library keep working under the list: vCPU
 * threads, guest pages and a balloon, malloc/realloc/free of large
 * blocks (realloc copies when mremap is refused), anonymous mappings,
 * time, sleeps, notification waits, stdout and stderr, raise().
 */
static void esc_runtime_still_works(struct tg_vcpu *v,
				    const struct esc_target *t)
{
	struct tg_guest_counters *c = trying(v);
	struct rt_check k = { 0 };
	struct timespec ts;
	uint64_t ipa;
	uint8_t *big;
	void *q;
	int idx;

	(void)t;
	idx = tg_vcpu_spawn(v, second_vcpu, &k);
	c->verified += idx > 0 && !tg_vcpu_join(v, idx) && k.ran;
	big = malloc(4u << 20);
	if (big) {
		memset(big, 0x5a, 4u << 20);
		big = realloc(big, 16u << 20);
		c->verified += big && big[(4u << 20) - 1] == 0x5a;
		free(big);
	}
	q = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c->verified += q != MAP_FAILED && !mprotect(q, PAGE, PROT_READ) &&
		       !madvise(q, 1u << 20, MADV_DONTNEED) &&
		       !munmap(q, 1u << 20);
	c->verified += !tg_alloc_pages(v, 2, &ipa) && tg_ipa_ptr(v, ipa) &&
		       !tg_balloon_out(v, ipa, 1);
	c->verified += !clock_gettime(CLOCK_MONOTONIC, &ts) &&
		       tg_notif_wait(v, 5) == 0;
	c->verified += printf("# escape guest: stdout works\n") > 0 &&
		       fflush(stdout) == 0 &&
		       fprintf(stderr, "# escape guest: stderr works\n") > 0;
	signal(SIGUSR1, SIG_IGN);
	c->verified += raise(SIGUSR1) == 0;
	done(c);
}

/* abort(): the guest's own death, not the filter's. */
static void esc_abort(struct tg_vcpu *v, const struct esc_target *t)
{
	(void)t;
	trying(v);
	abort();
}

const struct esc_technique esc_techniques[] = {
	{ "remap_file_pages", esc_remap_file_pages },
	{ "mremap", esc_mremap },
	{ "mmap_of_every_fd", esc_mmap_of_every_fd },
	{ "proc_self_map_files", esc_proc_self_map_files },
	{ "proc_self_mem", esc_proc_self_mem },
	{ "proc_hypervisor_mem", esc_proc_hypervisor_mem },
	{ "proc_victim_mem", esc_proc_victim_mem },
	{ "proc_hypervisor_fd", esc_proc_hypervisor_fd },
	{ "dev_shm", esc_dev_shm },
	{ "backing_file", esc_backing_file },
	{ "madvise_remove", esc_madvise_remove },
	{ "madvise_hwpoison", esc_madvise_hwpoison },
	{ "process_madvise", esc_process_madvise },
	{ "userfaultfd", esc_userfaultfd },
	{ "io_uring", esc_io_uring },
	{ "ptrace_hypervisor", esc_ptrace_hypervisor },
	{ "ptrace_victim", esc_ptrace_victim },
	{ "process_vm_readv", esc_process_vm_readv },
	{ "process_vm_writev", esc_process_vm_writev },
	{ "pidfd_open", esc_pidfd_open },
	{ "pidfd_getfd", esc_pidfd_getfd },
	{ "kcmp", esc_kcmp },
	{ "sysv_shm", esc_sysv_shm },
	{ "sysv_msg_queue", esc_sysv_msg_queue },
	{ "clone_without_clone_thread", esc_clone_without_clone_thread },
	{ "clone_thread_with_namespace_flags",
	  esc_clone_thread_with_namespace_flags },
	{ "fork", esc_fork },
	{ "vfork", esc_vfork },
	{ "clone3", esc_clone3 },
	{ "kill_another_guest", esc_kill_another_guest },
	{ "kill_hypervisor", esc_kill_hypervisor },
	{ "kill_mediator", esc_kill_mediator },
	{ "kill_every_process", esc_kill_every_process },
	{ "tgkill_another_guest", esc_tgkill_another_guest },
	{ "rt_sigqueueinfo_another_guest", esc_rt_sigqueueinfo_another_guest },
	{ "rt_tgsigqueueinfo_another_guest",
	  esc_rt_tgsigqueueinfo_another_guest },
	{ "pidfd_send_signal", esc_pidfd_send_signal },
	{ "prlimit_another_guest", esc_prlimit_another_guest },
	{ "sched_setaffinity_another_guest",
	  esc_sched_setaffinity_another_guest },
	{ "setpriority_another_guest", esc_setpriority_another_guest },
	{ "move_pages_of_another_guest", esc_move_pages_of_another_guest },
	{ "open_any_file", esc_open_any_file },
	{ "openat2", esc_openat2 },
	{ "name_to_handle_at", esc_name_to_handle_at },
	{ "open_by_handle_at", esc_open_by_handle_at },
	{ "memfd_create", esc_memfd_create },
	{ "socket", esc_socket },
	{ "socketpair", esc_socketpair },
	{ "sendmsg_scm_rights", esc_sendmsg_scm_rights },
	{ "write_to_another_fd", esc_write_to_another_fd },
	{ "dup", esc_dup },
	{ "ioctl_tiocsti", esc_ioctl_tiocsti },
	{ "splice", esc_splice },
	{ "vmsplice", esc_vmsplice },
	{ "tee", esc_tee },
	{ "execve", esc_execve },
	{ "execveat", esc_execveat },
	{ "unshare", esc_unshare },
	{ "setns", esc_setns },
	{ "mount", esc_mount },
	{ "prctl", esc_prctl },
	{ "personality", esc_personality },
	{ "modify_ldt", esc_modify_ldt },
	{ "arch_prctl", esc_arch_prctl },
	{ "bpf", esc_bpf },
	{ "perf_event_open", esc_perf_event_open },
	{ "keyctl", esc_keyctl },
	{ "seccomp", esc_seccomp },
	{ "mprotect_exec", esc_mprotect_exec },
	{ "mmap_exec", esc_mmap_exec },
	{ "inherited_memory", esc_inherited_memory },
	{ "futex_requeue_pi", esc_futex_requeue_pi },
#if defined(__x86_64__)
	{ "x32_abi", esc_x32_abi },
	{ "int80_i386", esc_int80_i386 },
#endif
	{ "sigsys_handler", esc_sigsys_handler },
	{ "runtime_still_works", esc_runtime_still_works },
	{ "abort", esc_abort },
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

void esc_target_to_argv(const struct esc_target *t, char buf[ESC_ARGC][160])
{
	snprintf(buf[0], 160, "%llu", (unsigned long long)t->magic);
	snprintf(buf[1], 160, "%llu", (unsigned long long)t->ram_pages);
	snprintf(buf[2], 160, "%d", t->hyp_pid);
	snprintf(buf[3], 160, "%d", t->victim_pid);
	snprintf(buf[4], 160, "%d", t->mediator_pid);
	snprintf(buf[5], 160, "%d", t->mem_fd);
	snprintf(buf[6], 160, "%s", t->backing);
	_Static_assert(ESC_REGD_PAGES == 4, "the needles' argv format");
	snprintf(buf[7], 160, "%llx,%llx,%llx,%llx,%llx,%llx",
		 (unsigned long long)t->enc_k,
		 (unsigned long long)t->enc_regd_pa[0],
		 (unsigned long long)t->enc_regd_pa[1],
		 (unsigned long long)t->enc_regd_pa[2],
		 (unsigned long long)t->enc_regd_pa[3],
		 (unsigned long long)t->enc_cookie);
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
	if (sscanf(argv[7], "%llx,%llx,%llx,%llx,%llx,%llx",
		   (unsigned long long *)&t->enc_k,
		   (unsigned long long *)&t->enc_regd_pa[0],
		   (unsigned long long *)&t->enc_regd_pa[1],
		   (unsigned long long *)&t->enc_regd_pa[2],
		   (unsigned long long *)&t->enc_regd_pa[3],
		   (unsigned long long *)&t->enc_cookie) != 6)
		return -1;
	return 0;
}
