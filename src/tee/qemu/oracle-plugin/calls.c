// SPDX-License-Identifier: BSD-2-Clause
/*
 * The oracle plugin's per-call counting (tg-oracle.so with ranges=): the
 * instructions executed inside given code ranges, attributed per call and
 * per kind of call, for a hypervisor's mediator at EL2 (issue 14's cost in
 * the hypervisor). Unlike the oracle's inline range counters (mode
 * TG_ORACLE_MODE_RANGES, set up by the project's launcher through the
 * oracle table), it needs no table and no RAM file, so any QEMU command
 * line can use it (tools/xen's runner), and it counts per vCPU and per
 * call.
 *
 *   qemu-system-aarch64 ... -plugin tg-oracle.so,ranges=FILE,out=FILE[,log=FILE]
 *
 * The ranges file (cost-ranges.py writes it from xen-syms; '#' comments):
 *   elf ID PATH           an ELF whose bytes an address of this ID must
 *                         hold for it to count (QEMU translates code by
 *                         virtual address: another exception level may run
 *                         other code at the same address)
 *   count ID START END NAME   instructions of [START, END) executed in a
 *                         call count as the call's "mediator" instructions
 *   total ID START END NAME   instructions of [START, END) executed in a
 *                         call count in its "total" (e.g. all of Xen's text)
 *   begin ID ADDR         executing ADDR starts a call (e.g. the
 *                         "bl tee_handle_call" of Xen's vsmc.c); ADDR itself
 *                         is not counted
 *   end ID ADDR           executing ADDR ends it (the instruction after)
 *   mark ID ADDR KIND     executing ADDR (a guest's HVC at a call site of
 *                         its own) names the kind of this vCPU's next call
 *   snap ID ADDR LABEL    executing ADDR writes the running totals (e.g.
 *                         Xen's handle_keypress: dom0 runs xl debug-keys
 *                         between two xtest suites)
 * ID is an elf line's ID, or - for no check.
 *
 * A call is per vCPU: from begin to end on the same vCPU. Calls are
 * grouped by kind (the last mark before begin on that vCPU, then
 * "unmarked"). Output (out=, at exit, and one line per snap as it
 * happens):
 *   kind NAME calls=N mediator=SUM min=M max=M total=SUM tmin=M tmax=M
 *   range NAME in_calls=N outside=N
 *   snap LABEL seq=N calls=N mediator=N total=N outside=N
 *   summary calls=N mediator=N total=N outside=N unverified=N open=N
 * log= writes one line per call: call SEQ vcpu=V kind=K mediator=N total=N
 *
 * Counts are exact under TCG: a callback runs before each instruction of
 * interest executes (an instruction that faults is counted once).
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "qemu_plugin_api.h"

#define MAX_ELFS 8
#define MAX_RANGES 4096
#define MAX_POINTS 1024
#define MAX_KINDS 64
#define MAX_VCPUS 64
#define NAME_LEN 64

struct segment {
	uint64_t vaddr, size;
	const uint8_t *bytes;
};

struct elf_image {
	char id[NAME_LEN];
	struct segment seg[16];
	unsigned int nseg;
};

enum range_kind { R_COUNT, R_TOTAL };

struct range {
	enum range_kind kind;
	int elf; /* -1: no check */
	uint64_t start, end;
	char name[NAME_LEN];
	uint64_t in_calls, outside; /* R_COUNT only */
};

enum point_kind { P_BEGIN, P_END, P_MARK, P_SNAP };

struct point {
	enum point_kind kind;
	int elf;
	uint64_t addr;
	int label; /* P_MARK: kind index; P_SNAP: index into snap_names */
};

/* Everything an instruction of interest does, keyed by its address. */
struct insn_info {
	uint64_t vaddr;
	uint32_t opcode; /* the verified bytes (0 when unchecked) */
	bool checked;
	int count; /* range index, or -1 */
	bool total;
	bool begin, end;
	int mark; /* kind index, or -1 */
	int snap; /* snap label index, or -1 */
};

struct kind_stats {
	char name[NAME_LEN];
	uint64_t calls, med, med_min, med_max, tot, tot_min, tot_max;
};

