/*
 * run-options.c - the options of a traced launch (`heapwise run`) and of
 * the dashboard (`heapwise live`, or `run --live`): run takes the
 * dashboard's only with --live, live takes the launch's only when it
 * starts a program.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/leaks.h"
#include "../report/util/format.h"
#include "report-args.h"
#include "run.h"
#include "usage.h"

#define RUN_OPTIONS_HELP \
	"  -o, --output FILE          write the profile to FILE (default heapwise.PROGRAM.PID.hws)\n" \
	"  -s, --snapshot-every SECS  take a snapshot every SECS seconds (0.01-86400; also on\n" \
	"                             `heapwise snapshot PID`, and always at the peak and exit)\n" \
	"  -d, --max-depth N          keep at most N frames per stack (1-256, default 256)\n" \
	"  -i, --interval MS          sample heap and RSS every MS milliseconds (1-60000, default 10)\n" \
	"  -t, --temporary-threshold N\n" \
	"                             count a block as temporary when it is freed with at most\n" \
	"                             N other allocations in between (default 1)\n" \
	"  -n, --top N                list N sites in the summary (default 5, 0 for none)\n" \
	"      --sample-rate BYTES    record one allocation per BYTES allocated on average (e.g.\n" \
	"                             512KiB), each with probability by its size; reports show\n" \
	"                             estimates, marked ~ (default 0: record every allocation)\n" \
	"      --no-scan              do not scan the heap for leaks when the program exits\n" \
	"      --follow-fork          trace the processes it forks too (and what they exec), each\n" \
	"                             into a profile of its own, FILE.PID beside FILE\n" \
	"      --error-exitcode N     exit with N (1-255) when the exit scan finds leaks\n" \
	"      --errors-for-leak-kinds KINDS\n" \
	"                             the leaks that count for --error-exitcode: definite,\n" \
	"                             indirect, possible, reachable or all (default definite,possible)\n" \
	"  -q, --quiet                print no summary, only errors\n" \
	"      --alloc-fn NAME        treat NAME (a pattern) as an allocator wrapper: charge its\n" \
	"                             blocks to its caller, in the summary, the profile and the\n" \
	"                             dashboards; repeatable\n" \
	"      --python=on|off        Python programs: trace the interpreter's own allocator and\n" \
	"                             record Python frames (on, the default), or trace them as\n" \
	"                             native code only (off)\n" \
	"      --native               Python programs: record the native frames of the\n" \
	"                             interpreter's own allocations too (slower), and show them\n" \
	"                             in the dashboards\n"

static const char run_usage[] =
	"usage: heapwise run [-o FILE] [-s SECS] [-d N] [-i MS] [-t N] [-n N] [-q] [--sample-rate BYTES] [--no-scan] [--follow-fork] [--error-exitcode N] [--live [live options]] [--] PROGRAM [ARGS...]\n"
	"\n"
	RUN_OPTIONS_HELP
	"      --live                 show the live dashboard (heapwise-live(1)) while it runs; with:\n"
	LIVE_OPTIONS_HELP
	"  -h, --help                 show this help\n";

static const char live_usage[] =
	"usage: heapwise live [live options] [run options] [--] PROGRAM [ARGS...]\n"
	"   or: heapwise live [live options] PID\n"
	"\n"
	"Live options:\n"
	LIVE_OPTIONS_HELP
	"\n"
	"Run options, when starting PROGRAM (see heapwise-run(1)):\n"
	RUN_OPTIONS_HELP
	"  -h, --help                 show this help\n";

enum {
	OPT_NO_SCAN = 256, OPT_ERROR_EXITCODE, OPT_ERRORS_FOR, OPT_FOLLOW_FORK, OPT_PYTHON, OPT_SAMPLE_RATE, OPT_LIVE, OPT_DELAY, OPT_BATCH,
	OPT_COUNT, OPT_ROWS, OPT_BY, OPT_SORT, OPT_PROGRAM_OUTPUT, OPT_ALLOC_FN, OPT_NATIVE,
};

static const struct option run_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "snapshot-every", required_argument, NULL, 's' },
	{ "max-depth", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "temporary-threshold", required_argument, NULL, 't' },
	{ "top", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-scan", no_argument, NULL, OPT_NO_SCAN },
	{ "follow-fork", no_argument, NULL, OPT_FOLLOW_FORK },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "errors-for-leak-kinds", required_argument, NULL, OPT_ERRORS_FOR },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "batch", no_argument, NULL, OPT_BATCH },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "by", required_argument, NULL, OPT_BY },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "program-output", required_argument, NULL, OPT_PROGRAM_OUTPUT },
	{ ALLOC_FN_OPTION, required_argument, NULL, OPT_ALLOC_FN },
	{ NATIVE_OPTION, no_argument, NULL, OPT_NATIVE },
	{ "python", required_argument, NULL, OPT_PYTHON },
	{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};


/* One of the dashboard's options; 0, EXIT_USAGE after saying what is
 * wrong, or 1 when opt is none of them. */
