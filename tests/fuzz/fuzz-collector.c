/*
 * fuzz-collector.c - libFuzzer harness for the collector's side of the
 * shared region: whatever a program writes there must not crash, hang or
 * corrupt heapwise, which drains, replays and builds a profile from it.
 *
 * Each input is a list of writes into a fresh region (where the collector
 * laid it out: the header's offsets may be among what was overwritten),
 * as a hostile program would make them: header bytes, ring states, heads and tails,
 * records, stack slots, frames and module entries (their paths a real
 * object or garbage). Then the collector drains, replays, finishes and
 * builds the profile, and the profile is written and read back.
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "../../report/collect/collector-internal.h"
#include "../../report/profile/profile.h"
#include "../../tracer/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input, read a field at a time; zeros once it runs out. */
struct input {
	const uint8_t *d;
	size_t n, at;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->at < in->n; i++)
		v |= (uint64_t)in->d[in->at++] << (8 * i);
	return v;
}

static const char *const real_objects[] = {
	"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/bin/sh",
};

/* One write of a hostile program. */
static void write_one(struct collector *c, struct input *in)
{
	struct wire_header *h = c->hdr;
	unsigned what = (unsigned)take(in, 1) % 8, i = (unsigned)take(in, 2);
	uint64_t v = take(in, 8);

	switch (what) {
	case 0:	/* any header byte run */
		memcpy((char *)h + i % (4096 - 8), &v, 8);
		break;
	case 1: {	/* a ring's state, head or tail */
		struct wire_ring *r = ring_at(c, i % 8);

		if (v & 1)
			r->head = v >> 8;
		else if (v & 2)
			r->tail = v >> 8;
		else
			r->state = (uint32_t)(v >> 8) % 5;
		h->rings_used = (uint32_t)(i % 9);
		break;
	}
	case 2: case 3: {	/* a record of one of the first rings, published */
		unsigned ring = i % 4, slot = (i >> 2) % 256;
		struct wire_record *rec = ring_records_at(c, ring) + slot;
		struct wire_ring *r = ring_at(c, ring);

		rec->stamp = v % 4096;
		rec->addr = take(in, 2) << 4;
		rec->size = take(in, 2);
		rec->stack = (uint32_t)take(in, 1);
		rec->kind = (uint16_t)(take(in, 1) % 5);
		rec->fn = (uint16_t)take(in, 1);
		if (r->head <= slot)
			r->head = slot + 1;
		r->state = WIRE_RING_OWNED;
		if (h->rings_used <= ring)
			h->rings_used = ring + 1;
		if (h->stamp <= rec->stamp)
			h->stamp = rec->stamp + 1;
		break;
	}
	case 4: {	/* a stack slot */
		struct wire_stack *s = (struct wire_stack *)c->tables.stacks + i % 64;

		s->hash = v | 1;
		s->first = (uint32_t)take(in, 2);
		s->depth = (uint16_t)take(in, 2);
		s->image = (uint8_t)take(in, 1);
		s->ready = (uint8_t)take(in, 1);
		break;
	}
	case 5:	/* a frame */
		((uint64_t *)c->tables.frames)[i % 1024] = v;
		h->frames_used = i % 2048;
		break;
	case 6: case 7: {	/* a module entry */
		struct wire_module *m = (struct wire_module *)c->tables.modules + i % 8;

		m->bias = v & ~0xfffull;
		m->start = take(in, 6);
		m->end = m->start + take(in, 3);
		m->image = (uint32_t)take(in, 1) % 3;
		if (what == 6)
			snprintf(m->path, sizeof(m->path), "%s", real_objects[v % 3]);
		else
			for (size_t k = 0; k < sizeof(m->path); k++)
				m->path[k] = (char)take(in, 1);
		m->ready = 1;
		h->modules_used = (uint32_t)take(in, 1);
		h->image = (uint32_t)take(in, 1) % 3;
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct collector_options opt = COLLECTOR_OPTIONS_INIT;
	struct input in = { data, size, 0 };
	char err[PROFILE_ERRLEN];
	struct collector *c;
	struct profile p, q;
	int fd;

	opt.scan_at_exit = 0;
	if (collector_new(&c, &opt, err) < 0)
		abort();
	c->pid = getpid();
	while (in.at < in.n) {
		write_one(c, &in);
		if (take(&in, 1) % 4 == 0)
			collector_drain(c, 0);
	}
	collector_drain(c, 0);
	collector_finish(c, 0, 0, 1);
	if (profile_init(&p) == 0 && collector_build_profile(c, &p, err) == 0) {
		fd = memfd_create("fuzz-collector", MFD_CLOEXEC);
		if (fd < 0 || profile_write_fd(&p, fd, "built", err) < 0)
			abort();	/* what we built, we can write */
		if (profile_read_fd(&q, fd, "built", err) < 0)
			abort();	/* and read back */
		profile_release(&q);
		close(fd);
	}
	profile_release(&p);
	collector_free(c);
	return 0;
}
