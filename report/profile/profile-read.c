/*
 * profile-read.c - read and check a .hws file (man/heapwise-format.5).
 *
 * The reader checks the magic, the version, the file size, every section's
 * bounds and CRC, then every count and index inside, before anything else
 * sees the data. A file that fails any check is rejected whole with a
 * message naming what is wrong.
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

#include "../util/format.h"
#include "profile-file.h"

/*
 * A profile read lazily (version 3) keeps its file open and, for each
 * snapshot, where its blocks are: a snapshot's head (name, time, counts) is
 * read with the rest, its blocks when a report asks for them
 * (profile_load_snapshot). Every section's checksum is checked on opening
 * all the same.
 */
struct snapshot_source {
	struct section_entry entry;
	uint32_t section;	/* its index in the table, for messages */
	uint64_t base;		/* a delta's base snapshot */
	uint64_t head_bytes;	/* what its head says its bytes are */
};

struct source {
	int fd;			/* -1 once everything is read */
	uint32_t version;
	char *path;
	struct snapshot_source *snaps;	/* one per snapshot */
	size_t cap;
	struct section_entry entry;	/* the section being read on opening */
	uint32_t section;
	/* while a delta chain is read: the blocks of the step before last, let
	 * go, for the next step to fill (no fresh pages for every step) */
	struct profile_block *spare;
	uint64_t spare_cap;
};

static void profile_source_free(void *source)
{
	struct source *src = source;

	if (!src)
		return;
	if (src->fd >= 0)
		close(src->fd);
	free(src->path);
	free(src->snaps);
	free(src);
}

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
					       uint64_t n, const struct delta_head *d, struct source *src)
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
	if (src->spare && src->spare_cap >= n) {
		b = src->spare;
		src->spare = NULL;
	} else {
		b = malloc(n ? n * sizeof(*b) : 1);
	}
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

/* What one snapshot section's heads say; -1 when they cannot be taken. */
static int take_heads(struct cursor *c, uint32_t version, uint32_t type, struct snapshot_head *h,
		      struct delta_head *d)
{
	memset(h, 0, sizeof(*h));
	if (take(c, h, version >= 3 ? sizeof(*h) : SNAPSHOT_HEAD_V2) < 0 ||
	    (type == SEC_SNAPSHOT_DELTA && take(c, d, sizeof(*d)) < 0))
		return -1;
	return 0;
}

/* The blocks of snapshot k, from its section's bytes after the heads (a
 * delta's base already read): checked and summed. The sum is checked
 * against the head by bytes_match_heads(), once the meta say whether the
 * profile is sampled. */
static int decode_blocks(struct profile *p, uint32_t version, size_t k, struct cursor *c,
			 const struct snapshot_head *h, const struct delta_head *d)
{
	struct source *src = p->source;
	struct profile_snapshot *s = &p->snapshots[k];
	uint64_t raw = 0;

	if (src->snaps[k].entry.type == SEC_SNAPSHOT_DELTA)
		s->blocks = take_delta_blocks(c, &p->snapshots[d->base], h->nblocks, d, src);
	else if (version == 1)
		s->blocks = take_array(c, h->nblocks, sizeof(*s->blocks));
	else
		s->blocks = take_packed_blocks(c, h->nblocks);
	if (!s->blocks || c->pos != c->len)
		return -1;
	s->unread = 0;
	/* bounded, so that no sum of sizes a report makes can overflow */
	for (uint64_t i = 0; i < s->nblocks; i++) {
		if (s->blocks[i].size > PROFILE_MAX_BLOCK_SIZE)
			return -1;
		raw += s->blocks[i].size;
		if (raw > PROFILE_MAX_BYTES)
			return -1;
	}
	s->bytes = raw;
	return 0;
}

/* Version 3 said each snapshot's bytes before its blocks: exactly their sum
 * when every block was recorded; a sampled one's estimate is weighed again
 * (profile_weigh_snapshots), not compared: another libm may round it apart. */
