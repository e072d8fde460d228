/*
 * profile.c - a profile in memory: building one (strings, meta), finding
 * its snapshots, and what a sampled profile's blocks stand for. Files are
 * profile-write.c's and profile-read.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/format.h"
#include "profile-file.h"

int profile_fail(char err[PROFILE_ERRLEN], int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, PROFILE_ERRLEN, fmt, ap);
	va_end(ap);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

struct intern_table {
	uint32_t *slots;	/* string offsets, 0 = empty */
	size_t capacity, count;
};

int profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->strings_cap = 4096;
	p->strings = calloc(1, p->strings_cap);
	if (!p->strings)
		return -ENOMEM;
	p->strings_len = 1;
	return 0;
}

void profile_release(struct profile *p)
{
	struct intern_table *it = p->intern;

	for (size_t i = 0; i < p->nsnapshots; i++) {
		free(p->snapshots[i].allocated);
		free(p->snapshots[i].blocks);
		profile_scan_free(p->snapshots[i].scan);
		free(p->snapshots[i].types);
	}
	free(p->snapshots);
	free(p->strings);
	free(p->meta);
	free(p->modules);
	free(p->frames);
	free(p->frame_sources);
	free(p->stacks);
	free(p->stack_frames);
	free(p->sites);
	free(p->samples);
	if (p->source_free)
		p->source_free(p->source);
	if (p->loader)
		p->loader->release(p->loader);
	if (it)
		free(it->slots);
	free(it);
	memset(p, 0, sizeof(*p));
}

void profile_scan_free(struct profile_scan *scan)
{
	if (!scan)
		return;
	free(scan->roots);
	free(scan->edges);
	free(scan->unscanned);
	free(scan->names);
	free(scan);
}

