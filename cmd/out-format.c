/*
 * out-format.c - the --format names (see out-format.h).
 */
#include <stdio.h>
#include <string.h>

#include "out-format.h"

static const char *const names[OUT_FORMATS] = {
	[OUT_TEXT] = "text", [OUT_JSON] = "json", [OUT_CSV] = "csv", [OUT_MARKDOWN] = "markdown",
	[OUT_DOT] = "dot", [OUT_FOLDED] = "folded", [OUT_SVG] = "svg", [OUT_PPROF] = "pprof",
	[OUT_MASSIF] = "massif",
};

const char *out_format_name(enum out_format f)
{
	return f < OUT_FORMATS ? names[f] : "?";
}

int out_format_parse(const char *name, unsigned allowed, enum out_format *out, char *why, size_t len)
{
	size_t at = 0, total = 0, k = 0;

	for (unsigned f = 0; f < OUT_FORMATS; f++)
		if (allowed & OUT(f)) {
			if (strcmp(name, names[f]) == 0) {
				*out = (enum out_format)f;
				return 0;
			}
			total++;
		}
	at = (size_t)snprintf(why, len, "--format takes ");
	for (unsigned f = 0; f < OUT_FORMATS && at < len; f++)
		if (allowed & OUT(f)) {
			k++;
			at += (size_t)snprintf(why + at, len - at, "%s%s", k == 1 ? "" : k == total ? " or " : ", ",
					       names[f]);
		}
	if (at < len)
		snprintf(why + at, len - at, ", not '%s'", name);
	return -1;
}
