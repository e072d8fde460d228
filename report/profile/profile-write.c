/*
 * profile-write.c - write a profile to a .hws file (man/heapwise-format.5),
 * streamed through a small buffer: a section at a time, each under its
 * CRC-32, the big ones packed with zstd, snapshots as deltas from the one
 * before when that is smaller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "../util/privfile.h"
#include "profile-file.h"

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
	unsigned chain;		/* deltas since the last full snapshot */
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
	struct snapshot_head h = { s->name, s->flags, s->t_ns, s->stamp, s->nblocks, 0 };
	uint64_t rate = profile_sample_rate(p), blocks = 0;
	struct delta d;

	/* its bytes as a reader will count them, from the blocks themselves */
	for (uint64_t k = 0; k < s->nblocks; k++) {
		struct profile_weight wt = profile_block_weight(rate, &s->blocks[k]);

		h.bytes += wt.bytes;
		blocks += wt.blocks;
	}

	begin_section(w);
	put(w, &h, sizeof(h));
	if (i > 0 && w->chain < DELTA_CHAIN_MAX && plan_delta(&p->snapshots[i - 1], s, &d)) {
		put_delta(w, i - 1, &p->snapshots[i - 1], s, &d);
		end_section(w, SEC_SNAPSHOT_DELTA);
		w->chain++;
	} else {
		put_packed_blocks(w, s->blocks, s->nblocks);
		end_section(w, SEC_SNAPSHOT);
		w->chain = 0;
	}
	if (rate) {
		/* what its blocks stand for, so a reader need not read them to say */
		begin_section(w);
		put64(w, i);
		put64(w, blocks);
		end_section(w, SEC_ESTIMATE);
	}
}

/* The snapshots, each with its scan and typing. A snapshot not in memory
 * is made (or read) now, and let go once the next, which may be told as
 * changes from it, is out. */
static void write_snapshots(struct writer *w, const struct profile *p)
{
	struct profile_snapshot *loaded = NULL;	/* written last, and loaded for it */

	for (size_t i = 0; i < p->nsnapshots && !w->error; i++) {
		struct profile_snapshot *s = (struct profile_snapshot *)&p->snapshots[i];
		int unread = s->unread;
		char err[PROFILE_ERRLEN];
		int ret;

		if (unread && (ret = profile_load_snapshot((struct profile *)p, s, err)) < 0) {
			w->error = ret;
			break;
		}
		write_snapshot(w, p, i);
		if (loaded)
			profile_unload_snapshot((struct profile *)p, loaded);
		loaded = unread ? s : NULL;
		if (s->scan) {
			const struct profile_scan *sc = s->scan;

			begin_section(w);
			put64(w, i);
			put(w, sc, 8 * sizeof(uint64_t));	/* stop_ns .. nunscanned */
			put(w, sc->roots, sc->nroots * sizeof(*sc->roots));
			put(w, sc->edges, sc->nedges * sizeof(*sc->edges));
			put(w, sc->unscanned, sc->nunscanned * sizeof(*sc->unscanned));
			end_section(w, SEC_SCAN);
			if (sc->names) {
				begin_section(w);
				put64(w, i);
				put64(w, sc->nnames);
				put(w, sc->names, sc->nnames * sizeof(*sc->names));
				end_section(w, SEC_EDGE_NAMES);
			}
		}
		if (s->types) {
			begin_section(w);
			put64(w, i);
			put64(w, s->nblocks);
			put(w, s->types, s->nblocks * sizeof(*s->types));
			end_section(w, SEC_TYPES);
		}
		if (s->allocated_kind != PROFILE_ALLOCATED_UNKNOWN) {
			begin_section(w);
			put64(w, i);
			put32(w, s->allocated_kind);
			put32(w, 0);
			put64(w, s->nallocated);
			put(w, s->allocated, s->nallocated * sizeof(*s->allocated));
			end_section(w, SEC_ALLOCATED);
		}
		if (s->has_rss_parts) {
			begin_section(w);
			put64(w, i);
			put(w, &s->rss_parts, sizeof(s->rss_parts));
			end_section(w, SEC_RSS_PARTS);
		}
		if (s->has_pins) {
			begin_section(w);
			put64(w, i);
			put64(w, s->pins.arenas);
			put64(w, s->pins.mostly_free);
			put64(w, s->pins.n);
			put(w, s->pins.top, s->pins.n * sizeof(*s->pins.top));
			end_section(w, SEC_PINS);
		}
	}
	if (loaded)
		profile_unload_snapshot((struct profile *)p, loaded);
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

	if (p->frame_sources) {
		begin_section(w);
		put64(w, p->nframes);
		put(w, p->frame_sources, p->nframes * sizeof(*p->frame_sources));
		end_section(w, SEC_SOURCES);
	}

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

	write_snapshots(w, p);
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

	/* nine fixed sections and the frames' sources when there are any, then
	 * one per snapshot (two when sampled: its estimate), one per scan and
	 * its Python names, one per typing,
	 * one per count of what was allocated and one per resident set in parts */
	w.capacity = 9 + (p->frame_sources != NULL) + p->nsnapshots * (profile_sample_rate(p) ? 2 : 1);
	for (size_t i = 0; i < p->nsnapshots; i++)
		w.capacity += (p->snapshots[i].scan != NULL) + (p->snapshots[i].types != NULL) +
			      (p->snapshots[i].scan && p->snapshots[i].scan->names) +
			      (p->snapshots[i].allocated_kind != PROFILE_ALLOCATED_UNKNOWN) +
			      (p->snapshots[i].has_rss_parts != 0) + (p->snapshots[i].has_pins != 0);
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
	/* big sections on two threads when libzstd has them (an error says
	 * it has none: then on this one) */
	(void)ZSTD_CCtx_setParameter(w.zstd, ZSTD_c_nbWorkers, COMPRESS_THREADS);
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
		return profile_fail(err, ret, "out of memory while writing '%s'", name);
	if (ret < 0)
		return profile_fail(err, ret, "cannot write '%s': %s", name, strerror(-ret));
	return 0;
}

int profile_write(const struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	char why[PRIVFILE_ERRLEN];
	struct privfile f;
	int ret;

	if ((ret = privfile_open(&f, path, why)) < 0)
		return profile_fail(err, ret, "%s", why);
	ret = profile_write_fd(p, f.fd, path, err);
	if (ret < 0) {
		privfile_abandon(&f);
		return ret;
	}
	if ((ret = privfile_commit(&f, why)) < 0)
		return profile_fail(err, ret, "%s", why);
	return 0;
}
