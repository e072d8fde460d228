/*
 * live-model.c - group the run's latest profile, work out rates against
 * the one before and growth against the mark, filter and sort the rows.
 * Nothing here draws.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/site-names.h"
#include "../report/util/format.h"
#include "live-model.h"

static const char *const sort_titles[LIVE_SORTS] = {
	[LIVE_SORT_BYTES] = "live bytes", [LIVE_SORT_BLOCKS] = "live blocks",
	[LIVE_SORT_RATE] = "allocations/s", [LIVE_SORT_GROWTH] = "growth since the mark",
	[LIVE_SORT_ALLOCATED] = "bytes allocated",
};

static const char *const sort_keywords[LIVE_SORTS] = {
	[LIVE_SORT_BYTES] = "bytes", [LIVE_SORT_BLOCKS] = "blocks", [LIVE_SORT_RATE] = "rate",
	[LIVE_SORT_GROWTH] = "growth", [LIVE_SORT_ALLOCATED] = "allocated",
};

const char *live_sort_title(enum live_sort s)
{
	return sort_titles[s];
}

const char *live_sort_keyword(enum live_sort s)
{
	return sort_keywords[s];
}

int live_sort_parse(const char *s)
{
	for (int i = 0; i < LIVE_SORTS; i++)
		if (!strcmp(s, sort_keywords[i]))
			return i;
	return -1;
}

void live_format_rate(double rate, char *buf, size_t len)
{
	if (rate < 0.05)
		snprintf(buf, len, "0");
	else if (rate < 10)
		snprintf(buf, len, "%.1f", rate);
	else if (rate < 1000)
		snprintf(buf, len, "%.0f", rate);
	else if (rate < 1e6)
		snprintf(buf, len, "%.1fk", rate / 1e3);
	else
		snprintf(buf, len, "%.1fM", rate / 1e6);
}

void live_format_growth(int64_t bytes, char *buf, size_t len)
{
	char size[32];

	if (!bytes) {
		snprintf(buf, len, "0");
		return;
	}
	format_bytes(bytes < 0 ? (uint64_t)-bytes : (uint64_t)bytes, size, sizeof(size));
	snprintf(buf, len, "%c%s", bytes < 0 ? '-' : '+', size);
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

static void frame_put(struct live_frame *f)
{
	if (f && --f->refs == 0) {
		profile_release(&f->p);
		free(f);
	}
}

void live_model_init(struct live_model *m, enum group_by by, enum live_sort sort)
{
	memset(m, 0, sizeof(*m));
	m->by = by;
	m->sort = sort;
}

void live_model_release(struct live_model *m)
{
	group_release(&m->table);
	group_release(&m->prev_table);
	group_release(&m->mark_table);
	frame_put(m->cur);
	frame_put(m->prev);
	frame_put(m->mark);
	free(m->rows);
	memset(m, 0, sizeof(*m));
}

int live_model_push(struct live_model *m, struct profile *p)
{
	struct live_frame *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->p = *p;
	memset(p, 0, sizeof(*p));
	f->refs = 1;
	f->t_ns = f->p.totals.duration_ns;
	frame_put(m->prev);
	m->prev = m->cur;
	m->cur = f;
	if (!m->mark && !m->mark_at_start) {
		m->mark = f;
		f->refs++;
	}
	m->alloc_rate = m->free_rate = 0;
	if (m->prev && f->t_ns > m->prev->t_ns) {
		double dt = (double)(f->t_ns - m->prev->t_ns) / 1e9;

		m->alloc_rate = (double)(f->p.totals.allocations - m->prev->p.totals.allocations) / dt;
		m->free_rate = (double)(f->p.totals.frees - m->prev->p.totals.frees) / dt;
	} else if (!m->prev && f->t_ns) {
		/* the first one: the average since the start */
		m->alloc_rate = (double)f->p.totals.allocations / ((double)f->t_ns / 1e9);
		m->free_rate = (double)f->p.totals.frees / ((double)f->t_ns / 1e9);
	}
	return 0;
}

void live_model_mark(struct live_model *m)
{
	if (!m->cur)
		return;
	frame_put(m->mark);
	m->mark = m->cur;
	m->mark->refs++;
	m->mark_at_start = 0;
}

