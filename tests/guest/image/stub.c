// SPDX-License-Identifier: BSD-2-Clause
/*
 * The EL2 stub's C side (see stub.S): what a hypervisor would do for the
 * hostile guest image, as little of it as the image needs, and a fake
 * OP-TEE behind it in one of two policies (bootargs stub.policy=):
 *
 *   mediated  what a correct mediator in front of OP-TEE answers: a7 is
 *             the stub's, addresses must be the guest's RAM (tg.ram=),
 *             whole-TEE and hypervisor-only calls are unknown, 16
 *             buffers of at most 129 pages (Xen's limits)
 *   bare      a bare OP-TEE with virtualization and no mediator: a7 is the
 *             guest's word, any address of the machine's RAM is taken
 *             as it is, VM_CREATED / VM_DESTROYED / GET_SHM_CONFIG work
 *
 * Both implement the invoke-tests PTA's PARAMS command (value a + b; a
 * memref's byte sum into its byte 0) and the stats PTA's GET_TIME (RPC
 * ALLOC; given a buffer, RPC CMD GET_TIME in it and RPC FREE, as OP-TEE
 * does; declined, the PTA fails). CALL_WITH_RPC_ARG and
 * CALL_WITH_REGD_ARG are unknown (as with Xen's mediator).
 *
 * The victim: client 1, two pages outside the image's RAM (VICTIM_PA:
 * tg_victim_canary(); the next page: its last message); at power-off the
 * stub says whether they are intact.
 * Xen's console_io hypercall, and its PV console (HVM params and the
 * event channel send that drains the ring), go to QEMU's PL011; PSCI
 * CPU_ON, CPU_OFF and SYSTEM_OFF go on to QEMU's PSCI.
 */
#include <string.h>

#include <teegate/optee_abi.h>

#include "hostile_table.h"
#include "image.h"

#define UART 0x09000000ull
#define DTB 0x40000000ull
#define VICTIM_PA 0x4A000000ull
#define SHM_POOL 0x4C000000ull /* the "reserved SHM" bare mode gives out */
#define SHM_POOL_SIZE 0x200000ull
#define PG 4096ull

#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define XEN_HYPERCALL_TAG 0xEA1

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_64 0xC4000003u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_FEATURES 0x8400000Au

void stub_smc(uint64_t regs[8]);
struct cpu_entry {
	uint64_t pc, x0;
};
struct cpu_entry stub_cpu_start(uint64_t cpu);
void stub_sync(uint64_t *frame);
void stub_unexpected(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far);

/* ---- console ------------------------------------------------------------------ */

static void putc_uart(char c)
{
	volatile uint32_t *u = (volatile uint32_t *)(uintptr_t)UART;

	while (u[0x18 / 4] & (1u << 5))
		;
	u[0] = (uint8_t)c;
}

static void puts_uart(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void put_hex(uint64_t v)
{
	char b[19];
	int i = 18;

	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	puts_uart(b + i);
}

static void put_dec(uint64_t v)
{
	char b[21];
	int i = 20;

	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_uart(b + i);
}

/* ---- configuration --------------------------------------------------------------- */

static struct {
	bool bare;
	uint64_t ram_base, ram_size;   /* the guest's RAM (tg.ram=) */
	uint64_t mach_base, mach_size; /* the machine's RAM (/memory) */
	uint32_t guest_client;	       /* mediated: the a7 the stub sets */
	uint64_t calls;
} cfg;

static struct cpu_entry next_entry[4];

static bool arg_value(const char *args, const char *key, const char **v,
		      size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (p && *p) {
		const char *tok;

		while (*p == ' ')
			p++;
		tok = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - tok) > klen && !tg_strncmp(tok, key, klen) &&
		    tok[klen] == '=') {
			*v = tok + klen + 1;
			*vlen = (size_t)(p - *v);
			return true;
		}
	}
	return false;
}

/* ---- the fake OP-TEE ------------------------------------------------------------- */

#define MAX_CLIENTS 8
#define MAX_SESSIONS 48
#define MAX_SHM 64
#define NUM_THREADS 2
#define PTA_INVOKE_TESTS 1
#define PTA_STATS 2

