/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The real-OP-TEE backend: QEMU's virt machine runs TF-A and OP-TEE in the
 * secure world and our relay firmware (relay/) at NS-EL2; the hosted
 * hypervisor posts SMCs to the relay through a mailbox in NS RAM and sees
 * all of QEMU's RAM through a shared memfd (byte PA - 0x40000000 of the
 * file is physical address PA).
 *
 *   tg_qemu_start()    launch QEMU, wait until every relay CPU is ready
 *   tg_qemu_smc()      issue one SMC on a relay CPU (thread-safe)
 *   tg_qemu_ram()      QEMU's RAM, mapped here; tg_qemu_ram_fd() its fd
 *   tg_qemu_reserved() regions to keep out of the guests' page pool
 *   tg_qemu_stop()     kill and reap QEMU, unmap, remove the work dir
 *
 * No QEMU outlives its launcher: QEMU is forked by a thread of the backend
 * that lives until tg_qemu_stop() and gets SIGKILL when that thread dies
 * (PR_SET_PDEATHSIG), i.e. when the process dies in any way; and
 * tg_qemu_stop() kills and reaps it. Any thread may call tg_qemu_start(). RAM is a memfd handed to QEMU as /proc/self/fd/3: there is
 * never a RAM file to leave behind. The private work dir (relay copy, links
 * to the firmware, logs by default) is removed as soon as the relay is
 * ready, so even a crash after boot leaves no file.
 */
#ifndef TEEGATE_QEMU_H
#define TEEGATE_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/host.h>
#include <teegate/mediator.h>
#include <teegate/port.h>

#include "oracle.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_qemu;

/*
 * Errors of tg_qemu_start() (negative) and of the probe check. Every one
 * comes with a one-line message saying what is wrong and what to do; a CLI
 * maps all of them to exit status 2.
 */
enum tg_qemu_error {
	TG_QEMU_OK = 0,
	TG_QEMU_EINVAL = -1,      /* bad configuration */
	TG_QEMU_ENOQEMU = -2,     /* qemu-system-aarch64 not found */
	TG_QEMU_ENOFIRMWARE = -3, /* firmware dir missing or incomplete */
	TG_QEMU_ENORELAY = -4,    /* relay image not built or unreadable */
	TG_QEMU_EDIED = -5,       /* QEMU exited during boot */
	TG_QEMU_ETIMEOUT = -6,    /* relay not ready in time */
	TG_QEMU_EPROTO = -7,      /* relay speaks another protocol version */
	TG_QEMU_ESYS = -8,        /* a system call failed */
	TG_QEMU_ENOTEE = -9,      /* relay fine, no OP-TEE answered */
	TG_QEMU_ENOVIRT = -10,    /* OP-TEE without virtualization (warning) */
	TG_QEMU_ENOORACLE = -11,  /* oracle plugin missing or not working */
};

#define TG_QEMU_DEFAULT_RAM_SIZE (1ull << 30)
#define TG_QEMU_DEFAULT_CPUS 2u
#define TG_QEMU_MAX_CPUS 4u /* TF-A's qemu platform: 4 CPUs per cluster */
#define TG_QEMU_DEFAULT_TIMEOUT_MS 60000u
#define TG_QEMU_RAM_BASE 0x40000000ull
#define TG_QEMU_CPU_ANY UINT32_MAX

