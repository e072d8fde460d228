/*
 * cmd-export.c - `heapwise export FILE[@SNAP] --format F [-o OUT]`: a
 * profile in the formats other tools read (see export.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-fns.h"
#include "builtin.h"
#include "../report/analysis/site-names.h"
#include "../report/analysis/images.h"
#include "export.h"
#include "report-args.h"
#include "selector.h"
#include "out-format.h"
#include "usage.h"

static const char export_usage[] =
	"usage: heapwise export --format FORMAT [--value VALUE] [--timeline] [--program WHICH] [-o OUT] FILE[@SNAP]\n"
	"\n"
	"  -f, --format FORMAT  folded (flamegraph.pl, inferno, speedscope), svg (a flame graph),\n"
	"                       pprof (gzipped protobuf for go tool pprof), massif (ms_print,\n"
	"                       massif-visualizer), json or csv (every site, its numbers and frames)\n"
	"  -V, --value VALUE    folded and svg: live-bytes (default), live-blocks, allocated,\n"
	"                       allocations or leaked (definitely and indirectly lost bytes)\n"
	"  -t, --timeline       svg: heap and RSS over the run, the peak and snapshots marked\n"
	"  -o, --output OUT     write to OUT (default standard output)\n"
	"      --program WHICH  only what one program allocated, when an exec started others (a pyenv\n"
	"                       shim's bash, env): its number in the run's summary, or a pattern\n"
	"                       matched against its path (python3*); not with massif or --timeline,\n"
	"                       whose heap over time counts every program\n"
	"      --native         show the native frames of Python stacks too\n"
	"  -h, --help           show this help\n";

enum { OPT_NATIVE = 256, OPT_PROGRAM };

static const struct option export_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "value", required_argument, NULL, 'V' },
	{ "timeline", no_argument, NULL, 't' },
	{ "output", required_argument, NULL, 'o' },
	{ NATIVE_OPTION, no_argument, NULL, OPT_NATIVE },
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define EXPORT_FORMATS (OUT(OUT_JSON) | OUT(OUT_CSV) | OUT(OUT_FOLDED) | OUT(OUT_SVG) | OUT(OUT_PPROF) | \
			OUT(OUT_MASSIF))

static const struct { const char *name; enum stack_value value; } values[] = {
	{ "live-bytes", VALUE_LIVE_BYTES }, { "live-blocks", VALUE_LIVE_BLOCKS },
	{ "allocated", VALUE_ALLOCATED }, { "allocations", VALUE_ALLOCATIONS }, { "leaked", VALUE_LEAKED },
};

int export_stack_kept(const struct export_ctx *x, uint32_t stack)
{
	return images_picked(x->p, x->images, x->nimages, stack);
}

/* --program WHICH: the images it picks into x, as top and diff pick them;
 * 0, or the exit status after saying why not. */
static int pick_program(const struct profile *p, const char *which, const char *file, struct export_ctx *x)
{
	struct report_args r;
	struct group_options g;
	int ret;

	report_args_init(&r);
	r.program = which;
	ret = report_args_pick_program(&r, p, file, &g);
	x->images = g.images;
	x->nimages = g.nimages;
	return ret;
}

/* Long: the options in one switch, then each format's check in the
 * order the usage text gives them. */
int cmd_export(int argc, char **argv)
{
	struct export_ctx x = { .value = VALUE_LIVE_BYTES, .out = stdout };
	enum out_format format = OUT_TEXT;	/* none: text is no export format */
	const char *output = NULL, *program = NULL, *cmd;
	int opt, timeline = 0, value_given = 0, native = 0, ret;
	struct profile p;
	char title[1024], why[256];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:V:to:h", export_options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (out_format_parse(optarg, EXPORT_FORMATS, &format, why, sizeof(why)) < 0)
				return usage_error(export_usage, "%s", why);
			break;
		case 'V':
			value_given = 0;
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
				if (strcmp(optarg, values[i].name) == 0) {
					x.value = values[i].value;
					value_given = 1;
				}
			if (!value_given)
				return usage_error(export_usage, "--value takes live-bytes, live-blocks, allocated, "
						   "allocations or leaked, not '%s'", optarg);
			break;
		case 't':
			timeline = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_NATIVE:
			native = 1;
			break;
		case OPT_PROGRAM:
			if (!*optarg)
				return usage_error(export_usage, "--program takes a program's number or a pattern, not ''");
			program = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return 0;
		default:
			fputs(export_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error(export_usage, optind >= argc ? "no profile given" : "one profile at a time");
	if (format == OUT_TEXT)
		return usage_error(export_usage, "say which --format");
	if (value_given && format != OUT_FOLDED && format != OUT_SVG)
		return usage_error(export_usage, "--value applies to the folded and svg formats");
	if (timeline && format != OUT_SVG)
		return usage_error(export_usage, "--timeline applies to the svg format");
	if (program && (format == OUT_MASSIF || timeline))
		return usage_error(export_usage, "--program does not apply to %s: its heap over time counts every program",
				   timeline ? "--timeline" : "massif");
	if (selector_open(argv[optind], &p, &x.s, x.value == VALUE_LEAKED))
		return 1;
	if (!native)
		site_python_view(&p);
	x.p = &p;
	if (program && (ret = pick_program(&p, program, argv[optind], &x)) != 0)
		goto out;
	if (x.value == VALUE_LEAKED && !x.s->scan) {
		ret = error("snapshot '%s' has no reachability scan: --value leaked needs one",
			    profile_str(&p, x.s->name));
		goto out;
	}
	if (format == OUT_PPROF && !output && isatty(STDOUT_FILENO)) {
		ret = error("pprof is binary: give -o FILE or redirect standard output");
		goto out;
	}
	if (output) {
		/* private, as the profile it comes from (0600 when created) */
		int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || !(x.out = fdopen(fd, "w"))) {
			ret = error("cannot write '%s': %m", output);
			if (fd >= 0)
				close(fd);
			goto out;
		}
	}
	cmd = profile_get_meta(&p, "command");
	if (timeline)	/* the whole run, not a snapshot */
		snprintf(title, sizeof(title), "%s: heap and RSS over the run", cmd ? cmd : "heapwise");
	else
		snprintf(title, sizeof(title), "%s: %s of snapshot %s", cmd ? cmd : "heapwise",
			 stack_value_name(x.value), profile_str(&p, x.s->name));
	switch (format) {
	case OUT_FOLDED: ret = export_folded(&x); break;
	case OUT_SVG: ret = timeline ? export_timeline(&x, title) : export_flamegraph(&x, title); break;
	case OUT_PPROF: ret = export_pprof(&x); break;
	case OUT_MASSIF: ret = export_massif(&x); break;
	case OUT_JSON: ret = export_json(&x); break;
	case OUT_CSV: ret = export_csv(&x); break;
	default: ret = -EINVAL; break;
	}
	if (fflush(x.out) != 0 || ferror(x.out))
		ret = ret < 0 ? ret : -EIO;
	if (output && fclose(x.out) != 0 && ret == 0)
		ret = -EIO;
	ret = ret < 0 ? error("cannot export '%s': %s", argv[optind], strerror(-ret)) : 0;
out:
	free((void *)x.images);
	profile_release(&p);
	return ret;
}
