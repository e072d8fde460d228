/*
 * pyleak-report.c - uncollected cycles and leaked references, printed
 * (see pyleak-report.h).
 */
#include <stdio.h>

#include "../report/util/format.h"
#include "pyleak-report.h"
#include "../report/util/table.h"

#define TYPES_SHOWN	5	/* in text, the rest as "..." */

/* "2,000 objects (Node 1,000, list 1,000), 187,432 bytes in 4,000 blocks" */
static void print_group(const struct profile *p, const struct pyleak_group *g, const char *est, FILE *out)
{
	char n[32], bytes[32], blocks[32];

	format_commas(g->objects, n, sizeof(n));
	fprintf(out, "%s%s objects", est, n);
	for (size_t i = 0; i < g->ntypes && i < TYPES_SHOWN; i++) {
		format_commas(g->types[i].objects, n, sizeof(n));
		fprintf(out, "%s%s %s%s", i ? ", " : " (", profile_str(p, g->types[i].name), est, n);
	}
	if (g->ntypes)
		fprintf(out, "%s)", g->ntypes > TYPES_SHOWN ? ", ..." : "");
	format_commas(g->bytes, bytes, sizeof(bytes));
	format_commas(g->blocks, blocks, sizeof(blocks));
	fprintf(out, ", %s%s bytes in %s%s blocks", est, bytes, est, blocks);
}

void pyleak_report_text(const struct profile *p, const struct pyleaks *l, const char *prefix, FILE *out)
{
	const char *est = profile_sample_rate(p) ? "~" : "";
	char n[32];

	format_commas(l->cycles.count, n, sizeof(n));
	fprintf(out, "%s   uncollected cycles: %s cycles, ", prefix, n);
	print_group(p, &l->cycles, est, out);
	fprintf(out, "%s\n", l->cycles.count ? " (gc.collect() would free them)" : "");
	fprintf(out, "%s    leaked references: ", prefix);
	print_group(p, &l->references, est, out);
	fprintf(out, "%s\n", l->references.count ? " (nothing points at them: a missing Py_DECREF?)" : "");
}

static void json_group(struct json *j, const struct profile *p, const char *key, const struct pyleak_group *g)
{
	json_key(j, key);
	json_open(j, '{');
	json_key_u64(j, "count", g->count);
	json_key_u64(j, "objects", g->objects);
	json_key_u64(j, "blocks", g->blocks);
	json_key_u64(j, "bytes", g->bytes);
	json_key(j, "types");
	json_open(j, '{');
	for (size_t i = 0; i < g->ntypes; i++)
		json_key_u64(j, profile_str(p, g->types[i].name), g->types[i].objects);
	json_close(j, '}');
	json_close(j, '}');
}

void pyleak_report_json(struct json *j, const struct profile *p, const struct pyleaks *l)
{
	json_key(j, "python");
	json_open(j, '{');
	json_group(j, p, "uncollected_cycles", &l->cycles);
	json_group(j, p, "leaked_references", &l->references);
	json_close(j, '}');
}

void pyleak_report_markdown(const struct profile *p, const struct pyleaks *l, FILE *out)
{
	const struct pyleak_group *groups[] = { &l->cycles, &l->references };
	const char *names[] = { "uncollected cycles", "leaked references" };
	char bytes[32];

	fprintf(out, "\n| Python | count | objects | bytes | types |\n|---|---:|---:|---:|---|\n");
	for (int k = 0; k < 2; k++) {
		format_commas(groups[k]->bytes, bytes, sizeof(bytes));
		fprintf(out, "| %s | %llu | %llu | %s | ", names[k], (unsigned long long)groups[k]->count,
			(unsigned long long)groups[k]->objects, bytes);
		for (size_t i = 0; i < groups[k]->ntypes && i < TYPES_SHOWN; i++) {
			fprintf(out, "%s", i ? ", " : "");
			markdown_cell(out, profile_str(p, groups[k]->types[i].name));
			fprintf(out, " %llu", (unsigned long long)groups[k]->types[i].objects);
		}
		fprintf(out, " |\n");
	}
}