/**
 * struct tg_qemu_config - how to launch. Zero/NULL means default.
 * @firmware_dir: TF-A + OP-TEE images (not modified, not needed with
 *                @no_secure): either flash.bin (BL1 + FIP), or bl1.bin +
 *                fip.bin, or the semihosting set bl1.bin, bl2.bin,
 *                bl31.bin, bl32.bin, bl32_extra1.bin, bl32_extra2.bin.
 *                The relay is always supplied as bl33.bin over
 *                semihosting: a FIP must not contain a BL33.
 * @no_secure:    no secure world (CI): -machine virt,secure=off and the
 *                relay as -kernel; QEMU itself answers PSCI and nothing
 *                else.
 * @qemu_path:    the QEMU binary; default qemu-system-aarch64 from PATH.
 * @relay_dir:    where relay.elf/relay.bin are; default the build tree.
 * @log_dir:      where nw.log (normal-world UART: TF-A, relay), sw.log
 *                (secure UART: OP-TEE) and qemu.log (QEMU's own stderr)
 *                are kept; default: not kept (they live in the work dir,
 *                removed once the relay is ready; tails stay readable).
 * @ram_size:     NS RAM at 0x40000000; default 1 GiB; multiple of 2 MiB,
 *                at least 1 GiB (the relay sits at 0x60000000).
 * @cpus:         QEMU CPUs, one relay each; default 2, max
 *                TG_QEMU_MAX_CPUS.
 * @timeout_ms:   boot until every relay CPU is ready; default 60 s.
 * @gic_version:  2 (default) or 3 (needs a TF-A built for GICv3; the
 *                relay then spins instead of sleeping when idle).
 * @oracle:       load the isolation oracle (the TCG plugin tg-oracle.so,
 *                docs/real-optee.md "The oracle"): every access the secure
 *                world makes to NS RAM is checked against the page table
 *                of tg_qemu_oracle_pages(). Armed once the relay is ready.
 * @oracle_plugin: the plugin; default the build tree's.
 * @oracle_ranges: with @oracle_nranges (at most TG_ORACLE_MAX_RANGES):
 *                also count the instructions executed in these [lo, hi)
 *                virtual address ranges (tg_qemu_oracle_range_count()).
 */
struct tg_qemu_range {
	uint64_t lo;
	uint64_t hi;
};

struct tg_qemu_config {
	const char *firmware_dir;
	bool no_secure;
	const char *qemu_path;
	const char *relay_dir;
	const char *log_dir;
	uint64_t ram_size;
	uint32_t cpus;
	uint32_t timeout_ms;
	uint32_t gic_version;
	bool oracle;
	const char *oracle_plugin;
	const struct tg_qemu_range *oracle_ranges;
	uint32_t oracle_nranges;
};

/**
 * tg_qemu_start() - launch QEMU and wait for the relay.
 * @err: filled with one line (what is wrong, what to do) on failure.
 * Return: TG_QEMU_OK or a negative enum tg_qemu_error.
 */
int tg_qemu_start(const struct tg_qemu_config *cfg, struct tg_qemu **out,
		  char *err, size_t errlen);

/**
 * tg_qemu_stop() - SIGKILL and reap QEMU, unmap RAM, close the memfd,
 * remove the work dir. Safe on NULL.
 */
void tg_qemu_stop(struct tg_qemu *q);

/**
 * tg_qemu_smc() - smc #0 on relay CPU @cpu with x0..x7 = @regs; blocks
 * until the answer is in @regs. a7 is passed as given: setting the client
 * id is the caller's (the hypervisor's) privilege.
 * @cpu: a relay CPU (taken modulo the CPU count), or TG_QEMU_CPU_ANY for
 *       an idle one. Callers of the same CPU are serialised; different
 *       CPUs are in the secure world at the same time.
 * Return: TG_OK; TG_EINVAL; TG_EPROTO when QEMU has died (then @regs[0]
 * is OP-TEE's UNKNOWN_FUNCTION so that callers fail cleanly).
 */
int tg_qemu_smc(struct tg_qemu *q, uint32_t cpu, uint64_t regs[8]);

/**
 * tg_qemu_smc_as() - tg_qemu_smc() on behalf of @client, which may differ
 * from a7 (a guest that sets its own a7, TG_MEDIATION_DIRECT with
 * direct_raw_a7): the oracle checks the secure world's accesses against
 * @client's pages and counts an SMC that names another client as an
 * identity violation (a7; for FF-A a direct request's sender, a framework
 * message's VM). tg_qemu_smc() is tg_qemu_smc_as() with @client = a7.
 */
int tg_qemu_smc_as(struct tg_qemu *q, uint32_t cpu, uint32_t client,
		   uint64_t regs[8]);

