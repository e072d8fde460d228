/*
 * profile.c - build, write and read .hws profiles.
 *
 * The file is a header, a section table and sections (man/heapwise-format.5).
 * Each section has a CRC-32 (zlib); the reader checks the magic, the
 * version, the file size, every section's bounds and CRC, then every count
 * and index inside, before anything else sees the data. A file that fails
 * any check is rejected whole with a message naming what is wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "../util/format.h"
#include "../util/privfile.h"
#include "profile.h"
#include "varint.h"

#define FILE_MAGIC	"HWSPROF\n"

enum section_type {
	SEC_META = 1,
	SEC_TOTALS = 2,
	SEC_STRINGS = 3,
	SEC_MODULES = 4,
	SEC_FRAMES = 5,
	SEC_STACKS = 6,
	SEC_SITES = 7,
	SEC_TIMELINE = 8,
	SEC_SNAPSHOT = 9,
	SEC_SIZES = 10,
	SEC_SCAN = 11,		/* the reachability scan of the snapshot just before */
	SEC_TYPES = 12,		/* the Python types of a snapshot's blocks */
	SEC_SNAPSHOT_DELTA = 13,	/* a snapshot as the changes from an earlier one */
};

/* A section's flags (version 3): stored as one zstd frame, then a u64 of its
 * size unpacked. The writer packs a section of at least COMPRESS_FROM bytes. */
#define SECTION_ZSTD	1u
#define COMPRESS_FROM	4096
#define COMPRESS_LEVEL	1	/* zstd's fastest: the run is waiting for its profile */
/* A reader takes a frame that claims at most this many times its bytes (and
 * a MiB): a crafted one cannot make it allocate what no real profile needs. */
#define UNPACK_RATIO	1024

struct file_header {
	char magic[8];
	uint32_t version;
	uint32_t nsections;
	uint64_t file_size;
	uint32_t crc;		/* CRC-32 of the whole file with this field zero */
	uint32_t reserved;	/* 0 */
};

struct section_entry {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	uint32_t crc;
	uint32_t pad;
};

struct snapshot_head {
	uint32_t name;
	uint32_t flags;
	uint64_t t_ns;
	uint64_t stamp;
	uint64_t nblocks;
};

/* What follows the head in a delta section: which snapshot it changes, by
 * how much every block kept from it grew older (its generation), how many
 * of its blocks are gone and how many are new. */
struct delta_head {
	uint64_t base;
	uint32_t generation_step;
	uint32_t pad;
	uint64_t ngone;
	uint64_t nborn;
};

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .hws format is little-endian");
_Static_assert(sizeof(struct profile_frame) == 32, "frame record is 32 bytes");
_Static_assert(sizeof(struct profile_site) == 72, "site record is 72 bytes");
_Static_assert(sizeof(struct profile_block) == 32, "block record is 32 bytes");
_Static_assert(sizeof(struct profile_module) == 40, "module record is 40 bytes");

static int fail(char err[PROFILE_ERRLEN], int ret, const char *fmt, ...)
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
		free(p->snapshots[i].blocks);
		profile_scan_free(p->snapshots[i].scan);
		free(p->snapshots[i].types);
	}
	free(p->snapshots);
	free(p->strings);
	free(p->meta);
	free(p->modules);
	free(p->frames);
	free(p->stacks);
	free(p->stack_frames);
	free(p->sites);
	free(p->samples);
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
	free(scan);
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

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/*
 * The writer streams sections straight to the file through a small buffer,
 * so a profile of millions of blocks never sits in memory twice. Each
 * section's CRC is taken as its bytes pass; the header and the section
 * table go in last, at the front, where space was left for them.
 */
#define WRITE_BUFFER	(1u << 20)

struct writer {
	int fd;
	int error;		/* first -errno, 0 if none */
	char *buf;
	size_t used;		/* bytes in buf */
	uint64_t offset;	/* file offset of buf[0] */
	uLong section_crc;	/* of the open section, so far */
	uint64_t section_start;	/* its file offset */
	struct section_entry *table;
	size_t nsections, capacity;
	/* the open section's bytes: the first COMPRESS_FROM staged, the rest
	 * through zstd once there are more */
	ZSTD_CCtx *zstd;
	char *zbuf;		/* zstd's output, before the file */
	size_t zbuf_len;
	char stage[COMPRESS_FROM];
	size_t staged;
	int compressing;
	uint64_t unpacked;	/* bytes put into the open section */
};

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void flush(struct writer *w)
{
	int ret;

	if (!w->used || w->error)
		return;
	ret = write_all(w->fd, w->buf, w->used);
	if (ret < 0)
		w->error = ret;
	w->offset += w->used;
	w->used = 0;
}

/* Bytes to the file, outside any checksum. */
static void put_raw(struct writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len && !w->error) {
		size_t n = WRITE_BUFFER - w->used;

		if (n > len)
			n = len;
		memcpy(w->buf + w->used, p, n);
		w->used += n;
		p += n;
		len -= n;
		if (w->used == WRITE_BUFFER)
			flush(w);
	}
}

/* Bytes of the open section as they go into the file. */
static void put_stored(struct writer *w, const void *data, size_t len)
{
	if (!len)
		return;	/* zlib's crc32 of a NULL buffer is its initial value */
	w->section_crc = crc32_z(w->section_crc, (const Bytef *)data, len);
	put_raw(w, data, len);
}