static uint32_t clients[MAX_CLIENTS]; /* live client ids (0 = free) */
static struct {
	uint32_t id, client, pta;
} sessions[MAX_SESSIONS];
static uint32_t next_session = 0x100;
static struct {
	bool used;
	uint32_t client;
	uint64_t cookie, list, offset, size;
} shm[MAX_SHM];
/* A GET_TIME in flight: RPC ALLOC, then (with a buffer) CMD, then FREE. */
enum rpc_stage { RPC_ALLOC_SENT, RPC_CMD_SENT, RPC_FREE_SENT };
static struct {
	bool busy;
	uint32_t client;
	uint64_t arg;
	enum rpc_stage stage;
	uint64_t buf, cookie;
	uint64_t time;
} threads[NUM_THREADS];

static bool client_live(uint32_t id)
{
	uint32_t i;

	for (i = 0; id && i < MAX_CLIENTS; i++)
		if (clients[i] == id)
			return true;
	return false;
}

static void client_destroy(uint32_t id)
{
	uint32_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == id)
			clients[i] = 0;
	for (i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].client == id)
			sessions[i].id = 0;
	for (i = 0; i < MAX_SHM; i++)
		if (shm[i].client == id)
			shm[i].used = false;
}

/* VM_CREATED: a duplicate re-creates the partition (OP-TEE does not check). */
static void client_create(uint32_t id)
{
	uint32_t i;

	client_destroy(id);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (!clients[i]) {
			clients[i] = id;
			return;
		}
}

/* Memory the TEE may use for @client: the guest's RAM when mediated. */
static bool usable(uint64_t addr, uint64_t len)
{
	uint64_t base = cfg.bare ? cfg.mach_base : cfg.ram_base;
	uint64_t size = cfg.bare ? cfg.mach_size : cfg.ram_size;

	return addr >= base && len <= size && addr - base <= size - len;
}

struct ans {
	uint32_t ret, origin;
};

static void fail(struct ans *a, uint32_t ret, bool by_mediator)
{
	a->ret = ret;
	a->origin =
		by_mediator && !cfg.bare ? TEEC_ORIGIN_COMMS : TEEC_ORIGIN_TEE;
}

static uint64_t pages_spanned(uint64_t offset, uint64_t size)
{
	return ((size + offset - 1) >> 12) + 1;
}

/*
 * Check a page list of @size bytes from @offset: every list page and
 * data page usable; at most @max pages. 0 or a TEEC error.
 */
static uint32_t check_list(uint64_t list, uint64_t offset, uint64_t size,
			   uint64_t max)
{
	uint64_t n, k, page;

	if (size + offset < size)
		return TEEC_ERROR_BAD_PARAMETERS;
	n = size ? pages_spanned(offset, size) : 0;
	if (n > max)
		return TEEC_ERROR_OUT_OF_MEMORY;
	for (k = 0; k < n; k++) {
		if (k % 511 == 0 && k)
			list = *(volatile uint64_t *)(uintptr_t)(list + 4088);
		if ((list & (PG - 1)) || !usable(list, PG))
			return TEEC_ERROR_BAD_PARAMETERS;
		page = *(volatile uint64_t *)(uintptr_t)(list + (k % 511) * 8);
		if ((page & (PG - 1)) || !usable(page, PG))
			return TEEC_ERROR_BAD_PARAMETERS;
	}
	return 0;
}

/* The 8-bit sum of the bytes, written into the first: the PTA's PARAMS. */
static void sum_into_first(uint64_t list, uint64_t offset, uint64_t size)
{
	uint64_t k = offset >> 12, pos = offset & (PG - 1), left = size;
	uint64_t page, first = 0;
	uint8_t s = 0;

	/* walk the list once: its k-th entry, then the next ones */
	while (k >= 511) {
		list = *(volatile uint64_t *)(uintptr_t)(list + 4088);
		k -= 511;
	}
	while (left) {
		uint64_t n = PG - pos < left ? PG - pos : left, i;

		page = *(volatile uint64_t *)(uintptr_t)(list + k * 8);
		if (!first)
			first = page + pos;
		for (i = 0; i < n; i++)
			s = (uint8_t)(s +
				      *(volatile uint8_t *)(uintptr_t)(page +
								       pos +
								       i));
		left -= n;
		pos = 0;
		if (++k == 511) {
			list = *(volatile uint64_t *)(uintptr_t)(list + 4088);
			k = 0;
		}
	}
	if (size)
		*(volatile uint8_t *)(uintptr_t)first = s;
}

