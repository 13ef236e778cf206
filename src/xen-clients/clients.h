/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Clients of issue 14's side-by-side runs in Xen: small GlobalPlatform TEE
 * Client API programs that use only OP-TEE's own pseudo TAs (so they run
 * against any OP-TEE 4.10 build and against the project's model):
 *
 *   bigbuf     registers, allocates and passes as a temporary memref
 *              buffers of the given sizes (default 516 KiB, 520 KiB, 1, 4,
 *              16 and 64 MiB); the invoke-tests PTA reads every byte and
 *              writes their 8-bit sum into byte 0, which is checked; then
 *              holds more than 16 registered buffers at once
 *   fair-hog   N threads, each invoking the PTA on a registered buffer in
 *              a loop: each call holds a secure thread while it runs
 *   fair-time  times simple invokes (value a + b): p50, p99, errors
 *   victim     verified calls in a loop, and a registered buffer holding
 *              tg_victim_canary() that it checks after every call
 *
 * Each prints machine-readable lines (TG-BIGBUF ..., TG-FAIR-..., TG-VICTIM-
 * ...; key=value). The logic is written against the TEE Client API and
 * the small platform interface below, so that the same files build for an
 * arm64 Linux guest against Debian's libteec (linux_main.c) and into the
 * project's hosted test against the OP-TEE model (tests/guest).
 */
#ifndef TG_XEN_CLIENTS_H
#define TG_XEN_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef TG_CLIENTS_HOSTED
#include <teegate/tee_client_api.h>
#else
#include <tee_client_api.h>
#endif

/* OP-TEE's invoke-tests pseudo TA (docs/optee-abi.md). */
#define TGC_INVOKE_TESTS_UUID                                          \
	{                                                              \
		0xd96a5b40, 0xc3e5, 0x21e3,                            \
		{                                                      \
			0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b \
		}                                                      \
	}
#define TGC_CMD_PARAMS 1

/* ---- the platform: linux_main.c, or the hosted test ------------------- */

void tgc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run @fn(@arg) on another thread (a vCPU in the hosted test): a handle,
 * or -1. */
int tgc_spawn(void (*fn)(void *arg), void *arg);
void tgc_join(int handle);
uint64_t tgc_now_ns(void);
/* Page-aligned memory of @size bytes (zeroed), or NULL. */
void *tgc_alloc(size_t size);
void tgc_free(void *p, size_t size);
/* The guest-physical address (an IPA in a VM) of @p, when it can tell. */
bool tgc_phys_of(const void *p, uint64_t *pa);
/* Asked to stop early (SIGTERM on Linux): a loop that runs for a given
 * time ends at its next turn and reports as usual. */
bool tgc_stop_requested(void);

/* ---- the clients: 0 when every check passed ------------------------------ */

int tgc_bigbuf(int argc, char **argv);
int tgc_fair_hog(int argc, char **argv);
int tgc_fair_time(int argc, char **argv);
int tgc_victim(int argc, char **argv);

/* Shared helpers (common.c). */
uint8_t tgc_sum8(const uint8_t *p, size_t n);
/* "--key value" options: the value of @key, or NULL. */
const char *tgc_opt(int argc, char **argv, const char *key);
/* A number with an optional K, M or G (KiB, MiB, GiB) suffix. */
bool tgc_parse_size(const char *s, uint64_t *out);
/* Any argument that is no known "--key value": a usage error line. */
bool tgc_check_opts(int argc, char **argv, const char *const *keys,
		    const char *usage);

#endif /* TG_XEN_CLIENTS_H */