/* Through zstd: mode ZSTD_e_continue takes all of data, ZSTD_e_end ends the frame. */
static void pack_stream(struct writer *w, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { data, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { w->zbuf, w->zbuf_len, 0 };

		left = ZSTD_compressStream2(w->zstd, &out, &in, mode);
		if (ZSTD_isError(left)) {
			w->error = -ENOMEM;	/* zstd fails only for want of memory here */
			return;
		}
		put_stored(w, w->zbuf, out.pos);
	} while (!w->error && (mode == ZSTD_e_end ? left != 0 : in.pos < in.size));
}

/* Bytes of the open section. */
static void put(struct writer *w, const void *data, size_t len)
{
	if (!len || w->error)
		return;
	w->unpacked += len;
	if (!w->compressing && w->staged + len <= COMPRESS_FROM) {
		memcpy(w->stage + w->staged, data, len);
		w->staged += len;
		return;
	}
	if (!w->compressing) {
		ZSTD_CCtx_reset(w->zstd, ZSTD_reset_session_only);
		w->compressing = 1;
		pack_stream(w, w->stage, w->staged, ZSTD_e_continue);
	}
	pack_stream(w, data, len, ZSTD_e_continue);
}

static void put32(struct writer *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void put64(struct writer *w, uint64_t v)
{
	put(w, &v, sizeof(v));
}

static uint64_t position(const struct writer *w)
{
	return w->offset + w->used;
}

static void begin_section(struct writer *w)
{
	w->section_crc = crc32(0L, Z_NULL, 0);
	w->section_start = position(w);
	w->staged = 0;
	w->compressing = 0;
	w->unpacked = 0;
}

static void end_section(struct writer *w, uint32_t type)
{
	static const char zeros[8];
	uint32_t flags = 0;
	uint64_t end;

	if (w->compressing) {
		pack_stream(w, NULL, 0, ZSTD_e_end);
		put_stored(w, &w->unpacked, sizeof(w->unpacked));
		flags = SECTION_ZSTD;
	} else {
		put_stored(w, w->stage, w->staged);
	}
	end = position(w);
	if (w->nsections < w->capacity)
		w->table[w->nsections++] = (struct section_entry){
			.type = type,
			.flags = flags,
			.offset = w->section_start,
			.size = end - w->section_start,
			.crc = (uint32_t)w->section_crc,
		};
	else
		w->error = -EINVAL;	/* the table was sized wrong: a bug */
	/* keep sections 8-byte aligned */
	if (end % 8)
		put_raw(w, zeros, 8 - end % 8);
}

/*
 * Snapshot blocks, packed (version 2): per block, five LEB128 varints: the
 * address's distance from the previous block's (blocks are sorted by
 * address), the size, the stamp's and the stack's zigzag difference from
 * the previous block's, and the generation. Neighbours in memory were most
 * often allocated one after the other from one place, so a block takes 6-10
 * bytes where a fixed record took 32: less to write, read and keep.
 */
#define PACKED_BLOCK_MAX	(5 * VARINT_MAX)
#define PACKED_BLOCK_MIN	5

static uint64_t zigzag(uint64_t later, uint64_t earlier)
{
	int64_t d = (int64_t)(later - earlier);

	return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}


/*
 * Snapshot deltas (version 3). A snapshot taken after another is most often
 * that one with a few blocks gone and a few born: periodic snapshots of a
 * steady heap. It is written as the indices of the earlier one's blocks that
 * are gone, then the new blocks packed; every other block is kept, a
 * generation older by the delta's step. A block counts as kept only when
 * nothing but that changed, so the snapshot reads back exactly.
 */
struct delta {
	uint64_t ngone, nborn;
	uint32_t generation_step;
};

static int strictly_sorted(const struct profile_block *b, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++)
		if (b[i].addr <= b[i - 1].addr)
			return 0;
	return 1;
}

static int kept(const struct profile_block *was, const struct profile_block *now, uint32_t step)
{
	return was->addr == now->addr && was->size == now->size && was->stamp == now->stamp &&
	       was->stack == now->stack && (uint64_t)was->generation + step == now->generation;
}

/* Packs blocks as version 2 stores them, a buffer at a time. */
struct block_packer {
	struct writer *w;
	struct profile_block prev;
	uint8_t buf[16384];
	size_t used;
};

static void pack_varint(struct block_packer *k, uint64_t v)
{
	if (k->used > sizeof(k->buf) - VARINT_MAX) {
		put(k->w, k->buf, k->used);
		k->used = 0;
	}
	k->used += varint_encode(k->buf + k->used, v);
}

static void pack_block(struct block_packer *k, const struct profile_block *b)
{
	if (k->used > sizeof(k->buf) - PACKED_BLOCK_MAX) {
		put(k->w, k->buf, k->used);
		k->used = 0;
	}
	k->used += varint_encode(k->buf + k->used, b->addr - k->prev.addr);
	k->used += varint_encode(k->buf + k->used, b->size);
	k->used += varint_encode(k->buf + k->used, zigzag(b->stamp, k->prev.stamp));
	k->used += varint_encode(k->buf + k->used, zigzag(b->stack, k->prev.stack));
	k->used += varint_encode(k->buf + k->used, b->generation);
	k->prev = *b;
}

static void pack_end(struct block_packer *k)
{
	put(k->w, k->buf, k->used);
	k->used = 0;
}

/* What a walk of a delta does with each block that is not kept. */
struct delta_visit {
	void (*gone)(struct delta_visit *v, uint64_t base_index);
	void (*born)(struct delta_visit *v, const struct profile_block *b);
	struct delta d;
	struct block_packer *packer;
	uint64_t next_gone;	/* the index after the last gone one written */
};

