// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate-mediator: the mediator in a process of its own (sandboxed and
 * service isolation modes). The hypervisor (isolation.c) starts it as
 *
 *   teegate-mediator MODE NOTIFY SHADOW_OFF
 *
 * with fd 3 = the channel memory (channel.h), fd 4 = its shadow memory,
 * fd 5 = the state arena and fds 6.. = the eventfds of the service
 * transport (2 per slot: to the mediator, to the hypervisor). MODE is "sandboxed" (fd 4 is the shadow
 * carve-out only; a seccomp allow-list is installed before any request is
 * read) or "service" (fd 4 is all of machine memory: a privileged daemon,
 * like a control domain's; SHADOW_OFF is the carve-out's offset in it).
 *
 * The mediator code is the library's, unchanged. Its struct tg_port is a
 * proxy: guest memory and SMCs are requests over the channel, answered by
 * the hypervisor for the domain whose call is being served; shadow memory
 * comes from the carve-out (its allocator state lives in the channel, in
 * hypervisor-owned memory); bookkeeping memory and locks come from the
 * state arena, a memfd the hypervisor keeps, mapped at TG_ARENA_VA. When
 * this process dies, the next one maps the same arena and carve-out at
 * the same addresses and recovers the mediator from them
 * (TG_CALL_MEDIATOR_RECOVER, TG_CALL_DOMAIN_RECOVER): guests keep their
 * sessions and buffers.
 *
 * One worker thread per channel slot; each serves the calls posted on its
 * slot, one at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <teegate/mediator.h>
#include <teegate/optee_abi.h>

#include "channel.h"
#include "pin.h"

#define PIN_CHUNK (TG_CHAN_DATA / sizeof(uint64_t) / 2)
#define IDLE_WAIT_MS 1000

static struct tg_chan chan;
static struct tg_mediator *med;
static uint8_t *shadow;		/* carve-out mapping */
static uint64_t shadow_pa;
static uint32_t shadow_pages;

struct worker {
	uint32_t slot;
	uint32_t seen; /* to_med value last served */
	int cpu;       /* where it runs: a CPU, or -1 = the process's CPUs */
	pthread_t thread;
	/* what the hypervisor sent with the guest call it serves: bytes of
	 * domain pf_cid at pf_ipa, as a copy request would have read them
	 * (pf_len 0: none, or no longer valid) */
	uint64_t pf_ipa;
	uint32_t pf_len, pf_cid;
	uint8_t pf[TG_CHAN_PREFETCH];
	/* the guest call's results, written by the hypervisor with the
	 * answer (late_ok: a guest call is being served) */
	bool late_ok;
	uint32_t late_n, late_used;
	uint8_t late[TG_CHAN_LATE] __attribute__((aligned(8)));
};
static struct worker workers[TG_CHAN_SLOTS];
static cpu_set_t home; /* the CPUs this process may use */
static _Atomic uint32_t workers_up;
static __thread struct worker *self;

/* ---- one round trip: a port request on our slot --------------------- */

static struct tg_chan_slot *my_slot(void)
{
	return &chan.mem->slots[self->slot];
}

/*
 * Tests: TEEGATE_TEST_MEDIATOR_DIE=OP:N kills this process right after
 * it posts its N-th request OP (pin, unpin, copy_from, copy_to, smc,
 * async_value: an SMC of GET_ASYNC_NOTIF_VALUE) or when it starts its
 * N-th domain destroy (destroy): the hypervisor is then serving a request
 * of a dead process. std_done: when the mediator has completed its N-th
 * guest std call (CALL_WITH_*), before the answer goes out. (In the sandbox, seccomp refuses raise()'s tgkill
 * and kills the process with SIGSYS at that same point.) Only the first
 * process of a machine dies; its restarts run normally.
 */
#define DIE_ASYNC_VALUE 1000u /* an SMC of GET_ASYNC_NOTIF_VALUE */
#define DIE_STD_DONE 1001u    /* a guest std call done, not answered */
static uint32_t die_op;
static _Atomic int32_t die_n;

static void die_init(void)
{
	static const struct {
		const char *name;
		uint32_t op;
	} ops[] = {
		{ "pin", TG_PORT_PIN },		{ "unpin", TG_PORT_UNPIN },
		{ "copy_from", TG_PORT_COPY_FROM },
		{ "copy_to", TG_PORT_COPY_TO }, { "smc", TG_PORT_SMC },
		{ "destroy", TG_CALL_DOMAIN_DESTROY },
		{ "async_value", DIE_ASYNC_VALUE },
		{ "std_done", DIE_STD_DONE },
	};
	const char *e = getenv("TEEGATE_TEST_MEDIATOR_DIE");
	const char *colon;
	size_t i;

	if (!e || !(colon = strchr(e, ':')) ||
	    atomic_load(&chan.mem->hdr.generation) != 1)
		return;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strlen(ops[i].name) == (size_t)(colon - e) &&
		    !strncmp(e, ops[i].name, (size_t)(colon - e)))
			die_op = ops[i].op;
	atomic_store(&die_n, atoi(colon + 1));
}

static void maybe_die(uint32_t op)
{
	if (die_op && op == die_op && atomic_fetch_sub(&die_n, 1) == 1)
		raise(SIGKILL);
}

