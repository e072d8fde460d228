/*
 * export-massif.c - massif's output format, for ms_print and
 * massif-visualizer: the timeline as normal snapshots, and each heapwise
 * snapshot (run snapshots, the peak, the exit) as a detailed one whose
 * tree goes from the allocation functions out to the callers, as massif's
 * does, with the places under 1% of the heap folded into one line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "usage.h"

#define MAX_SNAPSHOTS	100	/* massif's --max-snapshots */
#define MAX_TREE_DEPTH	30	/* massif's --depth */
#define THRESHOLD	1.0	/* percent, massif's --threshold */

struct item {
	uint32_t stack;
	uint64_t bytes;
	uint32_t key;		/* the frame at the current depth, sorting key */
};

struct massif {
	const struct profile *p;
	FILE *out;
	uint64_t total;
	unsigned snapshot;
};

/* A frame of the tree: "0xIP: function (file:line)", no '#' (ms_print drops it as a comment). */
static void frame_details(const struct profile *p, uint32_t frame, char *buf, size_t len)
{
	const struct profile_frame *f = &p->frames[frame];
	const char *fn = profile_str(p, f->function), *file = profile_str(p, f->file);
	const char *base = strrchr(file, '/');

	if (*file)
		snprintf(buf, len, "0x%llX: %s (%s:%u)", (unsigned long long)f->ip, *fn ? fn : "???",
			 base ? base + 1 : file, f->line);
	else
		snprintf(buf, len, "0x%llX: %s (in %s)", (unsigned long long)f->ip, *fn ? fn : "???",
			 f->module != PROFILE_NONE ? profile_str(p, p->modules[f->module].path) : "???");
	for (char *c = buf; *c; c++)
		if (*c == '#' || *c == '\n')
			*c = '?';
}

static uint32_t frame_at(const struct profile *p, uint32_t stack, unsigned depth)
{
	const struct profile_stack *st = &p->stacks[stack];

	return depth < st->depth ? p->stack_frames[st->first + depth] : PROFILE_NONE;
}

