/*
 * crasher.c - allocates 7 blocks of 300 bytes, frees 2, then dies of SIGSEGV.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	void *b[7];

	for (int i = 0; i < 7; i++)
		b[i] = malloc(300);
	free(b[0]);
	free(b[1]);
	fprintf(stderr, "crasher: about to crash\n");
	raise(SIGSEGV);
	return 0;
}
