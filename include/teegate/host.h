/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hosted platform: a hypervisor that lives in a Linux process.
 *
 * Machine memory is one shared file (a memfd by default) with a physical
 * address map; guests own pages of it through a deliberately scattered p2m
 * (IPA -> PA). By default each guest is a separate process whose only
 * mappings of machine memory are its own pages, so the MMU enforces guest
 * isolation the way stage 2 does on Arm. A guest's vCPUs are threads; an SMC
 * is a trap through a per-vCPU shared slot to a hypervisor handler thread,
 * which calls the mediator (tg_handle_smc()) and, through the port, the
 * secure-world backend (the OP-TEE model).
 *
 * Life cycle (hypervisor side):
 *
 *   tg_machine_create()      memory, page pool, backend, mediator
 *   tg_guest_start()         pages + p2m, tg_domain_create(), start vCPU 0
 *   tg_guest_wait()          reap, tg_domain_destroy() to the end, free pages
 *   tg_guest_release()       forget the handle (optional; destroy does it)
 *   tg_machine_destroy()     kills and reaps what is left
 *
 * Guest code uses include/teegate/guest.h, implemented by the same library
 * (guest_rt.c): the same calls work in all three guest modes.
 *
 * Limits (deliberate, checked, reported as TG_ELIMIT):
 *  - TG_HOST_MAX_GUESTS live guests, TG_HOST_MAX_VCPUS vCPUs per guest.
 *  - Process mode: the scattered p2m costs one VMA per guest page in the
 *    guest process, and Linux allows vm.max_map_count (65530) VMAs, so a
 *    process-mode guest has at most TG_HOST_MAX_PROCESS_PAGES pages.
 *  - Thread mode: guest pages are NOT mapped per page in the hypervisor
 *    process. tg_ipa_ptr() translates through the p2m into the hypervisor's
 *    one mapping of machine memory (valid up to the end of that page only);
 *    pages handed out by tg_alloc_pages() are additionally mapped into a
 *    contiguous per-guest view so that multi-page buffers work. The view
 *    costs one VMA per allocated page, capped machine-wide at
 *    TG_HOST_MAX_THREAD_VIEW_PAGES pages; past the cap tg_alloc_pages() of
 *    more than one page fails.
 */
#ifndef TEEGATE_HOST_H
#define TEEGATE_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <teegate/guest.h>
#include <teegate/mediator.h>
#include <teegate/port.h>
#include <teegate/tee_model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tg_machine;
struct tg_guest;
struct tg_qemu;

#define TG_HOST_DEFAULT_RAM_BASE 0x40000000ull /* QEMU virt */
#define TG_HOST_DEFAULT_RAM_SIZE (1ull << 30)  /* 1 GiB, sparse */
#define TG_HOST_DEFAULT_GUEST_PAGES 4096u      /* 16 MiB per guest */
#define TG_HOST_DEFAULT_VCPUS 2u
#define TG_HOST_GUEST_IPA_BASE 0x40000000ull   /* guests see RAM here too */
#define TG_HOST_MAX_GUESTS 64u
#define TG_HOST_MAX_VCPUS 32u
#define TG_HOST_MAX_TRAP_POOL 64u
#define TG_HOST_MAX_PROCESS_PAGES 60000u
#define TG_HOST_MAX_THREAD_VIEW_PAGES 16384u
#define TG_HOST_MAX_RESERVED 16u
#define TG_HOST_MAX_GUEST_ARG (1u << 20) /* tg_guest_config.arg_size */

/* Page owners in the owner map (client ids are 1..0xFFFF). */
#define TG_OWNER_FREE 0u
#define TG_OWNER_MEDIATOR 0x10000u
#define TG_OWNER_RESERVED 0x10001u

/**
 * struct tg_mem_region - a range of machine physical addresses.
 */
struct tg_mem_region {
	uint64_t base;
	uint64_t size;
	const char *name;
};

/**
 * enum tg_backing_kind - what holds machine memory.
 * @TG_BACKING_MEMFD: an anonymous memfd of @ram_size (sparse), the default.
 * @TG_BACKING_FILE:  an existing file, e.g. QEMU's RAM file
 *                    (memory-backend-file,share=on): byte 0 of the file is
 *                    @ram_base. The file must be at least @ram_size long.
 */