/**
 * tg_qemu_ping() - a round trip through the mailbox without an SMC, to
 * measure the relay alone. Same rules as tg_qemu_smc().
 */
int tg_qemu_ping(struct tg_qemu *q, uint32_t cpu);

/**
 * tg_qemu_ram() - QEMU's NS RAM as mapped in this process (MAP_SHARED):
 * @ptr + (PA - @pa_base) is physical address PA. Any out may be NULL.
 */
void tg_qemu_ram(const struct tg_qemu *q, uint64_t *pa_base, uint64_t *size,
		 void **ptr);

/**
 * tg_qemu_ram_fd() - the RAM memfd (owned by @q, valid until stop), and
 * @path (optional) "/proc/self/fd/N", which this process can open() to map
 * the same memory, e.g. as tg_machine_config.backing_path.
 */
int tg_qemu_ram_fd(const struct tg_qemu *q, char *path, size_t pathlen);

/**
 * tg_qemu_reserved() - regions of RAM that must never be handed to guests
 * or the mediator: the device tree page, OP-TEE's reserved SHM, the relay
 * image and the mailbox. Returns how many there are; fills up to @max.
 */
uint32_t tg_qemu_reserved(const struct tg_qemu *q, struct tg_mem_region *out,
			  uint32_t max);

/**
 * tg_qemu_machine_memory() - point the hosted platform's machine memory at
 * QEMU's RAM: fills @cfg's ram_base, ram_size, backing (TG_BACKING_FILE),
 * backing_path (@path, filled with "/proc/self/fd/N") and reserved
 * (@regions, filled with tg_qemu_reserved()). @path and @regions must
 * outlive tg_machine_create(). The secure-world backend itself (an smc
 * going to tg_qemu_smc()) is the platform's to select.
 * Return: TG_OK, or TG_EINVAL when @max or @pathlen is too small.
 */
int tg_qemu_machine_memory(const struct tg_qemu *q,
			   struct tg_machine_config *cfg,
			   struct tg_mem_region *regions, uint32_t max,
			   char *path, size_t pathlen);

/** tg_qemu_cpus() - relay CPUs serving. */
uint32_t tg_qemu_cpus(const struct tg_qemu *q);

/** tg_qemu_boot_ms() - from exec of QEMU until every relay was ready. */
double tg_qemu_boot_ms(const struct tg_qemu *q);

/**
 * tg_qemu_log_path() - the "nw" (normal-world UART: TF-A, relay), "sw"
 * (secure UART: OP-TEE) or "qemu" (QEMU's stderr) log file, when
 * @log_dir was given; NULL otherwise (the logs then live only as long as
 * the backend: use tg_qemu_log_tail()).
 */
const char *tg_qemu_log_path(const struct tg_qemu *q, const char *which);

/** tg_qemu_log_tail() - the last @lines lines of a log, on one line. */
void tg_qemu_log_tail(const struct tg_qemu *q, const char *which, int lines,
		      char *out, size_t outlen);

/** tg_qemu_pid() - QEMU's pid (tests check it is gone after stop). */
int tg_qemu_pid(const struct tg_qemu *q);

/**
 * tg_qemu_check_probe() - turn the mediator's probe result into a verdict.
 * @rc:   what tg_mediator_create() returned.
 * @info: tg_mediator_tee_info() when @rc is TG_OK, else NULL.
 * Return: TG_QEMU_OK (OP-TEE with virtualization); TG_QEMU_ENOVIRT (OP-TEE
 * without virtualization: usable by exactly one guest, @msg says so);
 * TG_QEMU_ENOTEE (no OP-TEE answered); TG_QEMU_EPROTO (any other probe
 * failure). @msg gets one line in every case.
 */
int tg_qemu_check_probe(int rc, const struct tg_tee_info *info, char *msg,
			size_t msglen);

