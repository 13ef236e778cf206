/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private structures of the hosted platform. Nothing here is seen by
 * guests except struct tg_trap_slot and struct tg_guest_ctl, which live in
 * memory shared with the guest process and are therefore hostile input to
 * the hypervisor: it reads their fields once and validates them.
 */
#ifndef TG_HOST_INTERNAL_H
#define TG_HOST_INTERNAL_H

#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <teegate/guest.h>
#include <teegate/host.h>
#include <teegate/mediator.h>
#include <teegate/port.h>
#include <teegate/tee_model.h>

#include "fork_gate.h"

/*
 * Until the mediator library links (TG_HAVE_MEDIATOR), the platform builds
 * without it: only TG_MEDIATION_DIRECT works and m->med stays NULL.
 */
#ifndef TG_HAVE_MEDIATOR
#define tg_handle_smc(med, cid, vcpu, regs) ((void)(med), (void)(vcpu), false)
#define tg_domain_create(med, cid, lim) ((void)(med), (void)(lim), TG_ENOTSUP)
#define tg_domain_destroy(med, cid) ((void)(med), TG_OK)
#define tg_domain_stats(med, cid, out) ((void)(med), TG_ENOENT)
#define tg_tee_notif_irq(med) ((void)(med))
#define tg_strerror(status) tg_host_strerror(status)
#endif
const char *tg_host_strerror(int status);

/* ---- memory shared between a guest and the hypervisor ---------------- */

enum tg_conduit {
	TG_CONDUIT_SMC = 0,
	TG_CONDUIT_HVC = 1,
};

/**
 * struct tg_trap_slot - one vCPU's trap mailbox, one page, shared with the
 * guest process. The guest owns @req, @conduit and @regs until it publishes
 * a new @req; the hypervisor owns @rsp. Every field is guest-writable at
 * any time, so the handler snapshots @conduit and @regs once.
 */
struct tg_trap_slot {
	_Atomic uint32_t req;            /* guest: request sequence (futex) */
	_Atomic uint32_t hyp_sleeping;   /* hypervisor waits on @req */
	uint32_t pad0[14];
	_Atomic uint32_t rsp;            /* hypervisor: answered sequence */
	_Atomic uint32_t guest_sleeping; /* guest waits on @rsp */
	uint32_t conduit;
	uint32_t pad1;
	uint64_t regs[8];
};

/**
 * struct tg_guest_ctl - the guest's control page, shared: written by the
 * hypervisor (notification, kill), acknowledged by the guest.
 */
struct tg_guest_ctl {
	_Atomic uint32_t notif_pending; /* futex: 1 = interrupt raised */
	_Atomic uint32_t killed;        /* thread mode: stop at next trap */
	/* placement (place.c), written by the hypervisor: the CPU each
	 * vCPU should run on (-1: any), then the generation bumped; a vCPU
	 * moves itself at its next trap */
	_Atomic uint32_t place_gen;
	_Atomic int32_t vcpu_cpu[TG_HOST_MAX_VCPUS];
	/* split: the handlers have CPUs of their own, spin without
	 * yielding (enum tg_wait) */
	_Atomic uint32_t wait_alone;
};

/*
 * How a side of a trap waits for the other (trap.c), by placement:
 * FAR (spread) spins, yielding between rounds after 2 us; NEAR (the peer
 * shares this CPU) yields from the start; ALONE (split: the peer has a
 * CPU of its own, and yielding would only hand this one to another
 * guest) spins without yielding. Each ends in a futex sleep when its
 * budget runs out.
 */
enum tg_wait {
	TG_WAIT_FAR = 0,
	TG_WAIT_NEAR,
	TG_WAIT_ALONE,
};

/* Layout of the shared pages: counters, ctl, then one slot per vCPU. */
#define TG_SHARED_COUNTERS_PAGE 0u
#define TG_SHARED_CTL_PAGE 1u
#define TG_SHARED_SLOT_PAGE(v) (2u + (v))
#define TG_SHARED_PAGES(nvcpus) (2u + (nvcpus))

/**
 * struct tg_boot_info - what a guest process needs to build itself, in a
 * memfd: @npages machine addresses follow it, then (forked guests) the
 * @arg_size bytes of the entry function's argument. Written by the
 * hypervisor; the guest checks it before use.
 */
