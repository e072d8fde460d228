/*
 * export-folded.c - the value of every stack, and folded stacks:
 * `main;parse;xmalloc 4096`, root first, one line per distinct stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/site-names.h"
#include "export.h"

const char *export_value_name(enum export_value v)
{
	static const char *const names[] = { "live-bytes", "live-blocks", "allocated", "allocations", "leaked" };

	return names[v];
}

const char *export_value_unit(enum export_value v)
{
	return v == VALUE_LIVE_BLOCKS || v == VALUE_ALLOCATIONS ? "blocks" : "bytes";
}

int export_stack_values(const struct export_ctx *x, uint64_t **out)
{
	const struct profile *p = x->p;
	uint64_t *v = calloc(p->nstacks + 1, sizeof(*v));
	struct leak_analysis a;

	if (!v)
		return -ENOMEM;
	switch (x->value) {
	case VALUE_LIVE_BYTES:
	case VALUE_LIVE_BLOCKS:
		for (uint64_t i = 0; i < x->s->nblocks; i++)
			v[x->s->blocks[i].stack] += x->value == VALUE_LIVE_BYTES ? x->s->blocks[i].size : 1;
		break;
	case VALUE_ALLOCATED:
	case VALUE_ALLOCATIONS:
		for (size_t i = 0; i < p->nsites; i++)
			v[p->sites[i].stack] += x->value == VALUE_ALLOCATED ? p->sites[i].bytes_allocated
									  : p->sites[i].allocations;
		break;
	case VALUE_LEAKED:
		if (!x->s->scan) {
			free(v);
			return -ENOENT;
		}
		if (leaks_analyze(x->s, &a) < 0) {
			free(v);
			return -ENOMEM;
		}
		for (uint64_t i = 0; i < x->s->nblocks; i++)
			if (a.kind[i] == LEAK_DEFINITE || a.kind[i] == LEAK_INDIRECT)
				v[x->s->blocks[i].stack] += x->s->blocks[i].size;
		leaks_release(&a);
		break;
	}
	*out = v;
	return 0;
}

void export_frame_name(const struct profile *p, uint32_t frame, char *buf, size_t len)
{
	const char *fn = profile_str(p, p->frames[frame].function);

	/* the function alone: a flame graph merges a function's lines;
	 * without a name, module+0xoffset as everywhere else */
	if (*fn || *profile_str(p, p->frames[frame].file))
		snprintf(buf, len, "%s", fn);
	else
		site_name(p, frame, buf, len);
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n')
			*c = ':';
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack, ((const struct folded_line *)b)->stack);
}

char *export_fold_stack(const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st = &p->stacks[stack];
	char *line = NULL, name[512];
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return NULL;
	if (!st->depth)
		fputs("[unknown]", f);
	for (uint32_t i = st->depth; i-- > 0;) {
		export_frame_name(p, p->stack_frames[st->first + i], name, sizeof(name));
		fprintf(f, "%s%s", i + 1 < st->depth ? ";" : "", name);
	}
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

int export_folded_lines(const struct profile *p, const uint64_t *values, struct folded_line **out, size_t *nout)
{
	struct folded_line *lines = calloc(p->nstacks + 1, sizeof(*lines));
	size_t n = 0, kept = 0;

	if (!lines)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++) {
		if (!values[i])
			continue;
		lines[n] = (struct folded_line){ export_fold_stack(p, (uint32_t)i), values[i] };
		if (!lines[n++].stack) {
			export_folded_free(lines, n);
			return -ENOMEM;
		}
	}
	qsort(lines, n, sizeof(*lines), by_stack);
	/* two stacks that differ only in lines or addresses fold alike */
	for (size_t i = 0; i < n; i++) {
		if (kept && strcmp(lines[kept - 1].stack, lines[i].stack) == 0) {
			lines[kept - 1].value += lines[i].value;
			free(lines[i].stack);
		} else {
			lines[kept++] = lines[i];
		}
	}
	*out = lines;
	*nout = kept;
	return 0;
}

void export_folded_free(struct folded_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
}

int export_folded_values(const struct export_ctx *x, struct folded_line **lines, size_t *n)
{
	uint64_t *values;
	int ret = export_stack_values(x, &values);

	*lines = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	ret = export_folded_lines(x->p, values, lines, n);
	free(values);
	return ret;
}

int export_folded(const struct export_ctx *x)
{
	struct folded_line *lines;
	size_t n;
	int ret = export_folded_values(x, &lines, &n);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		fprintf(x->out, "%s %llu\n", lines[i].stack, (unsigned long long)lines[i].value);
	export_folded_free(lines, n);
	return 0;
}
