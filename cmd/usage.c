/*
 * usage.c - the messages heapwise writes (see usage.h), and option value parsing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "usage.h"

static void say(const char *kind, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (kind)
		fprintf(stderr, "heapwise: %s: ", kind);
	else
		fputs("heapwise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error", fmt, ap);
	va_end(ap);
	return EXIT_ERROR;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("warning", fmt, ap);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(NULL, fmt, ap);
	va_end(ap);
}

int debugging(void)
{
	return getenv("HEAPWISE_DEBUG") != NULL;
}

void debug(const char *fmt, ...)
{
	va_list ap;

	if (!debugging())
		return;
	va_start(ap, fmt);
	say("debug", fmt, ap);
	va_end(ap);
}

int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s", usage);
	return EXIT_USAGE;
}

int parse_number(const char *s, unsigned long long min, unsigned long long max,
		 unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
