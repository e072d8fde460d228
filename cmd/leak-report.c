/*
 * leak-report.c - loss records, cycles and the LEAK SUMMARY.
 *
 * A loss record is the blocks of one kind allocated at one stack, as in
 * memcheck; records are listed largest first (direct and owned bytes). A
 * definitely lost record lists what its blocks own, grouped by where it
 * was allocated, instead of a separate record for every indirect leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/loss-records.h"
#include "../report/analysis/site-names.h"
#include "../report/util/format.h"
#include "../report/util/json.h"
#include "../report/util/table.h"
#include "leak-report.h"
#include "pyleak-report.h"
#include "report-args.h"
#include "usage.h"

int leak_report_need_scan(const struct profile *p, const struct profile_snapshot *s, const char *file)
{
	const char *why = profile_get_meta(p, "scan-error");

	if (s->scan)
		return 0;
	if (strcmp(profile_str(p, s->name), "py-exit") == 0)
		why = "a Python program's py-exit snapshot is scanned up to 1,500,000 live blocks (this one held "
		      "more: it would stop the program a second or more); `heapwise snapshot --scan` takes one";
	return error("snapshot '%s' of '%s' has no reachability scan: %s", profile_str(p, s->name), file,
		     why ? why : "scans are taken at exit (unless --no-scan) and by `heapwise snapshot --scan`");
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

static void site_of(const struct profile *p, uint32_t stack, char *buf, size_t len)
{
	uint32_t frame = site_frame(p, stack);

	if (frame == PROFILE_NONE)
		snprintf(buf, len, "<unknown stack>");
	else
		site_name(p, frame, buf, len);
}

static void print_frames(const struct leak_report *r, uint32_t stack, FILE *out)
{
	const struct profile *p = r->p;
	const struct profile_stack *st = &p->stacks[stack];
	char where[1024];

	if (!st->depth)
		fprintf(out, "   at <unknown stack>\n");
	for (uint32_t i = 0; i < st->depth && (!r->depth || i < r->depth); i++) {
		site_name(p, p->stack_frames[st->first + i], where, sizeof(where));
		fprintf(out, "   %s %s\n", i ? "by" : "at", where);
	}
}

/* "~" before a number that is an estimate (run --sample-rate), else "". */
static const char *estimated(const struct leak_analysis *a)
{
	return a->snapshot->sample_rate ? "~" : "";
}

static void print_record(const struct leak_report *r, const struct loss_record *rec, size_t num, size_t total,
			 FILE *out)
{
	char bytes[32], direct[32], owned[32], where[1024];
	const char *est = estimated(r->a);

	format_commas(rec->bytes + rec->owned_bytes, bytes, sizeof(bytes));
	if (rec->kind == LEAK_DEFINITE && rec->owned_bytes) {
		format_commas(rec->bytes, direct, sizeof(direct));
		format_commas(rec->owned_bytes, owned, sizeof(owned));
		fprintf(out, "%s%s (%s%s direct, %s%s indirect) bytes", est, bytes, est, direct, est, owned);
	} else {
		fprintf(out, "%s%s bytes", est, bytes);
	}
	format_commas(rec->blocks, direct, sizeof(direct));
	fprintf(out, " in %s%s blocks are %s in loss record %zu of %zu\n", est, direct, leak_kind_name(rec->kind),
		num, total);
	print_frames(r, rec->stack, out);
	if (rec->first_cycle != SIZE_MAX)
		fprintf(out, "   in leaked cycle %zu (see LEAKED CYCLES)\n", rec->first_cycle + 1);
	if (rec->nowned) {
		format_commas(rec->owned_bytes, owned, sizeof(owned));
		fprintf(out, "   owns %s%llu indirectly lost blocks, %s%s bytes:\n",
			est, (unsigned long long)rec->owned_blocks, est, owned);
		for (size_t i = 0; i < rec->nowned; i++) {
			format_commas(rec->owned[i].bytes, owned, sizeof(owned));
			site_of(r->p, rec->owned[i].stack, where, sizeof(where));
			fprintf(out, "      %s%s bytes in %s%llu blocks from %s\n", est, owned,
				est, (unsigned long long)rec->owned[i].blocks, where);
		}
	}
	fputc('\n', out);
}

struct link_printer {
	const struct profile_snapshot *s;
	FILE *out;
};

static void print_link(const struct profile_edge *e, void *arg)
{
	struct link_printer *lp = arg;

	fprintf(lp->out, "         +%u -> 0x%llx", e->offset, (unsigned long long)lp->s->blocks[e->to].addr);
	if (e->target)
		fprintf(lp->out, " (+%u)", e->target);
	fputc('\n', lp->out);
}

