// SPDX-License-Identifier: BSD-2-Clause
/*
 * tg-oracle.so: the isolation oracle for the real OP-TEE, a QEMU TCG
 * plugin (docs/real-optee.md, "The oracle"; the shared table is
 * ../oracle.h).
 *
 *   qemu-system-aarch64 ... -plugin tg-oracle.so,table=4,ram=3
 *
 * table=N: the fd of the oracle table (a memfd the launcher hands over);
 * ram=N:   the fd of NS RAM (the memory-backend-file QEMU maps).
 *
 * Which accesses are the secure world's. NS code runs only from NS RAM
 * here (the relay at 0x60000000; nothing else of the normal world exists),
 * and secure code only from secure RAM and flash (TF-A, OP-TEE). So at
 * translation time an instruction whose bytes are not in NS RAM
 * (qemu_plugin_insn_haddr() outside QEMU's mapping of the NS RAM file) is
 * the secure world's, and only those get a memory callback: the relay and
 * anything else of the normal world are never instrumented, never counted.
 *
 * Which accesses reach NS RAM. The host address of the access (QEMU 7.2's
 * private hwaddr, qemu_plugin_api.h) inside that same mapping; its offset
 * there is PA - ram_base. It is cross-checked against
 * qemu_plugin_hwaddr_phys_addr(), which QEMU 7.2 gets right for the NS RAM
 * block (the first block of the virt machine) only: on the first accesses
 * and then every 65536th. A mismatch marks the oracle BROKEN, and the
 * hypervisor then refuses to report a figure.
 *
 * A second mode (TG_ORACLE_MODE_RANGES) counts the instructions executed
 * in given virtual address ranges with QEMU's inline counters, for any
 * code (e.g. a hypervisor's mediator at EL2).
 *
 * With ranges=FILE instead of table=FD the plugin counts per call and
 * kind of call in given code ranges, without a table (calls.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../oracle.h"
#include "calls.h"
#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = TG_QEMU_PLUGIN_API;

#define ABI_CHECK_FIRST 64u
#define ABI_CHECK_EVERY 0xffffu
#define PAGE_SHIFT 12

static struct tg_oracle_table *tab;
static uint8_t *entries;
static uint64_t ram_base, ram_size, npages;
static uint32_t entry_size, owner_off, pins_off;
static int ram_fd = -1;

static pthread_mutex_t find_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t ram_host; /* 0 until found */
static int ram_searched;

__attribute__((format(printf, 1, 2))) static void broken(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tab) {
		vsnprintf(tab->why, sizeof(tab->why), fmt, ap);
		__atomic_store_n(&tab->state, TG_ORACLE_STATE_BROKEN,
				 __ATOMIC_RELEASE);
		fprintf(stderr, "tg-oracle: %s\n", tab->why);
	} else {
		fputs("tg-oracle: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/*
 * Where QEMU maps the NS RAM file: the VMA(s) of the file behind @ram_fd
 * at file offset 0, @ram_size long. Found at the first translation, when
 * the machine exists.
 */
static void find_ram(void)
{
	unsigned long lo, hi, off, ino, want_ino;
	uintptr_t start = 0, next = 0;
	char line[512], dev[32];
	struct stat st;
	FILE *f;

	if (fstat(ram_fd, &st)) {
		broken("cannot stat the RAM fd %d: %s", ram_fd, strerror(errno));
		return;
	}
	want_ino = (unsigned long)st.st_ino;
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		broken("cannot read /proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx %31s %lu", &lo, &hi, &off, dev,
			   &ino) != 5 ||
		    ino != want_ino)
			continue;
		if (!start && off == 0) {
			start = lo;
			next = hi;
		} else if (start && lo == next &&
			   off == (unsigned long)(next - start)) {
			next = hi;
		}
	}
	fclose(f);
	if (!start || next - start < ram_size) {
		broken("QEMU does not map the NS RAM file (inode %lu) as one "
		       "%" PRIu64 " MiB region",
		       want_ino, ram_size >> 20);
		return;
	}
	tab->ram_host = start;
	__atomic_store_n(&ram_host, start, __ATOMIC_RELEASE);
	__atomic_store_n(&tab->state, TG_ORACLE_STATE_RUNNING,
			 __ATOMIC_RELEASE);
}