/* Walk base and s by address, visiting the blocks of base that are gone
 * and the blocks of s that are born. */
static void delta_walk(const struct profile_snapshot *base, const struct profile_snapshot *s,
		       uint32_t step, struct delta_visit *v)
{
	uint64_t i = 0, j = 0;

	while (i < base->nblocks || j < s->nblocks) {
		if (i < base->nblocks && j < s->nblocks && kept(&base->blocks[i], &s->blocks[j], step)) {
			i++, j++;
		} else if (j == s->nblocks || (i < base->nblocks && base->blocks[i].addr <= s->blocks[j].addr)) {
			if (v->gone)
				v->gone(v, i);
			i++;
		} else {
			if (v->born)
				v->born(v, &s->blocks[j]);
			j++;
		}
	}
}

static void count_gone(struct delta_visit *v, uint64_t base_index)
{
	(void)base_index;
	v->d.ngone++;
}

static void count_born(struct delta_visit *v, const struct profile_block *b)
{
	(void)b;
	v->d.nborn++;
}

/* Whether s is best written as a delta from base, and its counts. */
static int plan_delta(const struct profile_snapshot *base, const struct profile_snapshot *s,
		      struct delta *d)
{
	struct delta_visit v = { count_gone, count_born, { .generation_step = 1 }, NULL, 0 };

	if (!s->nblocks || !strictly_sorted(base->blocks, base->nblocks) ||
	    !strictly_sorted(s->blocks, s->nblocks))
		return 0;
	/* the step: from the first block that is the same but for its generation */
	for (uint64_t i = 0, j = 0; i < base->nblocks && j < s->nblocks;) {
		const struct profile_block *was = &base->blocks[i], *now = &s->blocks[j];
		uint32_t step = now->generation - was->generation;

		if (step <= 1 && kept(was, now, step)) {
			v.d.generation_step = step;
			break;
		}
		if (was->addr <= now->addr)
			i++;
		else
			j++;
	}
	delta_walk(base, s, v.d.generation_step, &v);
	*d = v.d;
	/* a delta that changes most blocks saves nothing */
	return d->ngone + d->nborn < s->nblocks;
}

static void put_gone(struct delta_visit *v, uint64_t base_index)
{
	pack_varint(v->packer, base_index - v->next_gone);
	v->next_gone = base_index + 1;
}

static void put_born(struct delta_visit *v, const struct profile_block *b)
{
	pack_block(v->packer, b);
}

/* The delta's head, the gone blocks' indices (each as its distance from the
 * one after the last), the born blocks packed. */
static void put_delta(struct writer *w, uint64_t base_index, const struct profile_snapshot *base,
		      const struct profile_snapshot *s, const struct delta *d)
{
	struct delta_head h = { base_index, d->generation_step, 0, d->ngone, d->nborn };
	struct delta_visit gone = { put_gone, NULL, *d, NULL, 0 }, born = { NULL, put_born, *d, NULL, 0 };
	struct block_packer *k = calloc(1, sizeof(*k));

	if (!k) {
		w->error = -ENOMEM;
		return;
	}
	k->w = w;
	gone.packer = born.packer = k;
	put(w, &h, sizeof(h));
	delta_walk(base, s, d->generation_step, &gone);
	delta_walk(base, s, d->generation_step, &born);
	pack_end(k);
	free(k);
}

static void put_packed_blocks(struct writer *w, const struct profile_block *b, uint64_t n)
{
	struct block_packer *k = calloc(1, sizeof(*k));

	if (!k) {
		w->error = -ENOMEM;
		return;
	}
	k->w = w;
	for (uint64_t i = 0; i < n; i++)
		pack_block(k, &b[i]);
	pack_end(k);
	free(k);
}

static void write_snapshot(struct writer *w, const struct profile *p, size_t i)
{
	const struct profile_snapshot *s = &p->snapshots[i];
	struct snapshot_head h = { s->name, s->flags, s->t_ns, s->stamp, s->nblocks };
	struct delta d;

	begin_section(w);
	put(w, &h, sizeof(h));
	if (i > 0 && plan_delta(&p->snapshots[i - 1], s, &d)) {
		put_delta(w, i - 1, &p->snapshots[i - 1], s, &d);
		end_section(w, SEC_SNAPSHOT_DELTA);
	} else {
		put_packed_blocks(w, s->blocks, s->nblocks);
		end_section(w, SEC_SNAPSHOT);
	}
}

