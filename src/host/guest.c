// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest life cycle on the hypervisor side: pages and p2m, mediator domain,
 * shared trap pages, handler threads, the guest process (forked or
 * exec'd) or its threads, and the teardown that gives everything back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <teegate/optee_abi.h>

#include "internal.h"

static size_t shared_len(const struct tg_guest *g)
{
	return (size_t)TG_SHARED_PAGES(g->nvcpus) * TG_PAGE_SIZE;
}

static size_t p2m_len(const struct tg_guest *g)
{
	return (size_t)g->npages * sizeof(uint64_t);
}

/* Direct mode: the platform announces guests to the TEE itself. */
static int direct_vm_call(struct tg_machine *m, uint32_t fid, uint32_t cid)
{
	uint64_t regs[8] = { fid, cid };

	m->backend_smc(m->backend_ctx, regs);
	return regs[0] == OPTEE_SMC_RETURN_OK ? TG_OK : TG_EPROTO;
}

/* Caller holds m->lock. An id with quarantined pages is not reused: the
 * oracle would count those pages as the new guest's. */
static bool client_id_free(struct tg_machine *m, uint32_t cid)
{
	uint32_t i;

	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] && m->guests[i]->client_id == cid &&
		    m->guests[i]->state != TG_GUEST_DESTROYED)
			return false;
	return !atomic_load(&m->by_client[cid]) &&
	       !tg_pages_client_has_leftovers(m, cid);
}

/* Give back the pages of a torn-down guest; pinned ones are quarantined. */
static void release_pages(struct tg_guest *g)
{
	struct tg_machine *m = g->m;
	uint32_t i;

	if (!g->p2m)
		return;
	pthread_rwlock_wrlock(&g->p2m_lock);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < g->npages; i++) {
		uint64_t pa = atomic_exchange(&g->p2m[i], 0);

		if (pa)
			tg_pages_release_locked(m, tg_pa_to_pfn(m, pa));
	}
	pthread_mutex_unlock(&m->lock);
	pthread_rwlock_unlock(&g->p2m_lock);
}

static void guest_free(struct tg_guest *g)
{
	struct tg_machine *m = g->m;
	uint32_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] == g)
			m->guests[i] = NULL;
	pthread_mutex_unlock(&m->lock);
	if (g->thread_view) {
		munmap(g->thread_view,
		       ((size_t)g->npages + 256u) * TG_PAGE_SIZE);
		atomic_fetch_sub(&m->thread_view_pages,
				 g->thread_view_pages);
	}
	if (g->rt) {
		free(g->rt->page_state);
		free(g->rt);
	}
	if (g->shared)
		munmap(g->shared, shared_len(g));
	if (g->shared_fd >= 0)
		close(g->shared_fd);
	tg_watch_stop(g);
	if (g->p2m)
		munmap((void *)g->p2m, p2m_len(g));
	pthread_rwlock_destroy(&g->p2m_lock);
	free(g);
}

/*
 * Everything but the guest's execution: id, pages, p2m, shared pages,
 * mediator domain, handlers. On failure nothing is left behind.
 */
static int guest_create(struct tg_machine *m, const struct tg_guest_config *cfg,
			struct tg_guest **out)
{
	struct tg_guest_config def = { 0 };
	struct tg_guest *g;
	uint32_t slot, cid, v;
	int ret;

