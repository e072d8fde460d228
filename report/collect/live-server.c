/*
 * live-server.c - the run's half of the dashboards' channel (see
 * live-server.h): answered from the replay loop, never blocking it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../util/array.h"
#include "../util/clock.h"
#include "../util/proc.h"
#include "collector.h"
#include "live-server.h"

#define LIVE_META_MAX	16	/* pairs set by live_server_set and _add_meta */
#define POLL_EVERY_NS	5000000ull	/* look at the sockets this often */

struct live_server {
	int listen_fd;			/* -1 when only socketpairs are served */
	int *clients;			/* connected dashboards */
	size_t nclients, cap;
	char *meta[2 * LIVE_META_MAX];	/* key, value, ... */
	size_t nmeta;
	uint64_t next_poll_ns;
	int ended;			/* the program is gone: state "exited" */
};

int live_server_new(struct live_server **out, char err[PROFILE_ERRLEN])
{
	struct live_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa;
	socklen_t len;
	int ret;

	*out = NULL;
	if (!s) {
		snprintf(err, PROFILE_ERRLEN, "out of memory");
		return -ENOMEM;
	}
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		goto fail;
	len = live_address(&sa, getpid());
	if (bind(s->listen_fd, (struct sockaddr *)&sa, len) < 0 || listen(s->listen_fd, 8) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ret = -errno;
	snprintf(err, PROFILE_ERRLEN, "cannot listen for dashboards: %s", strerror(errno));
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
	return ret;
}

static void drop_client(struct live_server *s, size_t i)
{
	close(s->clients[i]);
	s->clients[i] = s->clients[--s->nclients];
}

void live_server_free(struct live_server *s)
{
	if (!s)
		return;
	while (s->nclients)
		drop_client(s, 0);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	for (size_t i = 0; i < s->nmeta; i++)
		free(s->meta[i]);
	free(s->clients);
	free(s);
}

int live_server_add(struct live_server *s, int fd)
{
	if (array_grow((void **)&s->clients, &s->cap, s->nclients + 1, sizeof(*s->clients)) < 0) {
		close(fd);
		return -ENOMEM;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	s->clients[s->nclients++] = fd;
	return 0;
}

void live_server_add_meta(struct live_server *s, const char *key, const char *value)
{
	if (s->nmeta + 2 > 2 * LIVE_META_MAX)
		return;
	s->meta[s->nmeta] = strdup(key);
	s->meta[s->nmeta + 1] = strdup(value);
	if (s->meta[s->nmeta] && s->meta[s->nmeta + 1]) {
		s->nmeta += 2;
	} else {
		free(s->meta[s->nmeta]);
		free(s->meta[s->nmeta + 1]);
	}
}

void live_server_set(struct live_server *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->nmeta; i += 2)
		if (!strcmp(s->meta[i], key)) {
			char *v = strdup(value);

			if (v) {
				free(s->meta[i + 1]);
				s->meta[i + 1] = v;
			}
			return;
		}
	live_server_add_meta(s, key, value);
}

/* Send m, with fd attached when fd >= 0. Returns 0 or -errno. */
static int send_msg(int sock, const struct live_msg *m, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* "exited with 3", "killed by SIGSEGV". */
static void describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?
			 sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
}

/* Answer LIVE_ASK_PROFILE: a fresh memfd holding the profile now. */
static int send_profile(struct live_server *s, struct collector *c, int sock)
{
	struct live_msg m = { .magic = LIVE_MAGIC, .type = LIVE_PROFILE };
	const char *meta[2 * LIVE_META_MAX + 8];
	char threads[32], status[64];
	size_t n = 0;
	int fd, ret;

	for (size_t i = 0; i < s->nmeta; i++)
		meta[n++] = s->meta[i];
	snprintf(threads, sizeof(threads), "%ld", s->ended ? 0 : proc_status(collector_pid(c), "Threads"));
	meta[n++] = "threads";
	meta[n++] = threads;
	meta[n++] = "state";
	meta[n++] = s->ended ? "exited" : "running";
	if (s->ended) {
		describe_status(collector_wait_status(c), status, sizeof(status));
		meta[n++] = "status";
		meta[n++] = status;
	}
	meta[n] = NULL;

	fd = memfd_create("heapwise-live", MFD_CLOEXEC);
	if (fd < 0) {
		m.status = -errno;
		snprintf(m.text, sizeof(m.text), "cannot create a memfd: %s", strerror(errno));
	} else if ((ret = collector_write_live(c, fd, meta, m.text)) < 0) {
		m.status = ret;
		close(fd);
		fd = -1;
	}
	ret = send_msg(sock, &m, fd);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Answer a snapshot or scan request. */
static int send_snapshot(struct collector *c, int sock, const struct live_msg *ask)
{
	struct live_msg m = { .magic = LIVE_MAGIC, .type = LIVE_RESULT };
	char label[LIVE_LABEL_MAX];

	snprintf(label, sizeof(label), "%.*s", (int)sizeof(label) - 1, ask->text);
	m.status = collector_snapshot_now(c, label, ask->type == LIVE_ASK_SCAN, &m.snap, m.text);
	return send_msg(sock, &m, -1);
}

/* Read and answer what one dashboard asked. Returns -1 to drop it. */
static int serve_client(struct live_server *s, struct collector *c, int sock)
{
	struct live_msg ask;

	for (;;) {
		ssize_t n = recv(sock, &ask, sizeof(ask), MSG_DONTWAIT);
		int ret = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n != (ssize_t)sizeof(ask) || ask.magic != LIVE_MAGIC)
			return -1;	/* gone, or not a dashboard of ours */
		ask.text[sizeof(ask.text) - 1] = '\0';
		switch (ask.type) {
		case LIVE_ASK_PROFILE:
			ret = send_profile(s, c, sock);
			break;
		case LIVE_ASK_SNAPSHOT:
		case LIVE_ASK_SCAN:
			if (s->ended) {
				struct live_msg m = { .magic = LIVE_MAGIC, .type = LIVE_RESULT, .status = -ESRCH };

				snprintf(m.text, sizeof(m.text), "the program has ended");
				ret = send_msg(sock, &m, -1);
			} else {
				ret = send_snapshot(c, sock, &ask);
			}
			break;
		default:
			return -1;
		}
		if (ret < 0)
			return -1;
	}
}

/* Let in whoever connected, if it is our user (or root). */
static void accept_clients(struct live_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != geteuid() && cred.uid != 0)) {
			close(fd);
			continue;
		}
		live_server_add(s, fd);
	}
}