static int cycle_shown(const struct leak_analysis *a, const struct leak_cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (a->suppressed[c->members[i]])
			return 0;
	return 1;
}

static void print_cycles(const struct leak_report *r, FILE *out)
{
	const struct leak_analysis *a = r->a;
	const struct profile_snapshot *s = a->snapshot;
	struct link_printer lp = { s, out };
	size_t shown = 0;
	char where[1024], bytes[32];

	for (size_t c = 0; c < a->ncycles; c++)
		shown += cycle_shown(a, &a->cycles[c]);
	if (!shown)
		return;
	fprintf(out, "LEAKED CYCLES: %zu\n", shown);
	for (size_t c = 0; c < a->ncycles; c++) {
		const struct leak_cycle *cy = &a->cycles[c];

		if (!cycle_shown(a, cy))
			continue;
		format_commas(cy->bytes, bytes, sizeof(bytes));
		fprintf(out, "cycle %zu: %zu blocks, %s bytes\n", c + 1, cy->n, bytes);
		for (size_t i = 0; i < cy->n; i++) {
			const struct profile_block *b = &s->blocks[cy->members[i]];

			site_of(r->p, b->stack, where, sizeof(where));
			fprintf(out, "   0x%llx, %llu bytes, %s, from %s\n", (unsigned long long)b->addr,
				(unsigned long long)b->size, leak_kind_name(a->kind[cy->members[i]]), where);
			leaks_cycle_links(a, cy->members[i], (uint32_t)c, print_link, &lp);
		}
	}
	fputc('\n', out);
}

void leak_report_summary(const struct leak_analysis *a, const char *prefix, FILE *out)
{
	static const char *const labels[] = {
		"definitely lost", "indirectly lost", "  possibly lost", "still reachable",
	};
	char bytes[32], blocks[32];
	const char *est = estimated(a);

	fprintf(out, "%sLEAK SUMMARY:\n", prefix);
	for (int k = 0; k <= LEAK_REACHABLE; k++) {
		format_commas(a->totals[k].bytes, bytes, sizeof(bytes));
		format_commas(a->totals[k].blocks, blocks, sizeof(blocks));
		fprintf(out, "%s   %s: %s%s bytes in %s%s blocks\n", prefix, labels[k], est, bytes, est, blocks);
	}
	format_commas(a->suppressed_total.bytes, bytes, sizeof(bytes));
	format_commas(a->suppressed_total.blocks, blocks, sizeof(blocks));
	fprintf(out, "%s        suppressed: %s%s bytes in %s%s blocks\n", prefix, est, bytes, est, blocks);
	if (a->totals[LEAK_UNSCANNED].blocks) {
		format_commas(a->totals[LEAK_UNSCANNED].bytes, bytes, sizeof(bytes));
		format_commas(a->totals[LEAK_UNSCANNED].blocks, blocks, sizeof(blocks));
		fprintf(out, "%s       not scanned: %s%s bytes in %s%s blocks (made after the scan)\n", prefix,
			est, bytes, est, blocks);
	}
}

static void print_scan_line(const struct leak_report *r, FILE *out)
{
	const struct profile_snapshot *s = r->a->snapshot;
	const struct profile_scan *sc = s->scan;
	const char *cmd = profile_get_meta(r->p, "command");
	char stop[32], roots[32], heap[32];

	format_duration(sc->stop_ns, stop, sizeof(stop));
	format_bytes(sc->root_bytes, roots, sizeof(roots));
	format_bytes(sc->heap_bytes, heap, sizeof(heap));
	fprintf(out, "Snapshot '%s' of %s: scanned with the program stopped for %s (%llu threads, "
		"%s of roots and %s of heap read",
		profile_str(r->p, s->name), cmd ? cmd : "the program", stop, (unsigned long long)sc->threads,
		roots, heap);
	if (sc->unreadable_bytes) {
		format_bytes(sc->unreadable_bytes, heap, sizeof(heap));
		fprintf(out, ", %s unreadable", heap);
	}
	fprintf(out, ")\n\n");
}

