/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test harness for the OP-TEE model: a fake NS RAM, a normal world that
 * answers RPCs like Linux's driver and tee-supplicant would, and helpers
 * to build messages and page lists in that RAM.
 */
#ifndef TEEGATE_MODEL_HARNESS_H
#define TEEGATE_MODEL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teegate/optee_abi.h>
#include <teegate/tee_model.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (64ull << 20)
#define PAGE 4096ull
/* The client (guest) id most tests use. */
#define GUEST 1u

struct fake_ram {
	uint8_t *bytes;
	uint64_t next_page;	  /* bump allocator */
	uint64_t maps;		  /* successful map() calls */
	uint64_t bad_maps;	  /* map() outside RAM (refused) */
	uint64_t cross_page_maps; /* map() crossing a page: must stay 0 */
	uint64_t writes;
	uint32_t notif_irqs;
	/* Pages map() refuses for every client except owner (0 = any). */
	uint64_t fenced_pa;
	uint32_t fenced_owner;
	/*
	 * Stall: the next map() on behalf of @stall_client (while
	 * @stall_armed) sets @stalled and waits, inside the model, until
	 * @stall_release.
	 */
	uint32_t stall_client;
	int stall_armed, stalled, stall_release;
};

extern struct fake_ram ram;

struct regs {
	uint64_t a[8];
};

/* RPC events the harness's normal world saw, in order. */
enum rpc_event {
	EV_ALLOC = 1,
	EV_FREE,
	EV_FOREIGN_INTR,
	EV_CMD_BASE = 100, /* EV_CMD_BASE + RPC command */
};

#define MAX_EVENTS 4096

struct nw {
	uint32_t client;
	int events[MAX_EVENTS];
	uint32_t num_events;
	/* Answers to give. */
	bool fail_alloc;	       /* RPC ALLOC answers PA 0 */
	bool misaligned_alloc;	       /* RPC ALLOC answers PA + 8 */
	uint32_t shm_alloc_ret;	       /* RPC CMD SHM_ALLOC ret */
	bool shm_alloc_too_small;      /* answer 16 bytes */
	bool shm_alloc_bad_list;       /* answer a misaligned page entry */
	bool fail_alloc_with_cookie;   /* RPC ALLOC: PA 0 but a cookie */
	uint32_t last_cmd_initial_ret; /* ret as the model wrote it */
	uint32_t load_ta_ret;	       /* RPC CMD LOAD_TA ret */
	uint64_t load_ta_size;	       /* size answered with LOAD_TA */
	uint32_t notif_ret;
	uint64_t time_secs, time_nsecs;
	uint64_t last_cmd_cookie; /* a1:a2 of the last RPC CMD */
	uint64_t last_alloc_size; /* a1 of the last RPC ALLOC */
	uint64_t freed_cookies[64];
	uint32_t num_freed;
	struct optee_msg_param last_cmd_params[4];
	uint32_t last_cmd_num_params;
	struct optee_msg_param load_ta_params[4]; /* as sent by the model */
	struct optee_msg_param shm_alloc_params[4];
	uint32_t allocs_outstanding;
	uint32_t max_resumes; /* give up after this many RPCs */
};

struct tg_model *model_new(const struct tg_model_config *cfg);
struct tg_model *model_new_default(void);
void model_free_all(struct tg_model *m);

void ram_reset(void);
uint64_t page_alloc(void);
void *pa_ptr(uint64_t pa);

struct regs smc(struct tg_model *m, uint32_t client, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3);
struct regs fast(struct tg_model *m, uint32_t client, uint64_t a0, uint64_t a1);

void nw_init(struct nw *nw, uint32_t client);
/* Answer RPCs until the call ends; returns the final a0. */
uint32_t nw_finish(struct tg_model *m, struct nw *nw, struct regs *r);
/* Answer one RPC (r must be an RPC return): r becomes the next return. */
void nw_answer_one(struct tg_model *m, struct nw *nw, struct regs *r);

/* A fresh zeroed argument page with @n params; *pa gets its PA. */
struct optee_msg_arg *arg_new(uint32_t n, uint64_t *pa);
/* CALL_WITH_ARG of the arg at @pa, all RPCs answered by @nw. */
uint32_t call_arg(struct tg_model *m, struct nw *nw, uint64_t pa);

/* A NONCONTIG buffer of @size bytes at offset @offs in scattered pages. */
struct ncbuf {
	uint64_t buf_ptr; /* list PA | offs */
	uint64_t size;
	uint64_t data_pages[8192];
	uint32_t npages;
};
void ncbuf_new(struct ncbuf *b, uint64_t size, uint32_t offs);
uint8_t *ncbuf_byte(struct ncbuf *b, uint64_t i);

/* Open a session to @uuid (16 octets); returns ret, *session set. */
uint32_t open_session(struct tg_model *m, struct nw *nw, const uint8_t *uuid,
		      uint32_t *session, uint32_t *origin);
uint32_t close_session(struct tg_model *m, struct nw *nw, uint32_t session);
/* Register a buffer; returns ret. */
uint32_t register_shm(struct tg_model *m, struct nw *nw, struct ncbuf *b,
		      uint64_t cookie);
uint32_t unregister_shm(struct tg_model *m, struct nw *nw, uint64_t cookie);

/* PA of the RPC argument for RPC CMDs with cookie 0. */
void nw_set_rpc_arg(uint64_t pa);
bool nw_saw_sequence(const struct nw *nw, const int *seq, uint32_t n);
uint32_t nw_count(const struct nw *nw, int ev);

#endif /* TEEGATE_MODEL_HARNESS_H */

#ifndef TEEGATE_MODEL_HARNESS_INVOKE
#define TEEGATE_MODEL_HARNESS_INVOKE
/* An INVOKE_COMMAND argument with @n params (filled by the caller). */
struct optee_msg_arg *invoke_arg(uint32_t session, uint32_t func, uint32_t n,
				 uint64_t *pa);
/* Open @uuid and assert success; returns the session id. */
uint32_t open_ok(struct tg_model *m, struct nw *nw, const uint8_t *uuid);
/* Start an INVOKE of yield(N) and stop at its first RPC: returns regs. */
struct regs start_yield(struct tg_model *m, struct nw *nw, uint32_t session,
			uint32_t n);
#endif