static int find_shm(uint32_t client, uint64_t cookie)
{
	int i;

	for (i = 0; i < MAX_SHM; i++)
		if (shm[i].used && shm[i].client == client &&
		    shm[i].cookie == cookie)
			return i;
	return -1;
}

static uint32_t max_pages(void)
{
	return cfg.bare ? (1u << 20) : 129u;
}

static void invoke_params(struct optee_msg_arg *m, uint32_t client,
			  struct ans *a)
{
	struct optee_msg_param *p = &m->params[0];
	uint32_t type = (uint32_t)(p->attr & OPTEE_MSG_ATTR_TYPE_MASK);
	uint32_t i;
	int s;

	if (m->num_params == 4) {
		uint64_t sa = 0, sb = 0;

		for (i = 0; i < 3; i++) {
			if ((m->params[i].attr & OPTEE_MSG_ATTR_TYPE_MASK) !=
			    OPTEE_MSG_ATTR_TYPE_VALUE_INPUT)
				break;
			sa += m->params[i].u.value.a;
			sb += m->params[i].u.value.b;
		}
		if (i == 3 && (m->params[3].attr & OPTEE_MSG_ATTR_TYPE_MASK) ==
				      OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT) {
			m->params[3].u.value.a = sa;
			m->params[3].u.value.b = sb;
			return;
		}
	}
	for (i = 1; i < m->num_params; i++)
		if (m->params[i].attr) {
			fail(a, TEEC_ERROR_BAD_PARAMETERS, false);
			a->origin = TEEC_ORIGIN_TRUSTED_APP;
			return;
		}
	if (m->num_params == 1 && type == OPTEE_MSG_ATTR_TYPE_VALUE_INOUT) {
		p->u.value.a += p->u.value.b;
		return;
	}
	if (m->num_params == 1 && type == OPTEE_MSG_ATTR_TYPE_TMEM_INOUT) {
		uint64_t off = p->u.tmem.buf_ptr & (PG - 1);
		uint64_t list = p->u.tmem.buf_ptr & ~(PG - 1);
		uint32_t e;

		if (!(p->attr & OPTEE_MSG_ATTR_NONCONTIG)) {
			/* contiguous: only inside the reserved SHM */
			if (!cfg.bare || p->u.tmem.buf_ptr < SHM_POOL ||
			    p->u.tmem.buf_ptr + p->u.tmem.size >
				    SHM_POOL + SHM_POOL_SIZE) {
				fail(a, TEEC_ERROR_BAD_PARAMETERS, true);
				return;
			}
			*(volatile uint8_t *)(uintptr_t)p->u.tmem.buf_ptr += 1;
			return;
		}
		e = check_list(list, off, p->u.tmem.size, max_pages());
		if (e) {
			fail(a, e, true);
			return;
		}
		sum_into_first(list, off, p->u.tmem.size);
		return;
	}
	if (m->num_params == 1 && type == OPTEE_MSG_ATTR_TYPE_RMEM_INOUT) {
		s = find_shm(client, p->u.rmem.shm_ref);
		if (s < 0 || p->u.rmem.offs + p->u.rmem.size < p->u.rmem.offs ||
		    p->u.rmem.offs + p->u.rmem.size > shm[s].size) {
			fail(a, TEEC_ERROR_BAD_PARAMETERS, true);
			return;
		}
		sum_into_first(shm[s].list, shm[s].offset + p->u.rmem.offs,
			       p->u.rmem.size);
		return;
	}
	fail(a, TEEC_ERROR_BAD_PARAMETERS, false);
	a->origin = TEEC_ORIGIN_TRUSTED_APP;
}

