/*
 * summary.c - print a profile's totals, snapshots and top sites as text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/images.h"
#include "../report/analysis/leaks.h"
#include "../report/analysis/group.h"
#include "../report/analysis/site-names.h"
#include "../report/profile/profile.h"
#include "../report/util/format.h"
#include "leak-report.h"
#include "pyleak-report.h"
#include "summary.h"

void summary_describe_exit(const struct profile *p, char *buf, size_t len)
{
	const struct profile_totals *t = &p->totals;

	if (profile_get_meta(p, "exit-status")) {
		/* a followed child: its parent collected its status, not heapwise */
		snprintf(buf, len, "ended (its exit status went to its parent)");
	} else if (t->term_signal) {
		const char *abbrev = sigabbrev_np((int)t->term_signal);

		snprintf(buf, len, "was killed by signal %llu (SIG%s), status %llu",
			 (unsigned long long)t->term_signal, abbrev ? abbrev : "?",
			 (unsigned long long)t->exit_code);
	} else {
		snprintf(buf, len, "exited with code %llu", (unsigned long long)t->exit_code);
	}
}

/* A per-generation meta entry "A B C" into v[3]: 0, or -1 when it is not one. */
static int three_numbers(const struct profile *p, const char *key, long long v[3])
{
	const char *s = profile_get_meta(p, key);

	return s && sscanf(s, "%lld %lld %lld", &v[0], &v[1], &v[2]) == 3 ? 0 : -1;
}

int summary_python_gc(const struct profile *p, struct summary_gc *gc)
{
	const char *enabled = profile_get_meta(p, "python-gc-enabled");

	if (!enabled || three_numbers(p, "python-gc-count", gc->count) < 0 ||
	    three_numbers(p, "python-gc-threshold", gc->threshold) < 0 ||
	    three_numbers(p, "python-gc-collections", gc->collections) < 0 ||
	    three_numbers(p, "python-gc-collected", gc->collected) < 0 ||
	    three_numbers(p, "python-gc-uncollectable", gc->uncollectable) < 0)
		return -1;
	gc->enabled = strcmp(enabled, "0") != 0;
	return 0;
}

/* The cycle collector as it was at py-exit, read from the interpreter. */
static void print_python_gc(FILE *out, const struct profile *p, const char *prefix)
{
	struct summary_gc gc;

	if (summary_python_gc(p, &gc) < 0)
		return;
	fprintf(out, "%spython gc at py-exit: %s", prefix, gc.enabled ? "enabled" : "disabled");
	for (int g = 0; g < 3; g++)
		fprintf(out, "; generation %d: %lld of %lld, %lld collections", g, gc.count[g], gc.threshold[g],
			gc.collections[g]);
	fprintf(out, "; %lld objects collected, %lld uncollectable\n",
		gc.collected[0] + gc.collected[1] + gc.collected[2],
		gc.uncollectable[0] + gc.uncollectable[1] + gc.uncollectable[2]);
}

/* Each exec'd program's own share, when there were several (a pyenv
 * shim's bash and env before python): the totals above are theirs together. */
static void print_images(FILE *out, const struct profile *p, const char *prefix)
{
	struct image_total im[IMAGES_MAX];
	size_t n = image_totals(p, im);
	char a[64], b[64];

	if (n < 2)
		return;
	fprintf(out, "%sby program (each exec starts another):\n", prefix);
	for (size_t i = 0; i < n; i++) {
		format_bytes(im[i].bytes_allocated, a, sizeof(a));
		format_bytes(im[i].live_bytes, b, sizeof(b));
		fprintf(out, "%s  %u %s: %llu allocations, %s allocated, %s in %llu blocks at exit\n", prefix,
			im[i].image, *profile_str(p, im[i].program) ? profile_str(p, im[i].program) : "?",
			(unsigned long long)im[i].allocations, a, b, (unsigned long long)im[i].live_blocks);
	}
}

