// SPDX-License-Identifier: BSD-2-Clause
/*
 * Isolation modes, hypervisor side: where the mediator runs and how its
 * port calls reach the hypervisor.
 *
 *  inline     the mediator library in this process (machine.c, m->med);
 *             nothing here is used.
 *  sandboxed  teegate-mediator in a process of its own under a seccomp
 *             allow-list, mapping no machine memory but its shadow
 *             carve-out; futex-notified channel (channel.h).
 *  service    teegate-mediator as a privileged daemon that maps machine
 *             memory, notified through eventfds (event channels);
 *             optionally one daemon per guest (stub-domain style).
 *
 * In both out-of-process modes the hypervisor serves the mediator's port
 * requests itself, and only for the domain whose call it is handling at
 * that moment: a request for any other client id is refused and counted;
 * the hypervisor issues every SMC itself after checking a7 (the served
 * domain, or 0 only for VM_CREATED/VM_DESTROYED of the domain it asked to
 * create/destroy, and for the probe's fast calls while the mediator is
 * created).
 *
 * Shadow memory: the TEE must read the mediator's shadow arguments and
 * page lists at machine addresses. Each mediator process gets a carve-out
 * of mediator-owned machine pages (contiguous, TG_ISO_SHADOW_PAGES). In
 * sandboxed mode the carve-out is backed by a memfd of its own, spliced
 * into the hypervisor's view of machine memory at the carve-out's PAs
 * (MAP_FIXED): the TEE backend and the oracle see it at its PAs, the
 * sandbox maps that memfd and nothing else. See docs/isolation.md for why
 * this, not a staging copy. A TEE that reads machine memory's file itself
 * (real OP-TEE: QEMU maps the file) never sees a splice into our view;
 * there the sandbox is given machine memory's fd and an offset, maps the
 * carve-out alone and closes the fd before its seccomp filter is in place,
 * after which no call on its list can map or re-point a file mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <teegate/optee_abi.h>

#include "channel.h"
#include "internal.h"

#define PIN_CHUNK (TG_CHAN_DATA / sizeof(uint64_t))
#define READY_TIMEOUT_MS 10000
#define MAX_PROCS TG_HOST_MAX_GUESTS

/*
 * What the hypervisor sees of the calls, recorded for a recovery (the dead
 * process may not have written it down): TEE threads suspended in an RPC
 * (an SMC it issued for the mediator returned an RPC and was not resumed
 * since) and resume handles given to guests and not used yet.
 */
#define TRACK_THREADS 256u
#define TRACK_HANDLES 1024u
#define TRACK_MEM 2048u

struct track {
	pthread_mutex_t lock;
	struct {
		uint32_t cid, thread, a0, a1, a2;
		uint32_t sa1, sa2; /* the shadow its call started with */
	} thr[TRACK_THREADS]; /* cid 0: free */
	struct {
		uint32_t cid, handle;
	} hdl[TRACK_HANDLES];
	/* per slot: a guest call the TEE completed in the conversation on
	 * that slot, cleared when the answer reached the guest (cid 0) */
	struct {
		uint32_t cid, a0, a1, a2, a3;
	} done[TG_CHAN_SLOTS];
	/*
	 * FF-A: memory handles the TEE gave for a domain, not given back;
	 * @delivered once the conversation that got it ended (its answer
	 * went to the guest), else the slot of that conversation.
	 */
	struct {
		uint32_t cid;
		uint32_t slot;
		bool delivered;
		uint64_t handle;
	} mem[TRACK_MEM];
	uint64_t overflows;
};

/**
 * struct medproc - one mediator process and its channel.
 * @owner:     per-guest daemon: the only client it serves; 0 = all.
 * @seq:       our hand-over count per slot (never read back from the
 *             shared memory, which the mediator can write).
 * @free_mask: slots not in use by a call.
 * @dead:      the process is gone; calls fail until a restart.
 * @exit_status: waitpid() status of the last process.
 */
struct medproc {
	struct tg_iso *iso;
	uint32_t owner;
	struct tg_chan chan;
	int chan_fd, shadow_fd;
	uint64_t shadow_pa;
	uint32_t shadow_pages;
	int pool_idx; /* per-guest carve-out index in the pool, or -1 */
	pid_t pid;
	_Atomic uint32_t dead;
	_Atomic uint32_t serving; /* calls may be posted (0: restarting) */
	_Atomic bool gone;         /* could not be restarted: calls fail */
	_Atomic uint32_t free_mask;
	uint32_t seq[TG_CHAN_SLOTS];
	uint64_t scratch[TG_CHAN_SLOTS][PIN_CHUNK];
	/* the SMCs of the conversation on each slot: how many, the first */
	uint32_t smcs[TG_CHAN_SLOTS];
	uint64_t first_smc_in[TG_CHAN_SLOTS][8], first_smc_out[TG_CHAN_SLOTS][8];
	pthread_t monitor;
	bool monitor_started;
	pthread_t restarter;
	bool restarter_started;
	uint64_t death_ns;
	_Atomic bool stopping;
	_Atomic uint32_t started; /* served its first call */
	int exit_status;
	struct tg_tee_info tee;
	int arena_fd;		  /* the mediator's state: outlives it */
	_Atomic bool fresh_next;  /* next start: state lost, begin afresh */
	_Atomic bool upgrading;	  /* a death we caused to swap the binary */
	uint32_t *keep;		  /* pins a recovery keeps, per page */
	struct track track;
	/* the CPU each slot's worker was last sent to (-1: none) */
	_Atomic int slot_cpu[TG_CHAN_SLOTS];
};

struct tg_iso {
	struct tg_machine *m;
	enum tg_isolation mode;
	bool per_guest;
	char path[4096];
	pthread_mutex_t lock; /* procs[] */
	pthread_mutex_t upgrade_lock; /* no per-guest daemon stops meanwhile */
	pthread_mutex_t pool_lock;
	uint64_t pool_pa; /* per guest: pool_n carve-outs, contiguous */
	uint32_t pool_n;
	bool pool_used[MAX_PROCS];
	/* live domains (to re-create after a restart), under @lock */
	struct {
		uint32_t cid;
		bool has_limits;
		struct tg_limits limits;
		struct medproc *p;
	} doms[TG_HOST_MAX_GUESTS];
	/* pins the mediator holds, per machine page: it can unpin only
	 * those, and a restart drops them */
	_Atomic uint32_t *ledger;
	struct medproc *shared;
	struct {
		uint32_t cid;
		struct medproc *p;
	} procs[MAX_PROCS];
	_Atomic uint64_t refused_foreign;
	_Atomic uint64_t refused_smc;
	_Atomic uint64_t refused_other;
	_Atomic uint64_t restarts;
	_Atomic uint64_t deaths;
	_Atomic uint64_t last_restart_ns;
	_Atomic uint64_t watchdog_kills;
	_Atomic uint64_t port_requests;
	_Atomic uint64_t recovered, state_lost, upgrades;
	_Atomic uint64_t calls_failed, last_upgrade_ns;
	int watchdog_ms;
};

/*
 * Does the sandbox get a memfd of its own spliced under the carve-out?
 * Only when every reader of machine memory goes through our mapping of it.
 */
static bool shadow_spliced(const struct tg_iso *iso)
{
	return iso->mode == TG_ISOLATION_SANDBOXED &&
	       iso->m->cfg.backing != TG_BACKING_FILE;
}

static char last_error[256];
static bool has_last_error;

/* Log @fmt as an error and keep it for tg_isolation_last_error(). */
static void __attribute__((format(printf, 2, 3)))
iso_error(struct tg_machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	has_last_error = true;
	tg_host_log(m, TG_LOG_ERROR, "%s", last_error);
}

const char *tg_isolation_last_error(void)
{
	return has_last_error ? last_error : NULL;
}

/* What the hypervisor is serving on a slot right now. */
struct call {
	uint32_t op;
	uint32_t cid; /* the served domain; 0 = none */
};

const char *tg_isolation_name(enum tg_isolation mode)
{
	switch (mode) {
	case TG_ISOLATION_DEFAULT: return "default";
	case TG_ISOLATION_INLINE: return "inline";
	case TG_ISOLATION_SANDBOXED: return "sandboxed";
	case TG_ISOLATION_SERVICE: return "service";
	}
	return "?";
}

int tg_isolation_parse(const char *s, enum tg_isolation *mode)
{
	if (!s)
		return TG_EINVAL;
	if (!strcmp(s, "inline"))
		*mode = TG_ISOLATION_INLINE;
	else if (!strcmp(s, "sandboxed"))
		*mode = TG_ISOLATION_SANDBOXED;
	else if (!strcmp(s, "service"))
		*mode = TG_ISOLATION_SERVICE;
	else
		return TG_EINVAL;
	return TG_OK;
}

/* The protocol the process's mediator speaks (AUTO while it probes). */
static enum tg_protocol proto_of(const struct medproc *p)
{
	return p->tee.protocol;
}

static enum tg_hyp_op hyp_op(uint32_t op)
{
	switch (op) {
	case TG_CALL_MEDIATOR_CREATE:
		return TG_HYP_PROBE;
	case TG_CALL_DOMAIN_CREATE:
		return TG_HYP_DOMAIN_CREATE;
	case TG_CALL_DOMAIN_DESTROY:
		return TG_HYP_DOMAIN_DESTROY;
	case TG_CALL_DOMAIN_RECOVER:
		return TG_HYP_DOMAIN_RECOVER;
	case TG_CALL_HANDLE_SMC:
		return TG_HYP_GUEST_CALL;
	case TG_CALL_NOTIF_IRQ:
		return TG_HYP_NOTIF;
	default:
		return TG_HYP_OTHER;
	}
}

/* ---- serving the mediator's port requests ---------------------------- */

