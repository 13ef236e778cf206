// SPDX-License-Identifier: BSD-2-Clause
/*
 * The --json files of the teegate commands, written with jansson: the
 * library escapes every string (a CPU model name, a path) and keeps the
 * keys in the order they were set.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

json_t *tg_json_fixed(double v, unsigned int decimals)
{
	double scale = pow(10.0, (double)decimals);

	if (!isfinite(v))
		return json_null(); /* JSON has no NaN or infinity */
	return json_real(round(v * scale) / scale);
}

json_t *tg_json_uint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void tg_json_set(json_t **obj, const char *key, json_t *val)
{
	/* json_object_set_new() drops @val whatever happens */
	if (json_object_set_new(*obj, key, val)) {
		json_decref(*obj);
		*obj = NULL;
	}
}

void tg_json_append(json_t **arr, json_t *val)
{
	if (json_array_append_new(*arr, val)) {
		json_decref(*arr);
		*arr = NULL;
	}
}

int tg_json_write(json_t *root, FILE *f)
{
	int rc = -1;

	/* 15 significant digits: a value rounded by tg_json_fixed() is
	 * printed as it was rounded, without binary noise */
	if (root && !json_dumpf(root, f, JSON_INDENT(2) |
						 JSON_REAL_PRECISION(15)) &&
	    fputc('\n', f) != EOF)
		rc = 0;
	json_decref(root);
	return rc;
}
