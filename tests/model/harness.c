// SPDX-License-Identifier: BSD-2-Clause
/*
 * Test harness for the OP-TEE model (see harness.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

struct fake_ram ram;

#define COOKIE_TAG 0xC0DE000000000000ull
#define SHM_COOKIE_TAG 0x5A00000000000000ull

static void *fake_map(void *ctx, uint32_t client_id, uint64_t pa, uint32_t len,
		      bool write)
{
	struct fake_ram *r = ctx;

	if ((pa & (PAGE - 1)) + len > PAGE)
		__atomic_fetch_add(&r->cross_page_maps, 1, __ATOMIC_RELAXED);
	if (pa < RAM_BASE || len > RAM_SIZE || pa - RAM_BASE > RAM_SIZE - len) {
		__atomic_fetch_add(&r->bad_maps, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (r->fenced_pa && (pa & ~(PAGE - 1)) == r->fenced_pa &&
	    client_id != r->fenced_owner)
		return NULL;
	if (r->stall_client == client_id &&
	    __atomic_exchange_n(&r->stall_armed, 0, __ATOMIC_ACQ_REL)) {
		__atomic_store_n(&r->stalled, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&r->stall_release, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	__atomic_fetch_add(&r->maps, 1, __ATOMIC_RELAXED);
	if (write)
		__atomic_fetch_add(&r->writes, 1, __ATOMIC_RELAXED);
	return r->bytes + (pa - RAM_BASE);
}

static void fake_notif_irq(void *ctx)
{
	__atomic_fetch_add(&((struct fake_ram *)ctx)->notif_irqs, 1,
			   __ATOMIC_RELAXED);
}

void ram_reset(void)
{
	if (!ram.bytes) {
		ram.bytes = calloc(1, RAM_SIZE);
		assert_non_null(ram.bytes);
	} else {
		memset(ram.bytes, 0, ram.next_page - RAM_BASE);
	}
	ram.next_page = RAM_BASE + PAGE;
	ram.maps = 0;
	ram.bad_maps = 0;
	ram.cross_page_maps = 0;
	ram.writes = 0;
	ram.notif_irqs = 0;
	ram.fenced_pa = 0;
	ram.fenced_owner = 0;
	ram.stall_client = 0;
	ram.stall_armed = 0;
	ram.stalled = 0;
	ram.stall_release = 0;
}

uint64_t page_alloc(void)
{
	uint64_t pa =
		__atomic_fetch_add(&ram.next_page, PAGE, __ATOMIC_RELAXED);

	assert_true(pa + PAGE <= RAM_BASE + RAM_SIZE);
	return pa;
}

void *pa_ptr(uint64_t pa)
{
	assert_true(pa >= RAM_BASE && pa < RAM_BASE + RAM_SIZE);
	return ram.bytes + (pa - RAM_BASE);
}

struct tg_model *model_new(const struct tg_model_config *cfg)
{
	struct tg_sw_mem mem = {
		.ctx = &ram,
		.map = fake_map,
		.notif_irq = fake_notif_irq,
	};
	struct tg_model *m = NULL;

	ram_reset();
	assert_int_equal(tg_model_create(cfg, &mem, &m), 0);
	if (!cfg->no_virtualization)
		assert_int_equal(fast(m, 0, OPTEE_SMC_VM_CREATED, GUEST).a[0],
				 OPTEE_SMC_RETURN_OK);
	return m;
}

struct tg_model *model_new_default(void)
{
	struct tg_model_config cfg = { 0 };

	return model_new(&cfg);
}

void model_free_all(struct tg_model *m)
{
	tg_model_destroy(m);
	assert_int_equal(ram.cross_page_maps, 0);
}

struct regs smc(struct tg_model *m, uint32_t client, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3)
{
	struct regs r = { { a0, a1, a2, a3, 0, 0, 0, client } };

	tg_model_smc(m, r.a);
	return r;
}

struct regs fast(struct tg_model *m, uint32_t client, uint64_t a0, uint64_t a1)
{
	return smc(m, client, a0, a1, 0, 0);
}

void nw_init(struct nw *nw, uint32_t client)
{
	memset(nw, 0, sizeof(*nw));
	nw->client = client;
	nw->load_ta_ret = TEEC_ERROR_ITEM_NOT_FOUND;
	nw->time_secs = 1234;
	nw->time_nsecs = 567000000;
	nw->max_resumes = 100000;
}

static void nw_event(struct nw *nw, int ev)
{
	if (nw->num_events < MAX_EVENTS)
		nw->events[nw->num_events++] = ev;
}

static uint64_t pair(uint64_t hi, uint64_t lo)
{
	return ((hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
}

/* The RPC argument of CALL_WITH_RPC_ARG / REGD_ARG (cookie 0). */
static _Thread_local uint64_t nw_rpc_arg_pa;

void nw_set_rpc_arg(uint64_t pa)
{
	nw_rpc_arg_pa = pa;
}

static _Thread_local struct ncbuf shm_bufs[4];
static _Thread_local uint32_t shm_buf_next;