enum tg_backing_kind {
	TG_BACKING_MEMFD = 0,
	TG_BACKING_FILE,
};

/**
 * enum tg_tee_backend - the secure world behind the mediator.
 * @TG_TEE_MODEL: the embedded OP-TEE model (teegate_model), the default.
 * @TG_TEE_NULL:  a stub that answers the identification calls
 *                (CALLS_UID, CALLS_REVISION, GET_OS_UUID, VM_CREATED,
 *                VM_DESTROYED) and UNKNOWN_FUNCTION to everything else.
 *                Measures the trap path alone; the mediator refuses it
 *                (no dynamic SHM), so use it with TG_MEDIATION_DIRECT.
 * @TG_TEE_QEMU:  a real OP-TEE in QEMU (src/tee/qemu, docs/real-optee.md):
 *                smc() goes to tg_qemu_smc() of @qemu in the config, on
 *                the calling thread's home relay CPU or any idle one.
 *                Machine memory must be QEMU's RAM (fill the config with
 *                tg_qemu_machine_memory()). The caller starts QEMU before
 *                tg_machine_create() and stops it after
 *                tg_machine_destroy(). When QEMU runs the oracle plugin
 *                (tg_qemu_config.oracle), the page owners and pin counts
 *                live in its table and tg_machine_violations() counts what
 *                the plugin saw real OP-TEE do (docs/real-optee.md).
 */
enum tg_tee_backend {
	TG_TEE_MODEL = 0,
	TG_TEE_NULL,
	TG_TEE_QEMU,
};

/**
 * enum tg_mediation - who handles a guest's TEE calls.
 * @TG_MEDIATION_INLINE: the mediator, in the hypervisor process, on the
 *                       trapping vCPU's handler thread (design option a).
 * @TG_MEDIATION_DIRECT: no mediator: the platform sets a7 to the client
 *                       id and passes the call to the backend unchanged
 *                       (guest IPAs reach the TEE as if they were PAs; the
 *                       oracle will count that). The benchmark floor. The
 *                       platform itself issues VM_CREATED/VM_DESTROYED.
 *                       With real OP-TEE this is "--no-mediator": the
 *                       unmediated comparison of docs/security.md, never a
 *                       default.
 */
enum tg_mediation {
	TG_MEDIATION_INLINE = 0,
	TG_MEDIATION_DIRECT,
};

/**
 * enum tg_isolation - where the mediator runs (TG_MEDIATION_INLINE only);
 * the mediator code is the same in every mode, only how its port calls
 * reach the hypervisor differs (docs/isolation.md).
 * @TG_ISOLATION_DEFAULT:   the environment variable TEEGATE_ISOLATION
 *                          (inline, sandboxed, service, or either
 *                          out-of-process mode with -per-guest)
 *                          or, without it, inline. Lets a whole test suite
 *                          run in each mode.
 * @TG_ISOLATION_INLINE:    in the hypervisor process (design option a).
 * @TG_ISOLATION_SANDBOXED: the teegate-mediator program in its own process
 *                          under a seccomp allow-list, mapping no machine
 *                          memory but its shadow carve-out; every port call
 *                          is a request the hypervisor checks (option d).
 *                          With @per_guest, one sandbox per guest: each
 *                          can reach only the memory of the guest it
 *                          serves.
 * @TG_ISOLATION_SERVICE:   teegate-mediator as a daemon that maps machine
 *                          memory, reached through a shared ring and
 *                          eventfds (option b; with @per_guest, option c).
 */
enum tg_isolation {
	TG_ISOLATION_DEFAULT = 0,
	TG_ISOLATION_INLINE,
	TG_ISOLATION_SANDBOXED,
	TG_ISOLATION_SERVICE,
};

/*
 * Shadow carve-out of an out-of-process mediator, in pages: 4 MiB for the
 * shared one; 512 KiB for each per-guest daemon, out of a pool reserved
 * when the machine is created: TG_HOST_MAX_GUESTS of them, or as many as
 * fit in an eighth of RAM (a machine of 64 MiB runs 16 guests this way).
 */
#define TG_ISO_SHADOW_PAGES 1024u
#define TG_ISO_GUEST_SHADOW_PAGES 128u

