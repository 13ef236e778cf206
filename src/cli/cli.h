/* SPDX-License-Identifier: BSD-2-Clause */
/* The teegate command line: shared between the commands. */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses of every command. */
#define TG_EXIT_OK 0
#define TG_EXIT_FAIL 1  /* ran, and a check failed */
#define TG_EXIT_USAGE 2 /* bad command line; nothing was run */

extern const char *tg_cli_prog;

/* Print "teegate: <msg>" to stderr; return TG_EXIT_USAGE. */
int tg_cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Parse a decimal number in [min, max] for option @opt: on error print a
 * one-line message and return false.
 */
bool tg_cli_parse_u32(const char *opt, const char *s, uint32_t min,
		      uint32_t max, uint32_t *out);

int tg_cmd_demo(int argc, char **argv);
void tg_help_demo(void);
int tg_cmd_stress(int argc, char **argv);
void tg_help_stress(void);
int tg_cmd_bench(int argc, char **argv);
void tg_help_bench(void);

#endif /* TG_CLI_H */
