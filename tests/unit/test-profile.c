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

/* Put the CRCs of section `at` and of the whole file right again. */
static void fix_checksums(unsigned char *data, size_t size, unsigned at)
{
	uint64_t offset, len;
	uint32_t crc;
	uLong file;

	memcpy(&offset, data + 32 + 32 * at + 8, 8);
	memcpy(&len, data + 32 + 32 * at + 16, 8);
	crc = (uint32_t)crc32(0L, data + offset, (uInt)len);
	memcpy(data + 32 + 32 * at + 24, &crc, 4);
	memset(data + 24, 0, 4);
	file = crc32(0L, data, (uInt)size);
	crc = (uint32_t)file;
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
	/* u32 name, u32 flags, u64 time, u64 stamp, u64 count, then the blocks */
	assert_int_equal(len, 32 + 40);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(data + offset + 24, &cases[k].count, 8);
		memcpy(data + offset + 32, cases[k].bytes, 40);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(types_round_trip),
		cmocka_unit_test(damage_is_rejected),
		cmocka_unit_test(huge_sizes_are_rejected),
		cmocka_unit_test(control_characters_are_not_kept),
		cmocka_unit_test(bad_scan_is_rejected),
		cmocka_unit_test(packed_blocks_round_trip),
		cmocka_unit_test(bad_packed_blocks_are_rejected),
	};
	int ret;

	snprintf(path, sizeof(path), "/tmp/heapwise-unit-%d.hws", (int)getpid());
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
