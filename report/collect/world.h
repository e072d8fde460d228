/*
 * world.h - stop every thread of a process with ptrace, and let it go.
 *
 * The reachability scan reads a program's memory and registers while none
 * of its threads runs. Threads are seized (PTRACE_SEIZE, no SIGSTOP is
 * sent) and interrupted, so a program is never left stopped: detaching
 * resumes it, and if heapwise dies the kernel detaches it all the same.
 * A signal that arrived while a thread was held is handed back to it.
 */
#ifndef HEAPWISE_WORLD_H
#define HEAPWISE_WORLD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define WORLD_ERRLEN	256

struct world_thread {
	pid_t tid;
	int pending_signal;		/* to deliver when we let go */
	struct user_regs_struct regs;	/* general registers */
	uint8_t *xstate;		/* FPU/SSE/AVX state (NT_X86_XSTATE or NT_PRFPREG) */
	size_t xstate_len;
};

struct world {
	pid_t pid;
	struct world_thread *threads;	/* the ones stopped */
	size_t n, cap;
	int program_ended;		/* the process ended while we held it */
	int program_status;		/* then its wait status (we reaped it) */
};

/*
 * Stop every thread of pid (our child). Returns 0; or -EPERM when ptrace is
 * refused (another tracer, a policy), -ESRCH when the program ended,
 * -ETIMEDOUT when a thread would not stop, with err saying why. On failure
 * nothing stays stopped.
 */
int world_stop(struct world *w, pid_t pid, char err[WORLD_ERRLEN]);

/* Let every thread go on, with its pending signal. Safe to call twice. */
void world_resume(struct world *w);

#endif
