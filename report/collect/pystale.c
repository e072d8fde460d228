/*
 * pystale.c - what a stopped Python program holds but does not use (see
 * pystale.h): read in batches (remoteread.h), each list bounded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "pyframes.h"
#include "pystale.h"
#include "remoteread.h"

#define CHUNK_MAX	(64u << 20)	/* a stack of frames' chunk at most */
#define GC_HEAD		16		/* a PyGC_Head before each object of these */
#define LIST_OBJECT	40		/* a list object, and a dict object: what */
#define DICT_OBJECT	48		/* one is when it is no block */
#define TUPLE_ITEMS	24		/* a tuple's items, the first one the link */

static int add_stale(struct py_stale *s, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return 0;
	if (array_grow((void **)&s->stale, &s->stale_cap, s->nstale + 1, sizeof(*s->stale)) < 0)
		return -ENOMEM;
	s->stale[s->nstale++] = (struct scan_range){ lo, hi };
	return 0;
}

static int add_dead(struct py_stale *s, uint64_t object, uint64_t keep, uint64_t lo, uint64_t hi)
{
	if (!object)
		return 0;
	if (array_grow((void **)&s->dead, &s->dead_cap, s->ndead + 1, sizeof(*s->dead)) < 0)
		return -ENOMEM;
	s->dead[s->ndead++] = (struct scan_dead){ object, keep, lo, hi };
	return 0;
}

/* The free lists kept as arrays: the objects below the count are dead, the
 * slots past it stale. What a list's object is when it is no block: */
static const uint64_t object_size[WIRE_PY_FREELISTS] = { LIST_OBJECT, DICT_OBJECT, 0, 0, 0 };

static int array_lists(pid_t pid, const struct wire_header *h, struct py_stale *s)
{
	struct remote_piece p[2 * WIRE_PY_FREELISTS];
	uint64_t items[WIRE_PY_FREELISTS][WIRE_PY_FREELIST_SLOTS];
	int32_t count[WIRE_PY_FREELISTS];

	for (int i = 0; i < WIRE_PY_FREELISTS; i++) {
		p[2 * i] = (struct remote_piece){ __atomic_load_n(&h->python_freelists[i].items, __ATOMIC_ACQUIRE),
						  sizeof(items[i]), (uint8_t *)items[i], 0 };
		p[2 * i + 1] = (struct remote_piece){ __atomic_load_n(&h->python_freelists[i].count, __ATOMIC_ACQUIRE),
						      sizeof(count[i]), (uint8_t *)&count[i], 0 };
	}
	remote_read(pid, p, 2 * WIRE_PY_FREELISTS);
	for (int i = 0; i < WIRE_PY_FREELISTS; i++) {
		if (!p[2 * i].ok || !p[2 * i + 1].ok || count[i] < 0 || count[i] > WIRE_PY_FREELIST_SLOTS)
			continue;
		if (add_stale(s, p[2 * i].addr + 8 * (uint64_t)count[i], p[2 * i].addr + sizeof(items[i])) < 0)
			return -ENOMEM;
		for (int k = 0; k < count[i]; k++) {
			uint64_t o = items[i][k];

			if (add_dead(s, o, 0, object_size[i] ? o - GC_HEAD : 0, object_size[i] ? o + object_size[i] : 0) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The free lists of tuples, the one of size i + 1 at heads[i]: each
 * tuple's first item is the next; all but that word are stale. Followed a
 * round at a time, each round one batch over all the lists. */
static int tuple_lists(pid_t pid, const struct wire_header *h, struct py_stale *s)
{
	uint64_t at[WIRE_PY_TUPLE_SIZES], next[WIRE_PY_TUPLE_SIZES];
	int32_t left[WIRE_PY_TUPLE_SIZES];
	struct remote_piece p[WIRE_PY_TUPLE_SIZES], q[2] = {
		{ __atomic_load_n(&h->python_tuples.heads, __ATOMIC_ACQUIRE), sizeof(at), (uint8_t *)at, 0 },
		{ __atomic_load_n(&h->python_tuples.counts, __ATOMIC_ACQUIRE), sizeof(left), (uint8_t *)left, 0 },
	};

	if (!q[0].addr || !q[1].addr)
		return 0;
	remote_read(pid, q, 2);
	if (!q[0].ok || !q[1].ok)
		return 0;
	for (int round = 0; round < WIRE_PY_TUPLE_MAX; round++) {
		size_t n = 0;
		int index[WIRE_PY_TUPLE_SIZES];

		for (int i = 0; i < WIRE_PY_TUPLE_SIZES; i++)
			if (at[i] && left[i] > round && left[i] <= WIRE_PY_TUPLE_MAX) {
				index[n] = i;
				p[n++] = (struct remote_piece){ at[i] + TUPLE_ITEMS, 8, (uint8_t *)&next[i], 0 };
			}
		if (!n)
			break;
		remote_read(pid, p, n);
		for (size_t k = 0; k < n; k++) {
			int i = index[k];
			uint64_t t = at[i], size = (uint64_t)i + 1;

			if (add_dead(s, t, t + TUPLE_ITEMS, t + TUPLE_ITEMS + 8, t + TUPLE_ITEMS + 8 * size) < 0)
				return -ENOMEM;
			at[i] = p[k].ok ? next[i] : 0;
		}
	}
	return 0;
}

/* Each thread's stack of frames, from its top to the end of its chunk. */
static int frame_stacks(pid_t pid, const struct wire_header *h, struct py_stale *s)
{
	uint32_t chunk_at = __atomic_load_n(&h->python_tstate_chunk, __ATOMIC_ACQUIRE);
	uint32_t top_at = __atomic_load_n(&h->python_tstate_top, __ATOMIC_ACQUIRE);
	uint64_t *tstates;
	size_t n;
	int ret = 0;

	if (chunk_at >= 4096 || top_at >= 4096)
		return 0;
	if (!(tstates = malloc(PYTHREADS_MAX * sizeof(*tstates))))
		return -ENOMEM;
	n = pyframes_threads(pid, h, tstates);
	for (size_t k = 0; k < n && ret == 0; k++) {
		uint64_t chunk = 0, top = 0, size = 0;

		if (remote_read_word(pid, tstates[k] + chunk_at, &chunk) < 0 ||
		    remote_read_word(pid, tstates[k] + top_at, &top) < 0)
			continue;
		if (chunk && remote_read_word(pid, chunk + 8, &size) == 0 && size <= CHUNK_MAX && top >= chunk &&
		    top <= chunk + size)
			ret = add_stale(s, top, chunk + size);
	}
	free(tstates);
	return ret;
}

int pystale_read(pid_t pid, const struct wire_header *h, struct py_stale *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = array_lists(pid, h, out);
	if (ret == 0)
		ret = tuple_lists(pid, h, out);
	if (ret == 0)
		ret = frame_stacks(pid, h, out);
	return ret;
}

void pystale_release(struct py_stale *s)
{
	free(s->stale);
	free(s->dead);
	memset(s, 0, sizeof(*s));
}