static int bytes_match_heads(const struct profile *p)
{
	const struct source *src = p->source;

	if (src->version < 3 || profile_sample_rate(p))
		return 1;
	for (size_t k = 0; k < p->nsnapshots; k++)
		if (!p->snapshots[k].unread && p->snapshots[k].bytes != src->snaps[k].head_bytes)
			return 0;
	return 1;
}

/* A snapshot section: its snapshot's head, and its blocks unless the
 * profile is read lazily (then it is unread until loaded). */
static int note_snapshot(struct profile *p, uint32_t version, uint32_t type, struct cursor *c)
{
	struct source *src = p->source;
	struct profile_snapshot *s;
	struct snapshot_head h;
	struct delta_head d = { 0 };
	size_t k = p->nsnapshots;

	if (take_heads(c, version, type, &h, &d) < 0 || h.bytes > PROFILE_MAX_BYTES ||
	    (type == SEC_SNAPSHOT_DELTA && d.base >= k))
		return -1;
	s = realloc(p->snapshots, (k + 1) * sizeof(*s));
	if (!s)
		return -1;
	p->snapshots = s;
	if (k == src->cap) {
		struct snapshot_source *n = realloc(src->snaps, (src->cap * 2 + 8) * sizeof(*n));

		if (!n)
			return -1;
		src->snaps = n;
		src->cap = src->cap * 2 + 8;
	}
	src->snaps[k] = (struct snapshot_source){ src->entry, src->section, d.base, h.bytes };
	s = &s[k];
	*s = (struct profile_snapshot){ .name = h.name, .flags = h.flags, .t_ns = h.t_ns, .stamp = h.stamp,
					.nblocks = h.nblocks, .bytes = h.bytes, .unread = 1 };
	p->nsnapshots++;
	if (src->fd >= 0 && version >= 3) {
		c->pos = c->len;	/* its blocks: later */
		return 0;
	}
	return decode_blocks(p, version, k, c, &h, &d);
}

