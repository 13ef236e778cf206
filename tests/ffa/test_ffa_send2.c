// SPDX-License-Identifier: BSD-2-Clause
/*
 * FFA_MSG_SEND2 through the FF-A mediator (src/ffa/ffa.c, msg_send2()).
 * The model SPMC does not offer indirect messages, so a fake SPMC sits in
 * front of it (fe_opts.spmc): it answers FFA_FEATURES(FFA_MSG_SEND2) with
 * success and takes FFA_MSG_SEND2 itself, recording w1 and the message as
 * it finds it in the mediator's TX (the pair the mediator gave in its
 * FFA_RXTX_MAP). Everything else goes to the model.
 *
 * The partition message header (FF-A v1.1, Table 7.1 / v1.2 Table 6.1):
 * flags, reserved, offset of the payload from the header, sender (31:16)
 * and receiver (15:0), size of the payload; 20 bytes.
 *
 * The fake SPMC reads the message where msg_send2() puts it: the
 * mediator's TX. Hafnium's SPMC, given FFA_MSG_SEND2 from the hypervisor
 * with a VM id in w1, reads that VM's own TX instead (the buffer the
 * hypervisor forwarded with FFA_RXTX_MAP, which teegate does not do), as
 * does Xen's mediator; these tests check the mediator's checks, not that
 * a real S-EL2 SPMC takes the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ffa_env.h"

#define HDR 20u
#define OPTEE 0x8001u

struct hdr {
	uint32_t flags;
	uint32_t reserved;
	uint32_t offset;
	uint32_t ids;
	uint32_t size;
};

/* ---- the fake SPMC ------------------------------------------------------ */

static struct {
	int32_t answer; /* to FFA_MSG_SEND2: 0 success, else the error */
	uint64_t tx_pa; /* the mediator's TX, from its FFA_RXTX_MAP */
	uint32_t sends;
	uint64_t w[8]; /* the last FFA_MSG_SEND2 */
	struct hdr h;
	uint8_t msg[TGF_RXTX_PAGES * PAGE];
} spmc;

static bool fake_spmc(uint64_t r[8])
{
	uint32_t fid = (uint32_t)r[0];

	if (fid == FFA_RXTX_MAP_64 || fid == FFA_RXTX_MAP_32) {
		spmc.tx_pa = r[1];
		return false; /* the model keeps its own view */
	}
	if (fid == FFA_FEATURES && (uint32_t)r[1] == FFA_MSG_SEND2) {
		memset(r, 0, 8 * sizeof(r[0]));
		r[0] = FFA_SUCCESS_32;
		return true;
	}
	if (fid != FFA_MSG_SEND2)
		return false;
	spmc.sends++;
	memcpy(spmc.w, r, sizeof(spmc.w));
	/* What the SPMC reads: the mediator's TX, as much as it holds. */
	if (!spmc.tx_pa)
		fe_die("MSG_SEND2 before the mediator's RXTX_MAP", 0);
	memcpy(spmc.msg, env.mem + (spmc.tx_pa - PA_BASE), sizeof(spmc.msg));
	memcpy(&spmc.h, spmc.msg, sizeof(spmc.h));
	memset(r, 0, 8 * sizeof(r[0]));
	if (spmc.answer) {
		r[0] = FFA_ERROR;
		r[2] = (uint32_t)spmc.answer;
	} else {
		r[0] = FFA_SUCCESS_32;
	}
	return true;
}

/* ---- the guests' reads --------------------------------------------------- */

/* How often each byte of guest 1's first GUEST_PAGES_SEEN pages was read. */
#define GUEST_PAGES_SEEN 4u
static uint8_t reads[GUEST_PAGES_SEEN * PAGE];
static uint32_t reads_elsewhere;
static void (*during_read)(void);

static void on_read(uint32_t client, uint64_t ipa, uint32_t len)
{
	if (client != 1 || ipa < IPA_BASE ||
	    ipa - IPA_BASE + len > sizeof(reads)) {
		reads_elsewhere++;
	} else {
		for (uint32_t i = 0; i < len; i++)
			reads[ipa - IPA_BASE + i]++;
	}
	if (during_read) {
		void (*f)(void) = during_read;

		during_read = NULL; /* once */
		f();
	}
}

static uint32_t bytes_read(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < sizeof(reads); i++)
		n += reads[i];
	return n;
}