static void write_sections(struct writer *w, const struct profile *p)
{
	begin_section(w);
	put32(w, (uint32_t)p->nmeta);
	for (size_t i = 0; i < p->nmeta; i++) {
		put32(w, p->meta[i].key);
		put32(w, p->meta[i].value);
	}
	end_section(w, SEC_META);

	begin_section(w);
	put32(w, (uint32_t)PROFILE_TOTALS_COUNT);
	put32(w, 0);
	put(w, &p->totals, sizeof(p->totals));
	end_section(w, SEC_TOTALS);

	begin_section(w);
	put(w, p->strings, p->strings_len);
	end_section(w, SEC_STRINGS);

	begin_section(w);
	put64(w, p->nmodules);
	put(w, p->modules, p->nmodules * sizeof(*p->modules));
	end_section(w, SEC_MODULES);

	begin_section(w);
	put64(w, p->nframes);
	put(w, p->frames, p->nframes * sizeof(*p->frames));
	end_section(w, SEC_FRAMES);

	begin_section(w);
	put64(w, p->nstacks);
	put64(w, p->nstack_frames);
	put(w, p->stacks, p->nstacks * sizeof(*p->stacks));
	put(w, p->stack_frames, p->nstack_frames * sizeof(*p->stack_frames));
	end_section(w, SEC_STACKS);

	begin_section(w);
	put64(w, p->nsites);
	put(w, p->sites, p->nsites * sizeof(*p->sites));
	end_section(w, SEC_SITES);

	begin_section(w);
	put64(w, p->nsamples);
	put(w, p->samples, p->nsamples * sizeof(*p->samples));
	end_section(w, SEC_TIMELINE);

	begin_section(w);
	put32(w, PROFILE_SIZE_BUCKETS);
	put32(w, 0);
	put(w, p->sizes, sizeof(p->sizes));
	end_section(w, SEC_SIZES);

	for (size_t i = 0; i < p->nsnapshots; i++) {
		const struct profile_snapshot *s = &p->snapshots[i];

		write_snapshot(w, p, i);
		if (s->scan) {
			const struct profile_scan *sc = s->scan;

			begin_section(w);
			put64(w, i);
			put(w, sc, 8 * sizeof(uint64_t));	/* stop_ns .. nunscanned */
			put(w, sc->roots, sc->nroots * sizeof(*sc->roots));
			put(w, sc->edges, sc->nedges * sizeof(*sc->edges));
			put(w, sc->unscanned, sc->nunscanned * sizeof(*sc->unscanned));
			end_section(w, SEC_SCAN);
		}
		if (s->types) {
			begin_section(w);
			put64(w, i);
			put64(w, s->nblocks);
			put(w, s->types, s->nblocks * sizeof(*s->types));
			end_section(w, SEC_TYPES);
		}
	}
}

/* The header and table, written last at the front of the file; the
 * header's CRC covers the two (each section has its own). */
static int write_front(struct writer *w, size_t table_len)
{
	struct file_header h;
	uLong crc;

	if (w->nsections != w->capacity)
		return -EINVAL;	/* the table was sized wrong: a bug */

	memcpy(h.magic, FILE_MAGIC, 8);
	h.version = PROFILE_VERSION;
	h.nsections = (uint32_t)w->nsections;
	h.file_size = position(w);
	h.crc = 0;
	h.reserved = 0;
	crc = crc32(0L, (const Bytef *)&h, sizeof(h));
	h.crc = (uint32_t)crc32_z(crc, (const Bytef *)w->table, table_len);
	if (pwrite(w->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    pwrite(w->fd, w->table, table_len, sizeof(h)) != (ssize_t)table_len)
		return errno ? -errno : -EIO;
	return 0;
}

/* Stream p into fd from offset 0. Returns 0 or -errno. */
static int write_to(const struct profile *p, int fd)
{
	struct writer w = { .fd = fd };
	size_t table_len;

	/* nine fixed sections, then one per snapshot, one per scan and one per typing */
	w.capacity = 9 + p->nsnapshots;
	for (size_t i = 0; i < p->nsnapshots; i++)
		w.capacity += (p->snapshots[i].scan != NULL) + (p->snapshots[i].types != NULL);
	table_len = w.capacity * sizeof(*w.table);
	w.table = calloc(w.capacity, sizeof(*w.table));
	w.buf = malloc(WRITE_BUFFER);
	w.zstd = ZSTD_createCCtx();
	w.zbuf_len = ZSTD_CStreamOutSize();
	w.zbuf = malloc(w.zbuf_len);
	if (!w.table || !w.buf || !w.zstd || !w.zbuf ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w.zstd, ZSTD_c_compressionLevel, COMPRESS_LEVEL))) {
		w.error = -ENOMEM;
		goto out;
	}
	w.offset = sizeof(struct file_header) + table_len;
	if (lseek(w.fd, (off_t)w.offset, SEEK_SET) < 0) {
		w.error = -errno;
	} else {
		write_sections(&w, p);
		flush(&w);
	}
	if (!w.error)
		w.error = write_front(&w, table_len);
out:
	ZSTD_freeCCtx(w.zstd);
	free(w.zbuf);
	free(w.buf);
	free(w.table);
	return w.error;
}

int profile_write_fd(const struct profile *p, int fd, const char *name, char err[PROFILE_ERRLEN])
{
	int ret = write_to(p, fd);

	if (ret == -ENOMEM)
		return fail(err, ret, "out of memory while writing '%s'", name);
	if (ret < 0)
		return fail(err, ret, "cannot write '%s': %s", name, strerror(-ret));
	return 0;
}

int profile_write(const struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	char why[PRIVFILE_ERRLEN];
	struct privfile f;
	int ret;

	if ((ret = privfile_open(&f, path, why)) < 0)
		return fail(err, ret, "%s", why);
	ret = profile_write_fd(p, f.fd, path, err);
	if (ret < 0) {
		privfile_abandon(&f);
		return ret;
	}
	if ((ret = privfile_commit(&f, why)) < 0)
		return fail(err, ret, "%s", why);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* A bounds-checked cursor over one section. */
struct cursor {
	const char *data;
	uint64_t len, pos;
	int bad;
};

static int take(struct cursor *c, void *out, uint64_t len)
{
	if (c->bad || len > c->len - c->pos) {
		c->bad = 1;
		return -1;
	}
	memcpy(out, c->data + c->pos, len);
	c->pos += len;
	return 0;
}

static uint64_t take64(struct cursor *c)
{
	uint64_t v = 0;

	take(c, &v, sizeof(v));
	return v;
}

static uint32_t take32(struct cursor *c)
{
	uint32_t v = 0;

	take(c, &v, sizeof(v));
	return v;
}

/* Copy an array of n records of size each, checking n against what is left. */
static void *take_array(struct cursor *c, uint64_t n, size_t size)
{
	void *out;

	if (c->bad || n > (c->len - c->pos) / size) {
		c->bad = 1;
		return NULL;
	}
	out = malloc(n ? n * size : 1);
	if (!out) {
		c->bad = 1;
		return NULL;
	}
	take(c, out, n * size);
	return out;
}

static int take_varint(struct cursor *c, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64 && c->pos < c->len; shift += 7) {
		uint8_t byte = (uint8_t)c->data[c->pos++];

		if (shift == 63 && byte > 1)
			break;	/* more than 64 bits */
		x |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*v = x;
			return 0;
		}
	}
	c->bad = 1;
	return -1;
}

