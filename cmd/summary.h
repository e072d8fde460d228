/*
 * summary.h - the run summary: what `heapwise run` prints on stderr at the
 * end and `heapwise stats` prints on stdout, from the same profile.
 */
#ifndef HEAPWISE_SUMMARY_H
#define HEAPWISE_SUMMARY_H

#include <stdio.h>

struct profile;

/* Every line starts with prefix ("heapwise: " for run, "" for stats).
 * top: how many sites to list by bytes not freed. Returns 0 or -ENOMEM. */
int summary_print(FILE *out, const struct profile *p, const char *prefix, unsigned top);

/* A Python program's cycle collector as heapwise read it at py-exit. */
struct summary_gc {
	int enabled;
	long long count[3], threshold[3];	/* per generation */
	long long collections[3], collected[3], uncollectable[3];
};

/* From p's "python-gc-*" meta entries: 0, or -1 when p has none. */
int summary_python_gc(const struct profile *p, struct summary_gc *gc);

/* "exited with code N" / "was killed by signal N (SIGSEGV)" */
void summary_describe_exit(const struct profile *p, char *buf, size_t len);

#endif
