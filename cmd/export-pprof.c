/*
 * export-pprof.c - a profile as pprof reads it: a gzipped
 * perftools.profiles.Profile protobuf (profile.proto in google/pprof),
 * with Go's heap sample types alloc_objects, alloc_space, inuse_objects and
 * inuse_space, so `go tool pprof` (also -diff_base) and speedscope read it.
 *
 * The protobuf is written by hand: varints and length-delimited fields,
 * a nested message built in a buffer of its own and then copied in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../report/profile/varint.h"
#include "../report/util/array.h"
#include "export.h"

/* A protobuf message being written: a struct buffer (report/array.h). */

static void pb_varint(struct buffer *b, uint64_t v)
{
	uint8_t buf[VARINT_MAX];

	buffer_add(b, buf, varint_encode(buf, v));
}

/* A varint field (wire type 0); zero is the default and is left out. */
static void pb_uint(struct buffer *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

/* A length-delimited field (wire type 2). */
static void pb_bytes(struct buffer *b, unsigned field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, len);
	buffer_add(b, data, len);
}

/* Append inner as a field of b and empty it for reuse. */
static void pb_message(struct buffer *b, unsigned field, struct buffer *inner)
{
	if (inner->failed)
		b->failed = 1;
	pb_bytes(b, field, inner->data, inner->len);
	inner->len = 0;
}

/* A packed repeated varint field. */
static void pb_packed(struct buffer *b, unsigned field, const uint64_t *v, size_t n, struct buffer *tmp)
{
	for (size_t i = 0; i < n; i++)
		pb_varint(tmp, v[i]);
	pb_message(b, field, tmp);
}

/* ------------------------------------------------------------------ */

struct pprof {
	const struct profile *p;
	struct buffer out, msg, tmp;
	uint32_t *string_index;	/* profile string offset -> pprof string index + 1 */
	uint64_t nstrings;
	uint32_t *function_of;	/* profile frame -> pprof function id */
	uint32_t *location_of;	/* profile frame (first of an inline run) -> location id */
	uint64_t *path_keys;	/* (directory, file) string offsets -> */
	uint32_t *path_ids;	/* pprof string index + 1 of the two joined */
	size_t path_cap, npaths;
};

/* The pprof string index of a profile string, adding it to the table. */
static uint64_t string_id(struct pprof *x, uint32_t off)
{
	if (!x->string_index[off]) {
		const char *s = profile_str(x->p, off);

		pb_bytes(&x->out, 6, s, strlen(s));
		x->string_index[off] = (uint32_t)++x->nstrings;
	}
	return x->string_index[off] - 1;
}

/* A string that is not in the profile's table (a sample type name). */
static uint64_t extra_string(struct pprof *x, const char *s)
{
	pb_bytes(&x->out, 6, s, strlen(s));
	return x->nstrings++;
}

/* The directory a frame's relative file is in: the unit's compilation
 * directory; 0 when the file is absolute or there is none (a Python file
 * is named as the interpreter loaded it: from the root, or "<frozen ...>"). */
static uint32_t frame_dir(const struct pprof *x, size_t i)
{
	const struct profile_frame *f = &x->p->frames[i];

	if (!f->file || !x->p->frame_sources || profile_str(x->p, f->file)[0] == '/')
		return 0;
	return x->p->frame_sources[i].dir;
}

static int paths_grow(struct pprof *x)
{
	uint64_t *keys = x->path_keys;
	uint32_t *ids = x->path_ids;
	size_t cap = x->path_cap;

	x->path_cap = cap ? cap * 2 : 256;
	x->path_keys = calloc(x->path_cap, sizeof(*x->path_keys));
	x->path_ids = calloc(x->path_cap, sizeof(*x->path_ids));
	if (!x->path_keys || !x->path_ids) {
		free(keys);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++) {
		size_t h = (size_t)((keys[i] * 0x9e3779b97f4a7c15ull) >> 20) & (x->path_cap - 1);

		if (!ids[i])
			continue;
		while (x->path_ids[h])
			h = (h + 1) & (x->path_cap - 1);
		x->path_keys[h] = keys[i];
		x->path_ids[h] = ids[i];
	}
	free(keys);
	free(ids);
	return 0;
}

