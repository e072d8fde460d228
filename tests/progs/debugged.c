/*
 * debugged.c - a program already under a tracer, as under gdb or strace.
 *
 * It forks a child that seizes it with ptrace and forwards its signals (a
 * small debugger), leaks 64 bytes and exits with code 5. A second tracer
 * (heapwise's exit scan) must be refused without the program hanging.
 * `debugged nodump` has no debugger but makes itself non-dumpable, which
 * forbids ptrace to anyone but root.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

static void debugger(pid_t target, int ready)
{
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ptrace(PTRACE_SEIZE, target, NULL, NULL) < 0)
		_exit(1);
	if (write(ready, "y", 1) != 1)
		_exit(1);
	while (waitpid(target, &status, __WALL) == target) {
		int sig = 0;

		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WIFSTOPPED(status) && (status >> 16) == 0)
			sig = WSTOPSIG(status);
		ptrace(PTRACE_CONT, target, NULL, (void *)(long)sig);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int ready[2];
	char c;
	char *volatile leak;

	if (argc > 1 && strcmp(argv[1], "nodump") == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		leak = malloc(64);
		memset(leak, 0, 64);
		return 5;
	}
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
	if (pipe(ready) < 0)
		return 1;
	if (fork() == 0)
		debugger(getppid(), ready[1]);
	if (read(ready[0], &c, 1) != 1)
		return 1;
	leak = malloc(64);
	memset(leak, 0, 64);
	leak = NULL;
	return 5;
}
