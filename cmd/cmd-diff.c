/*
 * cmd-diff.c - `heapwise diff OLD NEW`: what changed between two snapshots,
 * of one run or of two, with tracemalloc's compare_to semantics and order
 * (largest absolute size difference first), and a gate for CI.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/diff.h"
#include "../report/analysis/images.h"
#include "../report/analysis/group.h"
#include "../report/util/format.h"
#include "../report/util/json.h"
#include "../report/util/table.h"
#include "builtin.h"
#include "export.h"
#include "report-args.h"
#include "selector.h"
#include "usage.h"

static const char diff_usage[] =
	"usage: heapwise diff [--by KIND] [--ignore-lines] [--fail-if EXPR] [-n N] [--format FORMAT] "
	"[OPTIONS] OLD[@SNAP] NEW[@SNAP]\n"
	"\n"
	REPORT_BY_HELP
	"      --ignore-lines       match places by module, function and file only\n"
	"      --fail-if EXPR       exit 3 when EXPR holds, e.g. 'total.size_diff > 1MiB'; repeatable\n"
	"  -n, --limit N            show N places (default 10, 0 for all)\n"
	REPORT_GROUPING_HELP
	REPORT_FORMAT_HELP
	"                           or folded: each stack with its live bytes in OLD and NEW, for\n"
	"                           flamegraph.pl --negate / difffolded.pl output readers\n"
	"  -h, --help               show this help\n";

enum {
	OPT_IGNORE_LINES = 300,
	OPT_FAIL_IF,
};

static const struct option diff_options[] = {
	REPORT_LONG_OPTIONS,
	{ "ignore-lines", no_argument, NULL, OPT_IGNORE_LINES },
	{ "fail-if", required_argument, NULL, OPT_FAIL_IF },
	{ "limit", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* est: "~" before each number when either snapshot is sampled (the
 * numbers are estimates, run --sample-rate), else "". */
static const char *estimated(const struct profile_snapshot *so, const struct profile_snapshot *sn)
{
	return so->sample_rate || sn->sample_rate ? "~" : "";
}

static void format_signed(int64_t v, int bytes, const char *est, char *buf, size_t len)
{
	char abs[32];

	if (bytes)
		format_bytes((uint64_t)abs64(v), abs, sizeof(abs));
	else
		snprintf(abs, sizeof(abs), "%llu", (unsigned long long)abs64(v));
	snprintf(buf, len, "%s%c%s", est, v < 0 ? '-' : '+', abs);
}

/* "size=1.2 MiB (+640 KiB), count=3000 (+1500), average=420 B" */
static void format_change(const struct gate_values *v, const char *est, char *buf, size_t len)
{
	char size[32], sdiff[40], cdiff[40], avg[32];

	format_bytes((uint64_t)v->size, size, sizeof(size));
	format_signed(v->size_diff, 1, est, sdiff, sizeof(sdiff));
	format_signed(v->count_diff, 0, est, cdiff, sizeof(cdiff));
	format_bytes(v->count ? (uint64_t)(v->size / v->count) : 0, avg, sizeof(avg));
	snprintf(buf, len, "size=%s%s (%s), count=%s%lld (%s), average=%s", est, size, sdiff, est,
		 (long long)v->count, cdiff, avg);
}

static void report_gates(const struct diff *d, enum group_by by, const char *est)
{
	char where[1024], value[40];

	for (size_t g = 0; g < d->ngates; g++) {
		const struct gate *gate = &d->gates[g];
		int bytes = gate->field == GATE_SIZE || gate->field == GATE_SIZE_DIFF;

		if (!d->tripped[g])
			continue;
		if (gate->scope == GATE_TOTAL) {
			format_signed(gate_field_value(gate, &d->total), bytes, est, value, sizeof(value));
			note("gate tripped: %s (total is %s)", gate->text, value);
			continue;
		}
		note("gate tripped: %s, by:", gate->text);
		for (size_t i = 0; i < d->n; i++) {
			if (!gate_holds(gate, &d->rows[i].v))
				continue;
			group_describe(d->rows[i].table, d->rows[i].row, by, where, sizeof(where));
			format_signed(gate_field_value(gate, &d->rows[i].v), bytes, est, value, sizeof(value));
			note("    %s: %s", where, value);
		}
	}
}

