/*
 * run.h - what `heapwise run` and `heapwise live -- PROG` share: the
 * options of a traced launch and the launch itself (cmd-run.c).
 */
#ifndef HEAPWISE_RUN_H
#define HEAPWISE_RUN_H

#include "../report/collect/collector.h"
#include "live-ui.h"

struct run_options {
	const char *output;
	struct collector_options collect;
	unsigned top;
	int quiet;
	int error_exitcode;		/* 0: the program's own status */
	unsigned error_kinds;		/* 1 << enum leak_kind */
	int live;			/* show the dashboard (--live, or `heapwise live`) */
	struct live_options lv;		/* its options */
	int launch_only;		/* an option that only a launch takes was given */
};

/*
 * Parse the options of `heapwise run` (live_cmd clear) or `heapwise live`
 * (live_cmd set: the same ones, and the dashboard on). Returns 0 with
 * optind at the program, -1 after --help, or EXIT_USAGE. With live_cmd a
 * missing program is not an error (the caller looks for a PID).
 */
int run_parse_options(int argc, char **argv, struct run_options *o, int live_cmd);

/* Trace argv[0] with o; returns the exit status. */
int run_program(struct run_options *o, int argc, char **argv);

#endif
