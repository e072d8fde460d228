/*
 * usage.h - the one place heapwise writes messages to the user, on
 * stderr: "heapwise: error: ...", "heapwise: warning: ...", "heapwise: ..."
 * (a note), "heapwise: debug: ..." (only with HEAPWISE_DEBUG set). Problem
 * first, subject in quotes, no final full stop. report/ never prints: it
 * returns -errno and a message for these to say.
 */
#ifndef HEAPWISE_USAGE_H
#define HEAPWISE_USAGE_H

#include "exit-codes.h"

/* Print "heapwise: error: MSG" and return EXIT_ERROR. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "heapwise: warning: MSG". */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "heapwise: MSG": what the user should know, not a problem. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Is HEAPWISE_DEBUG set (to anything, as the tracer reads it)? */
int debugging(void);
/* Print "heapwise: debug: MSG" when debugging. */
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "heapwise: error: MSG", then the usage text, and return EXIT_USAGE. */
int usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int parse_number(const char *s, unsigned long long min, unsigned long long max,
		 unsigned long long *out);

#endif
