/*
 * cmd-stats.c - `heapwise stats FILE`: the totals of a run, its snapshots
 * and its top sites by bytes not freed, as text or JSON.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/images.h"
#include "../report/analysis/group.h"
#include "../report/analysis/site-names.h"
#include "../report/analysis/timeline.h"
#include "../report/profile/profile.h"
#include "../report/util/format.h"
#include "../report/util/json.h"
#include "alloc-fns.h"
#include "builtin.h"
#include "report-args.h"
#include "summary.h"
#include "out-format.h"
#include "usage.h"

static const char stats_usage[] =
	"usage: heapwise stats [--format text|json] [-n N] FILE\n"
	"\n"
	"  -f, --format FORMAT   text (default) or json\n"
	"  -n, --top N           list N sites by bytes not freed (default 10)\n"
	"      --alloc-fn NAME   treat NAME (a pattern) as an allocator wrapper: charge its\n"
	"                        blocks to its caller; repeatable\n"
	"  -h, --help            show this help\n";

enum { OPT_ALLOC_FN = 256 };

static const struct option stats_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "top", required_argument, NULL, 'n' },
	{ ALLOC_FN_OPTION, required_argument, NULL, OPT_ALLOC_FN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* pymalloc's arenas, and the sites whose blocks keep the mostly free ones. */
static void print_pins(const struct profile *p, const struct profile_pins *pins)
{
	struct report_pin by_site[PROFILE_PINS_MAX];
	size_t n = report_pins_by_site(p, pins, by_site);
	char site[1024], bytes[32];

	printf("  pymalloc arenas: %" PRIu64 ", %" PRIu64 " mostly free (under a quarter of their pools live)%s\n",
	       pins->arenas, pins->mostly_free, n ? ", kept by:" : "");
	for (size_t k = 0; k < n; k++) {
		site_name(p, by_site[k].frame, site, sizeof(site));
		format_bytes(by_site[k].bytes, bytes, sizeof(bytes));
		printf("    %s: %" PRIu64 " blocks, %s\n", site, by_site[k].blocks, bytes);
	}
}

/* The resident set in parts at each snapshot that has them. */
static void print_rss_parts(const struct profile *p)
{
	char rss[32], live[32], pool[32], heap[32], other[32];

	for (size_t i = 0; i < p->nsnapshots; i++) {
		const struct profile_snapshot *s = &p->snapshots[i];
		const struct profile_rss_parts *r = &s->rss_parts;

		if (!s->has_rss_parts)
			continue;
		format_bytes(r->rss, rss, sizeof(rss));
		format_bytes(r->live_heap, live, sizeof(live));
		format_bytes(r->pymalloc_free, pool, sizeof(pool));
		format_bytes(r->allocator_free, heap, sizeof(heap));
		format_bytes(r->other, other, sizeof(other));
		printf("resident set at %s: %s = live heap %s + free in malloc's heaps %s", profile_str(p, s->name),
		       rss, live, heap);
		if (r->pymalloc_free)
			printf(" + free in pymalloc's arenas %s", pool);
		printf(" + other %s\n", other);
		if (s->has_pins)
			print_pins(p, &s->pins);
	}
}