struct vcpu_state {
	bool in_call;
	int next_kind; /* set by a mark, taken by the next begin */
	int kind;
	uint64_t med, tot;
};

static struct elf_image elfs[MAX_ELFS];
static unsigned int nelfs;
static struct range ranges[MAX_RANGES];
static unsigned int nranges;
static struct point points[MAX_POINTS];
static unsigned int npoints;
static struct kind_stats kinds[MAX_KINDS];
static unsigned int nkinds;
static char snap_names[MAX_POINTS][NAME_LEN];
static unsigned int nsnaps;
static struct vcpu_state vcpus[MAX_VCPUS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out, *calls_out;
static char ranges_path[512];
static uint64_t call_seq, snap_seq, unverified, outside_total;
static uint64_t sum_med, sum_tot;

/* insn_info by address: open addressing, grown under the lock. */
static struct insn_info **table;
static size_t table_cap, table_used;

static void die(const char *fmt, const char *a, const char *b)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), fmt, a, b);
	fprintf(stderr, "tg-oracle: %s\n", msg);
	exit(2);
}

/* A name, cut to NAME_LEN - 1 characters. */
static void set_name(char *dst, const char *src)
{
	size_t n = strnlen(src, NAME_LEN - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- ELF files: the bytes behind each address ------------------------------ */

static void load_elf(const char *id, const char *path)
{
	struct elf_image *e;
	Elf64_Ehdr *eh;
	uint8_t *buf;
	long size;
	FILE *f;
	int i;

	if (nelfs == MAX_ELFS)
		die("too many elf lines (at most 8)%s%s", "", "");
	f = fopen(path, "rb");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		die("cannot read %s%s", path, "");
	fclose(f);
	eh = (Elf64_Ehdr *)buf;
	if (size < (long)sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) >
		    (uint64_t)size)
		die("%s is not a 64-bit ELF file%s", path, "");
	e = &elfs[nelfs++];
	set_name(e->id, id);
	for (i = 0; i < eh->e_phnum && e->nseg < 16; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD || !ph->p_filesz ||
		    ph->p_offset + ph->p_filesz > (uint64_t)size)
			continue;
		e->seg[e->nseg].vaddr = ph->p_vaddr;
		e->seg[e->nseg].size = ph->p_filesz;
		e->seg[e->nseg].bytes = buf + ph->p_offset;
		e->nseg++;
	}
}

static int elf_index(const char *id)
{
	unsigned int i;

	if (!strcmp(id, "-"))
		return -1;
	for (i = 0; i < nelfs; i++)
		if (!strcmp(elfs[i].id, id))
			return (int)i;
	die("unknown elf id '%s' (give an elf line first)%s", id, "");
	return -1;
}

/* The 4 bytes the ELF has at @vaddr; false when it has none. */
static bool elf_word(int elf, uint64_t vaddr, uint32_t *word)
{
	const struct elf_image *e = &elfs[elf];
	unsigned int i;

	for (i = 0; i < e->nseg; i++) {
		const struct segment *s = &e->seg[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr + 4 <= s->size) {
			memcpy(word, s->bytes + (vaddr - s->vaddr), 4);
			return true;
		}
	}
	return false;
}

/* ---- the ranges file -------------------------------------------------------- */

static int kind_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i].name, name))
			return (int)i;
	if (nkinds == MAX_KINDS)
		die("too many kinds (at most 64)%s%s", "", "");
	set_name(kinds[nkinds].name, name);
	kinds[nkinds].med_min = kinds[nkinds].tot_min = UINT64_MAX;
	return (int)nkinds++;
}

static uint64_t parse_addr(const char *s, unsigned int line)
{
	char *end;
	uint64_t v;
	char where[32];

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		snprintf(where, sizeof(where), "%u", line);
		die("ranges line %s: '%s' is not an address", where, s);
	}
	return v;
}

