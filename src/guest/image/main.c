// SPDX-License-Identifier: BSD-2-Clause
/*
 * The hostile guest image: a bare domU that runs the project's hostile
 * catalogue (../hostile_table.c) from inside a real hypervisor and says on
 * its console what happened to each attack.
 *
 * Its command line (/chosen/bootargs; xl's extra = "..."):
 *   tg.name=NAME          label of the report lines (default hostile)
 *   tg.victim=ADDR        another guest's page, as a machine address the
 *                         attacker guessed or was told (default 0x7fff0000)
 *   tg.victim_arg=ADDR    another guest's message page (default tg.victim)
 *   tg.victim_client=N    another guest's client id (default 1: dom0 in Xen)
 *   tg.client=N           what this guest writes in a7 (default 0; a
 *                         mediator overwrites it)
 *   tg.method=hvc|smc     the OP-TEE conduit (default: /firmware/optee's
 *                         method, else hvc)
 *   tg.console=LIST       hyp, pv and/or pl011, comma separated (default:
 *                         pv on Xen, else hyp)
 *   tg.uart=ADDR          the PL011 / SBSA UART (default: from the tree)
 *   tg.ram=BASE,SIZE      this guest's RAM (default: /memory)
 *   tg.only=NAME          run one attack
 *   tg.rounds=N           run the catalogue N times (default 1)
 *   tg.off=psci|none      power off at the end (default psci)
 *   tg.mode=hostile|cost  the catalogue (default), or the cost mode's
 *                         known sequence of calls (cost.c)
 *   tg.reps=N             cost mode: calls of each kind (default 10)
 *
 * Output (one line each, greppable):
 *   TG-HOSTILE-BEGIN NAME attacks=N conduit=... victim=... ...
 *   TG-HOSTILE-TEE NAME uid=optee|other revision=MAJOR.MINOR
 *   TG-HOSTILE NAME INDEX ATTACK VERDICT contract=yes|no bare=0|1 a0=...
 *       ret=... origin=... [why=...]
 *   TG-HOSTILE-SUMMARY NAME ran=N refused=N allowed=N breached=N
 *       skipped=N as-contract=N
 *   TG-HOSTILE-BREACHES NAME none|a,b,...
 *   TG-DONE NAME rc=BREACHES
 */
#include <string.h>

#include "../hostile_table.h"
#include "image.h"

#define PG TG_HOSTILE_PAGE
#define POOL_PAGES (TG_HOSTILE_EXHAUST_MAX + 4)
#define MAX_RANGES 4

static uint8_t pages[3 + TG_HOSTILE_LIST_PAGES + POOL_PAGES][PG]
	__attribute__((aligned(PG), section(".bss.pages")));
static uint8_t pool_used[POOL_PAGES];

struct params {
	char name[32];
	uint64_t victim;
	uint64_t victim_arg;
	uint64_t victim_client;
	uint64_t client;
	int method;
	uint32_t console;
	uint64_t uart;
	uint64_t ram_base[MAX_RANGES], ram_size[MAX_RANGES];
	uint32_t ram_count;
	char only[40];
	uint64_t rounds;
	bool off;
	bool cost;
	uint64_t reps;
};

static struct params P;
static struct tg_dt_info DT;
static const uint8_t *dtb;
static int psci_conduit = TG_CONDUIT_HVC;

/* ---- power ------------------------------------------------------------------- */

#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_64 0xC4000003u
#define PSCI_SYSTEM_OFF 0x84000008u

static void psci(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t *ret)
{
	uint64_t regs[8] = { fid, a1, a2, a3, 0, 0, 0, 0 };

	tg_img_call(regs, psci_conduit);
	if (ret)
		*ret = regs[0];
}

static void __attribute__((noreturn)) power_off(void)
{
	tg_con_flush();
	if (P.off)
		psci(PSCI_SYSTEM_OFF, 0, 0, 0, NULL);
	tg_img_halt();
}