static void flush_late(void);

/* The hypervisor answered (msg/data rewritten); false if it never does. */
static bool request(void)
{
	uint32_t op = my_slot()->msg.op;

	/* From an SMC or a write on, guest memory may differ from what the
	 * call brought: read it afresh. */
	if (op != TG_PORT_COPY_FROM && op != TG_PORT_LOG &&
	    op != TG_PORT_PIN)
		self->pf_len = 0;
	tg_chan_to_hyp(&chan, self->slot, self->seen);
	maybe_die(op);
	if (op == TG_PORT_SMC && (uint32_t)my_slot()->msg.regs[0] ==
					 OPTEE_SMC_GET_ASYNC_NOTIF_VALUE)
		maybe_die(DIE_ASYNC_VALUE);
	while (!tg_chan_wait_med(&chan, self->slot, self->seen + 1,
				 IDLE_WAIT_MS))
		if (getppid() == 1)
			_exit(0);
	self->seen++;
	return true;
}

static int pin_chunk(uint32_t cid, const uint64_t *ipa, uint64_t *pa,
		     uint32_t n)
{
	struct tg_chan_slot *s = my_slot();

	s->msg.op = TG_PORT_PIN;
	s->msg.cid = cid;
	s->msg.count = n;
	memcpy(s->data, ipa, (size_t)n * 8u);
	request();
	if (s->msg.status == TG_OK)
		memcpy(pa, s->data, (size_t)n * 8u);
	return s->msg.status;
}

static void p_unpin(void *ctx, uint32_t cid, const uint64_t *pa,
		    uint32_t count)
{
	struct tg_chan_slot *s;

	(void)ctx;
	flush_late();
	s = my_slot();
	while (count) {
		uint32_t n = count > PIN_CHUNK ? (uint32_t)PIN_CHUNK : count;

		s->msg.op = TG_PORT_UNPIN;
		s->msg.cid = cid;
		s->msg.count = n;
		memcpy(s->data, pa, (size_t)n * 8u);
		request();
		pa += n;
		count -= n;
	}
}

/* All or nothing, in chunks that fit the slot. */
static int p_pin(void *ctx, uint32_t cid, const uint64_t *ipa, uint64_t *pa,
		 uint32_t count)
{
	uint32_t done = 0;
	int ret;

	flush_late();
	while (done < count) {
		uint32_t n = count - done > PIN_CHUNK ? (uint32_t)PIN_CHUNK
						      : count - done;

		ret = pin_chunk(cid, ipa + done, pa + done, n);
		if (ret) {
			p_unpin(ctx, cid, pa, done);
			return ret;
		}
		done += n;
	}
	return TG_OK;
}

static int copy(uint32_t op, uint32_t cid, uint8_t *buf, uint64_t ipa,
		uint32_t len)
{
	struct tg_chan_slot *s = my_slot();

	while (len) {
		uint32_t n = len > TG_CHAN_DATA ? TG_CHAN_DATA : len;

		s->msg.op = op;
		s->msg.cid = cid;
		s->msg.arg0 = ipa;
		s->msg.len = n;
		if (op == TG_PORT_COPY_TO)
			memcpy(s->data, buf, n);
		request();
		if (s->msg.status)
			return s->msg.status;
		if (op == TG_PORT_COPY_FROM)
			memcpy(buf, s->data, n);
		buf += n;
		ipa += n;
		len -= n;
	}
	return TG_OK;
}

/*
 * Before any other request: the writes held back go out now, in order, so
 * that no request of ours (a read, an SMC the TEE serves from guest
 * memory) can see memory without them.
 */
static void flush_late(void)
{
	struct worker *w = self;
	uint32_t off = 0, i, n;

	if (!w || !w->late_n)
		return;
	n = w->late_n;
	w->late_n = 0;
	for (i = 0; i < n; i++) {
		struct tg_chan_late e;

		memcpy(&e, w->late + off, sizeof(e));
		off += (uint32_t)sizeof(e);
		(void)copy(TG_PORT_COPY_TO, e.cid, w->late + off, e.ipa, e.len);
		off += (e.len + 7u) & ~7u;
	}
	w->late_used = 0;
}

/* The hypervisor does it with the answer (port.h): no round trip now. */
static int p_copy_to_late(void *ctx, uint32_t cid, uint64_t ipa,
			  const void *src, uint32_t len)
{
	struct worker *w = self;
	uint32_t need = (uint32_t)sizeof(struct tg_chan_late) +
			((len + 7u) & ~7u);
	struct tg_chan_late e = { ipa, len, cid };

	(void)ctx;
	if (!w || !w->late_ok || len > TG_CHAN_LATE / 2) {
		flush_late();
		return copy(TG_PORT_COPY_TO, cid, (uint8_t *)src, ipa, len);
	}
	if (w->late_used + need > TG_CHAN_LATE)
		flush_late();
	memcpy(w->late + w->late_used, &e, sizeof(e));
	memcpy(w->late + w->late_used + sizeof(e), src, len);
	w->late_used += need;
	w->late_n++;
	return TG_OK;
}

