/*
 * cmd-refs.c - `heapwise refs FILE[@SNAP] ADDR|SITE`: who points at a
 * block (gc.get_referrers, valgrind's who_points_at), the shortest chain
 * from a root to it (objgraph's find_backref_chain), and the referrer
 * graph for Graphviz (objgraph's show_backrefs).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/referrers.h"
#include "../report/analysis/site-names.h"
#include "../report/util/json.h"
#include "alloc-fns.h"
#include "builtin.h"
#include "leak-report.h"
#include "refs-dot.h"
#include "report-args.h"
#include "selector.h"
#include "out-format.h"
#include "usage.h"

static const char refs_usage[] =
	"usage: heapwise refs [--chain] [--depth N] [--fan-in N] [-n N] [--format FORMAT] FILE[@SNAP] ADDR|SITE|type:TYPE\n"
	"\n"
	"  ADDR                 a block's address, or any address inside it (0x...)\n"
	"  SITE                 every block allocated at a site, named as the reports name it:\n"
	"                       FUNCTION, FILE:LINE, both (\"main app.c:12\") or MODULE+0xOFFSET\n"
	"  type:TYPE            every Python object of a type (a Python program's scanned snapshot)\n"
	"  -c, --chain          the shortest chain of pointers from a root to the block, root first\n"
	"  -d, --depth N        levels of referrers in the dot graph (default 3)\n"
	"      --fan-in N       referrers shown per block in the dot graph, the rest as \"N more\"\n"
	"                       (default 8)\n"
	"  -n, --limit N        blocks of a site or type to show (default 20, 0 for all)\n"
	"      --alloc-fn NAME  treat NAME (a pattern) as an allocator wrapper: charge its\n"
	"                       blocks to its caller; repeatable\n"
	"      --native         show the native frames of Python stacks too\n"
	"  -f, --format FORMAT  text (default), json or dot\n"
	"  -h, --help           show this help\n";

enum { OPT_FAN_IN = 300, OPT_ALLOC_FN, OPT_NATIVE };

static const struct option refs_options[] = {
	{ "chain", no_argument, NULL, 'c' },
	{ "depth", required_argument, NULL, 'd' },
	{ "fan-in", required_argument, NULL, OPT_FAN_IN },
	{ ALLOC_FN_OPTION, required_argument, NULL, OPT_ALLOC_FN },
	{ NATIVE_OPTION, no_argument, NULL, OPT_NATIVE },
	{ "limit", required_argument, NULL, 'n' },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct refs {
	const struct profile *p;
	const struct profile_snapshot *s;
	const struct profile_scan *sc;
	struct leak_analysis a;
	int chain;
	unsigned depth, fan_in;
	size_t limit;
	enum out_format format;		/* OUT_TEXT, OUT_JSON or OUT_DOT */
	struct alloc_fns alloc_fns;	/* --alloc-fn */
};

/* ------------------------------------------------------------------ */
/* Naming things                                                       */
/* ------------------------------------------------------------------ */

static void block_site(const struct profile *p, const struct profile_block *b, char *buf, size_t len)
{
	site_name(p, site_frame(p, b->stack), buf, len);
}

/* ------------------------------------------------------------------ */
/* Text and JSON                                                       */
/* ------------------------------------------------------------------ */

static void json_block(struct json *j, const struct refs *r, uint32_t b)
{
	const struct profile_block *blk = &r->s->blocks[b];
	uint32_t frame = site_frame(r->p, blk->stack);

	json_key(j, "address");
	json_u64(j, blk->addr);
	json_key(j, "size");
	json_u64(j, blk->size);
	json_key(j, "kind");
	json_string(j, leak_kind_keyword(r->a.kind[b]));
	if (r->s->types && r->s->types[b]) {
		json_key(j, "type");
		json_string(j, profile_str(r->p, r->s->types[b]));
	}
	json_key(j, "site");
	json_open(j, '{');
	if (frame != PROFILE_NONE)
		report_json_place(j, r->p, frame, GROUP_LINENO);
	json_close(j, '}');
}