static void print_text(const struct diff *d, enum group_by by, size_t n, const char *est)
{
	char where[1024], change[256];

	for (size_t i = 0; i < n; i++) {
		format_change(&d->rows[i].v, est, change, sizeof(change));
		group_describe(d->rows[i].table, d->rows[i].row, by, where, sizeof(where));
		printf("%s: %s\n", where, change);
		if (by == GROUP_TRACEBACK) {
			/* then the whole traceback, outermost first, as top prints it */
			group_frames(d->rows[i].table, d->rows[i].row, 0, report_print_frame, NULL);
		}
	}
	format_change(&d->total, est, change, sizeof(change));
	printf("total: %s\n", change);
}

static void json_values(struct json *j, const struct gate_values *v)
{
	json_key(j, "size");
	json_i64(j, v->size);
	json_key(j, "size_diff");
	json_i64(j, v->size_diff);
	json_key(j, "count");
	json_i64(j, v->count);
	json_key(j, "count_diff");
	json_i64(j, v->count_diff);
}

static void print_json(const struct diff *d, const struct profile_snapshot *so,
		       const struct profile_snapshot *sn, enum group_by by, size_t n, size_t held)
{
	struct json j = JSON_INIT(stdout);

	json_open(&j, '{');
	json_key(&j, "old");
	json_open(&j, '{');
	report_json_snapshot(&j, d->old.profile, so);
	json_close(&j, '}');
	json_key(&j, "new");
	json_open(&j, '{');
	report_json_snapshot(&j, d->new.profile, sn);
	json_close(&j, '}');
	json_key(&j, "by");
	json_string(&j, report_group_name(by));
	json_key(&j, "total");
	json_open(&j, '{');
	json_values(&j, &d->total);
	json_close(&j, '}');
	json_key(&j, "sites");
	json_open(&j, '[');
	for (size_t i = 0; i < n; i++) {
		json_open(&j, '{');
		if (by == GROUP_TYPE) {
			json_key(&j, "type");
			json_string(&j, d->rows[i].row->key);
		}
		report_json_place(&j, d->rows[i].table->profile, d->rows[i].row->frame, by);
		json_values(&j, &d->rows[i].v);
		if (by == GROUP_TRACEBACK) {
			json_key(&j, "frames");
			json_open(&j, '[');
			group_frames(d->rows[i].table, d->rows[i].row, 0, report_json_frame, &j);
			json_close(&j, ']');
		}
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_key(&j, "gate");
	json_open(&j, '{');
	json_key(&j, "tripped");
	json_bool(&j, held > 0);
	json_key(&j, "conditions");
	json_open(&j, '[');
	for (size_t g = 0; g < d->ngates; g++) {
		json_open(&j, '{');
		json_key(&j, "expr");
		json_string(&j, d->gates[g].text);
		json_key(&j, "tripped");
		json_bool(&j, d->tripped[g]);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	json_close(&j, '}');
	putchar('\n');
}

static void print_csv(const struct diff *d, enum group_by by, size_t n)
{
	char where[1024];

	printf("place,function,file,line,module,size,size_diff,count,count_diff\n");
	for (size_t i = 0; i < n; i++) {
		const struct gate_values *v = &d->rows[i].v;
		struct report_place pl;

		group_describe(d->rows[i].table, d->rows[i].row, by, where, sizeof(where));
		report_place_of(d->rows[i].table->profile, d->rows[i].row->frame, by, &pl);
		csv_field(stdout, where);
		putchar(',');
		csv_field(stdout, pl.function);
		putchar(',');
		csv_field(stdout, pl.file);
		printf(",%u,", pl.line);
		csv_field(stdout, pl.module);
		printf(",%lld,%lld,%lld,%lld\n", (long long)v->size, (long long)v->size_diff,
		       (long long)v->count, (long long)v->count_diff);
	}
}

static void print_markdown(const struct diff *d, enum group_by by, size_t n, const char *est)
{
	char where[1024], size[32], sdiff[40], cdiff[40];

	printf("**heapwise diff**: ");
	format_bytes((uint64_t)d->total.size, size, sizeof(size));
	format_signed(d->total.size_diff, 1, est, sdiff, sizeof(sdiff));
	format_signed(d->total.count_diff, 0, est, cdiff, sizeof(cdiff));
	printf("%s%s (%s), %s%lld blocks (%s)", est, size, sdiff, est, (long long)d->total.count, cdiff);
	for (size_t g = 0; g < d->ngates; g++)
		if (d->tripped[g])
			printf("; **gate tripped**: `%s`", d->gates[g].text);
	printf("\n\n| %s | size | change | count | change |\n|---|---:|---:|---:|---:|\n",
	       report_group_name(by));
	for (size_t i = 0; i < n; i++) {
		const struct gate_values *v = &d->rows[i].v;

		group_describe(d->rows[i].table, d->rows[i].row, by, where, sizeof(where));
		format_bytes((uint64_t)v->size, size, sizeof(size));
		format_signed(v->size_diff, 1, est, sdiff, sizeof(sdiff));
		format_signed(v->count_diff, 0, est, cdiff, sizeof(cdiff));
		printf("| `");
		markdown_cell(stdout, where);
		printf("` | %s%s | %s | %s%lld | %s |\n", est, size, sdiff, est, (long long)v->count, cdiff);
	}
	format_bytes((uint64_t)d->total.size, size, sizeof(size));
	format_signed(d->total.size_diff, 1, est, sdiff, sizeof(sdiff));
	format_signed(d->total.count_diff, 0, est, cdiff, sizeof(cdiff));
	printf("| **total** | %s%s | %s | %s%lld | %s |\n", est, size, sdiff, est, (long long)d->total.count, cdiff);
}

/* A differential folded file: "stack OLD NEW", live bytes, every stack of either. */
static int print_folded(const struct profile *po, const struct profile_snapshot *so, const struct group_options *go,
			const struct profile *pn, const struct profile_snapshot *sn, const struct group_options *gn)
{
	struct folded_line *a = NULL, *b = NULL;
	uint64_t *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0, i = 0, k = 0;
	int ret = -ENOMEM;

	if (stack_values(po, so, VALUE_LIVE_BYTES, &va) < 0 || stack_values(pn, sn, VALUE_LIVE_BYTES, &vb) < 0)
		goto out;
	/* what --program did not pick counts for nothing */
	images_keep_values(po, go->images, go->nimages, va);
	images_keep_values(pn, gn->images, gn->nimages, vb);
	if (export_folded_lines(po, va, &a, &na) < 0 || export_folded_lines(pn, vb, &b, &nb) < 0)
		goto out;
	while (i < na || k < nb) {
		int c = i == na ? 1 : k == nb ? -1 : strcmp(a[i].stack, b[k].stack);

		printf("%s %llu %llu\n", c <= 0 ? a[i].stack : b[k].stack,
		       (unsigned long long)(c <= 0 ? a[i].value : 0), (unsigned long long)(c >= 0 ? b[k].value : 0));
		i += c <= 0;
		k += c >= 0;
	}
	ret = 0;
out:
	export_folded_free(a, na);
	export_folded_free(b, nb);
	free(va);
	free(vb);
	return ret;
}

/* The options, into r, d's gates and limit: 0, -1 after --help, or the
 * exit status after saying what is wrong. */
static int parse_options(int argc, char **argv, struct report_args *r, struct diff *d, unsigned long long *limit)
{
	char why[256];
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, REPORT_SHORT_OPTIONS "n:h", diff_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(diff_usage, stdout);
			return -1;
		case OPT_IGNORE_LINES:
			r->group.ignore_lines = 1;
			break;
		case OPT_FAIL_IF: {
			struct gate *g = realloc(d->gates, (d->ngates + 1) * sizeof(*g));

			if (!g)
				return error("out of memory");
			d->gates = g;
			if (gate_parse(optarg, &d->gates[d->ngates], why, sizeof(why)) < 0)
				return usage_error(diff_usage, "--fail-if: %s", why);
			d->ngates++;
			break;
		}
		case 'n':
			if (parse_number(optarg, 0, 100000000, limit) < 0)
				return usage_error(diff_usage, "--limit takes a number, not '%s'", optarg);
			break;
		case '?':
			fputs(diff_usage, stderr);
			return EXIT_USAGE;
		default:
			if ((ret = report_args_parse(r, diff_usage, opt, optarg)) != 0)
				return ret;	/* EXIT_USAGE, or EXIT_ERROR out of memory */
		}
	}
	return 0;
}