/* The pprof string index of frame i's file as a path from the root, so
 * -list finds the source from any directory. */
static uint64_t file_id(struct pprof *x, size_t i)
{
	const struct profile_frame *f = &x->p->frames[i];
	uint32_t dir = frame_dir(x, i);
	uint64_t key = (uint64_t)dir << 32 | f->file;
	struct buffer joined = { 0 };
	size_t h;

	if (!dir)
		return string_id(x, f->file);
	if ((x->npaths + 1) * 2 > x->path_cap && paths_grow(x) < 0) {
		x->out.failed = 1;
		return 0;
	}
	h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (x->path_cap - 1);
	while (x->path_ids[h] && x->path_keys[h] != key)
		h = (h + 1) & (x->path_cap - 1);
	if (x->path_ids[h])
		return x->path_ids[h] - 1;
	buffer_add(&joined, profile_str(x->p, dir), strlen(profile_str(x->p, dir)));
	buffer_add(&joined, "/", 1);
	buffer_add(&joined, profile_str(x->p, f->file), strlen(profile_str(x->p, f->file)));
	if (joined.failed) {
		free(joined.data);
		x->out.failed = 1;
		return 0;
	}
	x->path_keys[h] = key;
	x->path_ids[h] = (uint32_t)x->nstrings + 1;
	x->npaths++;
	pb_bytes(&x->out, 6, joined.data, joined.len);
	free(joined.data);
	return x->nstrings++;
}

static void value_type(struct pprof *x, unsigned field, const char *type, const char *unit)
{
	uint64_t t = extra_string(x, type), u = extra_string(x, unit);

	pb_uint(&x->msg, 1, t);
	pb_uint(&x->msg, 2, u);
	pb_message(&x->out, field, &x->msg);
}

/* The main program of the last image: the one that made the allocations
 * (an exec chain, as a pyenv shim's, starts with the shell). Each image's
 * objects were logged main program first. */
static size_t main_module(const struct profile *p)
{
	size_t best = 0;

	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].image > p->modules[best].image)
			best = i;
	return best;
}

static void mapping(struct pprof *x, size_t i, const uint8_t *known)
{
	const struct profile_module *m = &x->p->modules[i];

	pb_uint(&x->msg, 1, i + 1);
	pb_uint(&x->msg, 2, m->start);
	pb_uint(&x->msg, 3, m->end);
	pb_uint(&x->msg, 4, m->start - m->bias);
	pb_uint(&x->msg, 5, string_id(x, m->path));
	pb_uint(&x->msg, 6, string_id(x, m->build_id));
	/* what the profile has for it: pprof symbolizes the rest itself */
	pb_uint(&x->msg, 7, !!(known[i] & 1));	/* has_functions */
	pb_uint(&x->msg, 8, !!(known[i] & 2));	/* has_filenames */
	pb_uint(&x->msg, 9, !!(known[i] & 4));	/* has_line_numbers */
	pb_uint(&x->msg, 10, !!(known[i] & 8));	/* has_inline_frames */
	pb_message(&x->out, 3, &x->msg);
}

/* The mappings, the program that allocated first: pprof takes the first
 * for the main binary (its "File:"). */
static int mappings(struct pprof *x)
{
	const struct profile *p = x->p;
	uint8_t *known = calloc(p->nmodules + 1, 1);
	size_t first;

	if (!known)
		return -ENOMEM;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct profile_frame *f = &p->frames[i];

		if (f->module == PROFILE_NONE || f->module >= p->nmodules)
			continue;
		known[f->module] |= (*profile_str(p, f->function) ? 1 : 0) | (*profile_str(p, f->file) ? 2 : 0) |
				    (f->line ? 4 : 0) | (f->flags & PROFILE_FRAME_INLINED ? 8 : 0);
	}
	if (p->nmodules) {
		first = main_module(p);
		mapping(x, first, known);
		for (size_t i = 0; i < p->nmodules; i++)
			if (i != first)
				mapping(x, i, known);
	}
	free(known);
	return 0;
}

