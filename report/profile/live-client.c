/*
 * live-client.c - the dashboard's half of the channel to a running
 * `heapwise run` (see live-channel.h for the protocol).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../util/proc.h"
#include "live-channel.h"

/* The abstract address of the run with that pid; returns its length. */
socklen_t live_address(struct sockaddr_un *sa, pid_t pid)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "heapwise-live.%d", (int)pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Connect to the run whose pid is at; -errno when it is not one. */
static int try_connect(pid_t at)
{
	struct sockaddr_un sa;
	socklen_t len = live_address(&sa, at);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* an abstract name can be taken by anyone: make sure it is that run */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.pid != at) {
		close(fd);
		return -EPERM;
	}
	/* the run lets in its own user and root only: it would hang up on us */
	if (cred.uid != geteuid() && geteuid() != 0) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

int live_connect(pid_t pid, pid_t *run_pid, char err[PROFILE_ERRLEN])
{
	pid_t at = pid;

	for (int hops = 0; at > 1 && hops < 64; hops++) {
		int fd = try_connect(at);

		if (fd >= 0) {
			*run_pid = at;
			return fd;
		}
		if (fd == -EACCES) {
			snprintf(err, PROFILE_ERRLEN, "process %d is traced by heapwise run %d of another user: "
				 "only that user or root can watch it", (int)pid, (int)at);
			return fd;
		}
		at = proc_parent(at);
	}
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		snprintf(err, PROFILE_ERRLEN, "no process %d", (int)pid);
		return -ESRCH;
	}
	snprintf(err, PROFILE_ERRLEN, "process %d is not traced by heapwise run (or is not ours to watch)",
		 (int)pid);
	return -ENOENT;
}

int live_ask(int fd, enum live_type type, const char *text)
{
	struct live_msg m = { .magic = LIVE_MAGIC, .type = (uint32_t)type };

	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int live_receive(int fd, struct live_msg *m, struct profile *p, int *has_profile,
		 char err[PROFILE_ERRLEN])
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cm;
	int pfd = -1, ret;
	ssize_t n;

	*has_profile = 0;
	while ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		if (errno == ECONNRESET)
			return 0;
		ret = -errno;
		snprintf(err, PROFILE_ERRLEN, "cannot read from heapwise run: %s", strerror(errno));
		return ret;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&pfd, CMSG_DATA(cm), sizeof(int));
	if (n == 0) {
		if (pfd >= 0)
			close(pfd);
		return 0;
	}
	if (n != (ssize_t)sizeof(*m) || m->magic != LIVE_MAGIC) {
		if (pfd >= 0)
			close(pfd);
		snprintf(err, PROFILE_ERRLEN, "heapwise run sent a message this heapwise does not understand");
		return -EPROTO;
	}
	m->text[sizeof(m->text) - 1] = '\0';
	if (m->type == LIVE_PROFILE && pfd >= 0 && m->status == 0) {
		ret = profile_read_fd(p, pfd, "the live profile", err);
		close(pfd);
		if (ret < 0)
			return ret;
		*has_profile = 1;
	} else if (pfd >= 0) {
		close(pfd);
	}
	return 1;
}