void tg_image_fault(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
	tg_puts("\nTG-HOSTILE-FAULT ");
	tg_puts(P.name[0] ? P.name : "hostile");
	tg_puts(" vector=");
	tg_put_dec(kind);
	tg_puts(" esr=");
	tg_put_hex(esr);
	tg_puts(" elr=");
	tg_put_hex(elr);
	tg_puts(" far=");
	tg_put_hex(far);
	tg_puts("\nTG-DONE ");
	tg_puts(P.name[0] ? P.name : "hostile");
	tg_puts(" rc=fault\n");
	power_off();
}

/* ---- the command line ----------------------------------------------------------- */

static bool key_is(const char *tok, size_t klen, const char *key)
{
	return klen == strlen(key) && !tg_strncmp(tok, key, klen);
}

static void copy_str(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = 0;
}

static void bad_arg(const char *tok, size_t len, const char *why)
{
	char buf[96];

	copy_str(buf, sizeof(buf), tok, len);
	tg_puts("TG-HOSTILE-ARG ignored '");
	tg_puts(buf);
	tg_puts("': ");
	tg_puts(why);
	tg_puts("\n");
}

static uint32_t parse_console(const char *v, size_t len)
{
	uint32_t which = 0;
	size_t i = 0;

	while (i < len) {
		size_t l = 0;

		while (i + l < len && v[i + l] != ',')
			l++;
		if (l == 3 && !tg_strncmp(v + i, "hyp", 3))
			which |= TG_CON_HYP;
		else if (l == 2 && !tg_strncmp(v + i, "pv", 2))
			which |= TG_CON_PV;
		else if (l == 5 && !tg_strncmp(v + i, "pl011", 5))
			which |= TG_CON_PL011;
		i += l + 1;
	}
	return which;
}

/* Pass 1 finds the console only; pass 2 the rest (and can report). */
static void parse_args(const char *args, int pass)
{
	const char *p = args;

	while (p && *p) {
		const char *tok, *eq, *v;
		size_t len, klen, vlen;
		uint64_t n, m;

		while (*p == ' ')
			p++;
		tok = p;
		while (*p && *p != ' ')
			p++;
		len = (size_t)(p - tok);
		if (len < 3 || tg_strncmp(tok, "tg.", 3))
			continue;
		for (eq = tok; eq < p && *eq != '='; eq++)
			;
		if (eq == p) {
			if (pass == 2)
				bad_arg(tok, len, "expected tg.KEY=VALUE");
			continue;
		}
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = (size_t)(p - v);
		if (key_is(tok, klen, "tg.console")) {
			if (pass == 1)
				P.console = parse_console(v, vlen);
			continue;
		}
		if (key_is(tok, klen, "tg.uart")) {
			if (pass == 1 && tg_parse_u64(v, vlen, &n))
				P.uart = n;
			continue;
		}
		if (pass == 1)
			continue;
		if (key_is(tok, klen, "tg.name")) {
			copy_str(P.name, sizeof(P.name), v, vlen);
		} else if (key_is(tok, klen, "tg.only")) {
			copy_str(P.only, sizeof(P.only), v, vlen);
		} else if (key_is(tok, klen, "tg.method")) {
			if (vlen == 3 && !tg_strncmp(v, "hvc", 3))
				P.method = TG_CONDUIT_HVC;
			else if (vlen == 3 && !tg_strncmp(v, "smc", 3))
				P.method = TG_CONDUIT_SMC;
			else
				bad_arg(tok, len, "use hvc or smc");
		} else if (key_is(tok, klen, "tg.mode")) {
			if (vlen == 4 && !tg_strncmp(v, "cost", 4))
				P.cost = true;
			else if (!(vlen == 7 && !tg_strncmp(v, "hostile", 7)))
				bad_arg(tok, len, "use hostile or cost");
		} else if (key_is(tok, klen, "tg.off")) {
			P.off = !(vlen == 4 && !tg_strncmp(v, "none", 4));
		} else if (key_is(tok, klen, "tg.ram")) {
			const char *c = v;

			while (c < p && *c != ',')
				c++;
			if (c < p && tg_parse_u64(v, (size_t)(c - v), &n) &&
			    tg_parse_u64(c + 1, (size_t)(p - c - 1), &m) && m &&
			    P.ram_count < MAX_RANGES) {
				P.ram_base[P.ram_count] = n;
				P.ram_size[P.ram_count++] = m;
			} else {
				bad_arg(tok, len, "use tg.ram=BASE,SIZE");
			}
		} else if (!tg_parse_u64(v, vlen, &n)) {
			bad_arg(tok, len, "not a number");
		} else if (key_is(tok, klen, "tg.victim")) {
			P.victim = n;
		} else if (key_is(tok, klen, "tg.victim_arg")) {
			P.victim_arg = n;
		} else if (key_is(tok, klen, "tg.victim_client")) {
			P.victim_client = n;
		} else if (key_is(tok, klen, "tg.client")) {
			P.client = n;
		} else if (key_is(tok, klen, "tg.rounds")) {
			P.rounds = n;
		} else if (key_is(tok, klen, "tg.reps")) {
			P.reps = n;
		} else {
			bad_arg(tok, len, "unknown key");
		}
	}
}