/* Every parameter's attr: known type, no reserved bit, META only where due. */
static bool attrs_ok(const struct optee_msg_arg *m)
{
	uint32_t i;

	for (i = 0; i < m->num_params; i++) {
		uint64_t at = m->params[i].attr;
		uint64_t type = at & OPTEE_MSG_ATTR_TYPE_MASK;

		if (at &
		    ~(uint64_t)(OPTEE_MSG_ATTR_TYPE_MASK | OPTEE_MSG_ATTR_META |
				OPTEE_MSG_ATTR_NONCONTIG | (7u << 16)))
			return false;
		if (type == 4 || type == 8 || type > 0xB)
			return false;
		if ((at & OPTEE_MSG_ATTR_META) &&
		    !(m->cmd == OPTEE_MSG_CMD_OPEN_SESSION && i < 2))
			return false;
	}
	return true;
}

static const uint8_t uuid_invoke_tests[16] = PTA_INVOKE_TESTS_UUID;
static const uint8_t uuid_stats[16] = PTA_STATS_UUID;

/* One message; 0 = answered (in m), else the a0 to return. RPC: 1. */
static uint32_t message(struct optee_msg_arg *m, uint32_t client,
			uint32_t thread, uint64_t *rpc_a0)
{
	struct ans a = { 0, 0 };
	uint32_t i;
	int s;

	if (m->cmd > OPTEE_MSG_CMD_UNREGISTER_SHM)
		return OPTEE_SMC_RETURN_EBADCMD;
	if (!attrs_ok(m)) {
		fail(&a, TEEC_ERROR_BAD_PARAMETERS, true);
		goto out;
	}
	switch (m->cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		if (m->num_params < 2) {
			fail(&a, TEEC_ERROR_BAD_PARAMETERS, false);
			break;
		}
		for (i = 0; i < MAX_SESSIONS && sessions[i].id; i++)
			;
		if (i == MAX_SESSIONS) {
			fail(&a, TEEC_ERROR_OUT_OF_MEMORY, false);
			break;
		}
		if (!memcmp(m->params[0].u.octets, uuid_invoke_tests, 16))
			sessions[i].pta = PTA_INVOKE_TESTS;
		else if (!memcmp(m->params[0].u.octets, uuid_stats, 16))
			sessions[i].pta = PTA_STATS;
		else {
			fail(&a, TEEC_ERROR_ITEM_NOT_FOUND, false);
			break;
		}
		sessions[i].id = next_session++;
		sessions[i].client = client;
		m->session = sessions[i].id;
		break;
	case OPTEE_MSG_CMD_CLOSE_SESSION:
	case OPTEE_MSG_CMD_INVOKE_COMMAND:
		for (i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].id && sessions[i].id == m->session &&
			    sessions[i].client == client)
				break;
		if (i == MAX_SESSIONS) {
			fail(&a, TEEC_ERROR_BAD_PARAMETERS, false);
			break;
		}
		if (m->cmd == OPTEE_MSG_CMD_CLOSE_SESSION) {
			sessions[i].id = 0;
			break;
		}
		if (sessions[i].pta == PTA_INVOKE_TESTS &&
		    m->func == PTA_INVOKE_TESTS_CMD_PARAMS) {
			invoke_params(m, client, &a);
		} else if (sessions[i].pta == PTA_STATS &&
			   m->func == PTA_STATS_CMD_GET_TIME &&
			   m->num_params == 2) {
			/* an RPC buffer first: suspend in RPC ALLOC */
			*rpc_a0 = OPTEE_SMC_RETURN_RPC_ALLOC;
			(void)thread;
			return 1;
		} else {
			fail(&a, TEEC_ERROR_BAD_PARAMETERS, false);
			a.origin = TEEC_ORIGIN_TRUSTED_APP;
		}
		break;
	case OPTEE_MSG_CMD_CANCEL:
		break;
	case OPTEE_MSG_CMD_REGISTER_SHM: {
		struct optee_msg_param *p = &m->params[0];
		uint64_t off = p->u.tmem.buf_ptr & (PG - 1);
		uint32_t e, n = 0;

		if (m->num_params != 1 ||
		    p->attr != (OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
				OPTEE_MSG_ATTR_NONCONTIG) ||
		    find_shm(client, p->u.tmem.shm_ref) >= 0) {
			fail(&a, TEEC_ERROR_BAD_PARAMETERS, true);
			break;
		}
		for (i = 0; i < MAX_SHM; i++)
			n += shm[i].used && shm[i].client == client;
		if (n >= (cfg.bare ? MAX_SHM : 16u)) {
			fail(&a, TEEC_ERROR_OUT_OF_MEMORY, true);
			break;
		}
		e = check_list(p->u.tmem.buf_ptr & ~(PG - 1), off,
			       p->u.tmem.size, max_pages());
		if (e) {
			fail(&a, e, true);
			break;
		}
		for (i = 0; shm[i].used; i++)
			;
		shm[i].used = true;
		shm[i].client = client;
		shm[i].cookie = p->u.tmem.shm_ref;
		shm[i].list = p->u.tmem.buf_ptr & ~(PG - 1);
		shm[i].offset = off;
		shm[i].size = p->u.tmem.size;
		break;
	}
	case OPTEE_MSG_CMD_UNREGISTER_SHM:
		s = m->num_params == 1
			    ? find_shm(client, m->params[0].u.rmem.shm_ref)
			    : -1;
		if (s < 0) /* as OP-TEE 4.10 and the mediator */
			fail(&a, TEEC_ERROR_BAD_PARAMETERS, true);
		else
			shm[s].used = false;
		break;
	default:
		return OPTEE_SMC_RETURN_EBADCMD;
	}
