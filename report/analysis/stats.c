/*
 * stats.c - grouping blocks and sites by location.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Functions that only pass an allocation on: a block is charged to their caller. */
static const char *const alloc_wrappers[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc",
	"operator new*", "operator delete*", "_Znw*", "_Zna*",
	"strdup", "strndup", "__strdup", "__strndup", "wcsdup",
	"__libc_malloc", "__libc_calloc", "__libc_realloc",
	"__gnu_cxx::new_allocator*", "std::allocator*", "std::__new_allocator*",
	"__gnu_cxx::__new_allocator*", "std::allocator_traits*",
};

int stats_is_alloc_wrapper(const char *function, const char *const *extra, size_t nextra)
{
	for (size_t i = 0; i < sizeof(alloc_wrappers) / sizeof(alloc_wrappers[0]); i++)
		if (fnmatch(alloc_wrappers[i], function, 0) == 0)
			return 1;
	for (size_t i = 0; i < nextra; i++)
		if (fnmatch(extra[i], function, 0) == 0)
			return 1;
	return 0;
}

uint32_t stats_grouping_index(const struct profile *p, uint32_t stack, const char *const *extra,
			      size_t nextra)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return 0;
	for (uint32_t i = 0; i < st->depth; i++) {
		uint32_t f = p->stack_frames[st->first + i];
		const char *fn = profile_str(p, p->frames[f].function);

		if (!*fn || !stats_is_alloc_wrapper(fn, extra, nextra))
			return i;
	}
	return st->depth - 1;
}

uint32_t stats_grouping_frame(const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return PROFILE_NONE;
	return p->stack_frames[st->first + stats_grouping_index(p, stack, NULL, 0)];
}

/* Rows are keyed by (function, file, line) of their grouping frame. */
struct row_index {
	struct stats_row *rows;
	size_t n, cap;
	uint32_t *slots;	/* row index + 1, 0 = empty */
	size_t nslots;
};

static uint64_t frame_key(const struct profile *p, uint32_t f)
{
	const struct profile_frame *fr;

	if (f == PROFILE_NONE)
		return 0;
	fr = &p->frames[f];
	if (!fr->function && !fr->file)
		return 0x8000000000000000ull ^ fr->ip;	/* unknown: by address */
	return ((uint64_t)fr->function << 40) ^ ((uint64_t)fr->file << 20) ^ fr->line;
}

static int same_location(const struct profile *p, uint32_t a, uint32_t b)
{
	const struct profile_frame *x, *y;

	if (a == PROFILE_NONE || b == PROFILE_NONE)
		return a == b;
	x = &p->frames[a];
	y = &p->frames[b];
	if (!x->function && !x->file)
		return x->ip == y->ip && !y->function && !y->file;
	return x->function == y->function && x->file == y->file && x->line == y->line;
}

static struct stats_row *row_for(const struct profile *p, struct row_index *ix, uint32_t f)
{
	size_t i;

	if ((ix->n + 1) * 2 > ix->nslots) {
		size_t n = ix->nslots ? ix->nslots * 2 : 256;
		uint32_t *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return NULL;
		for (size_t r = 0; r < ix->n; r++) {
			for (i = (frame_key(p, ix->rows[r].frame) * 0x9e3779b97f4a7c15ull >> 20) & (n - 1);
			     slots[i]; i = (i + 1) & (n - 1))
				;
			slots[i] = (uint32_t)r + 1;
		}
		free(ix->slots);
		ix->slots = slots;
		ix->nslots = n;
	}
	for (i = (frame_key(p, f) * 0x9e3779b97f4a7c15ull >> 20) & (ix->nslots - 1); ix->slots[i];
	     i = (i + 1) & (ix->nslots - 1))
		if (same_location(p, ix->rows[ix->slots[i] - 1].frame, f))
			return &ix->rows[ix->slots[i] - 1];
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		struct stats_row *rows = realloc(ix->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		ix->rows = rows;
		ix->cap = cap;
	}
	ix->slots[i] = (uint32_t)ix->n + 1;
	memset(&ix->rows[ix->n], 0, sizeof(ix->rows[0]));
	ix->rows[ix->n].frame = f;
	return &ix->rows[ix->n++];
}

static int by_bytes(const void *a, const void *b)
{
	const struct stats_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->blocks != y->blocks)
		return x->blocks < y->blocks ? 1 : -1;
	return x->bytes_allocated < y->bytes_allocated ? 1 : x->bytes_allocated > y->bytes_allocated ? -1 : 0;
}

int stats_by_location(const struct profile *p, const struct profile_snapshot *s,
		      struct stats_row **rows, size_t *nrows)
{
	struct row_index ix = { 0 };
	uint32_t *group = calloc(p->nstacks, sizeof(*group));
	int ret = -ENOMEM;

	if (!group)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++)
		group[i] = stats_grouping_frame(p, (uint32_t)i);
	for (size_t i = 0; i < p->nsites; i++) {
		const struct profile_site *site = &p->sites[i];
		struct stats_row *r = row_for(p, &ix, group[site->stack]);

		if (!r)
			goto out;
		r->allocations += site->allocations;
		r->bytes_allocated += site->bytes_allocated;
		r->temporary += site->temporary;
		r->peak_bytes += site->peak_bytes;
	}
	for (uint64_t i = 0; s && i < s->nblocks; i++) {
		struct stats_row *r = row_for(p, &ix, group[s->blocks[i].stack]);

		if (!r)
			goto out;
		r->blocks++;
		r->bytes += s->blocks[i].size;
	}
	qsort(ix.rows, ix.n, sizeof(*ix.rows), by_bytes);
	*rows = ix.rows;
	*nrows = ix.n;
	ix.rows = NULL;
	ret = 0;
out:
	free(ix.rows);
	free(ix.slots);
	free(group);
	return ret;
}

void stats_describe_frame(const struct profile *p, uint32_t frame, char *buf, size_t len)
{
	const struct profile_frame *f;
	const char *fn, *file, *base;

	if (frame == PROFILE_NONE) {
		snprintf(buf, len, "<unknown stack>");
		return;
	}
	f = &p->frames[frame];
	fn = profile_str(p, f->function);
	file = profile_str(p, f->file);
	if (*file) {
		base = strrchr(file, '/');
		base = base ? base + 1 : file;
		snprintf(buf, len, "%s %s:%u", *fn ? fn : "??", base, f->line);
	} else if (*fn) {
		snprintf(buf, len, "%s", fn);
	} else if (f->module != PROFILE_NONE) {
		const struct profile_module *m = &p->modules[f->module];
		const char *path = profile_str(p, m->path);

		base = strrchr(path, '/');
		snprintf(buf, len, "%s+0x%llx", base ? base + 1 : path,
			 (unsigned long long)(f->ip - m->bias));
	} else {
		snprintf(buf, len, "0x%llx", (unsigned long long)f->ip);
	}
}
