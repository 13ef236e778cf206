// SPDX-License-Identifier: BSD-2-Clause
/* Fake hypervisor port and scripted fake TEE for the core unit tests. */
#include "fake.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
/* Mediator shm comes from the low machine pages, guests from the rest. */
#define MEDIATOR_POOL_PAGES 8192u

static uint32_t pa_page(uint64_t pa)
{
	return (uint32_t)((pa - FAKE_PA_BASE) / PAGE);
}

static bool pa_valid(uint64_t pa)
{
	return pa >= FAKE_PA_BASE &&
	       pa < FAKE_PA_BASE + (uint64_t)FAKE_MACHINE_PAGES * PAGE;
}

static struct fake_guest *guest(struct fake *f, uint32_t client)
{
	uint32_t i;

	for (i = 0; i < FAKE_MAX_GUESTS; i++)
		if (f->guests[i].id == client && client)
			return &f->guests[i];
	return NULL;
}

uint64_t fake_ipa_to_pa(struct fake *f, uint32_t client, uint64_t ipa)
{
	struct fake_guest *g = guest(f, client);
	uint64_t idx;

	if (!g || ipa < FAKE_IPA_BASE)
		return 0;
	idx = (ipa - FAKE_IPA_BASE) / PAGE;
	if (idx >= g->npages || !g->p2m[idx])
		return 0;
	return g->p2m[idx] + (ipa & (PAGE - 1));
}

void *fake_guest_ptr(struct fake *f, uint32_t client, uint64_t ipa)
{
	uint64_t pa = fake_ipa_to_pa(f, client, ipa);

	return pa ? f->mem + (pa - FAKE_PA_BASE) : NULL;
}

void *fake_tee_ptr(struct fake *f, uint32_t client, uint64_t pa)
{
	uint32_t pg;

	if (!pa_valid(pa))
		return NULL;
	pg = pa_page(pa);
	if (f->owner[pg] == FAKE_OWNER_MEDIATOR ||
	    (f->owner[pg] == client && f->pins[pg] > 0))
		return f->mem + (pa - FAKE_PA_BASE);
	f->violations++;
	return NULL;
}

uint64_t fake_pinned_total(struct fake *f)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < FAKE_MACHINE_PAGES; i++)
		n += f->pins[i];
	return n;
}

/* ---- the port ------------------------------------------------------------ */

static int port_pin(void *ctx, uint32_t client, const uint64_t *ipa,
		    uint64_t *pa, uint32_t count)
{
	struct fake *f = ctx;
	uint32_t i, j;

	pthread_mutex_lock(&f->big_lock);
	for (i = 0; i < count; i++) {
		uint64_t in = ipa[i];
		uint64_t p =
			(in & (PAGE - 1)) ? 0 : fake_ipa_to_pa(f, client, in);

		if (!p || f->owner[pa_page(p)] != client) {
			for (j = 0; j < i; j++)
				f->pins[pa_page(pa[j])]--;
			pthread_mutex_unlock(&f->big_lock);
			return TG_EFAULT;
		}
		f->pins[pa_page(p)]++;
		pa[i] = p;
	}
	pthread_mutex_unlock(&f->big_lock);
	return TG_OK;
}

static void port_unpin(void *ctx, uint32_t client, const uint64_t *pa,
		       uint32_t count)
{
	struct fake *f = ctx;
	uint32_t i;

	(void)client;
	pthread_mutex_lock(&f->big_lock);
	for (i = 0; i < count; i++) {
		if (!pa_valid(pa[i]) || !f->pins[pa_page(pa[i])])
			f->unpin_underflow++;
		else
			f->pins[pa_page(pa[i])]--;
	}
	pthread_mutex_unlock(&f->big_lock);
}