/* One pprof function per (name, file); frames share them through a hash
 * of the name's string offset and the file's pprof string index. A frame
 * without a name gets none. */
static void functions(struct pprof *x)
{
	const struct profile *p = x->p;
	size_t cap = 1024;
	uint64_t *keys;
	uint32_t *ids, next = 1;

	while (cap < p->nframes * 2)
		cap *= 2;
	keys = calloc(cap, sizeof(*keys));
	ids = calloc(cap, sizeof(*ids));
	if (!keys || !ids) {
		x->out.failed = 1;
		goto out;
	}
	for (size_t i = 0; i < p->nframes; i++) {
		const struct profile_frame *f = &p->frames[i];
		uint64_t file, key;
		size_t h;

		if (!f->function) {
			/* no name: no function, and its location no line, as pprof
			 * expects of an address it may symbolize itself */
			x->function_of[i] = 0;
			continue;
		}
		file = file_id(x, i);
		key = (uint64_t)f->function << 32 | file;
		h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
		while (ids[h] && keys[h] != key)
			h = (h + 1) & (cap - 1);
		if (ids[h]) {
			x->function_of[i] = ids[h];
			continue;
		}
		keys[h] = key;
		ids[h] = next;
		x->function_of[i] = next;
		pb_uint(&x->msg, 1, next++);
		pb_uint(&x->msg, 2, string_id(x, f->function));
		/* a Python name has no system name: pprof would take
		 * "<module>" for C++ template arguments and cut it to nothing */
		if (!(f->flags & PROFILE_FRAME_PYTHON))
			pb_uint(&x->msg, 3, string_id(x, f->function));
		pb_uint(&x->msg, 4, file);
		if (p->frame_sources)
			pb_uint(&x->msg, 5, p->frame_sources[i].start_line);
		pb_message(&x->out, 5, &x->msg);
	}
out:
	free(keys);
	free(ids);
}

/* A location per return address: its inline chain as lines, innermost first. */
static void locations(struct pprof *x)
{
	const struct profile *p = x->p;
	uint32_t next = 1;

	for (size_t s = 0; s < p->nstacks; s++) {
		const struct profile_stack *st = &p->stacks[s];

		for (uint32_t i = 0; i < st->depth;) {
			uint32_t first = p->stack_frames[st->first + i], n = 1;
			const struct profile_frame *f = &p->frames[first];

			while (i + n < st->depth && p->frames[p->stack_frames[st->first + i + n]].ip == f->ip &&
			       (p->frames[p->stack_frames[st->first + i + n - 1]].flags & PROFILE_FRAME_INLINED))
				n++;
			if (!x->location_of[first]) {
				x->location_of[first] = next;
				pb_uint(&x->msg, 1, next++);
				if (f->module != PROFILE_NONE)
					pb_uint(&x->msg, 2, f->module + 1);
				pb_uint(&x->msg, 3, f->ip ? f->ip - 1 : 0);
				for (uint32_t k = 0; k < n; k++) {
					uint32_t frame = p->stack_frames[st->first + i + k];
					const struct profile_frame *g = &p->frames[frame];

					if (!x->function_of[frame])
						continue;	/* unnamed: the address alone */
					pb_uint(&x->tmp, 1, x->function_of[frame]);
					pb_uint(&x->tmp, 2, g->line);
					pb_message(&x->msg, 4, &x->tmp);
				}
				pb_message(&x->out, 4, &x->msg);
			}
			i += n;
		}
	}
}