/* The first n rows of d, in r's format (folded is printed apart). */
static void print_rows(const struct diff *d, const struct report_args *r, const struct profile_snapshot *so,
		       const struct profile_snapshot *sn, size_t n, size_t held)
{
	switch (r->format) {
	case OUT_FOLDED:
		break;
	case OUT_JSON:
		print_json(d, so, sn, r->group.by, n, held);
		break;
	case OUT_CSV:
		print_csv(d, r->group.by, n);
		break;
	case OUT_MARKDOWN:
		print_markdown(d, r->group.by, n, estimated(so, sn));
		break;
	default:
		print_text(d, r->group.by, n, estimated(so, sn));
	}
}

int cmd_diff(int argc, char **argv)
{
	struct report_args r;
	struct diff d = { 0 };
	struct profile po, pn;
	struct group_options go = GROUP_OPTIONS_INIT, gn = GROUP_OPTIONS_INIT;
	const struct profile_snapshot *so, *sn;
	unsigned long long limit = 10;
	size_t n, held;
	int ret, loaded = 0;

	report_args_init(&r);
	r.formats |= OUT(OUT_FOLDED);
	if ((ret = parse_options(argc, argv, &r, &d, &limit)) != 0) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	if (argc - optind != 2) {
		ret = usage_error(diff_usage, argc - optind < 2 ? "diff needs OLD and NEW" : "too many arguments");
		goto out;
	}
	d.tripped = calloc(d.ngates + 1, sizeof(*d.tripped));
	if (!d.tripped) {
		ret = error("out of memory");
		goto out;
	}
	if (selector_open(argv[optind], &po, &so, 0) != 0) {
		ret = 1;
		goto out;
	}
	if (selector_open(argv[optind + 1], &pn, &sn, 0) != 0) {
		profile_release(&po);
		ret = 1;
		goto out;
	}
	loaded = 1;
	if ((ret = alloc_fns_apply(&r.alloc_fns, &po)) != 0 || (ret = alloc_fns_apply(&r.alloc_fns, &pn)) != 0)
		goto out;
	if (r.group.by == GROUP_TYPE && (!group_has_types(so) || !group_has_types(sn))) {
		ret = group_has_types(so) ? report_no_types(&pn, sn) : report_no_types(&po, so);
		goto out;
	}
	/* --program picks by path in each profile: image numbers may differ */
	if ((ret = report_args_pick_program(&r, &po, argv[optind], &go)) != 0 ||
	    (ret = report_args_pick_program(&r, &pn, argv[optind + 1], &gn)) != 0)
		goto out;
	if (group_snapshot(&po, so, &go, &d.old) < 0 || group_snapshot(&pn, sn, &gn, &d.new) < 0 ||
	    diff_compare(&d) < 0) {
		ret = error("out of memory");
		goto out;
	}
	held = diff_check_gates(&d);
	n = limit && d.n > limit ? (size_t)limit : d.n;
	if (r.format == OUT_FOLDED && print_folded(&po, so, &go, &pn, sn, &gn) < 0) {
		ret = error("out of memory");
		goto out;
	}
	print_rows(&d, &r, so, sn, n, held);
	fflush(stdout);
	report_gates(&d, r.group.by, estimated(so, sn));
	ret = held ? EXIT_GATE : 0;
out:
	report_args_drop_program(&go);
	report_args_drop_program(&gn);
	diff_release(&d);
	if (loaded) {
		profile_release(&po);
		profile_release(&pn);
	}
	report_args_release(&r);
	return ret;
}