static void print_text(const struct leak_report *r, const struct loss_records *rs, const struct pyleaks *py,
		       FILE *out)
{
	print_scan_line(r, out);
	for (size_t i = 0; i < rs->n; i++)
		print_record(r, &rs->items[i], i + 1, rs->n, out);
	print_cycles(r, out);
	leak_report_summary(r->a, "", out);
	if (py) {
		fprintf(out, "PYTHON:\n");
		pyleak_report_text(r->p, py, "", out);
	}
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static void json_count(struct json *j, const char *key, const struct leak_count *c)
{
	json_key(j, key);
	json_open(j, '{');
	json_key_u64(j, "blocks", c->blocks);
	json_key_u64(j, "bytes", c->bytes);
	json_close(j, '}');
}

static void json_site(struct json *j, const struct profile *p, uint32_t stack)
{
	uint32_t frame = site_frame(p, stack);

	json_key(j, "site");
	json_open(j, '{');
	if (frame != PROFILE_NONE)
		report_json_place(j, p, frame, GROUP_LINENO);
	json_close(j, '}');
}

struct json_links {
	struct json *j;
	const struct profile_snapshot *s;
};

static void json_link(const struct profile_edge *e, void *arg)
{
	struct json_links *jl = arg;

	json_open(jl->j, '{');
	json_key(jl->j, "offset");
	json_u64(jl->j, e->offset);
	json_key(jl->j, "to");
	json_u64(jl->j, jl->s->blocks[e->to].addr);
	json_key(jl->j, "target_offset");
	json_u64(jl->j, e->target);
	json_close(jl->j, '}');
}

/* "cycles": every leaked cycle shown, its members and their pointers. */
static void json_cycles(struct json *j, const struct leak_report *r)
{
	const struct leak_analysis *a = r->a;
	const struct profile_snapshot *s = a->snapshot;
	const struct profile *p = r->p;
	struct json_links jl = { j, s };

	json_key(j, "cycles");
	json_open(j, '[');
	for (size_t c = 0; c < a->ncycles; c++) {
		const struct leak_cycle *cy = &a->cycles[c];

		if (!cycle_shown(a, cy))
			continue;
		json_open(j, '{');
		json_key(j, "blocks");
		json_u64(j, cy->n);
		json_key(j, "bytes");
		json_u64(j, cy->bytes);
		json_key(j, "members");
		json_open(j, '[');
		for (size_t i = 0; i < cy->n; i++) {
			const struct profile_block *b = &s->blocks[cy->members[i]];

			json_open(j, '{');
			json_key(j, "address");
			json_u64(j, b->addr);
			json_key(j, "size");
			json_u64(j, b->size);
			json_key(j, "kind");
			json_string(j, leak_kind_keyword(a->kind[cy->members[i]]));
			json_site(j, p, b->stack);
			json_key(j, "pointers");
			json_open(j, '[');
			leaks_cycle_links(a, cy->members[i], (uint32_t)c, json_link, &jl);
			json_close(j, ']');
			json_close(j, '}');
		}
		json_close(j, ']');
		json_close(j, '}');
	}
	json_close(j, ']');
}

/* "records": the loss records, with their frames and what they own. */
static void json_records(struct json *j, const struct leak_report *r, const struct loss_records *rs)
{
	const struct profile *p = r->p;

	json_key(j, "records");
	json_open(j, '[');
	for (size_t i = 0; i < rs->n; i++) {
		const struct loss_record *rec = &rs->items[i];
		const struct profile_stack *st = &p->stacks[rec->stack];

		json_open(j, '{');
		json_key(j, "kind");
		json_string(j, leak_kind_keyword(rec->kind));
		json_key_u64(j, "blocks", rec->blocks);
		json_key_u64(j, "bytes", rec->bytes);
		json_key_u64(j, "indirect_blocks", rec->owned_blocks);
		json_key_u64(j, "indirect_bytes", rec->owned_bytes);
		json_key(j, "frames");
		json_open(j, '[');
		for (uint32_t f = 0; f < st->depth && (!r->depth || f < r->depth); f++)
			report_json_frame(p, p->stack_frames[st->first + f], j);
		json_close(j, ']');
		json_key(j, "owns");
		json_open(j, '[');
		for (size_t k = 0; k < rec->nowned; k++) {
			json_open(j, '{');
			json_key(j, "blocks");
			json_u64(j, rec->owned[k].blocks);
			json_key(j, "bytes");
			json_u64(j, rec->owned[k].bytes);
			json_site(j, p, rec->owned[k].stack);
			json_close(j, '}');
		}
		json_close(j, ']');
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void print_json(const struct leak_report *r, const struct loss_records *rs, const struct pyleaks *py,
		       FILE *out)
{
	const struct leak_analysis *a = r->a;
	const struct profile_snapshot *s = a->snapshot;
	const struct profile *p = r->p;
	struct json j = JSON_INIT(out);

	json_open(&j, '{');
	report_json_snapshot(&j, p, s);
	json_key(&j, "scan");
	json_open(&j, '{');
	json_key(&j, "stopped_ns");
	json_u64(&j, s->scan->stop_ns);
	json_key(&j, "threads");
	json_u64(&j, s->scan->threads);
	json_key(&j, "root_bytes");
	json_u64(&j, s->scan->root_bytes);
	json_key(&j, "heap_bytes");
	json_u64(&j, s->scan->heap_bytes);
	json_key(&j, "unreadable_bytes");
	json_u64(&j, s->scan->unreadable_bytes);
	json_close(&j, '}');
	for (int k = 0; k < LEAK_KINDS; k++)
		json_count(&j, leak_kind_keyword(k), &a->totals[k]);
	json_count(&j, "suppressed", &a->suppressed_total);

	if (py)
		pyleak_report_json(&j, p, py);
	json_cycles(&j, r);
	json_records(&j, r, rs);
	json_close(&j, '}');
	fputc('\n', out);
}

/* ------------------------------------------------------------------ */
/* Markdown                                                            */
/* ------------------------------------------------------------------ */

static void print_markdown(const struct leak_report *r, const struct loss_records *rs, const struct pyleaks *py,
			   FILE *out)
{
	const struct leak_analysis *a = r->a;
	const char *cmd = profile_get_meta(r->p, "command");
	char bytes[32], where[1024], stop[32];

	format_duration(a->snapshot->scan->stop_ns, stop, sizeof(stop));
	fprintf(out, "### Leaks: ");
	markdown_cell(out, cmd ? cmd : "the program");
	fprintf(out, " (snapshot ");
	markdown_cell(out, profile_str(r->p, a->snapshot->name));
	fprintf(out, ", stopped %s for the scan)\n\n| kind | bytes | blocks |\n|---|---:|---:|\n", stop);
	for (int k = 0; k <= LEAK_REACHABLE; k++) {
		format_commas(a->totals[k].bytes, bytes, sizeof(bytes));
		fprintf(out, "| %s | %s | %llu |\n", leak_kind_name(k), bytes, (unsigned long long)a->totals[k].blocks);
	}
	format_commas(a->suppressed_total.bytes, bytes, sizeof(bytes));
	fprintf(out, "| suppressed | %s | %llu |\n", bytes, (unsigned long long)a->suppressed_total.blocks);
	if (py)
		pyleak_report_markdown(r->p, py, out);
	if (!rs->n)
		return;
	fprintf(out, "\n| # | kind | bytes | blocks | allocated at |\n|---:|---|---:|---:|---|\n");
	for (size_t i = 0; i < rs->n; i++) {
		const struct loss_record *rec = &rs->items[i];

		format_commas(rec->bytes + rec->owned_bytes, bytes, sizeof(bytes));
		site_of(r->p, rec->stack, where, sizeof(where));
		fprintf(out, "| %zu | %s | %s", i + 1, leak_kind_name(rec->kind), bytes);
		if (rec->owned_bytes)
			fprintf(out, " (%llu indirect)", (unsigned long long)rec->owned_bytes);
		fprintf(out, " | %llu | ", (unsigned long long)rec->blocks);
		markdown_cell(out, where);
		fprintf(out, " |\n");
	}
}

int leak_report_print(const struct leak_report *r, FILE *out)
{
	struct loss_records rs;
	struct pyleaks py = { 0 };
	int ret;

	if (loss_records_make(r->p, r->a, r->kinds, r->limit, &rs) < 0)
		return -ENOMEM;
	/* a Python program's snapshot (it has types): its kinds too, but not at
	 * exit: that scan comes after Py_Finalize and reads the heap as C's */
	ret = strcmp(profile_str(r->p, r->a->snapshot->name), "exit") == 0 ? -ENOENT : pyleaks_find(r->a, &py);
	if (ret == -ENOMEM) {
		loss_records_release(&rs);
		return -ENOMEM;
	}
	if (r->format == OUT_JSON)
		print_json(r, &rs, ret == 0 ? &py : NULL, out);
	else if (r->format == OUT_MARKDOWN)
		print_markdown(r, &rs, ret == 0 ? &py : NULL, out);
	else
		print_text(r, &rs, ret == 0 ? &py : NULL, out);
	pyleaks_release(&py);
	loss_records_release(&rs);
	return 0;
}
