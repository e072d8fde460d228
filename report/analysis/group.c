/*
 * group.c - snapshot statistics by place (see group.h).
 *
 * Each stack is mapped once to the rows it counts toward (one, or with
 * cumulative every distinct place along it) and to whether the filters
 * keep it; then sites add the run-wide counters and blocks the live ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "group.h"
#include "images.h"
#include "site-names.h"

static void text_str(struct buffer *t, const char *s)
{
	buffer_add(t, s, strlen(s));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The key of one frame; fields are separated by \x1f, frames by \x1e. */
static void frame_key(const struct profile *p, uint32_t frame, enum group_by by, int ignore_lines,
		      struct buffer *key)
{
	const struct profile_frame *f = &p->frames[frame];
	const char *fn = profile_str(p, f->function), *file = profile_str(p, f->file);
	char num[32];

	/* a Python line is its file and number, as tracemalloc keys it: a
	 * comprehension on it (a code object of its own before 3.12) is the line */
	if ((f->flags & PROFILE_FRAME_PYTHON) && by == GROUP_LINENO && *file)
		fn = "";
	text_str(key, site_module_name(p, f->module));
	if (by == GROUP_MODULE)
		return;
	buffer_add(key, "\x1f", 1);
	if (by == GROUP_FILE && *file) {
		text_str(key, file);
		return;
	}
	if (!*fn && !*file) {
		snprintf(num, sizeof(num), "+0x%llx", (unsigned long long)site_module_offset(p, f));
		text_str(key, num);
		return;
	}
	text_str(key, fn);
	if (by == GROUP_FUNCTION || by == GROUP_FILE)
		return;
	buffer_add(key, "\x1f", 1);
	text_str(key, file);
	if (!ignore_lines) {
		snprintf(num, sizeof(num), "\x1f%u", f->line);
		text_str(key, num);
	}
}

static int frame_matches(const struct profile *p, uint32_t frame, const char *pattern)
{
	const struct profile_frame *f = &p->frames[frame];
	const char *fn = profile_str(p, f->function), *file = profile_str(p, f->file);
	const char *module = f->module == PROFILE_NONE ? "" : profile_str(p, p->modules[f->module].path);

	return (*fn && fnmatch(pattern, fn, 0) == 0) ||
	       (*file && (fnmatch(pattern, file, 0) == 0 || fnmatch(pattern, base_name(file), 0) == 0)) ||
	       (*module && (fnmatch(pattern, module, 0) == 0 ||
			    fnmatch(pattern, base_name(module), 0) == 0));
}

/* Does any of the patterns match the stack (its frames from `from` on, or
 * only the grouping one)? */
static int stack_matches(const struct profile *p, uint32_t stack, uint32_t from, int all_frames,
			 const char *const *patterns, size_t npatterns)
{
	const struct profile_stack *st = &p->stacks[stack];
	uint32_t end = all_frames ? st->depth : (from < st->depth ? from + 1 : from);

	for (size_t k = 0; k < npatterns; k++)
		for (uint32_t i = from; i < end; i++)
			if (frame_matches(p, p->stack_frames[st->first + i], patterns[k]))
				return 1;
	return 0;
}

/* Do the filters keep stack (its grouping frame at from)? --include and
 * --exclude, and --program's images. */
static int stack_kept(const struct profile *p, uint32_t stack, uint32_t from, const struct group_options *o)
{
	if (o->ninclude && !stack_matches(p, stack, from, o->all_frames, o->include, o->ninclude))
		return 0;
	if (o->nexclude && stack_matches(p, stack, from, o->all_frames, o->exclude, o->nexclude))
		return 0;
	return images_picked(p, o->images, o->nimages, stack);
}

static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

/* Index the rows again in a table at least twice their number (a power
 * of two, 256 at least), so a probe always meets an empty slot. */
static int rehash(struct group_table *t, size_t want_rows)
{
	size_t n = 256;
	uint32_t *slots;

	while (n < want_rows * 2)
		n *= 2;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t r = 0; r < t->n; r++) {
		size_t i = hash_key(t->rows[r].key) & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = (uint32_t)r + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

struct group_row *group_find(const struct group_table *t, const char *key)
{
	if (!t->nslots)
		return NULL;
	for (size_t i = hash_key(key) & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1))
		if (strcmp(t->rows[t->slots[i] - 1].key, key) == 0)
			return &t->rows[t->slots[i] - 1];
	return NULL;
}

