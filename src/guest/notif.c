// SPDX-License-Identifier: BSD-2-Clause
/*
 * Notifications.
 *
 * A wait queue keyed by notification value, as Linux's: a TEE thread that
 * must sleep does RPC NOTIFICATION WAIT(key) and another one wakes it with
 * SEND(key), by RPC or by an async notification. A send that arrives
 * before its wait is remembered (a completion count per key), so the two
 * may race.
 *
 * Async notifications: a vCPU of the guest waits for the TEE's interrupt
 * (tg_notif_wait()) and drains GET_ASYNC_NOTIF_VALUE; value 0 means "do
 * the bottom half" (a DO_BOTTOM_HALF std call), others wake waiters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optee_private.h"

/* Pending sends kept per key at most (a nonsense TEE cannot grow it). */
#define NOTIF_PENDING_MAX 1024u
/* GET_ASYNC_NOTIF_VALUE answers drained per interrupt at most. */
#define NOTIF_DRAIN_MAX 256u

static struct notif_entry *entry_get(struct tg_optee *drv, uint32_t key)
{
	struct notif_entry *e;

	for (e = drv->notif; e; e = e->next)
		if (e->key == key)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = key;
	e->next = drv->notif;
	drv->notif = e;
	return e;
}

static void entry_put(struct tg_optee *drv, struct notif_entry *e)
{
	struct notif_entry **pp;

	if (e->waiters || e->pending)
		return;
	for (pp = &drv->notif; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			free(e);
			return;
		}
	}
}

/**
 * tgg_notif_wait() - sleep until @key is sent. @timeout_ms 0 = no timeout.
 * Return: TG_OK when sent, TG_AGAIN on timeout, TG_EBUSY when the driver
 * is going away, TG_ENOMEM.
 */
int tgg_notif_wait(struct tg_optee *drv, uint32_t key, uint32_t timeout_ms)
{
	struct notif_entry *e;
	struct timespec ts;
	int rc = TG_OK;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	pthread_mutex_lock(&drv->notif_lock);
	e = entry_get(drv, key);
	if (!e) {
		pthread_mutex_unlock(&drv->notif_lock);
		return TG_ENOMEM;
	}
	e->waiters++;
	while (!e->pending) {
		/* a thread-mode kill: this wait traps no more, so look */
		if (drv->stopping || tg_vcpu_killed(tgg_drv_vcpu(drv))) {
			rc = TG_EBUSY;
			break;
		}
		if (!timeout_ms) {
			/* Wake regularly to notice a driver going away. */
			struct timespec slice;

			clock_gettime(CLOCK_REALTIME, &slice);
			slice.tv_sec += 1;
			pthread_cond_timedwait(&drv->notif_cond,
					       &drv->notif_lock, &slice);
		} else if (pthread_cond_timedwait(&drv->notif_cond,
						  &drv->notif_lock,
						  &ts) == ETIMEDOUT &&
			   !e->pending) {
			rc = TG_AGAIN;
			break;
		}
	}
	if (rc == TG_OK)
		e->pending--;
	e->waiters--;
	entry_put(drv, e);
	pthread_mutex_unlock(&drv->notif_lock);
	return rc;
}

/* tgg_notif_send() - wake a waiter of @key (or the next one to wait). */
int tgg_notif_send(struct tg_optee *drv, uint32_t key)
{
	struct notif_entry *e;

	if (key > drv->info.max_notif_value)
		return TG_EINVAL;
	pthread_mutex_lock(&drv->notif_lock);
	e = entry_get(drv, key);
	if (e && e->pending < NOTIF_PENDING_MAX)
		e->pending++;
	pthread_cond_broadcast(&drv->notif_cond);
	pthread_mutex_unlock(&drv->notif_lock);
	return e ? TG_OK : TG_ENOMEM;
}

static bool notif_stopping(struct tg_optee *drv)
{
	bool stop;

	pthread_mutex_lock(&drv->notif_lock);
	stop = drv->stopping;
	pthread_mutex_unlock(&drv->notif_lock);
	return stop;
}

