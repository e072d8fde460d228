/*
 * live-model.h - what `heapwise live` shows, apart from how: the profiles
 * the run sent, grouped by the chosen key, with rates between the last two
 * and growth since the mark, filtered and sorted. The ncurses screen and
 * the --batch text both draw from it, as `top` draws from report/group.
 */
#ifndef HEAPWISE_LIVE_MODEL_H
#define HEAPWISE_LIVE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../report/analysis/group.h"
#include "../report/profile/profile.h"

enum live_sort {
	LIVE_SORT_BYTES,	/* live bytes */
	LIVE_SORT_BLOCKS,	/* live blocks */
	LIVE_SORT_RATE,		/* allocations per second, lately */
	LIVE_SORT_GROWTH,	/* live bytes gained since the mark */
	LIVE_SORT_ALLOCATED,	/* bytes allocated since the start */
	LIVE_SORTS
};

/* One profile from the run, shared by cur, prev and mark. */
struct live_frame {
	struct profile p;
	int refs;
	uint64_t t_ns;		/* its time since the program started */
};

/* One line of the table. */
struct live_row {
	const struct group_row *g;	/* in the model's table; NULL by type */
	char name[512];			/* "function file:line", as group_describe says */
	uint64_t bytes, blocks;		/* live now */
	uint64_t allocated;		/* bytes allocated since the start */
	double rate;			/* allocations per second between the last two profiles */
	int64_t growth;			/* live bytes since the mark */
};

struct live_model {
	struct live_frame *cur, *prev, *mark;
	struct group_table table, prev_table, mark_table;
	enum group_by by;
	enum live_sort sort;
	char filter[128];		/* rows whose name holds this (any case); "" = all */
	struct live_row *rows;		/* filtered and sorted */
	size_t nrows, cap;
	double alloc_rate, free_rate;	/* run-wide, per second, lately */
	int mark_at_start;		/* the mark is the program's start, when nothing was live */
	uint64_t census_bytes;		/* by type: the bytes of the census shown */
};

void live_model_init(struct live_model *m, enum group_by by, enum live_sort sort);
void live_model_release(struct live_model *m);

/* Take the profile the run sent (moved out of *p, which is left empty).
 * The first one becomes the mark, unless mark_at_start is set (the
 * dashboard started the program: growth counts from its start). Returns 0
 * or -ENOMEM. */
int live_model_push(struct live_model *m, struct profile *p);

/* Growth counts from now on. */
void live_model_mark(struct live_model *m);

/* Group, filter and sort again (after a push or a change of key or
 * filter). Returns 0 or -ENOMEM. */
int live_model_rebuild(struct live_model *m);

/* Meta the run sent with the current profile, "" when absent. */
const char *live_model_meta(const struct live_model *m, const char *key);

/* A Python program's last census of types (pymeta.h's "python-types"
 * text), NULL when none came yet; *age, if given, gets its age in seconds
 * and name the snapshot's name. */
const char *live_model_census(const struct live_model *m, double *age, char *name, size_t len);

/* A Python program's cycle collector now, for a header: "gc on 280/700
 * 8/10 3/10, 709 collections" (each generation's count and threshold);
 * "" for a program without one. */
void live_model_gc_text(const struct live_model *m, char *buf, size_t len);

/* The latest resident set size, 0 if unknown. */
uint64_t live_model_rss(const struct live_model *m);

/* "~" when the run is sampled (run --sample-rate): its counts and sizes are
 * estimates, marked as every report marks them; "" when exact. */
const char *live_model_estimated(const struct live_model *m);

/* The mark's age in seconds (0 when it is the current profile). */
double live_model_mark_age(const struct live_model *m);

/* "live bytes", "blocks", ... ; and the --sort keyword of each. */
const char *live_sort_title(enum live_sort s);
const char *live_sort_keyword(enum live_sort s);
/* Parse a --sort keyword; -1 when unknown. */
int live_sort_parse(const char *s);

/* The table's columns, as the dashboard and --batch print them: the
 * header, and one row (location last, cut to fit len). */
#define LIVE_COLUMNS_WIDTH	57	/* before the location */
#define LIVE_GROWTH_COLUMN	33	/* where SINCE MARK starts, 11 wide */
void live_columns_header(char *buf, size_t len);
void live_row_text(const struct live_model *m, const struct live_row *r, char *buf, size_t len);

/* "98.1k", "1.2M", "12": a per-second rate in few characters. */
void live_format_rate(double rate, char *buf, size_t len);

/* "+976.6 KiB", "-12 B", "0". */
void live_format_growth(int64_t bytes, char *buf, size_t len);

#endif