const struct profile_edge_name *profile_edge_name_of(const struct profile_scan *sc, uint32_t from,
						     uint32_t offset)
{
	size_t lo = 0, hi = sc ? sc->nnames : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct profile_edge_name *n = &sc->names[mid];

		if (n->from == from && n->offset == offset)
			return n;
		if (n->from < from || (n->from == from && n->offset < offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int intern_grow(struct profile *p, struct intern_table *it)
{
	size_t cap = it->capacity ? it->capacity * 2 : 1024;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < it->capacity; i++) {
		uint32_t off = it->slots[i];
		size_t j;

		if (!off)
			continue;
		for (j = str_hash(p->strings + off) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = off;
	}
	free(it->slots);
	it->slots = slots;
	it->capacity = cap;
	return 0;
}

uint32_t profile_intern(struct profile *p, const char *s)
{
	struct intern_table *it = p->intern;
	size_t len, j;
	uint32_t off;

	if (!s || !*s)
		return 0;
	if (!it) {
		it = calloc(1, sizeof(*it));
		if (!it)
			return 0;
		p->intern = it;
	}
	if ((it->count + 1) * 2 > it->capacity && intern_grow(p, it) < 0)
		return 0;
	for (j = str_hash(s) & (it->capacity - 1); it->slots[j]; j = (j + 1) & (it->capacity - 1))
		if (strcmp(p->strings + it->slots[j], s) == 0)
			return it->slots[j];
	len = strlen(s) + 1;
	if (p->strings_len + len > UINT32_MAX)
		return 0;
	if (p->strings_len + len > p->strings_cap) {
		size_t cap = p->strings_cap * 2;
		char *n;

		while (cap < p->strings_len + len)
			cap *= 2;
		n = realloc(p->strings, cap);
		if (!n)
			return 0;
		p->strings = n;
		p->strings_cap = cap;
	}
	off = (uint32_t)p->strings_len;
	memcpy(p->strings + off, s, len);
	format_make_printable(p->strings + off, len - 1);	/* no terminal escapes from names */
	p->strings_len += len;
	it->slots[j] = off;
	it->count++;
	return off;
}

int profile_set_meta(struct profile *p, const char *key, const char *value)
{
	struct profile_meta *m = realloc(p->meta, (p->nmeta + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	p->meta = m;
	m[p->nmeta].key = profile_intern(p, key);
	m[p->nmeta].value = profile_intern(p, value ? value : "");
	p->nmeta++;
	return 0;
}

int profile_set_meta_u64(struct profile *p, const char *key, uint64_t value)
{
	char decimal[32];

	snprintf(decimal, sizeof(decimal), "%llu", (unsigned long long)value);
	return profile_set_meta(p, key, decimal);
}

const char *profile_get_meta(const struct profile *p, const char *key)
{
	for (size_t i = p->nmeta; i-- > 0;)
		if (strcmp(profile_str(p, p->meta[i].key), key) == 0)
			return profile_str(p, p->meta[i].value);
	return NULL;
}

uint32_t profile_image_program(const struct profile *p, uint32_t image)
{
	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].image == image)
			return (uint32_t)i;
	return PROFILE_NONE;
}

struct profile_snapshot *profile_find_snapshot(struct profile *p, const char *name)
{
	char *end;
	unsigned long n;

	for (size_t i = 0; i < p->nsnapshots; i++)
		if (strcmp(profile_str(p, p->snapshots[i].name), name) == 0)
			return &p->snapshots[i];
	n = strtoul(name, &end, 10);
	if (*name && !*end && n >= 1 && n <= p->nsnapshots)
		return &p->snapshots[n - 1];
	return NULL;
}

struct profile_weight profile_sample_weight(uint64_t rate, uint64_t size)
{
	double p;

	if (!rate)
		return (struct profile_weight){ size, 1 };
	p = -expm1(-(double)size / (double)rate);	/* 1 - exp(-s/R), exact for small s */
	if (!(p > 0))
		return (struct profile_weight){ size, 1 };	/* size 0: caught by a thread's first draw */
	return (struct profile_weight){ (uint64_t)llround((double)size / p), (uint64_t)llround(1 / p) };
}

int profile_meta_u64(const struct profile *p, const char *key, uint64_t *out)
{
	const char *v = profile_get_meta(p, key);
	unsigned long long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return -ENOENT;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = n;
	return 0;
}

uint64_t profile_sample_rate(const struct profile *p)
{
	uint64_t rate;

	if (profile_meta_u64(p, PROFILE_META_SAMPLE_RATE, &rate) < 0)
		return 0;
	return rate > PROFILE_MAX_SAMPLE_RATE ? 0 : rate;
}

const char *profile_weigh_snapshots(struct profile *p)
{
	uint64_t rate = profile_sample_rate(p);

	for (size_t k = 0; k < p->nsnapshots; k++) {
		p->snapshots[k].sample_rate = rate;
		if (!rate) {
			p->snapshots[k].est_blocks = p->snapshots[k].nblocks;
			p->snapshots[k].est_known = 1;
		}
	}
	for (size_t k = 0; rate && k < p->nsnapshots; k++) {
		struct profile_snapshot *s = &p->snapshots[k];
		uint64_t blocks = 0;

		if (s->unread)
			continue;	/* its head has its estimate, the file its blocks' */
		s->bytes = 0;
		for (uint64_t i = 0; i < s->nblocks; i++) {
			struct profile_weight w = profile_block_weight(rate, &s->blocks[i]);

			/* each term is under 2^45: neither sum can wrap before the check */
			s->bytes += w.bytes;
			blocks += w.blocks;
			if (s->bytes > PROFILE_MAX_BYTES || blocks > PROFILE_MAX_BYTES) {
				s->bytes = PROFILE_MAX_BYTES;
				return "a sampled snapshot's estimates add up to more than 2^62";
			}
		}
		s->est_blocks = blocks;
		s->est_known = 1;
	}
	return NULL;
}

/* v + x, no more than limit */
static uint64_t add_within(uint64_t v, uint64_t x, uint64_t limit)
{
	return v > limit || x > limit - v ? limit : v + x;
}

void profile_allocated_until(const struct profile *p, size_t k, uint64_t *allocations, uint64_t *bytes)
{
	const struct profile_snapshot *s = &p->snapshots[k];
	uint64_t *run_allocations = NULL, *run_bytes = NULL;

	for (size_t i = 0; i < p->nsites; i++) {
		allocations[p->sites[i].stack] = add_within(allocations[p->sites[i].stack],
							    p->sites[i].allocations, PROFILE_MAX_BYTES);
		bytes[p->sites[i].stack] = add_within(bytes[p->sites[i].stack], p->sites[i].bytes_allocated,
						      PROFILE_MAX_BYTES);
	}
	if (s->allocated_kind == PROFILE_ALLOCATED_AFTER) {
		for (uint64_t i = 0; i < s->nallocated; i++) {
			const struct profile_alloc_count *a = &s->allocated[i];

			allocations[a->stack] -= a->allocations < allocations[a->stack] ? a->allocations
											 : allocations[a->stack];
			bytes[a->stack] -= a->bytes < bytes[a->stack] ? a->bytes : bytes[a->stack];
		}
		return;
	}
	if (s->allocated_kind != PROFILE_ALLOCATED_SINCE)
		return;
	/* the counts since each snapshot before, summed, no stack past its run total */
	run_allocations = malloc((p->nstacks + 1) * sizeof(uint64_t));
	run_bytes = malloc((p->nstacks + 1) * sizeof(uint64_t));
	if (!run_allocations || !run_bytes)
		goto out;	/* the run's totals, then */
	memcpy(run_allocations, allocations, p->nstacks * sizeof(uint64_t));
	memcpy(run_bytes, bytes, p->nstacks * sizeof(uint64_t));
	memset(allocations, 0, p->nstacks * sizeof(uint64_t));
	memset(bytes, 0, p->nstacks * sizeof(uint64_t));
	for (size_t j = 0; j <= k; j++) {
		const struct profile_snapshot *t = &p->snapshots[j];

		if (t->allocated_kind != PROFILE_ALLOCATED_SINCE)
			continue;
		for (uint64_t i = 0; i < t->nallocated; i++) {
			const struct profile_alloc_count *a = &t->allocated[i];

			allocations[a->stack] = add_within(allocations[a->stack], a->allocations,
							   run_allocations[a->stack]);
			bytes[a->stack] = add_within(bytes[a->stack], a->bytes, run_bytes[a->stack]);
		}
	}
out:
	free(run_allocations);
	free(run_bytes);
}