/**
 * struct tg_machine_config - how to build a machine. Zero means default.
 * @ram_base, @ram_size:  NS RAM (default 0x40000000, 1 GiB).
 * @reserved, @nreserved: regions never handed out; NULL = the QEMU virt
 *                        defaults: the first page (device tree) and
 *                        0x42000000-0x421fffff (OP-TEE reserved SHM).
 *                        Up to TG_HOST_MAX_RESERVED.
 * @backing, @backing_path: machine memory backing (see tg_backing_kind).
 * @tee:          secure-world backend.
 * @qemu:         TG_TEE_QEMU: the running QEMU backend (tg_qemu_start()).
 * @mediation:    inline mediator (default) or direct.
 * @model:        model configuration (threads, injection...). Its
 *                reserved SHM defaults to the reserved region above.
 * @mediator:     mediator configuration (limits...).
 * @log_level:    enum tg_log_level + 1; 0 = TG_LOG_WARN. Log goes to stderr.
 * @seed:         seed of the p2m scattering; 0 = from the clock.
 * @oracle_block: when set, the oracle returns NULL for a foreign page
 *                (the access does not happen) instead of counting it and
 *                letting it through as real hardware would.
 * @spin_ns:      how long a waiting side of a trap spins before it blocks
 *                on a futex; 0 = 20000 (20 us), adapted at run time.
 * @isolation:    where the mediator runs (see enum tg_isolation).
 * @per_guest:    sandboxed or service mode: one mediator process per guest.
 * @service_poll: service mode: poll the ring before blocking on the
 *                eventfd (a dedicated core), instead of notifying always.
 * @mediator_path: the teegate-mediator program; NULL = $TEEGATE_MEDIATOR,
 *                else next to the running program, else the build tree's.
 * @trap_on_vcpu: handle a trap on the trapping vCPU's own thread instead of
 *                a handler thread: models Arm, where the hypervisor runs on
 *                the core that trapped (one spinning party fewer, which
 *                matters with few cores). Thread-mode guests only
 *                (TG_GUEST_THREAD): tg_guest_start() of a process guest
 *                fails with TG_EINVAL. No isolation at all: for
 *                benchmarks (teegate bench --trap-on-vcpu).
 * @trap_pool:    0 = one handler thread per vCPU; N = a pool of N threads
 *                serves the trap slots of every guest (src/host/
 *                trap_pool.c): with more guests than cores, a thread that
 *                finds several calls posted serves them on the core it
 *                has. Ignored with @trap_on_vcpu. $TEEGATE_TRAP_POOL sets
 *                it when this is 0.
 * @placement:    which CPUs the parties of a guest call run on (enum
 *                tg_placement, src/host/place.c). $TEEGATE_PLACEMENT sets
 *                it when this is TG_PLACE_AUTO.
 * @direct_raw_a7: TG_MEDIATION_DIRECT only: not even a7 is set, the
 *                guest's SMC reaches the TEE exactly as the guest made it
 *                (a guest with SMC access and nothing in between). For the
 *                breach comparison of docs/security.md only.
 * @test_unpin_early: TESTS ONLY: the port drops every pin as soon as it is
 *                taken (the mediator believes its pages pinned, the
 *                hypervisor does not), so that the oracle's mutation test
 *                can show it counts a TEE working on unpinned pages.
 */
/*
 * Where the parties of a guest call run (src/host/place.c). A process
 * guest's call involves its vCPU thread, the handler thread that serves
 * its trap and, out of process, a mediator worker; a hand-over between
 * two CPUs that finds its peer asleep costs an inter-processor interrupt.
 *  - SPREAD: the scheduler places every thread; waiting sides spin for
 *    their peer on another CPU. Fastest while each party can have a CPU.
 *  - COLOCATE: each vCPU gets a CPU, round robin; its handler and the
 *    mediator worker serving its call run there too, and a waiting side
 *    yields its CPU to its peer instead of spinning. A call never waits
 *    for another CPU, and guests on different CPUs run in parallel.
 *  - SPLIT: the hypervisor's threads get CPUs of their own. The vCPUs
 *    run round robin on the first half of the CPUs (rounded up), the
 *    handlers on the others; a vCPU spins for its answer without
 *    yielding, since its peer never needs its CPU. An inline call then
 *    costs no context switch at all, however many guests there are,
 *    but while it is in force the guests' own work has only those
 *    CPUs. With one CPU, it is COLOCATE.
 *  - AUTO (default): SPREAD while the process guests have at most one
 *    vCPU per two CPUs; beyond, SPLIT when the mediator runs inline
 *    (the handler alone serves the call) and COLOCATE when it runs out
 *    of process or a trap pool serves the slots. Guests move when
 *    others start or end.
 */