static void refuse(struct medproc *p, _Atomic uint64_t *counter,
		   const struct call *c, const char *what, uint64_t value)
{
	atomic_fetch_add(counter, 1);
	tg_host_log(p->iso->m, TG_LOG_WARN,
		    "mediator process %d: refused %s (%#llx) while serving client %u",
		    (int)p->pid, what, (unsigned long long)value, c->cid);
}

/* ---- what recovery needs to know -------------------------------------- */

static void track_mem(struct track *t, uint32_t cid, uint64_t handle,
		      bool given, uint32_t slot)
{
	uint32_t i, free_i = TRACK_MEM;

	for (i = 0; i < TRACK_MEM; i++) {
		if (t->mem[i].cid == cid && t->mem[i].handle == handle) {
			if (!given)
				t->mem[i].cid = 0;
			else if (!t->mem[i].delivered)
				t->mem[i].slot = slot;
			return;
		}
		if (!t->mem[i].cid && free_i == TRACK_MEM)
			free_i = i;
	}
	if (!given)
		return;
	if (free_i < TRACK_MEM) {
		t->mem[free_i].cid = cid;
		t->mem[free_i].handle = handle;
		t->mem[free_i].slot = slot;
		t->mem[free_i].delivered = false;
	} else {
		t->overflows++;
	}
}

/* The conversation on @slot for @cid ended: its answer reached the guest. */
static void track_delivered(struct medproc *p, uint32_t cid, uint32_t slot)
{
	struct track *t = &p->track;
	uint32_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TRACK_MEM; i++)
		if (t->mem[i].cid == cid && t->mem[i].slot == slot)
			t->mem[i].delivered = true;
	pthread_mutex_unlock(&t->lock);
}

/* An SMC issued for the mediator while it served @cid on @slot. */
/*
 * @shadow gets the address (a1:a2) of the message the call on that TEE
 * thread started with (OP-TEE's SMC ABI): the SMC's own for a CALL_WITH_*,
 * the one recorded with the thread for a resume (0 when unknown, and
 * always 0 over FF-A, whose messages live in the guest's own memory).
 */
static void track_smc(struct medproc *p, uint32_t cid, uint32_t slot,
		      const uint64_t in[8], const uint64_t out[8],
		      uint32_t shadow[2])
{
	struct track *t = &p->track;
	struct tg_hyp_smc_event ev;
	bool start = proto_of(p) == TG_PROTOCOL_OPTEE &&
		     ((uint32_t)in[0] == OPTEE_SMC_CALL_WITH_ARG ||
		      (uint32_t)in[0] == OPTEE_SMC_CALL_WITH_RPC_ARG);
	uint32_t i, sa1 = start ? (uint32_t)in[1] : 0;
	uint32_t sa2 = start ? (uint32_t)in[2] : 0;

	shadow[0] = sa1;
	shadow[1] = sa2;
	tg_hyp_smc_seen(proto_of(p), cid, in, out, &ev);
	if (!ev.resumed && !ev.suspended && !ev.mem_given && !ev.mem_back)
		return;
	pthread_mutex_lock(&t->lock);
	if (ev.mem_given || ev.mem_back)
		track_mem(t, cid, ev.mem, ev.mem_given, slot);
	for (i = 0; (ev.resumed || ev.suspended) && i < TRACK_THREADS; i++) {
		if (t->thr[i].cid != cid)
			continue;
		/* resumed (and maybe suspended again, below) */
		if (ev.resumed && t->thr[i].thread == ev.resumed_thread) {
			sa1 = t->thr[i].sa1;
			sa2 = t->thr[i].sa2;
			t->thr[i].cid = 0;
		} else if (ev.suspended && t->thr[i].thread == ev.thread) {
			t->thr[i].cid = 0;
		}
	}
	if (ev.suspended) {
		for (i = 0; i < TRACK_THREADS && t->thr[i].cid; i++)
			;
		if (i < TRACK_THREADS) {
			t->thr[i].thread = ev.thread;
			t->thr[i].a0 = ev.a0;
			t->thr[i].a1 = ev.a1;
			t->thr[i].a2 = ev.a2;
			t->thr[i].sa1 = sa1;
			t->thr[i].sa2 = sa2;
			t->thr[i].cid = cid;
		} else {
			t->overflows++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	shadow[0] = sa1;
	shadow[1] = sa2;
}

/*
 * The TEE completed the guest call of the conversation on @slot (@fid:
 * the completing SMC; @shadow: the message it started with): until the
 * answer reaches the guest, a death leaves the guest believing it failed,
 * and recovery undoes what it committed (tg_recover_info.done).
 */
static void track_done(struct medproc *p, uint32_t slot, uint32_t cid,
		       uint32_t fid, const uint32_t shadow[2])
{
	struct track *t = &p->track;

	pthread_mutex_lock(&t->lock);
	t->done[slot].a0 = fid;
	t->done[slot].a1 = shadow[0];
	t->done[slot].a2 = shadow[1];
	t->done[slot].a3 = 0;
	t->done[slot].cid = cid;
	pthread_mutex_unlock(&t->lock);
}

static void track_done_clear(struct medproc *p, uint32_t slot)
{
	pthread_mutex_lock(&p->track.lock);
	p->track.done[slot].cid = 0;
	pthread_mutex_unlock(&p->track.lock);
}

/* A guest got (@set) or gave back a resume handle. */
static void track_handle(struct medproc *p, uint32_t cid, uint32_t handle,
			 bool set)
{
	struct track *t = &p->track;
	uint32_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TRACK_HANDLES; i++)
		if (t->hdl[i].cid == cid && t->hdl[i].handle == handle)
			t->hdl[i].cid = 0;
	if (set) {
		for (i = 0; i < TRACK_HANDLES && t->hdl[i].cid; i++)
			;
		if (i < TRACK_HANDLES) {
			t->hdl[i].handle = handle;
			t->hdl[i].cid = cid;
		} else {
			t->overflows++;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

static void track_forget(struct medproc *p, uint32_t cid)
{
	struct track *t = &p->track;
	uint32_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TRACK_THREADS; i++)
		if (t->thr[i].cid == cid)
			t->thr[i].cid = 0;
	for (i = 0; i < TRACK_HANDLES; i++)
		if (t->hdl[i].cid == cid)
			t->hdl[i].cid = 0;
	for (i = 0; i < TG_CHAN_SLOTS; i++)
		if (t->done[i].cid == cid)
			t->done[i].cid = 0;
	for (i = 0; i < TRACK_MEM; i++)
		if (t->mem[i].cid == cid)
			t->mem[i].cid = 0;
	pthread_mutex_unlock(&t->lock);
}

/* The memory handles the TEE gave for @cid (up to @max). */
static uint32_t track_mem_of(struct medproc *p, uint32_t cid, uint64_t *out,
			     uint32_t max)
{
	struct track *t = &p->track;
	uint32_t i, n = 0;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TRACK_MEM && n < max; i++)
		if (t->mem[i].cid == cid)
			out[n++] = t->mem[i].handle;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static void track_info(struct medproc *p, uint32_t cid,
		       struct tg_recover_info *ri)
{
	struct track *t = &p->track;
	uint32_t i;

	memset(ri, 0, sizeof(*ri));
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < TRACK_THREADS; i++) {
		if (t->thr[i].cid != cid ||
		    ri->nthreads == TG_RECOVER_MAX_THREADS)
			continue;
		ri->threads[ri->nthreads].thread = t->thr[i].thread;
		ri->threads[ri->nthreads].a0 = t->thr[i].a0;
		ri->threads[ri->nthreads].a1 = t->thr[i].a1;
		ri->threads[ri->nthreads].a2 = t->thr[i].a2;
		ri->nthreads++;
	}
	for (i = 0; i < TRACK_HANDLES; i++)
		if (t->hdl[i].cid == cid &&
		    ri->nhandles < TG_RECOVER_MAX_HANDLES)
			ri->handles[ri->nhandles++] = t->hdl[i].handle;
	/* given in a conversation the death cut: the guest never saw it */
	for (i = 0; i < TRACK_MEM; i++)
		if (t->mem[i].cid == cid && !t->mem[i].delivered &&
		    ri->nmem < TG_RECOVER_MAX_MEM)
			ri->mem[ri->nmem++] = t->mem[i].handle;
	/* consumed: a later recovery must not undo them again */
	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		if (t->done[i].cid != cid)
			continue;
		ri->done[ri->ndone].a0 = t->done[i].a0;
		ri->done[ri->ndone].a1 = t->done[i].a1;
		ri->done[ri->ndone].a2 = t->done[i].a2;
		ri->done[ri->ndone].a3 = t->done[i].a3;
		ri->ndone++;
		t->done[i].cid = 0;
	}
	pthread_mutex_unlock(&t->lock);
}

/*
 * A recovery's list of the pins the domain's state still references
 * (count 0: the list is complete). Then every other pin the mediator holds
 * for the domain is dropped: those of calls that were in flight, and
 * those the dead process took but never recorded.
 */
static int keep_pins(struct medproc *p, const struct call *c,
		     const uint64_t *pa, uint32_t count)
{
	struct tg_machine *m = p->iso->m;
	uint64_t pfn, dropped = 0;
	uint32_t i;

	if (!p->keep) {
		p->keep = calloc(m->npages, sizeof(*p->keep));
		if (!p->keep)
			return TG_ENOMEM;
	}
	for (i = 0; i < count; i++) {
		if (!tg_pa_is_ram(m, pa[i]) ||
		    atomic_load(&m->pages[tg_pa_to_pfn(m, pa[i])].owner) !=
			    c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       "keep of a page not the domain's", pa[i]);
			continue;
		}
		p->keep[tg_pa_to_pfn(m, pa[i])]++;
	}
	if (count)
		return TG_OK;
	for (pfn = 0; pfn < m->npages; pfn++) {
		uint32_t held = atomic_load(&p->iso->ledger[pfn]);
		uint32_t kept = p->keep[pfn];
		uint64_t a = m->ram_base + (pfn << TG_PAGE_SHIFT);

		p->keep[pfn] = 0;
		if (atomic_load(&m->pages[pfn].owner) != c->cid ||
		    held == kept)
			continue;
		if (kept > held) {
			/* it claims pins it does not hold: keep what is */
			refuse(p, &p->iso->refused_other, c,
			       "keep of pins it does not hold", a);
			continue;
		}
		atomic_store(&p->iso->ledger[pfn], kept);
		for (; held > kept; held--, dropped++)
			m->port.unpin_pages(m->port.ctx, c->cid, &a, 1);
	}
	if (dropped)
		tg_host_log(m, TG_LOG_INFO,
			    "recovery of client %u: dropped %llu pins nothing references",
			    c->cid, (unsigned long long)dropped);
	return TG_OK;
}