	if (!cfg)
		cfg = &def;
	g = calloc(1, sizeof(*g));
	if (!g)
		return TG_ENOMEM;
	g->m = m;
	g->shared_fd = -1;
	g->watch.sock = g->watch.listener = g->watch.stop = -1;
	g->watch.pidfd = -1;
	atomic_store(&g->watch.killed_nr, -1);
	g->mode = cfg->mode;
	g->nvcpus = cfg->vcpus ? cfg->vcpus : TG_HOST_DEFAULT_VCPUS;
	g->npages = cfg->ram_pages ? cfg->ram_pages
				   : TG_HOST_DEFAULT_GUEST_PAGES;
	g->no_lockdown = cfg->no_lockdown;
	for (v = 0; v < TG_HOST_MAX_VCPUS; v++) { /* not placed */
		atomic_init(&g->vcpu_cpu[v], -1);
		atomic_init(&g->handler_cpu[v], -1);
	}
	pthread_rwlock_init(&g->p2m_lock, NULL);
	if (g->mode != TG_GUEST_PROCESS && g->mode != TG_GUEST_THREAD) {
		free(g);
		return TG_EINVAL;
	}
	/* A process guest's vCPU cannot run the hypervisor's code. */
	if (m->cfg.trap_on_vcpu && g->mode != TG_GUEST_THREAD) {
		tg_host_log(m, TG_LOG_ERROR,
			    "guest start refused: trap_on_vcpu needs thread-mode guests (TG_GUEST_THREAD)");
		free(g);
		return TG_EINVAL;
	}
	if (g->nvcpus > TG_HOST_MAX_VCPUS ||
	    (g->mode == TG_GUEST_PROCESS &&
	     g->npages > TG_HOST_MAX_PROCESS_PAGES) ||
	    g->npages > (1u << 20) || cfg->client_id > 0xFFFFu) {
		free(g);
		return cfg->client_id > 0xFFFFu ? TG_EINVAL : TG_ELIMIT;
	}

	/* Reserve a slot and a client id. */
	pthread_mutex_lock(&m->lock);
	for (slot = 0; slot < TG_HOST_MAX_GUESTS && m->guests[slot]; slot++)
		;
	if (slot == TG_HOST_MAX_GUESTS) {
		pthread_mutex_unlock(&m->lock);
		free(g);
		return TG_ELIMIT;
	}
	if (cfg->client_id) {
		cid = cfg->client_id;
		if (!client_id_free(m, cid)) {
			pthread_mutex_unlock(&m->lock);
			free(g);
			return TG_EEXIST;
		}
	} else {
		for (cid = 1; cid <= 0xFFFFu && !client_id_free(m, cid); cid++)
			;
		if (cid > 0xFFFFu) {
			pthread_mutex_unlock(&m->lock);
			free(g);
			return TG_ELIMIT;
		}
	}
	g->client_id = cid;
	m->guests[slot] = g;
	/* Claim the id now so that a concurrent start cannot take it; the
	 * port ignores the guest until its pages exist (p2m empty). */
	pthread_mutex_unlock(&m->lock);
	snprintf(g->name, sizeof(g->name), "%s",
		 cfg->name ? cfg->name : "guest");

	g->p2m = mmap(NULL, p2m_len(g), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->p2m == MAP_FAILED) {
		g->p2m = NULL;
		ret = TG_ENOMEM;
		goto fail;
	}
	madvise((void *)g->p2m, p2m_len(g), MADV_WIPEONFORK);
	ret = tg_pages_alloc_scattered(m, cid, g->npages,
				       TG_HOST_GUEST_IPA_BASE, g->p2m);
	if (ret)
		goto fail_nopages;

	g->shared_fd = memfd_create("teegate-guest", MFD_CLOEXEC);
	if (g->shared_fd < 0 ||
	    ftruncate(g->shared_fd, (off_t)shared_len(g)) < 0) {
		ret = TG_ENOMEM;
		goto fail;
	}
	g->shared = mmap(NULL, shared_len(g), PROT_READ | PROT_WRITE,
			 MAP_SHARED, g->shared_fd, 0);
	if (g->shared == MAP_FAILED) {
		g->shared = NULL;
		ret = TG_ENOMEM;
		goto fail;
	}
	g->counters = (const struct tg_guest_counters *)g->shared;
	g->ctl = (struct tg_guest_ctl *)((uint8_t *)g->shared +
					 TG_SHARED_CTL_PAGE * TG_PAGE_SIZE);

