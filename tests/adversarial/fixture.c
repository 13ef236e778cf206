// SPDX-License-Identifier: BSD-2-Clause
/*
 * The adversarial suite's fixture (see fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <teegate/optee_abi.h>
#include <teegate/workload.h>

#include "fixture.h"

#define MACHINE_RAM (256ull << 20)
#define BY_PAGES 4096u

void mb_report(struct tg_vcpu *v, unsigned int k, uint32_t a0, uint32_t ret,
	       uint32_t origin)
{
	uint64_t *h = tg_guest_counters(v)->lat_hist;

	if (k >= MB_STEPS)
		return;
	h[4 * k] = a0;
	h[4 * k + 1] = ret;
	h[4 * k + 2] = origin;
	__atomic_store_n(&h[4 * k + 3], 1, __ATOMIC_RELEASE);
}

void mb_put(struct tg_vcpu *v, unsigned int i, uint64_t value)
{
	if (i < TG_LAT_BUCKETS)
		__atomic_store_n(&tg_guest_counters(v)->lat_hist[i], value,
				 __ATOMIC_RELEASE);
}

enum tg_guest_mode fx_mode(void)
{
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * A process guest is fork()ed from the threaded hypervisor; under
	 * ASan it can inherit ASan's allocator lock and hang at its first
	 * thread start. Same platform, mediator and oracle with threads.
	 */
	return TG_GUEST_THREAD;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return TG_GUEST_THREAD;
#else
	return TG_GUEST_PROCESS;
#endif
#else
	return TG_GUEST_PROCESS;
#endif
}

/* The bystander's run time: its argument (a process guest gets a copy). */
static uint32_t by_seconds;

static void bystander_main(struct tg_vcpu *v, void *arg)
{
	struct tg_workload_opts o = {
		.seconds = *(const uint32_t *)arg,
		.seed = 0xb75,
		.flags = TG_WL_NO_BIGBUF,
	};

	tg_workload_mixed(v, &o);
}

void fx_up(struct fx *f, const struct fx_opts *o)
{
	struct tg_machine_config mc;
	struct tg_guest_config gc;

	memset(f, 0, sizeof(*f));
	memset(&mc, 0, sizeof(mc));
	mc.ram_size = MACHINE_RAM;
	mc.seed = 0xad7;
	mc.model.threads = o && o->tee_threads ? o->tee_threads : 8;
	mc.model.max_guests = 8;
	mc.mediator.sit_ms = o ? o->sit_ms : 0;
	if (o && o->ffa) {
		mc.model.ffa = true;
		mc.mediator.protocol = TG_PROTOCOL_FFA;
	}
	assert_int_equal(tg_machine_create(&mc, &f->m), TG_OK);
	tg_machine_page_stats(f->m, &f->base);
	f->att_limits = o ? o->att_limits : NULL;
	if (o && o->no_bystander)
		return;
	by_seconds = o && o->by_seconds ? o->by_seconds : 1;
	memset(&gc, 0, sizeof(gc));
	gc.name = "bystander";
	gc.vcpus = 3; /* workload, second workload vCPU, notifications */
	gc.ram_pages = BY_PAGES;
	gc.mode = fx_mode();
	gc.arg_size = sizeof(by_seconds);
	assert_int_equal(
		tg_guest_start(f->m, &gc, bystander_main, &by_seconds, &f->by),
		TG_OK);
}

struct tg_guest *fx_start_guest(struct fx *f, const char *name,
				void (*fn)(struct tg_vcpu *, void *), void *arg,
				size_t arg_size, uint32_t vcpus, uint32_t pages,
				enum tg_guest_mode mode)
{
	struct tg_guest_config gc;
	struct tg_guest *g = NULL;

	memset(&gc, 0, sizeof(gc));
	gc.name = name;
	gc.vcpus = vcpus;
	gc.ram_pages = pages;
	gc.mode = mode;
	gc.limits = f->att_limits;
	gc.arg_size = arg_size;
	assert_int_equal(tg_guest_start(f->m, &gc, fn, arg, &g), TG_OK);
	return g;
}