static void forget_reads(void)
{
	memset(reads, 0, sizeof(reads));
	reads_elsewhere = 0;
}

/* ---- set up ---------------------------------------------------------------- */

static int up(void **state)
{
	struct fe_opts o = { .spmc = fake_spmc };

	(void)state;
	memset(&spmc, 0, sizeof(spmc));
	fe_setup_opts(&o);
	env.on_guest_read = on_read;
	during_read = NULL;
	forget_reads();
	return 0;
}

static int down(void **state)
{
	(void)state;
	fe_teardown();
	return 0;
}

static void gcall(uint32_t g, uint64_t r[8])
{
	assert_true(tgf_handle(env.fm, env.dom[g - 1], 0, r));
}

static void set(uint64_t r[8], uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3)
{
	memset(r, 0, 8 * sizeof(r[0]));
	r[0] = a0;
	r[1] = a1;
	r[2] = a2;
	r[3] = a3;
}

static void version(uint32_t g)
{
	uint64_t r[8];

	set(r, FFA_VERSION, FFA_VERSION_1_2, 0, 0);
	gcall(g, r);
	assert_int_equal((uint32_t)r[0], FFA_VERSION_1_2);
}

/* TX at IPA page 0, RX at page 1, @pages each. */
static void rxtx_map(uint32_t g, uint32_t pages)
{
	uint64_t r[8];

	set(r, FFA_RXTX_MAP_64, IPA_BASE, IPA_BASE + (uint64_t)pages * PAGE,
	    pages);
	gcall(g, r);
	assert_int_equal(r[0], FFA_SUCCESS_32);
}

/* Guest @g's TX (IPA page 0 on): a header and a payload of a pattern. */
static void write_msg(uint32_t g, uint32_t flags, uint32_t offset, uint32_t ids,
		      uint32_t size, uint32_t tx_pages)
{
	struct hdr h = { flags, 0, offset, ids, size };
	uint8_t *tx = fe_guest_page(g - 1, 0);

	for (uint32_t i = 0; i < tx_pages * PAGE; i++)
		tx[i] = (uint8_t)(i * 7 + 3);
	memcpy(tx, &h, sizeof(h));
}

/* FFA_MSG_SEND2 from guest @g; the error (0: success). */
static int32_t send2(uint32_t g)
{
	uint64_t r[8];

	set(r, FFA_MSG_SEND2, 0, 0, 0);
	gcall(g, r);
	if (r[0] == FFA_SUCCESS_32)
		return 0;
	assert_int_equal(r[0], FFA_ERROR);
	return (int32_t)(uint32_t)r[2];
}

static uint32_t refused(uint32_t g, enum tg_refusal why)
{
	struct tg_domain_stats st;

	tgf_domain_stats(env.dom[g - 1], &st);
	return (uint32_t)st.refused[why];
}

/* ---- the happy path ------------------------------------------------------ */

static void check_delivered(uint32_t g, uint32_t offset, uint32_t ids,
			    uint32_t size)
{
	const uint8_t *tx = fe_guest_page(g - 1, 0);

	assert_int_equal(spmc.w[0], FFA_MSG_SEND2);
	/* The sender the SPMC is told: the guest (w1 31:16), nothing else. */
	assert_int_equal(spmc.w[1], FFA_PACK_IDS(g, 0));
	for (int i = 2; i < 8; i++)
		assert_int_equal(spmc.w[i], 0);
	assert_int_equal(spmc.h.flags, 0);
	assert_int_equal(spmc.h.offset, offset);
	assert_int_equal(spmc.h.ids, ids);
	assert_int_equal(FFA_SENDER(spmc.h.ids), g);
	assert_int_equal(spmc.h.size, size);
	/* The payload, intact, where the header says. */
	assert_memory_equal(spmc.msg + offset, tx + offset, size);
}

static void test_send2_delivered_once_read(void **state)
{
	uint32_t offset = 32, size = 100, ids = FFA_PACK_IDS(1, OPTEE);
	uint64_t r[8];

	(void)state;
	version(1);
	rxtx_map(1, 1);
	/* The guest is told the mediator passes indirect messages on. */
	set(r, FFA_FEATURES, FFA_MSG_SEND2, 0, 0);
	gcall(1, r);
	assert_int_equal(r[0], FFA_SUCCESS_32);

	write_msg(1, 0, offset, ids, size, 1);
	forget_reads();
	assert_int_equal(send2(1), 0);
	assert_int_equal(spmc.sends, 1);
	check_delivered(1, offset, ids, size);
	/* The guest's TX read once: every byte of the message exactly once,
	 * nothing else of the guest. */
	for (uint32_t i = 0; i < sizeof(reads); i++)
		assert_int_equal(reads[i], i < offset + size ? 1 : 0);
	assert_int_equal(reads_elsewhere, 0);
}