/* The row of key, made if new; returns its index or -ENOMEM. */
static long row_for(struct group_table *t, const char *key, uint32_t frame, uint32_t stack,
		    uint32_t from)
{
	struct group_row *r;
	size_t i;

	if ((r = group_find(t, key)))
		return r - t->rows;
	if ((t->n + 1) * 2 > t->nslots && rehash(t, t->n + 1) < 0)
		return -ENOMEM;
	if (array_grow((void **)&t->rows, &t->cap, t->n + 1, sizeof(*t->rows)) < 0)
		return -ENOMEM;
	r = &t->rows[t->n];
	*r = (struct group_row){ .frame = frame, .stack = stack, .depth_from = from };
	r->key = strdup(key);
	if (!r->key)
		return -ENOMEM;
	for (i = hash_key(key) & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1))
		;
	t->slots[i] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

/* Which rows each stack counts toward: rows[first[s] .. first[s] + count[s]). */
struct stack_rows {
	uint32_t *first, *count;
	uint32_t *rows;
	size_t n, cap;
};

static int push_row(struct stack_rows *sr, uint32_t row)
{
	if (array_grow((void **)&sr->rows, &sr->cap, sr->n + 1, sizeof(*sr->rows)) < 0)
		return -ENOMEM;
	sr->rows[sr->n++] = row;
	return 0;
}

/* Map stack s to its rows (none when the filters drop it). */
static int map_stack(struct group_table *t, const struct group_options *o, uint32_t s,
		     struct stack_rows *sr, struct buffer *key)
{
	const struct profile *p = t->profile;
	const struct profile_stack *st = &p->stacks[s];
	uint32_t from = site_index(p, s);
	long row;

	sr->first[s] = (uint32_t)sr->n;
	sr->count[s] = 0;
	if (!stack_kept(p, s, from, o))
		return 0;
	key->len = 0;
	buffer_add(key, "", 0);
	if (st->depth == 0) {
		row = row_for(t, key->data ? key->data : "", PROFILE_NONE, s, 0);
	} else if (o->by == GROUP_TRACEBACK) {
		for (uint32_t i = from; i < st->depth; i++) {
			if (i > from)
				buffer_add(key, "\x1e", 1);
			frame_key(p, p->stack_frames[st->first + i], GROUP_LINENO, o->ignore_lines, key);
		}
		row = key->failed ? -ENOMEM : row_for(t, key->data, p->stack_frames[st->first + from], s, from);
	} else if (!o->cumulative) {
		frame_key(p, p->stack_frames[st->first + from], o->by, o->ignore_lines, key);
		row = key->failed ? -ENOMEM : row_for(t, key->data, p->stack_frames[st->first + from], s, from);
	} else {
		/* every distinct place along the stack, once (recursion counts once) */
		for (uint32_t i = from; i < st->depth; i++) {
			uint32_t f = p->stack_frames[st->first + i], k;
			int seen = 0;

			key->len = 0;
			frame_key(p, f, o->by, o->ignore_lines, key);
			row = key->failed ? -ENOMEM : row_for(t, key->data, f, s, i);
			if (row < 0)
				return -ENOMEM;
			for (k = 0; k < sr->count[s]; k++)
				seen |= sr->rows[sr->first[s] + k] == (uint32_t)row;
			if (seen)
				continue;
			if (push_row(sr, (uint32_t)row) < 0)
				return -ENOMEM;
			sr->count[s]++;
		}
		return 0;
	}
	if (row < 0 || push_row(sr, (uint32_t)row) < 0)
		return -ENOMEM;
	sr->count[s] = 1;
	return 0;
}

static int wanted_generation(const struct group_options *o, uint32_t generation)
{
	if (o->generation < 0)
		return 1;
	if (o->generation >= 2)
		return generation >= 2;
	return generation == (uint32_t)o->generation;
}

/*
 * By type: each block under the type of the object it holds. A stack's
 * verdict under the filters is taken once (1 + kept).
 */