void fx_start(struct fx *f, void (*fn)(struct tg_vcpu *, void *), void *arg,
	      size_t arg_size, uint32_t vcpus, enum tg_guest_mode mode)
{
	f->att = fx_start_guest(f, "attacker", fn, arg, arg_size, vcpus,
				FX_ATT_PAGES, mode);
	f->att_id = tg_guest_client_id(f->att);
}

/* The platform must have forgotten @id entirely. */
static void expect_forgotten(struct fx *f, struct tg_guest *g, uint32_t id)
{
	struct tg_domain_stats ds;
	struct tg_guest_stats gs;

	assert_int_equal(tg_guest_stats(g, &gs), TG_OK);
	assert_int_equal(gs.state, TG_GUEST_DESTROYED);
	assert_false(gs.has_domain);
	assert_int_equal(gs.pages_pinned, 0);
	assert_int_equal(gs.pins, 0);
	assert_int_equal(gs.pages_quarantined, 0);
	assert_int_equal(gs.pages_owned, 0);
	/* out-of-process mediators (TEEGATE_ISOLATION): has_domain says */
	if (tg_machine_mediator(f->m))
		assert_int_equal(tg_domain_stats(tg_machine_mediator(f->m), id,
						 &ds),
				 TG_ENOENT);
	assert_int_equal(tg_model_threads_held(tg_machine_model(f->m), id), 0);
}

void fx_end_guest(struct fx *f, struct tg_guest *g, bool kill,
		  struct tg_guest_stats *out)
{
	uint32_t id = tg_guest_client_id(g);
	int ws = 0, rc;

	if (kill)
		assert_int_equal(tg_guest_kill(g), TG_OK);
	rc = tg_guest_wait_timeout(g, 60000, &ws);
	if (rc != TG_OK) {
		struct tg_domain_stats ds = { 0 };
		int drc = tg_machine_mediator(f->m)
				  ? tg_domain_stats(tg_machine_mediator(f->m),
						    id, &ds)
				  : TG_ENOTSUP;

		tg_guest_kill(g);
		fail_msg("guest %u: teardown: %s; domain %s: %u calls in flight, %u suspended, %u buffers, %u sessions, %llu pins",
			 id, tg_strerror(rc), drc ? "gone" : "still there",
			 ds.calls_in_flight, ds.calls_suspended, ds.shm_bufs,
			 ds.sessions, (unsigned long long)ds.pinned_pages);
	}
	if (!kill && tg_guest_pid(g))
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	expect_forgotten(f, g, id);
	assert_int_equal(tg_guest_stats(g, out), TG_OK);
	/* the guest's own consistency checks */
	assert_int_equal(out->counters.mismatches, 0);
	tg_guest_release(g);
}

void fx_end(struct fx *f, bool kill)
{
	assert_non_null(f->att);
	fx_end_guest(f, f->att, kill, &f->att_end);
	f->att_killed = kill;
	f->att = NULL;
}

void fx_attack(struct fx *f, void (*fn)(struct tg_vcpu *, void *), void *arg,
	       size_t arg_size, uint32_t vcpus)
{
	fx_start(f, fn, arg, arg_size, vcpus, fx_mode());
	fx_end(f, false);
}

uint64_t fx_live_value(struct fx *f, unsigned int i)
{
	struct tg_guest_stats gs;

	if (!f->att || tg_guest_stats(f->att, &gs) || i >= TG_LAT_BUCKETS)
		return 0;
	return gs.counters.lat_hist[i];
}

bool fx_wait_step(struct fx *f, unsigned int k, int ms)
{
	for (; ms > 0; ms -= 2) {
		if (fx_live_value(f, 4 * k + 3))
			return true;
		usleep(2000);
	}
	return false;
}