static int p_copy_from(void *ctx, uint32_t cid, void *dst, uint64_t ipa,
		       uint32_t len)
{
	struct worker *w = self;

	(void)ctx;
	flush_late();
	/* within what came with the call: no round trip */
	if (w && w->pf_len && cid == w->pf_cid && ipa >= w->pf_ipa &&
	    len <= w->pf_len && ipa - w->pf_ipa <= w->pf_len - len) {
		memcpy(dst, w->pf + (ipa - w->pf_ipa), len);
		return TG_OK;
	}
	return copy(TG_PORT_COPY_FROM, cid, dst, ipa, len);
}

static int p_copy_to(void *ctx, uint32_t cid, uint64_t ipa, const void *src,
		     uint32_t len)
{
	(void)ctx;
	flush_late();
	return copy(TG_PORT_COPY_TO, cid, (uint8_t *)src, ipa, len);
}

static void p_smc(void *ctx, uint64_t regs[8])
{
	struct tg_chan_slot *s;

	(void)ctx;
	flush_late();
	s = my_slot();
	s->msg.op = TG_PORT_SMC;
	s->msg.arg0 = 0;
	memcpy(s->msg.regs, regs, sizeof(s->msg.regs));
	request();
	memcpy(regs, s->msg.regs, sizeof(s->msg.regs));
}

/* The hypervisor resumes the FOREIGN_INTR answers itself: one round trip
 * however many interrupts the TEE takes (a dying guest's long TA call). */
static uint32_t p_smc_resume_intr(void *ctx, uint64_t regs[8], uint32_t max)
{
	struct tg_chan_slot *s;

	(void)ctx;
	flush_late();
	s = my_slot();
	s->msg.op = TG_PORT_SMC;
	s->msg.arg0 = max;
	memcpy(s->msg.regs, regs, sizeof(s->msg.regs));
	request();
	memcpy(regs, s->msg.regs, sizeof(s->msg.regs));
	return s->msg.count;
}

static uint64_t p_now_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void p_log(void *ctx, enum tg_log_level level, uint32_t cid,
		  const char *msg, uint64_t value)
{
	struct tg_chan_slot *s = my_slot();
	size_t n = strlen(msg);

	(void)ctx;
	if (!self)
		return;
	if (n > 200)
		n = 200;
	s->msg.op = TG_PORT_LOG;
	s->msg.cid = cid;
	s->msg.arg0 = (uint64_t)level;
	s->msg.arg1 = value;
	s->msg.len = (uint32_t)n;
	memcpy(s->data, msg, n);
	request();
}

static void p_notif(void *ctx, uint32_t cid)
{
	struct tg_chan_slot *s;

	(void)ctx;
	flush_late();
	s = my_slot();
	s->msg.op = TG_PORT_NOTIF;
	s->msg.cid = cid;
	request();
}

/* ---- the state arena: bookkeeping memory and locks that outlive us ---- */

#define ARENA_MAGIC 0x74676172656e6131ull /* "tgarena1" */
#define ARENA_MIN_SHIFT 4u		   /* 16-byte blocks */
#define ARENA_CLASSES 27u		   /* up to 1 GiB */
#define ARENA_LOCKS 4096u

/* 64 bytes apart: two domains' locks never share a cache line (each is
 * taken on every CALL_WITH_REGD_ARG of its domain). */
struct tg_lock {
	_Atomic uint32_t word;
	uint8_t pad[60];
};

/*
 * Power-of-two size classes, a free list each, and a bump pointer. Every
 * change is one store of a list head or of @top, so a crash leaves the
 * allocator consistent; a block taken but not yet linked into the state
 * is lost (a few per crash). The caller gives the size back on free, so
 * blocks carry no header.
 */
struct arena_hdr {
	uint64_t magic;
	uint32_t state_version; /* TG_STATE_VERSION of the writer */
	uint32_t pad;
	struct tg_mediator *med; /* the root: NULL when there is none */
	_Atomic uint32_t lock;
	uint32_t pad2;
	uint64_t top;
	uint64_t free_head[ARENA_CLASSES];
	uint8_t lock_used[ARENA_LOCKS];
	struct tg_lock locks[ARENA_LOCKS];
};

static struct arena_hdr *arena;

static void spin_lock(_Atomic uint32_t *w)
{
	uint32_t zero = 0, n = 0;

	while (!atomic_compare_exchange_weak(w, &zero, 1)) {
		zero = 0;
		if (++n > 64)
			sched_yield();
	}
}

static void spin_unlock(_Atomic uint32_t *w)
{
	atomic_store_explicit(w, 0, memory_order_release);
}

static uint32_t size_class(size_t size)
{
	uint32_t c = 0;

	while (((size_t)1 << (c + ARENA_MIN_SHIFT)) < size)
		c++;
	return c;
}

/* A fresh, empty arena (its old pages given back to the memfd). */
static void arena_init(void)
{
	madvise(arena, TG_ARENA_SIZE, MADV_REMOVE);
	/*
	 * Not the locks: 256 KiB, a cache line each, of which a mediator
	 * uses one per domain. p_lock_create() zeroes the one it hands out,
	 * so the others stay untouched, and not resident.
	 */
	memset(arena, 0, offsetof(struct arena_hdr, locks));
	arena->state_version = TG_STATE_VERSION;
	arena->top = (sizeof(*arena) + 4095u) & ~(uint64_t)4095u;
	arena->magic = ARENA_MAGIC;
}