	atomic_store(&m->by_client[cid], g);
	if (m->med) {
		tg_host_serving = cid;
		ret = tg_domain_create(m->med, cid, cfg->limits);
		tg_host_serving = 0;
	}
	else if (m->iso)
		ret = tg_iso_domain_create(m, cid, cfg->limits);
	else
		ret = direct_vm_call(m, OPTEE_SMC_VM_CREATED, cid);
	if (ret) {
		atomic_store(&m->by_client[cid], NULL);
		goto fail;
	}
	g->has_domain = true;
	*out = g;
	return TG_OK;

fail:
	release_pages(g);
fail_nopages:
	guest_free(g);
	tg_host_log(m, TG_LOG_WARN, "guest start failed: %s", tg_strerror(ret));
	return ret;
}

/* The boot information; forked guests: their argument's bytes after it. */
static struct tg_boot_info *boot_info_build(struct tg_guest *g, const void *arg,
					    size_t arg_size, size_t *len)
{
	struct tg_boot_info *b;
	uint32_t i;

	*len = sizeof(*b) + (size_t)g->npages * sizeof(uint64_t) + arg_size;
	b = calloc(1, *len);
	if (!b)
		return NULL;
	b->magic = TG_BOOT_MAGIC;
	static _Atomic uint64_t instances;

	b->client_id = g->client_id;
	b->instance = atomic_fetch_add(&instances, 1) + 1;
	b->nvcpus = g->nvcpus;
	b->npages = g->npages;
	b->spin_ns = g->m->spin_ns;
	b->ram_base = g->m->ram_base;
	b->ipa_base = TG_HOST_GUEST_IPA_BASE;
	b->lockdown = !g->no_lockdown;
	b->arg_size = (uint32_t)arg_size;
	for (i = 0; i < g->npages; i++)
		b->pa[i] = atomic_load(&g->p2m[i]);
	if (arg_size)
		memcpy(&b->pa[g->npages], arg, arg_size);
	return b;
}

/* A guest starts with default signal dispositions and nothing blocked:
 * the caller's handlers (a test framework's, say) are not the guest's. */
static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/**
 * tg_guest_keep_output_fds() - the fds a forked guest process keeps:
 * stdout, stderr and, until its lockdown hands the filter's listener over,
 * @handoff (moved to fd 3). Returns the hand-over fd, -1 (none), or -2
 * (failed: the guest must not run).
 */
int tg_guest_keep_output_fds(int handoff)
{
	/* The hypervisor's stdin (or, without one, whatever fd of the
	 * hypervisor took number 0) is not the guest's: /dev/null until
	 * tg_lockdown() has handed the listener over (libseccomp needs the
	 * listener above fd 0), then closed. */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || (null != 0 && dup2(null, 0) != 0))
		return -2;
	if (null != 0)
		close(null);
	if (handoff < 0) {
		close(0);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		return -1;
	}
	if (handoff != 3 && dup2(handoff, 3) != 3)
		return -2;
	syscall(SYS_close_range, 4u, ~0u, 0u);
	return 3;
}

static int start_thread_mode(struct tg_guest *g,
			     void (*fn)(struct tg_vcpu *, void *), void *arg)
{
	struct tg_boot_info *boot;
	size_t len;
	int ret;

	g->thread_view = mmap(NULL, ((size_t)g->npages + 256u) * TG_PAGE_SIZE,
			      PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			      0);
	if (g->thread_view == MAP_FAILED) {
		g->thread_view = NULL;
		return TG_ENOMEM;
	}
	boot = boot_info_build(g, NULL, 0, &len);
	g->rt = malloc(sizeof(*g->rt));
	if (!boot || !g->rt || tg_rt_init(g->rt, boot, g->shared)) {
		free(boot);
		return TG_ENOMEM;
	}
	free(boot);
	g->rt->thread_mode = true;
	g->rt->hyp = g;
	ret = tg_rt_thread_start(g->rt, fn, arg);
	return ret;
}

