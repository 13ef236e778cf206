/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest-driver fixture the loopback tests share: one guest with the
 * driver probed, and the pages it used before, for the teardown's check.
 */
#ifndef TG_TESTS_DRV_FIXTURE_H
#define TG_TESTS_DRV_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>

#include <teegate/optee_guest.h>

#include "loopback.h"

struct fx {
	struct lb_guest *g;
	struct tg_vcpu *vcpu;
	struct tg_optee *drv;
	uint32_t pages_before;
};

static inline int group_setup(void **state)
{
	(void)state;
	return lb_env_init(NULL);
}

static inline int group_teardown(void **state)
{
	(void)state;
	lb_env_fini();
	return 0;
}

/* A guest of @ram_mib MiB, entered, with the driver probed with @cfg. */
static inline int fx_setup(void **state, uint32_t ram_mib,
			   const struct tg_optee_config *cfg)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->g = lb_guest_create(1, ram_mib);
	if (!f->g)
		return -1;
	f->vcpu = lb_guest_enter(f->g);
	f->pages_before = lb_guest_pages_used(f->g);
	if (tg_optee_probe(f->vcpu, cfg, &f->drv) != TG_OK)
		return -1;
	*state = f;
	return 0;
}

#endif