static uint64_t unzigzag(uint64_t earlier, uint64_t z)
{
	return earlier + ((z >> 1) ^ -(z & 1));
}

/* n blocks packed as put_packed_blocks() wrote them; NULL when malformed. */
static struct profile_block *take_packed_blocks(struct cursor *c, uint64_t n)
{
	struct profile_block *b, prev = { 0 };

	if (c->bad || n > (c->len - c->pos) / PACKED_BLOCK_MIN) {
		c->bad = 1;
		return NULL;
	}
	b = malloc(n ? n * sizeof(*b) : 1);
	if (!b) {
		c->bad = 1;
		return NULL;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t gap, size, stamp, stack, generation;

		if (take_varint(c, &gap) < 0 || take_varint(c, &size) < 0 ||
		    take_varint(c, &stamp) < 0 || take_varint(c, &stack) < 0 ||
		    take_varint(c, &generation) < 0)
			break;
		stack = unzigzag(prev.stack, stack);
		if (prev.addr + gap < prev.addr || stack > UINT32_MAX || generation > UINT32_MAX) {
			c->bad = 1;
			break;
		}
		b[i] = (struct profile_block){ prev.addr + gap, size, unzigzag(prev.stamp, stamp),
					       (uint32_t)stack, (uint32_t)generation };
		prev = b[i];
	}
	if (c->bad) {
		free(b);
		return NULL;
	}
	return b;
}

/*
 * A delta's blocks: the base's, less those gone (their indices, each as its
 * distance from the one after the last gone), a generation older, merged by
 * address with the n - kept born ones packed after them. NULL when malformed.
 */
static struct profile_block *take_delta_blocks(struct cursor *c, const struct profile_snapshot *base,
					       uint64_t n, const struct delta_head *d)
{
	struct profile_block *b = NULL, *born = NULL;
	uint64_t *gone = NULL, next = 0, i = 0, j = 0, g = 0, out = 0;

	if (c->bad || d->ngone > base->nblocks || d->ngone > c->len - c->pos || d->generation_step > 1 ||
	    d->pad || n != base->nblocks - d->ngone + d->nborn || d->nborn > n)
		goto bad;
	gone = malloc(d->ngone ? d->ngone * sizeof(*gone) : 1);
	if (!gone)
		goto bad;
	for (uint64_t k = 0; k < d->ngone; k++) {
		uint64_t gap;

		if (take_varint(c, &gap) < 0 || gap >= base->nblocks - next)
			goto bad;
		gone[k] = next + gap;
		next = gone[k] + 1;
	}
	born = take_packed_blocks(c, d->nborn);
	b = malloc(n ? n * sizeof(*b) : 1);
	if (!born || !b)
		goto bad;
	while (out < n) {
		int take_kept = 0;

		while (i < base->nblocks && g < d->ngone && gone[g] == i)
			i++, g++;
		if (i < base->nblocks)
			take_kept = j == d->nborn || base->blocks[i].addr <= born[j].addr;
		if (take_kept) {
			b[out] = base->blocks[i++];
			if (b[out].generation == UINT32_MAX && d->generation_step)
				goto bad;
			b[out++].generation += d->generation_step;
		} else {
			b[out++] = born[j++];
		}
	}
	free(gone);
	free(born);
	return b;
bad:
	c->bad = 1;
	free(gone);
	free(born);
	free(b);
	return NULL;
}

static const char *section_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "meta", "totals", "strings", "modules", "frames",
		"stacks", "sites", "timeline", "snapshot", "sizes", "scan", "types",
		"snapshot delta",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* Long: one case per section type, in heapwise-format(5)'s order, each
 * checking its counts against the bytes left. */