static void print_memory(const struct profile *p)
{
	const struct profile_totals *t = &p->totals;
	char a[32], b[32], c[32], when[32], count[32], bytes[40];
	const char *est = profile_sample_rate(p) ? "~" : "";	/* sampled: the heap's numbers are estimates */
	struct rss_gap g;

	format_bytes(t->live_bytes, a, sizeof(a));
	format_bytes(t->peak_bytes, b, sizeof(b));
	printf("traced memory: current %s%s (at exit), peak %s%s\n", est, a, est, b);
	timeline_rss_gap(p, &g);
	if (g.known) {
		format_bytes(rss_gap_bytes(g.rss, g.heap), a, sizeof(a));
		format_bytes(g.rss, b, sizeof(b));
		format_bytes(g.heap, c, sizeof(c));
		format_duration(g.t_ns, when, sizeof(when));
		printf("resident beyond the live heap: at most %s%s, at %s (RSS %s, live heap %s%s)\n", est, a, when,
		       b, est, c);
		format_bytes(rss_gap_bytes(g.end_rss, g.end_heap), a, sizeof(a));
		format_bytes(g.end_rss, b, sizeof(b));
		format_bytes(g.end_heap, c, sizeof(c));
		printf("resident beyond the live heap at the last sample: %s%s (RSS %s, live heap %s%s)\n", est, a,
		       b, est, c);
	}
	print_rss_parts(p);
	if (!p->has_sizes)
		return;
	printf("allocation sizes over the run:\n");
	for (unsigned k = 0; k < PROFILE_SIZE_BUCKETS; k++) {
		const struct profile_size_bucket *s = &p->sizes[k];
		uint64_t lo = k ? 1ull << (k - 1) : 0, hi = k ? (k == 64 ? UINT64_MAX : (1ull << k) - 1) : 0;

		if (!s->count)
			continue;
		format_bytes(lo, a, sizeof(a));
		format_bytes(hi, b, sizeof(b));
		format_bytes(s->bytes, c, sizeof(c));
		snprintf(count, sizeof(count), "%s%llu", est, (unsigned long long)s->count);
		snprintf(bytes, sizeof(bytes), "%s%s", est, c);
		if (lo == hi)
			printf("  %10s   %-10s %10s allocations  %10s\n", a, "", count, bytes);
		else
			printf("  %10s - %-10s %10s allocations  %10s\n", a, b, count, bytes);
	}
}

static void print_text(const struct profile *p, unsigned top)
{
	char size[64], when[64];
	/* sampled: the blocks are those recorded, the bytes what they stand for */
	int sampled = profile_sample_rate(p) != 0;

	summary_print(stdout, p, "", top);
	print_memory(p);
	printf("snapshots:\n");
	for (size_t i = 0; i < p->nsnapshots; i++) {
		const struct profile_snapshot *s = &p->snapshots[i];

		format_bytes(s->bytes, size, sizeof(size));
		format_duration(s->t_ns, when, sizeof(when));
		printf("  %zu %-8s at %10s  %8llu blocks%s  %s%s\n", i + 1, profile_str(p, s->name), when,
		       (unsigned long long)s->nblocks, sampled ? " recorded" : "", sampled ? "~" : "", size);
	}
}

static void json_site(struct json *j, const struct profile *p, const struct group_row *r)
{
	json_open(j, '{');
	report_json_place(j, p, r->frame, GROUP_LINENO);
	json_key(j, "blocks");
	json_u64(j, r->count);
	json_key(j, "bytes");
	json_u64(j, r->size);
	json_key(j, "allocations");
	json_u64(j, r->allocations);
	json_key(j, "bytes_allocated");
	json_u64(j, r->bytes_allocated);
	json_close(j, '}');
}

/* A CPU time the run recorded, or null (profiles from before it did). */
static void meta_field(struct json *j, const struct profile *p, const char *key, const char *meta)
{
	uint64_t ns;

	json_key(j, key);
	if (profile_meta_u64(p, meta, &ns) == 0)
		json_u64(j, ns);
	else
		json_null(j);
}

/* The run's counters, as keys of the open object. */
static void json_totals(struct json *j, const struct profile *p)
{
	const struct profile_totals *t = &p->totals;
	uint64_t rate = profile_sample_rate(p), late;
	const struct { const char *key; uint64_t value; } fields[] = {
		{ "allocations", t->allocations },
		{ "frees", t->frees },
		{ "bytes_allocated", t->bytes_allocated },
		{ "bytes_freed", t->bytes_freed },
		{ "peak_bytes", t->peak_bytes },
		{ "peak_blocks", t->peak_blocks },
		{ "peak_time_ns", t->peak_t_ns },
		{ "live_blocks", t->live_blocks },
		{ "live_bytes", t->live_bytes },
		{ "temporary_allocations", t->temporary },
		{ "temporary_threshold", t->temporary_threshold },
		{ "lost_events", t->lost_events },
		{ "unknown_frees", t->unknown_frees },
		{ "truncated_stacks", t->truncated_stacks },
		{ "stacks_dropped", t->stacks_dropped },
		{ "exec_released_blocks", t->exec_released_blocks },
		{ "exec_released_bytes", t->exec_released_bytes },
		{ "images", t->images },
		{ "threads", t->threads },
		{ "duration_ns", t->duration_ns },
		{ "max_depth", t->max_depth },
		{ "exit_status", t->exit_code },
		{ "term_signal", t->term_signal },
		{ "peak_rss_bytes", t->peak_rss_bytes },
		{ "pid", t->pid },
		{ "ring_waits", t->ring_waits },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_key(j, fields[i].key);
		json_u64(j, fields[i].value);
	}
	meta_field(j, p, "program_cpu_ns", PROFILE_META_PROGRAM_CPU);
	meta_field(j, p, "heapwise_cpu_ns", PROFILE_META_HEAPWISE_CPU);
	json_key_u64(j, "late_events", profile_meta_u64(p, PROFILE_META_LATE_EVENTS, &late) == 0 ? late : 0);
	/* run --sample-rate: the counters above are estimates (sample_rate 0: exact) */
	json_key(j, "sampled");
	json_bool(j, rate != 0);
	json_key_u64(j, "sample_rate", rate);
}