#define TG_BOOT_MAGIC 0x74656567617465ull /* "teegate" */
struct tg_boot_info {
	uint64_t magic;
	uint32_t client_id;
	uint32_t nvcpus;
	uint32_t npages;
	uint32_t spin_ns;
	uint64_t ram_base;   /* PA of byte 0 of the memory fd */
	uint64_t ipa_base;
	uint32_t lockdown;
	uint32_t arg_size;   /* forked guests: bytes after pa[] */
	uint64_t instance;   /* unique per guest start, in this process */
	uint64_t pa[];       /* npages machine addresses */
};

/* ---- guest runtime (guest side of guest.h) ---------------------------- */

enum tg_vcpu_state {
	TG_VCPU_FREE = 0,
	TG_VCPU_RUNNING,
	TG_VCPU_DONE,
	TG_VCPU_JOINING, /* one joiner claimed it: the others wait for FREE */
};

struct tg_guest_rt;

struct tg_vcpu {
	struct tg_guest_rt *rt;
	uint32_t index;
	struct tg_trap_slot *slot;
	uint32_t seq;
	uint32_t spin_ns;       /* adaptive spin budget */
	uint32_t place_gen;     /* the placement it runs by */
	enum tg_wait wait;      /* how it waits for its handler */
	enum tg_vcpu_state state;
	pthread_t thread;
	void (*fn)(struct tg_vcpu *, void *);
	void *arg;
	/* thread mode: who spawned it, and how many it spawned still run */
	struct tg_vcpu *parent;
	_Atomic uint32_t live_children;
};

/* Guest-local page states (the guest's own allocator). */
enum tg_rt_page {
	TG_RT_PAGE_FREE = 0,
	TG_RT_PAGE_USED,
	TG_RT_PAGE_USED_VIEW, /* thread mode: mapped into the view */
	TG_RT_PAGE_GONE,      /* ballooned out */
};

struct tg_guest_rt {
	uint32_t client_id;
	uint64_t instance;
	uint32_t nvcpus;
	uint32_t npages;
	uint32_t spin_ns;
	uint64_t ipa_base;
	uint8_t *view;                /* npages pages, contiguous by IPA */
	void *shared;                 /* TG_SHARED_PAGES(nvcpus) pages */
	struct tg_guest_counters *counters;
	struct tg_guest_ctl *ctl;
	pthread_mutex_t lock;         /* allocator and vCPU table */
	uint8_t *page_state;          /* enum tg_rt_page per page */
	uint32_t alloc_hint;
	bool thread_mode;
	cpu_set_t home;               /* the CPUs it may use when not placed */
	struct tg_guest *hyp;         /* thread mode only */
	struct tg_vcpu vcpus[TG_HOST_MAX_VCPUS];
};

/* ---- hypervisor side --------------------------------------------------- */

/* struct tg_page_meta - one machine page. Protected by machine->lock,
 * except @owner which the oracle reads without it. */
#define TG_PAGE_BALLOONED 1u /* left its owner's p2m, waits for last unpin */
struct tg_page_meta {
	_Atomic uint32_t owner;
	uint32_t pins;
	uint32_t flags;
	uint32_t pool_idx; /* position in machine->free_pool when free */
};

struct tg_handler {
	struct tg_guest *g;
	uint32_t vcpu;
	pthread_t thread;
	bool started;
	atomic_bool running;   /* the thread reached handler_main() */
	uint32_t spin_ns;
	uint32_t place_gen;    /* the placement it runs by */
	enum tg_wait wait;     /* how it waits for its vCPU */
};

/*
 * struct tg_watch - the hypervisor's watch over a locked-down guest
 * process (lockdown_watch.c). The thread owns @sock and @listener.
 */
struct tg_watch {
	int sock;                 /* hand-over socket, -1 once done */
	int listener;             /* the filter's notification fd */
	int stop;                 /* eventfd: the teardown ends the thread */
	int pidfd;
	pthread_t thread;
	bool started;
	atomic_bool running;          /* the thread reached its loop */
	_Atomic int32_t killed_nr;    /* refused call that killed it, or -1 */
	_Atomic uint32_t killed_arch; /* its AUDIT_ARCH_* */
};

struct tg_guest {
	struct tg_machine *m;
	uint32_t client_id;
	char name[32];
	enum tg_guest_mode mode;
	enum tg_guest_state state;
	uint32_t nvcpus;
	uint32_t npages;
	bool has_domain;
	bool no_lockdown;
	pid_t pid;
	int wstatus;
	/* placement (place.c), under the machine's lock: counted while its
	 * handlers serve it; the CPU of each vCPU and of its handler,
	 * -1 = any */
	bool placed;
	_Atomic int32_t vcpu_cpu[TG_HOST_MAX_VCPUS];
	_Atomic int32_t handler_cpu[TG_HOST_MAX_VCPUS];
	struct tg_watch watch;      /* process guests under lockdown */