enum tg_placement {
	TG_PLACE_AUTO = 0,
	TG_PLACE_SPREAD,
	TG_PLACE_COLOCATE,
	TG_PLACE_SPLIT,
};

struct tg_machine_config {
	uint64_t ram_base;
	uint64_t ram_size;
	const struct tg_mem_region *reserved;
	uint32_t nreserved;
	enum tg_backing_kind backing;
	const char *backing_path;
	enum tg_tee_backend tee;
	struct tg_qemu *qemu;
	enum tg_mediation mediation;
	struct tg_model_config model;
	struct tg_config mediator;
	int log_level;
	uint64_t seed;
	bool oracle_block;
	uint32_t spin_ns;
	enum tg_isolation isolation;
	bool per_guest;
	bool service_poll;
	const char *mediator_path;
	bool trap_on_vcpu;
	uint32_t trap_pool;
	enum tg_placement placement;
	bool direct_raw_a7;
	bool test_unpin_early;
};

/**
 * tg_placement_parse() - "auto", "spread", "colocate" or "split";
 * TG_EINVAL.
 * tg_placement_from_env() - $TEEGATE_PLACEMENT; TG_PLACE_AUTO when unset
 * or not one of those.
 */
int tg_placement_parse(const char *s, enum tg_placement *out);
const char *tg_placement_name(enum tg_placement p);
enum tg_placement tg_placement_from_env(void);

/**
 * tg_machine_placement() - the placement in force now: TG_PLACE_SPREAD,
 * TG_PLACE_COLOCATE or TG_PLACE_SPLIT (what AUTO chose, for the guests
 * running now).
 */
enum tg_placement tg_machine_placement(struct tg_machine *m);

/** tg_trap_pool_from_env() - $TEEGATE_TRAP_POOL as a number; 0 when unset. */
uint32_t tg_trap_pool_from_env(void);

/** tg_isolation_parse() - "inline", "sandboxed" or "service"; TG_EINVAL. */
int tg_isolation_parse(const char *s, enum tg_isolation *mode);
const char *tg_isolation_name(enum tg_isolation mode);

/**
 * tg_isolation_last_error() - why the last out-of-process mediator failed
 * to start (one line, also logged), or NULL. Not thread-safe: for a
 * command line to explain a failed tg_machine_create().
 */
const char *tg_isolation_last_error(void);

/**
 * struct tg_isolation_stats - the out-of-process mediator, seen from the
 * hypervisor.
 * @mode:            the mode in force (never TG_ISOLATION_DEFAULT).
 * @processes:       mediator processes running.
 * @pid:             the shared mediator process (0 per guest or inline).
 * @refused_foreign: port requests for a domain other than the one being
 *                   served (pin, copy), refused.
 * @refused_smc:     SMCs the mediator asked for with a client id (a7) it
 *                   was not serving, refused.
 * @refused_other:   other malformed requests, refused.
 * @deaths:          mediator processes that died (or were replaced).
 * @restarts:        of which serve again.
 * @recovered:       restarts that kept the state: guests keep their
 *                   sessions, buffers and suspended calls.
 * @state_lost:      restarts that began afresh (the state could not be
 *                   recovered): the TEE forgot the guests' sessions and
 *                   buffers.
 * @upgrades:        replacements by tg_machine_upgrade_mediator().
 * @calls_failed:    calls in flight at a death, which their guests saw
 *                   fail (TEEC_ERROR_COMMUNICATION), over all recoveries.
 * @last_restart_ns: how long the last restart took, death to serving.
 * @last_upgrade_ns: the same for the last upgrade.
 * @watchdog_kills:  mediator processes killed because they held a call
 *                   for more than TG_ISO_WATCHDOG_MS (hung or looping).
 * @port_requests:   requests the mediator processes made of the
 *                   hypervisor (pin, copy, SMC...), each a round trip
 *                   between two processes.
 */
struct tg_isolation_stats {
	enum tg_isolation mode;
	bool per_guest;
	uint32_t processes;
	pid_t pid;
	uint64_t refused_foreign, refused_smc, refused_other;
	uint64_t deaths, restarts, last_restart_ns;
	uint64_t recovered, state_lost, upgrades, calls_failed;
	uint64_t last_upgrade_ns;
	uint64_t watchdog_kills;
	uint64_t port_requests;
};