/* Drop the pins in @pa the mediator holds (ledger); refuse the others. */
static int ledger_unpin(struct medproc *p, const struct call *c, uint64_t *pa,
			uint32_t count)
{
	struct tg_machine *m = p->iso->m;
	uint32_t i, n = 0;

	for (i = 0; i < count; i++) {
		_Atomic uint32_t *l;
		uint32_t v;

		if (!tg_pa_is_ram(m, pa[i]) ||
		    atomic_load(&m->pages[tg_pa_to_pfn(m, pa[i])].owner) !=
			    c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       "unpin of a page not the domain's", pa[i]);
			continue;
		}
		l = &p->iso->ledger[tg_pa_to_pfn(m, pa[i])];
		v = atomic_load(l);
		do {
			if (!v)
				break;
		} while (!atomic_compare_exchange_weak(l, &v, v - 1));
		if (!v) {
			refuse(p, &p->iso->refused_other, c,
			       "unpin of a page it did not pin", pa[i]);
			continue;
		}
		pa[n++] = pa[i];
	}
	if (n)
		m->port.unpin_pages(m->port.ctx, c->cid, pa, n);
	return n == count ? TG_OK : TG_EFAULT;
}

/*
 * A guest call goes out with what the mediator will read first (the
 * calling guest's own memory, at the call; nothing if that is not its
 * RAM): the copy request it saves is a round trip between two
 * processes, several microseconds once guests outnumber CPUs. From our
 * own copy of the registers, not the slot's, which the mediator can
 * rewrite; and only what a COPY_FROM for this domain would give it.
 */
static void prefetch(struct medproc *p, const struct call *c,
		     const uint64_t regs[8], struct tg_chan_slot *s)
{
	struct tg_machine *m = p->iso->m;
	uint64_t ipa = 0;
	uint32_t n = tg_hyp_prefetch(proto_of(p), regs, &ipa);

	s->msg.len = 0;
	s->msg.arg1 = 0;
	if (!n || !c->cid ||
	    m->port.copy_from_guest(m->port.ctx, c->cid, s->data, ipa, n))
		return;
	s->msg.arg1 = ipa;
	s->msg.len = n;
}

/*
 * The writes a guest call's answer carries (copy_to_guest_late): copied
 * once out of the slot, then each checked as a COPY_TO would be - the
 * served domain's memory only, within what was sent. Before the answer
 * reaches the guest.
 */
static void apply_late(struct medproc *p, const struct call *c,
		       uint32_t slot, const struct tg_chan_msg *in)
{
	struct tg_machine *m = p->iso->m;
	uint8_t buf[TG_CHAN_LATE] __attribute__((aligned(8)));
	uint32_t len = in->len, n = in->count, off = 0, i;
	struct tg_chan_late e;

	if (!n)
		return;
	if (len > TG_CHAN_LATE ||
	    n > len / (uint32_t)sizeof(struct tg_chan_late)) {
		refuse(p, &p->iso->refused_other, c,
		       "late writes larger than the channel allows", len);
		return;
	}
	memcpy(buf, p->chan.mem->slots[slot].data, len);
	for (i = 0; i < n; i++) {
		if (len - off < sizeof(e)) {
			refuse(p, &p->iso->refused_other, c,
			       "late write past the end", off);
			return;
		}
		memcpy(&e, buf + off, sizeof(e));
		off += (uint32_t)sizeof(e);
		if (e.cid != c->cid || !c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       "late write to another domain's memory", e.cid);
			return;
		}
		if (e.len > len - off) {
			refuse(p, &p->iso->refused_other, c,
			       "late write past the end", e.len);
			return;
		}
		/* as copy_out() in the mediator: a guest that unmapped its
		 * message loses its own results */
		(void)m->port.copy_to_guest(m->port.ctx, c->cid, e.ipa,
					    buf + off, e.len);
		off += (e.len + 7u) & ~7u; /* e.len <= len: no overflow */
		if (off > len)
			off = len;
	}
}

/* The SMC policy for what @c is: hyp_proto.c, by protocol. */
static bool smc_allowed(const struct medproc *p, const struct call *c,
			const uint64_t r[8])
{
	return tg_hyp_smc_allowed(proto_of(p), hyp_op(c->op), c->cid, r);
}

/*
 * One port request, already snapshotted in @in; the answer goes to the
 * slot. The mediator may rewrite the slot at any time: lengths and counts
 * come from @in, checked, and nothing is read twice.
 */
static void serve_port(struct medproc *p, const struct call *c, uint32_t slot,
		       const struct tg_chan_msg *in)
{
	struct tg_machine *m = p->iso->m;
	struct tg_chan_slot *s = &p->chan.mem->slots[slot];
	uint64_t *tmp = p->scratch[slot];
	int ret = TG_EFAULT;

	switch (in->op) {
	case TG_PORT_PIN:
	case TG_PORT_UNPIN:
		if (in->cid != c->cid || !c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       in->op == TG_PORT_PIN ? "pin of another domain's pages"
						     : "unpin for another domain",
			       in->cid);
			break;
		}
		if (!in->count || in->count > PIN_CHUNK) {
			ret = TG_EINVAL;
			break;
		}
		memcpy(tmp, s->data, (size_t)in->count * 8u);
		if (in->op == TG_PORT_PIN) {
			uint64_t *pa = tmp + PIN_CHUNK / 2;
			uint32_t i;

			if (in->count > PIN_CHUNK / 2) {
				ret = TG_EINVAL;
				break;
			}
			ret = m->port.pin_pages(m->port.ctx, c->cid, tmp, pa,
						in->count);
			if (ret == TG_OK) {
				for (i = 0; i < in->count; i++)
					atomic_fetch_add(
						&p->iso->ledger[tg_pa_to_pfn(
							m, pa[i])],
						1);
				memcpy(s->data, pa, (size_t)in->count * 8u);
			}
		} else {
			ret = ledger_unpin(p, c, tmp, in->count);
		}
		break;
	case TG_PORT_COPY_FROM:
	case TG_PORT_COPY_TO:
		if (in->cid != c->cid || !c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       "copy from/to another domain's memory",
			       in->arg0);
			break;
		}
		if (in->len > TG_CHAN_DATA) {
			ret = TG_EINVAL;
			break;
		}
		if (in->op == TG_PORT_COPY_FROM)
			ret = m->port.copy_from_guest(m->port.ctx, c->cid,
						      s->data, in->arg0,
						      in->len);
		else
			ret = m->port.copy_to_guest(m->port.ctx, c->cid,
						    in->arg0, s->data, in->len);
		break;
	case TG_PORT_SMC: {
		uint64_t r[8];
		uint32_t resumed = 0, shadow[2] = { 0, 0 };

		memcpy(r, in->regs, sizeof(r));
		if (!smc_allowed(p, c, r)) {
			refuse(p, &p->iso->refused_smc, c,
			       "SMC for a client it is not serving", r[0]);
			tg_hyp_smc_refused(proto_of(p), r);
		} else {
			uint64_t req[8];

			memcpy(req, r, sizeof(r));
			tg_host_serving = c->cid;
			m->port.smc(m->port.ctx, r);
			/*
			 * smc_resume_intr(): resume the FOREIGN_INTR answers
			 * here, with the same client id, rather than one
			 * round trip each (a dying guest's long TA call).
			 * OP-TEE's SMC ABI only.
			 */
			while (proto_of(p) == TG_PROTOCOL_OPTEE && req[7] &&
			       resumed < in->arg0 && resumed < (1u << 20) &&
			       (uint32_t)r[0] ==
				       OPTEE_SMC_RETURN_RPC_FOREIGN_INTR) {
				uint64_t thread = r[3];

				memset(r, 0, sizeof(r));
				r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
				r[3] = thread;
				r[7] = req[7];
				m->port.smc(m->port.ctx, r);
				resumed++;
			}
			tg_host_serving = 0;
			track_smc(p, c->cid, slot, req, r, shadow);
			if (c->op == TG_CALL_HANDLE_SMC &&
			    proto_of(p) == TG_PROTOCOL_OPTEE && req[7] &&
			    !OPTEE_SMC_RETURN_IS_RPC(r[0]) &&
			    (shadow[0] || shadow[1]))
				track_done(p, slot, c->cid, (uint32_t)req[0],
					   shadow);
			/* only a conversation's single SMC is ever needed */
			if (!p->smcs[slot]++) {
				memcpy(p->first_smc_in[slot], req, sizeof(req));
				memcpy(p->first_smc_out[slot], r, sizeof(r));
			}
		}
		memcpy(s->msg.regs, r, sizeof(r));
		s->msg.count = resumed;
		ret = TG_OK;
		break;
	}
	case TG_PORT_KEEP:
		if (c->op != TG_CALL_DOMAIN_RECOVER || in->cid != c->cid ||
		    !c->cid) {
			refuse(p, &p->iso->refused_foreign, c,
			       "keep outside its domain's recovery", in->cid);
			break;
		}
		if (in->count > PIN_CHUNK) {
			ret = TG_EINVAL;
			break;
		}
		memcpy(tmp, s->data, (size_t)in->count * 8u);
		ret = keep_pins(p, c, tmp, in->count);
		break;
	case TG_PORT_LOG: {
		char msg[256];
		uint32_t n = in->len < 200 ? in->len : 200;

		memcpy(msg, s->data, n);
		msg[n] = '\0';
		tg_host_log(m, (enum tg_log_level)(in->arg0 & 3u),
			    "mediator: client %u: %s (%#llx)", in->cid, msg,
			    (unsigned long long)in->arg1);
		ret = TG_OK;
		break;
	}
	case TG_PORT_NOTIF:
		if (in->cid != c->cid && c->op != TG_CALL_NOTIF_IRQ) {
			refuse(p, &p->iso->refused_other, c,
			       "interrupt to another domain", in->cid);
			break;
		}
		{
			struct tg_guest *g = tg_guest_by_client(m, in->cid);

			if (g)
				tg_guest_raise_notif(g);
		}
		ret = TG_OK;
		break;
	default:
		refuse(p, &p->iso->refused_other, c, "unknown request",
		       in->op);
		ret = TG_EINVAL;
		break;
	}
	s->msg.status = ret;
}

