// SPDX-License-Identifier: BSD-2-Clause
/*
 * The little of a C library the image needs. The compiler may call
 * memcpy/memset/memcmp itself; everything runs with the MMU off (Device
 * memory), so every access is naturally aligned (-mstrict-align).
 */
#include <string.h>

#include "image.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (!(((uintptr_t)d | (uintptr_t)s | n) & 7)) {
		for (; n; n -= 8, d += 8, s += 8)
			*(uint64_t *)(void *)d =
				*(const uint64_t *)(const void *)s;
		return dst;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (!(((uintptr_t)d | n) & 7)) {
		uint64_t v = (uint8_t)c * 0x0101010101010101ull;

		for (; n; n -= 8, d += 8)
			*(uint64_t *)(void *)d = v;
		return dst;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int tg_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			return 0;
	}
	return 0;
}

/* A decimal or 0x-hexadecimal number filling exactly @len characters. */
bool tg_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0, base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		uint64_t d;

		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (uint64_t)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (uint64_t)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}
