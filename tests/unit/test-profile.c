/*
 * test-profile.c - a profile survives a write/read round trip, and every
 * truncation and every changed byte of a small file is rejected cleanly,
 * as are packed snapshot blocks that do not parse though their checksums
 * are right.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <zlib.h>

#include "../../report/profile/profile.h"

static char path[64];

static void build(struct profile *p)
{
	assert_int_equal(profile_init(p), 0);
	profile_set_meta(p, "command", "./app --flag");
	p->modules = calloc(1, sizeof(*p->modules));
	p->modules[0] = (struct profile_module){ .path = profile_intern(p, "/usr/bin/app"),
						 .build_id = profile_intern(p, "abcd"), .bias = 0x400000,
						 .start = 0x400000, .end = 0x500000, .image = 1 };
	p->nmodules = 1;
	p->frames = calloc(2, sizeof(*p->frames));
	p->frames[0] = (struct profile_frame){ .ip = 0x401234, .module = 0,
					       .function = profile_intern(p, "parse"),
					       .file = profile_intern(p, "parse.c"), .line = 118 };
	p->frames[1] = (struct profile_frame){ .ip = 0x401500, .module = PROFILE_NONE };
	p->nframes = 2;
	p->stacks = calloc(2, sizeof(*p->stacks));
	p->stacks[1] = (struct profile_stack){ 0, 2 };
	p->nstacks = 2;
	p->stack_frames = calloc(2, sizeof(uint32_t));
	p->stack_frames[0] = 0;
	p->stack_frames[1] = 1;
	p->nstack_frames = 2;
	p->sites = calloc(1, sizeof(*p->sites));
	p->sites[0] = (struct profile_site){ .stack = 1, .allocations = 3000, .bytes_allocated = 1260000,
					     .live_blocks = 2, .live_bytes = 840 };
	p->nsites = 1;
	p->snapshots = calloc(1, sizeof(*p->snapshots));
	p->snapshots[0].name = profile_intern(p, "exit");
	p->snapshots[0].nblocks = 2;
	p->snapshots[0].blocks = calloc(2, sizeof(struct profile_block));
	p->snapshots[0].blocks[0] = (struct profile_block){ 0x1000, 420, 5, 1, 0 };
	p->snapshots[0].blocks[1] = (struct profile_block){ 0x2000, 420, 9, 1, 1 };
	p->nsnapshots = 1;
	p->snapshots[0].scan = calloc(1, sizeof(struct profile_scan));
	p->snapshots[0].scan->stop_ns = 1234567;
	p->snapshots[0].scan->threads = 2;
	p->snapshots[0].scan->nroots = 1;
	p->snapshots[0].scan->roots = calloc(1, sizeof(struct profile_root));
	p->snapshots[0].scan->roots[0] = (struct profile_root){ .kind = PROFILE_ROOT_GLOBAL, .addr = 0x404040,
		.offset = 8, .name = profile_intern(p, "g_list"), .module = 0 };
	p->snapshots[0].scan->nedges = 2;
	p->snapshots[0].scan->edges = calloc(2, sizeof(struct profile_edge));
	p->snapshots[0].scan->edges[0] = (struct profile_edge){ PROFILE_EDGE_ROOT | 0, 0, 8, 0, 0 };
	p->snapshots[0].scan->edges[1] = (struct profile_edge){ 0, 1, 16, 24, PROFILE_HEUR_STDSTRING };
	p->totals.allocations = 3000;
	p->totals.live_bytes = 840;
}

static void round_trip(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];

	(void)state;
	build(&p);
	assert_int_equal(profile_write(&p, path, err), 0);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	assert_string_equal(profile_get_meta(&q, "command"), "./app --flag");
	assert_int_equal(q.totals.allocations, 3000);
	assert_int_equal(q.nmodules, 1);
	assert_string_equal(profile_str(&q, q.modules[0].path), "/usr/bin/app");
	assert_int_equal(q.nframes, 2);
	assert_string_equal(profile_str(&q, q.frames[0].function), "parse");
	assert_int_equal(q.frames[0].line, 118);
	assert_int_equal(q.stacks[1].depth, 2);
	assert_int_equal(q.sites[0].bytes_allocated, 1260000);
	assert_non_null(profile_find_snapshot(&q, "exit"));
	assert_non_null(profile_find_snapshot(&q, "1"));
	assert_null(profile_find_snapshot(&q, "2"));
	assert_null(profile_find_snapshot(&q, "peak"));
	assert_int_equal(q.snapshots[0].bytes, 840);
	assert_int_equal(q.snapshots[0].blocks[1].generation, 1);
	assert_non_null(q.snapshots[0].scan);
	assert_int_equal(q.snapshots[0].scan->stop_ns, 1234567);
	assert_int_equal(q.snapshots[0].scan->threads, 2);
	assert_int_equal(q.snapshots[0].scan->nroots, 1);
	assert_string_equal(profile_str(&q, q.snapshots[0].scan->roots[0].name), "g_list");
	assert_int_equal(q.snapshots[0].scan->nedges, 2);
	assert_int_equal(q.snapshots[0].scan->edges[1].target, 24);
	assert_int_equal(q.snapshots[0].scan->edges[1].heuristic, PROFILE_HEUR_STDSTRING);
	assert_int_equal(q.snapshots[0].scan->edges[1].offset, 16);
	profile_release(&p);
	profile_release(&q);
}

/* A snapshot's Python types come back; one naming no string is refused. */
static void types_round_trip(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];

	(void)state;
	build(&p);
	p.snapshots[0].types = calloc(2, sizeof(uint32_t));
	p.snapshots[0].types[1] = profile_intern(&p, "Session");
	assert_int_equal(profile_write(&p, path, err), 0);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	assert_non_null(q.snapshots[0].types);
	assert_int_equal(q.snapshots[0].types[0], 0);
	assert_string_equal(profile_str(&q, q.snapshots[0].types[1]), "Session");
	profile_release(&q);
	p.snapshots[0].types[0] = (uint32_t)p.strings_len + 7;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "a block's type points outside the string table"));
	profile_release(&p);
}

