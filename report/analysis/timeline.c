/*
 * timeline.c - figures read off a run's samples (see timeline.h).
 */
#include <string.h>

#include "timeline.h"

uint64_t rss_gap_bytes(uint64_t rss, uint64_t heap)
{
	return rss > heap ? rss - heap : 0;
}

void timeline_rss_gap(const struct profile *p, struct rss_gap *g)
{
	/* the last sample is taken after the program ended: its RSS is the
	 * last one read, from before the final events, so it is left out */
	size_t n = p->nsamples > 1 ? p->nsamples - 1 : p->nsamples;

	memset(g, 0, sizeof(*g));
	if (n < 2)
		return;	/* one sample, at the start: the run was too short to say */
	for (size_t i = 0; i < n; i++) {
		const struct profile_sample *s = &p->samples[i];

		if (!s->rss_bytes)
			continue;
		if (!g->known || rss_gap_bytes(s->rss_bytes, s->heap_bytes) > rss_gap_bytes(g->rss, g->heap)) {
			g->t_ns = s->t_ns;
			g->rss = s->rss_bytes;
			g->heap = s->heap_bytes;
		}
		g->known = 1;
		g->end_rss = s->rss_bytes;
		g->end_heap = s->heap_bytes;
	}
}

