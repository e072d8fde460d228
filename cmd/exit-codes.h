/*
 * exit-codes.h - every exit status heapwise itself gives (heapwise run
 * gives the program's own, or --error-exitcode's). main() alone turns a
 * command's status into the process's.
 */
#ifndef HEAPWISE_EXIT_CODES_H
#define HEAPWISE_EXIT_CODES_H

enum {
	EXIT_OK = 0,		/* done as asked */
	EXIT_ERROR = 1,		/* could not: a message said why */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_GATE = 3,		/* a --fail-if or --fail-on condition held */
};

#endif