static int load_section(struct profile *p, uint32_t version, uint32_t type, struct cursor *c,
			unsigned *seen)
{
	/* every section but snapshots appears once; a second copy is damage */
	if (type < 32 && type != SEC_SNAPSHOT && type != SEC_SNAPSHOT_DELTA && type != SEC_SCAN &&
	    type != SEC_TYPES) {
		if (*seen & (1u << type))
			return -1;
		*seen |= 1u << type;
	}
	switch (type) {
	case SEC_META: {
		uint32_t n = take32(c);

		if (c->bad || n > (c->len - c->pos) / sizeof(struct profile_meta))
			return -1;
		p->meta = take_array(c, n, sizeof(*p->meta));
		p->nmeta = n;
		break;
	}
	case SEC_TOTALS: {
		uint32_t n = take32(c);

		take32(c);
		if (n > PROFILE_TOTALS_COUNT)
			n = PROFILE_TOTALS_COUNT;	/* newer writer: ignore the rest */
		take(c, &p->totals, n * sizeof(uint64_t));
		c->pos = c->len;
		break;
	}
	case SEC_STRINGS:
		if (c->len == 0 || c->data[0] != '\0' || c->data[c->len - 1] != '\0' || c->len > UINT32_MAX)
			return -1;
		free(p->strings);
		p->strings = take_array(c, c->len, 1);
		p->strings_len = p->strings_cap = c->len;
		if (p->strings)
			format_make_printable(p->strings, p->strings_len);
		break;
	case SEC_MODULES:
		p->nmodules = take64(c);
		p->modules = take_array(c, p->nmodules, sizeof(*p->modules));
		break;
	case SEC_FRAMES:
		p->nframes = take64(c);
		p->frames = take_array(c, p->nframes, sizeof(*p->frames));
		break;
	case SEC_STACKS:
		p->nstacks = take64(c);
		p->nstack_frames = take64(c);
		p->stacks = take_array(c, p->nstacks, sizeof(*p->stacks));
		p->stack_frames = take_array(c, p->nstack_frames, sizeof(*p->stack_frames));
		break;
	case SEC_SITES: {
		uint64_t sums[8] = { 0 };

		p->nsites = take64(c);
		p->sites = take_array(c, p->nsites, sizeof(*p->sites));
		/* each counter summed over the sites stays in bounds too */
		for (uint64_t i = 0; p->sites && i < p->nsites; i++) {
			const uint64_t *v = &p->sites[i].allocations;

			for (int k = 0; k < 8; k++)
				if ((sums[k] += v[k] > PROFILE_MAX_BYTES ? PROFILE_MAX_BYTES + 1 : v[k]) >
				    PROFILE_MAX_BYTES)
					return -1;
		}
		break;
	}
	case SEC_TIMELINE:
		p->nsamples = take64(c);
		p->samples = take_array(c, p->nsamples, sizeof(*p->samples));
		break;
	case SEC_SNAPSHOT:
	case SEC_SNAPSHOT_DELTA: {
		struct profile_snapshot *s = realloc(p->snapshots, (p->nsnapshots + 1) * sizeof(*s));
		struct snapshot_head h;
		struct delta_head d;

		if (!s)
			return -1;
		p->snapshots = s;
		s = &s[p->nsnapshots];
		memset(s, 0, sizeof(*s));
		if (take(c, &h, sizeof(h)) < 0)
			return -1;
		s->name = h.name;
		s->flags = h.flags;
		s->t_ns = h.t_ns;
		s->stamp = h.stamp;
		s->nblocks = h.nblocks;
		if (type == SEC_SNAPSHOT_DELTA) {
			if (take(c, &d, sizeof(d)) < 0 || d.base >= p->nsnapshots)
				return -1;
			s->blocks = take_delta_blocks(c, &p->snapshots[d.base], h.nblocks, &d);
		} else if (version == 1) {
			s->blocks = take_array(c, h.nblocks, sizeof(*s->blocks));
		} else {
			s->blocks = take_packed_blocks(c, h.nblocks);
		}
		if (!s->blocks)
			return -1;
		p->nsnapshots++;
		/* bounded, so that no sum of sizes a report makes can overflow */
		for (uint64_t i = 0; i < s->nblocks; i++) {
			if (s->blocks[i].size > PROFILE_MAX_BLOCK_SIZE)
				return -1;
			s->bytes += s->blocks[i].size;
			if (s->bytes > PROFILE_MAX_BYTES)
				return -1;
		}
		break;
	}
	case SEC_SIZES: {
		uint32_t n = take32(c);

		take32(c);
		if (c->bad || n > (c->len - c->pos) / sizeof(struct profile_size_bucket))
			return -1;
		if (n > PROFILE_SIZE_BUCKETS)
			n = PROFILE_SIZE_BUCKETS;	/* newer writer: ignore the rest */
		take(c, p->sizes, n * sizeof(struct profile_size_bucket));
		c->pos = c->len;
		p->has_sizes = 1;
		break;
	}
	case SEC_SCAN: {
		uint64_t at = take64(c);
		struct profile_scan *sc;

		if (c->bad || at >= p->nsnapshots || p->snapshots[at].scan)
			return -1;
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -1;
		p->snapshots[at].scan = sc;
		if (take(c, sc, 8 * sizeof(uint64_t)) < 0)
			return -1;
		sc->roots = take_array(c, sc->nroots, sizeof(*sc->roots));
		sc->edges = take_array(c, sc->nedges, sizeof(*sc->edges));
		sc->unscanned = take_array(c, sc->nunscanned, sizeof(*sc->unscanned));
		break;
	}
	case SEC_TYPES: {
		uint64_t at = take64(c), n = take64(c);

		if (c->bad || at >= p->nsnapshots || p->snapshots[at].types || n != p->snapshots[at].nblocks)
			return -1;
		p->snapshots[at].types = take_array(c, n, sizeof(uint32_t));
		if (n && !p->snapshots[at].types)
			return -1;
		break;
	}
	default:
		c->pos = c->len;	/* a newer section: skip it */
		break;
	}
	if (c->bad || c->pos != c->len)
		return -1;
	return 0;
}