/* ---- the environment of hostile_table.c on a bare domU ---------------------------- */

struct image_ctx {
	int conduit;
	volatile int secondary_done;
	void (*secondary_fn)(void *arg);
	void *secondary_arg;
};

static struct image_ctx ctx;

static void env_smc(void *c, uint64_t regs[8])
{
	tg_img_call(regs, ((struct image_ctx *)c)->conduit);
}

static void *env_page_alloc(void *c, uint64_t *addr)
{
	uint32_t i;

	(void)c;
	for (i = 0; i < POOL_PAGES; i++) {
		if (!pool_used[i]) {
			uint8_t *p = pages[3 + TG_HOSTILE_LIST_PAGES + i];

			pool_used[i] = 1;
			*addr = (uint64_t)(uintptr_t)p;
			return p;
		}
	}
	return NULL;
}

static void env_page_free(void *c, void *va, uint64_t addr)
{
	uint32_t i = (uint32_t)(((uint8_t(*)[PG])va) -
				&pages[3 + TG_HOSTILE_LIST_PAGES]);

	(void)c;
	(void)addr;
	if (i < POOL_PAGES)
		pool_used[i] = 0;
}

static bool in_ram(uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < P.ram_count; i++)
		if (addr >= P.ram_base[i] &&
		    addr - P.ram_base[i] < P.ram_size[i])
			return true;
	return false;
}

/* MMU off: an IPA of our RAM is its own address. */
static const void *env_own_ptr(void *c, uint64_t addr)
{
	(void)c;
	return in_ram(addr) ? (const void *)(uintptr_t)addr : NULL;
}

/* Our RAM that holds neither the image (its bss and stacks) nor the tree. */
static void *env_spare_ptr(void *c, uint64_t addr)
{
	uint64_t page = addr & ~(uint64_t)(PG - 1);
	uint64_t img0 = (uint64_t)(uintptr_t)__image_start;
	uint64_t img1 = (uint64_t)(uintptr_t)__image_end;
	uint64_t dt0 = (uint64_t)(uintptr_t)dtb & ~(uint64_t)(PG - 1);
	uint64_t dt1 = (uint64_t)(uintptr_t)dtb + DT.dtb_size;

	(void)c;
	if (!in_ram(page) || (page + PG > img0 && page < img1) ||
	    (page + PG > dt0 && page < dt1))
		return NULL;
	return (void *)(uintptr_t)page;
}

static int env_open_session(void *c, const uint8_t uuid[16], uint32_t *session,
			    uint32_t *ret);
