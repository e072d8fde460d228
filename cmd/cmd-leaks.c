/*
 * cmd-leaks.c - `heapwise leaks FILE[@SNAP]`: what a scanned snapshot
 * lost, in memcheck's kinds and memcheck's shape, with the indirect leaks
 * folded under the block that owns them and leaked cycles shown whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/site-names.h"
#include "../report/util/json.h"
#include "alloc-fns.h"
#include "builtin.h"
#include "leak-report.h"
#include "selector.h"
#include "../report/analysis/suppress.h"
#include "usage.h"

static const char leaks_usage[] =
	"usage: heapwise leaks [--kinds KINDS] [--suppressions FILE] [--fail-on KINDS] [-n N] "
	"[--depth N] [--format FORMAT] FILE[@SNAP]\n"
	"\n"
	"  -k, --kinds KINDS          loss records to list: definite, indirect, possible, reachable\n"
	"                             or all, comma-separated (default definite,possible)\n"
	"  -s, --suppressions FILE    LeakSanitizer suppressions (leak:PATTERN); repeatable\n"
	"      --fail-on KINDS        exit with status 3 when any block of these kinds is lost\n"
	"                             and not suppressed\n"
	"  -n, --limit N              list at most N loss records (default 0: all)\n"
	"  -d, --depth N              frames per loss record (default 12, 0 for all)\n"
	"      --alloc-fn NAME        treat NAME (a pattern) as an allocator wrapper: charge its\n"
	"                             blocks to its caller; repeatable\n"
	"      --native               show the native frames of Python stacks too\n"
	"  -f, --format FORMAT        text (default), json or markdown\n"
	"  -h, --help                 show this help\n";

enum { OPT_FAIL_ON = 300, OPT_ALLOC_FN, OPT_NATIVE };

static const struct option leaks_options[] = {
	{ "kinds", required_argument, NULL, 'k' },
	{ "suppressions", required_argument, NULL, 's' },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "limit", required_argument, NULL, 'n' },
	{ "depth", required_argument, NULL, 'd' },
	{ ALLOC_FN_OPTION, required_argument, NULL, OPT_ALLOC_FN },
	{ NATIVE_OPTION, no_argument, NULL, OPT_NATIVE },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_kinds(const char *option, const char *arg, unsigned *mask)
{
	const char *bad = arg;
	size_t badlen = strlen(arg);

	if (leak_kinds_parse(arg, mask, &bad, &badlen) < 0)
		return usage_error(leaks_usage, "%s takes definite, indirect, possible, reachable or all, "
				   "comma-separated, not '%.*s'", option, (int)badlen, bad);
	return 0;
}

/* Add the leak: lines of a LeakSanitizer suppression file. Returns 0, or
 * EXIT_ERROR after saying what is wrong. */
static int load_suppressions(struct suppressions *s, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, err[PROFILE_ERRLEN];
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = 0;

	if (!f)
		return error("cannot read suppressions '%s': %s", path, strerror(errno));
	while (ret == 0 && getline(&line, &cap, f) > 0) {
		lineno++;
		if (suppressions_add_line(s, line, err) < 0)
			ret = error("%s:%u: %s", path, lineno, err);
	}
	free(line);
	fclose(f);
	return ret;
}

static int is_suppressed(uint32_t stack, void *arg)
{
	const struct leak_report *r = arg;

	return suppressions_match(r->suppressions, r->p, stack);
}

/* The options, into r, supp (the files loaded), fail_on and af: 0, -1 after
 * --help, or the exit status after saying what is wrong. */
static int parse_options(int argc, char **argv, struct leak_report *r, struct suppressions *supp,
			 unsigned *fail_on, struct alloc_fns *af)
{
	unsigned long long v;
	char why[256];
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "k:s:n:d:f:h", leaks_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if ((ret = parse_kinds("--kinds", optarg, &r->kinds)))
				return ret;
			break;
		case 's':
			if ((ret = load_suppressions(supp, optarg)))
				return ret;
			break;
		case OPT_FAIL_ON:
			if ((ret = parse_kinds("--fail-on", optarg, fail_on)))
				return ret;
			break;
		case 'n':
			if (parse_number(optarg, 0, 1000000000, &v) < 0)
				return usage_error(leaks_usage, "--limit takes a number, not '%s'", optarg);
			r->limit = (size_t)v;
			break;
		case 'd':
			if (parse_number(optarg, 0, 100000, &v) < 0)
				return usage_error(leaks_usage, "--depth takes a number, not '%s'", optarg);
			r->depth = (unsigned)v;
			break;
		case 'f':
			if (out_format_parse(optarg, OUT(OUT_TEXT) | OUT(OUT_JSON) | OUT(OUT_MARKDOWN), &r->format,
					     why, sizeof(why)) < 0)
				return usage_error(leaks_usage, "%s", why);
			break;
		case OPT_ALLOC_FN:
			if ((ret = alloc_fns_add(af, optarg)))
				return ret;
			break;
		case OPT_NATIVE:
			af->native = 1;
			break;
		case 'h':
			fputs(leaks_usage, stdout);
			return -1;
		default:
			fputs(leaks_usage, stderr);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int cmd_leaks(int argc, char **argv)
{
	struct suppressions supp = { 0 };
	struct leak_report r = { .kinds = (1u << LEAK_DEFINITE) | (1u << LEAK_POSSIBLE), .depth = 12,
				 .suppressions = &supp };
	struct leak_analysis a;
	struct profile p;
	const struct profile_snapshot *s;
	struct alloc_fns af = { 0 };
	unsigned fail_on = 0;
	int ret;

	if ((ret = parse_options(argc, argv, &r, &supp, &fail_on, &af)) != 0) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	if (optind != argc - 1) {
		ret = usage_error(leaks_usage, optind >= argc ? "no profile given" : "one profile at a time");
		goto out;
	}
	if ((ret = selector_open(argv[optind], &p, &s, 1)))
		goto out;
	if ((ret = alloc_fns_apply(&af, &p))) {
		profile_release(&p);
		goto out;
	}
	if ((ret = leak_report_need_scan(&p, s, argv[optind]))) {
		profile_release(&p);
		goto out;
	}
	if (leaks_analyze(s, &a) < 0) {
		ret = error("out of memory");
		profile_release(&p);
		goto out;
	}
	r.p = &p;
	r.a = &a;
	if (supp.n)
		leaks_suppress(&a, is_suppressed, &r);
	ret = leak_report_print(&r, stdout) < 0 ? error("out of memory") : 0;
	for (int k = 0; ret == 0 && k < LEAK_REACHABLE + 1; k++)
		if ((fail_on & (1u << k)) && a.totals[k].blocks) {
			note("%s: %llu bytes in %llu blocks (--fail-on %s)", leak_kind_name(k),
			     (unsigned long long)a.totals[k].bytes, (unsigned long long)a.totals[k].blocks,
			     leak_kind_keyword(k));
			ret = EXIT_GATE;
		}
	leaks_release(&a);
	profile_release(&p);
out:
	alloc_fns_release(&af);
	suppressions_release(&supp);
	return ret;
}
