/*
 * world.c - stop all threads of a process with PTRACE_SEIZE and
 * PTRACE_INTERRUPT, read their registers, and detach again.
 *
 * Threads are listed from /proc/PID/task, seized and interrupted, and the
 * listing is repeated until a pass finds no thread it did not hold already
 * (a running thread may have started another meanwhile). A stop is waited
 * for with a deadline, so a thread stuck in the kernel cannot hang us.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../util/array.h"
#include "../util/clock.h"
#include "../util/proc.h"
#include "world.h"

#define MAX_PASSES	30
#define STOP_TIMEOUT_NS	(5ull * 1000000000ull)
#define XSTATE_MAX	16384

static int holds(const struct world *w, pid_t tid)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->threads[i].tid == tid)
			return 1;
	return 0;
}

static void explain_refusal(pid_t pid, int errnum, char err[WORLD_ERRLEN])
{
	long tracer = proc_status(pid, "TracerPid");
	char path[64];
	struct stat st;
	int scope = -1;
	FILE *f;

	if (tracer > 0) {
		snprintf(err, WORLD_ERRLEN, "the program is already traced by process %ld (a debugger or "
			 "strace?), and a process has only one tracer", tracer);
		return;
	}
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	/* the files of a non-dumpable process are root's (proc(5)) */
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if (scope >= 2)
		snprintf(err, WORLD_ERRLEN, "ptrace is restricted on this system (kernel.yama.ptrace_scope = %d)", scope);
	else if (geteuid() != 0 && stat(path, &st) == 0 && st.st_uid != geteuid())
		snprintf(err, WORLD_ERRLEN, "ptrace was refused: the program made itself non-dumpable "
			 "(prctl PR_SET_DUMPABLE) or changed its user, and heapwise is not root");
	else
		snprintf(err, WORLD_ERRLEN, "ptrace was refused: %s", strerror(errnum));
}

/* Wait for tid's stop. Returns 1 stopped, 0 the thread is gone, -ETIMEDOUT. */
static int wait_stop(struct world *w, struct world_thread *t, uint64_t deadline)
{
	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r == t->tid) {
			if (WIFSTOPPED(status)) {
				/* a signal-delivery stop: the signal is the program's, give it back */
				if ((status >> 16) == 0 && WSTOPSIG(status) != SIGSTOP)
					t->pending_signal = WSTOPSIG(status);
				return 1;
			}
			if (t->tid == w->pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
				w->program_ended = 1;
				w->program_status = status;
			}
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return 0;
		if (monotonic_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
}

static void read_registers(struct world_thread *t)
{
	struct iovec iov = { &t->regs, sizeof(t->regs) };

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &iov) < 0)
		memset(&t->regs, 0, sizeof(t->regs));
	t->xstate = malloc(XSTATE_MAX);
	if (!t->xstate)
		return;
	iov = (struct iovec){ t->xstate, XSTATE_MAX };
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0) {
		iov = (struct iovec){ t->xstate, XSTATE_MAX };
		if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRFPREG, &iov) < 0)
			iov.iov_len = 0;
	}
	t->xstate_len = iov.iov_len;
}

/* One pass over /proc/PID/task: seize and stop every thread not held yet.
 * Returns how many were added, or -errno. */
static int stop_pass(struct world *w, char err[WORLD_ERRLEN])
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int added = 0, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)w->pid);
	dir = opendir(path);
	if (!dir) {
		snprintf(err, WORLD_ERRLEN, "the program ended");
		return -ESRCH;
	}
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);
		struct world_thread *t;
		int r;

		if (tid <= 0 || holds(w, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
			if (errno == ESRCH)
				continue;	/* it just exited */
			explain_refusal(w->pid, errno, err);
			ret = -EPERM;
			break;
		}
		if (array_grow((void **)&w->threads, &w->cap, w->n + 1, sizeof(*w->threads)) < 0) {
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			snprintf(err, WORLD_ERRLEN, "out of memory");
			ret = -ENOMEM;
			break;
		}
		t = &w->threads[w->n];
		memset(t, 0, sizeof(*t));
		t->tid = tid;
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			continue;
		}
		r = wait_stop(w, t, monotonic_ns() + STOP_TIMEOUT_NS);
		if (r < 0) {
			w->n++;	/* still ours: detached with the others */
			snprintf(err, WORLD_ERRLEN, "thread %d did not stop within %llu s (stuck in the kernel?)",
				 (int)tid, STOP_TIMEOUT_NS / 1000000000ull);
			ret = r;
			break;
		}
		if (r == 0)
			continue;	/* gone while we waited */
		read_registers(t);
		w->n++;
		added++;
	}
	closedir(dir);
	return ret < 0 ? ret : added;
}

int world_stop(struct world *w, pid_t pid, char err[WORLD_ERRLEN])
{
	int ret = 0, pass;

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	for (pass = 0; pass < MAX_PASSES; pass++) {
		ret = stop_pass(w, err);
		if (ret <= 0)
			break;
	}
	if (ret == 0 && w->n == 0) {
		snprintf(err, WORLD_ERRLEN, "the program ended");
		ret = -ESRCH;
	}
	if (ret > 0 || w->program_ended) {
		snprintf(err, WORLD_ERRLEN, w->program_ended ? "the program ended"
			 : "the program kept starting threads while being stopped");
		ret = w->program_ended ? -ESRCH : -EAGAIN;
	}
	if (ret < 0) {
		world_resume(w);
		return ret;
	}
	return 0;
}

void world_resume(struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct world_thread *t = &w->threads[i];

		if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_signal) < 0 &&
		    errno == ESRCH && t->tid != w->pid) {
			int status;

			/* it died while held: reap it as its tracer, or it lingers */
			waitpid(t->tid, &status, __WALL | WNOHANG);
		}
		free(t->xstate);
	}
	free(w->threads);
	w->threads = NULL;
	w->n = w->cap = 0;
}