/* "python": {"interpreter": what heapwise found, "gc": the cycle
 * collector at py-exit, or null}. */
static void json_python(struct json *j, const struct profile *p)
{
	struct summary_gc gc;

	json_open(j, '{');
	json_key(j, "interpreter");
	json_string(j, profile_get_meta(p, "python"));
	json_key(j, "gc");
	if (summary_python_gc(p, &gc) < 0) {
		json_null(j);
		json_close(j, '}');
		return;
	}
	json_open(j, '{');
	json_key(j, "enabled");
	json_bool(j, gc.enabled);
	json_key(j, "generations");
	json_open(j, '[');
	for (int g = 0; g < 3; g++) {
		const struct { const char *key; long long v; } f[] = {
			{ "count", gc.count[g] }, { "threshold", gc.threshold[g] },
			{ "collections", gc.collections[g] }, { "collected", gc.collected[g] },
			{ "uncollectable", gc.uncollectable[g] },
		};

		json_open(j, '{');
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			json_key(j, f[i].key);
			json_i64(j, f[i].v);
		}
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
	json_close(j, '}');
}

/* "python": what heapwise found of an interpreter (null for none), and
 * "by_image": each exec'd program's own totals. */
static void json_images(struct json *j, const struct profile *p)
{
	struct image_total im[IMAGES_MAX];
	size_t n = image_totals(p, im);

	json_key(j, "python");
	if (profile_get_meta(p, "python"))
		json_python(j, p);
	else
		json_null(j);
	json_key(j, "by_image");
	json_open(j, '[');
	for (size_t i = 0; i < n; i++) {
		json_open(j, '{');
		json_key(j, "image");
		json_u64(j, im[i].image);
		json_key(j, "program");
		json_string(j, profile_str(p, im[i].program));
		json_key(j, "allocations");
		json_u64(j, im[i].allocations);
		json_key(j, "bytes_allocated");
		json_u64(j, im[i].bytes_allocated);
		json_key(j, "live_blocks");
		json_u64(j, im[i].live_blocks);
		json_key(j, "live_bytes");
		json_u64(j, im[i].live_bytes);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_snapshots(struct json *j, const struct profile *p)
{
	json_key(j, "snapshots");
	json_open(j, '[');
	for (size_t i = 0; i < p->nsnapshots; i++)
		report_json_snapshot_object(j, p, &p->snapshots[i]);
	json_close(j, ']');
}

static void json_rss_gap(struct json *j, const struct profile *p)
{
	struct rss_gap g;

	timeline_rss_gap(p, &g);
	json_key(j, "rss_vs_heap");
	json_open(j, '{');
	json_key(j, "max_gap_bytes");
	json_u64(j, rss_gap_bytes(g.rss, g.heap));
	json_key(j, "max_gap_time_ns");
	json_u64(j, g.t_ns);
	json_key(j, "rss_at_max_gap");
	json_u64(j, g.rss);
	json_key(j, "heap_at_max_gap");
	json_u64(j, g.heap);
	json_key(j, "end_gap_bytes");
	json_u64(j, rss_gap_bytes(g.end_rss, g.end_heap));
	json_close(j, '}');
}

/* The resident set in parts at py-exit for a Python program, else at the
 * last snapshot that has them (the exit); null if none. */
static void json_rss_parts(struct json *j, const struct profile *p)
{
	const struct profile_snapshot *last = NULL;

	for (size_t i = 0; i < p->nsnapshots; i++)
		if (p->snapshots[i].has_rss_parts &&
		    (!last || strcmp(profile_str(p, last->name), "py-exit") != 0))
			last = &p->snapshots[i];
	json_key(j, "rss_breakdown");
	if (!last) {
		json_null(j);
		return;
	}
	json_open(j, '{');
	json_key(j, "snapshot");
	json_string(j, profile_str(p, last->name));
	report_json_rss_parts(j, p, last);
	json_close(j, '}');
}

static void json_histogram(struct json *j, const struct profile *p)
{
	json_key(j, "size_histogram");
	json_open(j, '[');
	for (unsigned k = 0; p->has_sizes && k < PROFILE_SIZE_BUCKETS; k++) {
		if (!p->sizes[k].count)
			continue;
		json_open(j, '{');
		json_key(j, "min");
		json_u64(j, k ? 1ull << (k - 1) : 0);
		json_key(j, "max");
		json_u64(j, k ? (k == 64 ? UINT64_MAX : (1ull << k) - 1) : 0);
		json_key(j, "count");
		json_u64(j, p->sizes[k].count);
		json_key(j, "bytes");
		json_u64(j, p->sizes[k].bytes);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static int print_json(const struct profile *p, unsigned top)
{
	struct json j = JSON_INIT(stdout);
	struct group_options go = GROUP_OPTIONS_INIT;
	struct group_table sites;

	if (group_snapshot(p, profile_find_snapshot((struct profile *)p, "exit"), &go, &sites) < 0 ||
	    group_sort(&sites, SORT_SIZE) < 0) {
		group_release(&sites);
		return error("out of memory");
	}
	json_open(&j, '{');
	json_key(&j, "command");
	json_string(&j, profile_get_meta(p, "command"));
	json_totals(&j, p);
	json_images(&j, p);
	json_snapshots(&j, p);
	json_rss_gap(&j, p);
	json_rss_parts(&j, p);
	json_histogram(&j, p);
	json_key(&j, "top_sites");
	json_open(&j, '[');
	for (size_t i = 0, shown = 0; i < sites.n && shown < top; i++) {
		if (!sites.rows[i].count)
			continue;
		json_site(&j, p, &sites.rows[i]);
		shown++;
	}
	json_close(&j, ']');
	json_close(&j, '}');
	group_release(&sites);
	return 0;
}

/* What the summary reads blocks of: the exit snapshot and py-exit. */
static int load_end_snapshots(struct profile *p, char err[PROFILE_ERRLEN])
{
	static const char *const names[] = { "exit", "py-exit" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct profile_snapshot *s = profile_find_snapshot(p, names[i]);

		if (s && profile_load_snapshot(p, s, err) < 0)
			return -1;
	}
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	struct alloc_fns af = { 0 };
	unsigned long long top = 10;
	char err[PROFILE_ERRLEN], why[256];
	struct profile p;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:n:h", stats_options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (out_format_parse(optarg, OUT(OUT_TEXT) | OUT(OUT_JSON), &format, why, sizeof(why)) < 0)
				return usage_error(stats_usage, "%s", why);
			break;
		case 'n':
			if (parse_number(optarg, 0, 1000000, &top) < 0)
				return usage_error(stats_usage, "--top takes a number, not '%s'", optarg);
			break;
		case OPT_ALLOC_FN:
			if (alloc_fns_add(&af, optarg) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			fputs(stats_usage, stdout);
			return 0;
		default:
			fputs(stats_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error(stats_usage, optind >= argc ? "no profile given" : "too many arguments");
	/* of the snapshots' blocks, only the end's: the others are listed by their counts */
	if (profile_read_lazy(&p, argv[optind], err) < 0 || load_end_snapshots(&p, err) < 0) {
		alloc_fns_release(&af);
		profile_release(&p);
		return error("%s", err);
	}
	ret = alloc_fns_apply(&af, &p);
	alloc_fns_release(&af);
	if (ret == 0)
		ret = format == OUT_JSON ? print_json(&p, (unsigned)top) : (print_text(&p, (unsigned)top), 0);
	profile_release(&p);
	return ret;
}