static int parse_live_option(struct run_options *o, const char *usage, int opt, const char *arg)
{
	unsigned long long v;

	switch (opt) {
	case OPT_DELAY: {
		char *end;
		double secs = strtod(arg, &end);

		if (end == arg || *end || !(secs >= 0.05 && secs <= 3600))
			return usage_error(usage, "--delay takes seconds from 0.05 to 3600, not '%s'", arg);
		o->lv.delay_ns = (uint64_t)(secs * 1e9);
		break;
	}
	case OPT_BATCH:
		o->lv.batch = 1;
		break;
	case OPT_COUNT:
		if (parse_number(arg, 1, 1000000000, &v) < 0)
			return usage_error(usage, "--count takes a number from 1, not '%s'", arg);
		o->lv.count = (unsigned)v;
		break;
	case OPT_ROWS:
		if (parse_number(arg, 1, 1000000, &v) < 0)
			return usage_error(usage, "--rows takes a number from 1, not '%s'", arg);
		o->lv.rows = (unsigned)v;
		break;
	case OPT_BY: {
		int found = 0;

		for (int k = GROUP_LINENO; k <= GROUP_TYPE; k++)
			if (!strcmp(arg, report_group_name(k))) {
				o->lv.by = k;
				found = 1;
			}
		if (!found)
			return usage_error(usage, "--by takes lineno, function, file, module, traceback or type, "
					   "not '%s'", arg);
		break;
	}
	case OPT_SORT: {
		int k = live_sort_parse(arg);

		if (k < 0)
			return usage_error(usage, "--sort takes bytes, blocks, rate, growth or allocated, not '%s'",
					   arg);
		o->lv.sort = k;
		break;
	}
	case OPT_PROGRAM_OUTPUT:
		o->lv.program_output = arg;
		o->launch_only = 1;
		break;
	default:
		return 1;
	}
	return 0;
}

/* Long: one case per option of the launch, in the usage text's order (the
 * dashboard's are parse_live_option's). */
