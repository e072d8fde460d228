/* static-hello.c - a statically linked program heapwise must refuse. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