void live_server_poll(struct live_server *s, struct collector *c)
{
	uint64_t now = monotonic_ns();

	if (!s || now < s->next_poll_ns)
		return;
	s->next_poll_ns = now + POLL_EVERY_NS;
	if (s->listen_fd >= 0)
		accept_clients(s);
	for (size_t i = 0; i < s->nclients;) {
		if (serve_client(s, c, s->clients[i]) < 0)
			drop_client(s, i);
		else
			i++;
	}
}

void live_server_program_ended(struct live_server *s, struct collector *c)
{
	if (!s)
		return;
	s->ended = 1;
	/* nobody new: the run is about to go */
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	for (size_t i = 0; i < s->nclients;) {
		if (serve_client(s, c, s->clients[i]) < 0 || send_profile(s, c, s->clients[i]) < 0)
			drop_client(s, i);
		else
			i++;
	}
}

void live_server_profile_written(struct live_server *s, int ok, const char *path)
{
	struct live_msg m = { .magic = LIVE_MAGIC, .type = LIVE_ENDED, .status = ok ? 0 : -EIO };

	if (!s)
		return;
	snprintf(m.text, sizeof(m.text), "%s", path);
	while (s->nclients) {
		send_msg(s->clients[0], &m, -1);
		drop_client(s, 0);
	}
}

