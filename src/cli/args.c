// SPDX-License-Identifier: BSD-2-Clause
/*
 * The command line of every teegate command, read with getopt_long(3).
 *
 * getopt_long does the reading; this file adds what the commands promise
 * beyond it, the same for each command:
 * - options come before operands, whatever POSIXLY_CORRECT says ('+');
 * - an option's name is written out in full: "--gue" is no "--guests".
 *   A prefix that is unique today would become ambiguous, and break a
 *   script, the day an option is added;
 * - an optional value may also be the next word, when that word is no
 *   long option: "--chaos 2" as well as "--chaos=2";
 * - every mistake is one line in teegate's own words (opterr = 0), and
 *   the caller exits with TG_EXIT_USAGE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *tg_cli_prog = "teegate";

int tg_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tg_cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return TG_EXIT_USAGE;
}

bool tg_cli_parse_u32(const char *opt, const char *s, uint32_t min,
		      uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (uint32_t)v;
	return true;
bad:
	tg_cli_usage_error("%s: expected a number from %u to %u, got '%s'",
			   opt, min, max, s ? s : "");
	return false;
}

void tg_cli_init(struct tg_cli *cli, const char *cmd,
		 const struct option *opts, int argc, char **argv)
{
	memset(cli, 0, sizeof(*cli));
	cli->cmd = cmd;
	cli->opts = opts;
	cli->argc = argc;
	cli->argv = argv;
	optind = 0; /* glibc: start afresh, read the '+' again */
	opterr = 0;
}

/* "--name" or "--name=V": the length of "--name". */
static size_t long_name_len(const char *arg)
{
	return strcspn(arg, "=");
}

static const struct option *find_long(const struct tg_cli *cli,
				      const char *arg)
{
	size_t len = long_name_len(arg) - 2;
	const struct option *o;

	for (o = cli->opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, arg + 2, len))
			return o;
	return NULL;
}

static const struct option *find_val(const struct tg_cli *cli, int val)
{
	const struct option *o;

	for (o = cli->opts; o->name; o++)
		if (o->val == val)
			return o;
	return NULL;
}

static const char *needs_what(const struct tg_cli *cli, int val)
{
	const struct tg_cli_needs *n;

	for (n = cli->needs; n && n->what; n++)
		if (n->val == val)
			return n->what;
	return "a value";
}

static int bad_word(const struct tg_cli *cli, const char *arg)
{
	if (!cli->cmd)
		tg_cli_usage_error("unknown option '%s' (try 'teegate --help')",
				   arg);
	else
		tg_cli_usage_error("%s: unexpected argument '%s' (try 'teegate help %s')",
				   cli->cmd, arg, cli->cmd);
	return TG_CLI_ERROR;
}

static int unknown_long(const struct tg_cli *cli, const char *arg)
{
	int len = (int)long_name_len(arg);

	if (!cli->cmd)
		tg_cli_usage_error("unknown option '%.*s' (try 'teegate --help')",
				   len, arg);
	else
		tg_cli_usage_error("%s: unknown option '%.*s' (try 'teegate help %s')",
				   cli->cmd, len, arg, cli->cmd);
	return TG_CLI_ERROR;
}

/* "demo: " before a message, nothing for teegate's own options. */
static const char *prefix(const struct tg_cli *cli, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", cli->cmd ? cli->cmd : "",
		 cli->cmd ? ": " : "");
	return buf;
}

int tg_cli_next(struct tg_cli *cli)
{
	char pre[32];
	const struct option *o;
	const char *arg;
	int at, c;

	cli->val = NULL;
	at = optind ? optind : 1; /* the word getopt_long reads now */
	arg = at < cli->argc ? cli->argv[at] : NULL;
	/* full names only: getopt_long would take any unique prefix */
	if (arg && !strncmp(arg, "--", 2) && arg[2] && !find_long(cli, arg))
		return unknown_long(cli, arg);

	c = getopt_long(cli->argc, cli->argv, "+:h", cli->opts, NULL);
	switch (c) {
	case -1:
		if (optind < cli->argc && !cli->operands)
			return bad_word(cli, cli->argv[optind]);
		return TG_CLI_END;
	case 'h':
		return TG_CLI_HELP;
	case ':': /* a required value is missing */
		o = find_val(cli, optopt);
		tg_cli_usage_error("%s--%s needs %s", prefix(cli, pre, sizeof(pre)),
				   o ? o->name : "?", needs_what(cli, optopt));
		return TG_CLI_ERROR;
	case '?':
		/* "--flag=V", or a short option other than -h */
		if (arg && !strncmp(arg, "--", 2) && optopt) {
			tg_cli_usage_error("%s%.*s takes no value",
					   prefix(cli, pre, sizeof(pre)),
					   (int)long_name_len(arg), arg);
			return TG_CLI_ERROR;
		}
		return bad_word(cli, arg ? arg : "?");
	default:
		break;
	}
	cli->val = optarg;
	o = find_val(cli, c);
	/* an optional value may be the next word, unless that is an option */
	if (o && o->has_arg == optional_argument && !optarg &&
	    optind < cli->argc && strncmp(cli->argv[optind], "--", 2))
		cli->val = cli->argv[optind++];
	return c;
}

int tg_cli_operand(const struct tg_cli *cli)
{
	return optind < cli->argc ? optind : cli->argc;
}
