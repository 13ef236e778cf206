// SPDX-License-Identifier: BSD-2-Clause
/*
 * teegate - command line front end of the hosted platform.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0"
#endif

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
		"Run 'teegate help CMD' or 'teegate CMD --help' for the manual of a\n"
		"command; start with 'teegate help demo'. Options are written in full,\n"
		"before any other word, and a value follows as the next word or after\n"
		"'=': '--guests 8' and '--guests=8' are the same.\n");
}

/* The commands that are only text: help [CMD], version. */
static int cmd_help(int argc, char **argv)
{
	static const struct option opts[] = { TG_CLI_OPT_HELP, { 0 } };
	struct tg_cli cli;
	const char *topic;
	int c, at;

	tg_cli_init(&cli, "help", opts, argc, argv);
	cli.operands = true;
	while ((c = tg_cli_next(&cli)) != TG_CLI_END) {
		if (c == TG_CLI_ERROR)
			return TG_EXIT_USAGE;
		usage(stdout); /* -h, --help */
		return TG_EXIT_OK;
	}
	at = tg_cli_operand(&cli);
	if (at == argc) {
		usage(stdout);
		return TG_EXIT_OK;
	}
	if (at + 1 < argc)
		return tg_cli_usage_error("help: one command at most, got '%s' too (try 'teegate help')",
					  argv[at + 1]);
	topic = argv[at];
	if (!strcmp(topic, "demo"))
		tg_help_demo();
	else if (!strcmp(topic, "stress"))
		tg_help_stress();
	else if (!strcmp(topic, "bench"))
		tg_help_bench();
	else if (!strcmp(topic, "help") || !strcmp(topic, "version"))
		usage(stdout);
	else
		return tg_cli_usage_error("help: no manual for '%s' (try 'teegate help')",
					  topic);
	return TG_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = { TG_CLI_OPT_HELP, { 0 } };
	struct tg_cli cli;
	int c;

	tg_cli_init(&cli, "version", opts, argc, argv);
	cli.operands = true;
	while ((c = tg_cli_next(&cli)) != TG_CLI_END) {
		if (c == TG_CLI_ERROR)
			return TG_EXIT_USAGE;
		usage(stdout);
		return TG_EXIT_OK;
	}
	if (tg_cli_operand(&cli) < argc)
		return tg_cli_usage_error("version: no arguments expected");
	printf("teegate %s\n", TG_VERSION);
	return TG_EXIT_OK;
}

enum { OPT_VERSION = TG_CLI_OPT_FIRST };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, OPT_VERSION },
		TG_CLI_OPT_HELP,
		{ 0 },
	};
	struct tg_cli cli;
	const char *cmd;
	int c, at;

	/* teegate's own options, up to the command */
	tg_cli_init(&cli, NULL, opts, argc, argv);
	cli.operands = true;
	while ((c = tg_cli_next(&cli)) != TG_CLI_END) {
		switch (c) {
		case TG_CLI_HELP:
			usage(stdout);
			return TG_EXIT_OK;
		case OPT_VERSION: /* the version command, under its other name */
			at = tg_cli_operand(&cli);
			return cmd_version(argc - at + 1, argv + at - 1);
		default:
			return TG_EXIT_USAGE;
		}
	}
	at = tg_cli_operand(&cli);
	if (at == argc)
		return tg_cli_usage_error("no command given (try 'teegate --help')");
	cmd = argv[at];
	argc -= at;
	argv += at;
	if (!strcmp(cmd, "demo"))
		return tg_cmd_demo(argc, argv);
	if (!strcmp(cmd, "stress"))
		return tg_cmd_stress(argc, argv);
	if (!strcmp(cmd, "bench"))
		return tg_cmd_bench(argc, argv);
	if (!strcmp(cmd, "help"))
		return cmd_help(argc, argv);
	if (!strcmp(cmd, "version"))
		return cmd_version(argc, argv);
	return tg_cli_usage_error("unknown command '%s' (try 'teegate --help')",
				  cmd);
}
