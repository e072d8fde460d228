/*
 * report-args.c - options and JSON pieces shared by top and diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/analysis/images.h"
#include "../report/analysis/site-names.h"
#include "report-args.h"
#include "usage.h"

static const char *const group_names[] = {
	[GROUP_LINENO] = "lineno", [GROUP_FUNCTION] = "function", [GROUP_FILE] = "file",
	[GROUP_MODULE] = "module", [GROUP_TRACEBACK] = "traceback", [GROUP_TYPE] = "type",
};

void report_args_init(struct report_args *r)
{
	memset(r, 0, sizeof(*r));
	r->group = (struct group_options)GROUP_OPTIONS_INIT;
	r->format = OUT_TEXT;
	r->formats = OUT(OUT_TEXT) | OUT(OUT_JSON) | OUT(OUT_CSV) | OUT(OUT_MARKDOWN);
}

void report_args_release(struct report_args *r)
{
	alloc_fns_release(&r->alloc_fns);
	free(r->include);
	free(r->exclude);
	memset(r, 0, sizeof(*r));
}

static int append(const char ***list, size_t *n, const char *s)
{
	const char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (!l)
		return -1;
	l[(*n)++] = s;
	*list = l;
	return 0;
}

int report_args_parse(struct report_args *r, const char *usage, int opt, const char *arg)
{
	struct group_options *g = &r->group;
	unsigned long long n;
	char why[256];

	switch (opt) {
	case 'b':
		for (size_t i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++)
			if (strcmp(arg, group_names[i]) == 0) {
				g->by = (enum group_by)i;
				return 0;
			}
		return usage_error(usage, "unknown grouping '%s' (lineno, function, file, module, traceback or type)",
				   arg);
	case 'c':
		g->cumulative = 1;
		return 0;
	case 'i':
		if (append(&r->include, &g->ninclude, arg) < 0)
			return error("out of memory");
		g->include = r->include;
		return 0;
	case 'x':
		if (append(&r->exclude, &g->nexclude, arg) < 0)
			return error("out of memory");
		g->exclude = r->exclude;
		return 0;
	case REPORT_OPT_ALLOC_FN:
		return alloc_fns_add(&r->alloc_fns, arg);
	case REPORT_OPT_NATIVE:
		r->alloc_fns.native = 1;
		return 0;
	case REPORT_OPT_ALL_FRAMES:
		g->all_frames = 1;
		return 0;
	case REPORT_OPT_PROGRAM:
		if (!*arg)
			return usage_error(usage, "--program takes a program's number or a pattern, not ''");
		r->program = arg;
		return 0;
	case 'g':
		if (parse_number(arg, 0, 2, &n) < 0)
			return usage_error(usage, "--generation takes 0, 1 or 2 (2 or more), not '%s'", arg);
		g->generation = (int)n;
		return 0;
	case 'f':
		if (out_format_parse(arg, r->formats, &r->format, why, sizeof(why)) < 0)
			return usage_error(usage, "%s", why);
		return 0;
	default:
		return usage_error(usage, "unknown option");
	}
}

int report_args_pick_program(const struct report_args *r, const struct profile *p, const char *file,
			     struct group_options *g)
{
	struct image_total programs[IMAGES_MAX];
	uint8_t *images;
	uint32_t n;
	size_t nprograms;
	int ret;

	*g = r->group;
	if (!r->program)
		return 0;
	ret = images_select(p, r->program, &images, &n);
	if (ret < 0)
		return error("out of memory");
	if (ret > 0) {
		g->images = images;
		g->nimages = n;
		return 0;
	}
	nprograms = image_totals(p, programs);
	error("no program in %s is '%s'; it ran:", file, r->program);
	for (size_t i = 0; i < nprograms; i++)
		fprintf(stderr, "  %u %s\n", programs[i].image,
			programs[i].program ? profile_str(p, programs[i].program) : "(unknown)");
	return EXIT_ERROR;
}

void report_args_drop_program(struct group_options *g)
{
	free((void *)g->images);
	g->images = NULL;
	g->nimages = 0;
}

const char *report_group_name(enum group_by by)
{
	return group_names[by];
}

int report_no_types(const struct profile *p, const struct profile_snapshot *s)
{
	return error("snapshot '%s' has no Python types: they are read when a Python program is scanned "
		     "(its py-exit snapshot, or heapwise snapshot --scan)", profile_str(p, s->name));
}

void report_place_of(const struct profile *p, uint32_t frame, enum group_by by, struct report_place *out)
{
	const struct profile_frame *f;

	memset(out, 0, sizeof(*out));
	out->function = out->file = out->module = "";
	if (frame == PROFILE_NONE)
		return;
	f = &p->frames[frame];
	if (f->module != PROFILE_NONE)
		out->module = profile_str(p, p->modules[f->module].path);
	if (by == GROUP_MODULE)
		return;
	if (by != GROUP_FILE)
		out->function = profile_str(p, f->function);
	out->file = profile_str(p, f->file);
	if (by == GROUP_LINENO || by == GROUP_TRACEBACK)
		out->line = f->line;
}

void report_print_frame(const struct profile *p, uint32_t frame, void *arg)
{
	char where[4096];

	(void)arg;
	site_name(p, frame, where, sizeof(where));
	printf("  %s%s\n", where, p->frames[frame].flags & PROFILE_FRAME_INLINED ? " (inlined)" : "");
}

void report_json_frame(const struct profile *p, uint32_t frame, void *arg)
{
	struct json *j = arg;
	const struct profile_frame *f = &p->frames[frame];

	json_open(j, '{');
	report_json_place(j, p, frame, GROUP_LINENO);
	/* where it is, for frames without symbols above all */
	json_key(j, "address");
	json_u64(j, f->ip);
	json_key(j, "module_offset");
	json_u64(j, site_module_offset(p, f));
	json_close(j, '}');
}

