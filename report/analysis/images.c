/*
 * images.c - a run's totals by image (see images.h).
 */
#include <string.h>

#include "images.h"

/* The image a stack is of: its first frame in a module says (Python
 * frames are in none). 0 when none is. */
static uint32_t image_of(const struct profile *p, uint32_t stack)
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
		uint32_t image = s->stack ? image_of(p, s->stack) : 0;
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