/* The largest messages a TX holds go; the SPMC's error comes back. */
static void test_send2_edges_and_spmc_error(void **state)
{
	uint32_t ids = FFA_PACK_IDS(1, OPTEE);

	(void)state;
	version(1);
	rxtx_map(1, 2);
	/* Header and payload fill the two pages exactly. */
	write_msg(1, 0, HDR, ids, 2 * PAGE - HDR, 2);
	forget_reads();
	assert_int_equal(send2(1), 0);
	check_delivered(1, HDR, ids, 2 * PAGE - HDR);
	assert_int_equal(bytes_read(), 2 * PAGE);
	/* An empty payload at the very end of the TX. */
	write_msg(1, 0, 2 * PAGE, ids, 0, 2);
	assert_int_equal(send2(1), 0);
	check_delivered(1, 2 * PAGE, ids, 0);
	/* No payload right after the header. */
	write_msg(1, 0, HDR, ids, 0, 2);
	assert_int_equal(send2(1), 0);
	check_delivered(1, HDR, ids, 0);
	assert_int_equal(spmc.sends, 3);

	spmc.answer = FFA_RET_BUSY; /* the receiver's RX is full */
	write_msg(1, 0, HDR, ids, 8, 2);
	assert_int_equal(send2(1), FFA_RET_BUSY);
	assert_int_equal(spmc.sends, 4);
	spmc.answer = 0;
	assert_int_equal(send2(1), 0);
	assert_int_equal(refused(1, TG_REFUSE_BAD_PARAM), 0);
}

/* ---- attacks --------------------------------------------------------------- */

/* The message must not have reached the SPMC; the guest read only the
 * header (a refusal needs no more). */
static void check_refused(uint32_t g, int32_t want, uint32_t sends_before)
{
	uint32_t n = refused(g, TG_REFUSE_BAD_PARAM);

	forget_reads();
	assert_int_equal(send2(g), want);
	assert_int_equal(spmc.sends, sends_before);
	assert_true(bytes_read() <= HDR);
	assert_int_equal(reads_elsewhere, 0);
	if (want == FFA_RET_INVALID_PARAMETERS)
		assert_int_equal(refused(g, TG_REFUSE_BAD_PARAM), n + 1);
}

/* A header naming another sender is refused, not passed on. */
static void test_send2_forged_sender(void **state)
{
	static const uint16_t forged[] = {
		2, 0, 0x8001, 0x8000, 0xFFFF, 0x0101
	};

	(void)state;
	version(1);
	version(2);
	rxtx_map(1, 1);
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		write_msg(1, 0, HDR, FFA_PACK_IDS(forged[i], OPTEE), 16, 1);
		check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	}
	/* Its own id goes. */
	write_msg(1, 0, HDR, FFA_PACK_IDS(1, OPTEE), 16, 1);
	assert_int_equal(send2(1), 0);
	assert_int_equal(spmc.sends, 1);
}

/* Only a secure partition the SPMC listed receives: not a VM (another
 * or itself), not the SPMC, not an id nobody listed. */
static void test_send2_receiver_not_a_partition(void **state)
{
	static const uint16_t to[] = {
		2, 1, 0, 0x8000, 0x8002, 0xFFFF, 0x0001 | 0x4000
	};

	(void)state;
	version(1);
	rxtx_map(1, 1);
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		write_msg(1, 0, HDR, FFA_PACK_IDS(1, to[i]), 16, 1);
		check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	}
}

/* The payload must lie in the guest's TX, past the header, with no
 * wrap-around; the flags are MBZ. */
