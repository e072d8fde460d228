/*
 * export-table.c - every site (stack) of a profile with its numbers and
 * frames: run-wide counters and the selected snapshot's live blocks, as
 * JSON or as CSV (one row per site: its own frame's function, file, line
 * and module, then its frames joined by ';', root first, by name and with
 * their lines).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../report/analysis/site-names.h"
#include "../report/util/json.h"
#include "../report/util/table.h"
#include "export.h"
#include "report-args.h"

/* The snapshot's live blocks and bytes per stack (estimates, when sampled:
 * the run-wide counters beside them are too). */
static int live_by_stack(const struct export_ctx *x, uint64_t **blocks, uint64_t **bytes)
{
	uint64_t rate = profile_sample_rate(x->p);

	*blocks = calloc(x->p->nstacks + 1, sizeof(uint64_t));
	*bytes = calloc(x->p->nstacks + 1, sizeof(uint64_t));
	if (!*blocks || !*bytes) {
		free(*blocks);
		free(*bytes);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < x->s->nblocks; i++) {
		struct profile_weight w = profile_block_weight(rate, &x->s->blocks[i]);

		(*blocks)[x->s->blocks[i].stack] += w.blocks;
		(*bytes)[x->s->blocks[i].stack] += w.bytes;
	}
	return 0;
}

/* The run's allocations (or bytes allocated) of the sites --program keeps. */
static uint64_t kept_total(const struct export_ctx *x, int bytes)
{
	uint64_t sum = 0;

	if (!x->images)
		return bytes ? x->p->totals.bytes_allocated : x->p->totals.allocations;
	for (size_t i = 0; i < x->p->nsites; i++)
		if (export_stack_kept(x, x->p->sites[i].stack))
			sum += bytes ? x->p->sites[i].bytes_allocated : x->p->sites[i].allocations;
	return sum;
}

int export_json(const struct export_ctx *x)
{
	const struct profile *p = x->p;
	struct json j = JSON_INIT(x->out);
	uint64_t *blocks, *bytes;

	if (live_by_stack(x, &blocks, &bytes) < 0)
		return -ENOMEM;
	json_open(&j, '{');
	report_json_snapshot(&j, p, x->s);
	json_key(&j, "allocations");
	json_u64(&j, kept_total(x, 0));
	json_key(&j, "bytes_allocated");
	json_u64(&j, kept_total(x, 1));
	json_key(&j, "sites");
	json_open(&j, '[');
	for (size_t i = 0; i < p->nsites; i++) {
		const struct profile_site *s = &p->sites[i];
		const struct profile_stack *st = &p->stacks[s->stack];

		if (!export_stack_kept(x, s->stack))
			continue;
		json_open(&j, '{');
		json_key(&j, "live_blocks");
		json_u64(&j, blocks[s->stack]);
		json_key(&j, "live_bytes");
		json_u64(&j, bytes[s->stack]);
		json_key(&j, "allocations");
		json_u64(&j, s->allocations);
		json_key(&j, "bytes_allocated");
		json_u64(&j, s->bytes_allocated);
		json_key(&j, "frees");
		json_u64(&j, s->frees);
		json_key(&j, "temporary");
		json_u64(&j, s->temporary);
		json_key(&j, "peak_bytes");
		json_u64(&j, s->peak_bytes);
		json_key(&j, "frames");
		json_open(&j, '[');
		for (uint32_t f = 0; f < st->depth; f++) {
			json_open(&j, '{');
			report_json_place(&j, p, p->stack_frames[st->first + f], GROUP_LINENO);
			json_key(&j, "address");
			json_u64(&j, p->frames[p->stack_frames[st->first + f]].ip);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	fputc('\n', x->out);
	free(blocks);
	free(bytes);
	return 0;
}

/* The site's own frame as four CSV fields: function, file, line (empty
 * when unknown), module, as the JSON export names them. */
static void csv_site(FILE *out, const struct profile *p, uint32_t stack)
{
	struct report_place pl;

	report_place_of(p, site_frame(p, stack), GROUP_LINENO, &pl);
	csv_field(out, pl.function);
	fputc(',', out);
	csv_field(out, pl.file);
	fputc(',', out);
	if (pl.line)
		fprintf(out, "%u", pl.line);
	fputc(',', out);
	csv_field(out, pl.module);
	fputc(',', out);
}

int export_csv(const struct export_ctx *x)
{
	const struct profile *p = x->p;
	uint64_t *blocks, *bytes;

	if (live_by_stack(x, &blocks, &bytes) < 0)
		return -ENOMEM;
	fprintf(x->out, "live_bytes,live_blocks,allocations,bytes_allocated,frees,temporary,peak_bytes,"
		"function,file,line,module,stack,traceback\n");
	for (size_t i = 0; i < p->nsites; i++) {
		const struct profile_site *s = &p->sites[i];
		char *line, *tb;

		if (!export_stack_kept(x, s->stack))
			continue;
		line = export_fold_stack(p, s->stack);
		tb = export_traceback(p, s->stack);
		fprintf(x->out, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,", (unsigned long long)bytes[s->stack],
			(unsigned long long)blocks[s->stack], (unsigned long long)s->allocations,
			(unsigned long long)s->bytes_allocated, (unsigned long long)s->frees,
			(unsigned long long)s->temporary, (unsigned long long)s->peak_bytes);
		csv_site(x->out, p, s->stack);
		csv_field(x->out, line ? line : "");
		fputc(',', x->out);
		csv_field(x->out, tb ? tb : "");
		fputc('\n', x->out);
		free(line);
		free(tb);
	}
	free(blocks);
	free(bytes);
	return 0;
}
