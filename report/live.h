/*
 * live.h - the channel between a running `heapwise run` and the
 * dashboards that watch it (`heapwise live`).
 *
 * heapwise run listens on an abstract Unix socket named after its own pid
 * ("heapwise-live.PID", SOCK_SEQPACKET: one message per send, no files
 * left behind). A dashboard connects, asks, and is answered; it never
 * touches the rings, so any number may come and go while the program
 * runs, and closing one leaves the run as it was. Only the same user (or
 * root) is let in.
 *
 * A profile goes over as a memfd holding a profile file (the .hws format,
 * checked by the same reader), passed with SCM_RIGHTS: no copy through the
 * socket and no framing of our own.
 */
#ifndef HEAPWISE_LIVE_H
#define HEAPWISE_LIVE_H

#include <stdint.h>
#include <sys/types.h>

#include "collector.h"
#include "profile.h"

#define LIVE_MAGIC	0x484c5631u	/* "HLV1" */
#define LIVE_TEXT_MAX	1024

enum live_type {
	LIVE_ASK_PROFILE = 1,	/* dashboard: the profile now, please */
	LIVE_ASK_SNAPSHOT = 2,	/* dashboard: take a snapshot; text = its label or "" */
	LIVE_ASK_SCAN = 3,	/* dashboard: a snapshot with a leak scan; text = label */
	LIVE_PROFILE = 16,	/* run: a memfd with the live profile is attached */
	LIVE_RESULT = 17,	/* run: the answer to a snapshot or scan; status, snap, text */
	LIVE_ENDED = 18,	/* run: the profile file is written; text = its path, or why not */
};

struct live_msg {
	uint32_t magic;		/* LIVE_MAGIC */
	uint32_t type;		/* enum live_type */
	int32_t status;		/* 0, or -errno: text says why */
	uint32_t pad;
	struct collector_snapshot_info snap;	/* LIVE_RESULT */
	char text[LIVE_TEXT_MAX];
};

/* ------------------------------------------------------------------ */
/* The run's side                                                      */
/* ------------------------------------------------------------------ */

struct live_server;

/*
 * Listen for dashboards on the socket of this process. Returns 0, or
 * -errno with err filled (the caller may go on without one).
 */
int live_server_new(struct live_server **out, char err[PROFILE_ERRLEN]);
void live_server_free(struct live_server *s);

/* A dashboard already connected (one end of a socketpair); s owns fd. */
int live_server_add(struct live_server *s, int fd);

/* Information sent with every profile (as its meta): "command", "output",
 * "profile". value is copied. */
void live_server_set(struct live_server *s, const char *key, const char *value);

/*
 * Take in new dashboards and answer what they asked, without blocking
 * (a snapshot or scan asked for is taken here, on the caller's thread,
 * which must be the one that started the program). Cheap when nothing
 * happened: call it from the replay loop.
 */
void live_server_poll(struct live_server *s, struct collector *c);

/* The program ended (collector_finish was called): send every dashboard
 * the final profile, with its exit status. */
void live_server_program_ended(struct live_server *s, struct collector *c);

/* The profile file was written to path (or, ok clear, could not be:
 * path is then the reason); tell the dashboards and let them go. */
void live_server_profile_written(struct live_server *s, int ok, const char *path);

/* ------------------------------------------------------------------ */
/* The dashboard's side                                                */
/* ------------------------------------------------------------------ */

/*
 * Connect to the heapwise run that pid is, or runs (pid may be the traced
 * program, or any of its descendants). Returns a socket, or -errno with
 * err filled.
 */
int live_connect(pid_t pid, pid_t *run_pid, char err[PROFILE_ERRLEN]);

/* Ask for something (type LIVE_ASK_*, text may be NULL). 0 or -errno. */
int live_ask(int fd, enum live_type type, const char *text);

/*
 * Receive one message. For LIVE_PROFILE the profile is read into *p
 * (profile_init'ed by us; release it). Returns 1 with *m filled, 0 when the
 * run closed the channel, -errno on error (err says why).
 */
int live_receive(int fd, struct live_msg *m, struct profile *p, int *has_profile,
		 char err[PROFILE_ERRLEN]);

#endif