static void guest_abort(struct tg_guest *g)
{
	g->state = TG_GUEST_EXITED;
	tg_guest_wait(g, NULL);
	tg_guest_release(g);
}

/*
 * The guest process exists: record its pid, then start its handlers. A
 * guest that traps first just waits in its slot (a handler starts from the
 * last answered sequence, so it sees that request). Starting them after
 * the guest exists also keeps starting threads out of an exec guest's
 * fork().
 */
static int start_handlers_after_fork(struct tg_guest *g, pid_t pid,
				     struct tg_guest **out)
{
	int ret;

	g->pid = pid;
	/* The counters page is the guest's to write: read-only here (after
	 * an exec guest's fork(), whose copy of the mapping stays writable). */
	mprotect(g->shared, TG_PAGE_SIZE, PROT_READ);
	ret = g->watch.sock >= 0 ? tg_watch_start(g) : TG_OK;
	if (!ret)
		ret = tg_handlers_start(g);
	if (ret) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		g->pid = 0;
		guest_abort(g);
		return ret;
	}
	*out = g;
	return TG_OK;
}

static int fd_with_contents(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A process guest is cloned by the machine's zygote (zygote.c), forked
 * before the machine learnt anything: the guest gets its boot information
 * and its argument's bytes in a memfd, and nothing else of this process.
 */
static int start_process_mode(struct tg_guest *g,
			      void (*fn)(struct tg_vcpu *, void *),
			      const void *arg, size_t arg_size,
			      struct tg_guest **out)
{
	struct tg_boot_info *boot;
	int ret, boot_fd, handoff = -1;
	pid_t pid = 0;
	size_t len;

	boot = boot_info_build(g, arg, arg_size, &len);
	boot_fd = boot ? fd_with_contents("teegate-boot", boot, len) : -1;
	free(boot);
	ret = boot_fd < 0      ? TG_ENOMEM
	      : g->no_lockdown ? TG_OK
			       : tg_watch_prepare(g, &handoff);
	if (!ret)
		ret = tg_zygote_spawn(g->m, fn, boot_fd, g->shared_fd, handoff,
				      &pid);
	if (boot_fd >= 0)
		close(boot_fd);
	if (handoff >= 0)
		close(handoff);
	if (ret) {
		guest_abort(g);
		return ret;
	}
	return start_handlers_after_fork(g, pid, out);
}

int tg_guest_start(struct tg_machine *m, const struct tg_guest_config *cfg,
		   void (*fn)(struct tg_vcpu *vcpu0, void *arg), void *arg,
		   struct tg_guest **out)
{
	size_t arg_size = cfg ? cfg->arg_size : 0;
	struct tg_guest *g;
	int ret;

	if (!m || !fn || !out)
		return TG_EINVAL;
	/* a process guest has none of our memory: its argument is a copy */
	if ((!cfg || cfg->mode == TG_GUEST_PROCESS) &&
	    (!arg != !arg_size || arg_size > TG_HOST_MAX_GUEST_ARG)) {
		if (arg_size > TG_HOST_MAX_GUEST_ARG)
			tg_host_log(
				m, TG_LOG_ERROR,
				"guest start refused: tg_guest_config.arg_size is %zu, over the %u bytes a process guest's argument may have: pass less (bulk data belongs in guest memory)",
				arg_size, TG_HOST_MAX_GUEST_ARG);
		else
			tg_host_log(
				m, TG_LOG_ERROR,
				"guest start refused: arg is %s but tg_guest_config.arg_size is %zu: a process guest gets a copy of arg_size bytes at arg, so set both (arg_size = the argument's size) or neither",
				arg ? "set" : "NULL", arg_size);
		return TG_EINVAL;
	}
	ret = guest_create(m, cfg, &g);
	if (ret)
		return ret;
	if (g->mode == TG_GUEST_PROCESS)
		return start_process_mode(g, fn, arg, arg_size, out);
	/* trap_on_vcpu: the vCPU threads handle their own traps */
	ret = m->cfg.trap_on_vcpu ? TG_OK : tg_handlers_start(g);
	if (!ret)
		ret = start_thread_mode(g, fn, arg);
	if (ret) {
		guest_abort(g);
		return ret;
	}
	*out = g;
	return TG_OK;
}

/* The caller's environment plus the boot fds, built before fork(): the
 * child only calls async-signal-safe functions until execve(). */
static char **exec_env(bool lockdown)
{
	static char boot_var[] = "TEEGATE_GUEST_BOOT=3,4,5,6";
	static char boot_var_open[] = "TEEGATE_GUEST_BOOT=3,4,5,-1";
	extern char **environ;
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "TEEGATE_GUEST_BOOT=", 19))
			env[k++] = environ[i];
	env[k++] = lockdown ? boot_var : boot_var_open;
	env[k] = NULL;
	return env;
}