static void *p_alloc(void *ctx, size_t size)
{
	uint32_t c = size_class(size ? size : 1);
	uint64_t off, len = (uint64_t)1 << (c + ARENA_MIN_SHIFT);

	(void)ctx;
	if (c >= ARENA_CLASSES)
		return NULL;
	spin_lock(&arena->lock);
	off = arena->free_head[c];
	if (off) {
		arena->free_head[c] = *(uint64_t *)((uint8_t *)arena + off);
	} else if (arena->top + len <= TG_ARENA_SIZE) {
		off = arena->top;
		arena->top += len;
	}
	spin_unlock(&arena->lock);
	return off ? (uint8_t *)arena + off : NULL;
}

static void p_free(void *ctx, void *ptr, size_t size)
{
	uint32_t c = size_class(size ? size : 1);
	uint64_t off;

	(void)ctx;
	if (!ptr || c >= ARENA_CLASSES)
		return;
	off = (uint64_t)((uint8_t *)ptr - (uint8_t *)arena);
	spin_lock(&arena->lock);
	*(uint64_t *)ptr = arena->free_head[c];
	arena->free_head[c] = off;
	spin_unlock(&arena->lock);
}

/* Locks are arena objects, so a restart finds and resets them all. */
static struct tg_lock *p_lock_create(void *ctx)
{
	uint32_t i;

	(void)ctx;
	spin_lock(&arena->lock);
	for (i = 0; i < ARENA_LOCKS && arena->lock_used[i]; i++)
		;
	if (i < ARENA_LOCKS) {
		arena->lock_used[i] = 1;
		atomic_store(&arena->locks[i].word, 0);
	}
	spin_unlock(&arena->lock);
	return i < ARENA_LOCKS ? &arena->locks[i] : NULL;
}

static void p_lock_destroy(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	spin_lock(&arena->lock);
	arena->lock_used[l - arena->locks] = 0;
	spin_unlock(&arena->lock);
}

static void p_lock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	spin_lock(&l->word);
}

static void p_unlock(void *ctx, struct tg_lock *l)
{
	(void)ctx;
	spin_unlock(&l->word);
}

/* ---- the shadow carve-out's allocator (state in the channel) -------- */

static void shadow_lock(void)
{
	spin_lock(&chan.mem->hdr.shadow_lock);
}

static void shadow_unlock(void)
{
	spin_unlock(&chan.mem->hdr.shadow_lock);
}

static bool bit(uint32_t i)
{
	return chan.mem->hdr.shadow_map[i / 64] >> (i % 64) & 1;
}

static void set_bits(uint32_t first, uint32_t n, bool on)
{
	uint32_t i;

	for (i = first; i < first + n; i++) {
		if (on)
			chan.mem->hdr.shadow_map[i / 64] |= 1ull << (i % 64);
		else
			chan.mem->hdr.shadow_map[i / 64] &= ~(1ull << (i % 64));
	}
}

static void *p_shm_alloc(void *ctx, uint32_t npages, uint64_t *pa)
{
	uint32_t i, run = 0;

	(void)ctx;
	if (!npages || npages > shadow_pages)
		return NULL;
	shadow_lock();
	for (i = 0; i < shadow_pages; i++) {
		run = bit(i) ? 0 : run + 1;
		if (run == npages) {
			uint32_t first = i + 1 - npages;

			set_bits(first, npages, true);
			shadow_unlock();
			memset(shadow + (size_t)first * TG_PAGE_SIZE, 0,
			       (size_t)npages * TG_PAGE_SIZE);
			*pa = shadow_pa + (uint64_t)first * TG_PAGE_SIZE;
			return shadow + (size_t)first * TG_PAGE_SIZE;
		}
	}
	shadow_unlock();
	return NULL;
}

static void p_shm_free(void *ctx, void *va, uint32_t npages)
{
	uint8_t *p = va;

	(void)ctx;
	if (!p || p < shadow ||
	    p + (size_t)npages * TG_PAGE_SIZE >
		    shadow + (size_t)shadow_pages * TG_PAGE_SIZE)
		return;
	shadow_lock();
	set_bits((uint32_t)((size_t)(p - shadow) / TG_PAGE_SIZE), npages,
		 false);
	shadow_unlock();
}

static const struct tg_port proxy = {
	.pin_pages = p_pin,
	.unpin_pages = p_unpin,
	.copy_from_guest = p_copy_from,
	.copy_to_guest = p_copy_to,
	.copy_to_guest_late = p_copy_to_late,
	.alloc = p_alloc,
	.free = p_free,
	.shm_alloc = p_shm_alloc,
	.shm_free = p_shm_free,
	.smc = p_smc,
	.lock_create = p_lock_create,
	.lock_destroy = p_lock_destroy,
	.lock = p_lock,
	.unlock = p_unlock,
	.log = p_log,
	.raise_notif_irq = p_notif,
	.now_ns = p_now_ns,
	.smc_resume_intr = p_smc_resume_intr,
};