static void read_ranges(const char *path)
{
	char line[1024], a[NAME_LEN * 8], b[NAME_LEN * 8], c[NAME_LEN * 8],
		d[NAME_LEN * 8], e[NAME_LEN * 8];
	unsigned int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open the ranges file %s: %s", path,
		    strerror(errno));
	snprintf(ranges_path, sizeof(ranges_path), "%s", path);
	kind_index("unmarked");
	while (fgets(line, sizeof(line), f)) {
		int k;
		char where[32];

		n++;
		snprintf(where, sizeof(where), "%u", n);
		if (!strchr(line, '\n') && !feof(f)) {
			/* Longer than the buffer: a comment (cost-ranges.py
			 * writes its command line as one) is skipped whole;
			 * a data line that long is no line of ours. */
			int ch;

			if (line[0] != '#')
				die("ranges line %s is longer than %s characters",
				    where, "1022");
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		k = sscanf(line, "%511s %511s %511s %511s %511s", a, b, c, d,
			   e);
		if (k >= 3 && !strcmp(a, "elf")) {
			load_elf(b, c);
		} else if (k == 5 &&
			   (!strcmp(a, "count") || !strcmp(a, "total"))) {
			struct range *r;

			if (nranges == MAX_RANGES)
				die("ranges line %s: too many ranges%s", where,
				    "");
			r = &ranges[nranges++];
			r->kind = a[0] == 'c' ? R_COUNT : R_TOTAL;
			r->elf = elf_index(b);
			r->start = parse_addr(c, n);
			r->end = parse_addr(d, n);
			set_name(r->name, e);
			if (r->end <= r->start)
				die("ranges line %s: empty range %s", where, e);
		} else if ((k == 3 &&
			    (!strcmp(a, "begin") || !strcmp(a, "end"))) ||
			   (k == 4 &&
			    (!strcmp(a, "mark") || !strcmp(a, "snap")))) {
			struct point *p;

			if (npoints == MAX_POINTS)
				die("ranges line %s: too many points%s", where,
				    "");
			p = &points[npoints++];
			p->elf = elf_index(b);
			p->addr = parse_addr(c, n);
			p->label = -1;
			if (!strcmp(a, "begin"))
				p->kind = P_BEGIN;
			else if (!strcmp(a, "end"))
				p->kind = P_END;
			else if (!strcmp(a, "mark")) {
				p->kind = P_MARK;
				p->label = kind_index(d);
			} else {
				p->kind = P_SNAP;
				set_name(snap_names[nsnaps], d);
				p->label = (int)nsnaps++;
			}
		} else {
			die("ranges line %s: cannot read '%s' (see the header of "
			    "calls.c)",
			    where, strtok(line, "\n"));
		}
	}
	fclose(f);
}

/* ---- translation: which instructions matter ---------------------------------- */

/* Does the code at @vaddr (bytes @word) belong to ELF @elf? */
static bool verified(int elf, uint64_t vaddr, uint32_t word)
{
	uint32_t want;

	if (elf < 0)
		return true;
	return elf_word(elf, vaddr, &want) && want == word;
}

/* Build what instruction @vaddr with bytes @word does; NULL if nothing. */
static struct insn_info *classify(uint64_t vaddr, uint32_t word)
{
	struct insn_info in = { .vaddr = vaddr,
				.opcode = word,
				.count = -1,
				.mark = -1,
				.snap = -1 };
	bool any = false, mismatch = false;
	unsigned int i;
	struct insn_info *p;

	for (i = 0; i < nranges; i++) {
		const struct range *r = &ranges[i];

		if (vaddr < r->start || vaddr >= r->end)
			continue;
		if (!verified(r->elf, vaddr, word)) {
			mismatch = true;
			continue;
		}
		if (r->elf >= 0)
			in.checked = true;
		if (r->kind == R_COUNT && in.count < 0)
			in.count = (int)i;
		else if (r->kind == R_TOTAL)
			in.total = true;
		any = true;
	}
	for (i = 0; i < npoints; i++) {
		const struct point *pt = &points[i];

		if (vaddr != pt->addr)
			continue;
		if (!verified(pt->elf, vaddr, word)) {
			mismatch = true;
			continue;
		}
		if (pt->elf >= 0)
			in.checked = true;
		any = true;
		switch (pt->kind) {
		case P_BEGIN:
			in.begin = true;
			break;
		case P_END:
			in.end = true;
			break;
		case P_MARK:
			in.mark = pt->label;
			break;
		case P_SNAP:
			in.snap = pt->label;
			break;
		}
	}
	if (mismatch && !any)
		__atomic_fetch_add(&unverified, 1, __ATOMIC_RELAXED);
	if (!any)
		return NULL;
	p = malloc(sizeof(*p));
	if (!p)
		die("out of memory%s%s", "", "");
	*p = in;
	return p;
}