static void json_root(struct json *j, const struct refs *r, const struct profile_root *root)
{
	json_key(j, "type");
	json_string(j, referrers_root_type(root->kind));
	if (root->kind == PROFILE_ROOT_STACK || root->kind == PROFILE_ROOT_REGISTER || root->kind == PROFILE_ROOT_TLS) {
		json_key(j, "thread");
		json_u64(j, root->tid);
	}
	if (root->kind == PROFILE_ROOT_STACK) {
		json_key(j, "frame");
		json_u64(j, root->frame);
	}
	json_key(j, "name");
	json_string(j, profile_str(r->p, root->name));
	json_key(j, "module");
	json_string(j, root->module != PROFILE_NONE ? site_module_name(r->p, root->module) : "");
	json_key(j, "address");
	json_u64(j, root->addr);
	json_key(j, "offset");
	json_i64(j, (int64_t)root->offset);
	if (root->python) {
		json_key(j, "python");
		json_string(j, profile_str(r->p, root->python));
	}
}

/* The pointer's Python name as a JSON key, when it has one. */
static void json_python_name(struct json *j, const struct refs *r, const struct profile_edge *e)
{
	char name[160];

	referrers_python_name(r->p, r->s, e, name, sizeof(name));
	if (!*name)
		return;
	json_key(j, "python");
	json_string(j, name);
}

/* One referrer: the edge's source, where in it the pointer is (and what
 * Python calls it). */
static void print_referrer(const struct refs *r, const struct profile_edge *e, struct json *j)
{
	char what[1280], site[1024], name[160];

	if (j) {
		json_open(j, '{');
		if (e->from & PROFILE_EDGE_ROOT) {
			json_root(j, r, &r->sc->roots[e->from & ~PROFILE_EDGE_ROOT]);
		} else {
			json_key(j, "type");
			json_string(j, "block");
			json_block(j, r, e->from);
			json_key(j, "offset");
			json_u64(j, e->offset);
			json_python_name(j, r, e);
		}
		json_key(j, "target_offset");
		json_u64(j, e->target);
		json_close(j, '}');
		return;
	}
	if (e->from & PROFILE_EDGE_ROOT) {
		referrers_describe_root(r->p, &r->sc->roots[e->from & ~PROFILE_EDGE_ROOT], what, sizeof(what));
	} else {
		const struct profile_block *b = &r->s->blocks[e->from];

		block_site(r->p, b, site, sizeof(site));
		referrers_python_name(r->p, r->s, e, name, sizeof(name));
		snprintf(what, sizeof(what), "%s%sblock 0x%" PRIx64 " (%" PRIu64 " bytes, %s, from %s), at +%u", name,
			 *name ? " in " : "", b->addr, b->size, leak_kind_name(r->a.kind[e->from]), site, e->offset);
	}
	printf("    %s", what);
	if (e->target)
		printf(" -> %u bytes into the block", e->target);
	putchar('\n');
}

static void print_chain(const struct refs *r, uint32_t b, struct json *j)
{
	uint32_t *chain;
	long n = referrers_chain(r->s, &r->a, b, &chain);
	char what[1024], site[4096], name[160];
	const struct profile_edge *e;

	if (j) {
		json_key(j, "chain");
		if (n <= 0)
			json_null(j);
		else
			json_open(j, '[');
	} else if (n <= 0) {
		printf("  no chain of pointers from a root reaches it\n");
	} else {
		printf("  shortest chain from a root:\n");
	}
	if (n <= 0)
		return;
	e = &r->sc->edges[chain[0]];
	if (j) {
		json_open(j, '{');
		json_root(j, r, &r->sc->roots[e->from & ~PROFILE_EDGE_ROOT]);
		json_close(j, '}');
	} else {
		referrers_describe_root(r->p, &r->sc->roots[e->from & ~PROFILE_EDGE_ROOT], what, sizeof(what));
		printf("    %s\n", what);
	}
	for (long i = 0; i < n; i++) {
		const struct profile_block *blk;

		e = &r->sc->edges[chain[i]];
		blk = &r->s->blocks[e->to];
		if (j) {
			json_open(j, '{');
			json_key(j, "type");
			json_string(j, "block");
			json_block(j, r, e->to);
			json_key(j, "offset");
			json_u64(j, e->offset);
			json_python_name(j, r, e);
			json_key(j, "target_offset");
			json_u64(j, e->target);
			json_close(j, '}');
			continue;
		}
		block_site(r->p, blk, site, sizeof(site));
		referrers_python_name(r->p, r->s, e, name, sizeof(name));
		if (e->from & PROFILE_EDGE_ROOT)
			printf("    -> 0x%" PRIx64, blk->addr);
		else
			printf("    at +%u%s%s -> 0x%" PRIx64, e->offset, *name ? " " : "", name, blk->addr);
		if (e->target)
			printf(" (%u bytes in)", e->target);
		printf(": %" PRIu64 " bytes from %s\n", blk->size, site);
	}
	if (j)
		json_close(j, ']');
	free(chain);
}

