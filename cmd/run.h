/*
 * run.h - what `heapwise run` and `heapwise live -- PROG` share: the
 * options of a traced launch (run-options.c) and the launch itself
 * (cmd-run.c).
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
	int follow_fork;		/* trace forked children too, each into FILE.PID */
	int error_exitcode;		/* 0: the program's own status */
	unsigned error_kinds;		/* 1 << enum leak_kind */
	int live;			/* show the dashboard (--live, or `heapwise live`) */
	struct live_options lv;		/* its options */
	int launch_only;		/* an option that only a launch takes was given */
	int dashboard_options;		/* options of the dashboard's were given */
};

/*
 * Parse the options of `heapwise run` (live_cmd clear: the dashboard's only
 * with --live) or `heapwise live` (live_cmd set: the dashboard on; the
 * caller refuses launch options when it watches a PID). Returns 0 with
 * optind at the program, -1 after --help, or EXIT_USAGE. With live_cmd a
 * missing program is not an error (the caller looks for a PID).
 */
int run_parse_options(int argc, char **argv, struct run_options *o, int live_cmd);

/* Say once that the program (pid) corrupted c's shared memory. */
void run_say_corrupted(const struct collector *c, pid_t pid);

/* Trace argv[0] with o; returns the exit status. */
int run_program(struct run_options *o, int argc, char **argv);

#endif