static void test_send2_outside_the_tx(void **state)
{
	static const struct {
		uint32_t offset, size;
	} bad[] = {
		{ 0, 16 },		      /* payload over the header */
		{ HDR - 1, 16 },	      /* ...by one byte */
		{ PAGE + 1, 0 },	      /* starts past the TX */
		{ PAGE, 1 },		      /* ends one past the TX */
		{ HDR, PAGE - HDR + 1 },      /* ...the same from the start */
		{ HDR, 0xFFFFFFF0u },	      /* offset + size wraps to 4 */
		{ 0xFFFFFFF0u, 0x20 },	      /* ...the other way round */
		{ 0xFFFFFFFFu, 0xFFFFFFFFu }, /* both at most */
		{ 2 * PAGE, 0 },	      /* the next page (the RX) */
	};
	uint32_t ids = FFA_PACK_IDS(1, OPTEE);

	(void)state;
	version(1);
	rxtx_map(1, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_msg(1, 0, bad[i].offset, ids, bad[i].size, 1);
		check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	}
	/* Flags: none defined for a VM's message. */
	write_msg(1, 1, HDR, ids, 16, 1);
	check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	write_msg(1, 0x80000000u, HDR, ids, 16, 1);
	check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	/* The same message inside the TX goes. */
	write_msg(1, 0, HDR, ids, PAGE - HDR, 1);
	assert_int_equal(send2(1), 0);
	assert_int_equal(spmc.sends, 1);
}

/* The header's reserved word is MBZ; w2 carries one flag (bit 1, delay
 * the schedule receiver interrupt), which goes to the SPMC, and nothing
 * else. */
static void test_send2_reserved_and_w2_flags(void **state)
{
	static const uint32_t bad_w2[] = { 1u, 1u << 2, 0x80000000u,
					   0xFFFFFFFDu, 0xFFFFFFFFu };
	uint32_t ids = FFA_PACK_IDS(1, OPTEE);
	uint8_t *tx;
	uint64_t r[8];

	(void)state;
	version(1);
	rxtx_map(1, 1);
	write_msg(1, 0, HDR, ids, 16, 1);
	tx = fe_guest_page(0, 0);
	tx[4] = 1; /* reserved = 1 */
	check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	tx[4] = 0;
	tx[7] = 0x80; /* reserved = 0x80000000 */
	check_refused(1, FFA_RET_INVALID_PARAMETERS, 0);
	tx[7] = 0;
	for (size_t i = 0; i < sizeof(bad_w2) / sizeof(bad_w2[0]); i++) {
		uint32_t n = refused(1, TG_REFUSE_BAD_PARAM);

		set(r, FFA_MSG_SEND2, 0, bad_w2[i], 0);
		gcall(1, r);
		assert_int_equal(r[0], FFA_ERROR);
		assert_int_equal((uint32_t)r[2], (uint32_t)FFA_RET_INVALID_PARAMETERS);
		assert_int_equal(refused(1, TG_REFUSE_BAD_PARAM), n + 1);
		assert_int_equal(spmc.sends, 0);
	}
	/* The defined flag goes through, in w2; the upper half of x2 of
	 * this SMC32 call does not count. */
	set(r, FFA_MSG_SEND2, 0, 0xFFFFFFFF00000000ull | FFA_MSG_SEND2_FLAG_DELAY_SRI,
	    0);
	gcall(1, r);
	assert_int_equal(r[0], FFA_SUCCESS_32);
	assert_int_equal(spmc.sends, 1);
	assert_int_equal(spmc.w[1], FFA_PACK_IDS(1, 0));
	assert_int_equal(spmc.w[2], FFA_MSG_SEND2_FLAG_DELAY_SRI);
	assert_int_equal(spmc.h.reserved, 0);
	/* Without it, w2 is 0. */
	assert_int_equal(send2(1), 0);
	assert_int_equal(spmc.sends, 2);
	assert_int_equal(spmc.w[2], 0);
}

/* No RX/TX mapped (never, or no longer): DENIED, nothing read. */
static void test_send2_without_rxtx(void **state)
{
	uint64_t r[8];

	(void)state;
	version(1);
	write_msg(1, 0, HDR, FFA_PACK_IDS(1, OPTEE), 16, 1);
	check_refused(1, FFA_RET_DENIED, 0);
	assert_int_equal(bytes_read(), 0);
	rxtx_map(1, 1);
	assert_int_equal(send2(1), 0);
	assert_int_equal(spmc.sends, 1);
	set(r, FFA_RXTX_UNMAP, FFA_PACK_IDS(1, 0), 0, 0);
	gcall(1, r);
	assert_int_equal(r[0], FFA_SUCCESS_32);
	check_refused(1, FFA_RET_DENIED, 1);
	assert_int_equal(bytes_read(), 0);
}