/* Write p and read it back into q, which must succeed. */
static void write_and_read(struct profile *p, struct profile *q)
{
	char err[PROFILE_ERRLEN];

	assert_int_equal(profile_write(p, path, err), 0);
	if (profile_read(q, path, err) < 0)
		fail_msg("%s", err);
}

/* Write p; reading it back must fail, saying why. */
static void expect_refused(struct profile *p, const char *why)
{
	struct profile q;
	char err[PROFILE_ERRLEN];

	assert_int_equal(profile_write(p, path, err), 0);
	if (profile_read(&q, path, err) == 0) {
		profile_release(&q);
		fail_msg("accepted; wanted: %s", why);
	}
	if (!strstr(err, why))
		fail_msg("%s; wanted: %s", err, why);
}

/* Each frame's compilation directory and first line come back; a file
 * without them (an older writer's) reads with none, and one whose
 * directory names no string is refused. */
static void frame_sources_round_trip(void **state)
{
	struct profile p, q;

	(void)state;
	build(&p);
	write_and_read(&p, &q);
	assert_null(q.frame_sources);
	profile_release(&q);

	p.frame_sources = calloc(2, sizeof(*p.frame_sources));
	p.frame_sources[0] = (struct profile_frame_source){ profile_intern(&p, "/src/app"), 112 };
	write_and_read(&p, &q);
	assert_non_null(q.frame_sources);
	assert_string_equal(profile_str(&q, q.frame_sources[0].dir), "/src/app");
	assert_int_equal(q.frame_sources[0].start_line, 112);
	assert_int_equal(q.frame_sources[1].dir, 0);
	profile_release(&q);

	p.frame_sources[1].dir = (uint32_t)p.strings_len + 3;
	expect_refused(&p, "a frame's directory points outside the string table");
	profile_release(&p);
}

/* A snapshot's counts of what was allocated by it come back; one naming
 * a stack that does not exist is refused. */
static void allocated_round_trip(void **state)
{
	struct profile p, q;
	uint64_t allocations[2] = { 0 }, bytes[2] = { 0 };

	(void)state;
	build(&p);
	p.snapshots[0].allocated = calloc(1, sizeof(*p.snapshots[0].allocated));
	p.snapshots[0].allocated[0] = (struct profile_alloc_count){ .stack = 1, .allocations = 1000,
								    .bytes = 420000 };
	p.snapshots[0].nallocated = 1;
	p.snapshots[0].allocated_kind = PROFILE_ALLOCATED_AFTER;
	write_and_read(&p, &q);
	assert_int_equal(q.snapshots[0].allocated_kind, PROFILE_ALLOCATED_AFTER);
	assert_int_equal(q.snapshots[0].nallocated, 1);
	profile_allocated_until(&q, 0, allocations, bytes);	/* the run's 3000, less 1000 after */
	assert_int_equal(allocations[1], 2000);
	assert_int_equal(bytes[1], 840000);
	profile_release(&q);

	p.snapshots[0].allocated_kind = PROFILE_ALLOCATED_SINCE;	/* more than the run's: the run's */
	p.snapshots[0].allocated[0].allocations = 5000;
	write_and_read(&p, &q);
	memset(allocations, 0, sizeof(allocations));
	memset(bytes, 0, sizeof(bytes));
	profile_allocated_until(&q, 0, allocations, bytes);
	assert_int_equal(allocations[1], 3000);
	assert_int_equal(bytes[1], 420000);
	profile_release(&q);

	p.snapshots[0].allocated[0].stack = 2;
	expect_refused(&p, "allocation count names a stack that does not exist");
	profile_release(&p);
}

