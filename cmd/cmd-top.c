/*
 * cmd-top.c - `heapwise top FILE[@SNAP]`: where a snapshot's memory is,
 * grouped by line, function, file, module or traceback, the way
 * tracemalloc's Snapshot.statistics prints it; and with --growth, the
 * places whose memory grew in each of the last snapshots.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/group.h"
#include "../report/analysis/site-names.h"
#include "../report/util/format.h"
#include "../report/util/json.h"
#include "../report/util/table.h"
#include "builtin.h"
#include "report-args.h"
#include "selector.h"
#include "usage.h"

static const char top_usage[] =
	"usage: heapwise top [--by KIND] [--sort KEY] [-n N] [--cumulative] [--growth] [--format FORMAT] "
	"[OPTIONS] FILE[@SNAP]\n"
	"\n"
	REPORT_BY_HELP
	"  -s, --sort KEY           size (default), count, allocated, allocations, temporary or peak\n"
	"  -n, --limit N            show N groups (default 10, 0 for all)\n"
	REPORT_GROUPING_HELP
	"      --most-recent-first  print tracebacks innermost frame first\n"
	"      --growth             places whose live bytes grew in each of the last K snapshots\n"
	"  -k, --snapshots K        K for --growth (default 3)\n"
	REPORT_FORMAT_HELP
	"  -h, --help               show this help\n";

enum {
	OPT_MOST_RECENT_FIRST = 300,
	OPT_GROWTH,
};

static const struct option top_options[] = {
	REPORT_LONG_OPTIONS,
	{ "sort", required_argument, NULL, 's' },
	{ "limit", required_argument, NULL, 'n' },
	{ "most-recent-first", no_argument, NULL, OPT_MOST_RECENT_FIRST },
	{ "growth", no_argument, NULL, OPT_GROWTH },
	{ "snapshots", required_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct top_options {
	struct report_args r;
	enum group_sort sort;
	const char *sort_name;
	unsigned long long limit;
	int most_recent_first;
	int growth;
	unsigned long long growth_snapshots;
};

static const struct { const char *name; enum group_sort sort; } sorts[] = {
	{ "size", SORT_SIZE }, { "count", SORT_COUNT }, { "allocated", SORT_ALLOCATED },
	{ "allocations", SORT_ALLOCATIONS }, { "temporary", SORT_TEMPORARY }, { "peak", SORT_PEAK },
};

/* "size=1.2 MiB, count=3000, average=420 B" and the sort key's counter. */
/* est: "~" before each number of a sampled profile (estimates), else "". */
static void print_counts(const struct top_options *o, const char *est, const struct group_row *r)
{
	char size[32], avg[32], extra[32];

	format_bytes(r->size, size, sizeof(size));
	format_bytes(r->count ? r->size / r->count : 0, avg, sizeof(avg));
	printf("size=%s%s, count=%s%llu, average=%s", est, size, est, (unsigned long long)r->count, avg);
	if (o->sort == SORT_ALLOCATED || o->sort == SORT_PEAK) {
		format_bytes(group_sort_value(r, o->sort), extra, sizeof(extra));
		printf(", %s=%s%s", o->sort_name, est, extra);
	} else if (o->sort == SORT_ALLOCATIONS || o->sort == SORT_TEMPORARY) {
		printf(", %s=%s%llu", o->sort_name, est, (unsigned long long)group_sort_value(r, o->sort));
	}
}

static void print_text(const struct top_options *o, const struct group_table *t, size_t n)
{
	const char *est = profile_sample_rate(t->profile) ? "~" : "";
	char where[1024];

	for (size_t i = 0; i < n; i++) {
		const struct group_row *r = &t->rows[i];

		/* by traceback as tracemalloc prints it: the place, then the frames */
		group_describe(t, r, o->r.group.by, where, sizeof(where));
		printf("%s: ", where);
		print_counts(o, est, r);
		putchar('\n');
		if (o->r.group.by == GROUP_TRACEBACK && r->frame != PROFILE_NONE)
			group_frames(t, r, o->most_recent_first, report_print_frame, NULL);
	}
}