static int slot_get(struct medproc *p, bool wait)
{
	uint32_t near = 0, i;

	/* co-located: a slot whose worker already runs on this CPU first */
	if (tg_machine_placement(p->iso->m) == TG_PLACE_COLOCATE) {
		int cpu = sched_getcpu();

		for (i = 0; i < TG_CHAN_SLOTS; i++)
			if (atomic_load_explicit(&p->slot_cpu[i],
						 memory_order_relaxed) == cpu)
				near |= 1u << i;
	}
	for (;;) {
		uint32_t mask = atomic_load(&p->free_mask);

		while (mask & near) {
			i = (uint32_t)__builtin_ctz(mask & near);
			if (atomic_compare_exchange_weak(&p->free_mask, &mask,
							 mask & ~(1u << i)))
				return (int)i;
		}
		while (mask) {
			i = (uint32_t)__builtin_ctz(mask);

			if (atomic_compare_exchange_weak(&p->free_mask, &mask,
							 mask & ~(1u << i)))
				return (int)i;
		}
		if (!wait || atomic_load(&p->dead))
			return -1;
		sched_yield();
	}
}

static void slot_put(struct medproc *p, uint32_t slot)
{
	atomic_fetch_or(&p->free_mask, 1u << slot);
}

/*
 * The watchdog: the mediator held a call's turn for longer than
 * watchdog_ms (it hangs, or loops): kill it; the monitor restarts it. The
 * SMCs the hypervisor issues for it do not count (its turn is not held
 * then). Wait until the monitor saw the death, so the slot is not reused
 * with the old process.
 */
static void watchdog_kill(struct medproc *p)
{
	tg_host_log(p->iso->m, TG_LOG_ERROR,
		    "mediator process %d held a call for more than %d ms: killing it",
		    (int)p->pid, p->iso->watchdog_ms);
	atomic_fetch_add(&p->iso->watchdog_kills, 1);
	kill(p->pid, SIGKILL);
	while (!atomic_load(&p->dead))
		usleep(1000);
}

#define F_WAIT_SLOT 1u    /* wait for a free slot */
#define F_INTERNAL 2u     /* the monitor's own calls while restarting */
#define F_WAIT_SERVING 4u /* wait out a restart (not on the trap path) */
#define SERVING_WAIT_MS 10000

/*
 * The mediator died in a guest's read of its pending notifications after
 * the TEE answered it (OP-TEE's GET_ASYNC_NOTIF_VALUE, FF-A's
 * NOTIFICATION_GET). That answer took them from the TEE: lost, it would
 * leave the guest waiting for a notification for ever. The conversation's
 * only SMC was exactly the guest's read, so the hypervisor can give the
 * guest the answer itself (hyp_proto.c). Every other call just fails (it
 * changes nothing, or recovery undoes it).
 */
static bool answered_by_its_smc(struct medproc *p, const struct call *c,
				uint32_t slot, struct tg_chan_msg *msg)
{
	if (c->op != TG_CALL_HANDLE_SMC || p->smcs[slot] != 1 ||
	    !tg_hyp_answer_of_smc(proto_of(p), c->cid, msg->regs,
				  p->first_smc_in[slot], p->first_smc_out[slot]))
		return false;
	msg->arg0 = 1; /* handled */
	msg->status = TG_OK;
	return true;
}

/*
 * One call: post it on a free slot, serve the port requests it makes,
 * return the mediator's answer (@out: copied from the slot's data).
 * TG_ENOTEE when the mediator process is gone or restarting.
 */
static int proc_call(struct medproc *p, struct tg_chan_msg *msg,
		     const void *data, size_t data_len, void *out,
		     size_t out_len, unsigned int flags)
{
	struct call c = { msg->op, msg->cid };
	struct tg_chan_slot *s;
	struct tg_chan_msg in;
	int slot, waited = 0;
	uint32_t handle;
	int cpu;

again:
	while (!(flags & F_INTERNAL) && !atomic_load(&p->serving)) {
		if (!(flags & F_WAIT_SERVING) || atomic_load(&p->gone) ||
		    waited >= SERVING_WAIT_MS)
			return TG_ENOTEE;
		usleep(1000);
		waited++;
	}
	if (atomic_load(&p->dead))
		return TG_ENOTEE;
	slot = slot_get(p, flags & (F_WAIT_SLOT | F_WAIT_SERVING |
				    F_INTERNAL));
	if (slot < 0)
		return atomic_load(&p->dead) ? TG_ENOTEE : TG_EBUSY;
	/* An upgrade stops taking calls, then waits for every slot to be
	 * free: a slot taken after that wait began must not be used. */
	if (!(flags & F_INTERNAL) && !atomic_load(&p->serving)) {
		slot_put(p, (uint32_t)slot);
		goto again;
	}
	/* The guest gives its resume handle back now that this process
	 * will see it (a call waiting out a restart has not). */
	if (c.op == TG_CALL_HANDLE_SMC &&
	    tg_hyp_guest_resumes(proto_of(p), msg->regs, &handle))
		track_handle(p, c.cid, handle, false);
	s = &p->chan.mem->slots[slot];
	p->smcs[slot] = 0;
	/* a guest call's: a recovery's own calls must not drop the record
	 * of the death they are recovering from */
	if (c.op == TG_CALL_HANDLE_SMC)
		track_done_clear(p, (uint32_t)slot);
	s->msg = *msg;
	if (data_len)
		memcpy(s->data, data, data_len);
	if (c.op == TG_CALL_HANDLE_SMC)
		prefetch(p, &c, msg->regs, s);
	/* co-located (place.c): the worker serves it on this CPU */
	cpu = tg_machine_placement(p->iso->m) == TG_PLACE_COLOCATE
		      ? sched_getcpu()
		      : -1;
	atomic_store_explicit(&p->slot_cpu[slot], cpu, memory_order_relaxed);
	p->chan.near[slot] = cpu >= 0;
	atomic_store(&s->cpu, cpu);
	for (;;) {
		tg_chan_to_med(&p->chan, (uint32_t)slot, ++p->seq[slot]);
		if (!tg_chan_wait_hyp(&p->chan, (uint32_t)slot, p->seq[slot],
				      p->iso->watchdog_ms)) {
			if (!atomic_load(&p->dead))
				watchdog_kill(p);
			if (answered_by_its_smc(p, &c, (uint32_t)slot, msg)) {
				track_done_clear(p, (uint32_t)slot);
				slot_put(p, (uint32_t)slot);
				return TG_OK;
			}
			/* died: the slot is reset with the channel */
			slot_put(p, (uint32_t)slot);
			return TG_ENOTEE;
		}
		in = s->msg; /* snapshot */
		if (in.op == TG_PORT_DONE)
			break;
		atomic_fetch_add_explicit(&p->iso->port_requests, 1,
					  memory_order_relaxed);
		serve_port(p, &c, (uint32_t)slot, &in);
	}
	*msg = in;
	if (c.op == TG_CALL_HANDLE_SMC) {
		apply_late(p, &c, (uint32_t)slot, &in);
		track_done_clear(p, (uint32_t)slot); /* the answer goes out */
	}
	if (out_len)
		memcpy(out, s->data, out_len);
	if (c.cid)
		track_delivered(p, c.cid, (uint32_t)slot);
	/* The guest gets a resume handle: record it while the slot is
	 * still ours, so that an upgrade waiting for free slots sees it. */
	if (c.op == TG_CALL_HANDLE_SMC && in.status == TG_OK && in.arg0 &&
	    tg_hyp_guest_suspended(proto_of(p), in.regs, &handle))
		track_handle(p, c.cid, handle, true);
	slot_put(p, (uint32_t)slot);
	return in.status;
}

/* ---- process life ------------------------------------------------------ */

static int find_binary(struct tg_iso *iso)
{
	const char *cfg = iso->m->cfg.mediator_path;
	const char *env = getenv("TEEGATE_MEDIATOR");
	char self[2048], *slash;
	ssize_t n;

	if (cfg || env) {
		snprintf(iso->path, sizeof(iso->path), "%s", cfg ? cfg : env);
		return access(iso->path, X_OK) ? TG_ENOTSUP : TG_OK;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(iso->path, sizeof(iso->path),
				 "%s/teegate-mediator", self);
			if (!access(iso->path, X_OK))
				return TG_OK;
		}
	}
#ifdef TG_MEDIATORD_PATH
	snprintf(iso->path, sizeof(iso->path), "%s", TG_MEDIATORD_PATH);
	if (!access(iso->path, X_OK))
		return TG_OK;
#endif
	return TG_ENOTSUP;
}