/* A sampled snapshot whose estimates pass 2^62 (4.2M one-byte blocks at
 * the largest rate, each standing for 2^40 blocks) is refused, so that no
 * report's sum can wrap; one block fewer than that is weighed. */
static void huge_estimates_are_rejected(void **state)
{
	struct profile p;
	size_t n = (1u << 22) + 1;

	(void)state;
	build(&p);
	profile_set_meta_u64(&p, "sample-rate", PROFILE_MAX_SAMPLE_RATE);
	free(p.snapshots[0].blocks);
	p.snapshots[0].blocks = calloc(n, sizeof(struct profile_block));
	for (size_t i = 0; i < n; i++)
		p.snapshots[0].blocks[i] = (struct profile_block){ 0x1000 + 16 * i, 1, i + 1, 1, 0 };
	p.snapshots[0].nblocks = n - 2;
	assert_null(profile_weigh_snapshots(&p));
	assert_true(p.snapshots[0].bytes > (1ull << 61));
	p.snapshots[0].nblocks = n;
	assert_non_null(profile_weigh_snapshots(&p));
	assert_int_equal(p.snapshots[0].bytes, PROFILE_MAX_BYTES);
	profile_release(&p);
}

/* A scanned snapshot's resident set in parts and its pymalloc arenas come
 * back; parts that do not add up to the whole, a pinning site that names
 * no stack and more mostly free arenas than arenas are refused. */
static void rss_parts_round_trip(void **state)
{
	struct profile p, q;

	(void)state;
	build(&p);
	p.snapshots[0].rss_parts = (struct profile_rss_parts){ 100 << 20, 5 << 20, 60 << 20, 1 << 20, 34 << 20 };
	p.snapshots[0].has_rss_parts = 1;
	write_and_read(&p, &q);
	assert_true(q.snapshots[0].has_rss_parts);
	assert_int_equal(q.snapshots[0].rss_parts.pymalloc_free, 60 << 20);
	assert_int_equal(q.snapshots[0].rss_parts.other, 34 << 20);
	profile_release(&q);
	p.snapshots[0].pins = (struct profile_pins){ 66, 62, 1, { { 1, 0, 13938, 680000 } } };
	p.snapshots[0].has_pins = 1;
	write_and_read(&p, &q);
	assert_true(q.snapshots[0].has_pins);
	assert_int_equal(q.snapshots[0].pins.mostly_free, 62);
	assert_int_equal(q.snapshots[0].pins.top[0].blocks, 13938);
	profile_release(&q);
	p.snapshots[0].pins.top[0].stack = 2;
	expect_refused(&p, "an arena's pinning site names a stack that does not exist");
	p.snapshots[0].pins.top[0].stack = 1;
	p.snapshots[0].pins.mostly_free = 67;	/* more mostly free arenas than arenas */
	expect_refused(&p, "(arenas) is malformed");
	p.snapshots[0].pins.mostly_free = 62;
	p.snapshots[0].rss_parts.other++;
	expect_refused(&p, "(resident set) is malformed");
	profile_release(&p);
}

/* A scan's Python names come back, found by block and offset; a name of
 * a block that does not exist is refused. */
static void python_names_round_trip(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	struct profile_edge_name *n = calloc(2, sizeof(*n));

	(void)state;
	build(&p);
	n[0] = (struct profile_edge_name){ 0, 8, PROFILE_NAME_STR_KEY, profile_intern(&p, "user7"), 0 };
	n[1] = (struct profile_edge_name){ 1, 0, PROFILE_NAME_LIST, 0, 0 };
	p.snapshots[0].scan->names = n;
	p.snapshots[0].scan->nnames = 2;
	write_and_read(&p, &q);
	assert_non_null(profile_edge_name_of(q.snapshots[0].scan, 0, 8));
	assert_string_equal(profile_str(&q, profile_edge_name_of(q.snapshots[0].scan, 0, 8)->text), "user7");
	assert_int_equal(profile_edge_name_of(q.snapshots[0].scan, 1, 0)->kind, PROFILE_NAME_LIST);
	assert_null(profile_edge_name_of(q.snapshots[0].scan, 0, 16));
	profile_release(&q);
	assert_int_equal(profile_read_lazy_unscanned(&q, path, err), 0);	/* left with the scan */
	assert_null(q.snapshots[0].scan);
	profile_release(&q);
	n[1].from = 2;
	expect_refused(&p, "a Python name is malformed");
	profile_release(&p);
}

/* Checksums right, contents wrong: an edge to a block that is not there. */
static void bad_scan_is_rejected(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];

	(void)state;
	build(&p);
	p.snapshots[0].scan->edges[1].to = 2;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "a scan edge names a block or root that does not exist"));
	p.snapshots[0].scan->edges[1].to = 1;
	p.snapshots[0].scan->edges[0].from = PROFILE_EDGE_ROOT | 1;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "does not exist"));
	profile_release(&p);
}