static size_t slot(uint64_t vaddr, size_t cap)
{
	return (size_t)((vaddr >> 2) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static void table_insert(struct insn_info *in)
{
	size_t i;

	if ((table_used + 1) * 2 > table_cap) {
		size_t cap = table_cap ? table_cap * 2 : 4096, j;
		struct insn_info **t = calloc(cap, sizeof(*t));

		if (!t)
			die("out of memory%s%s", "", "");
		for (j = 0; j < table_cap; j++)
			if (table[j]) {
				for (i = slot(table[j]->vaddr, cap); t[i];
				     i = (i + 1) & (cap - 1))
					;
				t[i] = table[j];
			}
		free(table);
		table = t;
		table_cap = cap;
	}
	for (i = slot(in->vaddr, table_cap); table[i];
	     i = (i + 1) & (table_cap - 1))
		;
	table[i] = in;
	table_used++;
}

/*
 * The info of (@vaddr, @word), made once per distinct code: the same
 * address may hold other code (another exception level), which gets its
 * own entry or none.
 */
static struct insn_info *lookup(uint64_t vaddr, uint32_t word)
{
	struct insn_info *in = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	if (table_cap)
		for (i = slot(vaddr, table_cap); table[i];
		     i = (i + 1) & (table_cap - 1))
			if (table[i]->vaddr == vaddr &&
			    table[i]->opcode == word) {
				in = table[i];
				break;
			}
	if (!in) {
		in = classify(vaddr, word);
		if (in)
			table_insert(in);
	}
	pthread_mutex_unlock(&lock);
	return in;
}

/* ---- execution ------------------------------------------------------------------ */

static void end_call(unsigned int vcpu, struct vcpu_state *v)
{
	struct kind_stats *k = &kinds[v->kind];

	pthread_mutex_lock(&lock);
	k->calls++;
	k->med += v->med;
	k->tot += v->tot;
	if (v->med < k->med_min)
		k->med_min = v->med;
	if (v->med > k->med_max)
		k->med_max = v->med;
	if (v->tot < k->tot_min)
		k->tot_min = v->tot;
	if (v->tot > k->tot_max)
		k->tot_max = v->tot;
	sum_med += v->med;
	sum_tot += v->tot;
	call_seq++;
	if (calls_out)
		fprintf(calls_out,
			"call %" PRIu64 " vcpu=%u kind=%s mediator=%" PRIu64
			" total=%" PRIu64 "\n",
			call_seq, vcpu, k->name, v->med, v->tot);
	pthread_mutex_unlock(&lock);
	v->in_call = false;
}

static void snapshot(int label)
{
	pthread_mutex_lock(&lock);
	snap_seq++;
	if (out) {
		fprintf(out,
			"snap %s seq=%" PRIu64 " calls=%" PRIu64
			" mediator=%" PRIu64 " total=%" PRIu64
			" outside=%" PRIu64 "\n",
			snap_names[label], snap_seq, call_seq, sum_med, sum_tot,
			outside_total);
		fflush(out);
	}
	pthread_mutex_unlock(&lock);
}

static void on_insn(unsigned int vcpu, void *udata)
{
	const struct insn_info *in = udata;
	struct vcpu_state *v;

	if (vcpu >= MAX_VCPUS)
		return;
	v = &vcpus[vcpu];
	if (in->end && v->in_call)
		end_call(vcpu, v);
	if (v->in_call) {
		if (in->count >= 0) {
			v->med++;
			__atomic_fetch_add(&ranges[in->count].in_calls, 1,
					   __ATOMIC_RELAXED);
		}
		if (in->total)
			v->tot++;
	} else if (in->count >= 0) {
		__atomic_fetch_add(&ranges[in->count].outside, 1,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&outside_total, 1, __ATOMIC_RELAXED);
	}
	if (in->begin) {
		if (v->in_call)
			end_call(vcpu, v); /* never ended: counted as it is */
		v->in_call = true;
		v->kind = v->next_kind;
		v->next_kind = 0;
		v->med = v->tot = 0;
	}
	if (in->mark >= 0)
		v->next_kind = in->mark;
	if (in->snap >= 0)
		snapshot(in->snap);
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;

	(void)id;
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
		struct insn_info *in;
		uint32_t word = 0;

		if (qemu_plugin_insn_size(insn) == 4)
			memcpy(&word, qemu_plugin_insn_data(insn), 4);
		in = lookup(vaddr, word);
		if (in)
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, in);
	}
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	uint64_t open_calls = 0;
	unsigned int i;

	(void)id;
	(void)udata;
	for (i = 0; i < MAX_VCPUS; i++)
		open_calls += vcpus[i].in_call;
	if (!out)
		return;
	fprintf(out, "# tg-oracle: ranges %s\n", ranges_path);
	for (i = 0; i < nkinds; i++) {
		const struct kind_stats *k = &kinds[i];

		if (!k->calls)
			continue;
		fprintf(out,
			"kind %s calls=%" PRIu64 " mediator=%" PRIu64
			" min=%" PRIu64 " max=%" PRIu64 " total=%" PRIu64
			" tmin=%" PRIu64 " tmax=%" PRIu64 "\n",
			k->name, k->calls, k->med, k->med_min, k->med_max,
			k->tot, k->tot_min, k->tot_max);
	}
	for (i = 0; i < nranges; i++)
		if (ranges[i].kind == R_COUNT)
			fprintf(out,
				"range %s in_calls=%" PRIu64 " outside=%" PRIu64
				"\n",
				ranges[i].name, ranges[i].in_calls,
				ranges[i].outside);
	fprintf(out,
		"summary calls=%" PRIu64 " mediator=%" PRIu64 " total=%" PRIu64
		" outside=%" PRIu64 " unverified=%" PRIu64 " open=%" PRIu64
		"\n",
		call_seq, sum_med, sum_tot, outside_total, unverified,
		open_calls);
	fflush(out);
	if (calls_out)
		fflush(calls_out);
}