static const char *section_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "meta", "totals", "strings", "modules", "frames",
		"stacks", "sites", "timeline", "snapshot", "sizes", "scan", "types",
		"snapshot delta", "frame sources", "allocated", "resident set", "Python names",
		"estimate", "arenas",
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
	    type != SEC_TYPES && type != SEC_ALLOCATED && type != SEC_RSS_PARTS && type != SEC_EDGE_NAMES &&
	    type != SEC_ESTIMATE && type != SEC_PINS) {
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
	case SEC_SOURCES: {
		uint64_t n = take64(c);

		/* the frames come first: one source for each */
		if (c->bad || !(*seen & (1u << SEC_FRAMES)) || n != p->nframes)
			return -1;
		p->frame_sources = take_array(c, n, sizeof(*p->frame_sources));
		if (n && !p->frame_sources)
			return -1;
		break;
	}
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
	case SEC_SNAPSHOT_DELTA:
		if (note_snapshot(p, version, type, c) < 0)
			return -1;
		break;
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
	case SEC_ALLOCATED: {
		uint64_t at = take64(c), n;
		uint32_t kind = take32(c);
		struct profile_snapshot *s;

		take32(c);
		n = take64(c);
		if (c->bad || at >= p->nsnapshots || p->snapshots[at].allocated_kind ||
		    (kind != PROFILE_ALLOCATED_SINCE && kind != PROFILE_ALLOCATED_AFTER))
			return -1;
		s = &p->snapshots[at];
		s->allocated = take_array(c, n, sizeof(*s->allocated));
		if (!s->allocated)
			return -1;
		s->nallocated = n;
		s->allocated_kind = kind;
		break;
	}
	case SEC_EDGE_NAMES: {
		uint64_t at = take64(c), n = take64(c);
		struct profile_scan *sc;

		/* after its scan; read without the scans, it is left too */
		if (c->bad || at >= p->nsnapshots)
			return -1;
		if (!(sc = p->snapshots[at].scan)) {
			c->pos = c->len;
			break;
		}
		if (sc->names || !(sc->names = take_array(c, n, sizeof(*sc->names))))
			return -1;
		sc->nnames = n;
		break;
	}
	case SEC_PINS: {
		uint64_t at = take64(c);
		struct profile_pins pins = { 0 };

		pins.arenas = take64(c);
		pins.mostly_free = take64(c);
		pins.n = take64(c);
		if (c->bad || at >= p->nsnapshots || p->snapshots[at].has_pins || pins.n > PROFILE_PINS_MAX ||
		    pins.mostly_free > pins.arenas || take(c, pins.top, pins.n * sizeof(*pins.top)) < 0)
			return -1;
		for (uint64_t k = 0; k < pins.n; k++)
			if (pins.top[k].blocks > PROFILE_MAX_BYTES || pins.top[k].bytes > PROFILE_MAX_BYTES)
				return -1;
		p->snapshots[at].pins = pins;
		p->snapshots[at].has_pins = 1;
		break;
	}
	case SEC_ESTIMATE: {
		uint64_t at = take64(c), blocks = take64(c);

		if (c->bad || at >= p->nsnapshots || blocks > PROFILE_MAX_BYTES)
			return -1;
		p->snapshots[at].est_blocks = blocks;
		p->snapshots[at].est_known = 1;
		break;
	}
	case SEC_RSS_PARTS: {
		uint64_t at = take64(c);
		struct profile_rss_parts r;

		if (take(c, &r, sizeof(r)) < 0 || at >= p->nsnapshots || p->snapshots[at].has_rss_parts)
			return -1;
		/* the parts add up to the whole, each bounded */
		if (r.rss > PROFILE_MAX_BYTES || r.live_heap > r.rss || r.pymalloc_free > r.rss - r.live_heap ||
		    r.allocator_free > r.rss - r.live_heap - r.pymalloc_free ||
		    r.other != r.rss - r.live_heap - r.pymalloc_free - r.allocator_free)
			return -1;
		p->snapshots[at].rss_parts = r;
		p->snapshots[at].has_rss_parts = 1;
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
		    r->python >= p->strings_len ||
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
	for (uint64_t i = 0; i < sc->nnames; i++) {
		const struct profile_edge_name *n = &sc->names[i];

		if (n->from >= s->nblocks || n->kind == 0 || n->kind >= PROFILE_NAME_KINDS ||
		    n->text >= p->strings_len)
			return "a Python name is malformed";
		if (i && (n->from < sc->names[i - 1].from ||
			  (n->from == sc->names[i - 1].from && n->offset <= sc->names[i - 1].offset)))
			return "the Python names are out of order";
	}
	return NULL;
}

static const char *check_blocks(const struct profile *p, const struct profile_snapshot *s)
{
	for (uint64_t j = 0; !s->unread && j < s->nblocks; j++)
		if (s->blocks[j].stack >= p->nstacks)
			return "a snapshot block names a stack that does not exist";
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
		if (p->frame_sources && p->frame_sources[i].dir >= p->strings_len)
			return "a frame's directory points outside the string table";
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
		for (uint64_t k = 0; k < p->snapshots[i].nallocated; k++)
			if (p->snapshots[i].allocated[k].stack >= p->nstacks)
				return "a snapshot's allocation count names a stack that does not exist";
		for (uint64_t k = 0; p->snapshots[i].has_pins && k < p->snapshots[i].pins.n; k++)
			if (p->snapshots[i].pins.top[k].stack >= p->nstacks)
				return "an arena's pinning site names a stack that does not exist";
	}
	for (size_t i = 0; i < p->nsnapshots; i++) {
		const struct profile_snapshot *s = &p->snapshots[i];

		if (s->name >= p->strings_len)
			return "a snapshot name points outside the string table";
		if ((why = check_blocks(p, s)))
			return why;
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

/* A zstd frame into out, exactly len bytes; or, when only its start is
 * wanted, its first len bytes. */
static int unpack(char *out, size_t len, int start_only, const char *frame, size_t frame_len)
{
	ZSTD_DCtx *dc;
	ZSTD_inBuffer in = { frame, frame_len, 0 };
	ZSTD_outBuffer to = { out, len, 0 };
	size_t left = 1;

	if (!start_only)
		return ZSTD_decompress(out, len, frame, frame_len) == len ? 0 : -1;
	dc = ZSTD_createDCtx();
	if (!dc)
		return -1;
	while (to.pos < to.size && left != 0 && !ZSTD_isError(left) && in.pos < in.size)
		left = ZSTD_decompressStream(dc, &to, &in);
	ZSTD_freeDCtx(dc);
	return to.pos == to.size && !ZSTD_isError(left) ? 0 : -1;
}

/* A section's bytes as stored, checked, then unpacked when they are a zstd
 * frame: into *out (the caller frees it), *out_len bytes, at most limit of
 * them (its start). Returns NULL, or what is wrong with it. */
static const char *read_section(int fd, uint32_t version, const struct section_entry *e, uint64_t limit,
				char **out, uint64_t *out_len)
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
	if (limit < unpacked)
		unpacked = limit;
	bytes = malloc(unpacked ? unpacked : 1);
	if (!bytes) {
		free(stored);
		return "it is too large to load";
	}
	if (unpack(bytes, unpacked, unpacked == limit, stored, e->size - sizeof(unpacked)) < 0) {
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
 * byte is under a checksum), then the whole checked again. Lazily, the file
 * is kept (fd is the profile's then, even on failure) and snapshots' blocks
 * are left in it; no_scans, their scans are not read at all (a report that
 * never follows pointers). */
static int read_profile(struct profile *p, int fd, const char *path, int lazy, int no_scans,
			char err[PROFILE_ERRLEN])
{
	struct file_header h;
	struct section_entry *table = NULL;
	struct source *src;
	struct stat st;
	const char *why;
	unsigned seen = 0;
	uint64_t table_len, expected;
	int ret;

	memset(p, 0, sizeof(*p));
	src = calloc(1, sizeof(*src));
	if (!src || !(src->path = strdup(path))) {
		free(src);
		if (lazy)
			close(fd);
		return profile_fail(err, -ENOMEM, "out of memory reading '%s'", path);
	}
	src->fd = lazy ? fd : -1;
	p->source = src;
	p->source_free = profile_source_free;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = profile_fail(err, -EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size < sizeof(h) || read_exact(fd, &h, sizeof(h), 0) < 0 ||
	    memcmp(h.magic, FILE_MAGIC, 8) != 0) {
		ret = profile_fail(err, -EINVAL, "'%s' is not a heapwise profile", path);
		goto out;
	}
	if (h.version < PROFILE_OLDEST_VERSION || h.version > PROFILE_VERSION) {
		ret = profile_fail(err, -EINVAL, "'%s' has format version %u; this heapwise reads versions %d to %d",
			   path, h.version, PROFILE_OLDEST_VERSION, PROFILE_VERSION);
		goto out;
	}
	if (h.file_size != (uint64_t)st.st_size) {
		ret = profile_fail(err, -EINVAL, "'%s' is truncated or corrupt: %llu bytes, header says %llu",
			   path, (unsigned long long)st.st_size, (unsigned long long)h.file_size);
		goto out;
	}
	if (h.nsections > ((uint64_t)st.st_size - sizeof(h)) / sizeof(*table)) {
		ret = profile_fail(err, -EINVAL, "'%s' is corrupt: its section table is larger than the file", path);
		goto out;
	}
	table_len = h.nsections * sizeof(*table);
	table = malloc(table_len ? table_len : 1);
	if (!table || read_exact(fd, table, table_len, sizeof(h)) < 0) {
		ret = profile_fail(err, -EIO, "cannot read '%s': %s", path, table ? "short read" : "out of memory");
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
		ret = ret < 0 ? profile_fail(err, ret, "out of memory reading '%s'", path) :
		      profile_fail(err, -EINVAL, "'%s' is corrupt: %s checksum mismatch", path,
			   h.version >= 3 ? "header" : "file");
		goto out;
	}
	src->version = h.version;
	p->source = NULL;	/* profile_init starts afresh */
	ret = profile_init(p);
	p->source = src;
	p->source_free = profile_source_free;
	if (ret < 0) {
		ret = profile_fail(err, -ENOMEM, "out of memory reading '%s'", path);
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
			ret = profile_fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) lies outside the file",
				   path, i, section_name(e->type));
			goto out;
		}
		expected = (e->offset + e->size + 7) & ~7ull;
		if (no_scans && (e->type == SEC_SCAN || e->type == SEC_EDGE_NAMES))
			continue;	/* its bytes are not even read: no checksum to check */
		src->entry = *e;
		src->section = i;
		why = read_section(fd, h.version, e,
				   lazy && (e->type == SEC_SNAPSHOT || e->type == SEC_SNAPSHOT_DELTA) ?
				   sizeof(struct snapshot_head) + sizeof(struct delta_head) : UINT64_MAX,
				   &bytes, &len);
		if (why) {
			free(bytes);
			ret = profile_fail(err, -EINVAL, "'%s' is corrupt: section %u (%s): %s", path, i,
				   section_name(e->type), why);
			goto out;
		}
		c = (struct cursor){ bytes, len, 0, 0 };
		ret = load_section(p, h.version, e->type, &c, &seen);
		free(bytes);
		if (ret < 0) {
			ret = profile_fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) is malformed",
				   path, i, section_name(e->type));
			goto out;
		}
	}
	if (h.version >= 3 && expected != (uint64_t)st.st_size) {
		ret = profile_fail(err, -EINVAL, "'%s' is corrupt: it ends in bytes no section holds", path);
		goto out;
	}
	why = check_references(p);
	if (!why && !bytes_match_heads(p))
		why = "a snapshot's blocks do not add up to the bytes it says";
	if (why) {
		ret = profile_fail(err, -EINVAL, "'%s' is corrupt: %s", path, why);
		goto out;
	}
	if (p->nstacks == 0) {
		ret = profile_fail(err, -EINVAL, "'%s' is corrupt: it has no stack table", path);
		goto out;
	}
	if ((why = profile_weigh_snapshots(p))) {
		ret = profile_fail(err, -EINVAL, "'%s' is corrupt: %s", path, why);
		goto out;
	}
	if (!lazy) {
		profile_source_free(src);
		p->source = NULL;
		p->source_free = NULL;
	}
	ret = 0;