/* ---- recovery ----------------------------------------------------------- */

static void r_shm_claim(void *ctx, void *va, uint32_t npages)
{
	uint8_t *p = va;

	(void)ctx;
	if (p < shadow || p + (size_t)npages * TG_PAGE_SIZE >
				  shadow + (size_t)shadow_pages * TG_PAGE_SIZE)
		return; /* not ours: nothing to mark */
	shadow_lock();
	set_bits((uint32_t)((size_t)(p - shadow) / TG_PAGE_SIZE), npages,
		 true);
	shadow_unlock();
}

static int r_keep_pins(void *ctx, uint32_t cid, const uint64_t *pa,
		       uint32_t count)
{
	struct tg_chan_slot *s = my_slot();

	(void)ctx;
	do {
		uint32_t n = count > PIN_CHUNK ? (uint32_t)PIN_CHUNK : count;

		s->msg.op = TG_PORT_KEEP;
		s->msg.cid = cid;
		s->msg.count = n;
		if (n)
			memcpy(s->data, pa, (size_t)n * 8u);
		request();
		pa += n;
		count -= n;
	} while (count);
	return s->msg.status;
}

static const struct tg_recover_ops recover_ops = {
	.shm_claim = r_shm_claim,
	.keep_pins = r_keep_pins,
};

/*
 * Adopt the mediator a dead process left in the arena. Nothing else runs:
 * the hypervisor posts no call until this one is answered.
 */
static int recover_mediator(void)
{
	uint32_t i;

	if (arena->magic != ARENA_MAGIC ||
	    arena->state_version != TG_STATE_VERSION || !arena->med)
		return TG_ENOENT; /* nothing to recover: start afresh */
	/* Nobody holds a lock: their holders died with the process. */
	atomic_store(&arena->lock, 0);
	for (i = 0; i < ARENA_LOCKS; i++)
		if (arena->lock_used[i])
			atomic_store(&arena->locks[i].word, 0);
	/* Rebuilt from what the state references (tg_mediator_recover). */
	atomic_store(&chan.mem->hdr.shadow_lock, 0);
	memset(chan.mem->hdr.shadow_map, 0, sizeof(chan.mem->hdr.shadow_map));
	med = arena->med;
	return tg_mediator_recover(med, &proxy, &recover_ops);
}

/* ---- calls ------------------------------------------------------------ */

#ifdef TG_MEDIATORD_EVIL
#define TG_EVIL_FID 0xC6EE0001u
#define TG_EVIL_HANG_FID 0xC6EE0002u
#define TG_EVIL_LATE_FID 0xC6EE0003u /* a1 = which malformed late writes */
/*
 * The malicious build (tests only): on this call, try what a compromised
 * mediator would: read a page of another guest (a1 = its client id,
 * a2 = an IPA) and issue an SMC in that guest's name. Report what the
 * hypervisor answered in a1..a3. Triggered by a guest SMC with
 * a0 = TG_EVIL_FID.
 */
static void evil(struct tg_chan_msg *msg)
{
	uint32_t victim = (uint32_t)msg->regs[1];
	uint64_t ipa = msg->regs[2], word = 0;
	uint64_t r[8] = { OPTEE_SMC_CALLS_UID };
	int copy_ret;

	copy_ret = p_copy_from(NULL, victim, &word, ipa, sizeof(word));
	r[7] = victim; /* forged client id */
	p_smc(NULL, r);
	msg->regs[1] = (uint64_t)(int64_t)copy_ret;
	msg->regs[2] = r[0];
	msg->regs[3] = word;
	/* and a write into the victim's page, to go with the answer */
	{
		struct tg_chan_late e = { ipa, sizeof(word), victim };
		uint64_t bad = 0xbadbadbadbadull;
		struct tg_chan_slot *s = my_slot();

		memcpy(s->data, &e, sizeof(e));
		memcpy(s->data + sizeof(e), &bad, sizeof(bad));
	}
}
#endif