static void nw_cmd(struct nw *nw, struct optee_msg_arg *arg)
{
	struct optee_msg_param *p = arg->params;

	nw_event(nw, EV_CMD_BASE + (int)arg->cmd);
	nw->last_cmd_initial_ret = arg->ret;
	nw->last_cmd_num_params = arg->num_params;
	memcpy(nw->last_cmd_params, p, sizeof(nw->last_cmd_params));
	switch (arg->cmd) {
	case OPTEE_RPC_CMD_GET_TIME:
		p[0].u.value.a = nw->time_secs;
		p[0].u.value.b = nw->time_nsecs;
		arg->ret = TEEC_SUCCESS;
		break;
	case OPTEE_RPC_CMD_SHM_ALLOC: {
		struct ncbuf *b = &shm_bufs[shm_buf_next++ % 4];

		memcpy(nw->shm_alloc_params, p, sizeof(nw->shm_alloc_params));
		if (nw->shm_alloc_ret) {
			arg->ret = nw->shm_alloc_ret;
			break;
		}
		ncbuf_new(b, p[0].u.value.b, 0);
		if (nw->shm_alloc_bad_list)
			((uint64_t *)pa_ptr(b->buf_ptr))[0] |= 0x10;
		p[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT |
			    OPTEE_MSG_ATTR_NONCONTIG;
		p[0].u.tmem.buf_ptr = b->buf_ptr;
		p[0].u.tmem.size = nw->shm_alloc_too_small ? 16 : b->size;
		p[0].u.tmem.shm_ref = SHM_COOKIE_TAG | b->data_pages[0];
		arg->ret = TEEC_SUCCESS;
		break;
	}
	case OPTEE_RPC_CMD_SHM_FREE:
		arg->ret = TEEC_SUCCESS;
		break;
	case OPTEE_RPC_CMD_FS:
		arg->ret = TEEC_ERROR_ITEM_NOT_FOUND;
		break;
	case OPTEE_RPC_CMD_LOAD_TA:
		memcpy(nw->load_ta_params, p, sizeof(nw->load_ta_params));
		arg->ret = nw->load_ta_ret;
		if (nw->load_ta_size)
			p[1].u.tmem.size = nw->load_ta_size;
		break;
	case OPTEE_RPC_CMD_NOTIFICATION:
		arg->ret = nw->notif_ret;
		break;
	default:
		arg->ret = TEEC_ERROR_NOT_IMPLEMENTED;
		break;
	}
}

void nw_answer_one(struct tg_model *m, struct nw *nw, struct regs *r)
{
	uint32_t func = OPTEE_SMC_RPC_FUNC(r->a[0]);
	uint64_t tid = r->a[3];
	uint64_t a1 = 0, a2 = 0, a4 = 0, a5 = 0;

	assert_true(OPTEE_SMC_RETURN_IS_RPC(r->a[0]));
	switch (func) {
	case OPTEE_SMC_RPC_FUNC_ALLOC: {
		uint64_t pa = 0, cookie = 0;

		nw_event(nw, EV_ALLOC);
		nw->last_alloc_size = r->a[1];
		if (nw->fail_alloc_with_cookie) {
			cookie = COOKIE_TAG | 0x1000;
			nw->allocs_outstanding++;
		} else if (!nw->fail_alloc) {
			pa = page_alloc();
			cookie = COOKIE_TAG | pa;
			if (nw->misaligned_alloc)
				pa += 8;
			nw->allocs_outstanding++;
		}
		a1 = pa >> 32;
		a2 = pa & 0xFFFFFFFFu;
		a4 = cookie >> 32;
		a5 = cookie & 0xFFFFFFFFu;
		break;
	}
	case OPTEE_SMC_RPC_FUNC_FREE:
		nw_event(nw, EV_FREE);
		if (nw->num_freed < 64)
			nw->freed_cookies[nw->num_freed++] =
				pair(r->a[1], r->a[2]);
		nw->allocs_outstanding--;
		break;
	case OPTEE_SMC_RPC_FUNC_FOREIGN_INTR:
		nw_event(nw, EV_FOREIGN_INTR);
		break;
	case OPTEE_SMC_RPC_FUNC_CMD: {
		uint64_t cookie = pair(r->a[1], r->a[2]);
		uint64_t pa = cookie ? cookie & ~COOKIE_TAG : nw_rpc_arg_pa;

		nw->last_cmd_cookie = cookie;
		nw_cmd(nw, pa_ptr(pa));
		break;
	}
	default:
		fail_msg("unknown RPC 0x%x", func);
	}
	*r = (struct regs){ { OPTEE_SMC_CALL_RETURN_FROM_RPC, a1, a2, tid, a4,
			      a5, 0, nw->client } };
	tg_model_smc(m, r->a);
}

uint32_t nw_finish(struct tg_model *m, struct nw *nw, struct regs *r)
{
	uint32_t n = 0;

	while (OPTEE_SMC_RETURN_IS_RPC(r->a[0])) {
		assert_true(n++ < nw->max_resumes);
		nw_answer_one(m, nw, r);
	}
	return (uint32_t)r->a[0];
}

struct optee_msg_arg *arg_new(uint32_t n, uint64_t *pa)
{
	struct optee_msg_arg *a;

	*pa = page_alloc();
	a = pa_ptr(*pa);
	memset(a, 0, PAGE);
	a->num_params = n;
	return a;
}

uint32_t call_arg(struct tg_model *m, struct nw *nw, uint64_t pa)
{
	struct regs r = smc(m, nw->client, OPTEE_SMC_CALL_WITH_ARG, pa >> 32,
			    pa & 0xFFFFFFFFu, 0);

	return nw_finish(m, nw, &r);
}

void ncbuf_new(struct ncbuf *b, uint64_t size, uint32_t offs)
{
	uint64_t npages = ((size + offs - 1) >> 12) + 1;
	uint64_t nlists = (npages + 510) / 511;
	uint64_t list_pa = 0, prev = 0;
	bool scatter = npages <= 64;

	assert_true(npages <= 8192);
	memset(b, 0, sizeof(*b));
	b->size = size;
	b->npages = (uint32_t)npages;
	for (uint64_t i = 0; i < npages; i++) {
		if (scatter)
			page_alloc(); /* a hole: pages are not contiguous */
		b->data_pages[i] = page_alloc();
	}
	for (uint64_t l = 0; l < nlists; l++) {
		uint64_t pa = page_alloc();
		uint64_t *list = pa_ptr(pa);

		for (uint64_t i = 0; i < 511 && l * 511 + i < npages; i++)
			list[i] = b->data_pages[l * 511 + i];
		if (prev)
			((uint64_t *)pa_ptr(prev))[511] = pa;
		else
			list_pa = pa;
		prev = pa;
	}
	b->buf_ptr = list_pa | offs;
}

uint8_t *ncbuf_byte(struct ncbuf *b, uint64_t i)
{
	uint64_t pos = (b->buf_ptr & (PAGE - 1)) + i;

	return pa_ptr(b->data_pages[pos >> 12] + (pos & (PAGE - 1)));
}

uint32_t open_session(struct tg_model *m, struct nw *nw, const uint8_t *uuid,
		      uint32_t *session, uint32_t *origin)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(2, &pa);
	const uint64_t meta =
		OPTEE_MSG_ATTR_META | OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;

	a->cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	a->params[0].attr = meta;
	a->params[1].attr = meta;
	memcpy(&a->params[0].u.value.a, uuid, 8);
	memcpy(&a->params[0].u.value.b, uuid + 8, 8);
	a->params[1].u.value.c = OPTEE_MSG_LOGIN_PUBLIC;
	assert_int_equal(call_arg(m, nw, pa), OPTEE_SMC_RETURN_OK);
	if (session)
		*session = a->session;
	if (origin)
		*origin = a->ret_origin;
	return a->ret;
}