static void print_json(const struct top_options *o, const struct profile *p,
		       const struct profile_snapshot *s, const struct group_table *t, size_t n)
{
	struct json j = JSON_INIT(stdout);

	json_open(&j, '{');
	report_json_snapshot(&j, p, s);
	json_key(&j, "by");
	json_string(&j, report_group_name(o->r.group.by));
	json_key(&j, "total");
	json_open(&j, '{');
	json_key(&j, "size");
	json_u64(&j, t->size);
	json_key(&j, "count");
	json_u64(&j, t->count);
	json_close(&j, '}');
	json_key(&j, "groups");
	json_open(&j, '[');
	for (size_t i = 0; i < n; i++) {
		const struct group_row *r = &t->rows[i];
		const struct { const char *key; uint64_t v; } fields[] = {
			{ "size", r->size }, { "count", r->count },
			{ "average", r->count ? r->size / r->count : 0 },
			{ "old_size", r->old_size },
			{ "allocations", r->allocations }, { "bytes_allocated", r->bytes_allocated },
			{ "temporary", r->temporary }, { "peak_bytes", r->peak_bytes },
		};

		json_open(&j, '{');
		if (o->r.group.by == GROUP_TYPE) {
			json_key(&j, "type");
			json_string(&j, r->key);
		}
		report_json_place(&j, p, r->frame, o->r.group.by);
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
			json_key(&j, fields[k].key);
			json_u64(&j, fields[k].v);
		}
		if (o->r.group.by == GROUP_TRACEBACK) {
			json_key(&j, "frames");
			json_open(&j, '[');
			group_frames(t, r, o->most_recent_first, report_json_frame, &j);
			json_close(&j, ']');
		}
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	putchar('\n');
}

static void print_csv(const struct top_options *o, const struct group_table *t, size_t n)
{
	char where[1024];

	printf("place,function,file,line,module,size,count,average,allocations,bytes_allocated,"
	       "temporary,peak_bytes\n");
	for (size_t i = 0; i < n; i++) {
		const struct group_row *r = &t->rows[i];
		struct report_place pl;

		group_describe(t, r, o->r.group.by, where, sizeof(where));
		report_place_of(t->profile, r->frame, o->r.group.by, &pl);
		csv_field(stdout, where);
		putchar(',');
		csv_field(stdout, pl.function);
		putchar(',');
		csv_field(stdout, pl.file);
		printf(",%u,", pl.line);
		csv_field(stdout, pl.module);
		printf(",%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", (unsigned long long)r->size,
		       (unsigned long long)r->count, (unsigned long long)(r->count ? r->size / r->count : 0),
		       (unsigned long long)r->allocations, (unsigned long long)r->bytes_allocated,
		       (unsigned long long)r->temporary, (unsigned long long)r->peak_bytes);
	}
}

static void print_markdown(const struct top_options *o, const struct profile *p,
			   const struct profile_snapshot *s, const struct group_table *t, size_t n)
{
	char where[1024], size[32], avg[32], total[32];

	format_bytes(t->size, total, sizeof(total));
	printf("**heapwise top** `%s` snapshot `%s`: %s in %llu blocks\n\n", profile_get_meta(p, "command"),
	       profile_str(p, s->name), total, (unsigned long long)t->count);
	printf("| %s | size | count | average |\n|---|---:|---:|---:|\n", report_group_name(o->r.group.by));
	for (size_t i = 0; i < n; i++) {
		const struct group_row *r = &t->rows[i];

		group_describe(t, r, o->r.group.by, where, sizeof(where));
		format_bytes(r->size, size, sizeof(size));
		format_bytes(r->count ? r->size / r->count : 0, avg, sizeof(avg));
		printf("| `");
		markdown_cell(stdout, where);
		printf("` | %s | %llu | %s |\n", size, (unsigned long long)r->count, avg);
	}
}

/* Places whose live bytes grew at each of the last K snapshot steps.
 * Long: it groups K + 1 snapshots, and prints text and JSON side by side
 * from the one pass over the last. */
