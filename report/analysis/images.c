/*
 * images.c - a run's totals by image (see images.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"

uint32_t stack_image(const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st = &p->stacks[stack];

	for (uint32_t i = 0; i < st->depth; i++) {
		uint32_t m = p->frames[p->stack_frames[st->first + i]].module;

		if (m != PROFILE_NONE)
			return p->modules[m].image;
	}
	return 0;
}

/* Its main program's path (string offset), 0 unknown. */
static uint32_t program_of(const struct profile *p, uint32_t image)
{
	uint32_t m = profile_image_program(p, image);

	return m == PROFILE_NONE ? 0 : p->modules[m].path;
}

size_t image_totals(const struct profile *p, struct image_total out[IMAGES_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < p->nsites; i++) {
		const struct profile_site *s = &p->sites[i];
		uint32_t image = s->stack ? stack_image(p, s->stack) : 0;
		size_t k;

		if (!image)
			continue;
		for (k = 0; k < n && out[k].image != image; k++)
			;
		if (k == n && n == IMAGES_MAX)
			k = n - 1;
		if (k == n) {
			/* in image order */
			for (k = n; k > 0 && out[k - 1].image > image; k--)
				out[k] = out[k - 1];
			out[k] = (struct image_total){ .image = image, .program = program_of(p, image) };
			n++;
		}
		out[k].allocations += s->allocations;
		out[k].bytes_allocated += s->bytes_allocated;
		out[k].live_blocks += s->live_blocks;
		out[k].live_bytes += s->live_bytes;
	}
	return n;
}

/* Does WHICH name image i, whose program's path is path? */
static int names_image(const char *which, uint32_t i, const char *path)
{
	const char *base = strrchr(path, '/');
	char *end;
	unsigned long n = strtoul(which, &end, 10);

	if (*which && !*end)
		return n == i;
	return *path && (fnmatch(which, path, 0) == 0 || fnmatch(which, base ? base + 1 : path, 0) == 0);
}

int images_picked(const struct profile *p, const uint8_t *picked, uint32_t n, uint32_t stack)
{
	uint32_t image;

	if (!n)
		return 1;
	image = stack_image(p, stack);
	return image < n && picked[image];
}

void images_keep_values(const struct profile *p, const uint8_t *picked, uint32_t n, uint64_t *values)
{
	for (size_t s = 0; n && s < p->nstacks; s++)
		if (!images_picked(p, picked, n, (uint32_t)s))
			values[s] = 0;
}

int images_select(const struct profile *p, const char *which, uint8_t **out, uint32_t *n)
{
	uint32_t last = 0;
	int matched = 0;
	uint8_t *picked;

	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].image > last)
			last = p->modules[i].image;
	*out = NULL;
	*n = 0;
	picked = calloc((size_t)last + 1, 1);
	if (!picked)
		return -ENOMEM;
	for (uint32_t i = 1; i <= last; i++) {
		uint32_t program = program_of(p, i);

		picked[i] = names_image(which, i, program ? profile_str(p, program) : "");
		matched += picked[i];
	}
	if (!matched) {
		free(picked);
		return 0;
	}
	*out = picked;
	*n = last + 1;
	return matched;
}
