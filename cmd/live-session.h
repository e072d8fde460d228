/*
 * live-session.h - one dashboard's conversation with a run: ask for the
 * profile, take in whatever comes back (a profile, a snapshot's answer,
 * the end), and keep the model up to date. Shared by tui.c and
 * live-batch.c.
 */
#ifndef HEAPWISE_LIVE_SESSION_H
#define HEAPWISE_LIVE_SESSION_H

#include "../report/profile/live-channel.h"
#include "live-model.h"
#include "live-ui.h"

struct live_session {
	int fd;				/* the channel */
	struct live_model model;
	int asked;			/* a profile is on its way */
	int busy;			/* a snapshot or scan is on its way */
	int ended;			/* the program ended (the last profile says how) */
	int written;			/* the run wrote its profile and let go of us */
	int closed;			/* the channel is gone */
	int ended_ok;			/* written: the profile is at `message` */
	char message[LIVE_TEXT_MAX];	/* LIVE_ENDED's text, or why the channel failed */
	struct live_msg result;		/* the last snapshot or scan answer */
	int has_result;			/* result is new: the caller clears it */
	const struct alloc_fns *alloc_fns;	/* the dashboard's --alloc-fn, for every profile */
};

/* Start on channel fd with o's grouping and sort; a dashboard that
 * launched the program marks its start (live_model.mark_at_start). */
void live_session_init(struct live_session *s, int fd, const struct live_options *o);
/* Close the channel, free the model. */
void live_session_release(struct live_session *s);

/* Ask for a profile unless one is on its way or the run is done. */
void live_session_ask(struct live_session *s);
/* Ask for a snapshot (scan set: with a leak scan). Returns 0, -ESRCH when
 * the program has ended, -EBUSY while one is on its way, -EPIPE when the
 * run is gone. */
int live_session_snapshot(struct live_session *s, int scan);

/*
 * Take in one message (the channel must be readable, or this blocks).
 * Returns 1 when a new profile went into the model (rebuilt), 0 for
 * anything else; s->closed tells when the run went away.
 */
int live_session_receive(struct live_session *s);

#endif
