/*
 * format.c - numbers the way reports print them (see format.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

void format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

void format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000000ull)
		snprintf(buf, len, "%llu ms", (unsigned long long)(ns / 1000000));
	else
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
}

void format_commas(uint64_t v, char *buf, size_t len)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	size_t at = 0;

	for (int i = 0; i < n && at + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[at++] = ',';
		buf[at++] = digits[i];
	}
	buf[at] = '\0';
}

/* Profiles keep no control character (profile.c calls this on every
 * string it interns or reads), nor do the names heapwise run prints from
 * the program's memory or /proc. */
void format_make_printable(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b && (b < 0x20 || b == 0x7f))
			s[i] = '?';
		else if (b == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
			 (unsigned char)s[i + 1] <= 0x9f) {
			s[i] = s[i + 1] = '?';
			i++;
		}
	}
}

static int only_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

int format_parse_bytes(const char *s, int64_t *out, char *why, size_t len)
{
	static const struct { const char *unit; int64_t scale; } units[] = {
		{ "KiB", 1ll << 10 }, { "MiB", 1ll << 20 }, { "GiB", 1ll << 30 }, { "TiB", 1ll << 40 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
		{ "TB", 1000000000000ll }, { "B", 1 }, { "", 1 },
	};
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno) {
		snprintf(why, len, "'%s' is not a number", s);
		return -1;
	}
	while (isspace((unsigned char)*end))
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].unit);

		if (strncmp(end, units[i].unit, n) != 0 || !only_space(end + n))
			continue;
		if (v > INT64_MAX / units[i].scale || v < INT64_MIN / units[i].scale) {
			snprintf(why, len, "'%s' is too large", s);
			return -1;
		}
		*out = v * units[i].scale;
		return 0;
	}
	snprintf(why, len, "unknown unit '%s' (B, KiB, MiB, GiB, kB, MB, GB)", end);
	return -1;
}