static int port_copy(struct fake *f, uint32_t client, uint64_t ipa, void *buf,
		     uint32_t len, bool to_guest)
{
	uint8_t *b = buf;

	while (len) {
		uint32_t in_page = PAGE - (uint32_t)(ipa & (PAGE - 1));
		uint32_t n = len < in_page ? len : in_page;
		uint8_t *p = fake_guest_ptr(f, client, ipa);

		if (!p)
			return TG_EFAULT;
		if (to_guest)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		b += n;
		ipa += n;
		len -= n;
	}
	return TG_OK;
}

static int port_copy_from(void *ctx, uint32_t client, void *dst, uint64_t ipa,
			  uint32_t len)
{
	return port_copy(ctx, client, ipa, dst, len, false);
}

static int port_copy_to(void *ctx, uint32_t client, uint64_t ipa,
			const void *src, uint32_t len)
{
	return port_copy(ctx, client, ipa, (void *)src, len, true);
}

static void *port_alloc(void *ctx, size_t size)
{
	struct fake *f = ctx;

	if (f->fail_alloc)
		return NULL;
	__atomic_add_fetch(&f->allocs_live, 1, __ATOMIC_RELAXED);
	return malloc(size ? size : 1);
}

static void port_free(void *ctx, void *p, size_t size)
{
	struct fake *f = ctx;

	(void)size;
	__atomic_sub_fetch(&f->allocs_live, 1, __ATOMIC_RELAXED);
	free(p);
}

static void *port_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	struct fake *f = ctx;
	uint32_t start, n;

	if (f->fail_shm_alloc || !npages)
		return NULL;
	pthread_mutex_lock(&f->big_lock);
	for (start = 1; start + npages <= MEDIATOR_POOL_PAGES; start++) {
		for (n = 0; n < npages; n++)
			if (f->owner[start + n] != FAKE_OWNER_FREE)
				break;
		if (n == npages) {
			for (n = 0; n < npages; n++)
				f->owner[start + n] = FAKE_OWNER_MEDIATOR;
			f->shm_pages_live += npages;
			pthread_mutex_unlock(&f->big_lock);
			*pa = FAKE_PA_BASE + (uint64_t)start * PAGE;
			memset(f->mem + (uint64_t)start * PAGE, 0xEE,
			       (size_t)npages * PAGE);
			return f->mem + (uint64_t)start * PAGE;
		}
		start += n;
	}
	pthread_mutex_unlock(&f->big_lock);
	return NULL;
}

static void port_shm_free(void *ctx, void *va, uint32_t npages)
{
	struct fake *f = ctx;
	uint32_t start = (uint32_t)(((uint8_t *)va - f->mem) / PAGE), n;

	pthread_mutex_lock(&f->big_lock);
	for (n = 0; n < npages; n++)
		f->owner[start + n] = FAKE_OWNER_FREE;
	f->shm_pages_live -= npages;
	pthread_mutex_unlock(&f->big_lock);
}

static struct tg_lock *port_lock_create(void *ctx)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	(void)ctx;
	pthread_mutex_init(m, NULL);
	return (struct tg_lock *)m;
}

static void port_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_destroy((pthread_mutex_t *)l);
	free(l);
}

static void port_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_lock((pthread_mutex_t *)l);
}

static void port_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	pthread_mutex_unlock((pthread_mutex_t *)l);
}

static void port_log(void *ctx, enum tg_log_level lvl, uint32_t client,
		     const char *msg, uint64_t value)
{
	(void)ctx;
	if (getenv("TG_TEST_LOG"))
		fprintf(stderr, "[%d] client %u: %s %#llx\n", lvl, client, msg,
			(unsigned long long)value);
}

static void port_notif(void *ctx, uint32_t client)
{
	struct fake *f = ctx;

	if (client <= FAKE_MAX_GUESTS)
		f->notif_irqs[client]++;
}

/* ---- the fake TEE ---------------------------------------------------------- */

void fake_rpc(uint64_t regs[8], uint32_t func, uint64_t a1, uint64_t a2)
{
	regs[0] = OPTEE_SMC_RETURN_RPC_PREFIX | func;
	regs[1] = a1;
	regs[2] = a2;
}

