/*
 * samples.c - the timeline: heap and RSS sampled every interval. A sample
 * is due at a moment, when the stamp counter and the RSS are read; replay
 * is behind the program by then, so its heap is taken only when replay
 * reaches the stamps issued before that moment. Each sample's heap and RSS
 * are then the program's at its time, however far replay lagged (a long
 * drain made every point late by the lag, the curve peaking after the
 * peak). The peak's time comes from the samples around its stamp.
 * Called by collector.c (ticks, the end) and replay.c (between chunks of
 * a long replay, which would leave the timeline without points, and as
 * stamps pass).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tracer/wire.h"
#include "collector-internal.h"

#define MAX_SAMPLES	20000
/* Samples waiting for replay at most: one further behind is taken as it is
 * (a program that moves the stamp counter far ahead cannot hold them all). */
#define MAX_DUE		1024

static uint64_t read_rss(struct collector *c)
{
	char buf[128];
	unsigned long pages_total, pages_rss;
	ssize_t n;

	if (c->statm_fd < 0)
		return 0;
	n = pread(c->statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &pages_total, &pages_rss) != 2)
		return 0;
	return (uint64_t)pages_rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Append the sample of d with the heap as replay has it now. */
static void take(struct collector *c, const struct due_sample *d)
{
	struct profile_sample *s;

	if (c->nsamples == MAX_SAMPLES) {
		/* halve the resolution rather than grow without bound */
		for (size_t i = 0; i < c->nsamples / 2; i++)
			c->samples[i] = c->samples[2 * i + 1];
		c->nsamples /= 2;
		c->interval_ns *= 2;
	}
	if (c->nsamples == c->samples_cap) {
		size_t cap = c->samples_cap ? c->samples_cap * 2 : 1024;

		s = realloc(c->samples, cap * sizeof(*s));
		if (!s)
			return;
		c->samples = s;
		c->samples_cap = cap;
	}
	s = &c->samples[c->nsamples++];
	s->t_ns = d->t_ns;
	s->stamp = c->window.base - 1;
	s->heap_bytes = c->heap_bytes;
	s->rss_bytes = d->rss_bytes;
	if (!s->rss_bytes && c->nsamples > 1)
		s->rss_bytes = s[-1].rss_bytes;	/* the program is gone: last known */
	s->allocations = c->allocations;
	s->frees = c->frees;
	if (s->rss_bytes > c->peak_rss)
		c->peak_rss = s->rss_bytes;
}

/* The oldest due sample, taken now and forgotten. */
static void take_oldest(struct collector *c)
{
	take(c, &c->due[c->due_head]);
	c->due_head = (c->due_head + 1) % MAX_DUE;
	c->ndue--;
	c->due_stamp = c->ndue ? c->due[c->due_head].stamp : UINT64_MAX;
}

static void schedule(struct collector *c, uint64_t now_ns)
{
	struct due_sample d = {
		.t_ns = now_ns - c->start_ns,
		.stamp = __atomic_load_n(&c->hdr->stamp, __ATOMIC_ACQUIRE),
		.rss_bytes = read_rss(c),
	};

	if (!c->ndue && c->window.base >= d.stamp) {
		take(c, &d);	/* replay is there already */
		return;
	}
	if (!c->due && !(c->due = malloc(MAX_DUE * sizeof(*c->due)))) {
		take(c, &d);
		return;
	}
	if (c->ndue == MAX_DUE)
		take_oldest(c);
	c->due[(c->due_head + c->ndue++) % MAX_DUE] = d;
	c->due_stamp = c->due[c->due_head].stamp;
}

void samples_tick(struct collector *c, uint64_t now_ns)
{
	if (now_ns >= c->next_sample_ns) {
		schedule(c, now_ns);
		c->next_sample_ns = now_ns + c->interval_ns;
	}
}

void samples_take_due(struct collector *c)
{
	while (c->ndue && c->window.base >= c->due[c->due_head].stamp)
		take_oldest(c);
}

void samples_take_last(struct collector *c, uint64_t now_ns)
{
	while (c->ndue)
		take_oldest(c);	/* their stamps never came: the heap as it ended */
	take(c, &(struct due_sample){ .t_ns = now_ns - c->start_ns, .rss_bytes = read_rss(c) });
}

uint64_t samples_time_of(const struct collector *c, uint64_t stamp, uint64_t now_ns)
{
	const struct profile_sample *s = c->samples;
	size_t lo = 0, hi = c->nsamples;
	uint64_t t0 = 0, s0 = 0, t1 = now_ns - c->start_ns, s1 = c->window.base;

	/* the first sample at or past the stamp */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s[mid].stamp < stamp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		t0 = s[lo - 1].t_ns;
		s0 = s[lo - 1].stamp;
	}
	if (lo < c->nsamples) {
		t1 = s[lo].t_ns;
		s1 = s[lo].stamp;
	}
	if (s1 <= s0 || t1 <= t0 || stamp >= s1)
		return t1 > t0 ? t1 : t0;
	return t0 + (uint64_t)((unsigned __int128)(stamp - s0) * (t1 - t0) / (s1 - s0));
}
