/*
 * main.c - `heapwise COMMAND [OPTIONS]`: find the command and run it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "usage.h"

#ifndef HEAPWISE_VERSION
#define HEAPWISE_VERSION "0.1"
#endif

struct cmd_struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
};

static const struct cmd_struct commands[] = {
	{ "run", cmd_run, "run a program and trace its heap" },
	{ "live", cmd_live, "a live dashboard over a traced program (or --batch text)" },
	{ "stats", cmd_stats, "show the totals and snapshots of a profile" },
	{ "diff", cmd_diff, "compare two snapshots; gate CI on the change" },
	{ "snapshot", cmd_snapshot, "take a snapshot of a running traced program now" },
	{ "top", cmd_top, "where a snapshot's memory is, by line, function, file or traceback" },
	{ "leaks", cmd_leaks, "what leaked: memcheck's kinds, owners and cycles, from a scan" },
	{ "refs", cmd_refs, "who points at a block, the chain from a root, a graph for dot" },
	{ "export", cmd_export, "flame graphs, pprof, massif, folded stacks, JSON, CSV" },
};

static const char main_usage[] =
	"usage: heapwise COMMAND [OPTIONS] [ARGS]\n"
	"       heapwise help COMMAND\n"
	"       heapwise --version\n";

static void list_commands(FILE *out)
{
	fprintf(out, "%s\ncommands:\n", main_usage);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "   %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nSee 'heapwise help COMMAND' or man heapwise-COMMAND.\n");
}

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int run_command(const struct cmd_struct *cmd, int argc, char **argv)
{
	int status = cmd->fn(argc, argv);

	/* output that could not be written is an error, as in perf's run_builtin */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			return error("cannot write output: %s", strerror(errno));
		return 1;
	}
	return status;
}

#define MMAP_THRESHOLD	(128 * 1024)

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;

	/*
	 * Big tables (the live set, the blocks freed since the peak) are
	 * mmapped and go back to the system when freed: a fixed threshold
	 * stops glibc from raising it after the first big free, which would
	 * keep later ones in the heap, resident after they are freed.
	 */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (argc < 2) {
		list_commands(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		list_commands(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("heapwise %s\n", HEAPWISE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		char *help_argv[] = { argv[2], "--help", NULL };

		if (argc < 3) {
			list_commands(stdout);
			return 0;
		}
		cmd = find_command(argv[2]);
		if (!cmd)
			return usage_error(main_usage, "'%s' is not a heapwise command", argv[2]);
		return run_command(cmd, 2, help_argv);
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		error("'%s' is not a heapwise command", argv[1]);
		list_commands(stderr);
		return EXIT_USAGE;
	}
	return run_command(cmd, argc - 1, argv + 1);
}