/**
 * tg_qemu_port_init() - a port for a hypervisor without guests (probing,
 * tests, tools): smc() goes through the relay on any idle CPU; guest
 * memory operations refuse everything (no guest owns a page); shm_alloc()
 * takes pages from the backend's own pool (the top MiB of RAM, above the
 * mailbox, about 1 MiB); alloc, locks and log use libc (log to stderr when
 * @verbose). The port's context is @q.
 */
void tg_qemu_port_init(struct tg_port *port, struct tg_qemu *q, bool verbose);

/**
 * struct tg_qemu_oracle_stats - what the oracle saw (since the relay was
 * ready).
 * @on:         the oracle was asked for (@oracle in the config).
 * @running:    the plugin is attached and found NS RAM.
 * @broken:     the plugin cannot check (@why says why): no figure holds.
 * @checked:    accesses by the secure world to NS RAM, checked.
 * @violations: @foreign + @unpinned + @identity.
 * @foreign:    accesses to a page that is not the client's (another
 *              client's, free, reserved) nor a mediator page.
 * @unpinned:   accesses to the client's own page while it is not pinned.
 * @identity:   SMCs that name another client than the one on whose
 *              behalf they were sent (tg_qemu_smc_as()): a7 for OP-TEE's
 *              SMC ABI, a direct request's sender (or a framework
 *              message's VM) for FF-A.
 * @records:    violations recorded (the first TG_ORACLE_RECORDS are kept:
 *              tg_qemu_oracle_records()).
 */
struct tg_qemu_oracle_stats {
	bool on;
	bool running;
	bool broken;
	char why[TG_ORACLE_WHY_LEN];
	uint64_t checked;
	uint64_t violations;
	uint64_t foreign;
	uint64_t unpinned;
	uint64_t identity;
	uint64_t records;
};

/** tg_qemu_oracle_stats() - TG_OK, or TG_ENOTSUP without the oracle. */
int tg_qemu_oracle_stats(const struct tg_qemu *q,
			 struct tg_qemu_oracle_stats *out);

/** tg_qemu_oracle_records() - copy up to @max violation records. */
uint32_t tg_qemu_oracle_records(const struct tg_qemu *q,
				struct tg_oracle_rec *out, uint32_t max);

/** tg_qemu_oracle_arm() - count (true) or ignore (false) accesses. */
void tg_qemu_oracle_arm(struct tg_qemu *q, bool on);

/**
 * tg_qemu_oracle_pages() - the table's page entries (TG_ORACLE_ENTRY_SIZE
 * bytes each, one per NS RAM page from TG_QEMU_RAM_BASE), shared with the
 * plugin: the hosted platform keeps its page owners and pin counts there.
 * NULL without the oracle.
 */
void *tg_qemu_oracle_pages(struct tg_qemu *q, uint64_t *npages,
			   uint32_t *entry_size);

/** tg_qemu_oracle_range_count() - instructions run in range @i so far. */
uint64_t tg_qemu_oracle_range_count(const struct tg_qemu *q, uint32_t i);

/*
 * The table itself, for tools and tests that start QEMU on their own:
 * create (a memfd of the header and one entry per page, every page FREE),
 * mark owners, read the figures, destroy.
 */
int tg_oracle_table_create(uint64_t ram_base, uint64_t ram_size,
			   uint32_t ncpus, uint32_t mode,
			   struct tg_oracle_table **out, int *out_fd);
void tg_oracle_table_destroy(struct tg_oracle_table *t, int fd);
void tg_oracle_table_set_owner(struct tg_oracle_table *t, uint64_t pa,
			       uint64_t len, uint32_t owner);
void tg_oracle_table_stats(const struct tg_oracle_table *t,
			   struct tg_qemu_oracle_stats *out);
uint32_t tg_oracle_table_records(const struct tg_oracle_table *t,
				 struct tg_oracle_rec *out, uint32_t max);

/** tg_qemu_oracle_plugin_path() - the plugin the build made. */
const char *tg_qemu_oracle_plugin_path(void);

/** tg_qemu_strerror() - a short name of an enum tg_qemu_error. */
const char *tg_qemu_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* TEEGATE_QEMU_H */