out:
	m->ret = a.ret;
	m->ret_origin = a.origin;
	return 0;
}

static void std_call(uint64_t *r, uint32_t client)
{
	uint64_t arg = (r[1] << 32) | (uint32_t)r[2], rpc_a0 = 0;
	struct optee_msg_arg *m;
	uint32_t t, rc;

	if (arg & (PG - 1) || !usable(arg, PG)) {
		r[0] = OPTEE_SMC_RETURN_EBADADDR;
		return;
	}
	m = (struct optee_msg_arg *)(uintptr_t)arg;
	if (m->num_params > 127) {
		r[0] = OPTEE_SMC_RETURN_EBADADDR;
		return;
	}
	for (t = 0; t < NUM_THREADS && threads[t].busy; t++)
		;
	if (t == NUM_THREADS) {
		r[0] = OPTEE_SMC_RETURN_ETHREAD_LIMIT;
		return;
	}
	rc = message(m, client, t, &rpc_a0);
	if (rc == 1) {
		threads[t].busy = true;
		threads[t].client = client;
		threads[t].arg = arg;
		threads[t].stage = RPC_ALLOC_SENT;
		r[0] = rpc_a0;
		r[1] = 160; /* ALLOC: the RPC argument's size */
		r[3] = t;
		return;
	}
	r[0] = rc;
}

static void return_from_rpc(uint64_t *r, uint32_t client)
{
	uint64_t t = r[3];
	struct optee_msg_arg *m, *rpc;

	if (t >= NUM_THREADS || !threads[t].busy ||
	    (!cfg.bare && threads[t].client != client)) {
		r[0] = OPTEE_SMC_RETURN_ERESUME;
		return;
	}
	m = (struct optee_msg_arg *)(uintptr_t)threads[t].arg;
	switch (threads[t].stage) {
	case RPC_ALLOC_SENT:
		threads[t].buf = r[1] << 32 | (uint32_t)r[2];
		threads[t].cookie = r[4] << 32 | (uint32_t)r[5];
		if (!threads[t].buf || (threads[t].buf & (PG - 1)) ||
		    !usable(threads[t].buf, PG)) {
			/* no buffer: the PTA fails */
			threads[t].busy = false;
			m->ret = TEEC_ERROR_OUT_OF_MEMORY;
			m->ret_origin = TEEC_ORIGIN_TEE;
			r[0] = OPTEE_SMC_RETURN_OK;
			return;
		}
		rpc = (struct optee_msg_arg *)(uintptr_t)threads[t].buf;
		memset(rpc, 0, 32 + 32);
		rpc->cmd = OPTEE_RPC_CMD_GET_TIME;
		rpc->num_params = 1;
		rpc->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		threads[t].stage = RPC_CMD_SENT;
		r[0] = OPTEE_SMC_RETURN_RPC_CMD;
		r[1] = threads[t].cookie >> 32;
		r[2] = (uint32_t)threads[t].cookie;
		return;
	case RPC_CMD_SENT:
		rpc = (struct optee_msg_arg *)(uintptr_t)threads[t].buf;
		threads[t].time = rpc->ret ? 0 : rpc->params[0].u.value.a;
		threads[t].stage = RPC_FREE_SENT;
		r[0] = OPTEE_SMC_RETURN_RPC_FREE;
		r[1] = threads[t].cookie >> 32;
		r[2] = (uint32_t)threads[t].cookie;
		return;
	case RPC_FREE_SENT:
	default:
		threads[t].busy = false;
		m->ret = threads[t].time ? TEEC_SUCCESS : TEEC_ERROR_GENERIC;
		m->ret_origin = TEEC_ORIGIN_TRUSTED_APP;
		m->params[0].u.value.a = threads[t].time;
		m->params[0].u.value.b = 0;
		r[0] = OPTEE_SMC_RETURN_OK;
		return;
	}
}

