/*
 * pyframes.c - a running Python program's frames, read from the stopped
 * program for its scan (see pyframes.h): each thread's chain of frames,
 * each frame's code object, its locals' names, and where each local's
 * value is, so that a root there is named "frame work, local 'session'".
 * Read in batches (remoteread.h); what does not hold together (a code
 * object of another type, a name that is no str) is left out, and every
 * chain is bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/addrsort.h"
#include "../util/array.h"
#include "pydict.h"
#include "pyframes.h"
#include "remoteread.h"

#define FRAMES_MAX	10000	/* frames read at most, of all the threads: each
				 * costs reads while the program is stopped */
#define LOCALS_MAX	256	/* a code object's locals named at most */
#define FRAME_HEAD	80	/* what is read of a frame, its locals past it */
#define CODE_HEAD	160	/* ... and of its code object */
#define TUPLE_ITEMS	24	/* a tuple's items */

static int add_text(struct py_globals *g, char *text, size_t *cap)
{
	if (!text)
		return -1;
	if (array_grow((void **)&g->texts, cap, g->ntexts + 1, sizeof(*g->texts)) < 0) {
		free(text);
		return -ENOMEM;
	}
	g->texts[g->ntexts++] = text;
	return 0;
}

/* Name the locals of the frame at frame, of code object code. */
static int name_locals(pid_t pid, uint32_t version, const struct wire_py_frames *f, uint64_t frame, uint64_t code,
		       struct py_globals *g, size_t *items_cap, size_t *texts_cap)
{
	uint8_t head[CODE_HEAD];
	struct remote_piece p = { code, sizeof(head), head, 0 };
	uint64_t names, strs[1 + LOCALS_MAX];	/* its qualname, then its locals' names */
	char *text[1 + LOCALS_MAX] = { NULL };
	int32_t n;
	int ret = 0;

	if (f->nlocalsplus + 4 > CODE_HEAD || f->localsplusnames + 8 > CODE_HEAD || f->qualname + 8 > CODE_HEAD)
		return 0;
	remote_read(pid, &p, 1);
	if (!p.ok)
		return 0;
	memcpy(&n, head + f->nlocalsplus, 4);
	memcpy(&names, head + f->localsplusnames, 8);
	memcpy(&strs[0], head + f->qualname, 8);
	if (n <= 0 || !names)
		return 0;
	if (n > LOCALS_MAX)
		n = LOCALS_MAX;
	/* its qualname first: a code object whose qualname is no str names nothing */
	if (pydict_read_strs(pid, version, strs, 1, text) < 0)
		return -ENOMEM;
	if (!text[0])
		return 0;
	p = (struct remote_piece){ names + TUPLE_ITEMS, 8 * (size_t)n, (uint8_t *)(strs + 1), 0 };
	remote_read(pid, &p, 1);
	if (!p.ok || pydict_read_strs(pid, version, strs + 1, (size_t)n, text + 1) < 0) {
		free(text[0]);
		return p.ok ? -ENOMEM : 0;
	}
	for (int32_t i = 0; i < n && ret != -ENOMEM; i++) {
		char *local = NULL;

		if (!text[1 + i])
			continue;
		if (asprintf(&local, "frame %s, local '%s'", text[0], text[1 + i]) < 0)
			local = NULL;
		if ((ret = add_text(g, local, texts_cap)) < 0)
			continue;
		if (array_grow((void **)&g->items, items_cap, g->n + 1, sizeof(*g->items)) < 0)
			ret = -ENOMEM;
		else
			g->items[g->n++] = (struct py_global){ frame + f->localsplus + 8 * (uint64_t)i, 1,
							       (uint32_t)(g->ntexts - 1) };
	}
	for (int32_t i = 0; i <= n; i++)
		free(text[i]);
	return ret == -ENOMEM ? ret : 0;
}

/* One thread's frames, innermost first. */
static int thread_frames(pid_t pid, uint32_t version, const struct wire_py_frames *f, uint64_t tstate,
			 struct py_globals *g, size_t *items_cap, size_t *texts_cap, unsigned *budget)
{
	uint64_t frame = 0, at = tstate;

	if (f->tstate_cframe >= 0 && remote_read_word(pid, tstate + (uint64_t)f->tstate_cframe, &at) < 0)
		return 0;
	if (!at || remote_read_word(pid, at + f->current_frame, &frame) < 0)
		return 0;
	for (; frame && *budget; --*budget) {
		uint8_t head[FRAME_HEAD];
		struct remote_piece p = { frame, sizeof(head), head, 0 };
		uint64_t code, type = 0, previous;
		int ret;

		remote_read(pid, &p, 1);
		if (!p.ok)
			break;
		memcpy(&code, head + f->code, 8);
		memcpy(&previous, head + f->previous, 8);
		if (head[f->owner] != (uint8_t)f->owner_cstack && code && remote_read_word(pid, code + 8, &type) == 0 &&
		    type == f->code_type && (ret = name_locals(pid, version, f, frame, code, g, items_cap, texts_cap)) < 0)
			return ret;
		frame = previous;
	}
	return 0;
}

size_t pyframes_threads(pid_t pid, const struct wire_header *h, uint64_t out[PYTHREADS_MAX])
{
	uint64_t head = __atomic_load_n(&h->python_threads, __ATOMIC_ACQUIRE), tstate = 0;
	uint32_t next = __atomic_load_n(&h->python_tstate_next, __ATOMIC_ACQUIRE);
	size_t n = 0;

	if (!head || next >= 4096 || remote_read_word(pid, head, &tstate) < 0)
		return 0;
	while (tstate && n < PYTHREADS_MAX) {
		out[n++] = tstate;
		if (remote_read_word(pid, tstate + next, &tstate) < 0)
			break;
	}
	return n;
}

int pyframes_read(pid_t pid, uint32_t version, const struct wire_header *h, struct py_globals *g)
{
	struct wire_py_frames f;
	uint64_t *tstates;
	size_t items_cap = g->n, texts_cap = g->ntexts, n;
	unsigned budget = FRAMES_MAX;
	int ret = 0;

	memcpy(&f, &h->python_frames, sizeof(f));	/* the program's to write: read once */
	if (!f.code_type || f.current_frame >= 4096 || f.previous + 8 > FRAME_HEAD || f.code + 8 > FRAME_HEAD ||
	    f.owner >= FRAME_HEAD || f.localsplus > 4096 || f.tstate_cframe >= 4096)
		return 0;
	if (!(tstates = malloc(PYTHREADS_MAX * sizeof(*tstates))))
		return -ENOMEM;
	n = pyframes_threads(pid, h, tstates);
	for (size_t k = 0; k < n && budget && ret == 0; k++)
		ret = thread_frames(pid, version, &f, tstates[k], g, &items_cap, &texts_cap, &budget);
	free(tstates);
	if (ret == 0)
		ret = sort_by_addr(g->items, g->n, sizeof(*g->items));
	return ret;
}