/* Where tracing stopped short of the program's end, and what exec released. */
static void print_where_tracing_ended(FILE *out, const struct profile *p, const char *prefix)
{
	const struct profile_totals *t = &p->totals;
	char a[64];

	if (profile_get_meta(p, "corrupted"))
		fprintf(out, "%sthe program corrupted heapwise's shared memory (%s): the profile ends there\n", prefix,
			profile_get_meta(p, "corrupted"));
	if (profile_get_meta(p, "untraced-exec"))
		fprintf(out, "%snot traced after the exec of %s\n", prefix, profile_get_meta(p, "untraced-exec"));
	if (t->exec_released_blocks) {
		format_bytes(t->exec_released_bytes, a, sizeof(a));
		fprintf(out, "%sreleased by exec: %llu blocks, %s (%llu images)\n", prefix,
			(unsigned long long)t->exec_released_blocks, a, (unsigned long long)t->images);
	}
	print_images(out, p, prefix);
}

/* Python's leak kinds at py-exit, when it was scanned. */
static int print_python_leaks(FILE *out, const struct profile *p, const struct profile_snapshot *py_exit,
			      const char *prefix)
{
	struct leak_analysis la;
	struct pyleaks py = { 0 };
	char stop[64];
	int ret;

	if (leaks_analyze(py_exit, &la) < 0)
		return -ENOMEM;
	ret = pyleaks_find(&la, &py);
	if (ret == 0) {
		format_duration(py_exit->scan->stop_ns, stop, sizeof(stop));
		fprintf(out, "%sPython's leaks at py-exit (the program was stopped %s for the scan):\n", prefix, stop);
		pyleak_report_text(p, &py, prefix, out);
		pyleaks_release(&py);
	}
	leaks_release(&la);
	return ret == -ENOMEM ? -ENOMEM : 0;
}

/*
 * The leak check of the heap the program ended with (at exit, after a
 * Python interpreter freed its objects: what is left is C's), and its top
 * sites: a Python program's from its py-exit snapshot, before.
 */
static int print_end_heap(FILE *out, const struct profile *p, const char *prefix, unsigned top)
{
	const struct profile_snapshot *exit_snap = profile_find_snapshot((struct profile *)p, "exit");
	const struct profile_snapshot *py_exit = profile_find_snapshot((struct profile *)p, "py-exit");
	const struct profile_snapshot *shown_snap = py_exit ? py_exit : exit_snap;
	struct group_options go = GROUP_OPTIONS_INIT;
	struct group_table sites;
	char a[64], size[72], count[32], where[4096];
	const char *est = profile_sample_rate(p) ? "~" : "";
	size_t shown = 0;

	if (exit_snap && exit_snap->scan) {
		struct leak_analysis la;

		if (leaks_analyze(exit_snap, &la) < 0)
			return -ENOMEM;
		format_duration(exit_snap->scan->stop_ns, a, sizeof(a));
		fprintf(out, "%sleak check at exit (the program was stopped %s for it):\n", prefix, a);
		leak_report_summary(&la, prefix, out);
		leaks_release(&la);
	} else if (profile_get_meta(p, "scan-error")) {
		fprintf(out, "%sno leak check at exit: %s\n", prefix, profile_get_meta(p, "scan-error"));
	}
	if (py_exit && py_exit->scan && print_python_leaks(out, p, py_exit, prefix) < 0)
		return -ENOMEM;
	if (group_snapshot(p, shown_snap, &go, &sites) < 0 || group_sort(&sites, SORT_SIZE) < 0) {
		group_release(&sites);
		return -ENOMEM;
	}
	if (top && (py_exit ? py_exit->nblocks : p->totals.live_blocks)) {
		fprintf(out, "%stop sites by bytes %s:\n", prefix,
			py_exit ? "live at Python's exit (before it freed its objects)" : "not freed");
		for (size_t i = 0; i < sites.n && shown < top; i++) {
			if (!sites.rows[i].count)
				continue;
			format_bytes(sites.rows[i].size, a, sizeof(a));
			snprintf(size, sizeof(size), "%s%s", est, a);
			snprintf(count, sizeof(count), "%s%llu", est, (unsigned long long)sites.rows[i].count);
			site_name(p, sites.rows[i].frame, where, sizeof(where));
			fprintf(out, "%s  %10s in %6s blocks  %s\n", prefix, size, count, where);
			shown++;
		}
	}
	group_release(&sites);
	return 0;
}