int tg_guest_start_exec(struct tg_machine *m,
			const struct tg_guest_config *cfg, const char *path,
			char *const argv[], struct tg_guest **out)
{
	char *const def_argv[] = { (char *)path, NULL };
	struct tg_guest_config c = { 0 };
	struct tg_boot_info *boot;
	struct tg_guest *g;
	pid_t parent = getpid(), pid;
	size_t len;
	char **envp;
	int boot_fd, ret, handoff = -1;

	if (!m || !path || !out)
		return TG_EINVAL;
	if (cfg)
		c = *cfg;
	c.mode = TG_GUEST_PROCESS;
	ret = guest_create(m, &c, &g);
	if (ret)
		return ret;
	boot = boot_info_build(g, NULL, 0, &len);
	boot_fd = boot ? fd_with_contents("teegate-boot", boot, len) : -1;
	free(boot);
	ret = boot_fd < 0 ? TG_ENOMEM
	      : g->no_lockdown ? TG_OK : tg_watch_prepare(g, &handoff);
	if (ret) {
		if (boot_fd >= 0)
			close(boot_fd);
		guest_abort(g);
		return ret;
	}
	envp = exec_env(handoff >= 0);
	if (!envp) {
		close(boot_fd);
		if (handoff >= 0)
			close(handoff);
		guest_abort(g);
		return TG_ENOMEM;
	}
	fflush(NULL);
	tg_fork_gate_close(&m->fork_gate);
	pid = fork();
	if (pid == 0) {
		int hi[4], i, n = handoff >= 0 ? 4 : 3;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		sched_setaffinity(0, sizeof(m->home), &m->home);
		reset_signals();
		hi[0] = fcntl(m->mem.fd, F_DUPFD_CLOEXEC, 100);
		hi[1] = fcntl(boot_fd, F_DUPFD_CLOEXEC, 100);
		hi[2] = fcntl(g->shared_fd, F_DUPFD_CLOEXEC, 100);
		hi[3] = handoff >= 0 ? fcntl(handoff, F_DUPFD_CLOEXEC, 100)
				     : -1;
		for (i = 0; i < n; i++)
			if (hi[i] < 0 || dup2(hi[i], 3 + i) != 3 + i)
				_exit(125);
		syscall(SYS_close_range, (unsigned int)(3 + n), ~0u, 0u);
		execve(path, argv ? argv : def_argv, envp);
		_exit(127);
	}
	tg_fork_gate_open(&m->fork_gate);
	free(envp);
	close(boot_fd);
	if (handoff >= 0)
		close(handoff);
	if (pid < 0) {
		guest_abort(g);
		return TG_ENOMEM;
	}
	return start_handlers_after_fork(g, pid, out);
}