static const char *check_scan(const struct profile *p, const struct profile_snapshot *s)
{
	const struct profile_scan *sc = s->scan;

	for (uint64_t i = 0; i < sc->nroots; i++) {
		const struct profile_root *r = &sc->roots[i];

		if (r->kind == 0 || r->kind >= PROFILE_ROOT_KINDS || r->name >= p->strings_len ||
		    (r->module != PROFILE_NONE && r->module >= p->nmodules))
			return "a scan root is malformed";
	}
	for (uint64_t i = 0; i < sc->nedges; i++) {
		const struct profile_edge *e = &sc->edges[i];
		uint64_t from = e->from & ~PROFILE_EDGE_ROOT;

		if (e->to >= s->nblocks || e->heuristic >= PROFILE_HEURISTICS ||
		    from >= ((e->from & PROFILE_EDGE_ROOT) ? sc->nroots : s->nblocks))
			return "a scan edge names a block or root that does not exist";
		if (i && (e->to < sc->edges[i - 1].to ||
			  (e->to == sc->edges[i - 1].to && e->from < sc->edges[i - 1].from)))
			return "the scan edges are out of order";
	}
	for (uint64_t i = 0; i < sc->nunscanned; i++)
		if (sc->unscanned[i] >= s->nblocks)
			return "a scan names a block that does not exist";
	return NULL;
}

/* Check every cross-reference; returns a message, or NULL when consistent. */
static const char *check_references(const struct profile *p)
{
	const char *why;

	if (!p->strings || p->strings_len == 0)
		return "no string table";
	for (size_t i = 0; i < p->nmeta; i++)
		if (p->meta[i].key >= p->strings_len || p->meta[i].value >= p->strings_len)
			return "a metadata entry points outside the string table";
	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].path >= p->strings_len || p->modules[i].build_id >= p->strings_len)
			return "a module points outside the string table";
	for (size_t i = 0; i < p->nframes; i++) {
		const struct profile_frame *f = &p->frames[i];

		if (f->function >= p->strings_len || f->file >= p->strings_len)
			return "a frame points outside the string table";
		if (f->module != PROFILE_NONE && f->module >= p->nmodules)
			return "a frame names a module that does not exist";
	}
	for (size_t i = 0; i < p->nstack_frames; i++)
		if (p->stack_frames[i] >= p->nframes)
			return "a stack names a frame that does not exist";
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].first > p->nstack_frames ||
		    p->stacks[i].depth > p->nstack_frames - p->stacks[i].first)
			return "a stack runs past the frame list";
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].stack >= p->nstacks)
			return "a site names a stack that does not exist";
	for (size_t i = 0; i < p->nsnapshots; i++) {
		const struct profile_snapshot *s = &p->snapshots[i];

		if (s->name >= p->strings_len)
			return "a snapshot name points outside the string table";
		for (uint64_t j = 0; j < s->nblocks; j++)
			if (s->blocks[j].stack >= p->nstacks)
				return "a snapshot block names a stack that does not exist";
		if (s->scan && (why = check_scan(p, s)))
			return why;
		for (uint64_t j = 0; s->types && j < s->nblocks; j++)
			if (s->types[j] >= p->strings_len)
				return "a block's type points outside the string table";
	}
	return NULL;
}