/* How long an out-of-process mediator may hold a call (not counting the
 * SMCs the hypervisor issues for it) before it is killed and restarted. */
#define TG_ISO_WATCHDOG_MS 5000
int tg_machine_isolation_stats(struct tg_machine *m,
			       struct tg_isolation_stats *out);

/**
 * tg_machine_kill_mediator() - SIGKILL the out-of-process mediator: the
 * shared process, or every per-guest one (tests, chaos). TG_ENOENT when
 * none is running.
 */
int tg_machine_kill_mediator(struct tg_machine *m);

/**
 * tg_machine_upgrade_mediator() - replace every out-of-process mediator
 * with the program at @path while guests run ("upgrade the TEE layer
 * without touching the hypervisor"). New calls wait, the calls being
 * served finish, then each process is stopped and @path started on the
 * same state; guests keep their sessions, buffers and calls suspended in
 * an RPC. @path is also used for later restarts.
 * Return: TG_OK, TG_EINVAL (@path is not an executable), TG_ENOENT
 * (inline mediator), TG_EBUSY/TG_ENOTEE (the mediator is not serving or
 * the new one did not start; see tg_isolation_last_error()).
 */
int tg_machine_upgrade_mediator(struct tg_machine *m, const char *path);

/**
 * tg_machine_create() - build a machine: memory, page pool, backend and,
 * for TG_MEDIATION_INLINE, the mediator (which probes the backend).
 * @cfg: NULL for all defaults.
 *
 * The first call in a process (and the first in a child forked from it)
 * also forks the zygote, the process process guests are cloned from
 * (tg_guest_start()), and starts a thread that stays until the process
 * ends: the zygote and every process guest are killed when it does. Do it
 * before the program holds anything a guest must not see.
 *
 * Return: TG_OK, TG_EINVAL (bad config), TG_ENOMEM, TG_ENOTSUP (backend or
 * mediator not built in), or the mediator's probe error (TG_ENOTEE...).
 */
int tg_machine_create(const struct tg_machine_config *cfg,
		      struct tg_machine **out);

/**
 * tg_machine_destroy() - kill and reap every guest still there, destroy
 * their domains, the mediator, the backend and machine memory.
 * Return: TG_OK, or TG_EBUSY when pages stayed pinned or a domain could not
 * be destroyed (everything is freed anyway).
 */
int tg_machine_destroy(struct tg_machine *m);

/**
 * tg_machine_violations() - isolation-oracle violations so far: accesses by
 * the backend, on behalf of a client, to a page owned neither by that
 * client nor by the mediator; with real OP-TEE and the oracle plugin, also
 * accesses to the client's own pages while unpinned, and SMCs sent with
 * another client's id (struct tg_qemu_oracle_stats).
 */
uint64_t tg_machine_violations(const struct tg_machine *m);

/** tg_machine_mediator() - the inline mediator, or NULL (direct mode). */
struct tg_mediator *tg_machine_mediator(struct tg_machine *m);

/**
 * tg_machine_tee_info() - what the mediator's probe learnt of the TEE, in
 * every isolation mode: the inline mediator's, or the mediator process's
 * (one daemon per guest: the first daemon's, NULL before any guest
 * started). NULL without a mediator (direct mode).
 */
const struct tg_tee_info *tg_machine_tee_info(struct tg_machine *m);

/** tg_machine_model() - the OP-TEE model backend, or NULL. */
struct tg_model *tg_machine_model(struct tg_machine *m);

/**
 * tg_machine_sw_mem() - the struct tg_sw_mem the backend uses (the oracle);
 * exposed so that tests can check it directly.
 */
const struct tg_sw_mem *tg_machine_sw_mem(struct tg_machine *m);

/**
 * struct tg_machine_pages - page accounting of the whole machine.
 * @total:       pages of RAM.
 * @reserved:    never handed out.
 * @free:        in the free pool.
 * @guest:       owned by live guests (mapped in their p2m).
 * @mediator:    mediator shm pages.
 * @quarantined: ballooned out or of a dead guest, still pinned.
 * @pinned:      pages with a pin count > 0.
 */