void fx_down(struct fx *f)
{
	struct tg_machine_pages ps;
	struct tg_domain_stats ds;
	struct tg_guest_stats gs;
	uint32_t by_id;
	unsigned int i;
	int ws = 0;

	if (f->att)
		fx_end(f, true);
	if (f->by) {
		by_id = tg_guest_client_id(f->by);
		/* its mediator refusals, while it still has a domain */
		assert_int_equal(tg_guest_stats(f->by, &gs), TG_OK);
		ds = gs.domain;
		if (gs.has_domain)
			for (i = 0; i < TG_REFUSE_COUNT; i++)
				if (i != TG_REFUSE_LIMIT_CALLS)
					assert_int_equal(ds.refused[i], 0);
		if (tg_guest_wait_timeout(f->by, 90000, &ws) != TG_OK) {
			tg_guest_kill(f->by);
			fail_msg("the bystander did not end");
		}
		if (tg_guest_pid(f->by))
			assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		assert_int_equal(tg_guest_stats(f->by, &gs), TG_OK);
		/* unaffected: every result it checked was right */
		assert_int_equal(gs.counters.mismatches, 0);
		assert_int_equal(gs.counters.errors, 0);
		assert_true(gs.counters.verified > 0);
		expect_forgotten(f, f->by, by_id);
		tg_guest_release(f->by);
		f->by = NULL;
	}
	assert_int_equal(tg_machine_violations(f->m), 0);
	tg_machine_page_stats(f->m, &ps);
	assert_int_equal(ps.pinned, 0);
	assert_int_equal(ps.guest, 0);
	assert_int_equal(ps.quarantined, 0);
	assert_int_equal(ps.mediator, f->base.mediator);
	assert_int_equal(ps.free, f->base.free);
	assert_int_equal(tg_model_threads_held(tg_machine_model(f->m),
					       UINT32_MAX),
			 0);
	assert_int_equal(tg_machine_destroy(f->m), TG_OK);
	f->m = NULL;
}

uint32_t fx_a0(const struct fx *f, unsigned int k)
{
	return (uint32_t)f->att_end.counters.lat_hist[4 * k];
}

uint32_t fx_ret(const struct fx *f, unsigned int k)
{
	return (uint32_t)f->att_end.counters.lat_hist[4 * k + 1];
}

uint32_t fx_origin(const struct fx *f, unsigned int k)
{
	return (uint32_t)f->att_end.counters.lat_hist[4 * k + 2];
}

bool fx_reported(const struct fx *f, unsigned int k)
{
	return f->att_end.counters.lat_hist[4 * k + 3] != 0;
}

uint64_t fx_value(const struct fx *f, unsigned int i)
{
	return i < TG_LAT_BUCKETS ? f->att_end.counters.lat_hist[i] : 0;
}

void fx_expect_a0(const struct fx *f, unsigned int k, uint32_t a0)
{
	if (!fx_reported(f, k))
		fail_msg("step %u was not reported", k);
	if (fx_a0(f, k) != a0)
		fail_msg("step %u: a0 = %#x, expected %#x", k, fx_a0(f, k), a0);
}

void fx_expect_msg(const struct fx *f, unsigned int k, uint32_t ret,
		   uint32_t origin)
{
	fx_expect_a0(f, k, 0);
	/* a success's origin is whoever completed it: not checked */
	if (fx_ret(f, k) != ret ||
	    (ret != TEEC_SUCCESS && fx_origin(f, k) != origin))
		fail_msg("step %u: ret = %#x origin %u, expected %#x origin %u",
			 k, fx_ret(f, k), fx_origin(f, k), ret, origin);
}

uint64_t fx_find_page(struct fx *f, uint32_t owner, uint32_t ipa_pages)
{
	uint64_t base = TG_HOST_DEFAULT_RAM_BASE, pa;
	uint64_t ipa_end = TG_HOST_GUEST_IPA_BASE + ((uint64_t)ipa_pages << 12);

	for (pa = base; pa < base + MACHINE_RAM; pa += 4096) {
		if (pa >= TG_HOST_GUEST_IPA_BASE && pa < ipa_end)
			continue;
		if (tg_machine_owner(f->m, pa, NULL) == owner)
			return pa;
	}
	return 0;
}
