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
};

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
	uLong file_crc;		/* of everything after the table, so far */
	uLong section_crc;	/* of the open section, so far */
	uint64_t section_start;	/* its file offset */
	struct section_entry *table;
	size_t nsections, capacity;
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

/* Bytes of the open section. */
static void put(struct writer *w, const void *data, size_t len)
{
	if (!len)
		return;	/* zlib's crc32 of a NULL buffer is its initial value */
	w->section_crc = crc32_z(w->section_crc, (const Bytef *)data, len);
	put_raw(w, data, len);
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
}

static void end_section(struct writer *w, uint32_t type)
{
	static const char zeros[8];
	uint64_t end = position(w);

	if (w->nsections < w->capacity)
		w->table[w->nsections++] = (struct section_entry){
			.type = type,
			.offset = w->section_start,
			.size = end - w->section_start,
			.crc = (uint32_t)w->section_crc,
		};
	else
		w->error = -EINVAL;	/* the table was sized wrong: a bug */
	/* the file's CRC from the section's: no second pass over the bytes */
	w->file_crc = crc32_combine(w->file_crc, w->section_crc, (z_off_t)(end - w->section_start));
	/* keep sections 8-byte aligned */
	if (end % 8) {
		w->file_crc = crc32_z(w->file_crc, (const Bytef *)zeros, 8 - end % 8);
		put_raw(w, zeros, 8 - end % 8);
	}
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

static void put_packed_blocks(struct writer *w, const struct profile_block *b, uint64_t n)
{
	uint8_t buf[16384];
	struct profile_block prev = { 0 };
	size_t used = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (used > sizeof(buf) - PACKED_BLOCK_MAX) {
			put(w, buf, used);
			used = 0;
		}
		used += varint_encode(buf + used, b[i].addr - prev.addr);
		used += varint_encode(buf + used, b[i].size);
		used += varint_encode(buf + used, zigzag(b[i].stamp, prev.stamp));
		used += varint_encode(buf + used, zigzag(b[i].stack, prev.stack));
		used += varint_encode(buf + used, b[i].generation);
		prev = b[i];
	}
	put(w, buf, used);
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
		struct snapshot_head h = { s->name, s->flags, s->t_ns, s->stamp, s->nblocks };

		begin_section(w);
		put(w, &h, sizeof(h));
		put_packed_blocks(w, s->blocks, s->nblocks);
		end_section(w, SEC_SNAPSHOT);
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

/* The header and table, written last at the front of the file. */
static int write_front(struct writer *w, size_t table_len)
{
	struct file_header h;
	uLong crc;

	memcpy(h.magic, FILE_MAGIC, 8);
	h.version = PROFILE_VERSION;
	h.nsections = (uint32_t)w->nsections;
	h.file_size = position(w);
	h.crc = 0;
	h.reserved = 0;
	crc = crc32(0L, (const Bytef *)&h, sizeof(h));
	crc = crc32_z(crc, (const Bytef *)w->table, table_len);
	h.crc = (uint32_t)crc32_combine(crc, w->file_crc, (z_off_t)(h.file_size - sizeof(h) - table_len));
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
	if (!w.table || !w.buf) {
		w.error = -ENOMEM;
		goto out;
	}
	w.offset = sizeof(struct file_header) + table_len;
	if (lseek(w.fd, (off_t)w.offset, SEEK_SET) < 0) {
		w.error = -errno;
	} else {
		w.file_crc = crc32(0L, Z_NULL, 0);
		write_sections(&w, p);
		flush(&w);
	}
	if (!w.error)
		w.error = write_front(&w, table_len);
out:
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

static const char *section_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "meta", "totals", "strings", "modules", "frames",
		"stacks", "sites", "timeline", "snapshot", "sizes", "scan", "types",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* Long: one case per section type, in heapwise-format(5)'s order, each
 * checking its counts against the bytes left. */
static int load_section(struct profile *p, uint32_t version, uint32_t type, struct cursor *c,
			unsigned *seen)
{
	/* every section but snapshots appears once; a second copy is damage */
	if (type < 32 && type != SEC_SNAPSHOT && type != SEC_SCAN && type != SEC_TYPES) {
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
	case SEC_SNAPSHOT: {
		struct profile_snapshot *s = realloc(p->snapshots, (p->nsnapshots + 1) * sizeof(*s));
		struct snapshot_head h;

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
		if (version == 1)
			s->blocks = take_array(c, h.nblocks, sizeof(*s->blocks));
		else
			s->blocks = take_packed_blocks(c, h.nblocks);
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

/* Long: the header, then the section table walked once, each section's
 * checksum checked before it is loaded, then the whole checked again. */
int profile_read_fd(struct profile *p, int fd, const char *path, char err[PROFILE_ERRLEN])
{
	struct file_header h;
	struct section_entry *table = NULL;
	char *data = NULL;
	struct stat st;
	const char *why;
	unsigned seen = 0;
	ssize_t n;
	int ret;

	memset(p, 0, sizeof(*p));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = fail(err, -EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data) {
		ret = fail(err, -ENOMEM, "'%s' is too large to load", path);
		goto out;
	}
	for (off_t got = 0; got < st.st_size; got += n) {
		n = pread(fd, data + got, (size_t)(st.st_size - got), got);
		if (n <= 0) {
			ret = fail(err, -EIO, "cannot read '%s': %s", path, n < 0 ? strerror(errno) : "short read");
			goto out;
		}
	}
	if ((size_t)st.st_size < sizeof(h) || memcmp(data, FILE_MAGIC, 8) != 0) {
		ret = fail(err, -EINVAL, "'%s' is not a heapwise profile", path);
		goto out;
	}
	memcpy(&h, data, sizeof(h));
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
	{
		struct file_header zeroed = h;

		zeroed.crc = 0;
		if (h.reserved != 0 ||
		    (uint32_t)crc32_z(crc32(0L, (const Bytef *)&zeroed, sizeof(zeroed)),
				    (const Bytef *)data + sizeof(h), (z_size_t)st.st_size - sizeof(h)) != h.crc) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: file checksum mismatch", path);
			goto out;
		}
	}
	if (h.nsections > ((uint64_t)st.st_size - sizeof(h)) / sizeof(*table)) {
		ret = fail(err, -EINVAL, "'%s' is corrupt: its section table is larger than the file", path);
		goto out;
	}
	table = (struct section_entry *)(data + sizeof(h));
	if (profile_init(p) < 0) {
		ret = fail(err, -ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	for (uint32_t i = 0; i < h.nsections; i++) {
		struct section_entry e;
		struct cursor c;

		memcpy(&e, &table[i], sizeof(e));
		if (e.offset > (uint64_t)st.st_size || e.size > (uint64_t)st.st_size - e.offset) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) lies outside the file",
				   path, i, section_name(e.type));
			goto out;
		}
		if ((uint32_t)crc32_z(0L, (const Bytef *)data + e.offset, (z_size_t)e.size) != e.crc) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: checksum mismatch in section %u (%s)",
				   path, i, section_name(e.type));
			goto out;
		}
		c = (struct cursor){ data + e.offset, e.size, 0, 0 };
		if (load_section(p, h.version, e.type, &c, &seen) < 0) {
			ret = fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) is malformed",
				   path, i, section_name(e.type));
			goto out;
		}
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
	free(data);
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
