/*
 * ctorreg.c - a program whose library (libregistry.so) allocates in its
 * constructor, before libheapwise.so's constructor runs: 8 entries of 48
 * bytes with a 100-byte name each, reachable from the library's global,
 * and a 4000-byte buffer freed later. The program itself leaks one block
 * of 77 bytes.
 */
#include <stdio.h>
#include <stdlib.h>

int registry_size(void);

int main(void)
{
	void *lost = malloc(77);

	printf("registry of %d\n", registry_size());
	lost = NULL;
	return lost != NULL;
}
