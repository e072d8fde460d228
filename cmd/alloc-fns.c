/*
 * alloc-fns.c - the --alloc-fn patterns of a command (see alloc-fns.h).
 */
#include <stdlib.h>

#include "../report/analysis/site-names.h"
#include "alloc-fns.h"
#include "usage.h"

int alloc_fns_add(struct alloc_fns *a, const char *pattern)
{
	const char **l = realloc(a->patterns, (a->n + 1) * sizeof(*l));

	if (!l)
		return error("out of memory");
	l[a->n++] = pattern;
	a->patterns = l;
	return 0;
}

int alloc_fns_apply(const struct alloc_fns *a, struct profile *p)
{
	for (size_t i = 0; i < a->n; i++)
		if (site_add_alloc_fn(p, a->patterns[i]) < 0)
			return error("out of memory");
	if (!a->native)
		site_python_view(p);
	return 0;
}

void alloc_fns_release(struct alloc_fns *a)
{
	free(a->patterns);
	a->patterns = NULL;
	a->n = 0;
}