static int group_types(const struct profile *p, const struct profile_snapshot *s,
		       const struct group_options *o, struct group_table *t)
{
	uint8_t *kept = calloc(p->nstacks ? p->nstacks : 1, 1);
	uint64_t rate = profile_sample_rate(p);

	if (!kept)
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nblocks; i++) {
		const struct profile_block *b = &s->blocks[i];
		const char *type = s->types[i] ? profile_str(p, s->types[i]) : GROUP_NOT_AN_OBJECT;
		struct profile_weight w;
		struct group_row *r;
		long row;

		if (!kept[b->stack]) {
			uint32_t from = site_index(p, b->stack);

			kept[b->stack] = 1 + stack_kept(p, b->stack, from, o);
		}
		if (kept[b->stack] != 2 || !wanted_generation(o, b->generation))
			continue;
		row = row_for(t, type, PROFILE_NONE, b->stack, 0);
		if (row < 0) {
			free(kept);
			return -ENOMEM;
		}
		w = profile_block_weight(rate, b);
		r = &t->rows[row];
		r->size += w.bytes;
		r->count += w.blocks;
		if (b->generation >= 1)
			r->old_size += w.bytes;
		t->size += w.bytes;
		t->count += w.blocks;
	}
	free(kept);
	return 0;
}

int group_snapshot(const struct profile *p, const struct profile_snapshot *s,
		   const struct group_options *o, struct group_table *t)
{
	struct stack_rows sr = { 0 };
	struct buffer key = { 0 };
	uint64_t rate = profile_sample_rate(p);
	int ret = -ENOMEM;

	memset(t, 0, sizeof(*t));
	t->profile = p;
	if (o->by == GROUP_TYPE)
		return group_has_types(s) ? group_types(p, s, o, t) : -EINVAL;
	sr.first = calloc(p->nstacks ? p->nstacks : 1, sizeof(*sr.first));
	sr.count = calloc(p->nstacks ? p->nstacks : 1, sizeof(*sr.count));
	if (!sr.first || !sr.count)
		goto out;
	for (size_t i = 0; i < p->nstacks; i++)
		if (map_stack(t, o, (uint32_t)i, &sr, &key) < 0)
			goto out;
	for (size_t i = 0; i < p->nsites; i++) {
		const struct profile_site *site = &p->sites[i];

		if (!s && sr.count[site->stack]) {
			t->size += site->live_bytes;
			t->count += site->live_blocks;
		}
		for (uint32_t k = 0; k < sr.count[site->stack]; k++) {
			struct group_row *r = &t->rows[sr.rows[sr.first[site->stack] + k]];

			r->allocations += site->allocations;
			r->bytes_allocated += site->bytes_allocated;
			r->temporary += site->temporary;
			r->peak_bytes += site->peak_bytes;
			if (!s) {
				r->size += site->live_bytes;
				r->count += site->live_blocks;
			}
		}
	}
	for (uint64_t i = 0; s && i < s->nblocks; i++) {
		const struct profile_block *b = &s->blocks[i];

		struct profile_weight w;

		if (!sr.count[b->stack] || !wanted_generation(o, b->generation))
			continue;
		w = profile_block_weight(rate, b);
		t->size += w.bytes;
		t->count += w.blocks;
		for (uint32_t k = 0; k < sr.count[b->stack]; k++) {
			struct group_row *r = &t->rows[sr.rows[sr.first[b->stack] + k]];

			r->size += w.bytes;
			r->count += w.blocks;
			if (b->generation >= 1)
				r->old_size += w.bytes;
		}
	}
	ret = 0;
out:
	/* kept for group_row_stacks */
	t->stack_first = sr.first;
	t->stack_count = sr.count;
	t->stack_rows = sr.rows;
	free(key.data);
	return ret;
}

void group_release(struct group_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->rows[i].key);
	free(t->rows);
	free(t->slots);
	free(t->stack_first);
	free(t->stack_count);
	free(t->stack_rows);
	memset(t, 0, sizeof(*t));
}

uint64_t group_sort_value(const struct group_row *r, enum group_sort by)
{
	switch (by) {
	case SORT_COUNT:
		return r->count;
	case SORT_ALLOCATED:
		return r->bytes_allocated;
	case SORT_ALLOCATIONS:
		return r->allocations;
	case SORT_TEMPORARY:
		return r->temporary;
	case SORT_PEAK:
		return r->peak_bytes;
	case SORT_SIZE:
	default:
		return r->size;
	}
}

struct sort_order {
	const struct group_row *rows;
	enum group_sort by;
};

