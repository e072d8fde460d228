/*
 * cmd-live.c - `heapwise live`: the dashboard. `live PID` watches a
 * program that `heapwise run` traces (from another terminal: quitting
 * leaves the run as it was); `live [opts] -- PROG` is `run --live`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../report/profile/live-channel.h"
#include "builtin.h"
#include "live-ui.h"
#include "run.h"
#include "usage.h"

/* Is s a process id (digits only)? */
static int is_pid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Watch the run of pid until the user quits (or, --batch, it ends). */
static int watch(pid_t pid, const struct live_options *lv)
{
	char err[PROFILE_ERRLEN];
	struct tui *t;
	pid_t run_pid;
	int fd, ret;

	fd = live_connect(pid, &run_pid, err);
	if (fd < 0)
		return error("%s", err);
	if (lv->batch)
		return live_batch(fd, lv, stdout);
	if (tui_open(&t)) {
		close(fd);
		return 1;
	}
	ret = tui_run(t, fd, lv);
	tui_close(t);
	return ret;
}

int cmd_live(int argc, char **argv)
{
	struct run_options o;
	unsigned long long pid;
	int ret = run_parse_options(argc, argv, &o, 1), dashdash;

	if (ret)
		return ret < 0 ? 0 : ret;
	dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	if (optind >= argc) {
		error("no program to run and no PID to watch");
		return EXIT_USAGE;
	}
	if (!dashdash && optind == argc - 1 && is_pid(argv[optind])) {
		if (parse_number(argv[optind], 1, 0x7fffffff, &pid) < 0) {
			error("'%s' is not a process id", argv[optind]);
			return EXIT_USAGE;
		}
		if (o.launch_only) {
			error("the run options and --program-output apply when starting a program, "
			      "not when watching process %llu", pid);
			return EXIT_USAGE;
		}
		return watch((pid_t)pid, &o.lv);
	}
	return run_program(&o, argc - optind, argv + optind);
}