/* Walk a NONCONTIG memref through the oracle; mark each page. */
static bool walk_noncontig(struct fake *f, uint32_t client,
			   struct optee_msg_param *p, bool write)
{
	uint64_t offs = p->u.tmem.buf_ptr & (PAGE - 1);
	uint64_t np = (offs + p->u.tmem.size + PAGE - 1) / PAGE, k;
	uint64_t *list = fake_tee_ptr(f, client, p->u.tmem.buf_ptr & ~0xFFFull);

	for (k = 0; k < np; k++) {
		uint8_t *data;

		if (!list)
			return false;
		if (k && k % OPTEE_MSG_PAGELIST_ENTRIES == 0)
			list = fake_tee_ptr(f, client, list[511]);
		if (!list)
			return false;
		data = fake_tee_ptr(f, client,
				    list[k % OPTEE_MSG_PAGELIST_ENTRIES]);
		if (!data)
			return false;
		if (write)
			data[0] = 0xAB;
	}
	return true;
}

bool fake_step_ok(struct fake *f, struct fake_thread *t, uint64_t regs[8])
{
	struct optee_msg_arg *arg = t->arg;
	uint32_t i, type;

	arg->ret = TEEC_SUCCESS;
	arg->ret_origin = TEEC_ORIGIN_TEE;
	switch (arg->cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		arg->session = ++f->next_session;
		break;
	case OPTEE_MSG_CMD_INVOKE_COMMAND:
		for (i = 0; i < arg->num_params; i++) {
			struct optee_msg_param *p = &arg->params[i];

			type = (uint32_t)(p->attr & OPTEE_MSG_ATTR_TYPE_MASK);
			if (type == OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT) {
				p->u.value.a = 0x1111;
				p->u.value.b = 0x2222;
				p->u.value.c = 0x3333;
			} else if (type == OPTEE_MSG_ATTR_TYPE_VALUE_INOUT) {
				p->u.value.a = p->u.value.a + p->u.value.b;
			} else if (type == OPTEE_MSG_ATTR_TYPE_TMEM_INOUT ||
				   type == OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT) {
				if (p->u.tmem.buf_ptr &&
				    !walk_noncontig(f, t->client, p, true))
					arg->ret = TEEC_ERROR_BAD_PARAMETERS;
				p->u.tmem.size = p->u.tmem.size / 2;
			} else if (type == OPTEE_MSG_ATTR_TYPE_TMEM_INPUT &&
				   p->u.tmem.buf_ptr) {
				if (!walk_noncontig(f, t->client, p, false))
					arg->ret = TEEC_ERROR_BAD_PARAMETERS;
			} else if (type == OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT ||
				   type == OPTEE_MSG_ATTR_TYPE_RMEM_INOUT) {
				p->u.rmem.size = p->u.rmem.size + 1;
			}
		}
		break;
	case OPTEE_MSG_CMD_REGISTER_SHM:
		if (!walk_noncontig(f, t->client, &arg->params[0], false))
			arg->ret = TEEC_ERROR_BAD_PARAMETERS;
		break;
	case OPTEE_MSG_CMD_CLOSE_SESSION:
	case OPTEE_MSG_CMD_CANCEL:
	case OPTEE_MSG_CMD_UNREGISTER_SHM:
	case OPTEE_MSG_CMD_DO_BOTTOM_HALF:
	case OPTEE_MSG_CMD_STOP_ASYNC_NOTIF:
		break;
	default:
		regs[0] = OPTEE_SMC_RETURN_EBADCMD;
		return true;
	}
	regs[0] = OPTEE_SMC_RETURN_OK;
	return true;
}

static bool client_live(struct fake *f, uint32_t client)
{
	if (!(f->caps & OPTEE_SMC_SEC_CAP_VIRTUALIZATION))
		return true;
	return client && client <= FAKE_MAX_GUESTS &&
	       f->vm_created[client] > f->vm_destroyed[client];
}