const char *live_model_meta(const struct live_model *m, const char *key)
{
	const char *v = m->cur ? profile_get_meta(&m->cur->p, key) : NULL;

	return v ? v : "";
}

uint64_t live_model_rss(const struct live_model *m)
{
	if (!m->cur || !m->cur->p.nsamples)
		return 0;
	return m->cur->p.samples[m->cur->p.nsamples - 1].rss_bytes;
}

const char *live_model_estimated(const struct live_model *m)
{
	return m->cur && profile_sample_rate(&m->cur->p) ? "~" : "";
}

double live_model_mark_age(const struct live_model *m)
{
	if (!m->cur || !(m->mark || m->mark_at_start))
		return 0;
	return (double)(m->cur->t_ns - (m->mark ? m->mark->t_ns : 0)) / 1e9;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static int group(const struct live_frame *f, enum group_by by, struct group_table *t)
{
	struct group_options o = GROUP_OPTIONS_INIT;

	group_release(t);
	if (!f)
		return 0;
	o.by = by;
	return group_snapshot(&f->p, NULL, &o, t);
}

/* Append the function of a frame to a traceback's name. */
static void add_caller(const struct profile *p, uint32_t frame, void *arg)
{
	char *name = arg;
	const char *fn = profile_str(p, p->frames[frame].function);
	size_t len = strlen(name);

	if (len + 4 < sizeof(((struct live_row *)0)->name))
		snprintf(name + len, sizeof(((struct live_row *)0)->name) - len, " < %s", *fn ? fn : "?");
}

/*
 * A row's name: by line, the function too ("parse parse.c:118"); a
 * traceback as its place and then its callers ("parse parse.c:118 <
 * load < main"); the others as group_describe says.
 */
static void describe(const struct live_model *m, const struct group_row *g, char *buf, size_t len)
{
	const struct profile *p = &m->cur->p;

	if (g->frame == PROFILE_NONE || (m->by != GROUP_LINENO && m->by != GROUP_TRACEBACK)) {
		group_describe(&m->table, g, m->by, buf, len);
		return;
	}
	site_name(p, g->frame, buf, len);
	if (m->by == GROUP_TRACEBACK) {
		const struct profile_stack *st = &p->stacks[g->stack];

		for (uint32_t k = g->depth_from + 1; k < st->depth; k++)
			add_caller(p, p->stack_frames[st->first + k], buf);
	}
}

static uint64_t sort_value(const struct live_row *r, enum live_sort s)
{
	switch (s) {
	case LIVE_SORT_BLOCKS:
		return r->blocks;
	case LIVE_SORT_RATE:
		return (uint64_t)(r->rate * 1000);
	case LIVE_SORT_ALLOCATED:
		return r->allocated;
	case LIVE_SORT_GROWTH:
		/* order signed growth as unsigned: shift by 2^63 */
		return (uint64_t)r->growth ^ (1ull << 63);
	case LIVE_SORT_BYTES:
	default:
		return r->bytes;
	}
}

static int by_sort(const void *a, const void *b, void *arg)
{
	const struct live_row *x = a, *y = b;
	enum live_sort sorting = *(const enum live_sort *)arg;
	uint64_t vx = sort_value(x, sorting), vy = sort_value(y, sorting);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One "COUNT BYTES TYPE" part of a census; 0 at its end. */
static int census_line(const char **at, uint64_t *count, uint64_t *bytes, char *name, size_t len)
{
	const char *p = *at, *end;
	unsigned long long c, b;
	int used = 0;

	if (!p || !*p)
		return 0;
	end = strchr(p, ';');
	if (sscanf(p, "%llu %llu %n", &c, &b, &used) < 2 || !used) {
		*at = NULL;
		return 0;
	}
	*count = c;
	*bytes = b;
	snprintf(name, len, "%.*s", (int)((end ? end : p + strlen(p)) - (p + used)), p + used);
	*at = end ? end + 1 : p + strlen(p);
	return 1;
}

/* The first "COUNT BYTES TYPE" part of a census, after its "NAME T_NS". */
static const char *census_types(const char *census)
{
	const char *at = census ? strchr(census, ';') : NULL;

	return at ? at + 1 : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct live_row *)a)->name, ((const struct live_row *)b)->name);
}

