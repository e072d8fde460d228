/*
 * forkleak.c - a parent and the children it forks, for --follow-fork.
 *
 * The parent keeps a list of 3 nodes (48 bytes each) in a global and
 * leaks nothing. What the child does depends on argv[1]:
 *   leak      append a node of its own to the parent's list (reachable only
 *             through the blocks it inherited), leak 100 bytes, exit(3)
 *   nest      fork a grandchild that does "leak", wait for it, exit(0)
 *   exec P    exec P (no allocation of its own before)
 *   spawn P   (the parent) posix_spawn P instead of forking
 * The parent waits and prints "child N" with the child's exit code.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct node {
	struct node *next;
	char name[40];
};

static struct node *list;

static void push(const char *name)
{
	struct node *n = malloc(sizeof(*n));

	n->next = list;
	snprintf(n->name, sizeof(n->name), "%s", name);
	list = n;
}

static void leak_in_child(void)
{
	char *lost = malloc(100);

	memset(lost, 'x', 100);
	push("the child's");
	lost = NULL;
	exit(3);
}

static int wait_for(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "leak";
	pid_t pid;

	for (int i = 0; i < 3; i++)
		push("the parent's");
	fflush(stdout);
	if (strcmp(mode, "spawn") == 0) {
		char *args[] = { argv[2], NULL };

		if (argc < 3 || posix_spawn(&pid, argv[2], NULL, NULL, args, environ) != 0)
			return 2;
		printf("child %d\n", wait_for(pid));
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (strcmp(mode, "exec") == 0 && argc > 2) {
			execl(argv[2], argv[2], (char *)NULL);
			_exit(127);
		}
		if (strcmp(mode, "nest") == 0) {
			pid_t grandchild = fork();

			if (grandchild == 0)
				leak_in_child();
			exit(wait_for(grandchild) == 3 ? 0 : 1);
		}
		leak_in_child();
	}
	printf("child %d\n", wait_for(pid));
	return 0;
}