uint32_t close_session(struct tg_model *m, struct nw *nw, uint32_t session)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(0, &pa);

	a->cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	a->session = session;
	assert_int_equal(call_arg(m, nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

uint32_t register_shm(struct tg_model *m, struct nw *nw, struct ncbuf *b,
		      uint64_t cookie)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(1, &pa);

	a->cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	a->params[0].attr =
		OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	a->params[0].u.tmem.buf_ptr = b->buf_ptr;
	a->params[0].u.tmem.size = b->size;
	a->params[0].u.tmem.shm_ref = cookie;
	assert_int_equal(call_arg(m, nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

uint32_t unregister_shm(struct tg_model *m, struct nw *nw, uint64_t cookie)
{
	uint64_t pa;
	struct optee_msg_arg *a = arg_new(1, &pa);

	a->cmd = OPTEE_MSG_CMD_UNREGISTER_SHM;
	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	a->params[0].u.rmem.shm_ref = cookie;
	assert_int_equal(call_arg(m, nw, pa), OPTEE_SMC_RETURN_OK);
	return a->ret;
}

bool nw_saw_sequence(const struct nw *nw, const int *seq, uint32_t n)
{
	if (nw->num_events != n)
		return false;
	return !memcmp(nw->events, seq, n * sizeof(*seq));
}

uint32_t nw_count(const struct nw *nw, int ev)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nw->num_events; i++)
		n += nw->events[i] == ev;
	return n;
}

struct optee_msg_arg *invoke_arg(uint32_t session, uint32_t func, uint32_t n,
				 uint64_t *pa)
{
	struct optee_msg_arg *a = arg_new(n, pa);

	a->cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	a->session = session;
	a->func = func;
	return a;
}

uint32_t open_ok(struct tg_model *m, struct nw *nw, const uint8_t *uuid)
{
	uint32_t session = 0;

	assert_int_equal(open_session(m, nw, uuid, &session, NULL),
			 TEEC_SUCCESS);
	assert_int_not_equal(session, 0);
	return session;
}

struct regs start_yield(struct tg_model *m, struct nw *nw, uint32_t session,
			uint32_t n)
{
	uint64_t pa;
	struct optee_msg_arg *a = invoke_arg(session, 0, 1, &pa);

	a->params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
	a->params[0].u.value.a = n;
	return smc(m, nw->client, OPTEE_SMC_CALL_WITH_ARG, pa >> 32,
		   pa & 0xFFFFFFFFu, 0);
}
