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

/* How an option takes its value. */
enum tg_cli_arg {
	TG_OPT_FLAG,	 /* --name */
	TG_OPT_VALUE,	 /* --name=V or --name V */
	TG_OPT_OPTIONAL, /* --name, --name=V, or --name V if V is no option */
};

struct tg_cli_opt {
	const char *name; /* "--name"; NULL ends a table */
	enum tg_cli_arg arg;
};

#define TG_CLI_HELP (-2)  /* -h or --help */
#define TG_CLI_ERROR (-1) /* a one-line usage error was printed */

/*
 * tg_cli_next_opt() - recognise argv[*i] as one of @opts for command
 * @cmd, moving *i past a value taken from the next word.
 * @val: out, the value, or NULL.
 * Return: the option's index in @opts, TG_CLI_HELP or TG_CLI_ERROR.
 */
int tg_cli_next_opt(const char *cmd, const struct tg_cli_opt *opts, int argc,
		    char **argv, int *i, const char **val);

int tg_cmd_demo(int argc, char **argv);
void tg_help_demo(void);
int tg_cmd_stress(int argc, char **argv);
void tg_help_stress(void);
int tg_cmd_bench(int argc, char **argv);
void tg_help_bench(void);

#endif /* TG_CLI_H */
