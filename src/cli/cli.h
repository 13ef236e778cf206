/* SPDX-License-Identifier: BSD-2-Clause */
/* The teegate command line: shared between the commands. */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * One command's command line, read with getopt_long(3) (args.c): options
 * first, full names only, an optional value also as the next word, every
 * mistake one line on stderr.
 */
struct tg_cli {
	const char *cmd; /* "demo": errors say "demo: ..."; NULL: teegate's own */
	const struct option *opts; /* getopt_long's table: flag NULL, val
				    * unique and not '?' or ':'; end with
				    * TG_CLI_OPT_HELP and an all-zero entry */
	const struct tg_cli_needs *needs; /* NULL: "needs a value" */
	bool operands; /* words may follow the options (tg_cli_operand()) */
	int argc;
	char **argv; /* argv[0] is the command's name */
	const char *val; /* the value of the option just returned, or NULL */
};

/* How a missing value is named: "--json needs a file name". */
struct tg_cli_needs {
	int val;
	const char *what; /* NULL ends a table */
};

/* Every command's -h and --help. */
#define TG_CLI_OPT_HELP { "help", no_argument, NULL, 'h' }
/* The first val of a command's own options: above every character. */
#define TG_CLI_OPT_FIRST 256

#define TG_CLI_END (-1)   /* every option read */
#define TG_CLI_HELP (-2)  /* -h or --help */
#define TG_CLI_ERROR (-3) /* a one-line usage error was printed */

void tg_cli_init(struct tg_cli *cli, const char *cmd,
		 const struct option *opts, int argc, char **argv);

/*
 * tg_cli_next() - the next option of @cli's command line.
 * Return: the option's val (its value in cli->val), TG_CLI_END,
 * TG_CLI_HELP, or TG_CLI_ERROR once a one-line error was printed.
 */
int tg_cli_next(struct tg_cli *cli);

/* After TG_CLI_END: the index of the first operand (argc if none). */
int tg_cli_operand(const struct tg_cli *cli);

/* ---- --json files (json_out.c) ---- */

/* @v rounded to @decimals places (as "%.Nf" would print it); null if
 * not finite. */
json_t *tg_json_fixed(double v, unsigned int decimals);

/* @v as a JSON integer (jansson's are signed 64-bit: clamped). */
json_t *tg_json_uint(uint64_t v);

/*
 * tg_json_set(), tg_json_append() - put @val (a new reference, or NULL
 * when making it failed) into *@obj or *@arr. The first failure drops
 * the whole object or array and leaves NULL there; later calls on it do
 * nothing, so a writer checks once, at the end (tg_json_write()).
 */
void tg_json_set(json_t **obj, const char *key, json_t *val);
void tg_json_append(json_t **arr, json_t *val);

/*
 * tg_json_write() - write @root to @f, indented, and drop the reference.
 * A NULL @root (a json_pack() that failed for want of memory) is an
 * error. Return: 0, or -1 when nothing or not all was written.
 */
int tg_json_write(json_t *root, FILE *f);

int tg_cmd_demo(int argc, char **argv);
void tg_help_demo(void);
int tg_cmd_stress(int argc, char **argv);
void tg_help_stress(void);
int tg_cmd_bench(int argc, char **argv);
void tg_help_bench(void);

#endif /* TG_CLI_H */