static void chan_reset(struct medproc *p)
{
	struct tg_chan_mem *mem = p->chan.mem;
	uint32_t i;

	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		atomic_store(&mem->slots[i].to_med, 0);
		atomic_store(&mem->slots[i].to_hyp, 0);
		atomic_store(&mem->slots[i].med_sleeping, 0);
		atomic_store(&mem->slots[i].hyp_sleeping, 0);
		p->seq[i] = 0;
	}
	atomic_store(&mem->hdr.ready, 0);
	atomic_store(&mem->hdr.shadow_lock, 0);
	atomic_fetch_add(&mem->hdr.generation, 1);
	atomic_store(&p->free_mask, (uint32_t)((1ull << TG_CHAN_SLOTS) - 1));
}

/* fork + exec; the child only makes async-signal-safe calls. */
static pid_t spawn(struct medproc *p)
{
	struct tg_iso *iso = p->iso;
	char notify[16], off[32];
	char *argv[] = { iso->path,
			 iso->mode == TG_ISOLATION_SANDBOXED ? "sandboxed"
							      : "service",
			 notify, off, NULL };
	int fds[3 + 2 * TG_CHAN_SLOTS], nfds = 3, i;
	pid_t parent = getpid(), pid;
	extern char **environ;

	snprintf(notify, sizeof(notify), "%d", (int)p->chan.notify);
	snprintf(off, sizeof(off), "%#llx",
		 shadow_spliced(iso)
			 ? 0ull
			 : (unsigned long long)(p->shadow_pa -
						iso->m->ram_base));
	fds[0] = p->chan_fd;
	fds[1] = p->shadow_fd;
	fds[2] = p->arena_fd;
	if (p->chan.notify != TG_CHAN_FUTEX)
		for (i = 0; i < (int)TG_CHAN_SLOTS; i++) {
			fds[nfds++] = p->chan.efd_med[i];
			fds[nfds++] = p->chan.efd_hyp[i];
		}
	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	/* the machine's CPUs, not those of a placed thread that forked */
	sched_setaffinity(0, sizeof(p->iso->m->home), &p->iso->m->home);
	{
		int hi[3 + 2 * TG_CHAN_SLOTS];

		for (i = 0; i < nfds; i++) {
			hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 200);
			if (hi[i] < 0)
				_exit(125);
		}
		for (i = 0; i < nfds; i++)
			if (dup2(hi[i], 3 + i) != 3 + i)
				_exit(125);
	}
	syscall(SYS_close_range, (unsigned int)(3 + nfds), ~0u, 0u);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execve(iso->path, argv, environ);
	_exit(127);
}

/* Wait until the process's workers listen; false if it died first. */
static bool wait_ready(struct medproc *p)
{
	int waited = 0;

	while (!atomic_load(&p->chan.mem->hdr.ready)) {
		if (atomic_load(&p->dead) || waited >= READY_TIMEOUT_MS)
			return false;
		usleep(1000);
		waited++;
	}
	return true;
}

/*
 * Begin afresh (a recovery failed, or the state is from another layout):
 * re-create the mediator and the domains it served. restart_reset() made
 * the TEE forget them before this process started.
 */
static int restart_fresh(struct medproc *p)
{
	struct tg_iso *iso = p->iso;
	struct tg_machine *m = iso->m;
	struct tg_chan_msg msg = { .op = TG_CALL_MEDIATOR_CREATE };
	uint32_t i;
	int ret;

	ret = proc_call(p, &msg, &m->cfg.mediator, sizeof(m->cfg.mediator),
			&p->tee, sizeof(p->tee), F_INTERNAL);
	pthread_mutex_lock(&iso->lock);
	for (i = 0; !ret && i < TG_HOST_MAX_GUESTS; i++) {
		struct tg_chan_msg dc = { .op = TG_CALL_DOMAIN_CREATE };

		if (iso->doms[i].p != p || !iso->doms[i].cid)
			continue;
		dc.cid = iso->doms[i].cid;
		dc.arg0 = iso->doms[i].has_limits;
		ret = proc_call(p, &dc, &iso->doms[i].limits,
				sizeof(iso->doms[i].limits), NULL, 0,
				F_INTERNAL);
	}
	pthread_mutex_unlock(&iso->lock);
	if (!ret)
		atomic_fetch_add(&iso->state_lost, 1);
	return ret;
}

/*
 * Adopt the dead process's state: the new process maps the same arena
 * and carve-out, and each domain is made consistent again with what the
 * hypervisor saw (track_info()). Guests keep sessions and buffers.
 */
static int restart_recover(struct medproc *p)
{
	struct tg_iso *iso = p->iso;
	struct tg_chan_msg msg = { .op = TG_CALL_MEDIATOR_RECOVER };
	struct tg_recover_info *ri = malloc(sizeof(*ri));
	struct tg_recover_stats st;
	uint32_t i;
	int ret;

	if (!ri)
		return TG_ENOMEM;
	ret = proc_call(p, &msg, NULL, 0, &p->tee, sizeof(p->tee),
			F_INTERNAL);
	pthread_mutex_lock(&iso->lock);
	for (i = 0; !ret && i < TG_HOST_MAX_GUESTS; i++) {
		struct tg_chan_msg dc = { .op = TG_CALL_DOMAIN_RECOVER };

		if (iso->doms[i].p != p || !iso->doms[i].cid)
			continue;
		dc.cid = iso->doms[i].cid;
		track_info(p, dc.cid, ri);
		ret = proc_call(p, &dc, ri, sizeof(*ri), &st, sizeof(st),
				F_INTERNAL);
		if (ret == TG_ENOENT) /* destroyed before the crash */
			ret = TG_OK;
		else if (!ret)
			atomic_fetch_add(&iso->calls_failed, st.calls_failed);
	}
	pthread_mutex_unlock(&iso->lock);
	free(ri);
	if (!ret)
		atomic_fetch_add(&iso->recovered, 1);
	return ret;
}

/* Runs in its own thread while the monitor waits on the new process. */
static void *restarter_main(void *arg)
{
	struct medproc *p = arg;
	struct tg_iso *iso = p->iso;
	struct tg_machine *m = iso->m;
	bool fresh = atomic_load(&p->fresh_next);
	int ret;

	if (!wait_ready(p))
		return NULL;
	ret = fresh ? restart_fresh(p) : restart_recover(p);
	if (ret && !fresh && !atomic_load(&p->dead)) {
		/* Begin afresh: the TEE must forget the domains first,
		 * with no process working on them. */
		tg_host_log(m, TG_LOG_ERROR,
			    "mediator process %d could not recover the state (%s): starting afresh",
			    (int)p->pid, tg_strerror(ret));
		atomic_store(&p->fresh_next, true);
		kill(p->pid, SIGKILL);
		return NULL;
	}
	if (ret) {
		if (!atomic_load(&p->dead)) {
			tg_host_log(m, TG_LOG_ERROR,
				    "restarted mediator process %d failed: %s",
				    (int)p->pid, tg_strerror(ret));
			atomic_store(&p->gone, true);
		}
		return NULL; /* died again: the monitor restarts it */
	}
	atomic_store(&p->fresh_next, false);
	atomic_store(&iso->last_restart_ns, tg_now_ns() - p->death_ns);
	atomic_fetch_add(&iso->restarts, 1);
	if (atomic_exchange(&p->upgrading, false)) {
		atomic_fetch_add(&iso->upgrades, 1);
		atomic_store(&iso->last_upgrade_ns,
			     atomic_load(&iso->last_restart_ns));
	}
	atomic_store(&p->serving, 1);
	tg_host_log(m, TG_LOG_WARN,
		    "mediator process %d serving after a restart of %.1f ms (%s)",
		    (int)p->pid,
		    (double)atomic_load(&iso->last_restart_ns) / 1e6,
		    fresh ? "state lost" : "state recovered");
	return NULL;
}

/*
 * Before a fresh start: the TEE forgets the domains the dead mediator
 * served (VM_DESTROYED: their sessions, buffers and suspended threads go),
 * the pins the mediator held for them are dropped, and its shadow memory
 * is free again. The domains are then created anew, and guests find their
 * sessions and buffers gone.
 */
static void restart_reset(struct medproc *p)
{
	struct tg_iso *iso = p->iso;
	struct tg_machine *m = iso->m;
	uint64_t pfn;
	uint32_t i;

	pthread_mutex_lock(&iso->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++) {
		uint32_t cid = iso->doms[i].cid;
		uint64_t *mem;
		uint32_t nmem = 0;
		bool gone;

		if (iso->doms[i].p != p || !cid)
			continue;
		mem = calloc(TG_RECOVER_MAX_MEM, sizeof(*mem));
		if (mem)
			nmem = track_mem_of(p, cid, mem, TG_RECOVER_MAX_MEM);
		gone = tg_hyp_vm_gone(m, proto_of(p), &p->tee, cid, mem, nmem);
		free(mem);
		track_forget(p, cid);
		if (!gone || !mem) {
			/* FF-A memory the TEE would not give back: the
			 * guest's pins stay, its pages never reused. */
			tg_host_log(m, TG_LOG_ERROR,
				    "client %u: the TEE keeps memory of the guest; its pins stay",
				    cid);
			continue;
		}
		for (pfn = 0; pfn < m->npages; pfn++) {
			uint32_t n = atomic_load(&iso->ledger[pfn]);
			uint64_t pa = m->ram_base + (pfn << TG_PAGE_SHIFT);

			if (!n || atomic_load(&m->pages[pfn].owner) != cid)
				continue;
			atomic_store(&iso->ledger[pfn], 0);
			while (n--)
				m->port.unpin_pages(m->port.ctx, cid, &pa, 1);
		}
	}
	pthread_mutex_unlock(&iso->lock);
	memset(p->chan.mem->hdr.shadow_map, 0,
	       sizeof(p->chan.mem->hdr.shadow_map));
}