	/* p2m: PA of IPA page i, 0 = none. Written under p2m_lock (write),
	 * read under it (read) by the port, so that a page cannot leave the
	 * guest while the mediator copies into it. */
	pthread_rwlock_t p2m_lock;
	_Atomic uint64_t *p2m;

	int shared_fd;
	void *shared;               /* hypervisor's mapping, read-only use */
	struct tg_guest_ctl *ctl;
	const struct tg_guest_counters *counters;

	atomic_bool stop;           /* handlers: leave */
	struct tg_handler handlers[TG_HOST_MAX_VCPUS];
	_Atomic uint64_t traps;

	/* thread mode */
	struct tg_guest_rt *rt;
	uint8_t *thread_view;
	uint32_t thread_view_pages; /* pages mapped in the view */
};

struct tg_mem_backing {
	int fd;
	uint64_t size;
	bool punch_holes;  /* give freed pages back to the kernel */
	char path[64];     /* what /proc/<pid>/maps names it ("memfd:...") */
};

struct tg_machine {
	struct tg_machine_config cfg;
	struct tg_mem_region reserved[TG_HOST_MAX_RESERVED];
	uint32_t nreserved;
	uint64_t ram_base, ram_size, npages;
	struct tg_mem_backing mem;
	uint8_t *ram;               /* MAP_SHARED mapping of all of RAM */

	pthread_mutex_t lock;       /* page metadata, free pool, guests */
	/* Entered while a thread dispatches a trap, closed around fork():
	 * the child must not inherit a lock (libc's, the sanitizers'
	 * allocator's, the mediator's) that a handler thread held at that
	 * instant (fork_gate.h). */
	struct tg_fork_gate fork_gate;
	/* The page metadata; with real OP-TEE and its oracle, the entries
	 * of the oracle table shared with QEMU (pages_shared). */
	struct tg_page_meta *pages;
	bool pages_shared;
	uint32_t *free_pool;        /* page frame numbers */
	uint64_t nfree;
	uint64_t rng;

	struct tg_guest *guests[TG_HOST_MAX_GUESTS];
	_Atomic(struct tg_guest *) *by_client; /* 0x10000 entries */
	_Atomic uint32_t thread_view_pages;

	_Atomic uint64_t violations;
	struct tg_sw_mem sw_mem;
	struct tg_port port;
	struct tg_mediator *med;
	struct tg_model *model;
	void (*backend_smc)(void *ctx, uint64_t regs[8]);
	/* optional: an SMC on behalf of a client whose a7 may differ */
	void (*backend_smc_as)(void *ctx, uint32_t client, uint64_t regs[8]);
	void *backend_ctx;
	int log_level;
	uint32_t spin_ns;
	enum tg_isolation isolation; /* in force (isolation.c) */
	struct tg_iso *iso;          /* out-of-process mediator(s) */
	struct tg_trap_pool *pool;   /* trap_pool: the pool, else NULL */
	/* placement (place.c): the CPUs this process may use (@home), the
	 * first 64 of them in order (@cpus), the placement in force (never
	 * AUTO; tg_machine_placement()), and a generation bumped at every
	 * change */
	enum tg_placement placement;
	cpu_set_t home;
	uint32_t ncpus;
	int16_t cpus[64];
	_Atomic uint32_t in_force;
	_Atomic uint32_t place_gen;
	/* The inline mediator's shm carve-out (port.c): contiguous pages
	 * reserved at start, since guests' scattered pages soon leave no
	 * long free run in the pool (a 64 MiB page list needs 33). */
	pthread_mutex_t shm_lock;
	uint64_t shm_pool_pa;
	uint32_t shm_pool_pages;
	uint64_t *shm_pool_map; /* 1 bit per page, 1 = in use */
};

/* memory.c */
int tg_mem_open(struct tg_machine *m);
void tg_mem_close(struct tg_machine *m);
void tg_mem_discard(struct tg_machine *m, uint64_t pfn, uint64_t count);

/* pages.c */
int tg_pages_init(struct tg_machine *m);
void tg_pages_fini(struct tg_machine *m);
int tg_pages_alloc_scattered(struct tg_machine *m, uint32_t owner,
			     uint32_t count, uint64_t ipa_base,
			     _Atomic uint64_t *pa_out);