/* The bytes of the file at path, and their count in *size. */
static unsigned char *read_whole(const char *at, long *size)
{
	unsigned char *data;
	FILE *f = fopen(at, "rb");

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	rewind(f);
	data = malloc((size_t)*size);
	assert_int_equal(fread(data, 1, (size_t)*size, f), (size_t)*size);
	fclose(f);
	return data;
}

/* Every truncation and every changed byte (bits 0, 3 and 6) is refused,
 * with the file named. The damaged copies live in one memfd, rewritten in
 * place: no file a case. */
static void damage_is_rejected(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data;
	long size;
	int fd = memfd_create("damaged", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	build(&p);
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	assert_int_equal(pwrite(fd, data, (size_t)size, 0), size);

	for (long len = size - 1; len >= 0; len--) {
		assert_int_equal(ftruncate(fd, len), 0);
		assert_int_not_equal(profile_read_fd(&q, fd, "the damaged copy", err), 0);
		assert_non_null(strstr(err, "the damaged copy"));
	}
	assert_int_equal(pwrite(fd, data, (size_t)size, 0), size);
	for (long at = 0; at < size; at++) {
		for (int bit = 0; bit < 8; bit += 3) {
			unsigned char changed = data[at] ^ (unsigned char)(1u << bit);

			assert_int_equal(pwrite(fd, &changed, 1, at), 1);
			if (profile_read_fd(&q, fd, "the damaged copy", err) == 0) {
				profile_release(&q);
				fail_msg("byte %ld bit %d changed and the file was accepted", at, bit);
			}
			assert_int_equal(pwrite(fd, &data[at], 1, at), 1);
		}
	}
	close(fd);
	free(data);
}

/* Blocks whose fields jump every way the packing must carry: the address
 * by a byte or most of the address space, the stamp and the stack up and
 * down, sizes and generations at their extremes. */
static void packed_blocks_round_trip(void **state)
{
	enum { N = 20000 };
	struct profile p, q;
	struct profile_block *b;
	char err[PROFILE_ERRLEN];
	uint64_t x = 88172645463325252ull, addr = 0;

	(void)state;
	build(&p);
	b = calloc(N, sizeof(*b));
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		addr += i == N - 1 ? UINT64_MAX - addr : i % 1000 == 0 ? x >> 20 : 1 + x % 4096;
		b[i] = (struct profile_block){
			.addr = addr,
			.size = i % 7 == 0 ? PROFILE_MAX_BLOCK_SIZE - i : x % 100000,
			.stamp = i % 3 == 0 ? x : UINT64_MAX - x % 5,
			.stack = (uint32_t)(x >> 33) % 2,
			.generation = i % 11 == 0 ? UINT32_MAX : (uint32_t)(x % 3),
		};
	}
	b[0].addr = 0;
	free(p.snapshots[0].blocks);
	p.snapshots[0].blocks = b;
	p.snapshots[0].nblocks = N;
	profile_scan_free(p.snapshots[0].scan);
	p.snapshots[0].scan = NULL;
	assert_int_equal(profile_write(&p, path, err), 0);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	assert_int_equal(q.snapshots[0].nblocks, N);
	assert_memory_equal(q.snapshots[0].blocks, b, N * sizeof(*b));
	profile_release(&p);
	profile_release(&q);
}

/* Sizes a collector cannot make, or sums a report could not add up, are
 * refused: a block over 8 TiB, and 2^19 + 1 blocks of 8 TiB in one snapshot
 * (more than 2^62 bytes); and site counters that sum past 2^62. */
static void huge_sizes_are_rejected(void **state)
{
	enum { N = (1 << 19) + 1 };
	struct profile p, q;
	struct profile_block *b;
	char err[PROFILE_ERRLEN];

	(void)state;
	build(&p);
	p.snapshots[0].blocks[0].size = 1ull << 62;
	p.snapshots[0].blocks[1].size = 1ull << 62;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "section 9 (snapshot) is malformed"));

	b = calloc(N, sizeof(*b));
	for (size_t i = 0; i < N; i++)
		b[i] = (struct profile_block){ .addr = (i + 1) << 44, .size = PROFILE_MAX_BLOCK_SIZE, .stack = 1 };
	free(p.snapshots[0].blocks);
	p.snapshots[0].blocks = b;
	p.snapshots[0].nblocks = N;
	profile_scan_free(p.snapshots[0].scan);
	p.snapshots[0].scan = NULL;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "section 9 (snapshot) is malformed"));

	p.snapshots[0].nblocks = 2;	/* the sum is fine again */
	assert_int_equal(profile_write(&p, path, err), 0);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	profile_release(&q);
	p.sites[0].bytes_allocated = UINT64_MAX;
	assert_int_equal(profile_write(&p, path, err), 0);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "(sites) is malformed"));
	profile_release(&p);
}