static void *monitor_main(void *arg)
{
	struct medproc *p = arg;
	bool restarting = false;
	int st;

	for (;;) {
		chan_reset(p);
		atomic_store(&p->dead, 0);
		p->pid = spawn(p);
		if (p->pid < 0) {
			atomic_store(&p->dead, 1);
			atomic_store(&p->gone, true);
			return NULL;
		}
		if (restarting)
			p->restarter_started =
				!pthread_create(&p->restarter, NULL,
						restarter_main, p);
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		p->exit_status = st;
		p->death_ns = tg_now_ns();
		atomic_store(&p->serving, 0);
		atomic_store(&p->dead, 1);
		atomic_fetch_add(&p->iso->deaths, 1);
		tg_chan_wake_all_hyp(&p->chan);
		if (p->restarter_started) {
			pthread_join(p->restarter, NULL);
			p->restarter_started = false;
		}
		if (atomic_load(&p->stopping) || !atomic_load(&p->started)) {
			atomic_store(&p->gone, true);
			return NULL;
		}
		if (!atomic_load(&p->upgrading))
			tg_host_log(p->iso->m, TG_LOG_ERROR,
				    "mediator process %d died (%s %d): restarting it",
				    (int)p->pid,
				    WIFSIGNALED(st) ? "signal" : "exit status",
				    WIFSIGNALED(st) ? WTERMSIG(st)
						    : WEXITSTATUS(st));
		/* callers leave on @dead; wait until no slot is in use */
		while (atomic_load(&p->free_mask) !=
		       (uint32_t)((1ull << TG_CHAN_SLOTS) - 1))
			usleep(100);
		if (atomic_load(&p->fresh_next))
			restart_reset(p);
		restarting = true;
	}
}

static void proc_free(struct medproc *p)
{
	struct tg_machine *m = p->iso->m;
	uint32_t i;

	if (p->monitor_started) {
		atomic_store(&p->stopping, true);
		if (p->pid > 0 && !atomic_load(&p->dead))
			kill(p->pid, SIGKILL);
		pthread_join(p->monitor, NULL);
	}
	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		if (p->chan.efd_med[i] >= 0)
			close(p->chan.efd_med[i]);
		if (p->chan.efd_hyp[i] >= 0)
			close(p->chan.efd_hyp[i]);
	}
	if (p->chan.mem)
		munmap(p->chan.mem, tg_chan_mem_size());
	if (p->chan_fd >= 0)
		close(p->chan_fd);
	if (p->shadow_pa) {
		size_t len = (size_t)p->shadow_pages * TG_PAGE_SIZE;
		uint64_t off = p->shadow_pa - m->ram_base;

		if (shadow_spliced(p->iso))
			/* put machine memory back under the carve-out */
			mmap(m->ram + off, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, m->mem.fd, (off_t)off);
		tg_mem_discard(m, off >> TG_PAGE_SHIFT, p->shadow_pages);
		if (p->pool_idx >= 0) {
			pthread_mutex_lock(&p->iso->pool_lock);
			p->iso->pool_used[p->pool_idx] = false;
			pthread_mutex_unlock(&p->iso->pool_lock);
		} else {
			tg_pages_free_contig(m, p->shadow_pa, p->shadow_pages);
		}
	}
	if (p->shadow_fd >= 0 && p->shadow_fd != m->mem.fd)
		close(p->shadow_fd);
	if (p->arena_fd >= 0)
		close(p->arena_fd);
	free(p->keep);
	pthread_mutex_destroy(&p->track.lock);
	free(p);
}

static const char *why_dead(struct medproc *p, char *buf, size_t len)
{
	int st = p->exit_status;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		return "it could not install its seccomp filter (a kernel without seccomp-bpf?); use --isolation service or inline";
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return "it could not be executed";
	if (WIFSIGNALED(st))
		snprintf(buf, len, "it was killed by signal %d",
			 WTERMSIG(st));
	else
		snprintf(buf, len, "it exited with status %d",
			 WEXITSTATUS(st));
	return buf;
}

static int proc_start(struct tg_iso *iso, uint32_t owner,
		      struct medproc **out)
{
	struct tg_machine *m = iso->m;
	struct medproc *p = calloc(1, sizeof(*p));
	struct tg_chan_msg msg = { .op = TG_CALL_MEDIATOR_CREATE };
	char why[160];
	uint32_t i, waited = 0;
	size_t len;
	int ret;

	if (!p)
		return TG_ENOMEM;
	p->iso = iso;
	pthread_mutex_init(&p->track.lock, NULL);
	p->owner = owner;
	p->pool_idx = -1;
	p->chan_fd = p->shadow_fd = p->arena_fd = -1;
	p->chan.dead = &p->dead;
	for (i = 0; i < TG_CHAN_SLOTS; i++)
		atomic_init(&p->slot_cpu[i], -1);
	p->chan.spin_ns = m->spin_ns;
	p->chan.notify = iso->mode == TG_ISOLATION_SANDBOXED
				 ? TG_CHAN_FUTEX
				 : m->cfg.service_poll ? TG_CHAN_EVENTFD_POLL
						       : TG_CHAN_EVENTFD;
	for (i = 0; i < TG_CHAN_SLOTS; i++) {
		p->chan.efd_med[i] = p->chan.efd_hyp[i] = -1;
		if (p->chan.notify == TG_CHAN_FUTEX)
			continue;
		p->chan.efd_med[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		p->chan.efd_hyp[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->chan.efd_med[i] < 0 || p->chan.efd_hyp[i] < 0) {
			ret = TG_ENOMEM;
			goto fail;
		}
	}
	p->arena_fd = memfd_create("teegate-state", MFD_CLOEXEC);
	if (p->arena_fd < 0 ||
	    ftruncate(p->arena_fd, (off_t)TG_ARENA_SIZE) < 0) {
		ret = TG_ENOMEM;
		goto fail;
	}
	p->chan_fd = memfd_create("teegate-channel", MFD_CLOEXEC);
	if (p->chan_fd < 0 ||
	    ftruncate(p->chan_fd, (off_t)tg_chan_mem_size()) < 0) {
		ret = TG_ENOMEM;
		goto fail;
	}
	p->chan.mem = mmap(NULL, tg_chan_mem_size(), PROT_READ | PROT_WRITE,
			   MAP_SHARED, p->chan_fd, 0);
	if (p->chan.mem == MAP_FAILED) {
		p->chan.mem = NULL;
		ret = TG_ENOMEM;
		goto fail;
	}
	/* the shadow carve-out; per guest, from the pool reserved at start
	 * (guests' scattered pages leave no long free runs later) */
	if (iso->per_guest) {
		pthread_mutex_lock(&iso->pool_lock);
		for (i = 0; i < iso->pool_n && iso->pool_used[i]; i++)
			;
		if (i < iso->pool_n)
			iso->pool_used[i] = true;
		pthread_mutex_unlock(&iso->pool_lock);
		if (i == iso->pool_n) {
			ret = TG_ELIMIT;
			goto fail;
		}
		p->pool_idx = (int)i;
		p->shadow_pages = TG_ISO_GUEST_SHADOW_PAGES;
		p->shadow_pa = iso->pool_pa + (uint64_t)i *
				       TG_ISO_GUEST_SHADOW_PAGES * TG_PAGE_SIZE;
	} else {
		p->shadow_pages = TG_ISO_SHADOW_PAGES;
		ret = tg_pages_alloc_contig(m, TG_OWNER_MEDIATOR,
					    p->shadow_pages, &p->shadow_pa);
		if (ret) {
			p->shadow_pa = 0;
			goto fail;
		}
	}
	len = (size_t)p->shadow_pages * TG_PAGE_SIZE;
	if (shadow_spliced(iso)) {
		p->shadow_fd = memfd_create("teegate-shadow", MFD_CLOEXEC);
		if (p->shadow_fd < 0 || ftruncate(p->shadow_fd, (off_t)len) ||
		    mmap(m->ram + (p->shadow_pa - m->ram_base), len,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 p->shadow_fd, 0) == MAP_FAILED) {
			ret = TG_ENOMEM;
			goto fail;
		}
	} else {
		p->shadow_fd = m->mem.fd;
	}
	p->chan.mem->hdr.magic = TG_CHAN_MAGIC;
	p->chan.mem->hdr.nslots = TG_CHAN_SLOTS;
	p->chan.mem->hdr.notify = p->chan.notify;
	p->chan.mem->hdr.shadow_base_pa = p->shadow_pa;
	p->chan.mem->hdr.shadow_pages = p->shadow_pages;
	p->chan.mem->hdr.spin_ns = m->spin_ns;

	if (pthread_create(&p->monitor, NULL, monitor_main, p)) {
		ret = TG_ENOMEM;
		goto fail;
	}
	p->monitor_started = true;
	/* wait until its workers listen (or it died: no hang) */
	while (!atomic_load(&p->chan.mem->hdr.ready) &&
	       !atomic_load(&p->dead) && waited < READY_TIMEOUT_MS) {
		usleep(1000);
		waited++;
	}
	if (!atomic_load(&p->chan.mem->hdr.ready)) {
		iso_error(m, "the mediator process (%s) did not start: %s",
			  iso->path,
			  atomic_load(&p->dead) ? why_dead(p, why, sizeof(why))
						: "no answer within 10 s");
		ret = TG_ENOTSUP;
		goto fail;
	}
	ret = proc_call(p, &msg, &m->cfg.mediator, sizeof(m->cfg.mediator),
			&p->tee, sizeof(p->tee), F_INTERNAL);
	if (ret == TG_EBUSY && iso->per_guest) {
		/* FF-A: the SPMC maps one RX/TX pair for the hypervisor */
		iso_error(m, "--per-guest: the TEE speaks FF-A, which gives the hypervisor one RX/TX pair with the SPMC, held by the first mediator process; run one mediator process for every guest (drop --per-guest)");
		goto fail;
	}
	if (ret) {
		iso_error(m, "the mediator process could not probe the TEE: %s",
			  tg_strerror(ret));
		goto fail;
	}
	atomic_store(&p->started, 1);
	atomic_store(&p->serving, 1);
	*out = p;
	return TG_OK;
fail:
	proc_free(p);
	return ret;
}

static void proc_stop(struct medproc *p)
{
	struct tg_chan_msg msg = { .op = TG_CALL_MEDIATOR_DESTROY };

	atomic_store(&p->stopping, true);
	if (!atomic_load(&p->dead))
		proc_call(p, &msg, NULL, 0, NULL, 0, F_WAIT_SERVING);
	proc_free(p);
}

/* ---- the machine's view --------------------------------------------- */

static struct medproc *proc_of(struct tg_iso *iso, uint32_t cid)
{
	uint32_t i;