static void serve(struct tg_chan_slot *s)
{
	struct tg_chan_msg in = s->msg;
	int ret = TG_OK;
	uint32_t fid;

	switch (in.op) {
	case TG_CALL_MEDIATOR_CREATE: {
		struct tg_config cfg;

		memcpy(&cfg, s->data, sizeof(cfg));
		/* This port acts for the served domain only: the hypervisor
		 * asks each domain to give a thread back (TG_CALL_RECLAIM). */
		cfg.hypervisor_reclaims = true;
		if (med) {
			ret = TG_EEXIST;
			break;
		}
		arena_init();
		memset(chan.mem->hdr.shadow_map, 0,
		       sizeof(chan.mem->hdr.shadow_map));
		ret = tg_mediator_create(&proxy, &cfg, &med);
		if (!ret) {
			arena->med = med;
			memcpy(s->data, tg_mediator_tee_info(med),
			       sizeof(struct tg_tee_info));
		}
		break;
	}
	case TG_CALL_MEDIATOR_RECOVER:
		ret = med ? TG_EEXIST : recover_mediator();
		if (ret)
			med = NULL;
		else
			memcpy(s->data, tg_mediator_tee_info(med),
			       sizeof(struct tg_tee_info));
		break;
	case TG_CALL_DOMAIN_RECOVER: {
		struct tg_recover_info *info = malloc(sizeof(*info));
		struct tg_recover_stats st;

		if (!info) {
			ret = TG_ENOMEM;
			break;
		}
		memcpy(info, s->data, sizeof(*info));
		ret = med ? tg_domain_recover(med, in.cid, info, &recover_ops,
					      &st)
			  : TG_ENOENT;
		free(info);
		if (!ret)
			memcpy(s->data, &st, sizeof(st));
		break;
	}
	case TG_CALL_RECLAIM:
		ret = med ? tg_domain_reclaim(med, in.cid, in.arg0 != 0)
			  : TG_ENOENT;
		break;
	case TG_CALL_MEDIATOR_DESTROY:
		ret = med ? tg_mediator_destroy(med) : TG_ENOENT;
		if (!ret) {
			med = NULL;
			arena->med = NULL;
		}
		break;
	case TG_CALL_DOMAIN_CREATE: {
		struct tg_limits lim;

		memcpy(&lim, s->data, sizeof(lim));
		ret = med ? tg_domain_create(med, in.cid, in.arg0 ? &lim : NULL)
			  : TG_ENOENT;
		break;
	}
	case TG_CALL_DOMAIN_DESTROY:
		maybe_die(TG_CALL_DOMAIN_DESTROY);
		ret = med ? tg_domain_destroy(med, in.cid) : TG_ENOENT;
		break;
	case TG_CALL_DOMAIN_STATS: {
		struct tg_domain_stats st;

		ret = med ? tg_domain_stats(med, in.cid, &st) : TG_ENOENT;
		if (!ret)
			memcpy(s->data, &st, sizeof(st));
		break;
	}
	case TG_CALL_HANDLE_SMC:
#ifdef TG_MEDIATORD_EVIL
		if ((uint32_t)in.regs[0] == TG_EVIL_HANG_FID)
			for (;;)
				sleep(1); /* a hung mediator */
		if ((uint32_t)in.regs[0] == TG_EVIL_LATE_FID) {
			/* late writes that do not fit what they claim */
			struct tg_chan_late e = { in.arg1, 4000, in.cid };

			memcpy(s->data, &e, sizeof(e));
			s->msg.count = in.regs[1] == 0 ? 1 : in.regs[1] == 1
								? 300
								: 1;
			s->msg.len = in.regs[1] == 0 ? TG_CHAN_LATE + 8 : 32;
			s->msg.arg0 = 1;
			break;
		}
		if ((uint32_t)in.regs[0] == TG_EVIL_FID) {
			evil(&in);
			memcpy(s->msg.regs, in.regs, sizeof(in.regs));
			s->msg.arg0 = 1;
			s->msg.count = 1; /* the late write evil() left */
			s->msg.len = (uint32_t)sizeof(struct tg_chan_late) + 8;
			break;
		}
#endif
		fid = (uint32_t)in.regs[0];
		self->pf_len = 0;
		if (in.len && in.len <= TG_CHAN_PREFETCH) {
			memcpy(self->pf, s->data, in.len);
			self->pf_ipa = in.arg1;
			self->pf_cid = in.cid;
			self->pf_len = in.len;
		}
		self->late_ok = true;
		s->msg.arg0 = med && tg_handle_smc(med, in.cid, in.vcpu,
						   in.regs);
		self->late_ok = false;
		self->pf_len = 0;
		/* the results held back go with the answer */
		s->msg.count = self->late_n;
		s->msg.len = self->late_used;
		if (self->late_n)
			memcpy(s->data, self->late, self->late_used);
		self->late_n = 0;
		self->late_used = 0;
		if ((fid == OPTEE_SMC_CALL_WITH_ARG ||
		     fid == OPTEE_SMC_CALL_WITH_RPC_ARG ||
		     fid == OPTEE_SMC_CALL_WITH_REGD_ARG) &&
		    (uint32_t)in.regs[0] == OPTEE_SMC_RETURN_OK)
			maybe_die(DIE_STD_DONE);
		/* Refused by the TEE, not by its cap: the hypervisor asks
		 * the other domains for a thread (TG_CALL_RECLAIM). */
		s->msg.arg1 = s->msg.arg0 &&
					      (uint32_t)in.regs[0] ==
						      OPTEE_SMC_RETURN_ETHREAD_LIMIT
				      ? tg_domain_thread_want(med, in.cid)
				      : TG_WANT_NOTHING;
		memcpy(s->msg.regs, in.regs, sizeof(in.regs));
		break;
	case TG_CALL_NOTIF_IRQ:
		if (med)
			tg_tee_notif_irq(med);
		break;
	case TG_CALL_EXIT:
		s->msg.op = TG_PORT_DONE;
		s->msg.status = TG_OK;
		tg_chan_to_hyp(&chan, self->slot, self->seen);
		pthread_exit(NULL);
	default:
		ret = TG_EINVAL;
		break;
	}
	s->msg.op = TG_PORT_DONE;
	s->msg.status = ret;
	tg_chan_to_hyp(&chan, self->slot, self->seen);
}

/*
 * Run where the hypervisor serves the call (co-located guests, the
 * host's place.c), or anywhere. Only a performance hint: a bad value
 * makes the call slow, not wrong.
 */