/* Put the CRCs of section `at` and of the header (over the header and the
 * section table) right again. */
static void fix_checksums(unsigned char *data, size_t size, unsigned at)
{
	uint64_t offset, len;
	uint32_t crc, nsections;

	(void)size;
	memcpy(&offset, data + 32 + 32 * at + 8, 8);
	memcpy(&len, data + 32 + 32 * at + 16, 8);
	crc = (uint32_t)crc32(0L, data + offset, (uInt)len);
	memcpy(data + 32 + 32 * at + 24, &crc, 4);
	memcpy(&nsections, data + 12, 4);
	memset(data + 24, 0, 4);
	crc = (uint32_t)crc32(0L, data, 32 + 32 * nsections);
	memcpy(data + 24, &crc, 4);
}

/* The index of the last section of this type in the file's table; 0 if none. */
static unsigned section_of_type(const unsigned char *data, uint32_t type)
{
	uint32_t nsections, t;
	unsigned at = 0;

	memcpy(&nsections, data + 12, 4);
	for (unsigned i = 0; i < nsections; i++) {
		memcpy(&t, data + 32 + 32 * i, 4);
		if (t == type)
			at = i;
	}
	return at;
}

/*
 * Checksums right, packed blocks wrong. The snapshot holds 8 blocks that
 * pack to 5 bytes each (address step 1, the rest 0), 40 bytes in all. Each
 * case replaces those 40 bytes and the block count so that a decoder
 * missing that one check would parse them to the section's exact end and
 * accept the file; "6:" is a 6-byte block, its size 0 written as 80 00.
 */
#define ZERO5	0, 0, 0, 0, 0
#define LONG6	0, 0x80, 0, 0, 0, 0
/* A name with terminal escapes: interned, and in a file crafted past
 * the writer (checksums redone), it reads with '?' for each control
 * character (ESC, BEL, DEL, C1 CSI as UTF-8), the rest as it was. */
static void control_characters_are_not_kept(void **state)
{
	static const char evil[] = "pa\x1b[2Jrse\x07\x7f\xc2\x9b\xc3\xa9";
	static const char shown[] = "pa?[2Jrse????\xc3\xa9";
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data, *at;
	unsigned strings;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	assert_string_equal(profile_str(&p, profile_intern(&p, evil)), shown);
	profile_set_meta(&p, "command", "PARSEPARSEPARSEPARSE");
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	strings = section_of_type(data, 3);
	at = memmem(data, (size_t)size, "PARSEPARSEPARSEPARSE", 20);
	assert_non_null(at);
	memcpy(at, evil, strlen(evil));
	fix_checksums(data, (size_t)size, strings);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	assert_memory_equal(profile_get_meta(&q, "command"), shown, strlen(shown));
	profile_release(&q);
	free(data);
}

static void bad_packed_blocks_are_rejected(void **state)
{
	static const struct { const char *what; uint64_t count; unsigned char bytes[40]; } cases[] = {
		{ "as written, checksums redone: accepted", 8,
		  { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0,
		    1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0 } },
		{ "a varint longer than 64 bits", 6,	/* 14, 6:, 4 x 5 */
		  { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0, 0, 0, 0,
		    LONG6, ZERO5, ZERO5, ZERO5, ZERO5 } },
		{ "a varint cut by the section's end", 8,	/* 7 x 5, then 4 fields and a cut one */
		  { ZERO5, ZERO5, ZERO5, ZERO5, ZERO5, ZERO5, ZERO5, 0, 0, 0, 0, 0x80 } },
		{ "an address past 2^64", 4,	/* two steps of 2^63, then two 6: */
		  { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0,
		    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0,
		    LONG6, LONG6 } },
		{ "a stack id of 2^32", 7,	/* 9 (stack zigzag 2^33), 6:, 5 x 5 */
		  { 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x20, 0,
		    LONG6, ZERO5, ZERO5, ZERO5, ZERO5, ZERO5 } },
	};
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data;
	unsigned snapshot;
	uint64_t offset, len;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	profile_scan_free(p.snapshots[0].scan);
	p.snapshots[0].scan = NULL;
	free(p.snapshots[0].blocks);
	p.snapshots[0].blocks = calloc(8, sizeof(struct profile_block));
	for (unsigned i = 0; i < 8; i++)
		p.snapshots[0].blocks[i].addr = i + 1;
	p.snapshots[0].nblocks = 8;
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	snapshot = section_of_type(data, 9);
	assert_int_not_equal(snapshot, 0);
	memcpy(&offset, data + 32 + 32 * snapshot + 8, 8);
	memcpy(&len, data + 32 + 32 * snapshot + 16, 8);
	/* u32 name, u32 flags, u64 time, u64 stamp, u64 count, u64 bytes, then the blocks */
	assert_int_equal(len, 40 + 40);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(data + offset + 24, &cases[k].count, 8);
		memcpy(data + offset + 40, cases[k].bytes, 40);
		fix_checksums(data, (size_t)size, snapshot);
		f = fopen(path, "wb");
		fwrite(data, 1, (size_t)size, f);
		fclose(f);
		if (k == 0) {
			if (profile_read(&q, path, err) < 0)
				fail_msg("%s: %s", cases[k].what, err);
			assert_int_equal(q.snapshots[0].blocks[7].addr, 8);
			profile_release(&q);
			continue;
		}
		if (profile_read(&q, path, err) == 0) {
			profile_release(&q);
			fail_msg("%s: accepted", cases[k].what);
		}
		assert_non_null(strstr(err, "(snapshot) is malformed"));
	}
	free(data);
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The section entry (type, flags, offset, size) at index i of the file's table. */
static void section_at(const unsigned char *data, unsigned i, uint32_t *type, uint32_t *flags,
		       uint64_t *offset, uint64_t *len)
{
	memcpy(type, data + 32 + 32 * i, 4);
	memcpy(flags, data + 32 + 32 * i + 4, 4);
	memcpy(offset, data + 32 + 32 * i + 8, 8);
	memcpy(len, data + 32 + 32 * i + 16, 8);
}