/* Each row's growth: its bytes less what the mark's census has first for
 * its type's name, read in one pass over that census (the rows sorted by
 * name meanwhile; two types may share a name). */
static int census_growth(struct live_model *m, const char *marked)
{
	const char *at = census_types(marked);
	uint8_t *done = calloc(m->nrows + 1, 1);
	struct live_row key, *r;
	uint64_t count, bytes;

	if (!done)
		return -ENOMEM;
	for (size_t i = 0; i < m->nrows; i++)
		m->rows[i].growth = (int64_t)m->rows[i].bytes;
	qsort(m->rows, m->nrows, sizeof(*m->rows), by_name);
	while (census_line(&at, &count, &bytes, key.name, sizeof(key.name))) {
		size_t i;

		if (!(r = bsearch(&key, m->rows, m->nrows, sizeof(*m->rows), by_name)))
			continue;
		for (i = (size_t)(r - m->rows); i > 0 && by_name(&m->rows[i - 1], &key) == 0; i--)
			;
		for (; i < m->nrows && by_name(&m->rows[i], &key) == 0 && !done[i]; i++) {
			m->rows[i].growth -= (int64_t)bytes;
			done[i] = 1;
		}
	}
	free(done);
	return 0;
}

const char *live_model_census(const struct live_model *m, double *age, char *name, size_t len)
{
	const char *census = m->cur ? profile_get_meta(&m->cur->p, "python-types") : NULL;
	const char *space;

	if (!census)
		return NULL;
	/* its first part: "NAME T_NS", the name perhaps with spaces */
	space = strchr(census, ';');
	space = space ? space : census + strlen(census);
	while (space > census && space[-1] != ' ')
		space--;
	if (age)
		*age = (double)(m->cur->t_ns - strtoull(space, NULL, 10)) / 1e9;
	if (name)
		snprintf(name, len, "%.*s", (int)(space > census ? space - census - 1 : 0), census);
	return census;
}

void live_model_gc_text(const struct live_model *m, char *buf, size_t len)
{
	const char *enabled = live_model_meta(m, "python-gc-enabled");
	unsigned c[3], t[3];
	unsigned long long runs[3];

	buf[0] = '\0';
	if (!*enabled || sscanf(live_model_meta(m, "python-gc-count"), "%u %u %u", &c[0], &c[1], &c[2]) != 3 ||
	    sscanf(live_model_meta(m, "python-gc-threshold"), "%u %u %u", &t[0], &t[1], &t[2]) != 3 ||
	    sscanf(live_model_meta(m, "python-gc-collections"), "%llu %llu %llu", &runs[0], &runs[1], &runs[2]) != 3)
		return;
	snprintf(buf, len, "gc %s %u/%u %u/%u %u/%u, %llu collections", strcmp(enabled, "1") ? "off" : "on",
		 c[0], t[0], c[1], t[1], c[2], t[2], runs[0] + runs[1] + runs[2]);
}

/* By type: the rows of the last census of types (no rates: a census
 * counts objects, not allocations); growth against the mark's census. */
static int rebuild_types(struct live_model *m)
{
	const char *census = live_model_census(m, NULL, NULL, 0), *at;
	const char *marked = m->mark ? profile_get_meta(&m->mark->p, "python-types") : NULL;
	size_t n = 0;
	uint64_t count, bytes;
	char name[sizeof(((struct live_row *)0)->name)];

	for (at = census ? strchr(census, ';') : NULL; at && *at; at = strchr(at + 1, ';'))
		n++;
	free(m->rows);
	m->cap = n ? n : 1;
	m->rows = calloc(m->cap, sizeof(*m->rows));
	if (!m->rows)
		return -ENOMEM;
	at = census_types(census);
	m->census_bytes = 0;
	while (m->nrows < m->cap && census_line(&at, &count, &bytes, name, sizeof(name))) {
		struct live_row *r = &m->rows[m->nrows];

		m->census_bytes += bytes;
		if (m->filter[0] && !strcasestr(name, m->filter))
			continue;
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->bytes = bytes;
		r->blocks = count;
		m->nrows++;
	}
	if (census_growth(m, marked) < 0)
		return -ENOMEM;
	qsort_r(m->rows, m->nrows, sizeof(*m->rows), by_sort, &m->sort);
	return 0;
}