static void env_close_session(void *c, uint32_t session);

static struct tg_hostile_env env = {
	.ctx = &ctx,
	.smc = env_smc,
	.page_alloc = env_page_alloc,
	.page_free = env_page_free,
	.own_ptr = env_own_ptr,
	.spare_ptr = env_spare_ptr,
	.open_session = env_open_session,
	.close_session = env_close_session,
};

static int env_open_session(void *c, const uint8_t uuid[16], uint32_t *session,
			    uint32_t *ret)
{
	(void)c;
	return tg_hostile_raw_open_session(&env, uuid, session, ret);
}

static void env_close_session(void *c, uint32_t session)
{
	(void)c;
	tg_hostile_raw_close_session(&env, session);
}

void tg_image_secondary(uint64_t context)
{
	(void)context;
	ctx.secondary_fn(ctx.secondary_arg);
	__asm__ volatile("dsb sy" ::: "memory");
	ctx.secondary_done = 1;
	__asm__ volatile("dsb sy" ::: "memory");
	psci(PSCI_CPU_OFF, 0, 0, 0, NULL);
}

/* The second vCPU (MPIDR 1) through PSCI CPU_ON. */
static int env_spawn(void *c, void (*fn)(void *arg), void *arg)
{
	uint64_t ret;

	(void)c;
	ctx.secondary_fn = fn;
	ctx.secondary_arg = arg;
	ctx.secondary_done = 0;
	__asm__ volatile("dsb sy" ::: "memory");
	psci(PSCI_CPU_ON_64, 1, (uint64_t)(uintptr_t)tg_img_secondary_entry, 1,
	     &ret);
	return ret == 0 ? 1 : -1;
}

static void env_join(void *c, int index)
{
	uint64_t spins;

	(void)c;
	(void)index;
	for (spins = 0; !ctx.secondary_done && spins < (1ull << 32); spins++)
		__asm__ volatile("yield");
	/* give CPU_OFF a moment so that the next CPU_ON finds it off */
	for (spins = 0; spins < 100000; spins++)
		__asm__ volatile("yield");
}

/* ---- the run ------------------------------------------------------------------------ */

static void put_kv(const char *k, uint64_t v, bool hex)
{
	tg_puts(" ");
	tg_puts(k);
	tg_puts("=");
	if (hex)
		tg_put_hex(v);
	else
		tg_put_dec(v);
}

static void begin_line(const char *tag)
{
	tg_puts(tag);
	tg_puts(" ");
	tg_puts(P.name);
}

static void probe_tee(void)
{
	uint64_t r[8] = { OPTEE_SMC_CALLS_UID, 0, 0, 0, 0, 0, 0, P.client };
	bool optee;

	tg_img_call(r, ctx.conduit);
	optee = (uint32_t)r[0] == OPTEE_MSG_UID_0 &&
		(uint32_t)r[1] == OPTEE_MSG_UID_1 &&
		(uint32_t)r[2] == OPTEE_MSG_UID_2 &&
		(uint32_t)r[3] == OPTEE_MSG_UID_3;
	begin_line("TG-HOSTILE-TEE");
	tg_puts(optee ? " uid=optee" : " uid=other");
	if (!optee)
		put_kv("a0", r[0], true);
	memset(r, 0, sizeof(r));
	r[0] = OPTEE_SMC_GET_OS_REVISION;
	r[7] = P.client;
	tg_img_call(r, ctx.conduit);
	tg_puts(" revision=");
	tg_put_dec((uint32_t)r[0]);
	tg_puts(".");
	tg_put_dec((uint32_t)r[1]);
	tg_puts("\n");
}