/* Compares two row indices by the rows they name. */
static int by_field(const void *a, const void *b, void *arg)
{
	const struct sort_order *o = arg;
	const struct group_row *x = &o->rows[*(const uint32_t *)a], *y = &o->rows[*(const uint32_t *)b];
	uint64_t fx = group_sort_value(x, o->by), fy = group_sort_value(y, o->by);

	if (fx != fy)
		return fx < fy ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

/*
 * Sorting moves the rows, so everything that names a row by its index (the
 * key index, the rows of each stack) is renamed through the permutation.
 */
int group_sort(struct group_table *t, enum group_sort by)
{
	struct sort_order order = { t->rows, by };
	uint32_t *perm = malloc((t->n ? t->n : 1) * sizeof(*perm));
	uint32_t *renamed = malloc((t->n ? t->n : 1) * sizeof(*renamed));
	struct group_row *sorted = malloc((t->n ? t->n : 1) * sizeof(*sorted));
	int ret = -ENOMEM;

	if (!perm || !renamed || !sorted)
		goto out;
	for (size_t i = 0; i < t->n; i++)
		perm[i] = (uint32_t)i;
	qsort_r(perm, t->n, sizeof(*perm), by_field, &order);
	for (size_t i = 0; i < t->n; i++) {
		sorted[i] = t->rows[perm[i]];
		renamed[perm[i]] = (uint32_t)i;
	}
	memcpy(t->rows, sorted, t->n * sizeof(*sorted));
	for (size_t i = 0; t->stack_count && i < t->profile->nstacks; i++)
		for (uint32_t k = 0; k < t->stack_count[i]; k++)
			t->stack_rows[t->stack_first[i] + k] = renamed[t->stack_rows[t->stack_first[i] + k]];
	if ((ret = rehash(t, t->n)) < 0) {
		/* the old index names rows that moved: better none */
		free(t->slots);
		t->slots = NULL;
		t->nslots = 0;
	}
out:
	free(perm);
	free(renamed);
	free(sorted);
	return ret;
}

void group_describe(const struct group_table *t, const struct group_row *r, enum group_by by,
		    char *buf, size_t len)
{
	const struct profile *p = t->profile;
	const struct profile_frame *f;
	const char *fn, *file;

	if (by == GROUP_TYPE) {
		snprintf(buf, len, "%s", r->key);
		return;
	}
	if (r->frame == PROFILE_NONE) {
		snprintf(buf, len, "<unknown stack>");
		return;
	}
	f = &p->frames[r->frame];
	fn = profile_str(p, f->function);
	file = profile_str(p, f->file);
	if (by == GROUP_MODULE) {
		snprintf(buf, len, "%s", f->module == PROFILE_NONE ? "?" :
			 profile_str(p, p->modules[f->module].path));
	} else if (by == GROUP_FILE && *file) {
		snprintf(buf, len, "%s", file);
	} else if ((by == GROUP_LINENO || by == GROUP_TRACEBACK) && *file) {
		snprintf(buf, len, "%s:%u", file, f->line);
	} else if (*fn) {
		snprintf(buf, len, "%s", fn);
	} else {
		snprintf(buf, len, "%s+0x%llx", site_module_name(p, f->module),
			 (unsigned long long)site_module_offset(p, f));
	}
}

void group_frames(const struct group_table *t, const struct group_row *r, int most_recent_first,
		  void (*fn)(const struct profile *p, uint32_t frame, void *arg), void *arg)
{
	const struct profile *p = t->profile;
	const struct profile_stack *st = &p->stacks[r->stack];

	if (r->frame == PROFILE_NONE)
		return;
	for (uint32_t k = 0; k + r->depth_from < st->depth; k++) {
		uint32_t i = most_recent_first ? r->depth_from + k : st->depth - 1 - k;

		fn(p, p->stack_frames[st->first + i], arg);
	}
}

size_t group_row_stacks(const struct group_table *t, const struct group_row *r, uint32_t *out, size_t max)
{
	uint32_t row = (uint32_t)(r - t->rows);
	size_t n = 0;

	for (size_t i = 0; t->stack_count && i < t->profile->nstacks; i++)
		for (uint32_t k = 0; k < t->stack_count[i]; k++)
			if (t->stack_rows[t->stack_first[i] + k] == row) {
				if (n < max)
					out[n] = (uint32_t)i;
				n++;
				break;
			}
	return n;
}