static void run_thread(struct fake *f, struct fake_thread *t, uint64_t regs[8])
{
	bool done = t->fn(f, t, regs);

	if (done) {
		t->busy = false;
		regs[1] = regs[2] = regs[3] = 0;
	} else {
		regs[3] = t->id;
	}
	regs[4] = regs[5] = regs[6] = regs[7] = 0;
}

static void tee_std(struct fake *f, uint64_t regs[8], uint32_t client)
{
	uint32_t fid = (uint32_t)regs[0], i;
	uint64_t pa = ((regs[1] & 0xFFFFFFFFu) << 32) | (regs[2] & 0xFFFFFFFFu);
	struct fake_thread *t = NULL;

	if (!client_live(f, client) ||
	    ((f->caps & OPTEE_SMC_SEC_CAP_VIRTUALIZATION) && !client)) {
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		return;
	}
	if (fid == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
		uint32_t tid = (uint32_t)regs[3];

		if (tid >= f->threads || !f->thr[tid].busy ||
		    f->thr[tid].client != client) {
			regs[0] = OPTEE_SMC_RETURN_ERESUME;
			return;
		}
		t = &f->thr[tid];
		t->alloc_pa = pa;
		t->alloc_cookie = ((regs[4] & 0xFFFFFFFFu) << 32) |
				  (regs[5] & 0xFFFFFFFFu);
		t->step++;
		run_thread(f, t, regs);
		return;
	}
	if (pa & (PAGE - 1)) {
		regs[0] = OPTEE_SMC_RETURN_EBADADDR;
		return;
	}
	for (i = 0; i < f->threads; i++) {
		if (!f->thr[i].busy) {
			t = &f->thr[i];
			break;
		}
	}
	if (!t) {
		regs[0] = OPTEE_SMC_RETURN_ETHREAD_LIMIT;
		return;
	}
	memset(t, 0, sizeof(*t));
	t->id = i;
	t->busy = true;
	t->client = client;
	t->arg_pa = pa;
	t->arg = fake_tee_ptr(f, client, pa);
	if (!t->arg) {
		t->busy = false;
		regs[0] = OPTEE_SMC_RETURN_EBADADDR;
		return;
	}
	t->with_rpc_arg = fid == OPTEE_SMC_CALL_WITH_RPC_ARG;
	if (t->with_rpc_arg)
		t->rpc_arg =
			(struct optee_msg_arg *)((uint8_t *)t->arg +
						 OPTEE_MSG_GET_ARG_SIZE(
							 t->arg->num_params));
	t->fn = f->std_fn ? f->std_fn : fake_step_ok;
	run_thread(f, t, regs);
}

