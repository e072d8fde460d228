/*
 * live-channel.h - the channel between a running `heapwise run` and the
 * dashboards that watch it (`heapwise live`): its messages, and the
 * dashboard's half. The run's half is collect/live-server.h.
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
#ifndef HEAPWISE_LIVE_CHANNEL_H
#define HEAPWISE_LIVE_CHANNEL_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "leak-kinds.h"
#include "profile.h"

#define LIVE_MAGIC	0x484c5631u	/* "HLV1" */
#define LIVE_TEXT_MAX	1024
#define LIVE_LABEL_MAX	64	/* bytes of a snapshot's name, with its NUL */

enum live_type {
	LIVE_ASK_PROFILE = 1,	/* dashboard: the profile now, please */
	LIVE_ASK_SNAPSHOT = 2,	/* dashboard: take a snapshot; text = its label or "" */
	LIVE_ASK_SCAN = 3,	/* dashboard: a snapshot with a leak scan; text = label */
	LIVE_PROFILE = 16,	/* run: a memfd with the live profile is attached */
	LIVE_RESULT = 17,	/* run: the answer to a snapshot or scan; status, snap, text */
	LIVE_ENDED = 18,	/* run: the profile file is written; text = its path, or why not */
};

/* A snapshot taken while the program runs, as the run took it. */
struct live_snapshot_info {
	char name[LIVE_LABEL_MAX];
	uint64_t t_ns;			/* since the start */
	uint64_t blocks, bytes;		/* estimates when sample_rate is set */
	uint64_t sample_rate;		/* the run's --sample-rate, 0 when exact */
	int scanned;			/* stop_ns is set, and kinds if counted */
	uint64_t stop_ns;		/* how long the scan held the program */
	struct leak_count kinds[LEAK_KINDS];
};

struct live_msg {
	uint32_t magic;		/* LIVE_MAGIC */
	uint32_t type;		/* enum live_type */
	int32_t status;		/* 0, or -errno: text says why */
	uint32_t pad;
	struct live_snapshot_info snap;	/* LIVE_RESULT */
	char text[LIVE_TEXT_MAX];
};

/* The abstract socket address of the run with that pid; returns its length. */
socklen_t live_address(struct sockaddr_un *sa, pid_t pid);

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