static void samples(struct pprof *x, const struct export_ctx *ex)
{
	const struct profile *p = x->p;
	uint64_t *inuse_blocks = calloc(p->nstacks + 1, sizeof(uint64_t));
	uint64_t *inuse_bytes = calloc(p->nstacks + 1, sizeof(uint64_t));
	uint64_t *alloc_blocks = calloc(p->nstacks + 1, sizeof(uint64_t));
	uint64_t *alloc_bytes = calloc(p->nstacks + 1, sizeof(uint64_t));
	uint64_t *ids = calloc(p->nstack_frames + 1, sizeof(uint64_t));
	uint64_t rate = profile_sample_rate(p);	/* sampled: what the blocks stand for */

	if (!inuse_blocks || !inuse_bytes || !alloc_blocks || !alloc_bytes || !ids) {
		x->out.failed = 1;
		goto out;
	}
	for (uint64_t i = 0; i < ex->s->nblocks; i++) {
		struct profile_weight w = profile_block_weight(rate, &ex->s->blocks[i]);

		inuse_blocks[ex->s->blocks[i].stack] += w.blocks;
		inuse_bytes[ex->s->blocks[i].stack] += w.bytes;
	}
	/* allocated by the snapshot's time, as Go's heap profiles count */
	profile_allocated_until(p, (size_t)(ex->s - p->snapshots), alloc_blocks, alloc_bytes);
	for (size_t s = 0; s < p->nstacks; s++) {
		const struct profile_stack *st = &p->stacks[s];
		uint64_t values[4] = { alloc_blocks[s], alloc_bytes[s], inuse_blocks[s], inuse_bytes[s] };
		size_t n = 0;

		if ((!values[0] && !values[2]) || !export_stack_kept(ex, (uint32_t)s))
			continue;
		for (uint32_t i = 0; i < st->depth; i++) {
			uint32_t loc = x->location_of[p->stack_frames[st->first + i]];

			if (loc)
				ids[n++] = loc;	/* the other frames of an inline run have none */
		}
		pb_packed(&x->msg, 1, ids, n, &x->tmp);
		pb_packed(&x->msg, 2, values, 4, &x->tmp);
		pb_message(&x->out, 2, &x->msg);
	}
out:
	free(inuse_blocks);
	free(inuse_bytes);
	free(alloc_blocks);
	free(alloc_bytes);
	free(ids);
}

/* gzip data onto out. */
static int write_gzip(FILE *out, const void *data, size_t len)
{
	z_stream z = { 0 };
	uint8_t buf[65536];
	int ret;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		ret = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof(buf) - z.avail_out, out);
	} while (ret == Z_OK);
	deflateEnd(&z);
	return ret == Z_STREAM_END && !ferror(out) ? 0 : -EIO;
}

int export_pprof(const struct export_ctx *ex)
{
	const struct profile *p = ex->p;
	struct pprof x = { .p = p };
	uint64_t inuse_space;
	int ret;

	x.string_index = calloc(p->strings_len + 1, sizeof(*x.string_index));
	x.function_of = calloc(p->nframes + 1, sizeof(*x.function_of));
	x.location_of = calloc(p->nframes + 1, sizeof(*x.location_of));
	if (!x.string_index || !x.function_of || !x.location_of) {
		ret = -ENOMEM;
		goto out;
	}
	string_id(&x, 0);	/* string 0 is "" */
	value_type(&x, 1, "alloc_objects", "count");
	value_type(&x, 1, "alloc_space", "bytes");
	value_type(&x, 1, "inuse_objects", "count");
	inuse_space = x.nstrings;
	value_type(&x, 1, "inuse_space", "bytes");
	if (mappings(&x) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	functions(&x);
	locations(&x);
	samples(&x, ex);
	/* the snapshot's moment, and the time the counts cover */
	pb_uint(&x.out, 9, p->totals.start_unix * 1000000000ull + ex->s->t_ns);
	pb_uint(&x.out, 10, ex->s->t_ns);
	value_type(&x, 11, "space", "bytes");
	pb_uint(&x.out, 12, 1);
	pb_uint(&x.out, 14, inuse_space);
	ret = x.out.failed || x.msg.failed || x.tmp.failed ? -ENOMEM : 0;
	if (ret == 0)
		ret = write_gzip(ex->out, x.out.data, x.out.len);
out:
	free(x.out.data);
	free(x.msg.data);
	free(x.tmp.data);
	free(x.string_index);
	free(x.function_of);
	free(x.location_of);
	free(x.path_keys);
	free(x.path_ids);
	return ret;
}