static void tee_smc(void *ctx, uint64_t regs[8])
{
	struct fake *f = ctx;
	uint32_t fid = (uint32_t)regs[0];
	uint32_t client = (uint32_t)(regs[7] & 0xFFFF);
	uint64_t a1 = regs[1];

	pthread_mutex_lock(&f->big_lock);
	f->smc_log[f->smc_count % 64] = fid;
	f->smc_count++;
	if (f->during_smc)
		f->during_smc(f, regs);
	if (f->no_answer) {
		regs[0] = regs[1] = regs[2] = regs[3] = 0xFFFFFFFFu;
		pthread_mutex_unlock(&f->big_lock);
		return;
	}
	if (OPTEE_SMC_IS_FAST(fid))
		memcpy(f->last_fast, regs, sizeof(f->last_fast));
	if (OPTEE_SMC_IS_FAST(fid) && fid != OPTEE_SMC_VM_CREATED &&
	    fid != OPTEE_SMC_VM_DESTROYED && client &&
	    !client_live(f, client)) {
		regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		pthread_mutex_unlock(&f->big_lock);
		return;
	}
	memset(regs + 1, 0, 7 * sizeof(regs[0]));
	switch (fid) {
	case OPTEE_SMC_CALLS_UID:
		regs[0] = f->not_optee ? 0x12345678u : OPTEE_MSG_UID_0;
		regs[1] = OPTEE_MSG_UID_1;
		regs[2] = OPTEE_MSG_UID_2;
		regs[3] = OPTEE_MSG_UID_3;
		break;
	case OPTEE_SMC_CALLS_REVISION:
		regs[0] = f->revision_major;
		break;
	case OPTEE_SMC_CALLS_COUNT:
		regs[0] = 14;
		break;
	case OPTEE_SMC_GET_OS_UUID:
		regs[0] = OPTEE_MSG_OS_UUID_0;
		regs[1] = OPTEE_MSG_OS_UUID_1;
		regs[2] = OPTEE_MSG_OS_UUID_2;
		regs[3] = OPTEE_MSG_OS_UUID_3;
		break;
	case OPTEE_SMC_GET_OS_REVISION:
		regs[0] = 4;
		regs[1] = 10;
		regs[2] = 0xbeef;
		break;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		if (a1 & ~1ull) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
			break;
		}
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = f->caps;
		regs[2] = 0x42;
		regs[3] = 4;
		break;
	case OPTEE_SMC_GET_THREAD_COUNT:
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = f->threads;
		break;
	case OPTEE_SMC_VM_CREATED:
	case OPTEE_SMC_VM_DESTROYED:
		if (!(f->caps & OPTEE_SMC_SEC_CAP_VIRTUALIZATION)) {
			regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		} else if (client || a1 > FAKE_MAX_GUESTS) {
			regs[0] = OPTEE_SMC_RETURN_ENOTAVAIL;
		} else if (fid == OPTEE_SMC_VM_CREATED) {
			regs[0] = f->vm_created_answer;
			if (!regs[0])
				f->vm_created[a1]++;
		} else {
			f->vm_destroyed[a1]++;
			regs[0] = OPTEE_SMC_RETURN_OK;
		}
		break;
	case OPTEE_SMC_ENABLE_ASYNC_NOTIF:
		regs[0] = OPTEE_SMC_RETURN_OK;
		break;
	case OPTEE_SMC_GET_ASYNC_NOTIF_VALUE:
		regs[0] = OPTEE_SMC_RETURN_OK;
		regs[1] = 7;
		regs[2] = OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID;
		break;
	default:
		regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
		break;
	}
	pthread_mutex_unlock(&f->big_lock);
}

/* Std calls are dispatched with their registers intact. */
static void port_smc(void *ctx, uint64_t regs[8])
{
	struct fake *f = ctx;
	uint32_t fid = (uint32_t)regs[0];

	if (fid == OPTEE_SMC_CALL_WITH_ARG ||
	    fid == OPTEE_SMC_CALL_WITH_RPC_ARG ||
	    fid == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
		pthread_mutex_lock(&f->big_lock);
		f->smc_log[f->smc_count % 64] = fid;
		f->smc_count++;
		if (f->during_smc)
			f->during_smc(f, regs);
		tee_std(f, regs, (uint32_t)(regs[7] & 0xFFFF));
		pthread_mutex_unlock(&f->big_lock);
		return;
	}
	tee_smc(ctx, regs);
}

/* As a hypervisor would: the FOREIGN_INTR answers resumed here. */
static uint32_t port_smc_resume_intr(void *ctx, uint64_t regs[8],
				     uint32_t max)
{
	struct fake *f = ctx;
	uint64_t a7 = regs[7], thread;
	uint32_t n = 0;

	port_smc(ctx, regs);
	while (n < max &&
	       (uint32_t)regs[0] == OPTEE_SMC_RETURN_RPC_FOREIGN_INTR) {
		thread = regs[3];
		memset(regs, 0, 8 * sizeof(regs[0]));
		regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		regs[3] = thread;
		regs[7] = a7;
		port_smc(ctx, regs);
		n++;
	}
	f->port_resumes += n;
	return n;
}

static uint64_t port_now_ns(void *ctx)
{
	return ((struct fake *)ctx)->now_ns;
}

/* ---- construction -------------------------------------------------------- */

