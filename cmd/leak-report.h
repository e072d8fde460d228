/*
 * leak-report.h - print a leak analysis: loss records with owners, leaked
 * cycles and memcheck's LEAK SUMMARY, as text, JSON or Markdown. Used by
 * `heapwise leaks` and by `heapwise run`'s summary.
 */
#ifndef HEAPWISE_LEAK_REPORT_H
#define HEAPWISE_LEAK_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/suppress.h"
#include "out-format.h"

struct leak_report {
	const struct profile *p;
	struct leak_analysis *a;
	const struct suppressions *suppressions;
	unsigned kinds;			/* loss records to list: 1 << enum leak_kind */
	size_t limit;			/* records at most, 0 for all */
	unsigned depth;			/* frames per record, 0 for all */
	enum out_format format;		/* OUT_TEXT, OUT_JSON or OUT_MARKDOWN */
};

/* 0 when snapshot s of file has a scan; else 1, after saying why it has none. */
int leak_report_need_scan(const struct profile *p, const struct profile_snapshot *s, const char *file);

/* The whole report. Returns 0 or -ENOMEM. */
int leak_report_print(const struct leak_report *r, FILE *out);

/* memcheck's LEAK SUMMARY lines, each after prefix. */
void leak_report_summary(const struct leak_analysis *a, const char *prefix, FILE *out);

#endif