static int print_growth(const struct top_options *o, const struct profile *p)
{
	const struct profile_snapshot *series[64];
	struct group_table tables[64];
	size_t nseries = 0, k = (size_t)o->growth_snapshots, shown = 0;
	char where[1024], size[32], grew[32], old[32];
	struct json j = JSON_INIT(stdout);
	int ret = 0;

	/* the run's snapshots in time order, the peak left out: it is no step; by
	 * type, those that have types, and a Python program's exit (after its
	 * objects were freed) left out too */
	for (size_t i = 0; i < p->nsnapshots; i++)
		if (strcmp(profile_str(p, p->snapshots[i].name), "peak") != 0 && nseries < 64 &&
		    (o->r.group.by != GROUP_TYPE || (group_has_types(&p->snapshots[i]) &&
						     strcmp(profile_str(p, p->snapshots[i].name), "exit") != 0)))
			series[nseries++] = &p->snapshots[i];
	if (nseries < k + 1)
		return error(o->r.group.by == GROUP_TYPE ?
			     "--growth --by type over %zu steps needs %zu snapshots with types; the profile has %zu "
			     "(take them with heapwise snapshot --scan; py-exit is one)" :
			     "--growth over %zu steps needs %zu snapshots besides the peak; the profile has %zu "
			     "(take more with run --snapshot-every or heapwise snapshot)", k, k + 1, nseries);
	memset(tables, 0, sizeof(tables));
	for (size_t i = 0, first = nseries - 1 - k, before_unread = 0; i <= k; i++) {
		struct profile_snapshot *s = (struct profile_snapshot *)series[first + i];
		int unread = s->unread;
		char err[PROFILE_ERRLEN];

		/* read lazily: each one's blocks read and grouped, the one before
		 * let go once this one is read (it may be this one's base) */
		if (profile_load_snapshot((struct profile *)p, s, err) < 0) {
			ret = error("%s", err);
			goto out;
		}
		if (before_unread)
			profile_unload_snapshot((struct profile *)p, (struct profile_snapshot *)series[first + i - 1]);
		before_unread = (size_t)unread;
		if (group_snapshot(p, s, &o->r.group, &tables[i]) < 0) {
			ret = error("out of memory");
			goto out;
		}
	}
	if (group_sort(&tables[k], SORT_SIZE) < 0) {
		ret = error("out of memory");
		goto out;
	}
	if (o->r.format == OUT_JSON) {
		json_open(&j, '{');
		json_key(&j, "steps");
		json_u64(&j, k);
		json_key(&j, "groups");
		json_open(&j, '[');
	}
	for (size_t r = 0; r < tables[k].n && (!o->limit || shown < o->limit); r++) {
		const struct group_row *last = &tables[k].rows[r];
		uint64_t prev = 0, first = 0;
		int grows = 1;

		for (size_t i = 0; i <= k && grows; i++) {
			const struct group_row *x = i == k ? last : group_find(&tables[i], last->key);
			uint64_t v = x ? x->size : 0;

			if (i == 0)
				first = v;
			else if (v <= prev)
				grows = 0;
			prev = v;
		}
		if (!grows)
			continue;
		shown++;
		if (o->r.format == OUT_JSON) {
			json_open(&j, '{');
			if (o->r.group.by == GROUP_TYPE) {
				json_key(&j, "type");
				json_string(&j, last->key);
			}
			report_json_place(&j, p, last->frame, o->r.group.by);
			json_key(&j, "size");
			json_u64(&j, last->size);
			json_key(&j, "count");
			json_u64(&j, last->count);
			json_key(&j, "growth");
			json_u64(&j, last->size - first);
			json_key(&j, "old_size");
			json_u64(&j, last->old_size);
			json_close(&j, '}');
			continue;
		}
		group_describe(&tables[k], last, o->r.group.by, where, sizeof(where));
		format_bytes(last->size, size, sizeof(size));
		format_bytes(last->size - first, grew, sizeof(grew));
		format_bytes(last->old_size, old, sizeof(old));
		printf("%s: size=%s, count=%llu, grew %s over %zu snapshots, old generations %s\n", where, size,
		       (unsigned long long)last->count, grew, k, old);
	}
	if (o->r.format == OUT_JSON) {
		json_close(&j, ']');
		json_close(&j, '}');
		putchar('\n');
	} else if (!shown) {
		printf("no place grew in each of the last %zu snapshots\n", k);
	}
out:
	for (size_t i = 0; i <= k; i++)
		group_release(&tables[i]);
	return ret;
}