	if (!iso->per_guest)
		return iso->shared;
	for (i = 0; i < MAX_PROCS; i++)
		if (iso->procs[i].cid == cid && iso->procs[i].p)
			return iso->procs[i].p;
	return NULL;
}

static void iso_free(struct tg_iso *iso)
{
	struct tg_machine *m = iso->m;

	if (iso->pool_pa) {
		tg_mem_discard(m, (iso->pool_pa - m->ram_base) >> TG_PAGE_SHIFT,
			       iso->pool_n * TG_ISO_GUEST_SHADOW_PAGES);
		tg_pages_free_contig(m, iso->pool_pa,
				     iso->pool_n * TG_ISO_GUEST_SHADOW_PAGES);
	}
	free((void *)iso->ledger);
	pthread_mutex_destroy(&iso->lock);
	pthread_mutex_destroy(&iso->upgrade_lock);
	pthread_mutex_destroy(&iso->pool_lock);
	free(iso);
}

int tg_iso_start(struct tg_machine *m)
{
	struct tg_iso *iso;
	enum tg_isolation mode = m->cfg.isolation;
	const char *env = getenv("TEEGATE_ISOLATION");
	bool per_guest = m->cfg.per_guest;
	int ret;

	if (mode == TG_ISOLATION_DEFAULT && env && *env) {
		char buf[32];
		char *suffix;

		snprintf(buf, sizeof(buf), "%s", env);
		suffix = strstr(buf, "-per-guest");
		if (suffix) {
			*suffix = '\0';
			per_guest = true;
		}
		if (tg_isolation_parse(buf, &mode)) {
			iso_error(m, "TEEGATE_ISOLATION=%s: expected inline, sandboxed, service, sandboxed-per-guest or service-per-guest",
				  env);
			return TG_EINVAL;
		}
	}
	if (mode == TG_ISOLATION_DEFAULT)
		mode = TG_ISOLATION_INLINE;
	if (mode > TG_ISOLATION_SERVICE ||
	    (per_guest && mode == TG_ISOLATION_INLINE))
		return TG_EINVAL;
	m->isolation = mode;
	if (mode == TG_ISOLATION_INLINE)
		return TG_OK;
	iso = calloc(1, sizeof(*iso));
	if (!iso)
		return TG_ENOMEM;
	iso->m = m;
	iso->mode = mode;
	iso->watchdog_ms = TG_ISO_WATCHDOG_MS;
	if (getenv("TEEGATE_TEST_WATCHDOG_MS"))
		iso->watchdog_ms = atoi(getenv("TEEGATE_TEST_WATCHDOG_MS"));
	iso->per_guest = per_guest;
	pthread_mutex_init(&iso->lock, NULL);
	pthread_mutex_init(&iso->upgrade_lock, NULL);
	pthread_mutex_init(&iso->pool_lock, NULL);
	iso->ledger = calloc(m->npages, sizeof(*iso->ledger));
	if (!iso->ledger) {
		iso_free(iso);
		return TG_ENOMEM;
	}
	/* per guest: carve-outs for up to 64 daemons, at most 1/8 of RAM */
	iso->pool_n = (uint32_t)(m->npages / 8u / TG_ISO_GUEST_SHADOW_PAGES);
	if (iso->pool_n > MAX_PROCS)
		iso->pool_n = MAX_PROCS;
	if (per_guest &&
	    (!iso->pool_n ||
	     tg_pages_alloc_contig(m, TG_OWNER_MEDIATOR,
				   iso->pool_n * TG_ISO_GUEST_SHADOW_PAGES,
				   &iso->pool_pa))) {
		iso_error(m, "no room in machine memory for the per-guest daemons' shadow memory");
		iso->pool_pa = 0;
		iso_free(iso);
		return TG_ENOMEM;
	}
	if (find_binary(iso)) {
		iso_error(m, "the teegate-mediator program was not found (%s); install it next to this program or set TEEGATE_MEDIATOR",
			  iso->path[0] ? iso->path : "no candidate");
		iso_free(iso);
		return TG_ENOTSUP;
	}
	m->iso = iso;
	/* per guest: one daemon each, started with its domain; the shared
	 * one probes the TEE now, as the inline mediator would */
	if (!per_guest) {
		ret = proc_start(iso, 0, &iso->shared);
		if (ret) {
			m->iso = NULL;
			iso_free(iso);
			return ret;
		}
	}
	return TG_OK;
}

void tg_iso_stop(struct tg_machine *m)
{
	struct tg_iso *iso = m->iso;
	uint32_t i;

	if (!iso)
		return;
	if (iso->shared)
		proc_stop(iso->shared);
	for (i = 0; i < MAX_PROCS; i++)
		if (iso->procs[i].p)
			proc_stop(iso->procs[i].p);
	m->iso = NULL;
	iso_free(iso);
}

int tg_iso_domain_create(struct tg_machine *m, uint32_t cid,
			 const struct tg_limits *limits)
{
	struct tg_iso *iso = m->iso;
	struct tg_chan_msg msg = { .op = TG_CALL_DOMAIN_CREATE, .cid = cid };
	struct tg_limits lim = { 0 };
	struct medproc *p;
	uint32_t i;
	int ret;

	if (iso->per_guest) {
		pthread_mutex_lock(&iso->lock);
		for (i = 0; i < MAX_PROCS && iso->procs[i].p; i++)
			;
		if (i == MAX_PROCS) {
			pthread_mutex_unlock(&iso->lock);
			return TG_ELIMIT;
		}
		ret = proc_start(iso, cid, &p);
		if (!ret) {
			iso->procs[i].cid = cid;
			iso->procs[i].p = p;
		}
		pthread_mutex_unlock(&iso->lock);
		if (ret)
			return ret;
	}
	p = proc_of(iso, cid);
	if (!p)
		return TG_ENOTEE;
	if (limits) {
		lim = *limits;
		msg.arg0 = 1;
	}
	ret = proc_call(p, &msg, &lim, sizeof(lim), NULL, 0,
			F_WAIT_SLOT | F_WAIT_SERVING);
	if (ret == TG_ENOTEE) {
		/* The process died while creating it: the TEE may have
		 * heard VM_CREATED; the recovered mediator has no such
		 * domain. */
		tg_hyp_vm_gone(m, proto_of(p), &p->tee, cid, NULL, 0);
	}
	if (ret && iso->per_guest)
		tg_iso_domain_destroy(m, 0x10000u | cid); /* drop the daemon */
	if (ret)
		return ret;
	pthread_mutex_lock(&iso->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS && iso->doms[i].cid; i++)
		;
	if (i < TG_HOST_MAX_GUESTS) {
		iso->doms[i].cid = cid;
		iso->doms[i].p = p;
		iso->doms[i].has_limits = limits != NULL;
		iso->doms[i].limits = lim;
	}
	pthread_mutex_unlock(&iso->lock);
	return TG_OK;
}

/* @cid with bit 16 set: per-guest daemon teardown only. */
int tg_iso_domain_destroy(struct tg_machine *m, uint32_t cid)
{
	struct tg_iso *iso = m->iso;
	struct tg_chan_msg msg = { .op = TG_CALL_DOMAIN_DESTROY,
				   .cid = cid & 0xFFFFu };
	struct medproc *p;
	uint32_t i;
	int ret = TG_OK;

	p = proc_of(iso, cid & 0xFFFFu);
	if (!p)
		return TG_ENOENT;
	if (!(cid & 0x10000u))
		ret = proc_call(p, &msg, NULL, 0, NULL, 0,
				F_WAIT_SLOT | F_WAIT_SERVING);
	/* died during the destroy: after the restart the domain exists
	 * again (re-created, empty): destroy it again */
	if (ret == TG_ENOTEE)
		ret = atomic_load(&p->gone) ? TG_EBUSY : TG_AGAIN;
	if (ret != TG_AGAIN) {
		pthread_mutex_lock(&iso->lock);
		for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
			if (iso->doms[i].cid == (cid & 0xFFFFu) &&
			    iso->doms[i].p == p)
				iso->doms[i].cid = 0;
		pthread_mutex_unlock(&iso->lock);
	}
	if (ret != TG_AGAIN)
		track_forget(p, cid & 0xFFFFu);
	if (iso->per_guest && ret != TG_AGAIN) {
		pthread_mutex_lock(&iso->upgrade_lock);
		pthread_mutex_lock(&iso->lock);
		for (i = 0; i < MAX_PROCS; i++)
			if (iso->procs[i].p == p) {
				iso->procs[i].p = NULL;
				iso->procs[i].cid = 0;
			}
		pthread_mutex_unlock(&iso->lock);
		proc_stop(p);
		pthread_mutex_unlock(&iso->upgrade_lock);
	}
	return ret;
}

int tg_iso_domain_stats(struct tg_machine *m, uint32_t cid,
			struct tg_domain_stats *out)
{
	struct tg_chan_msg msg = { .op = TG_CALL_DOMAIN_STATS, .cid = cid };
	struct medproc *p = proc_of(m->iso, cid);