static int by_key(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

struct group {
	size_t first, n;
	uint64_t bytes;
	uint32_t frame;
};

static int by_bytes(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->frame < y->frame ? -1 : 1;
}

/*
 * A node and its subtree: its line ("n<children>: <bytes> <details>",
 * indented by depth), then its children, the stacks under it grouped by
 * their frame one level further out, largest first; the groups under the
 * threshold (or past the depth limit) as one line.
 */
static int emit_node(struct massif *m, unsigned indent, uint64_t bytes, const char *details,
		     struct item *items, size_t n, unsigned depth)
{
	struct group *groups = NULL;
	size_t ngroups = 0, significant = 0, nplaces = 0, start = 0;
	uint64_t insignificant = 0;
	char child[1024];

	if (depth < MAX_TREE_DEPTH) {
		for (size_t i = 0; i < n; i++)
			items[i].key = frame_at(m->p, items[i].stack, depth);
		qsort(items, n, sizeof(*items), by_key);
		while (start < n && items[start].key == PROFILE_NONE)
			start++;
		while (n > start && items[n - 1].key == PROFILE_NONE)
			n--;	/* stacks that end here */
		groups = calloc(n - start + 1, sizeof(*groups));
		if (!groups)
			return -ENOMEM;
		for (size_t i = start; i < n; i++) {
			if (i == start || items[i].key != items[i - 1].key)
				groups[ngroups++] = (struct group){ i, 0, 0, items[i].key };
			groups[ngroups - 1].n++;
			groups[ngroups - 1].bytes += items[i].bytes;
		}
		qsort(groups, ngroups, sizeof(*groups), by_bytes);
		for (size_t g = 0; g < ngroups; g++) {
			if (100.0 * (double)groups[g].bytes >= THRESHOLD * (double)m->total) {
				significant++;
			} else {
				insignificant += groups[g].bytes;
				nplaces++;
			}
		}
	}
	fprintf(m->out, "%*sn%zu: %llu %s\n", (int)indent, "", significant + (nplaces > 0),
		(unsigned long long)bytes, details);
	for (size_t g = 0; g < significant; g++) {
		frame_details(m->p, groups[g].frame, child, sizeof(child));
		if (emit_node(m, indent + 1, groups[g].bytes, child, items + groups[g].first, groups[g].n,
			      depth + 1) < 0) {
			free(groups);
			return -ENOMEM;
		}
	}
	if (nplaces)
		fprintf(m->out, "%*sn0: %llu in %zu place%s, all below massif's threshold (%.2f%%)\n",
			(int)indent + 1, "", (unsigned long long)insignificant, nplaces, nplaces == 1 ? "" : "s",
			THRESHOLD);
	free(groups);
	return 0;
}

static void snapshot_head(struct massif *m, uint64_t t_ns, uint64_t heap, const char *tree)
{
	fprintf(m->out, "#-----------\nsnapshot=%u\n#-----------\ntime=%llu\nmem_heap_B=%llu\n"
		"mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n", m->snapshot++,
		(unsigned long long)(t_ns / 1000000), (unsigned long long)heap, tree);
}

static int detailed(struct massif *m, const struct profile_snapshot *s, int is_peak)
{
	const struct profile *p = m->p;
	uint64_t *bytes = calloc(p->nstacks + 1, sizeof(*bytes));
	struct item *items = calloc(p->nstacks + 1, sizeof(*items));
	uint64_t rate = profile_sample_rate(p);	/* sampled: what the blocks stand for */
	size_t n = 0;
	int ret = -ENOMEM;

	if (!bytes || !items)
		goto out;
	for (uint64_t i = 0; i < s->nblocks; i++)
		bytes[s->blocks[i].stack] += profile_block_weight(rate, &s->blocks[i]).bytes;
	for (size_t i = 0; i < p->nstacks; i++)
		if (bytes[i])
			items[n++] = (struct item){ (uint32_t)i, bytes[i], 0 };
	m->total = s->bytes;
	snapshot_head(m, s->t_ns, s->bytes, is_peak ? "peak" : "detailed");
	ret = emit_node(m, 0, s->bytes, "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.",
			items, n, 0);
out:
	free(bytes);
	free(items);
	return ret;
}

int export_massif(const struct export_ctx *x)
{
	const struct profile *p = x->p;
	const char *cmd = profile_get_meta(p, "command");
	struct massif m = { p, x->out, 0, 0 };
	size_t step = p->nsamples / MAX_SNAPSHOTS + 1, si = 0;
	int peak_done = 0, before_unread = 0;

	fprintf(x->out, "desc: heapwise\ncmd: %s\ntime_unit: ms\n", cmd ? cmd : "?");
	/* samples and snapshots merged by time; detailed ones in full */
	for (size_t i = 0; i <= p->nsamples; i++) {
		uint64_t t = i < p->nsamples ? p->samples[i].t_ns : UINT64_MAX;

		while (si < p->nsnapshots && p->snapshots[si].t_ns <= t) {
			struct profile_snapshot *s = (struct profile_snapshot *)&p->snapshots[si++];
			int is_peak = !peak_done && strcmp(profile_str(p, s->name), "peak") == 0;
			int unread = s->unread;
			char err[PROFILE_ERRLEN];

			peak_done |= is_peak;
			/* read lazily: a snapshot's blocks at a time, the one before
			 * let go once this one is read (it may be this one's base) */
			if (profile_load_snapshot((struct profile *)p, s, err) < 0) {
				error("%s", err);
				return -EIO;
			}
			if (si >= 2 && before_unread)
				profile_unload_snapshot((struct profile *)p, (struct profile_snapshot *)&p->snapshots[si - 2]);
			before_unread = unread;
			if (detailed(&m, s, is_peak) < 0)
				return -ENOMEM;
		}
		if (i < p->nsamples && i % step == 0)
			snapshot_head(&m, t, p->samples[i].heap_bytes, "empty");
	}
	return 0;
}
