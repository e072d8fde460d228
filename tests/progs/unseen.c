/*
 * unseen.c - frees the tracer cannot see: glibc's __libc_free called
 * directly. Each address comes back at once from the next malloc, so the
 * collector must settle the old block when the address is handed out
 * again, and keep the new one.
 *   5 x (malloc 100, unseen free, malloc 104 at the same address, free)
 *   then malloc 77, live at exit (with glibc's stdout buffer).
 * Prints how many addresses came back (5 expected).
 */
#include <stdio.h>
#include <stdlib.h>

void __libc_free(void *p);

int main(void)
{
	int reused = 0;

	for (int i = 0; i < 5; i++) {
		void *p = malloc(100);

		__libc_free(p);
		void *q = malloc(104);	/* same 112-byte chunk */

		reused += p == q;
		free(q);
	}
	void *keep = malloc(77);

	printf("%d %d\n", reused, keep != NULL);
	return 0;
}
