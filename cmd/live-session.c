/*
 * live-session.c - a dashboard's side of the channel to a run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "live-session.h"

void live_session_init(struct live_session *s, int fd, const struct live_options *o)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	live_model_init(&s->model, o->by, o->sort);
	s->model.mark_at_start = o->launched;
	s->alloc_fns = &o->alloc_fns;
}

void live_session_release(struct live_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	live_model_release(&s->model);
}

void live_session_ask(struct live_session *s)
{
	if (s->asked || s->closed || s->ended)
		return;
	if (live_ask(s->fd, LIVE_ASK_PROFILE, NULL) < 0) {
		s->closed = 1;
		return;
	}
	s->asked = 1;
}

int live_session_snapshot(struct live_session *s, int scan)
{
	if (s->ended)
		return -ESRCH;
	if (s->busy)
		return -EBUSY;
	if (s->closed || live_ask(s->fd, scan ? LIVE_ASK_SCAN : LIVE_ASK_SNAPSHOT, "") < 0) {
		s->closed = 1;
		return -EPIPE;
	}
	s->busy = 1;
	return 0;
}

int live_session_receive(struct live_session *s)
{
	struct live_msg m;
	struct profile p;
	char err[PROFILE_ERRLEN];
	int has_profile, ret;

	memset(&p, 0, sizeof(p));
	ret = live_receive(s->fd, &m, &p, &has_profile, err);
	if (ret <= 0) {
		if (!s->written)
			snprintf(s->message, sizeof(s->message), "%s",
				 ret < 0 ? err : "heapwise run went away without a word");
		s->closed = 1;
		return 0;
	}
	switch (m.type) {
	case LIVE_PROFILE:
		s->asked = 0;
		if (!has_profile) {
			snprintf(s->message, sizeof(s->message), "%s", m.text);
			return 0;
		}
		if (s->ended) {
			/* the end comes once more when a question crossed it */
			profile_release(&p);
			return 0;
		}
		if (alloc_fns_apply(s->alloc_fns, &p) != 0 || live_model_push(&s->model, &p) < 0) {
			profile_release(&p);
			return 0;
		}
		s->ended = !strcmp(live_model_meta(&s->model, "state"), "exited");
		live_model_rebuild(&s->model);
		return 1;
	case LIVE_RESULT:
		s->busy = 0;
		s->result = m;
		s->has_result = 1;
		return 0;
	case LIVE_ENDED:
		s->written = 1;
		s->ended_ok = m.status == 0;
		snprintf(s->message, sizeof(s->message), "%s", m.text);
		return 0;
	default:
		return 0;
	}
}