static int read_exact(int fd, void *buf, uint64_t len, uint64_t offset)
{
	char *at = buf;

	while (len) {
		ssize_t n = pread(fd, at, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		at += n;
		len -= (uint64_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Versions 1 and 2: the header's CRC is of the whole file, with it zero. */
static int whole_file_crc_matches(int fd, const struct file_header *h, uint64_t size)
{
	struct file_header zeroed = *h;
	size_t chunk = 1u << 20;
	char *buf = malloc(chunk);
	uLong crc;
	int ok = 1;

	if (!buf)
		return -ENOMEM;
	zeroed.crc = 0;
	crc = crc32(0L, (const Bytef *)&zeroed, sizeof(zeroed));
	for (uint64_t at = sizeof(*h); ok && at < size; at += chunk) {
		size_t n = size - at < chunk ? (size_t)(size - at) : chunk;

		ok = read_exact(fd, buf, n, at) == 0;
		if (ok)
			crc = crc32_z(crc, (const Bytef *)buf, n);
	}
	free(buf);
	return ok && (uint32_t)crc == h->crc;
}

/* A section's bytes as stored, checked, then unpacked when they are a zstd
 * frame: into *out (the caller frees it), *out_len bytes. Returns NULL, or
 * what is wrong with it. */
static const char *read_section(int fd, uint32_t version, const struct section_entry *e, char **out,
				uint64_t *out_len)
{
	uint64_t padded = version >= 3 ? (e->size + 7) & ~7ull : e->size, unpacked;
	char *stored = malloc(padded ? padded : 1), *bytes;

	*out = NULL;
	if (!stored)
		return "it is too large to load";
	if (read_exact(fd, stored, padded, e->offset) < 0) {
		free(stored);
		return "it cannot be read";
	}
	for (uint64_t i = e->size; i < padded; i++)
		if (stored[i]) {
			free(stored);
			return "the padding after it is not zero";
		}
	if ((uint32_t)crc32_z(0L, (const Bytef *)stored, (z_size_t)e->size) != e->crc) {
		free(stored);
		return "checksum mismatch";
	}
	if (version < 3 || !(e->flags & SECTION_ZSTD)) {
		*out = stored;
		*out_len = e->size;
		return e->flags && version >= 3 ? "its flags are unknown" : NULL;
	}
	if (e->flags != SECTION_ZSTD || e->size < sizeof(unpacked)) {
		free(stored);
		return "its flags are unknown";
	}
	memcpy(&unpacked, stored + e->size - sizeof(unpacked), sizeof(unpacked));
	if (unpacked / UNPACK_RATIO > e->size + (1u << 20) || unpacked > SIZE_MAX - 1) {
		free(stored);
		return "it claims to unpack to more than any profile holds";
	}
	bytes = malloc(unpacked ? unpacked : 1);
	if (!bytes) {
		free(stored);
		return "it is too large to load";
	}
	if (ZSTD_decompress(bytes, unpacked, stored, e->size - sizeof(unpacked)) != unpacked) {
		free(stored);
		free(bytes);
		return "its zstd frame is damaged";
	}
	free(stored);
	*out = bytes;
	*out_len = unpacked;
	return NULL;
}

/* Long: the header, then the section table walked once, each section read
 * and checked on its own (version 3: the sections tile the file, so every
 * byte is under a checksum), then the whole checked again. */
int profile_read_fd(struct profile *p, int fd, const char *path, char err[PROFILE_ERRLEN])
{
	struct file_header h;
	struct section_entry *table = NULL;
	struct stat st;
	const char *why;
	unsigned seen = 0;
	uint64_t table_len, expected;
	int ret;

	memset(p, 0, sizeof(*p));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = fail(err, -EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size < sizeof(h) || read_exact(fd, &h, sizeof(h), 0) < 0 ||
	    memcmp(h.magic, FILE_MAGIC, 8) != 0) {
		ret = fail(err, -EINVAL, "'%s' is not a heapwise profile", path);
		goto out;
	}
	if (h.version < PROFILE_OLDEST_VERSION || h.version > PROFILE_VERSION) {
		ret = fail(err, -EINVAL, "'%s' has format version %u; this heapwise reads versions %d to %d",
			   path, h.version, PROFILE_OLDEST_VERSION, PROFILE_VERSION);
		goto out;
	}
	if (h.file_size != (uint64_t)st.st_size) {
		ret = fail(err, -EINVAL, "'%s' is truncated or corrupt: %llu bytes, header says %llu",
			   path, (unsigned long long)st.st_size, (unsigned long long)h.file_size);
		goto out;
	}
	if (h.nsections > ((uint64_t)st.st_size - sizeof(h)) / sizeof(*table)) {
		ret = fail(err, -EINVAL, "'%s' is corrupt: its section table is larger than the file", path);
		goto out;
	}
	table_len = h.nsections * sizeof(*table);
	table = malloc(table_len ? table_len : 1);
	if (!table || read_exact(fd, table, table_len, sizeof(h)) < 0) {
		ret = fail(err, -EIO, "cannot read '%s': %s", path, table ? "short read" : "out of memory");
		goto out;
	}
	if (h.version >= 3) {
		struct file_header zeroed = h;

		zeroed.crc = 0;
		ret = (uint32_t)crc32_z(crc32(0L, (const Bytef *)&zeroed, sizeof(zeroed)), (const Bytef *)table,
					table_len) == h.crc;
	} else {
		ret = whole_file_crc_matches(fd, &h, (uint64_t)st.st_size);
	}
	if (ret <= 0 || h.reserved != 0) {
		ret = ret < 0 ? fail(err, ret, "out of memory reading '%s'", path) :
		      fail(err, -EINVAL, "'%s' is corrupt: %s checksum mismatch", path,
			   h.version >= 3 ? "header" : "file");
		goto out;
	}
	if (profile_init(p) < 0) {
		ret = fail(err, -ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	expected = sizeof(h) + table_len;
	for (uint32_t i = 0; i < h.nsections; i++) {
		const struct section_entry *e = &table[i];
		struct cursor c;
		char *bytes;
		uint64_t len;

		if (e->offset > (uint64_t)st.st_size || e->size > (uint64_t)st.st_size - e->offset ||
		    (h.version >= 3 && e->offset != expected)) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) lies outside the file",
				   path, i, section_name(e->type));
			goto out;
		}
		expected = (e->offset + e->size + 7) & ~7ull;
		why = read_section(fd, h.version, e, &bytes, &len);
		if (why) {
			free(bytes);
			ret = fail(err, -EINVAL, "'%s' is corrupt: section %u (%s): %s", path, i,
				   section_name(e->type), why);
			goto out;
		}
		c = (struct cursor){ bytes, len, 0, 0 };
		ret = load_section(p, h.version, e->type, &c, &seen);
		free(bytes);
		if (ret < 0) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) is malformed",
				   path, i, section_name(e->type));
			goto out;
		}
	}
	if (h.version >= 3 && expected != (uint64_t)st.st_size) {
		ret = fail(err, -EINVAL, "'%s' is corrupt: it ends in bytes no section holds", path);
		goto out;
	}
	why = check_references(p);
	if (why) {
		ret = fail(err, -EINVAL, "'%s' is corrupt: %s", path, why);
		goto out;
	}
	if (p->nstacks == 0) {
		ret = fail(err, -EINVAL, "'%s' is corrupt: it has no stack table", path);
		goto out;
	}
	profile_weigh_snapshots(p);
	ret = 0;
out:
	if (ret < 0)
		profile_release(p);
	free(table);
	return ret;
}

int profile_read(struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	int fd, ret;

	memset(p, 0, sizeof(*p));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	ret = profile_read_fd(p, fd, path, err);
	close(fd);
	return ret;
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

void profile_weigh_snapshots(struct profile *p)
{
	uint64_t rate = profile_sample_rate(p);

	for (size_t k = 0; k < p->nsnapshots; k++)
		p->snapshots[k].sample_rate = rate;
	for (size_t k = 0; rate && k < p->nsnapshots; k++) {
		struct profile_snapshot *s = &p->snapshots[k];

		s->bytes = 0;
		for (uint64_t i = 0; i < s->nblocks; i++) {
			s->bytes += profile_block_weight(rate, &s->blocks[i]).bytes;
			if (s->bytes > PROFILE_MAX_BYTES)
				s->bytes = PROFILE_MAX_BYTES;
		}
	}
}