int run_parse_options(int argc, char **argv, struct run_options *o, int live_cmd)
{
	const char *usage = live_cmd ? live_usage : run_usage;
	unsigned long long v;
	int opt, ret;

	memset(o, 0, sizeof(*o));
	o->collect = (struct collector_options)COLLECTOR_OPTIONS_INIT;
	o->collect.count_kinds = leaks_count;
	o->top = 5;
	o->error_kinds = (1u << LEAK_DEFINITE) | (1u << LEAK_POSSIBLE);
	o->live = live_cmd;
	o->lv = (struct live_options)LIVE_OPTIONS_INIT;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:s:d:i:t:n:qh", run_options, NULL)) != -1) {
		if (opt == OPT_ALLOC_FN) {
			/* the run's and every dashboard's */
			if ((ret = alloc_fns_add(&o->lv.alloc_fns, optarg)) != 0)
				return ret;
			continue;
		}
		if (opt == OPT_NATIVE) {
			o->lv.alloc_fns.native = 1;
			o->collect.python_native = 1;
			continue;
		}
		if (opt != 'h' && opt != '?' && opt < OPT_LIVE)
			o->launch_only = 1;
		if (opt > OPT_LIVE) {
			o->dashboard_options++;
			if ((ret = parse_live_option(o, usage, opt, optarg)) != 0)
				return ret;
			continue;
		}
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case 's': {
			char *end;
			double secs = strtod(optarg, &end);

			if (end == optarg || *end || !(secs >= 0.01 && secs <= 86400))
				return usage_error(usage, "--snapshot-every takes seconds from 0.01 to 86400, not '%s'",
						   optarg);
			o->collect.snapshot_every_ns = (uint64_t)(secs * 1e9);
			break;
		}
		case 'd':
			if (parse_number(optarg, 1, COLLECTOR_MAX_DEPTH, &v) < 0)
				return usage_error(usage, "--max-depth takes a number from 1 to %d, not '%s'",
						   COLLECTOR_MAX_DEPTH, optarg);
			o->collect.max_depth = (unsigned)v;
			break;
		case 'i':
			if (parse_number(optarg, 1, 60000, &v) < 0)
				return usage_error(usage, "--interval takes milliseconds from 1 to 60000, not '%s'", optarg);
			o->collect.sample_interval_ns = v * 1000000ull;
			break;
		case 't':
			if (parse_number(optarg, 0, 1000000, &v) < 0)
				return usage_error(usage, "--temporary-threshold takes a number from 0 to 1000000, not '%s'", optarg);
			o->collect.temporary_threshold = (unsigned)v;
			break;
		case 'n':
			if (parse_number(optarg, 0, 1000000, &v) < 0)
				return usage_error(usage, "--top takes a number, not '%s'", optarg);
			o->top = (unsigned)v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_NO_SCAN:
			o->collect.scan_at_exit = 0;
			break;
		case OPT_FOLLOW_FORK:
			o->follow_fork = 1;
			break;
		case OPT_SAMPLE_RATE: {
			char why[128];
			int64_t bytes;

			if (format_parse_bytes(optarg, &bytes, why, sizeof(why)) < 0 || bytes < 0 ||
			    (uint64_t)bytes > PROFILE_MAX_SAMPLE_RATE)
				return usage_error(usage, "--sample-rate takes bytes from 0 to 1 TiB (as 512KiB), "
						   "not '%s'", optarg);
			o->collect.sample_rate = (uint64_t)bytes;
			break;
		}
		case OPT_PYTHON:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return usage_error(usage, "--python takes on or off, not '%s'", optarg);
			o->collect.python_off = strcmp(optarg, "off") == 0;
			break;
		case OPT_ERROR_EXITCODE:
			if (parse_number(optarg, 1, 255, &v) < 0)
				return usage_error(usage, "--error-exitcode takes a number from 1 to 255, not '%s'",
						   optarg);
			o->error_exitcode = (int)v;
			break;
		case OPT_ERRORS_FOR: {
			const char *bad;
			size_t badlen;

			if (leak_kinds_parse(optarg, &o->error_kinds, &bad, &badlen) < 0)
				return usage_error(usage, "--errors-for-leak-kinds takes definite, indirect, "
						   "possible, reachable or all, comma-separated, not '%s'", optarg);
			break;
		}
		case OPT_LIVE:
			o->live = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc && !live_cmd)
		return usage_error(usage, "no program to run");
	if (o->error_exitcode && !o->collect.scan_at_exit)
		return usage_error(usage, "--error-exitcode needs the exit scan: drop --no-scan");
	if (!o->live && o->dashboard_options)
		return usage_error(usage, "--delay, --batch, --count, --rows, --by, --sort and --program-output "
				   "go with --live");
	if (o->lv.count && !o->lv.batch)
		return usage_error(usage, "--count goes with --batch");
	return 0;
}

