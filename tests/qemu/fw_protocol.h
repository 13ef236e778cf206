/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which protocol the firmware of TEEGATE_OPTEE_FIRMWARE speaks, for the
 * tests of label "optee": OP-TEE's SMC ABI tests skip on an FF-A firmware
 * and the FF-A tests skip on an SMC ABI firmware, so that
 * `TEEGATE_OPTEE_FIRMWARE=DIR ctest -L optee` is green with either.
 */
#ifndef TG_TESTS_FW_PROTOCOL_H
#define TG_TESTS_FW_PROTOCOL_H

#include <teegate/mediator.h>

/*
 * tgt_need_protocol() - boot QEMU with TEEGATE_OPTEE_FIRMWARE, ask
 * FFA_VERSION, stop it. Returns 77 (CTest's skip) after one line when the
 * firmware speaks the other protocol than @want, 0 otherwise: also when
 * the variable is unset or the boot fails (the test itself then skips or
 * reports the error with its own words).
 */
int tgt_need_protocol(enum tg_protocol want);

#endif
