/*
 * test-profile.c - a profile survives a write/read round trip, and every
 * truncation and every changed byte of a small file is rejected cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../report/profile.h"

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

static void damage_is_rejected(void **state)
{
	struct profile p, q;
	char err[PROFILE_ERRLEN], bad[80];
	unsigned char *data;
	long size;
	FILE *f;

	(void)state;
	build(&p);
	assert_int_equal(profile_write(&p, path, err), 0);
	profile_release(&p);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = malloc((size_t)size);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s.bad", path);

	for (long len = 0; len < size; len++) {
		f = fopen(bad, "wb");
		fwrite(data, 1, (size_t)len, f);
		fclose(f);
		assert_int_not_equal(profile_read(&q, bad, err), 0);
		assert_non_null(strstr(err, bad));
	}
	for (long at = 0; at < size; at++) {
		for (int bit = 0; bit < 8; bit += 3) {
			data[at] ^= (unsigned char)(1u << bit);
			f = fopen(bad, "wb");
			fwrite(data, 1, (size_t)size, f);
			fclose(f);
			data[at] ^= (unsigned char)(1u << bit);
			if (profile_read(&q, bad, err) == 0) {
				profile_release(&q);
				fail_msg("byte %ld bit %d changed and the file was accepted", at, bit);
			}
		}
	}
	unlink(bad);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(damage_is_rejected),
		cmocka_unit_test(bad_scan_is_rejected),
	};
	int ret;

	snprintf(path, sizeof(path), "/tmp/heapwise-unit-%d.hws", (int)getpid());
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