/* "CPU: the program 0.52 s, heapwise 0.31 s", when the run recorded them. */
static void print_cpu(FILE *out, const struct profile *p, const char *prefix)
{
	uint64_t program, ours;

	if (profile_meta_u64(p, PROFILE_META_PROGRAM_CPU, &program) < 0 ||
	    profile_meta_u64(p, PROFILE_META_HEAPWISE_CPU, &ours) < 0)
		return;
	fprintf(out, "%sCPU: the program %.3f s, heapwise %.3f s\n", prefix,
		(double)program / 1e9, (double)ours / 1e9);
}

int summary_print(FILE *out, const struct profile *p, const char *prefix, unsigned top)
{
	const struct profile_totals *t = &p->totals;
	char a[64], b[64], where[4096];
	const char *cmdline = profile_get_meta(p, "command");
	uint64_t rate = profile_sample_rate(p);
	const char *est = rate ? "~" : "";
	uint64_t late;

	if (profile_get_meta(p, "python"))
		fprintf(out, "%spython %s\n", prefix, profile_get_meta(p, "python"));
	print_python_gc(out, p, prefix);
	summary_describe_exit(p, where, sizeof(where));
	format_duration(t->duration_ns, a, sizeof(a));
	fprintf(out, "%s%s %s after %s\n", prefix, cmdline ? cmdline : "the program", where, a);
	if (rate) {
		format_bytes(rate, a, sizeof(a));
		fprintf(out, "%ssampled: one allocation in %s allocated recorded, by size; "
			"counts and sizes marked ~ are estimates\n", prefix, a);
	}
	format_bytes(t->bytes_allocated, a, sizeof(a));
	fprintf(out, "%s%s%llu allocations, %s%llu frees, %s%s allocated\n", prefix,
		est, (unsigned long long)t->allocations, est, (unsigned long long)t->frees, est, a);
	format_bytes(t->peak_bytes, a, sizeof(a));
	format_duration(t->peak_t_ns, b, sizeof(b));
	fprintf(out, "%speak heap %s%s in %s%llu blocks at %s\n", prefix, est, a,
		est, (unsigned long long)t->peak_blocks, b);
	format_bytes(t->live_bytes, a, sizeof(a));
	fprintf(out, "%sstill allocated at exit: %s%llu blocks, %s%s\n", prefix,
		est, (unsigned long long)t->live_blocks, est, a);
	if (t->peak_rss_bytes) {
		format_bytes(t->peak_rss_bytes, a, sizeof(a));
		fprintf(out, "%speak RSS %s\n", prefix, a);
	}
	print_cpu(out, p, prefix);
	if (rate)
		fprintf(out, "%stemporary allocations: not counted when sampled\n", prefix);
	else
		fprintf(out, "%stemporary allocations: %llu (freed with at most %llu allocation%s in between)\n",
			prefix, (unsigned long long)t->temporary, (unsigned long long)t->temporary_threshold,
			t->temporary_threshold == 1 ? "" : "s");
	print_where_tracing_ended(out, p, prefix);

	if (print_end_heap(out, p, prefix, top) < 0)
		return -ENOMEM;
	fprintf(out, "%slost events: %llu\n", prefix, (unsigned long long)t->lost_events);
	if (profile_meta_u64(p, PROFILE_META_LATE_EVENTS, &late) == 0 && late)
		fprintf(out, "%sevents that came late, replayed out of order: %llu\n", prefix,
			(unsigned long long)late);
	if (t->unknown_frees)
		fprintf(out, "%sfrees of blocks allocated before tracing began: %llu\n", prefix,
			(unsigned long long)t->unknown_frees);
	if (t->truncated_stacks)
		fprintf(out, "%sstacks cut at %llu frames: %llu\n", prefix,
			(unsigned long long)t->max_depth, (unsigned long long)t->truncated_stacks);
	if (t->stacks_dropped)
		fprintf(out, "%sallocations recorded without a stack (table full): %llu\n", prefix,
			(unsigned long long)t->stacks_dropped);
	return 0;
}