out:
	if (ret < 0)
		profile_release(p);	/* and the source with it */
	free(table);
	return ret;
}

int profile_read_fd(struct profile *p, int fd, const char *path, char err[PROFILE_ERRLEN])
{
	return read_profile(p, fd, path, 0, 0, err);
}

static int open_profile(struct profile *p, const char *path, int lazy, int no_scans, char err[PROFILE_ERRLEN])
{
	int fd, ret;

	memset(p, 0, sizeof(*p));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return profile_fail(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	ret = read_profile(p, fd, path, lazy, no_scans, err);
	if (!lazy)
		close(fd);
	return ret;
}

int profile_read(struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	return open_profile(p, path, 0, 0, err);
}

int profile_read_lazy(struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	return open_profile(p, path, 1, 0, err);
}

int profile_read_lazy_unscanned(struct profile *p, const char *path, char err[PROFILE_ERRLEN])
{
	return open_profile(p, path, 1, 1, err);
}

/* Snapshot k's blocks from its section, its base's already in memory. */
static int load_one(struct profile *p, size_t k, char err[PROFILE_ERRLEN])
{
	struct source *src = p->source;
	const struct snapshot_source *from = &src->snaps[k];
	struct snapshot_head h;
	struct delta_head d = { 0 };
	const char *why;
	struct cursor c;
	char *bytes;
	uint64_t len;
	int ret;

	why = read_section(src->fd, src->version, &from->entry, UINT64_MAX, &bytes, &len);
	if (why) {
		free(bytes);
		return profile_fail(err, -EINVAL, "'%s' is corrupt: section %u (%s): %s", src->path,
				    from->section, section_name(from->entry.type), why);
	}
	c = (struct cursor){ bytes, len, 0, 0 };
	ret = take_heads(&c, src->version, from->entry.type, &h, &d);
	if (ret == 0 && (h.nblocks != p->snapshots[k].nblocks || d.base != from->base))
		ret = -1;	/* not what it said on opening: the file changed */
	if (ret == 0)
		ret = decode_blocks(p, src->version, k, &c, &h, &d);
	if (ret == 0 && ((why = check_blocks(p, &p->snapshots[k])) || !bytes_match_heads(p)))
		ret = -1;
	if (ret == 0 && (why = profile_weigh_snapshots(p)))	/* this one's estimate, when sampled */
		ret = -1;
	free(bytes);
	if (ret < 0) {
		free(p->snapshots[k].blocks);
		p->snapshots[k].blocks = NULL;
		p->snapshots[k].unread = 1;
		return profile_fail(err, -EINVAL, "'%s' is corrupt: section %u (%s) is malformed", src->path,
				    from->section, section_name(from->entry.type));
	}
	return 0;
}

/*
 * A delta needs its base: read the chain back to a snapshot in memory or a
 * full one, forwards, letting each step's base go once the next is read
 * (the writer keeps chains short: DELTA_CHAIN_MAX).
 */
int profile_load_snapshot(struct profile *p, struct profile_snapshot *s, char err[PROFILE_ERRLEN])
{
	struct source *src = p->source;
	size_t k = (size_t)(s - p->snapshots), n = 0, *chain;
	int ret = 0;

	if (!s->unread)
		return 0;
	if (p->loader)
		return p->loader->load(p->loader, p, k, err);
	for (size_t j = k;; j = src->snaps[j].base) {
		n++;
		if (src->snaps[j].entry.type != SEC_SNAPSHOT_DELTA || !p->snapshots[src->snaps[j].base].unread)
			break;
	}
	chain = malloc(n * sizeof(*chain));
	if (!chain)
		return profile_fail(err, -ENOMEM, "out of memory reading '%s'", src->path);
	n = 0;
	for (size_t j = k;; j = src->snaps[j].base) {
		chain[n++] = j;
		if (src->snaps[j].entry.type != SEC_SNAPSHOT_DELTA || !p->snapshots[src->snaps[j].base].unread)
			break;
	}
	for (size_t m = n; m-- > 0 && ret == 0;) {
		ret = load_one(p, chain[m], err);
		if (m + 1 < n) {
			struct profile_snapshot *step = &p->snapshots[chain[m + 1]];

			free(src->spare);
			src->spare = step->blocks;
			src->spare_cap = step->nblocks;
			step->blocks = NULL;
			step->unread = 1;
		}
	}
	free(src->spare);
	src->spare = NULL;
	free(chain);
	return ret;
}

void profile_unload_snapshot(struct profile *p, struct profile_snapshot *s)
{
	const struct source *src = p->source;

	if (p->loader) {
		if (!s->unread)
			p->loader->unload(p->loader, p, (size_t)(s - p->snapshots));
		return;
	}
	if (!src || src->fd < 0 || src->version < 3 || s->unread)
		return;	/* read whole, or built here: nowhere to read it again from */
	free(s->blocks);
	s->blocks = NULL;
	s->unread = 1;
}