	if (!p)
		return TG_ENOENT;
	return proc_call(p, &msg, NULL, 0, out, sizeof(*out), F_WAIT_SLOT);
}

/* The protocol in force: @p's, or any process's that knows it. */
static enum tg_protocol iso_protocol(struct tg_iso *iso, struct medproc *p)
{
	enum tg_protocol want = iso->m->cfg.mediator.protocol;
	uint32_t i;

	if (p && proto_of(p))
		return proto_of(p);
	if (want != TG_PROTOCOL_AUTO)
		return want;
	if (iso->shared && proto_of(iso->shared))
		return proto_of(iso->shared);
	for (i = 0; i < MAX_PROCS; i++)
		if (iso->procs[i].p && proto_of(iso->procs[i].p))
			return proto_of(iso->procs[i].p);
	return TG_PROTOCOL_OPTEE;
}

bool tg_iso_handle_smc(struct tg_machine *m, uint32_t cid, uint32_t vcpu,
		       uint64_t regs[8], enum tg_thread_want *want)
{
	struct tg_chan_msg msg = { .op = TG_CALL_HANDLE_SMC, .cid = cid,
				   .vcpu = vcpu };
	struct medproc *p = proc_of(m->iso, cid);
	int ret;

	*want = TG_WANT_NOTHING;
	memcpy(msg.regs, regs, sizeof(msg.regs));
	/* A restart or an upgrade in progress: wait it out, as a vCPU would
	 * wait for a busy TEE, rather than fail the call. */
	ret = p ? proc_call(p, &msg, NULL, 0, NULL, 0,
			    F_WAIT_SLOT | F_WAIT_SERVING)
		: TG_ENOTEE;
	if (ret == TG_OK && msg.arg0) {
		memcpy(regs, msg.regs, sizeof(msg.regs));
		/* the mediator's word only: a lie costs sitters a thread */
		if (msg.arg1 <= TG_WANT_FIRST)
			*want = (enum tg_thread_want)msg.arg1;
		return true;
	}
	if (ret == TG_OK ||
	    !tg_hyp_is_tee_call(iso_protocol(m->iso, p), (uint32_t)regs[0]))
		return false;
	/* the mediator is gone: the call fails (guest: COMMUNICATION) */
	tg_hyp_tee_gone(iso_protocol(m->iso, p), regs);
	return true;
}

/*
 * Ask the mediator of @cid to take back a thread its guest sits on
 * (tg_domain_reclaim()), as a call of @cid: an out-of-process mediator
 * acts for the domain it is serving only.
 */
int tg_iso_domain_reclaim(struct tg_machine *m, uint32_t cid,
			  bool foreign_intr)
{
	struct tg_chan_msg msg = { .op = TG_CALL_RECLAIM, .cid = cid,
				   .arg0 = foreign_intr };
	struct medproc *p = proc_of(m->iso, cid);

	if (!p)
		return TG_ENOENT;
	return proc_call(p, &msg, NULL, 0, NULL, 0, F_WAIT_SLOT);
}

/*
 * The TEE's notification interrupt, raised from inside an SMC we are
 * serving: ask the mediator on another slot if one is free right now;
 * otherwise (never wait here) interrupt every guest, which only costs
 * them a look at their pending values.
 */
void tg_iso_notif_irq(struct tg_machine *m)
{
	struct tg_iso *iso = m->iso;
	struct tg_chan_msg msg = { .op = TG_CALL_NOTIF_IRQ };
	uint32_t i;

	if (!iso->per_guest && iso->shared &&
	    proc_call(iso->shared, &msg, NULL, 0, NULL, 0, 0) == TG_OK)
		return;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < TG_HOST_MAX_GUESTS; i++)
		if (m->guests[i] && m->guests[i]->state == TG_GUEST_RUNNING)
			tg_guest_raise_notif(m->guests[i]);
	pthread_mutex_unlock(&m->lock);
}

uint64_t tg_iso_idle_shadow_pages(struct tg_machine *m)
{
	struct tg_iso *iso = m->iso;
	uint64_t idle = 0;
	uint32_t i, k;

	if (!iso)
		return 0;
	if (iso->pool_pa) {
		pthread_mutex_lock(&iso->pool_lock);
		for (i = 0; i < iso->pool_n; i++)
			if (!iso->pool_used[i])
				idle += TG_ISO_GUEST_SHADOW_PAGES;
		pthread_mutex_unlock(&iso->pool_lock);
	}
	/* per-guest daemons leave procs[] under the lock before they go */
	pthread_mutex_lock(&iso->lock);
	for (i = 0; i <= MAX_PROCS; i++) {
		struct medproc *p = i == MAX_PROCS ? iso->shared
						   : iso->procs[i].p;

		if (!p)
			continue;
		for (k = 0; k < p->shadow_pages; k++)
			if (!(p->chan.mem->hdr.shadow_map[k / 64] >> (k % 64) &
			      1))
				idle++;
	}
	pthread_mutex_unlock(&iso->lock);
	return idle;
}

/* The probe's answer: the shared process's, or the first daemon's. */
const struct tg_tee_info *tg_iso_tee_info(struct tg_machine *m)
{
	struct tg_iso *iso = m->iso;
	const struct tg_tee_info *t = NULL;
	uint32_t i;

	if (iso->shared)
		return &iso->shared->tee;
	pthread_mutex_lock(&iso->lock);
	for (i = 0; i < MAX_PROCS && !t; i++)
		if (iso->procs[i].p && atomic_load(&iso->procs[i].p->started))
			t = &iso->procs[i].p->tee;
	pthread_mutex_unlock(&iso->lock);
	return t;
}

int tg_machine_isolation_stats(struct tg_machine *m,
			       struct tg_isolation_stats *out)
{
	struct tg_iso *iso = m->iso;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	out->mode = m->isolation;
	if (!iso)
		return TG_OK;
	out->per_guest = iso->per_guest;
	out->refused_foreign = atomic_load(&iso->refused_foreign);
	out->refused_smc = atomic_load(&iso->refused_smc);
	out->refused_other = atomic_load(&iso->refused_other);
	out->restarts = atomic_load(&iso->restarts);
	out->deaths = atomic_load(&iso->deaths);
	out->last_restart_ns = atomic_load(&iso->last_restart_ns);
	out->watchdog_kills = atomic_load(&iso->watchdog_kills);
	out->port_requests = atomic_load(&iso->port_requests);
	out->recovered = atomic_load(&iso->recovered);
	out->state_lost = atomic_load(&iso->state_lost);
	out->upgrades = atomic_load(&iso->upgrades);
	out->calls_failed = atomic_load(&iso->calls_failed);
	out->last_upgrade_ns = atomic_load(&iso->last_upgrade_ns);
	if (iso->shared) {
		out->processes = 1;
		out->pid = iso->shared->pid;
	}
	for (i = 0; i < MAX_PROCS; i++)
		if (iso->procs[i].p)
			out->processes++;
	return TG_OK;
}

/*
 * Replace one mediator process with @path, gracefully: new calls wait,
 * the calls being served finish, then the process is stopped and @path
 * started on the same state (restart_recover()). Calls suspended in an
 * RPC are kept: their guests resume them with the new process.
 */
static int upgrade_one(struct medproc *p)
{
	int waited = 0;

	if (atomic_load(&p->gone) || !atomic_load(&p->serving))
		return TG_EBUSY;
	atomic_store(&p->upgrading, true);
	atomic_store(&p->serving, 0);
	while (atomic_load(&p->free_mask) !=
	       (uint32_t)((1ull << TG_CHAN_SLOTS) - 1))
		usleep(100);
	kill(p->pid, SIGKILL);
	while (!atomic_load(&p->serving)) {
		if (atomic_load(&p->gone) || waited++ >= SERVING_WAIT_MS)
			return TG_ENOTEE;
		usleep(1000);
	}
	return TG_OK;
}

int tg_machine_upgrade_mediator(struct tg_machine *m, const char *path)
{
	struct tg_iso *iso = m->iso;
	uint32_t i;
	int ret;

	if (!iso)
		return TG_ENOENT;
	if (!path || strlen(path) >= sizeof(iso->path) ||
	    access(path, X_OK)) {
		iso_error(m, "cannot upgrade the mediator to %s: not an executable file",
			  path ? path : "(null)");
		return TG_EINVAL;
	}
	/* Not iso->lock: the new process's recovery takes it. Per-guest
	 * daemons cannot go away meanwhile (upgrade_lock). */
	pthread_mutex_lock(&iso->upgrade_lock);
	snprintf(iso->path, sizeof(iso->path), "%s", path);
	ret = iso->shared ? upgrade_one(iso->shared) : TG_OK;
	for (i = 0; !ret && i < MAX_PROCS; i++)
		if (iso->procs[i].p)
			ret = upgrade_one(iso->procs[i].p);
	pthread_mutex_unlock(&iso->upgrade_lock);
	if (ret)
		iso_error(m, "the mediator upgrade to %s failed: %s", path,
			  tg_strerror(ret));
	return ret;
}

/*
 * SIGKILL the shared mediator process, or every per-guest daemon. The
 * table lock keeps a daemon from being stopped meanwhile (it leaves
 * procs[] under that lock first). TG_OK when at least one was killed.
 */
int tg_machine_kill_mediator(struct tg_machine *m)
{
	struct tg_iso *iso = m->iso;
	int ret = TG_ENOENT;
	uint32_t i;

	if (!iso)
		return TG_ENOENT;
	if (iso->shared)
		return atomic_load(&iso->shared->dead) ||
				       kill(iso->shared->pid, SIGKILL)
			       ? TG_ENOENT
			       : TG_OK;
	pthread_mutex_lock(&iso->lock);
	for (i = 0; i < MAX_PROCS; i++) {
		struct medproc *p = iso->procs[i].p;

		if (p && !atomic_load(&p->dead) && p->pid > 0 &&
		    !kill(p->pid, SIGKILL))
			ret = TG_OK;
	}
	pthread_mutex_unlock(&iso->lock);
	return ret;
}