void report_json_place(struct json *j, const struct profile *p, uint32_t frame, enum group_by by)
{
	struct report_place pl;

	report_place_of(p, frame, by, &pl);
	json_key(j, "function");
	json_string(j, pl.function);
	json_key(j, "file");
	json_string(j, pl.file);
	json_key(j, "line");
	json_u64(j, pl.line);
	json_key(j, "module");
	json_string(j, pl.module);
}

void report_json_snapshot(struct json *j, const struct profile *p, const struct profile_snapshot *s)
{
	json_key(j, "snapshot");
	report_json_snapshot_object(j, p, s);
}

void report_json_snapshot_object(struct json *j, const struct profile *p, const struct profile_snapshot *s)
{
	uint64_t rate = profile_sample_rate(p);

	json_open(j, '{');
	json_key(j, "name");
	json_string(j, profile_str(p, s->name));
	json_key(j, "time_ns");
	json_u64(j, s->t_ns);
	/* sampled: blocks and bytes are what the recorded blocks stand for */
	json_key(j, "blocks");
	if (rate && !s->est_known)
		json_null(j);	/* an older file's snapshot, not read */
	else
		json_u64(j, rate ? s->est_blocks : s->nblocks);
	json_key(j, "bytes");
	json_u64(j, s->bytes);
	if (rate) {
		/* run --sample-rate: every count and size is an estimate */
		json_key(j, "sampled");
		json_bool(j, 1);
		json_key_u64(j, "sample_rate", rate);
		json_key_u64(j, "recorded_blocks", s->nblocks);
	}
	if (s->has_rss_parts) {
		json_key(j, "rss_breakdown");
		json_open(j, '{');
		report_json_rss_parts(j, p, s);
		json_close(j, '}');
	}
	json_close(j, '}');
}

size_t report_pins_by_site(const struct profile *p, const struct profile_pins *pins,
			   struct report_pin out[PROFILE_PINS_MAX])
{
	char names[PROFILE_PINS_MAX][512];
	size_t n = 0;

	for (uint64_t k = 0; k < pins->n && k < PROFILE_PINS_MAX; k++) {
		uint32_t frame = site_frame(p, pins->top[k].stack);
		size_t i = 0;

		/* by name: one line's frames differ by the instruction that ran */
		site_name(p, frame, names[n], sizeof(names[n]));
		while (i < n && strcmp(names[i], names[n]) != 0)
			i++;
		if (i == n)
			out[n++] = (struct report_pin){ frame, 0, 0 };
		out[i].blocks += pins->top[k].blocks;
		out[i].bytes += pins->top[k].bytes;
	}
	/* most blocks first, again, now that stacks of one place are one */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && out[k].blocks > out[k - 1].blocks; k--) {
			struct report_pin t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

void report_json_rss_parts(struct json *j, const struct profile *p, const struct profile_snapshot *s)
{
	struct report_pin pins[PROFILE_PINS_MAX];
	size_t npins;
	const struct profile_rss_parts *r = &s->rss_parts;

	json_key_u64(j, "rss", r->rss);
	json_key_u64(j, "live_heap", r->live_heap);
	json_key_u64(j, "pymalloc_free", r->pymalloc_free);
	json_key_u64(j, "allocator_free", r->allocator_free);
	json_key_u64(j, "other", r->other);
	if (!s->has_pins)
		return;
	json_key(j, "pymalloc_arenas");
	json_open(j, '{');
	json_key_u64(j, "count", s->pins.arenas);
	json_key_u64(j, "mostly_free", s->pins.mostly_free);
	json_key(j, "kept_by");
	json_open(j, '[');
	npins = report_pins_by_site(p, &s->pins, pins);
	for (size_t k = 0; k < npins; k++) {
		json_open(j, '{');
		report_json_place(j, p, pins[k].frame, GROUP_LINENO);
		json_key_u64(j, "blocks", pins[k].blocks);
		json_key_u64(j, "bytes", pins[k].bytes);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}
