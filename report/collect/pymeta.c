/*
 * pymeta.c - a Python program's meta entries (see pymeta.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/format.h"
#include "pymeta.h"
#include "pytypes.h"

void pymeta_interpreter(const struct collector *c, struct profile *p)
{
	static const char *const says[] = {
		[WIRE_PYTHON_ON] = "Python frames on, pymalloc traced",
		[WIRE_PYTHON_UNSUPPORTED] = "a version heapwise cannot read: native frames only",
		[WIRE_PYTHON_FREE_THREADED] = "a free-threaded build: native frames only",
		[WIRE_PYTHON_OFF] = "--python=off: native frames only",
		[WIRE_PYTHON_FAILED] = "it would not take heapwise's allocator: native frames only",
	};
	const struct wire_header *h = c->hdr;
	uint32_t state = __atomic_load_n(&h->python_state, __ATOMIC_ACQUIRE), v = h->python_version;
	char object[sizeof(h->python_object)], buf[512];

	if (state == WIRE_PYTHON_NONE || state >= sizeof(says) / sizeof(says[0]))
		return;
	memcpy(object, h->python_object, sizeof(object));
	object[sizeof(object) - 1] = '\0';
	format_make_printable(object, strlen(object));
	snprintf(buf, sizeof(buf), "%u.%u.%u (%s): %s", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
		 *object ? object : "?", says[state]);
	profile_set_meta(p, "python", buf);
}

void pymeta_gc(const struct python_gc *g, struct profile *p)
{
	const struct { const char *key; const int64_t *v; } per_gen[] = {
		{ "python-gc-collections", g->collections },
		{ "python-gc-collected", g->collected },
		{ "python-gc-uncollectable", g->uncollectable },
	};
	char buf[128];

	snprintf(buf, sizeof(buf), "%d", g->enabled != 0);
	profile_set_meta(p, "python-gc-enabled", buf);
	snprintf(buf, sizeof(buf), "%d %d %d", g->count[0], g->count[1], g->count[2]);
	profile_set_meta(p, "python-gc-count", buf);
	snprintf(buf, sizeof(buf), "%d %d %d", g->threshold[0], g->threshold[1], g->threshold[2]);
	profile_set_meta(p, "python-gc-threshold", buf);
	for (size_t i = 0; i < sizeof(per_gen) / sizeof(per_gen[0]); i++) {
		snprintf(buf, sizeof(buf), "%lld %lld %lld", (long long)per_gen[i].v[0], (long long)per_gen[i].v[1],
			 (long long)per_gen[i].v[2]);
		profile_set_meta(p, per_gen[i].key, buf);
	}
}

/* The last run snapshot that has types and its blocks, NULL if none. */
static const struct run_snapshot *last_typed(const struct collector *c)
{
	for (size_t i = c->nsnapshots; i-- > 0;)
		if (c->snapshots[i].types && c->snapshots[i].blocks)
			return &c->snapshots[i];
	return NULL;
}

struct type_count {
	uint64_t count, bytes;
	const char *name;
};

static int by_bytes(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The census of rs as pymeta_types writes it, malloc'ed; NULL without memory. */
static char *census_text(const struct run_snapshot *rs)
{
	const struct pytypes *t = rs->types;
	struct type_count *counts = calloc(t->nnames + 1, sizeof(*counts));
	size_t len = 0, cap = 64 + 300 * (t->nnames + 1);
	char *text = malloc(cap);

	if (!counts || !text) {
		free(counts);
		free(text);
		return NULL;
	}
	for (size_t i = 0; i <= t->nnames; i++)
		counts[i].name = i ? t->names[i - 1] : PROFILE_NOT_AN_OBJECT;
	for (size_t i = 0; i < rs->nblocks; i++) {
		uint32_t k = t->of_block[i] <= t->nnames ? t->of_block[i] : 0;

		counts[k].count++;
		counts[k].bytes += rs->blocks[i].size;
	}
	qsort(counts, t->nnames + 1, sizeof(*counts), by_bytes);
	len = (size_t)snprintf(text, cap, "%s %llu", rs->name, (unsigned long long)rs->t_ns);
	for (char *c = text; (c = strchr(c, ';'));)
		*c = ',';
	for (size_t i = 0; i <= t->nnames && len < cap; i++) {
		char name[256];

		if (!counts[i].count)
			continue;
		/* a type name is the program's text: printable, and no ';' */
		snprintf(name, sizeof(name), "%s", counts[i].name);
		format_make_printable(name, strlen(name));
		for (char *c = name; (c = strchr(c, ';'));)
			*c = ',';
		len += (size_t)snprintf(text + len, cap - len, ";%llu %llu %s", (unsigned long long)counts[i].count,
					(unsigned long long)counts[i].bytes, name);
	}
	free(counts);
	return text;
}

int pymeta_types(const struct collector *c, struct profile *p, struct pymeta_cache *cache)
{
	const struct run_snapshot *rs = last_typed(c);

	if (!rs)
		return 0;
	if (!cache->text || strcmp(cache->name, rs->name) != 0 || cache->stamp != rs->stamp) {
		free(cache->text);
		cache->text = census_text(rs);
		if (!cache->text)
			return -ENOMEM;
		snprintf(cache->name, sizeof(cache->name), "%s", rs->name);
		cache->stamp = rs->stamp;
	}
	return profile_set_meta(p, "python-types", cache->text) < 0 ? -ENOMEM : 0;
}

void pymeta_cache_release(struct pymeta_cache *cache)
{
	free(cache->text);
	memset(cache, 0, sizeof(*cache));
}
