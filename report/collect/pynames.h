/*
 * pynames.h - the heap graph's pointers named as Python names them: a
 * dict's value by its key (dict['user'], dict[42]), a list's item by
 * its index (list[3]), read from the stopped program after its scan,
 * while the keys are still there to read.
 */
#ifndef HEAPWISE_PYNAMES_H
#define HEAPWISE_PYNAMES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "livetable.h"
#include "pytypes.h"
#include "scan.h"

/* One named pointer: edge (from, offset) of the scan, as profile.h's
 * profile_edge_name, its text the collector's until pynames_release. */
struct py_name {
	uint32_t offset, from;	/* so that the first 64 bits sort by from, then offset */
	uint32_t kind;		/* enum profile_name_kind */
	const char *text;	/* a str key, or the key's type name; NULL for none */
	int64_t number;		/* an int key */
};

struct py_names {
	struct py_name *items;	/* sorted by from, then offset */
	size_t n;
	char **texts;		/* what the texts point into */
	size_t ntexts;
	/* per block, NULL if none: 0, or 1 + the offset from which its words
	 * are stale (a list's slots past its length, spare room that held
	 * what was popped or what realloc left) */
	uint32_t *stale_from;
	/* ... and how far its first words are (a managed dict's values'
	 * prefix, 3.11 and 3.12, of which CPython writes only the last byte,
	 * known from the pointers to the values, PROFILE_HEUR_PYVALUES,
	 * tagged on 3.12: pointing one byte short) */
	uint8_t *stale_to;
};

/* Name the edges of scan r over the n blocks (sorted by address) of the
 * stopped program pid, whose objects t typed, for CPython version
 * (Py_Version). 0, or -ENOMEM; what cannot be read stays unnamed. */
int pynames_read(pid_t pid, uint32_t version, const struct live_block *blocks, size_t n,
		 const struct pytypes *t, const struct scan_result *r, struct py_names *out);

/* Drop the edges of r that start in a stale part of their block, at its
 * head or its tail. */
void pynames_drop_stale(const struct py_names *names, struct scan_result *r);

void pynames_release(struct py_names *names);

#endif
