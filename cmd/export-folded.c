/*
 * export-folded.c - folded stacks:
 * `main;parse;xmalloc 4096`, root first, one line per distinct stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/images.h"
#include "../report/analysis/site-names.h"
#include "export.h"

void export_frame_name(const struct profile *p, uint32_t frame, FILE *out)
{
	const char *fn = profile_str(p, p->frames[frame].function);
	char place[4096];

	/* the function alone: a flame graph merges a function's lines;
	 * without a name, module+0xoffset as everywhere else. Whole, however
	 * long: C++ names that share their first hundreds of characters must
	 * not merge */
	if (!*fn && !*profile_str(p, p->frames[frame].file)) {
		site_name(p, frame, place, sizeof(place));
		fn = place;
	}
	for (const char *c = fn; *c; c++)
		fputc(*c == ';' || *c == '\n' ? ':' : *c, out);
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack, ((const struct folded_line *)b)->stack);
}

/* The frames of a stack root first, joined by ';', each by name and, with
 * places, its "(file:line)"; the empty stack "[unknown]" in folded form. */
static char *fold(const struct profile *p, uint32_t stack, int places)
{
	const struct profile_stack *st = &p->stacks[stack];
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return NULL;
	if (!st->depth && !places)
		fputs("[unknown]", f);
	for (uint32_t i = st->depth; i-- > 0;) {
		uint32_t frame = p->stack_frames[st->first + i];
		const struct profile_frame *fr = &p->frames[frame];

		if (i + 1 < st->depth)
			fputc(';', f);
		export_frame_name(p, frame, f);
		if (places && *profile_str(p, fr->file))
			fprintf(f, " (%s:%u)", profile_str(p, fr->file), fr->line);
	}
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

char *export_fold_stack(const struct profile *p, uint32_t stack)
{
	return fold(p, stack, 0);
}

char *export_traceback(const struct profile *p, uint32_t stack)
{
	return fold(p, stack, 1);
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
	int ret = stack_values(x->p, x->s, x->value, &values);

	*lines = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	images_keep_values(x->p, x->images, x->nimages, values);
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