static int parse_top_option(struct top_options *o, int opt, const char *arg)
{
	switch (opt) {
	case 's':
		for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
			if (strcmp(arg, sorts[i].name) == 0) {
				o->sort = sorts[i].sort;
				o->sort_name = sorts[i].name;
				return 0;
			}
		return usage_error(top_usage, "unknown sort key '%s' (size, count, allocated, allocations, "
				   "temporary or peak)", arg);
	case 'n':
		if (parse_number(arg, 0, 100000000, &o->limit) < 0)
			return usage_error(top_usage, "--limit takes a number, not '%s'", arg);
		return 0;
	case OPT_MOST_RECENT_FIRST:
		o->most_recent_first = 1;
		return 0;
	case OPT_GROWTH:
		o->growth = 1;
		return 0;
	case 'k':
		if (parse_number(arg, 1, 63, &o->growth_snapshots) < 0)
			return usage_error(top_usage, "--snapshots takes a number from 1 to 63, not '%s'", arg);
		return 0;
	default:
		return report_args_parse(&o->r, top_usage, opt, arg);
	}
}

/* --by type: a snapshot that has types, the ways of printing that have a
 * type column. 0, or the status after saying why not. */
static int check_types(const struct top_options *o, const struct profile *p, const struct profile_snapshot *s)
{
	if (o->r.format != OUT_TEXT && o->r.format != OUT_JSON)
		return usage_error(top_usage, "--by type prints text or json");
	if (o->r.group.cumulative)
		return usage_error(top_usage, "--by type does not take --cumulative");
	if (!o->growth && !group_has_types(s))
		return report_no_types(p, s);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_options o = { .sort = SORT_SIZE, .sort_name = "size", .limit = 10, .growth_snapshots = 3 };
	const struct profile_snapshot *s;
	struct group_table t;
	struct profile p;
	size_t n;
	int opt, ret;

	report_args_init(&o.r);
	optind = 1;
	while ((opt = getopt_long(argc, argv, REPORT_SHORT_OPTIONS "s:n:k:h", top_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(top_usage, stdout);
			report_args_release(&o.r);
			return 0;
		}
		if (opt == '?' || (ret = parse_top_option(&o, opt, optarg)) != 0) {
			if (opt == '?')
				fputs(top_usage, stderr);
			report_args_release(&o.r);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		report_args_release(&o.r);
		return usage_error(top_usage, optind >= argc ? "no profile given" : "too many arguments");
	}
	if (o.growth && o.r.format != OUT_TEXT && o.r.format != OUT_JSON) {
		report_args_release(&o.r);
		return usage_error(top_usage, "--growth prints text or json");
	}
	if (selector_open(argv[optind], &p, &s, 0) != 0) {
		report_args_release(&o.r);
		return 1;
	}
	if ((ret = alloc_fns_apply(&o.r.alloc_fns, &p)) != 0 ||
	    (ret = report_args_pick_program(&o.r, &p, argv[optind], &o.r.group)) != 0)
		goto out;
	if (o.r.group.by == GROUP_TYPE && (ret = check_types(&o, &p, s)) != 0)
		goto out;
	if (o.growth) {
		ret = print_growth(&o, &p);
		goto out;
	}
	if (group_snapshot(&p, s, &o.r.group, &t) < 0 || group_sort(&t, o.sort) < 0) {
		group_release(&t);
		ret = error("out of memory");
		goto out;
	}
	n = t.n;
	/* groups with nothing to show for the chosen counter are noise */
	while (n && group_sort_value(&t.rows[n - 1], o.sort) == 0 && t.rows[n - 1].size == 0 &&
	       t.rows[n - 1].count == 0)
		n--;
	if (o.limit && n > o.limit)
		n = (size_t)o.limit;
	switch (o.r.format) {
	case OUT_JSON:
		print_json(&o, &p, s, &t, n);
		break;
	case OUT_CSV:
		print_csv(&o, &t, n);
		break;
	case OUT_MARKDOWN:
		print_markdown(&o, &p, s, &t, n);
		break;
	default:
		print_text(&o, &t, n);
	}
	group_release(&t);
	ret = 0;
out:
	report_args_drop_program(&o.r.group);
	profile_release(&p);
	report_args_release(&o.r);
	return ret;
}
