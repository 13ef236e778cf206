// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate - command line front end of the hosted platform.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0"
#endif

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

int tg_cli_next_opt(const char *cmd, const struct tg_cli_opt *opts, int argc,
		    char **argv, int *i, const char **val)
{
	const char *arg = argv[*i], *eq;
	size_t len;
	int k;

	*val = NULL;
	if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
		return TG_CLI_HELP;
	if (strncmp(arg, "--", 2)) {
		tg_cli_usage_error("%s: unexpected argument '%s' (try 'teegate help %s')",
				   cmd, arg, cmd);
		return TG_CLI_ERROR;
	}
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	for (k = 0; opts[k].name; k++)
		if (strlen(opts[k].name) == len &&
		    !strncmp(opts[k].name, arg, len))
			break;
	if (!opts[k].name) {
		tg_cli_usage_error("%s: unknown option '%.*s' (try 'teegate help %s')",
				   cmd, (int)len, arg, cmd);
		return TG_CLI_ERROR;
	}
	if (eq) {
		if (opts[k].arg == TG_OPT_FLAG) {
			tg_cli_usage_error("%s: %s takes no value", cmd,
					   opts[k].name);
			return TG_CLI_ERROR;
		}
		*val = eq + 1;
	} else if (opts[k].arg == TG_OPT_VALUE) {
		if (*i + 1 >= argc) {
			tg_cli_usage_error("%s: %s needs a value", cmd,
					   opts[k].name);
			return TG_CLI_ERROR;
		}
		*val = argv[++*i];
	} else if (opts[k].arg == TG_OPT_OPTIONAL && *i + 1 < argc &&
		   strncmp(argv[*i + 1], "--", 2)) {
		*val = argv[++*i];
	}
	return k;
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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: teegate <command> [options]\n"
		"\n"
		"teegate lets several virtual machines share one OP-TEE. This tool runs\n"
		"its hosted platform: a hypervisor in a Linux process, guests in their\n"
		"own processes, the teegate mediator and an OP-TEE model.\n"
		"\n"
		"Commands:\n"
		"  demo          run guests and a hostile guest against one TEE, show a\n"
		"                live table, then check that nothing leaked\n"
		"  stress        random workloads, guest kills and balloon churn;\n"
		"                check that nothing got through and nothing leaked\n"
		"  bench         the isolation modes side by side: latency and\n"
		"                throughput per operation, table, JSON, plot\n"
		"  help [CMD]    show this help, or the manual of CMD\n"
		"  version       print the version\n"
		"\n"
		"Options:\n"
		"  -h, --help    show this help\n"
		"  --version     print the version\n"
		"\n"
		"Run 'teegate help demo' for the demo's manual.\n");
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return tg_cli_usage_error("no command given (try 'teegate --help')");
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return TG_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		if (argc > 2)
			return tg_cli_usage_error("version: no arguments expected");
		printf("teegate %s\n", TG_VERSION);
		return TG_EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		if (argc == 2) {
			usage(stdout);
			return TG_EXIT_OK;
		}
		if (argc == 3 && !strcmp(argv[2], "demo")) {
			tg_help_demo();
			return TG_EXIT_OK;
		}
		if (argc == 3 && !strcmp(argv[2], "bench")) {
			tg_help_bench();
			return TG_EXIT_OK;
		}
		if (argc == 3 && !strcmp(argv[2], "stress")) {
			tg_help_stress();
			return TG_EXIT_OK;
		}
		if (argc == 3 && !strcmp(argv[2], "help")) {
			usage(stdout);
			return TG_EXIT_OK;
		}
		return tg_cli_usage_error("help: no manual for '%s' (try 'teegate help')",
					  argv[2]);
	}
	if (!strcmp(cmd, "demo"))
		return tg_cmd_demo(argc - 1, argv + 1);
	if (!strcmp(cmd, "stress"))
		return tg_cmd_stress(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return tg_cmd_bench(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return tg_cli_usage_error("unknown option '%s' (try 'teegate --help')",
					  cmd);
	return tg_cli_usage_error("unknown command '%s' (try 'teegate --help')",
				  cmd);
}