static void print_block(const struct refs *r, uint32_t b, struct json *j)
{
	const struct profile_block *blk = &r->s->blocks[b];
	uint32_t first = r->a.in_first[b], last = r->a.in_first[b + 1];
	const char *type = r->s->types && r->s->types[b] ? profile_str(r->p, r->s->types[b]) : NULL;
	char site[1024];

	if (j) {
		json_open(j, '{');
		json_block(j, r, b);
		json_key(j, "referrers");
		json_open(j, '[');
		for (uint32_t k = first; k < last; k++)
			print_referrer(r, &r->sc->edges[k], j);
		json_close(j, ']');
		if (r->chain)
			print_chain(r, b, j);
		json_close(j, '}');
		return;
	}
	block_site(r->p, blk, site, sizeof(site));
	printf("0x%" PRIx64 ": %" PRIu64 " bytes%s%s, %s, allocated at %s\n", blk->addr, blk->size,
	       type ? ", a " : "", type ? type : "", leak_kind_name(r->a.kind[b]), site);
	if (first == last)
		printf("  nothing points to it\n");
	else
		printf("  pointed to by %u:\n", last - first);
	for (uint32_t k = first; k < last; k++)
		print_referrer(r, &r->sc->edges[k], NULL);
	if (r->chain)
		print_chain(r, b, NULL);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static int parse_options(int argc, char **argv, struct refs *r)
{
	unsigned long long v;
	char why[256];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "cd:n:f:h", refs_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			r->chain = 1;
			break;
		case 'd':
			if (parse_number(optarg, 1, 1000, &v) < 0)
				return usage_error(refs_usage, "--depth takes a number from 1 to 1000, not '%s'", optarg);
			r->depth = (unsigned)v;
			break;
		case OPT_FAN_IN:
			if (parse_number(optarg, 1, 100000, &v) < 0)
				return usage_error(refs_usage, "--fan-in takes a number from 1, not '%s'", optarg);
			r->fan_in = (unsigned)v;
			break;
		case 'n':
			if (parse_number(optarg, 0, 1000000000, &v) < 0)
				return usage_error(refs_usage, "--limit takes a number, not '%s'", optarg);
			r->limit = (size_t)v;
			break;
		case 'f':
			if (out_format_parse(optarg, OUT(OUT_TEXT) | OUT(OUT_JSON) | OUT(OUT_DOT), &r->format,
					     why, sizeof(why)) < 0)
				return usage_error(refs_usage, "%s", why);
			break;
		case OPT_ALLOC_FN:
			if (alloc_fns_add(&r->alloc_fns, optarg))
				return EXIT_ERROR;
			break;
		case OPT_NATIVE:
			r->alloc_fns.native = 1;
			break;
		case 'h':
			fputs(refs_usage, stdout);
			return -1;
		default:
			fputs(refs_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error(refs_usage, argc - optind < 2 ? "give a profile and an address, site or type:TYPE"
				   : "one profile and one address, site or type:TYPE");
	return 0;
}

/* The Python objects of type name, into chosen. 0, or the exit status
 * after saying why there are none. */
static int choose_type(const struct refs *r, const char *name, uint32_t *chosen, size_t *n)
{
	const struct profile_snapshot *s = r->s;

	if (!s->types)
		return report_no_types(r->p, s);
	for (uint64_t i = 0; i < s->nblocks; i++)
		if (s->types[i] && strcmp(profile_str(r->p, s->types[i]), name) == 0)
			chosen[(*n)++] = (uint32_t)i;
	if (!*n)
		return error("no live block of snapshot '%s' holds a '%s' object (heapwise top --by type lists them)",
			     profile_str(r->p, s->name), name);
	return 0;
}

/* A sampled profile holds only the blocks recorded: say how many the n
 * listed stand for (the estimate every other report gives). */
static void print_sampled_note(const struct refs *r, const uint32_t *chosen, size_t n)
{
	uint64_t blocks = 0;

	for (size_t i = 0; i < n; i++)
		blocks += profile_block_weight(r->s->sample_rate, &r->s->blocks[chosen[i]]).blocks;
	printf("\n(sampled: the %zu block%s recorded, which stand for ~%llu)\n", n, n == 1 ? "" : "s",
	       (unsigned long long)blocks);
}

/* The blocks ADDR, SITE or type:TYPE names, into chosen. Returns 0, or
 * the exit status after an error message (none found, or not an address). */
static int choose_blocks(const struct refs *r, const char *what, uint32_t *chosen, size_t *n)
{
	char *end;

	*n = 0;
	if (strncmp(what, "type:", 5) == 0)
		return choose_type(r, what + 5, chosen, n);
	if (strncmp(what, "0x", 2) == 0 || strncmp(what, "0X", 2) == 0) {
		uint64_t addr = strtoull(what, &end, 16);
		long b;

		if (*end || end == what + 2)
			return usage_error(refs_usage, "'%s' is not an address", what);
		b = referrers_block_at(r->s, addr);
		if (b < 0)
			return error("no live block of snapshot '%s' holds address %s", profile_str(r->p, r->s->name), what);
		chosen[(*n)++] = (uint32_t)b;
		return 0;
	}
	*n = referrers_blocks_at(r->p, r->s, what, chosen);
	if (!*n)
		return error("no live block of snapshot '%s' was allocated at '%s' (a function, FILE:LINE, or MODULE+0xOFFSET)",
			     profile_str(r->p, r->s->name), what);
	return 0;
}

int cmd_refs(int argc, char **argv)
{
	struct refs r = { .depth = 3, .fan_in = 8, .limit = 20 };
	struct profile p;
	uint32_t *chosen = NULL;
	size_t n = 0, shown;
	int ret;

	ret = parse_options(argc, argv, &r);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (selector_open(argv[optind], &p, &r.s, 1)) {
		alloc_fns_release(&r.alloc_fns);
		return 1;
	}
	if ((ret = alloc_fns_apply(&r.alloc_fns, &p))) {
		alloc_fns_release(&r.alloc_fns);
		profile_release(&p);
		return ret;
	}
	r.p = &p;
	r.sc = r.s->scan;
	if ((ret = leak_report_need_scan(&p, r.s, argv[optind])))
		goto out;
	if (leaks_analyze(r.s, &r.a) < 0) {
		ret = error("out of memory");
		goto out;
	}
	chosen = malloc((r.s->nblocks + 1) * sizeof(*chosen));
	if (!chosen) {
		ret = error("out of memory");
		goto out;
	}
	if ((ret = choose_blocks(&r, argv[optind + 1], chosen, &n)))
		goto out;
	shown = r.limit && n > r.limit ? r.limit : n;
	if (r.format == OUT_DOT) {
		ret = refs_print_dot(&p, r.s, &r.a, chosen, shown, r.depth, r.fan_in) < 0 ? error("out of memory") : 0;
	} else if (r.format == OUT_JSON) {
		struct json j = JSON_INIT(stdout);

		json_open(&j, '{');
		report_json_snapshot(&j, &p, r.s);
		json_key(&j, "matched");
		json_u64(&j, n);
		json_key(&j, "blocks");
		json_open(&j, '[');
		for (size_t i = 0; i < shown; i++)
			print_block(&r, chosen[i], &j);
		json_close(&j, ']');
		json_close(&j, '}');
		putchar('\n');
	} else {
		for (size_t i = 0; i < shown; i++) {
			if (i)
				putchar('\n');
			print_block(&r, chosen[i], NULL);
		}
		if (shown < n)
			printf("\n(%zu more blocks from '%s': --limit 0 shows all)\n", n - shown, argv[optind + 1]);
		if (r.s->sample_rate)
			print_sampled_note(&r, chosen, n);
	}
out:
	alloc_fns_release(&r.alloc_fns);
	free(chosen);
	leaks_release(&r.a);
	profile_release(&p);
	return ret;
}
