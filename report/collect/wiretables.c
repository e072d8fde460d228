/*
 * wiretables.c - reading the tracer's stack table, frame pool and module
 * log, clamped to the layout the collector made (see wiretables.h).
 */
#include <string.h>

#include "wiretables.h"

void wiretables_init(struct wiretables *t, const struct wire_header *h)
{
	const char *base = (const char *)h;

	/* read once, right after the collector wrote them: our own copy */
	t->hdr = h;
	t->stacks = (const struct wire_stack *)(base + h->stacks_offset);
	t->frames = (const uint64_t *)(base + h->frames_offset);
	t->modules = (const struct wire_module *)(base + h->modules_offset);
	t->stack_slots = h->stack_slots;
	t->module_capacity = h->module_capacity;
	t->frame_capacity = h->frame_capacity;
	t->codes = base + h->codes_offset;
	t->code_capacity = h->code_capacity;
}

/* n bytes of the log at *at into out (NUL-terminated when text), moving *at on. */
static void take(const struct wiretables *t, uint64_t *at, uint32_t n, void *out, int text)
{
	memcpy(out, t->codes + *at, n);
	if (text)
		((char *)out)[n] = '\0';
	*at += n;
}

int wiretables_code(const struct wiretables *t, uint32_t ref, struct wiretables_code *c)
{
	struct wire_code e;
	uint64_t off = ((uint64_t)ref - 1) * 8, at;

	if (ref == 0 || off + sizeof(e) > t->code_capacity)
		return 0;
	e.size = __atomic_load_n((const uint32_t *)(t->codes + off), __ATOMIC_ACQUIRE);
	memcpy(&e, t->codes + off, sizeof(e));
	if (e.size < sizeof(e) || e.size > t->code_capacity - off || e.qualname_len > WIRE_CODE_TEXT_MAX ||
	    e.filename_len > WIRE_CODE_TEXT_MAX || e.linetable_len > WIRE_CODE_TABLE_MAX ||
	    (uint64_t)e.qualname_len + e.filename_len + e.linetable_len > e.size - sizeof(e))
		return 0;
	at = off + sizeof(e);
	take(t, &at, e.qualname_len, c->qualname, 1);
	take(t, &at, e.filename_len, c->filename, 1);
	take(t, &at, e.linetable_len, c->linetable, 0);
	c->linetable_len = e.linetable_len;
	c->first_line = e.first_line;
	return 1;
}

uint32_t wiretables_modules_used(const struct wiretables *t)
{
	uint32_t used = __atomic_load_n(&t->hdr->modules_used, __ATOMIC_ACQUIRE);

	return used < t->module_capacity ? used : t->module_capacity;
}

int wiretables_module(const struct wiretables *t, uint32_t i, struct wiretables_module *m)
{
	const struct wire_module *e;

	if (i >= t->module_capacity)
		return 0;
	e = &t->modules[i];
	if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE))
		return 0;
	memcpy(m->path, e->path, sizeof(m->path));
	m->path[sizeof(m->path) - 1] = '\0';
	m->bias = e->bias;
	m->start = e->start;
	m->end = e->end;
	m->image = e->image;
	return 1;
}

int wiretables_stack_cut(const struct wiretables *t, uint32_t id)
{
	if (id == 0 || id > t->stack_slots)
		return 0;
	return (__atomic_load_n(&t->stacks[id - 1].ready, __ATOMIC_ACQUIRE) & WIRE_STACK_CUT) != 0;
}

uint32_t wiretables_stack(const struct wiretables *t, uint32_t id, const uint64_t **frames,
			  uint32_t *image)
{
	const struct wire_stack *slot;
	uint64_t first;
	uint32_t depth;

	if (id == 0 || id > t->stack_slots)
		return 0;
	slot = &t->stacks[id - 1];
	if (!__atomic_load_n(&slot->ready, __ATOMIC_ACQUIRE))
		return 0;
	first = slot->first;
	depth = slot->depth < WIRE_MAX_DEPTH ? slot->depth : WIRE_MAX_DEPTH;
	if (first + depth > t->frame_capacity)
		return 0;
	*frames = t->frames + first;
	*image = slot->image;
	return depth;
}

uint64_t wiretables_frames_used(const struct wiretables *t)
{
	uint64_t used = __atomic_load_n(&t->hdr->frames_used, __ATOMIC_ACQUIRE);

	return used < t->frame_capacity ? used : t->frame_capacity;
}

uint64_t wiretables_frame(const struct wiretables *t, uint64_t i)
{
	return i < t->frame_capacity ? __atomic_load_n(&t->frames[i], __ATOMIC_RELAXED) : 0;
}

uint32_t wiretables_image(const struct wiretables *t)
{
	return __atomic_load_n(&t->hdr->image, __ATOMIC_ACQUIRE);
}

int wiretables_next_module(struct wiretables_cursor *cur, const struct wiretables_module **m)
{
	if (cur->modules_done >= wiretables_modules_used(cur->t) ||
	    !wiretables_module(cur->t, cur->modules_done, &cur->module))
		return 0;
	cur->modules_done++;
	*m = &cur->module;
	return 1;
}

int wiretables_next_frame(struct wiretables_cursor *cur, uint32_t *image, uint64_t *ip)
{
	uint64_t v;

	if (cur->frames_done >= wiretables_frames_used(cur->t))
		return 0;
	v = wiretables_frame(cur->t, cur->frames_done);
	if (!v)
		return 0;
	cur->frames_done++;
	*image = wiretables_image(cur->t);
	*ip = v;
	return 1;
}