/*
 * Twelve snapshots of a heap of 30,000 blocks where each step frees and
 * allocates a few, changes some blocks in place (same address, new size,
 * stamp or stack), ages the rest a generation, or not (a peak), or replaces
 * them all, or empties the heap: every one reads back exactly, most are
 * written as deltas, the big sections packed with zstd, and the whole is a
 * small part of what twelve full snapshots took in version 2.
 */
static void snapshot_deltas_round_trip(void **state)
{
	enum { N = 30000, SNAPS = 12 };
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	uint64_t x = 0x9e3779b97f4a7c15ull, full_bytes = 0, file_size = 0;
	unsigned char *data;
	unsigned deltas = 0, packed = 0;
	uint32_t nsections;
	long size;

	(void)state;
	build(&p);
	profile_scan_free(p.snapshots[0].scan);
	p.snapshots[0].scan = NULL;
	free(p.snapshots[0].blocks);
	free(p.snapshots);
	p.snapshots = calloc(SNAPS, sizeof(*p.snapshots));
	p.nsnapshots = SNAPS;
	for (unsigned k = 0; k < SNAPS; k++) {
		struct profile_snapshot *s = &p.snapshots[k], *was = k ? &p.snapshots[k - 1] : NULL;
		struct profile_block *b = calloc(N + 4000, sizeof(*b));
		uint64_t n = 0, addr = 0x10000;
		int peak = k == 4, replaced = k == 7, empty = k == 10;

		for (uint64_t i = 0; !empty && was && !replaced && i < was->nblocks; i++) {
			uint64_t r = next_random(&x) % 1000;

			if (r < 20)
				continue;	/* freed */
			b[n] = was->blocks[i];
			b[n].generation += !peak;
			if (r < 25)
				b[n].size += 1 + r;	/* reallocated in place */
			else if (r < 28)
				b[n].stamp += 1000;
			else if (r < 30)
				b[n].stack ^= 1;
			n++;
		}
		if (!empty && (!was || replaced || !was->nblocks)) {
			for (; n < N; n++) {
				addr += 16 + next_random(&x) % 512;
				b[n] = (struct profile_block){ addr, 8 + x % 300, x >> 20, (uint32_t)(x % 2),
							       (uint32_t)(x % 3) };
			}
		} else if (!empty) {
			/* new blocks between the old ones, at addresses no old one has */
			for (unsigned m = 0; m < 700; m++) {
				b[n] = (struct profile_block){ 0x10000 + 16 * next_random(&x) % 0x8000000 + 8,
							       8 + x % 300, x >> 24, (uint32_t)(x % 2), 0 };
				n++;
			}
		}
		/* sorted and one block an address, as a snapshot is */
		for (uint64_t i = 1; i < n; i++)
			for (uint64_t j = i; j > 0 && b[j].addr < b[j - 1].addr; j--) {
				struct profile_block t = b[j];

				b[j] = b[j - 1];
				b[j - 1] = t;
			}
		{
			uint64_t kept = 0;

			for (uint64_t i = 0; i < n; i++)
				if (!kept || b[i].addr != b[kept - 1].addr)
					b[kept++] = b[i];
			n = kept;
		}
		*s = (struct profile_snapshot){ .name = profile_intern(&p, peak ? "peak" : "auto"),
						.t_ns = k * 1000, .stamp = k * 50000, .nblocks = n, .blocks = b };
		full_bytes += 32 + 32 * n;	/* version 1; version 2 about 8 a block */
	}
	assert_int_equal(profile_write(&p, path, err), 0);
	if (profile_read(&q, path, err) < 0)
		fail_msg("%s", err);
	assert_int_equal(q.nsnapshots, SNAPS);
	for (unsigned k = 0; k < SNAPS; k++) {
		assert_int_equal(q.snapshots[k].nblocks, p.snapshots[k].nblocks);
		assert_memory_equal(q.snapshots[k].blocks, p.snapshots[k].blocks,
				    p.snapshots[k].nblocks * sizeof(struct profile_block));
		assert_int_equal(q.snapshots[k].stamp, p.snapshots[k].stamp);
	}
	assert_int_equal(p.snapshots[10].nblocks, 0);
	profile_release(&q);

	/* lazily: every snapshot's counts at once, its blocks when asked for,
	 * in any order; a delta's chain read for it and let go after */
	if (profile_read_lazy(&q, path, err) < 0)
		fail_msg("%s", err);
	for (unsigned k = 0; k < SNAPS; k++) {
		uint64_t bytes = 0;

		for (uint64_t i = 0; i < p.snapshots[k].nblocks; i++)
			bytes += p.snapshots[k].blocks[i].size;
		assert_int_equal(q.snapshots[k].unread, 1);
		assert_null(q.snapshots[k].blocks);
		assert_int_equal(q.snapshots[k].nblocks, p.snapshots[k].nblocks);
		assert_int_equal(q.snapshots[k].bytes, bytes);
	}
	for (unsigned n = 0; n < SNAPS; n++) {
		unsigned k = (SNAPS - 1 + 5 * n) % SNAPS;	/* 11, 4, 9, 2, ... */

		if (profile_load_snapshot(&q, &q.snapshots[k], err) < 0)
			fail_msg("snapshot %u: %s", k, err);
		assert_int_equal(q.snapshots[k].unread, 0);
		assert_memory_equal(q.snapshots[k].blocks, p.snapshots[k].blocks,
				    p.snapshots[k].nblocks * sizeof(struct profile_block));
		if (k == 9)	/* a delta from 8, a delta from 7: read for it, and let go */
			assert_true(q.snapshots[7].unread && q.snapshots[8].unread && !q.snapshots[9].unread);
		profile_unload_snapshot(&q, &q.snapshots[k]);
		assert_int_equal(q.snapshots[k].unread, 1);
	}
	profile_release(&q);

	data = read_whole(path, &size);
	memcpy(&nsections, data + 12, 4);
	for (unsigned i = 0; i < nsections; i++) {
		uint32_t type, flags;
		uint64_t offset, len;

		section_at(data, i, &type, &flags, &offset, &len);
		deltas += type == 13;
		packed += flags == 1;
	}
	file_size = (uint64_t)size;
	/* all but the first, the one replacing every block, the empty one and
	 * the one after it; the snapshots and the frames packed */
	assert_int_equal(deltas, SNAPS - 4);
	assert_true(packed >= 4);
	if (file_size * 10 > full_bytes)
		fail_msg("%llu bytes for what took %llu", (unsigned long long)file_size,
			 (unsigned long long)full_bytes);
	free(data);
	profile_release(&p);
}