struct tg_machine_pages {
	uint64_t total, reserved, free, guest, mediator, quarantined, pinned;
};
void tg_machine_page_stats(struct tg_machine *m, struct tg_machine_pages *out);

/**
 * tg_machine_owner() - current owner of the machine page holding @pa
 * (TG_OWNER_*, or a client id); TG_OWNER_RESERVED for a PA outside RAM.
 * @pins: out, optional, its pin count.
 */
uint32_t tg_machine_owner(struct tg_machine *m, uint64_t pa, uint32_t *pins);

/**
 * tg_machine_port() - the port given to the mediator (inline mode). Tests
 * use it to pin and copy like the mediator does.
 */
const struct tg_port *tg_machine_port(struct tg_machine *m);

/**
 * enum tg_guest_mode - where a guest's vCPUs run.
 * @TG_GUEST_PROCESS: a process that maps only its own pages (the
 *                    default), cloned from the process's zygote: a copy
 *                    of the calling program as it was when it created
 *                    its FIRST machine, before any machine, mediator or
 *                    TEE model held anything (docs/architecture.md, "How
 *                    a guest of the hosted platform starts"). It sees none of what the
 *                    hypervisor did since, for any guest; @fn must be
 *                    code of the program as it was then, and @arg is a
 *                    copy of tg_guest_config.arg_size bytes. It gets no
 *                    shared mapping other than its own pages and trap
 *                    pages, and no fd but stdout and stderr. For a guest
 *                    that must not even see the program's state before
 *                    its first machine, use tg_guest_start_exec().
 * @TG_GUEST_THREAD:  threads of the hypervisor process. No isolation:
 *                    for micro-benchmarks, fuzzing and debugging.
 */
enum tg_guest_mode {
	TG_GUEST_PROCESS = 0,
	TG_GUEST_THREAD,
};

/**
 * struct tg_guest_config - a guest. Zero means default.
 * @client_id: 1..0xFFFF; 0 = the lowest id that is free and has no page
 *             left over from an earlier guest.
 * @vcpus:     vCPU slots (default 2, max TG_HOST_MAX_VCPUS); vCPU 0 runs
 *             the entry function, tg_vcpu_spawn() starts the others.
 * @ram_pages: RAM pages (default 4096 = 16 MiB), at IPA 0x40000000.
 * @mode:      process (default) or thread.
 * @limits:    mediator limits for this domain; NULL = defaults.
 * @name:      for logs and tables; copied (up to 31 chars).
 * @no_lockdown: process mode: skip the privilege drop and the seccomp
 *             allow-list (debugging only; see tg_guest_start()): such a
 *             guest can reach all of machine memory.
 * @arg_size:  process mode: the size of tg_guest_start()'s @arg. The
 *             guest gets a copy of these bytes (at most
 *             TG_HOST_MAX_GUEST_ARG), made when tg_guest_start() is
 *             called, and never any of the caller's memory: pointers
 *             inside the argument are worthless to it, except to code
 *             and constant data of the program. Give both @arg and
 *             @arg_size or neither (TG_EINVAL, logged). Thread mode:
 *             ignored, @arg is passed as it is.
 */
struct tg_guest_config {
	uint32_t client_id;
	uint32_t vcpus;
	uint32_t ram_pages;
	enum tg_guest_mode mode;
	const struct tg_limits *limits;
	const char *name;
	bool no_lockdown;
	size_t arg_size;
};