static void place(struct worker *w, int cpu)
{
	if (cpu < -1 || cpu >= CPU_SETSIZE)
		cpu = -1;
	chan.near[w->slot] = cpu >= 0;
	if (cpu == w->cpu)
		return;
	w->cpu = cpu;
	tg_place_pin(cpu, &home);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tg_chan_slot *s = &chan.mem->slots[w->slot];

	self = w;
	{
		char name[16];

		snprintf(name, sizeof(name), "tg-med-%u", w->slot);
		prctl(PR_SET_NAME, name);
	}
	atomic_fetch_add(&workers_up, 1);
	for (;;) {
		if (!tg_chan_wait_med(&chan, w->slot, w->seen + 1,
				      IDLE_WAIT_MS)) {
			if (getppid() == 1)
				_exit(0);
			continue;
		}
		w->seen++;
		place(w, atomic_load(&s->cpu));
		serve(s);
	}
	return NULL;
}

/* ---- the sandbox ------------------------------------------------------- */

/*
 * The allow-list: what the workers need to wait on the channel (a futex:
 * the sandbox never gets eventfds), answer, log on stderr and allocate
 * (malloc, the arena's reset). No open (EACCES: glibc's malloc tries a
 * /proc file), no socket, no fork or exec, no ptrace, no process_vm_*,
 * no mremap, no file mapping; anything else kills the process (SIGSYS;
 * TEEGATE_DEBUG_SECCOMP=1 says which call instead).
 */
struct med_rule {
	int nr;
	int errno_answer;		/* 0: allow */
	struct scmp_arg_cmp cmp;	/* .op 0: no condition */
};

#define M_ALLOW(name) { SCMP_SYS(name), 0, { 0 } }
#define M_ALLOW_EQ(name, a, x)                                                 \
	{ SCMP_SYS(name), 0,                                                   \
	  { .arg = (a), .op = SCMP_CMP_EQ, .datum_a = (x) } }
#define M_ALLOW_MASKED(name, a, mask, x)                                       \
	{ SCMP_SYS(name), 0,                                                   \
	  { .arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask),           \
	    .datum_b = (x) } }
#define FUTEX_CMD_BITS 0xfffffe7full

static const struct med_rule med_rules[] = {
	/* the channel: spin, then a futex; workers idle-check the parent */
	M_ALLOW_MASKED(futex, 1, FUTEX_CMD_BITS, 0 /* FUTEX_WAIT */),
	M_ALLOW_MASKED(futex, 1, FUTEX_CMD_BITS, 1 /* FUTEX_WAKE */),
	M_ALLOW_MASKED(futex, 1, FUTEX_CMD_BITS, 9 /* FUTEX_WAIT_BITSET */),
	M_ALLOW_MASKED(futex, 1, FUTEX_CMD_BITS, 10 /* FUTEX_WAKE_BITSET */),
	M_ALLOW(sched_yield),
	M_ALLOW(getppid),
	M_ALLOW(clock_gettime),
	M_ALLOW(restart_syscall),
	/* memory: malloc (mmap, anonymous and never executable, is added
	 * by install_seccomp()); MADV_REMOVE resets the state arena */
	M_ALLOW(munmap),
	M_ALLOW(brk),
	M_ALLOW_MASKED(mprotect, 2, PROT_EXEC, 0),
	M_ALLOW_EQ(madvise, 2, MADV_DONTNEED),
	M_ALLOW_EQ(madvise, 2, MADV_REMOVE),
	M_ALLOW_EQ(sched_getaffinity, 0, 0), /* malloc: arena count */
	M_ALLOW_EQ(sched_setaffinity, 0, 0), /* to the CPU of the call */
	/* log lines, the end of a worker or of the process */
	M_ALLOW_EQ(write, 0, 2),
	M_ALLOW(exit),
	M_ALLOW(exit_group),
	M_ALLOW(rt_sigprocmask),
	M_ALLOW(rt_sigreturn),
	M_ALLOW(getpid),
	M_ALLOW(gettid),
#ifdef TG_MEDIATORD_EVIL
	M_ALLOW(clock_nanosleep), /* the hung mediator's sleep(1) */
	M_ALLOW(nanosleep),
#endif
	/* glibc's malloc reads /proc/sys/vm/overcommit_memory when it
	 * shrinks a heap: a failed open is fine for it */
	{ SCMP_SYS(openat), EACCES, { 0 } },
	{ SCMP_SYS(open), EACCES, { 0 } },
};

