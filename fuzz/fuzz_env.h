/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-process environment for the fuzz harnesses: a flat fake machine with
 * an ownership oracle, the OP-TEE model as the secure world, and the
 * mediator over a port. Any isolation violation or leak aborts, so that
 * libFuzzer reports it as a crash.
 */
#ifndef TEEGATE_FUZZ_ENV_H
#define TEEGATE_FUZZ_ENV_H

#include <stdint.h>

#include <teegate/mediator.h>
#include <teegate/tee_model.h>

#define FZ_PA_BASE 0x40000000ull
#define FZ_IPA_BASE 0x40000000ull
#define FZ_PAGES 1024u	   /* 4 MiB of machine memory */
#define FZ_POOL_PAGES 256u /* mediator shm pool */
#define FZ_GUESTS 3u
#define FZ_GUEST_PAGES 256u /* 1 MiB per guest; lists may repeat pages */
#define FZ_OWNER_FREE 0u
#define FZ_OWNER_MEDIATOR 0xFFFFFFFFu

struct fz_env {
	uint8_t *mem;
	uint32_t owner[FZ_PAGES];
	uint32_t pins[FZ_PAGES];
	uint64_t p2m[FZ_GUESTS][FZ_GUEST_PAGES];
	bool live[FZ_GUESTS];
	struct tg_port port;
	struct tg_mediator *med;
	struct tg_model *model;
	long allocs;
	uint64_t smcs; /* SMCs so far: the port's clock */
};

#define FZ_TEE_THREADS 2u

/* Build the machine, the model (with @inject percent of random RPCs and
 * preemption, seeded by @seed) and the mediator with every guest live. */
struct fz_env *fz_env_create(uint32_t inject, uint64_t seed,
			     const struct tg_limits *limits);
/* Destroy every domain and everything else; abort on any leak. */
void fz_env_destroy(struct fz_env *e);

/* Guest client id of guest index @g (0..FZ_GUESTS-1). */
static inline uint32_t fz_client(uint32_t g)
{
	return g + 1;
}

void *fz_guest_ptr(struct fz_env *e, uint32_t g, uint64_t ipa);
void fz_destroy_domain(struct fz_env *e, uint32_t g);
void fz_create_domain(struct fz_env *e, uint32_t g,
		      const struct tg_limits *limits);

/* A tiny byte reader over the fuzz input. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)fz_u8(in) << (8 * i);
	return v;
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < 4; i++)
		v |= (uint32_t)fz_u8(in) << (8 * i);
	return v;
}

#endif /* TEEGATE_FUZZ_ENV_H */