/*
 * While the mediator copies the TX, the guest's other vCPU unmaps it
 * (then the pages could go elsewhere), sends another message or shares
 * memory (both use the same private TX copy): BUSY, the first message
 * goes as read.
 */
static uint64_t other_vcpu[8];

static void unmap_meanwhile(void)
{
	set(other_vcpu, FFA_RXTX_UNMAP, FFA_PACK_IDS(1, 0), 0, 0);
	gcall(1, other_vcpu);
}

static void send_meanwhile(void)
{
	set(other_vcpu, FFA_MSG_SEND2, 0, 0, 0);
	gcall(1, other_vcpu);
}

/* A share would write the same private TX copy the message is in. */
static void share_meanwhile(void)
{
	set(other_vcpu, FFA_MEM_SHARE_32, 64, 64, 0);
	gcall(1, other_vcpu);
}

static void test_send2_tx_held_while_read(void **state)
{
	uint32_t ids = FFA_PACK_IDS(1, OPTEE);

	(void)state;
	version(1);
	rxtx_map(1, 1);
	write_msg(1, 0, HDR, ids, 64, 1);
	during_read = unmap_meanwhile;
	assert_int_equal(send2(1), 0);
	assert_int_equal(other_vcpu[0], FFA_ERROR);
	assert_int_equal((int32_t)(uint32_t)other_vcpu[2], FFA_RET_BUSY);
	check_delivered(1, HDR, ids, 64);

	during_read = send_meanwhile;
	assert_int_equal(send2(1), 0);
	assert_int_equal(other_vcpu[0], FFA_ERROR);
	assert_int_equal((int32_t)(uint32_t)other_vcpu[2], FFA_RET_BUSY);
	assert_int_equal(spmc.sends, 2);

	during_read = share_meanwhile;
	assert_int_equal(send2(1), 0);
	assert_int_equal(other_vcpu[0], FFA_ERROR);
	assert_int_equal((int32_t)(uint32_t)other_vcpu[2], FFA_RET_BUSY);
	check_delivered(1, HDR, ids, 64);
	assert_int_equal(spmc.sends, 3);
}

/* Another guest sends with its own id; guest 1 cannot use it. */
static void test_send2_two_guests(void **state)
{
	(void)state;
	version(1);
	version(2);
	rxtx_map(1, 1);
	rxtx_map(2, 1);
	write_msg(2, 0, HDR, FFA_PACK_IDS(2, OPTEE), 40, 1);
	assert_int_equal(send2(2), 0);
	check_delivered(2, HDR, FFA_PACK_IDS(2, OPTEE), 40);
	write_msg(1, 0, HDR, FFA_PACK_IDS(2, OPTEE), 40, 1);
	check_refused(1, FFA_RET_INVALID_PARAMETERS, 1);
}

/* An SPMC that does not offer it: NOT_SUPPORTED, nothing read. */
static void test_send2_not_offered(void **state)
{
	struct fe_opts o = { 0 };
	uint64_t r[8];

	(void)state;
	fe_teardown();
	memset(&spmc, 0, sizeof(spmc));
	fe_setup_opts(&o);
	env.on_guest_read = on_read;
	forget_reads();
	version(1);
	rxtx_map(1, 1);
	set(r, FFA_FEATURES, FFA_MSG_SEND2, 0, 0);
	gcall(1, r);
	assert_int_equal(r[0], FFA_ERROR);
	write_msg(1, 0, HDR, FFA_PACK_IDS(1, OPTEE), 16, 1);
	assert_int_equal(send2(1), FFA_RET_NOT_SUPPORTED);
	assert_int_equal(bytes_read(), 0);
	assert_int_equal(refused(1, TG_REFUSE_UNKNOWN_FUNCTION), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, up, down)
		T(test_send2_delivered_once_read),
		T(test_send2_edges_and_spmc_error),
		T(test_send2_forged_sender),
		T(test_send2_receiver_not_a_partition),
		T(test_send2_outside_the_tx),
		T(test_send2_reserved_and_w2_flags),
		T(test_send2_without_rxtx),
		T(test_send2_tx_held_while_read),
		T(test_send2_two_guests),
		T(test_send2_not_offered),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