int tg_calls_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
		     char **argv)
{
	const char *rpath = NULL, *opath = NULL, *cpath = NULL;
	int i;

	if (!info->system_emulation ||
	    info->version.cur != TG_QEMU_PLUGIN_API) {
		fprintf(stderr,
			"tg-oracle: ranges= counts in system emulation with "
			"QEMU 7.2's plugin API (version %d); this QEMU has "
			"version %d%s\n",
			TG_QEMU_PLUGIN_API, info->version.cur,
			info->system_emulation ? "" : " in user mode");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "ranges=", 7))
			rpath = argv[i] + 7;
		else if (!strncmp(argv[i], "out=", 4))
			opath = argv[i] + 4;
		else if (!strncmp(argv[i], "log=", 4))
			cpath = argv[i] + 4;
		else {
			fprintf(stderr,
				"tg-oracle: unknown argument '%s' with ranges=: "
				"use ranges=FILE,out=FILE[,log=FILE]\n",
				argv[i]);
			return -1;
		}
	}
	if (!rpath || !opath) {
		fprintf(stderr, "tg-oracle: ranges=FILE needs out=FILE "
				"(-plugin tg-oracle.so,ranges=R,out=O)\n");
		return -1;
	}
	read_ranges(rpath);
	out = fopen(opath, "w");
	if (!out) {
		fprintf(stderr, "tg-oracle: cannot write %s: %s\n", opath,
			strerror(errno));
		return -1;
	}
	if (cpath && !(calls_out = fopen(cpath, "w"))) {
		fprintf(stderr, "tg-oracle: cannot write %s: %s\n", cpath,
			strerror(errno));
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
