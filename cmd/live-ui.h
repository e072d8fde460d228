/*
 * live-ui.h - the two faces of `heapwise live`: the ncurses dashboard
 * (tui.c, drawing in tui-draw.c) and the --batch text (live-batch.c). Both
 * talk to a run through the channel of report/profile/live-channel.h and
 * show a live-model.
 */
#ifndef HEAPWISE_LIVE_UI_H
#define HEAPWISE_LIVE_UI_H

#include <stdint.h>
#include <stdio.h>

#include "alloc-fns.h"
#include "live-model.h"

struct live_options {
	uint64_t delay_ns;		/* refresh period */
	int batch;			/* text every delay instead of the dashboard */
	unsigned count;			/* --batch: tables to print, 0 = until the run ends */
	unsigned rows;			/* --batch: sites per table */
	enum group_by by;		/* first grouping */
	enum live_sort sort;		/* first sort key */
	const char *program_output;	/* where the launched program's output goes */
	int launched;			/* the dashboard started the program: the mark is its start */
	struct alloc_fns alloc_fns;	/* --alloc-fn: for the sites shown (and, run, the profile's) */
};

#define LIVE_OPTIONS_INIT { 1000000000ull, 0, 0, 20, GROUP_LINENO, LIVE_SORT_BYTES, NULL, 0, { NULL, 0, 0 } }

/* The options' help lines, for `run` and `live`. */
#define LIVE_OPTIONS_HELP \
	"      --delay SECS           refresh every SECS seconds (0.05-3600, default 1)\n" \
	"      --batch                print the table as text every --delay, no dashboard\n" \
	"      --count N              --batch: stop after N tables (default: until the program ends)\n" \
	"      --rows N               --batch: sites per table (default 20)\n" \
	"      --by KIND              group by lineno (default), function, file, module, traceback,\n" \
	"                             or type (a Python program's objects, as its last scan found them)\n" \
	"      --sort KEY             sort by bytes (default), blocks, rate, growth or allocated\n" \
	"      --program-output FILE  send the program's output there (default: its terminal\n" \
	"                             output goes to heapwise.PROGRAM.PID.out with the dashboard)\n"

struct tui;

/* Take the terminal (/dev/tty) for the dashboard. Returns 0, or 1 after
 * saying why not. The screen is not touched until tui_run. */
int tui_open(struct tui **out);

/*
 * Show the dashboard over channel fd until the user quits; closes fd.
 * Returns 0, or 1 after an error.
 */
int tui_run(struct tui *t, int fd, const struct live_options *o);

/* Give the terminal back. */
void tui_close(struct tui *t);

/* --batch: print a table to out every delay until the run ends (or count
 * tables). Closes fd. Returns 0, or 1 after an error. */
int live_batch(int fd, const struct live_options *o, FILE *out);

#endif
