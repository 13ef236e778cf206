// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host side of the mailbox: post a request in a relay CPU's slot and
 * wait for its answer.
 *
 * The relay is an emulated CPU: an answer takes tens of microseconds or
 * (an OP-TEE std call that loads a TA) many milliseconds. The waiter spins
 * briefly, then yields, then sleeps in short naps; while it waits it checks
 * now and then that QEMU is still alive, so that a dead QEMU turns into an
 * error instead of a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <teegate/ffa_abi.h>
#include <teegate/optee_abi.h>

#include "internal.h"

#define SPIN_LOOPS 2000
#define YIELD_LOOPS 200
#define NAP_NS 20000
#define ALIVE_CHECK_NS 100000000ll /* 100 ms */

void tg_qemu_client_init(struct tg_qemu *q)
{
	uint32_t i;

	for (i = 0; i < TG_QEMU_MAX_CPUS; i++)
		q->cpu[i].next_seq = q->mb->slot[i].resp_seq + 1;
}

/* Does QEMU still run? Does not reap: tg_qemu_stop() does. */
bool tg_qemu_alive(struct tg_qemu *q)
{
	siginfo_t si;

	if (__atomic_load_n(&q->dead, __ATOMIC_ACQUIRE))
		return false;
	memset(&si, 0, sizeof(si));
	if (q->reaped ||
	    (waitid(P_PID, (id_t)q->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
		     0 &&
	     si.si_pid == q->pid)) {
		__atomic_store_n(&q->dead, 1, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static bool wait_answer(struct tg_qemu *q, volatile struct tg_relay_slot *s,
			uint64_t seq)
{
	struct timespec nap = { 0, NAP_NS };
	int64_t next_check = 0;
	uint64_t n;

	for (n = 0;; n++) {
		if (__atomic_load_n(&s->resp_seq, __ATOMIC_ACQUIRE) == seq)
			return true;
		if (n < SPIN_LOOPS) {
			cpu_relax();
			continue;
		}
		if (n < SPIN_LOOPS + YIELD_LOOPS) {
			sched_yield();
			continue;
		}
		if (mono_ns() > next_check) {
			if (!tg_qemu_alive(q))
				return false;
			next_check = mono_ns() + ALIVE_CHECK_NS;
		}
		nanosleep(&nap, NULL);
	}
}

/*
 * TG_QEMU_CPU_ANY: each host thread has a home relay CPU, given round
 * robin on its first call; it takes the first idle CPU from its home on,
 * and waits for its home when all are busy (so that waiting threads are
 * spread over the CPUs instead of queueing on CPU 0).
 */
static _Atomic uint32_t next_home;
static _Thread_local uint32_t home = UINT32_MAX;

static struct tg_qemu_cpu *take_cpu(struct tg_qemu *q, uint32_t *cpu)
{
	uint32_t i, c;

	if (*cpu == TG_QEMU_CPU_ANY) {
		if (home == UINT32_MAX)
			home = atomic_fetch_add(&next_home, 1);
		for (i = 0; i < q->ncpus; i++) {
			c = (home + i) % q->ncpus;
			if (!pthread_mutex_trylock(&q->cpu[c].lock)) {
				*cpu = c;
				return &q->cpu[c];
			}
		}
		*cpu = home;
	}
	*cpu %= q->ncpus;
	pthread_mutex_lock(&q->cpu[*cpu].lock);
	return &q->cpu[*cpu];
}

/*
 * Whether an SMC sent on behalf of @client names @client. OP-TEE's SMC ABI
 * names the client in a7. FF-A names it in its messages: a direct request
 * carries the sender in w1[31:16], a framework message (VM_CREATED,
 * VM_DESTROYED) the VM in w5; other FF-A calls name no client in their
 * registers (a share's sender is in the descriptor), and the hypervisor's
 * own calls (@client 0) may name anyone.
 */
static bool smc_names_client(uint32_t client, const uint64_t regs[8])
{
	uint32_t fid = (uint32_t)regs[0];

	if (!FFA_IS_FFA_FID(fid))
		return client == (uint32_t)regs[7] && !(regs[7] >> 32);
	if (!client)
		return true;
	if (fid == FFA_MSG_SEND_DIRECT_REQ_32 ||
	    fid == FFA_MSG_SEND_DIRECT_REQ_64) {
		if ((uint32_t)regs[2] & FFA_MSG_FLAG_FRAMEWORK)
			return (uint32_t)regs[5] == client;
		return ((uint32_t)regs[1] >> 16) == client;
	}
	if (fid == FFA_MSG_SEND_DIRECT_REQ2)
		return ((uint32_t)regs[1] >> 16) == client;
	return true;
}

/*
 * The oracle learns on whose behalf a relay CPU is in the secure world:
 * @client is stored before the request is published (the release store
 * of req_seq orders it before the relay's smc) and cleared after the
 * answer, so a secure interrupt between SMCs runs for nobody.
 */
static int relay_call(struct tg_qemu *q, uint32_t cpu, uint64_t cmd,
		      uint32_t client, uint64_t regs[8])
{
	struct tg_oracle_cpu *oc = NULL;
	volatile struct tg_relay_slot *s;
	struct tg_qemu_cpu *c;
	uint64_t seq;
	bool ok;
	int i;

	if (!q || !regs)
		return TG_EINVAL;
	if (!tg_qemu_alive(q))
		goto dead;
	c = take_cpu(q, &cpu);
	s = &q->mb->slot[cpu];
	seq = c->next_seq++;
	s->cmd = cmd;
	for (i = 0; i < 8; i++)
		s->regs[i] = regs[i];
	if (q->oracle && cmd == TG_RELAY_CMD_SMC && cpu < TG_ORACLE_MAX_CPUS) {
		oc = &q->oracle->cpu[cpu];
		if (!smc_names_client(client, regs) &&
		    __atomic_load_n(&q->oracle->armed, __ATOMIC_RELAXED))
			__atomic_fetch_add(&q->oracle->identity, 1,
					   __ATOMIC_RELAXED);
		__atomic_store_n(&oc->client, client, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->req_seq, seq, __ATOMIC_RELEASE);
	ok = wait_answer(q, s, seq);
	if (ok)
		for (i = 0; i < 8; i++)
			regs[i] = s->regs[i];
	if (oc)
		__atomic_store_n(&oc->client, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	if (ok)
		return TG_OK;
dead:
	regs[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
	return TG_EPROTO;
}

int tg_qemu_smc(struct tg_qemu *q, uint32_t cpu, uint64_t regs[8])
{
	if (!regs)
		return TG_EINVAL;
	return relay_call(q, cpu, TG_RELAY_CMD_SMC, (uint32_t)regs[7], regs);
}

int tg_qemu_smc_as(struct tg_qemu *q, uint32_t cpu, uint32_t client,
		   uint64_t regs[8])
{
	return relay_call(q, cpu, TG_RELAY_CMD_SMC, client, regs);
}

int tg_qemu_ping(struct tg_qemu *q, uint32_t cpu)
{
	uint64_t regs[8] = { 0 };

	return relay_call(q, cpu, TG_RELAY_CMD_PING, 0, regs);
}