static void optee(uint64_t *r)
{
	uint32_t fid = (uint32_t)r[0];
	uint32_t client;

	cfg.calls++;
	client = cfg.bare ? (uint32_t)r[7] : cfg.guest_client;
	if (fid & OPTEE_SMC_64) {
		r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
	switch (fid) {
	case OPTEE_SMC_CALLS_UID:
		r[0] = OPTEE_MSG_UID_0;
		r[1] = OPTEE_MSG_UID_1;
		r[2] = OPTEE_MSG_UID_2;
		r[3] = OPTEE_MSG_UID_3;
		return;
	case OPTEE_SMC_CALLS_REVISION:
		r[0] = 2;
		r[1] = 0;
		return;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
		if (!cfg.bare) {
			r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		} else if (r[7]) {
			r[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		} else {
			if (fid == OPTEE_SMC_VM_CREATED)
				client_create((uint32_t)r[1]);
			else
				client_destroy((uint32_t)r[1]);
			r[0] = OPTEE_SMC_RETURN_OK;
		}
		return;
	default:
		break;
	}
	if (OPTEE_SMC_OWNER(fid) != OPTEE_SMC_OWNER_TRUSTED_OS) {
		r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
	if (!client_live(client)) {
		r[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		return;
	}
	switch (fid) {
	case OPTEE_SMC_GET_OS_REVISION:
		r[0] = 4;
		r[1] = 10;
		r[2] = 0;
		return;
	case OPTEE_SMC_GET_THREAD_COUNT:
		r[0] = 0;
		r[1] = NUM_THREADS;
		return;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		if (r[1] & ~(uint64_t)OPTEE_SMC_NSEC_CAP_UNIPROCESSOR) {
			r[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
			return;
		}
		r[0] = 0;
		r[1] = OPTEE_SMC_SEC_CAP_DYNAMIC_SHM |
		       OPTEE_SMC_SEC_CAP_MEMREF_NULL;
		return;
	case OPTEE_SMC_GET_SHM_CONFIG:
		if (!cfg.bare) {
			r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
			return;
		}
		r[0] = 0;
		r[1] = SHM_POOL;
		r[2] = SHM_POOL_SIZE;
		r[3] = OPTEE_SMC_SHM_CACHED;
		return;
	case OPTEE_SMC_CALL_WITH_ARG:
		std_call(r, client);
		return;
	case OPTEE_SMC_CALL_RETURN_FROM_RPC:
		return_from_rpc(r, client);
		return;
	default:
		r[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		return;
	}
}

/* ---- the victim --------------------------------------------------------------------- */

/*
 * Client 1's two pages: its buffer (the canary) at VICTIM_PA, and its
 * last message (an INVOKE on its own session, answered) at VICTIM_PA +
 * 4 KiB. The copy tells later whether anything changed.
 */
static uint8_t victim_copy[2 * PG];

static void victim_fill(void)
{
	struct optee_msg_arg *m =
		(struct optee_msg_arg *)(uintptr_t)(VICTIM_PA + PG);
	uint32_t i;

	for (i = 0; i < PG; i++)
		*(volatile uint8_t *)(uintptr_t)(VICTIM_PA + i) =
			tg_victim_canary(i);
	memset(m, 0, PG);
	for (i = 0; i < MAX_SESSIONS && sessions[i].id; i++)
		;
	sessions[i].id = next_session++;
	sessions[i].client = 1;
	sessions[i].pta = PTA_INVOKE_TESTS;
	m->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	m->func = PTA_INVOKE_TESTS_CMD_PARAMS;
	m->session = sessions[i].id;
	m->num_params = 1;
	m->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	m->params[0].u.value.a = 12;
	m->params[0].u.value.b = 7;
	m->ret = 0x33333333u;
	memcpy(victim_copy, (const void *)(uintptr_t)VICTIM_PA,
	       sizeof(victim_copy));
}

static void victim_check(void)
{
	uint32_t i, bad = 0, first = 0;

	for (i = 0; i < 2 * PG; i++)
		if (*(volatile uint8_t *)(uintptr_t)(VICTIM_PA + i) !=
		    victim_copy[i]) {
			if (!bad)
				first = i;
			bad++;
		}
	puts_uart("TG-STUB-VICTIM ");
	if (!bad) {
		puts_uart("intact\n");
		return;
	}
	puts_uart("corrupted bytes=");
	put_dec(bad);
	puts_uart(" first=");
	put_dec(first);
	puts_uart("\n");
}

static uint64_t hyp_bytes, pv_bytes;

/* ---- traps ---------------------------------------------------------------------------- */

static void power_off(void)
{
	uint64_t r[8] = { PSCI_SYSTEM_OFF };

	victim_check();
	puts_uart("TG-STUB-END calls=");
	put_dec(cfg.calls);
	puts_uart(" hyp_bytes=");
	put_dec(hyp_bytes);
	puts_uart(" pv_bytes=");
	put_dec(pv_bytes);
	puts_uart("\n");
	stub_smc(r);
	for (;;)
		__asm__ volatile("wfi");
}

static void psci(uint64_t *r)
{
	uint64_t q[8] = { 0 };
	uint32_t fid = (uint32_t)r[0];

	switch (fid) {
	case PSCI_VERSION:
		r[0] = 0x10001;
		return;
	case PSCI_CPU_ON_64:
		if (r[1] >= 4) {
			r[0] = (uint64_t)-2; /* INVALID_PARAMETERS */
			return;
		}
		next_entry[r[1]].pc = r[2];
		next_entry[r[1]].x0 = r[3];
		__asm__ volatile("dsb sy" ::: "memory");
		q[0] = PSCI_CPU_ON_64;
		q[1] = r[1];
		q[2] = 0x48000000ull; /* _start, at EL2 */
		q[3] = 0;
		stub_smc(q);
		r[0] = q[0];
		return;
	case PSCI_CPU_OFF:
		q[0] = PSCI_CPU_OFF;
		stub_smc(q);
		r[0] = q[0];
		return;
	case PSCI_SYSTEM_OFF:
		power_off();
		return;
	default:
		r[0] = (uint64_t)-1; /* NOT_SUPPORTED */
		return;
	}
}

/*
 * Xen's PV console, as little as the image uses: HVM params CONSOLE_PFN
 * (a page of ours) and CONSOLE_EVTCHN, and EVTCHNOP_send, on which the
 * stub drains the ring's output to the UART.
 */
#define PV_RING_PA 0x4B000000ull
#define PV_EVTCHN 3u

static void pv_drain(void)
{
	volatile uint8_t *ring = (volatile uint8_t *)(uintptr_t)PV_RING_PA;
	volatile uint32_t *idx =
		(volatile uint32_t *)(uintptr_t)(PV_RING_PA + 3072);
	uint32_t cons = idx[2], prod = idx[3];

	while (cons != prod) {
		putc_uart((char)ring[1024 + (cons & 2047)]);
		cons++;
		pv_bytes++;
	}
	idx[2] = cons;
}

static void hypercall(uint64_t *r)
{
	uint64_t i;

	if (r[16] == 18 && r[0] == 0) { /* console_io(CONSOLEIO_write) */
		const char *s = (const char *)(uintptr_t)r[2];

		for (i = 0; i < r[1] && i < 4096; i++)
			putc_uart(s[i]);
		hyp_bytes += r[1];
		r[0] = 0;
		return;
	}
	if (r[16] == 34 && r[0] == 1) { /* hvm_op(HVMOP_get_param) */
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)r[1];
		uint32_t index = *(volatile uint32_t *)(p + 4);
		volatile uint64_t *value = (volatile uint64_t *)(p + 8);

		if (index == 17) { /* HVM_PARAM_CONSOLE_PFN */
			memset((void *)(uintptr_t)PV_RING_PA, 0, 4096);
			*value = PV_RING_PA >> 12;
		} else if (index == 18) { /* HVM_PARAM_CONSOLE_EVTCHN */
			*value = PV_EVTCHN;
		} else {
			r[0] = (uint64_t)-22;
			return;
		}
		r[0] = 0;
		return;
	}
	if (r[16] == 32 && r[0] == 4) { /* event_channel_op(EVTCHNOP_send) */
		if (*(volatile uint32_t *)(uintptr_t)r[1] == PV_EVTCHN)
			pv_drain();
		r[0] = 0;
		return;
	}
	r[0] = (uint64_t)-38; /* ENOSYS */
}

void stub_sync(uint64_t *frame)
{
	uint64_t esr, elr;
	uint32_t ec, fid;

	__asm__ volatile("mrs %0, esr_el2" : "=r"(esr));
	ec = (uint32_t)(esr >> 26) & 0x3f;
	if (ec == EC_SMC64) {
		/* a trapped SMC returns to itself: skip it */
		__asm__ volatile("mrs %0, elr_el2" : "=r"(elr));
		elr += 4;
		__asm__ volatile("msr elr_el2, %0" ::"r"(elr));
	} else if (ec != EC_HVC64) {
		__asm__ volatile("mrs %0, elr_el2" : "=r"(elr));
		stub_unexpected(8, esr, elr, 0);
		return;
	}
	if (ec == EC_HVC64 && (esr & 0xffff) == XEN_HYPERCALL_TAG) {
		hypercall(frame);
		return;
	}
	fid = (uint32_t)frame[0];
	if ((fid & 0xbf000000u) == 0x84000000u) /* standard service: PSCI */
		psci(frame);
	else
		optee(frame);
}

void stub_unexpected(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
	puts_uart("\nTG-STUB-FAULT vector=");
	put_dec(kind);
	puts_uart(" esr=");
	put_hex(esr);
	puts_uart(" elr=");
	put_hex(elr);
	puts_uart(" far=");
	put_hex(far);
	puts_uart("\n");
	power_off();
}

/* ---- start ------------------------------------------------------------------------------ */

struct cpu_entry stub_cpu_start(uint64_t cpu)
{
	struct tg_dt_info dt;
	const char *v;
	size_t vlen;
	uint64_t n, m;

	if (cpu)
		return next_entry[cpu & 3];
	if (tg_dt_read((const void *)(uintptr_t)DTB, &dt) || !dt.mem_count) {
		puts_uart("TG-STUB-FAULT no device tree at 0x40000000\n");
		power_off();
	}
	cfg.mach_base = dt.mem_base[0];
	cfg.mach_size = dt.mem_size[0];
	cfg.bare = arg_value(dt.bootargs, "stub.policy", &v, &vlen) &&
		   vlen == 4 && !tg_strncmp(v, "bare", 4);
	if (arg_value(dt.bootargs, "tg.ram", &v, &vlen)) {
		const char *c = v;

		while (c < v + vlen && *c != ',')
			c++;
		if (c < v + vlen && tg_parse_u64(v, (size_t)(c - v), &n) &&
		    tg_parse_u64(c + 1, (size_t)(v + vlen - c - 1), &m)) {
			cfg.ram_base = n;
			cfg.ram_size = m;
		}
	}
	/* The clients: 1 the victim, 2 another guest, 3 the attacker
	 * (mediated: the stub writes 3 into a7 itself). */
	client_create(1);
	client_create(2);
	client_create(3);
	cfg.guest_client = 3;
	victim_fill();
	puts_uart("TG-STUB-BEGIN policy=");
	puts_uart(cfg.bare ? "bare" : "mediated");
	puts_uart(" guest_ram=");
	put_hex(cfg.ram_base);
	puts_uart(",");
	put_hex(cfg.ram_size);
	puts_uart(" victim=");
	put_hex(VICTIM_PA);
	puts_uart(" victim_arg=");
	put_hex(VICTIM_PA + PG);
	puts_uart("\n");
	next_entry[0].pc = 0x40200000ull; /* the image */
	next_entry[0].x0 = DTB;
	return next_entry[0];
}