/*
 * Checksums right, a delta wrong. Two snapshots of 8 blocks, the second the
 * first less block 3 and with one new: a delta small enough to be stored as
 * it is (u32 name, u32 flags, u64 time, u64 stamp, u64 count, u64 bytes, then u64 base,
 * u32 generation step, u32 0, u64 gone, u64 born, the gone indices, the
 * born). Each case changes one field as a crafted file would.
 */
static void bad_deltas_are_rejected(void **state)
{
	static const struct { const char *what; unsigned at, len; uint64_t value; const char *why; } cases[] = {
		{ "the unchanged delta", 0, 0, 0, NULL },
		{ "a base that is the snapshot itself", 40, 8, 1, "(snapshot delta) is malformed" },
		{ "a generation step of 2", 48, 4, 2, "(snapshot delta) is malformed" },
		{ "padding that is not 0", 52, 4, 1, "(snapshot delta) is malformed" },
		{ "more gone than the base has", 56, 8, 9, "(snapshot delta) is malformed" },
		{ "a count that does not add up", 24, 8, 9, "(snapshot delta) is malformed" },
		{ "bytes that are not the blocks' sum", 32, 8, 7,
		  "a snapshot's blocks do not add up to the bytes it says" },
		{ "a gone index past the base's blocks", 72, 1, 8, "(snapshot delta) is malformed" },
	};
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data, *copy;
	uint64_t offset, len;
	uint32_t type, flags;
	unsigned at;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	profile_scan_free(p.snapshots[0].scan);
	p.snapshots[0].scan = NULL;
	free(p.snapshots[0].blocks);
	free(p.snapshots);
	p.snapshots = calloc(2, sizeof(*p.snapshots));
	p.nsnapshots = 2;
	for (unsigned k = 0; k < 2; k++) {
		struct profile_block *b = calloc(8, sizeof(*b));

		for (unsigned i = 0, n = 0; i < 9; i++)
			if (k == 0 ? i < 8 : i != 3)
				b[n++] = (struct profile_block){ 0x1000 + 64 * i, 24, i, 1, k };
		p.snapshots[k] = (struct profile_snapshot){ .name = profile_intern(&p, "auto"), .nblocks = 8,
							    .blocks = b };
	}
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	copy = malloc((size_t)size);
	at = section_of_type(data, 13);
	assert_int_not_equal(at, 0);
	section_at(data, at, &type, &flags, &offset, &len);
	assert_int_equal(flags, 0);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(copy, data, (size_t)size);
		memcpy(copy + offset + cases[k].at, &cases[k].value, cases[k].len);
		fix_checksums(copy, (size_t)size, at);
		f = fopen(path, "wb");
		fwrite(copy, 1, (size_t)size, f);
		fclose(f);
		if (k == 0) {
			if (profile_read(&q, path, err) < 0)
				fail_msg("%s: %s", cases[k].what, err);
			assert_int_equal(q.snapshots[1].blocks[3].addr, 0x1000 + 64 * 4);
			assert_int_equal(q.snapshots[1].blocks[7].addr, 0x1000 + 64 * 8);
			assert_int_equal(q.snapshots[1].blocks[0].generation, 1);
			profile_release(&q);
			continue;
		}
		if (profile_read(&q, path, err) == 0) {
			profile_release(&q);
			fail_msg("%s: accepted", cases[k].what);
		}
		if (!strstr(err, cases[k].why))
			fail_msg("%s: %s", cases[k].what, err);
	}
	free(copy);
	free(data);
}