static inline bool in_ns_ram(uintptr_t host)
{
	return host - ram_host < ram_size;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(uint32_t vcpu, uint64_t pa, uint64_t insn, uint32_t client,
		   uint32_t owner, uint32_t pins, uint8_t kind, bool write)
{
	uint64_t n = __atomic_fetch_add(&tab->nrec, 1, __ATOMIC_RELAXED);
	struct tg_oracle_rec *r;

	__atomic_fetch_add(kind == TG_ORACLE_FOREIGN ? &tab->foreign
						     : &tab->unpinned,
			   1, __ATOMIC_RELAXED);
	if (n >= TG_ORACLE_RECORDS)
		return;
	r = &tab->rec[n];
	r->pa = pa;
	r->time_ns = now_ns();
	r->insn = insn;
	r->client = client;
	r->owner = owner;
	r->pins = pins;
	r->cpu = (uint16_t)vcpu;
	r->kind = kind;
	r->write = write;
	__atomic_store_n(&r->valid, 1, __ATOMIC_RELEASE);
}

/* One access by the secure world to NS RAM page @pa (armed). */
static void check_page(unsigned int vcpu, uint64_t pa, uint64_t insn,
		       bool write)
{
	uint32_t slot = vcpu < TG_ORACLE_MAX_CPUS ? vcpu
						  : TG_ORACLE_MAX_CPUS - 1;
	struct tg_oracle_cpu *c = &tab->cpu[slot];
	uint64_t pfn = (pa - ram_base) >> PAGE_SHIFT;
	const uint8_t *e = entries + pfn * entry_size;
	uint32_t owner, pins, client;

	if (pfn >= npages)
		return;
	owner = __atomic_load_n((const uint32_t *)(e + owner_off),
				__ATOMIC_RELAXED);
	pins = __atomic_load_n((const uint32_t *)(e + pins_off),
			       __ATOMIC_RELAXED);
	client = vcpu < TG_ORACLE_MAX_CPUS
			 ? __atomic_load_n(&c->client, __ATOMIC_ACQUIRE)
			 : 0;
	/* one writer per vCPU thread: no read-modify-write needed */
	__atomic_store_n(&c->checked,
			 __atomic_load_n(&c->checked, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	if (owner == TG_ORACLE_OWNER_MEDIATOR)
		return;
	if (client && owner == client && pins)
		return;
	__atomic_store_n(&c->violations,
			 __atomic_load_n(&c->violations, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	record(vcpu, pa, insn, client, owner, pins,
	       client && owner == client ? TG_ORACLE_UNPINNED
					 : TG_ORACLE_FOREIGN,
	       write);
}

/*
 * The PA of @vaddr's access if it is in NS RAM, else UINT64_MAX. Each
 * vCPU paces its cross-checks with its own counter (one writer, no
 * shared cache line on the hot path).
 */
static uint64_t ns_pa(unsigned int vcpu, qemu_plugin_meminfo_t info,
		      uint64_t vaddr)
{
	struct qemu_plugin_hwaddr *h = qemu_plugin_get_hwaddr(info, vaddr);
	struct tg_oracle_cpu *c =
		&tab->cpu[vcpu < TG_ORACLE_MAX_CPUS ? vcpu
						    : TG_ORACLE_MAX_CPUS - 1];
	uintptr_t host;
	uint64_t pa, n, phys;

	if (!h || qemu_plugin_hwaddr_is_io(h))
		return UINT64_MAX;
	host = (uintptr_t)((const struct qemu72_hwaddr *)h)->v.ram.hostaddr;
	if (!in_ns_ram(host))
		return UINT64_MAX;
	pa = ram_base + (host - ram_host);
	n = __atomic_load_n(&c->ns_seen, __ATOMIC_RELAXED);
	__atomic_store_n(&c->ns_seen, n + 1, __ATOMIC_RELAXED);
	if (n < ABI_CHECK_FIRST || !(n & ABI_CHECK_EVERY)) {
		__atomic_fetch_add(&tab->abi_checks, 1, __ATOMIC_RELAXED);
		phys = qemu_plugin_hwaddr_phys_addr(h);
		if (phys != pa &&
		    __atomic_load_n(&tab->state, __ATOMIC_RELAXED) !=
			    TG_ORACLE_STATE_BROKEN)
			broken("host address and QEMU disagree on an access: "
			       "pa %#" PRIx64 " vs %#" PRIx64
			       " (not QEMU 7.2's plugin internals?)",
			       pa, phys);
	}
	return pa;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
		   uint64_t vaddr, void *udata)
{
	bool armed = __atomic_load_n(&tab->armed, __ATOMIC_RELAXED);
	unsigned int size;
	uint64_t pa;

	/* Before boot ends only the first cross-checks are of interest. */
	if (!armed &&
	    __atomic_load_n(&tab->abi_checks, __ATOMIC_RELAXED) >=
		    ABI_CHECK_FIRST)
		return;
	pa = ns_pa(vcpu, info, vaddr);
	if (armed && pa != UINT64_MAX)
		check_page(vcpu, pa, (uint64_t)(uintptr_t)udata,
			   qemu_plugin_mem_is_store(info));
	/* An access that crosses into the next virtual page. */
	size = 1u << qemu_plugin_mem_size_shift(info);
	if (((vaddr & 0xfffu) + size) > 0x1000u) {
		pa = ns_pa(vcpu, info, vaddr + size - 1);
		if (armed && pa != UINT64_MAX)
			check_page(vcpu, pa & ~0xfffull,
				   (uint64_t)(uintptr_t)udata,
				   qemu_plugin_mem_is_store(info));
	}
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	uint32_t r;

	(void)id;
	if (!__atomic_load_n(&ram_host, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&find_lock);
		if (!ram_searched) {
			ram_searched = 1;
			find_ram();
		}
		pthread_mutex_unlock(&find_lock);
		if (!__atomic_load_n(&ram_host, __ATOMIC_ACQUIRE))
			return;
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t va = qemu_plugin_insn_vaddr(insn);
		uintptr_t code = (uintptr_t)qemu_plugin_insn_haddr(insn);

		if (tab->mode & TG_ORACLE_MODE_RANGES) {
			for (r = 0; r < tab->nranges; r++)
				if (va >= tab->ranges[r].lo &&
				    va < tab->ranges[r].hi)
					qemu_plugin_register_vcpu_insn_exec_inline(
						insn, QEMU_PLUGIN_INLINE_ADD_U64,
						&tab->ranges[r].count, 1);
		}
		if (!(tab->mode & TG_ORACLE_MODE_ACCESS) || in_ns_ram(code))
			continue; /* the normal world's: never checked */
		qemu_plugin_register_vcpu_mem_cb(insn, on_mem,
						 QEMU_PLUGIN_CB_NO_REGS,
						 QEMU_PLUGIN_MEM_RW,
						 (void *)(uintptr_t)va);
	}
}

static int arg_fd(const char *arg, const char *name, int *fd)
{
	size_t len = strlen(name);
	char *end;
	long v;

	if (strncmp(arg, name, len) || arg[len] != '=')
		return 0;
	errno = 0;
	v = strtol(arg + len + 1, &end, 10);
	if (errno || *end || v < 0 || v > 1 << 20)
		return -1;
	*fd = (int)v;
	return 1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	struct tg_oracle_table hdr;
	int table_fd = -1, i, r;
	size_t len;
	void *map;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "ranges=", 7))
			return tg_calls_install(id, info, argc, argv);
	ram_fd = 3;
	for (i = 0; i < argc; i++) {
		r = arg_fd(argv[i], "table", &table_fd);
		if (!r)
			r = arg_fd(argv[i], "ram", &ram_fd);
		if (r <= 0) {
			broken("unknown or bad argument '%s' (use table=FD,ram=FD)",
			       argv[i]);
			return -1;
		}
	}
	if (table_fd < 0) {
		broken("no table=FD argument");
		return -1;
	}
	if (pread(table_fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr.magic != TG_ORACLE_MAGIC || hdr.version != TG_ORACLE_VERSION) {
		broken("fd %d is not a version %u oracle table", table_fd,
		       TG_ORACLE_VERSION);
		return -1;
	}
	len = (size_t)hdr.header_size + (size_t)hdr.npages * hdr.entry_size;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, table_fd, 0);
	if (map == MAP_FAILED) {
		broken("cannot map the oracle table: %s", strerror(errno));
		return -1;
	}
	tab = map;
	entries = tg_oracle_entries(tab);
	ram_base = tab->ram_base;
	npages = tab->npages;
	ram_size = npages << PAGE_SHIFT;
	entry_size = tab->entry_size;
	owner_off = tab->owner_off;
	pins_off = tab->pins_off;
	if (entry_size < 8 || owner_off > entry_size - 4 ||
	    pins_off > entry_size - 4) {
		broken("bad page entry layout in the table");
		return -1;
	}
	if (!info->system_emulation || info->version.cur != TG_QEMU_PLUGIN_API) {
		/* Still load, so that QEMU runs and the host says why. */
		broken("this oracle knows QEMU 7.2's plugin API (version %d); "
		       "this QEMU has version %d%s",
		       TG_QEMU_PLUGIN_API, info->version.cur,
		       info->system_emulation ? "" : " in user mode");
		return 0;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