int tg_guest_kill(struct tg_guest *g)
{
	if (!g)
		return TG_EINVAL;
	if (g->state != TG_GUEST_RUNNING)
		return TG_OK;
	if (g->mode == TG_GUEST_PROCESS) {
		if (g->pid > 0)
			kill(g->pid, SIGKILL);
		return TG_OK;
	}
	atomic_store(&g->ctl->killed, 1);
	tg_futex_wake(&g->ctl->notif_pending, 1 << 30);
	return TG_OK;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for the guest's execution to end; TG_AGAIN on timeout. */
static int wait_exec(struct tg_guest *g, int timeout_ms)
{
	int waited = 0, st;
	pid_t r;

	if (g->mode == TG_GUEST_PROCESS) {
		for (;;) {
			r = waitpid(g->pid, &st,
				    timeout_ms < 0 ? 0 : WNOHANG);
			if (r == g->pid) {
				g->wstatus = st;
				return TG_OK;
			}
			if (r < 0 && errno != EINTR) {
				g->wstatus = 0;
				return TG_OK; /* reaped elsewhere */
			}
			if (timeout_ms >= 0 && waited >= timeout_ms)
				return TG_AGAIN;
			if (r == 0) {
				sleep_ms(2);
				waited += 2;
			}
		}
	}
	while (g->rt && !tg_rt_vcpu0_done(g->rt) &&
	       !atomic_load(&g->ctl->killed)) {
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return TG_AGAIN;
		sleep_ms(2);
		waited += 2;
	}
	if (g->rt)
		tg_rt_thread_join_all(g->rt);
	g->wstatus = 0;
	return TG_OK;
}

int tg_guest_wait_timeout(struct tg_guest *g, int timeout_ms, int *wstatus)
{
	struct tg_machine *m;
	uint32_t steps = 0;
	int ret = TG_OK;

	if (!g)
		return TG_EINVAL;
	m = g->m;
	if (g->state == TG_GUEST_RUNNING) {
		ret = wait_exec(g, timeout_ms);
		if (ret)
			return ret;
		g->state = TG_GUEST_EXITED;
	} else if (g->state == TG_GUEST_EXITED && g->pid > 0 &&
		   g->wstatus == 0) {
		/* aborted start: the child may exist */
		kill(g->pid, SIGKILL);
		waitpid(g->pid, &g->wstatus, 0);
	}
	if (g->state == TG_GUEST_EXITED) {
		tg_handlers_stop(g);
		tg_watch_stop(g);
		if (g->has_domain && tg_has_mediator(m)) {
			uint64_t t0 = tg_now_ns();
			int r;

			/*
			 * Each step makes progress (one SMC of a call that
			 * the TEE is finishing, or a slice of unpins), but a
			 * TA may take millions of rounds: step until done or
			 * until the caller's timeout, and resume from there
			 * on the next call (the domain and the pages stay).
			 */
			tg_host_serving = g->client_id;
			while ((r = m->med ? tg_domain_destroy(m->med,
							      g->client_id)
					   : tg_iso_domain_destroy(
						     m, g->client_id)) ==
				       TG_AGAIN) {
				if (++steps & 1023)
					continue;
				/* e.g. waiting for a vCPU to leave the
				 * mediator: let it run */
				sched_yield();
				if (timeout_ms >= 0 &&
				    tg_now_ns() - t0 >=
					    (uint64_t)timeout_ms * 1000000ull) {
					tg_host_serving = 0;
					return TG_AGAIN;
				}
			}
			tg_host_serving = 0;
			if (r != TG_OK && r != TG_ENOENT) {
				tg_host_log(m, TG_LOG_ERROR,
					    "client %u: domain destroy: %s",
					    g->client_id, tg_strerror(r));
				ret = TG_EBUSY;
			}
		} else if (g->has_domain) {
			direct_vm_call(m, OPTEE_SMC_VM_DESTROYED,
				       g->client_id);
		}
		g->has_domain = false;
		atomic_store(&m->by_client[g->client_id], NULL);
		release_pages(g);
		g->state = TG_GUEST_DESTROYED;
	}
	if (wstatus)
		*wstatus = g->wstatus;
	return ret;
}

int tg_guest_wait(struct tg_guest *g, int *wstatus)
{
	return tg_guest_wait_timeout(g, -1, wstatus);
}

void tg_guest_release(struct tg_guest *g)
{
	if (!g)
		return;
	if (g->state != TG_GUEST_DESTROYED) {
		tg_guest_kill(g);
		tg_guest_wait(g, NULL);
	}
	guest_free(g);
}

uint32_t tg_guest_client_id(const struct tg_guest *g)
{
	return g->client_id;
}

pid_t tg_guest_pid(const struct tg_guest *g)
{
	return g->pid;
}

uint64_t tg_guest_ipa_to_pa(struct tg_guest *g, uint64_t guest_ipa)
{
	uint64_t idx, pa;

	if (guest_ipa < TG_HOST_GUEST_IPA_BASE)
		return 0;
	idx = (guest_ipa - TG_HOST_GUEST_IPA_BASE) >> TG_PAGE_SHIFT;
	if (idx >= g->npages || !g->p2m)
		return 0;
	pa = atomic_load(&g->p2m[idx]);
	return pa ? pa + (guest_ipa & TG_PAGE_MASK) : 0;
}

/*
 * The counters page is written by the guest at any time (atomically, if it
 * cares): copy it word by word with relaxed atomic loads. The values are
 * untrusted and only ever displayed.
 */
static void copy_guest_counters(struct tg_guest_counters *dst,
				const struct tg_guest_counters *guest_src)
{
	typedef uint64_t __attribute__((may_alias)) word_t;
	const word_t *s = (const word_t *)guest_src;
	word_t *d = (word_t *)dst;
	size_t i;

	_Static_assert(sizeof(*dst) % sizeof(word_t) == 0,
		       "counters page copied in 64-bit words");
	for (i = 0; i < sizeof(*dst) / sizeof(word_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

int tg_guest_poll(struct tg_guest *g, enum tg_guest_state *state,
		  struct tg_guest_counters *out)
{
	if (!g || !state || !out)
		return TG_EINVAL;
	*state = g->state;
	copy_guest_counters(out, g->counters);
	return TG_OK;
}

int tg_guest_stats(struct tg_guest *g, struct tg_guest_stats *out)
{
	struct tg_machine *m;
	uint64_t pfn;
	uint32_t i;

	if (!g || !out)
		return TG_EINVAL;
	m = g->m;
	memset(out, 0, sizeof(*out));
	out->client_id = g->client_id;
	out->state = g->state;
	out->pid = g->pid;
	memcpy(out->name, g->name, sizeof(out->name));
	if (g->has_domain &&
	    (m->med ? tg_domain_stats(m->med, g->client_id, &out->domain)
		    : m->iso ? tg_iso_domain_stats(m, g->client_id,
						   &out->domain)
			     : TG_ENOENT) == TG_OK)
		out->has_domain = true;
	for (i = 0; i < g->npages; i++)
		if (atomic_load_explicit(&g->p2m[i], memory_order_relaxed))
			out->pages_owned++;
	pthread_mutex_lock(&m->lock);
	for (pfn = 0; pfn < m->npages; pfn++) {
		const struct tg_page_meta *p = &m->pages[pfn];

		if (atomic_load_explicit(&p->owner, memory_order_relaxed) !=
		    g->client_id)
			continue;
		if (p->pins) {
			out->pages_pinned++;
			out->pins += p->pins;
		}
		if (p->flags & TG_PAGE_BALLOONED)
			out->pages_quarantined++;
	}
	pthread_mutex_unlock(&m->lock);
	out->traps = atomic_load(&g->traps);
	out->killed_syscall = atomic_load(&g->watch.killed_nr);
	out->killed_arch = atomic_load(&g->watch.killed_arch);
	copy_guest_counters(&out->counters, g->counters);
	return TG_OK;
}
