/*
 * alloc-fns.h - `--alloc-fn PATTERN`, which every command that names
 * sites takes: the user's allocator wrappers, added to each profile the
 * command reads (analysis/site-names.h keeps them there, beside those
 * `heapwise run --alloc-fn` recorded), so one rule finds every site.
 */
#ifndef HEAPWISE_ALLOC_FNS_H
#define HEAPWISE_ALLOC_FNS_H

#include <stddef.h>

struct profile;

struct alloc_fns {
	const char **patterns;	/* owned array; the strings are argv's */
	size_t n;
	int native;		/* --native: Python stacks keep their native frames */
};

#define ALLOC_FN_OPTION		"alloc-fn"
#define ALLOC_FN_HELP \
	"      --alloc-fn NAME      treat NAME (a pattern) as an allocator wrapper: charge its\n" \
	"                           blocks to its caller; repeatable\n"

#define NATIVE_OPTION		"native"
#define NATIVE_HELP \
	"      --native             show the native frames of Python stacks too\n"

/* Take one more. 0, or EXIT_ERROR out of memory. */
int alloc_fns_add(struct alloc_fns *a, const char *pattern);

/* Make them p's wrappers too, and (without --native) show p's Python
 * stacks as Python frames only. 0, or EXIT_ERROR out of memory. */
int alloc_fns_apply(const struct alloc_fns *a, struct profile *p);

void alloc_fns_release(struct alloc_fns *a);

#endif