void tg_pages_release_locked(struct tg_machine *m, uint64_t pfn);
int tg_pages_alloc_contig(struct tg_machine *m, uint32_t owner,
			  uint32_t count, uint64_t *pa);
void tg_pages_free_contig(struct tg_machine *m, uint64_t pa, uint32_t count);
bool tg_pages_client_has_leftovers(struct tg_machine *m, uint32_t client_id);
static inline uint64_t tg_pa_to_pfn(const struct tg_machine *m, uint64_t pa)
{
	return (pa - m->ram_base) >> TG_PAGE_SHIFT;
}
static inline bool tg_pa_is_ram(const struct tg_machine *m, uint64_t pa)
{
	return pa >= m->ram_base && pa - m->ram_base < m->ram_size;
}

/* port.c */
void tg_port_init(struct tg_machine *m);
void tg_host_log(struct tg_machine *m, enum tg_log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tg_guest_raise_notif(struct tg_guest *g);
struct tg_guest *tg_guest_by_client(struct tg_machine *m, uint32_t client_id);

/* isolation.c: the mediator out of process (sandboxed, service) */
struct tg_iso;
int tg_iso_start(struct tg_machine *m);
void tg_iso_stop(struct tg_machine *m);
int tg_iso_domain_create(struct tg_machine *m, uint32_t cid,
			 const struct tg_limits *limits);
int tg_iso_domain_destroy(struct tg_machine *m, uint32_t cid);
int tg_iso_domain_stats(struct tg_machine *m, uint32_t cid,
			struct tg_domain_stats *out);
bool tg_iso_handle_smc(struct tg_machine *m, uint32_t cid, uint32_t vcpu,
		       uint64_t regs[8], enum tg_thread_want *want);
int tg_iso_domain_reclaim(struct tg_machine *m, uint32_t cid,
			  bool foreign_intr);
void tg_iso_notif_irq(struct tg_machine *m);
uint64_t tg_iso_idle_shadow_pages(struct tg_machine *m);
const struct tg_tee_info *tg_iso_tee_info(struct tg_machine *m);
/* port.c: the inline mediator's carve-out */
void tg_port_shm_pool_init(struct tg_machine *m, uint32_t pages);
void tg_port_shm_pool_fini(struct tg_machine *m);
uint64_t tg_port_idle_shm_pages(struct tg_machine *m);
static inline bool tg_has_mediator(const struct tg_machine *m)
{
	return m->med || m->iso;
}

/* oracle.c */
void tg_oracle_init(struct tg_machine *m);

/* tee_qemu.c: TG_TEE_QEMU (TG_ENOTSUP when teegate_qemu is not built) */
int tg_qemu_backend_init(struct tg_machine *m);
struct tg_page_meta *tg_qemu_backend_pages(struct tg_machine *m);
uint64_t tg_qemu_backend_violations(const struct tg_machine *m);

/* null_tee.c */
void tg_null_tee_smc(void *ctx, uint64_t regs[8]);

/* trap.c */
void tg_trap_guest(struct tg_vcpu *vcpu, uint32_t conduit, uint64_t regs[8]);
int tg_handlers_start(struct tg_guest *g);
void tg_handlers_stop(struct tg_guest *g);
void tg_trap_dispatch(struct tg_guest *g, uint32_t vcpu, uint32_t conduit,
		      uint64_t regs[8]);

/* trap_pool.c */
int tg_pool_create(struct tg_machine *m, uint32_t nthreads);

/* place.c: which CPUs the parties of a call run on */
void tg_place_init(struct tg_machine *m);
void tg_place_guest(struct tg_guest *g, bool placed);
void tg_pool_destroy(struct tg_machine *m);
int tg_pool_add(struct tg_guest *g);
void tg_pool_remove(struct tg_guest *g);
/* In a spin loop: let the sibling hardware thread run. */
static inline void tg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

void tg_futex_wake(_Atomic uint32_t *word, int n);
int tg_futex_wait(_Atomic uint32_t *word, uint32_t expected, int timeout_ms);
uint64_t tg_now_ns(void);

/* hypercall.c */
void tg_hyp_dispatch(struct tg_guest *g, uint32_t vcpu, uint32_t conduit,
		     uint64_t regs[8]);

/* balloon.c */
int tg_balloon(struct tg_guest *g, uint64_t guest_ipa, uint64_t guest_count);

/* guest_rt.c */
int tg_rt_init(struct tg_guest_rt *rt, const struct tg_boot_info *boot,
	       void *shared);
int tg_rt_map_view(struct tg_guest_rt *rt, const struct tg_boot_info *boot,
		   int mem_fd);
void tg_rt_run_vcpu0(struct tg_guest_rt *rt, void (*fn)(struct tg_vcpu *,
							 void *),
		     void *arg) __attribute__((noreturn));
int tg_rt_thread_start(struct tg_guest_rt *rt,
		       void (*fn)(struct tg_vcpu *, void *), void *arg);
void tg_rt_thread_join_all(struct tg_guest_rt *rt);
bool tg_rt_vcpu0_done(struct tg_guest_rt *rt);

/* lockdown.c */
int tg_lockdown(int handoff_fd);
bool tg_lockdown_call_is_conditional(int nr);
void tg_stack_wipe_on_fork(bool on);
void tg_scrub_dead_stack(void);

/* zygote.c: the process's template for forked guests */
int tg_zygote_start(struct tg_machine *m);
pid_t tg_zygote_pid(void);
int tg_zygote_spawn(struct tg_machine *m, void (*fn)(struct tg_vcpu *, void *),
		    int boot_fd, int shared_fd, int handoff, pid_t *pid);

/* guest.c: the fds a guest process keeps */
int tg_guest_keep_output_fds(int handoff);

/* lockdown_watch.c */
int tg_watch_prepare(struct tg_guest *g, int *child_end);
int tg_watch_start(struct tg_guest *g);
void tg_watch_stop(struct tg_guest *g);
int tg_scrub_shared_mappings(const void *keep1, size_t len1,
			     const void *keep2, size_t len2);


/*
 * The client whose call (or domain creation or destruction) this thread
 * is serving, 0 for the hypervisor's own: the TEE backend is told on
 * whose behalf an FF-A SMC runs (its identities are in the messages, not
 * in a7), for the oracle (port.c).
 */
extern __thread uint32_t tg_host_serving;

/* ---- hyp_proto.c: what the hypervisor knows of the protocol ----------- */

/* What a mediator process is doing for the hypervisor on a slot. */
enum tg_hyp_op {
	TG_HYP_PROBE,	       /* creating the mediator */
	TG_HYP_DOMAIN_CREATE,  /* creating domain cid */
	TG_HYP_DOMAIN_DESTROY, /* destroying domain cid */
	TG_HYP_DOMAIN_RECOVER, /* recovering domain cid */
	TG_HYP_GUEST_CALL,     /* a call of guest cid */
	TG_HYP_NOTIF,	       /* the TEE's notification interrupt */
	TG_HYP_OTHER,	       /* anything else: no SMC */
};

/* What one SMC told about TEE threads and memory handles. */
struct tg_hyp_smc_event {
	bool resumed, suspended;  /* a TEE thread resumed, one suspended */
	uint32_t resumed_thread;
	uint32_t thread, a0, a1, a2; /* the suspended one, and its RPC */
	bool mem_given, mem_back; /* FF-A: a handle given, or given back */
	uint64_t mem;
};

bool tg_hyp_is_tee_call(enum tg_protocol p, uint32_t fid);
void tg_hyp_tee_gone(enum tg_protocol p, uint64_t regs[8]);
bool tg_hyp_smc_allowed(enum tg_protocol p, enum tg_hyp_op op, uint32_t cid,
			const uint64_t r[8]);
void tg_hyp_smc_refused(enum tg_protocol p, uint64_t r[8]);
void tg_hyp_smc_seen(enum tg_protocol p, uint32_t cid, const uint64_t in[8],
		     const uint64_t out[8], struct tg_hyp_smc_event *ev);
bool tg_hyp_guest_resumes(enum tg_protocol p, const uint64_t regs[8],
			  uint32_t *h);
uint32_t tg_hyp_prefetch(enum tg_protocol p, const uint64_t regs[8],
			 uint64_t *ipa);
bool tg_hyp_guest_suspended(enum tg_protocol p, const uint64_t regs[8],
			    uint32_t *h);
bool tg_hyp_answer_of_smc(enum tg_protocol p, uint32_t cid, uint64_t regs[8],
			  const uint64_t in[8], const uint64_t out[8]);
bool tg_hyp_vm_gone(struct tg_machine *m, enum tg_protocol p,
		    const struct tg_tee_info *t, uint32_t cid,
		    const uint64_t *handles, uint32_t nhandles);

#endif /* TG_HOST_INTERNAL_H */
