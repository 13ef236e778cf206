// SPDX-License-Identifier: BSD-2-Clause
/* Helpers shared by the clients. */
#include <stdlib.h>
#include <string.h>

#include "clients.h"

uint8_t tgc_sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

const char *tgc_opt(int argc, char **argv, const char *key)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], key))
			return argv[i + 1];
	return NULL;
}

bool tgc_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	v = strtoull(s, &end, 0);
	if (end == s)
		return false;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

bool tgc_check_opts(int argc, char **argv, const char *const *keys,
		    const char *usage)
{
	int i;

	for (i = 1; i < argc; i += 2) {
		const char *const *k;

		for (k = keys; *k && strcmp(*k, argv[i]); k++)
			;
		if (!*k || i + 1 >= argc) {
			tgc_printf("TG-USAGE %s: %s '%s'; usage: %s\n", argv[0],
				   *k ? "no value for" : "unknown option",
				   argv[i], usage);
			return false;
		}
	}
	return true;
}