static void report(const struct tg_attack *t, size_t i,
		   const struct tg_hostile_outcome *o,
		   enum tg_hostile_verdict v)
{
	begin_line("TG-HOSTILE");
	tg_puts(" ");
	tg_put_dec(i);
	tg_puts(" ");
	tg_puts(t->name);
	tg_puts(" ");
	tg_puts(tg_hostile_verdict_name(v));
	tg_puts(v == TG_VERDICT_SKIPPED			? " contract=-"
		: tg_hostile_as_contract(&t->expect, o) ? " contract=yes"
							: " contract=no");
	put_kv("bare", (uint64_t)t->bare, false);
	put_kv("a0", o->a0, true);
	put_kv("ret", o->ret, true);
	put_kv("origin", o->origin, false);
	if (o->why) {
		tg_puts(" why=");
		tg_puts(o->why);
	}
	tg_puts("\n");
}

static bool only_matches(const char *name)
{
	size_t n = strlen(P.only);

	return !n || (strlen(name) == n && !tg_strncmp(name, P.only, n));
}

static uint64_t run_catalogue(void)
{
	static const uint8_t invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
	static const uint8_t stats[16] = PTA_STATS_UUID;
	uint64_t count[4] = { 0 }, contract = 0, ran = 0, r;
	const struct tg_attack *table;
	size_t n = tg_hostile_catalogue(&table), i;
	char breaches[512];
	size_t blen = 0;
	uint32_t ret;

	env.arg = (struct optee_msg_arg *)(void *)pages[0];
	env.arg_addr = (uint64_t)(uintptr_t)pages[0];
	env.data = pages[1];
	env.data_addr = (uint64_t)(uintptr_t)pages[1];
	env.list = pages[3];
	env.list_addr = (uint64_t)(uintptr_t)pages[3];
	env.spawn = env_spawn;
	env.join = env_join;
	env.a7 = P.client;
	env.victim_addr = P.victim;
	env.victim_arg_addr = P.victim_arg;
	env.victim_client = (uint32_t)P.victim_client;

	begin_line("TG-HOSTILE-BEGIN");
	put_kv("attacks", n, false);
	tg_puts(ctx.conduit == TG_CONDUIT_SMC ? " conduit=smc"
					      : " conduit=hvc");
	put_kv("victim", P.victim, true);
	put_kv("victim_arg", P.victim_arg ? P.victim_arg : P.victim, true);
	put_kv("victim_client", P.victim_client, false);
	put_kv("a7", P.client, false);
	put_kv("ram", P.ram_count ? P.ram_base[0] : 0, true);
	put_kv("ram_size", P.ram_count ? P.ram_size[0] : 0, true);
	tg_puts(DT.xen ? " hypervisor=xen\n" : " hypervisor=other\n");
	probe_tee();
	if (env.open_session(env.ctx, invoke_tests, &env.session, &ret)) {
		begin_line("TG-HOSTILE-FAILED");
		tg_puts(" cannot open the invoke-tests PTA: ret=");
		tg_put_hex(ret);
		tg_puts("\n");
		return ~0ull;
	}
	if (env.open_session(env.ctx, stats, &env.stats_session, &ret))
		env.stats_session = 0;
	breaches[0] = 0;
	for (r = 0; r < (P.rounds ? P.rounds : 1); r++) {
		for (i = 0; i < n; i++) {
			struct tg_hostile_outcome o;
			enum tg_hostile_verdict v;

			if (!only_matches(table[i].name))
				continue;
			tg_hostile_attack(&env, i, &o);
			v = tg_hostile_verdict(&table[i], &o);
			report(&table[i], i, &o, v);
			ran++;
			count[v]++;
			if (v != TG_VERDICT_SKIPPED &&
			    tg_hostile_as_contract(&table[i].expect, &o))
				contract++;
			if (v == TG_VERDICT_BREACHED &&
			    blen + strlen(table[i].name) + 2 <
				    sizeof(breaches)) {
				if (blen)
					breaches[blen++] = ',';
				memcpy(breaches + blen, table[i].name,
				       strlen(table[i].name) + 1);
				blen += strlen(table[i].name);
			}
		}
	}
	env.close_session(env.ctx, env.session);
	if (env.stats_session)
		env.close_session(env.ctx, env.stats_session);
	begin_line("TG-HOSTILE-SUMMARY");
	put_kv("ran", ran, false);
	put_kv("refused", count[TG_VERDICT_REFUSED], false);
	put_kv("allowed", count[TG_VERDICT_ALLOWED], false);
	put_kv("breached", count[TG_VERDICT_BREACHED], false);
	put_kv("skipped", count[TG_VERDICT_SKIPPED], false);
	put_kv("as-contract", contract, false);
	tg_puts("\n");
	begin_line("TG-HOSTILE-BREACHES");
	tg_puts(" ");
	tg_puts(blen ? breaches : "none");
	tg_puts("\n");
	return count[TG_VERDICT_BREACHED];
}