/**
 * tg_guest_start() - create a guest and run @fn(vcpu0, @arg) in it.
 *
 * Allocates the guest's pages (scattered) and its shared trap pages,
 * creates its mediator domain (VM_CREATED), starts vCPU 0 and then one
 * handler thread per vCPU slot (a trap posted before its handler runs
 * simply waits in the slot).
 *
 * Process mode: the process's zygote (forked by its first
 * tg_machine_create()) clones the guest, a child of this process as a
 * fork()ed one would be (waitpid(), pidfds, SIGCHLD), and hands it its
 * boot information and the copy of @arg (tg_guest_config.arg_size) in a
 * memfd, with machine memory's fd. The guest maps each of its pages from
 * machine memory at its IPA into one contiguous view, closes every fd but
 * stdout and stderr (this process's, as they are now), unmaps every other
 * shared mapping, then locks itself down: when root
 * it switches to uid and gid 65534, and it installs a seccomp allow-list
 * (no_new_privs): threads, futexes, anonymous memory, time, sleeps,
 * signals to itself, writes to stdout/stderr (docs/threat-model.md,
 * "Guests' reach"). A call outside the list never runs: the hypervisor
 * logs it (one line naming the call) and kills the guest
 * (tg_guest_stats().killed_syscall). open, fstat, mremap and clone3 fail
 * with an error instead, which the C library copes with. The process
 * exits with _exit(0) when @fn returns, and is killed if the hypervisor
 * process dies.
 *
 * @fn must be code the program had when it created its first machine
 * (not a library loaded since: TG_EINVAL, logged). Globals the program
 * changed since then are seen as they were then: pass what the guest
 * needs in @arg. LeakSanitizer cannot run its exit-time check in a
 * locked-down guest (it needs ptrace): guests end with _exit().
 *
 * Return: TG_OK; TG_EINVAL; TG_EEXIST (client id in use); TG_ELIMIT (too
 * many guests, vCPUs or pages); TG_ENOMEM (not enough free machine pages);
 * TG_ENOTSUP (process mode: the kernel cannot notify the hypervisor of a
 * refused call, Linux < 5.7; logged); TG_EPROTO (process mode: the zygote
 * is gone, e.g. killed; logged); or the error of tg_domain_create().
 */
int tg_guest_start(struct tg_machine *m, const struct tg_guest_config *cfg,
		   void (*fn)(struct tg_vcpu *vcpu0, void *arg), void *arg,
		   struct tg_guest **out);

/**
 * tg_guest_start_exec() - create a guest that runs the program @path.
 * @argv: its argv (NULL = { path, NULL }); the environment is the
 *        caller's plus TEEGATE_GUEST_BOOT.
 *
 * The child execs @path with four extra fds: machine memory, a boot page
 * (client id, vCPU count, the p2m as page offsets), the guest's shared
 * trap pages and the socket over which the lockdown hands the filter's
 * listener to the hypervisor, named in TEEGATE_GUEST_BOOT. The program
 * must be linked with teegate_host and call tg_guest_enter() first thing
 * in main(): it maps the guest's pages and trap pages, closes every fd
 * but stdout and stderr, locks the process down as tg_guest_start()
 * describes, and returns vCPU 0.
 *
 * The window, honestly: from exec until tg_guest_enter() returns the
 * process holds an fd of ALL machine memory and its privileges. Anything
 * that runs in that window (the dynamic loader, LD_PRELOAD libraries,
 * constructors) is trusted. tg_guest_enter() runs from a constructor of
 * the guest runtime when it is linked in, which narrows but does not close
 * the window. A program that never calls tg_guest_enter() and is not
 * linked with the runtime keeps the fds: exec only programs you trust as
 * much as the hypervisor until that point. (A real hypervisor has no such
 * window: the loader would be the hypervisor itself.)
 */
int tg_guest_start_exec(struct tg_machine *m,
			const struct tg_guest_config *cfg, const char *path,
			char *const argv[], struct tg_guest **out);

/**
 * tg_guest_enter() - inside a program started by tg_guest_start_exec():
 * finish booting (see above) and return vCPU 0. NULL when the process was
 * not started as a guest, or the boot information is bad.
 */
struct tg_vcpu *tg_guest_enter(void);

/**
 * tg_guest_kill() - stop a guest now. Process mode: SIGKILL. Thread mode:
 * every vCPU thread ends (pthread_exit) at its next trap or
 * tg_notif_wait(); a vCPU that never traps cannot be stopped. A trap being
 * handled when the guest dies completes in the hypervisor; nothing waits on
 * the dead guest. Call tg_guest_wait() afterwards.
 */
int tg_guest_kill(struct tg_guest *g);

/**
 * tg_guest_wait() - wait until the guest has ended, then tear it down:
 * stop its handler threads, call tg_domain_destroy() until it returns
 * TG_OK (every pin the mediator held is dropped), and return its pages to
 * the free pool (pages still pinned stay quarantined until unpinned).
 * @wstatus: out, optional, a waitpid()-style status (WIFEXITED/
 *           WIFSIGNALED...). Thread mode: always exited with 0.
 * @timeout_ms: <0 waits forever. The teardown may take long too: a
 *              call running a TA is finished one SMC per step. On a
 *              timeout during it, the next call resumes where it was.
 * Return: TG_OK; TG_AGAIN on timeout (the guest is not running any more
 * if the teardown had begun; call again to finish it); TG_EBUSY when the
 * domain could not be fully destroyed (reported in the log).
 */