static void do_bottom_half(struct tg_optee *drv)
{
	struct optee_msg_arg msg;
	uint32_t smc_ret;

	memset(&msg, 0, sizeof(msg));
	msg.cmd = OPTEE_MSG_CMD_DO_BOTTOM_HALF;
	STAT_INC(drv, bottom_halves);
	tgg_std_call(drv, TG_OPTEE_FORM_DEFAULT, &msg, &smc_ret);
}

/* Drain the TEE's pending values after one interrupt. */
static void notif_drain(struct tg_optee *drv, struct tg_vcpu *vcpu)
{
	bool bottom_half = false;
	uint32_t i, value;
	uint64_t regs[8];

	if (drv->ffa) {
		tgg_ffa_notif_drain(drv);
		return;
	}
	for (i = 0; i < NOTIF_DRAIN_MAX; i++) {
		memset(regs, 0, sizeof(regs));
		regs[0] = OPTEE_SMC_GET_ASYNC_NOTIF_VALUE;
		tg_smc(vcpu, regs);
		if ((uint32_t)regs[0] != OPTEE_SMC_RETURN_OK ||
		    !(regs[2] & OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID))
			break;
		value = (uint32_t)regs[1]; /* TEE-controlled */
		STAT_INC(drv, notif_async);
		__atomic_fetch_add(&tg_guest_counters(vcpu)->notifications, 1,
				   __ATOMIC_RELAXED);
		if (value == OPTEE_SMC_ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF)
			bottom_half = true;
		else
			tgg_notif_send(drv, value);
		if (!(regs[2] & OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING))
			break;
	}
	if (bottom_half)
		do_bottom_half(drv);
}

/* Is a TEE thread sleeping in a WAIT of ours? */
static bool notif_have_waiters(struct tg_optee *drv)
{
	struct notif_entry *e;
	bool any = false;

	pthread_mutex_lock(&drv->notif_lock);
	for (e = drv->notif; e && !any; e = e->next)
		any = e->waiters > 0;
	pthread_mutex_unlock(&drv->notif_lock);
	return any;
}

/*
 * The notification vCPU. Besides the interrupt, it polls the TEE once per
 * slice while a WAIT is pending: an interrupt lost on the way (through a
 * hypervisor and a mediator) must not leave a TEE thread asleep forever.
 */
static void notif_vcpu_main(struct tg_vcpu *vcpu, void *arg)
{
	struct tg_optee *drv = arg;
	uint32_t slice = drv->cfg.notif_poll_ms ? drv->cfg.notif_poll_ms : 50;

	while (!notif_stopping(drv)) {
		if (tg_notif_wait(vcpu, slice) == 1 || notif_have_waiters(drv))
			notif_drain(drv, vcpu);
	}
}

/* Start the notification vCPU (async notifications were enabled). */
int tgg_notif_start(struct tg_optee *drv)
{
	int idx = tg_vcpu_spawn(drv->vcpu, notif_vcpu_main, drv);

	if (idx < 0)
		return TG_ENOMEM;
	drv->notif_vcpu = idx;
	return TG_OK;
}

/* Stop waiters and the notification vCPU. */
void tgg_notif_stop(struct tg_optee *drv)
{
	struct notif_entry *e, **pp;

	pthread_mutex_lock(&drv->notif_lock);
	drv->stopping = true;
	pthread_cond_broadcast(&drv->notif_cond);
	pthread_mutex_unlock(&drv->notif_lock);
	if (drv->notif_vcpu >= 0) {
		tg_vcpu_join(drv->vcpu, drv->notif_vcpu);
		drv->notif_vcpu = -1;
	}
	/* No call is in progress at teardown; keep any entry still waited
	 * on rather than free it under a sleeper. */
	pthread_mutex_lock(&drv->notif_lock);
	for (pp = &drv->notif; (e = *pp);) {
		if (e->waiters) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&drv->notif_lock);
}
