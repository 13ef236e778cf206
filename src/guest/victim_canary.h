/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The canary a victim guest keeps in its registered buffer (the victim
 * client of src/xen-clients, the EL2 stub's victim) and that the hostile
 * catalogue's read attacks recognise. Freestanding, no other include.
 */
#ifndef TG_VICTIM_CANARY_H
#define TG_VICTIM_CANARY_H

#include <stdint.h>

/* Byte @i of the victim's buffer. */
static inline uint8_t tg_victim_canary(uint32_t i)
{
	return (uint8_t)(0xA5u ^ (i * 29u) ^ (i >> 8));
}

/* The 8-bit sum of the canary's first @n bytes. */
static inline uint8_t tg_victim_canary_sum(uint32_t n)
{
	uint8_t s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s = (uint8_t)(s + tg_victim_canary(i));
	return s;
}

#endif /* TG_VICTIM_CANARY_H */