struct fake *fake_create(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->mem = calloc(FAKE_MACHINE_PAGES, PAGE);
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&f->big_lock, &a);
	f->next_free_page = MEDIATOR_POOL_PAGES;
	f->caps = OPTEE_SMC_SEC_CAP_DYNAMIC_SHM |
		  OPTEE_SMC_SEC_CAP_VIRTUALIZATION |
		  OPTEE_SMC_SEC_CAP_MEMREF_NULL |
		  OPTEE_SMC_SEC_CAP_ASYNC_NOTIF | OPTEE_SMC_SEC_CAP_RPC_ARG |
		  OPTEE_SMC_SEC_CAP_RPMB_PROBE |
		  OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM;
	f->threads = 4;
	f->revision_major = 2;
	f->port = (struct tg_port){
		.ctx = f,
		.pin_pages = port_pin,
		.unpin_pages = port_unpin,
		.copy_from_guest = port_copy_from,
		.copy_to_guest = port_copy_to,
		.alloc = port_alloc,
		.free = port_free,
		.shm_alloc = port_shm_alloc,
		.shm_free = port_shm_free,
		.smc = port_smc,
		.lock_create = port_lock_create,
		.lock_destroy = port_lock_destroy,
		.lock = port_lock,
		.unlock = port_unlock,
		.log = port_log,
		.raise_notif_irq = port_notif,
		.now_ns = port_now_ns,
		.smc_resume_intr = port_smc_resume_intr,
	};
	return f;
}

void fake_destroy(struct fake *f)
{
	uint32_t i;

	for (i = 0; i < FAKE_MAX_GUESTS; i++)
		free(f->guests[i].p2m);
	pthread_mutex_destroy(&f->big_lock);
	free(f->mem);
	free(f);
}

void fake_add_guest(struct fake *f, uint32_t client, uint32_t npages)
{
	struct fake_guest *g = NULL;
	uint32_t i, start = f->next_free_page;

	for (i = 0; i < FAKE_MAX_GUESTS; i++) {
		if (!f->guests[i].id) {
			g = &f->guests[i];
			break;
		}
	}
	if (!g || start + npages > FAKE_MACHINE_PAGES)
		abort();
	g->id = client;
	g->npages = npages;
	g->p2m = calloc(npages, sizeof(uint64_t));
	/* Scatter: a stride coprime with npages, so no run is contiguous. */
	for (i = 0; i < npages; i++) {
		uint32_t pg = start +
			      (uint32_t)(((uint64_t)i * 7919u + 13u) % npages);

		g->p2m[i] = FAKE_PA_BASE + (uint64_t)pg * PAGE;
		f->owner[pg] = client;
	}
	f->next_free_page += npages;
}

struct optee_msg_arg *fake_msg(struct fake *f, uint32_t client, uint64_t ipa,
			       uint32_t cmd, uint32_t num_params)
{
	struct optee_msg_arg *a = fake_guest_ptr(f, client, ipa);

	memset(a, 0, OPTEE_MSG_GET_ARG_SIZE(num_params));
	a->cmd = cmd;
	a->num_params = num_params;
	return a;
}

uint64_t fake_pagelist(struct fake *f, uint32_t client, uint64_t list_ipa,
		       uint64_t data_ipa, uint32_t npages, uint32_t offset)
{
	uint32_t k;

	for (k = 0; k < npages; k++) {
		uint64_t lp = list_ipa + (uint64_t)(k / 511) * PAGE;
		uint64_t *list = fake_guest_ptr(f, client, lp);

		list[k % 511] = data_ipa + (uint64_t)k * PAGE;
		if (k % 511 == 0)
			list[511] = lp + PAGE;
	}
	return list_ipa | offset;
}

int fake_destroy_domain(struct tg_mediator *med, uint32_t client)
{
	int steps = 0, rc;

	while ((rc = tg_domain_destroy(med, client)) == TG_AGAIN) {
		if (++steps > 1000000)
			return -1;
	}
	return rc == TG_OK ? steps : -1;
}