static int install_seccomp(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int ret;

	if (getenv("TEEGATE_TEST_NO_SECCOMP"))
		return -ENOSYS; /* tests: simulate a kernel without it */
	ctx = seccomp_init(getenv("TEEGATE_DEBUG_SECCOMP") ? SCMP_ACT_TRAP
							   : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				       SCMP_ACT_KILL_PROCESS);
	/* mmap: never executable either (two conditions, one rule) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
				       SCMP_A3(SCMP_CMP_MASKED_EQ,
					       MAP_ANONYMOUS, MAP_ANONYMOUS),
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC,
					       0));
	for (i = 0; !ret && i < sizeof(med_rules) / sizeof(med_rules[0]);
	     i++) {
		const struct med_rule *r = &med_rules[i];

		if (r->nr < 0)
			continue;
		ret = seccomp_rule_add_array(
			ctx,
			r->errno_answer ? SCMP_ACT_ERRNO((uint32_t)r->errno_answer)
					: SCMP_ACT_ALLOW,
			r->nr, r->cmp.op ? 1 : 0, &r->cmp);
	}
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

/* TEEGATE_DEBUG_SECCOMP: say which system call the filter refused. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char buf[64];
	int n;

	(void)sig;
	(void)uc;
	n = snprintf(buf, sizeof(buf),
		     "teegate-mediator: seccomp refused syscall %d\n",
		     si->si_syscall);
	if (write(2, buf, (size_t)n) < 0)
		_exit(5);
	_exit(5);
}

/* Map @fd at exactly @va, or NULL (something else is there). */
static void *fixed_map(void *va, size_t len, int fd, off_t off)
{
	void *p = mmap(va, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_NORESERVE, fd,
		       off);

	if (p == MAP_FAILED)
		return NULL;
	if (p != va) { /* a kernel without MAP_FIXED_NOREPLACE */
		munmap(p, len);
		return NULL;
	}
	return p;
}

static void usage_exit(const char *what)
{
	fprintf(stderr,
		"teegate-mediator: %s (this program is started by teegate, not by hand)\n",
		what);
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t i;
	bool sandboxed;
	uint64_t off;
	size_t len;
	void *p;

	if (argc != 4)
		usage_exit("wrong arguments");
	sandboxed = !strcmp(argv[1], "sandboxed");
	if (!sandboxed && strcmp(argv[1], "service"))
		usage_exit("unknown mode");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 0;
	if (getenv("TEEGATE_DEBUG_SECCOMP")) {
		struct sigaction sa = { .sa_sigaction = on_sigsys,
					.sa_flags = SA_SIGINFO };

		sigaction(SIGSYS, &sa, NULL);
	}
	chan.notify = (enum tg_chan_notify)atoi(argv[2]);
	off = strtoull(argv[3], NULL, 0);
	p = mmap(NULL, tg_chan_mem_size(), PROT_READ | PROT_WRITE, MAP_SHARED,
		 3, 0);
	if (p == MAP_FAILED)
		usage_exit("cannot map the channel");
	chan.mem = p;
	if (chan.mem->hdr.magic != TG_CHAN_MAGIC ||
	    chan.mem->hdr.shadow_pages > TG_CHAN_MAX_SHADOW_PAGES)
		usage_exit("bad channel");
	chan.spin_ns = chan.mem->hdr.spin_ns;
	die_init();
	shadow_pa = chan.mem->hdr.shadow_base_pa;
	shadow_pages = chan.mem->hdr.shadow_pages;
	len = (size_t)shadow_pages * TG_PAGE_SIZE;
	/* service: fd 4 is all of machine memory, mapped whole (privileged);
	 * sandboxed: fd 4 is the carve-out alone (off 0), or, when the TEE
	 * reads machine memory's file itself, that file: only the carve-out
	 * at @off is mapped, and the fd is closed before the filter */
	if (!sandboxed &&
	    mmap(NULL, (size_t)off + len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 4, 0) == MAP_FAILED)
		usage_exit("cannot map machine memory");
	/* The carve-out and the arena at the addresses every mediator
	 * process uses: the state's pointers into them stay valid. */
	shadow = fixed_map((void *)TG_SHADOW_VA, len, 4, (off_t)off);
	if (!shadow)
		usage_exit("cannot map the shadow memory at its fixed address");
	arena = fixed_map((void *)TG_ARENA_VA, TG_ARENA_SIZE, 5, 0);
	if (!arena)
		usage_exit("cannot map the state arena at its fixed address");
	close(5);
	close(4);
	close(3);
	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		chan.efd_med[i] = chan.notify == TG_CHAN_FUTEX ? -1
							       : 6 + (int)(2 * i);
		chan.efd_hyp[i] = chan.notify == TG_CHAN_FUTEX
					  ? -1
					  : 6 + (int)(2 * i) + 1;
	}
	sched_getaffinity(0, sizeof(home), &home);
	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		workers[i].slot = i;
		workers[i].cpu = -1;
		workers[i].seen = atomic_load(&chan.mem->slots[i].to_med);
	}
	/* Threads first (clone, stacks), then the filter on all of them;
	 * the hypervisor posts nothing before @ready. */
	for (i = 0; i < TG_CHAN_SLOTS; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main,
				   &workers[i]))
			return 4;
	/* past their start-up system calls (rseq, robust list...) */
	while (atomic_load(&workers_up) < TG_CHAN_SLOTS)
		sched_yield();
	if (sandboxed) {
		int ret = install_seccomp();

		if (ret) {
			fprintf(stderr,
				"teegate-mediator: cannot install the seccomp filter: %s\n",
				strerror(-ret));
			_exit(3);
		}
	}
	atomic_store(&chan.mem->hdr.ready, 1);
	for (i = 0; i < TG_CHAN_SLOTS; i++)
		pthread_join(workers[i].thread, NULL);
	return 0;
}