/*
 * 512 pages of our spare RAM for the cost mode's registered buffers: the
 * first 2 MiB-aligned run above the image and the tree, or NULL.
 */
static uint8_t *cost_buffers(void)
{
	uint64_t base, end, a;
	uint32_t i;

	for (i = 0; i < P.ram_count; i++) {
		end = P.ram_base[i] + P.ram_size[i];
		for (base = (P.ram_base[i] + 0x1fffff) & ~0x1fffffull;
		     base + 512 * PG <= end; base += 0x200000) {
			for (a = base; a < base + 512 * PG; a += PG)
				if (!env_spare_ptr(&ctx, a))
					break;
			if (a == base + 512 * PG)
				return (uint8_t *)(uintptr_t)base;
		}
	}
	return NULL;
}

void tg_image_main(const void *tree)
{
	uint64_t breached;
	uint32_t i;

	dtb = tree;
	P.victim = TG_HOSTILE_DEFAULT_VICTIM;
	P.victim_client = 1;
	P.method = -1;
	P.off = true;
	memcpy(P.name, "hostile", 8);
	if (tg_dt_read(tree, &DT))
		memset(&DT, 0, sizeof(DT));
	if (DT.psci_method >= 0)
		psci_conduit = DT.psci_method;
	parse_args(DT.bootargs, 1);
	if (!P.console)
		P.console = DT.xen ? TG_CON_PV : TG_CON_HYP;
	if (tg_con_init(P.console, P.uart ? P.uart : DT.sbsa_uart)) {
		/* a console asked for is not there: say so on Xen's own */
		tg_con_init(P.console | TG_CON_HYP,
			    P.uart ? P.uart : DT.sbsa_uart);
		tg_puts("TG-HOSTILE-ARG a console asked for in tg.console is not available\n");
	}
	parse_args(DT.bootargs, 2);
	if (!DT.bootargs && !DT.dtb_size)
		tg_puts("TG-HOSTILE-ARG no device tree: defaults only\n");
	if (!P.ram_count) {
		for (i = 0; i < DT.mem_count && i < MAX_RANGES; i++) {
			P.ram_base[i] = DT.mem_base[i];
			P.ram_size[i] = DT.mem_size[i];
		}
		P.ram_count = i;
	}
	if (P.method >= 0)
		ctx.conduit = P.method;
	else if (DT.optee_method >= 0)
		ctx.conduit = DT.optee_method;
	else
		ctx.conduit = TG_CONDUIT_HVC; /* a domU's, when in doubt */
	if (P.cost) {
		struct tg_cost_opts co = { .name = P.name,
					   .reps = P.reps ? P.reps : 10,
					   .client = P.client,
					   .bufs = cost_buffers() };

		breached = tg_cost_run(&co);
	} else {
		breached = run_catalogue();
	}
	begin_line("TG-DONE");
	if (breached == ~0ull)
		tg_puts(" rc=setup\n");
	else {
		tg_puts(" rc=");
		tg_put_dec(breached);
		tg_puts("\n");
	}
	power_off();
}