int live_model_rebuild(struct live_model *m)
{
	double dt = 0;

	m->nrows = 0;
	if (m->by == GROUP_TYPE)
		return rebuild_types(m);
	if (group(m->cur, m->by, &m->table) < 0 ||
	    group(m->prev, m->by, &m->prev_table) < 0 ||
	    group(m->mark, m->by, &m->mark_table) < 0)
		return -ENOMEM;
	if (!m->cur)
		return 0;
	if (m->prev && m->cur->t_ns > m->prev->t_ns)
		dt = (double)(m->cur->t_ns - m->prev->t_ns) / 1e9;
	free(m->rows);
	m->cap = m->table.n ? m->table.n : 1;
	m->rows = calloc(m->cap, sizeof(*m->rows));
	if (!m->rows)
		return -ENOMEM;
	for (size_t i = 0; i < m->table.n; i++) {
		const struct group_row *g = &m->table.rows[i];
		const struct group_row *before, *marked;
		struct live_row *r = &m->rows[m->nrows];

		if (!g->allocations)
			continue;
		describe(m, g, r->name, sizeof(r->name));
		if (m->filter[0] && !strcasestr(r->name, m->filter))
			continue;
		r->g = g;
		r->bytes = g->size;
		r->blocks = g->count;
		r->allocated = g->bytes_allocated;
		before = m->prev ? group_find(&m->prev_table, g->key) : NULL;
		if (dt > 0)
			r->rate = (double)(g->allocations - (before ? before->allocations : 0)) / dt;
		else if (m->cur->t_ns)
			r->rate = (double)g->allocations / ((double)m->cur->t_ns / 1e9);
		marked = group_find(&m->mark_table, g->key);
		r->growth = (int64_t)g->size - (int64_t)(marked ? marked->size : 0);
		m->nrows++;
	}
	qsort_r(m->rows, m->nrows, sizeof(*m->rows), by_sort, &m->sort);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

#define COLUMNS "%10s %5s %7s %7s %11s %10s  %s"

void live_columns_header(char *buf, size_t len)
{
	snprintf(buf, len, COLUMNS, "LIVE BYTES", "%", "BLOCKS", "ALLOC/S", "SINCE MARK", "ALLOCATED",
		 "LOCATION");
}

void live_row_text(const struct live_model *m, const struct live_row *r, char *buf, size_t len)
{
	char bytes[40], pct[16], blocks[40], rate[40], growth[40], allocated[40], size[32];
	uint64_t heap = m->cur ? m->cur->p.totals.live_bytes : 0;
	const char *est = live_model_estimated(m);

	if (m->by == GROUP_TYPE)
		heap = m->census_bytes;	/* a share of the census, which is older than the heap */
	format_bytes(r->bytes, size, sizeof(size));
	snprintf(bytes, sizeof(bytes), "%s%s", est, size);
	snprintf(pct, sizeof(pct), "%.1f%%", heap ? 100.0 * (double)r->bytes / (double)heap : 0.0);
	snprintf(blocks, sizeof(blocks), "%s%llu", est, (unsigned long long)r->blocks);
	live_format_rate(r->rate, size, sizeof(size));
	snprintf(rate, sizeof(rate), "%s%s", est, size);
	live_format_growth(r->growth, size, sizeof(size));
	snprintf(growth, sizeof(growth), "%s%s", est, size);
	format_bytes(r->allocated, size, sizeof(size));
	snprintf(allocated, sizeof(allocated), "%s%s", est, size);
	if (m->by == GROUP_TYPE) {
		/* a census counts objects, not allocations */
		snprintf(rate, sizeof(rate), "-");
		snprintf(allocated, sizeof(allocated), "-");
	}
	snprintf(buf, len, COLUMNS, bytes, pct, blocks, rate, growth, allocated, r->name);
}
