/*
 * usage.h - the one place heapwise writes messages to the user.
 * "heapwise: error: ..." on stderr; problem first, subject in quotes.
 */
#ifndef HEAPWISE_USAGE_H
#define HEAPWISE_USAGE_H

#define EXIT_USAGE	2	/* bad command line */

/* Print "heapwise: error: MSG" and return 1 (the error exit status). */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "heapwise: warning: MSG". */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "heapwise: error: MSG", then the usage text, and return EXIT_USAGE. */
int usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int parse_number(const char *s, unsigned long long min, unsigned long long max,
		 unsigned long long *out);

#endif
