/*
 * embed.c - a C program that embeds Python: it runs a function that keeps
 * 50,000 strings, then asks heapwise (argv[1]) for a snapshot named "tm"
 * while they live. heapwise must see the interpreter inside it and charge
 * the strings to their Python line (t0650-python.sh builds it against
 * pyenv's libpython3.11).
 */
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char cmd[4096];

	if (argc != 2)
		return 2;
	Py_Initialize();
	if (PyRun_SimpleString("def grow(n):\n"
			       "    return ['%06d' % i * 3 for i in range(n)]\n"
			       "keep = grow(50000)\n") != 0)
		return 1;
	snprintf(cmd, sizeof(cmd), "%s snapshot --label tm %d > /dev/null", argv[1], (int)getpid());
	if (system(cmd) != 0)
		return 1;
	return Py_FinalizeEx() < 0 ? 1 : 0;
}
