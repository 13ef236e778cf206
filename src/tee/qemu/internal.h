/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to src/tee/qemu: the launcher's state, shared with the client. */
#ifndef TEEGATE_QEMU_INTERNAL_H
#define TEEGATE_QEMU_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "mailbox.h"
#include "qemu.h"

#define TG_QEMU_PATH_MAX 4096

enum { TG_QEMU_LOG_NW = 0, TG_QEMU_LOG_SW, TG_QEMU_LOG_QEMU, TG_QEMU_NLOGS };

/* Regions QEMU's virt machine, TF-A and OP-TEE use in NS RAM. */
#define TG_QEMU_DTB_PA 0x40000000ull
#define TG_QEMU_DTB_SIZE 0x100000ull /* QEMU's DTB, up to 1 MiB */
#define TG_QEMU_OPTEE_SHM_PA 0x42000000ull
#define TG_QEMU_OPTEE_SHM_SIZE 0x200000ull

/*
 * The top MiB of RAM belongs to the backend: the mailbox page, then a pool
 * of pages for tg_qemu_port_init()'s shm_alloc().
 */
#define TG_QEMU_TOP_SIZE 0x100000ull
#define TG_QEMU_POOL_PAGES ((TG_QEMU_TOP_SIZE - TG_RELAY_MAILBOX_SIZE) / 4096)

/**
 * struct tg_qemu_cpu - the host side of one relay slot.
 * @lock:     serialises the users of the slot.
 * @next_seq: sequence number of the next request (protected by @lock).
 */
struct tg_qemu_cpu {
	pthread_mutex_t lock;
	uint64_t next_seq;
};

struct tg_qemu {
	pid_t pid;
	bool reaped;
	pthread_t spawner;  /* forked QEMU; lives until tg_qemu_stop() */
	bool have_spawner;
	int spawner_quit[2]; /* closing [1] ends the spawner */
	int ram_fd;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t mailbox_pa;
	uint64_t relay_size;
	volatile struct tg_relay_mailbox *mb;
	uint32_t ncpus;
	struct tg_qemu_cpu cpu[TG_QEMU_MAX_CPUS];
	double boot_ms;
	int dead; /* atomic: QEMU seen gone */
	/* tg_qemu_port_init(): its log level and its shm pool */
	bool port_verbose;
	pthread_mutex_t pool_lock;
	uint8_t pool_used[TG_QEMU_POOL_PAGES];

	char workdir[TG_QEMU_PATH_MAX]; /* "" once removed */
	int log_fd[TG_QEMU_NLOGS];      /* read side, for tails */
	bool logs_in_workdir;
	char nw_log[TG_QEMU_PATH_MAX];
	char sw_log[TG_QEMU_PATH_MAX];
	char qemu_log[TG_QEMU_PATH_MAX];

	/* the isolation oracle (oracle_table.c), NULL when off */
	struct tg_oracle_table *oracle;
	int oracle_fd;
	char oracle_plugin[TG_QEMU_PATH_MAX];
};

/* relay_client.c */
void tg_qemu_client_init(struct tg_qemu *q);
bool tg_qemu_alive(struct tg_qemu *q);

#endif /* TEEGATE_QEMU_INTERNAL_H */