/* Checksums right, a sources section whose count is not the frames' is
 * refused. */
static void sources_count_must_match(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data;
	uint64_t offset, len, one = 1;
	uint32_t type, flags;
	unsigned at;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	p.frame_sources = calloc(2, sizeof(*p.frame_sources));
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	at = section_of_type(data, 14);
	assert_int_not_equal(at, 0);
	section_at(data, at, &type, &flags, &offset, &len);
	assert_int_equal(flags, 0);
	memcpy(data + offset, &one, 8);	/* one source, and a record too many */
	fix_checksums(data, (size_t)size, at);
	f = fopen(path, "wb");
	fwrite(data, 1, (size_t)size, f);
	fclose(f);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "(frame sources) is malformed"));
	free(data);
}

/* A zstd section whose frame is damaged, or that claims to unpack to far
 * more than its frame could hold, is refused, checksums right. */
static void bad_packed_sections_are_rejected(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN];
	unsigned char *data;
	uint64_t offset, len, claim = 1ull << 40;
	uint32_t type, flags;
	unsigned at;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	for (int i = 0; i < 4000; i++) {	/* a string table of 56 KiB: packed */
		char name[32];

		snprintf(name, sizeof(name), "function_%d", i);
		profile_intern(&p, name);
	}
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	data = read_whole(path, &size);
	at = section_of_type(data, 3);
	section_at(data, at, &type, &flags, &offset, &len);
	assert_int_equal(flags, 1);

	memcpy(data + offset + len - 8, &claim, 8);
	fix_checksums(data, (size_t)size, at);
	f = fopen(path, "wb");
	fwrite(data, 1, (size_t)size, f);
	fclose(f);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "section 2 (strings): it claims to unpack to more than any profile holds"));

	free(data);
	data = read_whole(path, &size);
	claim = 4;
	memcpy(data + offset + len - 8, &claim, 8);
	fix_checksums(data, (size_t)size, at);
	f = fopen(path, "wb");
	fwrite(data, 1, (size_t)size, f);
	fclose(f);
	assert_int_not_equal(profile_read(&q, path, err), 0);
	assert_non_null(strstr(err, "(strings): its zstd frame is damaged"));
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(types_round_trip),
		cmocka_unit_test(frame_sources_round_trip),
		cmocka_unit_test(sources_count_must_match),
		cmocka_unit_test(allocated_round_trip),
		cmocka_unit_test(huge_estimates_are_rejected),
		cmocka_unit_test(rss_parts_round_trip),
		cmocka_unit_test(python_names_round_trip),
		cmocka_unit_test(damage_is_rejected),
		cmocka_unit_test(huge_sizes_are_rejected),
		cmocka_unit_test(control_characters_are_not_kept),
		cmocka_unit_test(bad_scan_is_rejected),
		cmocka_unit_test(packed_blocks_round_trip),
		cmocka_unit_test(bad_packed_blocks_are_rejected),
		cmocka_unit_test(snapshot_deltas_round_trip),
		cmocka_unit_test(bad_deltas_are_rejected),
		cmocka_unit_test(bad_packed_sections_are_rejected),
	};
	int ret;

	snprintf(path, sizeof(path), "/tmp/heapwise-unit-%d.hws", (int)getpid());
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
