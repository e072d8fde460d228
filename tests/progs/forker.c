/*
 * forker.c - the parent allocates 10 blocks of 1000 bytes (5 freed), forks a
 * child that allocates and frees 5000 blocks and leaks 50, and waits. The
 * parent's profile must show only its own 10 allocations and 5 frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	void *mine[10];
	pid_t pid;
	int status;

	for (int i = 0; i < 10; i++)
		mine[i] = malloc(1000);
	for (int i = 0; i < 5; i++)
		free(mine[i]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5000; i++)
			free(malloc(24));
		for (int i = 0; i < 50; i++)
			if (!malloc(24))
				_exit(1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