int tg_guest_wait_timeout(struct tg_guest *g, int timeout_ms, int *wstatus);
int tg_guest_wait(struct tg_guest *g, int *wstatus);

/**
 * tg_guest_release() - free the handle of a guest that tg_guest_wait()
 * tore down. Optional: tg_machine_destroy() releases every guest.
 */
void tg_guest_release(struct tg_guest *g);

/** Guest states, as tg_guest_stats() reports them. */
enum tg_guest_state {
	TG_GUEST_RUNNING = 0,
	TG_GUEST_EXITED,   /* ended, not yet torn down */
	TG_GUEST_DESTROYED,
};

/**
 * struct tg_guest_stats - what the hypervisor knows about a guest.
 * @domain:        the mediator's statistics (zero without mediator, or
 *                 once the domain is destroyed: @has_domain says).
 * @pages_owned:   pages mapped in its p2m.
 * @pages_pinned:  pages of this client with a pin count > 0 (including
 *                 ballooned-out ones waiting for their last unpin).
 * @pins:          sum of the pin counts of those pages.
 * @pages_quarantined: ballooned out (or of a dead guest) but still pinned.
 * @traps:         traps handled for it (SMC and HVC).
 * @killed_syscall: process guests: the system call for which the
 *                 hypervisor killed the guest because its allow-list
 *                 refuses it (the kernel's report, logged too), or -1.
 * @killed_arch:   that call's ABI (AUDIT_ARCH_*: on x86_64 also i386
 *                 for int 0x80; x32 calls carry bit 30 in the number).
 * @counters:      a copy of the guest's counters page. Written by the
 *                 guest: hostile values, display only.
 */
struct tg_guest_stats {
	uint32_t client_id;
	enum tg_guest_state state;
	pid_t pid;
	char name[32];
	bool has_domain;
	struct tg_domain_stats domain;
	uint64_t pages_owned;
	uint64_t pages_pinned;
	uint64_t pins;
	uint64_t pages_quarantined;
	uint64_t traps;
	int32_t killed_syscall;
	uint32_t killed_arch;
	struct tg_guest_counters counters;
};
int tg_guest_stats(struct tg_guest *g, struct tg_guest_stats *out);

/**
 * tg_guest_poll() - the guest's state and its counters page, as
 * tg_guest_stats() reports them (@state, @out), without its walk of the
 * machine's page table, which holds the machine lock and takes a time
 * that grows with the machine's RAM: for whoever polls while guests work
 * (teegate bench).
 */
int tg_guest_poll(struct tg_guest *g, enum tg_guest_state *state,
		  struct tg_guest_counters *out);

/** tg_guest_client_id() - the guest's client id (OP-TEE's a7). */
uint32_t tg_guest_client_id(const struct tg_guest *g);

/** tg_guest_pid() - the guest process, or 0 in thread mode. */
pid_t tg_guest_pid(const struct tg_guest *g);

/**
 * tg_guest_ipa_to_pa() - the p2m, for tests: machine address of the page
 * at @guest_ipa (any offset kept), or 0 when it is not the guest's RAM.
 */
uint64_t tg_guest_ipa_to_pa(struct tg_guest *g, uint64_t guest_ipa);

/*
 * Hypervisor calls a guest may make with the HVC conduit (tg_hvc()):
 * owner 6, vendor-specific hypervisor service, SMC64 fast calls.
 * The guest runtime uses them; guest code normally calls guest.h instead.
 */
#define TG_HVC_BALLOON_OUT 0xC6000001u /* a1 = IPA, a2 = page count */
#define TG_HVC_GET_INFO 0xC6000002u    /* -> a1 = client id, a2 = vcpus */

/* SMCCC / PSCI answers of the platform for non-TEE calls. */
#define TG_SMCCC_NOT_SUPPORTED ((uint64_t)-1)
#define TG_PSCI_VERSION 0x84000000u
#define TG_SMCCC_VERSION 0x80000000u
#define TG_PSCI_FEATURES 0x8400000Au

/** tg_hvc() - trap with the HVC conduit (hypervisor calls). */
void tg_hvc(struct tg_vcpu *vcpu, uint64_t regs[8]);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_HOST_H */
