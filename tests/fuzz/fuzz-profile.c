/*
 * fuzz-profile.c - libFuzzer harness for the profile reader and the
 * analyses every report runs on what it read (top's grouping and sorts,
 * leaks and their loss records, refs' chains, diff with a gate, exports'
 * stack values, stats' timeline and site names).
 *
 * The input is a profile file. Before reading, its size and CRCs are set
 * right (the header's file size, every section's CRC, the header's), so the
 * mutations reach the parsers instead of stopping at the checksums.
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <zlib.h>

#include "../../report/analysis/diff.h"
#include "../../report/analysis/gate.h"
#include "../../report/analysis/group.h"
#include "../../report/analysis/leaks.h"
#include "../../report/analysis/loss-records.h"
#include "../../report/analysis/referrers.h"
#include "../../report/analysis/site-names.h"
#include "../../report/analysis/stack-values.h"
#include "../../report/analysis/timeline.h"
#include "../../report/profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER		32	/* magic, version, nsections, file size, crc, reserved */
#define ENTRY		32	/* type, flags, offset, size, crc, pad */

static void put32(uint8_t *at, uint32_t v) { memcpy(at, &v, 4); }
static void put64(uint8_t *at, uint64_t v) { memcpy(at, &v, 8); }

/* The checksums and the size as the writer would have made them. */
static void fix_up(uint8_t *d, size_t size)
{
	uint32_t n, version;
	uint64_t covered;
	uLong crc;

	if (size < HEADER)
		return;
	put64(d + 16, size);
	memcpy(&n, d + 12, 4);
	for (uint64_t i = 0; i < n && HEADER + (i + 1) * ENTRY <= size; i++) {
		uint8_t *e = d + HEADER + i * ENTRY;
		uint64_t off, len;

		memcpy(&off, e + 8, 8);
		memcpy(&len, e + 16, 8);
		if (off <= size && len <= size - off)
			put32(e + 24, (uint32_t)crc32(0L, d + off, (uInt)len));
	}
	put32(d + 24, 0);
	put32(d + 28, 0);
	memcpy(&version, d + 8, 4);
	/* version 3: the header's CRC covers the header and the table */
	covered = version >= 3 ? HEADER + (uint64_t)n * ENTRY : size;
	crc = crc32(0L, d, (uInt)(covered < size ? covered : size));
	put32(d + 24, (uint32_t)crc);
}

/* Everything a report does with one snapshot. */
static void analyse(const struct profile *p, const struct profile_snapshot *s)
{
	struct group_options go = GROUP_OPTIONS_INIT;
	struct leak_analysis a;
	uint64_t *values;
	char name[512];

	for (int by = GROUP_LINENO; by <= GROUP_TRACEBACK; by++) {
		struct group_table t;

		go.by = (enum group_by)by;
		go.cumulative = by == GROUP_FUNCTION;
		if (group_snapshot(p, s, &go, &t) == 0) {
			for (int k = SORT_SIZE; k <= SORT_PEAK; k++)
				group_sort(&t, (enum group_sort)k);
			for (size_t i = 0; i < t.n && i < 64; i++) {
				uint32_t stacks[8];

				group_describe(&t, &t.rows[i], go.by, name, sizeof(name));
				group_row_stacks(&t, &t.rows[i], stacks, 8);
			}
		}
		group_release(&t);
	}
	for (int v = VALUE_LIVE_BYTES; v <= VALUE_LEAKED; v++)
		if (stack_values(p, s, (enum stack_value)v, &values) == 0)
			free(values);
	if (!s->scan || leaks_analyze(s, &a) < 0)
		return;
	{
		struct loss_records rs;

		if (loss_records_make(p, &a, 0xf, 0, &rs) == 0)
			loss_records_release(&rs);
	}
	for (size_t i = 0; i < s->nblocks && i < 16; i++) {
		uint32_t target = (uint32_t)i, *chain = NULL;
		struct refs_graph g;

		if (referrers_graph(s, &a, &target, 1, 8, 4, &g) == 0)
			refs_graph_release(&g);
		if (referrers_chain(s, &a, target, &chain) >= 0)
			free(chain);
	}
	{
		uint32_t *at = malloc((s->nblocks + 1) * sizeof(*at));

		if (at && p->nframes)
			referrers_blocks_at(p, s, "main", at);
		free(at);
	}
	leaks_release(&a);
}

/* diff of the first and last snapshot, with a gate, as `heapwise diff --fail-if` does */
static void compare(const struct profile *p)
{
	struct group_options go = GROUP_OPTIONS_INIT;
	struct diff d;
	struct gate gate;
	int tripped = 0;
	char why[256];

	if (p->nsnapshots < 1 || gate_parse("size > 1MiB", &gate, why, sizeof(why)) < 0)
		return;
	memset(&d, 0, sizeof(d));
	d.gates = &gate;
	d.ngates = 1;
	d.tripped = &tripped;
	if (group_snapshot(p, &p->snapshots[0], &go, &d.old) == 0 &&
	    group_snapshot(p, &p->snapshots[p->nsnapshots - 1], &go, &d.new) == 0 && diff_compare(&d) == 0)
		diff_check_gates(&d);
	diff_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char err[PROFILE_ERRLEN], name[512];
	struct profile p;
	struct rss_gap gap;
	uint8_t *copy;

	if (fd < 0)
		fd = memfd_create("fuzz-profile", MFD_CLOEXEC);
	copy = malloc(size ? size : 1);
	if (!copy || fd < 0)
		abort();
	memcpy(copy, data, size);
	fix_up(copy, size);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, copy, size, 0) != (ssize_t)size)
		abort();
	free(copy);
	/* lazily too: the snapshots' blocks read last one first, each let go */
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	if (profile_read_lazy(&p, name, err) == 0) {
		for (size_t i = p.nsnapshots; i-- > 0;)
			if (profile_load_snapshot(&p, &p.snapshots[i], err) == 0) {
				analyse(&p, &p.snapshots[i]);
				profile_unload_snapshot(&p, &p.snapshots[i]);
			}
		profile_release(&p);
	}
	if (profile_read_fd(&p, fd, "fuzzed", err) < 0)
		return 0;
	for (size_t i = 0; i < p.nsnapshots; i++)
		analyse(&p, &p.snapshots[i]);
	compare(&p);
	timeline_rss_gap(&p, &gap);
	for (uint32_t f = 0; f < p.nframes && f < 64; f++)
		site_name(&p, f, name, sizeof(name));
	profile_release(&p);
	return 0;
}
