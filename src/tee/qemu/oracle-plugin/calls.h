/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The oracle plugin's per-call counting (calls.c): qemu_plugin_install()
 * hands over to it when the arguments hold ranges=.
 */
#ifndef TG_ORACLE_CALLS_H
#define TG_ORACLE_CALLS_H

#include "qemu_plugin_api.h"

int tg_calls_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
		     char **argv);

#endif /* TG_ORACLE_CALLS_H */
