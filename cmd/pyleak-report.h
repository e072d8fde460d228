/*
 * pyleak-report.h - a Python program's uncollected cycles and leaked
 * references (report/analysis/pyleaks.h) in `heapwise leaks`' text, JSON
 * and Markdown, after memcheck's LEAK SUMMARY.
 */
#ifndef HEAPWISE_PYLEAK_REPORT_H
#define HEAPWISE_PYLEAK_REPORT_H

#include <stdio.h>

#include "../report/analysis/pyleaks.h"
#include "../report/util/json.h"

/* A line for each kind, after prefix ("PYTHON:" before them is the caller's). */
void pyleak_report_text(const struct profile *p, const struct pyleaks *l, const char *prefix, FILE *out);

/* "python": {"uncollected_cycles": {...}, "leaked_references": {...}},
 * into an open object. */
void pyleak_report_json(struct json *j, const struct profile *p, const struct pyleaks *l);

/* Two rows of a Markdown table. */
void pyleak_report_markdown(const struct profile *p, const struct pyleaks *l, FILE *out);

#endif
