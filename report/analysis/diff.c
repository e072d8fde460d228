/*
 * diff.c - compare two groupings of snapshots (see diff.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* tracemalloc's order: |size_diff|, size, |count_diff|, count; then key. */
static int by_change(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;

	if (abs64(x->v.size_diff) != abs64(y->v.size_diff))
		return abs64(x->v.size_diff) < abs64(y->v.size_diff) ? 1 : -1;
	if (x->v.size != y->v.size)
		return x->v.size < y->v.size ? 1 : -1;
	if (abs64(x->v.count_diff) != abs64(y->v.count_diff))
		return abs64(x->v.count_diff) < abs64(y->v.count_diff) ? 1 : -1;
	if (x->v.count != y->v.count)
		return x->v.count < y->v.count ? 1 : -1;
	return strcmp(x->row->key, y->row->key);
}

int diff_compare(struct diff *d)
{
	d->rows = calloc(d->old.n + d->new.n + 1, sizeof(*d->rows));
	if (!d->rows)
		return -ENOMEM;
	for (size_t i = 0; i < d->new.n; i++) {
		const struct group_row *r = &d->new.rows[i];
		const struct group_row *o = group_find(&d->old, r->key);
		int64_t osize = o ? (int64_t)o->size : 0, ocount = o ? (int64_t)o->count : 0;

		if (!r->size && !osize)
			continue;	/* a place with no live blocks on either side */
		d->rows[d->n++] = (struct diff_row){ &d->new, r,
			{ (int64_t)r->size, (int64_t)r->size - osize, (int64_t)r->count, (int64_t)r->count - ocount } };
	}
	for (size_t i = 0; i < d->old.n; i++) {
		const struct group_row *o = &d->old.rows[i];

		if (o->size && !group_find(&d->new, o->key))
			d->rows[d->n++] = (struct diff_row){ &d->old, o,
				{ 0, -(int64_t)o->size, 0, -(int64_t)o->count } };
	}
	qsort(d->rows, d->n, sizeof(*d->rows), by_change);
	d->total = (struct gate_values){
		(int64_t)d->new.size, (int64_t)d->new.size - (int64_t)d->old.size,
		(int64_t)d->new.count, (int64_t)d->new.count - (int64_t)d->old.count,
	};
	return 0;
}

size_t diff_check_gates(struct diff *d)
{
	size_t held = 0;

	for (size_t g = 0; g < d->ngates; g++) {
		const struct gate *gate = &d->gates[g];

		d->tripped[g] = 0;
		if (gate->scope == GATE_TOTAL)
			d->tripped[g] = gate_holds(gate, &d->total);
		else
			for (size_t i = 0; i < d->n && !d->tripped[g]; i++)
				d->tripped[g] = gate_holds(gate, &d->rows[i].v);
		held += d->tripped[g] != 0;
	}
	return held;
}


void diff_release(struct diff *d)
{
	group_release(&d->old);
	group_release(&d->new);
	free(d->rows);
	free(d->gates);
	free(d->tripped);
	d->rows = NULL;
	d->gates = NULL;
	d->tripped = NULL;
}
