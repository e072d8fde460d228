/*
 * images.h - a run's totals by image: each program an exec started in
 * the traced process (a pyenv shim's bash, /usr/bin/env, then python) is
 * an image of its own, and what each allocated is told apart, so that a
 * wrapper's heap never reads as the program's.
 */
#ifndef HEAPWISE_IMAGES_H
#define HEAPWISE_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"

#define IMAGES_MAX	64	/* images told apart; later ones count with the last */

struct image_total {
	uint32_t image;			/* its number, 1 for the first */
	uint32_t program;		/* string offset: its main program's path, "" unknown */
	uint64_t allocations, bytes_allocated;	/* over the run */
	uint64_t live_blocks, live_bytes;	/* at exit */
};

/* The sites' counters by the image their stack is of, in image order;
 * allocations without a stack are left out. Returns how many images. */
size_t image_totals(const struct profile *p, struct image_total out[IMAGES_MAX]);

/* The image a stack is of: its first frame in a module says (Python
 * frames are in none). 0 when none is. */
uint32_t stack_image(const struct profile *p, uint32_t stack);

/*
 * The images `--program WHICH` picks: WHICH is an image's number (as the
 * run's summary lists them) or a pattern matched against its program's
 * path or the path's last part ("python3*", "bash"). *out gets a flag per
 * image number, 0 .. *n - 1 (free it). Returns how many images matched
 * (0: none, *out is NULL), or -ENOMEM.
 */
int images_select(const struct profile *p, const char *which, uint8_t **out, uint32_t *n);

/* Is stack of an image picked (images_select's flags, n of them)? Every
 * stack is when n is 0: no --program. */
int images_picked(const struct profile *p, const uint8_t *picked, uint32_t n, uint32_t stack);

/* Zero values[s] (one per stack of p) for each stack not picked. */
void images_keep_values(const struct profile *p, const uint8_t *picked, uint32_t n, uint64_t *values);

#endif
