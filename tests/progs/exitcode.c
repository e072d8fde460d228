/* exitcode.c - prints its arguments on stdout and exits with argv[1]. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	free(malloc(10));
	return argc > 1 ? atoi(argv[1]) : 0;
}
